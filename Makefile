# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# portwitness: clang -> .bpf.o -> bpftool gen skeleton -> .skel.h -> binary,
# all under $(OUT). Quiet by default; V=1 prints every command.

OUT ?= build
CC ?= cc
CLANG ?= clang
BPFTOOL ?= $(shell command -v bpftool 2>/dev/null || echo /usr/sbin/bpftool)
PREFIX ?= /usr/local
VERSION := $(shell cat VERSION 2>/dev/null || echo 0.0.0)

ARCH := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/' \
	-e 's/ppc64le/powerpc/' -e 's/s390x/s390/' -e 's/riscv64/riscv/')

CFLAGS ?= -O2 -g
CFLAGS += -Wall -Wextra -Werror -std=gnu11 -D_GNU_SOURCE \
	-DPW_VERSION='"$(VERSION)"' -Iinclude -Iuser -I$(OUT)
LDLIBS += -lbpf -lelf -lz -lyaml -lm
BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -Wall -Werror \
	-Ivmlinux -Iinclude -Ibpf

# What a fresh Debian 12 needs to build, run and test; installed once.
DEB_BUILD := clang llvm libbpf-dev libelf-dev zlib1g-dev libyaml-dev bpftool make gcc
DEB_TEST := libcmocka-dev iproute2 iputils-ping socat jq ethtool procps nftables \
	util-linux prometheus prometheus-node-exporter curl
DEPS_STAMP := $(OUT)/.deps-installed

ifeq ($(V),1)
Q :=
msg :=
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

