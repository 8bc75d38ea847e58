/* test-request.c: ImzalaRequest and the portal's protocol v1 answers read
 * from bytes (imzala-portal-answer.c).
 *
 * Every check the client makes on an answer is tried here with a byte
 * string: one valid request, then one refusal per rule. No network, no
 * SoftHSM; tests/test-portal-client.c covers the same answers over HTTPS.
 */
#define G_LOG_DOMAIN "test-request"

#include "config.h"

#include <string.h>
#include <json-glib/json-glib.h>

#include "imzala-test.h"

#define HOST         "portal.example.org"
#define CODE         "ABCDEFGHJKMN"
#define DISPLAY_CODE "ABCD-EFGH-JKMN"
#define CREATED      "2026-11-26T10:00:00Z"
#define EXPIRES      "2026-11-26T10:05:00Z"
#define SERVER_TIME  "2026-11-26T10:01:00Z"
#define REFERENCE    "\n\nİşlem: " HOST " / " DISPLAY_CODE " / " CREATED

/* ---- Building answers ---- */

static char *
base64_of (const char *data,
           gssize      length)
{
  return g_base64_encode ((const guchar *) data, length >= 0 ? (gsize) length : strlen (data));
}

/* One element of "texts": @prefix (@length bytes, -1 for a C string)
 * followed by the reference line, base64-encoded. */
static JsonNode *
text_node (const char *title,
           const char *prefix,
           gssize      length,
           const char *media_type)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(GByteArray) content = g_byte_array_new ();
  g_autofree char *encoded = NULL;

  g_byte_array_append (content, (const guint8 *) prefix,
                       length >= 0 ? (guint) length : (guint) strlen (prefix));
  g_byte_array_append (content, (const guint8 *) REFERENCE, strlen (REFERENCE));
  encoded = base64_of ((const char *) content->data, content->len);

  json_builder_begin_object (builder);
  if (title != NULL)
    {
      json_builder_set_member_name (builder, "title");
      json_builder_add_string_value (builder, title);
    }
  json_builder_set_member_name (builder, "content");
  json_builder_add_string_value (builder, encoded);
  if (media_type != NULL)
    {
      json_builder_set_member_name (builder, "media_type");
      json_builder_add_string_value (builder, media_type);
    }
  json_builder_end_object (builder);
  return json_builder_get_root (builder);
}

static JsonNode *
texts_node (JsonNode *first,
            ...)
{
  JsonArray *array = json_array_new ();
  JsonNode *node = json_node_new (JSON_NODE_ARRAY);
  va_list args;

  va_start (args, first);
  for (JsonNode *text = first; text != NULL; text = va_arg (args, JsonNode *))
    json_array_add_element (array, text);
  va_end (args);
  json_node_take_array (node, array);
  return node;
}

static JsonNode *
string_node (const char *value)
{
  JsonNode *node = json_node_new (JSON_NODE_VALUE);
  json_node_set_string (node, value);
  return node;
}

static JsonNode *
nonce_node (gsize length)
{
  g_autofree char *data = g_malloc (length + 1);
  g_autofree char *encoded = NULL;

  for (gsize i = 0; i < length; i++)
    data[i] = (char) (i * 7 + 1);
  encoded = base64_of (data, length);
  return string_node (encoded);
}

/* The answer a correct portal gives for a consent with two texts. */
static JsonObject *
valid_answer (void)
{
  JsonObject *root = json_object_new ();
  JsonObject *requester = json_object_new ();

  json_object_set_int_member (root, "version", 1);
  json_object_set_string_member (root, "code", CODE);
  json_object_set_string_member (root, "purpose", "consent");
  json_object_set_string_member (root, "portal", HOST);
  json_object_set_string_member (root, "title", "E-Onay");
  json_object_set_string_member (root, "created_at", CREATED);
  json_object_set_string_member (root, "expires_at", EXPIRES);
  json_object_set_string_member (root, "server_time", SERVER_TIME);
  json_object_set_member (root, "nonce", nonce_node (32));
  json_object_set_member (root, "texts",
                          texts_node (text_node ("Metin 1", "Ad\tAYŞE YILMAZ\nTutar\t10 TL", -1,
                                                 "text/plain; charset=utf-8"),
                                      text_node ("Metin 2", "Taahhütname", -1, NULL),
                                      NULL));
  json_object_set_string_member (requester, "name", "AYŞE YILMAZ");
  json_object_set_string_member (requester, "tckn_hint", "123******50");
  json_object_set_object_member (root, "requester", requester);
  return root;
}

