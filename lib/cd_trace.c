/*
 * cd_trace.c - the event ring.
 *
 * The ring may be read while it is written (the live view shows the newest
 * events of a running demo), so every slot is a small seqlock made of
 * atomics only: the writer stamps the slot odd, stores the fields, then
 * stamps it even; a reader keeps what it read only if it saw the same even
 * stamp before and after. Writers only store into slots and readers only
 * load from them, so the ring orders nothing between the demo's threads
 * (ThreadSanitizer still sees their races); it orders a writer before the
 * reader that copies its event, which is what makes the copy whole.
 */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS, MAP_NORESERVE */
#include "cd_trace.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "cd_internal.h"

#define ACQ memory_order_acquire
#define REL memory_order_release

/* The rings' pool (20 MiB), mapped when a thread first claims a ring: most
 * runs never trace. As a static array it was scanned at every exit of an
 * ASan build (LeakSanitizer reads all of .bss: ~55 ms a process). Mapped
 * once and never unmapped, so a ring's address stays good. */
static _Atomic(cd_trace_ring_t *) pool;

static cd_trace_ring_t *rings(void)
{
    return atomic_load_explicit(&pool, ACQ);
}

static cd_trace_ring_t *map_pool(void)
{
    cd_trace_ring_t *have = rings();
    if (have)
        return have;
    size_t size = CD_TRACE_RINGS * sizeof *have;
    void *m = mmap(NULL, size, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (m == MAP_FAILED)
        return NULL;
    if (!atomic_compare_exchange_strong(&pool, &have, m)) {
        munmap(m, size); /* another thread mapped it first: have is it */
        return have;
    }
    cd__reg_hg_ignore(m, size);
    return m;
}

_Thread_local cd_trace_ring_t *cd__tring;
_Thread_local unsigned cd__tring_gen;

cd_trace_ring_t *cd__trace_ring_claim(void)
{
    unsigned gen = cd__reg.gen;
    cd_trace_ring_t *all = map_pool();
    int i = atomic_fetch_add_explicit(&cd__reg.trace_nrings, 1,
                                      memory_order_relaxed);
    cd_trace_ring_t *r = all && i < CD_TRACE_RINGS ? &all[i] : NULL;

    if (r) {
        atomic_store_explicit(&r->head, 0, memory_order_relaxed);
        atomic_store_explicit(&r->merged, 0, memory_order_relaxed);
        /* Release: a reader that sees this run's gen sees head at 0. */
        atomic_store_explicit(&r->gen, gen, memory_order_release);
    }
    cd__tring = r;
    cd__tring_gen = gen;
    return r;
}

/* The single ring: a controlled run's events (and those of a thread that
 * found no ring of its own). */
static void emit_shared(int thread, int op, int obj, int64_t arg,
                        const char *label, cd_site_t site)
{
    /* Relaxed on purpose: the trace must not create happens-before edges
     * between demo threads, or ThreadSanitizer would miss their races. */
    uint64_t seq = atomic_fetch_add_explicit(&cd__reg.trace_next, 1,
                                             memory_order_relaxed);
    cd_trace_slot_t *sl = &cd__reg.trace[seq % CD_TRACE_CAP];

    /* Odd first. Each field store is a release so that none of them can
     * become visible before the odd stamp (x86: plain moves). */
    cd__st(&sl->stamp, 2 * seq + 1);
    atomic_store_explicit(&sl->t_ns, cd_reg_elapsed_ns(), REL);
    atomic_store_explicit(&sl->tick, cd__ticks(), REL);
    atomic_store_explicit(&sl->thread, thread, REL);
    atomic_store_explicit(&sl->op, op, REL);
    atomic_store_explicit(&sl->obj, obj, REL);
    atomic_store_explicit(&sl->arg, arg, REL);
    atomic_store_explicit(&sl->label, label, REL);
    atomic_store_explicit(&sl->file, site.file, REL);
    atomic_store_explicit(&sl->line, site.line, REL);
    atomic_store_explicit(&sl->stamp, 2 * seq + 2, REL);
}

void cd__trace_emit(int thread, int op, int obj, int64_t arg,
                    const char *label, cd_site_t site)
{
    cd_trace_ring_t *r;

    /* A controlled run's order is its counter's: one thread runs at a
     * time, and a replay must print the same trace byte for byte. */
    if (cd__sched_on() || !(r = cd__trace_ring())) {
        emit_shared(thread, op, obj, arg, label, site);
        return;
    }
    cd__trace_put(r, cd__ticks(), thread, op, obj, CD_TR_EXTRA, arg, label,
                  site);
}

/* One slot of the single ring, or -ENOENT (see cd_trace.c's header). */
static int get_shared(uint64_t seq, cd_trace_event_t *out, uint64_t *tick)
{
    uint64_t total = cd__ld(&cd__reg.trace_next);
    if (seq >= total || total - seq > CD_TRACE_CAP)
        return -ENOENT;
    cd_trace_slot_t *sl = &cd__reg.trace[seq % CD_TRACE_CAP];
    uint64_t want = 2 * seq + 2;

    if (atomic_load_explicit(&sl->stamp, ACQ) != want)
        return -ENOENT; /* not written yet, being written, or overwritten */
    /* Acquire loads: the second stamp load cannot move above them, so if
     * a later writer touched any field, the stamp below shows it. */
    out->seq = seq;
    out->t_ns = atomic_load_explicit(&sl->t_ns, ACQ);
    *tick = atomic_load_explicit(&sl->tick, ACQ);
    out->thread = atomic_load_explicit(&sl->thread, ACQ);
    out->op = atomic_load_explicit(&sl->op, ACQ);
    out->obj = atomic_load_explicit(&sl->obj, ACQ);
    out->arg = atomic_load_explicit(&sl->arg, ACQ);
    out->label = atomic_load_explicit(&sl->label, ACQ);
    out->site.file = atomic_load_explicit(&sl->file, ACQ);
    out->site.line = atomic_load_explicit(&sl->line, ACQ);
    return cd__ld(&sl->stamp) == want ? 0 : -ENOENT;
}

/* The rings claimed this run that a reader may look at. */
static int rings_in_use(void)
{
    int n = cd__ld(&cd__reg.trace_nrings);
    if (!rings())
        return 0; /* none claimed yet, or the pool could not be mapped */
    return n < CD_TRACE_RINGS ? n : CD_TRACE_RINGS;
}

static int ring_current(const cd_trace_ring_t *r)
{
    return atomic_load_explicit(&r->gen, ACQ) == cd__reg.gen;
}

uint64_t cd_trace_total(void)
{
    uint64_t n = cd__ld(&cd__reg.trace_next);
    for (int i = 0; i < rings_in_use(); i++) {
        cd_trace_ring_t *r = &rings()[i];
        if (ring_current(r))
            n += cd__ld(&r->head) + cd__ld(&r->merged);
    }
    return n;
}

/* ============================ ticks into time ============================
 * A ring's event carries the TSC, not the time: reading CLOCK_MONOTONIC
 * costs several times more. Readers turn ticks into nanoseconds since the
 * run began by a line through two points read on both clocks: the first
 * the process ever read (the first reset) and one read now. Every event
 * lies between them, so the error stays that of reading a pair (tens of
 * ns), however long the run. */

/* Nanoseconds per tick, from the first point to now. */
static double tick_ns(void)
{
    uint64_t tick;
    int64_t ns;

    cd__reg_tick_pair(&tick, &ns);
    if (tick <= cd__reg.cal_tick || ns <= cd__reg.cal_ns)
        return cd__tsc_ok ? 0.0 : 1.0;
    return (double)(ns - cd__reg.cal_ns) / (double)(tick - cd__reg.cal_tick);
}

static int64_t ticks_to_ns(uint64_t tick, double rate)
{
    if (tick <= cd__reg.tick0)
        return 0;
    return (int64_t)((double)(tick - cd__reg.tick0) * rate);
}

/* ============================== reading back =============================
 * The trace is a few streams, each in its own order: the single ring by
 * its counter, each thread ring by its head. cd_trace_read merges them by
 * tick, newest first, so that it can stop after the `max` newest, and
 * never reorders a stream. A stream that lost its oldest events (its ring
 * went round, or a slot was overwritten while it was copied) ends the
 * merge where it runs out: what comes out is always a whole stretch of
 * the run, its newest part. A controlled run has only the single ring,
 * whose order is then exactly its counter's, as before there were rings. */

typedef struct stream {
    cd_trace_event_t *ev; /* oldest first */
    uint64_t *tick;
    unsigned char *later; /* 1: the event's time is its next one's */
    size_t n;             /* events copied; the merge takes from the end */
    int lost;             /* older events exist that were not copied */
} stream_t;

/* Copies the newest `want` events of the single ring. */
static void copy_shared(stream_t *s, size_t want)
{
    uint64_t total = cd__ld(&cd__reg.trace_next);
    uint64_t first = total > CD_TRACE_CAP ? total - CD_TRACE_CAP : 0;

    if (total - first > want)
        first = total - want;
    s->n = 0;
    s->lost = first > 0;
    for (uint64_t seq = first; seq < total; seq++)
        if (get_shared(seq, &s->ev[s->n], &s->tick[s->n]) == 0)
            s->later[s->n++] = 0;
}

static void unpack(const cd_trace_rslot_t *sl, cd_trace_event_t *ev,
                   uint64_t *tick, uint64_t *w)
{
    /* Acquire loads: the head load after them cannot move above them, and
     * sees the head store before any release store they read. */
    *tick = atomic_load_explicit(&sl->tick, ACQ);
    *w = atomic_load_explicit(&sl->w, ACQ);
    ev->site.file = atomic_load_explicit(&sl->file, ACQ);
    ev->label = (*w & CD_TR_EXTRA) ? atomic_load_explicit(&sl->label, ACQ)
                                   : NULL;
    ev->arg = (*w & CD_TR_EXTRA) ? atomic_load_explicit(&sl->arg, ACQ) : 0;
    ev->thread = CD_TR_THREAD(*w);
    ev->obj = CD_TR_OBJ(*w);
    ev->op = CD_TR_OP(*w);
    ev->site.line = CD_TR_LINE(*w);
}

/* A ring's raw copies, before a lock taken at once becomes its two events. */
typedef struct raw {
    cd_trace_event_t ev;
    uint64_t tick, w;
} raw_t;

/* Gives each copied slot [from, n) that took no clock read
 * (CD_TR_STAMP_NEXT, see cd__trace_put) the time of the slot after it,
 * the thread's next event. The newest one has no next event yet: its lock
 * happened after the event before it, which is where it is placed (or
 * now, when it is the only one copied). */
static void resolve_stamps(raw_t *raw, uint64_t from, uint64_t n)
{
    if (n <= from)
        return;
    if (raw[n - 1].w & CD_TR_STAMP_NEXT) {
        uint64_t before = n - 1;
        while (before > from && (raw[before - 1].w & CD_TR_STAMP_NEXT))
            before--;
        raw[n - 1].tick = before > from ? raw[before - 1].tick : cd__ticks();
    }
    for (uint64_t i = n - 1; i-- > from;)
        if (raw[i].w & CD_TR_STAMP_NEXT)
            raw[i].tick = raw[i + 1].tick;
}

/* Copies the newest `want` slots of ring r into s (up to 2 * want events:
 * a lock taken at once is its lock and its acquired, at one time). A slot
 * that its thread overwrote while it was copied is dropped, with the rest
 * of the older ones. `raw` has room for want slots. */
static void copy_ring(cd_trace_ring_t *r, stream_t *s, size_t want,
                      raw_t *raw, double rate)
{
    uint64_t head = atomic_load_explicit(&r->head, ACQ);
    uint64_t first = head > CD_TRACE_RING_CAP ? head - CD_TRACE_RING_CAP : 0;

    if (head - first > want)
        first = head - want;
    uint64_t n = head - first;
    for (uint64_t i = 0; i < n; i++)
        unpack(&r->slot[(first + i) & (CD_TRACE_RING_CAP - 1)], &raw[i].ev,
               &raw[i].tick, &raw[i].w);
    /* A slot is whole if its thread had not begun the event that reuses
     * it: head, read after the copies, within a ring of it. */
    uint64_t after = cd__ld(&r->head), skip = 0;
    if (after - first >= CD_TRACE_RING_CAP)
        skip = after - first - CD_TRACE_RING_CAP + 1;
    resolve_stamps(raw, skip, n);
    s->n = 0;
    s->lost = first + skip > 0;
    for (uint64_t i = skip; i < n; i++) {
        cd_trace_event_t e = raw[i].ev;
        unsigned char later = (raw[i].w & CD_TR_STAMP_NEXT) != 0;
        e.t_ns = ticks_to_ns(raw[i].tick, rate);
        if (raw[i].w & CD_TR_AT_ONCE) {
            s->tick[s->n] = raw[i].tick;
            s->later[s->n] = later;
            s->ev[s->n] = e;
            s->ev[s->n++].op = CD_OP_LOCK;
            e.op = CD_OP_ACQUIRED;
        }
        s->tick[s->n] = raw[i].tick;
        s->later[s->n] = later;
        s->ev[s->n++] = e;
    }
}

/* ===================== a lock's time read later: repair =====================
 * A lock taken at once carries the time of its thread's next event, which
 * may come well after it when the critical section does untraced work.
 * Another thread that found the lock taken in between would then show
 * "blocked" before the owner's "lock". The blocked thread's own lock event
 * is a bound on the real time: the owner's trylock won before that
 * thread's failed. So when a late-stamped lock of X has, in another
 * stream, a thread that asked for X and blocked after the owner's previous
 * event and before the late stamp, and nobody let go of X in between (X
 * was not someone else's then), the lock moves to just before that ask. */

/* First index of s whose tick is above t. */
static size_t first_after(const stream_t *s, uint64_t t)
{
    size_t lo = 0, hi = s->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->tick[mid] > t)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

/* Whether a thread other than `owner` unlocked obj at a tick in (from, to). */
static int unlocked_between(const stream_t *s, int ns, int owner, int obj,
                            uint64_t from, uint64_t to)
{
    for (int i = 0; i < ns; i++)
        for (size_t k = first_after(&s[i], from);
             k < s[i].n && s[i].tick[k] < to; k++)
            if (s[i].ev[k].op == CD_OP_UNLOCK && s[i].ev[k].obj == obj &&
                s[i].ev[k].thread != owner)
                return 1;
    return 0;
}

/* Thread b asked for obj at tick t and blocked: moves a late-stamped lock
 * of obj in another stream that must have come first (see above). */
static void repair_one(stream_t *s, int ns, int b, int obj, uint64_t t,
                       double rate)
{
    for (int a = 0; a < ns; a++) {
        if (a == b)
            continue;
        size_t j = first_after(&s[a], t);
        /* The lock and its acquired, both late, at j and j + 1. */
        if (j + 1 >= s[a].n || !s[a].later[j] ||
            s[a].ev[j].op != CD_OP_LOCK || s[a].ev[j].obj != obj)
            continue;
        if (unlocked_between(s, ns, s[a].ev[j].thread, obj, t, s[a].tick[j]))
            continue;
        uint64_t at = t - 1;
        if (j > 0 && s[a].tick[j - 1] > at)
            at = s[a].tick[j - 1]; /* never before the thread's last event */
        for (size_t k = j; k <= j + 1; k++) {
            s[a].tick[k] = at;
            s[a].ev[k].t_ns = ticks_to_ns(at, rate);
        }
    }
}

static void repair_late_locks(stream_t *s, int ns, double rate)
{
    for (int b = 0; b < ns; b++)
        for (size_t k = 0; k < s[b].n; k++) {
            const cd_trace_event_t *e = &s[b].ev[k];
            if (e->op != CD_OP_BLOCK || !e->obj)
                continue;
            /* From the ask just before the block, when it is there. */
            size_t ask = k > 0 && s[b].ev[k - 1].obj == e->obj &&
                                 s[b].ev[k - 1].thread == e->thread
                             ? k - 1
                             : k;
            repair_one(s, ns, b, e->obj, s[b].tick[ask], rate);
        }
}

static void free_streams(stream_t *s, int n, raw_t *raw)
{
    for (int i = 0; i < n; i++) {
        free(s[i].ev);
        free(s[i].tick);
        free(s[i].later);
    }
    free(s);
    free(raw);
}

/* Takes the newest events of the streams, newest first, into out's end;
 * returns how many. */
static size_t merge(stream_t *s, int ns, cd_trace_event_t *out, size_t max)
{
    size_t k = max;

    while (k > 0) {
        int best = -1;
        for (int i = 0; i < ns; i++) {
            if (s[i].n == 0)
                continue;
            if (best < 0 || s[i].tick[s[i].n - 1] > s[best].tick[s[best].n - 1])
                best = i;
        }
        if (best < 0)
            break;
        out[--k] = s[best].ev[--s[best].n];
        /* Older events of this stream are gone: anything older from the
         * others would leave a hole in the middle of the trace. */
        if (s[best].n == 0 && s[best].lost)
            break;
    }
    return max - k;
}

int cd_trace_read(cd_trace_event_t *out, size_t max, uint64_t *total)
{
    int nr = rings_in_use(), ns = 0;
    size_t want = max < CD_TRACE_CAP ? max : CD_TRACE_CAP;
    size_t rwant = want < CD_TRACE_RING_CAP ? want : CD_TRACE_RING_CAP;
    stream_t *s = calloc((size_t)nr + 1, sizeof *s);
    raw_t *raw = nr ? malloc(rwant * sizeof *raw) : NULL;
    double rate = nr ? tick_ns() : 0.0;

    *total = cd_trace_total();
    if (!s || (nr && !raw)) {
        free_streams(s, 0, raw);
        return -ENOMEM;
    }
    for (int i = -1; i < nr; i++) {
        cd_trace_ring_t *r = i < 0 ? NULL : &rings()[i];
        if (r && !ring_current(r))
            continue;
        size_t cap = r ? 2 * rwant : want;
        s[ns].ev = malloc((cap ? cap : 1) * sizeof *s[ns].ev);
        s[ns].tick = malloc((cap ? cap : 1) * sizeof *s[ns].tick);
        s[ns].later = malloc(cap ? cap : 1);
        if (!s[ns].ev || !s[ns].tick || !s[ns].later) {
            free_streams(s, ns + 1, raw);
            return -ENOMEM;
        }
        if (r)
            copy_ring(r, &s[ns], rwant, raw, rate);
        else
            copy_shared(&s[ns], want);
        ns++;
    }
    repair_late_locks(s, ns, rate);
    size_t n = merge(s, ns, out, want);
    memmove(out, out + (want - n), n * sizeof *out);
    for (size_t i = 0; i < n; i++)
        out[i].seq = *total - n + i;
    free_streams(s, ns, raw);
    return (int)n;
}

const char *cd_op_name(int op)
{
    static const char *const names[CD_OP_COUNT_] = {
        [CD_OP_NONE] = "-",           [CD_OP_SPAWN] = "spawn",
        [CD_OP_START] = "start",      [CD_OP_EXIT] = "exit",
        [CD_OP_JOIN] = "join",        [CD_OP_LOCK] = "lock",
        [CD_OP_TRYLOCK] = "trylock",  [CD_OP_TIMEDLOCK] = "timedlock",
        [CD_OP_BLOCK] = "blocked",    [CD_OP_ACQUIRED] = "acquired",
        [CD_OP_BUSY] = "busy",        [CD_OP_TIMEOUT] = "timed-out",
        [CD_OP_UNLOCK] = "unlock",    [CD_OP_LATENCY] = "latency",
        [CD_OP_WAKE] = "wake",        [CD_OP_POINT] = "point",
        [CD_OP_ABORT] = "aborted",
        [CD_OP_SEND] = "send",        [CD_OP_TRYSEND] = "trysend",
        [CD_OP_TIMEDSEND] = "timedsend", [CD_OP_RECV] = "recv",
        [CD_OP_TRYRECV] = "tryrecv",  [CD_OP_TIMEDRECV] = "timedrecv",
        [CD_OP_CLOSE] = "close",      [CD_OP_DROP] = "drop",
        [CD_OP_CLOSED] = "closed",
        [CD_OP_RDLOCK] = "rdlock",    [CD_OP_WRLOCK] = "wrlock",
        [CD_OP_TRYRDLOCK] = "tryrdlock", [CD_OP_TRYWRLOCK] = "trywrlock",
        [CD_OP_TASK_SPAWN] = "spawn-task",
        [CD_OP_AWAIT] = "await",      [CD_OP_PARK] = "parked",
        [CD_OP_READY] = "ready",      [CD_OP_RESUME] = "resumed",
        [CD_OP_COND_WAIT] = "cond-wait", [CD_OP_COND_TIMEDWAIT] = "cond-timed",
        [CD_OP_SIGNAL] = "signal",    [CD_OP_BROADCAST] = "broadcast",
        [CD_OP_WOKE] = "woke",        [CD_OP_SEM_WAIT] = "sem-wait",
        [CD_OP_SEM_TRYWAIT] = "sem-try", [CD_OP_SEM_TIMEDWAIT] = "sem-timed",
        [CD_OP_POST] = "post",        [CD_OP_LAGGED] = "lagged",
        [CD_OP_ACCEPT] = "accept",    [CD_OP_READ] = "read",
        [CD_OP_WRITE] = "write",     [CD_OP_CONNECT] = "connect",
        [CD_OP_SCOPE_CLOSE] = "scope-close", [CD_OP_OFFLOAD] = "offload",
    };
    if (op < 0 || op >= CD_OP_COUNT_ || !names[op])
        return "?";
    return names[op];
}

const char *cd_trace_subject(const cd_trace_event_t *ev,
                             const cd_snapshot_t *names)
{
    switch (ev->op) {
    case CD_OP_SPAWN:
    case CD_OP_JOIN:
    case CD_OP_TASK_SPAWN:
        return names ? cd_snap_thread_name(names, ev->obj)
                     : cd_reg_thread_name(ev->obj);
    case CD_OP_LATENCY:
    case CD_OP_WAKE:
    case CD_OP_POINT:
    case CD_OP_AWAIT:
    case CD_OP_OFFLOAD:
        return ev->label ? ev->label : "";
    default:
        if (ev->obj)
            return names ? cd_snap_object_name(names, ev->obj)
                         : cd_reg_object_name(ev->obj);
        return ev->label ? ev->label : "";
    }
}

/* The words after the subject that say what arg means, or nothing. */
static void format_arg(const cd_trace_event_t *ev, char *extra, size_t size)
{
    long long arg = (long long)ev->arg;

    switch (ev->op) {
    case CD_OP_LATENCY:
    case CD_OP_AWAIT:
        snprintf(extra, size, "%.3f ms", (double)ev->arg / 1000.0);
        break;
    case CD_OP_TIMEDLOCK:
    case CD_OP_TIMEDSEND:
    case CD_OP_TIMEDRECV:
    case CD_OP_COND_TIMEDWAIT:
    case CD_OP_SEM_TIMEDWAIT:
        snprintf(extra, size, "<= %lld ms", arg);
        break;
    case CD_OP_DROP:
        snprintf(extra, size, "drop #%lld", arg);
        break;
    case CD_OP_ACQUIRED:
        if (arg == 1)
            snprintf(extra, size, "shared");
        break;
    case CD_OP_SIGNAL:
    case CD_OP_BROADCAST:
        /* A wake-up nobody heard is the lesson of a lost wake-up. */
        if (arg == 0)
            snprintf(extra, size, "unheard");
        else
            snprintf(extra, size, "woke %lld", arg);
        break;
    case CD_OP_WOKE:
        snprintf(extra, size, "%s", arg == CD_WOKE_TIMED_OUT ? "timed out"
                                    : arg == CD_WOKE_SPURIOUS ? "spurious"
                                                              : "signalled");
        break;
    case CD_OP_POST:
        snprintf(extra, size, "count %lld", arg);
        break;
    case CD_OP_LAGGED:
        snprintf(extra, size, "missed %lld", arg);
        break;
    case CD_OP_READ:
    case CD_OP_WRITE:
        snprintf(extra, size, "%lld bytes", arg);
        break;
    default:
        break;
    }
}

int cd_trace_format(const cd_trace_event_t *ev, char *buf, size_t size)
{
    char extra[32] = "";

    format_arg(ev, extra, sizeof extra);
    if (ev->site.file)
        return snprintf(buf, size, "%9.3f ms  %-14s %-10s %-16s %-10s %s:%d",
                        (double)ev->t_ns / 1e6, cd_reg_thread_name(ev->thread),
                        cd_op_name(ev->op), cd_trace_subject(ev, NULL), extra,
                        ev->site.file, ev->site.line);
    return snprintf(buf, size, "%9.3f ms  %-14s %-10s %-16s %s",
                    (double)ev->t_ns / 1e6, cd_reg_thread_name(ev->thread),
                    cd_op_name(ev->op), cd_trace_subject(ev, NULL), extra);
}
