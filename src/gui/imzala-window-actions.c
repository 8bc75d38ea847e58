#define G_LOG_DOMAIN "imzala-gui"

#include "config.h"

#include <glib/gi18n.h>

#include "imzala-error.h"
#include "imzala-format.h"
#include "imzala-text.h"
#include "imzala-window-private.h"

/* The pages reached from the menu: Escape returns from them to where the
 * user was. */
gboolean
imzala_window_is_tool_page (const char *name)
{
  return g_strcmp0 (name, "tokens") == 0 ||
         g_strcmp0 (name, "pin-change") == 0 ||
         g_strcmp0 (name, "file-sign") == 0 ||
         g_strcmp0 (name, "unblock") == 0 ||
         g_strcmp0 (name, "doctor") == 0 ||
         g_strcmp0 (name, "verify") == 0;
}

static void
next_activated (GSimpleAction *action,
                GVariant      *parameter,
                gpointer       user_data)
{
  ImzalaWindow *self = user_data;
  g_autofree char *url = imzala_code_page_dup_portal_url (self->code_page);
  const char *code = imzala_code_page_get_code (self->code_page);

  if (url == NULL)
    {
      imzala_code_page_set_error (self->code_page, _("Enter the portal’s address."));
      return;
    }
  if (code == NULL)
    return;

  imzala_window_request_job (self, url, code);
}

static void
trust_portal_activated (GSimpleAction *action,
                        GVariant      *parameter,
                        gpointer       user_data)
{
  ImzalaWindow *self = user_data;
  g_autofree char *url = g_steal_pointer (&self->pending_url);
  g_autofree char *code = g_steal_pointer (&self->pending_code);
  g_autofree char *origin = imzala_settings_origin_for_url (url, NULL);

  if (origin == NULL)
    {
      imzala_window_show_code_page (self);
      return;
    }

  imzala_settings_allow (self->settings, origin,
                         self->portal_confirm_page != NULL &&
                         imzala_portal_confirm_page_get_remember (self->portal_confirm_page));

  if (code == NULL)
    imzala_window_show_code_page (self);
  else
    imzala_window_start_job (self, url, code);
}

static void
sign_activated (GSimpleAction *action,
                GVariant      *parameter,
                gpointer       user_data)
{
  ImzalaWindow *self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(ImzalaSecret) pin = NULL;

  if (self->job == NULL || imzala_signing_job_get_state (self->job) != IMZALA_JOB_STATE_CHOOSING)
    return;

  /* A card that shows its certificates only after the PIN: this PIN logs
   * in and lists them; the next İMZALA signs in that session. */
  if (imzala_signing_job_get_needs_login (self->job))
    {
      if (!imzala_sign_page_get_ready (self->sign_page))
        {
          imzala_sign_page_set_error (self->sign_page, _("Type your PIN first."));
          imzala_sign_page_focus_pin (self->sign_page);
          return;
        }
      pin = imzala_sign_page_take_pin (self->sign_page);
      imzala_signing_job_log_in (self->job, pin);
      return;
    }

  if (!imzala_signing_job_can_sign (self->job, &error))
    {
      imzala_sign_page_set_error (self->sign_page, error ? error->message : NULL);
      return;
    }
  if (!imzala_sign_page_get_ready (self->sign_page))
    {
      imzala_sign_page_set_error (self->sign_page, _("Type your PIN first."));
      imzala_sign_page_focus_pin (self->sign_page);
      return;
    }

  pin = imzala_sign_page_take_pin (self->sign_page);
  imzala_signing_job_sign (self->job, pin);
}

static void
cancel_activated (GSimpleAction *action,
                  GVariant      *parameter,
                  gpointer       user_data)
{
  ImzalaWindow *self = user_data;

  if (self->job != NULL)
    imzala_signing_job_cancel (self->job);
}

static void
retry_activated (GSimpleAction *action,
                 GVariant      *parameter,
                 gpointer       user_data)
{
  ImzalaWindow *self = user_data;
  g_autofree char *url = g_strdup (self->job_url);
  g_autofree char *code = g_strdup (self->job_code);

  /* Most failures end the job; trying again is a new job with the same code,
   * which the portal still accepts while it has not expired. */
  if (url == NULL || code == NULL)
    {
      imzala_window_show_code_page (self);
      return;
    }
  imzala_window_start_job (self, url, code);
}

