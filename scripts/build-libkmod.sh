#!/bin/bash
# Build a static libkmod from Debian's kmod source package into build/kmod.
# Debian ships only the shared libkmod; the boot agent must be static.
# Runs once: a second call returns at once when the archives exist.
set -euo pipefail

out=${1:-build/kmod}
mkdir -p "$out"
out=$(cd "$out" && pwd)

if [[ -f $out/lib/libkmod.a && -f $out/include/libkmod.h ]]; then
	exit 0
fi

work=$out/src
rm -rf "$work"
mkdir -p "$work"
cd "$work"
apt-get source --download-only -q kmod >/dev/null 2>&1 || {
	echo "build-libkmod: apt-get source kmod failed (is the deb-src entry there? run scripts/install-deps.sh)" >&2
	exit 1
}
dpkg-source -x kmod_*.dsc kmod >/dev/null 2>&1
cd kmod
# gtk-doc is not needed; autoreconf insists on its include file.
mkdir -p libkmod/docs
[[ -e libkmod/docs/gtk-doc.make ]] || : >libkmod/docs/gtk-doc.make
autoreconf -fi >/dev/null 2>&1
./configure -q --disable-manpages --disable-test-modules \
	--with-zstd --with-zlib --with-xz --without-openssl \
	CFLAGS="-Os -ffunction-sections -fdata-sections -fPIC" >/dev/null
make -s -j"$(nproc)" libkmod/libkmod-internal.la shared/libshared.la >/dev/null 2>&1

mkdir -p "$out/lib" "$out/include"
# One archive so that link order does not matter.
ar -M <<MRI
create $out/lib/libkmod.a
addlib libkmod/.libs/libkmod-internal.a
addlib shared/.libs/libshared.a
save
end
MRI
cp libkmod/libkmod.h "$out/include/"
echo "build-libkmod: $out/lib/libkmod.a" >&2
