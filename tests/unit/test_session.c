// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* What a session keeps up between reads: the conntrack window's end. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <time.h>
#include <cmocka.h>
#include "instance.h"

static __u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (__u64)ts.tv_sec * 1000000000ull + (__u64)ts.tv_nsec;
}

static void test_the_ct_window_ends_once_passed(void **state)
{
	struct pw_session s = { 0 };
	__u64 later, wake;

	(void)state;
	s.decl = calloc(1, sizeof(*s.decl));
	assert_non_null(s.decl);

	/* Still open: the programs keep asking conntrack, and the caller
	 * is to come back just after the end. */
	later = now_ns() + 60 * 1000000000ull;
	s.decl->ct_udp_until_ns = later;
	wake = pw_session_ct_window_tick(&s);
	assert_true(s.decl->ct_udp_until_ns == later);
	assert_true(wake > later && wake < later + 1000000000ull);

	/* Passed: 0, so that a new flow no longer reads the clock. */
	s.decl->ct_udp_until_ns = now_ns() - 1000000000ull;
	assert_true(pw_session_ct_window_tick(&s) == 0);
	assert_true(s.decl->ct_udp_until_ns == 0);

	/* Closed stays closed. */
	assert_true(pw_session_ct_window_tick(&s) == 0);
	assert_true(s.decl->ct_udp_until_ns == 0);
	free(s.decl);

	/* A session without its maps mapped is passed over. */
	s.decl = NULL;
	assert_true(pw_session_ct_window_tick(&s) == 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_the_ct_window_ends_once_passed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
