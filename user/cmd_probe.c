// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* probe: the netcat test, automated, from outside. To every declared port
 * of HOST (or a sample of each range), a UDP datagram carrying a token or
 * a TCP connection attempt, at a bounded rate. No privilege, no socket
 * bound on the server; 'portwitness verify --probe TOKEN' on the server
 * tells what arrived and what became of it. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include "cli.h"
#include "json.h"
#include "log.h"
#include "probe.h"

#define PROBE_RATE_DEFAULT 200
#define PROBE_RATE_MAX 100000
#define PROBE_TIMEOUT_S 2
#define PROBE_INFLIGHT_MAX 256	/* TCP attempts waiting at once */

enum {
	OPT_SAMPLE = 0x300,
	OPT_RATE,
	OPT_TOKEN,
	OPT_TIMEOUT,
};

static void usage(FILE *f)
{
	fprintf(f,
"usage: portwitness probe HOST DECLARATIONS [--sample N] [--rate PPS]\n"
"                         [--token TOKEN] [--timeout S] [--json] [-v]\n"
"\n"
"From outside: sends to every declared port of HOST, for each protocol it\n"
"is declared for, a TCP connection attempt or a UDP datagram carrying a\n"
"token, at a bounded rate. Needs no privilege and binds nothing on the\n"
"server. Run 'portwitness verify -i IFACE ... --probe TOKEN' there first;\n"
"it tells which of these arrived and what the server did with each.\n"
"The first line on stdout is 'token TOKEN'. What will be sent is said on\n"
"stderr before anything is sent.\n"
"\n"
"DECLARATIONS (repeatable, at least one), as for verify:\n"
"  -p, --profile NAME     a built-in profile (portwitness profiles)\n"
"  -c, --config FILE      a ufw application profile\n"
"      --ports NAME=SPEC  inline, ufw syntax: 'turn=3478|49152:65535/udp'\n"
PW_FROM_HELP
"\n"
"OPTIONS:\n"
"      --sample N         N ports of each larger range, spread evenly, both\n"
"                         ends included (default: every port)\n"
"      --rate PPS         packets per second, 1-%d (default %d)\n"
"      --token TOKEN      1-%d of [A-Za-z0-9._-] (default: random)\n"
"      --timeout S        how long a TCP attempt may wait, 1-30 s (default %d)\n"
"      --json             what was sent, port by port, on stdout (docs/json.md)\n"
"  -v, --verbose          a line per port on stderr\n"
"  -h, --help             this text\n"
"\n"
"EXIT: 0 sent (each port's result is printed), 2 usage or declaration\n"
"      error, 3 HOST unknown, or nothing could be sent.\n"
"\n"
"EXAMPLES:\n"
"  portwitness probe chat.example.org -p snikket --sample 32 --token 7f3a9c\n"
"  portwitness probe 203.0.113.7 --ports 'media=50000:60000/udp' --rate 500\n",
		PROBE_RATE_MAX, PROBE_RATE_DEFAULT, PW_PROBE_TOKEN_MAX,
		PROBE_TIMEOUT_S);
}

struct probe_opts {
	uint32_t sample;
	uint32_t rate;
	uint32_t timeout_s;
	const char *token;
};

static int number(const char *name, const char *arg, unsigned long lo,
		  unsigned long hi, uint32_t *out)
{
	unsigned long v;

	if (pw_cli_number(arg, lo, hi, &v)) {
		pw_cli_usage_error("probe", "--%s takes a whole number from %lu to %lu, got '%s'",
				   name, lo, hi, arg);
		return PW_EXIT_USAGE;
	}
	*out = (uint32_t)v;
	return 0;
}

static int own_option(void *ctx, int opt, const char *arg)
{
	struct probe_opts *o = ctx;

	switch (opt) {
	case OPT_SAMPLE:
		return number("sample", arg, 1, PW_PORTS_PER_PROTO, &o->sample);
	case OPT_RATE:
		return number("rate", arg, 1, PROBE_RATE_MAX, &o->rate);
	case OPT_TIMEOUT:
		return number("timeout", arg, 1, 30, &o->timeout_s);
	case OPT_TOKEN:
		if (!pw_probe_token_ok(arg)) {
			pw_cli_usage_error("probe", "--token is 1 to %d of A-Z a-z 0-9 . _ -, got '%s'",
					   PW_PROBE_TOKEN_MAX, arg);
			return PW_EXIT_USAGE;
		}
		o->token = arg;
		return 0;
	}
	return PW_EXIT_USAGE;
}

