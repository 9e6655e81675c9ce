/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The maps, shared by the three programs of portwitness.bpf.c. Userspace
 * pins them under /sys/fs/bpf/portwitness/IFACE/. */
#ifndef PW_MAPS_H
#define PW_MAPS_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "pw_ports.h"
#include "pw_flows.h"
#include "pw_stats.h"
#include "pw_instance.h"

/* Key: slot index, host order (see pw_ports.h). Mmapable so userspace
 * reads all 131072 slots without a syscall per slot. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, PW_PORT_SLOTS);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct pw_port_slot);
} pw_ports SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, PW_FLOW_ENTRIES);
	__type(key, struct pw_flow_key);
	__type(value, struct pw_flow);
} pw_flows SEC(".maps");

/* Key: enum pw_stat. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, PW_STAT_COUNT);
	__type(key, __u32);
	__type(value, __u64);
} pw_stats SEC(".maps");

/* Key: 0. Userspace only; in the object so it is pinned with the rest. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pw_instance);
} pw_instance SEC(".maps");

#endif
