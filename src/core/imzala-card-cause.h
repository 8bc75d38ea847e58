/* imzala-card-cause.h: why no card can be used, from what PC/SC and the
 * PKCS#11 modules see.
 *
 * A pure decision over the readers (ImzalaReaderMonitor or any GListModel of
 * ImzalaReader), the state of pcscd and the tokens the modules listed, so
 * that imzala-cli (list, sign) and the window (sign page, Cards page) say
 * the same true cause instead of "insert your card": a card that no module
 * knows, a card that does not answer, pcscd not running, no reader at all.
 */
#pragma once

#include <gio/gio.h>

#include "imzala-reader.h"
#include "imzala-token.h"

G_BEGIN_DECLS

typedef enum
{
  IMZALA_CARD_CAUSE_NONE,             /* tokens are there, and every card in a reader is one of them */
  IMZALA_CARD_CAUSE_NO_CARD,          /* no token, and no card in a reader (or the readers are not known) */
  IMZALA_CARD_CAUSE_NO_READER,        /* no token, and pcscd knows no reader */
  IMZALA_CARD_CAUSE_NOT_RECOGNIZED,   /* a card is in a reader, and no module shows it as a token */
  IMZALA_CARD_CAUSE_CARD_MUTE,        /* a card is in a reader and does not answer */
  IMZALA_CARD_CAUSE_PCSC_UNAVAILABLE, /* no token, and pcscd does not answer */
} ImzalaCardCause;

/* IMZALA_TYPE_CARD_CAUSE is in imzala-enum-types.h (generated). */

/* The cause, from @readers (a GListModel of ImzalaReader, or NULL when
 * pcscd has not answered yet), @pcsc_error (why pcscd cannot be used, or
 * NULL) and @tokens (ImzalaToken, as listed; nullable for none). A card in
 * a reader is one of the tokens when imzala_reader_matches_token() says so.
 * pcscd down is the cause only when there is no token: a SoftHSM token
 * needs no pcscd. In @reader_out (nullable) the reader the cause is about
 * (NOT_RECOGNIZED, CARD_MUTE), borrowed from @readers, or NULL. */
ImzalaCardCause imzala_card_cause_find     (GListModel     *readers,
                                            const GError   *pcsc_error,
                                            GPtrArray      *tokens,
                                            ImzalaReader  **reader_out);
/* The cause as an IMZALA_ERROR with the sentence the user reads (what to
 * install, the command that starts pcscd): NO_TOKEN, TOKEN_NOT_RECOGNIZED
 * or PCSC_UNAVAILABLE; NULL for IMZALA_CARD_CAUSE_NONE. @reader (nullable)
 * is named in the message. */
GError         *imzala_card_cause_to_error (ImzalaCardCause  cause,
                                            ImzalaReader    *reader);
/* The token among @tokens that is the card in @reader, or NULL (borrowed). */
ImzalaToken    *imzala_card_cause_find_token (GPtrArray    *tokens,
                                              ImzalaReader *reader);

G_END_DECLS
