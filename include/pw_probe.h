/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* 'portwitness probe' from outside, 'portwitness verify --probe TOKEN' on
 * the server. Each probe datagram carries a token, so the server tells the
 * probe's packets from every other client's: a datagram that carries it
 * marks its source host, and that host's TCP connection attempts count
 * too, also those that came before its first datagram. */
#ifndef PW_PROBE_H
#define PW_PROBE_H

#include "pw_types.h"

#define PW_PROBE_MAGIC "PWPROBE1"	/* 8 bytes, no NUL sent */
#define PW_PROBE_TOKEN_MAX 16		/* token bytes, NUL-padded */

/* The whole UDP payload of a probe datagram. */
struct pw_probe_payload {
	__u8 magic[8];
	__u8 token[PW_PROBE_TOKEN_MAX];
};

/* pw_decl_table.probe_state. */
enum pw_probe_state {
	PW_PROBE_OFF = 0,
	PW_PROBE_COUNTING,	/* ingress counts probe packets, drops are told */
	PW_PROBE_CLOSING,	/* ingress no longer counts; drops of packets
				 * it counted are still told */
};

/* pw_probe_ports (array, key = dense index of a declared port): probe
 * packets from marked hosts and what became of them. Updated atomically;
 * verify zeroes it before it turns counting on. */
struct pw_probe_count {
	__u32 arrived;		/* token datagrams, or SYNs of a marked host */
	__u32 firewall;
	__u32 no_listener;
	__u32 other;		/* pw_probe_reasons splits it */
};

/* pw_probe_syns (LRU hash): TCP SYNs to declared ports from hosts no
 * token datagram had marked yet, which may turn out to be the probe's.
 * verify keeps those of the hosts marked by the end. */
#define PW_PROBE_SYN_ENTRIES 4096u
struct pw_probe_syn_key {
	__u32 addr[4];		/* network order; IPv4 as ::ffff:a.b.c.d */
	__u32 slot;		/* pw_ports.h */
};
struct pw_probe_syn {
	struct pw_probe_count c;
	__u32 other_reason;	/* the last "other" drop's enum skb_drop_reason */
};

/* pw_probe_hosts (hash, value __u64): the hosts whose datagrams carried
 * the token, and how many did. */
#define PW_PROBE_HOSTS 64u
struct pw_probe_host_key {
	__u32 addr[4];		/* as pw_probe_syn_key.addr */
};

/* pw_probe_reasons (hash, key = struct pw_drop_reason_key): the "other"
 * drops of pw_probe_ports by reason. */
#define PW_PROBE_REASON_ENTRIES 256u

#endif
