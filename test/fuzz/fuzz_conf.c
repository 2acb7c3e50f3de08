/* libFuzzer harness for the configuration parser: each input is a failoverd.conf given to conf_load. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"

static char dir[64];
static char path[128];

static void teardown(void)
{
        unlink(path);
        rmdir(dir);
}

/* A private empty working directory: relative paths (conf.d, frr.extra) land in it, not in the tree. */
static void setup(void)
{
        snprintf(dir, sizeof(dir), "/tmp/fuzz-conf.XXXXXX");
        if (!mkdtemp(dir) || chdir(dir) < 0)
                abort();
        snprintf(path, sizeof(path), "%s/failoverd.conf", dir);
        atexit(teardown);
}

/* Inputs that read devices or the host's trees test the host, not the parser: /dev/zero as frr.extra
 * is bounded by EXTRA_MAX (covered by the conf suite) but costs a second per run. */
static int hostile_to_host(const uint8_t *data, size_t size)
{
        static const char *const bad[] = { "/dev", "/proc", "/sys", "@include", "..", "/etc", "/usr",
                                           "/var", "/run", NULL };
        for (size_t i = 0; bad[i]; i++)
                if (memmem(data, size, bad[i], strlen(bad[i])))
                        return 1;
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (!dir[0])
                setup();
        if (size > 64 * 1024 || hostile_to_host(data, size))
                return 0;
        FILE *f = fopen(path, "we");
        if (!f)
                abort();
        if (size && fwrite(data, 1, size, f) != size)
                abort();
        if (fclose(f) != 0)
                abort();

        struct diag d;
        struct conf *c = NULL;
        diag_init(&d);
        int r = conf_load(path, &c, &d);
        if (r == 0) {
                /* A configuration that loads passed every validator: nothing FRR-bound has a newline. */
                if (!c || strchr(c->hostname, '\n') || strchr(c->bgp.community_primary, '\n') ||
                    strchr(c->bgp.community_secondary, '\n') || strchr(c->frr.pathspace, '\n'))
                        abort();
                for (char **rs = c->bgp.route_servers; rs && *rs; rs++)
                        if (strpbrk(*rs, "\n \t"))
                                abort();
        } else if (c) {
                abort();        /* failure must leave *ret NULL */
        }
        conf_free(c);
        diag_free(&d);
        return 0;
}
