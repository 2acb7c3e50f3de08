/* argv of every vtysh and frr-reload.py call failoverd makes: built from validated config, never a shell. */
#pragma once

#include "conf.h"

/* vtysh [-N PATHSPACE] -d bgpd -c CMD... (CMD as given; e.g. render_fast_path()'s lines). */
char **vty_argv_commands(const struct conf *c, char *const *cmds);
/* vtysh [-N PATHSPACE] -d bgpd -c CMD: one show command. */
char **vty_argv_show(const struct conf *c, const char *cmd);
/* vtysh [-N PATHSPACE] -c CMD: one show command to every daemon (zebra's lines included). */
char **vty_argv_show_all(const struct conf *c, const char *cmd);
/* vtysh -C -f FILE: FRR's own parser checks a file without touching any daemon. */
char **vty_argv_dryrun(const struct conf *c, const char *file);
/* vtysh [-N PATHSPACE] -f FILE: the fallback full apply when frr-reload.py is missing. */
char **vty_argv_file(const struct conf *c, const char *file);
/* frr-reload.py --reload --stdout [--bindir B] [--pathspace P] --confdir DIR FILE. */
char **vty_argv_reload(const struct conf *c, const char *file);
