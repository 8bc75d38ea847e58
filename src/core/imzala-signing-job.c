#define G_LOG_DOMAIN "imzala-job"

#include "config.h"

#include <errno.h>
#include <string.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>

#include "imzala-cms.h"
#include "imzala-error.h"
#include "imzala-signing-job.h"

struct _ImzalaSigningJob
{
  GObject parent_instance;

  ImzalaPortal      *portal;
  ImzalaTokenList   *token_list;
  GMainContext      *context;
  GCancellable      *cancellable;
  GSource           *timer;

  ImzalaJobState     state;
  char              *code;
  ImzalaRequest     *request;
  GPtrArray         *tokens;
  GListStore        *certificates;
  ImzalaCertificate *certificate;
  ImzalaToken       *token;
  gint64             remaining_seconds;
  GError            *error;
  GPtrArray         *signatures;
  GDateTime         *signed_at;
  char              *result_message;
  /* What to type on the reader now (a pin-pad token), while signing or
   * unblocking; the handler on the token runs on the module's thread. */
  char              *pin_pad_prompt;
  ImzalaToken       *prompting_token;
  gulong             pin_pad_prompt_handler;

  /* FETCHING waits for the request only; the first listing of the cards
   * may come later, in CHOOSING ("tokens-loading"). */
  gboolean           request_fetched;
  gboolean           tokens_listed;
  gboolean           tokens_loading;
  gboolean           refreshing;

  /* Held only while SIGNING / UNBLOCKING. */
  ImzalaSecret      *pin;
  ImzalaSecret      *new_pin;
  GError            *unblock_error;
  guint              next_text;

  /* The card that showed its certificates only after the PIN, or the card
   * logged in to for the texts: its session stays open (imzala_token_login())
   * until the job ends, and the PIN stays with it for the context-specific
   * login of a CKA_ALWAYS_AUTHENTICATE key. */
  gboolean           needs_login;
  ImzalaToken       *login_token;
  ImzalaSecret      *login_pin;
};

enum {
  PROP_0,
  PROP_STATE,
  PROP_REQUEST,
  PROP_TOKENS,
  PROP_CERTIFICATES,
  PROP_CERTIFICATE,
  PROP_TOKEN,
  PROP_REMAINING_SECONDS,
  PROP_ERROR,
  PROP_SIGNATURES,
  PROP_SIGNED_AT,
  PROP_RESULT_MESSAGE,
  PROP_NEEDS_LOGIN,
  PROP_LOGGED_IN,
  PROP_PIN_PAD_PROMPT,
  PROP_TOKENS_LOADING,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

G_DEFINE_FINAL_TYPE (ImzalaSigningJob, imzala_signing_job, G_TYPE_OBJECT)

/* The nick of @state ("choosing"), for the debug log and warnings. */
static const char *
job_state_nick (ImzalaJobState state)
{
  GEnumClass *klass = g_type_class_ref (IMZALA_TYPE_JOB_STATE);
  GEnumValue *value = g_enum_get_value (klass, state);

  /* A static enum type's class and values live as long as the program. */
  g_type_class_unref (klass);
  return value != NULL ? value->value_nick : "unknown";
}

/* ---- State changes ---- */

static gboolean
is_finished (ImzalaSigningJob *self)
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

static void
forget_secrets (ImzalaSigningJob *self)
{
  g_clear_pointer (&self->pin, imzala_secret_unref);
  g_clear_pointer (&self->new_pin, imzala_secret_unref);
}

/* Ends the kept session (C_Logout, C_CloseSession on the module's thread,
 * not waited for) and forgets its PIN. */
static void
log_out (ImzalaSigningJob *self)
{
  if (self->login_token == NULL)
    return;
  imzala_token_logout_async (self->login_token);
  g_clear_object (&self->login_token);
  g_clear_pointer (&self->login_pin, imzala_secret_unref);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LOGGED_IN]);
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
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PIN_PAD_PROMPT]);
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
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PIN_PAD_PROMPT]);
    }
  if (follow && self->token != NULL && imzala_token_has_pin_pad (self->token))
    {
      self->prompting_token = g_object_ref (self->token);
      self->pin_pad_prompt_handler =
        g_signal_connect (self->prompting_token, "pin-pad-prompt", G_CALLBACK (token_pin_pad_prompt_cb), self);
    }
}

