/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* How many ports of a media range are in use at once, and whether the
 * range leaves the 10% headroom Snikket's docs advise. */
#ifndef PW_HEADROOM_H
#define PW_HEADROOM_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "counters.h"
#include "decl.h"
#include "pw_hist.h"

#define PW_ACTIVE_WINDOW_S 30	/* default sliding window of activity */
#define PW_HEADROOM_PCT 10	/* Snikket: "plan with 10% headroom" */

/* What a media range's ports are used by. */
enum pw_media_kind {
	PW_MEDIA_PORTS = 0,	/* unknown: ports only */
	PW_MEDIA_TURN,		/* a TURN relay: at most 4 ports per call */
	PW_MEDIA_LIVEKIT,	/* LiveKit: 2 ports per participant */
};

struct pw_headroom {
	enum pw_media_kind kind;
	uint32_t declared;
	uint32_t peak;
	uint32_t implied;	/* calls (TURN) or participants (LiveKit) */
	uint32_t suggested;	/* peak plus the headroom, rounded up */
	bool known;		/* a port was ever active */
	bool enough;		/* declared >= suggested */
};

/* A UDP range of more ports than a service's own: a media range. */
bool pw_is_media_range(const struct pw_range *r);
/* By the service's name, as profiles and the --from-* parsers give it
 * ("snikket", "coturn", "livekit", "plugnmeet"), in any case; a name
 * with "turn" in it is a TURN relay. */
enum pw_media_kind pw_media_kind_of(const char *service);
void pw_headroom_of(const struct pw_range *r, uint32_t peak,
		    struct pw_headroom *out);

/* Ports of r whose packets grew at a fold less than window_s before
 * now_ns (h's fold). */
uint32_t pw_range_active(const struct pw_hist_table *h,
			 const struct pw_decl_table *decl,
			 const struct pw_range *r, uint64_t now_ns,
			 uint32_t window_s);
const struct pw_hist_peak *pw_hist_peak_find(const struct pw_hist_table *h,
					     const struct pw_range *r);
/* Records active for r at now_ns if it is a new peak; a range with no
 * entry takes a free one, else the one looked at longest ago. */
void pw_hist_peak_update(struct pw_hist_table *h, const struct pw_range *r,
			 uint32_t active, uint64_t now_ns, uint32_t window_s);
/* Fills the ranges' ports_active and peaks from h as of its last fold;
 * with update (the watch, which alone writes h), records new peaks, under
 * h's seqlock. Nothing when h was never folded. */
void pw_report_activity(struct pw_report *rep, struct pw_hist_table *h,
			const struct pw_decl_table *decl, bool update);
/* show --headroom: a table of the media ranges of rep. */
void pw_headroom_print(FILE *f, const struct pw_report *rep);

#endif
