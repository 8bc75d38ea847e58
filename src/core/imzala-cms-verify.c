#define G_LOG_DOMAIN "imzala-cms"

#include "config.h"

#include <string.h>
#include <glib/gi18n-lib.h>
/* pem.h first: cms.h declares PEM_read_bio_CMS() with its macros. */
#include <openssl/pem.h>
#include <openssl/cms.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/ess.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include "imzala-cms.h"
#include "imzala-der-private.h"
#include "imzala-error.h"

/* Input larger than this is refused before it reaches the ASN.1 parser. The
 * signing side refuses content above 64 MiB; this leaves room for the
 * certificates and the PEM overhead. */
#define MAX_CMS_SIZE (96 * 1024 * 1024)

/* The verifier is used by the portal on data from the network and will be
 * fuzzed: every step checks its input and fails with an error, never with an
 * assertion. The checks run one by one, in an order that gives the most
 * precise answer (a changed text is CONTENT_MISMATCH, not "invalid
 * signature"); a final CMS_verify() over everything is the safety net. */

void
imzala_verify_result_free (ImzalaVerifyResult *result)
{
  if (result == NULL)
    return;
  g_clear_object (&result->signer);
  g_clear_pointer (&result->signing_time, g_date_time_unref);
  g_clear_pointer (&result->content, g_bytes_unref);
  g_free (result);
}

static void
log_openssl_errors (const char *what)
{
  unsigned long code;

  while ((code = ERR_get_error ()) != 0)
    {
      char buffer[256];

      ERR_error_string_n (code, buffer, sizeof buffer);
      g_debug ("%s: %s", what, buffer);
    }
}

/* ---- Trust ---- */

X509_STORE *
imzala_cms_load_trust_file (const char *path, GError **error)
{
  g_autofree char *contents = NULL;
  gsize length = 0;
  g_autoptr(GError) local_error = NULL;
  X509_STORE *store;
  BIO *bio;
  X509 *x509;
  guint count = 0;

  g_return_val_if_fail (path != NULL, NULL);

  if (!g_file_get_contents (path, &contents, &length, &local_error))
    {
      g_debug ("Cannot read %s: %s", path, local_error->message);
      g_set_error (error, IMZALA_ERROR, IMZALA_ERROR_FAILED,
                   _("The trusted certificates could not be read from “%s”."), path);
      return NULL;
    }

  store = X509_STORE_new ();
  bio = length <= G_MAXINT ? BIO_new_mem_buf (contents, (int) length) : NULL;
  if (store == NULL || bio == NULL)
    {
      X509_STORE_free (store);
      BIO_free (bio);
      g_set_error (error, IMZALA_ERROR, IMZALA_ERROR_FAILED,
                   _("The trusted certificates could not be read from “%s”."), path);
      return NULL;
    }

  while ((x509 = PEM_read_bio_X509 (bio, NULL, NULL, NULL)) != NULL)
    {
      if (X509_STORE_add_cert (store, x509) == 1)
        count++;
      X509_free (x509);
    }
  /* The loop ends with a "no start line" error at the end of the file. */
  ERR_clear_error ();
  BIO_free (bio);

  if (count == 0)
    {
      X509_STORE_free (store);
      g_set_error (error, IMZALA_ERROR, IMZALA_ERROR_CERTIFICATE_INVALID,
                   _("“%s” does not contain any PEM certificate."), path);
      return NULL;
    }

  return store;
}

/* A private store with the caller's trust anchors and our verification time.
 * The caller's store may be shared between threads (the portal verifies
 * several requests at once), so its parameters are never changed. */
static X509_STORE *
store_for_time (X509_STORE *trust, time_t when)
{
  STACK_OF (X509) *anchors = X509_STORE_get1_all_certs (trust);
  X509_STORE *store = X509_STORE_new ();
  gboolean ok = anchors != NULL && store != NULL;

  for (int i = 0; ok && i < sk_X509_num (anchors); i++)
    ok = X509_STORE_add_cert (store, sk_X509_value (anchors, i)) == 1;
  sk_X509_pop_free (anchors, X509_free);
  if (!ok)
    {
      X509_STORE_free (store);
      return NULL;
    }
  X509_VERIFY_PARAM_set_time (X509_STORE_get0_param (store), when);
  return store;
}

/* ---- Reading the CMS ---- */

