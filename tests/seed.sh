# SPDX-License-Identifier: GPL-2.0
# The seed scenario's addresses for the shell suites and scripts/lab.sh,
# read from tests/seed.h (the one place they are written): each
# "#define NAME VALUE" there becomes NAME=VALUE here, a string without its
# quotes, and a MAC's NAME_BYTES list NAME=xx:xx:xx:xx:xx:xx. They are
# exported, and SEED_NAMES lists them, so that a suite's Python checks
# (jcheck in tests/lib.sh) name them too.
#
#   source tests/seed.sh     (tests/lib.sh does it for every suite)

_seed_read() {
	local line name val b mac
	SEED_NAMES=
	while read -r line; do
		[[ $line =~ ^#define[[:space:]]+([A-Z][A-Z0-9_]*)[[:space:]]+(.*)$ ]] || continue
		name=${BASH_REMATCH[1]}
		val=${BASH_REMATCH[2]%%/\**}
		val=${val%"${val##*[![:space:]]}"}
		[[ -z $val ]] && continue
		if [[ $val == \"*\" ]]; then
			val=${val#\"}
			val=${val%\"}
		elif [[ $name == *_BYTES ]]; then
			mac=
			for b in ${val//,/ }; do
				printf -v b '%02x' "$b"
				mac+=${mac:+:}$b
			done
			name=${name%_BYTES} val=$mac
		elif [[ ! $val =~ ^[0-9]+$ ]]; then
			echo "tests/seed.sh: cannot read '$line' in tests/seed.h" >&2
			return 1
		fi
		printf -v "$name" '%s' "$val"
		export "${name?}"
		SEED_NAMES+=${SEED_NAMES:+ }$name
	done <"$1"
	export SEED_NAMES
}
_seed_read "$(dirname "${BASH_SOURCE[0]}")/seed.h" || return 1
unset -f _seed_read
