/* imzala-signing-job-tokens.c: the cards of an ImzalaSigningJob and their
 * certificates: the candidates (the requester's first, then recommended) and the card that needs
 * a login to show its own, listing the cards through the shared
 * ImzalaTokenList, and the choice of certificate and card in CHOOSING
 * (can_sign() included).
 */
#define G_LOG_DOMAIN "imzala-job"

#include "config.h"

#include <glib/gi18n-lib.h>

#include "imzala-error.h"
#include "imzala-signing-job-private.h"

/* ---- Certificates ---- */

static gboolean
is_candidate (ImzalaCertificate *certificate)
{
  return !imzala_certificate_is_ca (certificate) && imzala_certificate_has_private_key (certificate);
}

/* The token of @cards that is @token's card (tokens are made afresh on
 * each listing: the same module, slot and serial number), or NULL. */
static ImzalaToken *
find_card (GPtrArray   *cards,
           ImzalaToken *token)
{
  for (guint i = 0; token != NULL && cards != NULL && i < cards->len; i++)
    if (imzala_token_is_same_card (g_ptr_array_index (cards, i), token))
      return g_ptr_array_index (cards, i);
  return NULL;
}

/* A card the job could log in to so that it shows its certificates: it
 * shows them only after the PIN (imzala_token_needs_login_to_list()), the
 * job is not logged in to it, and no login of this job found it empty
 * (once the session moves to another card, it would hide again). */
static gboolean
is_hiding (ImzalaSigningJob *self,
           ImzalaToken      *token)
{
  return token != NULL && imzala_token_needs_login_to_list (token) &&
         !imzala_signing_job_is_logged_in_to (self, token) && find_card (self->empty_cards, token) == NULL;
}

static ImzalaToken *
first_hiding (ImzalaSigningJob *self,
              ImzalaToken      *except)
{
  for (guint i = 0; self->tokens != NULL && i < self->tokens->len; i++)
    {
      ImzalaToken *token = g_ptr_array_index (self->tokens, i);

      if (token != except && is_hiding (self, token))
        return token;
    }
  return NULL;
}

/* Whether the request is one a certificate signs (not an unblock, which
 * chooses a card and never logs in). */
static gboolean
signs (ImzalaSigningJob *self)
{
  return self->request == NULL || imzala_request_get_purpose (self->request) != IMZALA_PURPOSE_UNBLOCK;
}

/* The card the user chose to log in to, one that hides its certificates,
 * rather than a certificate shown (imzala_signing_job_set_token()), or NULL. */
static ImzalaToken *
login_chosen (ImzalaSigningJob *self)
{
  ImzalaToken *token;

  if (self->certificate != NULL || !signs (self))
    return NULL;
  token = find_card (self->tokens, self->token);
  return is_hiding (self, token) ? token : NULL;
}

/* Whether the request signs, names its requester, and no certificate shown
 * is theirs: theirs is then most likely behind a card's PIN. */
static gboolean
requester_not_shown (ImzalaSigningJob *self)
{
  const char *hint = self->request ? imzala_request_get_requester_hint (self->request) : NULL;
  GListModel *certificates = G_LIST_MODEL (self->certificates);

  if (hint == NULL || !signs (self))
    return FALSE;
  for (guint i = 0; i < g_list_model_get_n_items (certificates); i++)
    {
      g_autoptr(ImzalaCertificate) certificate = g_list_model_get_item (certificates, i);

      if (imzala_certificate_matches_tckn_hint (certificate, hint))
        return FALSE;
    }
  return TRUE;
}

gboolean
imzala_signing_job_is_other_persons (ImzalaSigningJob  *self,
                                     ImzalaCertificate *certificate)
{
  const char *hint;

  g_return_val_if_fail (IMZALA_IS_SIGNING_JOB (self), FALSE);
  g_return_val_if_fail (IMZALA_IS_CERTIFICATE (certificate), FALSE);

  hint = self->request ? imzala_request_get_requester_hint (self->request) : NULL;
  return hint != NULL && imzala_certificate_get_tckn (certificate) != NULL &&
         !imzala_certificate_matches_tckn_hint (certificate, hint);
}

/* "token", and "logged-in", which says whether the kept session is on
 * that card: after a login to one card, a certificate chosen on another
 * needs that card's PIN. */
static void
set_token_internal (ImzalaSigningJob *self,
                    ImzalaToken      *token)
{
  gboolean logged_in = imzala_signing_job_get_logged_in (self);

  if (!g_set_object (&self->token, token))
    return;
  g_object_notify_by_pspec (G_OBJECT (self), imzala_signing_job_properties[PROP_TOKEN]);
  if (imzala_signing_job_get_logged_in (self) != logged_in)
    g_object_notify_by_pspec (G_OBJECT (self), imzala_signing_job_properties[PROP_LOGGED_IN]);
}

