/*
 * offload.c - CPU-heavy work on the event loop: every request waits.
 *
 * The pitfall: a service answers its requests on one event loop (one
 * worker of the executor). Most requests are quick - a few microseconds
 * of work. Then one user logs in, and the login handler hashes the
 * password: 200 ms of real CPU, done right there in the handler. A task
 * only gives its worker back at an await, and a hash has none: for 200 ms
 * the loop runs nothing else. Every request that arrives meanwhile waits
 * for the hash to finish. Async is not multithreading: the loop has one
 * thread, and CPU work holds it.
 *
 * Symptom: the other requests' latency jumps from microseconds to
 *          hundreds of milliseconds (p50 ~110 ms, p99 ~200 ms), far over
 *          their 50 ms objective, while the loop looks idle but for one
 *          task.
 * Run:     concdemo offload                  the hash runs on the loop
 *          concdemo offload --fixed=offload  the hash runs on the offload
 *              pool (cd_exec_offload): the login task awaits it, the loop
 *              keeps serving, p99 stays within the objective
 * Lesson:  lessons/22-offload.md
 *
 * Latency is measured from when a request arrived (its timer's deadline),
 * not from when the loop got round to it: a busy loop that starts its
 * requests late must not hide its lateness. A request that arrived while
 * the service was still starting up (the loop giving each task its first
 * turn, long under a sanitizer) is measured from when it was up, as the
 * offload pool is started with the service, not in the login. Under the
 * controlled scheduler (--sched, explore) the hash's 200 ms are counted on
 * the virtual clock rather than spent (cd_cpu_work, lib/cd_scope.h): as a
 * sleep of the loop in broken, as an await beside it when offloaded.
 */
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "../lib/cd_exec.h"
#include "../lib/cd_registry.h"
#include "../lib/cd_scope.h"
#include "../lib/cd_thread.h"
#include "support.h" /* scenario.h, and how a run is driven */

#define GAP_US 2000          /* a request arrives every 2 ms */
#define HASH_US 200000       /* the password hash: 200 ms of CPU */
#define OBJECTIVE_US 50000   /* p99 of the other requests: within 50 ms */

typedef struct app app_t;

typedef struct request {
    app_t *app;
    int index;               /* 0-based; the login has index -1 */
    int64_t arrive_ns;       /* on the run's clock, from the start */
    int64_t latency_ns;      /* arrival to answer; -1: never answered */
} request_t;

/* The password hash's state: a salted digest stirred round after round
 * (a stand-in for bcrypt or PBKDF2: CPU and nothing else). */
typedef struct hash_job {
    uint64_t digest;
    long rounds;
} hash_job_t;

struct app {
    int variant, nrequests, nworkers;
    /* The loop's start: set by the first task to run (-1 before), not
     * when the tasks are made - setting up a hundred task stacks takes
     * long under a sanitizer, and that is no request's wait. */
    _Atomic int64_t start_ns;
    /* Up: every task has had its first turn (0 before), since the start. */
    atomic_int begun;
    _Atomic int64_t up_ns;
    request_t *reqs;         /* nrequests others, then the login */
    hash_job_t job;
    atomic_int answered, hashing;
    atomic_int during_hash;  /* requests answered while the hash ran */
    int64_t hash_ns;         /* how long the login's hash took */
    int g_answered, g_late, g_hashing;
};

/* ============================ the CPU work =============================== */

/* One round of the hash: a few thousand multiply-and-rotate steps. */
static void hash_rounds(void *arg)
{
    hash_job_t *j = arg;
    uint64_t d = j->digest;
    for (int i = 0; i < 4096; i++) {
        d ^= d >> 29;
        d *= 0xbf58476d1ce4e5b9u;
        d = (d << 17) | (d >> 47);
    }
    j->digest = d;
    j->rounds++;
}

/* Hashes the password: 200 ms of CPU on whatever thread calls it. */
static void hash_password(void *arg)
{
    hash_job_t *j = arg;
    j->digest = 0x73616c7470617373u; /* the salt and password, mixed */
    j->rounds = 0;
    cd_cpu_work("hash password", HASH_US, hash_rounds, j);
}

/* ===================== the login handlers, side by side ================== */

/* Broken: the hash runs in the handler, on the event loop. */
static void login_broken(app_t *a)
{
    hash_password(&a->job);           /* BUG: 200 ms of CPU, no await:
                                         the loop serves nobody else */
}

