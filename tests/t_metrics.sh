#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# `nbdpath run` as a service, on a veth pair in a private netns: the
# --metrics endpoint (methods, paths, HEAD, :PORT on IPv4 and IPv6,
# keep-alive, pipelined and garbage requests), a scraper answered within a
# second while a thousand idle connections, slow and garbage senders are
# held, with bounded memory; capabilities after attach; SIGHUP.
set -u
. "$(dirname "$0")/lib.sh"

if ((EUID != 0)); then
	t_begin metrics
	t_skip "needs root (netns, veth, XDP)"
	t_done
fi
for tool in "$NP" curl ss python3; do
	if ! command -v "$tool" >/dev/null; then
		t_begin metrics
		t_fail "$tool is missing: run make check (it installs and builds)"
		t_done
	fi
done

# The attackers, from addresses of their own (the scraper is 127.0.0.1):
# N_IDLE connections that send nothing from 127.0.1.1 (reopened when the
# server times them out), N_SLOW that send a request a byte a second from
# 127.0.1.2, and from 127.0.1.3 garbage and pipelined requests in turn.
# Prints one JSON object of counts at the end.
# args: PORT SECONDS N_IDLE N_SLOW
LOAD_PY='
import json, os, selectors, socket, sys, threading, time
port, secs, n_idle, n_slow = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
dst = ("127.0.0.1", port)
n = dict(idle_reopened=0, slow_bytes=0, slow_closed=0, garbage_sent=0,
         garbage_400=0, pipelined=0, pipelined_ok=0)
end = time.monotonic() + secs
sel = selectors.DefaultSelector()
REQ = b"GET /metrics HTTP/1.1\r\nHost: t\r\n\r\n"

def opened(src, kind):
    s = socket.socket()
    s.bind((src, 0))
    s.setblocking(False)
    try:
        s.connect(dst)
    except BlockingIOError:
        pass
    sel.register(s, selectors.EVENT_READ, [kind, 0])
    return s

def responses(s, want):
    """Read want whole responses from a blocking socket: their status codes."""
    buf, codes = b"", []
    while len(codes) < want:
        while b"\r\n\r\n" not in buf:
            d = s.recv(65536)
            if not d:
                return codes
            buf += d
        head, buf = buf.split(b"\r\n\r\n", 1)
        lines = head.split(b"\r\n")
        codes.append(int(lines[0].split()[1]))
        clen = 0
        for l in lines[1:]:
            k, _, v = l.partition(b":")
            if k.strip().lower() == b"content-length":
                clen = int(v)
        while len(buf) < clen:
            d = s.recv(65536)
            if not d:
                return codes
            buf += d
        buf = buf[clen:]
    return codes

def others():
    i = 0
    while time.monotonic() < end:
        i += 1
        try:
            s = socket.create_connection(dst, timeout=2, source_address=("127.0.1.3", 0))
            if i % 2:
                s.sendall(os.urandom(1500) + b"\r\n\r\n")
                n["garbage_sent"] += 1
                c = responses(s, 1)
                k = "garbage_%s" % (c[0] if c else "closed")
                n[k] = n.get(k, 0) + 1
            else:
                s.sendall(REQ * 3)
                n["pipelined"] += 1
                if responses(s, 3) == [200] * 3:
                    n["pipelined_ok"] += 1
            s.close()
        except OSError:
            pass
        time.sleep(0.05)

for i in range(n_idle):
    opened("127.0.1.1", "idle")
for i in range(n_slow):
    opened("127.0.1.2", "slow")
t = threading.Thread(target=others)
t.start()
tick = time.monotonic()
print("ready", flush=True)
while time.monotonic() < end:
    for key, _ in sel.select(timeout=0.1):
        s, (kind, _) = key.fileobj, key.data
        try:
            d = s.recv(65536)
        except BlockingIOError:
            continue
        except OSError:
            d = b""
        if d:
            continue
        sel.unregister(s)
        s.close()
        if kind == "idle":
            n["idle_reopened"] += 1
            opened("127.0.1.1", "idle")
        else:
            n["slow_closed"] += 1
    if time.monotonic() >= tick + 1:
        tick += 1
        for key in list(sel.get_map().values()):
            kind, pos = key.data
            if kind != "slow" or pos >= len(REQ):
                continue
            try:
                key.fileobj.send(REQ[pos:pos + 1])
                key.data[1] += 1
                n["slow_bytes"] += 1
            except OSError:
                pass
t.join()
print(json.dumps(n), flush=True)
'

PINS=$(mktemp -d /tmp/np-metrics.XXXXXX)
t_cleanup "rmdir $PINS"
mount -t bpf bpf "$PINS" || { t_begin metrics; t_fail "cannot mount bpffs"; t_done; }
t_cleanup "umount $PINS"
WORK=$(mktemp -d)
t_cleanup "rm -rf $WORK"

