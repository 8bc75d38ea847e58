/* imzala-portal-sessions.h: the browsers' sessions (a cookie per browser).
 *
 * A session says who a browser is signed in as (E-imzalı Giriş) or
 * identified as for an application, and owns the requests that browser
 * made. The cookie is __Host-imzala_oturum; the database keeps only its
 * SHA-256. A session lives a fixed time from its creation.
 */
#pragma once

#include <libsoup/soup.h>

#include "imzala-portal-limiter.h"
#include "imzala-portal-store.h"

G_BEGIN_DECLS

#define IMZALA_TYPE_PORTAL_SESSIONS (imzala_portal_sessions_get_type ())
G_DECLARE_FINAL_TYPE (ImzalaPortalSessions, imzala_portal_sessions, IMZALA, PORTAL_SESSIONS, GObject)

/* Making a session counts against @creations, the limiter the portal also
 * counts new requests with. */
ImzalaPortalSessions *imzala_portal_sessions_new          (ImzalaPortalStore   *store,
                                                           ImzalaPortalLimiter *creations);
/* IMZALA_PORTAL_SESSION_LIFETIME unless set (tests shorten it). */
void                  imzala_portal_sessions_set_lifetime (ImzalaPortalSessions *self,
                                                           guint                 seconds);

/* The live session this browser's cookie names, or NULL. Never writes to
 * the database. */
ImzalaPortalSession  *imzala_portal_sessions_lookup       (ImzalaPortalSessions *self,
                                                           SoupServerMessage    *msg);
/* The browser's session, made (with a Set-Cookie) when there is none.
 * Sends the error itself and returns NULL when it cannot (rate limit,
 * database). */
ImzalaPortalSession  *imzala_portal_sessions_ensure       (ImzalaPortalSessions *self,
                                                           SoupServerMessage    *msg);
/* Signs @person in on a new session id in place of @session's (with a
 * Set-Cookie). FALSE, logged, when the database fails. */
gboolean              imzala_portal_sessions_sign_in      (ImzalaPortalSessions *self,
                                                           SoupServerMessage    *msg,
                                                           ImzalaPortalSession  *session,
                                                           const char           *person);

G_END_DECLS
