# dkms-boot: see README.md.  `make` builds the static agent, `make check`
# installs what the tests need and runs every test, `make demo` shows the
# main job, `make bench` measures against dkms.

VERSION := $(shell cat VERSION 2>/dev/null || echo 0.0.0)
BUILD ?= build
KMOD := $(BUILD)/kmod

CC ?= cc
CLANG ?= clang
WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	-Wno-unused-parameter
COMMON := -std=gnu11 -D_GNU_SOURCE -DDKMS_BOOT_VERSION='"$(VERSION)"' $(WARN) -Iagent

# The boot binary: static, small, only what the boot path references.
STATIC_CFLAGS := $(COMMON) -Os -ffunction-sections -fdata-sections -I$(KMOD)/include
STATIC_LDFLAGS := -static -Wl,--gc-sections -s
STATIC_LIBS := $(KMOD)/lib/libkmod.a -lblkid -lzstd -llzma -lz -lmd

# The test build: dynamic (LD_PRELOAD shims reach it), ASan + UBSan.
SAN := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
TEST_CFLAGS := $(COMMON) -O1 -g $(SAN) -DDKMS_BOOT_TEST_BUILD
TEST_LDFLAGS := $(SAN)
TEST_LIBS := -lkmod -lblkid -lzstd -llzma -lz -lmd

