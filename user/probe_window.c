// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* verify --probe on the maps: turn counting on for a token, then read
 * what the probe's packets got. One verify --probe at a time per set of
 * maps: the state in pw_decl names its owner by pid. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "instance.h"
#include "log.h"
#include "probe.h"

/* How long a packet ingress counted may take to be dropped (as
 * counters.c waits at the close of a window). */
#define PROBE_SETTLE_US 10000

#define PROBE_PORTS_BYTES ((size_t)PW_DECLARED_MAX * sizeof(struct pw_probe_count))

static bool pid_alive(uint32_t pid)
{
	return pid && (kill((pid_t)pid, 0) == 0 || errno == EPERM);
}

static void set_state(struct pw_session *s, uint32_t state)
{
	__atomic_store_n(&s->decl->probe_state, state, __ATOMIC_SEQ_CST);
}

/* The pinned maps are shared with a watch and other verifies. */
static int lock_maps(const struct pw_session *s)
{
	int fd;

	if (!s->pinned)
		return -1;
	fd = open(s->pin_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0 && flock(fd, LOCK_EX)) {
		close(fd);
		fd = -1;
	}
	return fd;
}

static void unlock_maps(int fd)
{
	if (fd >= 0)
		close(fd);
}

/* Every key of a hash map, into *keys (malloc'd, ksize bytes each). */
static int hash_keys(int fd, size_t ksize, size_t max, void **keys, size_t *n)
{
	char *v = calloc(max + 1, ksize);
	void *prev = NULL;

	*n = 0;
	*keys = v;
	if (!v)
		return -ENOMEM;
	while (*n < max && !bpf_map_get_next_key(fd, prev, v + *n * ksize)) {
		prev = v + *n * ksize;
		(*n)++;
	}
	return 0;
}

static int clear_hash(int fd, size_t ksize, size_t max)
{
	void *keys;
	size_t n, i;
	int err = hash_keys(fd, ksize, max, &keys, &n);

	for (i = 0; !err && i < n; i++)
		if (bpf_map_delete_elem(fd, (char *)keys + i * ksize) &&
		    errno != ENOENT)
			err = -errno;
	free(keys);
	return err;
}

static uint64_t stat_sum(const struct pw_session *s, __u32 key)
{
	int ncpus = libbpf_num_possible_cpus(), i;
	uint64_t *v, sum = 0;

	if (ncpus <= 0)
		return 0;
	v = calloc((size_t)ncpus, sizeof(*v));
	if (v && !bpf_map_lookup_elem(s->map_fd[PW_MAP_STATS], &key, v))
		for (i = 0; i < ncpus; i++)
			sum += v[i];
	free(v);
	return sum;
}

int pw_probe_begin(struct pw_probe_window *w, struct pw_session *s,
		   const char *token, uint32_t *busy)
{
	struct pw_probe_payload payload;
	uint32_t owner;
	int lock, err = 0;
	void *ports;

	memset(w, 0, sizeof(*w));
	w->s = s;
	*busy = 0;
	ports = mmap(NULL, PROBE_PORTS_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED,
		     s->map_fd[PW_MAP_PROBE_PORTS], 0);
	if (ports == MAP_FAILED)
		return -errno;
	w->ports = ports;
	lock = lock_maps(s);
	owner = s->decl->probe_owner;
	if (s->decl->probe_state != PW_PROBE_OFF && owner != (uint32_t)getpid() &&
	    pid_alive(owner)) {
		*busy = owner;
		err = -EBUSY;
		goto out;
	}
	/* Off, and a moment for a program that read "on" to finish, before
	 * the counts of the last probe go. */
	if (s->decl->probe_state != PW_PROBE_OFF) {
		set_state(s, PW_PROBE_OFF);
		usleep(PROBE_SETTLE_US);
	}
	memset(w->ports, 0, PROBE_PORTS_BYTES);
	err = clear_hash(s->map_fd[PW_MAP_PROBE_SYNS],
			 sizeof(struct pw_probe_syn_key), PW_PROBE_SYN_ENTRIES);
	if (!err)
		err = clear_hash(s->map_fd[PW_MAP_PROBE_HOSTS],
				 sizeof(struct pw_probe_host_key), PW_PROBE_HOSTS);
	if (!err)
		err = clear_hash(s->map_fd[PW_MAP_PROBE_REASONS],
				 sizeof(struct pw_drop_reason_key),
				 PW_PROBE_REASON_ENTRIES);
	if (err)
		goto out;
	pw_probe_payload_of(token, &payload);
	memcpy(s->decl->probe_payload, &payload, sizeof(payload));
	s->decl->probe_owner = (uint32_t)getpid();
	w->lost_before = stat_sum(s, PW_STAT_PROBE_LOST);
	set_state(s, PW_PROBE_COUNTING);
	w->on = true;
out:
	unlock_maps(lock);
	return err;
}

