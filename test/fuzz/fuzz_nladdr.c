/* libFuzzer harness for lib/nladdr.c's parser: every input is a datagram from the kernel, walked as
 * nladdr_read() walks one (nladdr_datagram_ok(), mnl_cb_run(), then nladdr_parse() per message). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>

#include "nladdr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int on_msg(const struct nlmsghdr *nlh, void *userdata)
{
        struct nladdr_msg m;
        char text[80];
        (void)userdata;
        if (nladdr_parse(nlh, &m) != 0)
                return MNL_CB_OK;
        if ((m.type != RTM_NEWADDR && m.type != RTM_DELADDR) || (m.a.family != AF_INET && m.a.family != AF_INET6) ||
            m.a.prefixlen < 0 || m.a.prefixlen > (m.a.family == AF_INET ? 32 : 128))
                abort();
        nladdr_text(&m.a, text, sizeof(text));
        if (!memchr(text, '\0', sizeof(text)))
                abort();
        return MNL_CB_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        /* A datagram lands in an aligned buffer (nladdr_read's): copy it into one. */
        void *buf = malloc(size ? size : 1);
        if (!buf)
                return 0;
        memcpy(buf, data, size);
        if (nladdr_datagram_ok(buf, size))
                mnl_cb_run(buf, size, 0, 0, on_msg, NULL);
        free(buf);
        return 0;
}
