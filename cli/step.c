/*
 * step.c - step mode: the text chooser, the keys, and the mailbox between
 * the run's chooser and the view.
 *
 * A chooser runs inside the controlled scheduler, on the demo thread that
 * reached the decision, with every other participant parked on its turn.
 * The scheduler hides its own code from ThreadSanitizer (synchronisation
 * included), so the mailbox's lock creates no happens-before edge between
 * demo threads: watching and choosing cannot hide a demo's race.
 */
#include "step.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../lib/cd_sched.h"
#include "../lib/cd_trace.h"

/* The letters after 1-9: the alphabet without a (auto), h (help) and q
 * (quit). */
static const char letters[] = "bcdefgijklmnoprstuvwxyz";

/* While a learner thinks, the run is paused as far as its hard time limit
 * is concerned. The chooser is the run's one controller while it waits:
 * every other participant is parked. */
static void learner_time(int on)
{
    cd_reg_set_paused(on);
}

/* ============================ the text chooser =========================== */

/* Who Enter lets go on: the scheduler's default policy when it is the
 * one asking (a sleeper that just began its sleep is not it), else the
 * thread that ran last if it may go on, else the first. */
static int enter_choice(const int *runnable, int n, int prev)
{
    int id = cd_sched_fallback();
    for (int i = 0; !id && i < n; i++)
        if (runnable[i] == prev)
            id = prev;
    return id ? id : runnable[0];
}

static void show_choice(FILE *out, int id, int prev)
{
    int op, obj;
    const char *label;
    cd_site_t site;
    cd_sched_pending(id, &op, &obj, &label, &site);
    const char *what = label ? label : "";
    if (op == CD_OP_SPAWN || op == CD_OP_JOIN)
        what = cd_reg_thread_name(obj);
    else if (obj)
        what = cd_reg_object_name(obj);
    fprintf(out, "  [%d] %-14s next: %-10s %-16s", id, cd_reg_thread_name(id),
            cd_op_name(op), what);
    if (site.file)
        fprintf(out, " %s:%d", site.file, site.line);
    fprintf(out, "%s\n", id == prev ? "   (ran last)" : "");
}

/* Reads one line from the learner, the run paused meanwhile. */
static char *read_line(char *line, int size, FILE *in)
{
    learner_time(1);
    char *got = fgets(line, size, in);
    learner_time(0);
    return got;
}

int cd_step_chooser(const int *runnable, int n, int prev, void *arg)
{
    cd_step_t *st = arg;
    char line[64];

    st->step++;
    if (st->automatic)
        return 0;
    for (;;) {
        fprintf(st->out, "step %d: who runs next? (number; Enter: %s goes "
                "on; a: auto to the end)\n", st->step,
                cd_reg_thread_name(enter_choice(runnable, n, prev)));
        for (int i = 0; i < n; i++)
            show_choice(st->out, runnable[i], prev);
        fprintf(st->out, "> ");
        fflush(st->out);
        if (!read_line(line, sizeof line, st->in)) {
            st->automatic = 1;
            fprintf(st->out, "(end of input: auto)\n");
            return 0;
        }
        line[strcspn(line, "\r\n")] = '\0';
        if (line[0] == '\0')
            return 0;
        if (strcmp(line, "a") == 0) {
            st->automatic = 1;
            return 0;
        }
        char *end;
        long id = strtol(line, &end, 10);
        for (int i = 0; *end == '\0' && i < n; i++)
            if (runnable[i] == id)
                return (int)id;
        fprintf(st->out, "'%s' is not one of the runnable threads\n", line);
    }
}

/* ================================= keys ================================== */

char cd_step_key(int id)
{
    if (id >= 1 && id <= 9)
        return (char)('0' + id);
    if (id >= 10 && id < 10 + (int)sizeof letters - 1)
        return letters[id - 10];
    return 0;
}

static int in_ask(const cd_step_ask_t *a, int id)
{
    for (int i = 0; i < a->n; i++)
        if (a->choice[i].id == id)
            return 1;
    return 0;
}

int cd_step_key_action(const cd_step_ask_t *a, int key, int *id)
{
    if (key == 'a' || key == 'A')
        return CD_STEP_AUTO;
    if (key == 'q' || key == 'Q')
        return CD_STEP_QUIT;
    if (!a)
        return CD_STEP_BAD;
    if (key == '\n' || key == '\r') {
        *id = a->fallback;
        return CD_STEP_PICK;
    }
    for (int i = 0; i < a->n; i++)
        if (key != 0 && cd_step_key(a->choice[i].id) == key) {
            *id = a->choice[i].id;
            return CD_STEP_PICK;
        }
    return CD_STEP_BAD;
}

