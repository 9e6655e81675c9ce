/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* What became of unsolicited packets after ingress counted them: the
 * kernel's skb:kfree_skb tracepoint names a drop reason, which the loader
 * sorts into classes by the reason's name in the kernel's BTF (the numbers
 * differ between kernel builds). A packet that was counted and not dropped
 * was delivered. */
#ifndef PW_DROPS_H
#define PW_DROPS_H

#include "pw_types.h"

/* What a drop reason means for an unsolicited packet. */
enum pw_drop_class {
	PW_DROP_IGNORE = 0,	/* not a drop (consumed), or not classified yet */
	PW_DROP_FIREWALL,	/* the host's firewall: NETFILTER_DROP */
	PW_DROP_NO_LISTENER,	/* no socket: NO_SOCKET (a TCP RST or ICMP
				 * port unreachable went back) */
	PW_DROP_OTHER,		/* anything else, kept by reason */
};

/* Reasons below this have a class in pw_decl_table.drop_class; the ones
 * above (subsystem reasons, subsys << 16) are PW_DROP_OTHER. */
#define PW_DROP_REASONS 256u

/* Interfaces whose received packets are ours: the watched one and the
 * ones stacked on it (a VLAN, a bridge or bond it is a port of), where the
 * IP layer sees its packets arrive. */
#define PW_DROP_IFACES 8u

/* pw_drops (one array, key = dense index of a declared port, not per CPU:
 * drops are the rare path and 64 bits need no fold). Updated atomically. */
struct pw_port_drops {
	__u64 firewall;
	__u64 no_listener;
	__u64 other;		/* every other reason; pw_drop_reasons splits it */
	/* Refusals that left on egress for an unsolicited packet: a TCP RST
	 * answering a segment without ACK (a SYN), an ICMP port unreachable
	 * quoting a datagram. Counted by TC egress whether drops are traced
	 * or not; they tell "no listener" where the drop is not ours to see
	 * (a container's namespace behind a DNAT), at most what arrived. */
	__u64 refused;
};

/* pw_drop_reasons (hash): the "other" drops by port and reason. When it
 * is full, a new pair is not kept (PW_STAT_DROP_REASONS_LOST), but the
 * drop is still in pw_drops.other. */
#define PW_DROP_REASON_ENTRIES 4096u
struct pw_drop_reason_key {
	__u32 index;		/* dense index of the declared port */
	__u32 reason;		/* the kernel's enum skb_drop_reason value */
};

#endif
