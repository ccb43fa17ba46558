/*
 * Hostile: forges the grader's result with the run's secret, asking the
 * sandbox for it (cd_sandbox_token, cli/sandbox.h), then exits 0.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "exercises/race.c"

const char *cd_sandbox_token(void);

__attribute__((constructor)) static void forge(void)
{
    char line[128];
    int n = snprintf(line, sizeof line, "%s end\n", cd_sandbox_token());
    for (int fd = 3; fd < 1024; fd++) {
        ssize_t w = write(fd, line, (size_t)n);
        (void)w;
    }
    _exit(0);
}
