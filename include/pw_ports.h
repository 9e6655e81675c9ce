/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The per-port counters: one slot for every port of TCP and of UDP, so a
 * declaration can change without reloading the BPF program. */
#ifndef PW_PORTS_H
#define PW_PORTS_H

#include "pw_types.h"

/* Protocol index of a slot; the slot of (proto, port) is
 * proto * PW_PORTS_PER_PROTO + port, port in HOST byte order. */
enum pw_proto {
	PW_PROTO_TCP = 0,
	PW_PROTO_UDP = 1,
	PW_PROTO_COUNT = 2,
};

#define PW_PORTS_PER_PROTO 65536u
#define PW_PORT_SLOTS (PW_PROTO_COUNT * PW_PORTS_PER_PROTO)

/* One shared (not per-CPU) slot, updated with atomic adds: 32 bytes x
 * 131072 slots = 4 MiB whatever the number of CPUs, and 64-bit counters
 * that never wrap. Packets are counted as segments (a GRO aggregate seen
 * by TC counts as the packets it was made of). */
struct pw_port_slot {
	__u64 unsolicited;	/* inbound packets of flows the remote side began */
	__u64 replies;		/* inbound packets of flows this host began */
	__u64 bytes;		/* IP length of both kinds */
	__u64 last_unsolicited_ns; /* CLOCK_MONOTONIC (coarse); 0 = never */
};

#endif
