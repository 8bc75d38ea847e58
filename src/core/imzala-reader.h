/* imzala-reader.h: one PC/SC card reader and the state of the card in it.
 *
 * Readers are made and updated by ImzalaReaderMonitor, on the monitor's main
 * context; their properties change there and only there, with notify
 * signals, so the GUI can bind to them.
 */
#pragma once

#include <glib-object.h>

#include "imzala-token.h"

#include "imzala-enum-types.h"

G_BEGIN_DECLS

typedef enum
{
  IMZALA_READER_STATE_UNAVAILABLE, /* the reader does not answer, or pcscd cannot tell */
  IMZALA_READER_STATE_EMPTY,       /* no card in the reader */
  IMZALA_READER_STATE_PRESENT,     /* a card is in the reader and nobody uses it */
  IMZALA_READER_STATE_IN_USE,      /* a card is in the reader and another program has it open */
  IMZALA_READER_STATE_MUTE,        /* a card is in the reader but does not respond (upside down, broken) */
} ImzalaReaderState;

/* IMZALA_TYPE_READER_STATE is in imzala-enum-types.h (generated). */

#define IMZALA_TYPE_READER (imzala_reader_get_type ())
G_DECLARE_FINAL_TYPE (ImzalaReader, imzala_reader, IMZALA, READER, GObject)

/* The PC/SC reader name ("ACS ACR38U 00 00"). */
const char        *imzala_reader_get_name     (ImzalaReader *self);
ImzalaReaderState  imzala_reader_get_state    (ImzalaReader *self);
/* TRUE in the states PRESENT, IN_USE and MUTE. */
gboolean           imzala_reader_get_has_card (ImzalaReader *self);
/* The card's answer to reset as uppercase hex without separators
 * ("3B9513810180..."), or NULL when there is no card or no ATR. */
const char        *imzala_reader_get_atr      (ImzalaReader *self);
/* The state as a short translated phrase for the user ("No card"). */
const char        *imzala_reader_get_state_text (ImzalaReader *self);

/* Whether @slot_description (a PKCS#11 CK_SLOT_INFO slotDescription, blank
 * padded or not) names this reader. OpenSC copies the reader name into the
 * 64-byte slot description, cutting longer names, so a description that
 * fills all 64 bytes also matches a reader name it is the start of. */
gboolean imzala_reader_matches_slot_description (ImzalaReader *self,
                                                 const char   *slot_description);
/* Whether @token is the card in this reader (compares the reader name with
 * imzala_token_get_slot_description()). */
gboolean imzala_reader_matches_token            (ImzalaReader *self,
                                                 ImzalaToken  *token);

G_END_DECLS
