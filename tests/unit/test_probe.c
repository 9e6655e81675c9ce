// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The probe's plan: tokens, the datagram, and which ports a sample takes. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include "probe.h"

static struct pw_range range(unsigned first, unsigned last, enum pw_proto p)
{
	struct pw_range r = { .proto = p, .first = (uint16_t)first,
			      .last = (uint16_t)last, .required = true };

	snprintf(r.service, sizeof(r.service), "svc");
	return r;
}

static void test_a_sample_is_even_with_both_ends(void **state)
{
	struct pw_range r = range(49152, 65535, PW_PROTO_UDP);
	static uint16_t out[65536];
	uint32_t n, i;

	(void)state;
	n = pw_probe_sample(&r, 5, out);
	assert_int_equal(n, 5);
	assert_int_equal(out[0], 49152);
	assert_int_equal(out[1], 53248);
	assert_int_equal(out[2], 57344);
	assert_int_equal(out[3], 61439);
	assert_int_equal(out[4], 65535);
	/* As many as asked, distinct and ascending, for every size. */
	for (i = 2; i < 300; i++) {
		r = range(1000, 1000 + i, PW_PROTO_UDP);
		n = pw_probe_sample(&r, i, out);
		assert_int_equal(n, i);
		assert_int_equal(out[0], 1000);
		assert_int_equal(out[n - 1], 1000 + i);
		while (--n)
			assert_true(out[n] > out[n - 1]);
	}
	r = range(5000, 5003, PW_PROTO_UDP);
	assert_int_equal(pw_probe_sample(&r, 10, out), 4);	/* all of it */
	assert_int_equal(pw_probe_sample(&r, 0, out), 4);
	assert_int_equal(pw_probe_sample(&r, 1, out), 1);
	assert_int_equal(out[0], 5000);
	r = range(1, 65535, PW_PROTO_TCP);
	assert_int_equal(pw_probe_sample(&r, 0, out), 65535);
	assert_int_equal(out[65534 % 16384], 1 + 65534 % 16384);
}

static void test_a_port_is_probed_once_per_protocol(void **state)
{
	struct pw_decls d = {};
	struct pw_probe_target *t;
	char err[PW_ERR_MAX];
	size_t n;

	(void)state;
	assert_int_equal(pw_decls_add_spec(&d, "a", "3478|80/tcp", true, "t", err, sizeof(err)), 0);
	assert_int_equal(pw_decls_add_spec(&d, "b", "3478/udp|80:81/tcp", true, "t", err, sizeof(err)), 0);
	assert_int_equal(pw_probe_plan(&d, 0, &t, &n), 0);
	assert_int_equal(n, 4);
	assert_string_equal(t[0].range->service, "a");
	assert_int_equal(t[3].port, 81);
	assert_string_equal(t[3].range->service, "b");
	free(t);
	pw_decls_free(&d);
}

static void test_tokens_and_the_datagram(void **state)
{
	struct pw_probe_payload pl;
	char tok[17];

	(void)state;
	assert_true(pw_probe_token_ok("tok-1"));
	assert_true(pw_probe_token_ok("0123456789abcdef"));
	assert_false(pw_probe_token_ok("0123456789abcdef0"));
	assert_false(pw_probe_token_ok(""));
	assert_false(pw_probe_token_ok("a b"));
	assert_false(pw_probe_token_ok("caf\xc3\xa9"));
	assert_int_equal(pw_probe_token_random(tok, sizeof(tok)), 0);
	assert_int_equal(strlen(tok), 16);
	assert_true(pw_probe_token_ok(tok));
	assert_int_equal(pw_probe_token_random(tok, 16), -EINVAL);
	pw_probe_payload_of("tok-1", &pl);
	assert_int_equal(sizeof(pl), 24);
	assert_memory_equal(pl.magic, "PWPROBE1", 8);
	assert_memory_equal(pl.token, "tok-1\0\0\0\0\0\0\0\0\0\0\0", 16);
}

static void addr4(__u32 *a, const char *text)
{
	a[0] = 0;
	a[1] = 0;
	a[2] = htonl(0xffff);
	assert_int_equal(inet_pton(AF_INET, text, &a[3]), 1);
}

/* What verify --probe reads becomes a snapshot: a marked host's waiting
 * SYNs join its ports, the others' are left out and counted by host; the
 * "other" reasons of both are kept. */
