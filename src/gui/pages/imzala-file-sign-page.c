#define G_LOG_DOMAIN "imzala-gui"

#include "config.h"

#include <glib/gi18n.h>

#include "imzala-application.h"
#include "imzala-file-sign-page.h"
#include "imzala-pin-entry.h"
#include "imzala-text.h"

struct _ImzalaFileSignPage
{
  AdwBin            parent_instance;

  GtkWidget        *form_box;
  AdwActionRow     *file_row;
  AdwComboRow      *certificate_row;
  AdwComboRow      *kind_row;
  AdwComboRow      *level_row;
  AdwEntryRow      *tsa_row;
  AdwActionRow     *tsa_ca_row;
  GtkWidget        *tsa_ca_clear_button;
  ImzalaPinEntry   *pin_entry;
  GtkLabel         *error_label;
  GtkLabel         *result_label;
  GtkStack         *action_stack;
  GtkProgressBar   *progress_bar;

  ImzalaTokenList  *token_list;
  GSignalGroup     *token_list_signals;
  GPtrArray        *tokens;        /* the token of each certificate shown */
  GPtrArray        *certificates;  /* what the certificate row shows */
  GFile            *file;
  gint64            file_size;     /* -1 while not known */
  gboolean          size_refused;  /* the error shown is check_file()'s */
  GCancellable     *size_cancellable;
  GFile            *output;
  ImzalaFileSigner *signer;
  GCancellable     *cancellable;   /* the signing under way, else NULL */
  GSettings        *settings;      /* tsa-url, tsa-ca-file */
  GtkFileChooserNative *chooser;
  GtkFileChooserNative *tsa_ca_chooser;
  gboolean          tsa_ca_refused; /* the error shown is the TSA CA's name */
};

G_DEFINE_FINAL_TYPE (ImzalaFileSignPage, imzala_file_sign_page, ADW_TYPE_BIN)

static void
set_error (ImzalaFileSignPage *self,
           const char         *message)
{
  /* A message may name a card or a reader as it names itself: one line. */
  g_autofree char *shown = imzala_text_escape_unshown (message);

  gtk_label_set_text (self->error_label, shown != NULL ? shown : "");
  gtk_widget_set_visible (GTK_WIDGET (self->error_label), message != NULL);
  self->tsa_ca_refused = FALSE;
}

static void
set_busy (ImzalaFileSignPage *self,
          gboolean            busy)
{
  gtk_widget_set_sensitive (self->form_box, !busy);
  gtk_stack_set_visible_child_name (self->action_stack, busy ? "progress" : "sign");
}

static void
update_level (ImzalaFileSignPage *self)
{
  /* BES needs no time-stamp server. */
  gboolean with_tsa = adw_combo_row_get_selected (self->level_row) != IMZALA_CADES_LEVEL_BES;

  gtk_widget_set_visible (GTK_WIDGET (self->tsa_row), with_tsa);
  gtk_widget_set_visible (GTK_WIDGET (self->tsa_ca_row), with_tsa);
}

static gboolean
is_detached (ImzalaFileSignPage *self)
{
  return adw_combo_row_get_selected (self->kind_row) == 1;
}

/* A file too large for the kind of signature chosen is refused as soon as
 * it is chosen (or the kind changes), long before the PIN: the Sign action
 * is off and the error says to sign it without the content. */
static gboolean
check_file (ImzalaFileSignPage *self)
{
  g_autoptr(GError) error = NULL;
  gboolean ok = self->file_size < 0
                || imzala_file_signer_check_size ((guint64) self->file_size, is_detached (self), &error);

  gtk_widget_action_set_enabled (GTK_WIDGET (self), "file-sign.sign", ok);
  if (!ok)
    set_error (self, error->message);
  else if (self->size_refused)
    set_error (self, NULL);
  self->size_refused = !ok;
  return ok;
}

static void
kind_changed_cb (ImzalaFileSignPage *self)
{
  check_file (self);
}

