#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# `make fuzz`: each libFuzzer target given (.build-fuzz/fuzz_NAME) for
# FUZZ_SECONDS, starting from its committed corpus tests/fuzz/corpus/NAME/;
# then the random-frame conservation check at 10M frames.
#
# New inputs go to .build-fuzz/corpus/NAME/, not into the repository
# (FUZZ_MERGE=1 merges those that add coverage into the committed corpus).
# An input that crashes is copied into the committed corpus at once, so
# that `make check` replays it from then on: fix the bug, commit both.
set -u
cd "$(dirname "$0")/../.."

secs=${FUZZ_SECONDS:-60}
frames=${FUZZ_FRAMES:-10000000}
fail=0
for bin in "$@"; do
	name=$(basename "$bin")
	name=${name#fuzz_}
	corpus=tests/fuzz/corpus/$name
	work=.build-fuzz/corpus/$name
	art=.build-fuzz/artifacts/$name
	cwd=.build-fuzz/cwd/$name
	mkdir -p "$corpus" "$work" "$art" "$cwd"
	echo "== fuzz $name: $secs s (log: .build-fuzz/$name.log)"
	# from an empty directory, stdin closed: the option parser opens
	# whatever path it is given (see tests/fuzz/fuzz_opts.c)
	(cd "$cwd" && "$OLDPWD/$bin" -max_total_time="$secs" -timeout=10 \
		-rss_limit_mb=2048 -close_fd_mask=3 -print_final_stats=1 \
		-artifact_prefix="$OLDPWD/$art/" \
		"$OLDPWD/$work" "$OLDPWD/$corpus" </dev/null) \
		>".build-fuzz/$name.log" 2>&1
	rc=$?
	grep -E '^stat::(number_of_executed_units|peak_rss_mb):' ".build-fuzz/$name.log" |
		sed 's/^/   /'
	found=0
	for a in "$art"/*; do
		[[ -e $a ]] || continue
		cp "$a" "$corpus/$(basename "$a")"
		echo "   found: $corpus/$(basename "$a")"
		rm -f "$a"
		found=1
	done
	if ((rc != 0 || found)); then
		echo "   FAIL (exit $rc); the report:"
		# from the sanitizer's (or libFuzzer's) first word on
		sed -n '/ERROR: \|runtime error\|ALARM: \|deadly signal\|out-of-memory/,$p' \
			".build-fuzz/$name.log" | head -n 40 | sed 's/^/    /'
		fail=1
	elif [[ ${FUZZ_MERGE:-0} == 1 ]]; then
		"$bin" -merge=1 -close_fd_mask=3 "$corpus" "$work" </dev/null \
			>>".build-fuzz/$name.log" 2>&1
		echo "   corpus: $(ls "$corpus" | wc -l) files"
	fi
done

# a new seed each time (the same seed repeats a failure)
seed=${NP_RANDOM_SEED:-$(date +%s)}
echo "== random frames: $frames through the XDP program, NP_RANDOM_SEED=$seed"
start=$(date +%s)
NP_RANDOM_FRAMES=$frames NP_RANDOM_SEED=$seed .build/test_progs -t random_frames || fail=1
echo "   $(($(date +%s) - start)) s"
exit $fail
