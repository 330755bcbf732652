# Shared helpers for dkms-boot integration tests.  Source it from a test
# script that runs under `set -euo pipefail`:
#
#	. "$(dirname "$0")/lib.sh"
#
# Output is TAP-ish: one "ok NAME" or "not ok NAME" line per case (that is
# what tests/run.sh counts), details as "# ..." lines in between.
#
# The DKMS sandbox: real dkms must run against a private tree without
# touching the host, and dkms hardcodes /lib/modules, /etc/dkms and friends
# in places, so --dkmstree and the like are not enough.  A sandbox root DIR
# (made by dkms_root_init) holds the whole layout DKMS and dkms-boot look
# at; dkms_sandbox DIR CMD... bind-mounts its parts over the real paths in
# a private mount namespace, so that inside, dkms and `dkms-boot status`
# see DIR as if it were /, while outside `dkms-boot status --root DIR`
# reads the very same files.  The mounts die with the namespace: nothing
# leaks to the host even if a test is killed.

# Glob and sort order of dkms (bash) and of our tool must not depend on the
# caller's locale.
export LC_ALL=C

DKB_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
DKB_MODULES=$DKB_REPO/tests/modules
# The two kernels whose headers scripts/install-deps.sh installs.
read -r -a DKB_KVERS <<<"${DKMS_BOOT_TEST_KVERS:-6.1.0-55-amd64 6.1.0-56-amd64}"
# shellcheck disable=SC2034 # used by the sourcing scripts
DKB_ARCH=$(uname -m)
# The sandbox root that helpers default to; dkms_root_init sets it.
DKB_ROOT=${DKB_ROOT:-}

dkb_passed=0
dkb_failed=0

# ---- TAP-ish reporting ----------------------------------------------------

pass() {
	dkb_passed=$((dkb_passed + 1))
	echo "ok $1"
}

# fail NAME [DETAIL...]: each detail goes to the log as a comment line.
fail() {
	local name=$1
	shift
	dkb_failed=$((dkb_failed + 1))
	echo "not ok $name"
	local d
	for d in "$@"; do
		printf '%s\n' "$d" | sed 's/^/#   /'
	done
}

# A one-line note in the log that cannot be mistaken for a result.
note() {
	printf '%s\n' "$*" | sed 's/^/# /'
}

# Print FILE to the log as comments, under a heading (skipped when empty).
note_file() {
	local title=$1 file=$2
	[[ -s $file ]] || return 0
	echo "# --- $title"
	sed 's/^/#   /' "$file"
}

# check_eq NAME EXPECTED ACTUAL: compare two strings; a mismatch prints a
# unified diff (expected -> actual) to the log.  Like every check here it
# returns 0 either way, so that `set -e` does not end the script at the
# first failing case; the count is in dkb_failed.
check_eq() {
	local name=$1 expected=$2 actual=$3
	if [[ $expected == "$actual" ]]; then
		pass "$name"
		return 0
	fi
	fail "$name" "expected (-) vs actual (+):"
	diff -u --label expected --label actual \
		<(printf '%s\n' "$expected") <(printf '%s\n' "$actual") |
		sed 's/^/#   /' || true
	return 0
}

# check_files_eq NAME EXPECTED_FILE ACTUAL_FILE: byte-for-byte comparison
# (command substitution would hide differences in trailing newlines).
check_files_eq() {
	local name=$1 expected=$2 actual=$3
	if cmp -s "$expected" "$actual"; then
		pass "$name"
		return 0
	fi
	fail "$name" "expected (-) $expected vs actual (+) $actual:"
	# diff -u also shows a missing final newline; cmp names the first
	# differing byte for anything subtler.
	diff -u --label expected --label actual "$expected" "$actual" |
		sed 's/^/#   /' || true
	echo "#   $(cmp "$expected" "$actual" 2>&1 || true)"
	return 0
}

# Stop the whole script: TAP's "Bail out!" plus a non-zero exit, which
# tests/run.sh counts as a failure.
die() {
	echo "Bail out! $*"
	exit 1
}

need_root() {
	[[ $(id -u) == 0 ]] || die "needs root (mount namespaces, dkms)"
}

need_cmds() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || die "needs $c (scripts/install-deps.sh)"
	done
}

# Print "N passed, N failed" as a closing comment and return non-zero when
# a case failed, so the script's exit status agrees with its output.
finish() {
	note "$dkb_passed passed, $dkb_failed failed"
	((dkb_failed == 0))
}

# ---- temporary directories ------------------------------------------------

dkb_tmpdirs=()

