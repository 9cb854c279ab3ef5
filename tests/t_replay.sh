#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# `nbdpath replay`: captures written by .build/mkpcap (tests/mkpcap.c says
# what each scenario holds) are replayed through the real program and the
# JSON report is checked exactly (jcheck, tests/lib.sh), then cross-checked
# with tshark. Needs root (CAP_BPF, CAP_NET_ADMIN) like the command itself.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

t_need_root replay "CAP_BPF, CAP_NET_ADMIN"

MKPCAP=$NP_BUILD/mkpcap
D=$(mktemp -d)
chmod 755 "$D"
t_cleanup "rm -rf '$D'"

VMKS=(--vmk "$VMK0_NAME=$MAC_VMK0" --vmk "$VMK4_NAME=$MAC_VMK4")
# capture times of the seed scenario: T0 + i * 1000123 ns for frame i
T_SYN=1763900000.001000
T_LAST=1763900000.011001

# mk SCENARIO [mkpcap options]: $D/SCENARIO.pcap (or .pcapng with --pcapng)
mk() {
	local sc=$1 ext=pcap
	shift
	[[ " $* " == *" --pcapng "* ]] && ext=pcapng
	t_log "$MKPCAP" "$sc" "$D/$sc.$ext" "$@"
}

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
		head -c 4000 "$D/$name.json"
		echo
	} >>"$_t_log"
}

# The seed session (mkpcap: nbd_session) as every encapsulation must
# report it: only stats and the ERSPAN sessions differ.
seed_checks() {
	local f=$1
	jcheck "$f" \
		'j["version"]' 1 \
		'j["source"]["kind"]' '"replay"' \
		'j["stats"]["packets"]' 12 \
		'outcomes()' 'j["stats"]["packets"]' \
		'j["stats"]["matched"]' 11 \
		'j["stats"]["not_ip"]' 1 \
		'j["stats"]["neigh"]' 1 \
		'j["stats"]["vlan"]' 12 \
		'j["stats"]["flows"]' 1 \
		'j["stats"]["flows_evicted"]' 0 \
		'len(j["flows"])' 1 \
		'flow(CLIENT_PORT)["server"]' IP_ESX \
		'flow(CLIENT_PORT)["server_port"]' NBD_PORT \
		'flow(CLIENT_PORT)["client"]' IP_RUBRIK \
		'flow(CLIENT_PORT)["verdict"]' '"asymmetric"' \
		'flow(CLIENT_PORT)["to_server"]["packets"]' 6 \
		'flow(CLIENT_PORT)["to_server"]["bytes"]' 304 \
		'flow(CLIENT_PORT)["to_server"]["payload_bytes"]' 64 \
		'flow(CLIENT_PORT)["to_server"]["src_mac"]' "\"$MAC_GW\"" \
		'flow(CLIENT_PORT)["to_server"]["dst_mac"]' "\"$MAC_VMK0\"" \
		'flow(CLIENT_PORT)["to_server"]["server_macs"]' "[\"$MAC_VMK0\"]" \
		'flow(CLIENT_PORT)["to_server"]["interface"]' VMK0_NAME \
		'flow(CLIENT_PORT)["to_server"]["vlans"]' '[10]' \
		'sorted(flow(CLIENT_PORT)["to_server"]["tcp_flags"])' '["ACK", "FIN", "PSH", "SYN"]' \
		'flow(CLIENT_PORT)["from_server"]["packets"]' 5 \
		'flow(CLIENT_PORT)["from_server"]["bytes"]' 4096 \
		'flow(CLIENT_PORT)["from_server"]["payload_bytes"]' 3896 \
		'flow(CLIENT_PORT)["from_server"]["src_mac"]' "\"$MAC_VMK4\"" \
		'flow(CLIENT_PORT)["from_server"]["dst_mac"]' "\"$MAC_RUBRIK\"" \
		'flow(CLIENT_PORT)["from_server"]["server_macs"]' "[\"$MAC_VMK4\"]" \
		'flow(CLIENT_PORT)["from_server"]["interface"]' VMK4_NAME \
		'flow(CLIENT_PORT)["from_server"]["vlans"]' '[28]' \
		'sorted(flow(CLIENT_PORT)["from_server"]["tcp_flags"])' '["ACK", "FIN", "PSH", "SYN"]' \
		'flow(CLIENT_PORT)["first_seen"]' "$T_SYN" \
		'flow(CLIENT_PORT)["last_seen"]' "$T_LAST" \
		'j["time"]' "$T_LAST" \
		'len(j["hosts"])' 1 \
		'host(IP_ESX)["verdict"]' '"asymmetric"' \
		'macs(IP_ESX, "rx")' "[{'mac': '$MAC_VMK0', 'interface': '$VMK0_NAME', 'owner_ip': None, 'packets': 6, 'bytes': 304}]" \
		'macs(IP_ESX, "tx")' "[{'mac': '$MAC_VMK4', 'interface': '$VMK4_NAME', 'owner_ip': '$IP_ESX_VMK4', 'packets': 5, 'bytes': 4096}]" \
		'len(j["interfaces"])' 2 \
		'[iface(MAC_VMK0)[k] for k in ("interface", "rx_packets", "rx_bytes", "tx_packets", "tx_bytes", "server_ips")]' \
		"['$VMK0_NAME', 6, 304, 0, 0, ['$IP_ESX']]" \
		'[iface(MAC_VMK4)[k] for k in ("interface", "owner_ip", "rx_packets", "rx_bytes", "tx_packets", "tx_bytes", "server_ips")]' \
		"['$VMK4_NAME', '$IP_ESX_VMK4', 0, 0, 5, 4096, ['$IP_ESX']]" \
		"${@:2}"
}

# ---- the seed and its controls ----

