# SPDX-License-Identifier: GPL-2.0
# Shared by the shell suites (tests/t_*.sh): named tests, one summary line,
# private network namespaces that are always removed, the seed's
# addresses (tests/seed.sh), JSON checks and the lab suites' helpers.
#
#   t_begin NAME; ...; t_ok | t_fail "why" | t_skip "why"
#   t_netns VAR        create a uniquely named netns, removed at exit
#   t_done             print the summary and exit non-zero on failure
#   t_need_root NAME WHY, t_need_tools NAME TOOL..., t_need_file NAME FILE
#                      the suite's preamble: skip (or fail) it as one test
#   jcheck, jget       Python expressions over a JSON report

NP_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# the report checkers' shared part, tests/report_check.py
export PYTHONPATH=$NP_TOP/tests${PYTHONPATH:+:$PYTHONPATH}
NP=$NP_TOP/nbdpath
NP_BUILD=$NP_TOP/.build
# shellcheck source=tests/seed.sh
source "$NP_TOP/tests/seed.sh"
_t_n=0 _t_pass=0 _t_fail=0 _t_skip=0 _t_name=
_t_log=$(mktemp)
_t_cleanups=()
_t_ns_seq=0

t_cleanup() { _t_cleanups+=("$*"); }

_t_exit() {
	local i
	for ((i = ${#_t_cleanups[@]} - 1; i >= 0; i--)); do
		eval "${_t_cleanups[i]}" >/dev/null 2>&1 || true
	done
	rm -f "$_t_log"
}
trap _t_exit EXIT

t_begin() {
	_t_name=$1
	_t_n=$((_t_n + 1))
	: >"$_t_log"
}

# t_log CMD...: run a command with its output kept for a failure report
t_log() { "$@" >>"$_t_log" 2>&1; }

t_ok() {
	echo "#$_t_n $_t_name:OK"
	_t_pass=$((_t_pass + 1))
}

t_fail() {
	echo "#$_t_n $_t_name:FAIL $*"
	[[ -s $_t_log ]] && sed 's/^/    /' "$_t_log"
	_t_fail=$((_t_fail + 1))
}

t_skip() {
	echo "#$_t_n $_t_name:SKIP $*"
	_t_skip=$((_t_skip + 1))
}

# t_expect WHAT ACTUAL EXPECTED: record a mismatch, return non-zero on it
t_expect() {
	if [[ "$2" != "$3" ]]; then
		echo "$1: actual '$2' != expected '$3'" >>"$_t_log"
		return 1
	fi
}

t_netns() {
	local name="np-t$$-$((_t_ns_seq++))"
	ip netns add "$name" || return 1
	t_cleanup "ip netns del $name"
	ip -n "$name" link set lo up
	printf -v "$1" '%s' "$name"
}

t_done() {
	echo "$_t_pass passed, $_t_fail failed, $_t_skip skipped"
	((_t_fail == 0))
	exit
}

# ---- preambles: a suite that cannot run here is one skipped test

# t_skip_all NAME WHY: the whole suite is skipped
t_skip_all() {
	t_begin "$1"
	shift
	t_skip "$*"
	t_done
}

# t_need_root NAME WHY: root or nothing (WHY: what needs it)
t_need_root() {
	((EUID == 0)) || t_skip_all "$1" "needs root ($2)"
}

# t_need_tools NAME TOOL...: every tool installed (scripts/deps.sh)
t_need_tools() {
	local name=$1 t
	shift
	for t; do
		command -v "$t" >/dev/null || t_skip_all "$name" "$t not installed (scripts/deps.sh)"
	done
}

# t_need_file NAME FILE: a build product the suite runs; missing is a failure
t_need_file() {
	[[ -x $2 ]] && return 0
	t_begin "$1"
	t_fail "$2 is missing: run make check"
	t_done
}

# ---- JSON checks

# The checker behind jcheck and jget: the report as `j`, the seed's names
# (tests/seed.sh) as Python values, and helpers to find things in a report.
_T_JSON_PY='
import json, os, sys

src = path = sys.argv[2]
if src[:1] in "{[":
    text = src
else:
    with open(src) as fh:
        text = fh.read()
    if text.count("\n") != 1 or not text.endswith("\n"):
        print(f"{src}: not one line of JSON")
        sys.exit(1)
j = json.loads(text)
for k in os.environ.get("SEED_NAMES", "").split():
    v = os.environ[k]
    globals()[k] = int(v) if v.isdigit() else v

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

def seen(client):
    """First and last seen of the flows of a client, to the microsecond."""
    got = [f for f in j["flows"] if f["client"] == client]
    assert got, f"no flow of client {client}"
    return (round(min(f["first_seen"] for f in got), 6),
            round(max(f["last_seen"] for f in got), 6))

def pick(d, *keys):
    return {k: d[k] for k in keys}

def macs(ip, key):
    """A host'"'"'s rx or tx entries, the keys the man page lists."""
    return [pick(e, "mac", "interface", "owner_ip", "packets", "bytes")
            for e in host(ip)[key]]

def side(h, key, field):
    """Sum of a field over a host'"'"'s rx or tx entries."""
    return sum(e[field] for e in h[key])

OUTCOMES = ["matched", "other_port", "not_tcp", "not_ip", "fragment",
            "truncated", "malformed", "unsupported"]

def outcomes():
    return sum(j["stats"][k] for k in OUTCOMES)

def stats(**want):
    """The whole stats object: given keys as given, the others zero."""
    keys = set(j["stats"]) - FLOW_KEYS
    return {k: want.get(k, 0) for k in keys}

FLOW_KEYS = {"flows", "flows_evicted", "flows_active", "flows_finished",
             "flows_dropped"}

def all_stats():
    return {k: v for k, v in j["stats"].items() if k not in FLOW_KEYS}

args = sys.argv[3:]
if sys.argv[1] == "get":
    print(eval(args[0]))
    sys.exit(0)
bad = 0
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
'

# jcheck [-q] JSON EXPR EXPECTED [EXPR EXPECTED]...
# JSON is a file holding one line of JSON (a report as nbdpath prints
# it; its name is `path`), or JSON text. Each EXPR and EXPECTED is Python, evaluated with the
# report as `j`, the seed's names and the helpers above; every pair must
# be equal (floats: within 2 us). What differs goes to the test's log;
# with -q nowhere (a check polled until it holds).
jcheck() {
	if [[ $1 == -q ]]; then
		shift
		python3 -c "$_T_JSON_PY" check "$@" >/dev/null 2>&1
	else
		t_log python3 -c "$_T_JSON_PY" check "$@"
	fi
}

# jget JSON EXPR: print the value of EXPR (as jcheck evaluates it)
jget() {
	python3 -c "$_T_JSON_PY" get "$@"
}

# ---- the lab suites: checks in groups, captures, readiness

# t_group NAME ... t_group_end: one named test of many checks; every
# failed check is logged (t_bad, t_check) and fails the test
T_CF=0
t_group() {
	t_begin "$1"
	T_CF=0
}
t_bad() {
	t_log echo "$*"
	T_CF=$((T_CF + 1))
}
# t_check DESCRIPTION ACTUAL EXPECTED
t_check() { t_expect "$1" "$2" "$3" || T_CF=$((T_CF + 1)); }
t_group_end() {
	if ((T_CF)); then t_fail "($T_CF failed checks)"; else t_ok; fi
}

# t_wait_file FILE: the tools announce readiness through files, never a sleep
t_wait_file() {
	local i
	for ((i = 0; i < 100; i++)); do
		[[ -s $1 ]] && return 0
		sleep 0.05
	done
	return 1
}

# t_capture_start NS IFACE FILE: tcpdump in immediate mode (so that no
# packets are parked in a ring block when it stops), started for sure
_t_cap_pids=()
t_capture_start() {
	ip netns exec "$1" tcpdump --immediate-mode -U -B 65536 -Z root -s 0 \
		-i "$2" -w "$3" 2>"$3.log" &
	_t_cap_pids+=("$!")
	local i
	for ((i = 0; i < 100; i++)); do
		grep -q 'listening on' "$3.log" 2>/dev/null && return 0
		sleep 0.05
	done
	echo "tcpdump on $2 did not start: $(cat "$3.log")"
	return 1
}

# t_capture_kill: end the captures, files as they are
t_capture_kill() {
	local pid
	for pid in "${_t_cap_pids[@]}"; do kill "$pid" 2>/dev/null || true; done
	_t_cap_pids=()
}

# t_capture_stop FILE...: let the files stop growing (tcpdump lags behind a
# fast transfer), then SIGINT; every frame captured, none dropped.
t_capture_stop() {
	local prev=-1 sz i f cap rcv drop rc=0 pid
	for ((i = 0; i < 50; i++)); do
		sz=$(stat -c %s "$@" | awk '{ n += $1 } END { print n }')
		[[ $sz == "$prev" ]] && break
		prev=$sz
		sleep 0.2
	done
	for pid in "${_t_cap_pids[@]}"; do kill -INT "$pid" 2>/dev/null || true; done
	for pid in "${_t_cap_pids[@]}"; do wait "$pid" || true; done
	_t_cap_pids=()
	for f in "$@"; do
		cap=$(sed -n 's/^\([0-9]*\) packets captured.*/\1/p' "$f.log")
		rcv=$(sed -n 's/^\([0-9]*\) packets received by filter.*/\1/p' "$f.log")
		drop=$(sed -n 's/^\([0-9]*\) packets dropped by kernel.*/\1/p' "$f.log")
		if [[ -z $cap || $cap != "$rcv" || $drop != 0 ]]; then
			echo "capture $f incomplete: captured=$cap received=$rcv dropped=$drop"
			rc=1
		fi
	done
	return "$rc"
}

# t_until SECONDS CMD...: run CMD every 0.2 s until it succeeds (0), or
# give up after SECONDS (1); for conditions that come with time, never a
# fixed sleep
t_until() {
	local end=$((SECONDS + $1))
	shift
	while ! "$@"; do
		((SECONDS < end)) || return 1
		sleep 0.2
	done
}

# t_now: Unix time with microseconds, as the reports print it
t_now() { date +%s.%6N; }

# t_lines FILE...: the number of lines in the files (missing ones: 0)
t_lines() { cat "$@" 2>/dev/null | wc -l; }
