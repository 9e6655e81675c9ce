// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "counters.h"
#include "instance.h"

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int pw_snapshot_alloc(struct pw_snapshot *snap)
{
	memset(snap, 0, sizeof(*snap));
	snap->slots = calloc(PW_PORT_SLOTS, sizeof(*snap->slots));
	return snap->slots ? 0 : -ENOMEM;
}

void pw_snapshot_free(struct pw_snapshot *snap)
{
	free(snap->slots);
	snap->slots = NULL;
}

/* Every element of a per-CPU array, in one batch call where the kernel
 * has them (5.6+), else one lookup per element. buf: n * ncpus values of
 * vsize bytes (a multiple of 8, as the kernel lays them out). */
static int read_percpu(int fd, __u32 n, size_t vsize, int ncpus, void *buf)
{
	LIBBPF_OPTS(bpf_map_batch_opts, o);
	__u32 *keys, out = 0, count = n, k;
	int err;

	keys = calloc(n, sizeof(*keys));
	if (!keys)
		return -ENOMEM;
	err = bpf_map_lookup_batch(fd, NULL, &out, keys, buf, &count, &o);
	if (!err || (errno == ENOENT && count == n)) {
		free(keys);
		return 0;
	}
	free(keys);
	for (k = 0; k < n; k++)
		if (bpf_map_lookup_elem(fd, &k, (char *)buf + (size_t)k * ncpus * vsize))
			return -errno;
	return 0;
}

int pw_snapshot_take(const struct pw_session *s, struct pw_snapshot *snap)
{
	int ncpus = libbpf_num_possible_cpus();
	struct pw_port_count *counts = NULL;
	struct pw_other_count *other = NULL;
	uint64_t *percpu = NULL;
	struct pw_slot_total *t;
	uint32_t slot, idx;
	__u32 key;
	int cpu, err = -ENOMEM;

	if (ncpus <= 0)
		return ncpus ? ncpus : -EINVAL;
	counts = calloc((size_t)PW_DECLARED_MAX * ncpus, sizeof(*counts));
	other = calloc((size_t)PW_OTHER_ENTRIES * ncpus, sizeof(*other));
	percpu = calloc((size_t)ncpus, sizeof(*percpu));
	if (!counts || !other || !percpu)
		goto out;
	snap->real_ns = clock_ns(CLOCK_REALTIME);
	err = read_percpu(s->map_fd[PW_MAP_COUNTS], PW_DECLARED_MAX,
			  sizeof(*counts), ncpus, counts);
	if (!err)
		err = read_percpu(s->map_fd[PW_MAP_OTHER], PW_OTHER_ENTRIES,
				  sizeof(*other), ncpus, other);
	if (err)
		goto out;
	for (slot = 0; slot < PW_PORT_SLOTS; slot++) {
		t = &snap->slots[slot];
		memset(t, 0, sizeof(*t));
		for (cpu = 0; cpu < ncpus; cpu++)
			t->other += other[(size_t)(slot / PW_OTHER_LANES) * ncpus + cpu]
				.packets[slot % PW_OTHER_LANES];
		idx = s->decl->index1[slot];
		if (!idx || idx > PW_DECLARED_MAX)
			continue;
		t->declared = true;
		for (cpu = 0; cpu < ncpus; cpu++) {
			const struct pw_port_count *c =
				&counts[(size_t)(idx - 1) * ncpus + cpu];

			t->unsolicited += c->unsolicited;
			t->replies += c->replies;
			t->bytes += c->bytes;
		}
	}
	for (key = 0; key < PW_STAT_COUNT; key++) {
		snap->stats[key] = 0;
		if (bpf_map_lookup_elem(s->map_fd[PW_MAP_STATS], &key, percpu))
			continue;
		for (cpu = 0; cpu < ncpus; cpu++)
			snap->stats[key] += percpu[cpu];
	}
	err = 0;
out:
	free(counts);
	free(other);
	free(percpu);
	return err;
}

/* Bytes are 64-bit: lower after than before means the maps were made
 * anew in between (never while a reader holds them); after is taken. */
static uint64_t delta(uint64_t before, uint64_t after)
{
	return after >= before ? after - before : after;
}

/* A packet count's growth between two reads: 32 bits per CPU, so modulo
 * 2^32, exact while a port gets fewer than 2^32 packets in between. */
static uint64_t count_delta(uint64_t before, uint64_t after)
{
	return (uint32_t)(after - before);
}

void pw_snapshot_accumulate(struct pw_snapshot *acc,
			    const struct pw_snapshot *prev,
			    const struct pw_snapshot *cur)
{
	const struct pw_slot_total *a, *b;
	struct pw_slot_total *t;
	uint32_t slot;
	uint64_t u;
	int k;

	for (slot = 0; slot < PW_PORT_SLOTS; slot++) {
		a = &prev->slots[slot];
		b = &cur->slots[slot];
		t = &acc->slots[slot];
		t->other += count_delta(a->other, b->other);
		if (!b->declared)
			continue;
		/* Declared since prev: it counted from zero. */
		u = a->declared ? count_delta(a->unsolicited, b->unsolicited) :
				  b->unsolicited;
		t->unsolicited += u;
		t->replies += a->declared ? count_delta(a->replies, b->replies) :
					    b->replies;
		t->bytes += a->declared ? delta(a->bytes, b->bytes) : b->bytes;
		t->declared = true;
		if (u)
			t->last_seen_real_ns = cur->real_ns;
	}
	for (k = 0; k < PW_STAT_COUNT; k++)
		acc->stats[k] += delta(prev->stats[k], cur->stats[k]);
	acc->real_ns = cur->real_ns;
}

