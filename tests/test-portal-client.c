/* test-portal-client.c: the protocol v1 client and the signing job against a
 * real HTTPS server in the test.
 *
 * The server is a SoupServer on 127.0.0.1 with a TLS certificate issued, at
 * test time, by a CA that openssl makes in a temporary folder (plus a second,
 * unrelated CA). It implements the client endpoints of docs/protocol.md just
 * far enough to answer, and checks the signatures it receives with the core
 * verifier against the SoftHSM fixture's root CA. The full end-to-end tests
 * against the real imzala-portal live with the portal.
 */
#define G_LOG_DOMAIN "test-portal-client"

#include "config.h"

#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <glib-unix.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>
#include <glib/gstdio.h>

#include "imzala-http-session.h"
#include "imzala-test.h"
#include "imzala-test-pki.h"

/* ---- A test PKI for TLS, made with the openssl command ---- */

typedef struct
{
  char *dir;
  char *ca_a;          /* the portal's CA (trusted with --portal-ca) */
  char *server_a_cert; /* 127.0.0.1, issued by CA A */
  char *server_a_key;
  char *ca_b;          /* an unrelated CA */
  char *server_b_cert; /* 127.0.0.1, issued by CA B */
  char *server_b_key;
} TlsPki;

static TlsPki *tls_pki;

static void
run_openssl (const char *dir,
             const char *const *args)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autofree char *err = NULL;
  g_autoptr(GError) error = NULL;
  int status;

  g_ptr_array_add (argv, (char *) "openssl");
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (char *) args[i]);
  g_ptr_array_add (argv, NULL);

  g_spawn_sync (dir, (char **) argv->pdata, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL,
                NULL, NULL, NULL, &err, &status, &error);
  g_assert_no_error (error);
  if (!g_spawn_check_wait_status (status, NULL))
    g_error ("openssl %s failed: %s", args[0], err);
}

static void
make_ca_and_server (const char *dir,
                    const char *name)
{
  g_autofree char *ca_key = g_strdup_printf ("%s-ca.key", name);
  g_autofree char *ca_pem = g_strdup_printf ("%s-ca.pem", name);
  g_autofree char *ca_subject = g_strdup_printf ("/CN=Imzala Test Portal CA %s", name);
  g_autofree char *key = g_strdup_printf ("%s-server.key", name);
  g_autofree char *csr = g_strdup_printf ("%s-server.csr", name);
  g_autofree char *pem = g_strdup_printf ("%s-server.pem", name);
  const char *const ca_args[] = {
    "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
    "-keyout", ca_key, "-out", ca_pem, "-days", "2", "-subj", ca_subject,
    "-addext", "basicConstraints=critical,CA:TRUE",
    "-addext", "keyUsage=critical,keyCertSign,cRLSign", NULL
  };
  const char *const csr_args[] = {
    "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
    "-keyout", key, "-out", csr, "-subj", "/CN=127.0.0.1", NULL
  };
  /* Only an IP address in the certificate: connecting by the name
   * "localhost" must then fail the identity check. */
  const char *const sign_args[] = {
    "x509", "-req", "-in", csr, "-CA", ca_pem, "-CAkey", ca_key, "-set_serial", "4242",
    "-days", "2", "-out", pem, "-extfile", "server.ext", NULL
  };

  run_openssl (dir, ca_args);
  run_openssl (dir, csr_args);
  run_openssl (dir, sign_args);
}

static TlsPki *
tls_pki_new (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *ext = NULL;
  TlsPki *pki = g_new0 (TlsPki, 1);

  pki->dir = g_dir_make_tmp ("imzala-test-tls-XXXXXX", &error);
  g_assert_no_error (error);
  ext = g_build_filename (pki->dir, "server.ext", NULL);
  g_file_set_contents (ext,
                       "subjectAltName=IP:127.0.0.1\n"
                       "basicConstraints=critical,CA:FALSE\n"
                       "keyUsage=critical,digitalSignature\n"
                       "extendedKeyUsage=serverAuth\n", -1, &error);
  g_assert_no_error (error);

  make_ca_and_server (pki->dir, "a");
  make_ca_and_server (pki->dir, "b");
  pki->ca_a = g_build_filename (pki->dir, "a-ca.pem", NULL);
  pki->server_a_cert = g_build_filename (pki->dir, "a-server.pem", NULL);
  pki->server_a_key = g_build_filename (pki->dir, "a-server.key", NULL);
  pki->ca_b = g_build_filename (pki->dir, "b-ca.pem", NULL);
  pki->server_b_cert = g_build_filename (pki->dir, "b-server.pem", NULL);
  pki->server_b_key = g_build_filename (pki->dir, "b-server.key", NULL);
  return pki;
}

static void
tls_pki_free (TlsPki *pki)
{
  g_autoptr(GDir) dir = g_dir_open (pki->dir, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (pki->dir, name, NULL);
      g_unlink (path);
    }
  g_rmdir (pki->dir);
  g_free (pki->dir);
  g_free (pki->ca_a);
  g_free (pki->server_a_cert);
  g_free (pki->server_a_key);
  g_free (pki->ca_b);
  g_free (pki->server_b_cert);
  g_free (pki->server_b_key);
  g_free (pki);
}

/* ---- The in-test portal ---- */

typedef enum
{
  BEHAVIOUR_NORMAL,
  BEHAVIOUR_ERROR,          /* answer status + error JSON */
  BEHAVIOUR_HUGE,           /* a 5 MiB answer with Content-Length */
  BEHAVIOUR_HUGE_CHUNKED,   /* a 5 MiB answer without Content-Length */
  BEHAVIOUR_OTHER_PORTAL,   /* "portal" names another host */
  BEHAVIOUR_NO_REFERENCE,   /* a text without the reference line */
  BEHAVIOUR_BAD_BASE64,     /* a text whose content is not base64 */
} Behaviour;

typedef struct
{
  char          *code;
  ImzalaPurpose  purpose;
  Behaviour      behaviour;
  guint          status;    /* BEHAVIOUR_ERROR */
  char          *symbol;    /* BEHAVIOUR_ERROR, nullable */
  char          *message;   /* BEHAVIOUR_ERROR, nullable */
  char          *created;
  char          *expires;
  char          *nonce;     /* base64 */
  GPtrArray     *texts;     /* GBytes, reference line included */
  char          *tckn;      /* the requester */
  char          *serial;    /* the card registered to the requester (unblock) */
  char          *puk;
  gboolean       done;
  gboolean       released;
  int            reported;  /* -1 not yet, 0 failure, 1 success */
} TestRequest;

typedef struct
{
  SoupServer *server;
  guint       port;
  char       *base_url;
  char       *authority;
  GHashTable *requests;    /* code → TestRequest */
  X509_STORE *trust;       /* the SoftHSM fixture's root */
  guint       hits;
  GHashTable *connections; /* the client ports requests came from */
} TestPortal;

static void
test_request_free (TestRequest *request)
{
  g_free (request->code);
  g_free (request->symbol);
  g_free (request->message);
  g_free (request->created);
  g_free (request->expires);
  g_free (request->nonce);
  g_clear_pointer (&request->texts, g_ptr_array_unref);
  g_free (request->tckn);
  g_free (request->serial);
  g_free (request->puk);
  g_free (request);
}

static char *
rfc3339 (GDateTime *time)
{
  g_autoptr(GDateTime) utc = g_date_time_to_utc (time);
  return g_date_time_format (utc, "%Y-%m-%dT%H:%M:%SZ");
}

static void
reply_json (SoupServerMessage *message,
            guint              status,
            JsonBuilder       *builder)
{
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autoptr(JsonNode) root = json_builder_get_root (builder);
  g_autofree char *text = NULL;
  gsize length;

  json_generator_set_root (generator, root);
  text = json_generator_to_data (generator, &length);
  soup_server_message_set_status (message, status, NULL);
  soup_server_message_set_response (message, "application/json; charset=utf-8",
                                    SOUP_MEMORY_COPY, text, length);
}

static void
reply_error (SoupServerMessage *message,
             guint              status,
             const char        *symbol,
             const char        *text)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "error");
  json_builder_begin_object (builder);
  if (symbol != NULL)
    {
      json_builder_set_member_name (builder, "code");
      json_builder_add_string_value (builder, symbol);
    }
  if (text != NULL)
    {
      json_builder_set_member_name (builder, "message");
      json_builder_add_string_value (builder, text);
    }
  json_builder_end_object (builder);
  json_builder_end_object (builder);
  reply_json (message, status, builder);
}

static void
reply_huge (SoupServerMessage *message,
            gboolean           chunked)
{
  SoupMessageBody *body = soup_server_message_get_response_body (message);
  gsize length = 5 * 1024 * 1024;
  char *data = g_malloc (length);

  memset (data, ' ', length);
  data[0] = '{';
  data[length - 1] = '}';
  soup_server_message_set_status (message, SOUP_STATUS_OK, NULL);
  soup_message_headers_set_content_type (soup_server_message_get_response_headers (message),
                                         "application/json", NULL);
  if (chunked)
    soup_message_headers_set_encoding (soup_server_message_get_response_headers (message),
                                       SOUP_ENCODING_CHUNKED);
  soup_message_body_append_take (body, (guchar *) data, length);
  if (chunked)
    soup_message_body_complete (body);
}

static void
reply_request (TestPortal        *portal,
               SoupServerMessage *message,
               TestRequest       *request)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *server_time = rfc3339 (now);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "version");
  json_builder_add_int_value (builder, 1);
  json_builder_set_member_name (builder, "code");
  json_builder_add_string_value (builder, request->code);
  json_builder_set_member_name (builder, "purpose");
  json_builder_add_string_value (builder, imzala_purpose_to_string (request->purpose));
  json_builder_set_member_name (builder, "portal");
  json_builder_add_string_value (builder, request->behaviour == BEHAVIOUR_OTHER_PORTAL
                                 ? "portal.example.org" : portal->authority);
  json_builder_set_member_name (builder, "title");
  json_builder_add_string_value (builder, "E-imzalı Giriş");
  json_builder_set_member_name (builder, "created_at");
  json_builder_add_string_value (builder, request->created);
  json_builder_set_member_name (builder, "expires_at");
  json_builder_add_string_value (builder, request->expires);
  json_builder_set_member_name (builder, "server_time");
  json_builder_add_string_value (builder, server_time);
  json_builder_set_member_name (builder, "nonce");
  json_builder_add_string_value (builder, request->nonce);
  json_builder_set_member_name (builder, "texts");
  json_builder_begin_array (builder);
  for (guint i = 0; i < request->texts->len; i++)
    {
      GBytes *text = g_ptr_array_index (request->texts, i);
      g_autofree char *title = g_strdup_printf ("Metin %u", i + 1);
      g_autofree char *content = NULL;
      gsize length;
      const guchar *data = g_bytes_get_data (text, &length);

      if (request->behaviour == BEHAVIOUR_NO_REFERENCE)
        length -= 10;
      content = request->behaviour == BEHAVIOUR_BAD_BASE64
        ? g_strdup ("not base64!") : g_base64_encode (data, length);
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "title");
      json_builder_add_string_value (builder, title);
      json_builder_set_member_name (builder, "content");
      json_builder_add_string_value (builder, content);
      json_builder_set_member_name (builder, "media_type");
      json_builder_add_string_value (builder, "text/plain; charset=utf-8");
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
  json_builder_set_member_name (builder, "requester");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "name");
  json_builder_add_string_value (builder, "AYŞE YILMAZ");
  json_builder_set_member_name (builder, "tckn_hint");
  json_builder_add_string_value (builder, "123******50");
  json_builder_end_object (builder);
  json_builder_end_object (builder);
  reply_json (message, SOUP_STATUS_OK, builder);
}

static JsonObject *
parse_body (SoupServerMessage *message,
            JsonParser        *parser)
{
  SoupMessageBody *body = soup_server_message_get_request_body (message);
  JsonObject *root;

  if (!json_parser_load_from_data (parser, body->data, body->length, NULL) ||
      !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    return NULL;
  root = json_node_get_object (json_parser_get_root (parser));
  if (json_object_get_int_member_with_default (root, "version", 0) != 1)
    return NULL;
  return root;
}

/* What imzala-portal checks, in short (docs/protocol.md §8). */
static void
handle_signatures (TestPortal        *portal,
                   SoupServerMessage *message,
                   TestRequest       *request)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(JsonBuilder) builder = NULL;
  JsonObject *root = parse_body (message, parser);
  JsonArray *signatures;

  if (request->done)
    return reply_error (message, 409, "code-used", "Bu doğrulama kodu kullanılmış.");
  if (root == NULL ||
      g_strcmp0 (json_object_get_string_member_with_default (root, "nonce", ""), request->nonce) != 0 ||
      !json_object_has_member (root, "signatures"))
    return reply_error (message, 400, "malformed", "İstek hatalı.");
  signatures = json_object_get_array_member (root, "signatures");
  if (json_array_get_length (signatures) != request->texts->len)
    return reply_error (message, 400, "malformed", "İmza sayısı hatalı.");

  for (guint i = 0; i < request->texts->len; i++)
    {
      g_autoptr(ImzalaVerifyResult) result = NULL;
      g_autoptr(GBytes) cms = NULL;
      g_autoptr(GError) error = NULL;
      gsize length;
      guchar *data = g_base64_decode (json_array_get_string_element (signatures, i), &length);

      cms = g_bytes_new_take (data, length);
      result = imzala_cms_verify (cms, NULL, portal->trust, IMZALA_VERIFY_NONE, &error);
      if (result == NULL || result->detached ||
          !g_bytes_equal (result->content, g_ptr_array_index (request->texts, i)))
        {
          g_test_message ("signature %u refused: %s", i, error != NULL ? error->message : "content");
          return reply_error (message, 422, "signature-invalid", "İmza doğrulanamadı.");
        }
      if (g_strcmp0 (imzala_certificate_get_tckn (result->signer), request->tckn) != 0)
        return reply_error (message, 403, "signer-mismatch", "İmzalayan kişi başvuran değil.");
    }

  request->done = TRUE;
  builder = json_builder_new ();
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "version");
  json_builder_add_int_value (builder, 1);
  json_builder_set_member_name (builder, "status");
  json_builder_add_string_value (builder, "accepted");
  json_builder_set_member_name (builder, "message");
  json_builder_add_string_value (builder, "Giriş işleminiz tamamlanmıştır.");
  json_builder_end_object (builder);
  reply_json (message, SOUP_STATUS_OK, builder);
}

