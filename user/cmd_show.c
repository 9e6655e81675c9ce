// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* show: what the pinned counters of an interface hold, since they began,
 * and the memory they use. Attaches nothing. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <langinfo.h>
#include <locale.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <bpf/libbpf.h>
#include "cli.h"
#include "counters.h"
#include "headroom.h"
#include "heatmap.h"
#include "instance.h"
#include "json.h"
#include "log.h"
#include "report.h"

#define SHOW_TOP 10
#define MIB (1024.0 * 1024.0)

static const char *const stat_names[PW_STAT_COUNT] = {
	[PW_STAT_FRAGMENTS] = "fragments",
	[PW_STAT_MALFORMED] = "malformed",
	[PW_STAT_NOT_IP] = "not_ip",
	[PW_STAT_OTHER_L4] = "other_l4",
	[PW_STAT_FLOWS_LOCAL] = "flows_local",
	[PW_STAT_FLOWS_REMOTE] = "flows_remote",
	[PW_STAT_EGRESS_UNPARSED] = "egress_unparsed",
	[PW_STAT_DROP_REASONS_LOST] = "drop_reasons_lost",
	[PW_STAT_PROBE_LOST] = "probe_lost",
};

static void usage(FILE *f)
{
	fprintf(f,
"usage: portwitness show -i IFACE [DECLARATIONS] [--json | --heatmap | --headroom]\n"
"                        [-v]\n"
"\n"
"Prints the counters pinned for IFACE since they began: whether a watch\n"
"is attached, the memory its maps use, the busiest ports, and with\n"
"declarations (-p, -c, --ports, --from-* as for verify) a table per range.\n"
"\n"
"  -i, --interface IFACE  the watched interface\n"
"      --json             machine-readable (docs/json.md)\n"
"      --heatmap          each declared range of more than one port as a\n"
"                         grid, a cell per port or bucket of ports, shaded\n"
"                         by unsolicited packets\n"
"      --headroom         each declared media range (UDP, more than %u\n"
"                         ports): ports in use now and at the peak, the\n"
"                         calls (TURN) or participants (LiveKit) that\n"
"                         needs, and whether it has %u%% headroom\n"
"  -h, --help             this text\n"
"\n"
"EXAMPLES:\n"
"  portwitness show -i eth0\n"
"  portwitness show -i eth0 -p snikket --json\n"
"  portwitness show -i eth0 --from-livekit /opt/plugNmeet/etc/livekit.yaml --heatmap\n"
"  portwitness show -i eth0 -p snikket --headroom\n", PW_FEW_PORTS,
		PW_HEADROOM_PCT);
}

static uint64_t budget_bytes(void)
{
	int cpus = libbpf_num_possible_cpus();

	return 8ull * 1024 * 1024 + (uint64_t)(cpus > 0 ? cpus : 1) * 1024 * 1024;
}

struct port_total {
	uint32_t slot;
	uint64_t packets;
};

