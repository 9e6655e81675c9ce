/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The probe's plan: which ports of the declared ranges it sends to. */
#ifndef PW_PROBE_USER_H
#define PW_PROBE_USER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "decl.h"
#include "pw_probe.h"

/* One port to probe, once for every protocol: the first range that
 * declares it names it. */
struct pw_probe_target {
	const struct pw_range *range;
	uint16_t port;
	enum pw_proto proto;
	int result;		/* enum pw_probe_result */
};

enum pw_probe_result {
	PW_PROBE_PENDING = 0,
	PW_PROBE_SENT,		/* UDP: sent (nothing comes back to tell) */
	PW_PROBE_CONNECTED,	/* TCP: a listener answered */
	PW_PROBE_REFUSED,	/* TCP: reset (no listener, or a reject) */
	PW_PROBE_TIMEOUT,	/* TCP: no answer (dropped on the way) */
	PW_PROBE_UNREACHABLE,	/* an ICMP error, or no route */
	PW_PROBE_ERROR,		/* this machine could not send it */
};

const char *pw_probe_result_name(int result);
/* A token is 1 to PW_PROBE_TOKEN_MAX bytes of [A-Za-z0-9._-]. */
bool pw_probe_token_ok(const char *token);
/* 16 random hex digits into buf (at least 17 bytes): 0 or -errno. */
int pw_probe_token_random(char *buf, size_t len);
/* The datagram that carries token. */
void pw_probe_payload_of(const char *token, struct pw_probe_payload *out);
/* The ports of r to probe: all of them when sample is 0 or the range has
 * no more than sample ports, else sample ports spread evenly from first
 * to last, both ends included. Ascending, written to out (room for
 * min(size, sample) ports); returns how many. */
uint32_t pw_probe_sample(const struct pw_range *r, uint32_t sample,
			 uint16_t *out);
/* Every (proto, port) of d to probe, each once, in declaration order:
 * *out malloc'd; 0 or -ENOMEM. */
int pw_probe_plan(const struct pw_decls *d, uint32_t sample,
		  struct pw_probe_target **out, size_t *n);

#endif
