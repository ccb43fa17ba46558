/*
 * cd_load.h - how much of the machine a run got.
 *
 * A run that reaches its time limit may have hung, spun, or simply not
 * been given a CPU: on a busy machine (a CI runner, a laptop compiling in
 * the background) a correct run can take far longer than its limit. The
 * kernel keeps, for every thread, the CPU time it used and the time it
 * spent runnable but waiting for a CPU (/proc/self/task/TID/schedstat).
 * Summed over the run's threads and set against the wall-clock time, they
 * tell the three apart: a hang uses little CPU and waits for none, a spin
 * uses CPU, and a starved run waits for a CPU longer than it runs.
 *
 * Threads are sampled one by one, so a thread that ends between two
 * samples loses what it did since the last one: sample every ~100 ms.
 * Linux only; elsewhere (no schedstat) queued_ns stays 0 and nothing is
 * ever called starved.
 */
#ifndef CD_LOAD_H
#define CD_LOAD_H

#include <stdint.h>
#include <sys/types.h>

/* Threads tracked at once; further ones are not counted. */
#define CD_LOAD_TASKS 512

typedef struct cd_load {
    int64_t wall_ns;   /* since cd_load_begin */
    int64_t cpu_ns;    /* CPU time the process used meanwhile */
    int64_t queued_ns; /* time its threads spent runnable, waiting for a CPU */
    /* private: the baselines */
    int64_t wall0_ns, cpu0_ns;
    int ntask;
    struct {
        pid_t tid;
        int64_t queued_ns;
    } task[CD_LOAD_TASKS];
} cd_load_t;

/* Starts measuring now (threads alive now count from here). Can't fail. */
void cd_load_begin(cd_load_t *l);

/* Brings wall_ns, cpu_ns and queued_ns up to now. Can't fail: a thread
 * whose figures cannot be read is skipped. */
void cd_load_sample(cd_load_t *l);

/* 1 when the figures say the machine, not the run, was the bottleneck:
 * its threads waited for a CPU longer than they ran, for at least half of
 * the wall-clock time. Pure. */
int cd_load_starved(const cd_load_t *l);

/* Nanoseconds another process (its main thread) has spent runnable but
 * waiting for a CPU since it began, or -1 when that cannot be read. For a
 * supervisor judging a child's start on a busy machine. */
int64_t cd_load_queued_of(pid_t pid);

#endif /* CD_LOAD_H */
