// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The BPF programs through BPF_PROG_TEST_RUN: every packet class through
 * both ingress programs, truncation at every header byte, and the reply /
 * unsolicited rules through ingress and egress together. After each run
 * the maps are read back and the verdict must be "pass". */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "pw_frames.h"
#include "pw_flows.h"
#include "pw_ports.h"
#include "pw_drops.h"
#include "pw_probe.h"
#include "pw_stats.h"
#include "instance.h"
#include "kernel.h"
#include "log.h"
#include "portwitness.skel.h"
#include "portwitness_ct.skel.h"

#define XDP_PASS_VERDICT 2u
#define TC_UNSPEC_VERDICT 0xffffffffu	/* TC_ACT_UNSPEC, -1 */
#define EXIT_SKIP 77

struct harness {
	struct portwitness *skel;	/* the maps, the plain programs */
	struct portwitness_ct *ct;	/* the _ct programs, on skel's maps */
	int ncpus;
};

/* What one port counted, summed over CPUs. */
struct port_counts {
	uint64_t unsolicited, replies, bytes;
	uint64_t other;		/* while undeclared */
};

static struct harness H;		/* Ethernet devices */
static struct harness H3;		/* a device without link-layer header */
/* Which variant runs: the plain programs or the ones that also ask
 * conntrack (which knows none of these synthetic flows: same answers). */
static bool use_ct;

enum prog { XDP_IN, TC_IN, TC_OUT };

static const char *const prog_label[] = { "xdp ingress", "tc ingress", "tc egress" };

static struct bpf_program *variant_prog(struct harness *h, enum prog p)
{
	switch (p) {
	case XDP_IN:
		return use_ct ? h->ct->progs.pw_xdp_ingr_ct : h->skel->progs.pw_xdp_ingress;
	case TC_IN:
		return use_ct ? h->ct->progs.pw_tc_ingr_ct : h->skel->progs.pw_tc_ingress;
	default:
		return use_ct ? h->ct->progs.pw_tc_egr_ct : h->skel->progs.pw_tc_egress;
	}
}

static int prog_fd(struct harness *h, enum prog p)
{
	return bpf_program__fd(variant_prog(h, p));
}

/* The ports the fixtures declare; every other port is undeclared. */
static const struct { uint32_t slot0, first, last; } declared[] = {
	{ 0, 443, 443 }, { 0, 5000, 5000 }, { 0, 5222, 5222 },
	{ 0, 5269, 5269 }, { 0, 7881, 7881 }, { 0, 51000, 51000 },
	{ PW_PORTS_PER_PROTO, 3478, 3478 }, { PW_PORTS_PER_PROTO, 5349, 5350 },
	{ PW_PORTS_PER_PROTO, 49152, 65535 },
};

static void harness_close(struct harness *h)
{
	portwitness_ct__destroy(h->ct);
	portwitness__destroy(h->skel);
	h->ct = NULL;
	h->skel = NULL;
}

/* The three programs of one variant (use_ct) on one set of maps, as the
 * loader has them: the plain ones in the main object, the _ct ones in
 * theirs, sharing the main object's maps (pw_ct_open). The drop tracer
 * has no test run. */
static int harness_open(struct harness *h, bool l2_none)
{
	struct bpf_program *prog;
	uint32_t next = 0, port;
	size_t i;
	int err;

	h->skel = portwitness__open();
	if (!h->skel)
		return -errno;
	h->skel->rodata->pw_l2_none = l2_none;
	bpf_object__for_each_program(prog, h->skel->obj)
		bpf_program__set_autoload(prog, false);
	for (i = XDP_IN; i <= TC_OUT && !use_ct; i++)
		bpf_program__set_autoload(variant_prog(h, i), true);
	err = portwitness__load(h->skel);
	if (!err && use_ct) {
		h->ct = pw_ct_open(h->skel, l2_none);
		err = h->ct ? portwitness_ct__load(h->ct) : -errno;
	}
	if (err) {
		harness_close(h);
		return err;
	}
	for (i = 0; i < sizeof(declared) / sizeof(declared[0]); i++)
		for (port = declared[i].first; port <= declared[i].last; port++)
			h->skel->bss->pw_decl.index1[declared[i].slot0 + port] =
				(__u16)++next;
	h->ncpus = libbpf_num_possible_cpus();
	return 0;
}

/* Zeroes every element of an array map in one call. */
static void zero_array(int fd, __u32 n, size_t bytes_per_key)
{
	__u32 *keys = calloc(n, sizeof(*keys)), k;
	void *zero = calloc(n, bytes_per_key);
	__u32 count = n;

	assert_non_null(keys);
	assert_non_null(zero);
	for (k = 0; k < n; k++)
		keys[k] = k;
	assert_int_equal(bpf_map_update_batch(fd, keys, zero, &count, NULL), 0);
	free(keys);
	free(zero);
}

static void harness_reset(struct harness *h)
{
	int flows = bpf_map__fd(h->skel->maps.pw_flows);
	struct pw_flow_key key, next;
	size_t n = (size_t)h->ncpus;

	zero_array(bpf_map__fd(h->skel->maps.pw_counts), PW_DECLARED_MAX,
		   n * sizeof(struct pw_port_count));
	zero_array(bpf_map__fd(h->skel->maps.pw_other), PW_OTHER_ENTRIES,
		   n * sizeof(struct pw_other_count));
	zero_array(bpf_map__fd(h->skel->maps.pw_seen), PW_SEEN_SETS,
		   sizeof(struct pw_seen_set));
	zero_array(bpf_map__fd(h->skel->maps.pw_stats), PW_STAT_COUNT,
		   n * sizeof(__u64));
	while (!bpf_map_get_next_key(flows, NULL, &next)) {
		key = next;
		bpf_map_delete_elem(flows, &key);
	}
}

static uint64_t stat_of(struct harness *h, enum pw_stat s)
{
	uint64_t *v = calloc((size_t)h->ncpus, sizeof(uint64_t)), sum = 0;
	__u32 k = s;
	int i;

	if (!bpf_map_lookup_elem(bpf_map__fd(h->skel->maps.pw_stats), &k, v))
		for (i = 0; i < h->ncpus; i++)
			sum += v[i];
	free(v);
	return sum;
}

static struct port_counts counts_of(struct harness *h, int l4, uint16_t port)
{
	uint32_t slot = (l4 == IPPROTO_UDP ? PW_PORTS_PER_PROTO : 0) + port;
	__u32 idx = h->skel->bss->pw_decl.index1[slot], key;
	struct pw_port_count *c = calloc((size_t)h->ncpus, sizeof(*c));
	struct pw_other_count *o = calloc((size_t)h->ncpus, sizeof(*o));
	struct port_counts t = { 0 };
	int i;

	assert_non_null(c);
	assert_non_null(o);
	key = idx - 1;
	if (idx && !bpf_map_lookup_elem(bpf_map__fd(h->skel->maps.pw_counts), &key, c))
		for (i = 0; i < h->ncpus; i++) {
			t.unsolicited += c[i].unsolicited;
			t.replies += c[i].replies;
			t.bytes += c[i].bytes;
		}
	key = slot / PW_OTHER_LANES;
	if (!bpf_map_lookup_elem(bpf_map__fd(h->skel->maps.pw_other), &key, o))
		for (i = 0; i < h->ncpus; i++)
			t.other += o[i].packets[slot % PW_OTHER_LANES];
	free(c);
	free(o);
	return t;
}