NS=
t_netns NS || { t_begin metrics; t_fail "cannot create a netns"; t_done; }
if ! ip -n "$NS" link add va type veth peer name vb ||
   ! ip -n "$NS" link set va up || ! ip -n "$NS" link set vb up; then
	t_begin metrics
	t_fail "cannot create the veth pair"
	t_done
fi

PORT=$((20000 + RANDOM % 20000))
RUN_PID=
PIN=

inns() { ip netns exec "$NS" "$@"; }

# scrape URL [CURL ARGS...]: "CODE SECONDS" of one request; body in $WORK/body
scrape() {
	local url=$1
	shift
	inns curl -s --noproxy '*' --max-time 1 -o "$WORK/body" \
		-w '%{http_code} %{time_total}\n' "$@" "$url"
}

# start_run NAME ARGS...: run -v in the background until /metrics answers 200
start_run() {
	local i
	PIN=$PINS/$1
	shift
	ip netns exec "$NS" "$NP" -v run -i va --mode generic --pin-dir "$PIN" \
		--interval 0.5 "$@" >/dev/null 2>"$WORK/run.err" &
	RUN_PID=$!
	t_cleanup "kill -9 $RUN_PID"
	for ((i = 0; i < 50; i++)); do
		if ! kill -0 "$RUN_PID" 2>/dev/null; then
			echo "run exited early:" >>"$_t_log"
			cat "$WORK/run.err" >>"$_t_log"
			return 1
		fi
		[[ $(scrape "${READY_URL:-http://127.0.0.1:$PORT}/metrics") == 200* ]] &&
			return 0
		sleep 0.1
	done
	echo "no answer on :$PORT" >>"$_t_log"
	return 1
}

# stop_run: SIGTERM, the exit code in STOP_RC
stop_run() {
	kill -TERM "$RUN_PID"
	wait "$RUN_PID"
	STOP_RC=$?
	RUN_PID=
	t_expect "run's exit code" "$STOP_RC" 0
}

rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$RUN_PID/status"; }

# ---- the endpoint ----

test_endpoint() {
	local out hdr
	start_run endpoint --metrics ":$PORT" || return 1
	out=$(scrape "http://127.0.0.1:$PORT/metrics" -D "$WORK/hdr")
	t_expect "GET /metrics" "${out%% *}" 200 || return 1
	hdr=$(tr -d '\r' <"$WORK/hdr")
	grep -qx 'Content-Type: text/plain; version=0.0.4; charset=utf-8' <<<"$hdr" ||
		{ echo "$hdr" >>"$_t_log"; return 1; }
	grep -q '^nbdpath_frames_total{outcome="matched"} 0$' "$WORK/body" ||
		{ cat "$WORK/body" >>"$_t_log"; return 1; }
	# HEAD: the same headers, the GET's length, no body
	out=$(scrape "http://127.0.0.1:$PORT/metrics" -I)
	t_expect "HEAD /metrics" "${out%% *}" 200 || return 1
	t_expect "HEAD length" \
		"$(tr -d '\r' <"$WORK/body" | sed -n 's/^Content-Length: //p')" \
		"$(inns curl -s --noproxy '*' "http://127.0.0.1:$PORT/metrics" | wc -c)" || return 1
	out=$(scrape "http://127.0.0.1:$PORT/")
	t_expect "GET /" "${out%% *}" 200 || return 1
	grep -q '<a href="/metrics">' "$WORK/body" || { cat "$WORK/body" >>"$_t_log"; return 1; }
	out=$(scrape "http://127.0.0.1:$PORT/metrics/x")
	t_expect "GET /metrics/x" "${out%% *}" 404 || return 1
	for m in POST PUT DELETE OPTIONS; do
		out=$(scrape "http://127.0.0.1:$PORT/metrics" -X "$m" -d x -D "$WORK/hdr")
		t_expect "$m /metrics" "${out%% *}" 405 || return 1
		grep -qx 'Allow: GET, HEAD' <(tr -d '\r' <"$WORK/hdr") ||
			{ cat "$WORK/hdr" >>"$_t_log"; return 1; }
	done
	# a GET with a body is refused, not dropped without an answer
	# (curl's 000: what libmicrohttpd did when queued with the body
	# arriving; found by tests/fuzz/fuzz_http.c)
	out=$(scrape "http://127.0.0.1:$PORT/metrics" -X GET -d x)
	t_expect "GET /metrics with a body" "${out%% *}" 413 || return 1
	out=$(scrape "http://127.0.0.1:$PORT/metrics" -X GET -H 'Content-Length: 0')
	t_expect "GET /metrics, Content-Length: 0" "${out%% *}" 200 || return 1
	stop_run
}

