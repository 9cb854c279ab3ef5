#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Time in `nbdpath replay` (nbdpath(8), TIME, FLOWS, FLOW LOG): the
# three hours of backup jobs of mkpcap's "long" scenario (tests/mkpcap.c
# says what it holds) replayed whole and per interval. Every expected
# number comes from a model of the capture written here from mkpcap's
# description: the frames of each job with their times, MACs and IP
# lengths; the flows, hosts, interfaces and per-window verdicts follow
# from them. The key times are also written out by hand.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

t_need_root replay_time "CAP_BPF, CAP_NET_ADMIN"

MKPCAP=$NP_BUILD/mkpcap
D=$(mktemp -d)
chmod 755 "$D"
t_cleanup "rm -rf '$D'"

VMKS=(--vmk "$VMK0_NAME=$MAC_VMK0" --vmk "$VMK4_NAME=$MAC_VMK4")
# the window of the current verdict; without --interval, replay steps
# through the capture a tenth of it at a time (60 s): the times of the
# changes are those steps' ends
WINDOW=600
STEP=60

# replay NAME FILE [options]: report in $D/NAME.json, stderr in
# $D/NAME.err, exit status in $rc
replay() {
	local name=$1
	shift
	"$NP" replay "$@" >"$D/$name.json" 2>"$D/$name.err"
	rc=$?
	{
		echo "\$ nbdpath replay $*  (exit $rc)"
		cat "$D/$name.err"
		head -c 2000 "$D/$name.json"
		echo
	} >>"$_t_log"
}

# The model of mkpcap's "long" capture, and the checks that use it:
#   model.py CHECK FILE... (see the functions below); mismatches printed
cat >"$D/model.py" <<'EOF'
import json, os, sys
from report_check import *

E = os.environ
T0 = int(E["SEED_UNIX0"])
WINDOW = int(E["WINDOW"])
STEP = int(E["STEP"])
FSTEP = 1000123e-9		# frames of one phase of a job
IDLE = 300			# --idle-timeout's default
N_JOBS = 34
ASYM = (3600, 7200)		# 10.0.0.10's replies leave by vmk4
TO, FROM = 0, 1

def job(n):
    i = n // 2 + (n // 2 >= 15)		# interval 15 has no job
    h2 = n % 2 == 1
    s = 600 * i + (330 if h2 else 0)
    kind = ("open" if n % 3 == 2 or n == N_JOBS - 1 else
            "reset" if n % 3 == 1 else "closed")
    return h2, s, kind

# (offset, [(dir, payload)...]) of each phase, as mkpcap's sc_long
PHASES = [(0, [(TO, 0), (FROM, 0), (TO, 0)]), (1, [(TO, 64)]),
          (60, [(FROM, 1448)]), (120, [(FROM, 1448), (TO, 0)]),
          (150, [(FROM, 1000)])]
END = {"closed": (200, [(TO, 0), (FROM, 0), (TO, 0)]),
       "reset": (200, [(TO, 0)]), "open": None}

def server_mac(h2, d, t):
    if not h2 and d == FROM and ASYM[0] <= t < ASYM[1]:
        return E["MAC_VMK4"]
    return E["MAC_ESX2_VMK0"] if h2 else E["MAC_VMK0"]

NAMES = {E["MAC_VMK0"]: "vmk0", E["MAC_VMK4"]: "vmk4"}

# every frame: (capture time from T0, job, host IP, dir, server MAC, IP length)
FRAMES = []
for n in range(N_JOBS):
    h2, s, kind = job(n)
    ip = E["IP_ESX2"] if h2 else E["IP_ESX"]
    for ph in PHASES + ([END[kind]] if END[kind] else []):
        off, segs = ph
        for k, (d, pay) in enumerate(segs):
            FRAMES.append((s + off + k * FSTEP, n, ip, d,
                           server_mac(h2, d, s + off), 40 + pay, pay))
FRAMES.sort()
LAST = FRAMES[-1][0]

def flows():
    """Each job's flow object, the keys the checks compare."""
    out = {}
    for n in range(N_JOBS):
        h2, s, kind = job(n)
        fr = [f for f in FRAMES if f[1] == n]
        last = max(f[0] for f in fr)
        state = kind if kind != "open" else (
            "active" if LAST - last < IDLE else "idle")
        dirs = []
        for d in (TO, FROM):
            x = [f for f in fr if f[3] == d]
            macs = sorted({f[4] for f in x})
            dirs.append((len(x), sum(f[5] for f in x), sum(f[6] for f in x),
                         macs, NAMES.get(x[-1][4])))
        asym = dirs[0][3] != dirs[1][3]
        out[40000 + n] = {
            "server": E["IP_ESX2"] if h2 else E["IP_ESX"],
            "client": E["IP_RUBRIK"], "server_port": 902,
            "client_port": 40000 + n,
            "verdict": "asymmetric" if asym else "symmetric",
            "state": state,
            "to": dirs[0], "from": dirs[1],
            "first_seen": round(T0 + s, 4), "last_seen": round(T0 + last, 4),
            "ended": None if state == "active" else round(T0 + last, 4),
        }
    return out

