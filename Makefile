# SPDX-License-Identifier: GPL-2.0
# nbdpath build. `make help` lists the targets; V=1 shows the commands.

OUT		:= .build
ARCH_INC	:= /usr/include/$(shell gcc -dumpmachine)
CLANG		?= clang
BPFTOOL		?= bpftool
CC		?= gcc

CFLAGS		?= -O2 -g
CFLAGS		+= -Wall -Wextra -Werror -std=gnu11 -Iinclude -I$(OUT) -Iuser
BPF_CFLAGS	:= -O2 -g -target bpf -Wall -Wextra -Werror \
		   -Iinclude -Ibpf -I$(ARCH_INC)
LDLIBS		:= -lbpf -lelf -lz -lpcap -lm

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
.PHONY: all deps check demo bench clean help

BPF_SRCS	:= $(wildcard bpf/*.bpf.c)
BPF_HDRS	:= $(wildcard bpf/*.h) $(wildcard include/*.h)
BPF_OBJS	:= $(patsubst bpf/%.bpf.c,$(OUT)/%.bpf.o,$(BPF_SRCS))
SKELS		:= $(patsubst bpf/%.bpf.c,$(OUT)/%.skel.h,$(BPF_SRCS))

USER_SRCS	:= $(wildcard user/*.c)
USER_OBJS	:= $(patsubst user/%.c,$(OUT)/user/%.o,$(USER_SRCS))
# everything but main() is shared with the test programs
USER_LIB_OBJS	:= $(filter-out $(OUT)/user/main.o,$(USER_OBJS))
USER_HDRS	:= $(wildcard user/*.h) $(wildcard include/*.h)

TEST_PROGS	:= $(OUT)/test_progs
TEST_SRCS	:= tests/test_progs.c $(wildcard tests/prog_tests/*.c)
TEST_TOOLS	:= $(OUT)/nbdtraffic $(OUT)/mkpcap
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

$(OUT)/%.skel.h: $(OUT)/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< > $@

$(OUT)/user/%.o: user/%.c $(USER_HDRS) $(SKELS) | $(OUT)/user
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

nbdpath: $(USER_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $^ -o $@ $(LDLIBS)

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

$(TEST_PROGS): $(TEST_SRCS) $(TEST_INC) tests/test_progs.h tests/frames.h $(USER_LIB_OBJS) $(SKELS) $(USER_HDRS)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -Itests $(TEST_SRCS) $(USER_LIB_OBJS) -o $@ $(LDLIBS)

$(BENCH): tests/bench.c tests/frames.h $(USER_LIB_OBJS) $(SKELS) $(USER_HDRS)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -Itests $< $(USER_LIB_OBJS) -o $@ $(LDLIBS)

# its sources side by side, so that its own "nbdpath.h" is the one found
$(BASE_OBJ): FORCE | $(OUT)
	$(call msg,BPF,$@ ($(BENCH_BASE)))
	$(Q)mkdir -p $(OUT)/base
	$(Q)for f in $(BASE_SRCS); do \
		git show $(BENCH_BASE):$$f > $(OUT)/base/$$(basename $$f) || exit 1; \
	done
	$(Q)$(CLANG) -O2 -g -target bpf -Wall -Wextra -Werror -I$(ARCH_INC) \
		-c $(OUT)/base/nbdpath.bpf.c -o $@

$(OUT)/%: tests/%.c | $(OUT)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $< -o $@ $(LDLIBS)

deps:
	$(Q)scripts/deps.sh

# deps first (and alone): the build needs clang and bpftool.
check: deps
	$(Q)$(MAKE) --no-print-directory all $(TEST_PROGS) $(TEST_TOOLS)
	$(Q)tests/run.sh

demo: deps
	$(Q)$(MAKE) --no-print-directory all $(TEST_TOOLS)
	$(Q)scripts/demo.sh

bench: deps
	$(Q)$(MAKE) --no-print-directory all $(TEST_PROGS) $(TEST_TOOLS) $(BENCH) $(BASE_OBJ)
	$(Q)scripts/bench.sh

clean:
	$(call msg,CLEAN,)
	$(Q)rm -rf $(OUT) nbdpath

help:
	@echo 'nbdpath targets:'
	@echo '  all (default)  build ./nbdpath (BPF object, skeleton, loader)'
	@echo '  check          install missing packages, build, run every test'
	@echo '  demo           install, build, run the seed lab and show the report'
	@echo '  bench          measure per-packet cost, live rate, replay speed'
	@echo '  clean          remove build output'
	@echo 'V=1 shows the commands.'
