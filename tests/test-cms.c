/* test-cms.c: the CAdES-BES builder and the verifier.
 *
 * Two halves. The first signs with throwaway keys held by the test (the
 * callback level), which lets it build CMS files that İmzala never would: no
 * ESS attribute, a wrong one, two signers, a backdated signing time. The
 * second signs on the SoftHSM fixture tokens through imzala_token_sign_cms()
 * for every key type, attached and detached, and has every result checked
 * by `openssl cms -verify` too. The first half needs no token at all: the
 * builder and verifier are pure OpenSSL.
 */
#include "config.h"

#include <string.h>
#include <glib/gstdio.h>
/* pem.h first: cms.h declares the CMS PEM functions with its macros. */
#include <openssl/pem.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/ess.h>

#include "imzala-test.h"
#include "imzala-test-pki.h"

static const char text[] = "İmzalanacak Metin 1: e-onay, 2026-11-24, doğrulama kodu 4X7K-92QD.";

/* ---- A throwaway PKI: root, and leaf certificates under it ---- */

static ImzalaTestIdentity *pki_root;
static ImzalaTestIdentity *pki_other_root;

static ImzalaTestIdentity *
make_leaf (const char *key, gint64 not_before, gint64 not_after)
{
  ImzalaTestCertSpec spec = {
    .common_name = "TEST KİŞİ",
    .serial_number = "12345678950",
    .key = key,
    .key_usage = "critical,nonRepudiation",
    .qc_statements_hex = IMZALA_TEST_QC_COMPLIANCE,
    .not_before = not_before,
    .not_after = not_after,
  };

  return imzala_test_identity_new (&spec, pki_root);
}

/* A signing time that is now, to the second. The leaves of make_leaf ()
 * are valid from a day before the run, so a fixed date here becomes a
 * signature made before its certificate one day after it was written
 * (the streaming tests had 2026-11-26 05:30 UTC, and failed from
 * 2026-11-27 05:30). Both signatures a test compares take the same one. */
static GDateTime *
signing_time (void)
{
  return g_date_time_new_from_unix_utc (g_get_real_time () / G_USEC_PER_SEC);
}

static GBytes *
text_bytes (void)
{
  return g_bytes_new_static (text, strlen (text));
}

