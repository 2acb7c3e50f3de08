/* The shared addresses on lo when failoverd manages them: put there before the first announcement, watched
 * with an RTM_NEWADDR/RTM_DELADDR subscription on the loop, put back when removed, removed only when asked. */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/rtnetlink.h>

#include "addresses.h"
#include "log.h"
#include "nladdr.h"
#include "snapshot.h"
#include "timer.h"

struct managed {
        struct nladdr a;
        char text[64];                  /* "198.51.100.10/32" */
        char prefix[64];                /* the shared_ips entry it is the form of */
        uint64_t restored;              /* removed by someone and put back */
        bool present;                   /* on lo, as last seen */
        bool lost;                      /* was on lo, then someone removed it: the next add puts it back */
        bool seen;                      /* found by the dump in progress */
        int add_error;                  /* the last failed add, logged once until it changes */
};

struct addresses {
        sd_event *event;
        struct nladdr_sock *req;        /* add, remove, dump */
        struct nladdr_sock *sub;        /* the kernel's address notifications */
        sd_event_source *io;
        sd_event_source *timer;         /* a dump every bgp.poll_interval: a backstop for a lost notification */
        uint64_t period_usec;
        int ifindex;                    /* lo */
        struct managed *m;
        size_t n;
        uint64_t restored;              /* removed by someone and put back */
        bool known;                     /* the last read of lo worked and no notification was lost since */
        bool removing;                  /* stopping: nothing is put back any more */
        sd_event_source *remove_timer;
        void (*removed)(void *userdata);
        void *removed_userdata;
};

static struct managed *find(struct addresses *a, int ifindex, const struct nladdr *x)
{
        if (ifindex != a->ifindex)
                return NULL;
        for (size_t i = 0; i < a->n; i++)
                if (nladdr_equal(&a->m[i].a, x))
                        return &a->m[i];
        return NULL;
}

static void on_dumped(const struct nladdr_msg *msg, void *userdata)
{
        struct managed *x = find(userdata, msg->ifindex, &msg->a);
        if (x)
                x->seen = true;
}

static void on_notified(const struct nladdr_msg *msg, void *userdata)
{
        struct managed *x = find(userdata, msg->ifindex, &msg->a);
        if (!x)
                return;
        if (msg->type == RTM_DELADDR) {
                x->lost = x->lost || x->present;
                x->present = false;
        } else {
                x->present = true;
        }
}

/* Reads what is on lo now. */
static int sync_dump(struct addresses *a)
{
        for (size_t i = 0; i < a->n; i++)
                a->m[i].seen = false;
        int r = nladdr_dump(a->req, on_dumped, a);
        a->known = r >= 0;
        if (r < 0)
                return r;
        for (size_t i = 0; i < a->n; i++) {
                struct managed *x = &a->m[i];
                x->lost = x->lost || (x->present && !x->seen);
                x->present = x->seen;
        }
        return 0;
}

/* Puts every missing address on lo; one removed by someone is logged and counted. */
static void reconcile(struct addresses *a)
{
        if (a->removing)
                return;
        for (size_t i = 0; i < a->n; i++) {
                struct managed *x = &a->m[i];
                if (x->present)
                        continue;
                if (x->lost && !x->add_error)
                        log_warn("shared address %s was removed from lo: putting it back (bgpd does not announce it "
                                 "while it is missing)", x->text);
                int r = nladdr_request(a->req, RTM_NEWADDR, a->ifindex, &x->a);
                if (r < 0) {
                        /* EEXIST: the dump did not find this very form, so lo has the IPv6 address with another
                         * prefix length, which leaves bgpd's route invalid (docs/frr-facts.md). */
                        if (r != x->add_error && r == -EEXIST)
                                log_err("shared address %s: lo has this address with another prefix length; bgpd "
                                        "announces it only as %s: remove the other one", x->text, x->text);
                        else if (r != x->add_error)
                                log_err("cannot put shared address %s on lo: %s; retrying every %.3g s", x->text,
                                        strerror(-r), a->period_usec / 1e6);
                        x->add_error = r;
                        continue;
                }
                if (x->lost) {
                        a->restored++;
                        x->restored++;
                }
                log_notice("shared address %s %s lo", x->text, x->lost ? "is back on" : "put on");
                x->present = true;
                x->lost = false;
                x->add_error = 0;
        }
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
        struct addresses *a = userdata;
        (void)usec;
        int r = sync_dump(a);
        if (r < 0)
                log_err("cannot read the addresses of lo (rtnetlink dump): %s", strerror(-r));
        else
                reconcile(a);
        (void)s;
        if (timer_arm(a->event, &a->timer, a->period_usec, 0, on_timer, a) < 0)
                log_err("cannot arm the timer of the next dump of lo's addresses; following notifications only");
        return 0;
}

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
        struct addresses *a = userdata;
        (void)s;
        (void)fd;
        (void)revents;
        int r = nladdr_read(a->sub, on_notified, a);
        if (r == -ENOBUFS) {
                /* The kernel dropped notifications: what is on lo is read again. */
                log_notice("rtnetlink address notifications overflowed: reading lo again");
                r = sync_dump(a);
        }
        if (r < 0) {
                log_err("rtnetlink address notifications: %s", strerror(-r));
                a->known = false;       /* until the next dump */
                return 0;
        }
        reconcile(a);
        return 0;
}

