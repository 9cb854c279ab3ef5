#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Install the Debian packages nbdpath needs to build, test and demo.
# Idempotent: does nothing (and prints nothing) when all are present.
set -euo pipefail

pkgs=(clang llvm libbpf-dev bpftool libpcap-dev libelf-dev zlib1g-dev
      gcc make pkg-config tcpdump tshark iproute2 ethtool util-linux
      procps python3 libmicrohttpd-dev prometheus curl systemd nfdump pmacct
      libclang-rt-dev)	# clang's ASan, UBSan and libFuzzer: make check, make fuzz

missing=()
for p in "${pkgs[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing+=("$p")
	fi
done
((${#missing[@]})) || exit 0

if [[ $(id -u) -ne 0 ]]; then
	echo "nbdpath: missing packages: ${missing[*]}; run 'sudo $0' to install them" >&2
	exit 1
fi
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# tshark asks whether non-root users may capture; answer it up front.
echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
