#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# t_lab.sh - nbdpath end to end on the seed's lab (scripts/lab.sh): real TCP
# on port 902 between the backup nodes and the ESXi namespaces, nbdpath run
# on the sensor's mirror NIC, and its final JSON report checked against
# what the sockets wrote (nbdtraffic), against a capture (tshark) and
# against nbdpath replay of that capture. Three labs, one after the other
# (about 15 s in all):
#   a  mirror of every ESXi port: the seed's asymmetric esx1 (5 connections
#      from 2 backup nodes) and the symmetric esx2, in native mode with a
#      capture (tshark counts, replay, drop), then in generic mode with
#      --pass (tcpdump on mirror0 sees the frames);
#   b  mirror of vmk4 only, the seed's second capture: from_server_only;
#   c  MTU 9000 and IPv6, native mode: jumbo frames counted exactly.
#
# Capture for the replay case: nbdpath drops every frame in XDP, before the
# kernel's packet taps, so tcpdump on mirror0 sees nothing (that is checked
# too). The capture is taken on the switch side of the mirror cable, "span"
# in the sw namespace: every frame leaving span arrives on mirror0, and
# nbdpath keeps running as deployed (drop, not --pass).
#
# Timing: closed flows leave the report's "flows" list max(5 s, 3 x
# interval) after their last frame; each run is stopped (SIGINT, which
# prints one last report) about a second after its traffic ended.
#
# NP_KEEP=1 keeps the work directory (reports, pcaps, logs) for a look.
set -euo pipefail

# shellcheck source=tests/lib.sh
source "$(dirname "$0")/lib.sh"
cd "$NP_TOP"
unset LAB_DIR LAB_PREFIX
LAB=$NP_TOP/scripts/lab.sh
TRAFFIC=$NP_BUILD/nbdtraffic
PFX=nbdt$$
trap 'exit 130' INT TERM

t_need_root "lab end to end" "network namespaces, XDP"
t_need_tools "lab end to end" tcpdump tshark python3 ethtool tc
[[ -x $TRAFFIC ]] || t_skip_all "lab end to end" "$TRAFFIC not built (make .build/nbdtraffic)"

WORK=$(mktemp -d /tmp/nbdt.XXXXXX)
if [[ ${NP_KEEP:-0} == 1 ]]; then
	t_cleanup "echo 't_lab.sh: work directory kept in $WORK' >&2"
else
	t_cleanup "rm -rf $WORK"
fi
for l in a b c; do t_cleanup "$LAB down --prefix $PFX$l"; done
# shellcheck disable=SC2016 # expanded when the cleanup runs
t_cleanup 'kill $(jobs -p)'

# ------------------------------------------------------------ JSON checks
# One checker for every assertion on a report; it prints what differs and
# exits 1. The report is the last line of nbdpath's --json output.
cat >"$WORK/check.py" <<'EOF'
import json, subprocess, sys
from report_check import *

def dir_sane(name, d, mtu):
    p, b, pl = d["packets"], d["bytes"], d["payload_bytes"]
    if p == 0:
        eq(f"{name} unseen: bytes/payload", (b, pl), (0, 0))
        return
    # IPv4 + TCP headers: 40..120 bytes per packet; no packet above the MTU
    h = b - pl
    if not 40 * p <= h <= 120 * p:
        err(f"{name}: bytes - payload_bytes = {h} for {p} packets (40..120 each)")
    if b > p * mtu:
        err(f"{name}: {b} bytes in {p} packets exceeds MTU {mtu}")

