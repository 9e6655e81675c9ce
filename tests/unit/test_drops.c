// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* What became of unsolicited packets: drop reasons by name from BTF, the
 * status order, per-range and per-port fates over a window, the exit
 * rules (--strict, optional ranges) and how they are printed. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <bpf/btf.h>
#include "counters.h"
#include "drops.h"
#include "report.h"

/* A BTF with enum skb_drop_reason of the given names and values. */
static struct btf *reason_btf(const char *const *names, const int *vals, int n)
{
	struct btf *btf = btf__new_empty();
	int i;

	assert_non_null(btf);
	assert_true(btf__add_enum(btf, "skb_drop_reason", 4) > 0);
	for (i = 0; i < n; i++)
		assert_int_equal(btf__add_enum_value(btf, names[i], vals[i]), 0);
	return btf;
}

static void test_reasons_are_resolved_by_name_not_number(void **state)
{
	/* Numbers unlike any kernel's: only the names can say. */
	static const char *const names[] = {
		"SKB_NOT_DROPPED_YET", "SKB_CONSUMED",
		"SKB_DROP_REASON_NOT_SPECIFIED", "SKB_DROP_REASON_NETFILTER_DROP",
		"SKB_DROP_REASON_IP_RPFILTER", "SKB_DROP_REASON_NO_SOCKET",
		"SKB_DROP_REASON_SOCKET_RCVBUFF", "SKB_DROP_REASON_MAX",
	};
	static const int vals[] = { 0, 1, 2, 41, 17, 90, 3, 200 };
	struct btf *btf = reason_btf(names, vals, 8);
	uint8_t cls[PW_DROP_REASONS];
	char buf[64];

	(void)state;
	assert_int_equal(pw_drop_classes(btf, cls), 0);
	assert_int_equal(cls[0], PW_DROP_IGNORE);
	assert_int_equal(cls[1], PW_DROP_IGNORE);
	assert_int_equal(cls[2], PW_DROP_OTHER);
	assert_int_equal(cls[41], PW_DROP_FIREWALL);
	assert_int_equal(cls[17], PW_DROP_OTHER);
	assert_int_equal(cls[90], PW_DROP_NO_LISTENER);
	assert_int_equal(cls[3], PW_DROP_OTHER);
	assert_int_equal(cls[200], PW_DROP_IGNORE);	/* MAX is no reason */
	assert_int_equal(cls[5], PW_DROP_IGNORE);	/* no such value */
	/* The names are kept, the BTF is not. */
	pw_drop_reasons_from(btf);
	btf__free(btf);
	assert_int_equal(pw_drop_reasons_load(cls), 0);
	assert_int_equal(cls[41], PW_DROP_FIREWALL);
	assert_string_equal(pw_drop_reason_name(41, buf, sizeof(buf)),
			    "netfilter_drop");
	assert_string_equal(pw_drop_reason_name(17, buf, sizeof(buf)),
			    "ip_rpfilter");
	assert_string_equal(pw_drop_reason_name(1, buf, sizeof(buf)),
			    "consumed");
	assert_string_equal(pw_drop_reason_name(65539, buf, sizeof(buf)),
			    "reason_65539");
	/* Cut to the buffer, still a string. */
	assert_string_equal(pw_drop_reason_name(3, buf, 7), "socket");
	pw_drop_reasons_from(NULL);
	assert_int_equal(pw_drop_reasons_load(cls), -ENOENT);
	assert_string_equal(pw_drop_reason_name(3, buf, sizeof(buf)),
			    "reason_3");
}