def got_flow(f):
    dirs = []
    for k in ("to_server", "from_server"):
        x = f[k]
        dirs.append((x["packets"], x["bytes"], x["payload_bytes"],
                     x["server_macs"], x["interface"]))
    return {"server": f["server"], "client": f["client"],
            "server_port": f["server_port"], "client_port": f["client_port"],
            "verdict": f["verdict"], "state": f["state"],
            "to": dirs[0], "from": dirs[1],
            "first_seen": round(f["first_seen"], 4),
            "last_seen": round(f["last_seen"], 4),
            "ended": None if f["ended"] is None else round(f["ended"], 4)}

def expected_order(fl):
    act = [p for p, f in fl.items() if f["state"] == "active"]
    fin = [p for p, f in fl.items() if f["state"] != "active"]
    # one active flow: the byte order among active ones is moot here
    assert len(act) == 1
    return act + sorted(fin, key=lambda p: -fl[p]["last_seen"])

def counts(frames):
    """Per host: {(dir, MAC): [packets, bytes]}."""
    h = {}
    for f in frames:
        c = h.setdefault(f[2], {}).setdefault((f[3], f[4]), [0, 0])
        c[0] += 1
        c[1] += f[5]
    return h

def verdict(c):
    rx = sorted(m for d, m in c if d == TO)
    tx = sorted(m for d, m in c if d == FROM)
    if not rx and not tx:
        return "idle"
    if rx and tx:
        return "symmetric" if rx == tx else "asymmetric"
    return "to_server_only" if rx else "from_server_only"

def steps(step):
    """Report times: a step every `step` s of capture time from the
    first frame (taken before a frame at that very time), the last at
    the last frame."""
    t = []
    k = 1
    while step * k <= LAST:
        t.append(step * k)
        k += 1
    return t + [LAST]

def window(step, e, final):
    """The frames of the window of the report at e: since the newest
    earlier step end at least WINDOW old."""
    base = max([t for t in steps(step)[:-1] if e - t >= WINDOW] or [-1])
    return [f for f in FRAMES if f[0] >= base and (final or f[0] < e)]

def history(step):
    """Per host: the current verdict of every report, and its changes."""
    st = steps(step)
    seen, ch, cur = set(), {}, {}
    for k, e in enumerate(st):
        final = k == len(st) - 1
        for f in FRAMES:
            if f[0] < e or final:
                seen.add(f[2])
        c = counts(window(step, e, final))
        for ip in sorted(seen):
            v = verdict(c.get(ip, {}))
            if not ch.get(ip) or ch[ip][-1][1] != v:
                ch.setdefault(ip, []).append((T0 + e, v))
            cur[ip] = (v, c.get(ip, {}))
    return cur, ch

check = eq

def mac_list(entries):
    return sorted((x["mac"], x["packets"], x["bytes"]) for x in entries)

def model_macs(c, d):
    return sorted((m, v[0], v[1]) for (dd, m), v in c.items() if dd == d)

def check_totals(j, what):
    c = counts(FRAMES)
    for h in j["hosts"]:
        check(f"{what} {h['ip']} rx", mac_list(h["rx"]), model_macs(c[h["ip"]], TO))
        check(f"{what} {h['ip']} tx", mac_list(h["tx"]), model_macs(c[h["ip"]], FROM))
    check(f"{what} hosts", sorted(h["ip"] for h in j["hosts"]), sorted(c))
    ifs = {}
    for f in FRAMES:
        x = ifs.setdefault(f[4], [0, 0, 0, 0])
        x[2 * f[3]] += 1
        x[2 * f[3] + 1] += f[5]
    check(f"{what} interfaces",
          sorted((i["mac"], i["rx_packets"], i["rx_bytes"], i["tx_packets"],
                  i["tx_bytes"]) for i in j["interfaces"]),
          sorted((m, *v) for m, v in ifs.items()))

def load(path):
    with open(path) as fh:
        lines = fh.read().splitlines()
    return [json.loads(l) for l in lines]

