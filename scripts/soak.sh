#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# `make soak`: `nbdpath run` for SOAK_SECONDS (default 300) on a veth in a
# private netns, under flow churn (scripts/soak.py: short flows to 2,048
# server IPs on four monitored ports, ending in FIN, RST or idleness, at
# 1,500 frames/s, with a burst of 1,200 open flows for the last 5 s of
# every 30 that fills the flow table), with a small --max-flows and
# --idle-timeout so that slots are reclaimed all the time and finished
# records pile up past --max-finished, the metrics endpoint scraped every
# second, the flows, hosts and stats queries every 3 s, and --flow-log on.
# Then, once every flow has finished:
#
#   rss       the loader's VmRSS, sampled every 5 s, is flat after the
#             warm-up (the first fifth, at least 30 s): the largest
#             sample of the second half of the rest is at most 1.1 times
#             the largest of its first half
#   frames    stats.matched and the metric are the number of frames sent
#   hosts     the hosts' rx+tx packets (the overflow host "::" included)
#   ifaces    and the interfaces' add up to matched - table_full
#   flows     every flow finished; no more listed than sent
#   flowlog   one line per flow the run listed (flows + flows_evicted)
#   logdups   none logged twice (key and first_seen), every key one that
#             was sent, none with more packets than sent
#   flowpkts  (a note) the logged packets against matched - table_full
#   scrapes   every scrape answered 200
#   queries   every query exited 0 with one line of JSON
#   twice     no flows query listed a flow twice
#   process   the same process all along
#   exit      SIGTERM ends it with 0, nothing left attached or pinned
#
# It prints the RSS samples and a table, and exits non-zero with a
# one-line reason on a failed check. Needs root, about SOAK_SECONDS plus
# 20 s. SOAK_RATE (frames/s), SOAK_BURST (open flows in a burst, 0: no
# bursts), SOAK_MODE (native or generic) tune it; SOAK_KEEP=1 keeps its
# files (flow log, samples, sent keys) in /tmp/np-soak.*.
set -u
. "$(dirname "$0")/../tests/lib.sh"

SOAK_SECONDS=${SOAK_SECONDS:-300}
SOAK_RATE=${SOAK_RATE:-1500}
SOAK_MODE=${SOAK_MODE:-native}
CONC=48
BURST=${SOAK_BURST:-1200}
IDLE=3
INTERVAL=1
MAX_FLOWS=512
MAX_FINISHED=500
PORTS="902 903 8902 10902"

fail() {
	echo "soak: FAIL: $*"
	exit 1
}

((EUID == 0)) || fail "needs root (netns, veth, XDP)"
[[ -x $NP ]] || fail "$NP is missing: run make"
command -v curl >/dev/null || fail "curl is not installed (scripts/deps.sh)"
[[ $SOAK_SECONDS =~ ^[0-9]+$ ]] && ((SOAK_SECONDS >= 30)) ||
	fail "SOAK_SECONDS must be a whole number of seconds, at least 30"

WORK=$(mktemp -d /tmp/np-soak.XXXXXX)
# SOAK_KEEP=1 keeps the files (flow log, samples, sent keys) for a look
[[ ${SOAK_KEEP:-0} == 1 ]] || t_cleanup "rm -rf $WORK"
PIN=$WORK/pins
mkdir "$PIN" && mount -t bpf bpf "$PIN" || fail "cannot mount a bpffs on $PIN"
t_cleanup "umount $PIN"

t_netns NS || fail "cannot create a netns"
ip -n "$NS" link add va type veth peer name vb || fail "cannot create a veth pair"
# no IPv6 and no addresses: the kernel itself sends nothing on the pair
ip netns exec "$NS" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
	net.ipv6.conf.default.disable_ipv6=1 2>/dev/null
ip netns exec "$NS" ethtool -K va rxvlan off rx-vlan-stag-hw-parse off >/dev/null 2>&1
ip -n "$NS" link set va up && ip -n "$NS" link set vb up || fail "cannot bring the veth pair up"

nb() { ip netns exec "$NS" "$NP" "$@"; }

MPORT=$((20000 + RANDOM % 20000))
FLOG=$WORK/flows.log
port_args=()
for p in $PORTS; do port_args+=(-p "$p"); done

nb run -i va --mode "$SOAK_MODE" --pin-dir "$PIN" "${port_args[@]}" \
	--json --interval "$INTERVAL" --idle-timeout "$IDLE" \
	--max-flows "$MAX_FLOWS" --max-finished "$MAX_FINISHED" \
	--metrics "127.0.0.1:$MPORT" --flow-log "$FLOG" \
	>/dev/null 2>"$WORK/run.err" &
