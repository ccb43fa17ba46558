/*
 * ledger.h - the books of an exercise's runs: what the harness's slow
 * services did (the effects), and the invariant judged from them.
 *
 * Two processes keep the same books. In the exercise's program (the
 * learner's file + lessons/harness/NAME.c + cli/exhost.c), the harness
 * opens a run's books (cd_ledger_begin), its services write down each
 * effect as it happens (cd_ledger_put: an order charged, money moved, a
 * read of the window, lines stored, a cart saved, the start and end of
 * a slow call), and the run ends by judging them (cd_ledger_end): the
 * verdict an exploration needs to stop at a failing schedule and print
 * its replay. The same records, the whole run in one batch, go to the
 * checker through its result pipe, tagged with the stage they belong to
 * (cd_ledger_send: exhost's stage records). concdemo check (cli/books.c)
 * judges them again with the same rules (cd_judge_*) and with its own
 * count of what each run was asked to do: that verdict is the grade, and
 * nothing the program prints, writes elsewhere or returns can change it.
 *
 * A record is fixed-size and at most PIPE_BUF long: a pipe takes it whole
 * or not at all. Records are collected in memory with an atomic index (no
 * lock, so that the books order no thread for ThreadSanitizer) and sent
 * when the run ends, one write per run: exploring thousands of schedules
 * costs one system call each, not one per effect.
 */
#ifndef CD_LEDGER_H
#define CD_LEDGER_H

#include <stddef.h>
#include <stdint.h>

#include "../demos/scenario.h"

/* One record: what happened, and up to four numbers about it. */
typedef struct cd_effect {
    int32_t kind;    /* CD_EFF_... */
    int32_t a, b, c;
    int64_t d;
} cd_effect_t;

enum cd_effect_kind {
    /* The program's stages (cli/exhost.c), sent at once. */
    CD_EFF_STAGE = 1, /* a stage begins: a = CD_STAGE_... */
    CD_EFF_STAGE_END, /* a = the stage, b = 1 if the program passed it */
    CD_EFF_END,       /* the program's verdict is complete */
    CD_EFF_REFUSED,   /* not this exercise's file */
    CD_EFF_TSAN_RUN,  /* the TSan build's one run begins (it has no
                         stages, and its books come when it ends) */
    /* A run's books (the harness), sent when the run ends. */
    CD_EFF_RUN,       /* a run begins: a threads, b iterations, c workers */
    CD_EFF_RUN_END,   /* it ended: a = records that did not fit */
    CD_EFF_CALL,      /* a slow call begins: a = whose (customer, teller,
                         reader, user; lost-wakeup: the job, which is
                         the slow call; philosophers: the diner, whose
                         meal it is); starvation: b = 1 when the read
                         came while the trimmer waited and got in ahead
                         of it, d = the age of the window it read (us);
                         philosophers: b = how many of its two forks the
                         diner held, by the registry's record;
                         stampede: the key a database query is for;
                         counter: the page being rendered; offload:
                         the password hash (a = 0); orphans: order a's
                         subtask b (0 reserve, 1 charge, 2 email) began,
                         d ns after its checkout (unscaled) */
    CD_EFF_CALL_END,  /* the slow call whose a is the same ended;
                         orphans: order a's subtask b acted, at d */
    CD_EFF_PAY,       /* the gateway was asked to charge: a order,
                         b customer (async-race: the judge applies the
                         declines); inventory: a product, b its buyer
                         (1-based; the judge applies the declines);
                         holdtime: the till sold a unit of product a,
                         its b-th sale */
    CD_EFF_MOVE,      /* deadlock, livelock: money moved: a teller, b
                         from, c to */
    CD_EFF_RETURNED,  /* the learner's function returned: a = whose
                         (deadlock, livelock: a teller's transfer();
                         await: the
                         user of an add_item(); lost-wakeup: the job
                         whose await_done(); spurious: a cook whose
                         next_ticket() said the rail is closed;
                         philosophers: a diner whose meal(); stampede:
                         the key of a lookup(), b = 1 when it returned
                         the stored value; counter: handler a's
                         count_view() of page b returned visitor number
                         d; holdtime: the handler whose refresh();
                         offload: request a was answered, d its latency
                         in ns from its arrival, unscaled; a = -1: the
                         login() returned, b = 1 if its password had
                         been hashed by then; orphans: order a's
                         checkout() returned (b = 0) or reported its
                         failure (b = 1; c = 1 in a controlled run), at
                         d) */
    CD_EFF_BALANCE,   /* deadlock, livelock, at the end: a account, d
                         its balance; inventory: a product, d its stock;
                         counter: a page, d its count (views_count());
                         holdtime: a product, d the board's sales of it */
    CD_EFF_ASK,       /* starvation: the trimmer asks for the write lock */
    CD_EFF_TRIM,      /* starvation: a trim made: c = 1 while requests
                         still came, d = ns the trimmer waited */
    CD_EFF_STORE,     /* backpressure: the store wrote c lines of
                         worker a, its lines b .. b+c-1 */
    CD_EFF_QUEUE,     /* backpressure, at the end: a lines dropped by
                         the queue, b given up (the workers' count),
                         c sends the full queue refused */
    CD_EFF_PEAK,      /* backpressure, at the end: a the deepest the
                         queue was (lines), d its buffer (bytes) */
    CD_EFF_KILLED,    /* backpressure: the queue passed the budget:
                         a lines in it, b lines produced, d bytes */
    CD_EFF_SAVE,      /* await: a save landed: a user, b the items in
                         the cart it saved; holdtime: the dashboard
                         showed a report of version a, total b */
    CD_EFF_CART,      /* await, at the end: a user, b items in the cart,
                         c the items it says were saved */
    CD_EFF_POST,      /* spurious: the till put ticket a on the rail */
    CD_EFF_TAKE,      /* spurious: cook a took ticket b from the rail, or
                         b = -1: took from an empty rail (the rail's own
                         count, whatever the cook believed) */
    CD_EFF_CLOSE,     /* spurious: the till closed the rail, a tickets
                         still on it */
    CD_EFF_CONNECT,   /* order-violation: db_connect() began connection a
                         (0-based: the run's a+1-th) */
    CD_EFF_USE,       /* order-violation: handler a's request b used what
                         get_conn() returned: c = CD_EX_CONN_... */
    CD_EFF_WRITTEN,   /* publication: the handshake wrote connection a's
                         record, both fields */
    CD_EFF_READ,      /* publication: handler a used connection b's
                         record, which held c = CD_READ_... */
    CD_EFF_CONFLICT,  /* livelock: teller a logged a conflict (its try of
                         the second account failed) */
    CD_EFF_LIVELOCK,  /* livelock: the bank saw a attempts in a row without
                         a transfer and aborted the run */
    CD_EFF_SHIP,      /* webhook: the warehouse shipped the order of event
                         a (the fulfilment's call is CD_EFF_CALL, a the
                         event) */
    CD_EFF_KINDS
};

