#define G_LOG_DOMAIN "imzala-gui"

#include "config.h"

#include <glib/gi18n.h>

#include "imzala-card-cause.h"
#include "imzala-certificate-row.h"
#include "imzala-error.h"
#include "imzala-format.h"
#include "imzala-pin-entry.h"
#include "imzala-pin-keypad.h"
#include "imzala-request-text-view.h"
#include "imzala-sign-page.h"

/* Below this width (logical pixels) the PIN pane goes under the details
 * instead of beside them: two columns of less than 300 pixels make the
 * texts and the certificate rows too narrow to read. */
#define WIDE_MIN_WIDTH 600
/* The PIN pane's width beside the details: the keypad and a two-line
 * message (its labels wrap at 32 characters). */
#define PIN_PANE_WIDTH 300

struct _ImzalaSignPage
{
  AdwBin           parent_instance;

  GtkWidget        *columns_box;
  GtkWidget        *request_pane;
  GtkWidget        *details_pane;
  GtkWidget        *certificate_box;
  GtkWidget        *pane_separator;
  GtkWidget        *pin_pane;
  GtkWidget        *sign_button;
  GtkWidget        *content_box;
  GtkLabel         *purpose_label;
  GtkLabel         *portal_label;
  GtkLabel         *requester_label;
  GtkBox           *texts_box;
  GtkLabel         *created_label;
  GtkLabel         *remaining_label;
  GtkProgressBar   *remaining_bar;
  GtkListBox       *certificates_list;
  GtkLabel         *certificates_placeholder;
  GtkWidget        *certificate_button;
  GtkPopover       *certificate_popover;
  GtkLabel         *certificate_title;
  GtkLabel         *certificate_summary;
  GtkWidget        *hidden_card_button;
  GtkLabel         *pin_state_label;
  GtkLabel         *status_notice_label;
  GtkStack         *pin_stack;
  ImzalaPinEntry   *pin_entry;
  ImzalaPinKeypad  *keypad;
  GtkLabel         *error_label;
  GtkStack         *action_stack;
  GtkLabel         *progress_label;
  GtkWidget        *cancel_button;

  ImzalaSigningJob *job;
  GSignalGroup     *job_signals;
  GPtrArray        *text_widgets;
  gboolean          updating_selection;
  gboolean          wide;
  /* Enter was pressed with a PIN while the card was still being read: the
   * signature starts when it is. */
  gboolean          sign_when_read;
  ImzalaJobState    last_state;
  GListModel       *certificates;   /* the job's, whose rows the list shows */
  gulong            certificates_changed_id;

  /* Only for what to say when there is no certificate. */
  ImzalaTokenList     *token_list;
  GSignalGroup        *token_list_signals;
  ImzalaReaderMonitor *reader_monitor;
  GSignalGroup        *reader_monitor_signals;
};

G_DEFINE_FINAL_TYPE (ImzalaSignPage, imzala_sign_page, ADW_TYPE_BIN)