static GBytes *
sign_with_identity (ImzalaTestIdentity *leaf, ImzalaCmsFlags flags, GDateTime *when)
{
  g_autoptr(ImzalaCertificate) signer = imzala_test_identity_certificate (leaf);
  g_autoptr(ImzalaCertificate) root = imzala_test_identity_certificate (pki_root);
  g_autoptr(GPtrArray) extra = g_ptr_array_new ();
  g_autoptr(GBytes) content = text_bytes ();
  g_autoptr(GError) error = NULL;
  GBytes *cms;

  g_ptr_array_add (extra, root);
  cms = imzala_cms_sign (signer, extra, content, flags, when, imzala_test_identity_sign, leaf,
                         NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (cms);
  return cms;
}

static ImzalaVerifyResult *
verify (GBytes *cms, GBytes *content, X509_STORE *trust, ImzalaVerifyFlags flags, GError **error)
{
  ImzalaVerifyResult *result = imzala_cms_verify (cms, content, trust, flags, error);

  /* Exactly one of result and error, and no OpenSSL error left behind for
   * the next caller to trip over. */
  g_assert_true ((result == NULL) == (error == NULL || *error != NULL));
  g_assert_cmpuint (ERR_peek_error (), ==, 0);
  return result;
}

static int
signature_nid (GBytes *der)
{
  gsize size;
  const unsigned char *p = g_bytes_get_data (der, &size);
  CMS_ContentInfo *cms = d2i_CMS_ContentInfo (NULL, &p, (long) size);
  CMS_SignerInfo *si;
  X509_ALGOR *alg = NULL;
  int nid;

  g_assert_nonnull (cms);
  si = sk_CMS_SignerInfo_value (CMS_get0_SignerInfos (cms), 0);
  CMS_SignerInfo_get0_algs (si, NULL, NULL, NULL, &alg);
  nid = OBJ_obj2nid (alg->algorithm);
  CMS_ContentInfo_free (cms);
  return nid;
}

static void
test_software_attached_rsa (void)
{
  g_autoptr(ImzalaTestIdentity) leaf = make_leaf ("rsa2048", 0, 0);
  g_autoptr(GDateTime) before = g_date_time_new_now_utc ();
  g_autoptr(GBytes) cms = sign_with_identity (leaf, IMZALA_CMS_NONE, NULL);
  g_autoptr(GDateTime) after = g_date_time_new_now_utc ();
  X509_STORE *trust = imzala_test_identity_store (pki_root);
  g_autoptr(GBytes) content = text_bytes ();
  g_autoptr(GError) error = NULL;
  g_autoptr(ImzalaVerifyResult) result = NULL;
  g_autoptr(ImzalaCertificate) expected = imzala_test_identity_certificate (leaf);

  result = verify (cms, NULL, trust, IMZALA_VERIFY_NONE, &error);
  g_assert_no_error (error);
  g_assert_false (result->detached);
  g_assert_true (g_bytes_equal (result->content, content));
  g_assert_true (result->has_signing_certificate_v2);
  g_assert_cmpint (result->digest, ==, IMZALA_DIGEST_SHA256);
  g_assert_cmpstr (imzala_certificate_get_fingerprint (result->signer), ==,
                   imzala_certificate_get_fingerprint (expected));
  /* signingTime has whole seconds. */
  g_assert_cmpint (g_date_time_to_unix (result->signing_time), >=, g_date_time_to_unix (before));
  g_assert_cmpint (g_date_time_to_unix (result->signing_time), <=, g_date_time_to_unix (after));
  g_assert_cmpint (signature_nid (cms), ==, NID_sha256WithRSAEncryption);

  /* The same text given beside it is fine; another one is not. */
  g_clear_pointer (&result, imzala_verify_result_free);
  result = verify (cms, content, trust, IMZALA_VERIFY_NONE, &error);
  g_assert_no_error (error);
  g_clear_pointer (&result, imzala_verify_result_free);
  {
    g_autoptr(GBytes) other = g_bytes_new_static ("başka metin", strlen ("başka metin"));
    result = verify (cms, other, trust, IMZALA_VERIFY_NONE, &error);
    g_assert_error (error, IMZALA_ERROR, IMZALA_ERROR_CONTENT_MISMATCH);
  }

  X509_STORE_free (trust);
}

static void
test_software_detached_p384 (void)
{
  g_autoptr(ImzalaTestIdentity) leaf = make_leaf ("p384", 0, 0);
  g_autoptr(GBytes) cms = sign_with_identity (leaf, IMZALA_CMS_DETACHED, NULL);
  X509_STORE *trust = imzala_test_identity_store (pki_root);
  g_autoptr(GBytes) content = text_bytes ();
  g_autoptr(GBytes) changed = g_bytes_new_static (text, strlen (text) - 1);
  g_autoptr(GError) error = NULL;
  g_autoptr(ImzalaVerifyResult) result = NULL;

  g_assert_cmpint (signature_nid (cms), ==, NID_ecdsa_with_SHA384);

  result = verify (cms, content, trust, IMZALA_VERIFY_NONE, &error);
  g_assert_no_error (error);
  g_assert_true (result->detached);
  g_assert_cmpint (result->digest, ==, IMZALA_DIGEST_SHA384);
  g_assert_true (g_bytes_equal (result->content, content));
  g_clear_pointer (&result, imzala_verify_result_free);

  result = verify (cms, NULL, trust, IMZALA_VERIFY_NONE, &error);
  g_assert_error (error, IMZALA_ERROR, IMZALA_ERROR_CMS_INVALID);
  g_clear_error (&error);

  result = verify (cms, changed, trust, IMZALA_VERIFY_NONE, &error);
  g_assert_error (error, IMZALA_ERROR, IMZALA_ERROR_CONTENT_MISMATCH);

  X509_STORE_free (trust);
}

static void
test_software_p256 (void)
{
  g_autoptr(ImzalaTestIdentity) leaf = make_leaf ("p256", 0, 0);
  g_autoptr(GBytes) cms = sign_with_identity (leaf, IMZALA_CMS_NONE, NULL);
  X509_STORE *trust = imzala_test_identity_store (pki_root);
  g_autoptr(GError) error = NULL;
  g_autoptr(ImzalaVerifyResult) result = NULL;

  g_assert_cmpint (signature_nid (cms), ==, NID_ecdsa_with_SHA256);
  result = verify (cms, NULL, trust, IMZALA_VERIFY_NONE, &error);
  g_assert_no_error (error);
  g_assert_cmpint (result->digest, ==, IMZALA_DIGEST_SHA256);
  X509_STORE_free (trust);
}

static void
test_software_pem_input (void)
{
  g_autoptr(ImzalaTestIdentity) leaf = make_leaf ("p256", 0, 0);
  g_autoptr(GBytes) der = sign_with_identity (leaf, IMZALA_CMS_NONE, NULL);
  X509_STORE *trust = imzala_test_identity_store (pki_root);
  g_autoptr(GError) error = NULL;
  g_autoptr(ImzalaVerifyResult) result = NULL;
  g_autoptr(GBytes) pem = NULL;
  gsize size;
  const unsigned char *p = g_bytes_get_data (der, &size);
  CMS_ContentInfo *cms = d2i_CMS_ContentInfo (NULL, &p, (long) size);
  BIO *bio = BIO_new (BIO_s_mem ());
  char *data;
  long length;

  g_assert_true (PEM_write_bio_CMS (bio, cms));
  length = BIO_get_mem_data (bio, &data);
  pem = g_bytes_new (data, length);
  BIO_free (bio);
  CMS_ContentInfo_free (cms);

  result = verify (pem, NULL, trust, IMZALA_VERIFY_NONE, &error);
  g_assert_no_error (error);
  X509_STORE_free (trust);
}

static GBytes *
flip_byte (GBytes *bytes, gsize offset)
{
  gsize size;
  guint8 *copy = g_bytes_unref_to_data (g_bytes_ref (bytes), &size);

  g_assert_cmpuint (offset, <, size);
  copy[offset] ^= 0x01;
  return g_bytes_new_take (copy, size);
}

static void
test_tampered (void)
{
  g_autoptr(ImzalaTestIdentity) leaf = make_leaf ("rsa2048", 0, 0);
  g_autoptr(GBytes) cms = sign_with_identity (leaf, IMZALA_CMS_NONE, NULL);
  X509_STORE *trust = imzala_test_identity_store (pki_root);
  g_autoptr(GError) error = NULL;
  g_autoptr(ImzalaVerifyResult) result = NULL;
  gsize size;
  const guint8 *data = g_bytes_get_data (cms, &size);
  const guint8 *inside = memmem (data, size, text, strlen (text));

  /* A changed letter of the signed text inside the CMS. */
  {
    g_autoptr(GBytes) tampered = NULL;

    g_assert_nonnull (inside);
    tampered = flip_byte (cms, (inside - data) + 3);
    result = verify (tampered, NULL, trust, IMZALA_VERIFY_NONE, &error);
    g_assert_error (error, IMZALA_ERROR, IMZALA_ERROR_CONTENT_MISMATCH);
    g_clear_error (&error);
  }

  /* The signature value is the last thing in the DER. */
  {
    g_autoptr(GBytes) tampered = flip_byte (cms, size - 1);

    result = verify (tampered, NULL, trust, IMZALA_VERIFY_NONE, &error);
    g_assert_error (error, IMZALA_ERROR, IMZALA_ERROR_SIGNATURE_INVALID);
    g_clear_error (&error);
  }

  X509_STORE_free (trust);
}

static void
test_wrong_ca (void)
{
  g_autoptr(ImzalaTestIdentity) leaf = make_leaf ("p256", 0, 0);
  g_autoptr(GBytes) cms = sign_with_identity (leaf, IMZALA_CMS_NONE, NULL);
  X509_STORE *trust = imzala_test_identity_store (pki_other_root);
  g_autoptr(GError) error = NULL;
  g_autoptr(ImzalaVerifyResult) result = NULL;

  result = verify (cms, NULL, trust, IMZALA_VERIFY_NONE, &error);
  g_assert_error (error, IMZALA_ERROR, IMZALA_ERROR_UNTRUSTED);
  X509_STORE_free (trust);
}

static void
test_validity_at_signing_time (void)
{
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  /* Valid from 60 to 30 days ago. */
  g_autoptr(ImzalaTestIdentity) leaf = make_leaf ("rsa2048", now - 60 * 86400, now - 30 * 86400);
  g_autoptr(GDateTime) back_then = g_date_time_new_from_unix_utc (now - 45 * 86400);
  g_autoptr(GDateTime) too_early = g_date_time_new_from_unix_utc (now - 90 * 86400);
  X509_STORE *trust = imzala_test_identity_store (pki_root);
  g_autoptr(GError) error = NULL;
  g_autoptr(ImzalaVerifyResult) result = NULL;

  /* The CMS layer signs with an expired certificate (the signing job is the
   * one that refuses); the verifier then reports it. */
  {
    g_autoptr(GBytes) cms = sign_with_identity (leaf, IMZALA_CMS_NONE, NULL);
    result = verify (cms, NULL, trust, IMZALA_VERIFY_NONE, &error);
    g_assert_error (error, IMZALA_ERROR, IMZALA_ERROR_CERTIFICATE_EXPIRED);
    g_clear_error (&error);
  }
  /* Made while the certificate was valid: valid. */
  {
    g_autoptr(GBytes) cms = sign_with_identity (leaf, IMZALA_CMS_NONE, back_then);
    result = verify (cms, NULL, trust, IMZALA_VERIFY_NONE, &error);
    g_assert_no_error (error);
    g_assert_cmpint (g_date_time_to_unix (result->signing_time), ==, now - 45 * 86400);
    g_clear_pointer (&result, imzala_verify_result_free);
  }
  /* Before the certificate existed. */
  {
    g_autoptr(GBytes) cms = sign_with_identity (leaf, IMZALA_CMS_NONE, too_early);
    result = verify (cms, NULL, trust, IMZALA_VERIFY_NONE, &error);
    g_assert_error (error, IMZALA_ERROR, IMZALA_ERROR_CERTIFICATE_EXPIRED);
  }
  X509_STORE_free (trust);
}

/* A CMS signed by OpenSSL itself with the key in hand. @ess_for: NULL for no
 * signing-certificate-v2 attribute, else the certificate it names. */
static GBytes *
openssl_signed (ImzalaTestIdentity *leaf, X509 *ess_for, ImzalaTestIdentity *second_signer)
{
  CMS_ContentInfo *cms;
  CMS_SignerInfo *si;
  BIO *in = BIO_new_mem_buf (text, (int) strlen (text));
  BIO *out = BIO_new (BIO_s_mem ());
  unsigned int flags = CMS_BINARY | CMS_PARTIAL | CMS_NOSMIMECAP;
  char *data;
  long length;
  GBytes *result;

  cms = CMS_sign (NULL, NULL, NULL, NULL, flags);
  g_assert_nonnull (cms);
  si = CMS_add1_signer (cms, leaf->x509, leaf->key, EVP_sha256 (), flags);
  g_assert_nonnull (si);
  if (ess_for != NULL)
    {
      ESS_SIGNING_CERT_V2 *ess = OSSL_ESS_signing_cert_v2_new_init (EVP_sha256 (), ess_for, NULL, 1);
      unsigned char *der = NULL;
      int der_length = i2d_ESS_SIGNING_CERT_V2 (ess, &der);
      ASN1_STRING *sequence = ASN1_STRING_new ();

      g_assert_cmpint (der_length, >, 0);
      ASN1_STRING_set (sequence, der, der_length);
      g_assert_true (CMS_signed_add1_attr_by_NID (si, NID_id_smime_aa_signingCertificateV2,
                                                  V_ASN1_SEQUENCE, sequence, -1));
      ASN1_STRING_free (sequence);
      OPENSSL_free (der);
      ESS_SIGNING_CERT_V2_free (ess);
    }
  if (second_signer != NULL)
    g_assert_nonnull (CMS_add1_signer (cms, second_signer->x509, second_signer->key,
                                       EVP_sha256 (), flags & ~CMS_PARTIAL));
  g_assert_true (CMS_add1_cert (cms, pki_root->x509));
  g_assert_true (CMS_final (cms, in, NULL, flags));
  g_assert_true (i2d_CMS_bio (out, cms));
  length = BIO_get_mem_data (out, &data);
  result = g_bytes_new (data, length);
  BIO_free (in);
  BIO_free (out);
  CMS_ContentInfo_free (cms);
  return result;
}

static void
test_signing_certificate_v2 (void)
{
  g_autoptr(ImzalaTestIdentity) leaf = make_leaf ("rsa2048", 0, 0);
  g_autoptr(ImzalaTestIdentity) other = make_leaf ("rsa2048", 0, 0);
  X509_STORE *trust = imzala_test_identity_store (pki_root);
  g_autoptr(GError) error = NULL;
  g_autoptr(ImzalaVerifyResult) result = NULL;

  /* OpenSSL's own CMS with a correct ESS attribute: the verifier is not
   * tied to İmzala's builder. */
  {
    g_autoptr(GBytes) cms = openssl_signed (leaf, leaf->x509, NULL);
    result = verify (cms, NULL, trust, IMZALA_VERIFY_NONE, &error);
    g_assert_no_error (error);
    g_assert_true (result->has_signing_certificate_v2);
    g_clear_pointer (&result, imzala_verify_result_free);
  }
  /* Plain CMS without it: refused unless allowed. */
  {
    g_autoptr(GBytes) cms = openssl_signed (leaf, NULL, NULL);
    result = verify (cms, NULL, trust, IMZALA_VERIFY_NONE, &error);
    g_assert_error (error, IMZALA_ERROR, IMZALA_ERROR_SIGNING_CERTIFICATE_MISMATCH);
    g_clear_error (&error);
    result = verify (cms, NULL, trust, IMZALA_VERIFY_ALLOW_NO_SIGNING_CERT, &error);
    g_assert_no_error (error);
    g_assert_false (result->has_signing_certificate_v2);
    g_clear_pointer (&result, imzala_verify_result_free);
  }
  /* Naming another certificate: refused, even when allowed to be absent. */
  {
    g_autoptr(GBytes) cms = openssl_signed (leaf, other->x509, NULL);
    result = verify (cms, NULL, trust, IMZALA_VERIFY_NONE, &error);
    g_assert_error (error, IMZALA_ERROR, IMZALA_ERROR_SIGNING_CERTIFICATE_MISMATCH);
    g_clear_error (&error);
    result = verify (cms, NULL, trust, IMZALA_VERIFY_ALLOW_NO_SIGNING_CERT, &error);
    g_assert_error (error, IMZALA_ERROR, IMZALA_ERROR_SIGNING_CERTIFICATE_MISMATCH);
    g_clear_error (&error);
  }
  /* Two signers. */
  {
    g_autoptr(GBytes) cms = openssl_signed (leaf, leaf->x509, other);
    result = verify (cms, NULL, trust, IMZALA_VERIFY_NONE, &error);
    g_assert_error (error, IMZALA_ERROR, IMZALA_ERROR_CMS_INVALID);
  }
  X509_STORE_free (trust);
}

static GBytes *
failing_sign (GBytes *tbs, ImzalaDigest digest, gpointer data, GCancellable *c, GError **error)
{
  g_set_error_literal (error, IMZALA_ERROR, IMZALA_ERROR_PIN_INCORRECT, "Wrong PIN.");
  return NULL;
}

static void
test_sign_errors (void)
{
  g_autoptr(ImzalaTestIdentity) leaf = make_leaf ("p256", 0, 0);
  g_autoptr(ImzalaTestIdentity) impostor = make_leaf ("p256", 0, 0);
  g_autoptr(ImzalaCertificate) signer = imzala_test_identity_certificate (leaf);
  g_autoptr(GBytes) content = text_bytes ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  GBytes *cms;

  /* The callback's error reaches the caller as it is. */
  cms = imzala_cms_sign (signer, NULL, content, IMZALA_CMS_NONE, NULL, failing_sign, NULL, NULL,
                         &error);
  g_assert_null (cms);
  g_assert_error (error, IMZALA_ERROR, IMZALA_ERROR_PIN_INCORRECT);
  g_clear_error (&error);

  /* A token that signs with another key: caught before anything leaves. */
  cms = imzala_cms_sign (signer, NULL, content, IMZALA_CMS_NONE, NULL, imzala_test_identity_sign,
                         impostor, NULL, &error);
  g_assert_null (cms);
  g_assert_error (error, IMZALA_ERROR, IMZALA_ERROR_SIGNATURE_INVALID);
  g_clear_error (&error);
  g_assert_cmpuint (ERR_peek_error (), ==, 0);

  /* More than İmzala signs (64 MiB): its own code, before the key is used. */
  {
    gsize huge_size = 64 * 1024 * 1024 + 1;
    g_autoptr(GBytes) huge = g_bytes_new_take (g_malloc0 (huge_size), huge_size);

    cms = imzala_cms_sign (signer, NULL, huge, IMZALA_CMS_NONE, NULL, failing_sign, NULL, NULL,
                           &error);
    g_assert_null (cms);
    g_assert_error (error, IMZALA_ERROR, IMZALA_ERROR_CONTENT_TOO_LARGE);
    g_assert_cmpstr (imzala_error_code_to_string (error->code), ==, "content-too-large");
    g_clear_error (&error);
  }

  g_cancellable_cancel (cancellable);
  cms = imzala_cms_sign (signer, NULL, content, IMZALA_CMS_NONE, NULL, imzala_test_identity_sign,
                         leaf, cancellable, &error);
  g_assert_null (cms);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
}

static void
assert_refused (GBytes *input, X509_STORE *trust)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(ImzalaVerifyResult) result = verify (input, NULL, trust, IMZALA_VERIFY_NONE, &error);

  g_assert_null (result);
  g_assert_true (error->domain == IMZALA_ERROR);
}

