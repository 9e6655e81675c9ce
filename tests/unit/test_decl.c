// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Declarations: the built-in profiles, ufw application profiles as ufw
 * reads them, --ports, and a clear FILE:LINE error for every bad input. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <cmocka.h>
#include "decl.h"

struct want {
	const char *service;
	enum pw_proto proto;
	unsigned first, last;
	bool required;
};

static void expect_ranges(const struct pw_decls *d, const struct want *w, size_t n)
{
	size_t i;

	if (d->n != n)
		fail_msg("expected %zu ranges, got %zu", n, d->n);
	for (i = 0; i < n; i++) {
		const struct pw_range *r = &d->v[i];

		if (strcmp(r->service, w[i].service) || r->proto != w[i].proto ||
		    r->first != w[i].first || r->last != w[i].last ||
		    r->required != w[i].required)
			fail_msg("range %zu: expected %s %u-%u/%s%s, got %s %u-%u/%s%s",
				 i, w[i].service, w[i].first, w[i].last,
				 pw_proto_name(w[i].proto), w[i].required ? "" : " optional",
				 r->service, r->first, r->last, pw_proto_name(r->proto),
				 r->required ? "" : " optional");
	}
}

#define T PW_PROTO_TCP
#define U PW_PROTO_UDP

static void test_plugnmeet_profile_matches_its_firewall_doc(void **state)
{
	static const struct want w[] = {
		{ "plugnmeet", T, 80, 80, true }, { "plugnmeet", T, 443, 443, true },
		{ "plugnmeet", T, 7881, 7881, true }, { "plugnmeet", U, 50000, 60000, true },
		{ "plugnmeet", U, 443, 443, false },
	};
	struct pw_decls d = {};
	char err[PW_ERR_MAX];

	(void)state;
	assert_int_equal(pw_decls_add_profile(&d, "plugnmeet", err, sizeof(err)), 0);
	expect_ranges(&d, w, 5);
	pw_decls_free(&d);
}

static void test_snikket_profile_matches_its_firewall_doc(void **state)
{
	static const struct want w[] = {
		{ "snikket", T, 80, 80, true }, { "snikket", T, 443, 443, true },
		{ "snikket", T, 5222, 5222, true }, { "snikket", T, 5269, 5269, true },
		{ "snikket", T, 5000, 5000, true },
		{ "snikket", T, 3478, 3479, true }, { "snikket", U, 3478, 3479, true },
		{ "snikket", T, 5349, 5350, true }, { "snikket", U, 5349, 5350, true },
		{ "snikket", U, 49152, 65535, true },
	};
	struct pw_decls d = {};
	char err[PW_ERR_MAX];

	(void)state;
	assert_int_equal(pw_decls_add_profile(&d, "snikket", err, sizeof(err)), 0);
	expect_ranges(&d, w, 10);
	pw_decls_free(&d);
}

static void test_unknown_profile_is_named_with_the_known_ones(void **state)
{
	struct pw_decls d = {};
	char err[PW_ERR_MAX];

	(void)state;
	assert_int_equal(pw_decls_add_profile(&d, "jitsy", err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "jitsy"));
	assert_non_null(strstr(err, "plugnmeet, snikket"));
	assert_int_equal(d.n, 0);
}

static int parse_text(struct pw_decls *d, const char *text, char *err)
{
	return pw_decls_add_ufw_text(d, text, strlen(text), "prof", err, PW_ERR_MAX);
}

static void test_snikket_docs_ufw_profile_verbatim(void **state)
{
	static const char text[] =
		"[Snikket]\n"
		"title=Snikket Server\n"
		"description=Simple XMPP Server\n"
		"ports=80/tcp|443/tcp|5222/tcp|5269/tcp|5000/tcp|3478|3479|5349|5350|6000:6200/udp\n";
	static const struct want w[] = {
		{ "Snikket", T, 80, 80, true }, { "Snikket", T, 443, 443, true },
		{ "Snikket", T, 5222, 5222, true }, { "Snikket", T, 5269, 5269, true },
		{ "Snikket", T, 5000, 5000, true },
		{ "Snikket", T, 3478, 3478, true }, { "Snikket", U, 3478, 3478, true },
		{ "Snikket", T, 3479, 3479, true }, { "Snikket", U, 3479, 3479, true },
		{ "Snikket", T, 5349, 5349, true }, { "Snikket", U, 5349, 5349, true },
		{ "Snikket", T, 5350, 5350, true }, { "Snikket", U, 5350, 5350, true },
		{ "Snikket", U, 6000, 6200, true },
	};
	struct pw_decls d = {};
	char err[PW_ERR_MAX];

	(void)state;
	assert_int_equal(parse_text(&d, text, err), 0);
	expect_ranges(&d, w, sizeof(w) / sizeof(w[0]));
	pw_decls_free(&d);
}

