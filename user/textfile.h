/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The Prometheus export: text format 0.0.4 for node_exporter's textfile
 * collector, written atomically. The metric names, types and labels are
 * a public interface (docs/metrics.md). */
#ifndef PW_TEXTFILE_H
#define PW_TEXTFILE_H

#include <stdio.h>
#include "counters.h"

/* node_exporter's textfile directory on Debian; watch writes
 * PW_TEXTFILE_NAME there when it exists and no --textfile is given. */
#define PW_TEXTFILE_DIR "/var/lib/prometheus/node-exporter"
#define PW_TEXTFILE_NAME "portwitness.prom"
/* Ranges of at most this many ports also get a series per port. */
#define PW_TEXTFILE_PORT_SERIES_MAX 64

/* Every family for rep (built from 64-bit totals, pw_snapshot_take_totals)
 * and the per-port totals in snap; rep->mode and rep->iface label them,
 * rep->now_real_ns is the export time. No sample timestamps. */
int pw_textfile_render(FILE *f, const struct pw_report *rep,
		       const struct pw_snapshot *snap);
/* Replaces path with the len bytes of text: a temporary file in the same
 * directory, fsync, mode 0644, rename, fsync of the directory. On any
 * failure the previous file stays as it was; returns 0 or -errno with
 * what failed in err ("cannot write it: No space left on device"). */
int pw_textfile_replace(const char *path, const char *text, size_t len,
			char *err, size_t errlen);

/* Renders rep and snap and replaces path with it: 0, or -errno with what
 * failed in err. */
int pw_textfile_write(const char *path, const struct pw_report *rep,
		      const struct pw_snapshot *snap, char *err, size_t errlen);

#endif
