#define G_LOG_DOMAIN "imzala-file-signer"

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <gio/gunixoutputstream.h>

#include "imzala-digest.h"
#include "imzala-error.h"
#include "imzala-file-signer.h"

struct _ImzalaFileSigner
{
  GObject parent_instance;
};

enum
{
  SIGNAL_PROGRESS,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (ImzalaFileSigner, imzala_file_signer, G_TYPE_OBJECT)

static void
imzala_file_signer_class_init (ImzalaFileSignerClass *klass)
{
  /**
   * ImzalaFileSigner::progress:
   * @step: an #ImzalaFileSignerStep
   * @done: bytes done of the step (0 for the steps without figures)
   * @total: bytes of the step (0 when there are no figures)
   *
   * Emitted on the main context that started the signing, at the start of
   * each step and, while the file is read or written, at most once per
   * percent.
   */
  signals[SIGNAL_PROGRESS] =
    g_signal_new ("progress", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 3, G_TYPE_UINT, G_TYPE_UINT64, G_TYPE_UINT64);
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

gboolean
imzala_file_signer_check_size (guint64    size,
                               gboolean   detached,
                               GError   **error)
{
  if (detached || size <= IMZALA_CMS_MAX_ATTACHED_SIZE)
    return TRUE;
  g_set_error (error, IMZALA_ERROR, IMZALA_ERROR_CONTENT_TOO_LARGE,
               _("The file is too large for a signature that contains it (at most %s). Choose a signature file without the content (.p7s)."),
               "2 GiB");
  return FALSE;
}

typedef struct
{
  ImzalaFileSigner  *self;
  ImzalaToken       *token;
  ImzalaCertificate *certificate;
  ImzalaSecret      *pin;
  GFile             *input;
  GFile             *output;
  gboolean           detached;
  ImzalaCadesLevel   level;
  ImzalaTsaClient   *tsa;
  ImzalaDigest       digest;
  GMainContext      *context;     /* where ::progress is emitted */
  guint64            size;        /* of the file when it was hashed */
  GBytes            *content_digest;
  GBytes            *signature;
  char              *temporary;   /* the written file before its rename */
  /* The worker thread's last reported step and percent, so that a 100 MB
   * file posts a hundred updates, not four hundred. */
  guint              posted_step;
  int                posted_percent;
} SignData;

static void
sign_data_free (SignData *data)
{
  if (data->temporary != NULL)
    g_unlink (data->temporary);
  g_free (data->temporary);
  g_clear_object (&data->self);
  g_clear_object (&data->token);
  g_clear_object (&data->certificate);
  g_clear_pointer (&data->pin, imzala_secret_unref);
  g_clear_object (&data->input);
  g_clear_object (&data->output);
  g_clear_object (&data->tsa);
  g_clear_pointer (&data->context, g_main_context_unref);
  g_clear_pointer (&data->content_digest, g_bytes_unref);
  g_clear_pointer (&data->signature, g_bytes_unref);
  g_free (data);
}

static GError *
file_error (GFile        *file,
            const GError *cause,
            gboolean      writing)
{
  g_autofree char *name = g_file_get_basename (file);

  if (g_error_matches (cause, G_IO_ERROR, G_IO_ERROR_CANCELLED)
      || (cause != NULL && cause->domain == IMZALA_ERROR))
    return g_error_copy (cause);
  g_debug ("%s: %s", name, cause != NULL ? cause->message : "not a regular file");
  return g_error_new (IMZALA_ERROR, IMZALA_ERROR_FAILED,
                      writing ? _("The signature file “%s” could not be written.")
                              : _("The file “%s” could not be read."),
                      name);
}

/* ---- Progress, from any thread to the caller's main context ---- */

typedef struct
{
  ImzalaFileSigner *self;
  guint             step;
  guint64           done;
  guint64           total;
} Progress;

static gboolean
emit_progress_cb (gpointer user_data)
{
  Progress *progress = user_data;

  g_signal_emit (progress->self, signals[SIGNAL_PROGRESS], 0, progress->step, progress->done,
                 progress->total);
  return G_SOURCE_REMOVE;
}

static void
progress_free (Progress *progress)
{
  g_object_unref (progress->self);
  g_free (progress);
}

static void
post_progress (SignData *data,
               guint     step,
               guint64   done,
               guint64   total)
{
  Progress *progress;
  int percent = total > 0 ? (int) (done * 100 / total) : -1;

  if (step == data->posted_step && percent == data->posted_percent)
    return;
  data->posted_step = step;
  data->posted_percent = percent;
  progress = g_new0 (Progress, 1);
  progress->self = g_object_ref (data->self);
  progress->step = step;
  progress->done = done;
  progress->total = total;
  /* On the caller's thread (the steps between the threads) at once, so
   * that a handler sees the step before it starts; from a worker thread
   * through an idle source, never g_main_context_invoke(), which runs the
   * handler in the worker when the main context happens to be free. */
  if (g_main_context_is_owner (data->context))
    {
      emit_progress_cb (progress);
      progress_free (progress);
    }
  else
    {
      g_autoptr(GSource) source = g_idle_source_new ();

      g_source_set_priority (source, G_PRIORITY_DEFAULT);
      g_source_set_callback (source, emit_progress_cb, progress, (GDestroyNotify) progress_free);
      g_source_set_static_name (source, "[imzala] file signer progress");
      g_source_attach (source, data->context);
    }
}

static void
reading_progress_cb (guint64  done,
                     guint64  total,
                     gpointer user_data)
{
  post_progress (user_data, IMZALA_FILE_SIGNER_STEP_READING, done, total);
}

static void
writing_progress_cb (guint64  done,
                     guint64  total,
                     gpointer user_data)
{
  post_progress (user_data, IMZALA_FILE_SIGNER_STEP_WRITING, done, total);
}

/* ---- Step 1, in a worker thread: the size, then the digest ---- */

static void
hash_thread (GTask        *task,
             gpointer      source_object,
             gpointer      task_data,
             GCancellable *cancellable)
{
  SignData *data = task_data;
  g_autoptr(GFileInfo) info = NULL;
  g_autoptr(GFileInputStream) input = NULL;
  g_autoptr(GError) error = NULL;
  GBytes *digest;
  guint64 read = 0;

  info = g_file_query_info (data->input, G_FILE_ATTRIBUTE_STANDARD_TYPE "," G_FILE_ATTRIBUTE_STANDARD_SIZE,
                            G_FILE_QUERY_INFO_NONE, cancellable, &error);
  if (info == NULL || g_file_info_get_file_type (info) != G_FILE_TYPE_REGULAR)
    {
      g_task_return_error (task, file_error (data->input, error, FALSE));
      return;
    }
  data->size = (guint64) g_file_info_get_size (info);
  if (!imzala_file_signer_check_size (data->size, data->detached, &error))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  input = g_file_read (data->input, cancellable, &error);
  if (input == NULL)
    {
      g_task_return_error (task, file_error (data->input, error, FALSE));
      return;
    }
  digest = imzala_cms_digest_stream (G_INPUT_STREAM (input), data->digest, data->size,
                                     reading_progress_cb, data, &read, cancellable, &error);
  if (digest == NULL)
    {
      g_task_return_error (task, file_error (data->input, error, FALSE));
      return;
    }
  /* A file still being written is not signed half-way. */
  if (read != data->size)
    {
      g_bytes_unref (digest);
      g_task_return_new_error (task, IMZALA_ERROR, IMZALA_ERROR_CONTENT_MISMATCH,
                               _("The file changed while it was being signed. Sign it again when nothing is writing to it."));
      return;
    }
  g_task_return_pointer (task, digest, (GDestroyNotify) g_bytes_unref);
}

/* ---- Last step, in a worker thread: the signature into a temporary file ---- */

static gboolean
write_temporary (SignData      *data,
                 int            fd,
                 GCancellable  *cancellable,
                 GError       **error)
{
  g_autoptr(GOutputStream) output = g_unix_output_stream_new (fd, TRUE);
  gboolean ok;

  if (data->detached)
    {
      post_progress (data, IMZALA_FILE_SIGNER_STEP_WRITING, 0, 0);
      ok = g_output_stream_write_all (output, g_bytes_get_data (data->signature, NULL),
                                      g_bytes_get_size (data->signature), NULL, cancellable, error);
    }
  else
    {
      g_autoptr(GFileInputStream) input = g_file_read (data->input, cancellable, error);

      ok = input != NULL
           && imzala_cms_write_attached (data->signature, G_INPUT_STREAM (input), data->size,
                                         data->content_digest, data->digest, output,
                                         writing_progress_cb, data, cancellable, error);
    }
  if (ok && fsync (fd) != 0)
    {
      int saved = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), "fsync: %s", g_strerror (saved));
      ok = FALSE;
    }
  if (!g_output_stream_close (output, NULL, ok ? error : NULL))
    ok = FALSE;
  return ok;
}

