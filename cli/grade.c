/*
 * grade.c - the exercise table and the rules that read a trace or a
 * learner's source.
 */
#include "grade.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exfile.h"
#include "../lib/cd_registry.h"
#include "../lib/cd_trace.h"

/* ================================ the table ============================== */

static const char *const race_waits[] = { "payment-gateway", NULL };
static const char *const deadlock_waits[] = {
    "fraud-check", "back-off", NULL,
};
static const char *const starvation_waits[] = {
    "walk-window", "trim-window", "next-request", "next-trim", NULL,
};
static const char *const backpressure_waits[] = {
    "request", "log-store write", "log-store flush", NULL,
};
static const char *const await_waits[] = { "db-save", NULL };
static const char *const lost_wakeup_waits[] = { "job", "setup", NULL };
static const char *const spurious_waits[] = { "take-order", NULL };
static const char *const philosophers_waits[] = { "back-off", NULL };
static const char *const order_violation_waits[] = {
    "db-connect", "next-request", "query", NULL,
};
static const char *const publication_waits[] = { "handshake", "poll", NULL };
static const char *const livelock_waits[] = {
    "fraud-check", "log-conflict", "retry-timer", "back-off", NULL,
};
static const char *const stampede_waits[] = { "database", NULL };
static const char *const webhook_waits[] = { "warehouse", NULL };

static const char *const inventory_waits[] = { "payment", "arrival", NULL };
static const char *const counter_waits[] = { "render-page", NULL };
static const char *const db_race_waits[] = { "payment-gateway", NULL };
static const char *const holdtime_waits[] = { "report", "next sale", NULL };
static const char *const orphans_waits[] = { "wait for subtasks", NULL };
/* offload: the harness's own waits (a request's arrival) are not in the
 * learner's file; any wait there is the learner's. */
static const char *const offload_waits[] = { NULL };

