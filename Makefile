# Makefile: builds libv6rep.a (zone/), v6repd (server/), v6rep (tool/) and the tests; plain GNU make.
#
#   make            build into build/ (make SAN=1: with ASan+UBSan into build-san/)
#   make deps       install the Debian packages needed to build and test (apt-get, as root)
#   make run        the main job: sample listings into data/db, v6repd on 127.0.0.1:5353 and [::1]:5353
#   make check      unit suites, fuzz corpus replay and end-to-end tests of one build
#   make test       make check, then the same tests built with -fsanitize=address,undefined,
#                   then a clang build of everything (warnings are errors with both compilers)
#   make fuzz       libFuzzer builds of the fuzz targets (needs clang)
#   make bench-enrich  load time and lookup rate of the ASN table on a synthetic full table
#   make install    PREFIX=/usr/local

CC      ?= cc
PKGS    := ldns libuv lmdb libpcap zlib libcrypto
SAN     ?=
PREFIX  ?= /usr/local

ifeq ($(SAN),1)
BUILD   ?= build-san
SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
OPT     ?= -O1 -g
else
BUILD   ?= build
SANFLAGS :=
OPT     ?= -O2 -g
endif

WARN     := -Wall -Wextra -Werror -Wshadow -Wpointer-arith -Wstrict-prototypes -Wmissing-prototypes \
            -Wno-unused-parameter
CPPFLAGS += -D_GNU_SOURCE -MMD -MP
CFLAGS   += -std=c11 $(OPT) $(WARN) $(SANFLAGS) $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDFLAGS  += $(SANFLAGS)
LDLIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lpthread
CHECKLIBS := $(shell pkg-config --libs check 2>/dev/null)

ZONE_SRC   := $(wildcard zone/*.c)
SERVER_SRC := $(filter-out server/main.c,$(wildcard server/*.c))
TOOL_SRC   := $(filter-out tool/main.c,$(wildcard tool/*.c))
INGEST_SRC := $(filter-out ingest/main.c,$(wildcard ingest/*.c))
TEST_SRC   := $(wildcard tests/check_*.c)
FUZZ_SRC   := $(wildcard tests/fuzz/fuzz_*.c)

ZONE_OBJ   := $(ZONE_SRC:%.c=$(BUILD)/%.o)
SERVER_OBJ := $(SERVER_SRC:%.c=$(BUILD)/%.o)
TOOL_OBJ   := $(TOOL_SRC:%.c=$(BUILD)/%.o)
INGEST_OBJ := $(INGEST_SRC:%.c=$(BUILD)/%.o)
TEST_OBJ   := $(TEST_SRC:%.c=$(BUILD)/%.o)
FUZZ_BIN   := $(FUZZ_SRC:tests/fuzz/%.c=$(BUILD)/%)

LIB := $(BUILD)/libv6rep.a
BINS := $(BUILD)/v6repd $(BUILD)/v6rep $(if $(wildcard ingest/main.c),$(BUILD)/v6rep-ingest)

.SECONDARY:
.PHONY: all deps run check check-unit check-fuzz check-e2e test test-san fuzz bench-enrich install clean
all: $(BINS) $(BUILD)/check_v6rep $(FUZZ_BIN)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(LIB): $(ZONE_OBJ)
	$(AR) rcs $@ $^

$(BUILD)/v6repd: $(BUILD)/server/main.o $(SERVER_OBJ) $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/v6rep: $(BUILD)/tool/main.o $(TOOL_OBJ) $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/v6rep-ingest: $(BUILD)/ingest/main.o $(INGEST_OBJ) $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# The unit runner links the server core, the tool and ingest modules too (everything but the mains).
$(BUILD)/check_v6rep: $(TEST_OBJ) $(SERVER_OBJ) $(TOOL_OBJ) $(INGEST_OBJ) $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(CHECKLIBS) $(LDLIBS)

# Fuzz targets built with a replay main (tests/fuzz/replay.c) so the corpus runs without clang.
$(BUILD)/fuzz_%: $(BUILD)/tests/fuzz/fuzz_%.o $(BUILD)/tests/fuzz/replay.o $(SERVER_OBJ) $(TOOL_OBJ) $(INGEST_OBJ) $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)
$(BUILD)/tests/fuzz/replay.o: tests/fuzz/replay.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

# Load time and lookup rate of the ASN table on a synthetic 1.3M-prefix file (not part of `all`).
$(BUILD)/enrich_bench: $(BUILD)/tests/perf/enrich_bench.o $(INGEST_OBJ) $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)
bench-enrich: $(BUILD)/enrich_bench
	$(BUILD)/enrich_bench

deps:
	@bash contrib/deps.sh

run: $(BINS)
	@bash contrib/run-sample.sh $(BUILD)

check: check-unit check-fuzz check-e2e

check-unit: $(BUILD)/check_v6rep
	CK_FORK=yes $(BUILD)/check_v6rep

check-fuzz: $(FUZZ_BIN)
	@set -e; for f in $(FUZZ_BIN); do t=$${f##*/fuzz_}; $$f tests/fuzz/corpus/$$t; done

check-e2e: $(BINS)
	bash tests/e2e/run.sh $(BUILD)

test: check
	$(MAKE) SAN=1 check
	$(MAKE) BUILD=build-clang CC=clang all

test-san:
	$(MAKE) SAN=1 check

fuzz:
	$(MAKE) BUILD=build-fuzz CC=clang SANFLAGS="-fsanitize=fuzzer-no-link,address,undefined" build-fuzz-bins

FUZZ_LIBFUZZER := $(FUZZ_SRC:tests/fuzz/%.c=$(BUILD)/lf_%)
build-fuzz-bins: $(FUZZ_LIBFUZZER)
$(BUILD)/lf_%: $(BUILD)/tests/fuzz/%.o $(SERVER_OBJ) $(TOOL_OBJ) $(INGEST_OBJ) $(LIB)
	$(CC) -fsanitize=fuzzer,address,undefined -o $@ $^ $(LDLIBS)

install: $(BINS)
	install -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(PREFIX)/bin
	install -m 755 $(BUILD)/v6repd $(DESTDIR)$(PREFIX)/sbin/v6repd
	install -m 755 $(BUILD)/v6rep $(DESTDIR)$(PREFIX)/bin/v6rep
	$(if $(wildcard ingest/main.c),install -m 755 $(BUILD)/v6rep-ingest $(DESTDIR)$(PREFIX)/bin/v6rep-ingest)

clean:
	rm -rf build build-san build-fuzz build-clang

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
