/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* show --heatmap: a declared range as a grid of cells, one per port or
 * per bucket of ports, shaded by unsolicited packets. */
#ifndef PW_HEATMAP_H
#define PW_HEATMAP_H

#include <stdbool.h>
#include <stdio.h>
#include "counters.h"

#define PW_HEATMAP_ROWS_MAX 16

/* Draws r from snap's totals in width columns (at least 24); utf8 picks
 * block shades, else ASCII. */
void pw_heatmap_print(FILE *f, const struct pw_range *r,
		      const struct pw_snapshot *snap, unsigned width, bool utf8);

#endif
