/*
 * test_ledger.c - the books of an exercise's runs (cli/ledger.c) and the
 * checker's reading of them (cli/books.c), fed records by hand: each
 * exercise's judge counts effects, not calls (a transfer that returned
 * without moving the money is a skipped transfer; a line given up that
 * the queue never refused is a line lost; a cart whose save never landed
 * is no saved cart), and the checker's books pass a stage only with
 * every run it makes, judged held - a program that says PASS and "end"
 * with no runs behind them fails. No threads start here: the records are
 * what the harnesses would write.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../cli/books.h"
#include "../cli/ledger.h"
#include "harness.h"

/* suite: ledger */

static cd_verdict_t v;
static int most;

/* Judges the records e[0..n) of one run of exercise name at sizes p. */
static void judge(const char *name, cd_params_t p, const cd_effect_t *e,
                  int n)
{
    cd_judge_t *j = cd_judge_new(name, &p);
    CU_ASSERT_PTR_NOT_NULL_FATAL(j);
    for (int i = 0; i < n; i++)
        cd_judge_apply(j, &e[i]);
    cd_judge_finish(j, 0, &v, &most);
    cd_judge_free(j);
}

/* judge(), then fails the test unless the verdict is status and what it
 * observed has `says` (NULL: not checked). */
static void expect_judged(const char *name, cd_params_t p,
                          const cd_effect_t *e, int n, int status,
                          const char *says)
{
    judge(name, p, e, n);
    if (v.status != status)
        fprintf(stderr, "\n  %s: %s\n", name, v.observed);
    ASSERT_INT_EQ(v.status, status);
    if (says)
        ASSERT_STR_HAS(v.observed, says);
}

#define REC(k, a_, b_, c_, d_) ((cd_effect_t){ (k), (a_), (b_), (c_), (d_) })

/* ================================ the judges ============================= */

/* Two tellers, one transfer each: A->B and B->A. */
static int deadlock_run(cd_effect_t *e, int skip_second, int lose)
{
    int n = 0;
    for (int t = 0; t < 2; t++) {
        e[n++] = REC(CD_EFF_CALL, t, 0, 0, 0);
        e[n++] = REC(CD_EFF_CALL_END, t, 0, 0, 0);
        if (!(t == 1 && skip_second))
            e[n++] = REC(CD_EFF_MOVE, t, t, (t + 1) % 2, 0);
        e[n++] = REC(CD_EFF_RETURNED, t, 0, 0, 0);
    }
    e[n++] = REC(CD_EFF_BALANCE, 0, 0, 0, 1000 + (skip_second ? -10 : 0));
    e[n++] = REC(CD_EFF_BALANCE, 1, 0, 0,
                 1000 + (skip_second ? 10 : 0) + (lose ? 10 : 0));
    return n;
}

/* test: a transfer that returns without moving is skipped */
static void a_transfer_that_returns_without_moving_is_skipped(void)
{
    cd_effect_t e[32];
    cd_params_t p = { .threads = 2, .iterations = 1 };
    expect_judged("deadlock", p, e, deadlock_run(e, 0, 0), CD_HELD,
                  "all 2 transfers applied, total 2000 kept");

    expect_judged("deadlock", p, e, deadlock_run(e, 1, 0), CD_VIOLATED,
                  "1 of 2 transfers applied");
    ASSERT_STR_HAS(v.observed, "transfers were skipped");
}

/* test: a balance the moves do not explain is a lost update */
static void a_balance_the_moves_do_not_explain_is_a_lost_update(void)
{
    cd_effect_t e[32];
    cd_params_t p = { .threads = 2, .iterations = 1 };
    expect_judged("deadlock", p, e, deadlock_run(e, 0, 1), CD_VIOLATED,
                  "account acct-B holds 1010, but the transfers "
                  "applied leave it 1000");
}

/* test: a move without its fraud check fails */
static void a_move_without_its_fraud_check_fails(void)
{
    cd_params_t p = { .threads = 2, .iterations = 1 };
    cd_effect_t e[] = {
        REC(CD_EFF_MOVE, 0, 0, 1, 0), REC(CD_EFF_RETURNED, 0, 0, 0, 0),
    };
    expect_judged("deadlock", p, e, 2, CD_VIOLATED, "without its fraud check");
}

/* The parallel measure of deadlock counts the fraud checks a move
 * followed: checks made outside a lock, then again inside one, are one
 * at a time where it matters. */
/* test: only the checks a move follows count as parallel */
static void only_the_checks_a_move_follows_count_as_parallel(void)
{
    cd_params_t p = { .threads = 4, .iterations = 1 };
    cd_effect_t e[40];
    int n = 0;
    for (int t = 0; t < 4; t++) /* all four at once, outside any lock */
        e[n++] = REC(CD_EFF_CALL, t, 0, 0, 0);
    for (int t = 0; t < 4; t++)
        e[n++] = REC(CD_EFF_CALL_END, t, 0, 0, 0);
    for (int t = 0; t < 4; t++) { /* then one at a time */
        e[n++] = REC(CD_EFF_CALL, t, 0, 0, 0);
        e[n++] = REC(CD_EFF_CALL_END, t, 0, 0, 0);
        e[n++] = REC(CD_EFF_MOVE, t, t, (t + 1) % 4, 0);
    }
    judge("deadlock", p, e, n);
    ASSERT_INT_EQ(most, 1);
}

/* test: an order charged twice and one never fail */
static void an_order_charged_twice_and_one_never_fail(void)
{
    cd_params_t p = { .threads = 2, .iterations = 2 };
    cd_effect_t e[] = {
        REC(CD_EFF_CALL, 0, 0, 0, 0), REC(CD_EFF_CALL, 0, 0, 0, 0),
        REC(CD_EFF_PAY, 0, 0, 0, 0), REC(CD_EFF_PAY, 0, 0, 0, 0),
        REC(CD_EFF_CALL_END, 0, 0, 0, 0), REC(CD_EFF_CALL_END, 0, 0, 0, 0),
    };
    expect_judged("race", p, e, 6, CD_VIOLATED,
                  "2 charges for 2 orders (1 charged twice or "
                  "more, 1 unpaid)");
    ASSERT_INT_EQ(most, 2);

    cd_effect_t bad[] = { REC(CD_EFF_PAY, 5, 0, 0, 0) };
    expect_judged("race", p, bad, 1, CD_VIOLATED,
                  "order 5, which this run does not have");
}

