// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The flow hash and pw_seen's entries (include/pw_flows.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include "pw_flows.h"

/* The flows of a call server: many clients behind few addresses, ports in
 * a row. Two flows on one entry cost a hit each time (docs/design.md),
 * so they must spread as randomly placed ones would: for n flows over E
 * entries, about E (1 - e^(-n/E)) entries taken. */
static void test_flows_spread_over_the_entries(void **state)
{
	static uint8_t taken[PW_SEEN_ENTRIES];
	struct pw_flow_key k;
	unsigned i, used = 0, n = 4096;

	(void)state;
	memset(taken, 0, sizeof(taken));
	for (i = 0; i < n; i++) {
		memset(&k, 0, sizeof(k));
		k.remote_addr[2] = htonl(0xffff);
		k.remote_addr[3] = htonl(0xc6120000u | (i % 8));	/* 198.18.0.0-7 */
		k.local_port = htons((uint16_t)(50000 + i / 8 * 20));
		k.remote_port = htons((uint16_t)(20000 + i));
		k.proto = 17;
		used += !taken[pw_seen_index(pw_flow_key_hash(&k))]++;
	}
	/* Random placement: 3,969 of 65,536 (sd about 7); entries in a
	 * quarter of the table would give about 3,625. */
	assert_in_range(used, 3930, n);
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
		cmocka_unit_test(test_flows_spread_over_the_entries),
		cmocka_unit_test(test_an_entry_tells_its_flow_and_state),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