static void
set_state (ImzalaSigningJob *self,
           ImzalaJobState    state)
{
  if (self->state == state)
    return;
  g_debug ("Job state %s → %s", job_state_nick (self->state),
           job_state_nick (state));
  self->state = state;
  /* After the state, so that a page clearing the prompt sees the new one. */
  follow_pin_pad (self, state == IMZALA_JOB_STATE_SIGNING || state == IMZALA_JOB_STATE_UNBLOCKING);
  if (is_finished (self))
    {
      stop_timer (self);
      forget_secrets (self);
      log_out (self);
    }
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE]);
}

/* Takes @error. */
static void
set_error (ImzalaSigningJob *self,
           GError           *error)
{
  if (self->error == NULL && error == NULL)
    return;
  g_clear_error (&self->error);
  self->error = error;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ERROR]);
}

/* Takes @error. The error is set before the state changes, so a handler of
 * notify::state finds it. */
static void
fail (ImzalaSigningJob *self,
      GError           *error)
{
  if (is_finished (self))
    {
      g_error_free (error);
      return;
    }
  g_debug ("Job failed: %s", error->message);
  set_error (self, error);
  g_cancellable_cancel (self->cancellable);
  set_state (self, IMZALA_JOB_STATE_FAILED);
}

static void
fail_expired (ImzalaSigningJob *self)
{
  fail (self, g_error_new_literal (IMZALA_ERROR, IMZALA_ERROR_CODE_EXPIRED,
                                   _("The verification code has expired. Ask the portal for a "
                                     "new code.")));
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
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_REMAINING_SECONDS]);
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
      fail_expired (self);
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

/* ---- Certificates ---- */

static gboolean
is_candidate (ImzalaCertificate *certificate)
{
  return !imzala_certificate_is_ca (certificate) && imzala_certificate_has_private_key (certificate);
}

static gboolean is_logged_in_to (ImzalaSigningJob *self, ImzalaToken *token);

/* "needs-login": no certificate to sign with, and a card that shows its
 * certificates only after the PIN (imzala_token_needs_login_to_list()); that
 * card is then "token", the one imzala_signing_job_log_in() logs in to. */
static void
update_needs_login (ImzalaSigningJob *self)
{
  ImzalaToken *candidate = NULL;

  /* A card logged in to that still shows nothing (an empty one) is passed
   * over for the next that hides its certificates. */
  if (g_list_model_get_n_items (G_LIST_MODEL (self->certificates)) == 0)
    for (guint i = 0; self->tokens != NULL && i < self->tokens->len && candidate == NULL; i++)
      {
        ImzalaToken *token = g_ptr_array_index (self->tokens, i);

        if (imzala_token_needs_login_to_list (token) && !is_logged_in_to (self, token))
          candidate = token;
      }

  if (candidate != NULL && g_set_object (&self->token, candidate))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TOKEN]);
  if (self->needs_login != (candidate != NULL))
    {
      self->needs_login = candidate != NULL;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_NEEDS_LOGIN]);
    }
}

static void
set_certificate_internal (ImzalaSigningJob  *self,
                          ImzalaCertificate *certificate)
{
  ImzalaToken *token = NULL;

  if (g_set_object (&self->certificate, certificate))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CERTIFICATE]);

  if (certificate != NULL && self->tokens != NULL)
    token = imzala_module_set_find_token (self->tokens, certificate);
  else if (self->tokens != NULL && self->tokens->len == 1)
    token = g_ptr_array_index (self->tokens, 0);

  if (g_set_object (&self->token, token))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TOKEN]);
}

/* Rebuilds "certificates" from "tokens" (recommended ones first) and keeps
 * the selection when the same certificate is still there. */
