#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# IPFIX export (user/ipfix.c) read back by two real collectors: nfcapd
# (nfdump) and nfacctd (pmacct), each started on loopback in a private
# network namespace and stopped by the test. .build/ipfix_send exports
# the fixed flow set its header describes; the sums below are worked out
# from it by hand. Then bursts of 10000 and 30000 records that must all
# arrive (the exporter's rate keeps within the collector's socket
# buffer), a collector that is down, a path that cannot keep up and a
# queue that overflows: the loss is counted, said once, and nothing waits.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SEND=$NP_BUILD/ipfix_send

if ((EUID != 0)); then
	t_begin ipfix
	t_skip "needs root (network namespaces)"
	t_done
fi
for tool in nfcapd nfdump nfacctd tcpdump tshark; do
	if ! command -v $tool >/dev/null; then
		t_begin ipfix
		t_skip "$tool missing: run scripts/deps.sh"
		t_done
	fi
done

D=$(mktemp -d)
t_cleanup "rm -rf '$D'"
t_netns NS
# nfdump prints times in local time
export TZ=UTC

# wait_bound PORT [NETNS]: until something in NETNS ($NS) listens on UDP PORT
wait_bound() {
	local i
	for ((i = 0; i < 100; i++)); do
		ip netns exec "${2:-$NS}" ss -Hunl "sport = :$1" | grep -q . && return 0
		sleep 0.1
	done
	echo "nothing listens on udp port $1" >>"$_t_log"
	return 1
}

# wait_read PORT: until the collector has read every datagram queued to
# it, then a second for it to pass the last one on (nfacctd's core hands
# records to its plugins through a pipe) before it is told to stop
wait_read() {
	local i q
	for ((i = 0; i < 100; i++)); do
		q=$(ip netns exec "$NS" ss -Hunl "sport = :$1" | awk '{print $2}')
		[[ $q == 0 ]] && { sleep 1; return 0; }
		sleep 0.1
	done
	echo "udp port $1 still holds $q bytes unread" >>"$_t_log"
	return 1
}

# stop_pid PID [SIGNAL]: SIGTERM (or SIGNAL), and wait until it is gone
# (its files are then final)
stop_pid() {
	local i
	kill -"${2:-TERM}" "$1" 2>/dev/null || return 0
	for ((i = 0; i < 100; i++)); do
		kill -0 "$1" 2>/dev/null || return 0
		sleep 0.1
	done
	# nfacctd's plugins are its children: the whole group
	kill -KILL -- "-$1" 2>/dev/null || kill -KILL "$1"
}

# send ARGS...: run ipfix_send in $NS; its counters in $D/out, stderr in
# $D/err; the exit status in $rc. A timeout guards against a send that
# blocks (none should: the socket is non-blocking).
send() {
	timeout 30 ip netns exec "$NS" "$SEND" "$@" >"$D/out" 2>"$D/err"
	rc=$?
	{
		echo "\$ ipfix_send $*  (exit $rc)"
		cat "$D/out" "$D/err"
	} >>"$_t_log"
}

# counter NAME: from the last send's counters
counter() { sed -n "s/.*\<$1=\([^ ]*\).*/\1/p" "$D/out"; }

# nfcapd_start DIR [ADDR [NETNS]]: nfcapd on ADDR (127.0.0.1) port 4739
# in NETNS ($NS), storing in DIR; its pid in $NFCAPD
nfcapd_start() {
	local i
	mkdir -p "$1"
	t_log ip netns exec "${3:-$NS}" nfcapd -D -w "$1" -b "${2:-127.0.0.1}" \
		-p 4739 -P "$1.pid" || return 1
	for ((i = 0; i < 100; i++)); do
		NFCAPD=$(cat "$1.pid" 2>/dev/null) && [[ -n $NFCAPD ]] && break
		sleep 0.1
	done
	t_cleanup "kill $NFCAPD"
	wait_bound 4739 "${3:-$NS}"
}

