#define G_LOG_DOMAIN "imzala-verifier"

#include "config.h"

#include <string.h>
#include <glib/gi18n-lib.h>
/* pem.h first: cms.h declares PEM_read_bio_CMS() with its macros. */
#include <openssl/pem.h>
#include <openssl/cms.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/ess.h>
#include <openssl/ocsp.h>
#include <openssl/x509v3.h>

#include "imzala-cades-asn1.h"
#include "imzala-error.h"
#include "imzala-timestamp.h"
#include "imzala-verifier.h"
#include "imzala-verifier-private.h"
#include "imzala-openssl-thread.h"


/* The BTK QC statements of Turkish qualified certificates (see
 * tr-trust/README.md). */
static const char *const btk_statements[] = {
  "2.16.792.1.61.0.1.5070.1.1",
  "2.16.792.1.61.0.1.5070.2.1",
};
#define QC_COMPLIANCE "0.4.0.1862.1.1"

/* ---- Qualified (the Turkish rule) ---- */

static GPtrArray *
qc_statement_oids (X509 *x509)
{
  GPtrArray *oids = g_ptr_array_new_with_free_func (g_free);
  ASN1_OBJECT *qc = OBJ_txt2obj ("1.3.6.1.5.5.7.1.3", 1);
  int index = qc != NULL ? X509_get_ext_by_OBJ (x509, qc, -1) : -1;
  X509_EXTENSION *extension;
  ASN1_OCTET_STRING *value;
  const unsigned char *p;
  STACK_OF (ASN1_TYPE) *statements;

  ASN1_OBJECT_free (qc);
  if (index < 0)
    return oids;
  extension = X509_get_ext (x509, index);
  value = X509_EXTENSION_get_data (extension);
  p = ASN1_STRING_get0_data (value);
  statements = d2i_ASN1_SEQUENCE_ANY (NULL, &p, ASN1_STRING_length (value));
  for (int i = 0; statements != NULL && i < sk_ASN1_TYPE_num (statements); i++)
    {
      ASN1_TYPE *statement = sk_ASN1_TYPE_value (statements, i);
      STACK_OF (ASN1_TYPE) *parts;
      ASN1_TYPE *id;
      const unsigned char *q;

      if (ASN1_TYPE_get (statement) != V_ASN1_SEQUENCE)
        continue;
      q = ASN1_STRING_get0_data (statement->value.sequence);
      parts = d2i_ASN1_SEQUENCE_ANY (NULL, &q, ASN1_STRING_length (statement->value.sequence));
      id = parts != NULL && sk_ASN1_TYPE_num (parts) > 0 ? sk_ASN1_TYPE_value (parts, 0) : NULL;
      if (id != NULL && ASN1_TYPE_get (id) == V_ASN1_OBJECT)
        {
          char text[128];

          if (OBJ_obj2txt (text, sizeof text, id->value.object, 1) > 0)
            g_ptr_array_add (oids, g_strdup (text));
        }
      sk_ASN1_TYPE_pop_free (parts, ASN1_TYPE_free);
    }
  sk_ASN1_TYPE_pop_free (statements, ASN1_TYPE_free);
  ERR_clear_error ();
  return oids;
}

static gboolean
has_string (GPtrArray *strings, const char *wanted)
{
  for (guint i = 0; i < strings->len; i++)
    if (g_str_equal (g_ptr_array_index (strings, i), wanted))
      return TRUE;
  return FALSE;
}

gboolean
imzala_verifier_is_qualified (X509 *x509)
{
  g_autoptr(GPtrArray) oids = NULL;

  g_return_val_if_fail (x509 != NULL, FALSE);
  oids = qc_statement_oids (x509);
  if (!has_string (oids, QC_COMPLIANCE))
    return FALSE;
  for (guint i = 0; i < G_N_ELEMENTS (btk_statements); i++)
    if (has_string (oids, btk_statements[i]))
      return TRUE;
  return FALSE;
}

/* ---- Reading ---- */

/* The DER values of an attribute (every value of every occurrence). */
GPtrArray *
verifier_attribute_values (CMS_SignerInfo *si, int nid, gboolean signed_attribute)
{
  GPtrArray *values = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  int index = -1;

  for (;;)
    {
      X509_ATTRIBUTE *attribute;

      index = signed_attribute ? CMS_signed_get_attr_by_NID (si, nid, index)
                               : CMS_unsigned_get_attr_by_NID (si, nid, index);
      if (index < 0)
        break;
      attribute = signed_attribute ? CMS_signed_get_attr (si, index)
                                   : CMS_unsigned_get_attr (si, index);
      for (int i = 0; attribute != NULL && i < X509_ATTRIBUTE_count (attribute); i++)
        {
          ASN1_TYPE *value = X509_ATTRIBUTE_get0_type (attribute, i);
          unsigned char *der = NULL;
          int length = value != NULL ? i2d_ASN1_TYPE (value, &der) : -1;

          if (length > 0)
            g_ptr_array_add (values, g_bytes_new (der, length));
          OPENSSL_free (der);
        }
    }
  return values;
}


