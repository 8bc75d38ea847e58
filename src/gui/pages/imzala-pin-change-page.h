/* imzala-pin-change-page.h: PIN Değiştir — old PIN, new PIN twice, within
 * the card's length rules.
 *
 * The page owns the action pin-change.change-pin (its button and Enter in
 * the form): it changes the PIN on the chosen card, says how that went, and
 * refreshes the token list. */
#pragma once

#include <adwaita.h>

#include "imzala-token.h"
#include "imzala-token-list.h"

G_BEGIN_DECLS

#define IMZALA_TYPE_PIN_CHANGE_PAGE (imzala_pin_change_page_get_type ())
G_DECLARE_FINAL_TYPE (ImzalaPinChangePage, imzala_pin_change_page, IMZALA, PIN_CHANGE_PAGE, AdwBin)

/* The cards to choose from, followed as the list changes (NULL: none). */
void         imzala_pin_change_page_set_token_list (ImzalaPinChangePage *self,
                                                    ImzalaTokenList     *token_list);
ImzalaToken *imzala_pin_change_page_get_token   (ImzalaPinChangePage *self);
/* Checks the fields (both new PINs equal, lengths within the card's rules)
 * and hands them over in new secrets, wiping the fields. On a pin-pad token
 * both are NULL and TRUE is returned. Errors: IMZALA_ERROR_PIN_MISMATCH,
 * IMZALA_ERROR_PIN_LEN_RANGE, IMZALA_ERROR_NO_TOKEN. */
gboolean     imzala_pin_change_page_take_pins   (ImzalaPinChangePage *self,
                                                 ImzalaSecret       **old_pin,
                                                 ImzalaSecret       **new_pin,
                                                 GError             **error);
void         imzala_pin_change_page_set_busy    (ImzalaPinChangePage *self, gboolean busy);
void         imzala_pin_change_page_set_error   (ImzalaPinChangePage *self, const char *message);
void         imzala_pin_change_page_reset       (ImzalaPinChangePage *self);

G_END_DECLS
