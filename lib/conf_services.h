/* services = ( ... ) and on_stop (lib/conf_services.c): several sets of shared addresses, each with its own
 * role, checks, failback delay, flap damping and start-up gating. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include <libconfig.h>

#include "buf.h"
#include "conf_model.h"

struct conf_ctx;

/* The index of the service named name, or -1. */
int conf_find_service(const struct conf *c, const char *name);
/* The service shared prefix i (an index into shared_ips) belongs to. */
size_t conf_prefix_service(const struct conf *c, size_t i);
/* Whether check name guards service s: it is bound to s, or bound to no service (host-wide). */
bool conf_check_guards(const struct conf *c, size_t s, const char *name);

/* For lib/conf.c: parses services and on_stop from root (sets services_form when services is there). */
void conf_parse_services(const struct conf_ctx *x, const config_setting_t *root, struct conf *c);
/* After conf.d is scanned: the default service of the top-level form, or the check names of services
 * resolved (an unknown one is an error in d). Returns 0 or -ENOMEM. */
int conf_build_services(struct conf *c, struct diag *d);
void conf_free_services(struct conf *c);
