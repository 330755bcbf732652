/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef DKMS_BOOT_LOG_H
#define DKMS_BOOT_LOG_H

#include "lib/util.h"

/* The syslog levels that /dev/kmsg understands. */
enum log_level {
	LOG_LEVEL_ERR = 3,
	LOG_LEVEL_WARNING = 4,
	LOG_LEVEL_NOTICE = 5,
	LOG_LEVEL_INFO = 6,
	LOG_LEVEL_DEBUG = 7,
};

/*
 * One logging path: every message goes to stderr and, when enabled
 * (the boot agent), to /dev/kmsg, each with the "dkms-boot: " prefix.
 * Messages above the threshold are dropped.
 */
void log_set_threshold(enum log_level level);
enum log_level log_get_threshold(void);
void log_set_kmsg(bool enable);
/* Send messages to this stream instead of stderr (tests). */
void log_set_stream(FILE *f);

void log_msg(enum log_level level, const char *fmt, ...) _printf_(2, 3);

/*
 * Log a text of several lines (dkms's errors span two) one message per
 * line, so none is cut or run together; empty lines are skipped.
 */
void log_lines(enum log_level level, const char *text);

#define log_err(...)	log_msg(LOG_LEVEL_ERR, __VA_ARGS__)
#define log_warn(...)	log_msg(LOG_LEVEL_WARNING, __VA_ARGS__)
#define log_notice(...) log_msg(LOG_LEVEL_NOTICE, __VA_ARGS__)
#define log_info(...)	log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_debug(...)	log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__)

#endif
