/*
 * test_detect.c - deadlock detection: the wait-for cycle search on
 * hand-built snapshots, the lock-order graph (built by hand and learned
 * from real runs), and the watchdog ending a real deadlock or a run that
 * outlives its time limit.
 *
 * Real deadlocks happen only in a forked child killed at a time limit.
 * The ABBA below is forced, not hoped for: each thread takes its first
 * lock, then both meet at a barrier, so both hold one lock before either
 * asks for the other.
 */
#define _GNU_SOURCE /* sched_setaffinity */
#include <errno.h>
#include <sched.h>
#include <sys/resource.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h> /* gettid */

#include "../lib/cd_detect.h"
#include "../lib/cd_internal.h" /* cd__lockorder_add, cd__reg_add_* */
#include "../lib/cd_lockorder.h"
#include "../lib/cd_mutex.h"
#include "../lib/cd_registry.h"
#include "../lib/cd_thread.h"
#include "../lib/cd_waitfor.h"
#include "harness.h"

/* suite: detect */

#define DETECT_LIMIT_MS 5000 /* a deadlock must be broken well within this */

#ifdef CD_TSAN
/* Every lock-order inversion in this file is the point of its test (the
 * lucky ABBA run, the real deadlock the watchdog breaks), and TSan rightly
 * reports each one. Other report kinds from these tests still count.
 * This replaces the demos' suppressions for the whole runner, so it
 * repeats theirs: the philosophers' waiter, whose ring of forks never
 * closes (demos/philosophers.c says why). */
const char *__tsan_default_suppressions(void);
const char *__tsan_default_suppressions(void)
{
    return "deadlock:tests/test_detect.c\n"
           "deadlock:meal_waiter\n";
}
#endif

/* ======================= hand-built snapshots ============================ */

/* nthreads running threads and nobjs free locks, ids 1..n. */
static cd_snapshot_t *new_snapshot(int nthreads, int nobjs)
{
    cd_snapshot_t *s = calloc(1, sizeof *s);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    s->nthreads = nthreads;
    s->nobjs = nobjs;
    for (int i = 0; i < nthreads; i++) {
        s->threads[i].id = i + 1;
        s->threads[i].state = CD_T_RUNNING;
    }
    for (int i = 0; i < nobjs; i++) {
        s->objs[i].id = i + 1;
        s->objs[i].kind = CD_OBJ_MUTEX;
        s->objs[i].live = 1;
    }
    return s;
}

static void set_holds(cd_snapshot_t *s, int thread, int obj)
{
    cd_thread_info_t *t = &s->threads[thread - 1];
    s->objs[obj - 1].owner = thread;
    t->held[t->nheld++] = obj;
}

static void set_waits(cd_snapshot_t *s, int thread, int obj, int timed)
{
    cd_thread_info_t *t = &s->threads[thread - 1];
    t->state = CD_T_BLOCKED;
    t->waiting_on = obj;
    t->wait_timed = timed;
    t->wait_seq++;
    s->objs[obj - 1].nwaiters++;
}

/* thread holds one lock and waits, untimed, for another. */
static void hold_and_wait(cd_snapshot_t *s, int thread, int holds, int waits)
{
    set_holds(s, thread, holds);
    set_waits(s, thread, waits, 0);
}

/* Whether s holds a cycle. */
static int has_cycle(const cd_snapshot_t *s)
{
    cd_cycle_t c;
    return cd_waitfor_find_cycle(s, &c);
}

/* Fails the test unless s holds a cycle of len links, link k being thread
 * links[k][0] holding lock links[k][1] and waiting for links[k][2]. Frees
 * s. */
static void expect_cycle(cd_snapshot_t *s, int len, const int links[][3])
{
    cd_cycle_t c;
    ASSERT_INT_EQ(cd_waitfor_find_cycle(s, &c), 1);
    ASSERT_INT_EQ(c.len, len);
    for (int k = 0; k < len && k < c.len; k++) {
        ASSERT_INT_EQ(c.link[k].thread, links[k][0]);
        ASSERT_INT_EQ(c.link[k].holds, links[k][1]);
        ASSERT_INT_EQ(c.link[k].waits, links[k][2]);
    }
    free(s);
}

enum { A = 1, B, C, D }; /* lock ids in hand-built snapshots */

/* test: test_two_thread_cycle_is_found_with_its_links */
static void test_two_thread_cycle_is_found_with_its_links(void)
{
    cd_snapshot_t *s = new_snapshot(2, 2);
    hold_and_wait(s, 1, A, B);
    hold_and_wait(s, 2, B, A);
    expect_cycle(s, 2, (const int[][3]){ { 1, A, B }, { 2, B, A } });
}

/* Thread 1 waits into the cycle; the search meets the cycle at thread 4,
 * yet the report starts from its lowest thread, 3. */
/* test: test_cycle_report_starts_at_its_lowest_thread */
static void test_cycle_report_starts_at_its_lowest_thread(void)
{
    cd_snapshot_t *s = new_snapshot(4, 3);
    set_holds(s, 4, A);
    set_holds(s, 4, C);
    set_holds(s, 3, B);
    set_waits(s, 1, C, 0); /* waits for 4, outside the cycle */
    set_waits(s, 4, B, 0); /* 4 -> 3 */
    set_waits(s, 3, A, 0); /* 3 -> 4 */
    expect_cycle(s, 2, (const int[][3]){ { 3, B, A }, { 4, A, B } });
}

