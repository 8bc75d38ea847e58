#define G_LOG_DOMAIN "imzala-gui"

#include "config.h"

#include <glib/gi18n.h>

#include "imzala-error.h"
#include "imzala-format.h"
#include "imzala-new-pin-form.h"
#include "imzala-pin-change-page.h"

struct _ImzalaPinChangePage
{
  AdwBin         parent_instance;

  GtkWidget        *form_box;
  AdwComboRow      *token_row;
  GtkLabel         *rules_label;
  GtkStack         *pin_stack;
  ImzalaNewPinForm *pin_form;
  GtkLabel         *error_label;
  GtkStack         *action_stack;

  GPtrArray        *tokens;
};

G_DEFINE_FINAL_TYPE (ImzalaPinChangePage, imzala_pin_change_page, ADW_TYPE_BIN)

ImzalaToken *
imzala_pin_change_page_get_token (ImzalaPinChangePage *self)
{
  guint selected;

  g_return_val_if_fail (IMZALA_IS_PIN_CHANGE_PAGE (self), NULL);

  selected = adw_combo_row_get_selected (self->token_row);
  if (self->tokens == NULL || selected == GTK_INVALID_LIST_POSITION || selected >= self->tokens->len)
    return NULL;
  return g_ptr_array_index (self->tokens, selected);
}

static void
update_token (ImzalaPinChangePage *self)
{
  ImzalaToken *token = imzala_pin_change_page_get_token (self);
  g_autofree char *rules = NULL;
  g_autofree char *state = NULL;

  if (token == NULL)
    {
      gtk_label_set_text (self->rules_label, _("Insert the card whose PIN you want to change."));
      return;
    }

  state = imzala_format_pin_state (token);
  /* Translators: the first sentence says how the PIN stands (locked, tries). */
  rules = g_strdup_printf (_("%s The new PIN must have %u to %u characters."),
                           state,
                           imzala_token_get_min_pin_length (token),
                           imzala_token_get_max_pin_length (token));
  gtk_label_set_text (self->rules_label, rules);
  imzala_new_pin_form_set_max_length (self->pin_form, imzala_token_get_max_pin_length (token));
  gtk_stack_set_visible_child_name (self->pin_stack,
                                    imzala_token_has_pin_pad (token) ? "pinpad" : "keypad");
}

void
imzala_pin_change_page_set_tokens (ImzalaPinChangePage *self,
                                   GPtrArray           *tokens)
{
  g_autoptr(GtkStringList) labels = gtk_string_list_new (NULL);

  g_return_if_fail (IMZALA_IS_PIN_CHANGE_PAGE (self));

  g_clear_pointer (&self->tokens, g_ptr_array_unref);
  if (tokens != NULL)
    self->tokens = g_ptr_array_ref (tokens);

  for (guint i = 0; tokens != NULL && i < tokens->len; i++)
    gtk_string_list_append (labels, imzala_token_get_label (g_ptr_array_index (tokens, i)));
  adw_combo_row_set_model (self->token_row, G_LIST_MODEL (labels));
  update_token (self);
}

gboolean
imzala_pin_change_page_take_pins (ImzalaPinChangePage *self,
                                  ImzalaSecret       **old_pin,
                                  ImzalaSecret       **new_pin,
                                  GError             **error)
{
  ImzalaToken *token;

  g_return_val_if_fail (IMZALA_IS_PIN_CHANGE_PAGE (self), FALSE);

  *old_pin = NULL;
  *new_pin = NULL;

  token = imzala_pin_change_page_get_token (self);
  if (token == NULL)
    {
      g_set_error (error, IMZALA_ERROR, IMZALA_ERROR_NO_TOKEN,
                   _("No card was found. Insert your card and try again."));
      return FALSE;
    }
  if (imzala_token_has_pin_pad (token))
    return TRUE;

  return imzala_new_pin_form_take_secrets (self->pin_form, token, old_pin, new_pin, error);
}

void
imzala_pin_change_page_set_busy (ImzalaPinChangePage *self,
                                 gboolean             busy)
{
  g_return_if_fail (IMZALA_IS_PIN_CHANGE_PAGE (self));

  gtk_widget_set_sensitive (self->form_box, !busy);
  gtk_stack_set_visible_child_name (self->action_stack, busy ? "progress" : "change");
  if (!busy)
    imzala_new_pin_form_reclaim_focus (self->pin_form);
}

void
imzala_pin_change_page_set_error (ImzalaPinChangePage *self,
                                  const char          *message)
{
  g_return_if_fail (IMZALA_IS_PIN_CHANGE_PAGE (self));

  gtk_label_set_text (self->error_label, message ? message : "");
  gtk_widget_set_visible (GTK_WIDGET (self->error_label), message != NULL);
}

void
imzala_pin_change_page_reset (ImzalaPinChangePage *self)
{
  g_return_if_fail (IMZALA_IS_PIN_CHANGE_PAGE (self));

  imzala_new_pin_form_clear (self->pin_form);
  imzala_pin_change_page_set_error (self, NULL);
  imzala_pin_change_page_set_busy (self, FALSE);
  /* Only on screen: a change that finishes after the user went elsewhere
   * must not pull the focus into a hidden page. */
  if (gtk_widget_get_mapped (GTK_WIDGET (self)))
    gtk_widget_grab_focus (GTK_WIDGET (self->pin_form));
}

static void
form_activate_cb (ImzalaPinChangePage *self)
{
  gtk_widget_activate_action (GTK_WIDGET (self), "win.change-pin", NULL);
}

static void
imzala_pin_change_page_dispose (GObject *object)
{
  ImzalaPinChangePage *self = IMZALA_PIN_CHANGE_PAGE (object);

  gtk_widget_dispose_template (GTK_WIDGET (self), IMZALA_TYPE_PIN_CHANGE_PAGE);
  g_clear_pointer (&self->tokens, g_ptr_array_unref);

  G_OBJECT_CLASS (imzala_pin_change_page_parent_class)->dispose (object);
}

static void
imzala_pin_change_page_class_init (ImzalaPinChangePageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = imzala_pin_change_page_dispose;

  g_type_ensure (IMZALA_TYPE_NEW_PIN_FORM);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/imzala/Imzala/pages/imzala-pin-change-page.ui");
  gtk_widget_class_bind_template_child (widget_class, ImzalaPinChangePage, form_box);
  gtk_widget_class_bind_template_child (widget_class, ImzalaPinChangePage, token_row);
  gtk_widget_class_bind_template_child (widget_class, ImzalaPinChangePage, rules_label);
  gtk_widget_class_bind_template_child (widget_class, ImzalaPinChangePage, pin_stack);
  gtk_widget_class_bind_template_child (widget_class, ImzalaPinChangePage, pin_form);
  gtk_widget_class_bind_template_child (widget_class, ImzalaPinChangePage, error_label);
  gtk_widget_class_bind_template_child (widget_class, ImzalaPinChangePage, action_stack);
  gtk_widget_class_bind_template_callback (widget_class, update_token);
  gtk_widget_class_bind_template_callback (widget_class, form_activate_cb);
}

static void
imzala_pin_change_page_init (ImzalaPinChangePage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  update_token (self);
}