static void
test_garbage (void)
{
  g_autoptr(ImzalaTestIdentity) leaf = make_leaf ("p256", 0, 0);
  g_autoptr(GBytes) cms = sign_with_identity (leaf, IMZALA_CMS_NONE, NULL);
  X509_STORE *trust = imzala_test_identity_store (pki_root);
  static const char *const junk[] = {
    "",
    "\x30",
    "\x30\x80",
    "\x30\x84\xff\xff\xff\xff",
    "hello, this is not a signature",
    "-----BEGIN CMS-----\nAAAA\n-----END CMS-----\n",
    "-----BEGIN",
  };
  gsize size;
  const guint8 *data = g_bytes_get_data (cms, &size);
  guint accepted = 0;

  for (gsize i = 0; i < G_N_ELEMENTS (junk); i++)
    {
      g_autoptr(GBytes) input = g_bytes_new_static (junk[i], strlen (junk[i]));
      g_autoptr(GError) error = NULL;
      g_autoptr(ImzalaVerifyResult) result = verify (input, NULL, trust, IMZALA_VERIFY_NONE, &error);
      g_assert_error (error, IMZALA_ERROR, IMZALA_ERROR_CMS_INVALID);
    }

  /* Every truncation is refused as unreadable. */
  for (gsize length = 0; length < size; length++)
    {
      g_autoptr(GBytes) input = g_bytes_new (data, length);
      g_autoptr(GError) error = NULL;
      g_autoptr(ImzalaVerifyResult) result = verify (input, NULL, trust, IMZALA_VERIFY_NONE, &error);
      g_assert_error (error, IMZALA_ERROR, IMZALA_ERROR_CMS_INVALID);
    }

  /* A trailing byte too. */
  {
    g_autoptr(GByteArray) longer = g_byte_array_new ();
    g_autoptr(GBytes) input = NULL;

    g_byte_array_append (longer, data, size);
    g_byte_array_append (longer, (const guint8 *) "", 1);
    input = g_byte_array_free_to_bytes (g_steal_pointer (&longer));
    assert_refused (input, trust);
  }

  /* One flipped bit anywhere: never a crash, and refused unless it is in
   * the copy of the root certificate (the trust store's copy is the one
   * used, so the CMS's copy is not covered by anything) or in one of the
   * few bits no verifier looks at (such as the SignerInfo version). */
  {
    unsigned char *root_der = NULL;
    int root_length = i2d_X509 (pki_root->x509, &root_der);
    const guint8 *root_in_cms = memmem (data, size, root_der, root_length);
    gsize root_start, root_end;

    g_assert_nonnull (root_in_cms);
    root_start = root_in_cms - data;
    root_end = root_start + root_length;
    OPENSSL_free (root_der);

    for (gsize offset = 0; offset < size; offset++)
      {
        g_autoptr(GBytes) input = flip_byte (cms, offset);
        g_autoptr(GError) error = NULL;
        g_autoptr(ImzalaVerifyResult) result = verify (input, NULL, trust, IMZALA_VERIFY_NONE,
                                                       &error);

        if (result != NULL && (offset < root_start || offset >= root_end))
          {
            g_test_message ("A change at byte %" G_GSIZE_FORMAT " still verifies", offset);
            accepted++;
          }
      }
  }
  g_test_message ("%u of %" G_GSIZE_FORMAT " single-bit changes outside the root copy verify",
                  accepted, size);
  g_assert_cmpuint (accepted, <, 4);

  X509_STORE_free (trust);
}

