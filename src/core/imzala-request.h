/* imzala-request.h: one signing request of a portal, as fetched by its
 * doğrulama kodu.
 *
 * A request is immutable once made. It knows what the portal wants (purpose),
 * the exact bytes to sign (one ImzalaRequestText per İmzalanacak Metin), the
 * portal's nonce, and when it was created and expires. The remaining time is
 * counted against the portal's clock (the Date of the answer that carried the
 * request) plus the local monotonic clock since then, so a wrong clock on the
 * user's machine neither hides nor invents time.
 */
#pragma once

#include <gio/gio.h>

#include "imzala-cades.h"
#include "imzala-enum-types.h"

G_BEGIN_DECLS

typedef enum
{
  IMZALA_PURPOSE_LOGIN,       /* E-imzalı Giriş */
  IMZALA_PURPOSE_CONSENT,     /* E-Onay */
  IMZALA_PURPOSE_APPLICATION, /* NES başvurusu (application form + taahhütname) */
  IMZALA_PURPOSE_UNBLOCK,     /* Kilit Çözme: no text; the unblock exchange */
} ImzalaPurpose;

/* IMZALA_TYPE_PURPOSE is in imzala-enum-types.h (generated). */

/* The protocol's symbol: "login", "consent", "application", "unblock". */
const char  *imzala_purpose_to_string   (ImzalaPurpose purpose);
/* FALSE for an unknown symbol. */
gboolean     imzala_purpose_from_string (const char *text, ImzalaPurpose *purpose);
/* A short translated name for the user ("Signed login"). */
const char  *imzala_purpose_get_label   (ImzalaPurpose purpose);

/* ---- One text to sign ---- */

#define IMZALA_TYPE_REQUEST_TEXT (imzala_request_text_get_type ())
G_DECLARE_FINAL_TYPE (ImzalaRequestText, imzala_request_text, IMZALA, REQUEST_TEXT, GObject)

ImzalaRequestText *imzala_request_text_new (const char *title,
                                            GBytes     *content,
                                            const char *media_type);

/* "İmzalanacak Metin 1" or the portal's title. */
const char *imzala_request_text_get_title      (ImzalaRequestText *self);
/* The exact bytes that are signed. */
GBytes     *imzala_request_text_get_content    (ImzalaRequestText *self);
/* "text/plain; charset=utf-8" */
const char *imzala_request_text_get_media_type (ImzalaRequestText *self);
/* The content as a NUL-terminated UTF-8 string for display, or NULL when the
 * content is not valid UTF-8 or contains a NUL (then it cannot be shown
 * exactly, and İmzala refuses to sign it). */
const char *imzala_request_text_get_text       (ImzalaRequestText *self);

/* ---- The request ---- */

#define IMZALA_TYPE_REQUEST (imzala_request_get_type ())
G_DECLARE_FINAL_TYPE (ImzalaRequest, imzala_request, IMZALA, REQUEST, GObject)

/* @texts: ImzalaRequestText (the array is referenced, not copied; do not
 * change it afterwards). @server_now: the portal's clock when the request
 * was received (its "server_time", or the Date header), or NULL to trust
 * the local clock. */
ImzalaRequest *imzala_request_new (const char    *code,
                                   ImzalaPurpose  purpose,
                                   const char    *portal_host,
                                   const char    *portal_name,
                                   const char    *title,
                                   GDateTime     *created_at,
                                   GDateTime     *expires_at,
                                   GBytes        *nonce,
                                   GPtrArray     *texts,
                                   const char    *requester_name,
                                   const char    *requester_hint,
                                   GDateTime     *server_now);

/* Normalised code, 12 characters, no separators. */
const char    *imzala_request_get_code           (ImzalaRequest *self);
/* The same grouped for display: "ABCD-EFGH-JKMN". */
char          *imzala_request_dup_display_code   (ImzalaRequest *self);
ImzalaPurpose  imzala_request_get_purpose        (ImzalaRequest *self);
/* The host (and port when not 443) İmzala connected to and verified by TLS:
 * this is what the user should be shown as "who asks". */
const char    *imzala_request_get_portal_host    (ImzalaRequest *self);
/* What the portal calls itself in the request (informative only). */
const char    *imzala_request_get_portal_name    (ImzalaRequest *self);
/* "E-imzalı Giriş" */
const char    *imzala_request_get_title          (ImzalaRequest *self);
GDateTime     *imzala_request_get_created_at     (ImzalaRequest *self);
GDateTime     *imzala_request_get_expires_at     (ImzalaRequest *self);
GBytes        *imzala_request_get_nonce          (ImzalaRequest *self);
/* ImzalaRequestText, borrowed. Empty for IMZALA_PURPOSE_UNBLOCK. */
GPtrArray     *imzala_request_get_texts          (ImzalaRequest *self);
guint          imzala_request_get_n_texts        (ImzalaRequest *self);
ImzalaRequestText *imzala_request_get_text       (ImzalaRequest *self, guint index);
/* "AYŞE YILMAZ", may be NULL. */
const char    *imzala_request_get_requester_name (ImzalaRequest *self);
/* A masked T.C. kimlik no ("123******50"), may be NULL. */
const char    *imzala_request_get_requester_hint (ImzalaRequest *self);
/* The requester as a user reads it: "AYŞE YILMAZ (123******50)", or the
 * name or the masked number alone; NULL when the request names nobody. */
char          *imzala_request_dup_requester      (ImzalaRequest *self);

/* Seconds until expiry on the portal's clock, 0 when expired. */
gint64         imzala_request_get_remaining_seconds (ImzalaRequest *self);
gboolean       imzala_request_is_expired         (ImzalaRequest *self);

/* Protocol v1.1 (issue 10): the CAdES level the portal asks for and the
 * RFC 3161 TSA to ask for T and XL (docs/protocol.md §4.1). Set once,
 * after imzala_request_new(), from the answer's "signature_level" (NULL
 * means "BES") and "tsa_url": an unknown level, T or XL without an
 * https:// TSA, is IMZALA_ERROR_PROTOCOL. */
gboolean       imzala_request_set_signature_level (ImzalaRequest *self,
                                                   const char    *level,
                                                   const char    *tsa_url,
                                                   GError       **error);
/* IMZALA_CADES_LEVEL_BES unless the portal asked for more. */
ImzalaCadesLevel imzala_request_get_signature_level (ImzalaRequest *self);
/* NULL for BES. */
const char    *imzala_request_get_tsa_url        (ImzalaRequest *self);

G_END_DECLS
