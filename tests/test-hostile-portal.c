/* test-hostile-portal.c: the client against a portal that attacks it
 * (issue 11): answers nested 1.5 million deep, an answer that drips one byte
 * every 5 s, messages with U+2028 and bidi overrides, a 1 MB title, format
 * characters in texts and titles, an unblock for a card whose PIN is not
 * locked, the last PUK try, and a portal that speaks only TLS 1.0 and 1.1.
 *
 * The portal is a real HTTPS server in the test: a GThreadedSocketService
 * on 127.0.0.1 speaking TLS with a certificate from a CA that openssl makes
 * at test time, and writing its HTTP answers by hand, so that it can send
 * what no well-behaved server library would (a body that never ends). The
 * client is the real one: ImzalaPortalClient in this process, and the
 * imzala-cli binary over the fault module (count-calls tells whether the
 * card was touched).
 */
#define G_LOG_DOMAIN "test-hostile-portal"

#include "config.h"

#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <glib-unix.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include "imzala-test.h"

/* The codes the hostile portal knows, each with its own attack. */
#define CODE_DEEP       "DEEP00000001"
#define CODE_DRIP       "DR1P00000001"
#define CODE_MESSAGE    "MESSAGE00001"
#define CODE_TITLE      "T1T1E0000001"
#define CODE_SEPARATOR  "SEPARAT00001"
#define CODE_UNBLOCK    "VNB10CK00001"
#define CODE_EMPTY      "EMPTY0000001"
#define CODE_HTML       "HTM100000001"
#define CODE_CHARSET    "CHARSET00001"

#define DEEP_ANSWER_DEPTH 1500000
#define DRIP_TIMEOUT_MS   "2000"

/* ---- TLS, made with the openssl command ---- */

static char *tls_dir;
static char *tls_ca;
static GTlsCertificate *tls_certificate;

static void
run_openssl (const char *const *args)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autofree char *err = NULL;
  g_autoptr(GError) error = NULL;
  int status;

  g_ptr_array_add (argv, (char *) "openssl");
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (char *) args[i]);
  g_ptr_array_add (argv, NULL);
  g_spawn_sync (tls_dir, (char **) argv->pdata, NULL,
                G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, NULL, &err,
                &status, &error);
  g_assert_no_error (error);
  if (!g_spawn_check_wait_status (status, NULL))
    g_error ("openssl %s failed: %s", args[0], err);
}

static void
make_tls (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *ext = NULL;
  g_autofree char *cert = NULL;
  g_autofree char *key = NULL;
  const char *const ca_args[] = {
    "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
    "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=Hostile Portal CA",
    "-addext", "basicConstraints=critical,CA:TRUE",
    "-addext", "keyUsage=critical,keyCertSign,cRLSign", NULL
  };
  const char *const csr_args[] = {
    "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
    "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1", NULL
  };
  const char *const sign_args[] = {
    "x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
    "-set_serial", "4711", "-days", "2", "-out", "server.pem", "-extfile", "server.ext", NULL
  };

  tls_dir = g_dir_make_tmp ("imzala-test-hostile-XXXXXX", &error);
  g_assert_no_error (error);
  ext = g_build_filename (tls_dir, "server.ext", NULL);
  g_file_set_contents (ext,
                       "subjectAltName=IP:127.0.0.1\n"
                       "basicConstraints=critical,CA:FALSE\n"
                       "keyUsage=critical,digitalSignature\n"
                       "extendedKeyUsage=serverAuth\n", -1, &error);
  g_assert_no_error (error);
  run_openssl (ca_args);
  run_openssl (csr_args);
  run_openssl (sign_args);
  tls_ca = g_build_filename (tls_dir, "ca.pem", NULL);
  cert = g_build_filename (tls_dir, "server.pem", NULL);
  key = g_build_filename (tls_dir, "server.key", NULL);
  tls_certificate = g_tls_certificate_new_from_files (cert, key, &error);
  g_assert_no_error (error);
}

static void
remove_tls (void)
{
  g_autoptr(GDir) dir = g_dir_open (tls_dir, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (tls_dir, name, NULL);
      g_unlink (path);
    }
  g_rmdir (tls_dir);
}

/* ---- The hostile portal ---- */

static struct
{
  GSocketService *service;
  guint           port;
  char           *base_url;
  char           *host;       /* 127.0.0.1:PORT, the "portal" of its requests */
  char           *puk;        /* what POST .../unblock releases */
  GMutex          lock;
  GPtrArray      *hits;       /* "METHOD PATH", guarded by lock */
} portal;

static void
record_hit (const char *method,
            const char *path)
{
  g_mutex_lock (&portal.lock);
  g_ptr_array_add (portal.hits, g_strdup_printf ("%s %s", method, path));
  g_mutex_unlock (&portal.lock);
}

static guint
count_hits (const char *hit)
{
  guint n = 0;

  g_mutex_lock (&portal.lock);
  for (guint i = 0; i < portal.hits->len; i++)
    if (g_str_equal (g_ptr_array_index (portal.hits, i), hit))
      n++;
  g_mutex_unlock (&portal.lock);
  return n;
}

static char *
format_time (GDateTime *time)
{
  return g_date_time_format (time, "%Y-%m-%dT%H:%M:%SZ");
}

/* A protocol v1 request for @code, every rule kept except where the caller
 * puts a hostile @title or @text_body. */