t_begin replay_seed
if mk seed && replay seed "$D/seed.pcap" --json "${VMKS[@]}" &&
   t_expect exit "$rc" 0 && t_expect stderr "$(cat "$D/seed.err")" "" &&
   seed_checks "$D/seed.json" \
	'j["source"]' "{'kind': 'replay', 'path': '$D/seed.pcap'}" \
	'all_stats()' 'stats(packets=12, matched=11, not_ip=1, vlan=12, neigh=1)' \
	'flow(CLIENT_PORT)["to_server"]["erspan_sessions"]' '[]' \
	'flow(CLIENT_PORT)["from_server"]["erspan_sessions"]' '[]'; then
	t_ok
else
	t_fail "seed capture"
fi

t_begin replay_seed_text
if replay seed_text "$D/seed.pcap" "${VMKS[@]}" && t_expect exit "$rc" 0 &&
   grep -qi asymmetric "$D/seed_text.json" && grep -qF "$IP_ESX" "$D/seed_text.json" &&
   grep -q vmk4 "$D/seed_text.json" && ! grep -q '^{' "$D/seed_text.json"; then
	t_ok
else
	t_fail "human report of the seed capture"
fi

t_begin replay_vmk_file
if replay vmkfile "$D/seed.pcap" --json \
	--vmk-file "$NP_TOP/tests/data/esxcfg-vmknic.txt" && t_expect exit "$rc" 0 &&
   jcheck "$D/vmkfile.json" \
	'flow(CLIENT_PORT)["to_server"]["interface"]' VMK0_NAME \
	'flow(CLIENT_PORT)["from_server"]["interface"]' VMK4_NAME \
	'iface(MAC_VMK4)["interface"]' VMK4_NAME; then
	t_ok
else
	t_fail "--vmk-file names"
fi

t_begin replay_symmetric
if mk symmetric && replay sym "$D/symmetric.pcap" --json "${VMKS[@]}" &&
   t_expect exit "$rc" 0 &&
   jcheck "$D/sym.json" \
	'flow(CLIENT_PORT)["verdict"]' '"symmetric"' \
	'host(IP_ESX)["verdict"]' '"symmetric"' \
	'flow(CLIENT_PORT)["from_server"]["server_macs"]' "[\"$MAC_VMK0\"]" \
	'flow(CLIENT_PORT)["from_server"]["packets"]' 5 \
	'flow(CLIENT_PORT)["from_server"]["bytes"]' 4096 \
	'macs(IP_ESX, "tx")' "[{'mac': '$MAC_VMK0', 'interface': '$VMK0_NAME', 'owner_ip': None, 'packets': 5, 'bytes': 4096}]" \
	'len(j["interfaces"])' 1; then
	t_ok
else
	t_fail "symmetric control"
fi

# ---- encapsulated remote mirrors ----

for enc in erspan1 erspan2 erspan3 teb; do
	t_begin "replay_$enc"
	erspan=12 to_sess='[]' from_sess='[]'
	[[ $enc == teb ]] && erspan=0
	if [[ $enc == erspan2 || $enc == erspan3 ]]; then
		to_sess='[100]' from_sess='[101]'
	fi
	if mk "$enc" && replay "$enc" "$D/$enc.pcap" --json "${VMKS[@]}" &&
	   t_expect exit "$rc" 0 &&
	   seed_checks "$D/$enc.json" \
		'all_stats()' "stats(packets=12, matched=11, not_ip=1, vlan=12, neigh=1, gre=12, erspan=$erspan)" \
		'flow(CLIENT_PORT)["to_server"]["erspan_sessions"]' "$to_sess" \
		'flow(CLIENT_PORT)["from_server"]["erspan_sessions"]' "$from_sess"; then
		t_ok
	else
		t_fail "$enc"
	fi
done

# ---- what mirrors and captures do to frames ----

t_begin replay_snaplen
if mk snaplen && replay snaplen "$D/snaplen.pcap" --json "${VMKS[@]}" &&
   t_expect exit "$rc" 0 &&
   jcheck "$D/snaplen.json" \
	'all_stats()' 'stats(packets=14, matched=12, not_ip=1, truncated=1, vlan=14, neigh=1)' \
	'flow(CLIENT_PORT)["to_server"]["packets"]' 7 \
	'flow(CLIENT_PORT)["to_server"]["bytes"]' 460 \
	'flow(CLIENT_PORT)["to_server"]["payload_bytes"]' 164 \
	'flow(CLIENT_PORT)["from_server"]["packets"]' 5 \
	'flow(CLIENT_PORT)["from_server"]["bytes"]' 4096 \
	'flow(CLIENT_PORT)["from_server"]["payload_bytes"]' 3896 \
	'flow(CLIENT_PORT)["verdict"]' '"asymmetric"'; then
	t_ok
else
	t_fail "60-byte mirrored packet length"
fi

t_begin replay_ipv6
if mk ipv6 && replay ipv6 "$D/ipv6.pcap" --json "${VMKS[@]}" &&
   t_expect exit "$rc" 0 &&
   jcheck "$D/ipv6.json" \
	'all_stats()' 'stats(packets=12, matched=11, not_tcp=1, vlan=12, ipv6=12, neigh=1)' \
	'flow(CLIENT_PORT)["server"]' IP6_ESX \
	'flow(CLIENT_PORT)["client"]' IP6_RUBRIK \
	'flow(CLIENT_PORT)["verdict"]' '"asymmetric"' \
	'flow(CLIENT_PORT)["to_server"]["packets"]' 6 \
	'flow(CLIENT_PORT)["to_server"]["bytes"]' 432 \
	'flow(CLIENT_PORT)["to_server"]["payload_bytes"]' 64 \
	'flow(CLIENT_PORT)["from_server"]["packets"]' 5 \
	'flow(CLIENT_PORT)["from_server"]["bytes"]' 4196 \
	'flow(CLIENT_PORT)["from_server"]["payload_bytes"]' 3896 \
	'macs(IP6_ESX, "tx")' "[{'mac': '$MAC_VMK4', 'interface': '$VMK4_NAME', 'owner_ip': '$IP6_ESX_VMK4', 'packets': 5, 'bytes': 4196}]"; then
	t_ok
