/*
 * tasks.c - the executor run of the async exercises (tasks.h).
 */
#include "harness/tasks.h"

#include <stdlib.h>

#include "cd_exec.h"

int ex_run_tasks(int n, size_t job_size, int nworkers, void (*task)(void *),
                 ex_job_fn *make, void *ctx)
{
    int rc = -1;
    cd_exec_t *e = NULL;
    char *jobs = calloc((size_t)n, job_size);

    if (!jobs || cd_exec_create(&e, nworkers) != 0)
        goto out;
    for (int k = 0; k < n; k++) {
        char name[CD_NAME_MAX];
        void *job = jobs + (size_t)k * job_size;
        make(ctx, k, job, name, sizeof name);
        if (cd_exec_spawn(e, name, task, job) < 0)
            goto out;
    }
    rc = cd_exec_run(e) < 0 ? -1 : 0;
out:
    cd_exec_destroy(e);
    free(jobs);
    return rc;
}
