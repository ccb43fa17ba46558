/*
 * cd_queue.h - the FIFO of waiters that a fair primitive keeps.
 *
 * Intrusive and allocation-free: a waiter embeds a cd_qnode_t and lives
 * on its own stack while it waits, so queueing can never fail and an
 * aborted waiter can take itself out. The queue has no lock of its own;
 * the primitive that owns it guards it.
 */
#ifndef CD_QUEUE_H
#define CD_QUEUE_H

#include <stddef.h>

typedef struct cd_qnode {
    struct cd_qnode *next;
} cd_qnode_t;

typedef struct cd_queue {
    cd_qnode_t *head, *tail;
} cd_queue_t;

/* The struct of type T whose cd_qnode_t member is called field, from a
 * pointer to that member (NULL stays NULL; node is evaluated once). */
#define CD_QUEUE_ENTRY(node, T, field) \
    ((T *)cd__queue_entry((node), offsetof(T, field)))

static inline void *cd__queue_entry(cd_qnode_t *node, size_t offset)
{
    return node ? (void *)((char *)node - offset) : NULL;
}

/* Makes q empty. */
void cd_queue_init(cd_queue_t *q);

/* Appends n at the back; n must not be in any queue. */
void cd_queue_push(cd_queue_t *q, cd_qnode_t *n);

/* The node at the front, still queued; NULL when q is empty. */
cd_qnode_t *cd_queue_front(const cd_queue_t *q);

/* Takes the front node out and returns it; NULL when q is empty. */
cd_qnode_t *cd_queue_pop(cd_queue_t *q);

/* Takes n out wherever it is; nothing if n is not in q. */
void cd_queue_remove(cd_queue_t *q, cd_qnode_t *n);

#endif /* CD_QUEUE_H */
