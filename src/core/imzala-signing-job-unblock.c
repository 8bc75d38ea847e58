/* imzala-signing-job-unblock.c: UNBLOCKING: the portal gives the PUK for
 * the card's serial number, the card sets the new PIN with it, and the
 * portal hears the outcome. Only a card whose PIN is locked is unblocked,
 * and the last PUK try only when the user confirmed it: checked on the
 * listed state, again on CK_TOKEN_INFO read before the portal is asked, and
 * once more by the token right before the PUK reaches the card.
 */
#define G_LOG_DOMAIN "imzala-job"

#include "config.h"

#include <glib/gi18n-lib.h>

#include "imzala-error.h"
#include "imzala-signing-job-private.h"

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
      imzala_signing_job_fail (self, g_steal_pointer (&self->unblock_error));
      return;
    }
  if (imzala_signing_job_is_finished (self))
    return;

  /* The card is unblocked whether or not the portal heard about it, and that
   * is what matters to the user. */
  self->result_message = message != NULL
    ? g_steal_pointer (&message)
    : g_strdup (_("The card is unlocked and the new PIN is set."));
  g_object_notify_by_pspec (G_OBJECT (self), imzala_signing_job_properties[PROP_RESULT_MESSAGE]);
  imzala_signing_job_set_state (self, IMZALA_JOB_STATE_DONE);
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
  imzala_signing_job_forget_secrets (self);
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
      imzala_signing_job_fail (self, error);
      return;
    }
  if (self->state != IMZALA_JOB_STATE_UNBLOCKING)
    return;

  /* The token operation holds its own reference while it runs; ours is
   * dropped (and the PUK wiped with the last one) when this returns. */
  imzala_token_unblock_pin_full_async (self->token, puk, self->new_pin,
                                       IMZALA_UNBLOCK_ONLY_LOCKED |
                                       (self->last_puk_try_confirmed
                                        ? IMZALA_UNBLOCK_LAST_TRY_CONFIRMED : 0),
                                       self->cancellable, token_unblock_cb, g_object_ref (self));
}

static char *token_serial (ImzalaToken *token);

/* Why the card must not be unblocked now, or NULL. */
static GError *
unblock_refusal (ImzalaSigningJob *self)
{
  ImzalaPinState state = imzala_token_get_pin_state (self->token);

  if (!(state & IMZALA_PIN_STATE_LOCKED))
    return g_error_new (IMZALA_ERROR, IMZALA_ERROR_PIN_NOT_LOCKED,
                        _("The PIN of “%s” is not locked, so İmzala did not ask the portal for "
                          "the PUK and nothing was changed on the card."),
                        imzala_token_get_label (self->token));
  if ((state & IMZALA_PIN_STATE_PUK_FINAL_TRY) && !self->last_puk_try_confirmed)
    return g_error_new (IMZALA_ERROR, IMZALA_ERROR_PUK_FINAL_TRY,
                        _("Only one PUK try is left on “%s”: a wrong PUK would lock the card for "
                          "good. Nothing was tried; confirm the last try to go on."),
                        imzala_token_get_label (self->token));
  return NULL;
}

static void
token_refreshed_cb (GObject      *source,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  g_autoptr(ImzalaSigningJob) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *serial = NULL;
  GError *refusal;

  if (!imzala_token_refresh_finish (IMZALA_TOKEN (source), result, &error))
    {
      imzala_signing_job_fail (self, g_steal_pointer (&error));
      return;
    }
  if (self->state != IMZALA_JOB_STATE_UNBLOCKING)
    return;
  refusal = unblock_refusal (self);
  if (refusal != NULL)
    {
      imzala_signing_job_fail (self, refusal);
      return;
    }

  serial = token_serial (self->token);
  imzala_portal_unblock_async (self->portal, self->request, serial, self->cancellable,
                               portal_unblock_cb, g_object_ref (self));
}

static char *
token_serial (ImzalaToken *token)
{
  char *serial = g_strdup (imzala_token_get_serial (token));

  /* CK_TOKEN_INFO pads with spaces; the protocol sends it trimmed. */
  return serial != NULL ? g_strchomp (serial) : NULL;
}

gboolean
imzala_signing_job_unblock_is_last_try (ImzalaSigningJob *self)
{
  g_return_val_if_fail (IMZALA_IS_SIGNING_JOB (self), FALSE);
  return self->token != NULL &&
         (imzala_token_get_pin_state (self->token) & IMZALA_PIN_STATE_PUK_FINAL_TRY) != 0;
}

void
imzala_signing_job_unblock (ImzalaSigningJob *self,
                            ImzalaSecret     *new_pin)
{
  imzala_signing_job_unblock_full (self, new_pin, FALSE);
}

void
imzala_signing_job_unblock_full (ImzalaSigningJob *self,
                                 ImzalaSecret     *new_pin,
                                 gboolean          last_try_confirmed)
{
  g_autofree char *serial = NULL;
  GError *refusal;

  g_return_if_fail (IMZALA_IS_SIGNING_JOB (self));
  g_return_if_fail (new_pin != NULL);

  if (self->state != IMZALA_JOB_STATE_CHOOSING ||
      imzala_request_get_purpose (self->request) != IMZALA_PURPOSE_UNBLOCK)
    {
      g_warning ("imzala_signing_job_unblock() called in state %s or for another purpose",
                 imzala_signing_job_state_nick (self->state));
      return;
    }
  if (imzala_request_is_expired (self->request))
    {
      imzala_signing_job_fail_expired (self);
      return;
    }
  if (self->token == NULL)
    {
      if ((self->tokens == NULL || self->tokens->len == 0) && self->tokens_loading)
        imzala_signing_job_set_error (self,
                                      g_error_new_literal (IMZALA_ERROR, IMZALA_ERROR_NO_TOKEN,
                                                           _("The card is still being read. Try "
                                                             "again in a moment.")));
      else if (self->tokens == NULL || self->tokens->len == 0)
        imzala_signing_job_set_error (self,
                                      g_error_new_literal (IMZALA_ERROR, IMZALA_ERROR_NO_TOKEN,
                                                           _("No card was found. Insert the card "
                                                             "to unlock and try again.")));
      else
        imzala_signing_job_set_error (self,
                                      g_error_new_literal (IMZALA_ERROR,
                                                           IMZALA_ERROR_SEVERAL_TOKENS,
                                                           _("Several cards are inserted. Choose "
                                                             "the card to unlock.")));
      return;
    }

  serial = token_serial (self->token);
  if (serial == NULL || *serial == '\0')
    {
      imzala_signing_job_set_error (self,
                                    g_error_new_literal (IMZALA_ERROR, IMZALA_ERROR_NO_TOKEN,
                                                         _("The card does not tell its serial "
                                                           "number, so the portal cannot "
                                                           "unlock it.")));
      return;
    }

  self->last_puk_try_confirmed = last_try_confirmed;
  refusal = unblock_refusal (self);
  if (refusal != NULL)
    {
      imzala_signing_job_set_error (self, refusal);
      return;
    }

  imzala_signing_job_set_error (self, NULL);
  self->new_pin = imzala_secret_ref (new_pin);
  imzala_signing_job_set_state (self, IMZALA_JOB_STATE_UNBLOCKING);
  /* The listed state may be old: read it again before the PUK is asked for. */
  imzala_token_refresh_async (self->token, self->cancellable, token_refreshed_cb,
                              g_object_ref (self));
}