static void test_ufw_forms_lists_ranges_case_comments_crlf(void **state)
{
	static const char text[] =
		"# a comment\r\n"
		"; another\r\n"
		"\r\n"
		"[web]\r\n"
		"Ports: 80,443/TCP\r\n"
		"  [media server]  \n"
		"title = media\n"
		"PORTS = 50000-50010/Udp | 7881/tcp|9000:9001\n";
	static const struct want w[] = {
		{ "web", T, 80, 80, true }, { "web", T, 443, 443, true },
		{ "media server", U, 50000, 50010, true },
		{ "media server", T, 7881, 7881, true },
		{ "media server", T, 9000, 9001, true },
		{ "media server", U, 9000, 9001, true },
	};
	struct pw_decls d = {};
	char err[PW_ERR_MAX];

	(void)state;
	if (parse_text(&d, text, err))
		fail_msg("expected the profile to parse, got: %s", err);
	expect_ranges(&d, w, sizeof(w) / sizeof(w[0]));
	pw_decls_free(&d);
}

static void test_a_port_of_two_services_is_kept_under_both(void **state)
{
	static const char text[] = "[a]\nports=443/tcp\n[b]\nports=443/tcp|443/tcp\n";
	static const struct want w[] = {
		{ "a", T, 443, 443, true }, { "b", T, 443, 443, true },
	};
	struct pw_decls d = {};
	char err[PW_ERR_MAX];

	(void)state;
	assert_int_equal(parse_text(&d, text, err), 0);
	expect_ranges(&d, w, 2);
	pw_decls_free(&d);
}

static void test_a_repeat_within_a_service_folds_and_stays_required(void **state)
{
	struct pw_decls d = {};
	char err[PW_ERR_MAX];

	(void)state;
	assert_int_equal(pw_decls_add_spec(&d, "s", "443/udp", false, "x", err, sizeof(err)), 0);
	assert_int_equal(pw_decls_add_spec(&d, "s", "443/udp", true, "x", err, sizeof(err)), 0);
	assert_int_equal(d.n, 1);
	assert_true(d.v[0].required);
	pw_decls_free(&d);
}

struct bad {
	const char *text;
	const char *where;	/* the "FILE:LINE:" it must start with */
	const char *what;	/* a phrase the message must hold */
};

static const struct bad bad_profiles[] = {
	{ "[a]\nports=0/tcp\n", "prof:2: ", "port 0 is out of range" },
	{ "[a]\nports=65536/udp\n", "prof:2: ", "65536 is out of range" },
	{ "[a]\nports=99999999999999999999999/udp\n", "prof:2: ", "out of range" },
	{ "[a]\nports=6200:6000/udp\n", "prof:2: ", "first port is above the last" },
	{ "[a]\nports=80/sctp\n", "prof:2: ", "unknown protocol 'sctp'" },
	{ "[a]\nports=\n", "prof:2: ", "port list is empty" },
	{ "[a]\nports=   \n", "prof:2: ", "port list is empty" },
	{ "[a]\nports=80/tcp||443\n", "prof:2: ", "empty entry" },
	{ "[a]\nports=http\n", "prof:2: ", "'http' is not a port number" },
	{ "[a]\nports=80/\n", "prof:2: ", "protocol is missing" },
	{ "[a]\nports=1:2:3/udp\n", "prof:2: ", "not a port or a range" },
	{ "[a]\nports=80,,81/tcp\n", "prof:2: ", "port number is missing" },
	{ "[a]\nports=-5/tcp\n", "prof:2: ", "port number is missing" },
	{ "[a]\nports=+80/tcp\n", "prof:2: ", "not a port number" },
	{ "ports=80/tcp\n", "prof:1: ", "outside any section" },
	{ "# c\n[a]\nports=80/tcp\nhello\n", "prof:4: ", "expected KEY=VALUE" },
	{ "[a]\ntitle=x\n\n[b]\nports=1/tcp\n", "prof:1: ", "[a] has no ports=" },
	{ "[a]\nports=1/tcp\n[b]\n", "prof:3: ", "[b] has no ports=" },
	{ "[a]\nports=1/tcp\n[a]\nports=2/tcp\n", "prof:3: ", "appears twice" },
	{ "[a]\nports=1/tcp\nports=2/tcp\n", "prof:3: ", "second ports=" },
	{ "[]\nports=1/tcp\n", "prof:1: ", "section name" },
	{ "[a\nports=1/tcp\n", "prof:1: ", "section header is [NAME]" },
	{ "", "prof:1: ", "no application profile" },
	{ "# only comments\n\n", "prof:2: ", "no application profile" },
	{ "[a]\n=80/tcp\n", "prof:2: ", "expected KEY=VALUE" },
};

