/*
 * cd_registry.c - the registry's tables, settings and findings.
 */
#include "cd_registry.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "cd_internal.h"
#include "cd_op.h"

#ifdef CD_HAVE_VALGRIND
#include <valgrind/helgrind.h>
/* The registry is written with relaxed atomics by every thread and read by
 * observers on purpose; Helgrind does not model C11 atomics, so its checks
 * are switched off for these tables (the demos' own memory stays checked). */
#define HG_IGNORE(addr, len) VALGRIND_HG_DISABLE_CHECKING((addr), (len))
#else
#define HG_IGNORE(addr, len) ((void)(addr), (void)(len))
#endif

/* Zero-initialised, so that its 12 MB of tables are .bss, nothing in the
 * file: with an initialiser the whole struct was .data, and every program
 * linked with the library 15 MB (now 2.5-3 MB), written out again by each
 * of the hundreds of exercise builds. The fields that do not start at zero
 * are set by reg_defaults, before main and before anything of the library
 * can run (the first constructor priority a program may use). */
struct cd_registry cd__reg;

__attribute__((constructor(101))) static void reg_defaults(void)
{
    cd__reg.gen = 1;
    cd__reg.gate = 1; /* = gen: tracing is off, no controlled run */
    cd__reg.latency_permille = 1000;
    cd__reg.gate_lock = (pthread_mutex_t)PTHREAD_MUTEX_INITIALIZER;
    cd__reg.find_lock = (pthread_mutex_t)PTHREAD_MUTEX_INITIALIZER;
}
_Thread_local uint64_t cd__self_key;
_Thread_local cd_thread_rec_t *cd__self_rec;
_Thread_local int cd__self_spawned;
_Thread_local int cd__sched_self;

/* Under gate_lock: two settings changing at once must not leave the gate
 * computed from a stale view of the other one. */
void cd__reg_update_gate(void)
{
    CD_CHECK(pthread_mutex_lock(&cd__reg.gate_lock));
    int quiet = !(cd__ld(&cd__reg.slow) & CD_SLOW_PAUSE) && !cd__sched_on();
    int trace = (cd__ld(&cd__reg.slow) & CD_SLOW_TRACE) != 0;
    cd__st(&cd__reg.gate, quiet && !trace ? cd__reg.gen : 0);
    cd__st(&cd__reg.tgate, quiet && trace ? cd__reg.gen : 0);
    CD_CHECK(pthread_mutex_unlock(&cd__reg.gate_lock));
}

/* ================================ the run ================================ */

int cd__tsc_ok;
static pthread_once_t tsc_once = PTHREAD_ONCE_INIT;

/* The trace's clock is the TSC only where it counts at one rate, whatever
 * the core's speed and sleep state (CPUID 0x80000007, EDX bit 8: invariant
 * TSC). Also reads the first point of both clocks, which the trace's
 * readers turn ticks into time with. */
static void check_tsc(void)
{
#if defined(__x86_64__) || defined(__i386__)
    unsigned a, b, c, d;
    if (__get_cpuid(0x80000000, &a, &b, &c, &d) && a >= 0x80000007 &&
        __get_cpuid(0x80000007, &a, &b, &c, &d) && (d & (1u << 8)))
        cd__tsc_ok = 1;
#endif
    cd__reg_tick_pair(&cd__reg.cal_tick, &cd__reg.cal_ns);
}