# :PORT is one socket for IPv4 and IPv6 (ss shows it as *:PORT)
test_dual_stack() {
	local out
	start_run dual --metrics ":$PORT" || return 1
	out=$(scrape "http://[::1]:$PORT/metrics")
	t_expect "GET over IPv6" "${out%% *}" 200 || return 1
	out=$(scrape "http://127.0.0.1:$PORT/metrics")
	t_expect "GET over IPv4" "${out%% *}" 200 || return 1
	t_expect "listening sockets" "$(inns ss -Hltn "sport = :$PORT" | awk '{ print $4 }')" \
		"*:$PORT" || return 1
	stop_run || return 1
	# an explicit IPv6 address as the parser takes it
	READY_URL=http://[::1]:$PORT start_run v6 --metrics "[::1]:$PORT" || return 1
	t_expect "listening sockets" "$(inns ss -Hltn "sport = :$PORT" | awk '{ print $4 }')" \
		"[::1]:$PORT" || return 1
	stop_run
}

# Two scrapes, one connection; three requests in one write, three answers;
# garbage gets 400 or a closed connection, and the server goes on.
test_keepalive_pipelined_garbage() {
	local out
	start_run pipelined --metrics "127.0.0.1:$PORT" || return 1
	out=$(inns curl -sv --noproxy '*' -o /dev/null -o /dev/null \
		"http://127.0.0.1:$PORT/metrics" "http://127.0.0.1:$PORT/metrics" 2>&1)
	grep -q 'Re-using existing connection' <<<"$out" || { echo "$out" >>"$_t_log"; return 1; }
	out=$(inns python3 -c "$LOAD_PY" "$PORT" 1.5 0 0 | tail -n 1)
	echo "load: $out" >>"$_t_log"
	python3 -c 'import json, sys
n = json.loads(sys.argv[1])
ends = [k for k in n if k.startswith("garbage_") and k != "garbage_sent"]
sys.exit(not (n["pipelined"] > 0 and n["pipelined_ok"] == n["pipelined"] and
              n["garbage_sent"] > 0 and sum(n[k] for k in ends) == n["garbage_sent"] and
              all(k in ("garbage_400", "garbage_closed") for k in ends)))' "$out" || return 1
	out=$(scrape "http://127.0.0.1:$PORT/metrics")
	t_expect "GET after garbage" "${out%% *}" 200 || return 1
	stop_run
}

# The endpoint stays up: 40 scrapes, each answered 200 within curl's
# --max-time of 1 s, while 1000 idle and 100 slow connections are held and
# garbage and pipelined requests keep coming. Memory: the loader's VmRSS
# grows by less than the limits allow (connections x memory each).
test_held_up() {
	local before peak after rss out codes=() i held maxheld=0 worst=0 load
	start_run held --metrics ":$PORT" || return 1
	before=$(rss_kb)
	peak=$before
	inns python3 -c "$LOAD_PY" "$PORT" 14 1000 100 >"$WORK/load.out" 2>&1 &
	load=$!
	t_cleanup "kill $load"
	for ((i = 0; i < 50; i++)); do
		grep -q ready "$WORK/load.out" && break
		sleep 0.1
	done
	sleep 1
	for ((i = 0; i < 40; i++)); do
		out=$(scrape "http://127.0.0.1:$PORT/metrics")
		codes+=("${out%% *}")
		worst=$(python3 -c "print(max($worst, ${out#* }))")
		held=$(inns ss -Htn state established "sport = :$PORT" | wc -l)
		((held > maxheld)) && maxheld=$held
		rss=$(rss_kb)
		((rss > peak)) && peak=$rss
		sleep 0.2
	done
	wait "$load"
	sleep 1
	after=$(rss_kb)
	echo "scrapes: ${codes[*]}; slowest ${worst} s; connections held at most $maxheld" >>"$_t_log"
	echo "VmRSS kB: before $before, peak $peak, after $after" >>"$_t_log"
	echo "load: $(tail -n 1 "$WORK/load.out")" >>"$_t_log"
	echo "#   held up: slowest of 40 scrapes ${worst} s, $maxheld connections held, VmRSS ${before} -> peak ${peak} -> ${after} kB"
	t_expect "scrape codes" "${codes[*]}" "$(printf '200 %.0s' {1..40} | sed 's/ $//')" || return 1
	((maxheld >= 1100)) || { echo "fewer connections held than sent" >>"$_t_log"; return 1; }
	# 2048 connections x 16 KiB each = 32 MiB, and the response copies
	((peak - before < 48 * 1024)) || { echo "memory grew too much" >>"$_t_log"; return 1; }
	stop_run
}