# flows REPORT server=IP verdict=V mtu=N [rx=MAC rxname=N] [tx=MAC txname=N]
#       pair=CLIENT.json,SERVER.json... [oneway=1]
# Every client connection is exactly one flow with the socket's byte counts.
def c_flows(r, o):
    server, verdict, mtu = one(o, "server"), one(o, "verdict"), int(one(o, "mtu", 1500))
    rx, tx = one(o, "rx"), one(o, "tx")
    want = 0
    for pair in o["pair"]:
        cpath, spath = pair.split(",")
        cli, srv = js(cpath), js(spath)
        sconn = {(c["peer"], c["peer_port"]): c for c in srv["connections"]}
        for c in cli["connections"]:
            want += 1
            key = (c["local"], c["local_port"])
            m = [f for f in r["flows"] if f["server"] == server and f["server_port"] == 902
                 and (f["client"], f["client_port"]) == key]
            if not eq(f"flows for client {key[0]}:{key[1]}", len(m), 1):
                continue
            f, n = m[0], fname(m[0])
            s = sconn.get(key)
            if s is None:
                err(f"{n}: server JSON has no connection from {key}")
                continue
            eq(f"{n} verdict", f["verdict"], verdict)
            ts, fs = f["to_server"], f["from_server"]
            dir_sane(f"{n} to_server", ts, mtu)
            dir_sane(f"{n} from_server", fs, mtu)
            eq(f"{n} from_server.payload_bytes (server wrote)", fs["payload_bytes"], s["bytes_written"])
            eq(f"{n} from_server.payload_bytes (client read)", fs["payload_bytes"], c["bytes_read"])
            eq(f"{n} from_server.server_macs", fs["server_macs"], [tx] if tx else [])
            if tx:
                eq(f"{n} from_server.src_mac", fs["src_mac"], tx)
                eq(f"{n} from_server.interface", fs["interface"], one(o, "txname"))
                for fl in ("SYN", "ACK", "FIN"):
                    if fl not in fs["tcp_flags"]:
                        err(f"{n} from_server.tcp_flags {fs['tcp_flags']} lacks {fl}")
            if rx:
                eq(f"{n} to_server.payload_bytes (client wrote)", ts["payload_bytes"], c["bytes_written"])
                eq(f"{n} to_server.payload_bytes (server read)", ts["payload_bytes"], s["bytes_read"])
                eq(f"{n} to_server.server_macs", ts["server_macs"], [rx])
                eq(f"{n} to_server.dst_mac", ts["dst_mac"], rx)
                eq(f"{n} to_server.interface", ts["interface"], one(o, "rxname"))
                for fl in ("SYN", "ACK", "FIN"):
                    if fl not in ts["tcp_flags"]:
                        err(f"{n} to_server.tcp_flags {ts['tcp_flags']} lacks {fl}")
            else:
                eq(f"{n} to_server unseen (packets, macs)", (ts["packets"], ts["server_macs"], ts["src_mac"]),
                   (0, [], None))
    eq(f"flows listed for server {server}", len(flows_of(r, server)), want)
    return want

# host REPORT server=IP verdict=V rx=MAC... tx=MAC... [rxname= txname=]
# The host's per-MAC breakdown, and its totals equal to the sum of its flows.
def c_host(r, o):
    server = one(o, "server")
    h = [x for x in r["hosts"] if x["ip"] == server]
    if not eq(f"hosts with ip {server}", len(h), 1):
        return
    h = h[0]
    eq(f"host {server} verdict", h["verdict"], one(o, "verdict"))
    fl = flows_of(r, server)
    for d, fd in (("rx", "to_server"), ("tx", "from_server")):
        macs = sorted(e["mac"] for e in h[d])
        eq(f"host {server} {d} MACs", macs, sorted(o[d]))
        if one(o, d + "name"):
            eq(f"host {server} {d} interface names", [e["interface"] for e in h[d]],
               [one(o, d + "name")] * len(h[d]))
        for k in ("packets", "bytes"):
            eq(f"host {server} {d} {k} = sum of its flows' {fd}",
               sum(e[k] for e in h[d]), sum(f[fd][k] for f in fl))
        for e in h[d]:
            if e["packets"] <= 0:
                err(f"host {server} {d} {e['mac']}: no packets")

