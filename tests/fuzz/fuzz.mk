# libFuzzer targets (DESIGN §9: request parsing and event decoding), included by the root
# Makefile. The sources are compiled again with clang into build-fuzz/ under the fuzzer's coverage
# instrumentation plus AddressSanitizer and UndefinedBehaviorSanitizer. See tests/fuzz/README.md.
#
#   make fuzz          builds build-fuzz/fuzz_<target> for every tests/fuzz/fuzz_<target>.c
#   make fuzz-smoke    runs each target for FUZZ_SMOKE_SECONDS over its seed corpus
#   make fuzz-clean    removes build-fuzz/ (make clean does too)

FUZZ_BUILD   := build-fuzz
FUZZ_CC      ?= clang
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_CFLAGS  ?= -O1 -g -fno-omit-frame-pointer
FUZZ_ALL_CFLAGS = -std=c11 -D_GNU_SOURCE $(WARN) $(FUZZ_CFLAGS) $(FUZZ_SAN) -Isrc \
                  -I$(FUZZ_BUILD)/gen -DPP_VERSION='"$(VERSION)"' \
                  $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
FUZZ_SMOKE_SECONDS ?= 5

FUZZ_TARGET_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_HELPER_SRCS := tests/fuzz/fuzz_app.c
FUZZ_TARGETS     := $(filter-out $(FUZZ_HELPER_SRCS:tests/fuzz/%.c=%),\
                      $(FUZZ_TARGET_SRCS:tests/fuzz/%.c=%))
FUZZ_BINS        := $(FUZZ_TARGETS:%=$(FUZZ_BUILD)/%)
FUZZ_LIB_OBJS    := $(SRCS:%.c=$(FUZZ_BUILD)/obj/%.o) $(FUZZ_BUILD)/obj/gen/web_assets.o
FUZZ_HELPER_OBJS := $(FUZZ_HELPER_SRCS:%.c=$(FUZZ_BUILD)/obj/%.o)

.PHONY: fuzz fuzz-smoke fuzz-clean
# Built through pattern rules only; keep them so a rebuild relinks instead of recompiling.
.SECONDARY: $(FUZZ_TARGET_SRCS:%.c=$(FUZZ_BUILD)/obj/%.o) $(FUZZ_BUILD)/gen/web_assets.c

fuzz: $(FUZZ_BINS)

# Library code: coverage instrumentation without libFuzzer's main().
$(FUZZ_BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC-FUZZ $<"
	@$(FUZZ_CC) $(FUZZ_ALL_CFLAGS) -fsanitize=fuzzer-no-link -Itests/fuzz -MMD -MP -c $< -o $@

$(FUZZ_BUILD)/gen/web_assets.c: $(WEB_FILES) scripts/embed-web.sh
	@mkdir -p $(dir $@)
	@scripts/embed-web.sh web $@

$(FUZZ_BUILD)/obj/gen/web_assets.o: $(FUZZ_BUILD)/gen/web_assets.c
	@mkdir -p $(dir $@)
	@$(FUZZ_CC) $(FUZZ_ALL_CFLAGS) -Wno-overlength-strings -c $< -o $@

$(FUZZ_BUILD)/libpixelprompt.a: $(FUZZ_LIB_OBJS)
	@rm -f $@
	@ar rcs $@ $^

$(FUZZ_BUILD)/fuzz_%: $(FUZZ_BUILD)/obj/tests/fuzz/fuzz_%.o $(FUZZ_HELPER_OBJS) \
                      $(FUZZ_BUILD)/libpixelprompt.a
	@echo "  LD-FUZZ $@"
	@$(FUZZ_CC) $(FUZZ_SAN) -fsanitize=fuzzer -o $@ $^ $(LDLIBS)

# Each target over its seeds; new inputs go to build-fuzz/corpus/<target> (the seeds in the tree
# are never written), crash reproducers to build-fuzz/artifacts/.
fuzz-smoke: fuzz
	@mkdir -p $(FUZZ_BUILD)/artifacts
	@set -e; for t in $(FUZZ_TARGETS); do \
	  echo "== fuzz-smoke: $$t ($(FUZZ_SMOKE_SECONDS) s)"; \
	  mkdir -p $(FUZZ_BUILD)/corpus/$$t; \
	  dict=; [ -f tests/fuzz/$$t.dict ] && dict=-dict=tests/fuzz/$$t.dict; \
	  $(FUZZ_BUILD)/$$t -max_total_time=$(FUZZ_SMOKE_SECONDS) -timeout=10 -rss_limit_mb=2048 \
	    -print_final_stats=1 $$dict -artifact_prefix=$(FUZZ_BUILD)/artifacts/$$t- \
	    $(FUZZ_BUILD)/corpus/$$t tests/fuzz/corpus/$$t 2>$(FUZZ_BUILD)/$$t.log \
	  || { tail -n 60 $(FUZZ_BUILD)/$$t.log; echo "fuzz-smoke: $$t FAILED"; exit 1; }; \
	  grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb)' $(FUZZ_BUILD)/$$t.log || true; \
	done

fuzz-clean:
	rm -rf $(FUZZ_BUILD)

clean: fuzz-clean

-include $(shell find $(FUZZ_BUILD)/obj -name '*.d' 2>/dev/null)