gboolean
verifier_der_next (Der *der, DerItem *item)
{
  const unsigned char *start = der->p;
  long length = 0;
  int result;

  if (der->remaining <= 0)
    return FALSE;
  result = ASN1_get_object (&der->p, &length, &item->tag, &item->klass, der->remaining);
  if ((result & 0x80) != 0 || result == 0x21 /* indefinite */)
    {
      ERR_clear_error ();
      der->remaining = 0;
      return FALSE;
    }
  der->remaining -= der->p - start;
  if (length > der->remaining)
    {
      der->remaining = 0;
      return FALSE;
    }
  item->whole = start;
  item->whole_length = (der->p - start) + length;
  item->content.p = der->p;
  item->content.remaining = length;
  der->p += length;
  der->remaining -= length;
  return TRUE;
}

Der
verifier_der_of_bytes (GBytes *bytes)
{
  gsize size;
  Der der = { g_bytes_get_data (bytes, &size), 0 };

  der.remaining = (long) MIN (size, (gsize) G_MAXLONG);
  return der;
}

/* OtherHash (imzala-cades-asn1.h): does @hash hash @data? */
gboolean
verifier_other_hash_matches (const IMZALA_OTHER_HASH *hash, const unsigned char *data, gsize size)
{
  const EVP_MD *md = NULL;
  const ASN1_OCTET_STRING *value = NULL;
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_length = 0;

  if (hash == NULL)
    return FALSE;
  if (hash->type == IMZALA_OTHER_HASH_SHA1)
    {
      md = EVP_sha1 ();
      value = hash->d.sha1;
    }
  else if (hash->type == IMZALA_OTHER_HASH_OTHER && hash->d.other != NULL
           && hash->d.other->hash_algorithm != NULL)
    {
      md = EVP_get_digestbyobj (hash->d.other->hash_algorithm->algorithm);
      value = hash->d.other->hash_value;
    }
  if (md == NULL || value == NULL || !EVP_Digest (data, size, digest, &digest_length, md, NULL))
    {
      ERR_clear_error ();
      return FALSE;
    }
  return ASN1_STRING_length (value) == (int) digest_length
         && CRYPTO_memcmp (digest, ASN1_STRING_get0_data (value), digest_length) == 0;
}

GBytes *
verifier_x509_der (X509 *x509)
{
  unsigned char *der = NULL;
  int length = i2d_X509 (x509, &der);
  GBytes *bytes = length > 0 ? g_bytes_new (der, length) : NULL;

  OPENSSL_free (der);
  return bytes;
}

/* ---- One signer ---- */


void
verifier_signer_clear (Signer *s)
{
  X509_free (s->signer);
  sk_X509_pop_free (s->untrusted, X509_free);
  sk_X509_pop_free (s->chain, X509_free);
  g_clear_pointer (&s->evidence, g_ptr_array_unref);
  g_clear_pointer (&s->cert_values, g_ptr_array_unref);
  g_clear_pointer (&s->crl_values, g_ptr_array_unref);
  g_clear_pointer (&s->ocsp_values, g_ptr_array_unref);
}

void
verifier_push_x509 (STACK_OF (X509) *stack, X509 *x509)
{
  if (X509_up_ref (x509) == 1 && sk_X509_push (stack, x509) <= 0)
    X509_free (x509);
}

/* certificate-values and revocation-values (CAdES-X-L): more certificates
 * to build chains with, and status evidence. */
