#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# `nbdpath replay`: captures written by .build/mkpcap (tests/mkpcap.c says
# what each scenario holds) are replayed through the real program and the
# JSON report is checked exactly (SPEC §5, §6), then cross-checked with
# tshark. Needs root (CAP_BPF, CAP_NET_ADMIN) like the command itself.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

if ((EUID != 0)); then
	t_begin replay
	t_skip "needs root (CAP_BPF, CAP_NET_ADMIN)"
	t_done
fi

MKPCAP=$NP_BUILD/mkpcap
D=$(mktemp -d)
chmod 755 "$D"
t_cleanup "rm -rf '$D'"

VMK0=00:25:b5:00:00:0a
VMK4=00:50:56:6b:28:04
GW10=00:00:5e:00:01:0a
CLIENT=00:50:56:a1:28:32
VMKS=(--vmk "vmk0=$VMK0" --vmk "vmk4=$VMK4")
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

# jcheck JSON_FILE EXPR EXPECTED [EXPR EXPECTED]...
# Each EXPR and EXPECTED is Python, evaluated with the report as `j` and
# the helpers below; every pair must be equal (floats: within 2 us).
jcheck() {
	t_log python3 - "$@" <<'EOF'
import json, sys

path = sys.argv[1]
with open(path) as fh:
    text = fh.read()
if text.count("\n") != 1 or not text.endswith("\n"):
    print(f"{path}: not one line of JSON")
    sys.exit(1)
j = json.loads(text)

def flow(cport, server=None):
    got = [f for f in j["flows"] if f["client_port"] == cport
           and (server is None or f["server"] == server)]
    assert len(got) == 1, f"flow with client port {cport}: {len(got)} found"
    return got[0]

def host(ip):
    got = [h for h in j["hosts"] if h["ip"] == ip]
    assert len(got) == 1, f"host {ip}: {len(got)} found"
    return got[0]

def iface(mac):
    got = [i for i in j["interfaces"] if i["mac"] == mac]
    assert len(got) == 1, f"interface {mac}: {len(got)} found"
    return got[0]

def pick(d, *keys):
    return {k: d[k] for k in keys}

def macs(ip, key):
    """A host's rx or tx entries, the keys SPEC 6 names."""
    return [pick(e, "mac", "interface", "owner_ip", "packets", "bytes")
            for e in host(ip)[key]]

def side(h, key, field):
    """Sum of a field over a host's rx or tx entries."""
    return sum(e[field] for e in h[key])

OUTCOMES = ["matched", "other_port", "not_tcp", "not_ip", "fragment",
            "truncated", "malformed", "unsupported"]

def outcomes():
    return sum(j["stats"][k] for k in OUTCOMES)

def stats(**want):
    """The whole stats object: given keys as given, the others zero."""
    keys = set(j["stats"]) - {"flows", "flows_evicted"}
    return {k: want.get(k, 0) for k in keys}

def all_stats():
    return {k: v for k, v in j["stats"].items()
            if k not in ("flows", "flows_evicted")}

bad = 0
args = sys.argv[2:]
for expr, exp in zip(args[::2], args[1::2]):
    try:
        a = eval(expr)
        e = eval(exp)
    except Exception as ex:
        print(f"{expr}: {type(ex).__name__}: {ex}")
        bad += 1
        continue
    if isinstance(e, float) and isinstance(a, (int, float)):
        same = abs(a - e) <= 2e-6
    else:
        same = a == e
    if not same:
        print(f"{expr}: actual {a!r} != expected {e!r}")
        bad += 1
sys.exit(1 if bad else 0)
EOF
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
		'flow(50512)["server"]' '"10.0.0.10"' \
		'flow(50512)["server_port"]' 902 \
		'flow(50512)["client"]' '"10.0.28.50"' \
		'flow(50512)["verdict"]' '"asymmetric"' \
		'flow(50512)["to_server"]["packets"]' 6 \
		'flow(50512)["to_server"]["bytes"]' 304 \
		'flow(50512)["to_server"]["payload_bytes"]' 64 \
		'flow(50512)["to_server"]["src_mac"]' "\"$GW10\"" \
		'flow(50512)["to_server"]["dst_mac"]' "\"$VMK0\"" \
		'flow(50512)["to_server"]["server_macs"]' "[\"$VMK0\"]" \
		'flow(50512)["to_server"]["interface"]' '"vmk0"' \
		'flow(50512)["to_server"]["vlans"]' '[10]' \
		'sorted(flow(50512)["to_server"]["tcp_flags"])' '["ACK", "FIN", "PSH", "SYN"]' \
		'flow(50512)["from_server"]["packets"]' 5 \
		'flow(50512)["from_server"]["bytes"]' 4096 \
		'flow(50512)["from_server"]["payload_bytes"]' 3896 \
		'flow(50512)["from_server"]["src_mac"]' "\"$VMK4\"" \
		'flow(50512)["from_server"]["dst_mac"]' "\"$CLIENT\"" \
		'flow(50512)["from_server"]["server_macs"]' "[\"$VMK4\"]" \
		'flow(50512)["from_server"]["interface"]' '"vmk4"' \
		'flow(50512)["from_server"]["vlans"]' '[28]' \
		'sorted(flow(50512)["from_server"]["tcp_flags"])' '["ACK", "FIN", "PSH", "SYN"]' \
		'flow(50512)["first_seen"]' "$T_SYN" \
		'flow(50512)["last_seen"]' "$T_LAST" \
		'j["time"]' "$T_LAST" \
		'len(j["hosts"])' 1 \
		'host("10.0.0.10")["verdict"]' '"asymmetric"' \
		'macs("10.0.0.10", "rx")' "[{'mac': '$VMK0', 'interface': 'vmk0', 'owner_ip': None, 'packets': 6, 'bytes': 304}]" \
		'macs("10.0.0.10", "tx")' "[{'mac': '$VMK4', 'interface': 'vmk4', 'owner_ip': '10.0.28.10', 'packets': 5, 'bytes': 4096}]" \
		'len(j["interfaces"])' 2 \
		'[iface("'$VMK0'")[k] for k in ("interface", "rx_packets", "rx_bytes", "tx_packets", "tx_bytes", "server_ips")]' \
		"['vmk0', 6, 304, 0, 0, ['10.0.0.10']]" \
		'[iface("'$VMK4'")[k] for k in ("interface", "owner_ip", "rx_packets", "rx_bytes", "tx_packets", "tx_bytes", "server_ips")]' \
		"['vmk4', '10.0.28.10', 0, 0, 5, 4096, ['10.0.0.10']]" \
		"${@:2}"
}

