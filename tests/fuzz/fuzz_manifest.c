// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer target: the MANIFEST parser and writer.  The grammar has one
 * spelling per manifest, so whatever parses must be written back byte
 * for byte, and what is written must parse to the same manifest.  The
 * input is also used the other way round, as values and as names: what
 * the writer accepts must read back the same.  Any difference is a bug:
 * abort.
 */
#include <stdint.h>

#include "cache/manifest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool same_str(const char *a, const char *b)
{
	return (!a && !b) || (a && b && streq(a, b));
}

static bool same_module(const struct manifest_module *x,
			const struct manifest_module *y)
{
	return same_str(x->name, y->name) && same_str(x->file, y->file) &&
	       x->size == y->size && same_str(x->sha256, y->sha256) &&
	       same_str(x->location, y->location) &&
	       same_str(x->vermagic, y->vermagic) &&
	       same_str(x->srcversion, y->srcversion) &&
	       same_str(x->modversion, y->modversion) &&
	       same_str(x->depends, y->depends) &&
	       same_str(x->signer, y->signer) &&
	       same_str(x->sig_key, y->sig_key) &&
	       same_str(x->sig_hashalgo, y->sig_hashalgo);
}

static bool same(const struct manifest *a, const struct manifest *b)
{
	if (!same_str(a->package, b->package) ||
	    !same_str(a->version, b->version) ||
	    !same_str(a->kernel, b->kernel) || !same_str(a->arch, b->arch) ||
	    !same_str(a->origin, b->origin) || a->created != b->created ||
	    a->n_mods != b->n_mods)
		return false;
	for (size_t i = 0; i < a->n_mods; i++)
		if (!same_module(&a->mods[i], &b->mods[i]))
			return false;
	return true;
}

/* format(m) parses back to m, or format refuses m. */
static void write_then_read(const struct manifest *m)
{
	_cleanup_(manifest_freep) struct manifest back = {0};
	_cleanup_(freep) char *out = NULL;
	char why[256];
	size_t len = 0;

	if (manifest_format(m, &out, &len) < 0)
		return;
	if (manifest_parse(out, len, &back, why, sizeof(why)) < 0)
		abort();
	if (!same(m, &back))
		abort();
}

static void values_from(const uint8_t *data, size_t size)
{
	_cleanup_(freep) char *v = strndup((const char *)data, size);
	_cleanup_(freep) char *file = v ? xasprintf("%s.ko.zst", v) : NULL;
	struct manifest_module mod = {
		.name = "m",
		.file = "m.ko.zst",
		.sha256 = "0123456789abcdef0123456789abcdef"
			  "0123456789abcdef0123456789abcdef",
		.location = "/extra",
		.vermagic = v,
		.depends = v,
		.signer = v,
	};
	struct manifest m = {
		.package = "p",
		.version = "1",
		.kernel = "k",
		.arch = "a",
		.origin = "build",
		.mods = &mod,
		.n_mods = 1,
	};

	if (!v || !file)
		return;
	write_then_read(&m);
	/* Now as names and paths. */
	mod.vermagic = "v";
	mod.name = v;
	mod.file = file;
	mod.location = v;
	m.package = m.version = m.kernel = m.arch = v;
	write_then_read(&m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	_cleanup_(manifest_freep) struct manifest m = {0}, back = {0};
	_cleanup_(freep) char *out = NULL;
	char why[256];
	size_t len = 0;

	values_from(data, size);
	if (manifest_parse((const char *)data, size, &m, why, sizeof(why)) <
	    0) {
		/* A refusal always says why. */
		if (!why[0])
			abort();
		return 0;
	}
	if (manifest_format(&m, &out, &len) < 0)
		abort();
	if (len != size || memcmp(out, data, size) != 0)
		abort();
	if (manifest_parse(out, len, &back, why, sizeof(why)) < 0)
		abort();
	if (!same(&m, &back))
		abort();
	return 0;
}
