#define G_LOG_DOMAIN "imzala-gui"

#include "config.h"

#include <glib/gi18n.h>

#include "imzala-card-cause.h"
#include "imzala-certificate-row.h"
#include "imzala-error.h"
#include "imzala-sign-page-private.h"
#include "imzala-text.h"

void
imzala_sign_page_update_selection (ImzalaSignPage *self)
{
  ImzalaCertificate *selected = self->job ? imzala_signing_job_get_certificate (self->job) : NULL;
  ImzalaCertificateRow *selected_row = NULL;
  ImzalaToken *login_card;
  GtkWidget *child;
  guint n_items;

  self->updating_selection = TRUE;
  gtk_list_box_unselect_all (self->certificates_list);
  for (child = gtk_widget_get_first_child (GTK_WIDGET (self->certificates_list));
       child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      ImzalaCertificateRow *row;
      gboolean is_selected;

      if (!IMZALA_IS_CERTIFICATE_ROW (child))
        continue;
      row = IMZALA_CERTIFICATE_ROW (child);
      is_selected = selected != NULL && imzala_certificate_row_get_certificate (row) == selected;
      if (is_selected)
        {
          gtk_list_box_select_row (self->certificates_list, GTK_LIST_BOX_ROW (row));
          selected_row = row;
        }
      imzala_certificate_row_set_selected (row, is_selected);
    }
  self->updating_selection = FALSE;

  /* The button shows the chosen certificate as its row says it, or the
   * card the PIN will open (which other cards' list can change), or asks
   * for a choice; with neither a certificate nor such a card the
   * placeholder speaks. */
  n_items = self->certificates != NULL ? g_list_model_get_n_items (self->certificates) : 0;
  login_card = self->job != NULL && imzala_signing_job_get_needs_login (self->job)
    ? imzala_signing_job_get_token (self->job) : NULL;
  gtk_widget_set_visible (GTK_WIDGET (self->certificate_button), n_items > 0 || login_card != NULL);
  gtk_widget_set_visible (GTK_WIDGET (self->certificates_placeholder), n_items == 0 && login_card == NULL);
  gtk_widget_set_visible (GTK_WIDGET (self->certificates_list), n_items > 0);
  if (selected_row != NULL)
    {
      const char *summary = imzala_certificate_row_get_summary (selected_row);

      gtk_label_set_text (self->certificate_title,
                          adw_preferences_row_get_title (ADW_PREFERENCES_ROW (selected_row)));
      gtk_label_set_text (self->certificate_summary, summary ? summary : "");
      gtk_widget_set_visible (GTK_WIDGET (self->certificate_summary), summary != NULL && *summary != '\0');
    }
  else if (login_card != NULL)
    {
      /* A card chosen (or preferred) that shows its certificates after the
       * PIN: the PIN field logs in to it. */
      g_autofree char *label = imzala_text_escape_unshown (imzala_token_get_label (login_card));

      gtk_label_set_text (self->certificate_title, label);
      gtk_label_set_text (self->certificate_summary,
                          _("The certificates on this card are shown after the PIN is entered."));
      gtk_widget_set_visible (GTK_WIDGET (self->certificate_summary), TRUE);
    }
  else
    {
      g_autoptr(GError) why = NULL;
      g_autofree char *message = NULL;

      /* Translators: Sertifika seçin (several, none preselected). */
      gtk_label_set_text (self->certificate_title, _("Choose a certificate"));
      /* None of those listed is the requester's: the job says whose card
       * the request wants, before the user types a PIN. */
      if (n_items > 0 && self->job != NULL && !imzala_signing_job_can_sign (self->job, &why) &&
          g_error_matches (why, IMZALA_ERROR, IMZALA_ERROR_NO_CERTIFICATE))
        {
          /* It may name a card as the card names itself: one line. */
          message = imzala_text_escape_unshown (why->message);
          gtk_label_set_text (self->certificate_summary, message);
        }
      else
        g_clear_error (&why);
      gtk_widget_set_visible (GTK_WIDGET (self->certificate_summary), why != NULL);
    }
}

