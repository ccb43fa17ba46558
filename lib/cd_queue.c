/*
 * cd_queue.c - the FIFO of waiters (see cd_queue.h).
 */
#include "cd_queue.h"

void cd_queue_init(cd_queue_t *q)
{
    q->head = q->tail = NULL;
}

void cd_queue_push(cd_queue_t *q, cd_qnode_t *n)
{
    n->next = NULL;
    if (q->tail)
        q->tail->next = n;
    else
        q->head = n;
    q->tail = n;
}

cd_qnode_t *cd_queue_front(const cd_queue_t *q)
{
    return q->head;
}

cd_qnode_t *cd_queue_pop(cd_queue_t *q)
{
    cd_qnode_t *n = q->head;
    if (n) {
        q->head = n->next;
        if (!q->head)
            q->tail = NULL;
        n->next = NULL;
    }
    return n;
}

/* Linear: a queue holds the few threads or tasks of one demo, and only an
 * aborted waiter leaves from the middle. */
void cd_queue_remove(cd_queue_t *q, cd_qnode_t *n)
{
    cd_qnode_t **p = &q->head, *prev = NULL;
    while (*p && *p != n) {
        prev = *p;
        p = &(*p)->next;
    }
    if (!*p)
        return;
    *p = n->next;
    if (q->tail == n)
        q->tail = prev;
    n->next = NULL;
}
