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
 * worker or four. The broken counter's read-render-write is a data race
 * on the page's count; its three fixes, the actor's channel and oneshots
 * among them, are clean. The broadcast's unbounded queues are no data race
 * (every queue is a locked channel): TSan has nothing to say while the
 * slow edge's backlog grows; its ring is clean too. Nor is the double
 * charge across processes (db-race): TSan watches one process's memory,
 * and the instances share only a database file, so broken and
 * local-mutex are violated with no report while the fixes are clean.
 * Nor is holdtime, broken or wrongly fixed: every access to its board is
 * under the lock, and what fails is how long it is held (broken) or what
 * is put back after it (no-check).
 * Runs the TSan build of concdemo ($CONCDEMO_TSAN).
 */
#include <string.h>
#include <unistd.h>

#include "harness.h"

/* suite: tsan; long */

#define LIMIT_MS 60000

static cmd_out_t out;

static void run_tsan(const char *scenario, const char *fix)
{
    const char *argv[] = { concdemo_tsan_bin(), scenario, fix, NULL };
    run_cmd(&out, argv, "TSAN_OPTIONS=halt_on_error=0 exitcode=66",
            LIMIT_MS);
}

/* A broken variant (arg: one more word, or NULL) that TSan has nothing to
 * report in. A free run has no report, and ends with concdemo's verdict,
 * its output saying `verdict` - or, where a starved machine kept the
 * threads out of the window (a lucky run), HELD; either way never exit 66.
 * The same run on the controlled scheduler, where the window is open by
 * construction, has no report either and ends with `verdict`, exit 1
 * (what is left in out). */
static void expect_broken_unreported(const char *scenario, const char *arg,
                                     const char *verdict)
{
    char what[96];
    snprintf(what, sizeof what, "%s [broken] %s", scenario, arg ? arg : "");
    run_tsan(scenario, arg);
    if (out.exit_code == 0) {
        expect_no_tsan_report(&out, what, 0);
        ASSERT_STR_HAS(out.out, ": HELD");
    } else {
        expect_no_tsan_report(&out, what, 1);
        ASSERT_STR_HAS(out.out, verdict);
    }
    const char *argv[] = { concdemo_tsan_bin(), scenario, "--sched=random:1",
                           arg, NULL };
    run_cmd(&out, argv, "TSAN_OPTIONS=halt_on_error=0 exitcode=66",
            LIMIT_MS);
    expect_no_tsan_report(&out, what, 1);
    ASSERT_STR_HAS(out.out, verdict);
}

/* The broken variant gets TSan's data race report, exit 66, naming the
 * racing functions at their lines: `first` and `second` (or NULL). On the
 * controlled scheduler, as the worksheets run it: its threads meet in the
 * window on any machine, and TSan does not see its hand-offs. A free run
 * on a starved machine can run them one after another, and what they do
 * in between (a gauge, a counter) then orders their accesses for TSan (a
 * loaded CI's free `race` once reported nothing). */
static void expect_data_race(const char *scenario, const char *first,
                             const char *second)
{
    run_tsan(scenario, "--sched=random:1");
    ASSERT_STR_HAS(out.err, "WARNING: ThreadSanitizer: data race");
    ASSERT_STR_HAS(out.err, first);
    if (second)
        ASSERT_STR_HAS(out.err, second);
    ASSERT_INT_EQ(out.exit_code, 66);
}

/* A broken variant that deadlocks: concdemo's watchdog reports it
 * (DEADLOCK, exit 1). TSan learns a lock order only when a second lock is
 * really taken, which the deadlock never does - but on a loaded machine a
 * thread may get through before the others take their first lock, and
 * then TSan has seen every order: its lock-order report and exit code (66,
 * replacing concdemo's 1) come too. */
static void expect_deadlock_reported(const char *scenario)
{
    run_tsan(scenario, NULL);
    if (out.exit_code == 66)
        ASSERT_STR_HAS(out.err, "lock-order-inversion");
    else
        ASSERT_INT_EQ(out.exit_code, 1);
    ASSERT_STR_HAS(out.out, "DEADLOCK");
}

/* test: the TSan binary was built */
static void tsan_binary_exists(void)
{
    require_tsan_bin();
}

