# ddk: a hand-written GNU Makefile.  ./configure (from configure.ac) writes
# config.mk with the flags it found; without it, pkg-config is asked here.

-include config.mk

PKG_CONFIG ?= pkg-config
CFLAGS ?= -O2 -g
PKGS = sndfile libcjson zlib libpng
DEPS_CFLAGS ?= $(shell $(PKG_CONFIG) --cflags $(PKGS))
DEPS_LIBS ?= $(shell $(PKG_CONFIG) --libs $(PKGS))
CHECK_CFLAGS ?= $(shell $(PKG_CONFIG) --cflags check)
CHECK_LIBS ?= $(shell $(PKG_CONFIG) --libs check)
PYTHON ?= /usr/bin/python3

prefix ?= /usr/local
exec_prefix ?= $(prefix)
bindir ?= $(exec_prefix)/bin
libdir ?= $(exec_prefix)/lib
includedir ?= $(prefix)/include
mandir ?= $(prefix)/share/man
pkgconfigdir ?= $(libdir)/pkgconfig

VERSION = 0.1.0
DDK_CFLAGS = -std=c11 -D_XOPEN_SOURCE=700 -DDDK_VERSION='"$(VERSION)"' \
	-Wall -Wextra -Wpedantic -Ilib $(DEPS_CFLAGS)
LIBS = $(DEPS_LIBS) -lm

# O is the build folder.  The default build puts the tools in bin/ so they
# run from the checkout; any other O (check-asan uses one) keeps them inside.
O ?= build
ifeq ($(O),build)
TOOLDIR = bin
else
TOOLDIR = $(O)/bin
endif