void cd_reg_reset(void)
{
    struct cd_registry *r = &cd__reg;

    /* Clear only what the last run used: explorations reset thousands of
     * times a second. */
    int nt = cd__ld(&r->nthreads), no = cd__ld(&r->nobjs);
    nt = nt < CD_MAX_THREADS ? nt : CD_MAX_THREADS;
    no = no < CD_MAX_OBJECTS ? no : CD_MAX_OBJECTS;
    r->gen++;
    if (r->gen == 0) /* 0 means "not registered" in a thread's key */
        r->gen = 1;
    pthread_once(&tsc_once, check_tsc);
    cd__reg_tick_pair(&r->tick0, &r->t0_ns);
    cd__st(&r->trace_nrings, 0);
    cd__st(&r->abort_reason, CD_ABORT_NONE);
    atomic_fetch_and_explicit(&r->slow, ~CD_SLOW_PAUSE, CD_RELAXED);
    cd__st(&r->active_ref, 0);
    cd__st(&r->nthreads, 0);
    cd__st(&r->nobjs, 0);
    cd__st(&r->ngauges, 0);
    memset(r->threads, 0, (size_t)nt * sizeof r->threads[0]);
    memset(r->objs, 0, (size_t)no * sizeof r->objs[0]);
    memset(r->gauges, 0, sizeof r->gauges);
    memset(r->notes, 0, sizeof r->notes);
    CD_CHECK(pthread_mutex_lock(&r->find_lock));
    r->has_deadlock = 0;
    r->has_stuck = 0;
    r->ninv = 0;
    r->nedges = 0;
    memset(r->order_bits, 0, (size_t)no * sizeof r->order_bits[0]);
    memset(r->graphed, 0, sizeof r->graphed);
    memset(r->gate_permits, 0, (size_t)no * sizeof r->gate_permits[0]);
    memset(r->npermits, 0, (size_t)nt * sizeof r->npermits[0]);
    cd__st(&r->ngated, 0);
    CD_CHECK(pthread_mutex_unlock(&r->find_lock));
    cd__st(&r->trace_next, 0);
    cd__reg_update_gate();
    HG_IGNORE(r, sizeof *r);
}

void cd__reg_hg_ignore(void *addr, size_t len)
{
    HG_IGNORE(addr, len);
}

/* Flags are set and cleared with relaxed read-modify-writes: they tell
 * threads what to do at their next operation and order nothing else. The
 * fast paths' gate closes while any flag is set. */
static void set_slow(unsigned bit, int on)
{
    if (on)
        atomic_fetch_or_explicit(&cd__reg.slow, bit, CD_RELAXED);
    else
        atomic_fetch_and_explicit(&cd__reg.slow, ~bit, CD_RELAXED);
    cd__reg_update_gate();
}

void cd_reg_set_trace(int on) { set_slow(CD_SLOW_TRACE, on); }

int cd_reg_trace_on(void)
{
    return (cd__ld(&cd__reg.slow) & CD_SLOW_TRACE) != 0;
}

void cd_reg_set_latency_scale(int permille)
{
    cd__st(&cd__reg.latency_permille, permille < 0 ? 0 : permille);
}

int cd_reg_latency_scale(void) { return cd__ld(&cd__reg.latency_permille); }

int cd_reg_abort(int reason)
{
    int none = CD_ABORT_NONE;
    return atomic_compare_exchange_strong(&cd__reg.abort_reason, &none, reason);
}

int cd_reg_aborted(void) { return cd__ld(&cd__reg.abort_reason); }

/* Wall-clock time since the reset, whatever the scheduler's clock says:
 * pauses and the hard time limit are about a person's time. */
static int64_t real_elapsed_ns(void)
{
    return cd_now_ns() - cd__reg.t0_ns;
}

void cd_reg_set_paused(int on)
{
    int64_t ref = cd__ld(&cd__reg.active_ref);

    if (on && ref >= 0)
        cd__st(&cd__reg.active_ref, -1 - (real_elapsed_ns() - ref));
    else if (!on && ref < 0)
        cd__st(&cd__reg.active_ref, real_elapsed_ns() - (-1 - ref));
    set_slow(CD_SLOW_PAUSE, on);
}

int cd_reg_paused(void)
{
    return (cd__ld(&cd__reg.slow) & CD_SLOW_PAUSE) != 0;
}

void cd__reg_set_clock(int64_t (*clock)(void))
{
    cd__st(&cd__reg.clock, clock);
}

int64_t cd_reg_elapsed_ns(void)
{
    int64_t (*clock)(void) = cd__ld(&cd__reg.clock);
    return clock ? clock() : real_elapsed_ns();
}

