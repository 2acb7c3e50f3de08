/* Paths as text: the directory and the last component of a path, without touching the file system. */
#pragma once

/* The directory of path, malloc'd: "." when it has no slash, "/" for a name in the root. NULL when out of
 * memory. Unlike dirname(3), path is not modified and a trailing slash is not special. */
char *path_dir(const char *path);
/* The last component of path: a pointer into it, "" when path ends with a slash. */
const char *path_base(const char *path);