static void
new_code_activated (GSimpleAction *action,
                    GVariant      *parameter,
                    gpointer       user_data)
{
  ImzalaWindow *self = user_data;

  imzala_window_clear_job (self);
  imzala_code_page_set_code (self->code_page, NULL);
  imzala_code_page_set_error (self->code_page, NULL);
  imzala_window_portal_url_changed (self);
  imzala_window_show_code_page (self);
}

static void
back_activated (GSimpleAction *action,
                GVariant      *parameter,
                gpointer       user_data)
{
  ImzalaWindow *self = user_data;
  const char *page = gtk_stack_get_visible_child_name (self->stack);
  ImzalaJobState state = self->job ? imzala_signing_job_get_state (self->job) : IMZALA_JOB_STATE_IDLE;

  /* Escape first stops what is running, then goes back a step. */
  if (state == IMZALA_JOB_STATE_FETCHING || state == IMZALA_JOB_STATE_SIGNING ||
      state == IMZALA_JOB_STATE_SUBMITTING || state == IMZALA_JOB_STATE_LOGGING_IN)
    {
      imzala_signing_job_cancel (self->job);
      return;
    }

  if (imzala_window_is_tool_page (page) && self->return_page != NULL &&
      !(g_str_equal (page, "unblock") && self->unblock_page != NULL
        && imzala_unblock_page_get_job (self->unblock_page) != NULL))
    {
      g_autofree char *target = g_steal_pointer (&self->return_page);

      /* The focus goes where that page puts it when it opens: the keyboard
       * would otherwise land on the first field of the page (the portal's
       * address on the code page) and type over it. */
      if (g_str_equal (target, "code"))
        imzala_window_show_code_page (self);
      else
        {
          imzala_window_show_page (self, target);
          if (g_str_equal (target, "sign"))
            imzala_sign_page_focus_pin (self->sign_page);
        }
      return;
    }

  if (g_str_equal (page, "code"))
    return;

  g_clear_pointer (&self->pending_url, g_free);
  g_clear_pointer (&self->pending_code, g_free);
  imzala_window_clear_job (self);
  imzala_window_portal_url_changed (self);
  imzala_window_show_code_page (self);
}

static void
show_tool_page (ImzalaWindow *self,
                const char   *name)
{
  const char *current = gtk_stack_get_visible_child_name (self->stack);

  if (!imzala_window_is_tool_page (current))
    {
      g_free (self->return_page);
      self->return_page = g_strdup (current);
    }
  /* Made before the refresh, a page first shown has the last listing. */
  imzala_window_ensure_page (self, name);
  imzala_window_refresh_tokens (self);
  imzala_window_show_page (self, name);
}

static void
show_tokens_activated (GSimpleAction *action,
                       GVariant      *parameter,
                       gpointer       user_data)
{
  show_tool_page (user_data, "tokens");
}

static void
show_pin_change_activated (GSimpleAction *action,
                           GVariant      *parameter,
                           gpointer       user_data)
{
  ImzalaWindow *self = user_data;

  /* Shown first, so that the reset puts the focus in the form. */
  show_tool_page (self, "pin-change");
  imzala_pin_change_page_reset (self->pin_change_page);
}

static void
show_file_sign_activated (GSimpleAction *action,
                          GVariant      *parameter,
                          gpointer       user_data)
{
  ImzalaWindow *self = user_data;

  show_tool_page (self, "file-sign");
  imzala_file_sign_page_reset (self->file_sign_page);
}

static void
show_unblock_activated (GSimpleAction *action,
                        GVariant      *parameter,
                        gpointer       user_data)
{
  ImzalaWindow *self = user_data;

  /* An unblock job that is not choosing any more is over; the page goes back
   * to the PUK way. */
  imzala_window_ensure_page (self, "unblock");
  if (self->job != NULL && imzala_signing_job_get_state (self->job) != IMZALA_JOB_STATE_CHOOSING)
    imzala_unblock_page_set_job (self->unblock_page, NULL);
  imzala_unblock_page_reset (self->unblock_page);
  show_tool_page (self, "unblock");
}

