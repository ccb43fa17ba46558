/* transfer_fixed.c - one answer to the exercise of lesson 23
 * (lessons/23-watch.md): transfer.c with the two locks always taken in the
 * same order, whichever way the money goes (the lines marked FIX).
 *
 * From the top of the repository:
 *   cc -g -pthread -o build/transfer-fixed lessons/watch/transfer_fixed.c
 *   build/concdemo watch -- build/transfer-fixed
 */
#include <pthread.h>
#include <stdint.h>
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
    /* FIX: the account at the lower address first, in every transfer */
    account_t *first = (uintptr_t)from < (uintptr_t)to ? from : to;
    account_t *second = first == from ? to : from;
    pthread_mutex_lock(&first->lock);
    usleep(100 * 1000); /* the ledger is slow */
    pthread_mutex_lock(&second->lock);
    from->balance -= cents;
    to->balance += cents;
    pthread_mutex_unlock(&second->lock);
    pthread_mutex_unlock(&first->lock);
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
