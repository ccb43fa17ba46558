/*
 * cd_waitfor.c - the wait-for graph: cycle search over a snapshot, the
 * stuck check, and how both read. Pure: it reads what it is given (and
 * names from the registry), starts nothing and stores nothing.
 */
#include "cd_waitfor.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "cd_trace.h" /* cd_op_t: which side of a channel a thread waits on */

static const cd_thread_info_t *thread_at(const cd_snapshot_t *s, int id)
{
    return (id > 0 && id <= s->nthreads) ? &s->threads[id - 1] : NULL;
}

static const cd_obj_info_t *obj_at(const cd_snapshot_t *s, int id)
{
    return (id > 0 && id <= s->nobjs) ? &s->objs[id - 1] : NULL;
}

/* A task that waits for nothing but its worker: it is ready, or parked on
 * a timer. A timer always fires, and then only the worker can run the task
 * on; whether it fired already makes no difference when the worker is held
 * by somebody who waits for this very task. */
static int wants_worker(const cd_thread_info_t *t)
{
    if (!t->worker)
        return 0;
    return t->state == CD_T_READY ||
           (t->state == CD_T_PARKED && t->waiting_on == 0);
}

/* The object t waits for: what it is blocked or parked on, or its worker
 * when it only waits to be run. 0 if none. */
static int waited_object(const cd_thread_info_t *t)
{
    if (wants_worker(t))
        return t->worker;
    return t->waiting_on;
}

/* The thread that `t` waits for, or 0 if t is not in an endless wait. A
 * thread blocked in a lock, or a task parked on an awaitable lock, waits
 * for the owner. A task that only waits for its worker waits endlessly
 * when the task occupying the worker is blocked: a blocked thread never
 * returns to its executor, so it cannot run anything else. */
static int waits_for(const cd_snapshot_t *s, const cd_thread_info_t *t)
{
    if (wants_worker(t)) {
        const cd_obj_info_t *w = obj_at(s, t->worker);
        const cd_thread_info_t *occupant = w ? thread_at(s, w->owner) : NULL;
        if (!occupant || occupant->id == t->id ||
            occupant->state != CD_T_BLOCKED)
            return 0;
        return occupant->id;
    }
    if ((t->state != CD_T_BLOCKED && t->state != CD_T_PARKED) ||
        t->wait_timed || !obj_at(s, t->waiting_on))
        return 0;
    return s->objs[t->waiting_on - 1].owner;
}

static void fill_cycle(const cd_snapshot_t *s, const int *path, int len,
                       cd_cycle_t *out)
{
    int start = 0;
    for (int i = 1; i < len; i++)
        if (path[i] < path[start])
            start = i;
    out->len = len < CD_MAX_CYCLE ? len : CD_MAX_CYCLE;
    for (int k = 0; k < out->len; k++) {
        int cur = path[(start + k) % len];
        int prev = path[(start + k + len - 1) % len];
        out->link[k] = (cd_cycle_link_t){
            .thread = cur,
            .holds = waited_object(thread_at(s, prev)),
            .waits = waited_object(thread_at(s, cur)),
        };
    }
}

int cd_waitfor_find_cycle(const cd_snapshot_t *s, cd_cycle_t *out)
{
    /* Each thread waits for at most one other, so following the chain from
     * every thread finds any cycle; a colour per thread keeps it linear. */
    unsigned char *colour = calloc((size_t)s->nthreads + 1, 1);
    int *path = malloc(((size_t)s->nthreads + 1) * sizeof *path);
    int found = 0;

    if (!colour || !path)
        goto out;
    for (int first = 1; first <= s->nthreads && !found; first++) {
        int len = 0, id = first;
        /* colour: 0 unseen, 1 on the current chain, 2 finished */
        while (id && colour[id] == 0) {
            colour[id] = 1;
            path[len++] = id;
            id = waits_for(s, thread_at(s, id));
            if (id > s->nthreads)
                id = 0;
        }
        if (id && colour[id] == 1) {
            int from = 0;
            while (path[from] != id)
                from++;
            fill_cycle(s, path + from, len - from, out);
            found = 1;
        }
        for (int i = 0; i < len; i++)
            colour[path[i]] = 2;
    }
out:
    free(colour);
    free(path);
    return found;
}

static int is_worker(int obj)
{
    cd_obj_rec_t *o = cd_reg_object(obj);
    return o && atomic_load(&o->kind) == CD_OBJ_WORKER;
}

int cd_cycle_format(const cd_cycle_t *c, char *buf, size_t size)
{
    size_t at = 0;
    if (size)
        buf[0] = '\0';
    for (int k = 0; k < c->len; k++) {
        const cd_cycle_link_t *l = &c->link[k];
        const char *who = cd_reg_thread_name(l->thread);
        const char *holds = cd_reg_object_name(l->holds);
        const char *waits = cd_reg_object_name(l->waits);
        const char *sep = k ? "; " : "";
        /* A worker is not a lock a learner took: say what it means. */
        if (is_worker(l->holds))
            cd__appendf(buf, size, &at, "%stask %s blocks %s (its thread "
                        "waits in a blocking lock of %s)", sep, who, holds,
                        waits);
        else if (is_worker(l->waits))
            cd__appendf(buf, size, &at, "%stask %s holds %s but can only go "
                        "on when %s runs it again", sep, who, holds, waits);
        else
            cd__appendf(buf, size, &at, "%s%s holds %s, waits %s", sep, who,
                        holds, waits);
    }
    return (int)at;
}

