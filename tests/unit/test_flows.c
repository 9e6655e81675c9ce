// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The flow hash and pw_seen's sets (include/pw_flows.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <pthread.h>
#include "pw_flows.h"

/* The flows of a call server: many clients behind few addresses, ports in
 * a row. They must spread over the sets as randomly placed ones would:
 * for n flows over S sets, about S (1 - e^(-n/S)) sets taken, and none
 * with more flows than ways. */
static void test_flows_spread_over_the_sets(void **state)
{
	static uint8_t load[PW_SEEN_SETS];
	struct pw_flow_key k;
	unsigned i, used = 0, fuller = 0, n = 4096;
	__u32 idx;

	(void)state;
	memset(load, 0, sizeof(load));
	for (i = 0; i < n; i++) {
		memset(&k, 0, sizeof(k));
		k.remote_addr[2] = htonl(0xffff);
		k.remote_addr[3] = htonl(0xc6120000u | (i % 8));	/* 198.18.0.0-7 */
		k.local_port = htons((uint16_t)(50000 + i / 8 * 20));
		k.remote_port = htons((uint16_t)(20000 + i));
		k.proto = 17;
		idx = pw_seen_index(pw_flow_key_hash(&k));
		assert_in_range(idx, 0, PW_SEEN_SETS - 1);
		used += !load[idx]++;
		fuller += load[idx] == PW_SEEN_WAYS + 1;
	}
	/* Random placement: 3,223 of 8,192 (sd about 25); sets in a
	 * quarter of the table would give about 1,771. */
	assert_in_range(used, 3150, n);
	assert_int_equal(fuller, 0);
}

/* Distinct hashes as the programs make them (two low bits 0). */
static __u64 h_of(unsigned i)
{
	struct pw_flow_key k = { .local_port = htons(50000), .proto = 17 };

	k.remote_addr[3] = htonl(0xc6120000u + i);
	k.remote_port = htons((uint16_t)(1024 + i));
	return pw_flow_key_hash(&k);
}

static unsigned kept_count(const struct pw_seen_set *s)
{
	unsigned i, n = 0;

	for (i = 0; i < PW_SEEN_WAYS; i++)
		n += pw_seen_kept(s->way[i]);
	return n;
}

/* Seven flows in seven ways, each told apart, whatever its state. */
static void test_a_set_holds_seven_flows(void **state)
{
	struct pw_seen_set s = { 0 };
	unsigned i;

	(void)state;
	for (i = 0; i < PW_SEEN_WAYS; i++)
		pw_seen_put(&s, h_of(i), 1 + i % 3);
	for (i = 0; i < PW_SEEN_WAYS; i++)
		assert_int_equal(pw_seen_find(&s, h_of(i)), 1 + i % 3);
	assert_int_equal(pw_seen_find(&s, h_of(100)), 0);
	assert_int_equal(s.flags, 0);
}

/* A flood from outside into a set of this host's flows: marked nowhere,
 * and every kept flow stays; a remote mark never downgrades its own
 * flow's kept state, and a kept state replaces its own remote mark. */
static void test_a_remote_mark_never_takes_a_kept_way(void **state)
{
	struct pw_seen_set s = { 0 };
	unsigned i;

	(void)state;
	for (i = 0; i < PW_SEEN_WAYS; i++)
		pw_seen_put(&s, h_of(i), i % 2 ? PW_SEEN_LOCAL : PW_SEEN_ANSWERED);
	for (i = 100; i < 1100; i++)
		pw_seen_put(&s, h_of(i), PW_SEEN_REMOTE);
	for (i = 0; i < PW_SEEN_WAYS; i++)
		assert_int_equal(pw_seen_find(&s, h_of(i)),
				 i % 2 ? PW_SEEN_LOCAL : PW_SEEN_ANSWERED);
	assert_int_equal(s.flags, 0);
	pw_seen_put(&s, h_of(3), PW_SEEN_REMOTE);
	assert_int_equal(pw_seen_find(&s, h_of(3)), PW_SEEN_LOCAL);

	memset(&s, 0, sizeof(s));
	pw_seen_put(&s, h_of(1), PW_SEEN_REMOTE);
	pw_seen_put(&s, h_of(1), PW_SEEN_ANSWERED);
	assert_int_equal(pw_seen_find(&s, h_of(1)), PW_SEEN_ANSWERED);
	assert_int_equal(kept_count(&s), 1);
	assert_int_equal(s.way[0] | s.way[1] | s.way[2] | s.way[3] | s.way[4] |
			 s.way[5] | s.way[6], h_of(1) | PW_SEEN_ANSWERED);
}

/* Where a flow goes: an empty way first, then a remote one; a kept one
 * only when all seven are kept, and then the set is marked, after which
 * a remote mark may take a kept way too (pw_flows still has it). */
