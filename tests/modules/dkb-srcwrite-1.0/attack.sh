#!/bin/bash
# MAKE, as west-chamber-dkms does: work in the package's own source tree
# under /usr/src (make a directory and a link there); also try /etc and
# /usr.  Only the source tree must work; then the real build.
src=/usr/src/dkb-srcwrite-1.0
if mkdir -p $src/gen && echo x >$src/gen/file && ln -sfn gen $src/link; then
	echo "srcwrite src: ok"
else
	echo "srcwrite src: failed"
	exit 1
fi
for f in /etc/dkb-srcwrite-test /usr/dkb-srcwrite-test; do
	if echo x >$f 2>/dev/null; then
		echo "srcwrite $f: written"
	else
		echo "srcwrite $f: denied"
	fi
done
exec make -C "/lib/modules/$1/build" M="$PWD" modules
