#define G_LOG_DOMAIN "imzala-gui"

#include "config.h"

#include <glib/gi18n.h>

#include "imzala-error.h"
#include "imzala-format.h"
#include "imzala-new-pin-form.h"
#include "imzala-pin-change-page.h"
#include "imzala-text.h"

struct _ImzalaPinChangePage
{
  AdwBin           parent_instance;

  GtkWidget        *form_box;
  GtkLabel         *state_label;
  AdwComboRow      *token_row;
  GtkLabel         *rules_label;
  GtkStack         *pin_stack;
  ImzalaNewPinForm *pin_form;
  GtkLabel         *error_label;
  GtkStack         *action_stack;
  GtkWidget        *done_button;

  ImzalaTokenList  *token_list;
  GSignalGroup     *token_list_signals;
  GPtrArray        *tokens;       /* what the combo row shows */
  GCancellable     *cancellable;  /* the PIN change on the card */
};

G_DEFINE_FINAL_TYPE (ImzalaPinChangePage, imzala_pin_change_page, ADW_TYPE_BIN)

/* The form and the success page are the pages of the bin's child, which is
 * not bound to a field: gtk_widget_dispose_template() would unparent it
 * behind AdwBin's back. */
static GtkStack *
get_page_stack (ImzalaPinChangePage *self)
{
  return GTK_STACK (adw_bin_get_child (ADW_BIN (self)));
}

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
  g_autofree char *headline = NULL;
  g_autofree char *length = NULL;
  g_autofree char *rules = NULL;

  if (token == NULL)
    {
      gtk_widget_set_visible (GTK_WIDGET (self->state_label), FALSE);
      gtk_widget_set_visible (GTK_WIDGET (self->rules_label), TRUE);
      /* While the first listing runs there is no card yet, and asking
       * for one would be wrong: the card is being read. */
      gtk_label_set_text (self->rules_label,
                          self->token_list != NULL && imzala_token_list_get_loading (self->token_list)
                          ? _("Reading the card…")
                          : _("Insert the card whose PIN you want to change."));
      return;
    }

  /* How the PIN stands comes first; the length rule only when the card
   * states one a person can use. */
  headline = imzala_format_pin_headline (token, FALSE);
  gtk_label_set_text (self->state_label, headline);
  gtk_widget_set_visible (GTK_WIDGET (self->state_label), TRUE);
  if (imzala_token_get_pin_state (token) & (IMZALA_PIN_STATE_LOCKED | IMZALA_PIN_STATE_FINAL_TRY))
    gtk_widget_add_css_class (GTK_WIDGET (self->state_label), "error");
  else
    gtk_widget_remove_css_class (GTK_WIDGET (self->state_label), "error");
  length = imzala_format_pin_length (token);
  if (length != NULL)
    /* Translators: %s is a length such as "6–8 characters". */
    rules = g_strdup_printf (_("The new PIN has %s."), length);
  gtk_label_set_text (self->rules_label, rules ? rules : "");
  gtk_widget_set_visible (GTK_WIDGET (self->rules_label), rules != NULL);
  imzala_new_pin_form_set_max_length (self->pin_form, imzala_token_get_max_pin_length (token));
  gtk_stack_set_visible_child_name (self->pin_stack,
                                    imzala_token_has_pin_pad (token) ? "pinpad" : "keypad");
}

static void
tokens_changed_cb (ImzalaPinChangePage *self)
{
  g_autoptr(GtkStringList) labels = gtk_string_list_new (NULL);

  g_clear_pointer (&self->tokens, g_ptr_array_unref);
  if (self->token_list != NULL)
    self->tokens = imzala_token_list_dup_tokens (self->token_list);

  for (guint i = 0; self->tokens != NULL && i < self->tokens->len; i++)
    {
      /* The card's label as the card gives it, on one line. */
      g_autofree char *label = imzala_text_escape_unshown (
        imzala_token_get_label (g_ptr_array_index (self->tokens, i)));

      gtk_string_list_append (labels, label);
    }
  adw_combo_row_set_model (self->token_row, G_LIST_MODEL (labels));
  update_token (self);
}

void
imzala_pin_change_page_set_token_list (ImzalaPinChangePage *self,
                                       ImzalaTokenList     *token_list)
{
  g_return_if_fail (IMZALA_IS_PIN_CHANGE_PAGE (self));
  g_return_if_fail (token_list == NULL || IMZALA_IS_TOKEN_LIST (token_list));

  if (!g_set_object (&self->token_list, token_list))
    return;
  g_signal_group_set_target (self->token_list_signals, token_list);
  tokens_changed_cb (self);
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
  g_autofree char *shown = NULL;

  g_return_if_fail (IMZALA_IS_PIN_CHANGE_PAGE (self));

  /* A message may name a card or a reader as it names itself: one line. */
  shown = imzala_text_escape_unshown (message);
  gtk_label_set_text (self->error_label, shown ? shown : "");
  gtk_widget_set_visible (GTK_WIDGET (self->error_label), message != NULL);
}