/* Fix "offload": the hash runs on the offload pool; the handler awaits
 * its result and the loop serves the other requests meanwhile. */
static void login_offload(app_t *a)
{
    cd_exec_offload("hash password", hash_password, &a->job); /* FIX: on
                                         the pool; this task awaits it */
}

static void (*const login[])(app_t *) = {
    login_broken, login_offload,
};

/* ================================ harness ================================ */

static int64_t since_start(const app_t *a)
{
    return cd_reg_elapsed_ns() - atomic_load(&a->start_ns);
}

/* Called by each task as it first runs: the first sets the start, the
 * last the time the service was up. */
static void mark_start(app_t *a)
{
    int64_t none = -1;
    atomic_compare_exchange_strong(&a->start_ns, &none, cd_reg_elapsed_ns());
    if (atomic_fetch_add(&a->begun, 1) + 1 == a->nrequests + 1)
        atomic_store(&a->up_ns, since_start(a));
}

/* The request arrives: its task waits until its arrival time. */
static void arrive(request_t *r)
{
    int64_t wait_ns = r->arrive_ns - since_start(r->app);
    int scale = cd_reg_latency_scale(); /* the await scales it again */
    cd_await_latency("arrive", wait_ns > 0 && scale > 0 ? wait_ns / scale
                                                        : 0);
}

/* What an ordinary request does: look up a cart, microseconds of work. */
static void answer(request_t *r)
{
    hash_job_t cart = { .digest = (uint64_t)r->index };
    hash_rounds(&cart);
    app_t *a = r->app;
    int64_t up = atomic_load(&a->up_ns);
    r->latency_ns = since_start(a) - (r->arrive_ns > up ? r->arrive_ns : up);
    atomic_fetch_add(&a->answered, 1);
    if (atomic_load(&a->hashing))
        atomic_fetch_add(&a->during_hash, 1);
    cd_reg_gauge_add(a->g_answered, 1);
    if (r->latency_ns > (int64_t)OBJECTIVE_US * 1000 * cd_reg_latency_scale()
                            / 1000)
        cd_reg_gauge_add(a->g_late, 1);
}

static void request_task(void *arg)
{
    request_t *r = arg;
    mark_start(r->app);
    arrive(r);
    if (r->index >= 0) {
        answer(r);
        return;
    }
    app_t *a = r->app;
    atomic_store(&a->hashing, 1);
    cd_reg_gauge_set(a->g_hashing, 1);
    int64_t t0 = since_start(a);
    login[a->variant](a);
    a->hash_ns = since_start(a) - t0;
    cd_reg_gauge_set(a->g_hashing, 0);
    atomic_store(&a->hashing, 0);
}

static int setup(void *state, const cd_params_t *p, int variant)
{
    app_t *a = state;
    a->variant = variant;
    a->nrequests = p->iterations;
    a->nworkers = p->workers;
    atomic_init(&a->answered, 0);
    atomic_init(&a->hashing, 0);
    atomic_init(&a->during_hash, 0);
    a->reqs = calloc((size_t)a->nrequests + 1, sizeof *a->reqs);
    if (!a->reqs)
        return -1;
    int64_t gap_ns = (int64_t)GAP_US * 1000 * cd_reg_latency_scale() / 1000;
    for (int i = 0; i <= a->nrequests; i++) {
        request_t *r = &a->reqs[i];
        r->app = a;
        r->index = i < a->nrequests ? i : -1;
        r->latency_ns = -1;
        r->arrive_ns = gap_ns * i;
    }
    /* The login arrives a tenth of the way in: most requests come while
     * it hashes. */
    a->reqs[a->nrequests].arrive_ns = gap_ns * (a->nrequests / 10);
    cd_demo_figures("requests", a->nrequests, "answered", &a->g_answered,
                    "over objective", &a->g_late, "hashing", &a->g_hashing,
                    NULL);
    return 0;
}

static void teardown(void *state)
{
    free(((app_t *)state)->reqs);
}

static void name_of(const void *arg, int k, char *buf, size_t len)
{
    const request_t *r = arg;
    (void)k;
    if (r->index < 0)
        snprintf(buf, len, "login");
    else
        snprintf(buf, len, "request-%d", r->index + 1);
}

