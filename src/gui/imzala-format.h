/* imzala-format.h: how the pages write the few things several of them show
 * (a date and time, how a card's PIN stands), so that they say them the
 * same way and no page includes another. */
#pragma once

#include <glib.h>

#include "imzala-token.h"

G_BEGIN_DECLS

/* "27.08.2019 10:16:57" in the user's locale conventions; NULL for NULL. */
char *imzala_format_time      (GDateTime   *time);
/* One sentence about the PIN of @token (locked, tries left, pin-pad). */
char *imzala_format_pin_state (ImzalaToken *token);

G_END_DECLS