/* =============================== stuck runs ============================== */

static int is_live(int state)
{
    return state != CD_T_UNUSED && state != CD_T_DONE &&
           state != CD_T_ABORTED;
}

/* The operation t is waiting in, when its latest one was on obj: which
 * side of a channel, read or write of an rwlock. CD_OP_NONE if unknown. */
static int waiting_op(const cd_thread_info_t *t, int obj)
{
    return t->last_obj == obj ? t->last_op : CD_OP_NONE;
}

/* Could the object o let its waiter t go now, if t only ran? One case per
 * kind; a kind this does not know says yes, so that it can never make a
 * run look stuck that is not. */
static int object_lets_go(const cd_thread_info_t *t, const cd_obj_info_t *o)
{
    switch (o->kind) {
    case CD_OBJ_MUTEX:
    case CD_OBJ_AMUTEX:
    case CD_OBJ_KEY:
    case CD_OBJ_AKEY:
        /* No owner: released, and the waiter not yet in. */
        return o->owner == 0;
    case CD_OBJ_RWLOCK:
        /* A writer needs it empty; a reader, no writer inside (whether a
         * waiting writer goes first depends on the policy, which the
         * snapshot does not show: the reader may go). */
        if (waiting_op(t, o->id) == CD_OP_WRLOCK)
            return o->owner == 0 && o->readers == 0;
        return o->owner == 0;
    case CD_OBJ_CHAN:
        if (o->chan_closed)
            return 1;
        switch (waiting_op(t, o->id)) {
        case CD_OP_RECV:
            return o->chan_depth > 0;
        case CD_OP_SEND:
            return o->chan_capacity == 0 || o->chan_depth < o->chan_capacity;
        default:
            return 1; /* which side it waits on is not known */
        }
    case CD_OBJ_COND:
        /* A wake-up given and not taken yet: a woken waiter is on its way
         * (which one the snapshot does not say: any may be). */
        return o->cond_pending > 0;
    case CD_OBJ_SEM:
        return o->sem_count > 0;
    case CD_OBJ_ONESHOT:
        /* Sent or dropped: the receiver goes on (with the value or
         * -EPIPE); taken: a second receiver gets -EALREADY. */
        return o->oneshot_state != 0;
    case CD_OBJ_BSUB:
        /* Something unread, or the channel closed. */
        return o->chan_depth > 0 || o->chan_closed;
    default:
        return 1;
    }
}

/* Could t go on now, or be let go by what snap shows? Only a wait without
 * a deadline, for something that is not there, says no. */
static int could_go(const cd_snapshot_t *s, const cd_thread_info_t *t)
{
    const cd_obj_info_t *o;
    switch (t->state) {
    case CD_T_BLOCKED:
        if (t->wait_timed)
            return 1;
        if (t->joining) {
            const cd_thread_info_t *j = thread_at(s, t->joining);
            return !j || !is_live(j->state);
        }
        o = obj_at(s, t->waiting_on);
        return !o || object_lets_go(t, o);
    case CD_T_PARKED:
        /* A task on a timer: the timer always fires. */
        o = obj_at(s, t->waiting_on);
        return !o || object_lets_go(t, o);
    default:
        return 1; /* new, running, sleeping, ready, paused */
    }
}

int cd_waitfor_stuck(const cd_snapshot_t *s)
{
    int live = 0;
    for (int i = 0; i < s->nthreads; i++) {
        const cd_thread_info_t *t = &s->threads[i];
        if (!is_live(t->state))
            continue;
        if (could_go(s, t))
            return 0;
        live++;
    }
    return live > 0;
}

/* Which group of the description t falls in: 0 waits on an object, 1
 * joins a thread, 2 anything else. */
static int wait_group(const cd_snapshot_t *s, const cd_thread_info_t *t)
{
    if ((t->state == CD_T_BLOCKED || t->state == CD_T_PARKED) &&
        obj_at(s, t->waiting_on))
        return 0;
    if (t->state == CD_T_BLOCKED && t->joining)
        return 1;
    return 2;
}

/* Adds t to the description (counted always, kept while there is room). */
static void describe_one(const cd_snapshot_t *s, const cd_thread_info_t *t,
                         int group, cd_stuck_t *out)
{
    out->nlive++;
    if (out->len >= CD_MAX_STUCK)
        return;
    const cd_obj_info_t *o = group == 0 ? obj_at(s, t->waiting_on) : NULL;
    out->wait[out->len++] = (cd_stuck_wait_t){
        .thread = t->id,
        .state = t->state,
        .obj = o ? o->id : 0,
        .kind = o ? o->kind : 0,
        .owner = o ? o->owner : 0,
        .joins = group == 1 ? t->joining : 0,
    };
}

