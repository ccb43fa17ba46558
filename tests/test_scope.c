/*
 * test_scope.c - task scopes and the offload pool (cd_scope.h): a close
 * awaits every task; a failure or the deadline cancels the rest at their
 * next await (a timer, a socket, a lock, or before they start) so that
 * nothing they would do afterwards happens; the report names them; an
 * offloaded function runs while the loop goes on.
 *
 * Forked children with time limits and a watchdog, as in test_exec.c.
 * No test waits for time to pass to see an outcome: each order is forced
 * by an await that only another task can end.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../lib/cd_amutex.h"
#include "../lib/cd_detect.h"
#include "../lib/cd_exec.h"
#include "../lib/cd_io.h"
#include "../lib/cd_registry.h"
#include "../lib/cd_scope.h"
#include "../lib/cd_sem.h"
#include "harness.h"

/* suite: scope; forked */

#define SAFETY_MS 20000

static char *const logbuf = watched_log;

static void begin(int timeout_ms) { watched_begin("test_scope", timeout_ms); }
static void end(void) { watched_end(); }
static void say(const char *word) { watched_say(word); }

static int logged(const char *word) { return said_at(word) >= 0; }

/* Runs owner (a task that opens a scope) on a fresh executor of workers
 * threads and fails the test unless the run ends with 0 tasks ended by its
 * own abort: a scope's cancels are the scope's doing, not the run's. The
 * caller destroys the executor it returns once it has read the state. */
static cd_exec_t *run_owner(int workers, const char *name,
                            void (*owner)(void *), void *arg)
{
    cd_exec_t *e;
    CU_ASSERT_FATAL(cd_exec_create(&e, workers) == 0);
    cd_exec_spawn(e, name, owner, arg);
    ASSERT_INT_EQ(cd_exec_run(e), 0);
    return e;
}

/* ====================== close awaits every task ========================= */

static void short_job(void *arg)
{
    cd_await_latency("work", (intptr_t)arg);
    say("job");
}

static cd_scope_report_t report;
static int close_rc;

static void owner_all(void *arg)
{
    (void)arg;
    cd_scope_t *s;
    if (cd_scope_open(&s, "all", 0) != 0)
        return;
    for (int i = 0; i < 3; i++)
        cd_scope_spawn(s, "job", short_job, (void *)(intptr_t)(1000 * (i + 1)));
    close_rc = cd_scope_close(s, &report);
    say("closed");
}

/* test: close awaits every task */
static void test_close_awaits_every_task(void)
{
    begin(SAFETY_MS);
    cd_exec_t *e = run_owner(2, "owner", owner_all, NULL);
    CU_ASSERT_STRING_EQUAL(logbuf, "job job job closed ");
    ASSERT_INT_EQ(close_rc, 0);
    ASSERT_INT_EQ(report.spawned, 3);
    ASSERT_INT_EQ(report.cancelled, 0);
    cd_exec_destroy(e);
    end();
}

/* ============ a failure cancels the rest at their next await ============ */

static cd_conn_t *end_a, *end_b;
static cd_amutex_t held;
static cd_scope_t *scope;
static int ids[4];

static void fails(void *arg)
{
    (void)arg;
    cd_await_latency("reserve", 1000);
    say("failing");
    cd_scope_fail(scope, -EIO);
}

static void sleeps_then_charges(void *arg)
{
    (void)arg;
    cd_await_latency("charge latency", 10 * 1000 * 1000); /* 10 s */
    say("charged");
}

static void reads_then_mails(void *arg)
{
    (void)arg;
    char c;
    cd_io_read(end_a, &c, 1); /* nobody writes */
    say("mailed");
}

static void locks_then_ships(void *arg)
{
    (void)arg;
    cd_amutex_lock(&held); /* the owner holds it to the end */
    say("shipped");
    cd_amutex_unlock(&held);
}

static void owner_fail(void *arg)
{
    (void)arg;
    cd_amutex_lock(&held);
    if (cd_scope_open(&scope, "checkout", 0) != 0)
        return;
    ids[0] = cd_scope_spawn(scope, "charge", sleeps_then_charges, NULL);
    ids[1] = cd_scope_spawn(scope, "email", reads_then_mails, NULL);
    ids[2] = cd_scope_spawn(scope, "ship", locks_then_ships, NULL);
    ids[3] = cd_scope_spawn(scope, "reserve", fails, NULL);
    close_rc = cd_scope_close(scope, &report);
    say("closed");
    cd_amutex_unlock(&held);
}

