/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Snapshots of the kernel's counters, and what the declared ranges got
 * between two of them. */
#ifndef PW_COUNTERS_H
#define PW_COUNTERS_H

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>
#include "decl.h"
#include "pw_ports.h"
#include "pw_stats.h"

struct pw_session;

struct pw_snapshot {
	struct pw_port_slot *slots;	/* PW_PORT_SLOTS of them */
	uint64_t stats[PW_STAT_COUNT];	/* summed over CPUs */
	uint64_t mono_ns;		/* CLOCK_MONOTONIC_COARSE when taken */
	uint64_t real_ns;		/* CLOCK_REALTIME when taken */
};

struct pw_range_result {
	struct pw_range range;
	uint32_t ports_declared;
	uint32_t ports_hit;		/* ports with unsolicited packets */
	uint64_t packets;		/* unsolicited */
	uint64_t replies;
	uint64_t bytes;
	uint64_t last_seen_real_ns;	/* last unsolicited packet; 0 = none */
	uint16_t *hit_ports;		/* ascending, ports_hit of them */
	bool reached;
};

struct pw_report {
	const char *command;		/* "verify", "watch", "show" */
	char iface[IF_NAMESIZE];
	const char *mode;
	double duration_s;
	bool ok;			/* every required range reached */
	struct pw_range_result *ranges;
	size_t n;
	uint64_t stats[PW_STAT_COUNT];	/* over the same window */
	uint64_t now_real_ns;
};

int pw_snapshot_alloc(struct pw_snapshot *snap);
/* Copies every slot and sums the per-CPU stats. */
int pw_snapshot_take(const struct pw_session *s, struct pw_snapshot *snap);
void pw_snapshot_free(struct pw_snapshot *snap);
/* A time of the kernel's coarse monotonic clock (a slot's last-seen) on
 * the wall clock, in ns; 0 stays 0 (never). */
uint64_t pw_snapshot_wall_ns(const struct pw_snapshot *snap, uint64_t mono_ns);

/* before may be NULL: counts since the maps were made. A counter lower
 * after than before was reset in between; its after value is taken. */
int pw_report_build(struct pw_report *rep, const struct pw_decls *d,
		    const struct pw_snapshot *before,
		    const struct pw_snapshot *after);
void pw_report_free(struct pw_report *rep);

#endif
