#define G_LOG_DOMAIN "imzala-test"

#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <libsoup/soup.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "imzala-test-pki.h"

static EVP_PKEY *
make_key (const char *kind)
{
  EVP_PKEY *key = NULL;

  if (g_strcmp0 (kind, "rsa2048") == 0)
    key = EVP_PKEY_Q_keygen (NULL, NULL, "RSA", (size_t) 2048);
  else if (g_strcmp0 (kind, "p256") == 0)
    key = EVP_PKEY_Q_keygen (NULL, NULL, "EC", "P-256");
  else if (g_strcmp0 (kind, "p384") == 0)
    key = EVP_PKEY_Q_keygen (NULL, NULL, "EC", "P-384");
  else
    g_error ("Unknown test key kind %s", kind);
  g_assert_nonnull (key);
  return key;
}

static void
add_extension (X509 *x509, X509 *issuer, const char *name, const char *value)
{
  X509V3_CTX ctx;
  X509_EXTENSION *extension;

  X509V3_set_ctx (&ctx, issuer, x509, NULL, NULL, 0);
  extension = X509V3_EXT_nconf (NULL, &ctx, name, value);
  if (extension == NULL)
    g_error ("Cannot make the test extension %s = %s", name, value);
  g_assert_true (X509_add_ext (x509, extension, -1));
  X509_EXTENSION_free (extension);
}

