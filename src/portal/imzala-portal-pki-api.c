#define G_LOG_DOMAIN "imzala-portal"

#include "config.h"

#include <string.h>

#include "imzala-portal-http.h"
#include "imzala-portal-pki.h"
#include "imzala-portal-server-private.h"

/* The demo PKI's paths under /pki/ (docs/protocol.md §11.1) and the
 * server's signature-level configuration (§4.1). The services answer DER,
 * not JSON: they are for OCSP and RFC 3161 clients, OpenSSL's among them. */

/* OCSP requests and time-stamp queries are a few hundred bytes. */
#define MAX_PKI_BODY (16 * 1024)

void
imzala_portal_pki_api_early_cb (SoupServer        *server,
                                SoupServerMessage *msg,
                                const char        *path,
                                GHashTable        *query,
                                gpointer           user_data)
{
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  SoupMessageHeaders *answer_headers = soup_server_message_get_response_headers (msg);
  const char *method = soup_server_message_get_method (msg);
  SoupEncoding encoding = soup_message_headers_get_encoding (headers);
  goffset length = soup_message_headers_get_content_length (headers);

  soup_message_headers_replace (answer_headers, "Strict-Transport-Security", "max-age=31536000");
  soup_message_headers_replace (answer_headers, "X-Content-Type-Options", "nosniff");

  /* As on every other path: a body is refused before libsoup reads it,
   * unless it is a small POST to a service that takes one. */
  if (g_str_equal (method, "POST") && (g_str_equal (path, "/pki/ocsp") || g_str_equal (path, "/pki/tsa")))
    {
      if (encoding != SOUP_ENCODING_CONTENT_LENGTH)
        imzala_portal_http_send_error (msg, SOUP_STATUS_LENGTH_REQUIRED, "malformed",
                                       "İstekte Content-Length başlığı bulunmalıdır.");
      else if (length > MAX_PKI_BODY)
        imzala_portal_http_send_error (msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, "too-large",
                                       "İstek çok büyük.");
      return;
    }
  if (encoding == SOUP_ENCODING_CHUNKED || (encoding == SOUP_ENCODING_CONTENT_LENGTH && length > 0))
    imzala_portal_http_send_error (msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, "too-large",
                                   "İstek çok büyük.");
}

static void
send_der (SoupServerMessage *msg, const char *type, GBytes *der)
{
  if (der == NULL)
    {
      imzala_portal_http_send_internal_error (msg);
      return;
    }
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_server_message_set_response (msg, type, SOUP_MEMORY_COPY,
                                    g_bytes_get_data (der, NULL), g_bytes_get_size (der));
  /* Status answers must not be served stale from a cache. */
  soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                "Cache-Control", "no-store");
}

/* As the pages answer an unknown path: a plain 404. */
static void
send_not_found (SoupServerMessage *msg)
{
  soup_server_message_set_status (msg, SOUP_STATUS_NOT_FOUND, NULL);
  soup_server_message_set_response (msg, "text/plain; charset=utf-8", SOUP_MEMORY_STATIC,
                                    "Bulunamadı.\n", strlen ("Bulunamadı.\n"));
}

static gboolean
has_type (SoupServerMessage *msg, const char *wanted)
{
  const char *type = soup_message_headers_get_content_type (soup_server_message_get_request_headers (msg),
                                                            NULL);

  return type != NULL && g_ascii_strcasecmp (type, wanted) == 0;
}

static GBytes *
request_body (SoupServerMessage *msg)
{
  SoupMessageBody *body = soup_server_message_get_request_body (msg);

  return soup_message_body_flatten (body);
}

/* GET /pki/ocsp/<base64>: RFC 6960 A.1, the request URL-encoded base64;
 * libsoup has decoded the %-escapes of @path already. */
static GBytes *
ocsp_get_request (const char *path)
{
  g_autofree char *text = g_strdup (path + strlen ("/pki/ocsp/"));
  gsize size = 0;
  guchar *data;

  if (*text == '\0' || strlen (text) > MAX_PKI_BODY * 2)
    return NULL;
  for (const char *p = text; *p != '\0'; p++)
    if (!g_ascii_isalnum (*p) && *p != '+' && *p != '/' && *p != '=')
      return NULL;
  data = g_base64_decode (text, &size);
  return g_bytes_new_take (data, size);
}