/* test: a declined card is not a charge */
static void a_declined_card_is_not_a_charge(void)
{
    /* Three orders: the first attempt of order 2 is declined. */
    cd_params_t p = { .iterations = 3, .workers = 1 };
    cd_effect_t e[] = {
        REC(CD_EFF_PAY, 0, 0, 0, 0), REC(CD_EFF_PAY, 1, 0, 0, 0),
        REC(CD_EFF_PAY, 2, 0, 0, 0),
    };
    expect_judged("async-race", p, e, 3, CD_VIOLATED, "1 never charged");
    cd_effect_t retried[] = {
        REC(CD_EFF_PAY, 0, 0, 0, 0), REC(CD_EFF_PAY, 1, 0, 0, 0),
        REC(CD_EFF_PAY, 2, 0, 0, 0), REC(CD_EFF_PAY, 2, 0, 0, 0),
    };
    expect_judged("async-race", p, retried, 4, CD_HELD, NULL);
}

/* test: lines given up must have been refused */
static void lines_given_up_must_have_been_refused(void)
{
    cd_params_t p = { .threads = 1, .iterations = 100 };
    cd_effect_t all_given_up[] = {
        REC(CD_EFF_QUEUE, 0, 100, 0, 0), REC(CD_EFF_PEAK, 0, 0, 0, 64 << 10),
    };
    expect_judged("backpressure", p, all_given_up, 2, CD_VIOLATED,
                  "100 lines given up, but the queue refused "
                  "only 0 sends");

    cd_effect_t timed_out[] = {
        REC(CD_EFF_STORE, 0, 0, 60, 0), REC(CD_EFF_QUEUE, 0, 40, 40, 0),
        REC(CD_EFF_PEAK, 128, 0, 0, 64 << 10),
    };
    expect_judged("backpressure", p, timed_out, 3, CD_HELD, NULL);

    cd_effect_t none[] = {
        REC(CD_EFF_QUEUE, 100, 0, 0, 0), REC(CD_EFF_PEAK, 1, 0, 0, 512),
    };
    expect_judged("backpressure", p, none, 2, CD_VIOLATED,
                  "none of the 100 lines reached the log store");

    cd_effect_t silent[] = {
        REC(CD_EFF_STORE, 0, 0, 60, 0), REC(CD_EFF_QUEUE, 0, 0, 40, 0),
        REC(CD_EFF_PEAK, 128, 0, 0, 64 << 10),
    };
    judge("backpressure", p, silent, 3);
    ASSERT_STR_HAS(v.observed, "lost without a trace");

    cd_effect_t twice[] = {
        REC(CD_EFF_STORE, 0, 0, 60, 0), REC(CD_EFF_STORE, 0, 50, 50, 0),
        REC(CD_EFF_QUEUE, 0, 0, 0, 0),
    };
    judge("backpressure", p, twice, 3);
    ASSERT_STR_HAS(v.observed, "reached the store twice");
}

/* test: a cart is saved only by a save that landed */
static void a_cart_is_saved_only_by_a_save_that_landed(void)
{
    cd_params_t p = { .iterations = 1, .workers = 1 };
    cd_effect_t said_only[] = {
        REC(CD_EFF_SAVE, 0, 1, 0, 0), REC(CD_EFF_RETURNED, 0, 0, 0, 0),
        REC(CD_EFF_RETURNED, 0, 0, 0, 0), REC(CD_EFF_CART, 0, 2, 2, 0),
    };
    expect_judged("await", p, said_only, 4, CD_VIOLATED,
                  "no save of the whole cart reached the "
                  "database");
    cd_effect_t saved[] = {
        REC(CD_EFF_SAVE, 0, 2, 0, 0), REC(CD_EFF_SAVE, 0, 1, 0, 0),
        REC(CD_EFF_RETURNED, 0, 0, 0, 0), REC(CD_EFF_RETURNED, 0, 0, 0, 0),
        REC(CD_EFF_CART, 0, 2, 2, 0),
    };
    expect_judged("await", p, saved, 5, CD_HELD, NULL);
    cd_effect_t older_last[] = {
        REC(CD_EFF_SAVE, 0, 2, 0, 0), REC(CD_EFF_SAVE, 0, 1, 0, 0),
        REC(CD_EFF_RETURNED, 0, 0, 0, 0), REC(CD_EFF_RETURNED, 0, 0, 0, 0),
        REC(CD_EFF_CART, 0, 2, 1, 0),
    };
    judge("await", p, older_last, 5);
    ASSERT_STR_HAS(v.observed, "1 cart wrong: user 1 sent 2 requests, the "
                               "cart holds 2 items and the database 1");
}

/* test: reads past a waiting trimmer are counted */
static void reads_past_a_waiting_trimmer_are_counted(void)
{
    /* 100 requests: 5 trims due. */
    cd_params_t p = { .threads = 4, .iterations = 100 };
    cd_effect_t e[400];
    int n = 0;
    for (int t = 0; t < 5; t++) {
        e[n++] = REC(CD_EFF_ASK, 0, 0, 0, 0);
        for (int r = 0; r < 20; r++) { /* 4 of them past the trimmer */
            e[n++] = REC(CD_EFF_CALL, r % 4, t == 2 && r < 4, 0, 100);
            e[n++] = REC(CD_EFF_CALL_END, r % 4, 0, 0, 0);
        }
        e[n++] = REC(CD_EFF_TRIM, 0, 0, 1, 2000000);
    }
    expect_judged("starvation", p, e, n, CD_VIOLATED,
                  "while 4 reads went in ahead of it");
    ASSERT_INT_EQ(most, 1); /* each read ended before the next began */
}

/* Two jobs of the runner: each begins, ends, and the runner's wait for
 * it returns - `early` puts job 2's return before its end, `never`
 * leaves it out (the runner still waits). */
static int lost_wakeup_run(cd_effect_t *e, int early, int never)
{
    int n = 0;
    for (int k = 0; k < 2; k++) {
        e[n++] = REC(CD_EFF_CALL, k, 0, 0, 0);
        if (k == 1 && early)
            e[n++] = REC(CD_EFF_RETURNED, k, 0, 0, 0);
        e[n++] = REC(CD_EFF_CALL_END, k, 0, 0, 0);
        if (!(k == 1 && (early || never)))
            e[n++] = REC(CD_EFF_RETURNED, k, 0, 0, 0);
    }
    return n;
}

/* test: a runner that goes on before its job ended fails */
static void a_runner_that_goes_on_before_its_job_ended_fails(void)
{
    cd_effect_t e[16];
    cd_params_t p = { .iterations = 2 };
    expect_judged("lost-wakeup", p, e, lost_wakeup_run(e, 0, 0), CD_HELD,
                  "all 2 jobs ended, and the runner went on "
                  "after each");

    expect_judged("lost-wakeup", p, e, lost_wakeup_run(e, 1, 0), CD_VIOLATED,
                  "await_done() returned before job 2 had "
                  "ended: the runner went on without its "
                  "result (1 of 2 jobs heard done)");

    /* A return with no job behind it at all. */
    cd_effect_t none[] = { REC(CD_EFF_RETURNED, 0, 0, 0, 0) };
    expect_judged("lost-wakeup", (cd_params_t){.iterations = 1}, none, 1,
                  CD_VIOLATED, "before job 1 had ended (it never did)");
}

