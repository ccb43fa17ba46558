/*
 * agent.c - inside the watched program: its threads and primitives as
 * registry records, return addresses as sites, libconc's watchdog on them,
 * and what it finds written to `concdemo watch` (see watch.h).
 *
 * The findings go to the file descriptor named by CONCDEMO_WATCH_FD as
 * lines of tab-separated fields that concdemo watch reads (cli/watch.c);
 * addresses travel as module + address, and concdemo watch turns them into
 * names and source lines from the program's files. Without the variable
 * (the library preloaded by hand) they go to stderr as they are.
 *
 *   M idx base path        a module (the executable, a library)
 *   T id start             a thread and its start function (a location)
 *   O id kind addr         an object and where it lives (a location)
 *   deadlock / L thread holds waits held_at waits_at / .
 *   stuck / W thread state obj kind owner joins waits_at / X obj thread at / .
 *   order first second thread held_at taken_at bthread bheld_at btaken_at
 *   misuse what thread obj other at
 *   timeout
 *   summary threads objects top_obj top_contended top_wait_ns hold_obj hold_ns
 * A location is "module-index:address" ("-:address" outside any module,
 * "-:(nil)" when unknown).
 */
#define _GNU_SOURCE /* dladdr */
#include "watch.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../lib/cd_detect.h"
#include "../lib/cd_op.h"
#include "../lib/cd_registry.h"

#define OBJ_SLOTS 8192  /* addresses -> object ids; 1024 objects at most */
#define PC_MAX 8192     /* distinct call sites */
#define THREAD_SLOTS 2048
#define MOD_MAX 64
#define SCAN_MS 100

/* The "file" of every site the agent makes: its line is an index into
 * pcs[], not a line number. */
static const char site_mark[] = "<pc>";

static struct {
    atomic_int on;        /* the registry is set up and the watchdog runs */
    atomic_int untracked; /* some thread got no record (the table is full) */
    atomic_int created;   /* threads the program created, watched or not */
    int fd;               /* where findings go */
    int to_parent;        /* fd is concdemo watch's, not stderr */
    cd_watch_page_t *page; /* the live view's, or NULL */
    cd_snapshot_t *snap;   /* where a frame is taken before it is copied */
    int frame_ms;
    cd_watchdog_t *dog;
    pthread_t monitor;
    atomic_flag lock;     /* guards inserts into the tables below */
    /* addresses of primitives -> registry object ids */
    _Atomic(const void *) obj_addr[OBJ_SLOTS];
    atomic_int obj_id[OBJ_SLOTS];
    const void *addr_of[CD_MAX_OBJECTS + 1];
    /* call sites */
    _Atomic(const void *) pc_key[PC_MAX * 2];
    atomic_int pc_idx[PC_MAX * 2];
    const void *pcs[PC_MAX];
    atomic_int npcs;
    /* threads */
    _Atomic(void *) start_of[CD_MAX_THREADS + 1];
    _Atomic(const void *) wait_pc[CD_MAX_THREADS + 1];
    _Atomic unsigned long thread_key[THREAD_SLOTS]; /* pthread_t + 1 */
    atomic_int thread_id[THREAD_SLOTS];
    /* condition variables, by object id */
    atomic_int cond_waiters[CD_MAX_OBJECTS + 1];
    atomic_int cond_mutex[CD_MAX_OBJECTS + 1];
    atomic_flag cond_lock[CD_MAX_OBJECTS + 1];
    /* figures */
    _Atomic int64_t wait_ns[CD_MAX_OBJECTS + 1];
    _Atomic int64_t hold_since[CD_MAX_OBJECTS + 1];
    _Atomic int64_t hold_max[CD_MAX_OBJECTS + 1]; /* in ticks() */
    int64_t tick0, ns0;   /* both clocks when the agent started */
    /* modules named so far in this finding */
    const void *mod_base[MOD_MAX];
    int nmods;
} A;

static void spin_lock(atomic_flag *f)
{
    while (atomic_flag_test_and_set_explicit(f, memory_order_acquire))
        ;
}

static void spin_unlock(atomic_flag *f)
{
    atomic_flag_clear_explicit(f, memory_order_release);
}

static size_t hash_ptr(const void *p, size_t slots)
{
    uintptr_t x = (uintptr_t)p;
    x ^= x >> 17;
    x *= 0x9e3779b97f4a7c15ull;
    return (size_t)(x >> 20) & (slots - 1);
}

