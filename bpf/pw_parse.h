/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* One packet parser for XDP and TC: Ethernet (up to two VLAN tags) or a
 * bare L3 device, IPv4 with options, IPv6 with a bounded extension-header
 * walk, then the TCP or UDP ports. Every read is checked against the end of
 * the data; the parser only reads. */
#ifndef PW_PARSE_H
#define PW_PARSE_H

#include "vmlinux.h"
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
#include "pw_consts.h"

enum pw_parse_result {
	PW_PARSE_L4 = 0,	/* TCP or UDP: ports and addresses are set */
	PW_PARSE_NOT_IP,
	PW_PARSE_OTHER_L4,
	PW_PARSE_FRAGMENT,	/* a later fragment: no port to count */
	PW_PARSE_MALFORMED,	/* a bad field, or shorter than it claims */
	PW_PARSE_SHORT,		/* the headers run past the data we can see */
};

/* What the counters need of one packet. "local" and "remote" are relative
 * to this host, so the same struct serves ingress and egress. */
struct pw_pkt {
	__u32 remote_addr[4];	/* network order; IPv4 as ::ffff:a.b.c.d */
	__u16 local_port;	/* network order */
	__u16 remote_port;	/* network order */
	__u8 l4proto;
	__u8 tcp_flags;
	__u16 hdr_len;		/* L3 + L4 header bytes */
	__u32 ip_len;		/* IPv4 total length, IPv6 payload + 40 */
	__u16 l3_off;		/* where the IP header starts in the data */
	__u8 family;		/* 4 or 6 */
};

/* Whether a parsed packet may be an aggregate (GRO, LRO, a sender's GSO),
 * whose gso_segs, at the far end of the buffer, says how many wire
 * packets it stands for; paged: the buffer has data beyond its linear
 * part. A paged one may (GRO merges into frags or a frag list, never into
 * the head; TCP and UDP GSO put their payload in pages); a linear one
 * only when its IP length is over PW_AGGREGATE_LINEAR_MIN, in case an
 * aggregate was copied into one buffer on its way: two segments of IPv4's
 * default MSS (536) are longer. Where an aggregate of smaller segments
 * were linear, it would count as one packet. Never a TCP SYN (tcp_flags
 * is 0 for UDP): GRO and LRO flush on it. */
static __always_inline bool pw_may_be_aggregate(const struct pw_pkt *p,
						bool paged)
{
	return (paged || p->ip_len > PW_AGGREGATE_LINEAR_MIN) &&
	       !(p->tcp_flags & TCP_FLAG_SYN);
}

/* How many wire packets a buffer that may be an aggregate stands for:
 * its gso_segs when set. A gso_size with gso_segs 0 is a sender's GSO
 * buffer the kernel has not checked (SKB_GSO_DODGY: a VM's through tap
 * or vhost-net, a VPN daemon's through tun, a packet socket's with a
 * virtio-net header). The kernel cuts such a buffer into segments of
 * gso_size bytes of payload, and sets gso_segs, only if it segments it,
 * which it never does for a buffer delivered to a local socket; so the
 * count is computed the kernel's way. At most 65535, as gso_segs holds. */
static __always_inline __u32 pw_wire_segs(const struct pw_pkt *p,
					  __u32 gso_segs, __u32 gso_size)
{
	__u32 payload = p->ip_len - p->hdr_len, segs;

	if (gso_segs)
		return gso_segs;
	if (!gso_size || payload <= gso_size)
		return 1;
	segs = (payload + gso_size - 1) / gso_size;
	return segs < 0xffff ? segs : 0xffff;
}

/* Where the packet lies: what the conntrack lookup needs to read its
 * addresses again, and to name the packet to the kernel. */
struct pw_frame {
	void *ctx;
	void *data;
	void *end;
	bool xdp;
};

struct pw_vlan_hdr {
	__be16 tci;
	__be16 encap_proto;
};

struct pw_cursor {
	void *pos;
	void *end;
};