# iface REPORT mac=M name=N server=IP rx=0|+ tx=0|+ [owner=IP]
def c_iface(r, o):
    mac = one(o, "mac")
    x = [i for i in r["interfaces"] if i["mac"] == mac]
    if not eq(f"interfaces with mac {mac}", len(x), 1):
        return
    x = x[0]
    eq(f"{mac} interface", x["interface"], one(o, "name"))
    if one(o, "server") not in x["server_ips"]:
        err(f"{mac} server_ips {x['server_ips']} lacks {one(o, 'server')}")
    for d, fd in (("rx", "to_server"), ("tx", "from_server")):
        p = x[d + "_packets"]
        if one(o, d) == "0":
            eq(f"{mac} {d}_packets", p, 0)
            eq(f"{mac} {d}_bytes", x[d + "_bytes"], 0)
        elif p <= 0:
            err(f"{mac} {d}_packets: actual {p}, want > 0")
        fl = [f[fd] for f in r["flows"] if mac in f[fd]["server_macs"]]
        eq(f"{mac} {d}_packets = sum of its flows' {fd}", p, sum(d_["packets"] for d_ in fl))
        eq(f"{mac} {d}_bytes = sum of its flows' {fd}", x[d + "_bytes"], sum(d_["bytes"] for d_ in fl))
    if o["owner"]:
        eq(f"{mac} owner_ip", x["owner_ip"], one(o, "owner") or None)

# stats REPORT: outcomes sum to packets, matched = listed flows' packets
def c_stats(r, o):
    s = r["stats"]
    outcomes = ("matched", "other_port", "not_tcp", "not_ip", "fragment", "truncated",
                "malformed", "unsupported")
    eq("sum of outcomes", sum(s[k] for k in outcomes), s["packets"])
    eq("stats.flows", s["flows"], len(r["flows"]))
    eq("stats.flows_evicted", s["flows_evicted"], 0)
    eq("stats.matched = flows' packets", s["matched"],
       sum(f[d]["packets"] for f in r["flows"] for d in ("to_server", "from_server")))
    if s["not_ip"] <= 0:
        err(f"stats.not_ip {s['not_ip']}: the ARP frames on the mirror were not counted")
    if one(o, "run"):
        if not isinstance(r.get("interval"), (int, float)):
            err(f"run report without a numeric interval: {r.get('interval')!r}")
        for f in r["flows"]:
            for d in ("to_server", "from_server"):
                for k in ("pps", "bps"):
                    if k not in f[d]:
                        err(f"{fname(f)} {d} has no {k}")

# pcap REPORT FILE: each flow's packets/bytes/payload as tshark counts them
def c_pcap(r, o):
    out = subprocess.run(["tshark", "-r", one(o, "file"), "-Y", "tcp.port == 902", "-T", "fields",
                          "-E", "separator=,", "-e", "ip.src", "-e", "ip.dst", "-e", "tcp.srcport",
                          "-e", "tcp.dstport", "-e", "ip.len", "-e", "tcp.len"],
                         capture_output=True, text=True, check=True).stdout
    cnt = defaultdict(lambda: [0, 0, 0])
    for line in out.splitlines():
        src, dst, sp, dp, iplen, tcplen = line.split(",")
        if dp == "902":
            k = (dst, 902, src, int(sp), "to_server")
        else:
            k = (src, 902, dst, int(dp), "from_server")
        c = cnt[k]
        c[0] += 1; c[1] += int(iplen); c[2] += int(tcplen)
    got = {}
    for f in r["flows"]:
        for d in ("to_server", "from_server"):
            if f[d]["packets"]:
                got[(f["server"], f["server_port"], f["client"], f["client_port"], d)] = \
                    [f[d]["packets"], f[d]["bytes"], f[d]["payload_bytes"]]
    for k in sorted(set(cnt) | set(got)):
        eq(f"{k[2]}:{k[3]}->{k[0]} {k[4]} [packets, bytes, payload_bytes] report vs capture",
           got.get(k), cnt.get(k))

