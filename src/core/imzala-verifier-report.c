/* imzala-verifier-report.c: the verifier's reports, their names and the
 * checks they list (split from imzala-verifier.c; see
 * imzala-verifier-private.h). */
#define G_LOG_DOMAIN "imzala-verifier"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <openssl/err.h>

#include "imzala-verifier.h"
#include "imzala-verifier-private.h"

/* ---- Reports ---- */

void
verifier_check_free (ImzalaCheck *check)
{
  g_free (check->name);
  g_free (check->message);
  g_free (check);
}

void
verifier_signer_report_free (ImzalaSignerReport *report)
{
  g_free (report->reason);
  g_clear_object (&report->certificate);
  g_clear_pointer (&report->chain, g_ptr_array_unref);
  g_clear_pointer (&report->signing_time, g_date_time_unref);
  g_clear_pointer (&report->timestamp_time, g_date_time_unref);
  g_clear_pointer (&report->content_timestamp_time, g_date_time_unref);
  g_clear_pointer (&report->validation_time, g_date_time_unref);
  g_free (report->digest);
  g_clear_pointer (&report->cert_status, imzala_cert_status_free);
  g_clear_pointer (&report->checks, g_ptr_array_unref);
  g_clear_pointer (&report->counter_signers, g_ptr_array_unref);
  g_free (report);
}

void
imzala_verification_free (ImzalaVerification *self)
{
  if (self == NULL)
    return;
  g_free (self->reason);
  g_clear_pointer (&self->content, g_bytes_unref);
  g_clear_pointer (&self->signers, g_ptr_array_unref);
  g_free (self);
}

const char *
imzala_validation_to_string (ImzalaValidation status)
{
  switch (status)
    {
    case IMZALA_VALIDATION_VALID:
      return "valid";
    case IMZALA_VALIDATION_INVALID:
      return "invalid";
    case IMZALA_VALIDATION_INDETERMINATE:
    default:
      return "indeterminate";
    }
}

const char *
imzala_signature_level_to_string (ImzalaSignatureLevel level)
{
  switch (level)
    {
    case IMZALA_SIGNATURE_LEVEL_CMS:
      return "CMS";
    case IMZALA_SIGNATURE_LEVEL_BES:
      return "BES";
    case IMZALA_SIGNATURE_LEVEL_EPES:
      return "EPES";
    case IMZALA_SIGNATURE_LEVEL_T:
      return "T";
    case IMZALA_SIGNATURE_LEVEL_C:
      return "C";
    case IMZALA_SIGNATURE_LEVEL_X:
      return "X";
    case IMZALA_SIGNATURE_LEVEL_XL:
    default:
      return "X-L";
    }
}

const char *
imzala_check_result_to_string (ImzalaCheckResult result)
{
  switch (result)
    {
    case IMZALA_CHECK_PASSED:
      return "passed";
    case IMZALA_CHECK_FAILED:
      return "failed";
    case IMZALA_CHECK_INDETERMINATE:
      return "indeterminate";
    case IMZALA_CHECK_SKIPPED:
    default:
      return "skipped";
    }
}

/* Records a check. A failed or indeterminate check sets the signer's
 * status, the first one of the worst kind giving the reason. */
void
verifier_add_check (ImzalaSignerReport *report, const char *name, ImzalaCheckResult result,
           const char *message)
{
  ImzalaCheck *check = g_new0 (ImzalaCheck, 1);

  check->name = g_strdup (name);
  check->result = result;
  check->message = g_strdup (message);
  g_ptr_array_add (report->checks, check);

  if (result == IMZALA_CHECK_FAILED && report->status != IMZALA_VALIDATION_INVALID)
    {
      report->status = IMZALA_VALIDATION_INVALID;
      g_free (report->reason);
      report->reason = g_strdup (message);
    }
  else if (result == IMZALA_CHECK_INDETERMINATE && report->status == IMZALA_VALIDATION_VALID)
    {
      report->status = IMZALA_VALIDATION_INDETERMINATE;
      g_free (report->reason);
      report->reason = g_strdup (message);
    }
}

void
verifier_log_openssl_errors (const char *what)
{
  unsigned long code;

  while ((code = ERR_get_error ()) != 0)
    {
      char buffer[256];

      ERR_error_string_n (code, buffer, sizeof buffer);
      g_debug ("%s: %s", what, buffer);
    }
}

GDateTime *
verifier_date_time_from_asn1 (const ASN1_TIME *time)
{
  struct tm tm = { 0 };

  if (time == NULL || !ASN1_TIME_check (time) || !ASN1_TIME_to_tm (time, &tm))
    return NULL;
  return g_date_time_new_utc (tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                              tm.tm_hour, tm.tm_min, tm.tm_sec);
}

char *
verifier_format_time (GDateTime *time)
{
  return g_date_time_format (time, "%Y-%m-%d %H:%M:%S UTC");
}