static void
handle_unblock (TestPortal        *portal,
                SoupServerMessage *message,
                TestRequest       *request)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(JsonBuilder) builder = NULL;
  JsonObject *root = parse_body (message, parser);

  if (request->purpose != IMZALA_PURPOSE_UNBLOCK || root == NULL ||
      g_strcmp0 (json_object_get_string_member_with_default (root, "nonce", ""), request->nonce) != 0)
    return reply_error (message, 400, "malformed", "İstek hatalı.");
  if (request->released)
    return reply_error (message, 409, "code-used", "Bu doğrulama kodu kullanılmış.");
  if (g_strcmp0 (json_object_get_string_member_with_default (root, "token_serial", ""), request->serial) != 0)
    return reply_error (message, 403, "wrong-card", "Bu kart size kayıtlı değil.");

  request->released = TRUE;
  builder = json_builder_new ();
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "version");
  json_builder_add_int_value (builder, 1);
  json_builder_set_member_name (builder, "puk");
  json_builder_add_string_value (builder, request->puk);
  json_builder_end_object (builder);
  reply_json (message, SOUP_STATUS_OK, builder);
}

static void
handle_unblock_result (TestPortal        *portal,
                       SoupServerMessage *message,
                       TestRequest       *request)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(JsonBuilder) builder = NULL;
  JsonObject *root = parse_body (message, parser);

  if (root == NULL || !request->released || request->reported != -1)
    return reply_error (message, 409, "code-used", "Bu doğrulama kodu kullanılmış.");

  request->reported = json_object_get_boolean_member_with_default (root, "success", FALSE) ? 1 : 0;
  builder = json_builder_new ();
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "version");
  json_builder_add_int_value (builder, 1);
  json_builder_set_member_name (builder, "status");
  json_builder_add_string_value (builder, "recorded");
  json_builder_set_member_name (builder, "message");
  json_builder_add_string_value (builder, "Kartınızın kilidi çözüldü.");
  json_builder_end_object (builder);
  reply_json (message, SOUP_STATUS_OK, builder);
}

static void
portal_handler (SoupServer        *server,
                SoupServerMessage *message,
                const char        *path,
                GHashTable        *query,
                gpointer           user_data)
{
  TestPortal *portal = user_data;
  const char *method = soup_server_message_get_method (message);
  g_auto(GStrv) parts = NULL;
  TestRequest *request;

  portal->hits++;
  /* One client port per TCP (and so TLS) connection. */
  g_hash_table_add (portal->connections,
                    GUINT_TO_POINTER (g_inet_socket_address_get_port (
                      G_INET_SOCKET_ADDRESS (soup_server_message_get_remote_address (message)))));
  parts = g_strsplit (path + strlen ("/api/v1/requests/"), "/", 2);
  request = g_hash_table_lookup (portal->requests, parts[0]);
  if (request == NULL)
    return reply_error (message, 404, "code-unknown", "Doğrulama kodu bulunamadı.");

  switch (request->behaviour)
    {
    case BEHAVIOUR_ERROR:
      if (request->symbol == NULL && request->message == NULL)
        {
          soup_server_message_set_status (message, request->status, NULL);
          soup_server_message_set_response (message, "text/html", SOUP_MEMORY_STATIC,
                                            "<h1>oops</h1>", 13);
        }
      else
        reply_error (message, request->status, request->symbol, request->message);
      return;
    case BEHAVIOUR_HUGE:
    case BEHAVIOUR_HUGE_CHUNKED:
      reply_huge (message, request->behaviour == BEHAVIOUR_HUGE_CHUNKED);
      return;
    default:
      break;
    }

  if (parts[1] == NULL && g_str_equal (method, "GET"))
    reply_request (portal, message, request);
  else if (g_strcmp0 (parts[1], "signatures") == 0 && g_str_equal (method, "POST"))
    handle_signatures (portal, message, request);
  else if (g_strcmp0 (parts[1], "unblock") == 0 && g_str_equal (method, "POST"))
    handle_unblock (portal, message, request);
  else if (g_strcmp0 (parts[1], "unblock-result") == 0 && g_str_equal (method, "POST"))
    handle_unblock_result (portal, message, request);
  else
    reply_error (message, 400, "malformed", "İstek hatalı.");
}

static TestPortal *
test_portal_new (const char *cert_file,
                 const char *key_file,
                 const char *trust_file)
{
  g_autoptr(GTlsCertificate) certificate = NULL;
  g_autoptr(GError) error = NULL;
  TestPortal *portal = g_new0 (TestPortal, 1);
  GSList *uris;

  certificate = g_tls_certificate_new_from_files (cert_file, key_file, &error);
  g_assert_no_error (error);
  portal->server = soup_server_new ("tls-certificate", certificate, NULL);
  soup_server_add_handler (portal->server, "/api/v1/requests/", portal_handler, portal, NULL);
  soup_server_listen_local (portal->server, 0,
                            SOUP_SERVER_LISTEN_HTTPS | SOUP_SERVER_LISTEN_IPV4_ONLY, &error);
  g_assert_no_error (error);

  uris = soup_server_get_uris (portal->server);
  g_assert_nonnull (uris);
  portal->port = g_uri_get_port (uris->data);
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);

  portal->base_url = g_strdup_printf ("https://127.0.0.1:%u", portal->port);
  portal->authority = g_strdup_printf ("127.0.0.1:%u", portal->port);
  portal->requests = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                            (GDestroyNotify) test_request_free);
  portal->connections = g_hash_table_new (NULL, NULL);
  if (trust_file != NULL)
    {
      portal->trust = imzala_cms_load_trust_file (trust_file, &error);
      g_assert_no_error (error);
    }
  return portal;
}

static void
test_portal_free (TestPortal *portal)
{
  soup_server_disconnect (portal->server);
  g_object_unref (portal->server);
  g_hash_table_unref (portal->requests);
  g_hash_table_unref (portal->connections);
  g_clear_pointer (&portal->trust, X509_STORE_free);
  g_free (portal->base_url);
  g_free (portal->authority);
  g_free (portal);
}

static char *
random_code (void)
{
  char code[IMZALA_PORTAL_CODE_LENGTH + 1];

  for (guint i = 0; i < IMZALA_PORTAL_CODE_LENGTH; i++)
    code[i] = IMZALA_PORTAL_CODE_ALPHABET[g_random_int_range (0, 32)];
  code[IMZALA_PORTAL_CODE_LENGTH] = '\0';
  return g_strdup (code);
}

/* Adds a request alive from @created_offset to @expires_offset seconds from
 * now, with the texts given (NULL-terminated), each completed with the
 * reference line. Returns the code (owned by the portal). */
static TestRequest *
test_portal_add (TestPortal    *portal,
                 ImzalaPurpose  purpose,
                 int            created_offset,
                 int            expires_offset,
                 const char    *first_text,
                 ...)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autoptr(GDateTime) created = g_date_time_add_seconds (now, created_offset);
  g_autoptr(GDateTime) expires = g_date_time_add_seconds (now, expires_offset);
  g_autofree char *display = NULL;
  TestRequest *request = g_new0 (TestRequest, 1);
  guint8 nonce[32];
  const char *text;
  va_list args;

  request->code = random_code ();
  request->purpose = purpose;
  request->created = rfc3339 (created);
  request->expires = rfc3339 (expires);
  for (guint i = 0; i < sizeof nonce; i++)
    nonce[i] = g_random_int_range (0, 256);
  request->nonce = g_base64_encode (nonce, sizeof nonce);
  request->tckn = g_strdup ("12345678950");
  request->reported = -1;
  request->texts = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);

  display = imzala_portal_format_code (request->code);
  va_start (args, first_text);
  for (text = first_text; text != NULL; text = va_arg (args, const char *))
    {
      char *full = g_strdup_printf ("%s\n\nİşlem: %s / %s / %s", text, portal->authority,
                                    display, request->created);
      g_ptr_array_add (request->texts, g_bytes_new_take (full, strlen (full)));
    }
  va_end (args);

  g_hash_table_insert (portal->requests, request->code, request);
  return request;
}

static TestRequest *
test_portal_add_behaviour (TestPortal *portal,
                           Behaviour   behaviour)
{
  TestRequest *request = test_portal_add (portal, IMZALA_PURPOSE_LOGIN, 0, 300, "Giriş", NULL);
  request->behaviour = behaviour;
  return request;
}

/* ---- Helpers ---- */

static void
ready_cb (GObject      *source,
          GAsyncResult *result,
          gpointer      user_data)
{
  *(GAsyncResult **) user_data = g_object_ref (result);
}

static GAsyncResult *
wait_result (GAsyncResult **slot)
{
  while (*slot == NULL)
    g_main_context_iteration (NULL, TRUE);
  return *slot;
}

static ImzalaRequest *
fetch (ImzalaPortalClient *client,
       const char         *code,
       GError            **error)
{
  GAsyncResult *result = NULL;
  ImzalaRequest *request;

  imzala_portal_fetch_request_async (IMZALA_PORTAL (client), code, NULL, ready_cb, &result);
  request = imzala_portal_fetch_request_finish (IMZALA_PORTAL (client), wait_result (&result), error);
  g_object_unref (result);
  return request;
}

/* ---- Tests without a network ---- */

static void
test_normalize_code (void)
{
  static const struct {
    const char *input;
    const char *expected; /* NULL: CODE_FORMAT */
  } cases[] = {
    { "ABCDEFGHJKMN", "ABCDEFGHJKMN" },
    { "ABCD-EFGH-JKMN", "ABCDEFGHJKMN" },
    { "abcd-efgh-jkmn", "ABCDEFGHJKMN" },
    { "  abcd efgh\tjkmn \n", "ABCDEFGHJKMN" },
    { "Doğrulama Kodu: ABCD-EFGH-JKMN", "ABCDEFGHJKMN" },
    { "kod:abcd-efgh-jkmn", "ABCDEFGHJKMN" },
    { "O0IL-oilx-1234", "0011011X1234" },
    { "0123-4567-89AB", "0123456789AB" },
    { "ABCD-EFGH-JKM", NULL },          /* 11 characters */
    { "ABCD-EFGH-JKMNP", NULL },        /* 13 characters */
    { "ABCD-EFGH-JKMU", NULL },         /* U is not in the alphabet */
    { "ABCD_EFGH_JKMN", NULL },
    { "ABCD.EFGH.JKMN", NULL },
    { "ABÇD-EFGH-JKMN", NULL },
    { "ABCD-EFGH-JKMN:", NULL },        /* nothing after the label */
    { "ABCD/EFGH/JKMN", NULL },
    { "../../admin", NULL },
    { "", NULL },
    { "------------", NULL },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *code = imzala_portal_normalize_code (cases[i].input, &error);

      g_test_message ("%s", cases[i].input);
      if (cases[i].expected != NULL)
        {
          g_assert_no_error (error);
          g_assert_cmpstr (code, ==, cases[i].expected);
        }
      else
        {
          g_assert_error (error, IMZALA_ERROR, IMZALA_ERROR_CODE_FORMAT);
          g_assert_null (code);
        }
    }

  {
    g_autofree char *display = imzala_portal_format_code ("ABCDEFGHJKMN");
    g_assert_cmpstr (display, ==, "ABCD-EFGH-JKMN");
  }
}

static gboolean
count_incoming_cb (GSocketService    *service,
                   GSocketConnection *connection,
                   GObject           *source,
                   gpointer           user_data)
{
  (*(guint *) user_data)++;
  return FALSE;
}

static void
test_insecure_url (void)
{
  static const char *const refused[] = {
    "http://", "HTTP://", "ftp://", "",
  };
  g_autoptr(GSocketService) service = g_socket_service_new ();
  g_autoptr(GError) error = NULL;
  guint connections = 0;
  guint16 port;

  /* A listener that counts connections, to show that a refused URL is
   * refused before anything is sent. */
  port = g_socket_listener_add_any_inet_port (G_SOCKET_LISTENER (service), NULL, &error);
  g_assert_no_error (error);
  g_signal_connect (service, "incoming", G_CALLBACK (count_incoming_cb), &connections);
  g_socket_service_start (service);

  for (guint i = 0; i < G_N_ELEMENTS (refused); i++)
    {
      g_autofree char *url = g_strdup_printf ("%s127.0.0.1:%u/", refused[i], port);
      g_autoptr(ImzalaPortalClient) client = NULL;
      g_autoptr(GError) local_error = NULL;

      client = imzala_portal_client_new (url, NULL, &local_error);
      g_assert_null (client);
      if (i < 3)
        g_assert_error (local_error, IMZALA_ERROR, IMZALA_ERROR_INSECURE_URL);
      else
        g_assert_nonnull (local_error);
    }

  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_assert_cmpuint (connections, ==, 0);

  {
    g_autoptr(ImzalaPortalClient) client = NULL;

    client = imzala_portal_client_new ("https://", NULL, &error);
    g_assert_error (error, IMZALA_ERROR, IMZALA_ERROR_FAILED);
    g_clear_error (&error);
    client = imzala_portal_client_new ("https://127.0.0.1/", "/nonexistent/ca.pem", &error);
    g_assert_error (error, IMZALA_ERROR, IMZALA_ERROR_TLS);
    g_clear_error (&error);
  }
}

