/*
 * observer.h - watching a run while it happens.
 *
 * The observer starts the run on a thread of its own and, from the
 * caller's thread, samples what the run is doing: a registry snapshot
 * (thread and object states, the live figures), each thread's state
 * history, the newest trace events and the deadlock cycle. It only reads
 * the registry - relaxed atomics, and the trace ring's per-slot seqlock -
 * and never takes a demo's locks, so watching does not change what the run
 * does. Its controls (pause, latency scale, stop) are registry flags that
 * the demo's threads look at as they pass the choke point.
 *
 * Both front ends use it: the terminal view (view.c) and the plain-text
 * frames of --view=text (cd_view_text below). One thread drives an
 * observer: all calls come from the thread that started it.
 *
 * Step mode (--sched=step): the observer gives the run a mailbox
 * (step.h) as its chooser. At each decision the run stands still until the
 * front end answers; a sample shows the decision (cd_observer_ask) next to
 * the state it is made in.
 */
#ifndef CD_OBSERVER_H
#define CD_OBSERVER_H

#include <stdio.h>

#include "run.h"
#include "screen.h"
#include "step.h"

/* A frame every 40 ms: 25 frames/s. */
#define CD_FRAME_MS 40
/* The view's default latency scale and hard limit, when the command line
 * gives none: slow enough to watch, long enough not to cut a slow run. */
#define CD_VIEW_SCALE_PERMILLE 100000
#define CD_VIEW_TIMEOUT_MS 60000

typedef struct cd_observer cd_observer_t;

/* Starts variant of s on a new thread with tracing on, and returns once
 * the registry is ready to be watched. Returns 0, -ENOMEM or -errno from
 * pthread_create. */
int cd_observer_start(cd_observer_t **out, const cd_scenario_t *s,
                      int variant, const cd_run_opts_t *opts);

/* Takes one frame's worth: the newest events, a snapshot, a history
 * column, the cycle. Notices the end of the run and then keeps the final
 * state (the cycle stays after the abort ended its threads). */
void cd_observer_sample(cd_observer_t *o);

/* 1 once the run is over and the verdict is in (after a sample). */
int cd_observer_finished(const cd_observer_t *o);

/* Fills in (pointing into o) for cd_screen_render; interactive and help
 * are left for the caller. */
void cd_observer_screen(const cd_observer_t *o, cd_screen_in_t *in);

/* Numbers that change when a frame would tell something new. Major: who
 * holds and who waits for what, threads ending, the abort, the cycle, the
 * end. Minor: threads going from running to sleeping and back, the live
 * figures. */
void cd_observer_signature(const cd_observer_t *o, unsigned long *major,
                           unsigned long *minor);

/* Controls, while the run goes on (no effect afterwards). Pause is off in
 * step mode (the learner holds the run anyway); the latency scale stays as
 * it was in any controlled run: latencies there pass on a virtual clock,
 * and changing them midway would change the schedule being recorded. */
void cd_observer_toggle_pause(cd_observer_t *o);
/* dir > 0: latencies twice as long; dir < 0: half as long. */
void cd_observer_scale(cd_observer_t *o, int dir);

/* Ends the run early: aborts it (CD_ABORT_USER) if it is still going.
 * Its threads end at their next wait; cd_observer_finish waits for them.
 * In step mode the default policy takes the remaining decisions. */
void cd_observer_stop(cd_observer_t *o);

/* Step mode. 1 while the learner decides: a step run, not over, not
 * handed to auto. */
int cd_observer_stepping(const cd_observer_t *o);
/* The decision waiting for the learner as of the last sample, or NULL. */
const cd_step_ask_t *cd_observer_ask(const cd_observer_t *o);
/* Answers the waiting decision (thread id runs next), then waits a moment
 * for the run to reach its next decision or its end, so that the next
 * sample shows the step's effect. */
void cd_observer_answer(cd_observer_t *o, int id);
/* `a`: the default policy plays the rest of the run. */
void cd_observer_auto(cd_observer_t *o);

/* Waits for the run to end, copies its result into *r, frees o. Returns
 * what cd_run returned. */
int cd_observer_finish(cd_observer_t *o, cd_run_result_t *r);

/* --view=text: runs variant of s, printing a w x h frame to out at each
 * major change, at minor ones at most every 500 ms, and the final frame
 * with the verdict. In step mode it prints a frame at each decision and
 * reads the learner's answer from in, one line each (see step.h); the end
 * of in hands the rest of the run to auto.
 * Returns what cd_run returned, or -errno if the run could not start. */
int cd_view_text(FILE *in, FILE *out, const cd_scenario_t *s, int variant,
                 const cd_run_opts_t *opts, int w, int h,
                 cd_run_result_t *r);

#endif /* CD_OBSERVER_H */
