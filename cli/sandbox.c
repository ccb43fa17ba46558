/*
 * sandbox.c - the grader's half of the sandbox (see sandbox.h): the
 * channel to a run of a learner's program and what the program said on
 * it.
 */
#define _GNU_SOURCE /* SOCK_CLOEXEC */

#include "sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int cd_sandbox_open(cd_sandbox_t *sb, unsigned long long map_limit,
                    int filter)
{
    memset(sb, 0, sizeof *sb);
    sb->fds[0] = sb->fds[1] = -1;
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sb->fds) != 0)
        return -errno;
    fcntl(sb->fds[0], F_SETFL, fcntl(sb->fds[0], F_GETFL) | O_NONBLOCK);
    snprintf(sb->env, sizeof sb->env, "%s=%d %llu%s", CD_SANDBOX_ENV,
             sb->fds[1], map_limit, filter ? "" : " off");
    return 0;
}

void cd_sandbox_close(cd_sandbox_t *sb)
{
    for (int i = 0; i < 2; i++)
        if (sb->fds[i] >= 0) {
            close(sb->fds[i]);
            sb->fds[i] = -1;
        }
}

void cd_sandbox_report(const cd_sandbox_t *sb, cd_sandbox_report_t *r)
{
    memset(r, 0, sizeof *r);
    r->filter = -1;
    for (const char *p = sb->said, *nl; (nl = strchr(p, '\n')); p = nl + 1) {
        char line[160];
        snprintf(line, sizeof line, "%.*s", (int)(nl - p), p);
        if (strcmp(line, "filter on") == 0) {
            r->filter = 1;
        } else if (strncmp(line, "filter off ", 11) == 0) {
            r->filter = 0;
            snprintf(r->filter_why, sizeof r->filter_why, "%.95s", line + 11);
        } else if (strcmp(line, "main") == 0) {
            r->reached_main = 1;
        } else if (strncmp(line, "denied ", 7) == 0 && !r->denied[0]) {
            /* The first denial is the one that ended the program. */
            if (sscanf(line + 7, "%31s %lld %lld %lld", r->denied,
                       &r->arg[0], &r->arg[1], &r->arg[2]) < 1)
                r->denied[0] = '\0';
        }
    }
}

static int is(const char *name, const char *a, const char *b, const char *c)
{
    return strcmp(name, a) == 0 || (b && strcmp(name, b) == 0) ||
           (c && strcmp(name, c) == 0);
}

void cd_sandbox_explain(const cd_sandbox_report_t *r, char *buf, size_t size)
{
    const char *n = r->denied;
    if (is(n, "fork", "vfork", "clone"))
        snprintf(buf, size, "your code tried to start a process (%s): an "
                 "exercise runs in one process; threads are the way (see "
                 "cd_thread.h)", n);
    else if (is(n, "execve", "execveat", NULL))
        snprintf(buf, size, "your code tried to run a program (%s): an "
                 "exercise may not", n);
    else if (is(n, "kill", "tgkill", "rt_sigqueueinfo") ||
             is(n, "rt_tgsigqueueinfo", "tkill", "pidfd_send_signal"))
        snprintf(buf, size, "your code sent a signal (%s, signal %lld) to "
                 "another process (%lld): an exercise may signal only "
                 "itself", n, is(n, "tgkill", "rt_tgsigqueueinfo", NULL)
                                  ? r->arg[2] : r->arg[1], r->arg[0]);
    else if (is(n, "mmap", "mremap", NULL))
        snprintf(buf, size, "your code asked for %.1f GiB of memory at once "
                 "(%s): more than a run may use", (double)r->arg[
                 strcmp(n, "mmap") == 0 ? 1 : 2] / (1 << 30), n);
    else if (is(n, "setsid", "setpgid", NULL))
        snprintf(buf, size, "your code tried to leave its process group "
                 "(%s): everything a run starts is stopped with it", n);
    else if (is(n, "setrlimit", "prlimit64", NULL))
        snprintf(buf, size, "your code tried to change its limits (%s)", n);
    else if (is(n, "ptrace", "process_vm_readv", "process_vm_writev") ||
             is(n, "pidfd_getfd", NULL, NULL))
        snprintf(buf, size, "your code tried to reach into another process "
                 "(%s)", n);
    else
        snprintf(buf, size, "your code made a system call an exercise may "
                 "not make (%s)", n);
}

