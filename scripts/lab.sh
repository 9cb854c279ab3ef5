#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# lab.sh - the seed's ESXi return-path asymmetry, rebuilt in network namespaces.
#
#   node1/node2 (backup nodes, 10.0.28.0/24) --br-backup-- rtr --br-mgmt-- esx1 vmk0
#                                            \--------------------------- esx1 vmk4
#   esx2 has vmk0 only (symmetric control).  Both bridges live in the "sw"
#   namespace; a tc mirred port mirror copies the ESXi ports into the sensor
#   namespace's NIC mirror0.
#
# Usage: lab.sh up|down|status|env [--prefix P] [--mtu N] [--mgmt-mtu N]
#                                  [--mirror all|vmk4] [--ipv6]
#        lab.sh route fixed|asymmetric [--prefix P]
set -Eeuo pipefail

ME=${0##*/}
# the seed's addresses (tests/seed.h, read by tests/seed.sh)
# shellcheck source=tests/seed.sh
source "$(dirname "${BASH_SOURCE[0]}")/../tests/seed.sh"

die() {
	echo "$ME: $*" >&2
	exit 1
}

usage() {
	cat <<EOF
usage: $ME up|down|status|env [options]
       $ME route fixed|asymmetric [--prefix P]
  up       build the lab (tears down a lab of the same prefix first)
  down     remove the lab's namespaces and files (only this prefix)
  status   show what exists; exit 0 only if the whole lab is up
  env      print shell variables describing the lab (for eval)
  route    on a running lab, mid-run: 'fixed' is the operator's fix, a /32
           route to each backup node via vmk0's gateway, so that esx1's
           replies leave by vmk0; 'asymmetric' removes it again (vmk4,
           on the backup subnet, carries them, as after 'up')
options:
  --prefix P         namespace prefix (default \$LAB_PREFIX or nbdlab)
  --mtu N            MTU of every lab link, mirror included (default 1500)
  --mgmt-mtu N       MTU of the management subnet only (default: --mtu)
  --mirror all|vmk4  mirror esx1 vmk0+vmk4 and esx2 vmk0, or esx1 vmk4 only
  --ipv6             also give the lab IPv6 addresses (${IP6_NET_MGMT}/64, ${IP6_NET_BACKUP}/64)
files: \${LAB_DIR:-/tmp/P}/{esx1,esx2}-vmknic.txt in esxcfg-vmknic -l format
EOF
}

P=${LAB_PREFIX:-nbdlab}
MTU=1500
MGMT_MTU=
MIRROR=all
IPV6=0
CMD=
ROUTE=

while (($#)); do
	case $1 in
	up | down | status | env | route)
		[[ -z $CMD ]] || die "more than one command given ('$CMD' and '$1')"
		CMD=$1
		if [[ $1 == route ]]; then
			ROUTE=${2:-}
			[[ $ROUTE == fixed || $ROUTE == asymmetric ]] ||
				die "route needs 'fixed' or 'asymmetric'"
			shift
		fi
		;;
	--prefix) P=${2:?--prefix needs a value}; shift ;;
	--prefix=*) P=${1#*=} ;;
	--mtu) MTU=${2:?--mtu needs a value}; shift ;;
	--mtu=*) MTU=${1#*=} ;;
	--mgmt-mtu) MGMT_MTU=${2:?--mgmt-mtu needs a value}; shift ;;
	--mgmt-mtu=*) MGMT_MTU=${1#*=} ;;
	--mirror) MIRROR=${2:?--mirror needs a value}; shift ;;
	--mirror=*) MIRROR=${1#*=} ;;
	--ipv6) IPV6=1 ;;
	-h | --help) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
	esac
	shift
done
[[ -n $CMD ]] || { usage >&2; exit 2; }
[[ $P =~ ^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$ ]] || die "bad prefix '$P' (letters, digits, _ . -)"
valid_mtu() { [[ $1 =~ ^[0-9]+$ ]] && (($1 >= 1280 && $1 <= 65535)); }
valid_mtu "$MTU" || die "bad --mtu '$MTU' (1280..65535)"
MGMT_MTU=${MGMT_MTU:-$MTU}
valid_mtu "$MGMT_MTU" || die "bad --mgmt-mtu '$MGMT_MTU' (1280..65535)"
[[ $MIRROR == all || $MIRROR == vmk4 ]] || die "bad --mirror '$MIRROR' (all or vmk4)"

