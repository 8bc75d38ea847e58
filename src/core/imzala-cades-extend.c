/* imzala-cades-extend.c: reaching a CAdES level after the card signed: the
 * time-stamp (imzala-tsa-client.c), then for X-L the status of the
 * signer's chain and of the TSA's chain (imzala-cert-status.c) and the
 * attributes of imzala-cades.c. The one part of CAdES making that uses the network.
 */
#define G_LOG_DOMAIN "imzala-cades"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/pkcs7.h>
#include <openssl/x509v3.h>

#include "imzala-cades.h"
#include "imzala-cert-status.h"
#include "imzala-error.h"
#include "imzala-signer-status.h"
#include "imzala-openssl-thread.h"

/* A Turkish NES chain is signer, issuing CA, root; a few more levels are
 * tolerated, a loop is not. */
#define MAX_CHAIN_LENGTH 8

static GBytes *
x509_to_bytes (X509 *x509)
{
  unsigned char *der = NULL;
  int length = i2d_X509 (x509, &der);
  GBytes *bytes;

  if (length <= 0)
    return NULL;
  bytes = g_bytes_new (der, length);
  OPENSSL_free (der);
  return bytes;
}

/* Whether @cert names a status service at all (AIA OCSP or a CRL
 * distribution point). */
static gboolean
publishes_status (X509 *cert)
{
  STACK_OF (DIST_POINT) *points;
  gboolean found;

  if (imzala_signer_status_has_responder (cert))
    return TRUE;
  points = X509_get_ext_d2i (cert, NID_crl_distribution_points, NULL, NULL);
  found = sk_DIST_POINT_num (points) > 0;
  sk_DIST_POINT_pop_free (points, DIST_POINT_free);
  return found;
}

/* Adds @der (taken) unless it is there already: the signer's and the TSA's
 * chains may share a CA or a responder. */
static void
add_certificate (GPtrArray *certificates, GBytes *der)
{
  for (guint i = 0; i < certificates->len; i++)
    if (g_bytes_equal (g_ptr_array_index (certificates, i), der))
      {
        g_bytes_unref (der);
        return;
      }
  g_ptr_array_add (certificates, der);
}

static void
revocation_free (ImzalaCadesRevocation *revocation)
{
  g_clear_pointer (&revocation->ocsp_response, g_bytes_unref);
  g_clear_pointer (&revocation->crl, g_bytes_unref);
  g_free (revocation);
}

/* Walks the chain up from @first (a new reference, taken), adding each
 * issuer's certificate to @certificates and each certificate's status to
 * @revocations, until a root or an authority that publishes no status of
 * its own. For the signer (@tsa FALSE) the first certificate always needs
 * its status; a TSA (@tsa TRUE) that names no status service at all has
 * nothing to embed, as a verifier says too. */
