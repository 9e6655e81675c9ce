/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* What the commands share: exit codes, the declaration options, signals. */
#ifndef PW_CLI_H
#define PW_CLI_H

#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include "decl.h"
#include "iface.h"
#include "pw_instance.h"

enum pw_exit {
	PW_EXIT_OK = 0,		/* every required range reached (or no listener) */
	PW_EXIT_SILENT = 1,	/* a required range silent or blocked by the
				 * host (or, with --strict, a service down) */
	PW_EXIT_USAGE = 2,	/* bad flag or declaration */
	PW_EXIT_RUNTIME = 3,	/* not root, no interface, attach refused */
};

/* Values of the long options that have no short letter. */
enum {
	PW_OPT_PORTS = 0x100,
	PW_OPT_JSON,
	PW_OPT_FROM_SNIKKET,
	PW_OPT_FROM_LIVEKIT,
	PW_OPT_FROM_COTURN,
	PW_OPT_FROM_UFW,
	PW_OPT_STRICT,
};

/* Long options for the option tables: every command's, then those of the
 * commands that take declarations. */
#define PW_BASE_OPTIONS \
	{ "interface", required_argument, NULL, 'i' }, \
	{ "verbose", no_argument, NULL, 'v' }, \
	{ "help", no_argument, NULL, 'h' }
#define PW_DECL_OPTIONS \
	{ "conf", required_argument, NULL, 'f' }, \
	{ "profile", required_argument, NULL, 'p' }, \
	{ "config", required_argument, NULL, 'c' }, \
	{ "ports", required_argument, NULL, PW_OPT_PORTS }, \
	{ "from-snikket", required_argument, NULL, PW_OPT_FROM_SNIKKET }, \
	{ "from-livekit", required_argument, NULL, PW_OPT_FROM_LIVEKIT }, \
	{ "from-coturn", required_argument, NULL, PW_OPT_FROM_COTURN }, \
	{ "from-ufw", required_argument, NULL, PW_OPT_FROM_UFW }

/* Help lines for the options that read the services' own configs. */
#define PW_FROM_HELP \
"  -f, --conf FILE          a portwitness conf: one setting per line, the\n" \
"                           long options without '--' ('profile snikket')\n" \
"      --from-snikket FILE  Snikket's snikket.conf (its TURN range, web ports)\n" \
"      --from-livekit FILE  LiveKit's YAML, as plugNmeet installs it\n" \
"      --from-coturn FILE   coturn's turnserver.conf\n" \
"      --from-ufw NAME      ufw application profile NAME in " PW_UFW_APPS_DIR "\n"

extern volatile sig_atomic_t pw_stop_requested;
/* Set by SIGHUP once pw_catch_reload_signal() is called; sleeps are cut
 * short by it too. The one who acts on it clears it. */
extern volatile sig_atomic_t pw_reload_requested;
/* SIGINT and SIGTERM (and SIGHUP if hangup_stops, else it is ignored)
 * set pw_stop_requested; sleeps are cut short. */
void pw_catch_stop_signals(bool hangup_stops);
/* SIGHUP sets pw_reload_requested (after pw_catch_stop_signals). */
void pw_catch_reload_signal(void);
/* Sleeps until the deadline (CLOCK_MONOTONIC ns) or a stop signal;
 * returns the monotonic time it woke. */
unsigned long long pw_sleep_until(unsigned long long deadline_ns);
unsigned long long pw_now_ns(void);
/* As pw_sleep_until, and also ends when fd (if >= 0) is readable: true
 * then. */
bool pw_wait_until(unsigned long long deadline_ns, int fd);

/* Declaration options kept for a reload (watch's SIGHUP). */
#define PW_DECL_SOURCES_MAX 256
struct pw_decl_source {
	int opt;		/* 'f', 'p', 'c', PW_OPT_PORTS, PW_OPT_FROM_* */
	const char *arg;	/* from argv: lives as long as the process */
};

/* What the options every command shares set. */
struct pw_cli {
	const char *cmd;		/* "verify", for messages */
	void (*usage)(FILE *f);
	const char *ifname;		/* -i */
	struct pw_decls decls;		/* -p, -c, --ports */
	int inline_count;		/* --ports seen so far */
	struct pw_decl_source sources[PW_DECL_SOURCES_MAX];
	size_t nsources;
	const struct option *longopts;	/* the command's, for conf files */
	char *owned[PW_DECL_SOURCES_MAX];	/* values read from conf files */
	size_t nowned;
	bool json;			/* --json */
	enum pw_mode mode;		/* -m */
};

/* Parses argv: the shared options (-i, -p, -c, --ports, --json, -m, -v,
 * -h) here, any other the command's own through own(ctx, opt, arg), which
 * returns 0 or an exit code. Operands are refused. Returns -1 to go on, or
 * the exit code to leave with (0 after --help); declaration errors are
 * printed as "FILE:LINE: what is wrong". */
int pw_cli_parse(struct pw_cli *c, int argc, char **argv, const char *shortopts,
		 const struct option *longopts,
		 int (*own)(void *ctx, int opt, const char *arg), void *ctx);
/* Frees what parsing gave c (declarations, conf values). */
void pw_cli_free(struct pw_cli *c);
/* Reads the declarations again from the options that gave c->decls
 * (files may have changed): 0 with *out filled, or PW_EXIT_USAGE with the
 * reason printed and *out empty. */
int pw_cli_reload_decls(struct pw_cli *c, struct pw_decls *out);
/* A whole decimal number from lo to hi, no minus sign, nothing after
 * it: 0 with *out set, or -EINVAL. */
int pw_cli_number(const char *arg, unsigned long lo, unsigned long hi,
		  unsigned long *out);
/* -i IFACE to a resolved interface; PW_EXIT_USAGE or PW_EXIT_RUNTIME. */
int pw_cli_interface(const char *name, struct pw_iface *iface);
struct pw_session;
/* The interface resolved, libbpf's messages routed, a session on it:
 * 0, or the exit code. */
int pw_cli_session(const struct pw_cli *c, struct pw_session *s);
/* An exit code for an errno from the BPF side. */
int pw_cli_runtime(int err);
void pw_cli_usage_error(const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

int cmd_verify(int argc, char **argv);
int cmd_watch(int argc, char **argv);
int cmd_show(int argc, char **argv);
int cmd_detach(int argc, char **argv);
int cmd_profiles(int argc, char **argv);
int cmd_probe(int argc, char **argv);
int cmd_check(int argc, char **argv);

#endif
