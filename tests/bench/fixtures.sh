# shellcheck shell=bash
# Benchmark fixtures for tests/bench/run.sh (sourced, after
# tests/integration/lib.sh).
#
# A fixture is a sandbox root (see dkms_root_init in lib.sh) holding N
# packages registered, built and installed for one kernel, as real dkms
# leaves them.  Building N packages with dkms costs N module builds, so
# dkms builds ONE package (the seed) and the fixture clones it N times
# under new names, renaming everything that carries the name: the tree's
# package dir, the source dir, PACKAGE_NAME and BUILT_MODULE_NAME, the
# source file and Kbuild object, the .ko in the tree and under
# updates/dkms, and the kernel-KVER-ARCH link.  Real dkms then has to agree
# (`dkms status` lists all N as installed, without warnings) before a
# fixture is used.
#
# What cloning cannot rename: the name compiled into each .ko (modinfo
# name=, .gnu.linkonce.this_module) stays the seed's, since patching it
# would break the module signature.  Neither dkms status/autoinstall nor
# dkms-boot status/check reads it.
#
# Fixtures live under $BENCH_DIR and are reused while their key (kernel,
# dkms and headers versions, seed sources, this file) is unchanged; the
# key is written only after verification, so an interrupted build is
# rebuilt next time.

SEED_PKG_DIR=${SEED_PKG_DIR:-$DKB_MODULES/dkb-dummy-2.0}
SEED_NAME=dkb-dummy
SEED_VER=2.0
SEED_MOD=dummy # its BUILT_MODULE_NAME
BENCH_PREFIX=dkb-bench

