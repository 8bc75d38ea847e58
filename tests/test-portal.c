/* test-portal.c: the real imzala-portal binary end to end.
 *
 * Two demo persons are enrolled with `imzala-portal enrol` (which makes their
 * SoftHSM demo cards from the portal's own CA), the portal runs on 127.0.0.1
 * with a free port, and this program talks to it with libsoup trusting only
 * the portal's root CA: the browser API creates requests, the client API
 * fetches them, the texts are signed on the SoftHSM cards with
 * imzala_token_sign_cms(), and what the portal recorded is read from
 * its SQLite file.
 *
 * The binary is $IMZALA_PORTAL (set by tests/meson.build).
 */
#define G_LOG_DOMAIN "test-portal"

#include "config.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>
#include <sqlite3.h>

#include "imzala-portal-limiter.h"
#include "imzala-portal-store.h"
#include "imzala-test.h"

#define AYSE_TCKN   "12345678950"
#define AYSE_NAME   "AYŞE YILMAZ"
#define AYSE_WORD   "kelebek"
#define AYSE_SICIL  "482913"
#define MEHMET_TCKN "10000000146"
#define DEMO_PIN    "123456"

typedef struct
{
  GSubprocess      *process;
  GDataInputStream *output;
  char             *url;
  SoupSession      *session;  /* a "browser": keeps the session cookie */
} Portal;

static char *tmp_dir;
static char *state_dir;
static char *card_dir;
static char *root_ca;
static char *db_path;
static Portal *main_portal;
static GPtrArray *tokens;
static ImzalaModuleSet *modules;
static ImzalaCertificate *ayse_cert;
static ImzalaCertificate *mehmet_cert;

static const char *
portal_binary (void)
{
  const char *path = g_getenv ("IMZALA_PORTAL");

  g_assert_nonnull (path);
  return path;
}

static void
enrol (const char *tckn, const char *name, const char *sicil, const char *key)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocess) process = NULL;
  g_autofree char *err = NULL;

  process = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE | G_SUBPROCESS_FLAGS_STDERR_PIPE, &error,
                              portal_binary (), "--state", state_dir, "enrol",
                              "--tckn", tckn, "--name", name, "--security-word", AYSE_WORD,
                              "--institution", "MEB", "--sicil-no", sicil,
                              "--card-dir", card_dir, "--key", key, NULL);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (process, NULL, NULL, NULL, &err, &error);
  g_assert_no_error (error);
  if (!g_subprocess_get_successful (process))
    g_error ("enrol failed: %s", err);
}

static char *
read_line_after (GDataInputStream *output, const char *marker)
{
  for (;;)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *line = g_data_input_stream_read_line_utf8 (output, NULL, NULL, &error);
      const char *found;

      g_assert_no_error (error);
      g_assert_nonnull (line);
      found = strstr (line, marker);
      if (found != NULL)
        return g_strdup (found + strlen (marker));
    }
}

/* @session_lifetime 0: the portal's default. */
/* G_MESSAGES_DEBUG for the portals started while it is set. */
static const char *portal_debug_domains;

static Portal *
portal_start_full (guint lifetime, guint session_lifetime)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GTlsDatabase) database = NULL;
  g_autofree char *lifetime_text = g_strdup_printf ("%u", lifetime);
  g_autofree char *session_text = g_strdup_printf ("%u", session_lifetime);
  g_autofree char *ca = NULL;
  Portal *portal = g_new0 (Portal, 1);
  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE);

  imzala_test_launcher_dies_with_test (launcher);

  /* GLib writes debug messages to standard output, which this reads. */
  if (portal_debug_domains != NULL)
    g_subprocess_launcher_setenv (launcher, "G_MESSAGES_DEBUG", portal_debug_domains, TRUE);
  portal->process = g_subprocess_launcher_spawn (launcher, &error,
                                                 portal_binary (), "--state", state_dir,
                                                 "--listen", "127.0.0.1:0",
                                                 "--code-lifetime", lifetime_text,
                                                 session_lifetime > 0 ? "--session-lifetime" : NULL,
                                                 session_text, NULL);
  g_assert_no_error (error);
  portal->output = g_data_input_stream_new (g_subprocess_get_stdout_pipe (portal->process));
  portal->url = read_line_after (portal->output, "listening on ");
  ca = read_line_after (portal->output, "--portal-ca): ");
  g_assert_cmpstr (ca, ==, root_ca);

  database = g_tls_file_database_new (root_ca, &error);
  g_assert_no_error (error);
  portal->session = soup_session_new ();
  soup_session_set_tls_database (portal->session, database);
  soup_session_add_feature_by_type (portal->session, SOUP_TYPE_COOKIE_JAR);
  return portal;
}

static Portal *
portal_start (guint lifetime)
{
  return portal_start_full (lifetime, 0);
}

/* The SHA-256 of the browser's session cookie, as the portal stores it;
 * NULL when the browser has none. */
static char *
session_hash (Portal *portal)
{
  SoupCookieJar *jar = SOUP_COOKIE_JAR (soup_session_get_feature (portal->session, SOUP_TYPE_COOKIE_JAR));
  GSList *cookies = soup_cookie_jar_all_cookies (jar);
  char *hash = NULL;

  for (GSList *l = cookies; l != NULL; l = l->next)
    if (strstr (soup_cookie_get_name (l->data), "oturum") != NULL)
      {
        g_free (hash);
        hash = g_compute_checksum_for_string (G_CHECKSUM_SHA256, soup_cookie_get_value (l->data), -1);
      }
  g_slist_free_full (cookies, (GDestroyNotify) soup_cookie_free);
  return hash;
}

/* Stops @portal and returns what it wrote after its first lines. */
static char *
portal_stop_with_output (Portal *portal)
{
  g_autoptr(GString) rest = g_string_new (NULL);
  char *line;

  g_subprocess_send_signal (portal->process, SIGTERM);
  while ((line = g_data_input_stream_read_line_utf8 (portal->output, NULL, NULL, NULL)) != NULL)
    {
      g_string_append_printf (rest, "%s\n", line);
      g_free (line);
    }
  g_subprocess_wait (portal->process, NULL, NULL);
  g_object_unref (portal->output);
  g_object_unref (portal->process);
  g_object_unref (portal->session);
  g_free (portal->url);
  g_free (portal);
  return g_string_free (g_steal_pointer (&rest), FALSE);
}

static void
portal_stop (Portal *portal)
{
  g_free (portal_stop_with_output (portal));
}

/* ---- HTTP ---- */

typedef struct
{
  guint       status;
  JsonNode   *root;
  char       *retry_after;
} Answer;

static void
answer_free (Answer *answer)
{
  if (answer->root != NULL)
    json_node_unref (answer->root);
  g_free (answer->retry_after);
  g_free (answer);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Answer, answer_free)

static Answer *
http (Portal *portal, const char *method, const char *path, const char *content_type, GBytes *body)
{
  g_autofree char *url = g_strconcat (portal->url, path, NULL);
  g_autoptr(SoupMessage) msg = soup_message_new (method, url);
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) data = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  Answer *answer = g_new0 (Answer, 1);

  if (body != NULL)
    soup_message_set_request_body_from_bytes (msg, content_type, body);
  data = soup_session_send_and_read (portal->session, msg, NULL, &error);
  g_assert_no_error (error);
  answer->status = soup_message_get_status (msg);
  answer->retry_after = g_strdup (soup_message_headers_get_one (soup_message_get_response_headers (msg),
                                                                "Retry-After"));
  g_assert_cmpstr (soup_message_headers_get_content_type (soup_message_get_response_headers (msg), NULL),
                   ==, "application/json");
  g_assert_cmpstr (soup_message_headers_get_one (soup_message_get_response_headers (msg),
                                                 "X-Content-Type-Options"), ==, "nosniff");
  json_parser_load_from_data (parser, g_bytes_get_data (data, NULL), g_bytes_get_size (data), &error);
  g_assert_no_error (error);
  answer->root = json_node_ref (json_parser_get_root (parser));
  return answer;
}

static Answer *
post (Portal *portal, const char *path, const char *json)
{
  g_autoptr(GBytes) body = g_bytes_new (json, strlen (json));

  return http (portal, "POST", path, "application/json", body);
}

static JsonObject *
obj (Answer *answer)
{
  return json_node_get_object (answer->root);
}

static const char *
error_code (Answer *answer)
{
  JsonObject *error = json_object_get_object_member (obj (answer), "error");

  g_assert_nonnull (error);
  g_assert_nonnull (json_object_get_string_member (error, "message"));
  return json_object_get_string_member (error, "code");
}

static const char *
error_message (Answer *answer)
{
  JsonObject *error = json_object_get_object_member (obj (answer), "error");

  g_assert_nonnull (error);
  return json_object_get_string_member (error, "message");
}

static char *
canonical (const char *display)
{
  GString *s = g_string_new (NULL);

  for (const char *p = display; *p; p++)
    if (*p != '-')
      g_string_append_c (s, *p);
  return g_string_free (s, FALSE);
}

/* Creates a request through the browser API; returns the canonical code and
 * the public request id. */
static char *
create (Portal *portal, const char *path, const char *json, char **request_id)
{
  g_autoptr(Answer) answer = post (portal, path, json);

  g_assert_cmpuint (answer->status, ==, 201);
  g_assert_true (g_str_has_prefix (json_object_get_string_member (obj (answer), "imzala_link"),
                                   "imzala:?portal=https%3A%2F%2Flocalhost%3A"));
  if (request_id != NULL)
    *request_id = g_strdup (json_object_get_string_member (obj (answer), "request_id"));
  return canonical (json_object_get_string_member (obj (answer), "code"));
}

