#define G_LOG_DOMAIN "imzala-portal"

#include "config.h"

#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <openssl/ts.h>
#include <openssl/x509v3.h>

#include "imzala-cades-asn1.h"
#include "imzala-portal-checker.h"
#include "imzala-portal-evidence.h"

/* Seconds an OCSP response's thisUpdate may lie in the future. */
#define OCSP_SKEW 300

G_DEFINE_QUARK (imzala-portal-evidence-error-quark, imzala_portal_evidence_error)

const char *
imzala_portal_evidence_error_code (const GError *error, guint *status)
{
  g_return_val_if_fail (error != NULL && error->domain == IMZALA_PORTAL_EVIDENCE_ERROR, NULL);

  switch ((ImzalaPortalEvidenceError) error->code)
    {
    case IMZALA_PORTAL_EVIDENCE_REVOKED:
      *status = 403;
      return "certificate-revoked";
    case IMZALA_PORTAL_EVIDENCE_STATUS_UNKNOWN:
      *status = 422;
      return "certificate-status-unknown";
    case IMZALA_PORTAL_EVIDENCE_LEVEL:
    default:
      *status = 422;
      return "signature-level";
    }
}

static gboolean
fail (GError **error, ImzalaPortalEvidenceError code, const char *message)
{
  ERR_clear_error ();
  g_set_error_literal (error, IMZALA_PORTAL_EVIDENCE_ERROR, code, message);
  return FALSE;
}

static X509 *
find_signer (CMS_ContentInfo *cms, CMS_SignerInfo *signer_info)
{
  STACK_OF(X509) *certs = CMS_get1_certs (cms);
  X509 *found = NULL;

  for (int i = 0; certs != NULL && i < sk_X509_num (certs) && found == NULL; i++)
    if (CMS_SignerInfo_cert_cmp (signer_info, sk_X509_value (certs, i)) == 0)
      {
        found = sk_X509_value (certs, i);
        X509_up_ref (found);
      }
  sk_X509_pop_free (certs, X509_free);
  return found;
}

static gboolean
check_status (ImzalaPortalPki *pki, X509 *signer, GError **error)
{
  gint64 revoked_at = 0;
  int reason = -1;
  ImzalaPortalCertStatus status;

  status = pki != NULL ? imzala_portal_pki_get_status (pki, signer, &revoked_at, &reason)
                       : IMZALA_PORTAL_CERT_UNKNOWN;
  if (status == IMZALA_PORTAL_CERT_GOOD)
    return TRUE;
  if (status == IMZALA_PORTAL_CERT_REVOKED)
    {
      g_autoptr(GDateTime) when = g_date_time_new_from_unix_local (revoked_at);
      g_autofree char *date = g_date_time_format (when, "%d.%m.%Y");

      g_set_error (error, IMZALA_PORTAL_EVIDENCE_ERROR, IMZALA_PORTAL_EVIDENCE_REVOKED,
                   reason == OCSP_REVOKED_STATUS_KEYCOMPROMISE
                   ? "Kartınız iptal edilmiş (kayıp/çalıntı bildirimi): bu karttaki imza sertifikası "
                     "%s tarihinde iptal edildi ve artık kabul edilmiyor. Yeni bir kart için "
                     "sertifika başvurusu yapınız."
                   : "Kartınızdaki imza sertifikası %s tarihinde iptal edildi ve artık kabul "
                     "edilmiyor. Yeni bir kart için sertifika başvurusu yapınız.",
                   date);
      return FALSE;
    }
  return fail (error, IMZALA_PORTAL_EVIDENCE_STATUS_UNKNOWN,
               "İmza sertifikanızın iptal durumu doğrulanamadığı için imza kabul edilmedi.");
}

/* The values of the unsigned attributes of @signer_info with @oid. */
static GPtrArray *
unsigned_values (CMS_SignerInfo *signer_info, const char *oid)
{
  GPtrArray *values = g_ptr_array_new ();
  ASN1_OBJECT *object = OBJ_txt2obj (oid, 1);
  int index = -1;

  while ((index = CMS_unsigned_get_attr_by_OBJ (signer_info, object, index)) >= 0)
    {
      X509_ATTRIBUTE *attribute = CMS_unsigned_get_attr (signer_info, index);

      for (int i = 0; i < X509_ATTRIBUTE_count (attribute); i++)
        {
          ASN1_TYPE *type = X509_ATTRIBUTE_get0_type (attribute, i);

          if (type != NULL && type->type == V_ASN1_SEQUENCE)
            g_ptr_array_add (values, type->value.sequence);
        }
    }
  ASN1_OBJECT_free (object);
  return values;
}

static gboolean
token_time (TS_TST_INFO *info, gint64 *when)
{
  const ASN1_GENERALIZEDTIME *time = TS_TST_INFO_get_time (info);
  struct tm tm;

  if (time == NULL || ASN1_TIME_to_tm (time, &tm) != 1)
    return FALSE;
  *when = timegm (&tm);
  return TRUE;
}

