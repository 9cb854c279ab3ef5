#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# t_lab_health.sh - TCP health on the seed's lab (scripts/lab.sh) with real
# TCP, a lossy leg and a firewalled one. esx1's replies leave by vmk4 and
# cross the switch to the backup nodes; a tc BPF program on the switch's
# node ports (tests/tc_drop.bpf.c, egress: after the mirror copied the
# frame where it entered the switch) plays the bad path:
#   loss      every 20th data segment from port 902 dropped: nbdpath's
#             from_server retransmits of esx1 equal the segments esx1's
#             kernel retransmitted (TcpRetransSegs of its namespace, TSO
#             and GSO off so that a frame is a segment), the request
#             direction's equal the nodes' (none expected), all under
#             vmk4; every handshake established; nbdpath replay of a
#             capture of the mirror (tcpdump on the switch's mirror port)
#             gives the same counts, and so does the rule applied to
#             tshark's dissection of it (tcp.seq_raw, tcp.len per stream).
#             tshark's own tcp.analysis flags differ by definition: a
#             segment below the highest sequence seen that comes within
#             its out-of-order threshold (about an RTT, microseconds on
#             veth) of the previous one is "out_of_order" to tshark, not a
#             retransmission; its retransmission + fast_retransmission +
#             spurious_retransmission count is logged, not compared;
#   firewall  every SYN-ACK dropped: every connection no_ack, its SYN-ACK
#             by vmk4's MAC, and the host names vmk4 for them.
set -euo pipefail

# shellcheck source=tests/lib.sh
source "$(dirname "$0")/lib.sh"
cd "$NP_TOP"
unset LAB_DIR LAB_PREFIX
LAB=$NP_TOP/scripts/lab.sh
TRAFFIC=$NP_BUILD/nbdtraffic
DROP=$NP_BUILD/tc_drop.bpf.o
PFX=nbdh$$
trap 'exit 130' INT TERM

t_need_root "lab TCP health" "network namespaces, XDP, tc"
t_need_tools "lab TCP health" tc nstat ethtool python3 tcpdump tshark
t_need_file "lab TCP health" "$TRAFFIC"
[[ -f $DROP ]] || { t_begin "lab TCP health"; t_fail "$DROP is missing: run make check"; t_done; }

WORK=$(mktemp -d /tmp/nbdh.XXXXXX)
if [[ ${NP_KEEP:-0} == 1 ]]; then
	t_cleanup "echo 't_lab_health.sh: work directory kept in $WORK' >&2"
else
	t_cleanup "rm -rf $WORK"
fi
t_cleanup "$LAB down --prefix $PFX"
# shellcheck disable=SC2016 # expanded when the cleanup runs
t_cleanup 'kill $(jobs -p)'

if ! out=$("$LAB" up --prefix "$PFX" 2>&1); then
	t_begin "lab up"
	t_log echo "$out"
	t_fail "scripts/lab.sh up failed"
	t_done
fi
eval "$("$LAB" env --prefix "$PFX")"
VMK_FILE=$ESX1_VMKNIC_FILE
for d in vmk0 vmk4; do
	ip netns exec "$NS_ESX1" ethtool -K "$d" tso off gso off >/dev/null 2>&1
done
for ns in "$NS_NODE1" "$NS_NODE2"; do
	ip netns exec "$ns" ethtool -K eth0 tso off gso off >/dev/null 2>&1
done

# drop SECTION: the tc program on the switch's ports toward the nodes
drop() {
	local p
	for p in node1 node2; do
		tc -n "$NS_SW" qdisc replace dev "$p" clsact
		tc -n "$NS_SW" filter del dev "$p" egress 2>/dev/null || true
		tc -n "$NS_SW" filter add dev "$p" egress prio 1 bpf da \
			obj "$DROP" sec "$1"
	done
}

np_start() { # TAG
	ip netns exec "$NS_SENSOR" "$NP" run -i "$SENSOR_IF" --vmk-file "$VMK_FILE" \
		--interval 1 --duration 120 --json >"$WORK/$1.json" 2>"$WORK/$1.err" &
	NP_PID=$!
	for ((i = 0; i < 100; i++)); do
		ip -n "$NS_SENSOR" link show dev "$SENSOR_IF" | grep -q 'prog/xdp' && return 0
		kill -0 "$NP_PID" 2>/dev/null || break
		sleep 0.05
	done
	t_log cat "$WORK/$1.err"
	return 1
}

np_stop() { # TAG
	kill -INT "$NP_PID"
	wait "$NP_PID" || { t_log cat "$WORK/$1.err"; return 1; }
	tail -n 1 "$WORK/$1.json" >"$WORK/$1.last"
	[[ -s $WORK/$1.last ]]
}