/* Fetches a request by code: its nonce and text contents. */
static Answer *
fetch (Portal *portal, const char *code)
{
  g_autofree char *path = g_strconcat ("/api/v1/requests/", code, NULL);

  return http (portal, "GET", path, NULL, NULL);
}

static GBytes *
text_bytes (Answer *request, guint index)
{
  JsonArray *texts = json_object_get_array_member (obj (request), "texts");
  JsonObject *text = json_array_get_object_element (texts, index);
  gsize length;
  guchar *data = g_base64_decode (json_object_get_string_member (text, "content"), &length);

  return g_bytes_new_take (data, length);
}

static GBytes *
sign (ImzalaCertificate *cert, GBytes *content)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(ImzalaSecret) pin = imzala_test_secret (DEMO_PIN);
  ImzalaToken *token = imzala_module_set_find_token (tokens, cert);
  GBytes *cms = imzala_token_sign_cms (token, cert, pin, content, IMZALA_CMS_NONE, NULL, &error);

  g_assert_no_error (error);
  return cms;
}

static char *
signatures_body (const char *nonce, GPtrArray *cms_list)
{
  GString *body = g_string_new (NULL);

  g_string_append_printf (body, "{\"version\": 1, \"nonce\": \"%s\", \"signatures\": [", nonce);
  for (guint i = 0; i < cms_list->len; i++)
    {
      GBytes *cms = g_ptr_array_index (cms_list, i);
      g_autofree char *b64 = g_base64_encode (g_bytes_get_data (cms, NULL), g_bytes_get_size (cms));

      g_string_append_printf (body, "%s\"%s\"", i > 0 ? ", " : "", b64);
    }
  g_string_append (body, "]}");
  return g_string_free (body, FALSE);
}

/* Signs every text of @request with @cert and submits. */
static Answer *
sign_and_submit (Portal *portal, const char *code, Answer *request, ImzalaCertificate *cert)
{
  g_autoptr(GPtrArray) cms_list = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  JsonArray *texts = json_object_get_array_member (obj (request), "texts");
  g_autofree char *body = NULL;
  g_autofree char *path = g_strconcat ("/api/v1/requests/", code, "/signatures", NULL);

  for (guint i = 0; i < json_array_get_length (texts); i++)
    {
      g_autoptr(GBytes) content = text_bytes (request, i);

      g_ptr_array_add (cms_list, sign (cert, content));
    }
  body = signatures_body (json_object_get_string_member (obj (request), "nonce"), cms_list);
  return post (portal, path, body);
}

/* ---- The database ---- */

/* The first column of the first row of @sql (?1 bound to @arg), as text,
 * from the database at @path; NULL for no row or NULL. */
static char *
db_text_at (const char *path, const char *sql, const char *arg)
{
  sqlite3 *db = NULL;
  sqlite3_stmt *stmt = NULL;
  char *result = NULL;

  g_assert_cmpint (sqlite3_open_v2 (path, &db, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
  sqlite3_busy_timeout (db, 10000);
  g_assert_cmpint (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL), ==, SQLITE_OK);
  sqlite3_bind_text (stmt, 1, arg, -1, SQLITE_TRANSIENT);
  if (sqlite3_step (stmt) == SQLITE_ROW && sqlite3_column_type (stmt, 0) != SQLITE_NULL)
    result = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
  sqlite3_finalize (stmt);
  sqlite3_close (db);
  return result;
}

static char *
db_text (const char *sql, const char *arg)
{
  return db_text_at (db_path, sql, arg);
}

static GBytes *
db_blob (const char *sql, const char *arg)
{
  sqlite3 *db = NULL;
  sqlite3_stmt *stmt = NULL;
  GBytes *result = NULL;

  g_assert_cmpint (sqlite3_open_v2 (db_path, &db, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
  sqlite3_busy_timeout (db, 10000);
  g_assert_cmpint (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL), ==, SQLITE_OK);
  sqlite3_bind_text (stmt, 1, arg, -1, SQLITE_TRANSIENT);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    result = g_bytes_new (sqlite3_column_blob (stmt, 0), sqlite3_column_bytes (stmt, 0));
  sqlite3_finalize (stmt);
  sqlite3_close (db);
  return result;
}

static char *
request_state (const char *code)
{
  return db_text ("SELECT state FROM requests WHERE code = ?1", code);
}

/* openssl cms -verify accepts the stored signature against the portal's CA. */
static void
assert_openssl_verifies (GBytes *cms)
{
  g_autofree char *file = g_build_filename (tmp_dir, "stored.cms", NULL);
  g_autofree char *chain = g_build_filename (state_dir, "ca", "issuing-ca.pem", NULL);
  g_autofree char *err = NULL;
  g_autoptr(GError) error = NULL;
  int status;
  const char *argv[] = { "openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", file,
                         "-CAfile", root_ca, "-certfile", chain, "-purpose", "any",
                         "-out", "/dev/null", NULL };

  g_assert_true (g_file_set_contents (file, g_bytes_get_data (cms, NULL), g_bytes_get_size (cms), NULL));
  g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL,
                NULL, NULL, NULL, &err, &status, &error);
  g_assert_no_error (error);
  if (!g_spawn_check_wait_status (status, NULL))
    g_error ("openssl cms -verify refused the stored signature: %s", err);
}

/* ---- Tests ---- */

static char *login_code;
static Answer *login_request;

static void
test_login (void)
{
  Portal *p = main_portal;
  g_autofree char *request_id = NULL;
  g_autofree char *status_path = NULL;
  g_autofree char *expected_tail = NULL;
  g_autofree char *text_string = NULL;
  g_autofree char *state = NULL;
  g_autofree char *fingerprint = NULL;
  g_autoptr(Answer) status = NULL;
  g_autoptr(Answer) submitted = NULL;
  g_autoptr(Answer) session = NULL;
  g_autoptr(GBytes) text = NULL;
  g_autoptr(GBytes) stored = NULL;
  g_autoptr(GUri) uri = g_uri_parse (p->url, G_URI_FLAGS_NONE, NULL);
  g_autofree char *authority = g_strdup_printf ("localhost:%d", g_uri_get_port (uri));
  JsonObject *request;
  const char *created_at;

  login_code = create (p, "/api/v1/browser/login", "{\"tckn\": \"" AYSE_TCKN "\"}", &request_id);
  g_assert_true (strlen (login_code) == 12);

  login_request = fetch (p, login_code);
  g_assert_cmpuint (login_request->status, ==, 200);
  request = obj (login_request);
  g_assert_cmpint (json_object_get_int_member (request, "version"), ==, 1);
  g_assert_cmpstr (json_object_get_string_member (request, "code"), ==, login_code);
  g_assert_cmpstr (json_object_get_string_member (request, "purpose"), ==, "login");
  g_assert_cmpstr (json_object_get_string_member (request, "portal"), ==, authority);
  g_assert_cmpstr (json_object_get_string_member (request, "title"), ==, "E-imzalı Giriş");
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (request, "requester"), "name"),
                   ==, AYSE_NAME);
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (request, "requester"), "tckn_hint"),
                   ==, "123******50");
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (request, "texts")), ==, 1);

  /* The text is the guide's sentence plus the reference line of §4.1. */
  text = text_bytes (login_request, 0);
  created_at = json_object_get_string_member (request, "created_at");
  expected_tail = g_strdup_printf ("\n\nİşlem: %s / %.4s-%.4s-%.4s / %s", authority,
                                   login_code, login_code + 4, login_code + 8, created_at);
  g_assert_true (g_str_has_prefix (g_bytes_get_data (text, NULL),
                                   "Kullanıcı servislerine elektronik imzalı olarak girme işlemi onaylıyorum."));
  text_string = g_strndup (g_bytes_get_data (text, NULL), g_bytes_get_size (text));
  g_assert_true (g_str_has_suffix (text_string, expected_tail));

  status_path = g_strdup_printf ("/api/v1/browser/requests/%s/status", request_id);
  status = http (p, "GET", status_path, NULL, NULL);
  g_assert_cmpstr (json_object_get_string_member (obj (status), "state"), ==, "pending");
  g_clear_pointer (&status, answer_free);

  submitted = sign_and_submit (p, login_code, login_request, ayse_cert);
  g_assert_cmpuint (submitted->status, ==, 200);
  g_assert_cmpstr (json_object_get_string_member (obj (submitted), "status"), ==, "accepted");
  g_assert_nonnull (strstr (json_object_get_string_member (obj (submitted), "message"),
                            "Giriş işleminiz tamamlanmıştır"));

  /* What the portal recorded. */
  state = request_state (login_code);
  g_assert_cmpstr (state, ==, "done");
  fingerprint = db_text ("SELECT s.signer_fingerprint FROM signatures s JOIN requests r ON r.id = s.request"
                         " WHERE r.code = ?1 AND s.idx = 0", login_code);
  g_assert_cmpstr (fingerprint, ==, imzala_certificate_get_fingerprint (ayse_cert));
  stored = db_blob ("SELECT s.cms FROM signatures s JOIN requests r ON r.id = s.request WHERE r.code = ?1",
                    login_code);
  g_assert_nonnull (stored);
  assert_openssl_verifies (stored);

  /* The page's status moves on, and the browser is signed in. */
  status = http (p, "GET", status_path, NULL, NULL);
  g_assert_cmpstr (json_object_get_string_member (obj (status), "state"), ==, "done");
  g_assert_cmpstr (json_object_get_string_member (obj (status), "next"), ==, "/islemler");
  session = http (p, "GET", "/api/v1/browser/session", NULL, NULL);
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (obj (session), "person"), "name"),
                   ==, AYSE_NAME);
}