/* 1 -> 3 -> 2 -> 1: the links follow the waits, not the thread ids. */
/* test: test_three_thread_cycle_is_found_in_wait_order */
static void test_three_thread_cycle_is_found_in_wait_order(void)
{
    cd_snapshot_t *s = new_snapshot(3, 3);
    set_holds(s, 1, A);
    set_holds(s, 3, B);
    set_holds(s, 2, C);
    set_waits(s, 1, B, 0);
    set_waits(s, 3, C, 0);
    set_waits(s, 2, A, 0);
    expect_cycle(s, 3,
                 (const int[][3]){ { 1, A, B }, { 3, B, C }, { 2, C, A } });
}

/* test: test_chain_of_waits_without_cycle_is_no_deadlock */
static void test_chain_of_waits_without_cycle_is_no_deadlock(void)
{
    cd_snapshot_t *s = new_snapshot(3, 3);
    cd_cycle_t c;
    set_holds(s, 2, A);
    set_holds(s, 3, B);
    hold_and_wait(s, 1, C, A); /* 1 -> 2 -> 3, and 3 is running */
    set_waits(s, 2, B, 0);
    ASSERT_INT_EQ(cd_waitfor_find_cycle(s, &c), 0);
    set_waits(s, 3, C, 0); /* 3 -> 1 closes the chain */
    ASSERT_INT_EQ(cd_waitfor_find_cycle(s, &c), 1);
    ASSERT_INT_EQ(c.len, 3);
    free(s);
}

/* test: test_timed_wait_in_the_loop_is_no_deadlock */
static void test_timed_wait_in_the_loop_is_no_deadlock(void)
{
    cd_snapshot_t *s = new_snapshot(2, 2);
    hold_and_wait(s, 1, A, B);
    set_holds(s, 2, B);
    set_waits(s, 2, A, 1); /* gives up at its deadline: the loop breaks */
    ASSERT_INT_EQ(has_cycle(s), 0);
    s->threads[1].wait_timed = 0; /* the same loop, waited forever */
    ASSERT_INT_EQ(has_cycle(s), 1);
    free(s);
}

/* test: test_only_blocked_threads_make_a_cycle */
static void test_only_blocked_threads_make_a_cycle(void)
{
    cd_snapshot_t *s = new_snapshot(2, 2);
    hold_and_wait(s, 1, A, B);
    hold_and_wait(s, 2, B, A);
    s->threads[1].state = CD_T_SLEEPING; /* a stale waiting_on */
    ASSERT_INT_EQ(has_cycle(s), 0);
    free(s);
}

/* test: test_thread_waiting_on_its_own_lock_is_cycle_of_one */
static void test_thread_waiting_on_its_own_lock_is_cycle_of_one(void)
{
    cd_snapshot_t *s = new_snapshot(3, 2);
    set_holds(s, 1, A);
    set_waits(s, 3, A, 0); /* waits for 1, no cycle */
    hold_and_wait(s, 2, B, B); /* locks B twice: waits for itself */
    expect_cycle(s, 1, (const int[][3]){ { 2, B, B } });
}

/* test: test_empty_snapshot_has_no_cycle */
static void test_empty_snapshot_has_no_cycle(void)
{
    cd_snapshot_t *s = new_snapshot(0, 0);
    ASSERT_INT_EQ(has_cycle(s), 0);
    free(s);
}

/* test: test_cycle_format_uses_registry_names */
static void test_cycle_format_uses_registry_names(void)
{
    char buf[256];

    cd_reg_reset();
    int t1 = cd__reg_add_thread("transfer-1");
    int t2 = cd__reg_add_thread("transfer-2");
    int a = cd__reg_add_object("acct-A", CD_OBJ_MUTEX, NULL, NULL);
    int b = cd__reg_add_object("acct-B", CD_OBJ_MUTEX, NULL, NULL);
    cd_snapshot_t *s = new_snapshot(2, 2);
    cd_cycle_t c;
    hold_and_wait(s, t1, a, b);
    hold_and_wait(s, t2, b, a);
    CU_ASSERT_FATAL(cd_waitfor_find_cycle(s, &c) == 1);

    const char *want = "transfer-1 holds acct-A, waits acct-B; "
                       "transfer-2 holds acct-B, waits acct-A";
    int n = cd_cycle_format(&c, buf, sizeof buf);
    CU_ASSERT_STRING_EQUAL(buf, want);
    ASSERT_INT_EQ(n, strlen(want));

    /* A short buffer gets a terminated prefix and the full length. */
    char small[12];
    ASSERT_INT_EQ(cd_cycle_format(&c, small, sizeof small), strlen(want));
    CU_ASSERT_STRING_EQUAL(small, "transfer-1 ");
    free(s);
    cd_reg_reset();
}

/* ====================== lock-order graph, by hand ======================== */

static const cd_site_t site_x10 = { "x.c", 10 }, site_x11 = { "x.c", 11 };
static const cd_site_t site_y20 = { "y.c", 20 }, site_y21 = { "y.c", 21 };
static const cd_site_t site_z30 = { "z.c", 30 }, site_z31 = { "z.c", 31 };

/* Registers threads t1..t3 and locks acct-A..acct-D for the names. */
static void name_the_world(void)
{
    cd_reg_reset();
    cd__reg_add_thread("t1");
    cd__reg_add_thread("t2");
    cd__reg_add_thread("t3");
    cd__reg_add_object("acct-A", CD_OBJ_MUTEX, NULL, NULL);
    cd__reg_add_object("acct-B", CD_OBJ_MUTEX, NULL, NULL);
    cd__reg_add_object("acct-C", CD_OBJ_MUTEX, NULL, NULL);
    cd__reg_add_object("acct-D", CD_OBJ_MUTEX, NULL, NULL);
}

