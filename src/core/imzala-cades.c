#define G_LOG_DOMAIN "imzala-cades"

#include "config.h"

#include <string.h>
#include <glib/gi18n-lib.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ocsp.h>
#include <openssl/ts.h>

#include "imzala-cades.h"
#include "imzala-cades-asn1.h"
#include "imzala-error.h"

/* A CAdES-X-L signature with its chain and a few OCSP responses or CRLs
 * stays well under this; a larger input is not one we made. */
#define MAX_CMS_SIZE (80 * 1024 * 1024)

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

gboolean
imzala_cades_level_from_string (const char       *text,
                                ImzalaCadesLevel *level)
{
  g_return_val_if_fail (level != NULL, FALSE);

  if (text == NULL)
    return FALSE;
  if (g_ascii_strcasecmp (text, "BES") == 0)
    *level = IMZALA_CADES_LEVEL_BES;
  else if (g_ascii_strcasecmp (text, "T") == 0)
    *level = IMZALA_CADES_LEVEL_T;
  else if (g_ascii_strcasecmp (text, "XL") == 0 || g_ascii_strcasecmp (text, "X-L") == 0)
    *level = IMZALA_CADES_LEVEL_XL;
  else
    return FALSE;
  return TRUE;
}

const char *
imzala_cades_level_to_string (ImzalaCadesLevel level)
{
  switch (level)
    {
    case IMZALA_CADES_LEVEL_T:
      return "T";
    case IMZALA_CADES_LEVEL_XL:
      return "XL";
    case IMZALA_CADES_LEVEL_BES:
    default:
      return "BES";
    }
}

/* The one SignerInfo of a signature we made. */
static CMS_ContentInfo *
parse_cms (GBytes          *cms,
           CMS_SignerInfo **signer_info,
           GError         **error)
{
  const unsigned char *p;
  gsize size;
  CMS_ContentInfo *parsed;
  STACK_OF (CMS_SignerInfo) *signers;

  p = g_bytes_get_data (cms, &size);
  if (size == 0 || size > MAX_CMS_SIZE)
    goto invalid;
  parsed = d2i_CMS_ContentInfo (NULL, &p, (long) size);
  if (parsed == NULL)
    goto invalid;
  signers = CMS_get0_SignerInfos (parsed);
  if (signers == NULL || sk_CMS_SignerInfo_num (signers) != 1)
    {
      CMS_ContentInfo_free (parsed);
      goto invalid;
    }
  *signer_info = sk_CMS_SignerInfo_value (signers, 0);
  return parsed;

invalid:
  log_openssl_errors ("Reading the signature to extend");
  g_set_error_literal (error, IMZALA_ERROR, IMZALA_ERROR_CMS_INVALID,
                       _("The signature to extend is not a signature with one signer."));
  return NULL;
}

static GBytes *
encode_cms (CMS_ContentInfo *cms,
            GError         **error)
{
  unsigned char *der = NULL;
  int length = i2d_CMS_ContentInfo (cms, &der);
  GBytes *result;

  if (length <= 0)
    {
      log_openssl_errors ("Encoding the extended signature");
      g_set_error_literal (error, IMZALA_ERROR, IMZALA_ERROR_FAILED,
                           _("The signature could not be built."));
      return NULL;
    }
  result = g_bytes_new (der, length);
  OPENSSL_free (der);
  return result;
}

GBytes *
imzala_cades_get_signature_value (GBytes  *cms,
                                  GError **error)
{
  CMS_ContentInfo *parsed;
  CMS_SignerInfo *si;
  ASN1_OCTET_STRING *signature;
  GBytes *result = NULL;

  g_return_val_if_fail (cms != NULL, NULL);

  parsed = parse_cms (cms, &si, error);
  if (parsed == NULL)
    return NULL;
  signature = CMS_SignerInfo_get0_signature (si);
  if (signature == NULL || ASN1_STRING_length (signature) <= 0)
    g_set_error_literal (error, IMZALA_ERROR, IMZALA_ERROR_CMS_INVALID,
                         _("The signature to extend is not a signature with one signer."));
  else
    result = g_bytes_new (ASN1_STRING_get0_data (signature), ASN1_STRING_length (signature));
  CMS_ContentInfo_free (parsed);
  return result;
}

