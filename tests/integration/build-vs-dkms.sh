#!/bin/bash
# `dkms-boot install` must be indistinguishable from `dkms build` +
# `dkms install` (Debian 12's dkms 3.0.10).  For each package, two sandbox
# roots with the same signing key:
#   A: real `dkms add`, then `dkms-boot install` (run inside the sandbox,
#      where the kernel headers are);
#   B: real `dkms add`, `dkms build`, `dkms install`.
# Then real dkms must see A as it sees B: `dkms status` says installed with
# no warning; the dkms tree entry and /lib/modules/KVER hold the same files
# (names, types, modes, link targets; not log contents or times); every
# installed module has the same modinfo fields and, builds being
# reproducible here, the same bytes.  Then the way back: real `dkms
# uninstall` of what we installed, `dkms-boot uninstall` of a fresh install
# (next to `dkms uninstall` in B) and real `dkms remove --all` must leave A
# exactly as B.  Last, the kernel's module compression (zst, xz, gz).
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

need_root
need_cmds dkms openssl modinfo zstd xz gzip apt-get dpkg unshare cmp diff

BIN=${DKMS_BOOT_TEST:-$DKB_REPO/build/test/dkms-boot}
[[ -x $BIN ]] || die "no $BIN (make build/test/dkms-boot)"
CACHE=${DKB_DEBIAN_DKMS_CACHE:-$DKB_REPO/build/debian-dkms}
K=${DKB_KVERS[1]}
ARCH=$DKB_ARCH
# What `modinfo -F` must agree on, A against B.
FIELDS=(name version vermagic srcversion depends signer sig_key sig_hashalgo)

# DKB_ONLY="dkb-dummy compress-xz ...": run only these cases (debugging).
ONLY=${DKB_ONLY:-}
selected() {
	[[ -z $ONLY || " $ONLY " == *" $1 "* ]]
}

dkb_tmpdir_var W
script_start=$SECONDS

# ---- Debian packages ------------------------------------------------------

# Small real packages that build in seconds against 6.1 (debian-dkms-conf.sh
# builds the first two as well): "debian package|dkms module name".
# tp_smapi: 3 modules in /extra and /updates, plain assignments;
# ddcci: 2 modules in subdirectories, a conf with shell code;
# vpoll: one module, the smallest package.
DEBIAN_PACKAGES=("tp-smapi-dkms|tp_smapi" "ddcci-dkms|ddcci" "vpoll-dkms|vpoll")

# conf_dir MODULE: the newest CACHE/root/usr/src/MODULE-VERSION (the cache
# debian-dkms-conf.sh fills; same layout, so either script can fill it).
conf_dir() {
	local d best=''
	for d in "$CACHE/root/usr/src/$1"-*/; do
		[[ -f $d/dkms.conf ]] || continue
		d=${d%/}
		if [[ -z $best ]] || [[ $(printf '%s\n%s\n' "$best" "$d" | sort -V | tail -1) == "$d" ]]; then
			best=$d
		fi
	done
	[[ -n $best ]] && echo "$best"
}

# fetch DEB MODULE: apt-get download + dpkg -x into the cache, once.
fetch() {
	local deb=$1 mod=$2 f
	conf_dir "$mod" >/dev/null && return 0
	mkdir -p "$CACHE/debs" "$CACHE/root"
	if ! (cd "$CACHE/debs" && apt-get download -q "$deb") >/dev/null 2>&1; then
		# Stale package lists: one update, then once more.
		apt-get update -q >/dev/null 2>&1 || true
		(cd "$CACHE/debs" && apt-get download -q "$deb") >/dev/null 2>&1 || return 1
	fi
	for f in "$CACHE/debs/${deb}_"*.deb; do
		dpkg -x "$f" "$CACHE/root"
	done
	conf_dir "$mod" >/dev/null
}

# ---- helpers --------------------------------------------------------------

