// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* From two snapshots to per-range answers, and the verify JSON contract. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "counters.h"
#include "json.h"
#include "report.h"

/* A declared port's totals in a snapshot. */
static struct pw_slot_total *slot(struct pw_snapshot *s, enum pw_proto p, unsigned port)
{
	struct pw_slot_total *t = &s->slots[p * PW_PORTS_PER_PROTO + port];

	t->declared = true;
	return t;
}

static void decls(struct pw_decls *d, const char *spec_required, const char *spec_optional)
{
	char err[PW_ERR_MAX];

	assert_int_equal(pw_decls_add_spec(d, "svc", spec_required, true, "t", err, sizeof(err)), 0);
	if (spec_optional)
		assert_int_equal(pw_decls_add_spec(d, "svc", spec_optional, false, "t", err, sizeof(err)), 0);
}

static void test_deltas_hits_and_order_over_a_window(void **state)
{
	struct pw_snapshot a, b, acc;
	struct pw_decls d = {};
	struct pw_report rep = {};
	const struct pw_range_result *r;

	(void)state;
	assert_int_equal(pw_snapshot_alloc(&a), 0);
	assert_int_equal(pw_snapshot_alloc(&b), 0);
	assert_int_equal(pw_snapshot_alloc(&acc), 0);
	decls(&d, "50000:50010/udp|443/tcp", NULL);
	/* before the window: traffic that must not count */
	slot(&a, PW_PROTO_UDP, 50003)->unsolicited = 7;
	slot(&b, PW_PROTO_UDP, 50003)->unsolicited = 7;
	slot(&a, PW_PROTO_UDP, 50001)->replies = 4;
	slot(&b, PW_PROTO_UDP, 50001)->replies = 9;	/* replies only: no hit */
	slot(&b, PW_PROTO_UDP, 50010)->unsolicited = 2;
	slot(&b, PW_PROTO_UDP, 50010)->bytes = 200;
	slot(&b, PW_PROTO_UDP, 50000)->unsolicited = 1;
	slot(&b, PW_PROTO_UDP, 50000)->bytes = 100;
	slot(&b, PW_PROTO_UDP, 50011)->unsolicited = 50;	/* outside */
	slot(&b, PW_PROTO_TCP, 50005)->unsolicited = 50;	/* other proto */
	b.slots[PW_PORTS_PER_PROTO + 50004].other = 8;	/* while undeclared */
	b.real_ns = 1000006000000000ull;

	pw_snapshot_accumulate(&acc, &a, &b);
	assert_int_equal(pw_report_build(&rep, &d, &acc), 0);
	assert_int_equal(rep.n, 2);
	r = &rep.ranges[0];
	assert_int_equal(r->ports_declared, 11);
	assert_int_equal(r->ports_hit, 2);
	assert_int_equal(r->hit_ports[0], 50000);
	assert_int_equal(r->hit_ports[1], 50010);
	assert_int_equal(r->packets, 3);
	assert_int_equal(r->replies, 5);
	assert_int_equal(r->bytes, 300);
	assert_true(r->reached);
	/* the read that saw them grow, on the wall clock */
	assert_int_equal(r->last_seen_real_ns, 1000006000000000ull);
	assert_int_equal(acc.slots[PW_PORTS_PER_PROTO + 50004].other, 8);
	assert_false(rep.ranges[1].reached);
	assert_false(rep.ok);
	pw_report_free(&rep);
	pw_decls_free(&d);
	pw_snapshot_free(&a);
	pw_snapshot_free(&b);
	pw_snapshot_free(&acc);
}

static void test_optional_silent_range_does_not_fail(void **state)
{
	struct pw_snapshot b;
	struct pw_decls d = {};
	struct pw_report rep = {};

	(void)state;
	assert_int_equal(pw_snapshot_alloc(&b), 0);
	decls(&d, "443/tcp", "443/udp");
	slot(&b, PW_PROTO_TCP, 443)->unsolicited = 1;
	assert_int_equal(pw_report_build(&rep, &d, &b), 0);
	assert_true(rep.ok);
	assert_false(rep.ranges[1].reached);
	pw_report_free(&rep);
	pw_decls_free(&d);
	pw_snapshot_free(&b);
}

