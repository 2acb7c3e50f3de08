/* Fixture helpers for the unit suites. */
#define _XOPEN_SOURCE 700
#include <fcntl.h>
#include <ftw.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "unit.h"

char *unit_tmpdir(void)
{
        char *t = strdup("/tmp/failoverd-unit.XXXXXX");
        ck_assert_ptr_nonnull(t);
        ck_assert_ptr_nonnull(mkdtemp(t));
        return t;
}

char *unit_write(const char *dir, const char *name, const char *text, int mode)
{
        size_t n = strlen(dir) + strlen(name) + 2;
        char *p = malloc(n);
        ck_assert_ptr_nonnull(p);
        snprintf(p, n, "%s/%s", dir, name);
        int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
        ck_assert_int_ge(fd, 0);
        size_t len = strlen(text);
        ck_assert_int_eq(write(fd, text, len), (ssize_t)len);
        ck_assert_int_eq(fchmod(fd, (mode_t)mode), 0);
        close(fd);
        return p;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
        (void)st;
        (void)flag;
        (void)ftw;
        return remove(path);
}

void unit_rmrf(const char *dir)
{
        if (dir)
                nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

int unit_lo_up(void)
{
        struct ifreq ifr = { .ifr_name = "lo" };
        int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        int r = fd < 0 || ioctl(fd, SIOCGIFFLAGS, &ifr) < 0 ? -1 : 0;
        ifr.ifr_flags |= IFF_UP;
        if (r == 0 && ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
                r = -1;
        if (fd >= 0)
                close(fd);
        return r;
}