int64_t cd_reg_active_ns(void)
{
    int64_t ref = cd__ld(&cd__reg.active_ref);
    return ref >= 0 ? real_elapsed_ns() - ref : -1 - ref;
}

/* ============================== registration ============================= */

/* Takes the next id (from 1) of a table of max records counted by *count,
 * or -ENOSPC when the table is full (the count is put back). */
static int next_id(_Atomic int *count, int max)
{
    int id = atomic_fetch_add(count, 1) + 1;
    if (id > max) {
        atomic_fetch_sub(count, 1);
        return -ENOSPC;
    }
    return id;
}

int cd__reg_add_thread(const char *name)
{
    int id = next_id(&cd__reg.nthreads, CD_MAX_THREADS);
    if (id < 0)
        return id;
    cd_thread_rec_t *t = cd__rec(id);
    cd_name_copy(t->name, name);
    cd__st(&t->since_ns, cd_reg_elapsed_ns());
    /* Release: an observer that sees the state also sees the name. */
    atomic_store_explicit(&t->state, CD_T_NEW, memory_order_release);
    return id;
}

int cd__reg_add_object(const char *name, int kind, void *impl,
                       cd_release_fn release)
{
    int id = next_id(&cd__reg.nobjs, CD_MAX_OBJECTS);
    if (id < 0)
        return id;
    cd_obj_rec_t *o = cd__obj(id);
    cd_name_copy(o->name, name);
    o->impl = impl;
    o->release = release;
    cd__st(&o->live, 1);
    /* Release: an observer that sees the kind also sees the name. */
    atomic_store_explicit(&o->kind, kind, memory_order_release);
    return id;
}

void cd__reg_remove_object(int id)
{
    if (cd_reg_object(id))
        cd__st(&cd__obj(id)->live, 0);
}

int cd__park_open(const char *name, int kind, void *obj,
                  pthread_mutex_t *lock, pthread_cond_t *cv)
{
    int id = cd__reg_add_object(name, kind, obj, NULL);
    if (id >= 0)
        cd__park_init(lock, cv);
    return id;
}

void cd__park_close(int id, pthread_mutex_t *lock, pthread_cond_t *cv,
                    _Atomic int *waking)
{
    cd__park_destroy(lock, cv, waking);
    cd__reg_remove_object(id);
}

cd_thread_rec_t *cd_reg_thread(int id)
{
    if (id <= 0 || id > cd__ld(&cd__reg.nthreads) || id > CD_MAX_THREADS)
        return NULL;
    return cd__rec(id);
}

cd_obj_rec_t *cd_reg_object(int id)
{
    if (id <= 0 || id > cd__ld(&cd__reg.nobjs) || id > CD_MAX_OBJECTS)
        return NULL;
    return cd__obj(id);
}

const char *cd_reg_thread_name(int id)
{
    cd_thread_rec_t *t = cd_reg_thread(id);
    return t ? t->name : "?";
}

const char *cd_reg_object_name(int id)
{
    /* A key's name is its table's prefix and the key its record serves
     * now, put together in one of a few buffers of the calling thread's
     * own (a report may hold three names at once). */
    static _Thread_local char keys[4][CD_NAME_MAX];
    static _Thread_local unsigned next;
    cd_obj_rec_t *o = cd_reg_object(id);
    if (!o)
        return "?";
    int kind = atomic_load_explicit(&o->kind, memory_order_acquire);
    if (kind != CD_OBJ_KEY && kind != CD_OBJ_AKEY)
        return o->name;
    char full[CD_NAME_MAX + 24];
    char *buf = keys[next++ % 4];
    snprintf(full, sizeof full, "%.*s[%llu]", CD_NAME_MAX - 1, o->name,
             (unsigned long long)cd__ld(&o->key));
    cd_name_copy(buf, full);
    return buf;
}

/* ================================ self ================================== */

