#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The datapath runner, the CLI suite and the replay suite once more, with
# nbdpath and test_progs built with ASan and UBSan (.build-asan/, made by
# `make check`). One test per suite: it passes when the suite passes and
# no sanitizer wrote a report (each goes to a file of its own, so that
# an exit code or a stderr line a suite expects cannot hide one).
#
# The shell suites find nbdpath as $NP_TOP/nbdpath: they run from a
# shadow tree, .build-asan/top/, whose nbdpath is the sanitizer build and
# whose every other entry links back to the real tree.
set -u
. "$(dirname "$0")/lib.sh"

ASAN=$NP_TOP/.build-asan
WORK=$(mktemp -d)
chmod 755 "$WORK"		# the suites run some commands as nobody
t_cleanup "rm -rf $WORK"
mkdir -m 777 "$WORK/reports"

# halt at the first report, a distinct exit code, the report to a file
export ASAN_OPTIONS="log_path=$WORK/reports/asan:exitcode=86:detect_leaks=1:abort_on_error=0"
export UBSAN_OPTIONS="log_path=$WORK/reports/ubsan:exitcode=87:halt_on_error=1:print_stacktrace=1"

for b in nbdpath test_progs; do
	if [[ ! -x $ASAN/$b ]]; then
		t_begin asan
		t_fail "$ASAN/$b is missing: run make check"
		t_done
	fi
done

TOP=$ASAN/top
rm -rf "$TOP"
mkdir -p "$TOP"
for e in tests user include bpf scripts .build; do
	ln -s "$NP_TOP/$e" "$TOP/$e"
done
ln -s "$ASAN/nbdpath" "$TOP/nbdpath"

# suite NAME CMD...: run it, hold its summary and the reports to account
suite() {
	local name=$1 out=$WORK/$1.out rc last
	shift
	t_begin "asan_$name"
	rm -f "$WORK"/reports/*
	(cd "$TOP" && "$@") >"$out" 2>&1
	rc=$?
	last=$(grep -E '^[0-9]+ passed, [0-9]+ failed, [0-9]+ skipped$' "$out" | tail -n1)
	if compgen -G "$WORK/reports/*" >/dev/null; then
		grep -E ':FAIL' "$out" >>"$_t_log"
		head -n 60 "$WORK"/reports/* >>"$_t_log"
		t_fail "sanitizer reports: $(ls "$WORK/reports" | tr '\n' ' ')"
	elif ((rc != 0)) || [[ -z $last || $last != *" 0 failed,"* || $last == "0 passed,"* ]]; then
		grep -E ':FAIL' -A 20 "$out" | head -n 80 >>"$_t_log"
		t_fail "exit $rc, ${last:-no summary line}"
	else
		t_ok
	fi
}

suite test_progs "$ASAN/test_progs"
suite t_cli bash "$TOP/tests/t_cli.sh"
suite t_replay bash "$TOP/tests/t_replay.sh"

rm -rf "$TOP"
t_done
