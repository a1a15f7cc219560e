# Casefile: `make` builds build/record and build/report.
#
#   make            build both binaries
#   make test       build, then run every test (root needed for the record tests)
#   make SANITIZE=1 the same with ASan+UBSan, in build-san/
#   make bench      the performance harness (see README, Performance)
#   make format     clang-format every C file in place
#   make clean

CC      ?= cc
CLANG   ?= clang
BPFTOOL ?= bpftool
ARCH    := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
VERSION := $(shell cat VERSION)

ifeq ($(SANITIZE),1)
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
REPORT_OBJS  := $(patsubst %.c,$(OBJ)/%.o,$(wildcard report/*.c))
HELPERS      := $(patsubst tests/helpers/%.c,$(BUILD)/tests/%,$(wildcard tests/helpers/*.c))
BENCH_TOOLS  := $(addprefix $(BUILD)/bench/,churn storm spawn gen inserts)

.PHONY: all test bench format clean
all: $(BUILD)/record $(BUILD)/report $(HELPERS) $(BENCH_TOOLS)

# vmlinux.h comes from the build host's BTF; CO-RE relocations make the
# programs run on any kernel with BTF, whatever kernel built them.
$(BUILD)/vmlinux.h:
	@mkdir -p $(@D)
	$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $@.tmp && mv $@.tmp $@

$(BUILD)/bpf/%.bpf.o: bpf/%.bpf.c bpf/common.bpf.h bpf/casefile.h $(BUILD)/vmlinux.h
	@mkdir -p $(@D)
	$(CLANG) $(BPFFLAGS) -c $< -o $@

# One object, one skeleton: the tools share the ring buffer and the filters.
$(BUILD)/casefile.bpf.o: $(patsubst bpf/%.c,$(BUILD)/bpf/%.o,$(BPF_SRCS))
	$(BPFTOOL) gen object $@ $^

$(BUILD)/casefile.skel.h: $(BUILD)/casefile.bpf.o
	$(BPFTOOL) gen skeleton $< name casefile_bpf > $@

# schema.sql is compiled into both binaries as a NUL-terminated string.
$(BUILD)/schema.c: schema.sql
	@mkdir -p $(@D)
	{ echo 'const char casefile_schema_sql[] = {'; \
	  od -An -v -tx1 $< | sed -e 's/ \([0-9a-f][0-9a-f]\)/0x\1,/g'; \
	  echo '0x00 };'; } > $@

$(OBJ)/schema.o: $(BUILD)/schema.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -c $< -o $@

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

# Test helpers make exact numbers of events: no sanitizer runtime adding its own.
$(BUILD)/tests/%: tests/helpers/%.c
	@mkdir -p $(@D)
	$(CC) $(filter-out $(SANFLAGS),$(CFLAGS)) -fno-omit-frame-pointer $< -o $@ -lpthread

$(BUILD)/bench/%: bench/%.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $< -o $@ -lpthread -lsqlite3

# The capture generator writes through the recorder's own code (all but main).
$(BUILD)/bench/gen: $(OBJ)/bench/gen.o $(filter-out %/main.o,$(RECORD_OBJS)) $(COMMON_OBJS)
	$(CC) $(LDFLAGS) $^ -o $@ -lbpf -lelf -lz -lsqlite3

$(OBJ)/bench/gen.o: bench/gen.c $(BUILD)/casefile.skel.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Irecord -MMD -c $< -o $@

test: all
	BUILD=$(BUILD) tests/run

bench: all
	BUILD=$(BUILD) bench/run

format:
	clang-format -i $(wildcard bpf/*.[ch] record/*.[ch] report/*.[ch] common/*.[ch] tests/helpers/*.c \
		bench/*.c)

clean:
	rm -rf build build-san

-include $(wildcard $(OBJ)/*/*.d)
