/* imzala-signing-job-sign.c: SIGNING, SUBMITTING and LOGGING_IN: one
 * login for all the texts (or the session kept from log_in()), a signature
 * per text, the submission, and a wrong PIN that returns to CHOOSING.
 */
#define G_LOG_DOMAIN "imzala-job"

#include "config.h"

#include <glib/gi18n-lib.h>

#include "imzala-cades.h"
#include "imzala-cms.h"
#include "imzala-error.h"
#include "imzala-signing-job-private.h"

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
      imzala_signing_job_fail (self, error);
      return;
    }
  if (imzala_signing_job_is_finished (self))
    {
      g_free (message);
      return;
    }

  self->result_message = message;
  g_object_notify_by_pspec (G_OBJECT (self), imzala_signing_job_properties[PROP_RESULT_MESSAGE]);
  imzala_signing_job_set_state (self, IMZALA_JOB_STATE_DONE);
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
submit (ImzalaSigningJob *self)
{
  self->signed_at = g_date_time_new_now_local ();
  g_object_notify_by_pspec (G_OBJECT (self), imzala_signing_job_properties[PROP_SIGNATURES]);
  g_object_notify_by_pspec (G_OBJECT (self), imzala_signing_job_properties[PROP_SIGNED_AT]);
  imzala_signing_job_set_state (self, IMZALA_JOB_STATE_SUBMITTING);
  imzala_portal_submit_signatures_async (self->portal, self->request, self->signatures,
                                         self->cancellable, submit_cb, g_object_ref (self));
}

/* ---- The level the portal asked for (protocol v1.1, issue 10) ---- */

static void extend_next (ImzalaSigningJob *self);

static void
extend_cb (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(ImzalaSigningJob) self = user_data;
  GError *error = NULL;
  GBytes *extended;

  extended = imzala_cades_extend_finish (result, &error);
  if (self->state != IMZALA_JOB_STATE_SIGNING)
    {
      g_clear_pointer (&extended, g_bytes_unref);
      g_clear_error (&error);
      return;
    }
  if (extended == NULL)
    {
      /* The card signed, but what was asked for cannot be made: nothing is
       * submitted, and the message says why. */
      imzala_signing_job_fail (self, error);
      return;
    }
  g_bytes_unref (g_ptr_array_index (self->signatures, self->next_extension));
  g_ptr_array_index (self->signatures, self->next_extension) = extended;
  self->next_extension++;
  extend_next (self);
}

/* After the card: each signature is time-stamped (and for XL given its
 * chain's status) before any is submitted. */
static void
extend_next (ImzalaSigningJob *self)
{
  ImzalaCadesLevel level = imzala_request_get_signature_level (self->request);
  g_autoptr(ImzalaTsaClient) tsa = NULL;
  GError *error = NULL;

  if (level == IMZALA_CADES_LEVEL_BES || self->next_extension >= self->signatures->len)
    {
      submit (self);
      return;
    }
  tsa = imzala_tsa_client_new (imzala_request_get_tsa_url (self->request), self->tsa_ca_file, &error);
  if (tsa == NULL)
    {
      imzala_signing_job_fail (self, error);
      return;
    }
  imzala_cades_extend_async (g_ptr_array_index (self->signatures, self->next_extension), level, tsa,
                             self->cancellable, extend_cb, g_object_ref (self));
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
  imzala_signing_job_forget_secrets (self);
  self->next_extension = 0;
  extend_next (self);
}

/* Whether the kept session is on @token's card (tokens are made afresh
 * on each listing). */
gboolean
imzala_signing_job_is_logged_in_to (ImzalaSigningJob *self,
                                    ImzalaToken      *token)
{
  return self->login_token != NULL && token != NULL && imzala_token_is_same_card (self->login_token, token);
}

/* A wrong PIN (or one of the wrong length) lets the user try again; every
 * other error ends the job. */
static void
pin_failed (ImzalaSigningJob *self,
            GError           *error)
{
  if (is_retryable_pin_error (error))
    {
      imzala_signing_job_forget_secrets (self);
      g_clear_pointer (&self->signatures, g_ptr_array_unref);
      imzala_signing_job_set_error (self, error);
      imzala_signing_job_set_state (self, IMZALA_JOB_STATE_CHOOSING);
      imzala_signing_job_refresh_tokens (self);
    }
  else
    imzala_signing_job_fail (self, error);
}

static void
keep_login (ImzalaSigningJob *self,
            ImzalaToken      *token,
            ImzalaSecret     *pin)
{
  g_set_object (&self->login_token, token);
  g_clear_pointer (&self->login_pin, imzala_secret_unref);
  self->login_pin = pin != NULL ? imzala_secret_ref (pin) : NULL;
  g_object_notify_by_pspec (G_OBJECT (self), imzala_signing_job_properties[PROP_LOGGED_IN]);
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
                 imzala_signing_job_state_nick (self->state));
      return;
    }
  if (imzala_request_is_expired (self->request))
    {
      imzala_signing_job_fail_expired (self);
      return;
    }
  if (!imzala_signing_job_can_sign (self, &error))
    {
      imzala_signing_job_set_error (self, error);
      return;
    }

  imzala_signing_job_set_error (self, NULL);
  /* A session on another card (the user chose a certificate elsewhere after
   * a login) is ended first. */
  if (self->login_token != NULL && !imzala_signing_job_is_logged_in_to (self, self->token))
    imzala_signing_job_log_out (self);
  /* Logged in already: the PIN given then serves (NULL here is fine). */
  if (pin == NULL && self->login_token != NULL)
    pin = self->login_pin;
  self->pin = pin != NULL ? imzala_secret_ref (pin) : NULL;
  g_clear_pointer (&self->signatures, g_ptr_array_unref);
  g_clear_pointer (&self->signed_at, g_date_time_unref);
  self->signatures = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  self->next_text = 0;
  imzala_signing_job_set_state (self, IMZALA_JOB_STATE_SIGNING);
  /* The certificate's status comes first: a revoked certificate never
   * gets the PIN. */
  if (self->status_checking)
    {
      g_debug ("Waiting for the certificate's status before the login");
      self->sign_after_status = TRUE;
      return;
    }
  imzala_signing_job_start_signing (self);
}

