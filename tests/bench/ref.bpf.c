// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Reference programs for `make bench`: what the per-packet cost of
 * portwitness is measured against. They parse with portwitness's own
 * parser, so the differences are what counting and classifying cost:
 *   empty      - returns at once (the floor);
 *   parse      - parses, counts nothing (what parsing alone costs);
 *   counter    - the ideal port counter: one per-CPU u64 per port;
 *   classifier - the ideal classifier: that counter plus one lookup in a
 *                flow hash table, the least work that tells a reply from
 *                an unsolicited packet. */
#include "vmlinux.h"
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
#include "pw_consts.h"
#include "pw_parse.h"
#include "pw_flows.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2 * 65536);
	__type(key, __u32);
	__type(value, __u64);
} ref_ports SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 32768);
	__type(key, struct pw_flow_key);
	__type(value, __u32);
} ref_flows SEC(".maps");

static __always_inline int ref_parse(void *data, void *end, __u32 len,
				     struct pw_pkt *p)
{
	return pw_parse(data, end, len, false, true, p);
}

static __always_inline __u64 *ref_slot(const struct pw_pkt *p)
{
	__u32 idx = bpf_ntohs(p->local_port);

	if (p->l4proto == IPPROTO_UDP)
		idx += 65536;
	return bpf_map_lookup_elem(&ref_ports, &idx);
}

static __always_inline void ref_count(void *data, void *end, __u32 len)
{
	struct pw_pkt p;
	__u64 *slot;

	if (ref_parse(data, end, len, &p) != PW_PARSE_L4)
		return;
	slot = ref_slot(&p);
	if (slot)
		*slot += 1;
}

static __always_inline void ref_classify(void *data, void *end, __u32 len)
{
	struct pw_flow_key k;
	struct pw_pkt p;
	__u64 *slot;

	if (ref_parse(data, end, len, &p) != PW_PARSE_L4)
		return;
	__builtin_memcpy(k.remote_addr, p.remote_addr, sizeof(k.remote_addr));
	k.local_port = p.local_port;
	k.remote_port = p.remote_port;
	k.proto = p.l4proto;
	k.pad[0] = k.pad[1] = k.pad[2] = 0;
	slot = ref_slot(&p);
	if (slot && !bpf_map_lookup_elem(&ref_flows, &k))
		*slot += 1;
}

static __always_inline void ref_parse_only(void *data, void *end, __u32 len)
{
	struct pw_pkt p;

	ref_parse(data, end, len, &p);
	asm volatile("" :: "r"(p.local_port) : "memory");
}

#define REF_DATA(ctx) (void *)(long)(ctx)->data, (void *)(long)(ctx)->data_end

SEC("xdp") int ref_xdp_empty(struct xdp_md *ctx) { return XDP_PASS; }
SEC("tc") int ref_tc_empty(struct __sk_buff *skb) { return TC_ACT_UNSPEC; }

SEC("xdp") int ref_xdp_parse(struct xdp_md *ctx)
{
	ref_parse_only(REF_DATA(ctx), ctx->data_end - ctx->data);
	return XDP_PASS;
}

SEC("tc") int ref_tc_parse(struct __sk_buff *skb)
{
	ref_parse_only(REF_DATA(skb), skb->len);
	return TC_ACT_UNSPEC;
}

SEC("xdp") int ref_xdp_counter(struct xdp_md *ctx)
{
	ref_count(REF_DATA(ctx), ctx->data_end - ctx->data);
	return XDP_PASS;
}

SEC("tc") int ref_tc_counter(struct __sk_buff *skb)
{
	ref_count(REF_DATA(skb), skb->len);
	return TC_ACT_UNSPEC;
}

SEC("xdp") int ref_xdp_classify(struct xdp_md *ctx)
{
	ref_classify(REF_DATA(ctx), ctx->data_end - ctx->data);
	return XDP_PASS;
}

SEC("tc") int ref_tc_classify(struct __sk_buff *skb)
{
	ref_classify(REF_DATA(skb), skb->len);
	return TC_ACT_UNSPEC;
}
