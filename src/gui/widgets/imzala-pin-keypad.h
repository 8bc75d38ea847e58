/* imzala-pin-keypad.h: the on-screen keypad of the old application (1-9,
 * Clear, 0, ←) typing into an ImzalaPinEntry. */
#pragma once

#include <gtk/gtk.h>

#include "imzala-pin-entry.h"

G_BEGIN_DECLS

#define IMZALA_TYPE_PIN_KEYPAD (imzala_pin_keypad_get_type ())
G_DECLARE_FINAL_TYPE (ImzalaPinKeypad, imzala_pin_keypad, IMZALA, PIN_KEYPAD, GtkWidget)

ImzalaPinEntry *imzala_pin_keypad_get_entry (ImzalaPinKeypad *self);
void            imzala_pin_keypad_set_entry (ImzalaPinKeypad *self, ImzalaPinEntry *entry);

G_END_DECLS