static void test_ways_are_taken_empty_then_remote_then_kept(void **state)
{
	struct pw_seen_set s = { 0 };
	unsigned i;

	(void)state;
	for (i = 0; i < PW_SEEN_WAYS - 1; i++)
		pw_seen_put(&s, h_of(i), PW_SEEN_REMOTE);
	pw_seen_put(&s, h_of(10), PW_SEEN_LOCAL);		/* the empty way */
	for (i = 0; i < PW_SEEN_WAYS - 1; i++)
		assert_int_equal(pw_seen_find(&s, h_of(i)), PW_SEEN_REMOTE);
	for (i = 11; i < 11 + PW_SEEN_WAYS - 1; i++)	/* over the remote ones */
		pw_seen_put(&s, h_of(i), PW_SEEN_LOCAL);
	assert_int_equal(kept_count(&s), PW_SEEN_WAYS);
	assert_int_equal(s.flags, 0);
	for (i = 10; i < 11 + PW_SEEN_WAYS - 1; i++)
		assert_int_equal(pw_seen_find(&s, h_of(i)), PW_SEEN_LOCAL);

	pw_seen_put(&s, h_of(20), PW_SEEN_ANSWERED);	/* an eighth kept flow */
	assert_int_equal(s.flags, PW_SEEN_OVERFLOW);
	assert_int_equal(pw_seen_find(&s, h_of(20)), PW_SEEN_ANSWERED);
	assert_int_equal(kept_count(&s), PW_SEEN_WAYS);
	pw_seen_put(&s, h_of(21), PW_SEEN_REMOTE);	/* marked: it may */
	assert_int_equal(pw_seen_find(&s, h_of(21)), PW_SEEN_REMOTE);
	assert_int_equal(kept_count(&s), PW_SEEN_WAYS - 1);
}

/* In a set of remote marks, the one a new flow replaces is as good as
 * random: a flow's mark lasts about seven new flows, not one. */
static void test_replaced_remote_ways_are_spread(void **state)
{
	struct pw_seen_set s = { 0 };
	unsigned hits[PW_SEEN_WAYS] = { 0 }, i, w;
	__u64 before[PW_SEEN_WAYS];

	(void)state;
	for (i = 0; i < PW_SEEN_WAYS; i++)
		pw_seen_put(&s, h_of(i), PW_SEEN_REMOTE);
	for (i = 100; i < 1500; i++) {
		memcpy(before, s.way, sizeof(before));
		pw_seen_put(&s, h_of(i), PW_SEEN_REMOTE);
		for (w = 0; w < PW_SEEN_WAYS; w++)
			hits[w] += before[w] != s.way[w];
	}
	/* 200 each expected (sd about 13) */
	for (w = 0; w < PW_SEEN_WAYS; w++)
		assert_in_range(hits[w], 140, 260);
}

/* Two CPUs writing one set: this host's flows on one, a flood on the
 * other. Every kept flow must be in the set afterwards, or the set
 * marked (then pw_flows has it): a write never replaces a way it did not
 * see. Bounded: ROUNDS rounds, each a few microseconds. */
#define ROUNDS 20000
static struct pw_seen_set race_set;
static volatile unsigned race_round, race_done[2];

static void *race_flood(void *arg)
{
	unsigned r, i;

	(void)arg;
	for (r = 1; r <= ROUNDS; r++) {
		while (race_round != r)
			;
		for (i = 0; i < 40; i++)
			pw_seen_put(&race_set, h_of(1000 + r * 64 + i), PW_SEEN_REMOTE);
		__sync_synchronize();
		race_done[1] = r;
	}
	return NULL;
}

static void test_racing_writes_lose_no_kept_flow(void **state)
{
	unsigned r, i, lost = 0, marked = 0;
	pthread_t t;

	(void)state;
	race_round = 0;
	assert_int_equal(pthread_create(&t, NULL, race_flood, NULL), 0);
	for (r = 1; r <= ROUNDS; r++) {
		memset(&race_set, 0, sizeof(race_set));
		for (i = 0; i < 3; i++)	/* remote marks to compete with */
			pw_seen_put(&race_set, h_of(500 + i), PW_SEEN_REMOTE);
		__sync_synchronize();
		race_round = r;
		for (i = 0; i < 4; i++)
			pw_seen_put(&race_set, h_of(i + r % 7), PW_SEEN_LOCAL);
		while (race_done[1] != r)
			;
		__sync_synchronize();
		if (race_set.flags & PW_SEEN_OVERFLOW) {
			marked++;
			continue;
		}
		for (i = 0; i < 4; i++)
			lost += pw_seen_find(&race_set, h_of(i + r % 7)) != PW_SEEN_LOCAL;
	}
	pthread_join(t, NULL);
	if (lost)
		fail_msg("%u kept flows lost without a mark in %u rounds (%u marked)",
			 lost, ROUNDS, marked);
}

static void test_an_entry_tells_its_flow_and_state(void **state)
{
	struct pw_flow_key a = { .local_port = htons(50000), .remote_port = htons(1),
				 .proto = 17 }, b = a;
	__u64 ha, hb;

	(void)state;
	b.remote_port = htons(2);
	ha = pw_flow_key_hash(&a);
	hb = pw_flow_key_hash(&b);
	assert_true((ha & PW_SEEN_STATE_MASK) == 0);
	assert_int_equal(pw_seen_state(ha | PW_SEEN_LOCAL, ha), PW_SEEN_LOCAL);
	assert_int_equal(pw_seen_state(ha | PW_SEEN_REMOTE, ha), PW_SEEN_REMOTE);
	assert_int_equal(pw_seen_state(ha | PW_SEEN_ANSWERED, ha), PW_SEEN_ANSWERED);
	/* another flow's entry, and an empty one, say nothing */
	assert_int_equal(pw_seen_state(hb | PW_SEEN_LOCAL, ha), 0);
	assert_int_equal(pw_seen_state(0, ha), 0);
	assert_int_equal(pw_seen_state(0, 0), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_flows_spread_over_the_sets),
		cmocka_unit_test(test_an_entry_tells_its_flow_and_state),
		cmocka_unit_test(test_a_set_holds_seven_flows),
		cmocka_unit_test(test_a_remote_mark_never_takes_a_kept_way),
		cmocka_unit_test(test_ways_are_taken_empty_then_remote_then_kept),
		cmocka_unit_test(test_replaced_remote_ways_are_spread),
		cmocka_unit_test(test_racing_writes_lose_no_kept_flow),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
