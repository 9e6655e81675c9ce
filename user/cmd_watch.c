// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* watch: attach with pinned maps and count until SIGINT/SIGTERM, then
 * detach. The maps stay pinned, so the next watch (or a verify) continues
 * the same counters; 'portwitness detach' removes them. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "cli.h"
#include "counters.h"
#include "instance.h"
#include "log.h"
#include "report.h"

static void usage(FILE *f)
{
	fprintf(f,
"usage: portwitness watch -i IFACE [DECLARATIONS] [--mode tc|xdp] [-v]\n"
"\n"
"Attaches to IFACE and counts inbound packets per port until SIGINT or\n"
"SIGTERM, then detaches. The counters are pinned under\n"
"/sys/fs/bpf/portwitness/IFACE/: a restarted watch continues them, and\n"
"'portwitness verify' and 'portwitness show' read them while it runs.\n"
"On exit it prints the declared ranges' totals since the counters began.\n"
"\n"
"  -i, --interface IFACE  the interface clients reach the server on\n"
"  -p, --profile NAME     a built-in profile (repeatable)\n"
"  -c, --config FILE      a ufw application profile (repeatable)\n"
"      --ports NAME=SPEC  inline declaration, ufw syntax (repeatable)\n"
"  -m, --mode tc|xdp      tc (default): clsact, beside other programs;\n"
"                         xdp: native XDP ingress, never over another one\n"
"  -v, --verbose          more messages on stderr\n"
"  -h, --help             this text\n"
"\n"
"EXAMPLES:\n"
"  portwitness watch -i eth0 -p snikket\n"
"  portwitness watch -i eth0 --mode xdp -p plugnmeet\n");
}

/* Is pid a live portwitness (not a recycled pid of something else)? */
static bool watch_alive(__u32 pid)
{
	char path[64], comm[32] = "";
	FILE *f;

	if (!pid || pid == (__u32)getpid() ||
	    (kill((pid_t)pid, 0) && errno != EPERM))
		return false;
	snprintf(path, sizeof(path), "/proc/%u/comm", pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	if (!fgets(comm, sizeof(comm), f))
		comm[0] = '\0';
	fclose(f);
	return !strncmp(comm, "portwitness", 11);
}

int cmd_watch(int argc, char **argv)
{
	static const struct option opts[] = {
		PW_BASE_OPTIONS,
		PW_DECL_OPTIONS,
		{ "mode", required_argument, NULL, 'm' },
		{ 0 },
	};
	struct pw_cli c = { .cmd = "watch", .usage = usage, .mode = PW_MODE_TC };
	struct pw_snapshot snap = {};
	struct pw_report rep = {};
	struct pw_session s;
	int rc, err;
	time_t since;

	rc = pw_cli_parse(&c, argc, argv, "i:p:c:m:vh", opts, NULL, NULL);
	if (rc >= 0)
		goto out_decls;
	rc = pw_cli_session(&c, &s);
	if (rc)
		goto out_decls;
	pw_catch_stop_signals(false);
	err = pw_bpffs_ensure();
	if (err < 0) {
		rc = pw_cli_runtime(err);
		goto out;
	}
	if (err > 0)
		pw_warn("bpffs was not mounted (as under 'ip netns exec'); portwitness mounted one, and its counters last only as long as this mount namespace\n");
	err = pw_session_load(&s, true);
	if (err) {
		rc = pw_cli_runtime(err);
		goto out;
	}
	if (pw_session_running(&s) && watch_alive(s.inst.owner_pid)) {
		pw_err("a watch (pid %u) already counts on %s; 'portwitness show -i %s' reads it\n",
		       s.inst.owner_pid, s.iface.name, s.iface.name);
		rc = PW_EXIT_RUNTIME;
		goto out;
	}
	err = pw_session_declare(&s, &c.decls);
	if (!err)
		err = pw_session_attach(&s, c.mode);
	if (err) {
		rc = pw_cli_runtime(err);
		goto out;
	}
	since = (time_t)s.inst.counters_since;
	pw_info("watching %s (%s); counters since %s", s.iface.name,
		pw_mode_name(c.mode), ctime(&since));

	while (!pw_stop_requested)
		pw_sleep_until(pw_now_ns() + 3600ull * 1000000000ull);

	rc = PW_EXIT_OK;
	err = pw_session_detach(&s);
	if (err)
		rc = PW_EXIT_RUNTIME;
	else
		pw_info("detached from %s; counters kept under %s\n",
			s.iface.name, s.pin_dir);
	if (c.decls.n && !pw_snapshot_alloc(&snap) &&
	    !pw_snapshot_take(&s, &snap) &&
	    !pw_report_build(&rep, &c.decls, &snap)) {
		snprintf(rep.iface, sizeof(rep.iface), "%s", s.iface.name);
		rep.command = "watch";
		rep.mode = pw_mode_name(c.mode);
		rep.duration_s = difftime(time(NULL), since);
		pw_report_print_table(stdout, &rep);
		pw_report_free(&rep);
	}
	pw_snapshot_free(&snap);
out:
	if (s.attached)
		pw_session_detach(&s);
	pw_session_close(&s);
out_decls:
	pw_decls_free(&c.decls);
	return rc;
}
