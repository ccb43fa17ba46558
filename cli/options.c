/*
 * options.c - the table of run options and the one parser that reads it.
 */
#include "options.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* ================================ messages =============================== */

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

/* Appends to the line in err (a list of fixes, of choices), cut at its
 * end like snprintf. */
static void append(char *err, size_t errlen, const char *fmt, ...)
{
    size_t used = strlen(err);
    if (used + 1 >= errlen)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err + used, errlen - used, fmt, ap);
    va_end(ap);
}

/* ================================ numbers ================================ */

/* Digits only, after an optional minus: strtol alone would also take
 * " 3", "+3" and "-0", which are not what anyone means by a count. */
static int is_whole_number(const char *text)
{
    const char *d = text[0] == '-' ? text + 1 : text;
    return *d && strspn(d, "0123456789") == strlen(d);
}

int cd_opt_parse_int(const char *flag, const char *text, long lo, long hi,
                     int *out, char *err, size_t errlen)
{
    if (!*text)
        return fail(err, errlen, "%s needs a number", flag);
    if (!is_whole_number(text))
        return fail(err, errlen, "%s: '%s' is not a whole number", flag,
                    text);
    errno = 0;
    long v = strtol(text, NULL, 10);
    /* Every range here is >= 0, so any minus ("-0" too) is out of it. */
    if ((errno == ERANGE || text[0] == '-' || v < lo || v > hi) &&
        lo == 0 && hi == INT_MAX) /* no range but the type's: say none */
        return fail(err, errlen, "%s must be a whole number (got %s)", flag,
                    text);
    if (errno == ERANGE || text[0] == '-' || v < lo || v > hi)
        return fail(err, errlen, "%s must be between %ld and %ld (got %s)",
                    flag, lo, hi, text);
    *out = (int)v;
    return 0;
}

/* Plain decimals ("2", "0.5", ".25"): what the help and the replay
 * commands write. strtod would also take "1e1", "0x10", "inf" and "-0". */
static int is_plain_decimal(const char *text)
{
    size_t whole = strspn(text, "0123456789");
    const char *rest = text + whole;
    if (*rest == '.')
        rest++;
    size_t frac = strspn(rest, "0123456789");
    return whole + frac > 0 && rest[frac] == '\0';
}

static int parse_scale(const char *flag, const char *text, long lo, long hi,
                       int *permille, char *err, size_t errlen)
{
    if (!*text)
        return fail(err, errlen, "%s needs a number", flag);
    double v = is_plain_decimal(text) ? strtod(text, NULL) : -1;
    if (v < lo || v > hi)
        return fail(err, errlen, "%s must be a number from %ld to %ld "
                    "(got %s)", flag, lo, hi, text);
    *permille = (int)lround(v * 1000);
    return 0;
}

/* =========================== options of their own ======================== */

static int parse_enum(const cd_opt_t *o, const char *value, int *out,
                      char *err, size_t errlen);

static int set_fixed(const cd_opt_t *o, cd_runargs_t *a, const char *how,
                     char *err, size_t errlen)
{
    const cd_scenario_t *s = a->scenario;
    if (!s)
        return fail(err, errlen, "%s needs a scenario", o->name);
    if (!how) {
        a->variant = s->recommended;
        return 0;
    }
    int v = cd_scenario_variant(s, how);
    if (v <= 0) {
        fail(err, errlen, "%s has no fix called '%s' (fixes:", s->name, how);
        for (int i = 1; i < s->nvariants; i++)
            append(err, errlen, " %s", s->variants[i].name);
        append(err, errlen, ")");
        return -1;
    }
    a->variant = v;
    return 0;
}

static int set_sched(const cd_opt_t *o, cd_runargs_t *a, const char *spec,
                     char *err, size_t errlen)
{
    char why[256];
    cd_sched_cfg_free(&a->sched); /* a second --sched replaces the first */
    a->has_sched = 0;
    if (cd_sched_parse(spec, &a->sched, why, sizeof why) != 0)
        return fail(err, errlen, "%s: %s", o->name, why);
    a->has_sched = 1;
    return 0;
}

static int set_view(const cd_opt_t *o, cd_runargs_t *a, const char *how,
                    char *err, size_t errlen)
{
    if (!how)
        a->view = CD_VIEW_TTY;
    else if (strcmp(how, "text") == 0)
        a->view = CD_VIEW_TEXT;
    else
        return fail(err, errlen, "%s takes no value or =text (got '%s=%s')",
                    o->name, o->name, how);
    return 0;
}

