// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Declarations read from the services' own configuration, so that they
 * cannot drift from it: Snikket's snikket.conf, coturn's turnserver.conf,
 * LiveKit's YAML (as plugNmeet ships it), and a ufw application profile
 * looked up by name. Each applies the service's own defaults and rules;
 * a value the service would refuse is an error naming its line. */
#include <ctype.h>
#include <dirent.h>
#include <limits.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>
#include "decl.h"

#define WHERE_MAX (PW_ERR_MAX / 2)

static bool token_is(const char *s, const char *e, const char *word)
{
	size_t n = strlen(word);

	return (size_t)(e - s) == n && !memcmp(s, word, n);
}

/* Decimal digits only, 0..65535; false otherwise. */
static bool parse_u16(const char *s, const char *e, unsigned *v)
{
	*v = 0;
	if (s == e || e - s > 5)
		return false;
	for (; s < e; s++) {
		if (!isdigit((unsigned char)*s))
			return false;
		*v = *v * 10 + (unsigned)(*s - '0');
	}
	return *v <= 65535;
}

/* ---- Snikket: snikket.conf, KEY=value as docker compose's env_file ---- */

enum snikket_key {
	SK_TURN_MIN, SK_TURN_MAX, SK_HTTP, SK_HTTPS, SK_COUNT,
};

static const struct {
	const char *name;
	unsigned dflt;
} snikket_keys[SK_COUNT] = {
	[SK_TURN_MIN] = { "SNIKKET_TWEAK_TURNSERVER_MIN_PORT", 49152 },
	[SK_TURN_MAX] = { "SNIKKET_TWEAK_TURNSERVER_MAX_PORT", 65535 },
	[SK_HTTP] = { "SNIKKET_TWEAK_HTTP_PORT", 80 },
	[SK_HTTPS] = { "SNIKKET_TWEAK_HTTPS_PORT", 443 },
};

/* A value: 'quoted', "quoted", or bare up to a " #" comment. */
static bool env_value(const char **s, const char **e)
{
	const char *q;

	pw_trim(s, e);
	if (*s < *e && (**s == '"' || **s == '\'')) {
		q = memchr(*s + 1, **s, (size_t)(*e - *s - 1));
		if (!q)
			return false;
		for (const char *p = q + 1; p < *e; p++)
			if (!isspace((unsigned char)*p)) {
				if (*p == '#')
					break;
				return false;
			}
		(*s)++;
		*e = q;
		return true;
	}
	for (q = *s; q < *e; q++)
		if (*q == '#' && (q == *s || isspace((unsigned char)q[-1]))) {
			*e = q;
			break;
		}
	pw_trim(s, e);
	return true;
}

