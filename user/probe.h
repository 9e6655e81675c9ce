/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The probe's plan: which ports of the declared ranges it sends to. */
#ifndef PW_PROBE_USER_H
#define PW_PROBE_USER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "counters.h"
#include "decl.h"
#include "pw_probe.h"

struct pw_session;

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

/* What verify --probe read off the maps at the end of its window. */
struct pw_probe_host {
	struct pw_probe_host_key key;
	uint64_t datagrams;		/* that carried the token */
};

struct pw_probe_syn_entry {
	struct pw_probe_syn_key key;
	struct pw_probe_syn val;
};

struct pw_probe_seen {
	struct pw_probe_count *ports;	/* PW_DECLARED_MAX, by dense index */
	struct pw_probe_syn_entry *syns;
	size_t n_syns;
	struct pw_probe_host *hosts;
	size_t n_hosts;
	struct pw_reason_count *reasons; /* pw_probe_reasons */
	size_t n_reasons;
	uint64_t lost;			/* PW_STAT_PROBE_LOST over the window */
};

/* What the probe's packets got, as a snapshot that pw_report_build turns
 * into ranges: per slot, the probe packets that arrived (as unsolicited),
 * their drops and "other" reasons; a marked host's waiting SYNs are added
 * to its ports, the others' left out. snap comes from pw_snapshot_alloc;
 * *left_syns and *left_hosts say what was left out. */
void pw_probe_snapshot(const struct pw_probe_seen *seen, const __u16 *index1,
		       bool traced, struct pw_snapshot *snap,
		       uint64_t *left_syns, size_t *left_hosts);
void pw_probe_seen_free(struct pw_probe_seen *seen);
/* The host's address as text: a.b.c.d for IPv4, else IPv6. */
void pw_probe_host_name(const struct pw_probe_host_key *h, char *buf,
			size_t len);

/* What verify --probe adds to its report (pw_report.probe). */
struct pw_probe_report {
	const char *token;
	const struct pw_probe_host *hosts;
	size_t n_hosts;
	uint64_t left_syns;		/* TCP attempts of hosts never marked */
	size_t left_hosts;
	uint64_t lost;			/* PW_STAT_PROBE_LOST in the window */
	const struct pw_snapshot *snap;	/* per port, for probe_ports */
};

/* One verify --probe on a session's maps. */
struct pw_probe_window {
	struct pw_session *s;
	struct pw_probe_count *ports;	/* the mmap of pw_probe_ports */
	uint64_t lost_before;
	bool on;			/* this process turned counting on */
};

/* Zeroes the probe maps and turns counting on for token. -EBUSY when
 * another live verify --probe counts on these maps (*busy its pid). */
int pw_probe_begin(struct pw_probe_window *w, struct pw_session *s,
		   const char *token, uint32_t *busy);
/* Stops counting, lets the drops of what was counted arrive, and reads
 * it all. */
int pw_probe_finish(struct pw_probe_window *w, struct pw_probe_seen *seen);
/* Turns counting off if this process still owns it; unmaps. */
void pw_probe_end(struct pw_probe_window *w);
/* A verify --probe killed before it ended left counting on: off. */
void pw_probe_reap_stale(struct pw_session *s);

#endif