/* --db and --kill-one: only for a scenario of instances (db-race). */
static int instances_only(const cd_opt_t *o, const cd_runargs_t *a,
                          char *err, size_t errlen)
{
    const cd_scenario_t *s = a->scenario;
    if (s && s->max.instances > 0)
        return 0;
    fail(err, errlen, "%s is for a scenario whose instances are processes "
         "(db-race)%s%s", o->name, s ? ", not " : "", s ? s->name : "");
    return -1;
}

static int set_db(const cd_opt_t *o, cd_runargs_t *a, const char *url,
                  char *err, size_t errlen)
{
    if (instances_only(o, a, err, errlen) != 0)
        return -1;
    if (!*url)
        return fail(err, errlen, "%s needs sqlite:PATH or postgresql://...",
                    o->name);
    if (strncmp(url, "sqlite:", 7) != 0 &&
        strncmp(url, "postgresql://", 13) != 0 &&
        strncmp(url, "postgres://", 11) != 0)
        return fail(err, errlen, "%s: '%s' is neither sqlite:PATH nor "
                    "postgresql://...", o->name, url);
    if (strcmp(url, "sqlite:") == 0)
        return fail(err, errlen, "%s: sqlite: needs a file name", o->name);
    a->params.db = url;
    return 0;
}

static int set_kill_one(const cd_opt_t *o, cd_runargs_t *a, const char *v,
                        char *err, size_t errlen)
{
    (void)v;
    if (instances_only(o, a, err, errlen) != 0)
        return -1;
    a->params.kill_one = 1;
    return 0;
}

/* --serve and --slow-policy: only for a scenario with a server (chat). */
static int serves_only(const cd_opt_t *o, const cd_runargs_t *a, char *err,
                       size_t errlen)
{
    const cd_scenario_t *s = a->scenario;
    if (s && s->serves)
        return 0;
    int n;
    const cd_scenario_t *const *all = cd_scenarios(&n);
    fail(err, errlen, "%s is for a scenario with a server (", o->name);
    for (int i = 0, k = 0; i < n; i++)
        if (all[i]->serves)
            append(err, errlen, "%s%s", k++ ? ", " : "", all[i]->name);
    append(err, errlen, ")%s%s", s ? ", not " : "", s ? s->name : "");
    return -1;
}

static const cd_opt_choice_t slow_policies[] = {
    { "drop", CD_SLOW_DROP }, { "disconnect", CD_SLOW_DISCONNECT },
    { NULL, 0 },
};

static int set_slow_policy(const cd_opt_t *o, cd_runargs_t *a,
                           const char *how, char *err, size_t errlen)
{
    if (serves_only(o, a, err, errlen) != 0)
        return -1;
    const cd_opt_t as_enum = { .name = o->name, .what = "policy",
                               .choices = slow_policies };
    return parse_enum(&as_enum, how, &a->params.slow_policy, err, errlen);
}

/* --serve [PORT]: without a port, the kernel picks a free one. */
static int set_serve(const cd_opt_t *o, cd_runargs_t *a, const char *port,
                     char *err, size_t errlen)
{
    if (serves_only(o, a, err, errlen) != 0)
        return -1;
    a->params.serve = 1;
    a->params.serve_port = 0;
    if (!port || !*port)
        return 0;
    return cd_opt_parse_int(o->name, port, 0, 65535, &a->params.serve_port,
                            err, errlen);
}

/* A scenario that takes neither size: its threads are the story's (a
 * runner and its worker), so neither option has anything to set. */
static int refuse_either(const cd_opt_t *o, const cd_scenario_t *s,
                         char *err, size_t errlen)
{
    if (s->max.threads > 0 || s->max.workers > 0)
        return 0;
    if (s->max.instances > 0) {
        fail(err, errlen, "%s runs processes, not threads: use --instances "
             "N (%d..%d) instead of %s", s->name, s->min.instances,
             s->max.instances, o->name);
        return 1;
    }
    fail(err, errlen, "%s takes no %s: its threads are set by the story "
         "(see concdemo help %s)", s->name, o->name, s->name);
    return 1;
}

/* --threads for a scenario of tasks only, --workers for one without an
 * executor: one line that says what to use instead. */
