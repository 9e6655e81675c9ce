// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <string.h>
#include "json.h"
#include "report.h"

const char *pw_range_status(const struct pw_range_result *res)
{
	return res->reached ? "reached" : "silent";
}

void pw_format_ago(uint64_t then_ns, uint64_t now_ns, char *buf, size_t len)
{
	uint64_t s;

	if (!then_ns) {
		snprintf(buf, len, "-");
		return;
	}
	s = now_ns > then_ns ? (now_ns - then_ns) / 1000000000ull : 0;
	if (s < 120)
		snprintf(buf, len, "%llus ago", (unsigned long long)s);
	else if (s < 7200)
		snprintf(buf, len, "%llum ago", (unsigned long long)s / 60);
	else if (s < 172800)
		snprintf(buf, len, "%lluh ago", (unsigned long long)s / 3600);
	else
		snprintf(buf, len, "%llud ago", (unsigned long long)s / 86400);
}

void pw_report_json_ranges(struct pw_json *j, const struct pw_report *rep)
{
	const struct pw_range_result *r;
	size_t i, k;

	pw_json_array(j, "ranges");
	for (i = 0; i < rep->n; i++) {
		r = &rep->ranges[i];
		pw_json_object(j, NULL);
		pw_json_str(j, "service", r->range.service);
		pw_json_str(j, "proto", pw_proto_name(r->range.proto));
		pw_json_u64(j, "first", r->range.first);
		pw_json_u64(j, "last", r->range.last);
		pw_json_bool(j, "required", r->range.required);
		pw_json_u64(j, "ports_declared", r->ports_declared);
		pw_json_u64(j, "ports_hit", r->ports_hit);
		pw_json_u64(j, "packets", r->packets);
		pw_json_u64(j, "replies", r->replies);
		pw_json_u64(j, "bytes", r->bytes);
		pw_json_str(j, "status", pw_range_status(r));
		pw_json_array(j, "hit_ports");
		for (k = 0; k < r->ports_hit; k++)
			pw_json_u64(j, NULL, r->hit_ports[k]);
		pw_json_end(j, ']');
		pw_json_end(j, '}');
	}
	pw_json_end(j, ']');
}

void pw_report_print_json(FILE *f, const struct pw_report *rep)
{
	struct pw_json j;

	pw_json_init(&j, f);
	pw_json_object(&j, NULL);
	pw_json_str(&j, "interface", rep->iface);
	pw_json_str(&j, "mode", rep->mode);
	pw_json_double(&j, "duration_s", rep->duration_s);
	pw_json_bool(&j, "ok", rep->ok);
	pw_report_json_ranges(&j, rep);
	pw_json_u64(&j, "fragments", rep->stats[PW_STAT_FRAGMENTS]);
	pw_json_u64(&j, "malformed", rep->stats[PW_STAT_MALFORMED]);
	pw_json_end(&j, '}');
	pw_json_finish(&j);
}

size_t pw_report_required(const struct pw_report *rep, size_t *reached)
{
	size_t i, required = 0;

	*reached = 0;
	for (i = 0; i < rep->n; i++) {
		if (!rep->ranges[i].range.required)
			continue;
		required++;
		*reached += rep->ranges[i].reached;
	}
	return required;
}

void pw_report_print_silent(FILE *f, const struct pw_report *rep)
{
	const struct pw_range_result *r;
	const char *sep = "; silent: ";
	char ports[16];
	size_t i;

	for (i = 0; i < rep->n; i++) {
		r = &rep->ranges[i];
		if (!r->range.required || r->reached)
			continue;
		pw_range_ports(&r->range, ports, sizeof(ports));
		fprintf(f, "%s%s %s/%s", sep, r->range.service, ports,
			pw_proto_name(r->range.proto));
		sep = ", ";
	}
}

void pw_report_print_table(FILE *f, const struct pw_report *rep)
{
	const struct pw_range_result *r;
	size_t i, required, reached;
	char ports[16], ago[32];
	int wsvc = 7, n;

	for (i = 0; i < rep->n; i++) {
		n = (int)strlen(rep->ranges[i].range.service);
		if (n > wsvc)
			wsvc = n;
	}
	fprintf(f, "portwitness %s on %s (%s), %.0f s\n\n", rep->command,
		rep->iface, rep->mode, rep->duration_s);
	fprintf(f, "%-*s  %-5s  %-11s  %-8s  %8s  %6s  %10s  %10s  %-7s  %s\n",
		wsvc, "SERVICE", "PROTO", "PORTS", "REQUIRED", "DECLARED",
		"HIT", "PACKETS", "REPLIES", "STATUS", "LAST SEEN");
	for (i = 0; i < rep->n; i++) {
		r = &rep->ranges[i];
		pw_range_ports(&r->range, ports, sizeof(ports));
		pw_format_ago(r->last_seen_real_ns, rep->now_real_ns, ago,
			      sizeof(ago));
		fprintf(f, "%-*s  %-5s  %-11s  %-8s  %8u  %6u  %10llu  %10llu  %-7s  %s\n",
			wsvc, r->range.service, pw_proto_name(r->range.proto),
			ports, r->range.required ? "yes" : "optional",
			r->ports_declared, r->ports_hit,
			(unsigned long long)r->packets,
			(unsigned long long)r->replies, pw_range_status(r), ago);
	}
	required = pw_report_required(rep, &reached);
	fprintf(f, "\n%zu of %zu required ranges reached", reached, required);
	pw_report_print_silent(f, rep);
	fprintf(f, "\nnot counted by port: %llu later fragments, %llu malformed\n",
		(unsigned long long)rep->stats[PW_STAT_FRAGMENTS],
		(unsigned long long)rep->stats[PW_STAT_MALFORMED]);
}
