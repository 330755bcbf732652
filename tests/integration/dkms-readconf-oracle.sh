#!/bin/bash
# An oracle for `dkms-boot eval`: dkms 3.0.10's own read_conf(), run on
# one dkms.conf, printing the resolved values in eval's format (see
# agent/eval.c): package_name= package_version= make_command= clean=
# module[i].{built_name,built_location,dest_name,dest_location,strip}=
# patch[i]= build_depends= autoinstall= build_exclude= error[i]=.
#
#	dkms-readconf-oracle.sh -m NAME -v VER -k KVER [-a ARCH] FILE
#
# dkms's functions are loaded from /usr/sbin/dkms itself (DKMS_BIN to
# override) without running its command line: the text above the
# "Program Starts Here" banner is the functions, the text from the banner
# to "# Parse command line arguments" sets the globals (dkms_tree,
# running_distribution from os-release, framework.conf, ...).  Both are cut
# out at run time, so the oracle follows the installed dkms, not a copy.
# Then the globals the command line would set (module, module_version,
# kernelver, arch) are set and read_conf KVER ARCH FILE is called from /,
# which is where dkms-boot's bash evaluator sources files too.
#
# Without arguments (tests/run.sh runs every tests/integration/*.sh), it
# checks itself on a small conf and prints one "ok"/"not ok" line.
#
# Exit status: read_conf's (0, or 1 for a bad conf file), 2 on usage
# errors, 4 when the dkms script cannot be cut as expected.

# The globals read and set here (module, package_name, built_module_name
# ...) are dkms's own, defined by the text sourced at run time.
# shellcheck disable=SC2034,SC2154

DKMS_BIN=${DKMS_BIN:-/usr/sbin/dkms}

_o_usage() {
	echo "usage: $0 -m NAME -v VER -k KVER [-a ARCH] FILE" >&2
	exit 2
}

