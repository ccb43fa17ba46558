/*
 * Hostile: forges the grader's result. Before any stage runs, it writes
 * "end" - the record that says the verdict is complete - to every file
 * descriptor it may have, then exits 0 as a program whose stages all
 * passed would.
 */
#include <unistd.h>

#include "exercises/race.c"

__attribute__((constructor)) static void forge(void)
{
    for (int fd = 3; fd < 1024; fd++) {
        ssize_t n = write(fd, "end\n", 4);
        (void)n;
    }
    _exit(0);
}