static void test_a_kernel_without_the_two_reasons_is_not_traced(void **state)
{
	static const char *const names[] = {
		"SKB_DROP_REASON_NOT_SPECIFIED", "SKB_DROP_REASON_NETFILTER_DROP",
	};
	static const int vals[] = { 2, 3 };
	struct btf *btf = reason_btf(names, vals, 2);
	struct btf *none = btf__new_empty();
	uint8_t cls[PW_DROP_REASONS];
	size_t i;

	(void)state;
	assert_int_equal(pw_drop_classes(btf, cls), -ENOENT);
	for (i = 0; i < PW_DROP_REASONS; i++)
		assert_int_equal(cls[i], PW_DROP_IGNORE);
	assert_int_equal(pw_drop_classes(none, cls), -ENOENT);
	btf__free(btf);
	btf__free(none);
}

static void test_status_is_the_worst_that_explains_every_packet(void **state)
{
	(void)state;
	assert_int_equal(pw_status_of(0, 0, 0, 0, true), PW_STATUS_SILENT);
	assert_int_equal(pw_status_of(0, 5, 0, 0, true), PW_STATUS_SILENT);
	assert_int_equal(pw_status_of(5, 5, 0, 0, true), PW_STATUS_BLOCKED);
	/* Dropped on the host for another reason before any socket. */
	assert_int_equal(pw_status_of(5, 0, 0, 5, true), PW_STATUS_BLOCKED);
	assert_int_equal(pw_status_of(5, 3, 2, 0, true), PW_STATUS_NO_LISTENER);
	assert_int_equal(pw_status_of(5, 0, 5, 0, true), PW_STATUS_NO_LISTENER);
	assert_int_equal(pw_status_of(5, 2, 2, 0, true), PW_STATUS_REACHED);
	assert_int_equal(pw_status_of(5, 0, 0, 0, true), PW_STATUS_REACHED);
	/* Without drop tracing, arriving is all it can tell. */
	assert_int_equal(pw_status_of(5, 5, 0, 0, false), PW_STATUS_REACHED);
	assert_int_equal(pw_status_of(0, 0, 0, 0, false), PW_STATUS_SILENT);
}

/* A declared port with its dense index and counts. */
static struct pw_slot_total *port(struct pw_snapshot *s, enum pw_proto p,
				  unsigned int n, uint16_t index1)
{
	struct pw_slot_total *t = &s->slots[p * PW_PORTS_PER_PROTO + n];

	t->declared = true;
	t->index1 = index1;
	return t;
}

static void add_reason(struct pw_snapshot *s, uint32_t index, uint32_t reason,
		       uint64_t count)
{
	struct pw_reason_count *r = &s->reasons[s->n_reasons++];

	r->index = index;
	r->reason = reason;
	r->count = count;
}

static void decl(struct pw_decls *d, const char *name, const char *spec,
		 bool required)
{
	char err[PW_ERR_MAX];

	assert_int_equal(pw_decls_add_spec(d, name, spec, required, "t", err,
					   sizeof(err)), 0);
}

/* Before: earlier drops that must not count; after: the window's. */
static void window(struct pw_snapshot *a, struct pw_snapshot *b)
{
	unsigned int p;

	assert_int_equal(pw_snapshot_alloc(a), 0);
	assert_int_equal(pw_snapshot_alloc(b), 0);
	a->drops_traced = b->drops_traced = true;
	/* media 50000-50099/udp: 50000 delivered, 50001 no listener, 50002
	 * dropped by the firewall, 50003 dropped for rp_filter (17) */
	for (p = 0; p < 4; p++) {
		port(a, PW_PROTO_UDP, 50000 + p, (uint16_t)(p + 1));
		port(b, PW_PROTO_UDP, 50000 + p, (uint16_t)(p + 1))->unsolicited = 4;
	}
	a->drops[1].no_listener = 7;		/* before the window */
	b->drops[1].no_listener = 11;
	b->drops[2].firewall = 4;
	a->drops[3].other = 1;
	add_reason(a, 3, 17, 1);
	b->drops[3].other = 5;
	add_reason(b, 3, 17, 5);
	/* 5222/tcp: refused, nothing delivered; 5223/tcp (outside every
	 * range) has drops that must not leak in. */
	port(b, PW_PROTO_TCP, 5222, 5)->unsolicited = 3;
	b->drops[4].no_listener = 3;
	port(b, PW_PROTO_TCP, 5223, 6)->unsolicited = 2;
	b->drops[5].other = 2;
	add_reason(b, 5, 17, 2);
	/* 5280/tcp: firewall; 5281/tcp: dropped for two other reasons */
	port(b, PW_PROTO_TCP, 5280, 7)->unsolicited = 2;
	b->drops[6].firewall = 2;
	port(b, PW_PROTO_TCP, 5281, 8)->unsolicited = 3;
	b->drops[7].other = 3;
	add_reason(b, 7, 2, 1);
	add_reason(b, 7, 30, 2);
}

