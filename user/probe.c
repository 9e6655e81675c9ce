// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <arpa/inet.h>
#include "probe.h"

const char *pw_probe_result_name(int result)
{
	static const char *const names[] = {
		[PW_PROBE_PENDING] = "not-sent",
		[PW_PROBE_SENT] = "sent",
		[PW_PROBE_CONNECTED] = "connected",
		[PW_PROBE_REFUSED] = "refused",
		[PW_PROBE_TIMEOUT] = "timeout",
		[PW_PROBE_UNREACHABLE] = "unreachable",
		[PW_PROBE_ERROR] = "error",
	};

	return result >= 0 && result <= PW_PROBE_ERROR ? names[result] : "?";
}

bool pw_probe_token_ok(const char *token)
{
	size_t n = strlen(token), i;

	if (n == 0 || n > PW_PROBE_TOKEN_MAX)
		return false;
	for (i = 0; i < n; i++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			    "0123456789._-", token[i]))
			return false;
	return true;
}

int pw_probe_token_random(char *buf, size_t len)
{
	unsigned char r[8];
	size_t i;

	if (len < 2 * sizeof(r) + 1)
		return -EINVAL;
	if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
		return -errno;
	for (i = 0; i < sizeof(r); i++) {
		buf[2 * i] = "0123456789abcdef"[r[i] >> 4];
		buf[2 * i + 1] = "0123456789abcdef"[r[i] & 15];
	}
	buf[2 * sizeof(r)] = '\0';
	return 0;
}

void pw_probe_payload_of(const char *token, struct pw_probe_payload *out)
{
	memset(out, 0, sizeof(*out));
	memcpy(out->magic, PW_PROBE_MAGIC, sizeof(out->magic));
	memcpy(out->token, token, strnlen(token, PW_PROBE_TOKEN_MAX));
}

uint32_t pw_probe_sample(const struct pw_range *r, uint32_t sample,
			 uint16_t *out)
{
	uint32_t size = pw_range_size(r), i, n = 0, port, prev = 0;

	if (!sample || size <= sample) {
		for (i = 0; i < size; i++)
			out[i] = (uint16_t)(r->first + i);
		return size;
	}
	if (sample == 1) {
		out[0] = r->first;
		return 1;
	}
	for (i = 0; i < sample; i++) {
		/* Rounded to the nearest, so both ends are hit exactly. */
		port = r->first + (uint32_t)(((uint64_t)i * (size - 1) +
					      (sample - 1) / 2) / (sample - 1));
		if (n && port == prev)
			continue;
		out[n++] = (uint16_t)port;
		prev = port;
	}
	return n;
}

int pw_probe_plan(const struct pw_decls *d, uint32_t sample,
		  struct pw_probe_target **out, size_t *n)
{
	uint8_t *seen = calloc(PW_PORT_SLOTS, 1);
	uint16_t *ports = malloc(PW_PORTS_PER_PROTO * sizeof(*ports));
	struct pw_probe_target *v = NULL, *grown;
	size_t cap = 0, i;
	uint32_t k, m, slot;
	int err = 0;

	*n = 0;
	if (!seen || !ports) {
		err = -ENOMEM;
		goto out;
	}
	for (i = 0; i < d->n; i++) {
		m = pw_probe_sample(&d->v[i], sample, ports);
		for (k = 0; k < m; k++) {
			slot = d->v[i].proto * PW_PORTS_PER_PROTO + ports[k];
			if (seen[slot])
				continue;
			seen[slot] = 1;
			if (*n == cap) {
				cap = cap ? 2 * cap : 256;
				grown = realloc(v, cap * sizeof(*v));
				if (!grown) {
					err = -ENOMEM;
					goto out;
				}
				v = grown;
			}
			v[*n] = (struct pw_probe_target){ .range = &d->v[i],
				.port = ports[k], .proto = d->v[i].proto };
			(*n)++;
		}
	}
out:
	free(seen);
	free(ports);
	if (err) {
		free(v);
		v = NULL;
		*n = 0;
	}
	*out = v;
	return err;
}

static bool host_marked(const struct pw_probe_seen *seen, const __u32 *addr)
{
	size_t i;

	for (i = 0; i < seen->n_hosts; i++)
		if (!memcmp(seen->hosts[i].key.addr, addr,
			    sizeof(seen->hosts[i].key.addr)))
			return true;
	return false;
}

