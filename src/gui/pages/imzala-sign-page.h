/* imzala-sign-page.h: Sözleşme — who asks, the exact texts to sign, Kalan
 * Süre, the certificate picker, the card's PIN state and the PIN keypad.
 *
 * The page follows an ImzalaSigningJob in CHOOSING, SIGNING and SUBMITTING
 * by itself (a GSignalGroup on its properties; the job's error is shown
 * when it comes back to CHOOSING); the window's win.sign and win.cancel
 * actions do the work.
 *
 * Two panes: the details (who asks, the texts, the certificates) scroll;
 * the PIN pane (PIN state, message, PIN field, keypad, İMZALA) never does.
 * They stand side by side from about 600 pixels of width, one above the
 * other below that; the page asks only for one column's width, so the
 * window can be as narrow as 360 pixels. */
#pragma once

#include <adwaita.h>

#include "imzala-reader-monitor.h"
#include "imzala-signing-job.h"

G_BEGIN_DECLS

#define IMZALA_TYPE_SIGN_PAGE (imzala_sign_page_get_type ())
G_DECLARE_FINAL_TYPE (ImzalaSignPage, imzala_sign_page, IMZALA, SIGN_PAGE, AdwBin)

void          imzala_sign_page_set_job   (ImzalaSignPage *self, ImzalaSigningJob *job);
/* TRUE when a PIN has been typed, or the token has a pin-pad. */
gboolean      imzala_sign_page_get_ready (ImzalaSignPage *self);
/* Hands the typed PIN over in a new secret (NULL on a pin-pad token) and
 * wipes the field. */
ImzalaSecret *imzala_sign_page_take_pin  (ImzalaSignPage *self);
/* An error to show above the keypad (a wrong PIN and its tries left). */
void          imzala_sign_page_set_error (ImzalaSignPage *self, const char *message);
/* Focuses the PIN field, or İMZALA when the PIN is not typed here. */
void          imzala_sign_page_focus_pin (ImzalaSignPage *self);
/* A digit typed while the request is still being fetched, kept for the PIN
 * field (NULL: backspace). */
void          imzala_sign_page_type_early (ImzalaSignPage *self, const char *digit);
/* TRUE when the panes stand side by side (for tests). */
gboolean      imzala_sign_page_get_wide  (ImzalaSignPage *self);
/* The shared token list and the reader monitor (both nullable): while the
 * list loads the page says the card is being read, and without a
 * certificate it says why (imzala_card_cause_find()): a card no module
 * knows, pcscd down, no reader, no card. */
void          imzala_sign_page_set_token_list     (ImzalaSignPage      *self,
                                                   ImzalaTokenList     *token_list);
void          imzala_sign_page_set_reader_monitor (ImzalaSignPage      *self,
                                                   ImzalaReaderMonitor *monitor);

G_END_DECLS