# cap_start FILE: tcpdump of the export on $NS's loopback; pid in $TCPDUMP
cap_start() {
	local i
	: >"$D/tcpdump.err"
	ip netns exec "$NS" tcpdump -i lo -U -w "$1" udp port 4739 \
		2>"$D/tcpdump.err" &
	TCPDUMP=$!
	t_cleanup "kill $TCPDUMP"
	for ((i = 0; i < 100; i++)); do
		grep -q listening "$D/tcpdump.err" && return 0
		sleep 0.1
	done
	return 1
}

# tshark_fields FILE FIELD...: one line a message, as tshark decodes it
tshark_fields() {
	local f=$1 e=() x
	shift
	for x in "$@"; do e+=(-e "$x"); done
	tshark -r "$f" -d udp.port==4739,cflow -Y cflow -T fields "${e[@]}" \
		2>>"$_t_log"
}

# nfdump_check DIR PYTHON: the flows of DIR as `flows` (nfdump -o json),
# its statistics as `info` (nfdump -I); PYTHON asserts on them
nfdump_check() {
	nfdump -R "$1" -o json >"$D/flows.json" 2>>"$_t_log" &&
		nfdump -R "$1" -I >"$D/info.txt" 2>>"$_t_log" || return 1
	t_log python3 - "$D/flows.json" "$D/info.txt" "$2" <<'EOF'
import json, sys, datetime
flows = json.load(open(sys.argv[1]))
info = dict(l.split(": ", 1) for l in open(sys.argv[2]).read().splitlines() if ": " in l)
T0 = 1763900000000

def ms(s):
    d = datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%f")
    return int(d.replace(tzinfo=datetime.timezone.utc).timestamp() * 1000 + 0.5)

def expect(what, actual, expected):
    if actual != expected:
        print(f"{what}: actual {actual!r} != expected {expected!r}")
        sys.exit(1)

exec(sys.argv[3])
EOF
}

#
# 1. nfcapd: per flow and direction, the summed counts, the MACs, ports,
# VLANs, mirror NIC and times of the fixed set; tshark, a third decoder,
# for the elements nfdump does not show (flowEndReason, interfaceName)
#
t_begin nfcapd_flow_set
if cap_start "$D/set.pcap" && nfcapd_start "$D/nf1" &&
	send set 127.0.0.1:4739 && wait_read 4739 &&
	stop_pid "$NFCAPD" && stop_pid "$TCPDUMP" &&
	t_expect "tshark: domain, end reasons, mirror NIC" \
		"$(tshark_fields "$D/set.pcap" cflow.od_id cflow.flow_end_reason cflow.if_name cflow.inputint)" \
		"$(printf '902\t%s\t%s\t%s\n' \
			2,2,2,2 ens1f1,ens1f1,ens1f1,ens1f1 7,7,7,7 \
			2,2,3,3,3 ens1f1,ens1f1,ens1f1,ens1f1,ens1f1 7,7,7,7,7 \
			3,3,1,1,4 ens1f1,ens1f1,ens1f1,ens1f1,ens1f1 7,7,7,7,7)" &&
	t_expect "records sent" "$(counter records_sent)" 14 &&
	t_expect "records lost" "$(counter records_lost)" 0 &&
	t_expect "stderr" "$(cat "$D/err")" "" &&
	nfdump_check "$D/nf1" '
