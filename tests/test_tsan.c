/*
 * test_tsan.c - ThreadSanitizer's view of the demos: the broken race and
 * the broken order-violation and the broken publication get a data-race
 * report naming the racing lines; no fixed variant gets any report at all
 * (the philosophers' waiter with the one suppression its demo gives a
 * reason for). The broken stampede gets none either: its cache's gets and
 * sets are each atomic, and the bug is check-then-fill across an await.
 * The webhook's fixes are clean on one worker and on three (its broken
 * handler, which has no data race on one worker, is tests/test_webhook.c's
 * to run). The oversold inventory is no data race at all, on one
 * worker or four. Runs the TSan build of concdemo ($CONCDEMO_TSAN).
 */
#include <string.h>
#include <unistd.h>

#include "harness.h"

#define LIMIT_MS 60000

static cmd_out_t out;

static void run_tsan(const char *scenario, const char *fix)
{
    const char *argv[] = { concdemo_tsan_bin(), scenario, fix, NULL };
    run_cmd(&out, argv, "TSAN_OPTIONS=halt_on_error=0 exitcode=66",
            LIMIT_MS);
}

static void tsan_binary_exists(void)
{
    if (access(concdemo_tsan_bin(), X_OK) != 0)
        fprintf(stderr, "\n  no TSan binary at %s (make tsan-bin)\n",
                concdemo_tsan_bin());
    CU_ASSERT_TRUE_FATAL(access(concdemo_tsan_bin(), X_OK) == 0);
}

static void broken_race_gets_a_data_race_report_naming_the_lines(void)
{
    run_tsan("race", NULL);
    ASSERT_STR_HAS(out.err, "WARNING: ThreadSanitizer: data race");
    /* The report points into checkout_broken: the status read and write. */
    ASSERT_STR_HAS(out.err, "checkout_broken demos/race.c:");
    ASSERT_INT_EQ(out.exit_code, 66);
}

static void expect_clean(const char *scenario, const char *fix)
{
    run_tsan(scenario, fix);
    if (strstr(out.err, "ThreadSanitizer"))
        fprintf(stderr, "\n  %s %s:\n%.2000s\n", scenario, fix, out.err);
    CU_ASSERT_PTR_NULL(strstr(out.err, "ThreadSanitizer"));
    ASSERT_INT_EQ(out.exit_code, 0);
    ASSERT_STR_HAS(out.out, ": HELD");
}

static void race_mutex_is_clean(void) { expect_clean("race", "--fixed=mutex"); }
static void race_keyed_is_clean(void) { expect_clean("race", "--fixed=keyed"); }
static void race_cas_is_clean(void) { expect_clean("race", "--fixed=cas"); }
static void deadlock_ordering_is_clean(void) { expect_clean("deadlock", "--fixed=ordering"); }
static void deadlock_timeout_is_clean(void) { expect_clean("deadlock", "--fixed=timeout"); }

static void broken_publication_gets_a_data_race_report_on_the_session(void)
{
    /* The flag is an atomic, so the race TSan sees is on the record it
     * guards: the warmer writes the session after a handler read it, with
     * nothing (a relaxed flag orders nothing) between the two. */
    run_tsan("publication", NULL);
    ASSERT_STR_HAS(out.err, "WARNING: ThreadSanitizer: data race");
    ASSERT_STR_HAS(out.err, "publish_broken demos/publication.c:");
    ASSERT_STR_HAS(out.err, "await_broken demos/publication.c:");
    ASSERT_INT_EQ(out.exit_code, 66);
}

static void publication_release_acquire_is_clean(void)
{
    expect_clean("publication", "--fixed=release-acquire");
}
static void publication_mutex_is_clean(void) { expect_clean("publication", "--fixed=mutex"); }
static void livelock_ordering_is_clean(void) { expect_clean("livelock", "--fixed=ordering"); }
static void livelock_backoff_is_clean(void) { expect_clean("livelock", "--fixed=backoff"); }