static const cd_exercise_spec_t specs[] = {
    {
        .name = "race",
        .goal = "every order charged once, with a lock per customer",
        .free = { { .threads = 4, .iterations = 8 },
                  { .threads = 8, .iterations = 16 } },
        .nfree = 2, .free_runs = 3, .free_ms = 5000,
        .explore = { .threads = 2, .iterations = 1 },
        .pct_runs = 300, .dfs_budget_s = 2,
        .overlap = "gateway calls",
        .parallel = { .threads = 8, .iterations = 8 },
        .serial_why = "correct, but one lock for every customer serialises "
                      "them all: only one gateway call at a time. Use a "
                      "lock per customer (cd_keyed.h)",
        .waits = race_waits,
        .crit_begin = "check status", .crit_end = "mark paid",
    },
    {
        .name = "deadlock",
        .goal = "every transfer completes: no deadlock, no lock-order "
                "inversion",
        .free = { { .threads = 2, .iterations = 10 },
                  { .threads = 4, .iterations = 10 } },
        .nfree = 2, .free_runs = 3, .free_ms = 2500,
        .explore = { .threads = 2, .iterations = 1 },
        .pct_runs = 300, .dfs_budget_s = 2,
        .overlap = "fraud checks",
        .parallel = { .threads = 4, .iterations = 2 },
        .serial_why = "correct, but one lock for the whole bank serialises "
                      "every transfer: only one fraud check at a time. Lock "
                      "the two accounts, always in the same order",
        .waits = deadlock_waits,
    },
    {
        .name = "starvation",
        .goal = "the trimmer gets in while requests keep reading "
                "together, and makes every trim",
        .free = { { .threads = 4, .iterations = 100 },
                  { .threads = 6, .iterations = 150 } },
        .nfree = 2, .free_runs = 2, .free_ms = 10000,
        .explore = { .threads = 4, .iterations = 100 },
        .pct_runs = 100, .dfs_budget_s = 1,
        .overlap = "reads of the window",
        .parallel = { .threads = 4, .iterations = 100 },
        .serial_why = "the readers never share: one read of the window at "
                      "a time, as under a plain mutex or a write lock. A "
                      "request only reads: take the read side, and choose "
                      "the lock's policy",
        .waits = starvation_waits,
    },
    {
        .name = "backpressure",
        .goal = "the log queue stays within its memory budget, every "
                "line accounted for",
        .free = { { .threads = 1, .iterations = 3000 },
                  { .threads = 4, .iterations = 1500 } },
        .nfree = 2, .free_runs = 1, .free_ms = 20000,
        .explore = { .threads = 1, .iterations = 3000 },
        .pct_runs = 10, .dfs_budget_s = 0.5,
        .waits = backpressure_waits,
    },
    {
        .name = "await",
        .goal = "every request finishes, every cart saved; saves of "
                "different users overlap",
        .free = { { .iterations = 4, .workers = 1 },
                  { .iterations = 4, .workers = 2 } },
        .nfree = 2, .free_runs = 3, .free_ms = 5000,
        .explore = { .iterations = 2, .workers = 2 },
        .pct_runs = 200, .dfs_budget_s = 1,
        .overlap = "saves",
        .parallel = { .iterations = 4, .workers = 1 },
        .serial_why = "correct, but the saves never overlap: the worker "
                      "does one save at a time. Await the save "
                      "(cd_await_latency, never a blocking sleep) and lock "
                      "each session on its own",
        .waits = await_waits,
        .tasks = 1,
    },
    {
        .name = "async-race",
        .goal = "every order charged once, with an awaitable lock per "
                "customer",
        .free = { { .iterations = 6, .workers = 1 },
                  { .iterations = 6, .workers = 2 } },
        .nfree = 2, .free_runs = 3, .free_ms = 5000,
        .explore = { .iterations = 3, .workers = 2 },
        .pct_runs = 300, .dfs_budget_s = 1,
        .overlap = "gateway calls",
        .parallel = { .iterations = 6, .workers = 1 },
        .serial_why = "correct, but one lock for every customer serialises "
                      "them all: only one gateway call at a time. Use an "
                      "awaitable lock per customer (cd_akeyed in "
                      "cd_amutex.h)",
        .waits = race_waits,
        .tasks = 1,
        .crit_begin = "check status", .crit_end = "mark paid",
    },
    {
        /* No parallel stage: the harness itself overlaps the job with
         * the runner's setup, whatever the learner's hand-off does. */
        .name = "lost-wakeup",
        .goal = "the runner goes on once each job is done, never before, "
                "whichever of the two comes first",
        .free = { { .iterations = 3 }, { .iterations = 10 } },
        .nfree = 2, .free_runs = 3, .free_ms = 2500,
        /* Two jobs: a hand-off that is not made ready for the next job
         * shows only in the second. */
        .explore = { .iterations = 2 },
        .pct_runs = 300, .dfs_budget_s = 1,
        /* A flag tested in an `if` holds until a wait returns for
         * nothing: the runner then goes on with its job unfinished. */
        .spurious = CD_SPURIOUS_AFTER,
        .empty_point = "job not done",
        .waits = lost_wakeup_waits,
    },
    {
        .name = "spurious",
        .goal = "no cook takes from an empty rail, however its wait ended; "
                "every ticket taken once, every cook home",
        .free = { { .threads = 2, .iterations = 8 },
                  { .threads = 4, .iterations = 16 } },
        .nfree = 2, .free_runs = 3, .free_ms = 5000,
        .explore = { .threads = 2, .iterations = 2 },
        .pct_runs = 300, .dfs_budget_s = 1,
        .spurious = CD_SPURIOUS_ALWAYS,
        .waits = spurious_waits,
        .empty_point = "rail empty",
    },
    {
        /* No parallel stage: the handlers' queries overlap whatever the
         * look-up does once the connection is there. */
        .name = "order-violation",
        .goal = "every request finds the open connection, however early it "
                "comes; the database connected once",
        .free = { { .threads = 2, .iterations = 4 },
                  { .threads = 8, .iterations = 2 } },
        .nfree = 2, .free_runs = 3, .free_ms = 2500,
        .explore = { .threads = 2, .iterations = 1 },
        .pct_runs = 300, .dfs_budget_s = 1,
        .waits = order_violation_waits,
    },
    {
        /* Three diners round three forks: the smallest ring that is not
         * lesson 2's two locks in opposite orders. */
        .name = "philosophers",
        .goal = "every diner eats all its meals, with both forks; no "
                "deadlock round the table, nobody starved",
        .free = { { .threads = 5, .iterations = 10 },
                  { .threads = 7, .iterations = 10 } },
        .nfree = 2, .free_runs = 3, .free_ms = 5000,
        .explore = { .threads = 3, .iterations = 1 },
        .pct_runs = 300, .dfs_budget_s = 2,
        .overlap = "meals",
        .parallel = { .threads = 5, .iterations = 3 },
        .serial_why = "correct, but only one diner eats at a time: one seat "
                      "(or one lock) for the whole table serialises every "
                      "meal. Two diners who share no fork can eat together",
        .waits = philosophers_waits,
    },
    {
        /* No parallel stage: the handlers look side by side whatever the
         * learner's flag does. A stale read is an order of two steps the
         * scheduler explores (the harness's handshake lies between a flag
         * raised early and the record); a flag that orders nothing shows
         * on this x86 machine only as a data race, so ThreadSanitizer is
         * its judge. */
        .name = "publication",
        .goal = "a handler uses a connection's record only once it is "
                "whole, on any processor: no stale or torn read, no data "
                "race",
        .free = { { .threads = 4, .iterations = 8 },
                  { .threads = 8, .iterations = 16 } },
        .nfree = 2, .free_runs = 3, .free_ms = 5000,
        .explore = { .threads = 2, .iterations = 2 },
        .pct_runs = 300, .dfs_budget_s = 1,
        .waits = publication_waits,
        .race_why = "every run held, but nothing orders the record's write "
                    "before its read: a plain, volatile or relaxed flag - or "
                    "a release or an acquire on one side only - orders "
                    "nothing, and this processor kept the stores in order by "
                    "luck (the compiler, or an ARM one, need not). "
                    "Raise the flag after the handshake with a release "
                    "store and test it with an acquire load - or use one "
                    "lock for both sides",
    },
    {
        /* The scenario keeps time's order under exploration
         * (explore_on_time): tellers that retry on one clock meet in
         * every schedule, so a lockstep is found, never missed by luck.
         * A pause of the learner's own is "back-off": whether it breaks
         * the lockstep is for the runs to show, not for its name. */
        .name = "livelock",
        .goal = "every transfer completes: no tellers that step back and "
                "retry in step for ever, no deadlock",
        .free = { { .threads = 2, .iterations = 10 },
                  { .threads = 4, .iterations = 5 } },
        .nfree = 2, .free_runs = 3, .free_ms = 10000,
        .explore = { .threads = 2, .iterations = 1 },
        .pct_runs = 300, .dfs_budget_s = 1,
        .overlap = "fraud checks",
        .parallel = { .threads = 4, .iterations = 2 },
        .serial_why = "correct, but one lock for the whole bank serialises "
                      "every transfer: only one fraud check at a time. Lock "
                      "the two accounts in one order, or back off at random",
        .waits = livelock_waits,
    },
    {
        .name = "stampede",
        .goal = "one database query per cold key, with an awaitable lock "
                "per key and a second look",
        .free = { { .iterations = 8, .workers = 1 },
                  { .iterations = 8, .workers = 2 } },
        .nfree = 2, .free_runs = 3, .free_ms = 5000,
        .explore = { .iterations = 2, .workers = 2 },
        .pct_runs = 300, .dfs_budget_s = 1,
        .overlap = "database queries",
        .parallel = { .iterations = 4, .workers = 1 },
        .serial_why = "correct, but one lock for every key serialises "
                      "them all: one database query at a time. Use an "
                      "awaitable lock per cache key (cd_akeyed in "
                      "cd_amutex.h)",
        .waits = stampede_waits,
        .tasks = 1,
    },
    {
        /* Two workers with two events: an event's three deliveries are
         * spread over both, so a lock handed between workers is tried
         * too; one worker is the free runs' first size. */
        .name = "webhook",
        .goal = "every event fulfilled once, however often delivered, "
                "with an awaitable lock per event",
        .free = { { .iterations = 8, .workers = 1 },
                  { .iterations = 8, .workers = 2 } },
        .nfree = 2, .free_runs = 3, .free_ms = 5000,
        .explore = { .iterations = 2, .workers = 2 },
        .pct_runs = 300, .dfs_budget_s = 1,
        .overlap = "fulfilments",
        .parallel = { .iterations = 8, .workers = 1 },
        .serial_why = "correct, but one lock for every event serialises "
                      "them all: only one fulfilment at a time. Use an "
                      "awaitable lock per event id (cd_akeyed in "
                      "cd_amutex.h)",
        .waits = webhook_waits,
        .tasks = 1,
        .crit_begin = "check processed", .crit_end = "record processed",
    },
    {
        .name = "inventory",
        .goal = "never more sold than in stock, a declined card's unit "
                "back on the shelf; products still sell in parallel",
        .free = { { .iterations = 8, .workers = 1 },
                  { .iterations = 8, .workers = 2 } },
        .nfree = 2, .free_runs = 3, .free_ms = 5000,
        .explore = { .iterations = 4, .workers = 2 },
        .pct_runs = 300, .dfs_budget_s = 1,
        .overlap = "payments",
        .parallel = { .iterations = 8, .workers = 1 },
        .serial_why = "correct, but one lock for the whole shop serialises "
                      "every product: only one payment at a time. Lock each "
                      "product on its own (cd_akeyed in cd_amutex.h), or "
                      "reserve the unit before paying",
        .waits = inventory_waits,
        .tasks = 1,
        .crit_begin = "check stock", .crit_end = "take unit",
    },
    {
        .name = "counter",
        .goal = "every page view counted, each visitor of a page a number "
                "of its own, the pages still rendered side by side",
        .free = { { .threads = 4, .iterations = 6 },
                  { .threads = 8, .iterations = 6 } },
        .nfree = 2, .free_runs = 3, .free_ms = 5000,
        .explore = { .threads = 2, .iterations = 1 },
        .pct_runs = 300, .dfs_budget_s = 2,
        .overlap = "renders",
        .parallel = { .threads = 4, .iterations = 1 },
        .serial_why = "correct, but the page is rendered holding the lock: "
                      "one render at a time. Take the visitor's number "
                      "under the lock, let go, then render",
        .waits = counter_waits,
        .crit_begin = "read count", .crit_end = "store count",
    },
    {
        .name = "db-race",
        .goal = "every order charged once across processes that share "
                "one SQLite database",
        .free = { { .instances = 2, .iterations = 12 },
                  { .instances = 4, .iterations = 16 } },
        .nfree = 2, .free_runs = 3, .free_ms = 20000,
        .waits = db_race_waits,
        .processes = 1,
    },
    {
        .name = "holdtime",
        .goal = "the report rendered with the board's lock let go, every "
                "sale kept, the dashboard never back to an older report",
        .free = { { .threads = 4, .iterations = 2 },
                  { .threads = 8, .iterations = 2 } },
        .nfree = 2, .free_runs = 3, .free_ms = 5000,
        /* Two requests each: the second handler's second report is shown
         * before the first handler's full one, rendered from an older
         * copy. */
        .explore = { .threads = 2, .iterations = 2 },
        .pct_runs = 300, .dfs_budget_s = 1,
        .overlap = "renders",
        .parallel = { .threads = 4, .iterations = 1 },
        .serial_why = "correct, but the report is rendered holding the "
                      "board's lock: one render at a time, and the till "
                      "waits behind each. Copy the board under the lock, "
                      "let go, render the copy, then lock again to store "
                      "the report - only if it is newer than the one shown",
        .waits = holdtime_waits,
    },
    {
        .name = "orphans",
        .goal = "the timeout cancels the subtasks: nothing acts after the "
                "failure is reported, no subtask outlives its checkout",
        .free = { { .iterations = 4, .workers = 1 },
                  { .iterations = 4, .workers = 3 } },
        .nfree = 2, .free_runs = 3, .free_ms = 5000,
        /* Explored on time (its harness's explore_on_time): the 50 ms
         * timeout comes before the 80 ms charge, as deadlines say. */
        .explore = { .iterations = 2, .workers = 2 },
        .pct_runs = 100, .dfs_budget_s = 1,
        .waits = orphans_waits,
        .tasks = 1,
    },
    {
        .name = "offload",
        .goal = "the password hashed off the event loop: the login awaits "
                "it, the other requests' p99 latency within 40 ms",
        .free = { { .iterations = 40, .workers = 1 },
                  { .iterations = 40, .workers = 2 } },
        .nfree = 2, .free_runs = 3, .free_ms = 5000,
        /* The login arrives with the second request: nine arrive while it
         * hashes. Its harness explores on time (the bug is made of time:
         * a hash's CPU is counted on the virtual clock, cd_cpu_work). */
        .explore = { .iterations = 10, .workers = 1 },
        .pct_runs = 50, .dfs_budget_s = 1,
        .waits = offload_waits,
        .tasks = 1,
    },
};

