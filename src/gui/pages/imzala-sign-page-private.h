/* imzala-sign-page-private.h: what the sign page's files share. The
 * certificate choice (the list of certificates, the certificate button, the
 * card offered under the list and the placeholder) is in
 * imzala-sign-page-certificates.c; the rest of the page, its layout and its
 * connections to the job in imzala-sign-page.c.
 */
#pragma once

#include <adwaita.h>

#include "imzala-pin-entry.h"
#include "imzala-pin-keypad.h"
#include "imzala-sign-page.h"

G_BEGIN_DECLS

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

/* The PIN goes through a pin-pad reader, not the keypad. */
gboolean imzala_sign_page_token_has_pin_pad (ImzalaSignPage *self);
/* The PIN was entered to show the card's certificates: the session it
 * opened signs, without a second entry. */
gboolean imzala_sign_page_job_logged_in     (ImzalaSignPage *self);

/* imzala-sign-page-certificates.c */
void     imzala_sign_page_update_selection    (ImzalaSignPage *self);
void     imzala_sign_page_update_hidden_card  (ImzalaSignPage *self);
void     imzala_sign_page_update_placeholder  (ImzalaSignPage *self);
void     imzala_sign_page_update_certificates (ImzalaSignPage *self);
/* The job's notifications imzala_signing_job_get_hidden_token() changes
 * with. */
extern const char *const imzala_sign_page_hidden_card_signals[];
extern const gsize       imzala_sign_page_n_hidden_card_signals;
void     imzala_sign_page_bind_certificate_callbacks (GtkWidgetClass *widget_class);

G_END_DECLS
