#!/bin/bash
# MAKE: fill /tmp and /var/tmp (in the root) with 1 GiB each, log where
# that stopped and why, free it again, then the real build.
for d in /tmp /var/tmp; do
	if dd if=/dev/zero of=$d/dkb-evil-fill bs=1M count=1024 2>err; then
		echo "fill $d: complete"
	else
		echo "fill $d: $(grep -o 'No space left on device\|Read-only file system\|Permission denied' err | head -1)"
	fi
	echo "fill $d: $(du -m $d/dkb-evil-fill 2>/dev/null | cut -f1) MiB"
	rm -f $d/dkb-evil-fill
done
exec make -C "/lib/modules/$1/build" M="$PWD" modules
