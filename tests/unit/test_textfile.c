// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The Prometheus textfile: the families and labels of the contract
 * (docs/metrics.md), no sample timestamps, escaping, the atomic replace;
 * and the 64-bit fold that keeps its counters monotonic. */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>
#include "counters.h"
#include "textfile.h"

#define UDP(port) (PW_PORTS_PER_PROTO + (port))
#define TCP(port) (port)

static struct pw_decl_table *decl_table(void)
{
	struct pw_decl_table *t = calloc(1, sizeof(*t));

	assert_non_null(t);
	return t;
}

/* What pw_snapshot_take reads: per-CPU 32-bit counts summed. */
static void raw(struct pw_snapshot *s, uint32_t slot, uint64_t unsolicited,
		uint64_t replies)
{
	s->slots[slot].declared = true;
	s->slots[slot].unsolicited = unsolicited;
	s->slots[slot].replies = replies;
}

/* A reader's turn: raw counts + the fold -> totals; the watch then folds. */
static void read_and_fold(struct pw_hist_table *h, struct pw_decl_table *d,
			  struct pw_snapshot *s, uint64_t now_ns, bool fold)
{
	s->real_ns = now_ns;
	pw_hist_apply(h, d, s);
	if (fold)
		pw_hist_fold(h, d, s);
}

static void test_fold_counts_on_across_wraps_and_restarts(void **state)
{
	struct pw_decl_table *d = decl_table();
	struct pw_hist_table *h = calloc(1, sizeof(*h)), *copy = malloc(sizeof(*h));
	struct pw_snapshot s;

	(void)state;
	assert_non_null(h);
	assert_non_null(copy);
	assert_int_equal(pw_snapshot_alloc(&s), 0);
	d->index1[UDP(3478)] = 1;

	/* One CPU near the top of 32 bits. */
	raw(&s, UDP(3478), 0xfffffff0ull + 0, 5);
	read_and_fold(h, d, &s, 1000, true);
	assert_true(s.slots[UDP(3478)].unsolicited == 0xfffffff0ull);
	assert_true(s.slots[UDP(3478)].last_seen_real_ns == 1000);

	/* It wraps (+0x20) while another gets 0x10: the sum drops. */
	raw(&s, UDP(3478), 0x10ull + 0x10ull, 7);
	read_and_fold(h, d, &s, 2000, true);
	assert_true(s.slots[UDP(3478)].unsolicited == 0xfffffff0ull + 0x30);
	assert_true(s.slots[UDP(3478)].replies == 7);

	/* Both half way up: the sum of two 32-bit counters passes 2^32. */
	raw(&s, UDP(3478), 0x80000000ull + 0x80000000ull, 7);
	read_and_fold(h, d, &s, 2000, true);
	assert_true(s.slots[UDP(3478)].unsolicited ==
		    0xfffffff0ull + 0x30 + (0xffffffffull - 0x1f));
	assert_true(s.slots[UDP(3478)].unsolicited == 0x200000000ull);
	/* One wraps again (+0x80000010): exact while fewer than 2^32
	 * packets come between two folds. */
	raw(&s, UDP(3478), 0x10ull + 0x80000000ull, 7);
	read_and_fold(h, d, &s, 2000, true);
	assert_true(s.slots[UDP(3478)].unsolicited == 0x280000010ull);

	/* No growth: the last packet stays at the fold that saw it. */
	raw(&s, UDP(3478), 0x10ull + 0x80000000ull, 7);
	read_and_fold(h, d, &s, 3000, true);
	raw(&s, UDP(3478), 0x10ull + 0x80000000ull, 7);
	read_and_fold(h, d, &s, 4000, false);
	assert_true(s.slots[UDP(3478)].unsolicited == 0x280000010ull);
	assert_true(s.slots[UDP(3478)].last_seen_real_ns == 2000);

	/* A restarted watch, or show, starts from the pinned fold alone. */
	assert_int_equal(pw_hist_copy(h, copy), 0);
	raw(&s, UDP(3478), 0x10ull + 0x80000000ull + 3, 7);
	read_and_fold(copy, d, &s, 5000, false);
	assert_true(s.slots[UDP(3478)].unsolicited == 0x280000013ull);
	assert_true(s.slots[UDP(3478)].last_seen_real_ns == 5000);

	/* A port declared after folds began counts from zero. */
	d->index1[TCP(5222)] = 2;
	raw(&s, TCP(5222), 4, 0);
	read_and_fold(h, d, &s, 6000, true);
	assert_true(s.slots[TCP(5222)].unsolicited == 4);
	/* Undeclared slots are left as they were read. */
	s.slots[TCP(80)].other = 9;
	read_and_fold(h, d, &s, 7000, true);
	assert_false(s.slots[TCP(80)].declared);
	assert_true(s.slots[TCP(80)].other == 9);

	/* A fold under way (odd seq) is never copied. */
	h->seq |= 1;
	assert_int_equal(pw_hist_copy(h, copy), -EAGAIN);

	pw_snapshot_free(&s);
	free(copy);
	free(h);
	free(d);
}

