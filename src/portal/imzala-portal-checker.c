#define G_LOG_DOMAIN "imzala-portal"

#include "config.h"

#include <openssl/ocsp.h>

#include "imzala-certificate.h"
#include "imzala-error.h"
#include "imzala-portal-checker.h"
#include "imzala-verifier.h"

#define NOT_VERIFIED "İmza doğrulanamadı."
#define STATUS_UNKNOWN \
  "İmza sertifikanızın iptal durumu doğrulanamadığı için imza kabul edilmedi."
#define NO_TIME_STAMP \
  "Bu işlem zaman damgalı imza istiyor, ancak imzada zaman damgası bulunmuyor. " \
  "Lütfen İmzala'nın güncel sürümünü kullanınız."
#define BAD_TIME_STAMP \
  "İmzadaki zaman damgası doğrulanamadı (güvenilen bir zaman damgası sunucusundan, " \
  "bu imza için ve bu işlemin süresi içinde alınmış olmalıdır)."
#define BAD_REFERENCES \
  "İmzadaki uzun süreli doğrulama verileri geçersiz: sertifika ve iptal bilgisi başvuruları " \
  "imzadaki değerlerle uyuşmuyor."
#define NOT_XL \
  "Bu işlem uzun süreli (XL) imza istiyor, ancak imzada sertifika değerleri ve " \
  "sertifikanın iptal edilmediğini gösteren geçerli bir OCSP yanıtı ya da SİL " \
  "bulunmuyor."

G_DEFINE_QUARK (imzala-portal-check-error-quark, imzala_portal_check_error)

const char *
imzala_portal_check_error_code (const GError *error, guint *status)
{
  g_return_val_if_fail (error != NULL && error->domain == IMZALA_PORTAL_CHECK_ERROR, NULL);

  switch ((ImzalaPortalCheckError) error->code)
    {
    case IMZALA_PORTAL_CHECK_SIGNER_MISMATCH:
      *status = 403;
      return "signer-mismatch";
    case IMZALA_PORTAL_CHECK_REVOKED:
      *status = 403;
      return "certificate-revoked";
    case IMZALA_PORTAL_CHECK_STATUS_UNKNOWN:
      *status = 422;
      return "certificate-status-unknown";
    case IMZALA_PORTAL_CHECK_LEVEL:
      *status = 422;
      return "signature-level";
    case IMZALA_PORTAL_CHECK_INVALID:
    default:
      *status = 422;
      return "signature-invalid";
    }
}

void
imzala_portal_signature_free (ImzalaPortalSignature *signature)
{
  if (signature == NULL)
    return;
  g_clear_pointer (&signature->cms, g_bytes_unref);
  g_free (signature->signer_fingerprint);
  g_free (signature->signer_subject);
  g_free (signature);
}

static ImzalaPortalSignature *
reject (GError **error, ImzalaPortalCheckError code, const char *message)
{
  g_set_error_literal (error, IMZALA_PORTAL_CHECK_ERROR, code, message);
  return NULL;
}

/* The checks the verifier recorded under @name: whether one failed, and
 * whether one was indeterminate. */
static void
check_outcome (ImzalaSignerReport *report, const char *name, gboolean *failed, gboolean *open)
{
  *failed = FALSE;
  *open = FALSE;
  for (guint i = 0; i < report->checks->len; i++)
    {
      ImzalaCheck *check = g_ptr_array_index (report->checks, i);

      if (!g_str_equal (check->name, name))
        continue;
      *failed |= check->result == IMZALA_CHECK_FAILED;
      *open |= check->result == IMZALA_CHECK_INDETERMINATE;
    }
}

/* Checks of the evidence beyond BES (status, time-stamps, long-term values
 * and counter-signatures) are judged by the portal's own rules below; any
 * other check that did not pass makes the signature unacceptable. */
static const ImzalaCheck *
failed_basic_check (ImzalaSignerReport *report)
{
  for (guint i = 0; i < report->checks->len; i++)
    {
      const ImzalaCheck *check = g_ptr_array_index (report->checks, i);

      if (check->result != IMZALA_CHECK_FAILED && check->result != IMZALA_CHECK_INDETERMINATE)
        continue;
      if (g_str_equal (check->name, "revocation") || g_str_equal (check->name, "signature-time-stamp")
          || g_str_equal (check->name, "content-time-stamp") || g_str_equal (check->name, "references")
          /* Judged by its signer: a counter-signature (unsigned, anyone
           * may add one) neither makes nor breaks it. */
          || g_str_equal (check->name, "counter-signature"))
        continue;
      return check;
    }
  return NULL;
}