static void
size_queried_cb (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(ImzalaFileSignPage) self = user_data;
  g_autoptr(GFileInfo) info = NULL;
  g_autoptr(GError) error = NULL;

  info = g_file_query_info_finish (G_FILE (source), result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  g_clear_object (&self->size_cancellable);
  /* A file that cannot be asked is refused by the signer, with its reason. */
  if (info == NULL)
    return;
  self->file_size = g_file_info_get_size (info);
  check_file (self);
}

static void
tokens_changed_cb (ImzalaFileSignPage *self)
{
  g_autoptr(GtkStringList) labels = gtk_string_list_new (NULL);
  g_autoptr(GPtrArray) tokens = NULL;

  g_ptr_array_set_size (self->tokens, 0);
  g_ptr_array_set_size (self->certificates, 0);
  if (self->token_list != NULL)
    tokens = imzala_token_list_dup_tokens (self->token_list);

  for (guint t = 0; tokens != NULL && t < tokens->len; t++)
    {
      ImzalaToken *token = g_ptr_array_index (tokens, t);
      GPtrArray *certificates = imzala_token_get_certificates (token);

      for (guint c = 0; certificates != NULL && c < certificates->len; c++)
        {
          ImzalaCertificate *certificate = g_ptr_array_index (certificates, c);
          g_autofree char *holder = NULL;
          g_autofree char *label = NULL;

          if (imzala_certificate_is_ca (certificate) || !imzala_certificate_has_private_key (certificate))
            continue;
          /* The holder's name as the certificate gives it, on one line. */
          holder = imzala_text_escape_unshown (imzala_certificate_get_holder_name (certificate));
          label = g_strdup_printf ("%s, %s", holder, imzala_certificate_get_key_description (certificate));
          gtk_string_list_append (labels, label);
          g_ptr_array_add (self->tokens, g_object_ref (token));
          g_ptr_array_add (self->certificates, g_object_ref (certificate));
        }
    }
  adw_combo_row_set_model (self->certificate_row, G_LIST_MODEL (labels));
  /* The recommended certificate first, as on the sign page. */
  for (guint i = 0; i < self->certificates->len; i++)
    if (imzala_certificate_is_recommended (g_ptr_array_index (self->certificates, i)))
      {
        adw_combo_row_set_selected (self->certificate_row, i);
        break;
      }
}

void
imzala_file_sign_page_set_token_list (ImzalaFileSignPage *self,
                                      ImzalaTokenList    *token_list)
{
  g_return_if_fail (IMZALA_IS_FILE_SIGN_PAGE (self));

  if (!g_set_object (&self->token_list, token_list))
    return;
  g_signal_group_set_target (self->token_list_signals, token_list);
  tokens_changed_cb (self);
}

void
imzala_file_sign_page_set_file (ImzalaFileSignPage *self,
                                GFile              *file)
{
  g_autofree char *name = NULL;
  g_autofree char *shown = NULL;

  g_return_if_fail (IMZALA_IS_FILE_SIGN_PAGE (self));

  g_set_object (&self->file, file);
  /* The name as it is, on one line (a line feed or a byte that is no
   * UTF-8 as its escape). */
  name = file != NULL ? g_file_get_basename (file) : NULL;
  shown = imzala_text_escape_unshown (name);
  adw_action_row_set_subtitle (self->file_row, shown != NULL ? shown : _("No file chosen"));
  gtk_label_set_text (self->result_label, "");
  set_error (self, NULL);

  g_cancellable_cancel (self->size_cancellable);
  g_clear_object (&self->size_cancellable);
  self->file_size = -1;
  check_file (self);
  if (file == NULL)
    return;
  self->size_cancellable = g_cancellable_new ();
  g_file_query_info_async (file, G_FILE_ATTRIBUTE_STANDARD_SIZE, G_FILE_QUERY_INFO_NONE,
                           G_PRIORITY_DEFAULT, self->size_cancellable, size_queried_cb, g_object_ref (self));
}

gboolean
imzala_file_sign_page_get_busy (ImzalaFileSignPage *self)
{
  g_return_val_if_fail (IMZALA_IS_FILE_SIGN_PAGE (self), FALSE);
  return self->cancellable != NULL || self->size_cancellable != NULL;
}

/* ---- The TSA's certification authority ---- */

static void
tsa_ca_changed_cb (ImzalaFileSignPage *self)
{
  g_autofree char *path = g_settings_get_string (self->settings, "tsa-ca-file");
  g_autofree char *name = *path != '\0' ? g_path_get_basename (path) : NULL;
  g_autofree char *shown = imzala_text_escape_unshown (name);

  adw_action_row_set_subtitle (self->tsa_ca_row,
                               shown != NULL ? shown : _("The system’s trusted authorities only"));
  gtk_widget_set_visible (self->tsa_ca_clear_button, name != NULL);
}

void
imzala_file_sign_page_set_tsa_ca_file (ImzalaFileSignPage *self,
                                       const char         *path)
{
  g_return_if_fail (IMZALA_IS_FILE_SIGN_PAGE (self));

  /* The setting is a string, which GSettings keeps in UTF-8 only. */
  if (path != NULL && !g_utf8_validate (path, -1, NULL))
    {
      set_error (self, _("This file’s name or folder is not written in UTF-8, so İmzala cannot remember it. "
                         "Rename it, or choose a file elsewhere."));
      self->tsa_ca_refused = TRUE;
      return;
    }
  /* A CA taken after one refused: that message is done with. */
  if (self->tsa_ca_refused)
    set_error (self, NULL);
  g_settings_set_string (self->settings, "tsa-ca-file", path != NULL ? path : "");
}

static void
tsa_ca_chosen_cb (GtkNativeDialog    *dialog,
                  int                 response,
                  ImzalaFileSignPage *self)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      g_autofree char *path = file != NULL ? g_file_get_path (file) : NULL;

      if (path != NULL)
        imzala_file_sign_page_set_tsa_ca_file (self, path);
    }
  g_clear_object (&self->tsa_ca_chooser);
}