static void test_every_bad_profile_names_file_line_and_fault(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad_profiles) / sizeof(bad_profiles[0]); i++) {
		const struct bad *b = &bad_profiles[i];
		struct pw_decls d = {};
		char err[PW_ERR_MAX] = "";
		int r = parse_text(&d, b->text, err);

		if (r != -EINVAL || strncmp(err, b->where, strlen(b->where)) ||
		    !strstr(err, b->what))
			fail_msg("profile %zu: expected -EINVAL and '%s...%s', got %d '%s'",
				 i, b->where, b->what, r, err);
		pw_decls_free(&d);
	}
}

static void test_nul_byte_is_refused(void **state)
{
	static const char text[] = "[a]\nports=80\0/tcp\n";
	struct pw_decls d = {};
	char err[PW_ERR_MAX];

	(void)state;
	assert_int_equal(pw_decls_add_ufw_text(&d, text, sizeof(text) - 1, "prof", err,
					       sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "prof:2: "));
	assert_non_null(strstr(err, "NUL"));
	pw_decls_free(&d);
}

/* A file's text has no NUL at its end: a message quoting its last line
 * must not read past it. The text ends where a PROT_NONE page begins. */
static void test_quoting_a_bad_last_line_stays_inside_the_text(void **state)
{
	static const struct {
		int (*parse)(struct pw_decls *, const char *, size_t,
			     const char *, char *, size_t);
		const char *text;
	} texts[] = {
		{ pw_decls_add_ufw_text, "[a]\nports=1/tcp\ngarbage-at-the-end" },
		{ pw_decls_add_ufw_text, "ports=80/tcp" },
		{ pw_decls_add_ufw_text, "[a]\nports=1/tcp\n[unclosed" },
		/* found by make fuzz: a snikket.conf line without '=' */
		{ pw_decls_add_snikket_text, "A=1\nno-equals-sign-here" },
		{ pw_decls_add_snikket_text, "SNIKKET_TWEAK_HTTP_PORT=eighty" },
		{ pw_decls_add_snikket_text, "SNIKKET_TWEAK_HTTP_PORT=\"80" },
		{ pw_decls_add_coturn_text, "listening-port=abc" },
		{ pw_decls_add_coturn_text, "no-udp=maybe" },
		{ pw_decls_add_livekit_text, "rtc:\n  tcp_port: [1" },
		{ pw_decls_add_livekit_text, "rtc:\n  tcp_port: x" },
	};
	long page = sysconf(_SC_PAGESIZE);
	char *mem = mmap(NULL, (size_t)page * 2, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct pw_decls d = {};
	char err[PW_ERR_MAX];
	size_t i, len;

	(void)state;
	assert_true(mem != MAP_FAILED);
	assert_int_equal(mprotect(mem + page, (size_t)page, PROT_NONE), 0);
	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		len = strlen(texts[i].text);
		memcpy(mem + page - len, texts[i].text, len);
		assert_int_equal(texts[i].parse(&d, mem + page - len, len,
						"prof", err, sizeof(err)),
				 -EINVAL);
		pw_decls_free(&d);
	}
	munmap(mem, (size_t)page * 2);
}