static char *
request_json (const char *code,
              const char *purpose,
              const char *title,
              const char *text_title,
              const char *text_body)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autoptr(GDateTime) later = g_date_time_add_seconds (now, 300);
  g_autofree char *created = format_time (now);
  g_autofree char *expires = format_time (later);
  g_autofree char *display = imzala_portal_format_code (code);
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autoptr(JsonNode) root = NULL;
  guint8 nonce[16];

  for (guint i = 0; i < sizeof nonce; i++)
    nonce[i] = (guint8) g_random_int_range (0, 256);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "version");
  json_builder_add_int_value (builder, 1);
  json_builder_set_member_name (builder, "code");
  json_builder_add_string_value (builder, code);
  json_builder_set_member_name (builder, "purpose");
  json_builder_add_string_value (builder, purpose);
  json_builder_set_member_name (builder, "portal");
  json_builder_add_string_value (builder, portal.host);
  json_builder_set_member_name (builder, "title");
  json_builder_add_string_value (builder, title);
  json_builder_set_member_name (builder, "created_at");
  json_builder_add_string_value (builder, created);
  json_builder_set_member_name (builder, "expires_at");
  json_builder_add_string_value (builder, expires);
  json_builder_set_member_name (builder, "server_time");
  json_builder_add_string_value (builder, created);
  json_builder_set_member_name (builder, "nonce");
  {
    g_autofree char *encoded = g_base64_encode (nonce, sizeof nonce);
    json_builder_add_string_value (builder, encoded);
  }
  json_builder_set_member_name (builder, "texts");
  json_builder_begin_array (builder);
  if (text_body != NULL)
    {
      g_autofree char *text = g_strdup_printf ("%s\n\nİşlem: %s / %s / %s", text_body, portal.host,
                                               display, created);
      g_autofree char *encoded = g_base64_encode ((const guchar *) text, strlen (text));

      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "title");
      json_builder_add_string_value (builder, text_title);
      json_builder_set_member_name (builder, "media_type");
      json_builder_add_string_value (builder, "text/plain; charset=utf-8");
      json_builder_set_member_name (builder, "content");
      json_builder_add_string_value (builder, encoded);
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
  json_builder_end_object (builder);

  root = json_builder_get_root (builder);
  json_generator_set_root (generator, root);
  return json_generator_to_data (generator, NULL);
}

static char *
deep_json (gsize depth)
{
  char *text = g_malloc (2 * depth + 1);

  memset (text, '[', depth);
  memset (text + depth, ']', depth);
  text[2 * depth] = '\0';
  return text;
}

static gboolean
write_text (GOutputStream *out,
            const char    *text,
            gsize          length)
{
  return g_output_stream_write_all (out, text, length, NULL, NULL, NULL);
}

static void
answer_typed (GOutputStream *out,
              guint          status,
              const char    *content_type,
              const char    *body)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *date = g_date_time_format (now, "%a, %d %b %Y %H:%M:%S GMT");
  g_autofree char *head = g_strdup_printf ("HTTP/1.1 %u Answer\r\n"
                                           "Content-Type: %s\r\n"
                                           "Content-Length: %" G_GSIZE_FORMAT "\r\n"
                                           "Date: %s\r\n"
                                           "Connection: close\r\n\r\n",
                                           status, content_type, strlen (body), date);

  if (write_text (out, head, strlen (head)))
    write_text (out, body, strlen (body));
}

static void
answer (GOutputStream *out,
        guint          status,
        const char    *body)
{
  answer_typed (out, status, "application/json", body);
}

/* Announces 64 bytes and sends one every 5 s: no single read ever waits
 * long, so only a total time limit ends it. Ends when the client has gone. */
static void
drip (GOutputStream *out)
{
  const char *head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                     "Content-Length: 64\r\nConnection: close\r\n\r\n";

  if (!write_text (out, head, strlen (head)))
    return;
  for (guint i = 0; i < 64; i++)
    {
      if (!write_text (out, " ", 1) || !g_output_stream_flush (out, NULL, NULL))
        return;
      g_usleep (5 * G_USEC_PER_SEC);
    }
}

