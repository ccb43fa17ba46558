/*
 * cd_ctx.c - the coroutine switch of cd_ctx.h: a few instructions on
 * x86-64, ucontext elsewhere.
 */
#define _GNU_SOURCE /* makecontext and friends, MAP_ANONYMOUS, MAP_STACK */

#include "cd_ctx.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cd_common.h"

/* ================================ stacks ================================ */

static size_t page_bytes(void)
{
    long n = sysconf(_SC_PAGESIZE);
    return n > 0 ? (size_t)n : 4096;
}

void *cd__ctx_stack_new(size_t bytes)
{
    size_t guard = page_bytes();
    char *p = mmap(NULL, bytes + guard, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    if (mprotect(p, guard, PROT_NONE) != 0) {
        munmap(p, bytes + guard);
        return NULL;
    }
    return p + guard;
}

void cd__ctx_stack_free(void *stack, size_t bytes)
{
    size_t guard = page_bytes();
    CD_CHECK(munmap((char *)stack - guard, bytes + guard));
}

/* ============================== switching =============================== */

#ifdef CD__CTX_ASM

/*
 * cd__ctx_swap(save_sp, load_sp): pushes the callee-saved registers and
 * the two control words on the running stack, stores the stack pointer in
 * *save_sp, loads load_sp and pops what an earlier swap (or cd__ctx_make)
 * left there. Its `ret` returns into whoever swapped out from that stack,
 * or, the first time, into the context's function. Every other register
 * is the caller's to save: to the compiler this is a plain call.
 */
__asm__(".text\n"
        ".p2align 4\n"
        ".globl cd__ctx_swap\n"
        ".hidden cd__ctx_swap\n"
        ".type cd__ctx_swap, @function\n"
        "cd__ctx_swap:\n"
        "    pushq %rbp\n"
        "    pushq %rbx\n"
        "    pushq %r12\n"
        "    pushq %r13\n"
        "    pushq %r14\n"
        "    pushq %r15\n"
        "    subq $8, %rsp\n"
        "    stmxcsr (%rsp)\n"
        "    fnstcw 4(%rsp)\n"
        "    movq %rsp, (%rdi)\n"
        "    movq %rsi, %rsp\n"
        "    ldmxcsr (%rsp)\n"
        "    fldcw 4(%rsp)\n"
        "    addq $8, %rsp\n"
        "    popq %r15\n"
        "    popq %r14\n"
        "    popq %r13\n"
        "    popq %r12\n"
        "    popq %rbx\n"
        "    popq %rbp\n"
        "    ret\n"
        ".size cd__ctx_swap, .-cd__ctx_swap\n");

void cd__ctx_swap(void **save_sp, void *load_sp);

/* The words cd__ctx_swap pops, from the lowest address: the control words
 * (MXCSR, then the x87 control word), r15, r14, r13, r12, rbx, rbp; then
 * the address its `ret` goes to, and the return address fn itself was
 * "called" with (none: fn never returns). */
enum { SAVED_WORDS = 7, FRAME_WORDS = SAVED_WORDS + 2 };

void cd__ctx_make(cd__ctx_t *ctx, void *stack, size_t size, void (*fn)(void))
{
    /* At fn's first instruction the stack must be as after a call: its
     * pointer 8 past a multiple of 16. */
    uintptr_t top = ((uintptr_t)stack + size) & ~(uintptr_t)15;
    void **sp = (void **)top - FRAME_WORDS;
    uint32_t csr[2];
    uint16_t fcw;

    /* The new context starts with the creator's rounding and exception
     * masks, as makecontext's (taken by getcontext) did. */
    __asm__ volatile("stmxcsr %0" : "=m"(csr[0]));
    __asm__ volatile("fnstcw %0" : "=m"(fcw));
    csr[1] = fcw;
    for (int i = 1; i < SAVED_WORDS; i++)
        sp[i] = NULL;
    memcpy(&sp[0], csr, sizeof csr);
    sp[SAVED_WORDS] = (void *)fn;
    sp[SAVED_WORDS + 1] = NULL;
    ctx->sp = sp;
}

void cd__ctx_switch(cd__ctx_t *from, const cd__ctx_t *to)
{
    cd__ctx_swap(&from->sp, to->sp);
}

#else /* ucontext */

void cd__ctx_make(cd__ctx_t *ctx, void *stack, size_t size, void (*fn)(void))
{
    if (getcontext(&ctx->uc) != 0)
        cd__check_failed("getcontext", errno, __FILE__, __LINE__);
    ctx->uc.uc_stack.ss_sp = stack;
    ctx->uc.uc_stack.ss_size = size;
    ctx->uc.uc_link = NULL; /* fn never returns */
    makecontext(&ctx->uc, fn, 0);
}

/* getcontext returns twice (the second time when resumed), which the
 * volatile flag tells apart. Out of line, so that no caller's locals live
 * across the double return (-Wclobbered). */
__attribute__((noinline)) void cd__ctx_switch(cd__ctx_t *from,
                                              const cd__ctx_t *to)
{
    volatile int resumed = 0;
    if (getcontext(&from->uc) != 0)
        cd__check_failed("getcontext", errno, __FILE__, __LINE__);
    if (!resumed) {
        resumed = 1;
        setcontext(&to->uc);
        cd__check_failed("setcontext", errno, __FILE__, __LINE__);
    }
}

#endif