/* Packets counted on any port, declared or not, of any kind. */
static uint64_t slots_total(struct harness *h)
{
	size_t n = (size_t)h->ncpus, i;
	struct pw_port_count *c = calloc(PW_DECLARED_MAX * n, sizeof(*c));
	struct pw_other_count *o = calloc(PW_OTHER_ENTRIES * n, sizeof(*o));
	__u32 *keys = calloc(PW_DECLARED_MAX, sizeof(*keys));
	__u32 out, count;
	uint64_t sum = 0;
	int l;

	assert_non_null(c);
	assert_non_null(o);
	assert_non_null(keys);
	count = PW_DECLARED_MAX;
	bpf_map_lookup_batch(bpf_map__fd(h->skel->maps.pw_counts), NULL, &out,
			     keys, c, &count, NULL);
	assert_int_equal(count, PW_DECLARED_MAX);
	for (i = 0; i < PW_DECLARED_MAX * n; i++)
		sum += c[i].unsolicited + c[i].replies;
	count = PW_OTHER_ENTRIES;
	bpf_map_lookup_batch(bpf_map__fd(h->skel->maps.pw_other), NULL, &out,
			     keys, o, &count, NULL);
	assert_int_equal(count, PW_OTHER_ENTRIES);
	for (i = 0; i < PW_OTHER_ENTRIES * n; i++)
		for (l = 0; l < (int)PW_OTHER_LANES; l++)
			sum += o[i].packets[l];
	free(c);
	free(o);
	free(keys);
	return sum;
}

static uint64_t flows_count(struct harness *h)
{
	int fd = bpf_map__fd(h->skel->maps.pw_flows);
	struct pw_flow_key key, next;
	uint64_t n = 0;
	int err = bpf_map_get_next_key(fd, NULL, &next);

	while (!err) {
		n++;
		key = next;
		err = bpf_map_get_next_key(fd, &key, &next);
	}
	return n;
}

/* Runs one frame; returns the kernel's error, and checks the verdict.
 * ctx: the skb's fields for TC (gso_segs, gso_size), or NULL. */
static int run_frame_ctx(struct harness *h, enum prog p, const uint8_t *frame,
			 size_t len, struct __sk_buff *ctx)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame,
		    .data_size_in = (__u32)len, .repeat = 1);
	uint32_t want = p == XDP_IN ? XDP_PASS_VERDICT : TC_UNSPEC_VERDICT;
	int err;

	if (p != XDP_IN && ctx) {
		opts.ctx_in = ctx;
		opts.ctx_size_in = sizeof(*ctx);
	}
	err = bpf_prog_test_run_opts(prog_fd(h, p), &opts);
	if (err)
		return err;
	if (opts.retval != want)
		fail_msg("%s returned verdict %u for a %zu-byte frame; expected %u (pass it on, always)",
			 prog_label[p], opts.retval, len, want);
	return 0;
}

static int run_frame(struct harness *h, enum prog p, const uint8_t *frame,
		     size_t len, uint32_t gso_segs)
{
	struct __sk_buff ctx = { .gso_segs = gso_segs };

	return run_frame_ctx(h, p, frame, len, gso_segs ? &ctx : NULL);
}

static void send_spec(struct harness *h, enum prog p, const struct frame_spec *f)
{
	uint8_t buf[2048];
	size_t ip_off, l4_off;
	uint32_t ip_len;
	size_t len = build_frame(f, buf, &ip_off, &l4_off, &ip_len);

	assert_int_equal(run_frame(h, p, buf, len, 0), 0);
}

/* ---- every packet class, through both ingress programs ---- */

struct fixture {
	const char *name;
	struct frame_spec f;
	int stat;		/* -1: counted in the destination port's slot */
};

#define V4 .family = 4, .src = "198.18.7.1", .dst = "198.18.0.1"
#define V6 .family = 6, .src = "fd00::7:1", .dst = "fd00::1"
#define UDP_TO(p) .l4 = IPPROTO_UDP, .sport = 40000, .dport = (p), .payload = 12
#define TCP_SYN_TO(p) .l4 = IPPROTO_TCP, .tcp_flags = TH_SYN, .sport = 40001, .dport = (p)

static const struct fixture classes[] = {
	{ "udp/ipv4", { V4, UDP_TO(50000) }, -1 },
	{ "tcp/ipv4 syn", { V4, TCP_SYN_TO(443) }, -1 },
	{ "udp/ipv6", { V6, UDP_TO(3478) }, -1 },
	{ "tcp/ipv6 syn", { V6, TCP_SYN_TO(5222) }, -1 },
	{ "802.1Q udp/ipv4", { V4, .vlans = 1, UDP_TO(50001) }, -1 },
	{ "802.1ad+802.1Q udp/ipv4", { V4, .vlans = 2, .qinq = true, UDP_TO(50002) }, -1 },
	{ "two 802.1Q tags tcp/ipv6", { V6, .vlans = 2, TCP_SYN_TO(5269) }, -1 },
	{ "three tags: past what is parsed", { V4, .vlans = 3, UDP_TO(50003) }, PW_STAT_MALFORMED },
	{ "ipv4 with 4 bytes of options", { V4, .ipv4_opt_words = 1, UDP_TO(50004) }, -1 },
	{ "ipv4 with 40 bytes of options", { V4, .ipv4_opt_words = 10, TCP_SYN_TO(7881) }, -1 },
	{ "ipv6 hop-by-hop", { V6, .ext = { IPPROTO_HOPOPTS }, .n_ext = 1, UDP_TO(49152) }, -1 },
	{ "ipv6 hbh+routing+dstopts", { V6, .ext = { IPPROTO_HOPOPTS, IPPROTO_ROUTING, IPPROTO_DSTOPTS }, .n_ext = 3, UDP_TO(65535) }, -1 },
	{ "ipv6 dstopts+ah", { V6, .ext = { IPPROTO_DSTOPTS, IPPROTO_AH }, .n_ext = 2, TCP_SYN_TO(5000) }, -1 },
	{ "ipv6 eight extension headers", { V6, .ext = { 0, 60, 60, 60, 60, 60, 60, 60 }, .n_ext = 8, UDP_TO(5349) }, -1 },
	{ "ipv6 nine extension headers", { V6, .ext = { 0, 60, 60, 60, 60, 60, 60, 60, 60 }, .n_ext = 9, UDP_TO(5350) }, PW_STAT_MALFORMED },
	{ "ipv6 first fragment", { V6, .ext = { IPPROTO_FRAGMENT }, .n_ext = 1, .frag = FIRST_FRAG, UDP_TO(60000) }, -1 },
	{ "ipv6 later fragment", { V6, .ext = { IPPROTO_FRAGMENT }, .n_ext = 1, .frag = LATER_FRAG, UDP_TO(60000) }, PW_STAT_FRAGMENTS },
	{ "ipv6 hbh then later fragment", { V6, .ext = { IPPROTO_HOPOPTS, IPPROTO_FRAGMENT }, .n_ext = 2, .frag = LATER_FRAG, UDP_TO(60000) }, PW_STAT_FRAGMENTS },
	{ "ipv4 first fragment", { V4, .frag = FIRST_FRAG, UDP_TO(50005) }, -1 },
	{ "ipv4 later fragment", { V4, .frag = LATER_FRAG, UDP_TO(50005) }, PW_STAT_FRAGMENTS },
	{ "icmp/ipv4", { V4, .l4 = IPPROTO_ICMP }, PW_STAT_OTHER_L4 },
	{ "icmpv6", { V6, .l4 = IPPROTO_ICMPV6 }, PW_STAT_OTHER_L4 },
	{ "ipv6 no next header, empty", { V6, .l4 = 59, .empty = true }, PW_STAT_OTHER_L4 },
	{ "arp", { .family = 0 }, PW_STAT_NOT_IP },
	{ "vlan-tagged arp", { .family = 0, .vlans = 1 }, PW_STAT_NOT_IP },
};

