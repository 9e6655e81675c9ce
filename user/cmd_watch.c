// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* watch: attach with pinned maps and count until SIGINT/SIGTERM, then
 * detach. Every interval it folds the counters to 64 bits (pw_hist.h),
 * rewrites the Prometheus textfile and shows a live table (terminal) or
 * logs a line. SIGHUP reads the declarations again. The maps stay pinned,
 * so the next watch (or a verify) continues the same counters;
 * 'portwitness detach' removes them. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "cli.h"
#include "counters.h"
#include "headroom.h"
#include "instance.h"
#include "log.h"
#include "probe.h"
#include "report.h"
#include "textfile.h"

#define WATCH_INTERVAL_S 15
#define WATCH_INTERVAL_MAX_S 3600

enum {
	OPT_TEXTFILE = 0x200,
	OPT_NO_TEXTFILE,
	OPT_INTERVAL,
	OPT_ACTIVE_WINDOW,
};

static void usage(FILE *f)
{
	fprintf(f,
"usage: portwitness watch -i IFACE [DECLARATIONS] [--mode tc|xdp]\n"
"                         [--textfile PATH | --no-textfile] [--interval S]\n"
"                         [--active-window S] [-v]\n"
"\n"
"Attaches to IFACE and counts inbound packets per port until SIGINT or\n"
"SIGTERM, then detaches. The counters are pinned under\n"
"/sys/fs/bpf/portwitness/IFACE/: a restarted watch continues them, and\n"
"'portwitness verify' and 'portwitness show' read them while it runs.\n"
"Every interval it rewrites the Prometheus textfile and, on a terminal,\n"
"redraws a table per range; otherwise it logs one line. SIGHUP reads the\n"
"declarations again (the files of -c) without losing a counter.\n"
"\n"
"  -i, --interface IFACE  the interface clients reach the server on\n"
"  -p, --profile NAME     a built-in profile (repeatable)\n"
"  -c, --config FILE      a ufw application profile (repeatable)\n"
"      --ports NAME=SPEC  inline declaration, ufw syntax (repeatable)\n"
PW_FROM_HELP
"  -m, --mode tc|xdp      tc (default): clsact, beside other programs;\n"
"                         xdp: native XDP ingress, never over another one\n"
"      --textfile PATH    node_exporter textfile to rewrite (default\n"
"                         " PW_TEXTFILE_DIR "/" PW_TEXTFILE_NAME "\n"
"                         when that directory exists)\n"
"      --no-textfile      write none\n"
"      --interval S       seconds between exports (default %d, 1-%d)\n"
"      --active-window S  a port is in use when it got packets within the\n"
"                         last S seconds (default %d, 1-%d), to the\n"
"                         interval: 'portwitness show --headroom'\n"
"  -v, --verbose          more messages on stderr\n"
"  -h, --help             this text\n"
"\n"
"EXAMPLES:\n"
"  portwitness watch -i eth0 -p snikket\n"
"  portwitness watch -i eth0 --mode xdp -p plugnmeet --textfile /tmp/pw.prom\n",
		WATCH_INTERVAL_S, WATCH_INTERVAL_MAX_S, PW_ACTIVE_WINDOW_S,
		WATCH_INTERVAL_MAX_S);
}

struct watch {
	struct pw_cli c;
	struct pw_session s;
	const char *textfile;		/* NULL: none */
	bool no_textfile;
	unsigned interval_s;
	unsigned window_s;		/* --active-window */
	bool live;			/* stdout is a terminal */
	bool textfile_failing;		/* said so once; quiet until it works */
	bool have_last;
	uint64_t last_unsolicited, last_replies;
	struct pw_snapshot snap;
	int link_fd;			/* link changes; -1 if unavailable */
	struct pw_link_state link;
	bool detached_by_kernel;	/* the interface went away with our programs */
};

