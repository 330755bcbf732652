#!/bin/sh
# PRE_BUILD: write dkb_generated.h, which dkb_scripts.c includes.  dkms
# runs this in the build directory with the kernel release as $1.
set -e
if [ ! -f dkb_scripts.c ]; then
	echo "gen-header.sh: not run in the build directory ($PWD)" >&2
	exit 1
fi
printf '#define DKB_GENERATED_FOR "%s"\n' "$1" >dkb_generated.h
echo "gen-header.sh: wrote dkb_generated.h for $1"
