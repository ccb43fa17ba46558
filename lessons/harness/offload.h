/*
 * offload.h - the exercise offload: what the learner's file defines, and
 * what the harness (lessons/harness/offload.c) gives it.
 *
 * The harness owns the event loop (an executor), the requests, the clock
 * their latency is measured on, the invariant and the verdict, compiled
 * by the project: nothing in the learner's file reaches it. The learner's
 * file defines exactly the function under "yours". Any other global it
 * defines fails the build.
 *
 * exercise-defines: login
 */
#ifndef EX_OFFLOAD_H
#define EX_OFFLOAD_H

/* A login's password, and the hash the login must have computed before
 * it returns. The harness made it and reads it at the end. */
typedef struct login_job login_t;

/* ---- the harness's: call it, do not define it ---- */

/* Hashes the login's password: 100 ms of CPU (a slow, salted hash, on
 * purpose), on whatever thread calls it; it awaits nothing. Its argument
 * is a login_t * (the shape cd_exec_offload and cd_thread_spawn take). */
void hash_password(void *login);

/* ---- yours: define this in lessons/exercises/offload.c ---- */

/* The login handler, an async task on the service's event loop (one
 * worker, shared with every other request): returns once l's password
 * has been hashed. The other requests' latency while it runs must stay
 * within its objective: p99 within 40 ms. */
void login(login_t *l);

#endif /* EX_OFFLOAD_H */
