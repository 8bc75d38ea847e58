#define G_LOG_DOMAIN "imzala-gui"

#include "config.h"

#include <glib/gi18n.h>

#include "imzala-file-sign-page.h"
#include "imzala-pin-entry.h"

struct _ImzalaFileSignPage
{
  AdwBin            parent_instance;

  GtkWidget        *form_box;
  AdwActionRow     *file_row;
  AdwComboRow      *certificate_row;
  AdwComboRow      *kind_row;
  AdwComboRow      *level_row;
  AdwEntryRow      *tsa_row;
  ImzalaPinEntry   *pin_entry;
  GtkLabel         *error_label;
  GtkLabel         *result_label;
  GtkStack         *action_stack;

  ImzalaTokenList  *token_list;
  GSignalGroup     *token_list_signals;
  GPtrArray        *tokens;        /* the token of each certificate shown */
  GPtrArray        *certificates;  /* what the certificate row shows */
  GFile            *file;
  GFile            *output;
  ImzalaFileSigner *signer;
  GCancellable     *cancellable;
  GtkFileChooserNative *chooser;
};

G_DEFINE_FINAL_TYPE (ImzalaFileSignPage, imzala_file_sign_page, ADW_TYPE_BIN)

static void
set_error (ImzalaFileSignPage *self,
           const char         *message)
{
  gtk_label_set_text (self->error_label, message != NULL ? message : "");
  gtk_widget_set_visible (GTK_WIDGET (self->error_label), message != NULL);
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
  gtk_widget_set_visible (GTK_WIDGET (self->tsa_row),
                          adw_combo_row_get_selected (self->level_row) != IMZALA_CADES_LEVEL_BES);
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
          g_autofree char *label = NULL;

          if (imzala_certificate_is_ca (certificate) || !imzala_certificate_has_private_key (certificate))
            continue;
          label = g_strdup_printf ("%s, %s", imzala_certificate_get_holder_name (certificate),
                                   imzala_certificate_get_key_description (certificate));
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

  g_return_if_fail (IMZALA_IS_FILE_SIGN_PAGE (self));

  g_set_object (&self->file, file);
  name = file != NULL ? g_file_get_basename (file) : NULL;
  adw_action_row_set_subtitle (self->file_row, name != NULL ? name : _("No file chosen"));
  gtk_label_set_text (self->result_label, "");
  set_error (self, NULL);
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
  set_error (self, NULL);
  set_busy (self, FALSE);
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
  g_autofree char *text = NULL;

  output = imzala_file_signer_sign_finish (IMZALA_FILE_SIGNER (source), result, &error);
  if (output == NULL && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  set_busy (self, FALSE);
  imzala_pin_entry_clear (self->pin_entry);
  if (output == NULL)
    {
      set_error (self, error->message);
      return;
    }
  g_set_object (&self->output, output);
  name = g_file_get_basename (output);
  text = g_strdup_printf (_("The signature was saved as “%s”, next to the file."), name);
  gtk_label_set_text (self->result_label, text);
}

static void
sign_action (GtkWidget  *widget,
             const char *action_name,
             GVariant   *parameter)
{
  ImzalaFileSignPage *self = IMZALA_FILE_SIGN_PAGE (widget);
  g_autoptr(ImzalaSecret) pin = NULL;
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
  set_busy (self, TRUE);
  imzala_file_signer_sign_async (self->signer, token, g_ptr_array_index (self->certificates, selected),
                                 pin, self->file,
                                 adw_combo_row_get_selected (self->kind_row) == 1,
                                 adw_combo_row_get_selected (self->level_row),
                                 gtk_editable_get_text (GTK_EDITABLE (self->tsa_row)), NULL,
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
  if (self->chooser != NULL)
    gtk_native_dialog_destroy (GTK_NATIVE_DIALOG (self->chooser));
  g_clear_object (&self->chooser);
  g_clear_object (&self->token_list_signals);
  g_clear_object (&self->token_list);
  g_clear_object (&self->cancellable);
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
  gtk_widget_class_bind_template_child (widget_class, ImzalaFileSignPage, pin_entry);
  gtk_widget_class_bind_template_child (widget_class, ImzalaFileSignPage, error_label);
  gtk_widget_class_bind_template_child (widget_class, ImzalaFileSignPage, result_label);
  gtk_widget_class_bind_template_child (widget_class, ImzalaFileSignPage, action_stack);
  gtk_widget_class_bind_template_callback (widget_class, update_level);
  gtk_widget_class_bind_template_callback (widget_class, pin_activate_cb);

  gtk_widget_class_install_action (widget_class, "file-sign.sign", NULL, sign_action);
  gtk_widget_class_install_action (widget_class, "file-sign.choose", NULL, choose_action);
}

static void
imzala_file_sign_page_init (ImzalaFileSignPage *self)
{
  self->cancellable = g_cancellable_new ();
  self->signer = imzala_file_signer_new ();
  self->tokens = g_ptr_array_new_with_free_func (g_object_unref);
  self->certificates = g_ptr_array_new_with_free_func (g_object_unref);
  self->token_list_signals = g_signal_group_new (IMZALA_TYPE_TOKEN_LIST);
  g_signal_group_connect_object (self->token_list_signals, "items-changed",
                                 G_CALLBACK (tokens_changed_cb), self, G_CONNECT_SWAPPED);

  gtk_widget_init_template (GTK_WIDGET (self));
  imzala_file_sign_page_set_file (self, NULL);
  update_level (self);
}
