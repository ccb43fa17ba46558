/*
 * cd_keytab.c - the per-key lock table.
 *
 * Keys hash onto shards; a shard's pthread mutex guards its buckets and
 * every entry in them (holder, queue, reference count). It is held only
 * for the table's own bookkeeping, never across a wait or a scheduling
 * point: a waiting thread waits on its own condition variable with the
 * shard's mutex as the wait's lock (cd__op_wait lets go of it), a waiting
 * task parks after letting go of it.
 *
 * An entry lives while refs > 0: refs counts the callers between their
 * lookup and their leaving (the holder, every waiter, a trylock that is
 * looking). The last to leave frees it, and gives its registry record
 * back to the table's pool for the next new key.
 *
 * Lock order: shard lock, then the table's record lock (a new record);
 * then the registry's
 * find_lock (forgetting a key's lock order) or the executor's lock (a
 * task's wake, done under the shard lock as cd_amutex does, so that an
 * aborted waiter sees either "queued" or "granted", never half of it).
 */
#include "cd_keytab.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cd_op.h"
#include "cd_queue.h"

#define NSHARDS 16
/* The registry records one table may take: enough for every key of a
 * demo to be seen; past it keys go untracked rather than fill the
 * registry, which other primitives of the run need too. */
#define RECORDS_MIN 64
#define RECORDS_MAX 256

enum { W_WAITING, W_GRANTED, W_CANCELLED };

typedef struct waiter {
    cd_qnode_t node;      /* in the entry's queue */
    int who;              /* its registry id; 0: untracked */
    int state;            /* W_*, written under the shard lock */
    pthread_cond_t *cv;   /* a thread's own condition variable */
    cd_task_t *task;      /* a task */
} waiter_t;

typedef struct entry {
    struct entry *next;   /* in its bucket */
    cd_keytab_t *tab;
    unsigned long key;
    int id;               /* registry record; 0: untracked */
    int held, holder;     /* holder: its id (0 for an untracked one) */
    int strategy;         /* of the current hold */
    int refs;             /* see the top of the file */
    int nqueued;
    cd_queue_t queue;
} entry_t;

/* A shard's figures and its pool of records are its own, under its lock:
 * the uncontended lock and unlock touch no lock or counter shared with
 * other keys. */
typedef struct shard {
    pthread_mutex_t lk;
    entry_t **bucket;
    unsigned mask;        /* buckets - 1 */
    int *pool, npool;     /* records of freed keys, ready for new ones */
    long live, bytes;     /* its live keys, and what their entries take */
} shard_t;

struct cd_keytab {
    char prefix[CD_NAME_MAX];
    int tasks, strategy;
    shard_t shard[NSHARDS];
    pthread_mutex_t rec_lk;  /* guards the fields below */
    int *records, nrecords, maxrecords; /* every record taken */
    _Atomic long untracked;
};

static void release_hold(void *impl);

/* ================================ the hash =============================== */

static unsigned long mix(unsigned long key)
{
    uint64_t h = (uint64_t)key * 0x9e3779b97f4a7c15ull;
    return (unsigned long)(h ^ (h >> 29));
}

static shard_t *shard_of(cd_keytab_t *t, unsigned long key)
{
    return &t->shard[mix(key) % NSHARDS];
}

static entry_t **slot_of(shard_t *s, unsigned long key)
{
    return &s->bucket[(mix(key) / NSHARDS) & s->mask];
}

/* Caller holds s->lk. */
static entry_t *find(shard_t *s, unsigned long key)
{
    for (entry_t *e = *slot_of(s, key); e; e = e->next)
        if (e->key == key)
            return e;
    return NULL;
}

/* ============================ registry records =========================== */

/* The first waiters' ids into the record, in queue order. Caller holds
 * the shard lock. */
static void publish_queue(const entry_t *e)
{
    if (!e->id)
        return;
    cd_obj_rec_t *o = cd__obj(e->id);
    const cd_qnode_t *n = cd_queue_front(&e->queue);
    for (int i = 0; i < CD_KEY_QUEUE_SHOWN; i++) {
        const waiter_t *w = CD_QUEUE_ENTRY((cd_qnode_t *)n, waiter_t, node);
        cd__st(&o->key_queue[i], w ? w->who : 0);
        n = n ? n->next : NULL;
    }
}