static void
serve (GOutputStream *out,
       const char    *method,
       const char    *path)
{
  const char *prefix = "/api/v1/requests/";
  g_autofree char *code = NULL;
  const char *suffix;

  record_hit (method, path);
  if (!g_str_has_prefix (path, prefix))
    {
      answer (out, 404, "{\"error\": {\"code\": \"not-found\"}}");
      return;
    }
  code = g_strndup (path + strlen (prefix), 12);
  suffix = path + strlen (prefix) + strlen (code);

  if (g_str_equal (code, CODE_DEEP))
    {
      g_autofree char *deep = deep_json (DEEP_ANSWER_DEPTH);
      answer (out, 200, deep);
    }
  else if (g_str_equal (code, CODE_DRIP))
    drip (out);
  else if (g_str_equal (code, CODE_EMPTY))
    answer (out, 200, "");
  else if (g_str_equal (code, CODE_HTML) || g_str_equal (code, CODE_CHARSET))
    {
      /* A request that is right in every other way. */
      g_autofree char *json = request_json (code, "login", "E-imzalı Giriş", "Metin", "Giriş");
      answer_typed (out, 200, g_str_equal (code, CODE_HTML) ? "text/html"
                                                            : "application/json; charset=iso-8859-9",
                    json);
    }
  else if (g_str_equal (code, CODE_MESSAGE))
    /* A raw U+2028, a right-to-left override and a C1 CSI: the portal
     * tries to print a line of its own. */
    answer (out, 404, "{\"error\": {\"code\": \"code-unknown\", \"message\": "
                      "\"Kod bulunamad\xc4\xb1.\xe2\x80\xa8\xc4\xb0\xc5\x9flem tamamland\xc4\xb1"
                      "\xe2\x80\xae\xc2\x9b""2K\"}}");
  else if (g_str_equal (code, CODE_TITLE))
    {
      g_autofree char *title = g_strnfill (1024 * 1024, 'A');
      g_autofree char *json = request_json (code, "login", title, "Metin", "Giriş");
      answer (out, 200, json);
    }
  else if (g_str_equal (code, CODE_SEPARATOR))
    {
      g_autofree char *json = request_json (code, "login", "E-imzalı Giriş", "Metin",
                                            "Tutar: 10 TL\xe2\x80\xa8Tutar: 10000 TL");
      answer (out, 200, json);
    }
  else if (g_str_equal (code, CODE_UNBLOCK) && *suffix == '\0')
    {
      g_autofree char *json = request_json (code, "unblock", "Kilit Çözme", NULL, NULL);
      answer (out, 200, json);
    }
  else if (g_str_equal (code, CODE_UNBLOCK) && g_str_equal (suffix, "/unblock"))
    {
      g_autofree char *json = g_strdup_printf ("{\"version\": 1, \"puk\": \"%s\"}", portal.puk);
      answer (out, 200, json);
    }
  else if (g_str_equal (code, CODE_UNBLOCK) && g_str_equal (suffix, "/unblock-result"))
    answer (out, 200, "{\"version\": 1, \"status\": \"recorded\", "
                      "\"message\": \"Kartınızın kilidi çözüldü.\"}");
  else
    answer (out, 404, "{\"error\": {\"code\": \"code-unknown\"}}");
}

/* One connection, on a thread of the service: TLS, one request, one answer. */
static gboolean
run_cb (GThreadedSocketService *service,
        GSocketConnection      *connection,
        GObject                *source,
        gpointer                user_data)
{
  g_autoptr(GIOStream) tls = NULL;
  g_autoptr(GString) head = g_string_new (NULL);
  g_auto(GStrv) lines = NULL;
  g_auto(GStrv) request_line = NULL;
  GInputStream *in;
  gsize content_length = 0;

  tls = g_tls_server_connection_new (G_IO_STREAM (connection), tls_certificate, NULL);
  if (tls == NULL || !g_tls_connection_handshake (G_TLS_CONNECTION (tls), NULL, NULL))
    return TRUE;
  in = g_io_stream_get_input_stream (tls);

  while (!g_str_has_suffix (head->str, "\r\n\r\n") && head->len < 64 * 1024)
    {
      char c;

      if (g_input_stream_read (in, &c, 1, NULL, NULL) != 1)
        return TRUE;
      g_string_append_c (head, c);
    }
  lines = g_strsplit (head->str, "\r\n", -1);
  request_line = g_strsplit (lines[0], " ", 3);
  if (g_strv_length (request_line) < 2)
    return TRUE;
  for (guint i = 1; lines[i] != NULL; i++)
    if (g_ascii_strncasecmp (lines[i], "content-length:", 15) == 0)
      content_length = g_ascii_strtoull (lines[i] + 15, NULL, 10);
  if (content_length > 0 && content_length < 1024 * 1024)
    {
      g_autofree char *body = g_malloc (content_length);
      if (!g_input_stream_read_all (in, body, content_length, NULL, NULL, NULL))
        return TRUE;
    }

  serve (g_io_stream_get_output_stream (tls), request_line[0], request_line[1]);
  g_io_stream_close (tls, NULL, NULL);
  return TRUE;
}

static void
portal_start (void)
{
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) effective = NULL;
  g_autoptr(GError) error = NULL;

  g_mutex_init (&portal.lock);
  portal.hits = g_ptr_array_new_with_free_func (g_free);
  /* Enough threads for a drip that is still sleeping while the next test
   * runs. */
  portal.service = g_threaded_socket_service_new (16);
  g_socket_listener_add_address (G_SOCKET_LISTENER (portal.service), address,
                                 G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL,
                                 &effective, &error);
  g_assert_no_error (error);
  portal.port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (effective));
  portal.host = g_strdup_printf ("127.0.0.1:%u", portal.port);
  portal.base_url = g_strdup_printf ("https://127.0.0.1:%u", portal.port);
  g_signal_connect (portal.service, "run", G_CALLBACK (run_cb), NULL);
  g_socket_service_start (portal.service);
}

static void
portal_reset_hits (void)
{
  g_mutex_lock (&portal.lock);
  g_ptr_array_set_size (portal.hits, 0);
  g_mutex_unlock (&portal.lock);
}

/* ---- The client in this process ---- */

typedef struct
{
  GAsyncResult *result;
} Wait;

static void
done_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  Wait *wait = user_data;
  wait->result = g_object_ref (result);
}

