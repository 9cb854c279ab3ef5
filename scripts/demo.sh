#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# demo.sh - the seed's finding, live: bring up the lab (scripts/lab.sh), run
# nbdpath on the sensor's mirror NIC while backup nodes pull data over
# NBD-like TCP on port 902 for about ten seconds, show nbdpath's report,
# sum it up in one line per host, tear everything down (even on Ctrl-C).
# `make demo` builds ./nbdpath and .build/nbdtraffic first.
#
# DEMO_SECONDS (default 10) sets the length of the traffic.
set -euo pipefail

ME=${0##*/}
TOP=$(cd "$(dirname "$0")/.." && pwd)
NP=$TOP/nbdpath
TRAFFIC=$TOP/.build/nbdtraffic
LAB=$TOP/scripts/lab.sh
SECS=${DEMO_SECONDS:-10}
P=nbdemo$$

die() {
	echo "$ME: $*" >&2
	exit 1
}

[[ $(id -u) -eq 0 ]] || die "must run as root (network namespaces, XDP): sudo make demo"
[[ -x $NP && -x $TRAFFIC ]] || die "build first: make all .build/nbdtraffic (make demo does)"
if ! [[ $SECS =~ ^[0-9]+$ ]] || ((SECS < 2)); then die "bad DEMO_SECONDS '$SECS' (2 or more)"; fi
# two reports, the second one as nbdpath's --duration ends: both show full
# rates, as the traffic outlasts the run by a second
INTERVAL=$(((SECS + 1) / 2))

# Each lab keeps its files in /tmp/PREFIX; an inherited LAB_DIR would merge them.
unset LAB_DIR LAB_PREFIX
WORK=$(mktemp -d /tmp/nbdemo.XXXXXX)
BPFFS=$WORK/bpffs
NP_PID=
TAIL_PID=

cleanup() {
	local rc=$? i
	trap - EXIT INT TERM
	# nbdpath first: it detaches and unpins, then the bpffs can go
	if [[ -n $NP_PID ]] && kill -0 "$NP_PID" 2>/dev/null; then
		kill -INT "$NP_PID" 2>/dev/null || true
		for ((i = 0; i < 40; i++)); do
			kill -0 "$NP_PID" 2>/dev/null || break
			sleep 0.05
		done
	fi
	# the report's last lines shown before anything else
	[[ -n $TAIL_PID ]] && { wait "$TAIL_PID" 2>/dev/null || true; }
	((rc == 130)) && echo "$ME: interrupted, tearing the lab down" >&2
	# ends whatever still runs inside the lab
	"$LAB" down --prefix "$P" >/dev/null 2>&1 || true
	# shellcheck disable=SC2046 # one PID per word
	kill $(jobs -p) 2>/dev/null || true
	wait 2>/dev/null || true
	mountpoint -q "$BPFFS" && umount "$BPFFS"
	rm -rf "$WORK"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

bold() { if [[ -t 1 ]]; then printf '\033[1m%s\033[0m\n' "$*"; else printf '%s\n' "$*"; fi; }

"$LAB" up --prefix "$P" >"$WORK/lab.log" 2>&1 || { cat "$WORK/lab.log" >&2; die "lab.sh up failed"; }
eval "$("$LAB" env --prefix "$P")"

bold "nbdpath demo: the seed's finding, rebuilt in network namespaces"
cat <<EOF
  esx1: vmk0 $ESX1_VMK0_IP (management, the address vCenter knows it by), vmk4 $ESX1_VMK4_IP (backup subnet).
  esx2: vmk0 $ESX2_VMK0_IP only, the control. For $SECS s, backup nodes $NODE1_IP and $NODE2_IP pull disk
  data over NBD (TCP 902) from esx1's vmk0 address, and $NODE2_IP also from esx2. A port mirror copies the
  ESXi ports to the sensor NIC $SENSOR_IF, where nbdpath counts every frame in XDP. Its report:
EOF
echo

# What an operator would paste: both hosts' esxcfg-vmknic -l output.
cat "$ESX1_VMKNIC_FILE" "$ESX2_VMKNIC_FILE" >"$WORK/vmknic.txt"
# As nbdpath's start-up check advises: no VLAN tag stripping on the sensor NIC.
ip netns exec "$NS_SENSOR" ethtool -K "$SENSOR_IF" rxvlan off rx-vlan-stag-hw-parse off \
	>/dev/null 2>&1 || true
# Pins on a bpffs of our own, so that the summary can query the running
# instance from outside the sensor namespace.
mkdir -p "$BPFFS"
mount -t bpf bpf "$BPFFS"
PIN=$BPFFS/nbdpath

# The report goes to a file that tail shows as it grows, so that the summary
# below can also read it, and comes after its last line.
: >"$WORK/report.txt"
ip netns exec "$NS_SENSOR" "$NP" run -i "$SENSOR_IF" --vmk-file "$WORK/vmknic.txt" \
	--interval "$INTERVAL" --duration "$SECS" --pin-dir "$PIN" >"$WORK/report.txt" 2>&1 &
NP_PID=$!
tail -n +1 -f --pid="$NP_PID" "$WORK/report.txt" &
TAIL_PID=$!
for ((i = 0; i < 100; i++)); do
	ip -n "$NS_SENSOR" link show dev "$SENSOR_IF" | grep -q 'prog/xdp' && break
	kill -0 "$NP_PID" 2>/dev/null || die "nbdpath run did not start"
	sleep 0.05
done
T0=${EPOCHREALTIME/./}

# The servers first, announced through ready files; then the fetches.
serve() { # NAME NS CONNS
	ip netns exec "$2" "$TRAFFIC" serve --conns "$3" --timeout $((SECS + 20)) \
		--ready-file "$WORK/$1.ready" >"$WORK/$1.server" 2>"$WORK/$1.err" &
	for ((i = 0; i < 100; i++)); do
		[[ -s $WORK/$1.ready ]] && return 0
		sleep 0.05
	done
	die "nbdtraffic server on $1 did not start: $(cat "$WORK/$1.err")"
}
FETCH=()
fetch() { # NAME NS HOST
	ip netns exec "$2" "$TRAFFIC" fetch --host "$3" --duration $((SECS + 1)) --reply-size 256k \
		--timeout $((SECS + 20)) >"$WORK/$1.client" 2>"$WORK/$1.err" &
	FETCH+=("$!")
}
serve esx1 "$NS_ESX1" 2
serve esx2 "$NS_ESX2" 1
fetch node1-esx1 "$NS_NODE1" "$ESX1_VMK0_IP"
fetch node2-esx1 "$NS_NODE2" "$ESX1_VMK0_IP"
fetch node2-esx2 "$NS_NODE2" "$ESX2_VMK0_IP"

# The totals for the summary, from the running instance shortly before its
# --duration ends (the hosts view never loses counts).
left=$((T0 + SECS * 1000000 - 400000 - ${EPOCHREALTIME/./}))
((left > 0)) && sleep "$((left / 1000000)).$(printf '%06d' $((left % 1000000)))"
"$NP" hosts --json --pin-dir "$PIN" >"$WORK/hosts.json" 2>"$WORK/hosts.err" || true
NP_RC=0
wait "$NP_PID" || NP_RC=$?
NP_PID=
((NP_RC == 0)) || echo "$ME: nbdpath run exited with status $NP_RC" >&2
wait "$TAIL_PID" || true
TAIL_PID=
for pid in "${FETCH[@]}"; do
	wait "$pid" || die "nbdtraffic fetch failed: $(cat "$WORK"/*.err)"
done

# One line per host, from the JSON query (or, failing that, the text report).
arrow='->'
[[ $(locale charmap 2>/dev/null) == UTF-8 ]] && arrow='→'
echo
python3 - "$WORK/hosts.json" "$WORK/report.txt" "$arrow" \
	"$ESX1_VMK0_IP=esx1" "$ESX2_VMK0_IP=esx2" <<'EOF' || true
import json, re, sys

hosts_json, text, arrow = sys.argv[1:4]
names = dict(a.split("=") for a in sys.argv[4:])

def size(n):
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if n < 1000 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000

def say(line):
    print(f"\033[1m{line}\033[0m" if sys.stdout.isatty() else line)

def vmk(e):
    return e["interface"] or e["mac"]

hosts = []
try:
    for h in json.load(open(hosts_json))["hosts"]:
        rx, tx = h["rx"], h["tx"]
        hosts.append((h["ip"], h["verdict"], [vmk(e) for e in rx], [vmk(e) for e in tx],
                      sum(e["bytes"] for e in rx), sum(e["bytes"] for e in tx)))
except (OSError, ValueError, KeyError, TypeError):
    # the last HOSTS block of the text report
    block = open(text).read().rsplit("HOSTS", 1)[-1]
    pat = r"^\s+(\S+)\s+([A-Z_]+)\s+receives on (\S+).*?transmits on (\S+)"
    for m in re.finditer(pat, block, re.M):
        hosts.append((m[1], m[2].lower(), [m[3]], [m[4]], None, None))

for ip, verdict, rx, tx, rxb, txb in hosts:
    who = f"{names.get(ip, 'host')} {ip}"
    amounts = ""
    if rxb is not None:
        amounts = f" ({'/'.join(rx)} received {size(rxb)}, {'/'.join(tx)} sent {size(txb)})"
        if rx == tx:
            amounts = f" ({'/'.join(rx)} received {size(rxb)} and sent {size(txb)})"
    if verdict == "asymmetric":
        say(f"{who}: requests arrive on {', '.join(rx)}, data leaves by {', '.join(tx)} "
              f"{arrow} asymmetric{amounts}")
    elif verdict == "symmetric":
        say(f"{who}: requests and data both on {rx[0]} {arrow} symmetric{amounts}")
    else:
        say(f"{who}: {verdict}{amounts}")
if not hosts:
    say("no port-902 traffic was seen")
EOF
