#!/bin/bash
# agent/ is laid out by layer: a file includes headers of its own layer
# and of the layers below it, never of a layer above (docs/design.md).
# One case per source file; a project header named without its folder
# counts as a violation too, so the rule cannot be sidestepped.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

# Ground up; the Makefile builds the same list of folders.
LAYERS=(lib conf module dkms build cache boot cmd)
declare -A rank
for i in "${!LAYERS[@]}"; do
	rank[${LAYERS[$i]}]=$i
done

cd "$DKB_REPO/agent"
shopt -s nullglob
files=(*/*.[ch])
((${#files[@]} > 0)) || die "agent/ has no source files in layer folders"

for f in *.[ch]; do
	fail "agent/$f lies in a layer folder" "move it into one of: ${LAYERS[*]}"
done

for f in "${files[@]}"; do
	layer=${f%%/*}
	if [[ -z ${rank[$layer]+x} ]]; then
		fail "agent/$f: $layer is a known layer"
		continue
	fi
	bad=()
	while read -r inc; do
		dep=${inc%%/*}
		if [[ $inc != */* || -z ${rank[$dep]+x} ]]; then
			bad+=("$inc: not under a layer folder")
		elif ((rank[$dep] > rank[$layer])); then
			bad+=("$inc: $dep is above $layer")
		elif [[ ! -f $inc ]]; then
			bad+=("$inc: no such header")
		fi
	done < <(sed -n 's/^#include "\([^"]*\)".*/\1/p' "$f")
	if ((${#bad[@]})); then
		fail "agent/$f includes only its layer and below" "${bad[@]}"
	else
		pass "agent/$f includes only its layer and below"
	fi
done
finish