static GBytes *
object_to_bytes (JsonObject *object)
{
  g_autoptr(JsonNode) node = json_node_new (JSON_NODE_OBJECT);
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  gsize length;
  char *data;

  json_node_set_object (node, object);
  json_generator_set_root (generator, node);
  data = json_generator_to_data (generator, &length);
  return g_bytes_new_take (data, length);
}

static ImzalaRequest *
parse (JsonObject  *object,
       GDateTime   *date_header,
       GError     **error)
{
  g_autoptr(GBytes) bytes = object_to_bytes (object);
  return imzala_portal_answer_parse_request (bytes, HOST, CODE, date_header, error);
}

static void
assert_refused (JsonObject *object,
                const char *what)
{
  g_autoptr(ImzalaRequest) request = NULL;
  g_autoptr(GError) error = NULL;

  g_test_message ("%s", what);
  request = parse (object, NULL, &error);
  g_assert_null (request);
  g_assert_error (error, IMZALA_ERROR, IMZALA_ERROR_PROTOCOL);
  g_assert_cmpstr (error->message, ==, "The portal sent an answer that İmzala cannot accept.");
}

/* ---- The valid request ---- */

static void
test_valid (void)
{
  g_autoptr(JsonObject) root = valid_answer ();
  g_autoptr(ImzalaRequest) request = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GDateTime) created = g_date_time_new_from_iso8601 (CREATED, NULL);
  g_autoptr(GDateTime) expires = g_date_time_new_from_iso8601 (EXPIRES, NULL);
  g_autofree char *display = NULL;
  g_autofree char *expected_1 = g_strconcat ("Ad\tAYŞE YILMAZ\nTutar\t10 TL", REFERENCE, NULL);
  ImzalaRequestText *text;
  GBytes *content;
  gint64 remaining;

  request = parse (root, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (request);

  g_assert_cmpstr (imzala_request_get_code (request), ==, CODE);
  display = imzala_request_dup_display_code (request);
  g_assert_cmpstr (display, ==, DISPLAY_CODE);
  g_assert_cmpint (imzala_request_get_purpose (request), ==, IMZALA_PURPOSE_CONSENT);
  g_assert_cmpstr (imzala_request_get_portal_host (request), ==, HOST);
  g_assert_cmpstr (imzala_request_get_portal_name (request), ==, HOST);
  g_assert_cmpstr (imzala_request_get_title (request), ==, "E-Onay");
  g_assert_cmpstr (imzala_request_get_requester_name (request), ==, "AYŞE YILMAZ");
  g_assert_cmpstr (imzala_request_get_requester_hint (request), ==, "123******50");
  g_assert_true (g_date_time_equal (imzala_request_get_created_at (request), created));
  g_assert_true (g_date_time_equal (imzala_request_get_expires_at (request), expires));
  g_assert_cmpuint (g_bytes_get_size (imzala_request_get_nonce (request)), ==, 32);
  g_assert_cmpuint (((const guint8 *) g_bytes_get_data (imzala_request_get_nonce (request), NULL))[31],
                    ==, (guint8) (31 * 7 + 1));

  g_assert_cmpuint (imzala_request_get_n_texts (request), ==, 2);
  text = imzala_request_get_text (request, 0);
  g_assert_cmpstr (imzala_request_text_get_title (text), ==, "Metin 1");
  g_assert_cmpstr (imzala_request_text_get_media_type (text), ==, "text/plain; charset=utf-8");
  g_assert_cmpstr (imzala_request_text_get_text (text), ==, expected_1);
  content = imzala_request_text_get_content (text);
  g_assert_cmpmem (g_bytes_get_data (content, NULL), g_bytes_get_size (content),
                   expected_1, strlen (expected_1));
  /* A text without a media type is plain UTF-8 text. */
  text = imzala_request_get_text (request, 1);
  g_assert_cmpstr (imzala_request_text_get_media_type (text), ==, "text/plain; charset=utf-8");
  g_assert_true (g_str_has_prefix (imzala_request_text_get_text (text), "Taahhütname\n\nİşlem: "));

  /* The remaining time is counted on the portal's clock: one minute of the
   * five has gone there, whatever the local clock says. */
  remaining = imzala_request_get_remaining_seconds (request);
  g_assert_cmpint (remaining, >, 230);
  g_assert_cmpint (remaining, <=, 240);
  g_assert_false (imzala_request_is_expired (request));
}

