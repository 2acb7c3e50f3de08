/* Paths as text: the directory and the last component of a path, without touching the file system. */
#include <stdlib.h>
#include <string.h>

#include "path.h"

char *path_dir(const char *path)
{
        const char *slash = strrchr(path, '/');
        if (!slash)
                return strdup(".");
        return slash == path ? strdup("/") : strndup(path, (size_t)(slash - path));
}

const char *path_base(const char *path)
{
        const char *slash = strrchr(path, '/');
        return slash ? slash + 1 : path;
}