/* One signature-time-stamp: a valid RFC 3161 token (TSA chain to @trust
 * with critical timeStamping, checked by TS_VERIFY), its imprint over the
 * signature value, its time within the request's life. */
static gboolean
check_time_stamp (X509_STORE        *trust,
                  ASN1_STRING       *value,
                  ASN1_OCTET_STRING *signature,
                  gint64             created_at,
                  gint64             now)
{
  const unsigned char *data = ASN1_STRING_get0_data (value);
  PKCS7 *token = d2i_PKCS7 (NULL, &data, ASN1_STRING_length (value));
  TS_TST_INFO *info = token != NULL ? PKCS7_to_TS_TST_INFO (token) : NULL;
  TS_VERIFY_CTX *ctx = TS_VERIFY_CTX_new ();
  BIO *signed_data = BIO_new_mem_buf (ASN1_STRING_get0_data (signature), ASN1_STRING_length (signature));
  gint64 when = 0;
  gboolean ok = FALSE;

  if (token != NULL && info != NULL && ctx != NULL && signed_data != NULL
      && X509_STORE_up_ref (trust) == 1)
    {
      /* The context owns the store and the data from here on. */
      TS_VERIFY_CTX_set_store (ctx, trust);
      TS_VERIFY_CTX_set_data (ctx, signed_data);
      signed_data = NULL;
      /* TS_VFY_DATA hashes the data with the token's own algorithm and
       * compares it with the token's messageImprint. */
      TS_VERIFY_CTX_set_flags (ctx, TS_VFY_SIGNATURE | TS_VFY_DATA | TS_VFY_VERSION);
      ok = TS_RESP_verify_token (ctx, token) == 1
        && token_time (info, &when)
        && when >= created_at - IMZALA_PORTAL_CLOCK_SKEW
        && when <= now + IMZALA_PORTAL_CLOCK_SKEW;
      if (!ok)
        g_debug ("Signature time-stamp refused (time %" G_GINT64_FORMAT ")", when);
    }
  ERR_clear_error ();
  BIO_free (signed_data);
  TS_VERIFY_CTX_free (ctx);
  TS_TST_INFO_free (info);
  PKCS7_free (token);
  return ok;
}

/* CertificateValues (imzala-cades-asn1.h): does it hold @signer? */
static gboolean
cert_values_hold (ASN1_STRING *value, X509 *signer)
{
  const unsigned char *data = ASN1_STRING_get0_data (value);
  IMZALA_CERTIFICATE_VALUES *certs = d2i_IMZALA_CERTIFICATE_VALUES (NULL, &data, ASN1_STRING_length (value));
  gboolean found = FALSE;

  for (int i = 0; certs != NULL && i < sk_X509_num (certs) && !found; i++)
    found = X509_cmp (sk_X509_value (certs, i), signer) == 0;
  IMZALA_CERTIFICATE_VALUES_free (certs);
  return found;
}

/* An OCSP response of revocation-values: signed by the portal's CA or its
 * delegated responder, fresh, and "good" for @signer. */
static gboolean
ocsp_value_good (X509_STORE *trust, OCSP_BASICRESP *basic, X509 *signer, X509 *issuer)
{
  OCSP_CERTID *id = OCSP_cert_to_id (NULL, signer, issuer);
  ASN1_GENERALIZEDTIME *this_update = NULL, *next_update = NULL;
  int status = -1, reason = -1;
  gboolean ok;

  ok = id != NULL
    && OCSP_basic_verify (basic, NULL, trust, 0) == 1
    && OCSP_resp_find_status (basic, id, &status, &reason, NULL, &this_update, &next_update) == 1
    && status == V_OCSP_CERTSTATUS_GOOD
    && OCSP_check_validity (this_update, next_update, OCSP_SKEW, -1) == 1;
  OCSP_CERTID_free (id);
  return ok;
}

/* A CRL of revocation-values: issued and signed by @issuer, current, and
 * without @signer. */
static gboolean
crl_value_good (X509_CRL *crl, X509 *signer, X509 *issuer)
{
  X509_REVOKED *entry = NULL;
  const ASN1_TIME *next_update = X509_CRL_get0_nextUpdate (crl);

  return X509_NAME_cmp (X509_CRL_get_issuer (crl), X509_get_subject_name (issuer)) == 0
    && X509_CRL_verify (crl, X509_get0_pubkey (issuer)) == 1
    && X509_cmp_current_time (X509_CRL_get0_lastUpdate (crl)) < 0
    && (next_update == NULL || X509_cmp_current_time (next_update) > 0)
    && X509_CRL_get0_by_cert (crl, &entry, signer) == 0;
}

/* RevocationValues (imzala-cades-asn1.h, the templates the client writes
 * with): does one of its CRLs or OCSP responses say @signer is good? */
