/* Unit tests for lib/fsm.c: the effective-state table cell by cell, rise/fall sequences, severity while down. */
#include <string.h>

#include "fsm.h"
#include "unit.h"

/* Builds a check in a given health/severity (as if it had settled there). */
static struct check_state st(enum health h, enum severity s)
{
        struct check_state c = { .health = h, .severity = s };
        return c;
}

START_TEST(test_fsm_table)
{
        /* failoverd(8): configured role x (all up | some degraded | some failed | drained). */
        static const struct {
                enum role role;
                int column;             /* 0 all up, 1 degraded, 2 failed, 3 drained */
                enum fo_state want;
        } table[] = {
                { ROLE_PRIMARY, 0, STATE_PRIMARY },     { ROLE_PRIMARY, 1, STATE_DEMOTED },
                { ROLE_PRIMARY, 2, STATE_WITHDRAWN },   { ROLE_PRIMARY, 3, STATE_WITHDRAWN },
                { ROLE_SECONDARY, 0, STATE_SECONDARY }, { ROLE_SECONDARY, 1, STATE_DEMOTED },
                { ROLE_SECONDARY, 2, STATE_WITHDRAWN }, { ROLE_SECONDARY, 3, STATE_WITHDRAWN },
        };
        for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
                struct check_state cs[3] = { st(HEALTH_UP, SEV_OK), st(HEALTH_UP, SEV_OK), st(HEALTH_UP, SEV_OK) };
                bool drained = false;
                int why = 99;
                if (table[i].column == 1)
                        cs[1] = st(HEALTH_DOWN, SEV_DEGRADED);
                if (table[i].column == 2)
                        cs[2] = st(HEALTH_DOWN, SEV_FAILED);
                if (table[i].column == 3)
                        drained = true;
                enum fo_state got = fsm_effective(table[i].role, drained, cs, 3, &why);
                ck_assert_msg(got == table[i].want, "row %zu: got %s want %s", i, state_name(got),
                              state_name(table[i].want));
                ck_assert_int_eq(why, table[i].column == 1 ? 1 : table[i].column == 2 ? 2 : -1);
        }
}
END_TEST

START_TEST(test_fsm_failed_beats_degraded)
{
        struct check_state cs[2] = { st(HEALTH_DOWN, SEV_DEGRADED), st(HEALTH_DOWN, SEV_FAILED) };
        int why;
        ck_assert_int_eq(fsm_effective(ROLE_PRIMARY, false, cs, 2, &why), STATE_WITHDRAWN);
        ck_assert_int_eq(why, 1);
        /* No checks at all: always healthy. */
        ck_assert_int_eq(fsm_effective(ROLE_SECONDARY, false, NULL, 0, &why), STATE_SECONDARY);
        /* A check with no result yet does not count. */
        struct check_state u = st(HEALTH_UNKNOWN, SEV_OK);
        ck_assert_int_eq(fsm_effective(ROLE_PRIMARY, false, &u, 1, NULL), STATE_PRIMARY);
}
END_TEST

START_TEST(test_fsm_first_result_decides)
{
        struct check_state s = { 0 };
        ck_assert(fsm_feed(&s, SEV_FAILED, 3, 2));
        ck_assert_int_eq(s.health, HEALTH_DOWN);
        ck_assert_int_eq(s.severity, SEV_FAILED);

        memset(&s, 0, sizeof(s));
        ck_assert(fsm_feed(&s, SEV_OK, 3, 2));
        ck_assert_int_eq(s.health, HEALTH_UP);

        memset(&s, 0, sizeof(s));
        ck_assert(fsm_feed(&s, SEV_DEGRADED, 3, 2));
        ck_assert_int_eq(s.health, HEALTH_DOWN);
        ck_assert_int_eq(s.severity, SEV_DEGRADED);
}
END_TEST

