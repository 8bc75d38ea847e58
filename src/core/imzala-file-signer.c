#define G_LOG_DOMAIN "imzala-file-signer"

#include "config.h"

#include <glib/gi18n-lib.h>

#include "imzala-error.h"
#include "imzala-file-signer.h"

/* What imzala_cms_sign() signs at most; checked before the file is read
 * into memory. */
#define MAX_FILE_SIZE (64 * 1024 * 1024)

struct _ImzalaFileSigner
{
  GObject parent_instance;
};

G_DEFINE_FINAL_TYPE (ImzalaFileSigner, imzala_file_signer, G_TYPE_OBJECT)

static void
imzala_file_signer_class_init (ImzalaFileSignerClass *klass)
{
}

static void
imzala_file_signer_init (ImzalaFileSigner *self)
{
}

ImzalaFileSigner *
imzala_file_signer_new (void)
{
  return g_object_new (IMZALA_TYPE_FILE_SIGNER, NULL);
}

GFile *
imzala_file_signer_output_for (GFile    *input,
                               gboolean  detached)
{
  g_autofree char *path = NULL;
  g_autofree char *output = NULL;

  g_return_val_if_fail (G_IS_FILE (input), NULL);

  path = g_file_get_path (input);
  output = g_strconcat (path, detached ? ".p7s" : ".imz", NULL);
  return g_file_new_for_path (output);
}

typedef struct
{
  ImzalaToken       *token;
  ImzalaCertificate *certificate;
  ImzalaSecret      *pin;
  GFile             *input;
  GFile             *output;
  gboolean           detached;
  ImzalaCadesLevel   level;
  ImzalaTsaClient   *tsa;
  GBytes            *signature;
} SignData;

static void
sign_data_free (SignData *data)
{
  g_clear_object (&data->token);
  g_clear_object (&data->certificate);
  g_clear_pointer (&data->pin, imzala_secret_unref);
  g_clear_object (&data->input);
  g_clear_object (&data->output);
  g_clear_object (&data->tsa);
  g_clear_pointer (&data->signature, g_bytes_unref);
  g_free (data);
}

