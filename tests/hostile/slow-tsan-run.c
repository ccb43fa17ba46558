/*
 * Not hostile: slow. In the ThreadSanitizer build only, the first checkout
 * sleeps 6 s, so that the TSan run outlasts a start limit of 3 s although
 * it started at once (3 s, not less: on a busy CI runner the plain run's
 * start alone has taken over a second). The limit is on reaching the run,
 * not on finishing it: the TSan stage must judge the run (the starter's
 * race), not call it "not started".
 */
#include <stdatomic.h>
#include <time.h>

#include "harness/race.h"

static void checkout_of_the_starter(shop_t *s, order_t *o);
#define checkout checkout_of_the_starter
#include "exercises/race.c"
#undef checkout

void checkout(shop_t *s, order_t *o)
{
#ifdef __SANITIZE_THREAD__
    static atomic_int slept;
    if (!atomic_exchange(&slept, 1)) {
        struct timespec six = { 6, 0 };
        nanosleep(&six, NULL);
    }
#endif
    checkout_of_the_starter(s, o);
}
