# SPDX-License-Identifier: GPL-2.0
# Shared by the shell suites (tests/t_*.sh): named tests, one summary line,
# private network namespaces that are always removed.
#
#   t_begin NAME; ...; t_ok | t_fail "why" | t_skip "why"
#   t_netns VAR        create a uniquely named netns, removed at exit
#   t_done             print the summary and exit non-zero on failure

NP_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
NP=$NP_TOP/nbdpath
NP_BUILD=$NP_TOP/.build
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