static void
test_load_trust_file (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("imzala-test-cms-XXXXXX", &error);
  g_autofree char *good = g_build_filename (dir, "ca.pem", NULL);
  g_autofree char *bad = g_build_filename (dir, "bad.pem", NULL);
  g_autofree char *missing = g_build_filename (dir, "missing.pem", NULL);
  X509_STORE *store;
  BIO *bio = BIO_new (BIO_s_mem ());
  char *data;
  long length;

  g_assert_no_error (error);
  PEM_write_bio_X509 (bio, pki_root->x509);
  PEM_write_bio_X509 (bio, pki_other_root->x509);
  length = BIO_get_mem_data (bio, &data);
  g_assert_true (g_file_set_contents (good, data, length, &error));
  BIO_free (bio);
  g_assert_true (g_file_set_contents (bad, "not a certificate\n", -1, &error));

  store = imzala_cms_load_trust_file (good, &error);
  g_assert_no_error (error);
  g_assert_nonnull (store);
  {
    STACK_OF (X509) *all = X509_STORE_get1_all_certs (store);
    g_assert_cmpint (sk_X509_num (all), ==, 2);
    sk_X509_pop_free (all, X509_free);
  }
  X509_STORE_free (store);

  store = imzala_cms_load_trust_file (bad, &error);
  g_assert_null (store);
  g_assert_error (error, IMZALA_ERROR, IMZALA_ERROR_CERTIFICATE_INVALID);
  g_clear_error (&error);

  store = imzala_cms_load_trust_file (missing, &error);
  g_assert_null (store);
  g_assert_error (error, IMZALA_ERROR, IMZALA_ERROR_FAILED);

  g_unlink (good);
  g_unlink (bad);
  g_rmdir (dir);
}

/* ---- On the SoftHSM fixture tokens ---- */

static ImzalaTestFixture *fixture;
static ImzalaModuleSet *modules;
static GPtrArray *tokens;

static ImzalaCertificate *
fixture_certificate (const char *name)
{
  g_autofree char *fingerprint = imzala_test_fixture_cert_get (fixture, name, "fingerprint");

  for (guint i = 0; i < tokens->len; i++)
    {
      GPtrArray *certificates = imzala_token_get_certificates (g_ptr_array_index (tokens, i));

      for (guint j = 0; j < certificates->len; j++)
        {
          ImzalaCertificate *certificate = g_ptr_array_index (certificates, j);

          if (g_str_equal (imzala_certificate_get_fingerprint (certificate), fingerprint))
            return certificate;
        }
    }
  g_error ("The fixture certificate %s is not on any token", name);
  return NULL;
}

static char *
write_temp_in (const char *dir, const char *name, GBytes *bytes)
{
  g_autoptr(GError) error = NULL;
  char *path = g_build_filename (dir, name, NULL);

  g_assert_true (g_file_set_contents (path, g_bytes_get_data (bytes, NULL),
                                      g_bytes_get_size (bytes), &error));
  g_assert_no_error (error);
  return path;
}

static char *
write_temp (const char *name, GBytes *bytes)
{
  return write_temp_in (fixture->dir, name, bytes);
}

/* Runs openssl; returns its exit status, fills @out with its stdout. */
static int
run_openssl (const char *const *argv, char **out)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *err = NULL;
  int status = 0;

  g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, out, &err, &status,
                &error);
  g_assert_no_error (error);
  if (!g_spawn_check_wait_status (status, NULL))
    g_test_message ("openssl said: %s", err);
  return status;
}

/* The independent verifier: `openssl cms -verify` trusting @ca_file, with
 * its files in @dir. */