static void
rebuild_certificates (ImzalaSigningJob *self)
{
  g_autoptr(GPtrArray) recommended = g_ptr_array_new ();
  g_autoptr(GPtrArray) others = g_ptr_array_new ();
  g_autofree char *selected = NULL;
  ImzalaCertificate *keep = NULL;

  if (self->certificate != NULL)
    selected = g_strdup (imzala_certificate_get_fingerprint (self->certificate));

  for (guint i = 0; self->tokens != NULL && i < self->tokens->len; i++)
    {
      GPtrArray *certificates = imzala_token_get_certificates (g_ptr_array_index (self->tokens, i));

      for (guint j = 0; certificates != NULL && j < certificates->len; j++)
        {
          ImzalaCertificate *certificate = g_ptr_array_index (certificates, j);

          if (!is_candidate (certificate))
            continue;
          g_ptr_array_add (imzala_certificate_is_recommended (certificate) ? recommended : others,
                           certificate);
          if (selected != NULL && keep == NULL &&
              g_strcmp0 (imzala_certificate_get_fingerprint (certificate), selected) == 0)
            keep = certificate;
        }
    }

  g_list_store_remove_all (self->certificates);
  g_list_store_splice (self->certificates, 0, 0, recommended->pdata, recommended->len);
  g_list_store_splice (self->certificates, recommended->len, 0, others->pdata, others->len);

  /* The only recommended certificate is the one the user almost always
   * means; with several, the user chooses. */
  if (keep == NULL && recommended->len == 1)
    keep = g_ptr_array_index (recommended, 0);
  set_certificate_internal (self, keep);
  update_needs_login (self);
}

static void
set_tokens (ImzalaSigningJob *self,
            GPtrArray        *tokens)
{
  g_clear_pointer (&self->tokens, g_ptr_array_unref);
  self->tokens = tokens;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TOKENS]);
  rebuild_certificates (self);
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
      fail_expired (self);
      return;
    }
  set_state (self, IMZALA_JOB_STATE_CHOOSING);
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
      fail (self, error);
      return;
    }
  if (self->state != IMZALA_JOB_STATE_FETCHING)
    return;

  self->request = g_steal_pointer (&request);
  self->request_fetched = TRUE;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_REQUEST]);
  start_timer (self);
  maybe_enter_choosing (self);
}

/* Whether "tokens" already holds what the token list holds. */
static gboolean
has_list_tokens (ImzalaSigningJob *self)
{
  GListModel *list = G_LIST_MODEL (self->token_list);

  if (self->tokens == NULL || self->tokens->len != g_list_model_get_n_items (list))
    return FALSE;
  for (guint i = 0; i < self->tokens->len; i++)
    {
      g_autoptr(ImzalaToken) token = g_list_model_get_item (list, i);

      if (token != g_ptr_array_index (self->tokens, i))
        return FALSE;
    }
  return TRUE;
}

static void
set_tokens_loading (ImzalaSigningJob *self,
                    gboolean          loading)
{
  if (self->tokens_loading == loading)
    return;
  self->tokens_loading = loading;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TOKENS_LOADING]);
}

static void
refresh_tokens_cb (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(ImzalaSigningJob) self = user_data;
  gboolean first = !self->tokens_listed;
  GError *error = NULL;

  self->refreshing = FALSE;
  self->tokens_listed = TRUE;
  if (!imzala_token_list_refresh_finish (IMZALA_TOKEN_LIST (source), result, &error))
    {
      /* During a refresh the old list stays; at the start nothing works
       * without the cards, also when the request is already shown. */
      if (first && (self->state == IMZALA_JOB_STATE_FETCHING ||
                    self->state == IMZALA_JOB_STATE_CHOOSING))
        fail (self, error);
      else
        {
          g_debug ("Refreshing the tokens failed: %s", error->message);
          g_error_free (error);
        }
      set_tokens_loading (self, FALSE);
      return;
    }

  /* In CHOOSING, token_list_changed_cb has usually taken the new tokens
   * already; in FETCHING they wait here for the request. */
  if (first && (self->state == IMZALA_JOB_STATE_FETCHING ||
                self->state == IMZALA_JOB_STATE_CHOOSING) &&
      !has_list_tokens (self))
    set_tokens (self, imzala_token_list_dup_tokens (self->token_list));
  set_tokens_loading (self, FALSE);
}

/* The list is shared: a refresh that someone else asked for (a card went in
 * or out) reaches a shown request too, without a second enumeration. A
 * failed one leaves the certificates the user is looking at. */
