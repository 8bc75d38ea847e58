#define G_LOG_DOMAIN "imzala-gui"

#include "config.h"

#include <glib/gi18n.h>

#include "imzala-error.h"
#include "imzala-format.h"
#include "imzala-text.h"
#include "imzala-verify-page.h"

struct _ImzalaVerifyPage
{
  AdwBin              parent_instance;

  AdwActionRow       *signature_row;
  AdwActionRow       *content_row;
  GtkLabel           *status_label;
  GtkLabel           *reason_label;
  GtkLabel           *report_label;
  GtkWidget          *progress_box;
  GtkProgressBar     *progress_bar;
  AdwPreferencesGroup *authorities_group;
  GPtrArray          *authority_rows;  /* the rows shown in authorities_group */
  GCancellable       *authority_read;  /* the chosen authority's file being read, else NULL */

  ImzalaTrust        *trust;
  gboolean            trust_is_default; /* made from the folders: made again after a change */
  GFile              *signature;
  GFile              *content;
  GCancellable       *cancellable;      /* the verification under way, else NULL */
  gboolean            cancelled;        /* the last one was cancelled by the user */
  ImzalaVerification *verification;
  GError             *error;
  char               *report;
};

G_DEFINE_FINAL_TYPE (ImzalaVerifyPage, imzala_verify_page, ADW_TYPE_BIN)

static void run (ImzalaVerifyPage *self);

gboolean
imzala_verify_page_is_signature_name (const char *name)
{
  g_autofree char *lower = name != NULL ? g_ascii_strdown (name, -1) : NULL;

  return lower != NULL && (g_str_has_suffix (lower, ".p7s") || g_str_has_suffix (lower, ".imz")
                           || g_str_has_suffix (lower, ".p7m") || g_str_has_suffix (lower, ".pem"));
}

static void
add_trust_folder (ImzalaTrust *trust, const char *folder)
{
  g_autoptr(GError) error = NULL;

  if (folder == NULL || *folder == '\0' || !g_file_test (folder, G_FILE_TEST_IS_DIR))
    return;
  if (!imzala_trust_add_path (trust, folder, &error))
    g_debug ("Trust folder %s: %s", folder, error->message);
}

ImzalaTrust *
imzala_verify_page_default_trust (void)
{
  ImzalaTrust *trust = imzala_trust_new ();
  const char *dirs = g_getenv ("IMZALA_TRUST_DIRS");
  g_autofree char *user = imzala_trust_get_user_dir ();

  if (dirs != NULL)
    {
      g_auto(GStrv) folders = g_strsplit (dirs, G_SEARCHPATH_SEPARATOR_S, -1);

      for (guint i = 0; folders[i] != NULL; i++)
        add_trust_folder (trust, folders[i]);
    }
  add_trust_folder (trust, user);
  add_trust_folder (trust, "/etc/imzala/trust");
  return trust;
}

static void
set_row_file (AdwActionRow *row, GFile *file, const char *none)
{
  g_autofree char *name = file != NULL ? g_file_get_basename (file) : NULL;

  adw_action_row_set_subtitle (row, name != NULL ? name : none);
}

static void
show_files (ImzalaVerifyPage *self)
{
  set_row_file (self->signature_row, self->signature, _("None chosen"));
  set_row_file (self->content_row, self->content, _("None chosen"));
}

static const char *
check_symbol (ImzalaCheckResult result)
{
  switch (result)
    {
    case IMZALA_CHECK_PASSED:
      return "✓";
    case IMZALA_CHECK_FAILED:
      return "✗";
    case IMZALA_CHECK_INDETERMINATE:
      return "?";
    case IMZALA_CHECK_SKIPPED:
    default:
      return "–";
    }
}

static const char *
outcome_word (ImzalaValidation status)
{
  switch (status)
    {
    case IMZALA_VALIDATION_VALID:
      return _("valid");
    case IMZALA_VALIDATION_INVALID:
      return _("not valid");
    case IMZALA_VALIDATION_INDETERMINATE:
    default:
      return _("could not be validated");
    }
}

