/*
 * spurious.c - `if` instead of `while`: a wake-up taken for a promise.
 *
 * The pitfall: cooks wait for order tickets on a rail. A cook looks once -
 * "if the rail is empty, wait" - and when the wait returns it takes a
 * ticket, sure that one is there. But a return from a condition variable
 * says only "something happened, look again": the till calls "order up!"
 * to every waiting cook (a broadcast) for one ticket, so all of them wake
 * and all but one find the rail empty. Cooks and till share one condition
 * variable, so a cook also wakes when another cook tells the till it is
 * free. And POSIX lets a wait return with no signal at all (a spurious
 * wake-up). A cook that does not look again takes from an empty rail.
 *
 * Symptom: takes from an empty rail (in a real program: a stale slot, a
 *          count below zero, a crash far from the cause).
 * Run:     concdemo spurious                    the broken cooks
 *          concdemo spurious --fixed=while      look again after every
 *                                               wake-up (recommended)
 *          concdemo spurious --fixed=two-conds  the till and the cooks wait
 *                                               on condition variables of
 *                                               their own, cooks in a while
 *          concdemo explore spurious --threads 1 --spurious
 *                                               one cook, and only the
 *                                               wake-ups POSIX allows
 * Lesson:  lessons/08-spurious.md
 *
 * The kitchen's rule - the till posts the next ticket only when every cook
 * is free and waiting - is what makes every run show the pitfall, not
 * only an unlucky one: each ticket finds all the cooks asleep, and each
 * "order up!" wakes all of them. --threads sets the number of cooks; with
 * one cook only a spurious wake-up can catch the broken wait.
 */
#include <stdatomic.h>
#include <stdlib.h>

#include "../lib/cd_cond.h"
#include "../lib/cd_mutex.h"
#include "../lib/cd_registry.h"
#include "../lib/cd_thread.h"
#include "support.h"

#define NO_TICKET (-1) /* take() found the rail empty */
#define CLOSED (-2)    /* the rail is empty and the till has closed */

typedef struct kitchen {
    int variant;
    int ncooks, ntickets;
    cd_mutex_t lock;        /* guards everything below */
    int *rail;              /* tickets posted, not taken yet */
    int count;
    int closed;             /* the till posts no more */
    int asleep;             /* cooks that went to sleep since the last
                               "order up!" (the kitchen's rule) */
    cd_cond_t changed;      /* broken, "while": cooks and till share it */
    cd_cond_t posted;       /* "two-conds": only cooks wait here */
    cd_cond_t free_cook;    /* "two-conds": only the till waits here */
    int empty_takes;        /* figures, under lock too */
    int wakeups;            /* returns from a wait */
    /* How often each ticket was cooked (relaxed: counting must not order
     * the cooks for them). */
    atomic_int *cooked;
    int g_cooked, g_empty;  /* live figures for concdemo --view */
} kitchen_t;

/* Takes the ticket at the end of the rail. Caller holds k->lock. On an
 * empty rail there is nothing to take: a real rail would hand out a stale
 * slot or drive its count below zero; this one counts the take. */
static int take(kitchen_t *k)
{
    if (k->count > 0) {
        cd_point("take ticket");
        return k->rail[--k->count];
    }
    if (k->closed)
        return CLOSED;
    cd_point("rail empty");
    k->empty_takes++;
    cd_reg_gauge_add(k->g_empty, 1);
    return NO_TICKET;
}

/* A cook goes to sleep: the kitchen's rule counts it, and the last cook
 * to fall asleep tells the till, on the till's condition variable - which
 * in the broken and "while" kitchens is the cooks' own as well, so the
 * broadcast wakes the other cooks too. Caller holds k->lock. */
static void falls_asleep(kitchen_t *k, cd_cond_t *till)
{
    if (++k->asleep == k->ncooks)
        cd_cond_broadcast(till);
}

/* ===================== the cooks' waits, side by side ==================== */