/* ---- Tests against the in-test HTTPS portal ---- */

static void
test_fetch_with_portal_ca (void)
{
  TestPortal *portal = test_portal_new (tls_pki->server_a_cert, tls_pki->server_a_key, NULL);
  TestRequest *added = test_portal_add (portal, IMZALA_PURPOSE_APPLICATION, 0, 300,
                                        "Başvuru formu: AYŞE YILMAZ", "Taahhütname", NULL);
  g_autoptr(ImzalaPortalClient) client = NULL;
  g_autoptr(ImzalaRequest) request = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *typed = imzala_portal_format_code (added->code);
  g_autofree char *base_url = g_strdup_printf ("%s/", portal->base_url);
  g_autofree char *typed_lower = NULL;

  client = imzala_portal_client_new (base_url, tls_pki->ca_a, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (imzala_portal_get_host (IMZALA_PORTAL (client)), ==, portal->authority);

  /* The user types the grouped form in lower case. */
  typed_lower = g_ascii_strdown (typed, -1);
  request = fetch (client, typed_lower, &error);
  g_assert_no_error (error);
  g_assert_nonnull (request);
  g_assert_cmpstr (imzala_request_get_code (request), ==, added->code);
  g_assert_cmpint (imzala_request_get_purpose (request), ==, IMZALA_PURPOSE_APPLICATION);
  g_assert_cmpstr (imzala_request_get_portal_host (request), ==, portal->authority);
  g_assert_cmpstr (imzala_request_get_title (request), ==, "E-imzalı Giriş");
  g_assert_cmpstr (imzala_request_get_requester_name (request), ==, "AYŞE YILMAZ");
  g_assert_cmpstr (imzala_request_get_requester_hint (request), ==, "123******50");
  g_assert_cmpuint (imzala_request_get_n_texts (request), ==, 2);
  g_assert_cmpuint (g_bytes_get_size (imzala_request_get_nonce (request)), ==, 32);
  for (guint i = 0; i < 2; i++)
    {
      ImzalaRequestText *text = imzala_request_get_text (request, i);
      g_assert_true (g_bytes_equal (imzala_request_text_get_content (text),
                                    g_ptr_array_index (added->texts, i)));
      g_assert_nonnull (imzala_request_text_get_text (text));
    }
  g_assert_cmpint (imzala_request_get_remaining_seconds (request), >, 0);
  g_assert_cmpint (imzala_request_get_remaining_seconds (request), <=, 300);
  g_assert_false (imzala_request_is_expired (request));

  test_portal_free (portal);
}

/* A portal CA given as a relative path (as typed after --portal-ca) is
 * taken relative to the current folder. */
static void
test_relative_portal_ca (void)
{
  TestPortal *portal = test_portal_new (tls_pki->server_a_cert, tls_pki->server_a_key, NULL);
  TestRequest *added = test_portal_add (portal, IMZALA_PURPOSE_LOGIN, 0, 300, "Giriş", NULL);
  g_autoptr(ImzalaPortalClient) client = NULL;
  g_autoptr(ImzalaRequest) request = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *cwd = g_get_current_dir ();
  g_autofree char *ca_name = g_path_get_basename (tls_pki->ca_a);
  g_autofree char *ca_dir = g_path_get_dirname (tls_pki->ca_a);

  g_assert_cmpint (g_chdir (ca_dir), ==, 0);
  client = imzala_portal_client_new (portal->base_url, ca_name, &error);
  g_assert_cmpint (g_chdir (cwd), ==, 0);
  g_assert_no_error (error);

  request = fetch (client, added->code, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (imzala_request_get_code (request), ==, added->code);

  test_portal_free (portal);
}

static void
test_tls_untrusted (void)
{
  TestPortal *portal_a = test_portal_new (tls_pki->server_a_cert, tls_pki->server_a_key, NULL);
  TestPortal *portal_b = test_portal_new (tls_pki->server_b_cert, tls_pki->server_b_key, NULL);
  TestRequest *request_a = test_portal_add (portal_a, IMZALA_PURPOSE_LOGIN, 0, 300, "Giriş", NULL);
  TestRequest *request_b = test_portal_add (portal_b, IMZALA_PURPOSE_LOGIN, 0, 300, "Giriş", NULL);
  g_autofree char *localhost_url = g_strdup_printf ("https://localhost:%u", portal_a->port);
  struct {
    const char *url;
    const char *ca;
    const char *code;
  } cases[] = {
    /* No extra CA: the system store does not know CA A. */
    { portal_a->base_url, NULL, request_a->code },
    /* Server B's certificate is from another CA than the one configured. */
    { portal_b->base_url, tls_pki->ca_a, request_b->code },
    /* The right CA, but the certificate is for 127.0.0.1, not "localhost". */
    { localhost_url, tls_pki->ca_a, request_a->code },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(ImzalaPortalClient) client = NULL;
      g_autoptr(ImzalaRequest) request = NULL;
      g_autoptr(GError) error = NULL;

      g_test_message ("%s with %s", cases[i].url, cases[i].ca ? cases[i].ca : "the system store");
      client = imzala_portal_client_new (cases[i].url, cases[i].ca, &error);
      g_assert_no_error (error);
      request = fetch (client, cases[i].code, &error);
      g_assert_error (error, IMZALA_ERROR, IMZALA_ERROR_TLS);
      g_assert_null (request);
    }

  /* The handshake failed, so no HTTP request reached either server. */
  g_assert_cmpuint (portal_a->hits, ==, 0);
  g_assert_cmpuint (portal_b->hits, ==, 0);

  test_portal_free (portal_a);
  test_portal_free (portal_b);
}

static void
test_error_mapping (void)
{
  static const struct {
    guint       status;
    const char *symbol;
    const char *message;
    ImzalaError expected;
  } cases[] = {
    { 404, "code-unknown", "Doğrulama kodu bulunamadı.", IMZALA_ERROR_CODE_UNKNOWN },
    { 410, "code-expired", "Doğrulama kodunun süresi dolmuş.", IMZALA_ERROR_CODE_EXPIRED },
    { 409, "code-used", "Bu kod kullanılmış.", IMZALA_ERROR_CODE_USED },
    { 422, "signature-invalid", "İmza geçersiz.", IMZALA_ERROR_PORTAL_REJECTED },
    { 403, "signer-mismatch", "İmzalayan başvuran değil.", IMZALA_ERROR_SIGNER_MISMATCH },
    { 403, "wrong-card", "Kart size kayıtlı değil.", IMZALA_ERROR_SIGNER_MISMATCH },
    { 429, "rate-limited", "Çok fazla deneme.", IMZALA_ERROR_RATE_LIMITED },
    { 400, "malformed", "İstek hatalı.", IMZALA_ERROR_PROTOCOL },
    { 400, "unsupported-version", "Sürüm desteklenmiyor.", IMZALA_ERROR_PROTOCOL },
    { 413, "too-large", "İstek çok büyük.", IMZALA_ERROR_TOO_LARGE },
    { 500, "internal", "Sunucu hatası.", IMZALA_ERROR_PROTOCOL },
    { 418, "teapot", "Bilinmeyen.", IMZALA_ERROR_PORTAL_REJECTED },
    { 503, "overloaded", NULL, IMZALA_ERROR_PROTOCOL },
    { 410, "code-expired", NULL, IMZALA_ERROR_CODE_EXPIRED },
    { 502, NULL, NULL, IMZALA_ERROR_PROTOCOL },   /* not JSON at all */
    { 302, NULL, NULL, IMZALA_ERROR_PROTOCOL },   /* redirects are not followed */
  };
  TestPortal *portal = test_portal_new (tls_pki->server_a_cert, tls_pki->server_a_key, NULL);
  g_autoptr(ImzalaPortalClient) client = NULL;
  g_autoptr(GError) error = NULL;

  client = imzala_portal_client_new (portal->base_url, tls_pki->ca_a, &error);
  g_assert_no_error (error);

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      TestRequest *added = test_portal_add_behaviour (portal, BEHAVIOUR_ERROR);
      g_autoptr(ImzalaRequest) request = NULL;

      added->status = cases[i].status;
      added->symbol = g_strdup (cases[i].symbol);
      added->message = g_strdup (cases[i].message);
      g_test_message ("HTTP %u %s", cases[i].status, cases[i].symbol);

      request = fetch (client, added->code, &error);
      g_assert_null (request);
      g_assert_error (error, IMZALA_ERROR, (gint) cases[i].expected);
      /* The portal's own sentence is shown when it sent one; else ours. */
      if (cases[i].message != NULL)
        g_assert_cmpstr (error->message, ==, cases[i].message);
      else
        g_assert_cmpuint (strlen (error->message), >, 10);
      g_clear_error (&error);
    }

  /* An unknown code, straight from the portal's real 404 path. */
  {
    g_autoptr(ImzalaRequest) request = fetch (client, "ZZZZ-ZZZZ-ZZZZ", &error);
    g_assert_error (error, IMZALA_ERROR, IMZALA_ERROR_CODE_UNKNOWN);
    g_clear_error (&error);
  }

  test_portal_free (portal);
}

static void
test_refused_answers (void)
{
  static const struct {
    Behaviour   behaviour;
    ImzalaError expected;
  } cases[] = {
    { BEHAVIOUR_HUGE, IMZALA_ERROR_TOO_LARGE },
    { BEHAVIOUR_HUGE_CHUNKED, IMZALA_ERROR_TOO_LARGE },
    { BEHAVIOUR_OTHER_PORTAL, IMZALA_ERROR_PROTOCOL },
    { BEHAVIOUR_NO_REFERENCE, IMZALA_ERROR_PROTOCOL },
    { BEHAVIOUR_BAD_BASE64, IMZALA_ERROR_PROTOCOL },
  };
  TestPortal *portal = test_portal_new (tls_pki->server_a_cert, tls_pki->server_a_key, NULL);
  g_autoptr(ImzalaPortalClient) client = NULL;
  g_autoptr(GError) error = NULL;

  client = imzala_portal_client_new (portal->base_url, tls_pki->ca_a, &error);
  g_assert_no_error (error);

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      TestRequest *added = test_portal_add_behaviour (portal, cases[i].behaviour);
      g_autoptr(ImzalaRequest) request = NULL;

      g_test_message ("behaviour %d", cases[i].behaviour);
      request = fetch (client, added->code, &error);
      g_assert_null (request);
      g_assert_error (error, IMZALA_ERROR, (gint) cases[i].expected);
      g_clear_error (&error);
    }

  test_portal_free (portal);
}

/* A text that would look different on a terminal (or in a label) from the
 * bytes the card signs is refused: a carriage return that lets the rest of
 * the line overprint the start, an escape sequence, a bidirectional
 * override. A tab and line feeds are fine. */
static void
test_control_characters (void)
{
  static const char *refused[] = {
    "Ödenecek tutar: 10.000 TL\rÖdenecek tutar:     10 TL",
    "Sözleşmeyi kabul ediyorum.\x1b[1A\x1b[2KReddediyorum.",
    "Tutar: \xe2\x80\xae" "LT 0001",                /* U+202E */
    "Silme karakteri \x7f ile",
    "C1 denetim karakteri \xc2\x9b" "2J",            /* U+009B, CSI */
  };
  TestPortal *portal = test_portal_new (tls_pki->server_a_cert, tls_pki->server_a_key, NULL);
  g_autoptr(ImzalaPortalClient) client = NULL;
  g_autoptr(ImzalaRequest) accepted = NULL;
  g_autoptr(GError) error = NULL;
  TestRequest *added;

  client = imzala_portal_client_new (portal->base_url, tls_pki->ca_a, &error);
  g_assert_no_error (error);

  for (guint i = 0; i < G_N_ELEMENTS (refused); i++)
    {
      g_autoptr(ImzalaRequest) request = NULL;

      added = test_portal_add (portal, IMZALA_PURPOSE_CONSENT, 0, 300, refused[i], NULL);
      g_test_message ("text %u", i);
      request = fetch (client, added->code, &error);
      g_assert_null (request);
      g_assert_error (error, IMZALA_ERROR, IMZALA_ERROR_PROTOCOL);
      g_clear_error (&error);
    }

  added = test_portal_add (portal, IMZALA_PURPOSE_CONSENT, 0, 300,
                           "Ad\tAYŞE YILMAZ\nTutar\t10 TL", NULL);
  accepted = fetch (client, added->code, &error);
  g_assert_no_error (error);
  g_assert_nonnull (accepted);

  test_portal_free (portal);
}

/* ---- The signing job, with the SoftHSM fixture ---- */

typedef struct
{
  ImzalaTestFixture  *fixture;
  ImzalaModuleSet    *modules;
  TestPortal         *portal;
  ImzalaPortalClient *client;
  char               *user_pin;
  char               *so_pin;
} JobFixture;

static void
job_setup (JobFixture    *f,
           gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  f->fixture = imzala_test_fixture_new ();
  f->modules = imzala_test_fixture_load (f->fixture, &error);
  g_assert_no_error (error);
  f->portal = test_portal_new (tls_pki->server_a_cert, tls_pki->server_a_key,
                               f->fixture->root_ca_file);
  f->client = imzala_portal_client_new (f->portal->base_url, tls_pki->ca_a, &error);
  g_assert_no_error (error);
  f->user_pin = imzala_test_fixture_get (f->fixture, "fixture", "user-pin");
  f->so_pin = imzala_test_fixture_get (f->fixture, "fixture", "so-pin");
}

/* The fault module over the same SoftHSM with the card's PIN locked
 * ("pin-locked"): a portal's PUK is only used on such a card. imzala-cli
 * run by the test inherits IMZALA_FAULTS. */
