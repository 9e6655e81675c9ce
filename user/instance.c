// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Load, pin, attach and detach. TC: clsact ingress + egress at a priority
 * the kernel picks ahead of existing filters, handing every packet on.
 * XDP: native mode, never over someone else's program. What was attached
 * is recorded in the pinned pw_instance map. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/if_link.h>
#include <linux/magic.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "drops.h"
#include "instance.h"
#include "kernel.h"
#include "tc_filters.h"
#include "log.h"
#include "pw_flows.h"
#include "pw_stats.h"
#include "portwitness.skel.h"
#include "portwitness_ct.skel.h"

static const char *const map_names[PW_MAP_COUNT] = {
	[PW_MAP_DECL] = "pw_decl",
	[PW_MAP_COUNTS] = "pw_counts",
	[PW_MAP_OTHER] = "pw_other",
	[PW_MAP_SEEN] = "pw_seen",
	[PW_MAP_FLOWS] = "pw_flows",
	[PW_MAP_STATS] = "pw_stats",
	[PW_MAP_INSTANCE] = "pw_instance",
	[PW_MAP_HIST] = "pw_hist",
	[PW_MAP_DROPS] = "pw_drops",
	[PW_MAP_DROP_REASONS] = "pw_drop_reasons",
	[PW_MAP_PROBE_PORTS] = "pw_probe_ports",
	[PW_MAP_PROBE_SYNS] = "pw_probe_syns",
	[PW_MAP_PROBE_HOSTS] = "pw_probe_hosts",
	[PW_MAP_PROBE_REASONS] = "pw_probe_reasons",
};

/* What a pinned map must look like to be ours and of this layout. */
static const struct bpf_map_info map_shapes[PW_MAP_COUNT] = {
	[PW_MAP_DECL] = { .type = BPF_MAP_TYPE_ARRAY, .key_size = 4,
			  .value_size = sizeof(struct pw_decl_table),
			  .max_entries = 1, .map_flags = BPF_F_MMAPABLE },
	[PW_MAP_COUNTS] = { .type = BPF_MAP_TYPE_PERCPU_ARRAY, .key_size = 4,
			    .value_size = sizeof(struct pw_port_count),
			    .max_entries = PW_DECLARED_MAX },
	[PW_MAP_OTHER] = { .type = BPF_MAP_TYPE_PERCPU_ARRAY, .key_size = 4,
			   .value_size = sizeof(struct pw_other_count),
			   .max_entries = PW_OTHER_ENTRIES },
	[PW_MAP_SEEN] = { .type = BPF_MAP_TYPE_ARRAY, .key_size = 4,
			  .value_size = sizeof(struct pw_seen_set),
			  .max_entries = PW_SEEN_SETS, .map_flags = BPF_F_MMAPABLE },
	[PW_MAP_FLOWS] = { .type = BPF_MAP_TYPE_LRU_HASH,
			   .key_size = sizeof(struct pw_flow_key),
			   .value_size = sizeof(struct pw_flow),
			   .max_entries = PW_FLOW_ENTRIES },
	[PW_MAP_STATS] = { .type = BPF_MAP_TYPE_PERCPU_ARRAY, .key_size = 4,
			   .value_size = sizeof(__u64),
			   .max_entries = PW_STAT_COUNT },
	[PW_MAP_INSTANCE] = { .type = BPF_MAP_TYPE_ARRAY, .key_size = 4,
			      .value_size = sizeof(struct pw_instance),
			      .max_entries = 1 },
	[PW_MAP_HIST] = { .type = BPF_MAP_TYPE_ARRAY, .key_size = 4,
			  .value_size = sizeof(struct pw_hist_table),
			  .max_entries = 1, .map_flags = BPF_F_MMAPABLE },
	[PW_MAP_DROPS] = { .type = BPF_MAP_TYPE_ARRAY, .key_size = 4,
			   .value_size = sizeof(struct pw_port_drops),
			   .max_entries = PW_DECLARED_MAX,
			   .map_flags = BPF_F_MMAPABLE },
	[PW_MAP_DROP_REASONS] = { .type = BPF_MAP_TYPE_HASH,
				  .key_size = sizeof(struct pw_drop_reason_key),
				  .value_size = sizeof(__u64),
				  .max_entries = PW_DROP_REASON_ENTRIES },
	[PW_MAP_PROBE_PORTS] = { .type = BPF_MAP_TYPE_ARRAY, .key_size = 4,
				 .value_size = sizeof(struct pw_probe_count),
				 .max_entries = PW_DECLARED_MAX,
				 .map_flags = BPF_F_MMAPABLE },
	[PW_MAP_PROBE_SYNS] = { .type = BPF_MAP_TYPE_LRU_HASH,
				.key_size = sizeof(struct pw_probe_syn_key),
				.value_size = sizeof(struct pw_probe_syn),
				.max_entries = PW_PROBE_SYN_ENTRIES },
	[PW_MAP_PROBE_HOSTS] = { .type = BPF_MAP_TYPE_HASH,
				 .key_size = sizeof(struct pw_probe_host_key),
				 .value_size = sizeof(__u64),
				 .max_entries = PW_PROBE_HOSTS },
	[PW_MAP_PROBE_REASONS] = { .type = BPF_MAP_TYPE_HASH,
				   .key_size = sizeof(struct pw_drop_reason_key),
				   .value_size = sizeof(__u64),
				   .max_entries = PW_PROBE_REASON_ENTRIES },
};