RUN_PID=$!
t_cleanup "kill -9 $RUN_PID"
t_until 10 nb stats --pin-dir "$PIN" >/dev/null 2>&1 ||
	fail "run did not come up: $(head -n 1 "$WORK/run.err")"
kill -0 "$RUN_PID" 2>/dev/null || fail "run exited at start: $(head -n 1 "$WORK/run.err")"
# `ip netns exec` may fork: the loader is then its one child
NB_PID=$RUN_PID
[[ $(cat "/proc/$NB_PID/comm") == nbdpath ]] ||
	NB_PID=$(cat /proc/"$RUN_PID"/task/*/children 2>/dev/null | tr -s ' ' '\n' | head -n 1)
[[ -n $NB_PID && $(cat "/proc/$NB_PID/comm" 2>/dev/null) == nbdpath ]] ||
	fail "no nbdpath process under PID $RUN_PID"
t_cleanup "kill -9 $NB_PID"
start_time() { awk '{ print $22 }' "/proc/$NB_PID/stat" 2>/dev/null; }
START=$(start_time)

# ---- the watchers, in the background while the traffic goes

T0=$SECONDS
# every second: the metrics endpoint's status code
scraper() {
	while :; do
		ip netns exec "$NS" curl -s -o /dev/null -w '%{http_code}\n' \
			--max-time 5 --noproxy '*' \
			"http://127.0.0.1:$MPORT/metrics" >>"$WORK/scrapes" 2>/dev/null ||
			echo "curl-failed" >>"$WORK/scrapes"
		sleep 1
	done
}
# one line of JSON; of a flows query, print each flow listed twice
Q_PY='
import json, sys
j = json.loads(open(sys.argv[1]).read())
seen = set()
for f in j.get("flows", []):
    k = (f["client"], f["client_port"], f["server"], f["server_port"], f["first_seen"])
    if k in seen:
        print(*k, f["state"])
    seen.add(k)
'
# every 3 s: the three queries, their exit codes and whether they printed
# one line of JSON
querier() {
	local q rc
	while :; do
		for q in flows hosts stats; do
			nb "$q" --json --pin-dir "$PIN" >"$WORK/q.json" 2>"$WORK/q.err"
			rc=$?
			if ((rc == 0)) && python3 -c "$Q_PY" "$WORK/q.json" >>"$WORK/listed-twice" 2>/dev/null; then
				echo "$q ok" >>"$WORK/queries"
			else
				echo "$q rc=$rc $(head -c 200 "$WORK/q.err")" >>"$WORK/queries"
			fi
		done
		sleep 3
	done
}
# every 5 s: seconds since the start, VmRSS (kB), the process's start time
sampler() {
	local rss
	while :; do
		rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$NB_PID/status" 2>/dev/null)
		echo "$((SECONDS - T0)) ${rss:-gone} $(start_time)" >>"$WORK/rss"
		sleep 5
	done
}
scraper & SCRAPER=$!
t_cleanup "kill $SCRAPER"
querier & QUERIER=$!
t_cleanup "kill $QUERIER"
sampler & SAMPLER=$!
t_cleanup "kill $SAMPLER"

echo "soak: ${SOAK_SECONDS}s of churn at $SOAK_RATE frames/s on $SOAK_MODE XDP (nbdpath PID $NB_PID)"
PORTS=$PORTS ip netns exec "$NS" taskset -c 0 python3 "$NP_TOP/scripts/soak.py" vb \
	"$SOAK_SECONDS" "$SOAK_RATE" "$CONC" "$BURST" "$WORK/keys" "$WORK/sent.json" ||
	fail "the traffic generator failed"
SENT_FRAMES=$(jget "$WORK/sent.json" "j['frames']")
SENT_FLOWS=$(jget "$WORK/sent.json" "j['flows']")

# every flow finished: every frame counted and no flow active, twice in
# a row (within 30 s); then one more report, which logs the last ones
drained() {
	local j
	j=$(nb stats --json --pin-dir "$PIN" 2>/dev/null) || return 1
	jcheck -q "$j" "j['stats']['matched'] == $SENT_FRAMES and j['stats']['flows_active'] == 0" True
}
drained_twice() { drained && sleep "$INTERVAL" && drained; }
t_until $((IDLE + 30)) drained_twice
DRAINED=$?
sleep $((INTERVAL + 1))	# that report, a last scrape and sample
kill "$SCRAPER" "$QUERIER" "$SAMPLER" 2>/dev/null
wait "$SCRAPER" "$QUERIER" "$SAMPLER" 2>/dev/null

# ---- the checks

kill -0 "$NB_PID" 2>/dev/null || fail "run exited during the soak: $(head -n 1 "$WORK/run.err")"
[[ $(start_time) == "$START" ]] || fail "the process was replaced"
nb stats --json --pin-dir "$PIN" >"$WORK/stats.json" || fail "stats query failed"
nb hosts --json --pin-dir "$PIN" >"$WORK/hosts.json" || fail "hosts query failed"
nb interfaces --json --pin-dir "$PIN" >"$WORK/ifaces.json" || fail "interfaces query failed"
nb status --json --pin-dir "$PIN" >"$WORK/status.json" || fail "status query failed"
ip netns exec "$NS" curl -s --max-time 5 --noproxy '*' \
	"http://127.0.0.1:$MPORT/metrics" >"$WORK/metrics.txt" || fail "last scrape failed"
st() { jget "$WORK/stats.json" "j['stats']['$1']"; }
MATCHED=$(st matched)
TFULL=$(st table_full)
HOSTS_SUM=$(jget "$WORK/hosts.json" "sum(side(h, 'rx', 'packets') + side(h, 'tx', 'packets') for h in j['hosts'])")
N_HOSTS=$(jget "$WORK/hosts.json" "len(j['hosts'])")
OVERFLOW=$(jget "$WORK/hosts.json" "sum(side(h, 'rx', 'packets') + side(h, 'tx', 'packets') for h in j['hosts'] if h['ip'] == '::')")
IF_SUM=$(jget "$WORK/ifaces.json" "sum(i['rx_packets'] + i['tx_packets'] for i in j['interfaces'])")
M_MATCHED=$(sed -n 's/^nbdpath_frames_total{outcome="matched"} \([0-9]*\)$/\1/p' "$WORK/metrics.txt")
STATUS_PID=$(jget "$WORK/status.json" "j['instance']['pid']")

# the flow log against what was sent and what the run counted
FLOG_PY='
import json, sys
flog, keys, want_lines, want_pkts = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
sent = {}
for line in open(keys):
    c, cp, s, sp, end, n = line.split()
    sent[(c, int(cp), s, int(sp))] = int(n)
ends = {}
for line in open(keys):
    c, cp, s, sp, end, n = line.split()
    ends[(c, int(cp), s, int(sp))] = end
short = {}
seen, dup, alien, over, pkts, lines = {}, 0, 0, 0, 0, 0
for line in open(flog):
    lines += 1
    f = json.loads(line)
    k = (f["client"], f["client_port"], f["server"], f["server_port"])
    n = f["to_server"]["packets"] + f["from_server"]["packets"]
    pkts += n
    if k + (f["first_seen"],) in seen:
        dup += 1
        print("dup", seen[k + (f["first_seen"],)], "|", line.strip(), file=sys.stderr)
    seen[k + (f["first_seen"],)] = line.strip()
    if k not in sent:
        alien += 1
    elif n > sent[k]:
        over += 1
    elif n < sent[k]:
        e = ends[k] + ":" + f["state"]
        short[e] = short.get(e, 0) + 1
print(lines, dup, alien, over, pkts, short.get("fin:closed", 0))
'
read -r FL_LINES FL_DUP FL_ALIEN FL_OVER FL_PKTS FL_CLOSED_SHORT < <(python3 -c "$FLOG_PY" "$FLOG" "$WORK/keys" 0 0 2>"$WORK/flowlog.dups") ||
	fail "cannot read the flow log"
LISTED=$(jget "$WORK/stats.json" "j['stats']['flows'] + j['stats']['flows_evicted']")

# RSS: after the warm-up, the second half's peak against the first half's
read -r RSS_WARM RSS_FIRST RSS_SECOND RSS_N < <(awk -v warm=$((SOAK_SECONDS / 5 < 30 ? 30 : SOAK_SECONDS / 5)) '
	$2 != "gone" { t[n] = $1; r[n] = $2; n++ }
	END {
		for (i = 0; i < n; i++) if (t[i] >= warm) { a[m] = r[i]; m++ }
		h = int(m / 2)
		for (i = 0; i < m; i++)
			if (i < h) { if (a[i] > f) f = a[i] } else { if (a[i] > s) s = a[i] }
		print warm, f + 0, s + 0, m
	}' "$WORK/rss")
N_SCRAPES=$(t_lines "$WORK/scrapes")
BAD_SCRAPES=$(grep -vc '^200$' "$WORK/scrapes")
N_QUERIES=$(t_lines "$WORK/queries")
BAD_QUERIES=$(grep -vc ' ok$' "$WORK/queries")
GONE=$(grep -c ' gone ' "$WORK/rss")
RESTARTS=$(awk -v s="$START" '$3 != s' "$WORK/rss" | wc -l)

# ---- the end: SIGTERM, then nothing left

kill -TERM "$NB_PID"
t_until 10 eval '! kill -0 $NB_PID 2>/dev/null'
wait "$RUN_PID"
RUN_RC=$?
ATTACHED=$(ip -n "$NS" link show dev va | grep -c xdp)
# pins are files (a bpffs has maps.debug and progs.debug of its own, and
# iproute2 makes directories and links in any bpffs it finds)
PINNED=$(find "$PIN" -mindepth 1 -type f ! -name '*.debug' -printf '%f ')

# ---- the table

echo
echo "RSS of the loader (kB), every 30 s:"
awk '$1 % 30 < 5 || NR == 1 { printf "  %4d s  %s\n", $1, $2 }' "$WORK/rss"
echo
printf '%-10s %-58s %s\n' check measured result
RESULT=0
FIRST_BAD=
row() {
	local name=$1 what=$2 ok=$3
	if ((ok)); then
		printf '%-10s %-58s %s\n' "$name" "$what" "${4:-ok}"
	else
		printf '%-10s %-58s %s\n' "$name" "$what" FAIL
		RESULT=1
		[[ -n $FIRST_BAD ]] || FIRST_BAD="$name: $what"
	fi
}
row rss "peak ${RSS_FIRST} kB then ${RSS_SECOND} kB after ${RSS_WARM} s ($RSS_N samples)" \
	$((RSS_N >= 4 && RSS_SECOND * 10 <= RSS_FIRST * 11))
row frames "sent $SENT_FRAMES, matched $MATCHED, metric $M_MATCHED" \
	$((SENT_FRAMES == MATCHED && M_MATCHED == MATCHED))
row hosts "$N_HOSTS hosts: $HOSTS_SUM = matched - table_full ($TFULL); \"::\" $OVERFLOW" \
	$((HOSTS_SUM == MATCHED - TFULL))
row ifaces "interfaces: $IF_SUM = matched - table_full" $((IF_SUM == MATCHED - TFULL))
row flows "sent $SENT_FLOWS, listed $LISTED, all finished: $( ((DRAINED)) && echo no || echo yes)" \
	$((DRAINED == 0 && LISTED <= SENT_FLOWS))
row flowlog "$FL_LINES lines, $((FL_LINES - FL_DUP)) flows = listed" $((FL_LINES - FL_DUP == LISTED))
row logdups "flow log: $FL_DUP logged twice, $FL_ALIEN never sent, $FL_OVER over sent" \
	$((FL_DUP == 0 && FL_ALIEN == 0 && FL_OVER == 0))
# not a check: a closed flow is logged at the first report after its
# second FIN, so a later last ACK is in the totals but not in the log
# (the man page's FLOW LOG); more packets logged than counted is a failure
GAP=$((MATCHED - TFULL - FL_PKTS))
row flowpkts "flow log packets $FL_PKTS, $GAP short (closed: $FL_CLOSED_SHORT short)" $((GAP >= 0)) note
row scrapes "$N_SCRAPES scrapes, $BAD_SCRAPES not 200" $((N_SCRAPES >= SOAK_SECONDS / 2 && BAD_SCRAPES == 0))
row queries "$N_QUERIES queries, $BAD_QUERIES failed" $((N_QUERIES >= 3 && BAD_QUERIES == 0))
TWICE=$(t_lines "$WORK/listed-twice")
row twice "flows queries listing a flow twice: $TWICE flows" $((TWICE == 0))
row process "pid $NB_PID all along (status: $STATUS_PID), gone $GONE, replaced $RESTARTS" \
	$((STATUS_PID == NB_PID && GONE == 0 && RESTARTS == 0))
row exit "SIGTERM exit $RUN_RC, $ATTACHED attached, pinned: ${PINNED:-none}" \
	$((RUN_RC == 0 && ATTACHED == 0 && ${#PINNED} == 0))
echo
echo "stats: $(jget "$WORK/stats.json" "', '.join(f'{k} {v}' for k, v in j['stats'].items() if v)")"
echo "sent: $(cat "$WORK/sent.json")"
if [[ -s $WORK/run.err ]]; then
	echo "run's stderr ($(wc -l <"$WORK/run.err") lines):"
	head -n 5 "$WORK/run.err" | sed 's/^/  /'
fi
((RESULT == 0)) || fail "$FIRST_BAD"
echo "soak: OK"
