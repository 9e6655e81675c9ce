// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* portwitness: which forwarded ports really get traffic, seen from the
 * server, without stopping a service or binding a port. */
#include <stdio.h>
#include <string.h>
#include "cli.h"
#include "log.h"

struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
};

static const struct command commands[] = {
	{ "verify", cmd_verify, "count for a while; exit 0 if every required range got traffic" },
	{ "watch", cmd_watch, "count until stopped, keeping pinned counters" },
	{ "show", cmd_show, "print the pinned counters and the memory they use" },
	{ "detach", cmd_detach, "take portwitness off an interface, drop its counters" },
	{ "probe", cmd_probe, "from outside: send to the declared ports of a server" },
	{ "profiles", cmd_profiles, "list the built-in profiles, or print one" },
	{ "check", cmd_check, "what this kernel offers, each program loaded on its own" },
};

static void usage(FILE *f)
{
	size_t i;

	fprintf(f,
"usage: portwitness [-v] COMMAND [OPTIONS]\n"
"       portwitness --version | --help\n"
"\n"
"Watches inbound packets per port with eBPF, beside the running services,\n"
"and tells which declared port ranges really receive traffic from outside.\n"
"\n"
"COMMANDS (any unique prefix works):\n");
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-9s %s\n", commands[i].name, commands[i].summary);
	fprintf(f,
"\n'portwitness COMMAND --help' tells more. Exit codes: 0 ok, 1 a required\n"
"range silent, 2 usage or declaration error, 3 runtime error.\n"
"\n"
"EXAMPLES:\n"
"  portwitness verify -i eth0 -p snikket --duration 60\n"
"  portwitness watch -i eth0 -p plugnmeet\n"
"  portwitness profiles snikket > /etc/ufw/applications.d/snikket\n");
}

static const struct command *find_command(const char *name)
{
	const struct command *found = NULL;
	size_t i, len = strlen(name);

	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (!strcmp(commands[i].name, name))
			return &commands[i];
		if (len && !strncmp(commands[i].name, name, len)) {
			if (found)
				return NULL;	/* ambiguous */
			found = &commands[i];
		}
	}
	return found;
}

int main(int argc, char **argv)
{
	const struct command *cmd;
	int i = 1;

	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			return PW_EXIT_OK;
		} else if (!strcmp(argv[i], "-V") || !strcmp(argv[i], "--version")) {
			printf("portwitness %s\n", PW_VERSION);
			return PW_EXIT_OK;
		} else if (!strcmp(argv[i], "-v") || !strcmp(argv[i], "--verbose")) {
			pw_log_set_level(pw_log_get_level() + 1);
		} else {
			fprintf(stderr, "portwitness: unknown option '%s'\n", argv[i]);
			usage(stderr);
			return PW_EXIT_USAGE;
		}
	}
	if (i >= argc) {
		usage(stderr);
		return PW_EXIT_USAGE;
	}
	cmd = find_command(argv[i]);
	if (!cmd) {
		fprintf(stderr, "portwitness: unknown or ambiguous command '%s'\n",
			argv[i]);
		usage(stderr);
		return PW_EXIT_USAGE;
	}
	return cmd->run(argc - i, argv + i);
}