const cd_exercise_spec_t *cd_exercise_specs(int *count)
{
    *count = (int)(sizeof specs / sizeof specs[0]);
    return specs;
}

const cd_exercise_spec_t *cd_exercise_spec(const char *name)
{
    for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++)
        if (strcmp(specs[i].name, name) == 0)
            return &specs[i];
    return NULL;
}

/* The exercise's name with '_' for '-' (a C file's name), then ext. */
static void file_named(const cd_exercise_spec_t *spec, const char *ext,
                       char *buf, size_t size)
{
    snprintf(buf, size, "%s%s", spec->name, ext);
    for (char *p = buf; *p; p++)
        if (*p == '-')
            *p = '_';
}

void cd_exercise_file(const cd_exercise_spec_t *spec, char *buf, size_t size)
{
    file_named(spec, ".c", buf, size);
}

void cd_exercise_answer(const cd_exercise_spec_t *spec, char *buf,
                        size_t size)
{
    file_named(spec, ".patch", buf, size);
}

const char *cd_exercise_size_text(const cd_params_t *p, char *buf,
                                  size_t size)
{
    if (p->instances > 0)
        snprintf(buf, size, "%d instance%s, %d order%s", p->instances,
                 p->instances == 1 ? "" : "s", p->iterations,
                 p->iterations == 1 ? "" : "s");
    else if (p->workers > 0)
        snprintf(buf, size, "%d worker%s, %d iteration%s", p->workers,
                 p->workers == 1 ? "" : "s", p->iterations,
                 p->iterations == 1 ? "" : "s");
    else if (p->threads == 0) /* the exercise sets its threads itself */
        snprintf(buf, size, "%d iteration%s", p->iterations,
                 p->iterations == 1 ? "" : "s");
    else
        snprintf(buf, size, "%d thread%s, %d iteration%s", p->threads,
                 p->threads == 1 ? "" : "s", p->iterations,
                 p->iterations == 1 ? "" : "s");
    return buf;
}

