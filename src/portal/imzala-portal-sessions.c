#define G_LOG_DOMAIN "imzala-portal"

#include "config.h"

#include "imzala-portal-code.h"
#include "imzala-portal-http.h"
#include "imzala-portal-server.h"
#include "imzala-portal-sessions.h"

/* The __Host- prefix makes browsers refuse the cookie unless it is Secure,
 * has Path=/ and no Domain, so no other host (a sibling subdomain, or plain
 * HTTP) can plant a session id in a browser for the portal. */
#define SESSION_COOKIE "__Host-imzala_oturum"

struct _ImzalaPortalSessions
{
  GObject              parent_instance;

  ImzalaPortalStore   *store;
  ImzalaPortalLimiter *creations;
  guint                lifetime;
};

G_DEFINE_FINAL_TYPE (ImzalaPortalSessions, imzala_portal_sessions, G_TYPE_OBJECT)

static void
imzala_portal_sessions_finalize (GObject *object)
{
  ImzalaPortalSessions *self = IMZALA_PORTAL_SESSIONS (object);

  g_clear_object (&self->store);
  g_clear_object (&self->creations);

  G_OBJECT_CLASS (imzala_portal_sessions_parent_class)->finalize (object);
}

static void
imzala_portal_sessions_class_init (ImzalaPortalSessionsClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = imzala_portal_sessions_finalize;
}

static void
imzala_portal_sessions_init (ImzalaPortalSessions *self)
{
  self->lifetime = IMZALA_PORTAL_SESSION_LIFETIME;
}

ImzalaPortalSessions *
imzala_portal_sessions_new (ImzalaPortalStore   *store,
                            ImzalaPortalLimiter *creations)
{
  ImzalaPortalSessions *self = g_object_new (IMZALA_TYPE_PORTAL_SESSIONS, NULL);

  self->store = g_object_ref (store);
  self->creations = g_object_ref (creations);
  return self;
}

void
imzala_portal_sessions_set_lifetime (ImzalaPortalSessions *self,
                                     guint                 seconds)
{
  g_return_if_fail (IMZALA_IS_PORTAL_SESSIONS (self));
  g_return_if_fail (seconds > 0);
  self->lifetime = seconds;
}

static char *
hash_session_id (const char *id)
{
  return g_compute_checksum_for_string (G_CHECKSUM_SHA256, id, -1);
}

ImzalaPortalSession *
imzala_portal_sessions_lookup (ImzalaPortalSessions *self,
                               SoupServerMessage    *msg)
{
  const char *cookie_header = soup_message_headers_get_one (soup_server_message_get_request_headers (msg),
                                                            "Cookie");
  ImzalaPortalSession *session = NULL;
  gint64 now = imzala_portal_now ();

  if (cookie_header != NULL)
    {
      GHashTable *cookies = soup_header_parse_semi_param_list (cookie_header);
      const char *value = g_hash_table_lookup (cookies, SESSION_COOKIE);

      if (value != NULL)
        {
          g_autofree char *h = hash_session_id (value);

          session = imzala_portal_store_get_session (self->store, h);
        }
      soup_header_free_param_list (cookies);
    }
  /* A session ends a fixed time after it began, however busy it was, so a
   * stolen cookie is not good forever. */
  if (session != NULL && now - session->created_at >= (gint64) self->lifetime)
    g_clear_pointer (&session, imzala_portal_session_free);
  return session;
}

static void
set_session_cookie (SoupServerMessage *msg, const char *id)
{
  g_autofree char *header = g_strdup_printf ("%s=%s; Path=/; HttpOnly; Secure; SameSite=Strict",
                                             SESSION_COOKIE, id);

  soup_message_headers_append (soup_server_message_get_response_headers (msg), "Set-Cookie",
                               header);
}

/* Only a POST that needs a session calls this, so reading pages and
 * statuses never makes rows. Making one counts against the address's
 * creation limit, or anyone could fill the table with rows. */
ImzalaPortalSession *
imzala_portal_sessions_ensure (ImzalaPortalSessions *self,
                               SoupServerMessage    *msg)
{
  ImzalaPortalSession *session = imzala_portal_sessions_lookup (self, msg);
  g_autofree char *key = NULL;
  g_autofree char *id = NULL;
  g_autofree char *hash = NULL;
  gint64 now = imzala_portal_now ();
  guint wait;

  if (session != NULL)
    return session;

  key = imzala_portal_http_client_key (msg);
  wait = imzala_portal_limiter_check (self->creations, key);
  if (wait > 0)
    {
      imzala_portal_http_send_rate_limited (msg, wait, FALSE);
      return NULL;
    }
  imzala_portal_limiter_record (self->creations, key);

  /* Expired rows are useless; clearing them when a row is added keeps the
   * table no bigger than the sessions made in one lifetime. */
  id = imzala_portal_random_hex (32);
  hash = hash_session_id (id);
  if (!imzala_portal_store_expire_sessions (self->store, now - self->lifetime, NULL)
      || !imzala_portal_store_add_session (self->store, hash, now, NULL))
    {
      imzala_portal_http_send_internal_error (msg);
      return NULL;
    }
  set_session_cookie (msg, id);
  return imzala_portal_store_get_session (self->store, hash);
}

/* E-imzalı Giriş completed for a request @session made: the person is
 * signed in on a new session id, never on the one the browser had, so
 * someone who knew or planted that id (session fixation) gets nothing.
 * This runs when the browser reads the done status: only the browser that
 * made the request knows its id. */
gboolean
imzala_portal_sessions_sign_in (ImzalaPortalSessions *self,
                                SoupServerMessage    *msg,
                                ImzalaPortalSession  *session,
                                const char           *person)
{
  g_autofree char *id = imzala_portal_random_hex (32);
  g_autofree char *hash = hash_session_id (id);
  g_autoptr(GError) error = NULL;

  if (!imzala_portal_store_replace_session (self->store, session->id_hash, hash, person,
                                            imzala_portal_now (), &error))
    {
      g_warning ("Could not sign a person in: %s", error->message);
      return FALSE;
    }
  set_session_cookie (msg, id);
  return TRUE;
}
