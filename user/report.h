/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef PW_REPORT_H
#define PW_REPORT_H

#include <stdio.h>
#include "counters.h"
#include "json.h"

/* The verify contract, documented in docs/json.md. */
void pw_report_print_json(FILE *f, const struct pw_report *rep);
/* The "ranges" array of verify and show. */
void pw_report_json_ranges(struct pw_json *j, const struct pw_report *rep);
/* How many ranges are required; *reached how many of them were. */
size_t pw_report_required(const struct pw_report *rep, size_t *reached);
/* "; silent: SERVICE PORTS/PROTO, ...; no-listener: ..." for required
 * ranges not reached, by status, worst first; nothing when all were; no
 * newline. */
void pw_report_print_problems(FILE *f, const struct pw_report *rep);
/* A line on f for each few-port range with no listener. */
void pw_report_print_warnings(FILE *f, const struct pw_report *rep);
/* A table per range, then which required ranges stayed silent. */
void pw_report_print_table(FILE *f, const struct pw_report *rep);
const char *pw_range_status(const struct pw_range_result *res);
const char *pw_status_name(enum pw_status st);
/* "6000-6049,6051", cut short with "... N more" to fit len. */
void pw_format_port_list(const uint16_t *ports, size_t n, char *buf,
			 size_t len);
/* "4s ago", "3m ago", "-" */
void pw_format_ago(uint64_t then_ns, uint64_t now_ns, char *buf, size_t len);

#endif
