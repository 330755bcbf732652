#!/bin/bash
# Attacks through dkms.conf evaluation, each performed for real:
#  - a package-supplied regular expression that crashes glibc's regexec
#    (BUILD_EXCLUSIVE_KERNEL, MAKE_MATCH): check and status must survive,
#    name the bad package's file and directive, and decide the others;
#  - a dkms.conf that needs bash and tries to write to the root, to the
#    dkms tree, to reach the network and to run as root: it runs in the
#    build sandbox, so all of that fails and nothing reaches the host;
#  - a bash-evaluated dkms.conf that writes to stderr: cached with its
#    diagnostics, so a warm check does not fork and still prints them.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
need_root
need_cmds strace python3 bash

BIN=${DKMS_BOOT_TEST:?}
STATIC=${DKMS_BOOT_STATIC:?}
K=${DKB_KVERS[1]}
A=$DKB_ARCH

dkb_tmpdir_var W

# register ROOT PKG-DIR: what `dkms add` leaves in the tree, made by hand
# (real dkms would itself crash on the hostile patterns).
register() {
	local root=$1 pkg=$2 m v
	m=${pkg%-*}
	v=${pkg##*-}
	dkms_tree_add "$pkg" "$root"
	mkdir -p "$root/var/lib/dkms/$m/$v"
	ln -sfn "/usr/src/$pkg" "$root/var/lib/dkms/$m/$v/source"
}

# ---- 2: patterns that crash glibc's regexec --------------------------------

R=$W/regex
dkms_root_init "$R"
register "$R" dkb-dummy-2.0
register "$R" dkb-regex-kernel-1.0
register "$R" dkb-regex-make-1.0
# status reads the conf of built packages only: make the bad ones look
# built (dkms status stops its listing at the first bad conf, and so
# does ours: the make one is asked about separately below).
mkdir -p "$R/var/lib/dkms/dkb-regex-kernel/1.0/$K/$A/module" \
	"$R/var/lib/dkms/dkb-regex-make/1.0/$K/$A/module"

# The pattern does crash an unbounded regexec here (else the test proves
# nothing): bash's own =~ is glibc's regexec.
set +e
{
	bash -c '[[ 6.1 =~ $1 ]]' bash '(|)(\1\1)*'
	rc=$?
} 2>/dev/null
set -e
((rc >= 128)) || die "the stack bomb no longer crashes bash's =~ (exit $rc)"

for cmd in check status; do
	args=(-k "$K" --root "$R")
	capture "$W/$cmd" "$BIN" "$cmd" "${args[@]}"
	rc=$(cat "$W/$cmd.rc")
	note_file "$cmd" "$W/$cmd"
	note_file "$cmd stderr" "$W/$cmd.err"
	if ((rc >= 128)) || grep -q 'AddressSanitizer\|DEADLYSIGNAL' "$W/$cmd.err"; then
		fail "regex-$cmd-survives" "exit $rc"
		continue
	fi
	pass "regex-$cmd-survives"
	all=$(cat "$W/$cmd" "$W/$cmd.err")
	if grep -q 'dkb-regex-kernel.*/usr/src/dkb-regex-kernel-1.0/dkms.conf.*BUILD_EXCLUSIVE_KERNEL' <<<"$all" ||
		grep -q 'dkb-regex-kernel.*/var/lib/dkms/dkb-regex-kernel/1.0/source/dkms.conf.*BUILD_EXCLUSIVE_KERNEL' <<<"$all"; then
		pass "regex-$cmd-names-kernel-pattern"
	else
		fail "regex-$cmd-names-kernel-pattern" "no line naming the file and BUILD_EXCLUSIVE_KERNEL"
	fi
	if [[ $cmd == status ]]; then
		mv "$R/var/lib/dkms/dkb-regex-kernel/1.0/$K" "$W/k.off"
		capture "$W/status-make" "$BIN" status "${args[@]}"
		mv "$W/k.off" "$R/var/lib/dkms/dkb-regex-kernel/1.0/$K"
		all=$(cat "$W/status-make" "$W/status-make.err")
	fi
	if grep -q 'dkb-regex-make.*dkms.conf.*MAKE_MATCH\[0\]' <<<"$all"; then
		pass "regex-$cmd-names-make-match"
	else
		fail "regex-$cmd-names-make-match" "no line naming the file and MAKE_MATCH[0]"
	fi
done
# The good package is decided as if the bad ones were not there.
if grep -qE "^dkb-dummy/2.0, $K, $A: needs-work: not built" "$W/check"; then
	pass regex-check-good-package-decided
else
	fail regex-check-good-package-decided "dkb-dummy not decided"
fi
if grep -qE "^dkb-dummy/2.0.*added" "$W/status"; then
	pass regex-status-good-package-decided
else
	fail regex-status-good-package-decided "dkb-dummy not listed"
fi
# A warm run takes the same way (the static binary, no sanitizer).
capture "$W/check2" "$STATIC" check -k "$K" --root "$R"
if (($(cat "$W/check2.rc") < 128)) && grep -q 'MAKE_MATCH' "$W/check2" "$W/check2.err"; then
	pass regex-check-static-survives
else
	fail regex-check-static-survives "exit $(cat "$W/check2.rc")"
fi

# ---- 3: bash evaluation runs in the sandbox ---------------------------------

# A root with bash and id in it, so that --root R evaluates in R.
R=$W/evil
dkms_root_init "$R"
for f in /bin/bash /usr/bin/id $(ldd /bin/bash /usr/bin/id | grep -o '/[^ :]*' | sort -u); do
	[[ -f $f ]] || continue
	mkdir -p "$R${f%/*}"
	cp -L "$f" "$R$f"
done
# A listener on the host's loopback that records any connection.
python3 -c '
import socket, sys
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(5)
open(sys.argv[1], "w").write(str(s.getsockname()[1]))
s.settimeout(60)
try:
    c, _ = s.accept()
    open(sys.argv[2], "w").write("connected\n")
except OSError:
    pass
' "$W/port" "$W/connected" &
listener=$!
for _ in $(seq 100); do [[ -s $W/port ]] && break; sleep 0.1; done
[[ -s $W/port ]] || die "the listener did not start"
PORT=$(cat "$W/port")
mkdir -p "$R/usr/src/dkb-evil-1.0"
cat >"$R/usr/src/dkb-evil-1.0/dkms.conf" <<CONF
PACKAGE_NAME="dkb-evil"
PACKAGE_VERSION="1.0"
BUILT_MODULE_NAME[0]="evil"
DEST_MODULE_LOCATION[0]="/updates"
AUTOINSTALL="yes"
# Anything beyond plain assignments sends this conf to bash.
if echo pwned >/etc/dkb-evil 2>/dev/null; then E=written; else E=denied; fi
if echo pwned >/var/lib/dkms/dkb-evil-file 2>/dev/null; then T=written; else T=denied; fi
if echo hello 2>/dev/null >/dev/tcp/127.0.0.1/$PORT; then N=connected; else N=refused; fi
POST_ADD="etc=\$E tree=\$T net=\$N uid=\$(id -u)"
CONF
mkdir -p "$R/var/lib/dkms/dkb-evil/1.0"
ln -sfn /usr/src/dkb-evil-1.0 "$R/var/lib/dkms/dkb-evil/1.0/source"

capture "$W/evil-eval" "$BIN" eval -m dkb-evil -v 1.0 -k "$K" --root "$R" --method bash --no-cache
note_file "eval" "$W/evil-eval"
note_file "eval stderr" "$W/evil-eval.err"
seen=$(grep -o 'etc=[a-z]* tree=[a-z]* net=[a-z]* uid=[0-9]*' "$W/evil-eval" | head -1 || true)
check_eq bash-eval-sandboxed "etc=denied tree=denied net=refused uid=65534" "$seen"
# And check, the boot path, with the same conf.
capture "$W/evil-check" "$BIN" check -k "$K" --root "$R" --no-cache
note_file "check" "$W/evil-check"
kill "$listener" 2>/dev/null || true
wait "$listener" 2>/dev/null || true
reached=()
[[ -e $R/etc/dkb-evil ]] && reached+=("$R/etc/dkb-evil")
[[ -e /etc/dkb-evil ]] && reached+=(/etc/dkb-evil)
[[ -e $R/var/lib/dkms/dkb-evil-file ]] && reached+=("$R/var/lib/dkms/dkb-evil-file")
[[ -e $W/connected ]] && reached+=("a TCP connection to 127.0.0.1:$PORT")
check_eq bash-eval-nothing-reached-host "" "${reached[*]}"
if grep -q "^dkb-evil/1.0, $K, $A: needs-work: not built" "$W/evil-check"; then
	pass bash-eval-check-decides
else
	fail bash-eval-check-decides "dkb-evil not decided"
fi

# ---- 16: a conf that warns is cached with its warning ------------------------

rm -rf "$R/var/lib/dkms/dkb-evil"
mkdir -p "$R/usr/src/dkb-noisy-1.0" "$R/var/lib/dkms/dkb-noisy/1.0"
cat >"$R/usr/src/dkb-noisy-1.0/dkms.conf" <<'CONF'
PACKAGE_NAME="dkb-noisy"
PACKAGE_VERSION="1.0"
BUILT_MODULE_NAME[0]="noisy"
DEST_MODULE_LOCATION[0]="/updates"
AUTOINSTALL="yes"
echo "dkb-noisy: this conf warns whenever it is read" >&2
CONF
ln -sfn /usr/src/dkb-noisy-1.0 "$R/var/lib/dkms/dkb-noisy/1.0/source"
"$STATIC" check -k "$K" --root "$R" >"$W/noisy1" 2>"$W/noisy1.err" || true
note_file "cold check stderr" "$W/noisy1.err"
strace -f -qq -e trace=execve,clone,clone3,fork,vfork -o "$W/noisy-trace" \
	"$STATIC" check -k "$K" --root "$R" >"$W/noisy2" 2>"$W/noisy2.err" || true
note_file "warm check stderr" "$W/noisy2.err"
note_file strace "$W/noisy-trace"
forks=$(grep -cE '^[0-9]+ +(clone|clone3|fork|vfork)\(' "$W/noisy-trace" || true)
check_eq diag-conf-warm-check-no-fork 0 "$forks"
if grep -q 'dkb-noisy: this conf warns whenever it is read' "$W/noisy1.err" &&
	grep -q 'dkb-noisy: this conf warns whenever it is read' "$W/noisy2.err"; then
	pass diag-conf-warning-shown-from-cache
else
	fail diag-conf-warning-shown-from-cache "the warning is missing from a run"
fi
if grep -q "^dkb-noisy/1.0, $K, $A: needs-work: not built" "$W/noisy2"; then
	pass diag-conf-decided-from-cache
else
	fail diag-conf-decided-from-cache "dkb-noisy not decided"
fi

finish
