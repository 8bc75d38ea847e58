#define G_LOG_DOMAIN "imzala-portal"

#include "config.h"

#include <string.h>
#include <glib/gi18n-lib.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>
#include <openssl/crypto.h>

#include "imzala-error.h"
#include "imzala-portal-client.h"

/* Protocol v1 limits on what the client accepts (docs/protocol.md). */
#define PROTOCOL_VERSION     1
#define MAX_TEXTS            16
#define MIN_NONCE_LENGTH     16
#define MAX_NONCE_LENGTH     64
#define MAX_SERVER_MESSAGE   1000
#define READ_CHUNK           (64 * 1024)

typedef enum
{
  CALL_FETCH,
  CALL_SUBMIT,
  CALL_UNBLOCK,
  CALL_REPORT,
} CallKind;

struct _ImzalaPortalClient
{
  GObject parent_instance;

  char         *base_url;  /* without a trailing slash */
  char         *host;      /* host[:port] as shown to the user */
  SoupSession  *session;
  GTlsDatabase *extra_database;
  guint         timeout;
};

static void imzala_portal_client_portal_init (ImzalaPortalInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (ImzalaPortalClient, imzala_portal_client, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (IMZALA_TYPE_PORTAL,
                                                      imzala_portal_client_portal_init))

/* One HTTP exchange: the message, the answer as it is read, and what the
 * caller's operation needs to interpret it. */
typedef struct
{
  CallKind       kind;
  SoupMessage   *message;
  GInputStream  *stream;
  GByteArray    *body;
  char          *code;
  ImzalaRequest *request;
} Call;

static void
call_free (Call *call)
{
  g_clear_object (&call->message);
  g_clear_object (&call->stream);
  if (call->body != NULL)
    {
      /* The answer to an unblock call holds the PUK. */
      OPENSSL_cleanse (call->body->data, call->body->len);
      g_byte_array_unref (call->body);
    }
  g_free (call->code);
  g_clear_object (&call->request);
  g_free (call);
}

/* ---- Construction ---- */

static void
imzala_portal_client_finalize (GObject *object)
{
  ImzalaPortalClient *self = IMZALA_PORTAL_CLIENT (object);

  g_free (self->base_url);
  g_free (self->host);
  g_clear_object (&self->session);
  g_clear_object (&self->extra_database);

  G_OBJECT_CLASS (imzala_portal_client_parent_class)->finalize (object);
}

static void
imzala_portal_client_class_init (ImzalaPortalClientClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = imzala_portal_client_finalize;
}

static void
imzala_portal_client_init (ImzalaPortalClient *self)
{
  self->timeout = IMZALA_PORTAL_CLIENT_TIMEOUT_SECONDS;
}

ImzalaPortalClient *
imzala_portal_client_new (const char  *base_url,
                          const char  *extra_ca_file,
                          GError     **error)
{
  g_autoptr(ImzalaPortalClient) self = NULL;
  g_autoptr(GUri) uri = NULL;
  g_autoptr(GError) local_error = NULL;
  g_autofree char *user_agent = NULL;
  const char *scheme, *host;
  gint port;
  gsize length;

  g_return_val_if_fail (base_url != NULL, NULL);

  uri = g_uri_parse (base_url, G_URI_FLAGS_NONE, &local_error);
  if (uri == NULL)
    {
      g_debug ("Cannot parse portal URL: %s", local_error->message);
      g_set_error (error, IMZALA_ERROR, IMZALA_ERROR_FAILED,
                   _("The portal address is not a valid web address."));
      return NULL;
    }

  /* The check is on the scheme alone and comes before anything touches the
   * network, so a plain-HTTP address never leaks even a DNS query. */
  scheme = g_uri_get_scheme (uri);
  if (scheme == NULL || g_ascii_strcasecmp (scheme, "https") != 0)
    {
      g_set_error (error, IMZALA_ERROR, IMZALA_ERROR_INSECURE_URL,
                   _("The portal address must start with https://. İmzala only talks to a portal "
                     "over an encrypted connection."));
      return NULL;
    }

  host = g_uri_get_host (uri);
  if (host == NULL || *host == '\0' || g_uri_get_userinfo (uri) != NULL ||
      g_uri_get_query (uri) != NULL || g_uri_get_fragment (uri) != NULL)
    {
      g_set_error (error, IMZALA_ERROR, IMZALA_ERROR_FAILED,
                   _("The portal address is not a valid web address."));
      return NULL;
    }

  self = g_object_new (IMZALA_TYPE_PORTAL_CLIENT, NULL);

  self->base_url = g_strdup (base_url);
  length = strlen (self->base_url);
  while (length > 0 && self->base_url[length - 1] == '/')
    self->base_url[--length] = '\0';

  port = g_uri_get_port (uri);
  {
    g_autofree char *bracketed = strchr (host, ':') != NULL ? g_strdup_printf ("[%s]", host)
                                                             : g_strdup (host);
    /* Host names compare case-insensitively; the protocol's "portal" member
     * is in lower case (docs/protocol.md §4.1). */
    g_autofree char *lower = g_ascii_strdown (bracketed, -1);
    if (port > 0 && port != 443)
      self->host = g_strdup_printf ("%s:%d", lower, port);
    else
      self->host = g_steal_pointer (&lower);
  }

  if (extra_ca_file != NULL)
    {
      /* GTlsFileDatabase wants an absolute path; a relative one (as typed
       * on a command line) is taken relative to the current folder. */
      g_autofree char *ca_path = g_canonicalize_filename (extra_ca_file, NULL);

      if (!g_file_test (ca_path, G_FILE_TEST_IS_REGULAR))
        {
          g_set_error (error, IMZALA_ERROR, IMZALA_ERROR_TLS,
                       _("The portal CA file “%s” does not exist."), extra_ca_file);
          return NULL;
        }
      self->extra_database = g_tls_file_database_new (ca_path, &local_error);
      if (self->extra_database == NULL)
        {
          g_debug ("Cannot load %s: %s", extra_ca_file, local_error->message);
          g_set_error (error, IMZALA_ERROR, IMZALA_ERROR_TLS,
                       _("The portal CA file “%s” does not hold a readable certificate."),
                       extra_ca_file);
          return NULL;
        }
    }

  user_agent = g_strdup_printf ("Imzala/%s", PACKAGE_VERSION);
  self->session = soup_session_new_with_options ("user-agent", user_agent,
                                                 "timeout", self->timeout,
                                                 "idle-timeout", 60,
                                                 "max-conns-per-host", 2,
                                                 NULL);

  return g_steal_pointer (&self);
}

const char *
imzala_portal_client_get_base_url (ImzalaPortalClient *self)
{
  g_return_val_if_fail (IMZALA_IS_PORTAL_CLIENT (self), NULL);
  return self->base_url;
}

void
imzala_portal_client_set_timeout (ImzalaPortalClient *self,
                                  guint               seconds)
{
  g_return_if_fail (IMZALA_IS_PORTAL_CLIENT (self));
  self->timeout = seconds;
  g_object_set (self->session, "timeout", seconds, NULL);
}

/* ---- TLS ---- */

/* libsoup verifies against the system trust store and only asks here when
 * that failed. The extra CA is the one other anchor we accept: the whole
 * chain and the host name are verified again against it alone, so a
 * certificate from any other CA, or for another host, is still refused. */
static gboolean
accept_certificate_cb (SoupMessage          *message,
                       GTlsCertificate      *peer,
                       GTlsCertificateFlags  system_errors,
                       gpointer              user_data)
{
  ImzalaPortalClient *self = user_data;
  g_autoptr(GSocketConnectable) identity = NULL;
  g_autoptr(GError) error = NULL;
  GUri *uri = soup_message_get_uri (message);
  GTlsCertificateFlags flags;
  gint port;

  if (self->extra_database == NULL || peer == NULL)
    return FALSE;

  port = g_uri_get_port (uri);
  identity = g_network_address_new (g_uri_get_host (uri), port > 0 ? port : 443);
  flags = g_tls_database_verify_chain (self->extra_database, peer,
                                       G_TLS_DATABASE_PURPOSE_AUTHENTICATE_SERVER,
                                       identity, NULL, G_TLS_DATABASE_VERIFY_NONE,
                                       NULL, &error);
  if (error != NULL)
    {
      g_debug ("Verifying against the portal CA failed: %s", error->message);
      return FALSE;
    }
  if (flags != 0)
    {
      g_debug ("Portal certificate refused: system flags 0x%x, portal CA flags 0x%x",
               system_errors, flags);
      return FALSE;
    }
  return TRUE;
}

/* ---- Errors ---- */

static gboolean
server_message_is_usable (const char *text)
{
  gsize length;

  if (text == NULL)
    return FALSE;
  length = strlen (text);
  if (length == 0 || length > MAX_SERVER_MESSAGE || !g_utf8_validate (text, length, NULL))
    return FALSE;
  for (const char *p = text; *p != '\0'; p++)
    if ((guchar) *p < 0x20 && *p != '\n')
      return FALSE;
  return TRUE;
}

static const char *
own_message_for (ImzalaError code)
{
  switch ((int) code)
    {
    case IMZALA_ERROR_CODE_UNKNOWN:
      return _("The portal does not know this verification code. Check the code and try again.");
    case IMZALA_ERROR_CODE_EXPIRED:
      return _("The verification code has expired. Ask the portal for a new code.");
    case IMZALA_ERROR_CODE_USED:
      return _("The verification code has already been used. Ask the portal for a new code.");
    case IMZALA_ERROR_SIGNER_MISMATCH:
      return _("The card does not belong to the person who made the request.");
    case IMZALA_ERROR_RATE_LIMITED:
      return _("Too many attempts. Wait a minute and try again.");
    case IMZALA_ERROR_TOO_LARGE:
      return _("The portal refused the data because it is too large.");
    case IMZALA_ERROR_PROTOCOL:
      return _("The portal and İmzala do not understand each other. İmzala may need an update.");
    case IMZALA_ERROR_PORTAL_REJECTED:
    default:
      return _("The portal refused the request.");
    }
}

/* Maps the portal's error answer (docs/protocol.md, "Errors") to our codes;
 * the portal's own sentence is shown when it sent a usable one. */
static GError *
error_from_answer (guint        status,
                   JsonObject  *root)
{
  const char *symbol = NULL, *server_message = NULL;
  ImzalaError code;

  if (root != NULL && json_object_has_member (root, "error"))
    {
      JsonNode *node = json_object_get_member (root, "error");
      if (JSON_NODE_HOLDS_OBJECT (node))
        {
          JsonObject *error = json_node_get_object (node);
          symbol = json_object_get_string_member_with_default (error, "code", NULL);
          server_message = json_object_get_string_member_with_default (error, "message", NULL);
        }
    }

  g_debug ("Portal answered HTTP %u, error %s", status, symbol != NULL ? symbol : "(none)");

  if (g_strcmp0 (symbol, "code-unknown") == 0)
    code = IMZALA_ERROR_CODE_UNKNOWN;
  else if (g_strcmp0 (symbol, "code-expired") == 0)
    code = IMZALA_ERROR_CODE_EXPIRED;
  else if (g_strcmp0 (symbol, "code-used") == 0)
    code = IMZALA_ERROR_CODE_USED;
  else if (g_strcmp0 (symbol, "signer-mismatch") == 0 || g_strcmp0 (symbol, "wrong-card") == 0)
    code = IMZALA_ERROR_SIGNER_MISMATCH;
  else if (g_strcmp0 (symbol, "rate-limited") == 0)
    code = IMZALA_ERROR_RATE_LIMITED;
  else if (g_strcmp0 (symbol, "too-large") == 0)
    code = IMZALA_ERROR_TOO_LARGE;
  else if (g_strcmp0 (symbol, "malformed") == 0 || g_strcmp0 (symbol, "unsupported-version") == 0 ||
           g_strcmp0 (symbol, "internal") == 0)
    code = IMZALA_ERROR_PROTOCOL;
  else if (g_strcmp0 (symbol, "signature-invalid") == 0)
    code = IMZALA_ERROR_PORTAL_REJECTED;
  /* A symbol we do not know (or none): the HTTP status decides, as
   * docs/protocol.md §9 says. A redirect is never part of the protocol. */
  else if (status >= 400 && status < 500)
    code = IMZALA_ERROR_PORTAL_REJECTED;
  else
    code = IMZALA_ERROR_PROTOCOL;

  if (server_message_is_usable (server_message))
    return g_error_new_literal (IMZALA_ERROR, code, server_message);
  if (status >= 500)
    return g_error_new_literal (IMZALA_ERROR, code,
                                _("The portal reported an internal error. Try again later."));
  return g_error_new_literal (IMZALA_ERROR, code, own_message_for (code));
}

static GError *
error_from_transport (ImzalaPortalClient *self,
                      const GError       *error)
{
  g_debug ("Portal transport error: %s (%s %d)", error->message,
           g_quark_to_string (error->domain), error->code);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return g_error_copy (error);
  if (error->domain == G_TLS_ERROR)
    {
      if (error->code == G_TLS_ERROR_BAD_CERTIFICATE)
        return g_error_new (IMZALA_ERROR, IMZALA_ERROR_TLS,
                            _("The identity of the portal at %s cannot be verified, so İmzala "
                              "did not connect to it."), self->host);
      return g_error_new (IMZALA_ERROR, IMZALA_ERROR_TLS,
                          _("A secure connection to the portal at %s could not be made."),
                          self->host);
    }
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
    return g_error_new (IMZALA_ERROR, IMZALA_ERROR_NETWORK,
                        _("The portal at %s did not answer in time. Try again."), self->host);
  return g_error_new (IMZALA_ERROR, IMZALA_ERROR_NETWORK,
                      _("The portal at %s cannot be reached. Check the network connection and "
                        "try again."), self->host);
}

static GError *
protocol_error (const char *why)
{
  g_debug ("Portal protocol error: %s", why);
  return g_error_new_literal (IMZALA_ERROR, IMZALA_ERROR_PROTOCOL,
                              _("The portal sent an answer that İmzala cannot accept."));
}

/* ---- JSON helpers ---- */

/* Whether @text shows on a terminal and in a label as exactly the characters
 * it holds. A carriage return, an escape sequence or a bidirectional override
 * would let a text look different from the bytes the card signs (imzala-cli
 * writes texts to the terminal byte for byte), and a title or name could hide
 * or rewrite the text printed after it. Line feeds are allowed where
 * @multiline, tabs always. */
static gboolean
is_displayable (const char *text,
                gboolean    multiline)
{
  if (text == NULL)
    return TRUE;
  if (!g_utf8_validate (text, -1, NULL))
    return FALSE;
  for (const char *p = text; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (c == '\t' || (c == '\n' && multiline))
        continue;
      if (g_unichar_iscntrl (c) || (c >= 0x202A && c <= 0x202E) || (c >= 0x2066 && c <= 0x2069))
        return FALSE;
    }
  return TRUE;
}

/* Strict base64 (standard alphabet, padded): g_base64_decode() skips
 * anything it does not know, which would let a garbled value through. */
static GBytes *
decode_base64 (const char *text)
{
  gsize length, out_length;
  guchar *data;

  if (text == NULL)
    return NULL;
  length = strlen (text);
  if (length % 4 != 0)
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
  if (length == 0)
    return g_bytes_new (NULL, 0);
  data = g_base64_decode (text, &out_length);
  return g_bytes_new_take (data, out_length);
}

static char *
encode_base64 (GBytes *bytes)
{
  gsize length;
  const guchar *data = g_bytes_get_data (bytes, &length);
  return g_base64_encode (data, length);
}

static const char *
get_string (JsonObject *object,
            const char *name)
{
  JsonNode *node;

  if (object == NULL || !json_object_has_member (object, name))
    return NULL;
  node = json_object_get_member (object, name);
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (node);
}

static GDateTime *
get_time (JsonObject *object,
          const char *name)
{
  const char *text = get_string (object, name);
  return text != NULL ? g_date_time_new_from_iso8601 (text, NULL) : NULL;
}

static gboolean
check_version (JsonObject *root)
{
  JsonNode *node;

  if (!json_object_has_member (root, "version"))
    return FALSE;
  node = json_object_get_member (root, "version");
  return JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_INT64 &&
         json_node_get_int (node) == PROTOCOL_VERSION;
}

static GBytes *
builder_to_bytes (JsonBuilder *builder)
{
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autoptr(JsonNode) root = json_builder_get_root (builder);
  gsize length;
  char *text;

  json_generator_set_root (generator, root);
  text = json_generator_to_data (generator, &length);
  return g_bytes_new_take (text, length);
}

static JsonBuilder *
begin_body (ImzalaRequest *request)
{
  JsonBuilder *builder = json_builder_new ();
  g_autofree char *nonce = encode_base64 (imzala_request_get_nonce (request));

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "version");
  json_builder_add_int_value (builder, PROTOCOL_VERSION);
  json_builder_set_member_name (builder, "nonce");
  json_builder_add_string_value (builder, nonce);
  return builder;
}

