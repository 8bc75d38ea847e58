#define G_LOG_DOMAIN "imzala-trust"

#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/pkcs7.h>
#include <openssl/x509v3.h>

#include "imzala-cert-status.h"
#include "imzala-error.h"
#include "imzala-trust.h"

/* A trust folder's files are read up to this size each. */
#define MAX_TRUST_FILE_SIZE (4 * 1024 * 1024)

struct _ImzalaTrust
{
  GObject parent_instance;

  GMutex lock;
  STACK_OF (X509) *certificates;
  /* The DER of each of @certificates (GBytes → X509*, held by the stack):
   * imzala_trust_lookup_der(). */
  GHashTable *by_der;
  /* X509* of @certificates → its ImzalaCertificate, made on first use:
   * imzala_trust_describe(). */
  GHashTable *described;
  GHashTable *issuer_cache; /* URL -> STACK_OF (X509) */
  gboolean offline;
  GTlsDatabase *fetch_ca;   /* also trusted for https fetches; nullable */
  /* imzala_trust_set_status_func(); set once, before sharing. */
  ImzalaTrustStatusFunc status_func;
  gpointer status_data;
  GDestroyNotify status_destroy;
  /* imzala_trust_set_issued_func(); set once, before sharing. */
  ImzalaTrustIssuedFunc issued_func;
  gpointer issued_data;
  GDestroyNotify issued_destroy;
};

G_DEFINE_FINAL_TYPE (ImzalaTrust, imzala_trust, G_TYPE_OBJECT)

static void
free_stack (gpointer stack)
{
  sk_X509_pop_free (stack, X509_free);
}

static void
imzala_trust_finalize (GObject *object)
{
  ImzalaTrust *self = IMZALA_TRUST (object);

  g_hash_table_unref (self->described);
  g_hash_table_unref (self->by_der);
  sk_X509_pop_free (self->certificates, X509_free);
  g_hash_table_unref (self->issuer_cache);
  g_clear_object (&self->fetch_ca);
  if (self->status_destroy != NULL)
    self->status_destroy (self->status_data);
  if (self->issued_destroy != NULL)
    self->issued_destroy (self->issued_data);
  g_mutex_clear (&self->lock);
  G_OBJECT_CLASS (imzala_trust_parent_class)->finalize (object);
}

static void
imzala_trust_class_init (ImzalaTrustClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = imzala_trust_finalize;
}

static void
imzala_trust_init (ImzalaTrust *self)
{
  g_mutex_init (&self->lock);
  self->certificates = sk_X509_new_null ();
  self->by_der = g_hash_table_new_full (g_bytes_hash, g_bytes_equal,
                                        (GDestroyNotify) g_bytes_unref, NULL);
  self->described = g_hash_table_new_full (NULL, NULL, NULL, g_object_unref);
  self->issuer_cache = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, free_stack);
}

ImzalaTrust *
imzala_trust_new (void)
{
  return g_object_new (IMZALA_TYPE_TRUST, NULL);
}

void
imzala_trust_add_x509 (ImzalaTrust *self, X509 *x509)
{
  g_return_if_fail (IMZALA_IS_TRUST (self));
  g_return_if_fail (x509 != NULL);

  g_mutex_lock (&self->lock);
  for (int i = 0; i < sk_X509_num (self->certificates); i++)
    if (X509_cmp (sk_X509_value (self->certificates, i), x509) == 0)
      {
        g_mutex_unlock (&self->lock);
        return;
      }
  if (X509_up_ref (x509) != 1)
    ERR_clear_error ();
  else if (sk_X509_push (self->certificates, x509) <= 0)
    X509_free (x509);
  else
    {
      unsigned char *der = NULL;
      int length = i2d_X509 (x509, &der);

      if (length > 0)
        g_hash_table_replace (self->by_der, g_bytes_new (der, length), x509);
      OPENSSL_free (der);
    }
  g_mutex_unlock (&self->lock);
}

ImzalaCertificate *
imzala_trust_describe (ImzalaTrust *self, X509 *x509)
{
  ImzalaCertificate *certificate;

  g_return_val_if_fail (IMZALA_IS_TRUST (self), NULL);
  g_return_val_if_fail (x509 != NULL, NULL);

  g_mutex_lock (&self->lock);
  certificate = g_hash_table_lookup (self->described, x509);
  /* The stack has no comparison function: sk_X509_find() compares the
   * pointers. */
  if (certificate == NULL && sk_X509_find (self->certificates, x509) >= 0)
    {
      certificate = imzala_certificate_new_from_x509 (x509);
      g_hash_table_insert (self->described, x509, certificate);
    }
  if (certificate != NULL)
    g_object_ref (certificate);
  g_mutex_unlock (&self->lock);
  return certificate != NULL ? certificate : imzala_certificate_new_from_x509 (x509);
}

