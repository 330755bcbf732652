#!/bin/bash
# Differential test of `dkms-boot eval` on the dkms.conf files of real
# Debian 12 *-dkms packages, for both test kernels:
#   (a) the native reader, where it accepts a file, must print exactly what
#       the bash evaluator prints (every variable and every resolved value);
#       files that only assign must be accepted, files with shell code
#       refused cleanly (exit 3, a message naming the file);
#   (b) the resolved values of the bash evaluator (and of native and auto)
#       must equal those of dkms 3.0.10's own read_conf(), run by
#       dkms-readconf-oracle.sh;
#   (c) for two packages, real `dkms add/build/install` in a sandbox must
#       produce the files our resolved values predict: the built_name files
#       under built_location in the build dir, the dest_name files in
#       dkms's module/ dir and under dest_location in /lib/modules/KVER.
#
# The .debs are downloaded once (apt-get download) and unpacked with
# dpkg -x into build/debian-dkms/ (DKB_DEBIAN_DKMS_CACHE), which later runs
# reuse; nothing is installed on the host.
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

need_root
need_cmds dkms apt-get dpkg unshare make cmp diff timeout

BIN=${DKMS_BOOT_TEST:-$DKB_REPO/build/test/dkms-boot}
ORACLE=$DKB_REPO/tests/integration/dkms-readconf-oracle.sh
CACHE=${DKB_DEBIAN_DKMS_CACHE:-$DKB_REPO/build/debian-dkms}
A=x86_64
[[ -x $BIN ]] || die "no $BIN (make build/test/dkms-boot)"

# debian package|dkms module name|native reader must: accept, refuse or
# either|why it is here.  Every Debian 12 *-dkms package is small (the
# largest, openafs, is under 1 MB); none uses PATCH or MAKE_MATCH, so the
# variants below add those to a real file.
PACKAGES=(
	"vpoll-dkms|vpoll|accept|smallest; plain; \"\$PACKAGE_NAME\" in values"
	"acpi-call-dkms|acpi-call|accept|plain; BUILD_EXCLUSIVE_CONFIG"
	"tp-smapi-dkms|tp_smapi|accept|plain; 3 modules, /extra and /updates; built in (c)"
	"nat-rtsp-dkms|nat-rtsp|accept|unquoted values; 2 modules; no MAKE (default make)"
	"xtrx-dkms|xtrx|accept|DEST_MODULE_LOCATION without an index"
	"dpdk-kmods-dkms|dpdk-kmods|accept|AUTOINSTALL=YES; single quotes inside MAKE"
	"dm-writeboost-dkms|dm-writeboost|accept|scalar MAKE/BUILT_MODULE_NAME; upstream-only BUILD_EXCLUSIVE_KERNEL_MIN"
	"dahdi-dkms|dahdi|accept|BUILD_EXCLUSIVE_KERNEL regex and 2 CONFIGs; 25 modules; ( ; ) in MAKE"
	"xtables-addons-dkms|xtables-addons|accept|helper variables; empty BUILT_MODULE_LOCATION; many modules"
	"rtpengine-kernel-dkms|rtpengine|either|escaped quotes in MAKE, which dkms expands twice"
	"ddcci-dkms|ddcci|refuse|if ! grep on .config; BUILD_EXCLUSIVE_ARCH; stderr output; built in (c)"
	"digimend-dkms|digimend|refuse|. \$kernel_source_dir/.config; \${X:-n}; 4 modules"
	"v4l2loopback-dkms|v4l2loopback|refuse|. .config; a pipe into sort -V"
	"openafs-modules-dkms|openafs|refuse|backticks; case; BUILD_EXCLUSIVE_CONFIG with !"
	"lttng-modules-dkms|lttng-modules|refuse|\$(...); i=\$((i+1)) array indexes; modules chosen by .config"
	"iptables-netflow-dkms|ipt-netflow|refuse|pushd \`dirname \$BASH_SOURCE\`; STRIP[0]=no"
)
# The packages really built in (c): quick (< 10 s each), one read
# natively, one through bash, both with several modules.
BUILD_PACKAGES=(tp_smapi ddcci)

# ---- the package cache ----------------------------------------------------

