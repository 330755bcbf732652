// SPDX-License-Identifier: GPL-2.0-or-later
/* `dkms-boot report`: what the last boot did, for people or machines. */
#include "boot/report.h"
#include "cmd/commands.h"
#include "lib/log.h"
#include "lib/rootfs.h"

int cmd_report(const char *root, bool json, FILE *out)
{
	_cleanup_(boot_report_freep) struct boot_report r = {0};
	_cleanup_(freep) char *path = NULL, *text = NULL;
	char why[256] = "";
	size_t len = 0;
	int ret;

	/* The running boot's own report exists only in its /run. */
	if (root_is_slash(root) && access(REPORT_RUN_PATH, F_OK) == 0)
		path = strdup(REPORT_RUN_PATH);
	else if (root_path(root, REPORT_PATH, &path) < 0)
		path = NULL;
	if (!path) {
		log_err("report: %s%s: cannot be resolved", root, REPORT_PATH);
		return EXIT_TROUBLE;
	}
	ret = report_read(path, &r, why, sizeof(why));
	if (ret < 0) {
		log_err("report: %s: %s", path,
			why[0] ? why
			       : (ret == -ENOENT
					  ? "no boot report yet (no boot "
					    "with dkms-boot so far)"
					  : strerror(-ret)));
		return EXIT_TROUBLE;
	}
	if (!json) {
		report_print_text(&r, out);
		return EXIT_OK;
	}
	/* Written back canonically: what was checked is what is shown. */
	if (report_format(&r, &text, &len) < 0)
		return EXIT_TROUBLE;
	fwrite(text, 1, len, out);
	if (len && text[len - 1] != '\n')
		fputc('\n', out);
	return EXIT_OK;
}
