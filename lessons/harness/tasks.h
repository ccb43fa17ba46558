/*
 * tasks.h - the executor run that the async exercises' harnesses share
 * (async-race, stampede, webhook, inventory): n jobs made, each spawned
 * as a named task, one after the other (so spread round-robin over the
 * workers), then all run to the end. Linked with every exercise; the
 * learner's functions are reached only through the task a harness names.
 */
#ifndef EX_TASKS_H
#define EX_TASKS_H

#include <stddef.h>

/* Makes job k of ctx's run in `job` (zeroed, job_size bytes) and writes
 * its task's name (at most size bytes) into name. */
typedef void ex_job_fn(void *ctx, int k, void *job, char *name,
                       size_t size);

/* Runs n tasks on an executor of nworkers workers: task k runs task(job
 * k), its job made by make(ctx, k, ...). Returns once every task has
 * ended: 0, or -1 if they could not start (no memory, no executor, a
 * spawn refused). */
int ex_run_tasks(int n, size_t job_size, int nworkers, void (*task)(void *),
                 ex_job_fn *make, void *ctx);

#endif /* EX_TASKS_H */
