/*
 * inventory.c - the harness of the exercise inventory (the learner's
 * part: lessons/exercises/inventory.c, its interface: inventory.h).
 *
 * The sale of the demo (demos/inventory.c): three products, each with
 * `buyers` buyers and a quarter as many units; the first three quarters
 * of the buyers come at once, the rest after the rush has paid; every
 * 7th buyer's card is declined, the first one first. The payment
 * provider writes its books; the stock is counted into them when the sale
 * is over; the invariant is judged from them. Everything here but pay()
 * and cd_exercise is static: the learner's file cannot reach it, and the
 * build refuses a learner's file that defines a name beyond inventory.h.
 */
#include <stdio.h>
#include <stdlib.h>

#include "cd_exec.h"
#include "cd_registry.h"
#include "harness/exercise.h"
#include "harness/inventory.h"
#include "harness/tasks.h"
#include "../../cli/ledger.h"

#define PAY_USEC 2000  /* the payment provider takes 2 ms */
#define LATE_USEC 5000 /* the latecomers come once the rush has paid */

/* The card issuer is another system: every payment is in the books
 * (cli/ledger.h), which apply the same rule of declines to say what was
 * sold; the call's start and end are in them too. */
int pay(const buyer_t *b)
{
    cd_ledger_put(CD_EFF_CALL, b->product->id, 0, 0, 0);
    cd_await_latency("payment", PAY_USEC);
    cd_ledger_put(CD_EFF_PAY, b->product->id, b->no, 0, 0);
    cd_ledger_put(CD_EFF_CALL_END, b->product->id, 0, 0, 0);
    return (b->no - 1) % CD_EX_SALE_DECLINE_EVERY != 0;
}

/* The run's shop, products and plan: what a visit is made from. */
typedef struct sale {
    shop_t *shop;
    product_t *products;
    const cd_ex_plan_t *plan;
} sale_t;

/* A visit: its buyer, and whether it comes after the rush. */
typedef struct visit {
    buyer_t buyer;
    int late;
} visit_t;

static void visit_task(void *ctx, void *job)
{
    visit_t *v = job;
    if (v->late)
        cd_await_latency("arrival", LATE_USEC);
    buy(((sale_t *)ctx)->shop, &v->buyer);
}

/* Visit k: buyer k / products + 1 of product k % products (the products'
 * buyers interleaved); the last quarter of each product's buyers come
 * late. */
static void make_visit(void *ctx, int k, void *job, char *name,
                       size_t size)
{
    sale_t *sale = ctx;
    int no = k / sale->plan->products + 1;
    int late_from = sale->plan->buyers - sale->plan->buyers / 4;
    product_t *p = &sale->products[k % sale->plan->products];
    snprintf(name, size, "buyer-%d.%d", p->id + 1, no);
    *(visit_t *)job = (visit_t){ { no, p }, no > late_from };
}

/* The invariant (cli/ledger.c): no product sold beyond its stock, every
 * unit not sold back on the shelf. */
static void run(const cd_params_t *p, const cd_ex_plan_t *plan,
                cd_verdict_t *v)
{
    shop_t *s = NULL;

    product_t *products = calloc((size_t)plan->products, sizeof *products);
    if (cd_ledger_begin("inventory", p) != 0 || !products ||
        !(s = shop_create(plan->products))) {
        cd_ledger_end_error(v, 1, "could not set up the sale");
    } else {
        for (int i = 0; i < plan->products; i++) {
            products[i].id = i;
            atomic_init(&products[i].stock, plan->stock);
        }
        int rc = ex_run_tasks(plan->products * plan->buyers, sizeof(visit_t),
                              p->workers, visit_task, make_visit,
                              &(sale_t){ s, products, plan });
        /* The shelves, counted once every buyer has gone. */
        for (int i = 0; rc == 0 && i < plan->products; i++)
            cd_ledger_put(CD_EFF_BALANCE, i, 0, 0,
                          atomic_load(&products[i].stock));
        cd_ledger_end_error(v, rc != 0, "could not run the buyers");
        shop_destroy(s);
    }
    free(products);
}

EX_SCENARIO("inventory", run,
            .defaults = { .iterations = 8, .workers = 1 },
            .min = { .iterations = 4, .workers = 1 },
            .max = { .iterations = 100, .workers = 4 });