static void print_json(const struct pw_session *s, const struct pw_snapshot *snap,
		       const struct pw_report *rep, bool attached,
		       const uint64_t *mem)
{
	const struct pw_slot_total *p;
	struct pw_json j;
	uint64_t total = 0;
	uint32_t i;
	int k;

	pw_json_init(&j, stdout);
	pw_json_object(&j, NULL);
	pw_json_str(&j, "interface", s->iface.name);
	pw_json_bool(&j, "attached", attached);
	pw_json_str(&j, "mode", pw_mode_name(attached ? s->inst.mode : PW_MODE_NONE));
	pw_json_u64(&j, "owner_pid", attached ? s->inst.owner_pid : 0);
	pw_json_u64(&j, "counters_since", s->inst.counters_since);
	pw_json_bool(&j, "conntrack",
		     attached && (s->inst.flags & PW_INSTANCE_CONNTRACK));
	pw_json_bool(&j, "drops_traced", s->inst.flags & PW_INSTANCE_DROPS);
	pw_json_object(&j, "memory_bytes");
	for (k = 0; k < PW_MAP_COUNT; k++) {
		pw_json_u64(&j, pw_map_name(k), mem[k]);
		total += mem[k];
	}
	pw_json_u64(&j, "total", total);
	pw_json_u64(&j, "budget", budget_bytes());
	pw_json_end(&j, '}');
	pw_json_object(&j, "stats");
	for (k = 0; k < PW_STAT_COUNT; k++)
		pw_json_u64(&j, stat_names[k], snap->stats[k]);
	pw_json_end(&j, '}');
	pw_json_array(&j, "ports");
	for (i = 0; i < PW_PORT_SLOTS; i++) {
		p = &snap->slots[i];
		if (!p->unsolicited && !p->replies && !p->other)
			continue;
		pw_json_object(&j, NULL);
		pw_json_str(&j, "proto", pw_proto_name(i / PW_PORTS_PER_PROTO));
		pw_json_u64(&j, "port", i % PW_PORTS_PER_PROTO);
		pw_json_bool(&j, "declared", p->declared);
		if (p->declared) {
			pw_json_u64(&j, "packets", p->unsolicited);
			pw_json_u64(&j, "replies", p->replies);
			pw_json_u64(&j, "bytes", p->bytes);
		}
		if (p->other)
			pw_json_u64(&j, "unclassified", p->other);
		pw_json_end(&j, '}');
	}
	pw_json_end(&j, ']');
	pw_report_json_ranges(&j, rep);
	pw_json_end(&j, '}');
	pw_json_finish(&j);
}

/* The SHOW_TOP busiest declared ports (unsolicited packets) or undeclared
 * ones (all packets), busiest first. */
static size_t busiest(const struct pw_snapshot *snap, bool declared,
		      struct port_total *top)
{
	const struct pw_slot_total *p;
	size_t ntop = 0, w;
	uint64_t v;
	uint32_t i;

	for (i = 0; i < PW_PORT_SLOTS; i++) {
		p = &snap->slots[i];
		v = declared ? p->unsolicited : p->other;
		if (!v)
			continue;
		/* Insertion into the SHOW_TOP busiest, kept in order. */
		for (w = ntop; w > 0 && top[w - 1].packets < v; w--)
			if (w < SHOW_TOP)
				top[w] = top[w - 1];
		if (w < SHOW_TOP) {
			top[w].slot = i;
			top[w].packets = v;
			if (ntop < SHOW_TOP)
				ntop++;
		}
	}
	return ntop;
}

static void print_top(const char *title, const struct port_total *top,
		      size_t ntop)
{
	size_t k;

	if (!ntop)
		return;
	printf("\n%s:\n", title);
	for (k = 0; k < ntop; k++)
		printf("  %5u/%s  %12llu\n", top[k].slot % PW_PORTS_PER_PROTO,
		       pw_proto_name(top[k].slot / PW_PORTS_PER_PROTO),
		       (unsigned long long)top[k].packets);
}

static void print_human(const struct pw_session *s, const struct pw_snapshot *snap,
			struct pw_report *rep, bool attached, const uint64_t *mem)
{
	struct port_total top[SHOW_TOP];
	time_t since = (time_t)s->inst.counters_since;
	uint64_t total = 0, unsolicited = 0, replies = 0, other = 0;
	char when[64];
	uint32_t i;
	int k;

	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S %Z", localtime(&since));
	if (attached)
		printf("%s: attached (%s%s, watch pid %u), counters since %s\n",
		       s->iface.name, pw_mode_name(s->inst.mode),
		       s->inst.flags & PW_INSTANCE_CONNTRACK ? ", with conntrack" : "",
		       s->inst.owner_pid, when);
	else
		printf("%s: not attached; counters kept since %s\n",
		       s->iface.name, when);
	printf("map memory:");
	for (k = 0; k < PW_MAP_COUNT; k++) {
		printf(" %s %.2f MiB%s", pw_map_name(k), mem[k] / MIB,
		       k + 1 < PW_MAP_COUNT ? "," : "");
		total += mem[k];
	}
	printf("; total %.2f MiB of a %.0f MiB budget\n", total / MIB,
	       budget_bytes() / MIB);

