# concdemo - build, test, sanitizers, benchmarks.
#
#   make            build build/concdemo
#   make demo       install what is missing, build, run the race and its fix
#   make test       the CUnit suites (plain build, with TSan assertions)
#   make tsan/asan  everything built with ThreadSanitizer / ASan+UBSan
#   make test-tsan / test-asan    the suites inside those builds
#   make check      test + test-tsan + test-asan: what CI runs
#   make helgrind   the race under Valgrind's Helgrind
#   make bench      instrumented vs raw mutex cost
#   make install    PREFIX=/usr/local DESTDIR=

CC      ?= cc
B       ?= build
PREFIX  ?= /usr/local
SAN     ?=
OPT     ?= -O2 -g
WARN     = -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes
CFLAGS  += -std=c11 -D_POSIX_C_SOURCE=200809L $(OPT) $(WARN) -pthread -MMD -MP $(SAN)
LDFLAGS += -pthread $(SAN)
LDLIBS  += -lm
VIEW_LIBS = -lncurses

LIB_SRC  := $(wildcard lib/*.c)
DEMO_SRC := $(wildcard demos/*.c)
CLI_SRC  := cli/run.c cli/report.c cli/screen.c cli/observer.c
TEST_SRC := $(wildcard tests/*.c)
CORE_OBJ := $(patsubst %.c,$(B)/%.o,$(LIB_SRC) $(DEMO_SRC) $(CLI_SRC))

TSAN_FLAGS = -fsanitize=thread
ASAN_FLAGS = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined

.PHONY: all demo test tsan asan test-tsan test-asan check helgrind bench \
        install clean deps

all: $(B)/concdemo

$(B)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

# Only the command links ncurses (cli/view.c); the tests use the screen model.
$(B)/concdemo: $(CORE_OBJ) $(B)/cli/main.o $(B)/cli/view.o
	$(CC) $(LDFLAGS) $^ -o $@ $(LDLIBS) $(VIEW_LIBS)

$(B)/test_runner: $(CORE_OBJ) $(patsubst %.c,$(B)/%.o,$(TEST_SRC))
	$(CC) $(LDFLAGS) $^ -o $@ $(LDLIBS) -lcunit

$(B)/bench_mutex: $(CORE_OBJ) $(B)/bench/bench_mutex.o
	$(CC) $(LDFLAGS) $^ -o $@ $(LDLIBS)

deps:
	@sh scripts/deps.sh

demo: deps all
	./$(B)/concdemo race; ./$(B)/concdemo race --fixed

# The suites find the binaries they drive through these variables.
RUN_TESTS = CONCDEMO=$(B)/concdemo CONCDEMO_TSAN=build/tsan/concdemo

test: $(B)/test_runner $(B)/concdemo tsan-bin
	$(RUN_TESTS) ./$(B)/test_runner

tsan-bin:
	$(MAKE) --no-print-directory B=build/tsan SAN="$(TSAN_FLAGS)" build/tsan/concdemo

tsan:
	$(MAKE) --no-print-directory B=build/tsan SAN="$(TSAN_FLAGS)" build/tsan/concdemo build/tsan/test_runner

asan:
	$(MAKE) --no-print-directory B=build/asan SAN="$(ASAN_FLAGS)" build/asan/concdemo build/asan/test_runner

test-tsan: tsan
	CONCDEMO=build/tsan/concdemo CONCDEMO_TSAN=build/tsan/concdemo \
	  TSAN_OPTIONS="halt_on_error=0 exitcode=66 second_deadlock_stack=1" ./build/tsan/test_runner

test-asan: asan tsan-bin
	CONCDEMO=build/asan/concdemo CONCDEMO_TSAN=build/tsan/concdemo \
	  ASAN_OPTIONS=detect_leaks=1 ./build/asan/test_runner

check: deps
	$(MAKE) --no-print-directory test
	$(MAKE) --no-print-directory test-tsan
	$(MAKE) --no-print-directory test-asan

helgrind: all
	@command -v valgrind >/dev/null || { echo "make helgrind needs valgrind: apt-get install valgrind"; exit 2; }
	-valgrind --tool=helgrind ./$(B)/concdemo race --iterations 2
	valgrind --tool=helgrind --error-exitcode=3 ./$(B)/concdemo race --fixed=mutex --iterations 2

bench: $(B)/bench_mutex
	./$(B)/bench_mutex

install: all
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 755 $(B)/concdemo $(DESTDIR)$(PREFIX)/bin/concdemo

clean:
	rm -rf build

-include $(shell find build -name '*.d' 2>/dev/null)