/* test: broken race: data-race report naming the lines */
static void broken_race_gets_a_data_race_report_naming_the_lines(void)
{
    /* The report points into checkout_broken: the status read and write. */
    expect_data_race("race", "checkout_broken demos/race.c:", NULL);
}

static void expect_clean(const char *scenario, const char *fix)
{
    char what[96];
    snprintf(what, sizeof what, "%s %s", scenario, fix);
    run_tsan(scenario, fix);
    expect_no_tsan_report(&out, what, 0);
    ASSERT_STR_HAS(out.out, ": HELD");
}

/* test: race --fixed=mutex: no report */
static void race_mutex_is_clean(void) { expect_clean("race", "--fixed=mutex"); }
/* test: race --fixed=keyed: no report */
static void race_keyed_is_clean(void) { expect_clean("race", "--fixed=keyed"); }
/* test: race --fixed=cas: no report */
static void race_cas_is_clean(void) { expect_clean("race", "--fixed=cas"); }
/* test: deadlock --fixed=ordering: no report */
static void deadlock_ordering_is_clean(void) { expect_clean("deadlock", "--fixed=ordering"); }
/* test: deadlock --fixed=timeout: no report */
static void deadlock_timeout_is_clean(void) { expect_clean("deadlock", "--fixed=timeout"); }

/* test: broken publication: data-race report on the session */
static void broken_publication_gets_a_data_race_report_on_the_session(void)
{
    /* The flag is an atomic, so the race TSan sees is on the record it
     * guards: the warmer writes the session after a handler read it, with
     * nothing (a relaxed flag orders nothing) between the two. */
    expect_data_race("publication", "publish_broken demos/publication.c:",
                     "await_broken demos/publication.c:");
}

/* test: publication --fixed=release-acquire: no report */
static void publication_release_acquire_is_clean(void)
{
    expect_clean("publication", "--fixed=release-acquire");
}
/* test: publication --fixed=mutex: no report */
static void publication_mutex_is_clean(void) { expect_clean("publication", "--fixed=mutex"); }
/* test: livelock --fixed=ordering: no report */
static void livelock_ordering_is_clean(void) { expect_clean("livelock", "--fixed=ordering"); }
/* test: livelock --fixed=backoff: no report */
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
    char what[96];
    snprintf(what, sizeof what, "webhook %s on three workers", fix);
    expect_no_tsan_report(&out, what, 0);
    ASSERT_STR_HAS(out.out, ": HELD");
}

/* test: webhook --fixed=keyed: no report, one and three workers */
static void webhook_keyed_is_clean(void)
{
    expect_clean("webhook", "--fixed=keyed");
    expect_webhook_clean("--fixed=keyed");
}

/* test: webhook --fixed=idempotency: no report, one and three workers */
static void webhook_idempotency_is_clean(void)
{
    expect_clean("webhook", "--fixed=idempotency");
    expect_webhook_clean("--fixed=idempotency");
}

/* test: broken livelock: no report, concdemo's LIVELOCK */
static void broken_livelock_is_concdemos_to_report(void)
{
    /* Nothing races and no lock waits for another (the second lock is
     * only tried): TSan has nothing to say, and the run still ends with
     * concdemo's LIVELOCK. */
    expect_broken_unreported("livelock", NULL, ": LIVELOCK");
}

/* test: broken deadlock is still detected under TSan */
static void broken_deadlock_is_still_detected_under_tsan(void)
{
    /* TSan learns a lock order only when the second lock is really taken,
     * which a true deadlock never does; concdemo's own watchdog is what
     * reports it here, and the run must end. */
    expect_deadlock_reported("deadlock");
}

/* test: lost-wakeup --fixed=state: no report */
static void lost_wakeup_state_is_clean(void) { expect_clean("lost-wakeup", "--fixed=state"); }
/* test: lost-wakeup --fixed=sem: no report */
static void lost_wakeup_sem_is_clean(void) { expect_clean("lost-wakeup", "--fixed=sem"); }
/* test: spurious --fixed=while: no report */
static void spurious_while_is_clean(void) { expect_clean("spurious", "--fixed=while"); }
/* test: spurious --fixed=two-conds: no report */
static void spurious_two_conds_is_clean(void) { expect_clean("spurious", "--fixed=two-conds"); }