const char *cd_exercise_lesson(const cd_exercise_spec_t *spec)
{
    const cd_scenario_t *s = cd_scenario_find(spec->name);
    return s ? s->lesson : "";
}

/* ============================ the source's waits ========================= */

/* Calls of the C library that wait (or give the CPU away) on purpose. */
static const char *const sleeps[] = {
    "sleep", "usleep", "nanosleep", "clock_nanosleep", "thrd_sleep",
    "thrd_yield", "sched_yield", "pthread_yield", NULL,
};

static int in_list(const char *const *list, const char *word)
{
    for (; list && *list; list++)
        if (strcmp(*list, word) == 0)
            return 1;
    return 0;
}

/* A small C lexer: enough to find identifiers followed by '(' and the
 * string literal after it, outside comments, strings and characters. */
typedef struct lexer {
    const char *p;
    int line;
} lexer_t;

static void skip_space_and_comments(lexer_t *lx)
{
    for (;;) {
        const char *p = lx->p;
        if (*p == '\n') {
            lx->line++;
            lx->p++;
        } else if (isspace((unsigned char)*p)) {
            lx->p++;
        } else if (p[0] == '/' && p[1] == '/') {
            while (*lx->p && *lx->p != '\n')
                lx->p++;
        } else if (p[0] == '/' && p[1] == '*') {
            lx->p += 2;
            while (*lx->p && !(lx->p[0] == '*' && lx->p[1] == '/')) {
                if (*lx->p == '\n')
                    lx->line++;
                lx->p++;
            }
            if (*lx->p)
                lx->p += 2;
        } else {
            return;
        }
    }
}

