// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* portwitness: count inbound packets per port without binding a socket.
 * Ingress (XDP or TC) counts; TC egress records the flows this host begins,
 * so that their replies are not taken for evidence of port forwarding.
 * Nothing here drops or changes a packet. */
#include "vmlinux.h"
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
#include "pw_consts.h"
#include "pw_parse.h"
#include "pw_maps.h"
#include "pw_conntrack.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Set by the loader: the device has no link-layer header (tun, wg). */
const volatile bool pw_l2_none = false;

static __always_inline void pw_stat_inc(__u32 stat)
{
	__u64 *v = bpf_map_lookup_elem(&pw_stats, &stat);

	if (v)
		*v += 1;
}

static __always_inline void pw_flow_key_of(const struct pw_pkt *p,
					   struct pw_flow_key *k)
{
	__builtin_memcpy(k->remote_addr, p->remote_addr, sizeof(k->remote_addr));
	k->local_port = p->local_port;
	k->remote_port = p->remote_port;
	k->proto = p->l4proto;
	k->pad[0] = k->pad[1] = k->pad[2] = 0;
}

static __always_inline bool pw_tcp_opens(const struct pw_pkt *p)
{
	return p->l4proto == IPPROTO_TCP &&
	       (p->tcp_flags & (TCP_FLAG_SYN | TCP_FLAG_ACK)) == TCP_FLAG_SYN;
}

/* flags: BPF_NOEXIST keeps what another packet recorded first; BPF_ANY
 * overwrites (this host's SYN begins a new connection over a stale entry). */
static __always_inline void pw_flow_record(const struct pw_flow_key *key,
					   __u32 who, __u64 flags)
{
	struct pw_flow flow = { .initiator = who };

	if (bpf_map_update_elem(&pw_flows, key, &flow, flags) == 0)
		pw_stat_inc(who == PW_FLOW_LOCAL ? PW_STAT_FLOWS_LOCAL :
						   PW_STAT_FLOWS_REMOTE);
}

/* An inbound packet is a reply when its flow was begun by this host. A TCP
 * SYN opens a flow from outside and needs no lookup. A flow the table does
 * not know was begun outside, unless conntrack (ct) says otherwise; it is
 * recorded, so that our answers do not claim it on egress and the next
 * packet costs one lookup. Without conntrack a TCP flow needs no record:
 * this host's own connections are recorded from their SYN. */
static __always_inline bool pw_inbound_is_reply(const struct pw_frame *fr,
						bool ct,
						const struct pw_pkt *p)
{
	struct pw_flow_key key;
	struct pw_flow *f;
	__u32 who = 0;

	if (pw_tcp_opens(p))
		return false;
	pw_flow_key_of(p, &key);
	f = bpf_map_lookup_elem(&pw_flows, &key);
	if (f)
		return f->initiator == PW_FLOW_LOCAL;
	if (ct)
		who = pw_ct_initiator(fr, p, true);
	else if (p->l4proto != IPPROTO_UDP)
		return false;
	if (!who)
		who = PW_FLOW_REMOTE;
	pw_flow_record(&key, who, BPF_NOEXIST);
	return who == PW_FLOW_LOCAL;
}

/* segs: how many wire packets this buffer stands for (GRO aggregates). */
static __always_inline void pw_count_inbound(const struct pw_frame *fr,
					     bool ct, int parsed,
					     const struct pw_pkt *p, __u32 segs)
{
	struct pw_port_slot *slot;
	__u32 idx;

	switch (parsed) {
	case PW_PARSE_L4:
		break;
	case PW_PARSE_NOT_IP:
		pw_stat_inc(PW_STAT_NOT_IP);
		return;
	case PW_PARSE_OTHER_L4:
		pw_stat_inc(PW_STAT_OTHER_L4);
		return;
	case PW_PARSE_FRAGMENT:
		pw_stat_inc(PW_STAT_FRAGMENTS);
		return;
	default:
		pw_stat_inc(PW_STAT_MALFORMED);
		return;
	}

	idx = bpf_ntohs(p->local_port);
	if (p->l4proto == IPPROTO_UDP)
		idx += PW_PORTS_PER_PROTO;
	slot = bpf_map_lookup_elem(&pw_ports, &idx);
	if (!slot)
		return;
	if (pw_inbound_is_reply(fr, ct, p)) {
		__sync_fetch_and_add(&slot->replies, segs);
	} else {
		__sync_fetch_and_add(&slot->unsolicited, segs);
		slot->last_unsolicited_ns = bpf_ktime_get_coarse_ns();
	}
	/* Every segment of an aggregate carried its own headers. */
	__sync_fetch_and_add(&slot->bytes,
			     p->ip_len + (__u64)(segs - 1) * p->hdr_len);
}