	for (i = 0; i < PW_PORT_SLOTS; i++) {
		unsolicited += snap->slots[i].unsolicited;
		replies += snap->slots[i].replies;
		other += snap->slots[i].other;
	}
	printf("inbound to declared ports: %llu unsolicited, %llu replies; flows begun here %llu, from outside %llu\n",
	       (unsigned long long)unsolicited, (unsigned long long)replies,
	       (unsigned long long)snap->stats[PW_STAT_FLOWS_LOCAL],
	       (unsigned long long)snap->stats[PW_STAT_FLOWS_REMOTE]);
	printf("inbound to undeclared ports (not classified): %llu\n",
	       (unsigned long long)other);
	printf("not counted by port: %llu later fragments, %llu malformed, %llu not IP, %llu neither TCP nor UDP\n",
	       (unsigned long long)snap->stats[PW_STAT_FRAGMENTS],
	       (unsigned long long)snap->stats[PW_STAT_MALFORMED],
	       (unsigned long long)snap->stats[PW_STAT_NOT_IP],
	       (unsigned long long)snap->stats[PW_STAT_OTHER_L4]);
	print_top("busiest declared ports (unsolicited packets)", top,
		  busiest(snap, true, top));
	print_top("busiest undeclared ports (all packets)", top,
		  busiest(snap, false, top));
	if (rep->n) {
		printf("\n");
		pw_report_print_table(stdout, rep);
	}
}

/* show reads; only a watch or verify declares. Ports asked about that
 * neither declared have no classified counts to show. */
static void warn_undeclared(const struct pw_session *s,
			    const struct pw_decls *d,
			    const struct pw_snapshot *snap)
{
	uint32_t base, port, missing;
	char ports[32];
	size_t i;

	for (i = 0; i < d->n; i++) {
		base = d->v[i].proto == PW_PROTO_UDP ? PW_PORTS_PER_PROTO : 0;
		missing = 0;
		for (port = d->v[i].first; port <= d->v[i].last; port++)
			missing += !snap->slots[base + port].declared;
		if (!missing)
			continue;
		pw_range_ports(&d->v[i], ports, sizeof(ports));
		pw_warn("%s %s/%s: %u of its ports were never declared on %s by a watch or verify; they are counted only as unclassified packets\n",
			d->v[i].service, ports, pw_proto_name(d->v[i].proto),
			missing, s->iface.name);
	}
}

enum { OPT_HEATMAP = 0x200, OPT_HEADROOM };

struct show_opts {
	bool heatmap;
	bool headroom;
};

static int own_option(void *ctx, int opt, const char *arg)
{
	struct show_opts *o = ctx;

	(void)arg;
	if (opt == OPT_HEATMAP)
		o->heatmap = true;
	else if (opt == OPT_HEADROOM)
		o->headroom = true;
	else
		return PW_EXIT_USAGE;
	return 0;
}

static unsigned terminal_width(void)
{
	struct winsize ws;
	const char *env = getenv("COLUMNS");

	if (!ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) && ws.ws_col)
		return ws.ws_col;
	if (env && atoi(env) > 0)
		return (unsigned)atoi(env);
	return 80;
}

static void print_heatmaps(const struct pw_session *s, const struct pw_decls *d,
			   const struct pw_snapshot *snap)
{
	unsigned width = terminal_width();
	bool utf8, any = false;
	size_t i;

	setlocale(LC_CTYPE, "");
	utf8 = !strcmp(nl_langinfo(CODESET), "UTF-8");
	printf("%s: unsolicited packets since the counters began\n", s->iface.name);
	for (i = 0; i < d->n; i++) {
		if (d->v[i].first == d->v[i].last)
			continue;
		printf("\n");
		pw_heatmap_print(stdout, &d->v[i], snap, width, utf8);
		any = true;
	}
	if (!any)
		printf("\nno declared range has more than one port; the table of 'portwitness show' has them\n");
}

