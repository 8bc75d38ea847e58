/* imzala-signing-job-status.c: the chosen certificate's status, asked
 * before the PIN (issue 10).
 *
 * As soon as a certificate is chosen (or preselected) for a request to
 * sign, its OCSP responder (from the certificate's AIA) is asked, in a
 * thread. Revoked: the job fails with IMZALA_ERROR_CERTIFICATE_REVOKED and
 * says what to do; no PIN is taken to the card. Unreachable, or no
 * responder named: the job says so in "status-notice" and the user may
 * sign; the portal decides. A sign() that comes while the answer is
 * awaited waits for it in SIGNING, before the login. A certificate that
 * names no responder is said at once, without a thread.
 *
 * Asked early: when the cards are listed before the request comes and
 * they show one certificate the job would choose (the only recommended
 * one), its responder is asked at once, while the request is fetched
 * (imzala_signing_job_check_status_early()). The answer waits in the job
 * and is used when that certificate is chosen, once the request is here
 * (the user sees nothing of it before): the OCSP round trip then overlaps
 * the portal's instead of following it, and the PIN is asked that much
 * sooner. A request that turns out to be for another certificate, or for
 * none, leaves the answer unused; the responder was asked once for
 * nothing.
 */
#define G_LOG_DOMAIN "imzala-job"

#include "config.h"

#include <glib/gi18n-lib.h>

#include "imzala-error.h"
#include "imzala-signer-status.h"
#include "imzala-signing-job-private.h"

static void
set_checking (ImzalaSigningJob *self,
              gboolean          checking)
{
  if (self->status_checking == checking)
    return;
  self->status_checking = checking;
  g_object_notify_by_pspec (G_OBJECT (self), imzala_signing_job_properties[PROP_STATUS_CHECKING]);
}

static void
set_notice (ImzalaSigningJob *self,
            const char       *notice)
{
  if (g_strcmp0 (self->status_notice, notice) == 0)
    return;
  g_free (self->status_notice);
  self->status_notice = g_strdup (notice);
  g_object_notify_by_pspec (G_OBJECT (self), imzala_signing_job_properties[PROP_STATUS_NOTICE]);
}

void
imzala_signing_job_stop_status (ImzalaSigningJob *self)
{
  if (self->status_cancellable != NULL)
    g_cancellable_cancel (self->status_cancellable);
  g_clear_object (&self->status_cancellable);
  g_clear_object (&self->status_certificate);
  self->sign_after_status = FALSE;
  set_checking (self, FALSE);
}

/* The answer for the chosen certificate (status_certificate). */
static void
apply_status (ImzalaSigningJob *self,
              ImzalaCertStatus *status)
{
  gboolean waiting;

  g_clear_object (&self->status_cancellable);
  waiting = self->sign_after_status;
  self->sign_after_status = FALSE;
  set_checking (self, FALSE);

  g_debug ("Status of the chosen certificate: %s (%s)", imzala_cert_status_value_to_string (status->status),
           status->reason != NULL ? status->reason : "no reason");
  switch (status->status)
    {
    case IMZALA_CERT_STATUS_REVOKED:
      {
        const char *authority = imzala_certificate_get_issuer_name (self->certificate);

        g_debug ("The chosen certificate is revoked (%s)", status->url ? status->url : "embedded");
        imzala_signing_job_fail (self, g_error_new (IMZALA_ERROR, IMZALA_ERROR_CERTIFICATE_REVOKED,
                                                    _("Your certificate has been revoked, so it cannot "
                                                      "sign any more. Apply to %s for a new certificate."),
                                                    authority != NULL ? authority : _("your certification authority")));
        return;
      }
    case IMZALA_CERT_STATUS_GOOD:
      set_notice (self, NULL);
      break;
    case IMZALA_CERT_STATUS_UNKNOWN:
    default:
      {
        g_autofree char *notice = g_strdup_printf (_("The status of your certificate could not be "
                                                     "checked. %s You may still sign; the portal "
                                                     "decides whether it accepts the signature."),
                                                   status->reason != NULL ? status->reason : "");
        set_notice (self, notice);
      }
      break;
    }

  if (waiting && self->state == IMZALA_JOB_STATE_SIGNING)
    imzala_signing_job_start_signing (self);
}

/* One check's callback data: the job, and the cancellable the check was
 * started with, which tells whose answer it is. */
typedef struct
{
  ImzalaSigningJob *job;
  GCancellable     *cancellable;
} Check;

static Check *
check_new (ImzalaSigningJob *self,
           GCancellable     *cancellable)
{
  Check *check = g_new0 (Check, 1);

  check->job = g_object_ref (self);
  check->cancellable = g_object_ref (cancellable);
  return check;
}

static void
check_free (Check *check)
{
  g_object_unref (check->job);
  g_object_unref (check->cancellable);
  g_free (check);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Check, check_free)

/* Whether @check is the running job's check of its chosen certificate. */
static gboolean
check_is_chosen (Check *check)
{
  ImzalaSigningJob *self = check->job;

  return !imzala_signing_job_is_finished (self) && check->cancellable == self->status_cancellable
         && self->status_certificate == self->certificate;
}