int pw_decls_add_snikket_text(struct pw_decls *d, const char *text, size_t len,
			      const char *file, char *err, size_t errlen)
{
	unsigned value[SK_COUNT], line_of[SK_COUNT] = { 0 }, lineno = 0, v;
	const char *s, *e, *eq, *k;
	char where[WHERE_MAX], spec[160];
	size_t pos = 0;
	int i;

	for (i = 0; i < SK_COUNT; i++)
		value[i] = snikket_keys[i].dflt;
	while (pw_config_line(text, len, &pos, &lineno, &s, &e)) {
		snprintf(where, sizeof(where), "%s:%u", file, lineno);
		if (e - s > 7 && !memcmp(s, "export ", 7))
			s += 7;
		eq = memchr(s, '=', (size_t)(e - s));
		if (!eq)
			return pw_decl_error(err, errlen, where,
					     "expected KEY=value, got '%.*s'",
					     pw_quote_len(s, e), s);
		k = eq;
		pw_trim(&s, &k);
		for (i = 0; i < SK_COUNT; i++)
			if (token_is(s, k, snikket_keys[i].name))
				break;
		if (i == SK_COUNT)
			continue;	/* a setting that moves no port */
		s = eq + 1;
		if (!env_value(&s, &e))
			return pw_decl_error(err, errlen, where,
					     "%s: unbalanced quote", snikket_keys[i].name);
		if (!parse_u16(s, e, &v) || v == 0)
			return pw_decl_error(err, errlen, where,
					     "%s must be a port number (1-65535), got '%.*s'",
					     snikket_keys[i].name, pw_quote_len(s, e), s);
		/* Snikket's own rule for the TURN range. */
		if ((i == SK_TURN_MIN || i == SK_TURN_MAX) && v <= 1024)
			return pw_decl_error(err, errlen, where,
					     "%s must be larger than 1024 and at most 65535 (Snikket's rule), got %u",
					     snikket_keys[i].name, v);
		value[i] = v;	/* the last one counts, as in a shell */
		line_of[i] = lineno;
	}
	if (value[SK_TURN_MIN] > value[SK_TURN_MAX]) {
		i = line_of[SK_TURN_MAX] > line_of[SK_TURN_MIN] ? SK_TURN_MAX : SK_TURN_MIN;
		snprintf(where, sizeof(where), "%s:%u", file, line_of[i]);
		return pw_decl_error(err, errlen, where,
				     "SNIKKET_TWEAK_TURNSERVER_MIN_PORT (%u) is above SNIKKET_TWEAK_TURNSERVER_MAX_PORT (%u); Snikket refuses that",
				     value[SK_TURN_MIN], value[SK_TURN_MAX]);
	}
	/* Snikket's firewall document, with the tweaked ports. */
	snprintf(spec, sizeof(spec),
		 "%u/tcp|%u/tcp|5222/tcp|5269/tcp|5000/tcp|3478:3479|5349:5350|%u:%u/udp",
		 value[SK_HTTP], value[SK_HTTPS], value[SK_TURN_MIN],
		 value[SK_TURN_MAX]);
	snprintf(where, sizeof(where), "%s", file);
	return pw_decls_add_spec(d, "snikket", spec, true, where, err, errlen);
}

/* ---- coturn: turnserver.conf ---- */

enum coturn_key {
	CK_PORT, CK_TLS_PORT, CK_ALT_PORT, CK_ALT_TLS_PORT, CK_MIN, CK_MAX,
	CK_NO_UDP, CK_NO_TCP, CK_NO_TLS, CK_NO_DTLS, CK_CERT, CK_COUNT,
};

static const char *const coturn_keys[CK_COUNT] = {
	[CK_PORT] = "listening-port",
	[CK_TLS_PORT] = "tls-listening-port",
	[CK_ALT_PORT] = "alt-listening-port",
	[CK_ALT_TLS_PORT] = "alt-tls-listening-port",
	[CK_MIN] = "min-port",
	[CK_MAX] = "max-port",
	[CK_NO_UDP] = "no-udp",
	[CK_NO_TCP] = "no-tcp",
	[CK_NO_TLS] = "no-tls",
	[CK_NO_DTLS] = "no-dtls",
	[CK_CERT] = "cert",
};

/* coturn's booleans: no value means true. -1 if none of its words. */
static int coturn_bool(const char *s, const char *e)
{
	static const char *const yes[] = { "1", "on", "yes", "true", "t" };
	static const char *const no[] = { "0", "off", "no", "false", "f" };
	size_t i, n = (size_t)(e - s);

	if (s == e)
		return 1;
	for (i = 0; i < 5; i++) {
		if (n == strlen(yes[i]) && !strncasecmp(s, yes[i], n))
			return 1;
		if (n == strlen(no[i]) && !strncasecmp(s, no[i], n))
			return 0;
	}
	return -1;
}

