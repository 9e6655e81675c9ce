/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The flow table: who sent the first packet of a flow. An inbound packet
 * of a flow this host began is a reply and proves nothing about port
 * forwarding; every other inbound packet is unsolicited. */
#ifndef PW_FLOWS_H
#define PW_FLOWS_H

#include "pw_types.h"

/* LRU hash: when full, the least recently used flow is forgotten (see
 * docs/design.md for what that means for the counts). */
#define PW_FLOW_ENTRIES 32768u

struct pw_flow_key {
	__u32 remote_addr[4];	/* network byte order; IPv4 as ::ffff:a.b.c.d */
	__u16 local_port;	/* network byte order */
	__u16 remote_port;	/* network byte order */
	__u8 proto;		/* IPPROTO_TCP or IPPROTO_UDP */
	__u8 pad[3];		/* always zero: the key is hashed bytewise */
};

enum pw_initiator {
	PW_FLOW_LOCAL = 1,	/* this host sent the first packet */
	PW_FLOW_REMOTE = 2,	/* the remote side sent the first packet */
};

struct pw_flow {
	__u32 initiator;	/* enum pw_initiator */
};

/* pw_seen: flows whose first packet came in, not yet in pw_flows. Direct
 * mapped by a 64-bit hash of the flow key; an entry holds that hash (never
 * 0). Ingress writes it for a flow the table does not know, which costs a
 * hash and a store instead of an insert; egress reads it when this host
 * first answers, and records the flow as the remote side's. Two flows on
 * one entry overwrite each other: the loser, if this host answers it,
 * counts as a reply, never the other way round (see docs/design.md). */
#define PW_SEEN_ENTRIES 65536u

/* The hash pw_seen is keyed and checked by (also computed by the tests);
 * never 0, which marks an empty entry. */
static inline __u64 pw_flow_key_hash(const struct pw_flow_key *k)
{
	__u64 h;

	h = ((__u64)k->remote_addr[0] << 32 | k->remote_addr[1]) *
	    0x9e3779b97f4a7c15ull;
	h ^= ((__u64)k->remote_addr[2] << 32 | k->remote_addr[3]) *
	     0xc2b2ae3d27d4eb4full;
	h ^= ((__u64)k->local_port << 32 | (__u64)k->remote_port << 16 |
	      k->proto) * 0x165667b19e3779f9ull;
	h ^= h >> 29;
	h *= 0xbf58476d1ce4e5b9ull;
	h ^= h >> 32;
	return h | 1;
}

#endif
