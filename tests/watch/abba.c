/* abba.c - two threads take two mutexes in opposite orders and wait for
 * each other for ever: the ABBA deadlock, as a textbook shows it. */
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

pthread_mutex_t mutex_A = PTHREAD_MUTEX_INITIALIZER;
pthread_mutex_t mutex_B = PTHREAD_MUTEX_INITIALIZER;
static pthread_barrier_t both_hold;

static void *transfer_ab(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&mutex_A);
    pthread_barrier_wait(&both_hold);
    pthread_mutex_lock(&mutex_B);
    pthread_mutex_unlock(&mutex_B);
    pthread_mutex_unlock(&mutex_A);
    return NULL;
}

static void *transfer_ba(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&mutex_B);
    pthread_barrier_wait(&both_hold);
    pthread_mutex_lock(&mutex_A);
    pthread_mutex_unlock(&mutex_A);
    pthread_mutex_unlock(&mutex_B);
    return NULL;
}

int main(void)
{
    pthread_t a, b;
    pthread_barrier_init(&both_hold, NULL, 2);
    pthread_create(&a, NULL, transfer_ab, NULL);
    pthread_create(&b, NULL, transfer_ba, NULL);
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    puts("done");
    return 0;
}
