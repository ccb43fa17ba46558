/*
 * cd_fiber.h - INTERNAL: the participants of a controlled run as
 * coroutines on the one thread that began it (cfg.fibers, cd_sched.h).
 *
 * Why: a controlled run lets one participant go at a time, and a hand-off
 * between OS threads is a semaphore post and a wait - two system calls and
 * a context switch in the kernel, 80% of the CPU time of exploring the
 * race. A hand-off between coroutines is a call of cd__ctx_switch (a few
 * instructions) plus the lib thread-locals that say who is running.
 *
 * Which runs: only those whose threads are cd_thread spawns doing lib
 * operations (the scenario says so: cd_scenario_t.fibers); nothing in
 * them may block its OS thread for real while another participant could
 * free it. The sanitizer builds keep OS threads (cd__fiber_supported).
 *
 * An abort (a deadlock, a step limit, a timeout) drains the run: every
 * participant is let go free. Coroutines cannot run side by side, so the
 * run's first thread (the root) resumes those not yet ended, one after
 * the other, until each has ended (cd__fiber_wait); one that would wait
 * for another gives the root back its turn meanwhile (cd__fiber_yield),
 * and one the run started ends at its next operation (cd_sched.c says
 * why).
 */
#ifndef CD_FIBER_H
#define CD_FIBER_H

#include <stdint.h>

/* The thread-locals of lib that say who runs: one set per coroutine. */
typedef struct cd__tls {
    uint64_t key;
    struct cd_thread_rec *rec;
    int spawned;
    int sched_self;
    int err; /* errno */
} cd__tls_t;

/* 1 where coroutines can stand in for threads (no sanitizer build). */
int cd__fiber_supported(void);

/* 1 while the controlled run is one of coroutines: its cd_thread spawns
 * become coroutines of cd__fiber_spawn. */
int cd__fiber_run(void);

/* Makes participant id (registered already) a coroutine that runs fn(arg)
 * from its first turn. Returns 0, or -ENOMEM (no stack). */
int cd__fiber_spawn(int id, void *(*fn)(void *), void *arg);

/* Goes from participant `from` (running) to `to`; returns when something
 * comes back to `from`. The caller chose `to` (the scheduler's state says
 * so); only the thread-locals move with the switch. */
void cd__fiber_switch(int from, int to);

/* Participant self, a coroutine, has ended (its function returned, or the
 * abort ended it): goes to the scheduler's current participant, or to the
 * root when the run is draining. Never returns. */
_Noreturn void cd__fiber_end(int self);

/* 1 when id is a coroutine of this run whose end has come (it will never
 * run again); also 1 for anything not a coroutine. */
int cd__fiber_over(int id);

/* The calling participant's id if it is a coroutine of this run, else 0. */
int cd__fiber_self(void);

/* A draining run: the caller waits until coroutine id is over. The root
 * resumes the coroutines that are not, in turn; a coroutine gives the
 * root its turn (cd__fiber_yield) and looks again when resumed. */
void cd__fiber_wait(int id);

/* A draining run: the caller cannot go on until another has moved (a
 * start gate not yet open, a poll): a coroutine lets the root resume the
 * others first; the root resumes the next one (none: returns at once). */
void cd__fiber_yield(void);

/* The abort ends the calling coroutine, if it is one (cd__op_abort_self):
 * marks it so. What it gives back on its way out must not end it again
 * (cd__fiber_is_ending). */
void cd__fiber_ending(void);
int cd__fiber_is_ending(int id);

/* After the join: coroutine id's stack goes back to the stacks kept for
 * the next run. */
void cd__fiber_reap(int id);

/* The end of a run of coroutines (cd_sched_end): every coroutine not yet
 * ended is drained to its end, and every stack is kept. */
void cd__fiber_finish(void);

/* Frees the kept stacks (the end of an exploration). */
void cd__fiber_release(void);

#endif
