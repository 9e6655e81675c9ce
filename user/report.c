// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <string.h>
#include <arpa/inet.h>
#include "drops.h"
#include "json.h"
#include "probe.h"
#include "report.h"

static const char *const status_names[PW_STATUS_COUNT] = {
	[PW_STATUS_SILENT] = "silent",
	[PW_STATUS_BLOCKED] = "blocked-host-firewall",
	[PW_STATUS_NO_LISTENER] = "no-listener",
	[PW_STATUS_REACHED] = "reached",
};

/* The statuses a port that got packets can have, as they are listed. */
static const enum pw_status port_kinds[] = {
	PW_STATUS_REACHED, PW_STATUS_NO_LISTENER, PW_STATUS_BLOCKED,
};
#define N_PORT_KINDS (sizeof(port_kinds) / sizeof(port_kinds[0]))

const char *pw_status_name(enum pw_status st)
{
	return st < PW_STATUS_COUNT ? status_names[st] : "?";
}

const char *pw_range_status(const struct pw_range_result *res)
{
	return pw_status_name(res->status);
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

void pw_format_port_list(const uint16_t *ports, size_t n, char *buf,
			 size_t len)
{
	size_t i = 0, j, used = 0;
	int w;

	if (len)
		buf[0] = '\0';
	while (i < n) {
		for (j = i; j + 1 < n && ports[j + 1] == ports[j] + 1; j++)
			;
		if (j > i)
			w = snprintf(buf + used, len - used, "%s%u-%u",
				     used ? "," : "", ports[i], ports[j]);
		else
			w = snprintf(buf + used, len - used, "%s%u",
				     used ? "," : "", ports[i]);
		/* Room for what it ends with when it is cut short. */
		if (w < 0 || used + (size_t)w + 24 >= len) {
			snprintf(buf + used, len - used, "%s... %zu more",
				 used ? "," : "", n - i);
			return;
		}
		used += (size_t)w;
		i = j + 1;
	}
}

/* verify --probe: every port of the range that a probe packet reached,
 * and what became of its packets. */
static void json_probe_ports(struct pw_json *j, const struct pw_report *rep,
			     const struct pw_range_result *r)
{
	uint32_t base = r->range.proto == PW_PROTO_UDP ? PW_PORTS_PER_PROTO : 0;
	const struct pw_snapshot *snap = rep->probe->snap;
	const struct pw_slot_total *t;
	const struct pw_port_drops *d;
	struct pw_port_fate fate;
	enum pw_status st;
	size_t k;

	pw_json_array(j, "probe_ports");
	for (k = 0; k < r->ports_hit; k++) {
		t = &snap->slots[base + r->hit_ports[k]];
		d = &snap->drops[t->index1 - 1];
		st = pw_port_fate_of(t->unsolicited, d, rep->drops_traced, &fate);
		pw_json_object(j, NULL);
		pw_json_u64(j, "port", r->hit_ports[k]);
		pw_json_u64(j, "arrived", t->unsolicited);
		pw_json_str(j, "status", pw_status_name(st));
		if (rep->drops_traced) {
			pw_json_u64(j, "delivered", fate.delivered);
			pw_json_u64(j, "firewall_dropped", d->firewall);
			pw_json_u64(j, "no_listener", fate.no_listener);
			pw_json_u64(j, "other_dropped", d->other);
		} else {
			pw_json_null(j, "delivered");
			pw_json_null(j, "firewall_dropped");
			pw_json_null(j, "no_listener");
			pw_json_null(j, "other_dropped");
		}
		pw_json_end(j, '}');
	}
	pw_json_end(j, ']');
}

void pw_report_json_ranges(struct pw_json *j, const struct pw_report *rep)
{
	const struct pw_range_result *r;
	char name[64];
	size_t i, k, n;

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
		if (rep->drops_traced) {
			pw_json_u64(j, "delivered", r->delivered);
			pw_json_u64(j, "firewall_dropped", r->firewall_dropped);
			pw_json_u64(j, "no_listener", r->no_listener);
			pw_json_object(j, "other_drops");
			for (k = 0; k < r->n_other_reasons; k++)
				pw_json_u64(j, pw_drop_reason_name(r->other_reasons[k].reason,
								   name, sizeof(name)),
					    r->other_reasons[k].count);
			pw_json_end(j, '}');
		} else {
			pw_json_null(j, "delivered");
			pw_json_null(j, "firewall_dropped");
			pw_json_null(j, "no_listener");
			pw_json_null(j, "other_drops");
		}
		pw_json_u64(j, "refusals_sent", r->refusals_sent);
		if (rep->activity) {
			pw_json_u64(j, "ports_active", r->ports_active);
			pw_json_u64(j, "ports_active_peak", r->ports_active_peak);
		}
		pw_json_object(j, "ports_by_status");
		for (k = 0; k < N_PORT_KINDS; k++) {
			pw_json_array(j, pw_status_name(port_kinds[k]));
			for (n = 0; n < r->n_by[port_kinds[k]]; n++)
				pw_json_u64(j, NULL, r->ports_by[port_kinds[k]][n]);
			pw_json_end(j, ']');
		}
		pw_json_end(j, '}');
		if (rep->probe)
			json_probe_ports(j, rep, r);
		pw_json_end(j, '}');
	}
	pw_json_end(j, ']');
}

