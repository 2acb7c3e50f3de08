/* What the watch and the control socket tell the manager, and the few facts they may ask of it. The
 * manager (agent/daemon.c) implements the sink; the reporters never see its struct. Names: agent/events.c. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "state.h"

struct snapshot;

enum agent_event {
        EVENT_BGPD_READ,                /* watch: a poll ended; what status shows may have changed */
        EVENT_BGPD_GONE,                /* watch: bgpd's vty socket is missing or refuses */
        EVENT_BGPD_BACK,                /* watch: bgpd answers again after it was gone */
        EVENT_BGPD_RESTARTED,           /* watch: bgpd's pid changed */
        EVENT_DRIFT_SEEN,               /* watch: bgpd runs something else than what was applied */
        EVENT_PREFIX_STUCK,             /* watch: detail, a shared prefix, is configured but kept invalid */
        EVENT_DRAIN_REQUESTED,          /* control: detail is the operator's reason, or NULL */
        EVENT_RESUME_REQUESTED,         /* control */
        EVENT_RELOAD_REQUESTED,         /* control: the answer is the reload's outcome */
        EVENT_SERVICE_DRAIN,            /* control: detail "SERVICE [REASON]"; -ENOENT: no such service */
        EVENT_SERVICE_RESUME,           /* control: detail "SERVICE" (-ENOENT, -EALREADY), or NULL: every
                                         * service's own drain; returns how many there were */
        _EVENT_MAX,
};

const char *agent_event_name(enum agent_event ev);

struct agent_sink {
        void *userdata;
        /* Returns 0, or -errno when the manager refuses (-EALREADY: resume while not drained; a reload's
         * error; -ESHUTDOWN: stopping). */
        int (*report)(void *userdata, enum agent_event ev, const char *detail);
        /* What FRR was last verified to run; STATE_INVALID: unknown. */
        enum fo_state (*applied)(void *userdata);
        /* The same for service s of the configuration. */
        enum fo_state (*applied_service)(void *userdata, size_t s);
        /* An apply is in flight, waiting or owed. */
        bool (*busy)(void *userdata);
        /* The state every output renders (agent/snapshot.h); the caller clears it. */
        void (*snapshot)(void *userdata, struct snapshot *out);
};
