#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# make bench: what nbdpath costs, measured beside a reference every time.
#
#   1. per-packet cost under BPF_PROG_TEST_RUN, over a bare XDP_DROP,
#      beside the program of commit 8ed88a0 (built from git by make)
#   2. live frames into a veth: nbdpath run vs a bare count-and-drop
#      (and the base program), on one CPU, then on both (spread)
#   3. the same veth at one offered rate: nbdpath run vs tcpdump
#   4. nbdpath replay vs tshark on a capture of a million frames
#   5. one poll of 100,000 flows: time and peak RSS; the same with
#      100,000 finished flows' records more
#   6. --max-flows N holds N: test_progs' trials, 20 times as many
#
# Every figure is the median of several rounds with its 95% confidence
# interval (which narrows with more rounds), min and max; a target the
# median meets but its interval crosses is marked "median", not "yes";
# comparisons are made within a round, and every target is a ratio
# within the run (or an exact count). The table's header names the
# CPU, kernel and CPU vulnerability mitigations: they decide what calls
# cost. Other work on the machine makes single rounds noisy: medians,
# interleaved rounds. Prints the table and writes the same figures to
# .build/bench.json. Needs root (BPF, netns); builds nothing (the
# Makefile does). Tunables, for a quick look:
#   NP_BENCH_ROUNDS (7; the test run and the live parts take 3 times as
#   many), NP_BENCH_RATE (812744 pps: 10 GbE of full-size frames),
#   NP_BENCH_FRAMES (10000000 live frames per measurement),
#   NP_BENCH_PARTS ("prog table poll live spread capture replay ipfix"),
#   NP_BENCH_STEPS (BPF objects of other commits, measured as "step1"...
#   in the same rounds as this program, test run and live: what each
#   change bought, in one run).
set -euo pipefail
cd "$(dirname "$0")/.."

rounds=${NP_BENCH_ROUNDS:-7}
rate=${NP_BENCH_RATE:-812744}
frames=${NP_BENCH_FRAMES:-10000000}
parts=${NP_BENCH_PARTS:-prog table poll live spread capture replay ipfix}
bench=$PWD/.build/bench
base=$PWD/.build/base/nbdpath.bpf.o
test_progs=$PWD/.build/test_progs
np=$PWD/nbdpath
mkpcap=$PWD/.build/mkpcap
json=$PWD/.build/bench.json

die() {
	echo "bench: $*" >&2
	exit 1
}

[[ $(id -u) -eq 0 ]] || die "needs root (BPF programs, network namespaces)"
[[ -f $base ]] || die "$base is missing: run 'make bench'"
for f in "$bench" "$np" "$mkpcap" "$test_progs"; do
	[[ -x $f ]] || die "$f is missing: run 'make bench'"
done
((rounds >= 5)) || die "NP_BENCH_ROUNDS must be at least 5"

# The generator and the veth receive path share one CPU; tcpdump and
# nbdpath's poller get another when there is one.
ncpu=$(nproc)
gen_cpu=0
side_cpu=$((ncpu > 1 ? ncpu - 1 : 0))

