/*
 * db.c - SQLite and PostgreSQL behind the few calls of db.h.
 *
 * Each driver is compiled only when its header was found at build time
 * (CD_HAVE_SQLITE, CD_HAVE_PQ: see the Makefile); without it, opening
 * that kind of database says how to get it.
 *
 * libpq is not linked in: it is loaded (dlopen) when a PostgreSQL
 * database is first opened. Linked, it and the 21 libraries it needs
 * (TLS, Kerberos, LDAP) were loaded at every start of every program built
 * with the library - concdemo itself, each exercise, the watch library -
 * about 9 ms of CPU a start on a small VM and 20 ms under a sanitizer,
 * for the few runs that talk to PostgreSQL.
 */
#include "db.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef CD_HAVE_SQLITE
#include <sqlite3.h>
#endif
#ifdef CD_HAVE_PQ
#include <dlfcn.h>
#include <libpq-fe.h>

/* The libpq calls db-race makes, found in the library at open time. */
typedef struct pq_api {
    __typeof__(PQconnectdb) *connectdb;
    __typeof__(PQstatus) *status;
    __typeof__(PQerrorMessage) *error_message;
    __typeof__(PQsetNoticeProcessor) *set_notice_processor;
    __typeof__(PQfinish) *finish;
    __typeof__(PQexec) *exec;
    __typeof__(PQexecParams) *exec_params;
    __typeof__(PQresultStatus) *result_status;
    __typeof__(PQresultErrorField) *result_error_field;
    __typeof__(PQntuples) *ntuples;
    __typeof__(PQnfields) *nfields;
    __typeof__(PQgetisnull) *getisnull;
    __typeof__(PQgetvalue) *getvalue;
    __typeof__(PQcmdTuples) *cmd_tuples;
    __typeof__(PQclear) *clear;
} pq_api_t;
#endif

struct db {
    int kind;
#ifdef CD_HAVE_SQLITE
    sqlite3 *lite;
#endif
#ifdef CD_HAVE_PQ
    pq_api_t pq;
    PGconn *pg;
#endif
};

static int fail(char *err, size_t errlen, int rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    /* One line: a driver's message may run over several. */
    err[strcspn(err, "\n")] = '\0';
    return rc;
}

int db_have(int kind)
{
#ifdef CD_HAVE_SQLITE
    if (kind == DB_SQLITE)
        return 1;
#endif
#ifdef CD_HAVE_PQ
    if (kind == DB_POSTGRES)
        return 1;
#endif
    (void)kind;
    return 0;
}

int db_url_kind(const char *url, char *err, size_t errlen)
{
    if (strncmp(url, "sqlite:", 7) == 0 && url[7])
        return DB_SQLITE;
    if (strncmp(url, "postgresql://", 13) == 0 ||
        strncmp(url, "postgres://", 11) == 0)
        return DB_POSTGRES;
    return fail(err, errlen, -1, "--db: '%s' is neither sqlite:PATH nor "
                "postgresql://...", url);
}

/* ================================= SQLite ================================ */

#ifdef CD_HAVE_SQLITE
static int lite_rc(db_t *d, int rc, char *err, size_t errlen)
{
    const char *msg = sqlite3_errmsg(d->lite);
    switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return fail(err, errlen, DB_BUSY, "%s", msg);
    case SQLITE_CONSTRAINT:
        return fail(err, errlen, DB_CONSTRAINT, "%s", msg);
    default:
        return fail(err, errlen, DB_ERROR, "%s", msg);
    }
}

static int lite_open(db_t *d, const char *path, int create, int busy_ms,
                     char *err, size_t errlen)
{
    int flags = SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0);
    if (sqlite3_open_v2(path, &d->lite, flags, NULL) != SQLITE_OK)
        return fail(err, errlen, DB_ERROR, "cannot open %s: %s%s", path,
                    d->lite ? sqlite3_errmsg(d->lite) : "out of memory",
                    create ? " (does its directory exist, and may this "
                             "user write there?)" : "");
    sqlite3_busy_timeout(d->lite, busy_ms);
    /* Opening is lazy: make SQLite touch the file now, so that an
     * unwritable directory is found here and not at the first write. */
    char why[256];
    if (db_exec(d, "PRAGMA synchronous=NORMAL", why, sizeof why) != DB_OK ||
        db_exec(d, "BEGIN IMMEDIATE", why, sizeof why) != DB_OK)
        return fail(err, errlen, DB_ERROR, "cannot write %s: %s", path, why);
    return db_exec(d, "COMMIT", err, errlen);
}

static int lite_run(db_t *d, const char *sql, const int64_t *args, int n,
                    int64_t *first, int64_t *changed, char *err,
                    size_t errlen)
{
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(d->lite, sql, -1, &st, NULL);
    if (rc != SQLITE_OK)
        return lite_rc(d, rc, err, errlen);
    for (int i = 0; i < n; i++)
        sqlite3_bind_int64(st, i + 1, args[i]);
    if (first)
        *first = -1;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        if (first && *first == -1 &&
            sqlite3_column_type(st, 0) == SQLITE_INTEGER)
            *first = sqlite3_column_int64(st, 0);
    if (rc != SQLITE_DONE) {
        rc = lite_rc(d, rc, err, errlen);
        sqlite3_finalize(st);
        return rc;
    }
    sqlite3_finalize(st);
    if (changed)
        *changed = sqlite3_changes(d->lite);
    return DB_OK;
}
#endif