static void
write_thread (GTask        *task,
              gpointer      source_object,
              gpointer      task_data,
              GCancellable *cancellable)
{
  SignData *data = task_data;
  g_autofree char *output = g_file_get_path (data->output);
  g_autofree char *temporary = g_strconcat (output, ".XXXXXX", NULL);
  g_autoptr(GError) error = NULL;
  int fd;

  fd = g_mkstemp_full (temporary, O_WRONLY | O_CLOEXEC, 0644);
  if (fd < 0)
    {
      int saved = errno;

      g_set_error (&error, G_IO_ERROR, g_io_error_from_errno (saved), "%s", g_strerror (saved));
      g_task_return_error (task, file_error (data->output, error, TRUE));
      return;
    }
  /* As g_file_set_contents() would make it, not mkstemp()'s 0600. */
  fchmod (fd, 0644);
  if (!write_temporary (data, fd, cancellable, &error))
    {
      /* Nothing half-written is left behind. */
      g_unlink (temporary);
      if (g_error_matches (error, IMZALA_ERROR, IMZALA_ERROR_CONTENT_MISMATCH))
        g_task_return_new_error (task, IMZALA_ERROR, IMZALA_ERROR_CONTENT_MISMATCH,
                                 _("The file changed while it was being signed. Sign it again when nothing is writing to it."));
      else
        g_task_return_error (task, file_error (data->output, error, TRUE));
      return;
    }
  g_task_return_pointer (task, g_steal_pointer (&temporary), g_free);
}