/* ---- Interpreting answers ---- */

static ImzalaRequest *
parse_request (ImzalaPortalClient *self,
               Call               *call,
               JsonObject         *root,
               GError            **error)
{
  g_autoptr(GDateTime) created_at = NULL;
  g_autoptr(GDateTime) expires_at = NULL;
  g_autoptr(GDateTime) server_now = NULL;
  g_autoptr(GBytes) nonce = NULL;
  g_autoptr(GPtrArray) texts = NULL;
  g_autofree char *display_code = NULL;
  g_autofree char *reference = NULL;
  JsonObject *requester = NULL;
  JsonArray *array;
  JsonNode *node;
  ImzalaPurpose purpose;
  const char *date, *portal_name, *created_text;

  if (!check_version (root))
    return (*error = protocol_error ("version is not 1"), NULL);
  if (g_strcmp0 (get_string (root, "code"), call->code) != 0)
    return (*error = protocol_error ("the answer is for another code"), NULL);
  if (!imzala_purpose_from_string (get_string (root, "purpose"), &purpose))
    return (*error = protocol_error ("unknown purpose"), NULL);

  /* A relaying site would hand us the real portal's request: the portal
   * names itself, and that must be the host we verified by TLS
   * (docs/protocol.md §10, "Redirected signatures fail"). */
  portal_name = get_string (root, "portal");
  if (portal_name == NULL || g_ascii_strcasecmp (portal_name, self->host) != 0)
    {
      g_debug ("Portal calls itself %s but we connected to %s",
               portal_name != NULL ? portal_name : "(nothing)", self->host);
      *error = g_error_new (IMZALA_ERROR, IMZALA_ERROR_PROTOCOL,
                            _("The request was made for another portal than %s, so İmzala "
                              "refused it. Use only the code your own browser shows."),
                            self->host);
      return NULL;
    }

  created_text = get_string (root, "created_at");
  created_at = get_time (root, "created_at");
  expires_at = get_time (root, "expires_at");
  if (created_at == NULL || expires_at == NULL ||
      g_date_time_compare (expires_at, created_at) <= 0)
    return (*error = protocol_error ("bad created_at / expires_at"), NULL);

  nonce = decode_base64 (get_string (root, "nonce"));
  if (nonce == NULL || g_bytes_get_size (nonce) < MIN_NONCE_LENGTH ||
      g_bytes_get_size (nonce) > MAX_NONCE_LENGTH)
    return (*error = protocol_error ("bad nonce"), NULL);

  node = json_object_has_member (root, "texts") ? json_object_get_member (root, "texts") : NULL;
  if (node == NULL || !JSON_NODE_HOLDS_ARRAY (node))
    return (*error = protocol_error ("texts is not an array"), NULL);
  array = json_node_get_array (node);
  if (purpose == IMZALA_PURPOSE_UNBLOCK ? json_array_get_length (array) != 0
                                        : (json_array_get_length (array) == 0 ||
                                           json_array_get_length (array) > MAX_TEXTS))
    return (*error = protocol_error ("wrong number of texts"), NULL);

  /* Every text ends with the line that binds it to this request. */
  display_code = imzala_portal_format_code (call->code);
  reference = g_strdup_printf ("\n\nİşlem: %s / %s / %s", portal_name, display_code, created_text);

  texts = g_ptr_array_new_with_free_func (g_object_unref);
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonNode *element = json_array_get_element (array, i);
      g_autoptr(GBytes) content = NULL;
      ImzalaRequestText *text;
      const char *title, *media_type;

      if (!JSON_NODE_HOLDS_OBJECT (element))
        return (*error = protocol_error ("a text is not an object"), NULL);
      title = get_string (json_node_get_object (element), "title");
      media_type = get_string (json_node_get_object (element), "media_type");
      content = decode_base64 (get_string (json_node_get_object (element), "content"));
      if (title == NULL || content == NULL)
        return (*error = protocol_error ("a text lacks title or content"), NULL);
      if (media_type != NULL && !g_str_has_prefix (media_type, "text/plain"))
        return (*error = protocol_error ("a text is not text/plain"), NULL);

      text = imzala_request_text_new (title, content, media_type);
      g_ptr_array_add (texts, text);
      /* İmzala signs only what it can show exactly as it is. */
      if (imzala_request_text_get_text (text) == NULL)
        return (*error = protocol_error ("a text is not valid UTF-8"), NULL);
      if (!is_displayable (imzala_request_text_get_text (text), TRUE) ||
          !is_displayable (title, FALSE))
        return (*error = protocol_error ("a text or its title has control characters"), NULL);
      if (!g_str_has_suffix (imzala_request_text_get_text (text), reference))
        return (*error = protocol_error ("a text lacks the reference line"), NULL);
    }

  node = json_object_has_member (root, "requester") ? json_object_get_member (root, "requester") : NULL;
  if (node != NULL && JSON_NODE_HOLDS_OBJECT (node))
    requester = json_node_get_object (node);
  if (!is_displayable (get_string (root, "title"), FALSE) ||
      !is_displayable (get_string (requester, "name"), FALSE) ||
      !is_displayable (get_string (requester, "tckn_hint"), FALSE))
    return (*error = protocol_error ("the title or requester has control characters"), NULL);

  server_now = get_time (root, "server_time");
  date = soup_message_headers_get_one (soup_message_get_response_headers (call->message), "Date");
  if (server_now == NULL && date != NULL)
    server_now = soup_date_time_new_from_http_string (date);

  return imzala_request_new (call->code, purpose, self->host,
                             portal_name,
                             get_string (root, "title"),
                             created_at, expires_at, nonce, texts,
                             get_string (requester, "name"),
                             get_string (requester, "tckn_hint"),
                             server_now);
}