# One signing key for every root: dkms would generate a different pair in
# each root that lacks one (and dkms-boot never generates), so signatures
# are only comparable with a shared key.
mkdir -p "$W/key"
openssl req -new -x509 -nodes -days 36500 -subj "/CN=dkms-boot test signing key/" \
	-newkey rsa:2048 -keyout "$W/key/mok.key" -outform DER -out "$W/key/mok.pub" \
	>/dev/null 2>&1 || die "openssl cannot make a key pair"

# new_root DIR: a sandbox root holding the shared key where dkms looks.
new_root() {
	dkms_root_init "$1"
	cp "$W/key/mok.key" "$W/key/mok.pub" "$1/var/lib/dkms/"
}

# sanitizers NAME OUT: an ASan/UBSan report in OUT.err fails NAME.
sanitizers() {
	if grep -qE 'runtime error:|ERROR: (Address|Leak)Sanitizer' "$2.err"; then
		fail "$1-sanitizers" "$(head -30 "$2.err")"
	fi
}

# ours NAME ROOT OUT ARGS...: dkms-boot ARGS inside ROOT's sandbox (the
# headers are only there); NAME passes on exit 0.
ours() {
	local name=$1 root=$2 out=$3
	shift 3
	capture "$out" dkms_sandbox "$root" timeout 300 "$BIN" "$@"
	sanitizers "$name" "$out"
	if [[ $(cat "$out.rc") == 0 ]]; then
		pass "$name"
	else
		fail "$name" "dkms-boot $* exited $(cat "$out.rc"):" "$(cat "$out" "$out.err")"
	fi
}

# dkms_step NAME ROOT ARGS...: real dkms; NAME passes on exit 0.
dkms_step() {
	local name=$1 root=$2
	shift 2
	if dkms_in "$root" -- "$@"; then
		pass "$name"
	else
		fail "$name" "dkms $* failed (output above)"
	fi
}

# listing DIR: every entry below DIR as "type mode path -> link target";
# no sizes or times (logs differ in content and dates).
listing() {
	[[ -e $1 ]] || return 0
	find "$1" -mindepth 1 -printf '%y %m %P -> %l\n' | LC_ALL=C sort
}

# compare_trees NAME M: the dkms tree entry of module M (or, M empty, the
# whole dkms tree) and /lib/modules/KVER, A against B.
compare_trees() {
	local name=$1 m=$2
	check_eq "$name-dkms-tree" "$(listing "$B/var/lib/dkms${m:+/$m}")" \
		"$(listing "$A/var/lib/dkms${m:+/$m}")"
	check_eq "$name-lib-modules" "$(listing "$B/lib/modules/$K")" \
		"$(listing "$A/lib/modules/$K")"
}

# uncompressed SRC DST: a module file, decompressed as its suffix says.
uncompressed() {
	case $1 in
	*.ko.zst) zstd -q -d -c "$1" >"$2" ;;
	*.ko.xz) xz -d -c "$1" >"$2" ;;
	*.ko.gz) gzip -d -c "$1" >"$2" ;;
	*) cp "$1" "$2" ;;
	esac
}

