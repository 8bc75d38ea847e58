/* imzala-token-cms.c: a CAdES-BES signature made on a token.
 *
 * The CMS builder (imzala-cms.c) knows nothing of tokens: it takes a sign
 * callback. This file is that callback for a token, plus the token's CA
 * certificates for the SignedData's certificate set.
 */
#define G_LOG_DOMAIN "imzala-cms"

#include "config.h"

#include <glib/gi18n-lib.h>

#include "imzala-error.h"
#include "imzala-token-private.h"

typedef struct
{
  ImzalaToken       *token;
  ImzalaCertificate *certificate;
  ImzalaSecret      *pin;
} TokenSignData;

static GBytes *
token_sign_cb (GBytes       *to_be_signed,
               ImzalaDigest  digest,
               gpointer      user_data,
               GCancellable *cancellable,
               GError      **error)
{
  TokenSignData *data = user_data;

  return imzala_token_sign (data->token, data->certificate, data->pin, digest,
                            to_be_signed, cancellable, error);
}

/* The signer must be one of the token's certificates with a key; the
 * token's other CA certificates go into the SignedData, as DER. */
static GPtrArray *
check_signer (ImzalaToken *self, ImzalaCertificate *signer, GError **error)
{
  GPtrArray *ca_certificates;
  GPtrArray *token_certificates;

  if (!imzala_token_has_certificate (self, signer))
    {
      g_set_error_literal (error, IMZALA_ERROR, IMZALA_ERROR_NO_TOKEN,
                           _("The card with this certificate is no longer available."));
      return NULL;
    }
  if (!imzala_certificate_has_private_key (signer))
    {
      g_set_error_literal (error, IMZALA_ERROR, IMZALA_ERROR_NO_PRIVATE_KEY,
                           _("There is no private key for this certificate on the card."));
      return NULL;
    }

  ca_certificates = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  token_certificates = imzala_token_get_certificates (self);
  for (guint i = 0; token_certificates != NULL && i < token_certificates->len; i++)
    {
      ImzalaCertificate *certificate = g_ptr_array_index (token_certificates, i);

      if (certificate != signer && imzala_certificate_is_ca (certificate))
        g_ptr_array_add (ca_certificates, g_bytes_ref (imzala_certificate_get_der (certificate)));
    }
  /* Read for one named certificate, the token kept its CA certificates
   * unparsed. */
  for (guint i = 0; i < self->carried_certificates->len; i++)
    g_ptr_array_add (ca_certificates, g_bytes_ref (g_ptr_array_index (self->carried_certificates, i)));
  return ca_certificates;
}