static void
test_reused_code (void)
{
  g_autoptr(Answer) again = NULL;
  g_autoptr(Answer) fetched = NULL;

  g_assert_nonnull (login_code);
  again = sign_and_submit (main_portal, login_code, login_request, ayse_cert);
  g_assert_cmpuint (again->status, ==, 409);
  g_assert_cmpstr (error_code (again), ==, "code-used");
  fetched = fetch (main_portal, login_code);
  g_assert_cmpuint (fetched->status, ==, 409);
  g_assert_cmpstr (error_code (fetched), ==, "code-used");
}

static void
test_other_persons_card (void)
{
  g_autofree char *code = create (main_portal, "/api/v1/browser/login", "{\"tckn\": \"" AYSE_TCKN "\"}", NULL);
  g_autoptr(Answer) request = fetch (main_portal, code);
  g_autoptr(Answer) answer = sign_and_submit (main_portal, code, request, mehmet_cert);
  g_autofree char *state = NULL;
  g_autofree char *rejected = NULL;

  g_assert_cmpuint (answer->status, ==, 403);
  g_assert_cmpstr (error_code (answer), ==, "signer-mismatch");
  /* A rejected submission does not use the code up; it is counted. */
  state = request_state (code);
  g_assert_cmpstr (state, ==, "pending");
  rejected = db_text ("SELECT rejected FROM requests WHERE code = ?1", code);
  g_assert_cmpstr (rejected, ==, "1");
}

static char *tampered_code;

static void
test_tampered (void)
{
  g_autoptr(Answer) request = NULL;
  g_autoptr(Answer) answer = NULL;
  g_autoptr(Answer) answer2 = NULL;
  g_autoptr(Answer) answer3 = NULL;
  g_autoptr(GBytes) content = NULL;
  g_autoptr(GBytes) cms = NULL;
  g_autoptr(GBytes) other = NULL;
  g_autoptr(GBytes) other_text = NULL;
  g_autoptr(GPtrArray) list = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  g_autoptr(Answer) status = NULL;
  g_autofree char *body = NULL;
  g_autofree char *path = NULL;
  g_autofree char *state = NULL;
  g_autofree char *request_id = NULL;
  guint8 *bytes;
  gsize size;

  tampered_code = create (main_portal, "/api/v1/browser/login", "{\"tckn\": \"" AYSE_TCKN "\"}", &request_id);
  path = g_strconcat ("/api/v1/requests/", tampered_code, "/signatures", NULL);
  request = fetch (main_portal, tampered_code);
  content = text_bytes (request, 0);
  cms = sign (ayse_cert, content);

  /* One bit of the signature value (the last bytes of the DER) flipped. */
  bytes = g_bytes_unref_to_data (g_bytes_ref (cms), &size);
  bytes[size - 5] ^= 0x01;
  g_ptr_array_add (list, g_bytes_new_take (bytes, size));
  body = signatures_body (json_object_get_string_member (obj (request), "nonce"), list);
  answer = post (main_portal, path, body);
  g_assert_cmpuint (answer->status, ==, 422);
  g_assert_cmpstr (error_code (answer), ==, "signature-invalid");

  /* A valid signature by the right person over another text. */
  other_text = g_bytes_new_static ("Kullanıcı servislerine", strlen ("Kullanıcı servislerine"));
  other = sign (ayse_cert, other_text);
  g_ptr_array_set_size (list, 0);
  g_ptr_array_add (list, g_bytes_ref (other));
  g_clear_pointer (&body, g_free);
  body = signatures_body (json_object_get_string_member (obj (request), "nonce"), list);
  answer2 = post (main_portal, path, body);
  g_assert_cmpuint (answer2->status, ==, 422);
  g_assert_cmpstr (error_code (answer2), ==, "signature-invalid");

  /* The third rejected submission closes the request, and both İmzala and
   * the browser page are told plainly that the code cannot be used again. */
  answer3 = post (main_portal, path, body);
  g_assert_cmpuint (answer3->status, ==, 422);
  state = request_state (tampered_code);
  g_assert_cmpstr (state, ==, "failed");
  g_assert_nonnull (strstr (error_message (answer3), "bu doğrulama kodu kapatıldı ve artık kullanılamaz."));
  g_clear_pointer (&path, g_free);
  path = g_strconcat ("/api/v1/browser/requests/", request_id, "/status", NULL);
  status = http (main_portal, "GET", path, NULL, NULL);
  g_assert_cmpuint (status->status, ==, 200);
  g_assert_cmpstr (json_object_get_string_member (obj (status), "state"), ==, "failed");
  g_assert_nonnull (strstr (json_object_get_string_member (obj (status), "message"),
                            "bu doğrulama kodu kapatıldı ve artık kullanılamaz."));
}

static void
test_unknown_code (void)
{
  g_autoptr(Answer) answer = fetch (main_portal, "ABCDEFGHJKMN");
  g_autoptr(Answer) lower = fetch (main_portal, "abcd-efgh-jkmn");

  g_assert_cmpuint (answer->status, ==, 404);
  g_assert_cmpstr (error_code (answer), ==, "code-unknown");
  g_assert_cmpuint (lower->status, ==, 404);
}

static void
test_malformed (void)
{
  g_autofree char *code = create (main_portal, "/api/v1/browser/login", "{\"tckn\": \"" AYSE_TCKN "\"}", NULL);
  g_autofree char *path = g_strconcat ("/api/v1/requests/", code, "/signatures", NULL);
  g_autoptr(Answer) request = fetch (main_portal, code);
  g_autoptr(Answer) not_json = post (main_portal, path, "{\"version\": 1, \"signatures\": [");
  g_autoptr(Answer) not_object = post (main_portal, path, "[1, 2]");
  g_autoptr(Answer) version = post (main_portal, path, "{\"version\": 2, \"nonce\": \"\", \"signatures\": []}");
  g_autoptr(Answer) no_list = post (main_portal, path, "{\"version\": 1, \"nonce\": \"AAAA\"}");
  g_autoptr(GBytes) plain = g_bytes_new_static ("{}", 2);
  g_autoptr(Answer) wrong_type = http (main_portal, "POST", path, "text/plain", plain);
  g_autofree char *state = NULL;

  g_assert_cmpuint (request->status, ==, 200);
  g_assert_cmpuint (not_json->status, ==, 400);
  g_assert_cmpstr (error_code (not_json), ==, "malformed");
  g_assert_cmpuint (not_object->status, ==, 400);
  g_assert_cmpstr (error_code (not_object), ==, "malformed");
  g_assert_cmpuint (version->status, ==, 400);
  g_assert_cmpstr (error_code (version), ==, "unsupported-version");
  g_assert_cmpuint (no_list->status, ==, 400);
  g_assert_cmpstr (error_code (no_list), ==, "malformed");
  g_assert_cmpuint (wrong_type->status, ==, 400);
  g_assert_cmpstr (error_code (wrong_type), ==, "malformed");
  state = request_state (code);
  g_assert_cmpstr (state, ==, "pending");
}

static void
test_oversized (void)
{
  g_autofree char *code = canonical ("0000-0000-0000");
  g_autofree char *path = g_strconcat ("/api/v1/requests/", code, "/signatures", NULL);
  gsize size = 2 * 1024 * 1024;
  char *data = g_malloc (size);
  g_autoptr(GBytes) body = NULL;
  g_autoptr(Answer) answer = NULL;
  g_autoptr(Answer) browser = NULL;
  g_autoptr(GBytes) browser_body = NULL;

  memset (data, ' ', size);
  data[0] = '{';
  data[size - 1] = '}';
  body = g_bytes_new_take (data, size);
  answer = http (main_portal, "POST", path, "application/json", body);
  g_assert_cmpuint (answer->status, ==, 413);
  g_assert_cmpstr (error_code (answer), ==, "too-large");

  /* The browser API's limit is smaller. */
  browser_body = g_bytes_new_from_bytes (body, 0, 100 * 1024);
  browser = http (main_portal, "POST", "/api/v1/browser/login", "application/json", browser_body);
  g_assert_cmpuint (browser->status, ==, 413);

  /* A body where none belongs (a page, a GET of the API, another method)
   * is refused before it is read too; the portal used to buffer it. */
  {
    static const char * const requests[][2] = {
      { "GET", "/" },
      { "GET", "/api/v1/requests/000000000000" },
      { "GET", "/api/v1/browser/session" },
      { "DELETE", "/api/v1/browser/session" },
      { "PATCH", "/api/v1/requests/000000000000/signatures" },
    };

    for (guint i = 0; i < G_N_ELEMENTS (requests); i++)
      {
        g_autoptr(Answer) refused = http (main_portal, requests[i][0], requests[i][1], "application/json", body);

        g_assert_cmpuint (refused->status, ==, 413);
        g_assert_cmpstr (error_code (refused), ==, "too-large");
      }
  }
}

