/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Declarations: which ports a service needs forwarded. They come from the
 * built-in profiles (-p), ufw application profiles (-c) and --ports. */
#ifndef PW_DECL_H
#define PW_DECL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "pw_ports.h"

#define PW_SERVICE_MAX 64	/* bytes of a service name, with the NUL */
#define PW_ERR_MAX 512		/* bytes of a "FILE:LINE: what" message */
#define PW_PROFILE_FILE_MAX (1u << 20)	/* larger is no ufw profile */
#define PW_RANGES_MAX 4096		/* declared ranges, all sources together */

struct pw_range {
	char service[PW_SERVICE_MAX];
	enum pw_proto proto;
	uint16_t first;		/* host order, 1..65535, first <= last */
	uint16_t last;
	bool required;
};

struct pw_decls {
	struct pw_range *v;
	size_t n;
	size_t cap;
};

/* Puts "WHERE: what" in err; returns -EINVAL. */
int pw_decl_error(char *err, size_t errlen, const char *where,
		  const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* All return 0 or a negative errno; on a bad declaration -EINVAL with
 * "FILE:LINE: what is wrong" in err. */

/* One range; an exact repeat within a service is folded into the first
 * (required if either is). -E2BIG past PW_RANGES_MAX ranges. */
int pw_decls_add(struct pw_decls *d, const char *service, enum pw_proto proto,
		 uint16_t first, uint16_t last, bool required);
/* pw_decls_add with its errors said in err, as from where. */
int pw_decls_add_at(struct pw_decls *d, const char *service,
		    enum pw_proto proto, uint16_t first, uint16_t last,
		    bool required, const char *where, char *err, size_t errlen);
/* A ufw ports= value: "80/tcp|443|6000:6200/udp|80,443/tcp". where says
 * where it came from, for messages ("FILE:LINE"). */
int pw_decls_add_spec(struct pw_decls *d, const char *service,
		      const char *spec, bool required, const char *where,
		      char *err, size_t errlen);
/* 'NAME=SPEC'; where says where it came from. */
int pw_decls_add_named(struct pw_decls *d, const char *arg, const char *where,
		       char *err, size_t errlen);
/* --ports 'NAME=SPEC'; argno counts the --ports options from 1. */
int pw_decls_add_inline(struct pw_decls *d, const char *arg, int argno,
			char *err, size_t errlen);
/* A ufw application profile: [NAME] sections, each with ports=. */
int pw_decls_add_ufw_text(struct pw_decls *d, const char *text, size_t len,
			  const char *file, char *err, size_t errlen);
int pw_decls_add_ufw_file(struct pw_decls *d, const char *path, char *err,
			  size_t errlen);
/* A configuration file of at most PW_PROFILE_FILE_MAX bytes, NUL-ended
 * (the NUL is not in len); what names it in messages ("a ufw profile").
 * The caller frees *text. */
int pw_read_config(const char *path, const char *what, char **text,
		   size_t *len, char *err, size_t errlen);
int pw_decls_add_profile(struct pw_decls *d, const char *name, char *err,
			 size_t errlen);
void pw_decls_free(struct pw_decls *d);

/* [*s, *e) without the blanks around it. */
void pw_trim(const char **s, const char **e);
/* How much of [s, e) to quote in a message (the text has no NUL). */
int pw_quote_len(const char *s, const char *e);
/* The next line of a config text that is neither blank nor a '#'
 * comment, from *pos: [*s, *e) trimmed, *lineno counted along; false at
 * the end. */
bool pw_config_line(const char *text, size_t len, size_t *pos,
		    unsigned *lineno, const char **s, const char **e);
/* From the services' own configuration (services.c). The _text forms
 * parse len bytes and name lines as "FILE:LINE". */
int pw_decls_add_snikket_text(struct pw_decls *d, const char *text, size_t len,
			      const char *file, char *err, size_t errlen);
int pw_decls_add_snikket_file(struct pw_decls *d, const char *path, char *err,
			      size_t errlen);
int pw_decls_add_coturn_text(struct pw_decls *d, const char *text, size_t len,
			     const char *file, char *err, size_t errlen);
int pw_decls_add_coturn_file(struct pw_decls *d, const char *path, char *err,
			     size_t errlen);
/* LiveKit's YAML, parsed with libyaml. */
int pw_decls_add_livekit_text(struct pw_decls *d, const char *text, size_t len,
			      const char *file, char *err, size_t errlen);
int pw_decls_add_livekit_file(struct pw_decls *d, const char *path, char *err,
			      size_t errlen);
/* The ufw application profile [name] (any case) among the files of dir. */
#define PW_UFW_APPS_DIR "/etc/ufw/applications.d"
int pw_decls_add_ufw_app(struct pw_decls *d, const char *dir, const char *name,
			 char *err, size_t errlen);

uint32_t pw_range_size(const struct pw_range *r);
const char *pw_proto_name(enum pw_proto proto);
/* "49152-65535" or "5222" */
void pw_range_ports(const struct pw_range *r, char *buf, size_t len);

struct pw_profile {
	const char *name;
	const char *title;
	const char *required;	/* ufw ports= syntax */
	const char *optional;	/* ufw ports= syntax, or NULL */
	const char *source;	/* where the port table comes from */
};

const struct pw_profile *pw_profile_find(const char *name);
const struct pw_profile *pw_profiles(size_t *count);

#endif
