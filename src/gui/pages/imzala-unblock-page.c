#define G_LOG_DOMAIN "imzala-gui"

#include "config.h"

#include <glib/gi18n.h>

#include "imzala-error.h"
#include "imzala-format.h"
#include "imzala-new-pin-form.h"
#include "imzala-text.h"
#include "imzala-unblock-page.h"

struct _ImzalaUnblockPage
{
  AdwBin           parent_instance;

  GtkWidget        *form_box;
  GtkLabel         *state_label;
  GtkWidget        *mode_box;
  GtkToggleButton  *puk_toggle;
  GtkLabel         *mode_label;
  GtkWidget        *code_button;
  AdwComboRow      *token_row;
  GtkLabel         *rules_label;
  GtkStack         *pin_stack;
  ImzalaNewPinForm *pin_form;
  GtkLabel         *error_label;
  GtkStack         *action_stack;
  GtkWidget        *done_button;

  ImzalaTokenList  *token_list;  /* for the PUK way */
  GSignalGroup     *token_list_signals;
  GPtrArray        *tokens;      /* its tokens, as the combo row shows them */
  ImzalaSigningJob *job;         /* for the portal way */
  GSignalGroup     *job_signals;
  GCancellable     *cancellable; /* the unblock on the card (PUK way) */
  gboolean          filling;
};

G_DEFINE_FINAL_TYPE (ImzalaUnblockPage, imzala_unblock_page, ADW_TYPE_BIN)

/* The form and the success page are the pages of the bin's child, which is
 * not bound to a field: gtk_widget_dispose_template() would unparent it
 * behind AdwBin's back. */
static GtkStack *
get_page_stack (ImzalaUnblockPage *self)
{
  return GTK_STACK (adw_bin_get_child (ADW_BIN (self)));
}

static gboolean
puk_way (ImzalaUnblockPage *self)
{
  return self->job == NULL && gtk_toggle_button_get_active (self->puk_toggle);
}

/* The first listing of the cards (the shared list's, or the job's own
 * wait for it) is still running: there is no card to offer yet. */
static gboolean
tokens_loading (ImzalaUnblockPage *self)
{
  if (self->job != NULL)
    return imzala_signing_job_get_tokens_loading (self->job);
  return self->token_list != NULL && imzala_token_list_get_loading (self->token_list);
}

static GPtrArray *
current_tokens (ImzalaUnblockPage *self)
{
  if (self->job != NULL)
    return imzala_signing_job_get_tokens (self->job);
  return self->tokens;
}

ImzalaToken *
imzala_unblock_page_get_token (ImzalaUnblockPage *self)
{
  GPtrArray *tokens;
  guint selected;

  g_return_val_if_fail (IMZALA_IS_UNBLOCK_PAGE (self), NULL);

  tokens = current_tokens (self);
  selected = adw_combo_row_get_selected (self->token_row);
  if (tokens == NULL || selected == GTK_INVALID_LIST_POSITION || selected >= tokens->len)
    return NULL;
  return g_ptr_array_index (tokens, selected);
}

ImzalaSigningJob *
imzala_unblock_page_get_job (ImzalaUnblockPage *self)
{
  g_return_val_if_fail (IMZALA_IS_UNBLOCK_PAGE (self), NULL);

  return self->job;
}

static char *
describe_puk_state (ImzalaToken *token)
{
  ImzalaPinState state = imzala_token_get_pin_state (token);

  if (state & IMZALA_PIN_STATE_PUK_LOCKED)
    return g_strdup (_("The PUK is locked: this card can no longer be unblocked with it."));
  if (state & IMZALA_PIN_STATE_PUK_FINAL_TRY)
    return g_strdup (_("Only one PUK try is left: if it is wrong, the PUK will be locked too."));
  if (state & IMZALA_PIN_STATE_PUK_COUNT_LOW)
    return g_strdup (_("A wrong PUK was entered before; few PUK tries are left."));
  return NULL;
}