static void
read_values (Signer *s)
{
  g_autoptr(GPtrArray) certs = verifier_attribute_values (s->si, NID_id_smime_aa_ets_certValues, FALSE);
  g_autoptr(GPtrArray) revocations = verifier_attribute_values (s->si, NID_id_smime_aa_ets_revocationValues,
                                                       FALSE);

  for (guint i = 0; i < certs->len; i++)
    {
      gsize size;
      const unsigned char *p = g_bytes_get_data (g_ptr_array_index (certs, i), &size);
      IMZALA_CERTIFICATE_VALUES *values = d2i_IMZALA_CERTIFICATE_VALUES (NULL, &p, (long) size);

      for (int j = 0; values != NULL && j < sk_X509_num (values); j++)
        {
          X509 *x509 = sk_X509_value (values, j);
          GBytes *der = verifier_x509_der (x509);

          verifier_push_x509 (s->untrusted, x509);
          if (der != NULL)
            g_ptr_array_add (s->cert_values, der);
        }
      IMZALA_CERTIFICATE_VALUES_free (values);
    }

  for (guint i = 0; i < revocations->len; i++)
    {
      gsize size;
      const unsigned char *p = g_bytes_get_data (g_ptr_array_index (revocations, i), &size);
      IMZALA_REVOCATION_VALUES *values = d2i_IMZALA_REVOCATION_VALUES (NULL, &p, (long) size);

      if (values == NULL)
        continue;
      for (int j = 0; j < sk_X509_CRL_num (values->crl_values); j++)
        {
          unsigned char *der = NULL;
          int length = i2d_X509_CRL (sk_X509_CRL_value (values->crl_values, j), &der);

          if (length > 0)
            {
              GBytes *value = g_bytes_new (der, length);

              g_ptr_array_add (s->crl_values, g_bytes_ref (value));
              g_ptr_array_add (s->evidence, value);
            }
          OPENSSL_free (der);
        }
      for (int j = 0; j < sk_OCSP_BASICRESP_num (values->ocsp_values); j++)
        {
          /* A BasicOCSPResponse: wrapped as a successful OCSPResponse for
           * the status checker. */
          OCSP_BASICRESP *basic = sk_OCSP_BASICRESP_value (values->ocsp_values, j);
          OCSP_RESPONSE *response = OCSP_response_create (OCSP_RESPONSE_STATUS_SUCCESSFUL, basic);
          unsigned char *der = NULL;
          int length = i2d_OCSP_BASICRESP (basic, &der);

          if (length > 0)
            g_ptr_array_add (s->ocsp_values, g_bytes_new (der, length));
          OPENSSL_free (der);
          der = NULL;
          length = response != NULL ? i2d_OCSP_RESPONSE (response, &der) : -1;
          if (length > 0)
            g_ptr_array_add (s->evidence, g_bytes_new (der, length));
          OPENSSL_free (der);
          OCSP_RESPONSE_free (response);
        }
      IMZALA_REVOCATION_VALUES_free (values);
    }
  ERR_clear_error ();
}

static X509 *
find_signer_certificate (Context *ctx, Signer *s)
{
  g_autoptr(GPtrArray) unused = NULL;
  STACK_OF (X509) *trusted = imzala_trust_dup_certificates (ctx->trust);
  X509 *found = NULL;

  for (int i = 0; found == NULL && i < sk_X509_num (s->untrusted); i++)
    if (CMS_SignerInfo_cert_cmp (s->si, sk_X509_value (s->untrusted, i)) == 0)
      found = sk_X509_value (s->untrusted, i);
  for (int i = 0; found == NULL && i < sk_X509_num (trusted); i++)
    if (CMS_SignerInfo_cert_cmp (s->si, sk_X509_value (trusted, i)) == 0)
      found = sk_X509_value (trusted, i);
  if (found != NULL)
    X509_up_ref (found);
  sk_X509_pop_free (trusted, X509_free);
  return found;
}

static gboolean
check_digest_algorithm (Signer *s)
{
  X509_ALGOR *digest_alg = NULL;
  int nid;

  CMS_SignerInfo_get0_algs (s->si, NULL, NULL, &digest_alg, NULL);
  nid = digest_alg != NULL ? OBJ_obj2nid (digest_alg->algorithm) : NID_undef;
  switch (nid)
    {
    case NID_sha256:
    case NID_sha384:
    case NID_sha512:
      s->md = EVP_get_digestbynid (nid);
      s->report->digest = g_strdup (EVP_MD_get0_name (s->md));
      return TRUE;
    default:
      g_debug ("Digest algorithm %s", OBJ_nid2sn (nid));
      verifier_add_check (s->report, "algorithms", IMZALA_CHECK_INDETERMINATE,
                 _("The signature uses a hash algorithm that is no longer accepted."));
      return FALSE;
    }
}

/* The signatureAlgorithm is not covered by the signature, and OpenSSL 3.0
 * does not look at it for ECDSA (the key and the digestAlgorithm decide).
 * One that contradicts the signer's key (ecdsa-with-SHA256 over an RSA
 * key, sha256WithRSAEncryption over an EC key) or the digestAlgorithm
 * would make the file mean different things to different verifiers, so
 * it fails the signer, as imzala_cms_verify() does. Accepted:
 * rsaEncryption, <hash>WithRSAEncryption or RSASSA-PSS for an RSA key,
 * ecdsa-with-<hash> for an EC key, with <hash> the digestAlgorithm; for
 * another kind of key, an algorithm made for that kind. */
gboolean
verifier_signature_algorithm_fits (int signature_nid, EVP_PKEY *key, const EVP_MD *md)
{
  int hash_nid = NID_undef;
  int key_nid = NID_undef;
  gboolean known = OBJ_find_sigid_algs (signature_nid, &hash_nid, &key_nid) == 1;
  gboolean ok;

  if (key == NULL || md == NULL)
    ok = FALSE;
  else if (EVP_PKEY_is_a (key, "RSA") || EVP_PKEY_is_a (key, "RSA-PSS"))
    ok = signature_nid == NID_rsaEncryption || signature_nid == NID_rsassaPss
         || (known && key_nid == NID_rsaEncryption && hash_nid == EVP_MD_get_type (md));
  else if (EVP_PKEY_is_a (key, "EC"))
    ok = known && key_nid == NID_X9_62_id_ecPublicKey && hash_nid == EVP_MD_get_type (md);
  else
    ok = signature_nid == EVP_PKEY_get_base_id (key)
         || (known && key_nid == EVP_PKEY_get_base_id (key));
  ERR_clear_error ();
  if (!ok)
    g_debug ("Signature algorithm %s with digest %s and a %s key", OBJ_nid2sn (signature_nid),
             md != NULL ? EVP_MD_get0_name (md) : "missing",
             key != NULL ? EVP_PKEY_get0_type_name (key) : "missing");
  return ok;
}