/* TC sees the linear part of the skb directly; when headers lie beyond it,
 * pull them in once and parse again. */
static __always_inline int pw_parse_skb(struct __sk_buff *skb, bool ingress,
					struct pw_frame *fr, struct pw_pkt *p)
{
	int r;

	fr->ctx = skb;
	fr->xdp = false;
	fr->data = (void *)(long)skb->data;
	fr->end = (void *)(long)skb->data_end;
	r = pw_parse(fr->data, fr->end, skb->len, pw_l2_none, ingress, p);
	if (r == PW_PARSE_SHORT && skb->len > fr->end - fr->data) {
		bpf_skb_pull_data(skb, skb->len < PW_PULL_MAX ?
				  skb->len : PW_PULL_MAX);
		fr->data = (void *)(long)skb->data;
		fr->end = (void *)(long)skb->data_end;
		r = pw_parse(fr->data, fr->end, skb->len, pw_l2_none, ingress, p);
	}
	return r;
}

static __always_inline int pw_xdp(struct xdp_md *ctx, bool ct)
{
	struct pw_frame fr = {
		.ctx = ctx,
		.xdp = true,
		.data = (void *)(long)ctx->data,
		.end = (void *)(long)ctx->data_end,
	};
	struct pw_pkt p;
	int r;

	r = pw_parse(fr.data, fr.end, bpf_xdp_get_buff_len(ctx), pw_l2_none,
		     true, &p);
	pw_count_inbound(&fr, ct, r, &p, 1);
	return XDP_PASS;
}

static __always_inline int pw_tc_in(struct __sk_buff *skb, bool ct)
{
	struct pw_frame fr;
	struct pw_pkt p;
	int r;

	r = pw_parse_skb(skb, true, &fr, &p);
	pw_count_inbound(&fr, ct, r, &p, skb->gso_segs > 1 ? skb->gso_segs : 1);
	return TC_ACT_UNSPEC;
}

/* Record the flows this host begins: a TCP SYN, or the first UDP datagram
 * of a flow not yet known (unless conntrack knows it began outside, before
 * we attached). Any other TCP packet needs nothing: its SYN said who began
 * the connection. A UDP packet of a known flow costs one lookup. */
static __always_inline int pw_tc_out(struct __sk_buff *skb, bool ct)
{
	struct pw_flow_key key;
	struct pw_frame fr;
	struct pw_pkt p;
	__u32 who = 0;
	int r;

	r = pw_parse_skb(skb, false, &fr, &p);
	if (r == PW_PARSE_MALFORMED || r == PW_PARSE_SHORT) {
		pw_stat_inc(PW_STAT_EGRESS_UNPARSED);
		return TC_ACT_UNSPEC;
	}
	if (r != PW_PARSE_L4)
		return TC_ACT_UNSPEC;

	if (pw_tcp_opens(&p)) {
		pw_flow_key_of(&p, &key);
		pw_flow_record(&key, PW_FLOW_LOCAL, BPF_ANY);
		return TC_ACT_UNSPEC;
	}
	if (p.l4proto != IPPROTO_UDP)
		return TC_ACT_UNSPEC;
	pw_flow_key_of(&p, &key);
	if (bpf_map_lookup_elem(&pw_flows, &key))
		return TC_ACT_UNSPEC;
	if (ct)
		who = pw_ct_initiator(&fr, &p, false);
	pw_flow_record(&key, who ? who : PW_FLOW_LOCAL, BPF_NOEXIST);
	return TC_ACT_UNSPEC;
}

/* Each program comes twice: plain, and asking conntrack (the loader picks
 * the _ct ones where the kernel has its kfuncs). Names fit in 15 bytes. */
SEC("xdp.frags")
int pw_xdp_ingress(struct xdp_md *ctx)
{
	return pw_xdp(ctx, false);
}

SEC("xdp.frags")
int pw_xdp_ingr_ct(struct xdp_md *ctx)
{
	return pw_xdp(ctx, true);
}

SEC("tc")
int pw_tc_ingress(struct __sk_buff *skb)
{
	return pw_tc_in(skb, false);
}

SEC("tc")
int pw_tc_ingr_ct(struct __sk_buff *skb)
{
	return pw_tc_in(skb, true);
}

SEC("tc")
int pw_tc_egress(struct __sk_buff *skb)
{
	return pw_tc_out(skb, false);
}

SEC("tc")
int pw_tc_egr_ct(struct __sk_buff *skb)
{
	return pw_tc_out(skb, true);
}
