#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The --metrics endpoint at size: `nbdpath run` on a veth in a private
# netns sees NP_HOSTS ESXi hosts (default 1000), each sending from
# NP_MACS server-side MACs (default 4: 4000 in all) to a client of its
# own, and is scraped NP_SCRAPES times (default 20) over loopback with
# curl. Prints the exposition's size, its series, and the scrape time
# (median, min, max), and the loader's VmRSS. Needs root and a built tree.
set -euo pipefail
cd "$(dirname "$0")/.."

hosts=${NP_HOSTS:-1000}
macs=${NP_MACS:-4}
scrapes=${NP_SCRAPES:-20}
port=$((20000 + RANDOM % 20000))
ns=np-bm$$
pins=$(mktemp -d /tmp/np-bm.XXXXXX)
work=$(mktemp -d)
pid=

cleanup() {
	[[ -n $pid ]] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	ip netns del "$ns" 2>/dev/null || true
	umount "$pins" 2>/dev/null || true
	rmdir "$pins" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

ip netns add "$ns"
ip -n "$ns" link set lo up
ip -n "$ns" link add va type veth peer name vb
ip -n "$ns" link set va up
ip -n "$ns" link set vb up
mount -t bpf bpf "$pins"

ip netns exec "$ns" ./nbdpath run -i va --mode generic --pin-dir "$pins/p" \
	--interval 1 --metrics "127.0.0.1:$port" >/dev/null 2>"$work/run.err" &
pid=$!
sleep 1

# host h (10.1.h/256.h%256) port 902 -> client 10.2.h/256.h%256, from MAC
# 00:50:56:hh:hh:kk for k < macs: one flow per host, macs MACs in it
ip netns exec "$ns" taskset -c 0 python3 - "$hosts" "$macs" <<'EOF'
import socket, struct, sys
hosts, macs = int(sys.argv[1]), int(sys.argv[2])
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind(("vb", 0))
cli_mac = bytes.fromhex("00163e002832")
for h in range(hosts):
    sip = socket.inet_aton("10.1.%d.%d" % (h // 256, h % 256))
    dip = socket.inet_aton("10.2.%d.%d" % (h // 256, h % 256))
    for k in range(macs):
        smac = bytes([0x00, 0x50, 0x56, h >> 8, h & 0xff, k])
        tcp = struct.pack("!HHIIBBHHH", 902, 40000, 1000 + k * 1000, 1,
                          5 << 4, 0x18, 65535, 0, 0)
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 40 + 1000, k, 0, 64, 6,
                         0, sip, dip)
        s.send(cli_mac + smac + b"\x08\x00" + ip + tcp + b"x" * 1000)
EOF
sleep 2.5

times=()
for ((i = 0; i < scrapes; i++)); do
	out=$(ip netns exec "$ns" curl -s --noproxy '*' --max-time 5 \
		-o "$work/body" -w '%{http_code} %{time_total} %{size_download}' \
		"http://127.0.0.1:$port/metrics")
	read -r code t size <<<"$out"
	[[ $code == 200 ]] || { echo "scrape $i: HTTP $code" >&2; exit 1; }
	times+=("$t")
	sleep 0.3
done
rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status")
series=$(grep -vc '^#' "$work/body")
python3 - "$size" "$series" "$rss" "${times[@]}" <<'EOF'
import statistics, sys
size, series, rss = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
t = sorted(float(x) * 1000 for x in sys.argv[4:])
print("exposition: %d bytes (%.1f KiB), %d series" % (size, size / 1024, series))
print("scrape over loopback: median %.2f ms, min %.2f, max %.2f (%d scrapes)"
      % (statistics.median(t), t[0], t[-1], len(t)))
print("loader VmRSS: %d kB" % rss)
EOF
grep -E '^nbdpath_(host_verdict|interface_bytes_total)' "$work/body" |
	cut -d'{' -f1 | sort | uniq -c