static void
token_list_changed_cb (ImzalaSigningJob *self)
{
  if (self->state != IMZALA_JOB_STATE_CHOOSING ||
      imzala_token_list_get_error (self->token_list) != NULL)
    return;
  set_tokens (self, imzala_token_list_dup_tokens (self->token_list));
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
      fail (self, error);
      return;
    }

  set_state (self, IMZALA_JOB_STATE_FETCHING);
  set_tokens_loading (self, TRUE);
  /* The first listing counts as a refresh under way: a card event during it
   * joins the token list's next enumeration, not one more of the job's. */
  self->refreshing = TRUE;
  imzala_portal_fetch_request_async (self->portal, self->code, self->cancellable,
                                     fetch_cb, g_object_ref (self));
  imzala_token_list_refresh_async (self->token_list, self->cancellable,
                                   refresh_tokens_cb, g_object_ref (self));
}

void
imzala_signing_job_refresh_tokens (ImzalaSigningJob *self)
{
  g_return_if_fail (IMZALA_IS_SIGNING_JOB (self));

  if (self->state != IMZALA_JOB_STATE_CHOOSING || self->refreshing)
    return;
  self->refreshing = TRUE;
  imzala_token_list_refresh_async (self->token_list, self->cancellable,
                                   refresh_tokens_cb, g_object_ref (self));
}

/* ---- CHOOSING ---- */

gboolean
imzala_signing_job_set_certificate (ImzalaSigningJob  *self,
                                    ImzalaCertificate *certificate)
{
  g_return_val_if_fail (IMZALA_IS_SIGNING_JOB (self), FALSE);
  g_return_val_if_fail (certificate == NULL || IMZALA_IS_CERTIFICATE (certificate), FALSE);

  if (self->state != IMZALA_JOB_STATE_CHOOSING)
    return FALSE;
  if (certificate != NULL && !g_list_store_find (self->certificates, certificate, NULL))
    return FALSE;

  set_certificate_internal (self, certificate);
  return TRUE;
}

gboolean
imzala_signing_job_set_token (ImzalaSigningJob *self,
                              ImzalaToken      *token)
{
  g_return_val_if_fail (IMZALA_IS_SIGNING_JOB (self), FALSE);
  g_return_val_if_fail (IMZALA_IS_TOKEN (token), FALSE);

  if (self->state != IMZALA_JOB_STATE_CHOOSING || self->tokens == NULL)
    return FALSE;
  if (!g_ptr_array_find (self->tokens, token, NULL))
    return FALSE;

  if (self->certificate != NULL &&
      !imzala_token_has_certificate (token, self->certificate))
    {
      g_clear_object (&self->certificate);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CERTIFICATE]);
    }
  if (g_set_object (&self->token, token))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TOKEN]);
  return TRUE;
}

gboolean
imzala_signing_job_can_sign (ImzalaSigningJob  *self,
                             GError           **error)
{
  g_autoptr(GDateTime) now = NULL;

  g_return_val_if_fail (IMZALA_IS_SIGNING_JOB (self), FALSE);

  if (self->state != IMZALA_JOB_STATE_CHOOSING || self->request == NULL ||
      imzala_request_get_purpose (self->request) == IMZALA_PURPOSE_UNBLOCK)
    {
      g_set_error_literal (error, IMZALA_ERROR, IMZALA_ERROR_FAILED,
                           _("There is nothing to sign right now."));
      return FALSE;
    }
  if (self->certificate == NULL)
    {
      if (g_list_model_get_n_items (G_LIST_MODEL (self->certificates)) == 0 && self->tokens_loading)
        g_set_error_literal (error, IMZALA_ERROR, IMZALA_ERROR_NO_CERTIFICATE,
                             _("The card is still being read. Try again in a moment."));
      else if (g_list_model_get_n_items (G_LIST_MODEL (self->certificates)) == 0)
        g_set_error_literal (error, IMZALA_ERROR, IMZALA_ERROR_NO_CERTIFICATE,
                             _("No signing certificate was found. Insert your card and try again."));
      else
        g_set_error_literal (error, IMZALA_ERROR, IMZALA_ERROR_AMBIGUOUS_CERTIFICATE,
                             _("Choose the certificate to sign with."));
      return FALSE;
    }

  now = g_date_time_new_now_utc ();
  if (!imzala_certificate_is_valid_at (self->certificate, now))
    {
      GDateTime *not_after = imzala_certificate_get_not_after (self->certificate);

      if (not_after != NULL && g_date_time_compare (now, not_after) > 0)
        {
          g_autofree char *date = g_date_time_format (not_after, "%x");
          g_set_error (error, IMZALA_ERROR, IMZALA_ERROR_CERTIFICATE_EXPIRED,
                       _("This certificate expired on %s and cannot sign any more. Choose "
                         "another certificate or renew it."), date);
        }
      else
        g_set_error_literal (error, IMZALA_ERROR, IMZALA_ERROR_CERTIFICATE_EXPIRED,
                             _("This certificate is not valid yet. Choose another certificate."));
      return FALSE;
    }
  return TRUE;
}