/* Skips a string or character literal starting at lx->p (a quote);
 * copies a string's text into out when out is not NULL. */
static void skip_literal(lexer_t *lx, char *out, size_t size)
{
    char quote = *lx->p++;
    size_t n = 0;
    while (*lx->p && *lx->p != quote && *lx->p != '\n') {
        if (*lx->p == '\\' && lx->p[1])
            lx->p++;
        if (out && n + 1 < size)
            out[n++] = *lx->p;
        lx->p++;
    }
    if (*lx->p == quote)
        lx->p++;
    if (out)
        out[n] = '\0';
}

static void add_finding(cd_wait_finding_t *out, int max, int *n, int line,
                        int blocking, const char *fmt, const char *a,
                        const char *b)
{
    if (*n < max) {
        out[*n].line = line;
        out[*n].blocking = blocking;
        snprintf(out[*n].what, sizeof out[*n].what, fmt, a, b);
    }
    (*n)++;
}

/* The identifier `word` at line was just read and a '(' follows. */
static void judge_call(const cd_exercise_spec_t *spec, lexer_t *lx,
                       const char *word, int line, cd_wait_finding_t *out,
                       int max, int *n)
{
    int blocking = strcmp(word, "cd_latency") == 0 ||
                   strcmp(word, "cd_latency_at") == 0;
    int await = strcmp(word, "cd_await_latency") == 0 ||
                strcmp(word, "cd_await_latency_at") == 0;

    if (in_list(sleeps, word)) {
        add_finding(out, max, n, line, 0, "calls %s()%s", word, "");
        return;
    }
    if (!blocking && !await)
        return;
    lx->p++; /* the '(' */
    skip_space_and_comments(lx);
    if (*lx->p != '"')
        return; /* a name we cannot read here: not judged */
    char label[64];
    skip_literal(lx, label, sizeof label);
    if (blocking && spec->tasks)
        add_finding(out, max, n, line, 1, "sleeps in a blocking call "
                    "(cd_latency \"%s\") inside a task%s", label, "");
    else if (!in_list(spec->waits, label))
        add_finding(out, max, n, line, 0, "waits on purpose (%s \"%s\")",
                    word, label);
}