void
imzala_signing_job_start_signing (ImzalaSigningJob *self)
{
  if (self->login_token != NULL)
    sign_next (self);
  else
    imzala_token_login_async (self->token, self->pin, self->cancellable,
                              sign_login_cb, g_object_ref (self));
}

void
imzala_signing_job_set_tsa_ca_file (ImzalaSigningJob *self,
                                    const char       *ca_file)
{
  g_return_if_fail (IMZALA_IS_SIGNING_JOB (self));
  g_free (self->tsa_ca_file);
  self->tsa_ca_file = g_strdup (ca_file);
}

/* ---- LOGGING_IN ---- */

/* Whether one of the certificates the user can choose is on @token. */
static gboolean
shows_certificate_on (ImzalaSigningJob *self,
                      ImzalaToken      *token)
{
  GListModel *certificates = G_LIST_MODEL (self->certificates);

  for (guint i = 0; i < g_list_model_get_n_items (certificates); i++)
    {
      g_autoptr(ImzalaCertificate) certificate = g_list_model_get_item (certificates, i);

      if (imzala_token_has_certificate (token, certificate))
        return TRUE;
    }
  return FALSE;
}

static void
log_in_cb (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(ImzalaSigningJob) self = user_data;
  ImzalaToken *token = IMZALA_TOKEN (source);

  if (!login_finished (self, source, result, IMZALA_JOB_STATE_LOGGING_IN))
    return;
  imzala_signing_job_forget_secrets (self);
  /* The token's certificates are what the card shows now; the shared list
   * is refreshed too (from the cache the login filled) for the other
   * pages. */
  imzala_signing_job_rebuild_certificates (self);
  /* A card that wants a login before it lists anything cannot be told
   * from an empty one until the PIN is in: the PIN was right and still
   * nothing shows. Said, before CHOOSING, as a wrong PIN is: without it
   * the PIN would seem to have gone nowhere. The job passes the card over
   * (update_needs_login()) and neither offers it nor logs in to it again
   * (is_hiding()). */
  if (!shows_certificate_on (self, token))
    {
      g_ptr_array_add (self->empty_cards, g_object_ref (token));
      imzala_signing_job_set_error (self,
                                    g_error_new (IMZALA_ERROR, IMZALA_ERROR_NO_CERTIFICATE,
                                                 /* Translators: the card's label. */
                                                 _("No certificate for signing was found on “%s”, "
                                                   "also after the PIN."),
                                                 imzala_token_get_label (token)));
    }
  imzala_signing_job_set_state (self, IMZALA_JOB_STATE_CHOOSING);
  imzala_signing_job_refresh_tokens (self);
}

static void log_in (ImzalaSigningJob *self,
                    ImzalaSecret     *pin);

void
imzala_signing_job_log_in (ImzalaSigningJob *self,
                           ImzalaSecret     *pin)
{
  g_return_if_fail (IMZALA_IS_SIGNING_JOB (self));

  if (self->state != IMZALA_JOB_STATE_CHOOSING || !self->needs_login)
    {
      g_warning ("imzala_signing_job_log_in() called in state %s without a card to log in to",
                 imzala_signing_job_state_nick (self->state));
      return;
    }
  log_in (self, pin);
}

void
imzala_signing_job_log_in_to (ImzalaSigningJob *self,
                              ImzalaToken      *token,
                              ImzalaSecret     *pin)
{
  g_return_if_fail (IMZALA_IS_SIGNING_JOB (self));
  g_return_if_fail (IMZALA_IS_TOKEN (token));

  /* set_token() takes only one of the job's cards, in CHOOSING. */
  if (!imzala_token_needs_login_to_list (token) || !imzala_signing_job_set_token (self, token))
    {
      g_warning ("imzala_signing_job_log_in_to() called in state %s for a card that needs no login",
                 imzala_signing_job_state_nick (self->state));
      return;
    }
  log_in (self, pin);
}

static void
log_in (ImzalaSigningJob *self,
        ImzalaSecret     *pin)
{
  if (imzala_request_is_expired (self->request))
    {
      imzala_signing_job_fail_expired (self);
      return;
    }

  imzala_signing_job_set_error (self, NULL);
  /* One kept session at a time: the card logged in to before showed
   * nothing. */
  imzala_signing_job_log_out (self);
  self->pin = pin != NULL ? imzala_secret_ref (pin) : NULL;
  imzala_signing_job_set_state (self, IMZALA_JOB_STATE_LOGGING_IN);
  imzala_token_login_async (self->token, self->pin, self->cancellable,
                            log_in_cb, g_object_ref (self));
}
