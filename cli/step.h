/*
 * step.h - step mode: the learner plays the scheduler.
 *
 * At every decision with two or more runnable threads, the controlled
 * scheduler calls a chooser (cd_sched_chooser) on the thread that reached
 * the decision. Step mode has two:
 *
 *   - cd_step_chooser, the plain text one: it prints each thread's next
 *     operation and reads the learner's pick from a stream (the keyboard,
 *     or a script in tests). No view is involved.
 *   - the mailbox (cd_step_box_t), for the live view and --view=text: the
 *     chooser posts the decision (who can run, what each would do next)
 *     and waits; the view's own thread shows it, reads a key and answers.
 *     The run stands still meanwhile, so every frame shows the state the
 *     learner decides on.
 *
 * Both take the same answers: a thread (its id, or its key: 1-9 for ids
 * 1-9, then the letters without a, h and q), Enter (the thread that ran
 * last goes on, or the lowest id when it cannot), `a` (auto: the default
 * policy plays the rest of the run), end of input (auto as well) and, in
 * the view, `q` (quit). Keys follow thread ids, so for ids up to 9 the
 * schedule string is exactly the keys that were pressed.
 *
 * While a chooser waits for the learner the run counts as paused: time
 * spent thinking does not count towards the run's hard time limit.
 */
#ifndef CD_STEP_H
#define CD_STEP_H

#include <pthread.h>
#include <stdio.h>

#include "../lib/cd_common.h"
#include "../lib/cd_registry.h"

/* ============================ the text chooser =========================== */

typedef struct cd_step {
    FILE *in, *out;
    int step;
    int automatic;
} cd_step_t;

/* A cd_sched_chooser; arg is a cd_step_t. */
int cd_step_chooser(const int *runnable, int n, int prev, void *arg);

/* ============================= one decision ============================== */

/* One runnable thread and the operation it waits to perform (as passed to
 * the choke point: see cd_sched_pending). */
typedef struct cd_step_choice {
    int id;
    int op, obj;
    const char *label; /* a point's or a latency's name; static storage */
    cd_site_t site;
} cd_step_choice_t;

/* A decision waiting for the learner. */
typedef struct cd_step_ask {
    long number;  /* 1 for the run's first decision */
    int prev;     /* the thread that ran last (reached the decision) */
    int fallback; /* who Enter lets go on: the scheduler's default
                     policy (prev if it can go on on time, else the
                     lowest id on time: cd_sched.h) */
    int n;        /* what may go on, in id order (a sleeper chosen ends
                     its sleep) */
    cd_step_choice_t choice[CD_MAX_THREADS];
} cd_step_ask_t;

/* The key for thread id: '1'..'9', then 'b'..'z' without 'h' and 'q';
 * 0 when the id is beyond the keys (such a thread is still picked by
 * Enter or auto, or by its id in text mode). */
char cd_step_key(int id);

/* What the learner asked for. */
enum cd_step_action {
    CD_STEP_BAD = 0, /* not one of the runnable threads, nor a command */
    CD_STEP_PICK,    /* *id: the thread to run */
    CD_STEP_AUTO,    /* the default policy plays the rest of the run */
    CD_STEP_QUIT     /* end the run */
};

/* One key pressed in the view ('\n' or '\r' for Enter). */
int cd_step_key_action(const cd_step_ask_t *a, int key, int *id);
/* One line typed (without its newline): a key, a thread id, "" for
 * Enter, "a", or "q". */
int cd_step_line_action(const cd_step_ask_t *a, const char *line, int *id);

/* ============================== the mailbox ============================== */

/* The hand-over between the run's chooser and the view's thread. All
 * fields are guarded by lock. */
typedef struct cd_step_box {
    pthread_mutex_t lock;
    pthread_cond_t changed; /* an ask posted or answered, auto, the end */
    int asking;             /* ask waits for an answer */
    int answer;             /* the answer's thread id; 0: default policy */
    int automatic;          /* from now on the default policy decides */
    int closed;             /* the run is over: no more asks */
    cd_step_ask_t ask;
} cd_step_box_t;

/* Makes an empty box. Can't fail (a pthread failure aborts). */
void cd_step_box_init(cd_step_box_t *b);
/* Frees it; no chooser may be waiting in it. */
void cd_step_box_destroy(cd_step_box_t *b);

/* A cd_sched_chooser; arg is a cd_step_box_t. Runs on the thread that
 * reached the decision: posts the ask and waits until it is answered, or
 * the box goes automatic. */
int cd_step_box_chooser(const int *runnable, int n, int prev, void *arg);

/* View side. 1 and a copy of the waiting ask in *out (its header and the
 * n choices), or 0 when none waits. */
int cd_step_box_peek(cd_step_box_t *b, cd_step_ask_t *out);
/* Answers the waiting ask: thread id runs next. Ignored when none waits. */
void cd_step_box_answer(cd_step_box_t *b, int id);
/* The default policy decides from now on, the waiting ask included (the
 * learner pressed `a` or `q`, or the input ended). */
void cd_step_box_auto(cd_step_box_t *b);
/* The run is over (called by the thread that ran it). */
void cd_step_box_close(cd_step_box_t *b);
/* Waits at most ms for an ask numbered above `after`, or the end of the
 * run. Returns 1 when an ask waits then. */
int cd_step_box_wait(cd_step_box_t *b, long after, int ms);

#endif /* CD_STEP_H */
