# h2 — GNU make, out-of-tree into $(BUILD), parallel-safe.
#
#   make                 libraries (libh2core.a, libh2.a) and the h2 program
#   make test            install missing Debian packages, build, run every test
#   make run             install missing packages, build, start `h2 serve`
#   make fuzz            build the libFuzzer targets (clang)
#   make bench           build and run every benchmark (needs libnghttp2-dev)
#   make install PREFIX=/usr/local   headers, libraries, h2.pc, the h2 program
#   make SANITIZE=1 test ASan + UBSan build of everything (into build-san/)
#
# Sources are found by wildcard, one folder per module:
#   hpack/*.c h2core/*.c      -> libh2core.a   (libc only)
#   evloop/*.c tls/*.c api/*.c -> libh2.a       (BoringSSL, pthread)
#   api/cmd/*.c (not main.c)  -> libh2cmd.a    (subcommands; tests link it too)
#   api/cmd/main.c            -> h2
#   test/test_*.c             -> one cmocka binary each; test/util_*.c linked into all
#                                (test/api_*.c into the test_api* ones only)
#   fuzz/fuzz_*.c             -> one libFuzzer binary each
#   bench/bench_*.c           -> one benchmark binary each (links libnghttp2)

SANITIZE ?= 0
ifeq ($(SANITIZE),1)
BUILD ?= build-san
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
else
BUILD ?= build
SANFLAGS :=
# gcc's per-function stack report (.su beside each object), read by the
# stack check in test/run.sh; not under the sanitizers (their frames differ).
STACKFLAGS := -fstack-usage
endif

CC ?= cc
OPT ?= -O2
PREFIX ?= /usr/local
UNAME_S := $(shell uname -s)

# BoringSSL from Debian's android-libboringssl-dev.
BSSL_INC ?= /usr/include/android
BSSL_LIB ?= /usr/lib/$(shell gcc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)/android
BSSL_LDFLAGS := -L$(BSSL_LIB) -Wl,-rpath,$(BSSL_LIB) -lssl -lcrypto

WARN := -Wall -Wextra -Werror -Wshadow -Wpointer-arith -Wstrict-prototypes -Wmissing-prototypes
BASE_CFLAGS := -std=c11 $(WARN) $(OPT) -g -fno-strict-aliasing -MMD -MP $(STACKFLAGS) $(SANFLAGS)
CORE_CFLAGS := $(BASE_CFLAGS) -Ihpack -Ih2core
SYS_CFLAGS  := $(BASE_CFLAGS) -D_GNU_SOURCE -Ihpack -Ih2core -Ievloop -Itls -Iapi -Iapi/cmd -I$(BSSL_INC)
LDLIBS_ALL  := $(BSSL_LDFLAGS) -lpthread -lm

