/*
 * philosophers.c - the harness of the exercise philosophers (the
 * learner's part: lessons/exercises/philosophers.c, its interface:
 * philosophers.h).
 *
 * N diners round a table of N forks, each eating its meals with the forks
 * on either side; the kitchen's books (every meal: who ate, holding which
 * of its forks, when it began and ended; every meal() that returned) and
 * the invariant judged from them, by this program and again by the
 * checker. Everything here but reach(), eat() and cd_exercise is static:
 * the learner's file cannot reach it, and the build refuses a learner's
 * file that defines a name beyond philosophers.h.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "cd_registry.h"
#include "cd_thread.h"
#include "harness/exercise.h"
#include "harness/philosophers.h"
#include "../../cli/ledger.h"

#define REACH_USEC 5000 /* reaching for the second fork: long next to a
                           meal, so that the ring closes in free runs too */
#define EAT_USEC 3000
#define THINK_USEC 5000 /* and up to 12 ms more, by seat and meal */

void reach(diner_t *d)
{
    (void)d;
    cd_latency("reach", REACH_USEC);
}

/* 1 if the calling thread holds f, by the registry's own record of its
 * owner (relaxed: looking orders no diner after another). */
static int held_here(const fork_t *f)
{
    cd_obj_rec_t *o = cd_reg_object(f->lock.id);
    return o && atomic_load_explicit(&o->owner, memory_order_relaxed) ==
                    cd_self();
}

/* The kitchen's books (cli/ledger.h) record every meal, where the
 * learner's code cannot write: how many of its two forks the diner held
 * by the registry's count, whatever its code believed, and when the meal
 * began and ended - two neighbours eating at once share a fork. */
void eat(diner_t *d)
{
    int forks = held_here(d->left) + held_here(d->right);
    cd_ledger_put(CD_EFF_CALL, d->index, forks, 0, 0);
    cd_latency("eat", EAT_USEC);
    cd_ledger_put(CD_EFF_CALL_END, d->index, 0, 0, 0);
}

typedef struct dinner {
    table_t *table;
    diner_t *diner;
    int meals;
} dinner_t;

static void dine(void *ctx, int index)
{
    dinner_t *dn = ctx;
    for (int i = 0; i < dn->meals; i++) {
        /* Diners think for different whiles (the same in every run, so
         * that a controlled run replays): after the first meal they
         * come back to the table at different times, as real ones do. */
        if (i > 0)
            cd_latency("think", THINK_USEC +
                                    (index * 3 + i * 7) % 5 * 3000);
        meal(dn->table, &dn->diner[index]);
        cd_ledger_put(CD_EFF_RETURNED, index, 0, 0, 0);
    }
}

/* Lays n forks; returns how many it made (n, or fewer when the registry
 * was full). */
static int lay_forks(fork_t *fork, int n)
{
    int made = 0;
    for (; made < n; made++) {
        fork_t *f = &fork[made];
        f->id = made;
        snprintf(f->name, sizeof f->name, "fork-%d", made + 1);
        if (cd_mutex_init(&f->lock, f->name) != 0)
            break;
    }
    return made;
}

/* The invariant (cli/ledger.c): every diner eats all its meals, each
 * holding both its forks, never while a neighbour eats. */
static void run(const cd_params_t *p, const cd_ex_plan_t *plan,
                cd_verdict_t *v)
{
    dinner_t dn = { 0 };
    fork_t *fork;
    int n, ready = 0, books = cd_ledger_begin("philosophers", p);

    n = plan->diners;
    dn.meals = plan->meals;
    fork = calloc((size_t)n, sizeof *fork);
    dn.diner = calloc((size_t)n, sizeof *dn.diner);
    if (fork && dn.diner)
        ready = lay_forks(fork, n);
    for (int i = 0; ready == n && i < n; i++)
        dn.diner[i] = (diner_t){ .index = i, .ndiners = n,
                                 .left = &fork[i],
                                 .right = &fork[(i + 1) % n] };
    if (books != 0 || ready < n || !(dn.table = table_create(n))) {
        cd_ledger_end_error(v, 1, "could not lay the table");
    } else {
        int rc = cd_team_run(n, "diner", dine, &dn);
        cd_ledger_end_error(v, rc < 0, "could not start %d threads", n);
        table_destroy(dn.table);
    }
    for (int i = 0; i < ready; i++)
        cd_mutex_destroy(&fork[i].lock);
    free(fork);
    free(dn.diner);
}

#ifdef CD_TSAN
/* ThreadSanitizer's lock-order graph sees a waiter's diners take fork-1
 * then fork-2, ..., the last fork then fork-1: a ring, which it reports
 * as a potential deadlock. It cannot see the waiter, who seats one diner
 * fewer than there are forks, so that the ring never closes (as in
 * demos/philosophers.c). concdemo's own lock-order graph counts the
 * seats (a gate: cd_sem.h) and still reports a ring that can close, and
 * the controlled scheduler finds its deadlock: this stage is for data
 * races. Every fork is taken from this harness's diners. */
const char *__tsan_default_suppressions(void);
const char *__tsan_default_suppressions(void)
{
    return "deadlock:harness/philosophers.c\n";
}
#endif

EX_SCENARIO("philosophers", run,
            .defaults = { .threads = 5, .iterations = 10 },
            .min = { .threads = 2, .iterations = 1 },
            .max = { .threads = 26, .iterations = 1000 });
