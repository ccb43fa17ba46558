/*
 * observer.c - the run on its own thread, and frames sampled from it.
 *
 * What keeps the observer from disturbing the run (and ThreadSanitizer's
 * view of it): while the run goes on it only loads from the registry and
 * the trace ring, and the only things it stores are the registry's
 * control flags, with relaxed atomics. It never calls cd_reg_deadlock()
 * before the run is over - that takes the lock the lock-order graph's
 * demo threads also take - and instead finds the cycle in its own snapshot
 * once the watchdog has announced a deadlock; a stuck run's waits the
 * same way (cd_reg_stuck takes that lock too).
 */
#include "observer.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "report.h"

/* The log keeps this many of the newest events. */
#define LOG_MAX 64
/* --view=text prints a frame for a minor change at most this often. */
#define TEXT_GAP_MS 500
/* The latency scale the + and - keys move within (thousandths). */
#define SCALE_MIN 15
#define SCALE_MAX 1000000
/* After an answer, how long to wait for the run's next decision before
 * drawing anyway: a step is microseconds of virtual time, but a loaded
 * machine (or a sanitizer) may take a while to get there. */
#define STEP_SETTLE_MS 500

struct cd_observer {
    const cd_scenario_t *scenario;
    int variant;
    cd_run_opts_t opts;
    pthread_t runner;

    pthread_mutex_t lock; /* guards ready, for the start only */
    pthread_cond_t cond;
    int ready;

    atomic_int done;      /* release by the runner: the result is written */
    int joined;
    int rc;
    cd_run_result_t result;

    cd_snapshot_t snap;
    cd_history_t hist;
    cd_trace_event_t log[LOG_MAX];
    int nlog;
    cd_cycle_t seen;      /* the last cycle found in a snapshot */
    int has_seen;
    cd_cycle_t cycle;     /* the cycle to show */
    int has_cycle;
    cd_stuck_t seen_stuck; /* the waits of the last stuck snapshot */
    int has_seen_stuck;
    cd_stuck_t stuck;     /* a stuck run's waits, to show */
    int has_stuck;

    /* Step mode: the run's scheduler settings with the mailbox as their
     * chooser, the decision waiting as last sampled, and whether the
     * learner handed the rest to auto. */
    cd_sched_cfg_t sched;
    cd_step_box_t *box;
    cd_step_ask_t *ask;
    int asking;
    int automatic;
    long hist_step; /* the decision of the newest history mark */
};

/* ================================ the run ================================ */

/* Called by cd_run on the runner once the registry was reset. */
static void on_ready(void *arg)
{
    cd_observer_t *o = arg;
    CD_CHECK(pthread_mutex_lock(&o->lock));
    o->ready = 1;
    CD_CHECK(pthread_cond_signal(&o->cond));
    CD_CHECK(pthread_mutex_unlock(&o->lock));
}

static void *runner(void *arg)
{
    cd_observer_t *o = arg;
    o->rc = cd_run(o->scenario, o->variant, &o->opts, &o->result);
    if (!o->ready)
        on_ready(o); /* cd_run failed before it was ready */
    if (o->box)
        cd_step_box_close(o->box); /* an answer waiting for a next step ends */
    atomic_store_explicit(&o->done, 1, memory_order_release);
    return NULL;
}

static void free_observer(cd_observer_t *o)
{
    if (o->box) {
        cd_step_box_destroy(o->box);
        free(o->box);
    }
    free(o->ask);
    CD_CHECK(pthread_cond_destroy(&o->cond));
    CD_CHECK(pthread_mutex_destroy(&o->lock));
    free(o);
}

/* Step mode: the learner answers through the mailbox, not a prompt. */
static int use_mailbox(cd_observer_t *o)
{
    o->box = malloc(sizeof *o->box);
    o->ask = malloc(sizeof *o->ask);
    if (!o->box || !o->ask) {
        free(o->box);
        free(o->ask);
        o->box = NULL;
        o->ask = NULL;
        return -ENOMEM;
    }
    cd_step_box_init(o->box);
    o->sched = *o->opts.sched;
    o->sched.chooser = cd_step_box_chooser;
    o->sched.chooser_arg = o->box;
    o->opts.sched = &o->sched;
    return 0;
}