/* The token's message imprint must be the hash of exactly this signature
 * value: a token for another signature would make the result a lie. */
static gboolean
token_covers (GBytes             *token,
              ASN1_OCTET_STRING  *signature)
{
  const unsigned char *p;
  gsize size;
  PKCS7 *pkcs7;
  TS_TST_INFO *info = NULL;
  TS_MSG_IMPRINT *imprint;
  const EVP_MD *md;
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_length = 0;
  ASN1_OCTET_STRING *expected;
  gboolean ok = FALSE;

  p = g_bytes_get_data (token, &size);
  pkcs7 = d2i_PKCS7 (NULL, &p, (long) size);
  if (pkcs7 == NULL || p != (const unsigned char *) g_bytes_get_data (token, NULL) + size)
    goto out;
  info = PKCS7_to_TS_TST_INFO (pkcs7);
  if (info == NULL)
    goto out;
  imprint = TS_TST_INFO_get_msg_imprint (info);
  md = EVP_get_digestbyobj (TS_MSG_IMPRINT_get_algo (imprint)->algorithm);
  if (md == NULL)
    goto out;
  if (!EVP_Digest (ASN1_STRING_get0_data (signature), ASN1_STRING_length (signature),
                   digest, &digest_length, md, NULL))
    goto out;
  expected = TS_MSG_IMPRINT_get_msg (imprint);
  ok = ASN1_STRING_length (expected) == (int) digest_length
       && memcmp (ASN1_STRING_get0_data (expected), digest, digest_length) == 0;

out:
  TS_TST_INFO_free (info);
  PKCS7_free (pkcs7);
  return ok;
}

static gboolean
add_unsigned_attribute (CMS_SignerInfo *si,
                        const char     *oid,
                        const void     *der,
                        int             length)
{
  ASN1_OBJECT *object = OBJ_txt2obj (oid, 1);
  gboolean ok;

  if (object == NULL)
    return FALSE;
  /* An ASN1_TYPE of type SEQUENCE holds the whole encoding, tag included. */
  ok = CMS_unsigned_add1_attr_by_OBJ (si, object, V_ASN1_SEQUENCE, der, length) == 1;
  ASN1_OBJECT_free (object);
  return ok;
}

GBytes *
imzala_cades_add_signature_time_stamp (GBytes  *cms,
                                       GBytes  *token,
                                       GError **error)
{
  CMS_ContentInfo *parsed;
  CMS_SignerInfo *si;
  GBytes *result = NULL;
  gsize size;
  const void *data;

  g_return_val_if_fail (cms != NULL, NULL);
  g_return_val_if_fail (token != NULL, NULL);

  parsed = parse_cms (cms, &si, error);
  if (parsed == NULL)
    return NULL;

  data = g_bytes_get_data (token, &size);
  if (size == 0 || size > G_MAXINT || !token_covers (token, CMS_SignerInfo_get0_signature (si)))
    {
      g_set_error_literal (error, IMZALA_ERROR, IMZALA_ERROR_TIMESTAMP,
                           _("The time-stamp is not for this signature."));
      goto out;
    }
  if (!add_unsigned_attribute (si, IMZALA_OID_SIGNATURE_TIME_STAMP, data, (int) size))
    {
      log_openssl_errors ("Adding the signature-time-stamp");
      g_set_error_literal (error, IMZALA_ERROR, IMZALA_ERROR_FAILED,
                           _("The signature could not be built."));
      goto out;
    }
  result = encode_cms (parsed, error);

out:
  CMS_ContentInfo_free (parsed);
  return result;
}

/* ---- Validation data (CAdES-C references, CAdES-X-L values) ---- */