/* The names, the reason and the checks' messages come from the signature
 * (a message may quote a name): each is shown as one line, its line feeds
 * and other characters not shown as themselves written as escapes
 * (imzala_text_escape_unshown()), so that a holder's name cannot add a
 * line of the report, such as a T.C. kimlik no the certificate does not
 * hold. */
static void
append_signer (GString *text, ImzalaSignerReport *report, const char *heading)
{
  ImzalaCertificate *certificate = report->certificate;

  g_string_append_printf (text, "%s: %s\n", heading, outcome_word (report->status));
  if (certificate != NULL)
    {
      const char *tckn = imzala_certificate_get_tckn (certificate);
      g_autofree char *holder = imzala_text_escape_unshown (imzala_certificate_get_holder_name (certificate));
      g_autofree char *issuer = imzala_text_escape_unshown (imzala_certificate_get_issuer_name (certificate));

      g_string_append_printf (text, _("Signer: %s\n"), holder);
      if (tckn != NULL)
        g_string_append_printf (text, _("T.C. kimlik no: %s\n"), tckn);
      g_string_append_printf (text, _("Issued by: %s\n"), issuer);
    }
  if (report->signing_time != NULL)
    {
      g_autofree char *when = imzala_format_time (report->signing_time);

      g_string_append_printf (text, _("Signing time (as the signer states it): %s\n"), when);
    }
  if (report->timestamp_time != NULL)
    {
      g_autofree char *when = imzala_format_time (report->timestamp_time);

      g_string_append_printf (text, _("Time-stamp (proof of the time): %s\n"), when);
    }
  g_string_append_printf (text, _("Level: %s\n"), imzala_signature_level_to_string (report->level));
  g_string_append_printf (text, "%s\n", report->qualified
                          ? _("Qualified electronic certificate (NES): yes")
                          : _("Qualified electronic certificate (NES): no"));
  for (guint i = 0; i < report->checks->len; i++)
    {
      ImzalaCheck *check = g_ptr_array_index (report->checks, i);
      g_autofree char *message = imzala_text_escape_unshown (check->message);

      g_string_append_printf (text, "%s %s\n", check_symbol (check->result), message);
    }
}

static void
show_result (ImzalaVerifyPage *self)
{
  g_autoptr(GString) text = g_string_new (NULL);
  ImzalaVerification *verification = self->verification;
  g_autofree char *reason = NULL;

  if (self->cancelled)
    {
      gtk_label_set_text (self->status_label, _("Verification Cancelled"));
      gtk_label_set_text (self->reason_label, _("The signature was not checked. Open it again to check it."));
      g_free (self->report);
      self->report = g_strdup_printf ("%s\n%s", gtk_label_get_text (self->status_label),
                                      gtk_label_get_text (self->reason_label));
      gtk_label_set_text (self->report_label, "");
      return;
    }
  if (self->error != NULL)
    {
      gtk_label_set_text (self->status_label, _("The Signature Could Not Be Checked"));
      g_free (self->report);
      /* The core's message, which may name the file as it is named: one
       * line, here and in the copied report. */
      self->report = imzala_text_escape_unshown (self->error->message);
      gtk_label_set_text (self->reason_label, self->report);
      gtk_label_set_text (self->report_label, "");
      return;
    }
  if (verification == NULL)
    {
      gtk_label_set_text (self->status_label, "");
      gtk_label_set_text (self->reason_label, "");
      gtk_label_set_text (self->report_label, "");
      return;
    }

  switch (verification->status)
    {
    case IMZALA_VALIDATION_VALID:
      gtk_label_set_text (self->status_label, _("The Signature Is Valid"));
      break;
    case IMZALA_VALIDATION_INVALID:
      gtk_label_set_text (self->status_label, _("The Signature Is Not Valid"));
      break;
    case IMZALA_VALIDATION_INDETERMINATE:
    default:
      gtk_label_set_text (self->status_label, _("The Signature Could Not Be Validated"));
      break;
    }
  reason = imzala_text_escape_unshown (verification->reason);
  gtk_label_set_text (self->reason_label, reason);

  for (guint i = 0; i < verification->signers->len; i++)
    {
      ImzalaSignerReport *report = g_ptr_array_index (verification->signers, i);
      g_autofree char *heading = g_strdup_printf (_("Signer %u"), i + 1);

      if (i > 0)
        g_string_append_c (text, '\n');
      append_signer (text, report, heading);
      for (guint j = 0; report->counter_signers != NULL && j < report->counter_signers->len; j++)
        {
          g_autofree char *counter_heading = g_strdup_printf (_("Counter-signature %u"), j + 1);

          g_string_append_c (text, '\n');
          append_signer (text, g_ptr_array_index (report->counter_signers, j), counter_heading);
        }
    }
  g_free (self->report);
  self->report = g_strdup_printf ("%s\n%s\n\n%s", gtk_label_get_text (self->status_label),
                                  reason, text->str);
  gtk_label_set_text (self->report_label, text->str);
}