# fetch DEB MODULE: make sure CACHE/root/usr/src/MODULE-*/dkms.conf exists.
fetch() {
	local deb=$1 mod=$2 f
	conf_dir "$mod" >/dev/null && return 0
	mkdir -p "$CACHE/debs" "$CACHE/root"
	if ! (cd "$CACHE/debs" && apt-get download -q "$deb") >/dev/null 2>&1; then
		# Stale or missing package lists: one update, then again.
		if [[ -z ${apt_updated:-} ]]; then
			apt-get update -q >/dev/null 2>&1 || true
			apt_updated=1
		fi
		(cd "$CACHE/debs" && apt-get download -q "$deb") >/dev/null 2>&1 ||
			return 1
	fi
	for f in "$CACHE/debs/${deb}_"*.deb; do
		dpkg -x "$f" "$CACHE/root"
	done
	conf_dir "$mod" >/dev/null
}

# conf_dir MODULE: the newest CACHE/root/usr/src/MODULE-VERSION.
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

for k in "${DKB_KVERS[@]}"; do
	[[ -e /lib/modules/$k/build/.config ]] ||
		die "no headers for $k (scripts/install-deps.sh)"
done

start=$SECONDS
for p in "${PACKAGES[@]}"; do
	IFS='|' read -r deb mod _ _ <<<"$p"
	fetch "$deb" "$mod" || die "cannot download $deb (network? apt sources?)"
done
note "packages ready in $CACHE ($((SECONDS - start)) s)"

dkb_tmpdir_var WORK

# Variants of a real file for what no Debian package uses: MAKE_MATCH,
# PATCH/PATCH_MATCH, STRIP inheritance, BUILD_DEPENDS, and a
# BUILD_EXCLUSIVE_KERNEL that excludes one of the two kernels; and one
# with dkms's own refusals (a .ko name, a location outside /kernel,
# /updates, /extra).
make_variants() {
	local base
	base=$(conf_dir vpoll)
	mkdir -p "$WORK/variants/vpoll+match" "$WORK/variants/vpoll+bad" \
		"$WORK/variants/vpoll+anchored"
	# shellcheck disable=SC2016
	{
		cat "$base/dkms.conf"
		echo '# variant: kernel-dependent selections'
		echo 'MAKE[1]="make -C ${kernel_source_dir} M=${dkms_tree}/${PACKAGE_NAME}/${PACKAGE_VERSION}/build V=1"'
		echo 'MAKE_MATCH[1]="^6\.1\.0-56-"'
		echo 'PATCH[0]="all.patch"'
		echo 'PATCH[1]="only-55.patch"; PATCH_MATCH[1]="-55-amd64"'
		echo 'PATCH[2]="only-56.patch"; PATCH_MATCH[2]="^6\.1\.0-56"'
		echo 'BUILT_MODULE_NAME[1]="vpoll_two"; DEST_MODULE_LOCATION[1]="/kernel/extra"'
		echo 'STRIP[0]="n"'
		echo 'BUILD_DEPENDS="acpi-call  tp_smapi"'
		echo 'BUILD_EXCLUSIVE_KERNEL="^6\.1\.0-55-"'
	} >"$WORK/variants/vpoll+match/dkms.conf"
	{
		cat "$base/dkms.conf"
		echo '# variant: what dkms refuses'
		echo 'BUILT_MODULE_NAME[1]="second.ko"'
		echo 'DEST_MODULE_LOCATION[1]="/opt/x"'
		echo 'DEST_MODULE_NAME[2]="third.o"; DEST_MODULE_LOCATION[2]="/extra"'
	} >"$WORK/variants/vpoll+bad/dkms.conf"
	# Regexes anchored with '$': dkms's second expansion leaves a '$'
	# before a quote or at the end alone, but native may refuse them.
	# shellcheck disable=SC2016
	{
		cat "$base/dkms.conf"
		echo '# variant: anchored regexes'
		echo 'MAKE[1]="make V=1"; MAKE_MATCH[1]="^6\.1\.0-55-amd64$"'
		echo "PATCH[0]='x.patch'; PATCH_MATCH[0]='-56-amd64\$'"
		echo 'BUILD_EXCLUSIVE_ARCH="^x86_64$"'
	} >"$WORK/variants/vpoll+anchored/dkms.conf"
}
make_variants

# ---- (a) and (b) ----------------------------------------------------------

# resolved FILE: eval's output without the method= and var lines.
resolved() {
	grep -v -e '^method=' -e '^var ' "$1" || true
}

# sanitizers NAME OUT...: an ASan/UBSan report in any OUT.err fails
# NAME-sanitizers.
sanitizers() {
	local name=$1 out
	shift
	for out in "$@"; do
		if grep -qE 'runtime error:|ERROR: (Address|Leak)Sanitizer' "$out.err"; then
			fail "$name-sanitizers" "$out:" "$(head -30 "$out.err")"
		fi
	done
}