/* OtherHash as SHA-256 (otherHash: sha1Hash is for SHA-1 only). */
static IMZALA_OTHER_HASH *
other_hash_new (const void *data,
                gsize       size)
{
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_length = 0;
  IMZALA_OTHER_HASH *hash;

  if (!EVP_Digest (data, size, digest, &digest_length, EVP_sha256 (), NULL))
    return NULL;
  hash = IMZALA_OTHER_HASH_new ();
  if (hash == NULL)
    return NULL;
  hash->type = IMZALA_OTHER_HASH_OTHER;
  hash->d.other = IMZALA_OTHER_HASH_ALG_AND_VALUE_new ();
  if (hash->d.other == NULL
      || !X509_ALGOR_set0 (hash->d.other->hash_algorithm, OBJ_nid2obj (NID_sha256), V_ASN1_UNDEF, NULL)
      || !ASN1_OCTET_STRING_set (hash->d.other->hash_value, digest, (int) digest_length))
    {
      IMZALA_OTHER_HASH_free (hash);
      return NULL;
    }
  return hash;
}

static IMZALA_OTHER_CERT_ID *
other_cert_id_new (GBytes *der,
                   X509   *x509)
{
  IMZALA_OTHER_CERT_ID *id = IMZALA_OTHER_CERT_ID_new ();
  GENERAL_NAME *name = NULL;

  if (id == NULL)
    return NULL;
  IMZALA_OTHER_HASH_free (id->cert_hash);
  id->cert_hash = other_hash_new (g_bytes_get_data (der, NULL), g_bytes_get_size (der));
  id->issuer_serial = IMZALA_ISSUER_SERIAL_new ();
  if (id->cert_hash == NULL || id->issuer_serial == NULL)
    goto fail;
  name = GENERAL_NAME_new ();
  if (name == NULL)
    goto fail;
  name->type = GEN_DIRNAME;
  name->d.directoryName = X509_NAME_dup (X509_get_issuer_name (x509));
  if (name->d.directoryName == NULL || !sk_GENERAL_NAME_push (id->issuer_serial->issuer, name))
    goto fail;
  name = NULL;
  ASN1_INTEGER_free (id->issuer_serial->serial);
  id->issuer_serial->serial = ASN1_INTEGER_dup (X509_get0_serialNumber (x509));
  if (id->issuer_serial->serial == NULL)
    goto fail;
  return id;

fail:
  GENERAL_NAME_free (name);
  IMZALA_OTHER_CERT_ID_free (id);
  return NULL;
}

/* One CrlOcspRef for one certificate's evidence, and the values it refers
 * to pushed onto @values. */