static void
job_setup_pin_locked (JobFixture    *f,
                      gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  g_setenv ("IMZALA_FAULTS", "pin-locked", TRUE);
  f->fixture = imzala_test_fixture_new ();
  f->modules = imzala_test_fault_load (f->fixture, "pin-locked", NULL, &error);
  g_assert_no_error (error);
  f->portal = test_portal_new (tls_pki->server_a_cert, tls_pki->server_a_key,
                               f->fixture->root_ca_file);
  f->client = imzala_portal_client_new (f->portal->base_url, tls_pki->ca_a, &error);
  g_assert_no_error (error);
  f->user_pin = imzala_test_fixture_get (f->fixture, "fixture", "user-pin");
  f->so_pin = imzala_test_fixture_get (f->fixture, "fixture", "so-pin");
}

static void
job_teardown (JobFixture    *f,
              gconstpointer  data)
{
  g_unsetenv ("IMZALA_FAULTS");
  g_object_unref (f->client);
  test_portal_free (f->portal);
  imzala_test_modules_unref_and_wait (f->modules);
  imzala_test_fixture_free (f->fixture);
  g_free (f->user_pin);
  g_free (f->so_pin);
}

static gboolean
is_busy (ImzalaJobState state)
{
  return state == IMZALA_JOB_STATE_FETCHING || state == IMZALA_JOB_STATE_SIGNING ||
         state == IMZALA_JOB_STATE_SUBMITTING || state == IMZALA_JOB_STATE_UNBLOCKING;
}

/* In CHOOSING also waits for the job's first listing of the cards: CHOOSING
 * comes with the request, the tokens may come later ("tokens-loading"). */
static ImzalaJobState
wait_job (ImzalaSigningJob *job)
{
  while (is_busy (imzala_signing_job_get_state (job)) ||
         (imzala_signing_job_get_state (job) == IMZALA_JOB_STATE_CHOOSING &&
          imzala_signing_job_get_tokens_loading (job)))
    g_main_context_iteration (NULL, TRUE);
  return imzala_signing_job_get_state (job);
}

static ImzalaCertificate *
find_in_job (JobFixture       *f,
             ImzalaSigningJob *job,
             const char       *name)
{
  g_autofree char *fingerprint = imzala_test_fixture_cert_get (f->fixture, name, "fingerprint");
  GListModel *certificates = imzala_signing_job_get_certificates (job);

  for (guint i = 0; i < g_list_model_get_n_items (certificates); i++)
    {
      g_autoptr(ImzalaCertificate) certificate = g_list_model_get_item (certificates, i);

      if (g_strcmp0 (imzala_certificate_get_fingerprint (certificate), fingerprint) == 0)
        return certificate; /* the list keeps it alive */
    }
  return NULL;
}

static void
assert_openssl_verifies (JobFixture *f,
                         const char *file,
                         GBytes     *expected_content)
{
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr(GError) error = NULL;
  int status;
  const char *argv[] = {
    "openssl", "cms", "-verify", "-inform", "DER", "-in", file,
    "-CAfile", f->fixture->root_ca_file, "-purpose", "any", "-binary", NULL
  };

  g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL,
                &out, &err, &status, &error);
  g_assert_no_error (error);
  if (!g_spawn_check_wait_status (status, NULL))
    g_error ("openssl cms -verify failed: %s", err);
  g_assert_cmpmem (out, strlen (out), g_bytes_get_data (expected_content, NULL),
                   g_bytes_get_size (expected_content));
}

static void
test_job_sign (JobFixture    *f,
               gconstpointer  data)
{
  TestRequest *added = test_portal_add (f->portal, IMZALA_PURPOSE_APPLICATION, -5, 300,
                                        "Başvuru formu\nAd Soyad: AYŞE YILMAZ",
                                        "Sertifika Sahibi Taahhütnamesi", NULL);
  g_autoptr(ImzalaSigningJob) job = imzala_signing_job_new (IMZALA_PORTAL (f->client), f->modules);
  g_autoptr(ImzalaSecret) pin = imzala_test_secret (f->user_pin);
  g_autoptr(GError) error = NULL;
  g_autofree char *save_dir = NULL;
  g_auto(GStrv) written = NULL;
  ImzalaCertificate *certificate;
  GPtrArray *signatures;

  g_assert_cmpint (imzala_signing_job_get_state (job), ==, IMZALA_JOB_STATE_IDLE);
  imzala_signing_job_start (job, added->code);
  g_assert_cmpint (imzala_signing_job_get_state (job), ==, IMZALA_JOB_STATE_FETCHING);
  g_assert_cmpint (wait_job (job), ==, IMZALA_JOB_STATE_CHOOSING);

  g_assert_nonnull (imzala_signing_job_get_request (job));
  g_assert_cmpint (imzala_signing_job_get_remaining_seconds (job), >, 0);
  g_assert_nonnull (imzala_signing_job_get_tokens (job));
  /* Two recommended certificates of Ayşe plus Mehmet's: the requester's
   * (the hint names Ayşe) come first and the first of them is preselected
   * (issue 9); with the choice cleared the user has to choose. CA
   * certificates are not offered. */
  g_assert_nonnull (imzala_signing_job_get_certificate (job));
  g_assert_cmpstr (imzala_certificate_get_tckn (imzala_signing_job_get_certificate (job)), ==, "12345678950");
  g_assert_true (imzala_signing_job_set_certificate (job, NULL));
  g_assert_false (imzala_signing_job_can_sign (job, &error));
  g_assert_error (error, IMZALA_ERROR, IMZALA_ERROR_AMBIGUOUS_CERTIFICATE);
  g_clear_error (&error);
  for (guint i = 0; i < g_list_model_get_n_items (imzala_signing_job_get_certificates (job)); i++)
    {
      g_autoptr(ImzalaCertificate) candidate =
        g_list_model_get_item (imzala_signing_job_get_certificates (job), i);
      g_assert_false (imzala_certificate_is_ca (candidate));
    }

  /* The expired certificate is refused with a clear message. */
  certificate = find_in_job (f, job, "ayse-expired");
  g_assert_nonnull (certificate);
  g_assert_true (imzala_signing_job_set_certificate (job, certificate));
  imzala_signing_job_sign (job, pin);
  g_assert_cmpint (imzala_signing_job_get_state (job), ==, IMZALA_JOB_STATE_CHOOSING);
  g_assert_error ((GError *) imzala_signing_job_get_error (job), IMZALA_ERROR,
                  IMZALA_ERROR_CERTIFICATE_EXPIRED);

  certificate = find_in_job (f, job, "ayse-p384");
  g_assert_true (imzala_signing_job_set_certificate (job, certificate));
  g_assert_true (imzala_signing_job_can_sign (job, NULL));
  imzala_signing_job_sign (job, pin);
  g_assert_cmpint (imzala_signing_job_get_state (job), ==, IMZALA_JOB_STATE_SIGNING);
  g_assert_cmpint (wait_job (job), ==, IMZALA_JOB_STATE_DONE);

  g_assert_null (imzala_signing_job_get_error (job));
  g_assert_cmpstr (imzala_signing_job_get_result_message (job), ==, "Giriş işleminiz tamamlanmıştır.");
  g_assert_nonnull (imzala_signing_job_get_signed_at (job));
  g_assert_true (added->done);

  signatures = imzala_signing_job_get_signatures (job);
  g_assert_cmpuint (signatures->len, ==, 2);

  /* İmza İçeriği: one DER file per text, which openssl accepts. */
  save_dir = g_dir_make_tmp ("imzala-test-save-XXXXXX", &error);
  g_assert_no_error (error);
  written = imzala_signing_job_save_signatures (job, save_dir, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_strv_length (written), ==, 2);
  for (guint i = 0; i < 2; i++)
    {
      g_autofree char *saved = NULL;
      gsize length;

      g_assert_true (g_str_has_suffix (written[i], ".p7s"));
      g_file_get_contents (written[i], &saved, &length, &error);
      g_assert_no_error (error);
      g_assert_cmpmem (saved, length, g_bytes_get_data (g_ptr_array_index (signatures, i), NULL),
                       g_bytes_get_size (g_ptr_array_index (signatures, i)));
      assert_openssl_verifies (f, written[i], g_ptr_array_index (added->texts, i));
      g_unlink (written[i]);
    }
  g_rmdir (save_dir);
}

static void
test_job_wrong_pin (JobFixture    *f,
                    gconstpointer  data)
{
  TestRequest *added = test_portal_add (f->portal, IMZALA_PURPOSE_LOGIN, 0, 300, "Giriş", NULL);
  g_autoptr(ImzalaSigningJob) job = imzala_signing_job_new (IMZALA_PORTAL (f->client), f->modules);
  g_autoptr(ImzalaSecret) wrong = imzala_test_secret ("000000");
  g_autoptr(ImzalaSecret) pin = imzala_test_secret (f->user_pin);

  imzala_signing_job_start (job, added->code);
  g_assert_cmpint (wait_job (job), ==, IMZALA_JOB_STATE_CHOOSING);
  g_assert_true (imzala_signing_job_set_certificate (job, find_in_job (f, job, "ayse-rsa")));

  imzala_signing_job_sign (job, wrong);
  g_assert_cmpint (wait_job (job), ==, IMZALA_JOB_STATE_CHOOSING);
  g_assert_error ((GError *) imzala_signing_job_get_error (job), IMZALA_ERROR,
                  IMZALA_ERROR_PIN_INCORRECT);
  g_assert_false (added->done);

  /* The token list is read again; wait until the selection is back. */
  while (imzala_signing_job_get_certificate (job) == NULL)
    g_main_context_iteration (NULL, TRUE);
  imzala_signing_job_sign (job, pin);
  g_assert_cmpint (wait_job (job), ==, IMZALA_JOB_STATE_DONE);
  g_assert_null (imzala_signing_job_get_error (job));
  g_assert_true (added->done);
}

static void
test_job_signer_mismatch (JobFixture    *f,
                          gconstpointer  data)
{
  TestRequest *added = test_portal_add (f->portal, IMZALA_PURPOSE_CONSENT, 0, 300,
                                        "KABUL EDİYORUM", NULL);
  g_autoptr(ImzalaSigningJob) job = imzala_signing_job_new (IMZALA_PORTAL (f->client), f->modules);
  g_autoptr(ImzalaSecret) pin = imzala_test_secret (f->user_pin);

  /* Mehmet signs Ayşe's request: the portal refuses, the job fails with the
   * portal's sentence. */
  imzala_signing_job_start (job, added->code);
  g_assert_cmpint (wait_job (job), ==, IMZALA_JOB_STATE_CHOOSING);
  g_assert_true (imzala_signing_job_set_certificate (job, find_in_job (f, job, "mehmet-p256")));
  imzala_signing_job_sign (job, pin);
  g_assert_cmpint (wait_job (job), ==, IMZALA_JOB_STATE_FAILED);
  g_assert_error ((GError *) imzala_signing_job_get_error (job), IMZALA_ERROR,
                  IMZALA_ERROR_SIGNER_MISMATCH);
  g_assert_cmpstr (imzala_signing_job_get_error (job)->message, ==, "İmzalayan kişi başvuran değil.");
  g_assert_false (added->done);
}

static void
test_job_expired (JobFixture    *f,
                  gconstpointer  data)
{
  TestRequest *added = test_portal_add (f->portal, IMZALA_PURPOSE_LOGIN, -400, -100, "Giriş", NULL);
  g_autoptr(ImzalaSigningJob) job = imzala_signing_job_new (IMZALA_PORTAL (f->client), f->modules);

  /* The portal's clock says the request is over: no PIN is asked. */
  imzala_signing_job_start (job, added->code);
  g_assert_cmpint (wait_job (job), ==, IMZALA_JOB_STATE_FAILED);
  g_assert_error ((GError *) imzala_signing_job_get_error (job), IMZALA_ERROR,
                  IMZALA_ERROR_CODE_EXPIRED);
  g_assert_cmpint (imzala_signing_job_get_remaining_seconds (job), ==, 0);
}

static void
test_job_bad_code_and_cancel (JobFixture    *f,
                              gconstpointer  data)
{
  TestRequest *added = test_portal_add (f->portal, IMZALA_PURPOSE_LOGIN, 0, 300, "Giriş", NULL);
  g_autoptr(ImzalaSigningJob) job = imzala_signing_job_new (IMZALA_PORTAL (f->client), f->modules);
  g_autoptr(ImzalaSigningJob) job2 = imzala_signing_job_new (IMZALA_PORTAL (f->client), f->modules);

  imzala_signing_job_start (job, "ABCD-EFGH-JKMU");
  g_assert_cmpint (imzala_signing_job_get_state (job), ==, IMZALA_JOB_STATE_FAILED);
  g_assert_error ((GError *) imzala_signing_job_get_error (job), IMZALA_ERROR,
                  IMZALA_ERROR_CODE_FORMAT);

  imzala_signing_job_start (job2, added->code);
  g_assert_cmpint (wait_job (job2), ==, IMZALA_JOB_STATE_CHOOSING);
  imzala_signing_job_cancel (job2);
  g_assert_cmpint (imzala_signing_job_get_state (job2), ==, IMZALA_JOB_STATE_FAILED);
  g_assert_error ((GError *) imzala_signing_job_get_error (job2), G_IO_ERROR, G_IO_ERROR_CANCELLED);

  /* Only the second job's fetch reached the portal. */
  g_assert_cmpuint (f->portal->hits, ==, 1);
}

static ImzalaToken *
token_by_label (ImzalaSigningJob *job,
                const char       *label)
{
  GPtrArray *tokens = imzala_signing_job_get_tokens (job);

  for (guint i = 0; i < tokens->len; i++)
    if (g_strcmp0 (imzala_token_get_label (g_ptr_array_index (tokens, i)), label) == 0)
      return g_ptr_array_index (tokens, i);
  return NULL;
}