/* Sets "texts" to one text with @content as it is (no reference line
 * added). */
static void
set_raw_text (JsonObject *root,
              const char *content)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autofree char *encoded = base64_of (content, -1);

  json_builder_begin_array (builder);
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "title");
  json_builder_add_string_value (builder, "Metin");
  json_builder_set_member_name (builder, "content");
  json_builder_add_string_value (builder, encoded);
  json_builder_end_object (builder);
  json_builder_end_array (builder);
  json_object_set_member (root, "texts", json_builder_get_root (builder));
}

/* The host compares case-insensitively (the reference line repeats the name
 * as the portal wrote it); the request keeps the host İmzala connected to as
 * "who asks", not what the answer calls itself. */
static void
test_portal_case (void)
{
  g_autoptr(JsonObject) root = valid_answer ();
  g_autoptr(ImzalaRequest) request = NULL;
  g_autoptr(GError) error = NULL;

  json_object_set_string_member (root, "portal", "Portal.Example.ORG");
  set_raw_text (root, "Giriş\n\nİşlem: Portal.Example.ORG / " DISPLAY_CODE " / " CREATED);
  request = parse (root, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (imzala_request_get_portal_host (request), ==, HOST);
  g_assert_cmpstr (imzala_request_get_portal_name (request), ==, "Portal.Example.ORG");
}

/* Without "server_time" the Date header is the portal's clock; a request
 * that has expired there is still read (the job decides what to do). */
static void
test_date_header (void)
{
  g_autoptr(JsonObject) root = valid_answer ();
  g_autoptr(GDateTime) early = g_date_time_new_from_iso8601 ("2026-11-26T10:04:00Z", NULL);
  g_autoptr(GDateTime) late = g_date_time_new_from_iso8601 ("2026-11-26T11:00:00Z", NULL);
  g_autoptr(ImzalaRequest) request = NULL;
  g_autoptr(GError) error = NULL;
  gint64 remaining;

  json_object_remove_member (root, "server_time");

  request = parse (root, early, &error);
  g_assert_no_error (error);
  remaining = imzala_request_get_remaining_seconds (request);
  g_assert_cmpint (remaining, >, 50);
  g_assert_cmpint (remaining, <=, 60);
  g_clear_object (&request);

  request = parse (root, late, &error);
  g_assert_no_error (error);
  g_assert_cmpint (imzala_request_get_remaining_seconds (request), ==, 0);
  g_assert_true (imzala_request_is_expired (request));
  g_clear_object (&request);

  /* "server_time" wins over the Date header. */
  json_object_set_string_member (root, "server_time", SERVER_TIME);
  request = parse (root, late, &error);
  g_assert_no_error (error);
  g_assert_false (imzala_request_is_expired (request));
}

/* An unblock request carries no text, and must not. */
static void
test_unblock (void)
{
  g_autoptr(JsonObject) root = valid_answer ();
  g_autoptr(ImzalaRequest) request = NULL;
  g_autoptr(GError) error = NULL;

  json_object_set_string_member (root, "purpose", "unblock");
  assert_refused (root, "unblock with texts");

  json_object_set_member (root, "texts", texts_node (NULL));
  request = parse (root, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (imzala_request_get_purpose (request), ==, IMZALA_PURPOSE_UNBLOCK);
  g_assert_cmpuint (imzala_request_get_n_texts (request), ==, 0);
}

/* ---- Refusals ---- */

static void
test_not_an_object (void)
{
  static const char *answers[] = { "", "not json", "[1, 2]", "\"text\"", "{\"version\": 1" };

  for (guint i = 0; i < G_N_ELEMENTS (answers); i++)
    {
      g_autoptr(GBytes) bytes = g_bytes_new_static (answers[i], strlen (answers[i]));
      g_autoptr(ImzalaRequest) request = NULL;
      g_autoptr(GError) error = NULL;

      g_test_message ("answer %s", answers[i]);
      request = imzala_portal_answer_parse_request (bytes, HOST, CODE, NULL, &error);
      g_assert_null (request);
      g_assert_error (error, IMZALA_ERROR, IMZALA_ERROR_PROTOCOL);
    }
}

/* A member changed to @json (a JSON literal), or removed when @json is NULL. */
static void
test_member_refusals (void)
{
  static const struct {
    const char *member;
    const char *json;
  } cases[] = {
    { "version", NULL },
    { "version", "2" },
    { "version", "\"1\"" },
    { "version", "1.0" },
    { "code", NULL },
    { "code", "\"ABCDEFGHJKMP\"" },
    { "code", "\"abcdefghjkmn\"" },
    { "purpose", NULL },
    { "purpose", "\"payment\"" },
    { "purpose", "1" },
    { "created_at", NULL },
    { "created_at", "\"yesterday\"" },
    { "expires_at", NULL },
    { "expires_at", "\"" CREATED "\"" },           /* not after created_at */
    { "expires_at", "\"2026-11-26T09:59:59Z\"" },  /* before created_at */
    { "nonce", NULL },
    { "nonce", "\"AAAAAAAAAAA=\"" },               /* 8 bytes: too short */
    { "nonce", "\"not base64 at all\"" },
    { "nonce", "\"AAAA AAAAAAAAAAAAAAAAAAAAAAA=\"" },
    { "nonce", "{}" },
    { "texts", NULL },
    { "texts", "{}" },
    { "texts", "[]" },
    { "texts", "[\"a text\"]" },
    { "title", "\"E-Onay\\r\"" },
    { "title", "\"E-Onay\\nikinci satır\"" },
    { "title", "\"\\u202eyanO-E\"" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(JsonObject) root = valid_answer ();
      g_autofree char *what = g_strdup_printf ("%s = %s", cases[i].member,
                                               cases[i].json != NULL ? cases[i].json : "(none)");

      if (cases[i].json == NULL)
        json_object_remove_member (root, cases[i].member);
      else
        {
          g_autoptr(GError) error = NULL;
          JsonNode *value = json_from_string (cases[i].json, &error);

          g_assert_no_error (error);
          json_object_set_member (root, cases[i].member, value);
        }
      assert_refused (root, what);
    }
}

static void
test_nonce_sizes (void)
{
  g_autoptr(JsonObject) root = valid_answer ();
  g_autoptr(ImzalaRequest) request = NULL;
  g_autoptr(GError) error = NULL;

  json_object_set_member (root, "nonce", nonce_node (15));
  assert_refused (root, "nonce of 15 bytes");
  json_object_set_member (root, "nonce", nonce_node (65));
  assert_refused (root, "nonce of 65 bytes");

  json_object_set_member (root, "nonce", nonce_node (16));
  request = parse (root, NULL, &error);
  g_assert_no_error (error);
  g_clear_object (&request);
  json_object_set_member (root, "nonce", nonce_node (64));
  request = parse (root, NULL, &error);
  g_assert_no_error (error);
}

static void
test_text_count (void)
{
  g_autoptr(JsonObject) root = valid_answer ();
  g_autoptr(ImzalaRequest) request = NULL;
  g_autoptr(GError) error = NULL;
  JsonArray *texts = json_object_get_array_member (root, "texts");

  while (json_array_get_length (texts) < 16)
    json_array_add_element (texts, text_node ("Metin", "Bir metin daha", -1, NULL));
  request = parse (root, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (imzala_request_get_n_texts (request), ==, 16);

  json_array_add_element (texts, text_node ("Metin", "Bir metin fazla", -1, NULL));
  assert_refused (root, "17 texts");
}

/* A text that would look different on a terminal (or in a label) from the
 * bytes the card signs, or that cannot be shown at all, is refused. */
static void
test_text_refusals (void)
{
  static const struct {
    const char *what;
    const char *title;
    const char *content;
    gssize      length;
    const char *media_type;
  } cases[] = {
    { "no title", NULL, "Metin", -1, NULL },
    { "text/html", "Metin", "<b>Metin</b>", -1, "text/html" },
    { "invalid UTF-8", "Metin", "Tutar \xff\xfe", -1, NULL },
    { "a NUL", "Metin", "Tutar 10 TL\0 ve gizli ek", 24, NULL },
    { "a carriage return", "Metin", "Ödenecek tutar: 10.000 TL\rÖdenecek tutar:     10 TL", -1, NULL },
    { "an escape sequence", "Metin", "Kabul ediyorum.\x1b[1A\x1b[2KReddediyorum.", -1, NULL },
    { "U+202E", "Metin", "Tutar: \xe2\x80\xae" "LT 0001", -1, NULL },
    { "U+2066", "Metin", "Tutar: \xe2\x81\xa6" "10 TL", -1, NULL },
    { "DEL", "Metin", "Silme karakteri \x7f ile", -1, NULL },
    { "a C1 control", "Metin", "C1 denetim karakteri \xc2\x9b" "2J", -1, NULL },
    { "a title with a line feed", "Metin\n1", "Metin", -1, NULL },
    { "a title with a bidi override", "Metin \xe2\x80\xae", "Metin", -1, NULL },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(JsonObject) root = valid_answer ();

      json_object_set_member (root, "texts",
                              texts_node (text_node (cases[i].title, cases[i].content,
                                                     cases[i].length, cases[i].media_type),
                                          NULL));
      assert_refused (root, cases[i].what);
    }
}

static void
test_text_structure (void)
{
  g_autoptr(JsonObject) root = valid_answer ();
  JsonObject *text;

  /* Content that is not strict base64. */
  text = json_array_get_object_element (json_object_get_array_member (root, "texts"), 0);
  json_object_set_string_member (text, "content", "not base64!");
  assert_refused (root, "content not base64");
  json_object_remove_member (text, "content");
  assert_refused (root, "no content");
}

/* The reference line binds each text to this portal, code and time; a text
 * that lacks it, or carries another request's, is refused. */
static void
test_reference_line (void)
{
  static const char *contents[] = {
    "Giriş",
    "Giriş\n\nİşlem: " HOST " / ABCD-EFGH-JKMP / " CREATED,
    "Giriş\n\nİşlem: other.example.org / " DISPLAY_CODE " / " CREATED,
    "Giriş\n\nİşlem: " HOST " / " DISPLAY_CODE " / 2026-11-26T09:00:00Z",
    "Giriş\nİşlem: " HOST " / " DISPLAY_CODE " / " CREATED,
  };

  for (guint i = 0; i < G_N_ELEMENTS (contents); i++)
    {
      g_autoptr(JsonObject) root = valid_answer ();

      set_raw_text (root, contents[i]);
      assert_refused (root, contents[i]);
    }
}

/* The answer names another portal than the one İmzala verified by TLS: a
 * relaying site. The message says which portal İmzala talked to. */
static void
test_other_portal (void)
{
  static const char *names[] = { "portal.example.com", "portal.example.org:8443", "" };

  for (guint i = 0; i <= G_N_ELEMENTS (names); i++)
    {
      g_autoptr(JsonObject) root = valid_answer ();
      g_autoptr(ImzalaRequest) request = NULL;
      g_autoptr(GError) error = NULL;

      if (i < G_N_ELEMENTS (names))
        json_object_set_string_member (root, "portal", names[i]);
      else
        json_object_remove_member (root, "portal");
      request = parse (root, NULL, &error);
      g_assert_null (request);
      g_assert_error (error, IMZALA_ERROR, IMZALA_ERROR_PROTOCOL);
      g_assert_nonnull (strstr (error->message, "another portal than " HOST));
    }
}

static void
test_requester (void)
{
  g_autoptr(JsonObject) root = valid_answer ();
  g_autoptr(ImzalaRequest) request = NULL;
  g_autoptr(GError) error = NULL;
  JsonObject *requester = json_object_get_object_member (root, "requester");

  json_object_set_string_member (requester, "name", "AYŞE\x1b[2J YILMAZ");
  assert_refused (root, "requester name with an escape");
  json_object_set_string_member (requester, "name", "AYŞE YILMAZ");
  json_object_set_string_member (requester, "tckn_hint", "123\xe2\x80\xae" "50");
  assert_refused (root, "requester hint with a bidi override");

  /* The requester is optional. */
  json_object_remove_member (root, "requester");
  request = parse (root, NULL, &error);
  g_assert_no_error (error);
  g_assert_null (imzala_request_get_requester_name (request));
  g_assert_null (imzala_request_get_requester_hint (request));
}

/* ---- The other answers ---- */

static GBytes *
bytes_of (const char *json)
{
  return g_bytes_new (json, strlen (json));
}

static void
test_status (void)
{
  static const struct {
    const char *json;
    const char *expected; /* NULL: refused */
  } cases[] = {
    { "{\"status\": \"accepted\", \"message\": \"Giriş başarılı.\"}", "Giriş başarılı." },
    { "{\"status\": \"accepted\"}", "fallback" },
    { "{\"status\": \"accepted\", \"message\": \"\"}", "fallback" },
    { "{\"status\": \"accepted\", \"message\": \"Tamam\\r\"}", "fallback" },
    { "{\"status\": \"accepted\", \"message\": {}}", "fallback" },
    { "{\"status\": \"recorded\"}", NULL },
    { "{\"status\": [\"accepted\"]}", NULL },
    { "{}", NULL },
    { "[]", NULL },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GBytes) json = bytes_of (cases[i].json);
      g_autoptr(GError) error = NULL;
      g_autofree char *message = NULL;

      g_test_message ("%s", cases[i].json);
      message = imzala_portal_answer_parse_status (json, "accepted", "fallback", &error);
      if (cases[i].expected != NULL)
        {
          g_assert_no_error (error);
          g_assert_cmpstr (message, ==, cases[i].expected);
        }
      else
        {
          g_assert_null (message);
          g_assert_error (error, IMZALA_ERROR, IMZALA_ERROR_PROTOCOL);
        }
    }
}

static void
test_puk (void)
{
  static const char *refused[] = {
    "{}",
    "{\"puk\": \"\"}",
    "{\"puk\": 87654321}",
    "{\"puk\": null}",
    "{\"puk\": \"12345678901234567890123456789012345678901234567890123456789012345\"}",
  };
  g_autoptr(GBytes) json = bytes_of ("{\"puk\": \"87654321\"}");
  g_autoptr(ImzalaSecret) puk = NULL;
  g_autoptr(GError) error = NULL;

  puk = imzala_portal_answer_parse_puk (json, &error);
  g_assert_no_error (error);
  g_assert_cmpmem (imzala_secret_get_data (puk), imzala_secret_get_length (puk), "87654321", 8);

  for (guint i = 0; i < G_N_ELEMENTS (refused); i++)
    {
      g_autoptr(GBytes) bad = bytes_of (refused[i]);
      g_autoptr(ImzalaSecret) none = NULL;

      g_test_message ("%s", refused[i]);
      none = imzala_portal_answer_parse_puk (bad, &error);
      g_assert_null (none);
      g_assert_error (error, IMZALA_ERROR, IMZALA_ERROR_PROTOCOL);
      g_clear_error (&error);
    }
}

static void
test_error_answers (void)
{
  static const struct {
    guint       status;
    const char *json;      /* NULL: not sent as JSON */
    ImzalaError code;
    const char *message;   /* NULL: not checked */
  } cases[] = {
    { 404, "{\"error\": {\"code\": \"code-unknown\"}}", IMZALA_ERROR_CODE_UNKNOWN,
      "The portal does not know this verification code. Check the code and try again." },
    { 410, "{\"error\": {\"code\": \"code-expired\"}}", IMZALA_ERROR_CODE_EXPIRED, NULL },
    { 409, "{\"error\": {\"code\": \"code-used\"}}", IMZALA_ERROR_CODE_USED, NULL },
    { 403, "{\"error\": {\"code\": \"signer-mismatch\", \"message\": \"İmzalayan kişi başvuran değil.\"}}",
      IMZALA_ERROR_SIGNER_MISMATCH, "İmzalayan kişi başvuran değil." },
    { 403, "{\"error\": {\"code\": \"wrong-card\"}}", IMZALA_ERROR_SIGNER_MISMATCH, NULL },
    { 429, "{\"error\": {\"code\": \"rate-limited\"}}", IMZALA_ERROR_RATE_LIMITED, NULL },
    { 413, "{\"error\": {\"code\": \"too-large\"}}", IMZALA_ERROR_TOO_LARGE, NULL },
    { 400, "{\"error\": {\"code\": \"malformed\"}}", IMZALA_ERROR_PROTOCOL, NULL },
    { 400, "{\"error\": {\"code\": \"unsupported-version\"}}", IMZALA_ERROR_PROTOCOL, NULL },
    { 422, "{\"error\": {\"code\": \"signature-invalid\"}}", IMZALA_ERROR_PORTAL_REJECTED, NULL },
    { 400, "{\"error\": {\"code\": \"something-new\"}}", IMZALA_ERROR_PORTAL_REJECTED,
      "The portal refused the request." },
    { 500, "{\"error\": {\"code\": \"internal\"}}", IMZALA_ERROR_PROTOCOL,
      "The portal reported an internal error. Try again later." },
    { 502, NULL, IMZALA_ERROR_PROTOCOL, "The portal reported an internal error. Try again later." },
    { 302, NULL, IMZALA_ERROR_PROTOCOL, NULL },
    { 404, "not json", IMZALA_ERROR_PORTAL_REJECTED, NULL },
    /* A message the user cannot be shown as it is gives way to our own. */
    { 404, "{\"error\": {\"code\": \"code-unknown\", \"message\": \"Yok\\u001b[2J\"}}",
      IMZALA_ERROR_CODE_UNKNOWN,
      "The portal does not know this verification code. Check the code and try again." },
    /* Members of the wrong type are no symbol and no message. */
    { 404, "{\"error\": {\"code\": {}, \"message\": [\"x\"]}}", IMZALA_ERROR_PORTAL_REJECTED,
      "The portal refused the request." },
    { 404, "{\"error\": \"code-unknown\"}", IMZALA_ERROR_PORTAL_REJECTED, NULL },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GBytes) json = cases[i].json != NULL ? bytes_of (cases[i].json) : NULL;
      g_autoptr(GError) error = NULL;

      g_test_message ("HTTP %u %s", cases[i].status, cases[i].json);
      error = imzala_portal_answer_parse_error (cases[i].status, json);
      g_assert_error (error, IMZALA_ERROR, (gint) cases[i].code);
      if (cases[i].message != NULL)
        g_assert_cmpstr (error->message, ==, cases[i].message);
    }
}

/* ---- Protocol v1.1: signature_level and tsa_url (issue 10) ---- */

static void
test_signature_level (void)
{
  static const struct {
    const char *level;     /* NULL: the member is absent */
    const char *tsa_url;   /* NULL: the member is absent */
    gboolean    accepted;
    ImzalaCadesLevel expected;
  } cases[] = {
    { NULL, NULL, TRUE, IMZALA_CADES_LEVEL_BES },
    { "BES", NULL, TRUE, IMZALA_CADES_LEVEL_BES },
    { "BES", "https://tsa.example.com/tsa", TRUE, IMZALA_CADES_LEVEL_BES },
    { "T", "https://portal.example.com/pki/tsa", TRUE, IMZALA_CADES_LEVEL_T },
    { "XL", "https://portal.example.com/pki/tsa", TRUE, IMZALA_CADES_LEVEL_XL },
    { "T", NULL, FALSE, 0 },
    { "XL", "http://portal.example.com/pki/tsa", FALSE, 0 },
    { "T", "not a url", FALSE, 0 },
    { "LT", "https://portal.example.com/pki/tsa", FALSE, 0 },
    { "", NULL, FALSE, 0 },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(JsonObject) root = valid_answer ();
      g_autoptr(ImzalaRequest) request = NULL;
      g_autoptr(GError) error = NULL;

      g_test_message ("signature_level %s, tsa_url %s", cases[i].level, cases[i].tsa_url);
      if (cases[i].level != NULL)
        json_object_set_string_member (root, "signature_level", cases[i].level);
      if (cases[i].tsa_url != NULL)
        json_object_set_string_member (root, "tsa_url", cases[i].tsa_url);
      request = parse (root, NULL, &error);
      if (!cases[i].accepted)
        {
          g_assert_error (error, IMZALA_ERROR, IMZALA_ERROR_PROTOCOL);
          g_assert_null (request);
          continue;
        }
      g_assert_no_error (error);
      g_assert_cmpint (imzala_request_get_signature_level (request), ==, cases[i].expected);
      if (cases[i].expected == IMZALA_CADES_LEVEL_BES)
        g_assert_null (imzala_request_get_tsa_url (request));
      else
        g_assert_cmpstr (imzala_request_get_tsa_url (request), ==, cases[i].tsa_url);
    }

  /* Not a string: refused. */
  {
    g_autoptr(JsonObject) root = valid_answer ();
    g_autoptr(ImzalaRequest) request = NULL;
    g_autoptr(GError) error = NULL;

    json_object_set_int_member (root, "signature_level", 2);
    request = parse (root, NULL, &error);
    g_assert_error (error, IMZALA_ERROR, IMZALA_ERROR_PROTOCOL);
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/request/valid", test_valid);
  g_test_add_func ("/request/portal-case", test_portal_case);
  g_test_add_func ("/request/date-header", test_date_header);
  g_test_add_func ("/request/unblock", test_unblock);
  g_test_add_func ("/request/refused/not-an-object", test_not_an_object);
  g_test_add_func ("/request/refused/members", test_member_refusals);
  g_test_add_func ("/request/refused/nonce-sizes", test_nonce_sizes);
  g_test_add_func ("/request/refused/text-count", test_text_count);
  g_test_add_func ("/request/refused/texts", test_text_refusals);
  g_test_add_func ("/request/refused/text-structure", test_text_structure);
  g_test_add_func ("/request/refused/reference-line", test_reference_line);
  g_test_add_func ("/request/refused/other-portal", test_other_portal);
  g_test_add_func ("/request/refused/requester", test_requester);
  g_test_add_func ("/portal-answer/status", test_status);
  g_test_add_func ("/portal-answer/puk", test_puk);
  g_test_add_func ("/portal-answer/error", test_error_answers);
  g_test_add_func ("/request/signature-level", test_signature_level);

  return g_test_run ();
}