static CMS_ContentInfo *
parse_cms (GBytes *input)
{
  gsize size;
  const guint8 *data = g_bytes_get_data (input, &size);

  /* Bytes after the SignedData would not be covered by anything we
   * check; a strict verifier refuses them (imzala_der_read_cms()). */
  if (data == NULL || size == 0 || size > MAX_CMS_SIZE)
    return NULL;
  return imzala_der_read_cms (data, size);
}

/* The one value of the signed attribute @nid, or NULL when it is missing.
 * An attribute that appears twice or has several values is malformed:
 * *malformed is set then. */
static ASN1_TYPE *
single_signed_attribute (CMS_SignerInfo *si, int nid, gboolean *malformed)
{
  int first = CMS_signed_get_attr_by_NID (si, nid, -1);
  X509_ATTRIBUTE *attribute;

  if (first < 0)
    return NULL;
  if (CMS_signed_get_attr_by_NID (si, nid, first) >= 0)
    {
      *malformed = TRUE;
      return NULL;
    }
  attribute = CMS_signed_get_attr (si, first);
  if (attribute == NULL || X509_ATTRIBUTE_count (attribute) != 1)
    {
      *malformed = TRUE;
      return NULL;
    }
  return X509_ATTRIBUTE_get0_type (attribute, 0);
}

static GDateTime *
date_time_from_asn1 (const ASN1_TIME *time)
{
  struct tm tm = { 0 };

  if (time == NULL || !ASN1_TIME_check (time) || !ASN1_TIME_to_tm (time, &tm))
    return NULL;
  return g_date_time_new_utc (tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                              tm.tm_hour, tm.tm_min, tm.tm_sec);
}

static gboolean
fail (GError **error, ImzalaError code, const char *message)
{
  g_set_error_literal (error, IMZALA_ERROR, code, message);
  return FALSE;
}

static gboolean
fail_invalid (GError **error, const char *detail)
{
  g_debug ("CMS refused: %s", detail);
  log_openssl_errors ("OpenSSL");
  return fail (error, IMZALA_ERROR_CMS_INVALID,
               _("The signature file is not a signature İmzala can read."));
}

typedef struct
{
  CMS_ContentInfo *cms;
  CMS_SignerInfo *si;
  X509 *signer;            /* borrowed from the CMS */
  STACK_OF (X509) *certs;  /* the certificates inside the CMS */
  const EVP_MD *md;
  ImzalaDigest digest;
  GBytes *content;
  gboolean detached;
  GDateTime *signing_time;
  STACK_OF (X509) *chain;  /* signer first, up to the trust anchor */
  gboolean has_signing_certificate_v2;
} Verification;

static void
verification_clear (Verification *v)
{
  CMS_ContentInfo_free (v->cms);
  sk_X509_pop_free (v->certs, X509_free);
  sk_X509_pop_free (v->chain, X509_free);
  g_clear_pointer (&v->content, g_bytes_unref);
  g_clear_pointer (&v->signing_time, g_date_time_unref);
}

/* The signatureAlgorithm is not covered by the signature, and OpenSSL 3.0
 * does not look at it for ECDSA (the key and the digestAlgorithm decide). A
 * strict verifier still refuses one that contradicts them: the file would
 * mean different things to different verifiers. Accepted: rsaEncryption or
 * <hash>WithRSAEncryption for an RSA key, ecdsa-with-<hash> for an EC key,
 * with <hash> the digestAlgorithm. */
static gboolean
check_signature_algorithm (Verification *v, GError **error)
{
  X509_ALGOR *signature_alg = NULL;
  EVP_PKEY *key = X509_get0_pubkey (v->signer);
  int signature_nid;
  int hash_nid = NID_undef;
  int key_nid = NID_undef;
  gboolean ok = FALSE;

  CMS_SignerInfo_get0_algs (v->si, NULL, NULL, NULL, &signature_alg);
  signature_nid = signature_alg != NULL ? OBJ_obj2nid (signature_alg->algorithm) : NID_undef;

  if (key != NULL && EVP_PKEY_is_a (key, "RSA"))
    {
      if (signature_nid == NID_rsaEncryption)
        ok = TRUE;
      else if (OBJ_find_sigid_algs (signature_nid, &hash_nid, &key_nid))
        ok = key_nid == NID_rsaEncryption && hash_nid == EVP_MD_get_type (v->md);
    }
  else if (key != NULL && EVP_PKEY_is_a (key, "EC"))
    {
      if (OBJ_find_sigid_algs (signature_nid, &hash_nid, &key_nid))
        ok = key_nid == NID_X9_62_id_ecPublicKey && hash_nid == EVP_MD_get_type (v->md);
    }

  ERR_clear_error ();
  if (!ok)
    {
      g_debug ("CMS refused: signature algorithm %s with digest %s",
               OBJ_nid2sn (signature_nid), EVP_MD_get0_name (v->md));
      return fail (error, IMZALA_ERROR_CMS_INVALID,
                   _("The signature uses a signature algorithm that is not accepted."));
    }
  return TRUE;
}

