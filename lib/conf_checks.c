/* conf.d: the checks found there (scripts and NAME.conf) and the reload plan between two lists of them. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check_native.h"
#include "conf_checks.h"
#include "conf_read.h"
#include "conf_valid.h"
#include "proc.h"

struct check_conf *conf_check_clear(struct check_conf *k)
{
        free(k->name);
        free(k->script);
        strv_free(k->argv);
        free(k->conf_file);
        free(k->user);
        free(k->cred);
        check_native_conf_free(k->native);
        memset(k, 0, sizeof(*k));
        return NULL;
}

void conf_free_checks(struct check_conf *v, size_t n)
{
        for (size_t i = 0; i < n; i++)
                conf_check_clear(&v[i]);
        free(v);
}

const struct check_conf *conf_find_check(const struct conf *c, const char *name)
{
        for (size_t i = 0; i < c->n_checks; i++)
                if (strcmp(c->check[i].name, name) == 0)
                        return &c->check[i];
        return NULL;
}

/* NAME.conf: overrides for one check, or a command check when there is no script. */
static void parse_check_conf(struct diag *d, unsigned flags, const char *file, struct check_conf *k)
{
        static const char *const keys[] = { "interval", "timeout", "rise", "fall", "user", "command", "type", "host",
                                            "port", "send", "expect", "url", "status", "ca_file", "tls_verify",
                                            "unit", "path", NULL };
        struct conf_ctx x = { .d = d, .file = file, .flags = flags };
        config_t cfg;

        if (conf_read_file(d, &cfg, file) < 0)
                return;
        config_setting_t *root = config_root_setting(&cfg);
        conf_check_keys(&x, root, NULL, keys);
        conf_get_seconds(&x, root, NULL, "interval", 86400, &k->interval);
        conf_get_seconds(&x, root, NULL, "timeout", 3600, &k->timeout);
        conf_get_int32(&x, root, NULL, "rise", 1, 1000, &k->rise);
        conf_get_int32(&x, root, NULL, "fall", 1, 1000, &k->fall);
        conf_get_user(&x, root, NULL, &k->user, &k->cred);

        config_setting_t *list;
        int n = conf_get_strlist(&x, root, NULL, "command", &list);
        if (n == 0 && list)
                conf_err(&x, DIAG_ERROR, list, "command", NULL, "must not be empty");
        if (n > 0 && k->script)
                conf_err(&x, DIAG_ERROR, list, "command", NULL, "%s is also a script: use one or the other",
                         k->script);
        else if (n > 0) {
                const char *a0 = config_setting_get_string(config_setting_get_elem(list, 0));
                if (!conf_valid_path(a0))
                        conf_err(&x, DIAG_ERROR, list, "command[0]", a0,
                                 "must be an absolute path (commands are executed directly, without a shell)");
                else if (conf_check_program(&x, DIAG_ERROR, list, "command[0]", a0, "the check") == 0)
                        k->argv = conf_strv_from_list(list, n);
        }
        int nt = check_native_parse(d, file, root, &k->native);
        if (nt > 0 && (n > 0 || k->script)) {
                /* A native check runs no process: one or the other. */
                conf_err(&x, DIAG_ERROR, config_setting_get_member(root, "type"), "type",
                         check_native_type_name(k->native->type), "%s: use one or the other",
                         n > 0 ? "command is given too" : "there is an executable script of that name beside it");
                k->native = check_native_conf_free(k->native);
        }
        if (!k->script && n == 0 && nt == 0)
                diag_add(d, DIAG_ERROR, "%s: defines no check: there is no executable script %s beside it, "
                         "no command and no type", file, k->name);
        config_destroy(&cfg);
}

static int cmp_check(const void *a, const void *b)
{
        return strcmp(((const struct check_conf *)a)->name, ((const struct check_conf *)b)->name);
}