static int coturn_add(struct pw_decls *d, unsigned port, bool tcp, bool udp,
		      bool required, const char *where, char *err, size_t errlen)
{
	int r = 0;

	if (!port)
		return 0;
	if (tcp)
		r = pw_decls_add_at(d, "coturn", PW_PROTO_TCP, (uint16_t)port,
				    (uint16_t)port, required, where, err, errlen);
	if (!r && udp)
		r = pw_decls_add_at(d, "coturn", PW_PROTO_UDP, (uint16_t)port,
				    (uint16_t)port, required, where, err, errlen);
	return r;
}

int pw_decls_add_coturn_text(struct pw_decls *d, const char *text, size_t len,
			     const char *file, char *err, size_t errlen)
{
	unsigned num[CK_COUNT] = { 0 }, line_of[CK_COUNT] = { 0 }, lineno = 0, v;
	bool set[CK_COUNT] = { false };
	const char *s, *e, *k, *ke;
	char where[WHERE_MAX];
	size_t pos = 0;
	int i, b, r;

	num[CK_PORT] = 3478;
	num[CK_TLS_PORT] = 5349;
	num[CK_MIN] = 49152;
	num[CK_MAX] = 65535;
	while (pw_config_line(text, len, &pos, &lineno, &s, &e)) {
		snprintf(where, sizeof(where), "%s:%u", file, lineno);
		/* key=value, key value, or a bare flag; "--key" as on the
		 * command line is taken too. */
		if (e - s > 2 && s[0] == '-' && s[1] == '-')
			s += 2;
		for (ke = s; ke < e && *ke != '=' && !isspace((unsigned char)*ke); ke++)
			;
		k = s;
		s = ke;
		while (s < e && (isspace((unsigned char)*s) || *s == '=')) {
			if (*s++ == '=')
				break;
		}
		pw_trim(&s, &e);
		for (i = 0; i < CK_COUNT; i++)
			if (token_is(k, ke, coturn_keys[i]))
				break;
		if (i == CK_COUNT)
			continue;	/* moves no port */
		set[i] = true;
		line_of[i] = lineno;
		if (i == CK_CERT)
			continue;
		if (i >= CK_NO_UDP) {
			b = coturn_bool(s, e);
			if (b < 0)
				return pw_decl_error(err, errlen, where,
						     "%s takes a boolean (on/off, yes/no, true/false, 1/0), got '%.*s'",
						     coturn_keys[i], pw_quote_len(s, e), s);
			num[i] = (unsigned)b;
			continue;
		}
		if (!parse_u16(s, e, &v) ||
		    (v == 0 && i != CK_ALT_PORT && i != CK_ALT_TLS_PORT))
			return pw_decl_error(err, errlen, where,
					     "%s must be a port number (1-65535), got '%.*s'",
					     coturn_keys[i], pw_quote_len(s, e), s);
		num[i] = v;	/* the last one counts, as coturn reads it */
	}
	if (num[CK_MIN] > num[CK_MAX]) {
		i = line_of[CK_MAX] > line_of[CK_MIN] ? CK_MAX : CK_MIN;
		snprintf(where, sizeof(where), "%s:%u", file, line_of[i]);
		return pw_decl_error(err, errlen, where,
				     "min-port (%u) is above max-port (%u)",
				     num[CK_MIN], num[CK_MAX]);
	}
	/* 0 or absent: the listening port plus one (coturn's rule); used
	 * only with two listening addresses (RFC 5780), so optional. */
	if (!num[CK_ALT_PORT] && num[CK_PORT] < 65535)
		num[CK_ALT_PORT] = num[CK_PORT] + 1;
	if (!num[CK_ALT_TLS_PORT] && num[CK_TLS_PORT] < 65535)
		num[CK_ALT_TLS_PORT] = num[CK_TLS_PORT] + 1;
	snprintf(where, sizeof(where), "%s", file);
	r = coturn_add(d, num[CK_PORT], !num[CK_NO_TCP], !num[CK_NO_UDP], true,
		       where, err, errlen);
	/* TLS and DTLS listen only with a certificate; without a cert line
	 * coturn looks for a default one, so the port is optional then. */
	if (!r)
		r = coturn_add(d, num[CK_TLS_PORT], !num[CK_NO_TLS],
			       !num[CK_NO_DTLS], set[CK_CERT], where, err, errlen);
	if (!r)
		r = coturn_add(d, num[CK_ALT_PORT], !num[CK_NO_TCP],
			       !num[CK_NO_UDP], false, where, err, errlen);
	if (!r)
		r = coturn_add(d, num[CK_ALT_TLS_PORT], !num[CK_NO_TLS],
			       !num[CK_NO_DTLS], false, where, err, errlen);
	if (!r)
		r = pw_decls_add_at(d, "coturn", PW_PROTO_UDP, (uint16_t)num[CK_MIN],
				    (uint16_t)num[CK_MAX], true, where, err, errlen);
	return r;
}