static IMZALA_CRL_OCSP_REF *
crl_ocsp_ref_new (const ImzalaCadesRevocation *revocation,
                  IMZALA_REVOCATION_VALUES    *values,
                  GPtrArray                   *responder_certificates)
{
  IMZALA_CRL_OCSP_REF *ref = IMZALA_CRL_OCSP_REF_new ();

  if (ref == NULL)
    return NULL;

  if (revocation->ocsp_response != NULL)
    {
      const unsigned char *p;
      gsize size;
      OCSP_RESPONSE *response;
      OCSP_BASICRESP *basic;
      IMZALA_OCSP_RESPONSES_ID *id;
      const OCSP_RESPID *responder_id = NULL;
      const ASN1_GENERALIZEDTIME *produced_at;

      p = g_bytes_get_data (revocation->ocsp_response, &size);
      response = d2i_OCSP_RESPONSE (NULL, &p, (long) size);
      if (response == NULL || OCSP_response_status (response) != OCSP_RESPONSE_STATUS_SUCCESSFUL)
        {
          OCSP_RESPONSE_free (response);
          goto fail;
        }
      basic = OCSP_response_get1_basic (response);
      OCSP_RESPONSE_free (response);
      if (basic == NULL)
        goto fail;

      for (int i = 0; i < sk_X509_num (OCSP_resp_get0_certs (basic)); i++)
        g_ptr_array_add (responder_certificates,
                         X509_dup (sk_X509_value (OCSP_resp_get0_certs (basic), i)));

      produced_at = OCSP_resp_get0_produced_at (basic);
      id = IMZALA_OCSP_RESPONSES_ID_new ();
      if (id != NULL)
        {
          const ASN1_OCTET_STRING *key_hash = NULL;
          const X509_NAME *name = NULL;
          X509 *signer = NULL;
          OCSP_RESPID *rid = OCSP_RESPID_new ();

          /* OCSP_RESPID is opaque in 3.0: made again from the responder's
           * certificate, the way the response names it. */
          OCSP_resp_get0_id (basic, &key_hash, &name);
          if (rid != NULL && OCSP_resp_get0_signer (basic, &signer, NULL) == 1
              && (name != NULL ? OCSP_RESPID_set_by_name (rid, signer)
                               : OCSP_RESPID_set_by_key (rid, signer)) == 1
              && (name != NULL ? OCSP_RESPID_match (rid, signer) : 1) == 1)
            {
              OCSP_RESPID_free (id->identifier->responder_id);
              id->identifier->responder_id = rid;
              responder_id = rid;
            }
          else
            OCSP_RESPID_free (rid);
        }
      if (id == NULL || responder_id == NULL || produced_at == NULL
          || !ASN1_STRING_copy (id->identifier->produced_at, produced_at))
        {
          IMZALA_OCSP_RESPONSES_ID_free (id);
          OCSP_BASICRESP_free (basic);
          goto fail;
        }
      id->response_hash = other_hash_new (g_bytes_get_data (revocation->ocsp_response, NULL),
                                          g_bytes_get_size (revocation->ocsp_response));
      ref->ocsp_ids = IMZALA_OCSP_LIST_ID_new ();
      if (ref->ocsp_ids == NULL || id->response_hash == NULL
          || !sk_IMZALA_OCSP_RESPONSES_ID_push (ref->ocsp_ids->responses, id))
        {
          IMZALA_OCSP_RESPONSES_ID_free (id);
          OCSP_BASICRESP_free (basic);
          goto fail;
        }
      if (values->ocsp_values == NULL)
        values->ocsp_values = sk_OCSP_BASICRESP_new_null ();
      if (values->ocsp_values == NULL || !sk_OCSP_BASICRESP_push (values->ocsp_values, basic))
        {
          OCSP_BASICRESP_free (basic);
          goto fail;
        }
    }

  if (revocation->crl != NULL)
    {
      const unsigned char *p;
      gsize size;
      X509_CRL *crl;
      IMZALA_CRL_VALIDATED_ID *id;

      p = g_bytes_get_data (revocation->crl, &size);
      crl = d2i_X509_CRL (NULL, &p, (long) size);
      if (crl == NULL)
        goto fail;
      id = IMZALA_CRL_VALIDATED_ID_new ();
      if (id == NULL)
        {
          X509_CRL_free (crl);
          goto fail;
        }
      IMZALA_OTHER_HASH_free (id->crl_hash);
      id->crl_hash = other_hash_new (g_bytes_get_data (revocation->crl, NULL), size);
      id->crl_identifier = IMZALA_CRL_IDENTIFIER_new ();
      {
        struct tm tm;

        /* crlIssuedTime is a UTCTime: the CRL's thisUpdate. */
        if (id->crl_hash == NULL || id->crl_identifier == NULL
            || !X509_NAME_set (&id->crl_identifier->issuer, X509_CRL_get_issuer (crl))
            || !ASN1_TIME_to_tm (X509_CRL_get0_lastUpdate (crl), &tm)
            || ASN1_UTCTIME_set (id->crl_identifier->issued_time, timegm (&tm)) == NULL)
          {
            IMZALA_CRL_VALIDATED_ID_free (id);
            X509_CRL_free (crl);
            goto fail;
          }
      }
      if (ref->crl_ids == NULL)
        ref->crl_ids = IMZALA_CRL_LIST_ID_new ();
      if (ref->crl_ids == NULL || !sk_IMZALA_CRL_VALIDATED_ID_push (ref->crl_ids->crls, id))
        {
          IMZALA_CRL_VALIDATED_ID_free (id);
          X509_CRL_free (crl);
          goto fail;
        }
      if (values->crl_values == NULL)
        values->crl_values = sk_X509_CRL_new_null ();
      if (values->crl_values == NULL || !sk_X509_CRL_push (values->crl_values, crl))
        {
          X509_CRL_free (crl);
          goto fail;
        }
    }
  return ref;

fail:
  IMZALA_CRL_OCSP_REF_free (ref);
  return NULL;
}