X509 *
imzala_trust_lookup_der (ImzalaTrust *self, const guint8 *der, gsize size)
{
  g_autoptr(GBytes) key = NULL;
  X509 *x509;

  g_return_val_if_fail (IMZALA_IS_TRUST (self), NULL);

  key = g_bytes_new_static (der, size);
  g_mutex_lock (&self->lock);
  x509 = g_hash_table_lookup (self->by_der, key);
  if (x509 != NULL && X509_up_ref (x509) != 1)
    x509 = NULL;
  g_mutex_unlock (&self->lock);
  return x509;
}

void
imzala_trust_add_store (ImzalaTrust *self, X509_STORE *store)
{
  STACK_OF (X509) *certs;

  g_return_if_fail (IMZALA_IS_TRUST (self));
  g_return_if_fail (store != NULL);

  certs = X509_STORE_get1_all_certs (store);
  for (int i = 0; certs != NULL && i < sk_X509_num (certs); i++)
    imzala_trust_add_x509 (self, sk_X509_value (certs, i));
  sk_X509_pop_free (certs, X509_free);
}

static gboolean
looks_like_pem (const guint8 *data, gsize size)
{
  return g_strstr_len ((const char *) data, (gssize) MIN (size, (gsize) G_MAXSSIZE),
                       "-----BEGIN") != NULL;
}

/* The certificates in @data: PEM (any number), a DER certificate, or a DER
 * PKCS#7 certs-only bundle (what some caIssuers URLs serve). */
static STACK_OF (X509) *
parse_certificates (const guint8 *data, gsize size)
{
  STACK_OF (X509) *certs = sk_X509_new_null ();
  const unsigned char *p = data;
  X509 *x509;

  if (certs == NULL || data == NULL || size == 0 || size > G_MAXINT)
    return certs;

  if (looks_like_pem (data, size))
    {
      BIO *bio = BIO_new_mem_buf (data, (int) size);

      while (bio != NULL && (x509 = PEM_read_bio_X509 (bio, NULL, NULL, NULL)) != NULL)
        if (sk_X509_push (certs, x509) <= 0)
          X509_free (x509);
      BIO_free (bio);
    }
  else if ((x509 = d2i_X509 (NULL, &p, (long) size)) != NULL)
    {
      if (p == data + size && sk_X509_push (certs, x509) > 0)
        x509 = NULL;
      X509_free (x509);
    }
  else
    {
      PKCS7 *p7;

      p = data;
      p7 = d2i_PKCS7 (NULL, &p, (long) size);
      if (p7 != NULL && PKCS7_type_is_signed (p7) && p7->d.sign != NULL)
        for (int i = 0; i < sk_X509_num (p7->d.sign->cert); i++)
          {
            x509 = sk_X509_value (p7->d.sign->cert, i);
            if (X509_up_ref (x509) == 1 && sk_X509_push (certs, x509) <= 0)
              X509_free (x509);
          }
      PKCS7_free (p7);
    }
  ERR_clear_error ();
  return certs;
}

static guint
add_file (ImzalaTrust *self, const char *path, GError **error)
{
  g_autofree char *contents = NULL;
  gsize length = 0;
  g_autoptr(GError) local_error = NULL;
  STACK_OF (X509) *certs;
  guint count;

  if (!g_file_get_contents (path, &contents, &length, &local_error))
    {
      g_debug ("Cannot read %s: %s", path, local_error->message);
      g_set_error (error, IMZALA_ERROR, IMZALA_ERROR_FAILED,
                   _("The trusted certificates could not be read from “%s”."), path);
      return 0;
    }
  if (length > MAX_TRUST_FILE_SIZE)
    {
      g_set_error (error, IMZALA_ERROR, IMZALA_ERROR_CERTIFICATE_INVALID,
                   _("“%s” is too large to be a certificate file."), path);
      return 0;
    }
  certs = parse_certificates ((const guint8 *) contents, length);
  count = (guint) sk_X509_num (certs);
  for (int i = 0; i < sk_X509_num (certs); i++)
    imzala_trust_add_x509 (self, sk_X509_value (certs, i));
  sk_X509_pop_free (certs, X509_free);
  if (count == 0)
    g_set_error (error, IMZALA_ERROR, IMZALA_ERROR_CERTIFICATE_INVALID,
                 _("“%s” does not contain any certificate (PEM or DER)."), path);
  return count;
}

static gboolean
is_certificate_name (const char *name)
{
  g_autofree char *lower = g_ascii_strdown (name, -1);

  return g_str_has_suffix (lower, ".pem") || g_str_has_suffix (lower, ".crt")
         || g_str_has_suffix (lower, ".cer") || g_str_has_suffix (lower, ".der");
}

