# SPDX-License-Identifier: GPL-2.0
"""What the shell suites' report checkers share (tests/lib.sh puts this
directory on PYTHONPATH).

A checker starts with `from report_check import *`, collects every
difference with err()/eq(), and ends with finish(): it prints them all
and exits 1 if there were any. The lab suites write their checks as
functions c_NAME(report, opts) and end with `run(globals())`; their
shell calls `python3 check.py NAME REPORT K=V...`.
"""
import json, sys
from collections import defaultdict

errs = []


def err(msg):
    errs.append(msg)


def eq(what, actual, expected):
    if actual != expected:
        err(f"{what}: actual {actual!r} != expected {expected!r}")
        return False
    return True


def lines(path):
    """The complete JSON lines of a file (one being written is left out)."""
    out = []
    with open(path) as fh:
        for l in fh:
            if l.endswith("\n") and l.strip():
                out.append(json.loads(l))
    return out


def report(path):
    """The last report of a run's --json output."""
    r = lines(path)
    if not r:
        sys.exit(f"{path}: no report")
    return r[-1]


def js(path):
    return json.loads(open(path).read())


def opts(args):
    o = defaultdict(list)
    for a in args:
        k, _, v = a.partition("=")
        o[k].append(v)
    return o


def one(o, k, default=None):
    return o[k][0] if o[k] else default


def flows_of(r, server):
    return [f for f in r["flows"] if f["server"] == server]


def fname(f):
    return f'{f["client"]}:{f["client_port"]}->{f["server"]}:{f["server_port"]}'


def host(r, ip):
    h = [x for x in r["hosts"] if x["ip"] == ip]
    if len(h) != 1:
        err(f"hosts with ip {ip}: {len(h)}")
        return None
    return h[0]


def conversations(path):
    """tshark -q -z conv,tcp: {(A, port A, B, port B): (frames A->B,
    frames B->A)}"""
    conv = {}
    # "A:pa <-> B:pb  FRAMES(B->A) N UNIT  FRAMES(A->B) N UNIT  total..."
    for line in open(path):
        t = line.split()
        if len(t) < 9 or t[1] != "<->":
            continue
        a, pa = t[0].rsplit(":", 1)
        b, pb = t[2].rsplit(":", 1)
        conv[(a, int(pa), b, int(pb))] = (int(t[6]), int(t[3]))
    return conv


def finish():
    for e in errs:
        print(e)
    sys.exit(1 if errs else 0)


def run(checks):
    """argv: CHECK REPORT K=V...: c_CHECK of checks on the report."""
    cmd, path = sys.argv[1], sys.argv[2]
    try:
        checks["c_" + cmd](report(path), opts(sys.argv[3:]))
    except (KeyError, TypeError, ValueError, IndexError, AttributeError,
            OSError) as e:
        err(f"{cmd}: malformed report or input: {type(e).__name__}: {e}")
    finish()
