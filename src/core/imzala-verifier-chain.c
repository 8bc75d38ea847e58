/* imzala-verifier-chain.c: the verifier's chains, the certificates'
 * status at the proven time, and the CAdES-C references against the X-L
 * values (split from imzala-verifier.c; see imzala-verifier-private.h). */
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
static gboolean
build_chain (Context *ctx, Signer *s, time_t when, int *error_code, int *error_depth)
{
  for (int round = 0; round <= MAX_AIA_ROUNDS; round++)
    {
      X509_STORE *store = imzala_trust_new_store (ctx->trust, when);
      X509_STORE_CTX *store_ctx = X509_STORE_CTX_new ();
      X509 *missing = NULL;
      int result = 0;

      if (store != NULL && store_ctx != NULL
          && X509_STORE_CTX_init (store_ctx, store, s->signer, s->untrusted)
          && X509_STORE_CTX_set_default (store_ctx, "smime_sign"))
        result = X509_verify_cert (store_ctx);
      if (result == 1)
        s->chain = X509_STORE_CTX_get1_chain (store_ctx);
      else
        {
          *error_code = X509_STORE_CTX_get_error (store_ctx);
          *error_depth = X509_STORE_CTX_get_error_depth (store_ctx);
          if (*error_code == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY
              || *error_code == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT)
            {
              missing = X509_STORE_CTX_get_current_cert (store_ctx);
              if (missing != NULL)
                X509_up_ref (missing);
            }
        }
      X509_STORE_CTX_free (store_ctx);
      X509_STORE_free (store);
      ERR_clear_error ();

      if (result == 1)
        return s->chain != NULL;
      if (missing == NULL)
        return FALSE;

      {
        STACK_OF (X509) *fetched = imzala_trust_fetch_issuers (ctx->trust, missing, ctx->cancellable);
        int added = 0;

        for (int i = 0; i < sk_X509_num (fetched); i++)
          {
            X509 *x509 = sk_X509_value (fetched, i);
            gboolean known = FALSE;

            for (int j = 0; !known && j < sk_X509_num (s->untrusted); j++)
              known = X509_cmp (sk_X509_value (s->untrusted, j), x509) == 0;
            if (!known)
              {
                verifier_push_x509 (s->untrusted, x509);
                added++;
              }
          }
        sk_X509_pop_free (fetched, X509_free);
        X509_free (missing);
        if (added == 0)
          return FALSE;
      }
    }
  return FALSE;
}

static void
check_chain (Context *ctx, Signer *s, GDateTime *when, gboolean proven)
{
  int code = X509_V_OK;
  int depth = 0;

  if (build_chain (ctx, s, (time_t) g_date_time_to_unix (when), &code, &depth))
    {
      s->report->chain = g_ptr_array_new_with_free_func (g_object_unref);
      for (int i = 0; i < sk_X509_num (s->chain); i++)
        {
          X509 *x509 = sk_X509_value (s->chain, i);

          /* The signer's is described already; the trust keeps its own. */
          g_ptr_array_add (s->report->chain,
                           x509 == s->signer && s->report->certificate != NULL
                           ? g_object_ref (s->report->certificate)
                           : imzala_trust_describe (ctx->trust, x509));
        }
      verifier_add_check (s->report, "chain", IMZALA_CHECK_PASSED,
                 _("The signer’s certificate chains to a trusted certificate, and every "
                   "certificate on the way was valid at the validation time."));
      return;
    }

  g_debug ("Chain failed at depth %d: %s", depth, X509_verify_cert_error_string (code));
  switch (code)
    {
    case X509_V_ERR_CERT_HAS_EXPIRED:
      /* Without a time-stamp nothing proves the signature was made while
       * the certificate was valid (ETSI: OUT_OF_BOUNDS_NO_POE). */
      if (!proven)
        verifier_add_check (s->report, "chain", IMZALA_CHECK_INDETERMINATE,
                   depth == 0
                   ? _("The signer’s certificate has expired, and no time-stamp proves the signature "
                       "was made before.")
                   : _("A certificate authority certificate of the signer has expired, and no "
                       "time-stamp proves the signature was made before."));
      else
        verifier_add_check (s->report, "chain", IMZALA_CHECK_FAILED,
                   _("A certificate of the signer was not valid at the time the time-stamp proves."));
      break;
    case X509_V_ERR_CERT_NOT_YET_VALID:
      verifier_add_check (s->report, "chain", IMZALA_CHECK_FAILED,
                 _("A certificate of the signer was not yet valid at the validation time."));
      break;
    case X509_V_ERR_INVALID_PURPOSE:
      verifier_add_check (s->report, "chain", IMZALA_CHECK_FAILED,
                 _("The signer’s certificate is not meant for signatures."));
      break;
    case X509_V_ERR_CERT_SIGNATURE_FAILURE:
      verifier_add_check (s->report, "chain", IMZALA_CHECK_FAILED,
                 _("A certificate in the signer’s chain has a signature that does not verify."));
      break;
    default:
      verifier_add_check (s->report, "chain", IMZALA_CHECK_INDETERMINATE,
                 imzala_trust_get_offline (ctx->trust)
                 ? _("The signer’s certificate was not issued by a trusted certification authority "
                     "(no issuer was fetched: offline).")
                 : _("The signer’s certificate was not issued by a trusted certification authority."));
      break;
    }
}

