#!/bin/bash
# The verified module cache (docs/cache-format.md) against real dkms and
# real kernels' builds:
#   1. round trips: dkms-boot install (signed), cache add/list/verify,
#      export -> real `dkms ldtarball` in a fresh root -> `dkms install`,
#      import of our export, unpack -> the installed bytes;
#   2. import of archives made by real `dkms mktarball`, binaries only
#      and with source, one-module and two-module packages;
#   3. damaged or hostile entries and archives, each refused with a reason
#      that names the entry (or the archive member); modules for another
#      kernel on the way in (add, import); a failed unpack keeps what the
#      target held; payloads 0644 root:root whatever mode or owner the
#      build or the archive had (add, import, unpack);
#   4. concurrent add / unpack / verify, and `cache add` killed mid-way;
#   5. prune;
#   6. kABI reuse with real kernels: 55 -> 56 (same CRCs) accepted,
#      55 -> 47 (about 18k CRCs differ) refused naming a symbol.
# Cache commands run outside the sandbox with --root; builds and kABI
# checks run inside it, where the kernel headers are.
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

need_root
need_cmds dkms openssl modinfo zstd gzip tar python3 unshare sha256sum cmp

BIN=${DKMS_BOOT_TEST:-$DKB_REPO/build/test/dkms-boot}
[[ -x $BIN ]] || die "no $BIN (make build/test/dkms-boot)"
K55=${DKB_KVERS[0]}
K56=${DKB_KVERS[1]}
K47=6.1.0-47-amd64
ARCH=$DKB_ARCH
# Where test_kabi.c keeps the 6.1.0-47 headers package (shared).
K47_CACHE=${DKB_K47_CACHE:-$DKB_REPO/build/cache}
H47=linux-headers-$K47
# The concurrency loop: iterations of the writer (bounded in time too).
CONC_ITER=${DKB_CACHE_CONC_ITER:-50}
CONC_SECONDS=${DKB_CACHE_CONC_SECONDS:-40}

dkb_tmpdir_var W
R=$W/root
CACHE=/var/cache/dkms-boot/modules # in-root, the default
script_start=$SECONDS

# ---- helpers --------------------------------------------------------------

# sanitizers OUT: an ASan/UBSan report in OUT.err is a failure of its own.
sanitizers() {
	if grep -qE 'runtime error:|ERROR: (Address|Leak)Sanitizer' "$1.err"; then
		fail "${1##*/}-sanitizers" "$(head -30 "$1.err")"
	fi
	return 0
}

# dkbc OUT ARGS...: `dkms-boot cache ARGS --root R` from outside the
# sandbox, captured (OUT, OUT.err, OUT.rc).
dkbc() {
	local out=$1
	shift
	capture "$out" "$BIN" cache --root "$R" "$@"
	sanitizers "$out"
}

# dkbc_in OUT ARGS...: the same inside R's sandbox, where
# /lib/modules/KVER/build leads to real headers (Module.symvers, .config).
dkbc_in() {
	local out=$1
	shift
	capture "$out" dkms_sandbox "$R" "$BIN" cache --root "$R" "$@"
	sanitizers "$out"
}

rc_of() {
	cat "$1.rc"
}

# expect_ok NAME OUT: the captured command exited 0.
expect_ok() {
	if [[ $(rc_of "$2") == 0 ]]; then
		pass "$1"
	else
		fail "$1" "exit $(rc_of "$2"), want 0:" "$(cat "$2" "$2.err")"
	fi
}

# refused NAME OUT WANT_RC NAME_RE REASON_RE: exit WANT_RC, and stderr
# names the culprit (NAME_RE) and the reason (REASON_RE).
refused() {
	local name=$1 out=$2 want=$3 who=$4 why=$5 rc
	rc=$(rc_of "$out")
	if [[ $rc != "$want" ]]; then
		fail "$name" "exit $rc, want $want:" "$(cat "$out" "$out.err")"
	elif ! grep -qE -- "$who" "$out.err"; then
		fail "$name" "stderr does not name /$who/:" "$(cat "$out.err")"
	elif ! grep -qE -- "$why" "$out.err"; then
		fail "$name" "stderr gives no reason matching /$why/:" "$(cat "$out.err")"
	else
		note "$(head -3 "$out.err")"
		pass "$name"
	fi
}

# sandbox_ok NAME CMD...: run CMD in R's sandbox; NAME passes on exit 0.
sandbox_ok() {
	local name=$1
	shift
	capture "$W/$name" dkms_sandbox "$R" "$@"
	sanitizers "$W/$name"
	expect_ok "$name" "$W/$name"
}

# entry_dir CACHE M V K: the host path of an entry.
entry_dir() {
	echo "$R$1/$2/$3/$4/$ARCH"
}

# manifest_field FILE MODULE KEY: a module record's value, as written
# (percent-encoding kept).
manifest_field() {
	awk -v m="$2" -v k="$3" '
		$1 == "module" { cur = substr($0, 8) }
		cur == m && $1 == k { print substr($0, length(k) + 2); exit }' "$1"
}

# manifest_sans_origin FILE: the manifest without the two lines that say
# where and when it was made.
manifest_sans_origin() {
	grep -vE '^(origin|created) ' "$1"
}

# files_in DIR: every entry below DIR, type and path, sorted.
files_in() {
	[[ -d $1 ]] || return 0
	find "$1" -mindepth 1 -printf '%y %P\n' | LC_ALL=C sort
}

# sha_set DIR NAMES...: "name sha256" for each NAMES.ko under
# DIR/updates/dkms (missing files show as "name -").
sha_set() {
	local dir=$1 n
	shift
	for n in "$@"; do
		if [[ -f $dir/updates/dkms/$n.ko ]]; then
			echo "$n $(sha256sum <"$dir/updates/dkms/$n.ko" | cut -d' ' -f1)"
		else
			echo "$n -"
		fi
	done
}

# ---- setup: a root with both packages installed (signed) for 56, built for 55

# A signing key where dkms and dkms-boot look for it: every module built
# below is signed, so the manifest's signer fields can be checked.
dkms_root_init "$R"
openssl req -new -x509 -nodes -days 36500 -subj "/CN=dkms-boot cache test key/" \
	-newkey rsa:2048 -keyout "$R/var/lib/dkms/mok.key" -outform DER \
	-out "$R/var/lib/dkms/mok.pub" >/dev/null 2>&1 || die "openssl cannot make a key pair"
for p in dkb-dummy-2.0 dkb-pair-1.0; do
	dkms_tree_add "$p" "$R"
	dkms_in -- add -m "${p%-*}" -v "${p##*-}" >/dev/null || die "dkms add $p failed"
