/*
 * cd_sched.c - the controlled scheduler.
 *
 * Hand-off: every participant has a turn semaphore; the running thread
 * picks the next one, posts its semaphore and waits on its own. Only the
 * thread whose turn it is reads or writes the scheduler's state, so the
 * state needs no lock: the semaphores order it.
 *
 * ThreadSanitizer must not see those hand-offs, or every access of one
 * thread would "happen before" the next thread's and the demos' races would
 * vanish under a controlled run. The scheduler's own code therefore runs
 * with TSan's synchronisation and memory tracking switched off
 * (AnnotateIgnore*), and its hand-offs create no happens-before edge.
 */
#define _GNU_SOURCE /* sched_setaffinity, sched_getcpu */
#include "cd_sched.h"

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cd_internal.h"
#include "cd_op.h"
#include "cd_waitfor.h"

#define S (&cd__reg.sched)

#ifdef CD_TSAN
void AnnotateIgnoreReadsBegin(const char *file, int line);
void AnnotateIgnoreReadsEnd(const char *file, int line);
void AnnotateIgnoreWritesBegin(const char *file, int line);
void AnnotateIgnoreWritesEnd(const char *file, int line);
void AnnotateIgnoreSyncBegin(const char *file, int line);
void AnnotateIgnoreSyncEnd(const char *file, int line);
#define HIDE_BEGIN()                                                         \
    (AnnotateIgnoreReadsBegin(__FILE__, __LINE__),                           \
     AnnotateIgnoreWritesBegin(__FILE__, __LINE__),                          \
     AnnotateIgnoreSyncBegin(__FILE__, __LINE__))
#define HIDE_END()                                                           \
    (AnnotateIgnoreSyncEnd(__FILE__, __LINE__),                              \
     AnnotateIgnoreWritesEnd(__FILE__, __LINE__),                            \
     AnnotateIgnoreReadsEnd(__FILE__, __LINE__))
#else
#define HIDE_BEGIN() ((void)0)
#define HIDE_END() ((void)0)
#endif

/* ================================ parsing ================================ */

static int fail(char *err, size_t errlen, const char *fmt, const char *part)
{
    snprintf(err, errlen, fmt, part);
    return -EINVAL;
}