GBytes *
imzala_token_sign_cms_digest (ImzalaToken       *self,
                              ImzalaCertificate *signer,
                              ImzalaSecret      *pin,
                              GBytes            *content_digest,
                              GCancellable      *cancellable,
                              GError           **error)
{
  g_autoptr(GPtrArray) ca_certificates = NULL;
  TokenSignData data;

  g_return_val_if_fail (IMZALA_IS_TOKEN (self), NULL);
  g_return_val_if_fail (IMZALA_IS_CERTIFICATE (signer), NULL);
  g_return_val_if_fail (content_digest != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  ca_certificates = check_signer (self, signer, error);
  if (ca_certificates == NULL)
    return NULL;

  data.token = self;
  data.certificate = signer;
  data.pin = pin;

  /* imzala_token_sign() verifies what the card returned with the
   * certificate's key: the builder need not verify it again. */
  return imzala_cms_sign_full (signer, ca_certificates, NULL, content_digest,
                               IMZALA_CMS_DETACHED | IMZALA_CMS_SIGNATURE_CHECKED, NULL,
                               token_sign_cb, &data, cancellable, error);
}

GBytes *
imzala_token_sign_cms (ImzalaToken       *self,
                       ImzalaCertificate *signer,
                       ImzalaSecret      *pin,
                       GBytes            *content,
                       ImzalaCmsFlags     flags,
                       GCancellable      *cancellable,
                       GError           **error)
{
  g_autoptr(GPtrArray) ca_certificates = NULL;
  TokenSignData data;

  g_return_val_if_fail (IMZALA_IS_TOKEN (self), NULL);
  g_return_val_if_fail (IMZALA_IS_CERTIFICATE (signer), NULL);
  g_return_val_if_fail (content != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  ca_certificates = check_signer (self, signer, error);
  if (ca_certificates == NULL)
    return NULL;

  data.token = self;
  data.certificate = signer;
  data.pin = pin;

  return imzala_cms_sign_full (signer, ca_certificates, content, NULL,
                               flags | IMZALA_CMS_SIGNATURE_CHECKED, NULL,
                               token_sign_cb, &data, cancellable, error);
}

typedef struct
{
  ImzalaCertificate *signer;
  ImzalaSecret      *pin;
  GBytes            *content; /* or the content's digest, for _digest_async() */
  ImzalaCmsFlags     flags;
} SignCmsTaskData;

static void
sign_cms_task_data_free (SignCmsTaskData *data)
{
  g_clear_object (&data->signer);
  g_clear_pointer (&data->pin, imzala_secret_unref);
  g_clear_pointer (&data->content, g_bytes_unref);
  g_free (data);
}

/* Runs @thread_func on the module's thread with the signer, the PIN and
 * @bytes (the content, or its digest). The task holds the token for the
 * whole operation while the token list may be refreshed on the main
 * thread. */
static void
run_sign_task (ImzalaToken        *self,
               ImzalaCertificate  *signer,
               ImzalaSecret       *pin,
               GBytes             *bytes,
               ImzalaCmsFlags      flags,
               gpointer            source_tag,
               GTaskThreadFunc     thread_func,
               GCancellable       *cancellable,
               GAsyncReadyCallback callback,
               gpointer            user_data)
{
  g_autoptr(GTask) task = g_task_new (self, cancellable, callback, user_data);
  SignCmsTaskData *data = g_new0 (SignCmsTaskData, 1);

  data->signer = g_object_ref (signer);
  data->pin = pin != NULL ? imzala_secret_ref (pin) : NULL;
  data->content = g_bytes_ref (bytes);
  data->flags = flags;
  g_task_set_source_tag (task, source_tag);
  g_task_set_task_data (task, data, (GDestroyNotify) sign_cms_task_data_free);
  imzala_module_run_task (self->module, task, thread_func);
}

static void
sign_cms_thread (GTask        *task,
                 gpointer      source_object,
                 gpointer      task_data,
                 GCancellable *cancellable)
{
  SignCmsTaskData *data = task_data;
  GError *error = NULL;
  GBytes *cms;

  cms = imzala_token_sign_cms (source_object, data->signer, data->pin, data->content,
                               data->flags, cancellable, &error);
  if (cms == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, cms, (GDestroyNotify) g_bytes_unref);
}

void
imzala_token_sign_cms_async (ImzalaToken        *self,
                             ImzalaCertificate  *signer,
                             ImzalaSecret       *pin,
                             GBytes             *content,
                             ImzalaCmsFlags      flags,
                             GCancellable       *cancellable,
                             GAsyncReadyCallback callback,
                             gpointer            user_data)
{
  g_return_if_fail (IMZALA_IS_TOKEN (self));
  g_return_if_fail (IMZALA_IS_CERTIFICATE (signer));
  g_return_if_fail (content != NULL);

  /* The CMS is built on the module's thread too, so that the whole
   * signature is one item of work. */
  run_sign_task (self, signer, pin, content, flags, imzala_token_sign_cms_async, sign_cms_thread,
                 cancellable, callback, user_data);
}

GBytes *
imzala_token_sign_cms_finish (ImzalaToken   *self,
                              GAsyncResult  *result,
                              GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == imzala_token_sign_cms_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
sign_cms_digest_thread (GTask        *task,
                        gpointer      source_object,
                        gpointer      task_data,
                        GCancellable *cancellable)
{
  SignCmsTaskData *data = task_data;
  GError *error = NULL;
  GBytes *cms;

  cms = imzala_token_sign_cms_digest (source_object, data->signer, data->pin, data->content,
                                      cancellable, &error);
  if (cms == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, cms, (GDestroyNotify) g_bytes_unref);
}

void
imzala_token_sign_cms_digest_async (ImzalaToken        *self,
                                    ImzalaCertificate  *signer,
                                    ImzalaSecret       *pin,
                                    GBytes             *content_digest,
                                    GCancellable       *cancellable,
                                    GAsyncReadyCallback callback,
                                    gpointer            user_data)
{
  g_return_if_fail (IMZALA_IS_TOKEN (self));
  g_return_if_fail (IMZALA_IS_CERTIFICATE (signer));
  g_return_if_fail (content_digest != NULL);

  /* Only the signed attributes are built and signed on the module's
   * thread; the content was hashed before, elsewhere. */
  run_sign_task (self, signer, pin, content_digest, IMZALA_CMS_DETACHED,
                 imzala_token_sign_cms_digest_async, sign_cms_digest_thread, cancellable, callback,
                 user_data);
}

GBytes *
imzala_token_sign_cms_digest_finish (ImzalaToken   *self,
                                     GAsyncResult  *result,
                                     GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == imzala_token_sign_cms_digest_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}
