/*
 * db_race.c - the double charge across processes, on a real database.
 *
 * The pitfall: the checkout of `race`, run the way real services run -
 * several instances (processes, containers, machines) sharing one
 * database. Each reads the order's status, calls the slow payment
 * gateway (2 ms), then marks the order paid and writes the charge. The
 * keyed lock that fixed `race` lives in one process's memory: an
 * instance's lock never sees the other instances, so it fixes nothing
 * here. What all instances share is the database, so the fix must be
 * made of it: a conditional UPDATE that claims the order (cas), a
 * transaction that takes the write lock before it reads (tx), a UNIQUE
 * constraint used as an idempotency key (unique), or, on PostgreSQL, an
 * advisory lock held by the server (advisory).
 *
 * Symptom: more charge rows than orders, counted in the database itself.
 * Run:     concdemo db-race                      the broken checkout
 *          concdemo db-race --fixed=local-mutex  the race fix: still broken
 *          concdemo db-race --fixed              claim with a conditional
 *                                                UPDATE (recommended)
 *          concdemo db-race --fixed=tx           BEGIN IMMEDIATE / FOR UPDATE
 *          concdemo db-race --fixed=unique       an idempotency key
 *          concdemo db-race --fixed=deferred     a transaction that reads
 *                                                first: checkouts fail
 *          --db postgresql://...                 the same on PostgreSQL
 *          --instances N, --kill-one             more processes; one killed
 * Lesson:  lessons/19-db-race.md
 *
 * How the processes work: the run (the parent) creates the schema and the
 * orders, then starts each instance as this same program with
 * `db-race --instance K ...` (fork, exec). Every order is submitted twice;
 * submission j goes to instance j % N, so the two submissions of an order
 * reach two instances at about the same time. Instances report each step
 * on a pipe (the parent's live figures, and --kill-one's moment) and wait
 * on a second pipe until every instance is connected, so that all start
 * together; at the gateway, each waits for its order's other submission
 * (pace_t, below). The verdict reads the database, never what the
 * instances said.
 */
#define _GNU_SOURCE /* pipe2, mkdtemp, memfd_create */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../lib/cd_keyed.h"
#include "../lib/cd_registry.h"
#include "../lib/cd_thread.h"
#include "db.h"
#include "support.h"

#define GATEWAY_USEC 2000 /* the payment gateway takes 2 ms */
#define SUBMITS 2         /* each order arrives twice: the double click */
#define BUSY_MS 10000     /* SQLite: how long a statement waits for a lock */
#define LEASE_MS 500      /* a claim older than this was abandoned */
#define REPORT_FD 3       /* an instance's pipe to the parent */
#define GO_FD 4           /* closed by the parent: start */
#define PACE_FD 5         /* the pace page, shared by the run's processes */
#define PG_SCHEMA "concdemo_db_race"

#define MAX_KIDS 65 /* 64 instances and the one restarted after a kill */

/* The pace the instances keep, on a page every process of the run maps.
 * The two submissions of an order go to two instances. On an idle machine
 * both check the order within the other's 2 ms gateway call; a busy one
 * can run an instance so late that it trails its twin all the way, finds
 * every order paid already, and a broken run shows no double charge. So a
 * checkout at the gateway waits until the order's other submission has
 * reached the gateway too, or finished without it, or its instance is
 * gone (killed: the run says so) - except in the variants that hold a lock
 * through the gateway, which the other submission would wait for. Relaxed
 * counts: they order nothing of the checkouts; the database does. */
typedef struct pace {
    atomic_int gone[MAX_KIDS]; /* instance k was killed */
    atomic_int met[];          /* per order: submissions at its gateway, or
                                  done without it */
} pace_t;

static size_t pace_size(int norders)
{
    return sizeof(pace_t) + (size_t)norders * sizeof(atomic_int);
}

/* The variants, numbered in the order of its entry in demos/scenarios.c. */
enum {
    BROKEN, LOCAL_MUTEX, CAS, TX, UNIQUE, ADVISORY, DEFERRED, NVARIANTS
};

/* ============================ one instance ============================== */

typedef struct inst {
    db_t *db;
    int id, variant, kind;
    int norders, ninstances, ncustomers;
    int scale;            /* latency scale in thousandths */
    cd_keyed_t lock;      /* local-mutex: this process's lock per customer */
    pace_t *pace;         /* the pace page, or NULL: none kept */
    int met_at;           /* the order whose gateway it met at, or -1 */
    char err[256];        /* the last database error */
} inst_t;

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts); /* shared by every process */
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One line to the parent ("K what"); atomic, being shorter than PIPE_BUF.
 * A parent that is gone is no reason to stop a checkout. */
