// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* make bench, part 1: per-packet cost of the BPF programs through
 * BPF_PROG_TEST_RUN, for every packet class, against three references
 * (tests/bench/ref.bpf.c). Rounds are interleaved: in each round every
 * program of a class runs once, REPEAT times, so a drift of the machine's
 * speed moves them together, and the order turns from round to round, so
 * that none always runs first or last; ratios are taken within a round
 * and the median over rounds is printed.
 *
 * Output: a table on stdout, then one "result KEY VALUE" line per figure
 * the target check reads. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "pw_frames.h"
#include "pw_flows.h"
#include "pw_ports.h"
#include "instance.h"
#include "portwitness.skel.h"
#include "portwitness_ct.skel.h"
#include "ref.skel.h"

#define MAX_ROUNDS 31

static unsigned repeat = 1000000, rounds = 5;

enum which { R_EMPTY, R_PARSE, R_COUNTER, R_CLASSIFIER, R_PW, R_COUNT };

/* What portwitness must do for a class, so which ideal it is held to. */
enum need { NEED_COUNTER, NEED_CLASSIFIER };

struct pkt_class {
	const char *name;
	struct frame_spec spec;
	enum need need;
	bool egress;		/* run through the egress program */
	bool local_flow;	/* this host began the flow (a reply class) */
	bool first_packet;	/* each packet is its flow's first */
};

#define V4 .family = 4, .src = "198.18.0.2", .dst = "198.18.0.1"
#define V6 .family = 6, .src = "fd00::2", .dst = "fd00::1"
#define OUT4 .family = 4, .src = "198.18.0.1", .dst = "198.18.0.2"
#define UDP_TO(p) .l4 = IPPROTO_UDP, .sport = 40000, .dport = (p), .payload = 160
#define UDP_FROM(p) .l4 = IPPROTO_UDP, .sport = (p), .dport = 40000, .payload = 160
#define TCP_TO(p, fl) .l4 = IPPROTO_TCP, .sport = 40000, .dport = (p), \
	.tcp_flags = (fl), .payload = 100

/* Declared in the bench: 50000-60000/udp, 7881/tcp, 5349/tcp. */
static const struct pkt_class classes[] = {
	{ "udp4 known flow", { V4, UDP_TO(50000) }, .need = NEED_CLASSIFIER },
	{ "udp4 new flow (1st pkt)", { V4, UDP_TO(50001) }, .need = NEED_CLASSIFIER,
	  .first_packet = true },
	{ "tcp4 established", { V4, TCP_TO(7881, TH_ACK) }, .need = NEED_CLASSIFIER },
	{ "tcp4 syn", { V4, TCP_TO(5349, TH_SYN) }, .need = NEED_COUNTER },
	{ "udp6 known flow", { V6, UDP_TO(50002) }, .need = NEED_CLASSIFIER },
	{ "vlan udp4 known flow", { V4, .vlans = 1, UDP_TO(50003) }, .need = NEED_CLASSIFIER },
	{ "ipv6 2 ext hdrs udp", { V6, .ext = { IPPROTO_HOPOPTS, IPPROTO_DSTOPTS },
				   .n_ext = 2, UDP_TO(50004) }, .need = NEED_CLASSIFIER },
	{ "undeclared port udp4", { V4, UDP_TO(40404) }, .need = NEED_COUNTER },
	{ "reply to outbound udp4", { V4, UDP_TO(50005) }, .need = NEED_CLASSIFIER,
	  .local_flow = true },
	{ "egress new flow (syn)", { OUT4, .l4 = IPPROTO_TCP, .sport = 7881,
				     .dport = 40000, .tcp_flags = TH_SYN },
	  .need = NEED_CLASSIFIER, .egress = true },
	{ "egress known udp flow", { OUT4, UDP_FROM(50006) }, .need = NEED_CLASSIFIER,
	  .egress = true },
};
#define N_CLASSES (sizeof(classes) / sizeof(classes[0]))

static struct portwitness *pw;
static struct portwitness_ct *pw_ct;	/* the _ct programs, on pw's maps */
static struct ref *ref;

/* Declare what the classes name: 50000-60000/udp, 7881/tcp, 5349/tcp. */
static int pw_bench_declare(struct portwitness *s)
{
	static const struct { unsigned slot0, first, last; } want[] = {
		{ PW_PORTS_PER_PROTO, 50000, 60000 }, { 0, 7881, 7881 }, { 0, 5349, 5349 },
	};
	struct pw_decl_table *t;
	unsigned i, port, next = 1;

	t = &s->bss->pw_decl;
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		for (port = want[i].first; port <= want[i].last; port++)
			t->index1[want[i].slot0 + port] = (__u16)next++;
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, unsigned n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static double thread_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* ns per run of prog over frame, or a negative errno. With many repeats
 * the CPU time of the whole call over rep (the kernel's own figure is
 * whole nanoseconds); a single run is timed by the kernel. */
static double run_ns(int prog, const void *frame, size_t len, unsigned rep)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame,
		    .data_size_in = (__u32)len, .repeat = rep);
	double t0 = thread_ns(), t1;
	int err = bpf_prog_test_run_opts(prog, &o);

	t1 = thread_ns();
	if (err)
		return -errno;
	return rep >= 1000 ? (t1 - t0) / rep : (double)o.duration;
}

