#define G_LOG_DOMAIN "imzala-cli"

#include "config.h"

#include <errno.h>

#include <stdio.h>
#include <unistd.h>
#include <glib-unix.h>
#include <glib/gi18n-lib.h>

#include "imzala-cli.h"
#include "imzala-cli-portal.h"
#include "imzala-cli-terminal.h"
#include "imzala-portal-client.h"
#include "imzala-signing-job.h"

typedef struct
{
  GMainLoop        *loop;
  ImzalaSigningJob *job;
  ImzalaJobState    waiting_in;
  guint             interrupts;
} PortalRun;

static void
state_cb (ImzalaSigningJob *job,
          GParamSpec       *pspec,
          PortalRun        *run)
{
  if (imzala_signing_job_get_state (job) != run->waiting_in)
    g_main_loop_quit (run->loop);
}

/* What to type on the reader's keypad now (a pin-pad token). */
static void
pin_pad_prompt_cb (ImzalaSigningJob *job,
                   GParamSpec       *pspec,
                   gpointer          user_data)
{
  const char *prompt = imzala_signing_job_get_pin_pad_prompt (job);

  if (prompt != NULL)
    imzala_cli_terminal_say (prompt);
}

static gboolean
interrupt_cb (gpointer user_data)
{
  PortalRun *run = user_data;

  /* The first Ctrl-C cancels the job at its next step; a second one does not
   * wait for a reader or a portal that does not answer. */
  if (++run->interrupts > 1)
    {
      imzala_cli_printerr (_("Cancelled."));
      _exit (IMZALA_CLI_EXIT_CANCELLED);
    }
  imzala_signing_job_cancel (run->job);
  return G_SOURCE_CONTINUE;
}

/* Runs the main loop while the job stays in @state. */
static ImzalaJobState
wait_while (PortalRun     *run,
            ImzalaJobState state)
{
  run->waiting_in = state;
  if (imzala_signing_job_get_state (run->job) == state)
    g_main_loop_run (run->loop);
  return imzala_signing_job_get_state (run->job);
}

static void
tokens_loading_cb (ImzalaSigningJob *job,
                   GParamSpec       *pspec,
                   PortalRun        *run)
{
  if (!imzala_signing_job_get_tokens_loading (job))
    g_main_loop_quit (run->loop);
}

/* CHOOSING comes with the request, the cards may still be read; without a
 * screen to show the request on meanwhile, the command waits for them before
 * it picks a certificate. Returns the state after the wait (FAILED when the
 * listing failed). */
static ImzalaJobState
wait_for_tokens (PortalRun *run)
{
  gulong handler;

  if (!imzala_signing_job_get_tokens_loading (run->job))
    return imzala_signing_job_get_state (run->job);

  handler = g_signal_connect (run->job, "notify::tokens-loading", G_CALLBACK (tokens_loading_cb), run);
  run->waiting_in = IMZALA_JOB_STATE_CHOOSING;
  if (imzala_signing_job_get_state (run->job) == IMZALA_JOB_STATE_CHOOSING)
    g_main_loop_run (run->loop);
  g_signal_handler_disconnect (run->job, handler);
  return imzala_signing_job_get_state (run->job);
}

static void
status_checking_cb (ImzalaSigningJob *job,
                    GParamSpec       *pspec,
                    PortalRun        *run)
{
  if (!imzala_signing_job_get_status_checking (job))
    g_main_loop_quit (run->loop);
}

/* Issue 10: the chosen certificate's status is known before the PIN is
 * asked. Revoked fails the job (the caller reports it); a status that could
 * not be checked is said, and the command goes on. */