static void assert_site(cd_site_t got, cd_site_t want)
{
    CU_ASSERT_PTR_NOT_NULL_FATAL(got.file);
    CU_ASSERT_STRING_EQUAL(got.file, want.file);
    ASSERT_INT_EQ(got.line, want.line);
}

/* test: test_opposite_orders_report_one_inversion_with_both_sites */
static void test_opposite_orders_report_one_inversion_with_both_sites(void)
{
    cd_inversion_t inv[CD_MAX_INVERSIONS];
    char buf[512];

    name_the_world();
    ASSERT_INT_EQ(cd__lockorder_add(1, A, B, site_x10, site_x11), 0);
    ASSERT_INT_EQ(cd__lockorder_add(2, B, A, site_y20, site_y21), 1);
    ASSERT_INT_EQ(cd__lockorder_add(2, B, A, site_y20, site_y21), 0); /* known */
    ASSERT_INT_EQ(cd_reg_inversions(inv, CD_MAX_INVERSIONS), 1);
    ASSERT_INT_EQ(inv[0].first, B);
    ASSERT_INT_EQ(inv[0].second, A);
    ASSERT_INT_EQ(inv[0].thread, 2);
    assert_site(inv[0].held_at, site_y20);
    assert_site(inv[0].taken_at, site_y21);
    ASSERT_INT_EQ(inv[0].back_thread, 1);
    assert_site(inv[0].back_held_at, site_x10);
    assert_site(inv[0].back_taken_at, site_x11);
    ASSERT_INT_EQ(inv[0].direct, 1);

    cd_inversion_format(&inv[0], buf, sizeof buf);
    ASSERT_STR_HAS(buf, "acct-B -> acct-A in t2 (holds acct-B from y.c:20, "
                        "takes acct-A at y.c:21)");
    ASSERT_STR_HAS(buf, "acct-A -> acct-B in t1 (holds acct-A from x.c:10");
    ASSERT_STR_HAS(buf, "x.c:11");
    cd_reg_reset();
}

/* test: test_consistent_orders_report_nothing */
static void test_consistent_orders_report_nothing(void)
{
    cd_inversion_t inv[CD_MAX_INVERSIONS];

    name_the_world();
    ASSERT_INT_EQ(cd__lockorder_add(1, A, B, site_x10, site_x11), 0);
    ASSERT_INT_EQ(cd__lockorder_add(2, B, C, site_y20, site_y21), 0);
    ASSERT_INT_EQ(cd__lockorder_add(3, A, C, site_z30, site_z31), 0);
    ASSERT_INT_EQ(cd__lockorder_add(2, A, B, site_y20, site_y21), 0);
    ASSERT_INT_EQ(cd__lockorder_add(1, C, D, site_x10, site_x11), 0);
    ASSERT_INT_EQ(cd_reg_inversions(inv, CD_MAX_INVERSIONS), 0);
    cd_reg_reset();
}

/* test: test_three_lock_cycle_reports_inversion */
static void test_three_lock_cycle_reports_inversion(void)
{
    cd_inversion_t inv[CD_MAX_INVERSIONS];
    char buf[512];

    name_the_world();
    ASSERT_INT_EQ(cd__lockorder_add(1, A, B, site_x10, site_x11), 0);
    ASSERT_INT_EQ(cd__lockorder_add(2, B, C, site_y20, site_y21), 0);
    ASSERT_INT_EQ(cd__lockorder_add(3, C, A, site_z30, site_z31), 1);
    ASSERT_INT_EQ(cd_reg_inversions(inv, CD_MAX_INVERSIONS), 1);
    ASSERT_INT_EQ(inv[0].first, C);
    ASSERT_INT_EQ(inv[0].second, A);
    ASSERT_INT_EQ(inv[0].thread, 3);
    ASSERT_INT_EQ(inv[0].direct, 0);
    /* The way back starts with t1's edge A -> B. */
    ASSERT_INT_EQ(inv[0].back_thread, 1);
    assert_site(inv[0].back_held_at, site_x10);
    assert_site(inv[0].back_taken_at, site_x11);
    cd_inversion_format(&inv[0], buf, sizeof buf);
    ASSERT_STR_HAS(buf, "acct-C -> acct-A in t3 (holds acct-C from z.c:30, "
                        "takes acct-A at z.c:31)");
    ASSERT_STR_HAS(buf, "in t1 (holds acct-A from x.c:10");
    cd_reg_reset();
}

/* ================ lock-order graph: gates (a waiter) ===================== */

/* Five threads d1..d5, locks fork-1..fork-5 (ids 1..5) and a semaphore,
 * the waiter (id 6), that is a gate of `permits`. */
#define WAITER 6
static void lay_the_table(int permits)
{
    char name[16];
    cd_reg_reset();
    for (int i = 1; i <= 5; i++) {
        snprintf(name, sizeof name, "d%d", i);
        cd__reg_add_thread(name);
    }
    for (int i = 1; i <= 5; i++) {
        snprintf(name, sizeof name, "fork-%d", i);
        cd__reg_add_object(name, CD_OBJ_MUTEX, NULL, NULL);
    }
    CU_ASSERT_EQUAL_FATAL(cd__reg_add_object("waiter", CD_OBJ_MUTEX, NULL,
                                             NULL), WAITER);
    cd__lockorder_gate(WAITER, permits);
}

