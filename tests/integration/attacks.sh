#!/bin/bash
# A hostile DKMS package against the build sandbox: each attack is one of
# our own packages (tests/modules/dkb-evil-*, dkb-srcwrite) whose MAKE
# performs it for real, run through the real `dkms-boot build|install` in
# a sandbox root (see build-failures.sh), and each case fails when the
# attack succeeds:
#   tty       TIOCSTI into the caller's terminal (the build runs on a pty)
#   keyring   read a key from the caller's session keyring
#   ipc       SysV shared memory left behind after the build
#   forkbomb  fork until the time limit instead of failing fast
#   fill      fill /tmp (and the overlay's upper layer) without a limit
#   sock      reach a host daemon through a Unix socket under /run
#   ns        new namespaces and module/key/BPF/mount syscalls
#   srcwrite  write into the package's own /usr/src tree (west-chamber):
#             must build, and leave the host's /usr/src, /etc, /usr as is
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

need_root
need_cmds dkms python3 cc ipcs pgrep timeout unshare
PY=/usr/bin/python3
[[ -x $PY ]] || die "needs $PY (the sandbox user cannot reach a python under /root)"

BIN=${DKMS_BOOT_TEST:-$DKB_REPO/build/test/dkms-boot}
[[ -x $BIN ]] || die "no $BIN (make build/test/dkms-boot)"
K=${DKB_KVERS[1]}
ARCH=$DKB_ARCH

dkb_tmpdir_var W
# The sandbox user walks the sandbox roots.
chmod 755 "$W"
script_start=$SECONDS

# The packages' helpers are all called "evil" and run as the sandbox user.
evil_left() {
	pgrep -u 65534 -x evil || true
}
# What a case may leave on the host when the sandbox fails: ended or
# removed by exact name on every exit.
listener=''
SOCK=/run/dkb-attack-$$.sock
INJECTED=$W/injected
HOST_FILES=(/etc/dkb-srcwrite-test /usr/dkb-srcwrite-test "$INJECTED")
end_leftovers() {
	[[ -n $listener ]] && kill "$listener" 2>/dev/null
	rm -f "$SOCK" "${HOST_FILES[@]}"
	local pid
	for pid in $(evil_left); do
		kill -KILL "$pid" 2>/dev/null || true
	done
	return 0
}
trap 'end_leftovers; _dkb_cleanup' EXIT

# root_with NAME PKG...: a fresh sandbox root $W/NAME with the packages
# (directories under tests/modules) added by real dkms.
root_with() {
	local r=$W/$1 p
	shift
	dkms_root_init "$r"
	for p in "$@"; do
		dkms_tree_add "$p" "$r"
		dkms_in "$r" -- add -m "${p%-*}" -v "${p##*-}" >/dev/null ||
			die "dkms add $p failed"
	done
}

# ours OUT ROOT ARGS...: dkms-boot in ROOT's sandbox; stdout to OUT,
# stderr to OUT.err, exit status to OUT.rc, milliseconds to OUT.ms.
ours() {
	local out=$1 root=$2 t0
	shift 2
	t0=$(date +%s%N)
	capture "$out" dkms_sandbox "$root" timeout 300 "$BIN" "$@"
	echo $((($(date +%s%N) - t0) / 1000000)) >"$out.ms"
	note "dkms-boot $* -> exit $(cat "$out.rc") in $(cat "$out.ms") ms"
	note_file stderr "$out.err"
}

# log_of ROOT PKG: the make.log of PKG-1.0 (built or failed).
log_of() {
	local l=$1/var/lib/dkms/$2/1.0/$K/$ARCH/log/make.log
	[[ -f $l ]] || l=$1/var/lib/dkms/$2/1.0/build/make.log
	echo "$l"
}

# lines ROOT PKG PREFIX: the lines of its make.log starting with PREFIX.
lines() {
	grep "^$3" "$(log_of "$1" "$2")" 2>/dev/null || echo "no '$3' lines in $(log_of "$1" "$2")"
}

# ---- 1: TIOCSTI into the caller's terminal ---------------------------------