static void test_each_range_and_port_gets_its_fate(void **state)
{
	struct pw_snapshot a, b, acc;
	struct pw_decls d = {};
	struct pw_report rep = {};
	const struct pw_range_result *r;

	(void)state;
	window(&a, &b);
	assert_int_equal(pw_snapshot_alloc(&acc), 0);
	decl(&d, "media", "50000:50099/udp", true);
	decl(&d, "xmpp", "5222/tcp", true);
	decl(&d, "web", "5280:5281/tcp", true);
	decl(&d, "quiet", "3478/udp", false);
	pw_snapshot_accumulate(&acc, &a, &b);
	assert_true(acc.drops_traced);
	assert_int_equal(pw_report_build(&rep, &d, &acc), 0);
	assert_true(rep.drops_traced);

	r = &rep.ranges[0];
	assert_int_equal(r->packets, 16);
	assert_int_equal(r->no_listener, 4);
	assert_int_equal(r->firewall_dropped, 4);
	assert_int_equal(r->other_drops, 4);
	assert_int_equal(r->delivered, 4);
	assert_int_equal(r->status, PW_STATUS_REACHED);
	assert_string_equal(pw_range_status(r), "reached");
	assert_int_equal(r->n_by[PW_STATUS_REACHED], 1);
	assert_int_equal(r->ports_by[PW_STATUS_REACHED][0], 50000);
	assert_int_equal(r->n_by[PW_STATUS_NO_LISTENER], 1);
	assert_int_equal(r->ports_by[PW_STATUS_NO_LISTENER][0], 50001);
	assert_int_equal(r->n_by[PW_STATUS_BLOCKED], 2);
	assert_int_equal(r->ports_by[PW_STATUS_BLOCKED][0], 50002);
	assert_int_equal(r->ports_by[PW_STATUS_BLOCKED][1], 50003);
	assert_int_equal(r->n_other_reasons, 1);
	assert_int_equal(r->other_reasons[0].reason, 17);
	assert_int_equal(r->other_reasons[0].count, 4);	/* 5 - 1 before */
	assert_false(r->warn);
	assert_false(r->fails);

	r = &rep.ranges[1];
	assert_int_equal(r->status, PW_STATUS_NO_LISTENER);
	assert_string_equal(pw_range_status(r), "no-listener");
	assert_int_equal(r->n_other_reasons, 0);	/* 5223's stay out */
	assert_true(r->warn);			/* one port: the service is down */
	assert_false(r->fails);

	r = &rep.ranges[2];
	assert_int_equal(r->status, PW_STATUS_BLOCKED);
	assert_string_equal(pw_range_status(r), "blocked-host-firewall");
	assert_int_equal(r->delivered, 0);
	assert_int_equal(r->n_other_reasons, 2);	/* most first */
	assert_int_equal(r->other_reasons[0].reason, 30);
	assert_int_equal(r->other_reasons[0].count, 2);
	assert_int_equal(r->other_reasons[1].reason, 2);
	assert_true(r->fails);

	assert_int_equal(rep.ranges[3].status, PW_STATUS_SILENT);
	assert_false(rep.ranges[3].fails);	/* optional */
	assert_false(rep.ok);
	pw_report_free(&rep);

	/* Without the blocked range it passes; --strict fails on the
	 * service port with no listener, never on the 100-port range. */
	pw_decls_free(&d);
	decl(&d, "media", "50000:50099/udp", true);
	decl(&d, "xmpp", "5222/tcp", true);
	assert_int_equal(pw_report_build(&rep, &d, &acc), 0);
	assert_true(rep.ok);
	pw_report_free(&rep);
	rep.strict = true;
	assert_int_equal(pw_report_build(&rep, &d, &acc), 0);
	assert_false(rep.ok);
	assert_false(rep.ranges[0].fails);
	assert_true(rep.ranges[1].fails);
	pw_report_free(&rep);
	/* An optional service port with no listener warns, never fails. */
	pw_decls_free(&d);
	decl(&d, "xmpp", "5222/tcp", false);
	assert_int_equal(pw_report_build(&rep, &d, &acc), 0);
	assert_true(rep.ok);
	assert_true(rep.ranges[0].warn);
	pw_report_free(&rep);
	pw_decls_free(&d);
	pw_snapshot_free(&a);
	pw_snapshot_free(&b);
	pw_snapshot_free(&acc);
}

