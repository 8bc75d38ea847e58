/* imzala-pin-entry.h: a field that shows a PIN as dots and keeps it in an
 * ImzalaSecret, never in a GtkEntryBuffer or a C string. */
#pragma once

#include <gtk/gtk.h>

#include "imzala-secret.h"

G_BEGIN_DECLS

#define IMZALA_TYPE_PIN_ENTRY (imzala_pin_entry_get_type ())
G_DECLARE_FINAL_TYPE (ImzalaPinEntry, imzala_pin_entry, IMZALA, PIN_ENTRY, GtkWidget)

GtkWidget    *imzala_pin_entry_new        (void);
/* Borrowed; the entry keeps ownership and wipes it on clear and dispose. */
ImzalaSecret *imzala_pin_entry_get_secret (ImzalaPinEntry *self);
guint         imzala_pin_entry_get_length (ImzalaPinEntry *self);
/* Appends typed text; returns FALSE (and appends nothing) when the result
 * would be longer than max-length. */
gboolean      imzala_pin_entry_append     (ImzalaPinEntry *self, const char *text);
void          imzala_pin_entry_backspace  (ImzalaPinEntry *self);
void          imzala_pin_entry_clear      (ImzalaPinEntry *self);
void          imzala_pin_entry_set_max_length (ImzalaPinEntry *self, guint max_length);
void          imzala_pin_entry_set_placeholder_text (ImzalaPinEntry *self, const char *text);

G_END_DECLS