else
	t_fail "IPv6"
fi

# An IPv6 session between IPv4-mapped addresses (::ffff:10.0.0.10) and
# the seed's IPv4 session of the same addresses and ports: two flows and
# two hosts, the mapped one written as IPv6 (RFC 5952, as inet_ntop and
# tshark write it), in the JSON and in the human report.
t_begin replay_mapped
M_ESX="::ffff:$IP_ESX"
M_RUBRIK="::ffff:$IP_RUBRIK"
if mk mapped && replay mapped "$D/mapped.pcap" --json "${VMKS[@]}" &&
   t_expect exit "$rc" 0 && t_expect stderr "$(cat "$D/mapped.err")" "" &&
   jcheck "$D/mapped.json" \
	'all_stats()' 'stats(packets=24, matched=22, not_ip=1, not_tcp=1, vlan=24, ipv6=12, neigh=2)' \
	'j["stats"]["flows"]' 2 \
	'sorted((f["server"], f["client"], f["server_port"], f["client_port"]) for f in j["flows"])' \
	"[('$IP_ESX', '$IP_RUBRIK', 902, $CLIENT_PORT), ('$M_ESX', '$M_RUBRIK', 902, $CLIENT_PORT)]" \
	'[flow(CLIENT_PORT, IP_ESX)[d][k] for d in ("to_server", "from_server") for k in ("packets", "bytes", "payload_bytes")]' \
	'[6, 304, 64, 5, 4096, 3896]' \
	'flow(CLIENT_PORT, IP_ESX)["verdict"]' '"asymmetric"' \
	"[flow(CLIENT_PORT, '$M_ESX')[d][k] for d in ('to_server', 'from_server') for k in ('packets', 'bytes', 'payload_bytes')]" \
	'[6, 432, 64, 5, 4196, 3896]' \
	"flow(CLIENT_PORT, '$M_ESX')['verdict']" '"symmetric"' \
	"flow(CLIENT_PORT, '$M_ESX')['from_server']['server_macs']" "['$MAC_VMK0']" \
	'[h["ip"] for h in j["hosts"]]' "['$IP_ESX', '$M_ESX']" \
	'host(IP_ESX)["verdict"]' '"asymmetric"' \
	'macs(IP_ESX, "rx")' "[{'mac': '$MAC_VMK0', 'interface': '$VMK0_NAME', 'owner_ip': None, 'packets': 6, 'bytes': 304}]" \
	'macs(IP_ESX, "tx")' "[{'mac': '$MAC_VMK4', 'interface': '$VMK4_NAME', 'owner_ip': '$IP_ESX_VMK4', 'packets': 5, 'bytes': 4096}]" \
	"host('$M_ESX')['verdict']" '"symmetric"' \
	"macs('$M_ESX', 'rx')" "[{'mac': '$MAC_VMK0', 'interface': '$VMK0_NAME', 'owner_ip': None, 'packets': 6, 'bytes': 432}]" \
	"macs('$M_ESX', 'tx')" "[{'mac': '$MAC_VMK0', 'interface': '$VMK0_NAME', 'owner_ip': None, 'packets': 5, 'bytes': 4196}]" \
	'iface(MAC_VMK0)["server_ips"]' "['$IP_ESX', '$M_ESX']" \
	'iface(MAC_VMK4)["server_ips"]' "['$IP_ESX']" &&
   replay mapped_text "$D/mapped.pcap" "${VMKS[@]}" && t_expect exit "$rc" 0 &&
   t_log grep -E "^  10\.0\.0\.10 +ASYMMETRIC " "$D/mapped_text.json" &&
   t_log grep -E "^  ::ffff:10\.0\.0\.10 +SYMMETRIC " "$D/mapped_text.json" &&
   t_log grep -E "^  \[::ffff:10\.0\.0\.10\]:902 +\[::ffff:10\.0\.28\.50\]:$CLIENT_PORT +SYMMETRIC +6 pkt 432 B via vmk0 +5 pkt 4\.2 kB via vmk0 " "$D/mapped_text.json" &&
   t_log grep -E "^  10\.0\.0\.10:902 +10\.0\.28\.50:$CLIENT_PORT +ASYMMETRIC +6 pkt 304 B via vmk0 +5 pkt 4\.1 kB via vmk4 " "$D/mapped_text.json" &&
   t_log grep -E " 10\.0\.0\.10,::ffff:10\.0\.0\.10$" "$D/mapped_text.json"; then
	t_ok
else
	t_fail "an IPv4-mapped IPv6 session beside its IPv4 twin"
fi

# ...and tshark sees the same two conversations, under the same text of
# their addresses, with the same frames and IP bytes each way.
t_begin replay_mapped_tshark
if ! command -v tshark >/dev/null; then
	t_skip "no tshark"
elif [[ ! -e $D/mapped.json ]]; then
	t_fail "the capture of replay_mapped is missing"
elif tshark -r "$D/mapped.pcap" -q -z conv,tcp >"$D/mconv.txt" 2>>"$_t_log" &&
     tshark -r "$D/mapped.pcap" -Y tcp -T fields -E separator=' ' \
	-e ip.src -e ipv6.src -e tcp.srcport -e ip.len -e ipv6.plen \
	>"$D/mfields.txt" 2>>"$_t_log" &&
     t_log python3 - "$D/mapped.json" "$D/mconv.txt" "$D/mfields.txt" <<'EOF'
import json, sys
from collections import defaultdict
from report_check import *

report = json.load(open(sys.argv[1]))
conv = conversations(sys.argv[2])
# source, port, then IPv4's total length or IPv6's payload length
iplen = defaultdict(int)
for line in open(sys.argv[3]):
    t = line.split()
    iplen[(t[0], int(t[1]))] += int(t[2]) + (40 if ":" in t[0] else 0)

check = eq  # (what, nbdpath's, tshark's)