/* Diner i (1..5) takes fork i, then fork i+1 (fork 1 for diner 5), inside
 * gate (0: none). Returns what the lock-order graph said. */
static int takes_left_then_right(int i, int gate)
{
    return cd__lockorder_add_gated(i, i, i % 5 + 1, gate, site_x10, site_x11);
}

static int inversions(void)
{
    cd_inversion_t inv[CD_MAX_INVERSIONS];
    return cd_reg_inversions(inv, CD_MAX_INVERSIONS);
}

/* test: test_a_ring_longer_than_its_gate_is_no_inversion */
static void test_a_ring_longer_than_its_gate_is_no_inversion(void)
{
    /* Four seats, five forks: a deadlock needs five diners each holding
     * a fork, which needs five seats. */
    lay_the_table(4);
    for (int i = 1; i <= 5; i++)
        ASSERT_INT_EQ(takes_left_then_right(i, WAITER), 0);
    ASSERT_INT_EQ(inversions(), 0);
    cd_reg_reset();
}

/* test: test_a_ring_no_longer_than_its_gate_is_an_inversion */
static void test_a_ring_no_longer_than_its_gate_is_an_inversion(void)
{
    /* Five seats: all five can sit with a fork each. */
    lay_the_table(5);
    for (int i = 1; i <= 4; i++)
        ASSERT_INT_EQ(takes_left_then_right(i, WAITER), 0);
    ASSERT_INT_EQ(takes_left_then_right(5, WAITER), 1);
    ASSERT_INT_EQ(inversions(), 1);
    cd_reg_reset();
}

/* test: test_one_edge_outside_the_gate_makes_the_ring_an_inversion */
static void test_one_edge_outside_the_gate_makes_the_ring_an_inversion(void)
{
    lay_the_table(4);
    for (int i = 1; i <= 4; i++)
        ASSERT_INT_EQ(takes_left_then_right(i, WAITER), 0);
    ASSERT_INT_EQ(takes_left_then_right(5, 0), 1);
    cd_reg_reset();
    /* The same with the odd edge first: the search back finds it. */
    lay_the_table(4);
    ASSERT_INT_EQ(takes_left_then_right(3, 0), 0);
    for (int i = 4; i <= 5; i++)
        ASSERT_INT_EQ(takes_left_then_right(i, WAITER), 0);
    ASSERT_INT_EQ(takes_left_then_right(1, WAITER), 0);
    ASSERT_INT_EQ(takes_left_then_right(2, WAITER), 1);
    cd_reg_reset();
}

/* test: test_an_edge_taken_outside_its_gate_later_is_reported_then */
static void test_an_edge_taken_outside_its_gate_later_is_reported_then(void)
{
    lay_the_table(4);
    for (int i = 1; i <= 5; i++)
        ASSERT_INT_EQ(takes_left_then_right(i, WAITER), 0);
    ASSERT_INT_EQ(takes_left_then_right(2, WAITER), 0); /* known, inside */
    ASSERT_INT_EQ(takes_left_then_right(2, 0), 1);      /* outside: a ring */
    ASSERT_INT_EQ(inversions(), 1);
    ASSERT_INT_EQ(takes_left_then_right(2, 0), 0);      /* reported once */
    cd_reg_reset();
}

/* test: test_a_post_without_a_permit_ends_the_gate */
static void test_a_post_without_a_permit_ends_the_gate(void)
{
    lay_the_table(4);
    for (int i = 1; i <= 5; i++)
        ASSERT_INT_EQ(takes_left_then_right(i, WAITER), 0);
    cd__lockorder_enter(1, WAITER);
    cd__lockorder_leave(1, WAITER); /* its own permit back: still a gate */
    ASSERT_INT_EQ(inversions(), 0);
    cd__lockorder_leave(2, WAITER); /* a permit out of nothing */
    ASSERT_INT_EQ(inversions(), 1);
    cd_reg_reset();
}

/* test: test_threads_inside_the_gate_learn_gated_edges */
static void test_threads_inside_the_gate_learn_gated_edges(void)
{
    /* Through the choke point's call: each diner takes a permit, then
     * asks for its right fork holding its left one. */
    _Atomic int held[1];
    lay_the_table(4);
    for (int i = 1; i <= 5; i++) {
        cd__lockorder_enter(i, WAITER);
        atomic_init(&held[0], i);
        cd__lockorder_note(i, held, 1, i % 5 + 1, site_y21);
        cd__lockorder_leave(i, WAITER);
    }
    ASSERT_INT_EQ(inversions(), 0);
    /* Diner 3 again, without its seat: now the ring can close. */
    atomic_init(&held[0], 3);
    cd__lockorder_note(3, held, 1, 4, site_z31);
    ASSERT_INT_EQ(inversions(), 1);
    cd_reg_reset();
}

/* ===================== lock-order graph, real runs ======================= */

typedef struct pair {
    cd_mutex_t a, b;
    int use; /* 0: lock, 1: trylock, 2: timedlock for the second lock */
    int rc;  /* what the second acquisition returned */
} pair_t;

/* Lines of the lock calls, written by the workers, read after the joins. */
static int line_ab_first, line_ab_second, line_ba_first, line_ba_second;

