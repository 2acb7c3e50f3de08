/* bgp.profile, bgp.neighbors, passwords, BFD and bgp.preference: the peers and policies beyond Linode's. */
#pragma once

#include <libconfig.h>

#include "conf_model.h"
#include "conf_read.h"

/* TCP-MD5 keys are at most 80 bytes (TCP_MD5SIG_MAXKEYLEN, linux/tcp.h). */
#define CONF_PASSWORD_MAX 80

/* The defaults of the keys below (Linode's: community preference, no neighbors, no password, no BFD). */
void conf_bgp_defaults(struct conf *c);
/* The keys of the bgp group g handled here, in g's order of appearance: profile, neighbors, remote_as,
 * password_file, bfd, bfd_interval, bfd_multiplier, preference, prepend, med, priority. Called by parse_bgp
 * after the group's other keys; with neighbors it also sets c->bgp.route_servers to their addresses. */
void conf_parse_bgp(const struct conf_ctx *x, const config_setting_t *g, struct conf *c);
void conf_bgp_free(struct conf *c);
/* When a session has BFD: a warning unless FRR's daemons file (beside frr.config) enables bfdd. Called once
 * frr.config is known. */
void conf_bgp_check_bfdd(const struct conf_ctx *x, const struct conf *c);

/* Whether c holds any secret (a password). */
bool conf_has_secrets(const struct conf *c);
/* Overwrites each occurrence of each of c's secrets in text with '*' (in place, same length): for any text
 * that came from FRR or a tool and may quote frr.conf or the running config. NULL text is fine. */
void conf_redact(const struct conf *c, char *text);