static gboolean
openssl_accepts_in (const char *dir, const char *ca_file, GBytes *cms, GBytes *detached_content)
{
  g_autofree char *cms_path = write_temp_in (dir, "signature.p7s", cms);
  g_autofree char *content_path = NULL;
  g_autofree char *out_path = g_build_filename (dir, "verified.txt", NULL);
  g_autofree char *out = NULL;
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  int status;

  g_ptr_array_add (argv, (char *) "openssl");
  g_ptr_array_add (argv, (char *) "cms");
  g_ptr_array_add (argv, (char *) "-verify");
  g_ptr_array_add (argv, (char *) "-binary");
  g_ptr_array_add (argv, (char *) "-inform");
  g_ptr_array_add (argv, (char *) "DER");
  g_ptr_array_add (argv, (char *) "-CAfile");
  g_ptr_array_add (argv, (char *) ca_file);
  g_ptr_array_add (argv, (char *) "-in");
  g_ptr_array_add (argv, cms_path);
  g_ptr_array_add (argv, (char *) "-out");
  g_ptr_array_add (argv, out_path);
  if (detached_content != NULL)
    {
      content_path = write_temp_in (dir, "content.txt", detached_content);
      g_ptr_array_add (argv, (char *) "-content");
      g_ptr_array_add (argv, content_path);
    }
  g_ptr_array_add (argv, NULL);

  status = run_openssl ((const char *const *) argv->pdata, &out);
  if (status == 0)
    {
      g_autofree char *verified = NULL;
      gsize length;

      /* What openssl says was signed is our text. */
      g_assert_true (g_file_get_contents (out_path, &verified, &length, NULL));
      g_assert_cmpmem (verified, length, text, strlen (text));
    }
  return status == 0;
}

/* The same with the fixture's root. */
static gboolean
openssl_accepts (GBytes *cms, GBytes *detached_content)
{
  return openssl_accepts_in (fixture->dir, fixture->root_ca_file, cms, detached_content);
}

/* The builder with a key held in this process: no token, no SoftHSM, no
 * PKCS#11, only the sign callback. `openssl cms -verify` accepts every key
 * type, attached and detached. */
static void
test_software_openssl_verifies (void)
{
  const char *const keys[] = { "rsa2048", "p256", "p384" };
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("imzala-test-cms-XXXXXX", &error);
  g_autoptr(ImzalaCertificate) root = imzala_test_identity_certificate (pki_root);
  g_autofree char *root_file = NULL;
  g_autoptr(GBytes) content = text_bytes ();
  BIO *bio = BIO_new (BIO_s_mem ());
  char *pem;
  long pem_length;

  g_assert_no_error (error);
  g_assert_true (PEM_write_bio_X509 (bio, imzala_certificate_get_x509 (root)));
  pem_length = BIO_get_mem_data (bio, &pem);
  {
    g_autoptr(GBytes) pem_bytes = g_bytes_new (pem, pem_length);

    root_file = write_temp_in (dir, "root.pem", pem_bytes);
  }
  BIO_free (bio);

  for (gsize i = 0; i < G_N_ELEMENTS (keys); i++)
    {
      g_autoptr(ImzalaTestIdentity) leaf = make_leaf (keys[i], 0, 0);
      g_autoptr(GBytes) attached = sign_with_identity (leaf, IMZALA_CMS_NONE, NULL);
      g_autoptr(GBytes) detached = sign_with_identity (leaf, IMZALA_CMS_DETACHED, NULL);
      g_autoptr(GBytes) other = g_bytes_new_static ("başka", strlen ("başka"));

      g_test_message ("key %s", keys[i]);
      g_assert_true (openssl_accepts_in (dir, root_file, attached, NULL));
      g_assert_true (openssl_accepts_in (dir, root_file, detached, content));
      g_assert_false (openssl_accepts_in (dir, root_file, detached, other));
    }

  for (gsize i = 0; i < 4; i++)
    {
      const char *const names[] = { "signature.p7s", "verified.txt", "content.txt", "root.pem" };
      g_autofree char *path = g_build_filename (dir, names[i], NULL);

      g_unlink (path);
    }
  g_assert_cmpint (g_rmdir (dir), ==, 0);
}

/* `openssl cms -cmsout -print`: the structure as OpenSSL sees it. */
static char *
openssl_print (GBytes *cms)
{
  g_autofree char *cms_path = write_temp ("print.p7s", cms);
  const char *argv[] = { "openssl", "cms", "-cmsout", "-print", "-noout", "-inform", "DER",
                         "-in", cms_path, NULL };
  char *out = NULL;

  g_assert_cmpint (run_openssl (argv, &out), ==, 0);
  return out;
}

typedef struct
{
  const char *certificate;
  gboolean    detached;
  int         signature_nid;
  ImzalaDigest digest;
} TokenCase;

/* imzala_token_sign_cms() on the token @signer was read from. */
static GBytes *
token_sign_cms (ImzalaCertificate *signer,
                ImzalaSecret      *pin,
                GBytes            *content,
                ImzalaCmsFlags     flags,
                GError           **error)
{
  ImzalaToken *token = imzala_module_set_find_token (tokens, signer);

  g_assert_nonnull (token);
  return imzala_token_sign_cms (token, signer, pin, content, flags, NULL, error);
}

static void
test_token_sign (gconstpointer data)
{
  const TokenCase *tc = data;
  ImzalaCertificate *signer = fixture_certificate (tc->certificate);
  g_autoptr(ImzalaSecret) pin = imzala_test_secret ("123456");
  g_autoptr(GBytes) content = text_bytes ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) cms = NULL;
  g_autoptr(ImzalaVerifyResult) result = NULL;
  g_autofree char *printed = NULL;
  X509_STORE *trust;

  cms = token_sign_cms (signer, pin, content,
                        tc->detached ? IMZALA_CMS_DETACHED : IMZALA_CMS_NONE, &error);
  g_assert_no_error (error);
  g_assert_nonnull (cms);
  g_assert_cmpint (signature_nid (cms), ==, tc->signature_nid);

  /* Our verifier, trusting only the root: the issuing CA certificate must
   * have come from the token into the CMS. */
  trust = imzala_cms_load_trust_file (fixture->root_ca_file, &error);
  g_assert_no_error (error);
  result = verify (cms, tc->detached ? content : NULL, trust, IMZALA_VERIFY_NONE, &error);
  g_assert_no_error (error);
  g_assert_cmpint (result->detached, ==, tc->detached);
  g_assert_cmpint (result->digest, ==, tc->digest);
  g_assert_true (result->has_signing_certificate_v2);
  g_assert_cmpstr (imzala_certificate_get_fingerprint (result->signer), ==,
                   imzala_certificate_get_fingerprint (signer));
  g_assert_cmpstr (imzala_certificate_get_tckn (result->signer), ==,
                   imzala_certificate_get_tckn (signer));
  X509_STORE_free (trust);

  /* The independent verifier. */
  g_assert_true (openssl_accepts (cms, tc->detached ? content : NULL));
  printed = openssl_print (cms);
  g_assert_nonnull (strstr (printed, "id-smime-aa-signingCertificateV2"));
  g_assert_nonnull (strstr (printed, "signingTime"));
  g_assert_nonnull (strstr (printed, "messageDigest"));
  g_assert_nonnull (strstr (printed, "contentType"));
}

static void
test_token_expired (void)
{
  ImzalaCertificate *signer = fixture_certificate ("ayse-expired");
  g_autoptr(ImzalaSecret) pin = imzala_test_secret ("123456");
  g_autoptr(GBytes) content = text_bytes ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) cms = NULL;
  g_autoptr(ImzalaVerifyResult) result = NULL;
  X509_STORE *trust;

  /* The CMS layer signs; the signing job is what refuses expired
   * certificates. The verifier reports it, and so does openssl. */
  cms = token_sign_cms (signer, pin, content, IMZALA_CMS_NONE, &error);
  g_assert_no_error (error);

  trust = imzala_cms_load_trust_file (fixture->root_ca_file, &error);
  g_assert_no_error (error);
  result = verify (cms, NULL, trust, IMZALA_VERIFY_NONE, &error);
  g_assert_error (error, IMZALA_ERROR, IMZALA_ERROR_CERTIFICATE_EXPIRED);
  X509_STORE_free (trust);

  g_assert_false (openssl_accepts (cms, NULL));
}

