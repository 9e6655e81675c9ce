/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Interface-wide counters for packets that belong to no port slot, kept
 * per CPU (rare events; no atomics) and summed by userspace. */
#ifndef PW_STATS_H
#define PW_STATS_H

#include "pw_types.h"

enum pw_stat {
	PW_STAT_FRAGMENTS = 0,	/* inbound non-first IP fragments: no port */
	PW_STAT_MALFORMED,	/* inbound truncated or malformed headers */
	PW_STAT_NOT_IP,		/* inbound frames that are not IPv4/IPv6 (ARP) */
	PW_STAT_OTHER_L4,	/* inbound IP that is neither TCP nor UDP */
	PW_STAT_FLOWS_LOCAL,	/* flows recorded as begun by this host */
	PW_STAT_FLOWS_REMOTE,	/* flows recorded as begun by the remote */
	PW_STAT_EGRESS_UNPARSED, /* outbound packets the parser gave up on */
	PW_STAT_DROP_REASONS_LOST, /* drops of declared ports whose reason
				    * pw_drop_reasons had no room to keep */
	PW_STAT_PROBE_LOST,	/* verify --probe: a token datagram whose host
				 * pw_probe_hosts had no room for, or a probe
				 * drop whose reason pw_probe_reasons had not */
	PW_STAT_COUNT,
};

#endif