# eval's put_escaped(): backslash, newline and tab.
_o_esc() {
	local v=$1
	v=${v//\\/\\\\}
	v=${v//$'\n'/\\n}
	v=${v//$'\t'/\\t}
	printf '%s' "$v"
}

_o_kv() {
	printf '%s=%s\n' "$1" "$(_o_esc "$2")"
}

_o_selftest() {
	local d out rc=0 expected
	d=$(mktemp -d) || exit 1
	# shellcheck disable=SC2016
	printf '%s\n' 'PACKAGE_NAME=selftest' 'PACKAGE_VERSION="1.0"' \
		'BUILT_MODULE_NAME[0]=a; DEST_MODULE_LOCATION[0]=/extra' \
		'BUILT_MODULE_NAME[1]=b; BUILT_MODULE_LOCATION[1]=sub' \
		'DEST_MODULE_LOCATION[1]=/kernel/x; STRIP[0]=n' \
		'MAKE[0]="make -C $kernel_source_dir M=$PWD"' \
		'PATCH[0]=p.diff; PATCH_MATCH[0]="^${kernelver%%-*}$"' \
		'BUILD_DEPENDS="x y"; AUTOINSTALL=no' >"$d/dkms.conf"
	out=$(bash "$0" -m selftest -v 1.0 -k 6.1.0-0-test -a x86_64 "$d/dkms.conf" 2>&1) || rc=$?
	rm -rf "$d"
	# AUTOINSTALL=no is "yes" in 3.0.10; PATCH_MATCH does not match; the
	# location override is Debian's.
	expected="package_name=selftest
package_version=1.0
make_command=make -C /lib/modules/6.1.0-0-test/build M=/
clean=make -C /lib/modules/6.1.0-0-test/build M=/var/lib/dkms/selftest/1.0/build clean
module[0].built_name=a
module[0].built_location=
module[0].dest_name=a
module[0].dest_location=/updates/dkms
module[0].strip=no
module[1].built_name=b
module[1].built_location=sub/
module[1].dest_name=b
module[1].dest_location=/updates/dkms
module[1].strip=no
build_depends=x y
autoinstall=yes
build_exclude=no"
	if ((rc == 0)) && [[ $out == "$expected" ]]; then
		echo "ok dkms-readconf-oracle-selftest"
		exit 0
	fi
	echo "not ok dkms-readconf-oracle-selftest"
	echo "# exit $rc, output:"
	printf '%s\n' "$out" | sed 's/^/#   /'
	diff <(printf '%s\n' "$expected") <(printf '%s\n' "$out") | sed 's/^/#   /'
	exit 1
}

(($# == 0)) && _o_selftest

_o_m='' _o_v='' _o_k='' _o_a=$(uname -m)
while (($# > 1)); do
	case $1 in
	-m) _o_m=$2 ;;
	-v) _o_v=$2 ;;
	-k) _o_k=$2 ;;
	-a) _o_a=$2 ;;
	*) _o_usage ;;
	esac
	shift 2
done
if (($# != 1)) || [[ -z $_o_m || -z $_o_v || -z $_o_k ]]; then
	_o_usage
fi
_o_file=$1
[[ $_o_file == /* ]] || _o_file=$PWD/$_o_file

_o_functions=$(mktemp) && _o_globals=$(mktemp) && _o_err=$(mktemp) || exit 4
trap 'rm -f "$_o_functions" "$_o_globals" "$_o_err"' EXIT
sed '/^#### Program Starts Here ####/,$d' "$DKMS_BIN" >"$_o_functions"
sed -n '/^#### Program Starts Here ####/,/^# Parse command line arguments/p' \
	"$DKMS_BIN" >"$_o_globals"
if ! grep -q '^read_conf()' "$_o_functions" ||
	! grep -q '^dkms_tree="/var/lib/dkms"' "$_o_globals"; then
	echo "$0: $DKMS_BIN does not look like dkms 3.0.x (no read_conf or banner)" >&2
	exit 4
fi

# dkms runs as a script, not as a function: source both parts at the top
# level so that `declare` and `readonly` there make globals, as in dkms.
# shellcheck disable=SC1090
. "$_o_functions"
# shellcheck disable=SC1090
. "$_o_globals"

# What dkms's option parsing would set for `-m NAME -v VER -k KVER -a ARCH`.
module=$_o_m
module_version=$_o_v
kernelver=("$_o_k")
arch=("$_o_a")

cd / || exit 4
_o_rc=0
read_conf "$_o_k" "$_o_a" "$_o_file" 2>"$_o_err" || _o_rc=$?

_o_kv package_name "$package_name"
_o_kv package_version "$package_version"
_o_kv make_command "$make_command"
_o_kv clean "$clean"
# dkms's build and install loops run over ${#built_module_name[@]}.
for ((_o_i = 0; _o_i < ${#built_module_name[@]}; _o_i++)); do
	_o_kv "module[$_o_i].built_name" "${built_module_name[$_o_i]}"
	_o_kv "module[$_o_i].built_location" "${built_module_location[$_o_i]}"
	_o_kv "module[$_o_i].dest_name" "${dest_module_name[$_o_i]}"
	_o_kv "module[$_o_i].dest_location" "${dest_module_location[$_o_i]}"
	# actual_build: [[ ${strip[$count]} != no ]] && strip -g
	if [[ ${strip[$_o_i]} != no ]]; then
		_o_kv "module[$_o_i].strip" yes
	else
		_o_kv "module[$_o_i].strip" no
	fi
done
_o_i=0
for _o_p in "${patch_array[@]}"; do
	_o_kv "patch[$_o_i]" "$_o_p"
	_o_i=$((_o_i + 1))
done
# autoinstall(): build_depends[$m]="${BUILD_DEPENDS[@]}", then
# `for d in ${build_depends[$m]}`.
set -f
# shellcheck disable=SC2206
_o_words=(${BUILD_DEPENDS[*]})
set +f
printf 'build_depends=%s\n' "${_o_words[*]}"
if [[ $AUTOINSTALL ]]; then _o_kv autoinstall yes; else _o_kv autoinstall no; fi
if [[ $build_exclude ]]; then _o_kv build_exclude yes; else _o_kv build_exclude no; fi
# read_conf's own messages, told apart from what the conf printed.
_o_i=0
while IFS= read -r _o_line; do
	_o_kv "error[$_o_i]" "$_o_line"
	_o_i=$((_o_i + 1))
done < <(grep -E "^(dkms\.conf: Error! |'/kernel', '/updates', or '/extra' in record #)" "$_o_err")
# Everything else it said (the conf's own output, bash errors) for the log.
grep -vE "^(dkms\.conf: Error! |'/kernel', '/updates', or '/extra' in record #)" "$_o_err" |
	sed 's/^/oracle stderr: /' >&2
exit "$_o_rc"
