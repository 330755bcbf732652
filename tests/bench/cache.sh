#!/bin/bash
# The module-cache benchmark of `make bench` (run.sh calls it; it also runs
# on its own): what a cache hit costs at boot.
#
#   dkms-boot cache unpack -k K -m P --into DIR   (open, zstd, sha256,
#                                                 vermagic, write, rename)
#   zstd -d X.ko.zst && sha256sum X.ko && cp X.ko DIR/...   (the floor)
#
# for one module of about 1 MiB and one of about 10 MiB, medians of
# BENCH_CACHE_RUNS (21) runs each, the floor timed in the same run on the
# very .ko.zst the cache holds, so both decompress the same bytes; plus
# `cache verify` of the same entry, for information.  Target: unpack within
# 1.5x of the floor.  Then the space: cache bytes (.ko.zst) against the raw
# .ko, for those two and for the test packages' modules.
#
# The big modules are real kernel modules (the cache reads their vermagic):
# a tiny module whose .rodata holds a blob of pseudo-random bytes, drawn
# from a skewed vocabulary of short tokens so that zstd compresses it
# about as much as real module code and data (2.5-3x; pure random bytes
# would not compress at all, zeros would vanish).  The blob goes in with
# the assembler's .incbin rather than as a generated C array initializer,
# which would cost gcc tens of seconds and a gigabyte for 10 MiB.  Modules
# are built with plain Kbuild inside a sandbox root (the headers are bound
# only there) and enter the cache through `cache import` of a
# binaries-only dkms archive, so no dkms tree is needed.
#
# Benchmarks inform: a missed target prints MISSED and the script exits 0.
# Exit 1 means something did not run, or unpack gave other bytes than the
# module's.
#
# Environment: BENCH_CACHE_RUNS (21), DKMS_BOOT_BENCH_KVER
# (6.1.0-56-amd64), BENCH_DIR (build/bench).
# shellcheck source-path=SCRIPTDIR
set -euo pipefail

KVER=${DKMS_BOOT_BENCH_KVER:-6.1.0-56-amd64}
# lib.sh lays out sandbox roots for the kernels listed here: one is enough.
export DKMS_BOOT_TEST_KVERS=$KVER
. "$(dirname "$0")/../integration/lib.sh"

BENCH_DIR=${BENCH_DIR:-$DKB_REPO/build/bench}
BIN=${DKMS_BOOT_STATIC:-$DKB_REPO/build/dkms-boot}
TIMEIT=$BENCH_DIR/timeit
RUNS=${BENCH_CACHE_RUNS:-21}
ARCH=$DKB_ARCH
TARGET_RATIO=1.5
# name|blob bytes: the two big modules (each its own package dkb-<name>).
BIG=("big1m|$((1024 * 1024))" "big10m|$((10 * 1024 * 1024))")
# Test packages whose modules are in the size table too.
TEST_PKGS=(dkb-dummy-2.0 dkb-pair-1.0)

build_timeit() {
	local src=$DKB_REPO/tests/bench/timeit.c
	mkdir -p "$BENCH_DIR"
	if [[ ! -x $TIMEIT || $src -nt $TIMEIT ]]; then
		cc -std=gnu11 -O2 -Wall -Wextra -Werror -o "$TIMEIT" "$src"
	fi
}

# ---- the modules ------------------------------------------------------------

# gen_blob BYTES SEED FILE: module-like, compressible pseudo-random bytes.
gen_blob() {
	python3 - "$1" "$2" >"$3" <<'PY'
import random, sys
n, seed = int(sys.argv[1]), int(sys.argv[2])
r = random.Random(seed)
# Tokens of 2-12 bytes with Zipf-like frequencies (as opcodes, relocations
# and strings repeat in real code), plus stretches of plain noise.
vocab = [r.randbytes(r.randint(2, 12)) for _ in range(4096)]
weights = [1.0 / (i + 1) ** 0.9 for i in range(len(vocab))]
out = bytearray()
while len(out) < n:
    out += b"".join(r.choices(vocab, weights, k=65536))
    out += r.randbytes(r.randint(0, 4096))
sys.stdout.buffer.write(bytes(out[:n]))
PY
}