char *cd_grade_read_file(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    size_t cap = 1 << 16, len = 0;
    char *text = malloc(cap + 1);
    for (size_t got; text && (got = fread(text + len, 1, cap - len, f)) > 0;) {
        len += got;
        if (len == cap) {
            char *bigger = realloc(text, 2 * cap + 1);
            if (!bigger)
                break;
            text = bigger;
            cap *= 2;
        }
    }
    fclose(f);
    if (!text) {
        errno = ENOMEM;
        return NULL;
    }
    text[len] = '\0';
    return text;
}

int cd_grade_scan_waits(const cd_exercise_spec_t *spec, const char *path,
                        cd_wait_finding_t *out, int max)
{
    char *text = cd_grade_read_file(path);
    if (!text)
        return -errno;
    if (cd_exfile_is_part(text)) {
        /* A part: what it adds is the learner's; the rest is the
         * starter's, whose waits are given. */
        char *added = cd_exfile_added(text);
        free(text);
        if (!added)
            return -ENOMEM;
        text = added;
    }

    lexer_t lx = { .p = text, .line = 1 };
    int n = 0;
    char prev = ' ', before = ' '; /* the last two characters read */
    for (;;) {
        skip_space_and_comments(&lx);
        char c = *lx.p;
        if (!c)
            break;
        if (c == '"' || c == '\'') {
            skip_literal(&lx, NULL, 0);
            before = prev;
            prev = c;
            continue;
        }
        if (!(isalpha((unsigned char)c) || c == '_')) {
            before = prev;
            prev = c;
            lx.p++;
            continue;
        }
        char word[64];
        size_t w = 0;
        int line = lx.line;
        while (isalnum((unsigned char)*lx.p) || *lx.p == '_') {
            if (w + 1 < sizeof word)
                word[w++] = *lx.p;
            lx.p++;
        }
        word[w] = '\0';
        /* A member (s.sleep, s->sleep) is not the library's function;
         * after a lone '>' (#include <sched.h>, a > b) a call is. */
        int member = prev == '.' || (prev == '>' && before == '-');
        before = prev = 'a';
        skip_space_and_comments(&lx);
        if (*lx.p == '(' && !member)
            judge_call(spec, &lx, word, line, out, max, &n);
    }
    free(text);
    return n;
}

