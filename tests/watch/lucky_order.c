/* lucky_order.c - two threads take the same two locks in opposite orders,
 * but one after the other: this run ends, another could deadlock. */
#include <pthread.h>

pthread_mutex_t accounts = PTHREAD_MUTEX_INITIALIZER;
pthread_mutex_t audit = PTHREAD_MUTEX_INITIALIZER;

static void *transfer(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&accounts);
    pthread_mutex_lock(&audit);
    pthread_mutex_unlock(&audit);
    pthread_mutex_unlock(&accounts);
    return NULL;
}

static void *report(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&audit);
    pthread_mutex_lock(&accounts);
    pthread_mutex_unlock(&accounts);
    pthread_mutex_unlock(&audit);
    return NULL;
}

int main(void)
{
    pthread_t a, b;
    pthread_create(&a, NULL, transfer, NULL);
    pthread_join(a, NULL);
    pthread_create(&b, NULL, report, NULL);
    pthread_join(b, NULL);
    return 0;
}