static void
show_doctor_activated (GSimpleAction *action,
                       GVariant      *parameter,
                       gpointer       user_data)
{
  ImzalaWindow *self = user_data;
  const char *current = gtk_stack_get_visible_child_name (self->stack);

  /* Like show_tool_page(), but the report refreshes the token list itself
   * (one enumeration, not two). */
  if (!imzala_window_is_tool_page (current))
    {
      g_free (self->return_page);
      self->return_page = g_strdup (current);
    }
  imzala_window_show_page (self, "doctor");
  imzala_doctor_page_refresh (self->doctor_page);
}

static void
show_verify_activated (GSimpleAction *action,
                       GVariant      *parameter,
                       gpointer       user_data)
{
  show_tool_page (user_data, "verify");
}

static void
refresh_tokens_activated (GSimpleAction *action,
                          GVariant      *parameter,
                          gpointer       user_data)
{
  /* One refresh of the shared list: a shown request follows it too. */
  imzala_window_refresh_tokens (user_data);
}

/* A toast of @text as it is, on one line: a toast's title is always
 * markup in libadwaita 1.2 (no use-markup before 1.4), and a file's name
 * or an error's message is no markup; a line feed or a byte that is no
 * UTF-8 in a file's name is shown as its escape, as everywhere else. */
static void
add_toast_text (ImzalaWindow *self,
                const char   *text)
{
  g_autofree char *shown = imzala_text_escape_unshown (text);
  g_autofree char *markup = g_markup_escape_text (shown, -1);

  adw_toast_overlay_add_toast (self->toast_overlay, adw_toast_new (markup));
}

/* Writes the signatures and says so in a toast; the save dialog's answer
 * comes here, and tests call it with a path of their own. */
GStrv
imzala_window_save_signatures (ImzalaWindow  *self,
                               const char    *path,
                               GError       **error)
{
  g_auto(GStrv) written = NULL;
  g_autoptr(GError) local_error = NULL;
  g_autofree char *text = NULL;
  g_autofree char *name = NULL;

  g_return_val_if_fail (IMZALA_IS_WINDOW (self), NULL);
  g_return_val_if_fail (path != NULL, NULL);

  if (self->job == NULL || imzala_signing_job_get_signatures (self->job) == NULL)
    {
      g_set_error_literal (error, IMZALA_ERROR, IMZALA_ERROR_FAILED,
                           _("There is no signature to save."));
      return NULL;
    }

  /* A few kilobytes to a local file: quick enough for the main thread. */
  written = imzala_signing_job_save_signatures (self->job, path, &local_error);
  if (written == NULL)
    {
      add_toast_text (self, local_error->message);
      g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }

  name = g_path_get_basename (written[0]);
  /* Translators: %s is a file name. */
  text = g_strdup_printf (_("The signature was saved as %s."), name);
  add_toast_text (self, text);
  return g_steal_pointer (&written);
}

static void
save_response_cb (ImzalaWindow         *self,
                  int                   response,
                  GtkFileChooserNative *chooser)
{
  g_autoptr(GFile) file = NULL;
  g_autofree char *path = NULL;
  g_auto(GStrv) written = NULL;

  if (response == GTK_RESPONSE_ACCEPT)
    {
      file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (chooser));
      path = file ? g_file_get_path (file) : NULL;
    }
  if (path != NULL)
    written = imzala_window_save_signatures (self, path, NULL);

  g_object_unref (chooser);
}