CORE_SRCS := $(wildcard hpack/*.c h2core/*.c)
ifeq ($(UNAME_S),Linux)
EVLOOP_SRCS := $(filter-out %kqueue.c,$(wildcard evloop/*.c))
else
EVLOOP_SRCS := $(filter-out %epoll.c,$(wildcard evloop/*.c))
endif
KQUEUE_SRCS := $(wildcard evloop/*kqueue.c)
SYS_SRCS  := $(EVLOOP_SRCS) $(wildcard tls/*.c api/*.c)
CMD_SRCS  := $(filter-out api/cmd/main.c,$(wildcard api/cmd/*.c))
TEST_SRCS := $(wildcard test/test_*.c)
TEST_UTIL := $(wildcard test/util_*.c)
TEST_API := $(wildcard test/api_*.c)
FUZZ_SRCS := $(wildcard fuzz/fuzz_*.c)
BENCH_SRCS := $(wildcard bench/bench_*.c)

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))
CORE_OBJS := $(call obj,$(CORE_SRCS))
SYS_OBJS  := $(call obj,$(SYS_SRCS))
CMD_OBJS  := $(call obj,$(CMD_SRCS))
TEST_UTIL_OBJS := $(call obj,$(TEST_UTIL))
TEST_API_OBJS := $(call obj,$(TEST_API))
TEST_BINS := $(patsubst test/%.c,$(BUILD)/test/%,$(TEST_SRCS))
FUZZ_BINS := $(patsubst fuzz/%.c,$(BUILD)/fuzz/%,$(FUZZ_SRCS))
BENCH_BINS := $(patsubst bench/%.c,$(BUILD)/bench/%,$(BENCH_SRCS))

LIBCORE := $(BUILD)/libh2core.a
LIBH2   := $(BUILD)/libh2.a
LIBCMD  := $(BUILD)/libh2cmd.a
H2BIN   := $(BUILD)/h2
LIBS_FOR_PROGRAMS := $(LIBCMD) $(LIBH2) $(LIBCORE)

.PHONY: all test test-build run fuzz fuzz-build bench bench-build install deps clean check-kqueue check-libc
.DEFAULT_GOAL := all
# Keep every object (pattern-rule intermediates) so rebuilds are incremental.
.SECONDARY:

all: $(LIBCORE) $(LIBH2) $(H2BIN)

$(BUILD)/obj/hpack/%.o: hpack/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CORE_CFLAGS) -c $< -o $@
$(BUILD)/obj/h2core/%.o: h2core/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CORE_CFLAGS) -c $< -o $@
$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(SYS_CFLAGS) -c $< -o $@

$(LIBCORE): $(CORE_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^
$(LIBH2): $(SYS_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^
$(LIBCMD): $(CMD_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(H2BIN): $(call obj,api/cmd/main.c) $(LIBS_FOR_PROGRAMS)
	$(CC) $(SANFLAGS) -o $@ $< $(LIBS_FOR_PROGRAMS) $(LDLIBS_ALL)

# Unit tests: one cmocka binary per test/test_*.c.
$(BUILD)/test/%: $(BUILD)/obj/test/%.o $(TEST_UTIL_OBJS) $(LIBS_FOR_PROGRAMS)
	@mkdir -p $(dir $@)
	$(CC) $(SANFLAGS) -o $@ $< $(TEST_UTIL_OBJS) $(TEST_EXTRA_OBJS) $(LIBS_FOR_PROGRAMS) -lcmocka $(LDLIBS_ALL)
# test/api_*.c (session API fixtures) go into the test_api* binaries only:
# they call libh2.a, which the engine-only tests must not pull in.
TEST_API_BINS := $(filter $(BUILD)/test/test_api%,$(TEST_BINS))
$(TEST_API_BINS): $(TEST_API_OBJS)
$(TEST_API_BINS): TEST_EXTRA_OBJS := $(TEST_API_OBJS)

# libh2core.a must link into a program with nothing but libc. Sanitized, the
# runtime comes too: gcc's shared libasan/libubsan; clang's static runtime,
# which needs libm, libpthread, libdl, librt and libgcc_s beside libc.
CC_IS_CLANG := $(shell $(CC) --version 2>/dev/null | grep -q clang && echo 1)
SAN_RT_LIBS := $(if $(SANFLAGS),$(if $(CC_IS_CLANG),-lm -lpthread -ldl -lrt -lgcc_s,-lasan -lubsan),)
$(BUILD)/libc_check: test/libc_check.c $(LIBCORE)
	$(CC) $(CORE_CFLAGS) -MF $@.d -o $@ $< $(LIBCORE) -nodefaultlibs $(SAN_RT_LIBS) -lc
check-libc: $(BUILD)/libc_check
	$(BUILD)/libc_check

# test/tools/conn_peer: the bare engine over a TCP socket, driven by
# test/interop/conn_python_h2.sh against Python's h2.
$(BUILD)/tools/conn_peer: test/tools/conn_peer.c $(LIBCORE)
	@mkdir -p $(dir $@)
	$(CC) $(CORE_CFLAGS) -MF $@.d -o $@ $< $(LIBCORE)
test-build: $(BUILD)/tools/conn_peer

# The kqueue backend is compile-checked on Linux against a test-only declaration header.
check-kqueue: $(patsubst %.c,$(BUILD)/kqcheck/%.o,$(KQUEUE_SRCS))
$(BUILD)/kqcheck/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) -D_GNU_SOURCE -Ihpack -Ih2core -Ievloop -Itest/kqueue_decl -DH2_KQUEUE_COMPILE_CHECK -c $< -o $@
# test_loop_kqueue runs evloop/backend_kqueue.c against a test-only kevent() emulation (Linux).
$(BUILD)/obj/test/test_loop_kqueue.o: SYS_CFLAGS += -Itest/kqueue_decl -DH2_KQUEUE_COMPILE_CHECK

# Fuzz targets: clang + libFuzzer, the core compiled again with coverage.
FUZZ_CC ?= clang
# -fno-sanitize-recover: a UBSan report aborts the run (libFuzzer keeps the input)
# instead of printing and going on.
FUZZ_FLAGS := -std=c11 -g -O1 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
  -Ihpack -Ih2core -Iapi/cmd
$(BUILD)/fuzzobj/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(patsubst -fsanitize=fuzzer%,-fsanitize=fuzzer-no-link$(comma)address$(comma)undefined,$(FUZZ_FLAGS)) -MMD -MP -c $< -o $@
comma := ,
FUZZ_CORE_OBJS := $(patsubst %.c,$(BUILD)/fuzzobj/%.o,$(CORE_SRCS))
$(BUILD)/fuzz/%: fuzz/%.c $(FUZZ_CORE_OBJS)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) -MMD -MP -MF $@.d -o $@ $< $(FUZZ_CORE_OBJS)
# fuzz_session drives the session API (api/): the loop, TLS and API objects
# are built with the fuzz flags too and BoringSSL is linked.
FUZZ_SYS_OBJS := $(patsubst %.c,$(BUILD)/fuzzobj/%.o,$(SYS_SRCS))
$(FUZZ_SYS_OBJS): FUZZ_FLAGS += -Ievloop -Itls -Iapi -I$(BSSL_INC)
$(BUILD)/fuzz/fuzz_session: FUZZ_FLAGS += -Ievloop -Itls -Iapi -I$(BSSL_INC)
$(BUILD)/fuzz/fuzz_session: fuzz/fuzz_session.c $(FUZZ_CORE_OBJS) $(FUZZ_SYS_OBJS)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) -MMD -MP -MF $@.d -o $@ $< $(FUZZ_CORE_OBJS) $(FUZZ_SYS_OBJS) $(LDLIBS_ALL)
fuzz-build: $(FUZZ_BINS)
fuzz: deps
	$(MAKE) fuzz-build

# Benchmarks: each prints RESULT lines; bench/run.sh runs them all.
$(BUILD)/bench/%: $(BUILD)/obj/bench/%.o $(LIBS_FOR_PROGRAMS)
	@mkdir -p $(dir $@)
	$(CC) $(SANFLAGS) -o $@ $< $(LIBS_FOR_PROGRAMS) -lnghttp2 $(LDLIBS_ALL)
bench-build: all $(BENCH_BINS)
bench: deps
	$(MAKE) bench-build
	BUILD=$(BUILD) sh bench/run.sh

deps:
	@sh scripts/deps.sh

test-build: all $(TEST_BINS) $(BUILD)/libc_check check-kqueue fuzz-build

test: deps
	$(MAKE) -j$$(nproc) test-build
	BUILD=$(BUILD) sh test/run.sh

run: deps
	$(MAKE) -j$$(nproc) all
	$(H2BIN) serve

# Public headers only (h2_*.h, api/h2.h and api/h2_*.h); *_internal.h and the like stay private.
PUBLIC_HEADERS := $(wildcard hpack/h2_*.h h2core/h2_*.h evloop/h2_*.h tls/h2_*.h) $(wildcard api/h2*.h)
install: all
	install -d $(DESTDIR)$(PREFIX)/include/h2 $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/bin
	install -m 644 $(PUBLIC_HEADERS) $(DESTDIR)$(PREFIX)/include/h2/
	install -m 644 $(LIBCORE) $(LIBH2) $(DESTDIR)$(PREFIX)/lib/
	install -m 755 $(H2BIN) $(DESTDIR)$(PREFIX)/bin/
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@BSSL_LIB@|$(BSSL_LIB)|g' h2.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/h2.pc

clean:
	rm -rf build build-san

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