gboolean
imzala_trust_add_path (ImzalaTrust *self, const char *path, GError **error)
{
  g_autoptr(GDir) dir = NULL;
  const char *name;
  guint count = 0;

  g_return_val_if_fail (IMZALA_IS_TRUST (self), FALSE);
  g_return_val_if_fail (path != NULL, FALSE);

  if (!g_file_test (path, G_FILE_TEST_IS_DIR))
    return add_file (self, path, error) > 0;

  dir = g_dir_open (path, 0, NULL);
  if (dir == NULL)
    {
      g_set_error (error, IMZALA_ERROR, IMZALA_ERROR_FAILED,
                   _("The trusted certificates could not be read from “%s”."), path);
      return FALSE;
    }
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *file = NULL;
      g_autoptr(GError) file_error = NULL;

      if (!is_certificate_name (name))
        continue;
      file = g_build_filename (path, name, NULL);
      if (!g_file_test (file, G_FILE_TEST_IS_REGULAR))
        continue;
      /* One bad file in a folder of many is skipped, not fatal. */
      count += add_file (self, file, &file_error);
      if (file_error != NULL)
        g_debug ("Skipping %s: %s", file, file_error->message);
    }
  if (count == 0)
    {
      g_set_error (error, IMZALA_ERROR, IMZALA_ERROR_CERTIFICATE_INVALID,
                   _("The folder “%s” does not contain any certificate (*.pem, *.crt, *.cer, *.der)."),
                   path);
      return FALSE;
    }
  return TRUE;
}

guint
imzala_trust_get_n_certificates (ImzalaTrust *self)
{
  guint n;

  g_return_val_if_fail (IMZALA_IS_TRUST (self), 0);
  g_mutex_lock (&self->lock);
  n = (guint) sk_X509_num (self->certificates);
  g_mutex_unlock (&self->lock);
  return n;
}

void
imzala_trust_set_offline (ImzalaTrust *self, gboolean offline)
{
  g_return_if_fail (IMZALA_IS_TRUST (self));
  self->offline = offline;
}

void
imzala_trust_set_fetch_ca (ImzalaTrust  *self,
                           GTlsDatabase *fetch_ca)
{
  g_return_if_fail (IMZALA_IS_TRUST (self));
  g_set_object (&self->fetch_ca, fetch_ca);
}

GTlsDatabase *
imzala_trust_get_fetch_ca (ImzalaTrust *self)
{
  g_return_val_if_fail (IMZALA_IS_TRUST (self), NULL);
  return self->fetch_ca;
}

gboolean
imzala_trust_get_offline (ImzalaTrust *self)
{
  g_return_val_if_fail (IMZALA_IS_TRUST (self), TRUE);
  return self->offline;
}

STACK_OF (X509) *
imzala_trust_dup_certificates (ImzalaTrust *self)
{
  STACK_OF (X509) *copy;

  g_return_val_if_fail (IMZALA_IS_TRUST (self), NULL);
  g_mutex_lock (&self->lock);
  copy = X509_chain_up_ref (self->certificates);
  g_mutex_unlock (&self->lock);
  return copy != NULL ? copy : sk_X509_new_null ();
}

static void store_set_vouching (ImzalaTrust *self, X509_STORE *store);

X509_STORE *
imzala_trust_new_store (ImzalaTrust *self, time_t when)
{
  X509_STORE *store = X509_STORE_new ();
  STACK_OF (X509) *certs;

  g_return_val_if_fail (IMZALA_IS_TRUST (self), NULL);
  if (store == NULL)
    return NULL;
  certs = imzala_trust_dup_certificates (self);
  for (int i = 0; i < sk_X509_num (certs); i++)
    X509_STORE_add_cert (store, sk_X509_value (certs, i));
  sk_X509_pop_free (certs, X509_free);
  X509_VERIFY_PARAM_set_time (X509_STORE_get0_param (store), when);
  X509_VERIFY_PARAM_set_flags (X509_STORE_get0_param (store), X509_V_FLAG_PARTIAL_CHAIN);
  if (self->issued_func != NULL)
    store_set_vouching (self, store);
  ERR_clear_error ();
  return store;
}

static GPtrArray *
ca_issuers_urls (X509 *cert)
{
  AUTHORITY_INFO_ACCESS *access = X509_get_ext_d2i (cert, NID_info_access, NULL, NULL);
  GPtrArray *urls = g_ptr_array_new_with_free_func (g_free);

  for (int i = 0; access != NULL && i < sk_ACCESS_DESCRIPTION_num (access); i++)
    {
      ACCESS_DESCRIPTION *description = sk_ACCESS_DESCRIPTION_value (access, i);

      if (OBJ_obj2nid (description->method) == NID_ad_ca_issuers
          && description->location->type == GEN_URI)
        {
          const ASN1_IA5STRING *uri = description->location->d.uniformResourceIdentifier;

          g_ptr_array_add (urls, g_strndup ((const char *) ASN1_STRING_get0_data (uri),
                                            ASN1_STRING_length (uri)));
        }
    }
  AUTHORITY_INFO_ACCESS_free (access);
  return urls;
}

