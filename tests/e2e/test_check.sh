#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# portwitness check: on a kernel that has every feature, each program
# loads on its own with room to spare under the verifier's limit (half of
# its 1M instructions), exit 0; without privilege, exit 3 and the root
# hint, never a program reported refused.
. "$(dirname "$0")/lib.sh"

"$PW" check --json > "$TMP/check.json" 2> "$TMP/err"
rc=$?
jqf . "$TMP/check.json" > /dev/null
refused=$(jqf '[.programs[] | select(.loaded | not) | "\(.name): \(.error) \(.verifier)"] | join("; ")' "$TMP/check.json")
expect "$refused" "" "programs refused by the kernel"
missing=$(jqf '[.features[] | select(.available | not) | .name] | join(" ")' "$TMP/check.json")
expect "$missing" "" "features missing"
expect "$rc" 0 "exit code of check where everything works"
expect "$(jqf '.ok' "$TMP/check.json")" true "check's ok"
expect "$(jqf '.programs | length' "$TMP/check.json")" 7 "programs checked"
# Headroom: a kernel that counts verified instructions (5.16+) shows each
# program under half the limit.
over=$(jqf '[.programs[] | select(.verified_insns != null and .verified_insns > 500000) | "\(.name) \(.verified_insns)"] | join(", ")' "$TMP/check.json")
expect "$over" "" "programs over half the verifier's limit"

"$PW" check > "$TMP/check.txt" 2>&1 || fail "check (text) exit $?: $(cat "$TMP/check.txt")"
grep -q '^everything works$' "$TMP/check.txt" || fail "check's text: $(cat "$TMP/check.txt")"
grep -q "pw_kfree_skb *loaded, " "$TMP/check.txt" || fail "check's text names no pw_kfree_skb: $(cat "$TMP/check.txt")"

setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
	"$PW" check > "$TMP/out" 2> "$TMP/err"
expect $? 3 "exit code of check without privilege"
grep -q "needs root" "$TMP/err" || fail "check's no-privilege message: $(cat "$TMP/err")"
grep -q "REFUSED" "$TMP/out" && fail "check without privilege reports a refusal: $(cat "$TMP/out")"
echo "PASS $(basename "$0")"