# Segments carrying sequence space already seen, per stream, from tshark's
# fields (stream, raw sequence number, payload, SYN, FIN, RST): the rule of
# nbdpath(8), TCP HEALTH, for a capture without gaps.
SEQ_RULE='
import sys
nxt, n = {}, 0
on = ("1", "True")
for line in sys.stdin:
    st, seq, ln, syn, fin, rst = line.rstrip("\n").split("\t")
    if rst in on:
        continue
    seq, ln = int(seq), int(ln) + (syn in on) + (fin in on)
    end = (seq + ln) & 0xffffffff
    if st not in nxt:
        nxt[st] = end
    elif ln and (seq - nxt[st]) & 0xffffffff >= 1 << 31:
        n += 1
        if (end - nxt[st]) & 0xffffffff < 1 << 31:
            nxt[st] = end
    elif ln:
        nxt[st] = end
print(n)
'

retrans() { # NS: segments its kernel retransmitted (the namespace's own MIB)
	ip netns exec "$1" nstat -asz TcpRetransSegs | awk '$1 == "TcpRetransSegs" { print $2 }'
}

# ---- loss on vmk4's leg
# The sequence state is kept per CPU (nbdpath(8), TCP HEALTH), and a veth
# receives a frame on the CPU that sent it: a retransmission its timer
# sent from the other CPU would start that CPU's state, not count. The
# traffic on one CPU keeps each direction on one CPU, as a NIC's RSS does;
# and timers stay on the CPU that armed them (by default an idle CPU's
# are run by a busy one).
one_cpu=(taskset -c "$(taskset -pc $$ | sed 's/.*: *//; s/[-,].*//')")
if [[ -w /proc/sys/kernel/timer_migration ]]; then
	t_cleanup "echo $(cat /proc/sys/kernel/timer_migration) >/proc/sys/kernel/timer_migration"
	echo 0 >/proc/sys/kernel/timer_migration
fi
t_group "loss: from_server retransmits equal the kernel's, all by vmk4"
drop tc/data
if ! t_capture_start "$NS_SW" "$SW_MIRROR_IF" "$WORK/loss.pcap"; then
	t_bad "no capture"