/* The programs by role; each comes plain and asking conntrack. */
enum prog_role { ROLE_TC_INGRESS, ROLE_XDP_INGRESS, ROLE_TC_EGRESS, ROLE_COUNT };

static enum prog_role ingress_role(enum pw_mode mode)
{
	return mode == PW_MODE_XDP ? ROLE_XDP_INGRESS : ROLE_TC_INGRESS;
}

/* A role's program: the plain one, or with ct the _ct one, of its own
 * object. */
static struct bpf_program *prog_of(const struct pw_session *s, enum prog_role r,
				   bool ct)
{
	if (ct) {
		struct bpf_program *with_ct[ROLE_COUNT] = {
			s->skel_ct->progs.pw_tc_ingr_ct, s->skel_ct->progs.pw_xdp_ingr_ct,
			s->skel_ct->progs.pw_tc_egr_ct,
		};

		return with_ct[r];
	} else {
		struct bpf_program *plain[ROLE_COUNT] = {
			s->skel->progs.pw_tc_ingress, s->skel->progs.pw_xdp_ingress,
			s->skel->progs.pw_tc_egress,
		};

		return plain[r];
	}
}

const char *pw_map_name(enum pw_map_id id)
{
	return map_names[id];
}

const char *pw_mode_name(enum pw_mode mode)
{
	return mode == PW_MODE_XDP ? "xdp" : mode == PW_MODE_TC ? "tc" : "none";
}

void pw_session_init(struct pw_session *s, const struct pw_iface *iface)
{
	struct pw_iface copy = *iface;	/* iface may be s->iface */
	int i;

	memset(s, 0, sizeof(*s));
	s->iface = copy;
	for (i = 0; i < PW_MAP_COUNT; i++)
		s->map_fd[i] = -1;
	snprintf(s->pin_dir, sizeof(s->pin_dir), "%s/%s", PW_PIN_ROOT,
		 iface->name);
}

int pw_bpffs_ensure(void)
{
	struct statfs st;

	if (statfs(PW_BPFFS, &st) == 0 && st.f_type == BPF_FS_MAGIC)
		return 0;
	if (mount("bpf", PW_BPFFS, "bpf", 0, "mode=0700") < 0) {
		int err = -errno;

		pw_err("bpffs is not mounted at %s and mounting it failed: %s\n",
		       PW_BPFFS, strerror(errno));
		return err;
	}
	pw_debug("mounted bpffs at %s; pins there last as long as this mount namespace\n",
		 PW_BPFFS);
	return 1;
}

static void pin_path(const struct pw_session *s, enum pw_map_id id,
		     char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s", s->pin_dir, map_names[id]);
}

static int check_shape(int fd, enum pw_map_id id)
{
	struct bpf_map_info info = {};
	const struct bpf_map_info *want = &map_shapes[id];
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	if (info.type != want->type || info.key_size != want->key_size ||
	    info.value_size != want->value_size ||
	    info.max_entries != want->max_entries ||
	    (info.map_flags & BPF_F_MMAPABLE) != want->map_flags)
		return -EPROTO;
	return 0;
}

#define PW_DROPS_BYTES ((size_t)PW_DECLARED_MAX * sizeof(struct pw_port_drops))

/* The two maps userspace writes in place, pw_decl and pw_hist, and
 * pw_drops, which it reads whole. */
static int map_shared(struct pw_session *s)
{
	void *decl, *hist, *drops;

	decl = mmap(NULL, sizeof(*s->decl), PROT_READ | PROT_WRITE, MAP_SHARED,
		    s->map_fd[PW_MAP_DECL], 0);
	if (decl == MAP_FAILED)
		return -errno;
	hist = mmap(NULL, sizeof(*s->hist), PROT_READ | PROT_WRITE, MAP_SHARED,
		    s->map_fd[PW_MAP_HIST], 0);
	if (hist == MAP_FAILED) {
		munmap(decl, sizeof(*s->decl));
		return -errno;
	}
	drops = mmap(NULL, PW_DROPS_BYTES, PROT_READ, MAP_SHARED,
		     s->map_fd[PW_MAP_DROPS], 0);
	if (drops == MAP_FAILED) {
		munmap(decl, sizeof(*s->decl));
		munmap(hist, sizeof(*s->hist));
		return -errno;
	}
	s->decl = decl;
	s->hist = hist;
	s->drop_counts = drops;
	return 0;
}

static void close_maps(struct pw_session *s)
{
	int i;

	if (s->decl)
		munmap(s->decl, sizeof(*s->decl));
	if (s->hist)
		munmap(s->hist, sizeof(*s->hist));
	if (s->drop_counts)
		munmap(s->drop_counts, PW_DROPS_BYTES);
	s->decl = NULL;
	s->hist = NULL;
	s->drop_counts = NULL;
	for (i = 0; i < PW_MAP_COUNT; i++) {
		if (s->map_fd[i] >= 0 && !s->skel)
			close(s->map_fd[i]);
		s->map_fd[i] = -1;
	}
}

static void report_layout(const struct pw_session *s)
{
	pw_err("the maps pinned at %s are not of this portwitness version's layout; 'portwitness detach -i %s' removes them (their counters are lost)\n",
	       s->pin_dir, s->iface.name);
}