static gboolean
refuse (GError **error, ImzalaPortalCheckError code, const char *message)
{
  reject (error, code, message);
  return FALSE;
}

static ImzalaPortalSignature *
reject_revoked (GError **error, const ImzalaCertStatus *status)
{
  g_autoptr(GDateTime) when = g_date_time_to_local (status->revocation_time);
  g_autofree char *date = g_date_time_format (when, "%d.%m.%Y");

  g_set_error (error, IMZALA_PORTAL_CHECK_ERROR, IMZALA_PORTAL_CHECK_REVOKED,
               status->revocation_reason == OCSP_REVOKED_STATUS_KEYCOMPROMISE
               ? "Kartınız iptal edilmiş (kayıp/çalıntı bildirimi): bu karttaki imza sertifikası "
                 "%s tarihinde iptal edildi ve artık kabul edilmiyor. Yeni bir kart için "
                 "sertifika başvurusu yapınız."
               : "Kartınızdaki imza sertifikası %s tarihinde iptal edildi ve artık kabul "
                 "edilmiyor. Yeni bir kart için sertifika başvurusu yapınız.",
               date);
  return NULL;
}

/* §8.9: not revoked now (a revocation after a time-stamp too: the
 * portal's rule is the card's state now), and a status the portal's own
 * table established. */
static gboolean
check_status (ImzalaSignerReport *report, GError **error)
{
  const ImzalaCertStatus *status = report->cert_status;
  gboolean failed, open;

  if (status != NULL && status->revocation_time != NULL)
    {
      reject_revoked (error, status);
      return FALSE;
    }
  check_outcome (report, "revocation", &failed, &open);
  if (status == NULL || status->status != IMZALA_CERT_STATUS_GOOD || failed || open)
    {
      g_debug ("Signer status not established: %s", report->reason);
      return refuse (error, IMZALA_PORTAL_CHECK_STATUS_UNKNOWN, STATUS_UNKNOWN);
    }
  return TRUE;
}

/* §8.10, §8.11: the time-stamps and long-term values. A broken one is
 * refused whatever the level asked for; one the portal cannot trust only
 * when the request asked for it. */
static gboolean
check_level (ImzalaSignerReport *report, const char *level, gint64 created_at, gint64 now,
             GError **error)
{
  gboolean want_t = g_strcmp0 (level, "T") == 0 || g_strcmp0 (level, "XL") == 0;
  gboolean want_xl = g_strcmp0 (level, "XL") == 0;
  gboolean failed, open;

  gboolean content_failed, content_open;

  check_outcome (report, "signature-time-stamp", &failed, &open);
  check_outcome (report, "content-time-stamp", &content_failed, &content_open);
  if (want_t && report->level < IMZALA_SIGNATURE_LEVEL_T)
    return refuse (error, IMZALA_PORTAL_CHECK_LEVEL, NO_TIME_STAMP);
  if (failed || content_failed || (want_t && (open || report->timestamp_time == NULL)))
    return refuse (error, IMZALA_PORTAL_CHECK_LEVEL, BAD_TIME_STAMP);
  if (want_t)
    {
      gint64 stamped = g_date_time_to_unix (report->timestamp_time);

      if (stamped < created_at - IMZALA_PORTAL_CLOCK_SKEW || stamped > now + IMZALA_PORTAL_CLOCK_SKEW)
        return refuse (error, IMZALA_PORTAL_CHECK_LEVEL, BAD_TIME_STAMP);
    }

  /* X-L as the verifier reads it (the CAdES-C references, each matching
   * a certificate or revocation value), and the signer's status resting
   * on a revocation value the portal verified (imzala-portal-evidence.c). */
  check_outcome (report, "references", &failed, &open);
  if (failed)
    return refuse (error, IMZALA_PORTAL_CHECK_LEVEL, BAD_REFERENCES);
  if (want_xl && (report->level < IMZALA_SIGNATURE_LEVEL_XL || report->cert_status == NULL
                  || report->cert_status->evidence == NULL))
    return refuse (error, IMZALA_PORTAL_CHECK_LEVEL, NOT_XL);
  return TRUE;
}