static void
update_mode (ImzalaUnblockPage *self)
{
  gboolean show_form = self->job != NULL || puk_way (self);

  gtk_widget_set_visible (self->mode_box, self->job == NULL);
  gtk_widget_set_visible (self->code_button, self->job == NULL && !puk_way (self));
  imzala_new_pin_form_set_current_visible (self->pin_form, puk_way (self));
  gtk_widget_set_visible (GTK_WIDGET (self->token_row), show_form);
  gtk_widget_set_visible (GTK_WIDGET (self->pin_stack), show_form);
  gtk_widget_set_visible (GTK_WIDGET (self->action_stack), show_form);

  if (self->job != NULL)
    {
      ImzalaRequest *request = imzala_signing_job_get_request (self->job);
      g_autofree char *text = NULL;

      /* Translators: %s is the portal's host name, verified by TLS. */
      text = g_strdup_printf (_("%s will release the unblock authorisation for your card. Choose the card and type a new PIN twice."),
                              request ? imzala_request_get_portal_host (request) : "");
      gtk_label_set_text (self->mode_label, text);
    }
  else if (puk_way (self))
    gtk_label_set_text (self->mode_label,
                        _("Type the PUK that came with your card, then a new PIN twice."));
  else
    gtk_label_set_text (self->mode_label,
                        _("Ask for a PIN unblock on your certificate authority’s portal. It shows a verification code: enter it in İmzala and follow the steps."));
}

static void update_token (ImzalaUnblockPage *self);

static void
mode_toggled_cb (ImzalaUnblockPage *self)
{
  update_mode (self);
  update_token (self);
}

static void
set_rules (ImzalaUnblockPage *self,
           const char        *rules)
{
  gboolean show_form = self->job != NULL || puk_way (self);

  gtk_label_set_text (self->rules_label, rules ? rules : "");
  gtk_widget_set_visible (GTK_WIDGET (self->rules_label), show_form && rules != NULL && *rules != '\0');
}

static void
update_token (ImzalaUnblockPage *self)
{
  ImzalaToken *token;
  g_autofree char *headline = NULL;
  g_autofree char *length = NULL;
  g_autofree char *length_rule = NULL;
  g_autofree char *puk_state = NULL;
  g_autofree char *rules = NULL;

  if (self->filling)
    return;

  token = imzala_unblock_page_get_token (self);
  if (token == NULL)
    {
      /* As on the sign page: while the cards are read, say so at once,
       * not only when the button is pressed. */
      if (tokens_loading (self))
        gtk_label_set_text (self->state_label, _("Reading the card…"));
      else
        gtk_label_set_text (self->state_label, _("Insert the card whose PIN you want to unblock."));
      gtk_widget_remove_css_class (GTK_WIDGET (self->state_label), "error");
      set_rules (self, NULL);
      return;
    }

  if (self->job != NULL)
    imzala_signing_job_set_token (self->job, token);

  /* How the PIN stands comes first, so that nobody unblocks a PIN that
   * works; then the PUK's tries (only when they matter) and the length
   * rule (only when the card states one a person can use). */
  headline = imzala_format_pin_headline (token, TRUE);
  gtk_label_set_text (self->state_label, headline);
  if (imzala_token_get_pin_state (token) & (IMZALA_PIN_STATE_LOCKED | IMZALA_PIN_STATE_FINAL_TRY))
    gtk_widget_add_css_class (GTK_WIDGET (self->state_label), "error");
  else
    gtk_widget_remove_css_class (GTK_WIDGET (self->state_label), "error");

  /* With the portal's authorisation too: it is tried on the card like a
   * PUK, and a wrong one costs the same tries. */
  puk_state = describe_puk_state (token);
  length = imzala_format_pin_length (token);
  if (length != NULL)
    /* Translators: %s is a length such as "6–8 characters". */
    length_rule = g_strdup_printf (_("The new PIN has %s."), length);
  if (puk_state != NULL && length_rule != NULL)
    rules = g_strjoin (" ", puk_state, length_rule, NULL);
  else
    rules = g_strdup (puk_state != NULL ? puk_state : length_rule);
  set_rules (self, rules);
  imzala_new_pin_form_set_max_length (self->pin_form, imzala_token_get_max_pin_length (token));
  gtk_stack_set_visible_child_name (self->pin_stack,
                                    imzala_token_has_pin_pad (token) ? "pinpad" : "keypad");
}

static void
fill_tokens (ImzalaUnblockPage *self)
{
  g_autoptr(GtkStringList) labels = gtk_string_list_new (NULL);
  GPtrArray *tokens = current_tokens (self);
  ImzalaToken *selected = self->job ? imzala_signing_job_get_token (self->job) : NULL;
  guint position = 0;

  for (guint i = 0; tokens != NULL && i < tokens->len; i++)
    {
      /* The card's label as the card gives it, on one line. */
      g_autofree char *label = imzala_text_escape_unshown (imzala_token_get_label (g_ptr_array_index (tokens, i)));

      gtk_string_list_append (labels, label);
      if (g_ptr_array_index (tokens, i) == (gpointer) selected)
        position = i;
    }

  self->filling = TRUE;
  adw_combo_row_set_model (self->token_row, G_LIST_MODEL (labels));
  adw_combo_row_set_selected (self->token_row, position);
  self->filling = FALSE;
  update_token (self);
}

