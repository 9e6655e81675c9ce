// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <ctype.h>
#include <errno.h>
#include <unistd.h>
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

bool pw_wait_until(unsigned long long deadline_ns, int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	unsigned long long now = pw_now_ns(), left;
	struct timespec ts;

	while (!pw_stop_requested && !pw_reload_requested && now < deadline_ns) {
		left = deadline_ns - now;
		ts.tv_sec = (time_t)(left / 1000000000ull);
		ts.tv_nsec = (long)(left % 1000000000ull);
		/* Stop signals are let in only while waiting here. */
		if (ppoll(fd >= 0 ? &pfd : NULL, fd >= 0 ? 1 : 0, &ts,
			  &wait_mask) > 0)
			return true;
		now = pw_now_ns();
	}
	return false;
}

unsigned long long pw_sleep_until(unsigned long long deadline_ns)
{
	pw_wait_until(deadline_ns, -1);
	return pw_now_ns();
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

static bool is_declaration(int opt)
{
	switch (opt) {
	case 'p':
	case 'c':
	case PW_OPT_PORTS:
	case PW_OPT_FROM_SNIKKET:
	case PW_OPT_FROM_LIVEKIT:
	case PW_OPT_FROM_COTURN:
	case PW_OPT_FROM_UFW:
		return true;
	}
	return false;
}

/* One declaration option; where is "FILE:LINE" inside a conf file, or
 * NULL on the command line. */
static int add_declaration(struct pw_decls *d, int opt, const char *arg,
			   int *inline_count, const char *where, char *err,
			   size_t errlen)
{
	const char *ufw_dir = getenv("PORTWITNESS_UFW_DIR");

	switch (opt) {
	case 'p':
		return pw_decls_add_profile(d, arg, err, errlen);
	case 'c':
		return pw_decls_add_ufw_file(d, arg, err, errlen);
	case PW_OPT_FROM_SNIKKET:
		return pw_decls_add_snikket_file(d, arg, err, errlen);
	case PW_OPT_FROM_LIVEKIT:
		return pw_decls_add_livekit_file(d, arg, err, errlen);
	case PW_OPT_FROM_COTURN:
		return pw_decls_add_coturn_file(d, arg, err, errlen);
	case PW_OPT_FROM_UFW:
		/* The directory is ufw's; tests point elsewhere. */
		return pw_decls_add_ufw_app(d, ufw_dir && *ufw_dir ? ufw_dir :
					    PW_UFW_APPS_DIR, arg, err, errlen);
	}
	if (where)
		return pw_decls_add_named(d, arg, where, err, errlen);
	return pw_decls_add_inline(d, arg, ++*inline_count, err, errlen);
}

static const char *const conf_refused[] = {
	"interface", "conf", "help", "verbose", "json",
};

/* A conf file: "KEY VALUE" per line, KEY a long option of the command
 * without its dashes, '#' comments. Declarations go to d; with settings,
 * the other options are applied too (at start; a reload takes only the
 * declarations). Errors print "CONF:LINE: what". */
static int conf_file(struct pw_cli *c, struct pw_decls *d, const char *path,
		     bool settings, int (*own)(void *, int, const char *),
		     void *ctx);
static int apply_option(struct pw_cli *c, int opt, const char *arg,
			int (*own)(void *, int, const char *), void *ctx);

static int declaration(struct pw_cli *c, struct pw_decls *d, int opt,
		       const char *arg, int *inline_count)
{
	char err[PW_ERR_MAX];
	int r;

	if (opt == 'f')
		return conf_file(c, d, arg, false, NULL, NULL);
	err[0] = '\0';
	r = add_declaration(d, opt, arg, inline_count, NULL, err, sizeof(err));
	if (!r)
		return 0;
	fprintf(stderr, "%s\n", err[0] ? err : strerror(-r));
	return PW_EXIT_USAGE;
}

static int conf_file(struct pw_cli *c, struct pw_decls *d, const char *path,
		     bool settings, int (*own)(void *, int, const char *),
		     void *ctx)
{
	char where[PW_ERR_MAX / 2], err[PW_ERR_MAX], key[64];
	const struct option *o = NULL;
	const char *s, *e, *k, *ke;
	unsigned lineno = 0;
	int rc = 0, dummy = 0;
	size_t len, i, pos = 0;
	char *text, *value;

	err[0] = '\0';
	if (pw_read_config(path, "a portwitness conf", &text, &len, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		return PW_EXIT_USAGE;
	}
	while (!rc && pw_config_line(text, len, &pos, &lineno, &s, &e)) {
		snprintf(where, sizeof(where), "%s:%u", path, lineno);
		for (k = s, ke = s; ke < e && !isspace((unsigned char)*ke); ke++)
			;
		for (s = ke; s < e && isspace((unsigned char)*s); s++)
			;
		if ((s < e && memchr(s, '\0', (size_t)(e - s))) ||
		    ke - k >= (long)sizeof(key)) {
			fprintf(stderr, "%s: not a setting\n", where);
			rc = PW_EXIT_USAGE;
			break;
		}
		snprintf(key, sizeof(key), "%.*s", (int)(ke - k), k);
		for (o = c->longopts; o && o->name; o++)
			if (!strcmp(o->name, key))
				break;
		for (i = 0; i < sizeof(conf_refused) / sizeof(conf_refused[0]); i++)
			if (!strcmp(key, conf_refused[i]))
				o = NULL;
		if (!o || !o->name) {
			fprintf(stderr, "%s: '%s' is no setting of portwitness %s (the long options are, without '--'; -i, -f, -v, --json belong on the command line)\n",
				where, key, c->cmd);
			rc = PW_EXIT_USAGE;
			break;
		}
		if ((o->has_arg == required_argument) != (s < e)) {
			fprintf(stderr, "%s: '%s' %s\n", where, key,
				s < e ? "takes no value" : "needs a value");
			rc = PW_EXIT_USAGE;
			break;
		}
		value = strndup(s, (size_t)(e - s));
		if (!value) {
			rc = PW_EXIT_RUNTIME;
			break;
		}
		if (is_declaration(o->val)) {
			err[0] = '\0';
			if (add_declaration(d, o->val, value, &dummy, where, err,
					    sizeof(err))) {
				/* Name this line, then what the declaration said. */
				if (strncmp(err, where, strlen(where)))
					fprintf(stderr, "%s: %s\n", where, err);
				else
					fprintf(stderr, "%s\n", err);
				rc = PW_EXIT_USAGE;
			}
			free(value);
		} else if (!settings) {
			free(value);	/* applied at start only */
		} else if (c->nowned == PW_DECL_SOURCES_MAX) {
			free(value);
			fprintf(stderr, "%s: too many settings\n", where);
			rc = PW_EXIT_USAGE;
		} else {
			c->owned[c->nowned++] = value;
			rc = apply_option(c, o->val, o->has_arg ? value : NULL, own, ctx);
			if (rc)
				fprintf(stderr, "(in %s)\n", where);
		}
	}
	free(text);
	return rc;
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

static int apply_option(struct pw_cli *c, int opt, const char *arg,
			int (*own)(void *, int, const char *), void *ctx)
{
	if (opt == 'f' || is_declaration(opt)) {
		if (c->nsources == PW_DECL_SOURCES_MAX) {
			pw_cli_usage_error(c->cmd, "more than %d declaration options",
					   PW_DECL_SOURCES_MAX);
			return PW_EXIT_USAGE;
		}
		c->sources[c->nsources].opt = opt;
		c->sources[c->nsources++].arg = arg;
		/* A conf's own settings (mode, textfile...) apply now. */
		if (opt == 'f')
			return conf_file(c, &c->decls, arg, true, own, ctx);
		return declaration(c, &c->decls, opt, arg, &c->inline_count);
	}
	switch (opt) {
	case 'i':
		c->ifname = arg;
		return 0;
	case PW_OPT_JSON:
		c->json = true;
		return 0;
	case 'm':
		if (!strcmp(arg, "tc")) {
			c->mode = PW_MODE_TC;
		} else if (!strcmp(arg, "xdp")) {
			c->mode = PW_MODE_XDP;
		} else {
			pw_cli_usage_error(c->cmd, "--mode is tc or xdp, got '%s'", arg);
			return PW_EXIT_USAGE;
		}
		return 0;
	case 'v':
		pw_log_set_level(pw_log_get_level() + 1);
		return 0;
	case 'h':
		c->usage(stdout);
		return -2;	/* leave with PW_EXIT_OK */
	}
	return own ? own(ctx, opt, arg) : PW_EXIT_USAGE;
}

int pw_cli_number(const char *arg, unsigned long lo, unsigned long hi,
		  unsigned long *out)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(arg, &end, 10);
	if (errno || end == arg || *end || *arg == '-' || v < lo ||
	    v > hi)
		return -EINVAL;
	*out = v;
	return 0;
}

int pw_cli_parse(struct pw_cli *c, int argc, char **argv, const char *shortopts,
		 const struct option *longopts,
		 int (*own)(void *ctx, int opt, const char *arg), void *ctx)
{
	int opt, rc;

	c->longopts = longopts;
	while ((opt = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		if (opt == '?') {
			c->usage(stderr);
			return PW_EXIT_USAGE;
		}
		rc = apply_option(c, opt, optarg, own, ctx);
		if (rc == -2)
			return PW_EXIT_OK;
		if (rc)
			return rc;
	}
	if (optind < argc) {
		pw_cli_usage_error(c->cmd, "unexpected argument '%s'", argv[optind]);
		return PW_EXIT_USAGE;
	}
	return -1;
}

void pw_cli_free(struct pw_cli *c)
{
	size_t i;

	pw_decls_free(&c->decls);
	for (i = 0; i < c->nowned; i++)
		free(c->owned[i]);
	c->nowned = 0;
}

int pw_cli_reload_decls(struct pw_cli *c, struct pw_decls *out)
{
	int inline_count = 0, rc;
	size_t i;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < c->nsources; i++) {
		rc = declaration(c, out, c->sources[i].opt,
				 c->sources[i].arg, &inline_count);
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
	/* A verifier's refusal is -ENOEXEC by now (pw_session_load), said
	 * already; EACCES is a refusal of files (pins) only without root. */
	if (err == -EPERM || (err == -EACCES && geteuid() != 0))
		pw_err("permission denied: portwitness needs root (or CAP_BPF, CAP_PERFMON and CAP_NET_ADMIN)\n");
	return PW_EXIT_RUNTIME;
}
