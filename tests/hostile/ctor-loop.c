/*
 * Hostile: loops forever in a constructor, before main and before any
 * stage could report.
 */
#include "exercises/race.c"

__attribute__((constructor)) static void spin(void)
{
    for (;;) {
    }
}