static void
status_cb (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(Check) check = user_data;
  ImzalaSigningJob *self = check->job;
  g_autoptr(ImzalaCertStatus) status = NULL;

  status = imzala_signer_status_check_finish (result, NULL);
  /* Cancelled: another certificate was chosen, or the job ended. */
  if (status == NULL || imzala_signing_job_is_finished (self))
    return;
  /* Asked early and not chosen yet: the answer waits. */
  if (check->cancellable == self->early_cancellable)
    {
      g_debug ("The status of the certificate asked early is in");
      self->early_status = g_steal_pointer (&status);
      return;
    }
  if (check_is_chosen (check))
    apply_status (self, status);
}

/* An answer asked early that was in when its certificate was chosen: used
 * from the main loop, as an answer that comes later is, never from inside
 * the choice. */
static gboolean
early_status_in_cb (gpointer user_data)
{
  Check *check = user_data;
  ImzalaSigningJob *self = check->job;
  g_autoptr(ImzalaCertStatus) status = g_steal_pointer (&self->early_status);

  if (status != NULL && check_is_chosen (check))
    apply_status (self, status);
  return G_SOURCE_REMOVE;
}

void
imzala_signing_job_stop_early_status (ImzalaSigningJob *self)
{
  if (self->early_cancellable != NULL)
    g_cancellable_cancel (self->early_cancellable);
  g_clear_object (&self->early_cancellable);
  g_clear_object (&self->early_certificate);
  g_clear_pointer (&self->early_status, imzala_cert_status_free);
}

/* Asks @certificate's responder, with the card's CA certificates as the
 * first place to find its issuer. */
static void
start_check (ImzalaSigningJob  *self,
             ImzalaCertificate *certificate,
             ImzalaToken       *token,
             GCancellable      *cancellable)
{
  g_autoptr(GPtrArray) candidates = g_ptr_array_new_with_free_func (g_object_unref);
  GPtrArray *token_certificates = token != NULL ? imzala_token_get_certificates (token) : NULL;

  for (guint i = 0; token_certificates != NULL && i < token_certificates->len; i++)
    {
      ImzalaCertificate *other = g_ptr_array_index (token_certificates, i);

      if (other != certificate && imzala_certificate_is_ca (other))
        g_ptr_array_add (candidates, g_object_ref (other));
    }

  /* The portal's CA (the window's CA setting, `--portal-ca`) also
   * vouches for an https responder: the demo portal serves its OCSP
   * over https under that CA. The check's thread reads it; an unreadable
   * file only leaves the system store (the portal client has refused it
   * already). */
  imzala_signer_status_check_async (certificate, candidates, self->tsa_ca_file, cancellable,
                                    status_cb, check_new (self, cancellable));
}

/* Called only while the request is fetched (rebuild_certificates() sees to
 * it): a NULL @certificate, or another one, drops what was asked before. */
void
imzala_signing_job_check_status_early (ImzalaSigningJob  *self,
                                       ImzalaCertificate *certificate)
{
  if (self->early_certificate == certificate)
    return;
  imzala_signing_job_stop_early_status (self);
  if (certificate == NULL || !imzala_signer_status_has_responder (imzala_certificate_get_x509 (certificate)))
    return;

  g_debug ("Asking the status of the only certificate to choose, while the request comes");
  self->early_certificate = g_object_ref (certificate);
  self->early_cancellable = g_cancellable_new ();
  start_check (self, certificate, self->tokens != NULL ? imzala_module_set_find_token (self->tokens, certificate) : NULL,
               self->early_cancellable);
}

void
imzala_signing_job_check_status (ImzalaSigningJob *self)
{
  if (self->status_certificate == self->certificate && self->certificate != NULL)
    return;
  imzala_signing_job_stop_status (self);
  set_notice (self, NULL);
  if (self->certificate == NULL || self->request == NULL
      || imzala_request_get_purpose (self->request) == IMZALA_PURPOSE_UNBLOCK
      || imzala_signing_job_is_finished (self))
    return;

  /* Nothing to ask: said at once, and signing is not held up. */
  if (!imzala_signer_status_has_responder (imzala_certificate_get_x509 (self->certificate)))
    {
      set_notice (self, _("Your certificate names no status service (OCSP), so whether it "
                          "has been revoked could not be checked. You may still sign; the "
                          "portal decides whether it accepts the signature."));
      return;
    }

  self->status_certificate = g_object_ref (self->certificate);
  set_checking (self, TRUE);

  /* Asked early: its check becomes the chosen one's. */
  if (self->early_certificate == self->certificate)
    {
      g_debug ("The chosen certificate's status was asked while the request came");
      self->status_cancellable = g_steal_pointer (&self->early_cancellable);
      g_clear_object (&self->early_certificate);
      if (self->early_status != NULL)
        {
          GSource *source = g_idle_source_new ();

          g_source_set_callback (source, early_status_in_cb, check_new (self, self->status_cancellable),
                                 (GDestroyNotify) check_free);
          g_source_attach (source, self->context);
          g_source_unref (source);
        }
      return;
    }

  g_debug ("Asking the status of the chosen certificate");
  self->status_cancellable = g_cancellable_new ();
  start_check (self, self->certificate, self->token, self->status_cancellable);
}

gboolean
imzala_signing_job_get_status_checking (ImzalaSigningJob *self)
{
  g_return_val_if_fail (IMZALA_IS_SIGNING_JOB (self), FALSE);
  return self->status_checking;
}

const char *
imzala_signing_job_get_status_notice (ImzalaSigningJob *self)
{
  g_return_val_if_fail (IMZALA_IS_SIGNING_JOB (self), NULL);
  return self->status_notice;
}
