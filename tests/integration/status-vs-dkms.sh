#!/bin/bash
# Differential test of `dkms-boot status` against real `dkms status`
# (Debian 12, dkms 3.0.10), byte for byte on stdout.
#
# One sandbox root is taken through a sequence of DKMS states made by real
# dkms (add/build/install on two kernels) or by hand (the damaged states
# dkms itself never writes).  For every state and every query (no filter,
# -m, -m name/ver, -v, -k, -k kver/arch, -a) three outputs must be equal:
#   dkms status ...                       inside the sandbox (the reference)
#   dkms-boot status ...                  inside the sandbox (root /)
#   dkms-boot status --root DIR ...       outside, on the same files
# Cases: status-STATE[-QUERY] and status-STATE[-QUERY]-root for the ASan
# build, status-STATE-static[-root] for the static one (no filter only),
# and dkms-STATE, which pins dkms's own unfiltered output, so that a broken
# sandbox (empty output on both sides) cannot pass unnoticed.
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

need_root
need_cmds dkms unshare make cmp diff timeout python3

BIN=${DKMS_BOOT_TEST:-$DKB_REPO/build/test/dkms-boot}
STATIC=${DKMS_BOOT_STATIC:-$DKB_REPO/build/dkms-boot}
K1=${DKB_KVERS[0]}
K2=${DKB_KVERS[1]}
A=$DKB_ARCH
# A kernel with no headers and nothing built: dkms then reports every
# package as merely "added".
KX=6.1.0-99-amd64

# name|arguments (split on blanks).  "all" is the unfiltered query and
# gives the short case names.  With several -k, dkms runs the whole status
# once per kernel (added packages appear once for each); an explicit -k
# bypasses the +([0-9]).* glob that hides odd dirs such as "99" otherwise.
QUERIES=(
	"all|"
	"m-dummy|-m dkb-dummy"
	"m-dummy-2.0|-m dkb-dummy/2.0"
	"m-dummy-v-2.1|-m dkb-dummy -v 2.1"
	"m-pair-k2|-m dkb-pair -k $K2"
	"k1|-k $K1"
	"k2-arch|-k $K2/$A"
	"k-unbuilt|-k $KX"
	"k-99|-k 99"
	"k1-k2|-k $K1 -k $K2"
	"a-arch|-a $A"
)

dkb_tmpdir_var WORK
dkms_root_init "$WORK/root"
ROOT=$DKB_ROOT
DKT=$ROOT/var/lib/dkms
LM=$ROOT/lib/modules

# What the host looks like before; compared at the end to prove that the
# sandbox kept every dkms write away from it.
host_snapshot() {
	find /var/lib/dkms /usr/src /lib/modules -maxdepth 3 2>/dev/null | sort
}
host_before=$(host_snapshot)

# ---- running the three sides ----------------------------------------------

# Inside the sandbox: dkms and our binaries, every query.  Exported for the
# `bash -c` that dkms_sandbox runs.
collect_inside() {
	local out=$1 bin=$2 static=$3 q name
	shift 3
	local -a args
	for q in "$@"; do
		name=${q%%|*}
		read -r -a args <<<"${q#*|}"
		capture "$out/$name.dkms" timeout 60 dkms status "${args[@]}"
		capture "$out/$name.ours" timeout 60 "$bin" status "${args[@]}"
		if [[ $name == all ]]; then
			capture "$out/$name.static" timeout 60 "$static" status
		fi
	done
}
export -f collect_inside capture

# compare_one CASE REF FILE BIN: byte comparison plus, when our side failed,
# its stderr and exit status in the log.
compare_one() {
	local case=$1 ref=$2 got=$3 bin=$4
	if [[ ! -x $bin ]]; then
		fail "$case" "binary under test missing: $bin" \
			"(make build/test/dkms-boot build/dkms-boot)"
		return 0
	fi
	check_files_eq "$case" "$ref" "$got"
	if [[ -s $got.err || $(cat "$got.rc") != 0 ]]; then
		note "$case: exit $(cat "$got.rc")"
		note_file "$case stderr" "$got.err"
	fi
}