static void name_thread(int id);
static void name_object(int id);

/* ================================ threads ================================ */

int cd__watch_self(void)
{
    if (!atomic_load_explicit(&A.on, memory_order_acquire))
        return 0;
    int self = cd__self();
    if (!self)
        atomic_store_explicit(&A.untracked, 1, memory_order_relaxed);
    return self;
}

int cd__watch_thread_new(void *(*fn)(void *))
{
    if (!atomic_load_explicit(&A.on, memory_order_acquire))
        return 0;
    atomic_fetch_add_explicit(&A.created, 1, memory_order_relaxed);
    int id = cd__reg_add_thread("thread");
    if (id <= 0) {
        atomic_store_explicit(&A.untracked, 1, memory_order_relaxed);
        return 0;
    }
    char name[CD_NAME_MAX];
    snprintf(name, sizeof name, "thread-%d", id);
    cd_name_copy(cd__rec(id)->name, name);
    atomic_store(&A.start_of[id], (void *)fn);
    if (A.page) { /* the live view names it as it comes */
        spin_lock(&A.lock);
        name_thread(id);
        spin_unlock(&A.lock);
    }
    return id;
}

void cd__watch_thread_started(int id, pthread_t self)
{
    cd__reg_bind_self(id);
    cd_thread_rec_t *t = cd__rec(id);
    cd__st(&t->since_ns, cd_reg_elapsed_ns());
    cd__st(&t->state, CD_T_RUNNING);
    cd__watch_thread_map(self, id);
}

void cd__watch_thread_map(pthread_t pt, int id)
{
    unsigned long key = (unsigned long)pt + 1;
    spin_lock(&A.lock);
    for (size_t i = hash_ptr((void *)key, THREAD_SLOTS), n = 0;
         n < THREAD_SLOTS; i = (i + 1) & (THREAD_SLOTS - 1), n++) {
        unsigned long k = atomic_load(&A.thread_key[i]);
        if (k == 0 || k == key) {
            atomic_store(&A.thread_id[i], id);
            atomic_store(&A.thread_key[i], key);
            break;
        }
    }
    spin_unlock(&A.lock);
}

void cd__watch_thread_ended(int id)
{
    if (id <= 0)
        return;
    cd_thread_rec_t *t = cd__rec(id);
    cd__st(&t->since_ns, cd_reg_elapsed_ns());
    cd__st(&t->state, CD_T_DONE);
}

int cd__watch_thread_of(pthread_t t)
{
    unsigned long key = (unsigned long)t + 1;
    for (size_t i = hash_ptr((void *)key, THREAD_SLOTS), n = 0;
         n < THREAD_SLOTS; i = (i + 1) & (THREAD_SLOTS - 1), n++) {
        unsigned long k = atomic_load(&A.thread_key[i]);
        if (k == key)
            return atomic_load(&A.thread_id[i]);
        if (k == 0)
            return 0;
    }
    return 0;
}

/* ================================ objects ================================ */

/* The slot of addr: its own, or the empty one where it would go. */
static size_t obj_slot(const void *addr)
{
    size_t i = hash_ptr(addr, OBJ_SLOTS);
    for (size_t n = 0; n < OBJ_SLOTS; n++, i = (i + 1) & (OBJ_SLOTS - 1)) {
        const void *a = atomic_load_explicit(&A.obj_addr[i],
                                             memory_order_acquire);
        if (a == addr || a == NULL)
            return i;
    }
    return OBJ_SLOTS;
}

static const char *kind_prefix(int kind)
{
    switch (kind) {
    case CD_OBJ_RWLOCK: return "rwlock";
    case CD_OBJ_COND: return "cond";
    case CD_OBJ_SEM: return "sem";
    default: return "mutex";
    }
}

