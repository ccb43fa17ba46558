/*
 * harness.h - what every suite shares: running a scenario, a test body of
 * checks, or a whole CUnit test in a forked child with a time limit;
 * watching the registry until a condition holds; running the concdemo
 * binary; and the checks the scenario suites have in common (every run's
 * verdict, a deadlock's cycle, a fix that holds, a controlled run played
 * twice, an explore that finds the bug or holds each fix), so that each
 * suite states only what its scenario shows.
 *
 * Anything that starts threads - a demo run, or a test of the library's
 * primitives - happens in a child process, so a hang (a lost wake-up, a
 * deadlock) fails that one test (the child is killed at the limit) instead
 * of stalling CI, and a crash cannot take the runner down.
 */
#ifndef CD_TEST_HARNESS_H
#define CD_TEST_HARNESS_H

#include <CUnit/CUnit.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>

#include "../cli/run.h"
#include "../lib/cd_mutex.h"
#include "../lib/cd_registry.h"
#include "../lib/cd_thread.h"
#include "../lib/cd_trace.h"

/* Outcome of a forked run. */
typedef struct child_run {
    int finished;          /* 0: killed at the time limit or crashed */
    int exit_code;         /* the child's exit: 0, or a sanitizer's code
                              (TSan 66 on a report, LSan 23 on a leak) */
    cd_run_result_t r;     /* valid when finished */
} child_run_t;

/* A fixed variant must leave no sanitizer report: exit code 0. */
#define ASSERT_CLEAN_EXIT(c) ASSERT_INT_EQ((c).exit_code, 0)

/* Runs scenario `name`, variant `variant` ("broken", "mutex", ...) with the
 * given threads/iterations (0: the scenario's default) in a child, killed
 * after limit_ms. The child ends with exit(), so that a sanitizer build
 * reports (and sets the exit code) for that run alone. Fails the current
 * test if the names are unknown. */
child_run_t run_forked(const char *name, const char *variant, int threads,
                       int iterations, int limit_ms);
/* Same, with full options (latency scale, trace, timeout). */
child_run_t run_forked_opts(const char *name, const char *variant,
                            const cd_run_opts_t *opts, int limit_ms);
/* n runs (at most 16) like run_forked_opts, all at once, each in a child
 * of its own, all within limit_ms: res[i] for run i. */
void run_forked_many(const char *name, const char *variant,
                     const cd_run_opts_t *opts, int n, int limit_ms,
                     child_run_t *res);
/* The options of a free run of scenario `name` at its defaults but for
 * iterations and workers (0: the default) and the latency scale permille
 * (1000: as written), with a hard limit 2 s under limit_ms, the limit of
 * the child that runs it: the run ends and reports before it is killed. */
cd_run_opts_t scenario_opts(const char *name, int iterations, int workers,
                            int permille, int limit_ms);

/* Runs scenario `name`'s broken variant with threads and iterations as
 * given (no defaults filled in), the latency scale at 0 - the window nearly
 * closed - and a 5 s hard limit, in a child killed after limit_ms. Fails
 * the test unless the run ended with verdict `one` or `other` (what it saw
 * depends on the interleaving; that it ends and says so does not). Returns
 * the run. */
child_run_t expect_broken_without_latency(const char *name, int threads,
                                          int iterations, int one, int other,
                                          int limit_ms);

/* Runs scenario `name`'s variant free, at its defaults but for workers
 * (0: the default) and the latency scale permille, in a child killed after
 * limit_ms (the options of scenario_opts). */
child_run_t run_workers_forked(const char *name, const char *variant,
                               int workers, int permille, int limit_ms);

/* Runs scenario `name`'s broken variant once, free, on one worker with the
 * latency scale at 0 - the awaited call takes no time, yet the await still
 * parks, so the bug of an event loop shows all the same - in a child killed
 * after limit_ms. Fails the test at once unless the run finished, and fails
 * it unless its verdict is VIOLATED. Returns the run. */
child_run_t expect_broken_on_one_worker_without_latency(const char *name,
                                                        int limit_ms);

/* A controlled scheduler's set-up: strategy (CD_SCHED_PCT, _RANDOM) and
 * seed, with pct's depth 3 (random has no use for it) and the default step
 * bound. */
cd_sched_cfg_t sched_cfg(int strategy, uint64_t seed);