/* While it verifies, the bar shows how much of the content was hashed
 * (the verifier reports at most once per percent) beside a Cancel
 * button. */
static void
set_busy (ImzalaVerifyPage *self, gboolean busy)
{
  gtk_widget_set_visible (self->progress_box, busy);
  gtk_widget_set_visible (GTK_WIDGET (self->progress_bar), busy);
  if (busy)
    {
      gtk_progress_bar_set_fraction (self->progress_bar, 0.0);
      gtk_progress_bar_set_text (self->progress_bar, _("Checking the signature…"));
    }
}

/* One verification: its callbacks are only for the page while it is the
 * one under way (a newer one, or a disposed page, drops them). */
typedef struct
{
  ImzalaVerifyPage *self;
  GCancellable     *cancellable;
} Run;

static Run *
run_new (ImzalaVerifyPage *self)
{
  Run *run = g_new0 (Run, 1);

  run->self = g_object_ref (self);
  run->cancellable = g_object_ref (self->cancellable);
  return run;
}

static void
run_free (Run *run)
{
  g_clear_object (&run->self);
  g_clear_object (&run->cancellable);
  g_free (run);
}

static gboolean
run_is_current (Run *run)
{
  return run->self->cancellable == run->cancellable;
}

static void
progress_cb (guint64 done, guint64 total, gpointer user_data)
{
  Run *run = user_data;
  ImzalaVerifyPage *self = run->self;
  g_autofree char *text = NULL;
  guint percent;

  if (!run_is_current (run) || g_cancellable_is_cancelled (run->cancellable))
    return;
  if (total == 0)
    {
      /* How much there is was not known: the bar only moves. */
      gtk_progress_bar_pulse (self->progress_bar);
      return;
    }
  percent = (guint) MIN (done * 100 / total, 100);
  /* TRANSLATORS: %u is a percentage; Turkish puts the sign first ("%%40"). */
  text = g_strdup_printf (_("Checking the signature… %u %%"), percent);
  gtk_progress_bar_set_fraction (self->progress_bar, (double) MIN (done, total) / (double) total);
  gtk_progress_bar_set_text (self->progress_bar, text);
}

static void
verified_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Run *run = user_data;
  ImzalaVerifyPage *self = run->self;
  GError *error = NULL;
  ImzalaVerification *verification = imzala_verifier_verify_file_finish (result, &error);

  if (!run_is_current (run))
    {
      g_clear_pointer (&verification, imzala_verification_free);
      g_clear_error (&error);
      run_free (run);
      return;
    }
  g_clear_object (&self->cancellable);
  g_clear_error (&self->error);
  g_clear_pointer (&self->verification, imzala_verification_free);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      g_clear_pointer (&verification, imzala_verification_free);
      g_clear_error (&error);
      self->cancelled = TRUE;
    }
  else if (verification == NULL)
    self->error = error;
  else
    self->verification = verification;
  set_busy (self, FALSE);
  show_result (self);
  run_free (run);
}