enum {
  PROP_0,
  PROP_READY,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static gboolean
token_has_pin_pad (ImzalaSignPage *self)
{
  ImzalaToken *token = self->job ? imzala_signing_job_get_token (self->job) : NULL;

  return token != NULL && imzala_token_has_pin_pad (token);
}

/* The PIN was entered to show the card's certificates: the session it
 * opened signs, without a second entry. */
static gboolean
job_logged_in (ImzalaSignPage *self)
{
  return self->job != NULL && imzala_signing_job_get_logged_in (self->job);
}

gboolean
imzala_sign_page_get_ready (ImzalaSignPage *self)
{
  g_return_val_if_fail (IMZALA_IS_SIGN_PAGE (self), FALSE);

  return job_logged_in (self) || token_has_pin_pad (self) || imzala_pin_entry_get_length (self->pin_entry) > 0;
}

ImzalaSecret *
imzala_sign_page_take_pin (ImzalaSignPage *self)
{
  ImzalaSecret *secret;
  ImzalaSecret *pin;

  g_return_val_if_fail (IMZALA_IS_SIGN_PAGE (self), NULL);

  if (job_logged_in (self) || token_has_pin_pad (self))
    return NULL;

  /* A copy in a fresh secret: the job holds it while signing, and the field
   * is wiped now so that the PIN is not kept on screen for a retry. */
  secret = imzala_pin_entry_get_secret (self->pin_entry);
  pin = imzala_secret_new_from_data (imzala_secret_get_data (secret), imzala_secret_get_length (secret));
  imzala_pin_entry_clear (self->pin_entry);
  return pin;
}

/* The PIN state, the certificate's status notice and the message share
 * one place above the PIN field, so that the keypad stays in view on a
 * small screen: a message (a wrong PIN's says the tries left itself) is
 * the news of the moment, and the others come back when it goes. */
static void
update_pin_state_visible (ImzalaSignPage *self)
{
  gboolean message = gtk_widget_get_visible (GTK_WIDGET (self->error_label));

  gtk_widget_set_visible (GTK_WIDGET (self->pin_state_label),
                          *gtk_label_get_text (self->pin_state_label) != '\0' && !message);
  gtk_widget_set_visible (GTK_WIDGET (self->status_notice_label),
                          *gtk_label_get_text (self->status_notice_label) != '\0' && !message);
}

/* A message above the PIN field: in red when something went wrong, in
 * plain words when it only says what happens next (the card is still
 * being read). */
static void
set_message (ImzalaSignPage *self,
             const char     *message,
             gboolean        is_error)
{
  if (is_error)
    gtk_widget_add_css_class (GTK_WIDGET (self->error_label), "error");
  else
    gtk_widget_remove_css_class (GTK_WIDGET (self->error_label), "error");
  gtk_label_set_text (self->error_label, message ? message : "");
  gtk_widget_set_visible (GTK_WIDGET (self->error_label), message != NULL);
  update_pin_state_visible (self);
  /* A screen reader reads the message with the PIN field when the focus
   * comes back to it (GTK 4.8 cannot announce it by itself). */
  if (message != NULL)
    gtk_accessible_update_property (GTK_ACCESSIBLE (self->pin_entry),
                                    GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, message,
                                    -1);
  else
    gtk_accessible_reset_property (GTK_ACCESSIBLE (self->pin_entry),
                                   GTK_ACCESSIBLE_PROPERTY_DESCRIPTION);
}

void
imzala_sign_page_set_error (ImzalaSignPage *self,
                            const char     *message)
{
  g_return_if_fail (IMZALA_IS_SIGN_PAGE (self));

  set_message (self, message, TRUE);
}

/* Where the user types next: the PIN field, or İMZALA when the PIN is not
 * typed here (a pin-pad reader, a card already logged in to). Never the
 * window's back button, where Enter would drop the request. */
void
imzala_sign_page_focus_pin (ImzalaSignPage *self)
{
  g_return_if_fail (IMZALA_IS_SIGN_PAGE (self));

  if (!token_has_pin_pad (self) && !job_logged_in (self))
    gtk_widget_grab_focus (GTK_WIDGET (self->pin_entry));
  else
    gtk_widget_grab_focus (self->sign_button);
}

void
imzala_sign_page_type_early (ImzalaSignPage *self,
                             const char     *digit)
{
  g_return_if_fail (IMZALA_IS_SIGN_PAGE (self));

  if (digit == NULL)
    imzala_pin_entry_backspace (self->pin_entry);
  else
    imzala_pin_entry_append (self->pin_entry, digit);
}

static void
update_request (ImzalaSignPage *self)
{
  ImzalaRequest *request = self->job ? imzala_signing_job_get_request (self->job) : NULL;
  g_autofree char *created = NULL;
  g_autofree char *requester = NULL;
  const char *title;

  for (guint i = 0; i < self->text_widgets->len; i++)
    gtk_box_remove (self->texts_box, g_ptr_array_index (self->text_widgets, i));
  g_ptr_array_set_size (self->text_widgets, 0);

  if (request == NULL)
    return;

  title = imzala_request_get_title (request);
  gtk_label_set_text (self->purpose_label,
                      title && *title ? title : imzala_purpose_get_label (imzala_request_get_purpose (request)));
  gtk_label_set_text (self->portal_label, imzala_request_get_portal_host (request));

  if (imzala_request_get_requester_name (request) != NULL)
    {
      g_autofree char *who = imzala_request_dup_requester (request);

      /* Translators: the person the portal says asked: "AYŞE YILMAZ
       * (123******50)", name and masked T.C. no. */
      requester = g_strdup_printf (_("Requested by %s"), who);
    }
  gtk_label_set_text (self->requester_label, requester ? requester : "");
  gtk_widget_set_visible (GTK_WIDGET (self->requester_label), requester != NULL);

  created = imzala_format_time (imzala_request_get_created_at (request));
  gtk_label_set_text (self->created_label, created ? created : "");

  for (guint i = 0; i < imzala_request_get_n_texts (request); i++)
    {
      GtkWidget *widget = imzala_request_text_view_new (imzala_request_get_text (request, i), i);

      gtk_box_append (self->texts_box, widget);
      g_ptr_array_add (self->text_widgets, widget);
    }
}

static void
update_remaining (ImzalaSignPage *self)
{
  ImzalaRequest *request = self->job ? imzala_signing_job_get_request (self->job) : NULL;
  gint64 remaining = self->job ? imzala_signing_job_get_remaining_seconds (self->job) : 0;
  g_autofree char *text = NULL;
  double total = 0;

  if (request != NULL)
    total = (double) g_date_time_difference (imzala_request_get_expires_at (request),
                                             imzala_request_get_created_at (request)) / G_TIME_SPAN_SECOND;

  text = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                       "Time left: %d second",
                                       "Time left: %d seconds",
                                       (gulong) remaining),
                          (int) remaining);
  gtk_label_set_text (self->remaining_label, text);
  gtk_progress_bar_set_fraction (self->remaining_bar,
                                 total > 0 ? CLAMP ((double) remaining / total, 0.0, 1.0) : 0.0);
  if (remaining < 60)
    gtk_widget_add_css_class (GTK_WIDGET (self->remaining_label), "warning");
  else
    gtk_widget_remove_css_class (GTK_WIDGET (self->remaining_label), "warning");
}

