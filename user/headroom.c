// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Activity is taken at the watch's folds: a port is active when its
 * counts grew at a fold within the window, so the window is as fine as
 * the watch's interval. The peak lives in pw_hist with the counters. */
#include <string.h>
#include <time.h>
#include "headroom.h"
#include "report.h"

bool pw_is_media_range(const struct pw_range *r)
{
	return r->proto == PW_PROTO_UDP && pw_range_size(r) > PW_FEW_PORTS;
}

enum pw_media_kind pw_media_kind_of(const char *service)
{
	if (strcasestr(service, "livekit") || strcasestr(service, "plugnmeet"))
		return PW_MEDIA_LIVEKIT;
	if (strcasestr(service, "snikket") || strcasestr(service, "turn"))
		return PW_MEDIA_TURN;
	return PW_MEDIA_PORTS;
}

void pw_headroom_of(const struct pw_range *r, uint32_t peak,
		    struct pw_headroom *out)
{
	uint32_t per;

	memset(out, 0, sizeof(*out));
	out->kind = pw_media_kind_of(r->service);
	out->declared = pw_range_size(r);
	out->peak = peak;
	out->known = peak > 0;
	per = out->kind == PW_MEDIA_TURN ? 4 : out->kind == PW_MEDIA_LIVEKIT ? 2 : 1;
	out->implied = (peak + per - 1) / per;
	out->suggested = (uint32_t)(((uint64_t)peak * (100 + PW_HEADROOM_PCT) + 99) / 100);
	out->enough = out->declared >= out->suggested;
}

uint32_t pw_range_active(const struct pw_hist_table *h,
			 const struct pw_decl_table *decl,
			 const struct pw_range *r, uint64_t now_ns,
			 uint32_t window_s)
{
	uint32_t base = r->proto == PW_PROTO_UDP ? PW_PORTS_PER_PROTO : 0;
	uint64_t since = (uint64_t)window_s * 1000000000ull;
	uint32_t port, idx, n = 0;
	uint64_t at;

	for (port = r->first; port <= r->last; port++) {
		idx = decl->index1[base + port];
		if (!idx || idx > PW_DECLARED_MAX)
			continue;
		at = h->port[idx - 1].active_ns;
		n += at && at <= now_ns && now_ns - at < since;
	}
	return n;
}

static bool same_range(const struct pw_hist_peak *p, const struct pw_range *r)
{
	return p->last && p->proto == r->proto && p->first == r->first &&
	       p->last == r->last;
}

const struct pw_hist_peak *pw_hist_peak_find(const struct pw_hist_table *h,
					     const struct pw_range *r)
{
	size_t i;

	for (i = 0; i < PW_HIST_PEAKS; i++)
		if (same_range(&h->peak[i], r))
			return &h->peak[i];
	return NULL;
}

void pw_hist_peak_update(struct pw_hist_table *h, const struct pw_range *r,
			 uint32_t active, uint64_t now_ns, uint32_t window_s)
{
	struct pw_hist_peak *p = (struct pw_hist_peak *)pw_hist_peak_find(h, r);
	size_t i;

	if (!p) {
		/* A free entry, else the one looked at longest ago. */
		p = &h->peak[0];
		for (i = 0; i < PW_HIST_PEAKS && p->last; i++)
			if (!h->peak[i].last || h->peak[i].seen_ns < p->seen_ns)
				p = &h->peak[i];
		memset(p, 0, sizeof(*p));
		p->proto = (__u16)r->proto;
		p->first = r->first;
		p->last = r->last;
	}
	p->seen_ns = now_ns;
	if (active > p->active || !p->at_ns) {
		p->active = active;
		p->window_s = window_s;
		p->at_ns = active ? now_ns : 0;
	}
}