static ImzalaJobState
wait_for_status (PortalRun *run)
{
  const char *notice;

  if (imzala_signing_job_get_status_checking (run->job))
    {
      gulong handler = g_signal_connect (run->job, "notify::status-checking",
                                         G_CALLBACK (status_checking_cb), run);

      run->waiting_in = IMZALA_JOB_STATE_CHOOSING;
      if (imzala_signing_job_get_state (run->job) == IMZALA_JOB_STATE_CHOOSING)
        g_main_loop_run (run->loop);
      g_signal_handler_disconnect (run->job, handler);
    }
  notice = imzala_signing_job_get_status_notice (run->job);
  if (notice != NULL && imzala_signing_job_get_state (run->job) == IMZALA_JOB_STATE_CHOOSING)
    imzala_cli_printerr (_("Notice: %s"), notice);
  return imzala_signing_job_get_state (run->job);
}

static char *
format_time (GDateTime *time)
{
  g_autoptr(GDateTime) local = NULL;

  if (time == NULL)
    return g_strdup ("-");
  local = g_date_time_to_local (time);
  return g_date_time_format (local, "%Y-%m-%d %H:%M:%S");
}

/* The texts are written byte for byte: what the user reads here is exactly
 * what the card signs. */
static void
print_request (ImzalaRequest *request)
{
  g_autofree char *created = format_time (imzala_request_get_created_at (request));
  g_autofree char *expires = format_time (imzala_request_get_expires_at (request));
  g_autofree char *code = imzala_request_dup_display_code (request);
  /* What the portal names is filtered like every portal string; the texts
   * are not: they were refused unless they show as exactly what is signed. */
  g_autofree char *name = imzala_text_escape_unshown (imzala_request_get_requester_name (request));
  g_autofree char *hint = imzala_text_escape_unshown (imzala_request_get_requester_hint (request));
  g_autofree char *title = imzala_text_escape_unshown (imzala_request_get_title (request));
  g_autofree char *host = imzala_text_escape_unshown (imzala_request_get_portal_host (request));

  g_print (_("Portal:          %s\n"), host);
  g_print (_("Request:         %s (%s)\n"), title != NULL ? title : "",
           imzala_purpose_get_label (imzala_request_get_purpose (request)));
  g_print (_("Code:            %s\n"), code);
  if (name != NULL)
    g_print (_("Requester:       %s%s%s%s\n"), name, hint != NULL ? " (" : "",
             hint != NULL ? hint : "", hint != NULL ? ")" : "");
  g_print (_("Created:         %s\n"), created);
  g_print (_("Expires:         %s (%d s left)\n"), expires,
           (int) imzala_request_get_remaining_seconds (request));

  for (guint i = 0; i < imzala_request_get_n_texts (request); i++)
    {
      ImzalaRequestText *text = imzala_request_get_text (request, i);
      g_autofree char *text_title = imzala_text_escape_unshown (imzala_request_text_get_title (text));
      gsize length;
      const char *data = g_bytes_get_data (imzala_request_text_get_content (text), &length);

      g_print ("\n");
      g_print (_("İmzalanacak Metin %u: %s\n"), i + 1, text_title);
      g_print ("-----BEGIN TEXT-----\n");
      fflush (stdout);
      fwrite (data, 1, length, stdout);
      g_print ("\n-----END TEXT-----\n");
    }
  g_print ("\n");
  fflush (stdout);
}

static void
print_certificate (ImzalaToken       *token,
                   ImzalaCertificate *certificate)
{
  const char *tckn = imzala_certificate_get_tckn (certificate);
  g_autofree char *until = format_time (imzala_certificate_get_not_after (certificate));
  g_autofree char *holder = imzala_text_escape_unshown (imzala_certificate_get_holder_name (certificate));
  g_autofree char *label = token != NULL ? imzala_text_escape_unshown (imzala_token_get_label (token)) : NULL;

  g_print (_("Certificate:     %s (%s), %s, valid until %s\n"),
           holder,
           tckn != NULL ? tckn : _("no T.C. kimlik no"),
           imzala_certificate_get_key_description (certificate), until);
  if (token != NULL)
    g_print (_("Card:            %s\n"), label);
  g_print ("                 --cert %s\n", imzala_certificate_get_fingerprint (certificate));
  fflush (stdout);
}

/* The candidates for --cert; another person's says so (the portal takes
 * only the requester's signature). */
