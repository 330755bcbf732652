#!/bin/bash
# Hostile inputs through the command line, under the ASan+UBSan build (a
# sanitizer report fails the case that produced it):
#   - dkms.conf files that are broken, huge, binary, endless or nasty bash,
#     through `eval` (exit status, a message naming the file and the
#     reason, and, wherever dkms itself gets an answer, the same answer as
#     dkms 3.0.10's read_conf via dkms-readconf-oracle.sh);
#   - DKMS trees with unsafe module names, symlink loops and dangling links,
#     through `status --root` (same output and exit status as real
#     `dkms status` on the same tree, in a sandbox) and `check --root`
#     (ends, says which package is broken and why).
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

need_root
need_cmds dkms unshare timeout mkfifo

BIN=${DKMS_BOOT_TEST:-$DKB_REPO/build/test/dkms-boot}
ORACLE=$DKB_REPO/tests/integration/dkms-readconf-oracle.sh
K=${DKB_KVERS[1]}
A=x86_64
# --eval-timeout for the endless confs, and how long past it a run may
# take (ASan start-up, the kill, a loaded machine).
TIMEOUT_MS=2000
SLACK_MS=3000
[[ -x $BIN ]] || die "no $BIN (make build/test/dkms-boot)"

dkb_tmpdir_var WORK
C=$WORK/conf
O=$WORK/out
mkdir -p "$C" "$O"

# ---- helpers --------------------------------------------------------------

now_ms() {
	echo $(($(date +%s%N) / 1000000))
}

# run OUT CMD...: capture (OUT, OUT.err, OUT.rc) plus the wall time in
# OUT.ms; a hard limit of 60 s so that a hang fails instead of blocking.
run() {
	local out=$1 t0
	shift
	t0=$(now_ms)
	capture "$out" timeout 60 "$@"
	echo $(($(now_ms) - t0)) >"$out.ms"
}

rc_of() { cat "$1.rc"; }

# A sanitizer report anywhere in OUT.err fails NAME-sanitizers.
check_sanitizers() {
	local name=$1 out=$2
	if grep -qE 'runtime error:|ERROR: AddressSanitizer|ERROR: LeakSanitizer|SUMMARY: (Address|Undefined|Leak)' "$out.err"; then
		fail "$name-sanitizers" "$(head -30 "$out.err")"
	fi
}

# check_rc NAME OUT WANT
check_rc() {
	check_eq "$1-exit" "$3" "$(rc_of "$2")"
}

# check_stderr NAME OUT FILE REGEX: stderr names FILE and matches REGEX.
check_stderr() {
	local name=$1 out=$2 file=$3 re=$4
	if grep -qF -- "$file" "$out.err" && grep -qiE -- "$re" "$out.err"; then
		pass "$name-reason"
	else
		fail "$name-reason" "stderr should name $file and match /$re/; it is:" \
			"$(head -c 2000 "$out.err")"
	fi
}

# check_fast NAME OUT MAX_MS
check_fast() {
	local ms
	ms=$(cat "$2.ms")
	if ((ms <= $3)) && [[ $(rc_of "$2") != 124 ]]; then
		pass "$1-ends"
	else
		fail "$1-ends" "took $ms ms (limit $3 ms), exit $(rc_of "$2")"
	fi
}

resolved() {
	grep -v -e '^method=' -e '^var ' "$1" || true
}

# eval_conf OUT FILE [ARGS...]: dkms-boot eval on FILE.
eval_conf() {
	local out=$1 file=$2
	shift 2
	run "$out" "$BIN" eval --conf "$file" -m h -v 1 -k "$K" -a "$A" --no-cache \
		--eval-timeout "$TIMEOUT_MS" "$@"
	check_sanitizers "${out##*/}" "$out"
}

# vs_dkms NAME FILE OUT: the resolved values in OUT equal those of dkms's
# read_conf, and eval exits 3 exactly when read_conf fails.
vs_dkms() {
	local name=$1 file=$2 out=$3
	capture "$O/$name.dkms" timeout 60 bash "$ORACLE" -m h -v 1 -k "$K" -a "$A" "$file" </dev/null
	check_eq "$name-eq-dkms" "$(cat "$O/$name.dkms")" "$(resolved "$out")"
	check_eq "$name-exit-eq-dkms" \
		"$( (($(rc_of "$O/$name.dkms") == 0)) && echo 0 || echo 3)" "$(rc_of "$out")"
}