static ImzalaRequest *
fetch (const char *code,
       guint       total_timeout_ms,
       GError    **error)
{
  g_autoptr(ImzalaPortalClient) client = imzala_portal_client_new (portal.base_url, tls_ca, error);
  Wait wait = { NULL };
  ImzalaRequest *request;

  g_assert_nonnull (client);
  if (total_timeout_ms > 0)
    imzala_portal_client_set_total_timeout (client, total_timeout_ms);
  imzala_portal_fetch_request_async (IMZALA_PORTAL (client), code, NULL, done_cb, &wait);
  while (wait.result == NULL)
    g_main_context_iteration (NULL, TRUE);
  request = imzala_portal_fetch_request_finish (IMZALA_PORTAL (client), wait.result, error);
  g_object_unref (wait.result);
  return request;
}

/* ---- imzala-cli ---- */

typedef struct
{
  int   status;
  char *out;
  char *err;
} CliResult;

static void
cli_result_free (CliResult *result)
{
  g_free (result->out);
  g_free (result->err);
  g_free (result);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CliResult, cli_result_free)

typedef struct
{
  gboolean done;
  char    *out;
  char    *err;
} CliRun;

static void
cli_done_cb (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  CliRun *run = user_data;

  g_subprocess_communicate_utf8_finish (G_SUBPROCESS (source), result, &run->out, &run->err, NULL);
  run->done = TRUE;
}

/* imzala-cli with @args (NULL-terminated) over the fault module with
 * @faults and count-calls (the counts in @count_file); @secrets (nullable,
 * one per line) on fd 3. */
static CliResult *
run_cli_args (const char        *faults,
              const char        *count_file,
              const char        *secrets,
              const char *const *args)
{
  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                                                       G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *all_faults = g_strconcat (faults, faults[0] != '\0' ? "," : "", "count-calls", NULL);
  CliResult *result = g_new0 (CliResult, 1);
  CliRun run = { FALSE, NULL, NULL };

  g_ptr_array_add (argv, (char *) g_getenv ("IMZALA_CLI"));
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (char *) args[i]);
  g_ptr_array_add (argv, NULL);

  g_subprocess_launcher_setenv (launcher, "IMZALA_FAULTS", all_faults, TRUE);
  g_subprocess_launcher_setenv (launcher, "IMZALA_FAULT_COUNT_FILE", count_file, TRUE);
  g_subprocess_launcher_setenv (launcher, "IMZALA_PORTAL_CLIENT_TIMEOUT_MS", DRIP_TIMEOUT_MS, TRUE);
  if (secrets != NULL)
    {
      int fds[2];

      g_assert_true (g_unix_open_pipe (fds, FD_CLOEXEC, NULL));
      g_assert_cmpint (write (fds[1], secrets, strlen (secrets)), ==, (gssize) strlen (secrets));
      close (fds[1]);
      g_subprocess_launcher_take_fd (launcher, fds[0], 3);
    }

  process = g_subprocess_launcher_spawnv (launcher, (const char *const *) argv->pdata, &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8_async (process, NULL, NULL, cli_done_cb, &run);
  while (!run.done)
    g_main_context_iteration (NULL, TRUE);

  result->status = g_subprocess_get_if_exited (process) ? g_subprocess_get_exit_status (process) : -1;
  result->out = run.out != NULL ? run.out : g_strdup ("");
  result->err = run.err != NULL ? run.err : g_strdup ("");
  g_test_message ("imzala-cli exit %d\nstdout:\n%s\nstderr:\n%s", result->status, result->out,
                  result->err);
  return result;
}

/* `imzala-cli portal --code @code` against the hostile portal; @secret
 * (nullable) on fd 3, for --new-pin-fd 3. @extra: more arguments. */
static CliResult *
run_cli (ImzalaTestFixture *fixture,
         const char        *faults,
         const char        *count_file,
         const char        *code,
         const char        *secret,
         const char        *const *extra)
{
  g_autoptr(GPtrArray) args = g_ptr_array_new ();
  g_autofree char *line = secret != NULL ? g_strconcat (secret, "\n", NULL) : NULL;
  const char *const fixed[] = {
    "portal", "--portal", portal.base_url, "--portal-ca", tls_ca, "--code", code,
    "--no-registered", "--module", g_getenv ("IMZALA_FAULT_MODULE"), NULL
  };

  for (guint i = 0; fixed[i] != NULL; i++)
    g_ptr_array_add (args, (char *) fixed[i]);
  for (guint i = 0; extra != NULL && extra[i] != NULL; i++)
    g_ptr_array_add (args, (char *) extra[i]);
  g_ptr_array_add (args, NULL);
  return run_cli_args (faults, count_file, line, (const char *const *) args->pdata);
}

typedef struct
{
  ImzalaTestFixture *fixture;
  char              *count_file;
} Fixture;

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  f->fixture = imzala_test_fixture_new ();
  /* One card: the card to unblock is then the only one. */
  imzala_test_fixture_remove_token (f->fixture, "IMZALA TEST 2");
  imzala_test_fixture_remove_token (f->fixture, "IMZALA TEST BOS");
  f->count_file = g_build_filename (f->fixture->dir, "counts.txt", NULL);
  g_free (portal.puk);
  portal.puk = imzala_test_fixture_get (f->fixture, "fixture", "so-pin");
  portal_reset_hits ();
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  g_free (f->count_file);
  imzala_test_fixture_free (f->fixture);
}

static guint
count_calls (Fixture    *f,
             const char *name)
{
  g_autoptr(GHashTable) counts = imzala_test_read_fault_counts (f->count_file);

  return imzala_test_fault_count (counts, name);
}

/* ---- The attacks ---- */

/* 1.5 million nested arrays (3 MB, under the 4 MiB cap) crashed the client
 * in json-glib's recursion. Now: a protocol error, before any card call. */