LAB_DIR=${LAB_DIR:-/tmp/$P}
STATE=$LAB_DIR/lab.env

NS_ESX1=$P-esx1
NS_ESX2=$P-esx2
NS_RTR=$P-rtr
NS_NODE1=$P-node1
NS_NODE2=$P-node2
NS_SW=$P-sw
NS_SENSOR=$P-sensor
ALL_NS=("$NS_ESX1" "$NS_ESX2" "$NS_RTR" "$NS_NODE1" "$NS_NODE2" "$NS_SW" "$NS_SENSOR")

ESX1_VMK0_IP=$IP_ESX
ESX1_VMK0_MAC=$MAC_VMK0
ESX1_VMK4_IP=$IP_ESX_VMK4
ESX1_VMK4_MAC=$MAC_VMK4
ESX2_VMK0_IP=$IP_ESX2
ESX2_VMK0_MAC=$MAC_ESX2_VMK0
RTR_MGMT_IP=$IP_GW
RTR_MGMT_MAC=$MAC_GW
RTR_BACKUP_IP=$IP_GW28
RTR_BACKUP_MAC=$MAC_GW28
NODE1_IP=$IP_RUBRIK
NODE1_MAC=$MAC_RUBRIK
NODE2_IP=$IP_RUBRIK2
NODE2_MAC=$MAC_RUBRIK2
SENSOR_IF=mirror0
SW_MIRROR_IF=span

ns_exists() { [[ -e /run/netns/$1 ]]; }

nsx() { ip netns exec "$@"; }

# ---------------------------------------------------------------- down

lab_down() {
	local ns pids pid i
	for ns in "${ALL_NS[@]}"; do
		ns_exists "$ns" || continue
		# A process left inside keeps the namespace (and its veths) alive.
		pids=$(ip netns pids "$ns" 2>/dev/null || true)
		if [[ -n $pids ]]; then
			for pid in $pids; do kill -TERM "$pid" 2>/dev/null || true; done
			for ((i = 0; i < 20; i++)); do
				[[ -z $(ip netns pids "$ns" 2>/dev/null || true) ]] && break
				sleep 0.1
			done
			for pid in $(ip netns pids "$ns" 2>/dev/null || true); do
				kill -KILL "$pid" 2>/dev/null || true
			done
		fi
		ip netns del "$ns" 2>/dev/null || true
	done
	rm -f "$LAB_DIR/esx1-vmknic.txt" "$LAB_DIR/esx2-vmknic.txt" "$STATE"
	rmdir "$LAB_DIR" 2>/dev/null || true
}

# ---------------------------------------------------------------- up

# veth NS1 DEV1 MAC1 NS2 DEV2 MTU: one cable; MAC1 "" = kernel-chosen.
veth() {
	local addr=()
	[[ -n $3 ]] && addr=(address "$3")
	ip -n "$1" link add "$2" "${addr[@]}" mtu "$6" type veth \
		peer name "$5" mtu "$6" netns "$4"
	# Wire-sized frames on the mirror: no TSO/GSO super-frames, no GRO merging,
	# and software checksums so captured frames carry valid ones.
	nsx "$1" ethtool -K "$2" tx off tso off gso off gro off >/dev/null
	nsx "$4" ethtool -K "$5" tx off tso off gso off gro off >/dev/null
}

mirror_port() {
	local dev=$1 dir
	ip -n "$NS_SW" link set "$dev" up
	tc -n "$NS_SW" qdisc add dev "$dev" clsact
	# u32 "match u32 0 0" matches every frame: this kernel lacks matchall.
	for dir in ingress egress; do
		tc -n "$NS_SW" filter add dev "$dev" "$dir" protocol all prio 1 \
			u32 match u32 0 0 action mirred egress mirror dev "$SW_MIRROR_IF"
	done
}

