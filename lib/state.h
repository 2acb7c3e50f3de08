/* Roles and effective states: the names every module and the operator see. */
#pragma once

enum role {
        ROLE_PRIMARY,
        ROLE_SECONDARY,
};

enum fo_state {
        STATE_PRIMARY,          /* announced with the primary community */
        STATE_SECONDARY,        /* announced with the secondary community */
        STATE_DEMOTED,          /* secondary community plus AS-path prepends */
        STATE_WITHDRAWN,        /* not announced */
        _STATE_MAX,
        STATE_INVALID = -1,
};

const char *role_name(enum role r);
int role_parse(const char *s);          /* enum role or -1 */
const char *state_name(enum fo_state s);
enum fo_state state_parse(const char *s);
/* The route-map name rendered for a state; NULL for STATE_WITHDRAWN. */
const char *state_route_map(enum fo_state s);
/* The healthy state of a role. */
enum fo_state state_of_role(enum role r);