STACK_OF (X509) *
imzala_trust_fetch_issuers (ImzalaTrust  *self,
                            X509         *cert,
                            GCancellable *cancellable)
{
  STACK_OF (X509) *found = sk_X509_new_null ();
  g_autoptr(GPtrArray) urls = NULL;

  g_return_val_if_fail (IMZALA_IS_TRUST (self), found);
  if (self->offline || found == NULL)
    return found;

  urls = ca_issuers_urls (cert);
  for (guint i = 0; i < urls->len; i++)
    {
      const char *url = g_ptr_array_index (urls, i);
      STACK_OF (X509) *certs = NULL;
      STACK_OF (X509) *cached;

      g_mutex_lock (&self->lock);
      cached = g_hash_table_lookup (self->issuer_cache, url);
      if (cached != NULL)
        certs = X509_chain_up_ref (cached);
      g_mutex_unlock (&self->lock);

      if (certs == NULL)
        {
          g_autoptr(GError) error = NULL;
          g_autoptr(GBytes) body = imzala_cert_status_fetch_url_full (url, NULL, NULL,
                                                                      IMZALA_TRUST_MAX_ISSUER_SIZE,
                                                                      self->fetch_ca, cancellable,
                                                                      &error);

          if (body == NULL)
            {
              g_debug ("caIssuers %s: %s", url, error->message);
              continue;
            }
          certs = parse_certificates (g_bytes_get_data (body, NULL), g_bytes_get_size (body));
          g_mutex_lock (&self->lock);
          g_hash_table_replace (self->issuer_cache, g_strdup (url), X509_chain_up_ref (certs));
          g_mutex_unlock (&self->lock);
        }
      for (int j = 0; j < sk_X509_num (certs); j++)
        {
          X509 *x509 = sk_X509_value (certs, j);

          if (X509_up_ref (x509) == 1 && sk_X509_push (found, x509) <= 0)
            X509_free (x509);
        }
      sk_X509_pop_free (certs, X509_free);
    }
  return found;
}

/* ---- Certification authorities the user adds (İmza Doğrula) ---- */

char *
imzala_trust_get_user_dir (void)
{
  return g_build_filename (g_get_user_data_dir (), "imzala", "trust", NULL);
}

/* The contents of a certificate file, or NULL with @error set. */
static char *
read_small_file (const char *path, gsize *length, GError **error)
{
  g_autofree char *name = g_path_get_basename (path);
  g_autoptr(GError) local_error = NULL;
  char *contents = NULL;
  GStatBuf info;

  /* A large file is refused by its size, before it is read. */
  if (g_stat (path, &info) == 0 && S_ISREG (info.st_mode) && info.st_size > MAX_TRUST_FILE_SIZE)
    {
      g_set_error (error, IMZALA_ERROR, IMZALA_ERROR_CERTIFICATE_INVALID,
                   _("“%s” is too large to be a certificate file."), name);
      return NULL;
    }
  if (g_stat (path, &info) != 0 || !S_ISREG (info.st_mode)
      || !g_file_get_contents (path, &contents, length, &local_error)
      || *length > MAX_TRUST_FILE_SIZE)
    {
      g_debug ("Cannot read %s: %s", path, local_error != NULL ? local_error->message : "not a small file");
      g_free (contents);
      g_set_error (error, IMZALA_ERROR, IMZALA_ERROR_FAILED, _("“%s” could not be read."), name);
      return NULL;
    }
  return contents;
}

/* The certificates of one file, or NULL with @error set. */
static STACK_OF (X509) *
read_certificate_file (const char *path, GError **error)
{
  g_autofree char *contents = NULL;
  gsize length = 0;

  contents = read_small_file (path, &length, error);
  if (contents == NULL)
    return NULL;
  return parse_certificates ((const guint8 *) contents, length);
}