/* ---- LiveKit: its YAML, as plugNmeet's installer writes it ---- */

struct yaml_ctx {
	yaml_document_t doc;
	const char *file;
	char *err;
	size_t errlen;
};

static yaml_node_t *yaml_get(struct yaml_ctx *y, yaml_node_t *map, const char *key)
{
	yaml_node_pair_t *p;
	yaml_node_t *k;

	if (!map || map->type != YAML_MAPPING_NODE)
		return NULL;
	for (p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
		k = yaml_document_get_node(&y->doc, p->key);
		if (k && k->type == YAML_SCALAR_NODE &&
		    k->data.scalar.length == strlen(key) &&
		    !memcmp(k->data.scalar.value, key, strlen(key)))
			return yaml_document_get_node(&y->doc, p->value);
	}
	return NULL;
}

static int yaml_fail(struct yaml_ctx *y, const yaml_node_t *n, const char *fmt,
		     const char *name, const char *detail)
{
	char where[WHERE_MAX];

	snprintf(where, sizeof(where), "%s:%zu", y->file,
		 n ? n->start_mark.line + 1 : 1);
	return pw_decl_error(y->err, y->errlen, where, fmt, name, detail);
}

/* A port from path (e.g. "rtc.tcp_port") of map: *v unchanged when the
 * key is absent or null; allow_zero for "0 turns it off". */
static int yaml_port(struct yaml_ctx *y, yaml_node_t *map, const char *key,
		     const char *path, unsigned *v, bool allow_zero)
{
	yaml_node_t *n = yaml_get(y, map, key);
	const char *s, *e;
	unsigned got;

	if (!n)
		return 0;
	if (n->type != YAML_SCALAR_NODE)
		return yaml_fail(y, n, "%s must be a port number, got a %s",
				 path, n->type == YAML_MAPPING_NODE ? "mapping" : "list");
	s = (const char *)n->data.scalar.value;
	e = s + n->data.scalar.length;
	if (n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
	    (token_is(s, e, "~") || token_is(s, e, "null") || s == e))
		return 0;
	if (!parse_u16(s, e, &got) || (!got && !allow_zero))
		return yaml_fail(y, n, "%s must be a port number (1-65535), got '%.40s'",
				 path, s);
	*v = got;
	return 0;
}

/* YAML 1.1 booleans, as LiveKit's parser (go-yaml) takes them. */
static int yaml_flag(struct yaml_ctx *y, yaml_node_t *map, const char *key,
		     const char *path, bool *v)
{
	static const char *const yes[] = { "true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON" };
	static const char *const no[] = { "false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF" };
	yaml_node_t *n = yaml_get(y, map, key);
	const char *s, *e;
	size_t i;

	if (!n)
		return 0;
	if (n->type == YAML_SCALAR_NODE) {
		s = (const char *)n->data.scalar.value;
		e = s + n->data.scalar.length;
		for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
			if (token_is(s, e, yes[i])) {
				*v = true;
				return 0;
			}
			if (token_is(s, e, no[i])) {
				*v = false;
				return 0;
			}
		}
	}
	return yaml_fail(y, n, "%s must be true or false, got '%.40s'", path,
			 n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : "?");
}

