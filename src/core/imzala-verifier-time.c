/* imzala-verifier-time.c: what proves when a signature was made: its
 * content and signature time-stamps, the claimed signingTime against
 * them, and the CAdES-X time-stamps over the references (split from
 * imzala-verifier.c; see imzala-verifier-private.h). */
#define G_LOG_DOMAIN "imzala-verifier"

#include "config.h"

#include <string.h>
#include <glib/gi18n-lib.h>
/* pem.h first: cms.h declares PEM_read_bio_CMS() with its macros. */
#include <openssl/pem.h>
#include <openssl/cms.h>
#include <openssl/err.h>

#include "imzala-cades-asn1.h"
#include "imzala-error.h"
#include "imzala-timestamp.h"
#include "imzala-verifier.h"
#include "imzala-verifier-private.h"

/* ---- Time-stamps and the signing time ---- */

static void check_signing_time (Signer *s);

static void
timestamp_failed (Signer *s, const char *name, const GError *error)
{
  /* A TSA that cannot be trusted leaves the question open; a token that
   * does not match or does not verify is a broken signature. */
  if (g_error_matches (error, IMZALA_ERROR, IMZALA_ERROR_UNTRUSTED))
    verifier_add_check (s->report, name, IMZALA_CHECK_INDETERMINATE, error->message);
  else
    verifier_add_check (s->report, name, IMZALA_CHECK_FAILED, error->message);
}


void
verifier_check_timestamps (Context *ctx, Signer *s)
{
  g_autoptr(GPtrArray) content_tokens = verifier_attribute_values (s->si, NID_id_smime_aa_ets_contentTimestamp,
                                                          TRUE);
  g_autoptr(GPtrArray) signature_tokens = verifier_attribute_values (s->si, NID_id_smime_aa_timeStampToken,
                                                            FALSE);
  ASN1_OCTET_STRING *signature = CMS_SignerInfo_get0_signature (s->si);

  for (guint i = 0; i < content_tokens->len; i++)
    {
      GBytes *token = g_ptr_array_index (content_tokens, i);
      GBytes *hash = verifier_content_digest (ctx, imzala_timestamp_get_imprint_md (token));
      g_autoptr(GError) error = NULL;
      g_autoptr(ImzalaTimestamp) stamp = NULL;

      if (hash == NULL)
        {
          /* Not a token, or one over a hash that is not accepted: the
           * check of the bytes says which. */
          static const guint8 nothing[1];

          stamp = imzala_timestamp_verify (token, nothing, 0, ctx->trust, s->untrusted,
                                           ctx->cancellable, &error);
          if (stamp != NULL)
            {
              /* Cannot happen: a token over no bytes at all. */
              g_clear_pointer (&stamp, imzala_timestamp_free);
              g_set_error_literal (&error, IMZALA_ERROR, IMZALA_ERROR_FAILED,
                                   _("The time-stamp could not be checked."));
            }
        }
      else
        stamp = imzala_timestamp_verify_digest (token, g_bytes_get_data (hash, NULL),
                                                g_bytes_get_size (hash), ctx->trust, s->untrusted,
                                                ctx->cancellable, &error);

      if (stamp == NULL)
        {
          timestamp_failed (s, "content-time-stamp", error);
          continue;
        }
      if (!verifier_check_tsa_status (ctx, s, "content-time-stamp-revocation", stamp))
        continue;
      if (s->report->content_timestamp_time == NULL
          || g_date_time_compare (stamp->time, s->report->content_timestamp_time) < 0)
        {
          g_clear_pointer (&s->report->content_timestamp_time, g_date_time_unref);
          s->report->content_timestamp_time = g_date_time_ref (stamp->time);
        }
      verifier_add_check (s->report, "content-time-stamp", IMZALA_CHECK_PASSED,
                 _("The content time-stamp is valid."));
    }

  for (guint i = 0; i < signature_tokens->len; i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(ImzalaTimestamp) stamp = NULL;
      g_autofree char *when = NULL;
      g_autofree char *message = NULL;

      stamp = imzala_timestamp_verify (g_ptr_array_index (signature_tokens, i),
                                       ASN1_STRING_get0_data (signature),
                                       (gsize) ASN1_STRING_length (signature), ctx->trust,
                                       s->untrusted, ctx->cancellable, &error);
      if (stamp == NULL)
        {
          timestamp_failed (s, "signature-time-stamp", error);
          continue;
        }
      when = verifier_format_time (stamp->time);
      message = g_strdup_printf (_("The signature time-stamp is valid: the signature existed on %s."),
                                 when);
      verifier_add_check (s->report, "signature-time-stamp", IMZALA_CHECK_PASSED, message);
      /* A TSA revoked before its token's time proves nothing. */
      if (!verifier_check_tsa_status (ctx, s, "signature-time-stamp-revocation", stamp))
        continue;
      /* The earliest valid time-stamp is the best proof. */
      if (s->report->timestamp_time == NULL
          || g_date_time_compare (stamp->time, s->report->timestamp_time) < 0)
        {
          g_clear_pointer (&s->report->timestamp_time, g_date_time_unref);
          s->report->timestamp_time = g_date_time_ref (stamp->time);
        }
    }

  if (signature_tokens->len > 0 && s->report->level >= IMZALA_SIGNATURE_LEVEL_BES)
    s->report->level = IMZALA_SIGNATURE_LEVEL_T;

  if (s->report->timestamp_time != NULL && s->report->content_timestamp_time != NULL
      && g_date_time_compare (s->report->content_timestamp_time, s->report->timestamp_time) > 0)
    verifier_add_check (s->report, "time-stamp-order", IMZALA_CHECK_FAILED,
               _("The content time-stamp is later than the signature time-stamp."));

  check_signing_time (s);
}

