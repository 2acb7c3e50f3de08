/* The two clocks every module reads: monotonic for durations and deadlines, real time for people. */
#pragma once

#include <stdint.h>

/* CLOCK_MONOTONIC in microseconds (what sd-event's CLOCK_MONOTONIC timers count). */
uint64_t clock_mono_usec(void);
/* CLOCK_REALTIME in microseconds since the epoch. */
uint64_t clock_real_usec(void);
/* CLOCK_REALTIME in seconds since the epoch, with the fraction. */
double clock_real_sec(void);
