# concdemo - build, test, sanitizers, benchmarks.
#
#   make            build build/concdemo
#   make demo       install what is missing, build, run the race and its fix
#   make test       the quick run: the CUnit suites without their long tests
#                   (plain build; under a minute)
#   make test-all   every test (plain build, with TSan assertions)
#   make tsan/asan  everything built with ThreadSanitizer / ASan+UBSan
#   make test-tsan / test-asan    every test inside those builds
#   make check      test-all + test-tsan + test-asan + helgrind + drd: what
#                   CI runs
#   make helgrind / drd   Valgrind's detectors: broken race reported, fixes clean
#   make bench      instrumented vs raw mutex cost; channel messages/s;
#                   condvar and semaphore ping-pong vs pthread's and sem_t;
#                   controlled schedules/s (race; every scenario) and
#                   schedules needed per bug;
#                   keyed fix vs global mutex, orders/s; the keyed lock's
#                   cost vs cd_mutex, 1/8/64 keys, bytes per idle key;
#                   fan-in (concdemo bench fanin --quick); concdemo watch's
#                   cost on 10^7 uncontended locks; db-race fixes,
#                   checkouts/s with 1/4/16 instances (bench/bench_db.sh)
#   make check-exercise EX=race [FILE=path.c or part.patch]   grade an exercise
#                   (concdemo check)
#   make install    PREFIX=/usr/local DESTDIR=   (binary, man page, completion,
#                   and what concdemo check needs; make uninstall)
#   make deb        build/deb/concdemo_VERSION_ARCH.deb of what make install
#                   PREFIX=/usr installs (make deb-system: as root, dpkg -i
#                   it, use it, dpkg -r it; make check does when root)

# No built-in implicit rules: every rule the build needs is written here,
# and without them make finds a build up to date in a tenth of the time
# (it no longer tries every header the .d files name against each
# built-in rule): `concdemo check` runs make up to four times a check.
MAKEFLAGS += --no-builtin-rules
.SUFFIXES:

CC      ?= cc
B       ?= build
PREFIX  ?= /usr/local
SAN     ?=
OPT     ?= -O2 -g
WARN     = -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes
CFLAGS  += -std=c11 -D_POSIX_C_SOURCE=200809L $(OPT) $(WARN) -pthread -MMD -MP $(SAN)
# --as-needed: a program links only the libraries it calls (SQLite only
# where db-race's code is; each library linked is loaded at every start).
LDFLAGS += -pthread $(SAN) -Wl,--as-needed
LDLIBS  += -lm
# With Valgrind's headers, the registry tells Helgrind/DRD which races are
# intended (relaxed atomics read by observers).
ifneq ($(wildcard /usr/include/valgrind/helgrind.h),)
CFLAGS  += -DCD_HAVE_VALGRIND
endif
VIEW_LIBS = -lncurses
# With libseccomp's header, exercise programs run under a seccomp filter
# (cli/exsandbox.c); without it they still build, and concdemo check says
# that the filter is missing.
ifneq ($(wildcard /usr/include/seccomp.h),)
SECCOMP_CFLAGS = -DCD_HAVE_SECCOMP
SECCOMP_LIBS   = -lseccomp
endif

# db-race's databases: SQLite (libsqlite3-dev) and PostgreSQL's client
# library (libpq-dev), each compiled in when its header is there (make deps
# installs both); without one, db-race says how to get it. libpq is loaded
# when a PostgreSQL database is opened (demos/db.c), not linked.
ifneq ($(wildcard /usr/include/sqlite3.h),)
DB_CFLAGS += -DCD_HAVE_SQLITE
DB_LIBS   += -lsqlite3
endif
ifneq ($(wildcard /usr/include/postgresql/libpq-fe.h),)
DB_CFLAGS += -DCD_HAVE_PQ -I/usr/include/postgresql
DB_LIBS   += -ldl
endif
LDLIBS  += $(DB_LIBS)

