#define G_LOG_DOMAIN "imzala-portal"

#include "config.h"

#include <string.h>

#include "imzala-portal-http.h"
#include "imzala-portal-server-private.h"

G_DEFINE_FINAL_TYPE (ImzalaPortalServer, imzala_portal_server, G_TYPE_OBJECT)

/* ---- A request that met a locked or full database ---- */

/* Runs a route table's callback and answers 503 with a Turkish sentence
 * when a statement failed for want of the database meanwhile (locked by
 * another program, disk full): every state change is one statement or one
 * transaction, so nothing was half done, and the person is told to try
 * again rather than shown a wrong "not found". */
void
imzala_portal_server_guard_end (ImzalaPortalServer *self,
                                SoupServerMessage  *msg,
                                guint64             failures)
{
  if (imzala_portal_store_get_failures (self->store) != failures)
    {
      g_warning ("The database was not available for %s %s", soup_server_message_get_method (msg),
                 g_uri_get_path (soup_server_message_get_uri (msg)));
      imzala_portal_http_send_error_full (msg, SOUP_STATUS_SERVICE_UNAVAILABLE, "unavailable",
                                          "Sistem şu anda isteğinizi işleyemiyor. Lütfen biraz "
                                          "sonra tekrar deneyiniz.",
                                          IMZALA_PORTAL_UNAVAILABLE_RETRY, NULL);
    }
}

static void
guard (ImzalaPortalServer *self,
       SoupServerCallback  callback,
       SoupServer         *server,
       SoupServerMessage  *msg,
       const char         *path,
       GHashTable         *query)
{
  guint64 failures = imzala_portal_store_get_failures (self->store);

  callback (server, msg, path, query, self);
  imzala_portal_server_guard_end (self, msg, failures);
}

static void
client_api_cb (SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
               gpointer user_data)
{
  guard (user_data, imzala_portal_client_api_cb, server, msg, path, query);
}

static void
browser_api_cb (SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
                gpointer user_data)
{
  guard (user_data, imzala_portal_browser_api_cb, server, msg, path, query);
}

static void
pages_cb (SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
          gpointer user_data)
{
  guard (user_data, imzala_portal_pages_cb, server, msg, path, query);
}

static void
pki_api_cb (SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
            gpointer user_data)
{
  guard (user_data, imzala_portal_pki_api_cb, server, msg, path, query);
}

/* /demo/sms: DEMO ONLY, the stand-in for the person's phone. A real portal
 * has an SMS gateway and no such page. */
static void
demo_sms_cb (SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
             gpointer user_data)
{
  ImzalaPortalServer *self = user_data;
  GPtrArray *outbox = imzala_portal_sms_get_outbox (self->sms);
  GString *html = g_string_new (NULL);
  SoupMessageHeaders *headers = soup_server_message_get_response_headers (msg);

  if (!g_str_equal (path, "/demo/sms") || !g_str_equal (soup_server_message_get_method (msg), "GET"))
    {
      imzala_portal_http_send_error (msg, SOUP_STATUS_NOT_FOUND, "not-found", "Sayfa bulunamadı.");
      g_string_free (html, TRUE);
      return;
    }
  g_string_append (html, "<!DOCTYPE html>\n<html lang=\"tr\"><head><meta charset=\"utf-8\">"
                         "<title>Demo SMS — İmzala Demo Portalı</title>"
                         "<link rel=\"stylesheet\" href=\"/static/portal.css\"></head><body><main>"
                         "<h1>Demo SMS</h1><p>Bu gösterim portalı SMS göndermez; cep telefonuna "
                         "gidecek mesajlar burada görünür (en yenisi en üstte).</p><ul id=\"sms\">");
  for (guint i = outbox->len; i > 0; i--)
    {
      g_auto(GStrv) parts = g_strsplit (outbox->pdata[i - 1], "\t", 2);
      g_autofree char *phone = g_markup_escape_text (parts[0], -1);
      g_autofree char *text = g_markup_escape_text (parts[1] != NULL ? parts[1] : "", -1);

      g_string_append_printf (html, "<li><b>%s</b>: <span class=\"sms-metni\">%s</span></li>",
                              phone, text);
    }
  g_string_append (html, "</ul></main></body></html>\n");
  soup_message_headers_replace (headers, "Cache-Control", "no-store");
  soup_message_headers_replace (headers, "Content-Security-Policy", "default-src 'self'");
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_server_message_set_response (msg, "text/html; charset=utf-8", SOUP_MEMORY_TAKE, html->str,
                                    html->len);
  g_string_free (html, FALSE);
}

