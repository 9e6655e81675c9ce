// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "cli.h"
#include "instance.h"
#include "log.h"

volatile sig_atomic_t pw_stop_requested;
volatile sig_atomic_t pw_reload_requested;
/* The signal mask to wait with: the stop signals are blocked everywhere
 * else, so none can land between checking the flag and going to sleep. */
static sigset_t wait_mask;

static void on_stop(int sig)
{
	(void)sig;
	pw_stop_requested = 1;
}

void pw_catch_stop_signals(bool hangup_stops)
{
	struct sigaction sa;
	sigset_t stops;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	/* Whatever ends us must not leave programs attached: a closed
	 * terminal stops a verify; a watch is meant to outlive it. */
	if (!hangup_stops)
		sa.sa_handler = SIG_IGN;
	sigaction(SIGHUP, &sa, NULL);

	sigemptyset(&stops);
	sigaddset(&stops, SIGINT);
	sigaddset(&stops, SIGTERM);
	sigaddset(&stops, SIGHUP);
	sigprocmask(SIG_BLOCK, &stops, &wait_mask);
	sigdelset(&wait_mask, SIGINT);
	sigdelset(&wait_mask, SIGTERM);
	sigdelset(&wait_mask, SIGHUP);
}

static void on_reload(int sig)
{
	(void)sig;
	pw_reload_requested = 1;
}

void pw_catch_reload_signal(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_reload;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGHUP, &sa, NULL);
}

unsigned long long pw_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long long)ts.tv_sec * 1000000000ull +
	       (unsigned long long)ts.tv_nsec;
}

unsigned long long pw_sleep_until(unsigned long long deadline_ns)
{
	unsigned long long now = pw_now_ns(), left;
	struct timespec ts;

	while (!pw_stop_requested && !pw_reload_requested && now < deadline_ns) {
		left = deadline_ns - now;
		ts.tv_sec = (time_t)(left / 1000000000ull);
		ts.tv_nsec = (long)(left % 1000000000ull);
		/* Stop signals are let in only while waiting here. */
		ppoll(NULL, 0, &ts, &wait_mask);
		now = pw_now_ns();
	}
	return now;
}

void pw_cli_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "portwitness %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n(portwitness %s --help tells more)\n", cmd);
}

static int declaration(struct pw_decls *d, int opt, const char *arg,
		       int *inline_count)
{
	char err[PW_ERR_MAX];
	int r;

	err[0] = '\0';
	const char *ufw_dir = getenv("PORTWITNESS_UFW_DIR");

	switch (opt) {
	case 'p':
		r = pw_decls_add_profile(d, arg, err, sizeof(err));
		break;
	case 'c':
		r = pw_decls_add_ufw_file(d, arg, err, sizeof(err));
		break;
	case PW_OPT_FROM_SNIKKET:
		r = pw_decls_add_snikket_file(d, arg, err, sizeof(err));
		break;
	case PW_OPT_FROM_LIVEKIT:
		r = pw_decls_add_livekit_file(d, arg, err, sizeof(err));
		break;
	case PW_OPT_FROM_COTURN:
		r = pw_decls_add_coturn_file(d, arg, err, sizeof(err));
		break;
	case PW_OPT_FROM_UFW:
		/* The directory is ufw's; tests point elsewhere. */
		r = pw_decls_add_ufw_app(d, ufw_dir && *ufw_dir ? ufw_dir : PW_UFW_APPS_DIR,
					 arg, err, sizeof(err));
		break;
	default:
		r = pw_decls_add_inline(d, arg, ++*inline_count, err,
					sizeof(err));
	}
	if (!r)
		return 0;
	fprintf(stderr, "%s\n", err[0] ? err : strerror(-r));
	return PW_EXIT_USAGE;
}

int pw_cli_interface(const char *name, struct pw_iface *iface)
{
	int err;

	if (!name) {
		pw_err("no interface: -i IFACE names the one clients reach (see 'ip route show default')\n");
		return PW_EXIT_USAGE;
	}
	err = pw_iface_resolve(name, iface);
	if (err == -EINVAL)
		return PW_EXIT_USAGE;
	return err ? PW_EXIT_RUNTIME : 0;
}

int pw_cli_parse(struct pw_cli *c, int argc, char **argv, const char *shortopts,
		 const struct option *longopts,
		 int (*own)(void *ctx, int opt, const char *arg), void *ctx)
{
	int opt, rc;

	while ((opt = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		switch (opt) {
		case 'i':
			c->ifname = optarg;
			break;
		case 'p':
		case 'c':
		case PW_OPT_PORTS:
		case PW_OPT_FROM_SNIKKET:
		case PW_OPT_FROM_LIVEKIT:
		case PW_OPT_FROM_COTURN:
		case PW_OPT_FROM_UFW:
			if (c->nsources == PW_DECL_SOURCES_MAX) {
				pw_cli_usage_error(c->cmd, "more than %d declaration options",
						   PW_DECL_SOURCES_MAX);
				return PW_EXIT_USAGE;
			}
			c->sources[c->nsources].opt = opt;
			c->sources[c->nsources++].arg = optarg;
			rc = declaration(&c->decls, opt, optarg, &c->inline_count);
			if (rc)
				return rc;
			break;
		case PW_OPT_JSON:
			c->json = true;
			break;
		case 'm':
			if (!strcmp(optarg, "tc")) {
				c->mode = PW_MODE_TC;
			} else if (!strcmp(optarg, "xdp")) {
				c->mode = PW_MODE_XDP;
			} else {
				pw_cli_usage_error(c->cmd, "--mode is tc or xdp, got '%s'", optarg);
				return PW_EXIT_USAGE;
			}
			break;
		case 'v':
			pw_log_set_level(pw_log_get_level() + 1);
			break;
		case 'h':
			c->usage(stdout);
			return PW_EXIT_OK;
		case '?':
			c->usage(stderr);
			return PW_EXIT_USAGE;
		default:
			rc = own ? own(ctx, opt, optarg) : PW_EXIT_USAGE;
			if (rc)
				return rc;
		}
	}
	if (optind < argc) {
		pw_cli_usage_error(c->cmd, "unexpected argument '%s'", argv[optind]);
		return PW_EXIT_USAGE;
	}
	return -1;
}

int pw_cli_reload_decls(const struct pw_cli *c, struct pw_decls *out)
{
	int inline_count = 0, rc;
	size_t i;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < c->nsources; i++) {
		rc = declaration(out, c->sources[i].opt, c->sources[i].arg,
				 &inline_count);
		if (rc) {
			pw_decls_free(out);
			return rc;
		}
	}
	return 0;
}

int pw_cli_session(const struct pw_cli *c, struct pw_session *s)
{
	struct pw_iface iface;
	int rc = pw_cli_interface(c->ifname, &iface);

	if (rc)
		return rc;
	pw_log_libbpf();
	pw_session_init(s, &iface);
	return 0;
}

int pw_cli_runtime(int err)
{
	if (err == -EPERM || err == -EACCES)
		pw_err("permission denied: portwitness needs root (or CAP_BPF, CAP_PERFMON and CAP_NET_ADMIN)\n");
	return PW_EXIT_RUNTIME;
}
