/*
 * Hostile: waits forever in a constructor, asleep, before main and before
 * any stage could report. The start limit stops it as it stops ctor-loop,
 * without a CPU kept busy meanwhile.
 */
#include <unistd.h>

#include "exercises/race.c"

__attribute__((constructor)) static void wait_forever(void)
{
    for (;;)
        pause();
}