# same LIVE REPLAY: the replay of a capture reports what the live run did
def c_same(r, o):
    p = report(one(o, "replay"))
    eq("replay source.kind", p["source"]["kind"], "replay")
    key = lambda f: (f["server"], f["server_port"], f["client"], f["client_port"])
    a, b = {key(f): f for f in r["flows"]}, {key(f): f for f in p["flows"]}
    eq("flows (live vs replay)", sorted(a), sorted(b))
    for k in sorted(set(a) & set(b)):
        n = fname(a[k])
        eq(f"{n} verdict (live vs replay)", a[k]["verdict"], b[k]["verdict"])
        # live time is the coarse clock (a tick or so), replay the capture's
        for t in ("first_seen", "last_seen"):
            if abs(a[k][t] - b[k][t]) > 0.1:
                err(f"{n} {t}: live {a[k][t]} vs replay {b[k][t]}: more than 0.1 s apart")
        for d in ("to_server", "from_server"):
            for f in ("packets", "bytes", "payload_bytes", "server_macs", "interface", "tcp_flags"):
                eq(f"{n} {d}.{f} (live vs replay)", a[k][d][f], b[k][d][f])
    hk = lambda r_: {h["ip"]: (h["verdict"], [(e["mac"], e["packets"], e["bytes"]) for e in h["rx"]],
                               [(e["mac"], e["packets"], e["bytes"]) for e in h["tx"]]) for h in r_["hosts"]}
    eq("hosts (live vs replay)", hk(r), hk(p))
    ik = lambda r_: {i["mac"]: (i["interface"], i["owner_ip"], i["rx_packets"], i["rx_bytes"],
                                i["tx_packets"], i["tx_bytes"]) for i in r_["interfaces"]}
    eq("interfaces (live vs replay)", ik(r), ik(p))
    # the capture spans the traffic and nothing else moves in this lab:
    # every frame the live program saw is in it
    for k in ("packets", "matched", "other_port", "not_tcp", "not_ip", "fragment", "truncated",
              "malformed", "unsupported", "flows"):
        eq(f"stats.{k} (live vs replay)", r["stats"][k], p["stats"][k])

# conns REPORT server=IP client=IP... pair=...: one flow per connection
def c_conns(r, o):
    want = []
    for pair in o["pair"]:
        want += [(c["local"], c["local_port"]) for c in js(pair.split(",")[0])["connections"]]
    got = [(f["client"], f["client_port"]) for f in flows_of(r, one(o, "server"))]
    eq(f"{len(want)} connections: (client, client_port) of the flows", sorted(got), sorted(want))
    eq("backup nodes", sorted({c for c, _ in got}), sorted(o["client"]))

# jumbo REPORT server=IP: the data direction is carried in jumbo frames
def c_jumbo(r, o):
    for f in flows_of(r, one(o, "server")):
        d = f["from_server"]
        if not d["packets"] or d["bytes"] / d["packets"] <= 8000:
            err(f"{fname(f)} from_server: {d['bytes']} bytes / {d['packets']} packets: no jumbo frames")

run(globals())
EOF

# chk CHECK REPORT ARGS...: one check of check.py, its complaints into the log
chk() {
	t_log python3 "$WORK/check.py" "$@" || T_CF=$((T_CF + 1))
}

# ------------------------------------------------------------ lab and runs
lab_up() { # SUFFIX LAB_ARGS...
	local sfx=$1 out
	shift
	if ! out=$("$LAB" up --prefix "$PFX$sfx" "$@" 2>&1); then
		echo "$out"
		return 1
	fi
	eval "$("$LAB" env --prefix "$PFX$sfx")"
	# both hosts' esxcfg-vmknic -l, one after the other (two headers), as
	# an operator would paste them
	cat "$ESX1_VMKNIC_FILE" "$ESX2_VMKNIC_FILE" >"$WORK/vmknic-$sfx.txt"
	VMK_FILE=$WORK/vmknic-$sfx.txt
}

# np_start TAG NBDPATH_RUN_ARGS...: nbdpath run on the sensor NIC, JSON to
# $WORK/TAG.json; returns once the program is attached.
np_start() {
	local tag=$1 i
	shift
	ip netns exec "$NS_SENSOR" "$NP" run -i "$SENSOR_IF" --vmk-file "$VMK_FILE" \
		--interval 1 --duration 120 --json "$@" >"$WORK/$tag.json" 2>"$WORK/$tag.err" &
	NP_PID=$!
	for ((i = 0; i < 100; i++)); do
		ip -n "$NS_SENSOR" link show dev "$SENSOR_IF" | grep -q 'prog/xdp' && return 0
		kill -0 "$NP_PID" 2>/dev/null || break
		sleep 0.05
	done
	NP_RC=0
	wait "$NP_PID" || NP_RC=$?
	echo "nbdpath run $* did not attach (exit $NP_RC): $(cat "$WORK/$tag.err")"
	return 1
}

