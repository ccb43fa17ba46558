/*
 * order_violation.h - the exercise order-violation: what the learner's
 * file defines, and what the harness (lessons/harness/order_violation.c)
 * gives it.
 *
 * The harness owns the database (db_connect and the connection it makes),
 * the threads (one start-up thread, the request handlers), the requests,
 * the invariant and the verdict; it is compiled by the project, so
 * nothing the learner's file does (a #define, a static of the same name)
 * reaches it. The handlers take requests from the start, while the
 * start-up thread connects: each request calls get_conn() and the
 * harness then uses what it returned. The learner's file defines exactly
 * the functions under "yours", and keeps its state (the connection, a
 * lock, a condition variable) in its own struct service, which the
 * harness only passes around by pointer, or in statics. Any other global
 * it defines fails the build.
 *
 * exercise-defines: service_create service_destroy startup get_conn
 */
#ifndef EX_ORDER_VIOLATION_H
#define EX_ORDER_VIOLATION_H

/* ---- the harness's: call it, do not define it ---- */

typedef struct conn conn_t; /* the database's: only a pointer to it */

/* Connects to the database: a slow handshake (20 ms), then the open
 * connection. Each call makes a new connection, and the database counts
 * them: the service makes one, once. */
conn_t *db_connect(void);

/* ---- yours: define these in lessons/exercises/order_violation.c ---- */

typedef struct service service_t; /* define struct service: the
                                     connection and what guards it */

/* Makes the service's state before any thread starts: NULL on failure. */
service_t *service_create(void);

/* Frees it after start-up and every handler have ended. */
void service_destroy(service_t *s);

/* The start-up thread: called once, while the handlers already take
 * requests. Makes the connection the handlers use. */
void startup(service_t *s);

/* A handler, for each request: returns the open connection - never NULL,
 * never before start-up has made it. Every handler calls it at the same
 * time, request after request. */
conn_t *get_conn(service_t *s);

#endif /* EX_ORDER_VIOLATION_H */