static void
test_token_wrong_ca (void)
{
  ImzalaCertificate *signer = fixture_certificate ("ayse-p384");
  g_autoptr(ImzalaSecret) pin = imzala_test_secret ("123456");
  g_autoptr(GBytes) content = text_bytes ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) cms = NULL;
  g_autoptr(ImzalaVerifyResult) result = NULL;
  X509_STORE *trust = imzala_test_identity_store (pki_root);

  cms = token_sign_cms (signer, pin, content, IMZALA_CMS_NONE, &error);
  g_assert_no_error (error);
  result = verify (cms, NULL, trust, IMZALA_VERIFY_NONE, &error);
  g_assert_error (error, IMZALA_ERROR, IMZALA_ERROR_UNTRUSTED);
  X509_STORE_free (trust);
}

static void
test_token_tampered (void)
{
  ImzalaCertificate *signer = fixture_certificate ("ayse-rsa");
  g_autoptr(ImzalaSecret) pin = imzala_test_secret ("123456");
  g_autoptr(GBytes) content = text_bytes ();
  g_autoptr(GBytes) changed = g_bytes_new_static ("İmzalanacak Metin 2", strlen ("İmzalanacak Metin 2"));
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) cms = NULL;
  g_autoptr(GBytes) bad_signature = NULL;
  g_autoptr(ImzalaVerifyResult) result = NULL;
  X509_STORE *trust;

  cms = token_sign_cms (signer, pin, content, IMZALA_CMS_DETACHED, &error);
  g_assert_no_error (error);
  trust = imzala_cms_load_trust_file (fixture->root_ca_file, &error);
  g_assert_no_error (error);

  result = verify (cms, changed, trust, IMZALA_VERIFY_NONE, &error);
  g_assert_error (error, IMZALA_ERROR, IMZALA_ERROR_CONTENT_MISMATCH);
  g_clear_error (&error);
  g_assert_false (openssl_accepts (cms, changed));

  bad_signature = flip_byte (cms, g_bytes_get_size (cms) - 7);
  result = verify (bad_signature, content, trust, IMZALA_VERIFY_NONE, &error);
  g_assert_error (error, IMZALA_ERROR, IMZALA_ERROR_SIGNATURE_INVALID);
  g_assert_false (openssl_accepts (bad_signature, content));

  X509_STORE_free (trust);
}

static void
sign_async_done (GObject *source, GAsyncResult *res, gpointer user_data)
{
  GBytes **out = user_data;
  g_autoptr(GError) error = NULL;

  *out = imzala_token_sign_cms_finish (IMZALA_TOKEN (source), res, &error);
  g_assert_no_error (error);
}

static void
test_token_async (void)
{
  ImzalaCertificate *signer = fixture_certificate ("mehmet-p256");
  g_autoptr(ImzalaSecret) pin = imzala_test_secret ("123456");
  g_autoptr(GBytes) content = text_bytes ();
  g_autoptr(GBytes) cms = NULL;

  imzala_token_sign_cms_async (imzala_module_set_find_token (tokens, signer), signer, pin, content,
                               IMZALA_CMS_NONE, NULL, sign_async_done, &cms);
  while (cms == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_assert_true (openssl_accepts (cms, NULL));
}

static void
test_token_no_private_key (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) content = text_bytes ();
  g_autoptr(ImzalaSecret) pin = imzala_test_secret ("123456");
  g_autoptr(ImzalaTestIdentity) leaf = make_leaf ("p256", 0, 0);
  g_autoptr(ImzalaCertificate) loose = imzala_test_identity_certificate (leaf);
  GBytes *cms;

  /* A certificate that was not read from this token. */
  cms = imzala_token_sign_cms (imzala_module_set_find_token (tokens, fixture_certificate ("ayse-rsa")),
                               loose, pin, content, IMZALA_CMS_NONE, NULL, &error);
  g_assert_null (cms);
  g_assert_error (error, IMZALA_ERROR, IMZALA_ERROR_NO_TOKEN);
}

static const TokenCase token_cases[] = {
  { "ayse-rsa", FALSE, NID_sha256WithRSAEncryption, IMZALA_DIGEST_SHA256 },
  { "ayse-rsa", TRUE, NID_sha256WithRSAEncryption, IMZALA_DIGEST_SHA256 },
  { "ayse-p384", FALSE, NID_ecdsa_with_SHA384, IMZALA_DIGEST_SHA384 },
  { "ayse-p384", TRUE, NID_ecdsa_with_SHA384, IMZALA_DIGEST_SHA384 },
  { "mehmet-p256", FALSE, NID_ecdsa_with_SHA256, IMZALA_DIGEST_SHA256 },
  { "mehmet-p256", TRUE, NID_ecdsa_with_SHA256, IMZALA_DIGEST_SHA256 },
};

/* ---- Big content, as a stream (issue 12) ---- */

static void
count_progress_cb (guint64 done, guint64 total, gpointer user_data)
{
  guint64 *last = user_data;

  g_assert_cmpuint (done, >, *last);
  *last = done;
}

static GBytes *
stream_content (gsize size)
{
  guint8 *data = g_malloc (size + 1);
  GRand *rand = g_rand_new_with_seed (12);

  for (gsize i = 0; i < size; i++)
    data[i] = (guint8) g_rand_int_range (rand, 0, 256);
  g_rand_free (rand);
  return g_bytes_new_take (data, size);
}

/* The streaming path makes the same bytes as the one in memory (RSA
 * PKCS#1 v1.5 is deterministic), whatever the length's DER form, and a
 * content that is not the one hashed is refused. */
