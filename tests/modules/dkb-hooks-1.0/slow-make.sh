#!/bin/bash
# MAKE of dkb-hooks: a pause, then the Kbuild make for kernel $1.
echo "slow-make: sleeping $(cat make.sleep) s"
sleep "$(cat make.sleep)"
exec make -C "/lib/modules/$1/build" M="$PWD" modules