done
sandbox_ok setup-install-dummy-56 "$BIN" install -m dkb-dummy -v 2.0 -k "$K56"
sandbox_ok setup-install-pair-56 "$BIN" install -m dkb-pair -v 1.0 -k "$K56"
# Built for 55 as well: the vermagic and kABI cases need another kernel's
# modules.
sandbox_ok setup-build-dummy-55 "$BIN" build -m dkb-dummy -v 2.0 -k "$K55"
sandbox_ok setup-build-pair-55 "$BIN" build -m dkb-pair -v 1.0 -k "$K55"
INST=$R/lib/modules/$K56
TREE56() { echo "$R/var/lib/dkms/$1/$2/$K56/$ARCH/module"; }
TREE55() { echo "$R/var/lib/dkms/$1/$2/$K55/$ARCH/module"; }
[[ -f $INST/updates/dkms/dummy.ko && -f $INST/updates/dkms/dkb_user.ko ]] ||
	die "setup: modules not installed (see above)"
note "setup took $((SECONDS - script_start)) s"

# ---- 1. round trips -------------------------------------------------------

t=$W/rt
mkdir -p "$t"
dkbc "$t/add-dummy" add -m dkb-dummy -v 2.0 -k "$K56"
expect_ok add-dummy "$t/add-dummy"
dkbc "$t/add-pair" add -m dkb-pair -v 1.0 -k "$K56"
expect_ok add-pair "$t/add-pair"
MAN_DUMMY=$(entry_dir "$CACHE" dkb-dummy 2.0 "$K56")/MANIFEST
MAN_PAIR=$(entry_dir "$CACHE" dkb-pair 1.0 "$K56")/MANIFEST
# A pristine copy of the cache, the starting point of the damage cases.
PRISTINE=$W/pristine
cp -a "$R$CACHE" "$PRISTINE"

# The manifest's signer and key are read by dkms-boot from the PKCS#7
# signature; the host's modinfo (OpenSSL inside) is the oracle.
# sig_report MANIFEST MODULES...: the manifest's view.
sig_report() {
	local man=$1 mod
	shift
	for mod in "$@"; do
		echo "$mod signer=$(manifest_field "$man" "$mod" signer) sig_key=$(manifest_field "$man" "$mod" sig_key) sig_hashalgo=$(manifest_field "$man" "$mod" sig_hashalgo)"
	done
}
# modinfo_sig_report MODULES...: modinfo's view of the installed files.
modinfo_sig_report() {
	local mod f
	for mod in "$@"; do
		f=$INST/updates/dkms/$mod.ko
		echo "$mod signer=$(modinfo -F signer "$f") sig_key=$(modinfo -F sig_key "$f") sig_hashalgo=$(modinfo -F sig_hashalgo "$f")"
	done
}
check_eq manifest-signer-dummy "$(modinfo_sig_report dummy)" "$(sig_report "$MAN_DUMMY" dummy)"
check_eq manifest-signer-pair "$(modinfo_sig_report dkb_core dkb_user)" \
	"$(sig_report "$MAN_PAIR" dkb_core dkb_user)"
if grep -q '^signer .' "$MAN_DUMMY"; then pass manifest-signed; else fail manifest-signed "$(cat "$MAN_DUMMY")"; fi

dkbc "$t/list" list
check_eq list "dkb-dummy/2.0, $K56, $ARCH: 1 module (dkms-tree)
dkb-pair/1.0, $K56, $ARCH: 2 modules (dkms-tree)" "$(cat "$t/list")"

# JSON: every module's size and sha256 are those of the installed file,
# the signer modinfo's.
dkbc "$t/json" list --json
want_json=$(
	for mod in dummy dkb_core dkb_user; do
		f=$INST/updates/dkms/$mod.ko
		echo "$mod $(stat -c %s "$f") $(sha256sum <"$f" | cut -d' ' -f1) $(modinfo -F signer "$f")"
	done
)
got_json=$(python3 - "$t/json" <<'PY' 2>&1
import json, sys
d = json.load(open(sys.argv[1]))
for e in d["entries"]:
    assert e["ok"] is True and e["error"] is None, e
    for m in e["modules"]:
        print(m["name"], m["size"], m["sha256"], m["signer"])
PY
) || true
check_eq list-json "$want_json" "$got_json"

dkbc "$t/verify" verify
expect_ok verify "$t/verify"
check_eq verify-output "dkb-dummy/2.0, $K56, $ARCH: verified, 1 module (dkms-tree)
dkb-pair/1.0, $K56, $ARCH: verified, 2 modules (dkms-tree)" "$(cat "$t/verify")"

# unpack: the installed files, byte for byte, and nothing else.
mkdir -p "$t/unpack"
dkbc "$t/unpack.out" unpack -k "$K56" --into "$t/unpack"
expect_ok unpack "$t/unpack.out"
check_eq unpack-files "$(cd "$INST" && find updates -type f -name '*.ko' | LC_ALL=C sort)" \
	"$(cd "$t/unpack" && find . -mindepth 1 -type f -printf '%P\n' | LC_ALL=C sort)"
diffs=''
for mod in dummy dkb_core dkb_user; do
	cmp -s "$INST/updates/dkms/$mod.ko" "$t/unpack/updates/dkms/$mod.ko" || diffs+="$mod "
done
check_eq unpack-bytes "" "$diffs"

# export -> real dkms ldtarball in a fresh root, next to dkms's own
# --binaries-only tarball in another: dkms must treat both alike.
# (dkms 3.0.10's ldtarball exits 1 on binaries-only archives even when it
# loaded them, its own included: the exit status is compared, not assumed.)
ldtarball_case() {
	local m=$1 v=$2
	shift 2
	local mods=("$@") mine=$W/ld-$m-ours theirs=$W/ld-$m-dkms mod
	dkbc "$t/export-$m" export -m "$m" -v "$v" -k "$K56" -o "$W/$m-export.dkms.tar.gz"
	expect_ok "export-$m" "$t/export-$m"
	dkms_in "$R" -- mktarball -m "$m" -v "$v" -k "$K56" --binaries-only >/dev/null || true
	mv "$R/var/lib/dkms/$m/$v/tarball/$m-$v-kernel$K56-$ARCH.dkms.tar.gz" "$W/$m-dkms-bin.dkms.tar.gz"
	dkms_root_init "$mine"
	dkms_root_init "$theirs"
	DKB_ROOT=$R # dkms_root_init made the last one the default
	local rc_mine=0 rc_theirs=0
	dkms_in "$mine" -- ldtarball "$W/$m-export.dkms.tar.gz" || rc_mine=$?
	dkms_in "$theirs" -- ldtarball "$W/$m-dkms-bin.dkms.tar.gz" || rc_theirs=$?
	check_eq "ldtarball-$m-exit-as-dkms" "$rc_theirs" "$rc_mine"
	check_eq "ldtarball-$m-status" "$m/$v, $K56, $ARCH: built" \
		"$(dkms_sandbox "$mine" dkms status -m "$m" 2>&1)"
	# But for log/ (make.log, .config), which the cache does not keep.
	check_eq "ldtarball-$m-tree-as-dkms" "$(files_in "$theirs/var/lib/dkms/$m" | grep -v "/$ARCH/log")" \
		"$(files_in "$mine/var/lib/dkms/$m")"
	if dkms_in "$mine" -- install -m "$m" -v "$v" -k "$K56"; then
		pass "ldtarball-$m-dkms-install"
	else
		fail "ldtarball-$m-dkms-install"
	fi
	check_eq "ldtarball-$m-installed" "$m/$v, $K56, $ARCH: installed" \
		"$(dkms_sandbox "$mine" dkms status -m "$m" 2>&1)"
	local d=''
	for mod in "${mods[@]}"; do
		cmp -s "$INST/updates/dkms/$mod.ko" "$mine/lib/modules/$K56/updates/dkms/$mod.ko" || d+="$mod "
	done
	check_eq "ldtarball-$m-installed-bytes" "" "$d"
	# And the export back in: the same entry, but for origin and time.
	local ic=/var/cache/import-export-$m
	dkbc "$t/import-export-$m" import "$W/$m-export.dkms.tar.gz" --cache-dir "$ic"
	expect_ok "import-export-$m" "$t/import-export-$m"
	check_eq "import-export-$m-manifest" \
		"$(manifest_sans_origin "$(entry_dir "$CACHE" "$m" "$v" "$K56")/MANIFEST")" \
		"$(manifest_sans_origin "$(entry_dir "$ic" "$m" "$v" "$K56")/MANIFEST" 2>&1)"
}
ldtarball_case dkb-dummy 2.0 dummy
ldtarball_case dkb-pair 1.0 dkb_core dkb_user