static void
test_deep_answer (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(ImzalaRequest) request = fetch (CODE_DEEP, 0, &error);
  g_autoptr(CliResult) cli = NULL;

  g_assert_null (request);
  g_assert_error (error, IMZALA_ERROR, IMZALA_ERROR_PROTOCOL);

  cli = run_cli (f->fixture, "", f->count_file, CODE_DEEP, NULL, NULL);
  g_assert_cmpint (cli->status, ==, 5);
  g_assert_nonnull (strstr (cli->err, "The portal sent an answer that İmzala cannot accept."));
  g_assert_cmpuint (count_hits ("GET /api/v1/requests/" CODE_DEEP), ==, 2);
  g_assert_cmpuint (count_calls (f, "C_Finalize"), ==, 1);
  g_assert_cmpuint (count_calls (f, "C_Login"), ==, 0);
  g_assert_cmpuint (count_calls (f, "C_Sign"), ==, 0);
}

/* An answer that drips one byte every 5 s: the per-read timeout never
 * fires, the total limit (2 s here) does. */
static void
test_drip (Fixture       *f,
           gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(ImzalaRequest) request = fetch (CODE_DRIP, 2000, &error);
  g_autoptr(CliResult) cli = NULL;

  g_assert_null (request);
  g_assert_error (error, IMZALA_ERROR, IMZALA_ERROR_NETWORK);
  g_assert_nonnull (strstr (error->message, "did not answer in time"));

  cli = run_cli (f->fixture, "", f->count_file, CODE_DRIP, NULL, NULL);
  g_assert_cmpint (cli->status, ==, 5);
  g_assert_nonnull (strstr (cli->err, "did not answer in time"));
}

/* A portal message with U+2028, a bidi override and a C1 CSI, which tried
 * to print "İşlem tamamlandı" as a line of its own: İmzala's own sentence
 * is shown, and none of those characters reaches the terminal. */
static void
test_message (Fixture       *f,
              gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(ImzalaRequest) request = fetch (CODE_MESSAGE, 0, &error);
  g_autoptr(CliResult) cli = NULL;

  g_assert_null (request);
  g_assert_error (error, IMZALA_ERROR, IMZALA_ERROR_CODE_UNKNOWN);
  g_assert_cmpstr (error->message, ==,
                   "The portal does not know this verification code. Check the code and try again.");

  cli = run_cli (f->fixture, "", f->count_file, CODE_MESSAGE, NULL, NULL);
  g_assert_cmpint (cli->status, ==, 5);
  g_assert_nonnull (strstr (cli->err, "does not know this verification code"));
  g_assert_null (strstr (cli->err, "İşlem tamamlandı"));
  g_assert_null (strstr (cli->err, "\xe2\x80\xa8"));
  g_assert_null (strstr (cli->err, "\xe2\x80\xae"));
  g_assert_null (strstr (cli->err, "\xc2\x9b"));
  g_assert_null (strstr (cli->out, "İşlem tamamlandı"));
}

/* A 1 MB title is refused, and so is a text with a line separator in it
 * (which a label shows as a line break the terminal does not). */
static void
test_title_and_separator (Fixture       *f,
                          gconstpointer  data)
{
  const char *codes[] = { CODE_TITLE, CODE_SEPARATOR };

  for (guint i = 0; i < G_N_ELEMENTS (codes); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(ImzalaRequest) request = fetch (codes[i], 0, &error);
      g_autoptr(CliResult) cli = NULL;

      g_assert_null (request);
      g_assert_error (error, IMZALA_ERROR, IMZALA_ERROR_PROTOCOL);

      cli = run_cli (f->fixture, "", f->count_file, codes[i], NULL, NULL);
      g_assert_cmpint (cli->status, ==, 5);
      g_assert_nonnull (strstr (cli->err, "The portal sent an answer that İmzala cannot accept."));
      g_assert_null (strstr (cli->out, "BEGIN TEXT"));
      g_assert_cmpuint (count_calls (f, "C_Login"), ==, 0);
    }
}

/* An empty answer, and answers that are not application/json with charset
 * UTF-8 (or none), are protocol errors, however good the JSON in them. */
static void
test_empty_and_media_types (Fixture       *f,
                            gconstpointer  data)
{
  const char *codes[] = { CODE_EMPTY, CODE_HTML, CODE_CHARSET };

  for (guint i = 0; i < G_N_ELEMENTS (codes); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(ImzalaRequest) request = fetch (codes[i], 0, &error);

      g_test_message ("%s", codes[i]);
      g_assert_null (request);
      g_assert_error (error, IMZALA_ERROR, IMZALA_ERROR_PROTOCOL);
    }
}

/* Every character that is not shown as itself is refused in a text and in
 * a title (Cf, Zl, Zp, controls), from the answer's bytes. */