int cd__watch_obj(const void *addr, int kind)
{
    size_t i = obj_slot(addr);
    if (i < OBJ_SLOTS && atomic_load_explicit(&A.obj_addr[i],
                                              memory_order_acquire) == addr)
        return atomic_load_explicit(&A.obj_id[i], memory_order_relaxed);
    spin_lock(&A.lock);
    i = obj_slot(addr); /* another thread may have made it meanwhile */
    int id = 0;
    if (i < OBJ_SLOTS && atomic_load(&A.obj_addr[i]) == addr) {
        id = atomic_load(&A.obj_id[i]);
    } else if (i < OBJ_SLOTS) {
        char name[CD_NAME_MAX];
        snprintf(name, sizeof name, "%s@%p", kind_prefix(kind), addr);
        id = cd__reg_add_object(name, kind, NULL, NULL);
        if (id > 0) {
            A.addr_of[id] = addr;
            atomic_store_explicit(&A.obj_id[i], id, memory_order_relaxed);
            atomic_store_explicit(&A.obj_addr[i], addr,
                                  memory_order_release);
            if (A.page)
                name_object(id);
        } else {
            id = 0;
        }
    }
    spin_unlock(&A.lock);
    return id;
}

void cd__watch_drop(const void *addr)
{
    size_t i = obj_slot(addr);
    if (i >= OBJ_SLOTS || atomic_load(&A.obj_addr[i]) != addr)
        return;
    int id = atomic_load(&A.obj_id[i]);
    /* The slot keeps its address (a probe sequence must not break) and
     * gets a fresh object on the next use: the old one is gone. */
    spin_lock(&A.lock);
    char name[CD_NAME_MAX];
    int kind = cd__ld(&cd__obj(id)->kind);
    snprintf(name, sizeof name, "%s@%p", kind_prefix(kind), addr);
    int fresh = cd__reg_add_object(name, kind, NULL, NULL);
    if (fresh > 0)
        A.addr_of[fresh] = addr;
    atomic_store(&A.obj_id[i], fresh > 0 ? fresh : 0);
    spin_unlock(&A.lock);
    cd__reg_remove_object(id);
}

/* ================================= sites ================================= */

cd_site_t cd__watch_site(const void *pc)
{
    size_t slots = PC_MAX * 2, i = hash_ptr(pc, slots);
    for (size_t n = 0; n < slots; n++, i = (i + 1) & (slots - 1)) {
        const void *k = atomic_load_explicit(&A.pc_key[i],
                                             memory_order_acquire);
        if (k == pc)
            return (cd_site_t){ site_mark,
                                atomic_load_explicit(&A.pc_idx[i],
                                                     memory_order_relaxed) };
        if (k == NULL)
            break;
    }
    spin_lock(&A.lock);
    int idx = -1;
    for (size_t n = 0; n < slots; n++, i = (i + 1) & (slots - 1)) {
        const void *k = atomic_load(&A.pc_key[i]);
        if (k == pc) {
            idx = atomic_load(&A.pc_idx[i]);
            break;
        }
        if (k == NULL && atomic_load(&A.npcs) < PC_MAX) {
            idx = atomic_fetch_add(&A.npcs, 1);
            A.pcs[idx] = pc;
            atomic_store_explicit(&A.pc_idx[i], idx, memory_order_relaxed);
            atomic_store_explicit(&A.pc_key[i], pc, memory_order_release);
            break;
        }
    }
    spin_unlock(&A.lock);
    return idx < 0 ? (cd_site_t){ 0 } : (cd_site_t){ site_mark, idx };
}

static const void *pc_of(cd_site_t s)
{
    if (s.file != site_mark || s.line < 0 || s.line >= atomic_load(&A.npcs))
        return NULL;
    return A.pcs[s.line];
}

void cd__watch_waits_at(int self, const void *pc)
{
    atomic_store_explicit(&A.wait_pc[self], pc, memory_order_relaxed);
}

/* ============================ condition variables ======================== */

int cd__watch_cond_wait_begin(int cond, int mutex)
{
    int before = 0;
    atomic_compare_exchange_strong(&A.cond_mutex[cond], &before, mutex);
    atomic_fetch_add(&A.cond_waiters[cond], 1);
    return before;
}

void cd__watch_cond_wait_end(int cond)
{
    cd_obj_rec_t *o = cd__obj(cond);
    spin_lock(&A.cond_lock[cond]);
    atomic_fetch_sub(&A.cond_waiters[cond], 1);
    int pending = cd__ld(&o->cond_pending);
    if (pending > 0)
        cd__st(&o->cond_pending, pending - 1);
    spin_unlock(&A.cond_lock[cond]);
}