elif np_start loss; then
	rm -f "$WORK/srv.ready"
	ip netns exec "$NS_ESX1" "${one_cpu[@]}" "$TRAFFIC" serve --conns 3 --timeout 60 \
		--ready-file "$WORK/srv.ready" >"$WORK/srv.out" 2>"$WORK/srv.err" &
	srv=$!
	if t_wait_file "$WORK/srv.ready"; then
		ip netns exec "$NS_NODE1" "${one_cpu[@]}" "$TRAFFIC" fetch --host "$ESX1_VMK0_IP" --conns 2 \
			--requests 10 --reply-size 256k --timeout 60 >"$WORK/n1.out" 2>"$WORK/n1.err" &
		c1=$!
		ip netns exec "$NS_NODE2" "${one_cpu[@]}" "$TRAFFIC" fetch --host "$ESX1_VMK0_IP" --conns 1 \
			--requests 10 --reply-size 256k --timeout 60 >"$WORK/n2.out" 2>"$WORK/n2.err" &
		c2=$!
		wait "$c1" || t_bad "node1's client failed: $(cat "$WORK/n1.err")"
		wait "$c2" || t_bad "node2's client failed: $(cat "$WORK/n2.err")"
	else
		t_bad "server not ready: $(cat "$WORK/srv.err")"
	fi
	wait "$srv" || t_bad "server failed: $(cat "$WORK/srv.err")"
	sleep 1.5	# one more poll after the last frame
	t_capture_stop "$WORK/loss.pcap" >>"$WORK/cap.err" || t_bad "capture: $(cat "$WORK/cap.err")"
	if np_stop loss; then
		esx=$(retrans "$NS_ESX1")
		nodes=$(($(retrans "$NS_NODE1") + $(retrans "$NS_NODE2")))
		t_log echo "kernel: esx1 retransmitted $esx segments, the nodes $nodes"
		t_log jget "$WORK/loss.last" "host('$ESX1_VMK0_IP')['tcp_health']"
		((esx > 0)) || t_bad "no segment retransmitted: was anything dropped?"
		jcheck "$WORK/loss.last" \
			"host('$ESX1_VMK0_IP')['tcp_health']['from_server']['retransmits']" "$esx" \
			"host('$ESX1_VMK0_IP')['tcp_health']['to_server']['retransmits']" "$nodes" \
			"[m['interface'] for m in host('$ESX1_VMK0_IP')['tx'] if m['retransmits']]" "['vmk4']" \
			"host('$ESX1_VMK0_IP')['tcp_health']['handshakes']" \
			"{'established': 3, 'no_synack': 0, 'no_ack': 0, 'unseen': 0}" \
			"sum(f['from_server']['retransmits'] for f in j['flows'] if f['server'] == '$ESX1_VMK0_IP')" "$esx" \
			"sorted(f['handshake']['synack_mac'] for f in j['flows'] if f['server'] == '$ESX1_VMK0_IP')" \
			"['$ESX1_VMK4_MAC'] * 3" ||
			T_CF=$((T_CF + 1))
		# the capture, replayed: the same counts
		if "$NP" replay "$WORK/loss.pcap" --json --vmk-file "$VMK_FILE" \
			>"$WORK/replay.json" 2>"$WORK/replay.err"; then
			# RTTs aside: the capture's clock is finer than the live one
			health="{k: v for k, v in host('$ESX1_VMK0_IP')['tcp_health'].items() if k != 'handshake_rtt'}"
			jcheck "$WORK/replay.json" "$health" \
				"$(jget "$WORK/loss.last" "$health")" ||
				T_CF=$((T_CF + 1))
		else
			t_bad "replay failed: $(cat "$WORK/replay.err")"
		fi
		# the rule over tshark's dissection of the capture
		ts=$(tshark -r "$WORK/loss.pcap" -Y 'tcp.srcport == 902' -T fields \
			-e tcp.stream -e tcp.seq_raw -e tcp.len -e tcp.flags.syn \
			-e tcp.flags.fin -e tcp.flags.reset 2>/dev/null |
			python3 -c "$SEQ_RULE")
		t_check "the capture's retransmissions from port 902" "$ts" "$esx"
		t_log echo "tshark's flags: $(tshark -r "$WORK/loss.pcap" -Y 'tcp.srcport == 902 && (tcp.analysis.retransmission || tcp.analysis.fast_retransmission || tcp.analysis.spurious_retransmission)' 2>/dev/null | wc -l) retransmissions, $(tshark -r "$WORK/loss.pcap" -Y 'tcp.srcport == 902 && tcp.analysis.out_of_order' 2>/dev/null | wc -l) out of order"
	else
		t_bad "nbdpath run did not stop cleanly"
	fi
else
	t_bad "nbdpath run did not attach"
fi
t_capture_kill
t_group_end

# ---- a firewall on vmk4's leg that drops every SYN-ACK
t_group "firewall: every connection no_ack, its SYN-ACK by vmk4"
drop tc/synack
if np_start fw; then
	rm -f "$WORK/srv2.ready"
	ip netns exec "$NS_ESX1" "$TRAFFIC" serve --conns 2 --timeout 4 \
		--ready-file "$WORK/srv2.ready" >"$WORK/srv2.out" 2>"$WORK/srv2.err" &
	srv=$!
	if t_wait_file "$WORK/srv2.ready"; then
		# no SYN-ACK ever arrives: the client gives up
		if ip netns exec "$NS_NODE1" "$TRAFFIC" fetch --host "$ESX1_VMK0_IP" --conns 2 \
			--requests 1 --reply-size 1k --timeout 3 >"$WORK/fw.out" 2>"$WORK/fw.err"; then
			t_bad "the client connected through the firewall"
		fi
	else
		t_bad "server not ready: $(cat "$WORK/srv2.err")"
	fi
	wait "$srv" || true	# times out: nobody connected
	sleep 1.5
	if np_stop fw; then
		t_log jget "$WORK/fw.last" "host('$ESX1_VMK0_IP')['tcp_health']"
		jcheck "$WORK/fw.last" \
			"host('$ESX1_VMK0_IP')['tcp_health']['handshakes']" \
			"{'established': 0, 'no_synack': 0, 'no_ack': 2, 'unseen': 0}" \
			"[(u['interface'], u['count']) for u in host('$ESX1_VMK0_IP')['tcp_health']['unanswered_synacks']]" \
			"[('vmk4', 2)]" \
			"sorted((f['handshake']['state'], f['handshake']['syn_mac'], f['handshake']['synack_mac'], f['handshake']['ack']) for f in j['flows'])" \
			"[('no_ack', '$ESX1_VMK0_MAC', '$ESX1_VMK4_MAC', None)] * 2" ||
			T_CF=$((T_CF + 1))
	else
		t_bad "nbdpath run did not stop cleanly"
	fi
else
	t_bad "nbdpath run did not attach"
fi
t_group_end

t_done