/* ---- The steps, chained on the caller's main context ---- */

static void
written_cb (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  SignData *data = g_task_get_task_data (task);
  g_autofree char *output = g_file_get_path (data->output);
  GError *error = NULL;

  data->temporary = g_task_propagate_pointer (G_TASK (result), &error);
  if (data->temporary == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  /* A cancel that came while the file was written still leaves nothing:
   * the temporary file goes with the task data. */
  if (g_task_return_error_if_cancelled (task))
    return;
  if (g_rename (data->temporary, output) != 0)
    {
      int saved = errno;
      g_autoptr(GError) cause = g_error_new (G_IO_ERROR, g_io_error_from_errno (saved), "%s",
                                             g_strerror (saved));

      g_task_return_error (task, file_error (data->output, cause, TRUE));
      return;
    }
  g_clear_pointer (&data->temporary, g_free);
  g_task_return_pointer (task, g_object_ref (data->output), g_object_unref);
}

static void
write_signature (GTask *task)
{
  SignData *data = g_task_get_task_data (task);
  g_autoptr(GTask) writing = NULL;

  /* The temporary file's name comes back whatever the cancellable says, so
   * that written_cb() can remove it. */
  writing = g_task_new (data->self, g_task_get_cancellable (task), written_cb, g_object_ref (task));
  g_task_set_check_cancellable (writing, FALSE);
  g_task_set_task_data (writing, data, NULL);
  g_task_run_in_thread (writing, write_thread);
}

static void
extended_cb (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  SignData *data = g_task_get_task_data (task);
  GError *error = NULL;
  GBytes *extended = imzala_cades_extend_finish (result, &error);

  if (extended == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  g_clear_pointer (&data->signature, g_bytes_unref);
  data->signature = extended;
  if (g_task_return_error_if_cancelled (task))
    return;
  write_signature (task);
}

static void
signed_cb (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  SignData *data = g_task_get_task_data (task);
  GError *error = NULL;

  data->signature = imzala_token_sign_cms_digest_finish (IMZALA_TOKEN (source), result, &error);
  /* The card has done its part; the PIN is not kept for the network. */
  g_clear_pointer (&data->pin, imzala_secret_unref);
  if (data->signature == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  if (g_task_return_error_if_cancelled (task))
    return;
  if (data->level == IMZALA_CADES_LEVEL_BES)
    {
      write_signature (task);
      return;
    }
  post_progress (data, IMZALA_FILE_SIGNER_STEP_TIME_STAMPING, 0, 0);
  imzala_cades_extend_async (data->signature, data->level, data->tsa,
                             g_task_get_cancellable (task), extended_cb, g_object_ref (task));
}

static void
hashed_cb (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  SignData *data = g_task_get_task_data (task);
  GError *error = NULL;

  data->content_digest = g_task_propagate_pointer (G_TASK (result), &error);
  if (data->content_digest == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  post_progress (data, IMZALA_FILE_SIGNER_STEP_SIGNING, 0, 0);
  imzala_token_sign_cms_digest_async (data->token, data->certificate, data->pin,
                                      data->content_digest, g_task_get_cancellable (task),
                                      signed_cb, g_object_ref (task));
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
  g_autoptr(GTask) hashing = NULL;
  SignData *data;
  GError *error = NULL;

  g_return_if_fail (IMZALA_IS_FILE_SIGNER (self));
  g_return_if_fail (IMZALA_IS_TOKEN (token));
  g_return_if_fail (IMZALA_IS_CERTIFICATE (certificate));
  g_return_if_fail (G_IS_FILE (input));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, imzala_file_signer_sign_async);
  data = g_new0 (SignData, 1);
  data->self = g_object_ref (self);
  data->token = g_object_ref (token);
  data->certificate = g_object_ref (certificate);
  data->pin = pin != NULL ? imzala_secret_ref (pin) : NULL;
  data->input = g_object_ref (input);
  data->output = imzala_file_signer_output_for (input, detached);
  data->detached = detached;
  data->level = level;
  data->digest = imzala_digest_for_certificate (certificate);
  data->context = g_main_context_ref_thread_default ();
  data->posted_step = G_MAXUINT;
  data->posted_percent = -2;
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
      data->tsa = imzala_tsa_client_new (tsa_url, tsa_ca_file != NULL && *tsa_ca_file != '\0' ? tsa_ca_file : NULL,
                                         &error);
      if (data->tsa == NULL)
        {
          g_task_return_error (task, error);
          return;
        }
    }

  /* The size is checked and the file hashed before the card is asked for
   * anything: a file that cannot be signed costs no PIN try. */
  post_progress (data, IMZALA_FILE_SIGNER_STEP_READING, 0, 0);
  hashing = g_task_new (self, cancellable, hashed_cb, g_steal_pointer (&task));
  g_task_set_task_data (hashing, data, NULL);
  g_task_run_in_thread (hashing, hash_thread);
}

GFile *
imzala_file_signer_sign_finish (ImzalaFileSigner  *self,
                                GAsyncResult      *result,
                                GError           **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}
