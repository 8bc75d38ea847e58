#define G_LOG_DOMAIN "imzala-portal"

#include "config.h"

#include <string.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "imzala-error.h"
#include "imzala-tckn.h"
#include "imzala-portal-application.h"
#include "imzala-portal-checker.h"
#include "imzala-portal-code.h"
#include "imzala-portal-limiter.h"
#include "imzala-portal-security-word.h"
#include "imzala-portal-server.h"
#include "imzala-portal-texts.h"

/* The portal's messages are Turkish on purpose: it is the stand-in for a
 * Turkish web site, and the client shows them as they are. They are not
 * marked for translation. */

/* The __Host- prefix makes browsers refuse the cookie unless it is Secure,
 * has Path=/ and no Domain, so no other host (a sibling subdomain, or plain
 * HTTP) can plant a session id in a browser for the portal. */
#define SESSION_COOKIE "__Host-imzala_oturum"

struct _ImzalaPortalServer
{
  GObject              parent_instance;

  SoupServer          *soup;
  ImzalaPortalStore   *store;
  ImzalaPortalCa      *ca;
  X509_STORE          *trust;
  guint                lifetime;
  guint                session_lifetime;
  guint16              port;
  char                *public_url;
  char                *authority;
  ImzalaPortalLimiter *guesses;
  ImzalaPortalLimiter *creations;
};

G_DEFINE_FINAL_TYPE (ImzalaPortalServer, imzala_portal_server, G_TYPE_OBJECT)

static void
imzala_portal_server_finalize (GObject *object)
{
  ImzalaPortalServer *self = IMZALA_PORTAL_SERVER (object);

  if (self->soup != NULL)
    soup_server_disconnect (self->soup);
  g_clear_object (&self->soup);
  g_clear_object (&self->store);
  g_clear_object (&self->ca);
  g_clear_pointer (&self->trust, X509_STORE_free);
  g_free (self->public_url);
  g_free (self->authority);
  g_clear_object (&self->guesses);
  g_clear_object (&self->creations);

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
  self->session_lifetime = IMZALA_PORTAL_SESSION_LIFETIME;
}

static gint64
now_unix (void)
{
  return g_get_real_time () / G_USEC_PER_SEC;
}

/* ---- Responses ---- */

static void
send_node (SoupServerMessage *msg, guint status, JsonNode *node)
{
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  gsize length;
  char *text;

  json_generator_set_root (generator, node);
  text = json_generator_to_data (generator, &length);
  soup_server_message_set_status (msg, status, NULL);
  soup_server_message_set_response (msg, "application/json; charset=utf-8",
                                    SOUP_MEMORY_TAKE, text, length);
}

static void
send_builder (SoupServerMessage *msg, guint status, JsonBuilder *builder)
{
  g_autoptr(JsonNode) root = json_builder_get_root (builder);

  send_node (msg, status, root);
}

static void
send_error_full (SoupServerMessage *msg,
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
  send_builder (msg, status, builder);
}

static void
send_error (SoupServerMessage *msg, guint status, const char *code, const char *message)
{
  send_error_full (msg, status, code, message, 0, NULL);
}

static void
send_malformed (SoupServerMessage *msg, const char *message)
{
  send_error (msg, SOUP_STATUS_BAD_REQUEST, "malformed",
              message != NULL ? message : "İstek anlaşılamadı.");
}

static void
send_rate_limited (SoupServerMessage *msg, guint retry_after)
{
  g_autofree char *message =
    g_strdup_printf ("Çok fazla hatalı deneme yapıldı. Lütfen %u saniye sonra tekrar deneyiniz.",
                     retry_after);

  send_error_full (msg, 429 /* Too Many Requests */, "rate-limited", message, retry_after, NULL);
}

static void
builder_add_string (JsonBuilder *builder, const char *name, const char *value)
{
  json_builder_set_member_name (builder, name);
  if (value != NULL)
    json_builder_add_string_value (builder, value);
  else
    json_builder_add_null_value (builder);
}

static void
builder_add_time (JsonBuilder *builder, const char *name, gint64 value)
{
  g_autofree char *text = imzala_portal_texts_format_time (value);

  builder_add_string (builder, name, text);
}

/* ---- Requests bodies ---- */

static char *
client_key (SoupServerMessage *msg)
{
  GSocketAddress *address = soup_server_message_get_remote_address (msg);

  if (address == NULL || !G_IS_INET_SOCKET_ADDRESS (address))
    return g_strdup ("unknown");
  return imzala_portal_limiter_key_for_address (
    g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (address)));
}

/* Parses the body as a JSON object; sends the error itself and returns
 * NULL when it is not one. @need_version: the protocol's "version": 1. */
static JsonObject *
parse_body (SoupServerMessage *msg, gboolean need_version)
{
  SoupMessageBody *body = soup_server_message_get_request_body (msg);
  g_autoptr(GBytes) bytes = soup_message_body_flatten (body);
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  gsize size;
  const char *data = g_bytes_get_data (bytes, &size);
  JsonNode *root;
  JsonObject *object;

  if (size == 0 || !g_utf8_validate (data, size, NULL)
      || !json_parser_load_from_data (parser, data, size, &error))
    {
      send_malformed (msg, "İstek geçerli bir JSON belgesi değil.");
      return NULL;
    }
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      send_malformed (msg, "İstek bir JSON nesnesi olmalıdır.");
      return NULL;
    }
  object = json_node_get_object (root);
  if (need_version)
    {
      JsonNode *version = json_object_get_member (object, "version");

      if (version == NULL || !JSON_NODE_HOLDS_VALUE (version)
          || json_node_get_value_type (version) != G_TYPE_INT64)
        {
          send_malformed (msg, "İstekte sürüm (version) bulunmuyor.");
          return NULL;
        }
      if (json_node_get_int (version) != 1)
        {
          send_error (msg, SOUP_STATUS_BAD_REQUEST, "unsupported-version",
                      "Bu protokol sürümü desteklenmiyor.");
          return NULL;
        }
    }
  return json_object_ref (object);
}

static const char *
member_string (JsonObject *object, const char *name)
{
  JsonNode *node = json_object_get_member (object, name);

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (node);
}

/* Strict base64 (standard alphabet, padded): g_base64_decode() skips
 * invalid characters silently, which would let garbage through. */
static GBytes *
decode_base64 (const char *text)
{
  gsize length = strlen (text);
  gsize out_length = 0;
  guchar *out;

  if (length == 0 || length % 4 != 0)
    return NULL;
  for (gsize i = 0; i < length; i++)
    {
      char c = text[i];

      if (g_ascii_isalnum (c) || c == '+' || c == '/')
        continue;
      if (c == '=' && (i >= length - 2) && (i == length - 1 || text[length - 1] == '='))
        continue;
      return NULL;
    }
  out = g_base64_decode (text, &out_length);
  return g_bytes_new_take (out, out_length);
}

