/*
 * grade.h - the exercises of `concdemo check` and the rules that grade
 * them.
 *
 * An exercise is a scenario shaped like a demo (state + workers +
 * invariant) in two parts: the learner's file (lessons/exercises/
 * <name>.c: the functions with the bug, and the learner's state) and its
 * harness (lessons/harness/<name>.c, exporting `const cd_scenario_t
 * cd_exercise` with one variant, "yours"; <name>.h is what the learner's
 * file defines and may call). Exercises
 * belong to the scenarios of demos/scenarios.c, by name: the exercise of
 * `async-race` is lessons/exercises/async_race.c, its worksheet the
 * scenario's. The table below says, per scenario, how hard to test its
 * exercise: the sizes of the free runs, the small size the scheduler
 * explores, the size of the parallelism run, and which simulated waits
 * belong to the exercise's given code. The checks themselves live in cli/exhost.c (the program
 * built from the learner's file) and cli/check.c (the command that builds
 * and runs it); the rules that read a run's trace or the learner's source
 * are here, so that both can use them. Nothing here prints.
 */
#ifndef CD_GRADE_H
#define CD_GRADE_H

#include <stddef.h>

#include "../demos/scenario.h"

#define CD_GRADE_MAX_SIZES 2

enum { CD_SPURIOUS_NEVER, CD_SPURIOUS_ALWAYS, CD_SPURIOUS_AFTER };

typedef struct cd_exercise_spec {
    const char *name;   /* the scenario's: what `concdemo check` takes */
    const char *goal;   /* what "done" means, one line */

    /* Free runs: each size `free_runs` times, each within free_ms. */
    cd_params_t free[CD_GRADE_MAX_SIZES];
    int nfree, free_runs, free_ms;

    /* Exploration: pct_runs pct schedules, then dfs within its budget;
     * with `spurious` (CD_SPURIOUS_ALWAYS), a condition variable's wait
     * may also return with no signal at all, as POSIX allows
     * (cd_sched_cfg_t.spurious), so that a wait that trusts its wake-up
     * fails however the free runs went. CD_SPURIOUS_AFTER keeps them out
     * of that search and adds a second pct search with them once the
     * first held: the exercise's own bug is then the one a change is
     * told about, and a wait in an `if` is still caught. */
    cd_params_t explore;
    int pct_runs;
    double dfs_budget_s;
    int spurious;

    /* Parallelism: in one controlled run of this size, the service's
     * slow calls (`overlap`, what they are called: "gateway calls") must
     * be in flight two at once - else one lock serialises work that
     * should run side by side, and `serial_why` says so. The service
     * counts its own calls (cli/ledger.h), so no wait of the learner's
     * own counts. NULL: no such check. */
    const char *overlap;
    cd_params_t parallel;
    const char *serial_why;

    /* The names the given code passes to cd_latency / cd_await_latency.
     * Any other wait in the file is the learner's: a fix that waits. */
    const char *const *waits;
    int tasks; /* runs async tasks: a blocking sleep stalls a worker */

    /* Named points that one lock hold must cover, check to act (NULL:
     * none): used to explain a failing schedule. */
    const char *crit_begin, *crit_end;

    /* The named point the harness passes when a thread takes what is not
     * there, or goes on with what is not done (NULL: none): a failing schedule is explained by the wait
     * that returned before it, and how it ended. */
    const char *empty_point;

    /* What a data race means in this exercise when every run held (the
     * tsan stage says it after the two accesses; NULL: the general
     * words, "the window is smaller, not closed"). */
    const char *race_why;

    /* Its checkouts are processes (db-race): concdemo check makes a
     * database, starts free[i].instances copies of the program side by
     * side on it (`instance` mode), free_runs times each size, and judges
     * what the database holds (the stage "instances"); then the timing
     * stage. No exploration, parallelism or TSan stage: the scheduler and
     * ThreadSanitizer see one process, and the race is between
     * processes. */
    int processes;
} cd_exercise_spec_t;

/* The table (in the scenario table's order, which tests check). */
const cd_exercise_spec_t *cd_exercise_specs(int *count);
/* The exercise of the scenario called name, or NULL. */
const cd_exercise_spec_t *cd_exercise_spec(const char *name);

/* The exercise's file name under lessons/exercises/: its name with '_'
 * for '-', then ".c". */
void cd_exercise_file(const cd_exercise_spec_t *spec, char *buf,
                      size_t size);

/* Its answer key's file name under lessons/answers/: the same name, then
 * ".patch" (a part - a note, then a diff of the starter - is no C file). */
void cd_exercise_answer(const cd_exercise_spec_t *spec, char *buf,
                        size_t size);

/* A run's size in words, into buf (which it returns): "4 threads, 8
 * iterations", "2 workers, 6 iterations" for an executor's run, or "3
 * iterations" for an exercise that sets its threads itself. */
const char *cd_exercise_size_text(const cd_params_t *p, char *buf,
                                  size_t size);

/* Its worksheet: its scenario's lesson ("" if no scenario has its name,
 * which the tests rule out). */
const char *cd_exercise_lesson(const cd_exercise_spec_t *spec);

/* ---- the source: waiting instead of synchronising ---- */

#define CD_GRADE_MAX_FINDINGS 4

typedef struct cd_wait_finding {
    int line;
    int blocking;   /* a blocking sleep inside an async task */
    char what[160]; /* "calls nanosleep()", "waits on purpose (...)" */
} cd_wait_finding_t;

/* The whole file at path, NUL-terminated, in malloc'd memory; NULL with
 * errno set when it cannot be read. */
char *cd_grade_read_file(const char *path);

/* Reads the C file at path and lists (up to max) the places where it
 * waits on purpose: a sleep or a yield of the C library, or a simulated
 * wait whose name is not one of spec->waits (comments and strings do not
 * count). For an exercise of async tasks, any blocking cd_latency counts
 * too. Of a part (cli/exfile.h), only the lines it adds are read, at
 * their own line numbers. Returns how many were found (maybe more than
 * max), or -errno if the file cannot be read. */
int cd_grade_scan_waits(const cd_exercise_spec_t *spec, const char *path,
                        cd_wait_finding_t *out, int max);

/* ---- the trace of the run just made (tracing was on) ---- */

/* Explains a failing run from its trace: a thread that passed
 * spec->crit_begin holding no lock, or that let go of every lock it held
 * there before it reached spec->crit_end. Writes one sentence into buf
 * and returns 1, or returns 0 when the trace shows neither. */
int cd_grade_explain_critical(const cd_exercise_spec_t *spec, char *buf,
                              size_t size);

/* Explains a failing run from its trace: the first thread that passed
 * spec->empty_point after a condition variable's wait returned - a
 * wake-up it took for a promise - and how that wait ended (signalled, or
 * woken for nothing). Writes one sentence into buf and returns 1, or
 * returns 0 when the trace shows none. */
int cd_grade_explain_wakeup(const cd_exercise_spec_t *spec, char *buf,
                            size_t size);

#endif /* CD_GRADE_H */
