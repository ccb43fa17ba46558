/*
 * cmd_version.c - `concdemo --version`.
 */
#include "cmd.h"

#ifndef CD_VERSION
#define CD_VERSION "0.1.0"
#endif

int cd_cmd_version(int argc, char **argv)
{
    if (argc > 2)
        return cd_cmd_usage_error("--version takes nothing more, not '%s'",
                                  argv[2]);
    printf("concdemo %s\n", CD_VERSION);
    return 0;
}
