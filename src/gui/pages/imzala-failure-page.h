/* imzala-failure-page.h: what went wrong in one plain sentence, what to do
 * about it, and a retry where one makes sense. */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define IMZALA_TYPE_FAILURE_PAGE (imzala_failure_page_get_type ())
G_DECLARE_FINAL_TYPE (ImzalaFailurePage, imzala_failure_page, IMZALA, FAILURE_PAGE, AdwBin)

/* Chooses the title, the advice and the buttons from the error's code; the
 * error's own message (already a sentence for the user) is shown as is. */
void imzala_failure_page_set_error (ImzalaFailurePage *self, const GError *error);

G_END_DECLS