void
verifier_signature_algorithm_failed (ImzalaSignerReport *report)
{
  verifier_add_check (report, "algorithms", IMZALA_CHECK_FAILED,
                      _("The signature names a signature algorithm that does not fit the signer’s "
                        "key or its hash algorithm."));
}

static gboolean
check_signature_algorithm (Signer *s)
{
  X509_ALGOR *signature_alg = NULL;

  CMS_SignerInfo_get0_algs (s->si, NULL, NULL, NULL, &signature_alg);
  if (verifier_signature_algorithm_fits (signature_alg != NULL ? OBJ_obj2nid (signature_alg->algorithm)
                                                               : NID_undef,
                                         X509_get0_pubkey (s->signer), s->md))
    return TRUE;
  verifier_signature_algorithm_failed (s->report);
  return FALSE;
}

static gboolean
single_value (CMS_SignerInfo *si, int nid, ASN1_TYPE **value)
{
  int first = CMS_signed_get_attr_by_NID (si, nid, -1);
  X509_ATTRIBUTE *attribute;

  *value = NULL;
  if (first < 0)
    return TRUE;
  if (CMS_signed_get_attr_by_NID (si, nid, first) >= 0)
    return FALSE;
  attribute = CMS_signed_get_attr (si, first);
  if (attribute == NULL || X509_ATTRIBUTE_count (attribute) != 1)
    return FALSE;
  *value = X509_ATTRIBUTE_get0_type (attribute, 0);
  return TRUE;
}

/* The signature and the content: with signed attributes, the attributes
 * are signed and messageDigest is the content's hash; without (plain CMS,
 * `openssl cms -sign -noattr`), the content itself is signed. */
/* The content's hash under @md, as hashed once for the whole signature
 * (imzala-verifier-stream.c); NULL when it was not hashed with @md. */
GBytes *
verifier_content_digest (Context *ctx, const EVP_MD *md)
{
  if (md == NULL || ctx->content_digests == NULL)
    return NULL;
  return g_hash_table_lookup (ctx->content_digests, GINT_TO_POINTER (EVP_MD_get_type (md)));
}

