/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef DKMS_BOOT_BOOT_SETTINGS_H
#define DKMS_BOOT_BOOT_SETTINGS_H

#include "lib/util.h"

/*
 * What the boot agent may do, from the initramfs's
 * /etc/dkms-boot/dkms-boot.conf and then the kernel command line, which
 * wins.  A hostile or malformed value never changes a setting: it is
 * refused with the reason (kept in refused[] and logged) and the value
 * from before (the default, or the file's) stays.
 */
struct boot_settings {
	bool enabled;	    /* rd.dkms_boot=0 turns the agent off */
	unsigned timeout_s; /* budget of the whole job */
	bool compile;	    /* may compile when no cache entry serves */
	bool kabi_reuse;    /* may use an entry built for another kernel */
	bool run_scripts;   /* may run PRE_INSTALL/POST_INSTALL at boot */
	bool debug;	    /* log debug lines too */
	char **load;	    /* modules to insert whatever udev finds */
	char **refused;	    /* one reason per refused value */
};

#define BOOT_TIMEOUT_DEFAULT_S 300
#define BOOT_TIMEOUT_MAX_S     3600
#define BOOT_LOAD_MAX	       32
/* The kernel's MODULE_NAME_LEN (64 - sizeof(unsigned long)) less the NUL. */
#define BOOT_MODULE_NAME_MAX 55
/* Larger files and command lines are refused whole, not cut. */
#define BOOT_SETTINGS_FILE_MAX (64 * 1024)

void boot_settings_init(struct boot_settings *s);
void boot_settings_free(struct boot_settings *s);

/*
 * Apply the lines of a settings file ("key=value", '#' comments, the
 * keys of the command line without "rd.dkms_boot.").  origin names the
 * file in the reasons.  Returns 0 (refusals are in s->refused) or
 * -ENOMEM.
 */
int boot_settings_apply_file(struct boot_settings *s, const char *text,
			     size_t len, const char *origin);

/*
 * Apply the rd.dkms_boot* parameters of a kernel command line (quoting
 * as the kernel parses it; everything after "--" belongs to init and is
 * ignored).  Returns 0 or -ENOMEM.
 */
int boot_settings_apply_cmdline(struct boot_settings *s, const char *cmdline,
				size_t len);

/*
 * Defaults, then conf_path (absent is fine), then cmdline_path
 * (normally /proc/cmdline).  Every refusal is logged as a warning.
 * Returns 0 or a negative errno when memory ran out; unreadable files
 * are refusals, not errors, so the boot always gets settings.
 */
int boot_settings_load(struct boot_settings *s, const char *conf_path,
		       const char *cmdline_path);

#endif
