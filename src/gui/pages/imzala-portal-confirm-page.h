/* imzala-portal-confirm-page.h: a portal that is not in the allow-list is
 * named here, and nothing is sent to it until the user says so. */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define IMZALA_TYPE_PORTAL_CONFIRM_PAGE (imzala_portal_confirm_page_get_type ())
G_DECLARE_FINAL_TYPE (ImzalaPortalConfirmPage, imzala_portal_confirm_page, IMZALA, PORTAL_CONFIRM_PAGE, AdwBin)

void     imzala_portal_confirm_page_set_origin   (ImzalaPortalConfirmPage *self, const char *origin);
/* Whether the user asked to add the portal to the allow-list for good. */
gboolean imzala_portal_confirm_page_get_remember (ImzalaPortalConfirmPage *self);

G_END_DECLS