/* ---- SIGNING and SUBMITTING ---- */

static void sign_next (ImzalaSigningJob *self);
static void pin_failed (ImzalaSigningJob *self, GError *error);

static void
submit_cb (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(ImzalaSigningJob) self = user_data;
  GError *error = NULL;
  char *message;

  message = imzala_portal_submit_signatures_finish (IMZALA_PORTAL (source), result, &error);
  if (message == NULL)
    {
      fail (self, error);
      return;
    }
  if (is_finished (self))
    {
      g_free (message);
      return;
    }

  self->result_message = message;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RESULT_MESSAGE]);
  set_state (self, IMZALA_JOB_STATE_DONE);
}

static gboolean
is_retryable_pin_error (const GError *error)
{
  /* PIN_EXPIRED was PIN_INCORRECT before it had its own code: the user may
   * change the PIN and sign while the request lasts. */
  return g_error_matches (error, IMZALA_ERROR, IMZALA_ERROR_PIN_INCORRECT) ||
         g_error_matches (error, IMZALA_ERROR, IMZALA_ERROR_PIN_EXPIRED) ||
         g_error_matches (error, IMZALA_ERROR, IMZALA_ERROR_PIN_REQUIRED) ||
         g_error_matches (error, IMZALA_ERROR, IMZALA_ERROR_PIN_LEN_RANGE) ||
         g_error_matches (error, IMZALA_ERROR, IMZALA_ERROR_PIN_INVALID);
}

static void
sign_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(ImzalaSigningJob) self = user_data;
  GError *error = NULL;
  GBytes *signature;

  signature = imzala_token_sign_cms_finish (IMZALA_TOKEN (source), result, &error);
  if (self->state != IMZALA_JOB_STATE_SIGNING)
    {
      g_clear_pointer (&signature, g_bytes_unref);
      g_clear_error (&error);
      return;
    }

  if (signature == NULL)
    {
      /* The user may try again; the message says how many tries are left
       * when the card tells. Signatures made with a right PIN before
       * cannot exist here: the first text fails first. */
      pin_failed (self, error);
      return;
    }

  g_ptr_array_add (self->signatures, signature);
  self->next_text++;
  sign_next (self);
}

static void
sign_next (ImzalaSigningJob *self)
{
  ImzalaRequestText *text;

  if (self->next_text < imzala_request_get_n_texts (self->request))
    {
      text = imzala_request_get_text (self->request, self->next_text);
      imzala_token_sign_cms_async (self->token, self->certificate, self->pin,
                                   imzala_request_text_get_content (text),
                                   IMZALA_CMS_NONE, self->cancellable,
                                   sign_cb, g_object_ref (self));
      return;
    }

  /* Every text is signed: the PIN is not needed any more. */
  forget_secrets (self);
  self->signed_at = g_date_time_new_now_local ();
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SIGNATURES]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SIGNED_AT]);
  set_state (self, IMZALA_JOB_STATE_SUBMITTING);
  imzala_portal_submit_signatures_async (self->portal, self->request, self->signatures,
                                         self->cancellable, submit_cb, g_object_ref (self));
}

/* Whether the kept session is on @token's card (tokens are made afresh
 * on each listing; the session belongs to the module's slot). */
static gboolean
is_logged_in_to (ImzalaSigningJob *self,
                 ImzalaToken      *token)
{
  return self->login_token != NULL && token != NULL &&
         imzala_token_get_module (self->login_token) == imzala_token_get_module (token) &&
         imzala_token_get_slot_id (self->login_token) == imzala_token_get_slot_id (token);
}

/* A wrong PIN (or one of the wrong length) lets the user try again; every
 * other error ends the job. */