static void check_class(struct harness *h, enum prog p, const struct fixture *fx)
{
	uint8_t buf[2048];
	size_t ip_off, l4_off, len;
	uint32_t ip_len;
	struct port_counts s;
	int k;

	harness_reset(h);
	len = build_frame(&fx->f, buf, &ip_off, &l4_off, &ip_len);
	assert_int_equal(run_frame(h, p, buf, len, 0), 0);
	if (fx->stat >= 0) {
		if (stat_of(h, fx->stat) != 1)
			fail_msg("%s via %s: expected stat %d to count 1, got %llu",
				 fx->name, prog_label[p], fx->stat,
				 (unsigned long long)stat_of(h, fx->stat));
		if (slots_total(h) != 0)
			fail_msg("%s via %s: expected no port slot to count",
				 fx->name, prog_label[p]);
		return;
	}
	s = counts_of(h, fx->f.l4, fx->f.dport);
	if (s.unsolicited != 1 || s.replies != 0 || s.bytes != ip_len)
		fail_msg("%s via %s: port %u expected 1 unsolicited, %u bytes; got %llu unsolicited, %llu replies, %llu bytes",
			 fx->name, prog_label[p], fx->f.dport, ip_len,
			 (unsigned long long)s.unsolicited,
			 (unsigned long long)s.replies,
			 (unsigned long long)s.bytes);
	if (slots_total(h) != 1)
		fail_msg("%s via %s: another slot counted too", fx->name, prog_label[p]);
	for (k = PW_STAT_FRAGMENTS; k <= PW_STAT_OTHER_L4; k++)
		if (stat_of(h, k))
			fail_msg("%s via %s: stat %d counted a packet that has a port",
				 fx->name, prog_label[p], k);
}

static void test_every_packet_class_is_counted_where_it_belongs(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(classes) / sizeof(classes[0]); i++) {
		check_class(&H, XDP_IN, &classes[i]);
		check_class(&H, TC_IN, &classes[i]);
	}
}

/* ---- truncated and malformed frames ---- */

static void check_truncations(enum prog p, const struct frame_spec *f)
{
	uint8_t buf[2048];
	size_t ip_off, l4_off, full, cut;
	uint32_t ip_len;
	uint64_t expected = 0;
	int err;

	full = build_frame(f, buf, &ip_off, &l4_off, &ip_len);
	harness_reset(&H);
	/* Every cut inside the headers, down to a single byte. */
	for (cut = 1; cut < l4_off + (f->l4 == IPPROTO_TCP ? 20 : 8); cut++) {
		err = run_frame(&H, p, buf, cut, 0);
		/* Test runs build no frame shorter than ETH_HLEN; the skb
		 * one neither an untagged IP frame whose IP header is cut
		 * (it reads that header itself). The tagged shapes cover
		 * those cuts for TC; XDP runs them all. */
		if (err == -EINVAL &&
		    (cut < 14 || (p != XDP_IN && !f->vlans &&
				  cut < ip_off + (f->family == 4 ? 20 : 40))))
			continue;
		if (err)
			fail_msg("%s: test run of a frame cut to %zu bytes failed: %s",
				 prog_label[p], cut, strerror(-err));
		expected++;
		if (stat_of(&H, PW_STAT_MALFORMED) != expected)
			fail_msg("%s: a frame cut to %zu of %zu bytes was not counted as malformed",
				 prog_label[p], cut, full);
	}
	if (slots_total(&H) != 0)
		fail_msg("%s: a truncated frame was counted on a port", prog_label[p]);
	assert_true(expected > 0);
}

static void test_truncation_at_every_header_byte_is_malformed(void **state)
{
	const struct frame_spec shapes[] = {
		{ V4, UDP_TO(50000) },
		{ V4, .vlans = 2, .qinq = true, .ipv4_opt_words = 3, TCP_SYN_TO(443) },
		{ V6, .ext = { IPPROTO_HOPOPTS, IPPROTO_FRAGMENT, IPPROTO_DSTOPTS }, .n_ext = 3, .frag = FIRST_FRAG, TCP_SYN_TO(5222) },
		{ V6, .vlans = 1, .ext = { IPPROTO_AH }, .n_ext = 1, UDP_TO(3478) },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
		check_truncations(XDP_IN, &shapes[i]);
		check_truncations(TC_IN, &shapes[i]);
	}
}

static void corrupt_and_expect_malformed(size_t at_l4, size_t at_ip, uint8_t value,
					 const struct frame_spec *f, const char *what)
{
	uint8_t buf[2048];
	size_t ip_off, l4_off, len;
	uint32_t ip_len;
	enum prog p;

	for (p = XDP_IN; p <= TC_IN; p++) {
		harness_reset(&H);
		len = build_frame(f, buf, &ip_off, &l4_off, &ip_len);
		if (at_l4 != (size_t)-1)
			buf[l4_off + at_l4] = value;
		else
			buf[ip_off + at_ip] = value;
		assert_int_equal(run_frame(&H, p, buf, len, 0), 0);
		if (stat_of(&H, PW_STAT_MALFORMED) != 1 || slots_total(&H))
			fail_msg("%s via %s: expected malformed, not counted on a port",
				 what, prog_label[p]);
	}
}

static void test_malformed_headers_are_counted_apart(void **state)
{
	const struct frame_spec udp4 = { V4, UDP_TO(50000) };
	const struct frame_spec tcp4 = { V4, TCP_SYN_TO(443) };
	const struct frame_spec udp6 = { V6, UDP_TO(3478) };
	uint8_t buf[2048];

	(void)state;
	corrupt_and_expect_malformed((size_t)-1, 0, 0x44, &udp4, "ipv4 ihl 4");
	corrupt_and_expect_malformed((size_t)-1, 0, 0x65, &udp4, "version 6 in an ipv4 frame");
	corrupt_and_expect_malformed((size_t)-1, 0, 0x4f, &udp4, "ihl beyond the frame");
	corrupt_and_expect_malformed((size_t)-1, 2, 0xff, &udp4, "total length beyond the frame");
	corrupt_and_expect_malformed((size_t)-1, 3, 0x10, &udp4, "total length below the header");
	corrupt_and_expect_malformed((size_t)-1, 3, 0x00, &udp4, "total length 0 on a small packet");
	corrupt_and_expect_malformed((size_t)-1, 5, 0x00, &udp6, "ipv6 payload length 0 before a udp header");
	corrupt_and_expect_malformed((size_t)-1, 3, 20 + 4, &udp4, "udp header beyond the ipv4 total length");
	corrupt_and_expect_malformed(12, 0, 0xf0, &tcp4, "tcp data offset beyond the ip length");
	corrupt_and_expect_malformed(12, 0, 0x40, &tcp4, "tcp data offset 4");
	corrupt_and_expect_malformed((size_t)-1, 0, 0x40, &udp6, "version 4 in an ipv6 frame");
	corrupt_and_expect_malformed((size_t)-1, 4, 0x7f, &udp6, "ipv6 payload beyond the frame");

	/* A frame of 1,500 bytes of noise: whatever it is, it passes. */
	memset(buf, 0xa5, sizeof(buf));
	harness_reset(&H);
	assert_int_equal(run_frame(&H, XDP_IN, buf, 1500, 0), 0);
	assert_int_equal(run_frame(&H, TC_IN, buf, 1500, 0), 0);
}

/* ---- every frame lands in exactly one counter ---- */

static uint32_t rng_state = 0x7077u;

static uint32_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 17;
	rng_state ^= rng_state << 5;
	return rng_state;
}

static uint64_t counted_anywhere(struct harness *h)
{
	return slots_total(h) + stat_of(h, PW_STAT_FRAGMENTS) +
	       stat_of(h, PW_STAT_MALFORMED) + stat_of(h, PW_STAT_NOT_IP) +
	       stat_of(h, PW_STAT_OTHER_L4);
}

