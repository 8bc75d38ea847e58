#define G_LOG_DOMAIN "imzala-portal"

#include "config.h"

#include <string.h>
#include <glib/gi18n-lib.h>
#include <json-glib/json-glib.h>
#include <openssl/crypto.h>

#include "imzala-error.h"
#include "imzala-json.h"
#include "imzala-portal.h"
#include "imzala-portal-answer.h"
#include "imzala-portal-client.h"

/* Protocol v1 limits on what the client accepts (docs/protocol.md). */
#define MAX_TEXTS            16
#define MIN_NONCE_LENGTH     16
#define MAX_NONCE_LENGTH     64
#define MAX_SERVER_MESSAGE   1000
/* Characters, not bytes: a title is one line on the sign page. */
#define MAX_TITLE_LENGTH     200

static GError *
protocol_error (const char *why)
{
  g_debug ("Portal protocol error: %s", why);
  return g_error_new_literal (IMZALA_ERROR, IMZALA_ERROR_PROTOCOL,
                              _("The portal sent an answer that İmzala cannot accept."));
}

/* ---- JSON helpers ---- */

/* The answer's top-level object, or NULL (with @error set when given) when
 * the bytes are not a JSON object. Size and nesting are checked before the
 * bytes are parsed (imzala-json.c); @root owns the tree. */
static JsonObject *
load_object (JsonNode   **root,
             GBytes      *json,
             GError     **error)
{
  g_autoptr(GError) local_error = NULL;
  gsize length = 0;
  const guint8 *data = json != NULL ? g_bytes_get_data (json, &length) : NULL;

  *root = imzala_json_parse (data, length, IMZALA_PORTAL_CLIENT_MAX_RESPONSE,
                             IMZALA_JSON_MAX_DEPTH, &local_error);
  if (*root == NULL || !JSON_NODE_HOLDS_OBJECT (*root))
    {
      if (local_error != NULL)
        g_debug ("Portal answer refused: %s", local_error->message);
      if (error != NULL)
        *error = protocol_error ("the answer is not a JSON object");
      return NULL;
    }
  return json_node_get_object (*root);
}

/* A string member, or NULL when it is missing or not a string (a JSON
 * object or array where a string belongs is not an assertion failure: the
 * answer comes from the network). */
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
         json_node_get_int (node) == IMZALA_PORTAL_PROTOCOL_VERSION;
}

/* Whether @c may stand in a text or title that is shown and signed. A
 * carriage return, an escape sequence or another control character, a
 * bidirectional override or isolate, or any other Unicode format character
 * (Cf: U+200B zero width space, U+200F right-to-left mark, U+FEFF, soft
 * hyphens...) and the line and paragraph separators (Zl, Zp: U+2028,
 * U+2029) would let a text look different from the bytes the card signs
 * (imzala-cli writes texts to the terminal byte for byte), or let a title
 * or name hide or rewrite the text printed after it. */
static gboolean
is_displayable_char (gunichar c)
{
  switch (g_unichar_type (c))
    {
    case G_UNICODE_CONTROL:
    case G_UNICODE_FORMAT:
    case G_UNICODE_LINE_SEPARATOR:
    case G_UNICODE_PARAGRAPH_SEPARATOR:
    case G_UNICODE_UNASSIGNED:
    case G_UNICODE_SURROGATE:
    case G_UNICODE_PRIVATE_USE:
      return FALSE;
    default:
      return TRUE;
    }
}

/* Whether @text shows on a terminal and in a label as exactly the characters
 * it holds (see is_displayable_char()). Line feeds are allowed where
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
      if (!is_displayable_char (c))
        return FALSE;
    }
  return TRUE;
}

/* A title: one displayable line of at most MAX_TITLE_LENGTH characters. */
static gboolean
is_title (const char *text)
{
  return is_displayable (text, FALSE) &&
         (text == NULL || g_utf8_strlen (text, -1) <= MAX_TITLE_LENGTH);
}

/* The portal's own sentence is shown only when it is one displayable line:
 * a line break or a separator could print a line of its own ("İşlem
 * tamamlandı") that İmzala never said. */
static gboolean
server_message_is_usable (const char *text)
{
  gsize length;

  if (text == NULL)
    return FALSE;
  length = strlen (text);
  if (length == 0 || length > MAX_SERVER_MESSAGE)
    return FALSE;
  return is_displayable (text, FALSE);
}

/* ---- The request ---- */

