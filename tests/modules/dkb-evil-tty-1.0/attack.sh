#!/bin/bash
# MAKE: the attack (the test wrote the path to create into inject-path),
# then the real build.
cc -o evil evil.c || exit 1
./evil "$(cat inject-path 2>/dev/null || echo /tmp/dkb-evil-tty-injected)"
exec make -C "/lib/modules/$1/build" M="$PWD" modules
