#define G_LOG_DOMAIN "imzala-signer-status"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "imzala-error.h"
#include "imzala-openssl-thread.h"
#include "imzala-signer-status.h"
#include "imzala-trust.h"

/* A CA certificate is a few kilobytes; anything much larger is not one. */
#define MAX_ISSUER_SIZE (64 * 1024)

static gboolean
issued_by (X509 *cert,
           X509 *issuer)
{
  EVP_PKEY *key = X509_get0_pubkey (issuer);

  return X509_check_issued (issuer, cert) == X509_V_OK
         && key != NULL && X509_verify (cert, key) == 1;
}

static X509 *
parse_certificate (GBytes *bytes)
{
  const unsigned char *p;
  gsize size;
  X509 *x509;
  BIO *bio;

  p = g_bytes_get_data (bytes, &size);
  x509 = d2i_X509 (NULL, &p, (long) size);
  if (x509 != NULL)
    return x509;
  /* Some CAs publish PEM at the caIssuers URL. */
  bio = BIO_new_mem_buf (g_bytes_get_data (bytes, NULL), (int) size);
  if (bio == NULL)
    return NULL;
  x509 = PEM_read_bio_X509 (bio, NULL, NULL, NULL);
  BIO_free (bio);
  return x509;
}

X509 *
imzala_signer_status_find_issuer (X509            *cert,
                                  STACK_OF (X509) *candidates,
                                  gboolean         fetch,
                                  GTlsDatabase    *extra_ca,
                                  GCancellable    *cancellable)
{
  AUTHORITY_INFO_ACCESS *access;
  X509 *found = NULL;

  g_return_val_if_fail (cert != NULL, NULL);

  for (int i = 0; i < sk_X509_num (candidates); i++)
    {
      X509 *candidate = sk_X509_value (candidates, i);

      if (X509_cmp (candidate, cert) != 0 && issued_by (cert, candidate))
        {
          X509_up_ref (candidate);
          return candidate;
        }
    }
  if (!fetch)
    return NULL;

  access = X509_get_ext_d2i (cert, NID_info_access, NULL, NULL);
  for (int i = 0; found == NULL && i < sk_ACCESS_DESCRIPTION_num (access); i++)
    {
      ACCESS_DESCRIPTION *description = sk_ACCESS_DESCRIPTION_value (access, i);
      g_autoptr(GError) error = NULL;
      g_autoptr(GBytes) bytes = NULL;
      g_autofree char *url = NULL;
      X509 *candidate;

      if (OBJ_obj2nid (description->method) != NID_ad_ca_issuers
          || description->location->type != GEN_URI)
        continue;
      url = g_strndup ((const char *) ASN1_STRING_get0_data (description->location->d.uniformResourceIdentifier),
                       ASN1_STRING_length (description->location->d.uniformResourceIdentifier));
      bytes = imzala_cert_status_fetch_url_full (url, NULL, NULL, MAX_ISSUER_SIZE, extra_ca,
                                                 cancellable, &error);
      if (bytes == NULL)
        {
          g_debug ("caIssuers %s: %s", url, error->message);
          continue;
        }
      candidate = parse_certificate (bytes);
      if (candidate != NULL && issued_by (cert, candidate))
        found = candidate;
      else
        X509_free (candidate);
    }
  AUTHORITY_INFO_ACCESS_free (access);
  return found;
}

static ImzalaCertStatus *
unknown (const char *reason)
{
  ImzalaCertStatus *status = g_new0 (ImzalaCertStatus, 1);

  status->status = IMZALA_CERT_STATUS_UNKNOWN;
  status->source = IMZALA_CERT_STATUS_SOURCE_NONE;
  status->revocation_reason = -1;
  status->reason = g_strdup (reason);
  return status;
}

