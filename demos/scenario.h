/*
 * scenario.h - what a scenario is, and the verdict it returns.
 *
 * A scenario is domain state + workers + an invariant check, in one file
 * under demos/. Its broken variant and its fixes live side by side there
 * and differ only by the lines that are the lesson. Each file exports its
 * run function (cd_NAME_run, below); its entry in the table of
 * demos/scenarios.c, a cd_scenario_t with designated initializers, holds
 * the rest: name, worksheet, variants, sizes.
 * A run function never prints: it fills a verdict that the CLI turns into
 * a line of text or a JSON object.
 */
#ifndef CD_SCENARIO_H
#define CD_SCENARIO_H

#include <stdarg.h>
#include <stdint.h>

/* Parameters every scenario takes (ranges per scenario). A scenario whose
 * max for threads or workers is 0 does not use it, and the CLI refuses the
 * option: thread scenarios leave workers at 0, scenarios that run async
 * tasks on an executor (cd_exec.h) take workers and leave threads at 0. */
typedef struct cd_params {
    int threads;
    int iterations;
    int workers;    /* executor worker threads */
    /* Scenarios whose workers are processes (db-race); max 0 elsewhere,
     * where the CLI refuses --instances, --db and --kill-one. */
    int instances;  /* service instances, each a process of its own */
    const char *db; /* --db: the database (NULL: the scenario's own) */
    int kill_one;   /* --kill-one: SIGKILL one instance mid-checkout */
    /* --memory-budget: what a queue may hold, in KiB (backpressure; max 0
     * elsewhere, where the CLI refuses it). 0: the scenario's own. */
    int budget_kib;
    /* A scenario with a server (chat, .serves); 0 elsewhere. */
    int slow_policy; /* --slow-policy: CD_SLOW_DROP or CD_SLOW_DISCONNECT */
    int serve;       /* --serve: keep the server up until a signal or q */
    int serve_port;  /* its port on 127.0.0.1 (0: the kernel picks one) */
    /* --serve without the view: called once the server listens, with its
     * port, so that the CLI can say how to connect. NULL: not called. */
    void (*on_listen)(int port);
} cd_params_t;

/* What a server does with a client that reads too slowly (chat). */
enum cd_slow_policy {
    CD_SLOW_DROP,      /* drop its oldest messages and tell it how many */
    CD_SLOW_DISCONNECT /* the same, and hang up once it lost too many */
};

typedef struct cd_variant {
    const char *name;    /* "broken", "mutex", ... */
    const char *summary; /* what this variant does, one line */
} cd_variant_t;

typedef enum cd_status {
    CD_HELD = 0,   /* invariant held, nothing suspicious */
    CD_VIOLATED,   /* the invariant was broken */
    CD_DEADLOCK,   /* threads waited for each other forever */
    CD_TIMEOUT,    /* the run hit its hard time limit */
    CD_POTENTIAL,  /* held this time, but the lock order can deadlock */
    CD_ERROR,      /* the run could not be set up */
    CD_STOPPED,    /* the user ended the run before it finished */
    CD_STUCK,      /* no thread could run, and no cycle: each waited for
                      something no running thread would bring */
    CD_LIVELOCK    /* threads kept running but none made progress */
} cd_status_t;

#define CD_MAX_FIGS 16
#define CD_TEXT_MAX 512

/* One figure for --json and the live view: a number or a string. */
typedef struct cd_fig {
    char key[32];
    int is_num;
    int64_t num;
    char str[96];
} cd_fig_t;

typedef struct cd_verdict {
    int status;
    char expected[CD_TEXT_MAX]; /* the invariant, in words */
    char observed[CD_TEXT_MAX]; /* what happened, in words */
    int nfigs;
    cd_fig_t figs[CD_MAX_FIGS];
} cd_verdict_t;