struct fixture {
	struct pw_decls d;
	struct pw_snapshot s;
	struct pw_report rep;
	char *text;
	size_t len;
};

static void add(struct fixture *fx, const char *service, const char *spec)
{
	char err[PW_ERR_MAX];

	assert_int_equal(pw_decls_add_spec(&fx->d, service, spec, true, "t",
					   err, sizeof(err)), 0);
}

static void render(struct fixture *fx)
{
	FILE *f;

	assert_int_equal(pw_report_build(&fx->rep, &fx->d, &fx->s), 0);
	snprintf(fx->rep.iface, sizeof(fx->rep.iface), "eth0");
	fx->rep.mode = "tc";
	fx->rep.now_real_ns = 1795000000250000000ull;
	fx->rep.stats[PW_STAT_FRAGMENTS] = 2;
	fx->rep.stats[PW_STAT_MALFORMED] = 3;
	f = open_memstream(&fx->text, &fx->len);
	assert_non_null(f);
	assert_int_equal(pw_textfile_render(f, &fx->rep, &fx->s), 0);
	assert_int_equal(fclose(f), 0);
}

static void done(struct fixture *fx)
{
	pw_report_free(&fx->rep);
	pw_decls_free(&fx->d);
	pw_snapshot_free(&fx->s);
	free(fx->text);
}

/* Lines of text that begin with prefix (whole: that are prefix). */
static size_t lines(const char *text, const char *prefix, bool whole)
{
	size_t n = 0, len = strlen(prefix);
	const char *p = text;

	while (p && *p) {
		n += !strncmp(p, prefix, len) && (!whole || p[len] == '\n');
		p = strchr(p, '\n');
		p = p ? p + 1 : NULL;
	}
	return n;
}

static size_t count_lines(const char *text, const char *prefix)
{
	return lines(text, prefix, false);
}

static bool has_line(const char *text, const char *line)
{
	return lines(text, line, true) > 0;
}

static const struct {
	const char *name, *type;
} families[] = {
	{ "portwitness_packets_total", "counter" },
	{ "portwitness_replies_total", "counter" },
	{ "portwitness_bytes_total", "counter" },
	{ "portwitness_ports_declared", "gauge" },
	{ "portwitness_ports_hit", "gauge" },
	{ "portwitness_last_packet_timestamp_seconds", "gauge" },
	{ "portwitness_port_packets_total", "counter" },
	{ "portwitness_fragments_total", "counter" },
	{ "portwitness_malformed_total", "counter" },
	{ "portwitness_last_export_timestamp_seconds", "gauge" },
	{ "portwitness_info", "gauge" },
};