static char *
parse_status (JsonObject *root,
              const char *expected,
              const char *fallback_message,
              GError    **error)
{
  const char *message;

  if (g_strcmp0 (get_string (root, "status"), expected) != 0)
    {
      *error = protocol_error ("unexpected status");
      return NULL;
    }
  message = get_string (root, "message");
  return g_strdup (server_message_is_usable (message) ? message : fallback_message);
}

static ImzalaSecret *
parse_puk (JsonObject *root,
           GError    **error)
{
  JsonNode *node;
  ImzalaSecret *puk;
  char *text;
  gsize length;

  node = json_object_has_member (root, "puk") ? json_object_get_member (root, "puk") : NULL;
  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
    {
      *error = protocol_error ("no puk");
      return NULL;
    }

  /* The JSON tree keeps its own copy of the string; it is wiped here, in
   * place, as soon as it is in the secret buffer. */
  text = (char *) json_node_get_string (node);
  length = strlen (text);
  if (length == 0 || length > IMZALA_SECRET_MAX_LENGTH)
    {
      OPENSSL_cleanse (text, length);
      *error = protocol_error ("puk of a bad length");
      return NULL;
    }
  puk = imzala_secret_new_from_data ((const guint8 *) text, length);
  OPENSSL_cleanse (text, length);
  return puk;
}

