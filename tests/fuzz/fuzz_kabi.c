// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer target: kabi_check() on arbitrary module bytes against a
 * small built-in Module.symvers (the exports hello.ko imports from
 * 6.1.0-56-amd64, so the seed module gets as far as the CRC loop), and
 * symvers_parse() on the same bytes as text.
 */
#include <stdint.h>

#include "module/kabi.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char builtin[] =
	"0x5b8239ca\t__x86_return_thunk\tvmlinux\tEXPORT_SYMBOL\t\n"
	"0xbdfb6dbb\t__fentry__\tvmlinux\tEXPORT_SYMBOL\t\n"
	"0x7a7caba8\tkmalloc_caches\tvmlinux\tEXPORT_SYMBOL\t\n"
	"0x606e9d01\tkmalloc_trace\tvmlinux\tEXPORT_SYMBOL\t\n"
	"0x00c4c36f\tregister_netdev\tvmlinux\tEXPORT_SYMBOL\t\n"
	"0x92997ed8\t_printk\tvmlinux\tEXPORT_SYMBOL\t\n"
	"0x037a0cba\tkfree\tvmlinux\tEXPORT_SYMBOL\t\n"
	"0x9060323f\tmodule_layout\tvmlinux\tEXPORT_SYMBOL\t\n";

/* Every failure says why, within the buffer. */
static void check_why(int r, const char *why, size_t len)
{
	if (r < 0 && (!memchr(why, '\0', len) || !*why))
		__builtin_trap();
}

static void fuzz_check(const uint8_t *data, size_t size)
{
	static struct symvers *s;
	char why[128] = "";
	int r;

	if (!s && symvers_parse(builtin, sizeof(builtin) - 1, &s, NULL, 0) < 0)
		__builtin_trap();
	r = kabi_check(data, size, s,
		       "6.1.0-56-amd64 SMP preempt mod_unload modversions ",
		       why, sizeof(why));
	if (r != 0 && r != -EPERM && r != -EBADMSG)
		__builtin_trap();
	check_why(r, why, sizeof(why));
}

static void fuzz_parse(const uint8_t *data, size_t size)
{
	struct symvers *s = (struct symvers *)1;
	unsigned long long crc;
	char why[96] = "";
	int r = symvers_parse((const char *)data, size, &s, why, sizeof(why));

	if (r == 0) {
		if (!s)
			__builtin_trap();
		(void)symvers_crc(s, "kfree", &crc);
		symvers_free(s);
	} else if (s || (r != -EBADMSG && r != -ENOMEM)) {
		__builtin_trap();
	}
	check_why(r == -ENOMEM ? 0 : r, why, sizeof(why));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_check(data, size);
	fuzz_parse(data, size);
	return 0;
}
