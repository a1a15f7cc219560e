# Casefile: `make` builds build/record and build/report.
#
#   make            build both binaries
#   make test       build, then run every test (root needed for the record tests)
#   make SANITIZE=1 the same with ASan+UBSan, in build-san/
#   make fuzz       fuzz report for FUZZ_SECONDS (libFuzzer, clang; in build-fuzz/)
#   make bench      the performance harness (see README, Performance)
#   make format     clang-format every C file in place
#   make clean

CC      ?= cc
CLANG   ?= clang
BPFTOOL ?= bpftool
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

CFLAGS   ?= -O2 -g
CFLAGS   += -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow -Wformat=2 \
	    -DCASEFILE_VERSION='"$(VERSION)"' -I$(BUILD) -Ibpf -Icommon $(SANFLAGS)
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

BENCH_TOOLS  := $(addprefix $(BUILD)/bench/,churn storm spawn gen inserts)
# report's code with its main() renamed, the fuzzer's harness and starting rows
FUZZ_OBJS    := $(filter-out $(OBJ)/report/commands/main.o,$(REPORT_OBJS)) $(OBJ)/report/main_fuzz.o \
		$(OBJ)/tests/fuzz/report_fuzz.o $(OBJ)/fuzz/base_sql.o $(COMMON_OBJS)

.PHONY: all test bench fuzz format clean
all: $(BUILD)/record $(BUILD)/report $(HELPERS) $(BENCH_TOOLS) $(BUILD)/tests/report-fuzz-replay \
     $(BUILD)/kinds-checked

# vmlinux.h comes from the build host's BTF; CO-RE relocations make the
# programs run on any kernel with BTF, whatever kernel built them.
$(BUILD)/vmlinux.h:
	@mkdir -p $(@D)
	$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $@.tmp && mv $@.tmp $@

$(BUILD)/bpf/%.bpf.o: bpf/%.bpf.c bpf/common.bpf.h bpf/casefile.h bpf/kinds.def $(BUILD)/vmlinux.h
	@mkdir -p $(@D)
	$(CLANG) $(BPFFLAGS) -c $< -o $@

# One object, one skeleton: the tools share the ring buffer and the filters.
$(BUILD)/casefile.bpf.o: $(patsubst bpf/%.c,$(BUILD)/bpf/%.o,$(BPF_SRCS))
	$(BPFTOOL) gen object $@ $^

$(BUILD)/casefile.skel.h: $(BUILD)/casefile.bpf.o
	$(BPFTOOL) gen skeleton $< name casefile_bpf > $@

# $(call embed,NAME): the prerequisite, an SQL file, as the NUL-terminated C string NAME
embed = { echo 'const char $(1)[] = {'; \
	  od -An -v -tx1 $< | sed -e 's/ \([0-9a-f][0-9a-f]\)/0x\1,/g'; \
	  echo '0x00 };'; } > $@

# schema.sql is compiled into both binaries.
$(BUILD)/schema.c: schema.sql
	@mkdir -p $(@D)
	$(call embed,casefile_schema_sql)

$(OBJ)/schema.o: $(BUILD)/schema.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/fuzz/base_sql.c: tests/fuzz/base.sql
	@mkdir -p $(@D)
	$(call embed,fuzz_base_sql)

$(OBJ)/fuzz/base_sql.o: $(BUILD)/fuzz/base_sql.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -c $< -o $@

$(OBJ)/report/main_fuzz.o: report/commands/main.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Dmain=report_main -MMD -MP -c $< -o $@

$(OBJ)/record/%.o: record/%.c $(BUILD)/casefile.skel.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(OBJ)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/record: $(RECORD_OBJS) $(COMMON_OBJS)
	$(CC) $(LDFLAGS) $^ -o $@ -lbpf -lelf -lz -lsqlite3 -lpthread

$(BUILD)/report: $(REPORT_OBJS) $(COMMON_OBJS)
	$(CC) $(LDFLAGS) $^ -o $@ -lsqlite3 -lz

# The fuzzer's inputs replayed without libFuzzer, with this build's sanitizers
# (tests/fuzz.test.sh); and the fuzzer itself (make fuzz).
$(BUILD)/tests/report-fuzz-replay: $(FUZZ_OBJS) $(OBJ)/tests/fuzz/replay_main.o
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) $^ -o $@ -lsqlite3 -lz

$(BUILD)/tests/report-fuzz: $(FUZZ_OBJS)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -fsanitize=fuzzer $^ -o $@ -lsqlite3 -lz

# Test helpers make exact numbers of events: no sanitizer runtime adding its own.
$(BUILD)/tests/%: tests/helpers/%.c
	@mkdir -p $(@D)
	$(CC) $(filter-out $(SANFLAGS),$(CFLAGS)) -fno-omit-frame-pointer $< -o $@ -lpthread

# Libraries the tests preload into record, to fail what a kernel rarely fails.
$(BUILD)/tests/%.so: tests/preload/%.c
	@mkdir -p $(@D)
	$(CC) $(filter-out $(SANFLAGS),$(CFLAGS)) -fPIC -shared $< -o $@ -ldl

$(BUILD)/bench/%: bench/%.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $< -o $@ -lpthread -lsqlite3

# The capture generator writes through the recorder's own code (all but main).
$(BUILD)/bench/gen: $(OBJ)/bench/gen.o $(filter-out %/main.o,$(RECORD_OBJS)) $(COMMON_OBJS)
	$(CC) $(LDFLAGS) $^ -o $@ -lbpf -lelf -lz -lsqlite3

$(OBJ)/bench/gen.o: bench/gen.c $(BUILD)/casefile.skel.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Irecord -MMD -c $< -o $@

# bpf/kinds.def checked against schema.sql, where the compiler cannot (tools/check-kinds.c).
$(BUILD)/kinds-checked: $(BUILD)/tools/check-kinds
	$<
	@touch $@

$(BUILD)/tools/check-kinds: $(OBJ)/tools/check-kinds.o $(OBJ)/record/kinds.o $(OBJ)/schema.o \
			    $(OBJ)/common/util.o
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) $^ -o $@ -lsqlite3

$(OBJ)/tools/check-kinds.o: CFLAGS += -Irecord

test: all
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

bench: all
	BUILD=$(BUILD) bench/run

format:
	clang-format -i $(wildcard bpf/*.[ch] record/*.[ch] report/*/*.[ch] common/*.[ch] tests/helpers/*.c \
		bench/*.c tests/fuzz/*.c)

clean:
	rm -rf build build-san build-fuzz

-include $(wildcard $(OBJ)/*/*.d $(OBJ)/*/*/*.d $(OBJ)/*/*/*/*.d)