/* test: broken lost-wakeup is stuck under TSan, no report */
static void broken_lost_wakeup_is_stuck_under_tsan(void)
{
    /* A lost wake-up is no data race: TSan has nothing to say, and the
     * run must still end with concdemo's STUCK and the early signal. */
    expect_broken_unreported("lost-wakeup", NULL, "STUCK");
    ASSERT_STR_HAS(out.out, "before anyone waited (a lost wake-up)");
}

/* test: broken spurious: violated, and no data race for TSan */
static void broken_spurious_is_no_data_race(void)
{
    /* The cooks read and write the rail under its lock: TSan sees no race,
     * yet the invariant breaks. Only the verdict shows it. */
    expect_broken_unreported("spurious", NULL, "spurious [broken]: VIOLATED");
}

/* test: broken stampede: violated, and no data race for TSan */
static void broken_stampede_is_no_data_race(void)
{
    /* On one worker every access is on one thread; on two, the cache is
     * atomic per operation. Either way only the verdict shows it. */
    static const char *const workers[] = { "--workers=1", "--workers=2" };
    for (int i = 0; i < 2; i++) {
        expect_broken_unreported("stampede", workers[i],
                                 "stampede [broken]: VIOLATED");
        ASSERT_STR_HAS(out.out, "no data race");
    }
}

/* test: stampede --fixed=keyed: no report */
static void stampede_keyed_is_clean(void) { expect_clean("stampede", "--fixed=keyed"); }
/* test: stampede --fixed=singleflight: no report */
static void stampede_singleflight_is_clean(void) { expect_clean("stampede", "--fixed=singleflight"); }

/* test: broken order-violation: data-race report naming the lines */
static void broken_order_violation_gets_a_data_race_report(void)
{
    /* The handler's read of the connection and start-up's store of it:
     * nothing orders the two, which is the bug. */
    expect_data_race("order-violation",
                     "get_conn_broken demos/order_violation.c:",
                     "startup_broken demos/order_violation.c:");
    ASSERT_STR_HAS(out.out, ": VIOLATED");
}

/* test: order-violation --fixed=cond: no report */
static void order_cond_is_clean(void) { expect_clean("order-violation", "--fixed=cond"); }
/* test: order-violation --fixed=join: no report */
static void order_join_is_clean(void) { expect_clean("order-violation", "--fixed=join"); }
/* test: order-violation --fixed=once: no report */
static void order_once_is_clean(void) { expect_clean("order-violation", "--fixed=once"); }
/* test: philosophers --fixed=ordering: no report */
static void philosophers_ordering_is_clean(void) { expect_clean("philosophers", "--fixed=ordering"); }
/* test: philosophers --fixed=timeout: no report */
static void philosophers_timeout_is_clean(void) { expect_clean("philosophers", "--fixed=timeout"); }

/* test: broken philosophers are still detected under TSan */
static void broken_philosophers_are_still_detected_under_tsan(void)
{
    /* As with the ABBA: the ring never completes a second lock, so TSan
     * learns no cycle from it; concdemo's watchdog reports it. A diner
     * that ate before the ring closed may have taught TSan most of the
     * ring; if it saw all of it, its report and exit code come too. */
    expect_deadlock_reported("philosophers");
    CU_ASSERT_PTR_NULL(strstr(out.err, "data race"));
}

/* test: philosophers --fixed=waiter: no report (one suppressed) */
static void philosophers_waiter_is_clean(void)
{
    /* TSan's lock-order graph would report the ring of forks, which the
     * waiter keeps from closing: demos/philosophers.c suppresses that one
     * report, with its reason. Anything else TSan finds still counts. */
    expect_clean("philosophers", "--fixed=waiter");
}

/* test: inventory --fixed=keyed: no report */
static void inventory_keyed_is_clean(void) { expect_clean("inventory", "--fixed=keyed"); }
/* test: inventory --fixed=reserve: no report */
static void inventory_reserve_is_clean(void) { expect_clean("inventory", "--fixed=reserve"); }
/* test: chat --fixed=outbox: no report */
static void chat_outbox_is_clean(void) { expect_clean("chat", "--fixed=outbox"); }
/* test: orphans --fixed=scope: no report */
static void orphans_scope_is_clean(void) { expect_clean("orphans", "--fixed=scope"); }
/* test: offload --fixed=offload: no report */
static void offload_offload_is_clean(void) { expect_clean("offload", "--fixed=offload"); }

