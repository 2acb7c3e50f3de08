/* The agent's one-shot timers on CLOCK_MONOTONIC, and the seam that runs them on a fake clock in the unit
 * tests. */
#include <assert.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

#include "timer.h"

#define FAKE_MAX 32
#define FAKE_PARKED_USEC (3600ULL * 1000000ULL)        /* a faked timer's real deadline: never, in a test */

/* The fake clock: the one global here, only ever set by a test. */
static struct {
        bool on;
        uint64_t now;
        struct {
                sd_event_source **slot;
                sd_event_source *src;
                uint64_t due;
        } t[FAKE_MAX];
        size_t n;
} fake;

static void fake_forget(size_t i)
{
        fake.t[i] = fake.t[--fake.n];
}

static int fake_record(sd_event_source **slot, uint64_t usec)
{
        size_t i;
        for (i = 0; i < fake.n && fake.t[i].slot != slot; i++)
                ;
        if (i == fake.n) {
                if (fake.n == FAKE_MAX)
                        return -ENOSPC;
                fake.n++;
        }
        fake.t[i].slot = slot;
        fake.t[i].src = *slot;
        fake.t[i].due = fake.now + usec;
        return 0;
}

int timer_arm(sd_event *e, sd_event_source **src, uint64_t usec, uint64_t accuracy, sd_event_time_handler_t fn,
              void *userdata)
{
        uint64_t real = fake.on ? FAKE_PARKED_USEC : usec;
        int r;

        assert(e && src && fn);
        if (!*src)
                r = sd_event_add_time_relative(e, src, CLOCK_MONOTONIC, real, accuracy, fn, userdata);
        else if ((r = sd_event_source_set_time_relative(*src, real)) >= 0)
                r = sd_event_source_set_enabled(*src, SD_EVENT_ONESHOT);
        if (r >= 0 && fake.on)
                r = fake_record(src, usec);
        return r;
}

void timer_fake_start(void)
{
        fake.on = true;
        fake.now = 0;
        fake.n = 0;
}

void timer_fake_stop(void)
{
        fake.on = false;
        fake.n = 0;
}

void timer_fake_advance(uint64_t usec)
{
        assert(fake.on);
        fake.now += usec;
        for (size_t i = 0; i < fake.n;) {
                /* A slot that holds another source (or none) now: that timer was dropped. */
                if (*fake.t[i].slot != fake.t[i].src) {
                        fake_forget(i);
                } else if (fake.t[i].due <= fake.now) {
                        sd_event_source_set_time_relative(fake.t[i].src, 0);
                        fake_forget(i);
                } else {
                        i++;
                }
        }
}

uint64_t timer_fake_now(void)
{
        return fake.now;
}