static gboolean
names_status_service (X509 *x509)
{
  AUTHORITY_INFO_ACCESS *access = X509_get_ext_d2i (x509, NID_info_access, NULL, NULL);
  STACK_OF (DIST_POINT) *points = X509_get_ext_d2i (x509, NID_crl_distribution_points, NULL, NULL);
  gboolean found = points != NULL && sk_DIST_POINT_num (points) > 0;

  for (int i = 0; !found && access != NULL && i < sk_ACCESS_DESCRIPTION_num (access); i++)
    found = OBJ_obj2nid (sk_ACCESS_DESCRIPTION_value (access, i)->method) == NID_ad_OCSP;
  AUTHORITY_INFO_ACCESS_free (access);
  sk_DIST_POINT_pop_free (points, DIST_POINT_free);
  ERR_clear_error ();
  return found;
}

/* The status of every certificate of the chain but the trust anchor, at
 * @when. */
static void
check_revocation (Context *ctx, Signer *s, GDateTime *when)
{
  gboolean any = FALSE;

  for (int i = 0; i + 1 < sk_X509_num (s->chain); i++)
    {
      X509 *cert = sk_X509_value (s->chain, i);
      X509 *issuer = sk_X509_value (s->chain, i + 1);
      g_autoptr(ImzalaCertStatus) status = NULL;
      g_autofree char *message = NULL;

      /* The trust's status function (a portal's own records), else the
       * embedded evidence, else fetched unless offline. */
      status = imzala_trust_get_cert_status (ctx->trust, cert, issuer, when, s->evidence,
                                             ctx->cancellable);
      if (status->status == IMZALA_CERT_STATUS_UNKNOWN && !names_status_service (cert)
          && status->source == IMZALA_CERT_STATUS_SOURCE_NONE)
        {
          /* A CA that publishes no status at all: nothing can be asked.
           * Said, not held against the signature. */
          message = g_strdup (i == 0
                              ? _("The signer’s certificate names no status service; its status "
                                  "was not checked.")
                              : _("A certificate authority certificate names no status service; its "
                                  "status was not checked."));
          verifier_add_check (s->report, "revocation", IMZALA_CHECK_SKIPPED, message);
          continue;
        }
      any = TRUE;
      switch (status->status)
        {
        case IMZALA_CERT_STATUS_GOOD:
          if (status->revocation_time != NULL)
            {
              g_autofree char *revoked = verifier_format_time (status->revocation_time);

              message = i == 0
                ? g_strdup_printf (_("The signer’s certificate was revoked on %s, after the "
                                     "validation time: it was valid when the signature was made."),
                                   revoked)
                : g_strdup_printf (_("A certificate authority certificate was revoked on %s, after "
                                     "the validation time."), revoked);
            }
          else
            {
              const char *source = status->source == IMZALA_CERT_STATUS_SOURCE_OCSP ? "OCSP" : "CRL";

              message = i == 0
                ? g_strdup_printf (_("The signer’s certificate was not revoked (%s)."), source)
                : g_strdup_printf (_("A certificate authority certificate was not revoked (%s)."),
                                   source);
            }
          verifier_add_check (s->report, "revocation", IMZALA_CHECK_PASSED, message);
          break;
        case IMZALA_CERT_STATUS_REVOKED:
          {
            g_autofree char *revoked = status->revocation_time != NULL
              ? verifier_format_time (status->revocation_time) : g_strdup (_("an unknown date"));

            message = i == 0
              ? g_strdup_printf (_("The signer’s certificate was revoked on %s, before the "
                                   "validation time."), revoked)
              : g_strdup_printf (_("A certificate authority certificate of the signer was revoked "
                                   "on %s, before the validation time."), revoked);
            verifier_add_check (s->report, "revocation", IMZALA_CHECK_FAILED, message);
          }
          break;
        case IMZALA_CERT_STATUS_UNKNOWN:
        default:
          message = g_strdup_printf (_("The status of a certificate could not be established: %s"),
                                     status->reason != NULL ? status->reason : "");
          verifier_add_check (s->report, "revocation", IMZALA_CHECK_INDETERMINATE, message);
          break;
        }
      if (i == 0)
        s->report->cert_status = g_steal_pointer (&status);
    }
  if (!any && sk_X509_num (s->chain) <= 1)
    verifier_add_check (s->report, "revocation", IMZALA_CHECK_SKIPPED,
               _("The signer’s certificate is itself trusted; its status was not checked."));
}