/* =============================== PostgreSQL ============================== */

#ifdef CD_HAVE_PQ
/* Notices (a schema dropped with its tables) are not for learners. */
static void pg_quiet(void *arg, const char *message)
{
    (void)arg, (void)message;
}

/* Finds each call of api in libpq, loading it. RTLD_NODELETE: libpq
 * stays loaded once loaded (its TLS libraries do not expect to be
 * unloaded), so the handle can be let go and the calls still hold; a
 * second open finds it loaded, and only looks the calls up again. */
static int pg_load(pq_api_t *api, char *err, size_t errlen)
{
    void *lib = dlopen("libpq.so.5", RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
    if (!lib)
        return fail(err, errlen, DB_ERROR, "cannot load PostgreSQL's client "
                    "library: %s (install libpq5)", dlerror());
    struct { void **to; const char *name; } calls[] = {
        { (void **)&api->connectdb, "PQconnectdb" },
        { (void **)&api->status, "PQstatus" },
        { (void **)&api->error_message, "PQerrorMessage" },
        { (void **)&api->set_notice_processor, "PQsetNoticeProcessor" },
        { (void **)&api->finish, "PQfinish" },
        { (void **)&api->exec, "PQexec" },
        { (void **)&api->exec_params, "PQexecParams" },
        { (void **)&api->result_status, "PQresultStatus" },
        { (void **)&api->result_error_field, "PQresultErrorField" },
        { (void **)&api->ntuples, "PQntuples" },
        { (void **)&api->nfields, "PQnfields" },
        { (void **)&api->getisnull, "PQgetisnull" },
        { (void **)&api->getvalue, "PQgetvalue" },
        { (void **)&api->cmd_tuples, "PQcmdTuples" },
        { (void **)&api->clear, "PQclear" },
    };
    int rc = DB_OK;
    for (size_t i = 0; i < sizeof calls / sizeof calls[0] && rc == DB_OK;
         i++)
        if (!(*calls[i].to = dlsym(lib, calls[i].name)))
            rc = fail(err, errlen, DB_ERROR, "PostgreSQL's client library "
                      "has no %s: is libpq.so.5 too old?", calls[i].name);
    dlclose(lib);
    return rc;
}

static int pg_open(db_t *d, const char *url, char *err, size_t errlen)
{
    const pq_api_t *pq = &d->pq;
    if (pg_load(&d->pq, err, errlen) != DB_OK)
        return DB_ERROR;
    d->pg = pq->connectdb(url);
    if (!d->pg)
        return fail(err, errlen, DB_ERROR, "out of memory");
    if (pq->status(d->pg) != CONNECTION_OK)
        return fail(err, errlen, DB_ERROR, "cannot connect to %s: %s", url,
                    pq->error_message(d->pg));
    pq->set_notice_processor(d->pg, pg_quiet, NULL);
    return DB_OK;
}

/* '?' -> $1, $2, ...: the SQL of the scenario is written once. */
static void pg_sql(const char *sql, char *out, size_t len)
{
    size_t o = 0;
    int k = 0;
    for (; *sql && o + 8 < len; sql++) {
        if (*sql == '?')
            o += (size_t)snprintf(out + o, len - o, "$%d", ++k);
        else
            out[o++] = *sql;
    }
    out[o] = '\0';
}

static int pg_run(db_t *d, const char *sql, const int64_t *args, int n,
                  int64_t *first, int64_t *changed, char *err, size_t errlen)
{
    char text[1024], vals[8][24];
    const char *params[8];
    if (n > 8)
        return fail(err, errlen, DB_ERROR, "too many arguments");
    pg_sql(sql, text, sizeof text);
    for (int i = 0; i < n; i++) {
        snprintf(vals[i], sizeof vals[i], "%lld", (long long)args[i]);
        params[i] = vals[i];
    }
    const pq_api_t *pq = &d->pq;
    PGresult *res = pq->exec_params(d->pg, text, n, NULL, params, NULL, NULL,
                                    0);
    ExecStatusType st = pq->result_status(res);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        const char *state = pq->result_error_field(res, PG_DIAG_SQLSTATE);
        int rc = !state ? DB_ERROR
                 : strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0
                     ? DB_BUSY
                 : strcmp(state, "23505") == 0 ? DB_CONSTRAINT
                                               : DB_ERROR;
        const char *msg =
            pq->result_error_field(res, PG_DIAG_MESSAGE_PRIMARY);
        fail(err, errlen, rc, "%s", msg ? msg : pq->error_message(d->pg));
        pq->clear(res);
        return rc;
    }
    if (first) {
        char *end;
        *first = -1;
        if (pq->ntuples(res) > 0 && !pq->getisnull(res, 0, 0)) {
            long long v = strtoll(pq->getvalue(res, 0, 0), &end, 10);
            if (*end == '\0' && end != pq->getvalue(res, 0, 0))
                *first = v;
        }
    }
    if (changed)
        *changed = atoll(pq->cmd_tuples(res));
    pq->clear(res);
    return DB_OK;
}
#endif