def c_whole(path):
    """The one report of the whole capture."""
    rs = load(path)
    check("reports", len(rs), 1)
    j = rs[0]
    fl = flows()
    got = [got_flow(f) for f in j["flows"]]
    check("flows, in order", [f["client_port"] for f in got], expected_order(fl))
    for f in got:
        check(f"flow {f['client_port']}", f, fl.get(f["client_port"]))
    st = j["stats"]
    check("stats", [st[k] for k in ("packets", "matched", "flows", "flows_active",
                                    "flows_finished", "flows_evicted",
                                    "flows_dropped")],
          [len(FRAMES), len(FRAMES), N_JOBS, 1, N_JOBS - 1, 0, 0])
    check("time", round(j["time"], 4), round(T0 + LAST, 4))
    check_totals(j, "totals")
    cur, ch = history(STEP)
    for h in j["hosts"]:
        v, c = cur[h["ip"]]
        check(f"{h['ip']} current", h["current"]["verdict"], v)
        check(f"{h['ip']} current.window", h["current"]["window"], WINDOW)
        check(f"{h['ip']} current rx", mac_list(h["current"]["rx"]), model_macs(c, TO))
        check(f"{h['ip']} current tx", mac_list(h["current"]["tx"]), model_macs(c, FROM))
        check(f"{h['ip']} changes",
              [(round(x["time"], 4), x["verdict"]) for x in h["changes"]],
              [(float(t), v) for t, v in ch[h["ip"]]])
        check(f"{h['ip']} since", h["current"]["since"], float(ch[h["ip"]][-1][0]))

def c_counts():
    """mkpcap's comment: the counts of each kind of job."""
    want = {"closed": ((6, 304, 64), (5, 4096, 3896)),
            "reset": ((5, 264, 64), (4, 4056, 3896)),
            "open": ((4, 224, 64), (4, 4056, 3896))}
    for p, f in flows().items():
        kind = job(p - 40000)[2]
        check(f"model job {p}", (f["to"][:3], f["from"][:3]), want[kind])

def strip_rates(f):
    for k in ("to_server", "from_server"):
        f[k].pop("pps", None)
        f[k].pop("bps", None)
    return f

def c_intervals(path, whole):
    """--interval 600: one report per interval, as the model says."""
    rs = load(path)
    ends = steps(600)
    check("reports", len(rs), len(ends))
    sums = {}
    prev = 0
    for k, (j, e) in enumerate(zip(rs, ends)):
        final = k == len(ends) - 1
        check(f"#{k} time", round(j["time"], 4), round(T0 + e, 4))
        check(f"#{k} interval", j.get("interval"), float(e - prev))
        c = counts(window(600, e, final))
        for h in j["hosts"]:
            v = verdict(c.get(h["ip"], {}))
            check(f"#{k} {h['ip']} current", h["current"]["verdict"], v)
            if v == "idle":
                check(f"#{k} {h['ip']} idle current rx/tx",
                      (h["current"]["rx"], h["current"]["tx"]), ([], []))
            for d in ("rx", "tx"):
                for x in h[d]:
                    check(f"#{k} {h['ip']} {d} {x['mac']} named",
                          x["interface"], NAMES.get(x["mac"]))
                    s = sums.setdefault((h["ip"], d, x["mac"]), [0, 0])
                    s[0] += round(x["pps"] * j["interval"])
                    s[1] += round(x["bps"] * j["interval"] / 8)
        for i in j["interfaces"]:
            for d in ("rx", "tx"):
                s = sums.setdefault(("if", d, i["mac"]), [0, 0])
                s[0] += round(i[d + "_pps"] * j["interval"])
                s[1] += round(i[d + "_bps"] * j["interval"] / 8)
        prev = e
    w = load(whole)[0]
    tot = {}
    for h in w["hosts"]:
        for d in ("rx", "tx"):
            for x in h[d]:
                tot[(h["ip"], d, x["mac"])] = [x["packets"], x["bytes"]]
    for i in w["interfaces"]:
        for d in ("rx", "tx"):
            tot[("if", d, i["mac"])] = [i[d + "_packets"], i[d + "_bytes"]]
    check("sums of the intervals' deltas", sums, tot)
    check("last report's flows",
          [strip_rates(f) for f in rs[-1]["flows"]], w["flows"])

def c_flowlog(log, whole, rates):
    """One line per finished job, each the whole-file report's record."""
    w = {f["client_port"]: f for f in load(whole)[0]["flows"]}
    lines = load(log)
    ports = [f["client_port"] for f in lines]
    fin = sorted(p for p, f in flows().items() if f["state"] != "active")
    check("flow log: one line per finished job", sorted(ports), fin)
    for f in lines:
        if rates:
            strip_rates(f)
        check(f"flow log {f['client_port']}", f, w.get(f["client_port"]))

