#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# t_lab_time.sh - time in the lab (scripts/lab.sh): verdicts that clear
# when the operator fixes the route mid-run, finished flows that stay
# (FIN, RST, idle) with the flow log across two logrotate styles, the
# finished-flow memory bound, and Debian's Prometheus scraping the sensors
# with the shipped alert rules. Real TCP from nbdtraffic; every number is
# checked against what its sockets moved (payload) or against a capture of
# the mirror (packets, IP bytes: tshark), as t_lab.sh does.
#
#   phase 1  three labs (prefixes a, b, c), each with its sensor running
#            `run --json --window 4 --metrics` and one Prometheus (in a
#            namespace of its own, wired to each sensor by a veth) scraping
#            all three every second with the rules' `for: 10m` cut to 3s.
#            Asymmetric traffic everywhere until the alert fires for each
#            sensor; then `lab.sh route fixed` on lab a only: a's alert
#            resolves, a's current verdict turns symmetric while its
#            since-start verdict stays asymmetric; b and c keep firing,
#            then clear once their traffic stops (idle).
#            `nbdpath hosts` (JSON, and the human view, written by the
#            same code as run's human report) agrees with the run.
#   phase 2  lab b: `run --duration` with connections that end with FIN,
#            RST and by going idle, the flow log rotated by copytruncate
#            and by rename + SIGHUP; lab c at the same time: a flow table
#            of 8 slots whose closed flows are reclaimed, more records
#            than --max-finished holds.
#
# The flow log's lines are compared with the report's records but for the
# rates (pps, bps), which are of the report that wrote them. Phase 1 keeps
# its traffic well under a minute: a client port comes back after its
# TIME_WAIT (60 s), and nbdpath counts such a connection into the old flow.
#
# NP_KEEP=1 keeps the work directory for a look.
set -euo pipefail

# shellcheck source=tests/lib.sh
source "$(dirname "$0")/lib.sh"
cd "$NP_TOP"
unset LAB_DIR LAB_PREFIX
LAB=$NP_TOP/scripts/lab.sh
TRAFFIC=$NP_BUILD/nbdtraffic
PFX=nbtm$$
SUFFIXES=(a b c)
WINDOW=4
IDLE=5
trap 'exit 130' INT TERM

t_need_root "lab time end to end" "network namespaces, XDP"
t_need_tools "lab time end to end" tcpdump tshark python3 ethtool tc prometheus curl
[[ -x $TRAFFIC ]] || t_skip_all "lab time end to end" "$TRAFFIC not built (make .build/nbdtraffic)"

WORK=$(mktemp -d /tmp/nbtm.XXXXXX)
if [[ ${NP_KEEP:-0} == 1 ]]; then
	t_cleanup "echo 't_lab_time.sh: work directory kept in $WORK' >&2"
else
	t_cleanup "rm -rf $WORK"
fi
mkdir -p "$WORK/bpf" "$WORK/tr" "$WORK/prom"
# One bpffs for the pins, seen by the runs inside the namespaces (ip netns
# exec copies the mounts) and by the queries.
mount -t bpf bpf "$WORK/bpf" || t_skip_all "lab time end to end" "cannot mount a bpffs"
t_cleanup "umount $WORK/bpf"
for s in "${SUFFIXES[@]}"; do t_cleanup "$LAB down --prefix $PFX$s"; done
# shellcheck disable=SC2016 # expanded when the cleanup runs
t_cleanup 'kill $(jobs -p)'

# ------------------------------------------------------------ JSON checks
cat >"$WORK/check.py" <<'EOF'
import glob, json, os, subprocess, sys
from report_check import *

def conns(pattern):
    """(client connection, server connection) of every nbdtraffic pair
    whose client JSON matches the glob; the server JSON beside it."""
    out = []
    for cpath in sorted(glob.glob(pattern)):
        cli = json.load(open(cpath))
        srv = json.load(open(cpath.rsplit(".", 1)[0] + ".server"))
        sconn = {(c["peer"], c["peer_port"]): c for c in srv["connections"]}
        for c in cli["connections"]:
            s = sconn.get((c["local"], c["local_port"]))
            if s is None:
                err(f"{cpath}: the server saw no connection from {c['local']}:{c['local_port']}")
                continue
            out.append((c, s))
    return out

def flow_of(r, c, server):
    m = [f for f in r["flows"] if f["server"] == server and f["server_port"] == 902
         and (f["client"], f["client_port"]) == (c["local"], c["local_port"])]
    if not eq(f"flows for client {c['local']}:{c['local_port']}", len(m), 1):
        return None
    return m[0]

def payload(f, c, s):
    n = fname(f)
    eq(f"{n} to_server.payload_bytes (client wrote)", f["to_server"]["payload_bytes"], c["bytes_written"])
    eq(f"{n} to_server.payload_bytes (server read)", f["to_server"]["payload_bytes"], s["bytes_read"])
    eq(f"{n} from_server.payload_bytes (server wrote)", f["from_server"]["payload_bytes"], s["bytes_written"])
    eq(f"{n} from_server.payload_bytes (client read)", f["from_server"]["payload_bytes"], c["bytes_read"])

def macs(entries):
    return sorted((e["mac"], e["interface"]) for e in entries)

