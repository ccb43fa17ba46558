/*
 * cd_waitfor.c - the wait-for graph: cycle search over a snapshot, and how
 * a cycle reads. Pure: it reads what it is given (and names from the
 * registry), starts nothing and stores nothing.
 */
#include "cd_waitfor.h"

#include <stdatomic.h>
#include <stdlib.h>

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
