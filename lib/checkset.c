/* The daemon's checks as one set, parallel to the configuration's: built at start, rebuilt on reload. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

#include "checkset.h"

int checkset_rebuild(sd_event *e, struct check ***checks, size_t *n_checks, const struct conf *prev,
                     const struct conf *next, check_result_fn cb, checkset_note_fn note, void *userdata)
{
        size_t n = next->n_checks;
        struct check **v = calloc(n ? n : 1, sizeof(*v));
        enum conf_check_change *change = calloc(n ? n : 1, sizeof(*change));
        int *old = calloc(n ? n : 1, sizeof(*old));
        bool *removed = calloc(*n_checks ? *n_checks : 1, sizeof(*removed));
        int r = 0;

        if (!v || !change || !old || !removed) {
                free(v), free(change), free(old), free(removed);
                return -ENOMEM;
        }
        conf_diff_checks(prev, next, change, old, removed);
        for (size_t i = 0; i < n && r >= 0; i++) {
                if (old[i] >= 0) {
                        v[i] = (*checks)[old[i]];
                        (*checks)[old[i]] = NULL;
                        if (change[i] == CHECK_CHANGED) {
                                if (note)
                                        note(next->check[i].name, CHECKSET_CHANGED, userdata);
                                r = check_update_conf(v[i], &next->check[i]);
                        }
                        continue;
                }
                r = check_new(e, &next->check[i], cb, userdata, &v[i]);
                if (r >= 0 && prev && note)
                        note(next->check[i].name, CHECKSET_ADDED, userdata);
                if (r >= 0)
                        r = check_start(v[i]);
        }
        for (size_t j = 0; j < *n_checks; j++) {
                if (!(*checks)[j])
                        continue;
                if (removed[j] && note)
                        note(check_name((*checks)[j]), CHECKSET_REMOVED, userdata);
                check_free((*checks)[j]);
        }
        free(*checks);
        *checks = v;
        *n_checks = n;
        free(change);
        free(old);
        free(removed);
        return r;
}
