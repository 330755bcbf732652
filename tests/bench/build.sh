#!/bin/bash
# The build benchmark of `make bench` (run.sh calls it last; it also runs
# on its own): for one real Debian *-dkms package and the tiny test
# package, all for the same kernel and -j, medians of repeated runs of
#   dkms-boot install -m P -v V -k K -j N        (build, install, depmod)
#   dkms build -m P -v V -k K && dkms install ... (Debian 12's dkms 3.0.10)
#   make -jN -C /lib/modules/K/build M=COPY       (bare Kbuild, the floor)
# Both tools start from the same pristine sandbox root (P added, not
# built), restored before every run; the bare make gets a fresh copy of
# the source.  All three run inside the root's sandbox (fixtures.sh's
# bench_sandbox, root /), where the headers are bound, so that they pay
# the same few ms to enter it.  Rounds alternate which tool goes first,
# to spread machine noise; one uncounted bare make warms the page cache.
#
# The real package is xtables-addons (23 modules, about 15 s at -j2):
# long enough that fixed overheads do not dominate, small enough for the
# time budget (the whole part: about 5 minutes).  Its Kbuild directory is
# extensions/, which the bare make builds with the variables its dkms.conf
# passes.  dkb-dummy (one tiny module) is the second row: there overheads
# are all there is, so its ratios are informational.
#
# Signing: both roots hold the same mok.key/mok.pub, made with dkms's own
# openssl command, so that both tools sign every module.  (dkms would
# generate a key pair when there is none; dkms-boot never generates keys,
# it signs only with a key that exists.)
#
# Afterwards one more dkms-boot run with --verbose, its log lines
# timestamped, shows where its time goes beyond the make (and one under
# strace -f -c -w counts the system calls that only dkms-boot makes).
#
# Benchmarks inform: a missed target prints MISSED and the script still
# exits 0.  Exit 1 means something did not run, or a tool did not leave
# the package installed, or the two tools installed different files.
#
# Environment: BENCH_BUILD_RUNS (5), DKMS_BOOT_BENCH_KVER (6.1.0-56-amd64),
# DKB_DEBIAN_DKMS_CACHE (build/debian-dkms, shared with
# tests/integration/debian-dkms-conf.sh), BENCH_BUILD_PROFILE=0 skips the
# profile.
# shellcheck source-path=SCRIPTDIR
set -euo pipefail

KVER=${DKMS_BOOT_BENCH_KVER:-6.1.0-56-amd64}
export DKMS_BOOT_TEST_KVERS=$KVER
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/fixtures.sh"

BIN=${DKMS_BOOT_STATIC:-$DKB_REPO/build/dkms-boot}
CACHE=${DKB_DEBIAN_DKMS_CACHE:-$DKB_REPO/build/debian-dkms}
RUNS=${BENCH_BUILD_RUNS:-5}
JOBS=$(nproc)
TOOLS=(boot dkms bare)

# Targets, as ratios of medians (for the real package).
TARGET_VS_DKMS=0.8
TARGET_VS_MAKE=1.05

# label|debian package (- for a test package)|source|Kbuild subdirectory|
# extra make arguments (@SRC@: the copy's path).  source is a directory
# name prefix under $CACHE/root/usr/src for Debian packages, a path else.
PACKAGES=(
	"xtables-addons|xtables-addons-dkms|xtables-addons-|extensions|XA_ABSTOPSRCDIR=@SRC@ XA_TOPSRCDIR=@SRC@ modules"
	"dkb-dummy|-|$DKB_MODULES/dkb-dummy-2.0||"
)

# ---- sources --------------------------------------------------------------

# cached_source PREFIX: the last (in glob order) $CACHE/root/usr/src/PREFIX*
# holding a dkms.conf.
cached_source() {
	local d best=
	for d in "$CACHE/root/usr/src/$1"*; do
		[[ -f $d/dkms.conf ]] && best=$d
	done
	[[ -n $best ]] && echo "$best"
}

