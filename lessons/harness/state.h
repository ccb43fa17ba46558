/*
 * state.h - the create and destroy of a learner's state, written once.
 *
 * Most exercises hand the learner's file one object of its own (struct
 * shop, struct bank, ...): the harness only passes it around by pointer,
 * so only that file knows its size and can allocate it. What its create
 * and destroy do is the same in every exercise - a zeroed struct with its
 * count set, then the learner's set-up; the learner's clean-up, then
 * free - so the learner's file names its two functions of set-up and
 * clean-up here instead of writing them out again:
 *
 *   EX_STATE(shop, ncustomers, shop_locks_init, shop_locks_destroy)
 *
 * defines, in the learner's file (no semicolon after it):
 *
 *   shop_t *shop_create(int ncustomers): a zeroed struct shop with its
 *       ncustomers set, handed to shop_locks_init(s), which returns 0 or
 *       -1; NULL when calloc or shop_locks_init() fails (then nothing is
 *       left allocated: shop_locks_init() frees what it made on failure).
 *   void shop_destroy(shop_t *s): shop_locks_destroy(s), then free(s).
 *
 * The two are the ones lessons/harness/NAME.h lists as the learner's
 * (its EX_STATE_DECLARE, below, declares them), so they are compiled
 * with the learner's file, not with the harness.
 */
#ifndef EX_STATE_H
#define EX_STATE_H

#include <stdlib.h>

#define EX_STATE(type_, count_, init_, destroy_)                          \
    type_##_t *type_##_create(int count_)                                 \
    {                                                                     \
        type_##_t *self_ = calloc(1, sizeof *self_);                      \
        if (self_)                                                        \
            self_->count_ = count_;                                       \
        if (self_ && init_(self_) != 0) {                                 \
            free(self_);                                                  \
            self_ = NULL;                                                 \
        }                                                                 \
        return self_;                                                     \
    }                                                                     \
                                                                          \
    void type_##_destroy(type_##_t *self_)                                \
    {                                                                     \
        destroy_(self_);                                                  \
        free(self_);                                                      \
    }

/* The prototypes of the two that EX_STATE(type_, count_, ...) defines,
 * for the exercise's interface (NAME.h):
 *   type_##_t *type_##_create(int count_);
 *   void type_##_destroy(type_##_t *); */
#define EX_STATE_DECLARE(type_, count_)                                   \
    type_##_t *type_##_create(int count_);                                \
    void type_##_destroy(type_##_t *self_)

#endif /* EX_STATE_H */
