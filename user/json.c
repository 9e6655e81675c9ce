// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <string.h>
#include "json.h"

void pw_json_init(struct pw_json *j, FILE *f)
{
	memset(j, 0, sizeof(*j));
	j->f = f;
}

size_t pw_utf8_len(const unsigned char *s)
{
	size_t n, i;
	unsigned int cp;

	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0) {
		n = 2;
		cp = s[0] & 0x1f;
	} else if ((s[0] & 0xf0) == 0xe0) {
		n = 3;
		cp = s[0] & 0x0f;
	} else if ((s[0] & 0xf8) == 0xf0) {
		n = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) ||
	    (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

void pw_json_write_string(FILE *f, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t n;

	fputc('"', f);
	while (*s) {
		if (*s == '"' || *s == '\\') {
			fputc('\\', f);
			fputc(*s++, f);
		} else if (*s < 0x20 || *s == 0x7f) {
			fprintf(f, "\\u%04x", *s++);
		} else if ((n = pw_utf8_len(s)) == 0) {
			fputs("\\ufffd", f);
			s++;
		} else {
			fwrite(s, 1, n, f);
			s += n;
		}
	}
	fputc('"', f);
}

static void item(struct pw_json *j, const char *key)
{
	if (j->depth > 0 && j->depth <= PW_JSON_DEPTH) {
		if (j->has_item[j->depth - 1])
			fputc(',', j->f);
		j->has_item[j->depth - 1] = true;
	}
	if (key) {
		pw_json_write_string(j->f, key);
		fputc(':', j->f);
	}
}

static void open_container(struct pw_json *j, const char *key, char c)
{
	item(j, key);
	fputc(c, j->f);
	if (j->depth < PW_JSON_DEPTH)
		j->has_item[j->depth] = false;
	j->depth++;
}

void pw_json_object(struct pw_json *j, const char *key)
{
	open_container(j, key, '{');
}

void pw_json_array(struct pw_json *j, const char *key)
{
	open_container(j, key, '[');
}

void pw_json_end(struct pw_json *j, char close)
{
	fputc(close, j->f);
	j->depth--;
}

void pw_json_str(struct pw_json *j, const char *key, const char *v)
{
	item(j, key);
	pw_json_write_string(j->f, v);
}

void pw_json_u64(struct pw_json *j, const char *key, uint64_t v)
{
	item(j, key);
	fprintf(j->f, "%llu", (unsigned long long)v);
}

void pw_json_double(struct pw_json *j, const char *key, double v)
{
	item(j, key);
	fprintf(j->f, "%.3f", v);
}

void pw_json_bool(struct pw_json *j, const char *key, bool v)
{
	item(j, key);
	fputs(v ? "true" : "false", j->f);
}

void pw_json_null(struct pw_json *j, const char *key)
{
	item(j, key);
	fputs("null", j->f);
}

void pw_json_finish(struct pw_json *j)
{
	fputc('\n', j->f);
	fflush(j->f);
}
