/*
 * Hostile: allocates 20 GiB at once and writes every byte of it.
 */
#include <stdlib.h>
#include <string.h>

#include "exercises/race.c"

static char *volatile hoard; /* kept where the compiler cannot drop it */

__attribute__((constructor)) static void hog(void)
{
    size_t n = (size_t)20 << 30;
    hoard = malloc(n);
    if (hoard)
        memset(hoard, 1, n);
}