/* Runs scenario `name`'s variant with params as given (no defaults filled
 * in) under the controlled scheduler cfg - latencies pass on its virtual
 * clock - in a child killed after limit_ms; the run's own hard limit is
 * 2 s under that. */
child_run_t run_controlled_forked(const char *name, const char *variant,
                                  const cd_sched_cfg_t *cfg,
                                  cd_params_t params, int limit_ms);

/* The same at the scenario's default sizes under strategy:seed - the run
 * `concdemo NAME --sched=STRATEGY:SEED` makes. */
child_run_t run_seeded_forked(const char *name, const char *variant,
                              int strategy, uint64_t seed, int limit_ms);

/* Fails the test unless a and b, one controlled run played twice, both
 * finished, a with verdict `status` and a schedule, and b the same run:
 * the same schedule, the same observation. */
void expect_same_run_twice(const child_run_t *a, const child_run_t *b,
                           int status);

/* Plays the run_seeded_forked() run twice and checks the two with
 * expect_same_run_twice(); returns the first. */
child_run_t expect_seeded_run_repeats(const char *name, const char *variant,
                                      int strategy, uint64_t seed,
                                      int status, int limit_ms);

/* Output of a command run by the shell. */
typedef struct cmd_out {
    int exit_code;     /* -1 if killed or not run */
    int pid;           /* the command's process id (0: not started) */
    char out[524288];  /* stdout, NUL-terminated (truncated: a --trace
                          of a long run is hundreds of KiB) */
    char err[65536];   /* stderr, NUL-terminated (truncated) */
} cmd_out_t;

/* Runs argv (argv[0] searched in PATH only if it has no slash) with an
 * environment addition env ("NAME=VALUE" or NULL), killed after limit_ms. */
void run_cmd(cmd_out_t *o, const char *const argv[], const char *env,
             int limit_ms);
/* Same, with `input` fed to the command's standard input. */
void run_cmd_input(cmd_out_t *o, const char *const argv[], const char *env,
                   const char *input, int limit_ms);

/* 1 if a free run of this scenario (or exercise) is judged against the
 * clock, so that load from elsewhere can fail it (offload: the other
 * requests' p99 latency): tests run such commands by themselves, not
 * side by side with others (run_cmds). */
int judged_on_the_clock(const char *scenario);

/* Several commands at once: cmds[i] (argv, env) run as run_cmd would run
 * them, at most `jobs` at a time, each with the limit limit_ms. done() is
 * called in this process, once per command in the order they end, with
 * its index and its output (valid during the call only). For commands
 * that mostly wait (simulated latency, a time limit): their waits
 * overlap. Returns 0, or -errno if one could not be started (those that
 * could still end and are reported). */
typedef struct cmd_spec {
    const char *const *argv;
    const char *env;
} cmd_spec_t;
typedef void (*cmd_done_fn)(int i, const cmd_out_t *o, void *arg);
int run_cmds(const cmd_spec_t *cmds, int n, int jobs, int limit_ms,
             cmd_done_fn done, void *arg);

/* Runs argv like run_cmd, but with its standard error on a terminal (a
 * pseudo-terminal, output processing off, read into o->err) and its
 * standard output on a pipe (o->out): what a progress line on a terminal
 * looks like, and that it stays off the output. */
void run_cmd_err_tty(cmd_out_t *o, const char *const argv[], int limit_ms);

/* Runs argv like run_cmd, but on a starved machine: one busy loop per
 * CPU runs meanwhile (at the runner's priority) and argv runs at nice 10
 * (a tenth of a loop's weight), so its threads get a CPU only now and
 * then and start late, wake late and run in bursts - what a loaded CI
 * runner does to a run, made the rule rather than luck. Not lower: on a
 * machine busy besides (CI's runners), a run at nice 19 got next to
 * nothing, and an ASan run did not end within a minute; idle priority
 * (SCHED_IDLE) starves harder still. The busy loops are killed before it
 * returns. */
/* Starts one busy loop per online CPU (at most max; each dies with the
 * runner): a starved machine for what runs at a lower priority. Returns
 * how many started; stop_busy_loops() kills and reaps them. */
int start_busy_loops(pid_t *pids, int max);
void stop_busy_loops(const pid_t *pids, int n);

void run_cmd_starved(cmd_out_t *o, const char *const argv[], const char *env,
                     int limit_ms);
/* Several commands on one starved machine, all at once (run_cmds, each at
 * nice 10, under one set of busy loops): they starve each other no less,
 * and the loops burn their CPUs once for all of them. */
