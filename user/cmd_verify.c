// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* verify: did every required range get unsolicited packets in a window?
 * Reads a running watch's maps when there is one, else attaches for the
 * window and detaches after. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli.h"
#include "counters.h"
#include "instance.h"
#include "log.h"
#include "probe.h"
#include "report.h"

#define VERIFY_DEFAULT_S 60
#define VERIFY_MAX_S (7 * 24 * 3600)
#define VERIFY_READ_S 10

enum { OPT_PROBE = 0x380 };

static void usage(FILE *f)
{
	fprintf(f,
"usage: portwitness verify -i IFACE DECLARATIONS [--duration S] [--json]\n"
"                          [--strict] [--probe TOKEN|auto] [--mode tc|xdp] [-v]\n"
"\n"
"Counts inbound packets on IFACE for S seconds (default %d) and tells, per\n"
"declared range, whether unsolicited packets arrived: the proof that the\n"
"firewall and NAT forward it. Replies to this host's own connections are\n"
"not proof and are counted apart. Nothing is stopped or bound.\n"
"\n"
"What the host then did with them is traced from the kernel's drops. Each\n"
"range gets one status, worst first:\n"
"  silent                 no unsolicited packet arrived\n"
"  blocked-host-firewall  they arrived; none got past this host's firewall\n"
"  no-listener            they got past it; no socket took them\n"
"  reached                some were delivered to a socket\n"
"\n"
"DECLARATIONS (repeatable, at least one):\n"
"  -p, --profile NAME     a built-in profile (portwitness profiles)\n"
"  -c, --config FILE      a ufw application profile ([NAME] / ports=...)\n"
"      --ports NAME=SPEC  inline, ufw syntax: 'turn=3478|49152:65535/udp'\n"
PW_FROM_HELP
"\n"
"OPTIONS:\n"
"  -i, --interface IFACE  the interface clients reach the server on\n"
"  -d, --duration S       seconds to count (1-%d); Ctrl-C ends early\n"
"      --json             machine-readable result on stdout (docs/json.md)\n"
"      --strict           also fail when a range of at most %u ports has no\n"
"                         listener (the service is down; without --strict,\n"
"                         a warning: relay ranges are unbound until used)\n"
"      --probe TOKEN|auto count only what 'portwitness probe HOST ... --token\n"
"                         TOKEN' sends from outside: its datagrams carrying\n"
"                         TOKEN, and the TCP attempts of the hosts they came\n"
"                         from (also those before the first datagram); auto\n"
"                         picks a token and prints 'token TOKEN' first\n"
"  -m, --mode tc|xdp      how to attach when no watch runs (default tc)\n"
"  -v, --verbose          debug messages on stderr, libbpf's and the verifier's too\n"
"  -h, --help             this text\n"
"\n"
"A running 'portwitness watch' on IFACE is read, not attached twice.\n"
"\n"
"EXIT: 0 every required range reached or no-listener, 1 a required range\n"
"      silent or blocked-host-firewall (or with --strict, a service down),\n"
"      2 usage or declaration error, 3 runtime error. Optional ranges never\n"
"      fail.\n"
"\n"
"EXAMPLES:\n"
"  portwitness verify -i eth0 -p snikket --duration 60\n"
"  portwitness verify -i eth0 -c /etc/ufw/applications.d/ufw-snikket --json\n"
"  portwitness verify -i eth0 --ports 'media=50000:60000/udp' -d 300\n"
"  portwitness verify -i eth0 -p snikket --probe auto -d 120\n"
"      (then, outside: portwitness probe HOST -p snikket --token TOKEN)\n",
		VERIFY_DEFAULT_S, VERIFY_MAX_S, PW_FEW_PORTS);
}

struct verify_opts {
	unsigned int duration;
	bool strict;
	const char *probe;	/* the token, or "auto" */
};

static int verify_option(void *ctx, int opt, const char *arg)
{
	struct verify_opts *o = ctx;
	unsigned long v;

	if (opt == PW_OPT_STRICT) {
		o->strict = true;
		return 0;
	}
	if (opt == OPT_PROBE) {
		if (strcmp(arg, "auto") && !pw_probe_token_ok(arg)) {
			pw_cli_usage_error("verify", "--probe takes 'auto' or a token of 1 to %d of A-Z a-z 0-9 . _ -, got '%s'",
					   PW_PROBE_TOKEN_MAX, arg);
			return PW_EXIT_USAGE;
		}
		o->probe = arg;
		return 0;
	}
	if (opt != 'd')
		return PW_EXIT_USAGE;
	if (pw_cli_number(arg, 1, VERIFY_MAX_S, &v)) {
		pw_cli_usage_error("verify", "--duration takes whole seconds from 1 to %d, got '%s'",
				   VERIFY_MAX_S, arg);
		return PW_EXIT_USAGE;
	}
	o->duration = (unsigned int)v;
	return 0;
}