int pw_session_open_pinned(struct pw_session *s)
{
	char path[PATH_MAX + 32];
	int i, err;

	for (i = 0; i < PW_MAP_COUNT; i++) {
		pin_path(s, i, path, sizeof(path));
		s->map_fd[i] = bpf_obj_get(path);
		if (s->map_fd[i] < 0) {
			err = -errno;
			goto fail;
		}
		err = check_shape(s->map_fd[i], i);
		if (err)
			goto fail;
	}
	err = map_shared(s);
	if (!err)
		err = pw_instance_read(s);
	if (err)
		goto fail;
	s->pinned = true;
	return 0;
fail:
	/* Some pins but not all, or of another shape: not ours to use. */
	if (err == -ENOENT && i > 0)
		err = -EPROTO;
	if (err == -EPROTO)
		report_layout(s);
	close_maps(s);
	return err;
}

/* A skeleton's maps by id (either object's: they hold the same maps);
 * pw_decl is the object's .bss. */
#define SKEL_MAPS(skel, m) do {					\
	(m)[PW_MAP_DECL] = (skel)->maps.bss;				\
	(m)[PW_MAP_COUNTS] = (skel)->maps.pw_counts;			\
	(m)[PW_MAP_OTHER] = (skel)->maps.pw_other;			\
	(m)[PW_MAP_FLOWS] = (skel)->maps.pw_flows;			\
	(m)[PW_MAP_SEEN] = (skel)->maps.pw_seen;			\
	(m)[PW_MAP_STATS] = (skel)->maps.pw_stats;			\
	(m)[PW_MAP_INSTANCE] = (skel)->maps.pw_instance;		\
	(m)[PW_MAP_HIST] = (skel)->maps.pw_hist;			\
	(m)[PW_MAP_DROPS] = (skel)->maps.pw_drops;			\
	(m)[PW_MAP_DROP_REASONS] = (skel)->maps.pw_drop_reasons;	\
	(m)[PW_MAP_PROBE_PORTS] = (skel)->maps.pw_probe_ports;	\
	(m)[PW_MAP_PROBE_SYNS] = (skel)->maps.pw_probe_syns;		\
	(m)[PW_MAP_PROBE_HOSTS] = (skel)->maps.pw_probe_hosts;	\
	(m)[PW_MAP_PROBE_REASONS] = (skel)->maps.pw_probe_reasons;	\
} while (0)

static void skel_maps(struct portwitness *skel, struct bpf_map **maps)
{
	SKEL_MAPS(skel, maps);
}

struct portwitness_ct *pw_ct_open(struct portwitness *skel, bool l2_none)
{
	struct bpf_map *from[PW_MAP_COUNT], *to[PW_MAP_COUNT];
	struct portwitness_ct *ct = portwitness_ct__open();
	int i, err = 0;

	if (!ct)
		return NULL;
	ct->rodata->pw_l2_none = l2_none;
	SKEL_MAPS(skel, from);
	SKEL_MAPS(ct, to);
	for (i = 0; i < PW_MAP_COUNT && !err; i++)
		err = bpf_map__reuse_fd(to[i], bpf_map__fd(from[i]));
	if (err) {
		portwitness_ct__destroy(ct);
		errno = -err;
		return NULL;
	}
	return ct;
}

static int prepare_pins(struct pw_session *s)
{
	struct bpf_map *maps[PW_MAP_COUNT];
	char path[PATH_MAX + 32];
	int i, fd, err;

	skel_maps(s->skel, maps);
	if (mkdir(PW_PIN_ROOT, 0700) && errno != EEXIST)
		return -errno;
	if (mkdir(s->pin_dir, 0700) && errno != EEXIST)
		return -errno;
	for (i = 0; i < PW_MAP_COUNT; i++) {
		pin_path(s, i, path, sizeof(path));
		fd = bpf_obj_get(path);
		if (fd >= 0) {
			err = check_shape(fd, i);
			close(fd);
			if (err == -EPROTO)
				report_layout(s);
			if (err)
				return err;
		}
		err = bpf_map__set_pin_path(maps[i], path);
		if (err)
			return err;
	}
	return 0;
}

/* ct: the programs that ask conntrack; drops: the drop tracer too. */
static int load_variant(struct pw_session *s, bool pin, enum pw_mode mode,
			bool ct, bool drops)
{
	enum prog_role r;
	int err;

	s->skel = portwitness__open();
	if (!s->skel) {
		err = -errno;
		pw_err("cannot open the BPF object: %s\n", strerror(-err));
		return err;
	}
	s->skel->rodata->pw_l2_none = s->iface.l2_none;
	/* The plain object: its ingress of mode and its egress unless the
	 * _ct ones run instead, the tracer where asked; the maps always. */
	for (r = 0; r < ROLE_COUNT; r++)
		bpf_program__set_autoload(prog_of(s, r, false), false);
	if (!ct) {
		bpf_program__set_autoload(prog_of(s, ingress_role(mode), false), true);
		bpf_program__set_autoload(prog_of(s, ROLE_TC_EGRESS, false), true);
	}
	bpf_program__set_autoload(s->skel->progs.pw_kfree_skb, drops);
	if (pin) {
		err = prepare_pins(s);
		if (err) {
			if (err != -EPROTO)
				pw_err("cannot pin maps under %s: %s\n",
				       s->pin_dir, strerror(-err));
			return err;
		}
	}
	err = portwitness__load(s->skel);
	if (!err && ct) {
		s->skel_ct = pw_ct_open(s->skel, s->iface.l2_none);
		if (!s->skel_ct) {
			err = -errno;
			pw_err("cannot open the conntrack programs' object: %s\n",
			       strerror(-err));
			return err;
		}
		for (r = 0; r < ROLE_COUNT; r++)
			bpf_program__set_autoload(prog_of(s, r, true), false);
		bpf_program__set_autoload(prog_of(s, ingress_role(mode), true), true);
		bpf_program__set_autoload(prog_of(s, ROLE_TC_EGRESS, true), true);
		err = portwitness_ct__load(s->skel_ct);
	}
	if (!err) {
		s->conntrack = ct;
		s->drops = drops;
	}
	return err;
}