static void lock_a_then_b(void *arg)
{
    pair_t *p = arg;
    /* Each call shares its line with the __LINE__ the test compares. */
    line_ab_first = __LINE__; cd_mutex_lock(&p->a);
    line_ab_second = __LINE__; p->rc = cd_mutex_lock(&p->b);
    cd_mutex_unlock(&p->b);
    cd_mutex_unlock(&p->a);
}

static void lock_b_then_a(void *arg)
{
    pair_t *p = arg;
    line_ba_first = __LINE__; cd_mutex_lock(&p->b);
    line_ba_second = __LINE__; cd_mutex_lock(&p->a);
    cd_mutex_unlock(&p->a);
    cd_mutex_unlock(&p->b);
}

/* Holds A and takes B without a wait that could last. */
static void lock_a_then_try_b(void *arg)
{
    pair_t *p = arg;
    cd_mutex_lock(&p->a);
    if (p->use == 1)
        p->rc = cd_mutex_trylock(&p->b);
    else
        p->rc = cd_mutex_timedlock(&p->b, 1000);
    if (p->rc == 0)
        cd_mutex_unlock(&p->b);
    cd_mutex_unlock(&p->a);
}

/* Runs fn alone on a fresh thread named name, to its end. */
static int run_alone(const char *name, cd_thread_fn fn, void *arg)
{
    cd_thread_t t;
    int rc = cd_thread_spawn(&t, name, fn, arg);
    return rc ? rc : cd_thread_join(&t);
}

static int init_pair(pair_t *p)
{
    memset(p, 0, sizeof *p);
    p->rc = -1;
    if (cd_mutex_init(&p->a, "acct-A") || cd_mutex_init(&p->b, "acct-B"))
        return -1;
    return 0;
}

/* Thread 1 takes A then B and finishes; only then thread 2 takes B then
 * A. They never meet, so nothing deadlocks, but the orders conflict. */
/* test: test_lucky_sequential_abba_run_reports_inversion_with_lines */
CHILD_TEST(test_lucky_sequential_abba_run_reports_inversion_with_lines)
{
    cd_inversion_t inv[CD_MAX_INVERSIONS];
    pair_t p;
    char buf[512], want[256];

    cd_reg_reset();
    EXPECT_EQ(init_pair(&p), 0);
    EXPECT_EQ(run_alone("transfer-1", lock_a_then_b, &p), 0);
    EXPECT_EQ(run_alone("transfer-2", lock_b_then_a, &p), 0);
    EXPECT_EQ(cd_reg_deadlock(NULL), 0);
    EXPECT_EQ(cd_reg_aborted(), CD_ABORT_NONE);

    EXPECT_EQ(cd_reg_inversions(inv, CD_MAX_INVERSIONS), 1);
    EXPECT_EQ(inv[0].first, p.b.id);
    EXPECT_EQ(inv[0].second, p.a.id);
    EXPECT_STR(cd_reg_thread_name(inv[0].thread), "transfer-2");
    EXPECT_STR(cd_reg_thread_name(inv[0].back_thread), "transfer-1");
    EXPECT_EQ(inv[0].direct, 1);
    EXPECT_STR(inv[0].held_at.file, __FILE__);
    EXPECT_EQ(inv[0].held_at.line, line_ba_first);
    EXPECT_EQ(inv[0].taken_at.line, line_ba_second);
    EXPECT_STR(inv[0].back_held_at.file, __FILE__);
    EXPECT_EQ(inv[0].back_held_at.line, line_ab_first);
    EXPECT_EQ(inv[0].back_taken_at.line, line_ab_second);

    cd_inversion_format(&inv[0], buf, sizeof buf);
    snprintf(want, sizeof want, "acct-B -> acct-A in transfer-2 (holds "
             "acct-B from %s:%d, takes acct-A at %s:%d)", __FILE__,
             line_ba_first, __FILE__, line_ba_second);
    EXPECT(strstr(buf, want) != NULL);
    return 0;
}

/* test: test_same_order_in_every_thread_reports_nothing */
CHILD_TEST(test_same_order_in_every_thread_reports_nothing)
{
    cd_inversion_t inv[CD_MAX_INVERSIONS];
    pair_t p;

    cd_reg_reset();
    EXPECT_EQ(init_pair(&p), 0);
    EXPECT_EQ(run_alone("transfer-1", lock_a_then_b, &p), 0);
    EXPECT_EQ(run_alone("transfer-2", lock_a_then_b, &p), 0);
    EXPECT_EQ(cd_reg_inversions(inv, CD_MAX_INVERSIONS), 0);
    return 0;
}

/* Trylock and timedlock while holding A teach no edge A -> B, so the later
 * B -> A closes no cycle. */
/* test: test_trylock_and_timedlock_while_holding_add_no_edge */
CHILD_TEST(test_trylock_and_timedlock_while_holding_add_no_edge)
{
    cd_inversion_t inv[CD_MAX_INVERSIONS];
    pair_t p;

    cd_reg_reset();
    EXPECT_EQ(init_pair(&p), 0);
    p.use = 1;
    EXPECT_EQ(run_alone("try-1", lock_a_then_try_b, &p), 0);
    EXPECT_EQ(p.rc, 0);
    p.use = 2;
    p.rc = -1;
    EXPECT_EQ(run_alone("timed-1", lock_a_then_try_b, &p), 0);
    EXPECT_EQ(p.rc, 0);
    EXPECT_EQ(run_alone("transfer-2", lock_b_then_a, &p), 0);
    EXPECT_EQ(cd_reg_inversions(inv, CD_MAX_INVERSIONS), 0);
    /* A blocking lock in the same place would have: */
    EXPECT_EQ(run_alone("transfer-1", lock_a_then_b, &p), 0);
    EXPECT_EQ(cd_reg_inversions(inv, CD_MAX_INVERSIONS), 1);
    return 0;
}