_dkb_cleanup() {
	local d
	if [[ -n ${DKB_KEEP:-} ]]; then
		((${#dkb_tmpdirs[@]})) && note "kept ${dkb_tmpdirs[*]} (DKB_KEEP set)"
		return 0
	fi
	# --one-file-system: the sandbox's bind mounts only exist inside its
	# namespace, but should one ever be visible here, do not descend into
	# the real /usr/src.
	for d in "${dkb_tmpdirs[@]}"; do
		rm -rf --one-file-system -- "$d"
	done
}
trap _dkb_cleanup EXIT

# dkb_tmpdir_var VAR: create a directory, removed when the script exits
# (kept when DKB_KEEP is set), and store its path in VAR.  Not a
# $(...)-style function: a subshell could not add to the cleanup list.
dkb_tmpdir_var() {
	local _d
	_d=$(mktemp -d "${TMPDIR:-/tmp}/dkms-boot-test.XXXXXX")
	dkb_tmpdirs+=("$_d")
	printf -v "$1" '%s' "$_d"
}

# ---- the sandbox root -----------------------------------------------------

# dkms_root_init DIR: lay out DIR as a root for both real dkms (through
# dkms_sandbox) and `dkms-boot --root DIR`, and make it the default root
# of the helpers below.
dkms_root_init() {
	local root=$1 k h
	mkdir -p "$root"/var/lib/dkms "$root"/usr/src "$root"/lib/modules \
		"$root"/etc/dkms "$root"/tmp
	# Kernel headers: empty mount points here, the real directories are
	# bound onto them inside the sandbox (the -amd64 headers include the
	# -common ones by absolute path, so all of them are needed).  Symlinks
	# such as linux-kbuild-6.1 -> ../lib/... are copied as they are.
	for h in /usr/src/linux-headers-* /usr/src/linux-kbuild-*; do
		[[ -e $h || -L $h ]] || continue
		if [[ -L $h ]]; then
			cp -P "$h" "$root/usr/src/"
		elif [[ -d $h ]]; then
			mkdir -p "$root/usr/src/${h##*/}"
		fi
	done
	for k in "${DKB_KVERS[@]}"; do
		[[ -d /usr/src/linux-headers-$k ]] ||
			die "no headers for $k (scripts/install-deps.sh)"
		mkdir -p "$root/lib/modules/$k"
		ln -sfn "/usr/src/linux-headers-$k" "$root/lib/modules/$k/build"
		# The Debian packages also ship source -> ...-common.
		if [[ -L /lib/modules/$k/source ]]; then
			cp -P "/lib/modules/$k/source" "$root/lib/modules/$k/"
		fi
	done
	# Only the framework settings: a host's per-module overrides
	# (/etc/dkms/<module>.conf) must not leak into the tests.
	if [[ -e /etc/dkms/framework.conf ]]; then
		cp -p /etc/dkms/framework.conf "$root/etc/dkms/"
	fi
	mkdir -p "$root/etc/dkms/framework.conf.d"
	if [[ -d /etc/dkms/framework.conf.d ]]; then
		cp -pR /etc/dkms/framework.conf.d/. "$root/etc/dkms/framework.conf.d/"
	fi
	# dkms picks the install location (/updates/dkms on Debian) from
	# os-release; the tool reads the root's copy.
	cp -L /etc/os-release "$root/etc/os-release"
	DKB_ROOT=$root
}

# The script run inside the new mount namespace: "$1" is the sandbox root,
# the rest is the command.  Mount order matters: the headers are bound
# into DIR/usr/src first, then DIR/usr/src (with them, hence --rbind) is
# bound over /usr/src, which hides the real one.
# shellcheck disable=SC2016
_dkb_sandbox_inner='
set -euo pipefail
root=$1
shift
for h in "$root"/usr/src/linux-headers-*; do
	[[ -d $h && ! -L $h ]] || continue
	mount --bind "/usr/src/${h##*/}" "$h"
done
mount --rbind "$root/usr/src" /usr/src
mount --bind "$root/var/lib/dkms" /var/lib/dkms
mount --bind "$root/lib/modules" /lib/modules
mount --bind "$root/etc/dkms" /etc/dkms
# The caches of dkms-boot live in /var/cache: never the host one.
mkdir -p "$root/var/cache"
mount --bind "$root/var/cache" /var/cache
export DKB_SANDBOX=$root
exec "$@"
'

# dkms_sandbox DIR CMD...: run CMD with DIR's tree in place of the host's
# /var/lib/dkms, /usr/src, /lib/modules and /etc/dkms.  Propagation is
# private so no mount made inside reaches the host; the namespace, and so
# every mount, ends with CMD.  Shell functions can be run when exported
# (export -f) and invoked through `bash -c`.
dkms_sandbox() {
	local root=$1
	shift
	[[ -d $root/var/lib/dkms && -d $root/lib/modules ]] ||
		die "dkms_sandbox: $root is not a sandbox root (dkms_root_init)"
	unshare --mount --propagation private -- \
		bash -c "$_dkb_sandbox_inner" dkms-sandbox "$root" "$@"
}

# dkms_in [DIR] -- ARGS...: run real dkms in the sandbox, output to the
# log as comments.  Returns dkms's exit status.
dkms_in() {
	local root=$DKB_ROOT
	if [[ $1 != -- ]]; then
		root=$1
		shift
	fi
	shift
	local out rc=0
	out=$(dkms_sandbox "$root" dkms "$@" 2>&1) || rc=$?
	echo "# \$ dkms $* (exit $rc)"
	printf '%s\n' "$out" | sed 's/^/#   /'
	return "$rc"
}

# dkms_tree_add PKG [DIR]: copy a DKMS package (a directory name under
# tests/modules, or a path) to DIR/usr/src/<name>-<version>, which is
# where `dkms add -m NAME -v VERSION` looks for it.
dkms_tree_add() {
	local pkg=$1 root=${2:-$DKB_ROOT}
	[[ $pkg == */* ]] || pkg=$DKB_MODULES/$pkg
	[[ -f $pkg/dkms.conf ]] || die "dkms_tree_add: no dkms.conf in $pkg"
	local dest
	dest=$root/usr/src/${pkg##*/}
	rm -rf "$dest"
	cp -R "$pkg" "$dest"
}

# capture OUT CMD...: run CMD with stdout to OUT, stderr to OUT.err and the
# exit status to OUT.rc; never fails, so it is safe under set -e.
capture() {
	local out=$1
	shift
	local rc=0
	"$@" >"$out" 2>"$out.err" || rc=$?
	echo "$rc" >"$out.rc"
}
