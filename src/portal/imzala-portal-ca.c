#define G_LOG_DOMAIN "imzala-portal"

#include "config.h"

#include <errno.h>
#include <string.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "imzala-error.h"
#include "imzala-portal-ca.h"

struct _ImzalaPortalCa
{
  GObject   parent_instance;

  char     *dir;
  char     *root_file;
  char     *issuing_file;
  char     *issuing_key_file;
  char     *tls_cert_file;
  char     *tls_key_file;
  char     *public_url_file;
  /* The origin that the AIA and CRL distribution point URLs of the
   * certificates issued from now on name (docs/protocol.md §11.1). */
  char     *public_url;

  X509     *root;
  X509     *issuing;
  EVP_PKEY *issuing_key;
};

G_DEFINE_FINAL_TYPE (ImzalaPortalCa, imzala_portal_ca, G_TYPE_OBJECT)

/* SEQUENCE { SEQUENCE { OID 0.4.0.1862.1.1 (QcCompliance) } }: the
 * qcStatements value that makes a certificate "qualified". */
static const guint8 qc_statements_der[] = {
  0x30, 0x0a, 0x30, 0x08, 0x06, 0x06, 0x04, 0x00, 0x8e, 0x46, 0x01, 0x01,
};

static void
imzala_portal_ca_finalize (GObject *object)
{
  ImzalaPortalCa *self = IMZALA_PORTAL_CA (object);

  g_free (self->dir);
  g_free (self->root_file);
  g_free (self->issuing_file);
  g_free (self->issuing_key_file);
  g_free (self->tls_cert_file);
  g_free (self->tls_key_file);
  g_free (self->public_url_file);
  g_free (self->public_url);
  X509_free (self->root);
  X509_free (self->issuing);
  EVP_PKEY_free (self->issuing_key);

  G_OBJECT_CLASS (imzala_portal_ca_parent_class)->finalize (object);
}

static void
imzala_portal_ca_class_init (ImzalaPortalCaClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = imzala_portal_ca_finalize;
}

static void
imzala_portal_ca_init (ImzalaPortalCa *self)
{
}

static gboolean
set_openssl_error (GError **error, const char *what)
{
  unsigned long code = ERR_get_error ();
  char buffer[256] = "";

  if (code != 0)
    ERR_error_string_n (code, buffer, sizeof buffer);
  ERR_clear_error ();
  g_set_error (error, IMZALA_ERROR, IMZALA_ERROR_FAILED,
               "Could not %s: %s", what, buffer[0] ? buffer : "unknown OpenSSL error");
  return FALSE;
}

static EVP_PKEY *
generate_ec_key (const char *curve, GError **error)
{
  EVP_PKEY *key = EVP_PKEY_Q_keygen (NULL, NULL, "EC", curve);

  if (key == NULL)
    set_openssl_error (error, "generate an EC key");
  return key;
}

static gboolean
add_extension (X509 *cert, X509V3_CTX *ctx, int nid, const char *value, GError **error)
{
  X509_EXTENSION *ext = X509V3_EXT_conf_nid (NULL, ctx, nid, value);
  gboolean ok;

  if (ext == NULL)
    return set_openssl_error (error, "make a certificate extension");
  ok = X509_add_ext (cert, ext, -1) == 1;
  X509_EXTENSION_free (ext);
  if (!ok)
    return set_openssl_error (error, "add a certificate extension");
  return TRUE;
}

static X509_NAME *
make_name (const char *organization, const char *serial_number, const char *common_name)
{
  X509_NAME *name = X509_NAME_new ();

  X509_NAME_add_entry_by_txt (name, "C", MBSTRING_ASC, (const guchar *) "TR", -1, -1, 0);
  if (organization != NULL)
    X509_NAME_add_entry_by_txt (name, "O", MBSTRING_UTF8, (const guchar *) organization, -1, -1, 0);
  if (serial_number != NULL)
    X509_NAME_add_entry_by_NID (name, NID_serialNumber, MBSTRING_ASC,
                                (const guchar *) serial_number, -1, -1, 0);
  X509_NAME_add_entry_by_txt (name, "CN", MBSTRING_UTF8, (const guchar *) common_name, -1, -1, 0);
  return name;
}

/* A random positive 64-bit serial number, so that reissued demo CAs never
 * collide with certificates a browser may have cached. */