/* test: a runner that never returns fails */
static void a_runner_that_never_returns_fails(void)
{
    cd_effect_t e[16];
    cd_params_t p = { .iterations = 2 };
    expect_judged("lost-wakeup", p, e, lost_wakeup_run(e, 0, 1), CD_VIOLATED,
                  "job 2 ended, but the runner's await_done() "
                  "never returned (1 of 2 jobs heard done)");
    /* The runner stopped after one job: the second never ran. */
    expect_judged("lost-wakeup", p, e, 3, CD_VIOLATED, "1 of 2 jobs ran");
    /* A job told twice is no run of this harness. */
    cd_effect_t twice[] = { REC(CD_EFF_CALL, 0, 0, 0, 0),
                            REC(CD_EFF_CALL_END, 0, 0, 0, 0),
                            REC(CD_EFF_RETURNED, 0, 0, 0, 0),
                            REC(CD_EFF_RETURNED, 0, 0, 0, 0) };
    judge("lost-wakeup", (cd_params_t){ .iterations = 1 }, twice, 4);
    ASSERT_STR_HAS(v.observed, "the runner went on twice after job 1");
}

/* spurious: two cooks, two tickets. The till posts each, the cooks take
 * them, the till closes and both cooks go home - with, where asked, a
 * take from the empty rail between the tickets (cook 2, after the first
 * was taken), or a ticket taken twice, or a cook that never goes home. */
static int kitchen_run(cd_effect_t *e, int empty_take, int twice, int home)
{
    int n = 0;
    for (int t = 0; t < 2; t++) {
        e[n++] = REC(CD_EFF_POST, t, 0, 0, 0);
        e[n++] = REC(CD_EFF_TAKE, t, t, 0, 0);
        if (t == 0 && empty_take)
            e[n++] = REC(CD_EFF_TAKE, 1, -1, 0, 0);
    }
    if (twice)
        e[n++] = REC(CD_EFF_TAKE, 1, 1, 0, 0);
    e[n++] = REC(CD_EFF_CLOSE, 0, 0, 0, 0);
    for (int c = 0; c < home; c++)
        e[n++] = REC(CD_EFF_RETURNED, c, 0, 0, 0);
    return n;
}

/* The rail counts a take from its empty self, whatever the cook (or its
 * code's own count) believed: that is the failure, though every ticket
 * was taken once and every cook went home. */
/* inventory, 4 buyers a product (1 unit each, buyer 1's card declined):
 * the payments of `buyers` to product 0 and the shelves as counted after
 * the sale; products 1 and 2 sell their unit to buyer 2. */
static int sale(cd_effect_t *e, const int *buyers, int nbuyers, int shelf0)
{
    int n = 0;
    for (int i = 0; i < nbuyers; i++)
        e[n++] = REC(CD_EFF_PAY, 0, buyers[i], 0, 0);
    for (int p = 1; p < 3; p++)
        e[n++] = REC(CD_EFF_PAY, p, 2, 0, 0);
    e[n++] = REC(CD_EFF_BALANCE, 0, 0, 0, shelf0);
    e[n++] = REC(CD_EFF_BALANCE, 1, 0, 0, 0);
    e[n++] = REC(CD_EFF_BALANCE, 2, 0, 0, 0);
    return n;
}

/* holdtime, 2 handlers with one refresh each: the till's 5 sales (of
 * product 0 .. 3, then 0 again), each handler's render, the versions the
 * dashboard showed in order, and the board's totals as counted after the
 * run (product 0's given, the others as sold). */
static int board_run(cd_effect_t *e, const int *shown, int nshown,
                     int renders, int sales0)
{
    int n = 0;
    for (int i = 0; i < 5; i++)
        e[n++] = REC(CD_EFF_PAY, i % 4, i + 1, 0, 0);
    for (int h = 0; h < renders; h++) {
        e[n++] = REC(CD_EFF_CALL, 0, 0, 0, 0);
        e[n++] = REC(CD_EFF_CALL_END, 0, 0, 0, 0);
    }
    for (int i = 0; i < nshown; i++)
        e[n++] = REC(CD_EFF_SAVE, shown[i], shown[i], 0, 0);
    for (int h = 0; h < 2; h++)
        e[n++] = REC(CD_EFF_RETURNED, h, 0, 0, 0);
    e[n++] = REC(CD_EFF_BALANCE, 0, 0, 0, sales0);
    for (int p = 1; p < 4; p++)
        e[n++] = REC(CD_EFF_BALANCE, p, 0, 0, 1);
    return n;
}

/* test: holdtime: a sale overwritten or a report gone back fails */
static void a_sale_overwritten_or_a_report_gone_back_fails(void)
{
    cd_params_t p = { .threads = 2, .iterations = 1 };
    cd_effect_t e[32];
    /* Both rendered, versions shown in order, every sale kept: held. */
    expect_judged("holdtime", p, e, board_run(e, (int[]){2, 5}, 2, 2, 2),
                  CD_HELD, "every sale in the totals (5)");
    /* A report not newer than the one shown was not stored: held. */
    expect_judged("holdtime", p, e, board_run(e, (int[]){5}, 1, 2, 2), CD_HELD,
                  NULL);
    /* Two renders at once are the parallel measure. */
    ASSERT_INT_EQ(most, 1);
    /* The copy put back: product 0's second sale gone from the board. */
    expect_judged("holdtime", p, e, board_run(e, (int[]){2, 5}, 2, 2, 1),
                  CD_VIOLATED, "1 of 5 sales lost from the board's totals");
    /* An older report stored over a newer one. */
    expect_judged("holdtime", p, e, board_run(e, (int[]){5, 2}, 2, 2, 2),
                  CD_VIOLATED,
                  "went back from a report of version 5 to "
                  "one of version 2");
    /* A refresh that rendered nothing. */
    expect_judged("holdtime", p, e, board_run(e, (int[]){5}, 1, 1, 2),
                  CD_VIOLATED, "but only 1 report rendered");
}

