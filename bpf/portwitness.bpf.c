// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* portwitness: count inbound packets per port without binding a socket.
 * Ingress (XDP or TC) counts; TC egress records the flows this host begins,
 * so that their replies are not taken for evidence of port forwarding.
 * Nothing here drops or changes a packet. */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "pw_consts.h"
#include "pw_parse.h"
#include "pw_maps.h"
#include "pw_conntrack.h"
#include "pw_drop_parse.h"

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

/* The slot of the packet's local port (pw_ports.h). */
static __always_inline __u32 pw_slot(const struct pw_pkt *p)
{
	__u32 slot = bpf_ntohs(p->local_port);

	return p->l4proto == IPPROTO_UDP ? slot + PW_PORTS_PER_PROTO : slot;
}

/* The dense index + 1 of a slot; 0 = undeclared. */
static __always_inline __u32 pw_index1(__u32 slot)
{
	return pw_decl.index1[slot & (PW_PORT_SLOTS - 1)];
}

/* The pw_seen entry of a flow, and in *hash what it holds when the flow
 * was seen coming in. */
static __always_inline __u64 *pw_seen_entry(const struct pw_flow_key *key,
					    __u64 *hash)
{
	__u32 idx;

	*hash = pw_flow_key_hash(key);
	idx = (__u32)*hash & (PW_SEEN_ENTRIES - 1);
	return bpf_map_lookup_elem(&pw_seen, &idx);
}

/* Conntrack is asked about flows we did not see begin: any TCP packet
 * but a SYN of an unknown connection, which costs one lookup per
 * connection; UDP only in the window after attach when a flow under way
 * before it may still turn up (see pw_decl_table). */