/* Verifies, in a thread and as streams (imzala_verifier_verify_file_async()):
 * the content is hashed in chunks and never held, whatever its size. A
 * newer request cancels an older one. */
static void
run (ImzalaVerifyPage *self)
{
  Run *current;

  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  self->cancelled = FALSE;
  g_clear_pointer (&self->verification, imzala_verification_free);
  g_clear_error (&self->error);
  g_clear_pointer (&self->report, g_free);
  set_busy (self, FALSE);
  show_files (self);
  show_result (self);
  if (self->signature == NULL)
    return;
  if (self->trust == NULL)
    {
      self->trust = imzala_verify_page_default_trust ();
      self->trust_is_default = TRUE;
    }

  self->cancellable = g_cancellable_new ();
  set_busy (self, TRUE);
  gtk_label_set_text (self->status_label, _("Checking the signature…"));
  current = run_new (self);
  imzala_verifier_verify_file_async (self->signature, self->content, self->trust,
                                     progress_cb, run_new (self), (GDestroyNotify) run_free,
                                     self->cancellable, verified_cb, current);
}

static void
cancel_activated (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  ImzalaVerifyPage *self = IMZALA_VERIFY_PAGE (widget);

  /* The verification ends with G_IO_ERROR_CANCELLED (verified_cb). */
  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
}

void
imzala_verify_page_open (ImzalaVerifyPage *self, GFile *signature, GFile *content)
{
  g_return_if_fail (IMZALA_IS_VERIFY_PAGE (self));

  g_set_object (&self->signature, signature);
  g_set_object (&self->content, content);
  run (self);
}

void
imzala_verify_page_set_content (ImzalaVerifyPage *self, GFile *content)
{
  g_return_if_fail (IMZALA_IS_VERIFY_PAGE (self));

  g_set_object (&self->content, content);
  run (self);
}

void
imzala_verify_page_set_trust (ImzalaVerifyPage *self, ImzalaTrust *trust)
{
  g_return_if_fail (IMZALA_IS_VERIFY_PAGE (self));

  g_set_object (&self->trust, trust);
  self->trust_is_default = FALSE;
}

ImzalaVerification *
imzala_verify_page_get_verification (ImzalaVerifyPage *self)
{
  g_return_val_if_fail (IMZALA_IS_VERIFY_PAGE (self), NULL);
  return self->verification;
}

const GError *
imzala_verify_page_get_error (ImzalaVerifyPage *self)
{
  g_return_val_if_fail (IMZALA_IS_VERIFY_PAGE (self), NULL);
  return self->error;
}

gboolean
imzala_verify_page_get_busy (ImzalaVerifyPage *self)
{
  g_return_val_if_fail (IMZALA_IS_VERIFY_PAGE (self), FALSE);
  return self->cancellable != NULL;
}

const char *
imzala_verify_page_get_report (ImzalaVerifyPage *self)
{
  g_return_val_if_fail (IMZALA_IS_VERIFY_PAGE (self), NULL);
  return self->report;
}

/* ---- Choosing and dropping files ---- */

static void
chosen_cb (ImzalaVerifyPage *self, int response, GtkFileChooserNative *chooser)
{
  g_autoptr(GFile) file = NULL;
  gboolean for_signature = GPOINTER_TO_INT (g_object_get_data (G_OBJECT (chooser), "for-signature"));

  if (response == GTK_RESPONSE_ACCEPT)
    file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (chooser));
  g_object_unref (chooser);
  if (file == NULL)
    return;
  if (for_signature)
    imzala_verify_page_open (self, file, self->content);
  else
    imzala_verify_page_set_content (self, file);
}

