#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The committed fuzz corpora as regression tests: every file of
# tests/fuzz/corpus/NAME/ run once through .build-fuzz/fuzz_NAME (built
# with ASan and UBSan by `make check`), no fuzzing. One test per target;
# a crash input committed with its fix is replayed here from then on.
set -u
. "$(dirname "$0")/lib.sh"

FUZZ=$NP_TOP/.build-fuzz
WORK=$(mktemp -d)
t_cleanup "rm -rf $WORK"

for src in "$NP_TOP"/tests/fuzz/fuzz_*.c; do
	[[ -e $src ]] || continue
	name=$(basename "$src" .c)
	name=${name#fuzz_}
	t_begin "fuzz_corpus_$name"
	bin=$FUZZ/fuzz_$name
	corpus=$NP_TOP/tests/fuzz/corpus/$name
	if [[ ! -x $bin ]]; then
		t_fail "$bin is missing: run make check"
		continue
	fi
	files=("$corpus"/*)
	if [[ ! -e ${files[0]} ]]; then
		t_fail "no corpus in $corpus"
		continue
	fi
	# from an empty directory, stdin closed, as tests/fuzz/run.sh fuzzes
	(cd "$WORK" && timeout -s KILL 600 "$bin" -timeout=20 -rss_limit_mb=2048 \
		-close_fd_mask=3 "${files[@]}" </dev/null) >"$WORK/log" 2>&1
	rc=$?
	ran=$(grep -c '^Executed ' "$WORK/log")
	if ((rc == 0)) && t_expect "inputs run" "$ran" "${#files[@]}"; then
		t_ok
	else
		tail -n 40 "$WORK/log" >>"$_t_log"
		t_fail "exit $rc"
	fi
done

t_done
