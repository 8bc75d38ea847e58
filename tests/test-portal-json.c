/* test-portal-json.c: the real imzala-portal against bodies that crashed it
 * (issue 11): 100 000 nested arrays (160 KB) on
 * POST /api/v1/requests/{code}/signatures overflowed json-glib's recursion.
 * Now that body, a body that is not application/json (UTF-8) and an empty
 * one are answered 400 malformed, as docs/protocol.md says, and the portal stays up: it still
 * serves /ca.pem and the request is untouched.
 */
#define G_LOG_DOMAIN "test-portal-json"

#include "config.h"

#include <string.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

#include "imzala-test.h"
#include "imzala-test-portal.h"

static guint
post (ImzalaTestPortal *portal,
      const char       *path,
      const char       *content_type,
      GBytes           *body,
      char            **error_code)
{
  g_autofree char *url = g_strconcat (portal->url, path, NULL);
  g_autoptr(SoupMessage) msg = soup_message_new ("POST", url);
  g_autoptr(GBytes) answer = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();

  soup_message_set_request_body_from_bytes (msg, content_type, body);
  answer = soup_session_send_and_read (portal->session, msg, NULL, &error);
  g_assert_no_error (error);
  if (error_code != NULL && json_parser_load_from_data (parser, g_bytes_get_data (answer, NULL),
                                                        g_bytes_get_size (answer), NULL))
    {
      JsonObject *root = json_node_get_object (json_parser_get_root (parser));
      JsonObject *err = json_object_get_object_member (root, "error");

      *error_code = g_strdup (json_object_get_string_member (err, "code"));
    }
  return soup_message_get_status (msg);
}

static guint
get_status (ImzalaTestPortal *portal,
            const char       *path)
{
  g_autofree char *url = g_strconcat (portal->url, path, NULL);
  g_autoptr(SoupMessage) msg = soup_message_new ("GET", url);
  g_autoptr(GBytes) answer = NULL;
  g_autoptr(GError) error = NULL;

  answer = soup_session_send_and_read (portal->session, msg, NULL, &error);
  g_assert_no_error (error);
  return soup_message_get_status (msg);
}

static void
test_hostile_bodies (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(ImzalaTestPortal) portal = imzala_test_portal_new (0, &error);
  g_autofree char *display = NULL;
  g_autofree char *code = NULL;
  g_autofree char *path = NULL;
  g_autofree char *state = NULL;
  const gsize depth = 100000;
  char *deep;
  g_autoptr(GBytes) deep_body = NULL;
  g_autoptr(GBytes) good_json = NULL;
  g_autoptr(GBytes) empty = g_bytes_new_static ("", 0);

  g_assert_no_error (error);
  display = imzala_test_portal_create_request (portal, "login", &error);
  g_assert_no_error (error);
  code = imzala_portal_normalize_code (display, &error);
  g_assert_no_error (error);
  path = g_strdup_printf ("/api/v1/requests/%s/signatures", code);

  deep = g_malloc (2 * depth);
  memset (deep, '[', depth);
  memset (deep + depth, ']', depth);
  deep_body = g_bytes_new_take (deep, 2 * depth);
  good_json = g_bytes_new_static ("{\"version\": 1}", 14);

  for (guint round = 0; round < 3; round++)
    {
      g_autofree char *symbol = NULL;
      g_autofree char *other = NULL;
      g_autofree char *none = NULL;

      g_assert_cmpuint (post (portal, path, "application/json", deep_body, &symbol), ==, 400);
      g_assert_cmpstr (symbol, ==, "malformed");
      g_assert_cmpuint (post (portal, path, "text/plain", good_json, &other), ==, 400);
      g_assert_cmpstr (other, ==, "malformed");
      g_assert_cmpuint (post (portal, path, "application/json; charset=iso-8859-9", good_json, NULL),
                        ==, 400);
      g_assert_cmpuint (post (portal, path, "application/json", empty, &none), ==, 400);
      g_assert_cmpstr (none, ==, "malformed");
    }

  /* Still up, and nothing happened to the request. */
  g_assert_cmpuint (get_status (portal, "/ca.pem"), ==, 200);
  state = imzala_test_portal_get_state (portal, code);
  g_assert_cmpstr (state, ==, "pending");
  g_assert_cmpuint (imzala_test_portal_count_signatures (portal, code), ==, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/portal-json/hostile-bodies", test_hostile_bodies);
  return g_test_run ();
}
