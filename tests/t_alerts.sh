#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The shipped alerting rules: promtool finds them well-formed, and their
# unit tests (tests/promtool/) pass, each alert firing and not firing.
set -u
. "$(dirname "$0")/lib.sh"

RULES=$NP_TOP/scripts/nbdpath.rules.yml

t_begin rules_check
if ! command -v promtool >/dev/null; then
	t_fail "promtool is missing: run make check (it installs prometheus)"
elif t_log promtool check rules "$RULES"; then
	t_ok
else
	t_fail
fi

for f in "$NP_TOP"/tests/promtool/*.test.yml; do
	t_begin "promtool_$(basename "$f" .test.yml)"
	if ! command -v promtool >/dev/null; then
		t_fail "promtool is missing"
	elif t_log promtool test rules "$f"; then
		t_ok
	else
		t_fail
	fi
done

# every alert of the rules has a unit test
t_begin every_alert_tested
missing=
for a in $(sed -n 's/^ *- alert: *//p' "$RULES"); do
	grep -q "alertname: $a\$" "$NP_TOP"/tests/promtool/*.test.yml || missing+=" $a"
done
if [[ -z $missing ]]; then
	t_ok
else
	t_fail "no unit test for:$missing"
fi
t_done
