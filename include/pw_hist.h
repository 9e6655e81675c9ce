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
};

struct pw_hist_table {
	__u64 seq;		/* odd while a fold writes (a seqlock) */
	__u64 folded_ns;	/* CLOCK_REALTIME of the last fold; 0 = none */
	struct pw_hist_port port[PW_DECLARED_MAX];
};

#endif
