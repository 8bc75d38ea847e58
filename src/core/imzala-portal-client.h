/* imzala-portal-client.h: ImzalaPortal for İmzala's protocol v1
 * (docs/protocol.md), JSON over HTTPS with libsoup 3 (through the core's
 * HTTP seam, imzala-http-session.h).
 *
 * HTTPS only. The portal's certificate must verify against the system trust
 * store, or against the extra CA file given at construction (the demo
 * portal's own CA): nothing else is ever accepted and there is no switch to
 * turn verification off. Redirects are not followed. Every request has a
 * total time limit, answers must be "application/json" (charset utf-8 or
 * none), and an answer larger than IMZALA_PORTAL_CLIENT_MAX_RESPONSE is
 * refused with IMZALA_ERROR_TOO_LARGE while it is being read.
 *
 * Use the object from the thread (main context) that made it.
 */
#pragma once

#include <gio/gio.h>

#include "imzala-portal.h"

G_BEGIN_DECLS

#define IMZALA_PORTAL_CLIENT_MAX_RESPONSE (4 * 1024 * 1024)
#define IMZALA_PORTAL_CLIENT_TIMEOUT_SECONDS 30

#define IMZALA_TYPE_PORTAL_CLIENT (imzala_portal_client_get_type ())
G_DECLARE_FINAL_TYPE (ImzalaPortalClient, imzala_portal_client, IMZALA, PORTAL_CLIENT, GObject)

/* @base_url: "https://host[:port][/prefix]"; the API lives under
 * <base_url>/api/v1. Fails with IMZALA_ERROR_INSECURE_URL for anything that is
 * not https:// (before any connection), IMZALA_ERROR_FAILED for a URL that
 * cannot be parsed, and IMZALA_ERROR_TLS when @extra_ca_file (PEM, nullable)
 * cannot be read. */
ImzalaPortalClient *imzala_portal_client_new (const char  *base_url,
                                              const char  *extra_ca_file,
                                              GError     **error);

const char *imzala_portal_client_get_base_url (ImzalaPortalClient *self);
/* Per-read and per-write timeout in seconds (default 30), and the total
 * time limit of one exchange, connecting and reading the whole answer
 * included, set to the same. The total limit is what stops a portal that
 * drips its answer one byte at a time. */
void        imzala_portal_client_set_timeout  (ImzalaPortalClient *self,
                                               guint               seconds);
/* Only the total time limit of one exchange, in milliseconds (tests use
 * about 2 s). The environment variable IMZALA_PORTAL_CLIENT_TIMEOUT_MS sets
 * it for every client a process makes (for tests of imzala-cli). */
void        imzala_portal_client_set_total_timeout (ImzalaPortalClient *self,
                                                    guint               milliseconds);

/* The portal's clock, from the Date header of its answer to one HEAD
 * request for <base_url>/api/v1/ (any status: every HTTP answer is dated),
 * with the same TLS verification as every other call. No doğrulama kodu
 * is needed, so `imzala-cli doctor` can compare clocks before a request
 * exists. Fails like the other calls (IMZALA_ERROR_NETWORK, _TLS), or
 * with IMZALA_ERROR_PROTOCOL when the answer has no valid Date. */
void        imzala_portal_client_query_time_async  (ImzalaPortalClient  *self,
                                                    GCancellable        *cancellable,
                                                    GAsyncReadyCallback  callback,
                                                    gpointer             user_data);
GDateTime  *imzala_portal_client_query_time_finish (ImzalaPortalClient  *self,
                                                    GAsyncResult        *result,
                                                    GError             **error);

G_END_DECLS