# ---- 2. archives made by real dkms mktarball ---------------------------------

mktarball_case() {
	local m=$1 v=$2 kind=$3 flag=() f ic
	[[ $kind == bin ]] && flag=(--binaries-only)
	f=$W/$m-mktarball-$kind.dkms.tar.gz
	ic=/var/cache/import-$m-$kind
	dkms_in "$R" -- mktarball -m "$m" -v "$v" -k "$K56" "${flag[@]}" >/dev/null ||
		fail "mktarball-$m-$kind" "real dkms mktarball failed"
	mv "$R/var/lib/dkms/$m/$v/tarball/$m-$v-kernel$K56-$ARCH.dkms.tar.gz" "$f"
	dkbc "$t/import-$m-$kind" import "$f" --cache-dir "$ic"
	expect_ok "import-mktarball-$m-$kind" "$t/import-$m-$kind"
	check_eq "import-mktarball-$m-$kind-manifest" \
		"$(manifest_sans_origin "$(entry_dir "$CACHE" "$m" "$v" "$K56")/MANIFEST")" \
		"$(manifest_sans_origin "$(entry_dir "$ic" "$m" "$v" "$K56")/MANIFEST" 2>&1)"
	check_eq "import-mktarball-$m-$kind-origin" "origin tarball:${f##*/}" \
		"$(grep '^origin ' "$(entry_dir "$ic" "$m" "$v" "$K56")/MANIFEST" 2>&1)"
	dkbc "$t/verify-$m-$kind" verify --cache-dir "$ic"
	expect_ok "import-mktarball-$m-$kind-verify" "$t/verify-$m-$kind"
}
for kind in bin src; do
	mktarball_case dkb-dummy 2.0 "$kind"
	mktarball_case dkb-pair 1.0 "$kind"
done

# ---- 3. damaged and hostile entries ------------------------------------------

# Each case damages its own copy of a pristine entry (dkb-dummy unless
# BAD_PKG="dkb-pair 1.0"), in its own cache directory: `cache verify` and
# `cache unpack` must both refuse it (exit 3), naming the entry (or what
# BAD_WHO matches) and the reason, and unpack must leave nothing at all in
# its target.
BAD_PKG="dkb-dummy 2.0"
BAD_WHO=
bad_case() {
	local name=$1 why=$2 mutate=$3 cd=/var/cache/bad/$1 e into=$W/bad/$1/into m v who
	read -r m v <<<"$BAD_PKG"
	who=${BAD_WHO:-"$m/${v//./\\.}"}
	mkdir -p "$R$cd" "$into"
	cp -a "$PRISTINE/$m" "$R$cd/"
	e=$(entry_dir "$cd" "$m" "$v" "$K56")
	"$mutate" "$e"
	dkbc "$W/bad/$name/verify" verify --cache-dir "$cd"
	refused "bad-$name-verify" "$W/bad/$name/verify" 3 "$who" "$why"
	dkbc "$W/bad/$name/unpack" unpack -k "$K56" --into "$into" --cache-dir "$cd"
	refused "bad-$name-unpack" "$W/bad/$name/unpack" 3 "$who" "$why"
	check_eq "bad-$name-unpack-left-nothing" "" "$(files_in "$into")"
}

# set_field MANIFEST KEY VALUE: replace the first KEY line.
set_field() {
	sed -i "0,/^$2 /s|^$2 .*|$2 $3|" "$1"
}

# flip_byte FILE OFFSET: xor one byte.
flip_byte() {
	python3 - "$1" "$2" <<'PY'
import sys
p, off = sys.argv[1], int(sys.argv[2])
b = bytearray(open(p, "rb").read())
b[off] ^= 0xFF
open(p, "wb").write(bytes(b))
PY
}

mut_flip() {
	local f=$1/dummy.ko.zst
	flip_byte "$f" $(($(stat -c %s "$f") / 2))
}
mut_truncate() {
	local f=$1/dummy.ko.zst
	truncate -s $(($(stat -c %s "$f") / 2)) "$f"
}
mut_sha() {
	set_field "$1/MANIFEST" sha256 "$(printf '%064d' 0)"
}
mut_place() {
	set_field "$1/MANIFEST" kernel "$K55"
}
# The 55 build, consistently described (size, sha256, vermagic): only the
# module's own vermagic can tell.
mut_vermagic() {
	local ko
	ko=$(TREE55 dkb-dummy 2.0)/dummy.ko
	zstd -q -f -c "$ko" >"$1/dummy.ko.zst"
	set_field "$1/MANIFEST" size "$(stat -c %s "$ko")"
	set_field "$1/MANIFEST" sha256 "$(sha256sum <"$ko" | cut -d' ' -f1)"
	set_field "$1/MANIFEST" vermagic "$(modinfo -F vermagic "$ko" | sed 's/ $/%20/')"
}
# 1 KiB of anything claiming 10 GB: refused before decompression.
mut_huge() {
	head -c 1024 /dev/urandom >"$1/dummy.ko.zst"
	set_field "$1/MANIFEST" size 10737418240
}
# 1 KiB claiming 100 KiB: a ratio of 100, under the 256 MiB limit.
mut_ratio() {
	head -c 1024 /dev/urandom >"$1/dummy.ko.zst"
	set_field "$1/MANIFEST" size 102400
}
# A real zstd bomb that lies about its size: 64 MiB of zeros in about
# 2 KB, claiming 60 times its compressed size (within the ratio):
# decompression must stop at the claim.
mut_bomb() {
	head -c 64M /dev/zero | zstd -q -19 -c >"$1/dummy.ko.zst"
	set_field "$1/MANIFEST" size $(($(stat -c %s "$1/dummy.ko.zst") * 60))
}
# The very same (valid) bytes, but through a symlink.
mut_symlink() {
	mv "$1/dummy.ko.zst" "$W/bad/symlink/real.ko.zst"
	ln -s "$W/bad/symlink/real.ko.zst" "$1/dummy.ko.zst"
}
mut_file_mode() {
	chmod 0666 "$1/dummy.ko.zst"
}
mut_dir_mode() {
	chmod 0777 "$1"
}
mut_kernel_dir_mode() {
	chmod 0777 "${1%/*}"
}
mut_owner() {
	chown nobody "$1/dummy.ko.zst"
}
mut_manifest_owner() {
	chown nobody "$1/MANIFEST"
}
mut_unknown_key() {
	sed -i '/^origin /a colour blue' "$1/MANIFEST"
}
# A file name leading out of the entry.
mut_dotdot_file() {
	set_field "$1/MANIFEST" file "../dummy.ko.zst"
}
# A location leading out of the unpack target.
mut_dotdot_location() {
	set_field "$1/MANIFEST" location "/../../dkb-cache-escape"
}
mut_dotdot_module() {
	set_field "$1/MANIFEST" module ".."
}