# agent/ is laid out by layer (docs/design.md); every folder is built by
# the same pattern rules and nothing is listed by hand.
LAYERS := lib conf module dkms build cache boot cmd
AGENT_SRCS := $(sort $(wildcard $(LAYERS:%=agent/%/*.c)))
LIB_SRCS := $(filter-out agent/cmd/main.c,$(AGENT_SRCS))
HDRS := $(wildcard $(LAYERS:%=agent/%/*.h))
C_FILES = $(AGENT_SRCS) $(HDRS) $(wildcard tests/unit/*.[ch] tests/fuzz/*.c tests/shim/*.c)

STATIC_OBJS := $(AGENT_SRCS:agent/%.c=$(BUILD)/static/%.o)
TEST_OBJS := $(AGENT_SRCS:agent/%.c=$(BUILD)/test/%.o)
TEST_LIB_OBJS := $(LIB_SRCS:agent/%.c=$(BUILD)/test/%.o)

UNIT_SRCS := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/test/unit/%)
FUZZ_SRCS := $(sort $(wildcard tests/fuzz/fuzz_*.c))
REPLAY_BINS := $(FUZZ_SRCS:tests/fuzz/%.c=$(BUILD)/test/replay/%)
FUZZ_BINS := $(FUZZ_SRCS:tests/fuzz/%.c=$(BUILD)/fuzz/%)

.PHONY: all deps check unit bench demo fuzz format format-check clean test-build

all: $(BUILD)/dkms-boot

deps:
	@scripts/install-deps.sh all

$(KMOD)/lib/libkmod.a:
	@scripts/build-libkmod.sh $(KMOD)

# V=1 shows whole command lines.
Q := $(if $(V),,@)
say = $(if $(V),,@echo "  $(1) $(2)")

$(BUILD)/static/%.o: agent/%.c $(HDRS) $(KMOD)/lib/libkmod.a
	@mkdir -p $(@D)
	$(call say,CC,$@)
	$(Q)$(CC) $(STATIC_CFLAGS) -c -o $@ $<

$(BUILD)/dkms-boot: $(STATIC_OBJS)
	$(call say,LD,$@)
	$(Q)$(CC) $(STATIC_CFLAGS) $(STATIC_LDFLAGS) -o $@ $^ $(STATIC_LIBS)

$(BUILD)/test/%.o: agent/%.c $(HDRS)
	@mkdir -p $(@D)
	$(call say,CC,$@)
	$(Q)$(CC) $(TEST_CFLAGS) -c -o $@ $<

$(BUILD)/test/dkms-boot: $(TEST_OBJS)
	$(call say,LD,$@)
	$(Q)$(CC) $(TEST_LDFLAGS) -o $@ $^ $(TEST_LIBS)

$(BUILD)/test/unit/%: tests/unit/%.c $(TEST_LIB_OBJS) tests/unit/unit.h
	@mkdir -p $(@D)
	$(call say,LD,$@)
	$(Q)$(CC) $(TEST_CFLAGS) -Itests/unit -o $@ $< $(TEST_LIB_OBJS) $(TEST_LDFLAGS) $(TEST_LIBS) -lcmocka

# Each fuzz target is also built as a plain program that replays its
# corpus, so `make check` runs every saved input under the sanitizers.
$(BUILD)/test/replay/%: tests/fuzz/%.c tests/fuzz/replay.c $(TEST_LIB_OBJS)
	@mkdir -p $(@D)
	$(call say,LD,$@)
	$(Q)$(CC) $(TEST_CFLAGS) -o $@ $< tests/fuzz/replay.c $(TEST_LIB_OBJS) $(TEST_LDFLAGS) $(TEST_LIBS)

$(BUILD)/fuzz/%: tests/fuzz/%.c $(LIB_SRCS) $(HDRS)
	@mkdir -p $(@D)
	$(CLANG) $(COMMON) -O1 -g -fsanitize=fuzzer,address,undefined -o $@ $< $(LIB_SRCS) $(TEST_LIBS)

# The LD_PRELOAD stand-in for the kernel's module calls (unit tests).
SHIM_SO := $(BUILD)/test/shim/kmod_shim.so
$(SHIM_SO): tests/shim/kmod_shim.c
	@mkdir -p $(@D)
	$(call say,LD,$@)
	$(Q)$(CC) -std=gnu11 -D_GNU_SOURCE $(WARN) -Wno-format-truncation -O1 -g -fPIC -shared -o $@ $< -ldl

test-build: $(BUILD)/dkms-boot $(BUILD)/test/dkms-boot $(UNIT_BINS) $(REPLAY_BINS) $(SHIM_SO)

check: deps
	@$(MAKE) --no-print-directory format-check
	@$(MAKE) --no-print-directory test-build
	@tests/run.sh

unit: $(UNIT_BINS)
	@for t in $(UNIT_BINS); do $$t || exit 1; done

bench: deps
	@$(MAKE) --no-print-directory $(BUILD)/dkms-boot
	@tests/bench/run.sh

demo: deps
	@$(MAKE) --no-print-directory $(BUILD)/dkms-boot
	@scripts/demo.sh

# Run each fuzzer for FUZZ_SECONDS (default 60) with new inputs going to
# a scratch directory, then merge into the corpus only those that add
# coverage (-merge=1): the corpus stays small and reviewable.  A crash
# leaves its reproducer (crash-*) in build/fuzz/ and stops the run.
FUZZ_SECONDS ?= 60
FUZZ_TIMEOUT ?= 10
fuzz: $(FUZZ_BINS)
	@for f in $(FUZZ_BINS); do n=$$(basename $$f); \
	  corpus=tests/fuzz/corpus/$$n; scratch=$(BUILD)/fuzz/new-$$n; \
	  mkdir -p $$corpus; rm -rf $$scratch; mkdir -p $$scratch; \
	  $$f -max_total_time=$(FUZZ_SECONDS) -timeout=$(FUZZ_TIMEOUT) \
	    -artifact_prefix=$(BUILD)/fuzz/ $$scratch $$corpus || exit 1; \
	  $$f -merge=1 -timeout=$(FUZZ_TIMEOUT) $$corpus $$scratch || exit 1; \
	  rm -rf $$scratch; done

format:
	clang-format -i $(C_FILES)

format-check:
	@clang-format --dry-run --Werror $(C_FILES)
	@echo "  FORMAT ok"

clean:
	rm -rf $(BUILD)/static $(BUILD)/test $(BUILD)/fuzz $(BUILD)/dkms-boot
