/* imzala-request-text-view.h: one text of a request, as it will be signed. */
#pragma once

#include <gtk/gtk.h>

#include "imzala-request.h"

G_BEGIN_DECLS

/* A box with the text's title (or "Text to sign N", @index from 0) and its
 * content, exactly, in a read-only text view the user can select and copy
 * from; a text that cannot be shown exactly gets a warning instead. */
GtkWidget *imzala_request_text_view_new (ImzalaRequestText *text,
                                         guint              index);

G_END_DECLS
