#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The build and install as a packager uses them, in a copy of the tree:
# `make CFLAGS="-O2 -g"` builds hardened; distribution flags reach every
# compile and link; WERROR=0; `make install` into a DESTDIR puts exactly
# the expected files, `make uninstall` removes them all; the systemd unit
# passes `systemd-analyze verify`; bash completion completes.
set -u
. "$(dirname "$0")/lib.sh"

TREE=$(mktemp -d)
t_cleanup "rm -rf $TREE"
cp -r "$NP_TOP"/{Makefile,include,bpf,user,scripts} "$TREE"/

# mk ARGS...: make in the copy, quietly, output kept for a failure
mk() { make -C "$TREE" --no-print-directory "$@" >>"$_t_log" 2>&1; }

# flags of the compile of user/run.c and of the link, as make would run them
dry() { make -C "$TREE" --no-print-directory -n -B V=1 "$@" nbdpath 2>/dev/null; }
compile_line() { dry "$@" | grep -- '-c user/run.c'; }
link_line() { dry "$@" | grep -- '-o nbdpath'; }

t_begin cflags_override_builds
if mk -j2 CFLAGS="-O2 -g" nbdpath && [[ -x $TREE/nbdpath ]]; then
	t_ok
else
	t_fail "make CFLAGS=\"-O2 -g\" failed"
fi

# RELRO, BIND_NOW, PIE, the stack protector and _FORTIFY_SOURCE's
# checked functions, in the binary built with only CFLAGS given
t_begin hardened_by_default
h_ok=1
if [[ ! -x $TREE/nbdpath ]]; then
	echo "no binary" >>"$_t_log"
	h_ok=0
else
	readelf -lW "$TREE/nbdpath" | grep -q GNU_RELRO ||
		{ echo "no GNU_RELRO segment" >>"$_t_log"; h_ok=0; }
	readelf -dW "$TREE/nbdpath" | grep -q 'FLAGS.*BIND_NOW' ||
		{ echo "no BIND_NOW" >>"$_t_log"; h_ok=0; }
	readelf -dW "$TREE/nbdpath" | grep -q 'FLAGS_1.*PIE' ||
		{ echo "not PIE" >>"$_t_log"; h_ok=0; }
	readelf -hW "$TREE/nbdpath" | grep -q 'Type:.*DYN' ||
		{ echo "not ET_DYN" >>"$_t_log"; h_ok=0; }
	readelf -sW --dyn-syms "$TREE/nbdpath" | grep -q '__stack_chk_fail' ||
		{ echo "no stack protector" >>"$_t_log"; h_ok=0; }
	readelf -sW --dyn-syms "$TREE/nbdpath" | grep -q '__snprintf_chk' ||
		{ echo "no _FORTIFY_SOURCE" >>"$_t_log"; h_ok=0; }
fi
((h_ok)) && t_ok || t_fail

# The builder's flags come after ours (theirs win) on every compile and
# link; _FORTIFY_SOURCE is not defined twice; -O0 goes without it.
t_begin builder_flags_honoured
f_ok=1
c=$(compile_line CPPFLAGS="-DNP_X=1" CFLAGS="-O1 -g3")
l=$(link_line LDFLAGS="-Wl,-z,noexecstack" CFLAGS="-O1")
t_expect "compile" "$(grep -c -- '-DNP_X=1.*-fPIE.*-O1 -g3' <<<"$c")" 1 || f_ok=0
t_expect "link" "$(grep -c -- '-pie -Wl,-z,relro,-z,now -Wl,-z,noexecstack' <<<"$l")" 1 || f_ok=0
t_expect "fortify once" "$(compile_line CPPFLAGS="-D_FORTIFY_SOURCE=3" | grep -o _FORTIFY_SOURCE | wc -l)" 1 || f_ok=0
t_expect "fortify at -O0" "$(compile_line CFLAGS="-O0 -g" | grep -c _FORTIFY_SOURCE)" 0 || f_ok=0
t_expect "-Werror by default" "$(compile_line | grep -c -- -Werror)" 1 || f_ok=0
t_expect "WERROR=0" "$(compile_line WERROR=0 | grep -c -- -Werror)" 0 || f_ok=0
((f_ok)) && t_ok || { echo "$c" "$l" >>"$_t_log"; t_fail; }

# A distribution's own flags (Debian's dpkg-buildflags, hardening=+all):
# the build goes through with -Werror.
t_begin distribution_flags_build
if ! command -v dpkg-buildflags >/dev/null; then
	t_skip "no dpkg-buildflags"
else
	export DEB_BUILD_MAINT_OPTIONS=hardening=+all
	if mk clean && mk -j2 CFLAGS="$(dpkg-buildflags --get CFLAGS)" \
		CPPFLAGS="$(dpkg-buildflags --get CPPFLAGS)" \
		LDFLAGS="$(dpkg-buildflags --get LDFLAGS)" nbdpath; then
		t_ok
	else
		t_fail
	fi
	unset DEB_BUILD_MAINT_OPTIONS