/* ---- One HTTP exchange ---- */

static void
call_complete (GTask *task)
{
  ImzalaPortalClient *self = g_task_get_source_object (task);
  Call *call = g_task_get_task_data (task);
  g_autoptr(JsonParser) parser = json_parser_new_immutable ();
  g_autoptr(GError) error = NULL;
  JsonObject *root = NULL;
  const char *content_type;
  guint status;

  status = soup_message_get_status (call->message);
  content_type = soup_message_headers_get_content_type (soup_message_get_response_headers (call->message), NULL);

  if (g_strcmp0 (content_type, "application/json") == 0 &&
      json_parser_load_from_data (parser, (const char *) call->body->data, call->body->len, NULL) &&
      JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    root = json_node_get_object (json_parser_get_root (parser));

  if (status != SOUP_STATUS_OK)
    {
      g_task_return_error (task, error_from_answer (status, root));
      return;
    }
  if (root == NULL)
    {
      g_task_return_error (task, protocol_error ("the answer is not a JSON object"));
      return;
    }

  switch (call->kind)
    {
    case CALL_FETCH:
      {
        ImzalaRequest *request = parse_request (self, call, root, &error);
        if (request == NULL)
          g_task_return_error (task, g_steal_pointer (&error));
        else
          g_task_return_pointer (task, request, g_object_unref);
      }
      break;

    case CALL_SUBMIT:
    case CALL_REPORT:
      {
        char *message = call->kind == CALL_SUBMIT
          ? parse_status (root, "accepted", _("The portal accepted the signature."), &error)
          : parse_status (root, "recorded", _("The portal recorded the result."), &error);
        if (message == NULL)
          g_task_return_error (task, g_steal_pointer (&error));
        else
          g_task_return_pointer (task, message, g_free);
      }
      break;

    case CALL_UNBLOCK:
      {
        ImzalaSecret *puk = parse_puk (root, &error);
        if (puk == NULL)
          g_task_return_error (task, g_steal_pointer (&error));
        else
          g_task_return_pointer (task, puk, (GDestroyNotify) imzala_secret_unref);
      }
      break;

    default:
      g_assert_not_reached ();
    }
}

static void
read_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  ImzalaPortalClient *self = g_task_get_source_object (task);
  Call *call = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) chunk = NULL;
  gsize length;
  const guint8 *data;

  chunk = g_input_stream_read_bytes_finish (G_INPUT_STREAM (source), result, &error);
  if (chunk == NULL)
    {
      g_task_return_error (task, error_from_transport (self, error));
      return;
    }

  data = g_bytes_get_data (chunk, &length);
  if (length == 0)
    {
      g_input_stream_close (call->stream, NULL, NULL);
      call_complete (task);
      return;
    }

  if (call->body->len + length > IMZALA_PORTAL_CLIENT_MAX_RESPONSE)
    {
      g_debug ("Portal answer exceeds %d bytes", IMZALA_PORTAL_CLIENT_MAX_RESPONSE);
      /* Closing drops the connection instead of reading the rest. */
      g_input_stream_close (call->stream, NULL, NULL);
      g_task_return_new_error (task, IMZALA_ERROR, IMZALA_ERROR_TOO_LARGE,
                               _("The portal's answer is too large to be accepted."));
      return;
    }
  g_byte_array_append (call->body, data, length);

  g_input_stream_read_bytes_async (call->stream, READ_CHUNK, G_PRIORITY_DEFAULT,
                                   g_task_get_cancellable (task), read_cb, g_object_ref (task));
}

