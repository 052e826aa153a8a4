# payd: a payment API in C. See README.md.
#   make run     the service on http://127.0.0.1:8080 (PORT=, JWT_SECRET=)
#   make test    every test, on private MariaDB, app and nginx instances

CC ?= cc
BUILD ?= build
PKGS = fcgi json-c libjwt libcrypt libmariadb libsystemd

CFLAGS_BASE = -std=c11 -D_GNU_SOURCE -Iinclude -Wall -Wextra -Werror -Wshadow \
	-Wpointer-arith -Wcast-qual -Wstrict-prototypes -Wmissing-prototypes \
	-Wformat=2 -Wtype-limits -fno-common -fstack-protector-strong -g \
	-MMD -MP
SAN_FLAGS = -fsanitize=address,undefined -fno-sanitize-recover=all \
	-fno-omit-frame-pointer

ifeq ($(SANITIZE),1)
BUILD := $(BUILD)/asan
OPT = -O1 $(SAN_FLAGS)
LDSAN = $(SAN_FLAGS)
else
OPT = -O2 -D_FORTIFY_SOURCE=2
LDSAN =
endif

PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CFLAGS += $(CFLAGS_BASE) $(OPT) $(PKG_CFLAGS)
LDLIBS = $(PKG_LIBS)

APP_SRC = $(wildcard app/*.c)
APP_OBJ = $(APP_SRC:app/%.c=$(BUILD)/app/%.o)
LIB_OBJ = $(filter-out $(BUILD)/app/main.o,$(APP_OBJ))
UNIT_SRC = $(wildcard tests/unit/*.c)
UNIT_OBJ = $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/unit/%.o)
INTEG_SRC = $(wildcard tests/integration/*.c)
INTEG_OBJ = $(INTEG_SRC:tests/integration/%.c=$(BUILD)/tests/integration/%.o)

.PHONY: all deps run test check test-unit test-integration test-asan asan test-deploy \
	test-openapi test-e2e \
	bench fuzz lint format format-check valgrind clean lint-cppcheck \
	fuzz-build test-hardening cluster test-cluster bench-cluster

all: $(BUILD)/payd

deps:
	@sh deploy/deps.sh

# Quiet by default; make V=1 shows the commands.
Q = $(if $(filter 1,$(V)),,@)

$(BUILD)/app/%.o: app/%.c
	@mkdir -p $(@D)
	@echo "  CC      $<"
	$(Q)$(CC) $(CFLAGS) -c -o $@ $<

$(BUILD)/tests/%.o: tests/%.c
	@mkdir -p $(@D)
	@echo "  CC      $<"
	$(Q)$(CC) $(CFLAGS) -Itests/lib $(shell pkg-config --cflags check libcurl) \
		-c -o $@ $<

$(BUILD)/payd: $(APP_OBJ)
	@echo "  LD      $@"
	$(Q)$(CC) $(LDSAN) -o $@ $^ $(LDLIBS)

$(BUILD)/check_unit: $(UNIT_OBJ) $(LIB_OBJ)
	@echo "  LD      $@"
	$(Q)$(CC) $(LDSAN) -o $@ $^ $(LDLIBS) $(shell pkg-config --libs check)

$(BUILD)/check_integration: $(INTEG_OBJ)
	@echo "  LD      $@"
	$(Q)$(CC) $(LDSAN) -o $@ $^ $(shell pkg-config --libs check libcurl json-c libjwt)

run: deps
	@$(MAKE) --no-print-directory all
	@sh tests/lib/run.sh

# The fast inner loop: the unit tests, then every integration suite against
# one private stack started once (a few minutes; make test is everything).
check: all $(BUILD)/check_unit $(BUILD)/check_integration
	@$(MAKE) --no-print-directory test-unit
	@$(MAKE) --no-print-directory test-integration

test-unit: $(BUILD)/check_unit
	$(BUILD)/check_unit

test-integration: $(BUILD)/payd $(BUILD)/check_integration
	sh tests/lib/integration.sh $(BUILD)

# The integration suites, then the web page in headless Chromium
# (tests/e2e/browser), on the same private stack.
test-e2e: $(BUILD)/payd $(BUILD)/check_integration
	BROWSER=1 sh tests/lib/integration.sh $(BUILD)

# docs/openapi.yaml: lint (@redocly/cli), app/router.c's routes against its
# operations, and a client generated from it through a short scenario on a
# private stack (tests/openapi; npm packages pinned in its lockfile). The
# integration suites and the browser test validate every response against
# it too (tests/lib/integration.sh).
test-openapi: $(BUILD)/payd
	sh tests/openapi/check.sh
	SUITES=0 CLIENT=1 sh tests/lib/integration.sh $(BUILD)

# The installer, the systemd units and the derived nginx configuration, in
# a staging root against a private MariaDB (as root; about 10 s); then
# make run's supervision of its payd master (tests/deploy/test_run.sh).
test-deploy: all
	sh tests/deploy/test_install.sh
	sh tests/deploy/test_run.sh

# The unit and integration tests again, with ASan and UBSan in the app.
test-asan:
	@$(MAKE) --no-print-directory SANITIZE=1 test-unit test-integration

asan: ; @$(MAKE) --no-print-directory SANITIZE=1 all

test: deps
	@$(MAKE) --no-print-directory all $(BUILD)/check_unit $(BUILD)/check_integration
	@$(MAKE) --no-print-directory test-unit
	@$(MAKE) --no-print-directory test-openapi
	@$(MAKE) --no-print-directory test-e2e
	@$(MAKE) --no-print-directory test-asan
	@$(MAKE) --no-print-directory test-deploy
	@$(MAKE) --no-print-directory test-cluster
	@$(MAKE) --no-print-directory test-hardening
	@echo "make test: all suites passed"

# clang-format 14 with .clang-format (STYLE.md), over the app and tests.
FORMAT_SRC = $(wildcard app/*.c include/*.h tests/*/*.c tests/*/*.h)

format:
	clang-format -i $(FORMAT_SRC)

format-check:
	clang-format --dry-run -Werror $(FORMAT_SRC)

clean:
	rm -rf build

-include $(APP_OBJ:.o=.d) $(UNIT_OBJ:.o=.d) $(INTEG_OBJ:.o=.d)

# The benchmark's trivial responder: payd's loop without the database.
$(BUILD)/payd-hello: $(BUILD)/tests/bench/hello.o $(LIB_OBJ)
	@echo "  LD      $@"
	$(Q)$(CC) $(LDSAN) -o $@ $^ $(LDLIBS)

# The benchmark's database limit: the app's ledger core (ledger_move) on the socket.
$(BUILD)/bench-dblimit: $(BUILD)/tests/bench/dblimit.o $(LIB_OBJ)
	@echo "  LD      $@"
	$(Q)$(CC) $(LDSAN) -o $@ $^ $(LDLIBS)

# The service against its limits on a private stack, with wrk (Debian's);
# about 5 minutes. Report on stdout and in tests/bench/RESULTS.md
# (tests/bench/run.sh; BENCH_SECONDS=, BENCH_WORKERS=, ... tune it).
bench: deps
	@$(MAKE) --no-print-directory all $(BUILD)/payd-hello $(BUILD)/bench-dblimit
	@sh tests/bench/run.sh $(BUILD)

-include $(BUILD)/tests/bench/hello.d $(BUILD)/tests/bench/dblimit.d

# A Galera cluster on this machine (docs/cluster.md): three nodes and two
# app hosts in network namespaces, nginx on 127.0.0.1:$(or $(PORT),8080);
# Ctrl-C stops it. As root.
cluster: deps
	@$(MAKE) --no-print-directory all
	@sh tests/cluster/run.sh

# The money suites and faults under transfer load against such a cluster
# (tests/cluster/test.sh; about a minute and a half; part of make test).
test-cluster: deps
	@$(MAKE) --no-print-directory all $(BUILD)/check_integration \
	    $(BUILD)/cluster-load
	@sh tests/cluster/test.sh $(BUILD)

# POST /transfer on the dev cluster vs one server: transfers/s, p99 and
# retries per 1000 transfers (tests/cluster/bench.sh; BENCH_CONNS=,
# BENCH_SECONDS=; about 2 minutes).
bench-cluster: deps
	@$(MAKE) --no-print-directory all $(BUILD)/cluster-load
	@sh tests/cluster/bench.sh $(BUILD)

# It shares the integration client's libcurl request (curl_req.c).
CLUSTER_LOAD_SRC = tests/cluster/load.c tests/integration/curl_req.c

$(BUILD)/cluster-load: $(CLUSTER_LOAD_SRC) tests/integration/curl_req.h
	@mkdir -p $(@D)
	@echo "  CC      $<"
	$(Q)$(CC) $(CFLAGS) -Itests/integration -pthread \
	    $(shell pkg-config --cflags libcurl) -o $@ $(CLUSTER_LOAD_SRC) \
	    $(shell pkg-config --libs libcurl json-c) -pthread

# Hardening (STYLE.md Habits): make lint, make fuzz, make valgrind; make
# test-hardening runs the three (about 4 minutes on 2 cores).

# Static analysis. cppcheck reads the app at once. clang-tidy (.clang-tidy)
# runs one process per file, since clang-tidy 14 carries analyzer state
# from one file to the next and then reports va_list errors that are not
# there; a stamp per file skips what did not change since it passed.
LINT_SRC = $(APP_SRC)
LINT_INC = $(shell pkg-config --cflags-only-I $(PKGS) 2>/dev/null)
TIDY_FLAGS = -std=c11 -D_GNU_SOURCE -Iinclude $(LINT_INC:-I%=-isystem%)
TIDY_STAMP = $(LINT_SRC:app/%.c=$(BUILD)/lint/%.tidy)

lint: lint-cppcheck $(TIDY_STAMP)
	@echo "  FORMAT  app include tests"
	$(Q)clang-format --dry-run -Werror $(FORMAT_SRC)
	@echo "lint: cppcheck, clang-tidy and clang-format found nothing"

lint-cppcheck:
	@echo "  CPPCHECK app/*.c"
	$(Q)cppcheck --enable=warning,style,portability --error-exitcode=1 -q \
	    --std=c11 --library=posix -D_GNU_SOURCE --inline-suppr \
	    --suppressions-list=tests/lint/cppcheck.supp \
	    --template='{file}:{line}: {severity}: {message} [{id}]' \
	    -Iinclude $(LINT_INC) $(LINT_SRC)

$(BUILD)/lint/%.tidy: app/%.c .clang-tidy $(wildcard include/*.h)
	@mkdir -p $(@D)
	@echo "  TIDY    $<"
	$(Q)clang-tidy --quiet $< -- $(TIDY_FLAGS) >$@.log 2>&1 || \
	    { grep -v 'warnings\? generated' $@.log; rm -f $@; exit 1; }
	$(Q)touch $@

# libFuzzer targets, tests/fuzz/fuzz_<name>.c, linked against the app's
# objects (main.c aside) built again with clang, ASan, UBSan and the
# fuzzer's coverage in build/fuzz/. FUZZ_SECONDS per target; a longer
# session: make fuzz FUZZ_SECONDS=3600 (README: Fuzzing).
FUZZ_CC = clang
FUZZ_DIR = build/fuzz
FUZZ_SECONDS ?= 30
FUZZ_FLAGS = -O1 $(SAN_FLAGS) -fsanitize=fuzzer-no-link
FUZZ_NAMES = $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BIN = $(FUZZ_NAMES:%=$(FUZZ_DIR)/fuzz_%)
FUZZ_OBJ = $(filter-out $(FUZZ_DIR)/app/main.o,$(APP_SRC:app/%.c=$(FUZZ_DIR)/app/%.o))

$(FUZZ_DIR)/app/%.o: app/%.c
	@mkdir -p $(@D)
	@echo "  FUZZCC  $<"
	$(Q)$(FUZZ_CC) $(CFLAGS_BASE) $(FUZZ_FLAGS) $(PKG_CFLAGS) -c -o $@ $<

# An archive, so that each target takes only the modules it calls.
$(FUZZ_DIR)/libpayd.a: $(FUZZ_OBJ)
	@echo "  AR      $@"
	$(Q)rm -f $@ && ar rcs $@ $^

$(FUZZ_DIR)/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h $(FUZZ_DIR)/libpayd.a
	@echo "  FUZZLD  $@"
	$(Q)$(FUZZ_CC) $(CFLAGS_BASE) $(FUZZ_FLAGS) -fsanitize=fuzzer \
	    $(PKG_CFLAGS) -o $@ $< $(FUZZ_DIR)/libpayd.a $(LDLIBS) -lcrypto

fuzz-build: $(FUZZ_BIN)

fuzz: $(FUZZ_BIN)
	@sh tests/fuzz/run.sh $(FUZZ_DIR) $(FUZZ_SECONDS) $(FUZZ_NAMES)

# One payd worker under valgrind's memcheck, serving 10 000 mixed requests
# through nginx on a private stack (tests/valgrind/run.sh).
$(BUILD)/vg_load: tests/valgrind/load.c
	@mkdir -p $(@D)
	@echo "  CC      $<"
	$(Q)$(CC) $(CFLAGS) $(shell pkg-config --cflags libcurl) -o $@ $< \
	    $(shell pkg-config --libs libcurl)

valgrind: $(BUILD)/payd $(BUILD)/vg_load
	@sh tests/valgrind/run.sh $(BUILD)

test-hardening: deps
	@$(MAKE) --no-print-directory lint
	@$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=$(HARDENING_FUZZ_SECONDS)
	@$(MAKE) --no-print-directory valgrind
	@echo "make test-hardening: lint, fuzz and valgrind passed"

HARDENING_FUZZ_SECONDS ?= 20

-include $(FUZZ_OBJ:.o=.d) $(FUZZ_BIN:=.d)
