/* Logging: journald with structured fields under systemd, stderr with time and level otherwise. */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>

#include <systemd/sd-journal.h>

#include "log.h"

static const char *log_ident = "failoverd";
static int log_max = LOG_INFO;
static int log_journal;
static log_tap_fn log_tap;
static bool (*log_tap_active)(void *userdata);
static void *log_tap_userdata;

void log_set_tap(log_tap_fn fn, bool (*active)(void *userdata), void *userdata)
{
        log_tap = fn;
        log_tap_active = active;
        log_tap_userdata = userdata;
}

void log_init(const char *ident, int max_level)
{
        log_ident = ident;
        log_max = max_level;
        /* systemd sets JOURNAL_STREAM when stderr is connected to the journal. */
        log_journal = getenv("JOURNAL_STREAM") != NULL;
}

void log_set_level(int max_level)
{
        log_max = max_level;
}

static const char *level_name(int level)
{
        static const char *const names[] = { "emerg", "alert", "crit", "error", "warning", "notice", "info",
                                             "debug" };
        return level >= 0 && level <= 7 ? names[level] : "?";
}

void log_fields(int level, const char *const *fields, const char *fmt, ...)
{
        char msg[4096];
        va_list ap;

        bool tapped = log_tap && level <= LOG_INFO && log_tap_active(log_tap_userdata);
        if (level > log_max && !tapped)
                return;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        if (tapped) {
                log_tap_fn fn = log_tap;
                log_tap = NULL;         /* a tap that logs does not recurse */
                fn(level, fields, msg, log_tap_userdata);
                log_tap = fn;
        }
        if (level > log_max)
                return;

        if (log_journal) {
                struct iovec iov[16];
                char m[4200], p[32], id[64];
                int n = 0;
                snprintf(m, sizeof(m), "MESSAGE=%s", msg);
                snprintf(p, sizeof(p), "PRIORITY=%d", level);
                snprintf(id, sizeof(id), "SYSLOG_IDENTIFIER=%s", log_ident);
                iov[n++] = (struct iovec){ m, strlen(m) };
                iov[n++] = (struct iovec){ p, strlen(p) };
                iov[n++] = (struct iovec){ id, strlen(id) };
                for (int i = 0; fields && fields[i] && n < 16; i++)
                        iov[n++] = (struct iovec){ (void *)fields[i], strlen(fields[i]) };
                if (sd_journal_sendv(iov, n) >= 0)
                        return;
        }
        struct timespec ts;
        struct tm tm;
        char t[32];
        clock_gettime(CLOCK_REALTIME, &ts);
        localtime_r(&ts.tv_sec, &tm);
        strftime(t, sizeof(t), "%H:%M:%S", &tm);
        fprintf(stderr, "%s.%03ld %s[%s]: %s\n", t, ts.tv_nsec / 1000000, log_ident, level_name(level), msg);
}

void log_diag(const struct diag *d)
{
        static const int levels[] = { [DIAG_DEBUG] = LOG_DEBUG, [DIAG_NOTICE] = LOG_NOTICE,
                                      [DIAG_WARNING] = LOG_WARNING, [DIAG_ERROR] = LOG_ERR };
        for (size_t i = 0; i < d->n; i++)
                log_fields(levels[d->msgs[i].level], NULL, "%s", d->msgs[i].text);
}