/* Reasons seen for the first time in a later read, and pairs that grow
 * over several reads, add up; the accumulated list stays sorted. */
static void test_reason_pairs_accumulate_over_reads(void **state)
{
	struct pw_snapshot s[3], acc;
	int i;

	(void)state;
	for (i = 0; i < 3; i++)
		assert_int_equal(pw_snapshot_alloc(&s[i]), 0);
	assert_int_equal(pw_snapshot_alloc(&acc), 0);
	add_reason(&s[0], 2, 9, 1);
	add_reason(&s[1], 1, 4, 3);
	add_reason(&s[1], 2, 9, 4);
	add_reason(&s[2], 1, 4, 3);
	add_reason(&s[2], 1, 5, 1);
	add_reason(&s[2], 2, 9, 10);
	pw_snapshot_accumulate(&acc, &s[0], &s[1]);
	pw_snapshot_accumulate(&acc, &s[1], &s[2]);
	assert_int_equal(acc.n_reasons, 3);
	assert_int_equal(acc.reasons[0].index, 1);
	assert_int_equal(acc.reasons[0].reason, 4);
	assert_int_equal(acc.reasons[0].count, 3);
	assert_int_equal(acc.reasons[1].reason, 5);
	assert_int_equal(acc.reasons[1].count, 1);
	assert_int_equal(acc.reasons[2].index, 2);
	assert_int_equal(acc.reasons[2].count, 9);
	for (i = 0; i < 3; i++)
		pw_snapshot_free(&s[i]);
	pw_snapshot_free(&acc);
}

static char *print(void (*fn)(FILE *, const struct pw_report *),
		   const struct pw_report *rep)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	fn(f, rep);
	fclose(f);
	return buf;
}

static void test_problems_and_warnings_are_named(void **state)
{
	struct pw_snapshot a, b, acc;
	struct pw_decls d = {};
	struct pw_report rep = {};
	char *text;

	(void)state;
	window(&a, &b);
	assert_int_equal(pw_snapshot_alloc(&acc), 0);
	pw_snapshot_accumulate(&acc, &a, &b);
	decl(&d, "media", "50000:50099/udp", true);
	decl(&d, "xmpp", "5222/tcp", true);
	decl(&d, "web", "5280:5281/tcp", true);
	decl(&d, "turn", "3478/udp", true);
	decl(&d, "opt", "5222/tcp", false);
	assert_int_equal(pw_report_build(&rep, &d, &acc), 0);
	text = print(pw_report_print_problems, &rep);
	assert_string_equal(text, "; silent: turn 3478/udp; blocked-host-firewall: web 5280-5281/tcp; no-listener: xmpp 5222/tcp");
	free(text);
	text = print(pw_report_print_warnings, &rep);
	assert_string_equal(text,
		"warning: xmpp 5222/tcp: packets got past the firewall but nothing listens there: is the service down?\n"
		"warning: opt 5222/tcp: packets got past the firewall but nothing listens there: is the service down? (optional)\n");
	free(text);
	pw_report_free(&rep);
	pw_decls_free(&d);
	pw_snapshot_free(&a);
	pw_snapshot_free(&b);
	pw_snapshot_free(&acc);
}

