# SPDX-License-Identifier: GPL-2.0
# nbdpath build. `make help` lists the targets; V=1 shows the commands.

OUT		:= .build
ARCH_INC	:= /usr/include/$(shell gcc -dumpmachine)
CLANG		?= clang
BPFTOOL		?= bpftool
CC		?= gcc

# CFLAGS, CPPFLAGS and LDFLAGS are the builder's (a distribution's, or
# `make CFLAGS="-O2 -g"`): ours go in front of them, so theirs win.
# Hardening is on by default; WERROR=0 builds with warnings as warnings.
CFLAGS		?= -O2 -g
WERROR		?= 1
NP_CPPFLAGS	:= -Iinclude -I$(OUT) -Iuser
# _FORTIFY_SOURCE needs optimisation, and must not be defined twice
ifeq ($(findstring _FORTIFY_SOURCE,$(CPPFLAGS) $(CFLAGS)),)
ifneq ($(filter-out -O0,$(filter -O%,$(CFLAGS))),)
NP_CPPFLAGS	+= -D_FORTIFY_SOURCE=2
endif
endif
NP_CFLAGS	:= -Wall -Wextra $(if $(filter 1,$(WERROR)),-Werror) -std=gnu11 \
		   -fstack-protector-strong -fPIE
NP_LDFLAGS	:= -pie -Wl,-z,relro,-z,now
ALL_CFLAGS	= $(NP_CPPFLAGS) $(CPPFLAGS) $(NP_CFLAGS) $(CFLAGS)
ALL_LDFLAGS	= $(NP_LDFLAGS) $(LDFLAGS)

PREFIX		?= /usr/local
SBINDIR		?= $(PREFIX)/sbin
MANDIR		?= $(PREFIX)/share/man
DATADIR		?= $(PREFIX)/share/nbdpath
BASHCOMPDIR	?= $(PREFIX)/share/bash-completion/completions
UNITDIR		?= $(PREFIX)/lib/systemd/system
BPF_CFLAGS	:= -O2 -g -target bpf -Wall -Wextra -Werror \
		   -Iinclude -Ibpf -I$(ARCH_INC)
LDLIBS		:= -lbpf -lelf -lz -lpcap -lm -lmicrohttpd -lpthread

ifeq ($(V),1)
Q		:=
msg		=
else
Q		:= @
msg		= @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

.DELETE_ON_ERROR:
# the BPF objects are intermediates of the skeletons, but tests and
# operators load them too (bpftool, ip link): keep them
.SECONDARY:
.PHONY: all deps check demo bench fuzz soak clean help install uninstall