/* The kernel keeps 32 bits per CPU: a sum that went down wrapped, and a
 * window read often enough stays exact past 2^32 packets. */
static void test_32_bit_wraps_between_reads_lose_nothing(void **state)
{
	struct pw_snapshot a, b, acc;
	struct pw_decls d = {};
	struct pw_report rep = {};
	int i;

	(void)state;
	assert_int_equal(pw_snapshot_alloc(&a), 0);
	assert_int_equal(pw_snapshot_alloc(&b), 0);
	assert_int_equal(pw_snapshot_alloc(&acc), 0);
	decls(&d, "5222/tcp", NULL);
	slot(&a, PW_PROTO_TCP, 5222)->unsolicited = 0xfffffff0u;
	slot(&b, PW_PROTO_TCP, 5222)->unsolicited = 0x10;	/* wrapped */
	a.stats[PW_STAT_MALFORMED] = 10;
	b.stats[PW_STAT_MALFORMED] = 12;
	pw_snapshot_accumulate(&acc, &a, &b);
	assert_int_equal(pw_report_build(&rep, &d, &acc), 0);
	assert_int_equal(rep.ranges[0].packets, 0x20);
	assert_int_equal(rep.stats[PW_STAT_MALFORMED], 2);
	pw_report_free(&rep);
	/* Three reads of 2^31 packets each: 3 * 2^31 in all. */
	pw_snapshot_free(&acc);
	assert_int_equal(pw_snapshot_alloc(&acc), 0);
	slot(&a, PW_PROTO_TCP, 5222)->unsolicited = 0;
	for (i = 0; i < 3; i++) {
		slot(&b, PW_PROTO_TCP, 5222)->unsolicited =
			(uint32_t)(a.slots[5222].unsolicited + 0x80000000u);
		pw_snapshot_accumulate(&acc, &a, &b);
		a.slots[5222] = b.slots[5222];
	}
	assert_int_equal(pw_report_build(&rep, &d, &acc), 0);
	assert_int_equal(rep.ranges[0].packets, 3ull << 31);
	pw_report_free(&rep);
	pw_decls_free(&d);
	pw_snapshot_free(&a);
	pw_snapshot_free(&b);
	pw_snapshot_free(&acc);
}

static char *render_json(const struct pw_report *rep)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	pw_report_print_json(f, rep);
	fclose(f);
	return buf;
}

