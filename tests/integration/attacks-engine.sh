#!/bin/bash
# The build/install engine must not harm the machine: each attack or
# fault is performed for real against `dkms-boot build|install|uninstall`
# in a sandbox root (real dkms for `dkms add` and as the reference for
# messages), and the outcome is checked.
#   scripts-*      install scripts run as root only when allowed
#   perms-*        a build's chmod 4777 never reaches the tree or
#                  /lib/modules: both copies are 0644 root:root
#   link-*         a build that makes its module dir or .ko a link to a
#                  root-only file gets nothing copied, with a reason
#   stale-*        work and hidden tree dirs of a crashed run are removed,
#                  those of a live run (flock held) are not
#   timeout-*      one time limit for all the steps of a package; a
#                  default one without --timeout; exit 5
#   exdev-*        the original module archived and restored across file
#                  systems, byte for byte
#   durable-*      every rename and new directory is fsynced (strace)
#   sanity-msg-*   dkms's version sanity error, all of its lines
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

need_root
need_cmds dkms flock python3 strace timeout unshare mount

BIN=${DKMS_BOOT_TEST:-$DKB_REPO/build/test/dkms-boot}
[[ -x $BIN ]] || die "no $BIN (make build/test/dkms-boot)"
K=${DKB_KVERS[1]}
ARCH=$DKB_ARCH

# The sleeper the default-timeout case leaves if the limit fails: found
# by its unique duration, ended by pid on exit.
SLEEPER=300.4829
secret_dir=''
lock_pid=''
end_leftovers() {
	local pid
	for pid in $(pgrep -f "sleep $SLEEPER" || true) $lock_pid; do
		kill "$pid" 2>/dev/null || true
	done
	[[ -z $secret_dir ]] || rm -rf -- "$secret_dir"
}
trap 'end_leftovers; _dkb_cleanup' EXIT

dkb_tmpdir_var W

