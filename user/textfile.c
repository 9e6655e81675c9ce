// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "drops.h"
#include "json.h"
#include "textfile.h"

/* A label value: backslash, double quote and newline escaped, and UTF-8
 * as the format demands (a byte that is not becomes U+FFFD): one bad
 * service name must not make node_exporter skip the whole file. */
static void put_label(FILE *f, const char *name, const char *v, bool first)
{
	const unsigned char *s = (const unsigned char *)v;
	size_t n;

	fprintf(f, "%s%s=\"", first ? "" : ",", name);
	while (*s) {
		if (*s == '\\' || *s == '"') {
			fputc('\\', f);
			fputc(*s++, f);
		} else if (*s == '\n') {
			fputs("\\n", f);
			s++;
		} else if ((n = pw_utf8_len(s)) == 0) {
			fputs("\xef\xbf\xbd", f);
			s++;
		} else {
			fwrite(s, 1, n, f);
			s += n;
		}
	}
	fputc('"', f);
}

static void family(FILE *f, const char *name, const char *type,
		   const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* name{interface="..",service="..",proto="..",ports=".." */
static void range_series(FILE *f, const char *name, const struct pw_report *rep,
			 const struct pw_range_result *r)
{
	char ports[32];

	pw_range_ports(&r->range, ports, sizeof(ports));
	fprintf(f, "%s{", name);
	put_label(f, "interface", rep->iface, true);
	put_label(f, "service", r->range.service, false);
	put_label(f, "proto", pw_proto_name(r->range.proto), false);
	put_label(f, "ports", ports, false);
}

static void iface_series(FILE *f, const char *name, const struct pw_report *rep)
{
	fprintf(f, "%s{", name);
	put_label(f, "interface", rep->iface, true);
	fputs("} ", f);
}

enum range_value { RV_PACKETS, RV_REPLIES, RV_BYTES, RV_DECLARED, RV_HIT };

static const struct {
	const char *name, *type, *help;
} range_families[] = {
	[RV_PACKETS] = { "portwitness_packets_total", "counter",
		"Unsolicited inbound packets (flows the remote side began) to the range's ports." },
	[RV_REPLIES] = { "portwitness_replies_total", "counter",
		"Inbound packets of flows this host began, to the range's ports." },
	[RV_BYTES] = { "portwitness_bytes_total", "counter",
		"IP bytes of inbound packets of both kinds to the range's ports." },
	[RV_DECLARED] = { "portwitness_ports_declared", "gauge",
		"Ports in the declared range." },
	[RV_HIT] = { "portwitness_ports_hit", "gauge",
		"Ports of the range that got unsolicited packets since the counters began." },
};

static uint64_t range_value(const struct pw_range_result *r, enum range_value v)
{
	switch (v) {
	case RV_PACKETS: return r->packets;
	case RV_REPLIES: return r->replies;
	case RV_BYTES: return r->bytes;
	case RV_DECLARED: return r->ports_declared;
	case RV_HIT: return r->ports_hit;
	}
	return 0;
}

static double seconds(uint64_t ns)
{
	return (double)ns / 1e9;
}

static void drop_series(FILE *f, const struct pw_report *rep,
			const struct pw_range_result *r, const char *reason,
			uint64_t v)
{
	range_series(f, "portwitness_drops_total", rep, r);
	put_label(f, "reason", reason, false);
	fprintf(f, "} %llu\n", (unsigned long long)v);
}

/* The firewall's and no listener's series always (a zero says it was
 * looked for); other reasons once they happened, and "unknown" for the
 * drops whose reason the kernel map had no room to keep. */
static void drops_family(FILE *f, const struct pw_report *rep)
{
	const struct pw_range_result *r;
	uint64_t named;
	char name[64];
	size_t i, k;

	if (!rep->n)
		return;
	family(f, "portwitness_drops_total", "counter",
	       "Unsolicited packets to the range's ports that this host dropped, by the kernel's drop reason (netfilter_drop: its firewall; no_socket: no listener).");
	for (i = 0; i < rep->n; i++) {
		r = &rep->ranges[i];
		drop_series(f, rep, r, "netfilter_drop", r->firewall_dropped);
		drop_series(f, rep, r, "no_socket", r->no_listener);
		named = 0;
		for (k = 0; k < r->n_other_reasons; k++) {
			named += r->other_reasons[k].count;
			drop_series(f, rep, r,
				    pw_drop_reason_name(r->other_reasons[k].reason,
							name, sizeof(name)),
				    r->other_reasons[k].count);
		}
		if (r->other_drops > named)
			drop_series(f, rep, r, "unknown", r->other_drops - named);
	}
}

int pw_textfile_render(FILE *f, const struct pw_report *rep,
		       const struct pw_snapshot *snap)
{
	const struct pw_range_result *r;
	uint32_t base, port;
	bool any;
	size_t i;
	int v;

	for (v = RV_PACKETS; v <= RV_HIT; v++) {
		if (!rep->n)
			break;
		family(f, range_families[v].name, range_families[v].type,
		       range_families[v].help);
		for (i = 0; i < rep->n; i++) {
			range_series(f, range_families[v].name, rep, &rep->ranges[i]);
			fprintf(f, "} %llu\n", (unsigned long long)
				range_value(&rep->ranges[i], v));
		}
	}

	if (rep->drops_traced)
		drops_family(f, rep);
	if (rep->activity && rep->n) {
		family(f, "portwitness_ports_active", "gauge",
		       "Ports of the range with inbound packets of either kind within the watch's sliding window (--active-window), as of its last interval.");
		for (i = 0; i < rep->n; i++) {
			range_series(f, "portwitness_ports_active", rep, &rep->ranges[i]);
			fprintf(f, "} %u\n", rep->ranges[i].ports_active);
		}
		family(f, "portwitness_ports_active_peak", "gauge",
		       "The most ports of the range active at once since the counters began.");
		for (i = 0; i < rep->n; i++) {
			range_series(f, "portwitness_ports_active_peak", rep, &rep->ranges[i]);
			fprintf(f, "} %u\n", rep->ranges[i].ports_active_peak);
		}
	}

	/* Absent before the first packet: no series rather than a zero. */
	for (i = 0, any = false; i < rep->n; i++) {
		r = &rep->ranges[i];
		if (!r->last_seen_real_ns)
			continue;
		if (!any)
			family(f, "portwitness_last_packet_timestamp_seconds", "gauge",
			       "When the range last got an unsolicited packet, to the watch interval (Unix seconds).");
		any = true;
		range_series(f, "portwitness_last_packet_timestamp_seconds", rep, r);
		fprintf(f, "} %.3f\n", seconds(r->last_seen_real_ns));
	}

	/* A series per port only for small ranges: a 10,000-port range must
	 * not become 10,000 series. */
	for (i = 0, any = false; i < rep->n; i++) {
		r = &rep->ranges[i];
		if (r->ports_declared > PW_TEXTFILE_PORT_SERIES_MAX)
			continue;
		if (!any)
			family(f, "portwitness_port_packets_total", "counter",
			       "Unsolicited inbound packets to one port of a range of at most 64 ports.");
		any = true;
		base = r->range.proto == PW_PROTO_UDP ? PW_PORTS_PER_PROTO : 0;
		for (port = r->range.first; port <= r->range.last; port++) {
			range_series(f, "portwitness_port_packets_total", rep, r);
			fprintf(f, ",port=\"%u\"} %llu\n", port, (unsigned long long)
				snap->slots[base + port].unsolicited);
		}
	}

	family(f, "portwitness_fragments_total", "counter",
	       "Inbound later IP fragments, which carry no port.");
	iface_series(f, "portwitness_fragments_total", rep);
	fprintf(f, "%llu\n", (unsigned long long)rep->stats[PW_STAT_FRAGMENTS]);
	family(f, "portwitness_malformed_total", "counter",
	       "Inbound frames with truncated or malformed headers.");
	iface_series(f, "portwitness_malformed_total", rep);
	fprintf(f, "%llu\n", (unsigned long long)rep->stats[PW_STAT_MALFORMED]);
	family(f, "portwitness_last_export_timestamp_seconds", "gauge",
	       "When portwitness wrote this file (Unix seconds).");
	iface_series(f, "portwitness_last_export_timestamp_seconds", rep);
	fprintf(f, "%.3f\n", seconds(rep->now_real_ns));
	family(f, "portwitness_info", "gauge",
	       "Always 1: the portwitness version and how it is attached.");
	fprintf(f, "portwitness_info{");
	put_label(f, "interface", rep->iface, true);
	put_label(f, "version", PW_VERSION, false);
	put_label(f, "mode", rep->mode ? rep->mode : "none", false);
	fputs("} 1\n", f);
	return ferror(f) ? -EIO : 0;
}

static int write_all(int fd, const char *p, size_t len)
{
	ssize_t n;

	while (len) {
		n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int pw_textfile_replace(const char *path, const char *text, size_t len,
			char *errbuf, size_t errlen)
{
	char tmp[PATH_MAX], dir[PATH_MAX];
	const char *step = "create a temporary file beside it";
	int fd, dfd, err;

	if (snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >= (int)sizeof(tmp) ||
	    snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir)) {
		snprintf(errbuf, errlen, "the path is too long");
		return -ENAMETOOLONG;
	}
	/* node_exporter reads only *.prom: the temporary name ends
	 * otherwise, so a half-written file is never collected. */
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		goto fail;
	}
	step = "write";
	err = write_all(fd, text, len);
	if (!err) {
		step = "fsync";
		err = fsync(fd) ? -errno : 0;
	}
	if (!err) {
		step = "set mode 0644 on";
		err = fchmod(fd, 0644) ? -errno : 0;
	}
	if (close(fd) && !err) {
		step = "close";
		err = -errno;
	}
	if (!err) {
		step = "rename over";
		err = rename(tmp, path) ? -errno : 0;
	}
	if (err) {
		unlink(tmp);
		goto fail;
	}
	/* The rename itself survives a crash only once the directory is
	 * synced; the new file is in place either way. */
	dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	return 0;
fail:
	snprintf(errbuf, errlen, "cannot %s it: %s", step, strerror(-err));
	return err;
}

int pw_textfile_write(const char *path, const struct pw_report *rep,
		      const struct pw_snapshot *snap, char *err, size_t errlen)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f;
	int rc;

	f = open_memstream(&text, &len);
	if (!f) {
		rc = -errno;
		snprintf(err, errlen, "cannot render it: %s", strerror(-rc));
		return rc;
	}
	rc = pw_textfile_render(f, rep, snap);
	if (fclose(f) || rc) {
		snprintf(err, errlen, "cannot render it");
		free(text);
		return -EIO;
	}
	rc = pw_textfile_replace(path, text, len, err, errlen);
	free(text);
	return rc;
}
