/*
 * tasks.c - the executor run of the async exercises (tasks.h).
 */
#include "harness/tasks.h"

#include <stddef.h>
#include <stdlib.h>

int ex_run_spawned(int n, int nworkers, ex_spawn_fn *spawn, void *ctx)
{
    int rc = -1;
    cd_exec_t *e = NULL;

    if (cd_exec_create(&e, nworkers) != 0)
        goto out;
    for (int k = 0; k < n; k++)
        if (spawn(ctx, e, k) < 0)
            goto out;
    rc = cd_exec_run(e) < 0 ? -1 : 0;
out:
    cd_exec_destroy(e);
    return rc;
}

/* ex_run_tasks's run: the jobs it owns and how to make and run them.
 * Each job lies in a slot of its own, after a pointer back to the run:
 * the slot is what its task is spawned with (run_owned). */
typedef struct owned {
    char *slots;
    size_t slot_size;
    ex_task_fn *task;
    ex_job_fn *make;
    void *ctx;
} owned_t;

/* Where a slot's job begins: past the run's pointer, aligned for any
 * job. */
#define JOB_OFFSET sizeof(max_align_t)

static void run_owned(void *slot)
{
    const owned_t *o = *(const owned_t **)slot;
    o->task(o->ctx, (char *)slot + JOB_OFFSET);
}

static int spawn_owned(void *ctx, cd_exec_t *e, int k)
{
    owned_t *o = ctx;
    char name[CD_NAME_MAX];
    char *slot = o->slots + (size_t)k * o->slot_size;
    *(const owned_t **)slot = o;
    o->make(o->ctx, k, slot + JOB_OFFSET, name, sizeof name);
    return cd_exec_spawn(e, name, run_owned, slot);
}

int ex_run_tasks(int n, size_t job_size, int nworkers, ex_task_fn *task,
                 ex_job_fn *make, void *ctx)
{
    size_t align = sizeof(max_align_t);
    size_t slot_size = JOB_OFFSET + (job_size + align - 1) / align * align;
    owned_t o = { calloc((size_t)n, slot_size), slot_size, task, make, ctx };
    int rc = o.slots ? ex_run_spawned(n, nworkers, spawn_owned, &o) : -1;
    free(o.slots);
    return rc;
}