static gboolean
check_signature (Context *ctx, Signer *s)
{
  GBytes *content_hash = verifier_content_digest (ctx, s->md);
  ASN1_TYPE *content_type = NULL;
  ASN1_TYPE *message_digest = NULL;
  ASN1_TYPE *signing_time = NULL;
  gsize digest_length = 0;
  const guint8 *digest = content_hash != NULL ? g_bytes_get_data (content_hash, &digest_length) : NULL;

  CMS_SignerInfo_set1_signer_cert (s->si, s->signer);
  s->has_signed_attributes = CMS_signed_get_attr_count (s->si) > 0;

  if (digest == NULL)
    {
      verifier_add_check (s->report, "message-digest", IMZALA_CHECK_INDETERMINATE,
                          _("The content could not be hashed for this signer."));
      return FALSE;
    }

  if (!s->has_signed_attributes)
    {
      /* The content itself is signed: the signature is checked over its
       * hash (PKCS#1 v1.5 DigestInfo or ECDSA), as the content is never
       * held in memory. */
      ASN1_OCTET_STRING *signature = CMS_SignerInfo_get0_signature (s->si);
      EVP_PKEY_CTX *pkey_ctx = EVP_PKEY_CTX_new (X509_get0_pubkey (s->signer), NULL);
      gboolean ok = pkey_ctx != NULL
        && EVP_PKEY_verify_init (pkey_ctx) == 1
        && EVP_PKEY_CTX_set_signature_md (pkey_ctx, s->md) == 1
        && EVP_PKEY_verify (pkey_ctx, ASN1_STRING_get0_data (signature),
                            (size_t) ASN1_STRING_length (signature), digest, digest_length) == 1;

      EVP_PKEY_CTX_free (pkey_ctx);
      verifier_log_openssl_errors ("Signature over the content");
      if (!ok)
        {
          verifier_add_check (s->report, "signature", IMZALA_CHECK_FAILED,
                     _("The signature is not valid: the content was changed, or it was not signed "
                       "with this certificate’s key."));
          return FALSE;
        }
      verifier_add_check (s->report, "signature", IMZALA_CHECK_PASSED,
                 _("The signature over the content is valid (no signed attributes)."));
      return TRUE;
    }

  if (!single_value (s->si, NID_pkcs9_contentType, &content_type)
      || !single_value (s->si, NID_pkcs9_messageDigest, &message_digest)
      || !single_value (s->si, NID_pkcs9_signingTime, &signing_time)
      || content_type == NULL || ASN1_TYPE_get (content_type) != V_ASN1_OBJECT
      || OBJ_cmp (content_type->value.object, CMS_get0_eContentType (ctx->cms)) != 0
      || message_digest == NULL || ASN1_TYPE_get (message_digest) != V_ASN1_OCTET_STRING)
    {
      verifier_add_check (s->report, "signed-attributes", IMZALA_CHECK_FAILED,
                 _("The signed attributes are missing, repeated or malformed."));
      return FALSE;
    }
  if (signing_time != NULL)
    {
      int type = ASN1_TYPE_get (signing_time);

      if (type == V_ASN1_UTCTIME || type == V_ASN1_GENERALIZEDTIME)
        s->report->signing_time = verifier_date_time_from_asn1 (signing_time->value.utctime);
      if (s->report->signing_time == NULL)
        {
          verifier_add_check (s->report, "signed-attributes", IMZALA_CHECK_FAILED,
                     _("The signing time cannot be read."));
          return FALSE;
        }
    }
  verifier_add_check (s->report, "signed-attributes", IMZALA_CHECK_PASSED,
             s->report->signing_time != NULL
             ? _("The signed attributes are well formed.")
             : _("The signed attributes are well formed; they do not say when the signature was "
                 "made."));

  if (CMS_SignerInfo_verify (s->si) != 1)
    {
      verifier_log_openssl_errors ("CMS_SignerInfo_verify");
      verifier_add_check (s->report, "signature", IMZALA_CHECK_FAILED,
                 _("The signature is not valid: it was not made with this certificate’s key, or "
                   "it was changed afterwards."));
      return FALSE;
    }
  verifier_add_check (s->report, "signature", IMZALA_CHECK_PASSED,
             _("The signature over the signed attributes is valid."));

  if ((gsize) ASN1_STRING_length (message_digest->value.octet_string) != digest_length
      || CRYPTO_memcmp (ASN1_STRING_get0_data (message_digest->value.octet_string), digest,
                        digest_length) != 0)
    {
      verifier_add_check (s->report, "message-digest", IMZALA_CHECK_FAILED,
                 _("The content does not match the one that was signed."));
      return FALSE;
    }
  verifier_add_check (s->report, "message-digest", IMZALA_CHECK_PASSED,
             _("The content is the one that was signed."));
  return TRUE;
}

static ASN1_TYPE *
signed_sequence (CMS_SignerInfo *si, int nid, gboolean *malformed)
{
  ASN1_TYPE *value = NULL;

  if (!single_value (si, nid, &value) || (value != NULL && ASN1_TYPE_get (value) != V_ASN1_SEQUENCE))
    {
      *malformed = TRUE;
      return NULL;
    }
  return value;
}

/* ESS signing-certificate(-v2): optional in plain CMS, and the mark of
 * CAdES-BES; when present it must name the signer's certificate. */
static void
check_signing_certificate (Signer *s)
{
  gboolean malformed = FALSE;
  ASN1_TYPE *v2_value = signed_sequence (s->si, NID_id_smime_aa_signingCertificateV2, &malformed);
  ASN1_TYPE *v1_value = signed_sequence (s->si, NID_id_smime_aa_signingCertificate, &malformed);
  ESS_SIGNING_CERT_V2 *v2 = NULL;
  ESS_SIGNING_CERT *v1 = NULL;
  STACK_OF (X509) *chain = sk_X509_new_null ();
  gboolean ok;

  if (!malformed && v2_value == NULL && v1_value == NULL)
    {
      s->report->level = IMZALA_SIGNATURE_LEVEL_CMS;
      verifier_add_check (s->report, "signing-certificate", IMZALA_CHECK_SKIPPED,
                 _("The signature does not name its certificate in a signed attribute (plain CMS, "
                   "not CAdES)."));
      sk_X509_free (chain);
      return;
    }
  if (v2_value != NULL)
    {
      const unsigned char *p = ASN1_STRING_get0_data (v2_value->value.sequence);

      v2 = d2i_ESS_SIGNING_CERT_V2 (NULL, &p, ASN1_STRING_length (v2_value->value.sequence));
      malformed |= v2 == NULL;
    }
  if (v1_value != NULL)
    {
      const unsigned char *p = ASN1_STRING_get0_data (v1_value->value.sequence);

      v1 = d2i_ESS_SIGNING_CERT (NULL, &p, ASN1_STRING_length (v1_value->value.sequence));
      malformed |= v1 == NULL;
    }
  sk_X509_push (chain, s->signer);
  ok = !malformed && OSSL_ESS_check_signing_certs (v1, v2, chain, 0) == 1;
  verifier_log_openssl_errors ("ESS signing certificate check");
  ESS_SIGNING_CERT_V2_free (v2);
  ESS_SIGNING_CERT_free (v1);
  sk_X509_free (chain);

  s->report->level = IMZALA_SIGNATURE_LEVEL_BES;
  if (CMS_signed_get_attr_by_NID (s->si, NID_id_smime_aa_ets_sigPolicyId, -1) >= 0)
    s->report->level = IMZALA_SIGNATURE_LEVEL_EPES;
  if (!ok)
    verifier_add_check (s->report, "signing-certificate", IMZALA_CHECK_FAILED,
               _("The signature does not name the signer’s certificate correctly "
                 "(signing-certificate-v2)."));
  else
    verifier_add_check (s->report, "signing-certificate", IMZALA_CHECK_PASSED,
               _("The signed attributes name the signer’s certificate."));
}

