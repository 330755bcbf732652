#!/bin/bash
# `dkms-boot build|install` when things go wrong, and what contains a
# build: a compile error, one bad package among good ones, a package that
# excludes the kernel, missing headers, BUILD_DEPENDS order, a build that
# never ends, a build that tries to escape its sandbox, and how parallel
# builds share the -j budget.  Every run is inside a sandbox root (real
# dkms for `dkms add` and `dkms status`), with a signing key in place so
# that no "not signed" warning mixes into the messages.
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

need_root
need_cmds dkms openssl python3 pgrep timeout unshare

BIN=${DKMS_BOOT_TEST:-$DKB_REPO/build/test/dkms-boot}
[[ -x $BIN ]] || die "no $BIN (make build/test/dkms-boot)"
K=${DKB_KVERS[1]}
ARCH=$DKB_ARCH

# The processes this script may leave behind when a case fails: the
# sleepers of dkb-hang (found by their unique durations) and the loopback
# listener.  Ended by pid on every exit, before lib.sh's cleanup.
listener=''
survivors() {
	pgrep -f "sleep 300\.471$1" || true
}
end_leftovers() {
	local pid
	for pid in $(survivors 1) $(survivors 2) $(survivors 3) $listener; do
		kill "$pid" 2>/dev/null || true
	done
}
trap 'end_leftovers; _dkb_cleanup' EXIT

dkb_tmpdir_var W
script_start=$SECONDS

mkdir -p "$W/key"
openssl req -new -x509 -nodes -days 36500 -subj "/CN=dkms-boot test signing key/" \
	-newkey rsa:2048 -keyout "$W/key/mok.key" -outform DER -out "$W/key/mok.pub" \
	>/dev/null 2>&1 || die "openssl cannot make a key pair"