static void
choose_file (ImzalaVerifyPage *self, gboolean for_signature)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  GtkFileChooserNative *chooser;

  chooser = gtk_file_chooser_native_new (for_signature ? _("Open a Signature") : _("Choose the Signed File"),
                                         GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL,
                                         GTK_FILE_CHOOSER_ACTION_OPEN, _("_Open"), _("_Cancel"));
  if (for_signature)
    {
      g_autoptr(GtkFileFilter) filter = gtk_file_filter_new ();

      gtk_file_filter_set_name (filter, _("Signatures (.p7s, .imz)"));
      gtk_file_filter_add_mime_type (filter, "application/pkcs7-signature");
      gtk_file_filter_add_mime_type (filter, "application/x-imzala-signature");
      gtk_file_filter_add_suffix (filter, "p7s");
      gtk_file_filter_add_suffix (filter, "imz");
      gtk_file_filter_add_suffix (filter, "p7m");
      gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (chooser), filter);
    }
  g_object_set_data (G_OBJECT (chooser), "for-signature", GINT_TO_POINTER (for_signature));
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (chooser), TRUE);
  g_signal_connect_object (chooser, "response", G_CALLBACK (chosen_cb), self, G_CONNECT_SWAPPED);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (chooser));
}

static void
open_signature_activated (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  choose_file (IMZALA_VERIFY_PAGE (widget), TRUE);
}

static void
open_content_activated (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  choose_file (IMZALA_VERIFY_PAGE (widget), FALSE);
}

/* Dropped files: one with a signature's name is the signature, any other
 * the signed file. */
static gboolean
drop_cb (GtkDropTarget *target, const GValue *value, double x, double y, ImzalaVerifyPage *self)
{
  GSList *files;
  GFile *signature = NULL;
  GFile *content = NULL;

  if (!G_VALUE_HOLDS (value, GDK_TYPE_FILE_LIST))
    return FALSE;
  files = gdk_file_list_get_files (g_value_get_boxed (value));
  for (GSList *l = files; l != NULL; l = l->next)
    {
      g_autofree char *name = g_file_get_basename (l->data);

      if (signature == NULL && imzala_verify_page_is_signature_name (name))
        signature = l->data;
      else if (content == NULL)
        content = l->data;
    }
  if (signature != NULL)
    imzala_verify_page_open (self, signature, content != NULL ? content : self->content);
  else if (content != NULL)
    imzala_verify_page_set_content (self, content);
  g_slist_free (files);
  return signature != NULL || content != NULL;
}

/* ---- Certification authorities the user adds ----
 *
 * The core reads the file, fingerprints the certificate and copies it
 * (imzala_trust_read_authority() and the functions after it); the page
 * only asks the user and shows the list. */

/* "AB:CD:…" for the eye, from the lower-case hex fingerprint. */
static char *
format_fingerprint (const char *hex)
{
  GString *text = g_string_new (NULL);

  for (gsize i = 0; hex[i] != '\0'; i++)
    {
      if (i > 0 && i % 2 == 0)
        g_string_append_c (text, ':');
      g_string_append_c (text, g_ascii_toupper (hex[i]));
    }
  return g_string_free (text, FALSE);
}

