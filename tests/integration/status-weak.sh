#!/bin/bash
# installed-weak lines of `dkms status` (RHEL-style weak-modules) against
# real dkms 3.0.10.  Debian has no weak-modules program, so the sandbox
# overlays one onto /usr/sbin; dkms then reports weak links it finds in
# <install_tree>/*/weak-updates.  (3.0.10 only prints them when the
# build's module/ directory holds no regular file, so the test keeps the
# built .ko files as symlinks; several weak kernels exercise dkms's
# associative-array output order.)
set -euo pipefail
. "$(dirname "$0")/lib.sh"
need_root
need_cmds dkms

BIN=${DKMS_BOOT_TEST:?}
A=${DKB_KVERS[0]}

dkb_tmpdir_var W
dkms_root_init "$W/root"
R=$W/root
dkms_tree_add dkb-dummy-2.0 "$R"
dkms_tree_add dkb-pair-1.0 "$R"

dkms_in -- add -m dkb-dummy -v 2.0
dkms_in -- add -m dkb-pair -v 1.0
dkms_in -- install -m dkb-dummy -v 2.0 -k "$A"
dkms_in -- install -m dkb-pair -v 1.0 -k "$A"

# Built modules become symlinks to copies (same bytes).
# (The store is a dot directory inside the dkms tree: visible in the
# sandbox, and skipped by dkms's globs.)
mkdir -p "$R/var/lib/dkms/.store"
for ko in "$R"/var/lib/dkms/*/*/"$A"/x86_64/module/*.ko; do
	cp "$ko" "$R/var/lib/dkms/.store/${ko##*/}"
	ln -sfn "/var/lib/dkms/.store/${ko##*/}" "$ko"
done
# Weak links into a few other kernels' weak-updates.
for kern in 6.1.0-90-amd64 6.1.0-91-amd64 5.10.0-30-amd64 6.1.0-9-amd64; do
	mkdir -p "$R/lib/modules/$kern/weak-updates"
	for ko in dummy dkb_core dkb_user; do
		ln -sfn "../../$A/updates/dkms/$ko.ko" \
			"$R/lib/modules/$kern/weak-updates/$ko.ko"
	done
done
# A weak-modules program for both views of the root.
mkdir -p "$R/sbin" "$W/upper" "$W/work"
printf '#!/bin/sh\nexit 0\n' >"$R/sbin/weak-modules"
chmod 755 "$R/sbin/weak-modules"
cp "$R/sbin/weak-modules" "$W/upper/weak-modules"

theirs() {
	dkms_sandbox "$R" bash -c \
		'mount -t overlay overlay -o "lowerdir=/usr/sbin,upperdir=$1,workdir=$2" /usr/sbin && dkms status "${@:3}"' \
		x "$W/upper" "$W/work" "$@" 2>/dev/null
}

for q in "" "-m dkb-pair" "-k 6.1.0-91-amd64" "-m dkb-dummy -k 6.1.0-9-amd64"; do
	# shellcheck disable=SC2086
	want=$(theirs $q)
	# shellcheck disable=SC2086
	got=$("$BIN" status --root "$R" $q)
	name=status-weak${q:+-${q// /}}
	check_eq "$name" "$want" "$got"
done
# The lines must really be there, or the comparison proves little.
n=$(theirs | grep -c installed-weak || true)
if ((n >= 8)); then pass status-weak-present; else fail status-weak-present "$n lines"; fi
# Without weak-modules, neither prints them.
rm "$R/sbin/weak-modules"
check_eq status-weak-absent "$(dkms_sandbox "$R" dkms status 2>/dev/null)" "$("$BIN" status --root "$R")"

finish