static void
choose_tsa_ca_action (GtkWidget  *widget,
                      const char *action_name,
                      GVariant   *parameter)
{
  ImzalaFileSignPage *self = IMZALA_FILE_SIGN_PAGE (widget);
  GtkRoot *root = gtk_widget_get_root (widget);
  g_autoptr(GtkFileFilter) filter = gtk_file_filter_new ();

  g_clear_object (&self->tsa_ca_chooser);
  self->tsa_ca_chooser = gtk_file_chooser_native_new (_("Choose the Time-Stamp Server’s Certification Authority"),
                                                      GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL,
                                                      GTK_FILE_CHOOSER_ACTION_OPEN, NULL, NULL);
  /* The core reads PEM, DER and PKCS#7 (imzala_trust_new_tls_database()). */
  gtk_file_filter_set_name (filter, _("Certificates (.pem, .crt, .cer, .der, .p7b)"));
  gtk_file_filter_add_suffix (filter, "pem");
  gtk_file_filter_add_suffix (filter, "crt");
  gtk_file_filter_add_suffix (filter, "cer");
  gtk_file_filter_add_suffix (filter, "der");
  gtk_file_filter_add_suffix (filter, "p7b");
  gtk_file_filter_add_mime_type (filter, "application/x-x509-ca-cert");
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (self->tsa_ca_chooser), filter);
  g_signal_connect (self->tsa_ca_chooser, "response", G_CALLBACK (tsa_ca_chosen_cb), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (self->tsa_ca_chooser));
}

static void
clear_tsa_ca_action (GtkWidget  *widget,
                     const char *action_name,
                     GVariant   *parameter)
{
  imzala_file_sign_page_set_tsa_ca_file (IMZALA_FILE_SIGN_PAGE (widget), NULL);
}

/* ---- Progress ---- */

