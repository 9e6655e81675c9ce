/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The headers of a packet the kernel is dropping, read from its sk_buff
 * at the skb:kfree_skb tracepoint. The IP layer has set the network
 * header by then; the transport header may still point at an IPv6
 * extension header, so the walk is our own, bounded as pw_parse.h's.
 * The sk_buff's scalar fields (offsets, lengths) are read directly (the
 * tracepoint's argument is typed, and the verifier makes such loads
 * fault-safe). Its one pointer, head, is read as a plain number with
 * bpf_probe_read_kernel, and every address is head plus an offset: the
 * verifier types a pointer field read from a BTF struct differently from
 * kernel to kernel (a scalar on 6.1, untrusted memory on 6.18, where
 * subtracting two such pointers is refused), a number it types the same
 * everywhere. The packet's bytes are read with bpf_probe_read_kernel, which
 * a stale offset makes read nonsense that fails a check, never fault. The
 * tracer runs on every drop of the host: a helper call each for a dozen
 * fields cost a dropped packet about 400 ns more. */
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

/* The L4 header's offset from l3 (0 when *r is not PW_PARSE_L4): a
 * value on every path, where an out-pointer left unset on failure lets
 * the compiler spill an undefined register, which the verifier refuses. */
static __always_inline __u32 pw_drop_parse_ipv4(const struct iphdr *iph,
						struct pw_pkt *p, int *r)
{
	*r = PW_PARSE_MALFORMED;
	if (iph->version != 4 || iph->ihl < 5)
		return 0;
	if (bpf_ntohs(iph->frag_off) & IP_OFFSET) {
		*r = PW_PARSE_FRAGMENT;
		return 0;
	}
	p->l4proto = iph->protocol;
	p->ip_len = bpf_ntohs(iph->tot_len);
	pw_addr_v4(p->remote_addr, iph->saddr);
	*r = PW_PARSE_L4;
	return iph->ihl * 4;
}

/* ip6: the fixed header, already read from l3 (an address). */
static __always_inline __u32 pw_drop_parse_ipv6(__u64 l3,
						const struct ipv6hdr *ip6,
						struct pw_pkt *p, int *r)
{
	struct frag_hdr fh;
	__u32 pos = sizeof(*ip6);
	__u8 opt[2], next;
	int i;

	*r = PW_PARSE_MALFORMED;
	if (ip6->version != 6)
		return 0;
	__builtin_memcpy(p->remote_addr, &ip6->saddr, sizeof(p->remote_addr));
	p->ip_len = bpf_ntohs(ip6->payload_len) + sizeof(*ip6);
	next = ip6->nexthdr;
	for (i = 0; i < PW_IPV6_EXT_MAX; i++) {
		switch (next) {
		case IPPROTO_HOPOPTS:
		case IPPROTO_ROUTING:
		case IPPROTO_DSTOPTS:
		case IPPROTO_AH:
			if (bpf_probe_read_kernel(opt, sizeof(opt), (void *)(l3 + pos)))
				return 0;
			pos += pw_ipv6_ext_len(next, opt[1]);
			next = opt[0];
			break;
		case IPPROTO_FRAGMENT:
			if (bpf_probe_read_kernel(&fh, sizeof(fh), (void *)(l3 + pos)))
				return 0;
			if (bpf_ntohs(fh.frag_off) & IP6_OFFSET) {
				*r = PW_PARSE_FRAGMENT;
				return 0;
			}
			next = fh.nexthdr;
			pos += sizeof(fh);
			break;
		default:
			p->l4proto = next;
			*r = PW_PARSE_L4;
			return pos;
		}
	}
	return 0;
}

/* Where a dropped UDP datagram's payload lies, for verify --probe. */
struct pw_drop_udp {
	__u64 payload;		/* its address */
	__u32 len;		/* from the UDP header */
	bool linear;		/* all of it lies in the skb's head */
};

/* The network header and what follows it, read at once: where the
 * transport header follows the fixed header (no IPv4 options, no IPv6
 * extension header) its first bytes are read with it, one helper call
 * instead of two. */
union pw_drop_hdrs {
	struct iphdr v4;
	struct ipv6hdr v6;
	__u8 raw[sizeof(struct ipv6hdr) + 14];
};

/* The inbound packet in skb: its ports and remote address, as ingress
 * parsed them; *segs the wire packets it stands for (GRO); *udp where a
 * datagram's payload is. */