static void
print_candidates (ImzalaSigningJob *job)
{
  GListModel *certificates = imzala_signing_job_get_certificates (job);
  guint n = g_list_model_get_n_items (certificates);

  if (n == 0)
    return;
  g_printerr ("%s\n", _("Choose a certificate with --cert:"));
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(ImzalaCertificate) certificate = g_list_model_get_item (certificates, i);
      const char *tckn = imzala_certificate_get_tckn (certificate);
      /* What the card says, line feeds escaped too (as print_certificate()). */
      g_autofree char *holder = imzala_text_escape_unshown (imzala_certificate_get_holder_name (certificate));

      g_printerr ("  %s (%s), %s%s%s\n    --cert %s\n",
                  holder,
                  tckn != NULL ? tckn : _("no T.C. kimlik no"),
                  imzala_certificate_get_key_description (certificate),
                  imzala_certificate_is_recommended (certificate) ? "" : _(", not recommended"),
                  imzala_signing_job_is_other_persons (job, certificate) ? _(", another person's") : "",
                  imzala_certificate_get_fingerprint (certificate));
    }
}

/* The job preselects the requester's first certificate for the window,
 * where the user sees the others beside it. Without a window, a person with
 * several certificates that would do names one with --cert: signing with
 * one they did not see chosen is not İmzala's to decide. */
static void
leave_choice_to_user (ImzalaSigningJob *job)
{
  ImzalaCertificate *chosen = imzala_signing_job_get_certificate (job);
  GListModel *certificates = imzala_signing_job_get_certificates (job);
  guint same_person = 0;

  if (chosen == NULL)
    return;
  for (guint i = 0; i < g_list_model_get_n_items (certificates); i++)
    {
      g_autoptr(ImzalaCertificate) candidate = g_list_model_get_item (certificates, i);

      if (imzala_certificate_is_recommended (candidate)
          && g_strcmp0 (imzala_certificate_get_tckn (candidate), imzala_certificate_get_tckn (chosen)) == 0)
        same_person++;
    }
  if (same_person > 1)
    imzala_signing_job_set_certificate (job, NULL);
}

/* Selects the certificate named by @selector (URI or fingerprint) among the
 * job's candidates. */
static gboolean
select_certificate (ImzalaSigningJob *job,
                    const char       *selector,
                    GError          **error)
{
  g_autoptr(ImzalaCertificate) found = NULL;
  g_autoptr(ImzalaToken) found_token = NULL;
  GListModel *certificates = imzala_signing_job_get_certificates (job);
  GPtrArray *tokens = imzala_signing_job_get_tokens (job);

  found = imzala_module_set_find_certificate (tokens, selector, &found_token, error);
  if (found == NULL)
    return FALSE;

  for (guint i = 0; i < g_list_model_get_n_items (certificates); i++)
    {
      g_autoptr(ImzalaCertificate) candidate = g_list_model_get_item (certificates, i);

      if (g_strcmp0 (imzala_certificate_get_fingerprint (candidate),
                     imzala_certificate_get_fingerprint (found)) == 0 &&
          imzala_token_has_certificate (found_token, candidate))
        return imzala_signing_job_set_certificate (job, candidate);
    }

  g_set_error (error, IMZALA_ERROR, IMZALA_ERROR_NO_PRIVATE_KEY,
               _("The certificate of %s has no private key on the card, so it cannot sign."),
               imzala_certificate_get_holder_name (found));
  return FALSE;
}

/* Whether a card shows the certificate @selector names already: then no
 * other card's PIN is asked to show more ("needs-login" is also set when
 * none of the certificates shown is the requester's). */
static gboolean
shows_certificate (ImzalaSigningJob *job,
                   const char       *selector)
{
  g_autoptr(ImzalaCertificate) found = NULL;

  if (selector == NULL || imzala_signing_job_get_tokens (job) == NULL)
    return FALSE;
  found = imzala_module_set_find_certificate (imzala_signing_job_get_tokens (job), selector, NULL, NULL);
  return found != NULL;
}

