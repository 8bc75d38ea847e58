#include "config.h"

#include <string.h>
#include <libsoup/soup.h>
#include <openssl/cms.h>

#include "imzala-test-tsa.h"

struct _ImzalaTestTsa
{
  char              *dir;
  char              *url;
  char              *ca_file;
  char              *cert_file;
  char              *verify_ca_file; /* for openssl ts -verify: ca_file unless set */
  GThread           *thread;
  GMainContext      *context;
  GMainLoop         *loop;
  SoupServer        *server;
  GMutex             mutex;
  GCond              cond;
  gboolean           ready;
  ImzalaTestTsaMode  mode;
  guint              count;
  GPtrArray         *paused;
};

static const char tsa_config[] =
  "[ tsa ]\n"
  "default_tsa = tsa_config\n"
  "[ tsa_config ]\n"
  "serial = ./tsaserial\n"
  "crypto_device = builtin\n"
  "signer_cert = ./tsa.pem\n"
  "certs = ./ca.pem\n"
  "signer_key = ./tsa.key\n"
  "signer_digest = sha256\n"
  "default_policy = 1.2.3.4.1\n"
  "other_policies = 1.2.3.4.2\n"
  "digests = sha256, sha384, sha512\n"
  "accuracy = secs:1\n"
  "ordering = no\n"
  "tsa_name = no\n"
  "ess_cert_id_chain = no\n"
  "ess_cert_id_alg = sha256\n";

static gboolean
run_openssl_full (const char         *dir,
                  const char *const  *args,
                  char              **out)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autofree char *err = NULL;
  g_autoptr(GError) error = NULL;
  int status = 0;

  g_ptr_array_add (argv, (char *) "openssl");
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (char *) args[i]);
  g_ptr_array_add (argv, NULL);
  if (!g_spawn_sync (dir, (char **) argv->pdata, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL,
                     out, &err, &status, &error))
    g_error ("openssl: %s", error->message);
  if (!g_spawn_check_wait_status (status, NULL))
    {
      g_test_message ("openssl %s failed: %s", args[0], err);
      return FALSE;
    }
  return TRUE;
}

static void
run_openssl (const char *dir, const char *const *args)
{
  if (!run_openssl_full (dir, args, NULL))
    g_error ("openssl %s failed", args[0]);
}

static void
write_file (const char *dir, const char *name, const char *text)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autoptr(GError) error = NULL;

  if (!g_file_set_contents (path, text, -1, &error))
    g_error ("%s: %s", path, error->message);
}

static void
make_pki (const char *dir)
{
  const char *const ca[] = {
    "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
    "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=Imzala Test TSA Root",
    "-addext", "basicConstraints=critical,CA:TRUE",
    "-addext", "keyUsage=critical,keyCertSign,cRLSign", NULL
  };
  const char *const tsa_csr[] = {
    "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
    "-keyout", "tsa.key", "-out", "tsa.csr", "-subj", "/CN=Imzala Test TSA", NULL
  };
  const char *const tsa_cert[] = {
    "x509", "-req", "-in", "tsa.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-set_serial", "7",
    "-days", "2", "-out", "tsa.pem", "-extfile", "tsa.ext", NULL
  };
  const char *const server_csr[] = {
    "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
    "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1", NULL
  };
  const char *const server_cert[] = {
    "x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-set_serial", "8",
    "-days", "2", "-out", "server.pem", "-extfile", "server.ext", NULL
  };

  write_file (dir, "tsa.cnf", tsa_config);
  write_file (dir, "tsaserial", "01\n");
  write_file (dir, "tsa.ext", "extendedKeyUsage=critical,timeStamping\n"
                              "keyUsage=critical,digitalSignature\n");
  write_file (dir, "server.ext", "subjectAltName=IP:127.0.0.1\n"
                                 "extendedKeyUsage=serverAuth\n");
  run_openssl (dir, ca);
  run_openssl (dir, tsa_csr);
  run_openssl (dir, tsa_cert);
  run_openssl (dir, server_csr);
  run_openssl (dir, server_cert);
}

