#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Run every test suite: the datapath runner, then the shell suites
# (tests/t_*.sh). Each suite prints "#N name:OK|FAIL|SKIP" lines and ends
# with "N passed, N failed, N skipped"; this sums them into the last line.
set -u
cd "$(dirname "$0")/.."

pass=0 fail=0 skip=0
# The failures again, just above the summary line: a CI log may keep only
# its tail.
failed=()
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
	while IFS= read -r line; do
		failed+=("${s#./}: $line")
	done < <(grep -B2 -A4 -E '^#[0-9]+(/[0-9]+)? [^ ]+:FAIL' "$out" | cut -c1-200)
	last=$(grep -E '^[0-9]+ passed, [0-9]+ failed, [0-9]+ skipped$' "$out" | tail -n1)
	rm -f "$out"
	if [[ -z $last ]]; then
		echo "#0 ${s#./}:FAIL (exit $rc, no summary line)"
		failed+=("${s#./}: exit $rc, no summary line")
		fail=$((fail + 1))
		continue
	fi
	read -r p _ f _ k _ <<<"${last//,/}"
	pass=$((pass + p)) fail=$((fail + f)) skip=$((skip + k))
	if ((rc != 0 && f == 0)); then
		echo "#0 ${s#./}:FAIL (exit $rc)"
		failed+=("${s#./}: exit $rc")
		fail=$((fail + 1))
	fi
done
if ((${#failed[@]})); then
	echo "== failures (with the lines around each)"
	printf '%s\n' "${failed[@]}"
fi
echo "$pass passed, $fail failed, $skip skipped"
((fail == 0))
