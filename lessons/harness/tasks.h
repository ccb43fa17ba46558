/*
 * tasks.h - the executor run that the async exercises' harnesses share
 * (async-race, stampede, webhook, inventory, await, offload, orphans):
 * an executor made, n tasks spawned one after the other, then all run to
 * the end and the executor freed. Linked with every exercise; the
 * learner's functions are reached only through the task a harness names.
 */
#ifndef EX_TASKS_H
#define EX_TASKS_H

#include <stddef.h>

#include "cd_exec.h"

/* Spawns task k of ctx's run on e (cd_exec_spawn or cd_exec_spawn_on)
 * and returns what the spawn returned: the task's id, or < 0 if refused.
 * The job it hands the task is the caller's, and outlives the run. */
typedef int ex_spawn_fn(void *ctx, cd_exec_t *e, int k);

/* Runs n tasks on an executor of nworkers workers, task k spawned by
 * spawn(ctx, e, k) in the order k = 0..n-1. Returns once every task has
 * ended: 0, or -1 if they could not start (no executor, a spawn
 * refused). */
int ex_run_spawned(int n, int nworkers, ex_spawn_fn *spawn, void *ctx);

/* Makes job k of ctx's run in `job` (zeroed, job_size bytes) and writes
 * its task's name (at most size bytes) into name. */
typedef void ex_job_fn(void *ctx, int k, void *job, char *name,
                       size_t size);

/* A task of ex_run_tasks: handed what the whole run shares (ctx: the
 * shop, the handler) and its own job. */
typedef void ex_task_fn(void *ctx, void *job);

/* Like ex_run_spawned, for jobs the run owns: task k runs task(ctx, job
 * k), its job made by make(ctx, k, ...) and spawned round-robin over the
 * workers; the jobs are freed when the run ends. Returns 0, or -1 if
 * the tasks could not start (no memory, no executor, a spawn refused). */
int ex_run_tasks(int n, size_t job_size, int nworkers, ex_task_fn *task,
                 ex_job_fn *make, void *ctx);

#endif /* EX_TASKS_H */