static void
progress_cb (ImzalaFileSigner   *signer,
             guint               step,
             guint64             done,
             guint64             total,
             ImzalaFileSignPage *self)
{
  g_autofree char *text = NULL;
  guint percent = total > 0 ? (guint) (done * 100 / total) : 0;

  if (self->cancellable == NULL)
    return;
  switch (step)
    {
    case IMZALA_FILE_SIGNER_STEP_READING:
      /* TRANSLATORS: %u is a percentage; Turkish puts the sign first ("%%40"). */
      text = g_strdup_printf (_("Reading the file… %u %%"), percent);
      gtk_progress_bar_set_fraction (self->progress_bar, total > 0 ? (double) done / (double) total : 0.0);
      break;
    case IMZALA_FILE_SIGNER_STEP_SIGNING:
      text = g_strdup (_("The card is signing…"));
      gtk_progress_bar_set_fraction (self->progress_bar, 1.0);
      break;
    case IMZALA_FILE_SIGNER_STEP_TIME_STAMPING:
      text = g_strdup (_("Getting the time-stamp…"));
      gtk_progress_bar_set_fraction (self->progress_bar, 1.0);
      break;
    case IMZALA_FILE_SIGNER_STEP_WRITING:
    default:
      if (total > 0)
        {
          /* TRANSLATORS: %u is a percentage; Turkish puts the sign first ("%%40"). */
          text = g_strdup_printf (_("Writing the signature… %u %%"), percent);
          gtk_progress_bar_set_fraction (self->progress_bar, (double) done / (double) total);
        }
      else
        {
          text = g_strdup (_("Writing the signature…"));
          gtk_progress_bar_set_fraction (self->progress_bar, 1.0);
        }
      break;
    }
  gtk_progress_bar_set_text (self->progress_bar, text);
}

static void
cancel_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *parameter)
{
  ImzalaFileSignPage *self = IMZALA_FILE_SIGN_PAGE (widget);

  g_cancellable_cancel (self->cancellable);
}

GFile *
imzala_file_sign_page_get_output (ImzalaFileSignPage *self)
{
  g_return_val_if_fail (IMZALA_IS_FILE_SIGN_PAGE (self), NULL);
  return self->output;
}

void
imzala_file_sign_page_reset (ImzalaFileSignPage *self)
{
  g_return_if_fail (IMZALA_IS_FILE_SIGN_PAGE (self));

  imzala_pin_entry_clear (self->pin_entry);
  /* A signing under way goes on (its Cancel button stays). */
  if (self->cancellable != NULL)
    return;
  set_error (self, NULL);
  set_busy (self, FALSE);
  check_file (self);
  if (self->token_list != NULL)
    tokens_changed_cb (self);
}

static void
signed_cb (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(ImzalaFileSignPage) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GFile) output = NULL;
  g_autofree char *name = NULL;
  g_autofree char *shown = NULL;
  g_autofree char *text = NULL;

  output = imzala_file_signer_sign_finish (IMZALA_FILE_SIGNER (source), result, &error);
  /* No cancellable left: the page was disposed, nothing to show. */
  if (self->cancellable == NULL)
    return;
  g_clear_object (&self->cancellable);
  set_busy (self, FALSE);
  imzala_pin_entry_clear (self->pin_entry);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      gtk_label_set_text (self->result_label, _("Signing was cancelled. No signature file was written."));
      return;
    }
  if (output == NULL)
    {
      set_error (self, error->message);
      return;
    }
  g_set_object (&self->output, output);
  name = g_file_get_basename (output);
  shown = imzala_text_escape_unshown (name);
  text = g_strdup_printf (_("The signature was saved as “%s”, next to the file."), shown);
  gtk_label_set_text (self->result_label, text);
}