/* Both objects of a session, the _ct one first (it holds the other's
 * maps). */
static void destroy_objects(struct pw_session *s)
{
	portwitness_ct__destroy(s->skel_ct);
	s->skel_ct = NULL;
	portwitness__destroy(s->skel);
	s->skel = NULL;
}

/* After a load refused with err: the program named, and the verifier's
 * last lines with -v (all of libbpf's words with -v -v). */
static void report_refusal(const char *prog, const char *tail, int err,
			   const char *fallback)
{
	if (fallback)
		pw_warn("the kernel refused %s (%s); %s (-v shows the verifier's last lines)\n",
			prog[0] ? prog : "a program", strerror(-err), fallback);
	if (pw_log_get_level() > PW_LOG_DEBUG)
		fprintf(stderr, "%s", pw_log_captured());
	else if (tail[0])
		pw_debug("the verifier's last lines%s%s:\n%s\n", prog[0] ? " on " : "",
			 prog, tail);
}

int pw_session_load(struct pw_session *s, bool pin, enum pw_mode mode)
{
	struct bpf_map *maps[PW_MAP_COUNT];
	static const enum pw_feature_id want[] = {
		PW_FEAT_CT_KFUNCS, PW_FEAT_KFREE_SKB_REASON,
	};
	char prog[64] = "", tail[2048], missing[512];
	bool has[2], ct, drops, verified = false;
	int i, err;

	pw_kernel_probe(want, has, 2);
	ct = has[0];
	drops = has[1];

	/* The variants this kernel's features allow (conntrack's kfuncs,
	 * kfree_skb's reason), all at once. A refused drop tracer (tracing
	 * also needs CAP_PERFMON) loads the rest without it; a refused
	 * conntrack program, the rest without conntrack. Any other refusal
	 * ends it. */
	for (;;) {
		pw_log_capture(true);
		err = load_variant(s, pin, mode, ct, drops);
		pw_log_capture(false);
		if (!err || err == -EPROTO)
			break;
		verified = pw_load_refusal(pw_log_captured(), prog, sizeof(prog),
					   tail, sizeof(tail), PW_VERIFIER_LINES);
		destroy_objects(s);
		if (drops && !strcmp(prog, "pw_kfree_skb")) {
			report_refusal(prog, tail, err, "drops will not be traced");
			s->drops_refused = true;
			drops = false;
		} else if (ct && strstr(prog, "_ct")) {
			report_refusal(prog, tail, err, "counting without conntrack");
			ct = false;
		} else if (!prog[0] && (ct || drops)) {
			/* Refused before a program was named (libbpf could not
			 * resolve conntrack's kfuncs; tracing needs
			 * CAP_PERFMON): the rest may load without. */
			pw_debug("the load failed (%s) before the kernel named a program; trying without %s\n",
				 strerror(-err), ct ? "conntrack" : "the drop tracer");
			if (ct)
				ct = false;
			else
				drops = false;
		} else {
			report_refusal(prog, tail, err, NULL);
			break;
		}
	}
	if (err == -EPROTO)
		return err;
	if (err && !verified && err == -EPERM) {
		pw_err("the kernel refused to load the BPF programs: %s (run as root, or with CAP_BPF, CAP_PERFMON and CAP_NET_ADMIN)\n",
		       strerror(-err));
		pw_log_capture_free();
		return err;
	}
	if (err) {
		pw_kernel_missing(mode == PW_MODE_XDP, missing, sizeof(missing));
		if (missing[0])
			pw_err("this kernel lacks what portwitness needs: %s ('portwitness check' tells more)\n",
			       missing);
		else
			pw_err("the kernel refused %s: %s (-v shows the verifier's last lines; 'portwitness check' tells more)\n",
			       prog[0] ? prog : "the BPF programs", strerror(-err));
		pw_log_capture_free();
		return -ENOEXEC;
	}
	pw_log_capture_free();
	pw_debug("flow source: own table%s; drops %s\n",
		 s->conntrack ? " and conntrack" : "",
		 s->drops ? "traced" : "not traced (the tracer was refused)");
	skel_maps(s->skel, maps);
	for (i = 0; i < PW_MAP_COUNT; i++)
		s->map_fd[i] = bpf_map__fd(maps[i]);
	s->pinned = pin;
	err = map_shared(s);
	if (!err)
		err = pw_instance_read(s);
	return err;
}

