/* imzala-signing-job.c: an ImzalaSigningJob's life: its state changes
 * (failing included) and the reader's prompts that follow them, the
 * countdown, fetching the request and start(), cancel, saving the
 * signatures, the getters and the GObject. The cards and the certificate
 * choice are in imzala-signing-job-tokens.c, logging in and signing in
 * imzala-signing-job-sign.c, the unblock in imzala-signing-job-unblock.c.
 */
#define G_LOG_DOMAIN "imzala-job"

#include "config.h"

#include <errno.h>
#include <string.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>

#include "imzala-error.h"
#include "imzala-signing-job-private.h"

GParamSpec *imzala_signing_job_properties[N_PROPS];

G_DEFINE_FINAL_TYPE (ImzalaSigningJob, imzala_signing_job, G_TYPE_OBJECT)

/* The nick of @state ("choosing"), for the debug log and warnings. */
const char *
imzala_signing_job_state_nick (ImzalaJobState state)
{
  GEnumClass *klass = g_type_class_ref (IMZALA_TYPE_JOB_STATE);
  GEnumValue *value = g_enum_get_value (klass, state);

  /* A static enum type's class and values live as long as the program. */
  g_type_class_unref (klass);
  return value != NULL ? value->value_nick : "unknown";
}

/* ---- State changes ---- */

gboolean
imzala_signing_job_is_finished (ImzalaSigningJob *self)
{
  return self->state == IMZALA_JOB_STATE_DONE || self->state == IMZALA_JOB_STATE_FAILED;
}

static void
stop_timer (ImzalaSigningJob *self)
{
  if (self->timer != NULL)
    {
      g_source_destroy (self->timer);
      g_clear_pointer (&self->timer, g_source_unref);
    }
}

void
imzala_signing_job_forget_secrets (ImzalaSigningJob *self)
{
  g_clear_pointer (&self->pin, imzala_secret_unref);
  g_clear_pointer (&self->new_pin, imzala_secret_unref);
}

/* Ends the kept session (C_Logout, C_CloseSession on the module's thread,
 * not waited for) and forgets its PIN. */
void
imzala_signing_job_log_out (ImzalaSigningJob *self)
{
  if (self->login_token == NULL)
    return;
  imzala_token_logout_async (self->login_token);
  g_clear_object (&self->login_token);
  g_clear_pointer (&self->login_pin, imzala_secret_unref);
  g_object_notify_by_pspec (G_OBJECT (self), imzala_signing_job_properties[PROP_LOGGED_IN]);
}

/* ---- What the reader asks for ---- */

typedef struct
{
  ImzalaSigningJob *job;
  char *message;
} PinPadPrompt;

static void
pin_pad_prompt_free (PinPadPrompt *prompt)
{
  g_object_unref (prompt->job);
  g_free (prompt->message);
  g_free (prompt);
}

static gboolean
show_pin_pad_prompt_cb (gpointer user_data)
{
  PinPadPrompt *prompt = user_data;
  ImzalaSigningJob *self = prompt->job;

  /* A prompt that arrives after the operation ended is stale. */
  if (self->prompting_token != NULL && g_strcmp0 (self->pin_pad_prompt, prompt->message) != 0)
    {
      g_free (self->pin_pad_prompt);
      self->pin_pad_prompt = g_strdup (prompt->message);
      g_object_notify_by_pspec (G_OBJECT (self),
                                imzala_signing_job_properties[PROP_PIN_PAD_PROMPT]);
    }
  return G_SOURCE_REMOVE;
}

/* On the module's thread: the job is alive, since the token operation's
 * callback holds a reference on it until the operation ends. */
static void
token_pin_pad_prompt_cb (ImzalaToken *token,
                         const char  *message,
                         gpointer     user_data)
{
  ImzalaSigningJob *self = user_data;
  PinPadPrompt *prompt = g_new0 (PinPadPrompt, 1);

  prompt->job = g_object_ref (self);
  prompt->message = g_strdup (message);
  g_main_context_invoke_full (self->context, G_PRIORITY_DEFAULT, show_pin_pad_prompt_cb, prompt,
                              (GDestroyNotify) pin_pad_prompt_free);
}