static void
tokens_changed_cb (ImzalaUnblockPage *self)
{
  g_clear_pointer (&self->tokens, g_ptr_array_unref);
  if (self->token_list != NULL)
    self->tokens = imzala_token_list_dup_tokens (self->token_list);
  if (self->job == NULL)
    fill_tokens (self);
}

void
imzala_unblock_page_set_token_list (ImzalaUnblockPage *self,
                                    ImzalaTokenList   *token_list)
{
  g_return_if_fail (IMZALA_IS_UNBLOCK_PAGE (self));
  g_return_if_fail (token_list == NULL || IMZALA_IS_TOKEN_LIST (token_list));

  if (!g_set_object (&self->token_list, token_list))
    return;
  g_signal_group_set_target (self->token_list_signals, token_list);
  tokens_changed_cb (self);
}

/* The portal way follows the job: busy while it unblocks, and back in
 * CHOOSING with the job's error when the card or the portal refused. */
static void
job_state_cb (ImzalaUnblockPage *self)
{
  ImzalaJobState state = imzala_signing_job_get_state (self->job);

  if (state == IMZALA_JOB_STATE_CHOOSING)
    {
      const GError *error = imzala_signing_job_get_error (self->job);

      imzala_unblock_page_set_busy (self, FALSE);
      imzala_unblock_page_set_error (self, error ? error->message : NULL);
    }
  else if (state == IMZALA_JOB_STATE_UNBLOCKING)
    {
      imzala_unblock_page_set_error (self, NULL);
      imzala_unblock_page_set_busy (self, TRUE);
    }
}

void
imzala_unblock_page_set_job (ImzalaUnblockPage *self,
                             ImzalaSigningJob  *job)
{
  g_return_if_fail (IMZALA_IS_UNBLOCK_PAGE (self));
  g_return_if_fail (job == NULL || IMZALA_IS_SIGNING_JOB (job));

  if (self->job == job)
    return;
  g_set_object (&self->job, job);
  g_signal_group_set_target (self->job_signals, job);
  update_mode (self);
  fill_tokens (self);
  if (job != NULL)
    job_state_cb (self);
}

gboolean
imzala_unblock_page_take_secrets (ImzalaUnblockPage *self,
                                  ImzalaSecret     **puk,
                                  ImzalaSecret     **new_pin,
                                  GError           **error)
{
  ImzalaToken *token;

  g_return_val_if_fail (IMZALA_IS_UNBLOCK_PAGE (self), FALSE);

  *puk = NULL;
  *new_pin = NULL;

  token = imzala_unblock_page_get_token (self);
  if (token == NULL)
    {
      g_set_error (error, IMZALA_ERROR, IMZALA_ERROR_NO_TOKEN,
                   _("No card was found. Insert your card and try again."));
      return FALSE;
    }
  if (imzala_token_has_pin_pad (token))
    return TRUE;

  if (self->job == NULL && imzala_new_pin_form_get_current_length (self->pin_form) == 0)
    {
      gtk_widget_grab_focus (GTK_WIDGET (self->pin_form));
      g_set_error (error, IMZALA_ERROR, IMZALA_ERROR_PUK_REQUIRED,
                   _("Type the PUK that came with your card."));
      return FALSE;
    }

  return imzala_new_pin_form_take_secrets (self->pin_form, token, puk, new_pin, error);
}

void
imzala_unblock_page_set_busy (ImzalaUnblockPage *self,
                              gboolean           busy)
{
  g_return_if_fail (IMZALA_IS_UNBLOCK_PAGE (self));

  gtk_widget_set_sensitive (self->form_box, !busy);
  gtk_stack_set_visible_child_name (self->action_stack, busy ? "progress" : "change");
  if (!busy)
    imzala_new_pin_form_reclaim_focus (self->pin_form);
}

void
imzala_unblock_page_set_error (ImzalaUnblockPage *self,
                               const char        *message)
{
  g_autofree char *shown = NULL;

  g_return_if_fail (IMZALA_IS_UNBLOCK_PAGE (self));

  /* A message may name a card or a reader as it names itself: one line. */
  shown = imzala_text_escape_unshown (message);
  gtk_label_set_text (self->error_label, shown ? shown : "");
  gtk_widget_set_visible (GTK_WIDGET (self->error_label), message != NULL);
}

void
imzala_unblock_page_reset (ImzalaUnblockPage *self)
{
  g_return_if_fail (IMZALA_IS_UNBLOCK_PAGE (self));

  gtk_stack_set_visible_child_name (get_page_stack (self), "form");
  imzala_new_pin_form_clear (self->pin_form);
  imzala_unblock_page_set_error (self, NULL);
  imzala_unblock_page_set_busy (self, FALSE);
  update_mode (self);
  update_token (self);
}