# big_source DIR NAME BYTES: a Kbuild module dkb_NAME carrying the blob.
big_source() {
	local d=$1 name=$2 bytes=$3
	mkdir -p "$d"
	gen_blob "$bytes" "$bytes" "$d/blob.bin"
	cat >"$d/Kbuild" <<EOF
obj-m := dkb_$name.o
dkb_$name-y := main.o blob.o
# .incbin finds blob.bin in the source directory.
asflags-y := -Wa,-I\$(src)
EOF
	cat >"$d/blob.S" <<'EOF'
	.section .rodata.dkb_blob, "a"
	.balign 64
	.globl dkb_blob
dkb_blob:
	.incbin "blob.bin"
	.globl dkb_blob_end
dkb_blob_end:
EOF
	cat >"$d/main.c" <<'EOF'
// SPDX-License-Identifier: GPL-2.0
/* A module that is mostly data: the cache benchmark's payload. */
#include <linux/module.h>

extern const unsigned char dkb_blob[], dkb_blob_end[];

static int __init dkb_big_init(void)
{
	pr_info("dkb_big: %zu bytes of blob, first %u\n",
		(size_t)(dkb_blob_end - dkb_blob), dkb_blob[0]);
	return 0;
}

static void __exit dkb_big_exit(void)
{
}

module_init(dkb_big_init);
module_exit(dkb_big_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("dkms-boot cache benchmark payload");
EOF
	cat >"$d/dkms.conf" <<EOF
PACKAGE_NAME="dkb-$name"
PACKAGE_VERSION="1.0"
BUILT_MODULE_NAME[0]="dkb_$name"
DEST_MODULE_LOCATION[0]="/updates"
EOF
}

# kbuild DIR: make the modules of DIR against KVER's headers, in the
# sandbox, then strip -g them as dkms does (its default STRIP), so that
# sizes are those of modules dkms would install.
kbuild() {
	dkms_sandbox "$ROOT" make -s -C "/lib/modules/$KVER/build" M="$1" modules \
		>"$1/make.log" 2>&1 || {
		sed 's/^/  /' "$1/make.log" >&2
		die "cannot build the module in $1"
	}
	strip -g "$1"/*.ko
}

# import_pkg DIR NAME VERSION: a binaries-only dkms archive of DIR's built
# modules (as dkms mktarball --binaries-only lays it out), then `cache
# import`.
import_pkg() {
	local d=$1 name=$2 ver=$3 a=$WORK/arch/$2 ko
	mkdir -p "$a/dkms_main_tree/$KVER/$ARCH/module" "$a/dkms_binaries_only"
	for ko in "$d"/*.ko; do
		cp "$ko" "$a/dkms_main_tree/$KVER/$ARCH/module/"
	done
	echo "$name" >"$a/dkms_binaries_only/PACKAGE_NAME"
	echo "$ver" >"$a/dkms_binaries_only/PACKAGE_VERSION"
	cp "$d/dkms.conf" "$a/dkms_binaries_only/"
	tar -C "$a" -czf "$a.dkms.tar.gz" dkms_main_tree dkms_binaries_only
	"$BIN" cache --root "$ROOT" -q import "$a.dkms.tar.gz" >"$a.log" 2>&1 || {
		sed 's/^/  /' "$a.log" >&2
		die "cache import of $name failed"
	}
}

# ---- measuring ----------------------------------------------------------------

# The floor: what any tool must at least do for a cache hit.
floor_cmd() {
	# shellcheck disable=SC2016
	printf '%s' 'zstd -q -d -f "$1" -o "$2" && sha256sum "$2" >/dev/null && cp "$2" "$3"'
}

# bench_one NAME: time unpack, verify and the floor for package dkb-NAME
# (module dkb_NAME); appends "NAME unpack_us verify_us floor_us
# unpack_cpu_us floor_cpu_us" to $RESULTS (timeit: median min max runs
# median_cpu).  The unpacked file must be the module, byte for byte.
bench_one() {
	local name=$1 pkg=dkb-$1 o=$WORK/t/$1 entry zst ko u v f
	entry=$ROOT/var/cache/dkms-boot/modules/$pkg/1.0/$KVER/$ARCH
	zst=$entry/dkb_$name.ko.zst
	ko=$WORK/src/$name/dkb_$name.ko
	mkdir -p "$o/into" "$o/floor/updates/dkms"
	"$BIN" cache --root "$ROOT" unpack -k "$KVER" -m "$pkg" --into "$o/into" >/dev/null ||
		die "cache unpack of $pkg failed"
	cmp -s "$ko" "$o/into/updates/dkms/dkb_$name.ko" ||
		die "cache unpack of $pkg gave other bytes than $ko"
	echo "bench: cache $name: timing ($RUNS runs each)" >&2
	u=$("$TIMEIT" -n "$RUNS" -w 2 -e 0 -- "$BIN" cache --root "$ROOT" unpack -k "$KVER" \
		-m "$pkg" --into "$o/into")
	v=$("$TIMEIT" -n "$RUNS" -w 2 -e 0 -- "$BIN" cache --root "$ROOT" \
		--cache-dir "/var/cache/bench-verify/$name" verify)
	f=$("$TIMEIT" -n "$RUNS" -w 2 -e 0 -- sh -c "$(floor_cmd)" floor "$zst" \
		"$o/floor.ko" "$o/floor/updates/dkms/dkb_$name.ko")
	local -a ua fa
	read -r -a ua <<<"$u"
	read -r -a fa <<<"$f"
	echo "$name ${ua[0]} ${v%% *} ${fa[0]} ${ua[4]} ${fa[4]}" >>"$RESULTS"
}

# ---- reporting ------------------------------------------------------------------

ms() {
	awk -v u="$1" 'BEGIN { printf "%.2f", u / 1000 }'
}

# sizes_line LABEL KO ZST: raw and cached bytes and their ratio.
sizes_line() {
	local raw zst
	raw=$(stat -c %s "$2")
	zst=$(stat -c %s "$3")
	printf '  %-22s %11s %11s %7s\n' "$1" "$raw" "$zst" \
		"$(awk -v r="$raw" -v z="$zst" 'BEGIN { printf "%.2fx", r / z }')"
}

report() {
	local name u v f uc fc ratio verdict all=met
	echo
	echo "cache unpack vs the floor (zstd -d + sha256sum + cp), kernel $KVER," \
		"$(nproc) CPUs, medians of $RUNS runs"
	echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
	# CPU: user + system of the process tree.  unpack fsyncs what it
	# writes (the floor does not): wall minus CPU is mostly that wait.
	printf '  %-8s %12s %12s %12s %12s %12s %14s\n' module unpack "(CPU)" verify floor \
		"(CPU)" "unpack/floor"
	while read -r name u v f uc fc; do
		ratio=$(awk -v u="$u" -v f="$f" 'BEGIN { printf "%.2f", u / f }')
		printf '  %-8s %9s ms %9s ms %9s ms %9s ms %9s ms %13sx\n' "$name" "$(ms "$u")" \
			"$(ms "$uc")" "$(ms "$v")" "$(ms "$f")" "$(ms "$fc")" "$ratio"
		awk -v r="$ratio" -v t="$TARGET_RATIO" 'BEGIN { exit !(r <= t) }' || all=missed
	done <"$RESULTS"
	[[ $all == met ]] && verdict=met || verdict=MISSED
	printf '  target: unpack <= %sx the floor: %s\n' "$TARGET_RATIO" "$verdict"

	echo
	echo "cache size vs raw module (bytes)"
	printf '  %-22s %11s %11s %7s\n' module ".ko" ".ko.zst" ratio
	local spec e
	for spec in "${BIG[@]}"; do
		name=${spec%%|*}
		e=$ROOT/var/cache/dkms-boot/modules/dkb-$name/1.0/$KVER/$ARCH
		sizes_line "dkb_$name" "$WORK/src/$name/dkb_$name.ko" "$e/dkb_$name.ko.zst"
	done
	local p ko
	for p in "${TEST_PKGS[@]}"; do
		e=$ROOT/var/cache/dkms-boot/modules/${p%-*}/${p##*-}/$KVER/$ARCH
		for ko in "$WORK/src/$p"/*.ko; do
			ko=${ko##*/}
			sizes_line "${p%-*}/${ko%.ko}" "$WORK/src/$p/$ko" "$e/$ko.zst"
		done
	done
}