int cmd_show(int argc, char **argv)
{
	static const struct option opts[] = {
		PW_BASE_OPTIONS,
		PW_DECL_OPTIONS,
		{ "json", no_argument, NULL, PW_OPT_JSON },
		{ "heatmap", no_argument, NULL, OPT_HEATMAP },
		{ "headroom", no_argument, NULL, OPT_HEADROOM },
		{ 0 },
	};
	struct pw_cli c = { .cmd = "show", .usage = usage };
	struct show_opts o = {};
	struct pw_hist_table *hist = NULL;
	struct pw_snapshot snap = {};
	struct pw_report rep = {};
	uint64_t mem[PW_MAP_COUNT];
	struct pw_session s;
	bool attached;
	int rc, err, k;

	rc = pw_cli_parse(&c, argc, argv, "i:f:p:c:vh", opts, own_option, &o);
	if (rc >= 0)
		goto out_decls;
	if (o.heatmap + o.headroom + c.json > 1) {
		pw_cli_usage_error("show", "--json, --heatmap and --headroom are three views: give one");
		rc = PW_EXIT_USAGE;
		goto out_decls;
	}
	if ((o.heatmap || o.headroom) && !c.decls.n) {
		pw_cli_usage_error("show", "%s declared ranges: give -p, -c, --ports, --from-* or -f",
				   o.heatmap ? "--heatmap draws" : "--headroom sizes");
		rc = PW_EXIT_USAGE;
		goto out_decls;
	}
	rc = pw_cli_session(&c, &s);
	if (rc)
		goto out_decls;
	err = pw_bpffs_ensure();
	if (err >= 0)
		err = pw_session_open_pinned(&s);
	if (err == -ENOENT) {
		pw_err("nothing pinned for %s under %s: no watch has run here since boot or the last detach ('portwitness watch -i %s' starts one)\n",
		       s.iface.name, s.pin_dir, s.iface.name);
		rc = PW_EXIT_RUNTIME;
		goto out;
	}
	if (err) {
		rc = pw_cli_runtime(err);
		goto out;
	}
	attached = pw_session_running(&s);
	for (k = 0; k < PW_MAP_COUNT; k++)
		mem[k] = pw_map_memory(s.map_fd[k]);
	err = pw_snapshot_alloc(&snap);
	if (!err)
		err = pw_snapshot_take_totals(&s, &snap);
	if (!err)
		err = pw_report_build(&rep, &c.decls, &snap);
	/* The watch's activity as of its last fold, read not written. */
	hist = err ? NULL : malloc(sizeof(*hist));
	if (!err && !hist)
		err = -ENOMEM;
	if (!err)
		err = pw_hist_copy(s.hist, hist);
	if (!err)
		pw_report_activity(&rep, hist, s.decl, false);
	if (err) {
		pw_err("reading the counters failed: %s\n", strerror(-err));
		rc = PW_EXIT_RUNTIME;
		goto out;
	}
	warn_undeclared(&s, &c.decls, &snap);
	rep.command = "show";
	snprintf(rep.iface, sizeof(rep.iface), "%s", s.iface.name);
	rep.mode = pw_mode_name(attached ? s.inst.mode : PW_MODE_NONE);
	rep.duration_s = difftime(time(NULL), (time_t)s.inst.counters_since);
	if (o.heatmap)
		print_heatmaps(&s, &c.decls, &snap);
	else if (o.headroom)
		pw_headroom_print(stdout, &rep);
	else if (c.json)
		print_json(&s, &snap, &rep, attached, mem);
	else
		print_human(&s, &snap, &rep, attached, mem);
	pw_report_free(&rep);
	rc = PW_EXIT_OK;
out:
	pw_report_free(&rep);
	free(hist);
	pw_snapshot_free(&snap);
	pw_session_close(&s);
out_decls:
	pw_cli_free(&c);
	return rc;
}
