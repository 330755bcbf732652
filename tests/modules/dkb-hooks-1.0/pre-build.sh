#!/bin/bash
# PRE_BUILD of dkb-hooks: run in the build directory.
echo "pre-build: sleeping $(cat pre.sleep) s"
exec sleep "$(cat pre.sleep)"
