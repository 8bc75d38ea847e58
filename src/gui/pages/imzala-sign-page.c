#define G_LOG_DOMAIN "imzala-gui"

#include "config.h"

#include <glib/gi18n.h>

#include "imzala-certificate-row.h"
#include "imzala-format.h"
#include "imzala-pin-entry.h"
#include "imzala-pin-keypad.h"
#include "imzala-request-text-view.h"
#include "imzala-sign-page-private.h"
#include "imzala-text.h"

/* Below this width (logical pixels) the PIN pane goes under the details
 * instead of beside them: two columns of less than 300 pixels make the
 * texts and the certificate rows too narrow to read. */
#define WIDE_MIN_WIDTH 600
/* The PIN pane's width beside the details: the keypad and a two-line
 * message (its labels wrap at 32 characters). */
#define PIN_PANE_WIDTH 300

G_DEFINE_FINAL_TYPE (ImzalaSignPage, imzala_sign_page, ADW_TYPE_BIN)

enum {
  PROP_0,
  PROP_READY,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

gboolean
imzala_sign_page_token_has_pin_pad (ImzalaSignPage *self)
{
  ImzalaToken *token = self->job ? imzala_signing_job_get_token (self->job) : NULL;

  return token != NULL && imzala_token_has_pin_pad (token);
}

/* The PIN was entered to show the card's certificates: the session it
 * opened signs, without a second entry. */
gboolean
imzala_sign_page_job_logged_in (ImzalaSignPage *self)
{
  return self->job != NULL && imzala_signing_job_get_logged_in (self->job);
}

gboolean
imzala_sign_page_get_ready (ImzalaSignPage *self)
{
  g_return_val_if_fail (IMZALA_IS_SIGN_PAGE (self), FALSE);

  return imzala_sign_page_job_logged_in (self) || imzala_sign_page_token_has_pin_pad (self) || imzala_pin_entry_get_length (self->pin_entry) > 0;
}

ImzalaSecret *
imzala_sign_page_take_pin (ImzalaSignPage *self)
{
  ImzalaSecret *secret;
  ImzalaSecret *pin;

  g_return_val_if_fail (IMZALA_IS_SIGN_PAGE (self), NULL);

  if (imzala_sign_page_job_logged_in (self) || imzala_sign_page_token_has_pin_pad (self))
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
             const char     *text,
             gboolean        is_error)
{
  /* A message may name a card or a reader as it names itself: one line. */
  g_autofree char *message = imzala_text_escape_unshown (text);

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

  if (!imzala_sign_page_token_has_pin_pad (self) && !imzala_sign_page_job_logged_in (self))
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
                                    imzala_sign_page_job_logged_in (self) ? "logged-in"
                                    : imzala_sign_page_token_has_pin_pad (self) ? "pinpad" : "keypad");
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_READY]);
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
                        imzala_sign_page_token_has_pin_pad (self)
                        ? _("Enter your PIN on the card reader…")
                        : _("Reading the certificates on the card…"));
  else if (state == IMZALA_JOB_STATE_SIGNING)
    gtk_label_set_text (self->progress_label,
                        imzala_sign_page_token_has_pin_pad (self)
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
  imzala_sign_page_update_certificates (self);
  update_token (self);
  update_state (self);
  update_status_notice (self);
  imzala_sign_page_update_hidden_card (self);
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
  imzala_sign_page_update_placeholder (self);
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
  imzala_sign_page_update_placeholder (self);
}

void
imzala_sign_page_set_reader_monitor (ImzalaSignPage      *self,
                                     ImzalaReaderMonitor *monitor)
{
  g_return_if_fail (IMZALA_IS_SIGN_PAGE (self));
  g_return_if_fail (monitor == NULL || IMZALA_IS_READER_MONITOR (monitor));

  g_set_object (&self->reader_monitor, monitor);
  g_signal_group_set_target (self->reader_monitor_signals, monitor);
  imzala_sign_page_update_placeholder (self);
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
  imzala_sign_page_bind_certificate_callbacks (widget_class);
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
                                 G_CALLBACK (imzala_sign_page_update_certificates), self, G_CONNECT_SWAPPED);
  g_signal_group_connect_object (self->job_signals, "notify::certificate",
                                 G_CALLBACK (imzala_sign_page_update_selection), self, G_CONNECT_SWAPPED);
  g_signal_group_connect_object (self->job_signals, "notify::token",
                                 G_CALLBACK (update_token), self, G_CONNECT_SWAPPED);
  g_signal_group_connect_object (self->job_signals, "notify::tokens",
                                 G_CALLBACK (update_token), self, G_CONNECT_SWAPPED);
  g_signal_group_connect_object (self->job_signals, "notify::state",
                                 G_CALLBACK (update_state), self, G_CONNECT_SWAPPED);
  g_signal_group_connect_object (self->job_signals, "notify::pin-pad-prompt",
                                 G_CALLBACK (update_progress), self, G_CONNECT_SWAPPED);

  g_signal_group_connect_object (self->job_signals, "notify::tokens",
                                 G_CALLBACK (imzala_sign_page_update_placeholder), self, G_CONNECT_SWAPPED);
  g_signal_group_connect_object (self->job_signals, "notify::tokens-loading",
                                 G_CALLBACK (cards_read_cb), self, G_CONNECT_SWAPPED);
  /* A card that shows its certificates after the PIN, and the login. */
  g_signal_group_connect_object (self->job_signals, "notify::needs-login",
                                 G_CALLBACK (imzala_sign_page_update_placeholder), self, G_CONNECT_SWAPPED);
  g_signal_group_connect_object (self->job_signals, "notify::needs-login",
                                 G_CALLBACK (imzala_sign_page_update_selection), self, G_CONNECT_SWAPPED);
  g_signal_group_connect_object (self->job_signals, "notify::state", /* can_sign() */
                                 G_CALLBACK (imzala_sign_page_update_selection), self, G_CONNECT_SWAPPED);
  g_signal_group_connect_object (self->job_signals, "notify::token",
                                 G_CALLBACK (imzala_sign_page_update_selection), self, G_CONNECT_SWAPPED);
  for (gsize i = 0; i < imzala_sign_page_n_hidden_card_signals; i++)
    g_signal_group_connect_object (self->job_signals, imzala_sign_page_hidden_card_signals[i],
                                   G_CALLBACK (imzala_sign_page_update_hidden_card), self, G_CONNECT_SWAPPED);
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
                                 G_CALLBACK (imzala_sign_page_update_placeholder), self, G_CONNECT_SWAPPED);
  g_signal_group_connect_object (self->reader_monitor_signals, "card-inserted",
                                 G_CALLBACK (imzala_sign_page_update_placeholder), self, G_CONNECT_SWAPPED);
  g_signal_group_connect_object (self->reader_monitor_signals, "card-removed",
                                 G_CALLBACK (imzala_sign_page_update_placeholder), self, G_CONNECT_SWAPPED);
  g_signal_group_connect_object (self->reader_monitor_signals, "notify::available",
                                 G_CALLBACK (imzala_sign_page_update_placeholder), self, G_CONNECT_SWAPPED);
  g_signal_group_connect_object (self->reader_monitor_signals, "notify::error",
                                 G_CALLBACK (imzala_sign_page_update_placeholder), self, G_CONNECT_SWAPPED);

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