int pw_instance_read(struct pw_session *s)
{
	__u32 zero = 0;

	if (bpf_map_lookup_elem(s->map_fd[PW_MAP_INSTANCE], &zero, &s->inst))
		return -errno;
	if (s->inst.magic != PW_INSTANCE_MAGIC) {
		/* Fresh maps: the counters begin now. */
		memset(&s->inst, 0, sizeof(s->inst));
		s->inst.magic = PW_INSTANCE_MAGIC;
		s->inst.counters_since = (__u64)time(NULL);
	}
	return 0;
}

int pw_instance_write(struct pw_session *s)
{
	__u32 zero = 0;

	if (bpf_map_update_elem(s->map_fd[PW_MAP_INSTANCE], &zero, &s->inst,
				BPF_ANY))
		return -errno;
	return 0;
}

static __u32 prog_id_of(int prog_fd)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(prog_fd, &info, &len))
		return 0;
	return info.id;
}

/* Is the program with this id one of ours? Judged by name against the
 * programs of the embedded object (opened, not loaded), so the names
 * cannot drift from bpf/portwitness.bpf.c. This is what tells detach a
 * filter nothing recorded (a verify killed with SIGKILL) from another's. */
/* Has obj a program of this name (as the kernel keeps it, cut short)? */
static bool obj_has_prog(struct bpf_object *obj, const char *name)
{
	struct bpf_program *prog;

	bpf_object__for_each_program(prog, obj)
		if (!strncmp(name, bpf_program__name(prog), BPF_OBJ_NAME_LEN - 1))
			return true;
	return false;
}

static bool prog_is_ours(__u32 id)
{
	struct bpf_prog_info info = {};
	struct portwitness_ct *skel_ct = NULL;
	struct portwitness *skel = NULL;
	__u32 len = sizeof(info);
	bool ours;
	int fd;

	if (!id)
		return false;
	fd = bpf_prog_get_fd_by_id(id);
	if (fd < 0)
		return false;
	if (!bpf_obj_get_info_by_fd(fd, &info, &len)) {
		skel = portwitness__open();
		skel_ct = portwitness_ct__open();
	}
	/* The programs of both objects, by name. */
	ours = (skel && obj_has_prog(skel->obj, info.name)) ||
	       (skel_ct && obj_has_prog(skel_ct->obj, info.name));
	portwitness_ct__destroy(skel_ct);
	portwitness__destroy(skel);
	close(fd);
	return ours;
}

static __u32 tc_query(int ifindex, enum bpf_tc_attach_point point,
		      __u32 handle, __u32 prio)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
			    .attach_point = point);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .handle = handle,
			    .priority = prio);

	if (!handle || !prio || bpf_tc_query(&hook, &opts))
		return 0;
	return opts.prog_id;
}

static __u32 xdp_query(int ifindex)
{
	__u32 id = 0;

	if (bpf_xdp_query_id(ifindex, 0, &id))
		return 0;
	return id;
}

/* replace: the (handle, prio) of our own earlier filter, swapped
 * atomically so no packet goes uncounted across a restart. */
static int tc_attach(int ifindex, enum bpf_tc_attach_point point, int prog_fd,
		     bool replace, __u32 *handle, __u32 *prio)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
			    .attach_point = point);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .prog_fd = prog_fd);
	int err;

	if (replace) {
		opts.handle = *handle;
		opts.priority = *prio;
		opts.flags = BPF_TC_F_REPLACE;
	}
	err = bpf_tc_attach(&hook, &opts);
	if (err)
		return err;
	*handle = opts.handle;
	*prio = opts.priority;
	return 0;
}

static int tc_detach(int ifindex, enum bpf_tc_attach_point point,
		     __u32 handle, __u32 prio, __u32 prog_id)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
			    .attach_point = point);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .handle = handle,
			    .priority = prio);

	/* Only the filter we put there: someone may have replaced it. */
	if (!prog_id || tc_query(ifindex, point, handle, prio) != prog_id)
		return 0;
	return bpf_tc_detach(&hook, &opts);
}

static int xdp_detach(int ifindex, __u32 prog_id)
{
	DECLARE_LIBBPF_OPTS(bpf_xdp_attach_opts, opts);
	int fd, err;

	if (!prog_id || xdp_query(ifindex) != prog_id)
		return 0;
	fd = bpf_prog_get_fd_by_id(prog_id);
	if (fd < 0)
		return -errno;
	opts.old_prog_fd = fd;
	/* Fails, and leaves the interface alone, if the program changed. */
	err = bpf_xdp_attach(ifindex, -1, XDP_FLAGS_REPLACE, &opts);
	close(fd);
	return err;
}

