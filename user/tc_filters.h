/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The BPF filters on an interface's clsact hook, listed by a netlink dump
 * (libbpf 1.1 can only query a known handle and priority), so that detach
 * finds portwitness's own even when nothing recorded them. */
#ifndef PW_TC_FILTERS_H
#define PW_TC_FILTERS_H

#include <stddef.h>
#include <bpf/libbpf.h>

struct pw_tc_filter {
	__u32 handle;
	__u32 prio;
	__u32 prog_id;
};

/* Up to max filters of kind bpf; *n is how many. 0 or a negative errno. */
int pw_tc_filters(int ifindex, enum bpf_tc_attach_point point,
		  struct pw_tc_filter *out, size_t max, size_t *n);

#endif
