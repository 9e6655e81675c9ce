#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# On a kernel older than portwitness needs (make vmtest runs it on Debian
# 11's 5.10): check says what is off and why (exit 1, never a crash nor a
# privilege message), and verify either works or exits 3 naming the
# missing kernel feature and the first Linux that has it.
. "$(dirname "$0")/../e2e/lib.sh"

"$PW" check --json > "$TMP/check.json" 2> "$TMP/check.err"
rc=$?
cat "$TMP/check.err"
"$PW" check 2>&1 | sed 's/^/  check: /'
expect "$rc" 1 "exit code of check on an old kernel"
grep -qi "needs root\|permission denied: " "$TMP/check.err" &&
	fail "check names privilege on an old kernel: $(cat "$TMP/check.err")"
# Every program that does not load is put down to a feature by name.
unnamed=$(jqf '[.programs[] | select((.loaded | not) and .needs == null) | .name] | join(" ")' "$TMP/check.json")
expect "$unnamed" "" "programs refused with no missing feature named"

setup_pair
pw verify -i "$DEV_S" --ports 'x=5000/udp' -d 2 > "$TMP/out" 2> "$TMP/err"
rc=$?
cat "$TMP/err"
grep -qi "needs root\|permission denied: \|run as root" "$TMP/err" &&
	fail "verify names privilege on an old kernel: $(cat "$TMP/err")"
case $rc in
0|1)	# It works with what the kernel has, and says what is off.
	grep -q "x .*udp .*5000" "$TMP/out" || fail "verify's table: $(cat "$TMP/out")" ;;
3)	grep -q "this kernel lacks .*(Linux [0-9.]*)" "$TMP/err" ||
		fail "verify's exit 3 names no kernel feature and its first Linux: $(cat "$TMP/err")" ;;
*)	fail "verify exit $rc on an old kernel: $(cat "$TMP/err")" ;;
esac
echo "PASS $(basename "$0") (verify exit $rc)"
