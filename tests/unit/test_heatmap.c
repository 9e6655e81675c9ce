// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* show --heatmap: how a range becomes rows of cells, how cells are
 * shaded, and the legend. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "heatmap.h"

static char *draw(const struct pw_range *r, const struct pw_snapshot *s,
		  unsigned width, bool utf8)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	assert_non_null(f);
	pw_heatmap_print(f, r, s, width, utf8);
	assert_int_equal(fclose(f), 0);
	return text;
}

/* Line n (from 0) of text, in buf. */
static const char *line(const char *text, int n, char *buf, size_t len)
{
	const char *e;

	while (n-- > 0 && text) {
		text = strchr(text, '\n');
		text = text ? text + 1 : NULL;
	}
	assert_non_null(text);
	e = strchr(text, '\n');
	snprintf(buf, len, "%.*s", (int)(e ? e - text : (long)strlen(text)), text);
	return buf;
}

static void test_a_large_range_in_buckets(void **state)
{
	struct pw_range r = { .service = "livekit", .proto = PW_PROTO_UDP,
			      .first = 50000, .last = 50999, .required = true };
	struct pw_snapshot s;
	char buf[256], *text;
	int n = 0;

	(void)state;
	assert_int_equal(pw_snapshot_alloc(&s), 0);
	s.slots[PW_PORTS_PER_PROTO + 50000].unsolicited = 1;
	s.slots[PW_PORTS_PER_PROTO + 50998].unsolicited = 1000;
	s.slots[PW_PORTS_PER_PROTO + 50999].unsolicited = 1000;
	s.slots[PW_PORTS_PER_PROTO + 51000].unsolicited = 99;	/* outside */
	s.slots[50500].unsolicited = 99;				/* tcp */
	/* 58 columns: 50 cells a row; 1000 ports in 16 rows of 50 needs
	 * two ports a cell, so 500 cells in 10 rows. */
	text = draw(&r, &s, 58, false);
	assert_string_equal(line(text, 0, buf, sizeof(buf)),
		"livekit 50000-50999/udp: 3 of 1000 ports hit, 2001 unsolicited packets; a cell is 2 ports");
	assert_string_equal(line(text, 1, buf, sizeof(buf)),
		"50000 |.                                                 ");
	assert_string_equal(line(text, 2, buf, sizeof(buf)),
		"50100 |                                                  ");
	assert_string_equal(line(text, 10, buf, sizeof(buf)),
		"50900 |                                                 #");
	assert_non_null(strstr(line(text, 11, buf, sizeof(buf)), "' ' none  '.' 1"));
	assert_non_null(strstr(buf, "(max 2000)"));
	for (const char *p = text; (p = strchr(p, '\n')); p++)
		n++;
	assert_int_equal(n, 12);
	free(text);
	pw_snapshot_free(&s);
}

static void test_a_small_range_a_port_a_cell(void **state)
{
	struct pw_range r = { .service = "turn", .proto = PW_PROTO_TCP,
			      .first = 5349, .last = 5356 };
	struct pw_snapshot s;
	char buf[256], *text;

	(void)state;
	assert_int_equal(pw_snapshot_alloc(&s), 0);
	/* Shades on a log scale up to the busiest: 1, 10, 100, 10000. */
	s.slots[5349].unsolicited = 10000;
	s.slots[5350].unsolicited = 100;
	s.slots[5351].unsolicited = 10;
	s.slots[5353].unsolicited = 1;
	text = draw(&r, &s, 10, true);	/* narrower than 24: 24 */
	assert_non_null(strstr(line(text, 0, buf, sizeof(buf)), "4 of 8 ports hit, 10111 unsolicited packets; a cell is 1 port"));
	assert_string_equal(line(text, 1, buf, sizeof(buf)),
		" 5349 |\u2588\u2592\u2591 \u00b7   ");
	/* The smallest count of each shade: level(4) is the second. */
	assert_string_equal(line(text, 2, buf, sizeof(buf)),
		"      ' ' none  '\u00b7' 1  '\u2591' >=4  '\u2592' >=32  '\u2593' >=317  '\u2588' >=3163 (max 10000)");
	free(text);
	/* Two packets at most: one shade for 1, the top one for 2. */
	s.slots[5349].unsolicited = 2;
	s.slots[5350].unsolicited = s.slots[5351].unsolicited = 0;
	text = draw(&r, &s, 30, false);
	assert_string_equal(line(text, 1, buf, sizeof(buf)), " 5349 |#   .   ");
	assert_string_equal(line(text, 2, buf, sizeof(buf)),
		"      ' ' none  '.' 1  '#' >=2 (max 2)");
	free(text);
	pw_snapshot_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_a_large_range_in_buckets),
		cmocka_unit_test(test_a_small_range_a_port_a_cell),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