void cd__watch_cond_signal(int self, int cond, int all, const void *pc)
{
    cd_obj_rec_t *o = cd__obj(cond);
    spin_lock(&A.cond_lock[cond]);
    int waiters = atomic_load(&A.cond_waiters[cond]);
    int pending = cd__ld(&o->cond_pending);
    if (waiters > pending) {
        cd__st(&o->cond_pending, all ? waiters : pending + 1);
    } else {
        /* Nobody waits who is not already woken: a wake-up nobody hears,
         * kept for the stuck report (a lost wake-up). */
        cd_site_t s = cd__watch_site(pc);
        cd__st(&o->cond_unheard, cd__ld(&o->cond_unheard) + 1);
        cd__st(&o->cond_unheard_thread, self);
        cd__st(&o->cond_unheard_file, s.file);
        cd__st(&o->cond_unheard_line, s.line);
        cd__st(&o->cond_unheard_ns, cd_reg_elapsed_ns());
        cd__st(&o->cond_unheard_all, all);
    }
    if (all)
        cd__st(&o->cond_broadcasts, cd__ld(&o->cond_broadcasts) + 1);
    else
        cd__st(&o->cond_signals, cd__ld(&o->cond_signals) + 1);
    spin_unlock(&A.cond_lock[cond]);
}

/* ================================ figures ================================ */

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Holds are timed on every lock, so in ticks of the cheapest clock there
 * is: the time-stamp counter where there is one (a few ns, where
 * clock_gettime costs tens), turned into ns by comparing both clocks
 * over the whole run when the summary is made. */
static int64_t ticks(void)
{
#if defined(__x86_64__) || defined(__i386__)
    return (int64_t)__builtin_ia32_rdtsc();
#else
    return mono_ns();
#endif
}

static int64_t ticks_to_ns(int64_t t)
{
    int64_t dt = ticks() - A.tick0, dns = mono_ns() - A.ns0;
    return dt > 0 ? (int64_t)((double)t * (double)dns / (double)dt) : t;
}

void cd__watch_waited(int obj, int64_t ns)
{
    atomic_fetch_add_explicit(&A.wait_ns[obj], ns, memory_order_relaxed);
}

void cd__watch_hold_begin(int obj)
{
    atomic_store_explicit(&A.hold_since[obj], ticks(), memory_order_relaxed);
}

void cd__watch_hold_end(int obj)
{
    int64_t since = atomic_load_explicit(&A.hold_since[obj],
                                         memory_order_relaxed);
    if (since <= 0)
        return;
    int64_t held = ticks() - since;
    if (held > atomic_load_explicit(&A.hold_max[obj], memory_order_relaxed))
        atomic_store_explicit(&A.hold_max[obj], held, memory_order_relaxed);
}

/* =============================== reporting =============================== */

static void out(const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n <= 0)
        return;
    if ((size_t)n >= sizeof buf)
        n = sizeof buf - 1;
    for (ssize_t off = 0; off < n;) {
        ssize_t w = write(A.fd, buf + off, (size_t)(n - off));
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;
        off += w;
    }
}

/* "module:address" for p, naming the module on its first use. */
static const char *loc(const void *p, char *buf, size_t size)
{
    Dl_info info;
    if (!p || !dladdr(p, &info) || !info.dli_fname) {
        snprintf(buf, size, "-:%p", p); /* the heap, a stack: no module */
        return buf;
    }
    int m = 0;
    while (m < A.nmods && A.mod_base[m] != info.dli_fbase)
        m++;
    if (m == A.nmods && A.nmods < MOD_MAX) {
        A.mod_base[A.nmods++] = info.dli_fbase;
        char exe[4096];
        const char *path = info.dli_fname;
        /* The executable's own name is "" in the link map. */
        if (!path[0]) {
            ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
            exe[n > 0 ? n : 0] = '\0';
            path = exe;
        }
        out("M\t%d\t%p\t%s\n", m, info.dli_fbase, path);
    }
    snprintf(buf, size, "%d:%p", m < MOD_MAX ? m : 0, p);
    return buf;
}

static void name_thread(int id)
{
    char b[64];
    if (id > 0 && id <= CD_MAX_THREADS)
        out("T\t%d\t%s\n", id,
            loc(atomic_load(&A.start_of[id]), b, sizeof b));
}

static void name_object(int id)
{
    char b[64];
    if (id > 0 && id <= CD_MAX_OBJECTS)
        out("O\t%d\t%d\t%s\n", id, cd__ld(&cd__obj(id)->kind),
            loc(A.addr_of[id], b, sizeof b));
}