static void
test_consent (void)
{
  g_autofree char *code = NULL;
  g_autofree char *eonay = NULL;
  g_autoptr(Answer) request = NULL;
  g_autoptr(Answer) answer = NULL;
  g_autoptr(GBytes) text = NULL;

  /* The session is signed in by test_login. */
  code = create (main_portal, "/api/v1/browser/consent", "{\"choice\": \"accept\"}", NULL);
  request = fetch (main_portal, code);
  g_assert_cmpstr (json_object_get_string_member (obj (request), "purpose"), ==, "consent");
  text = text_bytes (request, 0);
  g_assert_nonnull (g_strstr_len (g_bytes_get_data (text, NULL), g_bytes_get_size (text),
                                  "işleme alınmasını KABUL EDİYORUM."));
  answer = sign_and_submit (main_portal, code, request, ayse_cert);
  g_assert_cmpuint (answer->status, ==, 200);
  g_assert_true (g_str_has_prefix (json_object_get_string_member (obj (answer), "message"),
                                   "Seçiminiz kaydedildi."));
  eonay = db_text ("SELECT eonay FROM persons WHERE tckn = ?1", AYSE_TCKN);
  g_assert_cmpstr (eonay, ==, "accepted");
}

static const char *valid_form =
  "{\"basvuru_turu\": \"yeni\", \"kart_okuyucu\": \"mini\", \"sertifika_suresi\": \"3\","
  " \"dogum_yeri\": \"ANKARA\", \"dogum_tarihi\": \"1980-05-17\","
  " \"guvenlik_sozcugu\": \"papatya\", \"guvenlik_sozcugu_tekrar\": \"papatya\","
  " \"calistigi_birim\": \"Bilgi İşlem\", \"unvan\": \"Müdür Başyardımcısı\","
  " \"adres\": \"Atatürk Bulvarı No: 98\", \"il\": \"ANKARA\", \"ilce\": \"ÇANKAYA\","
  " \"posta_kodu\": \"06420\", \"eposta\": \"ayse@meb.gov.tr\", \"is_telefonu\": \"0312 413 15 00\","
  " \"cep_telefonu\": \"0532 000 00 00\", \"operator\": \"turk_telekom\", \"bilgi_kanali\": \"ikisi\"}";

static void
test_application (void)
{
  g_autoptr(Answer) login = NULL;
  g_autoptr(Answer) invalid = NULL;
  g_autoptr(Answer) form = NULL;
  g_autoptr(Answer) form2 = NULL;
  g_autoptr(Answer) eonay = NULL;
  g_autoptr(Answer) request = NULL;
  g_autoptr(Answer) answer = NULL;
  g_autoptr(Answer) wrong = NULL;
  g_autoptr(GBytes) text2 = NULL;
  g_autofree char *path = NULL;
  g_autofree char *code = NULL;
  g_autofree char *state = NULL;
  g_autofree char *method = NULL;
  g_autofree char *state2 = NULL;
  g_autofree char *fields = NULL;
  JsonObject *errors;

  wrong = post (main_portal, "/api/v1/browser/application/login",
                "{\"tckn\": \"" AYSE_TCKN "\", \"sicil_no\": \"999\"}");
  g_assert_cmpuint (wrong->status, ==, 403);
  login = post (main_portal, "/api/v1/browser/application/login",
                "{\"tckn\": \"" AYSE_TCKN "\", \"sicil_no\": \"" AYSE_SICIL "\"}");
  g_assert_cmpuint (login->status, ==, 200);
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (obj (login), "form"), "kurum_sicil_no"),
                   ==, AYSE_SICIL);

  /* Server-side validation names each bad field. */
  invalid = post (main_portal, "/api/v1/browser/application/form",
                  "{\"basvuru_turu\": \"yeni\", \"kart_okuyucu\": \"dev\", \"posta_kodu\": \"6420\","
                  " \"eposta\": \"ayse\", \"guvenlik_sozcugu\": \"papatya\", \"guvenlik_sozcugu_tekrar\": \"lale1\"}");
  g_assert_cmpuint (invalid->status, ==, 400);
  g_assert_cmpstr (error_code (invalid), ==, "invalid-form");
  errors = json_object_get_object_member (json_object_get_object_member (obj (invalid), "error"), "fields");
  g_assert_true (json_object_has_member (errors, "kart_okuyucu"));
  g_assert_true (json_object_has_member (errors, "posta_kodu"));
  g_assert_true (json_object_has_member (errors, "eposta"));
  g_assert_true (json_object_has_member (errors, "guvenlik_sozcugu_tekrar"));
  g_assert_true (json_object_has_member (errors, "dogum_yeri"));
  g_assert_false (json_object_has_member (errors, "basvuru_turu"));

  /* E-İmzalı: the form and the Taahhütname as two texts. */
  form = post (main_portal, "/api/v1/browser/application/form", valid_form);
  g_assert_cmpuint (form->status, ==, 200);
  path = g_strdup_printf ("/api/v1/browser/application/%s/esign",
                          json_object_get_string_member (obj (form), "application_id"));
  code = create (main_portal, path, "{}", NULL);
  request = fetch (main_portal, code);
  g_assert_cmpstr (json_object_get_string_member (obj (request), "purpose"), ==, "application");
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (obj (request), "texts")), ==, 2);
  text2 = text_bytes (request, 1);
  g_assert_true (g_str_has_prefix (g_bytes_get_data (text2, NULL), "SERTİFİKA SAHİBİ TAAHHÜTNAMESİ"));
  answer = sign_and_submit (main_portal, code, request, ayse_cert);
  g_assert_cmpuint (answer->status, ==, 200);
  state = db_text ("SELECT a.state FROM applications a JOIN requests r ON r.application = a.id"
                   " WHERE r.code = ?1", code);
  method = db_text ("SELECT a.method FROM applications a JOIN requests r ON r.application = a.id"
                    " WHERE r.code = ?1", code);
  g_assert_cmpstr (state, ==, "submitted");
  g_assert_cmpstr (method, ==, "esign");
  /* The security word is stored only as a hash. */
  fields = db_text ("SELECT a.fields FROM applications a JOIN requests r ON r.application = a.id"
                    " WHERE r.code = ?1", code);
  g_assert_null (strstr (fields, "papatya"));

  /* E-Onaylı, possible because test_consent recorded the e-onay. */
  form2 = post (main_portal, "/api/v1/browser/application/form", valid_form);
  g_assert_true (json_object_get_boolean_member (obj (form2), "eonay_available"));
  g_clear_pointer (&path, g_free);
  path = g_strdup_printf ("/api/v1/browser/application/%s/eonay",
                          json_object_get_string_member (obj (form2), "application_id"));
  eonay = post (main_portal, path, "{}");
  g_assert_cmpuint (eonay->status, ==, 200);
  g_assert_true (g_str_has_prefix (json_object_get_string_member (obj (eonay), "message"),
                                   "Başvuru formu e-onaylama işlemi başarıyla tamamlandı."));
  state2 = db_text ("SELECT state FROM applications WHERE public_id = ?1",
                    json_object_get_string_member (obj (form2), "application_id"));
  g_assert_cmpstr (state2, ==, "submitted");
}

/* A renewal (Yenileme) signed the E-İmzalı way waits like an E-Onaylı one,
 * and İmzala and the page say until when (test_application identified this
 * browser's session as Ayşe's). */
static void
test_renewal_esign (void)
{
  g_autoptr(Answer) form = NULL;
  g_autoptr(Answer) request = NULL;
  g_autoptr(Answer) answer = NULL;
  g_autoptr(Answer) status = NULL;
  g_autoptr(GDateTime) production = NULL;
  g_autofree char *renewal_form = NULL;
  g_autofree char *path = NULL;
  g_autofree char *code = NULL;
  g_autofree char *request_id = NULL;
  g_autofree char *state = NULL;
  g_autofree char *production_text = NULL;
  g_autofree char *date = NULL;
  g_autofree char *sentence = NULL;

  {
    GString *text = g_string_new (valid_form);

    g_assert_cmpuint (g_string_replace (text, "\"basvuru_turu\": \"yeni\"", "\"basvuru_turu\": \"yenileme\"", 1),
                      ==, 1);
    renewal_form = g_string_free (text, FALSE);
  }
  form = post (main_portal, "/api/v1/browser/application/form", renewal_form);
  g_assert_cmpuint (form->status, ==, 200);
  path = g_strdup_printf ("/api/v1/browser/application/%s/esign",
                          json_object_get_string_member (obj (form), "application_id"));
  code = create (main_portal, path, "{}", &request_id);
  request = fetch (main_portal, code);
  answer = sign_and_submit (main_portal, code, request, ayse_cert);
  g_assert_cmpuint (answer->status, ==, 200);

  /* The enrolled demo certificate is far from its end: the renewal waits. */
  state = db_text ("SELECT a.state FROM applications a JOIN requests r ON r.application = a.id"
                   " WHERE r.code = ?1", code);
  g_assert_cmpstr (state, ==, "waiting");
  production_text = db_text ("SELECT a.production_date FROM applications a JOIN requests r"
                             " ON r.application = a.id WHERE r.code = ?1", code);
  production = g_date_time_new_from_unix_utc (g_ascii_strtoll (production_text, NULL, 10));
  date = g_date_time_format (production, "%d.%m.%Y");
  sentence = g_strdup_printf ("Yenileme başvurunuz, sertifikanızın bitiş tarihine 2 ay kalana kadar (%s) "
                              "sistemimizde bekletilecektir.", date);
  g_assert_true (g_str_has_prefix (json_object_get_string_member (obj (answer), "message"),
                                   "Başvuru formu e-onaylama işlemi başarıyla tamamlandı."));
  g_assert_nonnull (strstr (json_object_get_string_member (obj (answer), "message"), sentence));

  g_clear_pointer (&path, g_free);
  path = g_strconcat ("/api/v1/browser/requests/", request_id, "/status", NULL);
  status = http (main_portal, "GET", path, NULL, NULL);
  g_assert_cmpstr (json_object_get_string_member (obj (status), "state"), ==, "done");
  g_assert_nonnull (strstr (json_object_get_string_member (obj (status), "message"), sentence));
}