/* Valid frames of every class, then bytes flipped in their headers and
 * cuts anywhere: whatever a frame turns into, it is passed on and counted
 * once, on a port or in an interface-wide counter. Nothing is lost. */
static void test_mutated_frames_are_each_counted_once(void **state)
{
	uint8_t buf[2048];
	size_t ip_off, l4_off, len, n_classes = sizeof(classes) / sizeof(classes[0]);
	uint32_t ip_len;
	uint64_t sent;
	enum prog p;
	int i, k;

	(void)state;
	for (p = XDP_IN; p <= TC_IN; p++) {
		harness_reset(&H);
		sent = 0;
		for (i = 0; i < 3000; i++) {
			len = build_frame(&classes[rng() % n_classes].f, buf,
					  &ip_off, &l4_off, &ip_len);
			for (k = (int)(rng() % 4); k > 0; k--)
				buf[rng() % (l4_off + 20)] ^= (uint8_t)(1u << (rng() % 8));
			if (rng() % 3 == 0)
				len = 14 + rng() % (len - 13);
			if (run_frame(&H, p, buf, len, 0) == 0)
				sent++;
		}
		assert_true(sent > 2000);
		if (counted_anywhere(&H) != sent)
			fail_msg("%s: %llu frames run, %llu counted: every frame must land in exactly one counter",
				 prog_label[p], (unsigned long long)sent,
				 (unsigned long long)counted_anywhere(&H));
	}
}

/* ---- bytes: the IP length, whatever the link layer ---- */

static void test_bytes_are_the_ip_length_with_or_without_vlan(void **state)
{
	struct frame_spec plain = { V4, .l4 = IPPROTO_UDP, .sport = 40000, .dport = 50010, .payload = 100 };
	struct frame_spec tagged = plain;
	uint64_t b[4];
	int i = 0;
	enum prog p;

	(void)state;
	tagged.vlans = 2;
	for (p = XDP_IN; p <= TC_IN; p++) {
		harness_reset(&H);
		send_spec(&H, p, &plain);
		b[i++] = counts_of(&H, IPPROTO_UDP, 50010).bytes;
		harness_reset(&H);
		send_spec(&H, p, &tagged);
		b[i++] = counts_of(&H, IPPROTO_UDP, 50010).bytes;
	}
	assert_int_equal(b[0], 20 + 8 + 100);
	for (i = 1; i < 4; i++)
		if (b[i] != b[0])
			fail_msg("bytes differ between XDP/TC or with VLAN tags: %llu vs %llu",
				 (unsigned long long)b[i], (unsigned long long)b[0]);
}

/* The test run's skb is linear: this is the aggregate copied into one
 * buffer, which reads gso_segs for its length (PW_AGGREGATE_LINEAR_MIN);
 * the paged ones are test_drops_gso's, on the wire. */
static void test_gro_aggregate_counts_every_segment(void **state)
{
	struct frame_spec f = { V4, .l4 = IPPROTO_TCP, .tcp_flags = TH_ACK,
				.sport = 40000, .dport = 443, .payload = 3000 };
	uint8_t buf[4096];
	size_t ip_off, l4_off, len;
	uint32_t ip_len;
	struct port_counts s;

	(void)state;
	harness_reset(&H);
	len = build_frame(&f, buf, &ip_off, &l4_off, &ip_len);
	assert_int_equal(run_frame(&H, TC_IN, buf, len, 3), 0);
	s = counts_of(&H, IPPROTO_TCP, 443);
	assert_int_equal(s.unsolicited, 3);
	/* three segments, each with its own 20 + 20 bytes of headers */
	assert_int_equal(s.bytes, ip_len + 2 * 40);
}

/* A sender's buffer the kernel has not checked (SKB_GSO_DODGY, from a
 * VM): gso_segs 0, gso_size set. It counts as its payload over gso_size,
 * rounded up: 3000 bytes in segments of 1400 are 3 packets; a buffer of
 * one segment's payload, or none, is 1. On the wire: test_drops_gso's
 * tap device. */
static void test_unchecked_gso_counts_its_segments(void **state)
{
	static const struct {
		uint32_t gso_size, payload, want;
	} cases[] = {
		{ 1400, 3000, 3 }, { 1000, 3000, 3 }, { 3000, 3000, 1 },
		{ 4000, 3000, 1 }, { 0, 3000, 1 }, { 1, 600, 600 },
	};
	uint8_t buf[4096];
	size_t ip_off, l4_off, len, i;
	uint32_t ip_len;
	struct port_counts s;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct frame_spec f = { V4, .l4 = IPPROTO_TCP, .tcp_flags = TH_ACK,
					.sport = 40000, .dport = 443,
					.payload = cases[i].payload };
		struct __sk_buff ctx = { .gso_size = cases[i].gso_size };

		harness_reset(&H);
		len = build_frame(&f, buf, &ip_off, &l4_off, &ip_len);
		assert_int_equal(run_frame_ctx(&H, TC_IN, buf, len, &ctx), 0);
		s = counts_of(&H, IPPROTO_TCP, 443);
		if (s.unsolicited != cases[i].want ||
		    s.bytes != ip_len + (cases[i].want - 1) * 40)
			fail_msg("gso_size %u, %u bytes of payload, gso_segs 0: expected %u packets and %u bytes, got %llu and %llu",
				 cases[i].gso_size, cases[i].payload, cases[i].want,
				 ip_len + (cases[i].want - 1) * 40,
				 (unsigned long long)s.unsolicited,
				 (unsigned long long)s.bytes);
	}
}

/* ---- replies are not evidence ---- */

#define SERVER "198.18.0.1"
#define PEER "198.18.9.9"

static struct frame_spec udp(bool inbound, uint16_t local, uint16_t remote)
{
	struct frame_spec f = { .family = 4, .l4 = IPPROTO_UDP, .payload = 20 };

	f.src = inbound ? PEER : SERVER;
	f.dst = inbound ? SERVER : PEER;
	f.sport = inbound ? remote : local;
	f.dport = inbound ? local : remote;
	return f;
}

static struct frame_spec tcp(bool inbound, uint16_t local, uint16_t remote, uint8_t flags)
{
	struct frame_spec f = udp(inbound, local, remote);

	f.l4 = IPPROTO_TCP;
	f.tcp_flags = flags;
	f.payload = 0;
	return f;
}

static void expect_slot(int l4, uint16_t port, uint64_t unsolicited, uint64_t replies,
			const char *what)
{
	struct port_counts s = counts_of(&H, l4, port);

	if (s.unsolicited != unsolicited || s.replies != replies)
		fail_msg("%s: port %u expected %llu unsolicited / %llu replies, got %llu / %llu",
			 what, port, (unsigned long long)unsolicited,
			 (unsigned long long)replies,
			 (unsigned long long)s.unsolicited,
			 (unsigned long long)s.replies);
}

/* The hash and pw_seen set of the flow PEER:remote -> SERVER:local. */
static __u64 seen_hash(uint16_t local, uint16_t remote, int l4, __u32 *idx)
{
	struct pw_flow_key k = { .proto = (__u8)l4 };
	__u64 hash;

	k.remote_addr[2] = htonl(0xffff);
	inet_pton(AF_INET, PEER, &k.remote_addr[3]);
	k.local_port = htons(local);
	k.remote_port = htons(remote);
	hash = pw_flow_key_hash(&k);
	*idx = pw_seen_index(hash);
	return hash;
}

static struct pw_seen_set seen_set(struct harness *h, __u32 idx)
{
	struct pw_seen_set set;

	assert_int_equal(bpf_map_lookup_elem(bpf_map__fd(h->skel->maps.pw_seen),
					     &idx, &set), 0);
	return set;
}