# ---- the seed and its controls ----

t_begin replay_seed
if mk seed && replay seed "$D/seed.pcap" --json "${VMKS[@]}" &&
   t_expect exit "$rc" 0 && t_expect stderr "$(cat "$D/seed.err")" "" &&
   seed_checks "$D/seed.json" \
	'j["source"]' "{'kind': 'replay', 'path': '$D/seed.pcap'}" \
	'all_stats()' 'stats(packets=12, matched=11, not_ip=1, vlan=12, neigh=1)' \
	'flow(50512)["to_server"]["erspan_sessions"]' '[]' \
	'flow(50512)["from_server"]["erspan_sessions"]' '[]'; then
	t_ok
else
	t_fail "seed capture"
fi

t_begin replay_seed_text
if replay seed_text "$D/seed.pcap" "${VMKS[@]}" && t_expect exit "$rc" 0 &&
   grep -qi asymmetric "$D/seed_text.json" && grep -q 10.0.0.10 "$D/seed_text.json" &&
   grep -q vmk4 "$D/seed_text.json" && ! grep -q '^{' "$D/seed_text.json"; then
	t_ok
else
	t_fail "human report of the seed capture"
fi

t_begin replay_vmk_file
if replay vmkfile "$D/seed.pcap" --json \
	--vmk-file "$NP_TOP/tests/data/esxcfg-vmknic.txt" && t_expect exit "$rc" 0 &&
   jcheck "$D/vmkfile.json" \
	'flow(50512)["to_server"]["interface"]' '"vmk0"' \
	'flow(50512)["from_server"]["interface"]' '"vmk4"' \
	'iface("'$VMK4'")["interface"]' '"vmk4"'; then
	t_ok
