/*
 * tasks.c - the executor run of the async exercises (tasks.h).
 */
#include "harness/tasks.h"

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

/* ex_run_tasks's run: the jobs it owns and how to make them. */
typedef struct owned {
    char *jobs;
    size_t job_size;
    void (*task)(void *);
    ex_job_fn *make;
    void *ctx;
} owned_t;

static int spawn_owned(void *ctx, cd_exec_t *e, int k)
{
    owned_t *o = ctx;
    char name[CD_NAME_MAX];
    void *job = o->jobs + (size_t)k * o->job_size;
    o->make(o->ctx, k, job, name, sizeof name);
    return cd_exec_spawn(e, name, o->task, job);
}

int ex_run_tasks(int n, size_t job_size, int nworkers, void (*task)(void *),
                 ex_job_fn *make, void *ctx)
{
    owned_t o = { calloc((size_t)n, job_size), job_size, task, make, ctx };
    int rc = o.jobs ? ex_run_spawned(n, nworkers, spawn_owned, &o) : -1;
    free(o.jobs);
    return rc;
}
