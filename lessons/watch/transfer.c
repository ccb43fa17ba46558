/* transfer.c - two clerks move money between two accounts at once, each
 * locking the account it takes from first. The exercise of lesson 23
 * (lessons/23-watch.md): watch it, fix it, watch it again.
 *
 * From the top of the repository:
 *   cc -g -pthread -o build/transfer lessons/watch/transfer.c
 *   build/concdemo watch -- build/transfer
 * The ledger is slow (a sleep with both locks wanted), which makes the bad
 * timing all but certain; on a run that gets lucky, watch still reports
 * the two opposite orders.
 */
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

typedef struct account {
    pthread_mutex_t lock;
    long balance; /* cents; lock guards it */
} account_t;

account_t savings = { PTHREAD_MUTEX_INITIALIZER, 50000 };
account_t checking = { PTHREAD_MUTEX_INITIALIZER, 20000 };

/* Moves cents from one account to the other. */
static void transfer(account_t *from, account_t *to, long cents)
{
    pthread_mutex_lock(&from->lock);
    usleep(100 * 1000); /* the ledger is slow */
    pthread_mutex_lock(&to->lock);
    from->balance -= cents;
    to->balance += cents;
    pthread_mutex_unlock(&to->lock);
    pthread_mutex_unlock(&from->lock);
}

static void *pay_rent(void *arg)
{
    (void)arg;
    transfer(&savings, &checking, 12000);
    return NULL;
}

static void *save_change(void *arg)
{
    (void)arg;
    transfer(&checking, &savings, 500);
    return NULL;
}

int main(void)
{
    pthread_t a, b;
    pthread_create(&a, NULL, pay_rent, NULL);
    pthread_create(&b, NULL, save_change, NULL);
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    printf("savings %ld.%02ld, checking %ld.%02ld\n", savings.balance / 100,
           savings.balance % 100, checking.balance / 100,
           checking.balance % 100);
    return 0;
}
