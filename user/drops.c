// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Drop reasons differ between kernel builds: their numbers are read from
 * the running kernel's BTF by name, never compiled in. Which interfaces
 * are ours is read from the links of this namespace over netlink, not
 * sysfs, which may show another namespace (nsenter). */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <bpf/btf.h>
#include "drops.h"

#define REASON_PREFIX "SKB_DROP_REASON_"

static const struct btf_type *reason_enum(const struct btf *btf)
{
	__s32 id = btf__find_by_name_kind(btf, "skb_drop_reason", BTF_KIND_ENUM);

	return id > 0 ? btf__type_by_id(btf, id) : NULL;
}

int pw_drop_classes(const struct btf *btf, uint8_t *cls)
{
	const struct btf_type *t = reason_enum(btf);
	const struct btf_enum *e;
	bool firewall = false, no_socket = false;
	const char *name;
	uint8_t c;
	int i;

	memset(cls, PW_DROP_IGNORE, PW_DROP_REASONS);
	if (!t)
		return -ENOENT;
	e = btf_enum(t);
	for (i = 0; i < btf_vlen(t); i++) {
		name = btf__name_by_offset(btf, e[i].name_off);
		if (!name || e[i].val < 0 || (uint32_t)e[i].val >= PW_DROP_REASONS)
			continue;
		if (!strcmp(name, "SKB_NOT_DROPPED_YET") ||
		    !strcmp(name, "SKB_CONSUMED") ||
		    !strcmp(name, "SKB_DROP_REASON_MAX"))
			c = PW_DROP_IGNORE;
		else if (!strcmp(name, REASON_PREFIX "NETFILTER_DROP"))
			c = PW_DROP_FIREWALL, firewall = true;
		else if (!strcmp(name, REASON_PREFIX "NO_SOCKET"))
			c = PW_DROP_NO_LISTENER, no_socket = true;
		else
			c = PW_DROP_OTHER;
		cls[e[i].val] = c;
	}
	if (!firewall || !no_socket) {
		memset(cls, PW_DROP_IGNORE, PW_DROP_REASONS);
		return -ENOENT;
	}
	return 0;
}

/* The drop reasons' classes and names, from the running kernel's BTF
 * (read once) unless pw_drop_reasons_from gave others. The BTF itself
 * (over 10 MiB parsed) is not kept: a watch lives for months. */
struct reason_name {
	uint32_t val;
	char *name;		/* the kernel's: SKB_DROP_REASON_NO_SOCKET */
};

static struct {
	bool set;
	int err;		/* of pw_drop_classes, or -ENOENT: no BTF */
	uint8_t cls[PW_DROP_REASONS];
	struct reason_name *names;
	size_t n;
} reasons;

void pw_drop_reasons_from(const struct btf *btf)
{
	const struct btf_type *t = btf ? reason_enum(btf) : NULL;
	const struct btf_enum *e;
	const char *name;
	int i;

	while (reasons.n)
		free(reasons.names[--reasons.n].name);
	free(reasons.names);
	reasons.names = NULL;
	reasons.set = true;
	memset(reasons.cls, PW_DROP_IGNORE, PW_DROP_REASONS);
	reasons.err = btf ? pw_drop_classes(btf, reasons.cls) : -ENOENT;
	reasons.names = t ? calloc(btf_vlen(t), sizeof(*reasons.names)) : NULL;
	for (i = 0; reasons.names && i < btf_vlen(t); i++) {
		e = btf_enum(t) + i;
		name = btf__name_by_offset(btf, e->name_off);
		if (!name || !(reasons.names[reasons.n].name = strdup(name)))
			continue;
		reasons.names[reasons.n++].val = (uint32_t)e->val;
	}
}

static void reasons_read(void)
{
	struct btf *btf;

	if (reasons.set)
		return;
	btf = btf__load_vmlinux_btf();
	pw_drop_reasons_from(btf);
	btf__free(btf);
}

int pw_drop_reasons_load(uint8_t *cls)
{
	reasons_read();
	memcpy(cls, reasons.cls, PW_DROP_REASONS);
	return reasons.err;
}

const char *pw_drop_reason_name(uint32_t reason, char *buf, size_t len)
{
	const char *name = NULL;
	size_t i;

	reasons_read();
	for (i = 0; i < reasons.n && !name; i++)
		if (reasons.names[i].val == reason)
			name = reasons.names[i].name;
	if (!name) {
		snprintf(buf, len, "reason_%u", reason);
		return buf;
	}
	if (!strncmp(name, REASON_PREFIX, strlen(REASON_PREFIX)))
		name += strlen(REASON_PREFIX);
	else if (!strncmp(name, "SKB_", 4))
		name += 4;
	for (i = 0; name[i] && i + 1 < len; i++)
		buf[i] = (char)tolower((unsigned char)name[i]);
	if (len)
		buf[i] = '\0';
	return buf;
}

/* What a link dump says of one device: what it sits on. */
struct link_rel {
	uint32_t index;
	uint32_t link;		/* IFLA_LINK in this namespace (a VLAN's lower) */
	uint32_t master;	/* IFLA_MASTER: the bridge or bond it is a port of */
	bool stacked;		/* a kind whose packets its lower receives */
};

/* Kinds whose packets arrive on their lower device first; a veth's
 * IFLA_LINK is its peer, a tunnel's its underlay: neither is stacked. */