static ImzalaSecret *
read_pin (ImzalaToken       *token,
          ImzalaCertificate *certificate,
          int                pin_fd,
          GError           **error)
{
  ImzalaPinState state = imzala_token_get_pin_state (token);
  g_autofree char *prompt = NULL;

  if (state & IMZALA_PIN_STATE_LOCKED)
    {
      g_set_error (error, IMZALA_ERROR, IMZALA_ERROR_PIN_LOCKED,
                   _("The PIN of “%s” is locked. Unlock the card through the portal's Kilit "
                     "Çözme page, or with “imzala-cli unblock-pin” and the PUK."),
                   imzala_token_get_label (token));
      return NULL;
    }
  imzala_cli_warn_pin_tries (token);
  prompt = g_strdup_printf (_("PIN of “%s” to sign as %s: "), imzala_token_get_label (token),
                            imzala_certificate_get_holder_name (certificate));
  return imzala_cli_read_pin (pin_fd, prompt, error);
}

/* The new PIN for an unblock. */
static ImzalaSecret *
read_new_pin (ImzalaToken *token,
              int          fd,
              GError     **error)
{
  g_autoptr(ImzalaSecret) pin = imzala_cli_read_new_pin (token, fd, error);

  if (pin != NULL && imzala_secret_get_length (pin) == 0)
    {
      g_set_error_literal (error, IMZALA_ERROR, IMZALA_ERROR_PIN_REQUIRED, _("No PIN was given."));
      return NULL;
    }
  return g_steal_pointer (&pin);
}

/* The portal's own sentence, filtered like every portal string. */
static void
print_result_message (ImzalaSigningJob *job)
{
  g_autofree char *message = imzala_text_escape_unshown (imzala_signing_job_get_result_message (job));

  g_print ("%s\n", message != NULL ? message : "");
}

static int
report_job_error (ImzalaSigningJob *job)
{
  const GError *error = imzala_signing_job_get_error (job);

  if (error == NULL)
    {
      imzala_cli_printerr (_("The request could not be completed."));
      return IMZALA_CLI_EXIT_FAILED;
    }
  return imzala_cli_report_error (error);
}

static int
run_unblock (PortalRun  *run,
             const char *selector,
             int         new_pin_fd,
             gboolean    last_try)
{
  g_autoptr(ImzalaSecret) new_pin = NULL;
  g_autoptr(GError) error = NULL;
  ImzalaSigningJob *job = run->job;
  ImzalaToken *token;

  if (selector != NULL)
    {
      g_autoptr(ImzalaCertificate) certificate = NULL;
      g_autoptr(ImzalaToken) found_token = NULL;

      certificate = imzala_module_set_find_certificate (imzala_signing_job_get_tokens (job),
                                                        selector, &found_token, &error);
      if (certificate == NULL)
        return imzala_cli_report_error (error);
      imzala_signing_job_set_token (job, found_token);
    }

  token = imzala_signing_job_get_token (job);
  if (token == NULL)
    {
      GPtrArray *tokens = imzala_signing_job_get_tokens (job);

      if (tokens == NULL || tokens->len == 0)
        g_set_error_literal (&error, IMZALA_ERROR, IMZALA_ERROR_NO_TOKEN,
                             _("No card was found. Insert the card to unlock and try again."));
      else
        g_set_error_literal (&error, IMZALA_ERROR, IMZALA_ERROR_SEVERAL_TOKENS,
                             _("Several cards are inserted. Name the card to unlock with --cert "
                               "and one of its certificates, or remove the others."));
      return imzala_cli_report_error (error);
    }

  {
    g_autofree char *label = imzala_text_escape_unshown (imzala_token_get_label (token));
    g_autofree char *serial = imzala_text_escape_unshown (imzala_token_get_serial (token));

    g_print (_("Card to unlock:  %s (serial %s)\n"), label, serial);
  }
  fflush (stdout);

  /* The job refuses these too; said here, no new PIN is asked for nothing. */
  if (!(imzala_token_get_pin_state (token) & IMZALA_PIN_STATE_LOCKED))
    {
      g_set_error (&error, IMZALA_ERROR, IMZALA_ERROR_PIN_NOT_LOCKED,
                   _("The PIN of “%s” is not locked, so İmzala did not ask the portal for "
                     "the PUK and nothing was changed on the card."),
                   imzala_token_get_label (token));
      return imzala_cli_report_error (error);
    }
  if (imzala_signing_job_unblock_is_last_try (job))
    {
      imzala_cli_terminal_say (_("Warning: this is the final PUK try; if the portal's PUK is wrong, "
                                 "the card is locked for good."));
      if (!last_try)
        {
          g_set_error_literal (&error, IMZALA_ERROR, IMZALA_ERROR_PUK_FINAL_TRY,
                               _("Only one PUK try is left on the card, so İmzala did not use it. "
                                 "Run the command again with --last-try to use it."));
          return imzala_cli_report_error (error);
        }
    }
  else if (imzala_token_get_pin_state (token) & IMZALA_PIN_STATE_PUK_COUNT_LOW)
    imzala_cli_terminal_say (_("Warning: only a few PUK tries are left."));

  /* The new PIN is asked before the portal releases the PUK, so the PUK is
   * used at once and never waits on the user (docs/protocol.md §5). */
  new_pin = read_new_pin (token, new_pin_fd, &error);
  if (new_pin == NULL)
    return imzala_cli_report_error (error);

  imzala_signing_job_unblock_full (job, new_pin, last_try);
  g_clear_pointer (&new_pin, imzala_secret_unref);
  if (wait_while (run, IMZALA_JOB_STATE_UNBLOCKING) != IMZALA_JOB_STATE_DONE)
    return report_job_error (job);

  print_result_message (job);
  return IMZALA_CLI_EXIT_OK;
}

