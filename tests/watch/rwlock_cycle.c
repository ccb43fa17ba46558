/* rwlock_cycle.c - a writer holds the config's rwlock and wants the log's
 * mutex; a logger holds the mutex and wants to write the config. */
#include <pthread.h>

pthread_rwlock_t config = PTHREAD_RWLOCK_INITIALIZER;
pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_barrier_t both_hold;

static void *reloader(void *arg)
{
    (void)arg;
    pthread_rwlock_wrlock(&config);
    pthread_barrier_wait(&both_hold);
    pthread_mutex_lock(&log_lock);
    pthread_mutex_unlock(&log_lock);
    pthread_rwlock_unlock(&config);
    return NULL;
}

static void *logger(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&log_lock);
    pthread_barrier_wait(&both_hold);
    pthread_rwlock_wrlock(&config);
    pthread_rwlock_unlock(&config);
    pthread_mutex_unlock(&log_lock);
    return NULL;
}

int main(void)
{
    pthread_t a, b;
    pthread_barrier_init(&both_hold, NULL, 2);
    pthread_create(&a, NULL, reloader, NULL);
    pthread_create(&b, NULL, logger, NULL);
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    return 0;
}
