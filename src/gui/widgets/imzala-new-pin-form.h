/* imzala-new-pin-form.h: the fields that set a new PIN — a first field for
 * what proves the right to do it (the current PIN or the PUK), the new PIN
 * twice and the on-screen keypad, which types into whichever of them has the
 * focus. Used by PIN Değiştir and Kilit Çözme. */
#pragma once

#include <gtk/gtk.h>

#include "imzala-secret.h"
#include "imzala-token.h"

G_BEGIN_DECLS

#define IMZALA_TYPE_NEW_PIN_FORM (imzala_new_pin_form_get_type ())
G_DECLARE_FINAL_TYPE (ImzalaNewPinForm, imzala_new_pin_form, IMZALA, NEW_PIN_FORM, GtkWidget)

/* The first field's label, with a mnemonic ("_Current PIN"); its text
 * without the underscore is also the field's accessible label. */
void     imzala_new_pin_form_set_current_label   (ImzalaNewPinForm *self, const char *label);
/* Shows or hides the first field; the keypad then types into the first
 * field that is shown. */
void     imzala_new_pin_form_set_current_visible (ImzalaNewPinForm *self, gboolean visible);
guint    imzala_new_pin_form_get_current_length  (ImzalaNewPinForm *self);
/* The longest PIN the card takes, for the new PIN fields (and the first
 * field when it holds the current PIN, see the current-is-pin property). */
void     imzala_new_pin_form_set_max_length      (ImzalaNewPinForm *self, guint max_length);
/* Checks that both new PINs are equal and within @token's length rules and
 * hands the fields over in new secrets, wiping them; @current is NULL when
 * the first field is hidden. On a failure the new PIN fields are wiped and
 * focused. Errors: IMZALA_ERROR_PIN_MISMATCH, IMZALA_ERROR_PIN_LEN_RANGE. */
gboolean imzala_new_pin_form_take_secrets        (ImzalaNewPinForm *self,
                                                  ImzalaToken      *token,
                                                  ImzalaSecret    **current,
                                                  ImzalaSecret    **new_pin,
                                                  GError          **error);
void     imzala_new_pin_form_clear               (ImzalaNewPinForm *self);
void     imzala_new_pin_form_reclaim_focus       (ImzalaNewPinForm *self);

G_END_DECLS