tmp=$(mktemp -d /tmp/nbdpath-bench.XXXXXX)
samples=$tmp/samples
ns=npbench-$$
bg_pid=
# NP_BENCH_STEPS: measured beside this program in the test run and live
read -r -a step_objs <<<"${NP_BENCH_STEPS:-}"
step_keys=()
for ((i = 1; i <= ${#step_objs[@]}; i++)); do
	step_keys+=("step$i")
done

cleanup() {
	if [[ -n $bg_pid ]]; then
		kill -INT "$bg_pid" 2>/dev/null || true
		wait "$bg_pid" 2>/dev/null || true
	fi
	ip netns del "$ns" 2>/dev/null || true
	if mountpoint -q "$tmp/bpf" 2>/dev/null; then
		umount "$tmp/bpf" || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

: >"$samples"
note() { echo "note $*" >>"$samples"; }
step() { printf '%s\n' "bench: $*" >&2; }

t_start=$(date +%s)

# ---- 1. per-packet cost --------------------------------------------------

part_prog() {
	local prounds=$((rounds * 3)) i steps=()

	for ((i = 0; i < ${#step_objs[@]}; i++)); do
		steps+=(--step "${step_objs[i]}")
		note "test run: step$((i + 1)) is ${step_objs[i]}"
		step "step$((i + 1)) of the per-packet table: ${step_objs[i]}"
	done

	step "per-packet cost (BPF_PROG_TEST_RUN, 2M repeats x 13 runs x $prounds rounds)"
	"$bench" prog --repeat 2000000 --rounds "$prounds" --cpu "$gen_cpu" \
		--base "$base" "${steps[@]}" >>"$samples"
	note "test run: the kernel's time per repetition (whole ns, without" \
	     "the syscall's setup) of BPF_PROG_TEST_RUN with repeat 2M on one" \
	     "pinned CPU, minus the bare XDP_DROP program run at the start of" \
	     "the same round; 1514-byte frames, the ACK 66 bytes. The hit" \
	     "frame repeated is the same segment again (a retransmission to" \
	     "the TCP health counters after its first repetition); the" \
	     "in-order hit is that frame with its sequence number moved on" \
	     "by bench_inorder every repetition (minus bench_inorder" \
	     "tail-calling bare), the established flow's next segment. Base: the" \
	     "program of commit 8ed88a0 (make bench builds it from git)," \
	     "measured in the same rounds, first in every other round; ratios" \
	     "are taken within a round. New flow: bench_fresh rewrites the" \
	     "client address and port every repetition and tail-calls the" \
	     "program (minus bench_fresh tail-calling bare); idle timeout 0," \
	     "so once the default table has filled every new flow reclaims a" \
	     "slot; the 1024-flow figure is the same with the table in cache."
}

# ---- 6. --max-flows N holds N ----------------------------------------------

part_table() {
	local out=$tmp/table.out n

	step "--max-flows N holds N (test_progs -t table_holds, 20x its trials)"
	if NP_TABLE_TRIALS=20 "$test_progs" -v -t table_holds >"$out" 2>&1 &&
	   n=$(awk '/trials, none lost a flow/ { print $1 }' "$out") &&
	   [[ -n $n ]]; then
		echo "table.trials $n" >>"$samples"
		echo "table.lost 0" >>"$samples"
	else
		grep -E 'FAIL|actual' "$out" | head -5 >&2 || true
		echo "table.lost 1" >>"$samples"
	fi
	note "table: test_table_holds with NP_TABLE_TRIALS=20: trials of N" \
	     "new flows (random addresses, ports and hash secret) into an" \
	     "empty table of --max-flows N, N from 10 to 43690, each table" \
	     "two thirds full; a trial is lost if any frame counts table_full" \
	     "or the slots hold fewer than N flows."
}

# ---- 5. one poll ----------------------------------------------------------

part_poll() {
	step "one poll of 100,000 flows"
	"$bench" poll --flows 100000 --max-flows 100000 --polls 15 \
		--finished 100000 --cpu "$gen_cpu" >>"$samples"
	note "poll: 100000 flows, both directions, put in a table of" \
	     "--max-flows 100000 with BPF_PROG_TEST_RUN; then, as run does," \
	     "np_flowtab_read (tracking) + np_report_build + np_report_json" \
	     "(with the previous report for rates) to /dev/null."
	note "poll+fin: then, in the same process, the same polls with" \
	     "100000 finished flows' records (np_finished_add, all listed)" \
	     "and the current-verdict history, as run builds its reports now;" \
	     "ratio: each such poll's time over the plain poll of the same" \
	     "number; RSS: the process's peak after each phase."
}

# ---- the veth lab for 2 and 3 ----------------------------------------------

lab_up() {
	ip netns add "$ns"
	ip -n "$ns" link set lo up
	# two queues each way: a frame arrives on the queue, and is received
	# on the CPU, it was sent from (the spread part sends from both)
	ip -n "$ns" link add va numtxqueues 2 numrxqueues 2 type veth \
		peer name vb numtxqueues 2 numrxqueues 2
	# no IPv6: its neighbour discovery would send frames of its own
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
		net.ipv6.conf.default.disable_ipv6=1
	ip -n "$ns" link set va up
	ip -n "$ns" link set vb up
	# GRO gives vb a NAPI context even without XDP: tcpdump's case
	ip netns exec "$ns" ethtool -K vb gro on >/dev/null
	mkdir -p "$tmp/bpf"
	mount -t bpf bpf "$tmp/bpf"
}

# Start `nbdpath run` on vb and wait until it is attached and pinned.
run_start() {
	local pins=$tmp/bpf/nbdpath i j

	ip netns exec "$ns" taskset -c "$side_cpu" "$np" run -i vb \
		--mode native --json --pin-dir "$pins" \
		>"$tmp/run.out" 2>"$tmp/run.err" &
	bg_pid=$!
	for ((i = 0; i < 100; i++)); do
		if [[ -e $pins/np_stats ]] &&
		   ip -n "$ns" link show vb | grep -q xdp; then
			# its first poll done (the report on stdout): what is
			# measured is the run as it goes on, not its start
			for ((j = 0; j < 30; j++)); do
				[[ -s $tmp/run.out ]] && break
				sleep 0.1
			done
			return 0
		fi
		kill -0 "$bg_pid" 2>/dev/null || break
		sleep 0.1
	done
	run_stop
	sed 's/^/    /' "$tmp/run.err" >&2
	return 1
}

run_stop() {
	kill -INT "$bg_pid" 2>/dev/null || true
	wait "$bg_pid" 2>/dev/null || true
	bg_pid=
}

# The receiver spec for bench live: `nbdpath run`, or the stand-in
# (the same program loaded and attached by bench itself) without it.
np_recv=
np_begin() {
	if [[ $np_recv != nbdpath:vb ]] && run_start; then
		np_recv=pin:$tmp/bpf/nbdpath
	else
		np_recv=nbdpath:vb
	fi
}

np_end() {
	[[ $np_recv == nbdpath:vb ]] || run_stop
}

live() { ip netns exec "$ns" "$bench" live --dev va --cpu "$gen_cpu" "$@"; }

# ---- 2. live frames, nbdpath run vs bare -----------------------------------

# One round of bare, nbdpath run and the base program on vb, in an
# order that alternates by round; prefix: live or spread.
live_round() {
	local r=$1 prefix=$2 out=$tmp/live k
	shift 2

	: >"$out"
	for k in $( ((r % 2)) && echo np bare base "${step_keys[@]}" ||
		    echo bare base "${step_keys[@]}" np); do
		case $k in
		step*)
			live --count "$frames" \
				--recv "base:vb:${step_objs[${k#step} - 1]}" \
				--key "$k" "$@" >>"$out"
			;;
		np)
			np_begin
			live --count "$frames" --recv "$np_recv" --key np "$@" >>"$out"
			np_end
			;;
		bare)
			live --count "$frames" --recv bare:vb --key bare "$@" >>"$out"
			;;
		base)
			live --count "$frames" --recv "base:vb:$base" --key base "$@" >>"$out"
			;;
		esac
	done
	awk -v p="$prefix" '
		{ v[$1] = $2 }
		END {
			printf "%s.bare.pps %s\n", p, v["bare.pps"]
			printf "%s.np.pps %s\n", p, v["np.pps"]
			printf "%s.ratio %.4f\n", p, v["np.pps"] / v["bare.pps"]
			printf "%s.base_ratio %.4f\n", p, v["base.pps"] / v["bare.pps"]
			printf "%s.extra_ns %.2f\n", p,
			       1e9 / v["np.pps"] - 1e9 / v["bare.pps"]
			printf "%s.np.lost %s\n", p, v["np.lost"]
			for (i = 1; ("step" i ".pps") in v; i++)
				printf "%s.step%d_ratio %.4f\n", p, i,
				       v["step" i ".pps"] / v["bare.pps"]
		}' "$out" >>"$samples"
}

part_live() {
	local r

	step "live frames into a veth ($((rounds * 3)) rounds x $((3 + ${#step_objs[@]})) receivers x $frames frames)"
	for ((r = 0; r < rounds * 3; r++)); do
		live_round "$r" live
	done
	if [[ $np_recv == nbdpath:vb ]]; then
		note "live: nbdpath run did not start; measured with the stand-in" \
		     "(nbdpath's program loaded by np_prog_load, attached by bench)."
	else
		note "live: the receiver was 'nbdpath run -i vb --mode native" \
		     "--json --pin-dir DIR', counts read from its pinned np_stats."
	fi
	note "live: BPF_PROG_TEST_RUN live frames (XDP_TX, batch 64) out of" \
	     "veth va, 1514-byte port-902 frames (the server's data, each" \
	     "the next segment in order: bench_tx writes the sequence" \
	     "number), received by XDP in native" \
	     "mode on its peer vb; generator and receive softirq share CPU" \
	     "$gen_cpu, so the rate is of both together; extra_ns is" \
	     "1/rate(nbdpath) - 1/rate(bare). lost = generator count -" \
	     "nbdpath's stats.packets. base: the program of 8ed88a0 attached" \
	     "by bench; stepN, the same way: the objects of NP_BENCH_STEPS."
}

part_spread() {
	local r

	if ((ncpu < 2)); then
		note "spread: one CPU, not measured"
		return
	fi
	step "live frames over both CPUs ($((rounds * 3)) rounds x $((3 + ${#step_objs[@]})) receivers x 2 x $frames frames)"
	for ((r = 0; r < rounds * 3; r++)); do
		live_round "$r" spread --spread "$side_cpu"
	done
	note "spread: as live, with a second generator on CPU $side_cpu" \
	     "sending the client's side of the same flow (1514-byte frames" \
	     "to port 902, its own in-order stream) into the same veth:" \
	     "each direction is received" \
	     "on its own queue and CPU, the flow's two directions on two" \
	     "CPUs, as a multi-queue NIC spreads them; the rate is of the" \
	     "frames of both. nbdpath run's poller shares CPU $side_cpu."
}

# ---- 3. capture at one offered rate, nbdpath run vs tcpdump ----------------

part_capture() {
	local r out=$tmp/cap count=$((rate * 3)) i

	step "capture at $rate pps ($rounds rounds x nbdpath run, tcpdump)"
	for ((r = 0; r < rounds; r++)); do
		: >"$out"
		np_begin
		live --count "$count" --rate "$rate" --recv "$np_recv" \
			--key np >>"$out"
		np_end

		ip netns exec "$ns" taskset -c "$side_cpu" tcpdump -i vb \
			-w /dev/null 'tcp port 902' 2>"$tmp/td.err" &
		bg_pid=$!
		for ((i = 0; i < 100; i++)); do
			grep -q 'listening on' "$tmp/td.err" && break
			sleep 0.1
		done
		live --count "$count" --rate "$rate" --key td >>"$out"
		sleep 0.5	# let tcpdump drain its ring
		run_stop
		awk '$2 == "packets" && $3 == "captured" { print "td.captured", $1 }' \
			"$tmp/td.err" >>"$out"
		awk '
			{ v[$1] = $2 }
			END {
				printf "cap.offered_pps %s\n", v["np.sent_pps"]
				printf "cap.offered_pps %s\n", v["td.sent_pps"]
				printf "cap.np.fraction %.6f\n",
				       v["np.received"] / v["np.sent"]
				printf "cap.td.fraction %.6f\n",
				       v["td.captured"] / v["td.sent"]
			}' "$out" >>"$samples"
	done
	note "capture: the generator paced to $rate pps (10 GbE of full-size" \
	     "frames) by a calibrated spin per frame; tcpdump -i vb -w" \
	     "/dev/null 'tcp port 902' on CPU $side_cpu with vb in GRO" \
	     "(no XDP); fraction = tcpdump's 'packets captured' / sent," \
	     "nbdpath's stats.packets / sent."
}

# ---- 4. replay vs tshark ----------------------------------------------------

# Per-flow packet counts in each direction, "client:port server:port to
# from" sorted, from nbdpath's JSON and from tshark's conversation table.
flows_np() {
	python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
for f in r["flows"]:
    print("%s:%d %s:%d %d %d" % (f["client"], f["client_port"], f["server"],
          f["server_port"], f["to_server"]["packets"],
          f["from_server"]["packets"]))
' "$1" | sort
}

flows_tshark() {
	# "A <-> B  frames(B->A) bytes  frames(A->B) bytes ..."; bytes may
	# carry a unit, so count fields from the arrow
	awk '$2 == "<->" {
		a = $1; b = $3; ba = $4
		i = 6
		if ($i !~ /^[0-9]/)
			i++
		ab = $i
		if (b ~ /:902$/)
			print a, b, ab, ba
		else
			print b, a, ba, ab
	}' "$1" | sort
}

part_replay() {
	local r pcap=$tmp/bench.pcap n t0 t1 t2

	step "replay of a 1,000,000-frame capture ($rounds rounds x nbdpath, tshark)"
	"$mkpcap" bench "$pcap" --frames 1000000 >/dev/null
	n=1000000
	for ((r = 0; r < rounds; r++)); do
		t0=$(date +%s.%N)
		"$np" replay "$pcap" --json >"$tmp/replay.json"
		t1=$(date +%s.%N)
		tshark -q -z conv,tcp -r "$pcap" >"$tmp/tshark.txt" 2>/dev/null
		t2=$(date +%s.%N)
		awk -v n=$n -v a="$t0" -v b="$t1" -v c="$t2" 'BEGIN {
			printf "replay.np_fps %.0f\n", n / (b - a)
			printf "replay.tshark_fps %.0f\n", n / (c - b)
			printf "replay.speedup %.3f\n", (c - b) / (b - a)
		}' >>"$samples"
		if ((r == 0)); then
			flows_np "$tmp/replay.json" >"$tmp/flows.np"
			flows_tshark "$tmp/tshark.txt" >"$tmp/flows.ts"
			if [[ -s $tmp/flows.np ]] &&
			   cmp -s "$tmp/flows.np" "$tmp/flows.ts"; then
				echo "replay.flows_equal 1" >>"$samples"
			else
				echo "replay.flows_equal 0" >>"$samples"
				diff "$tmp/flows.np" "$tmp/flows.ts" | head -5 >&2 || true
			fi
			note "replay: $(wc -l <"$tmp/flows.np") flows compared," \
			     "packets per direction, nbdpath vs tshark."
		fi
	done
	note "replay: mkpcap bench (1M frames, 1000 flows, 64-byte requests," \
	     "1448-byte replies), wall time of 'nbdpath replay FILE --json'" \
	     "and of 'tshark -q -z conv,tcp -r FILE', alternating, file in" \
	     "the page cache."
}

# ---- the IPFIX export's cost ------------------------------------------------

part_ipfix() {
	local l

	step "IPFIX export of 10,000 records"
	"$(dirname "$bench")/ipfix_send" bench | while IFS= read -r l; do
		note "ipfix: $l"
	done
}

# ---- run them --------------------------------------------------------------

for p in $parts; do
	case $p in
	prog | poll | replay | table | ipfix)
		"part_$p"
		;;
	live | spread | capture)
		[[ -e $tmp/bpf ]] || lab_up
		"part_$p"
		;;
	*)
		die "unknown part '$p'"
		;;
	esac
done
note "total time $(($(date +%s) - t_start)) s, $rounds rounds."

cp "$samples" "${json%.json}.samples"	# every round's figures
"$bench" report "$samples" "$json"
echo "bench: figures in ${json#"$PWD"/}" >&2