# current REPORT server=IP vmk0=MAC vmk4=MAC fixed=FILE window=S interval=S
#         asym=GLOB sym=GLOB
# Asymmetric connections, the route fixed between two connections, then
# symmetric ones: the last report's current verdict cleared, the since-start
# verdict kept, both changes with their times, every connection one flow.
def c_current(r, o):
    server, vmk0, vmk4 = one(o, "server"), one(o, "vmk0"), one(o, "vmk4")
    t0, t1 = map(float, open(one(o, "fixed")).read().split())
    window, interval = float(one(o, "window")), float(one(o, "interval"))
    h = host(r, server)
    if h is None:
        return
    cur = h.get("current")
    if cur is None:
        err(f"host {server} has no current view")
        return
    eq(f"host {server} verdict (since start)", h["verdict"], "asymmetric")
    eq(f"host {server} current.verdict", cur["verdict"], "symmetric")
    eq(f"host {server} current.window", cur["window"], int(window))
    eq(f"host {server} current.rx (mac, interface)", macs(cur["rx"]), [(vmk0, "vmk0")])
    eq(f"host {server} current.tx (mac, interface)", macs(cur["tx"]), [(vmk0, "vmk0")])
    eq(f"host {server} rx since start (mac, interface)", macs(h["rx"]), [(vmk0, "vmk0")])
    eq(f"host {server} tx since start (mac, interface)", macs(h["tx"]),
       sorted([(vmk0, "vmk0"), (vmk4, "vmk4")]))
    ch = h.get("changes", [])
    eq(f"host {server} changes (verdicts)", [c["verdict"] for c in ch], ["asymmetric", "symmetric"])
    if len(ch) == 2:
        if not ch[0]["time"] < t0:
            err(f"asymmetric change at {ch[0]['time']} not before the fix at {t0}")
        late = t1 + window + 2 * interval
        if not t0 <= ch[1]["time"] <= late:
            err(f"symmetric change at {ch[1]['time']}: not within [{t0}, {late}] "
                f"(fix {t0}..{t1}, window {window} + 2 intervals)")
        eq(f"host {server} current.since = time of the last change", cur["since"], ch[1]["time"])
        eq(f"host {server} current.asymmetric_until = time of the symmetric change",
           cur["asymmetric_until"], ch[1]["time"])
    # every connection: one flow, exact payload; before the fix the data
    # left by vmk4, after it by vmk0
    n = {}
    for phase, want, tx in (("asym", "asymmetric", vmk4), ("sym", "symmetric", vmk0)):
        cs = conns(one(o, phase))
        n[phase] = len(cs)
        if not cs:
            err(f"no {phase} connections")
        for c, s in cs:
            f = flow_of(r, c, server)
            if f is None:
                continue
            payload(f, c, s)
            eq(f"{fname(f)} verdict ({phase} phase)", f["verdict"], want)
            eq(f"{fname(f)} to_server.server_macs", f["to_server"]["server_macs"], [vmk0])
            eq(f"{fname(f)} from_server.server_macs ({phase} phase)", f["from_server"]["server_macs"], [tx])
            eq(f"{fname(f)} state", f["state"], "closed")
    eq(f"flows of {server}", len([f for f in r["flows"] if f["server"] == server]), n["asym"] + n["sym"])
    # the host's since-start breakdown is the sum of its flows
    for d, fd in (("rx", "to_server"), ("tx", "from_server")):
        for e in h[d]:
            fl = [f[fd] for f in r["flows"] if f["server"] == server and e["mac"] in f[fd]["server_macs"]]
            eq(f"host {server} {d} {e['interface']} bytes = its flows'", e["bytes"], sum(x["bytes"] for x in fl))
            eq(f"host {server} {d} {e['interface']} packets = its flows'", e["packets"], sum(x["packets"] for x in fl))
    print(f"current: {n['asym']} asymmetric + {n['sym']} symmetric connections; changes "
          + ", ".join(f"{c['verdict']}@{c['time'] - t0:+.3f}s" for c in ch) + " from the fix")

# hosts QUERY REPORT server=IP: `nbdpath hosts --json` agrees with the
# run's last report (read right after it) on the current view and changes
def c_hosts(r, o):
    q = json.loads(open(one(o, "query")).read())
    server = one(o, "server")
    a, b = host(q, server), host(r, server)
    if a is None or b is None:
        return
    for k in ("verdict",):
        eq(f"hosts query vs run: {k}", a[k], b[k])
    ca, cb = a.get("current", {}), b.get("current", {})
    for k in ("verdict", "since", "asymmetric_until", "window"):
        eq(f"hosts query vs run: current.{k}", ca.get(k), cb.get(k))
    for d in ("rx", "tx"):
        eq(f"hosts query vs run: current.{d} (mac, interface)", macs(ca.get(d, [])), macs(cb.get(d, [])))
    eq("hosts query vs run: changes", a.get("changes"), b.get("changes"))

# The objects compared with the flow log, both without the rates (pps,
# bps): those are of one report's interval, the one that logged the flow
# (the interval it ended in) and the last report's (0 for a finished flow);
# every other key is compared.
RATES = ("pps", "bps")
def norates(f):
    f = json.loads(json.dumps(f))
    for d in ("to_server", "from_server"):
        for k in RATES:
            f[d].pop(k, None)
    return f

def key(f):
    return (f["client"], f["client_port"], f["server"], f["server_port"])

def tshark_counts(pcap):
    out = subprocess.run(["tshark", "-r", pcap, "-Y", "tcp.port == 902", "-T", "fields",
                          "-E", "separator=,", "-e", "ip.src", "-e", "ip.dst", "-e", "tcp.srcport",
                          "-e", "tcp.dstport", "-e", "ip.len", "-e", "tcp.len"],
                         capture_output=True, text=True, check=True).stdout
    cnt = defaultdict(lambda: [0, 0, 0])
    for line in out.splitlines():
        src, dst, sp, dp, iplen, tcplen = line.split(",")
        if dp == "902":
            k = (dst, src, int(sp), "to_server")
        else:
            k = (src, dst, int(dp), "from_server")
        c = cnt[k]
        c[0] += 1; c[1] += int(iplen); c[2] += int(tcplen)
    return cnt

def wire(f, cnt):
    n = fname(f)
    for d in ("to_server", "from_server"):
        eq(f"{n} {d} [packets, bytes, payload_bytes] report vs capture",
           [f[d]["packets"], f[d]["bytes"], f[d]["payload_bytes"]],
           cnt.get((f["server"], f["client"], f["client_port"], d), [0, 0, 0]))