static void test_every_family_with_help_type_and_no_timestamps(void **state)
{
	struct fixture fx = {};
	char want[256], *line, *save, *brace, *first;
	size_t i;

	(void)state;
	assert_int_equal(pw_snapshot_alloc(&fx.s), 0);
	add(&fx, "snikket", "3478/udp");
	add(&fx, "snikket", "49152:65535/udp");
	add(&fx, "snikket", "5222/tcp");
	raw(&fx.s, UDP(3478), 7, 1);
	fx.s.slots[UDP(3478)].bytes = 700;
	fx.s.slots[UDP(3478)].last_seen_real_ns = 1795000000000000000ull;
	raw(&fx.s, UDP(50000), 4, 0);
	raw(&fx.s, UDP(60001), 1, 0);
	fx.s.slots[UDP(60001)].last_seen_real_ns = 1794999990000000000ull;
	render(&fx);

	for (i = 0; i < sizeof(families) / sizeof(families[0]); i++) {
		snprintf(want, sizeof(want), "# HELP %s ", families[i].name);
		assert_int_equal(count_lines(fx.text, want), 1);
		snprintf(want, sizeof(want), "# TYPE %s %s", families[i].name,
			 families[i].type);
		assert_true(has_line(fx.text, want));
		/* The TYPE line comes before the family's first sample. */
		snprintf(want, sizeof(want), "\n%s{", families[i].name);
		first = strstr(fx.text, want);
		snprintf(want, sizeof(want), "# TYPE %s ", families[i].name);
		assert_non_null(first);
		assert_true(strstr(fx.text, want) < first);
	}
	assert_true(has_line(fx.text,
		"portwitness_packets_total{interface=\"eth0\",service=\"snikket\",proto=\"udp\",ports=\"3478\"} 7"));
	assert_true(has_line(fx.text,
		"portwitness_packets_total{interface=\"eth0\",service=\"snikket\",proto=\"udp\",ports=\"49152-65535\"} 5"));
	assert_true(has_line(fx.text,
		"portwitness_ports_hit{interface=\"eth0\",service=\"snikket\",proto=\"udp\",ports=\"49152-65535\"} 2"));
	assert_true(has_line(fx.text,
		"portwitness_ports_declared{interface=\"eth0\",service=\"snikket\",proto=\"udp\",ports=\"49152-65535\"} 16384"));
	assert_true(has_line(fx.text,
		"portwitness_bytes_total{interface=\"eth0\",service=\"snikket\",proto=\"udp\",ports=\"3478\"} 700"));
	assert_true(has_line(fx.text,
		"portwitness_replies_total{interface=\"eth0\",service=\"snikket\",proto=\"udp\",ports=\"3478\"} 1"));
	assert_true(has_line(fx.text,
		"portwitness_last_packet_timestamp_seconds{interface=\"eth0\",service=\"snikket\",proto=\"udp\",ports=\"49152-65535\"} 1794999990.000"));
	/* No packet yet: no timestamp series rather than a zero. */
	assert_int_equal(count_lines(fx.text,
		"portwitness_last_packet_timestamp_seconds{interface=\"eth0\",service=\"snikket\",proto=\"tcp\""), 0);
	/* A series per port for the small ranges only. */
	assert_true(has_line(fx.text,
		"portwitness_port_packets_total{interface=\"eth0\",service=\"snikket\",proto=\"udp\",ports=\"3478\",port=\"3478\"} 7"));
	assert_true(has_line(fx.text,
		"portwitness_port_packets_total{interface=\"eth0\",service=\"snikket\",proto=\"tcp\",ports=\"5222\",port=\"5222\"} 0"));
	assert_int_equal(count_lines(fx.text, "portwitness_port_packets_total{"), 2);
	assert_true(has_line(fx.text, "portwitness_fragments_total{interface=\"eth0\"} 2"));
	assert_true(has_line(fx.text, "portwitness_malformed_total{interface=\"eth0\"} 3"));
	assert_true(has_line(fx.text, "portwitness_last_export_timestamp_seconds{interface=\"eth0\"} 1795000000.250"));
	snprintf(want, sizeof(want),
		 "portwitness_info{interface=\"eth0\",version=\"%s\",mode=\"tc\"} 1", PW_VERSION);
	assert_true(has_line(fx.text, want));

	/* Every sample: a name with labels, then one value; node_exporter
	 * skips a whole file whose samples carry timestamps. */
	for (line = strtok_r(fx.text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (line[0] == '#')
			continue;
		assert_int_equal(strncmp(line, "portwitness_", 12), 0);
		brace = strrchr(line, '}');
		assert_non_null(brace);
		assert_int_equal(brace[1], ' ');
		assert_null(strchr(brace + 2, ' '));
		assert_true(strspn(brace + 2, "0123456789.") == strlen(brace + 2));
	}
	done(&fx);
}

static void test_port_series_stop_past_64_ports(void **state)
{
	struct fixture fx = {};

	(void)state;
	assert_int_equal(pw_snapshot_alloc(&fx.s), 0);
	add(&fx, "small", "10000:10063/udp");	/* 64 ports */
	add(&fx, "large", "20000:20064/udp");	/* 65 ports */
	render(&fx);
	assert_int_equal(count_lines(fx.text, "portwitness_port_packets_total{"), 64);
	assert_int_equal(count_lines(fx.text,
		"portwitness_port_packets_total{interface=\"eth0\",service=\"large\""), 0);
	/* Nothing arrived anywhere: the timestamp family is left out whole. */
	assert_null(strstr(fx.text, "portwitness_last_packet_timestamp_seconds"));
	done(&fx);
}

static void test_label_values_are_escaped_and_utf8(void **state)
{
	struct fixture fx = {};

	(void)state;
	assert_int_equal(pw_snapshot_alloc(&fx.s), 0);
	add(&fx, "a\"b\\c \xff\xc3\xa9", "443/tcp");
	render(&fx);
	assert_non_null(strstr(fx.text,
		"service=\"a\\\"b\\\\c \xef\xbf\xbd\xc3\xa9\""));
	done(&fx);
}

static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "re");
	char *buf;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n + 1);
	*len = fread(buf, 1, (size_t)n, f);
	fclose(f);
	return buf;
}