/* Parses a whole decimal number in [lo, hi]; -1 on any junk. */
static int parse_num(const char *s, size_t len, unsigned long long lo,
                     unsigned long long hi, unsigned long long *out)
{
    unsigned long long v = 0;
    if (len == 0 || len > 20)
        return -1;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        unsigned long long d = (unsigned long long)(s[i] - '0');
        if (v > (~0ULL - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    if (v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

int cd_sched_parse_schedule(const char *s, uint16_t *out, int max, char *err,
                            size_t errlen)
{
    int n = 0;
    char part[48];

    if (!s || !*s)
        return fail(err, errlen, "the schedule is empty%s", "");
    while (*s) {
        size_t len = strcspn(s, ".");
        const char *star = memchr(s, '*', len);
        unsigned long long id, count = 1;
        snprintf(part, sizeof part, "%.*s", (int)(len < 40 ? len : 40), s);
        size_t idlen = star ? (size_t)(star - s) : len;
        if (parse_num(s, idlen, 1, 65535, &id) != 0 ||
            (star && parse_num(star + 1, len - idlen - 1, 1, 1000000, &count)
                         != 0))
            return fail(err, errlen,
                        "bad schedule step '%s' (want ID or ID*COUNT, "
                        "separated by dots)", part);
        if (n + (long long)count > max)
            return fail(err, errlen, "the schedule is too long (at '%s')",
                        part);
        for (unsigned long long i = 0; i < count; i++)
            out[n++] = (uint16_t)id;
        s += len;
        if (*s == '.') {
            s++;
            if (!*s)
                return fail(err, errlen, "the schedule ends with a dot%s",
                            "");
        }
    }
    return n;
}

int cd_sched_format_schedule(const cd_sched_decision_t *d, int n, char *buf,
                             size_t size)
{
    size_t at = 0;
    if (size)
        buf[0] = '\0';
    for (int i = 0; i < n;) {
        int j = i;
        while (j < n && d[j].chosen == d[i].chosen)
            j++;
        char step[32];
        if (j - i > 1)
            snprintf(step, sizeof step, "%s%u*%d", i ? "." : "", d[i].chosen,
                     j - i);
        else
            snprintf(step, sizeof step, "%s%u", i ? "." : "", d[i].chosen);
        size_t len = strlen(step);
        if (at + len < size)
            memcpy(buf + at, step, len + 1);
        at += len;
        i = j;
    }
    return (int)at;
}

void cd_sched_cfg_free(cd_sched_cfg_t *cfg)
{
    free(cfg->prefix);
    cfg->prefix = NULL;
    cfg->nprefix = 0;
}

/* Reads a schedule file into *out (malloc'd, whitespace removed).
 * Returns 0 or -EINVAL with a reason: a file that cannot be read (a
 * directory opens but fails on the first read) and an empty one are told
 * apart, and neither is called an empty schedule. */
static int read_schedule_file(const char *path, char **out, char *err,
                              size_t errlen)
{
    if (!*path) {
        snprintf(err, errlen, "replay:@ needs a file name (replay:@FILE)");
        return -EINVAL;
    }
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "cannot read schedule file '%s': %s", path,
                 strerror(errno));
        return -EINVAL;
    }
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    int c;
    while (buf && (c = fgetc(f)) != EOF) {
        if (len + 1 >= cap) {
            char *bigger = cap < (64u << 20) ? realloc(buf, cap * 2) : NULL;
            if (!bigger) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = bigger;
            cap *= 2;
        }
        if (c != ' ' && c != '\n' && c != '\r' && c != '\t')
            buf[len++] = (char)c;
    }
    int read_errno = ferror(f) ? (errno ? errno : EIO) : 0;
    fclose(f);
    if (read_errno || !buf) {
        if (read_errno)
            snprintf(err, errlen, "cannot read schedule file '%s': %s", path,
                     strerror(read_errno));
        else
            snprintf(err, errlen, "schedule file '%s' is too large", path);
        free(buf);
        return -EINVAL;
    }
    if (len == 0) {
        snprintf(err, errlen, "schedule file '%s' is empty", path);
        free(buf);
        return -EINVAL;
    }
    buf[len] = '\0';
    *out = buf;
    return 0;
}

/* "NAME" or "NAME:ARGS": splits at the first colon. */
static int head_is(const char *spec, const char *name, const char **args)
{
    size_t n = strlen(name);
    if (strncmp(spec, name, n) != 0 || (spec[n] != '\0' && spec[n] != ':'))
        return 0;
    *args = spec[n] == ':' ? spec + n + 1 : NULL;
    return 1;
}

static int parse_seeded(const char *args, cd_sched_cfg_t *cfg, int want_depth,
                        char *err, size_t errlen)
{
    char part[48];
    unsigned long long v;
    if (!args || !*args)
        return fail(err, errlen, "%s needs a seed, e.g. random:42",
                    want_depth ? "pct" : "random");
    size_t len = strcspn(args, ":");
    snprintf(part, sizeof part, "%.*s", (int)(len < 40 ? len : 40), args);
    if (parse_num(args, len, 0, ~0ULL, &v) != 0)
        return fail(err, errlen, "bad seed '%s' (want a whole number)", part);
    cfg->seed = v;
    if (!args[len])
        return 0;
    if (!want_depth)
        return fail(err, errlen, "random takes only a seed, not ':%s'",
                    args + len + 1);
    const char *d = args + len + 1;
    snprintf(part, sizeof part, "%.40s", d);
    if (parse_num(d, strlen(d), 1, 16, &v) != 0)
        return fail(err, errlen, "bad pct depth '%s' (want 1..16)", part);
    cfg->depth = (int)v;
    return 0;
}

int cd_sched_parse(const char *spec, cd_sched_cfg_t *cfg, char *err,
                   size_t errlen)
{
    const char *args;
    unsigned long long v;

    memset(cfg, 0, sizeof *cfg);
    cfg->depth = 3;
    cfg->pct_steps = 64;
    cfg->bound = 2;
    cfg->max_steps = CD_SCHED_DEFAULT_STEPS;
    if (!spec || !*spec)
        return fail(err, errlen, "--sched needs a strategy (random:SEED, "
                    "pct:SEED[:DEPTH], dfs[:BOUND], replay:SCHEDULE, step)%s",
                    "");
    if (head_is(spec, "random", &args)) {
        cfg->strategy = CD_SCHED_RANDOM;
        return parse_seeded(args, cfg, 0, err, errlen);
    }
    if (head_is(spec, "pct", &args)) {
        cfg->strategy = CD_SCHED_PCT;
        return parse_seeded(args, cfg, 1, err, errlen);
    }
    if (head_is(spec, "dfs", &args)) {
        cfg->strategy = CD_SCHED_DFS;
        if (args && parse_num(args, strlen(args), 0, 16, &v) != 0)
            return fail(err, errlen, "bad dfs bound '%.40s' (want 0..16)",
                        args);
        if (args)
            cfg->bound = (int)v;
        return 0;
    }
    if (head_is(spec, "step", &args)) {
        if (args)
            return fail(err, errlen, "step takes no argument, not ':%.40s'",
                        args);
        cfg->strategy = CD_SCHED_STEP;
        return 0;
    }
    if (head_is(spec, "replay", &args)) {
        char *text = NULL;
        if (args && args[0] == '@') {
            /* replay:@FILE: a schedule saved by --save-schedule. */
            if (read_schedule_file(args + 1, &text, err, errlen) != 0)
                return -EINVAL;
            args = text;
        }
        cfg->strategy = CD_SCHED_REPLAY;
        cfg->prefix = malloc(CD_SCHED_MAX_CHOICES * sizeof *cfg->prefix);
        if (!cfg->prefix) {
            free(text);
            return fail(err, errlen, "out of memory%s", "");
        }
        int n = cd_sched_parse_schedule(args, cfg->prefix,
                                        CD_SCHED_MAX_CHOICES, err, errlen);
        free(text);
        if (n < 0) {
            cd_sched_cfg_free(cfg);
            return n;
        }
        cfg->nprefix = n;
        return 0;
    }
    char part[48];
    snprintf(part, sizeof part, "%.*s", (int)strcspn(spec, ":"), spec);
    return fail(err, errlen, "unknown strategy '%s' (random, pct, dfs, "
                "replay, step)", part);
}

/* ============================== randomness =============================== */

/* splitmix64: small, fast, and the same on every machine. */
static uint64_t next_random(void)
{
    uint64_t z = (S->rng += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* =============================== hand-off ================================ */

static void turn_wait(int id)
{
    while (sem_wait(&S->th[id - 1].turn) != 0 && errno == EINTR)
        ;
}

static void turn_post(int id)
{
    cd_sched_thread_t *t = &S->th[id - 1];
    sem_t *first = atomic_load_explicit(&t->first, memory_order_relaxed)
                       ? atomic_exchange(&t->first, NULL)
                       : NULL;
    CD_CHECK(sem_post(first ? first : &t->turn));
}

/* The calling thread has the turn: its CPU clock is the one the
 * watchdog's spin check reads (cd__sched_turn_clock). */
static void took_turn(void)
{
    static _Thread_local clockid_t own;
    if (!own && pthread_getcpuclockid(pthread_self(), &own) != 0)
        own = 0;
    atomic_store_explicit(&S->turn_clock, (int)own, memory_order_relaxed);
}

/* Gives the turn to next and waits for our own (unless next is us). */
static void handoff(int self, int next)
{
    S->current = next;
    if (next != self && S->cfg.fibers) {
        cd__fiber_switch(self, next);
    } else if (next != self) {
        turn_post(next);
        turn_wait(self);
    }
    took_turn();
}

/* ============================== who can run ============================== */

/* A sleeper past its deadline may be overtaken by this many others that
 * end before it, then it ends before any other sleeper. Time orders
 * nothing, but every sleep ends: without this bound a poller could keep
 * ending its own short sleeps while the thread it waits for never wakes,
 * a livelock that only an adversary who stops time could cause. Large
 * enough for a wrong fix that polls a few times and then goes on anyway. */
#define MAX_LATE 32

/* random: 1 in EARLY_ODDS decisions may end any sleep early; the others
 * choose among what is on time. Mostly on time, so that what needs time
 * to pass (a queue that outgrows its store) still shows; often enough
 * early that a sleep which was meant to order two threads is seen not to. */
#define EARLY_ODDS 4

/* One thing that may go on at a decision. */
typedef struct choice {
    int id;        /* what the schedule names: a participant, or the task
                      whose alarm ends */
    int run;       /* the participant that runs if it is chosen */
    int64_t at_ns; /* a sleeper's deadline; 0: it can go on as it is */
    int ontime;    /* deadlines alone would allow it (cd_sched.h) */
    int spurious;  /* a condition variable's waiter woken without cause
                      (cfg.spurious): never on time */
} choice_t;

/* Adds what participant id offers: itself if it can go on or sleeps with
 * a deadline, or as a spurious wake-up of its condition variable's wait,
 * else the alarms of the tasks it keeps (an idle worker). */
static int offer(int id, choice_t *c)
{
    cd_sched_thread_t *t = &S->th[id - 1];
    if (!t->known || t->done)
        return 0;
    if (!t->waiting || (t->ready && t->ready(t->arg))) {
        c[0] = (choice_t){ .id = id, .run = id };
        return 1;
    }
    if (t->deadline_ns) {
        c[0] = (choice_t){ .id = id, .run = id, .at_ns = t->deadline_ns };
        return 1;
    }
    if (t->spurious && S->cfg.spurious) {
        c[0] = (choice_t){ .id = id, .run = id, .spurious = 1 };
        return 1;
    }
    for (int i = 0; i < t->nalarms; i++) {
        const cd__alarm_t *a = &t->alarms[i];
        cd_sched_thread_t *task = &S->th[a->id - 1];
        /* Step mode shows what the task awaits (cd_sched_pending). */
        task->pend_op = CD_OP_AWAIT;
        task->pend_obj = 0;
        task->pend_label = a->what;
        task->pend_site = (cd_site_t){ 0 };
        /* pct: a task's priority is its own, drawn when first seen (in
         * exploration only: a run in deadline order never compares it). */
        if (!task->prio && S->cfg.anyorder)
            task->prio = (int64_t)(next_random() >> 16) + 1000;
        if (a->id > S->high) /* a record the next begin must clear too */
            S->high = a->id;
        c[i] = (choice_t){ .id = a->id, .run = id, .at_ns = a->at_ns };
    }
    return t->nalarms;
}

/* Marks what is on time: everything that can go on without a sleep ending
 * early (sleepers whose deadline has passed included), or, if nothing can,
 * the sleepers with the earliest deadline. A worker's timers are on time
 * one at a time, in its own order (deadline, then arrival), as an event
 * loop runs the timers that are due: c holds each worker's alarms
 * together, in that order (offer). */
static void mark_ontime(choice_t *c, int n)
{
    int64_t first = 0;
    int k = 0;
    for (int i = 0; i < n; i++) {
        c[i].ontime = !c[i].spurious && c[i].at_ns <= S->vclock_ns;
        k += c[i].ontime;
        if (c[i].at_ns && (first == 0 || c[i].at_ns < first))
            first = c[i].at_ns;
    }
    for (int i = 0; k == 0 && i < n; i++)
        c[i].ontime = !c[i].spurious && c[i].at_ns == first;
    int kept = 0; /* the worker whose first on-time alarm stays on time */
    for (int i = 0; i < n; i++) {
        if (c[i].id == c[i].run || !c[i].ontime)
            continue;
        if (kept == c[i].run)
            c[i].ontime = 0;
        kept = c[i].run;
    }
}

/* A sleeper overtaken MAX_LATE times ends before the other sleepers:
 * they leave the choice (threads that can go on stay). Returns the new n. */
static int overdue_first(choice_t *c, int n)
{
    int overdue = 0, k = 0;
    for (int i = 0; i < n; i++)
        overdue |= c[i].at_ns && S->th[c[i].id - 1].late >= MAX_LATE;
    if (!overdue)
        return n;
    for (int i = 0; i < n; i++)
        if (!c[i].at_ns || S->th[c[i].id - 1].late >= MAX_LATE)
            c[k++] = c[i];
    return k;
}

/* Into id order. Ids are unique, so any sort gives the same order; the
 * choices come nearly sorted (participants in id order, only a worker's
 * alarms out of place), where insertion sort is the cheapest one. */
static void sort_by_id(choice_t *c, int n)
{
    for (int i = 1; i < n; i++) {
        if (c[i - 1].id < c[i].id)
            continue;
        choice_t x = c[i];
        int j = i;
        for (; j > 0 && c[j - 1].id > x.id; j--)
            c[j] = c[j - 1];
        c[j] = x;
    }
}

static int has_spurious(const choice_t *c, int n)
{
    for (int i = 0; i < n; i++)
        if (c[i].spurious)
            return 1;
    return 0;
}

/* Everything that may go on, in id order (a task's alarm at its own id,
 * not its worker's: a choice's place does not depend on who keeps it).
 * None when only spurious wake-ups are left: a waiter woken for nothing
 * waits again, so that would only hide a deadlock or a stuck run. */
static int collect(choice_t *c)
{
    int n = 0, real = 0, k = 0;
    for (int i = 0; i < S->nlive; i++) {
        int id = S->live[i];
        if (S->th[id - 1].done)
            continue;
        S->live[k++] = id;
        n += offer(id, c + n);
    }
    S->nlive = k;
    for (int i = 0; i < n; i++)
        real += !c[i].spurious;
    if (real == 0)
        return 0;
    n = overdue_first(c, n);
    mark_ontime(c, n);
    sort_by_id(c, n);
    return n;
}

/* Lets the chosen one go on; returns the participant to run. A sleeper
 * that ends before its deadline ends at it: the clock moves there and
 * never back, so every sleep lasts at least as long as it said, and the
 * sleepers that end after it are late (each counts it). */
static int let_go(const choice_t *c, const choice_t *all, int n)
{
    for (int i = 0; c->at_ns && i < n; i++)
        if (all[i].at_ns && all[i].at_ns <= S->vclock_ns && &all[i] != c)
            S->th[all[i].id - 1].late++;
    S->th[c->id - 1].late = 0;
    if (c->at_ns > S->vclock_ns)
        S->vclock_ns = c->at_ns;
    if (c->id != c->run)
        S->th[c->run - 1].fired = c->id;
    if (c->spurious)
        S->th[c->id - 1].woke_spurious = 1;
    return c->run;
}

static int ontime(const choice_t *c, int n)
{
    int k = 0;
    for (int i = 0; i < n; i++)
        k += c[i].ontime;
    return k;
}

static const choice_t *find(const choice_t *c, int n, int id)
{
    for (int i = 0; i < n; i++)
        if (c[i].id == id)
            return &c[i];
    return NULL;
}

/* The default policy: keep running who ran, else the lowest id - among
 * what is on time, so that sleepers end in the order of their deadlines. */
static int default_choice(const choice_t *c, int n, int prev)
{
    const choice_t *p = find(c, n, prev);
    if (p && p->ontime)
        return prev;
    for (int i = 0; i < n; i++)
        if (c[i].ontime)
            return c[i].id;
    return c[0].id;
}

/* Whether random may pick c at a decision where `any` (1 in EARLY_ODDS)
 * came up: what is on time always; then, in exploration, everything (a
 * sleep ending early), and with cfg.spurious a waiter woken without
 * cause. */
static int random_may(const choice_t *c, int any)
{
    return c->ontime || (any && (S->cfg.anyorder || c->spurious));
}

/* Uniform among what is on time; in exploration, 1 in EARLY_ODDS times
 * uniform among everything, a sleep ending early; with cfg.spurious, as
 * often, among what is on time and the spurious wake-ups. (Only then is
 * the extra number drawn: a run without either draws what it always
 * did.) */
static int random_choice(const choice_t *c, int n)
{
    int extra = S->cfg.anyorder || has_spurious(c, n);
    int any = extra && next_random() % EARLY_ODDS == 0, k = 0;
    for (int i = 0; i < n; i++)
        k += random_may(&c[i], any);
    uint64_t r = next_random() % (uint64_t)k;
    for (int i = 0; i < n; i++)
        if (random_may(&c[i], any) && r-- == 0)
            return c[i].id;
    return c[0].id;
}

/* pct's order. In exploration a task's alarm has the task's own
 * priority; in deadline order its worker's, who ran it before alarms. */
static int higher(const choice_t *a, const choice_t *b)
{
    int mine = S->cfg.anyorder;
    return !b || S->th[(mine ? a->id : a->run) - 1].prio >
                     S->th[(mine ? b->id : b->run) - 1].prio;
}

/* The highest priority among the threads that can go on without a sleep
 * ending; when none can, the sleeper of highest priority, whether its
 * deadline is first or not (MAX_LATE bounds how long the others wait).
 * A sleeper never overtakes a thread that could go on: a thread that
 * polls with short sleeps would starve the one it waits for. (In
 * deadline order: the highest priority among what is on time.) A
 * spurious wake-up comes only at a priority change
 * point, the waiter of highest priority: a few per run, as unexpected
 * as a preemption, so a waiter that tests with `if` is found while the
 * thread that would make its condition true could still go on - and a
 * waiter that loops is never woken so often that the run cannot end: one
 * woken for nothing when none could go on drops below every priority
 * (demote_lowest), else a waiter that loops and waits again would be
 * chosen again and again over a sleeper whose end it waits for. */
static void demote_lowest(int id)
{
    int64_t lowest = S->th[id - 1].prio;
    int nt = cd__ld(&cd__reg.nthreads);
    for (int i = 1; i <= nt && i <= CD_MAX_THREADS; i++)
        if (S->th[i - 1].known && S->th[i - 1].prio < lowest)
            lowest = S->th[i - 1].prio;
    S->th[id - 1].prio = lowest - 1;
}

static int pct_choice(const choice_t *c, int n, int prev)
{
    int timed = !S->cfg.anyorder, change = 0;
    for (int i = 0; i < S->nchange; i++)
        if (S->change_at[i] == S->steps && prev) {
            S->th[prev - 1].prio = S->cfg.depth - 1 - i;
            change = 1;
        }
    const choice_t *best = NULL;
    for (int i = 0; change && i < n; i++)
        if (c[i].spurious && higher(&c[i], best))
            best = &c[i];
    if (best)
        return best->id;
    for (int i = 0; i < n; i++) {
        int awake = timed ? c[i].ontime && c[i].at_ns <= S->vclock_ns
                          : c[i].at_ns == 0 && !c[i].spurious;
        if (awake && higher(&c[i], best))
            best = &c[i];
    }
    if (best)
        return best->id;
    /* Not a spurious wake-up here: a waiter that loops would be woken
     * again at every such decision, and the sleep it waits for would
     * never end (collect leaves a real choice). */
    for (int i = 0; i < n; i++)
        if ((!timed || c[i].ontime) && !c[i].spurious &&
            higher(&c[i], best))
            best = &c[i];
    if (best->spurious)
        demote_lowest(best->id);
    return best->id;
}

static void describe_runnable(char *buf, size_t size, const choice_t *c,
                              int n)
{
    size_t at = 0;
    buf[0] = '\0';
    for (int i = 0; i < n && at < size; i++)
        at += (size_t)snprintf(buf + at, size - at, "%s%d (%s)",
                               i ? ", " : "", c[i].id,
                               cd_reg_thread_name(c[i].id));
}

/* The schedule does not fit the program: say why, stop the run. */
static int misfit(const char *why, int want, const choice_t *c, int n)
{
    char runnable[160];
    describe_runnable(runnable, sizeof runnable, c, n);
    if (want > cd__ld(&cd__reg.nthreads))
        snprintf(S->misfit, sizeof S->misfit,
                 "schedule step %d names thread %d, but the run has only %d "
                 "threads there; runnable: %s", S->ndec + 1, want,
                 cd__ld(&cd__reg.nthreads), runnable);
    else if (want)
        snprintf(S->misfit, sizeof S->misfit,
                 "schedule step %d names thread %d (%s), which cannot run "
                 "there; runnable: %s", S->ndec + 1, want,
                 cd_reg_thread_name(want), runnable);
    else
        snprintf(S->misfit, sizeof S->misfit, "%s at step %d; runnable: %s",
                 why, S->ndec + 1, runnable);
    return -1;
}

/* decide() could not pick: the schedule does not fit, or the run was
 * aborted meanwhile. */
#define MISFIT -1
#define STOPPED -2

/* Step mode: the learner's pick among the ids, 0 for the default. */
static int ask_chooser(const choice_t *c, int n, int prev)
{
    int ids[CD_MAX_THREADS];
    for (int i = 0; i < n; i++)
        ids[i] = c[i].id;
    return S->cfg.chooser ? S->cfg.chooser(ids, n, prev, S->cfg.chooser_arg)
                          : 0;
}

static void record(const choice_t *c, int n, int prev, int pick)
{
    cd_sched_decision_t *d = &S->dec[S->ndec];
    memset(d, 0, sizeof *d);
    for (int i = 0; i < n; i++) {
        if (c[i].id <= 64) {
            d->runnable |= 1ULL << (c[i].id - 1);
            if (c[i].ontime)
                d->ontime |= 1ULL << (c[i].id - 1);
        } else {
            d->wide = 1;
        }
    }
    d->prev = (uint16_t)prev;
    d->chosen = (uint16_t)pick;
    d->nrunnable = (uint8_t)(n < 255 ? n : 255);
}

/* A real choice among n >= 2. Returns the id, MISFIT or STOPPED. */
static int decide(const choice_t *c, int n, int prev)
{
    int pick;
    if (S->ndec < S->cfg.nprefix) {
        pick = S->cfg.prefix[S->ndec];
        if (!find(c, n, pick))
            return misfit(NULL, pick, c, n);
    } else if (!S->cfg.anyorder && S->cfg.strategy != CD_SCHED_STEP &&
               S->cfg.strategy != CD_SCHED_REPLAY && ontime(c, n) == 1 &&
               !has_spurious(c, n)) {
        /* In deadline order this is no choice: the strategy is not asked
         * (no draw, no change point), so the run a seed plays depends only
         * on the choices deadlines leave open - and on the spurious
         * wake-ups a run allows. */
        pick = default_choice(c, n, prev);
    } else {
        switch (S->cfg.strategy) {
        case CD_SCHED_RANDOM:
            pick = random_choice(c, n);
            break;
        case CD_SCHED_PCT:
            pick = pct_choice(c, n, prev);
            break;
        case CD_SCHED_REPLAY:
            return misfit("the schedule ended but the run had more choices",
                          0, c, n);
        case CD_SCHED_STEP:
            S->fallback = default_choice(c, n, prev);
            pick = ask_chooser(c, n, prev);
            S->fallback = 0;
            /* Aborted while the learner decided (the view's q): the run
             * ends here, and this was no decision. */
            if (cd_reg_aborted())
                return STOPPED;
            if (pick && !find(c, n, pick))
                return misfit(NULL, pick, c, n);
            if (!pick)
                pick = default_choice(c, n, prev);
            break;
        default:
            pick = default_choice(c, n, prev);
        }
    }
    if (S->ndec < CD_SCHED_MAX_CHOICES)
        record(c, n, prev, pick);
    S->ndec++;
    return pick;
}

static void stop_run(int reason)
{
    cd_reg_abort(reason);
    /* Aborted threads unwind in parallel, in no fixed order: the trace
     * stops here so that a replay repeats it byte for byte. */
    cd_reg_set_trace(0);
    cd__sched_drain();
}

/* Nobody can run and no clock can move: record what the threads wait for
 * and end the run - a deadlock when the waits form a cycle, else a stuck
 * run. The scheduler knows for sure that nobody can run, so it needs no
 * second look: a participant whose record shows it running (an executor's
 * idle worker) is described as it shows. */
static void no_one_can_run(void)
{
    cd_snapshot_t *snap = malloc(sizeof *snap);
    cd_cycle_t cycle;
    cd_stuck_t *stuck = malloc(sizeof *stuck);
    int reason = CD_ABORT_STUCK;
    if (snap && stuck) {
        cd_reg_snapshot(snap);
        if (cd_waitfor_find_cycle(snap, &cycle)) {
            cd__reg_set_deadlock(&cycle);
            reason = CD_ABORT_DEADLOCK;
        } else {
            cd_waitfor_describe(snap, stuck);
            cd__reg_set_stuck(stuck);
        }
    }
    free(snap);
    free(stuck);
    stop_run(reason);
}

/* Nobody can run, but a task awaits a descriptor: what its other end did
 * may still be on its way through the kernel (on a busy machine a
 * loopback socket's window update arrives a moment after the read that
 * freed it). Looks again for about a second of real time before the run
 * is called stuck; the virtual clock does not move meanwhile. */
static int collect_after_io(choice_t *c)
{
    for (long ms = 1; ms <= 512; ms *= 2) {
        struct timespec ts = { 0, ms * 1000000L };
        nanosleep(&ts, NULL);
        int n = collect(c);
        if (n > 0)
            return n;
    }
    return 0;
}

/* Picks who runs after prev (ending a sleep if it picks a sleeper).
 * Returns the participant to run, or 0 when the run was stopped. */
static int choose(int prev)
{
    choice_t c[CD_MAX_THREADS];
    /* Aborted from outside (the view's q; the watchdog drains by itself
     * for a timeout): end the run here, as stop_run does for our own. */
    if (cd_reg_aborted()) {
        stop_run(cd_reg_aborted());
        return 0;
    }
    int n = collect(c);
    if (n == 0 &&
        atomic_load_explicit(&S->io_waits, memory_order_relaxed) > 0)
        n = collect_after_io(c);
    if (n == 0) {
        no_one_can_run();
        return 0;
    }
    if (n == 1)
        return let_go(&c[0], c, n);
    int pick = decide(c, n, prev);
    if (pick < 0) {
        stop_run(pick == STOPPED ? cd_reg_aborted() : CD_ABORT_MISFIT);
        return 0;
    }
    return let_go(find(c, n, pick), c, n);
}

/* ================================= hooks ================================= */

static int controlled(void)
{
    return cd__sched_on() && !S->draining;
}

/* The participant behind `self`: a task's operations are its worker
 * thread's turn. */
static int participant(int self)
{
    return cd__sched_self > 0 ? cd__sched_self : self;
}

/* An operation of a coroutine of a drained run. Threads would run free
 * side by side, and one that polls (a lock, a look, a sleep of no time)
 * would find what another thread did meanwhile; coroutines run one at a
 * time, and a poller, resumed, would spin on a flag that the coroutine it
 * waits for can no longer raise (the abort ended it at a lock the poller
 * held). So a coroutine the run started ends at its next operation once
 * the run is aborted (as a thread does at its next wait, giving back what
 * it holds); the root, or a coroutine of a run that ends without an abort
 * (one nobody joined), lets the root resume the next one. */
static void drained_coroutine(void)
{
    int f = cd__fiber_self();
    if (f && cd_reg_aborted() && cd__self_is_spawned()) {
        if (cd__fiber_is_ending(f))
            return; /* giving back what it holds, on its way out */
        cd__op_abort_self(cd__self());
    }
    cd__fiber_yield();
}

/* An operation of a thread of a drained run. Threads run free from the
 * abort on, and one that polls without ever waiting (a lock, a look, a
 * lock again, with no latency between) would spin on a flag that the
 * thread it waits for can no longer raise: the abort ended it at its
 * wait. So a thread cd_thread started ends at its next operation once the
 * run is aborted, as a coroutine does (above) - unless it is on its way
 * out already, giving back what it holds. Tasks end at their awaits.
 * Not in the TSan build: there a mutex's annotations bracket its decision
 * point (__tsan_mutex_pre_lock ... post_lock), and a thread that exited
 * between the two would leave TSan ignoring it ("finished with ignores
 * enabled"); its threads end at their next wait, as before. */
static void drained_thread(void)
{
#ifndef CD_TSAN
    if (cd_reg_aborted() && cd__self_is_spawned() && !cd__self_is_task() &&
        !cd__op_self_ending())
        cd__op_abort_self(cd__self());
#endif
}

void cd__sched_point(int self, int op, int obj, const char *label,
                     cd_site_t site)
{
    self = participant(self);
    if (!controlled() || self <= 0 || self > CD_MAX_THREADS) {
        if (S->draining && cd__fiber_run())
            drained_coroutine();
        else if (S->draining)
            drained_thread();
        return;
    }
    HIDE_BEGIN();
    cd_sched_thread_t *t = &S->th[self - 1];
    if (t->known && !S->draining) {
        t->pend_op = op;
        t->pend_obj = obj;
        t->pend_label = label;
        t->pend_site = site;
        if (++S->steps > S->cfg.max_steps) {
            stop_run(CD_ABORT_STEPS);
        } else {
            int next = choose(self);
            if (next)
                handoff(self, next);
        }
    }
    HIDE_END();
}

/* Forget what a thread was parked on: it waits for nothing, with no
 * deadline, alarms or spurious wake-ups pending.  Caller holds the
 * scheduler (inside HIDE_BEGIN/HIDE_END). */
static void clear_wait(cd_sched_thread_t *t)
{
    t->waiting = 0;
    t->ready = NULL;
    t->deadline_ns = 0;
    t->alarms = NULL;
    t->nalarms = 0;
    t->fired = 0;
    t->spurious = 0;
    t->woke_spurious = 0;
}

int cd__sched_park(int self, int (*ready)(void *), void *arg,
                   int64_t deadline_ns, const cd__alarm_t *alarms, int n,
                   int *fired, int spurious)
{
    self = participant(self);
    if (fired)
        *fired = 0;
    if (!controlled() || self <= 0 || self > CD_MAX_THREADS)
        return CD_SCHED_FREE_RUN;
    int rc;
    HIDE_BEGIN();
    cd_sched_thread_t *t = &S->th[self - 1];
    t->waiting = 1;
    t->ready = ready;
    t->arg = arg;
    t->deadline_ns = deadline_ns;
    t->alarms = alarms;
    t->nalarms = alarms ? n : 0;
    t->fired = 0;
    t->spurious = spurious;
    t->woke_spurious = 0;
    for (;;) {
        int next = S->draining ? 0 : choose(self);
        if (!next || S->draining) {
            rc = -ECANCELED;
            break;
        }
        handoff(self, next);
        if (S->draining) {
            rc = -ECANCELED;
            break;
        }
        /* Chosen: for one of the alarms, for work, or for the deadline
         * (which choose() moved the clock to, if it was early). */
        if (t->fired) {
            if (fired)
                *fired = t->fired;
            rc = -ETIMEDOUT;
            break;
        }
        if (t->woke_spurious) {
            rc = -EINTR;
            break;
        }
        if (ready && ready(arg)) {
            rc = 0;
            break;
        }
        if (deadline_ns && S->vclock_ns >= deadline_ns) {
            rc = -ETIMEDOUT;
            break;
        }
    }
    clear_wait(t);
    HIDE_END();
    return rc;
}

int cd__sched_block(int self, int (*ready)(void *), void *arg,
                    int64_t deadline_ns)
{
    return cd__sched_park(self, ready, arg, deadline_ns, NULL, 0, NULL, 0);
}

void cd__sched_pend(int self, int op, int obj, cd_site_t site)
{
    self = participant(self);
    if (!controlled() || self <= 0 || self > CD_MAX_THREADS)
        return;
    HIDE_BEGIN();
    cd_sched_thread_t *t = &S->th[self - 1];
    t->pend_op = op;
    t->pend_obj = obj;
    t->pend_label = NULL;
    t->pend_site = site;
    HIDE_END();
}

static void live_add(int id)
{
    int i = S->nlive++;
    for (; i > 0 && S->live[i - 1] > id; i--)
        S->live[i] = S->live[i - 1];
    S->live[i] = id;
}

void cd__sched_register(int id)
{
    if (!cd__sched_on() || id <= 0 || id > CD_MAX_THREADS)
        return;
    HIDE_BEGIN();
    cd_sched_thread_t *t = &S->th[id - 1];
    /* A fresh semaphore each run: a post left over from an aborted run
     * must not hand a turn to nobody in the next one. */
    if (t->sem_ready)
        CD_CHECK(sem_destroy(&t->turn));
    CD_CHECK(sem_init(&t->turn, 0, 0));
    t->sem_ready = 1;
    atomic_store_explicit(&t->first, NULL, memory_order_relaxed);
    if (!t->known) /* into the live list, in id order */
        live_add(id);
    t->known = 1;
    if (id > S->high)
        S->high = id;
    t->done = 0;
    clear_wait(t);
    t->late = 0;
    t->pend_op = CD_OP_START;
    t->pend_obj = 0;
    t->pend_label = NULL;
    t->pend_site = (cd_site_t){ 0 };
    /* pct: a random priority above every change-point priority. */
    t->prio = (int64_t)(next_random() >> 16) + 1000;
    HIDE_END();
}

int cd__sched_register_parked(int id, sem_t *go)
{
    if (!controlled() || id <= 0 || id > CD_MAX_THREADS)
        return 0;
    HIDE_BEGIN();
    cd_sched_thread_t *t = &S->th[id - 1];
    int parked = t->known;
    if (parked) {
        atomic_store(&t->first, go);
        /* A drain from the watchdog (a timeout) that went past this
         * thread before go was set would never wake it: take go back and
         * let the caller post it - unless the drain took it already, and
         * posted it. (The drain's fence pairs with this store.) */
        if (S->draining && atomic_exchange(&t->first, NULL) == go)
            parked = 0;
    }
    HIDE_END();
    return parked;
}

void cd__sched_enter(int self)
{
    if (!cd__sched_on() || self <= 0 || self > CD_MAX_THREADS)
        return;
    HIDE_BEGIN();
    if (S->th[self - 1].known && !S->draining) {
        turn_wait(self);
        took_turn();
    }
    HIDE_END();
}

void cd__sched_exit(int self)
{
    if (!controlled() || self <= 0 || self > CD_MAX_THREADS)
        return;
    HIDE_BEGIN();
    S->th[self - 1].done = 1;
    int next = choose(self);
    if (next) {
        S->current = next;
        /* A coroutine goes there as it ends (cd__fiber_end). */
        if (!S->th[self - 1].fiber)
            turn_post(next);
    }
    HIDE_END();
}

void cd__sched_drain(void)
{
    if (!cd__sched_on())
        return;
    HIDE_BEGIN();
    if (!S->draining) {
        S->draining = 1;
        /* Seen by a pooled thread's registration, or its go seen here:
         * cd__sched_register_parked. */
        atomic_thread_fence(memory_order_seq_cst);
        int nt = cd__ld(&cd__reg.nthreads);
        for (int id = 1; id <= nt && id <= CD_MAX_THREADS; id++)
            if (S->th[id - 1].known && S->th[id - 1].sem_ready)
                turn_post(id);
    }
    HIDE_END();
}

int64_t cd__sched_clock(void)
{
    return S->vclock_ns;
}

/* ================================ the run ================================ */

/* The CPU the calling thread is pinned to (-1: none) and the CPUs it had
 * before: a thread left on one CPU after its runs makes every thread it
 * starts later share that CPU too - a watchdog, the sanitizers' own at
 * exit - and on a busy machine a process whose threads all wait for one
 * CPU stalled for a minute (an ASan test child: its watchdog, its run's
 * threads and LeakSanitizer's tracer, woken but not run). */
static _Thread_local struct {
    int cpu;
    int saved;
    cpu_set_t was;
} pin = { .cpu = -1 };

static void pin_to_one_cpu(void)
{
    /* Hand-offs between cores cost ~30 us here, on one core ~1.5 us, and
     * only one thread runs at a time anyway. Threads inherit this. With
     * cfg.stay_pinned the caller stays pinned after the run: the next run
     * (an exploration's) finds it on that CPU and needs no system call. */
    cpu_set_t set;
    int cpu = sched_getcpu();
    if (cpu >= 0 && cpu == pin.cpu)
        return;
    if (pin.cpu < 0)
        pin.saved = sched_getaffinity(0, sizeof pin.was, &pin.was) == 0;
    pin.cpu = cpu >= 0 ? cpu : 0;
    CPU_ZERO(&set);
    CPU_SET(pin.cpu, &set);
    sched_setaffinity(0, sizeof set, &set);
}

void cd_sched_unpin(void)
{
    if (pin.cpu < 0)
        return;
    pin.cpu = -1;
    if (pin.saved)
        sched_setaffinity(0, sizeof pin.was, &pin.was);
}

void cd__sched_bind(int id)
{
    cd__sched_self = id;
}

int cd_sched_begin(const cd_sched_cfg_t *cfg)
{
    int self = cd__self();
    if (self <= 0)
        return -ENOSPC;
    HIDE_BEGIN();
    /* Only the records the last run used: above them all are clear. */
    for (int i = 0; i < S->high; i++) {
        cd_sched_thread_t *t = &S->th[i];
        t->known = t->done = t->waiting = 0;
        t->prio = 0;
        t->late = 0;
    }
    S->high = 0;
    S->nlive = 0;
    S->cfg = *cfg;
    S->cfg.fibers = cfg->fibers && cd__fiber_supported();
    S->root = self;
    S->drive_at = 0;
    S->th[self - 1].fiber = 0;
    if (S->cfg.max_steps <= 0)
        S->cfg.max_steps = CD_SCHED_DEFAULT_STEPS;
    S->draining = 0;
    S->current = self;
    took_turn();
    S->vclock_ns = 0;
    S->rng = cfg->seed;
    S->steps = 0;
    S->ndec = 0;
    S->misfit[0] = '\0';
    S->nchange = 0;
    if (cfg->strategy == CD_SCHED_PCT) {
        int steps = cfg->pct_steps > 0 ? cfg->pct_steps : 64;
        for (int i = 0; i < cfg->depth - 1 && i < 16; i++)
            S->change_at[S->nchange++] =
                1 + (long)(next_random() % (uint64_t)steps);
    }
    atomic_store(&S->active, 1);
    HIDE_END();
    cd__reg_set_clock(cd__sched_clock); /* the run's clock is virtual now */
    cd__reg_update_gate(); /* every operation now goes to its general path */
    pin_to_one_cpu();
    cd__sched_register(self);
    return 0;
}

void cd_sched_end(void)
{
    if (cd__fiber_run())
        cd__fiber_finish();
    HIDE_BEGIN();
    atomic_store(&S->active, 0);
    S->draining = 0;
    HIDE_END();
    cd__reg_set_clock(NULL);
    cd__reg_update_gate();
    if (!S->cfg.stay_pinned)
        cd_sched_unpin();
}

int cd_sched_active(void) { return cd__sched_on(); }

int cd_sched_fallback(void) { return S->fallback; }

int cd_sched_decisions(const cd_sched_decision_t **out)
{
    *out = S->dec;
    return S->ndec < CD_SCHED_MAX_CHOICES ? S->ndec : CD_SCHED_MAX_CHOICES;
}

long cd_sched_steps(void) { return S->steps; }

clockid_t cd__sched_turn_clock(void)
{
    return (clockid_t)atomic_load_explicit(&S->turn_clock,
                                           memory_order_relaxed);
}

const char *cd_sched_misfit(void) { return S->misfit[0] ? S->misfit : NULL; }

void cd_sched_pending(int id, int *op, int *obj, const char **label,
                      cd_site_t *site)
{
    cd_sched_thread_t *t = &S->th[id - 1];
    *op = t->pend_op;
    *obj = t->pend_obj;
    *label = t->pend_label;
    *site = t->pend_site;
}
