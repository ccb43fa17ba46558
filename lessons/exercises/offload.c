/*
 * Exercise: offload - the frozen event loop (worksheet:
 * lessons/22-offload.md).
 *
 * Task:  a service answers its requests on one event loop. login() below
 *        hashes the password right there, in the handler: 100 ms of CPU
 *        with no await, and for 100 ms the loop answers nobody - every
 *        request that arrives meanwhile waits. Make the login hash the
 *        password without holding up the loop: the other requests' p99
 *        latency must stay within 40 ms, and the login must still return
 *        only once its password is hashed.
 * Done:  every stage of the checker says PASS (free runs, explored
 *        schedules, timing, ThreadSanitizer).
 * Check: concdemo check offload       or: make check-exercise EX=offload
 *
 * This file is yours, all of it: lessons/harness/offload.h says what it
 * must define and what it may call; the harness (the loop, the requests,
 * the latency, the invariant) is built by the project. You may need
 * lib/cd_scope.h (cd_exec_offload) and lib/cd_thread.h.
 */
#include "cd_exec.h"
#include "cd_scope.h"
#include "cd_thread.h"
#include "harness/offload.h"

/* The login handler (an async task on the event loop). */
void login(login_t *l)
{
    hash_password(l);                   /* 100 ms of CPU on the loop */
}