static gboolean
nonce_matches (ImzalaPortalRequest *request, const char *text)
{
  g_autoptr(GBytes) nonce = text != NULL ? decode_base64 (text) : NULL;
  gsize size, expected_size;
  const void *data, *expected;

  if (nonce == NULL)
    return FALSE;
  data = g_bytes_get_data (nonce, &size);
  expected = g_bytes_get_data (request->nonce, &expected_size);
  return size == expected_size && CRYPTO_memcmp (data, expected, size) == 0;
}

/* ---- Sessions ---- */

static char *
hash_session_id (const char *id)
{
  return g_compute_checksum_for_string (G_CHECKSUM_SHA256, id, -1);
}

/* The live session this browser's cookie names, or NULL. Never writes
 * to the database. */
static ImzalaPortalSession *
lookup_session (ImzalaPortalServer *self, SoupServerMessage *msg)
{
  const char *cookie_header = soup_message_headers_get_one (soup_server_message_get_request_headers (msg),
                                                            "Cookie");
  ImzalaPortalSession *session = NULL;
  gint64 now = now_unix ();

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
  if (session != NULL && now - session->created_at >= (gint64) self->session_lifetime)
    g_clear_pointer (&session, imzala_portal_session_free);
  return session;
}

static void
set_session_cookie (SoupServerMessage *msg, const char *id)
{
  g_autofree char *header = g_strdup_printf ("%s=%s; Path=/; HttpOnly; Secure; SameSite=Strict",
                                             SESSION_COOKIE, id);

  soup_message_headers_append (soup_server_message_get_response_headers (msg), "Set-Cookie", header);
}

/* The session of this browser, made (with a Set-Cookie) when there is
 * none; only a POST that needs one calls this. Only the cookie's hash is
 * stored. Making one counts against the address's creation limit, or
 * anyone could fill the table with rows. Sends the error itself and
 * returns NULL when it cannot. */
static ImzalaPortalSession *
ensure_session (ImzalaPortalServer *self, SoupServerMessage *msg)
{
  ImzalaPortalSession *session = lookup_session (self, msg);
  g_autofree char *key = NULL;
  g_autofree char *id = NULL;
  g_autofree char *hash = NULL;
  gint64 now = now_unix ();
  guint wait;

  if (session != NULL)
    return session;

  key = client_key (msg);
  wait = imzala_portal_limiter_check (self->creations, key);
  if (wait > 0)
    {
      send_rate_limited (msg, wait);
      return NULL;
    }
  imzala_portal_limiter_record (self->creations, key);

  /* Expired rows are useless; clearing them when a row is added keeps the
   * table no bigger than the sessions made in one lifetime. */
  id = imzala_portal_random_hex (32);
  hash = hash_session_id (id);
  if (!imzala_portal_store_expire_sessions (self->store, now - self->session_lifetime, NULL)
      || !imzala_portal_store_add_session (self->store, hash, now, NULL))
    {
      send_error (msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, "internal", "Bir iç hata oluştu.");
      return NULL;
    }
  set_session_cookie (msg, id);
  return imzala_portal_store_get_session (self->store, hash);
}

/* E-imzalı Giriş completed for @request, which @session made: the person
 * is signed in on a new session id, never on the one the browser had, so
 * someone who knew or planted that id (session fixation) gets nothing.
 * This runs when the browser reads the done status: only the browser that
 * made the request knows its id. */
static gboolean
sign_in (ImzalaPortalServer   *self,
         SoupServerMessage    *msg,
         ImzalaPortalSession  *session,
         ImzalaPortalRequest  *request)
{
  g_autofree char *id = imzala_portal_random_hex (32);
  g_autofree char *hash = hash_session_id (id);
  g_autoptr(GError) error = NULL;

  if (!imzala_portal_store_replace_session (self->store, session->id_hash, hash, request->person,
                                            now_unix (), &error))
    {
      g_warning ("Could not sign a person in: %s", error->message);
      return FALSE;
    }
  set_session_cookie (msg, id);
  return TRUE;
}

/* ---- Creating requests ---- */

static char *
tckn_hint (const char *tckn)
{
  return g_strdup_printf ("%.3s******%s", tckn, tckn + 9);
}

static const char *
purpose_title (const char *purpose)
{
  if (g_str_equal (purpose, "login"))
    return "E-imzalı Giriş";
  if (g_str_equal (purpose, "consent"))
    return "E-Onay";
  if (g_str_equal (purpose, "application"))
    return "Nitelikli Elektronik Sertifika Başvurusu";
  return "Kilit Çözme";
}

static char *
imzala_link (ImzalaPortalServer *self, const char *code)
{
  g_autofree char *portal = g_uri_escape_string (self->public_url, NULL, FALSE);
  g_autofree char *display = imzala_portal_format_code (code);

  return g_strdup_printf ("imzala:?portal=%s&code=%s", portal, display);
}

/* Makes a request with the given text bodies (the reference line is added
 * here, since it needs the code) and answers 201 for the page. */
static void
create_request (ImzalaPortalServer *self,
                SoupServerMessage  *msg,
                const char         *purpose,
                const char         *person,
                const char         *session,
                gint64              application,
                const char         *choice,
                const char * const *titles,
                const char * const *bodies)
{
  g_autoptr(ImzalaPortalRequest) request = NULL;
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *key = client_key (msg);
  g_autofree char *display = NULL;
  g_autofree char *link = NULL;
  gint64 now = now_unix ();
  guint wait;

  wait = imzala_portal_limiter_check (self->creations, key);
  if (wait > 0)
    {
      send_rate_limited (msg, wait);
      return;
    }
  imzala_portal_limiter_record (self->creations, key);

  for (guint attempt = 0; attempt < 5; attempt++)
    {
      g_clear_pointer (&request, imzala_portal_request_free);
      g_clear_error (&error);

      request = g_new0 (ImzalaPortalRequest, 1);
      request->public_id = imzala_portal_random_hex (16);
      request->code = imzala_portal_code_generate ();
      request->purpose = g_strdup (purpose);
      request->person = g_strdup (person);
      request->session = g_strdup (session);
      request->application = application;
      request->choice = g_strdup (choice);
      request->nonce = imzala_portal_random_bytes (32);
      request->created_at = now;
      request->expires_at = now + self->lifetime;
      request->titles = g_ptr_array_new_with_free_func (g_free);
      request->texts = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
      for (guint i = 0; bodies != NULL && bodies[i] != NULL; i++)
        {
          g_ptr_array_add (request->titles, g_strdup (titles[i]));
          g_ptr_array_add (request->texts,
                           imzala_portal_texts_bind (bodies[i], self->authority,
                                                     request->code, now));
        }
      if (imzala_portal_store_add_request (self->store, request, &error))
        break;
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_EXISTS))
        break;
    }
  if (error != NULL)
    {
      g_warning ("Could not store a request: %s", error->message);
      send_error (msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, "internal", "Bir iç hata oluştu.");
      return;
    }

  imzala_portal_store_log (self->store, "request-created", person, request->id, key, purpose);

  display = imzala_portal_format_code (request->code);
  link = imzala_link (self, request->code);
  json_builder_begin_object (builder);
  builder_add_string (builder, "request_id", request->public_id);
  builder_add_string (builder, "code", display);
  builder_add_string (builder, "purpose", purpose);
  builder_add_time (builder, "expires_at", request->expires_at);
  builder_add_time (builder, "server_time", now);
  json_builder_set_member_name (builder, "lifetime");
  json_builder_add_int_value (builder, self->lifetime);
  builder_add_string (builder, "imzala_link", link);
  builder_add_string (builder, "portal", self->public_url);
  json_builder_end_object (builder);
  send_builder (msg, SOUP_STATUS_CREATED, builder);
}

