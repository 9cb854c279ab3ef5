#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The command line contract (nbdpath.8, EXIT STATUS): every bad input ends with its exact
# exit code and exactly one stderr line starting "nbdpath: ", and leaves
# nothing attached and nothing pinned.
set -u
. "$(dirname "$0")/lib.sh"

if ((EUID != 0)); then
	t_begin cli
	t_skip "needs root (netns, bpffs)"
	t_done
fi
if [[ ! -x $NP ]]; then
	t_begin cli
	t_fail "$NP is missing: run make"
	t_done
fi

PINS=$(mktemp -d /tmp/np-cli.XXXXXX)
t_cleanup "rmdir $PINS"
mount -t bpf bpf "$PINS" || { t_begin cli; t_fail "cannot mount bpffs"; t_done; }
t_cleanup "umount $PINS"
WORK=$(mktemp -d)
t_cleanup "rm -rf $WORK"
chmod 755 "$WORK"		# nobody reads the fixtures below

t_netns NS || { t_begin cli; t_fail "cannot create a netns"; t_done; }
ip -n "$NS" link add va type veth peer name vb
ip -n "$NS" link set va up
ip -n "$NS" link set vb up

NOBODY=(setpriv --reuid=nobody --regid=nogroup --clear-groups
	--inh-caps=-all --bounding-set=-all)

snapshot() { (cd "$PINS" && find . | sort); }

# check CODE NAME [stdin-less command line after "--"]: run it in the
# netns, then hold it to the contract.
OUT=$WORK/out
ERR=$WORK/err
run_nb() { ip netns exec "$NS" "$@" >"$OUT" 2>"$ERR"; }

check() {
	local want=$1 name=$2 before rc
	shift 3			# CODE NAME --
	t_begin "$name"
	before=$(snapshot)
	run_nb "$@"
	rc=$?
	{ echo "\$ $*"; cat "$ERR"; } >>"$_t_log"
	if t_expect "exit code" "$rc" "$want" &&
	   t_expect "stderr lines" "$(wc -l <"$ERR")" 1 &&
	   t_expect "stderr prefix" "$(head -c 9 "$ERR")" "nbdpath: " &&
	   t_expect "stdout bytes" "$(wc -c <"$OUT")" 0 &&
	   t_expect "xdp attached" "$(ip -n "$NS" link show | grep -c xdp)" 0 &&
	   t_expect "bpffs changed" "$(snapshot)" "$before"; then
		t_ok
	else
		t_fail
	fi
}

# the message must also say what it is about
check_msg() {
	local pattern=$1
	shift
	check "$@"
	if ! grep -q -- "$pattern" "$ERR"; then
		echo "stderr lacks '$pattern'" >>"$_t_log"
		t_fail_last
	fi
}

# turn the last t_ok into a failure (check_msg's extra condition)
t_fail_last() {
	_t_pass=$((_t_pass - 1))
	echo "#$_t_n $_t_name:FAIL (message)"
	sed 's/^/    /' "$_t_log"
	_t_fail=$((_t_fail + 1))
}

P=(--pin-dir "$PINS/cli")	# where a leak would show
NB=$NP