ImzalaRequest *
imzala_portal_answer_parse_request (GBytes      *json,
                                    const char  *portal_host,
                                    const char  *code,
                                    GDateTime   *date_header,
                                    GError     **error)
{
  g_autoptr(JsonNode) tree = NULL;
  g_autoptr(GDateTime) created_at = NULL;
  g_autoptr(GDateTime) expires_at = NULL;
  g_autoptr(GDateTime) server_now = NULL;
  g_autoptr(GBytes) nonce = NULL;
  g_autoptr(GPtrArray) texts = NULL;
  g_autoptr(ImzalaRequest) request = NULL;
  g_autofree char *display_code = NULL;
  g_autofree char *reference = NULL;
  JsonObject *root, *requester = NULL;
  JsonArray *array;
  JsonNode *node;
  ImzalaPurpose purpose;
  const char *portal_name, *created_text;
  GError *local_error = NULL;

  g_return_val_if_fail (json != NULL, NULL);
  g_return_val_if_fail (portal_host != NULL, NULL);
  g_return_val_if_fail (code != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  root = load_object (&tree, json, &local_error);
  if (root == NULL)
    return (g_propagate_error (error, local_error), NULL);

  if (!check_version (root))
    return (g_propagate_error (error, protocol_error ("version is not 1")), NULL);
  if (g_strcmp0 (get_string (root, "code"), code) != 0)
    return (g_propagate_error (error, protocol_error ("the answer is for another code")), NULL);
  if (!imzala_purpose_from_string (get_string (root, "purpose"), &purpose))
    return (g_propagate_error (error, protocol_error ("unknown purpose")), NULL);

  /* A relaying site would hand us the real portal's request: the portal
   * names itself, and that must be the host we verified by TLS
   * (docs/protocol.md §10, "Redirected signatures fail"). */
  portal_name = get_string (root, "portal");
  if (portal_name == NULL || g_ascii_strcasecmp (portal_name, portal_host) != 0)
    {
      g_debug ("Portal calls itself %s but we connected to %s",
               portal_name != NULL ? portal_name : "(nothing)", portal_host);
      g_set_error (error, IMZALA_ERROR, IMZALA_ERROR_PROTOCOL,
                   _("The request was made for another portal than %s, so İmzala "
                     "refused it. Use only the code your own browser shows."),
                   portal_host);
      return NULL;
    }

  created_text = get_string (root, "created_at");
  created_at = get_time (root, "created_at");
  expires_at = get_time (root, "expires_at");
  if (created_at == NULL || expires_at == NULL ||
      g_date_time_compare (expires_at, created_at) <= 0)
    return (g_propagate_error (error, protocol_error ("bad created_at / expires_at")), NULL);

  nonce = imzala_portal_decode_base64 (get_string (root, "nonce"));
  if (nonce == NULL || g_bytes_get_size (nonce) < MIN_NONCE_LENGTH ||
      g_bytes_get_size (nonce) > MAX_NONCE_LENGTH)
    return (g_propagate_error (error, protocol_error ("bad nonce")), NULL);

  node = json_object_has_member (root, "texts") ? json_object_get_member (root, "texts") : NULL;
  if (node == NULL || !JSON_NODE_HOLDS_ARRAY (node))
    return (g_propagate_error (error, protocol_error ("texts is not an array")), NULL);
  array = json_node_get_array (node);
  if (purpose == IMZALA_PURPOSE_UNBLOCK ? json_array_get_length (array) != 0
                                        : (json_array_get_length (array) == 0 ||
                                           json_array_get_length (array) > MAX_TEXTS))
    return (g_propagate_error (error, protocol_error ("wrong number of texts")), NULL);

  /* Every text ends with the line that binds it to this request. */
  display_code = imzala_portal_format_code (code);
  reference = g_strdup_printf ("\n\nİşlem: %s / %s / %s", portal_name, display_code, created_text);

  texts = g_ptr_array_new_with_free_func (g_object_unref);
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonNode *element = json_array_get_element (array, i);
      g_autoptr(GBytes) content = NULL;
      ImzalaRequestText *text;
      const char *title, *media_type;

      if (!JSON_NODE_HOLDS_OBJECT (element))
        return (g_propagate_error (error, protocol_error ("a text is not an object")), NULL);
      title = get_string (json_node_get_object (element), "title");
      media_type = get_string (json_node_get_object (element), "media_type");
      content = imzala_portal_decode_base64 (get_string (json_node_get_object (element), "content"));
      if (title == NULL || content == NULL)
        return (g_propagate_error (error, protocol_error ("a text lacks title or content")), NULL);
      if (media_type != NULL && !g_str_has_prefix (media_type, "text/plain"))
        return (g_propagate_error (error, protocol_error ("a text is not text/plain")), NULL);

      text = imzala_request_text_new (title, content, media_type);
      g_ptr_array_add (texts, text);
      /* İmzala signs only what it can show exactly as it is. */
      if (imzala_request_text_get_text (text) == NULL)
        return (g_propagate_error (error, protocol_error ("a text is not valid UTF-8")), NULL);
      if (!is_displayable (imzala_request_text_get_text (text), TRUE) || !is_title (title))
        return (g_propagate_error (error,
                                   protocol_error ("a text or its title has control characters")),
                NULL);
      if (!g_str_has_suffix (imzala_request_text_get_text (text), reference))
        return (g_propagate_error (error, protocol_error ("a text lacks the reference line")), NULL);
    }

  node = json_object_has_member (root, "requester") ? json_object_get_member (root, "requester") : NULL;
  if (node != NULL && JSON_NODE_HOLDS_OBJECT (node))
    requester = json_node_get_object (node);
  if (!is_title (get_string (root, "title")) ||
      !is_title (get_string (requester, "name")) ||
      !is_title (get_string (requester, "tckn_hint")))
    return (g_propagate_error (error,
                               protocol_error ("the title or requester has control characters")),
            NULL);

  server_now = get_time (root, "server_time");
  if (server_now == NULL && date_header != NULL)
    server_now = g_date_time_ref (date_header);

  request = imzala_request_new (code, purpose, portal_host,
                                portal_name,
                                get_string (root, "title"),
                                created_at, expires_at, nonce, texts,
                                get_string (requester, "name"),
                                get_string (requester, "tckn_hint"),
                                server_now);
  /* Protocol v1.1: the level and the TSA (absent: BES). A member that is
   * there but not a string is as wrong as an unknown level. */
  if ((json_object_has_member (root, "signature_level") && get_string (root, "signature_level") == NULL)
      || (json_object_has_member (root, "tsa_url") && get_string (root, "tsa_url") == NULL))
    return (g_propagate_error (error, protocol_error ("signature_level or tsa_url is not a string")), NULL);
  if (!imzala_request_set_signature_level (request, get_string (root, "signature_level"),
                                           get_string (root, "tsa_url"), error))
    return NULL;
  return g_steal_pointer (&request);
}

