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

/* pw_seen: what is known of a flow, where ingress, egress and the drop
 * tracer look first. A set-associative array: a flow's 64-bit hash picks
 * one set of 7 ways, one cache line; a way holds a hash with its two low
 * bits set to what is known (0: empty):
 *   PW_SEEN_LOCAL     this host began it (recorded in pw_flows);
 *   PW_SEEN_REMOTE    its first packet came in, and pw_flows does not
 *                     know it: ingress writes that, a store where an
 *                     insert would cost a lock and an allocation;
 *   PW_SEEN_ANSWERED  the remote side began it and this host answered
 *                     (recorded in pw_flows).
 * LOCAL and ANSWERED ways are "kept": a flow only seen coming in never
 * takes a kept way, so a flood from outside cannot push this host's flows
 * out. When a kept way must go (8 recorded flows on one set) or its write
 * races another CPU's, the set is marked PW_SEEN_OVERFLOW, and from then
 * on a miss in that set asks pw_flows, the exact table, which refills the
 * set; a remote flow may then take a kept way too, as pw_flows still has
 * it. So a new flow on a set without the mark costs one line, and a
 * recorded flow is always found in its set or in pw_flows while pw_flows
 * keeps it. Ways are written with compare-and-swap: a write never
 * replaces a way it did not see. A flow only seen coming in has no other
 * record: if this host answers it after losing its way, it is recorded as
 * local and its client's packets count as replies. A lost way can hide a
 * hit, never invent one (docs/design.md). */
#define PW_SEEN_SETS 8192u
#define PW_SEEN_WAYS 7u
#define PW_SEEN_OVERFLOW 1ull	/* pw_seen_set.flags */

struct pw_seen_set {
	__u64 way[PW_SEEN_WAYS];
	__u64 flags;
};

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

/* The set of a hash: its high half, as the low bits hold the state. */
static inline __u32 pw_seen_index(__u64 hash)
{
	return (__u32)(hash >> 32) & (PW_SEEN_SETS - 1);
}

/* What a way says of the flow whose hash is hash: enum pw_seen_state,
 * or 0 when it holds another flow or none. */
static inline __u32 pw_seen_state(__u64 way, __u64 hash)
{
	__u64 x = way ^ hash;

	return x <= PW_SEEN_STATE_MASK ? (__u32)x : 0;
}

/* A way this host's flows keep (LOCAL or ANSWERED). */
static inline int pw_seen_kept(__u64 way)
{
	return (way & PW_SEEN_STATE_MASK) == PW_SEEN_LOCAL ||
	       (way & PW_SEEN_STATE_MASK) == PW_SEEN_ANSWERED;
}

/* Way w of set s (w < 7). The mask is for the BPF verifier, which loses
 * the bound of an index that wraps; the empty asm keeps the compiler,
 * which knows the bound, from dropping the mask. */
static inline __u64 *pw_seen_way(struct pw_seen_set *s, __u32 w)
{
	asm volatile("" : "+r"(w));
	return (__u64 *)s + (w & 7);
}

/* What set s says of the flow of hash (enum pw_seen_state), 0 if nothing. */
static inline __u32 pw_seen_find(const struct pw_seen_set *s, __u64 hash)
{
	__u32 i, state;

	for (i = 0; i < PW_SEEN_WAYS; i++) {
		state = pw_seen_state(s->way[i], hash);
		if (state)
			return state;
	}
	return 0;
}

/* The first empty way of set s, or NULL. */
static inline __u64 *pw_seen_free(struct pw_seen_set *s)
{
	__u32 i;

	for (i = 0; i < PW_SEEN_WAYS; i++)
		if (!*(volatile __u64 *)pw_seen_way(s, i))
			return pw_seen_way(s, i);
	return NULL;
}

/* One try at writing state for the flow of hash into set s: over its own
 * way if it has one (a remote mark never over a kept state), else an
 * empty way, else a remote one, else a kept one (which marks the set,
 * and which a remote mark may take only in a marked set). The search for
 * a way to replace starts at one the hash picks, so that the one replaced
 * is as good as random. 1 when done or nothing is to be done, 0 when another
 * CPU changed the way in between. Passes with an early exit each, rather
 * than one pass ranking the ways: the BPF verifier walks every path. */
static inline int pw_seen_try_put(struct pw_seen_set *s, __u64 hash,
				  __u32 state)
{
	__u32 i, w, start = (__u32)(hash >> 8) % PW_SEEN_WAYS;
	int keep = state != PW_SEEN_REMOTE;
	__u64 *way, old;

	for (i = 0; i < PW_SEEN_WAYS; i++) {
		way = pw_seen_way(s, i);
		old = *(volatile __u64 *)way;
		if (pw_seen_state(old, hash)) {
			if (!keep && pw_seen_kept(old))
				return 1;
			goto write;
		}
	}
	way = pw_seen_free(s);
	old = 0;
	if (way)
		goto write;
	for (i = 0, w = start; i < PW_SEEN_WAYS; i++) {
		way = pw_seen_way(s, w);
		old = *(volatile __u64 *)way;
		if (!pw_seen_kept(old))
			goto write;
		w = w + 1 < PW_SEEN_WAYS ? w + 1 : 0;
	}
	if (!keep && !(s->flags & PW_SEEN_OVERFLOW))
		return 1;
	if (!(s->flags & PW_SEEN_OVERFLOW))
		__sync_fetch_and_or(&s->flags, PW_SEEN_OVERFLOW);
	way = pw_seen_way(s, start);
	old = *(volatile __u64 *)way;
write:
	return __sync_val_compare_and_swap(way, old, hash | state) == old;
}

/* Writes state for the flow of hash into set s. A remote mark that loses
 * a race is let go; a kept state tries again, and if it loses twice the
 * set is marked, so that pw_flows is asked. */
static inline void pw_seen_put(struct pw_seen_set *s, __u64 hash, __u32 state)
{
	if (pw_seen_try_put(s, hash, state) || state == PW_SEEN_REMOTE ||
	    pw_seen_try_put(s, hash, state))
		return;
	__sync_fetch_and_or(&s->flags, PW_SEEN_OVERFLOW);
}

/* Empties the ways of the flow of hash in set s (userspace: a read set,
 * written back whole; the tests and the bench forget a flow with it). */
static inline void pw_seen_forget(struct pw_seen_set *s, __u64 hash)
{
	__u32 i;

	for (i = 0; i < PW_SEEN_WAYS; i++)
		if (pw_seen_state(s->way[i], hash))
			s->way[i] = 0;
}

#endif
