#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# t_lab_selftest.sh - proves the lab reproduces the seed's captures before any
# nbdpath test relies on it: requests in on vmk0, data out of vmk4 (esx1),
# one MAC both ways (esx2), and mirrored payload equal to what the sockets
# wrote, byte for byte. No nbdpath involved: tcpdump and tshark are the
# witnesses. Needs root, tcpdump and tshark; about 7 seconds.
set -euo pipefail

# shellcheck source=tests/lib.sh
source "$(dirname "$0")/lib.sh"
cd "$NP_TOP"
# Each lab keeps its files in /tmp/PREFIX; an inherited LAB_DIR would merge them.
unset LAB_DIR LAB_PREFIX
LAB=$NP_TOP/scripts/lab.sh
BIN=$NP_BUILD/nbdtraffic
PA=nbdst$$a
PB=nbdst$$b

trap 'exit 130' INT TERM

# ------------------------------------------------------------ check helpers
# chk DESCRIPTION ACTUAL EXPECTED (t_check); chk_gt: ACTUAL must exceed MIN
chk() { t_check "$@"; }
chk_gt() { (($2 > $3)) || t_bad "$1: actual $2, want > $3"; }

t_need_root "lab selftest" "network namespaces, tcpdump"
t_need_tools "lab selftest" tcpdump tshark ethtool tc
[[ -x $BIN ]] || t_skip_all "lab selftest" "$BIN not built (make .build/nbdtraffic)"

WORK=$(mktemp -d /tmp/nbdst.XXXXXX)
t_cleanup "rm -rf $WORK"
t_cleanup "$LAB down --prefix $PA"
t_cleanup "$LAB down --prefix $PB"
# The labs' down also ends what runs inside them; this covers the rest.
# shellcheck disable=SC2016 # expanded when the cleanup runs
t_cleanup 'kill $(jobs -p)'

# bg CMD...: start in the background (killed at exit if still running)
bg() {
	"$@" &
	BG_PID=$!
}

# Top-level JSON number (the summary's keys come before "connections").
jnum() { grep -o "\"$2\":[0-9]*" "$1" | head -1 | cut -d: -f2; }

# transfer NAME SERVER_NS CLIENT_NS HOST CONNS FETCH_ARGS...: serve + fetch,
# JSON in $WORK/NAME.server / NAME.client.
transfer() {
	local name=$1 sns=$2 cns=$3 host=$4 conns=$5 spid
	shift 5
	rm -f "$WORK/$name.ready"
	bg ip netns exec "$sns" "$BIN" serve --conns "$conns" --timeout 30 \
		--ready-file "$WORK/$name.ready" >"$WORK/$name.server" 2>"$WORK/$name.err"
	spid=$BG_PID
	if ! t_wait_file "$WORK/$name.ready"; then
		t_bad "$name: server not ready: $(cat "$WORK/$name.err")"
		return 1
	fi
	if ! ip netns exec "$cns" "$BIN" fetch --host "$host" --conns "$conns" --timeout 30 "$@" \
		>"$WORK/$name.client" 2>>"$WORK/$name.err"; then
		t_bad "$name: fetch failed: $(cat "$WORK/$name.err")"
		wait "$spid" || true
		return 1
	fi
	if ! wait "$spid"; then
		t_bad "$name: server failed: $(cat "$WORK/$name.err")"
		return 1
	fi
	local cw sr sw cr
	cw=$(jnum "$WORK/$name.client" bytes_written)
	cr=$(jnum "$WORK/$name.client" bytes_read)
	sw=$(jnum "$WORK/$name.server" bytes_written)
	sr=$(jnum "$WORK/$name.server" bytes_read)
	if [[ $cw != "$sr" || $sw != "$cr" || ! $cw -gt 0 ]]; then
		t_bad "$name: socket totals disagree: client w=$cw r=$cr, server w=$sw r=$sr"
	fi
}