/* Attach privately for the window when no watch is running; either way
 * the declared ports get their full counters before the window opens. */
static int open_counters(struct pw_session *s, enum pw_mode mode,
			 const struct pw_decls *d, bool *reused)
{
	int err;

	*reused = false;
	if (pw_bpffs_ensure() >= 0) {
		err = pw_session_open_pinned(s);
		if (!err && pw_session_running(s)) {
			*reused = true;
			if (mode != s->inst.mode)
				pw_info("a watch already counts on %s in %s mode; reading it\n",
					s->iface.name, pw_mode_name(s->inst.mode));
			return pw_session_declare(s, d);
		}
		if (err == -EPROTO)
			return err;
		pw_session_close(s);
		pw_session_init(s, &s->iface);
	}
	err = pw_session_load(s, false, mode);
	if (!err)
		err = pw_session_declare(s, d);
	if (!err)
		err = pw_session_attach(s, mode);
	return err;
}

/* Sleeps until end_ns or a stop, reading the counters every
 * VERIFY_READ_S into acc, so that a long window stays exact past 32-bit
 * per-CPU counts. Returns when it ended. */
static unsigned long long count_window(const struct pw_session *s,
				       unsigned long long end_ns,
				       struct pw_snapshot *prev,
				       struct pw_snapshot *cur,
				       struct pw_snapshot *acc, int *err)
{
	unsigned long long now = pw_now_ns(), step;
	struct pw_snapshot t;

	while (!*err) {
		step = now + VERIFY_READ_S * 1000000000ull;
		now = pw_sleep_until(step < end_ns ? step : end_ns);
		pw_session_ct_window_tick(s);
		*err = pw_snapshot_take(s, cur);
		if (*err)
			break;
		pw_snapshot_accumulate(acc, prev, cur);
		t = *prev;
		*prev = *cur;
		*cur = t;
		if (now >= end_ns || pw_stop_requested)
			break;
	}
	return now;
}

/* --probe: turns probe counting on for the window (say so, and what to
 * run outside, once it is on). */
static int probe_begin(struct pw_probe_window *pw, struct pw_session *s,
		       const char *token)
{
	uint32_t busy;
	int err = pw_probe_begin(pw, s, token, &busy);

	if (err == -EBUSY) {
		pw_err("another verify --probe (pid %u) counts probe packets on %s; one at a time\n",
		       busy, s->iface.name);
		return err;
	}
	if (err) {
		pw_err("cannot count probe packets: %s\n", strerror(-err));
		return err;
	}
	if (!(s->inst.flags & PW_INSTANCE_DROPS))
		pw_warn("drops are not traced: probe packets that arrived will be 'reached', whatever the host did with them\n");
	return 0;
}

/* --probe: what the probe's packets got, as the report's ranges. */
static int probe_report(struct pw_probe_window *pw, struct pw_session *s,
			const struct pw_decls *d, struct pw_snapshot *snap,
			struct pw_probe_seen *seen, struct pw_probe_report *pr,
			struct pw_report *rep)
{
	int err = pw_probe_finish(pw, seen);

	if (err)
		return err;
	pw_probe_snapshot(seen, s->decl->index1,
			  s->inst.flags & PW_INSTANCE_DROPS, snap,
			  &pr->left_syns, &pr->left_hosts);
	pr->hosts = seen->hosts;
	pr->n_hosts = seen->n_hosts;
	pr->lost = seen->lost;
	pr->snap = snap;
	rep->probe = pr;
	return pw_report_build(rep, d, snap);
}