# compare_conf NAME MODULE VERSION FILE NATIVE-EXPECTATION
compare_conf() {
	local name=$1 mod=$2 ver=$3 file=$4 expect=$5 k o base
	for k in "${DKB_KVERS[@]}"; do
		o=$WORK/out/$name/$k
		mkdir -p "$o"
		base="eval --conf $file -m $mod -v $ver -k $k -a $A --no-cache"
		# shellcheck disable=SC2086
		{
			capture "$o/bash" timeout 60 "$BIN" $base --method bash
			capture "$o/native" timeout 60 "$BIN" $base --method native
			capture "$o/auto" timeout 60 "$BIN" $base
		}
		sanitizers "conf-$name-$k" "$o"/{bash,native,auto}
		capture "$o/dkms" timeout 60 bash "$ORACLE" -m "$mod" -v "$ver" -k "$k" -a "$A" "$file"
		note_file "$name $k: bash said" "$o/bash.err"

		# The bash evaluator ran at all (exit 3 only with dkms errors).
		if ! grep -q '^method=bash$' "$o/bash"; then
			fail "conf-$name-$k-bash-runs" "exit $(cat "$o/bash.rc")" "$(cat "$o/bash.err")"
			continue
		fi

		# (a) native: accepted means it printed a result.
		if grep -q '^method=native$' "$o/native"; then
			native_accepted["$name"]=1
			check_eq "conf-$name-$k-native-eq-bash" \
				"$(grep -v '^method=' "$o/bash"; echo "exit $(cat "$o/bash.rc")")" \
				"$(grep -v '^method=' "$o/native"; echo "exit $(cat "$o/native.rc")")"
			if [[ $expect == refuse ]]; then
				fail "conf-$name-$k-native-refuses" "native accepted a file with shell code"
			fi
		else
			native_refused["$name"]="$(head -1 "$o/native.err")"
			if [[ $expect == accept ]]; then
				fail "conf-$name-$k-native-accepts" \
					"native refused a plain-assignment file:" "$(cat "$o/native.err")"
			elif [[ $(cat "$o/native.rc") == 3 && -s $o/native.err ]] &&
				grep -qF "$file" "$o/native.err"; then
				pass "conf-$name-$k-native-refuses"
			else
				fail "conf-$name-$k-native-refuses" \
					"want exit 3 and a message naming $file, got exit $(cat "$o/native.rc"):" \
					"$(cat "$o/native.err")"
			fi
		fi
		check_eq "conf-$name-$k-auto-eq-bash" \
			"$(resolved "$o/bash")" "$(resolved "$o/auto")"

		# (b) dkms's own read_conf.
		note_file "$name $k: dkms read_conf said" "$o/dkms.err"
		if [[ ! -s $o/dkms ]]; then
			fail "conf-$name-$k-bash-eq-dkms" "the oracle printed nothing (exit $(cat "$o/dkms.rc"))"
			continue
		fi
		check_eq "conf-$name-$k-bash-eq-dkms" "$(cat "$o/dkms")" "$(resolved "$o/bash")"
		if grep -q '^method=native$' "$o/native"; then
			check_eq "conf-$name-$k-native-eq-dkms" "$(cat "$o/dkms")" "$(resolved "$o/native")"
		fi
		# Exit codes: 3 from eval exactly when read_conf fails.
		check_eq "conf-$name-$k-exit-eq-dkms" \
			"$( (($(cat "$o/dkms.rc") == 0)) && echo 0 || echo 3)" "$(cat "$o/bash.rc")"
	done
}