# finished REPORT server=IP pcap=FILE log=FILE... STATE=GLOB...
# (STATE: active, closed, reset, idle): each connection one flow in the
# state, finished ones with ended = last_seen, exact counts; active first,
# then finished, most recent first; the flow log (all its files) holds
# each finished flow once, equal to the report's record.
def c_finished(r, o):
    server = one(o, "server")
    cnt = tshark_counts(one(o, "pcap"))
    want = {}
    for st in ("active", "closed", "reset", "idle"):
        for g in o[st]:
            for c, s in conns(g):
                f = flow_of(r, c, server)
                if f is None:
                    continue
                want[key(f)] = st
                n = fname(f)
                eq(f"{n} state", f["state"], st)
                if st == "active":
                    eq(f"{n} ended (active)", f["ended"], None)
                else:
                    eq(f"{n} ended = last_seen", f["ended"], f["last_seen"])
                payload(f, c, s)
                wire(f, cnt)
                eq(f"{n} to_server.tcp_flags has {'RST' if st == 'reset' else 'no RST'}",
                   "RST" in f["to_server"]["tcp_flags"], st == "reset")
    eq("flows listed (client, port)", sorted(key(f) for f in r["flows"]), sorted(want))
    states = [f["state"] for f in r["flows"]]
    na = states.count("active")
    eq("active flows listed first", states[:na], ["active"] * na)
    ended = [f["ended"] for f in r["flows"][na:]]
    eq("finished flows most recent first (ended)", ended, sorted(ended, reverse=True))
    s = r["stats"]
    eq("stats.flows", s["flows"], len(r["flows"]))
    eq("stats.flows_dropped", s["flows_dropped"], 0)
    eq("stats.flows_evicted", s["flows_evicted"], 0)
    # the flow log over its rotated files
    fin = {key(f): norates(f) for f in r["flows"] if f["state"] != "active"}
    seen = defaultdict(int)
    per_file = []
    for path in o["log"]:
        ls = lines(path) if os.path.exists(path) else []
        per_file.append(len(ls))
        raw = open(path).read() if os.path.exists(path) else ""
        if raw and not raw.endswith("\n"):
            err(f"{path}: last line incomplete")
        for l in ls:
            k = key(l)
            seen[k] += 1
            if seen[k] > 1:
                err(f"flow log: {fname(l)} logged {seen[k]} times")
                continue
            if k not in fin:
                err(f"flow log: {fname(l)} ({l.get('state')}) is no finished flow of the report")
                continue
            l = norates(l)
            if l != fin[k]:
                diff = sorted(x for x in set(l) | set(fin[k]) if l.get(x) != fin[k].get(x))
                err(f"flow log: {fname(l)} differs from the report's record in {diff}: "
                    f"log {json.dumps({x: l.get(x) for x in diff})} "
                    f"report {json.dumps({x: fin[k].get(x) for x in diff})}")
    for k in fin:
        if not seen[k]:
            err(f"flow log: finished flow {k} not logged")
    eq("flow log lines per file", per_file, [int(x) for x in o["lines"]])
    print(f"finished: {dict((st, list(want.values()).count(st)) for st in set(want.values()))}, "
          f"flow log lines per file {per_file}")

# bound REPORT server=IP pcap=FILE max=N slots=S old=GLOB new=GLOB
# The flow table holds S slots (--max-flows 1, one CPU's share): the old
# connections fill it and close; the new ones each reclaim an old slot,
# whose record goes to the finished store, which keeps max=N of them and
# counts the others as dropped. The listing then holds the table's flows
# and the N records; the dropped ones are missing from it but not from
# the host and interface totals, which equal the capture's.
def c_bound(r, o):
    server, nmax, slots = one(o, "server"), int(one(o, "max")), int(one(o, "slots"))
    old, new = conns(one(o, "old")), conns(one(o, "new"))
    cnt = tshark_counts(one(o, "pcap"))
    s = r["stats"]
    eq("connections (old, new)", (len(old), len(new)), (slots, 6))
    eq("stats.reclaimed (slots the new connections took over)", s["reclaimed"], len(new))
    dropped = len(new) - nmax
    eq("stats.flows_dropped", s["flows_dropped"], dropped)
    eq("stats.flows_evicted", s["flows_evicted"], dropped)
    fl = [f for f in r["flows"] if f["server"] == server]
    eq("states listed", [f["state"] for f in fl], ["closed"] * len(fl))
    eq("stats.flows", s["flows"], len(fl))
    eq("flows listed: the table's and max records", len(fl), slots + nmax)
    listed = {(f["client"], f["client_port"]) for f in fl}
    for c, sv in new:
        if (c["local"], c["local_port"]) not in listed:
            err(f"new connection {c['local']}:{c['local_port']} not listed")
    eq("old connections missing from the list (= dropped)",
       len([c for c, _ in old if (c["local"], c["local_port"]) not in listed]), dropped)
    for f in fl:
        wire(f, cnt)
    # every packet of every connection, listed or dropped, in the totals
    tot = {"to_server": [0, 0], "from_server": [0, 0]}
    for (srv, cli, port, d), v in cnt.items():
        if srv == server:
            tot[d][0] += v[0]; tot[d][1] += v[1]
    h = host(r, server)
    if h is None:
        return
    for d, fd in (("rx", "to_server"), ("tx", "from_server")):
        eq(f"host {server} {d} [packets, bytes] = capture's of all {len(old) + len(new)} connections",
           [sum(e["packets"] for e in h[d]), sum(e["bytes"] for e in h[d])], tot[fd])
    for d, fd in (("rx", "to_server"), ("tx", "from_server")):
        macs_ = {e["mac"] for e in h[d]}
        ifs = [i for i in r["interfaces"] if i["mac"] in macs_]
        eq(f"interfaces {d} [packets, bytes] = capture's",
           [sum(i[d + "_packets"] for i in ifs), sum(i[d + "_bytes"] for i in ifs)], tot[fd])
    print(f"bound: {len(old)} + {len(new)} connections, {len(fl)} listed, reclaimed {s['reclaimed']}, "
          f"dropped {s['flows_dropped']}, totals {tot}")

run(globals())
EOF