ImzalaPortalSignature *
imzala_portal_check_signature (ImzalaTrust *trust,
                               GBytes      *cms,
                               GBytes      *expected_content,
                               const char  *tckn,
                               const char  *level,
                               gint64       created_at,
                               gint64       expires_at,
                               gint64       now,
                               GError     **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autoptr(ImzalaVerification) verification = NULL;
  const ImzalaCheck *failed;
  ImzalaSignerReport *report;
  ImzalaPortalSignature *signature;
  ImzalaCertificate *signer;
  const char *signer_tckn;
  gint64 signing_time;
  gsize size;
  const guint8 *data = g_bytes_get_data (cms, &size);

  g_return_val_if_fail (IMZALA_IS_TRUST (trust), NULL);

  /* DER only (the verifier would read PEM too). */
  if (size == 0 || data[0] != 0x30)
    return reject (error, IMZALA_PORTAL_CHECK_INVALID, NOT_VERIFIED);

  /* The request's text as the detached content: an attached signature
   * must carry exactly it, which the verifier compares; a detached one
   * verifies against it but is refused below, so that the stored
   * signature is the whole evidence. */
  verification = imzala_verifier_verify (cms, expected_content, trust, NULL, &local_error);
  if (verification == NULL)
    {
      g_debug ("CMS rejected: %s", local_error->message);
      if (g_error_matches (local_error, IMZALA_ERROR, IMZALA_ERROR_CONTENT_MISMATCH))
        return reject (error, IMZALA_PORTAL_CHECK_INVALID, "İmzalanan metin bu işlemin metni değil.");
      return reject (error, IMZALA_PORTAL_CHECK_INVALID, NOT_VERIFIED);
    }
  if (verification->detached)
    return reject (error, IMZALA_PORTAL_CHECK_INVALID, "İmzalı metin imzanın içinde bulunmalıdır.");
  /* Exactly one SignerInfo (§4.2): the signer is the requester. */
  if (verification->signers->len != 1)
    return reject (error, IMZALA_PORTAL_CHECK_INVALID, NOT_VERIFIED);
  report = g_ptr_array_index (verification->signers, 0);
  failed = failed_basic_check (report);
  if (failed != NULL || report->certificate == NULL)
    {
      g_debug ("CMS rejected (%s): %s", failed != NULL ? failed->name : "signer-certificate",
               failed != NULL ? failed->message : "");
      return reject (error, IMZALA_PORTAL_CHECK_INVALID, NOT_VERIFIED);
    }
  /* CAdES-BES at least: the ESS signing-certificate(-v2) names the
   * signer's certificate (the verifier checked it). */
  if (report->level < IMZALA_SIGNATURE_LEVEL_BES)
    return reject (error, IMZALA_PORTAL_CHECK_INVALID, NOT_VERIFIED);
  if (report->signing_time == NULL)
    return reject (error, IMZALA_PORTAL_CHECK_INVALID, "İmzada imzalama zamanı bulunmuyor.");
  signing_time = g_date_time_to_unix (report->signing_time);
  if (signing_time < created_at - IMZALA_PORTAL_CLOCK_SKEW
      || signing_time > expires_at + IMZALA_PORTAL_CLOCK_SKEW)
    return reject (error, IMZALA_PORTAL_CHECK_INVALID,
                   "İmzalama zamanı bu işlemin geçerlilik süresi dışında.");

  signer = report->certificate;
  signer_tckn = imzala_certificate_get_tckn (signer);
  if (signer_tckn == NULL || g_strcmp0 (signer_tckn, tckn) != 0)
    return reject (error, IMZALA_PORTAL_CHECK_SIGNER_MISMATCH,
                   "İmzalayan kişi bu işlemi başlatan kişi değil. "
                   "Lütfen kendi e-imza kartınızı kullanınız.");
  if (!(imzala_certificate_get_key_usage (signer) & IMZALA_KEY_USAGE_NON_REPUDIATION))
    return reject (error, IMZALA_PORTAL_CHECK_INVALID,
                   "İmza sertifikası inkâr edilemezlik (nonRepudiation) kullanımına sahip değil.");
  if (!imzala_certificate_is_qualified (signer))
    return reject (error, IMZALA_PORTAL_CHECK_INVALID,
                   "İmza sertifikası nitelikli elektronik sertifika değil.");

  if (!check_status (report, error) || !check_level (report, level, created_at, now, error))
    return NULL;

  signature = g_new0 (ImzalaPortalSignature, 1);
  signature->cms = g_bytes_ref (cms);
  signature->signer_fingerprint = g_strdup (imzala_certificate_get_fingerprint (signer));
  signature->signer_subject = g_strdup (imzala_certificate_get_subject (signer));
  signature->signing_time = signing_time;
  return signature;
}
