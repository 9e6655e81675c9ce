// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The interface to watch. Its name becomes a path under bpffs, so it is
 * checked before anything else; loopback is never watched (nothing there
 * crossed a firewall). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <net/if_arp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/ethtool.h>
#include <linux/netlink.h>
#include <linux/sockios.h>
#include <linux/rtnetlink.h>
#include "iface.h"
#include "log.h"

#ifndef ARPHRD_RAWIP
#define ARPHRD_RAWIP 519	/* linux/if_arp.h, which clashes with net/if.h */
#endif

bool pw_iface_name_ok(const char *name)
{
	size_t len = strlen(name), i;

	if (len == 0 || len >= IF_NAMESIZE || !strcmp(name, ".") ||
	    !strcmp(name, ".."))
		return false;
	for (i = 0; i < len; i++)
		if (name[i] == '/' || name[i] == ':' ||
		    (unsigned char)name[i] <= ' ' || name[i] == 0x7f)
			return false;
	return true;
}

/* Whether the driver of name is driver (ethtool's driver information). */
static bool driver_is(int fd, const char *name, const char *driver)
{
	struct ethtool_drvinfo info = { .cmd = ETHTOOL_GDRVINFO };
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	ifr.ifr_data = (void *)&info;
	return ioctl(fd, SIOCETHTOOL, &ifr) == 0 &&
	       !strncmp(info.driver, driver, sizeof(info.driver));
}

int pw_iface_resolve(const char *name, struct pw_iface *out)
{
	struct ifreq ifr;
	int fd, err = 0;

	memset(out, 0, sizeof(*out));
	if (!name || !pw_iface_name_ok(name)) {
		pw_err("'%s' is not an interface name\n", name ? name : "");
		return -EINVAL;
	}
	snprintf(out->name, sizeof(out->name), "%s", name);
	out->ifindex = (int)if_nametoindex(name);
	if (!out->ifindex) {
		pw_err("no interface %s in this network namespace (see 'ip link')\n",
		       name);
		return -ENODEV;
	}

	/* A local socket does for interface ioctls, and the service's unit
	 * allows no Internet sockets. */
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) == 0 && (ifr.ifr_flags & IFF_LOOPBACK)) {
		pw_err("%s is a loopback interface: traffic there never crossed a firewall; watch the interface clients reach\n",
		       name);
		err = -EINVAL;
		goto out;
	}
	if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0) {
		err = -errno;
		pw_err("cannot read the link type of %s: %s\n", name,
		       strerror(errno));
		goto out;
	}
	out->tun = driver_is(fd, name, "tun");
	switch (ifr.ifr_hwaddr.sa_family) {
	case ARPHRD_ETHER:
		break;
	case ARPHRD_NONE:
	case ARPHRD_RAWIP:
	case ARPHRD_PPP:
		out->l2_none = true;
		break;
	default:
		pw_err("%s has link type %u, which portwitness cannot parse (Ethernet, tun, wireguard and ppp work)\n",
		       name, ifr.ifr_hwaddr.sa_family);
		err = -EINVAL;
	}
out:
	close(fd);
	return err;
}

int pw_link_monitor_open(void)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_groups = RTMGRP_LINK };
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK,
			NETLINK_ROUTE);

	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		close(fd);
		return -errno;
	}
	return fd;
}

/* What one link message says about name: its index and flags, or that it
 * is gone (deleted, renamed away, moved to another namespace). */
static void link_message(const struct nlmsghdr *nh, const char *name,
			 struct pw_link_state *st)
{
	const struct ifinfomsg *ifi = NLMSG_DATA(nh);
	const struct rtattr *rta;
	const char *ifname = NULL;
	int len;

	if (nh->nlmsg_len < NLMSG_LENGTH(sizeof(*ifi)))
		return;
	len = (int)(nh->nlmsg_len - NLMSG_LENGTH(sizeof(*ifi)));
	for (rta = IFLA_RTA(ifi); RTA_OK(rta, len); rta = RTA_NEXT(rta, len))
		if (rta->rta_type == IFLA_IFNAME &&
		    RTA_PAYLOAD(rta) > 0 &&
		    memchr(RTA_DATA(rta), '\0', RTA_PAYLOAD(rta)))
			ifname = RTA_DATA(rta);
	if (ifname && !strcmp(ifname, name)) {
		if (nh->nlmsg_type == RTM_DELLINK) {
			if (ifi->ifi_index == st->ifindex)
				st->ifindex = 0;
		} else {
			st->ifindex = ifi->ifi_index;
			st->up = (ifi->ifi_flags & IFF_UP) &&
				 (ifi->ifi_flags & IFF_RUNNING);
		}
	} else if (ifi->ifi_index == st->ifindex && st->ifindex) {
		/* Our index under another name: renamed away. */
		if (ifname || nh->nlmsg_type == RTM_DELLINK)
			st->ifindex = 0;
	}
}

int pw_link_monitor_read(int fd, const char *name, struct pw_link_state *st)
{
	char buf[16384] __attribute__((aligned(NLMSG_ALIGNTO)));
	const struct nlmsghdr *nh;
	bool overrun = false;
	ssize_t n;
	int len;

	for (;;) {
		n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == ENOBUFS) {
			overrun = true;	/* messages lost: ask afresh below */
			continue;
		}
		if (n < 0 && errno != EAGAIN)
			return -errno;
		if (n <= 0)
			break;
		len = (int)n;
		for (nh = (const struct nlmsghdr *)buf; NLMSG_OK(nh, len);
		     nh = NLMSG_NEXT(nh, len))
			if (nh->nlmsg_type == RTM_NEWLINK ||
			    nh->nlmsg_type == RTM_DELLINK)
				link_message(nh, name, st);
	}
	if (overrun)
		return pw_link_state(name, st);
	return 0;
}

int pw_link_state(const char *name, struct pw_link_state *st)
{
	struct ifreq ifr;
	int fd;

	st->ifindex = (int)if_nametoindex(name);
	st->up = false;
	if (!st->ifindex)
		return 0;
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) == 0)
		st->up = (ifr.ifr_flags & IFF_UP) && (ifr.ifr_flags & IFF_RUNNING);
	close(fd);
	return 0;
}