fi

DEST=$TREE/dest
INSTALLED="./usr/lib/systemd/system/nbdpath@.service 644
./usr/sbin/nbdpath 755
./usr/share/bash-completion/completions/nbdpath 644
./usr/share/man/man8/nbdpath.8 644
./usr/share/nbdpath/nbdpath.env.example 644
./usr/share/nbdpath/nbdpath.rules.yml 644"

t_begin install_files
if mk install PREFIX=/usr DESTDIR="$DEST" &&
   t_expect "files" "$(cd "$DEST" && find . ! -type d -printf '%p %m\n' | sort)" "$INSTALLED" &&
   t_expect "ExecStart" "$(grep -c '^ExecStart=/usr/sbin/nbdpath run -i %i --quiet' \
	"$DEST/usr/lib/systemd/system/nbdpath@.service")" 1 &&
   cmp -s "$DEST/usr/share/man/man8/nbdpath.8" "$TREE/user/nbdpath.8"; then
	t_ok
else
	t_fail
fi

t_begin install_default_prefix
if mk install DESTDIR="$DEST.local" &&
   t_expect "files" "$(cd "$DEST.local" && find . ! -type d | sort | tr '\n' ' ')" \
	"./usr/local/lib/systemd/system/nbdpath@.service ./usr/local/sbin/nbdpath ./usr/local/share/bash-completion/completions/nbdpath ./usr/local/share/man/man8/nbdpath.8 ./usr/local/share/nbdpath/nbdpath.env.example ./usr/local/share/nbdpath/nbdpath.rules.yml " &&
   mk uninstall DESTDIR="$DEST.local" &&
   t_expect "left" "$(find "$DEST.local" ! -type d | wc -l)" 0; then
	t_ok
else
	t_fail
fi

# Checked as installed, the instance of a NIC; only ExecStart's binary is
# pointed into DESTDIR (verify wants it executable) and man into its pages.
t_begin systemd_analyze_verify
if ! command -v systemd-analyze >/dev/null; then
	t_fail "systemd-analyze is missing: run make check (it installs systemd)"
else
	mkdir -p "$TREE/units"
	sed "s|^ExecStart=/usr/sbin/nbdpath|ExecStart=$DEST/usr/sbin/nbdpath|" \
		"$DEST/usr/lib/systemd/system/nbdpath@.service" \
		>"$TREE/units/nbdpath@eth0.service"
	if (cd "$TREE/units" && MANPATH=$DEST/usr/share/man \
		t_log systemd-analyze verify nbdpath@eth0.service) &&
	   ! [[ -s $_t_log ]]; then
		t_ok
	else
		t_fail
	fi
fi

# the installed man page formats without a warning
t_begin man_page_lint
if ! command -v man >/dev/null; then
	t_skip "no man"
else
	LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -E UTF-8 -l \
		"$DEST/usr/share/man/man8/nbdpath.8" >/dev/null 2>"$TREE/man.err"
	cat "$TREE/man.err" >>"$_t_log"
	[[ ! -s $TREE/man.err ]] && t_ok || t_fail
fi

# complete NBDPATH-WORDS...: what the installed completion offers for the
# last word, one line
complete_words() {
	bash -c '. "$1"; shift
	complete -p nbdpath >/dev/null || exit 1
	COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
	_nbdpath; echo "${COMPREPLY[*]}"' _ \
		"$DEST/usr/share/bash-completion/completions/nbdpath" "$@"
}

t_begin bash_completion
if t_expect "complete -p" "$(bash -c '. "$1"; complete -p nbdpath' _ \
	"$DEST/usr/share/bash-completion/completions/nbdpath")" \
	"complete -F _nbdpath nbdpath" &&
   t_expect "command" "$(complete_words nbdpath ru)" "run" &&
   t_expect "commands" "$(complete_words nbdpath -v st)" "stats status" &&
   t_expect "option" "$(complete_words nbdpath run -i lo --met)" "--metrics" &&
   t_expect "query options" "$(complete_words nbdpath hosts --)" \
	"--json --pin-dir --verbose --help" &&
   t_expect "interfaces" "$(complete_words nbdpath run -i '')" \
	"$(ls /sys/class/net | tr '\n' ' ' | sed 's/ $//')" &&
   t_expect "mode" "$(complete_words nbdpath run --mode n)" "native" &&
   t_expect "help" "$(complete_words nbdpath help re)" "replay"; then
	t_ok
else
	t_fail
fi

t_begin uninstall_leaves_nothing
if mk uninstall PREFIX=/usr DESTDIR="$DEST" &&
   t_expect "files left" "$(find "$DEST" ! -type d | wc -l)" 0 &&
   t_expect "nbdpath dirs left" "$(find "$DEST" -name '*nbdpath*' | wc -l)" 0; then
	t_ok
else
	find "$DEST" >>"$_t_log"
	t_fail
fi
t_done
