/*
 * support.h - what the scenarios share that is not their lesson.
 *
 * A scenario's file shows its pitfall: the shared state, the broken
 * variant and its fixes side by side, and the check. How a run is driven -
 * set up, serve on the run's clock, check, tear down, and say what could
 * not be done -, how a batch of async tasks is spawned and run, how one
 * thread runs beside a team, how the live figures are named, and the
 * tallies and sentences a check builds are the same everywhere, and live
 * here. Nothing here takes a demo's locks or names a source line that a
 * trace shows, so a scenario's traces and schedules are the same as with
 * this code written out in its file.
 */
#ifndef CD_SUPPORT_H
#define CD_SUPPORT_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "../lib/cd_exec.h"
#include "../lib/cd_thread.h"
#include "scenario.h"

/* The steps of a scenario's run, for cd_demo_run. state is the scenario's
 * own (a shop, a cache), zeroed by the caller. */
typedef struct cd_demo_steps {
    /* Builds the state: 0, or -1 when it could not. */
    int (*setup)(void *state, const cd_params_t *p, int variant);
    /* Runs the workers: 0, or -1 when they could not be started, having
     * said why in v (CD_ERROR). */
    int (*serve)(void *state, cd_verdict_t *v);
    /* Judges what serving left; ns: how long it took, on the run's clock
     * (virtual under --sched). */
    void (*check)(void *state, int64_t ns, cd_verdict_t *v);
    /* Frees what setup made, also when it stopped half way. */
    void (*teardown)(void *state);
    /* What a failed setup could not set up: "the shop". */
    const char *subject;
} cd_demo_steps_t;

/* One run: setup ("could not set up <subject>" when it fails); serve,
 * timed; check; teardown in every case. Fills v. */
void cd_demo_run(const cd_demo_steps_t *steps, void *state,
                 const cd_params_t *p, int variant, cd_verdict_t *v);

/* A batch of async tasks, for cd_demo_run_batch. */
typedef struct cd_demo_batch {
    int n;              /* tasks */
    int nworkers;       /* worker threads of the batch's executor */
    cd_task_fn fn;      /* task k runs fn(args + k * size) */
    void *args;         /* NULL (an allocation failed): nothing runs */
    size_t size;
    /* Or, for tasks that find their work from k alone: task k runs
     * each(ctx, k), and fn, args and size are not used. */
    cd_team_fn each;
    /* Task k is named "<prefix>-<k+1>", or by name() when it is set. name
     * and worker are handed the task's args, or ctx with each, and k. */
    const char *prefix;
    void (*name)(const void *arg, int k, char *buf, size_t len);
    /* The worker a task runs on (0..nworkers-1); NULL: round-robin. */
    int (*worker)(const void *arg, int k);
    /* 1: the executor's offload pool is started before the tasks run
     * (cd_exec_offload_start), as a service starts its pool at startup. */
    int offload;
    /* When set, called with ctx once the run has returned, before the
     * executor is freed (a last look at the books for the live view). */
    void (*after)(void *ctx);
    void *ctx;
    /* What a task is, for the error: "could not run 12 checkout tasks on
     * 1 workers"; NULL: the caller says it. */
    const char *what;
} cd_demo_batch_t;

/* Spawns the batch's tasks in order, k = 0..n-1, on an executor of its
 * own and runs them to the end (or to the run's abort). Returns 0, or -1
 * when the executor or a task could not be started (nothing ran then; with
 * b->what, v says so). */
int cd_demo_run_batch(const cd_demo_batch_t *b, cd_verdict_t *v);

/* One thread beside a team, for cd_demo_beside: the thread called name
 * runs fn(ctx); the team of n, "<prefix>-1".."<prefix>-n", runs
 * team(ctx, i). */
typedef struct cd_demo_beside {
    const char *name;
    cd_thread_fn fn;
    int n;
    const char *prefix;
    cd_team_fn team;
    void *ctx;
    /* When set, called with ctx once the team has run, before the thread
     * is joined (close its queue, take the run's measure). */
    void (*between)(void *ctx);
    /* For the error: "could not start <who>" when the thread did not
     * start, "could not start <n> <what>" when the team did not; who
     * NULL: "could not start <n+1> threads" for either. */
    const char *who, *what;
} cd_demo_beside_t;

/* Starts the thread, runs the team beside it (cd_team_run), then joins the
 * thread. Returns 0, or -1 when the thread or the team could not be
 * started (then the team never started, or between and the join still
 * ran), having said so in v (CD_ERROR). */
int cd_demo_beside(const cd_demo_beside_t *b, cd_verdict_t *v);

/* Names a scenario's live figures (registry gauges) for --view, in the
 * order the view shows them: first total, set to n (none when total is
 * NULL), then one gauge a (name, int *id) pair, its id stored at id, up to
 * a NULL name. Call while setting up, from one thread. */
void cd_demo_figures(const char *total, int64_t n, ...)
    __attribute__((sentinel));

/* How often each of n items was done, read from its counter (loaded with
 * order): in all, more than once, never. */
typedef struct cd_demo_tally {
    int total, twice, never;
} cd_demo_tally_t;
cd_demo_tally_t cd_demo_tally(const atomic_int *count, int n,
                              memory_order order);

/* For the live view: sets gauge total_id to the n counters' sum and
 * twice_id to how many of them are above 1 (cd_demo_tally, relaxed loads:
 * watching orders nothing between the workers). */
void cd_demo_show_tally(const atomic_int *count, int n, int total_id,
                        int twice_id);

/* The books of a shop whose customers pay for their orders (race,
 * async-race), read for its check: the charges of norders orders
 * (charges[k]: how often order k was charged), and the customer whose
 * balance (balance[c], at price a charge) fell lowest. */
typedef struct cd_demo_shop {
    int total, twice, unpaid; /* charges; orders charged twice or more;
                                 orders never charged */
    int worst;                /* the customer with the lowest balance */
    long start, low;          /* what worst could pay for, and has left */
} cd_demo_shop_t;

/* Reads the books, and says in v what every such shop promises (each
 * order charged once, every balance ending at 0) with the figures orders,
 * charges, double_charged, unpaid and customers. */
cd_demo_shop_t cd_demo_shop_books(const atomic_int *charges, int norders,
                                  const atomic_long *balance,
                                  int ncustomers, long price,
                                  cd_verdict_t *v);

/* Writes fmt's text at buf + at, truncated to fit the size bytes of buf,
 * and returns at plus the length snprintf gives it; a buf already full (at
 * >= size) is left as it is. For sentences built piece by piece: "8/8/7",
 * "5 fulfilled 3 times, 3 fulfilled twice". */
size_t cd_demo_append(char *buf, size_t size, size_t at, const char *fmt,
                      ...) __attribute__((format(printf, 4, 5)));

/* Writes n counts into buf, one per thread: "8/8/7/8" (truncated to fit
 * size bytes). */
void cd_demo_join(char *buf, size_t size, const int *c, int n);

/* bytes for a person, into buf (size bytes): "512 B", "64 KiB", "4.5 MiB";
 * a whole number without a decimal ("1 MiB", not "1.0"). Returns buf. */
const char *cd_demo_bytes(char *buf, size_t size, double bytes);

#endif /* CD_SUPPORT_H */