void pw_hist_apply(const struct pw_hist_table *h,
		   const struct pw_decl_table *decl, struct pw_snapshot *snap)
{
	const struct pw_hist_port *p;
	struct pw_slot_total *t;
	uint32_t slot, idx, grew;

	for (slot = 0; slot < PW_PORT_SLOTS; slot++) {
		idx = decl->index1[slot];
		t = &snap->slots[slot];
		if (!idx || idx > PW_DECLARED_MAX || !t->declared)
			continue;
		p = &h->port[idx - 1];
		grew = (uint32_t)(t->unsolicited - p->raw_unsolicited);
		t->unsolicited = p->unsolicited + grew;
		t->replies = p->replies +
			     (uint32_t)(t->replies - p->raw_replies);
		t->last_seen_real_ns = grew ? snap->real_ns : p->last_seen_ns;
	}
}

static void seq_bump(struct pw_hist_table *h)
{
	__atomic_fetch_add(&h->seq, 1, __ATOMIC_SEQ_CST);
}

void pw_hist_fold(struct pw_hist_table *h, const struct pw_decl_table *decl,
		  const struct pw_snapshot *totals)
{
	const struct pw_slot_total *t;
	struct pw_hist_port *p;
	uint32_t slot, idx;

	seq_bump(h);
	for (slot = 0; slot < PW_PORT_SLOTS; slot++) {
		idx = decl->index1[slot];
		t = &totals->slots[slot];
		if (!idx || idx > PW_DECLARED_MAX || !t->declared)
			continue;
		p = &h->port[idx - 1];
		/* The raw sums moved by what the totals moved. */
		p->raw_unsolicited += (uint32_t)(t->unsolicited - p->unsolicited);
		p->raw_replies += (uint32_t)(t->replies - p->replies);
		p->unsolicited = t->unsolicited;
		p->replies = t->replies;
		p->last_seen_ns = t->last_seen_real_ns;
	}
	h->folded_ns = totals->real_ns;
	seq_bump(h);
}

int pw_hist_copy(const struct pw_hist_table *h, struct pw_hist_table *out)
{
	uint64_t before, after;
	int tries;

	/* A fold takes milliseconds; a reader retries a few times. */
	for (tries = 0; tries < 1000; tries++) {
		before = __atomic_load_n(&h->seq, __ATOMIC_ACQUIRE);
		if (before & 1) {
			usleep(1000);
			continue;
		}
		memcpy(out, h, sizeof(*out));
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		after = __atomic_load_n(&h->seq, __ATOMIC_ACQUIRE);
		if (before == after)
			return 0;
	}
	return -EAGAIN;
}

int pw_snapshot_take_totals(const struct pw_session *s,
			    struct pw_snapshot *snap)
{
	struct pw_hist_table *h = malloc(sizeof(*h));
	int err;

	if (!h)
		return -ENOMEM;
	err = pw_hist_copy(s->hist, h);
	if (!err)
		err = pw_snapshot_take(s, snap);
	if (!err)
		pw_hist_apply(h, s->decl, snap);
	free(h);
	return err;
}

int pw_snapshot_fold(const struct pw_session *s, struct pw_snapshot *snap)
{
	int err = pw_snapshot_take(s, snap);

	if (err)
		return err;
	pw_hist_apply(s->hist, s->decl, snap);
	pw_hist_fold(s->hist, s->decl, snap);
	return 0;
}

static int build_range(struct pw_range_result *res, const struct pw_range *r,
		       const struct pw_snapshot *snap)
{
	uint32_t base = r->proto == PW_PROTO_UDP ? PW_PORTS_PER_PROTO : 0;
	const struct pw_slot_total *t;
	uint32_t port, hit = 0;

	memset(res, 0, sizeof(*res));
	res->range = *r;
	res->ports_declared = pw_range_size(r);
	for (port = r->first; port <= r->last; port++) {
		t = &snap->slots[base + port];
		res->packets += t->unsolicited;
		res->replies += t->replies;
		res->bytes += t->bytes;
		if (!t->unsolicited)
			continue;
		res->ports_hit++;
		if (t->last_seen_real_ns > res->last_seen_real_ns)
			res->last_seen_real_ns = t->last_seen_real_ns;
	}
	/* The list of hit ports, sized by the hits, not the range. */
	res->hit_ports = malloc((res->ports_hit ? res->ports_hit : 1) *
				sizeof(*res->hit_ports));
	if (!res->hit_ports)
		return -ENOMEM;
	for (port = r->first; port <= r->last && hit < res->ports_hit; port++)
		if (snap->slots[base + port].unsolicited)
			res->hit_ports[hit++] = (uint16_t)port;
	res->reached = res->ports_hit > 0;
	return 0;
}

int pw_report_build(struct pw_report *rep, const struct pw_decls *d,
		    const struct pw_snapshot *snap)
{
	size_t i;
	int err;

	rep->ranges = calloc(d->n ? d->n : 1, sizeof(*rep->ranges));
	if (!rep->ranges)
		return -ENOMEM;
	rep->n = 0;
	rep->ok = true;
	for (i = 0; i < d->n; i++) {
		err = build_range(&rep->ranges[i], &d->v[i], snap);
		if (err) {
			pw_report_free(rep);
			return err;
		}
		rep->n++;
		if (d->v[i].required && !rep->ranges[i].reached)
			rep->ok = false;
	}
	memcpy(rep->stats, snap->stats, sizeof(rep->stats));
	rep->now_real_ns = snap->real_ns;
	return 0;
}

void pw_report_free(struct pw_report *rep)
{
	size_t i;

	for (i = 0; i < rep->n; i++)
		free(rep->ranges[i].hit_ports);
	free(rep->ranges);
	rep->ranges = NULL;
	rep->n = 0;
}