/* A record for the new entry e: a freed key's from the shard's pool, a
 * new one while the table may take more, or none (0). Caller holds
 * s->lk (then t->rec_lk, for a new one). */
static int record_take(cd_keytab_t *t, shard_t *s, entry_t *e)
{
    int id = 0, fresh = 0;

    if (s->npool > 0) {
        id = s->pool[--s->npool];
    } else {
        CD_CHECK(pthread_mutex_lock(&t->rec_lk));
        if (t->nrecords < t->maxrecords) {
            id = cd__reg_add_object(t->prefix,
                                    t->tasks ? CD_OBJ_AKEY : CD_OBJ_KEY, e,
                                    release_hold);
            if (id > 0) {
                t->records[t->nrecords++] = id;
                fresh = 1;
            } else {
                id = 0;
            }
        }
        CD_CHECK(pthread_mutex_unlock(&t->rec_lk));
    }
    if (!id) {
        atomic_fetch_add(&t->untracked, 1);
        return 0;
    }
    cd_obj_rec_t *o = cd__obj(id);
    /* Read by this key's holder only, which took the key under s->lk
     * (or, for the previous key of a pooled record, gave it back under
     * it). */
    o->impl = e;
    cd__st(&o->key, (uint64_t)e->key);
    if (!fresh) {
        cd__st(&o->acquisitions, 0);
        cd__st(&o->contended, 0);
        cd__st(&o->site_file, NULL);
        cd__st(&o->site_line, 0);
        cd__st(&o->live, 1);
    }
    return id;
}

/* The freed key's record goes to the shard's pool: hidden from the live
 * view, its lock order forgotten. Caller holds s->lk. */
static void record_give_back(shard_t *s, int id)
{
    if (!id)
        return;
    cd_obj_rec_t *o = cd__obj(id);
    cd__st(&o->live, 0);
    cd__st(&o->owner, 0);
    cd__lockorder_forget(id);
    s->pool[s->npool++] = id;
}

/* ================================ entries ================================ */

/* The entry of key with one more reference, made if need be; NULL when
 * out of memory. Caller holds s->lk. */
static entry_t *pin(cd_keytab_t *t, shard_t *s, unsigned long key)
{
    entry_t *e = find(s, key);
    if (!e) {
        e = calloc(1, sizeof *e);
        if (!e)
            return NULL;
        e->tab = t;
        e->key = key;
        cd_queue_init(&e->queue);
        entry_t **b = slot_of(s, key);
        e->next = *b;
        *b = e;
        s->live++;
        s->bytes += (long)sizeof *e;
        e->id = record_take(t, s, e);
    }
    e->refs++;
    return e;
}

/* Drops one reference; the last frees the entry. Caller holds s->lk. */
static void unpin(shard_t *s, entry_t *e)
{
    if (--e->refs > 0)
        return;
    entry_t **p = slot_of(s, e->key);
    while (*p != e)
        p = &(*p)->next;
    *p = e->next;
    record_give_back(s, e->id);
    s->live--;
    s->bytes -= (long)sizeof *e;
    free(e);
}

static void take(entry_t *e, int self, int strategy)
{
    e->held = 1;
    e->holder = self;
    e->strategy = strategy == CD_KEY_DEFAULT ? e->tab->strategy : strategy;
}

/* Wakes w, whose state the caller just set. Caller holds the shard lock. */
static void wake(waiter_t *w)
{
    if (w->task)
        cd__task_wake(w->task);
    else
        CD_CHECK(pthread_cond_signal(w->cv));
}

/* The holder lets go: the first waiter gets the key (under CD_KEY_STOP
 * after a failure, every waiter is told instead). The holder's reference
 * goes. Caller holds s->lk. */
static void pass_on(shard_t *s, entry_t *e, int failed)
{
    int stop = failed && e->strategy == CD_KEY_STOP;
    waiter_t *w;

    e->held = 0;
    e->holder = 0;
    while ((w = CD_QUEUE_ENTRY(cd_queue_pop(&e->queue), waiter_t, node))) {
        e->nqueued--;
        if (!stop) {
            /* The hold passes with the waiter's own strategy: it was
             * chosen when it asked (kept in e->strategy by take). */
            take(e, w->who, CD_KEY_DEFAULT);
            w->state = W_GRANTED;
            wake(w);
            break;
        }
        w->state = W_CANCELLED;
        wake(w);
    }
    publish_queue(e);
    unpin(s, e);
}

