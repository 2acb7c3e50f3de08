/* Atomic file replacement and whole-file reads. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "file.h"

int file_read(const char *path, size_t max, char **ret, size_t *len)
{
        struct buf b;
        char chunk[8192];
        ssize_t n;
        int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

        *ret = NULL;
        if (fd < 0)
                return -errno;
        buf_init(&b);
        while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        int e = errno;
                        close(fd);
                        buf_free(&b);
                        return -e;
                }
                if (b.len + (size_t)n > max) {
                        close(fd);
                        buf_free(&b);
                        return -EFBIG;
                }
                if (buf_append(&b, chunk, (size_t)n) < 0) {
                        close(fd);
                        buf_free(&b);
                        return -ENOMEM;
                }
        }
        close(fd);
        if (len)
                *len = b.len;
        *ret = buf_steal(&b);
        return *ret ? 0 : -ENOMEM;
}

static int same_content(const char *path, const char *data, size_t len)
{
        char *old = NULL;
        size_t olen = 0;
        if (file_read(path, len + 1, &old, &olen) < 0)
                return 0;
        int same = olen == len && memcmp(old, data, len) == 0;
        free(old);
        return same;
}

static int write_all(int fd, const char *data, size_t len)
{
        while (len) {
                ssize_t n = write(fd, data, len);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                data += n;
                len -= (size_t)n;
        }
        return 0;
}

int file_write_atomic(const char *path, const char *data, size_t len, mode_t mode, unsigned flags, bool *changed)
{
        char dirbuf[4096], basebuf[4096], tmp[8300];
        struct stat old;
        int r, fd, dfd;

        if (changed)
                *changed = false;
        if (same_content(path, data, len))
                return 0;
        if (strlen(path) >= sizeof(dirbuf))
                return -ENAMETOOLONG;
        /* dirname() and basename() may modify their argument: each gets its own copy. */
        snprintf(dirbuf, sizeof(dirbuf), "%s", path);
        snprintf(basebuf, sizeof(basebuf), "%s", path);
        const char *dir = dirname(dirbuf);
        snprintf(tmp, sizeof(tmp), "%s/.%s.XXXXXX", dir, basename(basebuf));

        fd = mkostemp(tmp, O_CLOEXEC);
        if (fd < 0)
                return -errno;
        bool have_old = stat(path, &old) == 0;
        r = write_all(fd, data, len);
        if (r == 0 && fchmod(fd, mode) < 0)
                r = -errno;
        /* Keep the owner and group of the file we replace (frr.conf is frr:frr on Debian). */
        if (r == 0 && have_old && fchown(fd, old.st_uid, old.st_gid) < 0 && errno != EPERM)
                r = -errno;
        if (r == 0 && (flags & FILE_DURABLE) && fsync(fd) < 0)
                r = -errno;
        if (close(fd) < 0 && r == 0)
                r = -errno;
        if (r == 0 && rename(tmp, path) < 0)
                r = -errno;
        if (r < 0) {
                unlink(tmp);
                return r;
        }
        dfd = flags & FILE_DURABLE ? open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
        if (dfd >= 0) {
                if (fsync(dfd) < 0)
                        r = -errno;
                close(dfd);
        }
        if (changed)
                *changed = true;
        return r;
}