/* What pw_seen says of that flow (enum pw_seen_state, 0 for nothing). */
static __u32 seen_state(struct harness *h, uint16_t local, uint16_t remote, int l4)
{
	struct pw_seen_set set;
	__u64 hash;
	__u32 idx;

	hash = seen_hash(local, remote, l4, &idx);
	set = seen_set(h, idx);
	return pw_seen_find(&set, hash);
}

/* That flow loses its way, as a recorded flow does when an eighth one
 * comes to its set: the set is marked, so that pw_flows is asked. */
static void seen_lost(struct harness *h, uint16_t local, uint16_t remote, int l4)
{
	struct pw_seen_set set;
	__u64 hash;
	__u32 idx;

	hash = seen_hash(local, remote, l4, &idx);
	set = seen_set(h, idx);
	pw_seen_forget(&set, hash);
	set.flags |= PW_SEEN_OVERFLOW;
	assert_int_equal(bpf_map_update_elem(bpf_map__fd(h->skel->maps.pw_seen),
					     &idx, &set, BPF_ANY), 0);
	assert_int_equal(seen_state(h, local, remote, l4), 0);
}

/* n UDP flows PEER:remote -> SERVER:local whose hashes fall in set idx,
 * each on its own local port in 50000-50099 (so a port's counts are its
 * flow's). */
static void flows_in_set(__u32 idx, uint16_t *local, uint16_t *remote,
			 unsigned n)
{
	unsigned found = 0, l, r;
	__u32 i;

	for (l = 50000; l < 50100 && found < n; l++)
		for (r = 1024; r < 65536 && found < n; r++) {
			seen_hash((uint16_t)l, (uint16_t)r, IPPROTO_UDP, &i);
			if (i != idx)
				continue;
			local[found] = (uint16_t)l;
			remote[found++] = (uint16_t)r;
			break;
		}
	assert_int_equal(found, n);
}

static void test_udp_reply_to_an_outbound_flow_is_a_reply(void **state)
{
	enum prog in;
	struct frame_spec f;

	(void)state;
	for (in = XDP_IN; in <= TC_IN; in++) {
		harness_reset(&H);
		/* a DNS query from an ephemeral port inside 50000-60000 */
		f = udp(false, 53001, 53);
		send_spec(&H, TC_OUT, &f);
		f = udp(true, 53001, 53);
		send_spec(&H, in, &f);
		send_spec(&H, in, &f);
		expect_slot(IPPROTO_UDP, 53001, 0, 2, "dns answer");
		assert_int_equal(stat_of(&H, PW_STAT_FLOWS_LOCAL), 1);
		/* the same port from another peer port is a new flow */
		f = udp(true, 53001, 54);
		send_spec(&H, in, &f);
		expect_slot(IPPROTO_UDP, 53001, 1, 2, "another remote port");
	}
}

/* pw_seen answers for a known flow; when it has lost its way (its set
 * marked), the flow table does, and the set is filled again. */
static void test_the_flow_cache_falls_back_to_the_table(void **state)
{
	enum prog in;
	struct frame_spec f;

	(void)state;
	for (in = XDP_IN; in <= TC_IN; in++) {
		harness_reset(&H);
		/* the server's own flow */
		f = udp(false, 50005, 40000);
		send_spec(&H, TC_OUT, &f);
		assert_int_equal(seen_state(&H, 50005, 40000, IPPROTO_UDP), PW_SEEN_LOCAL);
		seen_lost(&H, 50005, 40000, IPPROTO_UDP);
		f = udp(true, 50005, 40000);
		send_spec(&H, in, &f);
		expect_slot(IPPROTO_UDP, 50005, 0, 1, "the answer, its way lost");
		assert_int_equal(seen_state(&H, 50005, 40000, IPPROTO_UDP), PW_SEEN_LOCAL);

		/* a client's flow, answered by the server */
		f = udp(true, 50005, 40001);
		send_spec(&H, in, &f);
		assert_int_equal(seen_state(&H, 50005, 40001, IPPROTO_UDP), PW_SEEN_REMOTE);
		f = udp(false, 50005, 40001);
		send_spec(&H, TC_OUT, &f);
		assert_int_equal(seen_state(&H, 50005, 40001, IPPROTO_UDP), PW_SEEN_ANSWERED);
		assert_int_equal(stat_of(&H, PW_STAT_FLOWS_REMOTE), 1);
		seen_lost(&H, 50005, 40001, IPPROTO_UDP);
		/* the server's next datagram finds it in the table: not
		 * recorded again, and never as its own */
		send_spec(&H, TC_OUT, &f);
		assert_int_equal(seen_state(&H, 50005, 40001, IPPROTO_UDP), PW_SEEN_ANSWERED);
		assert_int_equal(stat_of(&H, PW_STAT_FLOWS_REMOTE), 1);
		assert_int_equal(stat_of(&H, PW_STAT_FLOWS_LOCAL), 1);
		seen_lost(&H, 50005, 40001, IPPROTO_UDP);
		f = udp(true, 50005, 40001);
		send_spec(&H, in, &f);
		expect_slot(IPPROTO_UDP, 50005, 2, 1, "the client's, its way lost");
		assert_int_equal(seen_state(&H, 50005, 40001, IPPROTO_UDP), PW_SEEN_ANSWERED);
	}
}

/* One datagram of each flow from..to-1 of local/remote, through prog:
 * inbound (client to server) or out (server to client). */
static void send_flows(enum prog prog, bool inbound, const uint16_t *local,
		       const uint16_t *remote, unsigned from, unsigned to)
{
	struct frame_spec f;
	unsigned i;

	for (i = from; i < to; i++) {
		f = udp(inbound, local[i], remote[i]);
		send_spec(&H, prog, &f);
	}
}

/* A flood of new flows from outside into a set of the server's own
 * flows: the flood takes the free ways and then its own, never the
 * server's, so that every answer is still a reply and the set needs no
 * look at the table. */
static void test_a_flood_keeps_off_the_servers_flows(void **state)
{
	uint16_t local[27], remote[27];
	struct pw_seen_set set;
	unsigned i, marked;
	uint64_t replies;
	enum prog in;

	(void)state;
	flows_in_set(1234, local, remote, 27);
	for (in = XDP_IN; in <= TC_IN; in++) {
		harness_reset(&H);
		/* the server's: two, then the flood, then five more */
		send_flows(TC_OUT, false, local, remote, 0, 2);
		send_flows(in, true, local, remote, 7, 27);
		set = seen_set(&H, 1234);
		for (i = 0, marked = 0; i < PW_SEEN_WAYS; i++)
			marked += (set.way[i] & PW_SEEN_STATE_MASK) == PW_SEEN_REMOTE;
		assert_int_equal(marked, PW_SEEN_WAYS - 2);
		assert_int_equal(seen_state(&H, local[26], remote[26], IPPROTO_UDP),
				 PW_SEEN_REMOTE);
		send_flows(TC_OUT, false, local, remote, 2, 7);
		send_flows(in, true, local, remote, 7, 27);
		set = seen_set(&H, 1234);
		assert_false(set.flags & PW_SEEN_OVERFLOW);
		for (i = 0; i < 7; i++)
			assert_int_equal(seen_state(&H, local[i], remote[i], IPPROTO_UDP),
					 PW_SEEN_LOCAL);
		send_flows(in, true, local, remote, 0, 7);
		for (i = 0, replies = 0; i < 27; i++)
			replies += counts_of(&H, IPPROTO_UDP, local[i]).replies;
		assert_int_equal(replies, 7);
		assert_int_equal(flows_count(&H), 7);
	}
}

/* Eight flows of the server's own on one set of seven ways: one is pushed
 * out and the set is marked, so that the table still tells every answer
 * for a reply; a flood into the marked set then takes kept ways too, and
 * changes nothing of that. */
