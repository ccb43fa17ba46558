/* unlock_unheld.c - a thread unlocks a mutex it never locked. */
#include <pthread.h>

pthread_mutex_t stats_lock = PTHREAD_MUTEX_INITIALIZER;
long hits;

static void *counter(void *arg)
{
    (void)arg;
    hits++;
    pthread_mutex_unlock(&stats_lock);
    return NULL;
}

int main(void)
{
    pthread_t t;
    pthread_create(&t, NULL, counter, NULL);
    pthread_join(t, NULL);
    return 0;
}