# chk CHECK REPORT ARGS...: one check of check.py, its output into the log
chk() {
	t_log python3 "$WORK/check.py" "$@" || T_CF=$((T_CF + 1))
}

# ------------------------------------------------------------ the labs
sensor_ns() { echo "$PFX$1-sensor"; }

lab_start() { # SFX INDEX
	local sfx=$1 i=$2 ns
	"$LAB" up --prefix "$PFX$sfx" || return 1
	ns=$(sensor_ns "$sfx")
	cat "/tmp/$PFX$sfx/esx1-vmknic.txt" "/tmp/$PFX$sfx/esx2-vmknic.txt" >"$WORK/vmknic-$sfx.txt"
	# the sensor's management link, for the scrapes: a veth to the
	# monitoring namespace, 10.77.I.2 on the sensor's side
	ip -n "$MON" link add "s$i" type veth peer name mgmt0 netns "$ns"
	ip -n "$MON" addr add "10.77.$i.1/24" dev "s$i"
	ip -n "$ns" addr add "10.77.$i.2/24" dev mgmt0
	ip -n "$MON" link set "s$i" up
	ip -n "$ns" link set mgmt0 up
}

# np_start SFX TAG ARGS...: nbdpath run on lab SFX's mirror, JSON lines to
# $WORK/TAG.json, pins under $WORK/bpf/TAG; returns once attached
declare -A NP_PID=()
np_start() {
	local sfx=$1 tag=$2 ns i
	shift 2
	ns=$(sensor_ns "$sfx")
	ip netns exec "$ns" "$NP" run -i mirror0 --vmk-file "$WORK/vmknic-$sfx.txt" \
		--interval 1 --json --pin-dir "$WORK/bpf/$tag" "$@" \
		>"$WORK/$tag.json" 2>"$WORK/$tag.err" &
	NP_PID[$tag]=$!
	for ((i = 0; i < 100; i++)); do
		ip -n "$ns" link show dev mirror0 | grep -q 'prog/xdp' && return 0
		kill -0 "${NP_PID[$tag]}" 2>/dev/null || break
		sleep 0.05
	done
	echo "nbdpath run $* did not attach: $(cat "$WORK/$tag.err")"
	return 1
}

# np_wait TAG [SIGNAL]: the run ended (after SIGNAL if given), status 0
np_wait() {
	local tag=$1 rc=0
	[[ -n ${2:-} ]] && kill "-$2" "${NP_PID[$tag]}"
	wait "${NP_PID[$tag]}" || rc=$?
	if ((rc)); then
		echo "nbdpath run $tag exited $rc: $(cat "$WORK/$tag.err")"
		return 1
	fi
	tail -n 1 "$WORK/$tag.json" >"$WORK/$tag.last"
}

# conn TAG SFX NODE SERVE_CONNS FETCH_ARGS...: one nbdtraffic server on
# lab SFX's esx1 and one client on NODE (1 or 2), in the background; the
# JSONs as $WORK/tr/TAG.{server,client}. conn_wait TAG waits for both.
declare -A C_PIDS=()
conn() {
	local tag=$1 sfx=$2 node=$3 n=$4
	shift 4
	rm -f "$WORK/tr/$tag.ready"
	ip netns exec "$PFX$sfx-esx1" "$TRAFFIC" serve --conns "$n" --timeout 60 \
		--ready-file "$WORK/tr/$tag.ready" >"$WORK/tr/$tag.server" 2>"$WORK/tr/$tag.serr" &
	C_PIDS[$tag]=$!
	t_wait_file "$WORK/tr/$tag.ready" || { echo "server $tag not ready: $(cat "$WORK/tr/$tag.serr")"; return 1; }
	ip netns exec "$PFX$sfx-node$node" "$TRAFFIC" fetch --host "$ESX1_VMK0_IP" \
		--timeout 60 "$@" >"$WORK/tr/$tag.client" 2>"$WORK/tr/$tag.cerr" &
	C_PIDS[$tag]+=" $!"
}
conn_wait() {
	local pid rc=0
	for pid in ${C_PIDS[$1]}; do wait "$pid" || rc=1; done
	((rc == 0)) || echo "nbdtraffic $1 failed: $(cat "$WORK/tr/$1.serr" "$WORK/tr/$1.cerr")"
	return "$rc"
}
# more clients on a server started by conn: CLIENT_TAG SERVER_TAG SFX NODE ARGS...
conn_more() {
	local tag=$1 stag=$2 sfx=$3 node=$4
	shift 4
	ip netns exec "$PFX$sfx-node$node" "$TRAFFIC" fetch --host "$ESX1_VMK0_IP" \
		--timeout 60 "$@" >"$WORK/tr/$tag.client" 2>"$WORK/tr/$tag.cerr" &
	C_PIDS[$stag]+=" $!"
	# the check finds the server's JSON beside each client's
	ln -sf "$WORK/tr/$stag.server" "$WORK/tr/$tag.server"
}

# ------------------------------------------------------------ Prometheus
PROM=127.0.0.1:9090
promq() { # EXPR: the API's answer, the result vector as JSON
	ip netns exec "$MON" curl -sf -G --max-time 5 --data-urlencode "query=$1" \
		"http://$PROM/api/v1/query" |
		python3 -c 'import json,sys; a=json.load(sys.stdin); assert a["status"]=="success"; print(json.dumps(a["data"]["result"]))' 2>/dev/null
}
# promn EXPR N: the query returns N series
promn() {
	local got
	got=$(promq "$1" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))') || return 1
	[[ $got == "$2" ]]
}
# alerts [MATCHERS]: the firing NbdpathHostAsymmetric alerts
alerts() { echo "ALERTS{alertname=\"NbdpathHostAsymmetric\",alertstate=\"firing\"${1:+,$1}}"; }
# firing SFX: the alert fires for lab SFX's esx1, seen by its sensor
firing() { promn "$(alerts "instance=\"$(target "$1")\",server_ip=\"$ESX1_VMK0_IP\"")" 1; }
not_firing() { promn "$(alerts "instance=\"$(target "$1")\"")" 0; }
target() { # SFX: the scrape target of lab SFX's sensor
	local i
	for i in "${!SUFFIXES[@]}"; do
		[[ ${SUFFIXES[i]} == "$1" ]] && echo "10.77.$((i + 1)).2:9100"
	done
}