# fetch_source DEB PREFIX: download and unpack DEB as debian-dkms-conf.sh
# does (nothing is installed on the host) unless it is there already.
fetch_source() {
	local deb=$1 prefix=$2 f
	cached_source "$prefix" >/dev/null && return 0
	echo "bench: build: downloading $deb" >&2
	mkdir -p "$CACHE/debs" "$CACHE/root"
	if ! (cd "$CACHE/debs" && apt-get download -q "$deb") >/dev/null 2>&1; then
		apt-get update -q >/dev/null 2>&1 || true
		(cd "$CACHE/debs" && apt-get download -q "$deb") >/dev/null 2>&1 ||
			die "build: cannot download $deb"
	fi
	for f in "$CACHE/debs/${deb}_"*.deb; do
		dpkg -x "$f" "$CACHE/root"
	done
	cached_source "$prefix" >/dev/null || die "build: $deb holds no $prefix* with a dkms.conf"
}

# ---- fixtures -------------------------------------------------------------

# make_key DIR: the key pair dkms 3.0.10 would generate (its command).
make_key() {
	openssl req -new -x509 -nodes -days 36500 -subj "/CN=DKMS module signing key" \
		-newkey rsa:2048 -keyout "$1/mok.key" -outform DER -out "$1/mok.pub" \
		>/dev/null 2>&1 || die "build: openssl could not make a key pair"
}