main() {
	need_root
	need_cmds unshare cc make python3 zstd sha256sum tar awk cmp
	[[ -x $BIN ]] || die "no $BIN (make build/dkms-boot)"
	build_timeit
	dkb_tmpdir_var WORK
	ROOT=$WORK/root
	RESULTS=$WORK/results
	: >"$RESULTS"
	dkms_root_init "$ROOT"
	local start=$SECONDS spec name bytes p

	for spec in "${BIG[@]}"; do
		name=${spec%%|*}
		bytes=${spec##*|}
		big_source "$WORK/src/$name" "$name" "$bytes"
		kbuild "$WORK/src/$name"
		import_pkg "$WORK/src/$name" "dkb-$name" 1.0
		# verify alone: a cache holding just this entry.
		mkdir -p "$ROOT/var/cache/bench-verify/$name"
		cp -a "$ROOT/var/cache/dkms-boot/modules/dkb-$name" "$ROOT/var/cache/bench-verify/$name/"
	done
	for p in "${TEST_PKGS[@]}"; do
		cp -R "$DKB_MODULES/$p" "$WORK/src/$p"
		# Kbuild reads the Makefile with KERNELRELEASE set.
		kbuild "$WORK/src/$p"
		import_pkg "$WORK/src/$p" "${p%-*}" "${p##*-}"
	done
	echo "bench: cache: modules built and imported in $((SECONDS - start)) s" >&2

	for spec in "${BIG[@]}"; do
		bench_one "${spec%%|*}"
	done
	report
	echo
	echo "bench: cache: $((SECONDS - start)) s"
}

main "$@"