# modinfo_report ROOT DIR: "path field=value" for every module file under
# ROOT/lib/modules/KVER/updates, decompressed into DIR first (the host's
# modinfo reads no .gz: kmod is built without zlib).
modinfo_report() {
	local root=$1 dir=$2 f rel field
	mkdir -p "$dir"
	while IFS= read -r rel; do
		f=$dir/${rel//\//_}
		f=${f%.ko*}.ko
		uncompressed "$root/lib/modules/$K/$rel" "$f"
		for field in "${FIELDS[@]}"; do
			printf '%s %s=%s\n' "$rel" "$field" "$(modinfo -F "$field" "$f" 2>&1 | tr '\n' ' ')"
		done
	done < <(find "$root/lib/modules/$K/updates" -name '*.ko*' -printf '%P\n' 2>/dev/null |
		sed 's|^|updates/|' | LC_ALL=C sort)
}

# compare_modules NAME: modinfo fields and uncompressed bytes, A vs B.
compare_modules() {
	local name=$1 rel
	modinfo_report "$A" "$W/mi/$name/A" >"$W/mi-$name-A"
	modinfo_report "$B" "$W/mi/$name/B" >"$W/mi-$name-B"
	if [[ ! -s $W/mi-$name-A ]]; then
		fail "$name-modinfo" "no module installed in A"
		return 0
	fi
	if grep -q 'signer= ' "$W/mi-$name-A" || ! grep -q 'signer=.' "$W/mi-$name-A"; then
		fail "$name-signed" "a module in A is not signed:" "$(grep signer= "$W/mi-$name-A")"
	else
		pass "$name-signed"
	fi
	check_files_eq "$name-modinfo" "$W/mi-$name-B" "$W/mi-$name-A"
	# Same source, path, compiler, key: kbuild is reproducible and the
	# signature deterministic, so dkms's and our module are the same bytes.
	local diffs=''
	for rel in "$W/mi/$name/B"/*.ko; do
		rel=${rel##*/}
		cmp -s "$W/mi/$name/B/$rel" "$W/mi/$name/A/$rel" || diffs+="$rel "
	done
	if [[ -z $diffs ]]; then
		pass "$name-module-bytes"
	else
		fail "$name-module-bytes" "differ from dkms's (uncompressed): $diffs"
	fi
}

# status_is NAME ROOT M V WANT: real `dkms status` for M/V on KVER.
status_is() {
	check_eq "$1" "$5" "$(dkms_sandbox "$2" dkms status -m "$3" -v "$4" -k "$K" 2>/dev/null)"
}

# ---- one package ------------------------------------------------------------

# vs_package NAME VERSION SRC [CHECK_FN]: the whole comparison; CHECK_FN,
# when given, runs package-specific checks on A after the install.
vs_package() {
	local m=$1 v=$2 src=$3 extra=${4:-} t=$1 start=$SECONDS
	local o=$W/out/$m
	selected "$m" || return 0
	mkdir -p "$o"
	A=$W/$m/A
	B=$W/$m/B
	note "=== $m $v (from $src)"
	new_root "$A"
	new_root "$B"
	dkms_tree_add "$src" "$A"
	dkms_tree_add "$src" "$B"
	if ! dkms_in "$A" -- add -m "$m" -v "$v" || ! dkms_in "$B" -- add -m "$m" -v "$v"; then
		fail "$t-dkms-add" "real dkms add failed"
		return 0
	fi

	# 1. install: ours in A, dkms's in B.  Nothing to compare when ours
	# failed: every later case would only say so again.
	ours "$t-install" "$A" "$o/install" install -m "$m" -v "$v" -k "$K" --verbose
	if [[ $(cat "$o/install.rc") != 0 ]]; then
		note_file "the make.log dkms-boot kept" "$A/var/lib/dkms/$m/$v/build/make.log"
		return 0
	fi
	dkms_step "$t-dkms-build" "$B" build -m "$m" -v "$v" -k "$K"
	dkms_in "$B" -- install -m "$m" -v "$v" -k "$K" || fail "$t-dkms-install"
	status_is "$t-status-installed" "$A" "$m" "$v" "$m/$v, $K, $ARCH: installed"
	compare_trees "$t-installed" "$m"
	compare_modules "$t"
	[[ -z $extra ]] || "$extra" "$t" "$o"

	# 2. real dkms uninstalls what we installed.
	dkms_step "$t-dkms-uninstalls-ours" "$A" uninstall -m "$m" -v "$v" -k "$K"
	dkms_in "$B" -- uninstall -m "$m" -v "$v" -k "$K" || true
	compare_trees "$t-dkms-uninstalled" ""

	# 3. a fresh install from the (our) built tree, then our uninstall
	# next to dkms's.
	ours "$t-reinstall" "$A" "$o/reinstall" install -m "$m" -v "$v" -k "$K"
	dkms_in "$B" -- install -m "$m" -v "$v" -k "$K" || true
	status_is "$t-status-reinstalled" "$A" "$m" "$v" "$m/$v, $K, $ARCH: installed"
	compare_trees "$t-reinstalled" "$m"
	ours "$t-uninstall" "$A" "$o/uninstall" uninstall -m "$m" -v "$v" -k "$K"
	dkms_in "$B" -- uninstall -m "$m" -v "$v" -k "$K" || true
	status_is "$t-status-uninstalled" "$A" "$m" "$v" "$m/$v, $K, $ARCH: built"
	compare_trees "$t-uninstalled" ""

	# 4. real dkms removes every trace of it.
	dkms_step "$t-dkms-removes-ours" "$A" remove -m "$m" -v "$v" --all
	dkms_in "$B" -- remove -m "$m" -v "$v" --all || true
	compare_trees "$t-removed" ""
	note "$m took $((SECONDS - start)) s"
}

