#!/bin/bash
# Print "$1 <ns since the epoch> <make jobs>"; the jobs come from the -jN
# that make puts in MAKEFLAGS (none means 1, a bare -j unlimited: 999).
jobs=1
for w in $MAKEFLAGS; do
	case $w in
	--) break ;;
	-j) jobs=999 ;;
	-j[0-9]*) jobs=${w#-j} ;;
	esac
done
echo "$1 $(date +%s%N) $jobs"
