#define G_LOG_DOMAIN "imzala-portal"

#include "config.h"

#include <string.h>

#include "imzala-json.h"
#include "imzala-portal.h"
#include "imzala-portal-http.h"
#include "imzala-portal-limiter.h"
#include "imzala-portal-listener.h"
#include "imzala-portal-server-private.h"
#include "imzala-portal-texts.h"

/* The portal's messages are Turkish on purpose: it is the stand-in for a
 * Turkish web site, and the client shows them as they are. They are not
 * marked for translation. */

void
imzala_portal_http_send_json (SoupServerMessage *msg, guint status, JsonNode *node)
{
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  gsize length;
  char *text;

  json_generator_set_root (generator, node);
  text = json_generator_to_data (generator, &length);
  soup_server_message_set_status (msg, status, NULL);
  /* set_response() appends: an answer replaced later (a 503 for a request
   * that met a locked database) must not carry the first one too. */
  soup_message_body_truncate (soup_server_message_get_response_body (msg));
  soup_server_message_set_response (msg, "application/json; charset=utf-8",
                                    SOUP_MEMORY_TAKE, text, length);
}

void
imzala_portal_http_send_builder (SoupServerMessage *msg, guint status, JsonBuilder *builder)
{
  g_autoptr(JsonNode) root = json_builder_get_root (builder);

  imzala_portal_http_send_json (msg, status, root);
}

void
imzala_portal_http_send_error_full (SoupServerMessage *msg,
                                    guint              status,
                                    const char        *code,
                                    const char        *message,
                                    guint              retry_after,
                                    JsonObject        *fields)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "error");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "code");
  json_builder_add_string_value (builder, code);
  json_builder_set_member_name (builder, "message");
  json_builder_add_string_value (builder, message);
  if (retry_after > 0)
    {
      g_autofree char *header = g_strdup_printf ("%u", retry_after);

      json_builder_set_member_name (builder, "retry_after");
      json_builder_add_int_value (builder, retry_after);
      soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                    "Retry-After", header);
    }
  if (fields != NULL)
    {
      JsonNode *node = json_node_new (JSON_NODE_OBJECT);

      json_node_set_object (node, fields);
      json_builder_set_member_name (builder, "fields");
      json_builder_add_value (builder, node);
    }
  json_builder_end_object (builder);
  json_builder_end_object (builder);
  imzala_portal_http_send_builder (msg, status, builder);
}

void
imzala_portal_http_send_error (SoupServerMessage *msg,
                               guint              status,
                               const char        *code,
                               const char        *message)
{
  imzala_portal_http_send_error_full (msg, status, code, message, 0, NULL);
}

void
imzala_portal_http_send_malformed (SoupServerMessage *msg, const char *message)
{
  imzala_portal_http_send_error (msg, SOUP_STATUS_BAD_REQUEST, "malformed",
                                 message != NULL ? message : "İstek anlaşılamadı.");
}

void
imzala_portal_http_send_rate_limited (SoupServerMessage *msg, guint retry_after, gboolean failed_attempts)
{
  g_autofree char *message =
    g_strdup_printf (failed_attempts
                     ? "Çok fazla hatalı deneme yapıldı. Lütfen %u saniye sonra tekrar deneyiniz."
                     : "Bu adresten kısa sürede çok fazla istek geldi. Lütfen %u saniye sonra tekrar deneyiniz.",
                     retry_after);

  imzala_portal_http_send_error_full (msg, 429 /* Too Many Requests */, "rate-limited", message,
                                      retry_after, NULL);
}

void
imzala_portal_http_send_internal_error (SoupServerMessage *msg)
{
  imzala_portal_http_send_error (msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, "internal",
                                 "Bir iç hata oluştu.");
}

void
imzala_portal_http_add_string (JsonBuilder *builder, const char *name, const char *value)
{
  json_builder_set_member_name (builder, name);
  if (value != NULL)
    json_builder_add_string_value (builder, value);
  else
    json_builder_add_null_value (builder);
}

void
imzala_portal_http_add_time (JsonBuilder *builder, const char *name, gint64 value)
{
  g_autofree char *text = imzala_portal_texts_format_time (value);

  imzala_portal_http_add_string (builder, name, text);
}

/* ---- Request bodies ---- */

/* An X-Forwarded-For entry as an address: "192.0.2.1" or "2001:db8::1",
 * or with the client's port, as some proxies write it ("192.0.2.1:51234",
 * "[2001:db8::1]:51234"). NULL for anything else ("unknown", a name, a
 * service name for the port). Not g_network_address_parse(): it takes host
 * names, and looks service names up in /etc/services on every request. */