USER_SRCS := $(filter-out user/main.c,$(wildcard user/*.c))
USER_OBJS := $(patsubst user/%.c,$(OUT)/user/%.o,$(USER_SRCS))
MAIN_OBJ := $(OUT)/user/main.o
BPF_OBJ := $(OUT)/portwitness.bpf.o
BPF_CT_OBJ := $(OUT)/portwitness_ct.bpf.o
# Both skeletons; the _ct programs are an object of their own
# (bpf/portwitness.bpf.c says why).
SKEL := $(OUT)/portwitness.skel.h $(OUT)/portwitness_ct.skel.h
BIN := $(OUT)/portwitness

UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(OUT)/tests/%,$(UNIT_SRCS))
BPF_TEST_BIN := $(OUT)/tests/bpf_test_run
TOOLS := $(OUT)/tests/pw_send

.DELETE_ON_ERROR:
# The skeletons come from a pattern rule: kept, not removed as intermediates.
.SECONDARY: $(SKEL)
.PHONY: all deps run test test-unit test-bpf test-e2e bench vmtest fuzz clean vmlinux install uninstall

all: $(BIN)

# Install what is missing, once per build dir. Without root it can only say
# what to install.
deps: $(DEPS_STAMP)
$(DEPS_STAMP): Makefile
	@missing=$$(for p in $(DEB_BUILD) $(DEB_TEST); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | \
		grep -q '^install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" != 0 ]; then \
			echo "portwitness: missing packages: $$missing"; \
			echo "  install them as root: apt-get install $$missing"; \
			exit 1; \
		fi; \
		echo "  APT      $$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
			apt-get install -y -qq --no-install-recommends $$missing \
			>/dev/null || exit 1; \
		for svc in prometheus prometheus-node-exporter; do \
			case " $$missing " in *" $$svc "*) ;; *) continue ;; esac; \
			[ -d /run/systemd/system ] || continue; \
			echo "  SYSTEMD  disable $$svc (installed only for the tests)"; \
			systemctl disable --now $$svc.service >/dev/null 2>&1 || true; \
		done; \
	fi
	@mkdir -p $(@D) && touch $@

$(OUT)/user $(OUT)/tests:
	$(Q)mkdir -p $@

$(BPF_OBJ): bpf/portwitness.bpf.c $(DEPS_STAMP) | $(OUT)/user
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -MMD -MP -c $< -o $@

$(BPF_CT_OBJ): bpf/portwitness.bpf.c $(DEPS_STAMP) | $(OUT)/user
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -DPW_CT -MMD -MP -c $< -o $@

$(OUT)/%.skel.h: $(OUT)/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $* > $@

$(OUT)/user/%.o: user/%.c $(SKEL) | $(OUT)/user
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(BIN): $(USER_OBJS) $(MAIN_OBJ)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $(filter %.o,$^) $(LDLIBS) -o $@

# The default-route interface of the namespace it runs in.
RUN_IFACE ?= $(shell ip -o route show default 2>/dev/null | \
	awk '{for (i = 1; i < NF; i++) if ($$i == "dev") { print $$(i+1); exit }}')
RUN_ARGS ?= -p plugnmeet -p snikket --duration 30

run: $(BIN)
	@[ -n "$(RUN_IFACE)" ] || { echo "make run: no default route here; set RUN_IFACE=IFACE"; exit 3; }
	$(BIN) verify -i $(RUN_IFACE) $(RUN_ARGS)

$(OUT)/tests/test_%: tests/unit/test_%.c $(USER_OBJS) | $(OUT)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -Wno-unused-parameter -MMD -MP $(filter %.c %.o,$^) $(LDLIBS) -lcmocka -pthread -o $@

$(BPF_TEST_BIN): tests/bpf/bpf_test_run.c tests/bpf/pw_frames.h $(USER_OBJS) | $(OUT)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -Itests/bpf -MMD -MP $(filter %.c %.o,$^) $(LDLIBS) -lcmocka -o $@

$(OUT)/tests/pw_send: tests/e2e/pw_send.c | $(OUT)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -MMD -MP $< -o $@

test: $(BIN) $(UNIT_BINS) $(BPF_TEST_BIN) $(TOOLS)
	@OUT=$(OUT) tests/run.sh

test-unit: $(UNIT_BINS)
	@OUT=$(OUT) tests/run.sh unit
test-bpf: $(BPF_TEST_BIN)
	@OUT=$(OUT) tests/run.sh bpf
test-e2e: $(BIN) $(TOOLS)
	@OUT=$(OUT) tests/run.sh e2e

# make bench: per-packet cost against reference programs, userspace cost,
# memory (tests/bench/run.sh; root; its own namespaces only).
BENCH := $(OUT)/bench
$(BENCH):
	$(Q)mkdir -p $@
$(BENCH)/ref.bpf.o: tests/bench/ref.bpf.c $(DEPS_STAMP) | $(BENCH)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -MMD -MP -c $< -o $@
$(BENCH)/ref.skel.h: $(BENCH)/ref.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name ref > $@
$(BENCH)/bench_bpf: tests/bench/bench_bpf.c tests/bpf/pw_frames.h $(USER_OBJS) $(BENCH)/ref.skel.h
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -Itests/bpf -I$(BENCH) -MMD -MP $(filter %.c %.o,$^) $(LDLIBS) -o $@
$(BENCH)/bench_user: tests/bench/bench_user.c $(USER_OBJS) | $(BENCH)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -MMD -MP $(filter %.c %.o,$^) $(LDLIBS) -o $@
$(BENCH)/wire_gen: tests/bench/wire_gen.c | $(BENCH)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -MMD -MP $< -o $@
$(BENCH)/wire_sink: tests/bench/wire_sink.c | $(BENCH)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -MMD -MP $< -o $@
$(BENCH)/wire_ref: tests/bench/wire_ref.c $(BENCH)/ref.skel.h
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -I$(BENCH) -MMD -MP $< $(LDLIBS) -o $@
# Installs the packages of $(1) that are missing (after $(DEPS_STAMP), so
# apt's lists are fresh).
define apt_missing
	@missing=$$(for p in $(1); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | \
		grep -q '^install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "  APT      $$missing"; \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			--no-install-recommends $$missing >/dev/null || exit 1; \
	fi
	@touch $@
endef
# What only the bench uses: tcpdump, the observer it is compared with.
DEB_BENCH := tcpdump
BENCH_DEPS_STAMP := $(OUT)/.bench-deps-installed
$(BENCH_DEPS_STAMP): Makefile | $(DEPS_STAMP)
	$(call apt_missing,$(DEB_BENCH))
bench: $(BIN) $(BENCH)/bench_bpf $(BENCH)/bench_user $(BENCH)/wire_gen $(BENCH)/wire_sink \
       $(BENCH)/wire_ref $(BENCH_DEPS_STAMP)
	@OUT=$(OUT) tests/bench/run.sh

# make vmtest [KERNELS="6.1 6.12 5.10"]: Debian's own kernel packages
# booted under qemu, each running the load check, bpf_test_run and the e2e
# tests (tests/vmtest/run.sh; root; kernels cached under $(OUT)/vmtest).
DEB_VMTEST := qemu-system-x86 busybox-static kmod xz-utils zstd cpio
VMTEST_DEPS_STAMP := $(OUT)/.vmtest-deps-installed
$(VMTEST_DEPS_STAMP): Makefile | $(DEPS_STAMP)
	$(call apt_missing,$(DEB_VMTEST))
vmtest: $(BIN) $(BPF_TEST_BIN) $(TOOLS) $(VMTEST_DEPS_STAMP)
	@OUT=$(OUT) $(if $(KERNELS),KERNELS="$(KERNELS)") tests/vmtest/run.sh

# The declaration parsers under libFuzzer, ASan and UBSan, for FUZZ_SECONDS
# (clang's fuzzer runtime: libclang-rt-14-dev). Not part of 'make test'.
FUZZ_SECONDS ?= 120
$(OUT)/fuzz_decl: tests/fuzz/fuzz_decl.c user/decl.c user/profiles.c user/services.c | $(OUT)/tests
	$(call msg,FUZZ-CC,$@)
	$(Q)$(CLANG) -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude -Iuser $(filter %.c,$^) -lyaml -o $@
fuzz: $(OUT)/fuzz_decl
	@mkdir -p $(OUT)/fuzz-corpus
	$(OUT)/fuzz_decl -max_total_time=$(FUZZ_SECONDS) -max_len=4096 \
		-artifact_prefix=$(OUT)/ $(OUT)/fuzz-corpus tests/fuzz/corpus

# Regenerate the committed vmlinux.h from this kernel's BTF.
vmlinux: $(DEPS_STAMP)
	$(call msg,GEN,vmlinux/vmlinux.h)
	$(Q)$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > vmlinux/vmlinux.h

# make install [PREFIX=/usr/local] [DESTDIR=]: the binary, portwitness(8),
# the unit portwitness@.service (systemd also reads /usr/local/lib/systemd)
# and an example conf. make uninstall removes exactly these.
SBINDIR ?= $(PREFIX)/sbin
MANDIR ?= $(PREFIX)/share/man
UNITDIR ?= $(PREFIX)/lib/systemd/system
DOCDIR ?= $(PREFIX)/share/doc/portwitness
INSTALLED := $(SBINDIR)/portwitness $(MANDIR)/man8/portwitness.8 \
	$(UNITDIR)/portwitness@.service $(DOCDIR)/example.conf
$(OUT)/portwitness@.service: docs/portwitness@.service.in Makefile | $(OUT)/user
	$(call msg,GEN,$@)
	$(Q)sed 's|@SBINDIR@|$(SBINDIR)|g' $< > $@
install: $(BIN) $(OUT)/portwitness@.service
	install -D -m 0755 $(BIN) $(DESTDIR)$(SBINDIR)/portwitness
	install -D -m 0644 docs/portwitness.8 $(DESTDIR)$(MANDIR)/man8/portwitness.8
	install -D -m 0644 $(OUT)/portwitness@.service $(DESTDIR)$(UNITDIR)/portwitness@.service
	install -D -m 0644 docs/example.conf $(DESTDIR)$(DOCDIR)/example.conf
	@[ -n "$(DESTDIR)" ] || ! command -v systemctl >/dev/null || \
		systemctl daemon-reload 2>/dev/null || true
uninstall:
	rm -f $(addprefix $(DESTDIR),$(INSTALLED))
	-rmdir $(DESTDIR)$(DOCDIR) 2>/dev/null
	@[ -n "$(DESTDIR)" ] || ! command -v systemctl >/dev/null || \
		systemctl daemon-reload 2>/dev/null || true

clean:
	$(call msg,CLEAN,$(OUT))
	$(Q)rm -rf $(OUT)

-include $(wildcard $(OUT)/*.d $(OUT)/user/*.d $(OUT)/tests/*.d $(OUT)/bench/*.d)