static __always_inline int pw_drop_parse(struct sk_buff *skb,
					 struct pw_pkt *p, __u32 *segs,
					 struct pw_drop_udp *udp)
{
	__u16 nh = skb->network_header;
	__be16 proto = skb->protocol;
	struct skb_shared_info *shinfo;
	union pw_drop_hdrs h;
	struct pw_vlan_hdr vh;
	__u64 head = 0;
	__u8 tcp[14];
	bool v4;
	__u32 off, l4_off;
	__u16 gso[2];	/* gso_size, gso_segs */
	__s64 l3_len;
	int r, i;

	if (nh == PW_NH_UNSET ||
	    bpf_probe_read_kernel(&head, sizeof(head), &skb->head) || !head)
		return PW_PARSE_MALFORMED;
	/* A tag the kernel did not take off (a frame of a VLAN this host
	 * has no device for, dropped as an unhandled protocol) still lies
	 * before the IP header. */
	for (i = 0; i < PW_VLAN_MAX; i++) {
		if (proto != bpf_htons(ETH_P_8021Q) &&
		    proto != bpf_htons(ETH_P_8021AD))
			break;
		if (bpf_probe_read_kernel(&vh, sizeof(vh), (void *)(head + nh)))
			return PW_PARSE_MALFORMED;
		proto = vh.encap_proto;
		nh += sizeof(vh);
	}
	if (proto != bpf_htons(ETH_P_IP) && proto != bpf_htons(ETH_P_IPV6))
		return PW_PARSE_NOT_IP;
	/* The buffer ends with the shared info, so reading past a short
	 * packet's end stays in it; a read that fails is not one to trust. */
	if (bpf_probe_read_kernel(&h, sizeof(h), (void *)(head + nh)))
		return PW_PARSE_MALFORMED;
	v4 = proto == bpf_htons(ETH_P_IP);
	off = v4 ? pw_drop_parse_ipv4(&h.v4, p, &r) :
		   pw_drop_parse_ipv6(head + nh, &h.v6, p, &r);
	if (r != PW_PARSE_L4)
		return r;
	/* BIG TCP: an aggregate over 64k carries 0 in its IP length, and
	 * its length is then the buffer's from the IP header, as ingress
	 * takes it (pw_parse); otherwise a 0 stays, and fails below. The
	 * buffer's end as an offset from head: its linear part ends at tail
	 * (an offset on 64-bit kernels), its pages add data_len. */
	if (p->ip_len == (v4 ? 0 : sizeof(h.v6))) {
		l3_len = (__s64)skb->tail + skb->data_len - nh;
		if (l3_len > 0xffff + (v4 ? 0 : (__s64)sizeof(h.v6)))
			p->ip_len = l3_len;
	}
	l4_off = nh + off;
	if (p->l4proto != IPPROTO_TCP && p->l4proto != IPPROTO_UDP)
		return PW_PARSE_OTHER_L4;
	if (v4 && off == sizeof(h.v4))
		__builtin_memcpy(tcp, &h.raw[sizeof(h.v4)], sizeof(tcp));
	else if (!v4 && off == sizeof(h.v6))
		__builtin_memcpy(tcp, &h.raw[sizeof(h.v6)], sizeof(tcp));
	else if (bpf_probe_read_kernel(tcp, sizeof(tcp), (void *)(head + l4_off)))
		return PW_PARSE_MALFORMED;
	/* The headers a segment of an aggregate repeats (pw_wire_segs). */
	if (p->l4proto == IPPROTO_TCP) {
		p->tcp_flags = tcp[13];
		p->hdr_len = off + (tcp[12] >> 4) * 4;
	} else {
		p->tcp_flags = 0;
		p->hdr_len = off + 8;
		udp->payload = head + l4_off + 8;
		udp->len = ((__u32)tcp[4] << 8 | tcp[5]);
		udp->len = udp->len > 8 ? udp->len - 8 : 0;
		udp->linear = (__u64)l4_off + 8 + udp->len <= skb->tail;
	}
	__builtin_memcpy(&p->remote_port, &tcp[0], 2);
	__builtin_memcpy(&p->local_port, &tcp[2], 2);
	/* As ingress judges it (pw_parse): headers longer than the packet
	 * are nothing to count, nor to divide an aggregate by. */
	if (p->hdr_len > p->ip_len)
		return PW_PARSE_MALFORMED;
	*segs = 1;
	if (pw_may_be_aggregate(p, skb->data_len)) {
		/* gso_size and gso_segs lie side by side, as they have since
		 * 2.6: one read. */
		shinfo = (void *)(head + skb->end);
		if (!bpf_probe_read_kernel(gso, sizeof(gso), &shinfo->gso_size))
			*segs = pw_wire_segs(p, gso[1], gso[0]);
	}
	return PW_PARSE_L4;
}

#endif
