# tlsguard: one Makefile for the shim, the CLI, the tests and the benchmarks.
#
#   make              build/libtlsguard.so and build/tlsguard
#   make check        unit suites (Check) and integration suites (real programs)
#   make check-asan   the unit suites under AddressSanitizer + UBSan
#   make deps         install the Debian packages needed to build and test
#   make install      PREFIX (default /usr/local) and DESTDIR honoured; make uninstall
#   make deb          build/tlsguard_VERSION_ARCH.deb, built with dpkg-buildpackage

PREFIX  ?= /usr/local
DESTDIR ?=
BUILD   ?= build
CC      ?= cc

PKG_CONFIG ?= pkg-config
# pkg-config is asked when a recipe first needs the flags, not when the Makefile
# is read: in `make deps demo` the libraries exist only once deps has run.
# lazy_pkg VAR,ARGS: VAR becomes the answer on first use, then keeps it.
lazy_pkg = $(eval $1 := $$(shell $$(PKG_CONFIG) $2))$($1)
CONFIG_CFLAGS = $(call lazy_pkg,CONFIG_CFLAGS,--cflags libconfig)
CONFIG_LIBS   = $(call lazy_pkg,CONFIG_LIBS,--libs libconfig)
SSL_CFLAGS    = $(call lazy_pkg,SSL_CFLAGS,--cflags openssl)
SSL_LIBS      = $(call lazy_pkg,SSL_LIBS,--libs openssl)
# GnuTLS: headers only. The shim never links libgnutls (shim/bind/gnutls_fns.c).
GNUTLS_CFLAGS = $(call lazy_pkg,GNUTLS_CFLAGS,--cflags gnutls)
ELF_LIBS      = $(call lazy_pkg,ELF_LIBS,--libs libelf)
CHECK_CFLAGS  = $(call lazy_pkg,CHECK_CFLAGS,--cflags check)
CHECK_LIBS    = $(call lazy_pkg,CHECK_LIBS,--libs check)
# Goals after deps wait for it, even under -j: they need what it installs.
ifneq ($(filter deps,$(MAKECMDGOALS)),)
.NOTPARALLEL:
endif

WARN     := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wstrict-prototypes
CFLAGS   ?= -O2 -g
XCFLAGS  ?=
# -MMD -MP: each object depends on the headers it includes, and no more.
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE $(WARN) -fPIC -fvisibility=hidden \
	-fno-strict-aliasing -MMD -MP $(CFLAGS) $(XCFLAGS) $(CONFIG_CFLAGS)
XLDFLAGS ?=

# Each folder sees only the folders it may include from (no folder-level cycle):
#   policy <- common <- shim, tools; tests see what they test.
# Inside shim/, a file names another folder's header by its path from shim/
# ("core/conn.h"), so every arrow between the shim's folders shows in an include.
POLICY_INC := -Ipolicy
COMMON_INC := -Icommon $(POLICY_INC)
SHIM_INC   := -Ishim $(COMMON_INC)
TOOLS_INC  := -Itools $(COMMON_INC)
UNIT_INC   := -Itests/unit $(SHIM_INC) -Itools