else
	t_fail "--vmk-file names"
fi

t_begin replay_symmetric
if mk symmetric && replay sym "$D/symmetric.pcap" --json "${VMKS[@]}" &&
   t_expect exit "$rc" 0 &&
   jcheck "$D/sym.json" \
	'flow(50512)["verdict"]' '"symmetric"' \
	'host("10.0.0.10")["verdict"]' '"symmetric"' \
	'flow(50512)["from_server"]["server_macs"]' "[\"$VMK0\"]" \
	'flow(50512)["from_server"]["packets"]' 5 \
	'flow(50512)["from_server"]["bytes"]' 4096 \
	'macs("10.0.0.10", "tx")' "[{'mac': '$VMK0', 'interface': 'vmk0', 'owner_ip': None, 'packets': 5, 'bytes': 4096}]" \
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
		'flow(50512)["to_server"]["erspan_sessions"]' "$to_sess" \
		'flow(50512)["from_server"]["erspan_sessions"]' "$from_sess"; then
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
	'flow(50512)["to_server"]["packets"]' 7 \
	'flow(50512)["to_server"]["bytes"]' 460 \
	'flow(50512)["to_server"]["payload_bytes"]' 164 \
	'flow(50512)["from_server"]["packets"]' 5 \
	'flow(50512)["from_server"]["bytes"]' 4096 \
	'flow(50512)["from_server"]["payload_bytes"]' 3896 \
	'flow(50512)["verdict"]' '"asymmetric"'; then
	t_ok
else
	t_fail "60-byte mirrored packet length"
fi

t_begin replay_ipv6
if mk ipv6 && replay ipv6 "$D/ipv6.pcap" --json "${VMKS[@]}" &&
   t_expect exit "$rc" 0 &&
   jcheck "$D/ipv6.json" \
	'all_stats()' 'stats(packets=12, matched=11, not_tcp=1, vlan=12, ipv6=12, neigh=1)' \
	'flow(50512)["server"]' '"2001:db8:10::10"' \
	'flow(50512)["client"]' '"2001:db8:28::50"' \
	'flow(50512)["verdict"]' '"asymmetric"' \
	'flow(50512)["to_server"]["packets"]' 6 \
	'flow(50512)["to_server"]["bytes"]' 432 \
	'flow(50512)["to_server"]["payload_bytes"]' 64 \
	'flow(50512)["from_server"]["packets"]' 5 \
	'flow(50512)["from_server"]["bytes"]' 4196 \
	'flow(50512)["from_server"]["payload_bytes"]' 3896 \
	'macs("2001:db8:10::10", "tx")' "[{'mac': '$VMK4', 'interface': 'vmk4', 'owner_ip': '2001:db8:28::10', 'packets': 5, 'bytes': 4196}]"; then
	t_ok
else
	t_fail "IPv6"
fi

t_begin replay_malformed
if mk malformed && replay malformed "$D/malformed.pcap" --json &&
   t_expect exit "$rc" 0 &&
   jcheck "$D/malformed.json" \
	'all_stats()' 'stats(packets=16, matched=1, truncated=3, malformed=5, not_tcp=1, other_port=1, fragment=1, unsupported=3, not_ip=1, vlan=1, gre=1, ipv6=2)' \
	'outcomes()' 16 \
	'len(j["flows"])' 1 \
	'flow(50512)["verdict"]' '"to_server_only"' \
	'flow(50512)["to_server"]["bytes"]' 50 \
	'pick(flow(50512)["from_server"], "packets", "bytes", "payload_bytes", "src_mac", "dst_mac", "server_macs", "interface", "vlans", "erspan_sessions", "tcp_flags")' \
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
	'flow(50512)["from_server"]["packets"]' 5 \
	'flow(50512)["from_server"]["bytes"]' 19120 \
	'flow(50512)["from_server"]["payload_bytes"]' 18920 \
	'flow(50512)["to_server"]["bytes"]' 304; then
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
		'flow(50512)["to_server"]["packets"]' 12 \
		'flow(50512)["from_server"]["bytes"]' 8192; then
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
		'flow(50512)["to_server"]["packets"]' 5 \
		'flow(50512)["to_server"]["bytes"]' 264 \
		'flow(50512)["from_server"]["packets"]' 5; then
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