int cd_observer_start(cd_observer_t **out, const cd_scenario_t *s,
                      int variant, const cd_run_opts_t *opts)
{
    cd_observer_t *o = calloc(1, sizeof *o);
    if (!o)
        return -ENOMEM;
    o->scenario = s;
    o->variant = variant;
    o->opts = *opts;
    o->opts.trace = 1; /* the log reads the trace */
    o->opts.on_ready = on_ready;
    o->opts.ready_arg = o;
    atomic_init(&o->done, 0);
    CD_CHECK(pthread_mutex_init(&o->lock, NULL));
    CD_CHECK(pthread_cond_init(&o->cond, NULL));
    if (opts->sched && opts->sched->strategy == CD_SCHED_STEP &&
        use_mailbox(o) != 0) {
        free_observer(o);
        return -ENOMEM;
    }
    int rc = pthread_create(&o->runner, NULL, runner, o);
    if (rc != 0) {
        free_observer(o);
        return -rc;
    }
    CD_CHECK(pthread_mutex_lock(&o->lock));
    while (!o->ready)
        CD_CHECK(pthread_cond_wait(&o->cond, &o->lock));
    CD_CHECK(pthread_mutex_unlock(&o->lock));
    *out = o;
    return 0;
}

/* ================================ sampling =============================== */

static void read_log(cd_observer_t *o)
{
    uint64_t total;
    int n = cd_trace_read(o->log, LOG_MAX, &total);
    o->nlog = n > 0 ? n : 0;
}

/* The run is over: its threads are joined, so the findings can be read
 * under their lock, and what the registry holds now is final. */
static void take_final(cd_observer_t *o)
{
    CD_CHECK(pthread_join(o->runner, NULL));
    o->joined = 1;
    read_log(o);
    cd_reg_snapshot(&o->snap);
    /* The thread that ran the scenario (and joined its team) has returned
     * too, though nothing marked it: it shows as done, not running. */
    for (int i = 0; i < o->snap.nthreads; i++)
        if (o->snap.threads[i].state == CD_T_RUNNING)
            o->snap.threads[i].state = CD_T_DONE;
    /* A controlled run is over and its clock with it: the registry's clock
     * is the real one again, so keep the virtual time the run ended at. */
    if (o->result.controlled)
        o->snap.t_ns = o->result.duration_ns;
    cd_history_push(&o->hist, &o->snap);
    o->asking = 0;
    if (o->result.controlled)
        cd_report_replay_command(&o->result, o->opts.latency_permille, NULL,
                                 o->result.replay, sizeof o->result.replay);
    o->has_cycle = o->result.has_cycle;
    if (o->has_cycle)
        o->cycle = o->result.cycle;
    else if (o->has_seen && o->snap.abort_reason == CD_ABORT_DEADLOCK)
        o->has_cycle = 1; /* keep the one seen live */
    /* The watchdog's or the scheduler's record of the stuck run. */
    o->has_stuck = o->result.has_stuck &&
                   o->result.verdict.status == CD_STUCK;
    if (o->has_stuck)
        o->stuck = o->result.stuck;
}

void cd_observer_sample(cd_observer_t *o)
{
    if (o->joined)
        return; /* final: nothing moves any more */
    if (atomic_load_explicit(&o->done, memory_order_acquire)) {
        take_final(o);
        return;
    }
    /* A decision first: while it waits the run stands still, so the
     * events and the snapshot below show the state it is made in. */
    o->asking = o->box && !o->automatic && cd_step_box_peek(o->box, o->ask);
    /* Events next: any thread they name is then in the snapshot. */
    read_log(o);
    cd_reg_snapshot(&o->snap);
    /* While the learner steps, one history mark per decision: frames
     * would only repeat the state the run stands still in. */
    if (!cd_observer_stepping(o) ||
        (o->asking && o->ask->number != o->hist_step)) {
        cd_history_push(&o->hist, &o->snap);
        o->hist_step = o->asking ? o->ask->number : 0;
    }
    cd_cycle_t c;
    if (cd_waitfor_find_cycle(&o->snap, &c)) {
        o->seen = c;
        o->has_seen = 1;
    }
    /* Shown once the watchdog confirmed it (it checks that the waits did
     * not move between two scans); the threads then end within ~20 ms, so
     * keep the last one seen. */
    if (o->snap.abort_reason == CD_ABORT_DEADLOCK && o->has_seen) {
        o->cycle = o->seen;
        o->has_cycle = 1;
    }
    /* A stuck run the same way: the watchdog calls it stuck only after
     * the same waits stayed stuck for 200 ms, so the last stuck snapshot
     * seen here shows them; the abort then ends the threads. */
    if (cd_waitfor_stuck(&o->snap)) {
        cd_waitfor_describe(&o->snap, &o->seen_stuck);
        o->has_seen_stuck = 1;
    }
    if (o->snap.abort_reason == CD_ABORT_STUCK && o->has_seen_stuck) {
        o->stuck = o->seen_stuck;
        o->has_stuck = 1;
    }
}