static bool stacked_kind(const char *kind)
{
	static const char *const kinds[] = {
		"vlan", "macvlan", "macvtap", "ipvlan", "ipvtap",
	};
	size_t i;

	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (!strcmp(kind, kinds[i]))
			return true;
	return false;
}

static void parse_link(const struct nlmsghdr *nh, struct link_rel *r)
{
	const struct ifinfomsg *ifi = NLMSG_DATA(nh);
	const struct rtattr *rta, *sub;
	bool other_ns = false;
	int len, sublen;

	memset(r, 0, sizeof(*r));
	r->index = (uint32_t)ifi->ifi_index;
	len = (int)(nh->nlmsg_len - NLMSG_LENGTH(sizeof(*ifi)));
	for (rta = IFLA_RTA(ifi); RTA_OK(rta, len); rta = RTA_NEXT(rta, len)) {
		if (rta->rta_type == IFLA_LINK && RTA_PAYLOAD(rta) >= 4)
			memcpy(&r->link, RTA_DATA(rta), 4);
		else if (rta->rta_type == IFLA_MASTER && RTA_PAYLOAD(rta) >= 4)
			memcpy(&r->master, RTA_DATA(rta), 4);
		else if (rta->rta_type == IFLA_LINK_NETNSID)
			other_ns = true;
		else if (rta->rta_type == IFLA_LINKINFO) {
			sublen = (int)RTA_PAYLOAD(rta);
			for (sub = RTA_DATA(rta); RTA_OK(sub, sublen);
			     sub = RTA_NEXT(sub, sublen))
				if (sub->rta_type == IFLA_INFO_KIND &&
				    RTA_PAYLOAD(sub) > 0 &&
				    memchr(RTA_DATA(sub), '\0', RTA_PAYLOAD(sub)))
					r->stacked = stacked_kind(RTA_DATA(sub));
		}
	}
	if (other_ns)
		r->link = 0;
}

/* Every link of this namespace: 0 with *rels (malloc'd), or -errno. */
static int dump_links(struct link_rel **rels, size_t *n)
{
	struct {
		struct nlmsghdr nh;
		struct ifinfomsg ifi;
	} req = {
		.nh = {
			.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifinfomsg)),
			.nlmsg_type = RTM_GETLINK,
			.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP,
			.nlmsg_seq = 1,
		},
		.ifi = { .ifi_family = AF_UNSPEC },
	};
	char buf[32768] __attribute__((aligned(NLMSG_ALIGNTO)));
	const struct nlmsghdr *nh;
	struct link_rel *v = NULL, *grown;
	size_t cap = 0;
	int fd, len, err = 0;
	bool done = false;
	ssize_t got;

	*n = 0;
	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	if (send(fd, &req, req.nh.nlmsg_len, 0) < 0) {
		err = -errno;
		goto out;
	}
	while (!done) {
		got = recv(fd, buf, sizeof(buf), 0);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0) {
			err = got < 0 ? -errno : -EIO;
			goto out;
		}
		len = (int)got;
		for (nh = (const struct nlmsghdr *)buf; NLMSG_OK(nh, len);
		     nh = NLMSG_NEXT(nh, len)) {
			if (nh->nlmsg_type == NLMSG_DONE) {
				done = true;
				break;
			}
			if (nh->nlmsg_type == NLMSG_ERROR) {
				err = -EIO;
				goto out;
			}
			if (nh->nlmsg_type != RTM_NEWLINK ||
			    nh->nlmsg_len < NLMSG_LENGTH(sizeof(struct ifinfomsg)))
				continue;
			if (*n == cap) {
				cap = cap ? 2 * cap : 64;
				grown = realloc(v, cap * sizeof(*v));
				if (!grown) {
					err = -ENOMEM;
					goto out;
				}
				v = grown;
			}
			parse_link(nh, &v[(*n)++]);
		}
	}
out:
	close(fd);
	if (err) {
		free(v);
		v = NULL;
		*n = 0;
	}
	*rels = v;
	return err;
}

static bool have(const uint32_t *out, size_t n, uint32_t ifindex)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (out[i] == ifindex)
			return true;
	return false;
}

static size_t add(uint32_t *out, size_t n, uint32_t ifindex)
{
	if (ifindex && n < PW_DROP_IFACES && !have(out, n, ifindex))
		out[n++] = ifindex;
	return n;
}

void pw_drop_ifaces(int ifindex, uint32_t *out)
{
	struct link_rel *rels = NULL;
	size_t n = 0, nrels = 0, level, from, to, i, k;

	memset(out, 0, PW_DROP_IFACES * sizeof(*out));
	if (ifindex <= 0)
		return;
	n = add(out, n, (uint32_t)ifindex);
	if (dump_links(&rels, &nrels))
		return;		/* the interface itself is what matters most */
	/* Two levels: a VLAN on a bridge the interface is a port of. */
	from = 0;
	for (level = 0; level < 2; level++) {
		to = n;
		for (i = from; i < to; i++)
			for (k = 0; k < nrels; k++) {
				if (rels[k].index == out[i])
					n = add(out, n, rels[k].master);
				if (rels[k].stacked && rels[k].link == out[i])
					n = add(out, n, rels[k].index);
			}
		from = to;
	}
	free(rels);
}