/* The chain to the trust at @when, fetching missing issuers from AIA. */
static ImzalaSignerReport *
verify_signer (Context *ctx, CMS_SignerInfo *si)
{
  ImzalaSignerReport *report = g_new0 (ImzalaSignerReport, 1);
  Signer s = { 0 };
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  GDateTime *when;
  gboolean proven;

  report->status = IMZALA_VALIDATION_VALID;
  report->checks = g_ptr_array_new_with_free_func ((GDestroyNotify) verifier_check_free);
  s.report = report;
  s.si = si;
  s.untrusted = X509_chain_up_ref (ctx->cms_certs);
  s.evidence = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  s.cert_values = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  s.crl_values = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  s.ocsp_values = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  for (guint i = 0; i < ctx->cms_crls->len; i++)
    g_ptr_array_add (s.evidence, g_bytes_ref (g_ptr_array_index (ctx->cms_crls, i)));

  read_values (&s);

  s.signer = find_signer_certificate (ctx, &s);
  if (s.signer == NULL)
    {
      verifier_add_check (report, "signer-certificate", IMZALA_CHECK_INDETERMINATE,
                 _("The signer’s certificate is neither in the signature nor among the trusted "
                   "certificates."));
      goto out;
    }
  report->certificate = imzala_trust_describe (ctx->trust, s.signer);
  report->qualified = imzala_verifier_is_qualified (s.signer);
  verifier_add_check (report, "signer-certificate", IMZALA_CHECK_PASSED,
             _("The signer’s certificate was found."));

  if (!check_digest_algorithm (&s) || !check_signature_algorithm (&s) || !check_signature (ctx, &s))
    goto out;
  check_signing_certificate (&s);
  verifier_check_timestamps (ctx, &s);

  /* The time the evidence proves: the signature time-stamp, else now (a
   * signingTime is only the signer's claim). */
  proven = report->timestamp_time != NULL;
  when = proven ? report->timestamp_time : now;
  report->validation_time = g_date_time_ref (when);

  verifier_verify_chain_and_status (ctx, &s, when, proven);
  verifier_check_references (ctx, &s);
  verifier_check_esc_time_stamps (ctx, &s);
  /* A counter-signature may be made long after the signature: without a
   * time-stamp of its own it is validated now. */
  verifier_check_counter_signatures (ctx, &s, now, FALSE);

  verifier_add_check (report, "qualified", report->qualified ? IMZALA_CHECK_PASSED : IMZALA_CHECK_SKIPPED,
             report->qualified
             ? _("The signer’s certificate is qualified (QcCompliance and the BTK statement).")
             : _("The signer’s certificate is not a qualified (NES) certificate."));

out:
  if (report->status == IMZALA_VALIDATION_VALID)
    report->reason = g_strdup (_("The signature is valid."));
  verifier_signer_clear (&s);
  ERR_clear_error ();
  return report;
}

/* ---- The whole signature ---- */

static GPtrArray *
cms_crls (CMS_ContentInfo *cms)
{
  STACK_OF (X509_CRL) *crls = CMS_get1_crls (cms);
  GPtrArray *result = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);

  for (int i = 0; crls != NULL && i < sk_X509_CRL_num (crls); i++)
    {
      unsigned char *der = NULL;
      int length = i2d_X509_CRL (sk_X509_CRL_value (crls, i), &der);

      if (length > 0)
        g_ptr_array_add (result, g_bytes_new (der, length));
      OPENSSL_free (der);
    }
  sk_X509_CRL_pop_free (crls, X509_CRL_free);
  return result;
}

/* Whether @cms is a SignedData with at least one signer. */
gboolean
verifier_check_cms_kind (CMS_ContentInfo *cms, GError **error)
{
  STACK_OF (CMS_SignerInfo) *signers;

  if (cms == NULL || OBJ_obj2nid (CMS_get0_type (cms)) != NID_pkcs7_signed)
    {
      verifier_log_openssl_errors ("Parsing the signature");
      g_set_error_literal (error, IMZALA_ERROR, IMZALA_ERROR_CMS_INVALID,
                           _("The signature file is not a signature İmzala can read."));
      return FALSE;
    }
  signers = CMS_get0_SignerInfos (cms);
  if (signers == NULL || sk_CMS_SignerInfo_num (signers) == 0)
    {
      g_set_error_literal (error, IMZALA_ERROR, IMZALA_ERROR_CMS_INVALID,
                           _("The signature file has no signer."));
      return FALSE;
    }
  return TRUE;
}