/* test: a failure cancels the rest at their next await */
static void test_a_failure_cancels_the_rest_at_their_next_await(void)
{
    begin(SAFETY_MS);
    CU_ASSERT_FATAL(cd_io_pair(&end_a, "a", &end_b, "b") == 0);
    CU_ASSERT_FATAL(cd_amutex_init(&held, "held") == 0);
    /* Cancelled tasks are not the run's abort: 0 ended by it. */
    cd_exec_t *e = run_owner(2, "checkout", owner_fail, NULL);
    CU_ASSERT_STRING_EQUAL(logbuf, "failing closed ");
    ASSERT_INT_EQ(close_rc, -EIO);
    ASSERT_INT_EQ(report.err, -EIO);
    ASSERT_INT_EQ(report.spawned, 4);
    ASSERT_INT_EQ(report.cancelled, 3);
    ASSERT_INT_EQ(report.ids[0], ids[0]);
    ASSERT_INT_EQ(report.ids[1], ids[1]);
    ASSERT_INT_EQ(report.ids[2], ids[2]);
    CU_ASSERT_FALSE(logged("charged") || logged("mailed") || logged("shipped"));
    cd_snapshot_t *s = snap();
    cd_reg_snapshot(s);
    ASSERT_INT_EQ(s->threads[ids[0] - 1].state, CD_T_ABORTED);
    ASSERT_INT_EQ(s->threads[ids[3] - 1].state, CD_T_DONE);
    ASSERT_INT_EQ(s->objs[held.id - 1].owner, 0);
    cd_exec_destroy(e);
    cd_amutex_destroy(&held);
    cd_io_close(end_a);
    cd_io_close(end_b);
    end();
}

/* ================= the deadline cancels; a quick scope ends ============== */

static int64_t close_ns;

static void owner_deadline(void *arg)
{
    int64_t timeout_us = (intptr_t)arg;
    cd_scope_t *s;
    int64_t t0 = cd_now_ns();
    if (cd_scope_open(&s, "request", timeout_us) != 0)
        return;
    ids[0] = cd_scope_spawn(s, "charge", sleeps_then_charges, NULL);
    ids[1] = cd_scope_spawn(s, "quick", short_job, (void *)(intptr_t)100);
    close_rc = cd_scope_close(s, &report);
    close_ns = cd_now_ns() - t0;
    say("closed");
}

/* test: the deadline cancels what is left */
static void test_the_deadline_cancels_what_is_left(void)
{
    begin(SAFETY_MS);
    /* 500 ms: the 0.1 ms job must end first even on a machine that
     * starves the worker between the two tasks' starts (5 ms did not, at
     * a load of 15). */
    cd_exec_t *e = run_owner(1, "request", owner_deadline,
                             (void *)(intptr_t)500000);
    ASSERT_INT_EQ(close_rc, -ETIMEDOUT);
    ASSERT_INT_EQ(report.cancelled, 1);
    ASSERT_INT_EQ(report.ids[0], ids[0]);
    CU_ASSERT_STRING_EQUAL(logbuf, "job closed ");
    /* The close did not wait out the charge's 10 s. */
    CU_ASSERT(close_ns < 9LL * 1000 * 1000 * 1000);
    cd_exec_destroy(e);
    end();
}

static void owner_quick(void *arg)
{
    (void)arg;
    cd_scope_t *s;
    int64_t t0 = cd_now_ns();
    if (cd_scope_open(&s, "request", 10 * 1000 * 1000) != 0) /* 10 s */
        return;
    cd_scope_spawn(s, "quick", short_job, (void *)(intptr_t)100);
    close_rc = cd_scope_close(s, &report);
    close_ns = cd_now_ns() - t0;
}

/* test: a scope that finishes first does not wait for its deadline */
static void test_a_scope_that_finishes_first_does_not_wait_for_its_deadline(void)
{
    begin(SAFETY_MS);
    cd_exec_t *e = run_owner(1, "request", owner_quick, NULL);
    ASSERT_INT_EQ(close_rc, 0);
    ASSERT_INT_EQ(report.cancelled, 0);
    CU_ASSERT(close_ns < 9LL * 1000 * 1000 * 1000); /* not its 10 s */
    cd_exec_destroy(e);
    end();
}

/* ============ cancelling a scope cancels the scopes inside it ============ */

/* request (owner of "outer") spawns sub in outer; sub opens "inner" and
 * spawns a 10 s charge in it, then either closes inner at once (the
 * cancel finds sub in its close) or first awaits work of its own (the
 * cancel ends sub there, inner never closed). reserve fails outer. */
static int inner_charge_state, nest_depth;
static atomic_int sub_mode, inner_up; /* inner_up: the inner charge runs */

/* reserve's failure, once the innermost scope's charge is spawned: on two
 * workers it could otherwise come before sub has opened anything. */
static void fails_once_inside_is_up(void *arg)
{
    while (!atomic_load(&inner_up))
        cd_await_latency("inner scopes opening", 1000);
    fails(arg);
}