/* ---- Client API ---- */

/* What a closed request (state failed after IMZALA_PORTAL_MAX_REJECTED
 * rejected submissions) says, to İmzala and on the browser page alike. */
#define CODE_CLOSED_MESSAGE \
  "Çok fazla başarısız deneme yapıldığı için bu doğrulama kodu kapatıldı ve artık kullanılamaz."

/* Brings a pending request whose time is up to "expired" and answers the
 * request's state with the protocol's error when it is not @wanted.
 * Returns TRUE when the caller may go on. */
static gboolean
check_state (ImzalaPortalServer  *self,
             SoupServerMessage   *msg,
             ImzalaPortalRequest *request,
             ImzalaPortalState    wanted)
{
  gint64 now = now_unix ();

  if (request->state == IMZALA_PORTAL_STATE_PENDING && now > request->expires_at)
    {
      imzala_portal_store_expire_requests (self->store, now);
      request->state = IMZALA_PORTAL_STATE_EXPIRED;
    }
  if (request->state == wanted)
    return TRUE;

  switch (request->state)
    {
    case IMZALA_PORTAL_STATE_EXPIRED:
      send_error (msg, SOUP_STATUS_GONE, "code-expired",
                  "Doğrulama kodunun süresi dolmuş. Tarayıcıda yeni bir kod alınız.");
      break;
    case IMZALA_PORTAL_STATE_FAILED:
      send_error (msg, SOUP_STATUS_CONFLICT, "code-used",
                  CODE_CLOSED_MESSAGE " Tarayıcıda yeni bir kod alınız.");
      break;
    default:
      send_error (msg, SOUP_STATUS_CONFLICT, "code-used",
                  "Bu doğrulama kodu daha önce kullanılmış.");
      break;
    }
  return FALSE;
}

static void
handle_get_request (ImzalaPortalServer  *self,
                    SoupServerMessage   *msg,
                    ImzalaPortalRequest *request)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(ImzalaPortalPerson) person = NULL;
  g_autofree char *nonce = NULL;
  g_autofree char *hint = NULL;
  g_autofree char *key = NULL;

  if (!check_state (self, msg, request, IMZALA_PORTAL_STATE_PENDING))
    return;

  /* Who fetched which request, and from where, belongs in the audit log as
   * much as who signed it. */
  key = client_key (msg);
  imzala_portal_store_log (self->store, "request-fetched", request->person, request->id, key, NULL);

  person = imzala_portal_store_get_person (self->store, request->person);
  nonce = g_base64_encode (g_bytes_get_data (request->nonce, NULL), g_bytes_get_size (request->nonce));
  hint = tckn_hint (request->person);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "version");
  json_builder_add_int_value (builder, 1);
  builder_add_string (builder, "code", request->code);
  builder_add_string (builder, "purpose", request->purpose);
  builder_add_string (builder, "portal", self->authority);
  builder_add_string (builder, "title", purpose_title (request->purpose));
  builder_add_time (builder, "created_at", request->created_at);
  builder_add_time (builder, "expires_at", request->expires_at);
  builder_add_time (builder, "server_time", now_unix ());
  builder_add_string (builder, "nonce", nonce);
  json_builder_set_member_name (builder, "texts");
  json_builder_begin_array (builder);
  for (guint i = 0; i < request->texts->len; i++)
    {
      GBytes *text = g_ptr_array_index (request->texts, i);
      g_autofree char *content = g_base64_encode (g_bytes_get_data (text, NULL), g_bytes_get_size (text));

      json_builder_begin_object (builder);
      builder_add_string (builder, "title", g_ptr_array_index (request->titles, i));
      builder_add_string (builder, "content", content);
      builder_add_string (builder, "media_type", "text/plain; charset=utf-8");
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
  json_builder_set_member_name (builder, "requester");
  json_builder_begin_object (builder);
  builder_add_string (builder, "name", person != NULL ? person->name : NULL);
  builder_add_string (builder, "tckn_hint", hint);
  json_builder_end_object (builder);
  json_builder_end_object (builder);
  send_builder (msg, SOUP_STATUS_OK, builder);
}

/* Counts a rejected submission and answers it. */
static void
send_rejected (ImzalaPortalServer  *self,
               SoupServerMessage   *msg,
               ImzalaPortalRequest *request,
               guint                status,
               const char          *code,
               const char          *message)
{
  g_autofree char *key = client_key (msg);
  g_autofree char *closed = g_strconcat (message, " " CODE_CLOSED_MESSAGE, NULL);
  ImzalaPortalState state;

  state = imzala_portal_store_reject (self->store, request->id, IMZALA_PORTAL_MAX_REJECTED,
                                      message, closed);
  imzala_portal_store_log (self->store, "rejected", request->person, request->id, key, code);
  send_error (msg, status, code, state == IMZALA_PORTAL_STATE_FAILED ? closed : message);
}

/* The sentence the page and İmzala show once @request is signed at @now. */
static char *
done_message (ImzalaPortalServer *self, ImzalaPortalRequest *request, gint64 now)
{
  if (g_str_equal (request->purpose, "login"))
    return g_strdup ("Giriş işleminiz tamamlanmıştır. İşleminize tarayıcı üzerinden devam edebilirsiniz.");
  if (g_str_equal (request->purpose, "consent"))
    return g_strdup (g_strcmp0 (request->choice, "accept") == 0
                     ? "Seçiminiz kaydedildi. Yeni yapacağınız başvurularda başvuru formunu doldurduktan sonra "
                       "imzalama tipi olarak E-Onay seçmeniz yeterli olacaktır."
                     : "Seçiminiz kaydedildi.");
  {
    /* An application: the same sentence as the E-Onaylı way, including
     * until when a renewal waits. */
    g_autoptr(ImzalaPortalApplication) application =
      imzala_portal_store_get_application_by_id (self->store, request->application);

    return imzala_portal_application_done_message (application != NULL ? application->production_date : now,
                                                   now);
  }
}