/* ================================ the calls ============================== */

int db_open(db_t **out, const char *url, int create, int busy_ms,
            char *err, size_t errlen)
{
    int kind = db_url_kind(url, err, errlen);
    *out = NULL;
    if (kind < 0)
        return DB_ERROR;
    if (!db_have(kind))
        return fail(err, errlen, DB_ERROR, "this concdemo was built without "
                    "%s: run make deps, then make",
                    kind == DB_SQLITE ? "SQLite (libsqlite3-dev)"
                                      : "PostgreSQL's libpq (libpq-dev)");
    db_t *d = calloc(1, sizeof *d);
    if (!d)
        return fail(err, errlen, DB_ERROR, "out of memory");
    d->kind = kind;
    int rc = DB_ERROR;
#ifdef CD_HAVE_SQLITE
    if (kind == DB_SQLITE)
        rc = lite_open(d, url + 7, create, busy_ms, err, errlen);
#endif
#ifdef CD_HAVE_PQ
    if (kind == DB_POSTGRES)
        rc = pg_open(d, url, err, errlen);
#endif
    (void)create;
    (void)busy_ms;
    if (rc != DB_OK) {
        db_close(d);
        return rc;
    }
    *out = d;
    return DB_OK;
}

void db_close(db_t *d)
{
    if (!d)
        return;
#ifdef CD_HAVE_SQLITE
    if (d->lite)
        sqlite3_close(d->lite);
#endif
#ifdef CD_HAVE_PQ
    if (d->pg)
        d->pq.finish(d->pg);
#endif
    free(d);
}

int db_kind(const db_t *d)
{
    return d->kind;
}

int db_run(db_t *d, const char *sql, const int64_t *args, int n,
           int64_t *first, int64_t *changed, char *err, size_t errlen)
{
#ifdef CD_HAVE_SQLITE
    if (d->kind == DB_SQLITE)
        return lite_run(d, sql, args, n, first, changed, err, errlen);
#endif
#ifdef CD_HAVE_PQ
    if (d->kind == DB_POSTGRES)
        return pg_run(d, sql, args, n, first, changed, err, errlen);
#endif
    (void)sql, (void)args, (void)n, (void)first, (void)changed;
    return fail(err, errlen, DB_ERROR, "no driver");
}

#ifdef CD_HAVE_SQLITE
static int lite_rows(db_t *d, const char *sql, int64_t *cells, int ncols,
                     int maxrows, int *nrows, char *err, size_t errlen)
{
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(d->lite, sql, -1, &st, NULL);
    if (rc != SQLITE_OK)
        return lite_rc(d, rc, err, errlen);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && *nrows < maxrows) {
        for (int c = 0; c < ncols; c++)
            cells[*nrows * ncols + c] =
                sqlite3_column_type(st, c) == SQLITE_INTEGER
                    ? sqlite3_column_int64(st, c) : -1;
        ++*nrows;
    }
    rc = rc == SQLITE_ROW || rc == SQLITE_DONE ? DB_OK
                                               : lite_rc(d, rc, err, errlen);
    sqlite3_finalize(st);
    return rc;
}
#endif

#ifdef CD_HAVE_PQ
static int pg_rows(db_t *d, const char *sql, int64_t *cells, int ncols,
                   int maxrows, int *nrows, char *err, size_t errlen)
{
    const pq_api_t *pq = &d->pq;
    PGresult *res = pq->exec(d->pg, sql);
    if (pq->result_status(res) != PGRES_TUPLES_OK) {
        fail(err, errlen, DB_ERROR, "%s", pq->error_message(d->pg));
        pq->clear(res);
        return DB_ERROR;
    }
    for (int r = 0; r < pq->ntuples(res) && r < maxrows; r++, ++*nrows)
        for (int c = 0; c < ncols; c++) {
            char *end,
                *v = c < pq->nfields(res) ? pq->getvalue(res, r, c) : "";
            long long n = strtoll(v, &end, 10);
            cells[r * ncols + c] = *v && !*end ? n : -1;
        }
    pq->clear(res);
    return DB_OK;
}
#endif

int db_rows(db_t *d, const char *sql, int64_t *cells, int ncols, int maxrows,
            int *nrows, char *err, size_t errlen)
{
    *nrows = 0;
#ifdef CD_HAVE_SQLITE
    if (d->kind == DB_SQLITE)
        return lite_rows(d, sql, cells, ncols, maxrows, nrows, err, errlen);
#endif
#ifdef CD_HAVE_PQ
    if (d->kind == DB_POSTGRES)
        return pg_rows(d, sql, cells, ncols, maxrows, nrows, err, errlen);
#endif
    (void)sql, (void)cells, (void)ncols, (void)maxrows;
    return fail(err, errlen, DB_ERROR, "no driver");
}

int db_exec(db_t *d, const char *sql, char *err, size_t errlen)
{
    return db_run(d, sql, NULL, 0, NULL, NULL, err, errlen);
}
