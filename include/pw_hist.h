/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* pw_hist (one element, mmapable, userspace only): the declared ports'
 * packet counts folded to 64 bits. pw_counts holds 32 bits per CPU, which
 * wrap; the watch folds their growth in here every interval, so the
 * exported counters are monotonic for the life of the pinned maps, across
 * watch restarts, and a reader never sees a wrap. */
#ifndef PW_HIST_H
#define PW_HIST_H

#include "pw_types.h"
#include "pw_ports.h"

/* Key: dense index of a declared port, as in pw_counts. */
struct pw_hist_port {
	__u64 unsolicited;	/* since the maps were made, as of the last fold */
	__u64 replies;
	__u32 raw_unsolicited;	/* pw_counts summed over CPUs, mod 2^32, then */
	__u32 raw_replies;
	__u64 last_seen_ns;	/* CLOCK_REALTIME of the fold that last saw
				 * unsolicited packets arrive; 0 = never */
	__u64 active_ns;	/* ... that saw packets of either kind arrive:
				 * the port is in use (headroom) */
};

/* The most ports of a range active at once, since the counters began:
 * kept here so that it outlives a watch, and show can read it. Keyed by
 * the range; a range no watch declares any more ages out when the table
 * is full. */
#define PW_HIST_PEAKS 256u
struct pw_hist_peak {
	__u16 proto;		/* enum pw_proto */
	__u16 first;		/* host order */
	__u16 last;		/* 0: the entry is unused */
	__u16 pad;
	__u32 active;		/* ports active at the peak */
	__u32 window_s;		/* the sliding window it was counted in */
	__u64 at_ns;		/* CLOCK_REALTIME of the peak */
	__u64 seen_ns;		/* last fold that looked at the range */
};

struct pw_hist_table {
	__u64 seq;		/* odd while a fold writes (a seqlock) */
	__u64 folded_ns;	/* CLOCK_REALTIME of the last fold; 0 = none */
	__u32 window_s;		/* the watch's sliding window of activity */
	__u32 pad;
	struct pw_hist_peak peak[PW_HIST_PEAKS];
	struct pw_hist_port port[PW_DECLARED_MAX];
};

#endif