/* Logs in to @token, a card that shows its certificates only after the
 * PIN, so that they show (the job keeps the session: the PIN is not asked
 * again to sign). Such a card may be an empty one, which nothing tells
 * apart before the PIN, or hold only other persons' certificates; when it
 * does and @go_on (no card was named), the job names the next such card
 * ("needs-login"), whose PIN is asked next, one PIN line each, as `sign`
 * does. Each card is tried once: the job names no card it found empty
 * again, and a card logged in to keeps showing what it listed once the
 * session has moved to another. */
static int
log_in_to_show (PortalRun   *run,
                ImzalaToken *token,
                gboolean     go_on,
                int          pin_fd)
{
  ImzalaSigningJob *job = run->job;

  for (;;)
    {
      g_autoptr(ImzalaSecret) pin = NULL;
      g_autoptr(GError) error = NULL;
      const char *label = imzala_token_get_label (token);
      const GError *job_error;
      ImzalaJobState state;

      /* The card named: with --pin-fd no prompt names it. */
      imzala_cli_printerr (_("The certificates on “%s” are shown after the PIN is entered."), label);
      if (imzala_token_has_pin_pad (token))
        imzala_cli_terminal_say (_("Enter the PIN on the reader."));
      else
        {
          g_autofree char *prompt = g_strdup_printf (_("PIN of “%s” to show its certificates: "),
                                                     imzala_token_get_label (token));

          pin = imzala_cli_read_pin (pin_fd, prompt, &error);
          if (pin == NULL)
            return imzala_cli_report_error (error);
        }
      imzala_signing_job_log_in_to (job, token, pin);
      state = wait_while (run, IMZALA_JOB_STATE_LOGGING_IN);
      if (state != IMZALA_JOB_STATE_CHOOSING)
        return report_job_error (job);
      job_error = imzala_signing_job_get_error (job);
      /* Only other persons' certificates on it: the job names the next
       * card that hides its certificates, if there is one. */
      if (job_error == NULL && go_on && imzala_signing_job_get_needs_login (job) &&
          imzala_signing_job_get_token (job) != token)
        {
          g_autofree char *requester = imzala_request_dup_requester (imzala_signing_job_get_request (job));

          imzala_cli_printerr (_("“%s” holds no certificate of %s."), label, requester);
          token = imzala_signing_job_get_token (job);
          continue;
        }
      if (job_error == NULL)
        return IMZALA_CLI_EXIT_OK;
      if (!go_on || !g_error_matches (job_error, IMZALA_ERROR, IMZALA_ERROR_NO_CERTIFICATE) ||
          !imzala_signing_job_get_needs_login (job))
        return imzala_cli_report_error (job_error);
      token = imzala_signing_job_get_token (job);
      /* The empty card said (its label in the message), the next card's
       * PIN asked. */
      imzala_cli_report_error (job_error);
    }
}