static void refuse_threads(const cd_opt_t *o, const cd_scenario_t *s,
                           char *err, size_t errlen)
{
    if (refuse_either(o, s, err, errlen))
        return;
    fail(err, errlen, "%s runs async tasks, not threads: use --workers N "
         "(%d..%d) instead of %s", s->name, s->min.workers, s->max.workers,
         o->name);
}

static void refuse_workers(const cd_opt_t *o, const cd_scenario_t *s,
                           char *err, size_t errlen)
{
    int n;
    const cd_scenario_t *const *all = cd_scenarios(&n);
    if (refuse_either(o, s, err, errlen))
        return;
    fail(err, errlen, "%s runs threads, not async tasks: %s is for", s->name,
         o->name);
    for (int i = 0, k = 0; i < n; i++)
        if (all[i]->max.workers > 0)
            append(err, errlen, "%s %s", k++ ? "," : "", all[i]->name);
    append(err, errlen, " (use --threads N)");
}

/* ================================= the table ============================= */

const cd_opt_choice_t cd_opt_strategies[] = {
    { "pct", CD_SCHED_PCT }, { "random", CD_SCHED_RANDOM },
    { "dfs", CD_SCHED_DFS }, { NULL, 0 },
};

#define RUN CD_OPT_FOR(CD_OPT_RUN)
#define EXPLORE CD_OPT_FOR(CD_OPT_EXPLORE)
#define CHECK CD_OPT_FOR(CD_OPT_CHECK) /* one controlled run of an exercise */
#define FIELD(f) offsetof(cd_runargs_t, f)
#define SIZE_OF(f) offsetof(cd_params_t, f)
/* Why explore refuses an option of single runs, and a run explore's. */
#define SINGLE_RUNS(why) .elsewhere = { [CD_OPT_EXPLORE] = why }
#define EXPLORE_ONLY                                                         \
    .elsewhere = {                                                           \
        [CD_OPT_RUN] = "%s is for concdemo explore (see concdemo explore "   \
                       "--help)",                                            \
        [CD_OPT_CHECK] = "%s is for concdemo explore (see concdemo explore " \
                         "--help)",                                          \
    }
/* A number of concdemo explore's, lo..hi, into runargs' field. */
#define EXPLORE_INT(name_, field_, lo_, hi_, arg_)                           \
    { .name = (name_), .kind = CD_OPT_INT, .arity = CD_OPT_VALUE,           \
      .commands = EXPLORE, .field = FIELD(field_), .lo = (lo_),             \
      .hi = (hi_), EXPLORE_ONLY, .arg = (arg_) }
#define SCHEDULES_ITSELF "explore chooses the schedules itself; %s is for " \
                         "single runs"