# The build runs on a pseudo-terminal (its controlling terminal, and
# stdin/stdout/stderr), as from an interactive shell; afterwards the shell
# reads a line from the terminal and runs it, as an interactive shell
# would.  The package pushes "touch $INJECTED" with TIOCSTI.
root_with tty dkb-evil-tty-1.0
echo "$INJECTED" >"$W/tty/usr/src/dkb-evil-tty-1.0/inject-path"
cat >"$W/tty-run.sh" <<EOF
. "$DKB_REPO/tests/integration/lib.sh"
dkms_sandbox "$W/tty" timeout 300 "$BIN" build -m dkb-evil-tty -v 1.0 -k "$K" >"$W/tty.out" 2>&1
echo \$? >"$W/tty.rc"
if read -r -t 3 line; then echo "typed: \$line"; eval "\$line"; fi
exit 0
EOF
cat >"$W/runpty.py" <<'EOF'
import os, pty, sys
pid, fd = pty.fork()
if pid == 0:
    os.execvp(sys.argv[1], sys.argv[1:])
while True:
    try:
        data = os.read(fd, 4096)
    except OSError:
        break
    if not data:
        break
    sys.stdout.buffer.write(data)
os.waitpid(pid, 0)
EOF
timeout 300 $PY "$W/runpty.py" bash "$W/tty-run.sh" >"$W/tty.pty" 2>&1 || true
note_file "terminal" "$W/tty.pty"
check_eq tty-build-ok 0 "$(cat "$W/tty.rc" 2>/dev/null || echo none)"
if [[ -e $INJECTED ]]; then
	fail tty-nothing-injected "the build typed 'touch $INJECTED' into the terminal"
else
	pass tty-nothing-injected
fi
t=$(lines "$W/tty" dkb-evil-tty 'tty ')
note "$t"
if grep -q '^tty open /dev/tty: ' <<<"$t"; then
	pass tty-dev-tty-not-opened
else
	fail tty-dev-tty-not-opened "$t"
fi
check_eq tty-no-injection-logged "" "$(grep 'injected' <<<"$t" || true)"

# ---- 6: the caller's session keyring -----------------------------------------

# The build runs in a fresh session keyring holding a user key; the
# package searches its session keyring and reads the key.
SECRET=dkb-secret-$RANDOM$RANDOM
cat >"$W/withkey.py" <<'EOF'
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
SESSION = ctypes.c_long(-3)
if libc.syscall(ctypes.c_long(250), ctypes.c_long(1), None) < 0:  # keyctl JOIN
    sys.exit("join session keyring: " + os.strerror(ctypes.get_errno()))
secret = sys.argv[1].encode()
kid = libc.syscall(ctypes.c_long(248), b"user", b"dkb_attack_secret", secret,
                   ctypes.c_long(len(secret)), SESSION)  # add_key
if kid < 0:
    sys.exit("add_key: " + os.strerror(ctypes.get_errno()))
# The control: we, its possessor, can read it back.
buf = ctypes.create_string_buffer(256)
n = libc.syscall(ctypes.c_long(250), ctypes.c_long(11), ctypes.c_long(kid), buf,
                 ctypes.c_long(256))  # keyctl READ
if n != len(secret) or buf.raw[:n] != secret:
    sys.exit("cannot read my own key back")
os.execvp(sys.argv[2], sys.argv[2:])
EOF
root_with keyring dkb-evil-keyring-1.0
capture "$W/keyring.out" $PY "$W/withkey.py" "$SECRET" bash -c \
	". '$DKB_REPO/tests/integration/lib.sh'; dkms_sandbox '$W/keyring' timeout 300 '$BIN' build -m dkb-evil-keyring -v 1.0 -k '$K'"
note_file stderr "$W/keyring.out.err"
if grep -q 'session keyring\|add_key\|cannot read' "$W/keyring.out.err"; then
	die "cannot set up the keyring: $(cat "$W/keyring.out.err") (install keyutils or fix python3 ctypes)"
fi
check_eq keyring-build-ok 0 "$(cat "$W/keyring.out.rc")"
t=$(lines "$W/keyring" dkb-evil-keyring 'keyring ')
note "$t"
if grep -q "$SECRET" "$(log_of "$W/keyring" dkb-evil-keyring)" 2>/dev/null; then
	fail keyring-secret-not-read "the build read the caller's key: $t"
