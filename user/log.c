// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Every message goes to stderr through here, so stdout stays clean for the
 * report and --json. */
#include <stdarg.h>
#include <stdio.h>
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

static int libbpf_print(enum libbpf_print_level level, const char *fmt,
			va_list ap)
{
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