ImzalaTestIdentity *
imzala_test_identity_new (const ImzalaTestCertSpec *spec, ImzalaTestIdentity *issuer)
{
  static long serial = 0x5000;
  ImzalaTestIdentity *self = g_new0 (ImzalaTestIdentity, 1);
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  X509_NAME *name = X509_NAME_new ();
  X509 *issuer_x509;

  self->key = make_key (spec->key);
  self->x509 = X509_new ();
  issuer_x509 = issuer != NULL ? issuer->x509 : self->x509;

  g_assert_true (X509_set_version (self->x509, 2));
  g_assert_true (ASN1_INTEGER_set (X509_get_serialNumber (self->x509),
                                   spec->serial != 0 ? spec->serial : serial++));
  g_assert_nonnull (ASN1_TIME_set (X509_getm_notBefore (self->x509),
                                   spec->not_before != 0 ? spec->not_before : now - 86400));
  g_assert_nonnull (ASN1_TIME_set (X509_getm_notAfter (self->x509),
                                   spec->not_after != 0 ? spec->not_after : now + 365 * 86400));
  g_assert_true (X509_set_pubkey (self->x509, self->key));

  g_assert_true (X509_NAME_add_entry_by_txt (name, "C", MBSTRING_UTF8,
                                             (const unsigned char *) "TR", -1, -1, 0));
  if (spec->serial_number != NULL)
    g_assert_true (X509_NAME_add_entry_by_txt (name, "serialNumber", MBSTRING_UTF8,
                                               (const unsigned char *) spec->serial_number,
                                               -1, -1, 0));
  if (spec->common_name != NULL)
    g_assert_true (X509_NAME_add_entry_by_txt (name, "CN", MBSTRING_UTF8,
                                               (const unsigned char *) spec->common_name,
                                               -1, -1, 0));
  g_assert_true (X509_set_subject_name (self->x509, name));
  g_assert_true (X509_set_issuer_name (self->x509, X509_get_subject_name (issuer_x509)));
  X509_NAME_free (name);

  add_extension (self->x509, issuer_x509, "basicConstraints",
                 spec->ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
  if (spec->ca)
    add_extension (self->x509, issuer_x509, "keyUsage", "critical,keyCertSign,cRLSign");
  else if (spec->key_usage != NULL)
    add_extension (self->x509, issuer_x509, "keyUsage", spec->key_usage);
  add_extension (self->x509, issuer_x509, "subjectKeyIdentifier", "hash");
  if (spec->qc_statements_hex != NULL)
    {
      g_autofree char *value = g_strconcat ("DER:", spec->qc_statements_hex, NULL);
      add_extension (self->x509, issuer_x509, "1.3.6.1.5.5.7.1.3", value);
    }

  if (spec->extended_key_usage != NULL)
    add_extension (self->x509, issuer_x509, "extendedKeyUsage", spec->extended_key_usage);
  if (spec->ocsp_url != NULL || spec->ca_issuers_url != NULL)
    {
      g_autofree char *value = NULL;

      if (spec->ocsp_url != NULL && spec->ca_issuers_url != NULL)
        value = g_strdup_printf ("OCSP;URI:%s,caIssuers;URI:%s", spec->ocsp_url, spec->ca_issuers_url);
      else if (spec->ocsp_url != NULL)
        value = g_strdup_printf ("OCSP;URI:%s", spec->ocsp_url);
      else
        value = g_strdup_printf ("caIssuers;URI:%s", spec->ca_issuers_url);
      add_extension (self->x509, issuer_x509, "authorityInfoAccess", value);
    }
  if (spec->crl_url != NULL)
    {
      g_autofree char *value = g_strdup_printf ("URI:%s", spec->crl_url);
      add_extension (self->x509, issuer_x509, "crlDistributionPoints", value);
    }
  /* Only on the issue-10 certificates, so the older tests' ones stay as
   * they were. */
  if (issuer != NULL && (spec->ocsp_url != NULL || spec->ca_issuers_url != NULL
                         || spec->crl_url != NULL || spec->extended_key_usage != NULL))
    add_extension (self->x509, issuer_x509, "authorityKeyIdentifier", "keyid");

  g_assert_cmpint (X509_sign (self->x509, issuer != NULL ? issuer->key : self->key, EVP_sha256 ()),
                   >, 0);
  return self;
}

void
imzala_test_identity_free (ImzalaTestIdentity *self)
{
  if (self == NULL)
    return;
  EVP_PKEY_free (self->key);
  X509_free (self->x509);
  g_free (self);
}

ImzalaCertificate *
imzala_test_identity_certificate (ImzalaTestIdentity *self)
{
  return imzala_certificate_new_from_x509 (self->x509);
}

X509_STORE *
imzala_test_identity_store (ImzalaTestIdentity *self)
{
  X509_STORE *store = X509_STORE_new ();

  g_assert_true (X509_STORE_add_cert (store, self->x509));
  return store;
}

GBytes *
imzala_test_identity_sign (GBytes       *to_be_signed,
                           ImzalaDigest  digest,
                           gpointer      user_data,
                           GCancellable *cancellable,
                           GError      **error)
{
  ImzalaTestIdentity *self = user_data;
  EVP_MD_CTX *ctx = EVP_MD_CTX_new ();
  const char *md = digest == IMZALA_DIGEST_SHA384 ? "SHA384" : "SHA256";
  gsize size;
  const guint8 *data = g_bytes_get_data (to_be_signed, &size);
  size_t length = 0;
  guint8 *signature;

  g_assert_true (EVP_DigestSignInit_ex (ctx, NULL, md, NULL, NULL, self->key, NULL));
  g_assert_true (EVP_DigestSign (ctx, NULL, &length, data, size));
  signature = g_malloc (length);
  g_assert_true (EVP_DigestSign (ctx, signature, &length, data, size));
  EVP_MD_CTX_free (ctx);
  return g_bytes_new_take (signature, length);
}

void
imzala_test_identity_write (ImzalaTestIdentity *self,
                            const char         *dir,
                            const char         *name)
{
  g_autofree char *cert_name = g_strconcat (name, ".pem", NULL);
  g_autofree char *key_name = g_strconcat (name, ".key", NULL);
  g_autofree char *cert_path = g_build_filename (dir, cert_name, NULL);
  g_autofree char *key_path = g_build_filename (dir, key_name, NULL);
  BIO *bio;

  bio = BIO_new_file (cert_path, "w");
  g_assert_nonnull (bio);
  g_assert_true (PEM_write_bio_X509 (bio, self->x509));
  BIO_free (bio);
  bio = BIO_new_file (key_path, "w");
  g_assert_nonnull (bio);
  g_assert_true (PEM_write_bio_PrivateKey (bio, self->key, NULL, NULL, 0, NULL, NULL));
  BIO_free (bio);
}

GBytes *
imzala_test_identity_der (ImzalaTestIdentity *self)
{
  unsigned char *der = NULL;
  int length = i2d_X509 (self->x509, &der);
  GBytes *bytes;

  g_assert_cmpint (length, >, 0);
  bytes = g_bytes_new (der, length);
  OPENSSL_free (der);
  return bytes;
}

/* ---- Issue 10: a PKI with status services ---- */

static char *
index_time (gint64 unix_time)
{
  g_autoptr(GDateTime) when = g_date_time_new_from_unix_utc (unix_time);

  return g_date_time_format (when, "%y%m%d%H%M%SZ");
}

static void
write_index (ImzalaTestPki *self, const ImzalaTestPkiEntry *entries, gsize n_entries)
{
  g_autoptr(GString) index = g_string_new (NULL);
  g_autofree char *path = g_build_filename (self->dir, "index.txt", NULL);
  g_autofree char *attr_path = g_build_filename (self->dir, "index.txt.attr", NULL);
  g_autofree char *expiry = index_time (g_get_real_time () / G_USEC_PER_SEC + 365 * 86400);

  for (gsize i = 0; i < n_entries; i++)
    {
      g_autofree char *revoked = entries[i].revoked_at != 0
        ? index_time (entries[i].revoked_at) : g_strdup ("");
      g_autofree char *odd = g_strdup_printf ("%lX", entries[i].serial);
      /* The index wants whole bytes. */
      g_autofree char *serial = strlen (odd) % 2 != 0 ? g_strconcat ("0", odd, NULL) : g_strdup (odd);
      g_string_append_printf (index, "%s\t%s\t%s%s%s\t%s\tunknown\t/C=TR/CN=%s\n",
                              entries[i].revoked_at != 0 ? "R" : "V", expiry, revoked,
                              entries[i].revoked_at != 0 && entries[i].reason != NULL ? "," : "",
                              entries[i].revoked_at != 0 && entries[i].reason != NULL
                                ? entries[i].reason : "",
                              serial, entries[i].common_name);
    }
  g_assert_true (g_file_set_contents (path, index->str, -1, NULL));
  g_assert_true (g_file_set_contents (attr_path, "unique_subject = no\n", -1, NULL));
}

static void
run_openssl (const char *dir, const char *const *argv)
{
  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE
                                                                       | G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *err = NULL;

  g_subprocess_launcher_set_cwd (launcher, dir);
  process = g_subprocess_launcher_spawnv (launcher, argv, &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (process, NULL, NULL, NULL, &err, &error);
  g_assert_no_error (error);
  if (!g_subprocess_get_successful (process))
    g_error ("%s failed: %s", argv[1], err);
}

/* chain.pem: the CA and the root, for OpenSSL's -CAfile. */
static void
write_chain (ImzalaTestPki *self)
{
  g_autofree char *path = g_build_filename (self->dir, "chain.pem", NULL);
  BIO *bio = BIO_new_file (path, "w");

  g_assert_nonnull (bio);
  g_assert_true (PEM_write_bio_X509 (bio, self->ca->x509));
  g_assert_true (PEM_write_bio_X509 (bio, self->root->x509));
  BIO_free (bio);
}

static void
make_crl (ImzalaTestPki *self)
{
  g_autofree char *config = g_strdup_printf ("[ca]\ndefault_ca = test\n[test]\n"
                                             "database = %s/index.txt\ndefault_md = sha256\n"
                                             "crlnumber = %s/crlnumber\n",
                                             self->dir, self->dir);
  g_autofree char *config_path = g_build_filename (self->dir, "ca.cnf", NULL);
  g_autofree char *number_path = g_build_filename (self->dir, "crlnumber", NULL);
  g_autofree char *crl_path = g_build_filename (self->dir, "ca.crl", NULL);
  const char *argv[] = { "openssl", "ca", "-gencrl", "-batch", "-config", "ca.cnf",
                         "-keyfile", "ca.key", "-cert", "ca.pem", "-crldays", "2",
                         "-out", "ca.crl", NULL };
  X509_CRL *crl;
  BIO *bio;
  unsigned char *der = NULL;
  int length;

  g_assert_true (g_file_set_contents (config_path, config, -1, NULL));
  g_assert_true (g_file_set_contents (number_path, "01\n", -1, NULL));
  run_openssl (self->dir, argv);
  /* OpenSSL 3.0's `ca` writes PEM only; the services serve DER. */
  bio = BIO_new_file (crl_path, "r");
  g_assert_nonnull (bio);
  crl = PEM_read_bio_X509_CRL (bio, NULL, NULL, NULL);
  g_assert_nonnull (crl);
  BIO_free (bio);
  length = i2d_X509_CRL (crl, &der);
  g_assert_cmpint (length, >, 0);
  self->crl = g_bytes_new (der, length);
  OPENSSL_free (der);
  X509_CRL_free (crl);
}

static void
start_responder (ImzalaTestPki *self)
{
  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE
                                                                       | G_SUBPROCESS_FLAGS_STDERR_SILENCE);
  g_autoptr(GDataInputStream) lines = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *line = NULL;
  const char *colon;

  g_subprocess_launcher_set_cwd (launcher, self->dir);
  self->ocsp_process = g_subprocess_launcher_spawn (launcher, &error,
                                                    "openssl", "ocsp", "-index", "index.txt",
                                                    "-port", "0", "-rsigner", "responder.pem",
                                                    "-rkey", "responder.key", "-CA", "ca.pem",
                                                    "-ndays", "1", "-ignore_err",
                                                    /* Each answer, once sent, also goes
                                                     * here: a test can tell the
                                                     * responder has answered. */
                                                    "-respout", "last-response.der", NULL);
  g_assert_no_error (error);
  /* It prints "ACCEPT [::]:PORT PID=N" once it listens. */
  lines = g_data_input_stream_new (g_subprocess_get_stdout_pipe (self->ocsp_process));
  line = g_data_input_stream_read_line_utf8 (lines, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (line);
  colon = strstr (line, "]:");
  if (colon == NULL)
    colon = strrchr (line, ':');
  else
    colon++;
  g_assert_nonnull (colon);
  self->ocsp_url = g_strdup_printf ("http://127.0.0.1:%d/", atoi (colon + 1));
}

static void
serve_cb (SoupServer        *server,
          SoupServerMessage *message,
          const char        *path,
          GHashTable        *query,
          gpointer           user_data)
{
  ImzalaTestPki *self = user_data;

  if (g_str_equal (path, "/ca.crl"))
    {
      soup_server_message_set_response (message, "application/pkix-crl", SOUP_MEMORY_COPY,
                                        g_bytes_get_data (self->crl, NULL),
                                        g_bytes_get_size (self->crl));
      soup_server_message_set_status (message, SOUP_STATUS_OK, NULL);
    }
  else if (g_str_equal (path, "/ca.crt"))
    {
      g_autoptr(GBytes) der = imzala_test_identity_der (self->ca);

      soup_server_message_set_response (message, "application/pkix-cert", SOUP_MEMORY_COPY,
                                        g_bytes_get_data (der, NULL), g_bytes_get_size (der));
      soup_server_message_set_status (message, SOUP_STATUS_OK, NULL);
    }
  else
    soup_server_message_set_status (message, SOUP_STATUS_NOT_FOUND, NULL);
}

static gpointer
server_thread (gpointer data)
{
  ImzalaTestPki *self = data;
  SoupServer *server;
  g_autoptr(GError) error = NULL;
  GSList *uris;

  g_main_context_push_thread_default (self->server_context);
  server = soup_server_new (NULL, NULL);
  soup_server_add_handler (server, NULL, serve_cb, self, NULL);
  g_assert_true (soup_server_listen_local (server, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, &error));
  g_assert_no_error (error);
  uris = soup_server_get_uris (server);
  g_mutex_lock (&self->lock);
  self->server = server;
  self->server_port = g_uri_get_port (uris->data);
  g_cond_signal (&self->ready);
  g_mutex_unlock (&self->lock);
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);

  g_main_loop_run (self->server_loop);
  soup_server_disconnect (server);
  g_object_unref (server);
  g_main_context_pop_thread_default (self->server_context);
  return NULL;
}

ImzalaTestPki *
imzala_test_pki_new (const ImzalaTestPkiEntry *entries, gsize n_entries)
{
  ImzalaTestPki *self = g_new0 (ImzalaTestPki, 1);
  g_autoptr(GError) error = NULL;
  /* Valid from a month ago, so that tests can validate at past times. */
  gint64 month_ago = g_get_real_time () / G_USEC_PER_SEC - 30 * 86400;
  const ImzalaTestCertSpec root_spec = { .common_name = "İmzala Test Status Root", .key = "p256",
                                         .ca = TRUE, .not_before = month_ago };
  const ImzalaTestCertSpec ca_spec = { .common_name = "İmzala Test Status CA", .key = "p256",
                                       .ca = TRUE, .not_before = month_ago };
  const ImzalaTestCertSpec responder_spec = { .common_name = "İmzala Test OCSP Responder",
                                              .key = "p256",
                                              .key_usage = "critical,digitalSignature",
                                              .extended_key_usage = "OCSPSigning",
                                              .not_before = month_ago };

  self->dir = g_dir_make_tmp ("imzala-pki-XXXXXX", &error);
  g_assert_no_error (error);
  self->root = imzala_test_identity_new (&root_spec, NULL);
  self->ca = imzala_test_identity_new (&ca_spec, self->root);
  self->responder = imzala_test_identity_new (&responder_spec, self->ca);
  imzala_test_identity_write (self->root, self->dir, "root");
  imzala_test_identity_write (self->ca, self->dir, "ca");
  write_chain (self);
  imzala_test_identity_write (self->responder, self->dir, "responder");
  write_index (self, entries, n_entries);
  make_crl (self);
  start_responder (self);

  g_mutex_init (&self->lock);
  g_cond_init (&self->ready);
  self->server_context = g_main_context_new ();
  self->server_loop = g_main_loop_new (self->server_context, FALSE);
  self->server_thread = g_thread_new ("test-pki-http", server_thread, self);
  g_mutex_lock (&self->lock);
  while (self->server == NULL)
    g_cond_wait (&self->ready, &self->lock);
  g_mutex_unlock (&self->lock);
  self->crl_url = g_strdup_printf ("http://127.0.0.1:%u/ca.crl", self->server_port);
  self->ca_url = g_strdup_printf ("http://127.0.0.1:%u/ca.crt", self->server_port);
  return self;
}

static gboolean
quit_cb (gpointer data)
{
  g_main_loop_quit (data);
  return G_SOURCE_REMOVE;
}

void
imzala_test_pki_free (ImzalaTestPki *self)
{
  if (self == NULL)
    return;
  if (self->server_thread != NULL)
    {
      g_main_context_invoke (self->server_context, quit_cb, self->server_loop);
      g_thread_join (self->server_thread);
    }
  g_clear_pointer (&self->server_loop, g_main_loop_unref);
  g_clear_pointer (&self->server_context, g_main_context_unref);
  if (self->ocsp_process != NULL)
    {
      g_subprocess_force_exit (self->ocsp_process);
      g_subprocess_wait (self->ocsp_process, NULL, NULL);
      g_clear_object (&self->ocsp_process);
    }
  if (g_getenv ("IMZALA_TEST_KEEP") == NULL && self->dir != NULL)
    {
      g_autoptr(GFile) dir = g_file_new_for_path (self->dir);
      g_autoptr(GFileEnumerator) children = g_file_enumerate_children (dir, G_FILE_ATTRIBUTE_STANDARD_NAME,
                                                                       G_FILE_QUERY_INFO_NOFOLLOW_SYMLINKS,
                                                                       NULL, NULL);
      GFileInfo *info;

      while (children != NULL && (info = g_file_enumerator_next_file (children, NULL, NULL)) != NULL)
        {
          g_autoptr(GFile) child = g_file_get_child (dir, g_file_info_get_name (info));

          g_file_delete (child, NULL, NULL);
          g_object_unref (info);
        }
      g_file_delete (dir, NULL, NULL);
    }
  g_mutex_clear (&self->lock);
  g_cond_clear (&self->ready);
  imzala_test_identity_free (self->root);
  imzala_test_identity_free (self->ca);
  imzala_test_identity_free (self->responder);
  g_clear_pointer (&self->crl, g_bytes_unref);
  g_free (self->dir);
  g_free (self->ocsp_url);
  g_free (self->crl_url);
  g_free (self->ca_url);
  g_free (self);
}

ImzalaTestIdentity *
imzala_test_pki_issue (ImzalaTestPki *self, const ImzalaTestCertSpec *spec)
{
  ImzalaTestCertSpec copy = *spec;

  g_assert_cmpint (spec->serial, !=, 0);
  copy.ocsp_url = self->ocsp_url;
  copy.crl_url = self->crl_url;
  copy.ca_issuers_url = self->ca_url;
  return imzala_test_identity_new (&copy, self->ca);
}

X509_STORE *
imzala_test_pki_store (ImzalaTestPki *self)
{
  return imzala_test_identity_store (self->ca);
}