elif grep -q '^keyring ' <<<"$t"; then
	pass keyring-secret-not-read
else
	fail keyring-secret-not-read "the package did not run: $t"
fi

# ---- 7: SysV IPC, a fork bomb, a full /tmp ----------------------------------------

nobody_shm() {
	ipcs -m | awk '$3 == "nobody" || $3 == 65534 { print $2 }' | sort
}
root_with ipc dkb-evil-ipc-1.0
before=$(nobody_shm)
ours "$W/ipc.out" "$W/ipc" build -m dkb-evil-ipc -v 1.0 -k "$K"
check_eq ipc-build-ok 0 "$(cat "$W/ipc.out.rc")"
after=$(nobody_shm)
t=$(lines "$W/ipc" dkb-evil-ipc 'ipc ')
note "$t"
if [[ $(grep -c '^ipc segment' <<<"$t") != 3 ]]; then
	fail ipc-no-segment-left "the package made no segments: $t"
else
	check_eq ipc-no-segment-left "$before" "$after"
fi
for id in $(comm -13 <(echo "$before") <(echo "$after")); do
	ipcrm -m "$id" 2>/dev/null || true
done

root_with bomb dkb-evil-forkbomb-1.0
ours "$W/bomb.out" "$W/bomb" build -m dkb-evil-forkbomb -v 1.0 -k "$K" --timeout 120
check_eq forkbomb-build-fails 4 "$(cat "$W/bomb.out.rc")"
ms=$(cat "$W/bomb.out.ms")
if ((ms < 60000)); then pass forkbomb-fails-fast; else fail forkbomb-fails-fast "took $ms ms (time limit 120 s)"; fi
t=$(lines "$W/bomb" dkb-evil-forkbomb 'bomb: ')
note "$t"
if [[ $t =~ ^bomb:\ fork\ failed\ after\ ([0-9]+):\ Resource\ temporarily\ unavailable$ ]] &&
	((BASH_REMATCH[1] <= 1024)); then
	pass forkbomb-hits-nproc
else
	fail forkbomb-hits-nproc "$t"
fi
sleep 0.5
check_eq forkbomb-nothing-left "" "$(evil_left)"
check_eq forkbomb-host-forks ok "$(bash -c 'echo ok')"

root_with fill dkb-evil-fill-1.0
ours "$W/fill.out" "$W/fill" build -m dkb-evil-fill -v 1.0 -k "$K"
check_eq fill-build-ok 0 "$(cat "$W/fill.out.rc")"
t=$(lines "$W/fill" dkb-evil-fill 'fill /tmp')
note "$t"
mib=$(sed -n 's|^fill /tmp: \([0-9]*\) MiB$|\1|p' <<<"$t")
if grep -q '^fill /tmp: No space left on device$' <<<"$t" &&
	[[ -n $mib ]] && ((mib <= 512)); then
	pass fill-tmp-size-limit
else
	fail fill-tmp-size-limit "want 'No space left' at 512 MiB at most:" "$t"
fi
t=$(lines "$W/fill" dkb-evil-fill 'fill /var/tmp')
note "$t"
mib=$(sed -n 's|^fill /var/tmp: \([0-9]*\) MiB$|\1|p' <<<"$t")
if [[ -n $mib ]] && ((mib <= 512)); then
	pass fill-overlay-size-limit
else
	fail fill-overlay-size-limit "$t"
fi

# ---- 8: Unix sockets under /run ----------------------------------------------------

# A listener anyone may connect to, under the host's /run; the package
# tries it, /dev/log and the D-Bus system bus.
cat >"$W/listen.py" <<'EOF'
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(sys.argv[1])
os.chmod(sys.argv[1], 0o777)
s.listen(8)
s.settimeout(300)
open(sys.argv[2] + ".tmp", "w").close()
os.rename(sys.argv[2] + ".tmp", sys.argv[2])
n = 0
while True:
    try:
        c, _ = s.accept()
    except OSError:
        break
    n += 1
    with open(sys.argv[3], "w") as f:
        f.write(str(n))
    c.close()
