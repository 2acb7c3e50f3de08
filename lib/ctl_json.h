/* JSON and text made safe to print on a terminal. */
#pragma once

#include <json-c/json.h>

#include "buf.h"

/* Appends s for a terminal: control characters (C0, DEL, C1) become \n, \t, \r, \xNN or \uNNNN, bytes
 * that are not UTF-8 \xNN; other text, UTF-8 included, stays. Returns 0 or -ENOMEM. */
int ctl_escape_text(const char *s, struct buf *out);
/* Appends o serialised by json-c with flags, with DEL and C1 escaped as \uNNNN (json-c escapes C0 only)
 * and bytes that are not UTF-8 as \ufffd: valid JSON that is safe to print. Returns 0 or -ENOMEM. */
int ctl_json_serialize(json_object *o, int flags, struct buf *out);
/* A deep copy of o whose strings went through ctl_escape_text() (keys stay); NULL when out of memory. */
json_object *ctl_escaped_copy(json_object *o);