static gboolean
flush_audit_cb (gpointer user_data)
{
  ImzalaPortalServer *self = user_data;

  /* Events kept while the database was locked are written as soon as it
   * is back, not only with the next event. */
  imzala_portal_store_flush_audit (self->store);
  return G_SOURCE_CONTINUE;
}

static void
imzala_portal_server_finalize (GObject *object)
{
  ImzalaPortalServer *self = IMZALA_PORTAL_SERVER (object);

  g_clear_handle_id (&self->flush_id, g_source_remove);
  if (self->store != NULL)
    {
      guint64 failures, dropped;
      guint pending;

      imzala_portal_store_flush_audit (self->store);
      imzala_portal_store_get_audit_counts (self->store, &failures, &pending, &dropped);
      if (failures > 0)
        g_message ("Audit log: %" G_GUINT64_FORMAT " write(s) failed and were retried, %u still "
                   "unwritten, %" G_GUINT64_FORMAT " lost", failures, pending, dropped);
    }
  if (self->listener != NULL)
    imzala_portal_listener_stop (self->listener);
  g_clear_object (&self->listener);
  if (self->soup != NULL)
    soup_server_disconnect (self->soup);
  g_clear_object (&self->soup);
  g_clear_object (&self->sessions);
  g_clear_object (&self->store);
  g_clear_object (&self->ca);
  g_clear_pointer (&self->trust, X509_STORE_free);
  g_clear_object (&self->signer_trust);
  g_free (self->public_url);
  g_free (self->authority);
  g_clear_object (&self->guesses);
  g_clear_object (&self->creations);
  imzala_portal_server_clear_pki (self);
  g_clear_object (&self->work);
  g_clear_object (&self->pki_work);
  g_clear_object (&self->sms);

  G_OBJECT_CLASS (imzala_portal_server_parent_class)->finalize (object);
}

static void
imzala_portal_server_class_init (ImzalaPortalServerClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = imzala_portal_server_finalize;
}

static void
imzala_portal_server_init (ImzalaPortalServer *self)
{
  self->guesses = imzala_portal_limiter_new (IMZALA_PORTAL_GUESSES, IMZALA_PORTAL_GUESS_WINDOW);
  self->creations = imzala_portal_limiter_new (IMZALA_PORTAL_GUESSES, IMZALA_PORTAL_GUESS_WINDOW);
  self->work = imzala_portal_limiter_new (IMZALA_PORTAL_WORK, IMZALA_PORTAL_GUESS_WINDOW);
  self->pki_work = imzala_portal_limiter_new (IMZALA_PORTAL_PKI_WORK, IMZALA_PORTAL_GUESS_WINDOW);
  self->sms = imzala_portal_sms_new ();
}

ImzalaPortalServer *
imzala_portal_server_new (ImzalaPortalStore *store,
                          ImzalaPortalCa    *ca,
                          X509_STORE        *trust,
                          guint              code_lifetime,
                          GError           **error)
{
  g_autoptr(ImzalaPortalServer) self = g_object_new (IMZALA_TYPE_PORTAL_SERVER, NULL);
  g_autoptr(GTlsCertificate) certificate = NULL;

  self->store = g_object_ref (store);
  self->ca = g_object_ref (ca);
  self->trust = trust;
  self->signer_trust = imzala_portal_evidence_new_trust (trust);
  self->lifetime = code_lifetime;
  self->sessions = imzala_portal_sessions_new (store, self->creations);

  certificate = g_tls_certificate_new_from_files (imzala_portal_ca_get_tls_cert_file (ca),
                                                  imzala_portal_ca_get_tls_key_file (ca), error);
  if (certificate == NULL)
    return NULL;

  /* The server never listens itself: the listener accepts, makes the TLS
   * handshake and hands each connection over (see imzala-portal-listener.h
   * for why). */
  self->soup = soup_server_new ("server-header", "imzala-portal/" PACKAGE_VERSION " ",
                                NULL);
  self->listener = imzala_portal_listener_new (self->soup, certificate);
  /* libsoup keeps early handlers in the same path map as the handlers and
   * uses only the most specific entry, so each path needs its own. */
  soup_server_add_early_handler (self->soup, "/api/v1/requests/", imzala_portal_http_early_cb, self,
                                 NULL);
  soup_server_add_early_handler (self->soup, "/api/v1/browser/", imzala_portal_http_early_cb, self,
                                 NULL);
  soup_server_add_early_handler (self->soup, NULL, imzala_portal_http_early_cb, self, NULL);
  soup_server_add_handler (self->soup, "/api/v1/requests/", client_api_cb, self, NULL);
  soup_server_add_handler (self->soup, "/api/v1/browser/", browser_api_cb, self, NULL);
  soup_server_add_handler (self->soup, NULL, pages_cb, self, NULL);
  soup_server_add_handler (self->soup, "/demo/sms", demo_sms_cb, self, NULL);
  /* The demo PKI's services (docs/protocol.md §11.1), with their own body
   * limits: OCSP requests and time-stamp queries are POSTed DER. */
  soup_server_add_early_handler (self->soup, "/pki/", imzala_portal_pki_api_early_cb, self, NULL);
  soup_server_add_handler (self->soup, "/pki/", pki_api_cb, self, NULL);
  self->flush_id = g_timeout_add_seconds (1, flush_audit_cb, self);
  return g_steal_pointer (&self);
}