declare -A native_accepted=() native_refused=()
start=$SECONDS
for p in "${PACKAGES[@]}"; do
	IFS='|' read -r deb mod expect why <<<"$p"
	dir=$(conf_dir "$mod")
	ver=${dir##*/}
	ver=${ver#"$mod"-}
	note "$deb: $mod $ver ($why)"
	compare_conf "$mod" "$mod" "$ver" "$dir/dkms.conf" "$expect"
done
vver=$(conf_dir vpoll)
vver=${vver##*/vpoll-}
compare_conf vpoll+match vpoll "$vver" "$WORK/variants/vpoll+match/dkms.conf" accept
compare_conf vpoll+bad vpoll "$vver" "$WORK/variants/vpoll+bad/dkms.conf" accept
compare_conf vpoll+anchored vpoll "$vver" "$WORK/variants/vpoll+anchored/dkms.conf" either
note "native accepted: ${!native_accepted[*]}"
for m in "${!native_refused[@]}"; do
	note "native refused $m: ${native_refused[$m]}"
done
note "(a)+(b) took $((SECONDS - start)) s"

# ---- (c) real dkms builds ---------------------------------------------------

# field I KEY: module[I].KEY from the eval output in $o/eval.
field() {
	sed -n "s/^module\[$1\]\.$2=//p" "$o/eval"
}

start=$SECONDS
K=${DKB_KVERS[1]}
# What the host looks like before; compared at the end to show that the
# sandbox kept every dkms write away from it.
host_snapshot() {
	find /var/lib/dkms /usr/src /lib/modules -maxdepth 3 2>/dev/null | sort
}
host_before=$(host_snapshot)

# Compression suffixes (.ko.xz ...) are dropped: the kernel's choice, not
# the conf's.  Paths are made relative, without doubled slashes.
strip_ko() {
	sed -e 's/\.ko\.[a-z]*$/.ko/' -e 's|//*|/|g' -e 's|^/||' | sed '/^$/d' | sort -u
}

# A `make` ahead of the real one in dkms's PATH: after each run in the
# build dir (dkms's clean, make and final clean) it lists the .ko files
# there, so the build dir can be checked although dkms deletes it.
mkdir -p "$WORK/wrap"
cat >"$WORK/wrap/make" <<'WRAP'
#!/bin/bash
/usr/bin/make "$@"
rc=$?
if [[ -n ${DKB_BUILD_DIR:-} && -d $DKB_BUILD_DIR ]]; then
	find "$DKB_BUILD_DIR" -name '*.ko' -printf '%P\n' >>"$DKB_KO_LIST"
fi
exit $rc
WRAP
chmod +x "$WORK/wrap/make"

for mod in "${BUILD_PACKAGES[@]}"; do
	dir=$(conf_dir "$mod")
	ver=${dir##*/}
	ver=${ver#"$mod"-}
	o=$WORK/build/$mod
	mkdir -p "$o"
	# A root of its own, so that only this package's files are installed.
	dkms_root_init "$o/root"
	ROOT=$DKB_ROOT
	dkms_tree_add "$dir"
	: >"$o/ko-list"
	rc=0
	for action in add build install; do
		dkms_sandbox "$ROOT" env PATH="$WORK/wrap:$PATH" \
			DKB_BUILD_DIR="/var/lib/dkms/$mod/$ver/build" DKB_KO_LIST="$o/ko-list" \
			timeout 120 dkms "$action" -m "$mod" -v "$ver" -k "$K" >"$o/$action.log" 2>&1 || rc=$?
		if ((rc)); then
			note_file "dkms $action -m $mod -v $ver -k $K (exit $rc)" "$o/$action.log"
			break
		fi
	done
	if ((rc)); then
		fail "build-$mod-dkms" "dkms failed, see above"
		continue
	fi
	pass "build-$mod-dkms"

	# Our resolution, inside the sandbox and from the registered tree,
	# as the boot agent would see it.
	capture "$o/eval" dkms_sandbox "$ROOT" timeout 60 "$BIN" eval -m "$mod" -v "$ver" -k "$K" -a "$A" --no-cache
	sanitizers "build-$mod-eval" "$o/eval"
	if [[ $(cat "$o/eval.rc") != 0 ]]; then
		fail "build-$mod-eval" "exit $(cat "$o/eval.rc")" "$(cat "$o/eval.err")"
		continue
	fi
	n=$(grep -c '^module\[[0-9]*\]\.built_name=' "$o/eval" || true)
	want_built='' want_module='' want_installed=''
	for ((i = 0; i < n; i++)); do
		want_built+="$(field $i built_location)$(field $i built_name).ko"$'\n'
		want_module+="$(field $i dest_name).ko"$'\n'
		want_installed+="$(field $i dest_location)/$(field $i dest_name).ko"$'\n'
	done
	check_eq "build-$mod-built-files" \
		"$(printf '%s' "$want_built" | strip_ko)" \
		"$(strip_ko <"$o/ko-list" | grep -Fx -f <(printf '%s' "$want_built" | strip_ko) || true)"
	note "$mod: .ko files seen in the build dir: $(strip_ko <"$o/ko-list" | tr '\n' ' ')"
	check_eq "build-$mod-module-dir" \
		"$(printf '%s' "$want_module" | strip_ko)" \
		"$(find "$ROOT/var/lib/dkms/$mod/$ver/$K/$A/module" -type f -printf '%P\n' 2>/dev/null | strip_ko)"
	check_eq "build-$mod-installed-files" \
		"$(printf '%s' "$want_installed" | strip_ko)" \
		"$(find "$ROOT/lib/modules/$K" -name '*.ko*' -printf '%P\n' | strip_ko)"
done
check_eq "build-host-untouched" "$host_before" "$(host_snapshot)"
note "(c) took $((SECONDS - start)) s"

finish