static void
follow_pin_pad (ImzalaSigningJob *self,
                gboolean          follow)
{
  if (self->prompting_token != NULL)
    {
      g_signal_handler_disconnect (self->prompting_token, self->pin_pad_prompt_handler);
      self->pin_pad_prompt_handler = 0;
      g_clear_object (&self->prompting_token);
    }
  if (self->pin_pad_prompt != NULL)
    {
      g_clear_pointer (&self->pin_pad_prompt, g_free);
      g_object_notify_by_pspec (G_OBJECT (self),
                                imzala_signing_job_properties[PROP_PIN_PAD_PROMPT]);
    }
  if (follow && self->token != NULL && imzala_token_has_pin_pad (self->token))
    {
      self->prompting_token = g_object_ref (self->token);
      self->pin_pad_prompt_handler =
        g_signal_connect (self->prompting_token, "pin-pad-prompt", G_CALLBACK (token_pin_pad_prompt_cb), self);
    }
}

void
imzala_signing_job_set_state (ImzalaSigningJob *self,
                              ImzalaJobState    state)
{
  if (self->state == state)
    return;
  g_debug ("Job state %s → %s", imzala_signing_job_state_nick (self->state),
           imzala_signing_job_state_nick (state));
  self->state = state;
  /* After the state, so that a page clearing the prompt sees the new one. */
  follow_pin_pad (self, state == IMZALA_JOB_STATE_SIGNING || state == IMZALA_JOB_STATE_UNBLOCKING);
  if (imzala_signing_job_is_finished (self))
    {
      stop_timer (self);
      imzala_signing_job_forget_secrets (self);
      imzala_signing_job_log_out (self);
      imzala_signing_job_stop_status (self);
      imzala_signing_job_stop_early_status (self);
    }
  g_object_notify_by_pspec (G_OBJECT (self), imzala_signing_job_properties[PROP_STATE]);
}

/* Takes @error. */
void
imzala_signing_job_set_error (ImzalaSigningJob *self,
                              GError           *error)
{
  if (self->error == NULL && error == NULL)
    return;
  g_clear_error (&self->error);
  self->error = error;
  g_object_notify_by_pspec (G_OBJECT (self), imzala_signing_job_properties[PROP_ERROR]);
}

/* Takes @error. The error is set before the state changes, so a handler of
 * notify::state finds it. */
void
imzala_signing_job_fail (ImzalaSigningJob *self,
                         GError           *error)
{
  if (imzala_signing_job_is_finished (self))
    {
      g_error_free (error);
      return;
    }
  g_debug ("Job failed: %s", error->message);
  imzala_signing_job_set_error (self, error);
  g_cancellable_cancel (self->cancellable);
  imzala_signing_job_set_state (self, IMZALA_JOB_STATE_FAILED);
}

void
imzala_signing_job_fail_expired (ImzalaSigningJob *self)
{
  imzala_signing_job_fail (self, g_error_new_literal (IMZALA_ERROR, IMZALA_ERROR_CODE_EXPIRED,
                                                      _("The verification code has expired. "
                                                        "Ask the portal for a new code.")));
}

/* ---- The countdown ---- */

static void
update_remaining (ImzalaSigningJob *self)
{
  gint64 remaining;

  if (self->request == NULL)
    return;
  remaining = imzala_request_get_remaining_seconds (self->request);
  if (remaining != self->remaining_seconds)
    {
      self->remaining_seconds = remaining;
      g_object_notify_by_pspec (G_OBJECT (self),
                                imzala_signing_job_properties[PROP_REMAINING_SECONDS]);
    }
}

static gboolean
timer_cb (gpointer user_data)
{
  ImzalaSigningJob *self = user_data;

  update_remaining (self);

  /* Once the signatures are on their way the portal decides; before that,
   * an expired code cannot succeed and the user should not type a PIN. */
  if (self->remaining_seconds == 0 &&
      (self->state == IMZALA_JOB_STATE_FETCHING || self->state == IMZALA_JOB_STATE_CHOOSING ||
       self->state == IMZALA_JOB_STATE_SIGNING))
    {
      imzala_signing_job_fail_expired (self);
      return G_SOURCE_REMOVE;
    }
  return G_SOURCE_CONTINUE;
}

static void
start_timer (ImzalaSigningJob *self)
{
  if (self->timer != NULL)
    return;
  update_remaining (self);
  self->timer = g_timeout_source_new_seconds (1);
  g_source_set_callback (self->timer, timer_cb, self, NULL);
  g_source_set_name (self->timer, "[imzala] signing job countdown");
  g_source_attach (self->timer, self->context);
}

/* ---- FETCHING ---- */