static void
unblock_pin_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(ImzalaUnblockPage) self = user_data;
  g_autoptr(GError) error = NULL;

  if (!imzala_token_unblock_pin_finish (IMZALA_TOKEN (object), result, &error) &&
      g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  imzala_unblock_page_set_busy (self, FALSE);
  if (error != NULL)
    imzala_unblock_page_set_error (self, error->message);
  else
    {
      /* A page of its own, with what to do next: a toast would cover the
       * button and be gone before it is read. */
      imzala_new_pin_form_clear (self->pin_form);
      gtk_stack_set_visible_child_name (get_page_stack (self), "done");
      if (gtk_widget_get_mapped (GTK_WIDGET (self)))
        gtk_widget_grab_focus (self->done_button);
    }
  /* The card's PIN and PUK state has changed. */
  if (self->token_list != NULL)
    imzala_token_list_refresh (self->token_list);
}

/* Unblocks now; @last_try_confirmed when the user agreed to spend the last
 * PUK try (the card refuses it otherwise, should it come to that). */
static void
start_unblock (ImzalaUnblockPage *self,
               ImzalaSecret      *puk,
               ImzalaSecret      *new_pin,
               gboolean           last_try_confirmed)
{
  if (self->job != NULL)
    {
      imzala_signing_job_unblock_full (self->job, new_pin, last_try_confirmed);
      return;
    }

  imzala_unblock_page_set_busy (self, TRUE);
  imzala_token_unblock_pin_full_async (imzala_unblock_page_get_token (self), puk, new_pin,
                                       last_try_confirmed ? IMZALA_UNBLOCK_LAST_TRY_CONFIRMED
                                                          : IMZALA_UNBLOCK_DEFAULT,
                                       self->cancellable, unblock_pin_cb, g_object_ref (self));
}

static void
last_try_response_cb (AdwMessageDialog  *dialog,
                      const char        *response,
                      ImzalaUnblockPage *self)
{
  if (g_strcmp0 (response, "use") != 0)
    return;
  start_unblock (self, g_object_get_data (G_OBJECT (dialog), "puk"),
                 g_object_get_data (G_OBJECT (dialog), "new-pin"), TRUE);
}

/* Whether the card to unblock has only one PUK try left. */
static gboolean
is_last_try (ImzalaUnblockPage *self)
{
  ImzalaToken *token;

  if (self->job != NULL)
    return imzala_signing_job_unblock_is_last_try (self->job);
  token = imzala_unblock_page_get_token (self);
  return token != NULL && (imzala_token_get_pin_state (token) & IMZALA_PIN_STATE_PUK_FINAL_TRY);
}

/* A wrong PUK on the last try destroys a Turkish card for good, and with a
 * portal's PUK the user cannot even check it: ask first. The dialog holds
 * the secrets (wiped with it) until the answer. */
static void
confirm_last_try (ImzalaUnblockPage *self,
                  ImzalaSecret      *puk,
                  ImzalaSecret      *new_pin)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  AdwMessageDialog *dialog;

  dialog = ADW_MESSAGE_DIALOG (adw_message_dialog_new (GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL,
                                                       _("Use the Last PUK Try?"),
                                                       _("Only one PUK try is left on this card. If "
                                                         "the PUK is wrong, the card is locked for "
                                                         "good and must be replaced.")));
  adw_message_dialog_add_responses (dialog, "cancel", _("_Cancel"),
                                    "use", _("_Use the Last Try"), NULL);
  adw_message_dialog_set_response_appearance (dialog, "use", ADW_RESPONSE_DESTRUCTIVE);
  adw_message_dialog_set_default_response (dialog, "cancel");
  adw_message_dialog_set_close_response (dialog, "cancel");
  if (puk != NULL)
    g_object_set_data_full (G_OBJECT (dialog), "puk", imzala_secret_ref (puk),
                            (GDestroyNotify) imzala_secret_unref);
  g_object_set_data_full (G_OBJECT (dialog), "new-pin", imzala_secret_ref (new_pin),
                          (GDestroyNotify) imzala_secret_unref);
  g_signal_connect_object (dialog, "response", G_CALLBACK (last_try_response_cb), self, 0);
  gtk_window_present (GTK_WINDOW (dialog));
}

/* Kilidi Çöz: with the PUK on the card directly, or through the portal's
 * unblock job, which then reports through its state. */