static void
handle_signatures (ImzalaPortalServer  *self,
                   SoupServerMessage   *msg,
                   ImzalaPortalRequest *request)
{
  g_autoptr(JsonObject) body = NULL;
  g_autoptr(GPtrArray) checked = g_ptr_array_new_with_free_func ((GDestroyNotify) imzala_portal_signature_free);
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *key = client_key (msg);
  g_autofree char *message = NULL;
  JsonNode *list_node;
  JsonArray *list;
  gint64 now;

  if ((body = parse_body (msg, TRUE)) == NULL)
    return;
  if (!check_state (self, msg, request, IMZALA_PORTAL_STATE_PENDING))
    return;
  if (g_str_equal (request->purpose, "unblock"))
    {
      send_malformed (msg, "Kilit çözme işleminde imza gönderilmez.");
      return;
    }

  list_node = json_object_get_member (body, "signatures");
  if (list_node == NULL || !JSON_NODE_HOLDS_ARRAY (list_node))
    {
      send_malformed (msg, "İstekte imza listesi bulunmuyor.");
      return;
    }
  if (!nonce_matches (request, member_string (body, "nonce")))
    {
      send_rejected (self, msg, request, SOUP_STATUS_BAD_REQUEST, "malformed",
                     "İstekteki tek kullanımlık değer (nonce) bu işleme ait değil.");
      return;
    }
  list = json_node_get_array (list_node);
  if (json_array_get_length (list) != request->texts->len)
    {
      send_rejected (self, msg, request, SOUP_STATUS_BAD_REQUEST, "malformed",
                     "Her metin için bir imza gönderilmelidir.");
      return;
    }

  for (guint i = 0; i < request->texts->len; i++)
    {
      JsonNode *item = json_array_get_element (list, i);
      g_autoptr(GBytes) cms = NULL;
      ImzalaPortalSignature *signature;

      if (JSON_NODE_HOLDS_VALUE (item) && json_node_get_value_type (item) == G_TYPE_STRING)
        cms = decode_base64 (json_node_get_string (item));
      if (cms == NULL)
        {
          send_rejected (self, msg, request, SOUP_STATUS_BAD_REQUEST, "malformed",
                         "İmza base64 biçiminde değil.");
          return;
        }
      signature = imzala_portal_check_signature (self->trust, cms,
                                                 g_ptr_array_index (request->texts, i),
                                                 request->person, request->created_at,
                                                 request->expires_at, &error);
      if (signature == NULL)
        {
          if (g_error_matches (error, IMZALA_ERROR, IMZALA_ERROR_SIGNER_MISMATCH))
            send_rejected (self, msg, request, SOUP_STATUS_FORBIDDEN, "signer-mismatch", error->message);
          else
            send_rejected (self, msg, request, SOUP_STATUS_UNPROCESSABLE_ENTITY, "signature-invalid",
                           error->message);
          return;
        }
      g_ptr_array_add (checked, signature);
      if (i > 0 && g_strcmp0 (signature->signer_fingerprint,
                              ((ImzalaPortalSignature *) g_ptr_array_index (checked, 0))->signer_fingerprint) != 0)
        {
          send_rejected (self, msg, request, SOUP_STATUS_UNPROCESSABLE_ENTITY, "signature-invalid",
                         "Bütün metinler aynı sertifika ile imzalanmalıdır.");
          return;
        }
    }

  /* One clock reading for the state change (waiting or submitted) and the
   * sentence that says so. The store records the request's effect (a
   * consent, an application) in the same transaction; a login signs the
   * browser in when it reads this request's status (sign_in()). */
  now = now_unix ();
  message = done_message (self, request, now);
  if (!imzala_portal_store_complete (self->store, request, now, checked, message, &error))
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_BUSY))
        {
          /* Another submission won the race, or the time just ran out. */
          g_autoptr(ImzalaPortalRequest) again =
            imzala_portal_store_get_request_by_code (self->store, request->code);

          if (again != NULL && !check_state (self, msg, again, IMZALA_PORTAL_STATE_PENDING))
            return;
        }
      g_warning ("Could not complete a request: %s", error->message);
      send_error (msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, "internal", "Bir iç hata oluştu.");
      return;
    }
  imzala_portal_store_log (self->store, "signed", request->person, request->id, key, request->purpose);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "version");
  json_builder_add_int_value (builder, 1);
  builder_add_string (builder, "status", "accepted");
  builder_add_string (builder, "message", message);
  builder_add_time (builder, "completed_at", now);
  json_builder_end_object (builder);
  send_builder (msg, SOUP_STATUS_OK, builder);
}

static void
handle_unblock (ImzalaPortalServer  *self,
                SoupServerMessage   *msg,
                ImzalaPortalRequest *request)
{
  g_autoptr(JsonObject) body = NULL;
  g_autoptr(ImzalaPortalPerson) person = NULL;
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autofree char *key = client_key (msg);
  g_autofree char *serial = NULL;
  const char *given;

  if ((body = parse_body (msg, TRUE)) == NULL)
    return;
  if (!check_state (self, msg, request, IMZALA_PORTAL_STATE_PENDING))
    return;
  if (!g_str_equal (request->purpose, "unblock"))
    {
      send_malformed (msg, "Bu doğrulama kodu bir kilit çözme işlemine ait değil.");
      return;
    }
  given = member_string (body, "token_serial");
  if (given == NULL)
    {
      send_malformed (msg, "İstekte kart seri numarası bulunmuyor.");
      return;
    }
  if (!nonce_matches (request, member_string (body, "nonce")))
    {
      send_rejected (self, msg, request, SOUP_STATUS_BAD_REQUEST, "malformed",
                     "İstekteki tek kullanımlık değer (nonce) bu işleme ait değil.");
      return;
    }

  person = imzala_portal_store_get_person (self->store, request->person);
  serial = g_strchomp (g_strdup (given));
  if (person == NULL || person->card_serial == NULL || person->card_puk == NULL
      || strlen (serial) != strlen (person->card_serial)
      || CRYPTO_memcmp (serial, person->card_serial, strlen (serial)) != 0)
    {
      send_rejected (self, msg, request, SOUP_STATUS_FORBIDDEN, "wrong-card",
                     "Takılı kart, adınıza kayıtlı e-imza kartı değil.");
      return;
    }
  if (!imzala_portal_store_release (self->store, request->id, now_unix ()))
    {
      g_autoptr(ImzalaPortalRequest) again = imzala_portal_store_get_request_by_code (self->store, request->code);

      if (again != NULL)
        check_state (self, msg, again, IMZALA_PORTAL_STATE_PENDING);
      else
        send_error (msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, "internal", "Bir iç hata oluştu.");
      return;
    }
  imzala_portal_store_log (self->store, "puk-released", request->person, request->id, key, serial);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "version");
  json_builder_add_int_value (builder, 1);
  builder_add_string (builder, "puk", person->card_puk);
  builder_add_string (builder, "message", "Kart kilidi çözme yetkisi verildi.");
  json_builder_end_object (builder);
  send_builder (msg, SOUP_STATUS_OK, builder);
}

