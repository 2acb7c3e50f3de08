/* The http check: GET a URL through libcurl's multi-socket interface, its sockets and timer on sd-event.
 * libcurl is loaded (dlopen) by the first http check: linked, it and its 30 libraries cost every daemon
 * 5.7 MiB of RSS (measured), http checks or not. */
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "check_native_internal.h"

#define BODY_MAX (64 * 1024)
#define LIBCURL "libcurl.so.4"

/* The libcurl functions used, resolved once; the library stays loaded for the life of the process. */
static struct {
        bool tried;
        char error[200];
        CURLcode (*global_init)(long);
        CURLM *(*multi_init)(void);
        CURLMcode (*multi_cleanup)(CURLM *);
        CURLMcode (*multi_setopt)(CURLM *, CURLMoption, ...);
        CURLMcode (*multi_assign)(CURLM *, curl_socket_t, void *);
        CURLMcode (*multi_add_handle)(CURLM *, CURL *);
        CURLMcode (*multi_remove_handle)(CURLM *, CURL *);
        CURLMcode (*multi_socket_action)(CURLM *, curl_socket_t, int, int *);
        CURLMsg *(*multi_info_read)(CURLM *, int *);
        CURL *(*easy_init)(void);
        void (*easy_cleanup)(CURL *);
        CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
        CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
        const char *(*easy_strerror)(CURLcode);
} lc;

/* Returns 0, or -ENOENT with lc.error saying why. */
static int libcurl_load(void)
{
        if (lc.tried)
                return lc.easy_init ? 0 : -ENOENT;
        lc.tried = true;
        void *h = dlopen(LIBCURL, RTLD_NOW | RTLD_LOCAL);
        if (!h) {
                snprintf(lc.error, sizeof(lc.error), "cannot load " LIBCURL " (package libcurl4 on Debian, libcurl on RHEL): %s", dlerror());
                return -ENOENT;
        }
        struct {
                const char *name;
                void **fn;
        } syms[] = {
                { "curl_global_init", (void **)&lc.global_init },
                { "curl_multi_init", (void **)&lc.multi_init },
                { "curl_multi_cleanup", (void **)&lc.multi_cleanup },
                { "curl_multi_setopt", (void **)&lc.multi_setopt },
                { "curl_multi_assign", (void **)&lc.multi_assign },
                { "curl_multi_add_handle", (void **)&lc.multi_add_handle },
                { "curl_multi_remove_handle", (void **)&lc.multi_remove_handle },
                { "curl_multi_socket_action", (void **)&lc.multi_socket_action },
                { "curl_multi_info_read", (void **)&lc.multi_info_read },
                { "curl_easy_cleanup", (void **)&lc.easy_cleanup },
                { "curl_easy_setopt", (void **)&lc.easy_setopt },
                { "curl_easy_getinfo", (void **)&lc.easy_getinfo },
                { "curl_easy_strerror", (void **)&lc.easy_strerror },
                { "curl_easy_init", (void **)&lc.easy_init },   /* last: set means all are */
        };
        for (size_t i = 0; i < sizeof(syms) / sizeof(syms[0]); i++) {
                if (!(*syms[i].fn = dlsym(h, syms[i].name))) {
                        snprintf(lc.error, sizeof(lc.error), LIBCURL " lacks %s", syms[i].name);
                        lc.easy_init = NULL;
                        return -ENOENT;
                }
        }
        /* Once, before any thread of ours runs a transfer; never cleaned up (the library stays). */
        if (lc.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
                snprintf(lc.error, sizeof(lc.error), "curl_global_init failed");
                lc.easy_init = NULL;
                return -ENOENT;
        }
        return 0;
}

struct http {
        CURLM *multi;
        CURL *easy;
        bool added;
        sd_event_source *timer;         /* libcurl's one timer */
        char *body;                     /* collected only when expect is set */
        size_t body_len;
        bool enough;                    /* on_write stopped the transfer: the grade needs no more of the body */
        char err[CURL_ERROR_SIZE];
};

static int on_socket(sd_event_source *s, int fd, uint32_t revents, void *userdata);

/* A body is read only as far as the grade needs: none of it without expect, else until expect is in or
 * BODY_MAX bytes are. Returning short makes libcurl abort the transfer (CURLE_WRITE_ERROR): a body that never
 * ends would otherwise be read to the timeout (3.2 GB in 2 s, measured). */
