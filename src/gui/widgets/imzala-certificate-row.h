/* imzala-certificate-row.h: one signing certificate in the sign page's
 * list: holder, whether it is another person's than the requester's, then
 * in plain words what tells one person's certificates apart (issuer, end of
 * validity, the card), the key, why it is (not) recommended, a warning sign
 * when it is not, and a check mark when it is the chosen one. */
#pragma once

#include <adwaita.h>

#include "imzala-certificate.h"

G_BEGIN_DECLS

#define IMZALA_TYPE_CERTIFICATE_ROW (imzala_certificate_row_get_type ())
G_DECLARE_FINAL_TYPE (ImzalaCertificateRow, imzala_certificate_row, IMZALA, CERTIFICATE_ROW, AdwActionRow)

/* Properties: "certificate", "card-label" (the card it is on, or NULL) and
 * "other-person" (its T.C. kimlik no is not the requester's) are construct
 * only; "selected" is the check mark. */
GtkWidget         *imzala_certificate_row_new             (ImzalaCertificate    *certificate,
                                                           const char           *card_label,
                                                           gboolean              other_person);
ImzalaCertificate *imzala_certificate_row_get_certificate (ImzalaCertificateRow *self);
gboolean           imzala_certificate_row_get_selected    (ImzalaCertificateRow *self);
gboolean           imzala_certificate_row_get_other_person (ImzalaCertificateRow *self);
/* The subtitle without the line that says the certificate is recommended:
 * whose it is, the issuer, the end of validity, the card, any problem. */
const char        *imzala_certificate_row_get_summary     (ImzalaCertificateRow *self);
void               imzala_certificate_row_set_selected    (ImzalaCertificateRow *self,
                                                           gboolean              selected);

G_END_DECLS
