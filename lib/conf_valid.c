/* Validators of configuration values that reach FRR, argv or the file system. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "conf_valid.h"

bool conf_has_ctrl_or_space(const char *s)
{
        for (; *s; s++)
                if (isspace((unsigned char)*s) || iscntrl((unsigned char)*s))
                        return true;
        return false;
}

bool conf_valid_hostname(const char *s)
{
        /* RFC 1123 host name: dot-separated labels of letters, digits and inner hyphens. */
        size_t len = strlen(s), label = 0;
        if (len == 0 || len > 253)
                return false;
        for (size_t i = 0; i < len; i++) {
                char c = s[i];
                if (c == '.') {
                        if (label == 0 || s[i - 1] == '-')
                                return false;
                        label = 0;
                        continue;
                }
                if (!(isalnum((unsigned char)c) || c == '-') || (c == '-' && label == 0))
                        return false;
                if (++label > 63)
                        return false;
        }
        return label > 0 && s[len - 1] != '-';
}

static bool parse_u16(const char *s, size_t n)
{
        unsigned long v = 0;
        if (n == 0 || n > 5)
                return false;
        for (size_t i = 0; i < n; i++) {
                if (s[i] < '0' || s[i] > '9')
                        return false;
                v = v * 10 + (unsigned long)(s[i] - '0');
        }
        return v <= 65535;
}

bool conf_valid_community(const char *s)
{
        const char *colon = strchr(s, ':');
        return colon && parse_u16(s, (size_t)(colon - s)) && parse_u16(colon + 1, strlen(colon + 1));
}

bool conf_valid_check_name(const char *s)
{
        if (!*s)
                return false;
        for (; *s; s++)
                if (!(isalnum((unsigned char)*s) || *s == '_' || *s == '-'))
                        return false;
        return true;
}

bool conf_valid_pathspace(const char *s)
{
        /* FRR uses the name as a directory below /etc/frr and /var/run/frr. */
        if (strlen(s) > 64)
                return false;
        return *s == '\0' || (conf_valid_check_name(s) && s[0] != '-');
}

int conf_expand_pattern(const char *pattern, int datacenter, int index, char *out, size_t outlen)
{
        struct buf b;
        int seen = 0, r = 0;

        buf_init(&b);
        for (const char *p = pattern; *p; p++) {
                if (*p != '%') {
                        buf_append(&b, p, 1);
                        continue;
                }
                if (p[1] == 'd' && seen < 2) {
                        buf_printf(&b, "%d", seen == 0 ? datacenter : index);
                        seen++;
                        p++;
                } else if (p[1] == '%') {
                        buf_append(&b, "%", 1);
                        p++;
                } else {
                        r = -EINVAL;
                        break;
                }
        }
        if (r == 0 && seen != 2)
                r = -EINVAL;
        if (r == 0 && (b.oom || !b.data || b.len >= outlen))
                r = -ENAMETOOLONG;
        if (r == 0)
                memcpy(out, b.data, b.len + 1);
        buf_free(&b);
        return r;
}

char *conf_canonical_addr(const char *s)
{
        unsigned char a[16];
        char t[INET6_ADDRSTRLEN];
        int fam = inet_pton(AF_INET, s, a) == 1 ? AF_INET : inet_pton(AF_INET6, s, a) == 1 ? AF_INET6 : 0;
        if (!fam || !inet_ntop(fam, a, t, sizeof(t)))
                return NULL;
        return strdup(t);
}

bool conf_valid_path(const char *s)
{
        if (s[0] != '/')
                return false;
        for (; *s; s++)
                if (iscntrl((unsigned char)*s))
                        return false;
        return true;
}

bool conf_prefix_overlap(const struct prefix *a, const struct prefix *b)
{
        if (a->family != b->family)
                return false;
        int len = a->len < b->len ? a->len : b->len, bytes = len / 8, rest = len % 8;
        if (memcmp(a->addr, b->addr, (size_t)bytes) != 0)
                return false;
        unsigned char mask = (unsigned char)(0xff << (8 - rest));
        return rest == 0 || (a->addr[bytes] & mask) == (b->addr[bytes] & mask);
}