int run_cmds_starved(const cmd_spec_t *cmds, int n, int limit_ms,
                     cmd_done_fn done, void *arg);
/* Several commands at once on a busy machine: each at nice 5, beside
 * one busy loop per CPU at the runner's own priority. Their threads wake
 * late, yet a run still gets a share of the CPUs while the runner's other
 * suites keep them busy, where a run at nice 19 got next to none (on a
 * slower machine, TSan runs stopped at their limit having run 0.3 s in
 * 30 s). */
int run_cmds_busy(const cmd_spec_t *cmds, int n, int limit_ms,
                  cmd_done_fn done, void *arg);

/* The same concdemo command twice in each build: cmds[0] and cmds[1] run
 * concdemo_bin() with args (NULL-terminated, at most BOTH_MAX_ARGS),
 * cmds[2] and cmds[3] concdemo_tsan_bin(), each with env. Fails the test
 * unless both binaries are there. */
#define BOTH_MAX_ARGS 8
typedef struct both_builds {
    const char *argv[4][BOTH_MAX_ARGS + 2];
    cmd_spec_t cmds[4];
} both_builds_t;
void twice_in_both_builds(both_builds_t *b, const char *const args[],
                          const char *env);

/* The binaries under test, from $CONCDEMO / $CONCDEMO_TSAN (defaults:
 * build/concdemo, build/tsan/concdemo). */
const char *concdemo_bin(void);
const char *concdemo_tsan_bin(void);

/* Fails the test at once, saying how to build it, unless the TSan build of
 * concdemo is there. */
void require_tsan_bin(void);

/* Fails the test unless o, a run of the TSan build, has no report of
 * ThreadSanitizer's (printed under `what` if it has one) and exited with
 * exit_code. */
void expect_no_tsan_report(const cmd_out_t *o, const char *what,
                           int exit_code);

/* Runs concdemo_bin() with args (NULL-terminated, at most 14) like
 * run_cmd. */
void run_concdemo(cmd_out_t *o, const char *const args[], const char *env,
                  int limit_ms);

/* Runs concdemo with args (no env addition) and kills it at stop_ms, as
 * the caller means to: quietly, with no stacks shown (exit_code -1 when
 * it was killed). */
void run_concdemo_until(cmd_out_t *o, const char *const args[], int stop_ms);

/* Runs concdemo with args like run_concdemo (no env addition) and fails
 * the test unless it exits with exit_code and its stdout has out_has and
 * its stderr err_has (either NULL: not checked). A failure names args. */
void expect_concdemo(cmd_out_t *o, const char *const args[], int exit_code,
                     const char *out_has, const char *err_has, int limit_ms);

/* The text after the first "prefix" in text up to the end of its line,
 * copied into buf; NULL if text has no prefix. */
const char *line_after(const char *text, const char *prefix, char *buf,
                       size_t size);

/* Runs a command line as printed (a replay line: program, then words split
 * at spaces; `line` is cut up in place), with `extra` (or NULL) added as a
 * last word, like run_cmd. Fails the test if it exits other than 1 (a
 * violation) or its output lacks `verdict`. */
void expect_printed_run_repeats(cmd_out_t *o, char *line, const char *extra,
                                const char *verdict, const char *env,
                                int limit_ms);

/* What an `explore` that found a violation printed. */
typedef struct explore_found {
    char verdict[2048];                /* after "<scenario> [broken]: " */
    char replay[CD_SCHEDULE_MAX + 512]; /* after "replay: " */
} explore_found_t;

/* Checks that o holds an explore that found a violation: exit 1, "violation
 * found after", the line after verdict_prefix and the replay line (copied
 * into f; fails the test at once if either is missing). */
void expect_explore_found(const cmd_out_t *o, const char *verdict_prefix,
                          explore_found_t *f);

/* What a dfs that held prints, at explore's default bound. */
#define DFS_EXHAUSTED "every schedule with at most 2 preemptions tried"

/* Runs `concdemo explore scenario FIX args...` for each fix of the
 * NULL-ended list ("--fixed=HOW"; args NULL-ended, at most 10 words) and
 * fails the test unless every search exits 0 and prints `held` ("no
 * violation in 300 schedules", DFS_EXHAUSTED). A search that did not hold
 * is printed with its fix and args. */
void expect_each_fix_explores_clean(const char *scenario,
                                    const char *const fixes[],
                                    const char *const args[],
                                    const char *held, const char *env,
                                    int limit_ms);