LIB_SRC = $(wildcard lib/*.c)
LIB_OBJ = $(LIB_SRC:lib/%.c=$(O)/lib/%.o)
LIBDDK = $(O)/libddk.a
TOOL_SRC = $(filter-out bin/tool.c,$(wildcard bin/*.c))
TOOLS = $(TOOL_SRC:bin/%.c=$(TOOLDIR)/%)
UNIT_SRC = $(wildcard tests/check_*.c)
UNITS = $(UNIT_SRC:tests/%.c=$(O)/tests/%)
TEST_SUPPORT = $(filter-out $(UNIT_SRC),$(wildcard tests/*.c))
TEST_SUPPORT_OBJ = $(TEST_SUPPORT:tests/%.c=$(O)/tests/%.o)
HEADERS = $(wildcard lib/*.h)
MAN1 = $(wildcard man/*.1)
MAN5 = $(wildcard man/*.5)
MAN7 = $(wildcard man/*.7)

all: $(LIBDDK) $(TOOLS)

$(O)/lib/%.o: lib/%.c $(HEADERS)
	@mkdir -p $(@D)
	$(CC) $(DDK_CFLAGS) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(LIBDDK): $(LIB_OBJ)
	@mkdir -p $(@D)
	rm -f $@
	$(AR) rcs $@ $(LIB_OBJ)

$(O)/bin/%.o: bin/%.c bin/tool.h $(HEADERS)
	@mkdir -p $(@D)
	$(CC) $(DDK_CFLAGS) -Ibin $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(TOOLDIR)/%: $(O)/bin/%.o $(O)/bin/tool.o $(LIBDDK)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(O)/bin/tool.o $(LIBDDK) $(LIBS)

$(O)/tests/%.o: tests/%.c $(HEADERS) $(wildcard tests/*.h)
	@mkdir -p $(@D)
	$(CC) $(DDK_CFLAGS) -Itests $(CHECK_CFLAGS) $(CPPFLAGS) $(CFLAGS) \
		-c -o $@ $<

$(O)/tests/check_%: $(O)/tests/check_%.o $(TEST_SUPPORT_OBJ) $(LIBDDK)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(TEST_SUPPORT_OBJ) $(LIBDDK) \
		$(CHECK_LIBS) $(LIBS)

# Every unit test binary and every script in tests/tools, counted together.
check: all $(UNITS)
	@DDK_BIN=$(TOOLDIR) DDK_TOP=$(CURDIR) DDK_O=$(O) PYTHON=$(PYTHON) \
		sh tests/run-all.sh $(UNITS) $(sort $(wildcard tests/tools/*.sh))

ASAN_FLAGS = -O1 -g -fno-omit-frame-pointer \
	-fsanitize=address,undefined -fno-sanitize-recover=all
check-asan:
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	$(MAKE) O=build-asan CFLAGS="$(ASAN_FLAGS)" \
		LDFLAGS="-fsanitize=address,undefined" check

# make nist: the lsq solver on every NIST StRD nonlinear problem from both
# starts, as TSV (problem, start, lre, status, difficulty, nfev); the
# summary goes to stderr.
NIST_DIR ?= ../shared/data/nist-strd
$(O)/nist-report: tests/nist/report.c tests/nist/strd.h $(LIBDDK)
	$(CC) $(DDK_CFLAGS) -Itests $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ \
		$< $(LIBDDK) $(LIBS)
nist: $(O)/nist-report
	$(O)/nist-report $(NIST_DIR)/*.dat

demo: all
	sh data-samples/demo.sh $(TOOLDIR)

install: all
	mkdir -p $(DESTDIR)$(bindir) $(DESTDIR)$(libdir) \
		$(DESTDIR)$(includedir) $(DESTDIR)$(pkgconfigdir) \
		$(DESTDIR)$(mandir)/man1 $(DESTDIR)$(mandir)/man5 \
		$(DESTDIR)$(mandir)/man7
	cp $(TOOLS) $(DESTDIR)$(bindir)/
	cp $(LIBDDK) $(DESTDIR)$(libdir)/
	cp $(HEADERS) $(DESTDIR)$(includedir)/
	$(if $(MAN1),cp $(MAN1) $(DESTDIR)$(mandir)/man1/)
	$(if $(MAN5),cp $(MAN5) $(DESTDIR)$(mandir)/man5/)
	$(if $(MAN7),cp $(MAN7) $(DESTDIR)$(mandir)/man7/)
	sed -e 's|@prefix@|$(prefix)|' -e 's|@libdir@|$(libdir)|' \
		-e 's|@includedir@|$(includedir)|' -e 's|@VERSION@|$(VERSION)|' \
		ddk.pc.in > $(DESTDIR)$(pkgconfigdir)/ddk.pc

uninstall:
	rm -f $(TOOLS:$(TOOLDIR)/%=$(DESTDIR)$(bindir)/%)
	rm -f $(DESTDIR)$(libdir)/libddk.a $(DESTDIR)$(pkgconfigdir)/ddk.pc
	rm -f $(HEADERS:lib/%=$(DESTDIR)$(includedir)/%)
	rm -f $(MAN1:man/%=$(DESTDIR)$(mandir)/man1/%)
	rm -f $(MAN5:man/%=$(DESTDIR)$(mandir)/man5/%)
	rm -f $(MAN7:man/%=$(DESTDIR)$(mandir)/man7/%)

clean:
	rm -rf build build-asan $(TOOLS)

.PHONY: all check check-asan demo install uninstall clean nist
.SECONDARY:

# Fuzz harnesses (clang's libFuzzer), built over the library's sources and
# run for FUZZ_SECONDS each on the seed inputs in tests/data (streams and
# arrays), tests/fuzz/models (model files), tests/fuzz/streams
# (labelled streams to train on), tests/fuzz/curves (curves to fit, in
# the byte layout fuzz_fit.c reads) and tests/fuzz/sounds (signals to
# pool, as fuzz_pool.c reads them).  The model, training and fit
# harnesses link the whole library, without the AVX2 clones, which the
# instrumented build does not link.
FUZZ_SECONDS ?= 60
FUZZ_FLAGS = -g -O1 -fsanitize=fuzzer,address,undefined
FUZZ_SRC = lib/base.c lib/rng.c lib/stream.c lib/pool.c lib/array.c lib/pairs.c
fuzz:
	@mkdir -p build-fuzz/corpus-stream build-fuzz/corpus-array \
		build-fuzz/corpus-model build-fuzz/corpus-train \
		build-fuzz/corpus-fit build-fuzz/corpus-pool
	clang $(DDK_CFLAGS) -D_GNU_SOURCE $(FUZZ_FLAGS) -o build-fuzz/fuzz_stream \
		tests/fuzz/fuzz_stream.c $(FUZZ_SRC) $(LIBS)
	clang $(DDK_CFLAGS) -D_GNU_SOURCE $(FUZZ_FLAGS) -o build-fuzz/fuzz_array \
		tests/fuzz/fuzz_array.c $(FUZZ_SRC) $(LIBS)
	clang $(DDK_CFLAGS) -D_GNU_SOURCE -DDDK_NO_CLONES $(FUZZ_FLAGS) \
		-o build-fuzz/fuzz_model tests/fuzz/fuzz_model.c $(LIB_SRC) $(LIBS)
	clang $(DDK_CFLAGS) -D_GNU_SOURCE -DDDK_NO_CLONES $(FUZZ_FLAGS) \
		-o build-fuzz/fuzz_train tests/fuzz/fuzz_train.c $(LIB_SRC) $(LIBS)
	clang $(DDK_CFLAGS) -D_GNU_SOURCE -DDDK_NO_CLONES $(FUZZ_FLAGS) \
		-o build-fuzz/fuzz_fit tests/fuzz/fuzz_fit.c $(LIB_SRC) $(LIBS)
	clang $(DDK_CFLAGS) -D_GNU_SOURCE $(FUZZ_FLAGS) -o build-fuzz/fuzz_pool \
		tests/fuzz/fuzz_pool.c $(FUZZ_SRC) $(LIBS)
	build-fuzz/fuzz_stream -max_total_time=$(FUZZ_SECONDS) -artifact_prefix=build-fuzz/ \
		-max_len=4096 build-fuzz/corpus-stream tests/data
	build-fuzz/fuzz_array -max_total_time=$(FUZZ_SECONDS) -artifact_prefix=build-fuzz/ \
		-max_len=4096 build-fuzz/corpus-array tests/data
	build-fuzz/fuzz_model -max_total_time=$(FUZZ_SECONDS) -artifact_prefix=build-fuzz/ \
		-max_len=8192 build-fuzz/corpus-model tests/fuzz/models
	build-fuzz/fuzz_train -max_total_time=$(FUZZ_SECONDS) -artifact_prefix=build-fuzz/ \
		-max_len=8192 build-fuzz/corpus-train tests/fuzz/streams
	build-fuzz/fuzz_fit -max_total_time=$(FUZZ_SECONDS) -artifact_prefix=build-fuzz/ \
		-max_len=4096 build-fuzz/corpus-fit tests/fuzz/curves
	build-fuzz/fuzz_pool -max_total_time=$(FUZZ_SECONDS) -artifact_prefix=build-fuzz/ \
		-max_len=4096 build-fuzz/corpus-pool tests/fuzz/sounds

.PHONY: fuzz