static void
unblock_pin_action (GtkWidget  *widget,
                    const char *action_name,
                    GVariant   *parameter)
{
  ImzalaUnblockPage *self = IMZALA_UNBLOCK_PAGE (widget);
  g_autoptr(ImzalaSecret) puk = NULL;
  g_autoptr(ImzalaSecret) new_pin = NULL;
  g_autoptr(GError) error = NULL;

  if (!imzala_unblock_page_take_secrets (self, &puk, &new_pin, &error))
    {
      imzala_unblock_page_set_error (self, error->message);
      return;
    }
  imzala_unblock_page_set_error (self, NULL);

  if (is_last_try (self))
    confirm_last_try (self, puk, new_pin);
  else
    start_unblock (self, puk, new_pin, FALSE);
}

static void
form_activate_cb (ImzalaUnblockPage *self)
{
  gtk_widget_activate_action (GTK_WIDGET (self), "unblock.unblock-pin", NULL);
}

static void
imzala_unblock_page_dispose (GObject *object)
{
  ImzalaUnblockPage *self = IMZALA_UNBLOCK_PAGE (object);

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->job_signals);
  g_clear_object (&self->job);
  g_clear_object (&self->token_list_signals);
  g_clear_object (&self->token_list);
  g_clear_object (&self->cancellable);
  gtk_widget_dispose_template (GTK_WIDGET (self), IMZALA_TYPE_UNBLOCK_PAGE);
  g_clear_pointer (&self->tokens, g_ptr_array_unref);

  G_OBJECT_CLASS (imzala_unblock_page_parent_class)->dispose (object);
}

static void
imzala_unblock_page_class_init (ImzalaUnblockPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = imzala_unblock_page_dispose;

  g_type_ensure (IMZALA_TYPE_NEW_PIN_FORM);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/imzala/Imzala/pages/imzala-unblock-page.ui");
  gtk_widget_class_bind_template_child (widget_class, ImzalaUnblockPage, form_box);
  gtk_widget_class_bind_template_child (widget_class, ImzalaUnblockPage, state_label);
  gtk_widget_class_bind_template_child (widget_class, ImzalaUnblockPage, done_button);
  gtk_widget_class_bind_template_child (widget_class, ImzalaUnblockPage, mode_box);
  gtk_widget_class_bind_template_child (widget_class, ImzalaUnblockPage, puk_toggle);
  gtk_widget_class_bind_template_child (widget_class, ImzalaUnblockPage, mode_label);
  gtk_widget_class_bind_template_child (widget_class, ImzalaUnblockPage, code_button);
  gtk_widget_class_bind_template_child (widget_class, ImzalaUnblockPage, token_row);
  gtk_widget_class_bind_template_child (widget_class, ImzalaUnblockPage, rules_label);
  gtk_widget_class_bind_template_child (widget_class, ImzalaUnblockPage, pin_stack);
  gtk_widget_class_bind_template_child (widget_class, ImzalaUnblockPage, pin_form);
  gtk_widget_class_bind_template_child (widget_class, ImzalaUnblockPage, error_label);
  gtk_widget_class_bind_template_child (widget_class, ImzalaUnblockPage, action_stack);
  gtk_widget_class_bind_template_callback (widget_class, update_token);
  gtk_widget_class_bind_template_callback (widget_class, mode_toggled_cb);
  gtk_widget_class_bind_template_callback (widget_class, form_activate_cb);

  gtk_widget_class_install_action (widget_class, "unblock.unblock-pin", NULL, unblock_pin_action);
}

static void
imzala_unblock_page_init (ImzalaUnblockPage *self)
{
  self->cancellable = g_cancellable_new ();
  self->token_list_signals = g_signal_group_new (IMZALA_TYPE_TOKEN_LIST);
  g_signal_group_connect_object (self->token_list_signals, "items-changed",
                                 G_CALLBACK (tokens_changed_cb), self, G_CONNECT_SWAPPED);
  g_signal_group_connect_object (self->token_list_signals, "notify::loading",
                                 G_CALLBACK (update_token), self, G_CONNECT_SWAPPED);
  self->job_signals = g_signal_group_new (IMZALA_TYPE_SIGNING_JOB);
  g_signal_group_connect_object (self->job_signals, "notify::tokens",
                                 G_CALLBACK (fill_tokens), self, G_CONNECT_SWAPPED);
  g_signal_group_connect_object (self->job_signals, "notify::tokens-loading",
                                 G_CALLBACK (update_token), self, G_CONNECT_SWAPPED);
  g_signal_group_connect_object (self->job_signals, "notify::state",
                                 G_CALLBACK (job_state_cb), self, G_CONNECT_SWAPPED);

  gtk_widget_init_template (GTK_WIDGET (self));
  update_mode (self);
  update_token (self);
}
