#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# `nbdpath run` on a veth pair in a private netns, in generic and native
# mode: frames injected from the peer are counted exactly, the queries agree
# with run --json, stopping and killing leave nothing attached, a second run
# and someone else's program are refused, --vmk-file names show up, idle
# flows leave the flow list but not the totals.
set -u
. "$(dirname "$0")/lib.sh"

t_need_root live "netns, veth, XDP"
t_need_file live "$NP"

# One frame per send on an AF_PACKET socket: Ethernet, IPv4, TCP, payload.
# args: IFACE COUNT SRC_MAC DST_MAC SRC_IP DST_IP SPORT DPORT PAYLOAD [STEP]
# STEP > 0: each frame gets the next source port (a new flow per frame).
INJ_PY='
import socket, struct, sys
ifc, n, smac, dmac, sip, dip, sp, dp, pl = sys.argv[1:10]
step = int(sys.argv[10]) if len(sys.argv) > 10 else 0
n, sp, dp, pl = int(n), int(sp), int(dp), int(pl)
def csum(b):
    s = sum(struct.unpack("!10H", b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff
mac = lambda m: bytes.fromhex(m.replace(":", ""))
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((ifc, 0))
for i in range(n):
    tcp = struct.pack("!HHIIBBHHH", sp + i * step, dp, 1000 + i * pl, 1,
                      5 << 4, 0x18, 65535, 0, 0)
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 40 + pl, i & 0xffff, 0, 64, 6,
                     0, socket.inet_aton(sip), socket.inet_aton(dip))
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    s.send(mac(dmac) + mac(smac) + b"\x08\x00" + ip + tcp + b"x" * pl)
'

PINS=$(mktemp -d /tmp/np-live.XXXXXX)
t_cleanup "rmdir $PINS"
mount -t bpf bpf "$PINS" || { t_begin live; t_fail "cannot mount bpffs"; t_done; }
t_cleanup "umount $PINS"
WORK=$(mktemp -d)
t_cleanup "rm -rf $WORK"

NS=
MODE=
PIN=
RUN_PID=

# A fresh namespace per mode: va (nbdpath) <-> vb (injector). No IPv6 and
# no addresses, so the kernel itself sends nothing and counts are exact.
setup_ns() {
	t_netns NS || return 1
	ip -n "$NS" link add va type veth peer name vb || return 1
	# (a kernel without IPv6 has nothing to disable)
	ip netns exec "$NS" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
		net.ipv6.conf.default.disable_ipv6=1 2>/dev/null
	ip -n "$NS" link set va up && ip -n "$NS" link set vb up
}

nb() { ip netns exec "$NS" "$NP" "$@"; }

# from CPU $CPU (default 0): the flow table is per CPU
inject() {
	ip netns exec "$NS" taskset -c "${CPU:-0}" python3 -c "$INJ_PY" vb "$@"
}

CPUS=$(python3 -c 'import os; print(*sorted(os.sched_getaffinity(0)))')

xdp_attached() { ip -n "$NS" link show dev va | grep -q 'xdp'; }

# start_run OUT ARGS...: run in the background, wait until it answers queries
start_run() {
	local out=$1 i
	shift
	ip netns exec "$NS" "$NP" run -i va --mode "$MODE" --pin-dir "$PIN" \
		"$@" >"$out" 2>"$out.err" &
	RUN_PID=$!
	t_cleanup "kill -9 $RUN_PID"
	wait_up nb || { cat "$out.err" >>"$_t_log"; return 1; }
}

# wait_up CMD...: until `CMD stats` answers on $PIN while RUN_PID lives (5 s)
wait_up() {
	local i
	for ((i = 0; i < 100; i++)); do
		if ! kill -0 "$RUN_PID" 2>/dev/null; then
			echo "run exited early:" >>"$_t_log"
			return 1
		fi
		"$@" stats --pin-dir "$PIN" >/dev/null 2>&1 && return 0
		sleep 0.05
	done
	echo "run did not come up" >>"$_t_log"
	return 1
}

# wait_run: until RUN_PID ends (5 s), its exit code in STOP_RC
wait_run() {
	local i
	for ((i = 0; i < 100; i++)); do
		kill -0 "$RUN_PID" 2>/dev/null || break
		sleep 0.05
	done
	wait "$RUN_PID"
	STOP_RC=$?
}

# stop_run: SIGTERM, the exit code in STOP_RC
stop_run() {
	kill -TERM "$RUN_PID" 2>/dev/null
	wait_run
}

# wait_matched N [CMD...]: until `CMD stats --json` (nb) counts N matched
# frames (5 s)
wait_matched() {
	local i j n=$1
	shift
	(($#)) || set -- nb
	for ((i = 0; i < 100; i++)); do
		j=$("$@" stats --pin-dir "$PIN" --json 2>/dev/null)
		[[ -n $j ]] && jcheck -q "$j" "j['stats']['matched'] == $n" True && return 0
		sleep 0.05
	done
	echo "matched never reached $n: $j" >>"$_t_log"
	return 1
}

no_pins() {
	local f
	for f in np_meta np_flows np_stats np_neigh np_names np_retired; do
		if [[ -e $PIN/$f ]]; then
			echo "$PIN/$f is left" >>"$_t_log"
			return 1
		fi
	done
}

# ---- the cases ----

test_count_exact() {
	local out=$WORK/count.json j
	start_run "$out" --json --interval 0.5 || return 1
	inject 20 "$MAC_RUBRIK" "$MAC_VMK0" "$IP_RUBRIK" "$IP_ESX" "$CLIENT_PORT" "$NBD_PORT" 100 || return 1
	inject 7 "$MAC_VMK4" "$MAC_RUBRIK" "$IP_ESX" "$IP_RUBRIK" "$NBD_PORT" "$CLIENT_PORT" 1000 || return 1
	wait_matched 27 || return 1
	j=$(nb stats --pin-dir "$PIN" --json) || return 1
	t_expect packets "$(jget "$j" "j['stats']['packets']")" 27 || return 1
	t_expect flows "$(jget "$j" "j['stats']['flows']")" 1 || return 1
	j=$(nb flows --pin-dir "$PIN" --json) || return 1
	t_expect n_flows "$(jget "$j" "len(j['flows'])")" 1 || return 1
	t_expect verdict "$(jget "$j" "j['flows'][0]['verdict']")" asymmetric || return 1
	t_expect to_pkts "$(jget "$j" "j['flows'][0]['to_server']['packets']")" 20 || return 1
	t_expect to_bytes "$(jget "$j" "j['flows'][0]['to_server']['bytes']")" $((20 * 140)) || return 1
	t_expect to_payload "$(jget "$j" "j['flows'][0]['to_server']['payload_bytes']")" 2000 || return 1
	t_expect from_pkts "$(jget "$j" "j['flows'][0]['from_server']['packets']")" 7 || return 1
	t_expect from_bytes "$(jget "$j" "j['flows'][0]['from_server']['bytes']")" $((7 * 1040)) || return 1
	t_expect server "$(jget "$j" "j['flows'][0]['server']"):$(jget "$j" "j['flows'][0]['server_port']")" "$IP_ESX:$NBD_PORT" || return 1
	j=$(nb hosts --pin-dir "$PIN" --json) || return 1
	t_expect host_rx "$(jget "$j" "[(m['mac'], m['packets'], m['bytes']) for m in j['hosts'][0]['rx']]")" \
		"[('$MAC_VMK0', 20, 2800)]" || return 1
	t_expect host_tx "$(jget "$j" "[(m['mac'], m['packets'], m['bytes']) for m in j['hosts'][0]['tx']]")" \
		"[('$MAC_VMK4', 7, 7280)]" || return 1
	# from another network namespace (here the test's own), where va's
	# ifindex is some other device or none: the run's names still
	j=$("$NP" flows --pin-dir "$PIN" --json) || return 1
	t_expect "mirror NIC from outside" \
		"$(jget "$j" "(j['source']['interfaces'], j['flows'][0]['to_server']['mirror'], j['flows'][0]['from_server']['mirror'])")" \
		"(['va'], 'va', 'va')" || return 1
	stop_run
	t_expect "run exit" "$STOP_RC" 0
}

# The queries and the run's own last JSON line describe the same maps.
test_query_agrees() {
	local out=$WORK/agree.json i last q k
	start_run "$out" --json --interval 0.3 || return 1
	inject 12 "$MAC_RUBRIK" "$MAC_VMK0" "$IP_RUBRIK" "$IP_ESX" 40000 "$NBD_PORT" 200 || return 1
	inject 5 "$MAC_VMK4" "$MAC_RUBRIK" "$IP_ESX" "$IP_RUBRIK" "$NBD_PORT" 40000 1400 || return 1
	wait_matched 17 || return 1
	# two more intervals: the last line was read after the last frame
	n=$(wc -l <"$out")
	for ((i = 0; i < 60; i++)); do
		(($(wc -l <"$out") >= n + 2)) && break
		sleep 0.05
	done
	last=$(tail -n 1 "$out")
	for k in hosts flows interfaces stats; do
		q=$(nb "$k" --pin-dir "$PIN" --json) || return 1
		python3 - "$last" "$q" "$k" >>"$_t_log" 2>&1 <<'EOF' || return 1
import json, sys
def strip(x):
    if isinstance(x, dict):
        return {k: strip(v) for k, v in x.items()
                if not (k.endswith("pps") or k.endswith("bps"))}
    if isinstance(x, list):
        return [strip(v) for v in x]
    return x
run, query, key = json.loads(sys.argv[1]), json.loads(sys.argv[2]), sys.argv[3]
if set(query) != {"version", "source", "time", key}:
    sys.exit("query %s has keys %s" % (key, sorted(query)))
if strip(run[key]) != strip(query[key]):
    sys.exit("%s differ:\nrun   %s\nquery %s" % (key, strip(run[key]), query[key]))
EOF
	done
	stop_run
	t_expect "run exit" "$STOP_RC" 0
}

test_sigterm() {
	start_run "$WORK/term.out" --interval 0.2 || return 1
	xdp_attached || { echo "not attached while running" >>"$_t_log"; return 1; }
	stop_run
	t_expect "exit code" "$STOP_RC" 0 || return 1
	! xdp_attached || { echo "still attached after SIGTERM" >>"$_t_log"; return 1; }
	no_pins || return 1
	grep -q HOSTS "$WORK/term.out" || { echo "no report printed" >>"$_t_log"; return 1; }
}

test_second_run() {
	local rc
	start_run "$WORK/first.out" || return 1
	nb run -i va --mode "$MODE" --pin-dir "$PIN" >/dev/null 2>"$WORK/second.err"
	rc=$?
	cat "$WORK/second.err" >>"$_t_log"
	t_expect "exit code" "$rc" 1 || return 1
	t_expect "stderr lines" "$(wc -l <"$WORK/second.err")" 1 || return 1
	grep -q "^nbdpath: another nbdpath run (pid $RUN_PID) is using $PIN" "$WORK/second.err" || return 1
	xdp_attached || { echo "the first run lost its program" >>"$_t_log"; return 1; }
	nb stats --pin-dir "$PIN" >/dev/null || return 1
	stop_run
	t_expect "first run exit" "$STOP_RC" 0
}

test_kill9() {
	local i j
	start_run "$WORK/k9.out" || return 1
	kill -9 "$RUN_PID"
	wait "$RUN_PID" 2>/dev/null
	for ((i = 0; i < 20; i++)); do
		xdp_attached || break
		sleep 0.05
	done
	! xdp_attached || { echo "still attached 1 s after kill -9" >>"$_t_log"; return 1; }
	# the pins stay behind; a query calls them stale, a new run clears them
	nb hosts --pin-dir "$PIN" >/dev/null 2>>"$_t_log"
	t_expect "query on stale pins" "$?" 4 || return 1
	start_run "$WORK/k9b.out" --json --interval 0.3 || return 1
	xdp_attached || return 1
	inject 3 "$MAC_RUBRIK" "$MAC_VMK0" "$IP_RUBRIK" "$IP_ESX" 41000 "$NBD_PORT" 10 || return 1
	wait_matched 3 || return 1
	stop_run
	t_expect "restart exit" "$STOP_RC" 0 || return 1
	no_pins
}

test_foreign_prog() {
	local obj=$NP_BUILD/xdp_pass.bpf.o rc flag
	[[ $MODE == native ]] && flag=xdpdrv || flag=xdpgeneric
	ip -n "$NS" link set dev va "$flag" obj "$obj" sec xdp 2>>"$_t_log" || return 1
	nb run -i va --mode "$MODE" --pin-dir "$PIN" >/dev/null 2>"$WORK/foreign.err"
	rc=$?
	cat "$WORK/foreign.err" >>"$_t_log"
	t_expect "run exit" "$rc" 1 || return 1
	t_expect "stderr lines" "$(wc -l <"$WORK/foreign.err")" 1 || return 1
	grep -q "^nbdpath: va already has XDP program 'other_xdp' (id [0-9]*) attached" "$WORK/foreign.err" || return 1
	ip -n "$NS" link show dev va | grep -q other_xdp || { echo "the foreign program was removed" >>"$_t_log"; return 1; }
	no_pins || return 1
	nb detach -i va 2>>"$_t_log"
	t_expect "detach exit" "$?" 1 || return 1
	ip -n "$NS" link show dev va | grep -q other_xdp || { echo "detach removed the foreign program" >>"$_t_log"; return 1; }
	ip -n "$NS" link set dev va "$flag" off
}

# An nbdpath program attached without a link (netlink, as an older tool
# would): run refuses it, detach removes it.
test_detach_left_behind() {
	local prog=$PINS/left_prog rc flag
	[[ $MODE == native ]] && flag=xdpdrv || flag=xdpgeneric
	t_cleanup "rm -f $prog"
	bpftool prog load "$NP_BUILD/nbdpath.bpf.o" "$prog" 2>>"$_t_log" || return 1
	ip netns exec "$NS" bpftool net attach "$flag" pinned "$prog" dev va 2>>"$_t_log" || return 1
	rm -f "$prog"
	nb run -i va --mode "$MODE" --pin-dir "$PIN" >/dev/null 2>"$WORK/left.err"
	rc=$?
	cat "$WORK/left.err" >>"$_t_log"
	t_expect "run exit" "$rc" 1 || return 1
	grep -q "nbdpath detach -i va" "$WORK/left.err" || return 1
	nb detach -i va >>"$_t_log" 2>&1
	t_expect "detach exit" "$?" 0 || return 1
	! xdp_attached || { echo "still attached after detach" >>"$_t_log"; return 1; }
	nb detach -i va 2>>"$_t_log"
	t_expect "detach of nothing" "$?" 4
}

test_status() {
	local j
	start_run "$WORK/status.out" || return 1
	j=$(nb status --pin-dir "$PIN" --json) || return 1
	echo "$j" >>"$_t_log"
	jcheck "$j" "j['instance']['pid'] == $RUN_PID and j['instance']['running']" True || return 1
	jcheck "$j" "[(a['interface'], a['mode'], a['prog_name'], a['pid']) for a in j['attached']] == [('va', '$MODE', 'nbdpath_xdp', $RUN_PID)]" True || return 1
	nb status --pin-dir "$PIN" >>"$_t_log" || return 1
	stop_run
	t_expect "run exit" "$STOP_RC" 0 || return 1
	nb status --pin-dir "$PIN" >/dev/null 2>>"$_t_log"
	t_expect "status with nothing" "$?" 4
}

# Pins are root-only by default; --pin-mode 0644 lets anyone query.
test_query_permissions() {
	local nobody=(setpriv --reuid=nobody --regid=nogroup --clear-groups
		      --inh-caps=-all --bounding-set=-all) rc
	start_run "$WORK/perm.out" || return 1
	ip netns exec "$NS" "${nobody[@]}" "$NP" flows --pin-dir "$PIN" \
		>/dev/null 2>"$WORK/perm.err"
	rc=$?
	cat "$WORK/perm.err" >>"$_t_log"
	t_expect "unprivileged query exit" "$rc" 1 || return 1
	t_expect "stderr lines" "$(wc -l <"$WORK/perm.err")" 1 || return 1
	grep -q "^nbdpath: cannot open $PIN/np_meta: .*read permission" "$WORK/perm.err" || return 1
	stop_run
	t_expect "run exit" "$STOP_RC" 0 || return 1
	start_run "$WORK/perm.out" --pin-mode 0644 || return 1
	inject 2 "$MAC_RUBRIK" "$MAC_VMK0" "$IP_RUBRIK" "$IP_ESX" 46000 "$NBD_PORT" 10 || return 1
	wait_matched 2 || return 1
	ip netns exec "$NS" "${nobody[@]}" "$NP" flows --json --pin-dir "$PIN" \
		>"$WORK/perm.json" 2>"$WORK/perm.err"
	rc=$?
	cat "$WORK/perm.err" >>"$_t_log"
	if ((rc == 1)) && grep -q CAP_BPF "$WORK/perm.err"; then
		# kernels before 6.x refuse bpf() to unprivileged users
		echo "this kernel allows no unprivileged bpf(); 0644 cannot help" >>"$_t_log"
	else
		t_expect "query exit with --pin-mode 0644" "$rc" 0 || return 1
		jcheck "$(cat "$WORK/perm.json")" "j['flows'][0]['to_server']['packets'] == 2" True || return 1
	fi
	stop_run
	t_expect "run exit" "$STOP_RC" 0
}

# vmk0 receives the requests, vmk4 sends the data: the names show up.
test_vmk_file() {
	local file=$NP_TOP/tests/data/$1 j
	[[ -r $file ]] || { echo "no fixture $file" >>"$_t_log"; return 1; }
	start_run "$WORK/vmk.out" --vmk-file "$file" || return 1
	inject 4 "$MAC_RUBRIK" "$MAC_VMK0" "$IP_RUBRIK" "$IP_ESX" 42000 "$NBD_PORT" 100 || return 1
	inject 2 "$MAC_VMK4" "$MAC_RUBRIK" "$IP_ESX" "$IP_RUBRIK" "$NBD_PORT" 42000 1000 || return 1
	wait_matched 6 || return 1
	j=$(nb hosts --pin-dir "$PIN" --json) || return 1
	echo "$j" >>"$_t_log"
	jcheck "$j" "j['hosts'][0]['verdict'] == 'asymmetric'" True || return 1
	jcheck "$j" "[m['interface'] for m in j['hosts'][0]['rx']] == ['vmk0']" True || return 1
	jcheck "$j" "[m['interface'] for m in j['hosts'][0]['tx']] == ['vmk4']" True || return 1
	j=$(nb interfaces --pin-dir "$PIN" --json) || return 1
	jcheck "$j" "sorted(i['interface'] for i in j['interfaces']) == ['vmk0', 'vmk4']" True || return 1
	j=$(nb flows --pin-dir "$PIN" --json) || return 1
	jcheck "$j" "j['flows'][0]['to_server']['interface'] == 'vmk0' and j['flows'][0]['from_server']['interface'] == 'vmk4'" True || return 1
	stop_run
	t_expect "run exit" "$STOP_RC" 0
}

# An idle flow leaves the flow list; its counts stay in the host and
# interface totals. With 24 slots per CPU (--max-flows 5: two buckets of
# 8 and the stash, the smallest table), 24 new flows then make the
# program reclaim idle slots: the loader must have moved their counts.
# Which CPU handles a frame is the kernel's choice, so the new flows come
# from every CPU, and the number of reclaims is checked against the
# program's own count of them rather than guessed.
test_idle_expiry() {
	local j i c n=0 k=24
	start_run "$WORK/idle.out" --idle-timeout 3 --interval 1 --max-flows 5 || return 1
	inject $k "$MAC_RUBRIK" "$MAC_VMK0" "$IP_RUBRIK" "$IP_ESX" 43000 "$NBD_PORT" 100 1 || return 1
	wait_matched $k || return 1
	j=$(nb flows --pin-dir "$PIN" --json) || return 1
	t_expect "flows listed" "$(jget "$j" "len(j['flows'])")" $k || return 1
	# idle: still listed, finished, their last packet the end
	for ((i = 0; i < 60; i++)); do
		j=$(nb flows --pin-dir "$PIN" --json) || return 1
		jcheck -q "$j" "all(f['state'] == 'idle' for f in j['flows'])" True && break
		sleep 0.1
	done
	t_expect "flows after idle" \
		"$(jget "$j" "(len(j['flows']), sorted(set((f['state'], f['ended'] == f['last_seen']) for f in j['flows'])))")" \
		"($k, [('idle', True)])" || return 1
	j=$(nb hosts --pin-dir "$PIN" --json) || return 1
	t_expect "host rx after idle" "$(jget "$j" "[(m['packets'], m['bytes']) for m in j['hosts'][0]['rx']]")" \
		"[($k, $((k * 140)))]" || return 1
	j=$(nb interfaces --pin-dir "$PIN" --json) || return 1
	t_expect "vmk0 rx after idle" "$(jget "$j" "[(i['rx_packets'], i['rx_bytes']) for i in j['interfaces']]")" \
		"[($k, $((k * 140)))]" || return 1
	# new flows take over the idle slots
	for c in $CPUS; do
		CPU=$c inject $k "$MAC_RUBRIK" "$MAC_VMK0" "$IP_RUBRIK" "$IP_ESX" 44000 "$NBD_PORT" 100 1 || return 1
		n=$((n + k))
	done
	wait_matched $((k + n)) || return 1
	sleep 1.5	# a poll after the reclaims
	j=$(nb flows --pin-dir "$PIN" --json) || return 1
	# the reclaimed flows keep their records, after the active ones
	t_expect "new flows listed" \
		"$(jget "$j" "(sorted(f['client_port'] for f in j['flows'][:$k] if f['state'] == 'active') == list(range(44000, 44000 + $k)), sorted(f['client_port'] for f in j['flows'][$k:] if f['state'] == 'idle') == list(range(43000, 43000 + $k)), len(j['flows']))")" \
		"(True, True, $((2 * k)))" || return 1
	j=$(nb hosts --pin-dir "$PIN" --json) || return 1
	t_expect "host rx after reclaim" "$(jget "$j" "[(m['packets'], m['bytes']) for m in j['hosts'][0]['rx']]")" \
		"[($((k + n)), $(((k + n) * 140)))]" || return 1
	j=$(nb stats --pin-dir "$PIN" --json) || return 1
	echo "$j" >>"$_t_log"
	jcheck "$j" "j['stats']['reclaimed'] >= 1" True || return 1
	# 2k connections, every one listed: active, or finished
	t_expect "flows, flows_evicted" \
		"$(jget "$j" "(j['stats']['flows'], j['stats']['flows_evicted'])")" "($((2 * k)), 0)" || return 1
	stop_run
	t_expect "run exit" "$STOP_RC" 0
}

test_duration() {
	local rc n
	nb run -i va --mode "$MODE" --pin-dir "$PIN" --json --interval 0.2 \
		--duration 1 >"$WORK/dur.out" 2>>"$_t_log"
	rc=$?
	t_expect "exit code" "$rc" 0 || return 1
	n=$(wc -l <"$WORK/dur.out")
	t_expect "reports in 1 s at 0.2 s" "$n" 5 || return 1
	jcheck "$(tail -n 1 "$WORK/dur.out")" "j['source']['kind'] == 'run' and 'interval' in j" True || return 1
	! xdp_attached && no_pins
}

# The default pin dir under `ip netns exec`: /sys is a fresh sysfs there,
# with no bpffs on /sys/fs/bpf until run mounts one.
test_default_pin_dir() {
	nb run -i va --mode "$MODE" --duration 0.3 >/dev/null 2>>"$_t_log"
	t_expect "exit code" "$?" 0 || return 1
	! xdp_attached
}

# A pin dir on no bpffs, in a directory with files in it: run makes it,
# mounts a bpffs on it alone, and takes both away when it ends. In the
# netns by nsenter, not `ip netns exec`, whose private mounts no query
# from another shell would see.
test_pin_dir_elsewhere() {
	local ne=(nsenter "--net=/run/netns/$NS")
	PIN=$WORK/deep/er/pins
	"${ne[@]}" "$NP" run -i va --mode "$MODE" --pin-dir "$PIN" \
		--interval 0.2 >"$WORK/else.out" 2>"$WORK/else.err" &
	RUN_PID=$!
	t_cleanup "kill -9 $RUN_PID"
	wait_up "$NP" || { cat "$WORK/else.err" >>"$_t_log"; return 1; }
	mountpoint -q "$PIN" || { echo "no bpffs on $PIN" >>"$_t_log"; return 1; }
	inject 3 "$MAC_RUBRIK" "$MAC_VMK0" "$IP_RUBRIK" "$IP_ESX" 47000 "$NBD_PORT" 10 || return 1
	wait_matched 3 "$NP" || return 1
	[[ -e $WORK/count.json ]] || { echo "the files beside it are gone" >>"$_t_log"; return 1; }
	stop_run
	cat "$WORK/else.err" >>"$_t_log"
	t_expect "run exit" "$STOP_RC" 0 || return 1
	! mountpoint -q "$PIN" 2>/dev/null || { echo "the bpffs is left on $PIN" >>"$_t_log"; return 1; }
	[[ ! -e $WORK/deep ]] || { echo "$WORK/deep is left" >>"$_t_log"; return 1; }
}

# The mirror NIC deleted under a live run: said once, and with nothing
# left attached the run stops (exit 1) after a last report, its pins gone.
test_nic_removed() {
	ip -n "$NS" link add vc type veth peer name vd || return 1
	ip netns exec "$NS" ethtool -K vc rxvlan off rx-vlan-stag-hw-parse off >/dev/null 2>&1
	ip -n "$NS" link set vc up && ip -n "$NS" link set vd up || return 1
	ip netns exec "$NS" "$NP" run -i vc --mode "$MODE" --pin-dir "$PIN" \
		--interval 0.2 >"$WORK/gone.out" 2>"$WORK/gone.err" &
	RUN_PID=$!
	t_cleanup "kill -9 $RUN_PID"
	wait_up nb || { cat "$WORK/gone.err" >>"$_t_log"; return 1; }
	ip -n "$NS" link del vc || return 1
	wait_run
	cat "$WORK/gone.err" >>"$_t_log"
	t_expect "exit code" "$STOP_RC" 1 || return 1
	t_expect "stderr" "$(cat "$WORK/gone.err")" \
		"nbdpath: warning: vc: the XDP program is no longer attached (the NIC was removed or moved, or 'nbdpath detach' ran); its frames are not counted from now on
nbdpath: no interface left attached; start 'nbdpath run' again once the mirror NIC is back" || return 1
	no_pins
}

# A mirror NIC that is down: one warning, and the run goes on.
test_nic_down() {
	ip -n "$NS" link add vc type veth peer name vd || return 1
	ip netns exec "$NS" ethtool -K vc rxvlan off rx-vlan-stag-hw-parse off >/dev/null 2>&1
	nb run -i vc --mode "$MODE" --pin-dir "$PIN" --duration 0.3 \
		>/dev/null 2>"$WORK/down.err"
	t_expect "exit code" "$?" 0 || { cat "$WORK/down.err" >>"$_t_log"; return 1; }
	ip -n "$NS" link del vc
	t_expect "stderr" "$(cat "$WORK/down.err")" \
		"nbdpath: warning: vc is down, so it receives nothing; bring it up with 'ip link set vc up'"
}

# http_get URL: the status code on the first line, then the body
http_get() {
	ip netns exec "$NS" python3 -c 'import sys, urllib.request, urllib.error
try:
    # never through an http_proxy of the environment
    op = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    r = op.open(sys.argv[1], timeout=5)
    code, body = r.status, r.read()
except urllib.error.HTTPError as e:
    code, body = e.code, e.read()
print(code)
sys.stdout.write(body.decode())' "$1" 2>>"$_t_log"
}

test_metrics() {
	local port=$((20000 + RANDOM % 20000)) body i
	ip -n "$NS" link set lo up
	start_run "$WORK/metrics.out" --metrics "127.0.0.1:$port" --interval 0.2 || return 1
	inject 3 "$MAC_RUBRIK" "$MAC_VMK0" "$IP_RUBRIK" "$IP_ESX" 45000 "$NBD_PORT" 100 || return 1
	wait_matched 3 || return 1
	# the series are the last poll's: the next one may be a while
	# coming on a loaded machine (5 s)
	for ((i = 0; i < 25; i++)); do
		body=$(http_get "http://127.0.0.1:$port/metrics") || return 1
		grep -q '^nbdpath_frames_total{outcome="matched"} 3$' <<<"$body" && break
		sleep 0.2
	done
	t_expect "status" "$(head -n 1 <<<"$body")" 200 || return 1
	grep -q '^nbdpath_frames_total{outcome="matched"} 3$' <<<"$body" || { echo "$body" >>"$_t_log"; return 1; }
	body=$(http_get "http://127.0.0.1:$port/nope") || return 1
	t_expect "404 elsewhere" "$(head -n 1 <<<"$body")" 404 || return 1
	stop_run
	t_expect "run exit" "$STOP_RC" 0
}

# ---- run them ----

run_case() {
	local name=$1
	shift
	t_begin "${name}_$MODE"
	PIN=$PINS/$name-$MODE
	if "$@" && ! xdp_attached; then
		t_ok
	else
		# a run the case did not stop may hold the link: end it first
		if [[ -n $RUN_PID ]] && kill -9 "$RUN_PID" 2>/dev/null; then
			wait "$RUN_PID" 2>/dev/null
			echo "(the run was still going; killed)" >>"$_t_log"
		fi
		xdp_attached && echo "va left with a program attached" >>"$_t_log"
		ip -n "$NS" link set dev va xdpgeneric off 2>/dev/null
		ip -n "$NS" link set dev va xdpdrv off 2>/dev/null
		t_fail
	fi
	RUN_PID=
}

for MODE in generic native; do
	if ! setup_ns; then
		t_begin "setup_$MODE"
		t_fail "cannot create the netns and veth pair"
		continue
	fi
	run_case count_exact test_count_exact
	run_case query_agrees test_query_agrees
	run_case sigterm test_sigterm
	run_case second_run test_second_run
	run_case kill9 test_kill9
	if [[ -f $NP_BUILD/xdp_pass.bpf.o ]]; then
		run_case foreign_prog test_foreign_prog
	else
		t_begin "foreign_prog_$MODE"
		t_fail "$NP_BUILD/xdp_pass.bpf.o is missing: run make check"
	fi
	run_case detach_left_behind test_detach_left_behind
	run_case status test_status
	run_case query_permissions test_query_permissions
	run_case vmk_file_esxcfg test_vmk_file esxcfg-vmknic.txt
	run_case vmk_file_esxcli test_vmk_file esxcli-interface-list.txt
	run_case idle_expiry test_idle_expiry
	run_case duration test_duration
	run_case default_pin_dir test_default_pin_dir
	run_case pin_dir_elsewhere test_pin_dir_elsewhere
	run_case nic_removed test_nic_removed
	run_case nic_down test_nic_down
	run_case metrics test_metrics
done
t_done
