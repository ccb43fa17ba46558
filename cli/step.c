/*
 * step.c - the text chooser for --sched=step.
 */
#include "step.h"

#include <stdlib.h>
#include <string.h>

#include "../lib/cd_registry.h"
#include "../lib/cd_sched.h"
#include "../lib/cd_trace.h"

static void show_choice(FILE *out, int id, int prev)
{
    int op, obj;
    const char *label;
    cd_site_t site;
    cd_sched_pending(id, &op, &obj, &label, &site);
    const char *what = label ? label : "";
    if (op == CD_OP_SPAWN || op == CD_OP_JOIN)
        what = cd_reg_thread_name(obj);
    else if (obj)
        what = cd_reg_object_name(obj);
    fprintf(out, "  [%d] %-14s next: %-10s %-16s", id, cd_reg_thread_name(id),
            cd_op_name(op), what);
    if (site.file)
        fprintf(out, " %s:%d", site.file, site.line);
    fprintf(out, "%s\n", id == prev ? "   (ran last)" : "");
}

int cd_step_chooser(const int *runnable, int n, int prev, void *arg)
{
    cd_step_t *st = arg;
    char line[64];

    st->step++;
    if (st->automatic)
        return 0;
    for (;;) {
        fprintf(st->out, "step %d: who runs next? (number; Enter: %s goes "
                "on; a: auto to the end)\n", st->step,
                cd_reg_thread_name(prev));
        for (int i = 0; i < n; i++)
            show_choice(st->out, runnable[i], prev);
        fprintf(st->out, "> ");
        fflush(st->out);
        if (!fgets(line, sizeof line, st->in)) {
            st->automatic = 1;
            fprintf(st->out, "(end of input: auto)\n");
            return 0;
        }
        line[strcspn(line, "\r\n")] = '\0';
        if (line[0] == '\0')
            return 0;
        if (strcmp(line, "a") == 0) {
            st->automatic = 1;
            return 0;
        }
        char *end;
        long id = strtol(line, &end, 10);
        for (int i = 0; *end == '\0' && i < n; i++)
            if (runnable[i] == id)
                return (int)id;
        fprintf(st->out, "'%s' is not one of the runnable threads\n", line);
    }
}
