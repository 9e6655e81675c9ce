// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* detach: take portwitness off an interface and drop its pinned counters.
 * Works when the interface is gone, and on maps of an older layout. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include "cli.h"
#include "instance.h"
#include "log.h"

static void usage(FILE *f)
{
	fprintf(f,
"usage: portwitness detach -i IFACE\n"
"\n"
"Removes portwitness's programs from IFACE (only its own, also those of a\n"
"verify killed with SIGKILL, and of a verify still running) and the\n"
"counters pinned under /sys/fs/bpf/portwitness/IFACE/. The counters start\n"
"again from zero at the next watch. A running watch should be stopped\n"
"instead.\n"
"\n"
"  -i, --interface IFACE\n"
"  -h, --help\n");
}

int cmd_detach(int argc, char **argv)
{
	static const struct option opts[] = {
		PW_BASE_OPTIONS,
		{ 0 },
	};
	struct pw_cli c = { .cmd = "detach", .usage = usage };
	struct pw_session s;
	struct pw_iface iface;
	bool had_pins;
	int rc, err, strays;

	rc = pw_cli_parse(&c, argc, argv, "i:vh", opts, NULL, NULL);
	if (rc >= 0)
		return rc;
	/* A deleted interface still has pins to remove, by name. */
	if (c.ifname && pw_iface_name_ok(c.ifname) && !if_nametoindex(c.ifname)) {
		memset(&iface, 0, sizeof(iface));
		snprintf(iface.name, sizeof(iface.name), "%s", c.ifname);
	} else {
		rc = pw_cli_interface(c.ifname, &iface);
		if (rc)
			return rc;
	}

	pw_log_libbpf();
	pw_session_init(&s, &iface);
	err = pw_bpffs_ensure();
	if (err < 0)
		return pw_cli_runtime(err);
	err = pw_session_open_pinned(&s);
	had_pins = err != -ENOENT;
	if (!err && s.inst.owner_pid && pw_session_running(&s))
		pw_warn("the watch (pid %u) that attached to %s loses its counters; stop it with SIGTERM instead to keep them\n",
			s.inst.owner_pid, iface.name);
	if (!err && iface.ifindex)
		err = pw_session_detach(&s);
	if (err && err != -ENOENT && err != -EPROTO) {
		pw_session_close(&s);
		return pw_cli_runtime(err);
	}
	/* Ours that no record names: a verify killed with SIGKILL. */
	strays = iface.ifindex ? pw_session_remove_strays(&s) : 0;
	pw_session_close(&s);
	if (strays < 0) {
		pw_err("cannot list the filters of %s: %s\n", iface.name,
		       strerror(-strays));
		return pw_cli_runtime(strays);
	}
	if (had_pins) {
		err = pw_session_unpin(&s);
		if (err) {
			pw_err("cannot remove %s: %s\n", s.pin_dir, strerror(-err));
			return pw_cli_runtime(err);
		}
		pw_info("detached from %s; counters removed\n", iface.name);
	}
	if (strays)
		pw_info("removed %d portwitness program%s from %s that nothing recorded (a verify killed with SIGKILL?)\n",
			strays, strays == 1 ? "" : "s", iface.name);
	if (!had_pins && !strays)
		pw_info("nothing of portwitness on %s\n", iface.name);
	return PW_EXIT_OK;
}