static size_t on_write(char *data, size_t size, size_t nmemb, void *userdata)
{
        struct native *n = userdata;
        struct http *h = n->state;
        size_t len = size * nmemb;
        if (n->conf->expect) {
                size_t take = len < BODY_MAX - h->body_len ? len : BODY_MAX - h->body_len;
                memcpy(h->body + h->body_len, data, take);
                h->body_len += take;
                h->body[h->body_len] = '\0';
                if (h->body_len < BODY_MAX && !memmem(h->body, h->body_len, n->conf->expect, strlen(n->conf->expect)))
                        return len;
        }
        h->enough = true;
        return 0;
}

/* libcurl says which events a socket wants: one io source per socket, kept in curl's socketp. */
static int sock_cb(CURL *e, curl_socket_t fd, int what, void *userp, void *socketp)
{
        struct native *n = userp;
        struct http *h = n->state;
        sd_event_source *src = socketp;
        (void)e;

        if (what == CURL_POLL_REMOVE) {
                sd_event_source_disable_unref(src);
                lc.multi_assign(h->multi, fd, NULL);
                return 0;
        }
        uint32_t ev = (what & CURL_POLL_IN ? EPOLLIN : 0) | (what & CURL_POLL_OUT ? EPOLLOUT : 0);
        if (src)
                return sd_event_source_set_io_events(src, ev) < 0 ? -1 : 0;
        if (sd_event_add_io(n->event, &src, fd, ev, on_socket, n) < 0)
                return -1;
        lc.multi_assign(h->multi, fd, src);
        return 0;
}

static int on_curl_timer(sd_event_source *s, uint64_t usec, void *userdata);

static int timer_cb(CURLM *m, long timeout_ms, void *userp)
{
        struct native *n = userp;
        struct http *h = n->state;
        uint64_t now;
        (void)m;

        if (timeout_ms < 0)
                return h->timer ? (sd_event_source_set_enabled(h->timer, SD_EVENT_OFF) < 0 ? -1 : 0) : 0;
        if (sd_event_now(n->event, CLOCK_MONOTONIC, &now) < 0)
                return -1;
        uint64_t when = now + (uint64_t)timeout_ms * 1000ULL;
        if (!h->timer)
                return sd_event_add_time(n->event, &h->timer, CLOCK_MONOTONIC, when, 1000, on_curl_timer, n) < 0 ? -1
                                                                                                                 : 0;
        if (sd_event_source_set_time(h->timer, when) < 0 || sd_event_source_set_enabled(h->timer, SD_EVENT_ONESHOT) < 0)
                return -1;
        return 0;
}

static void http_stop(struct native *n)
{
        struct http *h = n->state;
        if (h && h->added) {
                h->added = false;
                lc.multi_remove_handle(h->multi, h->easy);    /* sock_cb removes its sources */
        }
        if (h && h->timer)
                (void)sd_event_source_set_enabled(h->timer, SD_EVENT_OFF);
}

/* A transfer ended: grade it. The last thing done, since the owner may free n. */
static void read_done(struct native *n)
{
        struct http *h = n->state;
        CURLMsg *msg;
        int left;

        while ((msg = lc.multi_info_read(h->multi, &left))) {
                if (msg->msg != CURLMSG_DONE || msg->easy_handle != h->easy)
                        continue;
                CURLcode rc = msg->data.result;
                long code = 0;
                struct native_result r;
                lc.easy_getinfo(h->easy, CURLINFO_RESPONSE_CODE, &code);
                if (rc == CURLE_WRITE_ERROR && h->enough)
                        rc = CURLE_OK;  /* we stopped it: grade what was read */
                if (rc != CURLE_OK)
                        native_result_set(&r, SEV_FAILED, rc == CURLE_OPERATION_TIMEDOUT ? "timed out" : "request failed",
                                          "%s: %s", n->conf->url, h->err[0] ? h->err : lc.easy_strerror(rc));
                else if (code < n->conf->status_min || code > n->conf->status_max) {
                        native_result_set(&r, SEV_FAILED, "", "%s: status %ld, expected %d-%d", n->conf->url, code,
                                          n->conf->status_min, n->conf->status_max);
                        snprintf(r.description, sizeof(r.description), "HTTP %ld", code);
                } else if (n->conf->expect && !memmem(h->body, h->body_len, n->conf->expect, strlen(n->conf->expect))) {
                        native_result_set(&r, SEV_FAILED, "body mismatch", "%s: status %ld, body (%zu bytes%s) lacks \"%.64s\"",
                                          n->conf->url, code, h->body_len, h->body_len == BODY_MAX ? ", cut" : "",
                                          n->conf->expect);
                } else {
                        native_result_set(&r, SEV_OK, "", "%s: status %ld", n->conf->url, code);
                        snprintf(r.description, sizeof(r.description), "HTTP %ld", code);
                }
                r.status = (int)code;
                http_stop(n);
                native_finish(n, &r);
                return;
        }
}