# np_stop TAG: SIGINT, which prints the last report; exit status 0 expected
np_stop() {
	local tag=$1 i
	kill -INT "$NP_PID"
	for ((i = 0; i < 100; i++)); do
		kill -0 "$NP_PID" 2>/dev/null || break
		sleep 0.05
	done
	NP_RC=0
	wait "$NP_PID" || NP_RC=$?
	if ((NP_RC)); then
		echo "nbdpath run exited $NP_RC after SIGINT: $(cat "$WORK/$tag.err")"
		return 1
	fi
	if ip -n "$NS_SENSOR" link show dev "$SENSOR_IF" | grep -q 'prog/xdp'; then
		echo "XDP still attached to $SENSOR_IF after nbdpath run stopped"
		return 1
	fi
	[[ -s $WORK/$tag.json ]] || { echo "nbdpath run printed no report: $(cat "$WORK/$tag.err")"; return 1; }
	tail -n 1 "$WORK/$tag.json" >"$WORK/$tag.last"
}

# serve TAG NS CONNS: a server in NS; ready when the function returns
serve() {
	rm -f "$WORK/$1.ready"
	ip netns exec "$2" "$TRAFFIC" serve --conns "$3" --timeout 30 \
		--ready-file "$WORK/$1.ready" >"$WORK/$1.server" 2>"$WORK/$1.serr" &
	SRV_PIDS+=("$!")
	t_wait_file "$WORK/$1.ready" || { echo "server $1 not ready: $(cat "$WORK/$1.serr")"; return 1; }
}

# fetch TAG NS HOST CONNS ARGS...: a client in the background
fetch() {
	local tag=$1 ns=$2 host=$3 conns=$4
	shift 4
	ip netns exec "$ns" "$TRAFFIC" fetch --host "$host" --conns "$conns" --timeout 30 "$@" \
		>"$WORK/$tag.client" 2>"$WORK/$tag.cerr" &
	CLI_PIDS+=("$!")
}

# traffic_wait TAG: every client and server finished; a failed client
# ends the servers at once rather than at their --timeout
traffic_wait() {
	local pid rc=0
	for pid in "${CLI_PIDS[@]}"; do wait "$pid" || rc=1; done
	if ((rc)); then
		for pid in "${SRV_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
	fi
	for pid in "${SRV_PIDS[@]}"; do wait "$pid" || rc=1; done
	CLI_PIDS=() SRV_PIDS=()
	if ((rc)); then
		echo "nbdtraffic failed:"
		tail -n +1 "$WORK/$1"-*.cerr "$WORK/$1"-*.serr
	fi
	return "$rc"
}

# The seed: node1 (3 connections) and node2 (2) fetch from esx1's vmk0 IP,
# node2 also from esx2 (1), all at once; new neighbour caches so that the
# mirror sees ARP.
seed_traffic() { # TAG
	local ns
	for ns in "$NS_ESX1" "$NS_ESX2" "$NS_RTR" "$NS_NODE1" "$NS_NODE2"; do
		ip -n "$ns" neigh flush all
	done
	serve "$1-esx1" "$NS_ESX1" 5 || return 1
	serve "$1-esx2" "$NS_ESX2" 1 || return 1
	fetch "$1-n1" "$NS_NODE1" "$ESX1_VMK0_IP" 3 --requests 20 --reply-size 256k
	fetch "$1-n2" "$NS_NODE2" "$ESX1_VMK0_IP" 2 --requests 12 --reply-size 300000
	fetch "$1-x2" "$NS_NODE2" "$ESX2_VMK0_IP" 1 --requests 10 --reply-size 100000
	traffic_wait "$1"
}

SRV_PIDS=() CLI_PIDS=()

