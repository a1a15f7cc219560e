# Casefile: `make` builds build/record and build/report.
#
#   make            build both binaries
#   make test       build, then run every test (root needed for the record tests)
#   make SANITIZE=1 the same with ASan+UBSan, in build-san/
#   make fuzz       fuzz report for FUZZ_SECONDS (libFuzzer, clang; in build-fuzz/)
#   make fuzz-elf   the same for record's ELF and /proc maps parsers
#   make bench      the performance harness (README, Performance; bench/RESULTS.md)
#   make bench-big  every report command over 100M events against 10M (3.3 GB of disk)
#   make bench-clickhouse  a fleet's detections on ClickHouse against report's
#                   (FLEET="HOSTS EVENTS", default 100 captures of 1M events)
#   make install    record to $(PREFIX)/sbin, report to $(PREFIX)/bin, their man
#                   pages (PREFIX=/usr/local; DESTDIR for a staging root)
#   make static     record, report and the boots' helpers as static binaries, in build-static/
#   make test-kernels  boot Debian's 6.1 and 6.12 kernels under qemu and record in them
#   make format     clang-format every C file in place
#   make lint       clang-format, shellcheck, report's layers, clang's warnings (scripts/lint)
#   make clean
#
#   V=1             show the commands, not one short line per step
#   VMLINUX_BTF=F   build the BPF programs against the BTF file F (another
#                   kernel's, or for a build host without /sys/kernel/btf)

CC      ?= cc
CLANG   ?= clang
BPFTOOL ?= bpftool
PKG_CONFIG ?= pkg-config
VMLINUX_BTF ?= /sys/kernel/btf/vmlinux
PREFIX  ?= /usr/local
ARCH    := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
VERSION := $(shell cat VERSION)

ifeq ($(FUZZ),1)
BUILD   ?= build-fuzz
CC      := $(CLANG)
SANFLAGS := -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all \
	    -fno-omit-frame-pointer
else ifeq ($(SANITIZE),1)
BUILD   ?= build-san
SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
else
BUILD   ?= build
endif

# libbpf as pkg-config describes it; plain -lbpf where pkg-config is missing
LIBBPF_CFLAGS := $(shell $(PKG_CONFIG) --cflags libbpf 2> /dev/null)
LIBBPF_LIBS   := $(shell $(PKG_CONFIG) --libs libbpf 2> /dev/null || echo -lbpf)
REPORT_SQLITE := -Wl,-Bstatic -lsqlite3 -Wl,-Bdynamic -lm

CFLAGS   ?= -O2 -g
CFLAGS   += -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow -Wformat=2 \
	    -DCASEFILE_VERSION='"$(VERSION)"' -I$(BUILD) -Ibpf -Icommon $(LIBBPF_CFLAGS) $(SANFLAGS)
LDFLAGS  += $(SANFLAGS)
BPFFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -Wall -Werror -I$(BUILD) -Ibpf

