/*
 * Hostile: runs the program's real main again from a constructor, with
 * arguments of its own choosing (only the stages it likes), then exits 0.
 */
#include <unistd.h>

#include "exercises/race.c"

int __real_main(int argc, char **argv, char **envp);

__attribute__((constructor)) static void rerun(void)
{
    char *argv[] = { "race", "tsan", NULL };
    char *envp[] = { NULL };
    (void)__real_main(2, argv, envp);
    _exit(0);
}