/* The request alone is enough to show it: a slow listing of the cards
 * (OpenSC over a card it does not know takes seconds) must not keep the user
 * from reading the text and the remaining time. */
static void
maybe_enter_choosing (ImzalaSigningJob *self)
{
  if (self->state != IMZALA_JOB_STATE_FETCHING || !self->request_fetched)
    return;

  update_remaining (self);
  if (imzala_request_is_expired (self->request))
    {
      imzala_signing_job_fail_expired (self);
      return;
    }
  imzala_signing_job_set_state (self, IMZALA_JOB_STATE_CHOOSING);
  /* A card listed before the request came already preselected its
   * certificate, when its status could not be asked yet (the purpose was
   * not known): it is asked now, before the PIN. */
  imzala_signing_job_check_status (self);
}

static void
fetch_cb (GObject      *source,
          GAsyncResult *result,
          gpointer      user_data)
{
  g_autoptr(ImzalaSigningJob) self = user_data;
  g_autoptr(ImzalaRequest) request = NULL;
  GError *error = NULL;

  request = imzala_portal_fetch_request_finish (IMZALA_PORTAL (source), result, &error);
  if (request == NULL)
    {
      imzala_signing_job_fail (self, error);
      return;
    }
  if (self->state != IMZALA_JOB_STATE_FETCHING)
    return;

  self->request = g_steal_pointer (&request);
  self->request_fetched = TRUE;
  g_object_notify_by_pspec (G_OBJECT (self), imzala_signing_job_properties[PROP_REQUEST]);
  /* A listing that came first was ordered without the requester. */
  if (self->tokens != NULL)
    imzala_signing_job_rebuild_certificates (self);
  start_timer (self);
  maybe_enter_choosing (self);
}

void
imzala_signing_job_start (ImzalaSigningJob *self,
                          const char       *code)
{
  GError *error = NULL;

  g_return_if_fail (IMZALA_IS_SIGNING_JOB (self));
  g_return_if_fail (self->state == IMZALA_JOB_STATE_IDLE);

  self->code = imzala_portal_normalize_code (code, &error);
  if (self->code == NULL)
    {
      imzala_signing_job_fail (self, error);
      return;
    }

  imzala_signing_job_set_state (self, IMZALA_JOB_STATE_FETCHING);
  imzala_signing_job_set_tokens_loading (self, TRUE);
  /* The first listing counts as a refresh under way: a card event during it
   * joins the token list's next enumeration, not one more of the job's. */
  self->refreshing = TRUE;
  imzala_portal_fetch_request_async (self->portal, self->code, self->cancellable,
                                     fetch_cb, g_object_ref (self));
  imzala_token_list_refresh_async (self->token_list, self->cancellable,
                                   imzala_signing_job_refresh_tokens_cb, g_object_ref (self));
}

/* ---- Cancel, save ---- */

void
imzala_signing_job_cancel (ImzalaSigningJob *self)
{
  g_return_if_fail (IMZALA_IS_SIGNING_JOB (self));

  if (imzala_signing_job_is_finished (self))
    return;
  imzala_signing_job_fail (self, g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                                      _("The operation was cancelled.")));
}

GStrv
imzala_signing_job_save_signatures (ImzalaSigningJob  *self,
                                    const char        *path,
                                    GError           **error)
{
  g_autoptr(GStrvBuilder) written = NULL;
  gboolean single_file;

  g_return_val_if_fail (IMZALA_IS_SIGNING_JOB (self), NULL);
  g_return_val_if_fail (path != NULL, NULL);

  if (self->signatures == NULL || self->signatures->len == 0 ||
      self->signatures->len != imzala_request_get_n_texts (self->request))
    {
      g_set_error_literal (error, IMZALA_ERROR, IMZALA_ERROR_FAILED,
                           _("There is no signature to save."));
      return NULL;
    }

  single_file = self->signatures->len == 1 && !g_file_test (path, G_FILE_TEST_IS_DIR);
  if (!single_file && g_mkdir_with_parents (path, 0755) != 0)
    {
      g_debug ("mkdir %s: %s", path, g_strerror (errno));
      g_set_error (error, IMZALA_ERROR, IMZALA_ERROR_FAILED,
                   _("The folder “%s” cannot be made."), path);
      return NULL;
    }

  written = g_strv_builder_new ();
  for (guint i = 0; i < self->signatures->len; i++)
    {
      g_autoptr(GError) local_error = NULL;
      g_autofree char *name = NULL;
      g_autofree char *file = NULL;
      gsize length;
      const char *data = g_bytes_get_data (g_ptr_array_index (self->signatures, i), &length);

      if (single_file)
        file = g_strdup (path);
      else
        {
          name = g_strdup_printf ("%s-%u.p7s", self->code, i + 1);
          file = g_build_filename (path, name, NULL);
        }

      if (!g_file_set_contents (file, data, length, &local_error))
        {
          g_debug ("Saving %s: %s", file, local_error->message);
          g_set_error (error, IMZALA_ERROR, IMZALA_ERROR_FAILED,
                       _("The signature cannot be saved to “%s”."), file);
          return NULL;
        }
      g_strv_builder_add (written, file);
    }

  return g_strv_builder_end (written);
}

