/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef DKMS_BOOT_BOOT_REPORT_H
#define DKMS_BOOT_BOOT_REPORT_H

#include "lib/util.h"

/*
 * The boot report: what one boot decided and did, written as
 * REPORT_RUN_PATH during the boot and kept as REPORT_PATH in the root,
 * read back by `dkms-boot report`.  JSON (docs/boot.md has the layout);
 * the reader takes exactly the layout the writer writes (every key
 * present, no other key) so report_parse(report_format(r)) == r.  Every
 * string is valid UTF-8 (report_format refuses the report otherwise);
 * a NULL string is written as null.
 */
#define REPORT_RUN_PATH "/run/dkms-boot/report.json"
#define REPORT_PATH	"/var/lib/dkms-boot/last-boot.json"
#define REPORT_VERSION	1

struct report_phase {
	char *name; /* early, late, pivot */
	unsigned long long start_ms, duration_ms, budget_ms;
	bool budget_exhausted;
};

struct report_setting {
	char *key, *value;
};

struct report_root {
	char *spec, *device, *type; /* NULL when not found */
	bool read_only;
	char *error; /* why it was not mounted, NULL when it was */
};

enum report_decision {
	REPORT_CURRENT,	   /* nothing to do */
	REPORT_NEEDS_WORK, /* decision_reason says why */
};

enum report_outcome {
	REPORT_OUTCOME_NONE, /* current: nothing done */
	REPORT_INSTALLED,    /* installed into the overlay */
	REPORT_INSERTED,
	REPORT_REPLACED,
	REPORT_IN_USE,
	REPORT_FAILED,
	REPORT_DECLINED,
	REPORT_FAILED_EARLIER, /* the memo says it fails: not redone */
	REPORT_EXCLUDED,
	REPORT_SKIPPED,
};

struct report_module {
	char *name;
	char *before, *after; /* srcversion (or version); NULL: none */
};

struct report_package {
	char *name, *version, *kernel, *arch;
	enum report_decision decision;
	char *decision_reason;
	/* initramfs-cache, root-cache, kabi-reuse:<kver>, compiled, none */
	char *source;
	enum report_outcome outcome;
	char *reason, *log;
	struct report_module *mods;
	size_t n_mods;
	unsigned long long unpack_ms, compile_ms, depmod_ms, insert_ms;
};

struct boot_report {
	char *kernel, *boot_id;
	unsigned long long start_time; /* unix seconds */
	unsigned long long total_ms;
	struct report_phase *phases;
	size_t n_phases;
	struct report_setting *settings;
	size_t n_settings;
	char **refused; /* refused setting lines, NULL-terminated or NULL */
	struct report_root root;
	struct report_package *pkgs;
	size_t n_pkgs;
};

const char *report_outcome_name(enum report_outcome o);
const char *report_decision_name(enum report_decision d);

void boot_report_free(struct boot_report *r);
static inline void boot_report_freep(struct boot_report *r)
{
	boot_report_free(r);
}

/* Returns 0, -EILSEQ (a string is not UTF-8), -EINVAL (an enum out of
 * range, a setting key twice, a NULL where a string is needed, a source
 * not of the list) or -ENOMEM. */
int report_format(const struct boot_report *r, char **out, size_t *len);
/* Returns 0, -EINVAL or -EFBIG (why says what), or -ENOMEM. */
int report_parse(const char *text, size_t len, struct boot_report *r, char *why,
		 size_t why_len);
/* Atomically (temp, fsync, rename, fsync of the directory), creating
 * the directory.  Returns as report_format, or the write's errno. */
int report_write(const char *path, const struct boot_report *r);
int report_read(const char *path, struct boot_report *r, char *why,
		size_t why_len);
bool report_equal(const struct boot_report *a, const struct boot_report *b);

/*
 * The boot id from path (normally /proc/sys/kernel/random/boot_id): one
 * line of at most 64 printable bytes.  Returns 0, -EINVAL for anything
 * else, or the read's negative errno.
 */
int report_boot_id(const char *path, char **out);

/* One line per package and a summary line, for `dkms-boot report`. */
void report_print_text(const struct boot_report *r, FILE *f);

#endif
