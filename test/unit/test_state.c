/* Unit tests for lib/state.c: names, parsing and route-map mapping of roles and states. */
#include "unit.h"

#include "state.h"

START_TEST(test_state_names_roundtrip)
{
        for (int i = 0; i < _STATE_MAX; i++)
                ck_assert_int_eq(state_parse(state_name((enum fo_state)i)), i);
        ck_assert_int_eq(state_parse("Primary"), STATE_INVALID);
        ck_assert_int_eq(state_parse(""), STATE_INVALID);
        ck_assert_int_eq(state_parse(NULL), STATE_INVALID);
        ck_assert_str_eq(state_name(STATE_INVALID), "invalid");
}
END_TEST

START_TEST(test_state_route_maps)
{
        ck_assert_str_eq(state_route_map(STATE_PRIMARY), "primary");
        ck_assert_str_eq(state_route_map(STATE_SECONDARY), "secondary");
        ck_assert_str_eq(state_route_map(STATE_DEMOTED), "demoted");
        ck_assert_ptr_null(state_route_map(STATE_WITHDRAWN));
        ck_assert_int_eq(state_of_role(ROLE_PRIMARY), STATE_PRIMARY);
        ck_assert_int_eq(state_of_role(ROLE_SECONDARY), STATE_SECONDARY);
        ck_assert_int_eq(role_parse("secondary"), ROLE_SECONDARY);
        ck_assert_int_eq(role_parse("backup"), -1);
}
END_TEST

Suite *state_suite(void)
{
        Suite *s = suite_create("state");
        TCase *tc = tcase_create("names");
        tcase_add_test(tc, test_state_names_roundtrip);
        tcase_add_test(tc, test_state_route_maps);
        suite_add_tcase(s, tc);
        return s;
}
