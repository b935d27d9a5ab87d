# Things - an email-driven programme engine.
#
#   make            build ./things (needs the -dev packages: see `make deps`)
#   make demo       install what is missing, then run a simulated programme
#   make test       install what is missing, then run every test under ASan+UBSan
#   make asan       build with AddressSanitizer+UBSan and run the tests
#   make valgrind   run the unit tests under valgrind (leak check)
#   make install    PREFIX=/usr/local DESTDIR=

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
CC ?= cc
CFLAGS ?= -O2 -g
BUILD ?= build
SAN ?=

PKGS = libetpan libcurl libcmark sqlite3 libxml-2.0 inih gnutls libidn2
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
TEST_LIBS := $(shell pkg-config --libs cmocka 2>/dev/null)

WARN = -Wall -Wextra -Werror -Wshadow -Wmissing-prototypes -Wstrict-prototypes \
       -Wsign-compare -Wformat=2 -Wno-format-nonliteral -Wno-format-truncation
# (snprintf truncation is deliberate for messages; where it matters the
# return value is checked)
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE $(WARN) $(CFLAGS) $(SAN) $(PKG_CFLAGS) -MMD -MP
ALL_LDFLAGS = $(LDFLAGS) $(SAN)

MODULES = util store content mailer inbox feeds
LIB_SRC := $(foreach m,$(MODULES),$(wildcard $(m)/*.c))
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/%.o)
LIB = $(BUILD)/libthings.a
CLI_SRC := $(wildcard cli/*.c)
CLI_OBJ := $(CLI_SRC:%.c=$(BUILD)/%.o)
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)

# V=1 shows the full commands.
Q = $(if $(filter 1,$(V)),,@)

ASAN = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

.PHONY: all deps demo test check unit e2e asan tsan valgrind valgrind-e2e install fuzz-feeds fuzz-compose fuzz-smtp uninstall clean bench fuzz

all: $(BUILD)/things
	@if [ "$(BUILD)" = build ]; then ln -sf build/things things; fi

$(BUILD)/things: $(CLI_OBJ) $(LIB)
	@echo "  LD      $@"
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $(CLI_OBJ) $(LIB) $(PKG_LIBS)

$(LIB): $(LIB_OBJ)
	@rm -f $@
	@echo "  AR      $@"
	$(Q)$(AR) rcs $@ $(LIB_OBJ)

$(BUILD)/%.o: %.c
	@mkdir -p $(@D)
	@if [ -z "$(PKG_LIBS)" ]; then echo "missing -dev packages: run 'make deps' (as root)" >&2; exit 1; fi
	@echo "  CC      $@"
	$(Q)$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/tests/%: tests/unit/%.c $(LIB)
	@mkdir -p $(@D)
	@echo "  CCLD    $@"
	$(Q)$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(LIB) $(PKG_LIBS) $(TEST_LIBS)

-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d)

deps:
	@tools/deps.sh

# The two commands of the README.  Each installs what it needs first, then
# calls make again so that pkg-config is asked after the install.
demo: deps
	@$(MAKE) --no-print-directory all
	@tools/demo.sh ./build/things

test: deps
	@$(MAKE) --no-print-directory asan
	@$(MAKE) --no-print-directory tsan

asan:
	@$(MAKE) --no-print-directory BUILD=build/asan SAN="$(ASAN)" CFLAGS="-O1 -g" check

# The tests that run the feeds reader's thread, under ThreadSanitizer.  GCC's
# -Wmaybe-uninitialized misfires on TSan's instrumentation at -O1 (it does
# not in the other builds, which keep it as an error).
TSAN_TESTS := $(addprefix build/tsan/tests/,test_feeds_reader test_feeds_poll)
tsan:
	@$(MAKE) --no-print-directory BUILD=build/tsan SAN="-fsanitize=thread" \
	    CFLAGS="-O1 -g -Wno-maybe-uninitialized" $(TSAN_TESTS)
	@TSAN_OPTIONS=halt_on_error=1 tests/run-unit.sh $(TSAN_TESTS)

# The whole suite against the binary in $(BUILD).
check: $(BUILD)/things $(UNIT_BIN)
	@tests/run-unit.sh $(UNIT_BIN)
	@THINGS=$(abspath $(BUILD)/things) tests/e2e/run.sh

unit: $(UNIT_BIN)
	@tests/run-unit.sh $(UNIT_BIN)

e2e: $(BUILD)/things
	@THINGS=$(abspath $(BUILD)/things) tests/e2e/run.sh

# libFuzzer on the message parser and classifier (clang).  FUZZ_TIME seconds;
# the corpus grows in build/fuzz-corpus, seeded from the mail fixtures.
# libetpan's pkg-config libs carry a gcc-only -specs file: plain -letpan here.
FUZZ_TIME ?= 60
FUZZ_SRC := tests/fuzz/fuzz_parse.c $(wildcard inbox/parse*.c inbox/mime_*.c) inbox/charset.c \
	inbox/html_text.c $(wildcard inbox/classify*.c) inbox/alternate.c util/buf.c util/err.c \
	util/strutil.c util/timeutil.c util/token.c util/utf8.c
fuzz:
	@mkdir -p build/fuzz-corpus
	clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -std=c11 \
	    -D_GNU_SOURCE $$(pkg-config --cflags libxml-2.0) -o build/fuzz_parse $(FUZZ_SRC) \
	    -letpan -lxml2
	build/fuzz_parse -dict=tests/fuzz/mail.dict -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
	    -max_total_time=$(FUZZ_TIME) build/fuzz-corpus tests/fixtures/mail

# The same for blog feeds (parse, HTML to text, discovery, URLs), the
# message composer (names, subjects, ids into headers) and the SMTP client's
# reading of what a server sends.
FUZZ_UTIL := util/buf.c util/err.c util/strutil.c util/timeutil.c util/utf8.c
fuzz-feeds:
	@mkdir -p build/fuzz-feeds-corpus
	clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -std=c11 \
	    -D_GNU_SOURCE $$(pkg-config --cflags libxml-2.0) -o build/fuzz_feeds \
	    tests/fuzz/fuzz_feeds.c feeds/parse.c feeds/parse_xml.c feeds/date.c feeds/parse_text.c \
	    feeds/text.c feeds/text_footer.c feeds/url.c \
	    feeds/discover.c feeds/fetch.c feeds/addr.c $(FUZZ_UTIL) -lcurl -lxml2 -lgnutls -lidn2
	build/fuzz_feeds -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
	    -max_total_time=$(FUZZ_TIME) build/fuzz-feeds-corpus tests/fixtures/feeds

fuzz-compose:
	@mkdir -p build/fuzz-compose-corpus
	clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -std=c11 \
	    -D_GNU_SOURCE -o build/fuzz_compose tests/fuzz/fuzz_compose.c mailer/compose.c \
	    mailer/rfc2047.c $(FUZZ_UTIL) -letpan
	build/fuzz_compose -max_len=4096 -timeout=10 -max_total_time=$(FUZZ_TIME) \
	    build/fuzz-compose-corpus

fuzz-smtp:
	@mkdir -p build/fuzz-smtp-corpus
	clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -std=c11 \
	    -D_GNU_SOURCE -o build/fuzz_smtp tests/fuzz/fuzz_smtp.c mailer/smtp_reply.c \
	    mailer/smtp_dialogue.c $(FUZZ_UTIL)
	build/fuzz_smtp -max_len=8192 -timeout=10 -max_total_time=$(FUZZ_TIME) \
	    build/fuzz-smtp-corpus tests/fuzz/smtp-seeds

valgrind: $(UNIT_BIN)
	@VALGRIND=1 tests/run-unit.sh $(UNIT_BIN)

# The end-to-end suite with every `things` run under valgrind (slow: ~10 min),
# but for the tests that crash or kill `things` on purpose (no exit, no leak
# check; t_delivery_crash's hundreds of runs would take an hour) and the one
# that times a second run into the middle of a first one's send (under
# valgrind the first may be done before the second starts).
VALGRIND_E2E := $(filter-out t_delivery_crash t_inbox_crash t_feeds_crash t_delivery_overlap, \
	$(basename $(notdir $(wildcard tests/e2e/t_*.sh))))
valgrind-e2e: $(BUILD)/things
	@rm -rf build/valgrind-logs
	@VALGRIND_LOGS=$(abspath build/valgrind-logs) THINGS_BIN=$(abspath $(BUILD)/things) \
	    THINGS_TIMEOUT=600 THINGS=$(abspath tests/tools/valgrind-things) \
	    tests/e2e/run.sh $(VALGRIND_E2E)
	@! find build/valgrind-logs -type f -size +0 | grep . || \
	    { echo "valgrind-e2e: reports above are not empty" >&2; exit 1; }

install: $(BUILD)/things
	install -d $(DESTDIR)$(BINDIR)
	install -m 755 $(BUILD)/things $(DESTDIR)$(BINDIR)/things

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/things

clean:
	rm -rf build things