# scenario STATE EXPECTED: run every query on the current state and
# compare.  EXPECTED is dkms's unfiltered output as observed with dkms
# 3.0.10 (without the final newline), checked as case dkms-STATE.
scenario() {
	local state=$1 expected=$2 q name args out=$WORK/out/$1 suffix
	mkdir -p "$out"
	echo "# ==== state $state"
	dkms_sandbox "$ROOT" bash -c 'collect_inside "$@"' collect \
		"$out" "$BIN" "$STATIC" "${QUERIES[@]}"
	for q in "${QUERIES[@]}"; do
		name=${q%%|*}
		read -r -a args <<<"${q#*|}"
		capture "$out/$name.root" timeout 60 "$BIN" status --root "$ROOT" "${args[@]}"
	done
	capture "$out/all.static-root" timeout 60 "$STATIC" status --root "$ROOT"

	note_file "dkms status (exit $(cat "$out/all.dkms.rc"))" "$out/all.dkms"
	note_file "dkms status stderr" "$out/all.dkms.err"
	check_eq "dkms-$state" "$expected" "$(cat "$out/all.dkms")"

	for q in "${QUERIES[@]}"; do
		name=${q%%|*}
		suffix=-$name
		[[ $name == all ]] && suffix=
		if [[ $name != all ]]; then
			note_file "dkms status ${q#*|}" "$out/$name.dkms"
			note_file "dkms status ${q#*|} stderr" "$out/$name.dkms.err"
		fi
		compare_one "status-$state$suffix" "$out/$name.dkms" "$out/$name.ours" "$BIN"
		compare_one "status-$state$suffix-root" "$out/$name.dkms" "$out/$name.root" "$BIN"
	done
	compare_one "status-$state-static" "$out/all.dkms" "$out/all.static" "$STATIC"
	compare_one "status-$state-static-root" "$out/all.dkms" "$out/all.static-root" "$STATIC"
}

dk() {
	dkms_in -- "$@" || die "dkms $* failed"
}

# ---- states made by dkms ----------------------------------------------------

for p in dkb-dummy-2.0 dkb-dummy-2.1 dkb-pair-1.0 dkb-broken-1.0; do
	dkms_tree_add "$p"
done

dk add -m dkb-dummy -v 2.0
scenario added "dkb-dummy/2.0: added"

dk build -m dkb-dummy -v 2.0 -k "$K2"
scenario built "dkb-dummy/2.0, $K2, $A: built"

dk install -m dkb-dummy -v 2.0 -k "$K1"
scenario installed "dkb-dummy/2.0, $K1, $A: installed
dkb-dummy/2.0, $K2, $A: built"

dk add -m dkb-dummy -v 2.1
dk build -m dkb-dummy -v 2.1 -k "$K2"
scenario two-versions "dkb-dummy/2.0, $K1, $A: installed
dkb-dummy/2.0, $K2, $A: built
dkb-dummy/2.1, $K2, $A: built"

# The newer version installed on the other kernel: on K2 the kernel link
# now points to 2.1, while 2.0 stays built there.
dk install -m dkb-dummy -v 2.1 -k "$K2"
scenario two-versions-installed "dkb-dummy/2.0, $K1, $A: installed
dkb-dummy/2.0, $K2, $A: built
dkb-dummy/2.1, $K2, $A: installed"

dk add -m dkb-pair -v 1.0
dk install -m dkb-pair -v 1.0 -k "$K2"
scenario pair "dkb-dummy/2.0, $K1, $A: installed
dkb-dummy/2.0, $K2, $A: built
dkb-dummy/2.1, $K2, $A: installed
dkb-pair/1.0, $K2, $A: installed"

BASE_STATE="dkb-dummy/2.0, $K1, $A: installed
dkb-dummy/2.0, $K2, $A: built
dkb-dummy/2.1, $K2, $A: installed
dkb-pair/1.0, $K2, $A: installed"

# ---- damaged states, each undone afterwards -----------------------------------

DIFF="(WARNING! Diff between built and installed module!)"
inst1=$LM/$K1/updates/dkms/dummy.ko
core2=$LM/$K2/updates/dkms/dkb_core.ko
user2=$LM/$K2/updates/dkms/dkb_user.ko
cp -p "$inst1" "$WORK/dummy-k1.ko"
cp -p "$core2" "$WORK/core-k2.ko"
cp -p "$user2" "$WORK/user-k2.ko"
restore_installed() {
	rm -f "$LM/$K1/updates/dummy.ko" "$LM/$K2/extra/dkb_core.ko"
	cp -p "$WORK/dummy-k1.ko" "$inst1"
	cp -p "$WORK/core-k2.ko" "$core2"
	cp -p "$WORK/user-k2.ko" "$user2"
}

# Installed copies that differ from the tree's (dkms compares bytes); for
# the pair only its second module, so every module must be looked at.
printf 'x' >>"$inst1"
printf 'x' >>"$user2"
scenario diff "dkb-dummy/2.0, $K1, $A: installed $DIFF
dkb-dummy/2.0, $K2, $A: built
dkb-dummy/2.1, $K2, $A: installed
dkb-pair/1.0, $K2, $A: installed $DIFF"
restore_installed

# Both modules of the pair differ: dkms prints the warning once per module.
printf 'x' >>"$core2"
printf 'x' >>"$user2"
scenario diff-twice "${BASE_STATE%$'\n'*}
dkb-pair/1.0, $K2, $A: installed $DIFF $DIFF"
restore_installed

