#!/bin/bash
# Install every build and test dependency of dkms-boot from Debian packages.
# Idempotent: packages already present are not touched, so a second run
# costs one dpkg query.  Usage: scripts/install-deps.sh [build|test|all]
set -euo pipefail

what=${1:-all}

# Kernels the tests build against.  Two ABIs so that upgrade scenarios
# (and later kABI checks) have a real "old" and "new" kernel.
KVERS=${DKMS_BOOT_TEST_KVERS:-"6.1.0-55-amd64 6.1.0-56-amd64"}

build_pkgs=(build-essential pkg-config autoconf automake libtool
	libblkid-dev libzstd-dev zlib1g-dev libmd-dev liblzma-dev
	dpkg-dev ca-certificates)
test_pkgs=(libcmocka-dev clang clang-format llvm kmod dkms zstd
	libkmod-dev bc e2fsprogs xfsprogs btrfs-progs fdisk)
for k in $KVERS; do
	test_pkgs+=("linux-headers-$k")
done

case $what in
build) pkgs=("${build_pkgs[@]}") ;;
test | all) pkgs=("${build_pkgs[@]}" "${test_pkgs[@]}") ;;
*)
	echo "usage: $0 [build|test|all]" >&2
	exit 2
	;;
esac

missing=()
for p in "${pkgs[@]}"; do
	if ! dpkg-query -W -f='${db:Status-Status}\n' "$p" 2>/dev/null | grep -qx installed; then
		missing+=("$p")
	fi
done

if ((${#missing[@]})); then
	echo "install-deps: installing ${missing[*]}" >&2
	export DEBIAN_FRONTEND=noninteractive
	# One update per run at most, and only when something is missing.
	apt-get update -q >/dev/null
	apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
fi

# Source packages (for the static libkmod) need a deb-src entry.
src_list=/etc/apt/sources.list.d/dkms-boot-src.sources
if [[ ! -e $src_list ]]; then
	cat >"$src_list" <<'SRC'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
	apt-get update -q >/dev/null
fi
