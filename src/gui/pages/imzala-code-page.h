/* imzala-code-page.h: Doğrulama Kodu — the portal and the verification code,
 * checked as they are typed, and İleri. */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define IMZALA_TYPE_CODE_PAGE (imzala_code_page_get_type ())
G_DECLARE_FINAL_TYPE (ImzalaCodePage, imzala_code_page, IMZALA, CODE_PAGE, AdwBin)

void        imzala_code_page_set_portal_url (ImzalaCodePage *self, const char *url);
/* What the user typed, trimmed; NULL when empty. */
char       *imzala_code_page_dup_portal_url (ImzalaCodePage *self);
void        imzala_code_page_set_code       (ImzalaCodePage *self, const char *text);
/* The normalised code, or NULL while what was typed is not a valid code. */
const char *imzala_code_page_get_code       (ImzalaCodePage *self);
gboolean    imzala_code_page_get_valid      (ImzalaCodePage *self);
/* Shows an error under the fields (NULL hides it). */
void        imzala_code_page_set_error      (ImzalaCodePage *self, const char *message);
void        imzala_code_page_focus_code     (ImzalaCodePage *self);

G_END_DECLS
