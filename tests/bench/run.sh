#!/bin/bash
# `make bench`: dkms-boot against Debian 12's dkms 3.0.10 on trees of 1, 10
# and 50 packages that are registered, built and installed for one kernel
# (fixtures.sh makes them, once, under build/bench/).
#
# Measured, as medians of repeated runs (tests/bench/timeit.c):
#   dkms-boot check -k KVER   vs  dkms autoinstall -k KVER  (nothing to do)
#   dkms-boot status          vs  dkms status
# dkms needs the real paths, so it runs inside the fixture's sandbox (a
# private mount namespace, tests/integration/lib.sh); dkms-boot runs there
# too with root /, the way the boot agent sees its root, and from outside
# with --root DIR.  check is timed warm: its state and eval caches are
# filled by a first run, as they are on every boot after the first.
#
# Benchmarks are informational: a missed target prints MISSED and still
# exits 0.  Exit 1 means something did not run, or dkms-boot's answer
# differed from dkms's (a time measured for the wrong answer is no figure).
#
# Environment: BENCH_SIZES ("1 10 50"), BENCH_FAST_RUNS (200),
# BENCH_DKMS_RUNS (per size, default 11, 9, 5 beyond 1, 10, 50 packages),
# DKMS_BOOT_BENCH_KVER (6.1.0-56-amd64), BENCH_DIR (build/bench).
# shellcheck source-path=SCRIPTDIR
set -euo pipefail

KVER=${DKMS_BOOT_BENCH_KVER:-6.1.0-56-amd64}
# lib.sh lays out sandbox roots for the kernels listed here: one is enough.
export DKMS_BOOT_TEST_KVERS=$KVER
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/fixtures.sh"

BUILD_DIR=$DKB_REPO/build
BENCH_DIR=${BENCH_DIR:-$BUILD_DIR/bench}
BIN=${DKMS_BOOT_STATIC:-$BUILD_DIR/dkms-boot}
TIMEIT=$BENCH_DIR/timeit
read -r -a SIZES <<<"${BENCH_SIZES:-1 10 50}"
FAST_RUNS=${BENCH_FAST_RUNS:-200}
# dkms takes 0.1-1 s a run; five to eleven runs give a stable median.
NOCACHE_RUNS=$((FAST_RUNS / 4 > 10 ? FAST_RUNS / 4 : 10))

# Targets: check at least this much faster than dkms autoinstall at 10
# packages, under this many µs at 50, and a static binary no larger than
# this.
TARGET_RATIO=100
TARGET_RATIO_N=10
TARGET_CHECK_US=5000
TARGET_CHECK_N=50
TARGET_SIZE=$((2 * 1024 * 1024))


dkms_runs() {
	if [[ -n ${BENCH_DKMS_RUNS:-} ]]; then
		echo "$BENCH_DKMS_RUNS"
	elif (($1 <= 1)); then
		echo 11
	elif (($1 <= 10)); then
		echo 9
	else
		echo 5
	fi
}

# ---- tools ----------------------------------------------------------------

build_timeit() {
	local src=$DKB_REPO/tests/bench/timeit.c
	mkdir -p "$BENCH_DIR"
	if [[ ! -x $TIMEIT || $src -nt $TIMEIT ]]; then
		cc -std=gnu11 -O2 -Wall -Wextra -Werror -o "$TIMEIT" "$src"
	fi
}

# ---- measuring ------------------------------------------------------------

# time_out ROOT RUNS WARMUP EXIT CMD...: median/min/max line from timeit,
# outside any sandbox.
time_out() {
	local runs=$2 warm=$3 want=$4
	shift 4
	"$TIMEIT" -n "$runs" -w "$warm" -e "$want" -- "$@"
}

# time_in ROOT RUNS WARMUP EXIT CMD...: the same inside ROOT's sandbox.
time_in() {
	local root=$1 runs=$2 warm=$3 want=$4
	shift 4
	bench_sandbox "$root" "$TIMEIT" -n "$runs" -w "$warm" -e "$want" -- "$@"
}