static gboolean
add_encoded_attribute (CMS_SignerInfo   *si,
                       const char       *oid,
                       const ASN1_VALUE *value,
                       const ASN1_ITEM  *item)
{
  unsigned char *der = NULL;
  int length = ASN1_item_i2d ((ASN1_VALUE *) value, &der, item);
  gboolean ok;

  if (length <= 0)
    return FALSE;
  ok = add_unsigned_attribute (si, oid, der, length);
  OPENSSL_free (der);
  return ok;
}

static gboolean
push_certificate (IMZALA_COMPLETE_CERTIFICATE_REFS *refs,
                  IMZALA_CERTIFICATE_VALUES        *values,
                  X509                             *x509)
{
  unsigned char *der = NULL;
  int length;
  g_autoptr(GBytes) bytes = NULL;
  IMZALA_OTHER_CERT_ID *id;

  /* Each certificate once, whichever way it came. */
  for (int i = 0; i < sk_X509_num (values); i++)
    if (X509_cmp (sk_X509_value (values, i), x509) == 0)
      return TRUE;

  length = i2d_X509 (x509, &der);
  if (length <= 0)
    return FALSE;
  bytes = g_bytes_new (der, length);
  OPENSSL_free (der);
  id = other_cert_id_new (bytes, x509);
  if (id == NULL || !sk_IMZALA_OTHER_CERT_ID_push (refs, id))
    {
      IMZALA_OTHER_CERT_ID_free (id);
      return FALSE;
    }
  if (!X509_up_ref (x509) || !sk_X509_push (values, x509))
    return FALSE;
  return TRUE;
}

