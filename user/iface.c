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

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
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
