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
	snap->drops = calloc(PW_DECLARED_MAX, sizeof(*snap->drops));
	snap->reasons = calloc(PW_DROP_REASON_ENTRIES, sizeof(*snap->reasons));
	if (snap->slots && snap->drops && snap->reasons)
		return 0;
	pw_snapshot_free(snap);
	return -ENOMEM;
}

void pw_snapshot_free(struct pw_snapshot *snap)
{
	free(snap->slots);
	free(snap->drops);
	free(snap->reasons);
	snap->slots = NULL;
	snap->drops = NULL;
	snap->reasons = NULL;
	snap->n_reasons = 0;
}

static int reason_cmp(const void *a, const void *b)
{
	const struct pw_reason_count *x = a, *y = b;

	if (x->index != y->index)
		return x->index < y->index ? -1 : 1;
	return x->reason < y->reason ? -1 : x->reason > y->reason;
}

int pw_reasons_read(int fd, struct pw_reason_count *out, size_t max,
		    size_t *n)
{
	struct pw_drop_reason_key key, next;
	struct pw_reason_count *r;
	void *prev = NULL;
	__u64 v;

	*n = 0;
	while (*n < max && !bpf_map_get_next_key(fd, prev, &next)) {
		key = next;
		prev = &key;
		/* Entries are deleted only before a probe's window opens. */
		if (bpf_map_lookup_elem(fd, &key, &v))
			continue;
		r = &out[(*n)++];
		r->index = key.index;
		r->reason = key.reason;
		r->count = v;
	}
	if (errno != ENOENT && *n < max)
		return -errno;
	pw_reasons_sort(out, *n);
	return 0;
}

