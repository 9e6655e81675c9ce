// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Declarations in ufw's application-profile syntax, from files, --ports and
 * the built-in profiles. Every mistake names where it is and what is wrong;
 * nothing half-parsed is kept by the caller (it exits). */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include "decl.h"

int pw_decl_error(char *err, size_t errlen, const char *where,
		      const char *fmt, ...)
{
	size_t n;
	va_list ap;

	if (!err || !errlen)
		return -EINVAL;
	n = (size_t)snprintf(err, errlen, "%s: ", where);
	if (n < errlen) {
		va_start(ap, fmt);
		vsnprintf(err + n, errlen - n, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

const char *pw_proto_name(enum pw_proto proto)
{
	return proto == PW_PROTO_UDP ? "udp" : "tcp";
}

uint32_t pw_range_size(const struct pw_range *r)
{
	return (uint32_t)r->last - r->first + 1;
}

void pw_range_ports(const struct pw_range *r, char *buf, size_t len)
{
	if (r->first == r->last)
		snprintf(buf, len, "%u", r->first);
	else
		snprintf(buf, len, "%u-%u", r->first, r->last);
}

static bool service_name_ok(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len >= PW_SERVICE_MAX)
		return false;
	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return false;
	return true;
}

int pw_decls_add(struct pw_decls *d, const char *service, enum pw_proto proto,
		 uint16_t first, uint16_t last, bool required)
{
	struct pw_range *r;
	size_t i;

	if (first == 0 || first > last || !service_name_ok(service, strlen(service)))
		return -EINVAL;
	for (i = 0; i < d->n; i++) {
		r = &d->v[i];
		if (r->proto == proto && r->first == first && r->last == last &&
		    !strcmp(r->service, service)) {
			r->required |= required;
			return 0;
		}
	}
	if (d->n >= PW_RANGES_MAX)
		return -E2BIG;
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 16;

		r = realloc(d->v, cap * sizeof(*r));
		if (!r)
			return -ENOMEM;
		d->v = r;
		d->cap = cap;
	}
	r = &d->v[d->n++];
	memset(r, 0, sizeof(*r));
	snprintf(r->service, sizeof(r->service), "%s", service);
	r->proto = proto;
	r->first = first;
	r->last = last;
	r->required = required;
	return 0;
}

int pw_decls_add_at(struct pw_decls *d, const char *service,
		    enum pw_proto proto, uint16_t first, uint16_t last,
		    bool required, const char *where, char *err, size_t errlen)
{
	int r = pw_decls_add(d, service, proto, first, last, required);

	if (r == -ENOMEM)
		return pw_decl_error(err, errlen, where, "out of memory");
	if (r == -E2BIG)
		return pw_decl_error(err, errlen, where,
				     "more than %d ranges declared: write a long run of ports as one range (a:b)",
				     PW_RANGES_MAX);
	return r;
}

void pw_decls_free(struct pw_decls *d)
{
	free(d->v);
	memset(d, 0, sizeof(*d));
}

int pw_quote_len(const char *s, const char *e)
{
	return e - s > 40 ? 40 : (int)(e - s);
}

void pw_trim(const char **s, const char **e)
{
	while (*s < *e && isspace((unsigned char)**s))
		(*s)++;
	while (*e > *s && isspace((unsigned char)(*e)[-1]))
		(*e)--;
}

bool pw_config_line(const char *text, size_t len, size_t *pos,
		    unsigned *lineno, const char **s, const char **e)
{
	const char *nl;

	while (*pos < len) {
		*s = text + *pos;
		nl = memchr(*s, '\n', len - *pos);
		*e = nl ? nl : text + len;
		*pos = (size_t)(*e - text) + (nl ? 1 : 0);
		(*lineno)++;
		pw_trim(s, e);	/* a CR before the newline too */
		if (*s < *e && **s != '#')
			return true;
	}
	return false;
}

static int parse_port(const char *s, const char *e, uint16_t *port,
		      const char *where, char *err, size_t errlen)
{
	unsigned long v = 0;
	const char *p;

	pw_trim(&s, &e);
	if (s == e)
		return pw_decl_error(err, errlen, where, "a port number is missing");
	for (p = s; p < e; p++) {
		if (!isdigit((unsigned char)*p))
			return pw_decl_error(err, errlen, where,
					  "'%.*s' is not a port number",
					  pw_quote_len(s, e), s);
		if (v <= 65535)
			v = v * 10 + (unsigned long)(*p - '0');
	}
	if (v == 0 || v > 65535)
		return pw_decl_error(err, errlen, where,
				  "port %.*s is out of range (1-65535)",
				  pw_quote_len(s, e), s);
	*port = (uint16_t)v;
	return 0;
}

/* "80", "6000:6200" or "6000-6200" */
static int parse_ports(const char *s, const char *e, uint16_t *first,
		       uint16_t *last, const char *where, char *err,
		       size_t errlen)
{
	const char *sep = NULL, *p;
	int r;

	for (p = s; p < e; p++) {
		if (*p != ':' && *p != '-')
			continue;
		if (sep)
			return pw_decl_error(err, errlen, where,
					  "'%.*s' is not a port or a range",
					  pw_quote_len(s, e), s);
		sep = p;
	}
	if (!sep) {
		r = parse_port(s, e, first, where, err, errlen);
		*last = *first;
		return r;
	}
	r = parse_port(s, sep, first, where, err, errlen);
	if (!r)
		r = parse_port(sep + 1, e, last, where, err, errlen);
	if (!r && *first > *last)
		return pw_decl_error(err, errlen, where,
				  "range %u%c%u: the first port is above the last",
				  *first, *sep, *last);
	return r;
}

/* One '|' entry: "80,443/tcp", "3478" (tcp and udp), "6000:6200/udp" */
static int add_entry(struct pw_decls *d, const char *service, const char *s,
		     const char *e, bool required, const char *where,
		     char *err, size_t errlen)
{
	const char *slash = memchr(s, '/', (size_t)(e - s));
	const char *list_end = slash ? slash : e, *p, *q;
	bool tcp = true, udp = true;
	uint16_t first, last;
	int r;

	pw_trim(&s, &e);
	if (s == e)
		return pw_decl_error(err, errlen, where,
				  "an empty entry in the port list");
	if (slash) {
		const char *ps = slash + 1, *pe = e;

		pw_trim(&ps, &pe);
		if (ps == pe)
			return pw_decl_error(err, errlen, where,
					  "a protocol is missing after '/'");
		if ((size_t)(pe - ps) == 3 && !strncasecmp(ps, "tcp", 3))
			udp = false;
		else if ((size_t)(pe - ps) == 3 && !strncasecmp(ps, "udp", 3))
			tcp = false;
		else
			return pw_decl_error(err, errlen, where,
					  "unknown protocol '%.*s' (tcp or udp)",
					  (int)(pe - ps > 20 ? 20 : pe - ps), ps);
	}
	for (p = s; p <= list_end; p = q + 1) {
		q = memchr(p, ',', (size_t)(list_end - p));
		if (!q)
			q = list_end;
		r = parse_ports(p, q, &first, &last, where, err, errlen);
		if (!r && tcp)
			r = pw_decls_add_at(d, service, PW_PROTO_TCP, first, last,
					    required, where, err, errlen);
		if (!r && udp)
			r = pw_decls_add_at(d, service, PW_PROTO_UDP, first, last,
					    required, where, err, errlen);
		if (r)
			return r;
		if (q == list_end)
			break;
	}
	return 0;
}

int pw_decls_add_spec(struct pw_decls *d, const char *service,
		      const char *spec, bool required, const char *where,
		      char *err, size_t errlen)
{
	const char *s = spec, *e = spec + strlen(spec), *p, *q;
	int r;

	if (!service_name_ok(service, strlen(service)))
		return pw_decl_error(err, errlen, where,
				  "the service name must be 1-%d printable bytes",
				  PW_SERVICE_MAX - 1);
	pw_trim(&s, &e);
	if (s == e)
		return pw_decl_error(err, errlen, where, "the port list is empty");
	for (p = s; p <= e; p = q + 1) {
		q = memchr(p, '|', (size_t)(e - p));
		if (!q)
			q = e;
		r = add_entry(d, service, p, q, required, where, err, errlen);
		if (r)
			return r;
		if (q == e)
			break;
	}
	return 0;
}

int pw_decls_add_named(struct pw_decls *d, const char *arg, const char *where,
		       char *err, size_t errlen)
{
	const char *eq = strchr(arg, '=');
	char name[PW_SERVICE_MAX];
	const char *s = arg, *e = eq;

	if (!eq)
		return pw_decl_error(err, errlen, where,
				  "expected NAME=PORTS (e.g. turn=3478|49152:65535/udp), got '%.40s'",
				  arg);
	pw_trim(&s, &e);
	if (!service_name_ok(s, (size_t)(e - s)))
		return pw_decl_error(err, errlen, where,
				  "the service name before '=' must be 1-%d printable bytes",
				  PW_SERVICE_MAX - 1);
	snprintf(name, sizeof(name), "%.*s", (int)(e - s), s);
	return pw_decls_add_spec(d, name, eq + 1, true, where, err, errlen);
}

int pw_decls_add_inline(struct pw_decls *d, const char *arg, int argno,
			char *err, size_t errlen)
{
	char where[32];

	snprintf(where, sizeof(where), "--ports:%d", argno);
	return pw_decls_add_named(d, arg, where, err, errlen);
}

struct ufw_section {
	char name[PW_SERVICE_MAX];
	unsigned int line;
	bool has_ports;
};

static int finish_section(const struct ufw_section *sec, const char *file,
			  char *err, size_t errlen)
{
	char where[PW_ERR_MAX / 2];

	if (!sec->name[0] || sec->has_ports)
		return 0;
	snprintf(where, sizeof(where), "%s:%u", file, sec->line);
	return pw_decl_error(err, errlen, where, "[%s] has no ports= line",
			  sec->name);
}

/* ufw reads profiles with Python's configparser: [SECTION], KEY=VALUE or
 * KEY: VALUE, '#' and ';' comments, keys in any case. */
int pw_decls_add_ufw_text(struct pw_decls *d, const char *text, size_t len,
			  const char *file, char *err, size_t errlen)
{
	const char *line = text, *end = text + len, *nl, *s, *e, *sep, *p;
	struct ufw_section sec = { .name = "" };
	char where[PW_ERR_MAX / 2];
	char names[64][PW_SERVICE_MAX];
	size_t nnames = 0, i;
	unsigned int lineno = 0, sections = 0;
	char *value;
	int r;

	for (; line < end; line = nl + 1) {
		nl = memchr(line, '\n', (size_t)(end - line));
		if (!nl)
			nl = end;
		lineno++;
		snprintf(where, sizeof(where), "%s:%u", file, lineno);
		if (memchr(line, '\0', (size_t)(nl - line)))
			return pw_decl_error(err, errlen, where,
					  "a NUL byte: this is not a text file");
		s = line;
		e = nl;
		pw_trim(&s, &e);
		if (s == e || *s == '#' || *s == ';')
			continue;
		if (*s == '[') {
			r = finish_section(&sec, file, err, errlen);
			if (r)
				return r;
			if (e[-1] != ']' || e - s < 2)
				return pw_decl_error(err, errlen, where,
						  "a section header is [NAME], got '%.*s'",
						  pw_quote_len(s, e), s);
			s++;
			e--;
			pw_trim(&s, &e);
			if (!service_name_ok(s, (size_t)(e - s)))
				return pw_decl_error(err, errlen, where,
						  "a section name must be 1-%d printable bytes",
						  PW_SERVICE_MAX - 1);
			snprintf(sec.name, sizeof(sec.name), "%.*s",
				 (int)(e - s), s);
			for (i = 0; i < nnames; i++)
				if (!strcmp(names[i], sec.name))
					return pw_decl_error(err, errlen, where,
							  "[%s] appears twice in the file",
							  sec.name);
			if (nnames == sizeof(names) / sizeof(names[0]))
				return pw_decl_error(err, errlen, where,
						  "more than %zu sections",
						  nnames);
			memcpy(names[nnames++], sec.name, sizeof(sec.name));
			sec.line = lineno;
			sec.has_ports = false;
			sections++;
			continue;
		}
		sep = NULL;
		for (p = s; p < e && !sep; p++)
			if (*p == '=' || *p == ':')
				sep = p;
		if (!sep || sep == s)
			return pw_decl_error(err, errlen, where,
					  "expected KEY=VALUE or [SECTION], got '%.*s'",
					  pw_quote_len(s, e), s);
		if (!sec.name[0])
			return pw_decl_error(err, errlen, where,
					  "'%.*s' is outside any section: a ufw profile starts with [NAME]",
					  pw_quote_len(s, e), s);
		p = sep;
		while (p > s && isspace((unsigned char)p[-1]))
			p--;
		if ((size_t)(p - s) != 5 || strncasecmp(s, "ports", 5))
			continue;	/* title=, description=: not ours */
		if (sec.has_ports)
			return pw_decl_error(err, errlen, where,
					  "[%s] has a second ports= line", sec.name);
		sec.has_ports = true;
		value = strndup(sep + 1, (size_t)(e - sep - 1));
		if (!value)
			return pw_decl_error(err, errlen, where, "out of memory");
		r = pw_decls_add_spec(d, sec.name, value, true, where, err,
				      errlen);
		free(value);
		if (r)
			return r;
	}
	r = finish_section(&sec, file, err, errlen);
	if (r)
		return r;
	if (!sections) {
		snprintf(where, sizeof(where), "%s:%u", file, lineno ? lineno : 1);
		return pw_decl_error(err, errlen, where,
				  "no application profile here: expected [NAME] and ports=...");
	}
	return 0;
}

int pw_read_config(const char *path, const char *what, char **text,
		   size_t *len, char *err, size_t errlen)
{
	char where[PW_ERR_MAX / 2];
	struct stat st;
	ssize_t n;
	char *buf;
	int fd, r = 0;

	*text = NULL;
	*len = 0;
	snprintf(where, sizeof(where), "%s:0", path);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return pw_decl_error(err, errlen, where, "cannot read: %s",
				  strerror(errno));
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		close(fd);
		return pw_decl_error(err, errlen, where, "is a directory, not %s",
				  what);
	}
	/* Blocking reads from here on (a FIFO, /dev/stdin). */
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	buf = malloc(PW_PROFILE_FILE_MAX + 1);
	if (!buf) {
		close(fd);
		return pw_decl_error(err, errlen, where, "out of memory");
	}
	while (*len <= PW_PROFILE_FILE_MAX) {
		n = read(fd, buf + *len, PW_PROFILE_FILE_MAX + 1 - *len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = pw_decl_error(err, errlen, where, "cannot read: %s",
				       strerror(errno));
			break;
		}
		if (n == 0)
			break;
		*len += (size_t)n;
	}
	if (!r && *len > PW_PROFILE_FILE_MAX)
		r = pw_decl_error(err, errlen, where, "larger than %u KiB: not %s",
			       PW_PROFILE_FILE_MAX / 1024, what);
	close(fd);
	if (r) {
		free(buf);
		*len = 0;
		return r;
	}
	buf[*len] = '\0';	/* for parsers that want a string */
	*text = buf;
	return 0;
}

int pw_decls_add_ufw_file(struct pw_decls *d, const char *path, char *err,
			  size_t errlen)
{
	size_t len;
	char *buf;
	int r;

	r = pw_read_config(path, "a ufw profile", &buf, &len, err, errlen);
	if (r)
		return r;
	r = pw_decls_add_ufw_text(d, buf, len, path, err, errlen);
	free(buf);
	return r;
}
