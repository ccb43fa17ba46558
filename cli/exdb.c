/*
 * exdb.c - the databases of the exercise db-race, the checker's side
 * (exdb.h). Through the project's small database layer (demos/db.h), the
 * same one the demo uses.
 */
#include "exdb.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../demos/db.h"

#define BUSY_MS 10000

static const char *const files[] = {
    "shop.db", "shop.db-wal", "shop.db-shm", "shop.db-journal",
    "bank.db", "bank.db-wal", "bank.db-shm", "bank.db-journal", "meet",
};

int cd_exdb_available(void)
{
    return db_have(DB_SQLITE);
}

void cd_exdb_remove(const char *dir)
{
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char path[PATH_MAX + 32];
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        unlink(path);
    }
}

/* Opens dir/file ("sqlite:" URL) in *d. 0, or -1 with err. */
static int open_in(db_t **d, const char *dir, const char *file, char *err,
                   size_t errlen)
{
    char url[PATH_MAX + 64];
    snprintf(url, sizeof url, "sqlite:%s/%s", dir, file);
    return db_open(d, url, 1, BUSY_MS, err, errlen) == DB_OK ? 0 : -1;
}

/* Runs each statement of sql[] (NULL-ended) on d. */
static int exec_all(db_t *d, const char *const *sql, char *err,
                    size_t errlen)
{
    for (int i = 0; sql[i]; i++)
        if (db_exec(d, sql[i], err, errlen) != DB_OK)
            return -1;
    return 0;
}

static int make_meet(const char *dir, int norders, char *err, size_t errlen)
{
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/meet", dir);
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || ftruncate(fd, (off_t)norders * 4) != 0) {
        snprintf(err, errlen, "cannot make %s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    close(fd);
    return 0;
}

int cd_exdb_make(const char *dir, int norders, int ncustomers, char *err,
                 size_t errlen)
{
    static const char *const shop_ddl[] = {
        "PRAGMA journal_mode=WAL",
        "CREATE TABLE orders (id INTEGER PRIMARY KEY, customer INTEGER NOT "
        "NULL, status TEXT NOT NULL)",
        "CREATE TABLE checkout_keys (order_id INTEGER PRIMARY KEY)",
        "BEGIN", NULL,
    };
    static const char *const bank_ddl[] = {
        "PRAGMA journal_mode=WAL",
        "CREATE TABLE charges (order_id INTEGER NOT NULL)", NULL,
    };
    db_t *shop = NULL, *bank = NULL;
    int rc = -1;
    cd_exdb_remove(dir);
    if (open_in(&shop, dir, "shop.db", err, errlen) != 0 ||
        exec_all(shop, shop_ddl, err, errlen) != 0)
        goto out;
    for (int o = 0; o < norders; o++) {
        int64_t args[2] = { o, o % (ncustomers > 0 ? ncustomers : 1) };
        if (db_run(shop, "INSERT INTO orders (id, customer, status) VALUES "
                         "(?, ?, 'pending')", args, 2, NULL, NULL, err,
                   errlen) != DB_OK)
            goto out;
    }
    if (db_exec(shop, "COMMIT", err, errlen) != DB_OK ||
        open_in(&bank, dir, "bank.db", err, errlen) != 0 ||
        exec_all(bank, bank_ddl, err, errlen) != 0 ||
        make_meet(dir, norders, err, errlen) != 0)
        goto out;
    rc = 0;
out:
    db_close(shop);
    db_close(bank);
    return rc;
}

/* One number, or -1 after an error (err says it). */
static long number(db_t *d, const char *sql, int64_t arg, int *failed,
                   char *err, size_t errlen)
{
    int64_t n = -1;
    if (*failed)
        return -1;
    if (db_run(d, sql, &arg, strchr(sql, '?') ? 1 : 0, &n, NULL, err,
               errlen) != DB_OK) {
        *failed = 1;
        return -1;
    }
    return (long)n;
}

int cd_exdb_judge(const char *dir, int norders, cd_exdb_result_t *r,
                  char *err, size_t errlen)
{
    char attach[PATH_MAX + 64], *q;
    db_t *d = NULL;
    int failed = 0;
    memset(r, 0, sizeof *r);
    /* The bank's file by name, its quotes doubled (a path may hold
     * one). */
    q = attach + snprintf(attach, sizeof attach, "ATTACH '");
    for (const char *p = dir; *p && q < attach + sizeof attach - 24; p++) {
        if (*p == '\'')
            *q++ = '\'';
        *q++ = *p;
    }
    snprintf(q, (size_t)(attach + sizeof attach - q), "/bank.db' AS bank");
    if (open_in(&d, dir, "shop.db", err, errlen) != 0 ||
        db_exec(d, attach, err, errlen) != DB_OK) {
        db_close(d);
        return -1;
    }
#define N(sql, arg) number(d, sql, arg, &failed, err, errlen)
    r->orders = (int)N("SELECT count(*) FROM orders WHERE id BETWEEN 0 AND ?",
                       norders - 1);
    r->charges = N("SELECT count(*) FROM bank.charges", 0);
    r->stray = N("SELECT count(*) FROM bank.charges WHERE order_id < 0 OR "
                 "order_id >= ?", norders);
    r->twice = (int)N("SELECT count(*) FROM (SELECT order_id FROM "
                      "bank.charges GROUP BY order_id HAVING count(*) > 1)",
                      0);
    r->first_twice = (int)N("SELECT min(order_id) FROM (SELECT order_id FROM "
                            "bank.charges GROUP BY order_id HAVING "
                            "count(*) > 1)", 0);
    r->first_times = (int)N("SELECT count(*) FROM bank.charges WHERE "
                            "order_id = ?", r->first_twice);
    /* Counted over the run's order numbers, not the table: an order the
     * shop deleted is never charged and never paid. */
    r->never = norders - (int)N("SELECT count(DISTINCT order_id) FROM "
                                "bank.charges WHERE order_id BETWEEN 0 AND ?",
                                norders - 1);
    r->first_never = -1;
    for (int o = 0; o < norders && r->never > 0 && r->first_never < 0; o++)
        if (N("SELECT count(*) FROM bank.charges WHERE order_id = ?", o) == 0)
            r->first_never = o;
    r->unpaid = norders - (int)N("SELECT count(*) FROM orders WHERE id "
                                 "BETWEEN 0 AND ? AND status = 'paid'",
                                 norders - 1);
    r->first_unpaid = -1;
    for (int o = 0; o < norders && r->unpaid > 0 && r->first_unpaid < 0; o++)
        if (N("SELECT count(*) FROM orders WHERE id = ? AND status = 'paid'",
              o) == 0)
            r->first_unpaid = o;
#undef N
    db_close(d);
    return failed ? -1 : 0;
}
