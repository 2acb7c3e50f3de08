/* The daemon's checks as one set, parallel to the configuration's: built at start, rebuilt on reload. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

#include "checkset.h"
#include "conf_checks.h"

static void free_fresh(struct check **fresh, size_t n)
{
        for (size_t i = 0; i < n; i++)
                check_free(fresh[i]);
}

/* Like a reload of the configuration: whatever can fail happens on new objects first; the old set is
 * then changed only by steps that cannot fail. */
int checkset_rebuild(sd_event *e, struct check ***checks, size_t *n_checks, const struct conf *prev,
                     const struct conf *next, check_result_fn cb, checkset_note_fn note, void *userdata)
{
        size_t n = next->n_checks, n_old = *n_checks;
        struct check **v = calloc(n ? n : 1, sizeof(*v));
        struct check **fresh = calloc(n ? n : 1, sizeof(*fresh));     /* new checks and new settings */
        enum conf_check_change *change = calloc(n ? n : 1, sizeof(*change));
        int *old = calloc(n ? n : 1, sizeof(*old));
        bool *removed = calloc(n_old ? n_old : 1, sizeof(*removed));
        int r = 0;

        if (!v || !fresh || !change || !old || !removed) {
                r = -ENOMEM;
                goto out;
        }
        if (!prev && n_old) {
                r = -EINVAL;
                goto out;
        }
        conf_diff_checks(prev, next, change, old, removed);
        for (size_t i = 0; i < n && r >= 0; i++) {
                if (old[i] >= 0 && change[i] == CHECK_KEPT)
                        continue;
                r = check_new(e, &next->check[i], cb, userdata, &fresh[i]);
                /* A new check's first run is at once, from the loop: freed before that if a later one fails. */
                if (r >= 0 && old[i] < 0)
                        r = check_start(fresh[i]);
        }
        if (r < 0) {
                free_fresh(fresh, n);
                goto out;
        }

        for (size_t i = 0; i < n; i++) {
                if (old[i] < 0) {
                        v[i] = fresh[i];
                        if (prev && note)
                                note(next->check[i].name, CHECKSET_ADDED, userdata);
                        continue;
                }
                v[i] = (*checks)[old[i]];
                (*checks)[old[i]] = NULL;
                if (change[i] == CHECK_CHANGED) {
                        check_take_conf(v[i], fresh[i]);
                        if (note)
                                note(next->check[i].name, CHECKSET_CHANGED, userdata);
                }
        }
        for (size_t j = 0; j < n_old; j++) {
                if (!(*checks)[j])
                        continue;
                if (removed[j] && note)
                        note(check_name((*checks)[j]), CHECKSET_REMOVED, userdata);
                check_free((*checks)[j]);
        }
        free(*checks);
        *checks = v;
        *n_checks = n;
        v = NULL;
out:
        free(v);
        free(fresh);
        free(change);
        free(old);
        free(removed);
        return r;
}
