/* imzala-format.h: how the pages write the few things several of them show
 * (a date and time, how a card's PIN stands, the PIN's length rule, the name
 * a saved signature gets), so that they say them the same way and no page
 * includes another. */
#pragma once

#include <glib.h>

#include "imzala-request.h"
#include "imzala-token.h"

G_BEGIN_DECLS

/* "27.08.2019 10:16:57" in the user's locale conventions; NULL for NULL. */
char *imzala_format_time               (GDateTime     *time);
/* One sentence about the PIN of @token when it matters (blocked, tries
 * left, to be changed, typed on the reader); NULL in the normal state, so
 * that a page says nothing rather than "the PIN is not blocked". */
char *imzala_format_pin_state          (ImzalaToken   *token);
/* The first line of the PIN change (@unblocking FALSE) and unblock pages:
 * how the PIN stands, also in the normal state ("Your PIN can be used"). */
char *imzala_format_pin_headline       (ImzalaToken   *token,
                                        gboolean       unblocking);
/* "6–8 characters" for a range a card can mean; NULL for none or an absurd
 * one (0, a maximum below the minimum, more than 32 characters), about
 * which a page then says nothing. */
char *imzala_format_pin_length_range   (guint          min_length,
                                        guint          max_length);
/* The same for the range @token states. */
char *imzala_format_pin_length         (ImzalaToken   *token);
/* The file name the save dialog proposes for a signature of a @purpose
 * request signed at @time (local date): "E-imzali-Giris-2026-11-26.p7s"
 * in Turkish; ASCII only, never the request's code. */
char *imzala_format_signature_file_name (ImzalaPurpose  purpose,
                                         GDateTime     *time);

G_END_DECLS