void pw_report_activity(struct pw_report *rep, struct pw_hist_table *h,
			const struct pw_decl_table *decl, bool update)
{
	const struct pw_hist_peak *p;
	struct pw_range_result *r;
	uint64_t now = h->folded_ns;
	uint32_t window = h->window_s ? h->window_s : PW_ACTIVE_WINDOW_S;
	size_t i;

	if (!now)
		return;
	if (update)
		pw_hist_seq_bump(h);
	for (i = 0; i < rep->n; i++) {
		r = &rep->ranges[i];
		r->ports_active = pw_range_active(h, decl, &r->range, now, window);
		if (update)
			pw_hist_peak_update(h, &r->range, r->ports_active, now,
					    window);
		p = pw_hist_peak_find(h, &r->range);
		r->ports_active_peak = p ? p->active : r->ports_active;
		r->peak_real_ns = p ? p->at_ns : 0;
		if (r->ports_active > r->ports_active_peak) {
			/* Not yet recorded (show before the watch's next fold). */
			r->ports_active_peak = r->ports_active;
			r->peak_real_ns = now;
		}
	}
	if (update)
		pw_hist_seq_bump(h);
	rep->activity = true;
	rep->window_s = window;
	rep->activity_real_ns = now;
}

static const char *kind_unit(enum pw_media_kind k, uint32_t n)
{
	switch (k) {
	case PW_MEDIA_TURN:
		return n == 1 ? "call" : "calls";
	case PW_MEDIA_LIVEKIT:
		return n == 1 ? "participant" : "participants";
	default:
		return NULL;
	}
}

static void utc(uint64_t real_ns, char *buf, size_t len)
{
	time_t t = (time_t)(real_ns / 1000000000ull);
	struct tm tm;

	if (!real_ns || !gmtime_r(&t, &tm))
		snprintf(buf, len, "-");
	else
		strftime(buf, len, "%Y-%m-%d %H:%M UTC", &tm);
}

void pw_headroom_print(FILE *f, const struct pw_report *rep)
{
	const struct pw_range_result *r;
	struct pw_headroom hr;
	char ports[16], when[32], implies[48], asof[32];
	const char *unit;
	size_t i, media = 0;
	int wsvc = 7, n;

	for (i = 0; i < rep->n; i++) {
		n = (int)strlen(rep->ranges[i].range.service);
		if (pw_is_media_range(&rep->ranges[i].range) && n > wsvc)
			wsvc = n;
	}
	if (!rep->activity) {
		fprintf(f, "no watch has counted on %s yet: the ports in use are taken at its every interval ('portwitness watch -i %s')\n",
			rep->iface, rep->iface);
		return;
	}
	utc(rep->activity_real_ns, asof, sizeof(asof));
	fprintf(f, "headroom of the media ranges on %s: ports with packets within %u s, as of %s; peaks since the counters began\n\n",
		rep->iface, rep->window_s, asof);
	fprintf(f, "%-*s  %-5s  %-11s  %8s  %6s  %6s  %-20s  %-20s  %-8s  %s\n",
		wsvc, "SERVICE", "PROTO", "PORTS", "DECLARED", "ACTIVE", "PEAK",
		"PEAK AT", "PEAK NEEDS", "HEADROOM", "SUGGESTED");
	for (i = 0; i < rep->n; i++) {
		r = &rep->ranges[i];
		if (!pw_is_media_range(&r->range))
			continue;
		media++;
		pw_headroom_of(&r->range, r->ports_active_peak, &hr);
		pw_range_ports(&r->range, ports, sizeof(ports));
		utc(r->peak_real_ns, when, sizeof(when));
		unit = kind_unit(hr.kind, hr.implied);
		if (unit)
			snprintf(implies, sizeof(implies), "%u %s", hr.implied, unit);
		else
			snprintf(implies, sizeof(implies), "%u ports", hr.peak);
		fprintf(f, "%-*s  %-5s  %-11s  %8u  %6u  %6u  %-20s  %-20s  %-8s  ",
			wsvc, r->range.service, pw_proto_name(r->range.proto),
			ports, hr.declared, r->ports_active, hr.peak, when,
			hr.known ? implies : "-",
			!hr.known ? "-" : hr.enough ? "yes" : "NO");
		if (hr.known)
			fprintf(f, "%u%s\n", hr.suggested,
				!hr.enough ? " (too small: grow it)" :
				hr.suggested < hr.declared ? " (enough; smaller fits a tight router)" : "");
		else
			fprintf(f, "- (no port in use yet)\n");
	}
	if (!media) {
		fprintf(f, "(no declared UDP range of more than %u ports)\n",
			PW_FEW_PORTS);
		return;
	}
	fprintf(f, "\nA TURN call uses at most 4 ports at once (Snikket's docs), a LiveKit participant 2; the suggestion is the peak plus %u%%.\n",
		PW_HEADROOM_PCT);
}
