#define G_LOG_DOMAIN "imzala-test"

#include "config.h"

#include <openssl/err.h>
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
  g_assert_true (ASN1_INTEGER_set (X509_get_serialNumber (self->x509), serial++));
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
