/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef PW_LOG_H
#define PW_LOG_H

#include <stdbool.h>

enum pw_log_level {
	PW_LOG_ERROR = 0,
	PW_LOG_WARN,
	PW_LOG_INFO,
	PW_LOG_DEBUG,	/* also libbpf's own messages */
};

void pw_log_set_level(enum pw_log_level level);
enum pw_log_level pw_log_get_level(void);
/* Routes libbpf's warnings to stderr when -v asks for debug output. */
void pw_log_libbpf(void);
/* While on, libbpf's warnings (a refused program's verifier log among
 * them) are kept rather than printed; turning it on forgets the last. */
void pw_log_capture(bool on);
/* What was kept ("" if nothing), valid until the next capture. */
const char *pw_log_captured(void);
void pw_log_capture_free(void);
void pw_log(enum pw_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define pw_err(...) pw_log(PW_LOG_ERROR, __VA_ARGS__)
#define pw_warn(...) pw_log(PW_LOG_WARN, __VA_ARGS__)
#define pw_info(...) pw_log(PW_LOG_INFO, __VA_ARGS__)
#define pw_debug(...) pw_log(PW_LOG_DEBUG, __VA_ARGS__)

#endif