static void
test_format_characters (void)
{
  static const char *hostile[] = {
    "\xe2\x80\xa8", /* U+2028 LINE SEPARATOR (Zl) */
    "\xe2\x80\xa9", /* U+2029 PARAGRAPH SEPARATOR (Zp) */
    "\xe2\x80\x8b", /* U+200B ZERO WIDTH SPACE (Cf) */
    "\xe2\x80\x8f", /* U+200F RIGHT-TO-LEFT MARK (Cf) */
    "\xef\xbb\xbf", /* U+FEFF BYTE ORDER MARK (Cf) */
    "\xe2\x80\xae", /* U+202E RIGHT-TO-LEFT OVERRIDE (Cf) */
    "\xe2\x81\xa6", /* U+2066 LEFT-TO-RIGHT ISOLATE (Cf) */
    "\xc2\xad",     /* U+00AD SOFT HYPHEN (Cf) */
    "\xc2\x85",     /* U+0085 NEXT LINE (C1) */
    "\x7f",         /* DEL */
    "\r",
    "\x1b[2K",
  };

  g_free (portal.host);
  portal.host = g_strdup ("portal.example:8443");
  for (guint i = 0; i < G_N_ELEMENTS (hostile) * 3; i++)
    {
      const char *c = hostile[i / 3];
      g_autofree char *title = g_strdup_printf ("E-imzalı%sGiriş", c);
      g_autofree char *body = g_strdup_printf ("Tutar: 10%s TL", c);
      g_autofree char *json = NULL;
      g_autoptr(GBytes) bytes = NULL;
      g_autoptr(GError) error = NULL;
      g_autoptr(ImzalaRequest) request = NULL;

      json = i % 3 == 0 ? request_json ("ABCDEFGHJKMN", "login", title, "Metin", "Tutar: 10 TL")
           : i % 3 == 1 ? request_json ("ABCDEFGHJKMN", "login", "Giriş", title, "Tutar: 10 TL")
                        : request_json ("ABCDEFGHJKMN", "login", "Giriş", "Metin", body);
      bytes = g_bytes_new (json, strlen (json));
      g_test_message ("character %u, place %u", i / 3, i % 3);
      request = imzala_portal_answer_parse_request (bytes, portal.host, "ABCDEFGHJKMN", NULL, &error);
      g_assert_null (request);
      g_assert_error (error, IMZALA_ERROR, IMZALA_ERROR_PROTOCOL);
    }

  /* Turkish letters, tabs and 200 characters are fine; 201 are not. */
  for (guint length = 199; length <= 201; length++)
    {
      g_autofree char *title = g_strnfill (length - 1, 'x');
      g_autofree char *full = g_strconcat ("İ", title, NULL);
      g_autofree char *json = request_json ("ABCDEFGHJKMN", "login", full, "Metin\tç", "Şu metin: ğüşıöç");
      g_autoptr(GBytes) bytes = g_bytes_new (json, strlen (json));
      g_autoptr(GError) error = NULL;
      g_autoptr(ImzalaRequest) request = NULL;

      request = imzala_portal_answer_parse_request (bytes, portal.host, "ABCDEFGHJKMN", NULL, &error);
      if (length <= 200)
        {
          g_assert_no_error (error);
          g_assert_nonnull (request);
        }
      else
        {
          g_assert_null (request);
          g_assert_error (error, IMZALA_ERROR, IMZALA_ERROR_PROTOCOL);
        }
    }
  g_free (portal.host);
  portal.host = g_strdup_printf ("127.0.0.1:%u", portal.port);
}

/* A portal asks to unblock a card whose PIN works: İmzala refuses before
 * the PUK is asked for, and the card sees no login of any kind. */
static void
test_unblock_not_locked (Fixture       *f,
                         gconstpointer  data)
{
  g_autoptr(CliResult) cli = run_cli (f->fixture, "", f->count_file, CODE_UNBLOCK, "246810",
                                      (const char *const[]) { "--new-pin-fd", "3", NULL });

  g_assert_cmpint (cli->status, ==, 3);
  g_assert_nonnull (strstr (cli->err, "is not locked"));
  g_assert_cmpuint (count_hits ("GET /api/v1/requests/" CODE_UNBLOCK), ==, 1);
  g_assert_cmpuint (count_hits ("POST /api/v1/requests/" CODE_UNBLOCK "/unblock"), ==, 0);
  g_assert_cmpuint (count_calls (f, "C_Finalize"), ==, 1);
  g_assert_cmpuint (count_calls (f, "C_Login"), ==, 0);
  g_assert_cmpuint (count_calls (f, "C_InitPIN"), ==, 0);
  g_assert_cmpuint (count_calls (f, "C_SetPIN"), ==, 0);
}

/* The same through the job in this process, over the real client. */
static void
test_unblock_not_locked_job (Fixture       *f,
                             gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(ImzalaModuleSet) modules = imzala_test_fault_load (f->fixture, "count-calls",
                                                               f->count_file, &error);
  g_autoptr(ImzalaPortalClient) client = imzala_portal_client_new (portal.base_url, tls_ca, &error);
  g_autoptr(ImzalaSigningJob) job = NULL;
  g_autoptr(ImzalaSecret) new_pin = imzala_test_secret ("246810");
  ImzalaSigningJob *last;
  GPtrArray *tokens;

  g_assert_no_error (error);
  job = imzala_signing_job_new (IMZALA_PORTAL (client), modules);
  imzala_signing_job_start (job, CODE_UNBLOCK);
  while (imzala_signing_job_get_state (job) == IMZALA_JOB_STATE_FETCHING ||
         imzala_signing_job_get_tokens_loading (job))
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpint (imzala_signing_job_get_state (job), ==, IMZALA_JOB_STATE_CHOOSING);
  tokens = imzala_signing_job_get_tokens (job);
  g_assert_true (imzala_signing_job_set_token (job, g_ptr_array_index (tokens, 0)));

  imzala_signing_job_unblock (job, new_pin);
  g_assert_cmpint (imzala_signing_job_get_state (job), ==, IMZALA_JOB_STATE_CHOOSING);
  g_assert_error ((GError *) imzala_signing_job_get_error (job), IMZALA_ERROR,
                  IMZALA_ERROR_PIN_NOT_LOCKED);
  g_assert_cmpuint (count_hits ("POST /api/v1/requests/" CODE_UNBLOCK "/unblock"), ==, 0);

  imzala_signing_job_cancel (job);
  last = job;
  g_object_add_weak_pointer (G_OBJECT (last), (gpointer *) &last);
  g_clear_object (&job);
  while (last != NULL)
    g_main_context_iteration (NULL, TRUE);
  imzala_test_modules_unref_and_wait (g_steal_pointer (&modules));
  g_assert_cmpuint (count_calls (f, "C_Login"), ==, 0);
  g_assert_cmpuint (count_calls (f, "C_InitPIN"), ==, 0);
}

