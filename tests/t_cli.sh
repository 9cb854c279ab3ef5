#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The command line contract of SPEC §5: every bad input ends with its exact
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
check 2 not_for_replay				-- $NB replay "$WORK/garbage.txt" --interval 1
check 2 extra_argument				-- $NB hosts extra
check 2 replay_no_file				-- $NB replay
check 2 replay_missing_file			-- $NB replay /nonexistent.pcap
check 2 detach_no_i				-- $NB detach
check 2 detach_unknown_interface		-- $NB detach -i nosuch0


for h in --help -h "run --help" "hosts -h"; do
	t_begin "help_${h// /_}"
	# shellcheck disable=SC2086
	run_nb $NB $h
	rc=$?
	if t_expect "exit code" "$rc" 0 && t_expect "stderr bytes" "$(wc -c <"$ERR")" 0 &&
	   grep -q '^Usage: nbdpath run -i IFACE' "$OUT" &&
	   grep -q -- '--metrics ADDR:PORT' "$OUT"; then
		t_ok
	else
		t_fail
	fi
done

t_begin version
run_nb $NB --version
rc=$?
if t_expect "exit code" "$rc" 0 && t_expect "stderr bytes" "$(wc -c <"$ERR")" 0 &&
   grep -qE '^nbdpath [0-9]+\.[0-9]+' "$OUT" && t_expect lines "$(wc -l <"$OUT")" 1; then
	t_ok
else
	t_fail
fi

# The man page and --help name the same options.
t_begin man_page_in_step
MAN=$NP_TOP/user/nbdpath.8
missing=
if [[ -r $MAN ]]; then
	# troff spells a dash \-
	for o in $($NP --help | grep -oE -- '--[a-z][a-z-]+' | sort -u); do
		grep -qF -- "${o//-/\\-}" "$MAN" || missing+=" $o"
	done
	for c in run replay hosts flows interfaces stats status detach; do
		grep -qw "$c" "$MAN" || missing+=" $c"
	done
else
	missing=" (no $MAN)"
fi
if [[ -z $missing ]]; then t_ok; else t_fail "not in the man page:$missing"; fi

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