void pw_reasons_sort(struct pw_reason_count *r, size_t n)
{
	qsort(r, n, sizeof(*r), reason_cmp);
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

/* How long a packet counted at ingress may take to reach the point where
 * the kernel drops it: the same softirq, or a backlog queue behind it. */
#define DROP_SETTLE_US 5000

static int read_drops(const struct pw_session *s, struct pw_snapshot *snap)
{
	/* Each counter is one aligned 64-bit word the programs add to
	 * atomically: a plain copy reads each whole. */
	memcpy(snap->drops, s->drop_counts, PW_DECLARED_MAX * sizeof(*snap->drops));
	return pw_reasons_read(s->map_fd[PW_MAP_DROP_REASONS], snap->reasons,
			       PW_DROP_REASON_ENTRIES, &snap->n_reasons);
}

/* A packet is counted at ingress first and dropped after. drops_first:
 * the drops are read before the counts, so that a packet counted after
 * this snapshot has its drop after it too (the opening of a window).
 * Otherwise the counts are read first and the drops once every packet
 * counted has had time to be dropped (the close of a window). Either way
 * no packet in a window is taken as delivered for want of its drop. */
static int take(const struct pw_session *s, struct pw_snapshot *snap,
		bool drops_first)
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
	snap->drops_traced = s->inst.flags & PW_INSTANCE_DROPS;
	err = drops_first ? read_drops(s, snap) : 0;
	if (!err)
		err = read_percpu(s->map_fd[PW_MAP_COUNTS], PW_DECLARED_MAX,
				  sizeof(*counts), ncpus, counts);
	if (!err)
		err = read_percpu(s->map_fd[PW_MAP_OTHER], PW_OTHER_ENTRIES,
				  sizeof(*other), ncpus, other);
	if (!err && !drops_first) {
		if (snap->drops_traced)
			usleep(DROP_SETTLE_US);
		err = read_drops(s, snap);
	}
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
		t->index1 = (uint16_t)idx;
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

int pw_snapshot_take(const struct pw_session *s, struct pw_snapshot *snap)
{
	return take(s, snap, false);
}

int pw_snapshot_open(const struct pw_session *s, struct pw_snapshot *snap)
{
	return take(s, snap, true);
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

/* The entry of (index, reason) in snap, or NULL. */
static struct pw_reason_count *find_reason(const struct pw_snapshot *snap,
					   uint32_t index, uint32_t reason)
{
	struct pw_reason_count key = { .index = index, .reason = reason };

	return bsearch(&key, snap->reasons, snap->n_reasons,
		       sizeof(*snap->reasons), reason_cmp);
}

/* Adds what every (port, reason) pair grew by from prev to cur to acc,
 * which stays sorted. */
static void accumulate_reasons(struct pw_snapshot *acc,
			       const struct pw_snapshot *prev,
			       const struct pw_snapshot *cur)
{
	const struct pw_reason_count *b, *a;
	struct pw_reason_count *t;
	uint64_t grew;
	size_t i;
	bool added = false;

	for (i = 0; i < cur->n_reasons; i++) {
		b = &cur->reasons[i];
		a = find_reason(prev, b->index, b->reason);
		grew = a ? delta(a->count, b->count) : b->count;
		if (!grew)
			continue;
		t = find_reason(acc, b->index, b->reason);
		if (t) {
			t->count += grew;
		} else if (acc->n_reasons < PW_DROP_REASON_ENTRIES) {
			/* The map holds no more pairs than this, ever. */
			t = &acc->reasons[acc->n_reasons++];
			*t = *b;
			t->count = grew;
			added = true;
		}
	}
	if (added)
		qsort(acc->reasons, acc->n_reasons, sizeof(*acc->reasons),
		      reason_cmp);
}

void pw_snapshot_accumulate(struct pw_snapshot *acc,
			    const struct pw_snapshot *prev,
			    const struct pw_snapshot *cur)
{
	const struct pw_port_drops *da, *db;
	struct pw_port_drops *dt;
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
		t->index1 = b->index1;
		if (u)
			t->last_seen_real_ns = cur->real_ns;
	}
	for (k = 0; k < PW_STAT_COUNT; k++)
		acc->stats[k] += delta(prev->stats[k], cur->stats[k]);
	/* Drops are 64-bit totals; an index not yet used has none. */
	for (slot = 0; slot < PW_DECLARED_MAX; slot++) {
		da = &prev->drops[slot];
		db = &cur->drops[slot];
		dt = &acc->drops[slot];
		dt->firewall += delta(da->firewall, db->firewall);
		dt->no_listener += delta(da->no_listener, db->no_listener);
		dt->other += delta(da->other, db->other);
		dt->refused += delta(da->refused, db->refused);
	}
	accumulate_reasons(acc, prev, cur);
	acc->drops_traced = cur->drops_traced;
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

void pw_hist_seq_bump(struct pw_hist_table *h)
{
	__atomic_fetch_add(&h->seq, 1, __ATOMIC_SEQ_CST);
}

void pw_hist_fold(struct pw_hist_table *h, const struct pw_decl_table *decl,
		  const struct pw_snapshot *totals)
{
	const struct pw_slot_total *t;
	struct pw_hist_port *p;
	uint32_t slot, idx;

	pw_hist_seq_bump(h);
	for (slot = 0; slot < PW_PORT_SLOTS; slot++) {
		idx = decl->index1[slot];
		t = &totals->slots[slot];
		if (!idx || idx > PW_DECLARED_MAX || !t->declared)
			continue;
		p = &h->port[idx - 1];
		if (t->unsolicited != p->unsolicited || t->replies != p->replies)
			p->active_ns = totals->real_ns;
		/* The raw sums moved by what the totals moved. */
		p->raw_unsolicited += (uint32_t)(t->unsolicited - p->unsolicited);
		p->raw_replies += (uint32_t)(t->replies - p->replies);
		p->unsolicited = t->unsolicited;
		p->replies = t->replies;
		p->last_seen_ns = t->last_seen_real_ns;
	}
	h->folded_ns = totals->real_ns;
	pw_hist_seq_bump(h);
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

uint64_t pw_port_no_listener(uint64_t unsolicited, const struct pw_port_drops *d)
{
	uint64_t dropped = d->firewall + d->other, room, answered;

	/* A refusal answers a packet no socket took: one the tracer saw
	 * dropped for NO_SOCKET (both counted), one a firewall's reject
	 * answered (dropped as the firewall's), or one dropped where the
	 * tracer does not look (a container's namespace). */
	room = unsolicited > dropped ? unsolicited - dropped : 0;
	answered = d->refused < room ? d->refused : room;
	return d->no_listener > answered ? d->no_listener : answered;
}

enum pw_status pw_port_fate_of(uint64_t unsolicited,
			       const struct pw_port_drops *d, bool traced,
			       struct pw_port_fate *fate)
{
	uint64_t nl = pw_port_no_listener(unsolicited, d),
		 dropped = d->firewall + nl + d->other;

	if (fate) {
		fate->no_listener = nl;
		fate->delivered = unsolicited > dropped ? unsolicited - dropped : 0;
	}
	return pw_status_of(unsolicited, d->firewall, nl, d->other, traced);
}

enum pw_status pw_status_of(uint64_t unsolicited, uint64_t firewall,
			    uint64_t no_listener, uint64_t other, bool traced)
{
	if (!unsolicited)
		return PW_STATUS_SILENT;
	if (!traced || unsolicited > firewall + no_listener + other)
		return PW_STATUS_REACHED;
	if (no_listener)
		return PW_STATUS_NO_LISTENER;
	return PW_STATUS_BLOCKED;
}

static int reason_total_cmp(const void *a, const void *b)
{
	const struct pw_reason_total *x = a, *y = b;

	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	return x->reason < y->reason ? -1 : x->reason > y->reason;
}

/* The "other" drops of the range's ports, by reason, most first. */
static int range_reasons(struct pw_range_result *res, const struct pw_range *r,
			 const struct pw_snapshot *snap)
{
	uint32_t base = r->proto == PW_PROTO_UDP ? PW_PORTS_PER_PROTO : 0;
	const struct pw_reason_count *c;
	struct pw_reason_total *t;
	uint8_t *in_range = NULL;
	uint32_t port, idx1;
	size_t i, k;

	if (!snap->n_reasons)
		return 0;
	in_range = calloc(PW_DECLARED_MAX, 1);
	res->other_reasons = calloc(snap->n_reasons, sizeof(*res->other_reasons));
	if (!in_range || !res->other_reasons) {
		free(in_range);
		return -ENOMEM;
	}
	for (port = r->first; port <= r->last; port++) {
		idx1 = snap->slots[base + port].index1;
		if (idx1)
			in_range[idx1 - 1] = 1;
	}
	for (i = 0; i < snap->n_reasons; i++) {
		c = &snap->reasons[i];
		if (c->index >= PW_DECLARED_MAX || !in_range[c->index] || !c->count)
			continue;
		for (k = 0; k < res->n_other_reasons; k++)
			if (res->other_reasons[k].reason == c->reason)
				break;
		t = &res->other_reasons[k];
		if (k == res->n_other_reasons) {
			t->reason = c->reason;
			t->count = 0;
			res->n_other_reasons++;
		}
		t->count += c->count;
	}
	qsort(res->other_reasons, res->n_other_reasons,
	      sizeof(*res->other_reasons), reason_total_cmp);
	free(in_range);
	return 0;
}

static int build_range(struct pw_range_result *res, const struct pw_range *r,
		       const struct pw_snapshot *snap, bool strict)
{
	uint32_t base = r->proto == PW_PROTO_UDP ? PW_PORTS_PER_PROTO : 0;
	const struct pw_port_drops *d;
	const struct pw_slot_total *t;
	uint32_t port, hit = 0, k;
	uint64_t dropped;
	enum pw_status st;

	memset(res, 0, sizeof(*res));
	res->range = *r;
	res->ports_declared = pw_range_size(r);
	for (port = r->first; port <= r->last; port++) {
		t = &snap->slots[base + port];
		res->packets += t->unsolicited;
		res->replies += t->replies;
		res->bytes += t->bytes;
		if (t->index1) {
			d = &snap->drops[t->index1 - 1];
			res->firewall_dropped += d->firewall;
			res->no_listener += pw_port_no_listener(t->unsolicited, d);
			res->other_drops += d->other;
			res->refusals_sent += d->refused;
		}
		if (!t->unsolicited)
			continue;
		res->ports_hit++;
		if (t->last_seen_real_ns > res->last_seen_real_ns)
			res->last_seen_real_ns = t->last_seen_real_ns;
	}
	dropped = res->firewall_dropped + res->no_listener + res->other_drops;
	res->delivered = res->packets > dropped ? res->packets - dropped : 0;
	res->status = pw_status_of(res->packets, res->firewall_dropped,
				   res->no_listener, res->other_drops,
				   snap->drops_traced);
	res->reached = res->status == PW_STATUS_REACHED;
	res->warn = res->status == PW_STATUS_NO_LISTENER &&
		    res->ports_declared <= PW_FEW_PORTS;
	res->fails = r->required &&
		     (res->status < PW_STATUS_NO_LISTENER || (strict && res->warn));

	/* The lists of hit ports, sized by the hits, not the range. */
	res->hit_ports = malloc((res->ports_hit ? res->ports_hit : 1) *
				sizeof(*res->hit_ports));
	for (k = 0; k < PW_STATUS_COUNT; k++)
		res->ports_by[k] = malloc((res->ports_hit ? res->ports_hit : 1) *
					  sizeof(*res->ports_by[k]));
	for (k = 0; k < PW_STATUS_COUNT; k++)
		if (!res->ports_by[k])
			return -ENOMEM;
	if (!res->hit_ports)
		return -ENOMEM;
	for (port = r->first; port <= r->last && hit < res->ports_hit; port++) {
		t = &snap->slots[base + port];
		if (!t->unsolicited)
			continue;
		res->hit_ports[hit++] = (uint16_t)port;
		st = t->index1 ? pw_port_fate_of(t->unsolicited,
						 &snap->drops[t->index1 - 1],
						 snap->drops_traced, NULL) :
			 PW_STATUS_REACHED;
		res->ports_by[st][res->n_by[st]++] = (uint16_t)port;
	}
	return range_reasons(res, r, snap);
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
	rep->drops_traced = snap->drops_traced;
	for (i = 0; i < d->n; i++) {
		/* Counted first, so that a failure frees what it allocated. */
		rep->n++;
		err = build_range(&rep->ranges[i], &d->v[i], snap, rep->strict);
		if (err) {
			pw_report_free(rep);
			return err;
		}
		if (rep->ranges[i].fails)
			rep->ok = false;
	}
	memcpy(rep->stats, snap->stats, sizeof(rep->stats));
	rep->now_real_ns = snap->real_ns;
	return 0;
}

void pw_report_free(struct pw_report *rep)
{
	size_t i, k;

	for (i = 0; i < rep->n; i++) {
		free(rep->ranges[i].hit_ports);
		free(rep->ranges[i].other_reasons);
		for (k = 0; k < PW_STATUS_COUNT; k++)
			free(rep->ranges[i].ports_by[k]);
	}
	free(rep->ranges);
	rep->ranges = NULL;
	rep->n = 0;
}