/* A card that shows its certificates only after the PIN while other cards
 * show theirs is offered under the list of certificates; choosing it clears
 * the certificate and the PIN logs in to it (win.sign, "needs-login"). */
void
imzala_sign_page_update_hidden_card (ImzalaSignPage *self)
{
  ImzalaToken *token = self->job ? imzala_signing_job_get_hidden_token (self->job) : NULL;

  if (token != NULL)
    {
      /* The card's label as the card gives it, on one line. */
      g_autofree char *card = imzala_text_escape_unshown (imzala_token_get_label (token));
      /* Translators: “%s” kartındaki sertifikaları göster (the card's label). */
      g_autofree char *text = g_strdup_printf (_("Show the certificates on “%s”"), card);
      GtkWidget *label;

      gtk_button_set_label (GTK_BUTTON (self->hidden_card_button), text);
      /* A long card label wraps instead of widening a narrow window. */
      label = gtk_button_get_child (GTK_BUTTON (self->hidden_card_button));
      if (GTK_IS_LABEL (label))
        {
          gtk_label_set_wrap (GTK_LABEL (label), TRUE);
          gtk_label_set_wrap_mode (GTK_LABEL (label), PANGO_WRAP_WORD_CHAR);
          gtk_label_set_xalign (GTK_LABEL (label), 0.0);
        }
    }
  gtk_widget_set_visible (self->hidden_card_button, token != NULL);
}

/* What imzala_signing_job_get_hidden_token() changes with. */
const char *const imzala_sign_page_hidden_card_signals[] = {
  "notify::tokens", "notify::needs-login", "notify::token", "notify::logged-in", "notify::state",
};
const gsize imzala_sign_page_n_hidden_card_signals = G_N_ELEMENTS (imzala_sign_page_hidden_card_signals);

static void
hidden_card_button_clicked_cb (ImzalaSignPage *self)
{
  ImzalaToken *token = self->job ? imzala_signing_job_get_hidden_token (self->job) : NULL;

  gtk_popover_popdown (self->certificate_popover);
  if (token != NULL && imzala_signing_job_set_token (self->job, token))
    imzala_sign_page_focus_pin (self);
}

/* A row says whose the certificate is when the portal named the requester,
 * and on which card it is when there are several. */
static GtkWidget *
create_certificate_row (gpointer item,
                        gpointer user_data)
{
  ImzalaSignPage *self = user_data;
  ImzalaCertificate *certificate = IMZALA_CERTIFICATE (item);
  GPtrArray *tokens = self->job ? imzala_signing_job_get_tokens (self->job) : NULL;
  ImzalaToken *token = tokens ? imzala_module_set_find_token (tokens, certificate) : NULL;

  return imzala_certificate_row_new (certificate,
                                     token != NULL && tokens->len > 1 ? imzala_token_get_label (token) : NULL,
                                     self->job != NULL && imzala_signing_job_is_other_persons (self->job, certificate));
}

static void
row_selected_cb (ImzalaSignPage *self,
                 GtkListBoxRow  *row,
                 GtkListBox     *list)
{
  ImzalaCertificate *certificate;

  if (self->updating_selection || self->job == NULL || row == NULL)
    return;

  certificate = imzala_certificate_row_get_certificate (IMZALA_CERTIFICATE_ROW (row));
  if (certificate != imzala_signing_job_get_certificate (self->job))
    imzala_signing_job_set_certificate (self->job, certificate);
  imzala_sign_page_update_selection (self);
  gtk_popover_popdown (self->certificate_popover);
}

/* The list of every certificate opens under the button. */
static void
certificate_button_clicked_cb (ImzalaSignPage *self)
{
  graphene_rect_t bounds;

  /* A card to log in to and no other to offer: nothing to choose. */
  if ((self->certificates == NULL || g_list_model_get_n_items (self->certificates) == 0) &&
      (self->job == NULL || imzala_signing_job_get_hidden_token (self->job) == NULL))
    return;
  if (!gtk_widget_compute_bounds (self->certificate_button, GTK_WIDGET (self), &bounds))
    return;
  gtk_popover_set_pointing_to (self->certificate_popover,
                               &(GdkRectangle) { bounds.origin.x, bounds.origin.y,
                                                 bounds.size.width, bounds.size.height });
  gtk_popover_popup (self->certificate_popover);
}