static __always_inline int pw_parse_vlans(struct pw_cursor *c, __be16 *proto)
{
	struct pw_vlan_hdr *vh;
	int i;

#pragma unroll
	for (i = 0; i < PW_VLAN_MAX; i++) {
		if (*proto != bpf_htons(ETH_P_8021Q) &&
		    *proto != bpf_htons(ETH_P_8021AD))
			return PW_PARSE_L4;
		vh = c->pos;
		if ((void *)(vh + 1) > c->end)
			return PW_PARSE_SHORT;
		*proto = vh->encap_proto;
		c->pos = vh + 1;
	}
	/* A third tag is past what we parse: like an over-long IPv6 chain,
	 * counted where verify shows it. */
	if (*proto == bpf_htons(ETH_P_8021Q) || *proto == bpf_htons(ETH_P_8021AD))
		return PW_PARSE_MALFORMED;
	return PW_PARSE_L4;
}

/* An IPv4 address as the flow key keeps it: ::ffff:a.b.c.d. */
static __always_inline void pw_addr_v4(__u32 *out, __be32 addr)
{
	out[0] = 0;
	out[1] = 0;
	out[2] = bpf_htonl(0xffff);
	out[3] = addr;
}

/* l3_len: bytes from the IP header to the end of the packet, including
 * what lies beyond the linear data. */
static __always_inline int pw_parse_ipv4(struct pw_cursor *c, __u32 l3_len,
					 bool ingress, struct pw_pkt *p)
{
	struct iphdr *iph = c->pos;
	__u32 hlen, tot;

	if ((void *)(iph + 1) > c->end)
		return PW_PARSE_SHORT;
	if (iph->version != 4 || iph->ihl < 5)
		return PW_PARSE_MALFORMED;
	hlen = iph->ihl * 4;
	tot = bpf_ntohs(iph->tot_len);
	/* 0 is how a BIG TCP aggregate says "longer than 64k"; any other
	 * packet claiming it is malformed, as the IP layer will find. */
	if (tot == 0 && l3_len > 0xffff)
		tot = l3_len;
	else if (tot < hlen || tot > l3_len)
		return PW_PARSE_MALFORMED;
	if (c->pos + hlen > c->end)
		return PW_PARSE_SHORT;
	if (bpf_ntohs(iph->frag_off) & IP_OFFSET)
		return PW_PARSE_FRAGMENT;

	p->ip_len = tot;
	p->hdr_len = hlen;
	p->l4proto = iph->protocol;
	pw_addr_v4(p->remote_addr, ingress ? iph->saddr : iph->daddr);
	c->pos += hlen;
	return PW_PARSE_L4;
}

/* The bytes of an IPv6 extension header (not a fragment header) from
 * its type and length byte: AH counts 4-byte words less 2, the others
 * 8-byte units less 1. */
static __always_inline __u32 pw_ipv6_ext_len(__u8 type, __u8 len)
{
	return type == IPPROTO_AH ? (len + 2) * 4 : (len + 1) * 8;
}

static __always_inline int pw_parse_ipv6(struct pw_cursor *c, __u32 l3_len,
					 bool ingress, struct pw_pkt *p)
{
	struct ipv6hdr *ip6 = c->pos;
	struct frag_hdr *fh;
	__u8 *opt;
	__u32 plen;
	__u8 next;
	int i;

	if ((void *)(ip6 + 1) > c->end)
		return PW_PARSE_SHORT;
	if (ip6->version != 6)
		return PW_PARSE_MALFORMED;
	plen = bpf_ntohs(ip6->payload_len);
	/* 0: a jumbogram or BIG TCP aggregate when the packet is that long;
	 * else an empty payload, and any L4 header after it is malformed. */
	if (plen == 0 && l3_len > 0xffff + sizeof(*ip6))
		plen = l3_len - sizeof(*ip6);
	else if (plen + sizeof(*ip6) > l3_len)
		return PW_PARSE_MALFORMED;
	p->ip_len = plen + sizeof(*ip6);
	__builtin_memcpy(p->remote_addr,
			 ingress ? &ip6->saddr : &ip6->daddr,
			 sizeof(p->remote_addr));
	next = ip6->nexthdr;
	c->pos = ip6 + 1;

#pragma unroll
	for (i = 0; i < PW_IPV6_EXT_MAX; i++) {
		switch (next) {
		case IPPROTO_HOPOPTS:
		case IPPROTO_ROUTING:
		case IPPROTO_DSTOPTS:
		case IPPROTO_AH:
			opt = c->pos;		/* next header, length */
			if ((void *)(opt + 2) > c->end)
				return PW_PARSE_SHORT;
			c->pos += pw_ipv6_ext_len(next, opt[1]);
			next = opt[0];
			break;
		case IPPROTO_FRAGMENT:
			fh = c->pos;
			if ((void *)(fh + 1) > c->end)
				return PW_PARSE_SHORT;
			if (bpf_ntohs(fh->frag_off) & IP6_OFFSET)
				return PW_PARSE_FRAGMENT;
			next = fh->nexthdr;
			c->pos = fh + 1;
			break;
		default:
			goto done;
		}
	}
	/* Still an extension header after the walk: too long a chain. */
	if (next == IPPROTO_HOPOPTS || next == IPPROTO_ROUTING ||
	    next == IPPROTO_DSTOPTS || next == IPPROTO_AH ||
	    next == IPPROTO_FRAGMENT)
		return PW_PARSE_MALFORMED;
done:
	p->l4proto = next;
	p->hdr_len = c->pos - (void *)ip6;
	return PW_PARSE_L4;
}