static void add_reason(struct pw_snapshot *snap, uint32_t index,
		       uint32_t reason, uint64_t count)
{
	struct pw_reason_count *r;

	if (!count || snap->n_reasons >= PW_DROP_REASON_ENTRIES)
		return;		/* still in drops[].other, without its reason */
	r = &snap->reasons[snap->n_reasons++];
	r->index = index;
	r->reason = reason;
	r->count = count;
}

/* Sorted, then one entry per (index, reason). */
static void merge_reasons(struct pw_snapshot *snap)
{
	size_t i, n = 0;

	pw_reasons_sort(snap->reasons, snap->n_reasons);
	for (i = 0; i < snap->n_reasons; i++) {
		if (n && snap->reasons[n - 1].index == snap->reasons[i].index &&
		    snap->reasons[n - 1].reason == snap->reasons[i].reason) {
			snap->reasons[n - 1].count += snap->reasons[i].count;
			continue;
		}
		snap->reasons[n++] = snap->reasons[i];
	}
	snap->n_reasons = n;
}

void pw_probe_snapshot(const struct pw_probe_seen *seen, const __u16 *index1,
		       bool traced, struct pw_snapshot *snap,
		       uint64_t *left_syns, size_t *left_hosts)
{
	const struct pw_probe_syn_entry *e;
	const struct pw_probe_count *c;
	struct pw_slot_total *t;
	struct pw_port_drops *d;
	uint32_t slot, idx;
	size_t i, k;

	memset(snap->slots, 0, PW_PORT_SLOTS * sizeof(*snap->slots));
	memset(snap->drops, 0, PW_DECLARED_MAX * sizeof(*snap->drops));
	memset(snap->stats, 0, sizeof(snap->stats));
	snap->n_reasons = 0;
	snap->drops_traced = traced;
	for (slot = 0; slot < PW_PORT_SLOTS; slot++) {
		t = &snap->slots[slot];
		t->index1 = index1[slot];
		t->declared = index1[slot] != 0;
		if (!t->index1 || t->index1 > PW_DECLARED_MAX)
			continue;
		c = &seen->ports[t->index1 - 1];
		d = &snap->drops[t->index1 - 1];
		t->unsolicited = c->arrived;
		d->firewall = c->firewall;
		d->no_listener = c->no_listener;
		d->other = c->other;
	}
	for (i = 0; i < seen->n_reasons; i++)
		add_reason(snap, seen->reasons[i].index, seen->reasons[i].reason,
			   seen->reasons[i].count);

	*left_syns = 0;
	*left_hosts = 0;
	for (i = 0; i < seen->n_syns; i++) {
		e = &seen->syns[i];
		if (!host_marked(seen, e->key.addr)) {
			*left_syns += e->val.c.arrived;
			/* Counted once, at its first entry. */
			for (k = 0; k < i; k++)
				if (!memcmp(seen->syns[k].key.addr, e->key.addr,
					    sizeof(e->key.addr)))
					break;
			*left_hosts += k == i;
			continue;
		}
		slot = e->key.slot;
		if (slot >= PW_PORT_SLOTS || !index1[slot] ||
		    index1[slot] > PW_DECLARED_MAX)
			continue;
		idx = index1[slot] - 1u;
		snap->slots[slot].unsolicited += e->val.c.arrived;
		snap->drops[idx].firewall += e->val.c.firewall;
		snap->drops[idx].no_listener += e->val.c.no_listener;
		snap->drops[idx].other += e->val.c.other;
		add_reason(snap, idx, e->val.other_reason, e->val.c.other);
	}
	merge_reasons(snap);
	snap->stats[PW_STAT_PROBE_LOST] = seen->lost;
}

void pw_probe_seen_free(struct pw_probe_seen *seen)
{
	free(seen->ports);
	free(seen->syns);
	free(seen->hosts);
	free(seen->reasons);
	memset(seen, 0, sizeof(*seen));
}

void pw_probe_host_name(const struct pw_probe_host_key *h, char *buf,
			size_t len)
{
	/* ::ffff:a.b.c.d, as the programs keep an IPv4 address */
	if (!h->addr[0] && !h->addr[1] && h->addr[2] == htonl(0xffff))
		inet_ntop(AF_INET, &h->addr[3], buf, (socklen_t)len);
	else
		inet_ntop(AF_INET6, h->addr, buf, (socklen_t)len);
}
