# SPDX-License-Identifier: GPL-2.0
# The soak's traffic (scripts/soak.sh): short TCP flows to many server IPs
# and monitored ports, sent as raw frames on one veth end, CONC of them open
# at a time and their frames interleaved, each ending in FIN both ways, an
# RST, or nothing (left to go idle). Every frame is counted here, so the
# run's totals can be checked exactly.
#
#   soak.py IFACE SECONDS RATE CONC BURST KEYS_FILE SUMMARY_FILE
#
# RATE is frames a second. For the last 5 s of every 30 (BURST > 0), BURST
# flows are open at a time, not CONC: the flow table fills up. KEYS_FILE gets one line per flow: client,
# client port, server, server port, ending, frames sent. SUMMARY_FILE gets
# one line of JSON, written at the end: frames, flows, flows by ending.
# Addresses and MACs come from the environment (tests/seed.sh's names);
# PORTS is a space-separated list of the monitored ports.
import json, os, random, socket, struct, sys, time

ifc, secs, rate, conc, burst, keys_file, summary_file = sys.argv[1:8]
secs, rate, conc, burst = float(secs), int(rate), int(conc), int(burst)
env = os.environ
ports = [int(p) for p in env["PORTS"].split()]
mac = lambda m: bytes.fromhex(m.replace(":", ""))
m_client, m_vmk0, m_vmk4 = (mac(env[k]) for k in
                            ("MAC_RUBRIK", "MAC_VMK0", "MAC_VMK4"))

SYN, SYNACK, ACK, PSH, FIN, RST = 0x02, 0x12, 0x10, 0x18, 0x11, 0x14


def csum(b):
    s = sum(struct.unpack("!10H", b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def frame(f, to_server, flags, pl):
    cip, cport, sip, sport = f["key"]
    if to_server:
        src, dst, sp, dp, smac, dmac = cip, sip, cport, sport, m_client, m_vmk0
    else:
        # the data leaves by vmk4: the asymmetric path
        src, dst, sp, dp, smac, dmac = sip, cip, sport, cport, m_vmk4, m_client
    f["seq"] += 1
    tcp = struct.pack("!HHIIBBHHH", sp, dp, f["seq"] * 1000, 1, 5 << 4,
                      flags, 65535, 0, 0)
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 40 + pl, f["seq"] & 0xffff, 0,
                     64, 6, 0, socket.inet_aton(src), socket.inet_aton(dst))
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    return dmac + smac + b"\x08\x00" + ip + tcp + b"x" * pl


ENDINGS = ("fin", "rst", "idle")


def new_flow(n):
    # 16 clients, 2,048 servers (all seen in the first 15 s or so), the
    # monitored ports; client ports never repeat within a client, so every
    # flow's key is new
    cip = "10.1.0.%d" % (1 + n % 16)
    sip = "10.2.%d.%d" % (n % 2048 // 256, n % 256)
    cport = 1024 + (n // 16) % 64000
    key = (cip, cport, sip, ports[n % len(ports)])
    end = ENDINGS[n % 3]
    script = [(True, SYN, 0), (False, SYNACK, 0)]
    for _ in range(random.randint(1, 4)):
        script.append((True, PSH, random.choice((0, 64, 200))))
        script.append((False, PSH, random.choice((1000, 1400))))
    if end == "fin":
        script += [(True, FIN, 0), (False, FIN, 0), (True, ACK, 0)]
    elif end == "rst":
        script.append((random.random() < 0.5, RST, 0))
    return {"key": key, "end": end, "script": script, "seq": 0, "sent": 0}


s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((ifc, 0))
keys = open(keys_file, "w")
frames = flows = 0
by_end = dict.fromkeys(ENDINGS + ("cut",), 0)
pool = []
start = time.monotonic()
tick = 0.01
per_tick = max(1, round(rate * tick))
nxt = start
while True:
    now = time.monotonic()
    if now - start >= secs:
        break
    want = burst if burst and (now - start) % 30 >= 25 else conc
    for _ in range(per_tick):
        while len(pool) < want:
            pool.append(new_flow(flows))
            flows += 1
        i = random.randrange(len(pool))
        f = pool[i]
        to_server, flags, pl = f["script"].pop(0)
        s.send(frame(f, to_server, flags, pl))
        f["sent"] += 1
        frames += 1
        if not f["script"]:
            pool[i] = pool[-1]
            pool.pop()
            by_end[f["end"]] += 1
            keys.write("%s %d %s %d %s %d\n" % (*f["key"], f["end"], f["sent"]))
    nxt += tick
    d = nxt - time.monotonic()
    if d > 0:
        time.sleep(d)
# the flows still open are cut short: they go idle like the others; one
# not yet begun was never sent
for f in pool:
    if f["sent"]:
        by_end["cut"] += 1
        keys.write("%s %d %s %d %s %d\n" % (*f["key"], "cut", f["sent"]))
    else:
        flows -= 1
keys.close()
with open(summary_file, "w") as fh:
    json.dump({"frames": frames, "flows": flows, "by_end": by_end,
               "seconds": round(time.monotonic() - start, 3)}, fh)
    fh.write("\n")
