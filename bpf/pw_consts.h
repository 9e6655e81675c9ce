/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The constants the programs need. vmlinux.h carries no macros, so they are
 * defined here, once. */
#ifndef PW_CONSTS_H
#define PW_CONSTS_H

#define ETH_P_IP	0x0800
#define ETH_P_IPV6	0x86DD
#define ETH_P_8021Q	0x8100
#define ETH_P_8021AD	0x88A8

#define IPPROTO_HOPOPTS	0
#define IPPROTO_ICMP	1
#define IPPROTO_TCP	6
#define IPPROTO_UDP	17
#define IPPROTO_ROUTING	43
#define IPPROTO_FRAGMENT 44
#define IPPROTO_AH	51
#define IPPROTO_DSTOPTS	60
#define IPPROTO_ICMPV6	58

#define IP_OFFSET	0x1FFF	/* IPv4 fragment offset, host order */
#define IP6_OFFSET	0xFFF8	/* IPv6 fragment offset, host order */

#define TCP_FLAG_SYN	0x02
#define TCP_FLAG_RST	0x04
#define TCP_FLAG_ACK	0x10

#define TC_ACT_UNSPEC	(-1)

/* ICMP "port unreachable", the answer to a datagram no socket took */
#define PW_ICMP_UNREACH		3
#define PW_ICMP_PORT_UNREACH	3
#define PW_ICMPV6_UNREACH	1
#define PW_ICMPV6_PORT_UNREACH	4

#define PW_VLAN_MAX	2	/* 802.1Q and 802.1ad: at most two tags */
#define PW_IPV6_EXT_MAX	8	/* extension headers walked before giving up */
#define PW_PULL_MAX	512	/* bytes TC pulls into the linear area to parse */
#define PW_L3_OFF_MAX	(14 + 4 * PW_VLAN_MAX)	/* where IP starts, at most */

/* The IP length over which a linear buffer may be an aggregate
 * (pw_may_be_aggregate). */
#define PW_AGGREGATE_LINEAR_MIN	576

#endif
