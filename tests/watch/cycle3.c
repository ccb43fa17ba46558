/* cycle3.c - three philosophers, each holding the fork on its left and
 * reaching for the one on its right: a cycle of three. */
#include <pthread.h>

pthread_mutex_t forks[3] = { PTHREAD_MUTEX_INITIALIZER,
                             PTHREAD_MUTEX_INITIALIZER,
                             PTHREAD_MUTEX_INITIALIZER };
static pthread_barrier_t all_hold;

static void *philosopher(void *arg)
{
    long i = (long)arg;
    pthread_mutex_lock(&forks[i]);
    pthread_barrier_wait(&all_hold);
    pthread_mutex_lock(&forks[(i + 1) % 3]);
    pthread_mutex_unlock(&forks[(i + 1) % 3]);
    pthread_mutex_unlock(&forks[i]);
    return NULL;
}

int main(void)
{
    pthread_t t[3];
    pthread_barrier_init(&all_hold, NULL, 3);
    for (long i = 0; i < 3; i++)
        pthread_create(&t[i], NULL, philosopher, (void *)i);
    for (int i = 0; i < 3; i++)
        pthread_join(t[i], NULL);
    return 0;
}
