/*
 * books.c - the checker's books of the records an exercise's program
 * sends (see books.h).
 */
#include "books.h"

#include <stdio.h>
#include <string.h>

void cd_books_init(cd_books_t *b, const cd_exercise_spec_t *spec)
{
    memset(b, 0, sizeof *b);
    b->spec = spec;
}

void cd_books_free(cd_books_t *b)
{
    cd_judge_free(b->run);
    b->run = NULL;
}

static void out_of_place(cd_books_t *b, const char *what)
{
    if (!b->fault[0])
        snprintf(b->fault, sizeof b->fault, "%s", what);
}

/* " free explore": a name added once. */
static void add_failed(cd_books_t *b, const char *name)
{
    size_t n = strlen(name), len = strlen(b->failed);
    for (const char *p = strstr(b->failed, name); p; p = strstr(p + 1, name))
        if ((p == b->failed || p[-1] == ' ') && (p[n] == ' ' || !p[n]))
            return;
    snprintf(b->failed + len, sizeof b->failed - len, "%s%s", len ? " " : "",
             name);
}

static int same_size(const cd_params_t *x, const cd_params_t *y)
{
    return x->threads == y->threads && x->iterations == y->iterations &&
           x->workers == y->workers;
}

/* A run begins: its sizes must be ones the running stage makes. */
static void run_begins(cd_books_t *b, const cd_effect_t *e)
{
    const cd_exercise_spec_t *s = b->spec;
    cd_params_t p = { .threads = e->a, .iterations = e->b, .workers = e->c };
    cd_stage_books_t *st = &b->st[b->stage];
    int fits = 0;

    if (b->in_run || b->stage < CD_STAGE_FREE ||
        b->stage > CD_STAGE_PARALLEL) {
        out_of_place(b, b->in_run ? "a run began inside another"
                                  : "a run outside the stages that run");
        return;
    }
    b->in_run = 1;
    b->run_size = -1;
    if (b->stage == CD_STAGE_FREE) {
        for (int i = 0; i < s->nfree && !fits; i++)
            if (same_size(&p, &s->free[i]))
                fits = 1, b->run_size = i;
    } else {
        fits = same_size(&p, b->stage == CD_STAGE_EXPLORE ? &s->explore
                                                          : &s->parallel);
    }
    if (!fits) {
        st->wrong_size++;
        return;
    }
    b->run = cd_judge_new(s->name, &p);
    if (!b->run)
        out_of_place(b, "a run the checker could not book (no memory?)");
}

/* A run ends: the judge's verdict on it. */
static void run_ends(cd_books_t *b, const cd_effect_t *e)
{
    cd_stage_books_t *st = &b->st[b->stage];
    if (!b->in_run) {
        out_of_place(b, "a run ended that never began");
        return;
    }
    b->in_run = 0;
    if (!b->run)
        return; /* a size the stage does not make: counted already */
    cd_verdict_t v;
    int most = 0;
    cd_judge_finish(b->run, e->a, &v, &most);
    cd_judge_free(b->run);
    b->run = NULL;
    st->runs++;
    if (b->run_size >= 0)
        st->by_size[b->run_size]++;
    st->most = most;
    if (v.status == CD_HELD) {
        st->held++;
    } else if (!st->first_bad) {
        st->first_bad = st->runs;
        snprintf(st->why, sizeof st->why, "%s", v.observed);
    }
}

static void book(cd_books_t *b, const cd_effect_t *e)
{
    if (b->ended) {
        out_of_place(b, "records after the end of the verdict");
        return;
    }
    switch (e->kind) {
    case CD_EFF_STAGE:
        if (b->stage || b->in_run || e->a < CD_STAGE_FREE ||
            e->a > CD_STAGES || b->st[e->a].begun) {
            out_of_place(b, "a stage began twice, or inside another");
            return;
        }
        b->stage = e->a;
        b->st[e->a].begun = 1;
        return;
    case CD_EFF_STAGE_END:
        if (e->a != b->stage || !b->stage) {
            out_of_place(b, "a stage ended that was not running");
            return;
        }
        /* A run cut short by the stage's end (its threads were stuck)
         * counts for nothing. */
        cd_judge_free(b->run);
        b->run = NULL;
        b->in_run = 0;
        b->st[b->stage].ended = 1;
        b->st[b->stage].passed = e->b == 1;
        if (e->b != 1)
            add_failed(b, cd_stage_name(b->stage));
        b->stage = 0;
        return;
    case CD_EFF_END:
        b->ended = 1;
        return;
    case CD_EFF_REFUSED:
        b->refused = 1;
        return;
    case CD_EFF_TSAN_RUN:
        b->tsan_run = 1;
        return;
    case CD_EFF_RUN:
        run_begins(b, e);
        return;
    case CD_EFF_RUN_END:
        run_ends(b, e);
        return;
    default:
        if (!b->in_run)
            out_of_place(b, "an effect outside any run");
        else if (b->run)
            cd_judge_apply(b->run, e);
    }
}

void cd_books_feed(cd_books_t *b, const void *data, size_t len)
{
    const unsigned char *p = data;
    while (len > 0) {
        size_t take = sizeof(cd_effect_t) - b->npart;
        if (take > len)
            take = len;
        memcpy(b->part + b->npart, p, take);
        b->npart += take;
        p += take;
        len -= take;
        if (b->npart == sizeof(cd_effect_t)) {
            cd_effect_t e;
            memcpy(&e, b->part, sizeof e);
            b->npart = 0;
            book(b, &e);
        }
    }
}

const char *cd_books_running(const cd_books_t *b)
{
    return b->stage ? cd_stage_name(b->stage) : NULL;
}

/* Every run of the stage the books hold did what it was asked. */
static int runs_held(const cd_stage_books_t *st, char *why, size_t size)
{
    if (st->wrong_size) {
        snprintf(why, size, "%d run%s of a size this stage does not make",
                 st->wrong_size, st->wrong_size == 1 ? "" : "s");
        return 0;
    }
    if (st->first_bad) {
        snprintf(why, size, "run %d: %s", st->first_bad, st->why);
        return 0;
    }
    return 1;
}

int cd_books_confirm(const cd_books_t *b, int stage, char *why, size_t size)
{
    const cd_exercise_spec_t *s = b->spec;
    const cd_stage_books_t *st = &b->st[stage];
    char sz[64];

    why[0] = '\0';
    if (!st->begun || !st->ended) {
        snprintf(why, size, "the stage %s", st->begun ? "never ended"
                                                      : "never ran");
        return 0;
    }
    if (!runs_held(st, why, size))
        return 0;
    switch (stage) {
    case CD_STAGE_FREE:
        for (int i = 0; i < s->nfree; i++)
            if (st->by_size[i] != s->free_runs) {
                snprintf(why, size, "the services saw %d of the %d runs "
                         "of %s this stage makes", st->by_size[i],
                         s->free_runs,
                         cd_exercise_size_text(&s->free[i], sz, sizeof sz));
                return 0;
            }
        return 1;
    case CD_STAGE_EXPLORE:
        if (st->runs < s->pct_runs) {
            snprintf(why, size, "the services saw %d schedules; the "
                     "exploration makes at least %d", st->runs, s->pct_runs);
            return 0;
        }
        return 1;
    case CD_STAGE_PARALLEL:
        if (st->runs != 1) {
            snprintf(why, size, "the services saw %d runs, not one",
                     st->runs);
            return 0;
        }
        if (st->most < 2) {
            snprintf(why, size, "%s (the service saw at most %d of its "
                     "calls at once)", s->serial_why, st->most);
            return 0;
        }
        return 1;
    default:
        return 1;
    }
}