# the program's BPF objects; bpf/bench_*.bpf.c are the bench's, built for
# `make bench` only, and tests/*.bpf.c for `make check`
BENCH_BPF_SRCS	:= $(wildcard bpf/bench_*.bpf.c)
BPF_SRCS	:= $(filter-out $(BENCH_BPF_SRCS),$(wildcard bpf/*.bpf.c))
BPF_HDRS	:= $(wildcard bpf/*.h) $(wildcard include/*.h)
BPF_OBJS	:= $(patsubst bpf/%.bpf.c,$(OUT)/%.bpf.o,$(BPF_SRCS))
SKELS		:= $(patsubst bpf/%.bpf.c,$(OUT)/%.skel.h,$(BPF_SRCS))
BENCH_SKELS	:= $(patsubst bpf/%.bpf.c,$(OUT)/%.skel.h,$(BENCH_BPF_SRCS))
TEST_BPF_OBJS	:= $(patsubst tests/%.bpf.c,$(OUT)/%.bpf.o,$(wildcard tests/*.bpf.c))

USER_SRCS	:= $(wildcard user/*.c)
USER_OBJS	:= $(patsubst user/%.c,$(OUT)/user/%.o,$(USER_SRCS))
# everything but main() is shared with the test programs
USER_LIB_OBJS	:= $(filter-out $(OUT)/user/main.o,$(USER_OBJS))
USER_HDRS	:= $(wildcard user/*.h) $(wildcard include/*.h)

TEST_PROGS	:= $(OUT)/test_progs
TEST_SRCS	:= tests/test_progs.c tests/json_parse.c $(wildcard tests/prog_tests/*.c)
TEST_HDRS	:= $(wildcard tests/*.h)
TEST_TOOLS	:= $(OUT)/nbdtraffic $(OUT)/mkpcap $(OUT)/ipfix_send
# the measuring half of `make bench`: links the loader's objects, as test_progs
BENCH		:= $(OUT)/bench
# The program bench compares with, built from git in every run: the hot
# path as it stood before the call-free hit (override to compare others).
BENCH_BASE	?= 8ed88a0
BASE_OBJ	:= $(OUT)/base/nbdpath.bpf.o
BASE_SRCS	:= bpf/nbdpath.bpf.c bpf/parse.h bpf/flow.h include/nbdpath.h

all: nbdpath

$(OUT) $(OUT)/user:
	$(Q)mkdir -p $@

$(OUT)/%.bpf.o: bpf/%.bpf.c $(BPF_HDRS) | $(OUT)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(OUT)/%.bpf.o: tests/%.bpf.c | $(OUT)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(OUT)/%.skel.h: $(OUT)/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< > $@

$(OUT)/user/%.o: user/%.c $(USER_HDRS) $(SKELS) | $(OUT)/user
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -c $< -o $@

nbdpath: $(USER_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) $^ -o $@ $(LDLIBS)

# Tests are found by name, as in the kernel's test_progs: every
# "void test_NAME(void)" in tests/prog_tests/ becomes DEFINE_TEST(test_NAME).
# Regenerated every time, replaced only when it changes (a test added to,
# or a file removed from, the set must show).
TEST_INC	:= $(OUT)/tests.inc
$(TEST_INC): FORCE | $(OUT)
	$(Q)sed -n -E 's/^void (test_[A-Za-z0-9_]+)\(void\).*$$/DEFINE_TEST(\1)/p' \
		$(filter tests/prog_tests/%,$(TEST_SRCS)) /dev/null > $@.tmp
	$(Q)if cmp -s $@.tmp $@; then rm -f $@.tmp; else \
		printf '  %-8s %s\n' GEN $@; mv $@.tmp $@; fi

.PHONY: FORCE
FORCE:

$(TEST_PROGS): $(TEST_SRCS) $(TEST_INC) $(TEST_HDRS) $(USER_LIB_OBJS) $(SKELS) $(BENCH_SKELS) $(USER_HDRS)
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -Itests $(TEST_SRCS) $(USER_LIB_OBJS) -o $@ $(LDLIBS)

$(BENCH): tests/bench.c $(TEST_HDRS) $(USER_LIB_OBJS) $(SKELS) $(BENCH_SKELS) $(USER_HDRS)
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -Itests $< $(USER_LIB_OBJS) -o $@ $(LDLIBS)

# its sources side by side, so that its own "nbdpath.h" is the one found
$(BASE_OBJ): FORCE | $(OUT)
	$(call msg,BPF,$@ ($(BENCH_BASE)))
	$(Q)mkdir -p $(OUT)/base
	$(Q)for f in $(BASE_SRCS); do \
		git show $(BENCH_BASE):$$f > $(OUT)/base/$$(basename $$f) || exit 1; \
	done
	$(Q)$(CLANG) -O2 -g -target bpf -Wall -Wextra -Werror -I$(ARCH_INC) \
		-c $(OUT)/base/nbdpath.bpf.c -o $@

# the IPFIX exporter alone, for tests/t_ipfix.sh and its bench mode
$(OUT)/ipfix_send: tests/ipfix_send.c $(OUT)/user/ipfix.o $(OUT)/user/log.o
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) $^ -o $@ $(LDLIBS)

$(OUT)/%: tests/%.c $(TEST_HDRS) | $(OUT)
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) $< -o $@ $(LDLIBS)

# ---- sanitizers and fuzzing (README, "Fuzzing") ----

# nbdpath and test_progs again with clang's ASan and UBSan, for `make
# check` (clang's runtime writes UBSan's reports to UBSAN_OPTIONS'
# log_path too, gcc's to stderr only; clang also names a GNU extension
# gcc takes silently, which nic.c uses)
ASAN_OUT	:= .build-asan
# ours and the builder's as for gcc, without the hardening ASan replaces
SAN_CFLAGS	= -Iinclude -I$(OUT) -Iuser $(CPPFLAGS) -Wall -Wextra \
		  $(if $(filter 1,$(WERROR)),-Werror) -std=gnu11 $(CFLAGS)
SAN_FLAGS	:= -Wno-gnu-variable-sized-type-not-at-end \
		   -fsanitize=address,undefined -fno-sanitize-recover=all \
		   -fno-omit-frame-pointer
ASAN_OBJS	:= $(patsubst user/%.c,$(ASAN_OUT)/user/%.o,$(USER_SRCS))
ASAN_LIB_OBJS	:= $(filter-out $(ASAN_OUT)/user/main.o,$(ASAN_OBJS))
ASAN_BINS	:= $(ASAN_OUT)/nbdpath $(ASAN_OUT)/test_progs
# what clang says of the test runner and gcc does not (the gcc build
# still holds it to -Werror): "test_x" + 5, { 0 } initialisers
TEST_CLANG	:= -Wno-string-plus-int -Wno-missing-field-initializers

$(ASAN_OUT)/user:
	$(Q)mkdir -p $@

$(ASAN_OUT)/user/%.o: user/%.c $(USER_HDRS) $(SKELS) | $(ASAN_OUT)/user
	$(call msg,CC-ASAN,$@)
	$(Q)$(CLANG) $(SAN_CFLAGS) $(SAN_FLAGS) -c $< -o $@

$(ASAN_OUT)/nbdpath: $(ASAN_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CLANG) $(SAN_CFLAGS) $(SAN_FLAGS) $^ -o $@ $(LDLIBS)

$(ASAN_OUT)/test_progs: $(TEST_SRCS) $(TEST_INC) tests/test_progs.h tests/frames.h $(ASAN_LIB_OBJS) $(SKELS) $(USER_HDRS)
	$(call msg,CC-ASAN,$@)
	$(Q)$(CLANG) $(SAN_CFLAGS) $(SAN_FLAGS) $(TEST_CLANG) -Itests $(TEST_SRCS) $(ASAN_LIB_OBJS) -o $@ $(LDLIBS)

# libFuzzer targets: every tests/fuzz/fuzz_NAME.c, linked with the
# loader's objects built for fuzzing; its corpus is tests/fuzz/corpus/NAME/
FUZZ_OUT	:= .build-fuzz
FUZZ_SRCS	:= $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS	:= $(patsubst tests/fuzz/%.c,$(FUZZ_OUT)/%,$(FUZZ_SRCS))
FUZZ_LIB_OBJS	:= $(patsubst user/%.c,$(FUZZ_OUT)/user/%.o,$(filter-out user/main.c,$(USER_SRCS)))
# seconds of fuzzing per target in `make fuzz`
FUZZ_SECONDS	?= 60

$(FUZZ_OUT)/user:
	$(Q)mkdir -p $@

$(FUZZ_OUT)/user/%.o: user/%.c $(USER_HDRS) $(SKELS) | $(FUZZ_OUT)/user
	$(call msg,CC-FUZZ,$@)
	$(Q)$(CLANG) $(SAN_CFLAGS) $(SAN_FLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

$(FUZZ_OUT)/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_LIB_OBJS) $(USER_HDRS) $(SKELS)
	$(call msg,CC-FUZZ,$@)
	$(Q)$(CLANG) $(SAN_CFLAGS) $(SAN_FLAGS) -fsanitize=fuzzer -Itests $< $(FUZZ_LIB_OBJS) -o $@ $(LDLIBS)

fuzz: deps
	$(Q)$(MAKE) --no-print-directory all $(TEST_PROGS) $(FUZZ_BINS)
	$(Q)FUZZ_SECONDS=$(FUZZ_SECONDS) tests/fuzz/run.sh $(FUZZ_BINS)

deps:
	$(Q)scripts/deps.sh

# deps first (and alone): the build needs clang and bpftool.
check: deps
	$(Q)$(MAKE) --no-print-directory all $(TEST_PROGS) $(TEST_TOOLS) $(TEST_BPF_OBJS) \
		$(ASAN_BINS) $(FUZZ_BINS)
	$(Q)tests/run.sh

demo: deps
	$(Q)$(MAKE) --no-print-directory all $(TEST_TOOLS)
	$(Q)scripts/demo.sh

bench: deps
	$(Q)$(MAKE) --no-print-directory all $(TEST_PROGS) $(TEST_TOOLS) $(BENCH) $(BASE_OBJ)
	$(Q)scripts/bench.sh

# minutes of `run` under flow churn, not part of check (scripts/soak.sh)
SOAK_SECONDS	?= 300
soak: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)SOAK_SECONDS=$(SOAK_SECONDS) scripts/soak.sh

# What `make install` puts where (under DESTDIR, a staging root); the
# unit's ExecStart follows SBINDIR.
INSTALLED	:= $(SBINDIR)/nbdpath $(MANDIR)/man8/nbdpath.8 \
		   $(BASHCOMPDIR)/nbdpath $(UNITDIR)/nbdpath@.service \
		   $(DATADIR)/nbdpath.env.example $(DATADIR)/nbdpath.rules.yml

install: nbdpath
	$(call msg,INSTALL,$(DESTDIR)$(PREFIX))
	$(Q)install -D -m 0755 nbdpath $(DESTDIR)$(SBINDIR)/nbdpath
	$(Q)install -D -m 0644 user/nbdpath.8 $(DESTDIR)$(MANDIR)/man8/nbdpath.8
	$(Q)install -D -m 0644 user/nbdpath.bash-completion \
		$(DESTDIR)$(BASHCOMPDIR)/nbdpath
	$(Q)install -d $(DESTDIR)$(UNITDIR)
	$(Q)sed 's|/usr/local/sbin/nbdpath|$(SBINDIR)/nbdpath|' \
		scripts/nbdpath@.service > $(DESTDIR)$(UNITDIR)/nbdpath@.service
	$(Q)chmod 0644 $(DESTDIR)$(UNITDIR)/nbdpath@.service
	$(Q)install -D -m 0644 scripts/nbdpath.env.example \
		$(DESTDIR)$(DATADIR)/nbdpath.env.example
	$(Q)install -D -m 0644 scripts/nbdpath.rules.yml \
		$(DESTDIR)$(DATADIR)/nbdpath.rules.yml

uninstall:
	$(call msg,UNINST,$(DESTDIR)$(PREFIX))
	$(Q)rm -f $(addprefix $(DESTDIR),$(INSTALLED))
	$(Q)rmdir $(DESTDIR)$(DATADIR) 2>/dev/null || true

clean:
	$(call msg,CLEAN,)
	$(Q)rm -rf $(OUT) $(ASAN_OUT) $(FUZZ_OUT) nbdpath

help:
	@echo 'nbdpath targets:'
	@echo '  all (default)  build ./nbdpath (BPF object, skeleton, loader)'
	@echo '  check          install missing packages, build, run every test'
	@echo '  demo           install, build, run the seed lab and show the report'
	@echo '  bench          measure per-packet cost, live rate, replay speed'
	@echo '  soak           run under flow churn, scrapes and queries for SOAK_SECONDS'
	@echo '                 (default 300, root): RSS flat, totals and flow log exact'
	@echo '  install        install binary, man page, bash completion, systemd unit,'
	@echo '                 env example, alerting rules (PREFIX=/usr/local, DESTDIR)'
	@echo '  uninstall      remove what install installed'
	@echo '  fuzz           libFuzzer with ASan/UBSan: each tests/fuzz/fuzz_*.c for'
	@echo '                 FUZZ_SECONDS (default 60) a target, then 10M random frames'
	@echo '                 through the XDP program (check replays the corpora once)'
	@echo '  clean          remove build output'
	@echo 'CFLAGS, CPPFLAGS, LDFLAGS add to the hardened defaults; WERROR=0 keeps warnings warnings.'
	@echo 'V=1 shows the commands.'
