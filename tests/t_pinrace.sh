#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Two `run`s started together on a new --pin-dir outside bpffs, round
# after round: exactly one wins (it mounted the one bpffs there, its
# queries answer), the other is refused with the documented message and
# exit 1, and once the winner stops nothing is left: no mount, no
# directory. Each run on its own veth in a private netns, entered with
# nsenter (not `ip netns exec`, whose private mounts the test would not see).
set -u
. "$(dirname "$0")/lib.sh"

ROUNDS=${NP_PINRACE_ROUNDS:-30}

if ((EUID != 0)); then
	t_begin pinrace
	t_skip "needs root (netns, veth, XDP, mount)"
	t_done
fi
if [[ ! -x $NP ]]; then
	t_begin pinrace
	t_fail "$NP is missing: run make"
	t_done
fi

WORK=$(mktemp -d)
t_cleanup "rm -rf $WORK"
# a failed round may leave bpffs mounts (even stacked): all of them go
t_cleanup "awk -v w=$WORK/ 'index(\$5, w) == 1 { print \$5 }' /proc/self/mountinfo | sort -r | xargs -r -n1 umount -l"
t_netns NS || { t_begin pinrace; t_fail "cannot create a netns"; t_done; }
for pair in "va vb" "vc vd"; do
	set -- $pair
	ip -n "$NS" link add "$1" type veth peer name "$2"
	ip netns exec "$NS" ethtool -K "$1" rxvlan off rx-vlan-stag-hw-parse off >/dev/null 2>&1
	ip -n "$NS" link set "$1" up
	ip -n "$NS" link set "$2" up
done
NE=(nsenter "--net=/run/netns/$NS")

mounts_on() { awk -v d="$1" '$5 == d' /proc/self/mountinfo | wc -l; }

# race ROUND [existing]: 0 when the round went as it must, its story in
# the log. existing: the pin dir is there already, empty: a bpffs is
# mounted on it and taken away again, the directory stays.
race() {
	local top=$WORK/r$1 pin pa pb rc_a= rc_b= i win lose out
	pin=$top/deep/pins
	[[ ${2:-} == existing ]] && mkdir -p "$pin"
	# both wait at the FIFO, and go the moment it is opened for writing
	rm -f "$WORK/go"
	mkfifo "$WORK/go"
	"${NE[@]}" bash -c 'read -r _ <"$1"; shift; exec "$@"' _ "$WORK/go" \
		"$NP" run -i va --mode generic --pin-dir "$pin" --interval 0.2 \
		>"$WORK/a.out" 2>"$WORK/a.err" &
	pa=$!
	"${NE[@]}" bash -c 'read -r _ <"$1"; shift; exec "$@"' _ "$WORK/go" \
		"$NP" run -i vc --mode generic --pin-dir "$pin" --interval 0.2 \
		>"$WORK/b.out" 2>"$WORK/b.err" &
	pb=$!
	# (a reader late to the FIFO would wait for a writer forever)
	for ((i = 0; i < 100; i++)); do
		[[ $(cat /proc/$pa/wchan /proc/$pb/wchan 2>/dev/null) == wait_for_partnerwait_for_partner ]] && break
		sleep 0.02
	done
	: >"$WORK/go"
	t_cleanup "kill -9 $pa $pb && sleep 0.2"
	# the loser gives up within a second; 10 s for a slow machine
	for ((i = 0; i < 200; i++)); do
		kill -0 "$pa" 2>/dev/null || break
		kill -0 "$pb" 2>/dev/null || break
		sleep 0.05
	done
	if ! kill -0 "$pa" 2>/dev/null; then
		wait "$pa"; rc_a=$?
		win=$pb lose=a
	elif ! kill -0 "$pb" 2>/dev/null; then
		wait "$pb"; rc_b=$?
		win=$pa lose=b
	else
		echo "round $1: both still running after 10 s" >>"$_t_log"
		kill -9 "$pa" "$pb"; wait "$pa" "$pb"
		return 1
	fi
	rc=${rc_a:-$rc_b}
	{ echo "round $1: loser $lose exit $rc:"; cat "$WORK/$lose.err"; } >>"$_t_log"
	# the winner may still be loading: up when status answers (10 s)
	for ((i = 0; i < 200; i++)); do
		kill -0 "$win" 2>/dev/null || break
		"$NP" status --pin-dir "$pin" >/dev/null 2>&1 && break
		sleep 0.05
	done
	if ! kill -0 "$win" 2>/dev/null; then
		echo "round $1: the winner exited too:" >>"$_t_log"
		cat "$WORK/a.err" "$WORK/b.err" >>"$_t_log"
		wait "$win"
		return 1
	fi
	t_expect "round $1: loser exit" "$rc" 1 || return 1
	t_expect "round $1: loser stderr" "$(cat "$WORK/$lose.err")" \
		"nbdpath: another nbdpath run (pid $win) is using $pin; stop it or use --pin-dir" || return 1
	t_expect "round $1: bpffs mounts on $pin" "$(mounts_on "$pin")" 1 || return 1
	out=$("$NP" status --pin-dir "$pin" --json 2>>"$_t_log")
	t_expect "round $1: status exit" "$?" 0 || return 1
	python3 -c 'import json, sys
d = json.loads(sys.argv[1])
sys.exit(0 if d["instance"]["pid"] == int(sys.argv[2]) and d["instance"]["running"] else 1)' \
		"$out" "$win" 2>>"$_t_log" || { echo "round $1: status says $out" >>"$_t_log"; return 1; }
	"$NP" flows --pin-dir "$pin" --json >/dev/null 2>>"$_t_log" || return 1
	kill -TERM "$win"
	wait "$win"
	t_expect "round $1: winner exit" "$?" 0 || return 1
	t_expect "round $1: mounts left on $pin" "$(mounts_on "$pin")" 0 || return 1
	if [[ ${2:-} == existing ]]; then
		t_expect "round $1: what is in $pin" "$(ls -A "$pin" 2>&1)" "" || return 1
		rm -r "$top/deep"
	fi
	[[ ! -e $top/deep ]] || { echo "round $1: $top/deep is left" >>"$_t_log"; return 1; }
	t_expect "round $1: attached" "$(ip -n "$NS" link show | grep -c xdp)" 0 || return 1
	rmdir "$top"
}

t_begin "two_runs_one_new_pin_dir_x$ROUNDS"
ok=0
for ((r = 0; r < ROUNDS; r++)); do
	mkdir "$WORK/r$r"
	race "$r" || break
	ok=$((ok + 1))
done
if t_expect "rounds that went right" "$ok" "$ROUNDS"; then t_ok; else t_fail; fi

t_begin "two_runs_one_empty_pin_dir_x$((ROUNDS / 3))"
ok=0
for ((r = ROUNDS; r < ROUNDS + ROUNDS / 3; r++)); do
	mkdir "$WORK/r$r"
	race "$r" existing || break
	ok=$((ok + 1))
done
if t_expect "rounds that went right" "$ok" "$((ROUNDS / 3))"; then t_ok; else t_fail; fi

t_done