/* ============================== watchdog ================================= */

typedef struct abba {
    cd_mutex_t a, b;
    pthread_barrier_t both_hold; /* each has its first lock */
    int timed_ms;                /* 0: lock the second; else timedlock */
    int64_t b_asks_after_us;     /* B-first thread asks for A this late */
} abba_t;

static void take_second(abba_t *x, cd_mutex_t *m)
{
    if (x->timed_ms == 0) {
        cd_mutex_lock(m);
        cd_mutex_unlock(m);
    } else if (cd_mutex_timedlock(m, x->timed_ms) == 0) {
        cd_mutex_unlock(m);
    }
}

static void abba_a_first(void *arg)
{
    abba_t *x = arg;
    cd_mutex_lock(&x->a);
    pthread_barrier_wait(&x->both_hold);
    take_second(x, &x->b);
    cd_mutex_unlock(&x->a);
}

static void abba_b_first(void *arg)
{
    abba_t *x = arg;
    cd_mutex_lock(&x->b);
    pthread_barrier_wait(&x->both_hold);
    if (x->b_asks_after_us)
        cd_latency("fraud-check", x->b_asks_after_us);
    take_second(x, &x->a);
    cd_mutex_unlock(&x->b);
}

static int abba_init(abba_t *x, int timed_ms)
{
    memset(x, 0, sizeof *x);
    x->timed_ms = timed_ms;
    if (cd_mutex_init(&x->a, "acct-A") || cd_mutex_init(&x->b, "acct-B"))
        return -1;
    return pthread_barrier_init(&x->both_hold, NULL, 2);
}

/* test: test_watchdog_breaks_real_abba_deadlock */
CHILD_TEST(test_watchdog_breaks_real_abba_deadlock)
{
    cd_watchdog_t *w = NULL;
    cd_thread_t t1, t2;
    cd_cycle_t c;
    abba_t x;
    char buf[256];

    cd_reg_reset();
    cd_reg_set_latency_scale(1000);
    EXPECT_EQ(abba_init(&x, 0), 0);
    /* Real threads seldom ask at the same instant: transfer-2 asks 10 ms
     * after transfer-1, so their waits are not in lockstep. */
    x.b_asks_after_us = 10000;
    EXPECT_EQ(cd_watchdog_start(&w, 0 /* no timeout */, 10, 2000, NULL), 0);
    int64_t t0 = cd_now_ns();
    EXPECT_EQ(cd_thread_spawn(&t1, "transfer-1", abba_a_first, &x), 0);
    EXPECT_EQ(cd_thread_spawn(&t2, "transfer-2", abba_b_first, &x), 0);
    int rc1 = cd_thread_join(&t1);
    int rc2 = cd_thread_join(&t2);
    int64_t took_ms = (cd_now_ns() - t0) / 1000000;
    cd_watchdog_stop(w);

    EXPECT(took_ms < DETECT_LIMIT_MS);
    EXPECT_EQ(cd_reg_aborted(), CD_ABORT_DEADLOCK);
    EXPECT_EQ(cd_reg_deadlock(&c), 1);
    EXPECT_EQ(c.len, 2);
    EXPECT_EQ(c.link[0].thread, t1.id); /* the lower id leads */
    EXPECT_EQ(c.link[0].holds, x.a.id);
    EXPECT_EQ(c.link[0].waits, x.b.id);
    EXPECT_EQ(c.link[1].thread, t2.id);
    EXPECT_EQ(c.link[1].holds, x.b.id);
    EXPECT_EQ(c.link[1].waits, x.a.id);
    cd_cycle_format(&c, buf, sizeof buf);
    EXPECT_STR(buf, "transfer-1 holds acct-A, waits acct-B; "
                    "transfer-2 holds acct-B, waits acct-A");

    cd_snapshot_t *s = take_snapshot();
    EXPECT_EQ(oinfo(s, x.a.id)->owner, 0);
    EXPECT_EQ(oinfo(s, x.b.id)->owner, 0);
    EXPECT_EQ(cd_mutex_trylock(&x.a), 0); /* both really released */
    EXPECT_EQ(cd_mutex_trylock(&x.b), 0);
    cd_mutex_unlock(&x.b);
    cd_mutex_unlock(&x.a);
    /* The same run also broke the lock order. */
    cd_inversion_t inv[CD_MAX_INVERSIONS];
    EXPECT_EQ(cd_reg_inversions(inv, CD_MAX_INVERSIONS), 1);

    /* Both threads in the cycle are ended by the abort: the one that
     * notices second must not take the lock the first one's release
     * frees and carry on in an aborted run. */
    EXPECT_EQ(rc1, -ECANCELED);
    EXPECT_EQ(rc2, -ECANCELED);
    EXPECT_EQ(tinfo(s, t1.id)->state, CD_T_ABORTED);
    EXPECT_EQ(tinfo(s, t2.id)->state, CD_T_ABORTED);
    return 0;
}

static void lock_twice(void *arg)
{
    cd_mutex_lock(arg);
    cd_mutex_lock(arg); /* not recursive: waits for itself */
    cd_mutex_unlock(arg);
    cd_mutex_unlock(arg);
}

