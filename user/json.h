/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* A streaming JSON writer: keys in order, commas and escaping handled. */
#ifndef PW_JSON_H
#define PW_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define PW_JSON_DEPTH 16

struct pw_json {
	FILE *f;
	int depth;
	bool has_item[PW_JSON_DEPTH];
};

void pw_json_init(struct pw_json *j, FILE *f);
/* key is NULL for a value inside an array or at the top. */
void pw_json_object(struct pw_json *j, const char *key);
void pw_json_array(struct pw_json *j, const char *key);
void pw_json_end(struct pw_json *j, char close);
void pw_json_str(struct pw_json *j, const char *key, const char *v);
void pw_json_u64(struct pw_json *j, const char *key, uint64_t v);
void pw_json_double(struct pw_json *j, const char *key, double v);
void pw_json_bool(struct pw_json *j, const char *key, bool v);
void pw_json_null(struct pw_json *j, const char *key);
/* Ends the document with a newline. */
void pw_json_finish(struct pw_json *j);
/* Length of the valid UTF-8 sequence at s, or 0 (also for a NUL). */
size_t pw_utf8_len(const unsigned char *s);
/* The JSON string of s, quotes included, invalid UTF-8 as U+FFFD. */
void pw_json_write_string(FILE *f, const char *s);

#endif
