/* The agent's one-shot timers on CLOCK_MONOTONIC, and the seam that runs them on a fake clock in the unit
 * tests (sd-event has none): a test moves the clock, never sleeps. */
#pragma once

#include <stdint.h>

#include <systemd/sd-event.h>

/* Arms *src to call fn(userdata) once, usec from now: added at the first call (into *src), re-armed after.
 * 0 or -errno (the timer is then not armed: the caller says what follows). */
int timer_arm(sd_event *e, sd_event_source **src, uint64_t usec, uint64_t accuracy, sd_event_time_handler_t fn,
              void *userdata);

/* For tests. From timer_fake_start() on, a timer armed by timer_arm() fires only once timer_fake_advance()
 * has moved the fake clock to its deadline (then at the loop's next iteration). *src must stay valid while
 * the fake clock runs; timer_fake_stop() forgets every timer. */
void timer_fake_start(void);
void timer_fake_stop(void);
void timer_fake_advance(uint64_t usec);
/* Microseconds the fake clock has moved since timer_fake_start(). */
uint64_t timer_fake_now(void);
