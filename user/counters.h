/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Snapshots of the kernel's counters, and what the declared ranges got
 * between two of them. */
#ifndef PW_COUNTERS_H
#define PW_COUNTERS_H

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>
#include "decl.h"
#include "pw_hist.h"
#include "pw_ports.h"
#include "pw_stats.h"

struct pw_session;

/* One port of one protocol, summed over CPUs. In a snapshot the packet
 * counts are sums of 32-bit per-CPU counters; what a window got is what
 * pw_snapshot_accumulate() adds up from reads close enough together. */
struct pw_slot_total {
	uint64_t unsolicited;
	uint64_t replies;
	uint64_t bytes;
	uint64_t other;			/* packets while undeclared, unclassified */
	uint64_t last_seen_real_ns;	/* set by pw_snapshot_accumulate; 0 = unknown */
	bool declared;
};

struct pw_snapshot {
	struct pw_slot_total *slots;	/* PW_PORT_SLOTS of them */
	uint64_t stats[PW_STAT_COUNT];	/* summed over CPUs */
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
/* Reads every declared port's and every undeclared slot's counters on
 * every CPU, and the stats. */
int pw_snapshot_take(const struct pw_session *s, struct pw_snapshot *snap);
void pw_snapshot_free(struct pw_snapshot *snap);
/* Adds what happened between prev and cur to acc (zeroed at first), and
 * stamps the slots that got unsolicited packets with cur's time. */
void pw_snapshot_accumulate(struct pw_snapshot *acc,
			    const struct pw_snapshot *prev,
			    const struct pw_snapshot *cur);

/* The 64-bit fold (pw_hist.h). A snapshot turns into totals since the maps
 * were made: h's totals plus what the 32-bit counters grew since h's fold,
 * last_seen_real_ns from the fold or, for ports that grew, snap's time.
 * h must be a fold taken before snap was read. */
void pw_hist_apply(const struct pw_hist_table *h,
		   const struct pw_decl_table *decl, struct pw_snapshot *snap);
/* Stores totals (a snapshot after pw_hist_apply with this h) as the new
 * fold, under the seqlock; only the watch folds. */
void pw_hist_fold(struct pw_hist_table *h, const struct pw_decl_table *decl,
		  const struct pw_snapshot *totals);
/* A consistent copy of the fold a watch may be writing: 0, or -EAGAIN. */
int pw_hist_copy(const struct pw_hist_table *h, struct pw_hist_table *out);
/* pw_snapshot_take, then pw_hist_apply with a copy of the fold taken
 * first: 64-bit totals since the maps were made, as show gives. */
int pw_snapshot_take_totals(const struct pw_session *s,
			    struct pw_snapshot *snap);
/* The watch's turn (it alone folds, so its fold is current): read, turn
 * into totals, store them as the new fold. */
int pw_snapshot_fold(const struct pw_session *s, struct pw_snapshot *snap);

/* The declared ranges' answers from snap's totals: a snapshot (counts
 * since the maps were made) or what a window accumulated. */
int pw_report_build(struct pw_report *rep, const struct pw_decls *d,
		    const struct pw_snapshot *snap);
void pw_report_free(struct pw_report *rep);

#endif
