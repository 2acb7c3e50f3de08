/* Roles and effective states: names and route-map mapping. */
#include <string.h>

#include "state.h"

static const char *const state_names[_STATE_MAX] = {
        [STATE_PRIMARY] = "primary",
        [STATE_SECONDARY] = "secondary",
        [STATE_DEMOTED] = "demoted",
        [STATE_WITHDRAWN] = "withdrawn",
};

const char *role_name(enum role r)
{
        return r == ROLE_PRIMARY ? "primary" : "secondary";
}

int role_parse(const char *s)
{
        if (s && strcmp(s, "primary") == 0)
                return ROLE_PRIMARY;
        if (s && strcmp(s, "secondary") == 0)
                return ROLE_SECONDARY;
        return -1;
}

const char *state_name(enum fo_state s)
{
        if (s < 0 || s >= _STATE_MAX)
                return "invalid";
        return state_names[s];
}

enum fo_state state_parse(const char *s)
{
        for (int i = 0; s && i < _STATE_MAX; i++)
                if (strcmp(s, state_names[i]) == 0)
                        return (enum fo_state)i;
        return STATE_INVALID;
}

const char *state_route_map(enum fo_state s)
{
        /* The route-map names are the state names, as in Linode's template. */
        return s == STATE_WITHDRAWN ? NULL : state_name(s);
}

enum fo_state state_of_role(enum role r)
{
        return r == ROLE_PRIMARY ? STATE_PRIMARY : STATE_SECONDARY;
}
