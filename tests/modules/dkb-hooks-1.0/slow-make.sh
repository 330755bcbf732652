#!/bin/bash
# MAKE of dkb-hooks: a pause, then the Kbuild make for kernel $1, or, when
# the file "compile" says no, a placeholder module (a time-limit test
# must not depend on how fast this machine compiles).
echo "slow-make: sleeping $(cat make.sleep) s"
sleep "$(cat make.sleep)"
if [[ $(cat compile) == no ]]; then
	echo "placeholder, not compiled" >dkb_hooks.ko
	exit 0
fi
exec make -C "/lib/modules/$1/build" M="$PWD" modules