void
verifier_verify_chain_and_status (Context *ctx, Signer *s, GDateTime *when, gboolean proven)
{
  check_chain (ctx, s, when, proven);
  if (s->chain != NULL)
    check_revocation (ctx, s, proven ? when : NULL);
}

static gboolean
hash_matches_any (const IMZALA_OTHER_HASH *hash, GPtrArray *values)
{
  for (guint i = 0; values != NULL && i < values->len; i++)
    {
      gsize size;
      const unsigned char *data = g_bytes_get_data (g_ptr_array_index (values, i), &size);

      if (verifier_other_hash_matches (hash, data, size))
        return TRUE;
    }
  return FALSE;
}

/* An OCSP reference's hash may be over the BasicOCSPResponse (as the
 * revocation-values carry it) or the whole OCSPResponse. */
static gboolean
ocsp_hash_matches_any (const IMZALA_OTHER_HASH *hash, GPtrArray *values)
{
  if (hash_matches_any (hash, values))
    return TRUE;
  for (guint i = 0; values != NULL && i < values->len; i++)
    {
      gsize size;
      const unsigned char *data = g_bytes_get_data (g_ptr_array_index (values, i), &size);
      const unsigned char *p = data;
      OCSP_BASICRESP *basic = d2i_OCSP_BASICRESP (NULL, &p, (long) size);
      OCSP_RESPONSE *response = basic != NULL
        ? OCSP_response_create (OCSP_RESPONSE_STATUS_SUCCESSFUL, basic) : NULL;
      unsigned char *der = NULL;
      int length = response != NULL ? i2d_OCSP_RESPONSE (response, &der) : -1;
      gboolean match = length > 0 && verifier_other_hash_matches (hash, der, (gsize) length);

      OPENSSL_free (der);
      OCSP_RESPONSE_free (response);
      OCSP_BASICRESP_free (basic);
      if (match)
        return TRUE;
    }
  ERR_clear_error ();
  return FALSE;
}

/* CAdES-C references and X-L values: with values present (X-L), every
 * reference must have its value; a reference that points at nothing makes
 * the signature invalid. */