/* test: inventory: the declines are the books', the shelf is counted */
static void the_declines_are_the_books_and_the_shelf_is_counted(void)
{
    cd_params_t p = { .iterations = 4, .workers = 1 };
    cd_effect_t e[16];
    /* Buyer 1 declined, buyer 2 bought the unit: held. */
    expect_judged("inventory", p, e, sale(e, (int[]){1, 2}, 2, 0), CD_HELD,
                  NULL);
    ASSERT_INT_EQ(cd_verdict_get_num(&v, "declined"), 1);
    ASSERT_STR_HAS(v.observed, "3 sold of 3 in stock across 3 products");
    /* Buyer 1 declined and its unit given back, unsold: still held. */
    expect_judged("inventory", p, e, sale(e, (int[]){1}, 1, 1), CD_HELD, NULL);
    /* Two sold of one, whatever the shelf says. */
    expect_judged("inventory", p, e, sale(e, (int[]){2, 3}, 2, -1), CD_VIOLATED,
                  "product 1: 2 sold of 1 in stock");
    /* Declined, and the unit kept: neither sold nor on the shelf. */
    expect_judged("inventory", p, e, sale(e, (int[]){1}, 1, 0), CD_VIOLATED,
                  "1 unit lost");
    /* Nobody paid, the unit still there: buyers sent away. */
    expect_judged("inventory", p, e, sale(e, (int[]){0}, 0, 1), CD_VIOLATED,
                  "buyers left while units were there");
    /* A buyer who paid twice, and one this run does not have. */
    expect_judged("inventory", p, e, sale(e, (int[]){2, 2}, 2, 0), CD_VIOLATED,
                  "buyer 2 of product 1 paid twice");
    expect_judged("inventory", p, e, sale(e, (int[]){5}, 1, 0), CD_VIOLATED,
                  "which this run does not have");
}

/* counter, 2 handlers, 2 views each (pages 0 and 1): the numbers each
 * view showed, in order h0p0 h0p1 h1p0 h1p1, and the counts the run
 * ended with. */
static int views(cd_effect_t *e, const long shown[4], long count0,
                 long count1, int renders)
{
    int n = 0;
    for (int r = 0; r < renders; r++) {
        e[n++] = REC(CD_EFF_CALL, r % 2, 0, 0, 0);
        e[n++] = REC(CD_EFF_CALL_END, r % 2, 0, 0, 0);
    }
    for (int i = 0; i < 4; i++)
        e[n++] = REC(CD_EFF_RETURNED, i / 2, i % 2, 0, shown[i]);
    e[n++] = REC(CD_EFF_BALANCE, 0, 0, 0, count0);
    e[n++] = REC(CD_EFF_BALANCE, 1, 0, 0, count1);
    e[n++] = REC(CD_EFF_BALANCE, 2, 0, 0, 0);
    return n;
}

/* test: counter: every view counted, each number shown once */
static void every_view_is_counted_and_each_number_shown_once(void)
{
    cd_params_t p = { .threads = 2, .iterations = 2 };
    cd_effect_t e[32];
    expect_judged("counter", p, e, views(e, (long[]){1, 1, 2, 2}, 2, 2, 4),
                  CD_HELD, "4 views served, 4 counted");
    /* Both handlers read 0 and stored 1: a view lost, a number twice. */
    expect_judged("counter", p, e, views(e, (long[]){1, 1, 1, 2}, 1, 2, 4),
                  CD_VIOLATED, "4 views served, 3 counted: 1 lost");
    ASSERT_INT_EQ(cd_verdict_get_num(&v, "same_number_shown"), 1);
    /* The counts right, the numbers not: a visitor shown another's. */
    expect_judged("counter", p, e, views(e, (long[]){1, 1, 1, 2}, 2, 2, 4),
                  CD_VIOLATED,
                  "visitor number 1 of page 1 was shown to "
                  "two visitors");
    /* A view that did not render its page. */
    expect_judged("counter", p, e, views(e, (long[]){1, 1, 2, 2}, 2, 2, 3),
                  CD_VIOLATED, "a view must render its page");
    /* A number no view of this run can be. */
    expect_judged("counter", p, e, views(e, (long[]){1, 1, 9, 2}, 2, 2, 4),
                  CD_VIOLATED, "showed visitor number 9");
}

/* test: a take from an empty rail fails */
static void a_take_from_an_empty_rail_fails(void)
{
    cd_effect_t e[32];
    cd_params_t p = { .threads = 2, .iterations = 2 };
    expect_judged("spurious", p, e, kitchen_run(e, 0, 0, 2), CD_HELD,
                  "2 tickets taken once each by 2 cooks, no "
                  "take from an empty rail");

    expect_judged("spurious", p, e, kitchen_run(e, 1, 0, 2), CD_VIOLATED,
                  "1 take from an empty rail (cook-2 first): a "
                  "cook took with no ticket there; 2 of 2 "
                  "tickets taken once");
}

/* test: every ticket once and every cook home */
static void every_ticket_once_and_every_cook_home(void)
{
    cd_effect_t e[32];
    cd_params_t p = { .threads = 2, .iterations = 2 };
    expect_judged("spurious", p, e, kitchen_run(e, 0, 1, 2), CD_VIOLATED,
                  "1 of 2 tickets taken once (0 never, 1 twice "
                  "or more)");

    expect_judged("spurious", p, e, kitchen_run(e, 0, 0, 1), CD_VIOLATED,
                  "1 of 2 cooks went home at closing time: "
                  "cook 2 never did");

    /* A cook sent home while the rail is open; a ticket never posted. */
    cd_effect_t early[] = {
        REC(CD_EFF_RETURNED, 0, 0, 0, 0), REC(CD_EFF_POST, 0, 0, 0, 0),
        REC(CD_EFF_TAKE, 1, 0, 0, 0), REC(CD_EFF_POST, 1, 0, 0, 0),
        REC(CD_EFF_TAKE, 1, 1, 0, 0), REC(CD_EFF_CLOSE, 0, 0, 0, 0),
        REC(CD_EFF_RETURNED, 1, 0, 0, 0),
    };
    expect_judged("spurious", p, early, 7, CD_VIOLATED,
                  "1 cook went home before closing time");
    expect_judged("spurious", p, early + 3, 4, CD_VIOLATED,
                  "ticket 0 reached the rail 0 times");

    cd_effect_t stranger[] = { REC(CD_EFF_TAKE, 5, 0, 0, 0) };
    expect_judged("spurious", p, stranger, 1, CD_VIOLATED,
                  "a take from the rail by a thread that is no "
                  "cook (5)");
}

/* order-violation: two handlers, two requests each, one connect - with,
 * where asked, handler 2's first request finding what `first` says
 * (CD_EX_CONN_...), and `connects` connections made. */
static int service_run(cd_effect_t *e, int first, int connects)
{
    int n = 0;
    for (int c = 0; c < connects; c++)
        e[n++] = REC(CD_EFF_CONNECT, c, 0, 0, 0);
    for (int r = 0; r < 2; r++)
        for (int h = 0; h < 2; h++)
            e[n++] = REC(CD_EFF_USE, h, r,
                         h == 1 && r == 0 ? first : CD_EX_CONN_OPEN, 0);
    return n;
}