static gboolean
set_random_serial (X509 *cert, GError **error)
{
  guint8 bytes[8];
  BIGNUM *bn;
  gboolean ok;

  if (RAND_bytes (bytes, sizeof bytes) != 1)
    return set_openssl_error (error, "draw a serial number");
  bytes[0] &= 0x7f;
  bytes[0] |= 0x01;
  bn = BN_bin2bn (bytes, sizeof bytes, NULL);
  ok = bn != NULL && BN_to_ASN1_INTEGER (bn, X509_get_serialNumber (cert)) != NULL;
  BN_free (bn);
  if (!ok)
    return set_openssl_error (error, "set a serial number");
  return TRUE;
}

typedef enum
{
  PROFILE_ROOT,
  PROFILE_ISSUING,
  PROFILE_TLS_SERVER,
  PROFILE_PERSON,
  PROFILE_OCSP,
  PROFILE_TSA,
} Profile;

/* authorityInfoAccess (caIssuers, OCSP) and cRLDistributionPoints to the
 * portal's own /pki/ services, for every end-entity certificate a relying
 * party may have to check (docs/protocol.md §11.1). */
static gboolean
add_pki_urls (X509 *cert, X509V3_CTX *ctx, const char *public_url, GError **error)
{
  g_autofree char *aia = g_strdup_printf ("caIssuers;URI:%s/pki/ca.crt,OCSP;URI:%s/pki/ocsp",
                                          public_url, public_url);
  g_autofree char *cdp = g_strdup_printf ("URI:%s/pki/ca.crl", public_url);

  return add_extension (cert, ctx, NID_info_access, aia, error)
    && add_extension (cert, ctx, NID_crl_distribution_points, cdp, error);
}

/* Makes and signs one certificate. @issuer/@issuer_key NULL means
 * self-signed with @key. */
static X509 *
make_certificate (Profile     profile,
                  EVP_PKEY   *key,
                  X509_NAME  *subject,
                  X509       *issuer,
                  EVP_PKEY   *issuer_key,
                  guint       days,
                  const char *public_url,
                  GError    **error)
{
  g_autoptr(GError) local_error = NULL;
  X509 *cert = X509_new ();
  X509V3_CTX ctx;
  const EVP_MD *md;
  gboolean ok = TRUE;

  X509_set_version (cert, X509_VERSION_3);
  if (!set_random_serial (cert, error))
    goto fail;
  X509_set_subject_name (cert, subject);
  X509_set_issuer_name (cert, issuer != NULL ? X509_get_subject_name (issuer) : subject);
  X509_gmtime_adj (X509_getm_notBefore (cert), -24 * 3600);
  X509_time_adj_ex (X509_getm_notAfter (cert), (int) days, 0, NULL);
  X509_set_pubkey (cert, key);

  X509V3_set_ctx (&ctx, issuer != NULL ? issuer : cert, cert, NULL, NULL, 0);

  switch (profile)
    {
    case PROFILE_ROOT:
      ok = add_extension (cert, &ctx, NID_basic_constraints, "critical,CA:TRUE", &local_error)
        && add_extension (cert, &ctx, NID_key_usage, "critical,keyCertSign,cRLSign", &local_error)
        && add_extension (cert, &ctx, NID_subject_key_identifier, "hash", &local_error);
      break;
    case PROFILE_ISSUING:
      ok = add_extension (cert, &ctx, NID_basic_constraints, "critical,CA:TRUE,pathlen:0", &local_error)
        && add_extension (cert, &ctx, NID_key_usage, "critical,keyCertSign,cRLSign", &local_error)
        && add_extension (cert, &ctx, NID_subject_key_identifier, "hash", &local_error)
        && add_extension (cert, &ctx, NID_authority_key_identifier, "keyid", &local_error);
      break;
    case PROFILE_TLS_SERVER:
      ok = add_extension (cert, &ctx, NID_basic_constraints, "critical,CA:FALSE", &local_error)
        && add_extension (cert, &ctx, NID_key_usage, "critical,digitalSignature", &local_error)
        && add_extension (cert, &ctx, NID_ext_key_usage, "serverAuth", &local_error)
        && add_extension (cert, &ctx, NID_subject_alt_name,
                          "DNS:localhost,IP:127.0.0.1,IP:::1", &local_error)
        && add_extension (cert, &ctx, NID_subject_key_identifier, "hash", &local_error)
        && add_extension (cert, &ctx, NID_authority_key_identifier, "keyid", &local_error);
      break;
    case PROFILE_PERSON:
      ok = add_extension (cert, &ctx, NID_basic_constraints, "critical,CA:FALSE", &local_error)
        && add_extension (cert, &ctx, NID_key_usage, "critical,nonRepudiation", &local_error)
        && add_extension (cert, &ctx, NID_subject_key_identifier, "hash", &local_error)
        && add_extension (cert, &ctx, NID_authority_key_identifier, "keyid", &local_error);
      if (ok)
        {
          ASN1_OCTET_STRING *value = ASN1_OCTET_STRING_new ();
          X509_EXTENSION *ext;

          ASN1_OCTET_STRING_set (value, qc_statements_der, sizeof qc_statements_der);
          ext = X509_EXTENSION_create_by_NID (NULL, NID_qcStatements, 0, value);
          ok = ext != NULL && X509_add_ext (cert, ext, -1) == 1;
          X509_EXTENSION_free (ext);
          ASN1_OCTET_STRING_free (value);
          if (!ok)
            set_openssl_error (&local_error, "add qcStatements");
        }
      ok = ok && (public_url == NULL || add_pki_urls (cert, &ctx, public_url, &local_error));
      break;
    case PROFILE_OCSP:
      /* A delegated responder (RFC 6960 §4.2.2.2); id-pkix-ocsp-nocheck,
       * so that nobody asks the responder about its own certificate. */
      ok = add_extension (cert, &ctx, NID_basic_constraints, "critical,CA:FALSE", &local_error)
        && add_extension (cert, &ctx, NID_key_usage, "critical,digitalSignature", &local_error)
        && add_extension (cert, &ctx, NID_ext_key_usage, "OCSPSigning", &local_error)
        && add_extension (cert, &ctx, NID_id_pkix_OCSP_noCheck, "yes", &local_error)
        && add_extension (cert, &ctx, NID_subject_key_identifier, "hash", &local_error)
        && add_extension (cert, &ctx, NID_authority_key_identifier, "keyid", &local_error)
        && (public_url == NULL || add_pki_urls (cert, &ctx, public_url, &local_error));
      break;
    case PROFILE_TSA:
      /* RFC 3161 §2.3: the one key purpose, marked critical. */
      ok = add_extension (cert, &ctx, NID_basic_constraints, "critical,CA:FALSE", &local_error)
        && add_extension (cert, &ctx, NID_key_usage, "critical,digitalSignature,nonRepudiation", &local_error)
        && add_extension (cert, &ctx, NID_ext_key_usage, "critical,timeStamping", &local_error)
        && add_extension (cert, &ctx, NID_subject_key_identifier, "hash", &local_error)
        && add_extension (cert, &ctx, NID_authority_key_identifier, "keyid", &local_error)
        && (public_url == NULL || add_pki_urls (cert, &ctx, public_url, &local_error));
      break;
    default:
      g_assert_not_reached ();
    }
  if (!ok)
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      goto fail;
    }

  md = EVP_PKEY_get_bits (issuer_key != NULL ? issuer_key : key) > 256 ? EVP_sha384 () : EVP_sha256 ();
  if (X509_sign (cert, issuer_key != NULL ? issuer_key : key, md) <= 0)
    {
      set_openssl_error (error, "sign a certificate");
      goto fail;
    }
  return cert;

