/*
 * Hostile: prints without end from a constructor, before main, as fast as
 * the pipe takes it.
 */
#include <string.h>
#include <unistd.h>

#include "exercises/race.c"

__attribute__((constructor)) static void flood(void)
{
    static char line[65536];
    memset(line, 'x', sizeof line - 1);
    line[sizeof line - 1] = '\n';
    for (;;)
        if (write(1, line, sizeof line) < 0)
            _exit(1);
}