void
verifier_check_references (Context *ctx, Signer *s)
{
  g_autoptr(GPtrArray) cert_refs = verifier_attribute_values (s->si, NID_id_smime_aa_ets_CertificateRefs, FALSE);
  g_autoptr(GPtrArray) revocation_refs = verifier_attribute_values (s->si, NID_id_smime_aa_ets_RevocationRefs,
                                                           FALSE);
  g_autoptr(GPtrArray) all_certs = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  gboolean has_values = s->cert_values->len > 0 || s->crl_values->len > 0 || s->ocsp_values->len > 0;
  gboolean has_refs = cert_refs->len > 0 || revocation_refs->len > 0;
  gboolean ok = TRUE;
  guint count = 0;

  if (!has_refs)
    {
      if (has_values)
        verifier_add_check (s->report, "references", IMZALA_CHECK_SKIPPED,
                   _("The signature carries certificate or revocation values without references."));
      return;
    }

  for (guint i = 0; i < s->cert_values->len; i++)
    g_ptr_array_add (all_certs, g_bytes_ref (g_ptr_array_index (s->cert_values, i)));
  for (int i = 0; i < sk_X509_num (ctx->cms_certs); i++)
    {
      GBytes *der = verifier_x509_der (sk_X509_value (ctx->cms_certs, i));

      if (der != NULL)
        g_ptr_array_add (all_certs, der);
    }

  /* CompleteCertificateRefs: every OtherCertID's hash is of a value. */
  for (guint i = 0; ok && i < cert_refs->len; i++)
    {
      gsize size;
      const unsigned char *p = g_bytes_get_data (g_ptr_array_index (cert_refs, i), &size);
      IMZALA_COMPLETE_CERTIFICATE_REFS *refs = d2i_IMZALA_COMPLETE_CERTIFICATE_REFS (NULL, &p, (long) size);

      ok = refs != NULL;
      for (int j = 0; ok && j < sk_IMZALA_OTHER_CERT_ID_num (refs); j++)
        {
          count++;
          ok = hash_matches_any (sk_IMZALA_OTHER_CERT_ID_value (refs, j)->cert_hash, all_certs);
        }
      IMZALA_COMPLETE_CERTIFICATE_REFS_free (refs);
    }

  /* CompleteRevocationRefs: every CrlValidatedID's hash is of a CRL value;
   * every OcspResponsesID's hash, when it has one, of an OCSP value (else
   * some OCSP value must be there). otherRev is not read. */
  for (guint i = 0; ok && i < revocation_refs->len; i++)
    {
      gsize size;
      const unsigned char *p = g_bytes_get_data (g_ptr_array_index (revocation_refs, i), &size);
      IMZALA_COMPLETE_REVOCATION_REFS *refs = d2i_IMZALA_COMPLETE_REVOCATION_REFS (NULL, &p, (long) size);

      ok = refs != NULL;
      for (int j = 0; ok && j < sk_IMZALA_CRL_OCSP_REF_num (refs); j++)
        {
          IMZALA_CRL_OCSP_REF *ref = sk_IMZALA_CRL_OCSP_REF_value (refs, j);
          STACK_OF (IMZALA_CRL_VALIDATED_ID) *crls = ref->crl_ids != NULL ? ref->crl_ids->crls : NULL;
          STACK_OF (IMZALA_OCSP_RESPONSES_ID) *responses = ref->ocsp_ids != NULL
            ? ref->ocsp_ids->responses : NULL;

          for (int k = 0; ok && k < sk_IMZALA_CRL_VALIDATED_ID_num (crls); k++)
            {
              count++;
              ok = hash_matches_any (sk_IMZALA_CRL_VALIDATED_ID_value (crls, k)->crl_hash, s->crl_values);
            }
          for (int k = 0; ok && k < sk_IMZALA_OCSP_RESPONSES_ID_num (responses); k++)
            {
              IMZALA_OCSP_RESPONSES_ID *id = sk_IMZALA_OCSP_RESPONSES_ID_value (responses, k);

              count++;
              ok = id->response_hash != NULL ? ocsp_hash_matches_any (id->response_hash, s->ocsp_values)
                                             : s->ocsp_values->len > 0;
            }
        }
      IMZALA_COMPLETE_REVOCATION_REFS_free (refs);
    }
  ERR_clear_error ();

  if (s->report->level >= IMZALA_SIGNATURE_LEVEL_BES)
    s->report->level = has_values ? IMZALA_SIGNATURE_LEVEL_XL : IMZALA_SIGNATURE_LEVEL_C;

  if (!has_values)
    {
      /* CAdES-C alone: the values are elsewhere; the references are read
       * but cannot be matched. */
      verifier_add_check (s->report, "references", IMZALA_CHECK_SKIPPED,
                 _("The signature carries certificate and revocation references but not their "
                   "values (CAdES-C)."));
      return;
    }
  if (!ok || count == 0)
    verifier_add_check (s->report, "references", IMZALA_CHECK_FAILED,
               _("The signature’s certificate or revocation references do not match the values it "
                 "carries."));
  else
    verifier_add_check (s->report, "references", IMZALA_CHECK_PASSED,
               _("Every certificate and revocation reference matches a value in the signature."));
}