int pw_decls_add_livekit_text(struct pw_decls *d, const char *text, size_t len,
			      const char *file, char *err, size_t errlen)
{
	struct yaml_ctx y = { .file = file, .err = err, .errlen = errlen };
	unsigned port = 7880, tcp = 7881, start = 50000, end = 60000, udp = 0;
	unsigned turn_udp = 3478, turn_tls = 5349;
	bool turn = false, external_tls = false;
	yaml_node_t *root, *rtc, *tn, *n;
	char where[WHERE_MAX];
	yaml_parser_t parser;
	int r = 0;

	if (!yaml_parser_initialize(&parser))
		return pw_decl_error(err, errlen, file, "out of memory");
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (!yaml_parser_load(&parser, &y.doc)) {
		snprintf(where, sizeof(where), "%s:%zu", file,
			 parser.problem_mark.line + 1);
		r = pw_decl_error(err, errlen, where, "not YAML: %s",
				  parser.problem ? parser.problem : "parse error");
		yaml_parser_delete(&parser);
		return r;
	}
	yaml_parser_delete(&parser);
	root = yaml_document_get_root_node(&y.doc);
	if (!root || root->type != YAML_MAPPING_NODE) {
		snprintf(where, sizeof(where), "%s:1", file);
		r = pw_decl_error(err, errlen, where,
				  "expected LiveKit's configuration (a mapping with port:, rtc:, turn:)");
		goto out;
	}
	rtc = yaml_get(&y, root, "rtc");
	tn = yaml_get(&y, root, "turn");
	r = yaml_port(&y, root, "port", "port", &port, false);
	if (!r)
		r = yaml_port(&y, rtc, "tcp_port", "rtc.tcp_port", &tcp, true);
	if (!r)
		r = yaml_port(&y, rtc, "port_range_start", "rtc.port_range_start", &start, false);
	if (!r)
		r = yaml_port(&y, rtc, "port_range_end", "rtc.port_range_end", &end, false);
	if (!r)
		r = yaml_port(&y, rtc, "udp_port", "rtc.udp_port", &udp, true);
	if (!r)
		r = yaml_flag(&y, tn, "enabled", "turn.enabled", &turn);
	if (!r)
		r = yaml_flag(&y, tn, "external_tls", "turn.external_tls", &external_tls);
	if (!r)
		r = yaml_port(&y, tn, "udp_port", "turn.udp_port", &turn_udp, true);
	if (!r)
		r = yaml_port(&y, tn, "tls_port", "turn.tls_port", &turn_tls, true);
	if (r)
		goto out;
	if (!udp && start > end) {
		n = yaml_get(&y, rtc, "port_range_end");
		r = yaml_fail(&y, n, "%s is below %s", "rtc.port_range_end",
			      "rtc.port_range_start");
		goto out;
	}
	snprintf(where, sizeof(where), "%s", file);
#define LIVEKIT(proto, first, last, required) \
	pw_decls_add_at(d, "livekit", proto, (uint16_t)(first), (uint16_t)(last), \
			required, where, err, errlen)
	/* The HTTP/WebSocket port: plugNmeet proxies it through 443. */
	r = LIVEKIT(PW_PROTO_TCP, port, port, false);
	if (!r && tcp)
		r = LIVEKIT(PW_PROTO_TCP, tcp, tcp, true);
	/* One UDP port muxes all media when udp_port is set; else the range. */
	if (!r && udp)
		r = LIVEKIT(PW_PROTO_UDP, udp, udp, true);
	else if (!r)
		r = LIVEKIT(PW_PROTO_UDP, start, end, true);
	if (!r && turn && turn_udp)
		r = LIVEKIT(PW_PROTO_UDP, turn_udp, turn_udp, true);
	/* external_tls: a proxy takes TURN/TLS on 443 and hands it on. */
	if (!r && turn && external_tls)
		r = LIVEKIT(PW_PROTO_TCP, 443, 443, true);
	else if (!r && turn && turn_tls)
		r = LIVEKIT(PW_PROTO_TCP, turn_tls, turn_tls, true);
#undef LIVEKIT
out:
	yaml_document_delete(&y.doc);
	return r;
}