/* Structure: a SignedData over id-data with exactly one SignerInfo, whose
 * certificate is inside, with a hash we accept. */
static gboolean
check_structure (Verification *v, GError **error)
{
  STACK_OF (CMS_SignerInfo) *signers;
  X509_ALGOR *digest_alg = NULL;
  const ASN1_OBJECT *content_type;
  int nid;

  if (OBJ_obj2nid (CMS_get0_type (v->cms)) != NID_pkcs7_signed)
    return fail_invalid (error, "not SignedData");
  content_type = CMS_get0_eContentType (v->cms);
  if (content_type == NULL || OBJ_obj2nid (content_type) != NID_pkcs7_data)
    return fail_invalid (error, "encapsulated content is not id-data");

  signers = CMS_get0_SignerInfos (v->cms);
  if (signers == NULL || sk_CMS_SignerInfo_num (signers) != 1)
    {
      g_debug ("CMS refused: %d signers", signers != NULL ? sk_CMS_SignerInfo_num (signers) : 0);
      return fail (error, IMZALA_ERROR_CMS_INVALID,
                   _("The signature file must have exactly one signer."));
    }
  v->si = sk_CMS_SignerInfo_value (signers, 0);

  CMS_SignerInfo_get0_algs (v->si, NULL, NULL, &digest_alg, NULL);
  nid = digest_alg != NULL ? OBJ_obj2nid (digest_alg->algorithm) : NID_undef;
  switch (nid)
    {
    case NID_sha256:
      v->md = EVP_sha256 ();
      v->digest = IMZALA_DIGEST_SHA256;
      break;
    case NID_sha384:
      v->md = EVP_sha384 ();
      v->digest = IMZALA_DIGEST_SHA384;
      break;
    default:
      g_debug ("CMS refused: digest algorithm %s", OBJ_nid2sn (nid));
      return fail (error, IMZALA_ERROR_CMS_INVALID,
                   _("The signature uses a hash algorithm that is not accepted."));
    }

  v->certs = CMS_get1_certs (v->cms);
  if (v->certs == NULL)
    v->certs = sk_X509_new_null ();
  /* Finds the signer's certificate among the ones inside the CMS and sets it
   * (and its public key) on the SignerInfo. */
  if (CMS_set1_signers_certs (v->cms, NULL, 0) != 1)
    {
      log_openssl_errors ("Finding the signer's certificate");
      return fail (error, IMZALA_ERROR_CMS_INVALID,
                   _("The signature file does not contain the signer’s certificate."));
    }
  CMS_SignerInfo_get0_algs (v->si, NULL, &v->signer, NULL, NULL);
  if (v->signer == NULL)
    return fail (error, IMZALA_ERROR_CMS_INVALID,
                 _("The signature file does not contain the signer’s certificate."));
  return check_signature_algorithm (v, error);
}

/* The signed text: inside the CMS, or given separately for a detached one. */
static gboolean
check_content (Verification *v, GBytes *detached_content, GError **error)
{
  ASN1_OCTET_STRING **slot = CMS_get0_content (v->cms);
  const ASN1_OCTET_STRING *inside = slot != NULL ? *slot : NULL;

  v->detached = inside == NULL;
  if (v->detached)
    {
      if (detached_content == NULL)
        return fail (error, IMZALA_ERROR_CMS_INVALID,
                     _("The signature does not contain the signed text, and no text was given "
                       "to check it against."));
      v->content = g_bytes_ref (detached_content);
      return TRUE;
    }

  v->content = g_bytes_new (ASN1_STRING_get0_data (inside), ASN1_STRING_length (inside));
  /* A text given beside an attached signature must be the one inside it,
   * or the caller would believe something was signed that was not. */
  if (detached_content != NULL && !g_bytes_equal (detached_content, v->content))
    return fail (error, IMZALA_ERROR_CONTENT_MISMATCH,
                 _("The text does not match the one that was signed."));
  return TRUE;
}