int cd_observer_finished(const cd_observer_t *o) { return o->joined; }

void cd_observer_screen(const cd_observer_t *o, cd_screen_in_t *in)
{
    *in = (cd_screen_in_t){
        .scenario = o->scenario,
        .variant = o->variant,
        .snap = &o->snap,
        .hist = &o->hist,
        .log = o->log,
        .nlog = o->nlog,
        .cycle = o->has_cycle ? &o->cycle : NULL,
        .stuck = o->has_stuck ? &o->stuck : NULL,
        .verdict = o->joined ? &o->result.verdict : NULL,
        .latency_permille = cd_reg_latency_scale(),
        .step = o->asking ? o->ask : NULL,
        .stepping = cd_observer_stepping(o),
        .virtual_clock = o->opts.sched != NULL,
    };
    if (o->joined && o->result.controlled) {
        in->schedule = o->result.schedule;
        in->nchoices = o->result.ndecisions;
        in->replay = o->result.replay[0] ? o->result.replay : NULL;
    }
}

static unsigned long mix(unsigned long h, long v)
{
    return (h ^ (unsigned long)v) * 1099511628211UL;
}

void cd_observer_signature(const cd_observer_t *o, unsigned long *major,
                           unsigned long *minor)
{
    const cd_snapshot_t *s = &o->snap;
    unsigned long h = 14695981039346656037UL, m = h;
    h = mix(h, o->joined);
    h = mix(h, o->has_cycle);
    h = mix(h, o->has_stuck);
    h = mix(h, s->abort_reason);
    for (int i = 0; i < s->nthreads; i++) {
        const cd_thread_info_t *t = &s->threads[i];
        int st = t->state;
        if (st == CD_T_RUNNING || st == CD_T_SLEEPING)
            m = mix(m, st);
        else
            h = mix(h, st);
        h = mix(h, t->waiting_on);
        h = mix(h, t->joining);
        for (int k = 0; k < t->nheld; k++)
            h = mix(h, t->held[k]);
    }
    for (int i = 0; i < s->nobjs; i++)
        h = mix(h, s->objs[i].owner);
    for (int i = 0; i < s->ngauges; i++)
        m = mix(m, (long)s->gauges[i].value);
    /* The run's notes (an instance's step, who waits for whom). */
    for (int i = 0; i < s->nnotes; i++)
        for (const char *c = s->notes[i]; *c; c++)
            m = mix(m, (unsigned char)*c);
    *major = h;
    *minor = m;
}

/* ================================ controls =============================== */

void cd_observer_toggle_pause(cd_observer_t *o)
{
    if (!o->joined && !o->box)
        cd_reg_set_paused(!cd_reg_paused());
}

void cd_observer_scale(cd_observer_t *o, int dir)
{
    int p = cd_reg_latency_scale();
    if (o->joined || o->opts.sched)
        return;
    if (dir > 0)
        p = p < SCALE_MIN ? SCALE_MIN : p > SCALE_MAX / 2 ? SCALE_MAX : p * 2;
    else
        p = p / 2 < SCALE_MIN ? SCALE_MIN : p / 2;
    cd_reg_set_latency_scale(p);
}

void cd_observer_stop(cd_observer_t *o)
{
    if (o->joined)
        return;
    cd_reg_abort(CD_ABORT_USER);
    /* A decision waiting for the learner would hold the run forever. */
    cd_observer_auto(o);
}

int cd_observer_stepping(const cd_observer_t *o)
{
    return o->box && !o->automatic && !o->joined;
}