typedef struct cd_scenario {
    const char *name;
    const char *title;
    const char *pitfall;          /* the pitfall in one line */
    const char *lesson;           /* path of its worksheet */
    const cd_variant_t *variants; /* [0] is "broken", then the fixes */
    int nvariants;
    int recommended;              /* the fix plain --fixed picks */
    /* Bit v set: variant v is a wrong fix, there to be compared with the
     * right one; it fails (exit 1) like broken. Most scenarios have none. */
    unsigned wrong_fixes;
    cd_params_t defaults, min, max;
    cd_params_t explore;          /* small enough for dfs to finish */
    /* 1: the bug is made of timing (threads that retry on one clock), so
     * concdemo explore ends sleeps only on time, as a single controlled
     * run does; 0 (most): it lets any sleep end early (lib/cd_sched.h),
     * so that no sleep orders events. */
    int explore_on_time;
    /* 1: its threads are cd_threads that only do lib operations (no
     * executor, no real I/O), so concdemo explore runs them as coroutines
     * on one thread (cd_sched_cfg_t.fibers), several times faster. */
    int fibers;
    /* 1: its run can keep a real server up (--serve) and takes
     * --slow-policy for its fixes (chat); 0: the CLI refuses both. */
    int serves;
    /* The live view's latency scale in thousandths when the command line
     * gives none; 0: the view's own (x100). For a scenario whose rounds
     * are long already, so that the view still ends within its limit. */
    int view_permille;
    /* Runs one variant; fills v (status, expected, observed, figures). */
    void (*run)(const cd_params_t *p, int variant, cd_verdict_t *v);
    /* A scenario whose instances are processes: the entry point of one
     * instance. Its run starts them as `<this program> SCENARIO --instance
     * ...`, and the program's main hands argv from "--instance" on here
     * (cli/cmd_run.c; the test runner too). Returns the exit code. NULL:
     * a scenario of threads. */
    int (*instance_main)(int argc, char **argv);
} cd_scenario_t;

/* A scenario's .variants and .nvariants from its array of variants, so
 * that the count cannot fall behind the array:
 * `CD_VARIANTS(race_variants),` in its entry of demos/scenarios.c. */
#define CD_VARIANTS(array) \
    .variants = (array), .nvariants = (int)(sizeof(array) / sizeof((array)[0]))

/* Each demo's run (demos/NAME.c), its entry's .run; db-race's
 * instance_main too. */
typedef void cd_scenario_run_t(const cd_params_t *p, int variant,
                               cd_verdict_t *v);
cd_scenario_run_t cd_race_run, cd_deadlock_run, cd_starvation_run,
    cd_backpressure_run, cd_await_run, cd_async_race_run,
    cd_lost_wakeup_run, cd_spurious_run, cd_order_violation_run,
    cd_philosophers_run, cd_publication_run, cd_livelock_run,
    cd_stampede_run, cd_webhook_run, cd_inventory_run, cd_counter_run,
    cd_broadcast_run, cd_db_race_run, cd_holdtime_run, cd_chat_run,
    cd_orphans_run, cd_offload_run;
int cd_db_race_instance_main(int argc, char **argv);

/* Sizes of a demo's arrays, which bound its entry's .max: the demo checks
 * its own constant against these when it compiles. */
#define CD_STARVATION_READERS 16
#define CD_PUBLICATION_HANDLERS 64
#define CD_LIVELOCK_TELLERS 16
#define CD_CHAT_CLIENTS 16 /* the fast readers and the slow one */
#define CD_CHAT_MSGS 100   /* the most lines a fast client says */

/* The table of scenarios, in the order `concdemo list` shows them. */
const cd_scenario_t *const *cd_scenarios(int *count);
const cd_scenario_t *cd_scenario_find(const char *name);
/* Index of the variant called name, or -1. */
int cd_scenario_variant(const cd_scenario_t *s, const char *name);

/* Verdict helpers (printf-style; text is truncated to fit). */
void cd_verdict_expect(cd_verdict_t *v, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void cd_verdict_observe(cd_verdict_t *v, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* cd_verdict_observe for a caller that takes its own format and
 * arguments. */
void cd_verdict_vobserve(cd_verdict_t *v, int status, const char *fmt,
                         va_list ap) __attribute__((format(printf, 3, 0)));
void cd_verdict_num(cd_verdict_t *v, const char *key, int64_t value);
void cd_verdict_str(cd_verdict_t *v, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* A figure's value, or -1 / NULL when absent (for tests). */
int64_t cd_verdict_get_num(const cd_verdict_t *v, const char *key);
const char *cd_verdict_get_str(const cd_verdict_t *v, const char *key);

const char *cd_status_name(int status);

/* "order" or "orders" for n: verdicts read "1 order", "2 orders". */
const char *cd_plural(long n, const char *one, const char *many);

#endif /* CD_SCENARIO_H */