static void
update_token (ImzalaSignPage *self)
{
  ImzalaToken *token = self->job ? imzala_signing_job_get_token (self->job) : NULL;
  g_autofree char *pin_state = NULL;

  if (token != NULL)
    {
      pin_state = imzala_format_pin_state (token);
      imzala_pin_entry_set_max_length (self->pin_entry, imzala_token_get_max_pin_length (token));
    }
  /* Only a state that changes what the user does is said (few tries left,
   * locked, to be changed); "not locked" is not news, and a pin-pad reader
   * is explained by the page under it. */
  if (token == NULL || (imzala_token_get_pin_state (token) & (IMZALA_PIN_STATE_LOCKED | IMZALA_PIN_STATE_FINAL_TRY |
                                                              IMZALA_PIN_STATE_COUNT_LOW |
                                                              IMZALA_PIN_STATE_TO_BE_CHANGED)) == 0)
    g_clear_pointer (&pin_state, g_free);
  gtk_label_set_text (self->pin_state_label, pin_state ? pin_state : "");
  update_pin_state_visible (self);
  if (token != NULL && (imzala_token_get_pin_state (token) & (IMZALA_PIN_STATE_LOCKED | IMZALA_PIN_STATE_FINAL_TRY)))
    gtk_widget_add_css_class (GTK_WIDGET (self->pin_state_label), "error");
  else
    gtk_widget_remove_css_class (GTK_WIDGET (self->pin_state_label), "error");

  /* On a pin-pad reader the keypad gives way: the PIN never passes through
   * this computer. */
  gtk_stack_set_visible_child_name (self->pin_stack,
                                    job_logged_in (self) ? "logged-in"
                                    : token_has_pin_pad (self) ? "pinpad" : "keypad");
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_READY]);
}

static void
update_selection (ImzalaSignPage *self)
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
      gtk_label_set_text (self->certificate_title, imzala_token_get_label (login_card));
      gtk_label_set_text (self->certificate_summary,
                          _("The certificates on this card are shown after the PIN is entered."));
      gtk_widget_set_visible (GTK_WIDGET (self->certificate_summary), TRUE);
    }
  else
    {
      g_autoptr(GError) why = NULL;

      /* Translators: Sertifika seçin (several, none preselected). */
      gtk_label_set_text (self->certificate_title, _("Choose a certificate"));
      /* None of those listed is the requester's: the job says whose card
       * the request wants, before the user types a PIN. */
      if (n_items > 0 && self->job != NULL && !imzala_signing_job_can_sign (self->job, &why) &&
          g_error_matches (why, IMZALA_ERROR, IMZALA_ERROR_NO_CERTIFICATE))
        gtk_label_set_text (self->certificate_summary, why->message);
      else
        g_clear_error (&why);
      gtk_widget_set_visible (GTK_WIDGET (self->certificate_summary), why != NULL);
    }
}

/* A card that shows its certificates only after the PIN while other cards
 * show theirs is offered under the list of certificates; choosing it clears
 * the certificate and the PIN logs in to it (win.sign, "needs-login"). */
static void
update_hidden_card (ImzalaSignPage *self)
{
  ImzalaToken *token = self->job ? imzala_signing_job_get_hidden_token (self->job) : NULL;

  if (token != NULL)
    {
      /* Translators: “%s” kartındaki sertifikaları göster (the card's label). */
      g_autofree char *text = g_strdup_printf (_("Show the certificates on “%s”"),
                                               imzala_token_get_label (token));
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
static const char *const hidden_card_signals[] = {
  "notify::tokens", "notify::needs-login", "notify::token", "notify::logged-in", "notify::state",
};

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
  update_selection (self);
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
static void
update_placeholder (ImzalaSignPage *self)
{
  ImzalaCardCause card_cause;
  GPtrArray *tokens = self->job ? imzala_signing_job_get_tokens (self->job) : NULL;
  g_autoptr(GError) cause = NULL;
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
  gtk_label_set_text (self->certificates_placeholder,
                      cause != NULL ? cause->message
                                    : _("No certificate for signing was found. Insert your card."));
}

static void
certificates_changed_cb (ImzalaSignPage *self)
{
  update_selection (self);
}

static void
update_certificates (ImzalaSignPage *self)
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
  update_selection (self);
  update_placeholder (self);
}

/* Issue 10: the chosen certificate's status, in one label: being asked, or
 * what the user should know (it could not be checked). A revoked one ends
 * on the failure page instead. */
static void
update_status_notice (ImzalaSignPage *self)
{
  const char *notice = self->job != NULL ? imzala_signing_job_get_status_notice (self->job) : NULL;

  if (self->job != NULL && imzala_signing_job_get_status_checking (self->job))
    notice = _("Checking whether your certificate has been revoked…");
  gtk_label_set_text (self->status_notice_label, notice != NULL ? notice : "");
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->status_notice_label), notice);
  if (notice != NULL)
    gtk_accessible_update_property (GTK_ACCESSIBLE (self->status_notice_label),
                                    GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, notice,
                                    -1);
  else
    gtk_accessible_reset_property (GTK_ACCESSIBLE (self->status_notice_label),
                                   GTK_ACCESSIBLE_PROPERTY_DESCRIPTION);
  update_pin_state_visible (self);
}

