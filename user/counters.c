// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
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

int pw_snapshot_take(const struct pw_session *s, struct pw_snapshot *snap)
{
	int ncpus = libbpf_num_possible_cpus();
	uint64_t *percpu;
	__u32 key;
	int cpu;

	if (ncpus <= 0)
		return ncpus ? ncpus : -EINVAL;
	percpu = calloc((size_t)ncpus, sizeof(*percpu));
	if (!percpu)
		return -ENOMEM;
	snap->mono_ns = clock_ns(CLOCK_MONOTONIC_COARSE);
	snap->real_ns = clock_ns(CLOCK_REALTIME);
	memcpy(snap->slots, s->ports, PW_PORT_SLOTS * sizeof(*snap->slots));
	for (key = 0; key < PW_STAT_COUNT; key++) {
		snap->stats[key] = 0;
		if (bpf_map_lookup_elem(s->map_fd[PW_MAP_STATS], &key, percpu))
			continue;
		for (cpu = 0; cpu < ncpus; cpu++)
			snap->stats[key] += percpu[cpu];
	}
	free(percpu);
	return 0;
}

uint64_t pw_snapshot_wall_ns(const struct pw_snapshot *snap, uint64_t mono_ns)
{
	return mono_ns ? snap->real_ns - snap->mono_ns + mono_ns : 0;
}

static uint64_t delta(uint64_t before, uint64_t after)
{
	return after >= before ? after - before : after;
}

/* Unsolicited packets of one slot between the snapshots. */
static uint64_t unsolicited_of(const struct pw_snapshot *before,
			       const struct pw_snapshot *after, uint32_t slot)
{
	return delta(before ? before->slots[slot].unsolicited : 0,
		     after->slots[slot].unsolicited);
}

static int build_range(struct pw_range_result *res, const struct pw_range *r,
		       const struct pw_snapshot *before,
		       const struct pw_snapshot *after)
{
	uint32_t base = r->proto == PW_PROTO_UDP ? PW_PORTS_PER_PROTO : 0;
	uint64_t newest = 0, unsolicited;
	const struct pw_port_slot *a, *b;
	uint32_t port, hit = 0;

	memset(res, 0, sizeof(*res));
	res->range = *r;
	res->ports_declared = pw_range_size(r);
	for (port = r->first; port <= r->last; port++) {
		b = &after->slots[base + port];
		a = before ? &before->slots[base + port] : NULL;
		unsolicited = unsolicited_of(before, after, base + port);
		res->packets += unsolicited;
		res->replies += delta(a ? a->replies : 0, b->replies);
		res->bytes += delta(a ? a->bytes : 0, b->bytes);
		if (!unsolicited)
			continue;
		res->ports_hit++;
		if (b->last_unsolicited_ns > newest)
			newest = b->last_unsolicited_ns;
	}
	/* The list of hit ports, sized by the hits, not the range. */
	res->hit_ports = malloc((res->ports_hit ? res->ports_hit : 1) *
				sizeof(*res->hit_ports));
	if (!res->hit_ports)
		return -ENOMEM;
	for (port = r->first; port <= r->last && hit < res->ports_hit; port++)
		if (unsolicited_of(before, after, base + port))
			res->hit_ports[hit++] = (uint16_t)port;
	res->last_seen_real_ns = pw_snapshot_wall_ns(after, newest);
	res->reached = res->ports_hit > 0;
	return 0;
}

int pw_report_build(struct pw_report *rep, const struct pw_decls *d,
		    const struct pw_snapshot *before,
		    const struct pw_snapshot *after)
{
	size_t i;
	int err, k;

	rep->ranges = calloc(d->n ? d->n : 1, sizeof(*rep->ranges));
	if (!rep->ranges)
		return -ENOMEM;
	rep->n = 0;
	rep->ok = true;
	for (i = 0; i < d->n; i++) {
		err = build_range(&rep->ranges[i], &d->v[i], before, after);
		if (err) {
			pw_report_free(rep);
			return err;
		}
		rep->n++;
		if (d->v[i].required && !rep->ranges[i].reached)
			rep->ok = false;
	}
	for (k = 0; k < PW_STAT_COUNT; k++)
		rep->stats[k] = delta(before ? before->stats[k] : 0,
				      after->stats[k]);
	rep->now_real_ns = after->real_ns;
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