static GInetAddress *
forwarded_address (char *entry)
{
  char *colon = strrchr (entry, ':');
  const char *port = NULL;

  if (entry[0] == '[')
    {
      char *end = strchr (entry, ']');

      if (end == NULL)
        return NULL;
      if (end[1] == ':')
        port = end + 2;
      else if (end[1] != '\0')
        return NULL;
      *end = '\0';
      entry++;
    }
  else if (colon != NULL && strchr (entry, ':') == colon)
    {
      /* One colon: IPv4 and a port (an IPv6 address has at least two). */
      port = colon + 1;
      *colon = '\0';
    }
  if (port != NULL && (strlen (port) < 1 || strlen (port) > 5 || strspn (port, "0123456789") != strlen (port)))
    return NULL;
  return g_inet_address_new_from_string (entry);
}

/* The client a trusted proxy names: the last address of X-Forwarded-For
 * (all its lines, as one list). nginx's $proxy_add_x_forwarded_for appends
 * the address it was connected from to whatever the client sent, so only
 * the last is the proxy's word; the ones before it are the client's own and
 * may be forged. NULL when there is none or it is not an IP address. */
static GInetAddress *
forwarded_client (SoupServerMessage *msg)
{
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  const char *list = soup_message_headers_get_list (headers, "X-Forwarded-For");
  const char *last;
  g_autofree char *text = NULL;

  if (list == NULL)
    return NULL;
  last = strrchr (list, ',');
  text = g_strstrip (g_strdup (last != NULL ? last + 1 : list));
  return forwarded_address (text);
}

char *
imzala_portal_http_client_key (SoupServerMessage *msg)
{
  GSocketAddress *address = soup_server_message_get_remote_address (msg);

  if (g_object_get_data (G_OBJECT (msg), IMZALA_PORTAL_VIA_PROXY) != NULL)
    {
      g_autoptr(GInetAddress) client = forwarded_client (msg);

      /* A proxy that names no client: its requests count against the
       * proxy's own address, all together, as without --trusted-proxy. */
      if (client != NULL)
        return imzala_portal_limiter_key_for_address (client);
      g_warning_once ("A request from the trusted proxy has no usable X-Forwarded-For address;"
                      " limits count it against the proxy's own address");
    }
  if (address == NULL || !G_IS_INET_SOCKET_ADDRESS (address))
    return g_strdup ("unknown");
  return imzala_portal_limiter_key_for_address (
    g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (address)));
}

gboolean
imzala_portal_http_work_limited (ImzalaPortalLimiter *limiter,
                                 SoupServerMessage   *msg)
{
  g_autofree char *key = imzala_portal_http_client_key (msg);
  guint wait = imzala_portal_limiter_check (limiter, key);

  if (wait > 0)
    {
      imzala_portal_http_send_rate_limited (msg, wait, FALSE);
      return TRUE;
    }
  imzala_portal_limiter_record (limiter, key);
  return FALSE;
}

/* Parses the body as a JSON object; sends the error itself and returns
 * NULL when it is not one. @need_version: the protocol's "version": 1.
 * Only "application/json" (charset utf-8 or none) is read, and only through
 * imzala_json_parse(), which counts the nesting before json-glib recurses
 * into it: 100 000 nested arrays are a 400, not a stack overflow. */
JsonObject *
imzala_portal_http_parse_body (SoupServerMessage *msg, gboolean need_version)
{
  SoupMessageBody *body = soup_server_message_get_request_body (msg);
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  g_autoptr(GHashTable) params = NULL;
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(GError) error = NULL;
  const char *media_type = soup_message_headers_get_content_type (headers, &params);
  gsize size;
  const guint8 *data;
  JsonObject *object;

  if (!imzala_json_is_media_type (media_type, params))
    {
      imzala_portal_http_send_malformed (msg, "İstek application/json (UTF-8) olarak gönderilmelidir.");
      return NULL;
    }
  bytes = soup_message_body_flatten (body);
  data = g_bytes_get_data (bytes, &size);
  root = imzala_json_parse (data, size, IMZALA_PORTAL_MAX_CLIENT_BODY, IMZALA_JSON_MAX_DEPTH,
                            &error);
  if (root == NULL)
    {
      g_debug ("Request body refused: %s", error->message);
      imzala_portal_http_send_malformed (msg, "İstek geçerli bir JSON belgesi değil.");
      return NULL;
    }
  if (!JSON_NODE_HOLDS_OBJECT (root))
    {
      imzala_portal_http_send_malformed (msg, "İstek bir JSON nesnesi olmalıdır.");
      return NULL;
    }
  object = json_node_get_object (root);
  if (need_version)
    {
      JsonNode *version = json_object_get_member (object, "version");

      if (version == NULL || !JSON_NODE_HOLDS_VALUE (version)
          || json_node_get_value_type (version) != G_TYPE_INT64)
        {
          imzala_portal_http_send_malformed (msg, "İstekte sürüm (version) bulunmuyor.");
          return NULL;
        }
      if (json_node_get_int (version) != 1)
        {
          imzala_portal_http_send_error (msg, SOUP_STATUS_BAD_REQUEST, "unsupported-version",
                                         "Bu protokol sürümü desteklenmiyor.");
          return NULL;
        }
    }
  return json_object_ref (object);
}