# answer_of OUT ROOT|- CMD...: run CMD once (inside ROOT's sandbox unless
# ROOT is -), stdout to OUT, stderr to OUT.err; prints the exit status.
answer_of() {
	local out=$1 root=$2 rc=0
	shift 2
	if [[ $root == - ]]; then
		"$@" >"$out" 2>"$out.err" || rc=$?
	else
		bench_sandbox "$root" "$@" >"$out" 2>"$out.err" || rc=$?
	fi
	echo "$rc"
}

# disagree WHAT FILE...: report a dkms-boot answer that is not dkms's.
disagree() {
	local what=$1 f
	shift
	# A file, not a counter: this runs inside $(...) subshells.
	echo "$what" >>"$WORK/wrong"
	echo "WRONG: $what" >&2
	for f in "$@"; do
		[[ -s $f ]] && sed "s|^|  ${f##*/}: |" "$f" >&2
	done
	return 0
}

# first_runs N ROOT OUTDIR: one run of each command before timing: it
# fills dkms-boot's caches and proves that both tools agree (check: all
# current; status: dkms's bytes).  Prints check's exit status, which the
# timing runs then expect.
first_runs() {
	local n=$1 root=$2 o=$3 rc
	rc=$(answer_of "$o/check.in" "$root" "$BIN" check -k "$KVER")
	if [[ $rc != 0 ]]; then
		disagree "N=$n: dkms-boot check exits $rc where dkms has nothing to do" \
			"$o/check.in" "$o/check.in.err"
	fi
	local rc_root
	rc_root=$(answer_of "$o/check.root" - "$BIN" check -k "$KVER" --root "$root")
	[[ $rc_root == "$rc" ]] ||
		disagree "N=$n: check --root exits $rc_root, inside $rc" "$o/check.root.err"
	[[ $(answer_of "$o/status.dkms" "$root" dkms status) == 0 ]] ||
		die "dkms status failed in $root"
	answer_of "$o/status.in" "$root" "$BIN" status >/dev/null
	answer_of "$o/status.root" - "$BIN" status --root "$root" >/dev/null
	local s
	for s in in root; do
		cmp -s "$o/status.dkms" "$o/status.$s" ||
			disagree "N=$n: dkms-boot status ($s) differs from dkms status" \
				"$o/status.$s" "$o/status.$s.err"
	done
	echo "$rc"
}

# bench_size N: every measurement for one fixture size; appends one line
# per command to $RESULTS:
#   "check|status N boot_us root_us dkms_us nocache_us boot_min_us boot_cpu_us".
bench_size() {
	local n=$1 root o want dr
	local ci cr cn ai si sr sd
	fixture root "$n"
	o=$WORK/n$n
	mkdir -p "$o"
	want=$(first_runs "$n" "$root" "$o")
	dr=$(dkms_runs "$n")
	echo "bench: N=$n: timing ($FAST_RUNS runs of dkms-boot, $dr of dkms)" >&2

	ci=$(time_in "$root" "$FAST_RUNS" 3 "$want" "$BIN" check -k "$KVER")
	cr=$(time_out "$root" "$FAST_RUNS" 3 "$want" "$BIN" check -k "$KVER" --root "$root")
	cn=$(time_in "$root" "$NOCACHE_RUNS" 1 "$want" "$BIN" check -k "$KVER" --no-cache)
	ai=$(time_in "$root" "$dr" 1 0 dkms autoinstall -k "$KVER")
	si=$(time_in "$root" "$FAST_RUNS" 3 0 "$BIN" status)
	sr=$(time_out "$root" "$FAST_RUNS" 3 0 "$BIN" status --root "$root")
	sd=$(time_in "$root" "$dr" 1 0 dkms status)

	# Nothing may have changed under dkms's feet: autoinstall had nothing
	# to do, so the tree must still read the same.
	answer_of "$o/status.after" "$root" dkms status >/dev/null
	cmp -s "$o/status.dkms" "$o/status.after" ||
		die "N=$n: the fixture changed while timing (dkms autoinstall did work?)"

	# timeit: median min max runs median_cpu
	local -a c s
	read -r -a c <<<"$ci"
	read -r -a s <<<"$si"
	echo "check $n ${c[0]} ${cr%% *} ${ai%% *} ${cn%% *} ${c[1]} ${c[4]}" >>"$RESULTS"
	echo "status $n ${s[0]} ${sr%% *} ${sd%% *} - ${s[1]} ${s[4]}" >>"$RESULTS"
}