static int prog_of(enum which r, bool xdp, bool egress)
{
	struct bpf_program *p = NULL;

	switch (r) {
	case R_EMPTY: p = xdp ? ref->progs.ref_xdp_empty : ref->progs.ref_tc_empty; break;
	case R_PARSE: p = xdp ? ref->progs.ref_xdp_parse : ref->progs.ref_tc_parse; break;
	case R_COUNTER: p = xdp ? ref->progs.ref_xdp_counter : ref->progs.ref_tc_counter; break;
	case R_CLASSIFIER: p = xdp ? ref->progs.ref_xdp_classify : ref->progs.ref_tc_classify; break;
	default:
		/* What the loader attaches where conntrack is there. */
		p = egress ? pw_ct->progs.pw_tc_egr_ct :
		    xdp ? pw_ct->progs.pw_xdp_ingr_ct : pw_ct->progs.pw_tc_ingr_ct;
	}
	return bpf_program__fd(p);
}

/* The flow key of a class's packets, as a program that sees them
 * outbound (or inbound) keys it. */
static void flow_key_of(const struct pkt_class *c, bool outbound,
			struct pw_flow_key *k)
{
	const char *remote = outbound ? c->spec.dst : c->spec.src;

	memset(k, 0, sizeof(*k));
	k->proto = (__u8)c->spec.l4;
	if (c->spec.family == 4) {
		k->remote_addr[2] = htonl(0xffff);
		inet_pton(AF_INET, remote, &k->remote_addr[3]);
	} else {
		inet_pton(AF_INET6, remote, k->remote_addr);
	}
	k->local_port = htons(outbound ? c->spec.sport : c->spec.dport);
	k->remote_port = htons(outbound ? c->spec.dport : c->spec.sport);
}

/* Put the class's flow in both flow tables, as the first packets of the
 * flow would have: the portwitness one through its own programs. */
static int prime(const struct pkt_class *c, const uint8_t *frame, size_t len)
{
	struct pw_flow_key k;
	__u32 v = 1;

	if (c->local_flow) {
		/* The same flow seen leaving: swap the ends and send it out. */
		struct frame_spec out = c->spec;
		uint8_t buf[2048];
		size_t ip_off, l4_off, olen;
		uint32_t ip_len;

		out.src = c->spec.dst;
		out.dst = c->spec.src;
		out.sport = c->spec.dport;
		out.dport = c->spec.sport;
		olen = build_frame(&out, buf, &ip_off, &l4_off, &ip_len);
		if (run_ns(prog_of(R_PW, false, true), buf, olen, 1) < 0)
			return -1;
	} else if (run_ns(prog_of(R_PW, false, c->egress), frame, len, 1) < 0) {
		return -1;
	}
	/* The references parse every frame as inbound. */
	flow_key_of(c, false, &k);
	return bpf_map_update_elem(bpf_map__fd(ref->maps.ref_flows), &k, &v,
				   BPF_ANY);
}

/* Forget the flow of frame, so that its next packet is a flow's first. */
static void forget_flow(const struct pkt_class *c)
{
	int seen = bpf_map__fd(pw->maps.pw_seen);
	struct pw_seen_set set;
	struct pw_flow_key k;
	__u64 hash;
	__u32 idx;

	flow_key_of(c, c->egress, &k);
	bpf_map_delete_elem(bpf_map__fd(pw->maps.pw_flows), &k);
	hash = pw_flow_key_hash(&k);
	idx = pw_seen_index(hash);
	if (bpf_map_lookup_elem(seen, &idx, &set) == 0) {
		pw_seen_forget(&set, hash);
		bpf_map_update_elem(seen, &idx, &set, BPF_ANY);
	}
}

/* One round of a class, the round-th: ns[r], ns per packet of each
 * program, the order turned by one each round. A flow's first packet
 * runs once per run (the flow forgotten before each), 20,000 runs per
 * program, taken in turn. */
static int round_ns(const struct pkt_class *c, bool xdp, const uint8_t *frame,
		    size_t len, unsigned round, double ns[R_COUNT])
{
	unsigned n = c->first_packet ? 20000 : 1, i, k, r;
	double d;

	for (r = 0; r < R_COUNT; r++)
		ns[r] = 0;
	for (i = 0; i < n; i++) {
		for (k = 0; k < R_COUNT; k++) {
			r = (round + k) % R_COUNT;
			if (c->first_packet)
				forget_flow(c);
			d = run_ns(prog_of(r, xdp, c->egress), frame, len,
				   c->first_packet ? 1 : repeat);
			if (d < 0)
				return -1;
			ns[r] += d / n;
		}
	}
	return 0;
}

