/*
 * orphans.c - the harness of the exercise orphans (the learner's part:
 * lessons/exercises/orphans.c, its interface: orphans.h).
 *
 * Each order is a checkout task on the executor. The services write down
 * what they did (cli/ledger.h): a subtask's start (CD_EFF_CALL, b = which)
 * and its act (CD_EFF_CALL_END), the failure report and the checkout's
 * return (CD_EFF_RETURNED, b = 1 and 0), each with its time since the
 * checkout began. The judge (cli/ledger.c) finds in their order what
 * acted after the failure was reported or after its checkout returned.
 * Everything here but the services and cd_exercise is static.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "cd_exec.h"
#include "cd_registry.h"
#include "cd_sched.h"
#include "harness/exercise.h"
#include "harness/orphans.h"
#include "harness/tasks.h"
#include "../../cli/ledger.h"

struct order {
    int index;
    cd_exec_t *e;
    int64_t start_ns;
    atomic_int done; /* subtasks that acted */
};

enum { RESERVE, CHARGE, EMAIL };

static int64_t since(const order_t *o)
{
    int64_t ns = cd_reg_elapsed_ns() - o->start_ns;
    int scale = cd_reg_latency_scale();
    return scale > 0 ? ns * 1000 / scale : ns;
}

/* A subtask: writes down its start, awaits its service, acts. A cancel
 * ends it at the await: it never acts. */
static void subtask(order_t *o, int which, const char *what, int64_t usec)
{
    cd_ledger_put(CD_EFF_CALL, o->index, which, 0, since(o));
    cd_await_latency(what, usec);
    atomic_fetch_add(&o->done, 1);
    cd_ledger_put(CD_EFF_CALL_END, o->index, which, 0, since(o));
}

void reserve_stock(void *order)
{
    subtask(order, RESERVE, "reserve stock", 10000);
}

void charge_card(void *order)
{
    subtask(order, CHARGE, "payment provider", 80000);
}

void send_email(void *order)
{
    subtask(order, EMAIL, "mail server", 90000);
}

cd_exec_t *order_exec(order_t *o)
{
    return o->e;
}

int subtasks_done(order_t *o)
{
    return atomic_load(&o->done);
}

/* c = 1 in a controlled run, where the deadlines order the services
 * exactly: there a report that comes after the charge is a timeout not
 * enforced. (In a free run a starved worker may fire an overdue charge
 * before an overdue deadline on another.) */
void report_failure(order_t *o)
{
    cd_ledger_put(CD_EFF_RETURNED, o->index, 1, cd_sched_active(), since(o));
}

static void checkout_task(void *arg)
{
    order_t *o = arg;
    o->start_ns = cd_reg_elapsed_ns();
    checkout(o);
    cd_ledger_put(CD_EFF_RETURNED, o->index, 0, 0, since(o));
}

/* Makes order i, on e, and spawns its checkout (ex_spawn_fn). */
static int spawn_checkout(void *orders, cd_exec_t *e, int i)
{
    order_t *o = (order_t *)orders + i;
    char name[CD_NAME_MAX];
    snprintf(name, sizeof name, "checkout-%d", i + 1);
    o->index = i;
    o->e = e;
    atomic_init(&o->done, 0);
    return cd_exec_spawn(e, name, checkout_task, o);
}

static void run(const cd_params_t *p, const cd_ex_plan_t *plan,
                cd_verdict_t *v)
{
    int books = cd_ledger_begin("orphans", p);
    order_t *orders = calloc((size_t)plan->orders, sizeof *orders);
    if (books != 0 || !orders) {
        cd_ledger_end_error(v, 1, "could not set up %d orders",
                            plan->orders);
    } else {
        int rc = ex_run_spawned(plan->orders, p->workers, spawn_checkout,
                                orders);
        cd_ledger_end_error(v, rc != 0, "could not start the executor");
    }
    free(orders);
}

EX_SCENARIO("orphans", run,
            .defaults = { .iterations = 4, .workers = 1 },
            .min = { .iterations = 1, .workers = 1 },
            .max = { .iterations = 64, .workers = 8 },
            .explore_on_time = 1);