/* The signer's claimed signingTime against the time the signature
 * time-stamp proves. The claim comes first (the signer's software writes
 * it before it asks the TSA), so a claim later than the time-stamp is a
 * false one, beyond the tolerance for clocks that differ; a claim however
 * much earlier changes nothing, because the signature is validated at the
 * time-stamp's time, never at the claim. */
static void
check_signing_time (Signer *s)
{
  g_autofree char *claimed = NULL;
  g_autofree char *proven = NULL;
  g_autofree char *message = NULL;

  if (s->report->signing_time == NULL)
    return;
  claimed = verifier_format_time (s->report->signing_time);
  if (s->report->timestamp_time == NULL)
    {
      message = g_strdup_printf (_("The signer claims to have signed on %s; no time-stamp proves it, "
                                   "so the signature is validated now."), claimed);
      verifier_add_check (s->report, "signing-time", IMZALA_CHECK_SKIPPED, message);
      return;
    }
  proven = verifier_format_time (s->report->timestamp_time);
  if (g_date_time_difference (s->report->signing_time, s->report->timestamp_time)
      > (GTimeSpan) IMZALA_VERIFIER_SIGNING_TIME_TOLERANCE * G_TIME_SPAN_SECOND)
    {
      message = g_strdup_printf (_("The signer claims to have signed on %s, after the time-stamp "
                                   "proves the signature existed (%s): the claimed signing time is "
                                   "false."), claimed, proven);
      verifier_add_check (s->report, "signing-time", IMZALA_CHECK_FAILED, message);
      return;
    }
  message = g_strdup_printf (_("The claimed signing time (%s) is not after the time-stamp (%s); the "
                               "signature is validated at the time-stamp’s time."), claimed, proven);
  verifier_add_check (s->report, "signing-time", IMZALA_CHECK_PASSED, message);
}

/* The DER of every unsigned attribute of type @nid, in the order the
 * SignerInfo carries them, appended to @data. */
