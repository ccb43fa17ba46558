/*
 * publication.h - the exercise publication: what the learner's file
 * defines, and what the harness (lessons/harness/publication.c) gives it.
 *
 * The harness owns the connections, their records, the warmer and the
 * handler threads, the invariant and the verdict; it is compiled by the
 * project, so nothing the learner's file does (a #define, a static of the
 * same name) reaches it. The warmer calls publish() for each connection,
 * one after another; each handler calls take_ready() on each connection
 * in turn, again and again (every 0.25 ms), until it says the connection
 * is ready, and then uses the record it copied. The learner's file defines
 * exactly the functions under "yours", and keeps its flags (or locks) in
 * its own struct pool (which the harness only passes around by pointer)
 * or in statics. Any other global it defines fails the build.
 *
 * exercise-defines: pool_create pool_destroy publish take_ready
 */
#ifndef EX_PUBLICATION_H
#define EX_PUBLICATION_H

/* What a connection's handshake returns: never 0 in either field, so that
 * a 0 is a field nobody has written yet. */
typedef struct record {
    long session;
    long key;
} record_t;

/* One connection. The harness made it; handshake() writes its record. */
typedef struct conn {
    int id;        /* 0 .. nconns-1 */
    record_t rec;  /* plain memory: nothing orders it but your code */
} conn_t;

/* ---- the harness's: call it, do not define it ---- */

/* Opens connection c: talks to the database (2 ms or more: it is not done
 * before every handler has looked at c at least once meanwhile), then
 * writes the record it got into c->rec. Call it once per connection, from
 * publish(). */
void handshake(conn_t *c);

/* ---- yours: define these in lessons/exercises/publication.c ---- */

typedef struct pool pool_t; /* define struct pool: your flags go there */

/* Makes the pool before the warmer starts (connections are numbered
 * 0 .. nconns-1): NULL on failure. */
pool_t *pool_create(int nconns);

/* Frees it after the warmer and every handler have ended. */
void pool_destroy(pool_t *p);

/* The warmer, once per connection: open c with handshake(c), and tell the
 * handlers that c is ready. */
void publish(pool_t *p, conn_t *c);

/* A handler: if c is ready, copy its record into *out and return 1; if it
 * is not ready yet, return 0 at once (the harness looks again later). */
int take_ready(pool_t *p, conn_t *c, record_t *out);

#endif /* EX_PUBLICATION_H */
