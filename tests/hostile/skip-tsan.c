/*
 * Hostile: leaves with exit code 0 before main in the ThreadSanitizer
 * build only - no run, so no report - hoping that the tsan stage reads
 * that as "no race".
 */
#include <unistd.h>

#include "exercises/race.c"

#if defined(__SANITIZE_THREAD__)
__attribute__((constructor)) static void leave(void)
{
    _exit(0);
}
#endif
