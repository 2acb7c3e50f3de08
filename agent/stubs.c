/* Temporary: modes that later files implement. */
#include <stdio.h>

#include "failoverd.h"

int apply_main(const char *path, enum fo_state st, int verbose)
{
        (void)path; (void)st; (void)verbose;
        fprintf(stderr, "failoverd: --apply is not implemented yet\n");
        return 2;
}

int daemon_main(const char *path, int verbose)
{
        (void)path; (void)verbose;
        fprintf(stderr, "failoverd: the daemon is not implemented yet\n");
        return 2;
}