struct row {
	double ns[R_COUNT];	/* median ns/packet */
	double ratio;		/* median of extra(pw) / extra(ideal) */
};

static int measure(const struct pkt_class *c, bool xdp, struct row *row)
{
	double ns[R_COUNT][MAX_ROUNDS], ratio[MAX_ROUNDS];
	uint8_t frame[2048];
	size_t ip_off, l4_off, len;
	uint32_t ip_len;
	enum which ideal = c->need == NEED_COUNTER ? R_COUNTER : R_CLASSIFIER;
	unsigned i, r;

	len = build_frame(&c->spec, frame, &ip_off, &l4_off, &ip_len);
	if (!c->first_packet && prime(c, frame, len))
		return -1;
	for (i = 0; i < rounds; i++) {
		double one[R_COUNT];

		if (round_ns(c, xdp, frame, len, i, one))
			return -1;
		for (r = 0; r < R_COUNT; r++)
			ns[r][i] = one[r];
		ratio[i] = (ns[R_PW][i] - ns[R_EMPTY][i]) /
			   (ns[ideal][i] - ns[R_EMPTY][i]);
	}
	for (r = 0; r < R_COUNT; r++)
		row->ns[r] = median(ns[r], rounds);
	row->ratio = median(ratio, rounds);
	return 0;
}

static int libbpf_quiet(enum libbpf_print_level lvl, const char *fmt, va_list ap)
{
	return lvl == LIBBPF_WARN ? vfprintf(stderr, fmt, ap) : 0;
}

int main(int argc, char **argv)
{
	const char *only;
	unsigned c;
	int m, err = 1;

	if (argc > 1)
		repeat = (unsigned)strtoul(argv[1], NULL, 10);
	if (argc > 2)
		rounds = (unsigned)strtoul(argv[2], NULL, 10);
	if (!repeat || !rounds || rounds > MAX_ROUNDS) {
		fprintf(stderr, "usage: bench_bpf [REPEAT [ROUNDS<=%d]]\n", MAX_ROUNDS);
		return 2;
	}
	libbpf_set_print(libbpf_quiet);
	{
		/* One CPU: no migration between the runs of a round. */
		cpu_set_t one;

		CPU_ZERO(&one);
		CPU_SET(sysconf(_SC_NPROCESSORS_ONLN) > 1 ? 1 : 0, &one);
		sched_setaffinity(0, sizeof(one), &one);
	}
	pw = portwitness__open_and_load();
	pw_ct = pw ? pw_ct_open(pw, false) : NULL;
	if (pw_ct && portwitness_ct__load(pw_ct)) {
		portwitness_ct__destroy(pw_ct);
		pw_ct = NULL;
	}
	ref = ref__open_and_load();
	if (!pw || !pw_ct || !ref) {
		fprintf(stderr, "bench_bpf: cannot load the programs (root?)\n");
		goto out;
	}
	if (pw_bench_declare(pw))
		goto out;

	printf("per-packet cost, BPF_PROG_TEST_RUN, repeat %u, median of %u rounds (ns/packet)\n",
	       repeat, rounds);
	printf("%-26s %-4s %7s %7s %7s %7s %7s | %7s %7s %7s %6s\n", "class", "hook",
	       "empty", "parse", "counter", "classif", "pw", "x:count", "x:class",
	       "x:pw", "ratio");
	only = getenv("BENCH_BPF_CLASSES");	/* a part of the names to run */
	for (c = 0; c < N_CLASSES; c++) {
		if (only && *only && !strstr(classes[c].name, only))
			continue;
		for (m = 0; m < 2; m++) {
			bool xdp = m == 1;
			struct row row;
			const struct pkt_class *k = &classes[c];
			double e;

			if (xdp && k->egress)
				continue;
			if (measure(k, xdp, &row)) {
				fprintf(stderr, "bench_bpf: %s: test run failed: %s\n",
					k->name, strerror(errno));
				goto out;
			}
			e = row.ns[R_EMPTY];
			printf("%-26s %-4s %7.1f %7.1f %7.1f %7.1f %7.1f | %7.1f %7.1f %7.1f %5.2fx\n",
			       k->name, k->egress ? "egr" : xdp ? "xdp" : "tc",
			       e, row.ns[R_PARSE], row.ns[R_COUNTER],
			       row.ns[R_CLASSIFIER], row.ns[R_PW],
			       row.ns[R_COUNTER] - e, row.ns[R_CLASSIFIER] - e,
			       row.ns[R_PW] - e, row.ratio);
			printf("result bpf.%s.%s %.3f %s\n",
			       k->egress ? "egress" : xdp ? "xdp" : "tc", k->name,
			       row.ratio, k->need == NEED_COUNTER ? "counter" : "classifier");
		}
	}
	printf("ratio = extra(pw) / extra(ideal), extra = ns - empty; the ideal is the\n"
	       "counter for classes that need no flow state, else the classifier.\n");
	err = 0;
out:
	portwitness_ct__destroy(pw_ct);
	portwitness__destroy(pw);
	ref__destroy(ref);
	return err;
}