static int
run_sign (PortalRun  *run,
          const char *selector,
          int         pin_fd,
          const char *save_path)
{
  g_autoptr(GError) error = NULL;
  ImzalaSigningJob *job = run->job;
  ImzalaCertificate *certificate;
  ImzalaToken *token;
  ImzalaToken *named;
  ImzalaToken *login_token = NULL;
  ImzalaJobState state;

  /* A card that shows its certificates only after the PIN: the PIN first
   * (the job keeps the session, so it is not asked again to sign). With
   * --cert naming a card, that card's PIN when it hides them, also while
   * other cards show theirs, or none when it hides nothing: never the PIN
   * of a card the user did not name. */
  named = imzala_signing_job_get_tokens (job) != NULL
    ? imzala_module_set_find_named_token (imzala_signing_job_get_tokens (job), selector) : NULL;
  if (named != NULL)
    login_token = imzala_token_needs_login_to_list (named) ? named : NULL;
  else if (imzala_signing_job_get_needs_login (job) && !shows_certificate (job, selector))
    login_token = imzala_signing_job_get_token (job);
  if (login_token != NULL)
    {
      int status = log_in_to_show (run, login_token, named == NULL, pin_fd);

      if (status != IMZALA_CLI_EXIT_OK)
        return status;
    }

  if (selector != NULL && !select_certificate (job, selector, &error))
    return imzala_cli_report_error (error);
  if (selector == NULL)
    leave_choice_to_user (job);

  if (!imzala_signing_job_can_sign (job, &error))
    {
      int status = imzala_cli_report_error (error);

      if (imzala_signing_job_get_certificate (job) == NULL)
        print_candidates (job);
      return g_error_matches (error, IMZALA_ERROR, IMZALA_ERROR_CERTIFICATE_EXPIRED)
        ? IMZALA_CLI_EXIT_NOT_FOUND : status;
    }

  certificate = imzala_signing_job_get_certificate (job);
  token = imzala_signing_job_get_token (job);
  print_certificate (token, certificate);
  /* Chosen with --cert: the user's to decide, and said before the PIN. */
  if (imzala_signing_job_is_other_persons (job, certificate))
    {
      g_autofree char *requester = imzala_request_dup_requester (imzala_signing_job_get_request (job));

      imzala_cli_printerr (_("Warning: This request is for %s; this certificate is another person's, "
                             "and the portal takes only the requester's signature."), requester);
    }
  if (wait_for_status (run) != IMZALA_JOB_STATE_CHOOSING)
    return report_job_error (job);
  if (!imzala_certificate_is_recommended (certificate))
    {
      g_auto(GStrv) reasons = imzala_certificate_describe_problems (certificate, NULL);

      for (guint i = 0; reasons != NULL && reasons[i] != NULL; i++)
        imzala_cli_printerr (_("Warning: %s"), reasons[i]);
    }

  for (;;)
    {
      g_autoptr(ImzalaSecret) pin = NULL;

      /* On a pin pad the job announces each entry (pin_pad_prompt_cb); a
       * PIN given to show the certificates signs. */
      if (!imzala_signing_job_get_logged_in (job) && !imzala_token_has_pin_pad (token))
        {
          pin = read_pin (token, certificate, pin_fd, &error);
          if (pin == NULL)
            {
              imzala_signing_job_cancel (job);
              return imzala_cli_report_error (error);
            }
        }

      imzala_signing_job_sign (job, pin);
      g_clear_pointer (&pin, imzala_secret_unref);

      state = wait_while (run, IMZALA_JOB_STATE_SIGNING);
      if (state == IMZALA_JOB_STATE_CHOOSING)
        {
          /* A wrong PIN: the message says how many tries are left. From a
           * file descriptor there is no second PIN to try. */
          const GError *pin_error = imzala_signing_job_get_error (job);
          int status = imzala_cli_report_error (pin_error);

          if (pin_fd >= 0 || imzala_token_has_pin_pad (token))
            return status;
          /* The refreshed card may have a new PIN state. */
          token = imzala_signing_job_get_token (job);
          certificate = imzala_signing_job_get_certificate (job);
          if (token == NULL || certificate == NULL)
            return status;
          continue;
        }
      break;
    }

  if (state == IMZALA_JOB_STATE_SUBMITTING)
    state = wait_while (run, IMZALA_JOB_STATE_SUBMITTING);

  if (save_path != NULL && imzala_signing_job_get_signatures (job) != NULL &&
      imzala_signing_job_get_signatures (job)->len == imzala_request_get_n_texts (imzala_signing_job_get_request (job)))
    {
      g_auto(GStrv) written = NULL;

      /* --save names a folder, even for a single text: the job writes one
       * <code>-<n>.p7s per text into it. */
      if (g_mkdir_with_parents (save_path, 0755) != 0)
        g_debug ("Could not make %s: %s", save_path, g_strerror (errno));
      written = imzala_signing_job_save_signatures (job, save_path, &error);

      if (written == NULL)
        imzala_cli_report_error (error);
      for (guint i = 0; written != NULL && written[i] != NULL; i++)
        g_print (_("Signature saved: %s\n"), written[i]);
    }

  if (state != IMZALA_JOB_STATE_DONE)
    return report_job_error (job);

  {
    g_autofree char *signed_at = format_time (imzala_signing_job_get_signed_at (job));

    g_print (_("Signed:          %s\n"), signed_at);
    print_result_message (job);
  }
  return error != NULL ? IMZALA_CLI_EXIT_FAILED : IMZALA_CLI_EXIT_OK;
}

