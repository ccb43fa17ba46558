/*
 * exdb.h - the databases of the exercise db-race, the checker's side.
 *
 * Before a run of the instances the checker makes, in a directory of its
 * own: shop.db (SQLite, WAL: the orders, all 'pending', and the empty
 * table checkout_keys), bank.db (the bank's: one row per charge the
 * harness's gateway made) and meet (one zeroed counter per order, which
 * the two instances of an order meet on). After the run it judges the
 * databases themselves: what the instances said counts for nothing.
 * lessons/harness/db_race.h describes the tables to the learner.
 */
#ifndef CD_EXDB_H
#define CD_EXDB_H

#include <stddef.h>

/* What the databases hold after a run of norders orders. */
typedef struct cd_exdb_result {
    int orders;       /* the orders still there (the shop may not drop any) */
    long charges;     /* charge rows, all told */
    int twice;        /* orders charged more than once */
    int first_twice;  /* the first of them, or -1 */
    int first_times;  /* how many times it was charged */
    int never;        /* orders never charged */
    int first_never;  /* the first of them, or -1 */
    int unpaid;       /* orders whose status is not 'paid' */
    int first_unpaid; /* the first of them, or -1 */
    long stray;       /* charges of no order of the run */
} cd_exdb_result_t;

/* Whether this concdemo was built with SQLite (libsqlite3-dev). */
int cd_exdb_available(void);

/* Makes the run's files in dir (which exists) for norders orders of
 * ncustomers customers, replacing any of an earlier run. 0, or -1 with
 * one line in err. */
int cd_exdb_make(const char *dir, int norders, int ncustomers, char *err,
                 size_t errlen);

/* Reads what the databases in dir hold into *r. 0, or -1 with one line
 * in err. */
int cd_exdb_judge(const char *dir, int norders, cd_exdb_result_t *r,
                  char *err, size_t errlen);

/* Removes the run's files from dir (not dir itself). */
void cd_exdb_remove(const char *dir);

#endif /* CD_EXDB_H */