# pkg_setup LABEL SRC: $WORK/LABEL/pristine, a root with the package added
# (not built) and the shared key pair; sets NAME and VER of the package.
pkg_setup() {
	local label=$1 src=$2 dir=$WORK/$1 base
	base=${src##*/}
	NAME=$(sed -n 's/^PACKAGE_NAME=["'\'']\{0,1\}\([^"'\'']*\).*/\1/p' "$src/dkms.conf" | head -1)
	[[ -n $NAME && $base == "$NAME"-* ]] || die "build: cannot tell $src's package name"
	VER=${base#"$NAME"-}
	mkdir -p "$dir"
	root_new "$dir/pristine"
	cp -p "$WORK"/mok.key "$WORK"/mok.pub "$dir/pristine/var/lib/dkms/"
	dkms_tree_add "$src" "$dir/pristine"
	bench_sandbox "$dir/pristine" dkms add -m "$NAME" -v "$VER" >"$dir/add.log" 2>&1 ||
		{ cat "$dir/add.log" >&2; die "build: dkms add $NAME/$VER failed"; }
	expect_status "$dir/pristine" "$NAME/$VER: added" ||
		die "build: $NAME/$VER is not added in the pristine root"
}

# reset_root LABEL: the root as pristine again; sync so that the last
# run's writeback is not charged to the next one.
reset_root() {
	local dir=$WORK/$1
	rm -rf --one-file-system -- "$dir/root"
	cp -a "$dir/pristine" "$dir/root"
	sync
}

# ---- the three commands ---------------------------------------------------

# children_cpu_us FILE: user + system time of the shell's waited-for
# children, in µs, from FILE, which the caller fills with `times >FILE`
# (in the shell itself: a $(...) subshell would have no children yet).
children_cpu_us() {
	awk 'NR == 2 {
		t = 0
		for (i = 1; i <= 2; i++) {
			split($i, p, /[ms]/)
			t += p[1] * 60 + p[2]
		}
		printf "%.0f\n", t * 1e6
	}' "$1"
}

# timed LOG CMD...: run CMD with its output to LOG; LAST_US is its wall
# time in µs, LAST_CPU_US the CPU time of it and all its descendants.
# Fails (with the log) when CMD does.
timed() {
	local log=$1 t0 t1 c0 c1 rc=0
	shift
	times >"$WORK/times.0"
	t0=${EPOCHREALTIME/./}
	"$@" >"$log" 2>&1 || rc=$?
	t1=${EPOCHREALTIME/./}
	times >"$WORK/times.1"
	c0=$(children_cpu_us "$WORK/times.0")
	c1=$(children_cpu_us "$WORK/times.1")
	LAST_US=$((t1 - t0))
	LAST_CPU_US=$((c1 - c0))
	if ((rc != 0)); then
		sed 's/^/  | /' "$log" | tail -40 >&2
		die "build: exit $rc: $*"
	fi
}

# installed_list ROOT: the modules a tool left under /lib/modules/KVER.
installed_list() {
	(cd "$1/lib/modules/$KVER" && find . -name '*.ko*' | LC_ALL=C sort)
}

# verify LABEL TOOL: the package is installed, and the same files are
# installed as by the other tool (the first run of either sets the list).
verify() {
	local label=$1 tool=$2 dir=$WORK/$1
	expect_status "$dir/root" "$NAME/$VER, $KVER, $DKB_ARCH: installed" ||
		die "build: after $tool, $NAME/$VER is not installed"
	installed_list "$dir/root" >"$dir/installed.$tool"
	[[ -s $dir/installed.$tool ]] || die "build: $tool installed no module"
	if [[ -f $dir/installed ]]; then
		cmp -s "$dir/installed" "$dir/installed.$tool" || {
			diff -u "$dir/installed" "$dir/installed.$tool" >&2 || true
			die "build: $tool installed other files than the first run"
		}
	else
		cp "$dir/installed.$tool" "$dir/installed"
	fi
}

run_boot() {
	local label=$1 dir=$WORK/$1
	reset_root "$label"
	timed "$dir/boot.log" bench_sandbox "$dir/root" \
		"$BIN" install -m "$NAME" -v "$VER" -k "$KVER" -j "$JOBS"
	echo "$LAST_US" >>"$dir/times.boot"
	echo "$LAST_CPU_US" >>"$dir/cpu.boot"
	verify "$label" boot
}

run_dkms() {
	local label=$1 dir=$WORK/$1
	reset_root "$label"
	# shellcheck disable=SC2016 # expanded by the inner bash
	timed "$dir/dkms.log" bench_sandbox "$dir/root" bash -c \
		'dkms build -m "$1" -v "$2" -k "$3" && dkms install -m "$1" -v "$2" -k "$3"' \
		dkms "$NAME" "$VER" "$KVER"
	echo "$LAST_US" >>"$dir/times.dkms"
	echo "$LAST_CPU_US" >>"$dir/cpu.dkms"
	verify "$label" dkms
}

# run_bare LABEL [uncounted]: Kbuild alone on a fresh copy of the source.
run_bare() {
	local label=$1 dir=$WORK/$1 copy=$WORK/$1/bare
	local -a args
	rm -rf -- "$copy"
	cp -a "$SRC" "$copy"
	sync
	read -r -a args <<<"${EXTRA//@SRC@/$copy}"
	timed "$dir/bare.log" bench_sandbox "$dir/pristine" \
		make -j"$JOBS" -C "/lib/modules/$KVER/build" "M=$copy${SUBDIR:+/$SUBDIR}" \
		"${args[@]}"
	[[ -n $(find "$copy" -name '*.ko') ]] || die "build: bare make built no module"
	[[ ${2:-} == uncounted ]] || {
		echo "$LAST_US" >>"$dir/times.bare"
		echo "$LAST_CPU_US" >>"$dir/cpu.bare"
	}
}

# ---- figures --------------------------------------------------------------

# median FILE: of the numbers in FILE, one a line.
median() {
	sort -n "$1" | awk '{ v[NR] = $1 } END {
		if (NR == 0) exit 1
		print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2)
	}'
}

# secs US: µs as seconds, 2 decimals.
secs() { awk -v u="$1" 'BEGIN { printf "%.2f", u / 1e6 }'; }

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / (b > 0 ? b : 1) }'; }

# verdict RATIO TARGET: MET when RATIO <= TARGET.
verdict() {
	awk -v r="$1" -v t="$2" 'BEGIN { print (r <= t ? "MET" : "MISSED") }'
}

