/* argv of every vtysh and frr-reload.py call failoverd makes: built from validated config, never a shell. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "path.h"
#include "vty.h"

/* Appends strings (ended by NULL) to a NULL-terminated vector; frees it and returns NULL when out of memory. */
static char **push(char **v, ...)
{
        va_list ap;
        const char *s;
        size_t n = strv_len(v);

        if (!v)
                return NULL;
        va_start(ap, v);
        while ((s = va_arg(ap, const char *))) {
                char **nv = realloc(v, (n + 2) * sizeof(char *));
                if (!nv || !(nv[n] = strdup(s))) {
                        va_end(ap);
                        if (nv)
                                nv[n] = NULL;
                        return strv_free(nv ? nv : v);
                }
                v = nv;
                v[++n] = NULL;
        }
        va_end(ap);
        return v;
}

static char **vtysh_base(const struct conf *c)
{
        char **v = push(calloc(1, sizeof(char *)), c->frr.vtysh, NULL);
        if (v && c->frr.pathspace[0])
                v = push(v, "-N", c->frr.pathspace, NULL);
        return v;
}

char **vty_argv_commands(const struct conf *c, char *const *cmds)
{
        char **v = push(vtysh_base(c), "-d", "bgpd", NULL);
        for (size_t i = 0; v && cmds && cmds[i]; i++)
                v = push(v, "-c", cmds[i], NULL);
        return v;
}

char **vty_argv_show(const struct conf *c, const char *cmd)
{
        return push(vtysh_base(c), "-d", "bgpd", "-c", cmd, NULL);
}

char **vty_argv_show_all(const struct conf *c, const char *cmd)
{
        return push(vtysh_base(c), "-c", cmd, NULL);
}

char **vty_argv_dryrun(const struct conf *c, const char *file)
{
        return push(calloc(1, sizeof(char *)), c->frr.vtysh, "-C", "-f", file, NULL);
}

char **vty_argv_file(const struct conf *c, const char *file)
{
        return push(vtysh_base(c), "-f", file, NULL);
}

char **vty_argv_reload(const struct conf *c, const char *file)
{
        /* frr-reload.py writes over its file unless it is CONFDIR/frr.conf (docs/frr-facts.md): CONFDIR is
         * the file's own directory, which the caller names frr.conf. */
        char **v = push(calloc(1, sizeof(char *)), c->frr.reload, "--reload", "--stdout", NULL);
        /* frr-reload.py runs "vtysh" from PATH unless told where ours is. */
        if (v && strcmp(path_base(c->frr.vtysh), "vtysh") == 0) {
                char *bindir = path_dir(c->frr.vtysh);
                v = bindir ? push(v, "--bindir", bindir, NULL) : strv_free(v);
                free(bindir);
        }
        if (v && c->frr.pathspace[0])
                v = push(v, "--pathspace", c->frr.pathspace, NULL);
        char *confdir = v ? path_dir(file) : NULL;
        v = confdir ? push(v, "--confdir", confdir, file, NULL) : strv_free(v);
        free(confdir);
        return v;
}