static gboolean
revocation_values_good (X509_STORE *trust, ASN1_STRING *value, X509 *signer, X509 *issuer)
{
  const unsigned char *data = ASN1_STRING_get0_data (value);
  IMZALA_REVOCATION_VALUES *values = d2i_IMZALA_REVOCATION_VALUES (NULL, &data, ASN1_STRING_length (value));
  gboolean good = FALSE;

  if (values == NULL)
    return FALSE;
  for (int i = 0; i < sk_X509_CRL_num (values->crl_values) && !good; i++)
    good = crl_value_good (sk_X509_CRL_value (values->crl_values, i), signer, issuer);
  for (int i = 0; i < sk_OCSP_BASICRESP_num (values->ocsp_values) && !good; i++)
    good = ocsp_value_good (trust, sk_OCSP_BASICRESP_value (values->ocsp_values, i), signer, issuer);
  IMZALA_REVOCATION_VALUES_free (values);
  return good;
}

gboolean
imzala_portal_check_evidence (ImzalaPortalPki *pki,
                              X509_STORE      *trust,
                              GBytes          *cms_bytes,
                              const char      *level,
                              gint64           created_at,
                              gint64           now,
                              GError         **error)
{
  const unsigned char *data = g_bytes_get_data (cms_bytes, NULL);
  CMS_ContentInfo *cms = d2i_CMS_ContentInfo (NULL, &data, (long) g_bytes_get_size (cms_bytes));
  STACK_OF(CMS_SignerInfo) *signer_infos = cms != NULL ? CMS_get0_SignerInfos (cms) : NULL;
  CMS_SignerInfo *signer_info;
  X509 *signer = NULL;
  g_autoptr(GPtrArray) stamps = NULL;
  g_autoptr(GPtrArray) cert_values = NULL;
  g_autoptr(GPtrArray) revocation_values = NULL;
  gboolean ok = FALSE;

  if (signer_infos == NULL || sk_CMS_SignerInfo_num (signer_infos) != 1)
    {
      fail (error, IMZALA_PORTAL_EVIDENCE_STATUS_UNKNOWN,
            "İmza sertifikanızın iptal durumu doğrulanamadığı için imza kabul edilmedi.");
      goto out;
    }
  signer_info = sk_CMS_SignerInfo_value (signer_infos, 0);
  signer = find_signer (cms, signer_info);
  if (signer == NULL || !check_status (pki, signer, error))
    {
      if (signer == NULL)
        fail (error, IMZALA_PORTAL_EVIDENCE_STATUS_UNKNOWN,
              "İmza sertifikanızın iptal durumu doğrulanamadığı için imza kabul edilmedi.");
      goto out;
    }

  if (g_strcmp0 (level, "T") == 0 || g_strcmp0 (level, "XL") == 0)
    {
      gboolean stamped = FALSE;

      stamps = unsigned_values (signer_info, IMZALA_OID_SIGNATURE_TIME_STAMP);
      if (stamps->len == 0)
        {
          fail (error, IMZALA_PORTAL_EVIDENCE_LEVEL,
                "Bu işlem zaman damgalı imza istiyor, ancak imzada zaman damgası bulunmuyor. "
                "Lütfen İmzala'nın güncel sürümünü kullanınız.");
          goto out;
        }
      /* Every token must hold: a bad one beside a good one is tampering. */
      for (guint i = 0; i < stamps->len; i++)
        {
          stamped = check_time_stamp (trust, g_ptr_array_index (stamps, i),
                                      CMS_SignerInfo_get0_signature (signer_info), created_at, now);
          if (!stamped)
            break;
        }
      if (!stamped)
        {
          fail (error, IMZALA_PORTAL_EVIDENCE_LEVEL,
                "İmzadaki zaman damgası doğrulanamadı (güvenilen bir zaman damgası sunucusundan, "
                "bu imza için ve bu işlemin süresi içinde alınmış olmalıdır).");
          goto out;
        }
    }

  if (g_strcmp0 (level, "XL") == 0)
    {
      gboolean certs_ok = FALSE, status_ok = FALSE;
      X509 *issuer = imzala_portal_pki_get_issuing_x509 (pki);

      cert_values = unsigned_values (signer_info, IMZALA_OID_CERTIFICATE_VALUES);
      revocation_values = unsigned_values (signer_info, IMZALA_OID_REVOCATION_VALUES);
      for (guint i = 0; i < cert_values->len && !certs_ok; i++)
        certs_ok = cert_values_hold (g_ptr_array_index (cert_values, i), signer);
      for (guint i = 0; i < revocation_values->len && !status_ok; i++)
        status_ok = revocation_values_good (trust, g_ptr_array_index (revocation_values, i), signer, issuer);
      if (!certs_ok || !status_ok)
        {
          fail (error, IMZALA_PORTAL_EVIDENCE_LEVEL,
                "Bu işlem uzun süreli (XL) imza istiyor, ancak imzada sertifika değerleri ve "
                "sertifikanın iptal edilmediğini gösteren geçerli bir OCSP yanıtı ya da SİL "
                "bulunmuyor.");
          goto out;
        }
    }
  ok = TRUE;

out:
  ERR_clear_error ();
  X509_free (signer);
  CMS_ContentInfo_free (cms);
  return ok;
}
