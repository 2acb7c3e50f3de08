/* LD_PRELOAD shim for test/integration/85-loop.sh: while the file named by FO_STALL_FLAG exists, user
 * lookups (getpwnam_r, getpwnam, getgrouplist) and fsync/fdatasync in failoverd wait (at most 60 s), like
 * a hung LDAP server or a stalled disk; each wait is logged to FO_STALL_LOG. Other programs are untouched. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static void stall(const char *what)
{
        const char *flag = getenv("FO_STALL_FLAG"), *log = getenv("FO_STALL_LOG");
        if (!flag || strcmp(program_invocation_short_name, "failoverd") != 0 || access(flag, F_OK) != 0)
                return;
        int saved = errno;
        if (log) {
                char line[128];
                struct timespec ts;
                clock_gettime(CLOCK_REALTIME, &ts);
                int n = snprintf(line, sizeof(line), "%ld.%03ld %s tid %ld main %d\n", (long)ts.tv_sec,
                                 ts.tv_nsec / 1000000, what, (long)syscall(SYS_gettid), (int)getpid());
                int fd = open(log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
                if (fd >= 0) {
                        (void)!write(fd, line, (size_t)n);
                        close(fd);
                }
        }
        struct timespec ms20 = { 0, 20000000 };
        for (int i = 0; i < 3000 && access(flag, F_OK) == 0; i++)
                nanosleep(&ms20, NULL);
        errno = saved;
}

#define REAL(name) ((__typeof__(&name))dlsym(RTLD_NEXT, #name))

int getpwnam_r(const char *name, struct passwd *pw, char *buf, size_t len, struct passwd **res)
{
        stall("getpwnam_r");
        return REAL(getpwnam_r)(name, pw, buf, len, res);
}

struct passwd *getpwnam(const char *name)
{
        stall("getpwnam");
        return REAL(getpwnam)(name);
}

int getgrouplist(const char *user, gid_t group, gid_t *groups, int *ngroups)
{
        stall("getgrouplist");
        return REAL(getgrouplist)(user, group, groups, ngroups);
}

int fsync(int fd)
{
        stall("fsync");
        return REAL(fsync)(fd);
}

int fdatasync(int fd)
{
        stall("fdatasync");
        return REAL(fdatasync)(fd);
}