POLICY_SRC := $(sort $(wildcard policy/*.c))
COMMON_SRC := $(sort $(wildcard common/*.c))
SHIM_SRC   := $(sort $(shell find shim -name '*.c'))
TOOLS_SRC  := $(sort $(wildcard tools/*.c))
UNIT_SRC   := $(sort $(wildcard tests/unit/check_*.c))
HELPER_SRC := $(sort $(wildcard tests/integration/programs/*.c))
BYPASS_SRC := $(sort $(wildcard tests/bypass/*.c))
BENCH_SRC  := $(filter-out bench/empty_preload.c,$(sort $(wildcard bench/*.c)))
FUZZ_SRC   := $(sort $(wildcard tests/fuzz/fuzz_*.c))
STRESS_SRC := $(sort $(wildcard tests/stress/*.c))

POLICY_OBJ := $(POLICY_SRC:%.c=$(BUILD)/%.o)
COMMON_OBJ := $(COMMON_SRC:%.c=$(BUILD)/%.o)
SHIM_OBJ   := $(SHIM_SRC:%.c=$(BUILD)/%.o)
# The shim's own stand-ins for libconfig (loaded lazily): only in the .so.
SHIM_LAZY  := $(BUILD)/shim/bind/lazy_libconfig.o
SHIM_LIB_OBJ := $(filter-out $(SHIM_LAZY),$(SHIM_OBJ))
TOOLS_OBJ  := $(TOOLS_SRC:%.c=$(BUILD)/%.o)
UNIT_BIN   := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/unit/%)
HELPER_BIN := $(HELPER_SRC:tests/integration/programs/%.c=$(BUILD)/tests/integration/programs/%)
# tests/bypass: plugin_NAME.c is a shared object a bypass program loads.
BYPASS_PLUGIN_SRC := $(filter tests/bypass/plugin_%,$(BYPASS_SRC))
BYPASS_BIN := $(patsubst tests/bypass/%.c,$(BUILD)/tests/bypass/%,\
		$(filter-out $(BYPASS_PLUGIN_SRC),$(BYPASS_SRC))) \
	$(BYPASS_PLUGIN_SRC:tests/bypass/%.c=$(BUILD)/tests/bypass/%.so)
BENCH_BIN  := $(BENCH_SRC:bench/%.c=$(BUILD)/bench/%) $(BUILD)/bench/empty_preload.so
FUZZ_BIN   := $(FUZZ_SRC:tests/fuzz/%.c=$(BUILD)/fuzz/%)
STRESS_BIN := $(STRESS_SRC:tests/stress/%.c=$(BUILD)/tests/stress/%)

LIB := $(BUILD)/libtlsguard.so
CLI := $(BUILD)/tlsguard

.PHONY: all check check-unit check-unit-only check-integration check-asan check-tsan \
	check-tsan-run deps install uninstall deb clean bench demo format fuzz fuzz-run

all: $(LIB) $(CLI)

OBJ_CFLAGS = $(ALL_CFLAGS)
$(BUILD)/policy/%.o: INC = $(POLICY_INC)
$(BUILD)/common/%.o: INC = $(COMMON_INC)
$(BUILD)/shim/%.o: INC = $(SHIM_INC) $(GNUTLS_CFLAGS)
$(BUILD)/tools/%.o: INC = $(TOOLS_INC)
$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(OBJ_CFLAGS) $(INC) $(SSL_CFLAGS) -c -o $@ $<

# A sanitizer runtime looks its interceptors' real functions up through dlsym
# before it is initialised: the shim's dlsym (shim/bind/dl.c) is never instrumented.
# (Recursive, like ALL_CFLAGS: pkg-config is not asked before make deps ran.)
$(BUILD)/shim/bind/dl.o: OBJ_CFLAGS = $(filter-out -fsanitize=%,$(ALL_CFLAGS))

$(BUILD)/libpolicy.a: $(POLICY_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/libcommon.a: $(COMMON_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

# The CLI's code without its main(): what the fuzz targets and unit suites of
# tools/ link.
$(BUILD)/libtools.a: $(filter-out $(BUILD)/tools/main.o,$(TOOLS_OBJ))
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/libshim.a: $(SHIM_LIB_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

# The shim links libc only: libconfig is opened when the policy is first loaded,
# libssl/libcrypto are looked up only in processes that already loaded them.
# Lazy binding: resolving every symbol at start-up (-z now) cost more than
# every other part of the shim in a process that execs often.
# No DT_FINI: it would name crtn's _fini, which does nothing on x86-64 and sits
# alone on the last page of text, so calling it cost every process a page
# fault at exit. ld writes DT_FINI only for a defined symbol, and none has the
# name given here; destructors still run, from .fini_array.
$(LIB): $(SHIM_OBJ) $(BUILD)/libcommon.a $(BUILD)/libpolicy.a shim/exports.map
	$(CC) -shared -o $@ $(SHIM_OBJ) $(BUILD)/libcommon.a $(BUILD)/libpolicy.a \
		-Wl,--version-script=shim/exports.map \
		-Wl,-z,relro -Wl,--no-undefined -Wl,-fini=tlsguard_no_dt_fini $(XLDFLAGS) -ldl -pthread

# The command is never preloaded: it binds everything at start-up, so its
# relocations can be read-only (full RELRO).
$(CLI): $(TOOLS_OBJ) $(BUILD)/libcommon.a $(BUILD)/libpolicy.a
	$(CC) -o $@ $(TOOLS_OBJ) $(BUILD)/libcommon.a $(BUILD)/libpolicy.a -Wl,-z,relro,-z,now \
		$(XLDFLAGS) $(CONFIG_LIBS) $(SSL_LIBS) $(ELF_LIBS)

# Unit suites: Check, linked with the code they test (not preloaded).
$(BUILD)/tests/unit/check_%: tests/unit/check_%.c $(BUILD)/libshim.a $(BUILD)/libcommon.a \
		$(BUILD)/libpolicy.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(UNIT_INC) $(GNUTLS_CFLAGS) $(CHECK_CFLAGS) -o $@ $< $(BUILD)/libshim.a \
		$(BUILD)/libcommon.a $(BUILD)/libpolicy.a $(XLDFLAGS) $(CHECK_LIBS) $(CONFIG_LIBS) -ldl -pthread

# The GnuTLS priority suffix against GnuTLS's own parser: priority_str.o alone
# and libgnutls (libshim.a defines the interposed gnutls_* names).
GNUTLS_LIBS   = $(call lazy_pkg,GNUTLS_LIBS,--libs gnutls)
$(BUILD)/tests/unit/check_gtls_priority: tests/unit/check_gtls_priority.c \
		$(BUILD)/shim/tls/gnutls/priority_str.o
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(UNIT_INC) $(GNUTLS_CFLAGS) $(CHECK_CFLAGS) -o $@ $< \
		$(BUILD)/shim/tls/gnutls/priority_str.o $(XLDFLAGS) $(CHECK_LIBS) $(GNUTLS_LIBS)

# The policy suites need no shim: they build even while shim/ is being changed.
$(BUILD)/tests/unit/check_policy $(BUILD)/tests/unit/check_policy_select $(BUILD)/tests/unit/check_policy_tunnel: \
		$(BUILD)/tests/unit/%: tests/unit/%.c $(BUILD)/libpolicy.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Itests/unit $(POLICY_INC) $(CHECK_CFLAGS) -o $@ $< $(BUILD)/libpolicy.a \
		$(XLDFLAGS) $(CHECK_LIBS) $(CONFIG_LIBS)

# The suites of tools/ link the CLI's code (libtools.a), not the shim.
$(BUILD)/tests/unit/check_elf: tests/unit/check_elf.c $(BUILD)/libtools.a $(BUILD)/libcommon.a \
		$(BUILD)/libpolicy.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Itests/unit $(TOOLS_INC) $(CHECK_CFLAGS) -o $@ $< $(BUILD)/libtools.a \
		$(BUILD)/libcommon.a $(BUILD)/libpolicy.a $(XLDFLAGS) $(CHECK_LIBS) $(CONFIG_LIBS) \
		$(SSL_LIBS) $(ELF_LIBS)

# Small C programs the integration suites run under the shim (they link the real
# libssl: they are the "careless programs" the shim must correct).
PROGRAM_CFLAGS = -std=c11 -D_GNU_SOURCE $(WARN) -Wno-deprecated-declarations -MMD -MP \
	$(CFLAGS) $(SSL_CFLAGS)
$(BUILD)/tests/integration/programs/%: tests/integration/programs/%.c
	@mkdir -p $(dir $@)
	$(CC) $(PROGRAM_CFLAGS) -o $@ $< $(SSL_LIBS) -pthread

# The bypass attempts (tests/bypass/README.md): programs that try to get
# plaintext or unverified TLS past the shim, and the plugins they load.
# The sanitizer builds build them with their flags too (check-unit-only).
$(BUILD)/tests/bypass/plugin_%.so: tests/bypass/plugin_%.c
	@mkdir -p $(dir $@)
	$(CC) $(PROGRAM_CFLAGS) $(XCFLAGS) -fPIC -shared -o $@ $< $(XLDFLAGS)

$(BUILD)/tests/bypass/%: tests/bypass/%.c
	@mkdir -p $(dir $@)
	$(CC) $(PROGRAM_CFLAGS) $(XCFLAGS) -o $@ $< $(XLDFLAGS) $(SSL_LIBS) -ldl -pthread

# The GnuTLS test programs (careless_gnutls_client, the gnutls_* bypass
# attempts, the gnutls_stress program) link libgnutls; the shim itself never does. Static pattern rules:
# they win over the libssl rules above for these files only.
GNUTLS_TEST_CFLAGS = $(call lazy_pkg,GNUTLS_TEST_CFLAGS,--cflags gnutls)
GNUTLS_TEST_LIBS   = $(call lazy_pkg,GNUTLS_TEST_LIBS,--libs gnutls)
GNUTLS_HELPER_BIN := $(filter %gnutls_client %gnutls_server,$(HELPER_BIN))
GNUTLS_BYPASS_BIN := $(filter $(BUILD)/tests/bypass/gnutls_%,$(BYPASS_BIN))
$(GNUTLS_HELPER_BIN): $(BUILD)/%: %.c
	@mkdir -p $(dir $@)
	$(CC) $(PROGRAM_CFLAGS) $(GNUTLS_TEST_CFLAGS) -o $@ $< $(GNUTLS_TEST_LIBS) -pthread
GNUTLS_STRESS_BIN := $(filter $(BUILD)/tests/stress/gnutls_%,$(STRESS_BIN))
$(GNUTLS_BYPASS_BIN) $(GNUTLS_STRESS_BIN): $(BUILD)/%: %.c
	@mkdir -p $(dir $@)
	$(CC) $(PROGRAM_CFLAGS) $(XCFLAGS) $(GNUTLS_TEST_CFLAGS) -o $@ $< $(XLDFLAGS) \
		$(GNUTLS_TEST_LIBS) -ldl -pthread

# Stress programs share the build's sanitizer flags (check-tsan builds them with
# ThreadSanitizer, like the shim they run under).
$(BUILD)/tests/stress/%: tests/stress/%.c
	@mkdir -p $(dir $@)
	$(CC) $(PROGRAM_CFLAGS) $(XCFLAGS) -o $@ $< $(XLDFLAGS) $(SSL_LIBS) -pthread

# What every fuzz target links: the code it exercises, from each side.
FUZZ_LIBS = $(BUILD)/libshim.a $(BUILD)/libtools.a $(BUILD)/libcommon.a $(BUILD)/libpolicy.a

# libFuzzer targets: built only in the fuzz tree (make fuzz).
$(BUILD)/fuzz/%: tests/fuzz/%.c $(FUZZ_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(SHIM_INC) -Itools -fsanitize=fuzzer -o $@ $< $(FUZZ_LIBS) $(XLDFLAGS) \
		$(CONFIG_LIBS) $(SSL_LIBS) $(ELF_LIBS) -ldl -pthread

# The fuzz targets as plain replay programs (tests/fuzz/replay_main.c feeds each
# file named on the command line to the target), built in every build tree:
# check-unit, check-unit-only (check-asan) and check-tsan-run replay
# tests/fuzz/regressions/ and the seeds through them (tests/fuzz/replay.sh).
FUZZ_REPLAY_BIN := $(FUZZ_SRC:tests/fuzz/%.c=$(BUILD)/tests/fuzz/%)
$(BUILD)/tests/fuzz/%: tests/fuzz/%.c tests/fuzz/replay_main.c $(FUZZ_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(SHIM_INC) -Itools -o $@ $< tests/fuzz/replay_main.c $(FUZZ_LIBS) \
		$(XLDFLAGS) $(CONFIG_LIBS) $(SSL_LIBS) $(ELF_LIBS) -ldl -pthread

.PHONY: check-fuzz-replay
check-fuzz-replay: $(FUZZ_REPLAY_BIN)
	@tests/fuzz/replay.sh $(FUZZ_REPLAY_BIN)
check-unit check-unit-only check-tsan-run: check-fuzz-replay

$(BUILD)/bench/empty_preload.so: bench/empty_preload.c
	@mkdir -p $(dir $@)
	$(CC) $(WARN) -O2 -fPIC -shared -o $@ $<

$(BUILD)/bench/%: bench/%.c $(BUILD)/libpolicy.a
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -D_GNU_SOURCE $(WARN) -Wno-deprecated-declarations -O2 -g -MMD -MP \
		$(SSL_CFLAGS) $(POLICY_INC) -Ibench -o $@ $< $(BUILD)/libpolicy.a $(SSL_LIBS) $(CONFIG_LIBS) -pthread

# The GnuTLS handshake workload links GnuTLS (the shim never does).
BENCH_GNUTLS = $(call lazy_pkg,BENCH_GNUTLS,--cflags --libs gnutls)
$(BUILD)/bench/gtls_pair: bench/gtls_pair.c bench/bench_expect.h
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -D_GNU_SOURCE $(WARN) -O2 -g -MMD -MP -Ibench -o $@ $< $(BENCH_GNUTLS)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

check: check-unit check-integration

check-unit: all $(UNIT_BIN) $(BENCH_BIN)
	@tests/unit/run.sh $(UNIT_BIN)

check-integration: all $(HELPER_BIN) $(BYPASS_BIN)
	@BUILD=$(BUILD) tests/integration/run.sh

# Unit suites under ASan + UBSan, in a separate build tree.
# A sanitizer makes the suites several times slower: Check's per-test timeouts
# grow with them (CK_TIMEOUT_MULTIPLIER), so a loaded machine is not a failure.
SANITIZER_ENV = CK_TIMEOUT_MULTIPLIER=$${CK_TIMEOUT_MULTIPLIER:-4}
check-asan:
	$(SANITIZER_ENV) $(MAKE) BUILD=build-asan CC=clang \
		XCFLAGS="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer" \
		XLDFLAGS="-fsanitize=address,undefined" check-unit-only

check-unit-only: $(UNIT_BIN) $(BYPASS_BIN)
	@tests/unit/run.sh $(UNIT_BIN)

# The unit suites and the stress programs under ThreadSanitizer, the stress
# programs running under a ThreadSanitizer build of the shim.
check-tsan:
	$(SANITIZER_ENV) $(MAKE) BUILD=build-tsan CC=clang XCFLAGS="-fsanitize=thread -fno-omit-frame-pointer" \
		XLDFLAGS="-fsanitize=thread -Wl,-z,undefs" check-tsan-run

check-tsan-run: $(UNIT_BIN) $(LIB) $(STRESS_BIN) $(BYPASS_BIN)
	@tests/unit/run.sh $(UNIT_BIN)
	@BUILD=$(BUILD) tests/stress/run.sh

# Each libFuzzer target for FUZZ_SECONDS (default 60), from its seed corpus.
FUZZ_SECONDS ?= 60
fuzz:
	$(MAKE) BUILD=build-fuzz CC=clang \
		XCFLAGS="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all" \
		XLDFLAGS="-fsanitize=address,undefined" fuzz-run

fuzz-run: $(FUZZ_BIN)
	@FUZZ_SECONDS=$(FUZZ_SECONDS) tests/fuzz/run.sh $(FUZZ_BIN)

# Build: compiler, pkg-config, OpenSSL, libconfig, Check, GnuTLS's headers (the
# shim's GnuTLS layer, the GnuTLS test and bench programs). Tests: clang with its
# sanitizer and libFuzzer runtimes, the real programs the integration suites run
# (curl, python3, openssl, PostgreSQL, wget, git, gnutls-cli and gnutls-serv,
# setcap), mandoc, valgrind.
# Only apt-get needs root: through sudo when make runs as a normal user.
SUDO := $(shell [ "$$(id -u)" -eq 0 ] || echo sudo)
# No -qq: the first install takes minutes and shows its progress.
deps:
	@if [ -n "$(SUDO)" ] && ! command -v sudo >/dev/null; then \
		echo "make deps: apt-get needs root: run make deps as root, or install sudo" >&2; exit 1; fi
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
		build-essential pkg-config libssl-dev libconfig-dev libelf-dev check \
		libgnutls28-dev gnutls-bin git \
		clang llvm libclang-rt-14-dev clang-format mandoc valgrind \
		openssl ca-certificates curl wget python3 socat iproute2 libcap2-bin \
		postgresql postgresql-client proxychains4 torsocks ncat rsyslog rsyslog-gnutls \
		debhelper dpkg-dev fakeroot lintian systemd \
		stunnel4 redis-tools redis-server

# The installed layout (tlsguard.1 FILES): the shim in a per-architecture
# directory, so that tlsguard run and enable find the one built for this
# machine. uninstall removes these files, and the directories install made
# when they are left empty.
MULTIARCH ?= $(eval MULTIARCH := $$(shell dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || \
	$(CC) -print-multiarch))$(MULTIARCH)
LIBDIR  = $(PREFIX)/lib/$(MULTIARCH)/tlsguard
BINDIR  = $(PREFIX)/bin
MANDIR  = $(PREFIX)/share/man
MAN_PAGES := $(sort $(wildcard man/*.[0-9]))
# Where tlsguard run/enable look for the shim, relative to the command (override:
# kept when XCFLAGS is given on the command line).
$(BUILD)/tools/%.o: override XCFLAGS += -DTLSGUARD_MULTIARCH='"$(MULTIARCH)"'

install: all
	install -d $(DESTDIR)$(LIBDIR) $(DESTDIR)$(BINDIR)
	install -m 0644 $(LIB) $(DESTDIR)$(LIBDIR)/libtlsguard.so
	install -m 0755 $(CLI) $(DESTDIR)$(BINDIR)/tlsguard
	for page in $(MAN_PAGES); do \
		sect=$${page##*.}; \
		install -d $(DESTDIR)$(MANDIR)/man$$sect; \
		install -m 0644 $$page $(DESTDIR)$(MANDIR)/man$$sect/; \
	done

uninstall:
	rm -f $(DESTDIR)$(LIBDIR)/libtlsguard.so $(DESTDIR)$(BINDIR)/tlsguard
	for page in $(MAN_PAGES); do \
		sect=$${page##*.}; rm -f $(DESTDIR)$(MANDIR)/man$$sect/$${page##*/}; \
	done
	-rmdir $(DESTDIR)$(LIBDIR) 2>/dev/null

# The Debian package, built by dpkg-buildpackage in a copy of the tree under
# $(BUILD)/deb (it writes its results to the parent of the source directory):
# $(BUILD)/tlsguard_VERSION_ARCH.deb, and the -dbgsym package beside it.
DEB_VERSION = $(shell dpkg-parsechangelog -l debian/changelog -S Version)
DEB_ARCH    = $(shell dpkg-architecture -qDEB_HOST_ARCH)
DEB_SRC     = $(BUILD)/deb/tlsguard-$(DEB_VERSION)
deb:
	rm -rf $(BUILD)/deb && mkdir -p $(DEB_SRC)
	tar -c --exclude=./.git --exclude='./build*' --exclude=./$(BUILD) . | tar -x -C $(DEB_SRC)
	cd $(DEB_SRC) && dpkg-buildpackage -us -uc -b
	cp $(BUILD)/deb/*_$(DEB_VERSION)_$(DEB_ARCH).deb $(BUILD)/
	@echo "built $(BUILD)/tlsguard_$(DEB_VERSION)_$(DEB_ARCH).deb"

# A self-contained demonstration on loopback: plaintext and TLS servers, real
# clients without and with the shim, and the audit lines.
demo: all $(HELPER_BIN)
	@BUILD=$(BUILD) tools/demo.sh

# The benchmark table (bench/README.md); never part of check's pass/fail.
bench: all $(BENCH_BIN) $(HELPER_BIN)
	@BUILD=$(BUILD) bench/run.sh

format:
	clang-format -i $(shell find policy common shim tools tests bench -name '*.[ch]')

clean:
	rm -rf build build-asan build-tsan build-fuzz