int cmd_verify(int argc, char **argv)
{
	static const struct option opts[] = {
		PW_BASE_OPTIONS,
		PW_DECL_OPTIONS,
		{ "duration", required_argument, NULL, 'd' },
		{ "json", no_argument, NULL, PW_OPT_JSON },
		{ "strict", no_argument, NULL, PW_OPT_STRICT },
		{ "probe", required_argument, NULL, OPT_PROBE },
		{ "mode", required_argument, NULL, 'm' },
		{ 0 },
	};
	struct pw_cli c = { .cmd = "verify", .usage = usage, .mode = PW_MODE_TC };
	struct pw_snapshot before = {}, after = {}, acc = {}, probed = {};
	struct pw_probe_window pw = {};
	struct pw_probe_seen seen = {};
	struct pw_probe_report pr = {};
	struct pw_report rep = {};
	struct pw_session s;
	enum pw_mode used;
	struct verify_opts o = { .duration = VERIFY_DEFAULT_S };
	char token[PW_PROBE_TOKEN_MAX + 1] = "";
	unsigned long long start, end;
	bool reused;
	int rc, err;

	rc = pw_cli_parse(&c, argc, argv, "i:f:p:c:d:m:vh", opts, verify_option,
			  &o);
	if (rc >= 0)
		goto out_decls;
	if (!c.decls.n) {
		pw_cli_usage_error("verify", "nothing declared: give -p PROFILE, -c FILE, --ports NAME=SPEC, --from-SERVICE FILE or -f CONF");
		rc = PW_EXIT_USAGE;
		goto out_decls;
	}
	if (o.probe && !strcmp(o.probe, "auto")) {
		if (pw_probe_token_random(token, sizeof(token))) {
			pw_err("no random token: %s\n", strerror(errno));
			rc = PW_EXIT_RUNTIME;
			goto out_decls;
		}
		/* First, as probe prints it: a script reads it off line one. */
		printf("token %s\n", token);
		fflush(stdout);
	} else if (o.probe) {
		snprintf(token, sizeof(token), "%s", o.probe);
	}
	rc = pw_cli_session(&c, &s);
	if (rc)
		goto out_decls;
	if (pw_snapshot_alloc(&before) || pw_snapshot_alloc(&after) ||
	    pw_snapshot_alloc(&acc) || (o.probe && pw_snapshot_alloc(&probed))) {
		pw_err("out of memory\n");
		rc = PW_EXIT_RUNTIME;
		goto out;
	}
	/* Signals first: a Ctrl-C during attach must still detach. */
	pw_catch_stop_signals(true);
	err = open_counters(&s, c.mode, &c.decls, &reused);
	if (!err && o.probe)
		err = probe_begin(&pw, &s, token);
	if (err) {
		rc = pw_cli_runtime(err);
		goto out;
	}
	used = s.inst.mode;
	start = pw_now_ns();
	/* Maps of our own began at zero, with the drop tracer attached
	 * before ingress: every packet they counted is in the window, and
	 * its drop too. A watch's are read from now on. */
	err = reused ? pw_snapshot_open(&s, &before) : 0;
	/* Said once the window is open: what is sent after it counts. */
	if (o.probe)
		pw_info("counting the probe's packets (token %s) on %s (%s%s) for %u s; Ctrl-C ends early. Now, from outside: portwitness probe HOST DECLARATIONS --token %s\n",
			token, s.iface.name, pw_mode_name(used),
			reused ? ", a running watch" : "", o.duration, token);
	else
		pw_info("counting on %s (%s%s) for %u s; Ctrl-C ends early\n",
			s.iface.name, pw_mode_name(used),
			reused ? ", a running watch" : "", o.duration);
	end = count_window(&s, start + o.duration * 1000000000ull, &before,
			   &after, &acc, &err);
	rep.strict = o.strict;
	if (!err && o.probe) {
		pr.token = token;
		err = probe_report(&pw, &s, &c.decls, &probed, &seen, &pr, &rep);
		/* Fragments and malformed packets of the window, all of them. */
		if (!err)
			memcpy(rep.stats, acc.stats, sizeof(rep.stats));
	} else if (!err) {
		err = pw_report_build(&rep, &c.decls, &acc);
	}
	pw_probe_end(&pw);
	if (s.attached)
		pw_session_detach(&s);
	if (err) {
		pw_err("reading the counters failed: %s\n", strerror(-err));
		rc = PW_EXIT_RUNTIME;
		goto out;
	}
	snprintf(rep.iface, sizeof(rep.iface), "%s", s.iface.name);
	rep.command = o.probe ? "verify --probe" : "verify";
	rep.mode = pw_mode_name(used);
	rep.duration_s = (double)(end - start) / 1e9;
	if (c.json) {
		pw_report_print_json(stdout, &rep);
		pw_report_print_warnings(stderr, &rep);
	} else {
		pw_report_print_table(stdout, &rep);
	}
	rc = rep.ok ? PW_EXIT_OK : PW_EXIT_SILENT;
	pw_report_free(&rep);
out:
	pw_probe_end(&pw);
	if (s.attached)
		pw_session_detach(&s);
	pw_session_close(&s);
	pw_probe_seen_free(&seen);
	pw_snapshot_free(&before);
	pw_snapshot_free(&after);
	pw_snapshot_free(&acc);
	pw_snapshot_free(&probed);
out_decls:
	pw_cli_free(&c);
	return rc;
}