# live TAG seed|oneway|jumbo CAPTURE(0|1) NBDPATH_ARGS...: one nbdpath run
# around that traffic; RUN_OK[TAG]=1 when it all worked. The run's log goes
# into every failed test that uses it.
declare -A RUN_OK=()
live() {
	local tag=$1 traffic=$2 cap=$3 ok
	shift 3
	RUN_OK[$tag]=0
	{
		np_start "$tag" "$@" || return 0
		if ((cap)); then
			if ! t_capture_start "$NS_SW" "$SW_MIRROR_IF" "$WORK/$tag.pcap" ||
				! t_capture_start "$NS_SENSOR" "$SENSOR_IF" "$WORK/$tag-sensor.pcap"; then
				t_capture_kill
				np_stop "$tag"
				return 0
			fi
		fi
		ok=1
		case $traffic in
		seed) seed_traffic "$tag" || ok=0 ;;
		oneway) one_way_traffic "$tag" || ok=0 ;;
		jumbo) jumbo_traffic "$tag" || ok=0 ;;
		esac
		if ((!ok)); then
			t_capture_kill
			np_stop "$tag"
			return 0
		fi
		# the last ACKs on the wire, then the captures drained
		sleep 0.3
		((cap)) && { t_capture_stop "$WORK/$tag.pcap" "$WORK/$tag-sensor.pcap" || true; }
		sleep 0.5
		np_stop "$tag" || return 0
		RUN_OK[$tag]=1
	} >"$WORK/$tag.log" 2>&1
}

# run_log TAG: put the run's story into the current test's log, once
declare -A RUN_LOGGED=()
run_log() {
	local tag=$1
	if [[ -n ${RUN_LOGGED[$tag]:-} ]]; then
		t_log echo "--- run $tag: log in the first failed test of the run"
		return 0
	fi
	RUN_LOGGED[$tag]=1
	t_log echo "--- run $tag: harness log"
	t_log cat "$WORK/$tag.log" || true
	t_log echo "--- nbdpath stderr"
	t_log cat "$WORK/$tag.err" || true
	if [[ -s $WORK/$tag.last ]]; then
		t_log echo "--- last report"
		t_log python3 -m json.tool "$WORK/$tag.last" || t_log cat "$WORK/$tag.last" || true
	fi
}

# a test over a run: begin, the run's status, checks, end
run_begin() { # TAG NAME
	t_group "$2"
	RUN_TAG=$1
	if [[ ${RUN_OK[$1]:-0} != 1 ]]; then
		t_bad "the run failed, nothing to check"
		return 1
	fi
}
run_end() {
	((T_CF == 0)) || run_log "$RUN_TAG"
	t_group_end
}

pairs_esx1() { # TAG
	echo "pair=$WORK/$1-n1.client,$WORK/$1-esx1.server" "pair=$WORK/$1-n2.client,$WORK/$1-esx1.server"
}