/* ---- Getters ---- */

gboolean
imzala_signing_job_get_needs_login (ImzalaSigningJob *self)
{
  g_return_val_if_fail (IMZALA_IS_SIGNING_JOB (self), FALSE);
  return self->needs_login;
}

gboolean
imzala_signing_job_get_tokens_loading (ImzalaSigningJob *self)
{
  g_return_val_if_fail (IMZALA_IS_SIGNING_JOB (self), FALSE);
  return self->tokens_loading;
}

gboolean
imzala_signing_job_get_logged_in (ImzalaSigningJob *self)
{
  g_return_val_if_fail (IMZALA_IS_SIGNING_JOB (self), FALSE);
  /* The session kept is on "token"'s card (not on another card logged in
   * to before a certificate was chosen elsewhere). */
  return imzala_signing_job_is_logged_in_to (self, self->token);
}

ImzalaJobState
imzala_signing_job_get_state (ImzalaSigningJob *self)
{
  g_return_val_if_fail (IMZALA_IS_SIGNING_JOB (self), IMZALA_JOB_STATE_IDLE);
  return self->state;
}

ImzalaPortal *
imzala_signing_job_get_portal (ImzalaSigningJob *self)
{
  g_return_val_if_fail (IMZALA_IS_SIGNING_JOB (self), NULL);
  return self->portal;
}

ImzalaRequest *
imzala_signing_job_get_request (ImzalaSigningJob *self)
{
  g_return_val_if_fail (IMZALA_IS_SIGNING_JOB (self), NULL);
  return self->request;
}

GPtrArray *
imzala_signing_job_get_tokens (ImzalaSigningJob *self)
{
  g_return_val_if_fail (IMZALA_IS_SIGNING_JOB (self), NULL);
  return self->tokens;
}

GListModel *
imzala_signing_job_get_certificates (ImzalaSigningJob *self)
{
  g_return_val_if_fail (IMZALA_IS_SIGNING_JOB (self), NULL);
  return G_LIST_MODEL (self->certificates);
}

ImzalaCertificate *
imzala_signing_job_get_certificate (ImzalaSigningJob *self)
{
  g_return_val_if_fail (IMZALA_IS_SIGNING_JOB (self), NULL);
  return self->certificate;
}

ImzalaToken *
imzala_signing_job_get_token (ImzalaSigningJob *self)
{
  g_return_val_if_fail (IMZALA_IS_SIGNING_JOB (self), NULL);
  return self->token;
}

gint64
imzala_signing_job_get_remaining_seconds (ImzalaSigningJob *self)
{
  g_return_val_if_fail (IMZALA_IS_SIGNING_JOB (self), 0);
  return self->remaining_seconds;
}

const GError *
imzala_signing_job_get_error (ImzalaSigningJob *self)
{
  g_return_val_if_fail (IMZALA_IS_SIGNING_JOB (self), NULL);
  return self->error;
}

GPtrArray *
imzala_signing_job_get_signatures (ImzalaSigningJob *self)
{
  g_return_val_if_fail (IMZALA_IS_SIGNING_JOB (self), NULL);
  return self->signatures;
}

GDateTime *
imzala_signing_job_get_signed_at (ImzalaSigningJob *self)
{
  g_return_val_if_fail (IMZALA_IS_SIGNING_JOB (self), NULL);
  return self->signed_at;
}

const char *
imzala_signing_job_get_result_message (ImzalaSigningJob *self)
{
  g_return_val_if_fail (IMZALA_IS_SIGNING_JOB (self), NULL);
  return self->result_message;
}

const char *
imzala_signing_job_get_pin_pad_prompt (ImzalaSigningJob *self)
{
  g_return_val_if_fail (IMZALA_IS_SIGNING_JOB (self), NULL);
  return self->pin_pad_prompt;
}