# analyse PCAP SERVER_IP RX_MAC TX_MAC: per-direction facts of port-902
# frames of one server, as shell assignments (A_*).
analyse() {
	tshark -r "$1" -Y "tcp.port == 902" -T fields -E separator=/t \
		-e frame.len -e eth.src -e eth.dst -e ip.src -e ipv6.src -e ip.dst -e ipv6.dst \
		-e tcp.srcport -e tcp.flags.syn -e tcp.flags.ack -e tcp.flags.fin -e tcp.len \
		2>/dev/null |
		awk -F'\t' -v srv="$2" -v rx="$3" -v tx="$4" '
		function on(v) { return v == "1" || v == "True" }
		{
			src = $4 != "" ? $4 : $5; dst = $6 != "" ? $6 : $7
			if ($1 + 0 > maxlen) maxlen = $1 + 0
			if ($1 + 0 > 8000) jumbo++
			if (dst == srv) {
				ts++; tsp += $12
				if ($3 != rx) tsbad++
				if (on($9) && !on($10)) { syn++; if ($3 != rx) synbad++; ports = ports " " $8 }
				if (on($11)) tsfin++
			} else if (src == srv) {
				fs++; fsp += $12
				if ($2 != tx) fsbad++
				if (on($9) && on($10)) { synack++; if ($2 != tx) synackbad++ }
				if (on($11)) fsfin++
			}
		}
		END {
			printf "A_TS=%d A_TSP=%d A_TSBAD=%d A_SYN=%d A_SYNBAD=%d A_TSFIN=%d\n",
				ts, tsp, tsbad, syn, synbad, tsfin
			printf "A_FS=%d A_FSP=%d A_FSBAD=%d A_SYNACK=%d A_SYNACKBAD=%d A_FSFIN=%d\n",
				fs, fsp, fsbad, synack, synackbad, fsfin
			printf "A_MAXLEN=%d A_JUMBO=%d A_PORTS=\"%s\"\n", maxlen, jumbo, ports
		}'
}

# ports_seen NAME: every client local_port has its SYN in the capture.
ports_seen() {
	local p missing=
	for p in $(grep -o '"local_ports":\[[0-9,]*\]' "$WORK/$1.client" | tr -dc '0-9,' | tr , ' '); do
		[[ " $A_PORTS " == *" $p "* ]] || missing+=" $p"
	done
	[[ -z $missing ]] || t_bad "$1: no SYN for ports$missing"
}

VMKNIC_HEADER='Interface  Port Group/DVPort/Opaque Network        IP Family IP Address                              Netmask         Broadcast       MAC Address       MTU     TSO MSS   Enabled Type                NetStack'

# ================================================= lab A: defaults, mirror all
t_group "lab A up over a stray namespace of its prefix"
# A stray namespace of the same prefix stands for a half-built lab.
ip netns add "$PA-sw"
if out=$("$LAB" up --prefix "$PA" 2>&1); then
	chk "lab up prints one line" "$(wc -l <<<"$out")" 1
	t_group_end
else
	t_bad "lab up: $out"
	t_group_end
	t_done
fi

t_group "lab A env and status"
eval "$("$LAB" env --prefix "$PA")"
chk "env LAB_UP" "$LAB_UP" 1
chk "env NS_SENSOR" "$NS_SENSOR" "$PA-sensor"
chk "env ESX1_VMK4_MAC" "$ESX1_VMK4_MAC" "$MAC_VMK4"
"$LAB" status --prefix "$PA" >/dev/null || t_bad "status of $PA not up"
t_group_end

t_group "lab A settings: silent sensor, rp_filter off, no TSO"
chk "sensor NIC has no IPv4 address" "$(ip -n "$NS_SENSOR" -4 -o addr show dev "$SENSOR_IF" | wc -l)" 0
chk "esx1 rp_filter" "$(ip netns exec "$NS_ESX1" sysctl -n net.ipv4.conf.vmk0.rp_filter)" 0
chk "esx1 vmk4 TSO off" \
	"$(ip netns exec "$NS_ESX1" ethtool -k vmk4 | sed -n 's/^tcp-segmentation-offload: //p')" off
t_group_end

t_group "vmknic files in esxcfg-vmknic -l layout"
chk "esx1 vmknic header" "$(head -1 "$ESX1_VMKNIC_FILE")" "$VMKNIC_HEADER"
chk "esx2 vmknic header" "$(head -1 "$ESX2_VMKNIC_FILE")" "$VMKNIC_HEADER"
chk "esx1 vmknic rows" "$(tail -n +2 "$ESX1_VMKNIC_FILE" | awk '{print $1}' | tr '\n' ' ')" "vmk0 vmk4 "
chk "esx2 vmknic rows" "$(tail -n +2 "$ESX2_VMKNIC_FILE" | awk '{print $1}' | tr '\n' ' ')" "vmk0 "
chk "esx1 vmk4 row" "$(grep '^vmk4' "$ESX1_VMKNIC_FILE" | tr -s ' ')" \
	"vmk4 VLAN28-RUBRIK DATA IPv4 10.0.28.10 255.255.255.0 10.0.28.255 00:50:56:6b:28:04 1500 65535 true STATIC defaultTcpipStack"