/* "needs-login": no certificate chosen, and a card that shows its
 * certificates only after the PIN; that card is then "token", the one
 * imzala_signing_job_log_in() logs in to. It is the card the user chose
 * (set_token()), else the first such card when no certificate is shown at
 * all, or when none of those shown is the requester's (theirs is most
 * likely behind the PIN: a login request of Ayşe's does not default to
 * Mehmet's card in the other reader). A card logged in to that still shows
 * nothing (an empty one) is passed over for the next. */
static void
update_needs_login (ImzalaSigningJob *self)
{
  ImzalaToken *candidate = login_chosen (self);

  if (candidate == NULL && self->certificate == NULL &&
      (g_list_model_get_n_items (G_LIST_MODEL (self->certificates)) == 0 || requester_not_shown (self)))
    candidate = first_hiding (self, NULL);

  if (candidate != NULL)
    set_token_internal (self, candidate);
  if (self->needs_login != (candidate != NULL))
    {
      self->needs_login = candidate != NULL;
      g_object_notify_by_pspec (G_OBJECT (self), imzala_signing_job_properties[PROP_NEEDS_LOGIN]);
    }
}

static void
set_certificate_internal (ImzalaSigningJob  *self,
                          ImzalaCertificate *certificate)
{
  ImzalaToken *token = NULL;

  if (g_set_object (&self->certificate, certificate))
    g_object_notify_by_pspec (G_OBJECT (self), imzala_signing_job_properties[PROP_CERTIFICATE]);

  if (certificate != NULL && self->tokens != NULL)
    token = imzala_module_set_find_token (self->tokens, certificate);
  else if (self->tokens != NULL && self->tokens->len == 1)
    token = g_ptr_array_index (self->tokens, 0);

  set_token_internal (self, token);

  /* Issue 10: the status of the certificate is asked before the PIN. */
  imzala_signing_job_check_status (self);
}

/* Rebuilds "certificates" from "tokens" and keeps the selection when the
 * same certificate is still there. The requester's recommended certificates
 * (their T.C. kimlik no fits the request's masked one) come first, then the
 * other recommended ones, then the rest. */
void
imzala_signing_job_rebuild_certificates (ImzalaSigningJob *self)
{
  g_autoptr(GPtrArray) requesters = g_ptr_array_new ();
  g_autoptr(GPtrArray) recommended = g_ptr_array_new ();
  g_autoptr(GPtrArray) others = g_ptr_array_new ();
  const char *hint = self->request ? imzala_request_get_requester_hint (self->request) : NULL;
  g_autofree char *selected = NULL;
  ImzalaCertificate *keep = NULL;
  gboolean keep_login = login_chosen (self) != NULL;
  gboolean may_choose;

  /* The choice is kept; one made before the request came (FETCHING, where
   * the user chooses nothing) was made without knowing the requester and
   * is made again. */
  if (self->certificate != NULL && self->state != IMZALA_JOB_STATE_FETCHING)
    selected = g_strdup (imzala_certificate_get_fingerprint (self->certificate));

  for (guint i = 0; self->tokens != NULL && i < self->tokens->len; i++)
    {
      GPtrArray *certificates = imzala_token_get_certificates (g_ptr_array_index (self->tokens, i));

      for (guint j = 0; certificates != NULL && j < certificates->len; j++)
        {
          ImzalaCertificate *certificate = g_ptr_array_index (certificates, j);

          if (!is_candidate (certificate))
            continue;
          if (!imzala_certificate_is_recommended (certificate))
            g_ptr_array_add (others, certificate);
          else if (imzala_certificate_matches_tckn_hint (certificate, hint))
            g_ptr_array_add (requesters, certificate);
          else
            g_ptr_array_add (recommended, certificate);
          if (selected != NULL && keep == NULL &&
              g_strcmp0 (imzala_certificate_get_fingerprint (certificate), selected) == 0)
            keep = certificate;
        }
    }

  g_list_store_remove_all (self->certificates);
  g_list_store_splice (self->certificates, 0, 0, requesters->pdata, requesters->len);
  g_list_store_splice (self->certificates, requesters->len, 0, recommended->pdata, recommended->len);
  g_list_store_splice (self->certificates, requesters->len + recommended->len, 0,
                       others->pdata, others->len);

  /* The requester's first certificate is the one the portal waits for; the
   * only recommended certificate is the one the user almost always means;
   * otherwise the user chooses. An unblock chooses a card, not a
   * certificate: the user names it there (imzala_signing_job_set_token()).
   * Nothing is chosen before the request is known. */
  may_choose = keep == NULL && self->request != NULL;
  if (may_choose && requesters->len > 0 &&
      imzala_request_get_purpose (self->request) != IMZALA_PURPOSE_UNBLOCK)
    keep = g_ptr_array_index (requesters, 0);
  /* Never another person's only certificate for a request that signs:
   * the portal takes only the requester's signature, and theirs may be on
   * a card that shows it after the PIN (update_needs_login()) or on a card
   * not inserted yet. The user may still choose it. */
  else if (may_choose && requesters->len + recommended->len == 1 &&
           !(requesters->len == 0 && signs (self) &&
             imzala_signing_job_is_other_persons (self, g_ptr_array_index (recommended, 0))) &&
           !(requester_not_shown (self) && first_hiding (self, NULL) != NULL))
    keep = requesters->len > 0 ? g_ptr_array_index (requesters, 0) : g_ptr_array_index (recommended, 0);
  /* With a card chosen to log in to, no certificate is chosen for the user
   * and "token" stays that card (update_needs_login() takes its new
   * listing), which set_certificate_internal() would reset. */
  if (!keep_login)
    set_certificate_internal (self, keep);
  update_needs_login (self);

  /* Before the request (no requester to match, so every recommended
   * certificate is in "recommended"), the only recommended certificate is
   * the one the job will almost surely choose: its status is asked now,
   * while the request comes (imzala-signing-job-status.c). */
  if (self->request == NULL && self->state == IMZALA_JOB_STATE_FETCHING)
    imzala_signing_job_check_status_early (self, recommended->len == 1
                                                   ? g_ptr_array_index (recommended, 0) : NULL);
}