static void
sign_action (GtkWidget  *widget,
             const char *action_name,
             GVariant   *parameter)
{
  ImzalaFileSignPage *self = IMZALA_FILE_SIGN_PAGE (widget);
  g_autoptr(ImzalaSecret) pin = NULL;
  g_autofree char *tsa_ca_file = NULL;
  guint selected = adw_combo_row_get_selected (self->certificate_row);
  ImzalaToken *token;

  if (self->file == NULL)
    {
      set_error (self, _("Choose the file to sign."));
      return;
    }
  if (selected == GTK_INVALID_LIST_POSITION || selected >= self->certificates->len)
    {
      set_error (self, _("No signing certificate was found. Insert your card and try again."));
      return;
    }
  if (self->cancellable != NULL || !check_file (self))
    return;
  token = g_ptr_array_index (self->tokens, selected);
  if (!imzala_token_has_pin_pad (token))
    {
      /* A copy in a fresh secret for the signer; the field is wiped now. */
      ImzalaSecret *typed = imzala_pin_entry_get_secret (self->pin_entry);

      if (imzala_secret_get_length (typed) == 0)
        {
          set_error (self, _("Enter the PIN of your card."));
          return;
        }
      pin = imzala_secret_new_from_data (imzala_secret_get_data (typed), imzala_secret_get_length (typed));
      imzala_pin_entry_clear (self->pin_entry);
    }

  set_error (self, NULL);
  gtk_label_set_text (self->result_label, "");
  g_clear_object (&self->output);
  tsa_ca_file = g_settings_get_string (self->settings, "tsa-ca-file");
  self->cancellable = g_cancellable_new ();
  gtk_progress_bar_set_fraction (self->progress_bar, 0.0);
  gtk_progress_bar_set_text (self->progress_bar, _("Reading the file…"));
  set_busy (self, TRUE);
  imzala_file_signer_sign_async (self->signer, token, g_ptr_array_index (self->certificates, selected),
                                 pin, self->file, is_detached (self),
                                 adw_combo_row_get_selected (self->level_row),
                                 gtk_editable_get_text (GTK_EDITABLE (self->tsa_row)),
                                 *tsa_ca_file != '\0' ? tsa_ca_file : NULL,
                                 self->cancellable, signed_cb, g_object_ref (self));
}

static void
chooser_response_cb (GtkNativeDialog    *dialog,
                     int                 response,
                     ImzalaFileSignPage *self)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));

      imzala_file_sign_page_set_file (self, file);
    }
  g_clear_object (&self->chooser);
}

static void
choose_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *parameter)
{
  ImzalaFileSignPage *self = IMZALA_FILE_SIGN_PAGE (widget);
  GtkRoot *root = gtk_widget_get_root (widget);

  g_clear_object (&self->chooser);
  self->chooser = gtk_file_chooser_native_new (_("Choose the File to Sign"),
                                               GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL,
                                               GTK_FILE_CHOOSER_ACTION_OPEN, NULL, NULL);
  g_signal_connect (self->chooser, "response", G_CALLBACK (chooser_response_cb), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (self->chooser));
}

static void
pin_activate_cb (ImzalaFileSignPage *self)
{
  gtk_widget_activate_action (GTK_WIDGET (self), "file-sign.sign", NULL);
}

static void
imzala_file_sign_page_dispose (GObject *object)
{
  ImzalaFileSignPage *self = IMZALA_FILE_SIGN_PAGE (object);

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  g_cancellable_cancel (self->size_cancellable);
  g_clear_object (&self->size_cancellable);
  if (self->chooser != NULL)
    gtk_native_dialog_destroy (GTK_NATIVE_DIALOG (self->chooser));
  g_clear_object (&self->chooser);
  if (self->tsa_ca_chooser != NULL)
    gtk_native_dialog_destroy (GTK_NATIVE_DIALOG (self->tsa_ca_chooser));
  g_clear_object (&self->tsa_ca_chooser);
  if (self->signer != NULL)
    g_signal_handlers_disconnect_by_data (self->signer, self);
  g_clear_object (&self->settings);
  g_clear_object (&self->token_list_signals);
  g_clear_object (&self->token_list);
  g_clear_object (&self->signer);
  g_clear_object (&self->file);
  g_clear_object (&self->output);
  g_clear_pointer (&self->tokens, g_ptr_array_unref);
  g_clear_pointer (&self->certificates, g_ptr_array_unref);
  gtk_widget_dispose_template (GTK_WIDGET (self), IMZALA_TYPE_FILE_SIGN_PAGE);

  G_OBJECT_CLASS (imzala_file_sign_page_parent_class)->dispose (object);
}