int cd_step_line_action(const cd_step_ask_t *a, const char *line, int *id)
{
    if (line[0] == '\0')
        return cd_step_key_action(a, '\n', id);
    if (line[1] == '\0' && !(line[0] >= '0' && line[0] <= '9'))
        return cd_step_key_action(a, (unsigned char)line[0], id);
    /* A number is a thread id, as the text chooser takes it. */
    char *end;
    errno = 0;
    long v = strtol(line, &end, 10);
    if (!a || *end != '\0' || errno || v < 1 || v > CD_MAX_THREADS ||
        !in_ask(a, (int)v))
        return CD_STEP_BAD;
    *id = (int)v;
    return CD_STEP_PICK;
}

/* ============================== the mailbox ============================== */

void cd_step_box_init(cd_step_box_t *b)
{
    pthread_condattr_t attr;

    memset(b, 0, sizeof *b);
    CD_CHECK(pthread_mutex_init(&b->lock, NULL));
    CD_CHECK(pthread_condattr_init(&attr));
    CD_CHECK(pthread_condattr_setclock(&attr, CLOCK_MONOTONIC));
    CD_CHECK(pthread_cond_init(&b->changed, &attr));
    CD_CHECK(pthread_condattr_destroy(&attr));
}

void cd_step_box_destroy(cd_step_box_t *b)
{
    CD_CHECK(pthread_cond_destroy(&b->changed));
    CD_CHECK(pthread_mutex_destroy(&b->lock));
}

/* Fills the ask from the scheduler's view of the runnable threads.
 * Caller holds b->lock and is the chooser (the scheduler's state is its
 * own to read). */
static void fill_ask(cd_step_ask_t *a, const int *runnable, int n, int prev)
{
    a->number++;
    a->prev = prev;
    a->fallback = enter_choice(runnable, n, prev);
    a->n = n;
    for (int i = 0; i < n; i++) {
        cd_step_choice_t *c = &a->choice[i];
        c->id = runnable[i];
        cd_sched_pending(c->id, &c->op, &c->obj, &c->label, &c->site);
    }
}

int cd_step_box_chooser(const int *runnable, int n, int prev, void *arg)
{
    cd_step_box_t *b = arg;
    int pick = 0;

    CD_CHECK(pthread_mutex_lock(&b->lock));
    if (!b->automatic) {
        learner_time(1);
        fill_ask(&b->ask, runnable, n, prev);
        b->asking = 1;
        b->answer = 0;
        CD_CHECK(pthread_cond_broadcast(&b->changed));
        while (b->asking && !b->automatic)
            CD_CHECK(pthread_cond_wait(&b->changed, &b->lock));
        pick = b->asking ? 0 : b->answer;
        b->asking = 0;
        learner_time(0);
    }
    CD_CHECK(pthread_mutex_unlock(&b->lock));
    return pick;
}

int cd_step_box_peek(cd_step_box_t *b, cd_step_ask_t *out)
{
    CD_CHECK(pthread_mutex_lock(&b->lock));
    int asking = b->asking && !b->automatic;
    if (asking) {
        /* The header, then only the choices in use (the table is long). */
        memcpy(out, &b->ask, offsetof(cd_step_ask_t, choice));
        memcpy(out->choice, b->ask.choice,
               (size_t)b->ask.n * sizeof b->ask.choice[0]);
    }
    CD_CHECK(pthread_mutex_unlock(&b->lock));
    return asking;
}

void cd_step_box_answer(cd_step_box_t *b, int id)
{
    CD_CHECK(pthread_mutex_lock(&b->lock));
    if (b->asking) {
        b->answer = id;
        b->asking = 0;
        CD_CHECK(pthread_cond_broadcast(&b->changed));
    }
    CD_CHECK(pthread_mutex_unlock(&b->lock));
}

void cd_step_box_auto(cd_step_box_t *b)
{
    CD_CHECK(pthread_mutex_lock(&b->lock));
    b->automatic = 1;
    CD_CHECK(pthread_cond_broadcast(&b->changed));
    CD_CHECK(pthread_mutex_unlock(&b->lock));
}

void cd_step_box_close(cd_step_box_t *b)
{
    CD_CHECK(pthread_mutex_lock(&b->lock));
    b->closed = 1;
    CD_CHECK(pthread_cond_broadcast(&b->changed));
    CD_CHECK(pthread_mutex_unlock(&b->lock));
}

int cd_step_box_wait(cd_step_box_t *b, long after, int ms)
{
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    long ns = until.tv_nsec + (long)ms * 1000000L;
    until.tv_sec += ns / 1000000000L;
    until.tv_nsec = ns % 1000000000L;

    CD_CHECK(pthread_mutex_lock(&b->lock));
    while (!b->closed && !(b->asking && b->ask.number > after)) {
        int rc = pthread_cond_timedwait(&b->changed, &b->lock, &until);
        if (rc == ETIMEDOUT)
            break;
        CD_CHECK(rc);
    }
    int asking = b->asking && !b->automatic;
    CD_CHECK(pthread_mutex_unlock(&b->lock));
    return asking;
}