/* publication: what a record a handler used held, by the harness's
 * comparison with the values its handshake gives that connection. */
enum cd_read_outcome {
    CD_READ_WHOLE,    /* both fields, this connection's */
    CD_READ_STALE,    /* neither field written yet */
    CD_READ_TORN,     /* one field written, the other not yet */
    CD_READ_WRONG     /* values the handshake never gave it */
};

/* The checker's stages, in the order the program runs them. */
enum cd_stage {
    CD_STAGE_FREE = 1,
    CD_STAGE_EXPLORE,
    CD_STAGE_PARALLEL,
    CD_STAGE_TIMING,
    CD_STAGES = CD_STAGE_TIMING
};

/* "free", "explore", ...; "run" for anything else. */
const char *cd_stage_name(int stage);

/* ---- the exercises' terms: what the harnesses do and the judges count ---- */

#define CD_EX_PRICE 100          /* race, async-race: an order costs 100 */
#define CD_EX_SUBMITS 2          /* an order is checked out twice; user 1
                                    of await clicks twice */
#define CD_EX_DECLINE_EVERY 3    /* async-race: orders 2, 5, 8...: the
                                    gateway declines their first attempt */
#define CD_EX_AMOUNT 10          /* deadlock: what a transfer moves */
#define CD_EX_START_BALANCE 1000 /* deadlock, livelock: every account's at
                                    the start */
#define CD_EX_LIVELOCK_TRIES 40  /* livelock: attempts (fraud checks) in a
                                    row, all tellers together, without a
                                    transfer: a livelock */
#define CD_EX_REQUEST_EVERY_USEC 1000 /* starvation: a request every 1 ms */
#define CD_EX_TRIM_FIRST_USEC 10500   /* the first trim (half a beat off) */
#define CD_EX_TRIM_EVERY_USEC 20000   /* then one every 20 ms */
#define CD_EX_MAX_PAST 3         /* reads allowed in ahead of a waiting
                                    trimmer (one that came as it asked may
                                    count) */
#define CD_EX_MEMORY_BUDGET (1L << 20) /* backpressure: the queue's bytes */
#define CD_EX_KEYS 3             /* stampede: cold cache keys, each asked
                                    for by `iterations` requests */
#define CD_EX_DELIVERIES 3       /* webhook: each event delivered three
                                    times (the first try, two retries) */
#define CD_EX_PRODUCTS 3         /* inventory: products on sale, each with
                                    `buyers` buyers and a quarter as many
                                    units (at least 1) */
#define CD_EX_SALE_DECLINE_EVERY 7 /* inventory: buyers 1, 8, 15, ... of
                                    each product: the card is declined */
#define CD_EX_PAGES 3            /* counter: the k-th view of every handler
                                    is of page k % CD_EX_PAGES */
#define CD_EX_BOARD_PRODUCTS 4   /* holdtime: products on the board */
#define CD_EX_SALES_PER_REPORT 5 /* holdtime: the till sells every 1 ms,
                                    a report takes 5 */