/* One PUK try left: imzala-cli says so and does not use it without
 * --last-try (nothing asked of the portal, nothing tried on the card);
 * with --last-try the card is unblocked with the released PUK. */
static void
test_unblock_last_try (Fixture       *f,
                       gconstpointer  data)
{
  g_autoptr(CliResult) refused = NULL;
  g_autoptr(CliResult) unblocked = NULL;

  refused = run_cli (f->fixture, "pin-locked,puk-final-try", f->count_file, CODE_UNBLOCK, "246810",
                     (const char *const[]) { "--new-pin-fd", "3", NULL });
  g_assert_cmpint (refused->status, ==, 3);
  g_assert_nonnull (strstr (refused->err, "final PUK try"));
  g_assert_nonnull (strstr (refused->err, "--last-try"));
  g_assert_cmpuint (count_hits ("POST /api/v1/requests/" CODE_UNBLOCK "/unblock"), ==, 0);
  g_assert_cmpuint (count_calls (f, "C_Login"), ==, 0);

  unblocked = run_cli (f->fixture, "pin-locked,puk-final-try", f->count_file, CODE_UNBLOCK, "246810",
                       (const char *const[]) { "--new-pin-fd", "3", "--last-try", NULL });
  g_assert_cmpint (unblocked->status, ==, 0);
  g_assert_nonnull (strstr (unblocked->out, "Kartınızın kilidi çözüldü."));
  g_assert_cmpuint (count_hits ("POST /api/v1/requests/" CODE_UNBLOCK "/unblock"), ==, 1);
  g_assert_cmpuint (count_hits ("POST /api/v1/requests/" CODE_UNBLOCK "/unblock-result"), ==, 1);
  g_assert_cmpuint (count_calls (f, "C_Login"), ==, 1);
  g_assert_cmpuint (count_calls (f, "C_InitPIN"), ==, 1);
}

/* `imzala-cli unblock-pin` with the user's own PUK: the last try is not
 * used without --last-try (the card sees no login), and is with it. */
static void
test_unblock_pin_last_try (Fixture       *f,
                           gconstpointer  data)
{
  g_autofree char *puk = imzala_test_fixture_get (f->fixture, "fixture", "so-pin");
  g_autofree char *secrets = g_strdup_printf ("%s\n246810\n", puk);
  const char *module = g_getenv ("IMZALA_FAULT_MODULE");
  g_autoptr(CliResult) refused = NULL;
  g_autoptr(CliResult) unblocked = NULL;

  refused = run_cli_args ("pin-locked,puk-final-try", f->count_file, secrets,
                          (const char *const[]) { "unblock-pin", "--token", "IMZALA TEST 1",
                                                  "--puk-fd", "3", "--new-pin-fd", "3",
                                                  "--no-registered", "--module", module, NULL });
  g_assert_cmpint (refused->status, ==, 3);
  g_assert_nonnull (strstr (refused->err, "--last-try"));
  g_assert_cmpuint (count_calls (f, "C_Login"), ==, 0);

  unblocked = run_cli_args ("pin-locked,puk-final-try", f->count_file, secrets,
                            (const char *const[]) { "unblock-pin", "--token", "IMZALA TEST 1",
                                                    "--puk-fd", "3", "--new-pin-fd", "3",
                                                    "--last-try", "--no-registered", "--module",
                                                    module, NULL });
  g_assert_cmpint (unblocked->status, ==, 0);
  g_assert_cmpuint (count_calls (f, "C_Login"), ==, 1);
  g_assert_cmpuint (count_calls (f, "C_InitPIN"), ==, 1);
}

/* `imzala-cli portal` against gnutls-serv with @priority (its log in
 * @log_path when not NULL), the server stopped once the client ended;
 * *@port is the port it had. NULL, the test skipped, when gnutls-serv is
 * not installed. */
static CliResult *
cli_against_gnutls_serv (Fixture    *f,
                         const char *priority,
                         const char *log_path,
                         guint      *port)
{
  g_autofree char *cert = g_build_filename (tls_dir, "server.pem", NULL);
  g_autofree char *key = g_build_filename (tls_dir, "server.key", NULL);
  g_autoptr(GSubprocess) server = NULL;
  g_autofree char *url = NULL;
  CliResult *cli;

  server = imzala_test_start_tls_server (cert, key, priority, log_path, port);
  if (server == NULL)
    {
      g_test_skip ("gnutls-serv is not installed (gnutls-bin)");
      return NULL;
    }
  url = g_strdup_printf ("https://127.0.0.1:%u", *port);
  {
    const char *const args[] = { "portal", "--portal", url, "--portal-ca", tls_ca, "--code", CODE_DEEP,
                                 "--no-registered", "--module", g_getenv ("IMZALA_FAULT_MODULE"), NULL };

    cli = run_cli_args ("", f->count_file, NULL, args);
  }
  g_subprocess_force_exit (server);
  g_subprocess_wait (server, NULL, NULL);
  return cli;
}