static struct check_conf *get_check(struct check_conf **v, size_t *n, const struct conf *c, const char *name)
{
        for (size_t i = 0; i < *n; i++)
                if (strcmp((*v)[i].name, name) == 0)
                        return &(*v)[i];
        struct check_conf *nv = realloc(*v, (*n + 1) * sizeof(**v));
        if (!nv)
                return NULL;
        *v = nv;
        struct check_conf *k = &nv[*n];
        memset(k, 0, sizeof(*k));
        if (!(k->name = strdup(name)))
                return NULL;
        (*n)++;
        k->interval = c->checks.interval;
        k->timeout = c->checks.timeout;
        k->rise = c->checks.rise;
        k->fall = c->checks.fall;
        k->user = xstrdup(c->checks.user);
        k->cred = proc_cred_dup(c->checks.cred);
        if ((c->checks.user && !k->user) || (c->checks.cred && !k->cred))
                return NULL;
        return k;
}

/* What run-parts skips on purpose (hidden files, editor and package-manager leftovers): not worth a warning. */
static bool leftover(const char *name)
{
        static const char *const ends[] = { "~", ".bak", ".old", ".orig", ".swp", ".rpmnew", ".rpmsave", NULL };
        size_t len = strlen(name);

        if (name[0] == '.' || strstr(name, ".dpkg-") || strstr(name, ".ucf-"))
                return true;
        for (const char *const *e = ends; *e; e++)
                if (len > strlen(*e) && strcmp(name + len - strlen(*e), *e) == 0)
                        return true;
        return false;
}

/* A file that looks meant as a check but is never run: loud, since no checks at all means always healthy.
 * Returns 1 when it warned. */
static int skipped(struct diag *d, const char *path, const char *name, bool is_conf)
{
        char base[256];
        size_t n = strcspn(name, ".");

        if (leftover(name)) {
                diag_add(d, DIAG_DEBUG, "%s: skipped: name is not [A-Za-z0-9_-]+%s", path, is_conf ? ".conf" : "");
                return 0;
        }
        snprintf(base, sizeof(base), "%.*s", (int)n, name);
        if (conf_valid_check_name(base))
                diag_add(d, DIAG_WARNING, "%s: not a check, never run: a check's name is letters, digits, '_' and "
                         "'-' only (run-parts' rule): rename it to %s%s", path, base, is_conf ? ".conf" : "");
        else
                diag_add(d, DIAG_WARNING, "%s: not a check, never run: a check's name is letters, digits, '_' and "
                         "'-' only (run-parts' rule)", path);
        return 1;
}

int conf_scan_checks(struct conf *c, struct diag *d)
{
        return conf_scan_checks_opts(c, 0, d);
}