# ---- reporting ------------------------------------------------------------

# ms US: microseconds as milliseconds, 2 decimals.
ms() {
	awk -v u="$1" 'BEGIN { printf "%.2f", u / 1000 }'
}

# ratio A B: A/B as "123x" (one decimal under 10).
ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN {
		r = a / (b > 0 ? b : 1)
		printf (r < 10 ? "%.1fx" : "%.0fx"), r
	}'
}

# table KIND TITLE DKMS_LABEL: one table from $RESULTS.
table() {
	local kind=$1 title=$2 dlabel=$3 k n b r d c
	echo
	echo "$title"
	printf '  %4s  %12s  %12s  %16s  %14s' N "dkms-boot" "--root DIR" "$dlabel" "dkms/dkms-boot"
	[[ $kind == check ]] && printf '  %10s' "no-cache"
	echo
	while read -r k n b r d c; do
		[[ $k == "$kind" ]] || continue
		printf '  %4s  %9s ms  %9s ms  %13s ms  %8s faster' \
			"$n" "$(ms "$b")" "$(ms "$r")" "$(ms "$d")" "$(ratio "$d" "$b")"
		[[ $kind == check ]] && printf '  %7s ms' "$(ms "$c")"
		echo
	done <"$RESULTS"
}

# result KIND N FIELD: one figure from $RESULTS (3 boot, 4 root, 5 dkms,
# 7 fastest boot run, 8 boot CPU time).
result() {
	awk -v k="$1" -v n="$2" -v f="$3" '$1 == k && $2 == n { print $f }' "$RESULTS"
}

verdict() {
	if [[ $1 == met ]]; then echo "met"; else echo "MISSED"; fi
}

# target_line DESCRIPTION MEASURED met|missed|n/a
target_line() {
	local v=$3
	[[ $v != n/a ]] && v=$(verdict "$v")
	printf '  %-50s %-36s %s\n' "$1" "$2" "$v"
}

report_targets() {
	local size=$1 b d c
	echo
	echo "Targets"
	b=$(result check "$TARGET_RATIO_N" 3)
	d=$(result check "$TARGET_RATIO_N" 5)
	if [[ -n $b ]]; then
		target_line "check >= ${TARGET_RATIO}x faster than autoinstall, N=$TARGET_RATIO_N" \
			"$(ratio "$d" "$b")" \
			"$(awk -v b="$b" -v d="$d" -v t="$TARGET_RATIO" \
				'BEGIN { print (d >= t * b ? "met" : "missed") }')"
	else
		target_line "check >= ${TARGET_RATIO}x faster, N=$TARGET_RATIO_N" "not measured" n/a
	fi
	c=$(result check "$TARGET_CHECK_N" 3)
	if [[ -n $c ]]; then
		# The fastest run and the CPU time too: on a busy machine the
		# median wall time says more about the load than about dkms-boot.
		target_line "check < $(ms "$TARGET_CHECK_US") ms at N=$TARGET_CHECK_N (root /)" \
			"$(ms "$c") ms (min $(ms "$(result check "$TARGET_CHECK_N" 7)"), CPU $(ms "$(result check "$TARGET_CHECK_N" 8)"))" \
			"$( ((c < TARGET_CHECK_US)) && echo met || echo missed)"
	else
		target_line "check < $(ms "$TARGET_CHECK_US") ms at N=$TARGET_CHECK_N" "not measured" n/a
	fi
	target_line "static binary <= 2 MiB" "$size bytes" \
		"$( ((size <= TARGET_SIZE)) && echo met || echo missed)"
}

