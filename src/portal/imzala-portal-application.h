/* imzala-portal-application.h: the NES application form for MEB staff.
 *
 * The fields and choices follow the old portal's Başvuru Formu. Validation
 * is done here, on the server; the page's own checks are only a courtesy.
 */
#pragma once

#include <json-glib/json-glib.h>

#include "imzala-portal-store.h"

G_BEGIN_DECLS

/* Seconds before the current certificate's expiry from which a renewal is
 * produced: "sertifika bitiş tarihine 2 ay kala" (two months, 61 days). */
#define IMZALA_PORTAL_RENEWAL_WINDOW ((gint64) 61 * 24 * 3600)

/* The fields the form starts with for @person (read-only identity and
 * institution fields included). */
JsonNode *imzala_portal_application_prefill (const ImzalaPortalPerson *person);

/* Checks @form. On success returns TRUE and sets @fields_json (the stored
 * fields; the security word only as a hash), @form_text (the text to sign,
 * without the reference line), @kind and @production_date. On failure
 * returns FALSE and sets @errors (field name → Turkish message). */
gboolean imzala_portal_application_validate (JsonObject               *form,
                                             const ImzalaPortalPerson *person,
                                             gint64                    now,
                                             char                    **fields_json,
                                             char                    **form_text,
                                             char                    **kind,
                                             gint64                   *production_date,
                                             JsonObject              **errors);

/* What the person is told once an application has been sent, whichever the
 * method (E-Onaylı or E-İmzalı): the guide's result sentence and, when the
 * application waits (a renewal whose @production_date is after @now, state
 * `waiting`), until when it waits. */
char *imzala_portal_application_done_message (gint64 production_date,
                                              gint64 now);

G_END_DECLS