/* ================================ the trace ============================== */

/* Calls fn for every event the ring still holds, oldest first. */
static void each_event(void (*fn)(const cd_trace_event_t *, void *),
                       void *arg)
{
    uint64_t total;
    cd_trace_event_t *ev = malloc(CD_TRACE_CAP * sizeof *ev);
    int n = ev ? cd_trace_read(ev, CD_TRACE_CAP, &total) : 0;
    for (int i = 0; i < n; i++)
        fn(&ev[i], arg);
    free(ev);
}

/* What one thread held, lock by lock; an epoch tells two holds of the
 * same lock apart (let go and taken again is not one critical section). */
#define HOLDS 8

typedef struct hold {
    int obj;
    unsigned epoch;
} hold_t;

typedef struct thread_holds {
    hold_t held[HOLDS], at_begin[HOLDS];
    int nheld, nbegin, begun;
    cd_site_t begin_site;
} thread_holds_t;

typedef struct critical {
    const cd_exercise_spec_t *spec;
    thread_holds_t *t; /* CD_MAX_THREADS + 1, by thread id */
    unsigned epoch;
    char *buf;
    size_t size;
    int found;
} critical_t;

static int still_held(const thread_holds_t *t)
{
    for (int i = 0; i < t->nbegin; i++)
        for (int j = 0; j < t->nheld; j++)
            if (t->at_begin[i].obj == t->held[j].obj &&
                t->at_begin[i].epoch == t->held[j].epoch)
                return 1;
    return 0;
}

static void follow_holds(const cd_trace_event_t *ev, void *arg)
{
    critical_t *c = arg;
    if (c->found || ev->thread <= 0 || ev->thread > CD_MAX_THREADS)
        return;
    thread_holds_t *t = &c->t[ev->thread];
    const char *who = cd_reg_thread_name(ev->thread);

    if (ev->op == CD_OP_ACQUIRED && t->nheld < HOLDS) {
        t->held[t->nheld++] = (hold_t){ ev->obj, ++c->epoch };
    } else if (ev->op == CD_OP_UNLOCK) {
        for (int i = 0; i < t->nheld; i++)
            if (t->held[i].obj == ev->obj) {
                t->held[i] = t->held[--t->nheld];
                break;
            }
    } else if (ev->op == CD_OP_POINT && ev->label &&
               strcmp(ev->label, c->spec->crit_begin) == 0) {
        if (t->nheld == 0) {
            snprintf(c->buf, c->size, "%s passed '%s' (%s:%d) holding no "
                     "lock, so another one can pass it too before either "
                     "acts: the check and the act must happen in one step, "
                     "under one lock", who ? who : "a thread",
                     ev->label, ev->site.file, ev->site.line);
            c->found = 1;
            return;
        }
        memcpy(t->at_begin, t->held, sizeof t->held);
        t->nbegin = t->nheld;
        t->begun = 1;
        t->begin_site = ev->site;
    } else if (ev->op == CD_OP_POINT && ev->label && t->begun &&
               strcmp(ev->label, c->spec->crit_end) == 0) {
        t->begun = 0;
        if (!still_held(t)) {
            snprintf(c->buf, c->size, "%s let go of its lock between '%s' "
                     "(%s:%d) and '%s' (%s:%d): another thread can check "
                     "in between. Hold one lock from the check to the act",
                     who ? who : "a thread", c->spec->crit_begin,
                     t->begin_site.file, t->begin_site.line, ev->label,
                     ev->site.file, ev->site.line);
            c->found = 1;
        }
    }
}