# conf NAME LINES...: write C/NAME.conf, a valid conf followed by LINES.
conf() {
	local name=$1
	shift
	{
		printf '%s\n' PACKAGE_NAME=h PACKAGE_VERSION=1 'BUILT_MODULE_NAME[0]=h' \
			'DEST_MODULE_LOCATION[0]=/extra' AUTOINSTALL=yes
		if (($#)); then printf '%s\n' "$@"; fi
	} >"$C/$name.conf"
}

# ---- eval: broken syntax --------------------------------------------------

# Unterminated quotes: native refuses and says where; bash (auto) goes on
# with what was assigned before, as dkms does.
conf unterm-dq 'MAKE="make all'
conf unterm-sq "MAKE='make all"
printf '%s\n' 'PACKAGE_NAME="h' PACKAGE_VERSION=1 >"$C/unterm-first.conf"
for n in unterm-dq unterm-sq unterm-first; do
	f=$C/$n.conf
	eval_conf "$O/$n.native" "$f" --method native
	check_rc "hostile-$n-native" "$O/$n.native" 3
	check_stderr "hostile-$n-native" "$O/$n.native" "$f" 'unterminated'
	eval_conf "$O/$n.auto" "$f"
	check_stderr "hostile-$n-auto" "$O/$n.auto" "$f" 'unexpected EOF|unterminated'
	vs_dkms "hostile-$n-auto" "$f" "$O/$n.auto"
done

# ---- eval: size limits ----------------------------------------------------

# A 1 MB line (in a file under the 1 MiB limit) is taken by both readers.
n=long-line
{
	printf '%s\n' PACKAGE_NAME=h PACKAGE_VERSION=1 'BUILT_MODULE_NAME[0]=h' \
		'DEST_MODULE_LOCATION[0]=/extra'
	printf 'MAKE="'
	head -c 1000000 /dev/zero | tr '\0' x
	printf '"\n'
} >"$C/$n.conf"
eval_conf "$O/$n.native" "$C/$n.conf" --method native
eval_conf "$O/$n.bash" "$C/$n.conf" --method bash
check_rc "hostile-$n-native" "$O/$n.native" 0
check_rc "hostile-$n-bash" "$O/$n.bash" 0
check_eq "hostile-$n-native-eq-bash" "$(grep -v '^method=' "$O/$n.bash")" \
	"$(grep -v '^method=' "$O/$n.native")"
check_eq "hostile-$n-length" 1000000 \
	"$(sed -n 's/^make_command=//p' "$O/$n.native" | tr -d '\n' | wc -c)"
vs_dkms "hostile-$n-bash" "$C/$n.conf" "$O/$n.bash"

# 2 MB: refused by every method, before any evaluation.
n=2mb
{
	head -5 "$C/unterm-dq.conf"
	head -c 2097152 /dev/zero | tr '\0' '#'
	echo
} >"$C/$n.conf"
for m in native bash auto; do
	eval_conf "$O/$n.$m" "$C/$n.conf" --method "$m"
	check_rc "hostile-$n-$m" "$O/$n.$m" 3
	check_stderr "hostile-$n-$m" "$O/$n.$m" "$C/$n.conf" 'larger than'
	check_eq "hostile-$n-$m-no-result" "" "$(cat "$O/$n.$m")"
done

# The limit itself: 1 MiB is taken, one byte more is not.
for size in 1048576 1048577; do
	n=size-$size
	{
		printf '%s\n' PACKAGE_NAME=h PACKAGE_VERSION=1 'BUILT_MODULE_NAME[0]=h' \
			'DEST_MODULE_LOCATION[0]=/extra'
	} >"$C/$n.conf"
	pad=$((size - $(stat -c %s "$C/$n.conf") - 1))
	{
		head -c "$pad" /dev/zero | tr '\0' '#'
		echo
	} >>"$C/$n.conf"
	eval_conf "$O/$n" "$C/$n.conf"
	if ((size <= 1048576)); then
		check_rc "hostile-$n" "$O/$n" 0
	else
		check_rc "hostile-$n" "$O/$n" 3
		check_stderr "hostile-$n" "$O/$n" "$C/$n.conf" 'larger than'
	fi
done

# ---- eval: binary data ----------------------------------------------------

n=nul
conf "$n"
printf 'MAKE="ab\0cd"\nCLEAN=after\n' >>"$C/$n.conf"
eval_conf "$O/$n.native" "$C/$n.conf" --method native
check_rc "hostile-$n-native" "$O/$n.native" 3
check_stderr "hostile-$n-native" "$O/$n.native" "$C/$n.conf" 'NUL|0x00|null|control'
eval_conf "$O/$n.auto" "$C/$n.conf"
vs_dkms "hostile-$n-auto" "$C/$n.conf" "$O/$n.auto"

n=binary
head -c 4096 /dev/urandom >"$C/$n.conf" 2>/dev/null
# Reproducible garbage: a fixed seed would need a tool; random bytes are
# fine as long as every run ends cleanly.
eval_conf "$O/$n" "$C/$n.conf"
check_fast "hostile-$n" "$O/$n" $((TIMEOUT_MS + SLACK_MS))
if [[ $(rc_of "$O/$n") == 3 || $(rc_of "$O/$n") == 0 ]]; then
	pass "hostile-$n-exit"
else
	fail "hostile-$n-exit" "exit $(rc_of "$O/$n")" "$(head -c 1000 "$O/$n.err")"
fi

# ---- eval: names and locations dkms takes ---------------------------------

# dkms takes "../evil" and "a/b" (eval shows them); check refuses them,
# see the trees below.
n=evil-names
conf "$n" 'BUILT_MODULE_NAME[0]="../evil"' 'BUILT_MODULE_NAME[1]="a/b"' \
	'DEST_MODULE_LOCATION[1]=/extra'
eval_conf "$O/$n" "$C/$n.conf"
check_rc "hostile-$n" "$O/$n" 0
check_eq "hostile-$n-shown" $'module[0].built_name=../evil\nmodule[1].built_name=a/b' \
	"$(grep '^module\[.\]\.built_name=' "$O/$n")"
vs_dkms "hostile-$n" "$C/$n.conf" "$O/$n"

# A location outside /kernel, /updates, /extra: dkms's own error, exit 3.
n='dest-opt'
conf "$n" 'DEST_MODULE_LOCATION[0]="/opt/x"'
eval_conf "$O/$n" "$C/$n.conf"
check_rc "hostile-$n" "$O/$n" 3
check_eq "hostile-$n-dkms-message" \
	$'error[0]=dkms.conf: Error! Directive \'DEST_MODULE_LOCATION\' does not begin with\nerror[1]=\'/kernel\', \'/updates\', or \'/extra\' in record #0.' \
	"$(grep '^error' "$O/$n")"
vs_dkms "hostile-$n" "$C/$n.conf" "$O/$n"
check_stderr "hostile-$n" "$O/$n" "$C/$n.conf" 'DEST_MODULE_LOCATION'

# ---- eval: confs that do not end, or hold on ------------------------------

n=endless
conf "$n" 'while :; do :; done'
eval_conf "$O/$n" "$C/$n.conf"
check_rc "hostile-$n" "$O/$n" 3
check_fast "hostile-$n" "$O/$n" $((TIMEOUT_MS + SLACK_MS))
check_stderr "hostile-$n" "$O/$n" "$C/$n.conf" 'tim'
eval_conf "$O/$n.native" "$C/$n.conf" --method native
check_rc "hostile-$n-native" "$O/$n.native" 3
check_stderr "hostile-$n-native" "$O/$n.native" "$C/$n.conf" 'while'

# Endless recursion: bash either dies of it or runs into the time limit.
n=recursion
conf "$n" 'f() { f; }' 'f'
eval_conf "$O/$n" "$C/$n.conf"
check_fast "hostile-$n" "$O/$n" $((TIMEOUT_MS + SLACK_MS))
if [[ $(rc_of "$O/$n") == 3 ]] && grep -qF "$C/$n.conf" "$O/$n.err"; then
	pass "hostile-$n-reason"
else
	fail "hostile-$n-reason" "want exit 3 and a message naming the file; exit $(rc_of "$O/$n"):" \
		"$(head -c 1000 "$O/$n.err")"
fi

# A background child that keeps bash's stdout and stderr open.
n=background
conf "$n" 'sleep 20 &' 'MAKE=after'
eval_conf "$O/$n" "$C/$n.conf"
check_fast "hostile-$n" "$O/$n" $((TIMEOUT_MS + SLACK_MS))
vs_dkms "hostile-$n" "$C/$n.conf" "$O/$n"

# A conf reading stdin must not get ours (a pipe that never ends here).
n=stdin
# shellcheck disable=SC2016
conf "$n" 'cat >/dev/null' 'read -r x' 'MAKE="after $x"'
mkfifo "$WORK/fifo"
exec 7<>"$WORK/fifo"
eval_conf "$O/$n" "$C/$n.conf" <&7
exec 7>&-
check_fast "hostile-$n" "$O/$n" $((TIMEOUT_MS + SLACK_MS))
vs_dkms "hostile-$n" "$C/$n.conf" "$O/$n"

# ---- eval: bash that dkms survives: same answer as dkms -------------------

# shellcheck disable=SC2016
HOSTILE_BASH=(
	'exit-mid|exit 0|MAKE=late'
	'exit-first|PACKAGE_NAME=x; exit 1'
	'return-mid|return|MAKE=late'
	'set-e|set -e|false|MAKE=late'
	'set-u|set -u|MAKE="$nosuchvar"|CLEAN=late'
	'compound|BUILT_MODULE_NAME=( a b )|DEST_MODULE_LOCATION=( /extra /kernel/x )'
	'assoc|declare -A MAKE=([x]=y)'
	'escapes|MAKE=$'"'"'a\nb\tc\\d'"'"
	'blanks-glob|MAKE="a   b		c *"|CLEAN="/e*"'
	'readonly|readonly PACKAGE_VERSION|MAKE=x'
	'trap-exit|trap "MAKE=trapped" EXIT|MAKE=plain'
	'path|PATH=/nonexistent|MAKE="$(echo hi)"'
	'cd|cd /nonexistent-dir|MAKE=after'
	'quotes-twice|MAKE="say \"\$kernelver\" \`echo hi\`"'
	'unset-all|unset PACKAGE_NAME BUILT_MODULE_NAME'
	'eval-injection|PACKAGE_NAME='"'"'x"; MAKE=injected; "'"'"
)
for spec in "${HOSTILE_BASH[@]}"; do
	IFS='|' read -r -a parts <<<"$spec"
	n=${parts[0]}
	conf "$n" "${parts[@]:1}"
	eval_conf "$O/$n" "$C/$n.conf"
	check_fast "hostile-$n" "$O/$n" $((TIMEOUT_MS + SLACK_MS))
	vs_dkms "hostile-$n" "$C/$n.conf" "$O/$n"
done

# ---- trees: status and check ----------------------------------------------

# tree NAME: a fresh sandbox root in T (dkms_root_init).
tree() {
	T=$WORK/tree/$1
	dkms_root_init "$T"
}

# pkg NAME [CONF-LINES...]: NAME/1.0 added (source -> /usr/src/NAME-1.0).
pkg() {
	local m=$1
	shift
	mkdir -p "$T/usr/src/$m-1.0" "$T/var/lib/dkms/$m/1.0"
	{
		printf '%s\n' "PACKAGE_NAME=$m" PACKAGE_VERSION=1.0 "BUILT_MODULE_NAME[0]=$m" \
			'DEST_MODULE_LOCATION[0]=/extra' AUTOINSTALL=yes
		if (($#)); then printf '%s\n' "$@"; fi
	} >"$T/usr/src/$m-1.0/dkms.conf"
	ln -s "/usr/src/$m-1.0" "$T/var/lib/dkms/$m/1.0/source"
}

# built NAME [DEST...]: NAME/1.0 built for K (empty module files).
built() {
	local m=$1 d
	shift
	d=$T/var/lib/dkms/$m/1.0/$K/$A
	mkdir -p "$d/module" "$d/log"
	for f in "${@:-$m}"; do
		: >"$d/module/$f.ko"
	done
}

# compare_status NAME: dkms-boot status --root T must print what dkms
# status prints in the sandbox and end.  Its exit status must be dkms's,
# or 3 with a message naming the package where dkms died half-way (dkms
# dies in a subshell there and still exits 0).
compare_status() {
	local name=$1 drc orc
	capture "$O/$name.dkms-status" dkms_sandbox "$T" timeout 60 dkms status
	run "$O/$name.status" "$BIN" status --root "$T" --no-cache
	check_sanitizers "hostile-tree-$name-status" "$O/$name.status"
	check_fast "hostile-tree-$name-status" "$O/$name.status" 30000
	note_file "$name: dkms status stderr" "$O/$name.dkms-status.err"
	note_file "$name: dkms-boot status stderr" "$O/$name.status.err"
	check_eq "hostile-tree-$name-status-eq-dkms" \
		"$(cat "$O/$name.dkms-status")" "$(cat "$O/$name.status")"
	drc=$(rc_of "$O/$name.dkms-status")
	orc=$(rc_of "$O/$name.status")
	if [[ $orc == "$drc" ]] ||
		{ [[ $orc == 3 ]] && grep -q 'Error!' "$O/$name.dkms-status.err" &&
			grep -qE "$2" "$O/$name.status.err"; }; then
		pass "hostile-tree-$name-status-exit"
	else
		fail "hostile-tree-$name-status-exit" "dkms exit $drc, dkms-boot exit $orc:" \
			"$(cat "$O/$name.status.err")"
	fi
}

# run_check NAME: dkms-boot check --root T --json; ends, no sanitizer.
run_check() {
	local name=$1
	run "$O/$name.check" "$BIN" check --root "$T" -k "$K" -a "$A" --no-cache --json
	check_sanitizers "hostile-tree-$name-check" "$O/$name.check"
	check_fast "hostile-tree-$name-check" "$O/$name.check" 30000
	note "$name: check: $(cat "$O/$name.check") (exit $(rc_of "$O/$name.check"))"
}

# expect_pkg NAME MODULE STATE CODE REGEX: check's JSON has MODULE in
# STATE with CODE (- for any) and a reason matching REGEX.
expect_pkg() {
	local name=$1 m=$2 state=$3 code=$4 re=$5 obj
	obj=$(grep -o "{\"module\":\"$m\"[^}]*}" "$O/$name.check" || true)
	if [[ $obj == *"\"state\":\"$state\""* ]] &&
		[[ $code == - || $obj == *"\"$code\""* ]] &&
		grep -qE -- "$re" <<<"$obj"; then
		pass "hostile-tree-$name-check-$m"
	else
		fail "hostile-tree-$name-check-$m" \
			"want $m $state, code $code, reason /$re/; got: ${obj:-nothing}"
	fi
}

# Unsafe names: dkms would write ../evil.ko outside the module dir.
tree names
pkg evil 'BUILT_MODULE_NAME[0]="../evil"'
pkg slash 'BUILT_MODULE_NAME[0]="a/b"'
pkg dotdot 'DEST_MODULE_LOCATION[0]="/extra/../../../../etc"'
compare_status names '^$'
run_check names
check_rc "hostile-tree-names-check" "$O/names.check" 3
expect_pkg names evil broken unsafe-name '\.\./evil'
expect_pkg names slash broken unsafe-name 'a/b'
expect_pkg names dotdot broken unsafe-name '\.\.'

# source -> source, added only (dkms status lists it as added).
tree selfsrc
pkg selfsrc
ln -sfn source "$T/var/lib/dkms/selfsrc/1.0/source"
pkg good
compare_status selfsrc '^$'
run_check selfsrc
expect_pkg selfsrc selfsrc broken bad-conf 'selfsrc'

# source -> source with a build: dkms must read the conf and dies.
tree selfsrc-built
pkg aaa
pkg selfsrc
ln -sfn source "$T/var/lib/dkms/selfsrc/1.0/source"
built selfsrc
pkg zzz
built zzz
compare_status selfsrc-built 'selfsrc/1.0.*dkms.conf'
run_check selfsrc-built

# kernel-K-A -> itself: built, never installed.
tree kernel-loop
pkg kloop
built kloop
ln -s "kernel-$K-$A" "$T/var/lib/dkms/kloop/kernel-$K-$A"
compare_status kernel-loop '^$'
run_check kernel-loop
expect_pkg kernel-loop kloop needs-work - .

# A directory loop: K/A -> ../K, so K/A/A/A... never ends.
tree dir-loop
pkg dloop
mkdir -p "$T/var/lib/dkms/dloop/1.0/$K/module"
: >"$T/var/lib/dkms/dloop/1.0/$K/module/dloop.ko"
ln -s "../$K" "$T/var/lib/dkms/dloop/1.0/$K/$A"
compare_status dir-loop '^$'
run_check dir-loop

# The dkms tree holding a link to itself.
tree tree-loop
pkg good
ln -s . "$T/var/lib/dkms/loop"
ln -s .. "$T/var/lib/dkms/good/up"
compare_status tree-loop '^$'
run_check tree-loop
expect_pkg tree-loop good needs-work not-built .

# /lib/modules/K/build -> build and updates -> updates: the kernel's
# .config and the install location are unreachable.
tree kernel-dir-loops
pkg good
built good
ln -s "1.0/$K/$A" "$T/var/lib/dkms/good/kernel-$K-$A"
rm -f "$T/lib/modules/$K/build"
ln -s build "$T/lib/modules/$K/build"
ln -s updates "$T/lib/modules/$K/updates"
compare_status kernel-dir-loops '^$'
run_check kernel-dir-loops
expect_pkg kernel-dir-loops good needs-work - .

# A dangling source link, added and built.
tree dangling
pkg dangling
ln -sfn /usr/src/gone-1.0 "$T/var/lib/dkms/dangling/1.0/source"
pkg good
compare_status dangling '^$'
run_check dangling
expect_pkg dangling dangling broken bad-conf 'dangling'
tree dangling-built
pkg aaa
pkg dangling
ln -sfn /usr/src/gone-1.0 "$T/var/lib/dkms/dangling/1.0/source"
built dangling
pkg zzz
built zzz
compare_status dangling-built 'dangling/1.0.*dkms.conf'
run_check dangling-built

finish
