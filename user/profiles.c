// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Built-in profiles, copied from the services' own firewall documents and
 * written in ufw's ports= syntax so they go through the same parser. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "decl.h"

static const struct pw_profile profiles[] = {
	{
		.name = "plugnmeet",
		.title = "plugNmeet with LiveKit",
		.required = "80/tcp|443/tcp|7881/tcp|50000:60000/udp",
		.optional = "443/udp",
		.source = "plugNmeet docs, Ports & firewall",
	},
	{
		.name = "snikket",
		.title = "Snikket (Prosody and coturn)",
		.required = "80/tcp|443/tcp|5222/tcp|5269/tcp|5000/tcp|"
			    "3478:3479|5349:5350|49152:65535/udp",
		.optional = NULL,
		.source = "Snikket docs, Firewall",
	},
	{
		.name = "jitsi",
		.title = "Jitsi Meet (web, videobridge, TURN)",
		.required = "80/tcp|443/tcp|10000/udp",
		.optional = "3478/udp|5349/tcp",
		.source = "Jitsi Meet handbook, self-hosting guide: firewall",
	},
};

const struct pw_profile *pw_profiles(size_t *count)
{
	*count = sizeof(profiles) / sizeof(profiles[0]);
	return profiles;
}

const struct pw_profile *pw_profile_find(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(profiles) / sizeof(profiles[0]); i++)
		if (!strcmp(profiles[i].name, name))
			return &profiles[i];
	return NULL;
}

int pw_decls_add_profile(struct pw_decls *d, const char *name, char *err,
			 size_t errlen)
{
	const struct pw_profile *p = pw_profile_find(name);
	char where[PW_SERVICE_MAX + 16];
	int r;

	if (!p) {
		char known[128] = "";
		size_t i, n = sizeof(profiles) / sizeof(profiles[0]);

		for (i = 0; i < n; i++)
			snprintf(known + strlen(known), sizeof(known) - strlen(known),
				 "%s%s", i ? ", " : "", profiles[i].name);
		snprintf(err, errlen, "-p %.40s: no such profile (built in: %s)",
			 name, known);
		return -EINVAL;
	}
	snprintf(where, sizeof(where), "profile %s", p->name);
	r = pw_decls_add_spec(d, p->name, p->required, true, where, err, errlen);
	if (!r && p->optional)
		r = pw_decls_add_spec(d, p->name, p->optional, false, where,
				      err, errlen);
	return r;
}