static int on_socket(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
        struct native *n = userdata;
        struct http *h = n->state;
        int running, action = 0;
        (void)s;

        if (revents & EPOLLIN)
                action |= CURL_CSELECT_IN;
        if (revents & EPOLLOUT)
                action |= CURL_CSELECT_OUT;
        if (revents & (EPOLLERR | EPOLLHUP))
                action |= CURL_CSELECT_ERR;
        lc.multi_socket_action(h->multi, fd, action, &running);
        read_done(n);
        return 0;
}

static int on_curl_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
        struct native *n = userdata;
        struct http *h = n->state;
        int running;
        (void)s;
        (void)usec;

        lc.multi_socket_action(h->multi, CURL_SOCKET_TIMEOUT, 0, &running);
        read_done(n);
        return 0;
}

static int http_setup(struct native *n)
{
        struct http *h = calloc(1, sizeof(*h));
        const struct native_conf *c = n->conf;
        if (!h)
                return -ENOMEM;
        n->state = h;
        if (c->expect && !(h->body = malloc(BODY_MAX + 1)))
                return -ENOMEM;
        if (!(h->multi = lc.multi_init()) || !(h->easy = lc.easy_init()))
                return -ENOMEM;
        lc.multi_setopt(h->multi, CURLMOPT_SOCKETFUNCTION, sock_cb);
        lc.multi_setopt(h->multi, CURLMOPT_SOCKETDATA, n);
        lc.multi_setopt(h->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
        lc.multi_setopt(h->multi, CURLMOPT_TIMERDATA, n);

        CURL *e = h->easy;
        bool ok = lc.easy_setopt(e, CURLOPT_URL, c->url) == CURLE_OK &&
                  lc.easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https") == CURLE_OK &&
                  lc.easy_setopt(e, CURLOPT_NOSIGNAL, 1L) == CURLE_OK &&
                  lc.easy_setopt(e, CURLOPT_NOPROXY, "*") == CURLE_OK &&
                  /* A new connection each run, as a new client would make: keep-alive would hide a listener gone. */
                  lc.easy_setopt(e, CURLOPT_FORBID_REUSE, 1L) == CURLE_OK &&
                  lc.easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L) == CURLE_OK &&
                  lc.easy_setopt(e, CURLOPT_USERAGENT, "failoverd/" VERSION) == CURLE_OK &&
                  lc.easy_setopt(e, CURLOPT_SSL_VERIFYPEER, c->tls_verify ? 1L : 0L) == CURLE_OK &&
                  lc.easy_setopt(e, CURLOPT_SSL_VERIFYHOST, c->tls_verify ? 2L : 0L) == CURLE_OK &&
                  (!c->ca_file || lc.easy_setopt(e, CURLOPT_CAINFO, c->ca_file) == CURLE_OK) &&
                  lc.easy_setopt(e, CURLOPT_ERRORBUFFER, h->err) == CURLE_OK &&
                  lc.easy_setopt(e, CURLOPT_WRITEFUNCTION, on_write) == CURLE_OK &&
                  lc.easy_setopt(e, CURLOPT_WRITEDATA, n) == CURLE_OK;
        return ok ? 0 : -EINVAL;
}

static void http_free(struct native *n)
{
        struct http *h = n->state;
        if (!h)
                return;
        http_stop(n);
        if (h->easy)
                lc.easy_cleanup(h->easy);
        if (h->multi)
                lc.multi_cleanup(h->multi);
        h->timer = sd_event_source_disable_unref(h->timer);
        free(h->body);
        free(h);
        n->state = NULL;
}

static int http_start(struct native *n)
{
        int r;
        if (libcurl_load() < 0) {
                native_fail(n, "request failed", "%s: %s", n->conf->url, lc.error);
                return 0;
        }
        if (!n->state && (r = http_setup(n)) < 0) {
                http_free(n);
                return r;
        }
        struct http *h = n->state;
        http_stop(n);
        h->body_len = 0;
        h->enough = false;
        h->err[0] = '\0';
        lc.easy_setopt(h->easy, CURLOPT_TIMEOUT_MS, (long)(n->timeout_usec / 1000 ? n->timeout_usec / 1000 : 1));
        if (lc.multi_add_handle(h->multi, h->easy) != CURLM_OK)
                return -EIO;
        h->added = true;        /* the timer callback starts it from the loop */
        return 0;
}

const struct native_kind native_http = {
        .start = http_start,
        .stop = http_stop,
        .free = http_free,
};
