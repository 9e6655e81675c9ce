// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Kernel features by probe: a tiny program loaded with the instruction or
 * flag in question, a helper asked of libbpf, a type looked up in the
 * kernel's BTF. Never a version number: distributions backport, and a
 * feature's first kernel is only said to the admin. */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/statfs.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <linux/if_link.h>
#include "kernel.h"
#include "log.h"
#include "pw_ports.h"
#include "portwitness.skel.h"
#include "portwitness_ct.skel.h"

#define PW_BPF_FS_MAGIC 0xcafe4a11

static const struct pw_feature features[PW_FEAT_COUNT] = {
	[PW_FEAT_BTF] = { "btf", "the kernel's BTF (/sys/kernel/btf/vmlinux)", "5.2",
			  "the drop tracer, conntrack, CO-RE" },
	[PW_FEAT_BPFFS] = { "bpffs", "the BPF filesystem", "4.4",
			    "watch's pinned counters" },
	[PW_FEAT_CLSACT] = { "clsact", "tc BPF programs and the clsact qdisc", "4.5",
			     "counting in tc mode, replies" },
	[PW_FEAT_ATOMICS] = { "bpf_atomics", "BPF atomic compare-and-exchange", "5.12",
			      "every program (the flow set's ways)" },
	[PW_FEAT_COARSE_CLOCK] = { "coarse_clock", "bpf_ktime_get_coarse_ns", "5.11",
				   "conntrack's window for UDP" },
	[PW_FEAT_XDP_FRAGS] = { "xdp_frags", "XDP with fragments (xdp.frags, bpf_xdp_get_buff_len)", "5.18",
				"xdp mode" },
	[PW_FEAT_CT_KFUNCS] = { "conntrack_kfuncs", "conntrack's lookup kfuncs (bpf_skb_ct_lookup, bpf_xdp_ct_lookup)", "5.18",
				"flows under way at the start seen as this host's" },
	[PW_FEAT_KFREE_SKB_REASON] = { "kfree_skb_reason", "skb:kfree_skb with a drop reason", "5.17",
				       "drop attribution (firewall, no listener, other)" },
	[PW_FEAT_DROP_REASONS] = { "drop_reason_enum", "enum skb_drop_reason in BTF", "5.17",
				   "naming drop reasons" },
};

/* A program of type with insns, and prog_flags: does this kernel take
 * it? */
static bool loads(enum bpf_prog_type type, const struct bpf_insn *insns,
		  size_t n, __u32 prog_flags)
{
	LIBBPF_OPTS(bpf_prog_load_opts, opts, .prog_flags = prog_flags);
	int fd = bpf_prog_load(type, NULL, "GPL", insns, n, &opts);

	if (fd < 0)
		return false;
	close(fd);
	return true;
}

static bool has_atomics(void)
{
	/* r1 = 0; *(u64 *)(r10 - 8) = r1; r0 = 0;
	 * r0 = cmpxchg(r10 - 8, r0, r1); r0 = 0; exit */
	const struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 1 },
		{ .code = BPF_STX | BPF_MEM | BPF_DW, .dst_reg = 10, .src_reg = 1, .off = -8 },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 0 },
		{ .code = BPF_STX | BPF_ATOMIC | BPF_DW, .dst_reg = 10, .src_reg = 1,
		  .off = -8, .imm = BPF_CMPXCHG },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};

	return loads(BPF_PROG_TYPE_SOCKET_FILTER, insns, 6, 0);
}

static bool has_xdp_frags(void)
{
	const struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 0, .imm = XDP_PASS },
		{ .code = BPF_JMP | BPF_EXIT },
	};

	return loads(BPF_PROG_TYPE_XDP, insns, 2, BPF_F_XDP_HAS_FRAGS) &&
	       libbpf_probe_bpf_helper(BPF_PROG_TYPE_XDP, BPF_FUNC_xdp_get_buff_len, NULL) == 1;
}

static bool has_bpffs(void)
{
	struct statfs st;
	char line[256];
	bool found = false;
	FILE *f;

	if (statfs("/sys/fs/bpf", &st) == 0 && (unsigned long)st.f_type == PW_BPF_FS_MAGIC)
		return true;
	f = fopen("/proc/filesystems", "r");
	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f))
		found = !strcmp(line, "nodev\tbpf\n");
	fclose(f);
	return found;
}