t_group_end

t_group "nbdtraffic errors: refused port, missing --host"
if ip netns exec "$NS_NODE1" "$BIN" fetch --host "$ESX1_VMK0_IP" --port 903 --timeout 5 \
	>/dev/null 2>"$WORK/refused.err"; then
	t_bad "fetch to a closed port succeeded"
else
	chk "fetch to closed port: one-line error" "$(wc -l <"$WORK/refused.err")" 1
fi
rc=0
"$BIN" fetch --conns 2 >/dev/null 2>&1 || rc=$?
chk "fetch without --host exits 2" "$rc" 2
t_group_end

t_group "mirror all: transfers complete, capture complete, sensor silent"
if t_capture_start "$NS_SENSOR" "$SENSOR_IF" "$WORK/a.pcap" >>"$_t_log" ||
	{ t_bad "tcpdump did not start"; false; }; then
	transfer a-esx1 "$NS_ESX1" "$NS_NODE1" "$ESX1_VMK0_IP" 3 --requests 20 --reply-size 256k || true
	transfer a-esx2 "$NS_ESX2" "$NS_NODE2" "$ESX2_VMK0_IP" 2 --requests 10 --reply-size 100000 || true
	t_capture_stop "$WORK/a.pcap" >>"$_t_log" || t_bad "capture a.pcap incomplete"
fi
chk "sensor NIC sent nothing" "$(ip -n "$NS_SENSOR" -s -j link show "$SENSOR_IF" |
	grep -o '"tx":{[^}]*' | grep -o '"packets":[0-9]*' | cut -d: -f2)" 0
t_group_end

t_group "esx1: requests in on vmk0, data out of vmk4, payload exact"
eval "$(analyse "$WORK/a.pcap" "$ESX1_VMK0_IP" "$ESX1_VMK0_MAC" "$ESX1_VMK4_MAC")"
chk "SYNs captured" "$A_SYN" 3
chk "SYNs not to vmk0 MAC" "$A_SYNBAD" 0
chk "SYN/ACKs captured" "$A_SYNACK" 3
chk "SYN/ACKs not from vmk4 MAC" "$A_SYNACKBAD" 0
chk "to_server frames not to vmk0 MAC" "$A_TSBAD" 0
chk "from_server frames not from vmk4 MAC" "$A_FSBAD" 0
chk "from_server payload = server bytes_written" "$A_FSP" "$(jnum "$WORK/a-esx1.server" bytes_written)"
chk "to_server payload = client bytes_written" "$A_TSP" "$(jnum "$WORK/a-esx1.client" bytes_written)"
chk "server bytes_written = 3 x 20 x 256 KiB" "$(jnum "$WORK/a-esx1.server" bytes_written)" $((3 * 20 * 262144))
chk "FIN from client / server" "$A_TSFIN/$A_FSFIN" "3/3"
chk "no frame above MTU 1500 (no TSO/GRO)" "$((A_MAXLEN <= 1514))" 1
ports_seen a-esx1
t_group_end

t_group "esx2: one MAC both ways, payload exact"
eval "$(analyse "$WORK/a.pcap" "$ESX2_VMK0_IP" "$ESX2_VMK0_MAC" "$ESX2_VMK0_MAC")"
chk "SYN/SYN-ACK captured" "$A_SYN/$A_SYNACK" "2/2"
chk "frames not to/from vmk0 MAC" "$A_TSBAD/$A_FSBAD/$A_SYNBAD/$A_SYNACKBAD" "0/0/0/0"
chk "from_server payload = server bytes_written" "$A_FSP" "$(jnum "$WORK/a-esx2.server" bytes_written)"
chk "to_server payload = client bytes_written" "$A_TSP" "$(jnum "$WORK/a-esx2.client" bytes_written)"
chk "FIN from client / server" "$A_TSFIN/$A_FSFIN" "2/2"
ports_seen a-esx2
t_group_end

# ============================== lab B: jumbo, vmk4-only mirror, IPv6, beside A
t_group "lab B (jumbo, vmk4 mirror, IPv6) up twice beside lab A"
ip netns add "$PB-esx1"
b_up=1
for i in 1 2; do
	if ! out=$("$LAB" up --prefix "$PB" --mtu 9000 --mirror vmk4 --ipv6 2>&1); then
		t_bad "lab B up #$i: $out"
		b_up=0
		break
	fi
