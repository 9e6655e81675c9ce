// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* libFuzzer target for the declaration parsers: any bytes as a ufw profile,
 * a --ports argument, a snikket.conf, a turnserver.conf and LiveKit's
 * YAML. 'make fuzz' runs it under ASan and UBSan. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "decl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pw_decls d = {};
	char err[PW_ERR_MAX];
	char *arg = malloc(size + 1);

	if (!arg)
		return 0;
	/* The profile text as read from a file: not NUL-ended. */
	pw_decls_add_ufw_text(&d, (const char *)data, size, "fuzz", err, sizeof(err));
	pw_decls_add_snikket_text(&d, (const char *)data, size, "fuzz", err, sizeof(err));
	pw_decls_add_coturn_text(&d, (const char *)data, size, "fuzz", err, sizeof(err));
	pw_decls_add_livekit_text(&d, (const char *)data, size, "fuzz", err, sizeof(err));
	memcpy(arg, data, size);
	arg[size] = '\0';
	pw_decls_add_inline(&d, arg, 1, err, sizeof(err));
	free(arg);
	pw_decls_free(&d);
	return 0;
}