static void
pin_failed (ImzalaSigningJob *self,
            GError           *error)
{
  if (is_retryable_pin_error (error))
    {
      forget_secrets (self);
      g_clear_pointer (&self->signatures, g_ptr_array_unref);
      set_error (self, error);
      set_state (self, IMZALA_JOB_STATE_CHOOSING);
      imzala_signing_job_refresh_tokens (self);
    }
  else
    fail (self, error);
}

static void
keep_login (ImzalaSigningJob *self,
            ImzalaToken      *token,
            ImzalaSecret     *pin)
{
  g_set_object (&self->login_token, token);
  g_clear_pointer (&self->login_pin, imzala_secret_unref);
  self->login_pin = pin != NULL ? imzala_secret_ref (pin) : NULL;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LOGGED_IN]);
}

/* Ends a login the job asked for in state @expected: TRUE when the session
 * is kept and the job goes on. */
static gboolean
login_finished (ImzalaSigningJob *self,
                GObject          *source,
                GAsyncResult     *result,
                ImzalaJobState    expected)
{
  GError *error = NULL;
  gboolean ok;

  ok = imzala_token_login_finish (IMZALA_TOKEN (source), result, &error);
  if (self->state != expected)
    {
      /* Cancelled meanwhile: a session that was opened is ended. */
      if (ok)
        imzala_token_logout_async (IMZALA_TOKEN (source));
      g_clear_error (&error);
      return FALSE;
    }
  if (!ok)
    {
      pin_failed (self, error);
      return FALSE;
    }
  keep_login (self, IMZALA_TOKEN (source), self->pin);
  return TRUE;
}

/* One login for all the texts of the request: a pin-pad user types the PIN
 * once, however many texts there are. */
static void
sign_login_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(ImzalaSigningJob) self = user_data;

  if (login_finished (self, source, result, IMZALA_JOB_STATE_SIGNING))
    sign_next (self);
}

void
imzala_signing_job_sign (ImzalaSigningJob *self,
                         ImzalaSecret     *pin)
{
  GError *error = NULL;

  g_return_if_fail (IMZALA_IS_SIGNING_JOB (self));

  if (self->state != IMZALA_JOB_STATE_CHOOSING)
    {
      g_warning ("imzala_signing_job_sign() called in state %s",
                 job_state_nick (self->state));
      return;
    }
  if (imzala_request_is_expired (self->request))
    {
      fail_expired (self);
      return;
    }
  if (!imzala_signing_job_can_sign (self, &error))
    {
      set_error (self, error);
      return;
    }

  set_error (self, NULL);
  /* A session on another card (the user chose a certificate elsewhere after
   * a login) is ended first. */
  if (self->login_token != NULL && !is_logged_in_to (self, self->token))
    log_out (self);
  /* Logged in already: the PIN given then serves (NULL here is fine). */
  if (pin == NULL && self->login_token != NULL)
    pin = self->login_pin;
  self->pin = pin != NULL ? imzala_secret_ref (pin) : NULL;
  g_clear_pointer (&self->signatures, g_ptr_array_unref);
  g_clear_pointer (&self->signed_at, g_date_time_unref);
  self->signatures = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  self->next_text = 0;
  set_state (self, IMZALA_JOB_STATE_SIGNING);
  if (self->login_token != NULL)
    sign_next (self);
  else
    imzala_token_login_async (self->token, self->pin, self->cancellable,
                              sign_login_cb, g_object_ref (self));
}

/* ---- LOGGING_IN ---- */

static void
log_in_cb (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(ImzalaSigningJob) self = user_data;

  if (!login_finished (self, source, result, IMZALA_JOB_STATE_LOGGING_IN))
    return;
  forget_secrets (self);
  /* The token's certificates are what the card shows now; the shared list
   * is refreshed too (from the cache the login filled) for the other
   * pages. */
  rebuild_certificates (self);
  set_state (self, IMZALA_JOB_STATE_CHOOSING);
  imzala_signing_job_refresh_tokens (self);
}

