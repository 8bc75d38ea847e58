#define G_LOG_DOMAIN "imzala-test"

#include "config.h"

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>
#include <signal.h>
#include <stdlib.h>
#include <sqlite3.h>
#include <string.h>

#include "imzala-test.h"
#include "imzala-test-portal.h"

static const char *
portal_binary (void)
{
  const char *path = g_getenv ("IMZALA_PORTAL");

  return path != NULL ? path : "imzala-portal";
}

static gboolean
enrol (ImzalaTestPortal *self,
       const char       *state_dir,
       const char       *card_dir,
       GError          **error)
{
  /* IMZALA_TEST_PORTAL_KEY (rsa2048, p256, p384) chooses the demo card's
   * key for a test that needs another than the default. */
  const char *key = g_getenv ("IMZALA_TEST_PORTAL_KEY");
  const char *argv[] = {
    portal_binary (), "--state", state_dir, "enrol",
    "--tckn", IMZALA_TEST_PORTAL_TCKN, "--name", IMZALA_TEST_PORTAL_NAME,
    "--security-word", IMZALA_TEST_PORTAL_SECURITY_WORD,
    "--institution", "MEB", "--sicil-no", "482913",
    "--card-dir", card_dir,
    key != NULL && *key != '\0' ? "--key" : NULL, key, NULL
  };
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  int status = 0;

  if (!g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL,
                     &out, &err, &status, error))
    return FALSE;
  if (!g_spawn_check_wait_status (status, NULL))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "imzala-portal enrol failed: %s", err);
      return FALSE;
    }
  return TRUE;
}

static char *
read_line_after (GDataInputStream *stream,
                 const char       *marker,
                 GError          **error)
{
  for (;;)
    {
      g_autofree char *line = g_data_input_stream_read_line_utf8 (stream, NULL, NULL, error);
      const char *found;

      if (line == NULL)
        {
          if (error != NULL && *error == NULL)
            g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "imzala-portal ended before “%s”", marker);
          return NULL;
        }
      found = strstr (line, marker);
      if (found != NULL)
        return g_strdup (found + strlen (marker));
    }
}

ImzalaTestPortal *
imzala_test_portal_new (guint    code_lifetime,
                        GError **error)
{
  g_autoptr(ImzalaTestPortal) self = g_new0 (ImzalaTestPortal, 1);
  g_autofree char *state_dir = NULL;
  g_autofree char *card_dir = NULL;
  g_autofree char *lifetime = g_strdup_printf ("%u", code_lifetime > 0 ? code_lifetime : 300);
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GTlsDatabase) database = NULL;
  g_autoptr(GUri) uri = NULL;

  self->dir = g_dir_make_tmp ("imzala-portal-XXXXXX", error);
  if (self->dir == NULL)
    return NULL;
  state_dir = g_build_filename (self->dir, "portal", NULL);
  card_dir = g_build_filename (self->dir, "card", NULL);
  self->card_conf = g_build_filename (card_dir, "softhsm2.conf", NULL);
  self->db_path = g_build_filename (state_dir, "portal.sqlite3", NULL);

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  imzala_test_launcher_dies_with_test (launcher);
  self->process = g_subprocess_launcher_spawn (launcher, error, portal_binary (),
                                               "--state", state_dir,
                                               "--listen", "127.0.0.1:0",
                                               "--code-lifetime", lifetime,
                                               NULL);
  if (self->process == NULL)
    return NULL;
  self->output = g_data_input_stream_new (g_subprocess_get_stdout_pipe (self->process));
  self->url = read_line_after (self->output, "listening on ", error);
  if (self->url == NULL)
    return NULL;
  g_strstrip (self->url);
  self->ca_file = read_line_after (self->output, "--portal-ca): ", error);
  if (self->ca_file == NULL)
    return NULL;
  g_strstrip (self->ca_file);

  /* Enrolled while the portal runs, as tests/test-portal-pki.c does: the
   * portal has kept its listening URL in the state, so the card's
   * certificate names this portal's own OCSP, CRL and CA certificate
   * (AIA, CRL distribution point), and status before signing asks it. */
  if (!enrol (self, state_dir, card_dir, error))
    return NULL;
  /* The PKCS#11 modules are loaded after this, so SoftHSM finds the card. */
  g_setenv ("SOFTHSM2_CONF", self->card_conf, TRUE);

  uri = g_uri_parse (self->url, G_URI_FLAGS_NONE, error);
  if (uri == NULL)
    return NULL;
  self->host = g_strdup_printf ("%s:%d", g_uri_get_host (uri), g_uri_get_port (uri));

  /* The "browser": trusts the portal's CA and keeps its session cookie. */
  database = g_tls_file_database_new (self->ca_file, error);
  if (database == NULL)
    return NULL;
  self->session = soup_session_new ();
  soup_session_set_tls_database (self->session, database);
  soup_session_add_feature_by_type (self->session, SOUP_TYPE_COOKIE_JAR);

  return g_steal_pointer (&self);
}