static void
handle_unblock_result (ImzalaPortalServer  *self,
                       SoupServerMessage   *msg,
                       ImzalaPortalRequest *request)
{
  g_autoptr(JsonObject) body = NULL;
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autofree char *key = client_key (msg);
  JsonNode *success_node;
  gboolean success;
  const char *message;
  gint64 now = now_unix ();

  if ((body = parse_body (msg, TRUE)) == NULL)
    return;
  success_node = json_object_get_member (body, "success");
  if (success_node == NULL || !JSON_NODE_HOLDS_VALUE (success_node)
      || json_node_get_value_type (success_node) != G_TYPE_BOOLEAN)
    {
      send_malformed (msg, "İstekte sonuç (success) bulunmuyor.");
      return;
    }
  if (!nonce_matches (request, member_string (body, "nonce")))
    {
      send_malformed (msg, "İstekteki tek kullanımlık değer (nonce) bu işleme ait değil.");
      return;
    }
  if (request->state != IMZALA_PORTAL_STATE_RELEASED)
    {
      check_state (self, msg, request, IMZALA_PORTAL_STATE_RELEASED);
      return;
    }
  if (now > request->released_at + IMZALA_PORTAL_UNBLOCK_GRACE)
    {
      send_error (msg, SOUP_STATUS_GONE, "code-expired",
                  "Kilit çözme sonucu çok geç bildirildi.");
      return;
    }

  success = json_node_get_boolean (success_node);
  message = success
    ? "Kartınızın kilidi çözüldü ve yeni PIN kodunuz belirlendi."
    : "Kartınızın kilidi çözülemedi. Lütfen yeniden deneyiniz.";
  if (!imzala_portal_store_finish_unblock (self->store, request->id, success, now, message))
    {
      send_error (msg, SOUP_STATUS_CONFLICT, "code-used", "Bu işlemin sonucu daha önce bildirilmiş.");
      return;
    }
  imzala_portal_store_log (self->store, success ? "unblocked" : "unblock-failed",
                           request->person, request->id, key, NULL);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "version");
  json_builder_add_int_value (builder, 1);
  builder_add_string (builder, "status", "recorded");
  builder_add_string (builder, "message", message);
  json_builder_end_object (builder);
  send_builder (msg, SOUP_STATUS_OK, builder);
}

static void
client_api_cb (SoupServer        *server,
               SoupServerMessage *msg,
               const char        *path,
               GHashTable        *query,
               gpointer           user_data)
{
  ImzalaPortalServer *self = user_data;
  g_autofree char *key = client_key (msg);
  g_auto(GStrv) parts = NULL;
  g_autoptr(ImzalaPortalRequest) request = NULL;
  const char *method = soup_server_message_get_method (msg);
  const char *action;
  guint wait;

  /* While an address is over its guess limit it learns nothing, not even
   * whether a code exists. */
  wait = imzala_portal_limiter_check (self->guesses, key);
  if (wait > 0)
    {
      send_rate_limited (msg, wait);
      return;
    }

  /* "/api/v1/requests/CODE[/action]" */
  parts = g_strsplit (path + strlen ("/api/v1/requests/"), "/", 3);
  action = parts[0] != NULL ? parts[1] : NULL;
  if (parts[0] == NULL || (action != NULL && parts[2] != NULL))
    {
      send_error (msg, SOUP_STATUS_NOT_FOUND, "code-unknown", "Bu doğrulama kodu bulunamadı.");
      return;
    }

  if (imzala_portal_code_is_canonical (parts[0]))
    request = imzala_portal_store_get_request_by_code (self->store, parts[0]);
  if (request == NULL)
    {
      imzala_portal_limiter_record (self->guesses, key);
      imzala_portal_store_log (self->store, "wrong-code", NULL, 0, key, NULL);
      send_error (msg, SOUP_STATUS_NOT_FOUND, "code-unknown",
                  "Bu doğrulama kodu bulunamadı. Kodu tarayıcınızda gösterildiği gibi giriniz.");
      return;
    }

  if (action == NULL && g_str_equal (method, "GET"))
    handle_get_request (self, msg, request);
  else if (g_strcmp0 (action, "signatures") == 0 && g_str_equal (method, "POST"))
    handle_signatures (self, msg, request);
  else if (g_strcmp0 (action, "unblock") == 0 && g_str_equal (method, "POST"))
    handle_unblock (self, msg, request);
  else if (g_strcmp0 (action, "unblock-result") == 0 && g_str_equal (method, "POST"))
    handle_unblock_result (self, msg, request);
  else
    send_malformed (msg, "Bu istek desteklenmiyor.");
}

/* ---- Browser API ---- */

static void
send_status (ImzalaPortalServer *self, SoupServerMessage *msg, ImzalaPortalRequest *request)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  gint64 now = now_unix ();
  const char *message = request->result_message;
  const char *next = "/";

  if (request->state == IMZALA_PORTAL_STATE_PENDING && now > request->expires_at)
    {
      imzala_portal_store_expire_requests (self->store, now);
      request->state = IMZALA_PORTAL_STATE_EXPIRED;
      message = "Doğrulama kodunun süresi doldu.";
    }
  if (request->state == IMZALA_PORTAL_STATE_PENDING)
    message = "İmza bekleniyor.";
  else if (request->state == IMZALA_PORTAL_STATE_RELEASED)
    message = "Kartınızın kilidi çözülüyor.";

  if (g_str_equal (request->purpose, "login"))
    next = "/islemler";
  else if (g_str_equal (request->purpose, "consent"))
    next = "/eonay";
  else if (g_str_equal (request->purpose, "application"))
    next = "/basvuru";
  else
    next = "/kilit";

  json_builder_begin_object (builder);
  builder_add_string (builder, "state", imzala_portal_state_to_string (request->state));
  json_builder_set_member_name (builder, "remaining");
  json_builder_add_int_value (builder, MAX (0, request->expires_at - now));
  builder_add_string (builder, "message", message);
  builder_add_string (builder, "next", next);
  builder_add_string (builder, "purpose", request->purpose);
  json_builder_end_object (builder);
  send_builder (msg, SOUP_STATUS_OK, builder);
}

static void
add_person_json (JsonBuilder *builder, const ImzalaPortalPerson *person)
{
  g_autofree char *hint = NULL;

  if (person == NULL)
    {
      json_builder_add_null_value (builder);
      return;
    }
  hint = tckn_hint (person->tckn);
  json_builder_begin_object (builder);
  builder_add_string (builder, "name", person->name);
  builder_add_string (builder, "tckn_hint", hint);
  builder_add_string (builder, "institution", person->institution);
  builder_add_string (builder, "eonay", person->eonay);
  if (person->certificate_not_after > 0)
    {
      builder_add_time (builder, "certificate_not_after", person->certificate_not_after);
      builder_add_time (builder, "renewal_from",
                        person->certificate_not_after - IMZALA_PORTAL_RENEWAL_WINDOW);
    }
  json_builder_end_object (builder);
}

/* Checks the guess limiter and counts a wrong identity; answers 429 or 403. */
static void
send_identity_mismatch (ImzalaPortalServer *self, SoupServerMessage *msg, const char *message)
{
  g_autofree char *key = client_key (msg);

  imzala_portal_limiter_record (self->guesses, key);
  imzala_portal_store_log (self->store, "identity-mismatch", NULL, 0, key, NULL);
  send_error (msg, SOUP_STATUS_FORBIDDEN, "identity-mismatch", message);
}

static gboolean
guess_limited (ImzalaPortalServer *self, SoupServerMessage *msg)
{
  g_autofree char *key = client_key (msg);
  guint wait = imzala_portal_limiter_check (self->guesses, key);

  if (wait == 0)
    return FALSE;
  send_rate_limited (msg, wait);
  return TRUE;
}

