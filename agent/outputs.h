/* What follows a change of the daemon's state: systemd's STATUS= line, the metrics file and, for a new
 * decision, the notify hook. Each renders the one snapshot it is given (agent/snapshot.h). */
#pragma once

#include <systemd/sd-event.h>

#include "snapshot.h"

enum {
        OUTPUT_STATUS = 1 << 0,         /* STATUS= */
        OUTPUT_METRICS = 1 << 1,        /* the metrics file, when metrics_file is set */
        OUTPUT_NOTIFY = 1 << 2,         /* the notify hook, when notify is set: a new decision */
};

struct outputs;

int outputs_new(sd_event *e, struct outputs **ret);
/* Kills the notify hooks still running. Returns NULL. */
struct outputs *outputs_free(struct outputs *o);
/* what: OUTPUT_* flags. */
void outputs_publish(struct outputs *o, const struct snapshot *s, unsigned what);
