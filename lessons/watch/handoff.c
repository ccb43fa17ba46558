/* handoff.c - main hands a print job to a worker thread, as a textbook
 * might write it. It hangs on every run: the signal is lost.
 *
 * Lesson 23 (lessons/23-watch.md). From the top of the repository:
 *   cc -g -pthread -o build/handoff lessons/watch/handoff.c
 *   build/concdemo watch -- build/handoff
 * handoff_fixed.c is the same program with the fix (lines marked FIX).
 */
#include <pthread.h>
#include <stdio.h>

pthread_mutex_t job_lock = PTHREAD_MUTEX_INITIALIZER;
pthread_cond_t job_posted = PTHREAD_COND_INITIALIZER;
static char job[64]; /* the job to print; job_lock guards it */

static void *worker(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&job_lock);
    pthread_cond_wait(&job_posted, &job_lock); /* BUG: waits for an event */
    printf("worker: printing %s\n", job);
    pthread_mutex_unlock(&job_lock);
    return NULL;
}

int main(void)
{
    pthread_t t;
    /* main holds the lock from the start, so that the worker can never
     * read half a job. */
    pthread_mutex_lock(&job_lock);
    pthread_create(&t, NULL, worker, NULL);
    snprintf(job, sizeof job, "report.pdf");
    pthread_cond_signal(&job_posted); /* BUG: nobody waits yet */
    pthread_mutex_unlock(&job_lock);
    pthread_join(t, NULL);
    puts("main: done");
    return 0;
}
