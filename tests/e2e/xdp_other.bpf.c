// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Somebody else's programs, for the tests that portwitness leaves them be:
 * an XDP program, and a TC filter that counts what it sees and hands every
 * packet on to the next filter. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} other_seen SEC(".maps");

SEC("xdp")
int other_pass(struct xdp_md *ctx)
{
	return XDP_PASS;
}

SEC("tc")
int other_count(struct __sk_buff *skb)
{
	__u32 zero = 0;
	__u64 *n = bpf_map_lookup_elem(&other_seen, &zero);

	if (n)
		__sync_fetch_and_add(n, 1);
	return -1;	/* TC_ACT_UNSPEC: the next filter decides */
}

char LICENSE[] SEC("license") = "GPL";
