/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* What the commands share: exit codes, the declaration options, signals. */
#ifndef PW_CLI_H
#define PW_CLI_H

#include <signal.h>
#include <stdbool.h>
#include "decl.h"
#include "iface.h"
#include "pw_instance.h"

enum pw_exit {
	PW_EXIT_OK = 0,		/* every required range reached */
	PW_EXIT_SILENT = 1,	/* a required range got no unsolicited packet */
	PW_EXIT_USAGE = 2,	/* bad flag or declaration */
	PW_EXIT_RUNTIME = 3,	/* not root, no interface, attach refused */
};

/* Long-option values of the options every declaring command takes. */
enum {
	PW_OPT_PORTS = 0x100,
	PW_OPT_JSON,
	PW_OPT_MODE,
	PW_OPT_DURATION,
};

#define PW_DECL_OPTIONS \
	{ "profile", required_argument, NULL, 'p' }, \
	{ "config", required_argument, NULL, 'c' }, \
	{ "ports", required_argument, NULL, PW_OPT_PORTS }

extern volatile sig_atomic_t pw_stop_requested;
/* SIGINT and SIGTERM set pw_stop_requested; sleeps are cut short. */
void pw_catch_stop_signals(void);
/* Sleeps until the deadline (CLOCK_MONOTONIC ns) or a stop signal;
 * returns the monotonic time it woke. */
unsigned long long pw_sleep_until(unsigned long long deadline_ns);
unsigned long long pw_now_ns(void);

/* -p, -c and --ports; returns 0, or PW_EXIT_USAGE after printing
 * "FILE:LINE: what is wrong". */
int pw_cli_declaration(struct pw_decls *d, int opt, const char *arg,
		       int *inline_count);
/* -i IFACE to a resolved interface; PW_EXIT_USAGE or PW_EXIT_RUNTIME. */
int pw_cli_interface(const char *name, struct pw_iface *iface);
/* --mode tc|xdp */
int pw_cli_mode(const char *arg, enum pw_mode *mode);
/* An exit code for an errno from the BPF side. */
int pw_cli_runtime(int err);
void pw_cli_usage_error(const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

int cmd_verify(int argc, char **argv);
int cmd_watch(int argc, char **argv);
int cmd_show(int argc, char **argv);
int cmd_detach(int argc, char **argv);
int cmd_profiles(int argc, char **argv);

#endif