static void report(const inst_t *in, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void report(const inst_t *in, const char *fmt, ...)
{
    char line[400];
    int n = snprintf(line, sizeof line, "%d ", in->id);
    va_list ap;
    va_start(ap, fmt);
    n += vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
    va_end(ap);
    if (n > (int)sizeof line - 2)
        n = (int)sizeof line - 2;
    line[n++] = '\n';
    ssize_t w = write(REPORT_FD, line, (size_t)n);
    (void)w;
}

/* A named point: the parent shows it, and --kill-one waits for one. */
static void step(const inst_t *in, int order, const char *what)
{
    report(in, "step %d %s", order, what);
}

/* One statement with up to four whole-number arguments (n of them). */
static int sql(inst_t *in, const char *text, int n, int64_t a, int64_t b,
               int64_t c, int64_t d, int64_t *first, int64_t *changed)
{
    const int64_t args[4] = { a, b, c, d };
    return db_run(in->db, text, args, n, first, changed, in->err,
                  sizeof in->err);
}

static int exec_sql(inst_t *in, const char *text)
{
    return db_exec(in->db, text, in->err, sizeof in->err);
}

/* Variants whose checkout holds a lock through the gateway call. */
static const int locked_through_gateway[NVARIANTS] = {
    [TX] = 1, [ADVISORY] = 1,
};

/* The order's other submission (SUBMITS is 2: j ^ 1) is on this instance's
 * twin: submission j goes to instance j % ninstances. */
static int twin_of(const inst_t *in, int order)
{
    int j = order * SUBMITS; /* the order's first submission, */
    if (j % in->ninstances != in->id)
        j++;                 /* or its second: this instance's */
    return (j ^ 1) % in->ninstances;
}

/* At the gateway: counts this submission and waits for the other one
 * (pace_t). Not with latency scaled to 0, where the gateway takes no time
 * and the window is as narrow as it is. */
static void meet_twin(inst_t *in, int order)
{
    if (!in->pace || in->ninstances < 2 || in->scale == 0 ||
        locked_through_gateway[in->variant])
        return;
    atomic_int *met = &in->pace->met[order];
    atomic_int *gone = &in->pace->gone[twin_of(in, order)];
    in->met_at = order;
    atomic_fetch_add_explicit(met, 1, memory_order_relaxed);
    while (atomic_load_explicit(met, memory_order_relaxed) < SUBMITS &&
           !atomic_load_explicit(gone, memory_order_relaxed)) {
        struct timespec ts = { 0, 100 * 1000 };
        nanosleep(&ts, NULL);
    }
}

/* The payment gateway: slow, and it charges whatever it is asked to. */
static void gateway(inst_t *in, int order)
{
    step(in, order, "payment gateway");
    meet_twin(in, order);
    int64_t ns = (int64_t)GATEWAY_USEC * 1000 * in->scale / 1000;
    struct timespec ts = { ns / 1000000000, ns % 1000000000 };
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static int rollback(inst_t *in, int rc)
{
    char keep[sizeof in->err];
    memcpy(keep, in->err, sizeof keep);
    db_exec(in->db, "ROLLBACK", in->err, sizeof in->err);
    memcpy(in->err, keep, sizeof keep);
    return rc;
}

#define TRY(expr)                        \
    do {                                 \
        if ((rc = (expr)) != DB_OK)      \
            goto fail;                   \
    } while (0)

static const char *const select_pending =
    "SELECT count(*) FROM orders WHERE id = ? AND status = 'pending'";
static const char *const mark_paid =
    "UPDATE orders SET status = 'paid' WHERE id = ?";
static const char *const insert_charge =
    "INSERT INTO charges (order_id, instance, state, at) "
    "VALUES (?, ?, 'charged', ?)";

/* ======================= the checkouts, side by side ===================== */

/* Broken: the check and the act are separate statements, 2 ms apart. */
static int checkout_broken(inst_t *in, int order, int customer)
{
    int64_t pending;
    int rc;
    (void)customer;
    step(in, order, "check status");
    TRY(sql(in, select_pending, 1, order, 0, 0, 0, &pending, NULL));
    if (pending) {                       /* BUG: every instance sees it... */
        gateway(in, order);              /* ...and every one charges, */
        step(in, order, "mark paid");
        TRY(sql(in, mark_paid, 1, order, 0, 0, 0, NULL, NULL)); /* ...before */
        TRY(sql(in, insert_charge, 3, order, in->id, now_ms(), 0, NULL, NULL));
    }                                    /* any of them records it. */
    return DB_OK;
fail:
    return rc;
}

/* Wrong fix "local-mutex": race's keyed lock around the same statements.
 * It excludes the threads of this process - and each instance is another
 * process, with locks of its own. */
static int checkout_local_mutex(inst_t *in, int order, int customer)
{
    cd_keyed_lock(&in->lock, customer);      /* BUG: this process's lock */
    int rc = checkout_broken(in, order, customer);
    cd_keyed_unlock(&in->lock, customer);
    return rc;
}

/* Fix "cas": claim the order with one conditional UPDATE; the database
 * changes the row for one instance only, and says so. A claim carries a
 * time: one older than the lease was left by a dead instance and may be
 * taken over. Paid and charged in one transaction, only while the claim
 * is still ours. */
static int checkout_cas(inst_t *in, int order, int customer)
{
    int64_t claimed, finished;
    int rc;
    (void)customer;
    step(in, order, "claim");
    int64_t t = now_ms();
    TRY(sql(in, "UPDATE orders SET status = 'charging', claimed_by = ?, "    /* FIX */
                "claimed_at = ? WHERE id = ? AND (status = 'pending' OR "
                "(status = 'charging' AND claimed_at < ?))",
            4, in->id, t, order, t - LEASE_MS, NULL, &claimed));
    if (claimed != 1)                                                         /* FIX */
        return DB_OK; /* another instance has it */
    gateway(in, order);
    step(in, order, "mark paid");
    TRY(exec_sql(in, in->kind == DB_SQLITE ? "BEGIN IMMEDIATE" : "BEGIN"));
    TRY(sql(in, "UPDATE orders SET status = 'paid' WHERE id = ? AND "
                "status = 'charging' AND claimed_by = ?",
            2, order, in->id, 0, 0, NULL, &finished));
    if (finished == 1)
        TRY(sql(in, insert_charge, 3, order, in->id, now_ms(), 0, NULL, NULL));
    TRY(exec_sql(in, "COMMIT"));
    return DB_OK;
fail:
    return rollback(in, rc);
}

/* Fix "tx": check and act in one transaction that takes the write lock
 * before it reads: SQLite's BEGIN IMMEDIATE takes the database's one
 * write lock, PostgreSQL's FOR UPDATE the order's row lock; the second
 * checkout waits, then reads 'paid'. Correct, but the lock is held across
 * the 2 ms gateway call (SQLite: every order waits; PostgreSQL: this
 * order's row only). A checkout killed inside it is rolled back. */
static int checkout_tx(inst_t *in, int order, int customer)
{
    int64_t pending;
    int rc;
    (void)customer;
    step(in, order, "begin");
    if (in->kind == DB_SQLITE) {
        TRY(exec_sql(in, "BEGIN IMMEDIATE"));                 /* FIX */
        step(in, order, "check status");
        TRY(sql(in, select_pending, 1, order, 0, 0, 0, &pending, NULL));
    } else {
        TRY(exec_sql(in, "BEGIN"));
        step(in, order, "check status");
        TRY(sql(in, "SELECT id FROM orders WHERE id = ? AND "  /* FIX */
                    "status = 'pending' FOR UPDATE",
                1, order, 0, 0, 0, &pending, NULL));
        pending = pending >= 0;
    }
    if (pending) {
        gateway(in, order);
        step(in, order, "mark paid");
        TRY(sql(in, mark_paid, 1, order, 0, 0, 0, NULL, NULL));
        TRY(sql(in, insert_charge, 3, order, in->id, now_ms(), 0, NULL,
                NULL));
    }
    TRY(exec_sql(in, "COMMIT"));                              /* FIX */
    return DB_OK;
fail:
    return rollback(in, rc);
}

/* Fix "unique": the charge row is the idempotency key. Its order id is
 * UNIQUE (the schema of this variant), and it is inserted as 'claimed'
 * before the gateway is called: the second insert for an order is
 * refused by the database. A key left 'claimed' past the lease by a dead
 * instance is taken over. */
static int checkout_unique(inst_t *in, int order, int customer)
{
    int64_t mine = 0;
    int rc;
    (void)customer;
    step(in, order, "insert key");
    int64_t t = now_ms();
    rc = sql(in, "INSERT INTO charges (order_id, instance, state, at) "   /* FIX */
                 "VALUES (?, ?, 'claimed', ?)",
             3, order, in->id, t, 0, NULL, NULL);
    if (rc == DB_CONSTRAINT)                                             /* FIX */
        TRY(sql(in, "UPDATE charges SET instance = ?, at = ? WHERE "
                    "order_id = ? AND state = 'claimed' AND at < ?",
                4, in->id, t, order, t - LEASE_MS, NULL, &mine));
    else if (rc == DB_OK)
        mine = 1;
    else
        goto fail;
    if (mine != 1)
        return DB_OK; /* the key is another instance's */
    gateway(in, order);
    step(in, order, "mark paid");
    TRY(exec_sql(in, in->kind == DB_SQLITE ? "BEGIN IMMEDIATE" : "BEGIN"));
    TRY(sql(in, "UPDATE charges SET state = 'charged', at = ? WHERE "
                "order_id = ? AND instance = ? AND state = 'claimed'",
            3, now_ms(), order, in->id, 0, NULL, NULL));
    TRY(sql(in, mark_paid, 1, order, 0, 0, 0, NULL, NULL));
    TRY(exec_sql(in, "COMMIT"));
    return DB_OK;
fail:
    return rc == DB_CONSTRAINT ? rc : rollback(in, rc);
}

/* Fix "advisory" (PostgreSQL): a lock named by the customer's id, held by
 * the server for the transaction, so every instance on every machine
 * that asks for it waits its turn. Like race's keyed fix, but shared. */
static int checkout_advisory(inst_t *in, int order, int customer)
{
    int64_t pending;
    int rc;
    step(in, order, "begin");
    TRY(exec_sql(in, "BEGIN"));
    step(in, order, "advisory lock");
    TRY(sql(in, "SELECT pg_advisory_xact_lock(?)", 1, customer, 0, 0, 0,  /* FIX */
            NULL, NULL));
    step(in, order, "check status");
    TRY(sql(in, select_pending, 1, order, 0, 0, 0, &pending, NULL));
    if (pending) {
        gateway(in, order);
        step(in, order, "mark paid");
        TRY(sql(in, mark_paid, 1, order, 0, 0, 0, NULL, NULL));
        TRY(sql(in, insert_charge, 3, order, in->id, now_ms(), 0, NULL,
                NULL));
    }
    TRY(exec_sql(in, "COMMIT"));                      /* FIX: lock let go */
    return DB_OK;
fail:
    return rollback(in, rc);
}

/* The tempting transaction: BEGIN, read, write. SQLite's deferred BEGIN
 * takes no lock until the first write, and PostgreSQL's REPEATABLE READ
 * reads a snapshot: both instances read 'pending', and when the second
 * writes, the database refuses it (SQLITE_BUSY: the snapshot is stale;
 * "could not serialize access"). Nobody is charged twice, but without a
 * loop that retries the whole transaction the checkout fails. */
static int checkout_deferred(inst_t *in, int order, int customer)
{
    int64_t pending;
    int rc;
    (void)customer;
    step(in, order, "begin");
    TRY(exec_sql(in, in->kind == DB_SQLITE                     /* BUG */
                         ? "BEGIN"
                         : "BEGIN ISOLATION LEVEL REPEATABLE READ"));
    step(in, order, "check status");
    TRY(sql(in, select_pending, 1, order, 0, 0, 0, &pending, NULL));
    if (pending) {
        gateway(in, order);
        step(in, order, "mark paid");
        TRY(sql(in, mark_paid, 1, order, 0, 0, 0, NULL, NULL)); /* BUG: refused */
        TRY(sql(in, insert_charge, 3, order, in->id, now_ms(), 0, NULL,
                NULL));
    }
    TRY(exec_sql(in, "COMMIT"));
    return DB_OK;
fail:
    return rollback(in, rc);
}

static int (*const checkout[NVARIANTS])(inst_t *, int, int) = {
    checkout_broken, checkout_local_mutex, checkout_cas, checkout_tx,
    checkout_unique, checkout_advisory, checkout_deferred,
};

/* ========================== an instance's main =========================== */

/* One checkout, reported: a failure is the customer's error page. */
static void do_checkout(inst_t *in, int order)
{
    int rc = checkout[in->variant](in, order, order % in->ncustomers);
    /* Done without meeting at the gateway: the twin waits no more. */
    if (in->pace && in->met_at != order)
        atomic_fetch_add_explicit(&in->pace->met[order], 1,
                                  memory_order_relaxed);
    if (rc != DB_OK)
        report(in, "fail %d %s", order, in->err);
    else
        report(in, "done %d", order);
}

/* After a killed instance: every order not paid yet is checked out again,
 * pass after pass, until none is left or the claims of the dead instance
 * have outlived their lease twice over. */
static void sweep(inst_t *in)
{
    int64_t until = now_ms() + 3 * LEASE_MS;
    for (;;) {
        int left = 0;
        for (int o = 0; o < in->norders; o++) {
            int64_t unpaid = 0;
            if (sql(in, "SELECT count(*) FROM orders WHERE id = ? AND "
                        "status <> 'paid'",
                    1, o, 0, 0, 0, &unpaid, NULL) != DB_OK)
                unpaid = 1;
            if (unpaid) {
                left++;
                do_checkout(in, o);
            }
        }
        if (!left || now_ms() > until)
            return;
        struct timespec ts = { 0, 50 * 1000000 };
        nanosleep(&ts, NULL);
    }
}

static int open_db(db_t **db, const char *url, int create, char *err,
                   size_t errlen)
{
    if (db_open(db, url, create, BUSY_MS, err, errlen) != DB_OK)
        return -1;
    if (db_kind(*db) == DB_POSTGRES &&
        db_exec(*db, "SET search_path TO " PG_SCHEMA, err, errlen) != DB_OK) {
        db_close(*db);
        *db = NULL;
        return -1;
    }
    return 0;
}

/* argv: --instance K URL VARIANT ORDERS INSTANCES CUSTOMERS SCALE [sweep]
 * (argv[0] is "--instance"),
 * fds REPORT_FD and GO_FD open. Exit 0, or 2 when it could not start. */
int cd_db_race_instance_main(int argc, char **argv)
{
    inst_t in = { 0 };
    char go;
    if (argc < 8) {
        fprintf(stderr, "concdemo: db-race --instance is started by "
                "db-race itself\n");
        return 2;
    }
    in.id = atoi(argv[1]);
    in.met_at = -1;
    in.variant = atoi(argv[3]);
    in.norders = atoi(argv[4]);
    in.ninstances = atoi(argv[5]);
    in.ncustomers = atoi(argv[6]);
    in.scale = atoi(argv[7]);
    int sweeper = argc > 8 && strcmp(argv[8], "sweep") == 0;
    if (in.variant < 0 || in.variant >= NVARIANTS || in.ninstances < 1 ||
        in.ncustomers < 1) {
        report(&in, "error bad arguments");
        return 2;
    }
    cd_reg_reset();
    if (open_db(&in.db, argv[2], 0, in.err, sizeof in.err) != 0 ||
        cd_keyed_init(&in.lock, "customer", in.ncustomers) != 0) {
        report(&in, "error %s", in.err);
        db_close(in.db);
        return 2;
    }
    in.kind = db_kind(in.db);
    /* PostgreSQL names each connection by its server process: the pid
     * that pg_locks shows, which the parent maps back to this instance. */
    int64_t backend = 0;
    if (in.kind == DB_POSTGRES)
        sql(&in, "SELECT pg_backend_pid()", 0, 0, 0, 0, 0, &backend, NULL);
    report(&in, "ready %d %lld", (int)getpid(), (long long)backend);
    /* Everyone starts when the parent closes the pipe (EOF). */
    while (read(GO_FD, &go, 1) < 0 && errno == EINTR)
        ;
    if (sweeper) {
        sweep(&in);
    } else {
        void *page = mmap(NULL, pace_size(in.norders), PROT_READ | PROT_WRITE,
                          MAP_SHARED, PACE_FD, 0);
        in.pace = page == MAP_FAILED ? NULL : page;
        for (int j = in.id; j < in.norders * SUBMITS; j += in.ninstances)
            do_checkout(&in, j / SUBMITS);
    }
    cd_keyed_destroy(&in.lock);
    db_close(in.db);
    return 0;
}

/* ================================ the run ================================ */

#define NOTED 8     /* instances with a line of their own in the live
                       view's notes (cd_reg_note); the lines after them
                       say who waits for whom (PostgreSQL) */
#define WAITS_SHOWN 4 /* (NOTED + WAITS_SHOWN <= CD_MAX_NOTES) */

typedef struct kid {
    pid_t pid;
    int ready, exited, status;
    int done, failed;
    int order;            /* the order it works on */
    int backend;          /* PostgreSQL: its connection's server pid */
    char step[32];        /* the step it is at ("" between checkouts) */
    int at;               /* the figure of the step it is at, or 0 */
} kid_t;

typedef struct shop {
    int variant, kind;
    int norders, ninstances, ncustomers;
    int scale, kill_one;
    char url[4200];       /* what instances connect to */
    char self[4096];      /* this program's file: each instance runs it */
    char dir[4096];       /* the temporary directory, or "" */
    db_t *db;
    int made_schema;      /* PostgreSQL: ours to drop at the end */
    kid_t kids[MAX_KIDS];
    int nkids;
    int killed;           /* the killed instance's index + 1, or 0 */
    int killed_order;
    int pace_fd;          /* the pace page (a memfd), or -1 */
    pace_t *pace;
    int failed;
    char fail_msg[256];
    char error[320];      /* an instance that could not start */
    int rd;               /* the read end of the report pipe */
    char buf[8192];
    size_t used;
    int g_running, g_done, g_failed;
    int g_waiting;        /* PostgreSQL: lock requests not granted */
    /* PostgreSQL: the last wait show_waits saw, kept on screen (in the past
     * tense) once it is over: a wait lasts one gateway call, and the text
     * view draws a note's change at most every 500 ms. */
    char last_waiter[48], last_holder[48], last_on[48];
} shop_t;

/* A setup error: the verdict says it in one line (exit 2). Returns -1. */
static int set_error(cd_verdict_t *v, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int set_error(cd_verdict_t *v, const char *fmt, ...)
{
    char line[CD_TEXT_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    cd_verdict_observe(v, CD_ERROR, "%s", line);
    return -1;
}

/* ------------------------------ the schema ------------------------------- */

static int setup_db(shop_t *s, const cd_params_t *p, cd_verdict_t *v)
{
    char err[512];
    int64_t left = 0;
    if (p->db) {
        if (db_url_kind(p->db, err, sizeof err) < 0)
            return set_error(v, "%s", err);
        snprintf(s->url, sizeof s->url, "%s", p->db);
    } else {
        const char *tmp = getenv("TMPDIR");
        snprintf(s->dir, sizeof s->dir, "%s/concdemo-db-XXXXXX",
                 tmp && *tmp ? tmp : "/tmp");
        if (!mkdtemp(s->dir)) {
            int e = errno;
            s->dir[0] = '\0';
            return set_error(v, "cannot make a temporary directory: %s",
                             strerror(e));
        }
        snprintf(s->url, sizeof s->url, "sqlite:%s/shop.db", s->dir);
    }
    s->kind = db_url_kind(s->url, err, sizeof err);
    if (s->variant == ADVISORY && s->kind != DB_POSTGRES)
        return set_error(v, "--fixed=advisory needs PostgreSQL "
                         "(--db postgresql://...): SQLite has no locks "
                         "that a program names");
    if (db_open(&s->db, s->url, 1, BUSY_MS, err, sizeof err) != DB_OK)
        return set_error(v, "%s", err);
    /* A schema of an earlier run: refused, not dropped - it may be
     * someone's data, or a run in progress. */
    const char *probe = s->kind == DB_SQLITE
        ? "SELECT count(*) FROM sqlite_master WHERE name IN ('orders', "
          "'charges')"
        : "SELECT count(*) FROM pg_namespace WHERE nspname = '" PG_SCHEMA "'";
    if (db_run(s->db, probe, NULL, 0, &left, NULL, err, sizeof err) != DB_OK)
        return set_error(v, "%s", err);
    if (left > 0 && s->kind == DB_SQLITE)
        return set_error(v, "%s already holds db-race's tables (left by "
                         "an earlier run?): remove the file or name another",
                         s->url + 7);
    if (left > 0)
        return set_error(v, "schema %s is left from an earlier run "
                         "(killed?): drop it with DROP SCHEMA %s CASCADE",
                         PG_SCHEMA, PG_SCHEMA);
    const char *ddl[] = {
        s->kind == DB_SQLITE ? "PRAGMA journal_mode=WAL"
                             : "CREATE SCHEMA " PG_SCHEMA,
        s->kind == DB_SQLITE ? "SELECT 1" : "SET search_path TO " PG_SCHEMA,
        "CREATE TABLE orders (id BIGINT PRIMARY KEY, customer BIGINT NOT "
        "NULL, status TEXT NOT NULL, claimed_by BIGINT, claimed_at BIGINT)",
        "CREATE TABLE charges (order_id BIGINT NOT NULL, instance BIGINT NOT "
        "NULL, state TEXT NOT NULL, at BIGINT NOT NULL)",
        /* Fix "unique": the constraint is the fix. */
        s->variant == UNIQUE ? "CREATE UNIQUE INDEX charges_once ON charges "
                               "(order_id)"
                             : "SELECT 1",
        "BEGIN",
    };
    for (size_t i = 0; i < sizeof ddl / sizeof ddl[0]; i++) {
        if (db_exec(s->db, ddl[i], err, sizeof err) != DB_OK)
            return set_error(v, "setting up the database: %s", err);
        s->made_schema = 1;
    }
    for (int i = 0; i < s->norders; i++) {
        const int64_t args[2] = { i, i % s->ncustomers };
        if (db_run(s->db, "INSERT INTO orders (id, customer, status) "
                          "VALUES (?, ?, 'pending')",
                   args, 2, NULL, NULL, err, sizeof err) != DB_OK)
            return set_error(v, "setting up the database: %s", err);
    }
    if (db_exec(s->db, "COMMIT", err, sizeof err) != DB_OK)
        return set_error(v, "setting up the database: %s", err);
    return 0;
}

/* Removes what the run made: PostgreSQL's schema (not one it found and
 * refused), the temporary SQLite directory (a --db sqlite:PATH stays, to
 * be looked at). */
static void cleanup_db(shop_t *s)
{
    char err[256], path[4200];
    if (s->db && s->kind == DB_POSTGRES && s->made_schema)
        db_exec(s->db, "DROP SCHEMA IF EXISTS " PG_SCHEMA " CASCADE", err,
                sizeof err);
    db_close(s->db);
    s->db = NULL;
    if (!s->dir[0])
        return;
    static const char *const files[] = { "shop.db", "shop.db-wal",
                                         "shop.db-shm", "shop.db-journal" };
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", s->dir, files[i]);
        unlink(path);
    }
    rmdir(s->dir);
}

/* ---------------------------- the instances ------------------------------ */

/* The pace page (pace_t): without one the instances keep no pace. */
static void open_pace(shop_t *s)
{
    size_t size = pace_size(s->norders);
    s->pace_fd = memfd_create("db-race-pace", MFD_CLOEXEC);
    if (s->pace_fd >= 0 && ftruncate(s->pace_fd, (off_t)size) == 0) {
        void *page = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED,
                          s->pace_fd, 0);
        s->pace = page == MAP_FAILED ? NULL : page;
    }
    if (!s->pace && s->pace_fd >= 0) {
        close(s->pace_fd);
        s->pace_fd = -1;
    }
}

static void close_pace(shop_t *s)
{
    if (s->pace)
        munmap(s->pace, pace_size(s->norders));
    if (s->pace_fd >= 0)
        close(s->pace_fd);
    s->pace = NULL;
    s->pace_fd = -1;
}

/* Starts instance k as this program (fork, exec): its report pipe on
 * REPORT_FD, the start pipe on GO_FD. Returns 0 or -errno. */
static void show_kid(const shop_t *s, int k);

static int spawn(shop_t *s, int k, int report_w, int go_r, int sweeper)
{
    char a[8][24];
    snprintf(a[0], sizeof a[0], "%d", k);
    snprintf(a[1], sizeof a[1], "%d", s->variant);
    snprintf(a[2], sizeof a[2], "%d", s->norders);
    snprintf(a[3], sizeof a[3], "%d", s->ninstances);
    snprintf(a[4], sizeof a[4], "%d", s->ncustomers);
    snprintf(a[5], sizeof a[5], "%d", s->scale);
    char *argv[] = { s->self, "db-race", "--instance", a[0], s->url,
                     a[1], a[2], a[3], a[4], a[5],
                     sweeper ? "sweep" : NULL, NULL };
    pid_t pid = fork();
    if (pid < 0)
        return -errno;
    if (pid == 0) {
        /* Only async-signal-safe calls between fork and exec. */
        int r = fcntl(report_w, F_DUPFD, 10), g = fcntl(go_r, F_DUPFD, 10);
        int pf = s->pace_fd < 0 ? -1 : fcntl(s->pace_fd, F_DUPFD, 10);
        if (r < 0 || g < 0 || dup2(r, REPORT_FD) < 0 || dup2(g, GO_FD) < 0 ||
            (pf >= 0 && dup2(pf, PACE_FD) < 0))
            _exit(127);
        execv(s->self, argv);
        _exit(127);
    }
    s->kids[k] = (kid_t){ .pid = pid, .order = -1 };
    show_kid(s, k);
    return 0;
}

/* The named steps of each checkout (step() above), in order. */
static const char *const steps[NVARIANTS][5] = {
    [BROKEN] = { "check status", "payment gateway", "mark paid" },
    [LOCAL_MUTEX] = { "check status", "payment gateway", "mark paid" },
    [CAS] = { "claim", "payment gateway", "mark paid" },
    [TX] = { "begin", "check status", "payment gateway", "mark paid" },
    [UNIQUE] = { "insert key", "payment gateway", "mark paid" },
    [ADVISORY] = { "begin", "advisory lock", "check status",
                   "payment gateway", "mark paid" },
    [DEFERRED] = { "begin", "check status", "payment gateway", "mark paid" },
};

/* The live view counts the instances at each step ("at payment gateway:
 * 3"); name NULL: at none (between checkouts, or ended). */
static void move_to(kid_t *c, const char *name)
{
    cd_reg_gauge_add(c->at, -1);
    c->at = 0;
    if (name) {
        char g[48];
        snprintf(g, sizeof g, "at %s", name);
        c->at = cd_reg_gauge(g);
        cd_reg_gauge_add(c->at, 1);
    }
}

/* Instance k's line in the live view (the first NOTED have one): its
 * process, its order and step, or how it ended. */
static void show_kid(const shop_t *s, int k)
{
    const kid_t *c = &s->kids[k];
    char line[CD_NOTE_MAX], server[32] = "";
    if (k >= NOTED)
        return;
    if (c->backend > 0)
        snprintf(server, sizeof server, " (server pid %d)", c->backend);
    int n = snprintf(line, sizeof line, "instance %d  pid %d%s  ", k + 1,
                     (int)c->pid, server);
    size_t room = n < (int)sizeof line ? sizeof line - (size_t)n : 0;
    if (k + 1 == s->killed)
        snprintf(line + n, room, "KILLED (SIGKILL) in order %d",
                 s->killed_order);
    else if (c->exited)
        snprintf(line + n, room, "ended: %d done, %d failed", c->done,
                 c->failed);
    else if (c->step[0])
        snprintf(line + n, room, "order %d: %s", c->order, c->step);
    else
        snprintf(line + n, room, "%s (%d done, %d failed)",
                 c->ready ? "between checkouts" : "connecting", c->done,
                 c->failed);
    cd_reg_note(k, line);
}

/* One line from an instance: "K ready PID", "K step ORDER WHAT", "K done
 * ORDER", "K fail ORDER WHY", "K error WHY". */
static void on_line(shop_t *s, char *line)
{
    int k, order, n = 0;
    char word[16];
    if (sscanf(line, "%d %15s %n", &k, word, &n) < 2 || k < 0 ||
        k >= s->nkids)
        return;
    kid_t *c = &s->kids[k];
    char *rest = line + n;
    if (strcmp(word, "ready") == 0) {
        c->ready = 1;
        sscanf(rest, "%*d %d", &c->backend);
    } else if (strcmp(word, "step") == 0 && sscanf(rest, "%d", &order) == 1) {
        c->order = order;
        char *what = strchr(rest, ' ');
        move_to(c, what ? what + 1 : rest);
        snprintf(c->step, sizeof c->step, "%s", what ? what + 1 : rest);
        /* --kill-one: the first instance dies inside a checkout - at the
         * gateway, or at its third step if it never gets that far. */
        if (s->kill_one && !s->killed && k == 0 &&
            (strstr(rest, "payment gateway") || c->done >= 2)) {
            kill(c->pid, SIGKILL);
            if (s->pace) /* its twin waits for it no more */
                atomic_store_explicit(&s->pace->gone[k], 1,
                                      memory_order_relaxed);
            s->killed = k + 1;
            s->killed_order = order;
        }
    } else if (strcmp(word, "done") == 0) {
        c->step[0] = '\0';
        move_to(c, NULL);
        c->done++;
        cd_reg_gauge_add(s->g_done, 1);
    } else if (strcmp(word, "fail") == 0) {
        c->step[0] = '\0';
        move_to(c, NULL);
        c->failed++;
        s->failed++;
        cd_reg_gauge_add(s->g_failed, 1);
        if (!s->fail_msg[0] && sscanf(rest, "%d %n", &order, &n) >= 1)
            snprintf(s->fail_msg, sizeof s->fail_msg, "%s", rest + n);
    } else if (strcmp(word, "error") == 0 && !s->error[0]) {
        snprintf(s->error, sizeof s->error, "instance %d could not start: %s",
                 k + 1, rest);
    }
    show_kid(s, k);
}

/* Reads what the instances said within ms milliseconds. */
static void read_reports(shop_t *s, int ms)
{
    struct pollfd pfd = { .fd = s->rd, .events = POLLIN };
    if (poll(&pfd, 1, ms) <= 0)
        return;
    ssize_t n = read(s->rd, s->buf + s->used, sizeof s->buf - s->used - 1);
    if (n <= 0)
        return;
    s->used += (size_t)n;
    s->buf[s->used] = '\0';
    char *line = s->buf, *nl;
    while ((nl = strchr(line, '\n'))) {
        *nl = '\0';
        on_line(s, line);
        line = nl + 1;
    }
    s->used = strlen(line);
    memmove(s->buf, line, s->used + 1);
    if (s->used == sizeof s->buf - 1) /* a line too long: drop it */
        s->used = 0;
}

/* The instance whose connection's server pid is backend, or -1. */
static int kid_of(const shop_t *s, int64_t backend)
{
    for (int k = 0; k < s->nkids; k++)
        if (backend > 0 && s->kids[k].backend == backend)
            return k;
    return -1;
}

/* "instance 2 (pid N)" into buf, or the server's pid alone (a connection
 * of no instance's). */
static const char *who(const shop_t *s, int64_t backend, char *buf,
                       size_t size)
{
    int k = kid_of(s, backend);
    if (k >= 0)
        snprintf(buf, size, "instance %d (pid %d)", k + 1,
                 (int)s->kids[k].pid);
    else
        snprintf(buf, size, "server pid %lld", (long long)backend);
    return buf;
}

/* The first wait line when nobody waits now: the last wait seen, in the
 * past tense (empty before the first). */
static void show_last_wait(const shop_t *s)
{
    char line[sizeof s->last_waiter * 3 + 32] = ""; /* the note cuts it */
    if (s->last_waiter[0])
        snprintf(line, sizeof line, "%s waited for %s: %s", s->last_waiter,
                 s->last_holder, s->last_on);
    cd_reg_note(NOTED, line);
}

/* PostgreSQL: who waits for whom, from the server's lock table - each
 * lock request not granted, and the sessions that block it
 * (pg_blocking_pids) - in the notes after the instances' lines, and the
 * number of requests waiting in a figure. A row lock is waited for as
 * its holder's transaction (a locked row names the xid that locked it),
 * or, queued behind another waiter, as the row itself; an advisory lock
 * by its number, the customer. */
static void show_waits(shop_t *s)
{
    int64_t cell[WAITS_SHOWN * 3], n = 0;
    int rows = 0;
    char err[256];
    if (db_run(s->db, "SELECT count(*) FROM pg_locks WHERE NOT granted",
               NULL, 0, &n, NULL, err, sizeof err) == DB_OK)
        cd_reg_gauge_set(s->g_waiting, n);
    if (db_rows(s->db, "SELECT l.pid, b.pid, CASE l.locktype WHEN "
                       "'transactionid' THEN 1 WHEN 'tuple' THEN 2 WHEN "
                       "'advisory' THEN 3 ELSE 0 END FROM pg_locks l CROSS "
                       "JOIN LATERAL unnest(pg_blocking_pids(l.pid)) AS "
                       "b(pid) WHERE NOT l.granted ORDER BY 1, 2",
                cell, 3, WAITS_SHOWN, &rows, err, sizeof err) != DB_OK)
        rows = 0;
    for (int i = 0; i < WAITS_SHOWN; i++) {
        char line[CD_NOTE_MAX] = "", a[48], b[48], on[48] = "a lock";
        const int64_t *r = &cell[i * 3];
        int k = i < rows ? kid_of(s, r[0]) : -1;
        int order = k >= 0 ? s->kids[k].order : -1;
        if (i < rows && r[2] == 1 && order >= 0)
            snprintf(on, sizeof on, "order %d's row", order);
        else if (i < rows && r[2] == 2 && order >= 0)
            snprintf(on, sizeof on, "order %d's row, queued", order);
        else if (i < rows && r[2] == 3 && order >= 0)
            snprintf(on, sizeof on, "lock of customer %d",
                     order % s->ncustomers);
        if (i < rows) {
            snprintf(line, sizeof line, "%s waits for %s: %s",
                     who(s, r[0], a, sizeof a), who(s, r[1], b, sizeof b),
                     on);
            if (i == 0) {
                snprintf(s->last_waiter, sizeof s->last_waiter, "%s", a);
                snprintf(s->last_holder, sizeof s->last_holder, "%s", b);
                snprintf(s->last_on, sizeof s->last_on, "%s", on);
            }
        } else if (i == 0) {
            show_last_wait(s);
            continue;
        }
        cd_reg_note(NOTED + i, line);
    }
}

/* Reaps the instances from..to-1 that ended; returns how many still run. */
static int reap(shop_t *s, int from, int to)
{
    int running = 0;
    for (int k = from; k < to; k++) {
        kid_t *c = &s->kids[k];
        if (c->exited)
            continue;
        if (waitpid(c->pid, &c->status, WNOHANG) == c->pid) {
            c->exited = 1;
            move_to(c, NULL);
            show_kid(s, k);
        } else
            running++;
    }
    cd_reg_gauge_set(s->g_running, running);
    return running;
}

static void kill_all(shop_t *s, int from, int to)
{
    for (int k = from; k < to; k++)
        if (!s->kids[k].exited) {
            kill(s->kids[k].pid, SIGKILL);
            waitpid(s->kids[k].pid, &s->kids[k].status, 0);
            s->kids[k].exited = 1;
            move_to(&s->kids[k], NULL);
            show_kid(s, k);
        }
}

/* Runs instances from..to-1 to their end: starts them, lets them go once
 * all are connected, and reads their reports meanwhile. *ns: the time
 * from the start to the last one's end. 0, or -1 (s->error says why, or
 * the run was aborted). */
static int run_instances(shop_t *s, int from, int to, int sweeper,
                         int64_t *ns)
{
    int rep[2], go[2], rc = 0;
    if (pipe2(rep, O_CLOEXEC) != 0)
        return -1;
    if (pipe2(go, O_CLOEXEC) != 0) {
        close(rep[0]);
        close(rep[1]);
        return -1;
    }
    s->rd = rep[0];
    s->used = 0;
    s->nkids = to;
    for (int k = from; k < to && rc == 0; k++)
        if (spawn(s, k, rep[1], go[0], sweeper) != 0) {
            snprintf(s->error, sizeof s->error, "could not start instance "
                     "%d: %s", k + 1, strerror(errno));
            s->nkids = k;
            to = k;
            rc = -1;
        }
    close(rep[1]);
    close(go[0]);
    /* Named points of the run's own thread (the live view shows it). */
    cd_point(sweeper ? "restart the killed instance" : "start instances");
    /* Wait until every instance is connected (or one gave up). */
    for (int all = 0; rc == 0 && !all;) {
        read_reports(s, 10);
        all = 1;
        for (int k = from; k < to; k++)
            all &= s->kids[k].ready;
        if (s->error[0] || cd_reg_aborted() || reap(s, from, to) < to - from)
            rc = -1;
    }
    int64_t t0 = cd_reg_elapsed_ns();
    cd_point("go: wait for instances");
    close(go[1]); /* go */
    for (int polls = 0; rc == 0 && reap(s, from, to) > 0; polls++) {
        read_reports(s, 5);
        if (cd_reg_aborted())
            rc = -1;
        /* The server knows who waits: its lock table, every ~50 ms. */
        if (s->g_waiting && polls % 10 == 0)
            show_waits(s);
    }
    cd_reg_gauge_set(s->g_waiting, 0);
    for (int i = 1; i < WAITS_SHOWN; i++)
        cd_reg_note(NOTED + i, "");
    show_last_wait(s); /* what the last frame keeps of them */
    *ns = cd_reg_elapsed_ns() - t0;
    kill_all(s, from, to);
    read_reports(s, 0); /* the last lines */
    close(rep[0]);
    for (int k = from; k < to && rc == 0; k++) {
        int st = s->kids[k].status;
        if (k + 1 == s->killed)
            continue;
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
            if (!s->error[0])
                snprintf(s->error, sizeof s->error, "instance %d (pid %d) "
                         "ended with %s %d", k + 1, (int)s->kids[k].pid,
                         WIFEXITED(st) ? "exit" : "signal",
                         WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
            rc = -1;
        }
    }
    return rc;
}

/* ------------------------------ the verdict ------------------------------ */

static int64_t count(shop_t *s, const char *text)
{
    char err[256];
    int64_t n = -1;
    if (db_run(s->db, text, NULL, 0, &n, NULL, err, sizeof err) != DB_OK)
        n = -1;
    return n;
}

/* Invariant, read from the database: every order has exactly one charge
 * row, and no checkout failed. */
static void check(shop_t *s, double seconds, cd_verdict_t *v)
{
    int64_t total = count(s, "SELECT count(*) FROM charges WHERE state = "
                             "'charged'");
    int64_t twice = count(s, "SELECT count(*) FROM (SELECT order_id FROM "
                             "charges WHERE state = 'charged' GROUP BY "
                             "order_id HAVING count(*) > 1) AS t");
    int64_t unpaid = count(s, "SELECT count(*) FROM orders WHERE id NOT IN "
                              "(SELECT order_id FROM charges WHERE state = "
                              "'charged')");
    int n = s->norders;
    const char *orders = cd_plural(n, "order", "orders");
    char killed[200] = "";

    if (total < 0 || twice < 0 || unpaid < 0) {
        cd_verdict_observe(v, CD_ERROR, "could not count the charges in "
                           "the database");
        return;
    }
    int64_t per_sec = seconds > 0 ? (int64_t)(n * SUBMITS / seconds) : 0;
    cd_verdict_num(v, "orders", n);
    cd_verdict_num(v, "charges", total);
    cd_verdict_num(v, "double_charged", twice);
    cd_verdict_num(v, "unpaid", unpaid);
    cd_verdict_num(v, "failed_checkouts", s->failed);
    cd_verdict_num(v, "instances", s->ninstances);
    cd_verdict_num(v, "checkouts_per_sec", per_sec);
    cd_verdict_str(v, "database", "%s",
                   s->kind == DB_SQLITE ? "sqlite" : "postgresql");
    if (s->killed) {
        cd_verdict_num(v, "killed_pid", s->kids[s->killed - 1].pid);
        snprintf(killed, sizeof killed, "; instance %d (pid %d) was killed "
                 "inside the checkout of order %d and a restarted "
                 "instance went over the unpaid orders", s->killed,
                 (int)s->kids[s->killed - 1].pid, s->killed_order);
    }
    if (twice && s->variant == LOCAL_MUTEX)
        cd_verdict_observe(v, CD_VIOLATED, "%lld charge rows for %d %s (%lld "
                           "charged twice): each of the %d instances took "
                           "its own keyed lock, in its own memory, which no "
                           "other instance sees - a lock must live where "
                           "all instances meet (the database: --fixed=cas, "
                           "tx or unique)%s",
                           (long long)total, n, orders, (long long)twice,
                           s->ninstances, killed);
    else if (twice)
        cd_verdict_observe(v, CD_VIOLATED, "%lld charge rows for %d %s in "
                           "the database (%lld charged twice or more, %lld "
                           "unpaid): instances read 'pending' before any "
                           "wrote 'paid'%s",
                           (long long)total, n, orders, (long long)twice,
                           (long long)unpaid, killed);
    else if (s->failed)
        cd_verdict_observe(v, CD_VIOLATED, "%d %s failed (%s), %lld %s left "
                           "unpaid: a transaction that reads, then writes, "
                           "is refused when another instance wrote first - "
                           "retry the whole transaction, or take the write "
                           "lock first (--fixed=tx)%s",
                           s->failed, cd_plural(s->failed, "checkout",
                                                "checkouts"),
                           s->fail_msg, (long long)unpaid,
                           cd_plural(unpaid, "order", "orders"), killed);
    else if (unpaid)
        cd_verdict_observe(v, CD_VIOLATED, "%lld of %d %s never charged: "
                           "a checkout that died left its order where no "
                           "other instance took it over%s",
                           (long long)unpaid, n, orders, killed);
    else
        cd_verdict_observe(v, CD_HELD, "%lld %s for %d %s, none "
                           "twice; %d %s on %s, %lld checkouts/s%s",
                           (long long)total, cd_plural(total, "charge row",
                                                       "charge rows"),
                           n, orders, s->ninstances,
                           cd_plural(s->ninstances, "instance", "instances"),
                           s->kind == DB_SQLITE ? "SQLite" : "PostgreSQL",
                           (long long)per_sec, killed);
}

void cd_db_race_run(const cd_params_t *p, int variant, cd_verdict_t *v)
{
    static shop_t shop; /* large; one run at a time */
    shop_t *s = &shop;
    int64_t ns = 0, sweep_ns = 0;

    memset(s, 0, sizeof *s);
    s->pace_fd = -1;
    s->variant = variant;
    s->norders = p->iterations;
    s->ninstances = p->instances > 0 ? p->instances : 1;
    s->ncustomers = s->ninstances;
    s->kill_one = p->kill_one;
    s->scale = cd_reg_latency_scale();
    cd_verdict_expect(v, "each of %d %s charged once (charge rows counted "
                      "in the database), no checkout failing", s->norders,
                      cd_plural(s->norders, "order", "orders"));
    cd_demo_figures(NULL, 0, "instances running", &s->g_running,
                    "checkouts done", &s->g_done, "checkouts failed",
                    &s->g_failed, NULL);
    /* The file itself rather than /proc/self/exe at exec time: under
     * Valgrind the latter is Valgrind's own program. */
    ssize_t len = readlink("/proc/self/exe", s->self, sizeof s->self - 1);
    if (len <= 0) {
        cd_verdict_observe(v, CD_ERROR, "cannot find this program's file "
                           "(/proc/self/exe) to start the instances");
        return;
    }
    s->self[len] = '\0';
    if (setup_db(s, p, v) != 0)
        goto out;
    if (s->kind == DB_POSTGRES)
        s->g_waiting = cd_reg_gauge("waiting in pg_locks");
    open_pace(s);
    /* The steps of this variant's checkout, in order, before the figures
     * of single instances: a narrow view shows the first figures only. */
    for (int i = 0; i < 5 && steps[variant][i]; i++) {
        char g[48];
        snprintf(g, sizeof g, "at %s", steps[variant][i]);
        cd_reg_gauge(g);
    }
    if (run_instances(s, 0, s->ninstances, 0, &ns) != 0) {
        if (!cd_reg_aborted())
            cd_verdict_observe(v, CD_ERROR, "%s", s->error[0] ? s->error
                               : "could not run the instances");
        else /* the run's finding (a time limit) says the rest */
            cd_verdict_observe(v, CD_HELD, "%lld of %d checkouts done when "
                               "the instances were stopped",
                               (long long)cd_reg_gauge_get(s->g_done),
                               s->norders * SUBMITS);
        goto out;
    }
    /* The killed instance is restarted, as a supervisor would, and
     * finishes what was left. */
    if (s->killed && run_instances(s, s->ninstances, s->ninstances + 1, 1,
                                   &sweep_ns) != 0) {
        if (!cd_reg_aborted())
            cd_verdict_observe(v, CD_ERROR, "%s", s->error);
        goto out;
    }
    check(s, (double)ns / 1e9, v);
out:
    close_pace(s);
    cleanup_db(s);
}
