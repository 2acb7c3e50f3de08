/* JSON and text made safe to print on a terminal: the escaping both the server and failoverctl use. */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "ctl_json.h"

/* Length of the well-formed UTF-8 sequence at s (shortest form, no surrogates, at most U+10FFFF) and its
 * code point, or 0 when the byte at s does not start one. */
static size_t utf8_seq(const unsigned char *s, size_t left, unsigned *cp)
{
        size_t n;
        unsigned c = s[0], min;

        if (c < 0x80) {
                *cp = c;
                return 1;
        }
        if ((c & 0xe0) == 0xc0)
                n = 2, c &= 0x1f, min = 0x80;
        else if ((c & 0xf0) == 0xe0)
                n = 3, c &= 0x0f, min = 0x800;
        else if ((c & 0xf8) == 0xf0)
                n = 4, c &= 0x07, min = 0x10000;
        else
                return 0;
        if (n > left)
                return 0;
        for (size_t i = 1; i < n; i++) {
                if ((s[i] & 0xc0) != 0x80)
                        return 0;
                c = c << 6 | (s[i] & 0x3f);
        }
        if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
                return 0;
        *cp = c;
        return n;
}

/* C0, DEL and C1: what a terminal may take for a command rather than text. */
static bool is_control(unsigned cp)
{
        return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f);
}

int ctl_escape_text(const char *s, struct buf *out)
{
        const unsigned char *p = (const unsigned char *)(s ? s : "");
        size_t left = strlen((const char *)p);

        while (left > 0) {
                unsigned cp = 0;
                size_t n = utf8_seq(p, left, &cp);
                if (n == 0)
                        buf_printf(out, "\\x%02x", p[0]);
                else if (cp == '\n')
                        buf_puts(out, "\\n");
                else if (cp == '\t')
                        buf_puts(out, "\\t");
                else if (cp == '\r')
                        buf_puts(out, "\\r");
                else if (is_control(cp))
                        buf_printf(out, cp < 0x80 ? "\\x%02x" : "\\u%04x", cp);
                else
                        buf_append(out, p, n);
                n = n ? n : 1;
                p += n;
                left -= n;
        }
        if (!out->data)
                buf_puts(out, "");
        return out->oom ? -ENOMEM : 0;
}

static bool needs_escape(const char *s)
{
        for (const char *p = s; *p; p++)
                if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
                        return true;
        return false;
}

/* Every string of o (keys stay: the daemon makes them) made safe to print, in place. */
static int escape_tree(json_object *o)
{
        int r = 0;

        switch (json_object_get_type(o)) {
        case json_type_string: {
                const char *v = json_object_get_string(o);
                if (!needs_escape(v))
                        return 0;
                struct buf b;
                buf_init(&b);
                r = ctl_escape_text(v, &b);
                if (r == 0 && !json_object_set_string(o, b.data))
                        r = -ENOMEM;
                buf_free(&b);
                return r;
        }
        case json_type_array:
                for (size_t i = 0; i < json_object_array_length(o) && r == 0; i++)
                        r = escape_tree(json_object_array_get_idx(o, i));
                return r;
        case json_type_object: {
                json_object_object_foreach(o, k, v) {
                        (void)k;
                        if (r == 0)
                                r = escape_tree(v);
                }
                return r;
        }
        default:
                return 0;
        }
}

json_object *ctl_escaped_copy(json_object *o)
{
        json_object *copy = NULL;
        if (json_object_deep_copy(o, &copy, NULL) < 0)
                return NULL;
        if (escape_tree(copy) < 0)
                copy = (json_object_put(copy), NULL);
        return copy;
}

int ctl_json_serialize(json_object *o, int flags, struct buf *out)
{
        const unsigned char *p = (const unsigned char *)json_object_to_json_string_ext(o, flags);

        if (!p)
                return -ENOMEM;
        /* json-c escapes C0 in strings (a C0 byte here is pretty-printing); DEL, C1 and bytes that are not
         * UTF-8 can only be inside strings, where a \u escape keeps the text valid JSON. */
        for (size_t left = strlen((const char *)p); left > 0;) {
                unsigned cp = 0;
                size_t n = utf8_seq(p, left, &cp);
                if (n == 0)
                        buf_puts(out, "\\ufffd");
                else if (cp >= 0x7f && is_control(cp))
                        buf_printf(out, "\\u%04x", cp);
                else
                        buf_append(out, p, n);
                n = n ? n : 1;
                p += n;
                left -= n;
        }
        return out->oom ? -ENOMEM : 0;
}