/* The newest unblock code on the demo portal's /demo/sms page. */
static char *
demo_sms_code (Portal *portal)
{
  g_autofree char *url = g_strconcat (portal->url, "/demo/sms", NULL);
  g_autoptr(SoupMessage) msg = soup_message_new ("GET", url);
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) page = soup_session_send_and_read (portal->session, msg, NULL, &error);
  g_autofree char *text = NULL;
  const char *found;

  g_assert_no_error (error);
  g_assert_cmpuint (soup_message_get_status (msg), ==, 200);
  text = g_strndup (g_bytes_get_data (page, NULL), g_bytes_get_size (page));
  found = strstr (text, "Kilit çözme kodunuz ");
  g_assert_nonnull (found);
  return g_strndup (found + strlen ("Kilit çözme kodunuz "), 6);
}

static void
test_unblock (void)
{
  g_autoptr(Answer) wrong_word = NULL;
  g_autoptr(Answer) request = NULL;
  g_autoptr(Answer) wrong_card = NULL;
  g_autoptr(Answer) released = NULL;
  g_autoptr(Answer) again = NULL;
  g_autoptr(Answer) result = NULL;
  g_autoptr(ImzalaSecret) puk = NULL;
  g_autoptr(ImzalaSecret) new_pin = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *code = NULL;
  g_autofree char *path = NULL;
  g_autofree char *body = NULL;
  g_autofree char *state = NULL;
  ImzalaToken *token = imzala_module_set_find_token (tokens, ayse_cert);
  ImzalaToken *other = imzala_module_set_find_token (tokens, mehmet_cert);
  const char *nonce;
  const char *puk_text;

  wrong_word = post (main_portal, "/api/v1/browser/unblock",
                     "{\"tckn\": \"" AYSE_TCKN "\", \"security_word\": \"yanlis\"}");
  g_assert_cmpuint (wrong_word->status, ==, 403);
  g_assert_cmpstr (error_code (wrong_word), ==, "identity-mismatch");

  /* The second factor: a code to the registered phone, shown by the demo
   * portal on /demo/sms; a code is needed, a wrong one is refused. */
  {
    g_autoptr(Answer) sent = post (main_portal, "/api/v1/browser/unblock",
                                   "{\"tckn\": \"" AYSE_TCKN "\", \"security_word\": \"" AYSE_WORD "\"}");
    g_autoptr(Answer) wrong_sms = NULL;
    g_autofree char *sms = NULL;
    g_autofree char *with_code = NULL;
    g_autofree char *with_wrong = NULL;

    g_assert_cmpuint (sent->status, ==, 202);
    g_assert_true (json_object_get_boolean_member (obj (sent), "sms_required"));
    g_assert_cmpstr (json_object_get_string_member (obj (sent), "phone"), ==, "0532 *** ** 00");
    sms = demo_sms_code (main_portal);
    with_wrong = g_strdup_printf ("{\"tckn\": \"" AYSE_TCKN "\", \"security_word\": \"" AYSE_WORD "\","
                                  " \"sms_code\": \"%s\"}", g_str_equal (sms, "000000") ? "111111" : "000000");
    wrong_sms = post (main_portal, "/api/v1/browser/unblock", with_wrong);
    g_assert_cmpuint (wrong_sms->status, ==, 403);
    g_assert_cmpstr (error_code (wrong_sms), ==, "sms-code-wrong");
    with_code = g_strdup_printf ("{\"tckn\": \"" AYSE_TCKN "\", \"security_word\": \"" AYSE_WORD "\","
                                 " \"sms_code\": \"%s\"}", sms);
    code = create (main_portal, "/api/v1/browser/unblock", with_code, NULL);
  }
  request = fetch (main_portal, code);
  g_assert_cmpstr (json_object_get_string_member (obj (request), "purpose"), ==, "unblock");
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (obj (request), "texts")), ==, 0);
  nonce = json_object_get_string_member (obj (request), "nonce");
  path = g_strconcat ("/api/v1/requests/", code, "/unblock", NULL);

  /* Another person's card gets nothing. */
  body = g_strdup_printf ("{\"version\": 1, \"nonce\": \"%s\", \"token_serial\": \"%s\"}",
                          nonce, imzala_token_get_serial (other));
  wrong_card = post (main_portal, path, body);
  g_assert_cmpuint (wrong_card->status, ==, 403);
  g_assert_cmpstr (error_code (wrong_card), ==, "wrong-card");

  g_clear_pointer (&body, g_free);
  body = g_strdup_printf ("{\"version\": 1, \"nonce\": \"%s\", \"token_serial\": \"%s\"}",
                          nonce, imzala_token_get_serial (token));
  released = post (main_portal, path, body);
  g_assert_cmpuint (released->status, ==, 200);
  puk_text = json_object_get_string_member (obj (released), "puk");
  g_assert_nonnull (puk_text);
  state = request_state (code);
  g_assert_cmpstr (state, ==, "released");

  /* The PUK is released once. */
  again = post (main_portal, path, body);
  g_assert_cmpuint (again->status, ==, 409);

  /* And it really unblocks the card. */
  puk = imzala_test_secret (puk_text);
  new_pin = imzala_test_secret (DEMO_PIN);
  g_assert_true (imzala_token_unblock_pin (token, puk, new_pin, NULL, &error));
  g_assert_no_error (error);

  g_clear_pointer (&path, g_free);
  g_clear_pointer (&body, g_free);
  path = g_strconcat ("/api/v1/requests/", code, "/unblock-result", NULL);
  body = g_strdup_printf ("{\"version\": 1, \"nonce\": \"%s\", \"success\": true}", nonce);
  result = post (main_portal, path, body);
  g_assert_cmpuint (result->status, ==, 200);
  g_assert_cmpstr (json_object_get_string_member (obj (result), "status"), ==, "recorded");
  g_clear_pointer (&state, g_free);
  state = request_state (code);
  g_assert_cmpstr (state, ==, "done");
}

static void
test_expired (void)
{
  Portal *p = portal_start (2);
  g_autofree char *code = create (p, "/api/v1/browser/login", "{\"tckn\": \"" AYSE_TCKN "\"}", NULL);
  g_autoptr(Answer) request = fetch (p, code);
  g_autoptr(Answer) late = NULL;
  g_autoptr(Answer) late_fetch = NULL;
  g_autofree char *state = NULL;

  g_assert_cmpuint (request->status, ==, 200);
  /* Waiting for the code's two seconds to pass; nothing here is timed. */
  g_usleep (3 * G_USEC_PER_SEC);
  late = sign_and_submit (p, code, request, ayse_cert);
  g_assert_cmpuint (late->status, ==, 410);
  g_assert_cmpstr (error_code (late), ==, "code-expired");
  late_fetch = fetch (p, code);
  g_assert_cmpuint (late_fetch->status, ==, 410);
  state = request_state (code);
  g_assert_cmpstr (state, ==, "expired");
  portal_stop (p);
}

static void
test_session_expires (void)
{
  /* A portal whose sessions live five seconds instead of twelve hours. */
  Portal *p = portal_start_full (300, 5);
  g_autofree char *request_id = NULL;
  g_autofree char *code = create (p, "/api/v1/browser/login", "{\"tckn\": \"" AYSE_TCKN "\"}", &request_id);
  g_autofree char *status_path = g_strdup_printf ("/api/v1/browser/requests/%s/status", request_id);
  g_autoptr(Answer) request = fetch (p, code);
  g_autoptr(Answer) status = NULL;
  g_autoptr(Answer) submitted = NULL;
  g_autoptr(Answer) session = NULL;
  g_autoptr(Answer) later = NULL;
  g_autoptr(Answer) again = NULL;
  g_autofree char *old_hash = NULL;
  g_autofree char *rows = NULL;

  g_assert_cmpuint (request->status, ==, 200);
  submitted = sign_and_submit (p, code, request, ayse_cert);
  g_assert_cmpuint (submitted->status, ==, 200);
  status = http (p, "GET", status_path, NULL, NULL);
  g_assert_cmpstr (json_object_get_string_member (obj (status), "state"), ==, "done");
  session = http (p, "GET", "/api/v1/browser/session", NULL, NULL);
  g_assert_nonnull (json_object_get_object_member (obj (session), "person"));
  old_hash = session_hash (p);
  g_assert_nonnull (old_hash);

  /* Waiting for the session's five seconds to pass; nothing here is timed. */
  g_usleep (6 * G_USEC_PER_SEC);
  later = http (p, "GET", "/api/v1/browser/session", NULL, NULL);
  g_assert_cmpuint (later->status, ==, 200);
  g_assert_null (json_object_get_object_member (obj (later), "person"));

  /* A new session replaces it, and the expired row is gone. */
  again = post (p, "/api/v1/browser/login", "{\"tckn\": \"" AYSE_TCKN "\"}");
  g_assert_cmpuint (again->status, ==, 201);
  rows = db_text ("SELECT count(*) FROM sessions WHERE id_hash = ?1", old_hash);
  g_assert_cmpstr (rows, ==, "0");
  portal_stop (p);
}

