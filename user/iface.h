/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef PW_IFACE_H
#define PW_IFACE_H

#include <net/if.h>
#include <stdbool.h>

struct pw_iface {
	char name[IF_NAMESIZE];
	int ifindex;
	bool l2_none;	/* no link-layer header: tun, wireguard, ppp */
	bool tun;	/* a tun or tap device: a VM's or a VPN's end */
};

/* A name an interface can have (it becomes a path under bpffs). */
bool pw_iface_name_ok(const char *name);
/* 0; -EINVAL for a name that is no interface name or a loopback device
 * (a usage error, message logged); -ENODEV when there is none here. */
int pw_iface_resolve(const char *name, struct pw_iface *out);

/* The watched interface's state, followed through link messages. */
struct pw_link_state {
	int ifindex;	/* 0: there is none of that name */
	bool up;	/* administratively up and running (carrier) */
};

/* A netlink socket that hears every link change (RTMGRP_LINK), non-
 * blocking: the fd, or -errno. */
int pw_link_monitor_open(void);
/* Reads what has come and updates st for name; 0, or -errno when the
 * socket is broken (the caller stops listening). */
int pw_link_monitor_read(int fd, const char *name, struct pw_link_state *st);
/* Asks afresh, without messages. */
int pw_link_state(const char *name, struct pw_link_state *st);

#endif