/* HOST to one address to send to; never a group or "any" address. */
static int resolve(const char *host, struct sockaddr_storage *ss,
		   socklen_t *len, char *text, size_t textlen)
{
	struct addrinfo hints = { .ai_socktype = SOCK_DGRAM }, *res;
	const struct sockaddr_in *s4;
	const struct sockaddr_in6 *s6;
	int rc;

	rc = getaddrinfo(host, NULL, &hints, &res);
	if (rc) {
		pw_err("cannot resolve %s: %s\n", host, gai_strerror(rc));
		return PW_EXIT_RUNTIME;
	}
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*len = res->ai_addrlen;
	freeaddrinfo(res);
	if (ss->ss_family == AF_INET) {
		s4 = (const struct sockaddr_in *)ss;
		inet_ntop(AF_INET, &s4->sin_addr, text, textlen);
		if (s4->sin_addr.s_addr == INADDR_ANY ||
		    s4->sin_addr.s_addr == INADDR_BROADCAST ||
		    IN_MULTICAST(ntohl(s4->sin_addr.s_addr))) {
			pw_err("%s (%s) is no single host; portwitness probes one server\n",
			       host, text);
			return PW_EXIT_USAGE;
		}
	} else {
		s6 = (const struct sockaddr_in6 *)ss;
		inet_ntop(AF_INET6, &s6->sin6_addr, text, textlen);
		if (IN6_IS_ADDR_UNSPECIFIED(&s6->sin6_addr) ||
		    IN6_IS_ADDR_MULTICAST(&s6->sin6_addr)) {
			pw_err("%s (%s) is no single host; portwitness probes one server\n",
			       host, text);
			return PW_EXIT_USAGE;
		}
	}
	return 0;
}

static void set_port(struct sockaddr_storage *ss, uint16_t port)
{
	if (ss->ss_family == AF_INET)
		((struct sockaddr_in *)ss)->sin_port = htons(port);
	else
		((struct sockaddr_in6 *)ss)->sin6_port = htons(port);
}

static int result_of_errno(int e)
{
	switch (e) {
	case 0:
		return PW_PROBE_CONNECTED;
	case ECONNREFUSED:
		return PW_PROBE_REFUSED;
	case ETIMEDOUT:
		return PW_PROBE_TIMEOUT;
	case EHOSTUNREACH:
	case ENETUNREACH:
	case EACCES:
	case EPERM:
		return PW_PROBE_UNREACHABLE;
	default:
		return PW_PROBE_ERROR;
	}
}

struct inflight {
	int fd;
	size_t target;
	unsigned long long deadline_ns;
};

struct prober {
	struct pw_probe_target *t;
	size_t n, next, done;
	struct sockaddr_storage addr;
	socklen_t addrlen;
	int udp_fd;
	struct pw_probe_payload payload;
	struct inflight fl[PROBE_INFLIGHT_MAX];
	size_t nfl;
	uint32_t timeout_s;
	bool progress, verbose;
};

static void finish(struct prober *p, size_t target, int result)
{
	char ports[16];

	p->t[target].result = result;
	p->done++;
	if (p->verbose) {
		pw_range_ports(p->t[target].range, ports, sizeof(ports));
		pw_info("%u/%s (%s %s): %s\n", p->t[target].port,
			pw_proto_name(p->t[target].proto),
			p->t[target].range->service, ports,
			pw_probe_result_name(result));
	}
}

static void send_one(struct prober *p)
{
	struct pw_probe_target *t = &p->t[p->next];
	struct sockaddr_storage to = p->addr;
	int fd, e;

	set_port(&to, t->port);
	if (t->proto == PW_PROTO_UDP) {
		if (sendto(p->udp_fd, &p->payload, sizeof(p->payload), 0,
			   (struct sockaddr *)&to, p->addrlen) < 0)
			finish(p, p->next, result_of_errno(errno));
		else
			finish(p, p->next, PW_PROBE_SENT);
		p->next++;
		return;
	}
	fd = socket(p->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		finish(p, p->next++, PW_PROBE_ERROR);
		return;
	}
	if (connect(fd, (struct sockaddr *)&to, p->addrlen) == 0 ||
	    errno != EINPROGRESS) {
		e = errno;
		close(fd);
		finish(p, p->next++, result_of_errno(e == EINPROGRESS ? 0 : e));
		return;
	}
	p->fl[p->nfl++] = (struct inflight){ .fd = fd, .target = p->next,
		.deadline_ns = pw_now_ns() + p->timeout_s * 1000000000ull };
	p->next++;
}

