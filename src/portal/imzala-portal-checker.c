#define G_LOG_DOMAIN "imzala-portal"

#include "config.h"

#include "imzala-certificate.h"
#include "imzala-cms.h"
#include "imzala-error.h"
#include "imzala-portal-checker.h"

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
reject (GError **error, const char *message)
{
  g_set_error_literal (error, IMZALA_ERROR, IMZALA_ERROR_PORTAL_REJECTED, message);
  return NULL;
}

ImzalaPortalSignature *
imzala_portal_check_signature (X509_STORE *trust,
                               GBytes     *cms,
                               GBytes     *expected_content,
                               const char *tckn,
                               gint64      created_at,
                               gint64      expires_at,
                               GError    **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autoptr(ImzalaVerifyResult) result = NULL;
  ImzalaPortalSignature *signature;
  ImzalaCertificate *signer;
  const char *signer_tckn;
  gint64 signing_time;

  /* No detached content: the CMS must carry the text itself, so that the
   * stored signature is the whole evidence. */
  result = imzala_cms_verify (cms, NULL, trust, IMZALA_VERIFY_NONE, &local_error);
  if (result == NULL)
    {
      g_debug ("CMS rejected: %s", local_error->message);
      return reject (error, "İmza doğrulanamadı.");
    }
  if (result->detached || result->content == NULL)
    return reject (error, "İmzalı metin imzanın içinde bulunmalıdır.");
  if (!g_bytes_equal (result->content, expected_content))
    return reject (error, "İmzalanan metin bu işlemin metni değil.");
  if (result->signing_time == NULL)
    return reject (error, "İmzada imzalama zamanı bulunmuyor.");
  signing_time = g_date_time_to_unix (result->signing_time);
  if (signing_time < created_at - IMZALA_PORTAL_CLOCK_SKEW
      || signing_time > expires_at + IMZALA_PORTAL_CLOCK_SKEW)
    return reject (error, "İmzalama zamanı bu işlemin geçerlilik süresi dışında.");

  signer = result->signer;
  signer_tckn = imzala_certificate_get_tckn (signer);
  if (signer_tckn == NULL || g_strcmp0 (signer_tckn, tckn) != 0)
    {
      g_set_error_literal (error, IMZALA_ERROR, IMZALA_ERROR_SIGNER_MISMATCH,
                           "İmzalayan kişi bu işlemi başlatan kişi değil. "
                           "Lütfen kendi e-imza kartınızı kullanınız.");
      return NULL;
    }
  if (!(imzala_certificate_get_key_usage (signer) & IMZALA_KEY_USAGE_NON_REPUDIATION))
    return reject (error, "İmza sertifikası inkâr edilemezlik (nonRepudiation) kullanımına sahip değil.");
  if (!imzala_certificate_is_qualified (signer))
    return reject (error, "İmza sertifikası nitelikli elektronik sertifika değil.");

  signature = g_new0 (ImzalaPortalSignature, 1);
  signature->cms = g_bytes_ref (cms);
  signature->signer_fingerprint = g_strdup (imzala_certificate_get_fingerprint (signer));
  signature->signer_subject = g_strdup (imzala_certificate_get_subject (signer));
  signature->signing_time = signing_time;
  return signature;
}