const cd_step_ask_t *cd_observer_ask(const cd_observer_t *o)
{
    return o->asking ? o->ask : NULL;
}

void cd_observer_answer(cd_observer_t *o, int id)
{
    if (!o->asking)
        return;
    long number = o->ask->number;
    o->asking = 0;
    cd_step_box_answer(o->box, id);
    cd_step_box_wait(o->box, number, STEP_SETTLE_MS);
}

void cd_observer_auto(cd_observer_t *o)
{
    if (!o->box || o->automatic)
        return;
    o->automatic = 1;
    o->asking = 0;
    cd_step_box_auto(o->box);
    /* The rest is microseconds of virtual time: show the end, not a
     * frame from halfway. */
    cd_step_box_wait(o->box, LONG_MAX, STEP_SETTLE_MS);
}

int cd_observer_finish(cd_observer_t *o, cd_run_result_t *r)
{
    if (!o->joined)
        take_final(o);
    *r = o->result;
    int rc = o->rc;
    free_observer(o);
    return rc;
}

/* ============================== --view=text ============================== */

static int64_t now_ms(void) { return cd_now_ns() / 1000000; }

static void print_frame(FILE *out, cd_grid_t *g, const cd_observer_t *o)
{
    cd_screen_in_t in;
    cd_observer_screen(o, &in);
    cd_screen_render(g, &in);
    cd_grid_print(g, out);
    fputc('\n', out);
    fflush(out);
}

/* Step mode in text: the frame the learner decides on, then one line of
 * answer. Returns 1 when a decision was waiting (and is now settled). */
static int text_step(FILE *in, FILE *out, cd_grid_t *g, cd_observer_t *o)
{
    const cd_step_ask_t *a = cd_observer_ask(o);
    char line[64];
    int id;

    if (!a)
        return 0;
    print_frame(out, g, o);
    for (;;) {
        fputs("> ", out);
        fflush(out);
        if (!fgets(line, sizeof line, in)) {
            fputs("(end of input: auto)\n", out);
            cd_observer_auto(o);
            return 1;
        }
        line[strcspn(line, "\r\n")] = '\0';
        /* A script's answers are not echoed by a terminal: show them, so
         * that the log reads as a dialogue. */
        if (!isatty(fileno(in)))
            fprintf(out, "%s\n", line);
        switch (cd_step_line_action(a, line, &id)) {
        case CD_STEP_PICK:
            cd_observer_answer(o, id);
            return 1;
        case CD_STEP_AUTO:
            cd_observer_auto(o);
            return 1;
        case CD_STEP_QUIT:
            cd_observer_stop(o);
            return 1;
        default:
            fprintf(out, "'%s' is not the key of a thread that can run "
                    "(see STEP above)\n", line);
        }
    }
}

int cd_view_text(FILE *in, FILE *out, const cd_scenario_t *s, int variant,
                 const cd_run_opts_t *opts, int w, int h,
                 cd_run_result_t *r)
{
    cd_observer_t *o;
    cd_grid_t g = { 0 };
    int rc = cd_grid_resize(&g, w, h);
    if (rc != 0)
        return rc;
    rc = cd_observer_start(&o, s, variant, opts);
    if (rc != 0) {
        cd_grid_free(&g);
        return rc;
    }
    unsigned long major = 0, minor = 0, shown_major = 0, shown_minor = 0;
    int64_t last = -TEXT_GAP_MS;
    for (;;) {
        cd_observer_sample(o);
        if (cd_observer_finished(o)) {
            print_frame(out, &g, o);
            break;
        }
        if (text_step(in, out, &g, o))
            continue;
        cd_observer_signature(o, &major, &minor);
        /* Nothing to show before the first thread is there; while the
         * learner steps, only the decisions (a frame between two of them
         * would depend on when it was sampled). */
        if (o->snap.nthreads > 0 && !cd_observer_stepping(o) &&
            (major != shown_major ||
             (minor != shown_minor && now_ms() - last >= TEXT_GAP_MS))) {
            print_frame(out, &g, o);
            shown_major = major;
            shown_minor = minor;
            last = now_ms();
        }
        struct timespec ts = { 0, CD_FRAME_MS * 1000000L };
        nanosleep(&ts, NULL);
    }
    rc = cd_observer_finish(o, r);
    cd_grid_free(&g);
    return rc;
}
