/* join_cycle.c - main joins a worker that waits for a signal main would
 * give only after the join. */
#include <pthread.h>
#include <semaphore.h>

static sem_t go;

static void *worker(void *arg)
{
    (void)arg;
    sem_wait(&go);
    return NULL;
}

int main(void)
{
    pthread_t w;
    sem_init(&go, 0, 0);
    pthread_create(&w, NULL, worker, NULL);
    pthread_join(w, NULL);
    sem_post(&go);
    return 0;
}
