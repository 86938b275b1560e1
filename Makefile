# Pixel Prompt: plain make (see docs/adr/0001-build-with-plain-make.md).
# `make run` and `make test` install what is missing first (scripts/bootstrap.sh).

PKGS    := libmicrohttpd libcurl jansson sqlite3 spng libjpeg libwebp libzip openssl
CC      ?= cc
VERSION := $(shell cat VERSION 2>/dev/null || echo 0.0.0)
BUILD   ?= build
SAN     ?=

WARN    := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wvla
CFLAGS  ?= -O2 -g
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE $(WARN) $(CFLAGS) $(SAN) -Isrc -I$(BUILD)/gen \
             -DPP_VERSION='"$(VERSION)"' $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDLIBS  := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lpthread -lm

SRCS      := $(shell find src -name '*.c' ! -name main.c | sort)
OBJS      := $(SRCS:%.c=$(BUILD)/obj/%.o) $(BUILD)/obj/gen/web_assets.o
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
WEB_FILES := $(shell find web -type f 2>/dev/null | sort)

.PHONY: deps-test all run test test-unit test-integration test-e2e test-asan check-tools bootstrap clean \
        format bench lambda deps

all: $(BUILD)/pixelprompt

deps:
	@scripts/bootstrap.sh

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(ALL_CFLAGS) -MMD -MP -c $< -o $@

# Web assets are embedded in the binary at build time (no Node needed to run).
$(BUILD)/gen/web_assets.c: $(WEB_FILES) scripts/embed-web.sh
	@mkdir -p $(dir $@)
	@echo "  EMBED   web/"
	@scripts/embed-web.sh web $@

$(BUILD)/obj/gen/web_assets.o: $(BUILD)/gen/web_assets.c
	@mkdir -p $(dir $@)
	@$(CC) $(ALL_CFLAGS) -Wno-overlength-strings -c $< -o $@

# A static archive, so a test links only the objects it uses.
$(BUILD)/libpixelprompt.a: $(OBJS)
	@rm -f $@
	@echo "  AR      $@"
	@ar rcs $@ $^

$(BUILD)/pixelprompt: $(BUILD)/obj/src/main.o $(BUILD)/libpixelprompt.a
	@echo "  LD      $@"
	@$(CC) $(SAN) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libpixelprompt.a
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	@$(CC) $(ALL_CFLAGS) -Itests/unit -o $@ $< $(BUILD)/libpixelprompt.a $(LDLIBS) -lcmocka

run: deps
	@$(MAKE) --no-print-directory all
	./$(BUILD)/pixelprompt serve

deps-test:
	@scripts/bootstrap.sh --test

test: deps-test
	@$(MAKE) --no-print-directory all $(UNIT_BINS)
	@scripts/run-tests.sh $(BUILD)

# The same suite under AddressSanitizer + UndefinedBehaviorSanitizer.
test-asan: deps-test
	@$(MAKE) --no-print-directory BUILD=build-asan CFLAGS="-O1 -g -fno-omit-frame-pointer" \
	  SAN="-fsanitize=address,undefined -fno-sanitize-recover=all" all \
	  $(UNIT_BINS:$(BUILD)/%=build-asan/%)
	@PP_SANITIZED=1 scripts/run-tests.sh build-asan

test-unit: all $(UNIT_BINS)
	@scripts/run-tests.sh $(BUILD) unit

format:
	clang-format -i $$(find src tests/unit -name '*.[ch]')

clean:
	rm -rf build build-asan

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)

# Lambda packaging and SAM's makefile build (build-GenerateFunction) live beside the template.
-include deploy/lambda.mk
-include tests/fuzz/fuzz.mk
