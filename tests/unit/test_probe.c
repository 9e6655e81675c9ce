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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_a_sample_is_even_with_both_ends),
		cmocka_unit_test(test_a_port_is_probed_once_per_protocol),
		cmocka_unit_test(test_tokens_and_the_datagram),
	};

	return cmocka_run_group_tests_name("probe", tests, NULL, NULL);
}
