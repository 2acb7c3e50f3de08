/* The two clocks every module reads: monotonic for durations and deadlines, real time for people. */
#include <time.h>

#include "clock.h"

static uint64_t usec_of(clockid_t id)
{
        struct timespec ts;
        clock_gettime(id, &ts);
        return (uint64_t)ts.tv_sec * 1000000ULL + (uint64_t)ts.tv_nsec / 1000ULL;
}

uint64_t clock_mono_usec(void)
{
        return usec_of(CLOCK_MONOTONIC);
}

uint64_t clock_real_usec(void)
{
        return usec_of(CLOCK_REALTIME);
}

double clock_real_sec(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}