static void json_probe(struct pw_json *j, const struct pw_probe_report *p)
{
	char addr[INET6_ADDRSTRLEN];
	size_t i;

	pw_json_object(j, "probe");
	pw_json_str(j, "token", p->token);
	pw_json_array(j, "hosts");
	for (i = 0; i < p->n_hosts; i++) {
		pw_probe_host_name(&p->hosts[i].key, addr, sizeof(addr));
		pw_json_object(j, NULL);
		pw_json_str(j, "address", addr);
		pw_json_u64(j, "datagrams", p->hosts[i].datagrams);
		pw_json_end(j, '}');
	}
	pw_json_end(j, ']');
	pw_json_u64(j, "tcp_attempts_left_out", p->left_syns);
	pw_json_u64(j, "hosts_left_out", p->left_hosts);
	pw_json_u64(j, "lost", p->lost);
	pw_json_end(j, '}');
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
	pw_json_bool(&j, "drops_traced", rep->drops_traced);
	pw_json_bool(&j, "strict", rep->strict);
	if (rep->probe)
		json_probe(&j, rep->probe);
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

void pw_report_print_problems(FILE *f, const struct pw_report *rep)
{
	const struct pw_range_result *r;
	enum pw_status st;
	const char *sep;
	char ports[16];
	size_t i;

	for (st = PW_STATUS_SILENT; st < PW_STATUS_REACHED; st++) {
		sep = NULL;
		for (i = 0; i < rep->n; i++) {
			r = &rep->ranges[i];
			if (!r->range.required || r->status != st)
				continue;
			pw_range_ports(&r->range, ports, sizeof(ports));
			if (!sep)
				fprintf(f, "; %s: ", pw_status_name(st));
			fprintf(f, "%s%s %s/%s", sep ? sep : "", r->range.service,
				ports, pw_proto_name(r->range.proto));
			sep = ", ";
		}
	}
}

/* What became of one range's packets, when drops are traced and anything
 * was dropped, or always for probe packets: the ports of each kind and
 * the drops by reason. */
static void print_fate(FILE *f, const struct pw_range_result *r, int wsvc,
		       bool probe)
{
	char ports[16], list[160], name[64];
	size_t k;

	if (!probe && !r->firewall_dropped && !r->no_listener && !r->other_drops)
		return;
	pw_range_ports(&r->range, ports, sizeof(ports));
	fprintf(f, "  %-*s %s/%s: ", wsvc, r->range.service, ports,
		pw_proto_name(r->range.proto));
	if (probe && !r->packets) {
		fprintf(f, "no probe packet arrived\n");
		return;
	}
	if (probe)
		fprintf(f, "%llu probe packet%s at %u port%s, ",
			(unsigned long long)r->packets, r->packets == 1 ? "" : "s",
			r->ports_hit, r->ports_hit == 1 ? "" : "s");
	fprintf(f, "%llu delivered", (unsigned long long)r->delivered);
	if (r->firewall_dropped)
		fprintf(f, ", %llu dropped by the host firewall",
			(unsigned long long)r->firewall_dropped);
	if (r->no_listener)
		fprintf(f, ", %llu refused: no listener",
			(unsigned long long)r->no_listener);
	for (k = 0; k < r->n_other_reasons; k++)
		fprintf(f, ", %llu dropped: %s",
			(unsigned long long)r->other_reasons[k].count,
			pw_drop_reason_name(r->other_reasons[k].reason, name,
					    sizeof(name)));
	if (r->other_drops > 0 && !r->n_other_reasons)
		fprintf(f, ", %llu dropped for other reasons",
			(unsigned long long)r->other_drops);
	fprintf(f, "\n");
	for (k = 0; k < N_PORT_KINDS; k++) {
		if (!r->n_by[port_kinds[k]])
			continue;
		pw_format_port_list(r->ports_by[port_kinds[k]], r->n_by[port_kinds[k]],
				    list, sizeof(list));
		fprintf(f, "  %-*s   %s: %s\n", wsvc, "",
			pw_status_name(port_kinds[k]), list);
	}
}

void pw_report_print_warnings(FILE *f, const struct pw_report *rep)
{
	const struct pw_range_result *r;
	char ports[16];
	size_t i;

	for (i = 0; i < rep->n; i++) {
		r = &rep->ranges[i];
		if (!r->warn)
			continue;
		pw_range_ports(&r->range, ports, sizeof(ports));
		fprintf(f, "warning: %s %s/%s: packets got past the firewall but nothing listens there: is the service down?%s\n",
			r->range.service, ports, pw_proto_name(r->range.proto),
			!r->range.required ? " (optional)" :
			rep->strict ? " (fails with --strict)" : "");
	}
}

/* Whose packets the probe's are, and whose were left out. */
static void print_probe_head(FILE *f, const struct pw_probe_report *p)
{
	char addr[INET6_ADDRSTRLEN];
	size_t i;

	if (!p->n_hosts)
		fprintf(f, "probe %s: no datagram carrying the token arrived, so no host is known as the probe's\n",
			p->token);
	for (i = 0; i < p->n_hosts; i++) {
		pw_probe_host_name(&p->hosts[i].key, addr, sizeof(addr));
		fprintf(f, "%s %s: %llu datagram%s with the token from %s\n",
			i ? "     " : "probe", i ? "" : p->token,
			(unsigned long long)p->hosts[i].datagrams,
			p->hosts[i].datagrams == 1 ? "" : "s", addr);
	}
	if (p->left_syns)
		fprintf(f, "left out: %llu TCP connection attempt%s from %zu host%s that sent no datagram with the token\n",
			(unsigned long long)p->left_syns,
			p->left_syns == 1 ? "" : "s", p->left_hosts,
			p->left_hosts == 1 ? "" : "s");
	if (p->lost)
		fprintf(f, "lost: %llu probe datagram%s or drop reason%s had no room in the maps (more than %u probe hosts?)\n",
			(unsigned long long)p->lost, p->lost == 1 ? "" : "s",
			p->lost == 1 ? "" : "s", PW_PROBE_HOSTS);
	fprintf(f, "\n");
}

void pw_report_print_table(FILE *f, const struct pw_report *rep)
{
	const struct pw_range_result *r;
	size_t i, required, reached;
	char ports[16], ago[32], delivered[24];
	int wsvc = 7, n;
	bool fates = false;

	for (i = 0; i < rep->n; i++) {
		n = (int)strlen(rep->ranges[i].range.service);
		if (n > wsvc)
			wsvc = n;
	}
	fprintf(f, "portwitness %s on %s (%s), %.0f s\n\n", rep->command,
		rep->iface, rep->mode, rep->duration_s);
	if (rep->probe)
		print_probe_head(f, rep->probe);
	fprintf(f, "%-*s  %-5s  %-11s  %-8s  %8s  %6s  %10s  %10s  %10s  %-21s  %s\n",
		wsvc, "SERVICE", "PROTO", "PORTS", "REQUIRED", "DECLARED",
		"HIT", "PACKETS", "REPLIES", "DELIVERED", "STATUS", "LAST SEEN");
	for (i = 0; i < rep->n; i++) {
		r = &rep->ranges[i];
		pw_range_ports(&r->range, ports, sizeof(ports));
		pw_format_ago(r->last_seen_real_ns, rep->now_real_ns, ago,
			      sizeof(ago));
		if (rep->drops_traced)
			snprintf(delivered, sizeof(delivered), "%llu",
				 (unsigned long long)r->delivered);
		else
			snprintf(delivered, sizeof(delivered), "-");
		fprintf(f, "%-*s  %-5s  %-11s  %-8s  %8u  %6u  %10llu  %10llu  %10s  %-21s  %s\n",
			wsvc, r->range.service, pw_proto_name(r->range.proto),
			ports, r->range.required ? "yes" : "optional",
			r->ports_declared, r->ports_hit,
			(unsigned long long)r->packets,
			(unsigned long long)r->replies, delivered,
			pw_range_status(r), ago);
		fates |= r->firewall_dropped || r->no_listener || r->other_drops;
	}
	if (fates || rep->probe) {
		fprintf(f, "\nwhat the host did with %s:\n",
			rep->probe ? "the probe's packets" : "them");
		for (i = 0; i < rep->n; i++)
			print_fate(f, &rep->ranges[i], wsvc, rep->probe);
	}
	required = pw_report_required(rep, &reached);
	fprintf(f, "\n%zu of %zu required ranges reached", reached, required);
	pw_report_print_problems(f, rep);
	fprintf(f, "\nnot counted by port: %llu later fragments, %llu malformed\n",
		(unsigned long long)rep->stats[PW_STAT_FRAGMENTS],
		(unsigned long long)rep->stats[PW_STAT_MALFORMED]);
	if (!rep->drops_traced)
		fprintf(f, "drops were not traced: a range that got packets is reached, whatever the host did with them\n");
	pw_report_print_warnings(f, rep);
}
