#!/bin/bash
# Run every test of dkms-boot and print one closing line
# "N passed, N failed".  Unit tests are cmocka programs (each case counts),
# fuzz corpora are replayed (each target counts), integration scripts print
# TAP-style "ok - NAME" / "not ok - NAME" lines (each line counts).
# A script that exits non-zero without a "not ok" line counts as one failure.
set -uo pipefail

cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
export DKMS_BOOT_STATIC=$PWD/$BUILD/dkms-boot
export DKMS_BOOT_TEST=$PWD/$BUILD/test/dkms-boot
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export LC_ALL=C

passed=0
failed=0
failures=()
logdir=$BUILD/test/logs
mkdir -p "$logdir"

note_fail() {
	failed=$((failed + 1))
	failures+=("$1")
}

for t in "$BUILD"/test/unit/test_*; do
	[[ -x $t ]] || continue
	name=$(basename "$t")
	log=$logdir/$name.log
	"$t" >"$log" 2>&1
	rc=$?
	p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -1)
	f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -1)
	passed=$((passed + ${p:-0}))
	if [[ -n $f && $f != 0 ]]; then
		failed=$((failed + f))
		failures+=("$name ($f cases, see $log)")
	elif ((rc != 0)) || [[ -z $p ]]; then
		note_fail "$name (exit $rc, see $log)"
	fi
	echo "unit $name: ${p:-0} passed, ${f:-0} failed"
done

for t in "$BUILD"/test/replay/fuzz_*; do
	[[ -x $t ]] || continue
	name=$(basename "$t")
	log=$logdir/$name.log
	if "$t" tests/fuzz/corpus/"$name" >"$log" 2>&1; then
		passed=$((passed + 1))
		echo "fuzz corpus $name: $(tail -1 "$log")"
	else
		note_fail "fuzz corpus $name (see $log)"
	fi
done

for t in tests/integration/*.sh; do
	[[ -f $t ]] || continue
	name=$(basename "$t" .sh)
	[[ $name == lib ]] && continue # shared helpers, not a test
	[[ -n ${TESTS:-} && " $TESTS " != *" $name "* ]] && continue
	log=$logdir/$name.log
	start=$SECONDS
	bash "$t" >"$log" 2>&1
	rc=$?
	p=$(grep -c '^ok ' "$log")
	f=$(grep -c '^not ok ' "$log")
	passed=$((passed + p))
	failed=$((failed + f))
	((f)) && failures+=("$name: $(grep '^not ok ' "$log" | head -3 | tr '\n' ';') see $log")
	if ((rc != 0 && f == 0)); then
		note_fail "$name (exit $rc without a failing case, see $log)"
	fi
	if ((p == 0 && f == 0 && rc == 0)); then
		note_fail "$name (ran no case)"
	fi
	echo "integration $name: $p passed, $f failed ($((SECONDS - start)) s)"
done

for f in "${failures[@]}"; do
	echo "FAILED: $f"
done
echo "$passed passed, $failed failed"
((failed == 0 && passed > 0))