/* The clsact qdisc, tried for real: on the loopback of a network
 * namespace of a child's own, which goes with it. Missing only when that
 * says so. */
static bool has_clsact(void)
{
	int status;
	pid_t pid;

	pid = fork();
	if (pid < 0)
		return true;	/* not known: not said to be missing */
	if (pid == 0) {
		DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = 1,
				    .attach_point = BPF_TC_INGRESS);

		/* A namespace takes CAP_SYS_ADMIN, which the unit leaves
		 * out: then nothing is known, and 2 says so. */
		if (unshare(CLONE_NEWNET))
			_exit(2);
		_exit(bpf_tc_hook_create(&hook) ? 1 : 0);
	}
	if (waitpid(pid, &status, 0) != pid)
		return true;
	return !WIFEXITED(status) || WEXITSTATUS(status) != 1;
}

/* skb:kfree_skb's BTF prototype has a reason after skb and location (its
 * first parameter is the context). */
static bool has_kfree_skb_reason(const struct btf *btf)
{
	const struct btf_type *t;
	int id;

	id = btf__find_by_name_kind(btf, "btf_trace_kfree_skb", BTF_KIND_TYPEDEF);
	if (id <= 0)
		return false;
	t = btf__type_by_id(btf, btf__resolve_type(btf, id));
	if (!t || !btf_is_ptr(t))
		return false;
	t = btf__type_by_id(btf, t->type);
	return t && btf_is_func_proto(t) && btf_vlen(t) >= 4;
}

static bool has_ct_kfuncs(const struct btf *btf)
{
	__u32 id = 0;

	if (btf && btf__find_by_name_kind(btf, "bpf_skb_ct_lookup", BTF_KIND_FUNC) > 0 &&
	    btf__find_by_name_kind(btf, "bpf_xdp_ct_lookup", BTF_KIND_FUNC) > 0)
		return true;
	/* Else in nf_conntrack's own BTF, where it is a module (loaded), as
	 * on Debian. libbpf reaches a module's BTF only by its id, which
	 * takes CAP_SYS_ADMIN: without it (portwitness@.service keeps only
	 * CAP_BPF, CAP_NET_ADMIN, CAP_PERFMON) the kfuncs are out of reach. */
	if (access("/sys/kernel/btf/nf_conntrack", R_OK))
		return false;
	return bpf_btf_get_next_id(0, &id) == 0 || errno != EPERM;
}

static bool probe(enum pw_feature_id id, const struct btf *btf)
{
	switch (id) {
	case PW_FEAT_BTF:
		return btf != NULL;
	case PW_FEAT_BPFFS:
		return has_bpffs();
	case PW_FEAT_CLSACT:
		return libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_SCHED_CLS, NULL) == 1 &&
		       has_clsact();
	case PW_FEAT_ATOMICS:
		return has_atomics();
	case PW_FEAT_COARSE_CLOCK:
		return libbpf_probe_bpf_helper(BPF_PROG_TYPE_SCHED_CLS,
					       BPF_FUNC_ktime_get_coarse_ns, NULL) == 1;
	case PW_FEAT_XDP_FRAGS:
		return has_xdp_frags();
	case PW_FEAT_CT_KFUNCS:
		return has_ct_kfuncs(btf);
	case PW_FEAT_KFREE_SKB_REASON:
		return btf && has_kfree_skb_reason(btf);
	case PW_FEAT_DROP_REASONS:
		return btf && btf__find_by_name_kind(btf, "skb_drop_reason", BTF_KIND_ENUM) > 0;
	default:
		return false;
	}
}

/* The kernel's BTF, or NULL (never a fallback to a vmlinux file). */
static struct btf *vmlinux_btf(void)
{
	if (access("/sys/kernel/btf/vmlinux", R_OK))
		return NULL;
	return btf__load_vmlinux_btf();
}

/* The probes that look in the kernel's BTF (over 10 MiB parsed). */
static bool reads_btf(enum pw_feature_id id)
{
	return id == PW_FEAT_BTF || id == PW_FEAT_CT_KFUNCS ||
	       id == PW_FEAT_KFREE_SKB_REASON || id == PW_FEAT_DROP_REASONS;
}