static void
save_signature_activated (GSimpleAction *action,
                          GVariant      *parameter,
                          gpointer       user_data)
{
  ImzalaWindow *self = user_data;
  GPtrArray *signatures;
  ImzalaRequest *request;
  GtkFileChooserNative *chooser;
  gboolean several;

  if (self->job == NULL || (signatures = imzala_signing_job_get_signatures (self->job)) == NULL)
    return;

  several = signatures->len > 1;
  request = imzala_signing_job_get_request (self->job);
  chooser = gtk_file_chooser_native_new (several ? _("Save the Signatures in a Folder") : _("Save the Signature"),
                                         GTK_WINDOW (self),
                                         several ? GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER
                                                 : GTK_FILE_CHOOSER_ACTION_SAVE,
                                         _("_Save"), _("_Cancel"));
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (chooser), TRUE);
  if (!several)
    {
      g_autoptr(GtkFileFilter) filter = gtk_file_filter_new ();
      g_autoptr(GDateTime) now = g_date_time_new_now_local ();
      /* What was signed and when, never the code: a person finds
       * "E-imzali-Giris-2026-11-26.p7s" again in a folder. */
      g_autofree char *name = imzala_format_signature_file_name (request ? imzala_request_get_purpose (request)
                                                                         : IMZALA_PURPOSE_LOGIN,
                                                                 now);

      gtk_file_filter_set_name (filter, _("CMS signatures (.p7s)"));
      gtk_file_filter_add_pattern (filter, "*.p7s");
      gtk_file_filter_add_mime_type (filter, "application/pkcs7-signature");
      gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (chooser), filter);
      gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (chooser), name);
    }

  g_signal_connect_object (chooser, "response", G_CALLBACK (save_response_cb), self, G_CONNECT_SWAPPED);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (chooser));
}

static const GActionEntry win_actions[] = {
  { "next", next_activated, NULL, NULL, NULL },
  { "trust-portal", trust_portal_activated, NULL, NULL, NULL },
  { "sign", sign_activated, NULL, NULL, NULL },
  { "cancel", cancel_activated, NULL, NULL, NULL },
  { "retry", retry_activated, NULL, NULL, NULL },
  { "new-code", new_code_activated, NULL, NULL, NULL },
  { "back", back_activated, NULL, NULL, NULL },
  { "save-signature", save_signature_activated, NULL, NULL, NULL },
  { "show-tokens", show_tokens_activated, NULL, NULL, NULL },
  { "show-pin-change", show_pin_change_activated, NULL, NULL, NULL },
  { "show-file-sign", show_file_sign_activated, NULL, NULL, NULL },
  { "show-unblock", show_unblock_activated, NULL, NULL, NULL },
  { "show-doctor", show_doctor_activated, NULL, NULL, NULL },
  { "refresh-tokens", refresh_tokens_activated, NULL, NULL, NULL },
  { "show-verify", show_verify_activated, NULL, NULL, NULL },
};

static void
set_action_enabled (ImzalaWindow *self,
                    const char   *name,
                    gboolean      enabled)
{
  GAction *action = g_action_map_lookup_action (G_ACTION_MAP (self), name);

  g_simple_action_set_enabled (G_SIMPLE_ACTION (action), enabled);
}

void
imzala_window_update_actions (ImzalaWindow *self)
{
  ImzalaJobState state = self->job ? imzala_signing_job_get_state (self->job) : IMZALA_JOB_STATE_IDLE;
  gboolean busy = state == IMZALA_JOB_STATE_FETCHING || state == IMZALA_JOB_STATE_SIGNING ||
                  state == IMZALA_JOB_STATE_SUBMITTING || state == IMZALA_JOB_STATE_UNBLOCKING ||
                  state == IMZALA_JOB_STATE_LOGGING_IN;

  set_action_enabled (self, "next", imzala_code_page_get_valid (self->code_page) && !busy);
  set_action_enabled (self, "sign", state == IMZALA_JOB_STATE_CHOOSING &&
                                    self->sign_page != NULL &&
                                    imzala_sign_page_get_ready (self->sign_page) &&
                                    (imzala_signing_job_get_certificate (self->job) != NULL ||
                                     imzala_signing_job_get_needs_login (self->job)));
  set_action_enabled (self, "cancel", busy);
  set_action_enabled (self, "save-signature", state == IMZALA_JOB_STATE_DONE &&
                                              imzala_signing_job_get_signatures (self->job) != NULL);
  set_action_enabled (self, "refresh-tokens", self->token_list != NULL);
}

void
imzala_window_actions_init (ImzalaWindow *self)
{
  g_action_map_add_action_entries (G_ACTION_MAP (self), win_actions, G_N_ELEMENTS (win_actions), self);
}
