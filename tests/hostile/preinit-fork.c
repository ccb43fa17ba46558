/*
 * Hostile: forks from .preinit_array, the earliest code an executable
 * can run, hoping to come before the sandbox's filter.
 */
#include <unistd.h>

#include "exercises/race.c"

static void early(int argc, char **argv, char **envp)
{
    (void)argc;
    (void)argv;
    (void)envp;
    if (fork() == 0)
        for (;;)
            pause();
}

__attribute__((used, section(".preinit_array")))
static void (*const early_entry)(int, char **, char **) = early;