/* The TSan runner explores less. A schedule there costs 10-30 ms (a TSan
 * fiber for each task) against well under one, and what its explores add
 * is TSan's report, which comes from the accesses a run makes, whatever
 * their order: the first schedules show it as well as the last. Proving a
 * bound exhaustively is the plain runner's. TSAN_RUNNER: 1 in the TSan
 * runner; TSAN_SMALLER(n, m): n, but at most m there. */
#ifdef CD_TSAN
#define TSAN_RUNNER 1
#else
#define TSAN_RUNNER 0
#endif
#define TSAN_SMALLER(n, m) (TSAN_RUNNER && (m) < (n) ? (m) : (n))

/* What explore's dfs says when it tried every schedule within `bound`
 * preemptions ("every schedule with at most 1 preemption tried"), into
 * buf. */
void dfs_tried(char *buf, size_t size, int bound);

/* Explores each of scenario's fixes (a NULL-ended list of "--fixed=HOW")
 * with pct for pct_runs schedules, then with dfs within `bound`
 * preemptions, and fails the test unless every search held. In the TSan
 * runner: at most 20 schedules, and 1 preemption (TSAN_SMALLER). */
void expect_fixes_hold_under_explore(const char *scenario,
                                     const char *const fixes[], int pct_runs,
                                     int bound, const char *env,
                                     int limit_ms);

/* Runs `concdemo explore` with args (the scenario first, NULL-ended, at
 * most 12 words) and fails the test unless it found a violation of the
 * broken variant whose verdict has each string of verdict_has (NULL-ended;
 * NULL: any verdict) and whose printed replay, with `extra` (or NULL)
 * added, repeats that verdict. Returns what it found (the process's one copy: valid until the
 * next call) and leaves the explore's output in o, the replay's in again. */
const explore_found_t *expect_explore_finds_and_replays(
    cmd_out_t *o, cmd_out_t *again, const char *const args[],
    const char *const verdict_has[], const char *extra, const char *env,
    int limit_ms);

/* c's verdict figure `key` (a number); -1 and a line on stderr, which
 * names a misspelt key, if the verdict has no such figure. */
int64_t fig(const child_run_t *c, const char *key);

/* Runs scenario `name`'s variant once at its defaults in a forked child
 * killed after limit_ms; fails the test at once unless it finished, and
 * fails it unless its verdict is `status`. Returns the run. A run expected
 * to hold (CD_HELD) is free; one expected to show a bug runs under the
 * controlled scheduler (random, seed 1), whose virtual clock opens the
 * window by construction: a free run shows it only when the machine lets
 * every thread reach it in time, which a starved CI runner does not. */
child_run_t expect_status(const char *name, const char *variant, int status,
                          int limit_ms);

/* Runs scenario `name`'s variant `runs` times in forked children, each
 * killed after limit_ms, and fails the test unless every one finished with
 * verdict `status` and passes check (or NULL) - the scenario's own figures.
 * Free runs for CD_HELD; for a bug, controlled runs with seeds 1..runs (as
 * expect_status). */
void expect_every_run(const char *name, const char *variant, int runs,
                      int status, void (*check)(const child_run_t *c),
                      int limit_ms);

/* The same with free runs whatever the status: for a bug whose window is
 * open by construction, not by timing (one worker of an event loop, where
 * the await is the switch), which a free run shows however late it runs. */
void expect_every_free_run(const char *name, const char *variant, int runs,
                           int status, void (*check)(const child_run_t *c),
                           int limit_ms);

/* The same, without a check of its own; returns the last run (for more
 * checks of the caller's). */
child_run_t expect_status_every_run(const char *name, const char *variant,
                                    int runs, int status, int limit_ms);

/* Runs scenario `name`'s broken variant with threads (0: the default)
 * `runs` times in forked children, controlled (random, seeds 1..runs: a
 * starved free run can be lucky), and fails the test unless each time the
 * watchdog found a deadlock - a cycle, not the hard limit (that would be
 * TIMEOUT, with no cycle) - of `links` links, and unless the verdict names
 * them with `observed` (NULL: not checked). Returns the last run. */
child_run_t expect_deadlock_cycle(const char *name, int threads, int runs,
                                  int links, const char *observed,
                                  int limit_ms);