/* Collects the TCP attempts that ended by now (or time out). */
static void reap(struct prober *p, int wait_ms)
{
	struct pollfd pfd[PROBE_INFLIGHT_MAX];
	unsigned long long now;
	socklen_t len;
	size_t i, k = 0;
	int e;

	for (i = 0; i < p->nfl; i++)
		pfd[i] = (struct pollfd){ .fd = p->fl[i].fd, .events = POLLOUT };
	if (poll(pfd, p->nfl, wait_ms) < 0 && errno != EINTR)
		return;
	now = pw_now_ns();
	for (i = 0; i < p->nfl; i++) {
		if (pfd[i].revents) {
			e = 0;
			len = sizeof(e);
			if (getsockopt(p->fl[i].fd, SOL_SOCKET, SO_ERROR, &e, &len))
				e = errno;
			finish(p, p->fl[i].target, result_of_errno(e));
		} else if (now >= p->fl[i].deadline_ns) {
			finish(p, p->fl[i].target, PW_PROBE_TIMEOUT);
		} else {
			p->fl[k++] = p->fl[i];
			continue;
		}
		close(p->fl[i].fd);
	}
	p->nfl = k;
}

static void draw_progress(const struct prober *p, bool last)
{
	int width = 30, fill = p->n ? (int)(p->done * width / p->n) : width;

	fprintf(stderr, "\rprobing [%.*s%*s] %zu/%zu%s", fill,
		"##############################", width - fill, "", p->done,
		p->n, last ? "\n" : "");
}

/* Sends at rate per second; Ctrl-C stops sending, what was sent is told. */
static void run(struct prober *p, uint32_t rate)
{
	unsigned long long step = 1000000000ull / rate, next = pw_now_ns(),
			   drawn = 0, now;
	long long wait;

	while ((p->next < p->n || p->nfl) && !pw_stop_requested) {
		now = pw_now_ns();
		if (p->next < p->n && now >= next && p->nfl < PROBE_INFLIGHT_MAX) {
			send_one(p);
			next += step;
			/* Never a burst to catch up after a stall. */
			if (next < now)
				next = now;
			continue;
		}
		wait = p->next < p->n && p->nfl < PROBE_INFLIGHT_MAX ?
		       (long long)(next - now) / 1000000 : 100;
		if (p->nfl)
			reap(p, wait > 0 ? (int)wait : 0);
		else if (wait > 0)
			pw_sleep_until(next);
		if (p->progress && now - drawn > 100000000ull) {
			draw_progress(p, false);
			drawn = now;
		}
	}
	for (size_t i = 0; i < p->nfl; i++)
		close(p->fl[i].fd);
	p->nfl = 0;
	if (p->progress)
		draw_progress(p, true);
}

static void print_plan(const struct pw_decls *d, const struct prober *p,
		       const char *host, const char *addr, uint32_t sample,
		       uint32_t rate)
{
	char ports[16];
	uint32_t m, size;
	size_t i, k, udp = 0;

	for (k = 0; k < p->n; k++)
		udp += p->t[k].proto == PW_PROTO_UDP;
	pw_info("probing %s (%s): %zu UDP datagrams of %zu bytes and %zu TCP connection attempts, %u per second, about %zu s:\n",
		host, addr, udp, sizeof(p->payload), p->n - udp, rate,
		p->n / rate + 1);
	for (i = 0; i < d->n; i++) {
		for (m = 0, k = 0; k < p->n; k++)
			m += p->t[k].range == &d->v[i];
		size = pw_range_size(&d->v[i]);
		pw_range_ports(&d->v[i], ports, sizeof(ports));
		pw_info("  %s %s/%s: %u of %u port%s%s\n", d->v[i].service,
			ports, pw_proto_name(d->v[i].proto), m, size,
			size == 1 ? "" : "s",
			m < size && sample && size > sample ? " (sampled)" :
			m < size ? " (the others under an earlier range)" : "");
	}
}

static void print_json(const struct prober *p, const char *host,
		       const char *addr, const char *token, uint32_t sample,
		       uint32_t rate)
{
	struct pw_json j;
	size_t k;

	pw_json_init(&j, stdout);
	pw_json_object(&j, NULL);
	pw_json_str(&j, "host", host);
	pw_json_str(&j, "address", addr);
	pw_json_str(&j, "token", token);
	pw_json_u64(&j, "rate", rate);
	pw_json_u64(&j, "sample", sample);
	pw_json_array(&j, "sent");
	for (k = 0; k < p->n; k++) {
		pw_json_object(&j, NULL);
		pw_json_str(&j, "service", p->t[k].range->service);
		pw_json_str(&j, "proto", pw_proto_name(p->t[k].proto));
		pw_json_u64(&j, "port", p->t[k].port);
		pw_json_str(&j, "result", pw_probe_result_name(p->t[k].result));
		pw_json_end(&j, '}');
	}
	pw_json_end(&j, ']');
	pw_json_end(&j, '}');
	pw_json_finish(&j);
}