/* Every entry of a hash map into *out (malloc'd): structs of size each,
 * the key first and the value at voff, as pw_probe_syn_entry and
 * pw_probe_host are. An entry gone meanwhile (evicted) is left out. */
static int read_entries(int fd, size_t ksize, size_t max, size_t size,
			size_t voff, void **out, size_t *n)
{
	char *keys, *v;
	size_t k, i;
	int err;

	*out = NULL;
	*n = 0;
	err = hash_keys(fd, ksize, max, (void **)&keys, &k);
	v = calloc(k ? k : 1, size);
	if (err || !v) {
		free(keys);
		free(v);
		return err ? err : -ENOMEM;
	}
	for (i = 0; i < k; i++) {
		if (bpf_map_lookup_elem(fd, keys + i * ksize, v + *n * size + voff))
			continue;
		memcpy(v + *n * size, keys + i * ksize, ksize);
		(*n)++;
	}
	free(keys);
	*out = v;
	return 0;
}

int pw_probe_finish(struct pw_probe_window *w, struct pw_probe_seen *seen)
{
	struct pw_session *s = w->s;
	uint64_t lost;
	int err;

	memset(seen, 0, sizeof(*seen));
	if (!w->on)
		return -EINVAL;
	set_state(s, PW_PROBE_CLOSING);
	usleep(PROBE_SETTLE_US);
	seen->ports = malloc(PROBE_PORTS_BYTES);
	if (!seen->ports)
		return -ENOMEM;
	memcpy(seen->ports, w->ports, PROBE_PORTS_BYTES);
	err = read_entries(s->map_fd[PW_MAP_PROBE_SYNS],
			   sizeof(struct pw_probe_syn_key), PW_PROBE_SYN_ENTRIES,
			   sizeof(*seen->syns),
			   offsetof(struct pw_probe_syn_entry, val),
			   (void **)&seen->syns, &seen->n_syns);
	if (!err)
		err = read_entries(s->map_fd[PW_MAP_PROBE_HOSTS],
				   sizeof(struct pw_probe_host_key), PW_PROBE_HOSTS,
				   sizeof(*seen->hosts),
				   offsetof(struct pw_probe_host, datagrams),
				   (void **)&seen->hosts, &seen->n_hosts);
	seen->reasons = calloc(PW_PROBE_REASON_ENTRIES, sizeof(*seen->reasons));
	if (!err && !seen->reasons)
		err = -ENOMEM;
	if (!err)
		err = pw_reasons_read(s->map_fd[PW_MAP_PROBE_REASONS], seen->reasons,
				      PW_PROBE_REASON_ENTRIES, &seen->n_reasons);
	lost = stat_sum(s, PW_STAT_PROBE_LOST);
	seen->lost = lost > w->lost_before ? lost - w->lost_before : 0;
	if (err)
		pw_probe_seen_free(seen);
	return err;
}

void pw_probe_end(struct pw_probe_window *w)
{
	struct pw_session *s = w->s;
	int lock;

	if (w->on && s && s->decl) {
		lock = lock_maps(s);
		if (s->decl->probe_owner == (uint32_t)getpid()) {
			set_state(s, PW_PROBE_OFF);
			s->decl->probe_owner = 0;
		}
		unlock_maps(lock);
	}
	w->on = false;
	if (w->ports)
		munmap(w->ports, PROBE_PORTS_BYTES);
	w->ports = NULL;
}

void pw_probe_reap_stale(struct pw_session *s)
{
	int lock;

	if (!s->decl || s->decl->probe_state == PW_PROBE_OFF ||
	    pid_alive(s->decl->probe_owner))
		return;
	lock = lock_maps(s);
	if (s->decl->probe_state != PW_PROBE_OFF &&
	    !pid_alive(s->decl->probe_owner)) {
		pw_info("a verify --probe (pid %u) ended without turning probe counting off; off now\n",
			s->decl->probe_owner);
		set_state(s, PW_PROBE_OFF);
		s->decl->probe_owner = 0;
	}
	unlock_maps(lock);
}
