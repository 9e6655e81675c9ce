// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Declarations from the services' own configs: Snikket, coturn, LiveKit
 * (plugNmeet's YAML), a ufw application by name; their defaults, their
 * rules, and errors that name the line. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include "decl.h"

#define TCP PW_PROTO_TCP
#define UDP PW_PROTO_UDP

typedef int (*parse_fn)(struct pw_decls *, const char *, size_t, const char *,
			char *, size_t);

static char err[PW_ERR_MAX];

static int parse(parse_fn fn, struct pw_decls *d, const char *text)
{
	err[0] = '\0';
	return fn(d, text, strlen(text), "f.conf", err, sizeof(err));
}

/* Exactly one range of service/proto first-last, with that required. */
static void has(const struct pw_decls *d, const char *service, enum pw_proto proto,
		unsigned first, unsigned last, bool required)
{
	size_t i, n = 0;

	for (i = 0; i < d->n; i++)
		if (!strcmp(d->v[i].service, service) && d->v[i].proto == proto &&
		    d->v[i].first == first && d->v[i].last == last) {
			n++;
			if (d->v[i].required != required)
				fail_msg("%s %u-%u/%s: required %d, expected %d", service,
					 first, last, pw_proto_name(proto),
					 d->v[i].required, required);
		}
	if (n != 1)
		fail_msg("%s %u-%u/%s: %zu ranges, expected 1", service, first, last,
			 pw_proto_name(proto), n);
}

static void fails(parse_fn fn, const char *text, const char *where, const char *what)
{
	struct pw_decls d = {};

	assert_int_equal(parse(fn, &d, text), -EINVAL);
	if (strncmp(err, where, strlen(where)) || !strstr(err, what))
		fail_msg("error '%s': expected '%s' ... '%s'", err, where, what);
	pw_decls_free(&d);
}

static void test_snikket_defaults_and_tweaks(void **state)
{
	struct pw_decls d = {};

	(void)state;
	assert_int_equal(parse(pw_decls_add_snikket_text, &d,
			       "SNIKKET_DOMAIN=chat.example.com\nSNIKKET_ADMIN_EMAIL=a@b\n"), 0);
	has(&d, "snikket", UDP, 49152, 65535, true);
	has(&d, "snikket", TCP, 80, 80, true);
	has(&d, "snikket", TCP, 443, 443, true);
	has(&d, "snikket", TCP, 5222, 5222, true);
	has(&d, "snikket", TCP, 5269, 5269, true);
	has(&d, "snikket", TCP, 5000, 5000, true);
	has(&d, "snikket", TCP, 3478, 3479, true);
	has(&d, "snikket", UDP, 3478, 3479, true);
	has(&d, "snikket", TCP, 5349, 5350, true);
	has(&d, "snikket", UDP, 5349, 5350, true);
	assert_int_equal(d.n, 10);
	pw_decls_free(&d);

	/* Snikket's own example, quoted, exported, commented, CRLF. */
	assert_int_equal(parse(pw_decls_add_snikket_text, &d,
			       "# TURN\r\nSNIKKET_TWEAK_TURNSERVER_MIN_PORT=\"60000\"\r\n"
			       "export SNIKKET_TWEAK_TURNSERVER_MAX_PORT=61023 # 1024 ports\r\n"
			       "SNIKKET_TWEAK_HTTP_PORT='8080'\nSNIKKET_TWEAK_HTTPS_PORT = 8443\n"), 0);
	has(&d, "snikket", UDP, 60000, 61023, true);
	has(&d, "snikket", TCP, 8080, 8080, true);
	has(&d, "snikket", TCP, 8443, 8443, true);
	assert_int_equal(d.n, 10);
	pw_decls_free(&d);

	/* The last assignment counts, as in a shell; min == max is allowed. */
	assert_int_equal(parse(pw_decls_add_snikket_text, &d,
			       "SNIKKET_TWEAK_TURNSERVER_MIN_PORT=50000\n"
			       "SNIKKET_TWEAK_TURNSERVER_MIN_PORT=65535\n"), 0);
	has(&d, "snikket", UDP, 65535, 65535, true);
	pw_decls_free(&d);
}

static void test_snikket_rules_name_the_line(void **state)
{
	(void)state;
	fails(pw_decls_add_snikket_text, "A=1\nSNIKKET_TWEAK_TURNSERVER_MIN_PORT=1024\n",
	      "f.conf:2:", "larger than 1024");
	fails(pw_decls_add_snikket_text, "SNIKKET_TWEAK_TURNSERVER_MAX_PORT=65536\n",
	      "f.conf:1:", "port number");
	fails(pw_decls_add_snikket_text, "SNIKKET_TWEAK_TURNSERVER_MAX_PORT=50000\n"
	      "\nSNIKKET_TWEAK_TURNSERVER_MIN_PORT=50001\n", "f.conf:3:", "above");
	fails(pw_decls_add_snikket_text, "SNIKKET_TWEAK_TURNSERVER_MAX_PORT=40000\n",
	      "f.conf:1:", "above");	/* below the default min */
	fails(pw_decls_add_snikket_text, "SNIKKET_TWEAK_HTTP_PORT=eighty\n",
	      "f.conf:1:", "port number");
	fails(pw_decls_add_snikket_text, "SNIKKET_TWEAK_HTTPS_PORT=\"443\n",
	      "f.conf:1:", "unbalanced quote");
	fails(pw_decls_add_snikket_text, "SNIKKET_DOMAIN=x\njust words\n",
	      "f.conf:2:", "KEY=value");
	fails(pw_decls_add_snikket_text, "SNIKKET_TWEAK_TURNSERVER_MIN_PORT=-50000\n",
	      "f.conf:1:", "port number");
}

static void test_coturn_defaults(void **state)
{
	struct pw_decls d = {};

	(void)state;
	assert_int_equal(parse(pw_decls_add_coturn_text, &d, "# nothing set\nlt-cred-mech\n"), 0);
	has(&d, "coturn", TCP, 3478, 3478, true);
	has(&d, "coturn", UDP, 3478, 3478, true);
	/* TLS/DTLS without a cert line, and the RFC 5780 alternates: optional. */
	has(&d, "coturn", TCP, 5349, 5349, false);
	has(&d, "coturn", UDP, 5349, 5349, false);
	has(&d, "coturn", TCP, 3479, 3479, false);
	has(&d, "coturn", UDP, 3479, 3479, false);
	has(&d, "coturn", TCP, 5350, 5350, false);
	has(&d, "coturn", UDP, 5350, 5350, false);
	has(&d, "coturn", UDP, 49152, 65535, true);
	assert_int_equal(d.n, 9);
	pw_decls_free(&d);
}

static void test_coturn_settings(void **state)
{
	struct pw_decls d = {};

	(void)state;
	assert_int_equal(parse(pw_decls_add_coturn_text, &d,
			       "listening-port=3480\n"
			       "tls-listening-port=5349\ntls-listening-port = 443\n"
			       "alt-listening-port=0\nalt-tls-listening-port 8443\n"
			       "min-port=40000\nmax-port=40110\n"
			       "cert=/etc/ssl/turn.pem\nno-dtls\nno-udp=false\n--no-tcp=off\n"), 0);
	has(&d, "coturn", TCP, 3480, 3480, true);
	has(&d, "coturn", UDP, 3480, 3480, true);
	has(&d, "coturn", TCP, 443, 443, true);	/* TLS with a cert */
	has(&d, "coturn", TCP, 3481, 3481, false);
	has(&d, "coturn", UDP, 3481, 3481, false);
	has(&d, "coturn", TCP, 8443, 8443, false);
	has(&d, "coturn", UDP, 40000, 40110, true);
	assert_int_equal(d.n, 7);	/* no DTLS: no UDP 443, no UDP 8443 */
	pw_decls_free(&d);

	assert_int_equal(parse(pw_decls_add_coturn_text, &d,
			       "no-udp\nno-tls=yes\nno-dtls=1\n"), 0);
	has(&d, "coturn", TCP, 3478, 3478, true);
	has(&d, "coturn", TCP, 3479, 3479, false);
	has(&d, "coturn", UDP, 49152, 65535, true);	/* relays are UDP */
	assert_int_equal(d.n, 3);
	pw_decls_free(&d);

	fails(pw_decls_add_coturn_text, "min-port=50000\nmax-port=40000\n", "f.conf:2:",
	      "min-port (50000) is above max-port (40000)");
	fails(pw_decls_add_coturn_text, "\nlistening-port=99999\n", "f.conf:2:", "port number");
	fails(pw_decls_add_coturn_text, "listening-port=0\n", "f.conf:1:", "port number");
	fails(pw_decls_add_coturn_text, "no-udp=maybe\n", "f.conf:1:", "boolean");
}

static const char plugnmeet_livekit[] =
	"port: 7880\n"
	"bind_addresses:\n"
	"  - \"\"\n"
	"rtc:\n"
	"  tcp_port: 7881\n"
	"  port_range_start: 50000\n"
	"  port_range_end: 60000\n"
	"  use_external_ip: true\n"
	"redis:\n"
	"  address: redis:6379\n"
	"turn:\n"
	"  enabled: true\n"
	"  domain: turn.example.com\n"
	"  tls_port: 5349\n"
	"  udp_port: 443\n"
	"  external_tls: true\n"
	"keys:\n"
	"  APIkey: secret\n";

static void test_livekit_as_plugnmeet_ships_it(void **state)
{
	struct pw_decls d = {};

	(void)state;
	assert_int_equal(parse(pw_decls_add_livekit_text, &d, plugnmeet_livekit), 0);
	has(&d, "livekit", TCP, 7880, 7880, false);	/* behind the proxy on 443 */
	has(&d, "livekit", TCP, 7881, 7881, true);
	has(&d, "livekit", UDP, 50000, 60000, true);
	has(&d, "livekit", UDP, 443, 443, true);	/* TURN/UDP */
	has(&d, "livekit", TCP, 443, 443, true);	/* TURN/TLS through the proxy */
	assert_int_equal(d.n, 5);
	pw_decls_free(&d);
}

static void test_livekit_variants(void **state)
{
	struct pw_decls d = {};

	(void)state;
	/* Defaults; TURN off. */
	assert_int_equal(parse(pw_decls_add_livekit_text, &d, "keys: {a: b}\n"), 0);
	has(&d, "livekit", TCP, 7880, 7880, false);
	has(&d, "livekit", TCP, 7881, 7881, true);
	has(&d, "livekit", UDP, 50000, 60000, true);
	assert_int_equal(d.n, 3);
	pw_decls_free(&d);
	/* One muxed UDP port instead of the range; TURN/TLS on its own port;
	 * flow style and quoted numbers are YAML too. */
	assert_int_equal(parse(pw_decls_add_livekit_text, &d,
			       "rtc: {udp_port: 7882, tcp_port: 0, port_range_start: 1, port_range_end: 2}\n"
			       "turn:\n  enabled: yes\n  tls_port: \"5349\"\n  udp_port: 3478\n"), 0);
	has(&d, "livekit", UDP, 7882, 7882, true);
	has(&d, "livekit", TCP, 5349, 5349, true);
	has(&d, "livekit", UDP, 3478, 3478, true);
	assert_int_equal(d.n, 4);	/* + 7880; no TCP ICE port (0) */
	pw_decls_free(&d);

	fails(pw_decls_add_livekit_text, "port: 7880\nrtc:\n  tcp_port: seventy\n",
	      "f.conf:3:", "rtc.tcp_port must be a port number");
	fails(pw_decls_add_livekit_text, "rtc:\n  port_range_start: 60000\n  port_range_end: 50000\n",
	      "f.conf:3:", "rtc.port_range_end is below rtc.port_range_start");
	fails(pw_decls_add_livekit_text, "rtc:\n  tcp_port: [1, 2]\n", "f.conf:2:", "got a list");
	fails(pw_decls_add_livekit_text, "turn:\n  enabled: maybe\n", "f.conf:2:", "true or false");
	fails(pw_decls_add_livekit_text, "port: 7880\nrtc: {tcp_port: 1\n", "f.conf:", "not YAML");
	fails(pw_decls_add_livekit_text, "- a\n- b\n", "f.conf:1:", "expected LiveKit's configuration");
	fails(pw_decls_add_livekit_text, "", "f.conf:1:", "expected LiveKit's configuration");
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "we");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_ufw_application_by_name(void **state)
{
	char dir[] = "/tmp/pw-ufw.XXXXXX", path[80];
	struct pw_decls d = {};

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/ufw-snikket", dir);
	write_file(path, "[Snikket]\ntitle=Snikket Server\n"
			 "ports=80/tcp|443/tcp|5222/tcp|3478|6000:6200/udp\n");
	snprintf(path, sizeof(path), "%s/broken", dir);
	write_file(path, "[Other]\nports=99999/tcp\n");
	snprintf(path, sizeof(path), "%s/ufw-snikket.dpkg-old", dir);
	write_file(path, "[Snikket]\nports=1/tcp\n");
	/* ufw's own command line takes any case. */
	err[0] = '\0';
	assert_int_equal(pw_decls_add_ufw_app(&d, dir, "snikket", err, sizeof(err)), 0);
	has(&d, "Snikket", UDP, 6000, 6200, true);
	has(&d, "Snikket", TCP, 3478, 3478, true);
	has(&d, "Snikket", UDP, 3478, 3478, true);
	assert_int_equal(d.n, 6);	/* not the .dpkg-old copy */
	pw_decls_free(&d);
	assert_int_equal(pw_decls_add_ufw_app(&d, dir, "jitsi", err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "no application profile [jitsi]"));
	assert_non_null(strstr(err, "broken:2:"));	/* the file that did not parse */
	pw_decls_free(&d);
	unlink(path);
	snprintf(path, sizeof(path), "%s/broken", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/ufw-snikket", dir);
	unlink(path);
	rmdir(dir);
	assert_int_equal(pw_decls_add_ufw_app(&d, dir, "x", err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "cannot read"));
}

static void test_jitsi_profile(void **state)
{
	struct pw_decls d = {};

	(void)state;
	assert_int_equal(pw_decls_add_profile(&d, "jitsi", err, sizeof(err)), 0);
	has(&d, "jitsi", TCP, 80, 80, true);
	has(&d, "jitsi", TCP, 443, 443, true);
	has(&d, "jitsi", UDP, 10000, 10000, true);
	has(&d, "jitsi", UDP, 3478, 3478, false);
	has(&d, "jitsi", TCP, 5349, 5349, false);
	assert_int_equal(d.n, 5);
	pw_decls_free(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_snikket_defaults_and_tweaks),
		cmocka_unit_test(test_snikket_rules_name_the_line),
		cmocka_unit_test(test_coturn_defaults),
		cmocka_unit_test(test_coturn_settings),
		cmocka_unit_test(test_livekit_as_plugnmeet_ships_it),
		cmocka_unit_test(test_livekit_variants),
		cmocka_unit_test(test_ufw_application_by_name),
		cmocka_unit_test(test_jitsi_profile),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