int cd__self_slow(void)
{
    char name[CD_NAME_MAX];
    int n = cd__ld(&cd__reg.nthreads);

    /* The first unknown thread of a run is the one that set it up. */
    if (n == 0)
        snprintf(name, sizeof name, "main");
    else
        snprintf(name, sizeof name, "thread-%d", n + 1);
    int id = cd__reg_add_thread(name);
    if (id < 0) {
        /* Untracked: the table is full. Remembered for this run, so that
         * each later operation does not try again (thousands of threads
         * would otherwise hammer the table's counter on every one). */
        cd__self_key = CD__KEY(cd__reg.gen, 0);
        cd__self_spawned = CD_SELF_PLAIN;
        return 0;
    }
    cd__st(&cd__rec(id)->state, CD_T_RUNNING);
    cd__self_key = CD__KEY(cd__reg.gen, id);
    cd__self_rec = cd__rec(id);
    cd__self_spawned = CD_SELF_PLAIN;
    cd__sched_self = id;
    return id;
}

int cd_self(void) { return cd__self(); }

void cd__reg_bind_self(int id)
{
    cd__self_key = CD__KEY(cd__reg.gen, id);
    cd__self_rec = id > 0 ? cd__rec(id) : NULL;
    cd__self_spawned = CD_SELF_SPAWNED;
    cd__sched_self = id;
}

int cd__self_is_spawned(void)
{
    return CD__KEY_GEN(cd__self_key) == cd__reg.gen &&
           cd__self_spawned != CD_SELF_PLAIN;
}

int cd__self_is_task(void)
{
    return CD__KEY_GEN(cd__self_key) == cd__reg.gen &&
           cd__self_spawned == CD_SELF_TASK;
}

void cd__self_set(int id, int kind)
{
    cd__self_key = CD__KEY(cd__reg.gen, id);
    cd__self_rec = id > 0 ? cd__rec(id) : NULL;
    cd__self_spawned = kind;
}

/* ================================ gauges ================================= */

int cd_reg_gauge(const char *name)
{
    int n = cd__ld(&cd__reg.ngauges);
    for (int i = 0; i < n; i++) {
        cd_gauge_rec_t *g = &cd__reg.gauges[i];
        if (atomic_load_explicit(&g->used, memory_order_acquire) &&
            strncmp(g->name, name, CD_NAME_MAX - 1) == 0)
            return i + 1;
    }
    if (n >= CD_MAX_GAUGES)
        return 0;
    cd_gauge_rec_t *g = &cd__reg.gauges[n];
    cd_name_copy(g->name, name);
    cd__st(&g->value, 0);
    /* Release: an observer that sees `used` also sees the name. */
    atomic_store_explicit(&g->used, 1, memory_order_release);
    cd__st(&cd__reg.ngauges, n + 1);
    return n + 1;
}

static cd_gauge_rec_t *gauge(int id)
{
    if (id <= 0 || id > CD_MAX_GAUGES)
        return NULL;
    return &cd__reg.gauges[id - 1];
}

void cd_reg_gauge_set(int id, int64_t value)
{
    cd_gauge_rec_t *g = gauge(id);
    if (g)
        cd__st(&g->value, value);
}

void cd_reg_gauge_add(int id, int64_t delta)
{
    cd_gauge_rec_t *g = gauge(id);
    if (g)
        atomic_fetch_add_explicit(&g->value, delta, CD_RELAXED);
}

int64_t cd_reg_gauge_get(int id)
{
    cd_gauge_rec_t *g = gauge(id);
    return g ? cd__ld(&g->value) : 0;
}

/* ================================= notes ================================= */

void cd_reg_note(int line, const char *text)
{
    if (line < 0 || line >= CD_MAX_NOTES)
        return;
    cd_note_rec_t *n = &cd__reg.notes[line];
    unsigned seq = cd__ld(&n->seq);
    /* A seqlock with one writer: odd while the bytes change. Each byte's
     * release store keeps the odd count before it (no fence: TSan does
     * not model fences); the release store of the even count keeps the
     * bytes before it. */
    cd__st(&n->seq, seq + 1);
    size_t i = 0;
    for (; text && text[i] && i < CD_NOTE_MAX - 1; i++)
        atomic_store_explicit(&n->text[i], text[i], memory_order_release);
    atomic_store_explicit(&n->text[i], '\0', memory_order_release);
    atomic_store_explicit(&n->seq, seq + 2, memory_order_release);
}