LIB_SRC  := $(wildcard lib/*.c)
DEMO_SRC := $(wildcard demos/*.c)
CLI_SRC  := cli/run.c cli/report.c cli/step.c cli/explore.c cli/screen.c cli/observer.c \
            cli/grade.c cli/check.c cli/spawn.c cli/exfile.c cli/options.c \
            cli/ledger.c cli/books.c cli/sandbox.c cli/fanin.c cli/workspace.c \
            cli/watch.c cli/spans.c cli/timeline.c cli/chrome.c cli/exdb.c
# The command alone: its table (main.c), one file per command (cmd_*.c: a new
# command needs no line here), what they share (cmd.c), and the live view.
CMD_SRC  := cli/main.c cli/cmd.c $(sort $(wildcard cli/cmd_*.c)) cli/view.c
# A test file's suites are made from its "suite:" and "test:" comments
# (tests/suites.awk): the runner is built from build/gen/tests/test_*.c,
# each of which includes its test file and adds the tables.
TEST_GEN := build/gen
TEST_C   := $(patsubst %.c,$(TEST_GEN)/%.c,$(wildcard tests/test_*.c))
TEST_OBJ := $(patsubst %.c,$(B)/%.o,$(filter-out tests/test_%.c,$(wildcard tests/*.c))) \
            $(patsubst $(TEST_GEN)/%.c,$(B)/gen/%.o,$(TEST_C))
CORE_OBJ := $(patsubst %.c,$(B)/%.o,$(LIB_SRC) $(DEMO_SRC) $(CLI_SRC))
# The exercises' harnesses: built by the project, linked with a learner's file.
HARNESS_OBJ := $(patsubst %.c,$(B)/%.o,$(wildcard lessons/harness/*.c))
# What the harnesses share (the bank of deadlock and livelock, the
# executor run of the async exercises, a thread beside a team): linked
# with every exercise beside its own harness. They name no learner's function (the harness hands
# them its), so an exercise that does not use them links as well.
EX_SHARED_OBJ := $(B)/lessons/harness/bank.o $(B)/lessons/harness/tasks.o \
                 $(B)/lessons/harness/team.o
# concdemo watch's preloaded library (see "watch" below).
WATCH_LIB := $(B)/libconcdemo-watch.so
WATCH_PIC := $(patsubst %.c,$(B)/pic/%.o,$(LIB_SRC) watch/agent.c)
WATCH_RAW := $(B)/pic/watch/wrap.o $(B)/pic/watch/real.o

TSAN_FLAGS = -fsanitize=thread
ASAN_FLAGS = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined

.PHONY: all demo test test-all tsan asan test-tsan test-asan check helgrind drd bench \
        install uninstall man deb deb-system clean deps exercise exercise-tsan exercise-lib \
        exercise-lib-tsan check-exercise pictures

# exhost.o, exsandbox.o and the harnesses are not part of concdemo:
# `concdemo check` links them with an exercise file. Built here so that
# their warnings show with everything else's.
EX_HOST_OBJ := $(B)/cli/exsandbox.o $(B)/cli/exhost.o
all: $(B)/concdemo $(EX_HOST_OBJ) $(HARNESS_OBJ) $(if $(SAN),,$(WATCH_LIB))

# What these objects were built with, optional libraries included: when it
# changes (libseccomp installed since the last build, say), every object is
# rebuilt, not only the ones whose sources changed. Expanded here, once: a
# target's own additions (exsandbox.o's, the harnesses') must not reach it.
# Compared and written while make reads this file ($(file)), not by a
# recipe: a check runs make six times, and a cached one runs no command.
# Written to a new file and renamed, so that a make beside reads it whole.
BUILD_CONFIG := $(CC) $(CFLAGS) $(SECCOMP_CFLAGS) $(SECCOMP_LIBS) $(DB_CFLAGS) $(DB_LIBS)
ifneq ($(file <$(B)/.config),$(BUILD_CONFIG))
$(shell mkdir -p $(B) && t=$(B)/.config.$$$$ && \
        echo '$(BUILD_CONFIG)' > $$t && mv -f $$t $(B)/.config)
endif
$(B)/.config:

$(B)/%.o: %.c $(B)/.config
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

# Kept after the build: make would delete them as intermediate files.
.SECONDARY: $(TEST_C)
$(TEST_GEN)/tests/%.c: tests/%.c tests/suites.awk
	@mkdir -p $(dir $@)
	awk -v src=$< -f tests/suites.awk $< > $@.$$$$ && mv $@.$$$$ $@ \
	    || { rm -f $@.$$$$; exit 1; }

$(B)/gen/%.o: $(TEST_GEN)/%.c $(B)/.config
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(HARNESS_OBJ): CFLAGS += -Ilib -Idemos -Ilessons
$(B)/cli/exsandbox.o: CFLAGS += $(SECCOMP_CFLAGS)
$(B)/demos/db.o $(B)/lessons/harness/db_race.o: CFLAGS += $(DB_CFLAGS)

# ------------------------------------------------------------------ watch
# `concdemo watch` preloads this library into the program it watches
# (watch/watch.h): libconc again as position-independent code, its pthread
# calls renamed to the real functions (watch/real.h, forced in), plus the
# wrappers and real.c, built without it. Everything is hidden but the
# wrappers (CD_EXPORT): the program may have names of libconc's own. (Not a
# version script: a versioned library's unversioned wrappers would not
# interpose the program's versioned references, pthread_create@GLIBC_2.34.) Plain builds only: a sanitizer's
# runtime cannot be preloaded into a program built without it.
# initial-exec TLS: the library is loaded with the program, never by
# dlopen, so a thread's id is one load away rather than a call.
WATCH_CFLAGS = -fPIC -fvisibility=hidden -ftls-model=initial-exec

$(WATCH_PIC): $(B)/pic/%.o: %.c $(B)/.config
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(WATCH_CFLAGS) -include watch/real.h -c $< -o $@

$(WATCH_RAW): $(B)/pic/%.o: %.c $(B)/.config
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(WATCH_CFLAGS) -c $< -o $@

$(WATCH_LIB): $(WATCH_PIC) $(WATCH_RAW)
	$(CC) -shared $(LDFLAGS) $^ -o $@ -ldl $(LDLIBS)

# Only the command links ncurses (cli/view.c); the tests use the screen model.
$(B)/concdemo: $(CORE_OBJ) $(patsubst %.c,$(B)/%.o,$(CMD_SRC))
	$(CC) $(LDFLAGS) $^ -o $@ $(LDLIBS) $(VIEW_LIBS)

$(B)/test_runner: $(CORE_OBJ) $(TEST_OBJ)
	$(CC) $(LDFLAGS) $^ -o $@ $(LDLIBS) -lcunit

$(B)/bench_%: $(CORE_OBJ) $(B)/bench/bench_%.o
	$(CC) $(LDFLAGS) $^ -o $@ $(LDLIBS)

# ------------------------------------------------------------------ exercises
# `concdemo check NAME` grades a learner's exercise file (lessons/exercises/):
# it asks make to build the file into a program of its own - the learner's
# file, the exercise's harness (lessons/harness/EX_HARNESS.c: workers,
# invariant, cd_exercise) and what harnesses share, the host main of cli/exhost.c and the library
# archive - with the project's flags: make exercise EX_SRC=file.c
# EX_HARNESS=race EX_BIN=build/exercises/.. (exercise-tsan: the same
# against the ThreadSanitizer build). The learner's file is its own
# translation unit: a #define there reaches nothing of the harness, and
# scripts/exsyms.sh refuses it when it defines a global that
# lessons/harness/EX_HARNESS.h does not list. The library and harness
# objects are the ones `make` builds, so only the learner's file compiles.
# cli/exsandbox.o comes first: its .preinit_array entry (the seccomp
# filter) runs before anything of the learner's, and main is reached
# through it (--wrap=main), so that the checker knows when it is.
# It makes exercise-lib first, under a time limit of its own: the learner's
# file gets a short one. concdemo check holds a lock (build/exercises/.lock)
# while it builds, so two checks never write the same file. The program is
# linked under another name and renamed: a check runs a hard link to it
# (cli/check.c), which a later build must replace, not overwrite.
$(B)/libconcdemo.a: $(CORE_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

ifneq ($(EX_BIN),)
EX_HEADER := $(if $(EX_HARNESS),$(wildcard lessons/harness/$(EX_HARNESS).h))
$(EX_BIN).o: $(EX_SRC)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Ilib -Idemos -Ilessons -c $< -o $@
ifneq ($(EX_HEADER),)
	@sh scripts/exsyms.sh $@ $(EX_HEADER) || { rm -f $@; exit 1; }

$(EX_BIN): $(B)/cli/exsandbox.o $(EX_BIN).o $(B)/lessons/harness/$(EX_HARNESS).o $(EX_SHARED_OBJ) $(B)/cli/exhost.o $(B)/libconcdemo.a
	$(CC) $(LDFLAGS) -Wl,--wrap=main $^ -o $@.new $(LDLIBS) $(SECCOMP_LIBS)
	@mv -f $@.new $@
else
$(EX_BIN): $(B)/cli/exsandbox.o $(EX_BIN).o $(B)/cli/exhost.o $(B)/libconcdemo.a
	$(CC) $(LDFLAGS) -Wl,--wrap=main $^ -o $@.new $(LDLIBS) $(SECCOMP_LIBS)
	@mv -f $@.new $@
endif

exercise: $(EX_BIN)
else
exercise:
	@echo "usage: make exercise EX_SRC=FILE.c EX_HARNESS=NAME EX_BIN=OUTPUT (concdemo check runs it)"; exit 2
endif

exercise-tsan:
	@$(MAKE) --no-print-directory B=build/tsan SAN="$(TSAN_FLAGS)" exercise

# No recipe (not even "@:", a shell each time): concdemo check runs make -s,
# which says nothing when all is up to date.
exercise-lib: $(B)/libconcdemo.a $(EX_HOST_OBJ) $(HARNESS_OBJ)

exercise-lib-tsan:
	@$(MAKE) --no-print-directory B=build/tsan SAN="$(TSAN_FLAGS)" exercise-lib

check-exercise: all
	@test -n "$(EX)" || { ./$(B)/concdemo check; exit 2; }
	./$(B)/concdemo check $(EX) $(if $(FILE),--file $(FILE))

deps:
	@sh scripts/deps.sh

demo: deps all
	./$(B)/concdemo race; ./$(B)/concdemo race --fixed

# The suites find the binaries they drive through these variables; `all`
# builds what they load beside them (watch's preloaded library, the
# exercise host), so that a fresh clone tests what `make` builds.
RUN_TESTS = CONCDEMO=$(B)/concdemo CONCDEMO_TSAN=build/tsan/concdemo
# Suites run this many at once, each in a runner of its own (much of a
# suite's time is spent waiting on simulated latency and on builds, so
# three keep two cores busy); TEST_JOBS=1 runs them one after another.
TEST_JOBS ?= 3
# The TSan runner's suites do five to fifteen times the work on the same
# two cores, and their runs are the ones that meet their limits when a
# busy machine slows them further: two at once (TSAN_TEST_JOBS).
TSAN_TEST_JOBS ?= 2

# test: every suite without its long tests (those that drive a whole tool:
# the TSan build, the grader, the worksheets' commands, the package,
# PostgreSQL; or load the machine on purpose) - the quick run, a minute at
# most. test-all: every test; check runs it in each build.
# Each builds what it runs first, one job per CPU (BUILD_JOBS, below).
test:
	$(MAKE) --no-print-directory $(BUILD_J) all $(B)/test_runner
	$(RUN_TESTS) ./$(B)/test_runner --quick -j $(TEST_JOBS)

test-all:
	$(MAKE) --no-print-directory $(BUILD_J) all $(B)/test_runner tsan-bin
	$(RUN_TESTS) ./$(B)/test_runner -j $(TEST_JOBS)

tsan-bin:
	$(MAKE) --no-print-directory B=build/tsan SAN="$(TSAN_FLAGS)" build/tsan/concdemo

tsan:
	$(MAKE) --no-print-directory B=build/tsan SAN="$(TSAN_FLAGS)" build/tsan/concdemo build/tsan/test_runner

asan:
	$(MAKE) --no-print-directory B=build/asan SAN="$(ASAN_FLAGS)" build/asan/concdemo build/asan/test_runner

test-tsan: tsan $(WATCH_LIB)
	CONCDEMO=build/tsan/concdemo CONCDEMO_TSAN=build/tsan/concdemo \
	  TSAN_OPTIONS="halt_on_error=0 exitcode=66 second_deadlock_stack=1" ./build/tsan/test_runner -j $(TSAN_TEST_JOBS)

test-asan: asan tsan-bin $(WATCH_LIB)
	CONCDEMO=build/asan/concdemo CONCDEMO_TSAN=build/tsan/concdemo \
	  ASAN_OPTIONS=detect_leaks=1 ./build/asan/test_runner -j $(TEST_JOBS)

# check builds everything its stages run first, one job per CPU (the
# stages themselves run one after another, each timing its own runs).
BUILD_JOBS ?= $(shell nproc 2>/dev/null || echo 2)
# ...unless make was started with -j N: its sub-makes share those jobs.
BUILD_J = $(if $(findstring jobserver,$(MAKEFLAGS)),,-j $(BUILD_JOBS))
check: deps
	$(MAKE) --no-print-directory $(BUILD_J) all $(B)/test_runner tsan asan
	$(MAKE) --no-print-directory test-all
	$(MAKE) --no-print-directory test-tsan
	$(MAKE) --no-print-directory test-asan
	$(MAKE) --no-print-directory helgrind drd
	@if [ "$$(id -u)" = 0 ]; then $(MAKE) --no-print-directory deb-system; \
	else echo "make check: not root: skipped make deb-system (the package through" \
	  "the system's dpkg); the install suite tests it in a temporary root"; fi

# Valgrind's race detectors: the broken race must be reported, every fix
# must be clean (error exit 3 otherwise). Suppressions explain themselves.
VG_FIXES = "race --fixed=mutex --iterations 2" "race --fixed=keyed --iterations 2" \
           "race --fixed=cas --iterations 2" "deadlock --fixed=ordering --iterations 2" \
           "deadlock --fixed=timeout --iterations 2" \
           "starvation --fixed=writer-pref --iterations 100" \
           "starvation --fixed=fair --iterations 100" \
           "backpressure --fixed=bounded --iterations 500" \
           "backpressure --fixed=drop --iterations 500" \
           "backpressure --fixed=timeout --iterations 500" \
           "lost-wakeup --fixed=state" "lost-wakeup --fixed=sem" \
           "spurious --fixed=while --iterations 2" \
           "spurious --fixed=two-conds --iterations 2" \
           "order-violation --fixed=cond --iterations 2" \
           "order-violation --fixed=join --iterations 2" \
           "order-violation --fixed=once --iterations 2" \
           "philosophers --fixed=ordering --iterations 2" \
           "philosophers --fixed=waiter --iterations 2" \
           "philosophers --fixed=timeout --iterations 2" \
           "publication --fixed=mutex --iterations 2" \
           "livelock --fixed=ordering --iterations 2" \
           "livelock --fixed=backoff --iterations 2" \
           "stampede --fixed=keyed --iterations 2" \
           "stampede --fixed=singleflight --iterations 2" \
           "webhook --fixed=keyed --iterations 2" \
           "webhook --fixed=idempotency --iterations 2" \
           "inventory --fixed=keyed --iterations 8" \
           "inventory --fixed=reserve --iterations 8" \
           "broadcast --fixed=bounded --iterations 40" \
           "db-race --fixed=cas" "db-race --fixed=tx" "db-race --fixed=unique" \
           "counter --fixed=mutex --iterations 2" \
           "counter --fixed=actor --iterations 2" \
           "counter --fixed=atomic --iterations 2" \
           "holdtime --fixed=copy-out --iterations 2" \
           "chat --fixed=outbox" "orphans --fixed=scope"
# Fixes judged by a latency: Valgrind runs one thread at a time, slowly, so
# on a busy machine such a run may miss its objective (exit 1, the
# verdict) with nothing wrong in the code; here only Valgrind's errors
# (exit 3) and crashes fail. The suites judge the latency.
VG_LATENCY = "offload --fixed=offload --latency-scale 10"
# offload at latency x10: Valgrind runs one thread at a time, so the loop
# waits for the pool's hashing thread to give up the one running slot;
# its time slices are tens of ms, under the x10 objective (500 ms), not
# under the plain 50 ms one. The hand-over to the pool is what is checked.
# Not publication --fixed=release-acquire: Helgrind and DRD do not model
# C11 acquire/release, so they report the fix itself; TSan, which does,
# checks it (tests/test_tsan.c). The webhook's fixes run on one worker: on
# several, Helgrind flags a write to a worker's own stack in the executor
# (cd_exec.c, worker_main) as it switches task stacks, whatever the demo
# does; DRD and TSan (tests/test_tsan.c, three workers) find none.
VALGRIND = valgrind --suppressions=tests/valgrind.supp --error-exitcode=3 -q

helgrind drd: all
	@command -v valgrind >/dev/null || { echo "make $@ needs valgrind: apt-get install valgrind"; exit 2; }
	@echo "== $@: the broken race (reports expected)"
	@$(VALGRIND) --tool=$@ ./$(B)/concdemo race --iterations 2 2>&1 | \
	  grep -m1 -A3 "Possible data race\|Conflicting" || { echo "$@ saw no race in the broken variant"; exit 1; }
	@for v in $(VG_FIXES); do echo "== $@: $$v"; \
	  $(VALGRIND) --tool=$@ ./$(B)/concdemo $$v >/dev/null || exit 1; done
	@for v in $(VG_LATENCY); do echo "== $@: $$v"; \
	  $(VALGRIND) --tool=$@ ./$(B)/concdemo $$v >/dev/null; rc=$$?; \
	  [ $$rc -le 1 ] || { echo "$@: $$v exited $$rc"; exit 1; }; done
	@echo "$@: every fix clean"

# Every bench/bench_*.c is a benchmark program; bench_sched.sh drives the
# controlled scheduler through the concdemo binary, bench_keyed.sh times
# the keyed fix against the global mutex (plain build, and TSan's if built).
BENCHES := $(patsubst bench/%.c,$(B)/%,$(wildcard bench/bench_*.c))

bench: $(BENCHES) $(B)/concdemo
	@for b in $(BENCHES); do ./$$b || exit 1; done
	@sh bench/bench_sched.sh ./$(B)/concdemo
	@sh bench/bench_keyed.sh ./$(B)/concdemo
	@sh bench/bench_db.sh ./$(B)/concdemo
	@if [ -x build/tsan/concdemo ]; then sh bench/bench_keyed.sh build/tsan/concdemo; fi
	@./$(B)/concdemo bench fanin --quick
	@sh bench/bench_watch.sh ./$(B)/concdemo

# The README's picture: a controlled run, so the same file every time.
pictures: $(B)/concdemo
	./$(B)/concdemo deadlock --sched=pct:3 --timeline docs/deadlock.svg >/dev/null; \
	    test $$? -eq 1

# The manual page is made from the binary's own help and scenario list.
$(B)/concdemo.1: $(B)/concdemo scripts/mkman.sh
	sh scripts/mkman.sh ./$(B)/concdemo > $@.tmp && mv $@.tmp $@

man: $(B)/concdemo.1

# The binary, its manual page and completion, and under share/concdemo/ all
# that `concdemo check` builds an exercise with (scripts/install.sh says
# what); uninstall removes exactly what install listed.
install: all exercise-lib exercise-lib-tsan $(B)/concdemo.1
	sh scripts/install.sh "$(DESTDIR)" "$(PREFIX)" $(B)

uninstall:
	sh scripts/uninstall.sh "$(DESTDIR)" "$(PREFIX)"

# A Debian package of exactly what `make install PREFIX=/usr` installs (and
# Debian's copyright and changelog), made with dpkg's own tools by
# scripts/mkdeb.sh from debian/: $(DEB_DIR)/concdemo_VERSION_ARCH.deb, its
# tree staged in $(DEB_DIR)/root. (dpkg-buildpackage -us -uc -b works too:
# debian/rules runs the same steps.)
DEB_DIR ?= $(B)/deb
deb: all exercise-lib exercise-lib-tsan $(B)/concdemo.1
	rm -rf $(DEB_DIR)/root $(DEB_DIR)/concdemo_*.deb
	$(MAKE) --no-print-directory install B=$(B) DESTDIR=$(DEB_DIR)/root PREFIX=/usr >/dev/null
	sh scripts/mkdeb.sh $(DEB_DIR)/root $(DEB_DIR)

# The package through the real dpkg, as root (scripts/deb-system.sh): it
# installs, runs, reads the manual, removes, and checks nothing is left.
# It never touches a concdemo already installed, and never leaves its own.
deb-system: deb
	sh scripts/deb-system.sh $(DEB_DIR)

clean:
	rm -rf build

# The dependency files of what this make may build: its own build's
# objects' (those under $(B); a sanitizer build's are read by its own
# make, B=build/tsan or build/asan), not those of the exercise builds
# beside them (hundreds), and, when making an exercise, that exercise's.
# Each check runs make six times: every file read here is read again.
# A make whose goals only run a sanitizer build's make reads none; one that
# only makes an exercise reads those of what an exercise links (named, no
# search: 110 files, not 240).
DEP_PRUNE := $(foreach d,$(filter-out $(B),build/tsan build/asan),-o -path $(d))
SUB_MAKE_GOALS := exercise-tsan exercise-lib-tsan tsan-bin tsan asan
EXERCISE_GOALS := exercise exercise-lib
EX_DEPS := $(CORE_OBJ:.o=.d) $(EX_HOST_OBJ:.o=.d) $(HARNESS_OBJ:.o=.d)
ifeq ($(if $(MAKECMDGOALS),$(filter-out $(EXERCISE_GOALS),$(MAKECMDGOALS)),all),)
-include $(wildcard $(EX_DEPS) $(if $(EX_BIN),$(EX_BIN).d))
else ifneq ($(if $(MAKECMDGOALS),$(filter-out $(SUB_MAKE_GOALS),$(MAKECMDGOALS)),all),)
-include $(shell find $(B) \( -name exercises $(DEP_PRUNE) \) -prune -o \
                 -name '*.d' -print 2>/dev/null) \
         $(if $(EX_BIN),$(wildcard $(EX_BIN).d))
endif
