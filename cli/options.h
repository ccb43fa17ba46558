/*
 * options.h - the options of the commands that run a scenario, parsed
 * from one table.
 *
 * Each option is one row of cd_run_options: its name, whether it takes a
 * value, the kind of value (a flag, a whole number in a range, one of the
 * scenario's sizes, a decimal scale, a string, one of a few words, or a
 * setter of its own), the field of cd_runargs_t it fills, the commands
 * that take it, and its help text. One function parses a word of the
 * command line against the table, so every command that takes these
 * options takes "--flag value" and "--flag=value" alike and says the same
 * thing about a missing value, a bad number or a value the flag does not
 * take. Nothing here prints: errors are one line in the caller's buffer.
 */
#ifndef CD_OPTIONS_H
#define CD_OPTIONS_H

#include <stddef.h>
#include <stdio.h>

#include "../demos/scenario.h"
#include "../lib/cd_sched.h"

/* The commands that share the table (bits of cd_opt_t.commands). */
enum cd_opt_command {
    CD_OPT_RUN,     /* concdemo SCENARIO */
    CD_OPT_EXPLORE, /* concdemo explore SCENARIO */
    CD_OPT_CHECK,   /* concdemo check EXERCISE: its one controlled run */
    CD_OPT_NCOMMANDS
};
#define CD_OPT_FOR(cmd) (1u << (cmd))

typedef enum cd_opt_kind {
    CD_OPT_FLAG,   /* no value: the int field becomes 1 */
    CD_OPT_INT,    /* a whole number in lo..hi */
    CD_OPT_SIZE,   /* a whole number in the scenario's range for `size` */
    CD_OPT_SCALE,  /* a plain decimal in lo..hi, kept in thousandths */
    CD_OPT_STRING, /* any word but an empty one */
    CD_OPT_ENUM,   /* one of `choices`: the field gets its value */
    CD_OPT_CUSTOM, /* `set` reads the value */
    CD_OPT_DOC     /* a help line only; never matches a word */
} cd_opt_kind_t;

typedef enum cd_opt_arity {
    CD_OPT_NO_VALUE, /* --json; "--json=x" is an error */
    CD_OPT_VALUE,    /* --threads N or --threads=N */
    CD_OPT_EQ_VALUE  /* --fixed or --fixed=HOW: only "=" gives a value */
} cd_opt_arity_t;

/* What --view asked for. */
enum cd_view_mode { CD_VIEW_OFF, CD_VIEW_TTY, CD_VIEW_TEXT };

/* Everything the options fill. The caller sets `scenario` and the fields'
 * defaults first; an option not given leaves its field as it was. */
typedef struct cd_runargs {
    const cd_scenario_t *scenario; /* ranges and fixes; NULL: sizes are
                                      checked as numbers only (a command
                                      that does not know the scenario) */
    int variant;                   /* --fixed[=HOW] */
    cd_params_t params;            /* --threads, --workers, --iterations */
    int timeout_ms;                /* --timeout */
    int latency_permille;          /* --latency-scale, in thousandths */
    int max_steps;                 /* --max-steps */
    int has_sched;                 /* --sched was given ... */
    cd_sched_cfg_t sched;          /* ... and parsed: cd_runargs_free */
    const char *save_path;         /* --save-schedule (points into argv) */
    int trace, json;               /* --trace, --json */
    const char *timeline_path;     /* --timeline F: the run's SVG */
    const char *trace_out_path;    /* --trace-out F: trace-event JSON */
    int spurious;                  /* --spurious (controlled runs) */
    int view;                      /* --view[=text]: enum cd_view_mode */
    int strategy;                  /* explore: --strategy (CD_SCHED_*) */
    int runs, budget_s, seed, depth, bound; /* explore */
} cd_runargs_t;

typedef struct cd_opt_choice {
    const char *name;
    int value;
} cd_opt_choice_t;

typedef struct cd_opt cd_opt_t;
struct cd_opt {
    const char *name;      /* "--threads" */
    cd_opt_kind_t kind;
    cd_opt_arity_t arity;
    unsigned commands;     /* CD_OPT_FOR(CD_OPT_RUN) | ... */
    size_t field;          /* offsetof(cd_runargs_t, ...) */
    long lo, hi;           /* INT, SCALE: the range */
    size_t size;           /* SIZE: offsetof(cd_params_t, ...) of the
                              scenario's min and max */
    const char *what;      /* STRING: "file name" ("needs a file name");
                              ENUM: "strategy" ("unknown strategy 'x'") */
    const cd_opt_choice_t *choices; /* ENUM: ends with a NULL name */
    /* CUSTOM: reads value ("" when a VALUE option's value is missing,
     * NULL when an EQ_VALUE option has none). 0, or -1 with one line in
     * err. */
    int (*set)(const cd_opt_t *o, cd_runargs_t *a, const char *value,
               char *err, size_t errlen);
    /* SIZE: the line for a scenario whose max for this size is 0. */
    void (*refuse)(const cd_opt_t *o, const cd_scenario_t *s, char *err,
                   size_t errlen);
    /* Per command that does not take it: why ("%s" is the name); a
     * command without a line here calls it an unknown option. */
    const char *elsewhere[CD_OPT_NCOMMANDS];
    const char *arg;       /* help: what follows the name (" N", "[=HOW]") */
    const char *help;      /* help: lines separated by '\n' */
};

/* The table; it ends with a row whose name is NULL. */
extern const cd_opt_t cd_run_options[];
/* --strategy's words, ending with a NULL name. */
extern const cd_opt_choice_t cd_opt_strategies[];

/* Parses the option at argv[*i] for command cmd (enum cd_opt_command)
 * into a. Its value comes from the same word ("--flag=V") or the next
 * ("--flag V", and *i moves past it); a next word that starts with "--"
 * is not taken as a value. Returns 1 when the word was an option of cmd,
 * 0 when it is no option in the table (the caller says what it is), -1
 * with one line in err (no "concdemo: ", no newline) when it is malformed
 * or not cmd's. Calling it again for the same option replaces the value. */
int cd_opt_parse(cd_runargs_t *a, int cmd, int argc, char **argv, int *i,
                 char *err, size_t errlen);

/* Reads text as a whole number in lo..hi for flag into *out: 0, or -1
 * with one line in err ("--threads: 'x' is not a whole number", "--threads
 * must be between 1 and 256 (got 0)"). Digits only, after an optional
 * minus: " 3", "+3" and "1e3" are refused. For commands with options of
 * their own (bench). */
int cd_opt_parse_int(const char *flag, const char *text, long lo, long hi,
                     int *out, char *err, size_t errlen);
/* Frees what parsing allocated (a replayed schedule). a stays usable. */
void cd_runargs_free(cd_runargs_t *a);

/* The name of --strategy's value v ("pct"), or NULL. */
const char *cd_opt_strategy_name(int v);

/* Writes the help lines of cmd's options ("  --threads N     worker
 * threads ...") to out, in the table's order. */
void cd_opt_help(FILE *out, int cmd);

#endif /* CD_OPTIONS_H */