ends = lambda f: (f["client"], f["client_port"], f["server"], f["server_port"])
check("conversations", sorted(ends(f) for f in report["flows"]), sorted(conv))
for f in report["flows"]:
    to, frm = conv.get(ends(f), (None, None))
    s = f["server"]
    check(f"{s} to_server packets", f["to_server"]["packets"], to)
    check(f"{s} from_server packets", f["from_server"]["packets"], frm)
    check(f"{s} to_server bytes", f["to_server"]["bytes"],
          iplen[(f["client"], f["client_port"])])
    check(f"{s} from_server bytes", f["from_server"]["bytes"],
          iplen[(f["server"], f["server_port"])])
check("flows compared", len(report["flows"]), 2)
finish()
EOF
then
	t_ok
else
	t_fail "the mapped capture differs from tshark"
fi

t_begin replay_malformed
if mk malformed && replay malformed "$D/malformed.pcap" --json &&
   t_expect exit "$rc" 0 &&
   jcheck "$D/malformed.json" \
	'all_stats()' 'stats(packets=16, matched=1, truncated=3, malformed=6, not_tcp=1, other_port=1, fragment=1, unsupported=2, not_ip=1, vlan=1, gre=1, ipv6=2)' \
	'outcomes()' 16 \
	'len(j["flows"])' 1 \
	'flow(CLIENT_PORT)["verdict"]' '"to_server_only"' \
	'flow(CLIENT_PORT)["to_server"]["bytes"]' 50 \
	'pick(flow(CLIENT_PORT)["from_server"], "packets", "bytes", "payload_bytes", "src_mac", "dst_mac", "server_macs", "interface", "vlans", "erspan_sessions", "tcp_flags")' \
	"{'packets': 0, 'bytes': 0, 'payload_bytes': 0, 'src_mac': None, 'dst_mac': None, 'server_macs': [], 'interface': None, 'vlans': [], 'erspan_sessions': [], 'tcp_flags': []}"; then
	t_ok
else
	t_fail "one frame of every failure"
fi

t_begin replay_jumbo
if mk jumbo && replay jumbo "$D/jumbo.pcap" --json "${VMKS[@]}" &&
   t_expect exit "$rc" 0 &&
   jcheck "$D/jumbo.json" \
	'all_stats()' 'stats(packets=12, matched=11, not_ip=1, vlan=12, neigh=1)' \
	'flow(CLIENT_PORT)["from_server"]["packets"]' 5 \
	'flow(CLIENT_PORT)["from_server"]["bytes"]' 19120 \
	'flow(CLIENT_PORT)["from_server"]["payload_bytes"]' 18920 \
	'flow(CLIENT_PORT)["to_server"]["bytes"]' 304; then
	t_ok
else
	t_fail "9000-byte frames"
fi

# ---- file formats and inputs ----

# the report without source.path, one line, keys sorted
norm() {
	python3 -c 'import json,sys; j=json.load(sys.stdin); j["source"].pop("path"); print(json.dumps(j, sort_keys=True))' <"$1"
}

t_begin replay_pcapng_same_as_pcap
ok=1
for sc in seed erspan3 ipv6 malformed snaplen jumbo multi; do
	if ! { [[ -e $D/$sc.pcap ]] || mk "$sc"; } || ! mk "$sc" --pcapng ||
	   ! replay "ng-$sc" "$D/$sc.pcapng" --json "${VMKS[@]}" ||
	   ! t_expect "$sc.pcapng exit" "$rc" 0 ||
	   ! replay "p-$sc" "$D/$sc.pcap" --json "${VMKS[@]}" ||
	   ! t_expect "$sc.pcap exit" "$rc" 0 ||
	   ! t_expect "$sc: pcapng report" "$(norm "$D/ng-$sc.json")" \
		"$(norm "$D/p-$sc.json")"; then
		ok=0
	fi
done
((ok)) && t_ok || t_fail "pcapng and pcap reports differ"