static void test_files_unreadable_directory_oversized(void **state)
{
	char path[] = "/tmp/pw-test-XXXXXX", err[PW_ERR_MAX];
	struct pw_decls d = {};
	char *big;
	FILE *f;
	int fd;

	(void)state;
	assert_int_equal(pw_decls_add_ufw_file(&d, "/nonexistent/ufw-x", err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "/nonexistent/ufw-x:0: cannot read: No such file"));
	assert_int_equal(pw_decls_add_ufw_file(&d, "/", err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "is a directory"));

	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	big = malloc(PW_PROFILE_FILE_MAX + 10);
	memset(big, '#', PW_PROFILE_FILE_MAX + 10);
	fwrite(big, 1, PW_PROFILE_FILE_MAX + 10, f);
	fclose(f);
	free(big);
	assert_int_equal(pw_decls_add_ufw_file(&d, path, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "larger than"));

	f = fopen(path, "w");
	fputs("[ok]\nports=3478|49152:65535/udp\n", f);
	fclose(f);
	assert_int_equal(pw_decls_add_ufw_file(&d, path, err, sizeof(err)), 0);
	assert_int_equal(d.n, 3);
	unlink(path);
	pw_decls_free(&d);
}

static void test_inline_ports(void **state)
{
	struct pw_decls d = {};
	char err[PW_ERR_MAX];
	static const struct want w[] = {
		{ "turn", T, 3478, 3478, true }, { "turn", U, 3478, 3478, true },
		{ "turn", U, 49152, 65535, true },
	};

	(void)state;
	assert_int_equal(pw_decls_add_inline(&d, "turn=3478|49152:65535/udp", 1, err, sizeof(err)), 0);
	expect_ranges(&d, w, 3);
	assert_int_equal(pw_decls_add_inline(&d, "80/tcp", 2, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "--ports:2: expected NAME=PORTS"));
	assert_int_equal(pw_decls_add_inline(&d, " =80/tcp", 3, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "--ports:3: the service name"));
	assert_int_equal(pw_decls_add_inline(&d, "x=", 4, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "--ports:4: the port list is empty"));
	assert_int_equal(pw_decls_add_inline(&d, "x\ty=80", 5, err, sizeof(err)), -EINVAL);
	assert_int_equal(pw_decls_add_inline(&d, "x=70000", 6, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "--ports:6: port 70000 is out of range"));
	assert_int_equal(d.n, 3);
	pw_decls_free(&d);
}

static void test_a_list_of_every_port_is_refused_quickly(void **state)
{
	struct pw_decls d = {};
	char err[PW_ERR_MAX];
	size_t cap = 7 * 65536 + 16, len;
	char *text = malloc(cap);
	unsigned p;

	(void)state;
	len = (size_t)snprintf(text, cap, "[all]\nports=");
	for (p = 1; p <= 65535; p++)
		len += (size_t)snprintf(text + len, cap - len, "%u%s", p, p < 65535 ? "," : "\n");
	assert_int_equal(pw_decls_add_ufw_text(&d, text, len, "prof", err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "prof:2: more than 4096 ranges declared"));
	pw_decls_free(&d);
	free(text);
}

static void test_range_math(void **state)
{
	struct pw_range r = { .first = 49152, .last = 65535 };
	char buf[16];

	(void)state;
	assert_int_equal(pw_range_size(&r), 16384);
	pw_range_ports(&r, buf, sizeof(buf));
	assert_string_equal(buf, "49152-65535");
	r.first = r.last = 5222;
	assert_int_equal(pw_range_size(&r), 1);
	pw_range_ports(&r, buf, sizeof(buf));
	assert_string_equal(buf, "5222");
	r.first = 1;
	r.last = 65535;
	assert_int_equal(pw_range_size(&r), 65535);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plugnmeet_profile_matches_its_firewall_doc),
		cmocka_unit_test(test_snikket_profile_matches_its_firewall_doc),
		cmocka_unit_test(test_unknown_profile_is_named_with_the_known_ones),
		cmocka_unit_test(test_snikket_docs_ufw_profile_verbatim),
		cmocka_unit_test(test_ufw_forms_lists_ranges_case_comments_crlf),
		cmocka_unit_test(test_a_port_of_two_services_is_kept_under_both),
		cmocka_unit_test(test_a_repeat_within_a_service_folds_and_stays_required),
		cmocka_unit_test(test_every_bad_profile_names_file_line_and_fault),
		cmocka_unit_test(test_nul_byte_is_refused),
		cmocka_unit_test(test_quoting_a_bad_last_line_stays_inside_the_text),
		cmocka_unit_test(test_files_unreadable_directory_oversized),
		cmocka_unit_test(test_inline_ports),
		cmocka_unit_test(test_a_list_of_every_port_is_refused_quickly),
		cmocka_unit_test(test_range_math),
	};

	return cmocka_run_group_tests_name("declarations", tests, NULL, NULL);
}
