// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <math.h>
#include <stdint.h>
#include <string.h>
#include "heatmap.h"

#define LABEL_W 7	/* "65535 |" */
#define LEVELS 5	/* shades above "nothing" */

static const char *const utf8_shade[LEVELS + 1] = {
	" ", "\u00b7", "\u2591", "\u2592", "\u2593", "\u2588",
};
static const char *const ascii_shade[LEVELS + 1] = {
	" ", ".", ":", "+", "*", "#",
};

/* 0 for no packet; 1..LEVELS on a log scale up to the busiest cell, so a
 * port with a few packets still shows beside one with millions. */
static unsigned level(uint64_t v, uint64_t max)
{
	double l;

	if (!v)
		return 0;
	if (max <= 1)
		return LEVELS;
	l = log((double)v) / log((double)max);
	return 1 + (unsigned)(l * (LEVELS - 1) + 0.5);
}

/* Cell c's unsolicited packets, and how many of its ports got any. */
static uint64_t cell(const struct pw_range *r, const struct pw_snapshot *snap,
		     uint32_t c, uint32_t bucket, uint32_t *hit)
{
	uint32_t base = r->proto == PW_PROTO_UDP ? PW_PORTS_PER_PROTO : 0, p;
	uint64_t v = 0, n;

	for (p = r->first + c * bucket; p <= r->last && p < r->first + (c + 1) * bucket; p++) {
		n = snap->slots[base + p].unsolicited;
		v += n;
		*hit += n > 0;
	}
	return v;
}

void pw_heatmap_print(FILE *f, const struct pw_range *r,
		      const struct pw_snapshot *snap, unsigned width, bool utf8)
{
	const char *const *shade = utf8 ? utf8_shade : ascii_shade;
	uint32_t size = pw_range_size(r), cols, bucket, cells, c, hit = 0, ignored;
	uint64_t max = 0, v, total = 0;
	uint64_t thresholds[LEVELS + 1];
	char ports[32];
	unsigned k;

	if (width < 24)
		width = 24;
	cols = width - LABEL_W - 1;
	if (cols > 100)
		cols = 100;
	/* One port per cell while the range fits the grid, else buckets. */
	bucket = (size + cols * PW_HEATMAP_ROWS_MAX - 1) / (cols * PW_HEATMAP_ROWS_MAX);
	cells = (size + bucket - 1) / bucket;
	if (cells < cols)
		cols = cells;
	for (c = 0; c < cells; c++) {
		v = cell(r, snap, c, bucket, &hit);
		total += v;
		if (v > max)
			max = v;
	}
	pw_range_ports(r, ports, sizeof(ports));
	fprintf(f, "%s %s/%s: %u of %u ports hit, %llu unsolicited packets; a cell is %u port%s\n",
		r->service, ports, pw_proto_name(r->proto), hit, size,
		(unsigned long long)total, bucket, bucket == 1 ? "" : "s");
	for (c = 0; c < cells; c++) {
		if (c % cols == 0)
			fprintf(f, "%5u |", r->first + c * bucket);
		k = level(cell(r, snap, c, bucket, &ignored), max);
		fputs(shade[k], f);
		if (c % cols == cols - 1 || c == cells - 1)
			fputc('\n', f);
	}
	/* The legend: the smallest count that gets each shade. */
	for (k = 1; k <= LEVELS; k++)
		thresholds[k] = max <= 1 ? 1 :
			(uint64_t)ceil(exp(((double)k - 1.5) / (LEVELS - 1) * log((double)max)));
	fprintf(f, "      ' ' none");
	for (k = 1; k <= LEVELS; k++) {
		/* Shades that share a first count: the top one is drawn. */
		if (k < LEVELS && thresholds[k + 1] <= thresholds[k])
			continue;
		fprintf(f, "  '%s' %s%llu", shade[k], k == 1 ? "" : ">=",
			(unsigned long long)(k == 1 ? 1 : thresholds[k]));
	}
	fprintf(f, " (max %llu)\n", (unsigned long long)max);
}
