/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Builds raw frames for the test-run fixtures: Ethernet with 0-3 VLAN tags
 * (or none at all), IPv4 with options or IPv6 with extension headers,
 * fragments, and a TCP, UDP or other L4 header. */
#ifndef PW_FRAMES_H
#define PW_FRAMES_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>

enum frag_kind { NOT_FRAG = 0, FIRST_FRAG, LATER_FRAG };

struct frame_spec {
	int family;		/* 4, 6, or 0 for an ARP frame */
	bool l2_none;		/* no Ethernet header (tun, wireguard) */
	int vlans;		/* tags before the IP header, 0-3 */
	bool qinq;		/* outer tag is 802.1ad */
	int ipv4_opt_words;	/* 4-byte words of IPv4 options, 0-10 */
	int ext[12];		/* IPv6 extension header types, in order */
	int n_ext;
	enum frag_kind frag;
	int l4;			/* IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP... */
	uint8_t tcp_flags;
	uint16_t sport, dport;	/* host order */
	const char *src, *dst;	/* addresses, in the family's notation */
	int payload;		/* bytes after the L4 header */
	bool empty;		/* no L4 header at all (IPv6 next header 59) */
};

#define TH_SYN 0x02
#define TH_ACK 0x10

static inline void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* Returns the frame length; *ip_off and *l4_off tell where the IP and L4
 * headers begin, *ip_len the IP length portwitness should count. */
static inline size_t build_frame(const struct frame_spec *f, uint8_t *buf,
				 size_t *ip_off, size_t *l4_off,
				 uint32_t *ip_len)
{
	uint8_t *p = buf, *ip;
	int i, l4len;

	memset(buf, 0, 2048);
	if (!f->l2_none) {
		memcpy(p, "\x02\x00\x00\x00\x00\x01\x02\x00\x00\x00\x00\x02", 12);
		p += 12;
		for (i = 0; i < f->vlans; i++) {
			put16(p, i == 0 && f->qinq ? 0x88a8 : 0x8100);
			put16(p + 2, (uint16_t)(100 + i));
			p += 4;
		}
		put16(p, f->family == 4 ? 0x0800 : f->family == 6 ? 0x86dd : 0x0806);
		p += 2;
	}
	ip = p;
	*ip_off = (size_t)(ip - buf);
	l4len = f->empty ? 0 : f->l4 == IPPROTO_TCP ? 20 : 8;
	if (f->family == 0) {		/* an ARP request */
		memset(p, 0xaa, 28);
		*l4_off = *ip_off;
		*ip_len = 0;
		return (size_t)(p + 28 - buf);
	}
	if (f->family == 4) {
		int hl = 20 + 4 * f->ipv4_opt_words;

		p[0] = (uint8_t)(0x40 | (hl / 4));
		p[8] = 64;
		p[9] = (uint8_t)f->l4;
		if (f->frag == FIRST_FRAG)
			put16(p + 6, 0x2000);		/* MF, offset 0 */
		else if (f->frag == LATER_FRAG)
			put16(p + 6, 0x0000 | 185);	/* offset 1480 */
		inet_pton(AF_INET, f->src, p + 12);
		inet_pton(AF_INET, f->dst, p + 16);
		for (i = 20; i < hl; i++)
			p[i] = 1;			/* NOP options */
		p += hl;
	} else {
		uint8_t *next = ip + 6;

		p[0] = 0x60;
		p[7] = 64;
		inet_pton(AF_INET6, f->src, p + 8);
		inet_pton(AF_INET6, f->dst, p + 24);
		p += 40;
		for (i = 0; i < f->n_ext; i++) {
			*next = (uint8_t)f->ext[i];
			next = p;
			if (f->ext[i] == IPPROTO_FRAGMENT) {
				if (f->frag == LATER_FRAG)
					put16(p + 2, 1480 | 1);
				else
					put16(p + 2, 0 | 1);	/* first, M */
				p += 8;
			} else if (f->ext[i] == IPPROTO_AH) {
				p[1] = 4;	/* (4 + 2) * 4 = 24 bytes */
				p += 24;
			} else {
				p[1] = 1;	/* (1 + 1) * 8 = 16 bytes */
				p[2] = 1;	/* PadN */
				p[3] = 12;
				p += 16;
			}
		}
		*next = (uint8_t)f->l4;
	}
	*l4_off = (size_t)(p - buf);
	if (f->l4 == IPPROTO_TCP) {
		put16(p, f->sport);
		put16(p + 2, f->dport);
		p[12] = 5 << 4;
		p[13] = f->tcp_flags;
	} else if (f->l4 == IPPROTO_UDP) {
		put16(p, f->sport);
		put16(p + 2, f->dport);
		put16(p + 4, (uint16_t)(8 + f->payload));
	} else if (!f->empty) {
		p[0] = 8;	/* ICMP echo request, or whatever it is */
	}
	p += l4len + f->payload;
	if (f->family == 4) {
		*ip_len = (uint32_t)(p - ip);
		put16(ip + 2, (uint16_t)*ip_len);
	} else {
		*ip_len = (uint32_t)(p - ip);
		put16(ip + 4, (uint16_t)(*ip_len - 40));
	}
	return (size_t)(p - buf);
}

#endif