static void test_a_full_set_falls_back_to_the_table(void **state)
{
	uint16_t local[16], remote[16];
	uint64_t replies;
	enum prog in;
	unsigned i;
	int round;

	(void)state;
	flows_in_set(77, local, remote, 16);
	for (in = XDP_IN; in <= TC_IN; in++) {
		harness_reset(&H);
		send_flows(TC_OUT, false, local, remote, 0, 8);
		assert_int_equal(stat_of(&H, PW_STAT_FLOWS_LOCAL), 8);
		assert_true(seen_set(&H, 77).flags & PW_SEEN_OVERFLOW);
		for (round = 1; round <= 2; round++) {
			send_flows(in, true, local, remote, 0, 8);
			if (round == 1)	/* the flood, into the marked set */
				send_flows(in, true, local, remote, 8, 16);
			for (i = 0, replies = 0; i < 16; i++)
				replies += counts_of(&H, IPPROTO_UDP, local[i]).replies;
			assert_int_equal(replies, 8 * (uint64_t)round);
		}
		assert_int_equal(stat_of(&H, PW_STAT_FLOWS_LOCAL), 8);
	}
}

static void test_client_packets_stay_unsolicited_after_the_server_answers(void **state)
{
	enum prog in;
	struct frame_spec f;
	int i;

	(void)state;
	for (in = XDP_IN; in <= TC_IN; in++) {
		harness_reset(&H);
		for (i = 0; i < 3; i++) {
			f = udp(true, 3478, 40000);
			send_spec(&H, in, &f);
			f = udp(false, 3478, 40000);	/* the server answers */
			send_spec(&H, TC_OUT, &f);
		}
		expect_slot(IPPROTO_UDP, 3478, 3, 0, "stun client");
		assert_int_equal(stat_of(&H, PW_STAT_FLOWS_LOCAL), 0);
		assert_int_equal(stat_of(&H, PW_STAT_FLOWS_REMOTE), 1);
	}
}

static void test_tcp_outbound_connection_replies_are_replies(void **state)
{
	enum prog in;
	struct frame_spec f;

	(void)state;
	for (in = XDP_IN; in <= TC_IN; in++) {
		harness_reset(&H);
		f = tcp(false, 51000, 443, TH_SYN);
		send_spec(&H, TC_OUT, &f);
		f = tcp(true, 51000, 443, TH_SYN | TH_ACK);
		send_spec(&H, in, &f);
		f = tcp(false, 51000, 443, TH_ACK);
		send_spec(&H, TC_OUT, &f);
		f = tcp(true, 51000, 443, TH_ACK);
		send_spec(&H, in, &f);
		expect_slot(IPPROTO_TCP, 51000, 0, 2, "https from the server");
	}
}

static void test_tcp_inbound_connection_stays_unsolicited(void **state)
{
	enum prog in;
	struct frame_spec f;

	(void)state;
	for (in = XDP_IN; in <= TC_IN; in++) {
		harness_reset(&H);
		f = tcp(true, 5222, 40100, TH_SYN);
		send_spec(&H, in, &f);
		f = tcp(false, 5222, 40100, TH_SYN | TH_ACK);
		send_spec(&H, TC_OUT, &f);
		f = tcp(true, 5222, 40100, TH_ACK);
		send_spec(&H, in, &f);
		f = tcp(false, 5222, 40100, TH_ACK);
		send_spec(&H, TC_OUT, &f);
		f = tcp(true, 5222, 40100, TH_ACK);
		send_spec(&H, in, &f);
		expect_slot(IPPROTO_TCP, 5222, 3, 0, "xmpp client");
		assert_int_equal(stat_of(&H, PW_STAT_FLOWS_LOCAL), 0);
		/* recorded (as begun outside) only where conntrack is asked,
		 * so that it is asked once per flow */
assert_int_equal(flows_count(&H), 0);
		/* pw_seen marks it begun outside: with conntrack, so that
		 * it is asked once per flow */
		assert_int_equal(seen_state(&H, 5222, 40100, IPPROTO_TCP),
				 PW_SEEN_REMOTE);
	}
}

/* An undeclared port costs one count and no flow work: its packets are
 * counted unclassified, and this host's flows from it are not recorded. */
static void test_undeclared_ports_are_counted_without_flow_work(void **state)
{
	enum prog in;
	struct frame_spec f;
	struct port_counts c;

	(void)state;
	for (in = XDP_IN; in <= TC_IN; in++) {
		harness_reset(&H);
		f = udp(false, 40404, 53);
		send_spec(&H, TC_OUT, &f);
		f = tcp(false, 40405, 443, TH_SYN);
		send_spec(&H, TC_OUT, &f);
		f = udp(true, 40404, 53);
		send_spec(&H, in, &f);
		send_spec(&H, in, &f);
		f = tcp(true, 40405, 443, TH_SYN | TH_ACK);
		send_spec(&H, in, &f);
		c = counts_of(&H, IPPROTO_UDP, 40404);
		if (c.other != 2 || c.unsolicited || c.replies)
			fail_msg("undeclared 40404/udp: expected 2 unclassified, got %llu (%llu unsolicited, %llu replies)",
				 (unsigned long long)c.other,
				 (unsigned long long)c.unsolicited,
				 (unsigned long long)c.replies);
		assert_int_equal(counts_of(&H, IPPROTO_TCP, 40405).other, 1);
		assert_int_equal(flows_count(&H), 0);
		assert_int_equal(seen_state(&H, 40404, 53, IPPROTO_UDP), 0);
	}
}

/* A flow is keyed by its remote address; an IPv4 peer is keyed as
 * ::ffff:a.b.c.d, the form the same peer has when mapped into IPv6. */
static void test_flows_are_keyed_by_the_remote_address(void **state)
{
	struct frame_spec f = udp(false, 50100, 443);
	struct frame_spec g = { V6, .l4 = IPPROTO_UDP, .sport = 443, .dport = 50100 };

	(void)state;
	harness_reset(&H);
	send_spec(&H, TC_OUT, &f);
	g.src = "::ffff:198.18.9.8";	/* not the peer the server called */
	send_spec(&H, TC_IN, &g);
	expect_slot(IPPROTO_UDP, 50100, 1, 0, "a different peer");
	g.src = "::ffff:" PEER;		/* the same peer, as a mapped address */
	send_spec(&H, TC_IN, &g);
	expect_slot(IPPROTO_UDP, 50100, 1, 1, "the called peer");
}

/* ---- a device without a link-layer header ---- */

static void test_l3_device_frames_start_at_ip(void **state)
{
	struct frame_spec f4 = { V4, .l2_none = true, UDP_TO(51820) };
	struct frame_spec f6 = { V6, .l2_none = true, TCP_SYN_TO(443) };
	enum prog p;

	(void)state;
	for (p = XDP_IN; p <= TC_IN; p++) {
		harness_reset(&H3);
		send_spec(&H3, p, &f4);
		send_spec(&H3, p, &f6);
		assert_int_equal(counts_of(&H3, IPPROTO_UDP, 51820).unsolicited, 1);
		assert_int_equal(counts_of(&H3, IPPROTO_TCP, 443).unsolicited, 1);
		assert_int_equal(stat_of(&H3, PW_STAT_MALFORMED), 0);
	}
}

/* ---- verify --probe: the token's datagrams and their hosts' SYNs ---- */

#define TOKEN "tok-7"

static void clear_hash(int fd, size_t ksize)
{
	uint8_t key[64], next[64];

	while (!bpf_map_get_next_key(fd, NULL, next)) {
		memcpy(key, next, ksize);
		bpf_map_delete_elem(fd, key);
	}
}