static int xdp_attach(struct pw_session *s, int prog_fd, __u32 ours)
{
	DECLARE_LIBBPF_OPTS(bpf_xdp_attach_opts, opts);
	__u32 cur = xdp_query(s->iface.ifindex);
	int err, old_fd = -1;
	__u32 flags = XDP_FLAGS_DRV_MODE | XDP_FLAGS_UPDATE_IF_NOEXIST;

	if (cur && cur == ours) {
		old_fd = bpf_prog_get_fd_by_id(cur);
		if (old_fd >= 0) {
			opts.old_prog_fd = old_fd;
			flags = XDP_FLAGS_DRV_MODE | XDP_FLAGS_REPLACE;
		}
	} else if (cur) {
		pw_err("%s already has an XDP program (id %u%s); portwitness never replaces it. --mode tc (the default) counts beside it\n",
		       s->iface.name, cur,
		       prog_is_ours(cur) ?
		       ", another portwitness: 'portwitness detach' removes it" : "");
		return -EEXIST;
	}
	err = bpf_xdp_attach(s->iface.ifindex, prog_fd, flags, &opts);
	if (old_fd >= 0)
		close(old_fd);
	if (err == -EOPNOTSUPP || err == -EINVAL || err == -ERANGE)
		pw_err("the driver of %s refused native XDP (%s: no native XDP, or a setting such as the MTU it cannot do XDP with); use --mode tc\n",
		       s->iface.name, strerror(-err));
	else if (err == -EBUSY || err == -EEXIST)
		pw_err("%s got an XDP program while portwitness was attaching; nothing was replaced\n",
		       s->iface.name);
	else if (err)
		pw_err("attaching XDP to %s failed: %s\n", s->iface.name,
		       strerror(-err));
	return err;
}

bool pw_session_running(struct pw_session *s)
{
	const struct pw_instance *in = &s->inst;
	__u32 ingress;

	if (in->magic != PW_INSTANCE_MAGIC || in->mode == PW_MODE_NONE ||
	    in->ifindex != (__u32)s->iface.ifindex)
		return false;
	if (in->mode == PW_MODE_XDP)
		ingress = xdp_query(s->iface.ifindex);
	else
		ingress = tc_query(s->iface.ifindex, BPF_TC_INGRESS,
				   in->tc_ingress_handle, in->tc_ingress_prio);
	return ingress && ingress == in->ingress_prog_id &&
	       tc_query(s->iface.ifindex, BPF_TC_EGRESS, in->tc_egress_handle,
			in->tc_egress_prio) == in->egress_prog_id;
}

/* How long conntrack keeps a UDP flow that goes quiet, in this network
 * namespace (120 s by default). */
static unsigned int ct_udp_stream_timeout_s(void)
{
	unsigned int v = 0;
	FILE *f = fopen("/proc/sys/net/netfilter/nf_conntrack_udp_timeout_stream", "re");

	if (f) {
		if (fscanf(f, "%u", &v) != 1)
			v = 0;
		fclose(f);
	}
	return v ? v : 120;
}

/* Unknown UDP flows ask conntrack for as long as one begun before this
 * attach can still turn up (see pw_decl_table). */
static void open_ct_udp_window(struct pw_session *s)
{
	struct timespec ts;
	unsigned int secs = ct_udp_stream_timeout_s() + 5;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	s->decl->ct_udp_until_ns = ((__u64)ts.tv_sec + secs) * 1000000000ull +
				   (__u64)ts.tv_nsec;
	pw_debug("unknown UDP flows ask conntrack for the next %u s\n", secs);
}

unsigned long long pw_session_ct_window_tick(const struct pw_session *s)
{
	__u64 until = s->decl ? __atomic_load_n(&s->decl->ct_udp_until_ns,
					       __ATOMIC_RELAXED) : 0;
	struct timespec ts;

	if (!until)
		return 0;
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	if ((__u64)ts.tv_sec * 1000000000ull + (__u64)ts.tv_nsec < until)
		/* The coarse clock lags the fine one by up to a tick. */
		return until + 20000000ull;
	/* Only the end it read: a watch attaching meanwhile may have set a
	 * new one. */
	__sync_bool_compare_and_swap(&s->decl->ct_udp_until_ns, until, 0);
	return 0;
}

static void link_pin_path(const struct pw_session *s, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s", s->pin_dir, PW_DROP_LINK);
}

/* The program behind the pinned drop tracer link, if it is ours: a watch
 * before this one attached it to the same maps, and it goes on as it is. */
static __u32 pinned_drop_prog(const struct pw_session *s)
{
	struct bpf_link_info info = {};
	__u32 len = sizeof(info);
	char path[PATH_MAX + 32];
	int fd;

	link_pin_path(s, path, sizeof(path));
	fd = bpf_obj_get(path);
	if (fd < 0)
		return 0;
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		info.prog_id = 0;
	close(fd);
	return prog_is_ours(info.prog_id) ? info.prog_id : 0;
}

void pw_session_drop_ifaces(struct pw_session *s)
{
	uint32_t ifs[PW_DROP_IFACES];
	struct stat st;
	size_t i;

	if (stat("/proc/self/ns/net", &st) == 0)
		s->decl->netns_ino = (__u32)st.st_ino;
	pw_drop_ifaces(s->iface.ifindex, ifs);
	for (i = 0; i < PW_DROP_IFACES; i++)
		if (s->decl->drop_ifindex[i] != ifs[i])
			s->decl->drop_ifindex[i] = ifs[i];
}

/* Attaches the drop tracer (or keeps the pinned one) and tells it the
 * drop reasons of this kernel. 0, or -errno when drops go untraced. */