GBytes *
imzala_cades_add_validation_data (GBytes     *cms,
                                  GPtrArray  *certificates,
                                  GPtrArray  *revocations,
                                  GError    **error)
{
  CMS_ContentInfo *parsed;
  CMS_SignerInfo *si;
  IMZALA_COMPLETE_CERTIFICATE_REFS *certificate_refs = NULL;
  IMZALA_CERTIFICATE_VALUES *certificate_values = NULL;
  IMZALA_COMPLETE_REVOCATION_REFS *revocation_refs = NULL;
  IMZALA_REVOCATION_VALUES *revocation_values = NULL;
  g_autoptr(GPtrArray) responder_certificates = NULL;
  GBytes *result = NULL;
  gboolean ok = FALSE;

  g_return_val_if_fail (cms != NULL, NULL);

  parsed = parse_cms (cms, &si, error);
  if (parsed == NULL)
    return NULL;

  responder_certificates = g_ptr_array_new_with_free_func ((GDestroyNotify) X509_free);
  certificate_refs = sk_IMZALA_OTHER_CERT_ID_new_null ();
  certificate_values = sk_X509_new_null ();
  revocation_refs = sk_IMZALA_CRL_OCSP_REF_new_null ();
  revocation_values = IMZALA_REVOCATION_VALUES_new ();
  if (certificate_refs == NULL || certificate_values == NULL
      || revocation_refs == NULL || revocation_values == NULL)
    goto out;

  for (guint i = 0; revocations != NULL && i < revocations->len; i++)
    {
      IMZALA_CRL_OCSP_REF *ref = crl_ocsp_ref_new (g_ptr_array_index (revocations, i),
                                                   revocation_values, responder_certificates);

      if (ref == NULL || !sk_IMZALA_CRL_OCSP_REF_push (revocation_refs, ref))
        {
          IMZALA_CRL_OCSP_REF_free (ref);
          g_set_error_literal (error, IMZALA_ERROR, IMZALA_ERROR_FAILED,
                               _("The certificate status information cannot be added to the signature."));
          goto out;
        }
    }

  for (guint i = 0; certificates != NULL && i < certificates->len; i++)
    {
      GBytes *der = g_ptr_array_index (certificates, i);
      const unsigned char *p = g_bytes_get_data (der, NULL);
      X509 *x509 = d2i_X509 (NULL, &p, (long) g_bytes_get_size (der));
      gboolean pushed = x509 != NULL && push_certificate (certificate_refs, certificate_values, x509);

      X509_free (x509);
      if (!pushed)
        {
          g_set_error_literal (error, IMZALA_ERROR, IMZALA_ERROR_CERTIFICATE_INVALID,
                               _("A certificate of the chain cannot be read."));
          goto out;
        }
    }
  for (guint i = 0; i < responder_certificates->len; i++)
    if (!push_certificate (certificate_refs, certificate_values,
                           g_ptr_array_index (responder_certificates, i)))
      goto out;

  if (!add_encoded_attribute (si, IMZALA_OID_CERTIFICATE_REFS, (ASN1_VALUE *) certificate_refs,
                              ASN1_ITEM_rptr (IMZALA_COMPLETE_CERTIFICATE_REFS))
      || !add_encoded_attribute (si, IMZALA_OID_REVOCATION_REFS, (ASN1_VALUE *) revocation_refs,
                                 ASN1_ITEM_rptr (IMZALA_COMPLETE_REVOCATION_REFS))
      || !add_encoded_attribute (si, IMZALA_OID_CERTIFICATE_VALUES, (ASN1_VALUE *) certificate_values,
                                 ASN1_ITEM_rptr (IMZALA_CERTIFICATE_VALUES))
      || !add_encoded_attribute (si, IMZALA_OID_REVOCATION_VALUES, (ASN1_VALUE *) revocation_values,
                                 ASN1_ITEM_rptr (IMZALA_REVOCATION_VALUES)))
    goto out;

  result = encode_cms (parsed, error);
  ok = result != NULL;

out:
  if (!ok && result == NULL && error != NULL && *error == NULL)
    {
      log_openssl_errors ("Adding the validation data");
      g_set_error_literal (error, IMZALA_ERROR, IMZALA_ERROR_FAILED,
                           _("The signature could not be built."));
    }
  sk_IMZALA_OTHER_CERT_ID_pop_free (certificate_refs, IMZALA_OTHER_CERT_ID_free);
  sk_X509_pop_free (certificate_values, X509_free);
  sk_IMZALA_CRL_OCSP_REF_pop_free (revocation_refs, IMZALA_CRL_OCSP_REF_free);
  IMZALA_REVOCATION_VALUES_free (revocation_values);
  CMS_ContentInfo_free (parsed);
  return result;
}

/* ---- Asking a TSA ---- */

static void
stamp_cb (GObject      *source,
          GAsyncResult *result,
          gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(GBytes) token = NULL;
  GBytes *cms = g_task_get_task_data (task);
  GError *error = NULL;
  GBytes *stamped;

  token = imzala_tsa_client_stamp_finish (IMZALA_TSA_CLIENT (source), result, &error);
  if (token == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  stamped = imzala_cades_add_signature_time_stamp (cms, token, &error);
  if (stamped == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, stamped, (GDestroyNotify) g_bytes_unref);
}

void
imzala_cades_time_stamp_async (GBytes              *cms,
                               ImzalaTsaClient     *tsa,
                               GCancellable        *cancellable,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(GBytes) signature = NULL;
  GError *error = NULL;

  g_return_if_fail (cms != NULL);
  g_return_if_fail (IMZALA_IS_TSA_CLIENT (tsa));

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, imzala_cades_time_stamp_async);
  g_task_set_task_data (task, g_bytes_ref (cms), (GDestroyNotify) g_bytes_unref);

  signature = imzala_cades_get_signature_value (cms, &error);
  if (signature == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  imzala_tsa_client_stamp_async (tsa, signature, cancellable, stamp_cb, g_steal_pointer (&task));
}

GBytes *
imzala_cades_time_stamp_finish (GAsyncResult  *result,
                                GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}