static void probe_reset(struct harness *h, uint32_t state)
{
	struct pw_probe_payload pl = {};

	zero_array(bpf_map__fd(h->skel->maps.pw_probe_ports), PW_DECLARED_MAX,
		   sizeof(struct pw_probe_count));
	clear_hash(bpf_map__fd(h->skel->maps.pw_probe_syns),
		   sizeof(struct pw_probe_syn_key));
	clear_hash(bpf_map__fd(h->skel->maps.pw_probe_hosts),
		   sizeof(struct pw_probe_host_key));
	memcpy(pl.magic, PW_PROBE_MAGIC, sizeof(pl.magic));
	memcpy(pl.token, TOKEN, strlen(TOKEN));
	memcpy(h->skel->bss->pw_decl.probe_payload, &pl, sizeof(pl));
	h->skel->bss->pw_decl.probe_state = state;
}

/* A datagram from src to port whose payload is text (NUL-padded to len). */
static void send_datagram(struct harness *h, enum prog p, int family,
			  const char *src, uint16_t port, const char *text,
			  int len)
{
	struct frame_spec f = { .family = family, .l4 = IPPROTO_UDP,
				.src = src, .dst = family == 4 ? SERVER : "fd00::1",
				.sport = 41000, .dport = port, .payload = len };
	uint8_t buf[2048];
	size_t ip_off, l4_off, n;
	uint32_t ip_len;

	n = build_frame(&f, buf, &ip_off, &l4_off, &ip_len);
	memcpy(buf + l4_off + 8, text, strnlen(text, (size_t)len));
	assert_int_equal(run_frame(h, p, buf, n, 0), 0);
}

static void send_tcp(struct harness *h, enum prog p, int family,
		     const char *src, uint16_t port, uint8_t flags)
{
	struct frame_spec f = { .family = family, .l4 = IPPROTO_TCP,
				.tcp_flags = flags, .src = src,
				.dst = family == 4 ? SERVER : "fd00::1",
				.sport = 41001, .dport = port };

	send_spec(h, p, &f);
}

/* The dense index of a declared port. */
static __u32 index_of(struct harness *h, int l4, uint16_t port)
{
	uint32_t slot = (l4 == IPPROTO_UDP ? PW_PORTS_PER_PROTO : 0) + port;

	assert_int_not_equal(h->skel->bss->pw_decl.index1[slot], 0);
	return h->skel->bss->pw_decl.index1[slot] - 1u;
}

static uint32_t probe_arrived(struct harness *h, int l4, uint16_t port)
{
	__u32 key = index_of(h, l4, port);
	struct pw_probe_count c = {};

	assert_int_equal(bpf_map_lookup_elem(bpf_map__fd(h->skel->maps.pw_probe_ports),
					     &key, &c), 0);
	return c.arrived;
}

static void host_key(int family, const char *text, struct pw_probe_host_key *k)
{
	memset(k, 0, sizeof(*k));
	if (family == 4) {
		k->addr[2] = htonl(0xffff);
		assert_int_equal(inet_pton(AF_INET, text, &k->addr[3]), 1);
	} else {
		assert_int_equal(inet_pton(AF_INET6, text, k->addr), 1);
	}
}

/* How many token datagrams the host sent; 0 when it is not marked. */
static uint64_t host_marked(struct harness *h, int family, const char *text)
{
	struct pw_probe_host_key k;
	uint64_t n = 0;

	host_key(family, text, &k);
	bpf_map_lookup_elem(bpf_map__fd(h->skel->maps.pw_probe_hosts), &k, &n);
	return n;
}

/* SYNs of the host to port waiting for it to be marked. */
static uint32_t syns_waiting(struct harness *h, int family, const char *text,
			     uint16_t port)
{
	struct pw_probe_syn_key k = { .slot = port };
	struct pw_probe_syn v = {};

	host_key(family, text, (struct pw_probe_host_key *)k.addr);
	bpf_map_lookup_elem(bpf_map__fd(h->skel->maps.pw_probe_syns), &k, &v);
	return v.c.arrived;
}

static void test_probe_packets_are_told_from_others(void **state)
{
	static const struct { int family; const char *a, *b; } hosts[] = {
		{ 4, "198.19.0.2", "198.19.1.2" },
		{ 6, "fd00::c:2", "fd00::d:2" },
	};
	char wrong[24] = PW_PROBE_MAGIC "tok-8";
	char right[24] = PW_PROBE_MAGIC TOKEN;
	enum prog p;
	size_t i;

	(void)state;
	for (p = XDP_IN; p <= TC_IN; p++) {
		for (i = 0; i < 2; i++) {
			int fam = hosts[i].family;
			const char *a = hosts[i].a, *b = hosts[i].b;

			harness_reset(&H);
			probe_reset(&H, PW_PROBE_COUNTING);
			/* A's SYN before its first datagram waits. */
			send_tcp(&H, p, fam, a, 5222, TH_SYN);
			assert_int_equal(syns_waiting(&H, fam, a, 5222), 1);
			assert_int_equal(probe_arrived(&H, IPPROTO_TCP, 5222), 0);
			/* Neither another token, nor the token in a longer
			 * datagram, nor a datagram to an undeclared port marks A. */
			send_datagram(&H, p, fam, a, 3478, wrong, 24);
			send_datagram(&H, p, fam, a, 3478, right, 25);
			send_datagram(&H, p, fam, a, 3479, right, 24);
			assert_int_equal(host_marked(&H, fam, a), 0);
			assert_int_equal(probe_arrived(&H, IPPROTO_UDP, 3478), 0);
			/* The token does, and counts its port. */
			send_datagram(&H, p, fam, a, 3478, right, 24);
			assert_int_equal(host_marked(&H, fam, a), 1);
			assert_int_equal(probe_arrived(&H, IPPROTO_UDP, 3478), 1);
			assert_int_equal(counts_of(&H, IPPROTO_UDP, 3478).unsolicited, 3);
			/* A's SYN now counts at once; not its other segments. */
			send_tcp(&H, p, fam, a, 5269, TH_SYN);
			send_tcp(&H, p, fam, a, 5269, TH_ACK);
			send_tcp(&H, p, fam, a, 5269, TH_SYN | TH_ACK);
			assert_int_equal(probe_arrived(&H, IPPROTO_TCP, 5269), 1);
			assert_int_equal(syns_waiting(&H, fam, a, 5269), 0);
			/* B without a token: its SYN waits, it stays unmarked. */
			send_tcp(&H, p, fam, b, 5269, TH_SYN);
			assert_int_equal(syns_waiting(&H, fam, b, 5269), 1);
			assert_int_equal(probe_arrived(&H, IPPROTO_TCP, 5269), 1);
			assert_int_equal(host_marked(&H, fam, b), 0);
			/* Counting off: nothing more. */
			probe_reset(&H, PW_PROBE_OFF);
			send_datagram(&H, p, fam, b, 49152, right, 24);
			send_tcp(&H, p, fam, b, 5222, TH_SYN);
			assert_int_equal(host_marked(&H, fam, b), 0);
			assert_int_equal(probe_arrived(&H, IPPROTO_UDP, 49152), 0);
			assert_int_equal(syns_waiting(&H, fam, b, 5222), 0);
			/* Closing: ingress no longer counts. */
			probe_reset(&H, PW_PROBE_CLOSING);
			send_datagram(&H, p, fam, b, 49152, right, 24);
			assert_int_equal(host_marked(&H, fam, b), 0);
			assert_int_equal(probe_arrived(&H, IPPROTO_UDP, 49152), 0);
		}
	}
	probe_reset(&H, PW_PROBE_OFF);
}

/* ---- refusals leaving on egress ---- */

static uint64_t refused_of(struct harness *h, int l4, uint16_t port)
{
	__u32 key = index_of(h, l4, port);
	struct pw_port_drops d = {};

	assert_int_equal(bpf_map_lookup_elem(bpf_map__fd(h->skel->maps.pw_drops),
					     &key, &d), 0);
	return d.refused;
}

