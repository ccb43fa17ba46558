/* handoff_fixed.c - handoff.c with the fix: the job's state lives in a
 * variable that job_lock guards, and the worker waits only while it says
 * "no job yet". Nothing else changes (the lines marked FIX).
 *
 * Lesson 23 (lessons/23-watch.md). From the top of the repository:
 *   cc -g -pthread -o build/handoff-fixed lessons/watch/handoff_fixed.c
 *   build/concdemo watch -- build/handoff-fixed
 */
#include <pthread.h>
#include <stdio.h>

pthread_mutex_t job_lock = PTHREAD_MUTEX_INITIALIZER;
pthread_cond_t job_posted = PTHREAD_COND_INITIALIZER;
static char job[64]; /* the job to print; job_lock guards it */
static int job_ready; /* FIX: 1 once the job is posted; job_lock guards it */

static void *worker(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&job_lock);
    while (!job_ready) /* FIX: wait for a state, not an event */
        pthread_cond_wait(&job_posted, &job_lock);
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
    job_ready = 1; /* FIX: record it, then signal */
    pthread_cond_signal(&job_posted);
    pthread_mutex_unlock(&job_lock);
    pthread_join(t, NULL);
    puts("main: done");
    return 0;
}
