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

.PHONY: all deps run test test-unit test-integration test-asan asan test-deploy \
	bench fuzz lint format format-check valgrind clean

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

test-unit: $(BUILD)/check_unit
	$(BUILD)/check_unit

test-integration: $(BUILD)/payd $(BUILD)/check_integration
	sh tests/lib/integration.sh $(BUILD)

# The installer, the systemd units and the derived nginx configuration, in
# a staging root against a private MariaDB (as root; about 10 s).
test-deploy: all
	sh tests/deploy/test_install.sh

# The unit and integration tests again, with ASan and UBSan in the app.
test-asan:
	@$(MAKE) --no-print-directory SANITIZE=1 test-unit test-integration

asan: ; @$(MAKE) --no-print-directory SANITIZE=1 all

test: deps
	@$(MAKE) --no-print-directory all $(BUILD)/check_unit $(BUILD)/check_integration
	@$(MAKE) --no-print-directory test-unit
	@$(MAKE) --no-print-directory test-integration
	@$(MAKE) --no-print-directory test-asan
	@echo "make test: all suites passed"

format:
	clang-format -i app/*.c include/*.h

format-check:
	clang-format --dry-run -Werror app/*.c include/*.h

clean:
	rm -rf build

-include $(APP_OBJ:.o=.d) $(UNIT_OBJ:.o=.d) $(INTEG_OBJ:.o=.d)

# The benchmark's trivial responder: payd's loop without the database.
$(BUILD)/payd-hello: $(BUILD)/tests/bench/hello.o $(LIB_OBJ)
	@echo "  LD      $@"
	$(Q)$(CC) $(LDSAN) -o $@ $^ $(LDLIBS)