/* ---- The time-stamp authorities' status (issue 10) ---- */

/* The status of every certificate of a TSA's chain but the anchor, at the
 * token's own time (genTime), checked as the signer's chain is: the
 * signature's embedded evidence first (in X-L the TSA's status has to be
 * among the revocation-values), then fetched unless offline. One check,
 * @name (e.g. "signature-time-stamp-revocation"): a certificate revoked at
 * or before genTime fails it (the token proves nothing), a status that
 * cannot be established leaves it open, a certificate that names no status
 * service at all is said and not held against it. Returns FALSE when the
 * token must not be used as proof of time. */
gboolean
verifier_check_tsa_status (Context *ctx, Signer *s, const char *name, ImzalaTimestamp *stamp)
{
  g_autofree char *when = verifier_format_time (stamp->time);
  g_autofree char *unknown = NULL;
  g_autofree char *revoked = NULL;
  guint checked = 0;
  guint unpublished = 0;

  if (stamp->chain == NULL || sk_X509_num (stamp->chain) == 0)
    {
      /* imzala_timestamp_verify() accepted the chain, so this is not
       * expected; without it no status can be asked. */
      g_autofree char *message = g_strdup (_("The status of the time-stamp authority could not be "
                                                      "checked."));

      verifier_add_check (s->report, name, IMZALA_CHECK_INDETERMINATE, message);
      return TRUE;
    }

  for (int i = 0; i + 1 < sk_X509_num (stamp->chain) && revoked == NULL; i++)
    {
      X509 *cert = sk_X509_value (stamp->chain, i);
      X509 *issuer = sk_X509_value (stamp->chain, i + 1);
      g_autoptr(ImzalaCertStatus) status = NULL;

      /* As for the signer: the trust's status function (a portal that is
       * its own TSA answers from its records), else the evidence. */
      status = imzala_trust_get_cert_status (ctx->trust, cert, issuer, stamp->time, s->evidence,
                                             ctx->cancellable);
      if (status->status == IMZALA_CERT_STATUS_UNKNOWN && !names_status_service (cert)
          && status->source == IMZALA_CERT_STATUS_SOURCE_NONE)
        {
          unpublished++;
          continue;
        }
      switch (status->status)
        {
        case IMZALA_CERT_STATUS_GOOD:
          checked++;
          break;
        case IMZALA_CERT_STATUS_REVOKED:
          revoked = status->revocation_time != NULL ? verifier_format_time (status->revocation_time)
                                                    : g_strdup (_("an unknown date"));
          break;
        case IMZALA_CERT_STATUS_UNKNOWN:
        default:
          if (unknown == NULL)
            unknown = g_strdup (status->reason != NULL ? status->reason : "");
          break;
        }
    }

  if (revoked != NULL)
    {
      g_autofree char *message = g_strdup_printf (_("The time-stamp authority’s certificate (or a CA "
                                                    "certificate above it) was revoked on %s, before "
                                                    "the time-stamp’s time (%s): the time-stamp proves "
                                                    "nothing."), revoked, when);

      verifier_add_check (s->report, name, IMZALA_CHECK_FAILED, message);
      return FALSE;
    }
  if (unknown != NULL)
    {
      g_autofree char *message = g_strdup_printf (_("The status of the time-stamp authority at %s "
                                                    "could not be established: %s"), when, unknown);

      verifier_add_check (s->report, name, IMZALA_CHECK_INDETERMINATE, message);
      return TRUE;
    }
  if (checked == 0)
    {
      g_autofree char *message = g_strdup (_("The time-stamp authority names no status service; its "
                                                      "status was not checked."));

      verifier_add_check (s->report, name, IMZALA_CHECK_SKIPPED, message);
      return TRUE;
    }
  {
    g_autofree char *message = unpublished > 0
      ? g_strdup_printf (_("The time-stamp authority was not revoked at %s (a CA above it "
                           "names no status service)."), when)
      : g_strdup_printf (_("The time-stamp authority was not revoked at %s."), when);

    verifier_add_check (s->report, name, IMZALA_CHECK_PASSED, message);
  }
  return TRUE;
}