static void
append_unsigned_attributes (CMS_SignerInfo *si, int nid, GByteArray *data, guint *count)
{
  for (int index = CMS_unsigned_get_attr_by_NID (si, nid, -1); index >= 0;
       index = CMS_unsigned_get_attr_by_NID (si, nid, index))
    {
      unsigned char *der = NULL;
      int length = i2d_X509_ATTRIBUTE (CMS_unsigned_get_attr (si, index), &der);

      if (length > 0)
        {
          g_byte_array_append (data, der, (guint) length);
          (*count)++;
        }
      OPENSSL_free (der);
    }
}

/* CAdES-X (type 1): the escTimeStamp (CAdES-C-time-stamp) covers the
 * signature value, the signature time-stamp and the CAdES-C references.
 * Its messageImprint is the hash of the concatenation, as ETSI TS 101 733
 * §6.3.5 and EN 319 122-1 say, of the octets of the signatureValue and the
 * DER of each signature-time-stamp, complete-certificate-references and
 * complete-revocation-references attribute (type and values) as the
 * signature carries them. A valid one makes a CAdES-C signature CAdES-X;
 * with the X-L values it stays X-L. */
void
verifier_check_esc_time_stamps (Context *ctx, Signer *s)
{
  g_autoptr(GPtrArray) tokens = verifier_attribute_values (s->si, NID_id_smime_aa_ets_escTimeStamp, FALSE);
  ASN1_OCTET_STRING *signature = CMS_SignerInfo_get0_signature (s->si);
  g_autoptr(GByteArray) covered = NULL;
  guint references = 0;
  guint stamps = 0;
  gboolean any_valid = FALSE;

  if (tokens->len == 0)
    return;
  covered = g_byte_array_new ();
  g_byte_array_append (covered, ASN1_STRING_get0_data (signature), (guint) ASN1_STRING_length (signature));
  append_unsigned_attributes (s->si, NID_id_smime_aa_timeStampToken, covered, &stamps);
  append_unsigned_attributes (s->si, NID_id_smime_aa_ets_CertificateRefs, covered, &references);
  append_unsigned_attributes (s->si, NID_id_smime_aa_ets_RevocationRefs, covered, &references);
  if (references == 0)
    {
      verifier_add_check (s->report, "esc-time-stamp", IMZALA_CHECK_FAILED,
                          _("The signature carries a CAdES-X time-stamp but no certificate or "
                            "revocation references for it to cover."));
      return;
    }

  for (guint i = 0; i < tokens->len; i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(ImzalaTimestamp) stamp = NULL;
      g_autofree char *when = NULL;
      g_autofree char *message = NULL;

      stamp = imzala_timestamp_verify (g_ptr_array_index (tokens, i), covered->data, covered->len,
                                       ctx->trust, s->untrusted, ctx->cancellable, &error);
      if (stamp == NULL)
        {
          timestamp_failed (s, "esc-time-stamp", error);
          continue;
        }
      if (s->report->timestamp_time != NULL
          && g_date_time_compare (stamp->time, s->report->timestamp_time) < 0)
        {
          verifier_add_check (s->report, "esc-time-stamp", IMZALA_CHECK_FAILED,
                              _("The CAdES-X time-stamp is earlier than the signature time-stamp it "
                                "covers."));
          continue;
        }
      when = verifier_format_time (stamp->time);
      message = g_strdup_printf (_("The CAdES-X time-stamp is valid: the signature, its time-stamp "
                                   "and its references existed on %s."), when);
      verifier_add_check (s->report, "esc-time-stamp", IMZALA_CHECK_PASSED, message);
      if (verifier_check_tsa_status (ctx, s, "esc-time-stamp-revocation", stamp))
        any_valid = TRUE;
    }
  if (any_valid && s->report->level == IMZALA_SIGNATURE_LEVEL_C)
    s->report->level = IMZALA_SIGNATURE_LEVEL_X;
}