void pw_kernel_features(struct pw_feature *f)
{
	struct btf *btf = vmlinux_btf();
	int i;

	for (i = 0; i < PW_FEAT_COUNT; i++) {
		f[i] = features[i];
		f[i].available = probe(i, btf);
		if (i == PW_FEAT_CT_KFUNCS && !f[i].available &&
		    access("/sys/kernel/btf/nf_conntrack", R_OK) == 0)
			f[i].detail = "in nf_conntrack's BTF, out of reach without CAP_SYS_ADMIN";
	}
	btf__free(btf);
}

void pw_kernel_probe(const enum pw_feature_id *ids, bool *ok, size_t n)
{
	struct btf *btf = NULL;
	bool need_btf = false;
	size_t i;

	for (i = 0; i < n; i++)
		need_btf |= reads_btf(ids[i]);
	if (need_btf)
		btf = vmlinux_btf();	/* parsed once for all of them */
	for (i = 0; i < n; i++)
		ok[i] = probe(ids[i], btf);
	btf__free(btf);
}

bool pw_kernel_has(enum pw_feature_id id)
{
	bool ok;

	pw_kernel_probe(&id, &ok, 1);
	return ok;
}

void pw_kernel_missing(bool xdp, char *buf, size_t len)
{
	static const enum pw_feature_id need[] = {
		PW_FEAT_ATOMICS, PW_FEAT_CLSACT, PW_FEAT_XDP_FRAGS,
	};
	size_t i, used = 0;

	buf[0] = '\0';
	for (i = 0; i < sizeof(need) / sizeof(need[0]) && used < len; i++) {
		if ((need[i] == PW_FEAT_XDP_FRAGS && !xdp) || pw_kernel_has(need[i]))
			continue;
		used += snprintf(buf + used, len - used, "%s%s (Linux %s)",
				 used ? "; " : "", features[need[i]].what,
				 features[need[i]].since);
	}
}

#define NEED(f) (1u << (f))
#define NEED_ALL (NEED(PW_FEAT_ATOMICS) | NEED(PW_FEAT_BTF))
#define NEED_CT (NEED(PW_FEAT_CT_KFUNCS) | NEED(PW_FEAT_COARSE_CLOCK))

/* The programs, as portwitness.bpf.c names them, and the features each
 * needs (NEED bits), first the ones that all need. */
static const struct {
	const char *name, *role, *without;
	unsigned int needs;
} progs[PW_PROG_COUNT] = {
	[PW_PROG_TC_INGRESS] = { "pw_tc_ingress", "counts inbound packets at tc ingress",
				 "tc mode: nothing is counted",
			NEED_ALL | NEED(PW_FEAT_CLSACT) },
	[PW_PROG_TC_INGRESS_CT] = { "pw_tc_ingr_ct", "tc ingress, asking conntrack",
				    "conntrack in tc mode (pw_tc_ingress instead)",
			NEED_ALL | NEED(PW_FEAT_CLSACT) | NEED_CT },
	[PW_PROG_XDP_INGRESS] = { "pw_xdp_ingress", "counts inbound packets at XDP",
				  "xdp mode (tc mode still counts)",
			NEED_ALL | NEED(PW_FEAT_XDP_FRAGS) },
	[PW_PROG_XDP_INGRESS_CT] = { "pw_xdp_ingr_ct", "XDP, asking conntrack",
				     "conntrack in xdp mode (pw_xdp_ingress instead)",
			NEED_ALL | NEED(PW_FEAT_XDP_FRAGS) | NEED_CT },
	[PW_PROG_TC_EGRESS] = { "pw_tc_egress", "records the flows this host begins (replies)",
				"everything: verify and watch need it",
			NEED_ALL | NEED(PW_FEAT_CLSACT) },
	[PW_PROG_TC_EGRESS_CT] = { "pw_tc_egr_ct", "tc egress, asking conntrack",
				   "conntrack (pw_tc_egress instead)",
			NEED_ALL | NEED(PW_FEAT_CLSACT) | NEED_CT },
	[PW_PROG_DROPS] = { "pw_kfree_skb", "attributes drops (firewall, no listener, other)",
			    "drop attribution: statuses are only silent or reached",
			NEED_ALL | NEED(PW_FEAT_KFREE_SKB_REASON) | NEED(PW_FEAT_DROP_REASONS) },
};

