/* imzala-portal.h: the one small interface between İmzala and a portal.
 *
 * ImzalaPortalClient implements it for İmzala's own protocol v1
 * (docs/protocol.md). Another portal's protocol is a second implementation of
 * this interface; the signing job and the GUI only see ImzalaPortal.
 *
 * All errors are in IMZALA_ERROR (CODE_UNKNOWN, CODE_EXPIRED, CODE_USED,
 * SIGNER_MISMATCH, RATE_LIMITED, PORTAL_REJECTED, NETWORK, TLS, PROTOCOL,
 * TOO_LARGE) or G_IO_ERROR_CANCELLED, with a message for the user.
 */
#pragma once

#include <gio/gio.h>

#include "imzala-request.h"
#include "imzala-secret.h"

G_BEGIN_DECLS

/* Length of a normalised doğrulama kodu and its alphabet (Crockford base32). */
#define IMZALA_PORTAL_CODE_LENGTH 12
#define IMZALA_PORTAL_CODE_ALPHABET "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

#define IMZALA_TYPE_PORTAL (imzala_portal_get_type ())
G_DECLARE_INTERFACE (ImzalaPortal, imzala_portal, IMZALA, PORTAL, GObject)

struct _ImzalaPortalInterface
{
  GTypeInterface parent_iface;

  void           (*fetch_request_async)      (ImzalaPortal        *self,
                                              const char          *code,
                                              GCancellable        *cancellable,
                                              GAsyncReadyCallback  callback,
                                              gpointer             user_data);
  ImzalaRequest *(*fetch_request_finish)     (ImzalaPortal        *self,
                                              GAsyncResult        *result,
                                              GError             **error);

  void           (*submit_signatures_async)  (ImzalaPortal        *self,
                                              ImzalaRequest       *request,
                                              GPtrArray           *signatures,
                                              GCancellable        *cancellable,
                                              GAsyncReadyCallback  callback,
                                              gpointer             user_data);
  char          *(*submit_signatures_finish) (ImzalaPortal        *self,
                                              GAsyncResult        *result,
                                              GError             **error);

  void           (*unblock_async)            (ImzalaPortal        *self,
                                              ImzalaRequest       *request,
                                              const char          *token_serial,
                                              GCancellable        *cancellable,
                                              GAsyncReadyCallback  callback,
                                              gpointer             user_data);
  ImzalaSecret  *(*unblock_finish)           (ImzalaPortal        *self,
                                              GAsyncResult        *result,
                                              GError             **error);

  void           (*report_unblock_async)     (ImzalaPortal        *self,
                                              ImzalaRequest       *request,
                                              gboolean             success,
                                              GCancellable        *cancellable,
                                              GAsyncReadyCallback  callback,
                                              gpointer             user_data);
  char          *(*report_unblock_finish)    (ImzalaPortal        *self,
                                              GAsyncResult        *result,
                                              GError             **error);

  /* Host (and port) shown to the user before anything is fetched. */
  const char    *(*get_host)                 (ImzalaPortal        *self);

  gpointer padding[8];
};

/* Checks and normalises what the user typed or pasted: a leading label up to
 * the last ':' ("Doğrulama Kodu: ...") is dropped, whitespace and hyphens are
 * dropped, lower case is made upper case, and Crockford's look-alikes O→0,
 * I/L→1 are folded. Anything else, or a length other than 12, fails with
 * IMZALA_ERROR_CODE_FORMAT. No network is involved. Returns the 12 characters. */
char *imzala_portal_normalize_code (const char *text, GError **error);
/* "ABCDEFGHJKMN" → "ABCD-EFGH-JKMN" (for display). */
char *imzala_portal_format_code    (const char *code);
/* Strict base64 as the protocol uses it (standard alphabet, padded): NULL for
 * NULL or anything g_base64_decode() would quietly skip over; "" is empty
 * bytes. Both sides of the protocol read their base64 members with it. */
GBytes *imzala_portal_decode_base64 (const char *text);

/* The code is normalised first; a malformed one fails at once with
 * IMZALA_ERROR_CODE_FORMAT without a connection. */
void           imzala_portal_fetch_request_async      (ImzalaPortal        *self,
                                                       const char          *code,
                                                       GCancellable        *cancellable,
                                                       GAsyncReadyCallback  callback,
                                                       gpointer             user_data);
ImzalaRequest *imzala_portal_fetch_request_finish     (ImzalaPortal        *self,
                                                       GAsyncResult        *result,
                                                       GError             **error);

/* @signatures: GBytes, one DER CMS per text of @request, in order. Returns
 * the portal's message for the user ("Giriş başarılı."). */
void           imzala_portal_submit_signatures_async  (ImzalaPortal        *self,
                                                       ImzalaRequest       *request,
                                                       GPtrArray           *signatures,
                                                       GCancellable        *cancellable,
                                                       GAsyncReadyCallback  callback,
                                                       gpointer             user_data);
char          *imzala_portal_submit_signatures_finish (ImzalaPortal        *self,
                                                       GAsyncResult        *result,
                                                       GError             **error);

/* Asks for the unblock secret (PUK) of the card with @token_serial, for an
 * unblock request. The portal releases it only for the card registered to
 * the requester. The caller wipes it (imzala_secret_unref) after use. */
void           imzala_portal_unblock_async            (ImzalaPortal        *self,
                                                       ImzalaRequest       *request,
                                                       const char          *token_serial,
                                                       GCancellable        *cancellable,
                                                       GAsyncReadyCallback  callback,
                                                       gpointer             user_data);
ImzalaSecret  *imzala_portal_unblock_finish           (ImzalaPortal        *self,
                                                       GAsyncResult        *result,
                                                       GError             **error);

/* Tells the portal whether the unblock worked. Returns its message. */
void           imzala_portal_report_unblock_async     (ImzalaPortal        *self,
                                                       ImzalaRequest       *request,
                                                       gboolean             success,
                                                       GCancellable        *cancellable,
                                                       GAsyncReadyCallback  callback,
                                                       gpointer             user_data);
char          *imzala_portal_report_unblock_finish    (ImzalaPortal        *self,
                                                       GAsyncResult        *result,
                                                       GError             **error);

const char    *imzala_portal_get_host                 (ImzalaPortal        *self);

G_END_DECLS