static void
test_stream (void)
{
  g_autoptr(ImzalaTestIdentity) leaf = make_leaf ("rsa2048", 0, 0);
  g_autoptr(ImzalaCertificate) signer = imzala_test_identity_certificate (leaf);
  g_autoptr(ImzalaCertificate) root = imzala_test_identity_certificate (pki_root);
  g_autoptr(GPtrArray) extra = g_ptr_array_new ();
  g_autoptr(GDateTime) when = signing_time ();
  X509_STORE *trust = imzala_test_identity_store (pki_root);
  const gsize sizes[] = { 0, 1, 127, 128, 255, 256, 65535, 65536, 1024 * 1024 + 7 };

  g_ptr_array_add (extra, root);
  for (gsize i = 0; i < G_N_ELEMENTS (sizes); i++)
    {
      g_autoptr(GBytes) content = stream_content (sizes[i]);
      g_autoptr(GInputStream) input = g_memory_input_stream_new_from_bytes (content);
      g_autoptr(GInputStream) again = g_memory_input_stream_new_from_bytes (content);
      g_autoptr(GOutputStream) output = g_memory_output_stream_new_resizable ();
      g_autoptr(GBytes) digest = NULL;
      g_autoptr(GBytes) detached = NULL;
      g_autoptr(GBytes) detached_in_memory = NULL;
      g_autoptr(GBytes) attached_in_memory = NULL;
      g_autoptr(GBytes) streamed = NULL;
      g_autoptr(ImzalaVerifyResult) result = NULL;
      g_autoptr(GError) error = NULL;
      guint64 length = 0;
      guint64 last = 0;

      digest = imzala_cms_digest_stream (input, IMZALA_DIGEST_SHA256, sizes[i], count_progress_cb,
                                         &last, &length, NULL, &error);
      g_assert_no_error (error);
      g_assert_cmpuint (length, ==, sizes[i]);
      g_assert_cmpuint (last, ==, sizes[i]);
      detached = imzala_cms_sign_digest (signer, extra, digest, when, imzala_test_identity_sign,
                                         leaf, NULL, &error);
      g_assert_no_error (error);
      detached_in_memory = imzala_cms_sign (signer, extra, content, IMZALA_CMS_DETACHED, when,
                                            imzala_test_identity_sign, leaf, NULL, &error);
      g_assert_no_error (error);
      g_assert_true (g_bytes_equal (detached, detached_in_memory));

      last = 0;
      g_assert_true (imzala_cms_write_attached (detached, again, sizes[i], digest,
                                                IMZALA_DIGEST_SHA256, output, count_progress_cb,
                                                &last, NULL, &error));
      g_assert_no_error (error);
      g_assert_cmpuint (last, ==, sizes[i]);
      g_assert_true (g_output_stream_close (output, NULL, NULL));
      streamed = g_memory_output_stream_steal_as_bytes (G_MEMORY_OUTPUT_STREAM (output));
      attached_in_memory = imzala_cms_sign (signer, extra, content, IMZALA_CMS_NONE, when,
                                            imzala_test_identity_sign, leaf, NULL, &error);
      g_assert_no_error (error);
      g_assert_true (g_bytes_equal (streamed, attached_in_memory));
      result = verify (streamed, NULL, trust, IMZALA_VERIFY_NONE, &error);
      g_assert_no_error (error);
      g_assert_true (g_bytes_equal (result->content, content));
    }

  /* A content that is not the one hashed: changed, shorter, longer. */
  {
    g_autoptr(GBytes) content = stream_content (300000);
    g_autoptr(GInputStream) input = g_memory_input_stream_new_from_bytes (content);
    g_autoptr(GBytes) digest = imzala_cms_digest_stream (input, IMZALA_DIGEST_SHA256, 0, NULL,
                                                         NULL, NULL, NULL, NULL);
    g_autoptr(GBytes) detached = imzala_cms_sign_digest (signer, extra, digest, when,
                                                         imzala_test_identity_sign, leaf, NULL,
                                                         NULL);
    g_autofree guint8 *changed = g_memdup2 (g_bytes_get_data (content, NULL), 300000);
    struct { const guint8 *data; gsize size; guint64 claimed; } cases[] = {
      { changed, 300000, 300000 },
      { changed, 299999, 300000 },
      { changed, 300000, 299999 },
    };

    g_assert_nonnull (detached);
    changed[150000] ^= 1;
    for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
      {
        g_autoptr(GInputStream) other = g_memory_input_stream_new_from_data (cases[i].data,
                                                                             cases[i].size, NULL);
        g_autoptr(GOutputStream) output = g_memory_output_stream_new_resizable ();
        g_autoptr(GError) error = NULL;

        if (i > 0)
          changed[150000] ^= 1;
        g_assert_false (imzala_cms_write_attached (detached, other, cases[i].claimed, digest,
                                                   IMZALA_DIGEST_SHA256, output, NULL, NULL, NULL,
                                                   &error));
        g_assert_error (error, IMZALA_ERROR, IMZALA_ERROR_CONTENT_MISMATCH);
        if (i > 0)
          changed[150000] ^= 1;
      }

    /* More than an attached signature can carry: refused before writing. */
    {
      g_autoptr(GOutputStream) output = g_memory_output_stream_new_resizable ();
      g_autoptr(GError) error = NULL;

      g_assert_false (imzala_cms_write_attached (detached, input, IMZALA_CMS_MAX_ATTACHED_SIZE + 1,
                                                 digest, IMZALA_DIGEST_SHA256, output, NULL, NULL,
                                                 NULL, &error));
      g_assert_error (error, IMZALA_ERROR, IMZALA_ERROR_CONTENT_TOO_LARGE);
      g_assert_cmpuint (g_memory_output_stream_get_data_size (G_MEMORY_OUTPUT_STREAM (output)), ==, 0);
    }
  }
  g_assert_cmpuint (ERR_peek_error (), ==, 0);
  X509_STORE_free (trust);
}

/* A reader that gives at most @step bytes a call, and fails at @fail_at
 * (G_MAXSIZE: never); a writer that fails once it holds @fail_at bytes. */
typedef struct
{
  GBytes     *content;
  gsize       offset;
  gsize       step;
  gsize       fail_at;
  GByteArray *written;
} Trickle;

static gssize
trickle_read (gpointer user_data, guint8 *buffer, gsize size, GError **error)
{
  Trickle *t = user_data;
  gsize total;
  const guint8 *data = g_bytes_get_data (t->content, &total);

  if (t->offset >= t->fail_at)
    {
      g_set_error_literal (error, G_FILE_ERROR, G_FILE_ERROR_IO, "the disk went away");
      return -1;
    }
  size = MIN (MIN (size, t->step), total - t->offset);
  memcpy (buffer, data + t->offset, size);
  t->offset += size;
  return (gssize) size;
}

static gboolean
trickle_write (gpointer user_data, const guint8 *buffer, gsize size, GError **error)
{
  Trickle *t = user_data;

  if (t->written->len + size > t->fail_at)
    {
      g_set_error_literal (error, G_FILE_ERROR, G_FILE_ERROR_NOSPC, "the disk is full");
      return FALSE;
    }
  g_byte_array_append (t->written, buffer, (guint) size);
  return TRUE;
}

/* imzala_cms_digest_read() and imzala_cms_write_attached_with(), what
 * imzala-cli signs through without GIO: short reads give the same bytes as
 * the GIO streams, and a reader's or a writer's error comes back as it is. */
static void
test_stream_callbacks (void)
{
  g_autoptr(ImzalaTestIdentity) leaf = make_leaf ("rsa2048", 0, 0);
  g_autoptr(ImzalaCertificate) signer = imzala_test_identity_certificate (leaf);
  g_autoptr(GDateTime) when = signing_time ();
  g_autoptr(GBytes) content = stream_content (300001);
  g_autoptr(GByteArray) written = g_byte_array_new ();
  Trickle reader = { content, 0, 4093, G_MAXSIZE, NULL };
  Trickle writer = { NULL, 0, 0, G_MAXSIZE, written };
  g_autoptr(GBytes) digest = NULL;
  g_autoptr(GBytes) detached = NULL;
  g_autoptr(GBytes) attached = NULL;
  g_autoptr(GError) error = NULL;
  guint64 length = 0;
  guint64 last = 0;

  digest = imzala_cms_digest_read (trickle_read, &reader, IMZALA_DIGEST_SHA256, 0, count_progress_cb,
                                   &last, &length, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (length, ==, 300001);
  g_assert_cmpuint (last, ==, 300001);
  detached = imzala_cms_sign_digest (signer, NULL, digest, when, imzala_test_identity_sign, leaf,
                                     NULL, &error);
  g_assert_no_error (error);

  reader.offset = 0;
  reader.step = 1;
  g_assert_true (imzala_cms_write_attached_with (detached, trickle_read, &reader, 300001, digest,
                                                 IMZALA_DIGEST_SHA256, trickle_write, &writer,
                                                 NULL, NULL, &error));
  g_assert_no_error (error);
  attached = imzala_cms_sign (signer, NULL, content, IMZALA_CMS_NONE, when,
                              imzala_test_identity_sign, leaf, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpmem (written->data, written->len, g_bytes_get_data (attached, NULL), g_bytes_get_size (attached));

  /* The reader fails half-way: no digest, the reader's error. */
  reader.offset = 0;
  reader.step = 65536;
  reader.fail_at = 150000;
  g_assert_null (imzala_cms_digest_read (trickle_read, &reader, IMZALA_DIGEST_SHA256, 0, NULL, NULL,
                                         NULL, &error));
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_IO);
  g_clear_error (&error);

  /* The writer fails half-way: FALSE with the writer's error. */
  reader.offset = 0;
  reader.fail_at = G_MAXSIZE;
  g_byte_array_set_size (written, 0);
  writer.fail_at = 200000;
  g_assert_false (imzala_cms_write_attached_with (detached, trickle_read, &reader, 300001, digest,
                                                  IMZALA_DIGEST_SHA256, trickle_write, &writer,
                                                  NULL, NULL, &error));
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_NOSPC);
  g_assert_cmpuint (written->len, <=, 200000);
  g_assert_cmpuint (ERR_peek_error (), ==, 0);
}

