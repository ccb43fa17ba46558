/* watch_loop.c - the program bench/bench_watch.sh times with and without
 * concdemo watch: N uncontended lock+unlock pairs on one thread, beside a
 * second thread that exists but sleeps (a threaded program, as watch sees
 * them). Plain pthreads: it knows nothing of concdemo. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static volatile long counter;

static void *idle(void *arg)
{
    (void)arg;
    return NULL;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 10000000;
    pthread_t t;
    pthread_create(&t, NULL, idle, NULL);
    pthread_join(t, NULL);
    for (long i = 0; i < n; i++) {
        pthread_mutex_lock(&lock);
        counter++;
        pthread_mutex_unlock(&lock);
    }
    printf("%ld\n", counter);
    return counter == n ? 0 : 1;
}
