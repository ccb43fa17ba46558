/*
 * cmd_list.c - `concdemo list [--json]`: every scenario, its pitfall and
 * its fixes.
 */
#include <string.h>

#include "cmd.h"

static void list_text(void)
{
    int n, width = 0;
    const cd_scenario_t *const *all = cd_scenarios(&n);
    /* One column for the names: as wide as the longest. */
    for (int i = 0; i < n; i++)
        if ((int)strlen(all[i]->name) > width)
            width = (int)strlen(all[i]->name);
    for (int i = 0; i < n; i++) {
        const cd_scenario_t *s = all[i];
        printf("%-*s %s: %s\n", width, s->name, s->title, s->pitfall);
        printf("%-*s variants: broken", width, "");
        for (int v = 1; v < s->nvariants; v++)
            printf(", --fixed=%s%s", s->variants[v].name,
                   v == s->recommended ? " (recommended)"
                   : s->wrong_fixes & (1u << v) ? " (a wrong fix)" : "");
        printf("\n");
    }
}

static void list_json(void)
{
    int n;
    const cd_scenario_t *const *all = cd_scenarios(&n);
    printf("[");
    for (int i = 0; i < n; i++) {
        const cd_scenario_t *s = all[i];
        printf("%s{\"name\":\"%s\",\"title\":\"%s\",\"pitfall\":\"%s\","
               "\"lesson\":\"%s\",\"recommended\":\"%s\",\"variants\":[",
               i ? "," : "", s->name, s->title, s->pitfall, s->lesson,
               s->variants[s->recommended].name);
        for (int v = 0; v < s->nvariants; v++)
            printf("%s\"%s\"", v ? "," : "", s->variants[v].name);
        printf("]}");
    }
    printf("]\n");
}

int cd_cmd_list(int argc, char **argv)
{
    int json = 0;
    if (cd_cmd_wants_help(argc, argv)) {
        cd_cmd_usage(stdout);
        return 0;
    }
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--json") != 0) /* name the word at fault */
            return cd_cmd_usage_error("list takes only --json, not '%s'",
                                      argv[i]);
        json = 1;
    }
    if (json)
        list_json();
    else
        list_text();
    return 0;
}