/* ================================= waiting =============================== */

/* For cd__op_wait (and the controlled scheduler): the wait is over. */
static int decided(void *arg)
{
    return ((const waiter_t *)arg)->state != W_WAITING;
}

/* A thread waits, its own condition variable signalled by the unlock.
 * Caller holds s->lk; so does the return. */
static int wait_thread(shard_t *s, entry_t *e, waiter_t *w, int self,
                       cd_site_t site)
{
    pthread_condattr_t ca;
    pthread_cond_t cv;

    CD_CHECK(pthread_condattr_init(&ca));
    CD_CHECK(pthread_condattr_setclock(&ca, CLOCK_MONOTONIC));
    CD_CHECK(pthread_cond_init(&cv, &ca));
    CD_CHECK(pthread_condattr_destroy(&ca));
    w->cv = &cv;
    cd__wait_t wt = { .ready = decided, .arg = w, .cond = &cv,
                      .lock = &s->lk, .site = site };
    int rc = cd__op_wait(self, e->id, &wt);
    /* Nobody signals cv any more: the waiter is out of the queue (granted,
     * cancelled) or takes itself out below, all under s->lk. */
    CD_CHECK(pthread_cond_destroy(&cv));
    return rc;
}

/* A task parks; the unlock makes it ready. Caller holds s->lk; so does
 * the return. */
static int wait_task(shard_t *s, entry_t *e, waiter_t *w, cd_task_t *task,
                     int self, cd_site_t site)
{
    w->task = task;
    return cd__task_park_locked(task, self, e->id, &s->lk, site);
}

/* The run's abort ended the wait of w. Caller holds s->lk. Returns 1 when
 * the key was handed over meanwhile and is kept (keep: the caller will be
 * ended, and the abort releases what it holds through the registry, which
 * needs the key's record); 0 when the waiter is out. */
static int leave_aborted(shard_t *s, entry_t *e, waiter_t *w,
                         int keep)
{
    if (w->state == W_WAITING) {
        cd_queue_remove(&e->queue, &w->node);
        e->nqueued--;
        publish_queue(e);
    } else if (w->state == W_GRANTED) {
        if (keep && e->id && w->who)
            return 1;
        pass_on(s, e, 0); /* drops the reference with the hold */
        return 0;
    }
    unpin(s, e);
    return 0;
}

/* ================================ the table ============================== */

int cd_keytab_create(cd_keytab_t **out, const char *prefix, int tasks,
                     int hint, cd_key_strategy_t strategy)
{
    *out = NULL;
    if (hint < 1 || (strategy != CD_KEY_CONTINUE && strategy != CD_KEY_STOP))
        return -EINVAL;
    cd_keytab_t *t = calloc(1, sizeof *t);
    if (!t)
        return -ENOMEM;
    unsigned per = 4;
    while (per * NSHARDS < (unsigned)hint * 2 && per < 4096)
        per *= 2;
    t->maxrecords = hint * 2 < RECORDS_MIN   ? RECORDS_MIN
                    : hint * 2 > RECORDS_MAX ? RECORDS_MAX
                                             : hint * 2;
    t->records = calloc((size_t)t->maxrecords, sizeof *t->records);
    int ok = t->records != NULL;
    for (int i = 0; i < NSHARDS && ok; i++) {
        shard_t *s = &t->shard[i];
        /* A pool can hold every record the table takes: they may all be
         * freed by keys of one shard. */
        s->pool = calloc((size_t)t->maxrecords, sizeof *s->pool);
        s->bucket = calloc(per, sizeof *s->bucket);
        s->mask = per - 1;
        ok = s->pool && s->bucket;
    }
    if (!ok) {
        for (int i = 0; i < NSHARDS; i++) {
            free(t->shard[i].bucket);
            free(t->shard[i].pool);
        }
        free(t->records);
        free(t);
        return -ENOMEM;
    }
    for (int i = 0; i < NSHARDS; i++)
        CD_CHECK(pthread_mutex_init(&t->shard[i].lk, NULL));
    CD_CHECK(pthread_mutex_init(&t->rec_lk, NULL));
    cd_name_copy(t->prefix, prefix ? prefix : "key");
    t->tasks = tasks;
    t->strategy = strategy;
    *out = t;
    return 0;
}