static size_t entries(const char *dir)
{
	struct dirent *e;
	size_t n = 0;
	DIR *d = opendir(dir);

	assert_non_null(d);
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

/* A reader that opens the file while it is rewritten again and again
 * sees one whole version or the other, never a part. */
static void test_replace_never_shows_a_half_written_file(void **state)
{
	char dir[] = "/tmp/pw-textfile.XXXXXX", path[64], err[PW_ERR_MAX];
	static char a[300], b[200000];
	size_t len, reads = 0;
	struct stat st;
	char *got;
	pid_t child;
	int status;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/portwitness.prom", dir);
	memset(a, 'a', sizeof(a));
	memset(b, 'b', sizeof(b));
	assert_int_equal(pw_textfile_replace(path, a, sizeof(a), err, sizeof(err)), 0);
	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		int i, rc = 0;

		for (i = 0; i < 2000 && !rc; i++)
			rc = i % 2 ? pw_textfile_replace(path, a, sizeof(a), err, sizeof(err)) :
				     pw_textfile_replace(path, b, sizeof(b), err, sizeof(err));
		_exit(rc ? 1 : 0);
	}
	while (waitpid(child, &status, WNOHANG) == 0) {
		got = read_file(path, &len);
		assert_non_null(got);
		assert_true((len == sizeof(a) && !memcmp(got, a, len)) ||
			    (len == sizeof(b) && !memcmp(got, b, len)));
		free(got);
		reads++;
	}
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_true(reads > 10);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
	assert_int_equal(entries(dir), 1);	/* no temporary file left */
	unlink(path);
	rmdir(dir);
}

static void test_failed_replace_keeps_the_previous_file(void **state)
{
	char dir[] = "/tmp/pw-textfile.XXXXXX", path[64], sub[80], err[PW_ERR_MAX];
	size_t len;
	char *got;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/portwitness.prom", dir);
	assert_int_equal(pw_textfile_replace(path, "old\n", 4, err, sizeof(err)), 0);
	/* The directory is gone: nothing can be created. */
	snprintf(sub, sizeof(sub), "%s/missing/portwitness.prom", dir);
	assert_int_equal(pw_textfile_replace(sub, "new\n", 4, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "cannot create a temporary file beside it"));
	/* Something that is no file stands at the path: rename fails, and
	 * the temporary file is removed. */
	snprintf(sub, sizeof(sub), "%s/dir.prom", dir);
	assert_int_equal(mkdir(sub, 0755), 0);
	assert_int_not_equal(pw_textfile_replace(sub, "new\n", 4, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "cannot rename over it"));
	assert_int_equal(entries(dir), 2);
	got = read_file(path, &len);
	assert_int_equal(len, 4);
	assert_memory_equal(got, "old\n", 4);
	free(got);
	rmdir(sub);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fold_counts_on_across_wraps_and_restarts),
		cmocka_unit_test(test_every_family_with_help_type_and_no_timestamps),
		cmocka_unit_test(test_port_series_stop_past_64_ports),
		cmocka_unit_test(test_label_values_are_escaped_and_utf8),
		cmocka_unit_test(test_replace_never_shows_a_half_written_file),
		cmocka_unit_test(test_failed_replace_keeps_the_previous_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