# ------------------------------------------------------------ traffic loops
# loop SFX: a connection every ~0.3 s from node1 and node2 alternately
# (4 requests of 64 KiB), until $WORK/SFX.stop exists. When $WORK/SFX.fix
# appears, the lab's route is fixed between two connections (the times
# around it in $WORK/SFX.fixed): connections named -asym- saw only the
# asymmetric lab, -sym- only the fixed one.
loop() {
	local sfx=$1 n=0 phase t0 t1
	while [[ ! -e $WORK/$sfx.stop ]]; do
		if [[ -e $WORK/$sfx.fix && ! -e $WORK/$sfx.fixed ]]; then
			t0=$(t_now)
			"$LAB" route fixed --prefix "$PFX$sfx" >"$WORK/$sfx.route" 2>&1 ||
				{ echo "lab.sh route fixed failed" >"$WORK/$sfx.fail"; return 1; }
			t1=$(t_now)
			echo "$t0 $t1" >"$WORK/$sfx.fixed"
		fi
		phase=asym
		[[ -e $WORK/$sfx.fixed ]] && phase=sym
		n=$((n + 1))
		if ! conn "$sfx-$phase-$n" "$sfx" $((n % 2 + 1)) 1 --requests 4 --reply-size 64k ||
			! conn_wait "$sfx-$phase-$n"; then
			echo "connection $sfx-$phase-$n failed" >"$WORK/$sfx.fail"
			return 1
		fi
		sleep 0.3
	done
}

# ================================================ phase 1
t_netns MON
t_group "three labs up, each sensor wired to the monitoring namespace"
LABS_UP=1
for i in "${!SUFFIXES[@]}"; do
	if ! lab_start "${SUFFIXES[i]}" $((i + 1)) >"$WORK/lab-${SUFFIXES[i]}.log" 2>&1; then
		t_log cat "$WORK/lab-${SUFFIXES[i]}.log"
		t_bad "lab ${SUFFIXES[i]} did not come up"
		LABS_UP=0
	fi
done
eval "$("$LAB" env --prefix "${PFX}a")"
t_group_end
((LABS_UP)) || t_done

# every sensor: current verdicts over 4 s, metrics on its management address
RUNS_UP=1
for i in "${!SUFFIXES[@]}"; do
	s=${SUFFIXES[i]}
	np_start "$s" "$s" --window "$WINDOW" --duration 300 --metrics "$(target "$s")" \
		>>"$WORK/run-$s.log" 2>&1 || RUNS_UP=0
done

# Prometheus: the shipped rules with a test-sized for:, every second
sed 's/^\(        for: \)10m$/\13s/' scripts/nbdpath.rules.yml >"$WORK/prom/rules.yml"
cat >"$WORK/prom/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files: [rules.yml]
scrape_configs:
  - job_name: nbdpath
    static_configs:
      - targets: [$(target a), $(target b), $(target c)]
EOF
ip netns exec "$MON" prometheus --config.file="$WORK/prom/prometheus.yml" \
	--storage.tsdb.path="$WORK/prom/data" --web.listen-address="$PROM" \
	>"$WORK/prom/log" 2>&1 &
PROM_PID=$!
t_cleanup "kill $PROM_PID"

t_group "Prometheus scrapes the three sensors"
if ((!RUNS_UP)); then
	for s in "${SUFFIXES[@]}"; do t_log cat "$WORK/run-$s.log"; done
	t_bad "a sensor did not start"
elif [[ $(grep -c '^        for: 3s$' "$WORK/prom/rules.yml") != 1 ]]; then
	t_bad "the rules' for: 10m was not rewritten (once) in the test copy"
elif ! t_until 30 ip netns exec "$MON" curl -sf "http://$PROM/-/ready" >/dev/null 2>&1; then
	t_log tail -n 20 "$WORK/prom/log"
	t_bad "prometheus not ready"
elif ! t_until 20 promn 'up{job="nbdpath"} == 1' 3; then
	t_log promq 'up'
	t_log tail -n 20 "$WORK/prom/log"
	t_bad "not every target up"
fi
P_OK=$((T_CF == 0))
t_group_end
((P_OK)) || t_done

declare -A LOOP_PID=()
for s in "${SUFFIXES[@]}"; do
	loop "$s" >"$WORK/loop-$s.log" 2>&1 &
	LOOP_PID[$s]=$!
done

t_group "asymmetric labs: NbdpathHostAsymmetric fires for each sensor"
if ! t_until 60 promn "$(alerts "server_ip=\"$ESX1_VMK0_IP\"")" 3; then
	t_log promq "$(alerts)"
	t_log promq 'nbdpath_host_current_verdict'
	t_bad "the alert does not fire for the three sensors' esx1"
fi
for s in "${SUFFIXES[@]}"; do
	[[ -e $WORK/$s.fail ]] && t_bad "lab $s traffic: $(cat "$WORK/$s.fail")"
done
t_group_end