/* Feeds a sequence ("O" ok, "W" warning, "C" critical) and returns the health after each as "u"/"d". */
static void run_seq(const char *seq, int rise, int fall, char *out)
{
        struct check_state s = st(HEALTH_UP, SEV_OK);
        for (size_t i = 0; seq[i]; i++) {
                enum severity r = seq[i] == 'O' ? SEV_OK : seq[i] == 'W' ? SEV_DEGRADED : SEV_FAILED;
                fsm_feed(&s, r, rise, fall);
                out[i] = s.health == HEALTH_UP ? 'u' : s.severity == SEV_DEGRADED ? 'w' : 'c';
        }
        out[strlen(seq)] = '\0';
}

START_TEST(test_fsm_rise_fall_sequences)
{
        static const struct {
                const char *seq;
                int rise, fall;
                const char *want;
        } cases[] = {
                { "CC", 3, 2, "uc" },                   /* fall 2: down on the second */
                { "COCOC", 3, 2, "uuuuu" },             /* never two in a row */
                { "CCOOO", 3, 2, "uccc" "u" },          /* rise 3 */
                { "CCOOCOOO", 3, 2, "uccccccu" },       /* a failure resets the rise streak */
                { "WW", 3, 2, "uw" },                   /* degraded */
                { "WC", 3, 2, "uc" },                   /* mixed non-OK results count together */
                { "CCWCW", 3, 2, "ucwcw" },             /* severity follows the latest while down */
                { "CCWO", 3, 2, "ucww" },               /* an OK while down keeps the last severity */
                { "C", 1, 1, "c" },
                { "CO", 1, 1, "cu" },
        };
        char got[32];
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                run_seq(cases[i].seq, cases[i].rise, cases[i].fall, got);
                ck_assert_msg(strcmp(got, cases[i].want) == 0, "%s rise %d fall %d: got %s want %s",
                              cases[i].seq, cases[i].rise, cases[i].fall, got, cases[i].want);
        }
}
END_TEST

START_TEST(test_fsm_changing)
{
        struct check_state s = st(HEALTH_UP, SEV_OK);
        ck_assert(!fsm_changing(&s));
        fsm_feed(&s, SEV_FAILED, 3, 3);
        ck_assert(fsm_changing(&s));            /* on the way down */
        fsm_feed(&s, SEV_FAILED, 3, 3);
        fsm_feed(&s, SEV_FAILED, 3, 3);
        ck_assert_int_eq(s.health, HEALTH_DOWN);
        ck_assert(!fsm_changing(&s));           /* settled */
        fsm_feed(&s, SEV_OK, 3, 3);
        ck_assert(fsm_changing(&s));            /* on the way up */
        fsm_feed(&s, SEV_FAILED, 3, 3);
        ck_assert(!fsm_changing(&s));
}
END_TEST

START_TEST(test_fsm_grading)
{
        ck_assert_int_eq(severity_of_exit(1, 0), SEV_OK);
        ck_assert_int_eq(severity_of_exit(1, 1), SEV_DEGRADED);
        ck_assert_int_eq(severity_of_exit(1, 2), SEV_FAILED);
        ck_assert_int_eq(severity_of_exit(1, 3), SEV_FAILED);
        ck_assert_int_eq(severity_of_exit(1, 42), SEV_FAILED);
        ck_assert_int_eq(severity_of_exit(0, 0), SEV_FAILED);   /* killed by a signal */
        ck_assert_str_eq(health_name(HEALTH_DOWN), "down");
        ck_assert_str_eq(severity_name(SEV_DEGRADED), "degraded");
}
END_TEST

Suite *fsm_suite(void)
{
        Suite *s = suite_create("fsm");
        TCase *tc = tcase_create("fsm");
        tcase_add_test(tc, test_fsm_table);
        tcase_add_test(tc, test_fsm_failed_beats_degraded);
        tcase_add_test(tc, test_fsm_first_result_decides);
        tcase_add_test(tc, test_fsm_rise_fall_sequences);
        tcase_add_test(tc, test_fsm_changing);
        tcase_add_test(tc, test_fsm_grading);
        suite_add_tcase(s, tc);
        return s;
}