/* The webhook's fixes on three workers, where each event's deliveries run
 * on three threads: the keyed lock and the claim must order the processed
 * record between them. (On one worker nothing could race.) */
static void expect_webhook_clean(const char *fix)
{
    const char *argv[] = { concdemo_tsan_bin(), "webhook", fix,
                           "--workers=3", "--iterations=20", NULL };
    run_cmd(&out, argv, "TSAN_OPTIONS=halt_on_error=0 exitcode=66",
            LIMIT_MS);
    if (strstr(out.err, "ThreadSanitizer"))
        fprintf(stderr, "\n  webhook %s:\n%.2000s\n", fix, out.err);
    CU_ASSERT_PTR_NULL(strstr(out.err, "ThreadSanitizer"));
    ASSERT_INT_EQ(out.exit_code, 0);
    ASSERT_STR_HAS(out.out, ": HELD");
}

static void webhook_keyed_is_clean(void)
{
    expect_clean("webhook", "--fixed=keyed");
    expect_webhook_clean("--fixed=keyed");
}

static void webhook_idempotency_is_clean(void)
{
    expect_clean("webhook", "--fixed=idempotency");
    expect_webhook_clean("--fixed=idempotency");
}

static void broken_livelock_is_concdemos_to_report(void)
{
    /* Nothing races and no lock waits for another (the second lock is
     * only tried): TSan has nothing to say, and the run still ends with
     * concdemo's LIVELOCK. */
    run_tsan("livelock", NULL);
    CU_ASSERT_PTR_NULL(strstr(out.err, "ThreadSanitizer"));
    ASSERT_INT_EQ(out.exit_code, 1);
    ASSERT_STR_HAS(out.out, ": LIVELOCK");
}

static void broken_deadlock_is_still_detected_under_tsan(void)
{
    /* TSan learns a lock order only when the second lock is really taken,
     * which a true deadlock never does; concdemo's own watchdog is what
     * reports it here, and the run must end. */
    run_tsan("deadlock", NULL);
    /* On a loaded machine one transfer may finish before the other takes
     * its first lock; then TSan has seen both orders and reports the
     * inversion too, and its exit code (66) replaces concdemo's 1. The
     * deadlock that follows is concdemo's to report either way. */
    if (out.exit_code == 66)
        ASSERT_STR_HAS(out.err, "lock-order-inversion");
    else
        ASSERT_INT_EQ(out.exit_code, 1);
    ASSERT_STR_HAS(out.out, "DEADLOCK");
}

static void lost_wakeup_state_is_clean(void) { expect_clean("lost-wakeup", "--fixed=state"); }
static void lost_wakeup_sem_is_clean(void) { expect_clean("lost-wakeup", "--fixed=sem"); }
static void spurious_while_is_clean(void) { expect_clean("spurious", "--fixed=while"); }
static void spurious_two_conds_is_clean(void) { expect_clean("spurious", "--fixed=two-conds"); }

static void broken_lost_wakeup_is_stuck_under_tsan(void)
{
    /* A lost wake-up is no data race: TSan has nothing to say, and the
     * run must still end with concdemo's STUCK and the early signal. */
    run_tsan("lost-wakeup", NULL);
    CU_ASSERT_PTR_NULL(strstr(out.err, "ThreadSanitizer"));
    ASSERT_INT_EQ(out.exit_code, 1);
    ASSERT_STR_HAS(out.out, "STUCK");
    ASSERT_STR_HAS(out.out, "before anyone waited (a lost wake-up)");
}

static void broken_spurious_is_no_data_race(void)
{
    /* The cooks read and write the rail under its lock: TSan sees no race,
     * yet the invariant breaks. Only the verdict shows it. */
    run_tsan("spurious", NULL);
    CU_ASSERT_PTR_NULL(strstr(out.err, "ThreadSanitizer"));
    ASSERT_INT_EQ(out.exit_code, 1);
    ASSERT_STR_HAS(out.out, "spurious [broken]: VIOLATED");
}