/* An ICMP error from this host quoting a packet PEER sent to local. */
static void send_icmp_error(struct harness *h, int family, uint8_t type,
			    uint8_t code, int inner_l4, uint16_t local)
{
	struct frame_spec f = { .family = family,
				.l4 = family == 4 ? IPPROTO_ICMP : IPPROTO_ICMPV6,
				.src = family == 4 ? SERVER : "fd00::1",
				.dst = family == 4 ? PEER : "fd00::9:9",
				.payload = family == 4 ? 28 : 48 };
	uint8_t buf[2048], *q;
	size_t ip_off, l4_off, n;
	uint32_t ip_len;

	n = build_frame(&f, buf, &ip_off, &l4_off, &ip_len);
	buf[l4_off] = type;
	buf[l4_off + 1] = code;
	q = buf + l4_off + 8;
	if (family == 4) {
		q[0] = 0x45;
		q[9] = (uint8_t)inner_l4;
		inet_pton(AF_INET, PEER, q + 12);
		inet_pton(AF_INET, SERVER, q + 16);
		q += 20;
	} else {
		q[0] = 0x60;
		q[6] = (uint8_t)inner_l4;
		inet_pton(AF_INET6, "fd00::9:9", q + 8);
		inet_pton(AF_INET6, "fd00::1", q + 24);
		q += 40;
	}
	put16(q, 41000);
	put16(q + 2, local);
	assert_int_equal(run_frame(h, TC_OUT, buf, n, 0), 0);
}

static void test_refusals_on_egress_are_counted_on_their_port(void **state)
{
	struct frame_spec rst = tcp(false, 5269, 41001, TH_SYN | TH_ACK);
	uint8_t buf[2048];
	size_t ip_off, l4_off, n;
	uint32_t ip_len;

	(void)state;
	harness_reset(&H);
	zero_array(bpf_map__fd(H.skel->maps.pw_drops), PW_DECLARED_MAX,
		   sizeof(struct pw_port_drops));
	/* An RST with sequence 0 answers a SYN: refused. */
	rst.tcp_flags = 0x04 | TH_ACK;
	send_spec(&H, TC_OUT, &rst);
	assert_int_equal(refused_of(&H, IPPROTO_TCP, 5269), 1);
	/* One with a sequence number ends a connection: not a refusal. */
	n = build_frame(&rst, buf, &ip_off, &l4_off, &ip_len);
	buf[l4_off + 7] = 1;
	assert_int_equal(run_frame(&H, TC_OUT, buf, n, 0), 0);
	assert_int_equal(refused_of(&H, IPPROTO_TCP, 5269), 1);
	/* ICMP port unreachable quoting a datagram, IPv4 and IPv6. */
	send_icmp_error(&H, 4, 3, 3, IPPROTO_UDP, 3478);
	send_icmp_error(&H, 6, 1, 4, IPPROTO_UDP, 3478);
	assert_int_equal(refused_of(&H, IPPROTO_UDP, 3478), 2);
	/* Other ICMP errors, and undeclared ports, are not. */
	send_icmp_error(&H, 4, 3, 1, IPPROTO_UDP, 3478);
	send_icmp_error(&H, 6, 1, 3, IPPROTO_UDP, 3478);
	send_icmp_error(&H, 4, 11, 0, IPPROTO_UDP, 3478);
	send_icmp_error(&H, 4, 3, 3, IPPROTO_UDP, 3479);
	assert_int_equal(refused_of(&H, IPPROTO_UDP, 3478), 2);
	/* Quoting a flow this host began: an answer to its own packet. */
	{
		struct frame_spec out = udp(false, 3478, 41000);

		send_spec(&H, TC_OUT, &out);
		send_icmp_error(&H, 4, 3, 3, IPPROTO_UDP, 3478);
		assert_int_equal(refused_of(&H, IPPROTO_UDP, 3478), 2);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_packet_class_is_counted_where_it_belongs),
		cmocka_unit_test(test_truncation_at_every_header_byte_is_malformed),
		cmocka_unit_test(test_malformed_headers_are_counted_apart),
		cmocka_unit_test(test_mutated_frames_are_each_counted_once),
		cmocka_unit_test(test_bytes_are_the_ip_length_with_or_without_vlan),
		cmocka_unit_test(test_gro_aggregate_counts_every_segment),
		cmocka_unit_test(test_unchecked_gso_counts_its_segments),
		cmocka_unit_test(test_udp_reply_to_an_outbound_flow_is_a_reply),
		cmocka_unit_test(test_client_packets_stay_unsolicited_after_the_server_answers),
		cmocka_unit_test(test_the_flow_cache_falls_back_to_the_table),
		cmocka_unit_test(test_a_flood_keeps_off_the_servers_flows),
		cmocka_unit_test(test_a_full_set_falls_back_to_the_table),
		cmocka_unit_test(test_tcp_outbound_connection_replies_are_replies),
		cmocka_unit_test(test_tcp_inbound_connection_stays_unsolicited),
		cmocka_unit_test(test_flows_are_keyed_by_the_remote_address),
		cmocka_unit_test(test_undeclared_ports_are_counted_without_flow_work),
		cmocka_unit_test(test_l3_device_frames_start_at_ip),
		cmocka_unit_test(test_probe_packets_are_told_from_others),
		cmocka_unit_test(test_refusals_on_egress_are_counted_on_their_port),
	};
	struct pw_feature feat[PW_FEAT_COUNT];
	struct pw_prog_check pc;
	int i, refused = 0, unprivileged = 0, failed = 0;

	/* Each program on its own first: one the verifier refuses hides no
	 * other, and is named with the verifier's words. */
	pw_log_libbpf();
	pw_kernel_features(feat);
	if (!feat[PW_FEAT_CT_KFUNCS].available &&
	    system("modprobe nf_conntrack 2>/dev/null") == 0)
		pw_kernel_features(feat);
	for (i = 0; i < PW_PROG_COUNT; i++) {
		pw_prog_check(i, feat, &pc);
		if (pc.loaded) {
			printf("loads: %-15s %u instructions verified\n", pc.name,
			       pc.verified_insns);
		} else if (pc.privilege) {
			unprivileged++;
		} else {
			refused++;
			fprintf(stderr, "FAIL bpf_test_run: the kernel refused %s (%s)%s%s%s; the verifier's last lines:\n%s\n",
				pc.name, strerror(-pc.err),
				pc.needs ? ": it lacks " : "",
				pc.needs ? pc.needs->what : "",
				pc.needs ? (pc.needs == &feat[PW_FEAT_CT_KFUNCS] ?
					    " (is nf_conntrack loaded?)" : "") : "",
				pc.verifier);
		}
	}
	pw_log_capture_free();
	if (unprivileged == PW_PROG_COUNT) {
		fprintf(stderr, "SKIP bpf_test_run: cannot load BPF programs (Operation not permitted); needs root or CAP_BPF\n");
		return EXIT_SKIP;
	}
	/* Then the tests, once with each variant that loaded. */
	for (i = 0; i < 2; i++) {
		use_ct = i == 1;
		if (harness_open(&H, false) || harness_open(&H3, true)) {
			fprintf(stderr, "FAIL bpf_test_run: the %s programs did not load together (above: which one the kernel refused)\n",
				use_ct ? "conntrack" : "plain");
			failed++;
		} else {
			failed += cmocka_run_group_tests_name(use_ct ?
				"bpf_test_run conntrack programs" :
				"bpf_test_run plain programs", tests, NULL, NULL);
		}
		harness_close(&H);
		harness_close(&H3);
	}
	return failed || refused ? 1 : 0;
}
