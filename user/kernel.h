/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* What the running kernel offers portwitness: its features, probed (never
 * read off a version number), and each program loaded on its own, with
 * the verifier's count or its words. portwitness check prints it; the
 * loader names a refused program and what is missing through it. */
#ifndef PW_KERNEL_H
#define PW_KERNEL_H

#include <stdbool.h>
#include <stddef.h>

enum pw_feature_id {
	PW_FEAT_BTF = 0,	/* the kernel's own BTF */
	PW_FEAT_BPFFS,		/* bpffs mounted, or mountable */
	PW_FEAT_CLSACT,		/* tc BPF programs and the clsact qdisc */
	PW_FEAT_ATOMICS,	/* BPF compare-and-exchange, fetch-and-or */
	PW_FEAT_COARSE_CLOCK,	/* bpf_ktime_get_coarse_ns */
	PW_FEAT_XDP_FRAGS,	/* XDP with fragments, bpf_xdp_get_buff_len */
	PW_FEAT_CT_KFUNCS,	/* conntrack's lookup kfuncs */
	PW_FEAT_KFREE_SKB_REASON, /* skb:kfree_skb with a drop reason */
	PW_FEAT_DROP_REASONS,	/* enum skb_drop_reason in BTF */
	PW_FEAT_COUNT,
};

struct pw_feature {
	const char *name;	/* for --json */
	const char *what;	/* in the admin's words */
	const char *since;	/* the first Linux that has it */
	const char *needed_for;
	const char *detail;	/* why it is missing, when not for want of
				 * the kernel (NULL otherwise) */
	bool available;
};

/* Probes every feature of this kernel into f[PW_FEAT_COUNT]. */
void pw_kernel_features(struct pw_feature *f);
/* Probes one. */
bool pw_kernel_has(enum pw_feature_id id);
/* Probes n of them into ok[], the kernel's BTF parsed once. */
void pw_kernel_probe(const enum pw_feature_id *ids, bool *ok, size_t n);

enum pw_prog_id {
	PW_PROG_TC_INGRESS = 0,
	PW_PROG_TC_INGRESS_CT,
	PW_PROG_XDP_INGRESS,
	PW_PROG_XDP_INGRESS_CT,
	PW_PROG_TC_EGRESS,
	PW_PROG_TC_EGRESS_CT,
	PW_PROG_DROPS,
	PW_PROG_COUNT,
};

#define PW_VERIFIER_LINES 8	/* of a refusal, what is kept */

struct pw_prog_check {
	const char *name;	/* the program's, as bpftool shows it */
	const char *role;	/* what it does, for the admin */
	const char *without;	/* what is off when it is refused */
	bool loaded;
	unsigned int verified_insns; /* 0: the kernel does not say (< 5.16) */
	int err;		/* -errno when refused */
	bool privilege;		/* refused before any program was checked */
	const struct pw_feature *needs;	/* refused, and a feature it needs
					 * is missing: the first such */
	char verifier[1024];	/* the verifier's last lines, or libbpf's */
};

/* Loads program id alone (every other left out) and unloads it; feat:
 * this kernel's features (pw_kernel_features), to name what a refused
 * program lacks. */
void pw_prog_check(enum pw_prog_id id, const struct pw_feature *feat,
		   struct pw_prog_check *out);

/* From libbpf's captured warnings of a failed load (pw_log_captured):
 * the program the verifier refused, into prog, and its log's last lines,
 * at most lines of them, into tail. Without a verifier log, the program
 * libbpf names as failed (or "") and the last warnings. true when a
 * verifier log was found: the kernel checked a program, so privilege was
 * not what was missing. */
bool pw_load_refusal(const char *captured, char *prog, size_t plen,
		     char *tail, size_t tlen, int lines);

/* The kernel features missing that every program needs (and xdp mode,
 * with xdp), as "WHAT (Linux SINCE)" joined by "; ", into buf; "" when
 * none is. */
void pw_kernel_missing(bool xdp, char *buf, size_t len);

#endif
