/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* What a running instance attached, kept in a pinned one-slot map so that
 * show, verify and detach find it without attaching twice. Written only by
 * userspace. */
#ifndef PW_INSTANCE_H
#define PW_INSTANCE_H

#include "pw_types.h"

#define PW_INSTANCE_MAGIC 0x70770006u	/* bump when the layout changes */

enum pw_mode {
	PW_MODE_NONE = 0,	/* maps exist, nothing attached */
	PW_MODE_TC = 1,
	PW_MODE_XDP = 2,
};

struct pw_instance {
	__u32 magic;
	__u32 mode;		/* enum pw_mode of the attached ingress hook */
	__u32 ifindex;
	__u32 ingress_prog_id;	/* TC or XDP ingress program */
	__u32 egress_prog_id;
	__u32 tc_ingress_handle;
	__u32 tc_ingress_prio;
	__u32 tc_egress_handle;
	__u32 tc_egress_prio;
	__u32 owner_pid;	/* the watch that attached; 0 when none */
	__u32 flags;		/* PW_INSTANCE_* */
	__u32 drop_prog_id;	/* the drop tracer, 0 when none */
	__u64 counters_since;	/* CLOCK_REALTIME seconds the maps were made */
};

/* The attached programs also ask the kernel's conntrack. */
#define PW_INSTANCE_CONNTRACK 0x1u
/* Drops are traced (skb:kfree_skb), pinned as the link pw_drop_link. */
#define PW_INSTANCE_DROPS 0x2u

#endif