# ESXi lists the EUI-64 link-local address of each vmk (RFC 5952 text).
eui64_ll() {
	local IFS=: m g1
	read -ra m <<<"$1"
	g1=$(((0x${m[0]} ^ 2) << 8 | 0x${m[1]}))
	if ((g1)); then
		printf 'fe80::%x:%x:%x:%x\n' "$g1" $((0x${m[2]} << 8 | 0xff)) \
			$((0xfe00 | 0x${m[3]})) $((0x${m[4]} << 8 | 0x${m[5]}))
	else
		printf 'fe80::%x:%x:%x\n' $((0x${m[2]} << 8 | 0xff)) \
			$((0xfe00 | 0x${m[3]})) $((0x${m[4]} << 8 | 0x${m[5]}))
	fi
}

vmknic_row() {
	printf '%-10s %-39s %-9s %-39s %-15s %-15s %-17s %-7s %-9s %-7s %-19s %s\n' "$@"
}

# esxcfg-vmknic -l layout; fixed-width columns, port groups may contain spaces.
write_vmknic() {
	local file=$1
	shift
	{
		vmknic_row Interface "Port Group/DVPort/Opaque Network" "IP Family" "IP Address" \
			Netmask Broadcast "MAC Address" MTU "TSO MSS" Enabled Type NetStack |
			sed 's/ *$//'
		while (($#)); do
			local vmk=$1 pg=$2 ip=$3 bc=$4 mac=$5 mtu=$6 ip6=$7
			shift 7
			vmknic_row "$vmk" "$pg" IPv4 "$ip" 255.255.255.0 "$bc" "$mac" "$mtu" 65535 \
				true STATIC defaultTcpipStack
			if ((IPV6)); then
				vmknic_row "$vmk" "$pg" IPv6 "$(eui64_ll "$mac")" 64 "" "$mac" "$mtu" 65535 \
					true "STATIC, PREFERRED" defaultTcpipStack
				vmknic_row "$vmk" "$pg" IPv6 "$ip6" 64 "" "$mac" "$mtu" 65535 \
					true "STATIC, PREFERRED" defaultTcpipStack
			fi
		done
	} >"$file"
}

# Carrier is on at once, but operstate follows via linkwatch up to a second
# later; callers (and nbdpath's NIC checks) should find the lab fully UP.
wait_links_up() {
	local ns i down
	for ((i = 0; i < 40; i++)); do
		down=
		for ns in "${ALL_NS[@]}"; do
			if ip -n "$ns" -o link show | grep -Eq 'state (DOWN|LOWERLAYERDOWN)'; then
				down=$ns
				break
			fi
		done
		[[ -z $down ]] && return 0
		sleep 0.05
	done
	echo "$ME: links in $down still down after 2 s" >&2
	return 1
}

up_failed() {
	trap - ERR
	echo "$ME: up failed (status $1): $2; removing the half-built lab" >&2
	lab_down
	exit "$1"
}

lab_up() {
	local ns
	lab_down
	trap 'up_failed $? "$BASH_COMMAND"' ERR

	for ns in "${ALL_NS[@]}"; do
		ip netns add "$ns"
		ip -n "$ns" link set lo up
		# Set before any link exists: new links copy the "default" values.
		if ((IPV6)) && [[ $ns != "$NS_SW" && $ns != "$NS_SENSOR" ]]; then
			nsx "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0 \
				net.ipv6.conf.default.accept_dad=0 \
				net.ipv6.conf.default.router_solicitations=0
		else
			# The switch and the sensor must stay silent; without --ipv6
			# nobody needs the NDP/MLD chatter on the mirror.
			nsx "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
				net.ipv6.conf.default.disable_ipv6=1
		fi
	done
	# Requests arrive on vmk0 from 10.0.28.x while the route back is vmk4:
	# strict rp_filter would drop them. arp_ignore/arp_announce make each vmk
	# answer and ask only for its own IP, so ARP shows which IP owns which MAC.
	nsx "$NS_ESX1" sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 \
		net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.all.arp_announce=2
	nsx "$NS_ESX2" sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 \
		net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.all.arp_announce=2
	# Tail-loss probes fire after ~2 RTTs, a few microseconds on veth: any ACK
	# late because the peer was not scheduled gets its segment sent twice,
	# and the mirror then shows more payload than the socket wrote.
	for ns in "$NS_ESX1" "$NS_ESX2" "$NS_NODE1" "$NS_NODE2"; do
		nsx "$ns" sysctl -qw net.ipv4.tcp_early_retrans=0
	done
	nsx "$NS_RTR" sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.send_redirects=0 \
		net.ipv4.conf.default.send_redirects=0
	((IPV6)) && nsx "$NS_RTR" sysctl -qw net.ipv6.conf.all.forwarding=1

	# The sensor NIC first: mirred needs its target to exist.
	veth "$NS_SENSOR" "$SENSOR_IF" "" "$NS_SW" "$SW_MIRROR_IF" "$MTU"
	veth "$NS_ESX1" vmk0 "$ESX1_VMK0_MAC" "$NS_SW" esx1-vmk0 "$MGMT_MTU"
	veth "$NS_ESX1" vmk4 "$ESX1_VMK4_MAC" "$NS_SW" esx1-vmk4 "$MTU"
	veth "$NS_ESX2" vmk0 "$ESX2_VMK0_MAC" "$NS_SW" esx2-vmk0 "$MGMT_MTU"
	veth "$NS_RTR" mgmt0 "$RTR_MGMT_MAC" "$NS_SW" rtr-mgmt "$MGMT_MTU"
	veth "$NS_RTR" backup0 "$RTR_BACKUP_MAC" "$NS_SW" rtr-backup "$MTU"
	veth "$NS_NODE1" eth0 "$NODE1_MAC" "$NS_SW" node1 "$MTU"
	veth "$NS_NODE2" eth0 "$NODE2_MAC" "$NS_SW" node2 "$MTU"

	# Port groups. No STP, no forward delay, no multicast snooping: a plain
	# learning switch that forwards from the first frame.
	ip -n "$NS_SW" link add br-mgmt mtu "$MGMT_MTU" type bridge \
		stp_state 0 forward_delay 0 mcast_snooping 0
	ip -n "$NS_SW" link add br-backup mtu "$MTU" type bridge \
		stp_state 0 forward_delay 0 mcast_snooping 0
	for ns in esx1-vmk0 esx2-vmk0 rtr-mgmt; do
		ip -n "$NS_SW" link set "$ns" master br-mgmt up
	done
	for ns in esx1-vmk4 rtr-backup node1 node2; do
		ip -n "$NS_SW" link set "$ns" master br-backup up
	done
	ip -n "$NS_SW" link set br-mgmt up
	ip -n "$NS_SW" link set br-backup up

	ip -n "$NS_SW" link set "$SW_MIRROR_IF" up
	ip -n "$NS_SENSOR" link set "$SENSOR_IF" up
	# a sensor NIC that strips VLAN tags before XDP hides them from
	# nbdpath (it warns about it): set it up as an operator should
	nsx "$NS_SENSOR" ethtool -K "$SENSOR_IF" rxvlan off >/dev/null 2>&1 || true
	if [[ $MIRROR == all ]]; then
		mirror_port esx1-vmk0
		mirror_port esx2-vmk0
	fi
	mirror_port esx1-vmk4

	ip -n "$NS_ESX1" addr add "$ESX1_VMK0_IP/24" dev vmk0
	ip -n "$NS_ESX1" addr add "$ESX1_VMK4_IP/24" dev vmk4
	ip -n "$NS_ESX1" link set vmk0 up
	ip -n "$NS_ESX1" link set vmk4 up
	ip -n "$NS_ESX1" route add default via "$RTR_MGMT_IP" dev vmk0

	ip -n "$NS_ESX2" addr add "$ESX2_VMK0_IP/24" dev vmk0
	ip -n "$NS_ESX2" link set vmk0 up
	ip -n "$NS_ESX2" route add default via "$RTR_MGMT_IP" dev vmk0

	ip -n "$NS_RTR" addr add "$RTR_MGMT_IP/24" dev mgmt0
	ip -n "$NS_RTR" addr add "$RTR_BACKUP_IP/24" dev backup0
	ip -n "$NS_RTR" link set mgmt0 up
	ip -n "$NS_RTR" link set backup0 up

	ip -n "$NS_NODE1" addr add "$NODE1_IP/24" dev eth0
	ip -n "$NS_NODE1" link set eth0 up
	ip -n "$NS_NODE1" route add default via "$RTR_BACKUP_IP" dev eth0
	ip -n "$NS_NODE2" addr add "$NODE2_IP/24" dev eth0
	ip -n "$NS_NODE2" link set eth0 up
	ip -n "$NS_NODE2" route add default via "$RTR_BACKUP_IP" dev eth0

	if ((IPV6)); then
		ip -n "$NS_ESX1" addr add "$IP6_ESX/64" dev vmk0 nodad
		ip -n "$NS_ESX1" addr add "$IP6_ESX_VMK4/64" dev vmk4 nodad
		ip -n "$NS_ESX1" -6 route add default via "$IP6_GW" dev vmk0
		ip -n "$NS_ESX2" addr add "$IP6_ESX2/64" dev vmk0 nodad
		ip -n "$NS_ESX2" -6 route add default via "$IP6_GW" dev vmk0
		ip -n "$NS_RTR" addr add "$IP6_GW/64" dev mgmt0 nodad
		ip -n "$NS_RTR" addr add "$IP6_GW28/64" dev backup0 nodad
		ip -n "$NS_NODE1" addr add "$IP6_RUBRIK/64" dev eth0 nodad
		ip -n "$NS_NODE1" -6 route add default via "$IP6_GW28" dev eth0
		ip -n "$NS_NODE2" addr add "$IP6_RUBRIK2/64" dev eth0 nodad
		ip -n "$NS_NODE2" -6 route add default via "$IP6_GW28" dev eth0
	fi

	wait_links_up

	mkdir -p "$LAB_DIR"
	write_vmknic "$LAB_DIR/esx1-vmknic.txt" \
		vmk0 "Management Network" "$ESX1_VMK0_IP" 10.0.0.255 "$ESX1_VMK0_MAC" "$MGMT_MTU" "$IP6_ESX" \
		vmk4 "VLAN28-RUBRIK DATA" "$ESX1_VMK4_IP" 10.0.28.255 "$ESX1_VMK4_MAC" "$MTU" "$IP6_ESX_VMK4"
	write_vmknic "$LAB_DIR/esx2-vmknic.txt" \
		vmk0 "Management Network" "$ESX2_VMK0_IP" 10.0.0.255 "$ESX2_VMK0_MAC" "$MGMT_MTU" "$IP6_ESX2"
	printf 'LAB_MTU=%s\nLAB_MGMT_MTU=%s\nLAB_MIRROR=%s\nLAB_IPV6=%s\n' \
		"$MTU" "$MGMT_MTU" "$MIRROR" "$IPV6" >"$STATE"
	trap - ERR
	echo "lab $P up: mtu $MTU (mgmt $MGMT_MTU), mirror $MIRROR, ipv6 $IPV6, sensor $NS_SENSOR/$SENSOR_IF"
}

# ---------------------------------------------------------------- status/env

lab_complete() {
	local ns
	for ns in "${ALL_NS[@]}"; do ns_exists "$ns" || return 1; done
	[[ -f $STATE ]]
}

lab_status() {
	local ns n=0
	for ns in "${ALL_NS[@]}"; do
		if ns_exists "$ns"; then
			n=$((n + 1))
			echo "$ns:"
			ip -n "$ns" -br addr show | grep -v '^lo ' | sed 's/^/  /' || true
		else
			echo "$ns: absent"
		fi
	done
	if ns_exists "$NS_SW"; then
		echo "mirror into $NS_SENSOR/$SENSOR_IF from:" \
			"$(for p in esx1-vmk0 esx1-vmk4 esx2-vmk0; do
				tc -n "$NS_SW" filter show dev "$p" ingress 2>/dev/null |
					grep -q mirred && printf '%s ' "$p"
			done)"
	fi
	[[ -f $STATE ]] && tr '\n' ' ' <"$STATE" && echo
	ns_exists "$NS_ESX1" && echo "route: $(lab_route_state)"
	if lab_complete; then
		echo "lab $P: up"
	elif ((n)); then
		echo "lab $P: partial ($n of ${#ALL_NS[@]} namespaces)"
		return 1
	else
		echo "lab $P: down"
		return 1
	fi
}

# ---------------------------------------------------------------- route

# The seed's cause: esx1 answers the backup nodes from vmk0's IP, but vmk4
# sits on their subnet, so the connected route sends the replies out of
# vmk4. The operator's fix is a host route per backup node via vmk0's
# gateway; 'replace' and a delete of exactly that route keep both ways
# idempotent. Established connections follow at once: a route change
# invalidates the sockets' cached routes.
lab_route() {
	local node
	lab_complete || die "lab $P is not up"
	# shellcheck disable=SC1090
	source "$STATE"
	for node in "$NODE1_IP" "$NODE2_IP"; do
		if [[ $ROUTE == fixed ]]; then
			ip -n "$NS_ESX1" route replace "$node/32" via "$RTR_MGMT_IP" dev vmk0
		else
			ip -n "$NS_ESX1" route del "$node/32" via "$RTR_MGMT_IP" dev vmk0 2>/dev/null || true
		fi
	done
	if ((LAB_IPV6)); then
		for node in "$IP6_RUBRIK" "$IP6_RUBRIK2"; do
			if [[ $ROUTE == fixed ]]; then
				ip -n "$NS_ESX1" -6 route replace "$node/128" via "$IP6_GW" dev vmk0
			else
				ip -n "$NS_ESX1" -6 route del "$node/128" via "$IP6_GW" dev vmk0 \
					2>/dev/null || true
			fi
		done
	fi
	echo "lab $P: route $ROUTE ($(lab_route_state))"
}

# What esx1's routing does now with a reply to node1: the vmk it leaves by.
lab_route_state() {
	ip -n "$NS_ESX1" -o route get "$NODE1_IP" from "$ESX1_VMK0_IP" |
		sed -n 's/.* dev \([^ ]*\).*/esx1 to node1 via \1/p'
}

# The locals below are read back by name through ${!v}.
# shellcheck disable=SC2034
lab_env() {
	local LAB_UP=0 LAB_MTU=$MTU LAB_MGMT_MTU=$MGMT_MTU LAB_MIRROR=$MIRROR LAB_IPV6=$IPV6 v
	if lab_complete; then
		LAB_UP=1
		# shellcheck disable=SC1090
		source "$STATE"
	fi
	local ESX1_VMK0_IP6='' ESX1_VMK4_IP6='' ESX2_VMK0_IP6='' RTR_MGMT_IP6='' RTR_BACKUP_IP6=''
	local NODE1_IP6='' NODE2_IP6=
	if ((LAB_IPV6)); then
		ESX1_VMK0_IP6=$IP6_ESX ESX1_VMK4_IP6=$IP6_ESX_VMK4 ESX2_VMK0_IP6=$IP6_ESX2
		RTR_MGMT_IP6=$IP6_GW RTR_BACKUP_IP6=$IP6_GW28
		NODE1_IP6=$IP6_RUBRIK NODE2_IP6=$IP6_RUBRIK2
	fi
	local ESX1_VMKNIC_FILE=$LAB_DIR/esx1-vmknic.txt ESX2_VMKNIC_FILE=$LAB_DIR/esx2-vmknic.txt
	for v in LAB_PREFIX LAB_DIR LAB_UP LAB_MTU LAB_MGMT_MTU LAB_MIRROR LAB_IPV6 \
		NS_ESX1 NS_ESX2 NS_RTR NS_NODE1 NS_NODE2 NS_SW NS_SENSOR SENSOR_IF SW_MIRROR_IF \
		ESX1_VMK0_IP ESX1_VMK0_MAC ESX1_VMK4_IP ESX1_VMK4_MAC ESX2_VMK0_IP ESX2_VMK0_MAC \
		RTR_MGMT_IP RTR_MGMT_MAC RTR_BACKUP_IP RTR_BACKUP_MAC \
		NODE1_IP NODE1_MAC NODE2_IP NODE2_MAC \
		ESX1_VMK0_IP6 ESX1_VMK4_IP6 ESX2_VMK0_IP6 RTR_MGMT_IP6 RTR_BACKUP_IP6 NODE1_IP6 NODE2_IP6 \
		ESX1_VMKNIC_FILE ESX2_VMKNIC_FILE; do
		if [[ $v == LAB_PREFIX ]]; then
			printf '%s=%q\n' "$v" "$P"
		else
			printf '%s=%q\n' "$v" "${!v}"
		fi
	done
}

[[ $(id -u) -eq 0 || $CMD == env ]] || die "must run as root (network namespaces)"
case $CMD in
up) lab_up ;;
down) lab_down ;;
status) lab_status ;;
env) lab_env ;;
route) lab_route ;;
esac