void cd_keytab_free(cd_keytab_t *t)
{
    if (!t)
        return;
    for (int i = 0; i < NSHARDS; i++) {
        shard_t *s = &t->shard[i];
        /* Entries left are a caller's bug (a key still held); free them
         * all the same, so that the table leaks nothing. */
        for (unsigned b = 0; b <= s->mask; b++)
            while (s->bucket[b]) {
                entry_t *e = s->bucket[b];
                s->bucket[b] = e->next;
                free(e);
            }
        free(s->bucket);
        free(s->pool);
        CD_CHECK(pthread_mutex_destroy(&s->lk));
    }
    for (int i = 0; i < t->nrecords; i++) {
        cd__lockorder_forget(t->records[i]);
        cd__reg_remove_object(t->records[i]);
    }
    CD_CHECK(pthread_mutex_destroy(&t->rec_lk));
    free(t->records);
    free(t);
}

/* What queue_and_wait returns besides 0 and -ECANCELED (the run's
 * abort ended the wait, the waiter is out). */
#define KEPT 1    /* aborted, but the key was handed over: kept */
#define STOPPED 2 /* the holder before failed under CD_KEY_STOP */

/* The wait of a lock that found key taken. Caller holds s->lk, which is
 * held on return. Returns 0 (granted), KEPT, STOPPED or -ECANCELED. */
static int queue_and_wait(shard_t *s, entry_t *e, int self,
                          cd_task_t *task, int strategy, cd_site_t site)
{
    waiter_t w = { .who = self };

    cd_queue_push(&e->queue, &w.node);
    e->nqueued++;
    publish_queue(e);
    int rc = task ? wait_task(s, e, &w, task, self, site)
                  : wait_thread(s, e, &w, self, site);
    if (rc == 0 && w.state == W_GRANTED) {
        /* pass_on gave the hold the table's strategy: ours, if chosen. */
        if (strategy != CD_KEY_DEFAULT)
            e->strategy = strategy;
        return 0;
    }
    if (rc == 0) { /* cancelled: the holder before failed */
        unpin(s, e);
        return STOPPED;
    }
    /* A task, or a thread cd_thread started, is ended by the abort. */
    if (leave_aborted(s, e, &w, task || cd__self_is_spawned()))
        return KEPT;
    return -ECANCELED;
}

/* The quiet case of a lock (no trace, pause or controlled scheduler, and
 * no other lock held, so no lock-order edge to learn): then
 * cd__op_begin would only record, so the lookup and the take share one
 * turn of the shard lock. Returns 0 (taken), or 1 with e pinned and the
 * lock to be waited for; -ENOMEM. */
static int lock_quiet(cd_keytab_t *t, shard_t *s, unsigned long key,
                      int self, cd_key_strategy_t strategy, int try,
                      entry_t **out, cd_site_t site)
{
    CD_CHECK(pthread_mutex_lock(&s->lk));
    entry_t *e = pin(t, s, key);
    if (!e) {
        CD_CHECK(pthread_mutex_unlock(&s->lk));
        return -ENOMEM;
    }
    int obj = e->id;
    cd__op_record(self, try ? CD_OP_TRYLOCK : CD_OP_LOCK, obj);
    if (!e->held && e->nqueued == 0) {
        take(e, self, strategy);
        CD_CHECK(pthread_mutex_unlock(&s->lk));
        if (obj)
            cd__op_acquired(self, obj, site);
        return 0;
    }
    CD_CHECK(pthread_mutex_unlock(&s->lk));
    *out = e;
    return 1;
}