int
imzala_cli_portal (int argc, char **argv)
{
  ImzalaCliModuleOptions module_options = { NULL, FALSE };
  g_autofree char *portal_url = NULL;
  g_autofree char *portal_ca = NULL;
  g_autofree char *code = NULL;
  g_autofree char *selector = NULL;
  g_autofree char *save_path = NULL;
  int pin_fd = -1;
  int new_pin_fd = -1;
  gboolean last_try = FALSE;
  const GOptionEntry entries[] = {
    { "portal", 'p', 0, G_OPTION_ARG_STRING, &portal_url,
      N_("The portal's address (https:// only)"), N_("URL") },
    { "portal-ca", 0, 0, G_OPTION_ARG_FILENAME, &portal_ca,
      N_("Also trust this CA (PEM or DER) for the portal, e.g. the demo portal's ca.pem"), N_("FILE") },
    { "code", 'k', 0, G_OPTION_ARG_STRING, &code,
      N_("The verification code the portal shows (doğrulama kodu)"), N_("CODE") },
    { "cert", 'c', 0, G_OPTION_ARG_STRING, &selector,
      N_("The certificate: a PKCS#11 URI or its SHA-256 fingerprint (default: the one recommended certificate)"),
      N_("SELECTOR") },
    { "pin-fd", 0, 0, G_OPTION_ARG_INT, &pin_fd,
      N_("Read the PIN from file descriptor N (one line) instead of the terminal"), N_("N") },
    { "new-pin-fd", 0, 0, G_OPTION_ARG_INT, &new_pin_fd,
      N_("For a card unlock: read the new PIN from file descriptor N instead of the terminal"),
      N_("N") },
    { "last-try", 0, 0, G_OPTION_ARG_NONE, &last_try,
      N_("For a card unlock: use the card's last PUK try (a wrong PUK then locks the card for good)"),
      NULL },
    { "save", 's', 0, G_OPTION_ARG_FILENAME, &save_path,
      N_("Save the signatures (İmza İçeriği, DER .p7s) in folder DIR"), N_("DIR") },
    { NULL }
  };
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(ImzalaPortalClient) client = NULL;
  g_autoptr(ImzalaModuleSet) set = NULL;
  g_autoptr(ImzalaSigningJob) job = NULL;
  g_autoptr(GMainLoop) loop = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *normalized = NULL;
  PortalRun run = { 0 };
  guint interrupt_id;
  gulong state_id;
  gulong prompt_id;
  int status;

  context = imzala_cli_option_context_new ("portal", NULL,
                                           _("Fetches the portal request behind a verification code, shows the portal, "
                                             "the request and every text exactly, signs each text with a certificate on "
                                             "the card and sends the signatures to the portal. For a card unlock request "
                                             "it unlocks the card with the secret the portal releases and sets a new PIN. "
                                             "The PIN is asked on the terminal without echo, or read from --pin-fd; never "
                                             "give it on the command line."));
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  imzala_cli_add_module_options (context, &module_options);
  if (!imzala_cli_parse_options (context, "portal", &argc, &argv))
    {
      imzala_cli_module_options_clear (&module_options);
      return IMZALA_CLI_EXIT_USAGE;
    }
  if (argc > 1 || portal_url == NULL || code == NULL)
    {
      imzala_cli_usage_error ("portal", _("Give the portal with --portal URL and the code with --code CODE."));
      imzala_cli_module_options_clear (&module_options);
      return IMZALA_CLI_EXIT_USAGE;
    }

  /* Both checks come before any module is loaded or anything is sent. */
  normalized = imzala_portal_normalize_code (code, &error);
  client = normalized != NULL ? imzala_portal_client_new (portal_url, portal_ca, &error) : NULL;
  if (client == NULL)
    {
      imzala_cli_module_options_clear (&module_options);
      return imzala_cli_report_error (error);
    }

  set = imzala_cli_load_modules (&module_options, TRUE, NULL, &error);
  imzala_cli_module_options_clear (&module_options);
  if (set == NULL)
    return imzala_cli_report_error (error);

  loop = g_main_loop_new (NULL, FALSE);
  job = imzala_signing_job_new (IMZALA_PORTAL (client), set);
  /* The reference portal serves its TSA from its own origin. */
  imzala_signing_job_set_tsa_ca_file (job, portal_ca);
  run.loop = loop;
  run.job = job;
  state_id = g_signal_connect (job, "notify::state", G_CALLBACK (state_cb), &run);
  prompt_id = g_signal_connect (job, "notify::pin-pad-prompt", G_CALLBACK (pin_pad_prompt_cb), NULL);
  interrupt_id = g_unix_signal_add (SIGINT, interrupt_cb, &run);

  imzala_signing_job_start (job, normalized);
  if (wait_while (&run, IMZALA_JOB_STATE_FETCHING) != IMZALA_JOB_STATE_CHOOSING ||
      wait_for_tokens (&run) != IMZALA_JOB_STATE_CHOOSING)
    status = report_job_error (job);
  else
    {
      ImzalaRequest *request = imzala_signing_job_get_request (job);

      print_request (request);
      if (imzala_request_get_purpose (request) == IMZALA_PURPOSE_UNBLOCK)
        status = run_unblock (&run, selector, new_pin_fd, last_try);
      else
        status = run_sign (&run, selector, pin_fd, save_path);
    }

  imzala_signing_job_cancel (job);
  g_source_remove (interrupt_id);
  g_signal_handler_disconnect (job, state_id);
  g_signal_handler_disconnect (job, prompt_id);

  /* Operations still under way (a token list refreshed after a wrong PIN)
   * hold a reference on the job and use the modules; they end soon after the
   * cancel, and the modules must not be finalised under them. */
  {
    ImzalaSigningJob *last = job;

    g_object_add_weak_pointer (G_OBJECT (last), (gpointer *) &last);
    g_clear_object (&job);
    while (last != NULL)
      g_main_context_iteration (NULL, TRUE);
  }
  return status;
}
