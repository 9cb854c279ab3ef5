#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Run every test suite: the datapath runner, then the shell suites
# (tests/t_*.sh). Each suite prints "#N name:OK|FAIL|SKIP" lines and ends
# with "N passed, N failed, N skipped"; this sums them into the last line.
set -u
cd "$(dirname "$0")/.."

pass=0 fail=0 skip=0
suites=(./.build/test_progs)
for s in tests/t_*.sh; do
	[[ -e $s ]] && suites+=("$s")
done
[[ -n ${NP_SUITES:-} ]] && read -r -a suites <<<"$NP_SUITES"

for s in "${suites[@]}"; do
	echo "== ${s#./}"
	out=$(mktemp)
	if [[ $s == *.sh ]]; then
		bash "$s" 2>&1 | tee "$out"
	else
		"$s" 2>&1 | tee "$out"
	fi
	rc=${PIPESTATUS[0]}
	last=$(grep -E '^[0-9]+ passed, [0-9]+ failed, [0-9]+ skipped$' "$out" | tail -n1)
	rm -f "$out"
	if [[ -z $last ]]; then
		echo "#0 ${s#./}:FAIL (exit $rc, no summary line)"
		fail=$((fail + 1))
		continue
	fi
	read -r p _ f _ k _ <<<"${last//,/}"
	pass=$((pass + p)) fail=$((fail + f)) skip=$((skip + k))
	if ((rc != 0 && f == 0)); then
		echo "#0 ${s#./}:FAIL (exit $rc)"
		fail=$((fail + 1))
	fi
done
echo "$pass passed, $fail failed, $skip skipped"
((fail == 0))