# Package-specific checks (NAME OUTDIR), on A after the install.
check_patched() {
	local f=$A/lib/modules/$K/updates/dkms/dkb_patched.ko
	check_eq "$1-patches-applied" "1.0-patched kernel-56" \
		"$(modinfo -F version "$f") $(modinfo -F dkb_patch "$f")"
}

check_scripts() {
	local f=$A/lib/modules/$K/updates/dkms/dkb_scripts.ko
	check_eq "$1-pre-build-header" "$K" "$(modinfo -F dkb_generated "$f")"
	# POST_BUILD leaves no trace in a sandbox; the debug log shows it ran.
	if grep -q "running bash -c .*/post-build.sh $K $ARCH" "$2/install.err"; then
		pass "$1-post-build-ran"
	else
		fail "$1-post-build-ran" "no post-build.sh in the --verbose log"
	fi
}

start=$SECONDS
for p in "${DEBIAN_PACKAGES[@]}"; do
	IFS='|' read -r deb mod <<<"$p"
	fetch "$deb" "$mod" || die "cannot download $deb (network? apt sources?)"
done
note "Debian packages ready in $CACHE ($((SECONDS - start)) s)"

vs_package dkb-dummy 2.0 dkb-dummy-2.0
vs_package dkb-pair 1.0 dkb-pair-1.0
vs_package dkb-patched 1.0 dkb-patched-1.0 check_patched
vs_package dkb-scripts 1.0 dkb-scripts-1.0 check_scripts
# dkms ignores PRE_BUILD's and POST_BUILD's exit status.
vs_package dkb-scriptfail 1.0 dkb-scriptfail-1.0
# dkms runs CLEAN in the build directory before make.
vs_package dkb-clean 1.0 dkb-clean-1.0
for p in "${DEBIAN_PACKAGES[@]}"; do
	IFS='|' read -r _ mod <<<"$p"
	dir=$(conf_dir "$mod")
	ver=${dir##*/"$mod"-}
	vs_package "$mod" "$ver" "$dir"
done

# ---- compression --------------------------------------------------------------

# A kernel whose modules are compressed: dkms (and we) pick the suffix
# from modules.dep.  The named file exists so that the line survives the
# depmod runs (it is not a module: depmod complains and keeps the line),
# except for .gz: Debian 12's kmod has no zlib, its depmod skips .ko.gz
# files and drops their lines, so mark() puts the line back before each
# step, in both roots alike.  dkb-pair: two modules, one using the other.
mark() {
	local root=$1 ext=$2 dep=$1/lib/modules/$K/modules.dep
	if [[ ! -e $root/lib/modules/$K/kernel/fake.ko.$ext ]]; then
		mkdir -p "$root/lib/modules/$K/kernel"
		case $ext in
		zst) echo 'not a module' | zstd -q >"$root/lib/modules/$K/kernel/fake.ko.zst" ;;
		xz) echo 'not a module' | xz --check=crc32 >"$root/lib/modules/$K/kernel/fake.ko.xz" ;;
		gz) echo 'not a module' | gzip -n >"$root/lib/modules/$K/kernel/fake.ko.gz" ;;
		esac
	fi
	grep -qxF "kernel/fake.ko.$ext:" "$dep" 2>/dev/null || echo "kernel/fake.ko.$ext:" >>"$dep"
}