static int serve(void *state, cd_verdict_t *v)
{
    app_t *a = state;
    atomic_init(&a->start_ns, -1);
    atomic_init(&a->begun, 0);
    atomic_init(&a->up_ns, 0);
    if (cd_demo_run_batch(&(cd_demo_batch_t){
            .n = a->nrequests + 1, .nworkers = a->nworkers, .name = name_of,
            .fn = request_task, .args = a->reqs, .size = sizeof *a->reqs,
            .offload = 1 },
            v) == 0)
        return 0;
    cd_verdict_observe(v, CD_ERROR, "could not start the executor with %d "
                       "workers and %d tasks", a->nworkers, a->nrequests + 1);
    return -1;
}

static int by_latency(const void *x, const void *y)
{
    int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;
    return (a > b) - (a < b);
}

/* The nearest-rank percentile pct of n sorted values. */
static int64_t percentile(const int64_t *sorted, int n, int pct)
{
    int rank = (n * pct + 99) / 100;
    return sorted[rank > 0 ? rank - 1 : 0];
}

/* Invariant: every other request is answered, and their p99 latency is
 * within the objective (scaled with the run's latencies). */
static void check(void *state, int64_t ns, cd_verdict_t *v)
{
    app_t *a = state;
    int n = a->nrequests, answered = 0, late = 0;
    int64_t objective = (int64_t)OBJECTIVE_US * 1000 *
                        cd_reg_latency_scale() / 1000;
    int64_t *lat = malloc((size_t)n * sizeof *lat);
    if (!lat) {
        cd_verdict_observe(v, CD_ERROR, "could not sort %d latencies", n);
        return;
    }
    for (int i = 0; i < n; i++) {
        lat[i] = a->reqs[i].latency_ns;
        answered += lat[i] >= 0;
        late += lat[i] > objective;
    }
    qsort(lat, (size_t)n, sizeof *lat, by_latency);
    int64_t p50 = percentile(lat, n, 50), p99 = percentile(lat, n, 99);
    int64_t max = lat[n - 1];
    free(lat);

    cd_verdict_expect(v, "the other %d requests answered with p99 latency "
                      "within %lld ms while a login hashes its password", n,
                      (long long)(objective / 1000000));
    cd_verdict_num(v, "requests", n);
    cd_verdict_num(v, "answered", answered);
    cd_verdict_num(v, "p50_us", p50 / 1000);
    cd_verdict_num(v, "p99_us", p99 / 1000);
    cd_verdict_num(v, "max_us", max / 1000);
    cd_verdict_num(v, "objective_us", objective / 1000);
    cd_verdict_num(v, "over_objective", late);
    cd_verdict_num(v, "hash_us", a->hash_ns / 1000);
    cd_verdict_num(v, "answered_while_hashing", atomic_load(&a->during_hash));
    cd_verdict_num(v, "hash_rounds", a->job.rounds);
    cd_verdict_num(v, "elapsed_us", ns / 1000);
    if (answered < n)
        cd_verdict_observe(v, CD_VIOLATED, "%d of %d requests answered",
                           answered, n);
    else if (p99 > objective)
        cd_verdict_observe(v, CD_VIOLATED, "while the login hashed its "
                           "password %s (%.0f ms), the other requests "
                           "waited: latency p50 %.1f ms, p99 %.1f ms; %d of "
                           "%d over the %lld ms objective",
                           a->variant == 0 ? "on the event loop"
                                           : "off the loop",
                           (double)a->hash_ns / 1e6, (double)p50 / 1e6,
                           (double)p99 / 1e6, late, n,
                           (long long)(objective / 1000000));
    else
        cd_verdict_observe(v, CD_HELD, "the login's hash took %.0f ms off "
                           "the loop; the other %d requests: latency p50 "
                           "%.3f ms, p99 %.3f ms, within the %lld ms "
                           "objective", (double)a->hash_ns / 1e6, n,
                           (double)p50 / 1e6, (double)p99 / 1e6,
                           (long long)(objective / 1000000));
}

void cd_offload_run(const cd_params_t *p, int variant, cd_verdict_t *v)
{
    app_t a = { 0 };
    char what[32];
    snprintf(what, sizeof what, "%d requests", p->iterations);
    cd_demo_run(&(cd_demo_steps_t){ setup, serve, check, teardown, what },
                &a, p, variant, v);
}