# The seed's checks on one run of seed_traffic.
seed_checks() { # TAG MODE
	local t=$1 m=$2
	# shellcheck disable=SC2046
	if run_begin "$t" "$m: esx1 flows asymmetric, payload exact per flow"; then
		chk flows "$WORK/$t.last" server="$ESX1_VMK0_IP" verdict=asymmetric \
			rx="$ESX1_VMK0_MAC" rxname=vmk0 tx="$ESX1_VMK4_MAC" txname=vmk4 $(pairs_esx1 "$t")
	fi
	run_end
	if run_begin "$t" "$m: 5 concurrent connections from 2 nodes, one flow each"; then
		# shellcheck disable=SC2046
		chk conns "$WORK/$t.last" server="$ESX1_VMK0_IP" client="$NODE1_IP" client="$NODE2_IP" \
			$(pairs_esx1 "$t")
	fi
	run_end
	if run_begin "$t" "$m: esx1 host asymmetric: rx on vmk0's MAC only, tx on vmk4's only"; then
		chk host "$WORK/$t.last" server="$ESX1_VMK0_IP" verdict=asymmetric \
			rx="$ESX1_VMK0_MAC" rxname=vmk0 tx="$ESX1_VMK4_MAC" txname=vmk4
	fi
	run_end
	if run_begin "$t" "$m: interfaces: vmk0 only receives, vmk4 only transmits"; then
		chk iface "$WORK/$t.last" mac="$ESX1_VMK0_MAC" name=vmk0 server="$ESX1_VMK0_IP" rx=+ tx=0
		chk iface "$WORK/$t.last" mac="$ESX1_VMK4_MAC" name=vmk4 server="$ESX1_VMK0_IP" rx=0 tx=+
	fi
	run_end
	if run_begin "$t" "$m: owner_ip from the ARP on the mirror"; then
		chk iface "$WORK/$t.last" mac="$ESX1_VMK4_MAC" name=vmk4 server="$ESX1_VMK0_IP" rx=0 tx=+ \
			owner="$ESX1_VMK4_IP"
		chk iface "$WORK/$t.last" mac="$ESX1_VMK0_MAC" name=vmk0 server="$ESX1_VMK0_IP" rx=+ tx=0 \
			owner="$ESX1_VMK0_IP"
		chk iface "$WORK/$t.last" mac="$ESX2_VMK0_MAC" name=vmk0 server="$ESX2_VMK0_IP" rx=+ tx=+ \
			owner="$ESX2_VMK0_IP"
	fi
	run_end
	if run_begin "$t" "$m: esx2 symmetric control, payload exact"; then
		chk flows "$WORK/$t.last" server="$ESX2_VMK0_IP" verdict=symmetric \
			rx="$ESX2_VMK0_MAC" rxname=vmk0 tx="$ESX2_VMK0_MAC" txname=vmk0 \
			pair="$WORK/$t-x2.client,$WORK/$t-esx2.server"
		chk host "$WORK/$t.last" server="$ESX2_VMK0_IP" verdict=symmetric \
			rx="$ESX2_VMK0_MAC" tx="$ESX2_VMK0_MAC"
	fi
	run_end
	if run_begin "$t" "$m: stats: outcomes sum to packets, matched = flows' packets"; then
		chk stats "$WORK/$t.last" run=1
	fi
	run_end
}

# ================================================ lab a: the seed, mirror all
t_group "lab up: mirror of esx1 vmk0+vmk4 and esx2 vmk0"
if lab_up a >"$WORK/lab-a.log" 2>&1; then
	LAB_A=1
	t_ok
else
	LAB_A=0
	t_log cat "$WORK/lab-a.log"
	t_fail "lab.sh up failed"
fi

if ((LAB_A)); then
	live native seed 1 --mode native
	seed_checks native native

	if run_begin native "native: frames dropped (tcpdump on mirror0 sees none)"; then
		n=$(tshark -r "$WORK/native-sensor.pcap" -Y 'tcp.port == 902' 2>/dev/null | wc -l)
		t_expect "port-902 frames seen by tcpdump on $SENSOR_IF" "$n" 0 || T_CF=$((T_CF + 1))
	fi
	run_end
	if run_begin native "native: packets and bytes per flow equal the capture's"; then
		chk pcap "$WORK/native.last" file="$WORK/native.pcap"
	fi
	run_end
	if run_begin native "replay of the capture reports what the live run did"; then
		if "$NP" replay "$WORK/native.pcap" --json --vmk-file "$VMK_FILE" \
			>"$WORK/replay.json" 2>"$WORK/replay.err"; then
			chk same "$WORK/native.last" replay="$WORK/replay.json"
		else
			t_bad "nbdpath replay failed: $(cat "$WORK/replay.err")"
		fi
	fi
	run_end

	# --pass: the frames go on to the sensor's stack, where tcpdump sees them
	live generic seed 1 --mode generic --pass
	seed_checks generic generic
	if run_begin generic "generic --pass: tcpdump on mirror0 sees every frame counted"; then
		chk pcap "$WORK/generic.last" file="$WORK/generic-sensor.pcap"
	fi
	run_end
fi
"$LAB" down --prefix "${PFX}a"