static const void *held_at(int obj)
{
    cd_obj_rec_t *o = cd__obj(obj);
    return pc_of((cd_site_t){ cd__ld(&o->site_file), cd__ld(&o->site_line) });
}

static void report_deadlock(void)
{
    cd_cycle_t c;
    char b1[64], b2[64];
    if (!cd_reg_deadlock(&c))
        return;
    for (int k = 0; k < c.len; k++) {
        name_thread(c.link[k].thread);
        name_object(c.link[k].holds);
        name_object(c.link[k].waits);
    }
    out("deadlock\n");
    for (int k = 0; k < c.len; k++)
        out("L\t%d\t%d\t%d\t%s\t%s\n", c.link[k].thread, c.link[k].holds,
            c.link[k].waits, loc(held_at(c.link[k].holds), b1, sizeof b1),
            loc(atomic_load(&A.wait_pc[c.link[k].thread]), b2, sizeof b2));
    out(".\n");
}

static void report_stuck(void)
{
    cd_stuck_t st;
    char b1[64];
    if (!cd_reg_stuck(&st))
        return;
    for (int k = 0; k < st.len; k++) {
        name_thread(st.wait[k].thread);
        name_thread(st.wait[k].joins);
        name_object(st.wait[k].obj);
    }
    out("stuck\n");
    for (int k = 0; k < st.len; k++) {
        const cd_stuck_wait_t *w = &st.wait[k];
        out("W\t%d\t%d\t%d\t%d\t%d\t%d\t%s\n", w->thread, w->state, w->obj,
            w->kind, w->owner, w->joins,
            loc(atomic_load(&A.wait_pc[w->thread]), b1, sizeof b1));
    }
    /* A condition variable waited on that was signalled before anyone
     * waited: the lost wake-up, with who sent it and where. */
    for (int k = 0; k < st.len; k++) {
        int obj = st.wait[k].obj;
        if (st.wait[k].kind != CD_OBJ_COND || !obj)
            continue;
        cd_obj_rec_t *o = cd__obj(obj);
        if (cd__ld(&o->cond_unheard) == 0)
            continue;
        int who = cd__ld(&o->cond_unheard_thread);
        name_thread(who);
        const void *pc = pc_of((cd_site_t){ cd__ld(&o->cond_unheard_file),
                                            cd__ld(&o->cond_unheard_line) });
        out("X\t%d\t%d\t%s\n", obj, who, loc(pc, b1, sizeof b1));
    }
    out(".\n");
}

static void report_order(void)
{
    cd_inversion_t inv[8];
    char b[4][64];
    int n = cd_reg_inversions(inv, 8);
    for (int i = 0; i < n; i++) {
        name_thread(inv[i].thread);
        name_thread(inv[i].back_thread);
        name_object(inv[i].first);
        name_object(inv[i].second);
        out("order\t%d\t%d\t%d\t%s\t%s\t%d\t%s\t%s\n", inv[i].first,
            inv[i].second, inv[i].thread, loc(pc_of(inv[i].held_at), b[0], 64),
            loc(pc_of(inv[i].taken_at), b[1], 64), inv[i].back_thread,
            loc(pc_of(inv[i].back_held_at), b[2], 64),
            loc(pc_of(inv[i].back_taken_at), b[3], 64));
    }
}

void cd__watch_misuse(int self, int what, int obj, int other, const void *pc)
{
    char b[64];
    /* An owner the table could not record would look like none. */
    if (atomic_load(&A.untracked) && what != CD_WATCH_TWO_MUTEXES)
        return;
    spin_lock(&A.lock);
    name_thread(self);
    name_object(obj);
    name_object(other);
    out("misuse\t%d\t%d\t%d\t%d\t%s\n", what, self, obj, other,
        loc(pc, b, sizeof b));
    spin_unlock(&A.lock);
}