EOF
echo 0 >"$W/sock-conns"
rm -f "$SOCK"
$PY "$W/listen.py" "$SOCK" "$W/sock-ready" "$W/sock-conns" &
listener=$!
for _ in $(seq 50); do
	[[ -e $W/sock-ready ]] && break
	sleep 0.1
done
[[ -e $W/sock-ready ]] || die "the Unix socket listener did not start"
# The control: from the host, as the sandbox user, it answers.
setpriv --reuid 65534 --regid 65534 --clear-groups $PY -c \
	"import socket; socket.socket(socket.AF_UNIX).connect('$SOCK')" ||
	die "the sandbox user cannot reach my listener even outside the sandbox"
sleep 0.2
check_eq sock-control-connected 1 "$(cat "$W/sock-conns")"
root_with sock dkb-evil-sock-1.0
echo "$SOCK" >"$W/sock/usr/src/dkb-evil-sock-1.0/sock-path"
ours "$W/sock.out" "$W/sock" build -m dkb-evil-sock -v 1.0 -k "$K"
check_eq sock-build-ok 0 "$(cat "$W/sock.out.rc")"
t=$(lines "$W/sock" dkb-evil-sock 'sock ')
note "$t"
sleep 0.2
check_eq sock-listener-untouched 1 "$(cat "$W/sock-conns")"
check_eq sock-run-hidden "sock $SOCK: No such file or directory" "$(grep "^sock $SOCK:" <<<"$t" || true)"
if [[ -S /dev/log ]]; then
	check_eq sock-dev-log-hidden "sock /dev/log: No such file or directory" \
		"$(grep '^sock /dev/log:' <<<"$t" || true)"
else
	note "no /dev/log on this host; the package's attempt: $(grep '^sock /dev/log:' <<<"$t")"
fi
check_eq sock-nothing-connected "" "$(grep 'connected' <<<"$t" || true)"
kill "$listener" 2>/dev/null || true
wait "$listener" 2>/dev/null || true
listener=''
rm -f "$SOCK"

# ---- 9: namespaces and kernel attack surface ------------------------------------------

root_with ns dkb-evil-ns-1.0
ours "$W/ns.out" "$W/ns" build -m dkb-evil-ns -v 1.0 -k "$K"
check_eq ns-build-ok 0 "$(cat "$W/ns.out.rc")"
check_eq ns-all-denied "ns unshare -U true: unshare: unshare failed: Operation not permitted
ns unshare -n true: unshare: unshare failed: Operation not permitted
sys init_module: Operation not permitted
sys keyctl: Operation not permitted
sys bpf: Operation not permitted
sys mount: Operation not permitted" "$(lines "$W/ns" dkb-evil-ns '\(ns\|sys\) ')"

# ---- 15: a package that writes into its own source tree -----------------------------

root_with srcwrite dkb-srcwrite-1.0
for f in /etc/dkb-srcwrite-test /usr/dkb-srcwrite-test; do
	[[ ! -e $f ]] || die "$f exists before the test: remove it"
done
ours "$W/srcwrite.out" "$W/srcwrite" install -m dkb-srcwrite -v 1.0 -k "$K"
check_eq srcwrite-installs 0 "$(cat "$W/srcwrite.out.rc")"
t=$(lines "$W/srcwrite" dkb-srcwrite 'srcwrite ')
note "$t"
check_eq srcwrite-src-writable "srcwrite src: ok" "$(grep '^srcwrite src:' <<<"$t" || true)"
check_eq srcwrite-host-src-unchanged "" "$(ls -d "$W/srcwrite/usr/src/dkb-srcwrite-1.0/gen" \
	"$W/srcwrite/usr/src/dkb-srcwrite-1.0/link" 2>/dev/null || true)"
check_eq srcwrite-host-etc-usr-unchanged "" "$(ls -d /etc/dkb-srcwrite-test /usr/dkb-srcwrite-test 2>/dev/null || true)"
check_eq srcwrite-dkms-status "dkb-srcwrite/1.0, $K, $ARCH: installed" \
	"$(dkms_sandbox "$W/srcwrite" dkms status 2>/dev/null)"

note "attacks took $((SECONDS - script_start)) s"
finish
