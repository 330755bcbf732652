// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer target: tar_read() over arbitrary bytes, with small limits.
 * The callback reads every byte of every file (ASan catches data that
 * reaches past the input) and checks the promises tar.h makes about
 * names.  An archive that reads back is written again with the writer
 * and must read back the same.
 */
#include <stdint.h>
#include <stdio.h>

#include "cache/tar.h"

#define MAX_ENTRIES 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct seen {
	const uint8_t *in;
	size_t in_len;
	size_t n;
	struct {
		char *name;
		enum tar_type type;
		unsigned mode;
		const void *data;
		size_t size;
	} e[MAX_ENTRIES];
};

static const struct tar_limits limits = {
	.max_entries = MAX_ENTRIES,
	.max_file_size = 64 << 10,
	.max_name = 512,
};

static void check_name(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > limits.max_name || s[0] == '/' || s[n - 1] == '/')
		__builtin_trap();
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			__builtin_trap();
	for (const char *c = s; c; c = strchr(c, '/')) {
		size_t len;

		c += *c == '/';
		len = strcspn(c, "/");
		if (len == 0 || (len == 1 && c[0] == '.') ||
		    (len == 2 && c[0] == '.' && c[1] == '.'))
			__builtin_trap();
	}
}

static int visit(const struct tar_entry *e, void *userdata)
{
	struct seen *s = userdata;
	const volatile uint8_t *d = e->data;
	uint8_t sum = 0;

	check_name(e->name);
	if (e->mode > 07777 || s->n >= MAX_ENTRIES)
		__builtin_trap();
	if (e->type == TAR_FILE) {
		if (e->size > limits.max_file_size ||
		    (const uint8_t *)e->data < s->in ||
		    e->size > s->in_len - (size_t)((const uint8_t *)e->data -
						   s->in))
			__builtin_trap();
		for (size_t i = 0; i < e->size; i++)
			sum += d[i];
		(void)sum;
	} else if (e->type != TAR_DIR || e->data || e->size) {
		__builtin_trap();
	}
	s->e[s->n].name = strdup(e->name);
	if (!s->e[s->n].name)
		return -ENOMEM;
	s->e[s->n].type = e->type;
	s->e[s->n].mode = e->mode;
	s->e[s->n].data = e->data;
	s->e[s->n].size = e->size;
	s->n++;
	return 0;
}

static int compare(const struct tar_entry *e, void *userdata)
{
	struct seen *s = userdata;

	if (s->n >= MAX_ENTRIES)
		__builtin_trap();
	if (strcmp(e->name, s->e[s->n].name) || e->type != s->e[s->n].type ||
	    e->mode != s->e[s->n].mode || e->size != s->e[s->n].size ||
	    (e->size && memcmp(e->data, s->e[s->n].data, e->size)))
		__builtin_trap();
	s->n++;
	return 0;
}

/* What we read, we can write, and read back unchanged. */
static void rewrite(struct seen *s)
{
	struct tar_writer w = {.mtime = 1};
	struct seen again = {0};
	int r = 0;

	for (size_t i = 0; i < s->n && r == 0; i++) {
		if (s->e[i].type == TAR_DIR)
			r = tar_add_dir(&w, s->e[i].name, s->e[i].mode);
		else
			r = tar_add_file(&w, s->e[i].name, s->e[i].mode,
					 s->e[i].data, s->e[i].size);
	}
	if (r == 0)
		r = tar_finish(&w);
	/* ustar holds names of 256 bytes at most; nothing else may fail. */
	if (r < 0 && r != -ENAMETOOLONG && r != -ENOMEM)
		__builtin_trap();
	if (r == 0) {
		memcpy(again.e, s->e, sizeof(s->e));
		if (tar_read(w.buf, w.len, &limits, compare, &again, NULL, 0) ||
		    again.n != s->n)
			__builtin_trap();
	}
	tar_writer_free(&w);
}

static void run(const uint8_t *data, size_t size)
{
	static struct seen s;
	char why[256];
	int r;

	s.in = data;
	s.in_len = size;
	s.n = 0;
	r = tar_read(data, size, &limits, visit, &s, why, sizeof(why));
	if (r == 0)
		rewrite(&s);
	else if (r != -EBADMSG && r != -ENOMEM)
		__builtin_trap();
	else if (r == -EBADMSG && (!why[0] || !memchr(why, 0, sizeof(why))))
		__builtin_trap();
	for (size_t i = 0; i < s.n; i++)
		free(s.e[i].name);
}

/*
 * Random bytes rarely carry a right checksum, which would keep the
 * fuzzer out of everything behind it: a second pass gives every
 * non-zero block one.
 */
static void run_with_checksums(const uint8_t *data, size_t size)
{
	uint8_t *copy = malloc(size ? size : 1);

	if (!copy)
		return;
	memcpy(copy, data, size);
	for (size_t off = 0; size - off >= 512; off += 512) {
		uint8_t *b = copy + off;
		unsigned sum = 0;
		size_t i;

		for (i = 0; i < 512 && !b[i]; i++)
			;
		if (i == 512)
			continue;
		memset(b + 148, ' ', 8);
		for (i = 0; i < 512; i++)
			sum += b[i];
		snprintf((char *)b + 148, 8, "%06o", sum);
	}
	run(copy, size);
	free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	run(data, size);
	run_with_checksums(data, size);
	return 0;
}