static void
send_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  ImzalaPortalClient *self = g_task_get_source_object (task);
  Call *call = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  GCancellable *cancellable;
  goffset declared;

  call->stream = soup_session_send_finish (SOUP_SESSION (source), result, &error);
  if (call->stream == NULL)
    {
      g_task_return_error (task, error_from_transport (self, error));
      return;
    }

  declared = soup_message_headers_get_content_length (soup_message_get_response_headers (call->message));
  if (declared > IMZALA_PORTAL_CLIENT_MAX_RESPONSE)
    {
      g_debug ("Portal announces %" G_GOFFSET_FORMAT " bytes", declared);
      g_input_stream_close (call->stream, NULL, NULL);
      g_task_return_new_error (task, IMZALA_ERROR, IMZALA_ERROR_TOO_LARGE,
                               _("The portal's answer is too large to be accepted."));
      return;
    }

  cancellable = g_task_get_cancellable (task);
  g_input_stream_read_bytes_async (call->stream, READ_CHUNK, G_PRIORITY_DEFAULT,
                                   cancellable, read_cb, g_steal_pointer (&task));
}

static void
call_start (ImzalaPortalClient  *self,
            CallKind             kind,
            const char          *method,
            const char          *code,
            const char          *suffix,
            ImzalaRequest       *request,
            GBytes              *body,
            gpointer             source_tag,
            GCancellable        *cancellable,
            GAsyncReadyCallback  callback,
            gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autofree char *url = NULL;
  Call *call;

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, source_tag);

  call = g_new0 (Call, 1);
  call->kind = kind;
  call->code = g_strdup (code);
  call->request = request != NULL ? g_object_ref (request) : NULL;
  call->body = g_byte_array_new ();
  g_task_set_task_data (task, call, (GDestroyNotify) call_free);

  /* The code is from the Crockford alphabet only, so it needs no escaping. */
  url = g_strconcat (self->base_url, "/api/v1/requests/", code, suffix, NULL);
  call->message = soup_message_new (method, url);
  if (call->message == NULL)
    {
      g_task_return_error (task, protocol_error ("cannot build the URL"));
      return;
    }

  /* A redirect could lead to plain HTTP or another host; the protocol has
   * none, so an answer 3xx is an error. */
  soup_message_add_flags (call->message, SOUP_MESSAGE_NO_REDIRECT);
  soup_message_headers_replace (soup_message_get_request_headers (call->message),
                                "Accept", "application/json");
  if (body != NULL)
    soup_message_set_request_body_from_bytes (call->message, "application/json", body);
  g_signal_connect_object (call->message, "accept-certificate",
                           G_CALLBACK (accept_certificate_cb), self, 0);

  g_debug ("%s %s", method, url);
  soup_session_send_async (self->session, call->message, G_PRIORITY_DEFAULT, cancellable,
                           send_cb, g_steal_pointer (&task));
}

