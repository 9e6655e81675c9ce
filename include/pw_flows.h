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

#endif