/* What a request found is the database's word, not the learner's code's:
 * none, one still in its handshake, a pointer it never handed out. */
/* test: a request that finds no open connection fails */
static void a_request_that_finds_no_open_connection_fails(void)
{
    cd_effect_t e[16];
    cd_params_t p = { .threads = 2, .iterations = 2 };
    expect_judged("order-violation", p, e, service_run(e, CD_EX_CONN_OPEN, 1),
                  CD_HELD,
                  "all 4 requests served on the one "
                  "connection");
    ASSERT_INT_EQ(cd_verdict_get_num(&v, "connects"), 1);

    expect_judged("order-violation", p, e, service_run(e, CD_EX_CONN_NONE, 1),
                  CD_VIOLATED,
                  "1 of 4 requests found no connection "
                  "(handler-2's request 1 first): get_conn() "
                  "returned before start-up had made it");
    ASSERT_INT_EQ(cd_verdict_get_num(&v, "used_before_creation"), 1);

    expect_judged("order-violation", p, e, service_run(e, CD_EX_CONN_HALF, 1),
                  CD_VIOLATED, "found a connection still in its handshake");

    expect_judged("order-violation", p, e,
                  service_run(e, CD_EX_CONN_FOREIGN, 1), CD_VIOLATED,
                  "found a connection the database never "
                  "made");
}

/* test: the database is connected once */
static void the_database_is_connected_once(void)
{
    cd_effect_t e[16];
    cd_params_t p = { .threads = 2, .iterations = 2 };
    expect_judged("order-violation", p, e, service_run(e, CD_EX_CONN_OPEN, 2),
                  CD_VIOLATED, "the database was connected 2 times");

    expect_judged("order-violation", p, e, service_run(e, CD_EX_CONN_OPEN, 0),
                  CD_VIOLATED, "the database was never connected");

    /* Handler 2 made one request of its two (its run was ended). */
    expect_judged("order-violation", p, e,
                  service_run(e, CD_EX_CONN_OPEN, 1) - 1, CD_VIOLATED,
                  "only 3 of 4 requests were made: handler-2 "
                  "made 1 of its 2");

    /* A request told twice, or by no handler of the run. */
    cd_effect_t twice[] = { REC(CD_EFF_CONNECT, 0, 0, 0, 0),
                            REC(CD_EFF_USE, 0, 0, CD_EX_CONN_OPEN, 0),
                            REC(CD_EFF_USE, 0, 0, CD_EX_CONN_OPEN, 0) };
    judge("order-violation", p, twice, 3);
    ASSERT_STR_HAS(v.observed, "handler-1's request 1 is no request of "
                               "this run");
    cd_effect_t stranger[] = { REC(CD_EFF_USE, 7, 0, CD_EX_CONN_OPEN, 0) };
    judge("order-violation", p, stranger, 1);
    ASSERT_STR_HAS(v.observed, "the service was told of handler 7");
}

/* philosophers: three diners, one meal each, one after another, each
 * holding `forks` forks (by the registry's count); diner 2 returns from
 * meal() without eating when `skip`. */
static int dinner_run(cd_effect_t *e, int forks, int skip)
{
    int n = 0;
    for (int d = 0; d < 3; d++) {
        if (!(skip && d == 1)) {
            e[n++] = REC(CD_EFF_CALL, d, forks, 0, 0);
            e[n++] = REC(CD_EFF_CALL_END, d, 0, 0, 0);
        }
        e[n++] = REC(CD_EFF_RETURNED, d, 0, 0, 0);
    }
    return n;
}

/* publication: two handlers, two connections. Each connection is written
 * and then read by both handlers; `first` is what handler 2 found in
 * connection 1's record. */
static int pool_run(cd_effect_t *e, int first)
{
    int n = 0;
    for (int c = 0; c < 2; c++) {
        e[n++] = REC(CD_EFF_WRITTEN, c, 0, 0, 0);
        for (int h = 0; h < 2; h++)
            e[n++] = REC(CD_EFF_READ, h, c,
                         c == 0 && h == 1 ? first : CD_READ_WHOLE, 0);
    }
    return n;
}

/* Meals are counted by the kitchen, never by meal() returning: a meal()
 * that returns without eating starves its diner. */
/* test: a meal skipped starves its diner */
static void a_meal_skipped_starves_its_diner(void)
{
    cd_effect_t e[32];
    cd_params_t p = { .threads = 3, .iterations = 1 };
    expect_judged("philosophers", p, e, dinner_run(e, 2, 0), CD_HELD,
                  "all 3 meals eaten, 1 by each diner, each "
                  "with both forks; no fork in two hands; up to "
                  "1 meals at once");

    expect_judged("philosophers", p, e, dinner_run(e, 2, 1), CD_VIOLATED,
                  "diner-2 ate 0 of 1 meal, but its meal() "
                  "returned 1 time: meals were skipped and "
                  "diner-2 went hungry (starved)");
    /* A run cut short (a deadlock): the hungriest diner is named. */
    expect_judged("philosophers", p, e, 3, CD_VIOLATED,
                  "1 of 3 meals eaten; the hungriest diner, "
                  "diner-2, ate 0");
}

/* A meal needs both forks in the diner's hands, by the registry's count,
 * and two neighbours never eat at once: they share a fork. */
/* test: a fork is in one hand at a time */
static void a_fork_is_in_one_hand_at_a_time(void)
{
    cd_effect_t e[32];
    cd_params_t p = { .threads = 3, .iterations = 1 };
    expect_judged("philosophers", p, e, dinner_run(e, 1, 0), CD_VIOLATED,
                  "diner-1 ate holding 1 of its two forks");

    /* Diner 2 begins while diner 1 eats; diner 3 eats after. */
    cd_effect_t shared[] = {
        REC(CD_EFF_CALL, 0, 2, 0, 0), REC(CD_EFF_CALL, 1, 2, 0, 0),
        REC(CD_EFF_CALL_END, 0, 0, 0, 0), REC(CD_EFF_CALL_END, 1, 0, 0, 0),
        REC(CD_EFF_CALL, 2, 2, 0, 0), REC(CD_EFF_CALL_END, 2, 0, 0, 0),
        REC(CD_EFF_RETURNED, 0, 0, 0, 0), REC(CD_EFF_RETURNED, 1, 0, 0, 0),
        REC(CD_EFF_RETURNED, 2, 0, 0, 0),
    };
    expect_judged("philosophers", p, shared, 9, CD_VIOLATED,
                  "diner-2 began to eat while diner-1, its "
                  "neighbour, was eating: fork-2 was in two "
                  "hands at once");
    ASSERT_INT_EQ(most, 2);

    cd_effect_t stranger[] = { REC(CD_EFF_CALL, 3, 2, 0, 0) };
    expect_judged("philosophers", p, stranger, 1, CD_VIOLATED,
                  "the service was told of diner 3, which this "
                  "run does not have");
}