static void
test_job_unblock (JobFixture    *f,
                  gconstpointer  data)
{
  TestRequest *added = test_portal_add (f->portal, IMZALA_PURPOSE_UNBLOCK, 0, 300, NULL);
  g_autoptr(ImzalaSigningJob) job = imzala_signing_job_new (IMZALA_PORTAL (f->client), f->modules);
  g_autoptr(ImzalaSecret) new_pin = imzala_test_secret ("246810");
  g_autoptr(ImzalaSecret) old_pin = imzala_test_secret (f->user_pin);
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) content = g_bytes_new_static ("x", 1);
  g_autoptr(GBytes) cms = NULL;
  ImzalaToken *token;
  ImzalaCertificate *signer;

  added->serial = imzala_test_fixture_get (f->fixture, "token IMZALA TEST 1", "serial");
  added->puk = g_strdup (f->so_pin);

  imzala_signing_job_start (job, added->code);
  g_assert_cmpint (wait_job (job), ==, IMZALA_JOB_STATE_CHOOSING);
  g_assert_cmpint (imzala_request_get_purpose (imzala_signing_job_get_request (job)), ==,
                   IMZALA_PURPOSE_UNBLOCK);
  g_assert_cmpuint (imzala_request_get_n_texts (imzala_signing_job_get_request (job)), ==, 0);
  g_assert_false (imzala_signing_job_can_sign (job, NULL));

  token = token_by_label (job, "IMZALA TEST 1");
  g_assert_nonnull (token);
  g_assert_true (imzala_signing_job_set_token (job, token));
  imzala_signing_job_unblock (job, new_pin);
  g_assert_cmpint (wait_job (job), ==, IMZALA_JOB_STATE_DONE);
  g_assert_null (imzala_signing_job_get_error (job));
  g_assert_cmpstr (imzala_signing_job_get_result_message (job), ==, "Kartınızın kilidi çözüldü.");
  g_assert_true (added->released);
  g_assert_cmpint (added->reported, ==, 1);

  /* The card now takes the new PIN and refuses the old one. */
  signer = find_in_job (f, job, "ayse-rsa");
  token = imzala_module_set_find_token (imzala_signing_job_get_tokens (job), signer);
  cms = imzala_token_sign_cms (token, signer, new_pin, content, IMZALA_CMS_NONE, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (cms);
  g_clear_pointer (&cms, g_bytes_unref);
  cms = imzala_token_sign_cms (token, signer, old_pin, content, IMZALA_CMS_NONE, NULL, &error);
  g_assert_error (error, IMZALA_ERROR, IMZALA_ERROR_PIN_INCORRECT);
}

static void
test_job_unblock_wrong_card (JobFixture    *f,
                             gconstpointer  data)
{
  TestRequest *added = test_portal_add (f->portal, IMZALA_PURPOSE_UNBLOCK, 0, 300, NULL);
  g_autoptr(ImzalaSigningJob) job = imzala_signing_job_new (IMZALA_PORTAL (f->client), f->modules);
  g_autoptr(ImzalaSecret) new_pin = imzala_test_secret ("246810");

  added->serial = imzala_test_fixture_get (f->fixture, "token IMZALA TEST 1", "serial");
  added->puk = g_strdup (f->so_pin);

  imzala_signing_job_start (job, added->code);
  g_assert_cmpint (wait_job (job), ==, IMZALA_JOB_STATE_CHOOSING);

  /* With three cards in, the job does not guess which one to unlock. */
  imzala_signing_job_unblock (job, new_pin);
  g_assert_cmpint (imzala_signing_job_get_state (job), ==, IMZALA_JOB_STATE_CHOOSING);
  g_assert_error ((GError *) imzala_signing_job_get_error (job), IMZALA_ERROR,
                  IMZALA_ERROR_SEVERAL_TOKENS);

  g_assert_true (imzala_signing_job_set_token (job, token_by_label (job, "IMZALA TEST 2")));
  imzala_signing_job_unblock (job, new_pin);
  g_assert_cmpint (wait_job (job), ==, IMZALA_JOB_STATE_FAILED);
  g_assert_error ((GError *) imzala_signing_job_get_error (job), IMZALA_ERROR,
                  IMZALA_ERROR_SIGNER_MISMATCH);
  g_assert_false (added->released);
  g_assert_cmpint (added->reported, ==, -1);
}

/* ---- imzala-cli portal, run as a program against the same server ---- */

/* Runs imzala-cli with @args (NULL-terminated) while this thread keeps
 * serving the portal. @secret goes to fd 3 (--pin-fd 3 / --new-pin-fd 3).
 * Returns the exit status. */
/* What the last run_cli() wrote to stderr. */
static char *last_cli_stderr;

static int
run_cli (const char  *secret,
         char       **out,
         const char  *first_arg,
         ...)
{
  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                                                       G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *run_out = NULL;
  g_autofree char *run_err = NULL;
  const char *arg;
  va_list args;

  g_ptr_array_add (argv, (char *) g_getenv ("IMZALA_CLI"));
  g_ptr_array_add (argv, (char *) "portal");
  va_start (args, first_arg);
  for (arg = first_arg; arg != NULL; arg = va_arg (args, const char *))
    g_ptr_array_add (argv, (char *) arg);
  va_end (args);
  g_ptr_array_add (argv, NULL);

  if (secret != NULL)
    {
      int fds[2];

      g_assert_true (g_unix_open_pipe (fds, FD_CLOEXEC, NULL));
      g_assert_cmpint (write (fds[1], secret, strlen (secret)), ==, (gssize) strlen (secret));
      g_assert_cmpint (write (fds[1], "\n", 1), ==, 1);
      close (fds[1]);
      g_subprocess_launcher_take_fd (launcher, fds[0], 3);
    }

  process = g_subprocess_launcher_spawnv (launcher, (const char *const *) argv->pdata, &error);
  g_assert_no_error (error);
  imzala_test_communicate_serving (process, &run_out, &run_err);

  g_test_message ("imzala-cli stderr: %s", run_err);
  if (out != NULL)
    *out = g_steal_pointer (&run_out);
  g_free (last_cli_stderr);
  last_cli_stderr = g_steal_pointer (&run_err);
  return g_subprocess_get_exit_status (process);
}

static void
test_cli_sign (JobFixture    *f,
               gconstpointer  data)
{
  TestRequest *added = test_portal_add (f->portal, IMZALA_PURPOSE_LOGIN, 0, 300,
                                        "E-imzalı Giriş\nAYŞE YILMAZ olarak giriş", NULL);
  g_autofree char *fingerprint = imzala_test_fixture_cert_get (f->fixture, "ayse-rsa", "fingerprint");
  g_autofree char *display = imzala_portal_format_code (added->code);
  g_autofree char *parent_dir = NULL;
  g_autofree char *save_dir = NULL;
  g_autofree char *saved = NULL;
  g_autofree char *out = NULL;
  g_autoptr(GError) error = NULL;
  int status;

  parent_dir = g_dir_make_tmp ("imzala-test-cli-XXXXXX", &error);
  g_assert_no_error (error);
  /* --save names a folder that need not exist yet, even for one text. */
  save_dir = g_build_filename (parent_dir, "signatures", NULL);
  status = run_cli (f->user_pin, &out,
                    "--portal", f->portal->base_url, "--portal-ca", tls_pki->ca_a,
                    "--code", display, "--cert", fingerprint, "--pin-fd", "3",
                    "--no-registered", "--module", f->fixture->module_path,
                    "--save", save_dir, NULL);
  g_test_message ("imzala-cli stdout: %s", out);
  g_assert_cmpint (status, ==, 0);
  g_assert_true (added->done);

  /* The text is shown exactly, with the portal's host and the result. */
  g_assert_nonnull (strstr (out, g_bytes_get_data (g_ptr_array_index (added->texts, 0), NULL)));
  g_assert_nonnull (strstr (out, f->portal->authority));
  g_assert_nonnull (strstr (out, "Giriş işleminiz tamamlanmıştır."));

  saved = g_strdup_printf ("%s/%s-1.p7s", save_dir, added->code);
  assert_openssl_verifies (f, saved, g_ptr_array_index (added->texts, 0));
  g_unlink (saved);
  g_rmdir (save_dir);
  g_rmdir (parent_dir);
}

static void
test_cli_failures (JobFixture    *f,
                   gconstpointer  data)
{
  TestRequest *added = test_portal_add (f->portal, IMZALA_PURPOSE_LOGIN, 0, 300, "Giriş", NULL);
  g_autofree char *fingerprint = imzala_test_fixture_cert_get (f->fixture, "ayse-rsa", "fingerprint");
  g_autofree char *http_url = g_strdup_printf ("http://127.0.0.1:%u", f->portal->port);

  /* Plain HTTP and a malformed code: portal errors (5), nothing sent. */
  g_assert_cmpint (run_cli (NULL, NULL, "--portal", http_url, "--code", added->code, NULL), ==, 5);
  g_assert_cmpint (run_cli (NULL, NULL, "--portal", f->portal->base_url, "--portal-ca", tls_pki->ca_a,
                            "--code", "ABCD", NULL), ==, 5);
  g_assert_cmpuint (f->portal->hits, ==, 0);

  /* Without the portal CA the portal is not trusted. */
  g_assert_cmpint (run_cli (NULL, NULL, "--portal", f->portal->base_url, "--code", added->code,
                            "--no-registered", "--module", f->fixture->module_path, NULL), ==, 5);

  /* A wrong PIN from a file descriptor: exit 3, the code is still open. */
  g_assert_cmpint (run_cli ("999999", NULL, "--portal", f->portal->base_url,
                            "--portal-ca", tls_pki->ca_a, "--code", added->code,
                            "--cert", fingerprint, "--pin-fd", "3",
                            "--no-registered", "--module", f->fixture->module_path, NULL), ==, 3);
  g_assert_false (added->done);

  /* Several recommended certificates and no --cert: exit 2. */
  g_assert_cmpint (run_cli (f->user_pin, NULL, "--portal", f->portal->base_url,
                            "--portal-ca", tls_pki->ca_a, "--code", added->code, "--pin-fd", "3",
                            "--no-registered", "--module", f->fixture->module_path, NULL), ==, 2);
  g_assert_false (added->done);
}

static void
test_cli_unblock (JobFixture    *f,
                  gconstpointer  data)
{
  TestRequest *added = test_portal_add (f->portal, IMZALA_PURPOSE_UNBLOCK, 0, 300, NULL);
  g_autofree char *fingerprint = imzala_test_fixture_cert_get (f->fixture, "mehmet-p256", "fingerprint");
  g_autofree char *out = NULL;

  added->serial = imzala_test_fixture_get (f->fixture, "token IMZALA TEST 2", "serial");
  added->puk = g_strdup (f->so_pin);

  /* --cert names the card by one of its certificates. */
  g_assert_cmpint (run_cli ("135790", &out, "--portal", f->portal->base_url,
                            "--portal-ca", tls_pki->ca_a, "--code", added->code,
                            "--cert", fingerprint, "--new-pin-fd", "3",
                            "--no-registered", "--module", g_getenv ("IMZALA_FAULT_MODULE"),
                            NULL), ==, 0);
  g_assert_true (added->released);
  g_assert_cmpint (added->reported, ==, 1);
  g_assert_nonnull (strstr (out, "Kartınızın kilidi çözüldü."));
}

/* One `imzala-cli portal` is a GET and a POST (issue 12): both go over one
 * TLS connection to a portal that keeps connections alive (this test
 * portal's SoupServer does). The POST carries no valid signature; the
 * portal's answer, whatever it says, is enough to count the connection it
 * came over. */
static void
test_one_connection (void)
{
  /* Any trust will do: the signature is refused before it matters. */
  TestPortal *portal = test_portal_new (tls_pki->server_a_cert, tls_pki->server_a_key,
                                        tls_pki->ca_a);
  TestRequest *added = test_portal_add (portal, IMZALA_PURPOSE_LOGIN, 0, 300, "Giriş", NULL);
  g_autoptr(ImzalaPortalClient) client = NULL;
  g_autoptr(ImzalaRequest) request = NULL;
  g_autoptr(GPtrArray) signatures = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  g_autofree char *message = NULL;
  g_autoptr(GError) error = NULL;
  GAsyncResult *result = NULL;

  client = imzala_portal_client_new (portal->base_url, tls_pki->ca_a, &error);
  g_assert_no_error (error);
  request = fetch (client, added->code, &error);
  g_assert_no_error (error);

  g_ptr_array_add (signatures, g_bytes_new_static ("not a signature", 15));
  imzala_portal_submit_signatures_async (IMZALA_PORTAL (client), request, signatures, NULL,
                                         ready_cb, &result);
  message = imzala_portal_submit_signatures_finish (IMZALA_PORTAL (client), wait_result (&result),
                                                    &error);
  g_clear_object (&result);
  g_assert_nonnull (error);
  g_assert_null (message);

  g_assert_cmpuint (portal->hits, ==, 2);
  g_assert_cmpuint (g_hash_table_size (portal->connections), ==, 1);

  test_portal_free (portal);
}

/* ---- The system trust store, loaded once per process (issue 12) ---- */

/* The bytes this process has read so far (rchar of /proc/self/io: every
 * read(), whatever the file or socket). */
static guint64
read_bytes (void)
{
  g_autofree char *io = NULL;
  g_autoptr(GError) error = NULL;
  const char *rchar;

  g_file_get_contents ("/proc/self/io", &io, NULL, &error);
  g_assert_no_error (error);
  rchar = strstr (io, "rchar:");
  g_assert_nonnull (rchar);
  return g_ascii_strtoull (rchar + strlen ("rchar:"), NULL, 10);
}

/* imzala_http_preload() loads the network module on another thread (the
 * window asks for it once the cards are listed). In a process of its own,
 * where nothing has loaded the module yet. */