static void test_port_lists_are_spans_cut_to_fit(void **state)
{
	uint16_t ports[600] = { 0 };
	char buf[64];
	size_t i;

	(void)state;
	pw_format_port_list(ports, 0, buf, sizeof(buf));
	assert_string_equal(buf, "");
	ports[0] = 80;
	ports[1] = 6000;
	ports[2] = 6001;
	ports[3] = 6002;
	ports[4] = 6050;
	pw_format_port_list(ports, 5, buf, sizeof(buf));
	assert_string_equal(buf, "80,6000-6002,6050");
	for (i = 0; i < 600; i++)
		ports[i] = (uint16_t)(10000 + 2 * i);	/* no two adjacent */
	pw_format_port_list(ports, 600, buf, sizeof(buf));
	assert_true(strlen(buf) < sizeof(buf));
	assert_non_null(strstr(buf, "10000,10002,"));
	assert_non_null(strstr(buf, " more"));
}

/* Refusals that left on egress count as no listener, never beyond what
 * arrived and was not dropped for another reason, never twice with the
 * tracer's NO_SOCKET drops of the same packets. */
static void test_refusals_sent_tell_no_listener(void **state)
{
	struct pw_port_drops d;

	(void)state;
	/* Dropped where the tracer does not look (a container): 3 RSTs. */
	d = (struct pw_port_drops){ .refused = 3 };
	assert_int_equal(pw_port_no_listener(3, &d), 3);
	assert_int_equal(pw_status_of(3, 0, pw_port_no_listener(3, &d), 0, true),
			 PW_STATUS_NO_LISTENER);
	/* The same, with one delivered: 2 refused. */
	d = (struct pw_port_drops){ .refused = 2 };
	assert_int_equal(pw_port_no_listener(3, &d), 2);
	/* Dropped here for NO_SOCKET and answered: not twice. */
	d = (struct pw_port_drops){ .no_listener = 4, .refused = 4 };
	assert_int_equal(pw_port_no_listener(4, &d), 4);
	/* ICMP rate-limited: the drops tell more than the answers. */
	d = (struct pw_port_drops){ .no_listener = 10, .refused = 2 };
	assert_int_equal(pw_port_no_listener(10, &d), 10);
	/* A firewall's reject answers what it dropped: no listener is 0. */
	d = (struct pw_port_drops){ .firewall = 2, .refused = 2 };
	assert_int_equal(pw_port_no_listener(2, &d), 0);
	assert_int_equal(pw_status_of(2, 2, pw_port_no_listener(2, &d), 0, true),
			 PW_STATUS_BLOCKED);
	/* More answers than arrivals (a window's edge): at most what came. */
	d = (struct pw_port_drops){ .refused = 9 };
	assert_int_equal(pw_port_no_listener(1, &d), 1);
	assert_int_equal(pw_port_no_listener(0, &d), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_refusals_sent_tell_no_listener),
		cmocka_unit_test(test_reasons_are_resolved_by_name_not_number),
		cmocka_unit_test(test_a_kernel_without_the_two_reasons_is_not_traced),
		cmocka_unit_test(test_status_is_the_worst_that_explains_every_packet),
		cmocka_unit_test(test_each_range_and_port_gets_its_fate),
		cmocka_unit_test(test_reason_pairs_accumulate_over_reads),
		cmocka_unit_test(test_problems_and_warnings_are_named),
		cmocka_unit_test(test_port_lists_are_spans_cut_to_fit),
	};

	return cmocka_run_group_tests_name("drops", tests, NULL, NULL);
}
