// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>
#include <linux/netlink.h>
#include <linux/pkt_cls.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>
#include "tc_filters.h"

#define NL_BUF 32768

/* The u32 attribute type of a nested block, or 0. */
static __u32 nested_u32(const struct rtattr *nest, unsigned short type)
{
	const struct rtattr *a = RTA_DATA(nest);
	int len = RTA_PAYLOAD(nest);

	for (; RTA_OK(a, len); a = RTA_NEXT(a, len))
		if (a->rta_type == type && RTA_PAYLOAD(a) >= sizeof(__u32))
			return *(const __u32 *)RTA_DATA(a);
	return 0;
}

static void take(const struct nlmsghdr *nh, struct pw_tc_filter *out,
		 size_t max, size_t *n)
{
	const struct tcmsg *t = NLMSG_DATA(nh);
	const struct rtattr *a = (const struct rtattr *)((const char *)t +
							 NLMSG_ALIGN(sizeof(*t)));
	int len = (int)nh->nlmsg_len - NLMSG_LENGTH(sizeof(*t));
	const struct rtattr *options = NULL;
	bool is_bpf = false;

	/* A priority's chain head comes with handle 0 and no program. */
	if (nh->nlmsg_type != RTM_NEWTFILTER || len < 0 || !t->tcm_handle)
		return;
	for (; RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		if (a->rta_type == TCA_KIND)
			is_bpf = RTA_PAYLOAD(a) >= 4 &&
				 !strncmp(RTA_DATA(a), "bpf", RTA_PAYLOAD(a));
		else if (a->rta_type == TCA_OPTIONS)
			options = a;
	}
	if (!is_bpf || !options || *n >= max)
		return;
	out[*n].handle = t->tcm_handle;
	out[*n].prio = TC_H_MAJ(t->tcm_info) >> 16;
	out[*n].prog_id = nested_u32(options, TCA_BPF_ID);
	if (out[*n].prog_id)
		(*n)++;
}

int pw_tc_filters(int ifindex, enum bpf_tc_attach_point point,
		  struct pw_tc_filter *out, size_t max, size_t *n)
{
	struct {
		struct nlmsghdr nh;
		struct tcmsg t;
	} req;
	static char buf[NL_BUF];
	struct nlmsghdr *nh;
	int fd, err = 0;
	ssize_t len;

	*n = 0;
	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	memset(&req, 0, sizeof(req));
	req.nh.nlmsg_len = NLMSG_LENGTH(sizeof(req.t));
	req.nh.nlmsg_type = RTM_GETTFILTER;
	req.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	req.nh.nlmsg_seq = 1;
	req.t.tcm_family = AF_UNSPEC;
	req.t.tcm_ifindex = ifindex;
	req.t.tcm_parent = TC_H_MAKE(TC_H_CLSACT, point == BPF_TC_EGRESS ?
				     TC_H_MIN_EGRESS : TC_H_MIN_INGRESS);
	if (send(fd, &req, req.nh.nlmsg_len, 0) < 0) {
		err = -errno;
		goto out;
	}
	for (;;) {
		len = recv(fd, buf, sizeof(buf), 0);
		if (len < 0 && errno == EINTR)
			continue;
		if (len < 0) {
			err = -errno;
			goto out;
		}
		for (nh = (struct nlmsghdr *)buf; NLMSG_OK(nh, (size_t)len);
		     nh = NLMSG_NEXT(nh, len)) {
			if (nh->nlmsg_type == NLMSG_DONE)
				goto out;
			if (nh->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(nh);

				/* No clsact hook: no filters. */
				err = e->error == -EINVAL || e->error == -ENOENT ?
				      0 : e->error;
				goto out;
			}
			take(nh, out, max, n);
		}
		if (len == 0)
			goto out;
	}
out:
	close(fd);
	return err;
}
