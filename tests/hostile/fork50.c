/*
 * Hostile: starts 50 children that leave the process group (setsid) and
 * wait forever, hoping to outlive the check.
 */
#include <unistd.h>

#include "exercises/race.c"

__attribute__((constructor)) static void spawn_children(void)
{
    for (int i = 0; i < 50; i++)
        if (fork() == 0) {
            setsid();
            for (;;)
                pause();
        }
}