static void test_the_probe_snapshot(void **state)
{
	static __u16 index1[PW_PORT_SLOTS];
	struct pw_probe_syn_entry syns[4] = {};
	struct pw_probe_host hosts[1] = {};
	struct pw_reason_count reasons[1] = { { .index = 1, .reason = 7, .count = 1 } };
	struct pw_probe_seen seen = {};
	struct pw_snapshot snap;
	uint64_t left_syns;
	size_t left_hosts;
	uint32_t udp = PW_PORTS_PER_PROTO;
	char name[64];

	(void)state;
	assert_int_equal(pw_snapshot_alloc(&snap), 0);
	seen.ports = calloc(PW_DECLARED_MAX, sizeof(*seen.ports));
	assert_non_null(seen.ports);
	index1[443] = 1;		/* 443/tcp: index 0 */
	index1[udp + 50000] = 2;	/* 50000/udp: index 1 */
	index1[5222] = 3;		/* 5222/tcp: index 2, nothing came */
	/* 443/tcp: one SYN after the host was marked, refused */
	seen.ports[0] = (struct pw_probe_count){ .arrived = 1, .no_listener = 1 };
	/* 50000/udp: two token datagrams, one dropped for another reason */
	seen.ports[1] = (struct pw_probe_count){ .arrived = 2, .other = 1 };
	addr4(hosts[0].key.addr, "198.19.0.2");
	hosts[0].datagrams = 2;
	/* The probe host's SYN to 443 before its first datagram, dropped by
	 * the firewall; one that fell to another reason. */
	addr4(syns[0].key.addr, "198.19.0.2");
	syns[0].key.slot = 443;
	syns[0].val.c = (struct pw_probe_count){ .arrived = 2, .firewall = 1, .other = 1 };
	syns[0].val.other_reason = 9;
	/* Another host, twice, and once more to another port. */
	addr4(syns[1].key.addr, "198.19.1.2");
	syns[1].key.slot = 443;
	syns[1].val.c.arrived = 2;
	syns[2] = syns[1];
	syns[2].key.slot = 5222;
	syns[2].val.c.arrived = 1;
	/* A slot no longer declared: passed over. */
	syns[3] = syns[0];
	syns[3].key.slot = 80;
	seen.syns = syns;
	seen.n_syns = 4;
	seen.hosts = hosts;
	seen.n_hosts = 1;
	seen.reasons = reasons;
	seen.n_reasons = 1;
	seen.lost = 3;

	pw_probe_snapshot(&seen, index1, true, &snap, &left_syns, &left_hosts);
	assert_int_equal(left_syns, 3);
	assert_int_equal(left_hosts, 1);
	assert_true(snap.drops_traced);
	assert_int_equal(snap.slots[443].unsolicited, 3);
	assert_int_equal(snap.slots[443].index1, 1);
	assert_true(snap.slots[443].declared);
	assert_int_equal(snap.drops[0].firewall, 1);
	assert_int_equal(snap.drops[0].no_listener, 1);
	assert_int_equal(snap.drops[0].other, 1);
	assert_int_equal(snap.slots[udp + 50000].unsolicited, 2);
	assert_int_equal(snap.drops[1].other, 1);
	assert_int_equal(snap.slots[5222].unsolicited, 0);
	assert_int_equal(snap.slots[80].unsolicited, 0);
	assert_false(snap.slots[80].declared);
	/* Reasons ascending by (index, reason). */
	assert_int_equal(snap.n_reasons, 2);
	assert_int_equal(snap.reasons[0].index, 0);
	assert_int_equal(snap.reasons[0].reason, 9);
	assert_int_equal(snap.reasons[0].count, 1);
	assert_int_equal(snap.reasons[1].index, 1);
	assert_int_equal(snap.reasons[1].reason, 7);
	assert_int_equal(snap.stats[PW_STAT_PROBE_LOST], 3);

	/* Without the host marked, nothing of its SYNs is kept. */
	seen.n_hosts = 0;
	pw_probe_snapshot(&seen, index1, false, &snap, &left_syns, &left_hosts);
	assert_int_equal(left_syns, 7);
	assert_int_equal(left_hosts, 2);
	assert_int_equal(snap.slots[443].unsolicited, 1);
	assert_false(snap.drops_traced);

	pw_probe_host_name(&hosts[0].key, name, sizeof(name));
	assert_string_equal(name, "198.19.0.2");
	assert_int_equal(inet_pton(AF_INET6, "fd00::7", hosts[0].key.addr), 1);
	pw_probe_host_name(&hosts[0].key, name, sizeof(name));
	assert_string_equal(name, "fd00::7");
	free(seen.ports);
	pw_snapshot_free(&snap);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_a_sample_is_even_with_both_ends),
		cmocka_unit_test(test_a_port_is_probed_once_per_protocol),
		cmocka_unit_test(test_tokens_and_the_datagram),
		cmocka_unit_test(test_the_probe_snapshot),
	};

	return cmocka_run_group_tests_name("probe", tests, NULL, NULL);
}