/* What a handler found is the harness's count, not the learner's word: an
 * empty record is stale, half of one torn, another's values wrong. */
/* test: a record used before it is whole fails */
static void a_record_used_before_it_is_whole_fails(void)
{
    cd_effect_t e[16];
    cd_params_t p = { .threads = 2, .iterations = 2 };
    expect_judged("publication", p, e, pool_run(e, CD_READ_WHOLE), CD_HELD,
                  "4 reads, each found the whole record the "
                  "handshake wrote; 0 stale, 0 torn");

    expect_judged("publication", p, e, pool_run(e, CD_READ_STALE), CD_VIOLATED,
                  "handler-2 was told connection 1 was ready "
                  "and read its record before the handshake had "
                  "written it (session 0): the ready flag came "
                  "before the data (1 of 4 reads stale, 0 torn)");

    expect_judged("publication", p, e, pool_run(e, CD_READ_TORN), CD_VIOLATED,
                  "half written (one field of two): the ready "
                  "flag came before the whole record (0 of 4 "
                  "reads stale, 1 torn)");

    expect_judged("publication", p, e, pool_run(e, CD_READ_WRONG), CD_VIOLATED,
                  "with values its handshake never gave it");
}

/* test: each connection opened once and read by all */
static void each_connection_opened_once_and_read_by_all(void)
{
    cd_effect_t e[16];
    cd_params_t p = { .threads = 2, .iterations = 2 };
    int n = pool_run(e, CD_READ_WHOLE);
    e[n] = REC(CD_EFF_WRITTEN, 1, 0, 0, 0);
    expect_judged("publication", p, e, n + 1, CD_VIOLATED,
                  "connection 2 was opened 2 times");

    judge("publication", p, e, n - 1); /* handler 2 never used conn 2 */
    ASSERT_INT_EQ(v.status, CD_VIOLATED);
    ASSERT_STR_HAS(v.observed, "handler-2 used 1 of the 2 connections (3 of "
                               "4 reads)");

    cd_effect_t odd[] = { REC(CD_EFF_READ, 0, 7, CD_READ_WHOLE, 0),
                          REC(CD_EFF_READ, 0, 0, 9, 0) };
    judge("publication", p, odd, 1);
    ASSERT_STR_HAS(v.observed, "a read of connection 7, which this run does "
                               "not have");
    judge("publication", p, odd + 1, 1);
    ASSERT_STR_HAS(v.observed, "a read whose record held what no read can "
                               "(9)");
}

/* livelock: two tellers, one transfer each (A->B, B->A). Before either
 * gets through, `rounds` rounds in which both try, both fail and both
 * log their conflict (the starter's lockstep); `logged` 0 leaves the
 * conflicts unlogged. */
static int polite_run(cd_effect_t *e, int rounds, int logged)
{
    int n = 0;
    for (int r = 0; r < rounds; r++)
        for (int t = 0; t < 2; t++) {
            e[n++] = REC(CD_EFF_CALL, t, 0, 0, 0);
            e[n++] = REC(CD_EFF_CALL_END, t, 0, 0, 0);
            if (logged)
                e[n++] = REC(CD_EFF_CONFLICT, t, 0, 0, 0);
        }
    for (int t = 0; t < 2; t++) {
        e[n++] = REC(CD_EFF_CALL, t, 0, 0, 0);
        e[n++] = REC(CD_EFF_CALL_END, t, 0, 0, 0);
        e[n++] = REC(CD_EFF_MOVE, t, t, (t + 1) % 2, 0);
        e[n++] = REC(CD_EFF_RETURNED, t, 0, 0, 0);
    }
    e[n++] = REC(CD_EFF_BALANCE, 0, 0, 0, 1000);
    e[n++] = REC(CD_EFF_BALANCE, 1, 0, 0, 1000);
    return n;
}

/* Tries in a row without a transfer are counted from the bank's books,
 * all tellers together: past CD_EX_LIVELOCK_TRIES the run is a LIVELOCK
 * even though every transfer got through in the end; under it, retries
 * are the price of politeness, and the run holds. */
/* test: tries in a row without a transfer are a livelock */
static void tries_in_a_row_without_a_transfer_are_a_livelock(void)
{
    cd_effect_t e[400];
    cd_params_t p = { .threads = 2, .iterations = 1 };
    expect_judged("livelock", p, e, polite_run(e, 3, 1), CD_HELD,
                  "all 2 transfers applied, total 2000 kept; 6 "
                  "conflicts, at most 7 tries in a row");

    /* 19 rounds of two, then the first teller's 39th try and the 40th. */
    expect_judged("livelock", p, e, polite_run(e, 19, 1), CD_HELD, NULL);
    expect_judged("livelock", p, e, polite_run(e, 20, 1), CD_LIVELOCK,
                  "41 tries in a row and not one transfer "
                  "between them (40 conflicts logged)");
    ASSERT_STR_HAS(v.observed, "2 of 2 transfers applied");

    /* The bank called it (and ended the run): no transfer went through. */
    cd_effect_t called[] = {
        REC(CD_EFF_CALL, 0, 0, 0, 0), REC(CD_EFF_CALL, 1, 0, 0, 0),
        REC(CD_EFF_LIVELOCK, 40, 0, 0, 0),
        REC(CD_EFF_BALANCE, 0, 0, 0, 1000), REC(CD_EFF_BALANCE, 1, 0, 0, 1000),
    };
    expect_judged("livelock", p, called, 5, CD_LIVELOCK,
                  "0 of 2 transfers applied");
}

/* The bank logs every failed attempt before its teller lets go: a try
 * again with the last one unlogged breaks the bank's rule (and narrows the
 * window in which both tellers hold one account). */
/* test: a try again without its conflict logged fails */
static void a_try_again_without_its_conflict_logged_fails(void)
{
    cd_effect_t e[64];
    cd_params_t p = { .threads = 2, .iterations = 1 };
    expect_judged("livelock", p, e, polite_run(e, 1, 0), CD_VIOLATED,
                  "teller 1 tried transfer 1 again without "
                  "logging its conflict");
}

/* ============================ the checker's books ======================== */

static const cd_exercise_spec_t *race_spec(void)
{
    return cd_exercise_spec("race");
}

/* Feeds records to the books one byte at a time: a record cut anywhere
 * by a read is still one record. */
static void feed(cd_books_t *b, const cd_effect_t *e, int n)
{
    const unsigned char *p = (const unsigned char *)e;
    for (size_t i = 0; i < sizeof *e * (size_t)n; i++)
        cd_books_feed(b, p + i, 1);
}