/* The signed attributes CAdES-BES needs, each exactly once. */
static gboolean
check_attributes (Verification *v, ImzalaVerifyFlags flags, GError **error)
{
  gboolean malformed = FALSE;
  ASN1_TYPE *content_type;
  ASN1_TYPE *message_digest;
  ASN1_TYPE *signing_time;

  if (CMS_signed_get_attr_count (v->si) <= 0)
    return fail_invalid (error, "no signed attributes");

  content_type = single_signed_attribute (v->si, NID_pkcs9_contentType, &malformed);
  message_digest = single_signed_attribute (v->si, NID_pkcs9_messageDigest, &malformed);
  signing_time = single_signed_attribute (v->si, NID_pkcs9_signingTime, &malformed);
  if (malformed)
    return fail_invalid (error, "a signed attribute is repeated or has several values");

  if (content_type == NULL || ASN1_TYPE_get (content_type) != V_ASN1_OBJECT
      || OBJ_cmp (content_type->value.object, CMS_get0_eContentType (v->cms)) != 0)
    return fail_invalid (error, "contentType attribute missing or wrong");
  if (message_digest == NULL || ASN1_TYPE_get (message_digest) != V_ASN1_OCTET_STRING)
    return fail_invalid (error, "messageDigest attribute missing");

  if (signing_time != NULL)
    {
      int type = ASN1_TYPE_get (signing_time);

      if (type != V_ASN1_UTCTIME && type != V_ASN1_GENERALIZEDTIME)
        return fail_invalid (error, "signingTime is not a time");
      v->signing_time = date_time_from_asn1 (signing_time->value.utctime);
      if (v->signing_time == NULL)
        return fail_invalid (error, "signingTime cannot be read");
    }
  else if ((flags & IMZALA_VERIFY_ALLOW_NO_SIGNING_CERT) == 0)
    {
      /* CAdES-BES: without a signing time there is no time to check the
       * certificate at. Plain CMS (the flag) is checked as of now. */
      return fail (error, IMZALA_ERROR_CMS_INVALID,
                   _("The signature does not say when it was made."));
    }
  return TRUE;
}

static gboolean
check_signature (Verification *v, GError **error)
{
  /* The signature over the DER SET OF signed attributes, with the signer's
   * public key and the signatureAlgorithm of the SignerInfo. */
  if (CMS_SignerInfo_verify (v->si) != 1)
    {
      log_openssl_errors ("CMS_SignerInfo_verify");
      return fail (error, IMZALA_ERROR_SIGNATURE_INVALID,
                   _("The signature is not valid: it was not made with this certificate’s key, "
                     "or it was changed afterwards."));
    }
  return TRUE;
}

static gboolean
check_message_digest (Verification *v, GError **error)
{
  gboolean malformed = FALSE;
  ASN1_TYPE *value = single_signed_attribute (v->si, NID_pkcs9_messageDigest, &malformed);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_length = 0;
  gsize size;
  const void *data = g_bytes_get_data (v->content, &size);
  const ASN1_OCTET_STRING *signed_digest;

  if (value == NULL || ASN1_TYPE_get (value) != V_ASN1_OCTET_STRING)
    return fail_invalid (error, "messageDigest attribute missing");
  signed_digest = value->value.octet_string;

  if (!EVP_Digest (data, size, digest, &digest_length, v->md, NULL))
    return fail_invalid (error, "cannot hash the content");

  if ((unsigned int) ASN1_STRING_length (signed_digest) != digest_length
      || CRYPTO_memcmp (ASN1_STRING_get0_data (signed_digest), digest, digest_length) != 0)
    return fail (error, IMZALA_ERROR_CONTENT_MISMATCH,
                 _("The text does not match the one that was signed."));
  return TRUE;
}

static time_t
verification_time (Verification *v)
{
  if (v->signing_time != NULL)
    return (time_t) g_date_time_to_unix (v->signing_time);
  return time (NULL);
}

/* The signer's certificate must chain to @trust through the certificates in
 * the CMS, and every certificate on the way must have been valid at the
 * signing time (which the signer states: CAdES-BES has no time-stamp). */
