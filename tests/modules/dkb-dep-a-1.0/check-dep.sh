#!/bin/sh
# PRE_BUILD: is the dependency installed for kernel $1 yet?  The answer
# goes to make.log (dkms-boot) or the terminal (dkms).
if ls /lib/modules/"$1"/updates/dkms/dkb_dep_b.ko* >/dev/null 2>&1; then
	echo "dep-check: dkb_dep_b installed"
else
	echo "dep-check: dkb_dep_b NOT installed"
fi