const char *
imzala_portal_http_member_string (JsonObject *object, const char *name)
{
  JsonNode *node = json_object_get_member (object, name);

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node)
      || json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (node);
}

/* The protocol's strict base64 (imzala_portal_decode_base64()); the portal
 * takes no empty value. */
GBytes *
imzala_portal_http_decode_base64 (const char *text)
{
  if (text == NULL || *text == '\0')
    return NULL;
  return imzala_portal_decode_base64 (text);
}

/* ---- Limits before the body is read ---- */

/* Sends the error on its own and closes the connection: libsoup 3.2 would
 * read the whole body (into memory) before it answers a status set this
 * early, unless the client asked with Expect: 100-continue. */
static void
refuse (SoupServerMessage *msg,
        gpointer           server,
        guint              status,
        const char        *code,
        const char        *message)
{
  imzala_portal_http_send_error (msg, status, code, message);
  imzala_portal_server_refuse_early (server, msg);
}

void
imzala_portal_http_early_cb (SoupServer        *server,
                             SoupServerMessage *msg,
                             const char        *path,
                             GHashTable        *query,
                             gpointer           user_data)
{
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  SoupMessageHeaders *response_headers = soup_server_message_get_response_headers (msg);
  const char *method = soup_server_message_get_method (msg);
  const char *content_type;
  goffset limit;

  soup_message_headers_replace (response_headers, "Strict-Transport-Security", "max-age=31536000");
  /* Every answer, not only the pages: the API's JSON, /ca.pem and the
   * plain-text 404 are never to be sniffed as HTML. */
  soup_message_headers_replace (response_headers, "X-Content-Type-Options", "nosniff");
  if (!g_str_has_prefix (path, "/api/")
      || (!g_str_equal (method, "POST") && !g_str_equal (method, "PUT")))
    {
      /* No page and no GET of the API takes a body: one announced, by
       * length or chunked, is refused before a byte of it is read. */
      SoupEncoding encoding = soup_message_headers_get_encoding (headers);

      if (encoding == SOUP_ENCODING_CHUNKED || encoding == SOUP_ENCODING_EOF
          || (encoding == SOUP_ENCODING_CONTENT_LENGTH
              && soup_message_headers_get_content_length (headers) > 0))
        refuse (msg, user_data, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, "too-large",
                "İstek çok büyük.");
      return;
    }

  limit = g_str_has_prefix (path, "/api/v1/browser/")
    ? IMZALA_PORTAL_MAX_BROWSER_BODY : IMZALA_PORTAL_MAX_CLIENT_BODY;
  /* A streamed (chunked) body has no length to check before it arrives;
   * the API takes none, so its size is always known up front. */
  if (soup_message_headers_get_encoding (headers) != SOUP_ENCODING_CONTENT_LENGTH)
    {
      refuse (msg, user_data, SOUP_STATUS_LENGTH_REQUIRED, "malformed",
              "İstek gövdesinin uzunluğu (Content-Length) belirtilmelidir.");
      return;
    }
  if (soup_message_headers_get_content_length (headers) > limit)
    {
      refuse (msg, user_data, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, "too-large",
              "İstek çok büyük.");
      return;
    }
  content_type = soup_message_headers_get_content_type (headers, NULL);
  if (g_strcmp0 (content_type, "application/json") != 0)
    {
      refuse (msg, user_data, SOUP_STATUS_BAD_REQUEST, "malformed",
              "İstek application/json türünde olmalıdır.");
      return;
    }
}