void
imzala_test_portal_free (ImzalaTestPortal *self)
{
  if (self == NULL)
    return;

  if (self->process != NULL)
    {
      g_subprocess_send_signal (self->process, SIGTERM);
      g_subprocess_wait (self->process, NULL, NULL);
    }
  g_clear_object (&self->output);
  g_clear_object (&self->process);
  g_clear_object (&self->session);
  if (self->dir != NULL && g_getenv ("IMZALA_TEST_KEEP") == NULL)
    {
      g_autofree char *quoted = g_shell_quote (self->dir);
      g_autofree char *command = g_strdup_printf ("rm -rf %s", quoted);

      if (system (command) != 0)
        g_warning ("Could not remove %s", self->dir);
    }
  g_free (self->dir);
  g_free (self->url);
  g_free (self->host);
  g_free (self->ca_file);
  g_free (self->card_conf);
  g_free (self->db_path);
  g_free (self->login_id);
  g_free (self);
}

static JsonNode *
post_json (ImzalaTestPortal *self,
           const char       *path,
           const char       *body,
           guint             expected_status,
           GError          **error)
{
  g_autofree char *url = g_strconcat (self->url, path, NULL);
  g_autoptr(SoupMessage) msg = soup_message_new ("POST", url);
  g_autoptr(GUri) site = g_uri_parse (self->url, G_URI_FLAGS_NONE, NULL);
  g_autoptr(GBytes) request = g_bytes_new (body, strlen (body));
  g_autoptr(GBytes) answer = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();

  /* What a page of the portal itself sends: same site, so the SameSite=Strict
   * cookie goes along. */
  soup_message_set_first_party (msg, site);
  soup_message_set_site_for_cookies (msg, site);
  soup_message_set_request_body_from_bytes (msg, "application/json", request);
  answer = soup_session_send_and_read (self->session, msg, NULL, error);
  if (answer == NULL)
    return NULL;
  if (soup_message_get_status (msg) != expected_status)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "POST %s: HTTP %u: %.*s", path,
                   soup_message_get_status (msg),
                   (int) g_bytes_get_size (answer), (const char *) g_bytes_get_data (answer, NULL));
      return NULL;
    }
  if (!json_parser_load_from_data (parser, g_bytes_get_data (answer, NULL), g_bytes_get_size (answer), error))
    return NULL;
  return json_node_copy (json_parser_get_root (parser));
}

/* The last unblock code the demo portal "sent" to the phone (/demo/sms,
 * newest first). */
static char *
read_demo_sms_code (ImzalaTestPortal *self, GError **error)
{
  g_autofree char *url = g_strconcat (self->url, "/demo/sms", NULL);
  g_autoptr(SoupMessage) msg = soup_message_new ("GET", url);
  g_autoptr(GBytes) page = soup_session_send_and_read (self->session, msg, NULL, error);
  g_autofree char *text = NULL;
  const char *marker = "Kilit çözme kodunuz ";
  const char *found;

  if (page == NULL)
    return NULL;
  text = g_strndup (g_bytes_get_data (page, NULL), g_bytes_get_size (page));
  found = strstr (text, marker);
  if (found == NULL || strlen (found) < strlen (marker) + 6)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "No unblock code on /demo/sms");
      return NULL;
    }
  return g_strndup (found + strlen (marker), 6);
}