# ---- usage errors: 2 ----
check_msg "--bogus"	2 unknown_flag		-- $NB run -i va --bogus "${P[@]}"
check_msg "'-x'"	2 unknown_short_flag	-- $NB run -i va -x "${P[@]}"
check_msg "frobnicate"	2 unknown_command	-- $NB frobnicate
check 2 no_command				-- $NB --json
check 2 no_arguments				-- $NB
check_msg "vmk0=00:50:56:6b:28'" 2 bad_mac_short -- $NB run -i va --vmk vmk0=00:50:56:6b:28 "${P[@]}"
check 2 bad_mac_hex				-- $NB run -i va --vmk vmk4=00:50:56:6b:28:zz "${P[@]}"
check 2 bad_mac_no_name				-- $NB run -i va --vmk 00:50:56:6b:28:04 "${P[@]}"
# a newline in a quoted argument stays on the one line, written \n
check_msg "'v\\\\nk0=00:50:56:6b:28:04'" 2 bad_name_newline -- $NB run -i va --vmk $'v\nk0=00:50:56:6b:28:04' "${P[@]}"
check_msg "expected a TCP port 1-65535" 2 bad_port_0 -- $NB run -i va --port 0 "${P[@]}"
check_msg "--port '65536'" 2 bad_port_65536	-- $NB run -i va --port 65536 "${P[@]}"
check_msg "--port 'abc'" 2 bad_port_abc		-- $NB run -i va -p abc "${P[@]}"
check 2 bad_port_negative			-- $NB run -i va --port=-1 "${P[@]}"
check 2 bad_port_missing_value			-- $NB run -i va "${P[@]}" --port
check_msg "needs -i" 2 missing_i		-- $NB run "${P[@]}"
check_msg "nosuch0" 2 unknown_interface		-- $NB run -i nosuch0 "${P[@]}"
check 2 interface_twice				-- $NB run -i va -i va "${P[@]}"
check_msg "/nonexistent/vmk.txt" 2 missing_vmk_file -- $NB run -i va --vmk-file /nonexistent/vmk.txt "${P[@]}"
check 2 unreadable_vmk_file_dir			-- $NB run -i va --vmk-file "$WORK" "${P[@]}"
printf 'vmk0 x\n' >"$WORK/secret.txt"
chmod 000 "$WORK/secret.txt"
# as nobody: a usage error is reported before the missing privileges
check 2 unreadable_vmk_file			-- "${NOBODY[@]}" $NB run -i va --vmk-file "$WORK/secret.txt" "${P[@]}"
printf 'this is not esxcfg-vmknic output\n' >"$WORK/garbage.txt"
check 2 vmk_file_no_vmk				-- $NB run -i va --vmk-file "$WORK/garbage.txt" "${P[@]}"
check_msg "auto, native or generic" 2 bad_mode	-- $NB run -i va --mode turbo "${P[@]}"
check 2 bad_interval_0				-- $NB run -i va --interval 0 "${P[@]}"
check 2 bad_interval_abc			-- $NB run -i va --interval abc "${P[@]}"
check 2 bad_interval_negative			-- $NB run -i va --interval=-1 "${P[@]}"
check 2 bad_interval_inf			-- $NB run -i va --interval inf "${P[@]}"
check 2 bad_interval_exp			-- $NB run -i va --interval 1e3 "${P[@]}"
# a poll cannot run more often than this: 1 ns would busy-loop
check_msg "--interval '0.000000001': expected seconds, a plain number from 0.1 to 31536000" \
	2 bad_interval_1ns			-- $NB run -i va --interval 0.000000001 "${P[@]}"
check 2 bad_interval_below_min			-- $NB run -i va --interval 0.099 "${P[@]}"
check 2 bad_duration_below_min			-- $NB run -i va --duration 0.05 "${P[@]}"
check 2 bad_duration				-- $NB run -i va --duration 0 "${P[@]}"
check_msg "--idle-timeout" 2 idle_below_3_intervals -- $NB run -i va --interval 2 --idle-timeout 5 "${P[@]}"
check 2 bad_max_flows_0				-- $NB run -i va --max-flows 0 "${P[@]}"
check 2 bad_max_flows_abc			-- $NB run -i va --max-flows 10k "${P[@]}"
check 2 bad_sample_rate				-- $NB run -i va --sample-rate 0 "${P[@]}"
check 2 bad_metrics				-- $NB run -i va --metrics nonsense "${P[@]}"
check 2 bad_metrics_port			-- $NB run -i va --metrics 127.0.0.1:0 "${P[@]}"
check 2 bad_pin_mode				-- $NB run -i va --pin-mode 0755 "${P[@]}"
check_msg "not an option of 'hosts'" 2 not_for_hosts -- $NB hosts --pass
check 2 not_for_flows				-- $NB flows -i va
check 2 not_for_status				-- $NB status --port 903
check 2 not_for_detach				-- $NB detach -i va --json
check 2 not_for_replay				-- $NB replay "$WORK/garbage.txt" --pass
check_msg "not an option of 'replay'" 2 quiet_not_for_replay -- $NB replay "$WORK/garbage.txt" --quiet
check 2 keep_finished_not_for_replay		-- $NB replay "$WORK/garbage.txt" --keep-finished 60
check 2 window_not_for_hosts			-- $NB hosts --window 60
check 2 extra_argument				-- $NB hosts extra
check 2 replay_no_file				-- $NB replay
check 2 replay_missing_file			-- $NB replay /nonexistent.pcap
check 2 detach_no_i				-- $NB detach
check 2 detach_unknown_interface		-- $NB detach -i nosuch0
check_msg "unknown command 'nosuch'" 2 help_unknown_command -- $NB help nosuch
check_msg "unknown command 'nosuch'" 2 help_flag_unknown_command -- $NB nosuch --help
check_msg "unexpected argument 'extra'" 2 help_extra_argument -- $NB help run extra
check 2 version_extra_argument			-- $NB version extra
check 2 version_not_pin_dir			-- $NB version --pin-dir "$PINS"