compress_case() {
	local ext=$1 t=compress-$1 m=dkb-pair v=1.0 root d rel start=$SECONDS
	local o=$W/out/$t
	selected "$t" || return 0
	mkdir -p "$o"
	A=$W/$t/A
	B=$W/$t/B
	note "=== $m $v on a kernel with .ko.$ext modules"
	for root in "$A" "$B"; do
		new_root "$root"
		mark "$root" "$ext"
		dkms_tree_add "$m-$v" "$root"
		dkms_in "$root" -- add -m "$m" -v "$v" || true
	done
	ours "$t-install" "$A" "$o/install" install -m "$m" -v "$v" -k "$K"
	[[ $(cat "$o/install.rc") == 0 ]] || return 0
	dkms_in "$B" -- build -m "$m" -v "$v" -k "$K" || fail "$t-dkms-build"
	dkms_in "$B" -- install -m "$m" -v "$v" -k "$K" || fail "$t-dkms-install"
	mark "$A" "$ext"
	mark "$B" "$ext"
	status_is "$t-status-installed" "$A" "$m" "$v" "$m/$v, $K, $ARCH: installed"
	# Both write <dest>.ko.<ext>, in the tree and where it is installed.
	local want="$K/$ARCH/module/dkb_core.ko.$ext"$'\n'"$K/$ARCH/module/dkb_user.ko.$ext"
	for d in A B; do
		root=${!d}
		check_eq "$t-$d-tree-suffix" "$want" \
			"$(cd "$root/var/lib/dkms/$m/$v" && find "$K" -name '*.ko*' | LC_ALL=C sort)"
		check_eq "$t-$d-installed-suffix" "updates/dkms/dkb_core.ko.$ext"$'\n'"updates/dkms/dkb_user.ko.$ext" \
			"$(cd "$root/lib/modules/$K" && find updates -name '*.ko*' | LC_ALL=C sort)"
	done
	compare_trees "$t-installed" "$m"
	compare_modules "$t"
	if [[ $ext == xz ]]; then
		# The kernel's xz decompressor knows CRC32 and none, not
		# CRC64, xz's default (and dkms 3.0.10's, a known dkms bug).
		for rel in dkb_core dkb_user; do
			for d in A B; do
				root=${!d}
				xz -lvv "$root/lib/modules/$K/updates/dkms/$rel.ko.xz" >"$o/xz-$d-$rel" 2>&1 || true
			done
			note "$rel.ko.xz checks: ours $(sed -n 's/^ *Check: *//p' "$o/xz-A-$rel" | head -1)," \
				"dkms's $(sed -n 's/^ *Check: *//p' "$o/xz-B-$rel" | head -1)"
			if grep -qE '^ *Check: *CRC32$' "$o/xz-A-$rel"; then
				pass "$t-$rel-crc32"
			else
				fail "$t-$rel-crc32" "$(cat "$o/xz-A-$rel")"
			fi
		done
	fi
	# And back: dkms uninstalls ours; ours uninstalls a fresh install.
	dkms_step "$t-dkms-uninstalls-ours" "$A" uninstall -m "$m" -v "$v" -k "$K"
	dkms_in "$B" -- uninstall -m "$m" -v "$v" -k "$K" || true
	compare_trees "$t-dkms-uninstalled" ""
	mark "$A" "$ext"
	mark "$B" "$ext"
	ours "$t-reinstall" "$A" "$o/reinstall" install -m "$m" -v "$v" -k "$K"
	dkms_in "$B" -- install -m "$m" -v "$v" -k "$K" || true
	mark "$A" "$ext"
	mark "$B" "$ext"
	status_is "$t-status-reinstalled" "$A" "$m" "$v" "$m/$v, $K, $ARCH: installed"
	ours "$t-uninstall" "$A" "$o/uninstall" uninstall -m "$m" -v "$v" -k "$K"
	dkms_in "$B" -- uninstall -m "$m" -v "$v" -k "$K" || true
	compare_trees "$t-uninstalled" ""
	note "$t took $((SECONDS - start)) s"
}

for ext in zst xz gz; do
	compress_case "$ext"
done

note "build-vs-dkms took $((SECONDS - script_start)) s"
finish
