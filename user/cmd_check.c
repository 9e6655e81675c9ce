// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* check: what this kernel offers each capability, each program loaded on
 * its own with the verifier's count or its words, and what will be off.
 * What an admin pastes into a bug report. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include "cli.h"
#include "json.h"
#include "kernel.h"
#include "log.h"

static void usage(FILE *f)
{
	fprintf(f,
"usage: portwitness check [--json] [-v]\n"
"\n"
"Probes what this kernel offers portwitness (BTF, clsact, XDP fragments,\n"
"conntrack's kfuncs, kfree_skb with drop reasons, bpffs, BPF atomics),\n"
"loads each program on its own and says how many instructions the\n"
"verifier walked, or why it refused it, and what will be off. Needs root.\n"
"Exit: 0 everything works, 1 something is off, 3 not root.\n");
}

struct check {
	struct pw_feature feat[PW_FEAT_COUNT];
	struct pw_prog_check prog[PW_PROG_COUNT];
	struct utsname uts;
	int refused;		/* programs the verifier refused */
	int lacking;		/* refused for a feature the kernel lacks */
	int unprivileged;	/* refused for want of privilege */
	int missing;		/* features missing */
};

static void print_indented(const char *s)
{
	const char *nl;

	while (*s) {
		nl = strchrnul(s, '\n');
		printf("      %.*s\n", (int)(nl - s), s);
		s = *nl ? nl + 1 : nl;
	}
}

static void print_text(const struct check *c)
{
	const struct pw_prog_check *p;
	int i;

	printf("kernel %s %s\n\nfeatures:\n", c->uts.release, c->uts.version);
	for (i = 0; i < PW_FEAT_COUNT; i++)
		printf("  %-4s %-18s %s (Linux %s; for %s)%s%s\n",
		       c->feat[i].available ? "yes" : "NO", c->feat[i].name,
		       c->feat[i].what, c->feat[i].since, c->feat[i].needed_for,
		       c->feat[i].detail ? ": " : "",
		       c->feat[i].detail ? c->feat[i].detail : "");
	printf("\nprograms, each loaded on its own:\n");
	for (i = 0; i < PW_PROG_COUNT; i++) {
		p = &c->prog[i];
		if (p->loaded && p->verified_insns)
			printf("  %-15s loaded, %u instructions verified  (%s)\n",
			       p->name, p->verified_insns, p->role);
		else if (p->loaded)
			printf("  %-15s loaded (this kernel does not count verified instructions)  (%s)\n",
			       p->name, p->role);
		else if (p->needs && p->needs->detail)
			printf("  %-15s not loaded: %s %s\n", p->name, p->needs->what,
			       p->needs->detail);
		else if (p->needs)
			printf("  %-15s not loaded: this kernel lacks %s (Linux %s)\n",
			       p->name, p->needs->what, p->needs->since);
		else
			printf("  %-15s %s: %s\n", p->name,
			       p->privilege ? "not loaded (no privilege)" : "REFUSED by the verifier",
			       strerror(-p->err));
		if (!p->loaded && p->verifier[0] &&
		    (!p->needs || pw_log_get_level() >= PW_LOG_DEBUG))
			print_indented(p->verifier);
	}
	if (!c->refused && !c->lacking && !c->missing) {
		printf("\neverything works\n");
		return;
	}
	printf("\noff on this kernel:\n");
	for (i = 0; i < PW_PROG_COUNT; i++)
		if (!c->prog[i].loaded)
			printf("  %s (%s not loaded)\n", c->prog[i].without, c->prog[i].name);
	for (i = 0; i < PW_FEAT_COUNT; i++)
		if (!c->feat[i].available)
			printf("  %s: needs %s, Linux %s\n", c->feat[i].needed_for,
			       c->feat[i].what, c->feat[i].since);
}

static void print_json(const struct check *c)
{
	const struct pw_prog_check *p;
	struct pw_json j;
	int i;

	pw_json_init(&j, stdout);
	pw_json_object(&j, NULL);
	pw_json_str(&j, "kernel", c->uts.release);
	pw_json_str(&j, "kernel_version", c->uts.version);
	pw_json_array(&j, "features");
	for (i = 0; i < PW_FEAT_COUNT; i++) {
		pw_json_object(&j, NULL);
		pw_json_str(&j, "name", c->feat[i].name);
		pw_json_bool(&j, "available", c->feat[i].available);
		pw_json_str(&j, "what", c->feat[i].what);
		pw_json_str(&j, "since", c->feat[i].since);
		pw_json_str(&j, "needed_for", c->feat[i].needed_for);
		if (c->feat[i].detail)
			pw_json_str(&j, "detail", c->feat[i].detail);
		else
			pw_json_null(&j, "detail");
		pw_json_end(&j, '}');
	}
	pw_json_end(&j, ']');
	pw_json_array(&j, "programs");
	for (i = 0; i < PW_PROG_COUNT; i++) {
		p = &c->prog[i];
		pw_json_object(&j, NULL);
		pw_json_str(&j, "name", p->name);
		pw_json_str(&j, "role", p->role);
		pw_json_bool(&j, "loaded", p->loaded);
		if (p->loaded && p->verified_insns)
			pw_json_u64(&j, "verified_insns", p->verified_insns);
		else
			pw_json_null(&j, "verified_insns");
		if (p->loaded) {
			pw_json_null(&j, "error");
		} else {
			pw_json_str(&j, "error", strerror(-p->err));
			pw_json_bool(&j, "privilege", p->privilege);
			pw_json_str(&j, "verifier", p->verifier);
			pw_json_str(&j, "without", p->without);
			if (p->needs)
				pw_json_str(&j, "needs", p->needs->name);
			else
				pw_json_null(&j, "needs");
		}
		pw_json_end(&j, '}');
	}
	pw_json_end(&j, ']');
	pw_json_bool(&j, "ok", !c->refused && !c->lacking && !c->missing);
	pw_json_end(&j, '}');
	pw_json_finish(&j);
}

int cmd_check(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static struct check c;
	bool json = false;
	int opt, i;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "vh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'j':
			json = true;
			break;
		case 'v':
			pw_log_set_level(pw_log_get_level() + 1);
			break;
		case 'h':
			usage(stdout);
			return PW_EXIT_OK;
		default:
			usage(stderr);
			return PW_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		pw_cli_usage_error("check", "unexpected '%s'", argv[optind]);
		return PW_EXIT_USAGE;
	}
	memset(&c, 0, sizeof(c));
	uname(&c.uts);
	pw_log_libbpf();
	pw_kernel_features(c.feat);
	for (i = 0; i < PW_FEAT_COUNT; i++)
		c.missing += !c.feat[i].available;
	for (i = 0; i < PW_PROG_COUNT; i++) {
		pw_prog_check(i, c.feat, &c.prog[i]);
		c.refused += !c.prog[i].loaded && !c.prog[i].privilege &&
			     !c.prog[i].needs;
		c.lacking += !c.prog[i].loaded && c.prog[i].needs;
		c.unprivileged += c.prog[i].privilege;
	}
	pw_log_capture_free();
	if (c.unprivileged) {
		pw_err("permission denied: check loads programs, and needs root (or CAP_BPF, CAP_PERFMON and CAP_NET_ADMIN)\n");
		return PW_EXIT_RUNTIME;
	}
	if (json)
		print_json(&c);
	else
		print_text(&c);
	return c.refused || c.lacking || c.missing ? PW_EXIT_SILENT : PW_EXIT_OK;
}