/* GETs a page; returns its status and whether it set a cookie. */
static guint
get_page (Portal *portal, const char *path, gboolean *set_cookie)
{
  g_autofree char *url = g_strconcat (portal->url, path, NULL);
  g_autoptr(SoupMessage) msg = soup_message_new ("GET", url);
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) data = NULL;

  data = soup_session_send_and_read (portal->session, msg, NULL, &error);
  g_assert_no_error (error);
  *set_cookie = soup_message_headers_get_one (soup_message_get_response_headers (msg), "Set-Cookie") != NULL;
  return soup_message_get_status (msg);
}

static void
test_session_rows (void)
{
  /* A portal of its own: this fills the address's creation limit. Without
   * a cookie jar every request comes from a browser with no session. */
  Portal *p = portal_start (300);
  const char *pages[] = { "/", "/giris", "/islemler", "/eonay", "/basvuru", "/kilit" };
  g_autofree char *before = NULL;
  g_autofree char *after_reads = NULL;
  g_autofree char *after_posts = NULL;
  g_autoptr(Answer) session = NULL;
  g_autoptr(Answer) limited = NULL;

  soup_session_remove_feature_by_type (p->session, SOUP_TYPE_COOKIE_JAR);
  before = db_text ("SELECT count(*) FROM sessions", NULL);

  /* Reading pages and the session writes nothing and sets no cookie. */
  for (guint i = 0; i < G_N_ELEMENTS (pages); i++)
    {
      gboolean set_cookie = TRUE;

      g_assert_cmpuint (get_page (p, pages[i], &set_cookie), ==, 200);
      g_assert_false (set_cookie);
    }
  session = http (p, "GET", "/api/v1/browser/session", NULL, NULL);
  g_assert_cmpuint (session->status, ==, 200);
  g_assert_null (json_object_get_object_member (obj (session), "person"));
  after_reads = db_text ("SELECT count(*) FROM sessions", NULL);
  g_assert_cmpstr (after_reads, ==, before);

  /* A POST that needs a session makes one, but only as many per address
   * as the creation limit allows. */
  for (guint i = 0; i < 10; i++)
    {
      g_autoptr(Answer) answer = post (p, "/api/v1/browser/login", "{\"tckn\": \"1\"}");

      g_assert_cmpuint (answer->status, ==, 400);
    }
  after_posts = db_text ("SELECT count(*) - 10 FROM sessions", NULL);
  g_assert_cmpstr (after_posts, ==, before);
  limited = post (p, "/api/v1/browser/login", "{\"tckn\": \"1\"}");
  g_assert_cmpuint (limited->status, ==, 429);
  g_assert_cmpstr (error_code (limited), ==, "rate-limited");
  /* Too many sessions from one address is no failed attempt (an office
   * shares one), and the page shows the portal's sentence. */
  g_assert_nonnull (strstr (error_message (limited), "Bu adresten kısa sürede çok fazla istek geldi."));
  g_assert_null (strstr (error_message (limited), "hatalı"));
  portal_stop (p);
}

/* A second browser for @portal, with its own cookie jar. */
static SoupSession *
browser_new (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GTlsDatabase) database = g_tls_file_database_new (root_ca, &error);
  SoupSession *session;

  g_assert_no_error (error);
  session = soup_session_new ();
  soup_session_set_tls_database (session, database);
  soup_session_add_feature_by_type (session, SOUP_TYPE_COOKIE_JAR);
  return session;
}

static void
test_session_fixation (void)
{
  /* A portal of its own, so that the creation limit of the shared one is
   * not spent. */
  Portal *p = portal_start (300);
  SoupSession *victim = p->session;
  SoupSession *attacker = browser_new ();
  SoupCookieJar *attacker_jar = SOUP_COOKIE_JAR (soup_session_get_feature (attacker, SOUP_TYPE_COOKIE_JAR));
  SoupCookieJar *victim_jar = SOUP_COOKIE_JAR (soup_session_get_feature (victim, SOUP_TYPE_COOKIE_JAR));
  g_autoptr(Answer) made = NULL;
  g_autoptr(Answer) request = NULL;
  g_autoptr(Answer) submitted = NULL;
  g_autoptr(Answer) status = NULL;
  g_autoptr(Answer) victim_session = NULL;
  g_autoptr(Answer) attacker_session = NULL;
  g_autofree char *request_id = NULL;
  g_autofree char *code = NULL;
  g_autofree char *status_path = NULL;
  g_autofree char *planted_hash = NULL;
  g_autofree char *signed_in_hash = NULL;
  g_autofree char *rows = NULL;
  GSList *cookies;

  /* The attacker gets a session id from the portal... */
  p->session = attacker;
  made = post (p, "/api/v1/browser/login", "{\"tckn\": \"1\"}");
  g_assert_cmpuint (made->status, ==, 400);
  planted_hash = session_hash (p);
  g_assert_nonnull (planted_hash);
  cookies = soup_cookie_jar_all_cookies (attacker_jar);
  g_assert_cmpuint (g_slist_length (cookies), ==, 1);
  g_assert_cmpstr (soup_cookie_get_name (cookies->data), ==, "__Host-imzala_oturum");
  g_assert_true (soup_cookie_get_secure (cookies->data));
  g_assert_true (soup_cookie_get_http_only (cookies->data));
  g_assert_cmpstr (soup_cookie_get_path (cookies->data), ==, "/");
  /* ...and plants it in the victim's browser. */
  soup_cookie_jar_add_cookie (victim_jar, soup_cookie_copy (cookies->data));
  g_slist_free_full (cookies, (GDestroyNotify) soup_cookie_free);

  /* The victim signs in with that session id. */
  p->session = victim;
  code = create (p, "/api/v1/browser/login", "{\"tckn\": \"" AYSE_TCKN "\"}", &request_id);
  request = fetch (p, code);
  g_assert_cmpuint (request->status, ==, 200);
  submitted = sign_and_submit (p, code, request, ayse_cert);
  g_assert_cmpuint (submitted->status, ==, 200);
  status_path = g_strdup_printf ("/api/v1/browser/requests/%s/status", request_id);
  status = http (p, "GET", status_path, NULL, NULL);
  g_assert_cmpstr (json_object_get_string_member (obj (status), "state"), ==, "done");

  /* The victim is signed in on a new session id... */
  signed_in_hash = session_hash (p);
  g_assert_cmpstr (signed_in_hash, !=, planted_hash);
  victim_session = http (p, "GET", "/api/v1/browser/session", NULL, NULL);
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (obj (victim_session), "person"),
                                                  "name"), ==, AYSE_NAME);
  /* ...and the planted one is gone: the attacker is signed in as nobody. */
  rows = db_text ("SELECT count(*) FROM sessions WHERE id_hash = ?1", planted_hash);
  g_assert_cmpstr (rows, ==, "0");
  p->session = attacker;
  attacker_session = http (p, "GET", "/api/v1/browser/session", NULL, NULL);
  g_assert_null (json_object_get_object_member (obj (attacker_session), "person"));

  p->session = victim;
  g_object_unref (attacker);
  portal_stop (p);
}

static void
test_rate_limit (void)
{
  /* A portal of its own: after this its address is blocked for a minute. */
  Portal *p = portal_start (300);
  g_autofree char *code = create (p, "/api/v1/browser/login", "{\"tckn\": \"" AYSE_TCKN "\"}", NULL);
  g_autoptr(Answer) limited = NULL;
  g_autoptr(Answer) right_code = NULL;

  for (guint i = 0; i < 10; i++)
    {
      g_autofree char *guess = g_strdup_printf ("ZZZZZZZZZZ%02u", i);
      g_autoptr(Answer) answer = fetch (p, guess);

      g_assert_cmpuint (answer->status, ==, 404);
    }
  limited = fetch (p, "ZZZZZZZZZZZZ");
  g_assert_cmpuint (limited->status, ==, 429);
  g_assert_cmpstr (error_code (limited), ==, "rate-limited");
  g_assert_nonnull (strstr (error_message (limited), "Çok fazla hatalı deneme yapıldı."));
  g_assert_nonnull (limited->retry_after);
  g_assert_cmpint (atoi (limited->retry_after), >, 0);
  g_assert_cmpint (atoi (limited->retry_after), <=, 60);
  /* Even the right code tells nothing while the address is limited. */
  right_code = fetch (p, code);
  g_assert_cmpuint (right_code->status, ==, 429);
  portal_stop (p);
}

static void
test_limiter_forgets (void)
{
  /* Each address that guessed once is a key; once its events have left
   * the window the key must go even if that address never comes back,
   * or many addresses (IPv6 /64s are cheap) fill the portal's memory. */
  g_autoptr(ImzalaPortalLimiter) limiter = imzala_portal_limiter_new (10, 1);

  for (guint i = 0; i < 1000; i++)
    {
      g_autofree char *key = g_strdup_printf ("2001:db8:%x::/64", i);

      imzala_portal_limiter_record (limiter, key);
    }
  g_assert_cmpuint (imzala_portal_limiter_get_size (limiter), ==, 1000);
  g_usleep (1100 * 1000);
  imzala_portal_limiter_record (limiter, "192.0.2.1");
  g_assert_cmpuint (imzala_portal_limiter_get_size (limiter), ==, 1);
  g_assert_cmpuint (imzala_portal_limiter_check (limiter, "192.0.2.1"), ==, 0);
}

