#!/bin/bash
# MAKE: the probes again (MAKE is a separate step), then the real build.
./probe.sh make
exec make -C "/lib/modules/$1/build" M="$PWD" modules
