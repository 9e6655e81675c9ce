#!/usr/bin/env bash
# Runs the suites: unit (cmocka), bpf (BPF_PROG_TEST_RUN), e2e (network
# namespaces). A suite that cannot run without root exits 77: that is a
# loud skip on a developer's machine, and a failure under CI=true, where
# every test must run.
set -u
OUT=${OUT:-build}
export OUT
SKIP=77
# A slow machine (a vmtest guest under software emulation) scales every
# suite's time limit and the tests' own waits (tests/e2e/lib.sh).
SCALE=${PW_TIME_SCALE:-1}
passed=0 failed=0 skipped=0
failures=()
cd "$(dirname "$0")/.." || exit 1

run_one() {
	local name=$1 rc
	shift
	local start=$SECONDS
	timeout --kill-after=10 $((300 * SCALE)) "$@" > "$OUT/tests/$name.log" 2>&1
	rc=$?
	if [ $rc -eq 0 ]; then
		passed=$((passed + 1))
		printf '  PASS  %-40s %3ds\n' "$name" $((SECONDS - start))
	elif [ $rc -eq $SKIP ] && [ "${CI:-}" != true ]; then
		skipped=$((skipped + 1))
		printf '  SKIP  %-40s %s\n' "$name" "$(grep -m1 SKIP "$OUT/tests/$name.log")"
	else
		failed=$((failed + 1))
		failures+=("$name")
		[ $rc -eq $SKIP ] && echo "  (CI=true: a skipped suite is a failure; CI runs as root)"
		printf '  FAIL  %-40s exit %d; its output:\n' "$name" $rc
		sed 's/^/        /' "$OUT/tests/$name.log" | tail -40
	fi
}

suites=${1:-all}
mkdir -p "$OUT/tests"
if [ "$suites" = all ] || [ "$suites" = unit ]; then
	echo "unit tests (cmocka):"
	for t in "$OUT"/tests/test_*; do
		[ -x "$t" ] && [ "${t%.d}" = "$t" ] && run_one "$(basename "$t")" "$t"
	done
fi
if [ "$suites" = all ] || [ "$suites" = bpf ]; then
	echo "BPF programs through BPF_PROG_TEST_RUN:"
	run_one bpf_test_run "$OUT/tests/bpf_test_run"
fi
if [ "$suites" = all ] || [ "$suites" = e2e ]; then
	echo "end to end, in network namespaces:"
	# PW_SUITES: only these (names without .sh), as make vmtest runs.
	for t in tests/e2e/test_*.sh; do
		name=$(basename "$t" .sh)
		[ -z "${PW_SUITES:-}" ] || [[ " $PW_SUITES " == *" $name "* ]] || continue
		run_one "$name" bash "$t"
	done
fi

if [ $skipped -gt 0 ]; then
	echo
	echo "!!! $skipped suite(s) SKIPPED: they need root (BPF, namespaces). Run 'sudo make test'. !!!"
fi
[ $failed -gt 0 ] && echo "failed: ${failures[*]}"
echo "$passed passed, $failed failed, $skipped skipped"
[ $failed -eq 0 ]