int conf_scan_checks_opts(struct conf *c, unsigned flags, struct diag *d)
{
        struct dirent **ents = NULL;
        struct check_conf *v = NULL;
        size_t n = 0;
        size_t errors_before = d->n_errors, n_skipped = 0;
        char path[PATH_MAX];

        int ne = scandir(c->checks.directory, &ents, NULL, alphasort);
        if (ne < 0) {
                if (errno == ENOENT) {
                        diag_add(d, DIAG_WARNING, "%s: no such directory: no health checks", c->checks.directory);
                        conf_free_checks(c->check, c->n_checks);
                        c->check = NULL;
                        c->n_checks = 0;
                        return 0;
                }
                diag_add(d, DIAG_ERROR, "%s: cannot read directory: %s", c->checks.directory, strerror(errno));
                return -EINVAL;
        }

        /* Scripts first, so that a NAME.conf knows whether its script exists. */
        for (int pass = 0; pass < 2; pass++) {
                for (int i = 0; i < ne; i++) {
                        const char *name = ents[i]->d_name;
                        size_t len = strlen(name);
                        bool is_conf = len > 5 && strcmp(name + len - 5, ".conf") == 0;
                        struct stat st;

                        if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
                                continue;
                        snprintf(path, sizeof(path), "%s/%s", c->checks.directory, name);
                        if (pass == 0 && !is_conf) {
                                if (!conf_valid_check_name(name)) {
                                        if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
                                                n_skipped += skipped(d, path, name, false);
                                        continue;
                                }
                                if (stat(path, &st) < 0 || !S_ISREG(st.st_mode)) {
                                        diag_add(d, DIAG_DEBUG, "%s: skipped: not a regular file", path);
                                        continue;
                                }
                                if (access(path, X_OK) < 0) {
                                        diag_add(d, DIAG_WARNING, "%s: not executable, never run: chmod 0755 it to "
                                                 "make it a check, or move it out of the directory", path);
                                        n_skipped++;
                                        continue;
                                }
                                struct check_conf *k = get_check(&v, &n, c, name);
                                if (!k)
                                        goto oom;
                                k->script = strdup(path);
                                k->argv = calloc(2, sizeof(char *));
                                if (!k->script || !k->argv || !(k->argv[0] = strdup(path)))
                                        goto oom;
                        } else if (pass == 1 && is_conf) {
                                char base[256];
                                snprintf(base, sizeof(base), "%.*s", (int)(len - 5), name);
                                if (!conf_valid_check_name(base)) {
                                        if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
                                                n_skipped += skipped(d, path, name, true);
                                        continue;
                                }
                                if (stat(path, &st) < 0 || !S_ISREG(st.st_mode)) {
                                        diag_add(d, DIAG_DEBUG, "%s: skipped: not a regular file", path);
                                        continue;
                                }
                                struct check_conf *k = get_check(&v, &n, c, base);
                                if (!k || !(k->conf_file = strdup(path)))
                                        goto oom;
                                parse_check_conf(d, flags, path, k);
                        }
                }
        }
        for (int i = 0; i < ne; i++)
                free(ents[i]);
        free(ents);

        /* A NAME.conf that failed leaves a check without argv: drop it (its error is recorded). */
        size_t w = 0;
        for (size_t i = 0; i < n; i++) {
                if (v[i].argv || v[i].native)
                        v[w++] = v[i];
                else
                        conf_check_clear(&v[i]);
        }
        n = w;
        if (n)
                qsort(v, n, sizeof(*v), cmp_check);
        else if (n_skipped)
                diag_add(d, DIAG_WARNING, "%s: no check runs (see above): this host counts as always healthy",
                         c->checks.directory);
        conf_free_checks(c->check, c->n_checks);
        c->check = v;
        c->n_checks = n;
        return d->n_errors > errors_before ? -EINVAL : 0;

oom:
        for (int i = 0; i < ne; i++)
                free(ents[i]);
        free(ents);
        conf_free_checks(v, n);
        return -ENOMEM;
}

static bool same_check(const struct check_conf *a, const struct check_conf *b)
{
        size_t n = strv_len(a->argv);
        if (n != strv_len(b->argv))
                return false;
        for (size_t i = 0; i < n; i++)
                if (strcmp(a->argv[i], b->argv[i]) != 0)
                        return false;
        return a->interval == b->interval && a->timeout == b->timeout && a->rise == b->rise &&
               a->fall == b->fall && ((!a->user && !b->user) || (a->user && b->user && strcmp(a->user, b->user) == 0)) &&
               proc_cred_equal(a->cred, b->cred) && check_native_conf_equal(a->native, b->native);
}

void conf_diff_checks(const struct conf *prev, const struct conf *next, enum conf_check_change *change,
                      int *old_index, bool *removed)
{
        for (size_t j = 0; prev && j < prev->n_checks; j++)
                removed[j] = true;
        for (size_t i = 0; i < next->n_checks; i++) {
                old_index[i] = -1;
                change[i] = CHECK_ADDED;
                for (size_t j = 0; prev && j < prev->n_checks; j++) {
                        if (strcmp(prev->check[j].name, next->check[i].name) != 0)
                                continue;
                        old_index[i] = (int)j;
                        removed[j] = false;
                        change[i] = same_check(&prev->check[j], &next->check[i]) ? CHECK_KEPT : CHECK_CHANGED;
                }
        }
}