def c_bound(path, whole, max_fin):
    """Fewer records kept than finished jobs: the dropped are counted,
    the totals keep them, the listed are the whole file's records."""
    j = load(path)[0]
    w = load(whole)[0]
    st = j["stats"]
    wf = {f["client_port"]: f for f in w["flows"]}
    check("some records dropped", st["flows_dropped"] > 0, True)
    check("dropped: reclaimed slots' records past the bound",
          st["flows_dropped"], st["reclaimed"] - max_fin)
    check("flows listed", len(j["flows"]), N_JOBS - st["flows_dropped"])
    check("flows_evicted", st["flows_evicted"], st["flows_dropped"])
    check("flows in stats", st["flows"], len(j["flows"]))
    for f in j["flows"]:
        check(f"flow {f['client_port']}", f, wf.get(f["client_port"]))
    check("hosts", j["hosts"], w["hosts"])
    check("interfaces", j["interfaces"], w["interfaces"])
    check_totals(j, "totals")

fn = sys.argv[1]
args = sys.argv[2:]
if fn == "whole":
    c_whole(*args)
elif fn == "counts":
    c_counts()
elif fn == "intervals":
    c_intervals(*args)
elif fn == "flowlog":
    c_flowlog(args[0], args[1], args[2] == "rates")
elif fn == "bound":
    c_bound(args[0], args[1], int(args[2]))
elif fn == "same":
    a, b = load(args[0])[0], load(args[1])[0]
    for k in ("flows", "hosts", "interfaces"):
        check(k, a[k], b[k])
finish()
EOF
export WINDOW STEP
model() { t_log python3 "$D/model.py" "$@"; }

t_begin replay_time_capture
if t_log "$MKPCAP" long "$D/long.pcap" && model counts; then
	t_ok
else
	t_fail "mkpcap long, and the counts its description states"
fi

# ---- (a) the whole capture: every job, the current verdict, changes ----

t_begin replay_time_whole
# the key times, by hand: 10.0.0.10's first reply by vmk4 is at 3600 s
# (job 12's SYN/ACK): asymmetric from the end of that 60 s step, 3660 s;
# its last is job 22's at 6750 s, out of the 600 s window after 7350 s:
# symmetric from the step's end at 7380 s. Each within one step (60 s)
# of the truth. After the gap (no frame 9000-9600 s) it is symmetric
# again from 9660 s.
if replay whole "$D/long.pcap" --json --window "$WINDOW" "${VMKS[@]}" &&
   t_expect exit "$rc" 0 && t_expect stderr "$(cat "$D/whole.err")" "" &&
   model whole "$D/whole.json" &&
   jcheck "$D/whole.json" \
	'host(IP_ESX)["verdict"]' '"asymmetric"' \
	'host(IP_ESX)["current"]["verdict"]' '"symmetric"' \
	'host(IP_ESX)["current"]["since"]' "$((SEED_UNIX0 + 9660)).0" \
	'host(IP_ESX)["current"]["asymmetric_until"]' "$((SEED_UNIX0 + 7380)).0" \
	'[c["time"] - SEED_UNIX0 for c in host(IP_ESX)["changes"] if c["verdict"] == "asymmetric"]' '[3660.0]' \
	'[c["time"] - SEED_UNIX0 for c in host(IP_ESX)["changes"]][2]' 7380.0 \
	'0 <= 3660 - 3600 <= '"$STEP" True \
	'0 <= 7380 - (6750 + '"$WINDOW"') <= '"$STEP" True \
	'host(IP_ESX2)["verdict"]' '"symmetric"' \
	'"asymmetric" in [c["verdict"] for c in host(IP_ESX2)["changes"]]' False \
	'[f["state"] for f in j["flows"]][:1]' '["active"]' \
	'all(f["ended"] == f["last_seen"] for f in j["flows"][1:])' True \
	'sorted({f["state"] for f in j["flows"]})' '["active", "closed", "idle", "reset"]'; then
	t_ok
else
	t_fail "every job once with its counts and state, current verdict and changes of the whole capture"
fi

t_begin replay_time_reclaimed
# a table of 8 slots: the program reclaims the finished jobs' slots and
# replay keeps their records: the same report
if replay small "$D/long.pcap" --json --window "$WINDOW" --max-flows 4 "${VMKS[@]}" &&
   t_expect exit "$rc" 0 &&
   jcheck "$D/small.json" 'j["stats"]["reclaimed"] > 0' True &&
   model same "$D/small.json" "$D/whole.json"; then
	t_ok