/* Copies each note that reads whole (tried a few times while its writer
 * is changing it; else shown empty this time). */
static void copy_notes(cd_snapshot_t *out)
{
    out->nnotes = 0;
    for (int l = 0; l < CD_MAX_NOTES; l++) {
        cd_note_rec_t *n = &cd__reg.notes[l];
        char *d = out->notes[l];
        d[0] = '\0';
        for (int tries = 0; tries < 4; tries++) {
            unsigned s1 = atomic_load_explicit(&n->seq, memory_order_acquire);
            if (s1 & 1)
                continue;
            /* Acquire loads: the count read after them cannot be read
             * before them. */
            for (int i = 0; i < CD_NOTE_MAX; i++)
                d[i] = atomic_load_explicit(&n->text[i], memory_order_acquire);
            d[CD_NOTE_MAX - 1] = '\0';
            if (cd__ld(&n->seq) == s1)
                break;
            d[0] = '\0';
        }
        if (d[0])
            out->nnotes = l + 1;
    }
}

/* =============================== snapshot =============================== */

/* A record's name, once it is in use (its state or kind, loaded with
 * acquire, says so: the name was written before); "" before. */
static void copy_name(char *dst, const char *src, int used)
{
    if (used)
        memcpy(dst, src, CD_NAME_MAX);
    else
        dst[0] = '\0';
}

static void copy_thread(cd_thread_info_t *d, int id)
{
    cd_thread_rec_t *t = cd__rec(id);
    d->id = id;
    d->state = atomic_load_explicit(&t->state, memory_order_acquire);
    copy_name(d->name, t->name, d->state != CD_T_UNUSED);
    d->waiting_on = cd__ld(&t->waiting_on);
    d->wait_timed = cd__ld(&t->wait_timed);
    d->wait_seq = cd__ld(&t->wait_seq);
    d->joining = cd__ld(&t->joining);
    d->since_ns = cd__ld(&t->since_ns);
    d->what = cd__ld(&t->what);
    d->worker = cd__ld(&t->worker);
    d->wake_ns = cd__ld(&t->wake_ns);
    d->nheld = cd__ld(&t->nheld);
    if (d->nheld > CD_MAX_HELD)
        d->nheld = CD_MAX_HELD;
    for (int i = 0; i < d->nheld; i++)
        d->held[i] = cd__ld(&t->held[i]);
    uint64_t last = cd__ld(&t->last);
    d->last_obj = (int)(last & 0xffff);
    d->last_op = (int)((last >> CD_LAST_OP_SHIFT) & 0xff);
    d->nops = last >> CD_LAST_COUNT_SHIFT;
}

