/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The kernel's drop reasons, by name from its BTF, and which interfaces'
 * received packets the drop tracer takes for ours. */
#ifndef PW_DROPS_USER_H
#define PW_DROPS_USER_H

#include <stddef.h>
#include <stdint.h>
#include "pw_drops.h"

struct btf;

/* Fills cls (PW_DROP_REASONS entries) from enum skb_drop_reason in btf:
 * NETFILTER_DROP is the firewall, NO_SOCKET no listener, NOT_DROPPED_YET
 * and CONSUMED are no drop, every other reason is "other". -ENOENT when
 * btf has no such enum, or not the two reasons portwitness tells apart. */
int pw_drop_classes(const struct btf *btf, uint8_t *cls);
/* The classes of the drop reasons (the running kernel's BTF is read
 * once): 0, or -ENOENT (no BTF, no drop reasons) with cls all ignore. */
int pw_drop_reasons_load(uint8_t *cls);
/* "netfilter_drop", "no_socket", "socket_rcvbuff": the kernel's name
 * without SKB_DROP_REASON_, in lower case; "reason_N" for a value the
 * BTF (as read) does not name. */
const char *pw_drop_reason_name(uint32_t reason, char *buf, size_t len);
/* Takes the classes and names from btf (NULL: none) in place of the
 * running kernel's; what is needed of btf is copied (for tests). */
void pw_drop_reasons_from(const struct btf *btf);

/* The interface of this index, then those its received packets reach
 * the IP layer on: the bridge or bond it is a port of, VLANs, macvlans and
 * ipvlans on it, two levels deep (a VLAN on that bridge), from a netlink
 * dump of this namespace's links: at most PW_DROP_IFACES, the rest 0. */
void pw_drop_ifaces(int ifindex, uint32_t *out);

#endif