/* Broken: one look at the rail, then trust the wake-up. */
static int next_ticket_broken(kitchen_t *k)
{
    cd_mutex_lock(&k->lock);
    if (k->count == 0 && !k->closed) {         /* BUG: looks only once */
        falls_asleep(k, &k->changed);
        cd_cond_wait(&k->changed, &k->lock);
        k->wakeups++;
    }
    int t = take(k);                           /* BUG: the rail may be empty */
    cd_mutex_unlock(&k->lock);
    return t;
}

/* Fix "while": after every wake-up, look again; go back to sleep if the
 * rail is still empty. */
static int next_ticket_while(kitchen_t *k)
{
    cd_mutex_lock(&k->lock);
    while (k->count == 0 && !k->closed) {      /* FIX: look again */
        falls_asleep(k, &k->changed);
        cd_cond_wait(&k->changed, &k->lock);
        k->wakeups++;
    }
    int t = take(k);
    cd_mutex_unlock(&k->lock);
    return t;
}

/* Fix "two-conds": the cooks sleep on `posted`, the till on `free_cook`,
 * so that the till's news reaches only the till - and still in a while,
 * since "order up!" wakes every cook for one ticket. */
static int next_ticket_two_conds(kitchen_t *k)
{
    cd_mutex_lock(&k->lock);
    while (k->count == 0 && !k->closed) {      /* FIX: look again */
        falls_asleep(k, &k->free_cook);        /* FIX: the till's own */
        cd_cond_wait(&k->posted, &k->lock);    /* FIX: only cooks here */
        k->wakeups++;
    }
    int t = take(k);
    cd_mutex_unlock(&k->lock);
    return t;
}

static int (*const next_ticket[])(kitchen_t *) = {
    next_ticket_broken, next_ticket_while, next_ticket_two_conds,
};

/* =============== the till, one condition variable or two ================= */

/* Posts the ticket, or closes the rail when ticket < 0; every sleeping
 * cook is about to be woken. Caller holds k->lock. */
static void post_or_close(kitchen_t *k, int ticket)
{
    if (ticket >= 0)
        k->rail[k->count++] = ticket;
    else
        k->closed = 1;
    k->asleep = 0;
}

/* Broken and "while": the till sleeps on the cooks' condition variable.
 * Where waiters of two kinds share one, only a broadcast is sure to reach
 * the kind it is meant for. */
static void till_acts_one_cond(kitchen_t *k, int ticket)
{
    cd_mutex_lock(&k->lock);
    while (k->asleep < k->ncooks)              /* the kitchen's rule */
        cd_cond_wait(&k->changed, &k->lock);
    post_or_close(k, ticket);
    cd_cond_broadcast(&k->changed);            /* "order up!" */
    cd_mutex_unlock(&k->lock);
}

/* Fix "two-conds": the till sleeps on a condition variable of its own,
 * and its "order up!" reaches cooks only. */
static void till_acts_two_conds(kitchen_t *k, int ticket)
{
    cd_mutex_lock(&k->lock);
    while (k->asleep < k->ncooks)
        cd_cond_wait(&k->free_cook, &k->lock); /* FIX: the till's own */
    post_or_close(k, ticket);
    cd_cond_broadcast(&k->posted);             /* FIX: cooks only */
    cd_mutex_unlock(&k->lock);
}

static void (*const till_acts[])(kitchen_t *, int) = {
    till_acts_one_cond, till_acts_one_cond, till_acts_two_conds,
};

/* ================================ harness ================================ */

/* The till: every ticket, then closing time. */
static void till(void *ctx)
{
    kitchen_t *k = ctx;
    for (int t = 0; t < k->ntickets; t++)
        till_acts[k->variant](k, t);
    till_acts[k->variant](k, -1);
}

static void cook(void *ctx, int index)
{
    kitchen_t *k = ctx;
    (void)index;
    for (;;) {
        int t = next_ticket[k->variant](k);
        if (t == CLOSED)
            break;
        if (t == NO_TICKET)
            continue; /* nothing to cook: the wait returned for nothing */
        atomic_fetch_add_explicit(&k->cooked[t], 1, memory_order_relaxed);
        cd_reg_gauge_add(k->g_cooked, 1);
    }
}

