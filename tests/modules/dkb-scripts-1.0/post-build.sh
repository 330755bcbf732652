#!/bin/sh
# POST_BUILD: dkms runs this in the build directory once the module is in
# the tree's module/ directory; $1 $2 are the kernel release and arch.
# dkms ignores the exit status, so a failure here can only show in a
# stricter implementation; the message says what was out of order.
tree=/var/lib/dkms/dkb-scripts/1.0/$1/$2/module
if [ ! -f dkb_scripts.ko ]; then
	echo "post-build.sh: no dkb_scripts.ko in $PWD" >&2
	exit 1
fi
if ! ls "$tree"/dkb_scripts.ko* >/dev/null 2>&1; then
	echo "post-build.sh: $tree has no dkb_scripts.ko yet" >&2
	exit 1
fi
echo "post-build.sh: ok"
