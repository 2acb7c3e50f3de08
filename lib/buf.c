/* Growable byte buffer, diagnostics list and string-vector helpers. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

void buf_init(struct buf *b)
{
        memset(b, 0, sizeof(*b));
}

void buf_free(struct buf *b)
{
        free(b->data);
        buf_init(b);
}

void buf_reset(struct buf *b)
{
        b->len = 0;
        b->oom = 0;
        if (b->data)
                b->data[0] = '\0';
}

static int buf_reserve(struct buf *b, size_t extra)
{
        if (b->oom)
                return -ENOMEM;
        if (b->len + extra + 1 <= b->cap)
                return 0;
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + extra + 1) {
                if (cap > ((size_t)-1) / 2) {
                        b->oom = 1;
                        return -ENOMEM;
                }
                cap *= 2;
        }
        char *p = realloc(b->data, cap);
        if (!p) {
                b->oom = 1;
                return -ENOMEM;
        }
        b->data = p;
        b->cap = cap;
        return 0;
}

int buf_append(struct buf *b, const void *data, size_t len)
{
        int r = buf_reserve(b, len);
        if (r < 0)
                return r;
        if (len)
                memcpy(b->data + b->len, data, len);
        b->len += len;
        b->data[b->len] = '\0';
        return 0;
}

int buf_puts(struct buf *b, const char *s)
{
        return buf_append(b, s, strlen(s));
}

int buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
        va_list aq;
        va_copy(aq, ap);
        int n = vsnprintf(NULL, 0, fmt, aq);
        va_end(aq);
        if (n < 0)
                return -EINVAL;
        int r = buf_reserve(b, (size_t)n);
        if (r < 0)
                return r;
        vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
        b->len += (size_t)n;
        return 0;
}

int buf_printf(struct buf *b, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        int r = buf_vprintf(b, fmt, ap);
        va_end(ap);
        return r;
}

char *buf_steal(struct buf *b)
{
        char *s = b->data;
        if (!s)
                s = calloc(1, 1);
        buf_init(b);
        return s;
}

void diag_init(struct diag *d)
{
        memset(d, 0, sizeof(*d));
}

void diag_free(struct diag *d)
{
        for (size_t i = 0; i < d->n; i++)
                free(d->msgs[i].text);
        free(d->msgs);
        diag_init(d);
}

void diag_add(struct diag *d, enum diag_level level, const char *fmt, ...)
{
        struct buf b;
        va_list ap;

        buf_init(&b);
        va_start(ap, fmt);
        buf_vprintf(&b, fmt, ap);
        va_end(ap);

        struct diag_msg *m = realloc(d->msgs, (d->n + 1) * sizeof(*m));
        if (!m) {
                buf_free(&b);
                return;
        }
        d->msgs = m;
        d->msgs[d->n].level = level;
        d->msgs[d->n].text = buf_steal(&b);
        d->n++;
        if (level == DIAG_ERROR)
                d->n_errors++;
}

const char *diag_find(const struct diag *d, const char *needle)
{
        for (size_t i = 0; i < d->n; i++)
                if (d->msgs[i].text && strstr(d->msgs[i].text, needle))
                        return d->msgs[i].text;
        return NULL;
}

char *xstrdup(const char *s)
{
        return s ? strdup(s) : NULL;
}

char **strv_free(char **v)
{
        if (v)
                for (char **p = v; *p; p++)
                        free(*p);
        free(v);
        return NULL;
}

size_t strv_len(char *const *v)
{
        size_t n = 0;
        while (v && v[n])
                n++;
        return n;
}

char **strv_copy(char *const *v)
{
        size_t n = strv_len(v);
        char **c = calloc(n + 1, sizeof(*c));
        if (!c)
                return NULL;
        for (size_t i = 0; i < n; i++)
                if (!(c[i] = strdup(v[i])))
                        return strv_free(c);
        return c;
}