else
	t_fail "reclaimed slots: the kept records make the same flows, hosts and interfaces"
fi

# ---- (b) one report per 600 s of capture time ----

t_begin replay_time_intervals
# 18 reports (17 intervals and the last 480 s), 10.0.0.10 asymmetric in
# intervals 6-11 (3600-7200 s) only, both hosts idle in interval 15
if replay ivl "$D/long.pcap" --json --window 600 --interval 600 "${VMKS[@]}" &&
   t_expect exit "$rc" 0 &&
   model intervals "$D/ivl.json" "$D/whole.json" &&
   t_expect "10.0.0.10 per interval" "$(python3 -c '
import json, sys
print(" ".join([h["current"]["verdict"][:4] for h in json.loads(l)["hosts"]
                if h["ip"] == sys.argv[2]][0] for l in open(sys.argv[1])))' \
	"$D/ivl.json" "$IP_ESX")" \
	"symm symm symm symm symm symm asym asym asym asym asym asym symm symm symm idle symm symm"; then
	t_ok
else
	t_fail "per-interval reports: current verdicts, idle, rates that sum to the totals"
fi

# ---- (c) the flow log ----

t_begin replay_time_flow_log
if replay log "$D/long.pcap" --json --window "$WINDOW" --flow-log "$D/flows.log" "${VMKS[@]}" &&
   t_expect exit "$rc" 0 && model flowlog "$D/flows.log" "$D/whole.json" plain &&
   replay logi "$D/long.pcap" --json --window 600 --interval 600 \
	--flow-log "$D/flows-ivl.log" "${VMKS[@]}" &&
   t_expect exit "$rc" 0 && model flowlog "$D/flows-ivl.log" "$D/whole.json" rates; then
	t_ok
else
	t_fail "--flow-log: one line per finished job, the report's record"
fi

# ---- (d) the memory bound ----

t_begin replay_time_max_finished
# the finished jobs' slots are reclaimed (8 slots), and only 10 records
# are kept of the 26 reclaimed; the flow log still has every job, the
# dropped too (one report at the end; then two records kept with a
# report every 1800 s, up to 7 slots reclaimed between two reports)
if replay bound "$D/long.pcap" --json --window "$WINDOW" --max-flows 4 \
	--max-finished 10 --flow-log "$D/bound.log" "${VMKS[@]}" &&
   t_expect exit "$rc" 0 && model bound "$D/bound.json" "$D/whole.json" 10 &&
   model flowlog "$D/bound.log" "$D/whole.json" plain &&
   replay boundi "$D/long.pcap" --json --window 1800 --interval 1800 \
	--max-flows 4 --max-finished 2 --flow-log "$D/bound-ivl.log" \
	"${VMKS[@]}" &&
   t_expect exit "$rc" 0 && model flowlog "$D/bound-ivl.log" "$D/whole.json" rates &&
   t_log python3 -c 'import json, sys
rs = [json.loads(l) for l in open(sys.argv[1])]
d = sum(r["stats"]["flows_dropped"] > 0 for r in rs)
print("reports with records dropped:", d, "of", len(rs))
sys.exit(d == 0)' "$D/boundi.json"; then
	t_ok
else
	t_fail "--max-finished: dropped records counted, totals whole, every job in the flow log"
fi

# ---- (e) the human report ----

t_begin replay_time_text
if replay text "$D/long.pcap" --window "$WINDOW" "${VMKS[@]}" &&
   t_expect exit "$rc" 0 &&
   grep -q "^  $IP_ESX  *SYMMETRIC now (since $(date -u -d @$((SEED_UNIX0 + 9660)) +%T)), asymmetric until $(date -u -d @$((SEED_UNIX0 + 7380)) +%T) " "$D/text.json" &&
   grep -q "^  $IP_ESX2  *SYMMETRIC now (since $(date -u -d @$((SEED_UNIX0 + 9960)) +%T)) " "$D/text.json" &&
   ! grep -q vSphereBackupNFC "$D/text.json" &&
   grep -q "^FINISHED FLOWS (most recent first, 10 of 33)$" "$D/text.json" &&
   grep -A1 "^FINISHED FLOWS" "$D/text.json" | grep -q "ENDED$" &&
   grep -A2 "^FINISHED FLOWS" "$D/text.json" | tail -n1 |
	grep -q "^  $IP_ESX:902  *$IP_RUBRIK:40032 .* idle $(date -u -d @$((SEED_UNIX0 + 10350)) +%T)$"; then
	t_ok
else
	t_log cat "$D/text.json"
	t_fail "human report: symmetric now, asymmetric until, finished flows"
fi

t_done