/* The certificates a token carries as DER (imzala_cms_sign_full()): put
 * into the certificates SET without being parsed, each once, in the order
 * OpenSSL's own encoder gives a SET OF (d2i then i2d gives the same bytes),
 * and an object that is not a certificate is left out, as a listing leaves
 * it out; what is built verifies, attached and detached. */
static void
test_carried_certificates (void)
{
  g_autoptr(ImzalaTestIdentity) leaf = make_leaf ("rsa2048", 0, 0);
  g_autoptr(ImzalaCertificate) signer = imzala_test_identity_certificate (leaf);
  g_autoptr(ImzalaCertificate) root = imzala_test_identity_certificate (pki_root);
  g_autoptr(ImzalaCertificate) other_root = imzala_test_identity_certificate (pki_other_root);
  g_autoptr(GDateTime) when = signing_time ();
  g_autoptr(GBytes) content = text_bytes ();
  g_autoptr(GPtrArray) extra = g_ptr_array_new ();
  g_autoptr(GPtrArray) ders = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  static const guint8 not_a_certificate[] = { 0x30, 0x03, 0x02, 0x01, 0x05 };
  X509_STORE *trust = imzala_test_identity_store (pki_root);

  g_ptr_array_add (extra, other_root);
  g_ptr_array_add (extra, root);
  g_ptr_array_add (ders, g_bytes_ref (imzala_certificate_get_der (other_root)));
  g_ptr_array_add (ders, g_bytes_new_static (not_a_certificate, sizeof not_a_certificate));
  g_ptr_array_add (ders, g_bytes_ref (imzala_certificate_get_der (signer)));
  g_ptr_array_add (ders, g_bytes_ref (imzala_certificate_get_der (root)));
  g_ptr_array_add (ders, g_bytes_ref (imzala_certificate_get_der (other_root)));

  for (guint detached = 0; detached < 2; detached++)
    {
      ImzalaCmsFlags flags = detached ? IMZALA_CMS_DETACHED : IMZALA_CMS_NONE;
      g_autoptr(GBytes) carried = NULL;
      g_autoptr(GBytes) from_certificates = NULL;
      g_autoptr(ImzalaVerifyResult) result = NULL;
      g_autoptr(GError) error = NULL;
      const unsigned char *p;
      unsigned char *again = NULL;
      gsize size;
      int again_length;
      CMS_ContentInfo *cms;
      STACK_OF (X509) *certificates;

      carried = imzala_cms_sign_full (signer, ders, content, NULL, flags, when,
                                      imzala_test_identity_sign, leaf, NULL, &error);
      g_assert_no_error (error);
      from_certificates = imzala_cms_sign (signer, extra, content, flags, when,
                                           imzala_test_identity_sign, leaf, NULL, &error);
      g_assert_no_error (error);
      g_assert_true (g_bytes_equal (carried, from_certificates));

      p = g_bytes_get_data (carried, &size);
      cms = d2i_CMS_ContentInfo (NULL, &p, (long) size);
      g_assert_nonnull (cms);
      certificates = CMS_get1_certs (cms);
      g_assert_cmpint (sk_X509_num (certificates), ==, 3);
      sk_X509_pop_free (certificates, X509_free);
      again_length = i2d_CMS_ContentInfo (cms, &again);
      g_assert_cmpint (again_length, ==, (int) size);
      g_assert_cmpmem (again, again_length, g_bytes_get_data (carried, NULL), size);
      OPENSSL_free (again);
      CMS_ContentInfo_free (cms);

      result = verify (carried, detached ? content : NULL, trust, IMZALA_VERIFY_NONE, &error);
      g_assert_no_error (error);
    }
  X509_STORE_free (trust);
}

int
main (int argc, char **argv)
{
  ImzalaTestCertSpec root_spec = { .common_name = "Test Kök", .key = "p384", .ca = TRUE,
                                   .not_before = g_get_real_time () / G_USEC_PER_SEC - 400 * 86400 };
  g_autoptr(GError) error = NULL;
  int status;

  g_test_init (&argc, &argv, NULL);

  pki_root = imzala_test_identity_new (&root_spec, NULL);
  root_spec.common_name = "Başka Kök";
  pki_other_root = imzala_test_identity_new (&root_spec, NULL);

  g_test_add_func ("/cms/software/attached-rsa", test_software_attached_rsa);
  g_test_add_func ("/cms/software/detached-p384", test_software_detached_p384);
  g_test_add_func ("/cms/software/p256", test_software_p256);
  g_test_add_func ("/cms/software/pem-input", test_software_pem_input);
  g_test_add_func ("/cms/software/tampered", test_tampered);
  g_test_add_func ("/cms/software/wrong-ca", test_wrong_ca);
  g_test_add_func ("/cms/software/validity-at-signing-time", test_validity_at_signing_time);
  g_test_add_func ("/cms/software/signing-certificate-v2", test_signing_certificate_v2);
  g_test_add_func ("/cms/software/sign-errors", test_sign_errors);
  g_test_add_func ("/cms/software/garbage", test_garbage);
  g_test_add_func ("/cms/software/openssl-verifies", test_software_openssl_verifies);
  g_test_add_func ("/cms/load-trust-file", test_load_trust_file);

  fixture = imzala_test_fixture_new ();
  modules = imzala_test_fixture_load (fixture, &error);
  g_assert_no_error (error);
  tokens = imzala_module_set_list_tokens (modules, NULL, &error);
  g_assert_no_error (error);

  for (gsize i = 0; i < G_N_ELEMENTS (token_cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/cms/token/%s-%s", token_cases[i].certificate,
                                               token_cases[i].detached ? "detached" : "attached");
      g_test_add_data_func (path, &token_cases[i], test_token_sign);
    }
  g_test_add_func ("/cms/token/expired", test_token_expired);
  g_test_add_func ("/cms/token/wrong-ca", test_token_wrong_ca);
  g_test_add_func ("/cms/token/tampered", test_token_tampered);
  g_test_add_func ("/cms/token/async", test_token_async);
  g_test_add_func ("/cms/token/no-private-key", test_token_no_private_key);
  g_test_add_func ("/cms/software/stream", test_stream);
  g_test_add_func ("/cms/software/stream-callbacks", test_stream_callbacks);
  g_test_add_func ("/cms/software/carried-certificates", test_carried_certificates);

  status = g_test_run ();

  g_ptr_array_unref (tokens);
  g_object_unref (modules);
  imzala_test_fixture_free (fixture);
  imzala_test_identity_free (pki_root);
  imzala_test_identity_free (pki_other_root);
  return status;
}