# ---- idle expiry in capture time ----

# mkpcap idle: 24 flows, then 24 others 400 s later; host totals of all 48
IDLE_TOTALS=(
	'side(host("10.0.0.10"), "rx", "packets")' 48
	'side(host("10.0.0.10"), "rx", "bytes")' 1920
	'side(host("10.0.0.10"), "tx", "packets")' 96
	'side(host("10.0.0.10"), "tx", "bytes")' 73344
	'iface("'$VMK4'")["tx_packets"]' 96
	'iface("'$VMK0'")["rx_packets"]' 48
	'j["stats"]["matched"]' 144
	'j["time"]' 1763900400.143017589
)

t_begin replay_idle_expiry
if mk idle && replay idle "$D/idle.pcap" --json "${VMKS[@]}" &&
   t_expect exit "$rc" 0 &&
   jcheck "$D/idle.json" "${IDLE_TOTALS[@]}" \
	'len(j["flows"])' 24 \
	'j["stats"]["flows"]' 24 \
	'j["stats"]["reclaimed"]' 0 \
	'j["stats"]["flows_evicted"]' 24 \
	'sorted(f["client"] for f in j["flows"])' 'sorted("10.0.29.%d" % i for i in range(50, 74))' &&
   replay idle_text "$D/idle.pcap" "${VMKS[@]}" &&
   grep -q "; flows 24 listed, 24 evicted$" "$D/idle_text.json" &&
   grep -q "^24 flows idle for --idle-timeout (300 s) by the end of the capture are in the host and interface totals only; a longer --idle-timeout lists them$" "$D/idle_text.json"; then
	t_ok
else
	t_fail "flows idle in capture time leave the list, not the totals, and are counted evicted"
fi

t_begin replay_idle_reclaimed
# --max-flows 5: the smallest table, 24 slots (two buckets and the stash)
if replay idle8 "$D/idle.pcap" --json --max-flows 5 "${VMKS[@]}" &&
   t_expect exit "$rc" 0 &&
   jcheck "$D/idle8.json" "${IDLE_TOTALS[@]}" \
	'len(j["flows"])' 24 \
	'j["stats"]["reclaimed"]' 24 \
	'j["stats"]["table_full"]' 0 \
	'j["stats"]["flows_evicted"]' 24; then
	t_ok
else
	t_fail "slots reclaimed in capture time keep their counts"
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
	'[(f["server_port"], f["client_port"]) for f in j["flows"]]' '[(80, 50512)]'; then
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
	'flow(50512)["to_server"]["packets"]' 60 \
	'flow(50512)["from_server"]["bytes"]' 40960 \
	'"\"sampled\": 10" in open(sys.argv[1]).read()' True; then
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

report = json.load(open(sys.argv[1]))
conv = {}
# "A:pa <-> B:pb  FRAMES(B->A) N UNIT  FRAMES(A->B) N UNIT  total..."
for line in open(sys.argv[2]):
    t = line.split()
    if len(t) < 9 or t[1] != "<->":
        continue
    a, pa = t[0].rsplit(":", 1)
    b, pb = t[2].rsplit(":", 1)
    conv[(a, int(pa), b, int(pb))] = (int(t[6]), int(t[3]))
iplen = defaultdict(int)
framelen = defaultdict(int)
for line in open(sys.argv[3]):
    s, sp, d, dp, il, fl = line.split()
    iplen[(s, int(sp), d, int(dp))] += int(il)
    framelen[(s, int(sp), d, int(dp))] += int(fl)

bad = 0
def check(what, a, e):
    global bad
    if a != e:
        print(f"{what}: nbdpath {a} != tshark {e}")
        bad += 1

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
sys.exit(1 if bad else 0)
EOF
then
	t_ok
else
	t_fail "per-flow counts differ from tshark"
fi

t_done