static gboolean
add_chain (X509            *first,
           STACK_OF (X509) *candidates,
           gboolean         tsa,
           GPtrArray       *certificates,
           GPtrArray       *revocations,
           GTlsDatabase    *extra_ca,
           GCancellable    *cancellable,
           GError         **error)
{
  X509 *current = first;
  gboolean ok = FALSE;
  guint depth;

  for (depth = 0; depth < MAX_CHAIN_LENGTH && X509_self_signed (current, 1) != 1; depth++)
    {
      g_autoptr(ImzalaCertStatus) status = NULL;
      ImzalaCadesRevocation *revocation;
      X509 *issuer;
      GBytes *issuer_bytes;

      /* An authority above the signer that publishes no status of its own
       * (no OCSP, no CRL distribution point) is as far as the evidence
       * reaches: nobody can prove its status, so a verifier has to trust
       * it as an anchor (a partial chain), as it trusts a root. It gets a
       * reference without status, like the root. The signer's own
       * certificate always needs its status. */
      if ((depth > 0 || tsa) && !publishes_status (current))
        break;

      issuer = imzala_signer_status_find_issuer (current, candidates, TRUE, extra_ca, cancellable);

      if (issuer == NULL)
        {
          g_set_error_literal (error, IMZALA_ERROR, IMZALA_ERROR_UNTRUSTED,
                               tsa
                               ? _("The chain of the time-stamp authority’s certificate cannot be "
                                   "completed, so the long-term signature was not completed and "
                                   "nothing was sent.")
                               : _("The chain of the certificate cannot be completed (an issuing "
                                   "authority's certificate could not be found), so the long-term "
                                   "signature was not completed and nothing was sent."));
          goto out;
        }
      issuer_bytes = x509_to_bytes (issuer);
      if (issuer_bytes != NULL)
        add_certificate (certificates, issuer_bytes);

      status = imzala_cert_status_get_full (current, issuer, NULL, NULL,
                                            IMZALA_CERT_STATUS_FLAGS_NONE, extra_ca, cancellable);
      X509_free (current);
      current = issuer;
      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        goto out;
      if (status->status == IMZALA_CERT_STATUS_REVOKED)
        {
          g_set_error_literal (error, IMZALA_ERROR, IMZALA_ERROR_CERTIFICATE_REVOKED,
                               tsa
                               ? _("The time-stamp authority’s certificate (or one above it) has "
                                   "been revoked, so the long-term signature was not completed and "
                                   "nothing was sent.")
                               : depth == 0
                               ? _("Your certificate has been revoked, so the signature was not "
                                   "completed and nothing was sent.")
                               : _("The certificate of an authority above yours has been revoked, "
                                   "so the signature was not completed and nothing was sent."));
          goto out;
        }
      if (status->status != IMZALA_CERT_STATUS_GOOD || status->evidence == NULL)
        {
          if (tsa)
            g_set_error (error, IMZALA_ERROR, IMZALA_ERROR_STATUS_UNKNOWN,
                         _("The status of the time-stamp authority’s certificate could not be "
                           "established, so the long-term signature was not completed and "
                           "nothing was sent. %s"),
                         status->reason != NULL ? status->reason : "");
          else
            g_set_error (error, IMZALA_ERROR, IMZALA_ERROR_STATUS_UNKNOWN,
                         _("The certificate status could not be established, so the long-term "
                           "signature was not completed and nothing was sent. %s"),
                         status->reason != NULL ? status->reason : "");
          goto out;
        }
      revocation = g_new0 (ImzalaCadesRevocation, 1);
      if (status->source == IMZALA_CERT_STATUS_SOURCE_OCSP)
        revocation->ocsp_response = g_bytes_ref (status->evidence);
      else
        revocation->crl = g_bytes_ref (status->evidence);
      g_ptr_array_add (revocations, revocation);
      /* A delegated responder or CRL issuer is part of what a verifier
       * needs offline. */
      if (status->evidence_signer != NULL && X509_cmp (status->evidence_signer, issuer) != 0)
        {
          GBytes *signer_bytes = x509_to_bytes (status->evidence_signer);

          if (signer_bytes != NULL)
            add_certificate (certificates, signer_bytes);
        }
    }
  if (depth == MAX_CHAIN_LENGTH)
    {
      g_set_error_literal (error, IMZALA_ERROR, IMZALA_ERROR_UNTRUSTED,
                           _("The chain of the certificate cannot be completed (an issuing "
                             "authority's certificate could not be found), so the long-term "
                             "signature was not completed and nothing was sent."));
      goto out;
    }
  /* The root (or the authority that publishes no status) is a trust
   * anchor: its reference carries no status. */
  g_ptr_array_add (revocations, g_new0 (ImzalaCadesRevocation, 1));
  ok = TRUE;

out:
  X509_free (current);
  return ok;
}

/* The TSA's certificate: the signer of @si's signature-time-stamp token,
 * carried in the token (the TSA client asks for it). A new reference, or
 * NULL; the token's certificates are added to @candidates. */
static X509 *
time_stamp_signer (CMS_SignerInfo *si, STACK_OF (X509) *candidates)
{
  int index = CMS_unsigned_get_attr_by_NID (si, NID_id_smime_aa_timeStampToken, -1);
  X509_ATTRIBUTE *attribute = index >= 0 ? CMS_unsigned_get_attr (si, index) : NULL;
  ASN1_TYPE *value = attribute != NULL ? X509_ATTRIBUTE_get0_type (attribute, 0) : NULL;
  const unsigned char *p;
  PKCS7 *token;
  STACK_OF (X509) *signers;
  X509 *tsa = NULL;

  if (value == NULL || ASN1_TYPE_get (value) != V_ASN1_SEQUENCE)
    return NULL;
  p = ASN1_STRING_get0_data (value->value.sequence);
  token = d2i_PKCS7 (NULL, &p, ASN1_STRING_length (value->value.sequence));
  if (token == NULL || !PKCS7_type_is_signed (token))
    {
      PKCS7_free (token);
      ERR_clear_error ();
      return NULL;
    }
  for (int i = 0; i < sk_X509_num (token->d.sign->cert); i++)
    if (X509_up_ref (sk_X509_value (token->d.sign->cert, i)) == 1
        && sk_X509_push (candidates, sk_X509_value (token->d.sign->cert, i)) <= 0)
      X509_free (sk_X509_value (token->d.sign->cert, i));
  signers = PKCS7_get0_signers (token, NULL, 0);
  if (signers != NULL && sk_X509_num (signers) == 1)
    {
      tsa = sk_X509_value (signers, 0);
      X509_up_ref (tsa);
    }
  sk_X509_free (signers);
  PKCS7_free (token);
  ERR_clear_error ();
  return tsa;
}

/* Blocking: the signer's chain from the CMS's certificates (else AIA
 * caIssuers), each certificate's status, then the same for the chain of
 * the TSA that stamped the signature (issue 10: X-L carries the TSA's
 * status too, so that the time-stamp verifies offline), and the
 * attributes. */