/* While signing on a pin pad, the job says which entry the reader waits
 * for (the second one for a key that wants the PIN for every signature). */
static void
update_progress (ImzalaSignPage *self)
{
  ImzalaJobState state = self->job != NULL ? imzala_signing_job_get_state (self->job) : IMZALA_JOB_STATE_IDLE;
  const char *prompt = self->job != NULL ? imzala_signing_job_get_pin_pad_prompt (self->job) : NULL;

  if ((state == IMZALA_JOB_STATE_SIGNING || state == IMZALA_JOB_STATE_LOGGING_IN) && prompt != NULL)
    gtk_label_set_text (self->progress_label, prompt);
  else if (state == IMZALA_JOB_STATE_LOGGING_IN)
    gtk_label_set_text (self->progress_label,
                        token_has_pin_pad (self)
                        ? _("Enter your PIN on the card reader…")
                        : _("Reading the certificates on the card…"));
  else if (state == IMZALA_JOB_STATE_SIGNING)
    gtk_label_set_text (self->progress_label,
                        token_has_pin_pad (self)
                        ? _("Enter your PIN on the card reader…")
                        : _("Signing on the card…"));
  else if (state == IMZALA_JOB_STATE_SUBMITTING)
    gtk_label_set_text (self->progress_label, _("Sending the signature to the portal…"));
}

static void
update_state (ImzalaSignPage *self)
{
  ImzalaJobState state = self->job ? imzala_signing_job_get_state (self->job) : IMZALA_JOB_STATE_IDLE;
  gboolean busy = state == IMZALA_JOB_STATE_SIGNING || state == IMZALA_JOB_STATE_SUBMITTING ||
                  state == IMZALA_JOB_STATE_LOGGING_IN;

  gtk_widget_set_sensitive (self->content_box, !busy);
  gtk_widget_set_sensitive (self->certificate_box, !busy);
  gtk_widget_set_sensitive (GTK_WIDGET (self->pin_stack), !busy);
  gtk_stack_set_visible_child_name (self->action_stack, busy ? "progress" : "sign");
  /* The job's error is what the user has to know before trying again (a
   * wrong PIN and its tries left); while the card works there is none. */
  if (state == IMZALA_JOB_STATE_CHOOSING)
    {
      const GError *error = imzala_signing_job_get_error (self->job);

      imzala_sign_page_set_error (self, error ? error->message : NULL);
    }
  else if (busy)
    imzala_sign_page_set_error (self, NULL);
  /* Back from the card (a wrong PIN, a removed card): the focus goes where
   * the user types again, the field now empty and the message above it.
   * While the card works nothing has the focus: Escape cancels (the
   * window's binding), and Enter or Space typed a moment too late does
   * not stop the signature. */
  if (state == IMZALA_JOB_STATE_CHOOSING && self->last_state != IMZALA_JOB_STATE_CHOOSING &&
      gtk_widget_get_mapped (GTK_WIDGET (self)))
    imzala_sign_page_focus_pin (self);
  else if (busy && gtk_widget_get_mapped (GTK_WIDGET (self)))
    {
      GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));

      if (GTK_IS_WINDOW (root))
        gtk_window_set_focus (GTK_WINDOW (root), NULL);
    }
  self->last_state = state;

  update_progress (self);
}

static void
request_changed_cb (ImzalaSignPage *self)
{
  update_request (self);
  update_remaining (self);
}

void
imzala_sign_page_set_job (ImzalaSignPage   *self,
                          ImzalaSigningJob *job)
{
  g_return_if_fail (IMZALA_IS_SIGN_PAGE (self));
  g_return_if_fail (job == NULL || IMZALA_IS_SIGNING_JOB (job));

  if (self->job == job)
    return;

  g_set_object (&self->job, job);
  g_signal_group_set_target (self->job_signals, job);

  imzala_pin_entry_clear (self->pin_entry);
  imzala_sign_page_set_error (self, NULL);
  self->sign_when_read = FALSE;
  self->last_state = IMZALA_JOB_STATE_IDLE;
  update_request (self);
  update_remaining (self);
  update_certificates (self);
  update_token (self);
  update_state (self);
  update_status_notice (self);
  update_hidden_card (self);
}

static void
pin_changed_cb (ImzalaSignPage *self)
{
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_READY]);
}

static gboolean
cards_loading (ImzalaSignPage *self)
{
  return (self->job != NULL && imzala_signing_job_get_tokens_loading (self->job)) ||
         (self->token_list != NULL && imzala_token_list_get_loading (self->token_list));
}

/* Enter in the PIN field is İMZALA; with no PIN yet (win.sign is disabled
 * then) it says what is missing instead of doing nothing. A PIN typed while
 * the card is still being read is kept, and the signature starts when the
 * card has been read (cards_read_cb()). */