GTlsDatabase *
imzala_trust_new_tls_database (const char  *path,
                               GError     **error)
{
  g_autofree char *absolute = NULL;
  g_autofree char *contents = NULL;
  g_autofree char *digest = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *pem_path = NULL;
  g_autofree char *cached = NULL;
  gsize cached_length = 0;
  STACK_OF (X509) *certs;
  BIO *bio;
  char *pem = NULL;
  long pem_length;
  gsize length = 0;
  gboolean written;

  g_return_val_if_fail (path != NULL, NULL);

  /* GTlsFileDatabase wants an absolute path; a relative one (as typed on a
   * command line) is taken relative to the current folder. */
  absolute = g_canonicalize_filename (path, NULL);
  contents = read_small_file (absolute, &length, error);
  if (contents == NULL)
    return NULL;
  if (looks_like_pem ((const guint8 *) contents, length))
    return g_tls_file_database_new (absolute, error);

  certs = parse_certificates ((const guint8 *) contents, length);
  bio = BIO_new (BIO_s_mem ());
  for (int i = 0; bio != NULL && i < sk_X509_num (certs); i++)
    PEM_write_bio_X509 (bio, sk_X509_value (certs, i));
  pem_length = bio != NULL && sk_X509_num (certs) > 0 ? BIO_get_mem_data (bio, &pem) : 0;
  sk_X509_pop_free (certs, X509_free);
  if (pem_length <= 0)
    {
      BIO_free (bio);
      g_set_error (error, IMZALA_ERROR, IMZALA_ERROR_CERTIFICATE_INVALID,
                   "%s holds no certificate (PEM, DER or PKCS#7)", path);
      return NULL;
    }

  /* Named by the file's contents. What is found there is used only when it
   * is byte for byte the PEM just made from the file (never trusted as
   * found); otherwise it is written, atomically. A new one is not flushed
   * to the disk (the window makes its portal client on the main thread,
   * where an fsync() took 6 to 25 ms on the benchmark machine): a cache
   * lost or cut short by a crash is told by the comparison and written
   * again, and that replacement is flushed. */
  digest = g_compute_checksum_for_data (G_CHECKSUM_SHA256, (const guchar *) contents, length);
  dir = g_build_filename (g_get_user_cache_dir (), "imzala", "ca", NULL);
  pem_path = g_strconcat (dir, G_DIR_SEPARATOR_S, digest, ".pem", NULL);
  written = (g_file_get_contents (pem_path, &cached, &cached_length, NULL)
             && cached_length == (gsize) pem_length && memcmp (cached, pem, cached_length) == 0)
            || (g_mkdir_with_parents (dir, 0700) == 0
                && g_file_set_contents_full (pem_path, pem, pem_length,
                                             G_FILE_SET_CONTENTS_CONSISTENT | G_FILE_SET_CONTENTS_ONLY_EXISTING,
                                             0600, error));
  if (!written && error != NULL && *error == NULL)
    g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno), "%s: %s", dir, g_strerror (errno));
  BIO_free (bio);
  if (!written)
    return NULL;
  return g_tls_file_database_new (pem_path, error);
}

ImzalaCertificate *
imzala_trust_read_authority (const char  *path,
                             GError     **error)
{
  g_autofree char *name = NULL;
  STACK_OF (X509) *certs;
  ImzalaCertificate *authority = NULL;

  g_return_val_if_fail (path != NULL, NULL);

  certs = read_certificate_file (path, error);
  if (certs == NULL)
    return NULL;
  name = g_path_get_basename (path);
  if (sk_X509_num (certs) == 0)
    g_set_error (error, IMZALA_ERROR, IMZALA_ERROR_CERTIFICATE_INVALID,
                 _("“%s” does not contain any certificate (PEM or DER)."), name);
  else if (sk_X509_num (certs) > 1)
    g_set_error (error, IMZALA_ERROR, IMZALA_ERROR_CERTIFICATE_INVALID,
                 _("“%s” contains more than one certificate. Choose a file with only the certification authority to add."),
                 name);
  else
    {
      authority = imzala_certificate_new_from_x509 (sk_X509_value (certs, 0));
      /* A signer's own certificate trusted as an anchor would make any
       * signature of it "valid": only a CA is taken. */
      if (!imzala_certificate_is_ca (authority))
        {
          g_clear_object (&authority);
          g_set_error (error, IMZALA_ERROR, IMZALA_ERROR_CERTIFICATE_INVALID,
                       _("“%s” is not the certificate of a certification authority."), name);
        }
    }
  sk_X509_pop_free (certs, X509_free);
  return authority;
}

static void
read_authority_thread (GTask        *task,
                       gpointer      source,
                       gpointer      path,
                       GCancellable *cancellable)
{
  GError *error = NULL;
  ImzalaCertificate *authority = imzala_trust_read_authority (path, &error);

  if (authority == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, authority, g_object_unref);
}

void
imzala_trust_read_authority_async (const char          *path,
                                   GCancellable        *cancellable,
                                   GAsyncReadyCallback  callback,
                                   gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (path != NULL);

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, imzala_trust_read_authority_async);
  g_task_set_return_on_cancel (task, TRUE);
  g_task_set_task_data (task, g_strdup (path), g_free);
  g_task_run_in_thread (task, read_authority_thread);
}

