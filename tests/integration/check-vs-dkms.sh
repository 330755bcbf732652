#!/bin/bash
# `dkms-boot check` on trees made by real dkms: the decision agrees with
# what dkms autoinstall would do, vermagic is read from real modules, and
# the warm no-op path neither forks nor opens a module body.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
need_root
need_cmds dkms strace python3

BIN=${DKMS_BOOT_TEST:?}
STATIC=${DKMS_BOOT_STATIC:?}
A=${DKB_KVERS[0]}
B=${DKB_KVERS[1]}

dkb_tmpdir_var W
dkms_root_init "$W/root"
R=$W/root
dkms_tree_add dkb-dummy-2.0 "$R"
dkms_tree_add dkb-pair-1.0 "$R"

# check_case NAME WANT_RC PATTERN [ARGS...]: run check against R.
check_case() {
	local name=$1 want_rc=$2 pat=$3
	shift 3
	capture "$W/out" "$BIN" check -k "$B" --root "$R" "$@"
	local rc
	rc=$(cat "$W/out.rc")
	note_file "check $*" "$W/out"
	if [[ $rc != "$want_rc" ]]; then
		fail "$name" "exit $rc, want $want_rc"
	elif ! grep -qE -- "$pat" "$W/out"; then
		fail "$name" "no line matching: $pat"
	else
		pass "$name"
	fi
}

dkms_in -- add -m dkb-dummy -v 2.0
dkms_in -- add -m dkb-pair -v 1.0
check_case check-added-not-built 1 "^dkb-dummy/2.0, $B, x86_64: needs-work: not built"

dkms_in -- build -m dkb-dummy -v 2.0 -k "$B"
check_case check-built-not-installed 1 "dkb-dummy/2.0, .*: needs-work: built for .* but not installed"

dkms_in -- install -m dkb-dummy -v 2.0 -k "$B"
dkms_in -- install -m dkb-pair -v 1.0 -k "$B"
check_case check-installed-current 0 "^dkb-pair/1.0, $B, x86_64: current$"


# dkms agrees there is nothing to do: autoinstall changes nothing.
before=$(dkms_sandbox "$R" dkms status)
dkms_sandbox "$R" dkms autoinstall -k "$B" >/dev/null 2>&1
check_eq check-dkms-autoinstall-agrees-noop "$before" "$(dkms_sandbox "$R" dkms status)"

# JSON is valid and says the same.
"$BIN" check -k "$B" --root "$R" --json >"$W/json" || true
if python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert not d["needs_work"]; assert all(p["state"]=="current" for p in d["packages"])' "$W/json"; then
	pass check-json
else
	fail check-json "$(cat "$W/json")"
fi

# The warm no-op path: a first run fills the caches, the second must not
# fork or exec anything and must not open any .ko (module bodies).
"$STATIC" check -k "$B" --root "$R" >/dev/null
strace -f -qq -e trace=execve,clone,clone3,fork,vfork,openat -o "$W/trace" \
	"$STATIC" check -k "$B" --root "$R" >/dev/null
forks=$(grep -cE '^[0-9]+ +(clone|clone3|fork|vfork)\(' "$W/trace" || true)
execs=$(grep -cE '^[0-9]+ +execve\(' "$W/trace" || true)
kos=$(grep -E 'openat\(.*\.ko' "$W/trace" | grep -vc ENOENT || true)
note_file strace "$W/trace"
check_eq check-noop-no-fork "0 1 0" "$forks $execs $kos"


# Vermagic: a module built for kernel A, installed (and recorded in the
# tree) as if for B.  Same bytes on both sides, so only vermagic can tell.
dkms_in -- build -m dkb-dummy -v 2.0 -k "$A"
cp "$R/var/lib/dkms/dkb-dummy/2.0/$A/x86_64/module/dummy.ko" \
	"$R/var/lib/dkms/dkb-dummy/2.0/$B/x86_64/module/dummy.ko"
cp "$R/var/lib/dkms/dkb-dummy/2.0/$A/x86_64/module/dummy.ko" \
	"$R/lib/modules/$B/updates/dkms/dummy.ko"