const cd_opt_t cd_run_options[] = {
    { .name = "--fixed", .kind = CD_OPT_CUSTOM, .arity = CD_OPT_EQ_VALUE,
      .commands = RUN | EXPLORE, .set = set_fixed, .arg = "[=HOW]",
      .help = "run a fixed variant (plain --fixed: the recommended fix)" },
    { .name = "--threads", .kind = CD_OPT_SIZE, .arity = CD_OPT_VALUE,
      .commands = RUN | EXPLORE | CHECK, .field = FIELD(params.threads),
      .size = SIZE_OF(threads), .refuse = refuse_threads, .arg = " N",
      .help = "worker threads (range per scenario: concdemo help SCENARIO)" },
    { .name = "--workers", .kind = CD_OPT_SIZE, .arity = CD_OPT_VALUE,
      .commands = RUN | EXPLORE | CHECK, .field = FIELD(params.workers),
      .size = SIZE_OF(workers), .refuse = refuse_workers, .arg = " N",
      .help = "worker threads of the async executor, for scenarios\n"
              "that run tasks (await, async-race, stampede, webhook,\n"
              "inventory, chat, orphans, offload); tasks stay\n"
              "on one worker, spread round-robin or as the\n"
              "scenario routes them" },
    { .name = "--instances", .kind = CD_OPT_SIZE, .arity = CD_OPT_VALUE,
      .commands = RUN, .field = FIELD(params.instances),
      .size = SIZE_OF(instances), .arg = " N",
      .help = "service instances, each a process (db-race)" },
    { .name = "--db", .kind = CD_OPT_CUSTOM, .arity = CD_OPT_VALUE,
      .commands = RUN, .set = set_db, .arg = " URL",
      .help = "db-race's database: sqlite:PATH (kept afterwards) or\n"
              "postgresql://... (default: a temporary SQLite file)" },
    { .name = "--kill-one", .kind = CD_OPT_CUSTOM, .arity = CD_OPT_NO_VALUE,
      .commands = RUN, .set = set_kill_one,
      .help = "db-race: SIGKILL one instance inside a checkout" },
    { .name = "--serve", .kind = CD_OPT_CUSTOM, .arity = CD_OPT_VALUE,
      .commands = RUN, .set = set_serve,
      SINGLE_RUNS("explore runs many schedules and serves nobody; %s is "
                  "for single runs"),
      .arg = " [PORT]",
      .help = "chat: keep a real server up on 127.0.0.1 (PORT, or one\n"
              "the kernel picks) until Ctrl-C; connect with nc" },
    { .name = "--slow-policy", .kind = CD_OPT_CUSTOM, .arity = CD_OPT_VALUE,
      .commands = RUN | EXPLORE, .set = set_slow_policy,
      .arg = " drop|disconnect",
      .help = "chat --fixed=outbox: a client that reads too slowly\n"
              "loses its oldest messages (drop, the default) or is\n"
              "also hung up on after 16 (disconnect)" },
    { .name = "--iterations", .kind = CD_OPT_SIZE, .arity = CD_OPT_VALUE,
      .commands = RUN | EXPLORE | CHECK, .field = FIELD(params.iterations),
      .size = SIZE_OF(iterations), .arg = " N",
      .help = "work items per run (orders, transfers, ...)" },
    { .name = "--memory-budget", .kind = CD_OPT_SIZE, .arity = CD_OPT_VALUE,
      .commands = RUN | EXPLORE, .field = FIELD(params.budget_kib),
      .size = SIZE_OF(budget_kib), .arg = " KIB",
      .help = "backpressure: the memory the log queue may use, in KiB\n"
              "(default 1024; explore: 96)" },
    { .name = "--timeout", .kind = CD_OPT_INT, .arity = CD_OPT_VALUE,
      .commands = RUN | EXPLORE, .field = FIELD(timeout_ms),
      .lo = 100, .hi = 600000, .arg = " MS",
      .help = "hard limit for the run, 100..600000 (default 10000)" },
    { .name = "--latency-scale", .kind = CD_OPT_SCALE, .arity = CD_OPT_VALUE,
      .commands = RUN | EXPLORE, .field = FIELD(latency_permille),
      .lo = 0, .hi = 100, .arg = " F",
      .help = "multiply simulated latencies by F, 0..100 (default 1;\n"
              "0 closes the race windows: bugs hide, detectors don't)" },
    { .name = "--sched", .kind = CD_OPT_CUSTOM, .arity = CD_OPT_VALUE,
      .commands = RUN | CHECK, .set = set_sched, SINGLE_RUNS(SCHEDULES_ITSELF),
      .arg = "=STRATEGY",
      .help = "controlled run: one thread at a time, same input, same run:\n"
              "random:SEED, pct:SEED[:DEPTH], dfs[:BOUND],\n"
              "replay:SCHEDULE (printed by every failing run), step\n"
              "(you choose who runs next; with --view, by keys in the\n"
              "live view: 1-9 a thread, Enter, a auto, q quit)" },
    { .name = "--spurious", .kind = CD_OPT_FLAG, .arity = CD_OPT_NO_VALUE,
      .commands = RUN | EXPLORE | CHECK, .field = FIELD(spurious),
      .help = "controlled runs: a condition-variable wait may wake\n"
              "without a signal, as POSIX allows (run: with --sched)" },
    { .name = "--max-steps", .kind = CD_OPT_INT, .arity = CD_OPT_VALUE,
      .commands = RUN | EXPLORE | CHECK, .field = FIELD(max_steps),
      .lo = 1, .hi = 100000000, .arg = " N",
      .help = "controlled runs stop after N operations (default 100000)" },
    { .name = "--save-schedule", .kind = CD_OPT_STRING, .arity = CD_OPT_VALUE,
      .commands = RUN | EXPLORE, .field = FIELD(save_path),
      .what = "file name", .arg = " F",
      .help = "write the run's whole schedule to file F (replay:@F)" },
    { .name = "--trace", .kind = CD_OPT_FLAG, .arity = CD_OPT_NO_VALUE,
      .commands = RUN | CHECK, .field = FIELD(trace), SINGLE_RUNS(SCHEDULES_ITSELF),
      .help = "print every operation (lock, unlock, latency, ...)" },
    { .name = "--timeline", .kind = CD_OPT_STRING, .arity = CD_OPT_VALUE,
      .commands = RUN | EXPLORE, .field = FIELD(timeline_path),
      .what = "file name", .arg = " F",
      .help = "draw the run as a timeline in SVG file F (explore: the\n"
              "failing schedule, replayed); turns tracing on" },
    { .name = "--trace-out", .kind = CD_OPT_STRING, .arity = CD_OPT_VALUE,
      .commands = RUN | EXPLORE, .field = FIELD(trace_out_path),
      .what = "file name", .arg = " F",
      .help = "write the run's events to F as Chrome trace-event JSON\n"
              "(Perfetto UI, chrome://tracing); turns tracing on" },
    { .name = "--json", .kind = CD_OPT_FLAG, .arity = CD_OPT_NO_VALUE,
      .commands = RUN | EXPLORE, .field = FIELD(json),
      .help = "print one JSON object instead of text" },
    { .name = "--view", .kind = CD_OPT_CUSTOM, .arity = CD_OPT_EQ_VALUE,
      .commands = RUN, .set = set_view,
      SINGLE_RUNS("explore runs many schedules and watches none; %s is for "
                  "single runs"),
      .help = "watch the run live in the terminal (keys: q quit,\n"
              "p pause, + slower, - faster, ? help); latencies x100\n"
              "(livelock: x10) and a 60 s limit unless given" },
    { .name = "--view=text", .kind = CD_OPT_DOC, .commands = RUN,
      .help = "the same frames as plain text, no terminal needed" },
    { .name = "-h, --help", .kind = CD_OPT_DOC, .commands = RUN,
      .help = "help; with a scenario, the scenario's help" },

    /* concdemo explore */
    { .name = "--strategy", .kind = CD_OPT_ENUM, .arity = CD_OPT_VALUE,
      .commands = EXPLORE, .field = FIELD(strategy), .what = "strategy",
      .choices = cd_opt_strategies, EXPLORE_ONLY, .arg = " pct|random|dfs" },
    EXPLORE_INT("--runs", runs, 1, 100000000, " N"),
    EXPLORE_INT("--budget", budget_s, 1, 3600, " S"),
    EXPLORE_INT("--seed", seed, 0, 2000000000, " N"),
    EXPLORE_INT("--depth", depth, 1, 16, " D"),
    EXPLORE_INT("--bound", bound, 0, 16, " B"),
    { .name = NULL },
};

