/* libFuzzer harness for the bgpd readers: every input goes through each JSON parser and the running-config parser. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bgpd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void invariants(const struct bgpd_status *s)
{
        if (s->n_peers && !s->peers)
                abort();
        if (!memchr(s->router_id, '\0', sizeof(s->router_id)))
                abort();
        for (size_t i = 0; i < s->n_peers; i++) {
                const struct bgpd_peer *p = &s->peers[i];
                if (!memchr(p->address, '\0', sizeof(p->address)) || !memchr(p->state, '\0', sizeof(p->state)) ||
                    !memchr(p->last_reset, '\0', sizeof(p->last_reset)))
                        abort();
                if (bgpd_find_peer(s, p->address) == NULL)
                        abort();
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char *text = malloc(size + 1);
        if (!text)
                return 0;
        memcpy(text, data, size);
        text[size] = '\0';

        struct bgpd_status s;
        memset(&s, 0, sizeof(s));
        if (bgpd_parse_neighbors(text, &s) == 0)
                invariants(&s);
        bgpd_status_clear(&s);

        memset(&s, 0, sizeof(s));
        if (bgpd_parse_summary(text, &s) == 0)
                invariants(&s);
        bgpd_status_clear(&s);

        memset(&s, 0, sizeof(s));
        if (bgpd_parse_router_id(text, &s) == 0)
                invariants(&s);
        bgpd_status_clear(&s);

        struct bgpd_running run;
        if (bgpd_parse_running(text, 65001, &run) == 0) {
                for (size_t i = 0; i < run.n_networks; i++)
                        if (!memchr(run.networks[i].prefix, '\0', sizeof(run.networks[i].prefix)))
                                abort();
        }
        bgpd_running_clear(&run);
        free(text);
        return 0;
}
