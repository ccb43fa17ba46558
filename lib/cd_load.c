/*
 * cd_load.c - CPU used against time waiting for a CPU (see cd_load.h).
 */
#include "cd_load.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cd_common.h"

static int64_t process_cpu_ns(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts) != 0)
        return 0;
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* The second field of a schedstat file: nanoseconds spent on a run
 * queue. -1 when it cannot be read (the thread or process just ended). */
static int64_t queued_in(const char *path)
{
    long long run, queued;
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    int n = fscanf(f, "%lld %lld", &run, &queued);
    fclose(f);
    return n == 2 ? (int64_t)queued : -1;
}

static int64_t task_queued_ns(pid_t tid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/self/task/%d/schedstat", (int)tid);
    return queued_in(path);
}

int64_t cd_load_queued_of(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/schedstat", (int)pid);
    return queued_in(path);
}

/* The slot of tid, added when new (-1 when the table is full). */
static int find_task(cd_load_t *l, pid_t tid, int *is_new)
{
    for (int i = 0; i < l->ntask; i++)
        if (l->task[i].tid == tid) {
            *is_new = 0;
            return i;
        }
    if (l->ntask == CD_LOAD_TASKS)
        return -1;
    *is_new = 1;
    l->task[l->ntask].tid = tid;
    l->task[l->ntask].queued_ns = 0;
    return l->ntask++;
}

/* Walks the process's threads; with count set, adds what each waited
 * since it was last seen (all of it, for a thread that is new). */
static void walk_tasks(cd_load_t *l, int count)
{
    DIR *d = opendir("/proc/self/task");
    struct dirent *e;
    if (!d)
        return;
    while ((e = readdir(d)) != NULL) {
        pid_t tid = (pid_t)strtol(e->d_name, NULL, 10);
        int is_new;
        if (tid <= 0)
            continue;
        int64_t q = task_queued_ns(tid);
        int slot = q < 0 ? -1 : find_task(l, tid, &is_new);
        if (slot < 0)
            continue;
        /* A smaller figure than last time: the id went to a new thread. */
        int64_t last = is_new || q < l->task[slot].queued_ns
                           ? 0
                           : l->task[slot].queued_ns;
        if (count)
            l->queued_ns += q - last;
        l->task[slot].queued_ns = q;
    }
    closedir(d);
}

void cd_load_begin(cd_load_t *l)
{
    memset(l, 0, sizeof *l);
    l->wall0_ns = cd_now_ns();
    l->cpu0_ns = process_cpu_ns();
    walk_tasks(l, 0);
}

void cd_load_sample(cd_load_t *l)
{
    l->wall_ns = cd_now_ns() - l->wall0_ns;
    l->cpu_ns = process_cpu_ns() - l->cpu0_ns;
    walk_tasks(l, 1);
}

int cd_load_starved(const cd_load_t *l)
{
    return l->queued_ns > l->cpu_ns && 2 * l->queued_ns >= l->wall_ns;
}
