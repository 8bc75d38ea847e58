/* imzala-portal-server.h: the portal's HTTPS server (libsoup 3).
 *
 * Serves the client API (/api/v1/requests/..., imzala-portal-client-api.c),
 * the browser API (/api/v1/browser/..., imzala-portal-browser-api.c) and
 * the Turkish pages (imzala-portal-pages.c), as docs/protocol.md says.
 * There is no plain-HTTP listener.
 */
#pragma once

#include <gio/gio.h>
#include <openssl/x509.h>

#include "imzala-portal-ca.h"
#include "imzala-portal-pki.h"
#include "imzala-portal-store.h"

G_BEGIN_DECLS

#define IMZALA_PORTAL_MAX_CLIENT_BODY  (1024 * 1024)
#define IMZALA_PORTAL_MAX_BROWSER_BODY (64 * 1024)
#define IMZALA_PORTAL_MAX_REJECTED     3
#define IMZALA_PORTAL_GUESSES          10
#define IMZALA_PORTAL_GUESS_WINDOW     60
/* Calls costing a PBKDF2 (application form, unblock) per address and window. */
#define IMZALA_PORTAL_WORK             10
/* Demo PKI answers costing a signature (/pki/ocsp, /pki/tsa) per address
 * and window: a signing client asks a few, a flood is refused. */
#define IMZALA_PORTAL_PKI_WORK         60
#define IMZALA_PORTAL_UNBLOCK_GRACE    300
/* Retry-After of a 503 (the database locked or full). */
#define IMZALA_PORTAL_UNAVAILABLE_RETRY 5
/* Seconds a browser session (the cookie) lives from its creation. */
#define IMZALA_PORTAL_SESSION_LIFETIME (12 * 60 * 60)

#define IMZALA_TYPE_PORTAL_SERVER (imzala_portal_server_get_type ())
G_DECLARE_FINAL_TYPE (ImzalaPortalServer, imzala_portal_server, IMZALA, PORTAL_SERVER, GObject)

/* Takes ownership of @trust. */
ImzalaPortalServer *imzala_portal_server_new (ImzalaPortalStore *store,
                                              ImzalaPortalCa    *ca,
                                              X509_STORE        *trust,
                                              guint              code_lifetime,
                                              GError           **error);

/* Listens on @address:@port (port 0: any free one); @address NULL means
 * both loopback addresses ("localhost"). */
gboolean    imzala_portal_server_listen      (ImzalaPortalServer *self,
                                              GInetAddress       *address,
                                              guint16             port,
                                              GError            **error);
guint16     imzala_portal_server_get_port    (ImzalaPortalServer *self);
/* "https://localhost:8443" unless set. Must be set after listening when
 * the port was 0. */
void        imzala_portal_server_set_public_url (ImzalaPortalServer *self,
                                                 const char         *url);
const char *imzala_portal_server_get_public_url (ImzalaPortalServer *self);
/* A reverse proxy in front of the portal (imzala_portal_listener_add_trusted_proxy()). */
void        imzala_portal_server_add_trusted_proxy (ImzalaPortalServer *self,
                                                    GInetAddressMask   *network);
/* The listener's limits (imzala-portal-listener.h has the defaults). */
void        imzala_portal_server_set_connection_limits (ImzalaPortalServer *self,
                                                        guint               handshake_timeout,
                                                        guint               idle_timeout,
                                                        guint               max_per_address,
                                                        guint               max_total);
/* IMZALA_PORTAL_SESSION_LIFETIME unless set (tests shorten it). */
void        imzala_portal_server_set_session_lifetime (ImzalaPortalServer *self,
                                                       guint               seconds);

/* The demo PKI's services under /pki/ (docs/protocol.md §11.1) and the
 * acceptance check's certificate status (§8.9). Without it /pki/ is 404
 * and no signer's status can be established. */
void        imzala_portal_server_set_pki      (ImzalaPortalServer *self,
                                               ImzalaPortalPki    *pki);
/* The level (BES, T, XL) new requests of @purpose (NULL: of every purpose)
 * ask for; FALSE for an unknown level or purpose. */
gboolean    imzala_portal_server_set_signature_level (ImzalaPortalServer *self,
                                                      const char         *purpose,
                                                      const char         *level);
/* The TSA that T and XL requests name (default <public URL>/pki/tsa). */
void        imzala_portal_server_set_tsa_url  (ImzalaPortalServer *self,
                                               const char         *url);

G_END_DECLS