static GError *
file_error (GFile        *file,
            const GError *cause,
            gboolean      writing)
{
  g_autofree char *name = g_file_get_basename (file);

  if (g_error_matches (cause, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return g_error_copy (cause);
  g_debug ("%s: %s", name, cause != NULL ? cause->message : "too large");
  return g_error_new (IMZALA_ERROR, IMZALA_ERROR_FAILED,
                      writing ? _("The signature file “%s” could not be written.")
                              : _("The file “%s” could not be read."),
                      name);
}

static void
written_cb (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  SignData *data = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;

  if (!g_file_replace_contents_finish (G_FILE (source), result, NULL, &error))
    {
      g_task_return_error (task, file_error (data->output, error, TRUE));
      return;
    }
  g_task_return_pointer (task, g_object_ref (data->output), g_object_unref);
}

static void
extended_cb (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  SignData *data = g_task_get_task_data (task);
  GError *error = NULL;

  g_clear_pointer (&data->signature, g_bytes_unref);
  data->signature = imzala_cades_extend_finish (result, &error);
  if (data->signature == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  /* Written to a temporary file and renamed: never half a signature. */
  g_file_replace_contents_bytes_async (data->output, data->signature, NULL, FALSE,
                                       G_FILE_CREATE_REPLACE_DESTINATION,
                                       g_task_get_cancellable (task), written_cb,
                                       g_object_ref (task));
}

static void
signed_cb (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  SignData *data = g_task_get_task_data (task);
  GError *error = NULL;

  data->signature = imzala_token_sign_cms_finish (IMZALA_TOKEN (source), result, &error);
  /* The card has done its part; the PIN is not kept for the network. */
  g_clear_pointer (&data->pin, imzala_secret_unref);
  if (data->signature == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  imzala_cades_extend_async (data->signature, data->level, data->tsa,
                             g_task_get_cancellable (task), extended_cb, g_object_ref (task));
}

static void
loaded_cb (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  SignData *data = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) content = NULL;
  char *contents = NULL;
  gsize length = 0;

  if (!g_file_load_contents_finish (G_FILE (source), result, &contents, &length, NULL, &error))
    {
      g_task_return_error (task, file_error (data->input, error, FALSE));
      return;
    }
  content = g_bytes_new_take (contents, length);
  imzala_token_sign_cms_async (data->token, data->certificate, data->pin, content,
                               data->detached ? IMZALA_CMS_DETACHED : IMZALA_CMS_NONE,
                               g_task_get_cancellable (task), signed_cb, g_object_ref (task));
}

static void
queried_cb (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  SignData *data = g_task_get_task_data (task);
  g_autoptr(GFileInfo) info = NULL;
  g_autoptr(GError) error = NULL;

  info = g_file_query_info_finish (G_FILE (source), result, &error);
  if (info == NULL || g_file_info_get_file_type (info) != G_FILE_TYPE_REGULAR)
    {
      g_task_return_error (task, file_error (data->input, error, FALSE));
      return;
    }
  if (g_file_info_get_size (info) > MAX_FILE_SIZE)
    {
      g_task_return_new_error (task, IMZALA_ERROR, IMZALA_ERROR_CONTENT_TOO_LARGE,
                               _("The file is larger than İmzala signs (64 MiB)."));
      return;
    }
  g_file_load_contents_async (data->input, g_task_get_cancellable (task), loaded_cb,
                              g_object_ref (task));
}

void
imzala_file_signer_sign_async (ImzalaFileSigner    *self,
                               ImzalaToken         *token,
                               ImzalaCertificate   *certificate,
                               ImzalaSecret        *pin,
                               GFile               *input,
                               gboolean             detached,
                               ImzalaCadesLevel     level,
                               const char          *tsa_url,
                               const char          *tsa_ca_file,
                               GCancellable        *cancellable,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  SignData *data;
  GError *error = NULL;

  g_return_if_fail (IMZALA_IS_FILE_SIGNER (self));
  g_return_if_fail (IMZALA_IS_TOKEN (token));
  g_return_if_fail (IMZALA_IS_CERTIFICATE (certificate));
  g_return_if_fail (G_IS_FILE (input));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, imzala_file_signer_sign_async);
  data = g_new0 (SignData, 1);
  data->token = g_object_ref (token);
  data->certificate = g_object_ref (certificate);
  data->pin = pin != NULL ? imzala_secret_ref (pin) : NULL;
  data->input = g_object_ref (input);
  data->output = imzala_file_signer_output_for (input, detached);
  data->detached = detached;
  data->level = level;
  g_task_set_task_data (task, data, (GDestroyNotify) sign_data_free);

  /* A TSA address that cannot work is refused before the card is asked. */
  if (level != IMZALA_CADES_LEVEL_BES)
    {
      if (tsa_url == NULL || *tsa_url == '\0')
        {
          g_task_return_new_error (task, IMZALA_ERROR, IMZALA_ERROR_TIMESTAMP,
                                   _("Give the address of a time-stamp server for this kind of signature."));
          return;
        }
      data->tsa = imzala_tsa_client_new (tsa_url, tsa_ca_file, &error);
      if (data->tsa == NULL)
        {
          g_task_return_error (task, error);
          return;
        }
    }

  g_file_query_info_async (input, G_FILE_ATTRIBUTE_STANDARD_TYPE "," G_FILE_ATTRIBUTE_STANDARD_SIZE,
                           G_FILE_QUERY_INFO_NONE, G_PRIORITY_DEFAULT, cancellable, queried_cb,
                           g_steal_pointer (&task));
}

GFile *
imzala_file_signer_sign_finish (ImzalaFileSigner  *self,
                                GAsyncResult      *result,
                                GError           **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}
