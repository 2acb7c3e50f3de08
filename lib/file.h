/* Files that must never be seen half-written: frr.conf, the drain state, the metrics textfile. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Reads a whole file (at most max bytes) into a NUL-terminated string. Returns 0 or -errno (-EFBIG). */
int file_read(const char *path, size_t max, char **ret, size_t *len);

enum file_flags {
        FILE_DURABLE = 1 << 0,  /* fsync the file and its directory: the new content survives a power cut */
};

/* Writes data to path atomically: a temporary file in the same directory, rename over path (with
 * FILE_DURABLE: fsync before the rename and of the directory after). Readers see the old or the new
 * content, never a part. The file gets mode (and the owner and group of the file it replaces, when there
 * is one). When the file already holds exactly data, nothing is written and *changed is false. Returns 0
 * or -errno; on failure the old file is intact and no temporary file is left. */
int file_write_atomic(const char *path, const char *data, size_t len, mode_t mode, unsigned flags, bool *changed);