/* The records of one race run at sizes p, each order charged `each`
 * times, the calls of two customers overlapping. */
static int race_run(cd_effect_t *e, cd_params_t p, int each)
{
    int n = 0;
    e[n++] = REC(CD_EFF_RUN, p.threads, p.iterations, p.workers, 0);
    int customers = p.threads / 2 > 0 ? p.threads / 2 : 1;
    for (int o = 0; o < p.iterations; o += 2) {
        for (int k = o; k < o + 2 && k < p.iterations; k++)
            e[n++] = REC(CD_EFF_CALL, k % customers, 0, 0, 0);
        for (int k = o; k < o + 2 && k < p.iterations; k++)
            for (int c = 0; c < each; c++)
                e[n++] = REC(CD_EFF_PAY, k, k % customers, 0, 0);
        for (int k = o; k < o + 2 && k < p.iterations; k++)
            e[n++] = REC(CD_EFF_CALL_END, k % customers, 0, 0, 0);
    }
    e[n++] = REC(CD_EFF_RUN_END, 0, 0, 0, 0);
    return n;
}

/* The size both sides print (the books' reasons, the program's stage
 * lines): one text, in the plural only where it is one. */
/* test: a run's size reads in words */
static void a_runs_size_reads_in_words(void)
{
    char buf[64];
    cd_params_t threads = { .threads = 4, .iterations = 8 };
    cd_params_t worker = { .threads = 3, .workers = 1, .iterations = 1 };
    CU_ASSERT_STRING_EQUAL(cd_exercise_size_text(&threads, buf, sizeof buf),
                           "4 threads, 8 iterations");
    CU_ASSERT_STRING_EQUAL(cd_exercise_size_text(&worker, buf, sizeof buf),
                           "1 worker, 1 iteration");
    /* An exercise that sets its threads itself gives none. */
    cd_params_t jobs = { .iterations = 3 };
    CU_ASSERT_STRING_EQUAL(cd_exercise_size_text(&jobs, buf, sizeof buf),
                           "3 iterations");
}

/* test: a verdict with no runs behind it fails */
static void a_verdict_with_no_runs_behind_it_fails(void)
{
    cd_books_t b;
    char why[CD_TEXT_MAX + 160];
    cd_books_init(&b, race_spec());
    cd_effect_t e[] = {
        REC(CD_EFF_STAGE, CD_STAGE_FREE, 0, 0, 0),
        REC(CD_EFF_STAGE_END, CD_STAGE_FREE, 1, 0, 0),
        REC(CD_EFF_STAGE, CD_STAGE_EXPLORE, 0, 0, 0),
        REC(CD_EFF_STAGE_END, CD_STAGE_EXPLORE, 1, 0, 0),
        REC(CD_EFF_END, 0, 0, 0, 0),
    };
    feed(&b, e, 5);
    CU_ASSERT_TRUE(b.ended);
    ASSERT_INT_EQ(b.failed[0], '\0');
    ASSERT_INT_EQ(cd_books_confirm(&b, CD_STAGE_FREE, why, sizeof why), 0);
    ASSERT_STR_HAS(why, "the services saw 0 of the 3 runs of 4 threads, 8 "
                        "iterations");
    ASSERT_INT_EQ(cd_books_confirm(&b, CD_STAGE_EXPLORE, why, sizeof why), 0);
    ASSERT_STR_HAS(why, "saw 0 schedules");
    ASSERT_INT_EQ(cd_books_confirm(&b, CD_STAGE_PARALLEL, why, sizeof why),
                  0);
    ASSERT_STR_HAS(why, "never ran");
    cd_books_free(&b);
}

/* test: a stage passes with its runs judged held */
static void a_stage_passes_with_its_runs_judged_held(void)
{
    const cd_exercise_spec_t *s = race_spec();
    cd_books_t b;
    char why[CD_TEXT_MAX + 160];
    static cd_effect_t e[4096];
    int n = 0;

    cd_books_init(&b, s);
    e[n++] = REC(CD_EFF_STAGE, CD_STAGE_FREE, 0, 0, 0);
    for (int i = 0; i < s->nfree; i++)
        for (int r = 0; r < s->free_runs; r++)
            n += race_run(e + n, s->free[i], 1);
    e[n++] = REC(CD_EFF_STAGE_END, CD_STAGE_FREE, 1, 0, 0);
    e[n++] = REC(CD_EFF_STAGE, CD_STAGE_PARALLEL, 0, 0, 0);
    n += race_run(e + n, s->parallel, 1);
    e[n++] = REC(CD_EFF_STAGE_END, CD_STAGE_PARALLEL, 1, 0, 0);
    feed(&b, e, n);
    CU_ASSERT_FATAL(!b.fault[0]);
    ASSERT_INT_EQ(cd_books_confirm(&b, CD_STAGE_FREE, why, sizeof why), 1);
    ASSERT_INT_EQ(cd_books_confirm(&b, CD_STAGE_PARALLEL, why, sizeof why),
                  1);
    ASSERT_INT_EQ(b.st[CD_STAGE_PARALLEL].most, 2);
    cd_books_free(&b);
}

/* test: a run the books fail fails the stage the program passed */
static void a_run_the_books_fail_fails_the_stage_the_program_passed(void)
{
    const cd_exercise_spec_t *s = race_spec();
    cd_books_t b;
    char why[CD_TEXT_MAX + 160];
    static cd_effect_t e[4096];
    int n = 0;

    cd_books_init(&b, s);
    e[n++] = REC(CD_EFF_STAGE, CD_STAGE_EXPLORE, 0, 0, 0);
    for (int r = 0; r < s->pct_runs; r++)
        n += race_run(e + n, s->explore, r == 7 ? 2 : 1);
    e[n++] = REC(CD_EFF_STAGE_END, CD_STAGE_EXPLORE, 1, 0, 0);
    feed(&b, e, n);
    ASSERT_INT_EQ(cd_books_confirm(&b, CD_STAGE_EXPLORE, why, sizeof why), 0);
    ASSERT_STR_HAS(why, "run 8: 2 charges for 1 orders (1 charged twice");
    cd_books_free(&b);

    /* A run of a size the stage does not make counts for nothing. */
    cd_params_t small = { .threads = 2, .iterations = 1 };
    cd_books_init(&b, s);
    n = 0;
    e[n++] = REC(CD_EFF_STAGE, CD_STAGE_FREE, 0, 0, 0);
    n += race_run(e + n, small, 1);
    feed(&b, e, n);
    ASSERT_INT_EQ(b.st[CD_STAGE_FREE].wrong_size, 1);
    cd_books_free(&b);
}