/* ---- ImzalaPortal ---- */

static void
imzala_portal_client_fetch_request_async (ImzalaPortal        *portal,
                                          const char          *code,
                                          GCancellable        *cancellable,
                                          GAsyncReadyCallback  callback,
                                          gpointer             user_data)
{
  ImzalaPortalClient *self = IMZALA_PORTAL_CLIENT (portal);
  g_autofree char *normalized = NULL;
  GError *error = NULL;

  normalized = imzala_portal_normalize_code (code, &error);
  if (normalized == NULL)
    {
      g_task_report_error (self, callback, user_data,
                           imzala_portal_client_fetch_request_async, error);
      return;
    }

  call_start (self, CALL_FETCH, SOUP_METHOD_GET, normalized, "", NULL, NULL,
              imzala_portal_client_fetch_request_async, cancellable, callback, user_data);
}

static gpointer
finish_pointer (gpointer      self,
                GAsyncResult *result,
                gpointer      source_tag,
                GError      **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_async_result_is_tagged (result, source_tag), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

static ImzalaRequest *
imzala_portal_client_fetch_request_finish (ImzalaPortal *portal,
                                           GAsyncResult *result,
                                           GError      **error)
{
  return finish_pointer (portal, result, imzala_portal_client_fetch_request_async, error);
}

static void
imzala_portal_client_submit_signatures_async (ImzalaPortal        *portal,
                                              ImzalaRequest       *request,
                                              GPtrArray           *signatures,
                                              GCancellable        *cancellable,
                                              GAsyncReadyCallback  callback,
                                              gpointer             user_data)
{
  ImzalaPortalClient *self = IMZALA_PORTAL_CLIENT (portal);
  g_autoptr(JsonBuilder) builder = NULL;
  g_autoptr(GBytes) body = NULL;

  if (signatures->len != imzala_request_get_n_texts (request) || signatures->len == 0)
    {
      g_task_report_new_error (self, callback, user_data,
                               imzala_portal_client_submit_signatures_async,
                               IMZALA_ERROR, IMZALA_ERROR_FAILED,
                               _("There must be exactly one signature for each text."));
      return;
    }

  builder = begin_body (request);
  json_builder_set_member_name (builder, "signatures");
  json_builder_begin_array (builder);
  for (guint i = 0; i < signatures->len; i++)
    {
      g_autofree char *encoded = encode_base64 (g_ptr_array_index (signatures, i));
      json_builder_add_string_value (builder, encoded);
    }
  json_builder_end_array (builder);
  json_builder_end_object (builder);
  body = builder_to_bytes (builder);

  call_start (self, CALL_SUBMIT, SOUP_METHOD_POST, imzala_request_get_code (request),
              "/signatures", request, body, imzala_portal_client_submit_signatures_async,
              cancellable, callback, user_data);
}

static char *
imzala_portal_client_submit_signatures_finish (ImzalaPortal *portal,
                                               GAsyncResult *result,
                                               GError      **error)
{
  return finish_pointer (portal, result, imzala_portal_client_submit_signatures_async, error);
}

static void
imzala_portal_client_unblock_async (ImzalaPortal        *portal,
                                    ImzalaRequest       *request,
                                    const char          *token_serial,
                                    GCancellable        *cancellable,
                                    GAsyncReadyCallback  callback,
                                    gpointer             user_data)
{
  ImzalaPortalClient *self = IMZALA_PORTAL_CLIENT (portal);
  g_autoptr(JsonBuilder) builder = NULL;
  g_autoptr(GBytes) body = NULL;

  builder = begin_body (request);
  json_builder_set_member_name (builder, "token_serial");
  json_builder_add_string_value (builder, token_serial);
  json_builder_end_object (builder);
  body = builder_to_bytes (builder);

  call_start (self, CALL_UNBLOCK, SOUP_METHOD_POST, imzala_request_get_code (request),
              "/unblock", request, body, imzala_portal_client_unblock_async,
              cancellable, callback, user_data);
}

static ImzalaSecret *
imzala_portal_client_unblock_finish (ImzalaPortal *portal,
                                     GAsyncResult *result,
                                     GError      **error)
{
  return finish_pointer (portal, result, imzala_portal_client_unblock_async, error);
}

static void
imzala_portal_client_report_unblock_async (ImzalaPortal        *portal,
                                           ImzalaRequest       *request,
                                           gboolean             success,
                                           GCancellable        *cancellable,
                                           GAsyncReadyCallback  callback,
                                           gpointer             user_data)
{
  ImzalaPortalClient *self = IMZALA_PORTAL_CLIENT (portal);
  g_autoptr(JsonBuilder) builder = NULL;
  g_autoptr(GBytes) body = NULL;

  builder = begin_body (request);
  json_builder_set_member_name (builder, "success");
  json_builder_add_boolean_value (builder, success);
  json_builder_end_object (builder);
  body = builder_to_bytes (builder);

  call_start (self, CALL_REPORT, SOUP_METHOD_POST, imzala_request_get_code (request),
              "/unblock-result", request, body, imzala_portal_client_report_unblock_async,
              cancellable, callback, user_data);
}

static char *
imzala_portal_client_report_unblock_finish (ImzalaPortal *portal,
                                            GAsyncResult *result,
                                            GError      **error)
{
  return finish_pointer (portal, result, imzala_portal_client_report_unblock_async, error);
}

static const char *
imzala_portal_client_get_host (ImzalaPortal *portal)
{
  return IMZALA_PORTAL_CLIENT (portal)->host;
}

static void
imzala_portal_client_portal_init (ImzalaPortalInterface *iface)
{
  iface->fetch_request_async = imzala_portal_client_fetch_request_async;
  iface->fetch_request_finish = imzala_portal_client_fetch_request_finish;
  iface->submit_signatures_async = imzala_portal_client_submit_signatures_async;
  iface->submit_signatures_finish = imzala_portal_client_submit_signatures_finish;
  iface->unblock_async = imzala_portal_client_unblock_async;
  iface->unblock_finish = imzala_portal_client_unblock_finish;
  iface->report_unblock_async = imzala_portal_client_report_unblock_async;
  iface->report_unblock_finish = imzala_portal_client_report_unblock_finish;
  iface->get_host = imzala_portal_client_get_host;
}