/* ---- Status, PUK, errors ---- */

char *
imzala_portal_answer_parse_status (GBytes      *json,
                                   const char  *expected,
                                   const char  *fallback_message,
                                   GError     **error)
{
  g_autoptr(JsonNode) tree = NULL;
  GError *local_error = NULL;
  JsonObject *root;
  const char *message;

  g_return_val_if_fail (json != NULL, NULL);
  g_return_val_if_fail (expected != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  root = load_object (&tree, json, &local_error);
  if (root == NULL)
    return (g_propagate_error (error, local_error), NULL);

  if (g_strcmp0 (get_string (root, "status"), expected) != 0)
    {
      g_propagate_error (error, protocol_error ("unexpected status"));
      return NULL;
    }
  message = get_string (root, "message");
  return g_strdup (server_message_is_usable (message) ? message : fallback_message);
}

ImzalaSecret *
imzala_portal_answer_take_puk (guint8  *json,
                               gsize    length,
                               GError **error)
{
  g_autoptr(GBytes) rest = NULL;
  g_autoptr(JsonNode) tree = NULL;
  g_autoptr(ImzalaSecret) puk = NULL;
  GError *local_error = NULL;
  JsonObject *root;
  const char *masked;

  g_return_val_if_fail (json != NULL || length == 0, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  /* The PUK goes from the caller's buffer straight into the secret and is
   * overwritten there before json-glib copies any string: the tree below
   * holds "********", never the PUK. The depth is checked before the
   * scanner runs, as for any parse. */
  if (length > IMZALA_PORTAL_CLIENT_MAX_RESPONSE ||
      imzala_json_scan_depth (json, length, IMZALA_JSON_MAX_DEPTH) == G_MAXUINT)
    return (g_propagate_error (error, protocol_error ("bad puk answer")), NULL);
  puk = imzala_json_take_secret (json, length, "puk", &local_error);
  if (puk == NULL)
    {
      g_debug ("No PUK taken: %s", local_error->message);
      g_clear_error (&local_error);
      return (g_propagate_error (error, protocol_error ("no puk")), NULL);
    }

  /* The rest must still be the answer the protocol describes: one object
   * whose "puk" is the string the scanner took (a second "puk" spelt with
   * escapes would be another). */
  rest = g_bytes_new_static (json, length);
  root = load_object (&tree, rest, &local_error);
  if (root == NULL)
    return (g_propagate_error (error, local_error), NULL);
  masked = get_string (root, "puk");
  if (masked == NULL || strlen (masked) != imzala_secret_get_length (puk) ||
      strspn (masked, "*") != strlen (masked))
    return (g_propagate_error (error, protocol_error ("puk spelt twice")), NULL);
  return g_steal_pointer (&puk);
}

ImzalaSecret *
imzala_portal_answer_parse_puk (GBytes  *json,
                                GError **error)
{
  gsize length;
  const guint8 *data;
  guint8 *copy;
  ImzalaSecret *puk;

  g_return_val_if_fail (json != NULL, NULL);

  data = g_bytes_get_data (json, &length);
  copy = g_malloc (length + 1);
  if (length > 0)
    memcpy (copy, data, length);
  puk = imzala_portal_answer_take_puk (copy, length, error);
  OPENSSL_cleanse (copy, length + 1);
  g_free (copy);
  return puk;
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

GError *
imzala_portal_answer_parse_error (guint   status,
                                  GBytes *json)
{
  g_autoptr(JsonNode) tree = NULL;
  const char *symbol = NULL, *server_message = NULL;
  JsonObject *root;
  ImzalaError code;

  root = json != NULL ? load_object (&tree, json, NULL) : NULL;
  if (root != NULL && json_object_has_member (root, "error"))
    {
      JsonNode *node = json_object_get_member (root, "error");
      if (JSON_NODE_HOLDS_OBJECT (node))
        {
          JsonObject *error = json_node_get_object (node);
          symbol = get_string (error, "code");
          server_message = get_string (error, "message");
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