# fixture_key: one line that changes whenever a fixture would come out
# different.
fixture_key() {
	local k
	k=$(
		echo "kernel $KVER arch $DKB_ARCH"
		dpkg-query -W -f='${Package} ${Version}\n' dkms "linux-headers-$KVER"
		(cd "$SEED_PKG_DIR" && find . -type f -print0 | sort -z | xargs -0 sha256sum)
		sha256sum <"${BASH_SOURCE[0]}"
		cat /etc/dkms/framework.conf /etc/dkms/framework.conf.d/* 2>/dev/null || true
	)
	sha256sum <<<"$k" | cut -d' ' -f1
}

# fixture_fresh DIR KEY: is DIR a verified fixture made with KEY?
fixture_fresh() {
	[[ -f $1/.bench-key && $(cat "$1/.bench-key") == "$2" ]]
}

# root_new DIR: an empty sandbox root, laid out like lib.sh's, plus all of
# /etc/dkms and the place dkms-boot keeps its caches (/var/cache is bound
# over the real one by bench_sandbox).
root_new() {
	local root=$1
	rm -rf --one-file-system -- "$root"
	mkdir -p "$root"
	dkms_root_init "$root"
	cp -pR /etc/dkms/. "$root/etc/dkms/"
	mkdir -p "$root/var/cache"
}

# bench_sandbox DIR CMD...: lib.sh's dkms_sandbox with DIR/var/cache over
# /var/cache as well, so that dkms-boot's caches (in-root paths under
# /var/cache/dkms-boot) written with root / inside the sandbox are the
# same files that --root DIR uses from outside, and never the host's.
bench_sandbox() {
	local root=$1
	shift
	# shellcheck disable=SC2016
	dkms_sandbox "$root" bash -c \
		'mount --bind "$DKB_SANDBOX/var/cache" /var/cache && exec "$@"' \
		bench-sandbox "$@"
}

# expect_status DIR EXPECTED: real `dkms status` in DIR's sandbox must
# print exactly EXPECTED, nothing on stderr, and succeed.
expect_status() {
	local root=$1 expected=$2 out err rc=0
	out=$(bench_sandbox "$root" dkms status 2>"$root.status.err") || rc=$?
	err=$(cat "$root.status.err")
	rm -f "$root.status.err"
	if ((rc != 0)) || [[ -n $err || $out != "$expected" ]]; then
		echo "dkms status in $root (exit $rc) is not what was expected:" >&2
		diff -u --label expected --label actual \
			<(printf '%s\n' "$expected") <(printf '%s\n' "$out") >&2 || true
		[[ -z $err ]] || printf 'stderr:\n%s\n' "$err" >&2
		return 1
	fi
}

# seed_build DIR: DIR gets the seed package added, built and installed
# by real dkms (about 2 s).
seed_build() {
	local root=$1 log=$1.log
	root_new "$root"
	dkms_tree_add "$SEED_PKG_DIR" "$root"
	# shellcheck disable=SC2016 # expanded by the inner bash
	if ! bench_sandbox "$root" bash -c '
		dkms add -m "$1" -v "$2" && dkms install -m "$1" -v "$2" -k "$3"
	' seed "$SEED_NAME" "$SEED_VER" "$KVER" >"$log" 2>&1; then
		sed 's/^/  dkms: /' "$log" >&2
		echo "seed: dkms could not build $SEED_NAME/$SEED_VER for $KVER" >&2
		return 1
	fi
	expect_status "$root" "$SEED_NAME/$SEED_VER, $KVER, $DKB_ARCH: installed"
}

# sed_keep FILE EXPR...: edit FILE in place, keeping its timestamps (dkms
# never touches these files after writing them), and fail when nothing
# changed, so that a seed that no longer looks as expected is noticed.
sed_keep() {
	local f=$1 before
	shift
	before=$(cat "$f")
	sed -i -e "$@" "$f"
	[[ $(cat "$f") != "$before" ]] || {
		echo "clone: $f: '$*' changed nothing" >&2
		return 1
	}
	touch -r "$f.orig-time" "$f"
}

# keep_time FILE: remember FILE's timestamps for sed_keep.
keep_time() {
	touch -r "$1" "$1.orig-time"
}

drop_time() {
	rm -f "$1.orig-time"
}

# clone_source SEED ROOT NAME MOD: /usr/src/NAME-VER from the seed's.
clone_source() {
	local seed=$1 root=$2 name=$3 mod=$4 f
	local src=$root/usr/src/$name-$SEED_VER
	cp -pR "$seed/usr/src/$SEED_NAME-$SEED_VER" "$src"
	mv "$src/$SEED_MOD.c" "$src/$mod.c"
	for f in "$src/Makefile" "$src/dkms.conf"; do
		keep_time "$f"
	done
	sed_keep "$src/Makefile" "s/^obj-m := $SEED_MOD\.o\$/obj-m := $mod.o/"
	sed_keep "$src/dkms.conf" \
		"s/^PACKAGE_NAME=.*/PACKAGE_NAME=\"$name\"/;
		 s/^BUILT_MODULE_NAME\[0\]=.*/BUILT_MODULE_NAME[0]=\"$mod\"/"
	for f in "$src/Makefile" "$src/dkms.conf"; do
		drop_time "$f"
	done
}

# clone_tree SEED ROOT NAME MOD: /var/lib/dkms/NAME and the installed
# module, from the seed's.
clone_tree() {
	local seed=$1 root=$2 name=$3 mod=$4
	local kdir=$SEED_VER/$KVER/$DKB_ARCH
	local from=$seed/var/lib/dkms/$SEED_NAME to=$root/var/lib/dkms/$name
	local inst=lib/modules/$KVER/updates/dkms
	mkdir -p "$to"
	cp -pR "$from/$SEED_VER" "$to/"
	ln -sfn "/usr/src/$name-$SEED_VER" "$to/$SEED_VER/source"
	mv "$to/$kdir/module/$SEED_MOD.ko" "$to/$kdir/module/$mod.ko"
	keep_time "$to/$kdir/log/make.log"
	sed_keep "$to/$kdir/log/make.log" \
		"s|$SEED_NAME-$SEED_VER|$name-$SEED_VER|g;
		 s|/$SEED_NAME/|/$name/|g;
		 s|/$SEED_MOD\.|/$mod.|g"
	drop_time "$to/$kdir/log/make.log"
	# dkms makes this link relative; `cp -P` of the seed's would do, but
	# spelling it out keeps the layout visible here.
	ln -sfn "$kdir" "$to/kernel-$KVER-$DKB_ARCH"
	mkdir -p "$root/$inst"
	cp -p "$seed/$inst/$SEED_MOD.ko" "$root/$inst/$mod.ko"
}

# bench_name I, bench_mod I: the I-th clone's package and module names
# (zero-padded, so that every sort order agrees).
bench_name() { printf '%s-%03d' "$BENCH_PREFIX" "$1"; }
bench_mod() { printf '%s_%03d' "${BENCH_PREFIX//-/_}" "$1"; }

# expected_status N: what dkms status must print for an N fixture.
expected_status() {
	local i
	for ((i = 1; i <= $1; i++)); do
		echo "$(bench_name "$i")/$SEED_VER, $KVER, $DKB_ARCH: installed"
	done
}

# layout ROOT NAME MOD: the files of package NAME (module MOD) with type,
# mode and link target, names replaced by placeholders, so that a clone's
# can be compared with the seed's.
layout() {
	local root=$1 name=$2 mod=$3
	(cd "$root" && find "var/lib/dkms/$name" "usr/src/$name-$SEED_VER" \
		"lib/modules/$KVER/updates/dkms/$mod.ko" -printf '%y %m %p -> %l\n') |
		sed "s|$name|@NAME@|g; s|$mod|@MOD@|g" | LC_ALL=C sort
}

# same_layout SEED ROOT I: the I-th clone is laid out as dkms laid out
# the seed.
same_layout() {
	local a b
	a=$(layout "$1" "$SEED_NAME" "$SEED_MOD")
	b=$(layout "$2" "$(bench_name "$3")" "$(bench_mod "$3")")
	[[ $a == "$b" ]] && return 0
	echo "clone $(bench_name "$3") is not laid out like the seed:" >&2
	diff -u --label seed --label clone <(echo "$a") <(echo "$b") >&2 || true
	return 1
}

# fixture_build SEED DIR N: N clones of the seed in a fresh root, depmod
# run as dkms install would have, then checked with real dkms.
fixture_build() {
	local seed=$1 root=$2 n=$3 i
	root_new "$root"
	# dkms's signing key pair, generated by the seed's build.
	cp -p "$seed"/var/lib/dkms/mok.* "$root/var/lib/dkms/" 2>/dev/null || true
	for ((i = 1; i <= n; i++)); do
		clone_source "$seed" "$root" "$(bench_name "$i")" "$(bench_mod "$i")"
		clone_tree "$seed" "$root" "$(bench_name "$i")" "$(bench_mod "$i")"
	done
	# As dkms install does; quiet like dkms (the fixture has no in-tree
	# modules, hence no modules.order, which depmod warns about).
	bench_sandbox "$root" depmod -a "$KVER" >"$root.depmod.log" 2>&1 || {
		cat "$root.depmod.log" >&2
		return 1
	}
	same_layout "$seed" "$root" 1
	expect_status "$root" "$(expected_status "$n")"
}

# fixture DIR_VAR N: set DIR_VAR to a verified N-package fixture,
# building the seed and the fixture when missing or stale.  (Locals are
# prefixed: printf -v would set a local of the same name as DIR_VAR.)
fixture() {
	local _fvar=$1 _fn=$2 _fkey _fseed=$BENCH_DIR/seed _froot=$BENCH_DIR/n$2
	_fkey=$(fixture_key)
	if ! fixture_fresh "$_fseed" "$_fkey"; then
		echo "bench: building the seed package with dkms ($KVER)" >&2
		rm -f "$_fseed/.bench-key"
		seed_build "$_fseed"
		echo "$_fkey" >"$_fseed/.bench-key"
	fi
	if ! fixture_fresh "$_froot" "$_fkey"; then
		echo "bench: cloning $_fn package(s) into $_froot" >&2
		fixture_build "$_fseed" "$_froot" "$_fn"
		echo "$_fkey" >"$_froot/.bench-key"
	fi
	printf -v "$_fvar" '%s' "$_froot"
}