# The installed file is gone while the kernel link remains: still
# "installed", with the diff warning (nothing to compare against).
rm "$inst1"
scenario installed-gone "dkb-dummy/2.0, $K1, $A: installed $DIFF
${BASE_STATE#*$'\n'}"
restore_installed

# Installed at the dkms.conf location (/updates, /extra) instead of
# Debian's /updates/dkms, as older dkms versions did: dkms looks there too
# (when modinfo versions match) and finds no difference.
mv "$inst1" "$LM/$K1/updates/dummy.ko"
mkdir -p "$LM/$K2/extra"
mv "$core2" "$LM/$K2/extra/dkb_core.ko"
scenario legacy-dest "$BASE_STATE"
restore_installed

# A built module missing from the tree: dkms 3.0.10 does not print its
# "Missing some built modules" warning, the kernel simply stops counting
# as built.  The pair was built for K2 only, so it falls back to "added".
mod=$DKT/dkb-pair/1.0/$K2/$A/module/dkb_user.ko
mv "$mod" "$WORK/tree-user.ko"
scenario missing-pair "${BASE_STATE%$'\n'*}
dkb-pair/1.0: added"
mv "$WORK/tree-user.ko" "$mod"

# Same on an installed kernel of a package built elsewhere too: the line
# for that kernel disappears.
mod=$DKT/dkb-dummy/2.0/$K1/$A/module/dummy.ko
mv "$mod" "$WORK/tree-dummy.ko"
scenario missing-installed "${BASE_STATE#*$'\n'}"
mv "$WORK/tree-dummy.ko" "$mod"

# original_module/<kver>/<arch> exists (dkms saved an in-tree module
# there, on distributions other than Debian): flagged on every version
# of the package built for that kernel.
mkdir -p "$DKT/dkb-dummy/original_module/$K2/$A"
scenario original-module "dkb-dummy/2.0, $K1, $A: installed
dkb-dummy/2.0, $K2, $A: built (original_module exists)
dkb-dummy/2.1, $K2, $A: installed (original_module exists)
dkb-pair/1.0, $K2, $A: installed"
rm -r "$DKT/dkb-dummy/original_module"

# ---- entries dkms did not write, kept from here on ------------------------------

# A dangling source link, a source without dkms.conf, a version dir
# without source, and kernel-looking dirs that dkms's glob +([0-9]).*
# does not match.
mkdir -p "$DKT/dkb-ghost/1.0"
ln -s /usr/src/dkb-ghost-1.0 "$DKT/dkb-ghost/1.0/source"
mkdir -p "$ROOT/usr/src/dkb-noconf-1.0" "$DKT/dkb-noconf/1.0"
printf 'obj-m := noconf.o\n' >"$ROOT/usr/src/dkb-noconf-1.0/Makefile"
ln -s /usr/src/dkb-noconf-1.0 "$DKT/dkb-noconf/1.0/source"
mkdir -p "$DKT/dkb-stray/1.0"
for k in notakernel 99; do
	mkdir -p "$DKT/dkb-dummy/2.1/$k/$A/module"
	cp "$DKT/dkb-dummy/2.1/$K2/$A/module/dummy.ko" "$DKT/dkb-dummy/2.1/$k/$A/module/"
done
scenario odd-entries "${BASE_STATE%$'\n'*}
dkb-ghost/1.0: added
dkb-noconf/1.0: added
dkb-pair/1.0, $K2, $A: installed"

# A built kernel dir under a package whose dkms.conf is missing: dkms's
# read_conf dies inside the status subshell ("Error! Could not locate
# dkms.conf file." on stderr), which silently drops every line after it.
mkdir -p "$DKT/dkb-noconf/1.0/$K2/$A/module"
cp "$WORK/user-k2.ko" "$DKT/dkb-noconf/1.0/$K2/$A/module/noconf.ko"
scenario built-noconf "${BASE_STATE%$'\n'*}
dkb-ghost/1.0: added"
rm -r "${DKT:?}/dkb-noconf/1.0/$K2"

# A package whose build fails: dkms keeps it as added.
dk add -m dkb-broken -v 1.0
if dkms_in -- build -m dkb-broken -v 1.0 -k "$K2"; then
	fail dkms-broken-build-fails "dkms build of dkb-broken succeeded"
else
	pass dkms-broken-build-fails
fi
scenario build-failed "dkb-broken/1.0: added
${BASE_STATE%$'\n'*}
dkb-ghost/1.0: added
dkb-noconf/1.0: added
dkb-pair/1.0, $K2, $A: installed"

# ---- odds and ends --------------------------------------------------------------

if [[ -x $BIN ]] &&
	timeout 60 "$BIN" status --json --root "$ROOT" >"$WORK/status.json" 2>"$WORK/status.json.err" &&
	python3 -m json.tool "$WORK/status.json" >/dev/null 2>&1; then
	pass status-json-parses
else
	fail status-json-parses "dkms-boot status --json --root DIR: not valid JSON"
	note_file "json stdout" "$WORK/status.json"
	note_file "json stderr" "$WORK/status.json.err"
fi

check_eq sandbox-host-untouched "$host_before" "$(host_snapshot)"

finish