static void report_summary(void)
{
    int nt = 0, no = 0, top = 0, hold = 0;
    cd_snapshot_t *s = malloc(sizeof *s);
    if (!s)
        return;
    cd_reg_snapshot(s);
    nt = 1 + atomic_load(&A.created); /* main and the ones it made */
    for (int i = 0; i < s->nobjs; i++) {
        const cd_obj_info_t *o = &s->objs[i];
        if (o->kind != CD_OBJ_MUTEX && o->kind != CD_OBJ_RWLOCK)
            continue;
        no++;
        if (!top || atomic_load(&A.wait_ns[o->id]) >
                        atomic_load(&A.wait_ns[top]))
            top = o->id;
        if (!hold || atomic_load(&A.hold_max[o->id]) >
                         atomic_load(&A.hold_max[hold]))
            hold = o->id;
    }
    if (top)
        name_object(top);
    if (hold)
        name_object(hold);
    out("summary\t%d\t%d\t%d\t%llu\t%lld\t%d\t%lld\n", nt, no, top,
        top ? (unsigned long long)cd__ld(&cd__obj(top)->contended) : 0ull,
        top ? (long long)atomic_load(&A.wait_ns[top]) : 0ll, hold,
        hold ? (long long)ticks_to_ns(atomic_load(&A.hold_max[hold])) : 0ll);
    free(s);
}

/* ============================== the monitor ============================== */

/* One frame for the live view: the snapshot, taken aside and copied in
 * under the page's sequence number, so that the reader never waits. */
static void publish(void)
{
    cd_watch_page_t *p = A.page;
    cd_reg_snapshot(A.snap);
    atomic_fetch_add_explicit(&p->seq, 1, memory_order_acq_rel);
    p->has_cycle = cd_reg_deadlock(&p->cycle);
    p->has_stuck = !p->has_cycle && cd_reg_stuck(&p->stuck);
    memcpy(&p->snap, A.snap, sizeof *A.snap);
    atomic_fetch_add_explicit(&p->seq, 1, memory_order_release);
}

/* Waits for the watchdog's finding, reports it, and then holds the
 * program still: concdemo watch ends it (alone, the agent does). With the
 * live view, a frame every frame_ms meanwhile. */
static void *monitor_main(void *arg)
{
    (void)arg;
    for (;;) {
        struct timespec ts = { 0, (long)A.frame_ms * 1000 * 1000 };
        nanosleep(&ts, NULL);
        if (A.page)
            publish();
        int why = cd_reg_aborted();
        if (!why)
            continue;
        spin_lock(&A.lock);
        if (why == CD_ABORT_DEADLOCK)
            report_deadlock();
        else if (why == CD_ABORT_STUCK)
            report_stuck();
        else
            out("timeout\n");
        out("end\n");
        spin_unlock(&A.lock);
        if (!A.to_parent)
            _exit(1);
        for (;;) {
            if (A.page)
                publish(); /* the last state stays on the screen */
            pause();
        }
    }
    return NULL;
}

static void at_exit(void)
{
    if (!atomic_exchange(&A.on, 0))
        return;
    spin_lock(&A.lock);
    report_order();
    report_summary();
    out("exit\n");
    spin_unlock(&A.lock);
}

__attribute__((constructor(102))) static void agent_start(void)
{
    const char *fd = getenv("CONCDEMO_WATCH_FD");
    const char *shm = getenv("CONCDEMO_WATCH_SHM");
    A.frame_ms = 20;
    if (shm && *shm) {
        void *p = mmap(NULL, sizeof *A.page, PROT_READ | PROT_WRITE,
                       MAP_SHARED, atoi(shm), 0);
        A.snap = malloc(sizeof *A.snap);
        if (p != MAP_FAILED && A.snap) {
            A.page = p;
            A.frame_ms = 40;
        }
    }
    const char *limit = getenv("CONCDEMO_WATCH_TIMEOUT_MS");
    A.fd = 2;
    if (fd && *fd) {
        A.fd = atoi(fd);
        A.to_parent = 1;
    }
    /* Programs this program starts are not watched: the variables go. */
    unsetenv("LD_PRELOAD");
    unsetenv("CONCDEMO_WATCH_FD");
    unsetenv("CONCDEMO_WATCH_SHM");
    cd_reg_reset();
    cd_reg_set_trace(0);
    A.tick0 = ticks();
    A.ns0 = mono_ns();
    if (cd_watchdog_start(&A.dog, limit ? atoi(limit) : 0, SCAN_MS, 0,
                          NULL) != 0)
        return; /* unwatched, but the program runs */
    if (cd__real_pthread_create(&A.monitor, NULL, monitor_main, NULL) != 0)
        return;
    atexit(at_exit);
    atomic_store_explicit(&A.on, 1, memory_order_release);
}
