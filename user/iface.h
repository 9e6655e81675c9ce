/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef PW_IFACE_H
#define PW_IFACE_H

#include <net/if.h>
#include <stdbool.h>

struct pw_iface {
	char name[IF_NAMESIZE];
	int ifindex;
	bool l2_none;	/* no link-layer header: tun, wireguard, ppp */
};

/* A name an interface can have (it becomes a path under bpffs). */
bool pw_iface_name_ok(const char *name);
/* 0; -EINVAL for a name that is no interface name or a loopback device
 * (a usage error, message logged); -ENODEV when there is none here. */
int pw_iface_resolve(const char *name, struct pw_iface *out);

#endif
