// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The one logging path.  At boot, stderr may go nowhere useful, so the
 * agent also writes to /dev/kmsg where `dmesg` and the journal find it.
 */
#include <fcntl.h>
#include <stdarg.h>

#include "lib/log.h"

static enum log_level threshold = LOG_LEVEL_NOTICE;
static bool use_kmsg;
static int kmsg_fd = -1;
static FILE *stream;

void log_set_threshold(enum log_level level)
{
	threshold = level;
}

enum log_level log_get_threshold(void)
{
	return threshold;
}

void log_set_kmsg(bool enable)
{
	use_kmsg = enable;
	if (enable && kmsg_fd < 0)
		kmsg_fd = open("/dev/kmsg", O_WRONLY | O_CLOEXEC | O_NOCTTY);
}

void log_set_stream(FILE *f)
{
	stream = f;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	int saved = errno;
	size_t n;

	if (level > threshold)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* One line per message: kmsg records end at a newline. */
	n = strcspn(msg, "\n");
	msg[n] = '\0';
	fprintf(stream ? stream : stderr, "dkms-boot: %s\n", msg);
	if (use_kmsg && kmsg_fd >= 0)
		dprintf(kmsg_fd, "<%d>dkms-boot: %s\n", (int)level, msg);
	errno = saved;
}

void log_lines(enum log_level level, const char *text)
{
	while (text && *text) {
		size_t n = strcspn(text, "\n");

		if (n)
			log_msg(level, "%.*s", (int)n, text);
		text += n + (text[n] == '\n');
	}
}
