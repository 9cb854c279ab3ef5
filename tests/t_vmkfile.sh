#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# --vmk-file against input no ESXi host writes, through the command line:
# odd blanks inside an `esxcfg-vmknic -l` row, and files that do not end
# (/dev/zero, a pipe) or are too big. Each command runs under a timeout,
# so a parser that stops moving fails here instead of hanging the suite.
set -u
. "$(dirname "$0")/lib.sh"

if ((EUID != 0)); then
	t_begin vmkfile
	t_skip "needs root (netns, XDP)"
	t_done
fi
if [[ ! -x $NP ]]; then
	t_begin vmkfile
	t_fail "$NP is missing: run make"
	t_done
fi

WORK=$(mktemp -d)
t_cleanup "rm -rf $WORK"
PINS=$(mktemp -d /tmp/np-vmkfile.XXXXXX)
t_cleanup "rmdir $PINS"
mount -t bpf bpf "$PINS" || { t_begin vmkfile; t_fail "cannot mount bpffs"; t_done; }
t_cleanup "umount $PINS"
t_netns NS || { t_begin vmkfile; t_fail "cannot create a netns"; t_done; }
ip -n "$NS" link add va type veth peer name vb
ip netns exec "$NS" ethtool -K va rxvlan off rx-vlan-stag-hw-parse off >/dev/null 2>&1
ip -n "$NS" link set va up
ip -n "$NS" link set vb up

# seconds a command may take; a parse of a few KB takes milliseconds
LIMIT=20
HEADER='Interface  Port Group/DVPort/Opaque Network        IP Family IP Address                              Netmask         Broadcast       MAC Address       MTU     TSO MSS   Enabled Type                NetStack'
ROW0='vmk0       Management Network                      IPv4      10.0.0.10                               255.255.255.0   10.0.0.255      00:25:b5:00:00:0a 1500    65535     true    STATIC              defaultTcpipStack'

OUT=$WORK/out
ERR=$WORK/err

# expect CODE STDERR NAME -- CMD...: exit code and the whole of stderr
expect() {
	local want=$1 want_err=$2 name=$3 rc
	shift 4
	t_begin "$name"
	ip netns exec "$NS" timeout -s KILL "$LIMIT" "$@" >"$OUT" 2>"$ERR"
	rc=$?
	{ echo "\$ $*"; cat "$ERR"; } >>"$_t_log"
	if ((rc == 137)); then
		t_fail "still running after $LIMIT s: killed"
		return
	fi
	if t_expect "exit code" "$rc" "$want" &&
	   t_expect "stderr" "$(cat "$ERR")" "$want_err" &&
	   t_expect "attached" "$(ip -n "$NS" link show | grep -c xdp)" 0; then
		t_ok
	else
		t_fail
	fi
}

P=(--pin-dir "$PINS/p" --mode generic)
NB=$NP
for b in ff vt cr; do
	case $b in
	ff) c=$'\f' ;;
	vt) c=$'\v' ;;
	cr) c=$'\r' ;;
	esac
	# a row of no MAC is scanned token by token, through the blank
	f=$WORK/nomac-$b.txt
	printf '%s\nvmk9 a%sb%s%s\n' "$HEADER" "$c" "$c" "$c" >"$f"
	expect 2 "nbdpath: --vmk-file '$f': no VMkernel interface with a MAC address in it" \
		"row_without_mac_$b" -- $NB run -i va --vmk-file "$f" "${P[@]}"
	# the blank for every space of a real row: vmk0 is found, run runs
	f=$WORK/row-$b.txt
	printf '%s\n%s\n' "$HEADER" "${ROW0// /$c}" >"$f"
	expect 0 "" "row_with_blank_$b" -- $NB run -i va --vmk-file "$f" --duration 0.2 "${P[@]}"
done

TOOBIG="larger than 4 MiB; the output of 'esxcfg-vmknic -l' or 'esxcli network ip interface list' is a few KB: save that to the file"
expect 2 "nbdpath: --vmk-file '/dev/zero': $TOOBIG" dev_zero -- $NB run -i va --vmk-file /dev/zero "${P[@]}"

f=$WORK/big.txt
{ printf '%s\n%s\n' "$HEADER" "$ROW0"; head -c $((4 << 20)) /dev/zero | tr '\0' '\n'; } >"$f"
expect 2 "nbdpath: --vmk-file '$f': $TOOBIG" over_4_mib -- $NB run -i va --vmk-file "$f" "${P[@]}"
f=$WORK/limit.txt
{ printf '%s\n%s\n' "$HEADER" "$ROW0"; head -c $(((4 << 20) - ${#HEADER} - ${#ROW0} - 2)) /dev/zero | tr '\0' '\n'; } >"$f"
expect 0 "" exactly_4_mib -- $NB run -i va --vmk-file "$f" --duration 0.2 "${P[@]}"

# a pipe that never ends; the test holds it open both ways, so that
# the writer lives on while nbdpath opens it once to check it and again
# to read it
mkfifo "$WORK/fifo"
exec 3<>"$WORK/fifo"
yes "$ROW0" >"$WORK/fifo" &
YES=$!
t_cleanup "kill $YES"
expect 2 "nbdpath: --vmk-file '$WORK/fifo': $TOOBIG" endless_pipe -- $NB run -i va --vmk-file "$WORK/fifo" "${P[@]}"
kill "$YES" 2>/dev/null
wait "$YES" 2>/dev/null
exec 3<&-

t_begin nothing_left
if [[ ! -e $PINS/p ]]; then t_ok; else t_fail "$PINS/p is left: $(ls -A "$PINS/p")"; fi

t_done