char *
imzala_test_portal_create_request (ImzalaTestPortal *self,
                                   const char       *purpose,
                                   GError          **error)
{
  g_autoptr(JsonNode) answer = NULL;
  JsonObject *object;

  if (g_str_equal (purpose, "login"))
    answer = post_json (self, "/api/v1/browser/login",
                        "{\"tckn\": \"" IMZALA_TEST_PORTAL_TCKN "\"}", SOUP_STATUS_CREATED, error);
  else if (g_str_equal (purpose, "unblock"))
    {
      /* Two steps: the word sends a code to the registered phone, the word
       * with that code makes the request. */
      g_autoptr(JsonNode) sent = post_json (self, "/api/v1/browser/unblock",
                                            "{\"tckn\": \"" IMZALA_TEST_PORTAL_TCKN "\", "
                                            "\"security_word\": \"" IMZALA_TEST_PORTAL_SECURITY_WORD "\"}",
                                            SOUP_STATUS_ACCEPTED, error);
      g_autofree char *sms = sent != NULL ? read_demo_sms_code (self, error) : NULL;
      g_autofree char *body = NULL;

      if (sms == NULL)
        return NULL;
      body = g_strdup_printf ("{\"tckn\": \"" IMZALA_TEST_PORTAL_TCKN "\", "
                              "\"security_word\": \"" IMZALA_TEST_PORTAL_SECURITY_WORD "\", "
                              "\"sms_code\": \"%s\"}", sms);
      answer = post_json (self, "/api/v1/browser/unblock", body, SOUP_STATUS_CREATED, error);
    }
  else if (g_str_equal (purpose, "consent"))
    {
      /* E-Onay (KABUL EDİYORUM): the session must be signed in, by a login
       * request this session made and İmzala signed. The portal signs the
       * browser in (on a new session id) when it reads that request's done
       * status, as the page does. */
      if (self->login_id != NULL)
        {
          g_autofree char *url = g_strdup_printf ("%s/api/v1/browser/requests/%s/status",
                                                  self->url, self->login_id);
          g_autoptr(SoupMessage) msg = soup_message_new ("GET", url);
          g_autoptr(GUri) site = g_uri_parse (self->url, G_URI_FLAGS_NONE, NULL);
          g_autoptr(GBytes) status = NULL;

          soup_message_set_first_party (msg, site);
          soup_message_set_site_for_cookies (msg, site);
          status = soup_session_send_and_read (self->session, msg, NULL, error);
          if (status == NULL)
            return NULL;
        }
      answer = post_json (self, "/api/v1/browser/consent",
                          "{\"choice\": \"accept\"}", SOUP_STATUS_CREATED, error);
    }
  else
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED, "No request of purpose %s", purpose);
  if (answer == NULL)
    return NULL;

  object = json_node_get_object (answer);
  if (object == NULL || !json_object_has_member (object, "code"))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "The portal's answer has no code");
      return NULL;
    }
  if (g_str_equal (purpose, "login") && json_object_has_member (object, "request_id"))
    {
      g_free (self->login_id);
      self->login_id = g_strdup (json_object_get_string_member (object, "request_id"));
    }
  return g_strdup (json_object_get_string_member (object, "code"));
}

char *
imzala_test_portal_create_application_request (ImzalaTestPortal *self,
                                               GError          **error)
{
  g_autoptr(JsonNode) login = NULL;
  g_autoptr(JsonNode) form = NULL;
  g_autoptr(JsonNode) answer = NULL;
  g_autofree char *path = NULL;
  JsonObject *object;

  /* Kullanıcı Girişi with the T.C. kimlik no and the sicil no that
   * imzala_test_portal_new() enrolled, then the form as the page posts it. */
  login = post_json (self, "/api/v1/browser/application/login",
                     "{\"tckn\": \"" IMZALA_TEST_PORTAL_TCKN "\", \"sicil_no\": \"482913\"}",
                     SOUP_STATUS_OK, error);
  if (login == NULL)
    return NULL;
  form = post_json (self, "/api/v1/browser/application/form",
                    "{\"basvuru_turu\": \"yeni\", \"kart_okuyucu\": \"mini\", "
                    "\"sertifika_suresi\": \"3\", \"dogum_yeri\": \"ANKARA\", "
                    "\"dogum_tarihi\": \"1980-05-17\", \"calistigi_birim\": \"Bilgi İşlem Şubesi\", "
                    "\"unvan\": \"Müdür Başyardımcısı\", "
                    "\"adres\": \"Atatürk Bulvarı No: 98 Bakanlıklar\", \"il\": \"ANKARA\", "
                    "\"ilce\": \"ÇANKAYA\", \"posta_kodu\": \"06648\", "
                    "\"eposta\": \"ayse.yilmaz@meb.example\", \"is_telefonu\": \"0312 413 15 00\", "
                    "\"cep_telefonu\": \"0532 123 45 67\", \"operator\": \"turk_telekom\", "
                    "\"bilgi_kanali\": \"eposta\", \"guvenlik_sozcugu\": \"" IMZALA_TEST_PORTAL_SECURITY_WORD "\", "
                    "\"guvenlik_sozcugu_tekrar\": \"" IMZALA_TEST_PORTAL_SECURITY_WORD "\"}",
                    SOUP_STATUS_OK, error);
  if (form == NULL)
    return NULL;
  object = json_node_get_object (form);
  if (object == NULL || !json_object_has_member (object, "application_id"))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "The portal's answer has no application_id");
      return NULL;
    }

  /* Yöntem 2: the form and the undertaking signed with the card. */
  path = g_strdup_printf ("/api/v1/browser/application/%s/esign",
                          json_object_get_string_member (object, "application_id"));
  answer = post_json (self, path, "{}", SOUP_STATUS_CREATED, error);
  if (answer == NULL)
    return NULL;
  object = json_node_get_object (answer);
  if (object == NULL || !json_object_has_member (object, "code"))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "The portal's answer has no code");
      return NULL;
    }
  return g_strdup (json_object_get_string_member (object, "code"));
}