/* ================================ parsing ================================ */

/* The row argv word `word` names ("--threads" or "--threads=..."): the
 * one for cmd when two rows share a name, else the first. NULL: none. */
static const cd_opt_t *find(const char *word, int cmd)
{
    const cd_opt_t *first = NULL;
    for (const cd_opt_t *o = cd_run_options; o->name; o++) {
        size_t n = strlen(o->name);
        if (o->kind == CD_OPT_DOC || strncmp(word, o->name, n) != 0 ||
            (word[n] != '\0' && word[n] != '='))
            continue;
        if (o->commands & CD_OPT_FOR(cmd))
            return o;
        if (!first)
            first = o;
    }
    return first;
}

static int *int_field(const cd_opt_t *o, cd_runargs_t *a)
{
    return (int *)((char *)a + o->field);
}

/* The scenario's range for a size (threads, workers, iterations); 0..max
 * int without a scenario. 0, or -1 when the scenario has no such size. */
static int size_range(const cd_opt_t *o, const cd_runargs_t *a, long *lo,
                      long *hi, char *err, size_t errlen)
{
    const cd_scenario_t *s = a->scenario;
    *lo = 0; /* without a scenario: a number, its range checked later */
    *hi = INT_MAX;
    if (!s)
        return 0;
    *lo = *(const int *)((const char *)&s->min + o->size);
    *hi = *(const int *)((const char *)&s->max + o->size);
    if (*hi > 0)
        return 0;
    if (o->refuse)
        o->refuse(o, s, err, errlen);
    else
        fail(err, errlen, "%s does not take %s", s->name, o->name);
    return -1;
}

