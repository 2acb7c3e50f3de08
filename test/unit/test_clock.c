/* Unit tests for lib/clock.c: each helper reads the clock it names, in the unit it names. */
#include <time.h>

#include "unit.h"

#include "clock.h"

static uint64_t usec(clockid_t id)
{
        struct timespec ts;
        clock_gettime(id, &ts);
        return (uint64_t)ts.tv_sec * 1000000ULL + (uint64_t)ts.tv_nsec / 1000ULL;
}

START_TEST(test_clock_mono)
{
        uint64_t before = usec(CLOCK_MONOTONIC), t = clock_mono_usec(), after = usec(CLOCK_MONOTONIC);
        ck_assert_uint_le(before, t);
        ck_assert_uint_le(t, after);
        struct timespec ms20 = { 0, 20000000 };
        nanosleep(&ms20, NULL);
        ck_assert_uint_ge(clock_mono_usec() - t, 20000);
}
END_TEST

START_TEST(test_clock_real)
{
        uint64_t before = usec(CLOCK_REALTIME), t = clock_real_usec(), after = usec(CLOCK_REALTIME);
        ck_assert_uint_le(before, t);
        ck_assert_uint_le(t, after);
        /* Seconds and microseconds agree (and are not milliseconds or nanoseconds). */
        double s = clock_real_sec();
        ck_assert(s * 1e6 + 1.0 >= (double)t);
        ck_assert(s * 1e6 - (double)usec(CLOCK_REALTIME) < 2.0);
        ck_assert(s > 1.5e9 && s < 1e11);
}
END_TEST

Suite *clock_suite(void)
{
        Suite *s = suite_create("clock");
        TCase *tc = tcase_create("clocks");
        tcase_add_test(tc, test_clock_mono);
        tcase_add_test(tc, test_clock_real);
        suite_add_tcase(s, tc);
        return s;
}