static void
show_authorities (ImzalaVerifyPage *self)
{
  g_autofree char *dir = imzala_trust_get_user_dir ();
  g_autoptr(GPtrArray) authorities = imzala_trust_list_authorities (dir);

  for (guint i = 0; i < self->authority_rows->len; i++)
    adw_preferences_group_remove (self->authorities_group, g_ptr_array_index (self->authority_rows, i));
  g_ptr_array_set_size (self->authority_rows, 0);

  for (guint i = 0; i < authorities->len; i++)
    {
      ImzalaCertificate *authority = g_ptr_array_index (authorities, i);
      const char *fingerprint = imzala_certificate_get_fingerprint (authority);
      g_autofree char *shown = format_fingerprint (fingerprint);
      g_autofree char *subtitle = g_strdup_printf (_("SHA-256: %s"), shown);
      GtkWidget *row = adw_action_row_new ();
      GtkWidget *remove = gtk_button_new_from_icon_name ("user-trash-symbolic");
      g_autofree char *name = imzala_text_escape_unshown (imzala_certificate_get_holder_name (authority));

      adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), name);
      adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
      gtk_widget_set_valign (remove, GTK_ALIGN_CENTER);
      gtk_widget_add_css_class (remove, "flat");
      gtk_widget_set_tooltip_text (remove, _("Remove"));
      gtk_accessible_update_property (GTK_ACCESSIBLE (remove), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                      _("Remove"), -1);
      gtk_actionable_set_action_name (GTK_ACTIONABLE (remove), "verify.remove-authority");
      gtk_actionable_set_action_target (GTK_ACTIONABLE (remove), "s", fingerprint);
      adw_action_row_add_suffix (ADW_ACTION_ROW (row), remove);
      adw_preferences_group_add (self->authorities_group, row);
      g_ptr_array_add (self->authority_rows, row);
    }
}

/* The trust changed on disk: a trust made from the folders is made again
 * (removals count too), and what is open is verified again. A trust set
 * from outside only gains the one added. */
static void
trust_changed (ImzalaVerifyPage  *self,
               ImzalaCertificate *added)
{
  show_authorities (self);
  if (self->trust_is_default)
    g_clear_object (&self->trust);
  else if (self->trust != NULL && added != NULL)
    imzala_trust_add_x509 (self->trust, imzala_certificate_get_x509 (added));
  if (self->signature != NULL)
    run (self);
}

static void
show_message (ImzalaVerifyPage *self,
              const char       *heading,
              const char       *body)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  AdwMessageDialog *dialog;

  dialog = ADW_MESSAGE_DIALOG (adw_message_dialog_new (GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL,
                                                       heading, body));
  adw_message_dialog_add_response (dialog, "close", _("_Close"));
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
add_response_cb (AdwMessageDialog *dialog,
                 const char       *response,
                 ImzalaVerifyPage *self)
{
  ImzalaCertificate *authority = g_object_get_data (G_OBJECT (dialog), "authority");
  g_autofree char *dir = NULL;
  g_autofree char *path = NULL;
  g_autoptr(GError) error = NULL;

  if (!g_str_equal (response, "add"))
    return;
  dir = imzala_trust_get_user_dir ();
  path = imzala_trust_install_authority (authority, dir, &error);
  if (path == NULL)
    {
      show_message (self, _("The Certification Authority Was Not Added"), error->message);
      return;
    }
  g_debug ("Added %s", path);
  trust_changed (self, authority);
}

static void
authority_read_cb (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  ImzalaVerifyPage *self;
  g_autofree char *fingerprint = NULL;
  g_autofree char *subject = NULL;
  g_autofree char *body = NULL;
  g_autoptr(ImzalaCertificate) authority = NULL;
  g_autoptr(GError) error = NULL;
  GtkRoot *root;
  AdwMessageDialog *dialog;

  authority = imzala_trust_read_authority_finish (result, &error);
  /* Cancelled: another file was chosen, or the page went away (then
   * user_data is not to be touched). */
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  self = IMZALA_VERIFY_PAGE (user_data);
  g_clear_object (&self->authority_read);
  if (authority == NULL)
    {
      show_message (self, _("The Certification Authority Cannot Be Added"), error->message);
      return;
    }

  fingerprint = format_fingerprint (imzala_certificate_get_fingerprint (authority));
  /* The file's own words: a subject with a line separator must not add a
   * line, a fingerprint that is not this one, to what the user compares. */
  subject = imzala_text_escape_unshown (imzala_certificate_get_subject (authority));
  body = g_strdup_printf (_("Subject: %s\n\nSHA-256 fingerprint:\n%s\n\n"
                            "Signatures under this authority will be shown as valid. Add it only when this "
                            "fingerprint is the one the authority publishes."),
                          subject, fingerprint);
  root = gtk_widget_get_root (GTK_WIDGET (self));
  dialog = ADW_MESSAGE_DIALOG (adw_message_dialog_new (GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL,
                                                       _("Trust This Certification Authority?"), body));
  adw_message_dialog_add_responses (dialog, "cancel", _("_Cancel"), "add", _("_Add"), NULL);
  adw_message_dialog_set_response_appearance (dialog, "add", ADW_RESPONSE_SUGGESTED);
  adw_message_dialog_set_default_response (dialog, "cancel");
  adw_message_dialog_set_close_response (dialog, "cancel");
  g_object_set_data_full (G_OBJECT (dialog), "authority", g_steal_pointer (&authority), g_object_unref);
  g_signal_connect_object (dialog, "response", G_CALLBACK (add_response_cb), self, 0);
  gtk_window_present (GTK_WINDOW (dialog));
}