static int trace_drops(struct pw_session *s)
{
	char path[PATH_MAX + 32];
	struct bpf_link *link;
	__u32 id;
	int err;

	err = pw_drop_reasons_load(s->decl->drop_class);
	if (err) {
		pw_warn("drops are not traced: this kernel's BTF names no drop reasons (%s); statuses are only silent or reached\n",
			strerror(-err));
		return err;
	}
	pw_session_drop_ifaces(s);
	id = s->pinned ? pinned_drop_prog(s) : 0;
	if (!id) {
		if (!s->drops) {
			if (s->drops_refused)
				pw_warn("drops are not traced (pw_kfree_skb refused, above); statuses are only silent or reached\n");
			else
				pw_warn("drops are not traced: this kernel's skb:kfree_skb has no drop reason (Linux 5.17); statuses are only silent or reached\n");
			return -EOPNOTSUPP;
		}
		link = bpf_program__attach(s->skel->progs.pw_kfree_skb);
		if (!link) {
			err = -errno;
			pw_warn("drops are not traced: attaching to skb:kfree_skb failed: %s\n",
				strerror(-err));
			return err;
		}
		if (s->pinned) {
			link_pin_path(s, path, sizeof(path));
			unlink(path);	/* not ours (pinned_drop_prog said) */
			err = bpf_link__pin(link, path);
			if (err) {
				pw_warn("drops are not traced: cannot pin %s: %s\n",
					path, strerror(-err));
				bpf_link__destroy(link);
				return err;
			}
		}
		s->drop_link = link;
		id = prog_id_of(bpf_program__fd(s->skel->progs.pw_kfree_skb));
	}
	s->inst.drop_prog_id = id;
	return 0;
}

/* Takes the drop tracer off: this process's link, and the pinned one. */
static void untrace_drops(struct pw_session *s)
{
	char path[PATH_MAX + 32];

	if (s->drop_link) {
		bpf_link__unpin(s->drop_link);
		bpf_link__destroy(s->drop_link);
		s->drop_link = NULL;
	}
	if (s->pinned) {
		link_pin_path(s, path, sizeof(path));
		if (unlink(path) && errno != ENOENT)
			pw_warn("cannot remove %s: %s\n", path, strerror(errno));
	}
	s->inst.drop_prog_id = 0;
}

int pw_session_attach(struct pw_session *s, enum pw_mode mode)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = s->iface.ifindex,
			    .attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS);
	struct pw_instance *in = &s->inst;
	struct pw_instance prev = *in;
	bool reuse = pw_session_running(s) && prev.mode == (__u32)mode;
	int ingress_fd, egress_fd, err;
	__u32 ingress_id, egress_id;
	bool drops;

	if (!reuse) {
		/* What is left of an earlier instance (in the other mode, or
		 * half removed by hand) comes off first, or it would count
		 * beside us. Only programs still ours are touched. */
		err = pw_session_detach(s);
		if (err)
			return err;
		prev = *in;
	}

	if (s->conntrack)
		open_ct_udp_window(s);
	err = bpf_tc_hook_create(&hook);
	if (err && err != -EEXIST) {
		pw_err("cannot add the clsact qdisc to %s: %s\n", s->iface.name,
		       strerror(-err));
		return err;
	}

	ingress_fd = bpf_program__fd(prog_of(s, ingress_role(mode), s->conntrack));
	egress_fd = bpf_program__fd(prog_of(s, ROLE_TC_EGRESS, s->conntrack));
	ingress_id = prog_id_of(ingress_fd);
	egress_id = prog_id_of(egress_fd);

	/* Egress first: flows this host begins are known before the first
	 * inbound packet is judged. */
	err = tc_attach(s->iface.ifindex, BPF_TC_EGRESS, egress_fd, reuse,
			&in->tc_egress_handle, &in->tc_egress_prio);
	if (err) {
		pw_err("attaching to %s egress failed: %s\n", s->iface.name,
		       strerror(-err));
		return err;
	}
	/* The drop tracer before ingress: the drop of every packet ingress
	 * counts is seen. */
	drops = trace_drops(s) == 0;
	if (mode == PW_MODE_XDP) {
		err = xdp_attach(s, ingress_fd, reuse ? prev.ingress_prog_id : 0);
		if (!err && !reuse && s->iface.tun)
			pw_warn("%s is a tun/tap device: XDP there sees a GSO buffer (a VM's, a VPN daemon's) as one frame and counts it as one packet; --mode tc counts its segments\n",
				s->iface.name);
	} else {
		err = tc_attach(s->iface.ifindex, BPF_TC_INGRESS, ingress_fd,
				reuse, &in->tc_ingress_handle,
				&in->tc_ingress_prio);
		if (err)
			pw_err("attaching to %s ingress failed: %s\n",
			       s->iface.name, strerror(-err));
	}
	if (err) {
		if (!reuse) {
			tc_detach(s->iface.ifindex, BPF_TC_EGRESS,
				  in->tc_egress_handle, in->tc_egress_prio,
				  egress_id);
			untrace_drops(s);
		}
		*in = prev;
		return err;
	}

	in->magic = PW_INSTANCE_MAGIC;
	in->mode = mode;
	in->ifindex = s->iface.ifindex;
	in->ingress_prog_id = ingress_id;
	in->egress_prog_id = egress_id;
	if (mode == PW_MODE_XDP)
		in->tc_ingress_handle = in->tc_ingress_prio = 0;
	in->owner_pid = (__u32)getpid();
	in->flags = (s->conntrack ? PW_INSTANCE_CONNTRACK : 0) |
		    (drops ? PW_INSTANCE_DROPS : 0);
	s->attached = true;
	return pw_instance_write(s);
}