# ---- the new options: each bad value, its one message ----
SEC="expected seconds, a plain number from 0.1 to 31536000"
check_msg "--window '0': $SEC" 2 bad_window_0	-- $NB run -i va --window 0 "${P[@]}"
check_msg "--window 'x': $SEC" 2 bad_window_x	-- $NB run -i va --window x "${P[@]}"
check_msg "--window 0.5 is shorter than --interval 1" 2 window_below_interval -- $NB run -i va --window 0.5 "${P[@]}"
check_msg "--window 5 is shorter than --interval 10" 2 window_below_interval_given -- $NB run -i va --interval 10 --window 5 "${P[@]}"
check_msg "--window 5 is shorter than --interval 10" 2 replay_window_below_interval -- $NB replay "$WORK/garbage.txt" --interval 10 --window 5
check_msg "--interval '0': $SEC" 2 replay_bad_interval -- $NB replay "$WORK/garbage.txt" --interval 0
check_msg "--keep-finished 'abc': $SEC" 2 bad_keep_finished -- $NB run -i va --keep-finished abc "${P[@]}"
check_msg "--keep-finished '-5'" 2 bad_keep_finished_negative -- $NB run -i va --keep-finished=-5 "${P[@]}"
check_msg "--max-finished '-1': expected a whole number 1-16777216" 2 bad_max_finished -- $NB run -i va --max-finished=-1 "${P[@]}"
check_msg "--max-finished '0': expected a whole number 1-16777216" 2 bad_max_finished_zero -- $NB run -i va --max-finished=0 "${P[@]}"
check_msg "--max-finished '16777217'" 2 bad_max_finished_big -- $NB replay "$WORK/garbage.txt" --max-finished 16777217
check_msg "--active-timeout '0': $SEC" 2 bad_active_timeout -- $NB run -i va --active-timeout 0 "${P[@]}"
check_msg "--active-timeout '1e3'" 2 bad_active_timeout_exp -- $NB replay "$WORK/garbage.txt" --active-timeout 1e3
FL="cannot create or append to it"
check_msg "--flow-log '/nonexistent/flows.log': $FL: No such file or directory" 2 flow_log_no_dir -- $NB run -i va --flow-log /nonexistent/flows.log "${P[@]}"
check_msg "--flow-log '$WORK': $FL: Is a directory" 2 flow_log_a_dir -- $NB replay "$WORK/garbage.txt" --flow-log "$WORK"
check_msg "--flow-log '$WORK/garbage.txt/x': $FL: Not a directory" 2 flow_log_under_file -- $NB run -i va --flow-log "$WORK/garbage.txt/x" "${P[@]}"
check_msg "--flow-log '': expected a file path" 2 flow_log_empty -- $NB run -i va --flow-log= "${P[@]}"
mkdir -m 755 "$WORK/ro"
: >"$WORK/ro.log"
chmod 644 "$WORK/ro.log"
check_msg "--flow-log '$WORK/ro/f.log': $FL: Permission denied" 2 flow_log_dir_not_writable -- "${NOBODY[@]}" $NB run -i va --flow-log "$WORK/ro/f.log" "${P[@]}"
check_msg "--flow-log '$WORK/ro.log': $FL: Permission denied" 2 flow_log_not_writable -- "${NOBODY[@]}" $NB replay "$WORK/garbage.txt" --flow-log "$WORK/ro.log"
IPFIX="expected HOST:PORT, a collector's name or address and UDP port"
for bad in collector collector: collector:0 collector:65536 :4739 -bad-:4739 \
	   bad_name:4739 a..b:4739 300.1.1.1:4739 10.1.2:4739 ::1:4739 \
	   [::1:4739 [nonsense]:4739 "collector :4739"; do
	check_msg "--ipfix '${bad//\[/\\[}': $IPFIX" 2 "bad_ipfix_${bad//[^a-z0-9]/_}" -- $NB run -i va --ipfix "$bad" "${P[@]}"
done
check_msg "--ipfix 'x'" 2 bad_ipfix_replay	-- $NB replay "$WORK/garbage.txt" --ipfix x
# checked, never created: a run refused later leaves no file behind
mkdir -m 777 "$WORK/open"
check_msg "CAP_BPF" 1 flow_log_not_created	-- "${NOBODY[@]}" $NB run -i lo --flow-log "$WORK/open/new.log" "${P[@]}"
t_begin flow_log_left_alone
if [[ ! -e $WORK/open/new.log && -f $WORK/ro.log && ! -s $WORK/ro.log ]]; then t_ok; else t_fail "the --flow-log check wrote a file"; fi


# The grammar of every command, as `nbdpath COMMAND --help` prints it
declare -A GRAMMAR=(
	[run]="run -i IFACE [-i IFACE]... [OPTIONS]"
	[replay]="replay FILE [OPTIONS]"
	[hosts]="hosts [-j|--json] [--pin-dir DIR]"
	[flows]="flows [-j|--json] [--pin-dir DIR]"
	[interfaces]="interfaces [-j|--json] [--pin-dir DIR]"
	[stats]="stats [-j|--json] [--pin-dir DIR]"
	[status]="status [-j|--json] [--pin-dir DIR]"
	[detach]="detach -i IFACE [-i IFACE]..."
	[version]="version [-j|--json]"
	[help]="help [COMMAND]"
)
COMMANDS=(run replay hosts flows interfaces stats status detach version help)

# the whole grammar: every command's line, every option
for h in --help -h help "--json --help"; do
	t_begin "help_${h// /_}"
	# shellcheck disable=SC2086
	run_nb $NB $h
	rc=$?
	if t_expect "exit code" "$rc" 0 && t_expect "stderr bytes" "$(wc -c <"$ERR")" 0 &&
	   t_expect "first line" "$(head -n 1 "$OUT")" "Usage: nbdpath ${GRAMMAR[run]}" &&
	   grep -q -- '--metrics ADDR:PORT' "$OUT"; then
		missing=
		for c in "${COMMANDS[@]}"; do
			grep -qxF -- "       nbdpath ${GRAMMAR[$c]}" "$OUT" ||
			grep -qxF -- "Usage: nbdpath ${GRAMMAR[$c]}" "$OUT" || missing+=" $c"
		done
		if [[ -z $missing ]]; then t_ok; else t_fail "grammar lines missing:$missing"; fi
	else
		t_fail
	fi
done

# one command's help: its grammar, its options, no other command's grammar
for c in "${COMMANDS[@]}"; do
	t_begin "help_$c"
	run_nb $NB "$c" --help
	rc=$?
	cp "$OUT" "$WORK/help.$c"
	others=
	for x in "${COMMANDS[@]}"; do
		[[ $x == "$c" ]] && continue
		grep -qF -- "nbdpath ${GRAMMAR[$x]}" "$OUT" && others+=" $x"
	done
	if t_expect "exit code" "$rc" 0 && t_expect "stderr bytes" "$(wc -c <"$ERR")" 0 &&
	   t_expect "first line" "$(head -n 1 "$OUT")" "Usage: nbdpath ${GRAMMAR[$c]}" &&
	   t_expect "other commands' grammar" "$others" "" &&
	   t_expect "usage lines" "$(grep -c '^Usage:' "$OUT")" 1; then
		t_ok
	else
		t_fail
	fi
	# `-h`, `help COMMAND` and `--help COMMAND` print the same text
	for form in "$c -h" "help $c" "--help $c"; do
		t_begin "help_${c}_as_${form// /_}"
		# shellcheck disable=SC2086
		run_nb $NB $form
		rc=$?
		if t_expect "exit code" "$rc" 0 && t_expect "stderr bytes" "$(wc -c <"$ERR")" 0 &&
		   cmp -s "$OUT" "$WORK/help.$c"; then
			t_ok
		else
			diff "$WORK/help.$c" "$OUT" >>"$_t_log"
			t_fail
		fi
	done
done

# each command lists the options it takes, and only those
# has_opts COMMAND "OPTIONS LISTED" "OPTIONS NOT LISTED"
has_opts() {
	local c=$1 o bad=
	t_begin "help_${c}_options"
	for o in $2; do
		grep -qE -- "^  (-., )? *$o( |$)" "$WORK/help.$c" || bad+=" lacks $o"
	done
	for o in $3; do
		grep -qE -- "^  (-., )? *$o( |$)" "$WORK/help.$c" && bad+=" lists $o"
	done
	if [[ -z $bad ]]; then t_ok; else t_fail "$bad"; fi
}
has_opts run "--interface --port --window --quiet --keep-finished --max-finished --flow-log --ipfix --active-timeout --metrics --pin-dir --help" "--version"
has_opts replay "--port --interval --window --max-finished --flow-log --ipfix --active-timeout --json" "--interface --quiet --keep-finished --metrics --pin-dir --duration --mode"
has_opts hosts "--json --pin-dir --verbose --help" "--interface --port --interval --window --quiet --metrics --version"
has_opts status "--json --pin-dir" "--interface --window"
has_opts detach "--interface" "--json --pin-dir --window"
has_opts version "--json" "--pin-dir --interface"

t_begin version
run_nb $NB --version
rc=$?
if t_expect "exit code" "$rc" 0 && t_expect "stderr bytes" "$(wc -c <"$ERR")" 0 &&
   grep -qE '^nbdpath [0-9]+\.[0-9]+' "$OUT" && t_expect lines "$(wc -l <"$OUT")" 1; then
	t_ok
else
	t_fail
fi

# the version, libbpf's and the layout's: exactly what was built against
LAYOUT=$(sed -nE 's/^#define NP_LAYOUT_VERSION[[:space:]]+([0-9]+).*/\1/p' "$NP_TOP/include/nbdpath.h")
LIBBPF=$(pkg-config --modversion libbpf | cut -d. -f1,2)
NPVER=$(sed -nE 's/^#define NP_VERSION[[:space:]]+"(.*)"/\1/p' "$NP_TOP/user/opts.h")
t_begin version_text
run_nb $NB version
rc=$?
if t_expect "exit code" "$rc" 0 && t_expect "stderr bytes" "$(wc -c <"$ERR")" 0 &&
   t_expect text "$(cat "$OUT")" "nbdpath $NPVER (libbpf $LIBBPF, BPF layout $LAYOUT)" &&
   t_expect "--version" "$(ip netns exec "$NS" $NB --version)" "$(cat "$OUT")"; then
	t_ok
else
	t_fail
fi
for form in "version --json" "version -j" "--version --json" "--json --version"; do
	t_begin "version_json_${form// /_}"
	# shellcheck disable=SC2086
	run_nb $NB $form
	rc=$?
	if t_expect "exit code" "$rc" 0 && t_expect "stderr bytes" "$(wc -c <"$ERR")" 0 &&
	   t_expect lines "$(wc -l <"$OUT")" 1 &&
	   t_expect json "$(python3 -c 'import json, sys; print(json.load(sys.stdin))' <"$OUT")" \
		"{'version': '$NPVER', 'libbpf': '$LIBBPF', 'layout': $LAYOUT}"; then
		t_ok
	else
		t_fail
	fi
done

# The man page and --help name the same options.
t_begin man_page_in_step
MAN=$NP_TOP/user/nbdpath.8
missing=
if [[ -r $MAN ]]; then
	# troff spells a dash \-
	for o in $($NP --help | grep -oE -- '--[a-z][a-z-]+' | sort -u); do
		grep -qF -- "${o//-/\\-}" "$MAN" || missing+=" $o"
	done
	for c in "${COMMANDS[@]}"; do
		grep -qw "$c" "$MAN" || missing+=" $c"
	done
else
	missing=" (no $MAN)"
fi
if [[ -z $missing ]]; then t_ok; else t_fail "not in the man page:$missing"; fi

# ---- run --quiet: no report on stdout, warnings only on stderr ----
t_begin quiet_run
before=$(snapshot)
run_nb $NB run -i va --duration 2 --quiet "${P[@]}"
rc=$?
{ echo "stderr:"; cat "$ERR"; } >>"$_t_log"
if t_expect "exit code" "$rc" 0 && t_expect "stdout bytes" "$(wc -c <"$OUT")" 0 &&
   t_expect "stderr lines but warnings" "$(grep -vc '^nbdpath: warning: ' "$ERR")" 0 &&
   t_expect "xdp attached" "$(ip -n "$NS" link show | grep -c xdp)" 0 &&
   t_expect "bpffs changed" "$(snapshot)" "$before"; then
	t_ok
else
	t_fail
fi
# the same run without --quiet reports (so the test above means something)
t_begin quiet_run_counterpart
run_nb $NB run -i va --duration 2 --json "${P[@]}"
rc=$?
if t_expect "exit code" "$rc" 0 &&
   python3 -c '
import json, sys
lines = open(sys.argv[1]).read().splitlines()
assert lines and all(json.loads(l)["source"]["kind"] == "run" for l in lines), lines
' "$OUT" 2>>"$_t_log"; then
	t_ok
else
	t_fail
fi

# ---- status --json escapes what the kernel and the user named ----
# Interface names may hold quotes, backslashes, control bytes and bytes
# that are not UTF-8: the JSON must stay valid and keep the names.
W1='q"\'
W2=$'c\x01\xff'
t_begin status_json_weird_names
if ip -n "$NS" link add "$W1" type veth peer name "$W2" &&
   ip -n "$NS" link set "$W1" up && ip -n "$NS" link set "$W2" up; then
	ip netns exec "$NS" $NB run -i "$W1" -i "$W2" "${P[@]}" >"$WORK/weird.out" 2>"$WORK/weird.err" &
	WPID=$!
	t_cleanup "kill -9 $WPID"
	# attached first, pinned then: wait for both
	for ((i = 0; i < 100; i++)); do
		run_nb $NB status --json "${P[@]}" && grep -q '"instance": {' "$OUT" && break
		sleep 0.05
	done
	{ cat "$OUT"; cat "$ERR"; cat "$WORK/weird.err"; } >>"$_t_log"
	if python3 -c '
import json, sys
d = json.loads(open(sys.argv[1], "rb").read().decode("utf-8"))
want = ["q\"\\", "c\x01\ufffd"]
assert [i["interface"] for i in d["instance"]["interfaces"]] == want, d["instance"]
assert sorted(a["interface"] for a in d["attached"]) == sorted(want), d["attached"]
assert {a["prog_name"] for a in d["attached"]} == {"nbdpath_xdp"}, d["attached"]
' "$OUT" 2>>"$_t_log"; then
		t_ok
	else
		t_fail
	fi
	kill -TERM "$WPID"
	wait "$WPID"
	ip -n "$NS" link del "$W1"
else
	t_fail "cannot create veth $W1"
fi

# ---- privileges: 1 ----
check_msg "CAP_BPF" 1 unprivileged_run		-- "${NOBODY[@]}" $NB run -i lo "${P[@]}"
if ! grep -q CAP_NET_ADMIN "$ERR"; then
	echo "stderr lacks CAP_NET_ADMIN" >>"$_t_log"
	t_fail_last
fi
check_msg "CAP_NET_ADMIN" 1 unprivileged_detach	-- "${NOBODY[@]}" $NB detach -i va

# ---- a pin dir that cannot be one: 1 ----
: >"$WORK/afile"
check_msg "pin-dir $WORK/afile is not a directory" 1 pin_dir_a_file -- $NB run -i va --pin-dir "$WORK/afile"

# ---- nothing to query: 4 ----
for q in hosts flows interfaces stats; do
	check_msg "nothing is running under $PINS/none" 4 "query_nothing_$q" -- $NB $q --json --pin-dir "$PINS/none"
done
# under `ip netns exec` the default /sys/fs/bpf/nbdpath is a private, empty sysfs dir
check_msg "ip netns exec" 4 query_nothing_default_dir -- $NB hosts
check 4 status_nothing				-- $NB status --pin-dir "$PINS/none"
check_msg "va" 4 detach_nothing			-- $NB detach -i va

# ---- pins of another layout: 3, never decoded, never removed ----
mkdir "$PINS/bad" "$PINS/nometa"
bpftool map create "$PINS/bad/np_meta" type array key 4 value 8 entries 1 name np_meta
bpftool map create "$PINS/nometa/np_flows" type array key 4 value 8 entries 1 name np_flows
for q in hosts flows interfaces stats status; do
	check_msg "incompatible" 3 "query_incompatible_$q" -- $NB $q --pin-dir "$PINS/bad"
done
check_msg "remove $PINS/bad or use another --pin-dir" 3 run_incompatible -- $NB run -i va --pin-dir "$PINS/bad"
check 3 run_incompatible_native			-- $NB run -i va --mode native --pin-dir "$PINS/bad"
check 3 run_maps_without_meta			-- $NB run -i va --pin-dir "$PINS/nometa"
check 3 query_maps_without_meta			-- $NB flows --pin-dir "$PINS/nometa"
t_begin incompatible_pins_kept
if [[ -e $PINS/bad/np_meta && -e $PINS/nometa/np_flows ]]; then t_ok; else t_fail "a foreign pin was removed"; fi
rm -f "$PINS/bad/np_meta" "$PINS/nometa/np_flows"
rmdir "$PINS/bad" "$PINS/nometa"

# An instance of the previous layout (before 7, whose flow, retired and
# current keys carry the address family): its np_meta says so, and it is
# named in the refusal.
PREV=$((LAYOUT - 1))
mkdir "$PINS/prev"
bpftool map create "$PINS/prev/np_meta" type array key 4 value 8 entries 1 name np_meta
bpftool map update pinned "$PINS/prev/np_meta" key 0 0 0 0 \
	value 0x50 0x44 0x42 0x4e "$PREV" 0 0 0
for q in hosts flows; do
	check_msg "(layout $PREV; this one reads layout $LAYOUT)" 3 "query_layout_prev_$q" \
		-- $NB $q --pin-dir "$PINS/prev"
done
check_msg "(layout $PREV; this one reads layout $LAYOUT)" 3 run_layout_prev \
	-- $NB run -i va --pin-dir "$PINS/prev"
rm -f "$PINS/prev/np_meta"
rmdir "$PINS/prev"

# A live run's np_flows replaced by an array of the same shape that
# cannot be mapped (no BPF_F_MMAPABLE): not a table of ours, so 3. The
# run is in a netns of its own, where the checks' "nothing attached"
# does not look.
t_netns NS2
ip -n "$NS2" link add vc type veth peer name vd
ip netns exec "$NS2" ethtool -K vc rxvlan off rx-vlan-stag-hw-parse off >/dev/null 2>&1
ip -n "$NS2" link set vc up
ip -n "$NS2" link set vd up
FORGED=$PINS/forged
ip netns exec "$NS2" $NB run -i vc --mode generic --pin-dir "$FORGED" --interval 0.2 \
	>"$WORK/forged.out" 2>"$WORK/forged.err" &
FORGED_PID=$!
t_cleanup "kill -9 $FORGED_PID"
for ((i = 0; i < 100; i++)); do
	$NB stats --pin-dir "$FORGED" >/dev/null 2>&1 && break
	sleep 0.05
done
shape=$(bpftool map show pinned "$FORGED/np_flows" -j |
	python3 -c 'import json, sys; m = json.load(sys.stdin); print(m["bytes_value"], m["max_entries"])')
read -r vsize entries <<<"$shape"
rm -f "$FORGED/np_flows"
bpftool map create "$FORGED/np_flows" type array key 4 value "$vsize" entries "$entries" name np_flows
for q in hosts flows interfaces stats; do
	check_msg "incompatible" 3 "query_flows_not_mmapable_$q" -- $NB $q --pin-dir "$FORGED"
done
kill -TERM "$FORGED_PID"
wait "$FORGED_PID"
rc=$?
t_begin forged_run_stops_clean
if t_expect "run exit" "$rc" 0 && t_expect "pin dir left" "$(ls -d "$FORGED" 2>/dev/null)" ""; then
	t_ok
else
	cat "$WORK/forged.err" >>"$_t_log"
	t_fail
fi

t_done