/* A reply from `openssl ts -reply` to @query_file. */
static GBytes *
reply_to (ImzalaTestTsa *self,
          const char    *query_file)
{
  g_autofree char *reply_path = g_build_filename (self->dir, "reply.tsr", NULL);
  const char *const reply[] = {
    "ts", "-reply", "-config", "tsa.cnf", "-queryfile", query_file, "-out", "reply.tsr", NULL
  };
  g_autofree char *contents = NULL;
  gsize length = 0;

  if (!run_openssl_full (self->dir, reply, NULL))
    return NULL;
  if (!g_file_get_contents (reply_path, &contents, &length, NULL))
    return NULL;
  return g_bytes_new_take (g_steal_pointer (&contents), length);
}

static void
tsa_handler (SoupServer        *server,
             SoupServerMessage *message,
             const char        *path,
             GHashTable        *query,
             gpointer           user_data)
{
  ImzalaTestTsa *self = user_data;
  SoupMessageBody *body = soup_server_message_get_request_body (message);
  g_autoptr(GBytes) request = NULL;
  g_autoptr(GBytes) reply = NULL;
  g_autofree char *query_path = g_build_filename (self->dir, "query.tsq", NULL);
  ImzalaTestTsaMode mode;

  g_mutex_lock (&self->mutex);
  self->count++;
  mode = self->mode;
  g_mutex_unlock (&self->mutex);

  if (g_strcmp0 (soup_server_message_get_method (message), "POST") != 0)
    {
      soup_server_message_set_status (message, SOUP_STATUS_METHOD_NOT_ALLOWED, NULL);
      return;
    }

  switch (mode)
    {
    case IMZALA_TEST_TSA_HTTP_ERROR:
      soup_server_message_set_status (message, SOUP_STATUS_INTERNAL_SERVER_ERROR, NULL);
      return;
    case IMZALA_TEST_TSA_GARBAGE:
      soup_server_message_set_status (message, SOUP_STATUS_OK, NULL);
      soup_server_message_set_response (message, "application/timestamp-reply",
                                        SOUP_MEMORY_STATIC, "\x30\x03\x02\x01", 4);
      return;
    case IMZALA_TEST_TSA_SILENT:
      soup_server_message_pause (message);
      g_ptr_array_add (self->paused, g_object_ref (message));
      return;
    case IMZALA_TEST_TSA_OTHER_QUERY:
    case IMZALA_TEST_TSA_REJECTION:
      {
        /* A query of the TSA's own: over other data (a valid token that
         * matches nothing we asked), or with SHA-1, which this TSA does not
         * take (a rejection with badAlg). */
        const char *const other[] = {
          "ts", "-query", "-data", "tsa.cnf",
          mode == IMZALA_TEST_TSA_REJECTION ? "-sha1" : "-sha256",
          "-cert", "-out", "query.tsq", NULL
        };

        run_openssl (self->dir, other);
      }
      break;
    case IMZALA_TEST_TSA_OK:
    default:
      request = soup_message_body_flatten (body);
      if (!g_file_set_contents (query_path, g_bytes_get_data (request, NULL),
                                g_bytes_get_size (request), NULL))
        g_error ("cannot write the query");
      break;
    }

  reply = reply_to (self, "query.tsq");
  if (reply == NULL)
    {
      soup_server_message_set_status (message, SOUP_STATUS_BAD_REQUEST, NULL);
      return;
    }
  soup_server_message_set_status (message, SOUP_STATUS_OK, NULL);
  soup_server_message_set_response (message, "application/timestamp-reply", SOUP_MEMORY_COPY,
                                    g_bytes_get_data (reply, NULL), g_bytes_get_size (reply));
}

