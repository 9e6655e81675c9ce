/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The headers of a packet the kernel is dropping, read from its sk_buff
 * at the skb:kfree_skb tracepoint. The IP layer has set the network
 * header by then; the transport header may still point at an IPv6
 * extension header, so the walk is our own, bounded as pw_parse.h's.
 * Every read goes through bpf_probe_read_kernel: a stale offset reads
 * nonsense that fails a check, never faults. */
#ifndef PW_DROP_PARSE_H
#define PW_DROP_PARSE_H

#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
#include "pw_consts.h"
#include "pw_parse.h"

/* network_header when nothing set it */
#define PW_NH_UNSET 0xffff

static __always_inline int pw_drop_parse_ipv4(unsigned char *l3,
					      unsigned char **l4,
					      struct pw_pkt *p)
{
	struct iphdr iph;

	if (bpf_probe_read_kernel(&iph, sizeof(iph), l3) ||
	    iph.version != 4 || iph.ihl < 5)
		return PW_PARSE_MALFORMED;
	if (bpf_ntohs(iph.frag_off) & IP_OFFSET)
		return PW_PARSE_FRAGMENT;
	p->l4proto = iph.protocol;
	pw_addr_v4(p->remote_addr, iph.saddr);
	*l4 = l3 + iph.ihl * 4;
	return PW_PARSE_L4;
}

static __always_inline int pw_drop_parse_ipv6(unsigned char *l3,
					      unsigned char **l4,
					      struct pw_pkt *p)
{
	struct ipv6hdr ip6;
	struct frag_hdr fh;
	unsigned char *pos = l3 + sizeof(ip6);
	__u8 opt[2], next;
	int i;

	if (bpf_probe_read_kernel(&ip6, sizeof(ip6), l3) || ip6.version != 6)
		return PW_PARSE_MALFORMED;
	__builtin_memcpy(p->remote_addr, &ip6.saddr, sizeof(p->remote_addr));
	next = ip6.nexthdr;
	for (i = 0; i < PW_IPV6_EXT_MAX; i++) {
		switch (next) {
		case IPPROTO_HOPOPTS:
		case IPPROTO_ROUTING:
		case IPPROTO_DSTOPTS:
		case IPPROTO_AH:
			if (bpf_probe_read_kernel(opt, sizeof(opt), pos))
				return PW_PARSE_MALFORMED;
			pos += pw_ipv6_ext_len(next, opt[1]);
			next = opt[0];
			break;
		case IPPROTO_FRAGMENT:
			if (bpf_probe_read_kernel(&fh, sizeof(fh), pos))
				return PW_PARSE_MALFORMED;
			if (bpf_ntohs(fh.frag_off) & IP6_OFFSET)
				return PW_PARSE_FRAGMENT;
			next = fh.nexthdr;
			pos += sizeof(fh);
			break;
		default:
			p->l4proto = next;
			*l4 = pos;
			return PW_PARSE_L4;
		}
	}
	return PW_PARSE_MALFORMED;
}

/* Where a dropped UDP datagram's payload lies, for verify --probe. */
struct pw_drop_udp {
	unsigned char *payload;
	__u32 len;		/* from the UDP header */
	bool linear;		/* all of it lies in the skb's head */
};

/* The inbound packet in skb: its ports and remote address, as ingress
 * parsed them; *segs the wire packets it stands for (GRO); *udp where a
 * datagram's payload is. */
static __always_inline int pw_drop_parse(struct sk_buff *skb,
					 struct pw_pkt *p, __u32 *segs,
					 struct pw_drop_udp *udp)
{
	unsigned char *head = BPF_CORE_READ(skb, head), *l4 = NULL;
	__u16 nh = BPF_CORE_READ(skb, network_header);
	__be16 proto = BPF_CORE_READ(skb, protocol);
	struct skb_shared_info *shinfo;
	struct pw_vlan_hdr vh;
	__u8 tcp[14];
	__u16 gso;
	int r, i;

	if (!head || nh == PW_NH_UNSET)
		return PW_PARSE_MALFORMED;
	/* A tag the kernel did not take off (a frame of a VLAN this host
	 * has no device for, dropped as an unhandled protocol) still lies
	 * before the IP header. */
	for (i = 0; i < PW_VLAN_MAX; i++) {
		if (proto != bpf_htons(ETH_P_8021Q) &&
		    proto != bpf_htons(ETH_P_8021AD))
			break;
		if (bpf_probe_read_kernel(&vh, sizeof(vh), head + nh))
			return PW_PARSE_MALFORMED;
		proto = vh.encap_proto;
		nh += sizeof(vh);
	}
	if (proto == bpf_htons(ETH_P_IP))
		r = pw_drop_parse_ipv4(head + nh, &l4, p);
	else if (proto == bpf_htons(ETH_P_IPV6))
		r = pw_drop_parse_ipv6(head + nh, &l4, p);
	else
		return PW_PARSE_NOT_IP;
	if (r != PW_PARSE_L4)
		return r;
	if (p->l4proto == IPPROTO_TCP) {
		if (bpf_probe_read_kernel(tcp, sizeof(tcp), l4))
			return PW_PARSE_MALFORMED;
		p->tcp_flags = tcp[13];
	} else if (p->l4proto == IPPROTO_UDP) {
		if (bpf_probe_read_kernel(tcp, 8, l4))
			return PW_PARSE_MALFORMED;
		p->tcp_flags = 0;
		udp->payload = l4 + 8;
		udp->len = ((__u32)tcp[4] << 8 | tcp[5]);
		udp->len = udp->len > 8 ? udp->len - 8 : 0;
		udp->linear = udp->payload - head + udp->len <=
			      BPF_CORE_READ(skb, tail);
	} else {
		return PW_PARSE_OTHER_L4;
	}
	__builtin_memcpy(&p->remote_port, &tcp[0], 2);
	__builtin_memcpy(&p->local_port, &tcp[2], 2);
	/* As at ingress: a SYN is never part of an aggregate. */
	*segs = 1;
	if (!(p->tcp_flags & TCP_FLAG_SYN)) {
		shinfo = (void *)(head + BPF_CORE_READ(skb, end));
		gso = BPF_CORE_READ(shinfo, gso_segs);
		if (gso > 1)
			*segs = gso;
	}
	return PW_PARSE_L4;
}

#endif