static void copy_obj(cd_obj_info_t *d, int id)
{
    cd_obj_rec_t *o = cd__obj(id);
    d->id = id;
    d->kind = atomic_load_explicit(&o->kind, memory_order_acquire);
    copy_name(d->name, o->name, d->kind != 0);
    d->live = cd__ld(&o->live);
    d->owner = cd__ld(&o->owner);
    d->readers = cd__ld(&o->readers);
    d->nwaiters = cd__ld(&o->nwaiters);
    d->acquisitions = cd__ld(&o->acquisitions);
    d->contended = cd__ld(&o->contended);
    d->site.file = cd__ld(&o->site_file);
    d->site.line = cd__ld(&o->site_line);
    d->chan_capacity = cd__ld(&o->chan_capacity);
    d->chan_depth = cd__ld(&o->chan_depth);
    d->chan_high_water = cd__ld(&o->chan_high_water);
    d->chan_bytes = cd__ld(&o->chan_bytes);
    d->chan_sent = cd__ld(&o->chan_sent);
    d->chan_received = cd__ld(&o->chan_received);
    d->chan_drops = cd__ld(&o->chan_drops);
    d->chan_closed = cd__ld(&o->chan_closed);
    d->cond_signals = cd__ld(&o->cond_signals);
    d->cond_broadcasts = cd__ld(&o->cond_broadcasts);
    d->cond_unheard = cd__ld(&o->cond_unheard);
    d->cond_unheard_thread = cd__ld(&o->cond_unheard_thread);
    d->cond_unheard_site.file = cd__ld(&o->cond_unheard_file);
    d->cond_unheard_site.line = cd__ld(&o->cond_unheard_line);
    d->cond_unheard_ns = cd__ld(&o->cond_unheard_ns);
    d->cond_unheard_all = cd__ld(&o->cond_unheard_all);
    d->cond_pending = cd__ld(&o->cond_pending);
    d->sem_count = cd__ld(&o->sem_count);
    d->oneshot_state = cd__ld(&o->oneshot_state);
    d->key = cd__ld(&o->key);
    for (int i = 0; i < CD_KEY_QUEUE_SHOWN; i++)
        d->key_queue[i] = cd__ld(&o->key_queue[i]);
    d->io_read = cd__ld(&o->io_read);
    d->io_written = cd__ld(&o->io_written);
    d->io_queued = cd__ld(&o->io_queued);
    d->io_unsent = cd__ld(&o->io_unsent);
    d->io_wblocked = cd__ld(&o->io_wblocked);
    d->io_closed = cd__ld(&o->io_closed);
    /* A key's record is shared by the keys its table makes one after
     * another: the name is the table's, the key is the record's now. */
    if (d->kind == CD_OBJ_KEY || d->kind == CD_OBJ_AKEY) {
        char full[CD_NAME_MAX + 24];
        d->name[CD_NAME_MAX - 1] = '\0';
        snprintf(full, sizeof full, "%s[%llu]", d->name,
                 (unsigned long long)d->key);
        cd_name_copy(d->name, full);
    }
}

static void copy_gauges(cd_snapshot_t *out)
{
    int n = cd__ld(&cd__reg.ngauges);
    out->ngauges = 0;
    for (int i = 0; i < n && i < CD_MAX_GAUGES; i++) {
        cd_gauge_rec_t *g = &cd__reg.gauges[i];
        if (!atomic_load_explicit(&g->used, memory_order_acquire))
            break;
        cd_gauge_info_t *d = &out->gauges[out->ngauges++];
        memcpy(d->name, g->name, CD_NAME_MAX);
        d->value = cd__ld(&g->value);
    }
}

void cd_reg_snapshot(cd_snapshot_t *out)
{
    out->t_ns = cd_reg_elapsed_ns();
    out->abort_reason = cd_reg_aborted();
    out->paused = cd_reg_paused();
    int nt = cd__ld(&cd__reg.nthreads), no = cd__ld(&cd__reg.nobjs);
    out->nthreads = nt < CD_MAX_THREADS ? nt : CD_MAX_THREADS;
    out->nobjs = no < CD_MAX_OBJECTS ? no : CD_MAX_OBJECTS;
    for (int i = 0; i < out->nthreads; i++)
        copy_thread(&out->threads[i], i + 1);
    for (int i = 0; i < out->nobjs; i++)
        copy_obj(&out->objs[i], i + 1);
    copy_gauges(out);
    copy_notes(out);
}

const char *cd_snap_thread_name(const cd_snapshot_t *s, int id)
{
    if (id <= 0 || id > s->nthreads || !s->threads[id - 1].name[0])
        return "?";
    return s->threads[id - 1].name;
}

const char *cd_snap_object_name(const cd_snapshot_t *s, int id)
{
    if (id <= 0 || id > s->nobjs || !s->objs[id - 1].name[0])
        return "?";
    return s->objs[id - 1].name;
}

/* =============================== findings =============================== */