/* The file is read and checked in a thread (it may sit on a slow or
 * network folder); the question, or why it cannot be added, comes when it
 * has been. A second file chosen meanwhile replaces the first. */
void
imzala_verify_page_add_authority (ImzalaVerifyPage *self,
                                  GFile            *file)
{
  g_autofree char *path = NULL;

  g_return_if_fail (IMZALA_IS_VERIFY_PAGE (self));
  g_return_if_fail (G_IS_FILE (file));

  if (self->authority_read != NULL)
    g_cancellable_cancel (self->authority_read);
  g_clear_object (&self->authority_read);
  path = g_file_get_path (file);
  if (path == NULL)
    {
      show_message (self, _("The Certification Authority Cannot Be Added"),
                    _("Only a local file can be added."));
      return;
    }
  self->authority_read = g_cancellable_new ();
  imzala_trust_read_authority_async (path, self->authority_read, authority_read_cb, self);
}

gboolean
imzala_verify_page_is_reading_authority (ImzalaVerifyPage *self)
{
  g_return_val_if_fail (IMZALA_IS_VERIFY_PAGE (self), FALSE);

  return self->authority_read != NULL;
}

gboolean
imzala_verify_page_remove_authority (ImzalaVerifyPage  *self,
                                     const char        *fingerprint,
                                     GError           **error)
{
  g_autofree char *dir = NULL;

  g_return_val_if_fail (IMZALA_IS_VERIFY_PAGE (self), FALSE);
  g_return_val_if_fail (fingerprint != NULL, FALSE);

  dir = imzala_trust_get_user_dir ();
  if (!imzala_trust_remove_authority (dir, fingerprint, error))
    return FALSE;
  trust_changed (self, NULL);
  return TRUE;
}

static void
authority_chosen_cb (ImzalaVerifyPage *self, int response, GtkFileChooserNative *chooser)
{
  g_autoptr(GFile) file = NULL;

  if (response == GTK_RESPONSE_ACCEPT)
    file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (chooser));
  g_object_unref (chooser);
  if (file != NULL)
    imzala_verify_page_add_authority (self, file);
}

static void
add_authority_activated (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  ImzalaVerifyPage *self = IMZALA_VERIFY_PAGE (widget);
  GtkRoot *root = gtk_widget_get_root (widget);
  g_autoptr(GtkFileFilter) filter = gtk_file_filter_new ();
  GtkFileChooserNative *chooser;

  chooser = gtk_file_chooser_native_new (_("Add a Certification Authority"),
                                         GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL,
                                         GTK_FILE_CHOOSER_ACTION_OPEN, _("_Open"), _("_Cancel"));
  gtk_file_filter_set_name (filter, _("Certificates (.crt, .cer, .pem, .der)"));
  gtk_file_filter_add_suffix (filter, "crt");
  gtk_file_filter_add_suffix (filter, "cer");
  gtk_file_filter_add_suffix (filter, "pem");
  gtk_file_filter_add_suffix (filter, "der");
  gtk_file_filter_add_mime_type (filter, "application/x-x509-ca-cert");
  gtk_file_filter_add_mime_type (filter, "application/pkix-cert");
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (chooser), filter);
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (chooser), TRUE);
  g_signal_connect_object (chooser, "response", G_CALLBACK (authority_chosen_cb), self, G_CONNECT_SWAPPED);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (chooser));
}

