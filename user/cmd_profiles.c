// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* profiles: the built-in declarations, as a list or as a ufw application
 * profile an admin can drop into /etc/ufw/applications.d/. */
#include <stdio.h>
#include <string.h>
#include "cli.h"
#include "decl.h"

static void usage(FILE *f)
{
	fprintf(f,
"usage: portwitness profiles [NAME]\n"
"\n"
"Without NAME, lists the built-in profiles. With NAME, prints that profile\n"
"in ufw's application-profile syntax (optional ports as a comment).\n");
}

int cmd_profiles(int argc, char **argv)
{
	const struct pw_profile *p;
	size_t n, i;

	if (argc > 1 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		usage(stdout);
		return PW_EXIT_OK;
	}
	if (argc > 2 || (argc == 2 && argv[1][0] == '-')) {
		usage(stderr);
		return PW_EXIT_USAGE;
	}
	if (argc == 1) {
		p = pw_profiles(&n);
		for (i = 0; i < n; i++)
			printf("%-10s  %s\n            required: %s\n%s%s%s",
			       p[i].name, p[i].title, p[i].required,
			       p[i].optional ? "            optional: " : "",
			       p[i].optional ? p[i].optional : "",
			       p[i].optional ? "\n" : "");
		return PW_EXIT_OK;
	}
	p = pw_profile_find(argv[1]);
	if (!p) {
		fprintf(stderr, "portwitness profiles: no profile '%s' ('portwitness profiles' lists them)\n",
			argv[1]);
		return PW_EXIT_USAGE;
	}
	printf("# portwitness built-in profile; from: %s\n", p->source);
	if (p->optional)
		printf("# optional, never fails verify: %s\n", p->optional);
	printf("[%s]\ntitle=%s\ndescription=%s\nports=%s\n", p->name, p->title,
	       p->title, p->required);
	return PW_EXIT_OK;
}