static gpointer
server_thread (gpointer user_data)
{
  ImzalaTestTsa *self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GTlsCertificate) certificate = NULL;
  g_autofree char *cert_path = g_build_filename (self->dir, "server.pem", NULL);
  g_autofree char *key_path = g_build_filename (self->dir, "server.key", NULL);
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new (loopback, 0);
  GSList *uris;

  g_main_context_push_thread_default (self->context);
  certificate = g_tls_certificate_new_from_files (cert_path, key_path, &error);
  g_assert_no_error (error);
  self->server = soup_server_new ("tls-certificate", certificate, NULL);
  soup_server_add_handler (self->server, "/tsa", tsa_handler, self, NULL);
  soup_server_listen (self->server, address, SOUP_SERVER_LISTEN_HTTPS, &error);
  g_assert_no_error (error);
  uris = soup_server_get_uris (self->server);
  self->url = g_strdup_printf ("https://127.0.0.1:%d/tsa", g_uri_get_port (uris->data));
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);

  g_mutex_lock (&self->mutex);
  self->ready = TRUE;
  g_cond_signal (&self->cond);
  g_mutex_unlock (&self->mutex);

  g_main_loop_run (self->loop);

  g_ptr_array_set_size (self->paused, 0);
  soup_server_disconnect (self->server);
  g_clear_object (&self->server);
  g_main_context_pop_thread_default (self->context);
  return NULL;
}

ImzalaTestTsa *
imzala_test_tsa_new (void)
{
  ImzalaTestTsa *self = g_new0 (ImzalaTestTsa, 1);
  g_autoptr(GError) error = NULL;

  self->dir = g_dir_make_tmp ("imzala-test-tsa-XXXXXX", &error);
  g_assert_no_error (error);
  make_pki (self->dir);
  self->ca_file = g_build_filename (self->dir, "ca.pem", NULL);
  self->cert_file = g_build_filename (self->dir, "tsa.pem", NULL);
  self->paused = g_ptr_array_new_with_free_func (g_object_unref);
  g_mutex_init (&self->mutex);
  g_cond_init (&self->cond);
  self->context = g_main_context_new ();
  self->loop = g_main_loop_new (self->context, FALSE);
  self->thread = g_thread_new ("test-tsa", server_thread, self);

  g_mutex_lock (&self->mutex);
  while (!self->ready)
    g_cond_wait (&self->cond, &self->mutex);
  g_mutex_unlock (&self->mutex);
  return self;
}

static gboolean
quit_cb (gpointer user_data)
{
  g_main_loop_quit (user_data);
  return G_SOURCE_REMOVE;
}

void
imzala_test_tsa_free (ImzalaTestTsa *self)
{
  if (self == NULL)
    return;
  g_main_context_invoke (self->context, quit_cb, self->loop);
  g_thread_join (self->thread);
  g_main_loop_unref (self->loop);
  g_main_context_unref (self->context);
  g_ptr_array_unref (self->paused);
  g_mutex_clear (&self->mutex);
  g_cond_clear (&self->cond);
  if (g_getenv ("IMZALA_TEST_KEEP") == NULL)
    {
      g_autofree char *command = g_strdup_printf ("rm -rf '%s'", self->dir);

      if (system (command) != 0)
        g_warning ("Could not remove %s", self->dir);
    }
  g_free (self->dir);
  g_free (self->url);
  g_free (self->ca_file);
  g_free (self->cert_file);
  g_free (self->verify_ca_file);
  g_free (self);
}

const char *
imzala_test_tsa_get_url (ImzalaTestTsa *self)
{
  return self->url;
}

const char *
imzala_test_tsa_get_ca (ImzalaTestTsa *self)
{
  return self->ca_file;
}

const char *
imzala_test_tsa_get_cert (ImzalaTestTsa *self)
{
  return self->cert_file;
}

const char *
imzala_test_tsa_get_dir (ImzalaTestTsa *self)
{
  return self->dir;
}