/* test: test_watchdog_breaks_thread_waiting_for_itself */
CHILD_TEST(test_watchdog_breaks_thread_waiting_for_itself)
{
    cd_watchdog_t *w = NULL;
    cd_mutex_t a;
    cd_thread_t t;
    cd_cycle_t c;
    char buf[128];

    cd_reg_reset();
    EXPECT_EQ(cd_mutex_init(&a, "config-lock"), 0);
    EXPECT_EQ(cd_watchdog_start(&w, 0, 10, 2000, NULL), 0);
    EXPECT_EQ(cd_thread_spawn(&t, "reloader", lock_twice, &a), 0);
    EXPECT_EQ(cd_thread_join(&t), -ECANCELED);
    cd_watchdog_stop(w);
    EXPECT_EQ(cd_reg_aborted(), CD_ABORT_DEADLOCK);
    EXPECT_EQ(cd_reg_deadlock(&c), 1);
    EXPECT_EQ(c.len, 1);
    cd_cycle_format(&c, buf, sizeof buf);
    EXPECT_STR(buf, "reloader holds config-lock, waits config-lock");
    EXPECT_EQ(cd_mutex_trylock(&a), 0);
    cd_mutex_unlock(&a);
    return 0;
}

static int both_wait_timed(const cd_snapshot_t *s, int t1, int t2)
{
    const cd_thread_info_t *a = tinfo(s, t1), *b = tinfo(s, t2);
    return a && b && a->state == CD_T_BLOCKED && a->wait_timed &&
           b->state == CD_T_BLOCKED && b->wait_timed;
}

/* The same ABBA with timed waits: the loop breaks by itself at the
 * deadlines, so the watchdog must leave it alone. */
/* test: test_watchdog_leaves_timed_abba_alone */
CHILD_TEST(test_watchdog_leaves_timed_abba_alone)
{
    cd_watchdog_t *w = NULL;
    cd_thread_t t1, t2;
    abba_t x;

    cd_reg_reset();
    EXPECT_EQ(abba_init(&x, 1000), 0);
    EXPECT_EQ(cd_watchdog_start(&w, 0, 10, 2000, NULL), 0);
    EXPECT_EQ(cd_thread_spawn(&t1, "transfer-1", abba_a_first, &x), 0);
    EXPECT_EQ(cd_thread_spawn(&t2, "transfer-2", abba_b_first, &x), 0);
    EXPECT(await(both_wait_timed, t1.id, t2.id)); /* the loop is there */
    EXPECT_EQ(tinfo(snap(), t1.id)->waiting_on, x.b.id);
    EXPECT_EQ(tinfo(snap(), t2.id)->waiting_on, x.a.id);
    EXPECT_EQ(cd_thread_join(&t1), 0);
    EXPECT_EQ(cd_thread_join(&t2), 0);
    cd_watchdog_stop(w);
    EXPECT_EQ(cd_reg_aborted(), CD_ABORT_NONE);
    EXPECT_EQ(cd_reg_deadlock(NULL), 0);
    return 0;
}

static void sleep_an_hour(void *arg)
{
    (void)arg;
    cd_latency("batch-job", (int64_t)3600 * 1000 * 1000);
}

/* test: test_watchdog_timeout_aborts_the_run */
CHILD_TEST(test_watchdog_timeout_aborts_the_run)
{
    cd_watchdog_t *w = NULL;
    cd_thread_t t;

    cd_reg_reset();
    cd_reg_set_latency_scale(1000);
    EXPECT_EQ(cd_watchdog_start(&w, 300, 10, 2000, NULL), 0);
    EXPECT_EQ(cd_thread_spawn(&t, "batch", sleep_an_hour, NULL), 0);
    EXPECT_EQ(cd_thread_join(&t), -ECANCELED);
    int64_t took_ms = cd_reg_elapsed_ns() / 1000000; /* the limit's clock */
    cd_watchdog_stop(w);
    EXPECT_EQ(cd_reg_aborted(), CD_ABORT_TIMEOUT);
    EXPECT_EQ(cd_reg_deadlock(NULL), 0);
    EXPECT(took_ms >= 300);
    EXPECT(took_ms < 300 + DETECT_LIMIT_MS);
    EXPECT_EQ(tinfo(take_snapshot(), t.id)->state, CD_T_ABORTED);
    return 0;
}

/* A thread that spins outside libconc never sees the abort: after the
 * grace period the watchdog hands the problem to on_stuck. */
static atomic_int stuck_reason;

static void note_stuck(int reason)
{
    atomic_store(&stuck_reason, reason);
}

static void spin_until_stuck_noted(void *arg)
{
    (void)arg;
    while (atomic_load(&stuck_reason) == 0)
        nanosleep(&(struct timespec){ 0, 1000000 }, NULL);
}

/* test: test_watchdog_calls_on_stuck_when_threads_ignore_the_abort */
CHILD_TEST(test_watchdog_calls_on_stuck_when_threads_ignore_the_abort)
{
    cd_watchdog_t *w = NULL;
    cd_thread_t t;

    cd_reg_reset();
    atomic_store(&stuck_reason, 0);
    EXPECT_EQ(cd_watchdog_start(&w, 100, 10, 200, note_stuck), 0);
    EXPECT_EQ(cd_thread_spawn(&t, "spinner", spin_until_stuck_noted, NULL), 0);
    EXPECT_EQ(cd_thread_join(&t), 0); /* ended by itself, not aborted */
    int64_t took_ms = cd_reg_elapsed_ns() / 1000000;
    cd_watchdog_stop(w);
    EXPECT_EQ(atomic_load(&stuck_reason), CD_ABORT_TIMEOUT);
    EXPECT(took_ms >= 100 + 200);
    return 0;
}

