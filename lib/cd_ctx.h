/*
 * cd_ctx.h - INTERNAL: a coroutine's saved machine context, and the switch
 * from one to another (the executor's tasks, cd_exec.c).
 *
 * Why not ucontext alone: getcontext and setcontext each save or restore
 * the signal mask with a system call, and a task switch made of the two
 * was 43-49% of the CPU time of exploring await and stampede on the
 * project's machine. Tasks never change the signal mask, so on x86-64 a
 * switch saves only what the calling convention says a call preserves
 * (the callee-saved registers, the stack pointer, the SSE and x87 control
 * words) and makes no system call. Elsewhere it is ucontext, as before.
 *
 * The sanitizers' fiber annotations stay with the caller (cd_exec.c):
 * this module only moves the machine from one stack to another.
 */
#ifndef CD_CTX_H
#define CD_CTX_H

#include <stddef.h>

#if defined(__x86_64__)
#define CD__CTX_ASM 1
typedef struct cd__ctx {
    void *sp; /* where the switch left the registers it saved */
} cd__ctx_t;
#else
#include <ucontext.h>
typedef struct cd__ctx {
    ucontext_t uc;
} cd__ctx_t;
#endif

/* Prepares ctx to run fn() on the stack [stack, stack + size) the first
 * time something switches to it. fn must never return: it leaves by a
 * switch to another context, and is not resumed after that one. */
void cd__ctx_make(cd__ctx_t *ctx, void *stack, size_t size, void (*fn)(void));

/* Saves the running context in *from and continues in *to; returns when
 * something switches to *from. */
void cd__ctx_switch(cd__ctx_t *from, const cd__ctx_t *to);

/* A coroutine's stack of `bytes` (a multiple of the page size), with a
 * guard page below it: an overflow faults there instead of silently
 * overwriting whatever lies below. NULL when it cannot be mapped. */
void *cd__ctx_stack_new(size_t bytes);

/* Unmaps a stack of cd__ctx_stack_new, guard page included. */
void cd__ctx_stack_free(void *stack, size_t bytes);

#endif
