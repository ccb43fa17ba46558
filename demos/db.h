/*
 * db.h - the small database layer of db-race: one connection to SQLite
 * (the default, embedded) or PostgreSQL (through libpq), and the few
 * calls a checkout needs.
 *
 * SQL is written once with '?' placeholders and whole-number arguments;
 * for PostgreSQL they become $1, $2, ... Every call returns DB_OK or an
 * error kind, with one line (no newline) in the caller's buffer: a
 * scenario tells "someone else holds the row" (DB_CONSTRAINT) and "try
 * the transaction again" (DB_BUSY) from a real failure (DB_ERROR).
 */
#ifndef CD_DB_H
#define CD_DB_H

#include <stddef.h>
#include <stdint.h>

typedef struct db db_t;

enum db_kind { DB_SQLITE, DB_POSTGRES };

enum db_rc {
    DB_OK = 0,
    DB_ERROR = -1,      /* anything else: err says what */
    DB_BUSY = -2,       /* SQLite busy/locked, PostgreSQL serialization
                           failure or deadlock: the transaction must be
                           retried whole */
    DB_CONSTRAINT = -3  /* a UNIQUE (or primary key) constraint refused it */
};

/* Which kind a --db value names ("sqlite:PATH", "postgresql://...",
 * "postgres://..."), or -1 with one line in err. */
int db_url_kind(const char *url, char *err, size_t errlen);

/* Opens url (see db_url_kind). create: a SQLite file may be created.
 * Returns a connection in *out, or DB_ERROR with one line in err. SQLite
 * connections wait up to busy_ms for a lock before DB_BUSY. */
int db_open(db_t **out, const char *url, int create, int busy_ms,
            char *err, size_t errlen);
void db_close(db_t *d);
int db_kind(const db_t *d);

/* Runs one statement with n whole-number arguments. *first (if not NULL):
 * the first column of the first row as a number, or -1 when there is no
 * row (or it is not a number); *changed (if not NULL): rows the statement
 * inserted, updated or deleted. */
int db_run(db_t *d, const char *sql, const int64_t *args, int n,
           int64_t *first, int64_t *changed, char *err, size_t errlen);
/* Runs a query without arguments and copies its first maxrows rows of
 * ncols whole numbers each into cells (row after row; -1 for a NULL or a
 * value that is no number); *nrows: the rows copied. */
int db_rows(db_t *d, const char *sql, int64_t *cells, int ncols, int maxrows,
            int *nrows, char *err, size_t errlen);
/* db_run without arguments or results: DDL, BEGIN, COMMIT, ROLLBACK. */
int db_exec(db_t *d, const char *sql, char *err, size_t errlen);

/* Whether this build has the driver for kind (0: built without it). */
int db_have(int kind);

#endif /* CD_DB_H */