int cd_keytab_lock_at(cd_keytab_t *t, unsigned long key,
                      cd_key_strategy_t strategy, int try, cd_site_t site)
{
    cd_task_t *task = NULL;
    if (t->tasks && !try && !(task = cd__task_current()))
        cd__check_failed("cd_akeyed_lock outside a task", EPERM, site.file,
                         site.line);
    int self = cd__self();
    shard_t *s = shard_of(t, key);
    entry_t *e = NULL;

    if (self && cd__op_quiet() && cd__ld(&cd__rec(self)->nheld) == 0) {
        int rc = lock_quiet(t, s, key, self, strategy, try, &e, site);
        if (rc <= 0)
            return rc;
    } else {
        CD_CHECK(pthread_mutex_lock(&s->lk));
        e = pin(t, s, key);
        CD_CHECK(pthread_mutex_unlock(&s->lk));
        if (!e)
            return -ENOMEM;
        /* The decision point and the lock order, with no table lock
         * held. */
        if (self) {
            cd__op_begin(self, try ? CD_OP_TRYLOCK : CD_OP_LOCK, e->id,
                         (int64_t)key, NULL, site);
            if (e->id && !try)
                cd__op_order(self, e->id, site);
        }
    }
    int obj = e->id; /* fixed while pinned */
    CD_CHECK(pthread_mutex_lock(&s->lk));
    int rc = 0;
    if (!e->held && e->nqueued == 0) {
        take(e, self, strategy);
    } else if (try) {
        unpin(s, e);
        rc = -EBUSY;
    } else {
        rc = queue_and_wait(s, e, self, task, strategy, site);
    }
    CD_CHECK(pthread_mutex_unlock(&s->lk));
    if (rc == -EBUSY && self && obj)
        cd__op_note(self, CD_OP_BUSY, obj, 0, site);
    if ((rc == 0 || rc == KEPT) && self && obj)
        cd__op_acquired(self, obj, site);
    if (rc == KEPT) /* aborted with the key handed over: the abort releases it */
        cd__op_abort_self(self);
    if (rc == STOPPED)
        return -ECANCELED;
    if (rc == -ECANCELED && task)
        cd__op_abort_self(self);
    return cd__op_end_if_aborted(self, rc);
}

/* Lets go of e, held by the caller self. */
static void unlock_entry(cd_keytab_t *t, entry_t *e, int self, int failed,
                         cd_site_t site)
{
    shard_t *s = shard_of(t, e->key);
    int obj = e->id;

    if (self) {
        cd__op_begin(self, CD_OP_UNLOCK, obj, (int64_t)e->key, NULL, site);
        if (obj)
            cd__op_released(self, obj);
    }
    CD_CHECK(pthread_mutex_lock(&s->lk));
    pass_on(s, e, failed);
    CD_CHECK(pthread_mutex_unlock(&s->lk));
}

int cd_keytab_unlock_at(cd_keytab_t *t, unsigned long key, int failed,
                        cd_site_t site)
{
    int self = cd__self();
    shard_t *s = shard_of(t, key);

    CD_CHECK(pthread_mutex_lock(&s->lk));
    entry_t *e = find(s, key);
    if (!e || !e->held || e->holder != self) {
        CD_CHECK(pthread_mutex_unlock(&s->lk));
        return -EPERM;
    }
    if (self && cd__op_quiet()) {
        /* Quiet (see lock_quiet): the record and the hand-over in one
         * turn of the shard lock. */
        cd__op_record(self, CD_OP_UNLOCK, e->id);
        if (e->id)
            cd__op_released(self, e->id);
        pass_on(s, e, failed);
        CD_CHECK(pthread_mutex_unlock(&s->lk));
        return 0;
    }
    CD_CHECK(pthread_mutex_unlock(&s->lk));
    /* Held by us: nobody else frees it or changes its holder meanwhile. */
    unlock_entry(t, e, self, failed, site);
    return 0;
}

/* The run's abort undoes the hold of an ended holder (the record's
 * release function; impl is the entry). */
static void release_hold(void *impl)
{
    entry_t *e = impl;
    unlock_entry(e->tab, e, cd__self(), 0,
                 (cd_site_t){ __FILE__, __LINE__ });
}

void cd_keytab_stats(cd_keytab_t *t, cd_keytab_stats_t *out)
{
    out->live_keys = 0;
    out->bytes = 0;
    for (int i = 0; i < NSHARDS; i++) {
        shard_t *s = &t->shard[i];
        CD_CHECK(pthread_mutex_lock(&s->lk));
        out->live_keys += s->live;
        out->bytes += s->bytes;
        CD_CHECK(pthread_mutex_unlock(&s->lk));
    }
    out->untracked = atomic_load(&t->untracked);
    CD_CHECK(pthread_mutex_lock(&t->rec_lk));
    out->records = t->nrecords;
    CD_CHECK(pthread_mutex_unlock(&t->rec_lk));
}

int cd_keytab_waiters(cd_keytab_t *t, unsigned long key)
{
    shard_t *s = shard_of(t, key);

    CD_CHECK(pthread_mutex_lock(&s->lk));
    entry_t *e = find(s, key);
    int n = e ? e->nqueued : 0;
    CD_CHECK(pthread_mutex_unlock(&s->lk));
    return n;
}