BPF_SRCS     := $(wildcard bpf/*.bpf.c)
OBJ          := $(BUILD)/obj
COMMON_OBJS  := $(patsubst %.c,$(OBJ)/%.o,$(wildcard common/*.c)) $(OBJ)/schema.o
RECORD_OBJS  := $(patsubst %.c,$(OBJ)/%.o,$(wildcard record/*.c))
# report/ in layers: commands/ use analyses/, both use engine/ (see README).
REPORT_DIRS  := report/commands report/analyses report/engine
REPORT_OBJS  := $(patsubst %.c,$(OBJ)/%.o,$(foreach d,$(REPORT_DIRS),$(wildcard $(d)/*.c)))
HELPERS      := $(patsubst tests/helpers/%.c,$(BUILD)/tests/%,$(wildcard tests/helpers/*.c)) \
		$(patsubst tests/preload/%.c,$(BUILD)/tests/%.so,$(wildcard tests/preload/*.c))
# A report file includes the headers of its own layer and those below it.
$(OBJ)/report/%.o: CFLAGS += $(addprefix -I,$(REPORT_DIRS))
# report's printf-like functions must say so, so that -Wformat=2 checks their
# callers: no format can come from a capture or a command line.
$(OBJ)/report/%.o: CFLAGS += -Wmissing-format-attribute

BENCH_TOOLS  := $(addprefix $(BUILD)/bench/,churn storm spawn gen inserts)
# report's code with its main() renamed, the fuzzer's harness and starting rows
FUZZ_OBJS    := $(filter-out $(OBJ)/report/commands/main.o,$(REPORT_OBJS)) $(OBJ)/report/main_fuzz.o \
		$(OBJ)/tests/fuzz/report_fuzz.o $(OBJ)/fuzz/base_sql.o $(COMMON_OBJS)

# Quiet: a short line per step ("CC build/obj/record/main.o"); V=1 shows the
# commands instead, make -s neither.
ifeq ($(V),1)
Q   :=
msg :=
else
Q   := @
ifneq ($(findstring s,$(firstword -$(filter-out --%,$(MAKEFLAGS)))),)
msg :=
else
msg = @printf '  %-8s %s\n' '$(1)' '$(2)';
endif
endif

# record's parsers of what the host's processes shape (ELF, /proc maps), alone
ELF_FUZZ_OBJS := $(OBJ)/tests/fuzz/elf_fuzz.o $(OBJ)/record/elfparse.o $(OBJ)/common/util.o

# A target its recipe failed on is deleted, not trusted by the next make
# (a skeleton bpftool died writing, cut short).
.DELETE_ON_ERROR:

.PHONY: all test bench bench-big bench-clickhouse fuzz fuzz-elf format lint check-clang install clean
all: $(BUILD)/record $(BUILD)/report $(HELPERS) $(BENCH_TOOLS) $(BUILD)/tests/report-fuzz-replay \
     $(BUILD)/tests/elf-fuzz-replay $(BUILD)/kinds-checked

# vmlinux.h comes from the build host's BTF, or VMLINUX_BTF's; CO-RE
# relocations make the programs run on any kernel with BTF, whatever kernel
# built them.
$(BUILD)/vmlinux.h: $(VMLINUX_BTF)
	@mkdir -p $(@D)
	$(call msg,GEN,$@)
	$(Q)$(BPFTOOL) btf dump file $(VMLINUX_BTF) format c > $@

$(BUILD)/bpf/%.bpf.o: bpf/%.bpf.c bpf/common.bpf.h bpf/casefile.h bpf/kinds.def $(BUILD)/vmlinux.h
	@mkdir -p $(@D)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPFFLAGS) -c $< -o $@

# One object, one skeleton: the tools share the ring buffer and the filters.
$(BUILD)/casefile.bpf.o: $(patsubst bpf/%.c,$(BUILD)/bpf/%.o,$(BPF_SRCS))
	$(call msg,GEN-OBJ,$@)
	$(Q)$(BPFTOOL) gen object $@ $^

$(BUILD)/casefile.skel.h: $(BUILD)/casefile.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name casefile_bpf > $@

# $(call embed,NAME): the prerequisite, an SQL file, as the NUL-terminated C string NAME
embed = $(Q){ echo 'const char $(1)[] = {'; \
	  od -An -v -tx1 $< | sed -e 's/ \([0-9a-f][0-9a-f]\)/0x\1,/g'; \
	  echo '0x00 };'; } > $@

# schema.sql is compiled into both binaries.
$(BUILD)/schema.c: schema.sql
	@mkdir -p $(@D)
	$(call msg,EMBED,$@)
	$(call embed,casefile_schema_sql)

$(OBJ)/schema.o: $(BUILD)/schema.c
	@mkdir -p $(@D)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/fuzz/base_sql.c: tests/fuzz/base.sql
	@mkdir -p $(@D)
	$(call msg,EMBED,$@)
	$(call embed,fuzz_base_sql)

$(OBJ)/fuzz/base_sql.o: $(BUILD)/fuzz/base_sql.c
	@mkdir -p $(@D)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(OBJ)/report/main_fuzz.o: report/commands/main.c
	@mkdir -p $(@D)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -Dmain=report_main -MMD -MP -c $< -o $@

$(OBJ)/record/%.o: record/%.c $(BUILD)/casefile.skel.h
	@mkdir -p $(@D)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(OBJ)/%.o: %.c
	@mkdir -p $(@D)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/record: $(RECORD_OBJS) $(COMMON_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) $^ -o $@ $(LIBBPF_LIBS) -lelf -lz -lsqlite3 -lpthread $(LDLIBS)

# report links SQLite's static library: Debian builds it without -fPIC, and
# calls into it need no PLT; the readers' decoding is most of a long report
# (tcplife over 10M events: a seventh less CPU).
$(BUILD)/report: $(REPORT_OBJS) $(COMMON_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) $^ -o $@ $(REPORT_SQLITE) -luring -lz $(LDLIBS)

# The fuzzer's inputs replayed without libFuzzer, with this build's sanitizers
# (tests/fuzz.test.sh); and the fuzzer itself (make fuzz).
$(BUILD)/tests/report-fuzz-replay: $(FUZZ_OBJS) $(OBJ)/tests/fuzz/replay_main.o
	@mkdir -p $(@D)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) $^ -o $@ -lsqlite3 -luring -lz

$(BUILD)/tests/report-fuzz: $(FUZZ_OBJS)
	@mkdir -p $(@D)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) -fsanitize=fuzzer $^ -o $@ -lsqlite3 -luring -lz

$(BUILD)/tests/elf-fuzz-replay: $(ELF_FUZZ_OBJS) $(OBJ)/tests/fuzz/replay_main.o
	@mkdir -p $(@D)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) $^ -o $@ -lelf

$(BUILD)/tests/elf-fuzz: $(ELF_FUZZ_OBJS)
	@mkdir -p $(@D)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) -fsanitize=fuzzer $^ -o $@ -lelf

$(OBJ)/tests/fuzz/elf_fuzz.o: CFLAGS += -Irecord

# Test helpers make exact numbers of events: no sanitizer runtime adding its own.
$(BUILD)/tests/%: tests/helpers/%.c
	@mkdir -p $(@D)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(filter-out $(SANFLAGS),$(CFLAGS)) -fno-omit-frame-pointer $< -o $@ -lpthread $(HELPER_LIBS)

$(BUILD)/tests/traffic: HELPER_LIBS := -luring

# Libraries the tests preload into record, to fail what a kernel rarely fails.
$(BUILD)/tests/%.so: tests/preload/%.c
	@mkdir -p $(@D)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(filter-out $(SANFLAGS),$(CFLAGS)) -fPIC -shared $< -o $@ -ldl

$(BUILD)/bench/%: bench/%.c
	@mkdir -p $(@D)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $< -o $@ -lpthread -lsqlite3

# The capture generator writes through the recorder's own code (all but main).
$(BUILD)/bench/gen: $(OBJ)/bench/gen.o $(filter-out %/main.o,$(RECORD_OBJS)) $(COMMON_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) $^ -o $@ $(LIBBPF_LIBS) -lelf -lz -lsqlite3

$(OBJ)/bench/gen.o: bench/gen.c $(BUILD)/casefile.skel.h
	@mkdir -p $(@D)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -Irecord -MMD -c $< -o $@

# bpf/kinds.def checked against schema.sql, where the compiler cannot (tools/check-kinds.c).
$(BUILD)/kinds-checked: $(BUILD)/tools/check-kinds
	$(call msg,CHECK,bpf/kinds.def)
	$(Q)$<
	@touch $@

$(BUILD)/tools/check-kinds: $(OBJ)/tools/check-kinds.o $(OBJ)/record/kinds.o $(OBJ)/schema.o \
			    $(OBJ)/common/util.o
	@mkdir -p $(@D)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) $^ -o $@ -lsqlite3

$(OBJ)/tools/check-kinds.o: CFLAGS += -Irecord

test: all static
	BUILD=$(BUILD) tests/run

# Fuzz report (tests/fuzz/report_fuzz.c) for FUZZ_SECONDS, growing the corpus
# in build-fuzz/corpus; what crashes lands in build-fuzz/crashes/ (replay it:
# build-fuzz/tests/report-fuzz FILE, FUZZ_VERBOSE=1 to see report's stderr).
# Keep each crash in tests/fuzz-regressions/ once fixed.
FUZZ_SECONDS ?= 180
FUZZ_ARGS    ?=
fuzz:
	$(MAKE) FUZZ=1 build-fuzz/tests/report-fuzz
	@mkdir -p build-fuzz/corpus build-fuzz/crashes
	build-fuzz/tests/report-fuzz -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=2048 \
		-dict=tests/fuzz/report.dict -artifact_prefix=$(CURDIR)/build-fuzz/crashes/ \
		-print_final_stats=1 $(FUZZ_ARGS) build-fuzz/corpus tests/fuzz-regressions tests/fuzz/seeds

# The same for record's ELF and /proc maps parsers (tests/fuzz/elf_fuzz.c).
fuzz-elf:
	$(MAKE) FUZZ=1 build-fuzz/tests/elf-fuzz
	@mkdir -p build-fuzz/elf-corpus build-fuzz/crashes
	build-fuzz/tests/elf-fuzz -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=2048 \
		-artifact_prefix=$(CURDIR)/build-fuzz/crashes/ -print_final_stats=1 $(FUZZ_ARGS) \
		build-fuzz/elf-corpus tests/fuzz/elf-seeds

bench: all
	BUILD=$(BUILD) bench/run

bench-big: all
	BUILD=$(BUILD) bench/run big

bench-clickhouse: all
	BUILD=$(BUILD) bench/clickhouse $(FLEET)

# --- Static binaries and kernel boots ---------------------------------------------
# make static: record, report and the test helpers linked statically into
# build-static/: one file each to carry to a host that has none of our
# libraries (Debian ships libbpf.a, libelf.a, libz.a, libsqlite3.a).  ld warns
# that sqlite's extension loader calls dlopen: no extension is ever loaded.
STATIC_BUILD := build-static
# the helpers the workload of the kernel boots runs (tests/kernels/init)
KERNEL_HELPERS := traffic capcheck dnsanswer
.PHONY: static test-kernels
static:
	$(Q)$(MAKE) --no-print-directory SANITIZE= FUZZ= STATIC=1 BUILD=$(STATIC_BUILD) $(addprefix $(STATIC_BUILD)/,record report) \
		$(addprefix $(STATIC_BUILD)/tests/,$(KERNEL_HELPERS))
ifeq ($(STATIC),1)
LDFLAGS += -static
LDLIBS  += -lm
REPORT_SQLITE := -lsqlite3
$(BUILD)/tests/%: CFLAGS += -static
endif

# Boot Debian's kernels under qemu with the static binaries (tests/kernels/).
test-kernels: static
	tests/run tests/kernels.test.sh

format:
	clang-format -i $(shell find bpf common record report bench tests tools -name '*.[ch]')

lint:
	scripts/lint

# report's sources and the fuzzer's harness as clang sees them, with the
# build's warnings (make fuzz builds them with clang, whose warnings are not
# gcc's): syntax only, no objects (scripts/lint clang).
CLANG_CHECKED := $(foreach d,$(REPORT_DIRS),$(wildcard $(d)/*.c)) $(wildcard common/*.c) \
		 tests/fuzz/report_fuzz.c
check-clang:
	$(Q)printf '%s\n' $(CLANG_CHECKED) | xargs -P2 -n8 $(CLANG) -fsyntax-only \
		$(filter-out $(SANFLAGS),$(CFLAGS)) $(addprefix -I,$(REPORT_DIRS))

# $(call install_file,MODE,FILE,DIRECTORY)
install_file = install -D -m $(1) $(2) $(DESTDIR)$(PREFIX)/$(3)/$(notdir $(2))

install: $(BUILD)/record $(BUILD)/report
	$(call install_file,0755,$(BUILD)/record,sbin)
	$(call install_file,0755,$(BUILD)/report,bin)
	$(call install_file,0644,man/record.8,share/man/man8)
	$(call install_file,0644,man/report.1,share/man/man1)

clean:
	rm -rf build build-san build-fuzz build-static

-include $(wildcard $(OBJ)/*/*.d $(OBJ)/*/*/*.d $(OBJ)/*/*/*/*.d)