int cd_grade_explain_critical(const cd_exercise_spec_t *spec, char *buf,
                              size_t size)
{
    if (!spec->crit_begin || !spec->crit_end)
        return 0;
    critical_t c = { .spec = spec, .buf = buf, .size = size };
    c.t = calloc(CD_MAX_THREADS + 1, sizeof *c.t);
    if (!c.t)
        return 0;
    each_event(follow_holds, &c);
    free(c.t);
    return c.found;
}

/* ============================ trusted wake-ups =========================== */

/* How each thread's last wait ended, and the last wake-up sent on each
 * condition variable (by object id). */
typedef struct wakeups {
    const cd_exercise_spec_t *spec;
    cd_trace_event_t *woke;   /* CD_MAX_THREADS + 1, by thread id */
    cd_trace_event_t *sent;   /* CD_MAX_OBJECTS + 1, by object id */
    char *buf;
    size_t size;
    int found;
} wakeups_t;

static void follow_wakeups(const cd_trace_event_t *ev, void *arg)
{
    wakeups_t *w = arg;
    if (w->found || ev->thread <= 0 || ev->thread > CD_MAX_THREADS)
        return;
    if ((ev->op == CD_OP_SIGNAL || ev->op == CD_OP_BROADCAST) &&
        ev->obj > 0 && ev->obj <= CD_MAX_OBJECTS) {
        w->sent[ev->obj] = *ev;
    } else if (ev->op == CD_OP_COND_WAIT || ev->op == CD_OP_COND_TIMEDWAIT) {
        w->woke[ev->thread].op = CD_OP_NONE; /* waiting again */
    } else if (ev->op == CD_OP_WOKE) {
        w->woke[ev->thread] = *ev;
    } else if (ev->op == CD_OP_POINT && ev->label &&
               strcmp(ev->label, w->spec->empty_point) == 0 &&
               w->woke[ev->thread].op == CD_OP_WOKE) {
        const cd_trace_event_t *wk = &w->woke[ev->thread];
        const char *who = cd_reg_thread_name(ev->thread);
        const char *cv = cd_reg_object_name(wk->obj);
        char how[256];
        who = who ? who : "a thread";
        cv = cv ? cv : "a condition variable";
        if (wk->arg == CD_WOKE_SPURIOUS) {
            snprintf(how, sizeof how, "returned with no signal at all (a "
                     "spurious wake-up, which POSIX allows)");
        } else if (wk->arg == CD_WOKE_TIMED_OUT) {
            snprintf(how, sizeof how, "timed out");
        } else {
            const cd_trace_event_t *s =
                wk->obj > 0 && wk->obj <= CD_MAX_OBJECTS ? &w->sent[wk->obj]
                                                         : NULL;
            const char *by = s && s->op ? cd_reg_thread_name(s->thread)
                                        : NULL;
            if (by)
                snprintf(how, sizeof how, "was ended by %s's %s (%s:%d), "
                         "meant for another waiter or for something another "
                         "thread got to first", by, cd_op_name(s->op),
                         s->site.file, s->site.line);
            else
                snprintf(how, sizeof how, "was signalled");
        }
        snprintf(w->buf, w->size, "%s's wait on %s (%s:%d) %s, and %s then "
                 "reached '%s' (%s:%d) without looking again. A return from "
                 "a wait promises nothing: test the condition again, in a "
                 "loop, every time the wait returns (while, not if)", who, cv,
                 wk->site.file, wk->site.line, how, who, ev->label,
                 ev->site.file, ev->site.line);
        w->found = 1;
    }
}

int cd_grade_explain_wakeup(const cd_exercise_spec_t *spec, char *buf,
                            size_t size)
{
    if (!spec->empty_point)
        return 0;
    wakeups_t w = { .spec = spec, .buf = buf, .size = size };
    w.woke = calloc(CD_MAX_THREADS + 1, sizeof *w.woke);
    w.sent = calloc(CD_MAX_OBJECTS + 1, sizeof *w.sent);
    if (w.woke && w.sent)
        each_event(follow_wakeups, &w);
    free(w.woke);
    free(w.sent);
    return w.found;
}