/* The L4 header must lie within the IP length too: the IP layer trims a
 * packet to it, so a header beyond never reaches a socket. */
static __always_inline int pw_parse_l4(struct pw_cursor *c, bool ingress,
				       struct pw_pkt *p)
{
	struct tcphdr *th;
	struct udphdr *uh;

	if (p->l4proto == IPPROTO_TCP) {
		th = c->pos;
		if ((void *)(th + 1) > c->end)
			return PW_PARSE_SHORT;
		if (th->doff < 5)
			return PW_PARSE_MALFORMED;
		p->local_port = ingress ? th->dest : th->source;
		p->remote_port = ingress ? th->source : th->dest;
		p->tcp_flags = ((__u8 *)th)[13];
		p->hdr_len += th->doff * 4;
	} else if (p->l4proto == IPPROTO_UDP) {
		uh = c->pos;
		if ((void *)(uh + 1) > c->end)
			return PW_PARSE_SHORT;
		p->local_port = ingress ? uh->dest : uh->source;
		p->remote_port = ingress ? uh->source : uh->dest;
		p->tcp_flags = 0;
		p->hdr_len += sizeof(*uh);
	} else {
		return PW_PARSE_OTHER_L4;
	}
	return p->hdr_len > p->ip_len ? PW_PARSE_MALFORMED : PW_PARSE_L4;
}

/* data/end: the directly readable bytes; pkt_len: the whole frame.
 * l2_none: the device has no link-layer header (tun, wireguard). */
static __always_inline int pw_parse(void *data, void *end, __u32 pkt_len,
				    bool l2_none, bool ingress,
				    struct pw_pkt *p)
{
	struct pw_cursor c = { .pos = data, .end = end };
	struct ethhdr *eth;
	__be16 proto;
	__u32 off;
	int r;

	if (l2_none) {
		__u8 *vers = c.pos;

		if ((void *)(vers + 1) > c.end)
			return PW_PARSE_SHORT;
		proto = (*vers >> 4) == 6 ? bpf_htons(ETH_P_IPV6) :
			(*vers >> 4) == 4 ? bpf_htons(ETH_P_IP) : 0;
	} else {
		eth = c.pos;
		if ((void *)(eth + 1) > c.end)
			return PW_PARSE_SHORT;
		c.pos = eth + 1;
		proto = eth->h_proto;
		r = pw_parse_vlans(&c, &proto);
		if (r != PW_PARSE_L4)
			return r;
	}

	off = c.pos - data;
	if (off > pkt_len)
		return PW_PARSE_MALFORMED;
	p->l3_off = off;
	p->family = proto == bpf_htons(ETH_P_IPV6) ? 6 : 4;
	if (proto == bpf_htons(ETH_P_IP))
		r = pw_parse_ipv4(&c, pkt_len - off, ingress, p);
	else if (proto == bpf_htons(ETH_P_IPV6))
		r = pw_parse_ipv6(&c, pkt_len - off, ingress, p);
	else
		return PW_PARSE_NOT_IP;
	if (r != PW_PARSE_L4)
		return r;
	return pw_parse_l4(&c, ingress, p);
}

#endif