/* The lost wake-ups behind a stuck run: for each condition variable a
 * described thread waits on, the last signal or broadcast it lost, if
 * that came no later than the wait began - "worker-1 signalled job-done
 * at demos/lost_wakeup.c:50 before anyone waited (a lost wake-up), 18.0 ms
 * before runner's wait" - into out->lost_wakeup, "; " between two. */
static void lost_wakeups(const cd_snapshot_t *s, cd_stuck_t *out)
{
    size_t at = 0;
    for (int k = 0; k < out->len; k++) {
        const cd_stuck_wait_t *w = &out->wait[k];
        const cd_obj_info_t *o = w->kind == CD_OBJ_COND ? obj_at(s, w->obj)
                                                        : NULL;
        const cd_thread_info_t *t = thread_at(s, w->thread);
        int seen = 0;
        for (int j = 0; j < k; j++)
            seen |= out->wait[j].obj == w->obj;
        if (!o || !t || seen || !o->cond_unheard ||
            !o->cond_unheard_thread || o->cond_unheard_ns > t->since_ns)
            continue;
        cd__appendf(out->lost_wakeup, sizeof out->lost_wakeup, &at,
                    "%s%s %s %s at %s:%d before anyone waited (a lost "
                    "wake-up), %.1f ms before %s's wait", at ? "; " : "",
                    cd_snap_thread_name(s, o->cond_unheard_thread),
                    o->cond_unheard_all ? "broadcast" : "signalled", o->name,
                    o->cond_unheard_site.file ? o->cond_unheard_site.file
                                              : "?",
                    o->cond_unheard_site.line,
                    (double)(t->since_ns - o->cond_unheard_ns) / 1e6,
                    t->name);
    }
}

void cd_waitfor_describe(const cd_snapshot_t *s, cd_stuck_t *out)
{
    /* placed[id]: nothing left to add for thread id (only joins wait). */
    unsigned char placed[CD_MAX_THREADS + 1];

    memset(out, 0, sizeof *out);
    for (int i = 0; i < s->nthreads; i++) {
        const cd_thread_info_t *t = &s->threads[i];
        int group = is_live(t->state) ? wait_group(s, t) : -1;
        placed[t->id] = group != 1;
        if (group == 0)
            describe_one(s, t, 0, out);
    }
    /* Joins after the thread they join, so that the text reads down a
     * chain ("boss joins worker; main joins boss"); among those ready, and
     * for joins that wait for one another, the lowest id first. */
    for (;;) {
        const cd_thread_info_t *next = NULL;
        for (int i = 0; i < s->nthreads && !next; i++) {
            const cd_thread_info_t *t = &s->threads[i];
            int j = t->joining;
            if (!placed[t->id] && (j <= 0 || j > s->nthreads || placed[j]))
                next = t;
        }
        for (int i = 0; i < s->nthreads && !next; i++)
            if (!placed[s->threads[i].id])
                next = &s->threads[i];
        if (!next)
            break;
        describe_one(s, next, 1, out);
        placed[next->id] = 1;
    }
    for (int i = 0; i < s->nthreads; i++) {
        const cd_thread_info_t *t = &s->threads[i];
        if (is_live(t->state) && wait_group(s, t) == 2)
            describe_one(s, t, 2, out);
    }
    lost_wakeups(s, out);
}

static const char *thread_name(const cd_snapshot_t *names, int id)
{
    return names ? cd_snap_thread_name(names, id) : cd_reg_thread_name(id);
}

static const char *object_name(const cd_snapshot_t *names, int id)
{
    return names ? cd_snap_object_name(names, id) : cd_reg_object_name(id);
}

int cd_stuck_format(const cd_stuck_t *st, const cd_snapshot_t *names,
                    char *buf, size_t size)
{
    size_t at = 0;
    if (size)
        buf[0] = '\0';
    for (int k = 0; k < st->len; k++) {
        const cd_stuck_wait_t *w = &st->wait[k];
        const char *who = thread_name(names, w->thread), *sep = k ? "; " : "";
        if (w->obj) {
            cd__appendf(buf, size, &at, "%s%s waits on %s %s", sep, who,
                        cd_obj_kind_name(w->kind), object_name(names, w->obj));
            /* The owner is who would have to let go: name it. */
            if (w->owner && w->owner != w->thread)
                cd__appendf(buf, size, &at, " held by %s",
                            thread_name(names, w->owner));
        } else if (w->joins) {
            cd__appendf(buf, size, &at, "%s%s joins %s", sep, who,
                        thread_name(names, w->joins));
        } else {
            cd__appendf(buf, size, &at, "%s%s is %s", sep, who,
                        cd_thread_state_name(w->state));
        }
    }
    if (st->nlive > st->len)
        cd__appendf(buf, size, &at, "; and %d more", st->nlive - st->len);
    if (st->lost_wakeup[0])
        cd__appendf(buf, size, &at, "; %s", st->lost_wakeup);
    return (int)at;
}