/* A run keeps the first finding of each kind (a deadlock's cycle, a stuck
 * wait): the one that ended it. Stores size bytes of what in slot unless
 * *has says one is kept already. */
static void keep_first(int *has, void *slot, const void *what, size_t size)
{
    CD_CHECK(pthread_mutex_lock(&cd__reg.find_lock));
    if (!*has) {
        memcpy(slot, what, size);
        *has = 1;
    }
    CD_CHECK(pthread_mutex_unlock(&cd__reg.find_lock));
}

/* Whether a finding is kept (*has), copied to out when both are there. */
static int read_kept(const int *has, const void *slot, void *out,
                     size_t size)
{
    CD_CHECK(pthread_mutex_lock(&cd__reg.find_lock));
    int kept = *has;
    if (kept && out)
        memcpy(out, slot, size);
    CD_CHECK(pthread_mutex_unlock(&cd__reg.find_lock));
    return kept;
}

void cd__reg_set_deadlock(const cd_cycle_t *cycle)
{
    keep_first(&cd__reg.has_deadlock, &cd__reg.deadlock, cycle,
               sizeof *cycle);
}

int cd_reg_deadlock(cd_cycle_t *out)
{
    return read_kept(&cd__reg.has_deadlock, &cd__reg.deadlock, out,
                     sizeof *out);
}

void cd__reg_set_stuck(const cd_stuck_t *stuck)
{
    keep_first(&cd__reg.has_stuck, &cd__reg.stuck, stuck, sizeof *stuck);
}

int cd_reg_stuck(cd_stuck_t *out)
{
    return read_kept(&cd__reg.has_stuck, &cd__reg.stuck, out, sizeof *out);
}

/* Caller holds find_lock (the lock-order graph adds under it). */
int cd__reg_add_inversion(const cd_inversion_t *inv)
{
    if (cd__reg.ninv >= CD_MAX_INVERSIONS)
        return -ENOSPC;
    cd__reg.inv[cd__reg.ninv++] = *inv;
    return 0;
}

int cd_reg_inversions(cd_inversion_t *out, int max)
{
    CD_CHECK(pthread_mutex_lock(&cd__reg.find_lock));
    int n = cd__reg.ninv < max ? cd__reg.ninv : max;
    memcpy(out, cd__reg.inv, (size_t)n * sizeof *out);
    CD_CHECK(pthread_mutex_unlock(&cd__reg.find_lock));
    return n;
}

const char *cd_thread_state_name(int state)
{
    static const char *const names[] = {
        [CD_T_UNUSED] = "unused",   [CD_T_NEW] = "new",
        [CD_T_RUNNING] = "running", [CD_T_BLOCKED] = "blocked",
        [CD_T_SLEEPING] = "sleeping", [CD_T_DONE] = "done",
        [CD_T_ABORTED] = "aborted", [CD_T_PARKED] = "parked",
        [CD_T_READY] = "ready",     [CD_T_PAUSED] = "paused",
    };
    if (state < 0 || state >= CD_T_COUNT_)
        return "?";
    return names[state];
}

const char *cd_obj_kind_name(int kind)
{
    switch (kind) {
    case CD_OBJ_MUTEX: return "mutex";
    case CD_OBJ_KEY: return "keyed lock";
    case CD_OBJ_AKEY: return "awaitable keyed lock";
    case CD_OBJ_CHAN: return "channel";
    case CD_OBJ_RWLOCK: return "rwlock";
    case CD_OBJ_WORKER: return "worker";
    case CD_OBJ_AMUTEX: return "awaitable mutex";
    case CD_OBJ_COND: return "condition variable";
    case CD_OBJ_SEM: return "semaphore";
    case CD_OBJ_ONESHOT: return "oneshot";
    case CD_OBJ_BCAST: return "broadcast channel";
    case CD_OBJ_BSUB: return "subscriber";
    case CD_OBJ_CONN: return "connection";
    case CD_OBJ_SCOPE: return "task scope";
    default: return "object";
    }
}
