/*
 * Hostile: allocates 20 GiB 1 MiB at a time, writing each piece, so that
 * no single allocation looks large - in a thread of its own, while the
 * stages run; the program does not end before that thread is done.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "exercises/race.c"

static char *volatile hoard; /* kept where the compiler cannot drop it */
static pthread_t hogger;

static void *hog(void *arg)
{
    (void)arg;
    for (int i = 0; i < 20 * 1024; i++) {
        hoard = malloc((size_t)1 << 20);
        if (hoard)
            memset(hoard, 1, (size_t)1 << 20);
    }
    return NULL;
}

__attribute__((constructor)) static void start_hog(void)
{
    pthread_create(&hogger, NULL, hog, NULL);
}

__attribute__((destructor)) static void wait_for_hog(void)
{
    pthread_join(hogger, NULL);
}