bad_case flip 'corrupt zstd|sha256 [0-9a-f]{64}, the manifest says' mut_flip
bad_case truncate 'corrupt zstd|bytes, the manifest says' mut_truncate
bad_case sha 'sha256 [0-9a-f]{64}, the manifest says 0{64}' mut_sha
bad_case place "describes dkb-dummy/2\\.0 for $K55.*not what its place says" mut_place
bad_case vermagic "vermagic \"$K55 [^\"]*\" is not for $K56" mut_vermagic
bad_case huge 'claims 10737418240 bytes, more than the 256 MiB' mut_huge
bad_case ratio 'ratio over 64' mut_ratio
bad_case bomb 'decompresses past its declared' mut_bomb
mkdir -p "$W/bad/symlink"
bad_case symlink 'symbolic link|not a regular file' mut_symlink
bad_case file-mode 'writable by group or others' mut_file_mode
bad_case dir-mode 'writable by group or others' mut_dir_mode
bad_case kernel-dir-mode 'writable by group or others' mut_kernel_dir_mode
bad_case owner 'owned by uid [0-9]+, not root' mut_owner
bad_case manifest-owner 'owned by uid [0-9]+, not root' mut_manifest_owner
bad_case unknown-key 'unknown key "colour"' mut_unknown_key
bad_case dotdot-file '\.\.|file is not <module>\.ko\.zst' mut_dotdot_file
bad_case dotdot-location '\.\.' mut_dotdot_location
bad_case dotdot-module '\.\.' mut_dotdot_module
# The cache directory itself writable by others: the refusal names it
# (it is no entry's fault).
mut_cache_dir_mode() {
	chmod 0777 "${1%/*/*/*/*}"
}
BAD_WHO='/var/cache/bad/cache-dir-mode' bad_case cache-dir-mode 'writable by group or others' mut_cache_dir_mode
# Two modules, the second one damaged: the first must not be unpacked
# alone.
mut_second_module() {
	flip_byte "$1/dkb_user.ko.zst" $(($(stat -c %s "$1/dkb_user.ko.zst") / 2))
}
BAD_PKG="dkb-pair 1.0" bad_case second-module 'dkb_user\.ko\.zst.*(corrupt zstd|sha256)' mut_second_module
# A symlink on the way to an entry (its package directory, elsewhere in
# the root, linked in): never followed.  Listing skips it, so the entry is not
# refused but unseen: unpack finds nothing (exit 1) and verify must not
# call it verified.
vs=/var/cache/bad/package-symlink
mkdir -p "$R$vs" "$W/bad/package-symlink/into" "$R/var/cache/bad/elsewhere"
cp -a "$PRISTINE/dkb-dummy" "$R/var/cache/bad/elsewhere/"
ln -s ../elsewhere/dkb-dummy "$R$vs/dkb-dummy"
dkbc "$W/bad/package-symlink/verify" verify --cache-dir "$vs"
if grep -q 'verified' "$W/bad/package-symlink/verify"; then
	fail bad-package-symlink-verify "a symlinked entry was verified:" "$(cat "$W/bad/package-symlink/verify")"
else
	pass bad-package-symlink-verify
fi
dkbc "$W/bad/package-symlink/unpack" unpack -k "$K56" --into "$W/bad/package-symlink/into" --cache-dir "$vs"
if [[ $(rc_of "$W/bad/package-symlink/unpack") != 0 && -z $(files_in "$W/bad/package-symlink/into") ]]; then
	pass bad-package-symlink-unpack
else
	fail bad-package-symlink-unpack "exit $(rc_of "$W/bad/package-symlink/unpack"):" "$(files_in "$W/bad/package-symlink/into")"
fi
check_eq bad-dotdot-no-escape "" "$(ls -d "$W/bad/dotdot-location/dkb-cache-escape" "$W/dkb-cache-escape" 2>/dev/null || true)"

# Hostile archives: each is a real dkms --binaries-only archive of
# dkb-dummy plus (or with, in place of the module) one bad member.
# `cache import` must refuse it naming the member and the reason, add no
# entry, and create nothing outside its cache.
BASE_TAR=$W/dkb-dummy-mktarball-bin.dkms.tar.gz
mkdir -p "$W/arch"
bad_archive() {
	local name=$1 why=$2 who=$3 f=$W/arch/$1.dkms.tar.gz cd=/var/cache/bad-archive/$1
	shift 3
	python3 - "$BASE_TAR" "$f" "$@" <<'PY'
import io, sys, tarfile
src, dst, kind = sys.argv[1], sys.argv[2], sys.argv[3]
out = tarfile.open(dst, "w:gz", format=tarfile.GNU_FORMAT)
with tarfile.open(src, "r:gz") as t:
    for m in t.getmembers():
        out.addfile(m, t.extractfile(m) if m.isfile() else None)
def add(name, data=b"x", **kw):
    ti = tarfile.TarInfo(name)
    for k, v in kw.items():
        setattr(ti, k, v)
    if ti.type == tarfile.REGTYPE:
        ti.size = len(data)
        out.addfile(ti, io.BytesIO(data))
    else:
        out.addfile(ti)
if kind == "symlink":
    add("./dkms_main_tree/" + sys.argv[4] + "/x86_64/module/evil.ko",
        type=tarfile.SYMTYPE, linkname="/etc/shadow")
elif kind == "hardlink":
    add("./dkms_main_tree/" + sys.argv[4] + "/x86_64/module/evil.ko",
        type=tarfile.LNKTYPE, linkname="./dkms_binaries_only/dkms.conf")
elif kind == "dotdot":
    add("./dkms_main_tree/../../evil", b"escaped\n")
elif kind == "absolute":
    add("/tmp/dkb-cache-evil", b"escaped\n")
out.close()
PY
	dkbc "$W/arch/$name" import "$f" --cache-dir "$cd"
	refused "archive-$name" "$W/arch/$name" 3 "$who" "$why"
	check_eq "archive-$name-no-entry" "" "$(files_in "$R$cd")"
}
bad_archive symlink 'link' 'evil\.ko' symlink "$K56"
bad_archive hardlink 'link' 'evil\.ko' hardlink "$K56"
bad_archive dotdot '\.\.' 'evil' dotdot
bad_archive absolute 'absolute' 'dkb-cache-evil' absolute
check_eq archive-no-escape "" "$(ls -d /tmp/dkb-cache-evil "$R/evil" "$R/var/evil" "$W/evil" 2>/dev/null || true)"