static void
add_md (GPtrArray *mds, const EVP_MD *md)
{
  if (md == NULL)
    return;
  for (guint i = 0; i < mds->len; i++)
    if (EVP_MD_get_type (g_ptr_array_index (mds, i)) == EVP_MD_get_type (md))
      return;
  g_ptr_array_add (mds, (gpointer) md);
}

/* Every hash the content is needed under: each signer's digest algorithm
 * (those accepted) and each content time-stamp's imprint algorithm. */
GPtrArray *
verifier_content_mds (CMS_ContentInfo *cms)
{
  GPtrArray *mds = g_ptr_array_new ();
  STACK_OF (CMS_SignerInfo) *signers = CMS_get0_SignerInfos (cms);

  for (int i = 0; i < sk_CMS_SignerInfo_num (signers); i++)
    {
      CMS_SignerInfo *si = sk_CMS_SignerInfo_value (signers, i);
      g_autoptr(GPtrArray) tokens = verifier_attribute_values (si, NID_id_smime_aa_ets_contentTimestamp,
                                                               TRUE);
      X509_ALGOR *digest_alg = NULL;

      CMS_SignerInfo_get0_algs (si, NULL, NULL, &digest_alg, NULL);
      switch (digest_alg != NULL ? OBJ_obj2nid (digest_alg->algorithm) : NID_undef)
        {
        case NID_sha256:
        case NID_sha384:
        case NID_sha512:
          add_md (mds, EVP_get_digestbyobj (digest_alg->algorithm));
          break;
        default:
          break;
        }
      for (guint j = 0; j < tokens->len; j++)
        add_md (mds, imzala_timestamp_get_imprint_md (g_ptr_array_index (tokens, j)));
    }
  ERR_clear_error ();
  return mds;
}

/* The content's hashes (EVP_MD type → GBytes) under @mds. */
GHashTable *
verifier_content_digests_of_data (GPtrArray *mds, const guint8 *data, gsize size)
{
  GHashTable *digests = g_hash_table_new_full (NULL, NULL, NULL, (GDestroyNotify) g_bytes_unref);

  for (guint i = 0; i < mds->len; i++)
    {
      const EVP_MD *md = g_ptr_array_index (mds, i);
      unsigned char digest[EVP_MAX_MD_SIZE];
      unsigned int length = 0;

      if (EVP_Digest (data, size, digest, &length, md, NULL))
        g_hash_table_insert (digests, GINT_TO_POINTER (EVP_MD_get_type (md)), g_bytes_new (digest, length));
    }
  ERR_clear_error ();
  return digests;
}

/* Validates every signer of @cms (already checked with
 * verifier_check_cms_kind()) against the content's hashes @digests.
 * @content_inside: the content came inside the signature (also when the
 * streaming reader took it out, imzala-verifier-stream.c). */
ImzalaVerification *
verifier_verify_cms (CMS_ContentInfo *cms,
                     GHashTable      *digests,
                     gboolean         content_inside,
                     ImzalaTrust     *trust,
                     GCancellable    *cancellable)
{
  Context ctx = { 0 };
  ImzalaVerification *result = NULL;
  STACK_OF (CMS_SignerInfo) *signers = CMS_get0_SignerInfos (cms);
  gboolean any_invalid = FALSE;
  gboolean any_indeterminate = FALSE;

  ctx.trust = trust;
  ctx.cancellable = cancellable;
  ctx.cms = cms;
  ctx.content_digests = digests;
  result = g_new0 (ImzalaVerification, 1);
  result->detached = !content_inside;
  ctx.cms_certs = CMS_get1_certs (ctx.cms);
  if (ctx.cms_certs == NULL)
    ctx.cms_certs = sk_X509_new_null ();
  ctx.cms_crls = cms_crls (ctx.cms);

  result->signers = g_ptr_array_new_with_free_func ((GDestroyNotify) verifier_signer_report_free);
  result->qualified = TRUE;
  result->level = IMZALA_SIGNATURE_LEVEL_XL;
  for (int i = 0; i < sk_CMS_SignerInfo_num (signers); i++)
    {
      ImzalaSignerReport *report = verify_signer (&ctx, sk_CMS_SignerInfo_value (signers, i));

      g_ptr_array_add (result->signers, report);
      any_invalid |= report->status == IMZALA_VALIDATION_INVALID;
      any_indeterminate |= report->status == IMZALA_VALIDATION_INDETERMINATE;
      result->qualified &= report->qualified;
      result->level = MIN (result->level, report->level);
      if (result->reason == NULL && report->status != IMZALA_VALIDATION_VALID)
        result->reason = g_strdup (report->reason);
    }
  for (guint i = 0; result->reason != NULL && i < result->signers->len; i++)
    {
      ImzalaSignerReport *report = g_ptr_array_index (result->signers, i);

      /* The reason of the worst signer. */
      if (any_invalid && report->status == IMZALA_VALIDATION_INVALID)
        {
          g_free (result->reason);
          result->reason = g_strdup (report->reason);
          break;
        }
    }
  result->status = any_invalid ? IMZALA_VALIDATION_INVALID
                   : any_indeterminate ? IMZALA_VALIDATION_INDETERMINATE
                   : IMZALA_VALIDATION_VALID;
  if (result->reason == NULL)
    result->reason = g_strdup (_("The signature is valid."));

  sk_X509_pop_free (ctx.cms_certs, X509_free);
  g_clear_pointer (&ctx.cms_crls, g_ptr_array_unref);
  ERR_clear_error ();
  return result;
}