/* Runs scenario `name`'s fix `runs` times with threads and iterations (0:
 * the default) in forked children, up to 16 at once (each is load for the
 * others), and fails the test unless every run
 * HELD with a clean exit (no sanitizer report) and no lock-order finding
 * (a fix that only got lucky would still leave one); figures (or NULL)
 * checks each run's scenario-specific figures (c->r.params: the sizes it
 * ran with). */
void expect_fix_holds_every_run(const char *name, const char *fix,
                                int threads, int iterations, int runs,
                                void (*figures)(const child_run_t *c),
                                int limit_ms);

/* One test of a suite: what it shows, its function, whether its body
 * runs in a forked child (add_forked_test) and whether it is long (left
 * out of the quick run). The tables are made from the test files'
 * "suite:" and "test:" comments by tests/suites.awk. */
typedef struct suite_test {
    const char *name;
    CU_TestFunc fn;
    int forked;
    int is_long;
} suite_test_t;

/* Set (to "quick") by `test_runner --quick`, and only by it (the runners
 * it starts get --quick too): the suites then leave their long tests out. */
#define QUICK_ENV "CD_TESTS"

/* Adds the tests of the NULL-named-terminated table to s, in order; every
 * one forked when all_forked; the long ones only when the run is not
 * quick. */
void add_tests(CU_pSuite s, const suite_test_t *tests, int all_forked);

/* Number of lines in s (a trailing newline does not start a new line). */
int count_lines(const char *s);