# Decompression bombs in archives, made quickly and small:
#  - a module member (.ko.zst) that inflates to 300 MiB of zeros (10 KB
#    compressed), past the 256 MiB a module may have;
#  - a tar.gz that inflates past the 512 MiB an archive may have: one tar
#    header claiming a 600 MiB member, then zeros, gzip -9 (about 600 KB,
#    3 s to make; a 2 GB one would take far longer and say nothing more).
bomb_archive_module() {
	local d=$W/arch/bomb-module.d
	mkdir -p "$d/dkms_main_tree/$K56/$ARCH/module" "$d/dkms_binaries_only"
	head -c 300M /dev/zero | zstd -q -c >"$d/dkms_main_tree/$K56/$ARCH/module/dummy.ko.zst"
	echo dkb-dummy >"$d/dkms_binaries_only/PACKAGE_NAME"
	echo 2.0 >"$d/dkms_binaries_only/PACKAGE_VERSION"
	cp "$DKB_MODULES/dkb-dummy-2.0/dkms.conf" "$d/dkms_binaries_only/"
	tar -C "$d" -czf "$W/arch/bomb-module.dkms.tar.gz" dkms_main_tree dkms_binaries_only
}
bomb_archive_tar() {
	python3 - "$W/arch/bomb-tar.dkms.tar.gz" <<'PY'
import sys, tarfile, zlib
size = 600 << 20
ti = tarfile.TarInfo("dkms_main_tree/x/x86_64/module/dummy.ko")
ti.size = size
z = zlib.compressobj(9, zlib.DEFLATED, 31)
with open(sys.argv[1], "wb") as f:
    f.write(z.compress(ti.tobuf(format=tarfile.GNU_FORMAT)))
    block = bytes(1 << 20)
    for _ in range(size >> 20):
        f.write(z.compress(block))
    f.write(z.flush())
PY
}
bomb_archive_module
dkbc "$W/arch/bomb-module" import "$W/arch/bomb-module.dkms.tar.gz" --cache-dir /var/cache/bad-archive/bomb-module
refused archive-bomb-module "$W/arch/bomb-module" 3 'dummy\.ko\.zst' 'too large|past|limit|bomb'
check_eq archive-bomb-module-no-entry "" "$(files_in "$R/var/cache/bad-archive/bomb-module")"
bomb_archive_tar
dkbc "$W/arch/bomb-tar" import "$W/arch/bomb-tar.dkms.tar.gz" --cache-dir /var/cache/bad-archive/bomb-tar
refused archive-bomb-tar "$W/arch/bomb-tar" 3 'bomb-tar\.dkms\.tar\.gz' 'too large|past|limit|bomb'
check_eq archive-bomb-tar-no-entry "" "$(files_in "$R/var/cache/bad-archive/bomb-tar")"

# ---- 3b. what add and import let in ------------------------------------------

# A module for another kernel on the way in: `cache add` and `cache import`
# would write an entry that every later verify and unpack refuses, and it
# would replace the good entry in its place (at boot, the only copy).
# Both must refuse, naming the module, and leave the entry as it was.
WC=/var/cache/wrong-kernel
mkdir -p "$R$WC"
cp -a "$PRISTINE/dkb-dummy" "$R$WC/"
WC_MAN=$(entry_dir "$WC" dkb-dummy 2.0 "$K56")/MANIFEST
good=$(cat "$WC_MAN")
# add: the tree's 56 build swapped for the 55 one during the add.
cp "$(TREE56 dkb-dummy 2.0)/dummy.ko" "$W/dummy56.ko"
cp "$(TREE55 dkb-dummy 2.0)/dummy.ko" "$(TREE56 dkb-dummy 2.0)/dummy.ko"
dkbc "$W/wk-add" add -m dkb-dummy -v 2.0 -k "$K56" --cache-dir "$WC"
cp "$W/dummy56.ko" "$(TREE56 dkb-dummy 2.0)/dummy.ko"
refused add-wrong-kernel "$W/wk-add" 3 'dummy' "vermagic.*$K55|$K55.*not for $K56"
check_eq add-wrong-kernel-entry-kept "$good" "$(cat "$WC_MAN")"
# import: an archive that files the 55 build under 56.
wk=$W/wk-archive.d
mkdir -p "$wk/dkms_main_tree/$K56/$ARCH/module" "$wk/dkms_binaries_only"
cp "$(TREE55 dkb-dummy 2.0)/dummy.ko" "$wk/dkms_main_tree/$K56/$ARCH/module/"
echo dkb-dummy >"$wk/dkms_binaries_only/PACKAGE_NAME"
echo 2.0 >"$wk/dkms_binaries_only/PACKAGE_VERSION"
cp "$DKB_MODULES/dkb-dummy-2.0/dkms.conf" "$wk/dkms_binaries_only/"
tar -C "$wk" -czf "$W/wk-archive.dkms.tar.gz" dkms_main_tree dkms_binaries_only
dkbc "$W/wk-import" import "$W/wk-archive.dkms.tar.gz" --cache-dir "$WC"
refused import-wrong-kernel "$W/wk-import" 3 'dummy' "vermagic.*$K55|$K55.*not for $K56"
check_eq import-wrong-kernel-entry-kept "$good" "$(cat "$WC_MAN")"

# An unpack that fails while placing files (dkb_user.ko is a directory in
# the target) leaves none of the entry's modules; a dkb_core.ko that was
# there before (an older build) must be there still, not lost with the
# new one.
keep=$W/keep
mkdir -p "$keep/updates/dkms/dkb_user.ko"
echo old >"$keep/updates/dkms/dkb_core.ko"
dkbc "$W/keep.out" unpack -k "$K56" -m dkb-pair --into "$keep"
check_eq unpack-place-failure-exit 3 "$(rc_of "$W/keep.out")"
check_eq unpack-place-failure-keeps-previous old "$(cat "$keep/updates/dkms/dkb_core.ko" 2>&1)"
check_eq unpack-place-failure-no-staging "" "$(files_in "$keep" | grep -E '\.dkms-boot-unpack|dkb_user\.ko/' || true)"

