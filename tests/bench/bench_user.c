// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* make bench, parts 3 and 4: what userspace costs and what the maps
 * weigh. Loads the programs (not attached) with private maps, declares
 * plugNmeet and Snikket (26,400 ports), puts a count on every declared
 * port on every CPU, then times, 100 times over, what watch does every
 * interval: read every slot of every CPU, fold to 64 bits, aggregate the
 * declared ranges, render the Prometheus textfile and replace it (temp
 * file, fsync, rename). Prints the median.
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

int main(int argc, char **argv)
{
	static const char *const profiles[] = { "plugnmeet", "snikket" };
	const char *dir = argc > 1 ? argv[1] : "/tmp";
	char path[4096];
	double t[ROUNDS], t0, total_mem = 0, budget;
	struct pw_snapshot snap = {};
	struct pw_decls d = {};
	struct pw_report rep = {};
	struct pw_session s;
	struct pw_iface lo = { .name = "lo", .ifindex = 1 };
	char err[PW_ERR_MAX];
	uint32_t ports = 0;
	size_t i;
	int k, rc = 1;

	pw_log_libbpf();
	for (i = 0; i < 2; i++)
		if (pw_decls_add_profile(&d, profiles[i], err, sizeof(err))) {
			fprintf(stderr, "bench_user: %s\n", err);
			return 1;
		}
	for (i = 0; i < d.n; i++)
		ports += pw_range_size(&d.v[i]);
	pw_session_init(&s, &lo);
	if (pw_session_load(&s, false, PW_MODE_TC) || pw_session_declare(&s, &d) ||
	    fill(&s) || pw_snapshot_alloc(&snap)) {
		fprintf(stderr, "bench_user: cannot load and fill the maps (root?)\n");
		goto out;
	}
	snprintf(path, sizeof(path), "%s/portwitness.prom", dir);
	for (k = 0; k < ROUNDS; k++) {
		t0 = now_ms();
		if (pw_snapshot_fold(&s, &snap)) {
			fprintf(stderr, "bench_user: reading failed\n");
			goto out;
		}
		if (pw_report_build(&rep, &d, &snap)) {
			fprintf(stderr, "bench_user: out of memory\n");
			goto out;
		}
		rep.mode = "tc";
		snprintf(rep.iface, sizeof(rep.iface), "eth0");
		rep.now_real_ns = snap.real_ns;
		if (pw_textfile_write(path, &rep, &snap, err, sizeof(err))) {
			fprintf(stderr, "bench_user: %s: %s\n", path, err);
			goto out;
		}
		t[k] = now_ms() - t0;
		pw_report_free(&rep);
	}
	qsort(t, ROUNDS, sizeof(t[0]), cmp_double);
	printf("userspace, a watch interval: read %u slots x %d CPUs + %u other slots, fold, aggregate %zu ranges (%u ports), textfile write + fsync + rename\n",
	       PW_DECLARED_MAX, libbpf_num_possible_cpus(), PW_PORT_SLOTS, d.n, ports);
	printf("  median %.2f ms, min %.2f ms, max %.2f ms of %d\n", t[ROUNDS / 2],
	       t[0], t[ROUNDS - 1], ROUNDS);
	printf("result user.read_aggregate_write_ms %.3f\n", t[ROUNDS / 2]);

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
	pw_decls_free(&d);
	return rc;
}