/* test: the parallel stage needs calls in flight together */
static void the_parallel_stage_needs_calls_in_flight_together(void)
{
    const cd_exercise_spec_t *s = race_spec();
    cd_books_t b;
    char why[CD_TEXT_MAX + 160];
    cd_effect_t e[64];
    int n = 0;

    cd_books_init(&b, s);
    e[n++] = REC(CD_EFF_STAGE, CD_STAGE_PARALLEL, 0, 0, 0);
    e[n++] = REC(CD_EFF_RUN, s->parallel.threads, s->parallel.iterations, 0,
                 0);
    for (int k = 0; k < s->parallel.iterations; k++) { /* one at a time */
        e[n++] = REC(CD_EFF_CALL, k % 4, 0, 0, 0);
        e[n++] = REC(CD_EFF_PAY, k, k % 4, 0, 0);
        e[n++] = REC(CD_EFF_CALL_END, k % 4, 0, 0, 0);
    }
    e[n++] = REC(CD_EFF_RUN_END, 0, 0, 0, 0);
    e[n++] = REC(CD_EFF_STAGE_END, CD_STAGE_PARALLEL, 1, 0, 0);
    feed(&b, e, n);
    ASSERT_INT_EQ(cd_books_confirm(&b, CD_STAGE_PARALLEL, why, sizeof why),
                  0);
    ASSERT_STR_HAS(why, "serialises them all");
    ASSERT_STR_HAS(why, "at most 1 of its calls at once");
    cd_books_free(&b);
}

/* test: records out of place are a fault */
static void records_out_of_place_are_a_fault(void)
{
    cd_books_t b;
    cd_books_init(&b, race_spec());
    cd_effect_t stray[] = { REC(CD_EFF_PAY, 0, 0, 0, 0) };
    feed(&b, stray, 1);
    ASSERT_STR_HAS(b.fault, "an effect outside any run");
    cd_books_free(&b);

    cd_books_init(&b, race_spec());
    cd_effect_t late[] = {
        REC(CD_EFF_END, 0, 0, 0, 0),
        REC(CD_EFF_STAGE, CD_STAGE_FREE, 0, 0, 0),
    };
    feed(&b, late, 2);
    ASSERT_STR_HAS(b.fault, "after the end");
    cd_books_free(&b);

    /* Text is no record: "end\n" is four bytes of one never finished. */
    cd_books_init(&b, race_spec());
    cd_books_feed(&b, "end\n", 4);
    CU_ASSERT_FALSE(b.ended);
    cd_books_free(&b);
}

/* ========================= the program's side ============================ */

/* The books of a run go to the fd in one batch when it ends, framed by
 * the run's records; a run that writes far more than its plan is a
 * fault, and says so. */
/* test: a run is sent whole when it ends */
static void a_run_is_sent_whole_when_it_ends(void)
{
    int fds[2];
    CU_ASSERT_FATAL(pipe(fds) == 0);
    cd_params_t p = { .threads = 2, .iterations = 1 };
    cd_ledger_set_fd(fds[1]);
    CU_ASSERT_FATAL(cd_ledger_begin("race", &p) == 0);
    cd_ledger_put(CD_EFF_CALL, 0, 0, 0, 0);
    cd_ledger_put(CD_EFF_PAY, 0, 0, 0, 0);
    cd_ledger_put(CD_EFF_CALL_END, 0, 0, 0, 0);
    cd_ledger_end(&v);
    ASSERT_INT_EQ(v.status, CD_HELD);

    CU_ASSERT_FATAL(cd_ledger_begin("race", &p) == 0);
    cd_ex_plan_t plan;
    cd_ex_plan("race", &p, &plan);
    for (size_t i = 0; i < plan.max_records + 5; i++)
        cd_ledger_put(CD_EFF_PAY, 0, 0, 0, 0);
    cd_ledger_end(&v);
    cd_ledger_set_fd(-1);
    close(fds[1]);
    ASSERT_INT_EQ(v.status, CD_VIOLATED);
    ASSERT_STR_HAS(v.observed, "more calls to the services than its books "
                               "have room for");

    static cd_effect_t got[8192];
    size_t len = 0;
    for (ssize_t r; (r = read(fds[0], (char *)got + len,
                              sizeof got - len)) > 0;)
        len += (size_t)r;
    close(fds[0]);
    size_t n = len / sizeof got[0];
    CU_ASSERT_FATAL(n == 5 + plan.max_records + 1);
    ASSERT_INT_EQ(got[0].kind, CD_EFF_RUN);
    ASSERT_INT_EQ(got[0].a, 2);
    ASSERT_INT_EQ(got[2].kind, CD_EFF_PAY);
    ASSERT_INT_EQ(got[4].kind, CD_EFF_RUN_END);
    ASSERT_INT_EQ(got[4].a, 0);
    ASSERT_INT_EQ(got[n - 1].kind, CD_EFF_RUN_END);
    ASSERT_INT_EQ(got[n - 1].a, 6); /* the RUN record took one place */
}

/* Three keys, two requests each: a query per key, each lookup's value
 * right or not, and optionally a second query of key 0. */
static int stampede_run(cd_effect_t *e, int second_query, int wrong,
                        int queried)
{
    int n = 0;
    for (int k = 0; k < queried; k++) {
        e[n++] = REC(CD_EFF_CALL, k, 0, 0, 0);
        e[n++] = REC(CD_EFF_CALL_END, k, 0, 0, 0);
    }
    if (second_query) {
        e[n++] = REC(CD_EFF_CALL, 0, 0, 0, 0);
        e[n++] = REC(CD_EFF_CALL_END, 0, 0, 0, 0);
    }
    for (int r = 0; r < 6; r++)
        e[n++] = REC(CD_EFF_RETURNED, r % 3, !(wrong && r == 4), 0, 0);
    return n;
}

/* test: a second query of a key is a stampede */
static void a_second_query_of_a_key_is_a_stampede(void)
{
    cd_params_t p = { .iterations = 2, .workers = 1 };
    cd_effect_t e[32];
    expect_judged("stampede", p, e, stampede_run(e, 0, 0, 3), CD_HELD,
                  "3 queries for 3 keys");
    expect_judged("stampede", p, e, stampede_run(e, 1, 0, 3), CD_VIOLATED,
                  "4 database queries for 3 keys (up to 2 for "
                  "one key): a cache stampede");
    /* A value the database does not hold, or one it was never asked. */
    expect_judged("stampede", p, e, stampede_run(e, 0, 1, 3), CD_VIOLATED,
                  "1 of 6 requests were served a value");
    expect_judged("stampede", p, e, stampede_run(e, 0, 0, 2), CD_VIOLATED,
                  "key 2 was never asked of the database");
}
