/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Snapshots of the kernel's counters, and what the declared ranges got
 * between two of them. */
#ifndef PW_COUNTERS_H
#define PW_COUNTERS_H

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>
#include "decl.h"
#include "pw_drops.h"
#include "pw_hist.h"
#include "pw_ports.h"
#include "pw_stats.h"

struct pw_session;
struct pw_probe_report;

/* One port of one protocol, summed over CPUs. In a snapshot the packet
 * counts are sums of 32-bit per-CPU counters; what a window got is what
 * pw_snapshot_accumulate() adds up from reads close enough together. */
struct pw_slot_total {
	uint64_t unsolicited;
	uint64_t replies;
	uint64_t bytes;
	uint64_t other;			/* packets while undeclared, unclassified */
	uint64_t last_seen_real_ns;	/* set by pw_snapshot_accumulate; 0 = unknown */
	uint16_t index1;		/* dense index + 1 (drops[] below); 0 = none */
	bool declared;
};

/* "Other" drops of one declared port for one kernel drop reason. */
struct pw_reason_count {
	uint32_t index;			/* dense index */
	uint32_t reason;		/* enum skb_drop_reason value */
	uint64_t count;
};

struct pw_snapshot {
	struct pw_slot_total *slots;	/* PW_PORT_SLOTS of them */
	/* Drops of unsolicited packets by dense index (PW_DECLARED_MAX):
	 * 64-bit totals since the maps were made, or what a window got. */
	struct pw_port_drops *drops;
	struct pw_reason_count *reasons; /* ascending by (index, reason) */
	size_t n_reasons;		/* of PW_DROP_REASON_ENTRIES at most */
	bool drops_traced;		/* the instance traces drops */
	uint64_t stats[PW_STAT_COUNT];	/* summed over CPUs */
	uint64_t real_ns;		/* CLOCK_REALTIME when taken */
};

/* What became of a range's (or a port's) unsolicited packets, worst
 * first: the order verify reports them in. */
enum pw_status {
	PW_STATUS_SILENT = 0,		/* none arrived */
	PW_STATUS_BLOCKED,		/* arrived, none got past the host
					 * (its firewall, or another drop
					 * before any socket) */
	PW_STATUS_NO_LISTENER,		/* got past the firewall, refused: no socket */
	PW_STATUS_REACHED,		/* some were delivered (or, without
					 * drop tracing, arrived) */
	PW_STATUS_COUNT,
};

/* A range of at most this many ports is a service's own ports: with no
 * listener, the service is down (a warning; a failure with --strict). A
 * larger one is a relay or media range, unbound until a call needs it. */
#define PW_FEW_PORTS 16u

/* One drop reason's count within a range. */
struct pw_reason_total {
	uint32_t reason;
	uint64_t count;
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
	/* What became of the unsolicited packets (drops traced): */
	uint64_t delivered;		/* packets less every drop, at least 0 */
	uint64_t firewall_dropped;
	uint64_t no_listener;
	uint64_t other_drops;
	uint64_t refusals_sent;		/* TCP RSTs and ICMP port unreachables
					 * that left for them (pw_drops.h) */
	struct pw_reason_total *other_reasons; /* most first */
	size_t n_other_reasons;
	/* The hit ports by their own status: ports_by[PW_STATUS_*], ascending,
	 * n_by[] of them (silent has none). */
	uint16_t *ports_by[PW_STATUS_COUNT];
	uint32_t n_by[PW_STATUS_COUNT];
	enum pw_status status;
	/* Headroom (pw_report_activity): ports with packets of either kind
	 * within the watch's sliding window as of its last fold, and the
	 * most at once since the counters began. */
	uint32_t ports_active;
	uint32_t ports_active_peak;
	uint64_t peak_real_ns;		/* when; 0 = never active */
	bool reached;			/* status is reached */
	bool warn;			/* a few-port range with no listener */
	bool fails;			/* makes verify fail (required only) */
};

struct pw_report {
	const char *command;		/* "verify", "watch", "show" */
	char iface[IF_NAMESIZE];
	const char *mode;
	double duration_s;
	bool ok;			/* no range fails */
	bool strict;			/* set before building: a few-port range
					 * with no listener fails too */
	bool drops_traced;
	bool activity;			/* ports_active and the peaks are known */
	uint32_t window_s;		/* the sliding window they are counted in */
	uint64_t activity_real_ns;	/* as of this fold */
	struct pw_range_result *ranges;
	size_t n;
	uint64_t stats[PW_STAT_COUNT];	/* over the same window */
	uint64_t now_real_ns;
	/* verify --probe: the ranges count the probe's packets only. */
	const struct pw_probe_report *probe;
};

int pw_snapshot_alloc(struct pw_snapshot *snap);
/* Ascending by (index, reason), as a snapshot keeps them. */
void pw_reasons_sort(struct pw_reason_count *r, size_t n);
/* Every (port, reason) pair of a map keyed by pw_drop_reason_key (the
 * drop tracer's, the probe's), max at most, sorted: 0 or -errno. */
int pw_reasons_read(int fd, struct pw_reason_count *out, size_t max,
		    size_t *n);
/* Reads every declared port's and every undeclared slot's counters on
 * every CPU, the stats, and the drops: read last, once the packets
 * counted have had time to be dropped, so that it closes a window well. */
int pw_snapshot_take(const struct pw_session *s, struct pw_snapshot *snap);
/* The same, the drops read first: the opening of a window on counters
 * that are already running (a watch's). */
int pw_snapshot_open(const struct pw_session *s, struct pw_snapshot *snap);
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
/* Odd while the watch writes h, even after: around every write. */
void pw_hist_seq_bump(struct pw_hist_table *h);
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
/* A port's unsolicited packets refused for no listener: the drops the
 * tracer saw for NO_SOCKET, or the refusals that left on egress (as many
 * as arrived and were not dropped otherwise), whichever is more. */
uint64_t pw_port_no_listener(uint64_t unsolicited, const struct pw_port_drops *d);
/* One port's status from its unsolicited packets and drops; with fate,
 * also how many were delivered and refused for no listener. */
struct pw_port_fate {
	uint64_t delivered;
	uint64_t no_listener;
};
enum pw_status pw_port_fate_of(uint64_t unsolicited,
			       const struct pw_port_drops *d, bool traced,
			       struct pw_port_fate *fate);
/* The status of unsolicited packets of which these were dropped. */
enum pw_status pw_status_of(uint64_t unsolicited, uint64_t firewall,
			    uint64_t no_listener, uint64_t other, bool traced);
void pw_report_free(struct pw_report *rep);

#endif
