/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The maps, shared by the programs of portwitness.bpf.c. Userspace pins
 * them under /sys/fs/bpf/portwitness/IFACE/. */
#ifndef PW_MAPS_H
#define PW_MAPS_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "pw_ports.h"
#include "pw_flows.h"
#include "pw_stats.h"
#include "pw_instance.h"
#include "pw_hist.h"
#include "pw_drops.h"
#include "pw_probe.h"

/* Which slots are declared (pw_ports.h). A global, so the programs read
 * it without a map lookup; it lives in the object's .bss map, which
 * userspace pins as pw_decl and writes through its mmap. */
struct pw_decl_table pw_decl;

/* Key: dense index of a declared port. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, PW_DECLARED_MAX);
	__type(key, __u32);
	__type(value, struct pw_port_count);
} pw_counts SEC(".maps");

/* Key: slot / PW_OTHER_LANES. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, PW_OTHER_ENTRIES);
	__type(key, __u32);
	__type(value, struct pw_other_count);
} pw_other SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, PW_FLOW_ENTRIES);
	__type(key, struct pw_flow_key);
	__type(value, struct pw_flow);
} pw_flows SEC(".maps");

/* Key: pw_seen_index() of a flow's hash; value: a set of ways, each a
 * hash with what is known of its flow in its low bits (pw_flows.h).
 * Mmapable, so that each set lies in one cache line. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, PW_SEEN_SETS);
	__type(key, __u32);
	__type(value, struct pw_seen_set);
} pw_seen SEC(".maps");

/* Key: dense index of a declared port (pw_drops.h); mmapable, so that
 * a reader copies it whole rather than element by element. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, PW_DECLARED_MAX);
	__type(key, __u32);
	__type(value, struct pw_port_drops);
} pw_drops SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, PW_DROP_REASON_ENTRIES);
	__type(key, struct pw_drop_reason_key);
	__type(value, __u64);
} pw_drop_reasons SEC(".maps");

/* verify --probe (pw_probe.h). Key: dense index of a declared port;
 * mmapable, so that verify zeroes and reads it whole. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, PW_DECLARED_MAX);
	__type(key, __u32);
	__type(value, struct pw_probe_count);
} pw_probe_ports SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, PW_PROBE_SYN_ENTRIES);
	__type(key, struct pw_probe_syn_key);
	__type(value, struct pw_probe_syn);
} pw_probe_syns SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, PW_PROBE_HOSTS);
	__type(key, struct pw_probe_host_key);
	__type(value, __u64);
} pw_probe_hosts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, PW_PROBE_REASON_ENTRIES);
	__type(key, struct pw_drop_reason_key);
	__type(value, __u64);
} pw_probe_reasons SEC(".maps");

/* Key: enum pw_stat. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, PW_STAT_COUNT);
	__type(key, __u32);
	__type(value, __u64);
} pw_stats SEC(".maps");

/* Key: 0. Userspace only. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pw_instance);
} pw_instance SEC(".maps");

/* Key: 0. Userspace only (pw_hist.h). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pw_hist_table);
} pw_hist SEC(".maps");

#endif