/* A portal that speaks only TLS 1.0 and 1.1 (SHA-1 signatures, AES-CBC):
 * imzala-cli does not connect to it (TLS 1.2 and 1.3 only,
 * imzala_http_init_tls_policy()) and says so, before any card call. The
 * same server with TLS 1.2 is connected to: its answer is no portal's. */
static void
test_old_tls (Fixture       *f,
              gconstpointer  data)
{
  const char *const priorities[] = { "NORMAL:-VERS-ALL:+VERS-TLS1.1:+VERS-TLS1.0",
                                     "NORMAL:-VERS-ALL:+VERS-TLS1.2" };

  for (guint i = 0; i < G_N_ELEMENTS (priorities); i++)
    {
      g_autoptr(CliResult) cli = NULL;
      g_autofree char *refused = NULL;
      guint port;

      cli = cli_against_gnutls_serv (f, priorities[i], NULL, &port);
      if (cli == NULL)
        return;
      refused = g_strdup_printf ("A secure connection to the portal at 127.0.0.1:%u could not be made.", port);
      g_assert_cmpint (cli->status, ==, 5);
      if (i == 0)
        g_assert_nonnull (strstr (cli->err, refused));
      else
        {
          g_assert_null (strstr (cli->err, refused));
          g_assert_nonnull (strstr (cli->err, "The portal sent an answer that İmzala cannot accept."));
        }
      g_assert_cmpuint (count_calls (f, "C_Login"), ==, 0);
      g_assert_cmpuint (count_calls (f, "C_Sign"), ==, 0);
    }
}

/* imzala-cli's key exchange (IMZALA_HTTP_TLS_PRIORITY): a TLS 1.3 server
 * that offers P-256 first but follows the client's order, as the portal's
 * does, agrees X25519 with it (GnuTLS's own order would make it P-256);
 * one that offers P-256 alone is still connected to with P-256, with the
 * key share sent beside X25519's. gnutls-serv's log says what was agreed. */
static void
test_tls_key_exchange (Fixture       *f,
                       gconstpointer  data)
{
  const char *const priorities[] = { "NORMAL:-VERS-ALL:+VERS-TLS1.3",
                                     "NORMAL:-VERS-ALL:+VERS-TLS1.3:-GROUP-ALL:+GROUP-SECP256R1" };
  const char *const agreed[] = { "-(ECDHE-X25519)-", "-(ECDHE-SECP256R1)-" };
  g_autofree char *log_path = g_build_filename (tls_dir, "gnutls-serv.log", NULL);

  for (guint i = 0; i < G_N_ELEMENTS (priorities); i++)
    {
      g_autoptr(CliResult) cli = NULL;
      g_autoptr(GError) error = NULL;
      g_autofree char *log = NULL;
      guint port;

      cli = cli_against_gnutls_serv (f, priorities[i], log_path, &port);
      if (cli == NULL)
        return;
      /* Connected: the answer is gnutls-serv's page, no portal's. */
      g_assert_cmpint (cli->status, ==, 5);
      g_assert_nonnull (strstr (cli->err, "The portal sent an answer that İmzala cannot accept."));
      g_file_get_contents (log_path, &log, NULL, &error);
      g_assert_no_error (error);
      g_test_message ("%s: %s", priorities[i], log);
      g_assert_nonnull (strstr (log, "- Description: (TLS1.3-X.509)"));
      g_assert_nonnull (strstr (log, agreed[i]));
      g_assert_null (strstr (log, agreed[1 - i]));
      g_unlink (log_path);
    }
}

int
main (int argc, char **argv)
{
  int status;

  g_test_init (&argc, &argv, NULL);
  make_tls ();
  portal_start ();

#define ADD(path, func) g_test_add (path, Fixture, NULL, fixture_setup, func, fixture_teardown)
  ADD ("/hostile-portal/deep-answer", test_deep_answer);
  ADD ("/hostile-portal/drip", test_drip);
  ADD ("/hostile-portal/message", test_message);
  ADD ("/hostile-portal/title-and-separator", test_title_and_separator);
  ADD ("/hostile-portal/empty-and-media-types", test_empty_and_media_types);
  g_test_add_func ("/hostile-portal/format-characters", test_format_characters);
  ADD ("/hostile-portal/unblock-not-locked", test_unblock_not_locked);
  ADD ("/hostile-portal/unblock-not-locked-job", test_unblock_not_locked_job);
  ADD ("/hostile-portal/unblock-last-try", test_unblock_last_try);
  ADD ("/hostile-portal/unblock-pin-last-try", test_unblock_pin_last_try);
  ADD ("/hostile-portal/old-tls", test_old_tls);
  ADD ("/hostile-portal/tls-key-exchange", test_tls_key_exchange);
#undef ADD

  status = g_test_run ();
  g_socket_service_stop (portal.service);
  g_socket_listener_close (G_SOCKET_LISTENER (portal.service));
  remove_tls ();
  return status;
}