static void inner_owner(void *arg)
{
    int depth = (intptr_t)arg;
    cd_scope_t *inner;
    if (cd_scope_open(&inner, "inner", 0) != 0)
        return;
    if (depth < nest_depth) {
        cd_scope_spawn(inner, "deeper", inner_owner,
                       (void *)(intptr_t)(depth + 1));
    } else {
        ids[1] = cd_scope_spawn(inner, "inner-charge", sleeps_then_charges,
                                NULL);
        atomic_store(&inner_up, 1);
    }
    if (atomic_load(&sub_mode) == 1)
        cd_await_latency("own work", 10 * 1000 * 1000); /* 10 s */
    cd_scope_close(inner, NULL);
    say("inner-closed");
}

static void owner_nested(void *arg)
{
    int64_t timeout_us = (intptr_t)arg;
    if (cd_scope_open(&scope, "outer", timeout_us) != 0)
        return;
    ids[0] = cd_scope_spawn(scope, "sub", inner_owner, (void *)(intptr_t)1);
    if (timeout_us == 0)
        ids[3] = cd_scope_spawn(scope, "reserve", fails_once_inside_is_up,
                                NULL);
    close_rc = cd_scope_close(scope, &report);
    /* Everything inside has ended by now, the inner charge included. */
    cd_snapshot_t *s = snap();
    cd_reg_snapshot(s);
    inner_charge_state = ids[1] > 0 ? s->threads[ids[1] - 1].state : -1;
    say("closed");
}

static void run_nested(int mode, int depth, int64_t timeout_us)
{
    begin(SAFETY_MS);
    atomic_store(&sub_mode, mode);
    atomic_store(&inner_up, 0);
    nest_depth = depth;
    inner_charge_state = -1;
    ids[1] = 0;
    /* Cancelled, not the run's abort: it ends with 0 ended by that. */
    cd_exec_t *e = run_owner(2, "request", owner_nested,
                             (void *)(intptr_t)timeout_us);
    CU_ASSERT_FALSE(logged("charged") || logged("inner-closed"));
    CU_ASSERT(logged("closed"));
    ASSERT_INT_EQ(inner_charge_state, CD_T_ABORTED);
    ASSERT_INT_EQ(report.cancelled, 1); /* sub */
    ASSERT_INT_EQ(report.ids[0], ids[0]);
    cd_exec_destroy(e);
    end();
}

/* test: a cancel reaches a scope whose owner is in its close */
static void test_a_cancel_reaches_a_scope_whose_owner_is_in_its_close(void)
{
    run_nested(0, 1, 0);
    ASSERT_INT_EQ(close_rc, -EIO);
}

/* test: a cancel reaches a scope its owner never closes */
static void test_a_cancel_reaches_a_scope_its_owner_never_closes(void)
{
    run_nested(1, 1, 0);
    ASSERT_INT_EQ(close_rc, -EIO);
}

/* test: a deadline reaches three scopes down */
static void test_a_deadline_reaches_three_scopes_down(void)
{
    /* 500 ms: time for three scopes to open on a starved machine. */
    run_nested(0, 3, 500000);
    ASSERT_INT_EQ(close_rc, -ETIMEDOUT);
    run_nested(1, 3, 500000);
    ASSERT_INT_EQ(close_rc, -ETIMEDOUT);
}

/* ============== an offloaded function leaves the loop free ============== */

/* The offloaded function blocks until a task on the same (only) worker
 * posts: if it ran on the loop, that task could never run - the run would
 * hang and the watchdog fail the test. */
static cd_sem_t go;
static atomic_int offloaded_ran;

static void blocking_fn(void *arg)
{
    (void)arg;
    cd_sem_wait(&go);
    atomic_store(&offloaded_ran, 1);
}

static void offloader(void *arg)
{
    (void)arg;
    say("offload");
    cd_exec_offload("hash", blocking_fn, NULL);
    say("result");
}

static void poster(void *arg)
{
    (void)arg;
    cd_await_latency("tick", 1000);
    say("tick");
    cd_sem_post(&go);
}

/* test: an offloaded function leaves the loop free */
static void test_an_offloaded_function_leaves_the_loop_free(void)
{
    cd_exec_t *e;
    begin(5000);
    atomic_store(&offloaded_ran, 0);
    CU_ASSERT_FATAL(cd_sem_init(&go, "go", 0) == 0);
    CU_ASSERT_FATAL(cd_exec_create(&e, 1) == 0);
    cd_exec_spawn(e, "offloader", offloader, NULL);
    cd_exec_spawn(e, "poster", poster, NULL);
    ASSERT_INT_EQ(cd_exec_run(e), 0);
    CU_ASSERT_STRING_EQUAL(logbuf, "offload tick result ");
    ASSERT_INT_EQ(atomic_load(&offloaded_ran), 1);
    cd_exec_destroy(e); /* joins the pool */
    cd_sem_destroy(&go);
    end();
}
