/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The per-port counters. Every port of TCP and of UDP has a slot; a
 * declared port also has a dense index into the full counters, so the
 * per-CPU memory is sized by what is declared, not by 131072 ports, and an
 * undeclared port costs one increment and no flow work. */
#ifndef PW_PORTS_H
#define PW_PORTS_H

#include "pw_types.h"
#include "pw_drops.h"
#include "pw_probe.h"

/* Protocol index of a slot; the slot of (proto, port) is
 * proto * PW_PORTS_PER_PROTO + port, port in HOST byte order. */
enum pw_proto {
	PW_PROTO_TCP = 0,
	PW_PROTO_UDP = 1,
	PW_PROTO_COUNT = 2,
};

#define PW_PORTS_PER_PROTO 65536u
#define PW_PORT_SLOTS (PW_PROTO_COUNT * PW_PORTS_PER_PROTO)

/* Ports that can be declared at once, over both protocols, for the life
 * of the maps (a port keeps its index once given). Snikket's 16384-port
 * TURN range plus plugNmeet's 10001 fit with room to spare. */
#define PW_DECLARED_MAX 32768u

/* pw_decl (one element, mmapable, written by userspace): what the
 * programs are told. */
struct pw_decl_table {
	/* The dense index of every slot plus one; 0 = undeclared. */
	__u16 index1[PW_PORT_SLOTS];
	/* Until this CLOCK_MONOTONIC_COARSE time (ns), an unknown UDP flow
	 * asks conntrack whether this host began it. Set at attach to the
	 * end of conntrack's UDP stream timeout: by then every UDP flow under
	 * way before the attach has shown itself or been forgotten by
	 * conntrack too, and a new flow no longer pays for a lookup. The
	 * loader sets it to 0 once passed, and the programs read the clock
	 * only while it is not. */
	__u64 ct_udp_until_ns;
	/* verify --probe (pw_probe.h): enum pw_probe_state. Ingress reads
	 * it for every unsolicited packet to a declared port, the drop
	 * tracer for every drop it counts: it shares the first cache line
	 * with what the tracer reads first. */
	__u32 probe_state;
	/* Drop tracing (pw_drops.h). The tracepoint sees every drop of the
	 * host, so a drop counts only for a packet received on one of these
	 * interfaces (0 = unused) of this network namespace (the inode
	 * number of /proc/self/ns/net of the loader). */
	__u32 netns_ino;
	__u32 drop_ifindex[PW_DROP_IFACES];
	/* enum pw_drop_class of each drop reason value; all zero (nothing
	 * traced) until the loader has read the kernel's BTF. The reasons of
	 * a socket's or the firewall's drop are low values (NO_SOCKET 3,
	 * NETFILTER_DROP 12 on 6.x), in that first line too. */
	__u8 drop_class[PW_DROP_REASONS];
	/* The verify that set probe_state: its pid, so that a killed one's
	 * is taken over. */
	__u32 probe_owner;
	/* The payload a probe datagram must carry, byte for byte. */
	__u64 probe_payload[sizeof(struct pw_probe_payload) / 8];
};

/* pw_counts (per CPU, key = dense index): a declared port. The packet
 * counts are 32-bit per CPU to keep 1 MiB per CPU for everything; readers
 * take differences modulo 2^32 (exact while a port gets fewer than 2^32
 * packets between two reads).
 * Packets are wire packets: a GRO aggregate counts as its segments. */
struct pw_port_count {
	__u32 unsolicited;	/* inbound packets of flows the remote side began */
	__u32 replies;		/* inbound packets of flows this host began */
	__u64 bytes;		/* IP length of both kinds */
};

/* pw_other (per CPU, key = slot / PW_OTHER_LANES): packets to undeclared
 * ports, not classified, 32 bits per CPU. Sixteen slots share an element
 * so that the kernel's per-element overhead stays small. */
#define PW_OTHER_LANES 16u
#define PW_OTHER_ENTRIES (PW_PORT_SLOTS / PW_OTHER_LANES)
struct pw_other_count {
	__u32 packets[PW_OTHER_LANES];
};

#endif