void
imzala_signing_job_log_in (ImzalaSigningJob *self,
                           ImzalaSecret     *pin)
{
  g_return_if_fail (IMZALA_IS_SIGNING_JOB (self));

  if (self->state != IMZALA_JOB_STATE_CHOOSING || !self->needs_login)
    {
      g_warning ("imzala_signing_job_log_in() called in state %s without a card to log in to",
                 job_state_nick (self->state));
      return;
    }
  if (imzala_request_is_expired (self->request))
    {
      fail_expired (self);
      return;
    }

  set_error (self, NULL);
  /* One kept session at a time: the card logged in to before showed
   * nothing. */
  log_out (self);
  self->pin = pin != NULL ? imzala_secret_ref (pin) : NULL;
  set_state (self, IMZALA_JOB_STATE_LOGGING_IN);
  imzala_token_login_async (self->token, self->pin, self->cancellable,
                            log_in_cb, g_object_ref (self));
}

/* ---- UNBLOCKING ---- */

static void
report_cb (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(ImzalaSigningJob) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *message = NULL;

  message = imzala_portal_report_unblock_finish (IMZALA_PORTAL (source), result, &error);
  if (message == NULL)
    g_debug ("Reporting the unblock result failed: %s", error->message);

  if (self->unblock_error != NULL)
    {
      fail (self, g_steal_pointer (&self->unblock_error));
      return;
    }
  if (is_finished (self))
    return;

  /* The card is unblocked whether or not the portal heard about it, and that
   * is what matters to the user. */
  self->result_message = message != NULL
    ? g_steal_pointer (&message)
    : g_strdup (_("The card is unlocked and the new PIN is set."));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RESULT_MESSAGE]);
  set_state (self, IMZALA_JOB_STATE_DONE);
}

static void
token_unblock_cb (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(ImzalaSigningJob) self = user_data;
  GError *error = NULL;
  gboolean success;

  success = imzala_token_unblock_pin_finish (IMZALA_TOKEN (source), result, &error);
  forget_secrets (self);
  if (!success)
    self->unblock_error = error;
  else
    self->signed_at = g_date_time_new_now_local ();

  /* The portal learns the outcome even if the user cancelled meanwhile, so
   * no cancellable here. */
  imzala_portal_report_unblock_async (self->portal, self->request, success, NULL,
                                      report_cb, g_object_ref (self));
}

static void
portal_unblock_cb (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(ImzalaSigningJob) self = user_data;
  g_autoptr(ImzalaSecret) puk = NULL;
  GError *error = NULL;

  puk = imzala_portal_unblock_finish (IMZALA_PORTAL (source), result, &error);
  if (puk == NULL)
    {
      fail (self, error);
      return;
    }
  if (self->state != IMZALA_JOB_STATE_UNBLOCKING)
    return;

  /* The token operation holds its own reference while it runs; ours is
   * dropped (and the PUK wiped with the last one) when this returns. */
  imzala_token_unblock_pin_async (self->token, puk, self->new_pin, self->cancellable,
                                  token_unblock_cb, g_object_ref (self));
}

static char *
token_serial (ImzalaToken *token)
{
  char *serial = g_strdup (imzala_token_get_serial (token));

  /* CK_TOKEN_INFO pads with spaces; the protocol sends it trimmed. */
  return serial != NULL ? g_strchomp (serial) : NULL;
}

void
imzala_signing_job_unblock (ImzalaSigningJob *self,
                            ImzalaSecret     *new_pin)
{
  g_autofree char *serial = NULL;

  g_return_if_fail (IMZALA_IS_SIGNING_JOB (self));
  g_return_if_fail (new_pin != NULL);

  if (self->state != IMZALA_JOB_STATE_CHOOSING ||
      imzala_request_get_purpose (self->request) != IMZALA_PURPOSE_UNBLOCK)
    {
      g_warning ("imzala_signing_job_unblock() called in state %s or for another purpose",
                 job_state_nick (self->state));
      return;
    }
  if (imzala_request_is_expired (self->request))
    {
      fail_expired (self);
      return;
    }
  if (self->token == NULL)
    {
      if ((self->tokens == NULL || self->tokens->len == 0) && self->tokens_loading)
        set_error (self, g_error_new_literal (IMZALA_ERROR, IMZALA_ERROR_NO_TOKEN,
                                              _("The card is still being read. Try again in a "
                                                "moment.")));
      else if (self->tokens == NULL || self->tokens->len == 0)
        set_error (self, g_error_new_literal (IMZALA_ERROR, IMZALA_ERROR_NO_TOKEN,
                                              _("No card was found. Insert the card to unlock "
                                                "and try again.")));
      else
        set_error (self, g_error_new_literal (IMZALA_ERROR, IMZALA_ERROR_SEVERAL_TOKENS,
                                              _("Several cards are inserted. Choose the card "
                                                "to unlock.")));
      return;
    }

  serial = token_serial (self->token);
  if (serial == NULL || *serial == '\0')
    {
      set_error (self, g_error_new_literal (IMZALA_ERROR, IMZALA_ERROR_NO_TOKEN,
                                            _("The card does not tell its serial number, so the "
                                              "portal cannot unlock it.")));
      return;
    }

  set_error (self, NULL);
  self->new_pin = imzala_secret_ref (new_pin);
  set_state (self, IMZALA_JOB_STATE_UNBLOCKING);
  imzala_portal_unblock_async (self->portal, self->request, serial, self->cancellable,
                               portal_unblock_cb, g_object_ref (self));
}