# ---- 3c. payload modes ---------------------------------------------------------

# Cache payloads are the cache's own: root's and 0644, whatever mode or
# owner the build tree or the archive gave them, on the way in (add,
# import) and on the way out (unpack), so a setuid or world-writable bit
# never travels into /lib/modules.
# modes_of DIR: "mode uid gid path" of every file below DIR.
modes_of() {
	find "$1" -type f -printf '%m %U %G %P\n' | LC_ALL=C sort
}
# all_root_644 NAME DIR: every file below DIR is 0644 root:root (and
# there is at least one).
all_root_644() {
	local got
	got=$(modes_of "$2")
	if [[ -z $got ]]; then
		fail "$1" "no files below $2"
	elif grep -qv '^644 0 0 ' <<<"$got"; then
		fail "$1" "not all 0644 root:root:" "$got"
	else
		pass "$1"
	fi
}
MC=/var/cache/payload-modes
dtree=$(TREE56 dkb-dummy 2.0)
dconf=$R/usr/src/dkb-dummy-2.0/dkms.conf # where source/ leads in R
[[ -f $dconf ]] || die "no dkms.conf for dkb-dummy in the tree"
mode_ko=$(stat -c '%a %u:%g' "$dtree/dummy.ko")
mode_conf=$(stat -c '%a %u:%g' "$dconf")
chown 1000:1000 "$dtree/dummy.ko" "$dconf"
chmod 4777 "$dtree/dummy.ko"
chmod 0666 "$dconf"
dkbc "$W/modes-add" add -m dkb-dummy -v 2.0 -k "$K56" --cache-dir "$MC"
chown "${mode_ko#* }" "$dtree/dummy.ko"
chmod "${mode_ko% *}" "$dtree/dummy.ko"
chown "${mode_conf#* }" "$dconf"
chmod "${mode_conf% *}" "$dconf"
expect_ok modes-add "$W/modes-add"
check_eq modes-add-has-conf "644 0 0 dkms.conf" \
	"$(modes_of "$(entry_dir "$MC" dkb-dummy 2.0 "$K56")" | grep ' dkms.conf$' || true)"
all_root_644 modes-add-entry-root-0644 "$(entry_dir "$MC" dkb-dummy 2.0 "$K56")"
# Unpacked into a directory that hands its group down (setgid, group
# 1000): the .ko files are still root's.
mu=$W/modes-unpack
mkdir -p "$mu"
chown 0:1000 "$mu"
chmod 2777 "$mu"
dkbc "$W/modes-unpack.out" unpack -k "$K56" -m dkb-dummy --into "$mu" --cache-dir "$MC"
expect_ok modes-unpack "$W/modes-unpack.out"
all_root_644 modes-unpack-root-0644 "$mu"
# An archive whose members are 0777 and uid 1000: the entry and what is
# unpacked from it are 0644 root:root.
ma=$W/modes-archive.d
mkdir -p "$ma/dkms_main_tree/$K56/$ARCH/module" "$ma/dkms_binaries_only"
cp "$dtree/dummy.ko" "$ma/dkms_main_tree/$K56/$ARCH/module/"
echo dkb-dummy >"$ma/dkms_binaries_only/PACKAGE_NAME"
echo 2.0 >"$ma/dkms_binaries_only/PACKAGE_VERSION"
cp "$DKB_MODULES/dkb-dummy-2.0/dkms.conf" "$ma/dkms_binaries_only/"
tar -C "$ma" --mode=0777 --owner=1000 --group=1000 --numeric-owner \
	-czf "$W/modes-archive.dkms.tar.gz" dkms_main_tree dkms_binaries_only
check_eq modes-archive-member-0777 "-rwxrwxrwx 1000/1000" \
	"$(tar -tvzf "$W/modes-archive.dkms.tar.gz" --numeric-owner | grep 'dummy\.ko$' | awk '{print $1, $2}')"
MI=/var/cache/payload-modes-import
dkbc "$W/modes-import" import "$W/modes-archive.dkms.tar.gz" --cache-dir "$MI"
expect_ok modes-import "$W/modes-import"
all_root_644 modes-import-entry-root-0644 "$(entry_dir "$MI" dkb-dummy 2.0 "$K56")"
mt=$W/modes-unpack-tar
dkbc "$W/modes-unpack-tar.out" unpack -k "$K56" -m dkb-dummy --into "$mt" --cache-dir "$MI"
expect_ok modes-unpack-tar "$W/modes-unpack-tar.out"
all_root_644 modes-unpack-tar-root-0644 "$mt"

# ---- 4. atomicity and concurrency ------------------------------------------