/* ---- GObject ---- */

static void
imzala_signing_job_dispose (GObject *object)
{
  ImzalaSigningJob *self = IMZALA_SIGNING_JOB (object);

  g_cancellable_cancel (self->cancellable);
  stop_timer (self);
  imzala_signing_job_forget_secrets (self);
  imzala_signing_job_log_out (self);
  imzala_signing_job_stop_status (self);
  imzala_signing_job_stop_early_status (self);
  if (self->prompting_token != NULL)
    {
      g_signal_handler_disconnect (self->prompting_token, self->pin_pad_prompt_handler);
      g_clear_object (&self->prompting_token);
    }
  g_clear_pointer (&self->pin_pad_prompt, g_free);

  G_OBJECT_CLASS (imzala_signing_job_parent_class)->dispose (object);
}

static void
imzala_signing_job_finalize (GObject *object)
{
  ImzalaSigningJob *self = IMZALA_SIGNING_JOB (object);

  g_clear_object (&self->portal);
  g_clear_object (&self->token_list);
  g_clear_pointer (&self->context, g_main_context_unref);
  g_clear_object (&self->cancellable);
  g_free (self->code);
  g_clear_object (&self->request);
  g_clear_pointer (&self->tokens, g_ptr_array_unref);
  g_clear_object (&self->certificates);
  g_clear_object (&self->certificate);
  g_clear_object (&self->token);
  g_clear_pointer (&self->empty_cards, g_ptr_array_unref);
  g_clear_error (&self->error);
  g_clear_error (&self->unblock_error);
  g_clear_pointer (&self->signatures, g_ptr_array_unref);
  g_clear_pointer (&self->signed_at, g_date_time_unref);
  g_free (self->result_message);
  g_free (self->status_notice);
  g_free (self->tsa_ca_file);

  G_OBJECT_CLASS (imzala_signing_job_parent_class)->finalize (object);
}