expect("records", len(flows), 14)
expect("sequence failures", info["Sequence failures"], "0")
got = {}
for f in flows:
    src = f.get("src4_addr") or f.get("src6_addr")
    dst = f.get("dst4_addr") or f.get("dst6_addr")
    if f["src_port"] == 902:    # from_server: the server-side MAC is the source
        key = (src, f["dst_port"], "from_server")
        smac = f["in_src_mac"]
    else:
        key = (dst, f["src_port"], "to_server")
        smac = f["in_dst_mac"]
    g = got.setdefault(key, {"packets": 0, "bytes": 0, "server_macs": set(),
                             "macs": set(), "vlans": set(), "first": 1 << 62,
                             "last": 0, "input": set(), "proto": set()})
    g["packets"] += f["in_packets"]
    g["bytes"] += f["in_bytes"]
    g["server_macs"].add(smac)
    g["macs"].add((f["in_src_mac"], f["in_dst_mac"]))
    g["vlans"].add(f["src_vlan"])
    g["first"] = min(g["first"], ms(f["first"]) - T0)
    g["last"] = max(g["last"], ms(f["last"]) - T0)
    g["input"].add(f["input_snmp"])
    g["proto"].add(f["proto"])
VMK0, VMK4 = "00:25:b5:00:00:0a", "00:50:56:6b:28:04"
VMK1B, VMK4B = "00:25:b5:00:00:0b", "00:50:56:6b:28:05"
GW, CL, CL6 = "00:00:5e:00:01:0a", "00:50:56:a1:28:32", "00:50:56:a1:28:33"
def d(p, b, macs, vlans, first, last):
    return {"packets": p, "bytes": b, "server_macs": {m[1] if m[0] == GW else m[0] for m in macs},
            "macs": set(macs), "vlans": set(vlans), "first": first, "last": last,
            "input": {7}, "proto": {6}}
want = {
    ("10.0.0.10", 50512, "to_server"):   d(337, 17524, [(GW, VMK0)], [10], 0, 130500),
    ("10.0.0.10", 50512, "from_server"): d(3345, 5017500, [(VMK4, CL)], [28], 1, 130501),
    ("10.0.0.11", 40000, "to_server"):   d(30, 1560, [(GW, VMK1B)], [11], 70000, 75000),
    ("10.0.0.11", 40000, "from_server"): d(20, 30000, [(VMK1B, CL), (VMK4B, CL)], [11, 28], 70001, 74999),
    ("2001:db8::10", 51000, "to_server"):   d(55, 3300, [(GW, VMK0)], [10], 5000, 61000),
    ("2001:db8::10", 51000, "from_server"): d(407, 610500, [(VMK4, CL6)], [28], 5001, 61001),
    ("2001:db8::11", 52000, "to_server"):   d(9, 720, [(GW, VMK1B)], [0], 100000, 140000),
}
expect("flow directions", sorted(got), sorted(want))
for k in want:
    for f in want[k]:
        expect(f"{k} {f}", got[k][f], want[k][f])
'; then
	t_ok
else
	t_fail "nfdump does not read back the exported set"
fi

#
# 2. nfacctd on [::1], the same export aggregated by destination MAC and
# by source MAC: the per-MAC totals (to_server by dst_mac and from_server
# by src_mac are the report's per-vmk rx and tx); and the enterprise
# elements, declared to it as aggregate primitives, as keys
#
t_begin nfacctd_per_mac
cat >"$D/prim" <<'EOF'
name=np_verdict field_type=32473:1 len=1 semantics=u_int
name=np_vmk field_type=32473:2 len=vlen semantics=str
name=np_handshake field_type=32473:3 len=1 semantics=u_int
name=np_retransmits field_type=32473:4 len=8 semantics=u_int
name=np_dir field_type=32473:5 len=1 semantics=u_int
name=np_state field_type=32473:6 len=1 semantics=u_int
EOF
cat >"$D/nfacctd.conf" <<EOF
daemonize: false
nfacctd_ip: ::1
nfacctd_port: 4740
aggregate_primitives: $D/prim
plugins: print[dst], print[src], print[vmk], print[state]
aggregate[dst]: dst_mac
aggregate[src]: src_mac
aggregate[vmk]: np_vmk, np_dir, np_verdict
aggregate[state]: np_state, np_handshake, np_retransmits
print_output: csv
print_output_file[dst]: $D/dst.csv
print_output_file[src]: $D/src.csv
print_output_file[vmk]: $D/vmk.csv
print_output_file[state]: $D/state.csv
print_output_file_append: true
print_refresh_time: 3600
EOF
# in a session of its own: its plugin processes go with it
setsid ip netns exec "$NS" nfacctd -f "$D/nfacctd.conf" >"$D/nfacctd.log" 2>&1 &
NFACCTD=$!
t_cleanup "kill -- -$NFACCTD"
# csv_is FILE EXPECTED: rows summed per key (every column but the last
# two, PACKETS and BYTES), sorted, one "key packets bytes" a line
csv_is() {
	local got
	got=$(awk -F, 'NR > 1 { k = $1; for (i = 2; i <= NF - 2; i++) k = k "," $i
			p[k] += $(NF - 1); b[k] += $NF }
		END { for (k in p) print k, p[k], b[k] }' "$1" | sort)
	t_expect "$(basename "$1")" "$got" "$(sort <<<"$2")"
}
if wait_bound 4740 && send set '[::1]:4740' && wait_read 4740 &&
	stop_pid "$NFACCTD" INT &&
	t_expect "records sent" "$(counter records_sent)" 14 &&
	csv_is "$D/dst.csv" "00:25:b5:00:00:0a 392 20824
