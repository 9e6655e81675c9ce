/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The BPF side of one interface: its maps (pinned or private), the
 * programs, and where they are attached. */
#ifndef PW_INSTANCE_USER_H
#define PW_INSTANCE_USER_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include "decl.h"
#include "iface.h"
#include "pw_hist.h"
#include "pw_instance.h"
#include "pw_ports.h"

#define PW_BPFFS "/sys/fs/bpf"
#define PW_PIN_ROOT PW_BPFFS "/portwitness"

enum pw_map_id {
	PW_MAP_DECL = 0,
	PW_MAP_COUNTS,
	PW_MAP_OTHER,
	PW_MAP_FLOWS,
	PW_MAP_SEEN,
	PW_MAP_STATS,
	PW_MAP_INSTANCE,
	PW_MAP_HIST,
	PW_MAP_DROPS,
	PW_MAP_DROP_REASONS,
	PW_MAP_PROBE_PORTS,
	PW_MAP_PROBE_SYNS,
	PW_MAP_PROBE_HOSTS,
	PW_MAP_PROBE_REASONS,
	PW_MAP_COUNT,
};

struct portwitness;
struct portwitness_ct;
struct bpf_link;

/* The drop tracer's link, pinned beside the maps so that it outlives the
 * watch as the TC and XDP programs do. */
#define PW_DROP_LINK "pw_drop_link"

struct pw_session {
	struct pw_iface iface;
	char pin_dir[PATH_MAX];
	struct portwitness *skel;	/* NULL when only pinned maps are open */
	struct portwitness_ct *skel_ct;	/* the _ct programs, where they run */
	int map_fd[PW_MAP_COUNT];
	struct pw_decl_table *decl;	/* the mmap of pw_decl */
	struct pw_hist_table *hist;	/* the mmap of pw_hist */
	struct pw_port_drops *drop_counts; /* the mmap of pw_drops (read only) */
	struct pw_instance inst;	/* the attach record, as last read/written */
	bool attached;			/* this process attached and must detach */
	bool pinned;			/* maps live under pin_dir */
	bool conntrack;			/* the loaded programs ask conntrack */
	bool drops;			/* the drop tracer loaded */
	bool drops_refused;		/* the verifier refused it */
	struct bpf_link *drop_link;	/* attached by this process */
};

void pw_session_init(struct pw_session *s, const struct pw_iface *iface);
/* Mounts bpffs at /sys/fs/bpf when it is not there (as under ip netns exec). */
int pw_bpffs_ensure(void);
/* Opens the maps pinned for this interface; -ENOENT when there are none,
 * -EPROTO when they are of another layout. */
int pw_session_open_pinned(struct pw_session *s);
/* Loads the programs for mode (the other mode's ingress program is left
 * out: the verifier's time for it is most of a start); with pin, the maps
 * are reused from (or pinned to) pin_dir so counters outlive the process. */
int pw_session_load(struct pw_session *s, bool pin, enum pw_mode mode);
/* Attaches ingress and egress, then the drop tracer where it loaded
 * (pw_session_trace_drops). */
int pw_session_attach(struct pw_session *s, enum pw_mode mode);
/* Tells the drop tracer this namespace and the interfaces stacked on the
 * watched one anew (a VLAN added since); the watch calls it each tick. */
void pw_session_drop_ifaces(struct pw_session *s);
/* Ends the conntrack window once it has passed (pw_decl_table's
 * ct_udp_until_ns to 0), so that a new flow no longer reads the clock.
 * Returns when to call again (CLOCK_MONOTONIC ns, just after the window's
 * end), or 0 when it is closed: whoever keeps the programs counting. */
unsigned long long pw_session_ct_window_tick(const struct pw_session *s);
/* Gives every port of d that has none a dense index (pw_ports.h), so it
 * is counted in full; ports keep their index for the life of the maps.
 * -ENOSPC when more than PW_DECLARED_MAX ports would be declared. */
int pw_session_declare(struct pw_session *s, const struct pw_decls *d);
/* Detaches what the record says is attached, if it is still ours. */
int pw_session_detach(struct pw_session *s);
/* The record says programs are attached and they are still there. */
bool pw_session_running(struct pw_session *s);
/* Takes off every portwitness program on the interface that no record
 * names (left by a verify killed with SIGKILL, or pins lost with a private
 * bpffs); also a verify that is running. Returns how many, or -errno. */
int pw_session_remove_strays(struct pw_session *s);
int pw_session_unpin(struct pw_session *s);
void pw_session_close(struct pw_session *s);

/* The _ct programs' object, opened (not loaded) with the maps of skel,
 * which is loaded, and l2_none as skel's; NULL with errno set. The caller
 * picks its programs, loads and destroys it before skel. */
struct portwitness_ct *pw_ct_open(struct portwitness *skel, bool l2_none);

int pw_instance_read(struct pw_session *s);
int pw_instance_write(struct pw_session *s);
const char *pw_mode_name(enum pw_mode mode);
/* Bytes the kernel charges for a map (its memlock), 0 if unknown. */
uint64_t pw_map_memory(int fd);
const char *pw_map_name(enum pw_map_id id);

#endif
