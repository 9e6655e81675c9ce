// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include "probe.h"

const char *pw_probe_result_name(int result)
{
	static const char *const names[] = {
		[PW_PROBE_PENDING] = "not-sent",
		[PW_PROBE_SENT] = "sent",
		[PW_PROBE_CONNECTED] = "connected",
		[PW_PROBE_REFUSED] = "refused",
		[PW_PROBE_TIMEOUT] = "timeout",
		[PW_PROBE_UNREACHABLE] = "unreachable",
		[PW_PROBE_ERROR] = "error",
	};

	return result >= 0 && result <= PW_PROBE_ERROR ? names[result] : "?";
}

bool pw_probe_token_ok(const char *token)
{
	size_t n = strlen(token), i;

	if (n == 0 || n > PW_PROBE_TOKEN_MAX)
		return false;
	for (i = 0; i < n; i++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			    "0123456789._-", token[i]))
			return false;
	return true;
}

int pw_probe_token_random(char *buf, size_t len)
{
	unsigned char r[8];
	size_t i;

	if (len < 2 * sizeof(r) + 1)
		return -EINVAL;
	if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
		return -errno;
	for (i = 0; i < sizeof(r); i++) {
		buf[2 * i] = "0123456789abcdef"[r[i] >> 4];
		buf[2 * i + 1] = "0123456789abcdef"[r[i] & 15];
	}
	buf[2 * sizeof(r)] = '\0';
	return 0;
}

void pw_probe_payload_of(const char *token, struct pw_probe_payload *out)
{
	memset(out, 0, sizeof(*out));
	memcpy(out->magic, PW_PROBE_MAGIC, sizeof(out->magic));
	memcpy(out->token, token, strnlen(token, PW_PROBE_TOKEN_MAX));
}

uint32_t pw_probe_sample(const struct pw_range *r, uint32_t sample,
			 uint16_t *out)
{
	uint32_t size = pw_range_size(r), i, n = 0, port, prev = 0;

	if (!sample || size <= sample) {
		for (i = 0; i < size; i++)
			out[i] = (uint16_t)(r->first + i);
		return size;
	}
	if (sample == 1) {
		out[0] = r->first;
		return 1;
	}
	for (i = 0; i < sample; i++) {
		/* Rounded to the nearest, so both ends are hit exactly. */
		port = r->first + (uint32_t)(((uint64_t)i * (size - 1) +
					      (sample - 1) / 2) / (sample - 1));
		if (n && port == prev)
			continue;
		out[n++] = (uint16_t)port;
		prev = port;
	}
	return n;
}

int pw_probe_plan(const struct pw_decls *d, uint32_t sample,
		  struct pw_probe_target **out, size_t *n)
{
	uint8_t *seen = calloc(PW_PORT_SLOTS, 1);
	uint16_t *ports = malloc(PW_PORTS_PER_PROTO * sizeof(*ports));
	struct pw_probe_target *v = NULL, *grown;
	size_t cap = 0, i;
	uint32_t k, m, slot;
	int err = 0;

	*n = 0;
	if (!seen || !ports) {
		err = -ENOMEM;
		goto out;
	}
	for (i = 0; i < d->n; i++) {
		m = pw_probe_sample(&d->v[i], sample, ports);
		for (k = 0; k < m; k++) {
			slot = d->v[i].proto * PW_PORTS_PER_PROTO + ports[k];
			if (seen[slot])
				continue;
			seen[slot] = 1;
			if (*n == cap) {
				cap = cap ? 2 * cap : 256;
				grown = realloc(v, cap * sizeof(*v));
				if (!grown) {
					err = -ENOMEM;
					goto out;
				}
				v = grown;
			}
			v[*n] = (struct pw_probe_target){ .range = &d->v[i],
				.port = ports[k], .proto = d->v[i].proto };
			(*n)++;
		}
	}
out:
	free(seen);
	free(ports);
	if (err) {
		free(v);
		v = NULL;
		*n = 0;
	}
	*out = v;
	return err;
}