fail:
  X509_free (cert);
  return NULL;
}

static gboolean
write_pem (const char *path, X509 *cert, X509 *chain, EVP_PKEY *key, GError **error)
{
  FILE *file;
  int fd;
  gboolean ok = TRUE;

  /* Private keys are readable by the owner only, from the first byte on. */
  fd = g_open (path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, key != NULL ? 0600 : 0644);
  if (fd < 0)
    {
      int saved = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                   "Could not write %s: %s", path, g_strerror (saved));
      return FALSE;
    }
  file = fdopen (fd, "w");
  if (cert != NULL)
    ok = ok && PEM_write_X509 (file, cert) == 1;
  if (chain != NULL)
    ok = ok && PEM_write_X509 (file, chain) == 1;
  if (key != NULL)
    ok = ok && PEM_write_PrivateKey (file, key, NULL, NULL, 0, NULL, NULL) == 1;
  if (fclose (file) != 0)
    ok = FALSE;
  if (!ok)
    return set_openssl_error (error, "write a PEM file");
  return TRUE;
}

static X509 *
read_certificate (const char *path, GError **error)
{
  FILE *file = g_fopen (path, "re");
  X509 *cert;

  if (file == NULL)
    {
      int saved = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                   "Could not read %s: %s", path, g_strerror (saved));
      return NULL;
    }
  cert = PEM_read_X509 (file, NULL, NULL, NULL);
  fclose (file);
  if (cert == NULL)
    set_openssl_error (error, "read a certificate");
  return cert;
}

