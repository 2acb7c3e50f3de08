/* The names of the events the watch and the control socket report (agent/events.h), for the log. */
#include "events.h"

static const char *const event_names[_EVENT_MAX] = {
        [EVENT_BGPD_READ] = "bgpd read",
        [EVENT_BGPD_GONE] = "bgpd gone",
        [EVENT_BGPD_BACK] = "bgpd back",
        [EVENT_BGPD_RESTARTED] = "bgpd restarted",
        [EVENT_DRIFT_SEEN] = "drift seen",
        [EVENT_PREFIX_STUCK] = "prefix stuck invalid",
        [EVENT_DRAIN_REQUESTED] = "drain requested",
        [EVENT_RESUME_REQUESTED] = "resume requested",
        [EVENT_RELOAD_REQUESTED] = "reload requested",
        [EVENT_SERVICE_DRAIN] = "service drain requested",
        [EVENT_SERVICE_RESUME] = "service resume requested",
};

const char *agent_event_name(enum agent_event ev)
{
        return ev >= 0 && ev < _EVENT_MAX ? event_names[ev] : "?";
}