static GBytes *
add_chain_status (GBytes        *cms,
                  GTlsDatabase  *extra_ca,
                  GCancellable  *cancellable,
                  GError       **error)
{
  const unsigned char *p;
  CMS_ContentInfo *parsed;
  STACK_OF (X509) *certs = NULL;
  CMS_SignerInfo *si;
  X509 *current = NULL;
  X509 *tsa = NULL;
  g_autoptr(GPtrArray) certificates = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  g_autoptr(GPtrArray) revocations = g_ptr_array_new_with_free_func ((GDestroyNotify) revocation_free);
  GBytes *result = NULL;

  p = g_bytes_get_data (cms, NULL);
  parsed = d2i_CMS_ContentInfo (NULL, &p, (long) g_bytes_get_size (cms));
  if (parsed == NULL || sk_CMS_SignerInfo_num (CMS_get0_SignerInfos (parsed)) != 1)
    {
      g_set_error_literal (error, IMZALA_ERROR, IMZALA_ERROR_CMS_INVALID,
                           _("The signature to extend is not a signature with one signer."));
      goto out;
    }
  si = sk_CMS_SignerInfo_value (CMS_get0_SignerInfos (parsed), 0);
  certs = CMS_get1_certs (parsed);
  if (certs == NULL)
    certs = sk_X509_new_null ();
  for (int i = 0; current == NULL && i < sk_X509_num (certs); i++)
    if (CMS_SignerInfo_cert_cmp (si, sk_X509_value (certs, i)) == 0)
      {
        current = sk_X509_value (certs, i);
        X509_up_ref (current);
      }
  if (current == NULL)
    {
      g_set_error_literal (error, IMZALA_ERROR, IMZALA_ERROR_CMS_INVALID,
                           _("The signature to extend does not carry its signer's certificate."));
      goto out;
    }

  if (!add_chain (g_steal_pointer (&current), certs, FALSE, certificates, revocations, extra_ca,
                  cancellable, error))
    goto out;

  tsa = time_stamp_signer (si, certs);
  if (tsa != NULL)
    {
      GBytes *tsa_bytes = x509_to_bytes (tsa);

      if (tsa_bytes != NULL)
        add_certificate (certificates, tsa_bytes);
      if (!add_chain (g_steal_pointer (&tsa), certs, TRUE, certificates, revocations, extra_ca,
                      cancellable, error))
        goto out;
    }

  result = imzala_cades_add_validation_data (cms, certificates, revocations, error);

out:
  X509_free (current);
  X509_free (tsa);
  sk_X509_pop_free (certs, X509_free);
  CMS_ContentInfo_free (parsed);
  return result;
}

static void
chain_status_thread (GTask        *task,
                     gpointer      source_object,
                     gpointer      task_data,
                     GCancellable *cancellable)
{
  GError *error = NULL;
  GTlsDatabase *extra_ca = g_object_get_data (G_OBJECT (task), "extra-ca");
  GBytes *result = add_chain_status (task_data, extra_ca, cancellable, &error);

  if (result == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, result, (GDestroyNotify) g_bytes_unref);
}

static void
stamped_cb (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  ImzalaCadesLevel level = GPOINTER_TO_INT (g_object_get_data (G_OBJECT (task), "level"));
  GError *error = NULL;
  GBytes *stamped;

  stamped = imzala_cades_time_stamp_finish (result, &error);
  if (stamped == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  if (level != IMZALA_CADES_LEVEL_XL)
    {
      g_task_return_pointer (task, stamped, (GDestroyNotify) g_bytes_unref);
      return;
    }
  g_task_set_task_data (task, stamped, (GDestroyNotify) g_bytes_unref);
  imzala_task_run_in_openssl_thread (task, chain_status_thread);
}

void
imzala_cades_extend_async (GBytes              *cms,
                           ImzalaCadesLevel     level,
                           ImzalaTsaClient     *tsa,
                           GCancellable        *cancellable,
                           GAsyncReadyCallback  callback,
                           gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (cms != NULL);
  g_return_if_fail (level == IMZALA_CADES_LEVEL_BES || IMZALA_IS_TSA_CLIENT (tsa));

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, imzala_cades_extend_async);
  g_object_set_data (G_OBJECT (task), "level", GINT_TO_POINTER (level));
  if (level == IMZALA_CADES_LEVEL_BES)
    {
      g_task_return_pointer (task, g_bytes_ref (cms), (GDestroyNotify) g_bytes_unref);
      return;
    }
  /* The CA the TSA client trusts besides the system store (the portal's,
   * `--tsa-ca`) also vouches for the https status services of X-L. */
  if (imzala_tsa_client_get_extra_database (tsa) != NULL)
    g_object_set_data_full (G_OBJECT (task), "extra-ca",
                            g_object_ref (imzala_tsa_client_get_extra_database (tsa)), g_object_unref);
  imzala_cades_time_stamp_async (cms, tsa, cancellable, stamped_cb, g_steal_pointer (&task));
}

GBytes *
imzala_cades_extend_finish (GAsyncResult  *result,
                            GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}