static EVP_PKEY *
read_key (const char *path, GError **error)
{
  FILE *file = g_fopen (path, "re");
  EVP_PKEY *key;

  if (file == NULL)
    {
      int saved = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                   "Could not read %s: %s", path, g_strerror (saved));
      return NULL;
    }
  key = PEM_read_PrivateKey (file, NULL, NULL, NULL);
  fclose (file);
  if (key == NULL)
    set_openssl_error (error, "read a private key");
  return key;
}

static gboolean
create_all (ImzalaPortalCa *self, GError **error)
{
  EVP_PKEY *root_key = NULL, *tls_key = NULL;
  X509 *tls = NULL;
  X509_NAME *name;
  gboolean ok = FALSE;

  g_message ("Making the demo CA and TLS certificate in %s", self->dir);

  if ((root_key = generate_ec_key ("P-384", error)) == NULL)
    goto out;
  name = make_name ("İmzala Demo", NULL, "İmzala Demo Kök SM");
  self->root = make_certificate (PROFILE_ROOT, root_key, name, NULL, NULL, 3650, NULL, error);
  X509_NAME_free (name);
  if (self->root == NULL)
    goto out;

  if ((self->issuing_key = generate_ec_key ("P-384", error)) == NULL)
    goto out;
  name = make_name ("İmzala Demo", NULL, "İmzala Demo NES SM");
  self->issuing = make_certificate (PROFILE_ISSUING, self->issuing_key, name,
                                    self->root, root_key, 3000, NULL, error);
  X509_NAME_free (name);
  if (self->issuing == NULL)
    goto out;

  if ((tls_key = generate_ec_key ("P-256", error)) == NULL)
    goto out;
  name = make_name ("İmzala Demo", NULL, "localhost");
  tls = make_certificate (PROFILE_TLS_SERVER, tls_key, name, self->issuing,
                          self->issuing_key, 825, NULL, error);
  X509_NAME_free (name);
  if (tls == NULL)
    goto out;

  /* The root key is not kept: nothing but the issuing CA is ever signed
   * with it, so it is safest not to have it on disk at all. */
  ok = write_pem (self->issuing_key_file, NULL, NULL, self->issuing_key, error)
    && write_pem (self->tls_key_file, NULL, NULL, tls_key, error)
    && write_pem (self->tls_cert_file, tls, self->issuing, NULL, error)
    && write_pem (self->issuing_file, self->issuing, NULL, NULL, error)
    /* Written last: its presence means the CA is complete. */
    && write_pem (self->root_file, self->root, NULL, NULL, error);

out:
  EVP_PKEY_free (root_key);
  EVP_PKEY_free (tls_key);
  X509_free (tls);
  return ok;
}

ImzalaPortalCa *
imzala_portal_ca_load_or_create (const char *state_dir, GError **error)
{
  g_autoptr(ImzalaPortalCa) self = g_object_new (IMZALA_TYPE_PORTAL_CA, NULL);

  self->dir = g_build_filename (state_dir, "ca", NULL);
  self->root_file = g_build_filename (self->dir, "root-ca.pem", NULL);
  self->issuing_file = g_build_filename (self->dir, "issuing-ca.pem", NULL);
  self->issuing_key_file = g_build_filename (self->dir, "issuing-ca.key", NULL);
  self->tls_cert_file = g_build_filename (self->dir, "tls-server.pem", NULL);
  self->tls_key_file = g_build_filename (self->dir, "tls-server.key", NULL);
  self->public_url_file = g_build_filename (self->dir, "public-url", NULL);
  if (g_file_get_contents (self->public_url_file, &self->public_url, NULL, NULL))
    g_strstrip (self->public_url);
  if (self->public_url == NULL || !g_str_has_prefix (self->public_url, "https://"))
    {
      g_free (self->public_url);
      self->public_url = g_strdup ("https://localhost:8443");
    }

  if (g_mkdir_with_parents (self->dir, 0700) != 0)
    {
      int saved = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                   "Could not make %s: %s", self->dir, g_strerror (saved));
      return NULL;
    }

  if (!g_file_test (self->root_file, G_FILE_TEST_EXISTS))
    {
      if (!create_all (self, error))
        return NULL;
      return g_steal_pointer (&self);
    }

  if ((self->root = read_certificate (self->root_file, error)) == NULL
      || (self->issuing = read_certificate (self->issuing_file, error)) == NULL
      || (self->issuing_key = read_key (self->issuing_key_file, error)) == NULL)
    return NULL;
  return g_steal_pointer (&self);
}

const char *
imzala_portal_ca_get_root_file (ImzalaPortalCa *self)
{
  g_return_val_if_fail (IMZALA_IS_PORTAL_CA (self), NULL);
  return self->root_file;
}