static __always_inline bool pw_ct_worth_asking(const struct pw_pkt *p)
{
	return p->l4proto == IPPROTO_TCP ||
	       bpf_ktime_get_coarse_ns() < pw_decl.ct_udp_until_ns;
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

/* An inbound packet to a declared port is a reply when its flow was begun
 * by this host. A TCP SYN opens a flow from outside and needs no lookup.
 * A flow the table does not know was begun outside: its hash goes into
 * pw_seen (no insert here; egress records the flow if this host answers).
 * With conntrack (ct), the first packet of an unknown flow asks it (as
 * pw_ct_worth_asking allows), for a flow under way before we attached may
 * be this host's: pw_seen remembers the answer "remote", the table the
 * answer "local", so conntrack is asked once per flow. */
static __always_inline bool pw_inbound_is_reply(const struct pw_frame *fr,
						bool ct,
						const struct pw_pkt *p)
{
	struct pw_flow_key key;
	struct pw_flow *f;
	__u64 hash, *seen;

	if (pw_tcp_opens(p))
		return false;
	pw_flow_key_of(p, &key);
	f = bpf_map_lookup_elem(&pw_flows, &key);
	if (f)
		return f->initiator == PW_FLOW_LOCAL;
	if (!ct && p->l4proto == IPPROTO_TCP)
		return false;
	seen = pw_seen_entry(&key, &hash);
	if (!seen || *seen == hash)
		return false;
	if (ct && pw_ct_worth_asking(p) &&
	    pw_ct_initiator(fr, p, true) == PW_FLOW_LOCAL) {
		pw_flow_record(&key, PW_FLOW_LOCAL, BPF_NOEXIST);
		return true;
	}
	*seen = hash;
	return false;
}

/* segs: how many wire packets this buffer stands for (GRO aggregates). */
static __always_inline void pw_count_inbound(const struct pw_frame *fr,
					     bool ct, int parsed,
					     const struct pw_pkt *p, __u32 segs)
{
	struct pw_port_count *c;
	struct pw_other_count *o;
	__u32 slot, index1, key;

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

	slot = pw_slot(p);
	index1 = pw_index1(slot);
	if (!index1) {
		key = slot / PW_OTHER_LANES;
		o = bpf_map_lookup_elem(&pw_other, &key);
		if (o)
			o->packets[slot & (PW_OTHER_LANES - 1)] += segs;
		return;
	}
	key = index1 - 1;
	c = bpf_map_lookup_elem(&pw_counts, &key);
	if (!c)
		return;
	if (pw_inbound_is_reply(fr, ct, p))
		c->replies += segs;
	else
		c->unsolicited += segs;
	/* Every segment of an aggregate carried its own headers. */
	c->bytes += p->ip_len + (__u64)(segs - 1) * p->hdr_len;
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
	__u32 linear = fr.end - fr.data, len;
	int r;

	/* The lengths in the headers are checked against the linear part;
	 * only a frame that fails that may have more in fragments (jumbo
	 * frames, xdp.frags), so only that one pays for asking. */
	r = pw_parse(fr.data, fr.end, linear, pw_l2_none, true, &p);
	if (r == PW_PARSE_MALFORMED) {
		len = bpf_xdp_get_buff_len(ctx);
		if (len > linear)
			r = pw_parse(fr.data, fr.end, len, pw_l2_none, true, &p);
	}
	pw_count_inbound(&fr, ct, r, &p, 1);
	return XDP_PASS;
}

static __always_inline int pw_tc_in(struct __sk_buff *skb, bool ct)
{
	struct pw_frame fr;
	struct pw_pkt p;
	__u32 segs = 1;
	int r;

	r = pw_parse_skb(skb, true, &fr, &p);
	/* gso_segs lies at the far end of the buffer; a SYN is never part
	 * of an aggregate (GRO and LRO flush on it), so it need not look. */
	if (r == PW_PARSE_L4 &&
	    !(p.l4proto == IPPROTO_TCP && (p.tcp_flags & TCP_FLAG_SYN)) &&
	    skb->gso_segs > 1)
		segs = skb->gso_segs;
	pw_count_inbound(&fr, ct, r, &p, segs);
	return TC_ACT_UNSPEC;
}

/* Record the flows this host begins, on declared ports only (replies to
 * an undeclared port are not classified): a TCP SYN, or the first UDP
 * datagram of a flow not yet known. That datagram may answer a flow the
 * remote side began: pw_seen says so, else conntrack (ct) when it knows,
 * else it is ours. Any other TCP packet needs nothing: its SYN said who
 * began the connection. A UDP packet of a known flow costs one lookup. */
static __always_inline int pw_tc_out(struct __sk_buff *skb, bool ct)
{
	struct pw_flow_key key;
	struct pw_frame fr;
	struct pw_pkt p;
	__u64 hash, *seen;
	__u32 who = 0;
	int r;

	r = pw_parse_skb(skb, false, &fr, &p);
	if (r == PW_PARSE_MALFORMED || r == PW_PARSE_SHORT) {
		pw_stat_inc(PW_STAT_EGRESS_UNPARSED);
		return TC_ACT_UNSPEC;
	}
	if (r != PW_PARSE_L4 || !pw_index1(pw_slot(&p)))
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
	seen = pw_seen_entry(&key, &hash);
	if (seen && *seen == hash)
		who = PW_FLOW_REMOTE;
	else if (ct && pw_ct_worth_asking(&p))
		who = pw_ct_initiator(&fr, &p, false);
	pw_flow_record(&key, who ? who : PW_FLOW_LOCAL, BPF_NOEXIST);
	return TC_ACT_UNSPEC;
}

/* Was skb received on the watched interface (or one stacked on it) of
 * the loader's network namespace? Another namespace's interface may have
 * the same index. */
static __always_inline bool pw_drop_is_ours(struct sk_buff *skb)
{
	__u32 iif = BPF_CORE_READ(skb, skb_iif);
	struct net_device *dev;
	int i;

	if (!iif)
		return false;	/* made on this host, not received */
	for (i = 0; i < PW_DROP_IFACES; i++)
		if (pw_decl.drop_ifindex[i] == iif)
			goto netns;
	return false;
netns:
	dev = BPF_CORE_READ(skb, dev);
	return dev && BPF_CORE_READ(dev, nd_net.net, ns.inum) == pw_decl.netns_ino;
}

static __always_inline void pw_drop_reason_add(__u32 index, __u32 reason,
					       __u32 segs)
{
	struct pw_drop_reason_key key = { .index = index, .reason = reason };
	__u64 *v, one = segs;
	int i;

	/* Two CPUs may insert the same pair: the loser adds to the winner's. */
	for (i = 0; i < 2; i++) {
		v = bpf_map_lookup_elem(&pw_drop_reasons, &key);
		if (v) {
			__sync_fetch_and_add(v, segs);
			return;
		}
		if (!bpf_map_update_elem(&pw_drop_reasons, &key, &one, BPF_NOEXIST))
			return;
	}
	pw_stat_inc(PW_STAT_DROP_REASONS_LOST);
}

/* A drop of an unsolicited packet to a declared port, by class. Replies
 * (flows this host began) are left out, as ingress counts them apart. */
SEC("tp_btf/kfree_skb")
int BPF_PROG(pw_kfree_skb, struct sk_buff *skb, void *location,
	     enum skb_drop_reason reason)
{
	struct pw_port_drops *d;
	struct pw_flow_key key;
	struct pw_flow *f;
	struct pw_pkt p;
	__u32 cls, index1, idx, segs = 1;

	cls = (__u32)reason < PW_DROP_REASONS ?
	      pw_decl.drop_class[(__u32)reason & (PW_DROP_REASONS - 1)] :
	      PW_DROP_OTHER;
	if (cls == PW_DROP_IGNORE || !pw_drop_is_ours(skb))
		return 0;
	if (pw_drop_parse(skb, &p, &segs) != PW_PARSE_L4)
		return 0;
	index1 = pw_index1(pw_slot(&p));
	if (!index1)
		return 0;
	if (!pw_tcp_opens(&p)) {
		pw_flow_key_of(&p, &key);
		f = bpf_map_lookup_elem(&pw_flows, &key);
		if (f && f->initiator == PW_FLOW_LOCAL)
			return 0;
	}
	idx = index1 - 1;
	d = bpf_map_lookup_elem(&pw_drops, &idx);
	if (!d)
		return 0;
	if (cls == PW_DROP_FIREWALL) {
		__sync_fetch_and_add(&d->firewall, segs);
	} else if (cls == PW_DROP_NO_LISTENER) {
		__sync_fetch_and_add(&d->no_listener, segs);
	} else {
		__sync_fetch_and_add(&d->other, segs);
		pw_drop_reason_add(idx, (__u32)reason, segs);
	}
	return 0;
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