# stripped_size: bytes of build/dkms-boot once stripped (it is linked
# with -s already; strip again so that the figure never depends on that).
stripped_size() {
	local tmp=$WORK/dkms-boot.stripped
	strip -o "$tmp" "$BIN"
	stat -c %s "$tmp"
}

# syscall_summary FILE: "TOTAL syscalls (name count, ...)" from strace -c
# output, the five most frequent calls.
syscall_summary() {
	local top
	top=$(awk '/^ *[0-9]/ && $NF != "total" { print $4, $NF }' "$1" |
		sort -k1,1nr | head -5 | awk '{ printf "%s%s %s", (NR > 1 ? ", " : ""), $2, $1 }')
	awk -v top="$top" '$NF == "total" { printf "%s syscalls (%s)\n", $4, top }' "$1"
}

# syscall_profile ROOT: what one warm check costs in system calls, root /
# in the sandbox and --root ROOT from outside: the first thing to look at
# when check is slow (strace is optional).
syscall_profile() {
	local root=$1 out=$WORK/strace
	command -v strace >/dev/null 2>&1 || return 0
	bench_sandbox "$root" strace -f -c -o "$out.in" "$BIN" check -k "$KVER" \
		>/dev/null 2>&1 || true
	strace -f -c -o "$out.root" "$BIN" check -k "$KVER" --root "$root" \
		>/dev/null 2>&1 || true
	[[ -s $out.in && -s $out.root ]] || return 0
	echo
	echo "One warm check at N=${root##*/n}, strace -c:"
	echo "  root /:     $(syscall_summary "$out.in")"
	echo "  --root DIR: $(syscall_summary "$out.root")"
}

main() {
	need_root
	need_cmds dkms unshare cc strip awk cmp
	[[ -x $BIN ]] || die "no $BIN (make build/dkms-boot)"
	[[ -d $SEED_PKG_DIR ]] || die "no seed package $SEED_PKG_DIR"
	build_timeit
	dkb_tmpdir_var WORK
	RESULTS=$WORK/results
	: >"$RESULTS"

	local n size start=$SECONDS load0
	load0=$(cut -d' ' -f1-3 /proc/loadavg)
	for n in "${SIZES[@]}"; do
		bench_size "$n"
	done
	size=$(stripped_size)

	echo
	echo "dkms-boot $("$BIN" --version | cut -d' ' -f2) vs dkms" \
		"$(dpkg-query -W -f='${Version}' dkms), kernel $KVER, $(nproc) CPUs;" \
		"medians of $FAST_RUNS runs (dkms-boot) and" \
		"$(dkms_runs "${SIZES[-1]}")-$(dkms_runs "${SIZES[0]}") runs (dkms)"
	# Other work on the machine skews every figure: say how busy it was.
	echo "load average before: $load0; after: $(cut -d' ' -f1-3 /proc/loadavg)"
	table check "check -k KVER vs dkms autoinstall -k KVER (nothing to do; warm caches)" \
		"dkms autoinst."
	table status "status vs dkms status" "dkms status"
	echo
	printf 'Static binary (stripped): %s bytes = %s MiB\n' "$size" \
		"$(awk -v s="$size" 'BEGIN { printf "%.2f", s / 1048576 }')"
	report_targets "$size"
	syscall_profile "$BENCH_DIR/n${SIZES[-1]}"
	echo
	echo "bench: $((SECONDS - start)) s"
	if [[ -s $WORK/wrong ]]; then
		echo "bench: $(wc -l <"$WORK/wrong") answer(s) of dkms-boot differed" \
			"from dkms (WRONG above)" >&2
		exit 1
	fi
}

main "$@"

# The build benchmark (dkms-boot install vs dkms build + install vs a bare
# make, on a real package) is a script of its own; BENCH_BUILD=0 skips it.
[[ ${BENCH_BUILD:-1} == 0 ]] || "$(dirname "$0")/build.sh"
[[ ${BENCH_CACHE:-1} == 0 ]] || "$(dirname "$0")/cache.sh" # the module cache: unpack vs zstd+sha256sum+cp