static void check(kitchen_t *k, cd_verdict_t *v)
{
    int cooked = 0, twice = 0, never = 0;
    for (int t = 0; t < k->ntickets; t++) {
        int n = atomic_load(&k->cooked[t]);
        cooked += n;
        twice += n > 1;
        never += n == 0;
    }
    if (k->ntickets == 1)
        cd_verdict_expect(v, "the ticket cooked once, and no cook takes from "
                          "an empty rail");
    else
        cd_verdict_expect(v, "%d tickets cooked once each, and no cook takes "
                          "from an empty rail", k->ntickets);
    cd_verdict_num(v, "tickets", k->ntickets);
    cd_verdict_num(v, "cooks", k->ncooks);
    cd_verdict_num(v, "cooked", cooked);
    cd_verdict_num(v, "takes_from_empty", k->empty_takes);
    cd_verdict_num(v, "wakeups", k->wakeups);
    if (k->empty_takes || twice || never)
        cd_verdict_observe(v, CD_VIOLATED, "%d %s from an empty rail; %d of "
                           "%d %s cooked, %d wake-ups for %d %s",
                           k->empty_takes,
                           cd_plural(k->empty_takes, "take", "takes"),
                           k->ntickets - never, k->ntickets,
                           cd_plural(k->ntickets, "ticket", "tickets"),
                           k->wakeups, k->ntickets,
                           cd_plural(k->ntickets, "ticket", "tickets"));
    else
        cd_verdict_observe(v, CD_HELD, "%d %s cooked once each by %d %s, "
                           "no take from an empty rail; %d wake-ups",
                           cooked, cd_plural(cooked, "ticket", "tickets"),
                           k->ncooks, cd_plural(k->ncooks, "cook", "cooks"),
                           k->wakeups);
}

void cd_spurious_run(const cd_params_t *p, int variant, cd_verdict_t *v)
{
    kitchen_t k = { .variant = variant, .ncooks = p->threads,
                    .ntickets = p->iterations };
    int have_lock = 0, have_changed = 0, have_posted = 0, have_free = 0;

    k.rail = calloc((size_t)k.ntickets, sizeof *k.rail);
    k.cooked = calloc((size_t)k.ntickets, sizeof *k.cooked);
    int ok = k.rail && k.cooked;
    for (int t = 0; ok && t < k.ntickets; t++)
        atomic_init(&k.cooked[t], 0);
    ok = ok && (have_lock = cd_mutex_init(&k.lock, "rail-lock") == 0);
    if (variant == 2) {
        ok = ok && (have_posted = cd_cond_init(&k.posted, "ticket-posted")
                    == 0);
        ok = ok && (have_free = cd_cond_init(&k.free_cook, "cook-free")
                    == 0);
    } else {
        ok = ok && (have_changed = cd_cond_init(&k.changed, "rail-changed")
                    == 0);
    }
    if (!ok) {
        cd_verdict_observe(v, CD_ERROR, "could not set up the kitchen");
        goto out;
    }
    cd_demo_figures("tickets", k.ntickets, "cooked", &k.g_cooked,
                    "takes from empty", &k.g_empty, NULL);

    if (cd_demo_beside(&(cd_demo_beside_t){
            .name = "till", .fn = till, .who = "the till", .n = k.ncooks,
            .prefix = "cook", .team = cook, .what = "cooks", .ctx = &k }, v)
        == 0)
        check(&k, v);
out:
    if (have_changed)
        cd_cond_destroy(&k.changed);
    if (have_posted)
        cd_cond_destroy(&k.posted);
    if (have_free)
        cd_cond_destroy(&k.free_cook);
    if (have_lock)
        cd_mutex_destroy(&k.lock);
    free(k.rail);
    free(k.cooked);
}