static void
pin_activate_cb (ImzalaSignPage *self)
{
  g_autoptr(GError) error = NULL;

  if (!imzala_sign_page_get_ready (self))
    {
      imzala_sign_page_set_error (self, _("Type your PIN first."));
      return;
    }
  if (self->job != NULL && imzala_signing_job_get_certificate (self->job) == NULL &&
      !imzala_signing_job_get_needs_login (self->job))
    {
      if (cards_loading (self))
        {
          self->sign_when_read = TRUE;
          set_message (self, _("The card is still being read. Signing starts as soon as it is."), FALSE);
          return;
        }
      if (!imzala_signing_job_can_sign (self->job, &error))
        {
          imzala_sign_page_set_error (self, error->message);
          return;
        }
    }
  gtk_widget_activate_action (GTK_WIDGET (self), "win.sign", NULL);
}

static void
cards_read_cb (ImzalaSignPage *self)
{
  update_placeholder (self);
  if (!self->sign_when_read || cards_loading (self))
    return;
  self->sign_when_read = FALSE;
  imzala_sign_page_set_error (self, NULL);
  if (self->job != NULL && imzala_signing_job_get_state (self->job) == IMZALA_JOB_STATE_CHOOSING)
    pin_activate_cb (self);
}

void
imzala_sign_page_set_token_list (ImzalaSignPage  *self,
                                 ImzalaTokenList *token_list)
{
  g_return_if_fail (IMZALA_IS_SIGN_PAGE (self));
  g_return_if_fail (token_list == NULL || IMZALA_IS_TOKEN_LIST (token_list));

  g_set_object (&self->token_list, token_list);
  g_signal_group_set_target (self->token_list_signals, token_list);
  update_placeholder (self);
}

void
imzala_sign_page_set_reader_monitor (ImzalaSignPage      *self,
                                     ImzalaReaderMonitor *monitor)
{
  g_return_if_fail (IMZALA_IS_SIGN_PAGE (self));
  g_return_if_fail (monitor == NULL || IMZALA_IS_READER_MONITOR (monitor));

  g_set_object (&self->reader_monitor, monitor);
  g_signal_group_set_target (self->reader_monitor_signals, monitor);
  update_placeholder (self);
}

/* ---- Layout: one column or two ---- */

static int
separator_width (ImzalaSignPage *self)
{
  int width;

  gtk_widget_measure (self->pane_separator, GTK_ORIENTATION_HORIZONTAL, -1, &width, NULL, NULL, NULL);
  return MAX (width, 1);
}

/* The width from which the panes stand side by side: the request at its
 * narrowest beside the PIN pane at its natural width. */
static int
wide_width (ImzalaSignPage *self)
{
  int request_min, pin_nat;

  gtk_widget_measure (self->request_pane, GTK_ORIENTATION_HORIZONTAL, -1, &request_min, NULL, NULL, NULL);
  gtk_widget_measure (self->pin_pane, GTK_ORIENTATION_HORIZONTAL, -1, NULL, &pin_nat, NULL, NULL);
  return MAX (WIDE_MIN_WIDTH, request_min + separator_width (self) + MAX (pin_nat, PIN_PANE_WIDTH));
}

static void
set_wide (ImzalaSignPage *self,
          gboolean        wide)
{
  if (self->wide == wide)
    return;
  self->wide = wide;
  gtk_orientable_set_orientation (GTK_ORIENTABLE (self->columns_box),
                                  wide ? GTK_ORIENTATION_HORIZONTAL : GTK_ORIENTATION_VERTICAL);
  gtk_orientable_set_orientation (GTK_ORIENTABLE (self->pane_separator),
                                  wide ? GTK_ORIENTATION_VERTICAL : GTK_ORIENTATION_HORIZONTAL);
  /* Beside the details the PIN pane is a column of its own width; under
   * them it spans the page and its content is centred. */
  gtk_widget_set_size_request (self->pin_pane, wide ? PIN_PANE_WIDTH : -1, -1);
  /* In one column the status notice takes two lines, its first sentence
   * (what happened), so that the text to sign keeps a few lines in view;
   * the whole notice is its tooltip and its accessible description. */
  gtk_label_set_lines (self->status_notice_label, wide ? -1 : 2);
  gtk_label_set_ellipsize (self->status_notice_label, wide ? PANGO_ELLIPSIZE_NONE : PANGO_ELLIPSIZE_END);
}

/* The height the request pane needs in a column of @width: the certificate
 * button always, the scrolled details (@with_details) at their smallest. */
static void
measure_request (ImzalaSignPage *self,
                 int             width,
                 gboolean        with_details,
                 int            *minimum,
                 int            *natural)
{
  int details_min = 0, details_nat = 0, chooser_min, chooser_nat;

  gtk_widget_measure (self->certificate_box, GTK_ORIENTATION_VERTICAL, width,
                      &chooser_min, &chooser_nat, NULL, NULL);
  if (with_details)
    gtk_widget_measure (self->details_pane, GTK_ORIENTATION_VERTICAL, width,
                        &details_min, &details_nat, NULL, NULL);
  *minimum = details_min + chooser_min;
  *natural = details_nat + chooser_nat;
}