# root_with NAME PKG...: a fresh sandbox root $W/NAME with the packages
# (directories under tests/modules) added by real dkms; FIXUP, when set,
# is run on each package's copy in the root before `dkms add`.
root_with() {
	local r=$W/$1 p name ver
	shift
	dkms_root_init "$r"
	for p in "$@"; do
		dkms_tree_add "$p" "$r"
		name=${p%-*}
		ver=${p##*-}
		[[ -z ${FIXUP:-} ]] || $FIXUP "$r/usr/src/$p"
		dkms_in "$r" -- add -m "$name" -v "$ver" >/dev/null ||
			die "dkms add $name/$ver failed"
	done
}

# ours OUT ROOT ARGS...: dkms-boot inside ROOT's sandbox (at most
# ${OURS_LIMIT:-300} s), stdout to OUT, stderr to OUT.err, exit status to
# OUT.rc, milliseconds to OUT.ms; sanitizer reports fail.
ours() {
	local out=$1 root=$2 t0
	shift 2
	t0=$(date +%s%N)
	capture "$out" dkms_sandbox "$root" timeout "${OURS_LIMIT:-300}" "$BIN" "$@"
	echo $((($(date +%s%N) - t0) / 1000000)) >"$out.ms"
	note "dkms-boot $* -> exit $(cat "$out.rc") in $(cat "$out.ms") ms"
	note_file stdout "$out"
	note_file stderr "$out.err"
	if grep -qE 'runtime error:|ERROR: (Address|Leak)Sanitizer' "$out.err"; then
		fail "${out##*/}-sanitizers" "$(head -30 "$out.err")"
	fi
}

rc_is() {
	check_eq "$1" "$3" "$(cat "$2.rc")"
}

# has NAME FILE REGEX: FILE has a line matching REGEX.
has() {
	if grep -qE -- "$3" "$2"; then
		pass "$1"
	else
		fail "$1" "no line matching '$3' in $2:" "$(tail -20 "$2")"
	fi
}

# ---- 3b: install scripts only when allowed ----------------------------------

root_with scripts dkb-hooks-1.0
R=$W/scripts
ours "$W/out-noscripts" "$R" install -m dkb-hooks -v 1.0 -k "$K" --scripts=no
rc_is scripts-no-exit-0 "$W/out-noscripts" 0
check_eq scripts-no-post-install-not-run no \
	"$([[ -e $R/var/lib/dkms/dkb-hooks-post-install.ran ]] && echo yes || echo no)"
has scripts-no-logged "$W/out-noscripts.err" 'post_install script .*was not run'
ours "$W/out-noscripts-un" "$R" uninstall -m dkb-hooks -v 1.0 -k "$K" --scripts=no
rc_is scripts-no-uninstall-exit-0 "$W/out-noscripts-un" 0
check_eq scripts-no-post-remove-not-run no \
	"$([[ -e $R/var/lib/dkms/dkb-hooks-post-remove.ran ]] && echo yes || echo no)"
has scripts-no-remove-logged "$W/out-noscripts-un.err" 'post_remove script .*was not run'
# dkms parity: the command's default runs them, as dkms does.
ours "$W/out-scripts" "$R" install -m dkb-hooks -v 1.0 -k "$K"
rc_is scripts-default-exit-0 "$W/out-scripts" 0
check_eq scripts-default-post-install-ran yes \
	"$([[ -e $R/var/lib/dkms/dkb-hooks-post-install.ran ]] && echo yes || echo no)"

# ---- 10: one time limit per package, and a default one ----------------------

# PRE_BUILD 3 s and MAKE 3 s each fit in 4 s, together they do not.
set_sleeps() {
	echo "$2" >"$1/pre.sleep"
	echo "$3" >"$1/make.sleep"
	echo "$4" >"$1/post.sleep"
}
sleeps_3_3_0() {
	set_sleeps "$1" 3 3 0
	echo no >"$1/compile"
}
FIXUP=sleeps_3_3_0 root_with tbuild dkb-hooks-1.0
ours "$W/out-tbuild" "$W/tbuild" build -m dkb-hooks -v 1.0 -k "$K" --timeout 4
rc_is timeout-build-steps-share-exit-5 "$W/out-tbuild" 5
ms=$(cat "$W/out-tbuild.ms")
if ((ms < 12000)); then pass timeout-build-steps-share-in-time; else
	fail timeout-build-steps-share-in-time "took $ms ms"; fi

# The install scripts share the build's budget: PRE_BUILD 3 s (a
# placeholder MAKE, no compile, and the engine's own steps: up to 11 s
# on a loaded machine), then POST_INSTALL 12 s, --timeout 14: each fits,
# the package does not.  With a fresh budget for the install (the old
# engine), it succeeded.
sleeps_3_0_12() {
	set_sleeps "$1" 3 0 12
	echo no >"$1/compile"
}
FIXUP=sleeps_3_0_12 root_with tinst dkb-hooks-1.0
ours "$W/out-tinst" "$W/tinst" install -m dkb-hooks -v 1.0 -k "$K" --timeout 14
rc_is timeout-install-shares-exit-5 "$W/out-tinst" 5
has timeout-install-shares-in-post-install "$W/out-tinst.err" 'post_install.*time limit'
ms=$(cat "$W/out-tinst.ms")
if ((ms < 20000)); then pass timeout-install-shares-in-time; else
	fail timeout-install-shares-in-time "took $ms ms"; fi

# depmod runs once after the packages, within what is left of their
# budget, not with a fresh limit of its own: a depmod that hangs (first in
# PATH here) ends the run at the package's limit, with the time-out code.
sleeps_0_0_0() {
	set_sleeps "$1" 0 0 0
	echo no >"$1/compile"
}
FIXUP=sleeps_0_0_0 root_with tdepmod dkb-hooks-1.0
mkdir -p "$W/slow-bin"
printf '#!/bin/sh\nexec sleep %s\n' "$SLEEPER" >"$W/slow-bin/depmod"
chmod 755 "$W/slow-bin/depmod"
t0=$(date +%s%N)
capture "$W/out-tdepmod" dkms_sandbox "$W/tdepmod" sh -c \
	"mount --bind '$W/slow-bin' /usr/local/sbin && exec timeout 120 '$BIN' install -m dkb-hooks -v 1.0 -k '$K' --timeout 8"
ms=$((($(date +%s%N) - t0) / 1000000))
note_file stderr "$W/out-tdepmod.err"
rc_is timeout-depmod-shares-exit-5 "$W/out-tdepmod" 5
has timeout-depmod-shares-logged "$W/out-tdepmod.err" 'depmod .*reached the time limit'
if ((ms < 40000)); then pass timeout-depmod-shares-in-time; else
	fail timeout-depmod-shares-in-time "took $ms ms"; fi
check_eq timeout-depmod-no-sleeper-left "" "$(pgrep -f "sleep $SLEEPER" || true)"

# No --timeout: the default applies (lowered to 3 s through the test
# build's DKMS_BOOT_TEST_DEFAULT_TIMEOUT); a MAKE that sleeps for ever ends.
sleeps_forever() { set_sleeps "$1" 0 "$SLEEPER" 0; }
FIXUP=sleeps_forever root_with tdef dkb-hooks-1.0
DKMS_BOOT_TEST_DEFAULT_TIMEOUT=3 OURS_LIMIT=40 \
	ours "$W/out-tdef" "$W/tdef" build -m dkb-hooks -v 1.0 -k "$K"
rc_is timeout-default-exit-5 "$W/out-tdef" 5
check_eq timeout-default-no-sleeper-left "" "$(pgrep -f "sleep $SLEEPER" || true)"
"$BIN" --help >"$W/help" 2>&1 || true
has timeout-default-documented "$W/help" 'default: 1800'
has timeout-default-in-man "$DKB_REPO/docs/dkms-boot.8" 'default.*1800'

# ---- 4 + 7b: modes, and what a crashed run left ------------------------------

root_with perms dkb-perms-1.0
R=$W/perms
mkdir -p "$W/work"
# A crashed run's work dir (its lock free), a live run's (the test holds
# its lock), a failed build's kept log (no lock: never removed).
mkdir -p "$W/work/dkb-x-1.0-$K.AbCdEf/build" "$W/work/dkb-y-1.0-$K.GhIjKl/build" \
	"$W/work/dkb-z-1.0-$K.MnOpQr"
touch "$W/work/dkb-x-1.0-$K.AbCdEf/.lock" "$W/work/dkb-y-1.0-$K.GhIjKl/.lock" \
	"$W/work/dkb-z-1.0-$K.MnOpQr/make.log"
# The same next to the tree entry: a crashed run's hidden directory, and a
# live one.
kdir=$R/var/lib/dkms/dkb-perms/1.0/$K
mkdir -p "$kdir/.$ARCH.dkms-boot.StAlE1/module" "$kdir/.$ARCH.dkms-boot.LiVe01/module"
touch "$kdir/.$ARCH.dkms-boot.StAlE1/.lock" "$kdir/.$ARCH.dkms-boot.LiVe01/.lock"
flock "$W/work/dkb-y-1.0-$K.GhIjKl/.lock" flock "$kdir/.$ARCH.dkms-boot.LiVe01/.lock" \
	sleep 600 &
lock_pid=$!
sleep 0.5
ours "$W/out-perms" "$R" install -m dkb-perms -v 1.0 -k "$K" --workdir "$W/work"
kill "$lock_pid" 2>/dev/null || true
wait "$lock_pid" 2>/dev/null || true
lock_pid=''
rc_is perms-exit-0 "$W/out-perms" 0
tree_ko=$(find "$kdir/$ARCH/module" -name 'dkb_perms.ko*' | head -1)
inst_ko=$(find "$R/lib/modules/$K" -name 'dkb_perms.ko*' -not -path '*/build/*' | head -1)
check_eq perms-tree-copy "644 root:root" "$([[ -n $tree_ko ]] && stat -c '%a %U:%G' "$tree_ko")"
check_eq perms-installed "644 root:root" "$([[ -n $inst_ko ]] && stat -c '%a %U:%G' "$inst_ko")"
check_eq stale-workdir-removed no "$([[ -e $W/work/dkb-x-1.0-$K.AbCdEf ]] && echo yes || echo no)"
check_eq stale-locked-workdir-kept yes "$([[ -d $W/work/dkb-y-1.0-$K.GhIjKl/build ]] && echo yes || echo no)"
check_eq stale-kept-log-kept yes "$([[ -f $W/work/dkb-z-1.0-$K.MnOpQr/make.log ]] && echo yes || echo no)"
check_eq stale-hidden-removed no "$([[ -e $kdir/.$ARCH.dkms-boot.StAlE1 ]] && echo yes || echo no)"
check_eq stale-locked-hidden-kept yes "$([[ -d $kdir/.$ARCH.dkms-boot.LiVe01/module ]] && echo yes || echo no)"
check_eq stale-own-workdir-gone "dkb-y-1.0-$K.GhIjKl dkb-z-1.0-$K.MnOpQr" "$(ls "$W/work" | xargs)"

# ---- 5: links out of the build directory -------------------------------------

secret_dir=$(mktemp -d /root/dkb-secret-XXXXXX)
chmod 700 "$secret_dir"
token="DKB-SECRET-$RANDOM$RANDOM$RANDOM"
printf '%s\n' "$token" >"$secret_dir/dkb_link.ko"
chmod 600 "$secret_dir/dkb_link.ko"
# link_case NAME ATTACK: install dkb-link built with that attack.
link_case() {
	local t=link-$1 attack=$2 r=$W/link-$1 out=$W/out-link-$1 found
	root_with "link-$1" dkb-link-1.0
	echo "$attack" >"$r/usr/src/dkb-link-1.0/attack"
	echo "$secret_dir" >"$r/usr/src/dkb-link-1.0/secret.path"
	ours "$out" "$r" install -m dkb-link -v 1.0 -k "$K"
	if [[ $attack == none ]]; then
		rc_is "$t-exit-0" "$out" 0
		return
	fi
	rc_is "$t-exit-4" "$out" 4
	has "$t-reason" "$out.err" 'refused to collect out/dkb_link.ko: it is, or passes through, a symbolic link'
	found=$(grep -rlF "$token" "$r/var/lib/dkms" "$r/lib/modules" 2>/dev/null || true)
	check_eq "$t-secret-nowhere" "" "$found"
}
link_case honest none
link_case dir dir
link_case ko ko
# The same without openat2, as on kernels before 5.6 (test build only).
export DKMS_BOOT_TEST_NO_OPENAT2=1
link_case dir-walk dir
link_case ko-walk ko
unset DKMS_BOOT_TEST_NO_OPENAT2
rm -rf -- "$secret_dir"
secret_dir=''

# ---- 11: the original module across file systems ----------------------------

root_with exdev dkb-dummy-2.0
R=$W/exdev
# Not Debian: dkms archives the in-kernel module it shadows there.
sed -e 's/^ID=.*/ID=fedora/' -e 's/^ID_LIKE=.*//' /etc/os-release >"$W/os-release-fedora"
head -c 4096 /dev/urandom >"$W/original.ko"
cat >"$W/exdev.sh" <<'EOF'
set -u
K=$1 BIN=$2 W=$3
mount --bind "$W/os-release-fedora" /etc/os-release
mkdir -p "/lib/modules/$K/updates"
# /lib/modules/K/updates on a file system of its own, not the dkms tree's.
mount -t tmpfs dkb-exdev "/lib/modules/$K/updates"
cp "$W/original.ko" "/lib/modules/$K/updates/dummy.ko"
"$BIN" install -m dkb-dummy -v 2.0 -k "$K" >"$W/exdev-install.out" 2>&1
echo "install $?"
# The tree's module is installed (in /extra here) and the original is
# out of the way (in the archive).
replaced=no
for f in $(find "/lib/modules/$K/" -name 'dummy.ko*'); do
	cmp -s "/var/lib/dkms/dkb-dummy/2.0/$K/"*/module/dummy.ko "$f" && replaced=yes
	cmp -s "$W/original.ko" "$f" && replaced="no, the original is at $f"
done
echo "replaced $replaced"
ls /var/lib/dkms/dkb-dummy/original_module/"$K"/*/ 2>/dev/null | sed 's/^/archive /'
"$BIN" uninstall -m dkb-dummy -v 2.0 -k "$K" >"$W/exdev-uninstall.out" 2>&1
echo "uninstall $?"
if cmp -s "$W/original.ko" "/lib/modules/$K/updates/dummy.ko"; then
	echo restored
else
	echo "not restored"
fi
EOF
dkms_sandbox "$R" bash "$W/exdev.sh" "$K" "$BIN" "$W" >"$W/exdev.out" 2>&1 || true
note_file "exdev run" "$W/exdev.out"
note_file "install" "$W/exdev-install.out"
note_file "uninstall" "$W/exdev-uninstall.out"
check_eq exdev-install-exit-0 "install 0" "$(grep '^install ' "$W/exdev.out")"
check_eq exdev-archived "archive dummy.ko" "$(grep '^archive ' "$W/exdev.out")"
check_eq exdev-module-installed "replaced yes" "$(grep '^replaced ' "$W/exdev.out")"
check_eq exdev-uninstall-exit-0 "uninstall 0" "$(grep '^uninstall ' "$W/exdev.out")"
check_eq exdev-original-restored restored "$(tail -1 "$W/exdev.out")"

# ---- 12: durability ----------------------------------------------------------

root_with durable dkb-perms-1.0
R=$W/durable
mkdir -p "$W/strace" "$W/work2"
# LeakSanitizer cannot run under ptrace.
ASAN_OPTIONS=detect_leaks=0 capture "$W/strace.run" dkms_sandbox "$R" strace -ff --seccomp-bpf -y -qq -o "$W/strace/t" \
	-e trace=execve,clone,clone3,fork,vfork,rename,renameat,renameat2,mkdir,mkdirat,symlink,symlinkat,link,linkat,fsync,fdatasync \
	"$BIN" install -m dkb-perms -v 1.0 -k "$K" --workdir "$W/work2"
check_eq durable-install-exit-0 0 "$(cat "$W/strace.run.rc")"
cat >"$W/durable.py" <<'EOF'
# Every rename, link and new directory that dkms-boot itself (not a
# program it runs) makes under /var/lib/dkms or /lib/modules must be
# followed, in the same process, by an fsync of the directory holding it.
# One strace file per process (strace -ff): t.<pid>.
import glob, os, re, sys
line_re = re.compile(r'^(\w+)\((.*)\) += (-?\d+)')
def norm(p):
    p = os.path.normpath(p)
    return p[4:] if p.startswith('/usr/lib/') else p
def under(p):
    return p.startswith(('/var/lib/dkms/', '/lib/modules/'))
done, bad = 0, []
for f in sorted(glob.glob(sys.argv[1] + '/t.*')):
    pending = []
    for line in open(f):
        m = line_re.match(line)
        if not m:
            continue
        call, args, ret = m.group(1), m.group(2), int(m.group(3))
        if call == 'execve' and ret == 0:
            if not args.startswith('"' + sys.argv[2] + '"'):
                break  # another program from here on
            continue
        if ret != 0:
            continue
        if call in ('fsync', 'fdatasync'):
            fd = re.search(r'<([^>]*)>', args)
            if fd:
                d = norm(fd.group(1))
                pending = [p for p in pending if p[0] != d]
            continue
        paths = re.findall(r'"([^"]*)"', args)
        if call in ('clone', 'clone3', 'fork', 'vfork', 'execve') or not paths:
            continue
        new = norm(paths[-1])
        if under(new):
            pending.append((os.path.dirname(new), call, new))
            done += 1
    bad += [f'{c} {n}: no fsync of {d} after it ({f})' for d, c, n in pending]
print('\n'.join(bad))
print(f'checked {done}', file=sys.stderr)
EOF
python3 "$W/durable.py" "$W/strace" "$BIN" >"$W/durable.out" 2>"$W/durable.err"
note_file "checked" "$W/durable.err"
if grep -q 'checked [1-9]' "$W/durable.err"; then
	check_eq durable-every-publish-fsynced "" "$(sed '/^$/d' "$W/durable.out")"
else
	fail durable-every-publish-fsynced "strace saw no rename under the trees"
fi

# ---- 14: dkms's version sanity error, whole ----------------------------------

root_with sanity dkb-dummy-2.0
R=$W/sanity
ours "$W/out-sanity-build" "$R" build -m dkb-dummy -v 2.0 -k "$K"
rc_is sanity-build-exit-0 "$W/out-sanity-build" 0
# A newer dummy.ko in the kernel: the tree's, its version made 9.0.
ko=$(find "$R/var/lib/dkms/dkb-dummy/2.0/$K" -name 'dummy.ko*' | head -1)
mkdir -p "$R/lib/modules/$K/kernel/drivers/net"
python3 - "$ko" "$R/lib/modules/$K/kernel/drivers/net/dummy.ko" <<'EOF'
import sys
data = open(sys.argv[1], 'rb').read()
assert b'version=2.0-dkb\0' in data
open(sys.argv[2], 'wb').write(data.replace(b'version=2.0-dkb\0', b'version=9.0-dkb\0'))
EOF
ours "$W/out-sanity" "$R" install -m dkb-dummy -v 2.0 -k "$K"
rm -f "$R/var/lib/dkms/dkb-dummy/kernel-$K-$ARCH"
dkms_sandbox "$R" dkms install -m dkb-dummy -v 2.0 -k "$K" >"$W/dkms-sanity" 2>&1 || true
note_file "dkms install" "$W/dkms-sanity"
want=$(sed -n '/Module version .* for dummy\.ko/,/You may override/p' "$W/dkms-sanity" | sed 's/^Error! //')
got=$(sed -n 's/^dkms-boot: //p' "$W/out-sanity.err" |
	sed -n '/Module version .* for dummy\.ko/,/You may override/p' | sed 's|^dkb-dummy/2\.0: ||')
if [[ -z $want ]]; then
	fail sanity-msg-whole "dkms printed no version sanity error"
else
	check_eq sanity-msg-whole "$want" "$got"
fi

finish