static void broken_stampede_is_no_data_race(void)
{
    /* On one worker every access is on one thread; on two, the cache is
     * atomic per operation. Either way only the verdict shows it. */
    static const char *const workers[] = { "--workers=1", "--workers=2" };
    for (int i = 0; i < 2; i++) {
        run_tsan("stampede", workers[i]);
        CU_ASSERT_PTR_NULL(strstr(out.err, "ThreadSanitizer"));
        ASSERT_INT_EQ(out.exit_code, 1);
        ASSERT_STR_HAS(out.out, "stampede [broken]: VIOLATED");
        ASSERT_STR_HAS(out.out, "no data race");
    }
}

static void stampede_keyed_is_clean(void) { expect_clean("stampede", "--fixed=keyed"); }
static void stampede_singleflight_is_clean(void) { expect_clean("stampede", "--fixed=singleflight"); }

static void broken_order_violation_gets_a_data_race_report(void)
{
    /* The handler's read of the connection and start-up's store of it:
     * nothing orders the two, which is the bug. */
    run_tsan("order-violation", NULL);
    ASSERT_STR_HAS(out.err, "WARNING: ThreadSanitizer: data race");
    ASSERT_STR_HAS(out.err, "get_conn_broken demos/order_violation.c:");
    ASSERT_STR_HAS(out.err, "startup_broken demos/order_violation.c:");
    ASSERT_INT_EQ(out.exit_code, 66);
    ASSERT_STR_HAS(out.out, ": VIOLATED");
}

static void order_cond_is_clean(void) { expect_clean("order-violation", "--fixed=cond"); }
static void order_join_is_clean(void) { expect_clean("order-violation", "--fixed=join"); }
static void order_once_is_clean(void) { expect_clean("order-violation", "--fixed=once"); }
static void philosophers_ordering_is_clean(void) { expect_clean("philosophers", "--fixed=ordering"); }
static void philosophers_timeout_is_clean(void) { expect_clean("philosophers", "--fixed=timeout"); }

static void broken_philosophers_are_still_detected_under_tsan(void)
{
    /* As with the ABBA: the ring never completes a second lock, so TSan
     * learns no cycle from it; concdemo's watchdog reports it. A diner
     * that ate before the ring closed may have taught TSan most of the
     * ring; if it saw all of it, its report and exit code come too. */
    run_tsan("philosophers", NULL);
    if (out.exit_code == 66)
        ASSERT_STR_HAS(out.err, "lock-order-inversion");
    else
        ASSERT_INT_EQ(out.exit_code, 1);
    ASSERT_STR_HAS(out.out, "DEADLOCK");
    CU_ASSERT_PTR_NULL(strstr(out.err, "data race"));
}

static void philosophers_waiter_is_clean(void)
{
    /* TSan's lock-order graph would report the ring of forks, which the
     * waiter keeps from closing: demos/philosophers.c suppresses that one
     * report, with its reason. Anything else TSan finds still counts. */
    expect_clean("philosophers", "--fixed=waiter");
}

static void inventory_keyed_is_clean(void) { expect_clean("inventory", "--fixed=keyed"); }
static void inventory_reserve_is_clean(void) { expect_clean("inventory", "--fixed=reserve"); }
static void chat_outbox_is_clean(void) { expect_clean("chat", "--fixed=outbox"); }
static void orphans_scope_is_clean(void) { expect_clean("orphans", "--fixed=scope"); }