# Two different builds of dkb-pair for 56: S (signed, as installed) and U
# (rebuilt with no key: unsigned, other bytes).  A writer adds the same
# entry over and over, from S and U in turn, while a reader unpacks and
# verifies it: every unpack must hold S's pair or U's pair, never one of
# each, and verify must never find the entry BAD.
conc=$W/conc
mkdir -p "$conc/S" "$conc/U"
cp "$(TREE56 dkb-pair 1.0)"/*.ko "$conc/S/"
mkdir -p "$W/key-away"
mv "$R/var/lib/dkms/mok.key" "$R/var/lib/dkms/mok.pub" "$W/key-away/"
sandbox_ok conc-build-unsigned "$BIN" build -m dkb-pair -v 1.0 -k "$K56" --force
mv "$W/key-away/mok.key" "$W/key-away/mok.pub" "$R/var/lib/dkms/"
cp "$(TREE56 dkb-pair 1.0)"/*.ko "$conc/U/"
set_line() {
	echo "dkb_core $(sha256sum <"$1/dkb_core.ko" | cut -d' ' -f1)"
	echo "dkb_user $(sha256sum <"$1/dkb_user.ko" | cut -d' ' -f1)"
}
SET_S=$(set_line "$conc/S")
SET_U=$(set_line "$conc/U")
if [[ $SET_S == "$SET_U" ]]; then
	fail conc-builds-differ "the signed and unsigned builds are the same bytes"
else
	pass conc-builds-differ
fi
CC=/var/cache/conc

# put_build S|U: make the dkms tree hold that build, each file replaced
# by rename (the writer is the only one touching the tree).
put_build() {
	local f
	for f in dkb_core dkb_user; do
		cp "$conc/$1/$f.ko" "$(TREE56 dkb-pair 1.0)/.$f.ko.new"
		mv -f "$(TREE56 dkb-pair 1.0)/.$f.ko.new" "$(TREE56 dkb-pair 1.0)/$f.ko"
	done
}

conc_writer() {
	local i b fails=0 end=$((SECONDS + CONC_SECONDS))
	for ((i = 0; i < CONC_ITER && SECONDS < end; i++)); do
		b=S
		((i % 2)) && b=U
		put_build "$b"
		"$BIN" cache --root "$R" --cache-dir "$CC" -q add -m dkb-pair -v 1.0 -k "$K56" \
			>>"$conc/writer.log" 2>&1 || fails=$((fails + 1))
	done
	echo "$i $fails" >"$conc/writer.done"
}

# conc_reader WRITER_PID: until the writer is done (or gone, or out of
# time), unpack, list and verify.
conc_reader() {
	local n=0 d rc end=$((SECONDS + CONC_SECONDS + 30))
	while [[ ! -e $conc/writer.done ]] && kill -0 "$1" 2>/dev/null && ((SECONDS < end)); do
		n=$((n + 1))
		d=$conc/u/$n
		mkdir -p "$d"
		rc=0
		"$BIN" cache --root "$R" --cache-dir "$CC" unpack -k "$K56" -m dkb-pair --into "$d" \
			>"$d.out" 2>&1 || rc=$?
		if [[ $rc == 0 ]]; then
			set_line "$d/updates/dkms" | tr '\n' ' ' >>"$conc/sets"
			echo >>"$conc/sets"
		else
			echo "unpack $n exit $rc: $(cat "$d.out")" >>"$conc/problems"
		fi
		# Partial or staging files left behind are a problem too.
		[[ $rc != 0 || $(files_in "$d" | wc -l) == 4 ]] ||
			echo "unpack $n left: $(files_in "$d" | tr '\n' ' ')" >>"$conc/problems"
		# Never a temporary entry in the listing, never a broken one.
		rc=0
		"$BIN" cache --root "$R" --cache-dir "$CC" list >"$d.list" 2>&1 || rc=$?
		[[ $rc == 0 && $(cat "$d.list") == "dkb-pair/1.0, $K56, $ARCH: 2 modules (dkms-tree)" ]] ||
			echo "list $n exit $rc: $(cat "$d.list")" >>"$conc/problems"
		rc=0
		"$BIN" cache --root "$R" --cache-dir "$CC" verify >"$d.verify" 2>&1 || rc=$?
		if [[ $rc != 0 ]] || grep -q BAD "$d.verify"; then
			echo "verify $n exit $rc: $(cat "$d.verify")" >>"$conc/problems"
		fi
	done
	echo "$n" >"$conc/reader.done"
}

# The entry exists before the reader starts, so every unpack has one.
put_build S
dkbc "$conc/first" add -m dkb-pair -v 1.0 -k "$K56" --cache-dir "$CC"
: >"$conc/sets"
conc_writer &
writer=$!
conc_reader "$writer"
wait "$writer" || true
[[ -e $conc/writer.done ]] || echo "- writer-died" >"$conc/writer.done"
read -r w_iter w_fails <"$conc/writer.done"
note "concurrency: $w_iter adds ($w_fails failed), $(cat "$conc/reader.done") unpack+verify rounds"
check_eq conc-adds-succeed 0 "$w_fails"
[[ $w_fails == 0 ]] || note_file "writer log" "$conc/writer.log"
mixed=$(awk -v s="$(echo "$SET_S" | tr '\n' ' ')" -v u="$(echo "$SET_U" | tr '\n' ' ')" \
	'$0 != s && $0 != u' "$conc/sets")
check_eq conc-unpack-never-mixed "" "$mixed"
check_eq conc-no-problems "" "$(head -20 "$conc/problems" 2>/dev/null || true)"
seen=$(awk -v s="$(echo "$SET_S" | tr '\n' ' ')" '{ print ($0 == s ? "S" : "U") }' "$conc/sets" |
	sort | uniq -c | tr '\n' ' ')
note "builds seen by unpack: $seen"
if [[ $(wc -l <"$conc/sets") -ge 2 ]]; then pass conc-reader-ran; else fail conc-reader-ran "only $(wc -l <"$conc/sets") unpacks"; fi

# kill -9 in the middle of `cache add`: the process is stopped at a random
# moment, and only counted as "mid-way" when its hidden temporary entry
# exists then; killed either way.  Afterwards list and verify must show
# the one complete entry (either build), never a temporary directory.
killed=0 midway=0
for ((i = 0; i < 40 && midway < 5; i++)); do
	b=S
	((i % 2)) && b=U
	put_build "$b"
	"$BIN" cache --root "$R" --cache-dir "$CC" -q add -m dkb-pair -v 1.0 -k "$K56" >/dev/null 2>&1 &
	pid=$!
	sleep "0.0$((RANDOM % 10))$((RANDOM % 10))"
	kill -STOP "$pid" 2>/dev/null || {
		wait "$pid" || true
		continue
	}
	if compgen -G "$R$CC/dkb-pair/1.0/$K56/.$ARCH.tmp.*" >/dev/null; then
		midway=$((midway + 1))
	fi
	kill -KILL "$pid"
	wait "$pid" 2>/dev/null || true
	killed=$((killed + 1))
	dkbc "$conc/kill-list" list --cache-dir "$CC"
	dkbc "$conc/kill-verify" verify --cache-dir "$CC"
	if [[ $(rc_of "$conc/kill-list") != 0 || $(rc_of "$conc/kill-verify") != 0 ]] ||
		[[ $(cat "$conc/kill-list") != "dkb-pair/1.0, $K56, $ARCH: 2 modules (dkms-tree)" ]]; then
		echo "after kill $killed: $(cat "$conc/kill-list" "$conc/kill-list.err" "$conc/kill-verify" "$conc/kill-verify.err")" >>"$conc/kill-problems"
	fi
done
leftover=$(compgen -G "$R$CC/dkb-pair/1.0/$K56/.$ARCH.tmp.*" | wc -l || true)
note "kill -9: $killed adds killed, $midway of them mid-way (temporary entry present); $leftover temporary entries left behind"
check_eq kill-list-complete-only "" "$(head -20 "$conc/kill-problems" 2>/dev/null || true)"
if ((midway > 0)); then pass kill-midway-reached; else fail kill-midway-reached "no kill landed while the temporary entry existed ($killed kills)"; fi
mkdir -p "$conc/after-kill"
dkbc "$conc/after-kill.out" unpack -k "$K56" -m dkb-pair --into "$conc/after-kill"
expect_ok kill-then-unpack "$conc/after-kill.out"
got=$(set_line "$conc/after-kill/updates/dkms" 2>&1 || true)
if [[ $got == "$SET_S" || $got == "$SET_U" ]]; then pass kill-then-unpack-consistent; else fail kill-then-unpack-consistent "$got"; fi
put_build S

# ---- 5. prune ---------------------------------------------------------------

# Entries for 56 (installed), 55 (installed: R/lib/modules/55 exists) and
# 6.1.0-99-amd64 (not installed: a copy of the 56 entry, renamed).
PC=/var/cache/prune
mkdir -p "$R$PC"
cp -a "$PRISTINE/." "$R$PC/"
dkbc "$W/prune-add55" add -m dkb-dummy -v 2.0 -k "$K55" --cache-dir "$PC"
expect_ok prune-setup-add-55 "$W/prune-add55"
cp -a "$R$PC/dkb-dummy/2.0/$K56" "$R$PC/dkb-dummy/2.0/6.1.0-99-amd64"
set_field "$R$PC/dkb-dummy/2.0/6.1.0-99-amd64/$ARCH/MANIFEST" kernel 6.1.0-99-amd64
# entry_ids LIST_OUTPUT: "package/version, kernel, arch" of each line.
entry_ids() {
	cut -d: -f1 "$1"
}
dkbc "$W/prune1" prune --cache-dir "$PC"
expect_ok prune "$W/prune1"
check_eq prune-output "removed dkb-dummy/2.0, 6.1.0-99-amd64, $ARCH" "$(cat "$W/prune1")"
dkbc "$W/prune1.list" list --cache-dir "$PC"
check_eq prune-kept-installed "dkb-dummy/2.0, $K55, $ARCH
dkb-dummy/2.0, $K56, $ARCH
dkb-pair/1.0, $K56, $ARCH" "$(entry_ids "$W/prune1.list")"
check_eq prune-removed-dir "" "$(ls -d "$R$PC/dkb-dummy/2.0/6.1.0-99-amd64" 2>/dev/null || true)"
dkbc "$W/prune2" prune --keep "$K56" --cache-dir "$PC"
expect_ok prune-keep "$W/prune2"
dkbc "$W/prune2.list" list --cache-dir "$PC"
check_eq prune-keep-list "dkb-dummy/2.0, $K56, $ARCH
dkb-pair/1.0, $K56, $ARCH" "$(entry_ids "$W/prune2.list")"
dkbc "$W/prune3" prune --keep "$K55" --cache-dir "$PC"
dkbc "$W/prune3.list" list --cache-dir "$PC"
check_eq prune-keep-other-empties "" "$(cat "$W/prune3.list")"
check_eq prune-empty-parents-gone "" "$(files_in "$R$PC")"

# ---- 6. kABI reuse ------------------------------------------------------------

# Entries built for 55 only.  55 and 56 export the same CRCs: with reuse
# allowed, 56 gets the 55 build; 47's differ: refused, naming a symbol.
KC=/var/cache/kabi
dkbc "$W/kabi-add" add -m dkb-dummy -v 2.0 -k "$K55" --cache-dir "$KC"
expect_ok kabi-setup-add-55 "$W/kabi-add"
DUMMY55=$(TREE55 dkb-dummy 2.0)/dummy.ko

# kabi_unpack NAME KVER ARGS...: unpack into a fresh directory, in the
# sandbox; prints nothing, leaves $W/NAME{,.err,.rc} and $W/NAME.into.
kabi_unpack() {
	local name=$1 k=$2
	shift 2
	mkdir -p "$W/$name.into"
	dkbc_in "$W/$name" unpack -k "$k" --into "$W/$name.into" --cache-dir "$KC" "$@"
}

kabi_unpack kabi-no-flag "$K56" -m dkb-dummy
check_eq kabi-no-flag-exit 1 "$(rc_of "$W/kabi-no-flag")"
check_eq kabi-no-flag-nothing "" "$(files_in "$W/kabi-no-flag.into")"

kabi_reused() {
	local name=$1
	expect_ok "$name" "$W/$name"
	if grep -q "built for $K55, kABI-checked" "$W/$name"; then
		pass "$name-says-kabi-checked"
	else
		fail "$name-says-kabi-checked" "$(cat "$W/$name" "$W/$name.err")"
	fi
	if cmp -s "$DUMMY55" "$W/$name.into/updates/dkms/dummy.ko"; then
		pass "$name-bytes"
	else
		fail "$name-bytes" "$(files_in "$W/$name.into")"
	fi
}
kabi_unpack kabi-flag "$K56" -m dkb-dummy --allow-kabi-reuse
kabi_reused kabi-flag

mkdir -p "$R/etc/dkms-boot"
echo "allow_kabi_reuse=yes" >"$R/etc/dkms-boot/dkms-boot.conf"
kabi_unpack kabi-conf "$K56" -m dkb-dummy
kabi_reused kabi-conf
echo "allow_kabi_reuse=no" >"$R/etc/dkms-boot/dkms-boot.conf"
kabi_unpack kabi-conf-no "$K56" -m dkb-dummy
check_eq kabi-conf-no-exit 1 "$(rc_of "$W/kabi-conf-no")"
rm -rf "$R/etc/dkms-boot"

# Two modules, one importing the other's export (dkb_user uses
# dkb_core_answer): the kernel resolves that CRC against dkb_core, which
# comes from the same entry, so the reuse is as safe as for dkb-dummy.
dkbc "$W/kabi-add-pair" add -m dkb-pair -v 1.0 -k "$K55" --cache-dir "$KC"
kabi_unpack kabi-pair "$K56" -m dkb-pair --allow-kabi-reuse
expect_ok kabi-reuse-multi-module "$W/kabi-pair"

# 6.1.0-47: its Module.symvers and .config (from the headers package,
# downloaded once as test_kabi.c does, never installed) laid out as the
# root's /lib/modules/47/build.
fetch_k47() {
	local d=$K47_CACHE/$H47
	[[ -f $d/usr/src/$H47/Module.symvers ]] && return 0
	mkdir -p "$K47_CACHE"
	(
		cd "$K47_CACHE" &&
			{ ls "$H47"_*.deb >/dev/null 2>&1 || apt-get download -q "$H47" >/dev/null 2>&1 ||
				{ apt-get update -q >/dev/null && apt-get download -q "$H47" >/dev/null; }; } &&
			rm -rf "$H47.tmp" && dpkg -x "$H47"_*.deb "$H47.tmp" && rm -rf "$H47" && mv "$H47.tmp" "$H47"
	) >/dev/null 2>&1
}
if fetch_k47; then
	mkdir -p "$R/lib/modules/$K47/build"
	cp "$K47_CACHE/$H47/usr/src/$H47/Module.symvers" "$K47_CACHE/$H47/usr/src/$H47/.config" \
		"$R/lib/modules/$K47/build/"
	kabi_unpack kabi-47 "$K47" -m dkb-dummy --allow-kabi-reuse
	refused kabi-47-refused "$W/kabi-47" 3 'dkb-dummy/2\.0' \
		"symbol '[A-Za-z0-9_]+': CRC|'[A-Za-z0-9_]+' is not exported by $K47"
	check_eq kabi-47-nothing "" "$(files_in "$W/kabi-47.into")"
	rm -rf "$R/lib/modules/$K47"
else
	fail kabi-47-refused "cannot get $H47 (apt-get download) into $K47_CACHE"
fi

note "cache.sh took $((SECONDS - script_start)) s"
finish