/* The page asks for the width of one column only (so the window can be
 * narrowed to a phone's 360 pixels) and, for a width, the height of the
 * layout that width gets: beside each other, the taller pane's; under each
 * other, the certificate button's and the PIN pane's (the scrolled details
 * give way, see size_allocate()). */
static void
imzala_sign_page_measure (GtkWidget      *widget,
                          GtkOrientation  orientation,
                          int             for_size,
                          int            *minimum,
                          int            *natural,
                          int            *minimum_baseline,
                          int            *natural_baseline)
{
  ImzalaSignPage *self = IMZALA_SIGN_PAGE (widget);
  int request_min, request_nat, pin_min, pin_nat, separator = separator_width (self);

  if (orientation == GTK_ORIENTATION_HORIZONTAL)
    {
      gtk_widget_measure (self->request_pane, orientation, -1, &request_min, &request_nat, NULL, NULL);
      gtk_widget_measure (self->pin_pane, orientation, -1, &pin_min, &pin_nat, NULL, NULL);
      *minimum = MAX (request_min, pin_min);
      *natural = MAX (request_nat + separator + MAX (pin_nat, PIN_PANE_WIDTH), *minimum);
    }
  else if (for_size >= 0 && for_size >= wide_width (self))
    {
      int pin_width;

      gtk_widget_measure (self->pin_pane, GTK_ORIENTATION_HORIZONTAL, -1, NULL, &pin_width, NULL, NULL);
      pin_width = MAX (pin_width, PIN_PANE_WIDTH);
      measure_request (self, for_size - pin_width - separator, TRUE, &request_min, &request_nat);
      gtk_widget_measure (self->pin_pane, orientation, pin_width, &pin_min, &pin_nat, NULL, NULL);
      *minimum = MAX (request_min, pin_min);
      *natural = MAX (request_nat, pin_nat);
    }
  else
    {
      /* One column: the details give way first, then the certificate
       * button (size_allocate() hides them when the PIN pane needs the
       * height), so the window's minimum height, which GTK takes at its
       * minimum width, is the PIN pane's alone: a short screen that is
       * wide enough for two columns gets them. */
      measure_request (self, for_size, TRUE, &request_min, &request_nat);
      gtk_widget_measure (self->pin_pane, orientation, for_size, &pin_min, &pin_nat, NULL, NULL);
      *minimum = pin_min;
      *natural = request_nat + separator + pin_nat;
    }
  if (minimum_baseline != NULL)
    *minimum_baseline = -1;
  if (natural_baseline != NULL)
    *natural_baseline = -1;
}

static void
imzala_sign_page_size_allocate (GtkWidget *widget,
                                int        width,
                                int        height,
                                int        baseline)
{
  ImzalaSignPage *self = IMZALA_SIGN_PAGE (widget);
  gboolean wide = width >= wide_width (self);
  gboolean details = TRUE;
  gboolean chooser = TRUE;

  set_wide (self, wide);
  if (!wide)
    {
      int request_min, chooser_min, nat, pin_min;

      measure_request (self, width, TRUE, &request_min, &nat);
      measure_request (self, width, FALSE, &chooser_min, &nat);
      gtk_widget_measure (self->pin_pane, GTK_ORIENTATION_VERTICAL, width, &pin_min, NULL, NULL, NULL);
      details = height >= request_min + separator_width (self) + pin_min;
      chooser = height >= chooser_min + separator_width (self) + pin_min;
    }
  gtk_widget_set_visible (self->details_pane, details);
  gtk_widget_set_visible (self->request_pane, chooser);
  gtk_widget_set_visible (self->pane_separator, chooser);
  gtk_widget_allocate (self->columns_box, width, height, baseline, NULL);
  /* A popover is placed in its parent's size_allocate(). */
  gtk_popover_present (self->certificate_popover);
}

gboolean
imzala_sign_page_get_wide (ImzalaSignPage *self)
{
  g_return_val_if_fail (IMZALA_IS_SIGN_PAGE (self), FALSE);

  return self->wide;
}

static void
imzala_sign_page_dispose (GObject *object)
{
  ImzalaSignPage *self = IMZALA_SIGN_PAGE (object);

  g_clear_object (&self->token_list_signals);
  g_clear_object (&self->token_list);
  g_clear_object (&self->reader_monitor_signals);
  g_clear_object (&self->reader_monitor);
  g_clear_object (&self->job_signals);
  g_clear_object (&self->job);
  if (self->certificates != NULL)
    g_clear_signal_handler (&self->certificates_changed_id, self->certificates);
  g_clear_object (&self->certificates);
  if (self->certificates_list != NULL)
    gtk_list_box_bind_model (self->certificates_list, NULL, NULL, NULL, NULL);
  if (self->certificate_popover != NULL)
    gtk_widget_unparent (GTK_WIDGET (self->certificate_popover));
  gtk_widget_dispose_template (GTK_WIDGET (self), IMZALA_TYPE_SIGN_PAGE);
  self->certificate_popover = NULL;
  g_clear_pointer (&self->text_widgets, g_ptr_array_unref);

  G_OBJECT_CLASS (imzala_sign_page_parent_class)->dispose (object);
}