done
"$LAB" status --prefix "$PA" >/dev/null || t_bad "lab A damaged by lab B"
t_group_end
((b_up)) || t_done

t_group "lab A down leaves lab B"
"$LAB" down --prefix "$PA"
chk "lab A namespaces gone" "$(ip netns list | grep -c "^$PA-" || true)" 0
"$LAB" status --prefix "$PB" >/dev/null || t_bad "lab B damaged by A down"
if "$LAB" status --prefix "$PA" >/dev/null; then t_bad "status of a down lab exits 0"; fi
t_group_end

t_group "lab B env and vmknic file (MTU 9000, link-local)"
eval "$("$LAB" env --prefix "$PB")"
chk "env B LAB_MTU/LAB_MIRROR" "$LAB_MTU/$LAB_MIRROR" "9000/vmk4"
chk "esx1 vmknic vmk4 MTU" "$(awk '$1 == "vmk4" && $NF == "defaultTcpipStack" && / IPv4 / {print $(NF-4)}' "$ESX1_VMKNIC_FILE")" 9000
chk "esx1 vmknic vmk4 link-local" "$(grep -c "$IP6_VMK4_LL " "$ESX1_VMKNIC_FILE")" 1
t_group_end

t_group "lab B transfers: IPv4, IPv6, --duration"
if t_capture_start "$NS_SENSOR" "$SENSOR_IF" "$WORK/b.pcap" >>"$_t_log" ||
	{ t_bad "tcpdump did not start"; false; }; then
	transfer b-esx1 "$NS_ESX1" "$NS_NODE1" "$ESX1_VMK0_IP" 2 --requests 8 --reply-size 1m || true
	transfer b-esx1v6 "$NS_ESX1" "$NS_NODE1" "$ESX1_VMK0_IP6" 1 --requests 4 --reply-size 1m || true
	# esx2 is not mirrored here; it also exercises --duration.
	transfer b-esx2 "$NS_ESX2" "$NS_NODE2" "$ESX2_VMK0_IP" 2 --duration 0.3 --reply-size 64k || true
	t_capture_stop "$WORK/b.pcap" >>"$_t_log" || t_bad "capture b.pcap incomplete"
fi
chk_gt "b-esx2: --duration made requests" "$(jnum "$WORK/b-esx2.client" requests)" 1
t_group_end

t_group "lab B capture: jumbo frames, vmk4 side only, payload exact"
eval "$(analyse "$WORK/b.pcap" "$ESX1_VMK0_IP" "$ESX1_VMK0_MAC" "$ESX1_VMK4_MAC")"
chk_gt "b-esx1: frames > 8000 bytes" "$A_JUMBO" 0
chk "b-esx1: largest frame is MTU 9000 + Ethernet" "$A_MAXLEN" 9014
chk "b-esx1: vmk4 mirror shows no to_server frame" "$A_TS" 0
chk "b-esx1: SYN/ACKs from vmk4 MAC" "$A_SYNACK/$A_SYNACKBAD" "2/0"
chk "b-esx1: from_server frames not from vmk4 MAC" "$A_FSBAD" 0
chk "b-esx1: from_server payload = server bytes_written" "$A_FSP" "$(jnum "$WORK/b-esx1.server" bytes_written)"
eval "$(analyse "$WORK/b.pcap" "$ESX1_VMK0_IP6" "$ESX1_VMK0_MAC" "$ESX1_VMK4_MAC")"
chk "b-esx1v6: vmk4 mirror shows no to_server frame" "$A_TS" 0
chk "b-esx1v6: from_server frames not from vmk4 MAC" "$A_FSBAD" 0
chk "b-esx1v6: from_server payload = server bytes_written" "$A_FSP" "$(jnum "$WORK/b-esx1v6.server" bytes_written)"
eval "$(analyse "$WORK/b.pcap" "$ESX2_VMK0_IP" "$ESX2_VMK0_MAC" "$ESX2_VMK0_MAC")"
chk "b-esx2: not mirrored (frames seen)" "$((A_TS + A_FS))" 0
t_group_end

t_group "lab B down removes namespaces and files"
"$LAB" down --prefix "$PB"
chk "lab B namespaces gone" "$(ip netns list | grep -c "^$PB-" || true)" 0
chk "lab B files gone" "$([[ -e /tmp/$PB ]] && echo present || echo absent)" absent
t_group_end

t_done