static void
browser_login (ImzalaPortalServer *self, SoupServerMessage *msg, ImzalaPortalSession *session, JsonObject *body)
{
  const char *tckn = member_string (body, "tckn");
  g_autoptr(ImzalaPortalPerson) person = NULL;
  const char *titles[] = { "Giriş Onayı", NULL };
  const char *bodies[] = { IMZALA_PORTAL_LOGIN_TEXT, NULL };

  if (guess_limited (self, msg))
    return;
  if (tckn == NULL || !imzala_tckn_is_valid (tckn))
    {
      send_malformed (msg, "Geçerli bir T.C. kimlik numarası giriniz.");
      return;
    }
  person = imzala_portal_store_get_person (self->store, tckn);
  if (person == NULL)
    {
      send_identity_mismatch (self, msg, "Bu T.C. kimlik numarasıyla kayıtlı bir e-imza sahibi bulunamadı.");
      return;
    }
  create_request (self, msg, "login", tckn, session->id_hash, 0, NULL, titles, bodies);
}

static void
browser_consent (ImzalaPortalServer *self, SoupServerMessage *msg, ImzalaPortalSession *session, JsonObject *body)
{
  const char *choice = member_string (body, "choice");
  const char *titles[] = { "E-Onay Beyanı", NULL };
  const char *bodies[] = { NULL, NULL };

  if (session->person == NULL)
    {
      send_error (msg, SOUP_STATUS_UNAUTHORIZED, "not-signed-in", "Önce e-imzalı giriş yapınız.");
      return;
    }
  if (g_strcmp0 (choice, "accept") != 0 && g_strcmp0 (choice, "reject") != 0)
    {
      send_malformed (msg, "Lütfen KABUL EDİYORUM veya KABUL ETMİYORUM seçeneklerinden birini seçiniz.");
      return;
    }
  bodies[0] = imzala_portal_texts_consent (g_str_equal (choice, "accept"));
  create_request (self, msg, "consent", session->person, session->id_hash, 0, choice, titles, bodies);
}

static void
browser_application_login (ImzalaPortalServer *self, SoupServerMessage *msg,
                           ImzalaPortalSession *session, JsonObject *body)
{
  const char *tckn = member_string (body, "tckn");
  const char *sicil = member_string (body, "sicil_no");
  g_autoptr(ImzalaPortalPerson) person = NULL;
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) prefill = NULL;

  if (guess_limited (self, msg))
    return;
  if (tckn == NULL || !imzala_tckn_is_valid (tckn) || sicil == NULL || *sicil == '\0')
    {
      send_malformed (msg, "T.C. kimlik numaranızı ve sicil numaranızı giriniz.");
      return;
    }
  person = imzala_portal_store_get_person (self->store, tckn);
  if (person == NULL || g_strcmp0 (person->sicil_no, sicil) != 0)
    {
      send_identity_mismatch (self, msg, "T.C. kimlik numarası ile sicil numarası eşleşmiyor.");
      return;
    }
  imzala_portal_store_set_session_applicant (self->store, session->id_hash, tckn, NULL);

  prefill = imzala_portal_application_prefill (person);
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "person");
  add_person_json (builder, person);
  json_builder_set_member_name (builder, "form");
  json_builder_add_value (builder, g_steal_pointer (&prefill));
  json_builder_end_object (builder);
  send_builder (msg, SOUP_STATUS_OK, builder);
}

static void
browser_application_form (ImzalaPortalServer *self, SoupServerMessage *msg,
                          ImzalaPortalSession *session, JsonObject *body)
{
  g_autoptr(ImzalaPortalPerson) person = NULL;
  g_autoptr(JsonObject) problems = NULL;
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(GError) error = NULL;
  ImzalaPortalApplication application = { 0 };
  gint64 now = now_unix ();

  if (session->applicant == NULL
      || (person = imzala_portal_store_get_person (self->store, session->applicant)) == NULL)
    {
      send_error (msg, SOUP_STATUS_UNAUTHORIZED, "not-signed-in",
                  "Önce T.C. kimlik numaranız ve sicil numaranızla giriş yapınız.");
      return;
    }
  if (!imzala_portal_application_validate (body, person, now, &application.fields_json,
                                           &application.form_text, &application.kind,
                                           &application.production_date, &problems))
    {
      send_error_full (msg, SOUP_STATUS_BAD_REQUEST, "invalid-form",
                       "Formda hatalı veya eksik alanlar var.", 0, problems);
      return;
    }
  application.public_id = imzala_portal_random_hex (16);
  application.person = g_strdup (person->tckn);
  if (!imzala_portal_store_add_application (self->store, &application, now, &error))
    {
      g_warning ("Could not store an application: %s", error->message);
      send_error (msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, "internal", "Bir iç hata oluştu.");
    }
  else
    {
      json_builder_begin_object (builder);
      builder_add_string (builder, "application_id", application.public_id);
      json_builder_set_member_name (builder, "eonay_available");
      json_builder_add_boolean_value (builder, g_strcmp0 (person->eonay, "accepted") == 0);
      builder_add_string (builder, "kind", application.kind);
      builder_add_time (builder, "production_date", application.production_date);
      builder_add_string (builder, "summary", application.form_text);
      json_builder_end_object (builder);
      send_builder (msg, SOUP_STATUS_OK, builder);
    }
  g_free (application.public_id);
  g_free (application.person);
  g_free (application.fields_json);
  g_free (application.form_text);
  g_free (application.kind);
}

static void
browser_application_action (ImzalaPortalServer *self, SoupServerMessage *msg,
                            ImzalaPortalSession *session, const char *id, const char *action)
{
  g_autoptr(ImzalaPortalApplication) application = imzala_portal_store_get_application (self->store, id);
  g_autoptr(ImzalaPortalPerson) person = NULL;
  g_autoptr(GError) error = NULL;

  if (application == NULL || g_strcmp0 (application->person, session->applicant) != 0)
    {
      send_error (msg, SOUP_STATUS_NOT_FOUND, "not-found", "Başvuru bulunamadı.");
      return;
    }
  if (g_strcmp0 (application->state, "draft") != 0)
    {
      send_error (msg, SOUP_STATUS_CONFLICT, "code-used", "Bu başvuru daha önce onaylanmış.");
      return;
    }
  person = imzala_portal_store_get_person (self->store, application->person);

  if (g_str_equal (action, "eonay"))
    {
      g_autoptr(JsonBuilder) builder = json_builder_new ();
      g_autofree char *message = NULL;
      gint64 now = now_unix ();

      if (g_strcmp0 (person->eonay, "accepted") != 0)
        {
          send_error (msg, SOUP_STATUS_FORBIDDEN, "eonay-missing",
                      "E-Onaylı başvuru için önce E-Onay İşlemleri bölümünden onay vermelisiniz.");
          return;
        }
      if (!imzala_portal_store_submit_application (self->store, application->id, "eonay",
                                                   now, &error))
        {
          send_error (msg, SOUP_STATUS_CONFLICT, "code-used", "Bu başvuru daha önce onaylanmış.");
          return;
        }
      imzala_portal_store_log (self->store, "application-eonay", person->tckn, 0, NULL, application->public_id);
      message = imzala_portal_application_done_message (application->production_date, now);
      json_builder_begin_object (builder);
      builder_add_string (builder, "state", application->production_date > now ? "waiting" : "submitted");
      builder_add_string (builder, "message", message);
      json_builder_end_object (builder);
      send_builder (msg, SOUP_STATUS_OK, builder);
    }
  else if (g_str_equal (action, "esign"))
    {
      g_autofree char *undertaking = imzala_portal_texts_undertaking (person->name, person->tckn);
      const char *titles[] = { "Başvuru Formu", "Sertifika Sahibi Taahhütnamesi", NULL };
      const char *bodies[] = { application->form_text, undertaking, NULL };

      create_request (self, msg, "application", person->tckn, session->id_hash,
                      application->id, NULL, titles, bodies);
    }
  else
    send_malformed (msg, "Bu istek desteklenmiyor.");
}

