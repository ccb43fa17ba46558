/*
 * workspace.c - the learner's own place to build in, beside an installed
 * concdemo tree (see workspace.h).
 */
#define _GNU_SOURCE /* O_CLOEXEC with open(), on older C libraries */
#include "workspace.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static int fail(char *why, size_t len, const char *what, const char *path)
{
    snprintf(why, len, "cannot %s %s: %s", what, path, strerror(errno));
    return -1;
}

int cd_workspace_needed(const char *root)
{
    char path[PATH_MAX];
    /* An installed tree is the package manager's, even to root. */
    snprintf(path, sizeof path, "%s/.installed", root);
    if (access(path, F_OK) == 0)
        return 1;
    snprintf(path, sizeof path, "%s/build", root);
    if (access(path, F_OK) == 0)
        return access(path, W_OK) != 0;
    return access(root, W_OK) != 0;
}

/* mkdir -p of path (its own buffer is changed and put back). */
static int make_dirs(char *path)
{
    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        int rc = mkdir(path, 0755);
        *p = '/';
        if (rc != 0 && errno != EEXIST)
            return -1;
    }
    return mkdir(path, 0755) == 0 || errno == EEXIST ? 0 : -1;
}

/* $XDG_CACHE_HOME/concdemo, else ~/.cache/concdemo; -1 if neither is set. */
static int cache_dir(char *out, size_t size)
{
    const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    if (xdg && xdg[0] == '/')
        snprintf(out, size, "%s/concdemo", xdg);
    else if (home && home[0] == '/')
        snprintf(out, size, "%s/.cache/concdemo", home);
    else
        return -1;
    return 0;
}

/* Names the tree and its build: another install (another path, or a new
 * library) is another workspace. */
static uint32_t tree_id(const char *root)
{
    char lib[PATH_MAX];
    struct stat st = { 0 };
    uint32_t h = 2166136261u;
    snprintf(lib, sizeof lib, "%s/build/libconcdemo.a", root);
    stat(lib, &st); /* no library: the id of the path alone */
    for (const char *s = root; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    for (size_t i = 0; i < sizeof st.st_mtime; i++)
        h = (h ^ ((const unsigned char *)&st.st_mtime)[i]) * 16777619u;
    return h;
}

/* Links every entry of root but build/ into dir. */
static int link_sources(const char *root, const char *dir, char *why,
                        size_t len)
{
    DIR *d = opendir(root);
    if (!d)
        return fail(why, len, "read", root);
    struct dirent *e;
    int rc = 0;
    while (rc == 0 && (e = readdir(d))) {
        if (e->d_name[0] == '.' || strcmp(e->d_name, "build") == 0)
            continue;
        char from[PATH_MAX * 2], to[PATH_MAX * 2];
        snprintf(from, sizeof from, "%s/%s", root, e->d_name);
        snprintf(to, sizeof to, "%s/%s", dir, e->d_name);
        unlink(to); /* a link left by an interrupted preparation */
        if (symlink(from, to) != 0)
            rc = fail(why, len, "link", to);
    }
    closedir(d);
    return rc;
}

/* cp -pR root/build dir/: a copy, not links, because make may write any
 * file there (a changed build configuration rebuilds the library). The
 * times are kept, so that make finds everything up to date. */
static int copy_build(const char *root, const char *dir, char *why,
                      size_t len)
{
    char from[PATH_MAX + 8];
    snprintf(from, sizeof from, "%s/build", root);
    if (access(from, F_OK) != 0)
        return 0; /* nothing built: make builds it in the workspace */
    char *argv[] = { "cp", "-pR", from, (char *)dir, NULL };
    pid_t pid;
    int status;
    if (posix_spawnp(&pid, "cp", NULL, NULL, argv, environ) != 0)
        return fail(why, len, "run cp for", from);
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return fail(why, len, "wait for the copy of", from);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        snprintf(why, len, "cannot copy %s into %s", from, dir);
        return -1;
    }
    return 0;
}

static int prepare(const char *root, const char *dir, char *why, size_t len)
{
    char ready[PATH_MAX + 8];
    snprintf(ready, sizeof ready, "%s/.ready", dir);
    if (access(ready, F_OK) == 0)
        return 0;
    if (link_sources(root, dir, why, len) != 0 ||
        copy_build(root, dir, why, len) != 0)
        return -1;
    int fd = open(ready, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        return fail(why, len, "write", ready);
    close(fd);
    return 0;
}

int cd_workspace_for(const char *root, char *out, size_t size, char *why,
                     size_t whylen)
{
    char dir[PATH_MAX], lock[PATH_MAX + 8];
    if (cache_dir(dir, sizeof dir) != 0) {
        snprintf(why, whylen, "%s is read-only and neither XDG_CACHE_HOME "
                 "nor HOME names a place to build in", root);
        return -1;
    }
    size_t n = strlen(dir);
    snprintf(dir + n, sizeof dir - n, "/tree-%08x", tree_id(root));
    if (make_dirs(dir) != 0)
        return fail(why, whylen, "create", dir);
    snprintf(lock, sizeof lock, "%s/.lock", dir);
    int fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        return fail(why, whylen, "open", lock);
    while (flock(fd, LOCK_EX) != 0)
        if (errno != EINTR) {
            close(fd);
            return fail(why, whylen, "lock", lock);
        }
    int rc = prepare(root, dir, why, whylen);
    close(fd);
    if (rc == 0)
        snprintf(out, size, "%s", dir);
    return rc;
}
