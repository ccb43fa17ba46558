/*
 * db_race.c - the harness of the exercise db-race (the learner's part:
 * lessons/exercises/db_race.c, its interface: db_race.h).
 *
 * This program is one instance of the shop's service; concdemo check
 * starts several copies of it side by side (cli/check.c, the stage
 * "instances"), each sandboxed like any exercise's program, after it has
 * made the run's directory: the shop's database (shop.db: the orders),
 * the bank's (bank.db: one row per charge the gateway made) and a small
 * file the instances meet in. Copy K of N (its number in
 * $CONCDEMO_COPY) takes submissions K, K+N, ... of the 2 x ORDERS (each
 * order twice, as in race), so an order's two submissions reach two
 * instances; before each checkout the two wait for each other, so both
 * start it at the same moment and the 2 ms gateway call is the window,
 * every time. The checker judges the databases, never what an instance
 * says; the lines an instance writes on its channel ("K ready PID", "K
 * fail ORDER WHY") only start the run and explain a failure.
 *
 * Everything here but gateway_charge(), sql_exec(), sql_number() and
 * cd_exercise is static: the learner's file cannot reach it.
 */
#define _GNU_SOURCE /* syscall: the futex the instances meet on */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <linux/futex.h>

#include "harness/db_race.h"
#include "harness/exercise.h"
#include "../../cli/spawn.h" /* CD_SPAWN_COPY_ENV */

#define GATEWAY_USEC 2000 /* the payment gateway takes 2 ms */
#define BUSY_MS 10000     /* a statement waits this long for a lock */
#define MEET_MS 2000      /* the most one instance waits for its partner */
#define SUBMITS 2         /* each order arrives twice */

static struct instance {
    int id, ninstances, norders, fd;
    sqlite3 *shop, *bank;
    atomic_int *meet; /* one counter per order, shared by the instances */
} in;

/* One line on the channel to the checker (shorter than PIPE_BUF: one
 * write). A checker that is gone is no reason to stop. */
static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
    char line[512];
    int n = snprintf(line, sizeof line, "%d ", in.id);
    va_list ap;
    va_start(ap, fmt);
    n += vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
    va_end(ap);
    if (n > (int)sizeof line - 2)
        n = (int)sizeof line - 2;
    line[n++] = '\n';
    ssize_t w = write(in.fd, line, (size_t)n);
    (void)w;
}

#ifdef CD_HAVE_SQLITE

/* ============================ for the learner ============================ */

static sqlite3_stmt *prepare(sqlite3 *db, const char *sql, int order)
{
    sqlite3_stmt *st = NULL;
    if (!db || !sql || sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return NULL;
    if (sqlite3_bind_parameter_count(st) >= 1 &&
        sqlite3_bind_int64(st, 1, order) != SQLITE_OK) {
        sqlite3_finalize(st);
        return NULL;
    }
    return st;
}

int sql_exec(sqlite3 *db, const char *sql, int order)
{
    sqlite3_stmt *st = prepare(db, sql, order);
    if (!st)
        return -1;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        ;
    int changed = sqlite3_changes(db);
    int writes = !sqlite3_stmt_readonly(st);
    /* finalize keeps the step's error code for sqlite3_errcode. */
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return -1;
    return writes ? changed : 0;
}

long long sql_number(sqlite3 *db, const char *sql, int order)
{
    sqlite3_stmt *st = prepare(db, sql, order);
    if (!st)
        return -1;
    long long n = -1;
    if (sqlite3_step(st) == SQLITE_ROW &&
        sqlite3_column_type(st, 0) == SQLITE_INTEGER)
        n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
}

/* The bank is another system: what it charged is in its own database,
 * which the shop's transactions neither hold nor roll back - a charge
 * made inside a transaction that fails stays made. */
void gateway_charge(int order)
{
    struct timespec ts = { 0, GATEWAY_USEC * 1000L };
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
    if (sql_exec(in.bank, "INSERT INTO charges (order_id) VALUES (?)",
                 order) != 1) {
        /* A charge the books cannot hold: the run cannot be judged. */
        say("error the bank could not record a charge: %s",
            sqlite3_errmsg(in.bank));
        _exit(3);
    }
}

/* =============================== an instance ============================= */

static int open_db(sqlite3 **db, const char *dir, const char *file)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    if (sqlite3_open_v2(path, db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
        say("error cannot open %s: %s", path,
            *db ? sqlite3_errmsg(*db) : "out of memory");
        return -1;
    }
    sqlite3_busy_timeout(*db, BUSY_MS);
    return 0;
}

static void futex(atomic_int *at, int op, int val, const struct timespec *t)
{
    syscall(SYS_futex, (int *)at, op, val, t, NULL, 0);
}

/* The two instances that have order's submissions start its checkout
 * together (at most MEET_MS apart: a partner that died is not waited for
 * long). */
static void meet(int order)
{
    atomic_int *m = &in.meet[order];
    if (in.ninstances < 2)
        return; /* both submissions are this instance's */
    if (atomic_fetch_add(m, 1) + 1 >= SUBMITS) {
        futex(m, FUTEX_WAKE, INT_MAX, NULL);
        return;
    }
    struct timespec nap = { 0, 50 * 1000000L };
    for (int waited = 0, now; (now = atomic_load(m)) < SUBMITS &&
                              waited < MEET_MS; waited += 50)
        futex(m, FUTEX_WAIT, now, &nap);
}

static int map_meet(const char *dir)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/meet", dir);
    int fd = open(path, O_RDWR | O_CLOEXEC);
    size_t size = (size_t)in.norders * sizeof *in.meet;
    void *p = fd >= 0 ? mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED,
                             fd, 0)
                      : MAP_FAILED;
    if (fd >= 0)
        close(fd);
    if (p == MAP_FAILED) {
        say("error cannot map %s: %s", path, strerror(errno));
        return -1;
    }
    in.meet = p;
    return 0;
}