static int load(struct addresses *a, const struct conf *c)
{
        struct managed *m = calloc(c->n_shared_ips + 1, sizeof(*m));
        if (!m)
                return -ENOMEM;
        size_t n = 0;
        for (size_t i = 0; i < c->n_shared_ips; i++) {
                if (nladdr_form(&c->shared_ips[i], &m[n].a) < 0)
                        continue;
                nladdr_text(&m[n].a, m[n].text, sizeof(m[n].text));
                for (size_t k = 0; k < a->n; k++)      /* a reload keeps what is known of the old ones */
                        if (nladdr_equal(&a->m[k].a, &m[n].a)) {
                                m[n] = a->m[k];
                                a->m[k].text[0] = '\0';
                        }
                snprintf(m[n].prefix, sizeof(m[n].prefix), "%s", c->shared_ips[i].text);
                n++;
        }
        for (size_t k = 0; k < a->n; k++)
                if (a->m[k].text[0])
                        log_notice("shared address %s is no longer configured: left on lo", a->m[k].text);
        free(a->m);
        a->m = m;
        a->n = n;
        a->period_usec = (uint64_t)(c->bgp.poll_interval * 1e6);
        if (a->period_usec < 100000)
                a->period_usec = 100000;
        return 0;
}

int addresses_new(sd_event *e, const struct conf *c, struct addresses **ret)
{
        struct addresses *a = calloc(1, sizeof(*a));
        int r;

        if (!a)
                return -ENOMEM;
        a->event = sd_event_ref(e);
        a->ifindex = (int)if_nametoindex("lo");
        if (a->ifindex == 0) {
                r = -errno;
                goto fail;
        }
        if ((r = load(a, c)) < 0 || (r = nladdr_sock_open(false, &a->req)) < 0 ||
            (r = nladdr_sock_open(true, &a->sub)) < 0)
                goto fail;
        /* Subscribed before the dump: a removal between the two is not missed. */
        r = sd_event_add_io(e, &a->io, nladdr_sock_fd(a->sub), EPOLLIN, on_io, a);
        if (r < 0)
                goto fail;
        r = timer_arm(e, &a->timer, a->period_usec, 0, on_timer, a);
        if (r < 0)
                goto fail;
        r = sync_dump(a);
        if (r < 0)
                goto fail;
        reconcile(a);
        *ret = a;
        return 0;
fail:
        addresses_free(a);
        return r;
}

struct addresses *addresses_free(struct addresses *a)
{
        if (!a)
                return NULL;
        a->io = sd_event_source_disable_unref(a->io);
        a->timer = sd_event_source_disable_unref(a->timer);
        a->remove_timer = sd_event_source_disable_unref(a->remove_timer);
        a->req = nladdr_sock_close(a->req);
        a->sub = nladdr_sock_close(a->sub);
        free(a->m);
        sd_event_unref(a->event);
        free(a);
        return NULL;
}

void addresses_set_conf(struct addresses *a, const struct conf *c)
{
        if (load(a, c) < 0) {
                log_err("reload: cannot follow the shared addresses: out of memory");
                return;
        }
        int r = sync_dump(a);
        if (r < 0)
                log_err("cannot read the addresses of lo (rtnetlink dump): %s", strerror(-r));
        reconcile(a);
}

int addresses_remove_all(struct addresses *a)
{
        int left = 0;
        if (!a)
                return 0;
        a->removing = true;
        sd_event_source_set_enabled(a->io, SD_EVENT_OFF);
        sd_event_source_set_enabled(a->timer, SD_EVENT_OFF);
        for (size_t i = 0; i < a->n; i++) {
                int r = nladdr_request(a->req, RTM_DELADDR, a->ifindex, &a->m[i].a);
                if (r < 0 && r != -EADDRNOTAVAIL) {
                        log_err("cannot remove shared address %s from lo: %s", a->m[i].text, strerror(-r));
                        left++;
                        continue;
                }
                a->m[i].present = false;
                log_notice("shared address %s removed from lo (addresses_on_stop = \"remove\")", a->m[i].text);
        }
        return left;
}

static int on_remove_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
        struct addresses *a = userdata;
        (void)s;
        (void)usec;
        addresses_remove_all(a);
        if (a->removed)
                a->removed(a->removed_userdata);
        return 0;
}

int addresses_remove_later(struct addresses *a, uint64_t delay_usec, void (*done)(void *userdata), void *userdata)
{
        if (!a || a->remove_timer)
                return -EALREADY;
        a->removed = done;
        a->removed_userdata = userdata;
        return timer_arm(a->event, &a->remove_timer, delay_usec, 1000, on_remove_timer, a);
}

void addresses_snapshot(const struct addresses *a, struct snapshot *s)
{
        s->addresses_managed = true;
        s->addresses_restored = a->restored;
        s->addresses_missing = 0;
        for (size_t i = 0; i < a->n; i++)
                s->addresses_missing += !a->m[i].present;
        /* Stopping (removed, or about to be) or a read of lo lost: what was last seen is not claimed. */
        s->addresses_watching = !a->removing && a->known;
        s->addresses = calloc(a->n + 1, sizeof(*s->addresses));
        s->n_addresses = s->addresses ? a->n : 0;
        for (size_t i = 0; i < s->n_addresses; i++) {
                const struct managed *x = &a->m[i];
                s->addresses[i] = (struct snapshot_address){
                        .prefix = x->prefix,
                        .address = x->text,
                        .present = s->addresses_watching ? x->present : -1,
                        .restored = x->restored,
                        .error = x->present || !x->add_error ? NULL
                                 : x->add_error == -EEXIST ? "lo has this address with another prefix length"
                                                           : strerror(-x->add_error),
                };
        }
}