static void
set_tokens (ImzalaSigningJob *self,
            GPtrArray        *tokens)
{
  g_clear_pointer (&self->tokens, g_ptr_array_unref);
  self->tokens = tokens;
  g_object_notify_by_pspec (G_OBJECT (self), imzala_signing_job_properties[PROP_TOKENS]);
  imzala_signing_job_rebuild_certificates (self);
}

/* ---- Listing the cards ---- */

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

void
imzala_signing_job_set_tokens_loading (ImzalaSigningJob *self,
                                       gboolean          loading)
{
  if (self->tokens_loading == loading)
    return;
  self->tokens_loading = loading;
  g_object_notify_by_pspec (G_OBJECT (self), imzala_signing_job_properties[PROP_TOKENS_LOADING]);
}

void
imzala_signing_job_refresh_tokens_cb (GObject      *source,
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
        imzala_signing_job_fail (self, error);
      else
        {
          g_debug ("Refreshing the tokens failed: %s", error->message);
          g_error_free (error);
        }
      imzala_signing_job_set_tokens_loading (self, FALSE);
      return;
    }

  /* In CHOOSING, imzala_signing_job_token_list_changed_cb has usually taken
   * the new tokens already; in FETCHING they wait here for the request. */
  if (first && (self->state == IMZALA_JOB_STATE_FETCHING ||
                self->state == IMZALA_JOB_STATE_CHOOSING) &&
      !has_list_tokens (self))
    set_tokens (self, imzala_token_list_dup_tokens (self->token_list));
  imzala_signing_job_set_tokens_loading (self, FALSE);
}

/* The list is shared: a refresh that someone else asked for (a card went in
 * or out) reaches a shown request too, without a second enumeration. A
 * failed one leaves the certificates the user is looking at. */
void
imzala_signing_job_token_list_changed_cb (ImzalaSigningJob *self)
{
  if (self->state != IMZALA_JOB_STATE_CHOOSING ||
      imzala_token_list_get_error (self->token_list) != NULL)
    return;
  set_tokens (self, imzala_token_list_dup_tokens (self->token_list));
}

void
imzala_signing_job_refresh_tokens (ImzalaSigningJob *self)
{
  g_return_if_fail (IMZALA_IS_SIGNING_JOB (self));

  if (self->state != IMZALA_JOB_STATE_CHOOSING || self->refreshing)
    return;
  self->refreshing = TRUE;
  imzala_token_list_refresh_async (self->token_list, self->cancellable,
                                   imzala_signing_job_refresh_tokens_cb, g_object_ref (self));
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
  update_needs_login (self);
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
      g_object_notify_by_pspec (G_OBJECT (self), imzala_signing_job_properties[PROP_CERTIFICATE]);
      imzala_signing_job_check_status (self);
    }
  set_token_internal (self, token);
  /* A card that shows its certificates only after the PIN: the next PIN
   * logs in to it ("needs-login"). An unblock keeps the card named. */
  if (signs (self))
    update_needs_login (self);
  return TRUE;
}

ImzalaToken *
imzala_signing_job_get_hidden_token (ImzalaSigningJob *self)
{
  g_return_val_if_fail (IMZALA_IS_SIGNING_JOB (self), NULL);

  if (self->state != IMZALA_JOB_STATE_CHOOSING || !signs (self))
    return NULL;
  return first_hiding (self, self->needs_login ? self->token : NULL);
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
      else if (requester_not_shown (self))
        {
          g_autofree char *requester = imzala_request_dup_requester (self->request);

          g_set_error (error, IMZALA_ERROR, IMZALA_ERROR_NO_CERTIFICATE,
                       /* Translators: the requester, "AYŞE YILMAZ (123******50)". */
                       _("This request is for %s, and none of the certificates on the inserted "
                         "cards is theirs. Insert that person's card."),
                       requester);
        }
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