gboolean
imzala_signer_status_has_responder (X509 *cert)
{
  AUTHORITY_INFO_ACCESS *access = X509_get_ext_d2i (cert, NID_info_access, NULL, NULL);
  gboolean found = FALSE;

  for (int i = 0; !found && i < sk_ACCESS_DESCRIPTION_num (access); i++)
    found = OBJ_obj2nid (sk_ACCESS_DESCRIPTION_value (access, i)->method) == NID_ad_OCSP;
  AUTHORITY_INFO_ACCESS_free (access);
  return found;
}

ImzalaCertStatus *
imzala_signer_status_check (X509            *cert,
                            STACK_OF (X509) *candidates,
                            GTlsDatabase    *extra_ca,
                            GCancellable    *cancellable)
{
  ImzalaCertStatus *status;
  X509 *issuer;

  g_return_val_if_fail (cert != NULL, NULL);

  /* Said before anything is fetched: most test and company certificates
   * name no responder, and that is no reason to make the user wait. */
  if (!imzala_signer_status_has_responder (cert))
    return unknown (_("The certificate names no status service (OCSP), so its status could "
                      "not be checked."));
  issuer = imzala_signer_status_find_issuer (cert, candidates, TRUE, extra_ca, cancellable);
  if (issuer == NULL)
    return unknown (_("The certificate of the authority that issued this certificate could "
                      "not be found, so its status could not be checked."));
  status = imzala_cert_status_get_full (cert, issuer, NULL, NULL, IMZALA_CERT_STATUS_NO_CRL, extra_ca,
                                        cancellable);
  X509_free (issuer);
  return status;
}

typedef struct
{
  X509            *cert;
  STACK_OF (X509) *candidates;
  char            *extra_ca_file;
} CheckData;

static void
check_data_free (CheckData *data)
{
  X509_free (data->cert);
  sk_X509_pop_free (data->candidates, X509_free);
  g_free (data->extra_ca_file);
  g_free (data);
}

static void
check_thread (GTask        *task,
              gpointer      source_object,
              gpointer      task_data,
              GCancellable *cancellable)
{
  CheckData *data = task_data;
  g_autoptr(GTlsDatabase) extra_ca = NULL;
  g_autoptr(GError) error = NULL;
  ImzalaCertStatus *status;

  /* Read here, not on the caller's (the window's) main thread. */
  if (data->extra_ca_file != NULL)
    {
      extra_ca = imzala_trust_new_tls_database (data->extra_ca_file, &error);
      if (extra_ca == NULL)
        g_debug ("Status: the portal CA file is not used: %s", error->message);
    }
  status = imzala_signer_status_check (data->cert, data->candidates, extra_ca, cancellable);

  if (g_cancellable_is_cancelled (cancellable))
    {
      imzala_cert_status_free (status);
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CANCELLED, _("Cancelled."));
      return;
    }
  g_task_return_pointer (task, status, (GDestroyNotify) imzala_cert_status_free);
}

void
imzala_signer_status_check_async (ImzalaCertificate   *certificate,
                                  GPtrArray           *candidates,
                                  const char          *extra_ca_file,
                                  GCancellable        *cancellable,
                                  GAsyncReadyCallback  callback,
                                  gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  CheckData *data;

  g_return_if_fail (IMZALA_IS_CERTIFICATE (certificate));

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, imzala_signer_status_check_async);
  data = g_new0 (CheckData, 1);
  /* The thread gets its own references: ImzalaCertificate stays on the
   * caller's side. */
  data->cert = X509_dup (imzala_certificate_get_x509 (certificate));
  data->candidates = sk_X509_new_null ();
  data->extra_ca_file = g_strdup (extra_ca_file);
  for (guint i = 0; candidates != NULL && i < candidates->len; i++)
    {
      X509 *x509 = X509_dup (imzala_certificate_get_x509 (g_ptr_array_index (candidates, i)));

      if (x509 != NULL && !sk_X509_push (data->candidates, x509))
        X509_free (x509);
    }
  g_task_set_task_data (task, data, (GDestroyNotify) check_data_free);
  imzala_task_run_in_openssl_thread (task, check_thread);
}

ImzalaCertStatus *
imzala_signer_status_check_finish (GAsyncResult  *result,
                                   GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}