/* Runs @sql with the canonical code as ?1 and returns the first column of
 * the first row as text (or NULL). */
static char *
query_text (ImzalaTestPortal *self,
            const char       *sql,
            const char       *code,
            int               index)
{
  g_autoptr(GString) canonical = g_string_new (NULL);
  sqlite3 *db = NULL;
  sqlite3_stmt *statement = NULL;
  char *result = NULL;

  for (const char *p = code; *p != '\0'; p++)
    if (*p != '-')
      g_string_append_c (canonical, g_ascii_toupper (*p));

  if (sqlite3_open_v2 (self->db_path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
    g_error ("Cannot open %s: %s", self->db_path, sqlite3_errmsg (db));
  sqlite3_busy_timeout (db, 10000);
  if (sqlite3_prepare_v2 (db, sql, -1, &statement, NULL) != SQLITE_OK)
    g_error ("Cannot prepare %s: %s", sql, sqlite3_errmsg (db));
  sqlite3_bind_text (statement, 1, canonical->str, -1, SQLITE_TRANSIENT);
  if (index >= 0)
    sqlite3_bind_int (statement, 2, index);
  if (sqlite3_step (statement) == SQLITE_ROW && sqlite3_column_type (statement, 0) != SQLITE_NULL)
    result = g_strndup ((const char *) sqlite3_column_blob (statement, 0),
                        sqlite3_column_bytes (statement, 0));
  sqlite3_finalize (statement);
  sqlite3_close (db);
  return result;
}

char *
imzala_test_portal_get_state (ImzalaTestPortal *self,
                              const char       *code)
{
  return query_text (self,
                     "SELECT state FROM requests WHERE replace (upper (code), '-', '') = ?1",
                     code, -1);
}

guint
imzala_test_portal_count_signatures (ImzalaTestPortal *self,
                                     const char       *code)
{
  g_autofree char *count = query_text (self,
                                       "SELECT CAST (count (*) AS TEXT) FROM signatures s "
                                       "JOIN requests r ON r.id = s.request "
                                       "WHERE replace (upper (r.code), '-', '') = ?1",
                                       code, -1);

  return count != NULL ? (guint) g_ascii_strtoull (count, NULL, 10) : 0;
}

guint
imzala_test_portal_count_events (ImzalaTestPortal *self,
                                 const char       *code,
                                 const char       *kind)
{
  g_autofree char *sql = NULL;
  g_autofree char *count = NULL;

  /* @kind is one of the portal's own event names, never user input. */
  sql = g_strdup_printf ("SELECT CAST (count (*) AS TEXT) FROM events e "
                         "JOIN requests r ON r.id = e.request "
                         "WHERE replace (upper (r.code), '-', '') = ?1 AND e.kind = '%s'",
                         kind);
  count = query_text (self, sql, code, -1);
  return count != NULL ? (guint) g_ascii_strtoull (count, NULL, 10) : 0;
}

char *
imzala_test_portal_get_eonay (ImzalaTestPortal *self)
{
  /* query_text() binds the "code" as ?1 without its dashes: the T.C. kimlik
   * no has none. */
  return query_text (self, "SELECT eonay FROM persons WHERE tckn = ?1",
                     IMZALA_TEST_PORTAL_TCKN, -1);
}

char *
imzala_test_portal_get_text (ImzalaTestPortal *self,
                             const char       *code,
                             guint             index)
{
  return query_text (self,
                     "SELECT t.content FROM request_texts t "
                     "JOIN requests r ON r.id = t.request "
                     "WHERE replace (upper (r.code), '-', '') = ?1 AND t.idx = ?2",
                     code, (int) index);
}