# root_with NAME PKG...: a fresh sandbox root $W/NAME with the key and the
# packages (directories under tests/modules, or paths) added by real dkms.
root_with() {
	local r=$W/$1 p dir name ver
	shift
	dkms_root_init "$r"
	cp "$W/key/mok.key" "$W/key/mok.pub" "$r/var/lib/dkms/"
	for p in "$@"; do
		dkms_tree_add "$p" "$r"
		dir=${p##*/}
		name=${dir%-*}
		ver=${dir##*-}
		dkms_in "$r" -- add -m "$name" -v "$ver" >/dev/null ||
			die "dkms add $name/$ver failed"
	done
}

# ours OUT ROOT ARGS...: dkms-boot inside ROOT's sandbox, stdout to OUT,
# stderr to OUT.err, exit status to OUT.rc and seconds taken to OUT.time;
# an ASan/UBSan report fails the case named after OUT.
ours() {
	local out=$1 root=$2 t0
	shift 2
	t0=$(date +%s%N)
	capture "$out" dkms_sandbox "$root" timeout 300 "$BIN" "$@"
	echo $((($(date +%s%N) - t0) / 1000000)) >"$out.ms"
	note "dkms-boot $* -> exit $(cat "$out.rc") in $(cat "$out.ms") ms"
	note_file stdout "$out"
	note_file stderr "$out.err"
	if grep -qE 'runtime error:|ERROR: (Address|Leak)Sanitizer' "$out.err"; then
		fail "${out##*/}-sanitizers" "$(head -30 "$out.err")"
	fi
}

# rc_is NAME OUT WANT: the exit status of the run in OUT.
rc_is() {
	check_eq "$1" "$3" "$(cat "$2.rc")"
}

# status_of ROOT ARGS...: real `dkms status`.
status_of() {
	local root=$1
	shift
	dkms_sandbox "$root" dkms status "$@" 2>/dev/null
}

# no_build_left NAME ROOT M V: nothing of M/V for KVER that could look
# built or installed: no <kver> dir (nor a hidden temporary one), no
# module file installed.
no_build_left() {
	local name=$1 r=$2 m=$3 v=$4 left
	left=$(
		find "$r/var/lib/dkms/$m/$v" -mindepth 1 -maxdepth 1 -name "*$K*" 2>/dev/null
		find "$r/var/lib/dkms/$m/$v" -mindepth 2 -maxdepth 2 -name ".$ARCH*" 2>/dev/null
		find "$r/var/lib/dkms/$m" -maxdepth 1 -name "kernel-$K-*" 2>/dev/null
		find "$r/lib/modules/$K" -path "$r/lib/modules/$K/build" -prune -o \
			-path "$r/lib/modules/$K/source" -prune -o -name '*.ko*' -print
	)
	check_eq "$name" "" "$left"
}

# ---- a compile error --------------------------------------------------------

# One line on stderr for the package, naming it, the kernel, the exit
# status and a log that exists and holds the compiler's error; the tree
# must not show it built; dkms says "added".
broken_case() {
	local cmd=$1 t=broken-$1 out=$W/out-broken-$1 lines line log
	ours "$out" "$W/broken" "$cmd" -m dkb-broken -v 1.0 -k "$K"
	rc_is "$t-exit-4" "$out" 4
	lines=$(grep -c 'dkb-broken' "$out.err" || true)
	check_eq "$t-one-stderr-line" 1 "$lines"
	line=$(grep 'dkb-broken' "$out.err" | head -1)
	if [[ $line == "dkms-boot: "* && $line == *"$K"* &&
		$line =~ (exit|status)[^0-9]*[0-9]+ ]]; then
		pass "$t-message"
	else
		fail "$t-message" "want 'dkms-boot: ...' naming dkb-broken, $K and the exit status, got:" "$line"
	fi
	log=$(sed -n 's/.*log: \([^ ;]*\).*/\1/p' <<<"$line")
	if [[ -z $log ]]; then
		fail "$t-log" "the message names no log"
	elif [[ ! -f $W/broken$log && ! -f $log ]]; then
		fail "$t-log" "$log does not exist (neither in the root nor on the host)"
	else
		[[ -f $W/broken$log ]] && log=$W/broken$log
		if grep -q 'dkb_no_such_variable' "$log" && grep -q 'error:' "$log"; then
			pass "$t-log"
		else
			fail "$t-log" "$log lacks the compiler error:" "$(tail -20 "$log")"
		fi
	fi
	no_build_left "$t-nothing-built" "$W/broken" dkb-broken 1.0
	check_eq "$t-dkms-status" "dkb-broken/1.0: added" "$(status_of "$W/broken")"
}

root_with broken dkb-broken-1.0
broken_case build
broken_case install

# ---- one bad package among good ones ----------------------------------------

root_with all dkb-broken-1.0 dkb-dummy-2.0 dkb-pair-1.0
ours "$W/out-all" "$W/all" install --all -k "$K"
rc_is all-exit-4 "$W/out-all" 4
check_eq all-others-installed \
	"dkb-broken/1.0: added
dkb-dummy/2.0, $K, $ARCH: installed
dkb-pair/1.0, $K, $ARCH: installed" "$(status_of "$W/all")"
check_eq all-broken-one-stderr-line 1 "$(grep -c 'dkb-broken' "$W/out-all.err" || true)"

# --json: valid JSON with one entry per package (again: the good ones are
# already installed, the broken one fails again).
ours "$W/out-json" "$W/all" install --all -k "$K" --json
rc_is json-exit-4 "$W/out-json" 4
if python3 -m json.tool "$W/out-json" >/dev/null 2>&1; then
	pass json-parses
else
	fail json-parses "$(cat "$W/out-json")"
fi
check_eq json-results "dkb-broken failed
dkb-dummy ok
dkb-pair ok" "$(python3 -c '
import json, sys
for p in sorted(json.load(open(sys.argv[1]))["packages"], key=lambda p: p["module"]):
    print(p["module"], p["result"])' "$W/out-json" 2>&1 || true)"

# ---- BUILD_EXCLUSIVE ----------------------------------------------------------

root_with excl dkb-excl-1.0 dkb-dummy-2.0
# Real dkms first: the reference for what "excluded" means.
rc=0
dkms_in "$W/excl" -- build -m dkb-excl -v 1.0 -k "$K" || rc=$?
check_eq excl-dkms-exit-77 77 "$rc"
ours "$W/out-excl" "$W/excl" build -m dkb-excl -k "$K"
rc_is excl-exit-77 "$W/out-excl" 77
if grep -qi 'exclu' "$W/out-excl" "$W/out-excl.err"; then
	pass excl-message
else
	fail excl-message "no message saying it is excluded"
fi
ours "$W/out-excl-all" "$W/excl" install --all -k "$K"
rc_is excl-all-exit-0 "$W/out-excl-all" 0
check_eq excl-all-status "dkb-dummy/2.0, $K, $ARCH: installed
dkb-excl/1.0: added" "$(status_of "$W/excl")"

# ---- no headers ----------------------------------------------------------------

# A kernel with a module directory but no build link: what a kernel
# installed before its headers looks like.
NOHDR=6.1.0-99-amd64
root_with nohdr dkb-dummy-2.0
mkdir -p "$W/nohdr/lib/modules/$NOHDR"
ours "$W/out-nohdr" "$W/nohdr" install -m dkb-dummy -v 2.0 -k "$NOHDR"
rc_is nohdr-exit-4 "$W/out-nohdr" 4
if grep -q "/lib/modules/$NOHDR/build" "$W/out-nohdr.err"; then
	pass nohdr-message-names-path
else
	fail nohdr-message-names-path "stderr does not name /lib/modules/$NOHDR/build"
fi
check_eq nohdr-nothing-built "" "$(find "$W/nohdr/var/lib/dkms/dkb-dummy" -name "*$NOHDR*")"

# ---- BUILD_DEPENDS ----------------------------------------------------------------

# dkb-dep-a (sorted first) depends on dkb-dep-b, whose PRE_BUILD takes
# 2 s.  With -j 2 both could run at once; dkb-dep-a's PRE_BUILD writes into
# its make.log whether dkb-dep-b is installed by then, and the --verbose
# "installing" lines give the start order.
root_with deps dkb-dep-a-1.0 dkb-dep-b-1.0
ours "$W/out-deps" "$W/deps" install --all -k "$K" -j 2 --verbose
rc_is deps-exit-0 "$W/out-deps" 0
check_eq deps-start-order "dkb-dep-b dkb-dep-a" \
	"$(sed -n 's|^dkms-boot: \(dkb-dep-[ab]\)/1.0: installing for.*|\1|p' "$W/out-deps.err" | tr '\n' ' ' | sed 's/ $//')"
log=$W/deps/var/lib/dkms/dkb-dep-a/1.0/$K/$ARCH/log/make.log
check_eq deps-installed-before "dep-check: dkb_dep_b installed" \
	"$(grep '^dep-check:' "$log" 2>/dev/null || echo "no dep-check line in $log")"

# ---- a build that never ends ---------------------------------------------------------

# hang.sh sleeps 300.4713 s in front, 300.4711 s in the background of its
# process group and 300.4712 s in a session of its own.  Survivors of an
# earlier, interrupted run would be counted as ours: end them first.
if [[ -n $(survivors 1)$(survivors 2)$(survivors 3) ]]; then
	note "ending dkb-hang sleepers of an earlier run"
	end_leftovers
	sleep 0.5
fi
root_with hang dkb-hang-1.0
mkdir -p "$W/work"
ours "$W/out-hang" "$W/hang" install -m dkb-hang -v 1.0 -k "$K" --timeout 3 --workdir "$W/work"
rc_is hang-exit-5 "$W/out-hang" 5
ms=$(cat "$W/out-hang.ms")
if ((ms < 10000)); then pass hang-within-10s; else fail hang-within-10s "took $ms ms"; fi
sleep 0.5 # SIGKILL is delivered, not awaited
check_eq hang-no-process-left "" "$(survivors 3)$(survivors 1)"
check_eq hang-no-escaped-session-left "" "$(survivors 2)"
no_build_left hang-nothing-built "$W/hang" dkb-hang 1.0
check_eq hang-dkms-status "dkb-hang/1.0: added" "$(status_of "$W/hang")"
check_eq hang-workdir-empty "" "$(ls -A "$W/work")"
# Ours to clean up, whatever the verdict.
end_leftovers

# ---- the sandbox -----------------------------------------------------------------

# A listener on the host's loopback; the build runs in a network namespace
# of its own, so even 127.0.0.1 must not reach it.
cat >"$W/listen.py" <<'EOF'
import os, socket, sys
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(8)
s.settimeout(180)
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write(str(s.getsockname()[1]))
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
with open(sys.argv[2], "a") as log:
    while True:
        try:
            c, _ = s.accept()
        except socket.timeout:
            break
        log.write("connection\n")
        log.flush()
        c.close()
EOF
: >"$W/connections"
python3 "$W/listen.py" "$W/port" "$W/connections" &
listener=$!
for _ in $(seq 50); do
	[[ -s $W/port ]] && break
	sleep 0.1
done
[[ -s $W/port ]] || die "the loopback listener did not start"
port=$(cat "$W/port")
# The control: from the host, the listener answers.
bash -c "echo control >/dev/tcp/127.0.0.1/$port" || die "cannot reach my own listener"

root_with probe dkb-probe-1.0
echo "$port" >"$W/probe/usr/src/dkb-probe-1.0/probe-port"
rm -f /tmp/dkb-probe-private /etc/dkb-probe-escape
ours "$W/out-probe" "$W/probe" install -m dkb-probe -v 1.0 -k "$K"
rc_is probe-exit-0 "$W/out-probe" 0
log=$W/probe/var/lib/dkms/dkb-probe/1.0/$K/$ARCH/log/make.log
[[ -f $log ]] || log=$W/probe/var/lib/dkms/dkb-probe/1.0/build/make.log
want=''
for where in pre_build make; do
	want+="probe $where uid 65534
probe $where net denied
probe $where usr-src denied
probe $where dkms-tree denied
probe $where lib-modules denied
probe $where etc denied
probe $where build-dir ok
probe $where tmp ok
"
done
check_eq probe-results "${want%$'\n'}" "$(grep '^probe ' "$log" 2>/dev/null || echo "no probe lines in $log")"
sleep 0.5
check_eq probe-listener-untouched "connection" "$(cat "$W/connections")"
check_eq probe-nothing-escaped "" "$(ls -d "$W/probe/usr/src/dkb-probe-escape" \
	"$W/probe/var/lib/dkms/dkb-probe-escape" "$W/probe/lib/modules/dkb-probe-escape" \
	/etc/dkb-probe-escape /tmp/dkb-probe-private 2>/dev/null || true)"
# Should something have escaped, it was ours: remove it.
rm -f /etc/dkb-probe-escape /tmp/dkb-probe-private
kill "$listener" 2>/dev/null || true
wait "$listener" 2>/dev/null || true
listener=''

# ---- parallel builds share -j ---------------------------------------------------------

# Four clones of dkb-timed; each make logs "start <ns> <jobs>" and
# "end <ns>" around a 2 s pause.  With --all -j 2 the -j of the builds
# running at any moment must add up to at most 2, and two must overlap.
mkdir -p "$W/timed-src"
clones=()
for i in 1 2 3 4; do
	d=$W/timed-src/dkb-timed$i-1.0
	cp -R "$DKB_MODULES/dkb-timed-1.0" "$d"
	mv "$d/dkb_timed.c" "$d/dkb_timed$i.c"
	sed -i -e "s/dkb-timed/dkb-timed$i/g" -e "s/dkb_timed/dkb_timed$i/g" "$d/dkms.conf" "$d/Makefile"
	clones+=("$d")
done
root_with timed "${clones[@]}"
ours "$W/out-timed" "$W/timed" install --all -k "$K" -j 2
rc_is timed-exit-0 "$W/out-timed" 0
python3 - "$W/timed/var/lib/dkms" "$K" "$ARCH" >"$W/overlap" 2>&1 <<'EOF' || true
import sys
tree, kver, arch = sys.argv[1:4]
events = []
for i in range(1, 5):
    path = f"{tree}/dkb-timed{i}/1.0/{kver}/{arch}/log/make.log"
    start = end = None
    for line in open(path):
        w = line.split()
        if len(w) == 3 and w[0] == "start":
            start, jobs = int(w[1]), int(w[2])
        elif len(w) == 3 and w[0] == "end":
            end = int(w[1])
    if start is None or end is None:
        sys.exit(f"{path}: no start/end lines")
    print(f"dkb-timed{i}: -j{jobs} from {start} to {end}")
    events += [(start, 1, jobs), (end, -1, -jobs)]
# Ends sort before starts at the same instant: touching is not overlapping.
running = jobs_sum = max_running = max_jobs = 0
for _, d, j in sorted(events):
    running += d
    jobs_sum += j
    max_running = max(max_running, running)
    max_jobs = max(max_jobs, jobs_sum)
print(f"max-jobs {max_jobs}")
print(f"max-overlap {max_running}")
EOF
note_file "parallel builds" "$W/overlap"
max_jobs=$(sed -n 's/^max-jobs //p' "$W/overlap")
max_overlap=$(sed -n 's/^max-overlap //p' "$W/overlap")
if [[ -n $max_jobs ]] && ((max_jobs <= 2)); then
	pass timed-jobs-within-budget
else
	fail timed-jobs-within-budget "at most 2 make jobs at once, saw ${max_jobs:-?}"
fi
if [[ -n $max_overlap ]] && ((max_overlap >= 2)); then
	pass timed-builds-overlap
else
	fail timed-builds-overlap "builds ran one at a time (max overlap ${max_overlap:-?})"
fi

# Headers without Debian's .kernelvariables (as other distributions ship
# them): the build takes the plain path, with CC unset as dkms leaves it.
root_with plainhdr dkb-dummy-2.0
P=6.1.0-77-amd64
mkdir -p "$W/plainhdr/lib/modules/$P/build"
for f in /usr/src/linux-headers-"$K"/* /usr/src/linux-headers-"$K"/.config \
	/usr/src/linux-headers-"$K"/Module.symvers; do
	ln -sfn "$f" "$W/plainhdr/lib/modules/$P/build/${f##*/}"
done
ours "$W/plainhdr.out" "$W/plainhdr" build -m dkb-dummy -v 2.0 -k "$P"
if [[ $(cat "$W/plainhdr.out.rc") == 0 ]] &&
	[[ -f $W/plainhdr/var/lib/dkms/dkb-dummy/2.0/$P/x86_64/module/dummy.ko ]]; then
	pass no-kernelvariables-builds
else
	fail no-kernelvariables-builds "exit $(cat "$W/plainhdr.out.rc")"
fi

note "build-failures took $((SECONDS - script_start)) s"
finish