# spread_note: say so when wall times of one tool varied by more than a
# quarter: then the machine was busy and the wall medians are rough.
spread_note() {
	local f worst
	worst=$(for f in "$WORK"/*/times.*; do
		awk 'NR == 1 || $1 < lo { lo = $1 } NR == 1 || $1 > hi { hi = $1 }
			END { printf "%.2f\n", hi / lo }' "$f"
	done | sort -n | tail -1)
	awk -v w="$worst" 'BEGIN { exit !(w > 1.25) }' || return 0
	echo "  NOTE: one tool's wall times varied by up to ${worst}x between runs:" \
		"the machine was busy (load average below); the wall medians are rough," \
		"the CPU medians and the fastest runs steadier."
}

# bench_package LINE: set up, warm up, then RUNS rounds of the three.
bench_package() {
	local label deb prefix r i t
	IFS='|' read -r label deb prefix SUBDIR EXTRA <<<"$1"
	if [[ $deb == - ]]; then
		SRC=$prefix
	else
		fetch_source "$deb" "$prefix"
		SRC=$(cached_source "$prefix")
	fi
	pkg_setup "$label" "$SRC"
	echo "$NAME $VER" >"$WORK/$label/id"
	echo "bench: build: $NAME/$VER, $RUNS rounds of dkms-boot, dkms and bare make" >&2
	run_bare "$label" uncounted
	for ((r = 0; r < RUNS; r++)); do
		for ((i = 0; i < ${#TOOLS[@]}; i++)); do
			t=${TOOLS[(r + i) % ${#TOOLS[@]}]}
			"run_$t" "$label"
		done
	done
}

table() {
	local line label name ver b d m
	echo
	echo "Build: dkms-boot install vs dkms build+install vs bare make," \
		"kernel $KVER, -j$JOBS ($(nproc) CPUs);"
	echo "medians of $RUNS runs each, tools alternated round-robin; both tools sign"
	printf '  %-22s %10s %10s %10s  %-17s %-17s\n' package dkms-boot dkms "bare make" \
		"boot/dkms<=$TARGET_VS_DKMS" "boot/make<=$TARGET_VS_MAKE"
	for line in "${PACKAGES[@]}"; do
		label=${line%%|*}
		read -r name ver <"$WORK/$label/id"
		b=$(median "$WORK/$label/times.boot")
		d=$(median "$WORK/$label/times.dkms")
		m=$(median "$WORK/$label/times.bare")
		printf '  %-22s %8s s %8s s %8s s  %-5s %-11s %-5s %s\n' "$name $ver" \
			"$(secs "$b")" "$(secs "$d")" "$(secs "$m")" \
			"$(ratio "$b" "$d")" "$(verdict "$(ratio "$b" "$d")" "$TARGET_VS_DKMS")" \
			"$(ratio "$b" "$m")" "$(verdict "$(ratio "$b" "$m")" "$TARGET_VS_MAKE")"
	done
	echo "  (${PACKAGES[1]%%|*}: one tiny module, fixed overheads dominate: informational)"
	# CPU time (user + system of every process) moves far less than wall
	# time on a busy machine: the same comparison, without verdicts.
	echo "  CPU time, medians (user + system, all processes):"
	for line in "${PACKAGES[@]}"; do
		label=${line%%|*}
		read -r name ver <"$WORK/$label/id"
		b=$(median "$WORK/$label/cpu.boot")
		d=$(median "$WORK/$label/cpu.dkms")
		m=$(median "$WORK/$label/cpu.bare")
		printf '  %-22s %8s s %8s s %8s s  %-17s %s\n' "$name $ver" \
			"$(secs "$b")" "$(secs "$d")" "$(secs "$m")" \
			"$(ratio "$b" "$d")" "$(ratio "$b" "$m")"
	done
	# Noise only ever adds time: the fastest runs are the other estimate
	# that a busy machine hardly moves.
	echo "  fastest runs (wall):"
	for line in "${PACKAGES[@]}"; do
		label=${line%%|*}
		read -r name ver <"$WORK/$label/id"
		b=$(sort -n "$WORK/$label/times.boot" | head -1)
		d=$(sort -n "$WORK/$label/times.dkms" | head -1)
		m=$(sort -n "$WORK/$label/times.bare" | head -1)
		printf '  %-22s %8s s %8s s %8s s  %-17s %s\n' "$name $ver" \
			"$(secs "$b")" "$(secs "$d")" "$(secs "$m")" \
			"$(ratio "$b" "$d")" "$(ratio "$b" "$m")"
	done
	echo "  all runs, wall s (max/min):"
	for line in "${PACKAGES[@]}"; do
		label=${line%%|*}
		for t in "${TOOLS[@]}"; do
			awk -v l="$label" -v t="$t" '
				{ printf (NR == 1 ? "    %-16s %-5s " : ""), l, t
				  printf "%.2f ", $1 / 1e6
				  if (NR == 1 || $1 < lo) lo = $1
				  if (NR == 1 || $1 > hi) hi = $1 }
				END { printf "(%.2f)\n", hi / lo }' "$WORK/$label/times.$t"
		done
	done
	spread_note
}

# ---- where dkms-boot's time goes ------------------------------------------

# phases TSLOG T0_US T1_US: the timestamped --verbose log as phases; each
# log line that starts a step starts a phase, which lasts until the next.
# The last strip/sign step also holds writing the tree and installing
# (nothing is logged in between): a median step of its kind is moved
# back to that kind and the rest shown on its own.
phases() {
	awk -v t0="$2" -v t1="$3" '
	function kind(l) {
		if (l ~ /show-CC/) return "CC detection (.kernelvariables)"
		if (l ~ /sign-file/) return "sign-file"
		if (l ~ /strip -g/) return "strip -g"
		if (l ~ /running depmod/) return "depmod"
		if (l ~ /: (installing|building) for /) return "conf, sign plan, copy source"
		if (l ~ /^dkms-boot: build [^:]*: exec /) return "pre/post_build scripts"
		if (l ~ /^dkms-boot: build [^:]*: patch /) return "patches"
		if (l ~ /^dkms-boot: build [^:]*: /) return "make (in its sandbox)"
		if (l ~ /^(ok|failed|excluded)/) return "report, exit"
		return ""
	}
	function add(k, d) {
		if (!(k in sum)) order[++n] = k
		sum[k] += d; cnt[k]++
		if (k == "strip -g" || k == "sign-file") steps[k, cnt[k]] = d
	}
	{
		ts = $1; sub(/^[^ ]+ /, "")
		k = kind($0)
		if (k == "" || k == cur) next
		add(cur, ts * 1e6 - start)
		if ((cur == "strip -g" || cur == "sign-file") && k != "strip -g" && k != "sign-file")
			last = cur
		cur = k; start = ts * 1e6
		if (last != "" && k != "strip -g" && k != "sign-file" && !done) {
			# the step before k was the last strip/sign: split it
			d = steps[last, cnt[last]]
			m = med(last, cnt[last] - 1)
			if (m >= 0 && m < d) {
				steps[last, cnt[last]] = m; sum[last] -= d - m
				tail = d - m
			} else tail = -1
			done = 1
		}
	}
	BEGIN { cur = "sandbox entry, startup"; start = t0; last = ""; done = 0; tail = 0 }
	function med(k, c,   i, j, a, x) {
		if (c < 1) return -1
		for (i = 1; i <= c; i++) a[i] = steps[k, i]
		for (i = 2; i <= c; i++) { x = a[i]; for (j = i - 1; j >= 1 && a[j] > x; j--) a[j + 1] = a[j]; a[j + 1] = x }
		return c % 2 ? a[(c + 1) / 2] : (a[c / 2] + a[c / 2 + 1]) / 2
	}
	END {
		add(cur, t1 - start)
		for (i = 1; i <= n; i++) {
			k = order[i]
			printf "%s|%d|%d\n", k, sum[k], cnt[k]
			if (k == last && tail > 0)
				printf "write tree (compress, fsync, rename) + install (est.)|%d|1\n", tail
			if (k == last && tail < 0)
				printf "  (so does the last %s: writing the tree and installing)|-|0\n", k
		}
		printf "total|%d|1\n", t1 - t0
	}' "$1"
}

# profile LABEL: one timestamped --verbose run, the breakdown, and the
# sandbox entry every tool pays, for comparison.
profile() {
	local label=$1 dir=$WORK/$1 t0 t1 make_us bare_us k us n e
	read -r NAME VER <"$dir/id"
	reset_root "$label"
	t0=${EPOCHREALTIME/./}
	{
		bench_sandbox "$dir/root" "$BIN" install -m "$NAME" -v "$VER" \
			-k "$KVER" -j "$JOBS" --verbose 2>&1 || echo "failed: exit $?"
	} | while IFS= read -r line; do
		printf '%s %s\n' "$EPOCHREALTIME" "$line"
	done >"$dir/profile.log"
	t1=${EPOCHREALTIME/./}
	grep -q '^[^ ]* failed: exit' "$dir/profile.log" && {
		cat "$dir/profile.log" >&2
		die "build: the --verbose dkms-boot run failed"
	}
	phases "$dir/profile.log" "$t0" "$t1" >"$dir/phases"
	e=$(for _ in 1 2 3; do
		t0=${EPOCHREALTIME/./}
		bench_sandbox "$dir/pristine" true
		echo $((${EPOCHREALTIME/./} - t0))
	done | sort -n | sed -n 2p)
	bare_us=$(median "$dir/times.bare")
	make_us=$(awk -F'|' '$1 ~ /^make/ { print $2 }' "$dir/phases")
	echo
	echo "Where dkms-boot's time goes: $NAME $VER, one --verbose run (timestamps of its log lines)"
	while IFS='|' read -r k us n; do
		if [[ $k == total ]]; then
			printf '  %-52s %9.1f ms\n' "total" "$(awk -v u="$us" 'BEGIN { print u / 1000 }')"
			printf '  %-52s %9.1f ms\n' "  of which not make" \
				"$(awk -v u="$us" -v m="${make_us:-0}" 'BEGIN { print (u - m) / 1000 }')"
			printf '  %-52s %9.1f ms\n' "bare make, median (for the make line)" \
				"$(awk -v u="$bare_us" 'BEGIN { print u / 1000 }')"
			printf '  %-52s %9.1f ms\n' "median dkms-boot minus median bare make" \
				"$(awk -v b="$(median "$dir/times.boot")" -v m="$bare_us" \
					'BEGIN { print (b - m) / 1000 }')"
			printf '  %-52s %9.1f ms\n' "  the same in CPU time" \
				"$(awk -v b="$(median "$dir/cpu.boot")" -v m="$(median "$dir/cpu.bare")" \
					'BEGIN { print (b - m) / 1000 }')"
			printf '  %-52s %9.1f ms\n' "entering bench_sandbox (every tool pays it)" \
				"$(awk -v u="$e" 'BEGIN { print u / 1000 }')"
			continue
		fi
		if [[ $us == - ]]; then
			echo "  $k"
			continue
		fi
		((n > 1)) && k="$k ($n runs)"
		printf '  %-52s %9.1f ms\n' "$k" "$(awk -v u="$us" 'BEGIN { print u / 1000 }')"
	done <"$dir/phases"
}

# syscalls LABEL: one more run under strace -f -c -w, the calls only
# dkms-boot makes (make and the compiler make none of these): wall time
# spent in them.
syscalls() {
	local label=$1 dir=$WORK/$1 out=$WORK/$1/strace
	command -v strace >/dev/null 2>&1 || return 0
	reset_root "$label"
	bench_sandbox "$dir/root" strace -f -c -w -o "$out" --seccomp-bpf \
		-e trace=fsync,fdatasync,unshare,mount,umount2,mount_setattr,open_tree,move_mount,renameat2,rename,copy_file_range \
		"$BIN" install -m "$NAME" -v "$VER" -k "$KVER" -j "$JOBS" >"$out.log" 2>&1 ||
		{ echo "  (strace run failed; see nothing)"; return 0; }
	echo "  strace -f -c -w, one more run (calls: total wall ms):" \
		"$(awk '/^ *[0-9]/ && $NF != "total" { printf "%s%s %d: %.1f", (n++ ? ", " : ""), $NF, $4, $2 * 1000 }' "$out")"
}

main() {
	need_root
	need_cmds dkms unshare make openssl apt-get dpkg sync awk cmp
	[[ -x $BIN ]] || die "no $BIN (make build/dkms-boot)"
	[[ -d /usr/src/linux-headers-$KVER ]] || die "no headers for $KVER"
	dkb_tmpdir_var WORK
	make_key "$WORK"

	local line start=$SECONDS load0
	load0=$(cut -d' ' -f1-3 /proc/loadavg)
	for line in "${PACKAGES[@]}"; do
		bench_package "$line"
	done
	table
	echo "  load average before: $load0; after: $(cut -d' ' -f1-3 /proc/loadavg)"
	if [[ ${BENCH_BUILD_PROFILE:-1} != 0 ]]; then
		for line in "${PACKAGES[@]}"; do
			profile "${line%%|*}"
			syscalls "${line%%|*}"
		done
	fi
	echo
	echo "bench: build: $((SECONDS - start)) s"
}

main "$@"
