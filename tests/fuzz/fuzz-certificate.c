/* fuzz-certificate.c: libFuzzer harness for imzala_certificate_new_from_der()
 * and every getter a window or a listing calls on what it accepted, and for
 * imzala_certificate_der_is_end_entity(), which must never call a
 * certificate that OpenSSL takes for a CA an end-entity one.
 *
 * A certificate comes from a card (CKA_VALUE) or from a CMS the portal sent
 * back, so its bytes are not to be trusted. Seeds: tests/fuzz/make-corpus.py.
 */
#define G_LOG_DOMAIN "fuzz-certificate"

#include "config.h"

#include <stdint.h>

#include "imzala-certificate.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr(GBytes) der = g_bytes_new (data, size);
  g_autoptr(GError) error = NULL;
  gboolean end_entity = imzala_certificate_der_is_end_entity (der);
  g_autoptr(ImzalaCertificate) certificate = imzala_certificate_new_from_der (der, &error);
  g_autoptr(GDateTime) when = NULL;
  g_auto(GStrv) problems = NULL;

  if (certificate == NULL)
    {
      g_assert (error != NULL && error->message != NULL);
      return 0;
    }

  g_assert (imzala_certificate_get_der (certificate) != NULL);
  g_assert (imzala_certificate_get_x509 (certificate) != NULL);
  g_assert (strlen (imzala_certificate_get_fingerprint (certificate)) == 64);
  g_assert (g_utf8_validate (imzala_certificate_get_holder_name (certificate), -1, NULL));
  g_assert (g_utf8_validate (imzala_certificate_get_subject (certificate), -1, NULL));
  g_assert (g_utf8_validate (imzala_certificate_get_issuer (certificate), -1, NULL));
  g_assert (g_utf8_validate (imzala_certificate_get_issuer_name (certificate), -1, NULL));
  (void) imzala_certificate_get_tckn (certificate);
  (void) imzala_certificate_get_serial (certificate);
  (void) imzala_certificate_get_not_before (certificate);
  (void) imzala_certificate_get_not_after (certificate);
  (void) imzala_certificate_get_key_type (certificate);
  (void) imzala_certificate_get_key_bits (certificate);
  (void) imzala_certificate_get_key_description (certificate);
  (void) imzala_certificate_get_key_usage (certificate);
  (void) imzala_certificate_is_qualified (certificate);
  g_assert (!end_entity || !imzala_certificate_is_ca (certificate));
  (void) imzala_certificate_is_recommended (certificate);

  when = g_date_time_new_utc (2026, 11, 26, 10, 0, 0);
  (void) imzala_certificate_is_valid_at (certificate, when);
  (void) imzala_certificate_get_problems (certificate, when);
  problems = imzala_certificate_describe_problems (certificate, when);
  return 0;
}