static void
browser_unblock (ImzalaPortalServer *self, SoupServerMessage *msg, ImzalaPortalSession *session, JsonObject *body)
{
  const char *tckn = member_string (body, "tckn");
  const char *word = member_string (body, "security_word");
  g_autoptr(ImzalaPortalPerson) person = NULL;
  const char *none[] = { NULL };

  if (guess_limited (self, msg))
    return;
  if (tckn == NULL || !imzala_tckn_is_valid (tckn) || word == NULL || *word == '\0')
    {
      send_malformed (msg, "T.C. kimlik numaranızı ve güvenlik sözcüğünüzü giriniz.");
      return;
    }
  person = imzala_portal_store_get_person (self->store, tckn);
  /* The hash is computed even for an unknown person, so that the answer
   * time does not tell which T.C. kimlik numbers are registered. */
  if (!imzala_portal_security_word_verify (word, person != NULL ? person->security_word_hash
                                                                : "pbkdf2-sha256$100000$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")
      || person == NULL)
    {
      send_identity_mismatch (self, msg, "T.C. kimlik numarası veya güvenlik sözcüğü hatalı.");
      return;
    }
  if (person->card_serial == NULL)
    {
      send_error (msg, SOUP_STATUS_CONFLICT, "no-card", "Adınıza kayıtlı bir e-imza kartı bulunmuyor.");
      return;
    }
  create_request (self, msg, "unblock", tckn, session->id_hash, 0, NULL, none, none);
}

static void
browser_api_cb (SoupServer        *server,
                SoupServerMessage *msg,
                const char        *path,
                GHashTable        *query,
                gpointer           user_data)
{
  ImzalaPortalServer *self = user_data;
  g_autoptr(ImzalaPortalSession) session = NULL;
  g_autoptr(JsonObject) body = NULL;
  g_auto(GStrv) parts = NULL;
  const char *method = soup_server_message_get_method (msg);
  const char *rest = path + strlen ("/api/v1/browser/");

  /* Reading needs no session of its own: a browser without one is simply
   * not signed in and owns no request. */
  session = lookup_session (self, msg);
  parts = g_strsplit (rest, "/", 4);

  if (g_str_equal (method, "GET"))
    {
      if (g_str_equal (rest, "session"))
        {
          g_autoptr(JsonBuilder) builder = json_builder_new ();
          g_autoptr(ImzalaPortalPerson) person = NULL;

          if (session != NULL && session->person != NULL)
            person = imzala_portal_store_get_person (self->store, session->person);
          json_builder_begin_object (builder);
          json_builder_set_member_name (builder, "person");
          add_person_json (builder, person);
          json_builder_end_object (builder);
          send_builder (msg, SOUP_STATUS_OK, builder);
          return;
        }
      if (g_strv_length (parts) == 3 && g_str_equal (parts[0], "requests") && g_str_equal (parts[2], "status"))
        {
          g_autoptr(ImzalaPortalRequest) request =
            imzala_portal_store_get_request_by_public_id (self->store, parts[1]);

          /* A request's status is only for the browser that made it. */
          if (request == NULL || session == NULL || g_strcmp0 (request->session, session->id_hash) != 0)
            {
              send_error (msg, SOUP_STATUS_NOT_FOUND, "code-unknown", "İşlem bulunamadı.");
              return;
            }
          if (g_str_equal (request->purpose, "login") && request->state == IMZALA_PORTAL_STATE_DONE
              && !sign_in (self, msg, session, request))
            {
              send_error (msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, "internal", "Bir iç hata oluştu.");
              return;
            }
          send_status (self, msg, request);
          return;
        }
      send_error (msg, SOUP_STATUS_NOT_FOUND, "not-found", "Sayfa bulunamadı.");
      return;
    }
  if (!g_str_equal (method, "POST"))
    {
      send_malformed (msg, "Bu istek desteklenmiyor.");
      return;
    }

  if ((body = parse_body (msg, FALSE)) == NULL)
    return;

  if (g_str_equal (rest, "logout"))
    {
      g_autoptr(JsonBuilder) builder = json_builder_new ();

      if (session != NULL)
        imzala_portal_store_sign_out_session (self->store, session->id_hash, NULL);
      json_builder_begin_object (builder);
      builder_add_string (builder, "status", "ok");
      json_builder_end_object (builder);
      send_builder (msg, SOUP_STATUS_OK, builder);
      return;
    }
  /* Every other action belongs to a session. */
  if (session == NULL && (session = ensure_session (self, msg)) == NULL)
    return;

  if (g_str_equal (rest, "login"))
    browser_login (self, msg, session, body);
  else if (g_str_equal (rest, "consent"))
    browser_consent (self, msg, session, body);
  else if (g_str_equal (rest, "unblock"))
    browser_unblock (self, msg, session, body);
  else if (g_str_equal (rest, "application/login"))
    browser_application_login (self, msg, session, body);
  else if (g_str_equal (rest, "application/form"))
    browser_application_form (self, msg, session, body);
  else if (g_strv_length (parts) == 3 && g_str_equal (parts[0], "application"))
    browser_application_action (self, msg, session, parts[1], parts[2]);
  else
    send_error (msg, SOUP_STATUS_NOT_FOUND, "not-found", "Sayfa bulunamadı.");
}

/* ---- Pages ---- */

static const struct
{
  const char *path;
  const char *file;
  const char *type;
} pages[] = {
  { "/", "index.html", "text/html; charset=utf-8" },
  { "/giris", "giris.html", "text/html; charset=utf-8" },
  { "/islemler", "islemler.html", "text/html; charset=utf-8" },
  { "/eonay", "eonay.html", "text/html; charset=utf-8" },
  { "/basvuru", "basvuru.html", "text/html; charset=utf-8" },
  { "/kilit", "kilit.html", "text/html; charset=utf-8" },
  { "/static/portal.css", "portal.css", "text/css; charset=utf-8" },
  { "/static/portal.js", "portal.js", "text/javascript; charset=utf-8" },
};