const char *
imzala_portal_ca_get_issuing_file (ImzalaPortalCa *self)
{
  g_return_val_if_fail (IMZALA_IS_PORTAL_CA (self), NULL);
  return self->issuing_file;
}

const char *
imzala_portal_ca_get_tls_cert_file (ImzalaPortalCa *self)
{
  g_return_val_if_fail (IMZALA_IS_PORTAL_CA (self), NULL);
  return self->tls_cert_file;
}

const char *
imzala_portal_ca_get_tls_key_file (ImzalaPortalCa *self)
{
  g_return_val_if_fail (IMZALA_IS_PORTAL_CA (self), NULL);
  return self->tls_key_file;
}

X509 *
imzala_portal_ca_get_issuing_x509 (ImzalaPortalCa *self)
{
  g_return_val_if_fail (IMZALA_IS_PORTAL_CA (self), NULL);
  return self->issuing;
}

X509_STORE *
imzala_portal_ca_new_trust_store (ImzalaPortalCa     *self,
                                  const char * const *extra_files,
                                  GError            **error)
{
  X509_STORE *store;

  g_return_val_if_fail (IMZALA_IS_PORTAL_CA (self), NULL);

  store = X509_STORE_new ();
  /* The issuing CA is not self-signed, so OpenSSL uses it to build the
   * chain but still requires the chain to end at the root. */
  X509_STORE_add_cert (store, self->root);
  X509_STORE_add_cert (store, self->issuing);

  for (guint i = 0; extra_files != NULL && extra_files[i] != NULL; i++)
    {
      if (X509_STORE_load_file (store, extra_files[i]) != 1)
        {
          X509_STORE_free (store);
          set_openssl_error (error, "load an extra CA file");
          return NULL;
        }
    }
  return store;
}

X509 *
imzala_portal_ca_issue_person (ImzalaPortalCa *self,
                               EVP_PKEY       *key,
                               const char     *tckn,
                               const char     *name,
                               guint           days,
                               GError        **error)
{
  X509_NAME *subject;
  X509 *cert;

  g_return_val_if_fail (IMZALA_IS_PORTAL_CA (self), NULL);

  subject = make_name (NULL, tckn, name);
  cert = make_certificate (PROFILE_PERSON, key, subject, self->issuing,
                           self->issuing_key, days, self->public_url, error);
  X509_NAME_free (subject);
  return cert;
}

EVP_PKEY *
imzala_portal_ca_get_issuing_key (ImzalaPortalCa *self)
{
  g_return_val_if_fail (IMZALA_IS_PORTAL_CA (self), NULL);
  return self->issuing_key;
}

X509 *
imzala_portal_ca_get_root_x509 (ImzalaPortalCa *self)
{
  g_return_val_if_fail (IMZALA_IS_PORTAL_CA (self), NULL);
  return self->root;
}

const char *
imzala_portal_ca_get_public_url (ImzalaPortalCa *self)
{
  g_return_val_if_fail (IMZALA_IS_PORTAL_CA (self), NULL);
  return self->public_url;
}

gboolean
imzala_portal_ca_set_public_url (ImzalaPortalCa *self,
                                 const char     *url,
                                 gboolean        remember,
                                 GError        **error)
{
  g_autofree char *line = NULL;

  g_return_val_if_fail (IMZALA_IS_PORTAL_CA (self), FALSE);
  g_return_val_if_fail (g_str_has_prefix (url, "https://"), FALSE);

  g_free (self->public_url);
  self->public_url = g_strdup (url);
  while (g_str_has_suffix (self->public_url, "/"))
    self->public_url[strlen (self->public_url) - 1] = '\0';
  if (!remember)
    return TRUE;
  line = g_strconcat (self->public_url, "\n", NULL);
  return g_file_set_contents (self->public_url_file, line, -1, error);
}

X509 *
imzala_portal_ca_issue_service (ImzalaPortalCa        *self,
                                EVP_PKEY              *key,
                                ImzalaPortalCaService  service,
                                const char            *common_name,
                                guint                  days,
                                GError               **error)
{
  X509_NAME *subject;
  X509 *cert;

  g_return_val_if_fail (IMZALA_IS_PORTAL_CA (self), NULL);

  subject = make_name ("İmzala Demo", NULL, common_name);
  cert = make_certificate (service == IMZALA_PORTAL_CA_SERVICE_OCSP ? PROFILE_OCSP : PROFILE_TSA,
                           key, subject, self->issuing, self->issuing_key, days,
                           self->public_url, error);
  X509_NAME_free (subject);
  return cert;
}