void
imzala_pin_change_page_reset (ImzalaPinChangePage *self)
{
  g_return_if_fail (IMZALA_IS_PIN_CHANGE_PAGE (self));

  gtk_stack_set_visible_child_name (get_page_stack (self), "form");
  imzala_new_pin_form_clear (self->pin_form);
  imzala_pin_change_page_set_error (self, NULL);
  imzala_pin_change_page_set_busy (self, FALSE);
  /* Only on screen: a change that finishes after the user went elsewhere
   * must not pull the focus into a hidden page. */
  if (gtk_widget_get_mapped (GTK_WIDGET (self)))
    gtk_widget_grab_focus (GTK_WIDGET (self->pin_form));
}

static void
change_pin_cb (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(ImzalaPinChangePage) self = user_data;
  g_autoptr(GError) error = NULL;

  if (!imzala_token_change_pin_finish (IMZALA_TOKEN (object), result, &error) &&
      g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  imzala_pin_change_page_set_busy (self, FALSE);
  if (error != NULL)
    imzala_pin_change_page_set_error (self, error->message);
  else
    {
      /* A page of its own, with what to do next: a toast would cover the
       * button and be gone before it is read. */
      imzala_new_pin_form_clear (self->pin_form);
      gtk_stack_set_visible_child_name (get_page_stack (self), "done");
      if (gtk_widget_get_mapped (GTK_WIDGET (self)))
        gtk_widget_grab_focus (self->done_button);
    }
  /* The card's PIN state has changed (tries left, or a fresh PIN). */
  if (self->token_list != NULL)
    imzala_token_list_refresh (self->token_list);
}

/* PIN Değiştir: the fields are checked here, the card does the rest. */
static void
change_pin_action (GtkWidget  *widget,
                   const char *action_name,
                   GVariant   *parameter)
{
  ImzalaPinChangePage *self = IMZALA_PIN_CHANGE_PAGE (widget);
  g_autoptr(ImzalaSecret) old_pin = NULL;
  g_autoptr(ImzalaSecret) new_pin = NULL;
  g_autoptr(GError) error = NULL;

  if (!imzala_pin_change_page_take_pins (self, &old_pin, &new_pin, &error))
    {
      imzala_pin_change_page_set_error (self, error->message);
      return;
    }

  imzala_pin_change_page_set_error (self, NULL);
  imzala_pin_change_page_set_busy (self, TRUE);
  imzala_token_change_pin_async (imzala_pin_change_page_get_token (self), old_pin, new_pin,
                                 self->cancellable, change_pin_cb, g_object_ref (self));
}

static void
form_activate_cb (ImzalaPinChangePage *self)
{
  gtk_widget_activate_action (GTK_WIDGET (self), "pin-change.change-pin", NULL);
}

static void
imzala_pin_change_page_dispose (GObject *object)
{
  ImzalaPinChangePage *self = IMZALA_PIN_CHANGE_PAGE (object);

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->token_list_signals);
  g_clear_object (&self->token_list);
  g_clear_object (&self->cancellable);
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
  gtk_widget_class_bind_template_child (widget_class, ImzalaPinChangePage, state_label);
  gtk_widget_class_bind_template_child (widget_class, ImzalaPinChangePage, done_button);
  gtk_widget_class_bind_template_child (widget_class, ImzalaPinChangePage, token_row);
  gtk_widget_class_bind_template_child (widget_class, ImzalaPinChangePage, rules_label);
  gtk_widget_class_bind_template_child (widget_class, ImzalaPinChangePage, pin_stack);
  gtk_widget_class_bind_template_child (widget_class, ImzalaPinChangePage, pin_form);
  gtk_widget_class_bind_template_child (widget_class, ImzalaPinChangePage, error_label);
  gtk_widget_class_bind_template_child (widget_class, ImzalaPinChangePage, action_stack);
  gtk_widget_class_bind_template_callback (widget_class, update_token);
  gtk_widget_class_bind_template_callback (widget_class, form_activate_cb);

  gtk_widget_class_install_action (widget_class, "pin-change.change-pin", NULL, change_pin_action);
}

static void
imzala_pin_change_page_init (ImzalaPinChangePage *self)
{
  self->cancellable = g_cancellable_new ();
  self->token_list_signals = g_signal_group_new (IMZALA_TYPE_TOKEN_LIST);
  g_signal_group_connect_object (self->token_list_signals, "items-changed",
                                 G_CALLBACK (tokens_changed_cb), self, G_CONNECT_SWAPPED);
  g_signal_group_connect_object (self->token_list_signals, "notify::loading",
                                 G_CALLBACK (update_token), self, G_CONNECT_SWAPPED);

  gtk_widget_init_template (GTK_WIDGET (self));
  update_token (self);
}
