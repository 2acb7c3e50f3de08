/* One Check runner for every lib/ and agent/ suite; CK_RUN_SUITE=NAME runs one. Suites come from test_*.c by name. */
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>

#include "unit.h"

int main(void)
{
        SRunner *sr = srunner_create(NULL);

        /* Children of tests must see default dispositions, as the daemon's children do. */
        signal(SIGPIPE, SIG_DFL);
#define SUITE(name) srunner_add_suite(sr, name##_suite());
#include "suites.h"
#undef SUITE
        srunner_run_all(sr, CK_NORMAL);
        int failed = srunner_ntests_failed(sr);
        int run = srunner_ntests_run(sr);
        srunner_free(sr);
        printf("unit: %d passed, %d failed\n", run - failed, failed);
        return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