static void
remove_authority_activated (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  ImzalaVerifyPage *self = IMZALA_VERIFY_PAGE (widget);
  g_autoptr(GError) error = NULL;

  if (!imzala_verify_page_remove_authority (self, g_variant_get_string (parameter, NULL), &error))
    show_message (self, _("The Certification Authority Was Not Removed"), error->message);
}

static void
imzala_verify_page_dispose (GObject *object)
{
  ImzalaVerifyPage *self = IMZALA_VERIFY_PAGE (object);

  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  if (self->authority_read != NULL)
    g_cancellable_cancel (self->authority_read);
  g_clear_object (&self->authority_read);
  g_clear_pointer (&self->authority_rows, g_ptr_array_unref);
  g_clear_object (&self->trust);
  g_clear_object (&self->signature);
  g_clear_object (&self->content);
  gtk_widget_dispose_template (GTK_WIDGET (self), IMZALA_TYPE_VERIFY_PAGE);
  G_OBJECT_CLASS (imzala_verify_page_parent_class)->dispose (object);
}

static void
imzala_verify_page_finalize (GObject *object)
{
  ImzalaVerifyPage *self = IMZALA_VERIFY_PAGE (object);

  g_clear_pointer (&self->verification, imzala_verification_free);
  g_clear_error (&self->error);
  g_free (self->report);
  G_OBJECT_CLASS (imzala_verify_page_parent_class)->finalize (object);
}

static void
imzala_verify_page_class_init (ImzalaVerifyPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = imzala_verify_page_dispose;
  object_class->finalize = imzala_verify_page_finalize;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/imzala/Imzala/pages/imzala-verify-page.ui");
  gtk_widget_class_bind_template_child (widget_class, ImzalaVerifyPage, signature_row);
  gtk_widget_class_bind_template_child (widget_class, ImzalaVerifyPage, content_row);
  gtk_widget_class_bind_template_child (widget_class, ImzalaVerifyPage, status_label);
  gtk_widget_class_bind_template_child (widget_class, ImzalaVerifyPage, reason_label);
  gtk_widget_class_bind_template_child (widget_class, ImzalaVerifyPage, report_label);
  gtk_widget_class_bind_template_child (widget_class, ImzalaVerifyPage, progress_box);
  gtk_widget_class_bind_template_child (widget_class, ImzalaVerifyPage, progress_bar);
  gtk_widget_class_bind_template_child (widget_class, ImzalaVerifyPage, authorities_group);

  gtk_widget_class_install_action (widget_class, "verify.open-signature", NULL, open_signature_activated);
  gtk_widget_class_install_action (widget_class, "verify.open-content", NULL, open_content_activated);
  gtk_widget_class_install_action (widget_class, "verify.add-authority", NULL, add_authority_activated);
  gtk_widget_class_install_action (widget_class, "verify.remove-authority", "s", remove_authority_activated);
  gtk_widget_class_install_action (widget_class, "verify.cancel", NULL, cancel_activated);
}

static void
imzala_verify_page_init (ImzalaVerifyPage *self)
{
  GtkDropTarget *target;

  gtk_widget_init_template (GTK_WIDGET (self));
  self->authority_rows = g_ptr_array_new ();
  show_files (self);
  show_authorities (self);

  target = gtk_drop_target_new (GDK_TYPE_FILE_LIST, GDK_ACTION_COPY);
  g_signal_connect (target, "drop", G_CALLBACK (drop_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (target));
}