check_case check-vermagic-mismatch 1 "dkb-dummy/2.0, .*needs-work: .*dummy.ko has vermagic \"$A .*\", not for $B"
# And the state cache must not hide the change from a warm run.
"$STATIC" check -k "$B" --root "$R" >"$W/warm" || true
if grep -q "vermagic \"$A" "$W/warm"; then pass check-vermagic-cache-invalidated; else fail check-vermagic-cache-invalidated "$(cat "$W/warm")"; fi

# Installed file edited behind dkms's back: differs.
dkms_in -- build -m dkb-dummy -v 2.0 -k "$B" --force
dkms_in -- install -m dkb-dummy -v 2.0 -k "$B" --force
"$STATIC" check -k "$B" --root "$R" >/dev/null
printf 'x' >>"$R/lib/modules/$B/updates/dkms/dummy.ko"
check_case check-installed-differs 1 "dummy.ko differs from the built"

# A newer registered version: dkms autoinstall would install it.
dkms_tree_add dkb-dummy-2.1 "$R"
dkms_in -- add -m dkb-dummy -v 2.1
check_case check-newer-version 1 "dkb-dummy/2.1, .*needs-work: version 2.0 is installed for $B, 2.1 is the newest registered"

# Installed file deleted.
# (Debian installs /extra entries to /updates/dkms too.)
rm "$R/lib/modules/$B/updates/dkms/dkb_core.ko"
check_case check-installed-missing 1 "dkb-pair/1.0, .*needs-work: .*dkb_core.ko is missing"

# A package whose dkms.conf only bash can evaluate (an if).  bash runs
# chrooted into the root, and this sandbox root has none, so these cases
# run inside the sandbox (root /), as the boot agent runs on a sysroot.
cp -R "$DKB_MODULES/dkb-dummy-2.0" "$R/usr/src/dkb-shell-1.0"
cat >"$R/usr/src/dkb-shell-1.0/dkms.conf" <<'CONF'
PACKAGE_NAME="dkb-shell"
PACKAGE_VERSION="1.0"
BUILT_MODULE_NAME[0]="dummy"
DEST_MODULE_NAME[0]="dkbshell"
DEST_MODULE_LOCATION[0]="/updates"
if [ -n "$kernelver" ]; then
	AUTOINSTALL="yes"
fi
CONF
dkms_in -- add -m dkb-shell -v 1.0
dkms_in -- install -m dkb-shell -v 1.0 -k "$B"
dkms_sandbox "$R" "$STATIC" check -k "$B" >"$W/shell" 2>&1 || true
note_file "check in the sandbox" "$W/shell"
if grep -q "^dkb-shell/1.0, $B, x86_64: current$" "$W/shell"; then
	pass check-bash-conf-current
else
	fail check-bash-conf-current "$(cat "$W/shell")"
fi
# Warm: the evaluation cache spares the fork a bash-only conf needs.
dkms_sandbox "$R" strace -f -qq -e trace=execve,clone,clone3,fork,vfork \
	-o "$W/trace2" "$STATIC" check -k "$B" >/dev/null 2>&1 || true
note_file strace "$W/trace2"
check_eq check-noop-no-fork-bash-conf "0 1" \
	"$(grep -cE '^[0-9]+ +(clone|clone3|fork|vfork)\(' "$W/trace2" || true) $(grep -cE '^[0-9]+ +execve\(' "$W/trace2" || true)"
if ls "$R"/var/cache/dkms-boot/eval/* >/dev/null 2>&1; then
	pass check-eval-cache-written
else
	fail check-eval-cache-written "no file under /var/cache/dkms-boot/eval"
fi
# Without bash in the root, the reason says so.
"$BIN" check -k "$B" --root "$R" >/dev/null 2>"$W/nobash" || true
if grep -q "no bash" "$W/nobash"; then
	pass check-no-bash-in-root-reason
else
	fail check-no-bash-in-root-reason "$(cat "$W/nobash")"
fi

finish