/* The audit log when the database takes no writes for longer than the
 * portal keeps events: the first IMZALA_PORTAL_AUDIT_PENDING_MAX are kept
 * and written in order once it takes them again, the rest are counted and
 * written as one "audit-dropped" event with their number (docs/protocol.md,
 * *Limits*), after the kept ones. The store is the portal's own, in
 * process; the write-ahead log is emptied and the process may not grow a
 * file (RLIMIT_FSIZE), so every write fails at once, as on a full disk. */
static guint audit_warnings;

static void
count_audit_warning (const char     *domain,
                     GLogLevelFlags  level,
                     const char     *message,
                     gpointer        user_data)
{
  if (strstr (message, "Could not write the audit log") != NULL)
    audit_warnings++;
  else
    g_log_default_handler (domain, level, message, user_data);
}

static gboolean
audit_warning_not_fatal (const char     *domain,
                         GLogLevelFlags  level,
                         const char     *message,
                         gpointer        user_data)
{
  return strstr (message, "Could not write the audit log") == NULL;
}

static void
test_audit_dropped (void)
{
  g_autofree char *dir = g_build_filename (tmp_dir, "audit-dropped", NULL);
  g_autofree char *path = g_build_filename (dir, "portal.db", NULL);
  g_autoptr(ImzalaPortalStore) store = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *kept = NULL;
  g_autofree char *out_of_order = NULL;
  g_autofree char *detail = NULL;
  g_autofree char *last = NULL;
  const guint extra = 3;
  struct rlimit saved, none;
  guint64 failures, dropped;
  guint pending, handler;
  sqlite3 *db = NULL;

  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  store = imzala_portal_store_open (path, &error);
  g_assert_no_error (error);
  imzala_portal_store_log (store, "before", NULL, 0, "192.0.2.1", NULL);

  g_assert_cmpint (sqlite3_open_v2 (path, &db, SQLITE_OPEN_READWRITE, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_exec (db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL), ==, SQLITE_OK);
  sqlite3_close (db);

  handler = g_log_set_handler ("imzala-portal", G_LOG_LEVEL_WARNING | G_LOG_FLAG_FATAL | G_LOG_FLAG_RECURSION,
                               count_audit_warning, NULL);
  g_test_log_set_fatal_handler (audit_warning_not_fatal, NULL);
  g_assert_cmpint (getrlimit (RLIMIT_FSIZE, &saved), ==, 0);
  none = saved;
  none.rlim_cur = 0;
  signal (SIGXFSZ, SIG_IGN);
  g_assert_cmpint (setrlimit (RLIMIT_FSIZE, &none), ==, 0);
  for (guint i = 0; i < IMZALA_PORTAL_AUDIT_PENDING_MAX + extra; i++)
    {
      g_autofree char *n = g_strdup_printf ("%u", i);

      imzala_portal_store_log (store, "while-away", NULL, 0, "192.0.2.1", n);
    }
  imzala_portal_store_get_audit_counts (store, &failures, &pending, &dropped);
  g_assert_cmpint (setrlimit (RLIMIT_FSIZE, &saved), ==, 0);
  signal (SIGXFSZ, SIG_DFL);
  g_assert_cmpuint (pending, ==, IMZALA_PORTAL_AUDIT_PENDING_MAX);
  g_assert_cmpuint (dropped, ==, extra);
  g_assert_cmpuint (failures, >=, IMZALA_PORTAL_AUDIT_PENDING_MAX + extra);
  g_assert_cmpuint (audit_warnings, ==, IMZALA_PORTAL_AUDIT_PENDING_MAX + extra);

  imzala_portal_store_flush_audit (store);
  imzala_portal_store_get_audit_counts (store, NULL, &pending, NULL);
  g_assert_cmpuint (pending, ==, 0);
  g_log_remove_handler ("imzala-portal", handler);
  g_test_log_set_fatal_handler (NULL, NULL);

  /* Read as an auditor would: every kept event, in order, then the loss. */
  kept = db_text_at (path, "SELECT count(*) FROM events WHERE kind = 'while-away'", NULL);
  g_assert_cmpstr (kept, ==, G_STRINGIFY (IMZALA_PORTAL_AUDIT_PENDING_MAX));
  out_of_order = db_text_at (path, "SELECT count(*) FROM events WHERE kind = 'while-away'"
                                   " AND CAST(detail AS INTEGER) + 2 <> id", NULL);
  g_assert_cmpstr (out_of_order, ==, "0");
  detail = db_text_at (path, "SELECT group_concat(detail) FROM events WHERE kind = 'audit-dropped'", NULL);
  g_assert_cmpstr (detail, ==, "3");
  last = db_text_at (path, "SELECT kind FROM events ORDER BY id DESC LIMIT 1", NULL);
  g_assert_cmpstr (last, ==, "audit-dropped");
}

static guint
file_mode (const char *dir, const char *name)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  GStatBuf buf;

  g_assert_cmpint (g_stat (path, &buf), ==, 0);
  return buf.st_mode & 0777;
}

static void
test_state_permissions (void)
{
  /* A state directory that others may read, as `mkdir` makes it: what
   * holds secrets in it must still be the owner's alone. */
  g_autofree char *dir = g_build_filename (tmp_dir, "open-state", NULL);
  g_autofree char *ca_dir = g_build_filename (dir, "ca", NULL);
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GDataInputStream) output = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *url = NULL;
  mode_t old_umask = umask (022);

  g_assert_cmpint (g_mkdir (dir, 0755), ==, 0);
  process = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error, portal_binary (), "--state", dir,
                              "--listen", "127.0.0.1:0", NULL);
  umask (old_umask);
  g_assert_no_error (error);
  output = g_data_input_stream_new (g_subprocess_get_stdout_pipe (process));
  url = read_line_after (output, "listening on ");

  g_assert_cmpuint (file_mode (dir, "portal.sqlite3"), ==, 0600);
  g_assert_cmpuint (file_mode (dir, "ca"), ==, 0700);
  g_assert_cmpuint (file_mode (ca_dir, "issuing-ca.key"), ==, 0600);
  g_assert_cmpuint (file_mode (ca_dir, "tls-server.key"), ==, 0600);

  g_subprocess_send_signal (process, SIGTERM);
  g_subprocess_wait (process, NULL, NULL);
}

/* ---- Setup ---- */

static void
setup (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *conf = NULL;

  tmp_dir = g_dir_make_tmp ("imzala-test-portal-XXXXXX", &error);
  g_assert_no_error (error);
  state_dir = g_build_filename (tmp_dir, "state", NULL);
  card_dir = g_build_filename (tmp_dir, "cards", NULL);
  root_ca = g_build_filename (state_dir, "ca", "root-ca.pem", NULL);
  db_path = g_build_filename (state_dir, "portal.sqlite3", NULL);

  enrol (AYSE_TCKN, AYSE_NAME, AYSE_SICIL, "rsa2048");
  enrol (MEHMET_TCKN, "MEHMET DEMİR", "100200", "p256");

  /* Both demo cards live in one SoftHSM store; loaded after enrolment. */
  conf = g_build_filename (card_dir, "softhsm2.conf", NULL);
  g_setenv ("SOFTHSM2_CONF", conf, TRUE);
  modules = imzala_module_set_new ();
  imzala_module_set_set_use_registered (modules, FALSE);
  imzala_module_set_add_module_path (modules, "/usr/lib/softhsm/libsofthsm2.so");
  g_assert_true (imzala_module_set_load (modules, NULL, &error));
  g_assert_no_error (error);
  tokens = imzala_module_set_list_tokens (modules, NULL, &error);
  g_assert_no_error (error);
  ayse_cert = imzala_module_set_find_certificate (tokens,
    "pkcs11:token=IMZALA%20DEMO%20" AYSE_TCKN ";object=AYSE%20YILMAZ%20SIGN0", NULL, &error);
  g_assert_no_error (error);
  mehmet_cert = imzala_module_set_find_certificate (tokens,
    "pkcs11:token=IMZALA%20DEMO%20" MEHMET_TCKN ";object=MEHMET%20DEMIR%20SIGN0", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (imzala_certificate_get_tckn (ayse_cert), ==, AYSE_TCKN);
  g_assert_true (imzala_certificate_is_qualified (ayse_cert));

  main_portal = portal_start (300);
}

/* ---- Racing submissions (issue 12: the check runs on a worker thread) ---- */

typedef struct
{
  guint  status;
  char  *answer;
  guint *pending;
} Race;

static void
race_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Race *race = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) data = soup_session_send_and_read_finish (SOUP_SESSION (source), result, &error);

  g_assert_no_error (error);
  race->status = soup_message_get_status (soup_session_get_async_result_message (SOUP_SESSION (source), result));
  race->answer = g_strndup (g_bytes_get_data (data, NULL), g_bytes_get_size (data));
  (*race->pending)--;
}

/* The same signatures posted over several connections at once: while one
 * submission's signatures are checked off the main thread the others
 * arrive; exactly one is accepted, the others are told the code is used,
 * and the database holds one signature and one "signed" audit row. */
