/* imzala-certificate-row.h: one signing certificate in the sign page's
 * list: holder, issuer, expiry, key, why it is (not) recommended, a warning
 * sign when it is not, and a check mark when it is the chosen one. */
#pragma once

#include <adwaita.h>

#include "imzala-certificate.h"

G_BEGIN_DECLS

#define IMZALA_TYPE_CERTIFICATE_ROW (imzala_certificate_row_get_type ())
G_DECLARE_FINAL_TYPE (ImzalaCertificateRow, imzala_certificate_row, IMZALA, CERTIFICATE_ROW, AdwActionRow)

/* Properties: "certificate" (construct only), "selected" (the check mark). */
GtkWidget         *imzala_certificate_row_new             (ImzalaCertificate    *certificate);
ImzalaCertificate *imzala_certificate_row_get_certificate (ImzalaCertificateRow *self);
gboolean           imzala_certificate_row_get_selected    (ImzalaCertificateRow *self);
void               imzala_certificate_row_set_selected    (ImzalaCertificateRow *self,
                                                           gboolean              selected);

G_END_DECLS