static void test_json_is_the_documented_contract(void **state)
{
	struct pw_snapshot b;
	struct pw_decls d = {};
	struct pw_report rep = {};
	char *json;

	(void)state;
	assert_int_equal(pw_snapshot_alloc(&b), 0);
	decls(&d, "3478:3480/udp", "443/udp");
	slot(&b, PW_PROTO_UDP, 3480)->unsolicited = 4;
	slot(&b, PW_PROTO_UDP, 3480)->bytes = 400;
	slot(&b, PW_PROTO_UDP, 3478)->unsolicited = 1;
	slot(&b, PW_PROTO_UDP, 3478)->replies = 2;
	slot(&b, PW_PROTO_UDP, 3478)->bytes = 90;
	/* Drops traced: 3478's one packet refused, 3480's delivered. */
	b.drops_traced = true;
	slot(&b, PW_PROTO_UDP, 3478)->index1 = 1;
	slot(&b, PW_PROTO_UDP, 3480)->index1 = 3;
	b.drops[0].no_listener = 1;
	b.drops[0].refused = 1;		/* its ICMP port unreachable */
	b.stats[PW_STAT_FRAGMENTS] = 5;
	b.stats[PW_STAT_MALFORMED] = 6;
	assert_int_equal(pw_report_build(&rep, &d, &b), 0);
	snprintf(rep.iface, sizeof(rep.iface), "eth0");
	rep.mode = "tc";
	rep.duration_s = 30;
	json = render_json(&rep);
	assert_string_equal(json,
		"{\"interface\":\"eth0\",\"mode\":\"tc\",\"duration_s\":30.000,\"ok\":true,"
		"\"ranges\":["
		"{\"service\":\"svc\",\"proto\":\"udp\",\"first\":3478,\"last\":3480,"
		"\"required\":true,\"ports_declared\":3,\"ports_hit\":2,\"packets\":5,"
		"\"replies\":2,\"bytes\":490,\"status\":\"reached\",\"hit_ports\":[3478,3480],"
		"\"delivered\":4,\"firewall_dropped\":0,\"no_listener\":1,\"other_drops\":{},"
		"\"refusals_sent\":1,\"ports_by_status\":{\"reached\":[3480],\"no-listener\":[3478],\"blocked-host-firewall\":[]}},"
		"{\"service\":\"svc\",\"proto\":\"udp\",\"first\":443,\"last\":443,"
		"\"required\":false,\"ports_declared\":1,\"ports_hit\":0,\"packets\":0,"
		"\"replies\":0,\"bytes\":0,\"status\":\"silent\",\"hit_ports\":[],"
		"\"delivered\":0,\"firewall_dropped\":0,\"no_listener\":0,\"other_drops\":{},"
		"\"refusals_sent\":0,\"ports_by_status\":{\"reached\":[],\"no-listener\":[],\"blocked-host-firewall\":[]}}"
		"],\"fragments\":5,\"malformed\":6,\"drops_traced\":true,\"strict\":false}\n");
	free(json);
	pw_report_free(&rep);
	/* Untraced, the drop counts are unknown, not zero. */
	b.drops_traced = false;
	assert_int_equal(pw_report_build(&rep, &d, &b), 0);
	json = render_json(&rep);
	assert_non_null(strstr(json, "\"status\":\"reached\",\"hit_ports\":[3478,3480],"
				     "\"delivered\":null,\"firewall_dropped\":null,"
				     "\"no_listener\":null,\"other_drops\":null,"));
	assert_non_null(strstr(json, "\"drops_traced\":false"));
	free(json);
	pw_report_free(&rep);
	pw_decls_free(&d);
	pw_snapshot_free(&b);
}

static void test_json_strings_escape_hostile_names(void **state)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	(void)state;
	pw_json_write_string(f, "a\"b\\c\x01\x7f caf\xc3\xa9 \xff\xc3 \xe2\x82");
	fclose(f);
	assert_string_equal(buf,
		"\"a\\\"b\\\\c\\u0001\\u007f caf\xc3\xa9 \\ufffd\\ufffd \\ufffd\\ufffd\"");
	free(buf);
}

static void test_last_seen_reads_as_ago(void **state)
{
	char buf[32];

	(void)state;
	pw_format_ago(0, 100, buf, sizeof(buf));
	assert_string_equal(buf, "-");
	pw_format_ago(1000000000ull, 5000000000ull, buf, sizeof(buf));
	assert_string_equal(buf, "4s ago");
	pw_format_ago(1, 600000000001ull, buf, sizeof(buf));
	assert_string_equal(buf, "10m ago");
	pw_format_ago(5, 1, buf, sizeof(buf));	/* clock skew: never negative */
	assert_string_equal(buf, "0s ago");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_deltas_hits_and_order_over_a_window),
		cmocka_unit_test(test_optional_silent_range_does_not_fail),
		cmocka_unit_test(test_32_bit_wraps_between_reads_lose_nothing),
		cmocka_unit_test(test_json_is_the_documented_contract),
		cmocka_unit_test(test_json_strings_escape_hostile_names),
		cmocka_unit_test(test_last_seen_reads_as_ago),
	};

	return cmocka_run_group_tests_name("report", tests, NULL, NULL);
}