static void
test_racing_submissions (void)
{
  /* A portal of its own, so that the creation limit of the shared one is
   * not spent. */
  Portal *p = portal_start (300);
  g_autofree char *code = create (p, "/api/v1/browser/login", "{\"tckn\": \"" AYSE_TCKN "\"}", NULL);
  g_autoptr(Answer) request = fetch (p, code);
  g_autoptr(GPtrArray) cms_list = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  g_autoptr(GBytes) content = text_bytes (request, 0);
  g_autofree char *body = NULL;
  g_autofree char *url = g_strconcat (p->url, "/api/v1/requests/", code, "/signatures", NULL);
  g_autofree char *signatures = NULL;
  g_autofree char *signed_rows = NULL;
  g_autofree char *state = NULL;
  Race races[4] = { { 0 } };
  SoupSession *sessions[G_N_ELEMENTS (races)];
  guint pending = G_N_ELEMENTS (races);
  guint accepted = 0, used = 0;

  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (obj (request), "texts")), ==, 1);
  g_ptr_array_add (cms_list, sign (ayse_cert, content));
  body = signatures_body (json_object_get_string_member (obj (request), "nonce"), cms_list);

  for (guint i = 0; i < G_N_ELEMENTS (races); i++)
    {
      g_autoptr(SoupMessage) msg = soup_message_new ("POST", url);
      g_autoptr(GBytes) bytes = g_bytes_new (body, strlen (body));

      /* A session each: a connection each. */
      sessions[i] = browser_new ();
      races[i].pending = &pending;
      soup_message_set_request_body_from_bytes (msg, "application/json", bytes);
      soup_session_send_and_read_async (sessions[i], msg, G_PRIORITY_DEFAULT, NULL, race_done_cb,
                                        &races[i]);
    }
  while (pending > 0)
    g_main_context_iteration (NULL, TRUE);

  for (guint i = 0; i < G_N_ELEMENTS (races); i++)
    {
      if (races[i].status == 200)
        {
          g_assert_nonnull (strstr (races[i].answer, "\"accepted\""));
          accepted++;
        }
      else
        {
          g_assert_cmpuint (races[i].status, ==, 409);
          g_assert_nonnull (strstr (races[i].answer, "\"code-used\""));
          used++;
        }
      g_free (races[i].answer);
      g_object_unref (sessions[i]);
    }
  g_assert_cmpuint (accepted, ==, 1);
  g_assert_cmpuint (used, ==, G_N_ELEMENTS (races) - 1);

  state = request_state (code);
  g_assert_cmpstr (state, ==, "done");
  signatures = db_text ("SELECT count(*) FROM signatures s JOIN requests r ON r.id = s.request"
                        " WHERE r.code = ?1", code);
  g_assert_cmpstr (signatures, ==, "1");
  signed_rows = db_text ("SELECT count(*) FROM events e JOIN requests r ON r.id = e.request"
                         " WHERE r.code = ?1 AND e.kind = 'signed'", code);
  g_assert_cmpstr (signed_rows, ==, "1");
  portal_stop (p);
}

static guint
count_lines (const char *text, const char *needle)
{
  guint n = 0;

  for (const char *p = text; (p = strstr (p, needle)) != NULL; p += strlen (needle))
    n++;
  return n;
}

/* Where a submission's signatures are checked (issue 12): one that comes
 * alone and small is checked on the main thread at once, with no hand-over
 * to the pool; one whose signatures are over 16 KiB goes to the pool. The
 * outcome is the same either way: the small ones are accepted, the large
 * one (a signature with 20 KiB after it) refused as invalid, and the request it was
 * posted for is accepted afterwards with its signature. The race above
 * covers submissions that overlap. */
static void
test_check_placement (void)
{
  Portal *p;
  g_autofree char *output = NULL;
  g_autofree char *large_code = NULL;
  g_autoptr(Answer) large_request = NULL;
  g_autoptr(Answer) refused = NULL;
  g_autoptr(Answer) accepted = NULL;
  g_autoptr(GPtrArray) cms_list = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  g_autoptr(GBytes) content = NULL;
  g_autoptr(GByteArray) padded = g_byte_array_new ();
  g_autofree char *body = NULL;
  g_autofree char *path = NULL;
  g_autofree char *state = NULL;
  g_autofree char *signatures = NULL;

  portal_debug_domains = "imzala-portal";
  p = portal_start (300);
  portal_debug_domains = NULL;

  for (guint i = 0; i < 3; i++)
    {
      g_autofree char *code = create (p, "/api/v1/browser/login", "{\"tckn\": \"" AYSE_TCKN "\"}", NULL);
      g_autoptr(Answer) request = fetch (p, code);
      g_autoptr(Answer) submitted = sign_and_submit (p, code, request, ayse_cert);

      g_assert_cmpuint (submitted->status, ==, 200);
    }

  large_code = create (p, "/api/v1/browser/login", "{\"tckn\": \"" AYSE_TCKN "\"}", NULL);
  large_request = fetch (p, large_code);
  content = text_bytes (large_request, 0);
  {
    g_autoptr(GBytes) cms = sign (ayse_cert, content);
    static const guint8 zeros[1024];

    g_byte_array_append (padded, g_bytes_get_data (cms, NULL), g_bytes_get_size (cms));
    for (guint i = 0; i < 20; i++)
      g_byte_array_append (padded, zeros, sizeof zeros);
  }
  g_ptr_array_add (cms_list, g_byte_array_free_to_bytes (g_steal_pointer (&padded)));
  body = signatures_body (json_object_get_string_member (obj (large_request), "nonce"), cms_list);
  path = g_strconcat ("/api/v1/requests/", large_code, "/signatures", NULL);
  refused = post (p, path, body);
  g_assert_cmpuint (refused->status, ==, 422);
  accepted = sign_and_submit (p, large_code, large_request, ayse_cert);
  g_assert_cmpuint (accepted->status, ==, 200);
  state = request_state (large_code);
  g_assert_cmpstr (state, ==, "done");
  signatures = db_text ("SELECT count(*) FROM signatures s JOIN requests r ON r.id = s.request"
                        " WHERE r.code = ?1", large_code);
  g_assert_cmpstr (signatures, ==, "1");

  output = portal_stop_with_output (p);
  g_test_message ("%s", output);
  /* The three lone ones and the large request's second, small submission:
   * at once, unless something else happened to wait for the main loop at
   * that moment; the large one on the pool. */
  g_assert_cmpuint (count_lines (output, "Submission checked at once"), >=, 1);
  g_assert_cmpuint (count_lines (output, "Submission checked on the pool"), >=, 1);
  g_assert_cmpuint (count_lines (output, "Submission checked "), ==, 5);
}

static gboolean
remove_tree (const char *path)
{
  g_autoptr(GFile) file = g_file_new_for_path (path);
  g_autoptr(GFileEnumerator) children = g_file_enumerate_children (file, G_FILE_ATTRIBUTE_STANDARD_NAME,
                                                                   G_FILE_QUERY_INFO_NOFOLLOW_SYMLINKS,
                                                                   NULL, NULL);
  GFileInfo *info;

  while (children != NULL && (info = g_file_enumerator_next_file (children, NULL, NULL)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, g_file_info_get_name (info), NULL);

      if (g_file_info_get_file_type (info) == G_FILE_TYPE_DIRECTORY)
        remove_tree (child);
      else
        g_unlink (child);
      g_object_unref (info);
    }
  return g_rmdir (path) == 0;
}

int
main (int argc, char *argv[])
{
  int result;

  g_test_init (&argc, &argv, NULL);
  setup ();

  g_test_add_func ("/portal/login", test_login);
  g_test_add_func ("/portal/reused-code", test_reused_code);
  g_test_add_func ("/portal/other-persons-card", test_other_persons_card);
  g_test_add_func ("/portal/tampered", test_tampered);
  g_test_add_func ("/portal/unknown-code", test_unknown_code);
  g_test_add_func ("/portal/malformed", test_malformed);
  g_test_add_func ("/portal/oversized", test_oversized);
  g_test_add_func ("/portal/consent", test_consent);
  g_test_add_func ("/portal/application", test_application);
  g_test_add_func ("/portal/renewal-esign", test_renewal_esign);
  g_test_add_func ("/portal/unblock", test_unblock);
  g_test_add_func ("/portal/expired", test_expired);
  g_test_add_func ("/portal/session-expires", test_session_expires);
  g_test_add_func ("/portal/session-rows", test_session_rows);
  g_test_add_func ("/portal/session-fixation", test_session_fixation);
  g_test_add_func ("/portal/rate-limit", test_rate_limit);
  g_test_add_func ("/portal/state-permissions", test_state_permissions);
  g_test_add_func ("/portal/limiter-forgets", test_limiter_forgets);
  g_test_add_func ("/portal/audit-dropped", test_audit_dropped);
  g_test_add_func ("/portal/racing-submissions", test_racing_submissions);
  g_test_add_func ("/portal/check-placement", test_check_placement);
  result = g_test_run ();

  portal_stop (main_portal);
  g_clear_pointer (&login_request, answer_free);
  g_free (login_code);
  g_free (tampered_code);
  g_clear_object (&ayse_cert);
  g_clear_object (&mehmet_cert);
  g_clear_pointer (&tokens, g_ptr_array_unref);
  g_clear_object (&modules);
  remove_tree (tmp_dir);
  return result;
}