void
imzala_test_tsa_set_mode (ImzalaTestTsa     *self,
                          ImzalaTestTsaMode  mode)
{
  g_mutex_lock (&self->mutex);
  self->mode = mode;
  g_mutex_unlock (&self->mutex);
}

guint
imzala_test_tsa_count (ImzalaTestTsa *self)
{
  guint count;

  g_mutex_lock (&self->mutex);
  count = self->count;
  g_mutex_unlock (&self->mutex);
  return count;
}

gboolean
imzala_test_tsa_openssl_verify (ImzalaTestTsa *self,
                                GBytes        *token,
                                GBytes        *data)
{
  g_autofree char *token_path = g_build_filename (self->dir, "check-token.der", NULL);
  g_autofree char *data_path = g_build_filename (self->dir, "check-data.bin", NULL);
  g_autofree char *out = NULL;
  const char *const verify[] = {
    "ts", "-verify", "-data", data_path, "-in", token_path, "-token_in",
    "-CAfile", self->verify_ca_file != NULL ? self->verify_ca_file : self->ca_file,
    "-untrusted", self->cert_file, NULL
  };

  if (!g_file_set_contents (token_path, g_bytes_get_data (token, NULL), g_bytes_get_size (token), NULL)
      || !g_file_set_contents (data_path, g_bytes_get_data (data, NULL), g_bytes_get_size (data), NULL))
    return FALSE;
  return run_openssl_full (self->dir, verify, &out) && strstr (out, "Verification: OK") != NULL;
}

static void
copy_file (const char *from, const char *to)
{
  g_autofree char *contents = NULL;
  gsize length = 0;
  g_autoptr(GError) error = NULL;

  if (!g_file_get_contents (from, &contents, &length, &error)
      || !g_file_set_contents (to, contents, (gssize) length, &error))
    g_error ("%s: %s", from, error->message);
}

void
imzala_test_tsa_set_signer (ImzalaTestTsa *self,
                            const char    *cert_pem,
                            const char    *key_pem,
                            const char    *ca_pem)
{
  g_autofree char *key_path = g_build_filename (self->dir, "tsa.key", NULL);

  g_mutex_lock (&self->mutex);
  copy_file (cert_pem, self->cert_file);
  copy_file (key_pem, key_path);
  g_free (self->verify_ca_file);
  self->verify_ca_file = g_strdup (ca_pem);
  g_mutex_unlock (&self->mutex);
}

GBytes *
imzala_test_cms_get_time_stamp_token (GBytes *cms)
{
  const unsigned char *p = g_bytes_get_data (cms, NULL);
  CMS_ContentInfo *parsed = d2i_CMS_ContentInfo (NULL, &p, (long) g_bytes_get_size (cms));
  STACK_OF (CMS_SignerInfo) *signers;
  CMS_SignerInfo *si;
  ASN1_OBJECT *oid = OBJ_txt2obj ("1.2.840.113549.1.9.16.2.14", 1);
  ASN1_TYPE *value;
  GBytes *result = NULL;
  int index;

  if (parsed == NULL)
    goto out;
  signers = CMS_get0_SignerInfos (parsed);
  if (sk_CMS_SignerInfo_num (signers) != 1)
    goto out;
  si = sk_CMS_SignerInfo_value (signers, 0);
  index = CMS_unsigned_get_attr_by_OBJ (si, oid, -1);
  if (index < 0)
    goto out;
  value = X509_ATTRIBUTE_get0_type (CMS_unsigned_get_attr (si, index), 0);
  if (value == NULL || value->type != V_ASN1_SEQUENCE)
    goto out;
  result = g_bytes_new (ASN1_STRING_get0_data (value->value.sequence),
                        ASN1_STRING_length (value->value.sequence));

out:
  ASN1_OBJECT_free (oid);
  CMS_ContentInfo_free (parsed);
  return result;
}