# A pcapng of two interfaces with different snapshot lengths (mergecap of
# captures taken with different -s), in either byte order: libpcap alone
# refuses it; replay counts every frame of both.
# NG_PY PCAP OUT ORDER: the PCAP's records twice, once per interface
# (snaplen 65535, then 128, records cut to it), in a pcapng section of
# byte order ORDER (< or >).
NG_PY='
import struct, sys
src, out, o = sys.argv[1:4]
d = open(src, "rb").read()
ns = d[:4] == bytes.fromhex("4d3cb2a1")
recs, i = [], 24
while i + 16 <= len(d):
    s, f, cl, ol = struct.unpack("<IIII", d[i:i + 16])
    recs.append((s * 1000000 + (f // 1000 if ns else f), d[i + 16:i + 16 + cl], ol))
    i += 16 + cl
def blk(t, body):
    body += b"\0" * (-len(body) % 4)
    n = len(body) + 12
    return struct.pack(o + "II", t, n) + body + struct.pack(o + "I", n)
w = blk(0x0a0d0d0a, struct.pack(o + "IHHq", 0x1a2b3c4d, 1, 0, -1))
for snap in (65535, 128):
    w += blk(1, struct.pack(o + "HHI", 1, 0, snap))
for ifc, snap in ((0, 65535), (1, 128)):
    for ts, data, ol in recs:
        data = data[:snap]
        w += blk(6, struct.pack(o + "IIIII", ifc, ts >> 32, ts & 0xffffffff,
                                len(data), ol) + data)
open(out, "wb").write(w)
'
t_begin replay_pcapng_snaplens
ok=1
for order in '<' '>'; do
	if ! t_log python3 -c "$NG_PY" "$D/seed.pcap" "$D/snaps.pcapng" "$order" ||
	   ! replay snaps "$D/snaps.pcapng" --json "${VMKS[@]}" ||
	   ! t_expect "exit ($order)" "$rc" 0 ||
	   ! t_expect "stderr ($order)" "$(cat "$D/snaps.err")" "" ||
	   ! jcheck "$D/snaps.json" \
		'j["stats"]["packets"]' 24 \
		'j["stats"]["matched"]' 22 \
		'flow(CLIENT_PORT)["to_server"]["packets"]' 12 \
		'flow(CLIENT_PORT)["from_server"]["bytes"]' 8192; then
		ok=0
	fi
done
((ok)) && t_ok || t_fail "a pcapng of interfaces with different snapshot lengths"

t_begin replay_stdin
if "$NP" replay - --json "${VMKS[@]}" <"$D/seed.pcap" >"$D/stdin.json" 2>>"$_t_log" &&
   "$NP" replay - --json "${VMKS[@]}" <"$D/seed.pcapng" >"$D/stdin-ng.json" 2>>"$_t_log" &&
   jcheck "$D/stdin.json" 'j["source"]["path"]' '"-"' &&
   t_expect "report from stdin" "$(norm "$D/stdin.json")" "$(norm "$D/seed.json")" &&
   t_expect "pcapng from stdin" "$(norm "$D/stdin-ng.json")" "$(norm "$D/seed.json")"; then
	t_ok
else
	t_fail "standard input"
fi

t_begin replay_cut_short
ok=1
for ext in pcap pcapng; do
	opt=
	[[ $ext == pcapng ]] && opt=--pcapng
	if ! mk cutshort $opt ||
	   ! replay "cut-$ext" "$D/cutshort.$ext" --json "${VMKS[@]}" ||
	   ! t_expect "$ext exit" "$rc" 0 ||
	   ! t_expect "$ext warning" "$(cat "$D/cut-$ext.err")" \
		"nbdpath: warning: $D/cutshort.$ext is cut short after 11 frames; reporting what it holds" ||
	   ! jcheck "$D/cut-$ext.json" \
		'j["source"]["truncated"]' True \
		'j["stats"]["packets"]' 11 \
		'flow(CLIENT_PORT)["to_server"]["packets"]' 5 \
		'flow(CLIENT_PORT)["to_server"]["bytes"]' 264 \
		'flow(CLIENT_PORT)["from_server"]["packets"]' 5; then
		ok=0
	fi
done
jcheck "$D/seed.json" '"truncated" in j["source"]' False || ok=0
((ok)) && t_ok || t_fail "capture cut in its last record"

# expect_usage NAME: exit 2, nothing on stdout, one line on stderr
expect_usage() {
	t_expect "$1: exit" "$rc" 2 &&
	t_expect "$1: stdout" "$(cat "$D/$1.json")" "" &&
	t_expect "$1: stderr lines" "$(wc -l <"$D/$1.err")" 1 &&
	grep -q '^nbdpath: ' "$D/$1.err"
}

t_begin replay_not_a_capture
printf 'Interface  Port Group\nvmk0 ...\n' >"$D/text.pcap"
: >"$D/empty.pcap"
head -c 100 /dev/urandom >"$D/noise.pcap"
if replay text "$D/text.pcap" --json && expect_usage text &&
   replay empty "$D/empty.pcap" --json && expect_usage empty &&
   replay noise "$D/noise.pcap" && expect_usage noise &&
   replay textin - --json <"$D/text.pcap" && expect_usage textin; then
	t_ok
else
	t_fail "a file that is not a capture"
fi

t_begin replay_missing_file
if replay missing "$D/nonexistent.pcap" --json && expect_usage missing &&
   replay dir "$D" --json && expect_usage dir; then
	t_ok
else
	t_fail "a missing file"
fi

t_begin replay_cooked
if mk cooked && replay cooked "$D/cooked.pcap" --json && expect_usage cooked &&
   grep -q -- '-i any' "$D/cooked.err" && grep -q 'tcpdump -i' "$D/cooked.err" &&
   mk cooked --pcapng && replay cookedng "$D/cooked.pcapng" && expect_usage cookedng; then
	t_ok
else
	t_fail "a Linux cooked capture"
fi

# libpcap names link types it knows and not the others: the number, always
t_begin replay_link_type_number
# pcap file headers (little-endian, version 2.4, snaplen 65535) of link
# types 160 (a user type) and 4080 (none at all)
printf '\xd4\xc3\xb2\xa1\x02\x00\x04\x00\0\0\0\0\0\0\0\0\xff\xff\0\0\xa0\0\0\0' >"$D/lt160.pcap"
printf '\xd4\xc3\xb2\xa1\x02\x00\x04\x00\0\0\0\0\0\0\0\0\xff\xff\0\0\xf0\x0f\0\0' >"$D/lt4080.pcap"
if replay lt160 "$D/lt160.pcap" --json && expect_usage lt160 &&
   grep -q "has link type 160[ ,]" "$D/lt160.err" &&
   replay lt4080 "$D/lt4080.pcap" --json && expect_usage lt4080 &&
   grep -q "has link type 4080, which carries no Ethernet" "$D/lt4080.err" &&
   grep -q "has link type 113 (LINUX_SLL, " "$D/cooked.err"; then
	t_ok
else
	t_fail "a link type named by its number"
fi

# a capture cut inside its file header is a cut capture, not another format
t_begin replay_cut_in_header
head -c 10 "$D/seed.pcap" >"$D/head10.pcap"
head -c 2 "$D/seed.pcap" >"$D/head2.pcap"
head -c 20 "$D/seed.pcapng" >"$D/head20.pcapng"
if replay head10 "$D/head10.pcap" --json && expect_usage head10 &&
   t_expect head10 "$(cat "$D/head10.err")" \
	"nbdpath: $D/head10.pcap is cut short inside its 24-byte pcap file header (10 bytes); copy the whole capture again" &&
   replay head2 "$D/head2.pcap" --json && expect_usage head2 &&
   grep -q "is cut short inside its 24-byte pcap file header (2 bytes)" "$D/head2.err" &&
   replay head20 "$D/head20.pcapng" --json && expect_usage head20 &&
   grep -q "is cut short before its first frame" "$D/head20.err" &&
   t_expect empty "$(cat "$D/empty.err")" \
	"nbdpath: $D/empty.pcap is empty; give a pcap or pcapng capture" &&
   ! grep -q "cut short" "$D/text.err" "$D/noise.err"; then
	t_ok
else
	t_fail "a capture cut in its file header"
fi

# A pcapng block whose length field is 0 once made the reader write the
# rest of its first read past a 16-byte array (a heap overflow, in a
# command run as root). Before the first interface: libpcap cannot open
# the file, exit 2; after frames: those frames and a warning. Both byte
# orders, as the fuzzer's corpus keeps them.
t_begin replay_block_length_zero
ok=1
for f in "$NP_TOP"/tests/fuzz/corpus/capfile/crash-*; do
	n=$(basename "$f")
	if ! replay "$n" "$f" --json || ! expect_usage "$n" ||
	   ! t_expect "$n" "$(cat "$D/$n.err")" \
		"nbdpath: cannot read $f as a capture: block in pcapng dump file has a length of 0 < 12"; then
		ok=0
	fi
done
if ! mk zerolen --pcapng || ! replay zerolen "$D/zerolen.pcapng" --json ||
   ! expect_usage zerolen || ! mk zerolen_late --pcapng ||
   ! replay zerolen_late "$D/zerolen_late.pcapng" --json "${VMKS[@]}" ||
   ! t_expect "late: exit" "$rc" 0 ||
   ! t_expect "late: stderr" "$(cat "$D/zerolen_late.err")" \
	"nbdpath: warning: $D/zerolen_late.pcapng is damaged after 12 frames (block in pcapng dump file has a length of 0 < 12); reporting what it holds" ||
   ! seed_checks "$D/zerolen_late.json" 'j["source"]["truncated"]' True; then
	ok=0
fi
((ok)) && t_ok || t_fail "a pcapng block of length 0"

# mergecap of a mirror NIC's capture and a `-i any` one: the Ethernet
# interface's frames are the seed's, whichever interface comes first; the
# others are counted and said once
t_begin replay_mixed_link_types
ok=1
for sc in mixlink mixlink_sll; do
	if ! mk "$sc" --pcapng || ! replay "$sc" "$D/$sc.pcapng" --json "${VMKS[@]}" ||
	   ! t_expect "$sc: exit" "$rc" 0 ||
	   ! t_expect "$sc: stderr" "$(cat "$D/$sc.err")" \
		"nbdpath: warning: $D/$sc.pcapng holds 12 frames of interfaces of link type 113 (LINUX_SLL, Linux cooked v1), which carry no Ethernet MAC addresses: they are left out, only the Ethernet interfaces' frames are classified" ||
	   ! seed_checks "$D/$sc.json" \
		'all_stats()' 'stats(packets=12, matched=11, not_ip=1, vlan=12, neigh=1, not_ethernet=12)' \
		'"truncated" in j["source"]' False; then
		ok=0
	fi
done
((ok)) && t_ok || t_fail "a pcapng of Ethernet and Linux cooked interfaces"

# pcap keeps seconds in an unsigned 32-bit field: 2039 is not 1902
t_begin replay_y2039
ok=1
for ext in pcap pcapng; do
	opt=
	[[ $ext == pcapng ]] && opt=--pcapng
	if ! t_log "$MKPCAP" seed "$D/y2039.$ext" $opt --start 2180000000 ||
	   ! replay "y2039-$ext" "$D/y2039.$ext" --json "${VMKS[@]}" ||
	   ! t_expect "$ext exit" "$rc" 0 ||
	   ! jcheck "$D/y2039-$ext.json" \
		'j["time"]' 2180000000.011001 \
		'flow(50512)["first_seen"]' 2180000000.001000 \
		'flow(50512)["last_seen"]' 2180000000.011001 \
		'j["stats"]["matched"]' 11 \
		'flow(50512)["to_server"]["packets"]' 6 \
		'flow(50512)["from_server"]["packets"]' 5; then
		ok=0
	fi
done
((ok)) && t_ok || t_fail "capture times from 2038 on"

# ---- idle expiry in capture time ----

# mkpcap idle: 24 flows, then 24 others 400 s later; host totals of all 48
IDLE_TOTALS=(
	'side(host(IP_ESX), "rx", "packets")' 48
	'side(host(IP_ESX), "rx", "bytes")' 1920
	'side(host(IP_ESX), "tx", "packets")' 96
	'side(host(IP_ESX), "tx", "bytes")' 73344
	'iface(MAC_VMK4)["tx_packets"]' 96
	'iface(MAC_VMK0)["rx_packets"]' 48
	'j["stats"]["matched"]' 144
	'j["time"]' 1763900400.143018
)

t_begin replay_idle_expiry
# every flow of the capture is listed: the 8 idle by its end after the
# 8 active, each with its state; the totals are the same
if mk idle && replay idle "$D/idle.pcap" --json "${VMKS[@]}" &&
   t_expect exit "$rc" 0 &&
   jcheck "$D/idle.json" "${IDLE_TOTALS[@]}" \
	'len(j["flows"])' 48 \
	'j["stats"]["flows"]' 48 \
	'j["stats"]["flows_active"]' 24 \
	'j["stats"]["flows_finished"]' 24 \
	'j["stats"]["reclaimed"]' 0 \
	'j["stats"]["flows_evicted"]' 0 \
	'sorted(f["client"] for f in j["flows"][:24] if f["state"] == "active")' 'sorted("10.0.29.%d" % i for i in range(50, 74))' \
	'sorted(f["client"] for f in j["flows"][24:] if f["state"] == "idle" and f["ended"] == f["last_seen"])' 'sorted("10.0.28.%d" % i for i in range(50, 74))' &&
   replay idle_text "$D/idle.pcap" "${VMKS[@]}" &&
   grep -q "; flows 24 active, 24 finished listed, 0 evicted$" "$D/idle_text.json" &&
   grep -q "^FINISHED FLOWS (most recent first, 10 of 24)$" "$D/idle_text.json"; then
	t_ok
else
	t_fail "flows idle in capture time are listed as idle after the active ones, in the totals once"
fi

t_begin replay_idle_reclaimed
# --max-flows 5: the smallest table, 24 slots (two buckets and the stash)
if replay idle8 "$D/idle.pcap" --json --max-flows 5 "${VMKS[@]}" &&
   t_expect exit "$rc" 0 &&
   jcheck "$D/idle8.json" "${IDLE_TOTALS[@]}" \
	'len(j["flows"])' 48 \
	'j["stats"]["reclaimed"]' 24 \
	'j["stats"]["table_full"]' 0 \
	'j["stats"]["flows_evicted"]' 0 \
	'sum(f["to_server"]["packets"] + f["from_server"]["packets"] for f in j["flows"])' 144 \
	'sorted(f["client"] for f in j["flows"] if f["state"] == "idle")' 'sorted("10.0.28.%d" % i for i in range(50, 74))'; then
	t_ok
else
	t_fail "slots reclaimed in capture time keep their counts and their records"
fi

# 1000 flows through the smallest table (24 slots): the frames of flows
# that found no slot count as table_full and in nothing else, said once
# on stderr with the way out.
t_begin replay_table_full
if t_log "$MKPCAP" bench "$D/full.pcap" --frames 2000 &&
   replay full "$D/full.pcap" --json --max-flows 5 &&
   t_expect exit "$rc" 0 &&
   jcheck "$D/full.json" \
	'j["stats"]["matched"]' 2000 \
	'len(j["flows"])' 24 \
	'j["stats"]["table_full"] + sum(f[d]["packets"] for f in j["flows"] for d in ("to_server", "from_server"))' 2000 \
	'j["stats"]["table_full"] + sum(h[s][0]["packets"] for h in j["hosts"] for s in ("rx", "tx") if h[s])' 2000 &&
   t_expect stderr "$(cat "$D/full.err")" \
	"nbdpath: warning: $(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["stats"]["table_full"])' "$D/full.json") frames found the flow table full (--max-flows 5): they are in no flow, host or interface count; raise --max-flows"; then
	t_ok
else
	t_fail "a full flow table is counted and said"
fi

# The capture's clock steps back (mkpcap stepback: groups F at +2000 s,
# A at +0 s, B at +400 s; with --pcapng, two sections). In 8 slots, B's
# flows reclaim A's, idle in their own time: every packet still counts,
# and each flow keeps its own first and last seen.
t_begin replay_clock_steps_back
ok=1
for ext in pcap pcapng; do
	opt=
	[[ $ext == pcapng ]] && opt=--pcapng
	if ! mk stepback $opt ||
	   ! replay "stepback-$ext" "$D/stepback.$ext" --json --max-flows 5 "${VMKS[@]}" ||
	   ! t_expect "$ext exit" "$rc" 0 ||
	   ! t_expect "$ext stderr" "$(cat "$D/stepback-$ext.err")" "" ||
	   ! jcheck "$D/stepback-$ext.json" \
		'all_stats()' 'stats(packets=108, matched=108, reclaimed=12, vlan=108)' \
		'side(host("10.0.0.10"), "rx", "packets")' 36 \
		'side(host("10.0.0.10"), "rx", "bytes")' 1440 \
		'side(host("10.0.0.10"), "tx", "packets")' 72 \
		'side(host("10.0.0.10"), "tx", "bytes")' 55008 \
		'iface("'$MAC_VMK0'")["rx_packets"] + iface("'$MAC_VMK4'")["tx_packets"]' 108 \
		'seen("10.0.30.50")' '(1763902000.0, 1763902000.002000)' \
		'seen("10.0.30.61")' '(1763902000.033004, 1763902000.035004)' \
		'j["time"]' 1763902000.035004; then
		ok=0
	fi
done
((ok)) && t_ok || t_fail "packets lost when the capture clock steps back"

t_begin replay_idle_timeout_option
if replay idle1000 "$D/idle.pcap" --json --idle-timeout 1000 "${VMKS[@]}" &&
   t_expect exit "$rc" 0 &&
   jcheck "$D/idle1000.json" "${IDLE_TOTALS[@]}" \
	'len(j["flows"])' 48 \
	'j["stats"]["flows_evicted"]' 0; then
	t_ok
else
	t_fail "--idle-timeout"
fi

# ---- options shared with run ----

t_begin replay_port_option
# with 902 unwatched, its bad-data-offset frame is just another port's
if replay port80 "$D/malformed.pcap" --json --port 80 &&
   t_expect exit "$rc" 0 &&
   jcheck "$D/port80.json" \
	'j["stats"]["matched"]' 1 \
	'j["stats"]["other_port"]' 2 \
	'[(f["server_port"], f["client_port"]) for f in j["flows"]]' '[(80, CLIENT_PORT)]'; then
	t_ok
else
	t_fail "--port"
fi

t_begin replay_sample_rate
if replay sampled "$D/seed.pcap" --json --sample-rate 10 "${VMKS[@]}" &&
   t_expect exit "$rc" 0 &&
   jcheck "$D/sampled.json" \
	'j["stats"]["packets"]' 120 \
	'j["stats"]["matched"]' 110 \
	'j["stats"]["sampled"]' 10 \
	'flow(CLIENT_PORT)["to_server"]["packets"]' 60 \
	'flow(CLIENT_PORT)["from_server"]["bytes"]' 40960 \
	'"\"sampled\": 10" in open(path).read()' True; then
	t_ok
else
	t_fail "--sample-rate"
fi

t_begin replay_unprivileged
if setpriv --bounding-set=-bpf,-sys_admin --inh-caps=-all true 2>/dev/null; then
	setpriv --bounding-set=-bpf,-sys_admin --inh-caps=-all \
		"$NP" replay "$D/seed.pcap" --json >"$D/unpriv.json" 2>"$D/unpriv.err"
	rc=$?
	cat "$D/unpriv.err" >>"$_t_log"
	if t_expect exit "$rc" 1 && t_expect stdout "$(cat "$D/unpriv.json")" "" &&
	   t_expect "stderr lines" "$(wc -l <"$D/unpriv.err")" 1 &&
	   grep -q '^nbdpath: .*CAP_BPF' "$D/unpriv.err"; then
		t_ok
	else
		t_fail "without CAP_BPF"
	fi
else
	t_skip "setpriv cannot drop capabilities here"
fi

# ---- against tshark ----

# Per flow and direction: packets as tshark's TCP conversations count
# them; bytes as the sum of tshark's ip.len (the IP packet length, what
# nbdpath counts), and tshark's frame bytes as that plus 18 per frame
# (Ethernet and one VLAN tag), which pins down what tshark's own byte
# column counts.
t_begin replay_tshark
if ! command -v tshark >/dev/null; then
	t_skip "no tshark"
elif mk multi && replay multi "$D/multi.pcap" --json "${VMKS[@]}" &&
     t_expect exit "$rc" 0 &&
     tshark -r "$D/multi.pcap" -q -z conv,tcp >"$D/conv.txt" 2>>"$_t_log" &&
     tshark -r "$D/multi.pcap" -T fields -E separator=' ' -e ip.src \
	-e tcp.srcport -e ip.dst -e tcp.dstport -e ip.len -e frame.len \
	>"$D/fields.txt" 2>>"$_t_log" &&
     t_log python3 - "$D/multi.json" "$D/conv.txt" "$D/fields.txt" <<'EOF'
import json, sys
from collections import defaultdict
from report_check import *

report = json.load(open(sys.argv[1]))
conv = conversations(sys.argv[2])
iplen = defaultdict(int)
framelen = defaultdict(int)
for line in open(sys.argv[3]):
    s, sp, d, dp, il, fl = line.split()
    iplen[(s, int(sp), d, int(dp))] += int(il)
    framelen[(s, int(sp), d, int(dp))] += int(fl)

check = eq  # (what, nbdpath's, tshark's)

check("conversations", len(report["flows"]), len(conv))
for f in report["flows"]:
    c = (f["client"], f["client_port"], f["server"], f["server_port"])
    s = (f["server"], f["server_port"], f["client"], f["client_port"])
    if c in conv:
        to, frm = conv[c]
    else:
        frm, to = conv.get(s, (None, None))
    ts, fs = f["to_server"], f["from_server"]
    check(f"{c} to_server packets", ts["packets"], to)
    check(f"{c} from_server packets", fs["packets"], frm)
    check(f"{c} to_server bytes", ts["bytes"], iplen[c])
    check(f"{c} from_server bytes", fs["bytes"], iplen[s])
    check(f"{c} to_server frame bytes", ts["bytes"] + 18 * ts["packets"], framelen[c])
    check(f"{c} from_server frame bytes", fs["bytes"] + 18 * fs["packets"], framelen[s])
check("flows compared", len(report["flows"]), 6)
finish()
EOF
then
	t_ok
else
	t_fail "per-flow counts differ from tshark"
fi

# The file-level cases against tshark: capture times from 2038 on, which
# interface's frames are Ethernet in a mixed pcapng (either order), and a
# capture whose clock steps back, per direction in IP bytes.
t_begin replay_tshark_files
if ! command -v tshark >/dev/null; then
	t_skip "no tshark"
elif [[ ! -e $D/y2039-pcap.json || ! -e $D/mixlink.json ||
	! -e $D/mixlink_sll.json || ! -e $D/stepback-pcap.json ]]; then
	t_fail "the captures of the tests above are missing"
elif tshark -r "$D/y2039.pcap" -T fields -E separator=' ' -e frame.time_epoch \
	-e tcp.srcport >"$D/y.txt" 2>>"$_t_log" &&
     tshark -r "$D/mixlink.pcapng" -T fields -e frame.protocols \
	>"$D/mixlink.txt" 2>>"$_t_log" &&
     tshark -r "$D/mixlink_sll.pcapng" -T fields -e frame.protocols \
	>"$D/mixlink_sll.txt" 2>>"$_t_log" &&
     tshark -r "$D/stepback.pcap" -T fields -E separator=' ' -e ip.dst \
	-e tcp.dstport -e ip.len >"$D/sb.txt" 2>>"$_t_log" &&
     t_log python3 - "$D" <<'EOF2'
import json, sys
from report_check import *
d = sys.argv[1]
check = eq  # (what, nbdpath's, tshark's)

j = json.load(open(f"{d}/y2039-pcap.json"))
ts = [float(l.split()[0]) for l in open(f"{d}/y.txt") if len(l.split()) == 2]
f = j["flows"][0]
check("2039 first_seen", round(f["first_seen"], 6), round(min(ts), 6))
check("2039 last_seen", round(f["last_seen"], 6), round(max(ts), 6))

for sc in ("mixlink", "mixlink_sll"):
    j = json.load(open(f"{d}/{sc}.json"))
    protos = [l.split(":")[0].strip() for l in open(f"{d}/{sc}.txt")]
    check(f"{sc} Ethernet frames", j["stats"]["packets"], protos.count("eth"))
    check(f"{sc} Linux cooked frames", 12, protos.count("sll"))

j = json.load(open(f"{d}/stepback-pcap.json"))
rx = tx = 0
for l in open(f"{d}/sb.txt"):
    dst, dport, iplen = l.split()
    if dport == "902":
        rx += int(iplen)
    else:
        tx += int(iplen)
h = j["hosts"][0]
check("stepback rx bytes", sum(e["bytes"] for e in h["rx"]), rx)
check("stepback tx bytes", sum(e["bytes"] for e in h["tx"]), tx)
finish()
EOF2
then
	t_ok
else
	t_fail "the file-level cases differ from tshark"
fi

t_done