/* ---- Cancel, save ---- */

void
imzala_signing_job_cancel (ImzalaSigningJob *self)
{
  g_return_if_fail (IMZALA_IS_SIGNING_JOB (self));

  if (is_finished (self))
    return;
  fail (self, g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED,
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
  return self->login_token != NULL;
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
  forget_secrets (self);
  log_out (self);
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
  g_clear_error (&self->error);
  g_clear_error (&self->unblock_error);
  g_clear_pointer (&self->signatures, g_ptr_array_unref);
  g_clear_pointer (&self->signed_at, g_date_time_unref);
  g_free (self->result_message);

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

  properties[PROP_STATE] =
    g_param_spec_enum ("state", NULL, NULL, IMZALA_TYPE_JOB_STATE, IMZALA_JOB_STATE_IDLE, flags);
  properties[PROP_REQUEST] =
    g_param_spec_object ("request", NULL, NULL, IMZALA_TYPE_REQUEST, flags);
  properties[PROP_TOKENS] =
    g_param_spec_boxed ("tokens", NULL, NULL, G_TYPE_PTR_ARRAY, flags);
  properties[PROP_CERTIFICATES] =
    g_param_spec_object ("certificates", NULL, NULL, G_TYPE_LIST_MODEL, flags);
  properties[PROP_CERTIFICATE] =
    g_param_spec_object ("certificate", NULL, NULL, IMZALA_TYPE_CERTIFICATE, flags);
  properties[PROP_TOKEN] =
    g_param_spec_object ("token", NULL, NULL, IMZALA_TYPE_TOKEN, flags);
  properties[PROP_REMAINING_SECONDS] =
    g_param_spec_int64 ("remaining-seconds", NULL, NULL, 0, G_MAXINT64, 0, flags);
  properties[PROP_ERROR] =
    g_param_spec_boxed ("error", NULL, NULL, G_TYPE_ERROR, flags);
  properties[PROP_SIGNATURES] =
    g_param_spec_boxed ("signatures", NULL, NULL, G_TYPE_PTR_ARRAY, flags);
  properties[PROP_SIGNED_AT] =
    g_param_spec_boxed ("signed-at", NULL, NULL, G_TYPE_DATE_TIME, flags);
  properties[PROP_RESULT_MESSAGE] =
    g_param_spec_string ("result-message", NULL, NULL, NULL, flags);
  properties[PROP_NEEDS_LOGIN] =
    g_param_spec_boolean ("needs-login", NULL, NULL, FALSE, flags);
  properties[PROP_LOGGED_IN] =
    g_param_spec_boolean ("logged-in", NULL, NULL, FALSE, flags);
  properties[PROP_PIN_PAD_PROMPT] =
    g_param_spec_string ("pin-pad-prompt", NULL, NULL, NULL, flags);
  properties[PROP_TOKENS_LOADING] =
    g_param_spec_boolean ("tokens-loading", NULL, NULL, FALSE, flags);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
imzala_signing_job_init (ImzalaSigningJob *self)
{
  self->cancellable = g_cancellable_new ();
  self->certificates = g_list_store_new (IMZALA_TYPE_CERTIFICATE);
  self->context = g_main_context_ref_thread_default ();
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
  g_signal_connect_object (token_list, "items-changed", G_CALLBACK (token_list_changed_cb),
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
