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

/* pw_seen: what is known of a flow, for one array entry: where ingress,
 * egress and the drop tracer look first; pw_flows, the exact table, is
 * asked only when the entry holds another flow. Direct mapped by a 64-bit
 * hash of the flow key; an entry holds that hash with its two low bits
 * set to what is known (0: empty):
 *   PW_SEEN_LOCAL     this host began it (in pw_flows);
 *   PW_SEEN_REMOTE    its first packet came in, and pw_flows does not
 *                     know it: ingress writes that, a store where an
 *                     insert would cost a lock and an allocation;
 *   PW_SEEN_ANSWERED  the remote side began it and this host answered
 *                     (in pw_flows).
 * So a packet of a known flow reads one cache line where the table takes
 * a bucket and an element. Two flows on one entry overwrite each other;
 * the loser is found in pw_flows again if it is there. A flow only seen
 * coming in has no other record: if this host answers it after losing its
 * entry, it is recorded as local and its client's packets count as
 * replies. A collision can hide a hit, never invent one (docs/design.md). */
#define PW_SEEN_ENTRIES 65536u

enum pw_seen_state {
	PW_SEEN_LOCAL = 1,
	PW_SEEN_REMOTE = 2,
	PW_SEEN_ANSWERED = 3,
};
#define PW_SEEN_STATE_MASK 3ull

/* The hash pw_seen is keyed and checked by (also computed by the tests);
 * its two low bits are 0, for the state. */
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
	return h & ~PW_SEEN_STATE_MASK;
}

/* The entry of a hash: its high half, as the low bits hold the state. */
static inline __u32 pw_seen_index(__u64 hash)
{
	return (__u32)(hash >> 32) & (PW_SEEN_ENTRIES - 1);
}

/* What an entry says of the flow whose hash is hash: enum pw_seen_state,
 * or 0 when it holds another flow or none. */
static inline __u32 pw_seen_state(__u64 entry, __u64 hash)
{
	__u64 x = entry ^ hash;

	return x <= PW_SEEN_STATE_MASK ? (__u32)x : 0;
}

#endif