/* argv: FD DIR ORDERS INSTANCES (after `PROG instance db-race`); the
 * copy's number in $CONCDEMO_COPY. Exit 0, or 2 when it could not start
 * (its channel says why). */
static int instance_main(int argc, char **argv)
{
    const char *copy = getenv(CD_SPAWN_COPY_ENV);
    char go;
    if (argc != 4 || !copy) {
        fprintf(stderr, "db-race's instances are started by concdemo "
                "check\n");
        return 2;
    }
    in.fd = atoi(argv[0]);
    in.id = atoi(copy);
    in.norders = atoi(argv[2]);
    in.ninstances = atoi(argv[3]);
    if (in.fd < 3 || in.norders < 1 || in.ninstances < 1 || in.id < 0 ||
        in.id >= in.ninstances) {
        say("error bad arguments");
        return 2;
    }
    shop_t *shop = NULL;
    if (open_db(&in.shop, argv[1], "shop.db") != 0 ||
        open_db(&in.bank, argv[1], "bank.db") != 0 || map_meet(argv[1]) != 0)
        return 2;
    if (!(shop = shop_create(in.ninstances))) {
        say("error shop_create() failed");
        return 2;
    }
    say("ready %d", (int)getpid());
    /* Every instance starts when the checker shuts its end (EOF). */
    while (read(in.fd, &go, 1) < 0 && errno == EINTR)
        ;
    for (int j = in.id; j < in.norders * SUBMITS; j += in.ninstances) {
        int order = j / SUBMITS;
        meet(order);
        if (checkout(shop, in.shop, order, order % in.ninstances) != 0)
            say("fail %d %s", order, sqlite3_errmsg(in.shop));
    }
    shop_destroy(shop);
    sqlite3_close(in.shop);
    sqlite3_close(in.bank);
    return 0;
}

#else /* no SQLite: the exercise cannot run (concdemo check says so) */

int sql_exec(sqlite3 *db, const char *sql, int order)
{
    (void)db, (void)sql, (void)order;
    return -1;
}

long long sql_number(sqlite3 *db, const char *sql, int order)
{
    (void)db, (void)sql, (void)order;
    return -1;
}

void gateway_charge(int order)
{
    (void)order;
}

static int instance_main(int argc, char **argv)
{
    (void)argc, (void)argv;
    fprintf(stderr, "db-race needs SQLite: make deps (libsqlite3-dev), "
            "then make\n");
    return 2;
}

#endif

/* check mode runs no instances: only concdemo check starts them. */
static void run(const cd_params_t *p, const cd_ex_plan_t *plan,
                cd_verdict_t *v)
{
    (void)p, (void)plan;
    cd_verdict_observe(v, CD_ERROR, "db-race's instances are processes: "
                       "concdemo check starts them (`instance` mode)");
}

EX_SCENARIO("db-race", run,
            .defaults = { .instances = 4, .iterations = 16 },
            .min = { .instances = 1, .iterations = 1 },
            .max = { .instances = 16, .iterations = 1000 },
            .instance_main = instance_main);