/* The last n lines of [s, end) into out. */
static void last_lines(const char *s, const char *end, int n, char *out, size_t len)
{
	const char *p = end;

	while (p > s && (p[-1] == '\n' || p[-1] == ' '))
		p--;
	end = p;
	while (p > s && n > 0) {
		p--;
		if (*p == '\n' && --n == 0) {
			p++;
			break;
		}
	}
	snprintf(out, len, "%.*s", (int)(end - p), p);
}

bool pw_load_refusal(const char *captured, char *prog, size_t plen,
		     char *tail, size_t tlen, int lines)
{
	static const char begin[] = "': -- BEGIN PROG LOAD LOG --\n";
	static const char end_mark[] = "-- END PROG LOAD LOG --";
	static const char failed[] = "': failed to load";
	const char *b = NULL, *p, *e, *name;

	prog[0] = tail[0] = '\0';
	for (p = captured; (p = strstr(p, begin)); p++)
		b = p;
	if (b) {
		/* The name between "prog '" and the mark, on b's line. */
		for (name = b; name > captured && name[-1] != '\'' && name[-1] != '\n'; name--)
			;
		if (name > captured && name[-1] == '\'')
			snprintf(prog, plen, "%.*s", (int)(b - name), name);
		b += sizeof(begin) - 1;
		e = strstr(b, end_mark);
		last_lines(b, e ? e : b + strlen(b), lines, tail, tlen);
		return true;
	}
	p = strstr(captured, failed);
	if (p) {
		for (name = p; name > captured && name[-1] != '\''; name--)
			;
		if (name > captured)
			snprintf(prog, plen, "%.*s", (int)(p - name), name);
	}
	last_lines(captured, captured + strlen(captured), lines, tail, tlen);
	return false;
}

void pw_prog_check(enum pw_prog_id id, const struct pw_feature *feat,
		   struct pw_prog_check *out)
{
	struct bpf_prog_info info;
	struct portwitness *skel = NULL;
	struct portwitness_ct *skel_ct = NULL;
	struct bpf_program *prog, *want = NULL;
	struct bpf_object *obj;
	__u32 info_len = sizeof(info);
	char name[64];
	bool verified;
	int err, i;

	memset(out, 0, sizeof(*out));
	out->name = progs[id].name;
	out->role = progs[id].role;
	out->without = progs[id].without;
	/* The _ct programs are an object of their own, with its own maps. */
	if (progs[id].needs & NEED(PW_FEAT_CT_KFUNCS))
		obj = (skel_ct = portwitness_ct__open()) ? skel_ct->obj : NULL;
	else
		obj = (skel = portwitness__open()) ? skel->obj : NULL;
	if (!obj) {
		out->err = -errno;
		snprintf(out->verifier, sizeof(out->verifier), "cannot open the BPF object");
		return;
	}
	bpf_object__for_each_program(prog, obj) {
		bool it = !strcmp(bpf_program__name(prog), out->name);

		bpf_program__set_autoload(prog, it);
		if (it)
			want = prog;
	}
	pw_log_capture(true);
	err = !want ? -ENOENT : skel ? portwitness__load(skel) : portwitness_ct__load(skel_ct);
	pw_log_capture(false);
	if (!err) {
		out->loaded = true;
		memset(&info, 0, sizeof(info));
		if (!bpf_obj_get_info_by_fd(bpf_program__fd(want), &info, &info_len))
			out->verified_insns = info.verified_insns;
	} else {
		out->err = err;
		verified = pw_load_refusal(pw_log_captured(), name, sizeof(name),
					   out->verifier, sizeof(out->verifier),
					   PW_VERIFIER_LINES);
		out->privilege = !verified && err == -EPERM;
		for (i = 0; i < PW_FEAT_COUNT && !out->privilege; i++)
			if ((progs[id].needs & NEED(i)) && !feat[i].available) {
				out->needs = &feat[i];
				break;
			}
	}
	portwitness__destroy(skel);
	portwitness_ct__destroy(skel_ct);
}
