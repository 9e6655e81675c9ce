/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The kernel's conntrack as a second source of who began a flow: it knows
 * the flows that were under way before portwitness attached, which our own
 * table cannot. Asked only when the flow table has no answer, so once per
 * flow; used by the *_ct program variants, which the loader picks only on
 * kernels that have these kfuncs. */
#ifndef PW_CONNTRACK_H
#define PW_CONNTRACK_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "pw_flows.h"
#include "pw_parse.h"

/* Which lookup a program makes: a constant of each program, never read
 * from its frame, so that the compiler leaves the other context's global
 * function out of it (6.1 verifies every global function a program
 * holds, reachable or not, and one taking another context refuses). */
enum pw_ct { PW_CT_NONE = 0, PW_CT_SKB, PW_CT_XDP };

#ifdef PW_CT	/* the _ct programs' object (portwitness.bpf.c) */

/* The 12-byte layout every kernel with these kfuncs accepts (6.1 takes
 * only 12; later ones take 12 or 16). */
struct bpf_ct_opts___pw {
	s32 netns_id;
	s32 error;
	u8 l4proto;
	u8 dir;
	u8 reserved[2];
};

extern struct nf_conn *bpf_skb_ct_lookup(struct __sk_buff *ctx,
					 struct bpf_sock_tuple *tuple,
					 u32 tuple_sz,
					 struct bpf_ct_opts___pw *opts,
					 u32 opts_sz) __ksym __weak;
extern struct nf_conn *bpf_xdp_ct_lookup(struct xdp_md *ctx,
					 struct bpf_sock_tuple *tuple,
					 u32 tuple_sz,
					 struct bpf_ct_opts___pw *opts,
					 u32 opts_sz) __ksym __weak;
extern void bpf_ct_release(struct nf_conn *ct) __ksym __weak;

/* PW_FLOW_LOCAL or PW_FLOW_REMOTE when conntrack has the flow, else 0.
 * The packet's own tuple matches the original or the reply direction; the
 * original direction's source is whoever sent first (NAT rewrites the
 * other side, never this one). */
static __always_inline __u32 pw_ct_initiator(const struct pw_frame *fr,
					     const struct pw_pkt *p,
					     bool ingress)
{
	struct bpf_ct_opts___pw opts = {
		.netns_id = BPF_F_CURRENT_NETNS,
		.l4proto = p->l4proto,
	};
	struct bpf_sock_tuple t = {};
	struct nf_conntrack_tuple *orig;
	struct nf_conn *ct;
	__u32 tsz, who;
	bool remote_first;

	/* Ethernet and two tags at most: a bound the verifier can follow. */
	if (p->l3_off > PW_L3_OFF_MAX)
		return 0;
	if (p->family == 4) {
		struct iphdr *iph = fr->data + p->l3_off;

		if ((void *)(iph + 1) > fr->end)
			return 0;
		t.ipv4.saddr = iph->saddr;
		t.ipv4.daddr = iph->daddr;
		t.ipv4.sport = ingress ? p->remote_port : p->local_port;
		t.ipv4.dport = ingress ? p->local_port : p->remote_port;
		tsz = sizeof(t.ipv4);
	} else {
		struct ipv6hdr *ip6 = fr->data + p->l3_off;

		if ((void *)(ip6 + 1) > fr->end)
			return 0;
		__builtin_memcpy(t.ipv6.saddr, &ip6->saddr, 16);
		__builtin_memcpy(t.ipv6.daddr, &ip6->daddr, 16);
		t.ipv6.sport = ingress ? p->remote_port : p->local_port;
		t.ipv6.dport = ingress ? p->local_port : p->remote_port;
		tsz = sizeof(t.ipv6);
	}
	if (fr->xdp)
		ct = bpf_xdp_ct_lookup(fr->ctx, &t, tsz, &opts, sizeof(opts));
	else
		ct = bpf_skb_ct_lookup(fr->ctx, &t, tsz, &opts, sizeof(opts));
	if (!ct)
		return 0;
	orig = &ct->tuplehash[IP_CT_DIR_ORIGINAL].tuple;
	remote_first = orig->src.u.all == p->remote_port;
	if (p->family == 4)
		remote_first = remote_first && orig->src.u3.ip == p->remote_addr[3];
	else
		remote_first = remote_first &&
			       orig->src.u3.all[0] == p->remote_addr[0] &&
			       orig->src.u3.all[1] == p->remote_addr[1] &&
			       orig->src.u3.all[2] == p->remote_addr[2] &&
			       orig->src.u3.all[3] == p->remote_addr[3];
	who = remote_first ? PW_FLOW_REMOTE : PW_FLOW_LOCAL;
	bpf_ct_release(ct);
	return who;
}

/* pw_ct_initiator as global functions, one per context type, reading the
 * packet again from the context: the verifier checks the lookup once, not
 * along every path of the parser of the programs that ask (inline, it
 * took pw_xdp_ingr_ct to 484k of the verifier's 1M instructions on
 * 6.18). */
__noinline __u32 pw_ct_ask_xdp(struct xdp_md *ctx, const struct pw_pkt *p)
{
	struct pw_frame fr = {
		.ctx = ctx,
		.xdp = true,
		.data = (void *)(long)ctx->data,
		.end = (void *)(long)ctx->data_end,
	};

	return p ? pw_ct_initiator(&fr, p, true) : 0;
}

__noinline __u32 pw_ct_ask_skb(struct __sk_buff *skb, const struct pw_pkt *p,
			       __u32 ingress)
{
	struct pw_frame fr = {
		.ctx = skb,
		.xdp = false,
		.data = (void *)(long)skb->data,
		.end = (void *)(long)skb->data_end,
	};

	return p ? pw_ct_initiator(&fr, p, ingress) : 0;
}

/* Who began the flow of p, as conntrack knows it (0: it does not). */
static __always_inline __u32 pw_ct_ask(const struct pw_frame *fr,
				       enum pw_ct ct, const struct pw_pkt *p,
				       bool ingress)
{
	return ct == PW_CT_XDP ? pw_ct_ask_xdp(fr->ctx, p) :
				 pw_ct_ask_skb(fr->ctx, p, ingress);
}
#else
/* The plain programs' object names no kfunc: nothing to ask. */
static __always_inline __u32 pw_ct_ask(const struct pw_frame *fr,
				       enum pw_ct ct, const struct pw_pkt *p,
				       bool ingress)
{
	return 0;
}
#endif

#endif
