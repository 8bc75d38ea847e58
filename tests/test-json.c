/* test-json.c: imzala-json.c, the one way network JSON is read: size and
 * depth refused before json-glib parses, strings and escapes skipped by the
 * depth scan, the PUK scanner, the strict media type. */
#define G_LOG_DOMAIN "test-json"

#include "config.h"

#include <string.h>

#include <libsoup/soup.h>

#include "imzala-test.h"

static char *
nested (char open, char close, gsize depth)
{
  char *text = g_malloc (2 * depth + 1);

  memset (text, open, depth);
  memset (text + depth, close, depth);
  text[2 * depth] = '\0';
  return text;
}

static void
test_depth_scan (void)
{
  static const struct {
    const char *json;
    guint       depth;
  } cases[] = {
    { "1", 0 },
    { "{}", 1 },
    { "[[], {\"a\": [1]}]", 3 },
    /* Brackets inside strings, also after escaped quotes, do not count. */
    { "[\"[[[[\"]", 1 },
    { "[\"\\\"[[[[\", \"\\\\\"]", 1 },
    { "{\"a\\\\\": \"]]]]\"}", 1 },
    /* An unbalanced close does not wrap the counter. */
    { "]]]][", 1 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_test_message ("%s", cases[i].json);
      g_assert_cmpuint (imzala_json_scan_depth ((const guint8 *) cases[i].json,
                                                strlen (cases[i].json), 64),
                        ==, cases[i].depth);
    }
}

/* The attacks of issue 11: 100 000 nested arrays (the portal's body) and
 * 1.5 million (a portal's answer, under the client's 4 MiB cap) are refused
 * with a clear error, without json-glib ever recursing into them. */
static void
test_deep_refused (void)
{
  const gsize depths[] = { 65, 100000, 1500000 };

  for (guint i = 0; i < G_N_ELEMENTS (depths); i++)
    {
      g_autofree char *arrays = nested ('[', ']', depths[i]);
      g_autofree char *objects = NULL;
      g_autoptr(GError) error = NULL;
      g_autoptr(JsonNode) root = NULL;

      root = imzala_json_parse ((const guint8 *) arrays, strlen (arrays), 4 * 1024 * 1024,
                                IMZALA_JSON_MAX_DEPTH, &error);
      g_assert_null (root);
      g_assert_error (error, IMZALA_ERROR, IMZALA_ERROR_PROTOCOL);
      g_assert_cmpstr (error->message, ==, "The data received is not a valid JSON document.");
      g_clear_error (&error);

      /* {"a":{"a":...}} */
      {
        GString *text = g_string_new (NULL);

        for (gsize d = 0; d < MIN (depths[i], 100000); d++)
          g_string_append (text, "{\"a\":");
        g_string_append (text, "1");
        for (gsize d = 0; d < MIN (depths[i], 100000); d++)
          g_string_append_c (text, '}');
        objects = g_string_free (text, FALSE);
      }
      root = imzala_json_parse ((const guint8 *) objects, strlen (objects), 4 * 1024 * 1024,
                                IMZALA_JSON_MAX_DEPTH, &error);
      g_assert_null (root);
      g_assert_error (error, IMZALA_ERROR, IMZALA_ERROR_PROTOCOL);
    }
}

static void
test_limits (void)
{
  g_autofree char *deep64 = nested ('[', ']', 64);
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) root = NULL;
  const char *object = "{\"version\": 1, \"texts\": [{\"title\": \"T\"}]}";
  const char *bad[] = { "", "{", "{\"a\": }", "[1,]", "\xff\xfe{}" };

  /* Exactly at the limit: parsed. */
  root = imzala_json_parse ((const guint8 *) deep64, strlen (deep64), 1024, 64, &error);
  g_assert_no_error (error);
  g_assert_true (JSON_NODE_HOLDS_ARRAY (root));
  g_clear_pointer (&root, json_node_unref);

  root = imzala_json_parse ((const guint8 *) object, strlen (object), 1024, 64, &error);
  g_assert_no_error (error);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (root));
  g_clear_pointer (&root, json_node_unref);

  /* One byte over the size limit: refused before anything else. */
  root = imzala_json_parse ((const guint8 *) object, strlen (object), strlen (object) - 1, 64, &error);
  g_assert_null (root);
  g_assert_error (error, IMZALA_ERROR, IMZALA_ERROR_TOO_LARGE);
  g_clear_error (&error);

  root = imzala_json_parse (NULL, 0, 1024, 64, &error);
  g_assert_null (root);
  g_assert_error (error, IMZALA_ERROR, IMZALA_ERROR_PROTOCOL);
  g_clear_error (&error);

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_test_message ("case %u", i);
      root = imzala_json_parse ((const guint8 *) bad[i], strlen (bad[i]), 1024, 64, &error);
      g_assert_null (root);
      g_assert_error (error, IMZALA_ERROR, IMZALA_ERROR_PROTOCOL);
      g_clear_error (&error);
    }
}

