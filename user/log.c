// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Every message goes to stderr through here, so stdout stays clean for the
 * report and --json. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/libbpf.h>
#include "log.h"

static enum pw_log_level log_level = PW_LOG_INFO;

void pw_log_set_level(enum pw_log_level level)
{
	log_level = level;
}

enum pw_log_level pw_log_get_level(void)
{
	return log_level;
}

static const char *const prefixes[] = {
	[PW_LOG_ERROR] = "portwitness: error: ",
	[PW_LOG_WARN] = "portwitness: warning: ",
	[PW_LOG_INFO] = "portwitness: ",
	[PW_LOG_DEBUG] = "portwitness: debug: ",
};

static void pw_vlog(enum pw_log_level level, const char *fmt, va_list ap)
{
	if (level > log_level)
		return;
	fputs(prefixes[level], stderr);
	vfprintf(stderr, fmt, ap);
}

void pw_log(enum pw_log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	pw_vlog(level, fmt, ap);
	va_end(ap);
}

/* libbpf's warnings while a load is watched (pw_log_capture): a refused
 * program's verifier log is one of them, whole. */
static struct {
	bool on;
	char *buf;
	size_t len, cap;
} capture;

/* A verifier log may run to megabytes; what is past this is cut. */
#define PW_CAPTURE_MAX (64u << 20)

static void capture_add(const char *fmt, va_list ap)
{
	va_list aq;
	size_t need, cap;
	char *nb;
	int n;

	va_copy(aq, ap);
	n = vsnprintf(NULL, 0, fmt, aq);
	va_end(aq);
	if (n <= 0)
		return;
	need = capture.len + (size_t)n + 1;
	if (need > PW_CAPTURE_MAX)
		return;
	if (need > capture.cap) {
		cap = capture.cap ? capture.cap : 4096;
		while (cap < need)
			cap *= 2;
		nb = realloc(capture.buf, cap);
		if (!nb)
			return;
		capture.buf = nb;
		capture.cap = cap;
	}
	vsnprintf(capture.buf + capture.len, capture.cap - capture.len, fmt, ap);
	capture.len += (size_t)n;
}

void pw_log_capture(bool on)
{
	capture.on = on;
	if (on) {
		capture.len = 0;
		if (capture.buf)
			capture.buf[0] = '\0';
	}
}

const char *pw_log_captured(void)
{
	return capture.buf && capture.len ? capture.buf : "";
}

void pw_log_capture_free(void)
{
	free(capture.buf);
	memset(&capture, 0, sizeof(capture));
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt,
			va_list ap)
{
	if (capture.on && level != LIBBPF_DEBUG) {
		capture_add(fmt, ap);
		return 0;
	}
	/* libbpf warns loudly about things we handle (a missing pin, an
	 * EEXIST hook); its words matter only when asked for. */
	if (level == LIBBPF_DEBUG || log_level < PW_LOG_DEBUG)
		return 0;
	fputs("libbpf: ", stderr);
	return vfprintf(stderr, fmt, ap);
}

void pw_log_libbpf(void)
{
	libbpf_set_print(libbpf_print);
}