#define CD_EX_CHECKOUT_MS 50      /* orphans: a checkout's timeout */
#define CD_EX_OFFLOAD_GAP_US 2000  /* offload: a request arrives every 2 ms,
                                      the login with the tenth of them */
#define CD_EX_OFFLOAD_HASH_US 100000 /* offload: the hash's CPU time */
#define CD_EX_OFFLOAD_P99_US 40000 /* offload: the other requests' p99
                                      latency objective */

/* order-violation: what a handler's request found (CD_EFF_USE's c), by
 * the database's own records, whatever the learner's code believed. */
enum {
    CD_EX_CONN_OPEN = 1,     /* the connection, its handshake done */
    CD_EX_CONN_NONE = 0,     /* no connection (NULL) */
    CD_EX_CONN_HALF = -1,    /* a connection still in its handshake */
    CD_EX_CONN_FOREIGN = -2  /* a pointer the database never handed out */
};

/* What one run of an exercise is asked to do, from its sizes. */
typedef struct cd_ex_plan {
    int orders, customers;        /* race, async-race */
    int accounts, transfers;      /* deadlock, livelock: transfers per
                                     teller; teller i pays account i into
                                     i+1 (mod n) */
    int readers, requests, trims; /* starvation */
    int workers, lines;           /* backpressure: lines per worker */
    int users, clicks;            /* await: user 1 sends `clicks`
                                     requests, the others one each */
    int jobs;                     /* lost-wakeup: jobs run one after
                                     another, each on a worker of its own */
    int cooks, tickets;           /* spurious: the till posts tickets
                                     0 .. tickets-1, then closes */
    int handlers, per_handler;    /* order-violation: handlers, each
                                     serving per_handler requests */
    int diners, meals;            /* philosophers: meals per diner; diner
                                     i eats with forks i and i+1 (mod n) */
    int conns;                    /* publication: each of the handlers
                                     reads each connection once, in order */
    int keys, per_key;            /* stampede: request i (0-based) asks
                                     for key i % keys */
    int events;                   /* webhook: each delivered
                                     CD_EX_DELIVERIES times */
    int products, buyers, stock;  /* inventory: buyers and units in stock
                                     per product */
    int pages;                    /* counter: pages, viewed per_handler
                                     times by each of `handlers` handlers */
    int sales;                    /* holdtime: the till's sales, while
                                     `handlers` handlers refresh the report
                                     per_handler times each */
    int others;                   /* offload: requests besides the login */
    /* orphans: `orders` checkouts, each of three subtasks */
    size_t max_records;           /* more than this in one run is a fault */
} cd_ex_plan_t;

/* Fills *out for the exercise called name with sizes p. Returns 0, or -1
 * for a name that is no exercise or sizes out of any exercise's range. */
int cd_ex_plan(const char *name, const cd_params_t *p, cd_ex_plan_t *out);

/* ---- the exercise's program: the books of the run in progress ---- */

/* Where cd_ledger_end and cd_ledger_send write (a pipe of the checker's);
 * -1, the default: nowhere (the books are still kept and judged). */
void cd_ledger_set_fd(int fd);

/* Opens the books of a run of exercise name with sizes p: the record of
 * the run, then room for the plan's records. One run at a time. Returns
 * 0, or -1 when the exercise or the memory is missing (then the run's
 * verdict says so: see cd_ledger_end). */
int cd_ledger_begin(const char *name, const cd_params_t *p);

/* Writes one effect into the open books; any thread may call it. A
 * record past the plan's room is counted, not kept, and fails the run. */
void cd_ledger_put(int kind, int a, int b, int c, int64_t d);

/* Closes the books: judges them into v (status, expected, observed,
 * figures), sends the whole run to the fd, if any. */
void cd_ledger_end(cd_verdict_t *v);

/* cd_ledger_end, then, when failed, what the harness could not do as the
 * run's verdict (CD_ERROR; fmt as printf: "could not start 4 cooks"). */
void cd_ledger_end_error(cd_verdict_t *v, int failed, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The most slow calls that were in flight at once in the last run
 * cd_ledger_end judged (the service's measure of parallelism). */
int cd_ledger_last_most(void);

/* Sends one record at once (exhost's stages; async-signal-safe). */
void cd_ledger_send(int kind, int a, int b);

/* ---- judging: the same rules, on either side ---- */

typedef struct cd_judge cd_judge_t;

/* A judge of one run of exercise name with sizes p, or NULL (no such
 * exercise, sizes out of range, no memory). */
cd_judge_t *cd_judge_new(const char *name, const cd_params_t *p);

/* Books one record of the run (run records, stage records: ignored). */
void cd_judge_apply(cd_judge_t *j, const cd_effect_t *e);

/* The run's verdict into v, and the most slow calls in flight at once;
 * lost: records that did not fit the program's books. */
void cd_judge_finish(cd_judge_t *j, long lost, cd_verdict_t *v, int *most);

void cd_judge_free(cd_judge_t *j);

#endif /* CD_LEDGER_H */