static void
imzala_signing_job_get_property (GObject    *object,
                                 guint       prop_id,
                                 GValue     *value,
                                 GParamSpec *pspec)
{
  ImzalaSigningJob *self = IMZALA_SIGNING_JOB (object);

  switch (prop_id)
    {
    case PROP_STATE:
      g_value_set_enum (value, self->state);
      break;
    case PROP_REQUEST:
      g_value_set_object (value, self->request);
      break;
    case PROP_TOKENS:
      g_value_set_boxed (value, self->tokens);
      break;
    case PROP_CERTIFICATES:
      g_value_set_object (value, self->certificates);
      break;
    case PROP_CERTIFICATE:
      g_value_set_object (value, self->certificate);
      break;
    case PROP_TOKEN:
      g_value_set_object (value, self->token);
      break;
    case PROP_REMAINING_SECONDS:
      g_value_set_int64 (value, self->remaining_seconds);
      break;
    case PROP_ERROR:
      g_value_set_boxed (value, self->error);
      break;
    case PROP_SIGNATURES:
      g_value_set_boxed (value, self->signatures);
      break;
    case PROP_SIGNED_AT:
      g_value_set_boxed (value, self->signed_at);
      break;
    case PROP_RESULT_MESSAGE:
      g_value_set_string (value, self->result_message);
      break;
    case PROP_NEEDS_LOGIN:
      g_value_set_boolean (value, self->needs_login);
      break;
    case PROP_LOGGED_IN:
      g_value_set_boolean (value, self->login_token != NULL);
      break;
    case PROP_PIN_PAD_PROMPT:
      g_value_set_string (value, self->pin_pad_prompt);
      break;
    case PROP_TOKENS_LOADING:
      g_value_set_boolean (value, self->tokens_loading);
      break;
    case PROP_STATUS_CHECKING:
      g_value_set_boolean (value, self->status_checking);
      break;
    case PROP_STATUS_NOTICE:
      g_value_set_string (value, self->status_notice);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
imzala_signing_job_class_init (ImzalaSigningJobClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  const GParamFlags flags = G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;

  object_class->dispose = imzala_signing_job_dispose;
  object_class->finalize = imzala_signing_job_finalize;
  object_class->get_property = imzala_signing_job_get_property;

  imzala_signing_job_properties[PROP_STATE] =
    g_param_spec_enum ("state", NULL, NULL, IMZALA_TYPE_JOB_STATE, IMZALA_JOB_STATE_IDLE, flags);
  imzala_signing_job_properties[PROP_REQUEST] =
    g_param_spec_object ("request", NULL, NULL, IMZALA_TYPE_REQUEST, flags);
  imzala_signing_job_properties[PROP_TOKENS] =
    g_param_spec_boxed ("tokens", NULL, NULL, G_TYPE_PTR_ARRAY, flags);
  imzala_signing_job_properties[PROP_CERTIFICATES] =
    g_param_spec_object ("certificates", NULL, NULL, G_TYPE_LIST_MODEL, flags);
  imzala_signing_job_properties[PROP_CERTIFICATE] =
    g_param_spec_object ("certificate", NULL, NULL, IMZALA_TYPE_CERTIFICATE, flags);
  imzala_signing_job_properties[PROP_TOKEN] =
    g_param_spec_object ("token", NULL, NULL, IMZALA_TYPE_TOKEN, flags);
  imzala_signing_job_properties[PROP_REMAINING_SECONDS] =
    g_param_spec_int64 ("remaining-seconds", NULL, NULL, 0, G_MAXINT64, 0, flags);
  imzala_signing_job_properties[PROP_ERROR] =
    g_param_spec_boxed ("error", NULL, NULL, G_TYPE_ERROR, flags);
  imzala_signing_job_properties[PROP_SIGNATURES] =
    g_param_spec_boxed ("signatures", NULL, NULL, G_TYPE_PTR_ARRAY, flags);
  imzala_signing_job_properties[PROP_SIGNED_AT] =
    g_param_spec_boxed ("signed-at", NULL, NULL, G_TYPE_DATE_TIME, flags);
  imzala_signing_job_properties[PROP_RESULT_MESSAGE] =
    g_param_spec_string ("result-message", NULL, NULL, NULL, flags);
  imzala_signing_job_properties[PROP_NEEDS_LOGIN] =
    g_param_spec_boolean ("needs-login", NULL, NULL, FALSE, flags);
  imzala_signing_job_properties[PROP_LOGGED_IN] =
    g_param_spec_boolean ("logged-in", NULL, NULL, FALSE, flags);
  imzala_signing_job_properties[PROP_PIN_PAD_PROMPT] =
    g_param_spec_string ("pin-pad-prompt", NULL, NULL, NULL, flags);
  imzala_signing_job_properties[PROP_TOKENS_LOADING] =
    g_param_spec_boolean ("tokens-loading", NULL, NULL, FALSE, flags);
  imzala_signing_job_properties[PROP_STATUS_CHECKING] =
    g_param_spec_boolean ("status-checking", NULL, NULL, FALSE, flags);
  imzala_signing_job_properties[PROP_STATUS_NOTICE] =
    g_param_spec_string ("status-notice", NULL, NULL, NULL, flags);

  g_object_class_install_properties (object_class, N_PROPS, imzala_signing_job_properties);
}

static void
imzala_signing_job_init (ImzalaSigningJob *self)
{
  self->cancellable = g_cancellable_new ();
  self->certificates = g_list_store_new (IMZALA_TYPE_CERTIFICATE);
  self->context = g_main_context_ref_thread_default ();
  self->empty_cards = g_ptr_array_new_with_free_func (g_object_unref);
}

ImzalaSigningJob *
imzala_signing_job_new_for_token_list (ImzalaPortal    *portal,
                                       ImzalaTokenList *token_list)
{
  ImzalaSigningJob *self;

  g_return_val_if_fail (IMZALA_IS_PORTAL (portal), NULL);
  g_return_val_if_fail (IMZALA_IS_TOKEN_LIST (token_list), NULL);

  self = g_object_new (IMZALA_TYPE_SIGNING_JOB, NULL);
  self->portal = g_object_ref (portal);
  self->token_list = g_object_ref (token_list);
  g_signal_connect_object (token_list, "items-changed",
                           G_CALLBACK (imzala_signing_job_token_list_changed_cb),
                           self, G_CONNECT_SWAPPED);
  return self;
}

ImzalaSigningJob *
imzala_signing_job_new (ImzalaPortal    *portal,
                        ImzalaModuleSet *modules)
{
  g_autoptr(ImzalaTokenList) token_list = NULL;

  g_return_val_if_fail (IMZALA_IS_PORTAL (portal), NULL);
  g_return_val_if_fail (IMZALA_IS_MODULE_SET (modules), NULL);

  token_list = imzala_token_list_new (modules);
  return imzala_signing_job_new_for_token_list (portal, token_list);
}
