// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* make bench, parts 3 and 4: what userspace costs and what the maps
 * weigh. Loads the programs (not attached) with private maps, declares
 * ports, puts a count on every declared port on every CPU, then times,
 * 100 times over, what watch does every interval: read every slot of every
 * CPU, fold to 64 bits, aggregate the declared ranges, render the
 * Prometheus textfile and replace it (temp file, fsync, rename). Prints
 * the medians, for three declarations: one port; plugNmeet and Snikket
 * (15 ranges, 26,402 ports: the target's); and the most there can be,
 * 4,096 ranges of 8 ports (32,768 ports). Each is declared in maps of its
 * own, since a port's index is never handed out twice.
 *
 * Output: a table, then "result KEY VALUE" lines. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "counters.h"
#include "instance.h"
#include "log.h"
#include "report.h"
#include "textfile.h"

#define ROUNDS 100

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Every declared port gets a count on every CPU, so nothing is skipped. */
static int fill(struct pw_session *s)
{
	int ncpus = libbpf_num_possible_cpus(), i;
	struct pw_port_count *v = calloc((size_t)ncpus, sizeof(*v));
	__u32 k;

	if (!v)
		return -ENOMEM;
	for (i = 0; i < ncpus; i++) {
		v[i].unsolicited = 3;
		v[i].replies = 1;
		v[i].bytes = 400;
	}
	for (k = 0; k < PW_DECLARED_MAX; k++)
		if (bpf_map_update_elem(s->map_fd[PW_MAP_COUNTS], &k, v, BPF_ANY))
			return -errno;
	free(v);
	return 0;
}

/* The most a declaration can be: PW_RANGES_MAX ranges of 8 UDP ports,
 * 32768-65535, in 64 services. */
static int declare_most(struct pw_decls *d, char *err, size_t errlen)
{
	char service[PW_SERVICE_MAX];
	uint32_t i, first;

	for (i = 0; i < PW_RANGES_MAX; i++) {
		first = 32768 + i * 8;
		snprintf(service, sizeof(service), "service%02u", i / 64);
		if (pw_decls_add(d, service, PW_PROTO_UDP, (uint16_t)first,
				 (uint16_t)(first + 7), false)) {
			snprintf(err, errlen, "cannot declare %u ranges", PW_RANGES_MAX);
			return -1;
		}
	}
	return 0;
}

static int declare_profiles(struct pw_decls *d, char *err, size_t errlen)
{
	static const char *const profiles[] = { "plugnmeet", "snikket" };
	size_t i;

	for (i = 0; i < 2; i++)
		if (pw_decls_add_profile(d, profiles[i], err, errlen))
			return -1;
	return 0;
}

static int declare_one(struct pw_decls *d, char *err, size_t errlen)
{
	if (pw_decls_add(d, "web", PW_PROTO_TCP, 443, 443, true)) {
		snprintf(err, errlen, "cannot declare 443/tcp");
		return -1;
	}
	return 0;
}

struct timed {
	const char *what;
	const char *key;	/* of its result lines */
	int (*declare)(struct pw_decls *d, char *err, size_t errlen);
	size_t ranges;
	uint32_t ports;
	double read_ms, rest_ms, all_ms, min_ms, max_ms;	/* medians, extremes */
};

static double median(double *t)
{
	qsort(t, ROUNDS, sizeof(t[0]), cmp_double);
	return t[ROUNDS / 2];
}

/* Declares tm's ports in maps of their own and times ROUNDS intervals. */
static int time_intervals(struct timed *tm, struct pw_snapshot *snap,
			  const char *path)
{
	double read[ROUNDS], rest[ROUNDS], all[ROUNDS], t0, t1;
	struct pw_iface lo = { .name = "lo", .ifindex = 1 };
	struct pw_decls d = {};
	struct pw_report rep = {};
	struct pw_session s;
	char err[PW_ERR_MAX];
	int k, rc = -1;
	size_t i;

	pw_session_init(&s, &lo);
	if (tm->declare(&d, err, sizeof(err))) {
		fprintf(stderr, "bench_user: %s\n", err);
		goto out;
	}
	tm->ranges = d.n;
	for (i = 0; i < d.n; i++)
		tm->ports += pw_range_size(&d.v[i]);
	if (pw_session_load(&s, false, PW_MODE_TC) || pw_session_declare(&s, &d) ||
	    fill(&s)) {
		fprintf(stderr, "bench_user: cannot load and fill the maps (root?)\n");
		goto out;
	}
	for (k = 0; k < ROUNDS; k++) {
		t0 = now_ms();
		if (pw_snapshot_fold(&s, snap)) {
			fprintf(stderr, "bench_user: reading failed\n");
			goto out;
		}
		t1 = now_ms();
		if (pw_report_build(&rep, &d, snap)) {
			fprintf(stderr, "bench_user: out of memory\n");
			goto out;
		}
		rep.mode = "tc";
		snprintf(rep.iface, sizeof(rep.iface), "eth0");
		rep.now_real_ns = snap->real_ns;
		if (pw_textfile_write(path, &rep, snap, err, sizeof(err))) {
			fprintf(stderr, "bench_user: %s: %s\n", path, err);
			pw_report_free(&rep);
			goto out;
		}
		pw_report_free(&rep);
		all[k] = now_ms() - t0;
		read[k] = t1 - t0;
		rest[k] = all[k] - read[k];
	}
	tm->read_ms = median(read);
	tm->rest_ms = median(rest);
	tm->all_ms = median(all);	/* sorts all */
	tm->min_ms = all[0];
	tm->max_ms = all[ROUNDS - 1];
	rc = 0;
out:
	pw_session_close(&s);
	pw_decls_free(&d);
	return rc;
}

int main(int argc, char **argv)
{
	struct timed tms[] = {
		{ .what = "one port (443/tcp)", .key = "one_port",
		  .declare = declare_one },
		{ .what = "plugNmeet + Snikket", .key = "profiles",
		  .declare = declare_profiles },
		{ .what = "the most: 4096 ranges of 8", .key = "most",
		  .declare = declare_most },
	};
	const char *dir = argc > 1 ? argv[1] : "/tmp";
	char path[4096];
	double total_mem = 0, budget;
	struct pw_iface lo = { .name = "lo", .ifindex = 1 };
	struct pw_snapshot snap = {};
	struct pw_session s;
	size_t i;
	int k, rc = 1;

	pw_log_libbpf();
	pw_session_init(&s, &lo);
	if (pw_snapshot_alloc(&snap)) {
		fprintf(stderr, "bench_user: out of memory\n");
		goto out;
	}
	snprintf(path, sizeof(path), "%s/portwitness.prom", dir);
	for (i = 0; i < sizeof(tms) / sizeof(tms[0]); i++)
		if (time_intervals(&tms[i], &snap, path))
			goto out;
	printf("userspace, a watch interval: read %u slots x %d CPUs + %u other slots and fold them (read), aggregate the declared ranges and write the textfile with fsync and rename (the rest); medians of %d, ms\n",
	       PW_DECLARED_MAX, libbpf_num_possible_cpus(), PW_PORT_SLOTS, ROUNDS);
	printf("%-28s %7s %7s %8s %8s %8s %8s %8s\n", "declared", "ranges",
	       "ports", "read", "rest", "all", "min", "max");
	for (i = 0; i < sizeof(tms) / sizeof(tms[0]); i++) {
		printf("%-28s %7zu %7u %8.2f %8.2f %8.2f %8.2f %8.2f\n", tms[i].what,
		       tms[i].ranges, tms[i].ports, tms[i].read_ms, tms[i].rest_ms,
		       tms[i].all_ms, tms[i].min_ms, tms[i].max_ms);
		printf("result user.%s.ms %.3f\n", tms[i].key, tms[i].all_ms);
	}
	/* The target's: plugNmeet and Snikket. */
	printf("result user.read_aggregate_write_ms %.3f\n", tms[1].all_ms);

	/* What the maps weigh does not depend on what is declared. */
	if (pw_session_load(&s, false, PW_MODE_TC)) {
		fprintf(stderr, "bench_user: cannot load the maps\n");
		goto out;
	}
	printf("\nmemory (what the kernel charges, memlock):\n");
	for (k = 0; k < PW_MAP_COUNT; k++) {
		double m = (double)pw_map_memory(s.map_fd[k]);

		printf("  %-12s %10.0f bytes\n", pw_map_name(k), m);
		printf("result mem.%s %.0f\n", pw_map_name(k), m);
		total_mem += m;
	}
	budget = 8.0 * 1048576 + 1048576.0 * libbpf_num_possible_cpus();
	printf("  %-12s %10.0f bytes (%.2f MiB); budget 8 MiB + 1 MiB x %d possible CPUs = %.0f MiB\n",
	       "total", total_mem, total_mem / 1048576, libbpf_num_possible_cpus(),
	       budget / 1048576);
	printf("  per CPU: pw_counts %zu + pw_other %zu + pw_stats %zu bytes\n",
	       PW_DECLARED_MAX * sizeof(struct pw_port_count),
	       PW_OTHER_ENTRIES * sizeof(struct pw_other_count),
	       PW_STAT_COUNT * sizeof(__u64));
	printf("result mem.total %.0f\nresult mem.budget %.0f\n", total_mem, budget);
	rc = 0;
out:
	pw_session_close(&s);
	pw_snapshot_free(&snap);
	return rc;
}