gboolean
imzala_portal_server_listen (ImzalaPortalServer *self,
                             GInetAddress       *address,
                             guint16             port,
                             GError            **error)
{
  g_return_val_if_fail (IMZALA_IS_PORTAL_SERVER (self), FALSE);

  self->port = imzala_portal_listener_listen (self->listener, address, port, error);
  if (self->port == 0)
    return FALSE;
  if (self->public_url == NULL)
    {
      g_autofree char *url = g_strdup_printf ("https://localhost:%u", self->port);

      imzala_portal_server_set_public_url (self, url);
    }
  return TRUE;
}

guint16
imzala_portal_server_get_port (ImzalaPortalServer *self)
{
  g_return_val_if_fail (IMZALA_IS_PORTAL_SERVER (self), 0);
  return self->port;
}

void
imzala_portal_server_set_public_url (ImzalaPortalServer *self, const char *url)
{
  g_autoptr(GUri) uri = NULL;
  g_autofree char *host = NULL;
  int port;

  g_return_if_fail (IMZALA_IS_PORTAL_SERVER (self));

  uri = g_uri_parse (url, G_URI_FLAGS_NONE, NULL);
  g_return_if_fail (uri != NULL);

  g_free (self->public_url);
  self->public_url = g_strdup (url);
  while (g_str_has_suffix (self->public_url, "/"))
    self->public_url[strlen (self->public_url) - 1] = '\0';

  host = g_ascii_strdown (g_uri_get_host (uri), -1);
  port = g_uri_get_port (uri);
  g_free (self->authority);
  /* The authority as a URL writes it: IPv6 in brackets, no default port. */
  if (strchr (host, ':') != NULL)
    self->authority = port > 0 && port != 443 ? g_strdup_printf ("[%s]:%d", host, port)
                                              : g_strdup_printf ("[%s]", host);
  else
    self->authority = port > 0 && port != 443 ? g_strdup_printf ("%s:%d", host, port)
                                              : g_strdup (host);
}

const char *
imzala_portal_server_get_public_url (ImzalaPortalServer *self)
{
  g_return_val_if_fail (IMZALA_IS_PORTAL_SERVER (self), NULL);
  return self->public_url;
}

void
imzala_portal_server_set_connection_limits (ImzalaPortalServer *self,
                                            guint               handshake_timeout,
                                            guint               idle_timeout,
                                            guint               max_per_address,
                                            guint               max_total)
{
  g_return_if_fail (IMZALA_IS_PORTAL_SERVER (self));
  imzala_portal_listener_set_limits (self->listener, handshake_timeout, idle_timeout,
                                     max_per_address, max_total);
}

void
imzala_portal_server_add_trusted_proxy (ImzalaPortalServer *self,
                                        GInetAddressMask   *network)
{
  g_return_if_fail (IMZALA_IS_PORTAL_SERVER (self));
  imzala_portal_listener_add_trusted_proxy (self->listener, network);
}

void
imzala_portal_server_set_session_lifetime (ImzalaPortalServer *self,
                                           guint               seconds)
{
  g_return_if_fail (IMZALA_IS_PORTAL_SERVER (self));
  g_return_if_fail (seconds > 0);
  imzala_portal_sessions_set_lifetime (self->sessions, seconds);
}


void
imzala_portal_server_refuse_early (ImzalaPortalServer *self,
                                   SoupServerMessage  *msg)
{
  g_return_if_fail (IMZALA_IS_PORTAL_SERVER (self));

  /* A message that did not come through the listener keeps libsoup's
   * answer (the status set), which reads the body first. */
  imzala_portal_listener_refuse (self->listener, msg);
}