ImzalaVerification *
imzala_verifier_verify (GBytes        *cms_bytes,
                        GBytes        *detached_content,
                        ImzalaTrust   *trust,
                        GCancellable  *cancellable,
                        GError       **error)
{
  CMS_ContentInfo *cms;
  ImzalaVerification *result = NULL;
  ASN1_OCTET_STRING **slot;
  const ASN1_OCTET_STRING *inside;
  g_autoptr(GPtrArray) mds = NULL;
  g_autoptr(GHashTable) digests = NULL;
  const guint8 *data;
  gsize size;

  g_return_val_if_fail (cms_bytes != NULL, NULL);
  g_return_val_if_fail (IMZALA_IS_TRUST (trust), NULL);

  ERR_clear_error ();
  cms = verifier_parse_cms (cms_bytes, trust);
  if (!verifier_check_cms_kind (cms, error))
    goto out;

  slot = CMS_get0_content (cms);
  inside = slot != NULL ? *slot : NULL;
  if (inside == NULL && detached_content == NULL)
    {
      g_set_error_literal (error, IMZALA_ERROR, IMZALA_ERROR_CMS_INVALID,
                           _("The signature does not contain the signed content, and no content "
                             "was given to check it against."));
      goto out;
    }
  if (inside != NULL)
    {
      data = ASN1_STRING_get0_data (inside);
      size = (gsize) ASN1_STRING_length (inside);
      if (detached_content != NULL
          && (g_bytes_get_size (detached_content) != size
              || memcmp (g_bytes_get_data (detached_content, NULL), data, size) != 0))
        {
          g_set_error_literal (error, IMZALA_ERROR, IMZALA_ERROR_CONTENT_MISMATCH,
                               _("The content does not match the one that was signed."));
          goto out;
        }
    }
  else
    data = g_bytes_get_data (detached_content, &size);

  mds = verifier_content_mds (cms);
  digests = verifier_content_digests_of_data (mds, data, size);
  result = verifier_verify_cms (cms, digests, inside != NULL, trust, cancellable);
  result->content = inside != NULL ? g_bytes_new (data, size) : g_bytes_ref (detached_content);
  result->content_length = size;

out:
  CMS_ContentInfo_free (cms);
  ERR_clear_error ();
  return result;
}

typedef struct
{
  GBytes      *cms;
  GBytes      *content;
  ImzalaTrust *trust;
} VerifyData;

static void
verify_data_free (VerifyData *data)
{
  g_clear_pointer (&data->cms, g_bytes_unref);
  g_clear_pointer (&data->content, g_bytes_unref);
  g_clear_object (&data->trust);
  g_free (data);
}

static void
verify_thread (GTask        *task,
               gpointer      source_object,
               gpointer      task_data,
               GCancellable *cancellable)
{
  VerifyData *data = task_data;
  GError *error = NULL;
  ImzalaVerification *result = imzala_verifier_verify (data->cms, data->content, data->trust,
                                                       cancellable, &error);

  if (result == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, result, (GDestroyNotify) imzala_verification_free);
}

void
imzala_verifier_verify_async (GBytes              *cms,
                              GBytes              *detached_content,
                              ImzalaTrust         *trust,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  VerifyData *data;

  g_return_if_fail (cms != NULL);
  g_return_if_fail (IMZALA_IS_TRUST (trust));

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, imzala_verifier_verify_async);
  data = g_new0 (VerifyData, 1);
  data->cms = g_bytes_ref (cms);
  data->content = detached_content != NULL ? g_bytes_ref (detached_content) : NULL;
  data->trust = g_object_ref (trust);
  g_task_set_task_data (task, data, (GDestroyNotify) verify_data_free);
  imzala_task_run_in_openssl_thread (task, verify_thread);
}

ImzalaVerification *
imzala_verifier_verify_finish (GAsyncResult  *result,
                               GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