ImzalaCertificate *
imzala_trust_read_authority_finish (GAsyncResult  *result,
                                    GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

char *
imzala_trust_install_authority (ImzalaCertificate  *authority,
                                const char         *dir,
                                GError            **error)
{
  g_autofree char *file_name = NULL;
  g_autofree char *path = NULL;
  g_autoptr(GError) local_error = NULL;
  GBytes *der;

  g_return_val_if_fail (IMZALA_IS_CERTIFICATE (authority), NULL);
  g_return_val_if_fail (dir != NULL, NULL);

  der = imzala_certificate_get_der (authority);
  file_name = g_strconcat (imzala_certificate_get_fingerprint (authority), ".crt", NULL);
  path = g_build_filename (dir, file_name, NULL);
  /* The folder is the user's own: nobody else needs to read what they
   * trust (the files are 0644, as the certificates are public). */
  if (g_mkdir_with_parents (dir, 0700) != 0
      || !g_file_set_contents_full (path, g_bytes_get_data (der, NULL), (gssize) g_bytes_get_size (der),
                                    G_FILE_SET_CONTENTS_CONSISTENT, 0644, &local_error))
    {
      g_debug ("Cannot write %s: %s", path,
               local_error != NULL ? local_error->message : g_strerror (errno));
      g_set_error (error, IMZALA_ERROR, IMZALA_ERROR_FAILED,
                   _("The certification authority could not be added to “%s”."), dir);
      return NULL;
    }
  return g_steal_pointer (&path);
}

static int
compare_by_name (gconstpointer a, gconstpointer b)
{
  ImzalaCertificate *first = *(ImzalaCertificate **) a;
  ImzalaCertificate *second = *(ImzalaCertificate **) b;
  int by_name = g_utf8_collate (imzala_certificate_get_holder_name (first),
                                imzala_certificate_get_holder_name (second));

  return by_name != 0 ? by_name
                      : strcmp (imzala_certificate_get_fingerprint (first),
                                imzala_certificate_get_fingerprint (second));
}

/* Calls @func for every certificate file of @dir with its certificates. */
static void
foreach_certificate_file (const char *dir,
                          void (*func) (const char *path, STACK_OF (X509) *certs, gpointer data),
                          gpointer    data)
{
  g_autoptr(GDir) folder = g_dir_open (dir, 0, NULL);
  const char *name;

  while (folder != NULL && (name = g_dir_read_name (folder)) != NULL)
    {
      g_autofree char *path = NULL;
      g_autoptr(GError) error = NULL;
      STACK_OF (X509) *certs;

      if (!is_certificate_name (name))
        continue;
      path = g_build_filename (dir, name, NULL);
      certs = read_certificate_file (path, &error);
      if (certs == NULL)
        {
          g_debug ("Skipping %s: %s", path, error->message);
          continue;
        }
      func (path, certs, data);
      sk_X509_pop_free (certs, X509_free);
    }
}

static void
list_file (const char *path, STACK_OF (X509) *certs, gpointer data)
{
  GPtrArray *authorities = data;

  for (int i = 0; i < sk_X509_num (certs); i++)
    {
      ImzalaCertificate *certificate = imzala_certificate_new_from_x509 (sk_X509_value (certs, i));
      gboolean seen = FALSE;

      for (guint j = 0; j < authorities->len && !seen; j++)
        seen = g_str_equal (imzala_certificate_get_fingerprint (g_ptr_array_index (authorities, j)),
                            imzala_certificate_get_fingerprint (certificate));
      if (seen)
        g_object_unref (certificate);
      else
        g_ptr_array_add (authorities, certificate);
    }
}

GPtrArray *
imzala_trust_list_authorities (const char *dir)
{
  GPtrArray *authorities = g_ptr_array_new_with_free_func (g_object_unref);

  g_return_val_if_fail (dir != NULL, authorities);

  foreach_certificate_file (dir, list_file, authorities);
  g_ptr_array_sort (authorities, compare_by_name);
  return authorities;
}

typedef struct
{
  const char *fingerprint;
  GPtrArray  *paths;
} Removal;

static void
find_file (const char *path, STACK_OF (X509) *certs, gpointer data)
{
  Removal *removal = data;
  g_autoptr(ImzalaCertificate) certificate = NULL;

  /* A bundle of several certificates is the user's own file: not cut. */
  if (sk_X509_num (certs) != 1)
    return;
  certificate = imzala_certificate_new_from_x509 (sk_X509_value (certs, 0));
  if (g_str_equal (imzala_certificate_get_fingerprint (certificate), removal->fingerprint))
    g_ptr_array_add (removal->paths, g_strdup (path));
}

gboolean
imzala_trust_remove_authority (const char  *dir,
                               const char  *fingerprint,
                               GError     **error)
{
  g_autoptr(GPtrArray) paths = g_ptr_array_new_with_free_func (g_free);
  Removal removal = { fingerprint, paths };

  g_return_val_if_fail (dir != NULL, FALSE);
  g_return_val_if_fail (fingerprint != NULL, FALSE);

  foreach_certificate_file (dir, find_file, &removal);
  if (paths->len == 0)
    {
      g_set_error (error, IMZALA_ERROR, IMZALA_ERROR_NO_CERTIFICATE,
                   _("This certification authority is not among the ones you added."));
      return FALSE;
    }
  for (guint i = 0; i < paths->len; i++)
    if (g_unlink (g_ptr_array_index (paths, i)) != 0)
      {
        g_autofree char *name = g_path_get_basename (g_ptr_array_index (paths, i));

        g_set_error (error, IMZALA_ERROR, IMZALA_ERROR_FAILED, _("“%s” could not be removed."), name);
        return FALSE;
      }
  return TRUE;
}

void
imzala_trust_set_status_func (ImzalaTrust           *self,
                              ImzalaTrustStatusFunc  func,
                              gpointer               user_data,
                              GDestroyNotify         destroy)
{
  g_return_if_fail (IMZALA_IS_TRUST (self));

  if (self->status_destroy != NULL)
    self->status_destroy (self->status_data);
  self->status_func = func;
  self->status_data = user_data;
  self->status_destroy = destroy;
}

ImzalaCertStatus *
imzala_trust_get_cert_status (ImzalaTrust  *self,
                              X509         *cert,
                              X509         *issuer,
                              GDateTime    *at,
                              GPtrArray    *evidence,
                              GCancellable *cancellable)
{
  ImzalaCertStatus *status = NULL;

  g_return_val_if_fail (IMZALA_IS_TRUST (self), NULL);
  g_return_val_if_fail (cert != NULL && issuer != NULL, NULL);

  /* The authority first: its records are newer than any evidence a
   * signature carries (a card reported lost after its OCSP response was
   * embedded). */
  if (self->status_func != NULL)
    status = self->status_func (cert, issuer, at, evidence, self->status_data);
  if (status == NULL)
    status = imzala_cert_status_get_full (cert, issuer, at, evidence,
                                          self->offline ? IMZALA_CERT_STATUS_OFFLINE
                                                        : IMZALA_CERT_STATUS_FLAGS_NONE,
                                          self->fetch_ca, cancellable);
  return status;
}

/* ---- Signatures the authority vouches for (issue 12) ----
 *
 * X509_STORE_set_verify() replaces, for every X509_verify_cert() on the
 * store (the signer's chain, a time-stamp authority's inside
 * TS_RESP_verify_token()), the step that checks the chain's signatures
 * and validity periods, after the chain is built and its extensions,
 * trust and revocation are checked. The store holds a reference to the
 * trust in its ex_data. A chain whose signer's certificate the authority
 * does not vouch for goes to OpenSSL's own step (internal_verify(), which
 * X509_STORE_CTX_init() installs on a store without one). One it vouches
 * for goes through the same step written again with OpenSSL 3.0's public
 * API, in the same order and with the same errors, and only the signer's
 * certificate's signature is not verified. The current issuer OpenSSL
 * sets for its callback is not set (no API; nothing here reads it). */

static X509_STORE_CTX_verify_fn default_verify;
/* The store's ex_data index of its trust (a reference). */
static int store_trust_index = -1;

static void
store_trust_free (void *parent, void *ptr, CRYPTO_EX_DATA *ad, int index, long argl, void *argp)
{
  if (ptr != NULL)
    g_object_unref (ptr);
}

static int verify_vouched (X509_STORE_CTX *store_ctx);

/* Makes every chain verified on @store go through verify_vouched(). */
static void
store_set_vouching (ImzalaTrust *self, X509_STORE *store)
{
  static gsize once;

  if (g_once_init_enter (&once))
    {
      /* What X509_STORE_CTX_init() installs when the store sets none. */
      X509_STORE_CTX *probe = X509_STORE_CTX_new ();

      if (probe != NULL && X509_STORE_CTX_init (probe, NULL, NULL, NULL))
        default_verify = X509_STORE_CTX_get_verify (probe);
      X509_STORE_CTX_free (probe);
      store_trust_index = X509_STORE_get_ex_new_index (0, NULL, NULL, NULL, store_trust_free);
      g_once_init_leave (&once, 1);
    }
  /* Else nothing is installed, and OpenSSL's own step verifies every
   * signature. */
  if (default_verify == NULL || store_trust_index < 0
      || !X509_STORE_set_ex_data (store, store_trust_index, self))
    return;
  g_object_ref (self);
  X509_STORE_set_verify (store, verify_vouched);
}

/* OpenSSL's verify_cb_cert(): FALSE when the callback stops there. */
static gboolean
verify_failed (X509_STORE_CTX *store_ctx, X509 *cert, int depth, int code)
{
  X509_STORE_CTX_set_error_depth (store_ctx, depth);
  X509_STORE_CTX_set_current_cert (store_ctx, cert);
  X509_STORE_CTX_set_error (store_ctx, code);
  return X509_STORE_CTX_get_verify_cb (store_ctx) (0, store_ctx) != 0;
}

/* OpenSSL's ossl_x509_check_cert_time() for a certificate of the chain. */
static gboolean
verify_time (X509_STORE_CTX *store_ctx, X509 *cert, int depth)
{
  X509_VERIFY_PARAM *param = X509_STORE_CTX_get0_param (store_ctx);
  unsigned long flags = X509_VERIFY_PARAM_get_flags (param);
  time_t when = X509_VERIFY_PARAM_get_time (param);
  time_t *at = NULL;
  int cmp;

  if (flags & X509_V_FLAG_USE_CHECK_TIME)
    at = &when;
  else if (flags & X509_V_FLAG_NO_CHECK_TIME)
    return TRUE;
  cmp = X509_cmp_time (X509_get0_notBefore (cert), at);
  if (cmp == 0 && !verify_failed (store_ctx, cert, depth, X509_V_ERR_ERROR_IN_CERT_NOT_BEFORE_FIELD))
    return FALSE;
  if (cmp > 0 && !verify_failed (store_ctx, cert, depth, X509_V_ERR_CERT_NOT_YET_VALID))
    return FALSE;
  cmp = X509_cmp_time (X509_get0_notAfter (cert), at);
  if (cmp == 0 && !verify_failed (store_ctx, cert, depth, X509_V_ERR_ERROR_IN_CERT_NOT_AFTER_FIELD))
    return FALSE;
  if (cmp < 0 && !verify_failed (store_ctx, cert, depth, X509_V_ERR_CERT_HAS_EXPIRED))
    return FALSE;
  return TRUE;
}

/* OpenSSL's ossl_x509_signing_allowed(): @issuer's key usage, when it has
 * one, lets it sign @subject. */
static int
signing_allowed (X509 *issuer, X509 *subject)
{
  gboolean proxy = (X509_get_extension_flags (subject) & EXFLAG_PROXY) != 0;

  if ((X509_get_extension_flags (issuer) & EXFLAG_KUSAGE)
      && !(X509_get_key_usage (issuer) & (proxy ? KU_DIGITAL_SIGNATURE : KU_KEY_CERT_SIGN)))
    return proxy ? X509_V_ERR_KEYUSAGE_NO_DIGITAL_SIGNATURE : X509_V_ERR_KEYUSAGE_NO_CERTSIGN;
  return X509_V_OK;
}

static int
verify_vouched (X509_STORE_CTX *store_ctx)
{
  ImzalaTrust *self = X509_STORE_get_ex_data (X509_STORE_CTX_get0_store (store_ctx), store_trust_index);
  STACK_OF (X509) *chain = X509_STORE_CTX_get0_chain (store_ctx);
  unsigned long flags = X509_VERIFY_PARAM_get_flags (X509_STORE_CTX_get0_param (store_ctx));
  int n = sk_X509_num (chain) - 1;
  X509 *issuer;
  X509 *subject;

  /* The stores of imzala_trust_new_store() take the top of a partial
   * chain as its anchor, so the walk starts at the top certificate
   * whether or not it is self-issued; anything else is OpenSSL's. */
  if (n < 1 || !(flags & X509_V_FLAG_PARTIAL_CHAIN)
      || !self->issued_func (sk_X509_value (chain, 0), sk_X509_value (chain, 1), self->issued_data))
    return default_verify (store_ctx);

  issuer = subject = sk_X509_value (chain, n);
  while (n >= 0)
    {
      /* A self-signed top's own signature only when asked for. */
      if (subject != issuer
          || ((flags & X509_V_FLAG_CHECK_SS_SIGNATURE) && (X509_get_extension_flags (issuer) & EXFLAG_SS)))
        {
          int issuer_depth = n + (subject == issuer ? 0 : 1);
          int code = subject == issuer && !(X509_get_extension_flags (issuer) & EXFLAG_CA)
                     ? X509_V_OK : signing_allowed (issuer, subject);
          EVP_PKEY *key;

          if (code != X509_V_OK && !verify_failed (store_ctx, issuer, issuer_depth, code))
            return 0;
          if ((key = X509_get0_pubkey (issuer)) == NULL)
            {
              if (!verify_failed (store_ctx, issuer, issuer_depth,
                                  X509_V_ERR_UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY))
                return 0;
            }
          /* Depth 0, below the top: the signer's certificate, which the
           * authority vouched for above. */
          else if (n > 0 && X509_verify (subject, key) <= 0
                   && !verify_failed (store_ctx, subject, n, X509_V_ERR_CERT_SIGNATURE_FAILURE))
            return 0;
        }
      if (!verify_time (store_ctx, subject, n))
        return 0;
      X509_STORE_CTX_set_current_cert (store_ctx, subject);
      X509_STORE_CTX_set_error_depth (store_ctx, n);
      if (!X509_STORE_CTX_get_verify_cb (store_ctx) (1, store_ctx))
        return 0;
      if (--n >= 0)
        {
          issuer = subject;
          subject = sk_X509_value (chain, n);
        }
    }
  return 1;
}

void
imzala_trust_set_issued_func (ImzalaTrust           *self,
                              ImzalaTrustIssuedFunc  func,
                              gpointer               user_data,
                              GDestroyNotify         destroy)
{
  g_return_if_fail (IMZALA_IS_TRUST (self));

  if (self->issued_destroy != NULL)
    self->issued_destroy (self->issued_data);
  self->issued_func = func;
  self->issued_data = user_data;
  self->issued_destroy = destroy;
}