/* A click on the row already chosen closes the list too. */
static void
row_activated_cb (ImzalaSignPage *self,
                  GtkListBoxRow  *row,
                  GtkListBox     *list)
{
  gtk_popover_popdown (self->certificate_popover);
}

/* What the empty certificate list says: the card is being read (OpenSC can
 * take seconds over a new card), or why there is no certificate, with the
 * true cause instead of "insert your card". */
void
imzala_sign_page_update_placeholder (ImzalaSignPage *self)
{
  ImzalaCardCause card_cause;
  GPtrArray *tokens = self->job ? imzala_signing_job_get_tokens (self->job) : NULL;
  g_autoptr(GError) cause = NULL;
  g_autofree char *message = NULL;
  GListModel *readers = NULL;
  const GError *pcsc_error = NULL;
  ImzalaReader *reader = NULL;

  /* The job shows the request before its first listing of the cards is
   * in; later listings are the shared list's. */
  if ((self->job != NULL && imzala_signing_job_get_tokens_loading (self->job)) ||
      (self->token_list != NULL && imzala_token_list_get_loading (self->token_list)))
    {
      /* Translators: Kart okunuyor… */
      gtk_label_set_text (self->certificates_placeholder, _("Reading the card…"));
      return;
    }

  /* A card that shows its certificates only after the PIN: the PIN field
   * below opens it (win.sign logs in first). */
  if (self->job != NULL && imzala_signing_job_get_needs_login (self->job))
    {
      /* Translators: Sertifikalar PIN girildikten sonra görünür. */
      gtk_label_set_text (self->certificates_placeholder,
                          _("The certificates on this card are shown after the PIN is entered."));
      return;
    }

  if (self->reader_monitor != NULL)
    {
      if (imzala_reader_monitor_get_available (self->reader_monitor))
        readers = G_LIST_MODEL (self->reader_monitor);
      pcsc_error = imzala_reader_monitor_get_error (self->reader_monitor);
    }
  /* Two statements: C does not say which argument is evaluated first, and
   * the cause's message names the reader that find() sets. */
  card_cause = imzala_card_cause_find (readers, pcsc_error, tokens, &reader);
  cause = imzala_card_cause_to_error (card_cause, reader);
  /* The cause names the reader as the reader names itself: one line. */
  message = cause != NULL ? imzala_text_escape_unshown (cause->message) : NULL;
  gtk_label_set_text (self->certificates_placeholder,
                      message != NULL ? message : _("No certificate for signing was found. Insert your card."));
}

static void
certificates_changed_cb (ImzalaSignPage *self)
{
  imzala_sign_page_update_selection (self);
}

void
imzala_sign_page_update_certificates (ImzalaSignPage *self)
{
  GListModel *certificates = self->job ? imzala_signing_job_get_certificates (self->job) : NULL;

  if (self->certificates != NULL)
    g_clear_signal_handler (&self->certificates_changed_id, self->certificates);
  g_set_object (&self->certificates, certificates);
  gtk_list_box_bind_model (self->certificates_list, certificates, create_certificate_row, self, NULL);
  /* The job rebuilds the list in place (a card event, the requester known):
   * the list box makes new rows first, then they get the check mark and
   * the selection again. */
  if (certificates != NULL)
    self->certificates_changed_id = g_signal_connect_object (certificates, "items-changed",
                                                             G_CALLBACK (certificates_changed_cb), self,
                                                             G_CONNECT_SWAPPED | G_CONNECT_AFTER);
  imzala_sign_page_update_selection (self);
  imzala_sign_page_update_placeholder (self);
}

void
imzala_sign_page_bind_certificate_callbacks (GtkWidgetClass *widget_class)
{
  gtk_widget_class_bind_template_callback (widget_class, row_selected_cb);
  gtk_widget_class_bind_template_callback (widget_class, row_activated_cb);
  gtk_widget_class_bind_template_callback (widget_class, certificate_button_clicked_cb);
  gtk_widget_class_bind_template_callback (widget_class, hidden_card_button_clicked_cb);
}
