#!/bin/bash
# make demo: the strongest real thing dkms-boot does today.
#
# A machine has dkb-dummy (a module named "dummy" that replaces the
# in-tree driver, like Intel's i40evf over the in-tree one) built and
# installed by real dkms for kernel A.  Kernel B arrives, but dkms's
# autoinstall never ran for it (headers came later, a chroot built the
# image...).  dkms-boot's boot-time check spots that B lacks the module,
# builds and installs it in its sandbox exactly as dkms would (real
# `dkms status` agrees), keeps the result in its verified cache, and the
# every-boot no-op check then costs microseconds next to dkms autoinstall.
#
# Real dkms runs in a private mount namespace; the host is not touched.
# (Building inside the initramfs and the VM boot are the next steps.)
set -euo pipefail

cd "$(dirname "$0")/.."
. tests/integration/lib.sh

BIN=$PWD/build/dkms-boot
A=${DKB_KVERS[0]}
B=${DKB_KVERS[1]}
ARCH=$DKB_ARCH

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() {
	printf '$ %s\n' "$*"
	"$@" || printf '(exit %d)\n' "$?"
}

dkb_tmpdir_var ROOT
dkms_root_init "$ROOT/root"
R=$ROOT/root
dkms_tree_add dkb-dummy-2.0 "$R"

say "dkms installs dkb-dummy 2.0 for the running kernel $A"
dkms_sandbox "$R" bash -c "dkms add -m dkb-dummy -v 2.0 >/dev/null &&
	dkms install -m dkb-dummy -v 2.0 -k $A 2>&1 | tail -3"

say "kernel $B is installed, but dkms autoinstall never ran for it"
run "$BIN" check -k "$B" --root "$R"

say "dkms-boot status (outside) vs dkms status (inside the sandbox)"
"$BIN" status --root "$R" >"$ROOT/ours"
dkms_sandbox "$R" dkms status >"$ROOT/theirs" 2>/dev/null
cat "$ROOT/ours"
if cmp -s "$ROOT/ours" "$ROOT/theirs"; then
	echo "-> identical to dkms status"
else
	echo "-> DIFFERENT from dkms status:"
	diff -u "$ROOT/theirs" "$ROOT/ours" || true
	exit 1
fi

say "the check as a machine reads it"
"$BIN" check -k "$B" --root "$R" --json || true

say "dkms-boot builds and installs it for $B (sandboxed: no network, throwaway overlay root, uid 65534, seccomp)"
# The headers are bound into the sandbox root, so the build runs there.
dkms_sandbox "$R" "$BIN" install --all -k "$B" 2>&1 | grep -v '^depmod: WARNING'
run "$BIN" check -k "$B" --root "$R"

say "real dkms agrees"
dkms_sandbox "$R" dkms status

say "the build goes into the verified module cache (what a diskless node boots from)"
run "$BIN" cache add -m dkb-dummy -v 2.0 -k "$B" --root "$R"
run "$BIN" cache verify --root "$R"
mkdir -p "$ROOT/overlay"
run "$BIN" cache unpack -k "$B" --into "$ROOT/overlay" --root "$R"
find "$ROOT/overlay" -name '*.ko' -printf '%P  %s bytes\n'


say "the every-boot no-op: dkms-boot check vs dkms autoinstall, nothing to do"
t0=$(date +%s%N)
for _ in $(seq 100); do "$BIN" check -k "$B" --root "$R" -q >/dev/null; done
t1=$(date +%s%N)
dkms_sandbox "$R" dkms autoinstall -k "$B" >/dev/null 2>&1
t2=$(date +%s%N)
ours=$(((t1 - t0) / 100))
theirs=$((t2 - t1))
printf 'dkms-boot check: %d us   dkms autoinstall: %d us   ratio: %dx\n' \
	$((ours / 1000)) $((theirs / 1000)) $((theirs / ours))
printf 'static binary: %s bytes\n' "$(stat -c %s "$BIN")"