static int parse_enum(const cd_opt_t *o, const char *value, int *out,
                      char *err, size_t errlen)
{
    const cd_opt_choice_t *c = o->choices;
    if (!*value) {
        fail(err, errlen, "%s needs ", o->name);
        for (int k = 0; c[k].name; k++)
            append(err, errlen, "%s%s", k == 0 ? "" : c[k + 1].name
                                                          ? ", " : " or ",
                   c[k].name);
        return -1;
    }
    for (int k = 0; c[k].name; k++)
        if (strcmp(value, c[k].name) == 0) {
            *out = c[k].value;
            return 0;
        }
    fail(err, errlen, "%s: unknown %s '%s' (", o->name, o->what, value);
    for (int k = 0; c[k].name; k++)
        append(err, errlen, "%s%s", k ? ", " : "", c[k].name);
    append(err, errlen, ")");
    return -1;
}

/* Converts value as o's kind says and stores it in a. */
static int store(const cd_opt_t *o, cd_runargs_t *a, const char *value,
                 char *err, size_t errlen)
{
    long lo, hi;

    switch (o->kind) {
    case CD_OPT_FLAG:
        *int_field(o, a) = 1;
        return 0;
    case CD_OPT_INT:
        return cd_opt_parse_int(o->name, value, o->lo, o->hi,
                                int_field(o, a), err, errlen);
    case CD_OPT_SIZE:
        if (size_range(o, a, &lo, &hi, err, errlen) != 0)
            return -1;
        return cd_opt_parse_int(o->name, value, lo, hi, int_field(o, a),
                                err, errlen);
    case CD_OPT_SCALE:
        return parse_scale(o->name, value, o->lo, o->hi, int_field(o, a),
                           err, errlen);
    case CD_OPT_STRING:
        if (!*value)
            return fail(err, errlen, "%s needs a %s", o->name, o->what);
        *(const char **)((char *)a + o->field) = value;
        return 0;
    case CD_OPT_ENUM:
        return parse_enum(o, value, int_field(o, a), err, errlen);
    case CD_OPT_CUSTOM:
        return o->set(o, a, value, err, errlen);
    case CD_OPT_DOC:
        break;
    }
    return fail(err, errlen, "%s: not an option", o->name);
}

int cd_opt_parse(cd_runargs_t *a, int cmd, int argc, char **argv, int *i,
                 char *err, size_t errlen)
{
    const char *word = argv[*i];
    const cd_opt_t *o = find(word, cmd);

    if (!o)
        return 0;
    if (!(o->commands & CD_OPT_FOR(cmd))) {
        if (!o->elsewhere[cmd])
            return 0;
        return fail(err, errlen, o->elsewhere[cmd], o->name);
    }
    size_t n = strlen(o->name);
    const char *eq = word[n] == '=' ? word + n + 1 : NULL;
    const char *value = eq;
    if (o->arity == CD_OPT_NO_VALUE && eq)
        return fail(err, errlen, "%s takes no value", o->name);
    if (o->arity == CD_OPT_VALUE && !eq) {
        /* "--save-schedule --json" does not save to a file named --json. */
        if (*i + 1 < argc && strncmp(argv[*i + 1], "--", 2) != 0)
            value = argv[++*i];
        else
            value = "";
    }
    return store(o, a, value, err, errlen) == 0 ? 1 : -1;
}

void cd_runargs_free(cd_runargs_t *a)
{
    cd_sched_cfg_free(&a->sched);
}

const char *cd_opt_strategy_name(int v)
{
    for (const cd_opt_choice_t *c = cd_opt_strategies; c->name; c++)
        if (c->value == v)
            return c->name;
    return NULL;
}

/* ================================== help ================================= */

void cd_opt_help(FILE *out, int cmd)
{
    for (const cd_opt_t *o = cd_run_options; o->name; o++) {
        if (!(o->commands & CD_OPT_FOR(cmd)) || !o->help)
            continue;
        char label[64];
        snprintf(label, sizeof label, "%s%s", o->name, o->arg ? o->arg : "");
        const char *line = o->help;
        fprintf(out, "  %-19s", label);
        do {
            size_t len = strcspn(line, "\n");
            fprintf(out, " %.*s\n", (int)len, line);
            line += len;
            if (*line == '\n' && *++line)
                fprintf(out, "%21s", "");
        } while (*line);
    }
}