static void
imzala_file_sign_page_class_init (ImzalaFileSignPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = imzala_file_sign_page_dispose;

  g_type_ensure (IMZALA_TYPE_PIN_ENTRY);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/imzala/Imzala/pages/imzala-file-sign-page.ui");
  gtk_widget_class_bind_template_child (widget_class, ImzalaFileSignPage, form_box);
  gtk_widget_class_bind_template_child (widget_class, ImzalaFileSignPage, file_row);
  gtk_widget_class_bind_template_child (widget_class, ImzalaFileSignPage, certificate_row);
  gtk_widget_class_bind_template_child (widget_class, ImzalaFileSignPage, kind_row);
  gtk_widget_class_bind_template_child (widget_class, ImzalaFileSignPage, level_row);
  gtk_widget_class_bind_template_child (widget_class, ImzalaFileSignPage, tsa_row);
  gtk_widget_class_bind_template_child (widget_class, ImzalaFileSignPage, tsa_ca_row);
  gtk_widget_class_bind_template_child (widget_class, ImzalaFileSignPage, tsa_ca_clear_button);
  gtk_widget_class_bind_template_child (widget_class, ImzalaFileSignPage, pin_entry);
  gtk_widget_class_bind_template_child (widget_class, ImzalaFileSignPage, error_label);
  gtk_widget_class_bind_template_child (widget_class, ImzalaFileSignPage, result_label);
  gtk_widget_class_bind_template_child (widget_class, ImzalaFileSignPage, action_stack);
  gtk_widget_class_bind_template_child (widget_class, ImzalaFileSignPage, progress_bar);
  gtk_widget_class_bind_template_callback (widget_class, update_level);
  gtk_widget_class_bind_template_callback (widget_class, pin_activate_cb);

  gtk_widget_class_install_action (widget_class, "file-sign.sign", NULL, sign_action);
  gtk_widget_class_install_action (widget_class, "file-sign.choose", NULL, choose_action);
  gtk_widget_class_install_action (widget_class, "file-sign.cancel", NULL, cancel_action);
  gtk_widget_class_install_action (widget_class, "file-sign.choose-tsa-ca", NULL, choose_tsa_ca_action);
  gtk_widget_class_install_action (widget_class, "file-sign.clear-tsa-ca", NULL, clear_tsa_ca_action);
}

static void
imzala_file_sign_page_init (ImzalaFileSignPage *self)
{
  self->file_size = -1;
  self->signer = imzala_file_signer_new ();
  self->tokens = g_ptr_array_new_with_free_func (g_object_unref);
  self->certificates = g_ptr_array_new_with_free_func (g_object_unref);
  self->token_list_signals = g_signal_group_new (IMZALA_TYPE_TOKEN_LIST);
  g_signal_group_connect_object (self->token_list_signals, "items-changed",
                                 G_CALLBACK (tokens_changed_cb), self, G_CONNECT_SWAPPED);

  gtk_widget_init_template (GTK_WIDGET (self));
  g_signal_connect (self->signer, "progress", G_CALLBACK (progress_cb), self);
  g_signal_connect_swapped (self->kind_row, "notify::selected", G_CALLBACK (kind_changed_cb), self);

  /* The TSA and its CA are remembered, as the portal CAs are. */
  self->settings = g_settings_new (IMZALA_SETTINGS_SCHEMA);
  g_settings_bind (self->settings, "tsa-url", self->tsa_row, "text", G_SETTINGS_BIND_DEFAULT);
  g_signal_connect_object (self->settings, "changed::tsa-ca-file", G_CALLBACK (tsa_ca_changed_cb), self,
                           G_CONNECT_SWAPPED);
  tsa_ca_changed_cb (self);

  imzala_file_sign_page_set_file (self, NULL);
  update_level (self);
}
