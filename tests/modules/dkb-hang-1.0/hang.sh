#!/bin/bash
# MAKE for dkb-hang: never finishes.  One sleeper in the background of
# this process group, one in a session of its own (what a daemonizing
# build helper, a compiler server say, does), and this one in front.
sleep 300.4711 &
setsid sleep 300.4712 &
echo "hang.sh: sleeping"
exec sleep 300.4713