static void
test_http_preload (void)
{
  if (g_test_subprocess ())
    {
      g_assert_null (imzala_http_get_backend_thread ());
      imzala_http_preload ();
      /* The task has no callback to wake this thread: polled, for 30 s at
       * most (a hang, not a speed limit). */
      for (guint i = 0; i < 3000 && imzala_http_get_backend_thread () == NULL; i++)
        g_usleep (10 * 1000);
      g_assert_nonnull (imzala_http_get_backend_thread ());
      g_assert_true (imzala_http_get_backend_thread () != g_thread_self ());
      /* Loaded: asking again starts nothing and changes nothing. */
      imzala_http_preload ();
      g_assert_true (imzala_http_get_backend_thread () != g_thread_self ());
      return;
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
}

/* The HTTP module's shared store (src/http/imzala-http-system-trust.c) is
 * the process's default TLS database once a session exists, so that
 * glib-networking builds no GnuTLS trust list from the system CA bundle
 * for each TLS connection (libsoup 3.2 makes a connection with the default
 * database before it sets the session's). A portal trusted through its own
 * CA (--portal-ca) then costs no parse of the bundle at all: three fetches
 * over three connections read less than one bundle's bytes, where each
 * connection read all of it before. The TLS checks themselves are the
 * other /portal/client tests (untrusted portal, wrong host, extra CA). */
static void
test_trust_store_once (void)
{
  const char *bundle = "/etc/ssl/certs/ca-certificates.crt";
  TestPortal *portal = test_portal_new (tls_pki->server_a_cert, tls_pki->server_a_key, NULL);
  g_autoptr(GTlsDatabase) database = NULL;
  GStatBuf st;
  guint64 before, after;

  if (g_stat (bundle, &st) != 0 || st.st_size < 4096)
    {
      g_test_skip ("No system CA bundle to count the reads of");
      test_portal_free (portal);
      return;
    }

  before = read_bytes ();
  for (guint i = 0; i < 3; i++)
    {
      TestRequest *added = test_portal_add (portal, IMZALA_PURPOSE_LOGIN, 0, 300, "Giriş", NULL);
      g_autoptr(ImzalaPortalClient) client = NULL;
      g_autoptr(ImzalaRequest) request = NULL;
      g_autoptr(GError) error = NULL;

      /* A client of its own each time: a session of its own, so a TLS
       * connection of its own. */
      client = imzala_portal_client_new (portal->base_url, tls_pki->ca_a, &error);
      g_assert_no_error (error);
      request = fetch (client, added->code, &error);
      g_assert_no_error (error);
      g_assert_nonnull (request);
    }
  after = read_bytes ();
  g_test_message ("Read %" G_GUINT64_FORMAT " bytes for 3 fetches; the bundle has %" G_GUINT64_FORMAT,
                  after - before, (guint64) st.st_size);
  g_assert_cmpuint (g_hash_table_size (portal->connections), ==, 3);
  g_assert_cmpuint (after - before, <, (guint64) st.st_size);

  database = g_tls_backend_get_default_database (g_tls_backend_get_default ());
  g_assert_nonnull (database);
  g_assert_cmpstr (G_OBJECT_TYPE_NAME (database), ==, "ImzalaHttpSystemTrust");

  test_portal_free (portal);
}

/* The portal's CA as a CA publishes it: DER (.crt, .cer) or a DER PKCS#7
 * bundle (.p7b), besides PEM. Each form is trusted for its own portal, the
 * DER ones through a PEM made once in the user's cache folder; another
 * CA's certificate in DER still fails the handshake. */
static void
test_portal_ca_forms (void)
{
  TestPortal *portal = test_portal_new (tls_pki->server_a_cert, tls_pki->server_a_key, NULL);
  g_autofree char *der = g_build_filename (tls_pki->dir, "a-ca.crt", NULL);
  g_autofree char *p7b = g_build_filename (tls_pki->dir, "a-ca.p7b", NULL);
  g_autofree char *other_der = g_build_filename (tls_pki->dir, "b-ca.der", NULL);
  g_autofree char *cache = g_build_filename (g_get_user_cache_dir (), "imzala", "ca", NULL);
  const char *const der_args[] = { "x509", "-in", tls_pki->ca_a, "-outform", "DER", "-out", der, NULL };
  const char *const p7b_args[] = { "crl2pkcs7", "-nocrl", "-certfile", tls_pki->ca_a,
                                   "-outform", "DER", "-out", p7b, NULL };
  const char *const other_args[] = { "x509", "-in", tls_pki->ca_b, "-outform", "DER", "-out", other_der, NULL };
  const char *const forms[] = { der, p7b };

  run_openssl (tls_pki->dir, der_args);
  run_openssl (tls_pki->dir, p7b_args);
  run_openssl (tls_pki->dir, other_args);

  for (guint i = 0; i < G_N_ELEMENTS (forms); i++)
    {
      TestRequest *added = test_portal_add (portal, IMZALA_PURPOSE_LOGIN, 0, 300, "Giriş", NULL);
      g_autoptr(ImzalaPortalClient) client = NULL;
      g_autoptr(ImzalaRequest) request = NULL;
      g_autoptr(GError) error = NULL;
      g_autofree char *contents = NULL;
      g_autofree char *digest = NULL;
      g_autofree char *pem = NULL;
      gsize length = 0;

      g_test_message ("The portal's CA as %s", forms[i]);
      client = imzala_portal_client_new (portal->base_url, forms[i], &error);
      g_assert_no_error (error);
      request = fetch (client, added->code, &error);
      g_assert_no_error (error);
      g_assert_nonnull (request);

      /* The PEM GIO reads is the file's certificate, kept by the file's
       * digest. */
      g_assert_true (g_file_get_contents (forms[i], &contents, &length, NULL));
      digest = g_compute_checksum_for_data (G_CHECKSUM_SHA256, (const guchar *) contents, length);
      pem = g_strconcat (cache, G_DIR_SEPARATOR_S, digest, ".pem", NULL);
      g_assert_true (g_file_test (pem, G_FILE_TEST_IS_REGULAR));

      /* What is found there is never trusted as found: another CA put in
       * its place is replaced by the file's own, and the portal is still
       * the one verified. */
      {
        TestRequest *again = test_portal_add (portal, IMZALA_PURPOSE_LOGIN, 0, 300, "Giriş", NULL);
        g_autoptr(ImzalaPortalClient) second = NULL;
        g_autoptr(ImzalaRequest) second_request = NULL;
        g_autofree char *other = NULL;
        g_autofree char *after = NULL;

        g_assert_true (g_file_get_contents (tls_pki->ca_b, &other, NULL, NULL));
        g_assert_true (g_file_set_contents (pem, other, -1, NULL));
        second = imzala_portal_client_new (portal->base_url, forms[i], &error);
        g_assert_no_error (error);
        second_request = fetch (second, again->code, &error);
        g_assert_no_error (error);
        g_assert_nonnull (second_request);
        g_assert_true (g_file_get_contents (pem, &after, NULL, NULL));
        g_assert_cmpstr (after, !=, other);
      }
    }

  {
    TestRequest *added = test_portal_add (portal, IMZALA_PURPOSE_LOGIN, 0, 300, "Giriş", NULL);
    g_autoptr(ImzalaPortalClient) client = NULL;
    g_autoptr(ImzalaRequest) request = NULL;
    g_autoptr(GError) error = NULL;
    guint hits = portal->hits;

    client = imzala_portal_client_new (portal->base_url, other_der, &error);
    g_assert_no_error (error);
    request = fetch (client, added->code, &error);
    g_assert_error (error, IMZALA_ERROR, IMZALA_ERROR_TLS);
    g_assert_null (request);
    g_assert_cmpuint (portal->hits, ==, hits);
  }

  test_portal_free (portal);
}

/* ---- The portal's clock, without a code (imzala-cli doctor) ---- */

static void
test_query_time (void)
{
  TestPortal *portal = test_portal_new (tls_pki->server_a_cert, tls_pki->server_a_key, NULL);
  g_autoptr(ImzalaPortalClient) client = NULL;
  g_autoptr(ImzalaPortalClient) untrusted = NULL;
  g_autoptr(GDateTime) time = NULL;
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autoptr(GError) error = NULL;
  GAsyncResult *result = NULL;

  client = imzala_portal_client_new (portal->base_url, tls_pki->ca_a, &error);
  g_assert_no_error (error);
  imzala_portal_client_query_time_async (client, NULL, ready_cb, &result);
  time = imzala_portal_client_query_time_finish (client, wait_result (&result), &error);
  g_clear_object (&result);
  g_assert_no_error (error);
  g_assert_nonnull (time);
  /* HTTP dates have whole seconds. */
  g_assert_cmpint (ABS (g_date_time_difference (time, now)), <, 30 * G_TIME_SPAN_SECOND);

  /* Without the portal's CA the clock is not read either. */
  untrusted = imzala_portal_client_new (portal->base_url, NULL, &error);
  g_assert_no_error (error);
  imzala_portal_client_query_time_async (untrusted, NULL, ready_cb, &result);
  g_assert_null (imzala_portal_client_query_time_finish (untrusted, wait_result (&result), &error));
  g_clear_object (&result);
  g_assert_error (error, IMZALA_ERROR, IMZALA_ERROR_TLS);

  test_portal_free (portal);
}

static void
test_cli_doctor_portal (void)
{
  TestPortal *portal = test_portal_new (tls_pki->server_a_cert, tls_pki->server_a_key, NULL);
  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                                                       G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *socket = g_build_filename (g_get_tmp_dir (), "imzala-test-no-pcscd", "pcscd.comm", NULL);
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;

  /* No module and no pcscd: the clock is reported all the same. */
  g_subprocess_launcher_setenv (launcher, "PCSCLITE_CSOCK_NAME", socket, TRUE);
  process = g_subprocess_launcher_spawn (launcher, &error, g_getenv ("IMZALA_CLI"), "doctor",
                                         "--no-registered", "--portal", portal->base_url,
                                         "--portal-ca", tls_pki->ca_a, NULL);
  g_assert_no_error (error);
  imzala_test_communicate_serving (process, &out, &err);

  g_test_message ("imzala-cli doctor: %s\n%s", out, err);
  g_assert_cmpint (g_subprocess_get_exit_status (process), ==, 0);
  g_assert_nonnull (strstr (out, "== Clock ==\n"));
  g_assert_nonnull (strstr (out, "Portal’s time:   "));
  g_assert_nonnull (strstr (out, "Difference:      "));
  g_assert_null (strstr (out, "clock is"));
  test_portal_free (portal);
}

/* `imzala-cli portal` through a thread-affine module (the fault module
 * wrapping this fixture's SoftHSM): the job lists, signs and refreshes
 * from the module's own thread only, and the signature verifies. */
static void
test_cli_sign_thread_affine (JobFixture    *f,
                             gconstpointer  data)
{
  TestRequest *added = test_portal_add (f->portal, IMZALA_PURPOSE_LOGIN, 0, 300,
                                        "E-imzalı Giriş\nAYŞE YILMAZ olarak giriş", NULL);
  g_autofree char *fingerprint = imzala_test_fixture_cert_get (f->fixture, "ayse-p384", "fingerprint");
  g_autofree char *count_file = g_build_filename (f->fixture->dir, "counts.txt", NULL);
  g_autofree char *save_dir = g_build_filename (f->fixture->dir, "signatures", NULL);
  g_autofree char *saved = NULL;
  g_autofree char *out = NULL;
  g_autoptr(GHashTable) counts = NULL;
  const char *module = g_getenv ("IMZALA_FAULT_MODULE");
  int status;

  g_assert_nonnull (module);
  g_setenv ("IMZALA_FAULTS", "thread-affine,count-calls", TRUE);
  g_setenv ("IMZALA_FAULT_TARGET", f->fixture->module_path, TRUE);
  g_setenv ("IMZALA_FAULT_COUNT_FILE", count_file, TRUE);
  status = run_cli (f->user_pin, &out,
                    "--portal", f->portal->base_url, "--portal-ca", tls_pki->ca_a,
                    "--code", added->code, "--cert", fingerprint, "--pin-fd", "3",
                    "--no-registered", "--module", module,
                    "--save", save_dir, NULL);
  g_unsetenv ("IMZALA_FAULTS");
  g_unsetenv ("IMZALA_FAULT_COUNT_FILE");
  g_test_message ("imzala-cli stdout: %s", out);
  g_assert_cmpint (status, ==, 0);
  g_assert_true (added->done);

  saved = g_strdup_printf ("%s/%s-1.p7s", save_dir, added->code);
  assert_openssl_verifies (f, saved, g_ptr_array_index (added->texts, 0));

  /* The program closed the module before it exited. */
  counts = imzala_test_read_fault_counts (count_file);
  g_assert_cmpuint (imzala_test_fault_count (counts, "C_Finalize"), ==, 1);
  g_assert_cmpuint (imzala_test_fault_count (counts, "C_Sign"), ==, 1);
  imzala_test_assert_no_thread_violations (counts);
}

/* `imzala-cli portal` with a card that shows its certificates only after
 * the PIN (certs-after-login, Ayşe's card alone) and a two-text request
 * (NES başvurusu): the PIN is read once, shows the certificates, and both
 * texts are signed in that session with one C_Login. */
static void
test_cli_certs_after_login (JobFixture    *f,
                            gconstpointer  data)
{
  TestRequest *added = test_portal_add (f->portal, IMZALA_PURPOSE_APPLICATION, 0, 300,
                                        "Başvuru formu\nAd Soyad: AYŞE YILMAZ",
                                        "Sertifika Sahibi Taahhütnamesi", NULL);
  g_autofree char *fingerprint = imzala_test_fixture_cert_get (f->fixture, "ayse-p384", "fingerprint");
  g_autofree char *count_file = g_build_filename (f->fixture->dir, "counts.txt", NULL);
  g_autofree char *save_dir = g_build_filename (f->fixture->dir, "signatures", NULL);
  g_autofree char *out = NULL;
  g_autoptr(GHashTable) counts = NULL;
  const char *module = g_getenv ("IMZALA_FAULT_MODULE");
  int status;

  g_assert_nonnull (module);
  imzala_test_fixture_remove_token (f->fixture, "IMZALA TEST 2");
  imzala_test_fixture_remove_token (f->fixture, "IMZALA TEST BOS");
  g_setenv ("IMZALA_FAULTS", "certs-after-login,count-calls", TRUE);
  g_setenv ("IMZALA_FAULT_TARGET", f->fixture->module_path, TRUE);
  g_setenv ("IMZALA_FAULT_COUNT_FILE", count_file, TRUE);
  status = run_cli (f->user_pin, &out,
                    "--portal", f->portal->base_url, "--portal-ca", tls_pki->ca_a,
                    "--code", added->code, "--cert", fingerprint, "--pin-fd", "3",
                    "--no-registered", "--module", module,
                    "--save", save_dir, NULL);
  g_unsetenv ("IMZALA_FAULTS");
  g_unsetenv ("IMZALA_FAULT_COUNT_FILE");
  g_test_message ("imzala-cli stdout: %s", out);
  g_assert_cmpint (status, ==, 0);
  g_assert_true (added->done);

  for (guint i = 0; i < 2; i++)
    {
      g_autofree char *saved = g_strdup_printf ("%s/%s-%u.p7s", save_dir, added->code, i + 1);

      assert_openssl_verifies (f, saved, g_ptr_array_index (added->texts, i));
    }

  counts = imzala_test_read_fault_counts (count_file);
  g_assert_cmpuint (imzala_test_fault_count (counts, "login-user"), ==, 1);
  g_assert_cmpuint (imzala_test_fault_count (counts, "C_Logout"), ==, 1);
  g_assert_cmpuint (imzala_test_fault_count (counts, "C_Sign"), ==, 2);
}

/* One run of test_cli_certs_after_login_named_card(): a login request
 * signed by `imzala-cli portal --cert SELECTOR` (NULL: a URI naming Ayşe's
 * card; "": no --cert), through the fault module with @faults (and
 * IMZALA_FAULT_HIDING_TOKEN @hiding, when not NULL): it signs, with one
 * login and one C_Sign (with Mehmet's certificate the portal refuses the
 * signature as not the requester's; with no --cert, one login and no
 * signature). */
static void
run_named_card (JobFixture *f,
                const char *faults,
                const char *hiding,
                const char *selector)
{
  TestRequest *added = test_portal_add (f->portal, IMZALA_PURPOSE_LOGIN, 0, 300,
                                        "E-imzalı Giriş\nAYŞE YILMAZ olarak giriş", NULL);
  g_autofree char *count_file = g_build_filename (f->fixture->dir, "named-counts.txt", NULL);
  g_autofree char *out = NULL;
  g_autoptr(GHashTable) counts = NULL;
  const char *module = g_getenv ("IMZALA_FAULT_MODULE");
  gboolean no_cert = selector != NULL && *selector == '\0';
  int status;

  g_assert_nonnull (module);
  g_setenv ("IMZALA_FAULTS", faults, TRUE);
  if (hiding != NULL)
    g_setenv ("IMZALA_FAULT_HIDING_TOKEN", hiding, TRUE);
  g_setenv ("IMZALA_FAULT_TARGET", f->fixture->module_path, TRUE);
  g_setenv ("IMZALA_FAULT_COUNT_FILE", count_file, TRUE);
  /* An empty @selector: no --cert at all (the --pin-fd given twice in its
   * place is the same option). */
  status = run_cli (f->user_pin, &out,
                    "--portal", f->portal->base_url, "--portal-ca", tls_pki->ca_a,
                    "--code", added->code,
                    no_cert ? "--pin-fd" : "--cert",
                    no_cert ? "3" : selector != NULL ? selector : "pkcs11:token=IMZALA%20TEST%201;id=%a1",
                    "--pin-fd", "3", "--no-registered", "--module", module, NULL);
  g_unsetenv ("IMZALA_FAULTS");
  g_unsetenv ("IMZALA_FAULT_HIDING_TOKEN");
  g_unsetenv ("IMZALA_FAULT_COUNT_FILE");
  g_test_message ("imzala-cli stdout (%s, hiding %s): %s", faults, hiding != NULL ? hiding : "all", out);
  /* Another person's signature: the portal refuses it (403). Without
   * --cert, her several certificates: the command names them and signs
   * with none (leave_choice_to_user()). */
  g_assert_cmpint (status == 0, ==, selector == NULL);
  g_assert_cmpint (added->done, ==, selector == NULL);
  counts = imzala_test_read_fault_counts (count_file);
  g_assert_cmpuint (imzala_test_fault_count (counts, "login-user"), ==, 1);
  g_assert_cmpuint (imzala_test_fault_count (counts, "C_Sign"), ==, (no_cert ? 0 : 1));
}

/* `imzala-cli portal --cert URI` when two cards show their certificates
 * only after the PIN: the PIN goes to the card the URI names, once, and
 * never to the other (before: to the first such card in the slots' order,
 * and then "no certificate matches" when that was the other one). Run in
 * both orders of the slots (slots-reversed), so that the named card is once
 * first and once last, whatever order SoftHSM gives. Then the named card
 * alone hides its certificates and the other shows its own
 * (IMZALA_FAULT_HIDING_TOKEN): the job sees certificates and needs no login
 * by itself, and the command still logs in to the named card (before: no
 * login, and "no certificate matches"). */
static void
test_cli_certs_after_login_named_card (JobFixture    *f,
                                       gconstpointer  data)
{
  g_autofree char *mehmet = imzala_test_fixture_cert_get (f->fixture, "mehmet-p256", "fingerprint");

  imzala_test_fixture_remove_token (f->fixture, "IMZALA TEST BOS");
  run_named_card (f, "certs-after-login,count-calls", NULL, NULL);
  run_named_card (f, "certs-after-login,count-calls,slots-reversed", NULL, NULL);
  run_named_card (f, "certs-after-login,count-calls", "IMZALA TEST 1", NULL);
  /* The same, naming Mehmet's certificate, which his card shows: the job
   * asks for a login ("needs-login": none of the certificates shown is the
   * requester's), and the command still asks no PIN of Ayşe's card, which
   * it was not told to use: the one login is his card's, to sign (and the
   * portal refuses his signature for her request). */
  run_named_card (f, "certs-after-login,count-calls", "IMZALA TEST 1", mehmet);
  /* Without --cert: her card's PIN, since none of the certificates shown
   * is hers, then her two certificates named for --cert and none used
   * (before: his certificate, the only one shown, signed with, and the
   * portal's 403). */
  run_named_card (f, "certs-after-login,count-calls", "IMZALA TEST 1", "");
}

/* `imzala-cli portal --code CODE --cert SELECTOR` (none when @selector is
 * NULL) through the fault module with @faults (counting its calls), @pins
 * on --pin-fd; returns the exit status and sets @counts to the calls
 * counted. */
static int
run_cli_counted (JobFixture  *f,
                 const char  *faults,
                 const char  *pins,
                 const char  *code,
                 const char  *selector,
                 GHashTable **counts)
{
  g_autofree char *count_file = g_build_filename (f->fixture->dir, "cli-counts.txt", NULL);
  const char *module = g_getenv ("IMZALA_FAULT_MODULE");
  int status;

  g_assert_nonnull (module);
  g_setenv ("IMZALA_FAULTS", faults, TRUE);
  g_setenv ("IMZALA_FAULT_TARGET", f->fixture->module_path, TRUE);
  g_setenv ("IMZALA_FAULT_COUNT_FILE", count_file, TRUE);
  status = run_cli (pins, NULL,
                    "--portal", f->portal->base_url, "--portal-ca", tls_pki->ca_a,
                    "--code", code,
                    /* No --cert without @selector: --pin-fd given twice in
                     * its place is the same option. */
                    selector != NULL ? "--cert" : "--pin-fd", selector != NULL ? selector : "3",
                    "--pin-fd", "3", "--no-registered", "--module", module, NULL);
  g_unsetenv ("IMZALA_FAULTS");
  g_unsetenv ("IMZALA_FAULT_COUNT_FILE");
  *counts = imzala_test_read_fault_counts (count_file);
  g_remove (count_file);
  return status;
}

/* `imzala-cli portal --cert URI` naming the fixture's empty card, which
 * wants a login as one hiding its certificates does: the PIN logs in to it,
 * and the command says that the card shows no certificate even so (before:
 * "no certificate matches", as if the PIN had not been given), signs
 * nothing, and exits with "not found". */
static void
test_cli_empty_card (JobFixture    *f,
                     gconstpointer  data)
{
  TestRequest *added = test_portal_add (f->portal, IMZALA_PURPOSE_LOGIN, 0, 300,
                                        "E-imzalı Giriş\nAYŞE YILMAZ olarak giriş", NULL);
  g_autoptr(GHashTable) counts = NULL;
  int status;

  status = run_cli_counted (f, "count-calls", f->user_pin, added->code,
                            "pkcs11:token=IMZALA%20TEST%20BOS", &counts);
  g_assert_cmpint (status, ==, 2);
  g_assert_nonnull (strstr (last_cli_stderr, "“IMZALA TEST BOS”"));
  g_assert_nonnull (strstr (last_cli_stderr, "PIN girildikten sonra da imza sertifikası bulunamadı")
                    ?: strstr (last_cli_stderr, "also after the PIN"));
  g_assert_false (added->done);
  g_assert_cmpuint (imzala_test_fault_count (counts, "login-user"), ==, 1);
  g_assert_cmpuint (imzala_test_fault_count (counts, "C_Sign"), ==, 0);
}

/* One run of test_cli_empty_card_first() and test_cli_other_card_first():
 * Ayşe's login request signed with `--cert` her P-384 certificate's
 * fingerprint while both her card and another (the fixture's empty card, or
 * Mehmet's) show nothing before the PIN, through the fault module with
 * @faults; two PIN lines on the descriptor. It signs, with one C_Sign;
 * stderr says @said exactly when the other card was logged in to too;
 * returns the number of logins. */
static guint
run_hiding_card_first (JobFixture *f,
                       const char *faults,
                       const char *said)
{
  TestRequest *added = test_portal_add (f->portal, IMZALA_PURPOSE_LOGIN, 0, 300,
                                        "E-imzalı Giriş\nAYŞE YILMAZ olarak giriş", NULL);
  g_autofree char *fingerprint = imzala_test_fixture_cert_get (f->fixture, "ayse-p384", "fingerprint");
  g_autofree char *pins = g_strdup_printf ("%s\n%s", f->user_pin, f->user_pin);
  g_autoptr(GHashTable) counts = NULL;
  guint logins;

  g_assert_cmpint (run_cli_counted (f, faults, pins, added->code, fingerprint, &counts), ==, 0);
  g_assert_true (added->done);
  logins = imzala_test_fault_count (counts, "login-user");
  g_assert_cmpuint (imzala_test_fault_count (counts, "C_Sign"), ==, 1);
  /* The other card tried first is said, then her card's PIN asked. */
  g_assert_cmpint (strstr (last_cli_stderr, said) != NULL, ==, logins == 2);
  return logins;
}

/* `imzala-cli portal` with two cards that show nothing before the PIN,
 * her card and an empty one, in both orders of the slots (slots-reversed):
 * when the empty card comes first, its login shows nothing, the command
 * says so and goes on to her card's PIN (a second line on --pin-fd), and
 * signs (before: "no certificate matches" after the first login). One
 * login in one order, two in the other. */
static void
test_cli_empty_card_first (JobFixture    *f,
                           gconstpointer  data)
{
  guint logins;

  imzala_test_fixture_remove_token (f->fixture, "IMZALA TEST 2");
  logins = run_hiding_card_first (f, "certs-after-login,count-calls", "“IMZALA TEST BOS”");
  logins += run_hiding_card_first (f, "certs-after-login,count-calls,slots-reversed", "“IMZALA TEST BOS”");
  g_assert_cmpuint (logins, ==, 3);
}

#define MEHMET_HOLDS_NONE "imzala-cli: “IMZALA TEST 2” holds no certificate of AYŞE YILMAZ (123******50).\n"

/* The same with Mehmet's card instead of the empty one: when his comes
 * first, its login shows only his certificate, the command says his card
 * holds none of hers and goes on to her card's PIN (before: "no
 * certificate matches" after the first login, her card never tried). */
static void
test_cli_other_card_first (JobFixture    *f,
                           gconstpointer  data)
{
  guint logins;

  imzala_test_fixture_remove_token (f->fixture, "IMZALA TEST BOS");
  logins = run_hiding_card_first (f, "certs-after-login,count-calls", MEHMET_HOLDS_NONE);
  logins += run_hiding_card_first (f, "certs-after-login,count-calls,slots-reversed", MEHMET_HOLDS_NONE);
  g_assert_cmpuint (logins, ==, 3);
}

/* Two empty cards that want a login, and no other card: each card's PIN
 * is asked once (three lines given), each says it shows nothing, and the
 * command ends with "not found" instead of going round them again. The
 * second empty card is made in the fixture's store
 * (imzala_test_fixture_add_empty_token()). */
static void
test_cli_two_empty_cards (JobFixture    *f,
                          gconstpointer  data)
{
  TestRequest *added = test_portal_add (f->portal, IMZALA_PURPOSE_LOGIN, 0, 300,
                                        "E-imzalı Giriş\nAYŞE YILMAZ olarak giriş", NULL);
  g_autofree char *fingerprint = imzala_test_fixture_cert_get (f->fixture, "ayse-p384", "fingerprint");
  g_autofree char *pins = g_strdup_printf ("%s\n%s\n%s", f->user_pin, f->user_pin, f->user_pin);
  g_autoptr(GHashTable) counts = NULL;

  imzala_test_fixture_remove_token (f->fixture, "IMZALA TEST 1");
  imzala_test_fixture_remove_token (f->fixture, "IMZALA TEST 2");
  imzala_test_fixture_add_empty_token (f->fixture, "IMZALA TEST BOS 2");

  g_assert_cmpint (run_cli_counted (f, "count-calls", pins, added->code, fingerprint, &counts), ==, 2);
  g_assert_nonnull (strstr (last_cli_stderr, "“IMZALA TEST BOS”"));
  g_assert_nonnull (strstr (last_cli_stderr, "“IMZALA TEST BOS 2”"));
  g_assert_false (added->done);
  g_assert_cmpuint (imzala_test_fault_count (counts, "login-user"), ==, 2);
}

/* `imzala-cli portal` for Ayşe's login request with only Mehmet's card
 * inserted. Without --cert it does not sign with his certificate, the only
 * one shown (before: it asked his card's PIN and signed, and the portal
 * refused the signature and counted it against the code): it says whose
 * card the request wants, lists his certificate as another person's, asks
 * no PIN and exits with "not found". With his certificate named by --cert,
 * the user's choice: a warning before the PIN, then the signature, which
 * the portal refuses. */
static void
test_cli_other_persons_card (JobFixture    *f,
                             gconstpointer  data)
{
  TestRequest *added = test_portal_add (f->portal, IMZALA_PURPOSE_LOGIN, 0, 300,
                                        "E-imzalı Giriş\nAYŞE YILMAZ olarak giriş", NULL);
  g_autofree char *his = imzala_test_fixture_cert_get (f->fixture, "mehmet-p256", "fingerprint");
  g_autofree char *listed = NULL;
  g_autoptr(GHashTable) counts = NULL;

  imzala_test_fixture_remove_token (f->fixture, "IMZALA TEST 1");
  imzala_test_fixture_remove_token (f->fixture, "IMZALA TEST BOS");

  g_assert_cmpint (run_cli_counted (f, "count-calls", f->user_pin, added->code, NULL, &counts), ==, 2);
  g_assert_nonnull (strstr (last_cli_stderr, "This request is for AYŞE YILMAZ (123******50), and none of "
                                             "the certificates on the inserted cards is theirs."));
  listed = g_strdup_printf ("MEHMET DEMİR (10000000146), EC P-256, another person's\n    --cert %s", his);
  g_assert_nonnull (strstr (last_cli_stderr, listed));
  g_assert_false (added->done);
  g_assert_cmpuint (imzala_test_fault_count (counts, "login-user"), ==, 0);
  g_assert_cmpuint (imzala_test_fault_count (counts, "C_Sign"), ==, 0);
  g_clear_pointer (&counts, g_hash_table_unref);

  g_assert_cmpint (run_cli_counted (f, "count-calls", f->user_pin, added->code, his, &counts), !=, 0);
  g_assert_nonnull (strstr (last_cli_stderr, "Warning: This request is for AYŞE YILMAZ (123******50); "
                                             "this certificate is another person's"));
  g_assert_false (added->done);
  g_assert_cmpuint (imzala_test_fault_count (counts, "C_Sign"), ==, 1);
}

/* `imzala-cli portal` over a module whose C_GetSlotList is slow (issue 8,
 * item 5): the job shows the request before the cards are listed, and the
 * command, which has no screen, still waits for them and signs with the
 * certificate it was told. */
static void
test_cli_slow_slot_list (JobFixture    *f,
                         gconstpointer  data)
{
  TestRequest *added = test_portal_add (f->portal, IMZALA_PURPOSE_LOGIN, 0, 300,
                                        "E-imzalı Giriş\nAYŞE YILMAZ olarak giriş", NULL);
  g_autofree char *fingerprint = imzala_test_fixture_cert_get (f->fixture, "ayse-rsa", "fingerprint");
  g_autofree char *save_dir = g_build_filename (f->fixture->dir, "signatures", NULL);
  g_autofree char *saved = NULL;
  g_autofree char *out = NULL;
  const char *module = g_getenv ("IMZALA_FAULT_MODULE");
  int status;

  g_assert_nonnull (module);
  g_setenv ("IMZALA_FAULTS", "slow-slot-list", TRUE);
  g_setenv ("IMZALA_FAULT_DELAY_MS", "700", TRUE);
  g_setenv ("IMZALA_FAULT_TARGET", f->fixture->module_path, TRUE);
  status = run_cli (f->user_pin, &out,
                    "--portal", f->portal->base_url, "--portal-ca", tls_pki->ca_a,
                    "--code", added->code, "--cert", fingerprint, "--pin-fd", "3",
                    "--no-registered", "--module", module,
                    "--save", save_dir, NULL);
  g_unsetenv ("IMZALA_FAULTS");
  g_unsetenv ("IMZALA_FAULT_DELAY_MS");
  g_test_message ("imzala-cli stdout: %s", out);
  g_assert_cmpint (status, ==, 0);
  g_assert_true (added->done);
  g_assert_nonnull (strstr (out, "Giriş işleminiz tamamlanmıştır."));

  saved = g_strdup_printf ("%s/%s-1.p7s", save_dir, added->code);
  assert_openssl_verifies (f, saved, g_ptr_array_index (added->texts, 0));
}

/* ---- Issue 10: the certificate's status before the PIN ---- */

#define SERIAL_PORTAL_REVOKED 0x8101
#define SERIAL_PORTAL_GOOD    0x8102

/* A lost card revoked at its CA: `imzala-cli portal` checks the chosen
 * certificate at its OCSP responder (openssl ocsp) before the PIN; it
 * refuses with what to do (exit 4, certificate-revoked), the card never
 * sees a login, and nothing reaches the portal. With the responder down it
 * says so and signs. */
static void
test_cli_status_before_signing (JobFixture    *f,
                                gconstpointer  data)
{
  const ImzalaTestPkiEntry entries[] = {
    { SERIAL_PORTAL_REVOKED, "KAYIP KART", g_get_real_time () / G_USEC_PER_SEC - 3600, "keyCompromise" },
    { SERIAL_PORTAL_GOOD, "SAGLAM KART", 0, NULL },
  };
  const ImzalaTestCertSpec revoked_spec = {
    .common_name = "KAYIP KART", .serial_number = "12345678950", .key = "p256",
    .key_usage = "critical,nonRepudiation", .qc_statements_hex = IMZALA_TEST_QC_COMPLIANCE,
    .serial = SERIAL_PORTAL_REVOKED,
  };
  g_autoptr(ImzalaTestPki) pki = imzala_test_pki_new (entries, G_N_ELEMENTS (entries));
  g_autoptr(ImzalaTestIdentity) revoked = imzala_test_pki_issue (pki, &revoked_spec);
  TestRequest *added = test_portal_add (f->portal, IMZALA_PURPOSE_LOGIN, 0, 300, "E-imzalı Giriş", NULL);
  g_autofree char *count_file = g_build_filename (f->fixture->dir, "counts.txt", NULL);
  g_autofree char *pem = g_build_filename (f->fixture->dir, "lost.pem", NULL);
  g_autofree char *key = g_build_filename (f->fixture->dir, "lost.key", NULL);
  g_autofree char *ca_pem = g_build_filename (f->fixture->dir, "lost-ca.pem", NULL);
  g_autoptr(GBytes) der = imzala_test_identity_der (revoked);
  g_autoptr(ImzalaCertificate) certificate = NULL;
  g_autoptr(GHashTable) counts = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *out = NULL;
  const char *module = g_getenv ("IMZALA_FAULT_MODULE");
  int status;

  imzala_test_identity_write (revoked, f->fixture->dir, "lost");
  imzala_test_identity_write (pki->ca, f->fixture->dir, "lost-ca");
  imzala_test_fixture_put_on_empty_token (f->fixture, "lost", "81", pem, key);
  imzala_test_fixture_put_on_empty_token (f->fixture, "lost-ca", "82", ca_pem, NULL);
  certificate = imzala_certificate_new_from_der (der, &error);
  g_assert_no_error (error);

  g_setenv ("IMZALA_FAULTS", "count-calls", TRUE);
  g_setenv ("IMZALA_FAULT_TARGET", f->fixture->module_path, TRUE);
  g_setenv ("IMZALA_FAULT_COUNT_FILE", count_file, TRUE);
  status = run_cli (f->user_pin, &out,
                    "--portal", f->portal->base_url, "--portal-ca", tls_pki->ca_a,
                    "--code", added->code, "--cert", imzala_certificate_get_fingerprint (certificate),
                    "--pin-fd", "3", "--no-registered", "--module", module, NULL);
  g_unsetenv ("IMZALA_FAULTS");
  g_unsetenv ("IMZALA_FAULT_COUNT_FILE");
  g_assert_cmpint (status, ==, 4);
  g_assert_false (added->done);
  counts = imzala_test_read_fault_counts (count_file);
  g_assert_true (g_hash_table_contains (counts, "C_Finalize"));
  g_assert_cmpuint (imzala_test_fault_count (counts, "login-user"), ==, 0);
  g_assert_cmpuint (imzala_test_fault_count (counts, "C_Sign"), ==, 0);

  /* The responder down: a notice, then the signature; the portal decides. */
  g_subprocess_force_exit (pki->ocsp_process);
  g_subprocess_wait (pki->ocsp_process, NULL, NULL);
  added = test_portal_add (f->portal, IMZALA_PURPOSE_LOGIN, 0, 300, "E-imzalı Giriş", NULL);
  status = run_cli (f->user_pin, &out,
                    "--portal", f->portal->base_url, "--portal-ca", tls_pki->ca_a,
                    "--code", added->code, "--cert", imzala_certificate_get_fingerprint (certificate),
                    "--pin-fd", "3", "--no-registered", "--module", f->fixture->module_path, NULL);
  /* This test portal trusts only the fixture's root, so it refuses the
   * signature: what matters is that the card signed and it was sent. */
  g_assert_cmpint (status, ==, 5);
}

int
main (int argc, char **argv)
{
  int status;

  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/portal/code/normalize", test_normalize_code);
  g_test_add_func ("/portal/client/insecure-url", test_insecure_url);
  g_test_add_func ("/portal/client/fetch-with-portal-ca", test_fetch_with_portal_ca);
  g_test_add_func ("/portal/client/relative-portal-ca", test_relative_portal_ca);
  g_test_add_func ("/portal/client/tls-untrusted", test_tls_untrusted);
  g_test_add_func ("/portal/client/error-mapping", test_error_mapping);
  g_test_add_func ("/portal/client/refused-answers", test_refused_answers);
  g_test_add_func ("/portal/client/control-characters", test_control_characters);
  g_test_add ("/portal/job/sign", JobFixture, NULL, job_setup, test_job_sign, job_teardown);
  g_test_add ("/portal/job/wrong-pin", JobFixture, NULL, job_setup, test_job_wrong_pin, job_teardown);
  g_test_add ("/portal/job/signer-mismatch", JobFixture, NULL, job_setup,
              test_job_signer_mismatch, job_teardown);
  g_test_add ("/portal/job/expired", JobFixture, NULL, job_setup, test_job_expired, job_teardown);
  g_test_add ("/portal/job/bad-code-and-cancel", JobFixture, NULL, job_setup,
              test_job_bad_code_and_cancel, job_teardown);
  g_test_add ("/portal/job/unblock", JobFixture, NULL, job_setup_pin_locked, test_job_unblock,
              job_teardown);
  g_test_add ("/portal/job/unblock-wrong-card", JobFixture, NULL, job_setup_pin_locked,
              test_job_unblock_wrong_card, job_teardown);

  g_test_add ("/portal/cli/sign", JobFixture, NULL, job_setup, test_cli_sign, job_teardown);
  g_test_add ("/portal/cli/failures", JobFixture, NULL, job_setup, test_cli_failures, job_teardown);
  g_test_add ("/portal/cli/unblock", JobFixture, NULL, job_setup_pin_locked, test_cli_unblock,
              job_teardown);
  g_test_add_func ("/portal/client/query-time", test_query_time);
  g_test_add_func ("/portal/cli/doctor-clock", test_cli_doctor_portal);
  g_test_add ("/portal/cli/certs-after-login", JobFixture, NULL, job_setup,
              test_cli_certs_after_login, job_teardown);
  g_test_add ("/portal/cli/certs-after-login-named-card", JobFixture, NULL, job_setup,
              test_cli_certs_after_login_named_card, job_teardown);
  g_test_add ("/portal/cli/empty-card", JobFixture, NULL, job_setup, test_cli_empty_card, job_teardown);
  g_test_add ("/portal/cli/empty-card-first", JobFixture, NULL, job_setup, test_cli_empty_card_first,
              job_teardown);
  g_test_add ("/portal/cli/two-empty-cards", JobFixture, NULL, job_setup, test_cli_two_empty_cards,
              job_teardown);
  g_test_add ("/portal/cli/other-card-first", JobFixture, NULL, job_setup, test_cli_other_card_first,
              job_teardown);
  g_test_add ("/portal/cli/other-persons-card", JobFixture, NULL, job_setup, test_cli_other_persons_card,
              job_teardown);
  g_test_add ("/portal/cli/sign-thread-affine", JobFixture, NULL, job_setup,
              test_cli_sign_thread_affine, job_teardown);
  g_test_add ("/portal/cli/slow-slot-list", JobFixture, NULL, job_setup,
              test_cli_slow_slot_list, job_teardown);
  g_test_add ("/portal/cli/status-before-signing", JobFixture, NULL, job_setup,
              test_cli_status_before_signing, job_teardown);
  g_test_add_func ("/portal/client/one-connection", test_one_connection);
  g_test_add_func ("/portal/client/trust-store-once", test_trust_store_once);
  g_test_add_func ("/portal/client/http-preload", test_http_preload);
  g_test_add_func ("/portal/client/portal-ca-forms", test_portal_ca_forms);

  tls_pki = tls_pki_new ();
  status = g_test_run ();
  tls_pki_free (tls_pki);
  return status;
}
