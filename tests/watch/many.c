/* many.c - 1,000 threads, 100 lock operations each on shared counters:
 * more threads than concdemo's registry holds; it must finish clean. */
#include <pthread.h>
#include <stdio.h>

#define THREADS 1000
#define OPS 100

static pthread_mutex_t locks[8] = {
    PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER,
    PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER,
    PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER,
    PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER };
static long counts[8];

static void *work(void *arg)
{
    long id = (long)arg;
    for (int i = 0; i < OPS; i++) {
        int k = (int)((id + i) % 8);
        pthread_mutex_lock(&locks[k]);
        counts[k]++;
        pthread_mutex_unlock(&locks[k]);
    }
    return NULL;
}

int main(void)
{
    static pthread_t t[THREADS];
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 64 * 1024);
    for (long i = 0; i < THREADS; i++)
        if (pthread_create(&t[i], &attr, work, (void *)i) != 0)
            return 2;
    long total = 0;
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    for (int k = 0; k < 8; k++)
        total += counts[k];
    printf("%ld\n", total);
    return total == (long)THREADS * OPS ? 0 : 3;
}