static int own_option(void *ctx, int opt, const char *arg)
{
	struct watch *w = ctx;
	unsigned long v;

	switch (opt) {
	case OPT_TEXTFILE:
		if (!*arg) {
			pw_cli_usage_error("watch", "--textfile needs a path (--no-textfile writes none)");
			return PW_EXIT_USAGE;
		}
		w->textfile = arg;
		return 0;
	case OPT_NO_TEXTFILE:
		w->no_textfile = true;
		return 0;
	case OPT_INTERVAL:
	case OPT_ACTIVE_WINDOW:
		if (pw_cli_number(arg, 1, WATCH_INTERVAL_MAX_S, &v)) {
			pw_cli_usage_error("watch", "--%s is whole seconds from 1 to %d, got '%s'",
					   opt == OPT_INTERVAL ? "interval" : "active-window",
					   WATCH_INTERVAL_MAX_S, arg);
			return PW_EXIT_USAGE;
		}
		if (opt == OPT_INTERVAL)
			w->interval_s = (unsigned)v;
		else
			w->window_s = (unsigned)v;
		return 0;
	}
	return PW_EXIT_USAGE;
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

static void export_textfile(struct watch *w, const struct pw_report *rep)
{
	char err[PW_ERR_MAX];
	int rc = pw_textfile_write(w->textfile, rep, &w->snap, err, sizeof(err));

	if (rc && !w->textfile_failing)
		pw_err("textfile %s: %s; the previous file stays as it was (said once until it works again)\n",
		       w->textfile, err);
	else if (!rc && w->textfile_failing)
		pw_info("textfile %s: written again\n", w->textfile);
	w->textfile_failing = rc != 0;
}

/* One line per interval for a log: what the ranges got since the last. */
static void log_line(struct watch *w, const struct pw_report *rep)
{
	uint64_t unsolicited = 0, replies = 0;
	size_t required, reached;
	time_t now = time(NULL);
	char when[40];
	uint32_t slot;

	for (slot = 0; slot < PW_PORT_SLOTS; slot++) {
		unsolicited += w->snap.slots[slot].unsolicited;
		replies += w->snap.slots[slot].replies;
	}
	required = pw_report_required(rep, &reached);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S%z", localtime(&now));
	printf("%s %s: %zu of %zu required ranges reached; ", when, rep->iface,
	       reached, required);
	if (w->have_last)
		printf("+%llu unsolicited, +%llu replies in %u s",
		       (unsigned long long)(unsolicited - w->last_unsolicited),
		       (unsigned long long)(replies - w->last_replies),
		       w->interval_s);
	else
		printf("%llu unsolicited, %llu replies since the counters began",
		       (unsigned long long)unsolicited,
		       (unsigned long long)replies);
	pw_report_print_problems(stdout, rep);
	printf("\n");
	fflush(stdout);
	w->last_unsolicited = unsolicited;
	w->last_replies = replies;
	w->have_last = true;
}

static void draw_live(struct watch *w, const struct pw_report *rep)
{
	/* Home and clear, then the table: it refreshes in place. */
	printf("\033[H\033[2J");
	pw_report_print_table(stdout, rep);
	printf("\nevery %u s", w->interval_s);
	if (w->textfile)
		printf("; textfile %s%s", w->textfile,
		       w->textfile_failing ? " (FAILING, see above)" : "");
	printf("; Ctrl-C stops, SIGHUP reloads the declarations\n");
	fflush(stdout);
}

/* Folds the counters, exports them and tells; at_exit prints the final
 * table instead of a log line. */
static int tick(struct watch *w, bool at_exit)
{
	struct pw_report rep = {};
	int err;

	/* A bridge or VLAN added since: its drops are ours too. */
	if (w->s.attached && (w->s.inst.flags & PW_INSTANCE_DROPS))
		pw_session_drop_ifaces(&w->s);
	/* A verify --probe killed before it ended left probe counting on. */
	pw_probe_reap_stale(&w->s);
	err = pw_snapshot_fold(&w->s, &w->snap);
	if (err) {
		pw_err("reading the counters failed: %s\n", strerror(-err));
		return err;
	}
	err = pw_report_build(&rep, &w->c.decls, &w->snap);
	if (err)
		return err;
	pw_report_activity(&rep, w->s.hist, w->s.decl, true);
	snprintf(rep.iface, sizeof(rep.iface), "%s", w->s.iface.name);
	rep.command = "watch";
	rep.mode = pw_mode_name(w->c.mode);
	rep.duration_s = difftime(time(NULL), (time_t)w->s.inst.counters_since);
	if (w->textfile)
		export_textfile(w, &rep);
	if (at_exit) {
		if (!w->live && rep.n)
			pw_report_print_table(stdout, &rep);
	} else if (w->live) {
		draw_live(w, &rep);
	} else {
		log_line(w, &rep);
	}
	pw_report_free(&rep);
	/* What an interval allocated is free again: hand it back, so that
	 * an idle watch's resident size is what it keeps. */
	malloc_trim(0);
	return 0;
}

/* SIGHUP: the declarations again, from the same options. The old ones
 * stay if the new ones do not parse or do not fit; ports dropped from
 * them keep their counters in the maps. */
static void reload(struct watch *w)
{
	struct pw_decls fresh;
	int err;

	pw_reload_requested = 0;
	if (pw_cli_reload_decls(&w->c, &fresh)) {
		pw_err("reload: the declarations above do not parse; still watching the previous ones\n");
		return;
	}
	err = pw_session_declare(&w->s, &fresh);
	if (err) {
		pw_err("reload: %s; still watching the previous declarations\n",
		       strerror(-err));
		pw_decls_free(&fresh);
		return;
	}
	pw_decls_free(&w->c.decls);
	w->c.decls = fresh;
	pw_info("reload: %zu declared ranges\n", fresh.n);
}

/* The interface came (back) under our name: attach to it. */
static void attach_again(struct watch *w)
{
	struct pw_iface iface;
	int err;

	if (pw_iface_resolve(w->s.iface.name, &iface))
		return;	/* said why; tried again at the next change */
	w->s.iface = iface;
	err = pw_session_attach(&w->s, w->c.mode);
	if (err) {
		pw_err("%s is back, but attaching to it failed (%s); trying again at its next change\n",
		       iface.name, strerror(-err));
		return;
	}
	w->detached_by_kernel = false;
	pw_info("%s is back (index %d); counting again (%s), counters continued\n",
		iface.name, iface.ifindex, pw_mode_name(w->c.mode));
}

/* Link messages: down and up are told; a deleted interface takes our
 * programs with it, and one of the same name coming back is attached
 * again (systemd's unit need not restart us). */
static void link_changed(struct watch *w)
{
	struct pw_link_state before = w->link;
	const char *name = w->s.iface.name;
	int err = pw_link_monitor_read(w->link_fd, name, &w->link);

	if (err) {
		/* A broken socket stays readable: stop waiting on it. */
		pw_warn("following link changes of %s failed (%s); a deleted and re-created interface now needs a restart of the watch\n",
			name, strerror(-err));
		close(w->link_fd);
		w->link_fd = -1;
		return;
	}
	if (before.ifindex && w->link.ifindex != before.ifindex &&
	    !w->detached_by_kernel) {
		pw_warn("%s is gone (deleted, renamed or moved to another namespace); its counters are kept and counting resumes when it returns\n",
			name);
		/* The kernel took the programs; nothing is left to detach. */
		w->s.iface.ifindex = 0;
		w->detached_by_kernel = true;
	}
	if (w->link.ifindex && w->detached_by_kernel) {
		attach_again(w);
	} else if (w->link.ifindex && before.up != w->link.up) {
		if (w->link.up)
			pw_info("%s: link up\n", name);
		else
			pw_warn("%s: link down; nothing arrives until it is up again\n",
				name);
	}
}

static void default_textfile(struct watch *w)
{
	static char path[PATH_MAX];
	struct stat st;

	if (w->textfile || w->no_textfile)
		return;
	if (stat(PW_TEXTFILE_DIR, &st) || !S_ISDIR(st.st_mode))
		return;
	snprintf(path, sizeof(path), "%s/%s", PW_TEXTFILE_DIR, PW_TEXTFILE_NAME);
	w->textfile = path;
}

int cmd_watch(int argc, char **argv)
{
	static const struct option opts[] = {
		PW_BASE_OPTIONS,
		PW_DECL_OPTIONS,
		{ "mode", required_argument, NULL, 'm' },
		{ "textfile", required_argument, NULL, OPT_TEXTFILE },
		{ "no-textfile", no_argument, NULL, OPT_NO_TEXTFILE },
		{ "interval", required_argument, NULL, OPT_INTERVAL },
		{ "active-window", required_argument, NULL, OPT_ACTIVE_WINDOW },
		{ 0 },
	};
	static struct watch w;	/* its declaration sources are large */
	unsigned long long next, wake;
	int rc, err;
	time_t since;

	memset(&w, 0, sizeof(w));
	w.link_fd = -1;
	w.c.cmd = "watch";
	w.c.usage = usage;
	w.c.mode = PW_MODE_TC;
	w.interval_s = WATCH_INTERVAL_S;
	w.window_s = PW_ACTIVE_WINDOW_S;
	rc = pw_cli_parse(&w.c, argc, argv, "i:f:p:c:m:vh", opts, own_option, &w);
	if (rc >= 0)
		goto out_decls;
	if (w.textfile && w.no_textfile) {
		pw_cli_usage_error("watch", "--textfile and --no-textfile together");
		rc = PW_EXIT_USAGE;
		goto out_decls;
	}
	default_textfile(&w);
	w.live = isatty(STDOUT_FILENO);
	rc = pw_cli_session(&w.c, &w.s);
	if (rc)
		goto out_decls;
	pw_catch_stop_signals(false);
	pw_catch_reload_signal();
	err = pw_snapshot_alloc(&w.snap);
	if (!err)
		err = pw_bpffs_ensure();
	if (err < 0) {
		rc = pw_cli_runtime(err);
		goto out;
	}
	if (err > 0)
		pw_warn("bpffs was not mounted (as under 'ip netns exec'); portwitness mounted one, and its counters last only as long as this mount namespace\n");
	err = pw_session_load(&w.s, true, w.c.mode);
	if (err) {
		rc = pw_cli_runtime(err);
		goto out;
	}
	if (pw_session_running(&w.s) && watch_alive(w.s.inst.owner_pid)) {
		pw_err("a watch (pid %u) already counts on %s; 'portwitness show -i %s' reads it\n",
		       w.s.inst.owner_pid, w.s.iface.name, w.s.iface.name);
		rc = PW_EXIT_RUNTIME;
		goto out;
	}
	err = pw_session_declare(&w.s, &w.c.decls);
	if (!err)
		err = pw_session_attach(&w.s, w.c.mode);
	if (err) {
		rc = pw_cli_runtime(err);
		goto out;
	}
	w.s.hist->window_s = w.window_s;
	malloc_trim(0);		/* loading parsed the kernel's BTF */
	since = (time_t)w.s.inst.counters_since;
	pw_info("watching %s (%s); counters since %s", w.s.iface.name,
		pw_mode_name(w.c.mode), ctime(&since));
	if (w.textfile)
		pw_info("exporting to %s every %u s\n", w.textfile, w.interval_s);
	w.link_fd = pw_link_monitor_open();
	if (w.link_fd < 0)
		pw_warn("cannot follow link changes of %s (%s): a deleted and re-created interface needs a restart of the watch\n",
			w.s.iface.name, strerror(-w.link_fd));
	pw_link_state(w.s.iface.name, &w.link);
	if (w.link.ifindex && !w.link.up)
		pw_warn("%s: link down; nothing arrives until it is up\n",
			w.s.iface.name);

	next = pw_now_ns();
	rc = PW_EXIT_OK;
	while (!pw_stop_requested) {
		if (pw_reload_requested)
			reload(&w);
		if (tick(&w, false)) {
			rc = PW_EXIT_RUNTIME;
			break;
		}
		next += w.interval_s * 1000000000ull;
		/* After a suspend, the next export is an interval from now,
		 * not a burst of the missed ones. */
		if (next < pw_now_ns())
			next = pw_now_ns() + w.interval_s * 1000000000ull;
		/* Woken also when the conntrack window ends, however long
		 * the interval: new flows stop reading the clock then. */
		for (;;) {
			wake = pw_session_ct_window_tick(&w.s);
			if (!wake || wake > next)
				wake = next;
			if (pw_wait_until(wake, w.link_fd))
				link_changed(&w);
			else if (wake == next || pw_stop_requested ||
				 pw_reload_requested)
				break;
		}
	}

	err = pw_session_detach(&w.s);
	if (err)
		rc = PW_EXIT_RUNTIME;
	else
		pw_info("detached from %s; counters kept under %s\n",
			w.s.iface.name, w.s.pin_dir);
	/* What came in up to the detach, folded and exported. */
	tick(&w, true);
out:
	if (w.s.attached)
		pw_session_detach(&w.s);
	if (w.link_fd >= 0)
		close(w.link_fd);
	pw_snapshot_free(&w.snap);
	pw_session_close(&w.s);
out_decls:
	pw_cli_free(&w.c);
	return rc;
}