# ---- capabilities and signals ----

# The capabilities run keeps after attach on this kernel: bpf(2) on a map
# it holds needs CAP_BPF where unprivileged BPF is disabled, before 6.5.
expected_caps() {
	local v ma mi
	v=$(uname -r)
	ma=${v%%.*} mi=${v#*.} mi=${mi%%[!0-9]*}
	if ((ma > 6 || (ma == 6 && mi >= 5))) ||
	   [[ $(cat /proc/sys/kernel/unprivileged_bpf_disabled) == 0 ]]; then
		echo "$1"
	else
		[[ $1 == none ]] && echo cap_bpf || echo "cap_bpf,$1"
	fi
}

caps_hex() {
	local mask=0 c
	declare -A bit=([cap_dac_override]=1 [cap_net_admin]=12
			[cap_sys_admin]=21 [cap_perfmon]=38 [cap_bpf]=39)
	for c in ${1//,/ }; do
		[[ $c == none ]] || mask=$((mask | 1 << ${bit[$c]}))
	done
	printf '%016x' "$mask"
}

# every thread (the HTTP server's too) holds exactly the kept set
check_caps() {
	local want=$1 hex t f v want_f
	t_expect "kept" "$(sed -n 's/^nbdpath: debug: capabilities kept after attach: //p' "$WORK/run.err")" \
		"$want" || return 1
	hex=$(caps_hex "$want")
	t_expect "threads" "$(ls "/proc/$RUN_PID/task" | wc -l)" 2 || return 1
	for t in /proc/"$RUN_PID"/task/*; do
		for f in CapEff CapPrm CapBnd CapInh CapAmb; do
			v=$(awk -v f="$f:" '$1 == f { print $2 }' "$t/status")
			[[ $f == CapInh || $f == CapAmb ]] && want_f=0000000000000000 || want_f=$hex
			t_expect "$t $f" "$v" "$want_f" || return 1
		done
	done
}

test_caps() {
	start_run caps --metrics "127.0.0.1:$PORT" || return 1
	check_caps "$(expected_caps none)" || return 1
	stop_run || return 1
	[[ ! -e $PIN ]] || { echo "pins left in $PIN" >>"$_t_log"; return 1; }
	grep -E 'cannot remove|left ' "$WORK/run.err" >>"$_t_log" && return 1
	return 0
}

# A pin directory off bpffs gets a bpffs of run's own, unmounted at exit:
# CAP_SYS_ADMIN stays for that.
test_caps_own_bpffs() {
	PINS_SAVED=$PINS
	PINS=$WORK/tmpfs
	start_run caps2 --metrics "127.0.0.1:$PORT"
	local rc=$?
	PINS=$PINS_SAVED
	((rc == 0)) || return 1
	check_caps "$(expected_caps cap_sys_admin)" || return 1
	stop_run || return 1
	[[ ! -e $WORK/tmpfs/caps2 ]] || { echo "pin dir left" >>"$_t_log"; return 1; }
	grep -E 'cannot remove|left ' "$WORK/run.err" >>"$_t_log" && return 1
	return 0
}

# SIGHUP is reserved: run goes on, serving and polling.
test_sighup() {
	local a b
	start_run hup --metrics "127.0.0.1:$PORT" || return 1
	kill -HUP "$RUN_PID"
	scrape "http://127.0.0.1:$PORT/metrics" >/dev/null
	a=$(grep -c . "$WORK/body")
	sleep 0.6
	kill -0 "$RUN_PID" 2>/dev/null || { echo "SIGHUP stopped run" >>"$_t_log"; return 1; }
	b=$(scrape "http://127.0.0.1:$PORT/metrics")
	t_expect "GET after SIGHUP" "${b%% *}" 200 || return 1
	((a > 0)) || return 1
	stop_run
}

run_case() {
	local name=$1
	shift
	t_begin "$name"
	if "$@"; then
		t_ok
	else
		if [[ -n $RUN_PID ]] && kill -9 "$RUN_PID" 2>/dev/null; then
			wait "$RUN_PID" 2>/dev/null
			echo "(the run was still going; killed)" >>"$_t_log"
			cat "$WORK/run.err" >>"$_t_log"
		fi
		RUN_PID=
		t_fail
	fi
}

run_case endpoint test_endpoint
run_case dual_stack test_dual_stack
run_case keepalive_pipelined_garbage test_keepalive_pipelined_garbage
run_case held_up test_held_up
run_case caps test_caps
run_case caps_own_bpffs test_caps_own_bpffs
run_case sighup test_sighup
t_done
