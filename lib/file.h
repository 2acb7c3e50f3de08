/* Files that must never be seen half-written: frr.conf, the drain state, the metrics textfile. Everything
 * in a directory is reached through a descriptor of that directory, never through a symlink in it. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <systemd/sd-event.h>

/* Temporary files of file_write_atomic() are named .NAME.failoverd-XXXXXX (6 of [A-Za-z0-9]). */
#define FILE_TEMP_INFIX ".failoverd-"

/* Reads a whole regular file (at most max bytes) into a NUL-terminated string; never blocks on opening a
 * FIFO. Returns 0 or -errno (-EFBIG; -EINVAL when it is not a regular file). */
int file_read(const char *path, size_t max, char **ret, size_t *len);
/* The same for the entry name of directory dfd, which must be a regular file and not a symlink
 * (-ELOOP; -EINVAL for a FIFO, device or directory). */
int file_read_at(int dfd, const char *name, size_t max, char **ret, size_t *len);

/* Opens directory path (O_RDONLY, O_CLOEXEC) one component at a time. A symlink on the way is followed only
 * when it sits in a directory that is root's and not writable by group or others (nobody else can have
 * put it there); otherwise -ELOOP. Returns the descriptor or -errno. */
int file_open_dir(const char *path);
/* Creates directory path (mode) and its missing parents (0755); an existing one is fine. 0 or -errno. */
int file_mkdir_p(const char *path, mode_t mode);
/* Splits path into a malloc'd directory ("." without a slash) and its last component (a pointer into
 * path). Returns 0, -EINVAL when there is no file name, -ENOMEM. */
int file_split(const char *path, char **dir, const char **base);
/* Whether name is one of file_write_atomic()'s temporary names for base (.BASE.failoverd-XXXXXX). */
bool file_is_temp_name(const char *name, const char *base);

enum file_flags {
        FILE_DURABLE = 1 << 0,  /* fsync the file and its directory: the new content survives a power cut */
};

/* Writes data to path atomically: a temporary file in the same directory, rename over path (with
 * FILE_DURABLE: fsync before the rename and of the directory after). Readers see the old or the new
 * content, never a part. The directory is opened with file_open_dir(); the file is replaced only when it
 * is a regular file or missing (a symlink: -ELOOP, a directory: -EISDIR). The new file gets mode and the
 * owner and group of the regular file it replaces. When the file already holds exactly data, nothing is
 * written and *changed is false. Returns 0 or -errno; on failure the old file is intact and no temporary
 * file is left. */
int file_write_atomic(const char *path, const char *data, size_t len, mode_t mode, unsigned flags, bool *changed);
/* The same for the entry name (no slash) of directory dfd. */
int file_write_atomic_at(int dfd, const char *name, const char *data, size_t len, mode_t mode, unsigned flags,
                         bool *changed);

/* Keepalived's script-security rule: path and every directory above it owned by root and not writable by
 * group or others; a root-owned sticky directory (/tmp) is accepted. Symlinks are checked on both their own
 * path and their target. Returns 0 when it passes, else -EPERM (or -errno when a component cannot be
 * examined) with a reason in why: "insecure: /etc/failoverd/conf.d is writable by group". */
int file_root_only(const char *path, char *why, size_t whylen);

/* Starts fn(arg) on a detached thread with every signal blocked; negative errno if it cannot. */
int file_thread_detached(void *(*fn)(void *), void *arg);

/* The same write on a thread of its own, for the event loop (which must never wait on the disk): done is
 * called once from e's loop with file_write_atomic()'s result; j is freed when it returns. path and data
 * are copied. Returns 0 or -errno. */
struct file_job;
typedef void (*file_done_fn)(struct file_job *j, int error, bool changed, void *userdata);
int file_write_async(sd_event *e, const char *path, const char *data, size_t len, mode_t mode, unsigned flags,
                     file_done_fn done, void *userdata, struct file_job **ret);
/* Removes path (with FILE_DURABLE: fsync of its directory) on a thread; a missing file is success. */
int file_remove_async(sd_event *e, const char *path, unsigned flags, file_done_fn done, void *userdata,
                      struct file_job **ret);
/* done is not called; the write itself runs to its end on its thread (the file is old or new, never a
 * part). Returns NULL. */
struct file_job *file_job_cancel(struct file_job *j);
/* Blocks until j's thread is done (at most timeout_ms), then calls done as the loop would and returns
 * true; on timeout cancels j and returns false. For shutdown only, never on a running loop. */
bool file_job_finish(struct file_job *j, int timeout_ms);