# ======================================= lab b: the seed's vmk4-only mirror
one_way_traffic() { # TAG
	ip -n "$NS_ESX1" neigh flush all
	serve "$1-esx1" "$NS_ESX1" 2 || return 1
	fetch "$1-n1" "$NS_NODE1" "$ESX1_VMK0_IP" 1 --requests 10 --reply-size 256k
	fetch "$1-n2" "$NS_NODE2" "$ESX1_VMK0_IP" 1 --requests 10 --reply-size 256k
	traffic_wait "$1"
}

t_group "lab up: mirror of esx1 vmk4 only"
if lab_up b --mirror vmk4 >"$WORK/lab-b.log" 2>&1; then
	t_ok
	live oneway oneway 0
	if run_begin oneway "vmk4-only mirror: flows from_server_only, payload exact"; then
		# shellcheck disable=SC2046
		chk flows "$WORK/oneway.last" server="$ESX1_VMK0_IP" verdict=from_server_only \
			tx="$ESX1_VMK4_MAC" txname=vmk4 $(pairs_esx1 oneway)
		chk host "$WORK/oneway.last" server="$ESX1_VMK0_IP" verdict=from_server_only \
			tx="$ESX1_VMK4_MAC" txname=vmk4
		chk iface "$WORK/oneway.last" mac="$ESX1_VMK4_MAC" name=vmk4 server="$ESX1_VMK0_IP" rx=0 tx=+
	fi
	run_end
else
	t_log cat "$WORK/lab-b.log"
	t_fail "lab.sh up failed"
fi
"$LAB" down --prefix "${PFX}b"

# ======================================== lab c: MTU 9000 and IPv6, native
jumbo_traffic() { # TAG
	local ns
	for ns in "$NS_ESX1" "$NS_RTR" "$NS_NODE1" "$NS_NODE2"; do ip -n "$ns" neigh flush all; done
	serve "$1-esx1" "$NS_ESX1" 4 || return 1
	fetch "$1-n1" "$NS_NODE1" "$ESX1_VMK0_IP" 2 --requests 8 --reply-size 1m
	fetch "$1-n2" "$NS_NODE2" "$ESX1_VMK0_IP" 1 --requests 8 --reply-size 1m
	fetch "$1-n6" "$NS_NODE1" "$ESX1_VMK0_IP6" 1 --requests 8 --reply-size 1m
	traffic_wait "$1"
}

t_group "lab up: MTU 9000 on every link and the mirror, IPv6 too"
if lab_up c --mtu 9000 --ipv6 >"$WORK/lab-c.log" 2>&1; then
	t_ok
	live jumbo jumbo 0 --mode native
	if run_begin jumbo "MTU 9000, native: asymmetric, payload exact, jumbo frames counted"; then
		# shellcheck disable=SC2046
		chk flows "$WORK/jumbo.last" server="$ESX1_VMK0_IP" verdict=asymmetric mtu=9000 \
			rx="$ESX1_VMK0_MAC" rxname=vmk0 tx="$ESX1_VMK4_MAC" txname=vmk4 $(pairs_esx1 jumbo)
		chk jumbo "$WORK/jumbo.last" server="$ESX1_VMK0_IP"
		chk stats "$WORK/jumbo.last"
	fi
	run_end
	if run_begin jumbo "IPv6, MTU 9000, native: asymmetric, payload exact"; then
		chk flows "$WORK/jumbo.last" server="$ESX1_VMK0_IP6" verdict=asymmetric mtu=9000 \
			rx="$ESX1_VMK0_MAC" rxname=vmk0 tx="$ESX1_VMK4_MAC" txname=vmk4 \
			pair="$WORK/jumbo-n6.client,$WORK/jumbo-esx1.server"
		chk host "$WORK/jumbo.last" server="$ESX1_VMK0_IP6" verdict=asymmetric \
			rx="$ESX1_VMK0_MAC" rxname=vmk0 tx="$ESX1_VMK4_MAC" txname=vmk4
		chk jumbo "$WORK/jumbo.last" server="$ESX1_VMK0_IP6"
	fi
	run_end
else
	t_log cat "$WORK/lab-c.log"
	t_fail "lab.sh up failed"
fi
"$LAB" down --prefix "${PFX}c"

t_done