static void
test_media_type (void)
{
  static const struct {
    const char *header;
    gboolean    json;
  } cases[] = {
    { "application/json", TRUE },
    { "application/json; charset=utf-8", TRUE },
    { "Application/JSON; charset=UTF-8", TRUE },
    { "application/json; charset=iso-8859-9", FALSE },
    { "application/json; boundary=x", FALSE },
    { "text/json", FALSE },
    { "application/json-seq", FALSE },
    { "text/html", FALSE },
  };

  g_assert_false (imzala_json_is_media_type (NULL, NULL));
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(SoupMessageHeaders) headers = soup_message_headers_new (SOUP_MESSAGE_HEADERS_RESPONSE);
      g_autoptr(GHashTable) params = NULL;
      const char *type;

      soup_message_headers_replace (headers, "Content-Type", cases[i].header);
      type = soup_message_headers_get_content_type (headers, &params);
      g_test_message ("%s", cases[i].header);
      g_assert_cmpint (imzala_json_is_media_type (type, params), ==, cases[i].json);
    }
}

/* The PUK goes from the buffer into the secret and is overwritten there, so
 * that json-glib never sees it. */
static void
test_take_secret (void)
{
  static const char *refused[] = {
    "{}",
    "[\"puk\", \"87654321\"]",
    "{\"puk\": 87654321}",
    "{\"puk\": \"\"}",
    "{\"puk\": \"8765\\u0034321\"}",
    "{\"puk\": \"87654321\", \"puk\": \"12345678\"}",
    /* Found by fuzz-json: json-glib reads "\p" as "p", so a second "puk"
     * the scan did not see would have been left in the buffer. */
    "{\"puk\": \"1\", \"\\puk\": \"2\"}",
    "{\"p\\u0075k\": \"87654321\"}",
    "{\"puk\": \"87654321",
    "{\"puk\": \"12345678901234567890123456789012345678901234567890123456789012345\"}",
  };
  char answer[] = "{\"status\": \"released\", \"x\": {\"puk\": \"nested\"}, \"puk\" : \"87654321\"}";
  g_autoptr(ImzalaSecret) puk = NULL;
  g_autoptr(GError) error = NULL;

  puk = imzala_json_take_secret ((guint8 *) answer, strlen (answer), "puk", &error);
  g_assert_no_error (error);
  g_assert_cmpmem (imzala_secret_get_data (puk), imzala_secret_get_length (puk), "87654321", 8);
  g_assert_cmpstr (answer, ==,
                   "{\"status\": \"released\", \"x\": {\"puk\": \"nested\"}, \"puk\" : \"********\"}");
  g_assert_null (strstr (answer, "87654321"));

  for (guint i = 0; i < G_N_ELEMENTS (refused); i++)
    {
      g_autofree char *copy = g_strdup (refused[i]);
      g_autoptr(ImzalaSecret) none = NULL;

      g_test_message ("%s", refused[i]);
      none = imzala_json_take_secret ((guint8 *) copy, strlen (copy), "puk", &error);
      g_assert_null (none);
      g_assert_error (error, IMZALA_ERROR, IMZALA_ERROR_PROTOCOL);
      g_clear_error (&error);
    }
}

/* The whole unblock answer: a second "puk" spelt with an escape, which the
 * scanner does not see, is caught when the rest is parsed. */
static void
test_take_puk_answer (void)
{
  char good[] = "{\"puk\": \"87654321\"}";
  char twice[] = "{\"puk\": \"87654321\", \"p\\u0075k\": \"11111111\"}";
  g_autofree char *deep = nested ('[', ']', 100000);
  g_autofree char *deep_answer = g_strdup_printf ("{\"puk\": \"87654321\", \"x\": %s}", deep);
  g_autoptr(ImzalaSecret) puk = NULL;
  g_autoptr(GError) error = NULL;

  puk = imzala_portal_answer_take_puk ((guint8 *) good, strlen (good), &error);
  g_assert_no_error (error);
  g_assert_cmpmem (imzala_secret_get_data (puk), imzala_secret_get_length (puk), "87654321", 8);
  g_assert_null (strstr (good, "87654321"));
  g_clear_pointer (&puk, imzala_secret_unref);

  puk = imzala_portal_answer_take_puk ((guint8 *) twice, strlen (twice), &error);
  g_assert_null (puk);
  g_assert_error (error, IMZALA_ERROR, IMZALA_ERROR_PROTOCOL);
  g_clear_error (&error);

  puk = imzala_portal_answer_take_puk ((guint8 *) deep_answer, strlen (deep_answer), &error);
  g_assert_null (puk);
  g_assert_error (error, IMZALA_ERROR, IMZALA_ERROR_PROTOCOL);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/json/depth-scan", test_depth_scan);
  g_test_add_func ("/json/deep-refused", test_deep_refused);
  g_test_add_func ("/json/limits", test_limits);
  g_test_add_func ("/json/media-type", test_media_type);
  g_test_add_func ("/json/take-secret", test_take_secret);
  g_test_add_func ("/json/take-puk-answer", test_take_puk_answer);
  return g_test_run ();
}