int pw_session_detach(struct pw_session *s)
{
	struct pw_instance *in = &s->inst;
	int err = 0, e;

	if (in->magic != PW_INSTANCE_MAGIC || in->mode == PW_MODE_NONE)
		return 0;
	untrace_drops(s);
	if (in->ifindex == (__u32)s->iface.ifindex) {
		if (in->mode == PW_MODE_XDP)
			err = xdp_detach(s->iface.ifindex, in->ingress_prog_id);
		else
			err = tc_detach(s->iface.ifindex, BPF_TC_INGRESS,
					in->tc_ingress_handle,
					in->tc_ingress_prio,
					in->ingress_prog_id);
		e = tc_detach(s->iface.ifindex, BPF_TC_EGRESS,
			      in->tc_egress_handle, in->tc_egress_prio,
			      in->egress_prog_id);
		if (!err)
			err = e;
	}
	if (err) {
		pw_err("detaching from %s failed: %s\n", s->iface.name,
		       strerror(-err));
		return err;
	}
	in->mode = PW_MODE_NONE;
	in->ingress_prog_id = in->egress_prog_id = 0;
	in->tc_ingress_handle = in->tc_ingress_prio = 0;
	in->tc_egress_handle = in->tc_egress_prio = 0;
	in->owner_pid = 0;
	/* The counts were taken with drops traced: they still tell. */
	in->flags &= PW_INSTANCE_DROPS;
	in->drop_prog_id = 0;
	s->attached = false;
	return pw_instance_write(s);
}

int pw_session_remove_strays(struct pw_session *s)
{
	static const enum bpf_tc_attach_point points[] = { BPF_TC_INGRESS, BPF_TC_EGRESS };
	struct pw_tc_filter f[64];
	int removed = 0, err;
	size_t n, i, k;
	__u32 id;

	for (k = 0; k < 2; k++) {
		err = pw_tc_filters(s->iface.ifindex, points[k], f, 64, &n);
		if (err)
			return err;
		for (i = 0; i < n; i++)
			if (prog_is_ours(f[i].prog_id) &&
			    !tc_detach(s->iface.ifindex, points[k], f[i].handle,
				       f[i].prio, f[i].prog_id))
				removed++;
	}
	id = xdp_query(s->iface.ifindex);
	if (prog_is_ours(id) && !xdp_detach(s->iface.ifindex, id))
		removed++;
	return removed;
}

int pw_session_unpin(struct pw_session *s)
{
	char path[PATH_MAX + 32];
	int i, err = 0;

	for (i = 0; i < PW_MAP_COUNT; i++) {
		pin_path(s, i, path, sizeof(path));
		if (unlink(path) && errno != ENOENT && !err)
			err = -errno;
	}
	link_pin_path(s, path, sizeof(path));
	if (unlink(path) && errno != ENOENT && !err)
		err = -errno;
	if (rmdir(s->pin_dir) && errno != ENOENT && !err)
		err = -errno;
	rmdir(PW_PIN_ROOT);	/* only if no other interface is pinned */
	s->pinned = false;
	return err;
}

void pw_session_close(struct pw_session *s)
{
	/* A pinned link stays attached; a private one ends here. */
	bpf_link__destroy(s->drop_link);
	s->drop_link = NULL;
	close_maps(s);
	destroy_objects(s);
}

uint64_t pw_map_memory(int fd)
{
	char path[64], line[128];
	unsigned long long v = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "memlock: %llu", &v) == 1)
			break;
	fclose(f);
	return v;
}

int pw_session_declare(struct pw_session *s, const struct pw_decls *d)
{
	__u16 *index1 = s->decl->index1;
	uint32_t top = 0, need = 0, slot, base, port;
	int lock = -1, err = 0;
	uint8_t *want;
	size_t i;

	want = calloc(PW_PORT_SLOTS, 1);
	if (!want)
		return -ENOMEM;
	/* Two processes declaring into the same pinned maps at once (a
	 * verify beside a watch) must not hand out one index twice. */
	if (s->pinned) {
		lock = open(s->pin_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (lock < 0 || flock(lock, LOCK_EX)) {
			err = -errno;
			goto out;
		}
	}
	for (slot = 0; slot < PW_PORT_SLOTS; slot++)
		if (index1[slot] > top)
			top = index1[slot];
	for (i = 0; i < d->n; i++) {
		base = d->v[i].proto == PW_PROTO_UDP ? PW_PORTS_PER_PROTO : 0;
		for (port = d->v[i].first; port <= d->v[i].last; port++)
			if (!index1[base + port] && !want[base + port]) {
				want[base + port] = 1;
				need++;
			}
	}
	if (top + need > PW_DECLARED_MAX) {
		pw_err("%u more ports cannot be declared on %s: %u are already, of at most %u for the life of the counters ('portwitness detach -i %s' starts afresh)\n",
		       need, s->iface.name, top, PW_DECLARED_MAX, s->iface.name);
		err = -ENOSPC;
		goto out;
	}
	/* One 16-bit store each: the programs see 0 or the final index, and
	 * an index never used before has zero counts. */
	for (slot = 0; slot < PW_PORT_SLOTS; slot++)
		if (want[slot])
			index1[slot] = (__u16)++top;
out:
	if (lock >= 0)
		close(lock);
	free(want);
	return err;
}