# The seed's finding in the per-host series: lab a's esx1 receives on
# vmk0's MAC only and sends from vmk4's only, vmk labels from --vmk-file.
t_group "nbdpath_server_bytes_total: requests on vmk0, data on vmk4 (seed's finding)"
got=$(promq "nbdpath_server_bytes_total{instance=\"$(target a)\",server_ip=\"$ESX1_VMK0_IP\"} > 0" |
	python3 -c 'import json, sys
m = [r["metric"] for r in json.load(sys.stdin)]
print(" ".join(sorted(x["direction"] + "/" + x["mac"] + "/" + x.get("vmk", "-") for x in m)))') || true
t_check "series of lab a's esx1 (direction/mac/vmk)" "$got" \
	"from_server/$ESX1_VMK4_MAC/vmk4 to_server/$ESX1_VMK0_MAC/vmk0"
t_group_end

# Three sensors, the same ESXi address in each lab: the series differ by
# their target labels alone.
t_group "three sensors: an ESXi host's series told apart by instance alone"
promq "nbdpath_server_bytes_total{server_ip=\"$ESX1_VMK0_IP\",mac=\"$ESX1_VMK0_MAC\",direction=\"to_server\"}" \
	>"$WORK/three.json" || true
if ! t_log python3 - "$WORK/three.json" "$(target a)" "$(target b)" "$(target c)" <<'EOF'; then
import json, sys
res = json.load(open(sys.argv[1]))
want = sorted(sys.argv[2:])
m = [r["metric"] for r in res]
bad = 0
if sorted(x.get("instance") for x in m) != want:
    print(f"instances {sorted(x.get('instance') for x in m)} != {want}"); bad = 1
rest = [tuple(sorted((k, v) for k, v in x.items() if k != "instance")) for x in m]
if len(set(rest)) != 1:
    print(f"label sets without instance differ: {rest}"); bad = 1
print(f"{len(m)} series: {m}")
sys.exit(bad)
EOF
	t_bad "three series for one server_ip/mac/direction, differing by instance only"
fi
t_group_end

# ---- the operator fixes lab a's route
touch "$WORK/a.fix"
t_group "lab.sh route fixed mid-run: lab a's alert resolves, b and c keep firing"
if ! t_until 20 test -s "$WORK/a.fixed"; then
	t_bad "the route was not fixed: $(cat "$WORK/a.route" "$WORK/a.fail" 2>/dev/null)"
fi
# lastline SFX: the run's last report, as a file of one line
lastline() { tail -n 1 "$WORK/$1.json" >"$WORK/$1.now"; echo "$WORK/$1.now"; }
sym_now() { [[ $(jget "$(lastline a)" 'host(IP_ESX)["current"]["verdict"]' 2>/dev/null) == symmetric ]]; }
if ! t_until 30 sym_now; then
	t_bad "lab a's current verdict not symmetric 30 s after the fix"
fi
if ! t_until 20 not_firing a; then
	t_log promq "$(alerts)"
	t_bad "lab a's alert still firing"
fi
promn "nbdpath_host_current_verdict{instance=\"$(target a)\",server_ip=\"$ESX1_VMK0_IP\",verdict=\"symmetric\"}" 1 ||
	t_bad "no current verdict series symmetric for lab a's esx1"
promn "nbdpath_host_verdict{instance=\"$(target a)\",server_ip=\"$ESX1_VMK0_IP\",verdict=\"asymmetric\"}" 1 ||
	t_bad "the since-start verdict series of lab a's esx1 is not asymmetric"
promn "nbdpath_server_bytes_total{instance=\"$(target a)\",server_ip=\"$ESX1_VMK0_IP\",direction=\"from_server\",mac=\"$ESX1_VMK0_MAC\",vmk=\"vmk0\"} > 0" 1 ||
	t_bad "lab a's esx1 does not send from vmk0 after the fix"
firing b || t_bad "lab b's alert stopped firing"
firing c || t_bad "lab c's alert stopped firing"
t_group_end

# the queries, while lab a's traffic goes on: the same view as the run's
# last report; the human one leads with the current verdict
t_group "hosts query agrees with the run's last report; the human one says SYMMETRIC now"
ns_a=$(sensor_ns a)
for ((k = 0; k < 5; k++)); do
	before=$(t_lines "$WORK/a.json")
	ip netns exec "$ns_a" "$NP" hosts --json --pin-dir "$WORK/bpf/a" >"$WORK/hosts-a.json" 2>"$WORK/hosts-a.err" || true
	ip netns exec "$ns_a" "$NP" hosts --pin-dir "$WORK/bpf/a" >"$WORK/hosts-a.txt" 2>&1 || true
	tail -n 1 "$WORK/a.json" >"$WORK/a.atquery"
	# no report printed while querying: both show the same poll
	[[ $(t_lines "$WORK/a.json") == "$before" ]] && break
done
if [[ -s $WORK/hosts-a.json ]]; then
	chk hosts "$WORK/a.atquery" query="$WORK/hosts-a.json" server="$ESX1_VMK0_IP"
else
	t_bad "nbdpath hosts --json: $(cat "$WORK/hosts-a.err")"
fi
grep -q "SYMMETRIC now (since [0-9:]*), asymmetric until [0-9:]*" "$WORK/hosts-a.txt" ||
	t_bad "human hosts view lacks 'SYMMETRIC now (since T), asymmetric until T'"
t_log cat "$WORK/hosts-a.txt"
t_group_end

# lab a: traffic stopped and the run stopped at once, within the window:
# its last report still sees the symmetric host
touch "$WORK/a.stop"
t_group "lab a, last report: current symmetric on vmk0, verdict asymmetric, both changes"
wait "${LOOP_PID[a]}" || true
# the last ACKs on the wire and in a poll
sleep 0.3
if np_wait a INT >>"$WORK/run-a.log" 2>&1; then
	chk current "$WORK/a.last" server="$ESX1_VMK0_IP" vmk0="$ESX1_VMK0_MAC" vmk4="$ESX1_VMK4_MAC" \
		fixed="$WORK/a.fixed" window="$WINDOW" interval=1 \
		asym="$WORK/tr/a-asym-*.client" sym="$WORK/tr/a-sym-*.client"
else
	t_log cat "$WORK/run-a.log"
	t_bad "the run of lab a failed"
fi
[[ -e $WORK/a.fail ]] && t_bad "lab a traffic: $(cat "$WORK/a.fail")"
t_group_end

# labs b and c: traffic stopped; their hosts turn idle and the alert clears;
# Prometheus then holds the counters nbdpath printed last, to the byte
touch "$WORK/b.stop" "$WORK/c.stop"
wait "${LOOP_PID[b]}" "${LOOP_PID[c]}" || true
t_group "traffic stopped: b and c idle, alert cleared, counters in Prometheus = report"
for s in b c; do
	t_until 20 not_firing "$s" || t_bad "lab $s's alert still firing after its traffic stopped"
	promn "nbdpath_host_current_verdict{instance=\"$(target "$s")\",server_ip=\"$ESX1_VMK0_IP\"}" 0 ||
		t_bad "lab $s's idle host still has a current verdict series"
done
for s in b c; do
	[[ -e $WORK/$s.fail ]] && t_bad "lab $s traffic: $(cat "$WORK/$s.fail")"
	# the sensor's counters no longer move; Prometheus has the last scrape
	last_sum() { jget "$(lastline "$1")" \
		"' '.join(d + '/' + e['mac'] + '/' + str(e['bytes']) for d in ('rx', 'tx') for e in sorted(host(IP_ESX)[d], key=lambda e: e['mac']))"; }
	prom_sum() { promq "nbdpath_server_bytes_total{instance=\"$(target "$1")\",server_ip=\"$ESX1_VMK0_IP\"}" |
		python3 -c 'import json, sys
d = {"to_server": "rx", "from_server": "tx"}
rs = sorted(json.load(sys.stdin), key=lambda r: (r["metric"]["direction"] != "to_server", r["metric"]["mac"]))
print(" ".join(d[r["metric"]["direction"]] + "/" + r["metric"]["mac"] + "/" + r["value"][1] for r in rs))'; }
	same_sum() { [[ $(last_sum "$1") == "$(prom_sum "$1")" ]]; }
	if ! t_until 15 same_sum "$s"; then
		t_bad "lab $s: report $(last_sum "$s") vs Prometheus $(prom_sum "$s")"
	fi
	t_log echo "lab $s: esx1 bytes per direction/mac: $(last_sum "$s") (report and Prometheus)"
	np_wait "$s" INT >>"$WORK/run-$s.log" 2>&1 || t_bad "the run of lab $s failed: $(cat "$WORK/run-$s.log")"
done
t_group_end
kill "$PROM_PID" 2>/dev/null || true
wait "$PROM_PID" 2>/dev/null || true


# ================================================ phase 2
# lab b: finished flows of every kind, the flow log rotated twice; lab c at
# the same time: the memory bound. Each run ends by --duration.
DUR_B=18
DUR_C=24
C_SLOTS=24		# the smallest flow table (nbdpath(8), --max-flows)
FLOG=$WORK/flows.log

# listener_gone SFX: the last server on lab SFX's esx1 accepted all its
# connections (port 902 free for the next one)
listener_gone() { [[ -z $(ip netns exec "$PFX$1-esx1" ss -Hltn 'sport = :902') ]]; }
# lines_ge FILE N: FILE has at least N lines
lines_ge() { (($(t_lines "$1") >= $2)); }
# hold_until T: seconds from now until T (Unix time), for fetch --hold
hold_until() { python3 -c "import time; print(round(max(1.0, $1 - time.time()), 3))"; }

# b: FIN x2 + RST, copytruncate; FIN + RST + one held idle, rename and
# SIGHUP; FIN + RST; one connection still active at the end
# nfcapd in lab b's sensor namespace, storing in $WORK/nfb: the run's
# --ipfix collector
nfcapd_b() {
	local i ns
	ns=$(sensor_ns b)
	mkdir -p "$WORK/nfb"
	ip -n "$ns" link set lo up
	ip netns exec "$ns" nfcapd -D -w "$WORK/nfb" -b 127.0.0.1 -p 4739 \
		-P "$WORK/nfb.pid" || return 1
	for ((i = 0; i < 100; i++)); do
		[[ -s $WORK/nfb.pid ]] && ip netns exec "$ns" ss -Hunl "sport = :4739" | grep -q . && return 0
		sleep 0.1
	done
	echo "nfcapd did not start"
	return 1
}

# nfcapd_b_stop: once it has read what is queued; its files are then final
nfcapd_b_stop() {
	local i pid
	pid=$(cat "$WORK/nfb.pid" 2>/dev/null) || return 1
	sleep 1
	kill "$pid"
	for ((i = 0; i < 100; i++)); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.1
	done
	return 1
}

case_b() {
	local t0 h
	command -v nfcapd >/dev/null && nfcapd_b || return 1
	np_start b fin --duration "$DUR_B" --idle-timeout "$IDLE" --flow-log "$FLOG" \
		--ipfix 127.0.0.1:4739 --active-timeout 2 || return 1
	t0=$(t_now)
	t_capture_start "${PFX}b-sw" span "$WORK/fin.pcap" || return 1
	conn w1 b 1 3 --conns 2 --requests 3 --reply-size 100k
	conn_more w1r w1 b 2 --requests 3 --reply-size 100k --end rst
	conn_wait w1 || return 1
	t_until 10 lines_ge "$FLOG" 3 || { echo "wave 1: $(t_lines "$FLOG") lines logged, want 3"; return 1; }
	# logrotate's copytruncate
	cp "$FLOG" "$FLOG.1"
	truncate -s 0 "$FLOG"
	echo "copytruncate at +$(python3 -c "print(round($(t_now) - $t0, 3))") s"
	# held idle past the end of the run, and past the capture's end (8 s
	# after it: a loaded machine may be slow to stop the capture) so that
	# the capture holds no frame the run's last report could not
	h=$(hold_until "$t0 + $DUR_B + 8")
	conn w2i b 1 1 --requests 2 --reply-size 50k --hold "$h"
	t_until 5 listener_gone b || { echo "the idle connection's server did not accept"; return 1; }
	conn w2 b 1 2 --requests 3 --reply-size 100k
	conn_more w2r w2 b 2 --requests 3 --reply-size 100k --end rst
	conn_wait w2 || return 1
	t_until 20 lines_ge "$FLOG" 3 || { echo "wave 2: $(t_lines "$FLOG") lines logged, want 3"; return 1; }
	# logrotate by rename, then its postrotate: SIGHUP
	mv "$FLOG" "$FLOG.2"
	kill -HUP "${NP_PID[fin]}"
	echo "rename + SIGHUP at +$(python3 -c "print(round($(t_now) - $t0, 3))") s"
	conn w3 b 1 2 --requests 3 --reply-size 100k
	conn_more w3r w3 b 2 --requests 3 --reply-size 100k --end rst
	conn_wait w3 || return 1
	t_until 10 lines_ge "$FLOG" 2 || { echo "wave 3: $(t_lines "$FLOG") lines logged, want 2"; return 1; }
	# active at the end: its last packet well within --idle-timeout of it
	sleep "$(python3 -c "import time; print(max(0, $t0 + $DUR_B - 2.5 - time.time()))")"
	h=$(hold_until "$t0 + $DUR_B + 8")
	conn w4a b 2 1 --requests 2 --reply-size 50k --hold "$h"
	np_wait fin || return 1
	nfcapd_b_stop || { echo "nfcapd did not stop"; return 1; }
	t_capture_stop "$WORK/fin.pcap" || return 1
	conn_wait w2i || return 1
	conn_wait w4a || return 1
}

# c: the smallest flow table, 24 slots (--max-flows 1 on one CPU: two
# buckets of 8 and the stash; nbdtraffic pins every socket to the first
# CPU, so the frames are counted there); 24 connections fill it and
# close; once they are reclaimable (closed 5 s, nbdpath(8)
# --idle-timeout), 6 more take over 6 of their slots, and 6 records go to
# a store of 3
case_c() {
	local k
	np_start c bound --duration "$DUR_C" --max-flows 1 --max-finished 3 || return 1
	t_capture_start "${PFX}c-sw" span "$WORK/bound.pcap" || return 1
	for k in $(seq 1 $C_SLOTS); do
		conn "o$k" c $((k % 2 + 1)) 1 --requests 2 --reply-size 50k
		conn_wait "o$k" || return 1
	done
	sleep 5.5
	for k in 1 2 3 4 5 6; do
		conn "n$k" c $((k % 2 + 1)) 1 --requests 2 --reply-size 50k
		conn_wait "n$k" || return 1
	done
	np_wait bound || return 1
	t_capture_stop "$WORK/bound.pcap"
}

( case_c ) >"$WORK/case-c.log" 2>&1 &
C_PID=$!
B_OK=1
case_b >"$WORK/case-b.log" 2>&1 || B_OK=0
C_OK=1
wait "$C_PID" || C_OK=0

t_group "finished flows: FIN, RST, idle listed once each, exact counts; flow log across two rotations"
if ((B_OK)); then
	chk finished "$WORK/fin.last" server="$ESX1_VMK0_IP" pcap="$WORK/fin.pcap" \
		log="$FLOG.1" log="$FLOG.2" log="$FLOG" lines=3 lines=3 lines=2 \
		closed="$WORK/tr/w1.client" reset="$WORK/tr/w1r.client" \
		closed="$WORK/tr/w2.client" reset="$WORK/tr/w2r.client" idle="$WORK/tr/w2i.client" \
		closed="$WORK/tr/w3.client" reset="$WORK/tr/w3r.client" active="$WORK/tr/w4a.client"
else
	t_bad "the run failed"
fi
if ((T_CF)); then
	t_log cat "$WORK/case-b.log" "$WORK/fin.err" || true
	t_log python3 -m json.tool "$WORK/fin.last" || true
else
	t_log cat "$WORK/case-b.log" || true
fi
t_group_end

t_group "IPFIX from the live run: nfcapd's sums per flow, direction and MAC equal its last report"
if ((B_OK)) && nfdump -R "$WORK/nfb" -o json >"$WORK/nfb.json" 2>>"$_t_log"; then
	t_log python3 - "$WORK/nfb.json" "$WORK/fin.last" <<'EOF' || T_CF=$((T_CF + 1))
import json, sys
recs = json.load(open(sys.argv[1]))
rep = json.loads(open(sys.argv[2]).read())
got, want = {}, {}
for f in recs:
    src = f.get("src4_addr") or f.get("src6_addr")
    dst = f.get("dst4_addr") or f.get("dst6_addr")
    if f["src_port"] == 902:
        k = (src, dst, f["dst_port"], "from_server", f["in_src_mac"])
    else:
        k = (dst, src, f["src_port"], "to_server", f["in_dst_mac"])
    g = got.setdefault(k, [0, 0, 0])
    g[0] += f["in_packets"]; g[1] += f["in_bytes"]; g[2] += 1
for f in rep["flows"]:
    for d in ("to_server", "from_server"):
        x = f[d]
        if x["packets"]:
            want[(f["server"], f["client"], f["client_port"], d, x["server_macs"][0])] = \
                [x["packets"], x["bytes"]]
bad = 0
for k in sorted(set(got) | set(want)):
    if got.get(k, [None, None])[:2] != want.get(k):
        print(f"{k}: nfcapd {got.get(k)} report {want.get(k)}")
        bad += 1
print(f"ipfix: {len(recs)} records for {len(want)} flow directions, "
      f"{sum(1 for v in got.values() if v[2] > 1)} exported in several pieces")
sys.exit(1 if bad or not want else 0)
EOF
else
	t_bad "the run failed, or nfdump cannot read its files"
fi
t_group_end

t_group "memory bound: 6 reclaimed records, --max-finished 3: 3 dropped and counted, totals complete"
if ((C_OK)); then
	chk bound "$WORK/bound.last" server="$ESX1_VMK0_IP" pcap="$WORK/bound.pcap" max=3 slots=$C_SLOTS \
		old="$WORK/tr/o*.client" new="$WORK/tr/n[1-6].client"
else
	t_bad "the run failed"
fi
if ((T_CF)); then
	t_log cat "$WORK/case-c.log" "$WORK/bound.err" || true
	t_log python3 -m json.tool "$WORK/bound.last" || true
fi
t_group_end

t_done