00:25:b5:00:00:0b 39 2280
00:50:56:a1:28:32 3365 5047500
00:50:56:a1:28:33 407 610500" &&
	csv_is "$D/src.csv" "00:00:5e:00:01:0a 431 23104
00:50:56:6b:28:04 3752 5628000
00:25:b5:00:00:0b 12 18000
00:50:56:6b:28:05 8 12000" &&
	csv_is "$D/vmk.csv" "vmk0,0,1 392 20824
vmk4,1,1 3752 5628000
vmk1,0,1 30 1560
vmk1,0,3 9 720
vmk1,1,1 12 18000
,1,1 8 12000" &&
	csv_is "$D/state.csv" "0,1,1 100 5200
0,1,10 1000 1500000
0,1,0 50 3000
0,1,4 400 600000
0,1,2 200 10400
0,1,20 2000 3000000
2,1,0 50 31560
1,1,0 37 1924
1,1,3 345 517500
3,1,0 12 10800
0,0,0 9 720"; then
	t_ok
else
	cat "$D/nfacctd.log" >>"$_t_log"
	t_fail "nfacctd's per-MAC totals differ"
fi

# burst_check DIR N: nfdump holds exactly the N records of a burst
burst_check() {
	nfdump_check "$1" "N = $2"'
expect("records", len(flows), N)
expect("sequence failures", info["Sequence failures"], "0")
# burst record i: flow i // 2, to_server (even i) 10 + f % 7 packets of
# 52 bytes, from_server 100 + f % 13 packets of 1500
p = sum(10 + f % 7 + 100 + f % 13 for f in range(N // 2))
b = sum((10 + f % 7) * 52 + (100 + f % 13) * 1500 for f in range(N // 2))
expect("packets", sum(f["in_packets"] for f in flows), p)
expect("bytes", sum(f["in_bytes"] for f in flows), b)
expect("IPv6 records", sum(1 for f in flows if "src6_addr" in f), N // 2)
'
}

#
# 3. many messages: 10000 records (800 messages, 1 MB) flushed every 100
# as a poll loop does. Sent at once they would overflow nfcapd's socket
# buffer (about 90 messages by default): at the exporter's rate they all
# arrive. Templates in the first message and again every
# NP_IPFIX_TMPL_MSGS (64) messages, seen on the wire by tshark, with the
# sequence numbers counting data records (the first message holds 11
# beside the templates, the next 13); no sequence gap for nfdump.
#
t_begin nfcapd_many_messages
if cap_start "$D/burst.pcap" && nfcapd_start "$D/nf3" &&
	send burst 127.0.0.1:4739 10000 &&
	wait_read 4739 && stop_pid "$NFCAPD" && stop_pid "$TCPDUMP" &&
	t_expect "records sent" "$(counter records_sent)" 10000 &&
	t_expect "records lost" "$(counter records_lost)" 0 &&
	t_expect "messages sent" "$(counter messages_sent)" 800 &&
	t_expect "messages on the wire" \
		"$(tshark_fields "$D/burst.pcap" frame.number | wc -l)" 800 &&
	t_expect "messages with templates" \
		"$(tshark -r "$D/burst.pcap" -d udp.port==4739,cflow -Y 'cflow.flowset_id == 2' -T fields -e frame.number 2>>"$_t_log" | tr '\n' ' ')" \
		"$(seq -s ' ' 1 64 800) " &&
	t_expect "sequence numbers" \
		"$(tshark_fields "$D/burst.pcap" cflow.sequence | head -3 | tr '\n' ' ')" \
		"0 11 24 " &&
	burst_check "$D/nf3" 10000; then
	t_ok
else
	t_fail "10000 records over many messages do not all arrive"
fi

#
# 3b. as replay exports: 30000 records added at once, never flushed; the
# full queue waits for the rate, and every record arrives
#
t_begin nfcapd_replay_wait
if nfcapd_start "$D/nf3b" && send replay 127.0.0.1:4739 30000 &&
	wait_read 4739 && stop_pid "$NFCAPD" &&
	t_expect "records sent" "$(counter records_sent)" 30000 &&
	t_expect "records lost" "$(counter records_lost)" 0 &&
	burst_check "$D/nf3b" 30000; then
	t_ok
else
	t_fail "a replay's records do not all arrive"
fi

#
# 4. nobody listens: every record counted lost (the ICMP port unreachable
# of each message, read back from the socket), said once on stderr
#
for dst in 127.0.0.1:4741 '[::1]:4741'; do
	t_begin "collector_down ${dst%:*}"
	if send burst "$dst" 300 && t_expect exit "$rc" 0 &&
		t_expect "records sent" "$(counter records_sent)" 0 &&
		t_expect "records lost" "$(counter records_lost)" 300 &&
		t_expect "error" "$(counter first_err)" ECONNREFUSED &&
		t_expect "stderr" "$(cat "$D/err")" \
			"nbdpath: warning: --ipfix $dst: 100 flow records lost so far (Connection refused): the collector is down or the path to it cannot take the rate; nbdpath's own reports are complete, the collector's totals are short"; then
		t_ok
	else
		t_fail "a collector that is down is not counted"
	fi
done

#
# 5. a path that cannot keep up: the link to a collector (nfcapd in a
# second namespace) is shaped to 8 kbit/s, so the socket's send buffer fills within the first hundred
# messages and the kernel refuses the rest (EAGAIN); the export returns
# at once, with every record either sent or counted lost
#
t_begin slow_path
t_netns NS2
if t_log ip link add va netns "$NS" type veth peer name vb netns "$NS2" &&
	t_log ip -n "$NS" addr add 10.9.0.1/24 dev va &&
	t_log ip -n "$NS2" addr add 10.9.0.2/24 dev vb &&
	t_log ip -n "$NS" link set va up && t_log ip -n "$NS2" link set vb up &&
	mac=$(ip -n "$NS2" -br link show vb | awk '{print $3}') &&
	t_log ip -n "$NS" neigh replace 10.9.0.2 lladdr "$mac" dev va nud permanent &&
	t_log tc -n "$NS" qdisc add dev va root tbf rate 8kbit burst 2000 limit 100000000 &&
	nfcapd_start "$D/nf5" 10.9.0.2 "$NS2" &&
	send burst 10.9.0.2:4739 10000 && t_expect exit "$rc" 0 &&
	t_expect "error" "$(counter first_err)" EAGAIN &&
	t_expect "sent + lost" \
		"$(($(counter records_sent) + $(counter records_lost)))" 10000 &&
	t_expect "some sent, some lost" \
		"$(($(counter records_sent) > 0 && $(counter records_lost) > 0))" 1 &&
	t_expect "stderr lines" "$(wc -l <"$D/err")" 1 &&
	grep -q "^nbdpath: warning: --ipfix 10.9.0.2:4739: [0-9]* flow records lost so far (Resource temporarily unavailable)" "$D/err"; then
	t_ok
else
	t_fail "a slow path is not counted"
fi

#
# 5b. more than the queue holds, added at once with no flush: the
# messages past NP_IPFIX_QUEUE are dropped (ENOBUFS), what is queued at
# the end is dropped by a drain of 0 ms; every record is sent or counted
#
t_begin queue_full
ip netns exec "$NS" python3 -c 'import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 4742))
time.sleep(120)' &
SINK=$!
t_cleanup "kill $SINK"
if wait_bound 4742 && send flood 127.0.0.1:4742 60000 &&
	t_expect exit "$rc" 0 &&
	t_expect "error" "$(counter first_err)" ENOBUFS &&
	t_expect "sent + lost" \
		"$(($(counter records_sent) + $(counter records_lost)))" 60000 &&
	t_expect "some sent, some lost" \
		"$(($(counter records_sent) > 0 && $(counter records_lost) > 0))" 1 &&
	t_expect "stderr lines" "$(wc -l <"$D/err")" 1; then
	t_ok
else
	t_fail "a full queue is not counted"
fi
kill "$SINK"

#
# 6. a HOST:PORT that is no address: one line, before any socket
#
t_begin bad_spec
ok=1
for spec in 10.0.0.1 10.0.0.1:0 10.0.0.1:65536 ::1:4739 '[::1]' :4739 \
	'10.0.0.1:47x'; do
	send set "$spec"
	t_expect "exit ($spec)" "$rc" 1 || ok=0
	t_expect "stderr ($spec)" "$(cat "$D/err")" \
		"nbdpath: --ipfix '$spec': expected HOST:PORT such as 192.0.2.9:4739 or [2001:db8::9]:4739" || ok=0
done
send set no-such-host.invalid:4739
t_expect "exit (unresolvable)" "$rc" 1 || ok=0
grep -q "^nbdpath: --ipfix 'no-such-host.invalid:4739': cannot resolve 'no-such-host.invalid'" "$D/err" || ok=0
((ok)) && t_ok || t_fail "a bad HOST:PORT is not said"

#
# 7. nbdpath replay --ipfix: what nfcapd sums per flow, direction and
# server-side MAC is the report's count exactly, for flows closed with
# FIN, left idle, and still open at the end of the capture, for long
# flows exported in several --active-timeout pieces (bench: 20 flows
# over 600 ms of capture, a piece every 100 ms), and for an IPv6 session
# between IPv4-mapped addresses beside its IPv4 twin (mapped)
#
MKPCAP=$NP_BUILD/mkpcap
t_begin replay_export_matches_report
ok=1
for sc in seed idle bench mapped; do
	args=()
	[[ $sc == bench ]] && args=(--window 0.1 --active-timeout 0.1)
	extra=()
	[[ $sc == bench ]] && extra=(--frames 600000 --flows 20)
	rm -rf "$D/nfr-$sc"
	if ! t_log "$MKPCAP" "$sc" "$D/$sc.pcap" "${extra[@]}" ||
	   ! nfcapd_start "$D/nfr-$sc" ||
	   ! ip netns exec "$NS" "$NP" replay "$D/$sc.pcap" --json \
		--ipfix 127.0.0.1:4739 "${args[@]}" >"$D/$sc.json" 2>"$D/$sc.err" ||
	   ! t_expect "$sc stderr" "$(cat "$D/$sc.err")" "" ||
	   ! wait_read 4739 || ! stop_pid "$NFCAPD" ||
	   ! nfdump_check "$D/nfr-$sc" '
rep = json.load(open("'"$D/$sc.json"'"))
got, want, pieces = {}, {}, {}
for f in flows:
    src = f.get("src4_addr") or f.get("src6_addr")
    dst = f.get("dst4_addr") or f.get("dst6_addr")
    if f["src_port"] == 902:
        key = (src, dst, f["dst_port"], "from_server", f["in_src_mac"])
    else:
        key = (dst, src, f["src_port"], "to_server", f["in_dst_mac"])
    g = got.setdefault(key, [0, 0])
    g[0] += f["in_packets"]
    g[1] += f["in_bytes"]
    pieces[key] = pieces.get(key, 0) + 1
for f in rep["flows"]:
    for d in ("to_server", "from_server"):
        x = f[d]
        if not x["packets"]:
            continue
        # one server-side MAC a direction in these captures
        expect("one server MAC", len(x["server_macs"]), 1)
        want[(f["server"], f["client"], f["client_port"], d,
              x["server_macs"][0])] = [x["packets"], x["bytes"]]
expect("flow directions and MACs", sorted(got), sorted(want))
for k in want:
    expect(f"{k} [packets, bytes]", got[k], want[k])
if "'"$sc"'" == "bench":
    expect("long flows exported in several pieces",
           min(pieces.values()) >= 3, True)
if "'"$sc"'" == "mapped":
    # ::ffff:10.0.0.10 of the IPv6 session in IPv6 elements (template
    # 257), 10.0.0.10 of the IPv4 one in IPv4 elements, as two flows
    expect("address elements of the server side",
           sorted({("src6_addr" in f, f.get("src4_addr") or f.get("src6_addr"))
                   for f in flows if f["src_port"] == 902}),
           [(False, "10.0.0.10"), (True, "::ffff:10.0.0.10")])
expect("sequence failures", info["Sequence failures"], "0")
'; then
		ok=0
	fi
done
((ok)) && t_ok || t_fail "replay's IPFIX export does not sum to its report"

#
# 8. nfacctd receiving replay's export of the seed and idle captures,
# aggregated by MAC: to_server bytes by destination MAC and from_server
# bytes by source MAC are the report's per-vmk rx and tx (interfaces)
#
t_begin replay_export_nfacctd_per_vmk
cat >"$D/nfacctd-r.conf" <<EOF
daemonize: false
nfacctd_ip: ::1
nfacctd_port: 4741
aggregate_primitives: $D/prim
plugins: print[smac]
aggregate[smac]: src_mac, dst_mac, src_port, dst_port
print_output: csv
print_output_file[smac]: $D/r-smac.csv
print_output_file_append: true
print_refresh_time: 3600
EOF
rm -f "$D/r-smac.csv"
setsid ip netns exec "$NS" nfacctd -f "$D/nfacctd-r.conf" >"$D/nfacctd-r.log" 2>&1 &
NFACCTD=$!
t_cleanup "kill -- -$NFACCTD"
ok=1
if ! wait_bound 4741; then
	ok=0
else
	for sc in seed idle; do
		ip netns exec "$NS" "$NP" replay "$D/$sc.pcap" --json \
			--vmk vmk0="$MAC_VMK0" --vmk vmk4="$MAC_VMK4" \
			--ipfix '[::1]:4741' >"$D/r-$sc.json" 2>>"$_t_log" || ok=0
	done
	wait_read 4741 && stop_pid "$NFACCTD" INT || ok=0
fi
((ok)) && t_log python3 - "$D/r-smac.csv" "$D/r-seed.json" "$D/r-idle.json" <<'EOF' || ok=0
import csv, json, sys
got = {}
rows = list(csv.reader(open(sys.argv[1])))
head = rows[0]
for r in rows[1:]:
    d = dict(zip(head, r))
    to_server = d["DST_PORT"] == "902"
    # the server-side MAC: the destination going to the server
    mac = d["DST_MAC"] if to_server else d["SRC_MAC"]
    k = (mac, "rx" if to_server else "tx")
    got[k] = got.get(k, 0) + int(d["BYTES"])
want = {}
for path in sys.argv[2:]:
    for i in json.load(open(path))["interfaces"]:
        for side in ("rx", "tx"):
            if i[side + "_bytes"]:
                k = (i["mac"], side)
                want[k] = want.get(k, 0) + i[side + "_bytes"]
if got != want:
    print(f"per-vmk bytes: nfacctd {got} != report {want}")
    sys.exit(1)
EOF
if ((ok)); then
	t_ok
else
	cat "$D/nfacctd-r.log" >>"$_t_log"
	t_fail "nfacctd's per-MAC bytes differ from the report's interfaces"
fi

#
# 9. replay --ipfix of mkpcap's "long" capture (tests/t_replay_time.sh)
# with a table of 8 slots, 2 finished records kept and a report every
# 1800 s: up to 7 slots are reclaimed between two reports, so the
# --max-finished bound drops records no report lists. The export takes
# each reclaimed flow as its slot goes: nfcapd's sums per flow and
# direction, and in all, are still the whole capture's report's
#
t_begin replay_export_max_finished
ok=1
rm -rf "$D/nfb"
if ! t_log "$MKPCAP" long "$D/long.pcap" ||
   ! "$NP" replay "$D/long.pcap" --json --window 600 \
	>"$D/long-whole.json" 2>>"$_t_log" ||
   ! nfcapd_start "$D/nfb" ||
   ! ip netns exec "$NS" "$NP" replay "$D/long.pcap" --json --window 1800 \
	--interval 1800 --max-flows 4 --max-finished 2 \
	--ipfix 127.0.0.1:4739 >"$D/long-bound.json" 2>"$D/long-bound.err" ||
   ! t_expect "stderr" "$(cat "$D/long-bound.err")" "" ||
   ! wait_read 4739 || ! stop_pid "$NFCAPD" ||
   ! nfdump_check "$D/nfb" '
w = json.load(open("'"$D/long-whole.json"'"))
rs = [json.loads(l) for l in open("'"$D/long-bound.json"'")]
expect("records dropped by the bound", rs[-1]["stats"]["flows_dropped"], 16)
got, want = {}, {}
for f in flows:
    src = f.get("src4_addr") or f.get("src6_addr")
    dst = f.get("dst4_addr") or f.get("dst6_addr")
    if f["src_port"] == 902:
        key = (src, dst, f["dst_port"], "from_server")
    else:
        key = (dst, src, f["src_port"], "to_server")
    g = got.setdefault(key, [0, 0])
    g[0] += f["in_packets"]
    g[1] += f["in_bytes"]
for f in w["flows"]:
    for d in ("to_server", "from_server"):
        if f[d]["packets"]:
            want[(f["server"], f["client"], f["client_port"], d)] = \
                [f[d]["packets"], f[d]["bytes"]]
expect("flows in the whole report", len(w["flows"]), 34)
print("exported flows", len({k[2] for k in got}), "of", len(w["flows"]))
expect("flow directions not exported", sorted(set(want) - set(got)), [])
expect("flow directions not in the report", sorted(set(got) - set(want)), [])
for k in want:
    expect(f"{k} [packets, bytes]", got[k], want[k])
# rx (to the server) and tx (from it) of every host, by server-side MAC
tot = [sum(m[x] for h in w["hosts"] for s in ("rx", "tx") for m in h[s])
       for x in ("packets", "bytes")]
expect("whole report [packets, bytes]", tot, [316, 147280])
expect("total [packets, bytes]", [sum(g[0] for g in got.values()),
                                  sum(g[1] for g in got.values())], tot)
print("records dropped", rs[-1]["stats"]["flows_dropped"], "flows", len(got),
      "[packets, bytes]", tot)
expect("sequence failures", info["Sequence failures"], "0")
'; then
	ok=0
fi
((ok)) && t_ok || t_fail "flows the --max-finished bound dropped are not exported whole"

t_done