void
imzala_portal_pki_api_cb (SoupServer        *server,
                          SoupServerMessage *msg,
                          const char        *path,
                          GHashTable        *query,
                          gpointer           user_data)
{
  ImzalaPortalServer *self = user_data;
  const char *method = soup_server_message_get_method (msg);
  gboolean is_get = g_str_equal (method, "GET") || g_str_equal (method, "HEAD");
  gboolean is_post = g_str_equal (method, "POST");
  g_autoptr(GBytes) body = NULL;
  g_autoptr(GBytes) answer = NULL;

  if (self->pki == NULL)
    {
      send_not_found (msg);
      return;
    }

  if (((g_str_equal (path, "/pki/ocsp") || g_str_equal (path, "/pki/tsa")) && is_post)
      || (g_str_has_prefix (path, "/pki/ocsp/") && is_get))
    {
      /* An OCSP answer or a time-stamp costs the portal a signature: one
       * client cannot take the portal's CPU from everyone else. */
      if (imzala_portal_http_work_limited (self->pki_work, msg))
        return;
    }

  if (g_str_equal (path, "/pki/ca.crt") && is_get)
    {
      answer = imzala_portal_pki_get_ca_der (self->pki);
      send_der (msg, "application/pkix-cert", answer);
    }
  else if (g_str_equal (path, "/pki/root.crt") && is_get)
    {
      answer = imzala_portal_pki_get_root_der (self->pki);
      send_der (msg, "application/pkix-cert", answer);
    }
  else if (g_str_equal (path, "/pki/ca.crl") && is_get)
    {
      g_autoptr(GError) error = NULL;

      answer = imzala_portal_pki_make_crl (self->pki, &error);
      if (answer == NULL)
        g_warning ("%s", error->message);
      send_der (msg, "application/pkix-crl", answer);
    }
  else if (g_str_equal (path, "/pki/ocsp") && is_post)
    {
      if (!has_type (msg, "application/ocsp-request"))
        {
          imzala_portal_http_send_malformed (msg, "İstek application/ocsp-request türünde olmalıdır.");
          return;
        }
      body = request_body (msg);
      answer = imzala_portal_pki_answer_ocsp (self->pki, body);
      send_der (msg, "application/ocsp-response", answer);
    }
  else if (g_str_has_prefix (path, "/pki/ocsp/") && is_get)
    {
      body = ocsp_get_request (path);
      if (body == NULL)
        {
          imzala_portal_http_send_malformed (msg, "OCSP isteği base64 biçiminde değil.");
          return;
        }
      answer = imzala_portal_pki_answer_ocsp (self->pki, body);
      send_der (msg, "application/ocsp-response", answer);
    }
  else if (g_str_equal (path, "/pki/tsa") && is_post)
    {
      if (!has_type (msg, "application/timestamp-query"))
        {
          imzala_portal_http_send_malformed (msg, "İstek application/timestamp-query türünde olmalıdır.");
          return;
        }
      body = request_body (msg);
      answer = imzala_portal_pki_answer_tsa (self->pki, body);
      send_der (msg, "application/timestamp-reply", answer);
    }
  else if (g_str_equal (path, "/pki/ca.crt") || g_str_equal (path, "/pki/root.crt")
           || g_str_equal (path, "/pki/ca.crl") || g_str_has_prefix (path, "/pki/ocsp")
           || g_str_equal (path, "/pki/tsa"))
    {
      soup_server_message_set_status (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, NULL);
    }
  else
    send_not_found (msg);
}

/* ---- Configuration ---- */

void
imzala_portal_server_set_pki (ImzalaPortalServer *self, ImzalaPortalPki *pki)
{
  g_return_if_fail (IMZALA_IS_PORTAL_SERVER (self));
  g_set_object (&self->pki, pki);
  imzala_portal_evidence_set_pki (self->signer_trust, pki, self->store);
}

void
imzala_portal_server_clear_pki (ImzalaPortalServer *self)
{
  g_clear_object (&self->pki);
  g_clear_pointer (&self->signature_levels, g_hash_table_unref);
  g_clear_pointer (&self->tsa_url, g_free);
}

gboolean
imzala_portal_server_set_signature_level (ImzalaPortalServer *self,
                                          const char         *purpose,
                                          const char         *level)
{
  g_return_val_if_fail (IMZALA_IS_PORTAL_SERVER (self), FALSE);

  if (g_strcmp0 (level, "BES") != 0 && g_strcmp0 (level, "T") != 0 && g_strcmp0 (level, "XL") != 0)
    return FALSE;
  if (purpose != NULL && !g_str_equal (purpose, "login") && !g_str_equal (purpose, "consent")
      && !g_str_equal (purpose, "application"))
    return FALSE;
  if (self->signature_levels == NULL)
    self->signature_levels = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_hash_table_replace (self->signature_levels, g_strdup (purpose != NULL ? purpose : "*"),
                        g_strdup (level));
  return TRUE;
}

void
imzala_portal_server_set_tsa_url (ImzalaPortalServer *self, const char *url)
{
  g_return_if_fail (IMZALA_IS_PORTAL_SERVER (self));
  g_free (self->tsa_url);
  self->tsa_url = g_strdup (url);
}

gboolean
imzala_portal_server_record_level (ImzalaPortalServer  *self,
                                   ImzalaPortalRequest *request,
                                   GError             **error)
{
  const char *level = NULL;
  g_autofree char *tsa_url = NULL;

  /* An unblock signs nothing, so it has no level. */
  if (self->signature_levels == NULL || g_str_equal (request->purpose, "unblock"))
    return TRUE;
  level = g_hash_table_lookup (self->signature_levels, request->purpose);
  if (level == NULL)
    level = g_hash_table_lookup (self->signature_levels, "*");
  if (level == NULL || g_str_equal (level, "BES"))
    return TRUE;
  tsa_url = self->tsa_url != NULL ? g_strdup (self->tsa_url)
                                  : g_strconcat (self->public_url, "/pki/tsa", NULL);
  return imzala_portal_store_set_request_level (self->store, request->id, level, tsa_url, error);
}
