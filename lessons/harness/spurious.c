/*
 * spurious.c - the harness of the exercise spurious (the learner's part:
 * lessons/exercises/spurious.c, its interface: spurious.h).
 *
 * The ticket rail the till and the cooks share, the till (one thread that
 * takes an order, posts its ticket, and closes at the end) and the cooks
 * (a team that asks for tickets until the rail is closed), and the
 * scenario concdemo check runs. The rail writes every ticket posted and
 * every take into the run's books (cli/ledger.h) - a take from an empty
 * rail by the rail's own count, whatever the cook believed - and every
 * cook that goes home; the invariant is judged from them, by this program
 * and again by the checker. Everything here but the rail's functions and
 * cd_exercise is static: the learner's file cannot reach it, and the
 * build refuses a learner's file that defines a name of its own beyond
 * spurious.h.
 */
#include <stdlib.h>

#include "cd_thread.h"
#include "harness/exercise.h"
#include "harness/spurious.h"
#include "harness/team.h"
#include "../../cli/ledger.h"

#define TAKE_ORDER_USEC 200 /* the till takes an order in 0.2 ms */

/* The rail: a ring of the tickets posted and not taken yet. Plain memory,
 * as a real one would be: the learner's lock guards it, and ThreadSanitizer
 * sees a look at it without that lock. */
struct rail {
    int *slot;
    int cap, head, count;
    int closed;
};

/* Which cook the calling thread is (0-based), or -1 for the till: the
 * rail writes down who took. */
static _Thread_local int cook_no = -1;

int rail_count(const rail_t *r)
{
    return r->count;
}

int rail_closed(const rail_t *r)
{
    return r->closed;
}

int rail_take(rail_t *r)
{
    if (r->count > 0) {
        int t = r->slot[r->head];
        r->head = (r->head + 1) % r->cap;
        r->count--;
        cd_ledger_put(CD_EFF_TAKE, cook_no, t, 0, 0);
        return t;
    }
    if (r->closed)
        return CLOSED;
    /* Nothing to take: the books say so, and so does the trace (the
     * checker explains a failing schedule from this point back to the
     * wait that returned before it). */
    cd_ledger_put(CD_EFF_TAKE, cook_no, -1, 0, 0);
    cd_point("rail empty");
    return NO_TICKET;
}

void rail_put(rail_t *r, int ticket)
{
    cd_ledger_put(CD_EFF_POST, ticket, 0, 0, 0);
    if (r->count == r->cap)
        return; /* more than the till ever posts: the books say so */
    r->slot[(r->head + r->count) % r->cap] = ticket;
    r->count++;
}

void rail_close(rail_t *r)
{
    cd_ledger_put(CD_EFF_CLOSE, r->count, 0, 0, 0);
    r->closed = 1;
}

typedef struct shift {
    kitchen_t *kitchen;
    int tickets;
} shift_t;

/* The till: takes each order (its pace), posts its ticket, then closes. */
static void till(void *ctx)
{
    shift_t *s = ctx;
    for (int t = 0; t < s->tickets; t++) {
        cd_latency("take-order", TAKE_ORDER_USEC);
        post_ticket(s->kitchen, t);
    }
    post_ticket(s->kitchen, CLOSED);
}

/* A cook: asks for tickets until the rail is closed. A ticket is cooked
 * at once; anything else (NO_TICKET: the take came up empty) means
 * nothing to cook, and the cook asks again, as in the demo. */
static void cook(void *ctx, int index)
{
    shift_t *s = ctx;
    cook_no = index;
    while (next_ticket(s->kitchen) != CLOSED)
        ;
    cd_ledger_put(CD_EFF_RETURNED, index, 0, 0, 0); /* went home */
}

/* The invariant (cli/ledger.c): every ticket posted and taken once, no
 * take from an empty rail, every cook home at closing time. */
static void run(const cd_params_t *p, const cd_ex_plan_t *plan,
                cd_verdict_t *v)
{
    shift_t s = { 0 };
    rail_t rail = { 0 };

    s.tickets = plan->tickets;
    rail.cap = plan->tickets > 0 ? plan->tickets : 1;
    rail.slot = calloc((size_t)rail.cap, sizeof *rail.slot);
    if (cd_ledger_begin("spurious", p) != 0 || !rail.slot ||
        !(s.kitchen = kitchen_create(&rail, plan->cooks))) {
        cd_ledger_end_error(v, 1, "could not set up the kitchen");
        free(rail.slot);
        return;
    }
    ex_run_beside(&(ex_beside_t){ .name = "till", .fn = till,
                                  .n = plan->cooks, .team = "cook",
                                  .members = "cooks", .member = cook,
                                  .ctx = &s }, v);
    kitchen_destroy(s.kitchen);
    free(rail.slot);
}

EX_SCENARIO("spurious", run,
            .defaults = { .threads = 2, .iterations = 4 },
            .min = { .threads = 1, .iterations = 1 },
            .max = { .threads = 16, .iterations = 1000 });
