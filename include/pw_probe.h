/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* What 'portwitness probe' sends in each UDP datagram, so that the
 * server side can tell its packets from every other client's. */
#ifndef PW_PROBE_H
#define PW_PROBE_H

#include "pw_types.h"

#define PW_PROBE_MAGIC "PWPROBE1"	/* 8 bytes, no NUL sent */
#define PW_PROBE_TOKEN_MAX 16		/* token bytes, NUL-padded */

struct pw_probe_payload {
	__u8 magic[8];
	__u8 token[PW_PROBE_TOKEN_MAX];
};

#endif