/* ---- ufw: an application profile by name ---- */

int pw_decls_add_ufw_app(struct pw_decls *d, const char *dir, const char *name,
			 char *err, size_t errlen)
{
	char path[PATH_MAX], ferr[PW_ERR_MAX], broken[PW_ERR_MAX] = "";
	struct dirent **ents = NULL;
	struct pw_decls all;
	int n, i, r = 0, found = 0;
	size_t k;

	n = scandir(dir, &ents, NULL, alphasort);
	if (n < 0)
		return pw_decl_error(err, errlen, dir, "cannot read: %s", strerror(errno));
	for (i = 0; i < n && !r; i++) {
		const char *f = ents[i]->d_name;
		size_t fl = strlen(f);

		/* Hidden files and editor or dpkg leftovers are no profiles. */
		if (f[0] == '.' || f[fl - 1] == '~' ||
		    (fl > 4 && (!strcmp(f + fl - 4, ".bak") || !strcmp(f + fl - 4, ".swp"))) ||
		    (fl > 9 && (!strcmp(f + fl - 9, ".dpkg-old") ||
				!strcmp(f + fl - 9, ".dpkg-new") ||
				!strcmp(f + fl - 9, ".dpkg-dist"))))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, f);
		memset(&all, 0, sizeof(all));
		if (pw_decls_add_ufw_file(&all, path, ferr, sizeof(ferr))) {
			/* Another application's broken file is not ours to
			 * judge; it is named if ours is not found. */
			if (!broken[0])
				snprintf(broken, sizeof(broken), "%s", ferr);
			pw_decls_free(&all);
			continue;
		}
		/* Names as ufw takes them on its command line: any case. */
		for (k = 0; k < all.n && !r; k++) {
			if (strcasecmp(all.v[k].service, name))
				continue;
			found++;
			r = pw_decls_add_at(d, all.v[k].service, all.v[k].proto,
					    all.v[k].first, all.v[k].last,
					    all.v[k].required, path, err, errlen);
		}
		pw_decls_free(&all);
	}
	for (i = 0; i < n; i++)
		free(ents[i]);
	free(ents);
	if (r)
		return r;
	if (!found)
		return pw_decl_error(err, errlen, "--from-ufw",
				     "no application profile [%.40s] in %s%s%s", name, dir,
				     broken[0] ? "; a file there does not parse: " : "",
				     broken);
	return 0;
}

/* The file variants: read, then parse as text. */
static int from_file(struct pw_decls *d, const char *path, const char *what,
		     int (*parse)(struct pw_decls *, const char *, size_t,
				  const char *, char *, size_t),
		     char *err, size_t errlen)
{
	size_t len;
	char *text;
	int r;

	r = pw_read_config(path, what, &text, &len, err, errlen);
	if (r)
		return r;
	r = parse(d, text, len, path, err, errlen);
	free(text);
	return r;
}

int pw_decls_add_snikket_file(struct pw_decls *d, const char *path, char *err,
			      size_t errlen)
{
	return from_file(d, path, "a snikket.conf", pw_decls_add_snikket_text,
			 err, errlen);
}

int pw_decls_add_coturn_file(struct pw_decls *d, const char *path, char *err,
			     size_t errlen)
{
	return from_file(d, path, "a turnserver.conf", pw_decls_add_coturn_text,
			 err, errlen);
}

int pw_decls_add_livekit_file(struct pw_decls *d, const char *path, char *err,
			      size_t errlen)
{
	return from_file(d, path, "a LiveKit YAML file", pw_decls_add_livekit_text,
			 err, errlen);
}
