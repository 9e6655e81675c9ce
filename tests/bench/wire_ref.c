// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* make bench, part 2: the minimal TC counter on the wire. Attaches the
 * bench's ideal per-CPU port counter (ref.bpf.c) at TC ingress of IFACE,
 * says "ready", and at SIGINT/SIGTERM prints "counted N" and detaches.
 *
 *   wire_ref IFACE */
#include <errno.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "ref.skel.h"

int main(int argc, char **argv)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .attach_point = BPF_TC_INGRESS);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts);
	int ncpus = libbpf_num_possible_cpus(), cpu, sig, err, rc = 1;
	unsigned long long total = 0;
	struct ref *ref = NULL;
	bool created = false;
	__u64 *v = NULL;
	sigset_t set;
	__u32 k;

	if (argc != 2 || !(hook.ifindex = (int)if_nametoindex(argv[1]))) {
		fprintf(stderr, "usage: wire_ref IFACE\n");
		return 64;
	}
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigprocmask(SIG_BLOCK, &set, NULL);
	ref = ref__open_and_load();
	v = calloc((size_t)ncpus, sizeof(*v));
	if (!ref || !v)
		goto out;
	err = bpf_tc_hook_create(&hook);
	if (err && err != -EEXIST)
		goto out;
	created = !err;
	opts.prog_fd = bpf_program__fd(ref->progs.ref_tc_counter);
	if (bpf_tc_attach(&hook, &opts))
		goto out;
	printf("ready\n");
	fflush(stdout);
	sigwait(&set, &sig);
	for (k = 0; k < 2 * 65536; k++) {
		if (bpf_map_lookup_elem(bpf_map__fd(ref->maps.ref_ports), &k, v))
			continue;
		for (cpu = 0; cpu < ncpus; cpu++)
			total += v[cpu];
	}
	printf("counted %llu\n", total);
	opts.prog_fd = opts.prog_id = opts.flags = 0;
	bpf_tc_detach(&hook, &opts);
	rc = 0;
out:
	if (created)
		bpf_tc_hook_destroy(&hook);
	if (rc)
		fprintf(stderr, "wire_ref: cannot load or attach (root?)\n");
	free(v);
	ref__destroy(ref);
	return rc;
}
