/*
 * exercise.h - what every exercise's harness shares: the scenario that
 * concdemo check runs (cli/exhost.c links it as cd_exercise).
 *
 * An exercise's scenario has one variant, "yours" - the learner's code -
 * and the name of the scenario of demos/ whose pitfall it teaches (the
 * checker refuses a program whose cd_exercise is another's). Title and
 * pitfall are left out: the checker prints neither, and takes the
 * worksheet from that scenario. A harness gives its name, its run
 * function and its sizes:
 *
 *   EX_SCENARIO("race", run, .defaults = { ... }, .min = { ... },
 *               .max = { ... });
 *
 * Its run function is given the run's sizes p and what they ask of the
 * exercise, its plan (cd_ex_plan, cli/ledger.h), made here once for all:
 *
 *   static void run(const cd_params_t *p, const cd_ex_plan_t *plan,
 *                   cd_verdict_t *v);
 */
#ifndef EX_EXERCISE_H
#define EX_EXERCISE_H

#include "scenario.h"
#include "../../cli/ledger.h"

#define EX_SCENARIO(name_, run_, ...)                                      \
    static void ex_run_(const cd_params_t *p_, int variant_,               \
                        cd_verdict_t *v_)                                  \
    {                                                                      \
        cd_ex_plan_t plan_;                                                \
        (void)variant_; /* one variant: "yours" */                         \
        cd_ex_plan((name_), p_, &plan_);                                   \
        run_(p_, &plan_, v_);                                              \
    }                                                                      \
    static const cd_variant_t ex_yours_[] = {                              \
        { "yours", "the learner's code (lessons/exercises/)" },            \
    };                                                                     \
    const cd_scenario_t cd_exercise = { .name = (name_), .run = ex_run_,   \
                                        .variants = ex_yours_,             \
                                        .nvariants = 1, __VA_ARGS__ }

#endif /* EX_EXERCISE_H */
