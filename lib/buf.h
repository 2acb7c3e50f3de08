/* Growable byte buffer and error/notice lists shared by every lib/ module. */
#pragma once

#include <stdarg.h>
#include <stddef.h>

struct buf {
        char *data;     /* always NUL-terminated once anything was appended */
        size_t len;
        size_t cap;
        int oom;        /* set when an allocation failed; later appends are dropped */
};

void buf_init(struct buf *b);
void buf_free(struct buf *b);
void buf_reset(struct buf *b);
int buf_append(struct buf *b, const void *data, size_t len);
int buf_puts(struct buf *b, const char *s);
int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int buf_vprintf(struct buf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
/* Hands the string over to the caller (never NULL unless out of memory); b is left empty. */
char *buf_steal(struct buf *b);

enum diag_level { DIAG_DEBUG, DIAG_NOTICE, DIAG_WARNING, DIAG_ERROR };

/* Messages meant for people, collected by parsers so that every problem is reported at once. */
struct diag {
        struct diag_msg {
                enum diag_level level;
                char *text;
        } *msgs;
        size_t n;
        size_t n_errors;
};

void diag_init(struct diag *d);
void diag_free(struct diag *d);
void diag_add(struct diag *d, enum diag_level level, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
/* Returns the first message containing needle, or NULL: for tests and callers that filter. */
const char *diag_find(const struct diag *d, const char *needle);

/* strdup that tolerates NULL. */
char *xstrdup(const char *s);
/* Frees a NULL-terminated vector of strings; returns NULL. */
char **strv_free(char **v);
size_t strv_len(char *const *v);
char **strv_copy(char *const *v);
