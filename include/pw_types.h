/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Fixed-width types for the headers shared by BPF and userspace: BPF gets
 * them from vmlinux.h, userspace from the kernel UAPI. */
#ifndef PW_TYPES_H
#define PW_TYPES_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#endif
