/* Validators of configuration values that reach FRR, argv or the file system. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "prefix.h"

/* Expands a neighbor pattern with exactly two %d. Returns 0, or -EINVAL when the pattern is not of that form. */
int conf_expand_pattern(const char *pattern, int datacenter, int index, char *out, size_t outlen);

bool conf_valid_hostname(const char *s);
bool conf_valid_community(const char *s);
bool conf_valid_check_name(const char *s);
bool conf_valid_pathspace(const char *s);
/* An absolute path with no control characters: it reaches argv or the file system, never a shell. */
bool conf_valid_path(const char *s);
/* Whether s holds white space or a control character (never in a user or group name). */
bool conf_has_ctrl_or_space(const char *s);
/* Canonical text of an address (inet_ntop of inet_pton), malloc'd, or NULL when s is not one. */
char *conf_canonical_addr(const char *s);
/* Whether two shared prefixes share an address (one holds the other): longest-prefix match would then give
 * the longer one's traffic to whoever announces it, outside the shorter one's failover. */
bool conf_prefix_overlap(const struct prefix *a, const struct prefix *b);
