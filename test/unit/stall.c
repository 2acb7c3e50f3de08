/* Test doubles linked into the runner: fsync() that can be made to stall, and counted NSS user lookups, so
 * that suites can show what runs on the event loop and what does not. */
#include <dlfcn.h>
#include <grp.h>
#include <pwd.h>
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>

#include "unit.h"

atomic_int unit_fsync_stall;
atomic_int unit_fsync_waiting;
atomic_int unit_nss_calls;

/* The runner's own definitions come first in symbol lookup: lib/ calls these, and these call libc's. */
int fsync(int fd)
{
        static int (*real)(int);
        if (!real)
                *(void **)&real = dlsym(RTLD_NEXT, "fsync");
        if (atomic_load(&unit_fsync_stall)) {
                atomic_fetch_add(&unit_fsync_waiting, 1);
                struct timespec ms10 = { 0, 10000000 };
                for (int i = 0; i < 2000 && atomic_load(&unit_fsync_stall); i++)
                        nanosleep(&ms10, NULL);
                atomic_fetch_sub(&unit_fsync_waiting, 1);
        }
        return real(fd);
}

int getpwnam_r(const char *name, struct passwd *pw, char *buf, size_t len, struct passwd **res)
{
        static int (*real)(const char *, struct passwd *, char *, size_t, struct passwd **);
        if (!real)
                *(void **)&real = dlsym(RTLD_NEXT, "getpwnam_r");
        atomic_fetch_add(&unit_nss_calls, 1);
        return real(name, pw, buf, len, res);
}

int getgrouplist(const char *user, gid_t group, gid_t *groups, int *ngroups)
{
        static int (*real)(const char *, gid_t, gid_t *, int *);
        if (!real)
                *(void **)&real = dlsym(RTLD_NEXT, "getgrouplist");
        atomic_fetch_add(&unit_nss_calls, 1);
        return real(user, group, groups, ngroups);
}