/* Asserts that print both values, as libuv's do. */
#define ASSERT_INT_EQ(a, b)                                                  \
    do {                                                                     \
        long long cd_a_ = (a), cd_b_ = (b);                                  \
        if (cd_a_ != cd_b_)                                                  \
            fprintf(stderr, "\n  %s:%d: %s == %lld, expected %s == %lld\n", \
                    __FILE__, __LINE__, #a, cd_a_, #b, cd_b_);               \
        CU_ASSERT_EQUAL(cd_a_, cd_b_);                                       \
    } while (0)

#define ASSERT_STR_HAS(hay, needle)                                          \
    do {                                                                     \
        const char *cd_h_ = (hay);                                           \
        int cd_ok_ = cd_h_ && strstr(cd_h_, (needle)) != NULL;               \
        if (!cd_ok_)                                                         \
            fprintf(stderr, "\n  %s:%d: expected \"%s\" in: %.600s\n",     \
                    __FILE__, __LINE__, (needle), cd_h_ ? cd_h_ : "(null)"); \
        CU_ASSERT_TRUE(cd_ok_);                                              \
    } while (0)

/* ================== bodies that run in a forked child ==================== */

#define CHILD_LIMIT_MS 15000 /* a child still running then is hung */

/* Records why a check in a child body failed ("line N: what detail"), for
 * passes_in_child() to send to the parent; returns 1 for the body to
 * return. Used through the EXPECT macros. */
int fail(int line, const char *what, const char *detail);

/* Checks for child bodies: on failure, say why and return 1. */
#define EXPECT(c)                                                            \
    do {                                                                     \
        if (!(c))                                                            \
            return fail(__LINE__, #c, "");                                   \
    } while (0)
#define EXPECT_EQ(a, b)                                                      \
    do {                                                                     \
        long long x_ = (a), y_ = (b);                                        \
        char d_[64];                                                         \
        snprintf(d_, sizeof d_, " (%lld vs %lld)", x_, y_);                  \
        if (x_ != y_)                                                        \
            return fail(__LINE__, #a " == " #b, d_);                         \
    } while (0)
#define EXPECT_STR(a, b)                                                     \
    do {                                                                     \
        const char *x_ = (a), *y_ = (b);                                     \
        if (!x_ || strcmp(x_, y_) != 0)                                      \
            return fail(__LINE__, #a " is \"" #b "\"", x_ ? "" : " (NULL)"); \
    } while (0)

/* Runs body in a child killed after limit_ms. Returns 1 if the body
 * returned 0 and the child exited with 0 (no sanitizer report either);
 * otherwise prints why not. */
int passes_in_child(const char *name, int (*body)(void), int limit_ms);

/* Defines test `name` whose body (the block after the macro) runs in a
 * forked child and returns 0 when every check held. _LIMIT: a child that
 * does much more work than most (a thousand threads) gets a longer limit;
 * the limit only tells a hang from slow work, never judges speed. */
#define CHILD_TEST(name) CHILD_TEST_LIMIT(name, CHILD_LIMIT_MS)
#define CHILD_TEST_LIMIT(name, limit_ms)                                     \
    static int name##_body(void);                                            \
    static void name(void)                                                   \
    {                                                                        \
        CU_ASSERT_TRUE(passes_in_child(#name, name##_body, (limit_ms)));     \
    }                                                                        \
    static int name##_body(void)

/* ================= CUnit tests whose body runs in a child ================= */

/* The limit of such a test: above test_exec's watchdog (20 s, then 5 s for
 * tasks to stop), so that a run it aborts can still report. */
#define FORKED_LIMIT_MS 30000

/* Adds test `name` to suite s. CUnit runs it in this process; its body
 * runs in a forked child killed after FORKED_LIMIT_MS, with the ordinary
 * CUnit assertions. Each failed assertion comes back (file:line and the
 * expression) and fails the named test here; so does a child that timed
 * out, died of a signal or exited non-zero (a sanitizer's report: TSan 66,
 * ASan 1, a leak under ASan 1, LSan alone 23). The child ends with exit(),
 * so sanitizers judge it alone. Use _FATAL assertions only on the thread
 * that runs the body: CUnit's jump out of the body cannot leave another.
 * Returns CUnit's test, or NULL if CUnit refused it. */
CU_pTest add_forked_test(CU_pSuite s, const char *name, CU_TestFunc body);

/* A fresh run (the registry reset) under a watchdog that aborts it after
 * timeout_ms; tasks that ignore the abort end the child with exit 3 and a
 * line naming who (the suite). watched_end() stops the watchdog. For the
 * suites that drive the executor directly (exec, io, scope). */
void watched_begin(const char *who, int timeout_ms);
void watched_end(void);
/* What the tasks of a watched run said, in order ("a b c "): emptied by
 * watched_begin (a suite that runs tasks without it empties it itself);
 * watched_say appends "word " (under a lock: tasks on several workers may
 * say at once). */
extern char watched_log[1024];
void watched_say(const char *word);
/* Where "word " first stands in watched_log (its offset), or -1. */
int said_at(const char *word);

/* Where a thread or task stood when looked at: its state (a
 * cd_thread_state value) and the object it waited on. */
typedef struct where {
    int state;
    int waiting_on;
} where_t;

/* Where thread `id` stands now, from a fresh snapshot (snap()); a task
 * may call it. */
where_t where_is(int id);

/* Runs two tasks on the one worker of a new executor: `first`, then
 * `second`, whose argument points at first's id (so that it can look where
 * first waits: the worker runs second only while first is parked).
 * Empties watched_log first; fails the test at once unless both were
 * spawned, and fails it unless the run returned 0. */
void run_two_tasks_on_one_worker(const char *first_name, void (*first)(void *),
                                 const char *second_name,
                                 void (*second)(void *));

/* ======================= watching the registry =========================== */

#define POLL_LIMIT_MS 5000 /* how long a condition may take to show */

/* The process's one snapshot buffer (it is large: hundreds of KiB),
 * allocated on first use; aborts if that fails. */
cd_snapshot_t *snap(void);
/* Fills snap() with a fresh registry snapshot and returns it. */
cd_snapshot_t *take_snapshot(void);
/* Thread / object `id` in s, or NULL if s has no such id. */
const cd_thread_info_t *tinfo(const cd_snapshot_t *s, int id);
const cd_obj_info_t *oinfo(const cd_snapshot_t *s, int id);

/* Reads the run's whole trace (cd_trace_read) into the process's one trace
 * buffer, allocated on first use (aborts if that fails); *ev points at it.
 * Returns how many events it holds. */
int trace_events(const cd_trace_event_t **ev);

typedef int (*snap_cond)(const cd_snapshot_t *s, int a, int b);

/* Takes snapshots until ok(s, a, b) holds (1) or POLL_LIMIT_MS passed (0).
 * The snapshot that satisfied it stays in snap(). */
int await(snap_cond ok, int a, int b);

/* Conditions for await(): thread is blocked waiting for obj; thread is in
 * state (a cd_thread_state value). */
int is_blocked_on(const cd_snapshot_t *s, int thread, int obj);
int is_in_state(const cd_snapshot_t *s, int thread, int state);

/* A thread that libconc did not start (a plain pthread), running call(arg)
 * once and keeping its result in rc. */
typedef struct plain_call {
    pthread_t t;
    int (*call)(void *arg);
    void *arg;
    int rc;
} plain_call_t;

/* Starts c's thread on call(arg): 0, or pthread_create's error. */
int plain_call_start(plain_call_t *c, int (*call)(void *arg), void *arg);
/* Waits for c's thread to end: 0 (the call's result is in c->rc then), or
 * pthread_join's error. */
int plain_call_join(plain_call_t *c);

/* For child bodies: makes lock (named lock_name) and holds it, then starts
 * t (named who) running fn(arg) and waits until t blocks on lock. Returns
 * 0, or 1 with the failure recorded (see fail()) if a step fails. */
int start_blocked_on_held(cd_mutex_t *lock, const char *lock_name,
                          cd_thread_t *t, const char *who, cd_thread_fn fn,
                          void *arg);

/* Threads and tasks of the registry not yet ended (parked, ready or
 * blocked): 0 once a run left nothing behind. Uses snap(). */
int live_tasks(void);

/* Descriptors process pid has open (-1: it is gone), but for those on
 * /proc: the watchdog's load samples and TSan's background thread open
 * and close those on their own schedule, so counting them made a count
 * one too many now and then (TSan runs on a busy machine). */
int fds_open_in(pid_t pid);
/* This process's, the same way: the same before and after a run that
 * leaves nothing behind. */
int open_fds(void);

/* ====================== controlled runs in this process ==================== */

/* A controlled run of a suite's own: runs under cfg, writes the schedule it
 * took into buf (size bytes) and returns what it consumed. */
typedef int (*controlled_run_fn)(const cd_sched_cfg_t *cfg, char *buf,
                                 size_t size);

/* Runs run for seeds 1 to 20 of base's strategy (base.seed is replaced)
 * and fails the test unless each seed consumes `all`, plays the same
 * schedule twice, and plays it again - all of it - replayed from its
 * schedule string; and unless the seeds gave more than 10 different
 * schedules. Uses the process's one scheduler: call it in a child. */
void expect_seeds_repeat_and_replay(cd_sched_cfg_t base, controlled_run_fn run,
                                    int all);

/* ========================= the trace of this process ===================== */

/* Whether the trace holds event op on obj with arg (traced_any: with any
 * arg). */
int traced(int op, int obj, int64_t arg);
int traced_any(int op, int obj);

/* Fails the test unless the trace line of event op on obj with arg, by
 * this thread, has `text` ("post       slots            count 2"). */
void expect_trace_line(int op, int obj, int64_t arg, const char *text);

/* Fails the test unless each of the n ops (CD_OP_ values) is named names[i]
 * in the trace. */
void expect_op_names(const int ops[], const char *const names[], int n);

/* ================================ suites ================================= */

/* Suites register themselves through one function each, listed in main.c. */
/* (one declaration per suite) */
void suite_sched(void);
void suite_sched_explore(void);
void suite_registry(void);
void suite_mutex(void);
void suite_keyed(void);
void suite_wait(void);
void suite_detect(void);
void suite_race(void);
void suite_deadlock(void);
void suite_cli(void);
void suite_options(void);
void suite_tsan(void);
void suite_chan(void);
void suite_cond(void);
void suite_watch(void);
void suite_install(void);
void suite_fanin(void);
void suite_sem(void);
void suite_oneshot(void);
void suite_counter(void);
void suite_broadcast(void);
void suite_bcast(void);
void suite_backpressure(void);
void suite_rwlock(void);
void suite_starvation(void);
void suite_exec(void);
void suite_io(void);
void suite_scope(void);
void suite_await(void);
void suite_async_race(void);
void suite_lost_wakeup(void);
void suite_spurious(void);
void suite_order_violation(void);
void suite_philosophers(void);
void suite_publication(void);
void suite_livelock(void);
void suite_stampede(void);
void suite_webhook(void);
void suite_inventory(void);
void suite_db_race(void);
void suite_db_race_pg(void);
void suite_holdtime(void);
void suite_chat(void);
void suite_orphans(void);
void suite_offload(void);
void suite_view(void);
void suite_step(void);
void suite_lessons(void);
void suite_check(void);
void suite_check_answers(void);
void suite_check_others(void);
void suite_check_decoys(void);
void suite_check_decoys_2(void);
void suite_check_clock(void);
void suite_ledger(void);
void suite_hostile(void);
void suite_hostile_wait(void);
void suite_stuck(void);
void suite_timeline(void);

#endif /* CD_TEST_HARNESS_H */