static void
imzala_sign_page_get_property (GObject    *object,
                               guint       prop_id,
                               GValue     *value,
                               GParamSpec *pspec)
{
  ImzalaSignPage *self = IMZALA_SIGN_PAGE (object);

  switch (prop_id)
    {
    case PROP_READY:
      g_value_set_boolean (value, imzala_sign_page_get_ready (self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
imzala_sign_page_class_init (ImzalaSignPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = imzala_sign_page_dispose;
  object_class->get_property = imzala_sign_page_get_property;
  widget_class->measure = imzala_sign_page_measure;
  widget_class->size_allocate = imzala_sign_page_size_allocate;

  properties[PROP_READY] =
    g_param_spec_boolean ("ready", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  g_type_ensure (IMZALA_TYPE_CERTIFICATE_ROW);
  g_type_ensure (IMZALA_TYPE_PIN_ENTRY);
  g_type_ensure (IMZALA_TYPE_PIN_KEYPAD);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/imzala/Imzala/pages/imzala-sign-page.ui");
  gtk_widget_class_bind_template_child (widget_class, ImzalaSignPage, request_pane);
  gtk_widget_class_bind_template_child (widget_class, ImzalaSignPage, details_pane);
  gtk_widget_class_bind_template_child (widget_class, ImzalaSignPage, certificate_box);
  gtk_widget_class_bind_template_child (widget_class, ImzalaSignPage, certificate_button);
  gtk_widget_class_bind_template_child (widget_class, ImzalaSignPage, certificate_popover);
  gtk_widget_class_bind_template_child (widget_class, ImzalaSignPage, certificate_title);
  gtk_widget_class_bind_template_child (widget_class, ImzalaSignPage, certificate_summary);
  gtk_widget_class_bind_template_child (widget_class, ImzalaSignPage, hidden_card_button);
  gtk_widget_class_bind_template_child (widget_class, ImzalaSignPage, pane_separator);
  gtk_widget_class_bind_template_child (widget_class, ImzalaSignPage, pin_pane);
  gtk_widget_class_bind_template_child (widget_class, ImzalaSignPage, sign_button);
  gtk_widget_class_bind_template_child (widget_class, ImzalaSignPage, content_box);
  gtk_widget_class_bind_template_child (widget_class, ImzalaSignPage, purpose_label);
  gtk_widget_class_bind_template_child (widget_class, ImzalaSignPage, portal_label);
  gtk_widget_class_bind_template_child (widget_class, ImzalaSignPage, requester_label);
  gtk_widget_class_bind_template_child (widget_class, ImzalaSignPage, texts_box);
  gtk_widget_class_bind_template_child (widget_class, ImzalaSignPage, created_label);
  gtk_widget_class_bind_template_child (widget_class, ImzalaSignPage, remaining_label);
  gtk_widget_class_bind_template_child (widget_class, ImzalaSignPage, remaining_bar);
  gtk_widget_class_bind_template_child (widget_class, ImzalaSignPage, certificates_list);
  gtk_widget_class_bind_template_child (widget_class, ImzalaSignPage, certificates_placeholder);
  gtk_widget_class_bind_template_child (widget_class, ImzalaSignPage, pin_state_label);
  gtk_widget_class_bind_template_child (widget_class, ImzalaSignPage, status_notice_label);
  gtk_widget_class_bind_template_child (widget_class, ImzalaSignPage, pin_stack);
  gtk_widget_class_bind_template_child (widget_class, ImzalaSignPage, pin_entry);
  gtk_widget_class_bind_template_child (widget_class, ImzalaSignPage, keypad);
  gtk_widget_class_bind_template_child (widget_class, ImzalaSignPage, error_label);
  gtk_widget_class_bind_template_child (widget_class, ImzalaSignPage, action_stack);
  gtk_widget_class_bind_template_child (widget_class, ImzalaSignPage, progress_label);
  gtk_widget_class_bind_template_child (widget_class, ImzalaSignPage, cancel_button);
  gtk_widget_class_bind_template_callback (widget_class, row_selected_cb);
  gtk_widget_class_bind_template_callback (widget_class, row_activated_cb);
  gtk_widget_class_bind_template_callback (widget_class, certificate_button_clicked_cb);
  gtk_widget_class_bind_template_callback (widget_class, hidden_card_button_clicked_cb);
  gtk_widget_class_bind_template_callback (widget_class, pin_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, pin_activate_cb);
}

static void
imzala_sign_page_init (ImzalaSignPage *self)
{
  self->text_widgets = g_ptr_array_new ();

  /* Each property of the job has its own part of the page; the group moves
   * the connections from one job to the next. */
  self->job_signals = g_signal_group_new (IMZALA_TYPE_SIGNING_JOB);
  g_signal_group_connect_object (self->job_signals, "notify::request",
                                 G_CALLBACK (request_changed_cb), self, G_CONNECT_SWAPPED);
  g_signal_group_connect_object (self->job_signals, "notify::remaining-seconds",
                                 G_CALLBACK (update_remaining), self, G_CONNECT_SWAPPED);
  g_signal_group_connect_object (self->job_signals, "notify::certificates",
                                 G_CALLBACK (update_certificates), self, G_CONNECT_SWAPPED);
  g_signal_group_connect_object (self->job_signals, "notify::certificate",
                                 G_CALLBACK (update_selection), self, G_CONNECT_SWAPPED);
  g_signal_group_connect_object (self->job_signals, "notify::token",
                                 G_CALLBACK (update_token), self, G_CONNECT_SWAPPED);
  g_signal_group_connect_object (self->job_signals, "notify::tokens",
                                 G_CALLBACK (update_token), self, G_CONNECT_SWAPPED);
  g_signal_group_connect_object (self->job_signals, "notify::state",
                                 G_CALLBACK (update_state), self, G_CONNECT_SWAPPED);
  g_signal_group_connect_object (self->job_signals, "notify::pin-pad-prompt",
                                 G_CALLBACK (update_progress), self, G_CONNECT_SWAPPED);

  g_signal_group_connect_object (self->job_signals, "notify::tokens",
                                 G_CALLBACK (update_placeholder), self, G_CONNECT_SWAPPED);
  g_signal_group_connect_object (self->job_signals, "notify::tokens-loading",
                                 G_CALLBACK (cards_read_cb), self, G_CONNECT_SWAPPED);
  /* A card that shows its certificates after the PIN, and the login. */
  g_signal_group_connect_object (self->job_signals, "notify::needs-login",
                                 G_CALLBACK (update_placeholder), self, G_CONNECT_SWAPPED);
  g_signal_group_connect_object (self->job_signals, "notify::needs-login",
                                 G_CALLBACK (update_selection), self, G_CONNECT_SWAPPED);
  g_signal_group_connect_object (self->job_signals, "notify::state", /* can_sign() */
                                 G_CALLBACK (update_selection), self, G_CONNECT_SWAPPED);
  g_signal_group_connect_object (self->job_signals, "notify::token",
                                 G_CALLBACK (update_selection), self, G_CONNECT_SWAPPED);
  for (gsize i = 0; i < G_N_ELEMENTS (hidden_card_signals); i++)
    g_signal_group_connect_object (self->job_signals, hidden_card_signals[i],
                                   G_CALLBACK (update_hidden_card), self, G_CONNECT_SWAPPED);
  g_signal_group_connect_object (self->job_signals, "notify::logged-in",
                                 G_CALLBACK (update_token), self, G_CONNECT_SWAPPED);
  g_signal_group_connect_object (self->job_signals, "notify::status-notice",
                                 G_CALLBACK (update_status_notice), self, G_CONNECT_SWAPPED);
  g_signal_group_connect_object (self->job_signals, "notify::status-checking",
                                 G_CALLBACK (update_status_notice), self, G_CONNECT_SWAPPED);

  /* The list's loading, and the readers, change what the empty
   * certificate list says. */
  self->token_list_signals = g_signal_group_new (IMZALA_TYPE_TOKEN_LIST);
  g_signal_group_connect_object (self->token_list_signals, "notify::loading",
                                 G_CALLBACK (cards_read_cb), self, G_CONNECT_SWAPPED);
  self->reader_monitor_signals = g_signal_group_new (IMZALA_TYPE_READER_MONITOR);
  g_signal_group_connect_object (self->reader_monitor_signals, "items-changed",
                                 G_CALLBACK (update_placeholder), self, G_CONNECT_SWAPPED);
  g_signal_group_connect_object (self->reader_monitor_signals, "card-inserted",
                                 G_CALLBACK (update_placeholder), self, G_CONNECT_SWAPPED);
  g_signal_group_connect_object (self->reader_monitor_signals, "card-removed",
                                 G_CALLBACK (update_placeholder), self, G_CONNECT_SWAPPED);
  g_signal_group_connect_object (self->reader_monitor_signals, "notify::available",
                                 G_CALLBACK (update_placeholder), self, G_CONNECT_SWAPPED);
  g_signal_group_connect_object (self->reader_monitor_signals, "notify::error",
                                 G_CALLBACK (update_placeholder), self, G_CONNECT_SWAPPED);

  gtk_widget_init_template (GTK_WIDGET (self));
  /* measure() and size_allocate() below, not AdwBin's GtkBinLayout (GTK
   * calls the vfuncs only for a widget without a layout manager). */
  gtk_widget_set_layout_manager (GTK_WIDGET (self), NULL);
  /* The bin's child, not a bound template child: AdwBin unparents it. */
  self->columns_box = adw_bin_get_child (ADW_BIN (self));
  gtk_widget_set_parent (GTK_WIDGET (self->certificate_popover), GTK_WIDGET (self));
  /* The page starts in one column (self->wide is FALSE); set_wide() only
   * acts on a change. */
  gtk_label_set_lines (self->status_notice_label, 2);
  gtk_label_set_ellipsize (self->status_notice_label, PANGO_ELLIPSIZE_END);
  imzala_pin_keypad_set_entry (self->keypad, self->pin_entry);
}