/* Without --json: TCP results port by port, UDP counted per range. */
static void print_text(const struct pw_decls *d, const struct prober *p)
{
	char ports[16];
	size_t i, k, sent;

	for (i = 0; i < d->n; i++) {
		pw_range_ports(&d->v[i], ports, sizeof(ports));
		if (d->v[i].proto == PW_PROTO_UDP) {
			for (sent = 0, k = 0; k < p->n; k++)
				sent += p->t[k].range == &d->v[i] &&
					p->t[k].result == PW_PROBE_SENT;
			printf("%s %s/udp: %zu datagrams sent\n",
			       d->v[i].service, ports, sent);
			continue;
		}
		for (k = 0; k < p->n; k++)
			if (p->t[k].range == &d->v[i])
				printf("%s %u/tcp: %s\n", d->v[i].service,
				       p->t[k].port,
				       pw_probe_result_name(p->t[k].result));
	}
}

int cmd_probe(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		PW_DECL_OPTIONS,
		{ "json", no_argument, NULL, PW_OPT_JSON },
		{ "sample", required_argument, NULL, OPT_SAMPLE },
		{ "rate", required_argument, NULL, OPT_RATE },
		{ "token", required_argument, NULL, OPT_TOKEN },
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		{ 0 },
	};
	struct pw_cli c = { .cmd = "probe", .usage = usage };
	struct probe_opts o = { .rate = PROBE_RATE_DEFAULT,
				.timeout_s = PROBE_TIMEOUT_S };
	struct prober p = { .udp_fd = -1 };
	char token[PW_PROBE_TOKEN_MAX + 1], addr[INET6_ADDRSTRLEN];
	const char *host = NULL;
	size_t k, failed = 0;
	int rc;

	/* HOST comes first, as for ping or nc. */
	if (argc > 1 && argv[1][0] != '-') {
		host = argv[1];
		argv[1] = argv[0];
		argv++;
		argc--;
	}
	rc = pw_cli_parse(&c, argc, argv, "f:p:c:vh", opts, own_option, &o);
	if (rc >= 0)
		goto out;
	rc = PW_EXIT_USAGE;
	if (!host || !*host) {
		pw_cli_usage_error("probe", "no HOST: portwitness probe sends only where it is told, 'portwitness probe HOST -p PROFILE'");
		goto out;
	}
	if (!c.decls.n) {
		pw_cli_usage_error("probe", "nothing declared: give -p PROFILE, -c FILE, --ports NAME=SPEC, --from-SERVICE FILE or -f CONF");
		goto out;
	}
	if (o.token)
		snprintf(token, sizeof(token), "%s", o.token);
	else if (pw_probe_token_random(token, sizeof(token))) {
		pw_err("no random token: %s\n", strerror(errno));
		rc = PW_EXIT_RUNTIME;
		goto out;
	}
	rc = resolve(host, &p.addr, &p.addrlen, addr, sizeof(addr));
	if (rc)
		goto out;
	rc = PW_EXIT_RUNTIME;
	if (pw_probe_plan(&c.decls, o.sample, &p.t, &p.n)) {
		pw_err("out of memory\n");
		goto out;
	}
	p.udp_fd = socket(p.addr.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (p.udp_fd < 0) {
		pw_err("cannot open a UDP socket: %s\n", strerror(errno));
		goto out;
	}
	pw_probe_payload_of(token, &p.payload);
	p.timeout_s = o.timeout_s;
	p.verbose = pw_log_get_level() >= PW_LOG_DEBUG;
	p.progress = isatty(STDERR_FILENO) && !p.verbose;
	printf("token %s\n", token);
	fflush(stdout);
	print_plan(&c.decls, &p, host, addr, o.sample, o.rate);
	pw_catch_stop_signals(true);
	run(&p, o.rate);
	for (k = 0; k < p.n; k++)
		failed += p.t[k].result == PW_PROBE_ERROR ||
			  p.t[k].result == PW_PROBE_PENDING;
	if (c.json)
		print_json(&p, host, addr, token, o.sample, o.rate);
	else
		print_text(&c.decls, &p);
	if (pw_stop_requested)
		pw_warn("stopped: %zu of %zu sent\n", p.done, p.n);
	rc = failed == p.n ? PW_EXIT_RUNTIME : PW_EXIT_OK;
out:
	if (p.udp_fd >= 0)
		close(p.udp_fd);
	free(p.t);
	pw_cli_free(&c);
	return rc;
}
