/* imzala-result-page.h: İşleminiz Başarılıdır, with the creation and signing
 * times, İmza İçeriği kaydet and Uygulamayı Kapat. */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define IMZALA_TYPE_RESULT_PAGE (imzala_result_page_get_type ())
G_DECLARE_FINAL_TYPE (ImzalaResultPage, imzala_result_page, IMZALA, RESULT_PAGE, AdwBin)

/* @message: the portal's own words, shown as plain text (nullable).
 * @created_at / @signed_at: nullable; a row without a time is hidden.
 * @can_save: whether there is a signature to save (not after an unblock). */
void imzala_result_page_set_result (ImzalaResultPage *self,
                                    const char       *title,
                                    const char       *message,
                                    GDateTime        *created_at,
                                    GDateTime        *signed_at,
                                    gboolean          can_save);

G_END_DECLS