static gboolean
check_chain (Verification *v, X509_STORE *trust, GError **error)
{
  X509_STORE *store = store_for_time (trust, verification_time (v));
  X509_STORE_CTX *ctx = X509_STORE_CTX_new ();
  gboolean ok = FALSE;
  int result = 0;
  int code = X509_V_OK;
  int depth = 0;

  if (store == NULL || ctx == NULL
      || !X509_STORE_CTX_init (ctx, store, v->signer, v->certs)
      /* The purpose CMS_verify() uses too. */
      || !X509_STORE_CTX_set_default (ctx, "smime_sign"))
    {
      X509_STORE_CTX_free (ctx);
      X509_STORE_free (store);
      return fail_invalid (error, "cannot set up chain verification");
    }

  result = X509_verify_cert (ctx);
  if (result == 1)
    {
      v->chain = X509_STORE_CTX_get1_chain (ctx);
      ok = v->chain != NULL;
    }
  else
    {
      code = X509_STORE_CTX_get_error (ctx);
      depth = X509_STORE_CTX_get_error_depth (ctx);
    }
  X509_STORE_CTX_free (ctx);
  X509_STORE_free (store);
  ERR_clear_error ();

  if (ok)
    return TRUE;

  g_debug ("Chain verification failed at depth %d: %s", depth,
           X509_verify_cert_error_string (code));
  switch (code)
    {
    case X509_V_ERR_CERT_HAS_EXPIRED:
    case X509_V_ERR_CERT_NOT_YET_VALID:
      if (depth == 0)
        return fail (error, IMZALA_ERROR_CERTIFICATE_EXPIRED,
                     _("The signer’s certificate was not valid when the signature was made."));
      return fail (error, IMZALA_ERROR_CERTIFICATE_EXPIRED,
                   _("A certificate authority certificate of the signer was not valid when the "
                     "signature was made."));
    case X509_V_ERR_INVALID_PURPOSE:
      return fail (error, IMZALA_ERROR_UNTRUSTED,
                   _("The signer’s certificate is not meant for signatures."));
    default:
      return fail (error, IMZALA_ERROR_UNTRUSTED,
                   _("The signer’s certificate was not issued by a trusted certification "
                     "authority."));
    }
}

/* ESS signing-certificate(-v2): the signed attribute that binds the
 * signature to the signer's certificate (certHash under its hashAlgorithm,
 * SHA-256 by default, and the issuer and serial when present), so that the
 * certificate cannot be swapped for another with the same key. */
static gboolean
check_signing_certificate (Verification *v, ImzalaVerifyFlags flags, GError **error)
{
  gboolean malformed = FALSE;
  ASN1_TYPE *v2_value = single_signed_attribute (v->si, NID_id_smime_aa_signingCertificateV2,
                                                 &malformed);
  ASN1_TYPE *v1_value = single_signed_attribute (v->si, NID_id_smime_aa_signingCertificate,
                                                 &malformed);
  ESS_SIGNING_CERT_V2 *v2 = NULL;
  ESS_SIGNING_CERT *v1 = NULL;
  const char *message = _("The signature does not name the signer’s certificate correctly "
                          "(signing-certificate-v2).");
  gboolean ok = FALSE;

  if (malformed)
    return fail (error, IMZALA_ERROR_SIGNING_CERTIFICATE_MISMATCH, message);

  if (v2_value == NULL)
    {
      if ((flags & IMZALA_VERIFY_ALLOW_NO_SIGNING_CERT) != 0 && v1_value == NULL)
        return TRUE;
      if ((flags & IMZALA_VERIFY_ALLOW_NO_SIGNING_CERT) == 0)
        {
          g_debug ("No signing-certificate-v2 attribute");
          return fail (error, IMZALA_ERROR_SIGNING_CERTIFICATE_MISMATCH, message);
        }
    }

  if (v2_value != NULL)
    {
      const ASN1_STRING *sequence;
      const unsigned char *p;
      const unsigned char *end;

      if (ASN1_TYPE_get (v2_value) != V_ASN1_SEQUENCE)
        return fail (error, IMZALA_ERROR_SIGNING_CERTIFICATE_MISMATCH, message);
      sequence = v2_value->value.sequence;
      p = ASN1_STRING_get0_data (sequence);
      end = p + ASN1_STRING_length (sequence);
      v2 = d2i_ESS_SIGNING_CERT_V2 (NULL, &p, ASN1_STRING_length (sequence));
      if (v2 == NULL || p != end)
        goto out;
    }
  if (v1_value != NULL)
    {
      const ASN1_STRING *sequence;
      const unsigned char *p;
      const unsigned char *end;

      if (ASN1_TYPE_get (v1_value) != V_ASN1_SEQUENCE)
        goto out;
      sequence = v1_value->value.sequence;
      p = ASN1_STRING_get0_data (sequence);
      end = p + ASN1_STRING_length (sequence);
      v1 = d2i_ESS_SIGNING_CERT (NULL, &p, ASN1_STRING_length (sequence));
      if (v1 == NULL || p != end)
        goto out;
    }

  /* The first ESSCertID must be the signer's certificate (chain[0]); any
   * further ones must be certificates of the verified chain. */
  ok = OSSL_ESS_check_signing_certs (v1, v2, v->chain, 1) == 1;
  v->has_signing_certificate_v2 = ok && v2 != NULL;

out:
  if (!ok)
    log_openssl_errors ("ESS signing certificate check");
  ESS_SIGNING_CERT_V2_free (v2);
  ESS_SIGNING_CERT_free (v1);
  if (!ok)
    return fail (error, IMZALA_ERROR_SIGNING_CERTIFICATE_MISMATCH, message);
  return TRUE;
}