static void
pages_cb (SoupServer        *server,
          SoupServerMessage *msg,
          const char        *path,
          GHashTable        *query,
          gpointer           user_data)
{
  ImzalaPortalServer *self = user_data;
  SoupMessageHeaders *headers = soup_server_message_get_response_headers (msg);
  const char *method = soup_server_message_get_method (msg);

  if (!g_str_equal (method, "GET") && !g_str_equal (method, "HEAD"))
    {
      soup_server_message_set_status (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, NULL);
      return;
    }

  /* The demo CA's root, so that a browser or İmzala can be told to trust it. */
  if (g_str_equal (path, "/ca.pem"))
    {
      g_autofree char *pem = NULL;
      gsize length;

      if (g_file_get_contents (imzala_portal_ca_get_root_file (self->ca), &pem, &length, NULL))
        {
          soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
          soup_server_message_set_response (msg, "application/x-pem-file", SOUP_MEMORY_TAKE,
                                            g_steal_pointer (&pem), length);
          return;
        }
    }

  for (guint i = 0; i < G_N_ELEMENTS (pages); i++)
    {
      g_autofree char *resource_path = NULL;
      g_autoptr(GBytes) bytes = NULL;

      if (!g_str_equal (path, pages[i].path))
        continue;
      resource_path = g_strconcat ("/io/github/imzala/Portal/web/", pages[i].file, NULL);
      bytes = g_resources_lookup_data (resource_path, G_RESOURCE_LOOKUP_FLAGS_NONE, NULL);
      if (bytes == NULL)
        break;
      soup_message_headers_replace (headers, "Content-Security-Policy",
                                    "default-src 'self'; frame-ancestors 'none'; form-action 'self'");
      soup_message_headers_replace (headers, "X-Content-Type-Options", "nosniff");
      soup_message_headers_replace (headers, "Referrer-Policy", "no-referrer");
      soup_message_headers_replace (headers, "Cache-Control", "no-store");
      soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
      soup_server_message_set_response (msg, pages[i].type, SOUP_MEMORY_COPY,
                                        g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
      return;
    }
  soup_server_message_set_status (msg, SOUP_STATUS_NOT_FOUND, NULL);
  soup_server_message_set_response (msg, "text/plain; charset=utf-8", SOUP_MEMORY_STATIC,
                                    "Sayfa bulunamadı.", strlen ("Sayfa bulunamadı."));
}

/* ---- Limits before the body is read ---- */

static void
early_cb (SoupServer        *server,
          SoupServerMessage *msg,
          const char        *path,
          GHashTable        *query,
          gpointer           user_data)
{
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  const char *method = soup_server_message_get_method (msg);
  const char *content_type;
  goffset limit;

  soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                "Strict-Transport-Security", "max-age=31536000");
  /* Every answer, not only the pages: the API's JSON, /ca.pem and the
   * plain-text 404 are never to be sniffed as HTML. */
  soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                "X-Content-Type-Options", "nosniff");
  if (!g_str_has_prefix (path, "/api/")
      || (!g_str_equal (method, "POST") && !g_str_equal (method, "PUT")))
    {
      /* No page and no GET of the API takes a body, but libsoup reads
       * whatever body a request announces into memory before any handler
       * runs: without this, "GET /" with a Content-Length of 1 GB made the
       * portal buffer 1 GB. */
      SoupEncoding encoding = soup_message_headers_get_encoding (headers);

      if (encoding == SOUP_ENCODING_CHUNKED
          || (encoding == SOUP_ENCODING_CONTENT_LENGTH
              && soup_message_headers_get_content_length (headers) > 0))
        send_error (msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, "too-large", "İstek çok büyük.");
      return;
    }

  /* Setting a status here makes libsoup answer without reading the body,
   * so an oversized body never reaches memory. */
  limit = g_str_has_prefix (path, "/api/v1/browser/")
    ? IMZALA_PORTAL_MAX_BROWSER_BODY : IMZALA_PORTAL_MAX_CLIENT_BODY;
  if (soup_message_headers_get_encoding (headers) != SOUP_ENCODING_CONTENT_LENGTH)
    {
      send_error (msg, SOUP_STATUS_LENGTH_REQUIRED, "malformed",
                  "İstek gövdesinin uzunluğu (Content-Length) belirtilmelidir.");
      return;
    }
  if (soup_message_headers_get_content_length (headers) > limit)
    {
      send_error (msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, "too-large", "İstek çok büyük.");
      return;
    }
  content_type = soup_message_headers_get_content_type (headers, NULL);
  if (g_strcmp0 (content_type, "application/json") != 0)
    {
      send_malformed (msg, "İstek application/json türünde olmalıdır.");
      return;
    }
}

/* ---- Setup ---- */

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
  self->lifetime = code_lifetime;

  certificate = g_tls_certificate_new_from_files (imzala_portal_ca_get_tls_cert_file (ca),
                                                  imzala_portal_ca_get_tls_key_file (ca), error);
  if (certificate == NULL)
    return NULL;

  self->soup = soup_server_new ("tls-certificate", certificate,
                                "server-header", "imzala-portal/" PACKAGE_VERSION " ",
                                NULL);
  /* libsoup keeps early handlers in the same path map as the handlers and
   * uses only the most specific entry, so each path needs its own. */
  soup_server_add_early_handler (self->soup, "/api/v1/requests/", early_cb, self, NULL);
  soup_server_add_early_handler (self->soup, "/api/v1/browser/", early_cb, self, NULL);
  soup_server_add_early_handler (self->soup, NULL, early_cb, self, NULL);
  soup_server_add_handler (self->soup, "/api/v1/requests/", client_api_cb, self, NULL);
  soup_server_add_handler (self->soup, "/api/v1/browser/", browser_api_cb, self, NULL);
  soup_server_add_handler (self->soup, NULL, pages_cb, self, NULL);
  return g_steal_pointer (&self);
}

gboolean
imzala_portal_server_listen (ImzalaPortalServer *self,
                             GInetAddress       *address,
                             guint16             port,
                             GError            **error)
{
  g_autoptr(GSocketAddress) socket_address = address != NULL ? g_inet_socket_address_new (address, port) : NULL;
  GSList *uris;

  g_return_val_if_fail (IMZALA_IS_PORTAL_SERVER (self), FALSE);

  if (address == NULL)
    {
      /* "localhost": both loopback addresses, on the same port. */
      if (!soup_server_listen_local (self->soup, port, SOUP_SERVER_LISTEN_HTTPS, error))
        return FALSE;
    }
  else if (!soup_server_listen (self->soup, socket_address, SOUP_SERVER_LISTEN_HTTPS, error))
    return FALSE;
  uris = soup_server_get_uris (self->soup);
  if (uris != NULL)
    self->port = (guint16) g_uri_get_port (uris->data);
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);
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
imzala_portal_server_set_session_lifetime (ImzalaPortalServer *self,
                                           guint               seconds)
{
  g_return_if_fail (IMZALA_IS_PORTAL_SERVER (self));
  g_return_if_fail (seconds > 0);
  self->session_lifetime = seconds;
}
