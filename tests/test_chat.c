/*
 * test_chat.c - the chat room that one slow reader froze.
 *
 * Broken must stall the room on every run: the fast clients get only a
 * part of the messages and the referee saw the room lock held by a write
 * awaiting the slow client. The window is not timing: the slow client
 * reads nothing until the fast clients have everything, and the room's
 * traffic is many times what its socket buffers hold. The outbox fix must
 * deliver every message on one worker and on three. No socket and no task
 * is left behind by either.
 */
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "../lib/cd_registry.h"
#include "harness.h"

#define LIMIT_MS 20000
#define RUNS 5
#define FAST 4
#define MSGS 40

static cmd_out_t out;

static long num(const child_run_t *c, const char *key)
{
    return (long)cd_verdict_get_num(&c->r.verdict, key);
}

static child_run_t run_workers(const char *variant, int workers)
{
    const cd_scenario_t *s = cd_scenario_find("chat");
    cd_run_opts_t o = { .params = s->defaults, .timeout_ms = LIMIT_MS - 2000,
                        .latency_permille = 1000 };
    o.params.workers = workers;
    return run_forked_opts("chat", variant, &o, LIMIT_MS);
}

static void broken_stalls_the_room_every_run(void)
{
    for (int i = 0; i < RUNS; i++) {
        child_run_t c = run_forked("chat", "broken", 0, 0, LIMIT_MS);
        CU_ASSERT_FATAL(c.finished);
        ASSERT_INT_EQ(c.r.verdict.status, CD_VIOLATED);
        ASSERT_INT_EQ(num(&c, "expected"), FAST * FAST * MSGS);
        CU_ASSERT(num(&c, "delivered") < FAST * FAST * MSGS);
        ASSERT_INT_EQ(num(&c, "stalled"), 1);
        CU_ASSERT(num(&c, "port") > 0);
        ASSERT_STR_HAS(c.r.verdict.observed, "the room stalled");
    }
}

static void outbox_delivers_everything_every_run(void)
{
    for (int i = 0; i < RUNS; i++) {
        child_run_t c = run_forked("chat", "outbox", 0, 0, LIMIT_MS);
        CU_ASSERT_FATAL(c.finished);
        ASSERT_INT_EQ(c.r.verdict.status, CD_HELD);
        ASSERT_INT_EQ(num(&c, "delivered"), FAST * FAST * MSGS);
        ASSERT_INT_EQ(num(&c, "stalled"), 0);
        ASSERT_CLEAN_EXIT(c);
    }
}

static void outbox_holds_on_three_workers(void)
{
    for (int i = 0; i < RUNS; i++) {
        child_run_t c = run_workers("outbox", 3);
        CU_ASSERT_FATAL(c.finished);
        ASSERT_INT_EQ(c.r.verdict.status, CD_HELD);
        ASSERT_INT_EQ(num(&c, "delivered"), FAST * FAST * MSGS);
    }
}

static void broken_stalls_on_three_workers_too(void)
{
    child_run_t c = run_workers("broken", 3);
    CU_ASSERT_FATAL(c.finished);
    ASSERT_INT_EQ(c.r.verdict.status, CD_VIOLATED);
    ASSERT_INT_EQ(num(&c, "stalled"), 1);
}

static int open_fds(void)
{
    int n = 0;
    for (int fd = 0; fd < 1024; fd++)
        if (fcntl(fd, F_GETFD) != -1)
            n++;
    return n;
}

/* Runs a variant in this (forked) process: afterwards the same
 * descriptors are open as before, and every task has ended. */
static int leaves_nothing_behind(int variant)
{
    const cd_scenario_t *s = cd_scenario_find("chat");
    cd_verdict_t v;
    memset(&v, 0, sizeof v);
    cd_reg_reset();
    int before = open_fds();
    s->run(&s->defaults, variant, &v);
    EXPECT_EQ(open_fds(), before);
    cd_snapshot_t *snapshot = snap();
    cd_reg_snapshot(snapshot);
    int live = 0;
    for (int i = 0; i < snapshot->nthreads; i++) {
        int st = snapshot->threads[i].state;
        live += st == CD_T_PARKED || st == CD_T_READY || st == CD_T_BLOCKED;
    }
    EXPECT_EQ(live, 0);
    EXPECT_EQ(v.status, variant == 0 ? CD_VIOLATED : CD_HELD);
    return 0;
}

CHILD_TEST(broken_leaves_no_socket_or_task_behind)
{
    return leaves_nothing_behind(0);
}

CHILD_TEST(outbox_leaves_no_socket_or_task_behind)
{
    return leaves_nothing_behind(1);
}

static void exit_codes_are_the_verdicts(void)
{
    const char *broken[] = { "chat", NULL };
    run_concdemo(&out, broken, NULL, LIMIT_MS);
    ASSERT_INT_EQ(out.exit_code, 1);
    ASSERT_STR_HAS(out.out, "chat [broken]: VIOLATED");
    const char *fixed[] = { "chat", "--fixed=outbox", NULL };
    run_concdemo(&out, fixed, NULL, LIMIT_MS);
    ASSERT_INT_EQ(out.exit_code, 0);
    ASSERT_STR_HAS(out.out, "chat [outbox]: HELD");
}

void suite_chat(void)
{
    CU_pSuite s = CU_add_suite("chat", NULL, NULL);
    CU_add_test(s, "broken stalls the room, every run",
                broken_stalls_the_room_every_run);
    CU_add_test(s, "outbox delivers every message, every run",
                outbox_delivers_everything_every_run);
    CU_add_test(s, "outbox holds on three workers",
                outbox_holds_on_three_workers);
    CU_add_test(s, "broken stalls on three workers too",
                broken_stalls_on_three_workers_too);
    CU_add_test(s, "broken leaves no socket or task behind",
                broken_leaves_no_socket_or_task_behind);
    CU_add_test(s, "outbox leaves no socket or task behind",
                outbox_leaves_no_socket_or_task_behind);
    CU_add_test(s, "exit codes are the verdicts", exit_codes_are_the_verdicts);
}