/* OpenSSL's own verification of the signature and the content at once. If
 * the separate checks passed this passes too; it is here so that a gap in
 * them cannot let a signature through that OpenSSL itself would refuse. The
 * chain is not built again: check_chain() built it with the same anchors,
 * time and purpose, and a second X509_verify_cert() doubled the portal's
 * CPU per submission (issue 12). */
static gboolean
check_with_openssl (Verification *v, GError **error)
{
  BIO *content = NULL;
  gboolean ok = FALSE;

  if (v->detached)
    {
      gsize size;
      const void *data = g_bytes_get_data (v->content, &size);

      BIO *memory = size <= G_MAXINT ? BIO_new_mem_buf (data, (int) size) : NULL;

      /* Behind a null filter, not a memory BIO itself: for a memory BIO
       * CMS_verify() makes a read-only copy of it, which OpenSSL 3.0
       * leaks when CMS_dataInit() then fails (found by
       * tests/fuzz/fuzz-cms-verify; a hostile client could post such
       * signatures to the portal again and again). */
      content = memory != NULL ? BIO_new (BIO_f_null ()) : NULL;
      if (content != NULL)
        content = BIO_push (content, memory);
      else
        BIO_free (memory);
    }
  if (!v->detached || content != NULL)
    ok = CMS_verify (v->cms, NULL, NULL, content, NULL, CMS_BINARY | CMS_NO_SIGNER_CERT_VERIFY) == 1;
  BIO_free_all (content);

  if (!ok)
    {
      log_openssl_errors ("CMS_verify");
      return fail (error, IMZALA_ERROR_SIGNATURE_INVALID, _("The signature is not valid."));
    }
  return TRUE;
}

ImzalaVerifyResult *
imzala_cms_verify (GBytes            *cms,
                   GBytes            *detached_content,
                   X509_STORE        *trust,
                   ImzalaVerifyFlags  flags,
                   GError           **error)
{
  Verification v = { 0 };
  ImzalaVerifyResult *result;

  g_return_val_if_fail (cms != NULL, NULL);
  g_return_val_if_fail (trust != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  ERR_clear_error ();

  v.cms = parse_cms (cms);
  if (v.cms == NULL)
    {
      fail_invalid (error, "cannot parse");
      return NULL;
    }

  if (!check_structure (&v, error)
      || !check_content (&v, detached_content, error)
      || !check_attributes (&v, flags, error)
      || !check_signature (&v, error)
      || !check_message_digest (&v, error)
      || !check_chain (&v, trust, error)
      || !check_signing_certificate (&v, flags, error)
      || !check_with_openssl (&v, error))
    {
      ERR_clear_error ();
      verification_clear (&v);
      return NULL;
    }

  result = g_new0 (ImzalaVerifyResult, 1);
  result->signer = imzala_certificate_new_from_x509 (v.signer);
  result->signing_time = g_steal_pointer (&v.signing_time);
  result->content = g_steal_pointer (&v.content);
  result->digest = v.digest;
  result->detached = v.detached;
  result->has_signing_certificate_v2 = v.has_signing_certificate_v2;
  verification_clear (&v);
  ERR_clear_error ();
  return result;
}