/* A thread that gets no CPU cannot see the abort either: on a starved
 * machine (a busy loop per CPU, this process at a low priority) the
 * grace starts again (up to three times) before the threads are called
 * stuck. The loops and the burner share one CPU: left to the kernel's
 * balancing, the burner could have the other CPU to itself whenever
 * the loops met on one (other suites running beside this one move them
 * about), and would not be starved at all. */
static void burn_until_stuck_noted(void *arg)
{
    (void)arg;
    while (atomic_load(&stuck_reason) == 0)
        ;
}

/* Under the controlled scheduler a thread that burns CPU without a
 * library call holds the run's only turn for ever. The watchdog stops the
 * run after a second of CPU with no step, not at its limit: here ten
 * minutes, far past this test's own, so that only that check can end the
 * run in time; then on_stuck is called as ever. */
/* test: test_watchdog_stops_a_controlled_run_that_spins_between_steps */
CHILD_TEST(test_watchdog_stops_a_controlled_run_that_spins_between_steps)
{
    cd_watchdog_t *w = NULL;
    cd_thread_t t;
    cd_sched_cfg_t cfg = { .strategy = CD_SCHED_RANDOM, .seed = 1 };

    cd_reg_reset();
    atomic_store(&stuck_reason, 0);
    EXPECT_EQ(cd_sched_begin(&cfg), 0);
    EXPECT_EQ(cd_watchdog_start(&w, 600000, 10, 200, note_stuck), 0);
    EXPECT_EQ(cd_thread_spawn(&t, "spinner", burn_until_stuck_noted, NULL), 0);
    cd_thread_join(&t); /* it ends once on_stuck was called */
    cd_watchdog_stop(w);
    cd_sched_end();
    EXPECT_EQ(cd_reg_aborted(), CD_ABORT_TIMEOUT);
    EXPECT_EQ(atomic_load(&stuck_reason), CD_ABORT_TIMEOUT);
    return 0;
}

/* The starved part of the test below, on a thread of its own: only it
 * (and the threads it starts) runs at the lower priority, since on Linux
 * a nice value is a thread's own. The rest of the child - stopping the
 * loops, its exit (and, in the ASan build, the leak check at exit) - is
 * not starved: at nice +10 beside the loops and a loaded runner's other
 * suites it had once taken more than the test's 15 s. */
typedef struct starved {
    int nice;
    cd_run_load_t load;
} starved_t;

static int run_starved(void *arg)
{
    starved_t *st = arg;
    cd_watchdog_t *w = NULL;
    cd_thread_t t;

    if (setpriority(PRIO_PROCESS, (id_t)gettid(), st->nice) != 0)
        return 1;
    cd_reg_reset();
    atomic_store(&stuck_reason, 0);
    if (cd_watchdog_start(&w, 100, 10, 200, note_stuck) != 0)
        return 1;
    int rc = cd_thread_spawn(&t, "burner", burn_until_stuck_noted, NULL) != 0 ||
             cd_thread_join(&t) != 0;
    cd_watchdog_load(w, &st->load);
    cd_watchdog_stop(w);
    return rc;
}

/* long test: test_watchdog_gives_a_starved_run_more_grace */
CHILD_TEST(test_watchdog_gives_a_starved_run_more_grace)
{
    pid_t loops[64];

    cpu_set_t allowed, one;
    EXPECT_EQ(sched_getaffinity(0, sizeof allowed, &allowed), 0);
    int cpu = 0;
    while (cpu < CPU_SETSIZE - 1 && !CPU_ISSET(cpu, &allowed))
        cpu++;
    CPU_ZERO(&one);
    CPU_SET(cpu, &one); /* the first CPU this process may use */
    EXPECT_EQ(sched_setaffinity(0, sizeof one, &one), 0); /* inherited */
    int busy = start_busy_loops(loops, 64);
    /* Ten steps nicer than the loops, not 19: a thread that never gets a
     * CPU has its wait booked only when it runs again (schedstat), so the
     * starvation must let it run now and then to be seen. Relative to
     * where we start, since the whole suite may run under `nice`. */
    errno = 0;
    int base = getpriority(PRIO_PROCESS, 0);
    EXPECT(errno == 0);
    starved_t st = { .nice = base + 10 > 19 ? 19 : base + 10 };
    plain_call_t starved;
    EXPECT_EQ(plain_call_start(&starved, run_starved, &st), 0);
    EXPECT_EQ(plain_call_join(&starved), 0);
    stop_busy_loops(loops, busy);
    EXPECT_EQ(starved.rc, 0);
    EXPECT_EQ(atomic_load(&stuck_reason), CD_ABORT_TIMEOUT);
    if (st.load.more_graces < 1)
        fprintf(stderr, "\n  load: wall %lld cpu %lld queued %lld limit %d\n",
                (long long)st.load.wall_ns / 1000000,
                (long long)st.load.cpu_ns / 1000000,
                (long long)st.load.queued_ns / 1000000, st.load.limit_ms);
    EXPECT(st.load.more_graces >= 1); /* 3 unless the machine freed up */
    return 0;
}

/* ================================ suite ================================== */