static void broken_inventory_is_no_data_race(void)
{
    /* The stock is an atomic counter: each check and each decrement is one
     * indivisible step, on one worker or four, so TSan rightly sees no
     * race - and the stock still goes below zero, between the steps. */
    static const char *const workers[] = { "--workers=1", "--workers=4" };
    for (int i = 0; i < 2; i++) {
        run_tsan("inventory", workers[i]);
        CU_ASSERT_PTR_NULL(strstr(out.err, "ThreadSanitizer"));
        ASSERT_INT_EQ(out.exit_code, 1);
        ASSERT_STR_HAS(out.out, "inventory [broken]: VIOLATED");
        ASSERT_STR_HAS(out.out, "oversold");
    }
}

void suite_tsan(void)
{
    static const suite_test_t tests[] = {
        { "the TSan binary was built", tsan_binary_exists },
        { "broken race: data-race report naming the lines",
          broken_race_gets_a_data_race_report_naming_the_lines },
        { "race --fixed=mutex: no report", race_mutex_is_clean },
        { "race --fixed=keyed: no report", race_keyed_is_clean },
        { "race --fixed=cas: no report", race_cas_is_clean },
        { "deadlock --fixed=ordering: no report", deadlock_ordering_is_clean },
        { "deadlock --fixed=timeout: no report", deadlock_timeout_is_clean },
        { "broken deadlock is still detected under TSan",
          broken_deadlock_is_still_detected_under_tsan },
        { "lost-wakeup --fixed=state: no report", lost_wakeup_state_is_clean },
        { "lost-wakeup --fixed=sem: no report", lost_wakeup_sem_is_clean },
        { "spurious --fixed=while: no report", spurious_while_is_clean },
        { "spurious --fixed=two-conds: no report", spurious_two_conds_is_clean },
        { "broken lost-wakeup is stuck under TSan, no report",
          broken_lost_wakeup_is_stuck_under_tsan },
        { "broken spurious: violated, and no data race for TSan",
          broken_spurious_is_no_data_race },
        { "broken order-violation: data-race report naming the lines",
          broken_order_violation_gets_a_data_race_report },
        { "order-violation --fixed=cond: no report", order_cond_is_clean },
        { "order-violation --fixed=join: no report", order_join_is_clean },
        { "order-violation --fixed=once: no report", order_once_is_clean },
        { "philosophers --fixed=ordering: no report",
          philosophers_ordering_is_clean },
        { "philosophers --fixed=timeout: no report",
          philosophers_timeout_is_clean },
        { "broken philosophers are still detected under TSan",
          broken_philosophers_are_still_detected_under_tsan },
        { "philosophers --fixed=waiter: no report (one suppressed)",
          philosophers_waiter_is_clean },
        { "broken publication: data-race report on the session",
          broken_publication_gets_a_data_race_report_on_the_session },
        { "publication --fixed=release-acquire: no report",
          publication_release_acquire_is_clean },
        { "publication --fixed=mutex: no report", publication_mutex_is_clean },
        { "livelock --fixed=ordering: no report", livelock_ordering_is_clean },
        { "livelock --fixed=backoff: no report", livelock_backoff_is_clean },
        { "broken livelock: no report, concdemo's LIVELOCK",
          broken_livelock_is_concdemos_to_report },
        { "broken stampede: violated, and no data race for TSan",
          broken_stampede_is_no_data_race },
        { "stampede --fixed=keyed: no report", stampede_keyed_is_clean },
        { "stampede --fixed=singleflight: no report",
          stampede_singleflight_is_clean },
        { "webhook --fixed=keyed: no report, one and three workers",
          webhook_keyed_is_clean },
        { "webhook --fixed=idempotency: no report, one and three workers",
          webhook_idempotency_is_clean },
        { "inventory --fixed=keyed: no report", inventory_keyed_is_clean },
        { "inventory --fixed=reserve: no report", inventory_reserve_is_clean },
        { "broken inventory: oversold, and no data race for TSan",
          broken_inventory_is_no_data_race },
        { "chat --fixed=outbox: no report", chat_outbox_is_clean },
        { "orphans --fixed=scope: no report", orphans_scope_is_clean },
        { NULL, NULL },
    };
    add_suite("tsan", tests);
}
