/* imzala-portal-server-private.h: the server's state, shared by the files
 * that answer its paths.
 *
 *   imzala-portal-server.c       the object, TLS, listening, the public URL
 *   imzala-portal-client-api.c   /api/v1/requests/... (İmzala, protocol §4, §5)
 *   imzala-portal-browser-api.c  /api/v1/browser/... (the pages' JSON calls, §6)
 *   imzala-portal-pages.c        the pages, their CSS and script, /ca.pem
 *
 * Each of them has a route table; the answers' shapes are in
 * imzala-portal-http.c, the browsers' sessions in imzala-portal-sessions.c.
 */
#pragma once

#include <libsoup/soup.h>

#include "imzala-portal-evidence.h"
#include "imzala-portal-limiter.h"
#include "imzala-portal-pki.h"
#include "imzala-portal-listener.h"
#include "imzala-portal-server.h"
#include "imzala-portal-sessions.h"
#include "imzala-portal-sms.h"

G_BEGIN_DECLS

struct _ImzalaPortalServer
{
  GObject               parent_instance;

  SoupServer           *soup;
  ImzalaPortalListener *listener;
  guint                 flush_id;
  ImzalaPortalStore    *store;
  ImzalaPortalCa       *ca;
  X509_STORE           *trust;
  /* The same anchors, offline, with the portal's table as the status
   * authority: what imzala_portal_check_signature() verifies against
   * (imzala-portal-evidence.h). Read-only once the server listens. */
  ImzalaTrust          *signer_trust;
  guint                 lifetime;
  guint16               port;
  char                 *public_url;
  char                 *authority;
  ImzalaPortalSessions *sessions;
  /* Wrong codes and identities, per address. */
  ImzalaPortalLimiter  *guesses;
  /* New requests and sessions, per address. */
  ImzalaPortalLimiter  *creations;

  /* The demo PKI (imzala-portal-pki-api.c): its services, the signature
   * level per purpose ("*" for all; NULL: BES everywhere) and the TSA URL
   * that T and XL requests name (NULL: the portal's own). */
  ImzalaPortalPki      *pki;
  GHashTable           *signature_levels;
  char                 *tsa_url;
  /* Calls that cost a PBKDF2 (application form, unblock), per address. */
  ImzalaPortalLimiter  *work;
  ImzalaPortalLimiter  *pki_work;
  /* The unblock page's one-time codes and the demo SMS outbox. */
  ImzalaPortalSms      *sms;
  /* Submissions whose signatures are being checked on GTask's pool now
   * (imzala-portal-client-api.c). */
  guint                 checks_on_pool;
};

/* Answers @msg (its status and body already set) without reading its
 * body and closes its connection (imzala_portal_listener_refuse()). */
void imzala_portal_server_refuse_early (ImzalaPortalServer *self,
                                        SoupServerMessage  *msg);

/* Answers @msg 503 when a statement failed for want of the database since
 * the store counted @failures (imzala_portal_store_get_failures()): what
 * every route table's callback gets, and what a handler that paused its
 * message and finishes later calls itself. */
void imzala_portal_server_guard_end (ImzalaPortalServer *self,
                                     SoupServerMessage  *msg,
                                     guint64             failures);

/* SoupServerCallbacks; @user_data is the ImzalaPortalServer. */
void imzala_portal_client_api_cb  (SoupServer        *server,
                                   SoupServerMessage *msg,
                                   const char        *path,
                                   GHashTable        *query,
                                   gpointer           user_data);
void imzala_portal_browser_api_cb (SoupServer        *server,
                                   SoupServerMessage *msg,
                                   const char        *path,
                                   GHashTable        *query,
                                   gpointer           user_data);
void imzala_portal_pages_cb       (SoupServer        *server,
                                   SoupServerMessage *msg,
                                   const char        *path,
                                   GHashTable        *query,
                                   gpointer           user_data);

/* imzala-portal-pki-api.c: /pki/ (docs/protocol.md §11.1). */
void     imzala_portal_pki_api_early_cb    (SoupServer          *server,
                                            SoupServerMessage   *msg,
                                            const char          *path,
                                            GHashTable          *query,
                                            gpointer             user_data);
void     imzala_portal_pki_api_cb          (SoupServer          *server,
                                            SoupServerMessage   *msg,
                                            const char          *path,
                                            GHashTable          *query,
                                            gpointer             user_data);
void     imzala_portal_server_clear_pki    (ImzalaPortalServer  *self);
/* Keeps the level @request (just stored) asks for, when it is not BES. */
gboolean imzala_portal_server_record_level (ImzalaPortalServer  *self,
                                            ImzalaPortalRequest *request,
                                            GError             **error);

G_END_DECLS
