// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* What a refused load says: the program the verifier refused and its
 * log's last lines, told from a load refused before any program was
 * checked (privilege), from libbpf's captured warnings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include "kernel.h"

/* As libbpf 1.1 words a refusal: its own log buffer, printed whole. */
static const char refused[] =
	"prog 'pw_kfree_skb': BPF program load failed: Permission denied\n"
	"prog 'pw_kfree_skb': -- BEGIN PROG LOAD LOG --\n"
	"reg type unsupported for arg#0 function pw_kfree_skb#42\n"
	"0: R1=ctx(off=0,imm=0) R10=fp0\n"
	"; l3_len = (__s64)skb->len + (skb->data - head) - nh;\n"
	"256: (1f) r2 -= r3\n"
	"258: (0f) r2 += r3\n"
	"R2 pointer += pointer prohibited\n"
	"processed 151 insns (limit 1000000) max_states_per_insn 0 total_states 12\n"
	"-- END PROG LOAD LOG --\n"
	"prog 'pw_kfree_skb': failed to load: -13\n"
	"failed to load object 'portwitness'\n";

static void test_a_refusal_names_the_program_and_the_verifiers_last_lines(void **state)
{
	char prog[64], tail[512];

	(void)state;
	assert_true(pw_load_refusal(refused, prog, sizeof(prog), tail, sizeof(tail), 3));
	assert_string_equal(prog, "pw_kfree_skb");
	assert_string_equal(tail, "258: (0f) r2 += r3\n"
				  "R2 pointer += pointer prohibited\n"
				  "processed 151 insns (limit 1000000) max_states_per_insn 0 total_states 12");
}

static void test_the_last_refusal_is_the_one_named(void **state)
{
	char both[2048], prog[64], tail[512];

	(void)state;
	snprintf(both, sizeof(both),
		 "prog 'pw_tc_ingr_ct': -- BEGIN PROG LOAD LOG --\nR1 invalid mem access 'scalar'\n"
		 "-- END PROG LOAD LOG --\n%s", refused);
	assert_true(pw_load_refusal(both, prog, sizeof(prog), tail, sizeof(tail), 1));
	assert_string_equal(prog, "pw_kfree_skb");
	assert_string_equal(tail, "processed 151 insns (limit 1000000) max_states_per_insn 0 total_states 12");
}

static void test_a_load_refused_before_any_check_has_no_verifier_log(void **state)
{
	static const char eperm[] =
		"map 'pw_counts': failed to create: Operation not permitted(-1)\n"
		"failed to load object 'portwitness'\n";
	static const char tracer[] =
		"prog 'pw_kfree_skb': BPF program load failed: Operation not permitted\n"
		"prog 'pw_kfree_skb': failed to load: -1\n"
		"failed to load object 'portwitness'\n";
	char prog[64], tail[512];

	(void)state;
	assert_false(pw_load_refusal(eperm, prog, sizeof(prog), tail, sizeof(tail), 8));
	assert_string_equal(prog, "");
	assert_non_null(strstr(tail, "Operation not permitted"));
	/* A program libbpf names without a log: which one, all the same. */
	assert_false(pw_load_refusal(tracer, prog, sizeof(prog), tail, sizeof(tail), 8));
	assert_string_equal(prog, "pw_kfree_skb");
	assert_false(pw_load_refusal("", prog, sizeof(prog), tail, sizeof(tail), 8));
	assert_string_equal(prog, "");
	assert_string_equal(tail, "");
}

static void test_a_short_buffer_cuts_safely(void **state)
{
	char prog[4], tail[16];

	(void)state;
	assert_true(pw_load_refusal(refused, prog, sizeof(prog), tail, sizeof(tail), 8));
	assert_string_equal(prog, "pw_");
	assert_int_equal(strlen(tail), sizeof(tail) - 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_a_refusal_names_the_program_and_the_verifiers_last_lines),
		cmocka_unit_test(test_the_last_refusal_is_the_one_named),
		cmocka_unit_test(test_a_load_refused_before_any_check_has_no_verifier_log),
		cmocka_unit_test(test_a_short_buffer_cuts_safely),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