/* test: broken inventory: oversold, and no data race for TSan */
static void broken_inventory_is_no_data_race(void)
{
    /* The stock is an atomic counter: each check and each decrement is one
     * indivisible step, on one worker or four, so TSan rightly sees no
     * race - and the stock still goes below zero, between the steps. */
    static const char *const workers[] = { "--workers=1", "--workers=4" };
    for (int i = 0; i < 2; i++) {
        expect_broken_unreported("inventory", workers[i],
                                 "inventory [broken]: VIOLATED");
        ASSERT_STR_HAS(out.out, "oversold");
    }
}

/* test: broken counter: data-race report on the count */
static void broken_counter_gets_a_data_race_report_on_the_count(void)
{
    expect_data_race("counter", "count_view_broken demos/counter.c:", NULL);
}

/* test: counter --fixed=mutex: no report */
static void counter_mutex_is_clean(void) { expect_clean("counter", "--fixed=mutex"); }
/* test: counter --fixed=actor: no report */
static void counter_actor_is_clean(void) { expect_clean("counter", "--fixed=actor"); }
/* test: counter --fixed=atomic: no report */
static void counter_atomic_is_clean(void) { expect_clean("counter", "--fixed=atomic"); }

/* test: broken broadcast: violated, and no data race for TSan */
static void broken_broadcast_is_no_data_race(void)
{
    expect_broken_unreported("broadcast", NULL, "broadcast [broken]: VIOLATED");
}

/* test: broadcast --fixed=bounded: no report */
static void broadcast_bounded_is_clean(void) { expect_clean("broadcast", "--fixed=bounded"); }

/* test: db-race --fixed=cas: no report */
static void db_race_cas_is_clean(void) { expect_clean("db-race", "--fixed=cas"); }
/* test: db-race --fixed=tx: no report */
static void db_race_tx_is_clean(void) { expect_clean("db-race", "--fixed=tx"); }
/* test: db-race --fixed=unique: no report */
static void db_race_unique_is_clean(void) { expect_clean("db-race", "--fixed=unique"); }

/* test: broken db-race and local-mutex: violated, nothing for TSan */
static void broken_db_race_is_invisible_to_tsan(void)
{
    /* The race is between processes, through the database: no memory
     * is shared, so TSan (in every instance) has nothing to report. */
    static const char *const variants[] = { "--latency-scale=5",
                                            "--fixed=local-mutex" };
    for (int i = 0; i < 2; i++) {
        /* The gateway at 10 ms: the overlap does not depend on a busy
         * machine's scheduling (tests/test_db_race.c). */
        const char *argv[] = { concdemo_tsan_bin(), "db-race", variants[i],
                               "--latency-scale=5", NULL };
        run_cmd(&out, argv, "TSAN_OPTIONS=halt_on_error=0 exitcode=66",
                LIMIT_MS);
        CU_ASSERT_PTR_NULL(strstr(out.err, "ThreadSanitizer"));
        ASSERT_INT_EQ(out.exit_code, 1);
        ASSERT_STR_HAS(out.out, "charged twice");
    }
}

/* test: holdtime --fixed=copy-out: no report */
static void holdtime_copy_out_is_clean(void) { expect_clean("holdtime", "--fixed=copy-out"); }

/* test: holdtime broken and no-check: violated, no data race for TSan */
static void holdtime_broken_and_no_check_are_no_data_race(void)
{
    /* no-check under the controlled scheduler: in a free run on a starved
     * machine the till may sell nothing while a report renders. */
    static const char *const why[] = { "rendered holding the board's lock",
                                       "sales lost" };
    const char *no_check[] = { concdemo_tsan_bin(), "holdtime",
                               "--fixed=no-check", "--sched=random:1", NULL };
    for (int i = 0; i < 2; i++) {
        if (i == 0)
            run_tsan("holdtime", NULL);
        else
            run_cmd(&out, no_check, "TSAN_OPTIONS=halt_on_error=0 "
                    "exitcode=66", LIMIT_MS);
        CU_ASSERT_PTR_NULL(strstr(out.err, "ThreadSanitizer"));
        ASSERT_INT_EQ(out.exit_code, 1);
        ASSERT_STR_HAS(out.out, ": VIOLATED");
        ASSERT_STR_HAS(out.out, why[i]);
    }
}
