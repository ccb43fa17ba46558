/* scribble.c - a program that writes over the live view's shared page,
 * which is in its own memory (any program may; this one finds it by its
 * name among its open files): every byte one of its choosing, so counts
 * far past their arrays, pointers into nothing, no string ended, and a
 * sequence number that says the frame is whole. The view must still draw
 * and the watch end as usual. Without the view (no page) it only waits
 * as long. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* The page's descriptor, or -1. */
static int find_page(void)
{
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    int fd = -1;
    while (d && fd < 0 && (e = readdir(d))) {
        char path[300], target[256];
        snprintf(path, sizeof path, "/proc/self/fd/%s", e->d_name);
        ssize_t n = readlink(path, target, sizeof target - 1);
        if (n > 0) {
            target[n] = '\0';
            if (strstr(target, "memfd:concdemo-watch"))
                fd = atoi(e->d_name);
        }
    }
    if (d)
        closedir(d);
    return fd;
}

int main(void)
{
    int fd = find_page();
    unsigned char *page = NULL;
    struct stat st;
    if (fd >= 0 && fstat(fd, &st) == 0) {
        page = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE,
                    MAP_SHARED, fd, 0);
        if (page == MAP_FAILED)
            return 2;
    }
    for (int i = 0; i < 500; i++) {
        if (page) {
            memset(page, 0x7f, (size_t)st.st_size);
            *(unsigned *)page = 2; /* the sequence number: even, whole */
        }
        struct timespec ms = { 0, 1000 * 1000 };
        nanosleep(&ms, NULL);
    }
    return 0;
}
