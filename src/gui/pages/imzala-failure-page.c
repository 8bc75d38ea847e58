#define G_LOG_DOMAIN "imzala-gui"

#include "config.h"

#include <glib/gi18n.h>

#include "imzala-error.h"
#include "imzala-failure-page.h"
#include "imzala-text.h"

struct _ImzalaFailurePage
{
  AdwBin        parent_instance;

  GtkLabel      *message_label;
  GtkLabel      *advice_label;
  GtkWidget     *retry_button;
  GtkWidget     *new_code_button;
  GtkWidget     *unblock_button;
};

G_DEFINE_FINAL_TYPE (ImzalaFailurePage, imzala_failure_page, ADW_TYPE_BIN)

/* The status page is the bin's child: it is not bound to a field, because
 * gtk_widget_dispose_template() would unparent it behind AdwBin's back. */
static AdwStatusPage *
get_status_page (ImzalaFailurePage *self)
{
  return ADW_STATUS_PAGE (adw_bin_get_child (ADW_BIN (self)));
}

typedef enum
{
  ACTION_NONE    = 0,
  ACTION_RETRY   = 1 << 0, /* the same request again (signing or fetching) */
  ACTION_CODE    = 1 << 1, /* a new code from the browser */
  ACTION_UNBLOCK = 1 << 2, /* the PIN is locked */
} FailureActions;

typedef struct
{
  int             code;
  const char     *title;
  const char     *advice;
  FailureActions  actions;
} FailureKind;

/* The advice says what the user can do; the error message already says what
 * happened, in the core's words. */
static const FailureKind failure_kinds[] = {
  { IMZALA_ERROR_NO_MODULE, N_("No Card Software"),
    N_("Install the software for your card (for example OpenSC, or your card vendor’s PKCS#11 module) and try again."),
    ACTION_RETRY },
  { IMZALA_ERROR_NO_TOKEN, N_("No Card Found"),
    N_("Insert your card into the reader and try again."), ACTION_RETRY | ACTION_CODE },
  { IMZALA_ERROR_TOKEN_REMOVED, N_("The Card Was Removed"),
    N_("Leave the card in the reader until signing is finished, and try again."), ACTION_RETRY | ACTION_CODE },
  { IMZALA_ERROR_NO_CERTIFICATE, N_("No Signing Certificate"),
    N_("Check that the card holding your electronic signature certificate is inserted."), ACTION_RETRY | ACTION_CODE },
  { IMZALA_ERROR_NO_PRIVATE_KEY, N_("No Signing Key"),
    N_("Choose another certificate, or check that the right card is inserted."), ACTION_RETRY | ACTION_CODE },
  { IMZALA_ERROR_PIN_INCORRECT, N_("Wrong PIN"),
    N_("Check your PIN and try again. Each wrong try brings the card closer to locking its PIN."), ACTION_RETRY },
  { IMZALA_ERROR_PIN_LOCKED, N_("The PIN Is Locked"),
    N_("Unblock the PIN with your PUK, or ask the portal for an unblock code."), ACTION_UNBLOCK | ACTION_CODE },
  { IMZALA_ERROR_PUK_INCORRECT, N_("Wrong PUK"),
    N_("Check the PUK that came with your card and try again."), ACTION_UNBLOCK },
  { IMZALA_ERROR_PUK_LOCKED, N_("The PUK Is Locked"),
    N_("The card cannot be unblocked any more. Contact the certificate authority that issued it."), ACTION_NONE },
  { IMZALA_ERROR_CODE_FORMAT, N_("Not a Verification Code"),
    N_("Copy the verification code from your browser again."), ACTION_CODE },
  { IMZALA_ERROR_CODE_UNKNOWN, N_("Unknown Verification Code"),
    N_("Copy the verification code from your browser again, or get a new one there."), ACTION_CODE },
  { IMZALA_ERROR_CODE_EXPIRED, N_("The Verification Code Has Expired"),
    N_("Get a new verification code in your browser and enter it here."), ACTION_CODE },
  { IMZALA_ERROR_CODE_USED, N_("The Verification Code Was Already Used"),
    N_("Get a new verification code in your browser and enter it here."), ACTION_CODE },
  { IMZALA_ERROR_SIGNER_MISMATCH, N_("Another Person’s Card"),
    N_("Sign with the card of the person who started the transaction in the browser."), ACTION_CODE },
  { IMZALA_ERROR_RATE_LIMITED, N_("Too Many Attempts"),
    N_("Wait a few minutes, then get a new verification code."), ACTION_CODE },
  { IMZALA_ERROR_PORTAL_REJECTED, N_("The Portal Refused the Signature"),
    N_("Start again in your browser. If it happens again, contact the portal."), ACTION_CODE },
  { IMZALA_ERROR_INSECURE_URL, N_("Insecure Portal Address"),
    N_("İmzala only talks to portals over https://. Check the link you opened."), ACTION_CODE },
  { IMZALA_ERROR_NETWORK, N_("The Portal Cannot Be Reached"),
    N_("Check your internet connection and try again."), ACTION_RETRY | ACTION_CODE },
  { IMZALA_ERROR_TLS, N_("The Portal’s Identity Cannot Be Verified"),
    N_("Nothing was sent. Do not continue unless you are sure the address is right; contact the portal if it stays this way."), ACTION_CODE },
  { IMZALA_ERROR_PROTOCOL, N_("Unexpected Answer From the Portal"),
    N_("Try again later. If it happens again, contact the portal."), ACTION_RETRY | ACTION_CODE },
  { IMZALA_ERROR_TOO_LARGE, N_("Unexpected Answer From the Portal"),
    N_("Try again later. If it happens again, contact the portal."), ACTION_CODE },
  { IMZALA_ERROR_PCSC_UNAVAILABLE, N_("The Smart Card Service Is Not Running"),
    N_("Start the smart card service (pcscd), for example with “sudo systemctl start pcscd.socket”, and try again."), ACTION_RETRY },
  { IMZALA_ERROR_CERTIFICATE_EXPIRED, N_("The Certificate Has Expired"),
    N_("Choose a certificate that is still valid, or renew your certificate."), ACTION_RETRY | ACTION_CODE },
  { IMZALA_ERROR_PIN_EXPIRED, N_("The PIN Has Expired"),
    N_("Change the PIN with Change PIN in the menu, then sign again."), ACTION_RETRY | ACTION_CODE },
  { IMZALA_ERROR_PIN_NOT_INITIALIZED, N_("The Card Has No PIN Yet"),
    N_("Set a PIN with the PUK that came with your card, or ask the portal for an unblock code."), ACTION_UNBLOCK | ACTION_CODE },
  { IMZALA_ERROR_PIN_REQUIRED, N_("No PIN Was Entered"),
    N_("Enter the PIN of your card and try again."), ACTION_RETRY },
  { IMZALA_ERROR_PUK_REQUIRED, N_("No PUK Was Entered"),
    N_("Enter the PUK that came with your card and try again."), ACTION_UNBLOCK },
  { IMZALA_ERROR_SEVERAL_TOKENS, N_("Several Cards Are Inserted"),
    N_("Leave only the card you want to use in the reader, or choose it, and try again."), ACTION_RETRY | ACTION_CODE },
  { IMZALA_ERROR_CONTENT_TOO_LARGE, N_("The Text Is Too Large"),
    N_("İmzala cannot sign a text this large. Contact the portal."), ACTION_CODE },
  { IMZALA_ERROR_TOKEN_NOT_RECOGNIZED, N_("The Card Was Not Recognised"),
    N_("Install the software for your card, then take the card out, insert it again and try again."),
    ACTION_RETRY | ACTION_CODE },
  { IMZALA_ERROR_PIN_PAD_TIMEOUT, N_("The Reader Stopped Waiting for the PIN"),
    N_("Sign again and type the PIN on the reader’s keypad when it asks, before the reader gives up."),
    ACTION_RETRY | ACTION_CODE },
  { IMZALA_ERROR_PIN_NOT_LOCKED, N_("The PIN Is Not Locked"),
    N_("Nothing was changed on the card. A card is unlocked only when its PIN is locked; sign with your PIN, or change it with Change PIN in the menu."),
    ACTION_CODE },
  { IMZALA_ERROR_PUK_FINAL_TRY, N_("Only One PUK Try Is Left"),
    N_("Nothing was tried on the card. A wrong PUK now would lock the card for good; go on only when you are sure."),
    ACTION_UNBLOCK | ACTION_CODE },
  /* Issue 10. */
  { IMZALA_ERROR_CERTIFICATE_REVOKED, N_("The Certificate Has Been Revoked"),
    N_("This certificate can no longer sign. If you have another card, insert it and start over; otherwise apply to your certification authority for a new certificate."),
    ACTION_CODE },
  { IMZALA_ERROR_TIMESTAMP, N_("The Signature Could Not Be Time-Stamped"),
    N_("Nothing was sent to the portal. Check the network connection and try again; if it happens again, contact the portal."),
    ACTION_RETRY | ACTION_CODE },
  { IMZALA_ERROR_STATUS_UNKNOWN, N_("The Certificate Status Could Not Be Checked"),
    N_("Nothing was sent to the portal. Check the network connection and try again."),
    ACTION_RETRY | ACTION_CODE },
};

static const FailureKind fallback_kind = {
  IMZALA_ERROR_FAILED, N_("Something Went Wrong"),
  N_("Try again. If it happens again, start over in your browser."), ACTION_RETRY | ACTION_CODE
};

void
imzala_failure_page_set_error (ImzalaFailurePage *self,
                               const GError      *error)
{
  const FailureKind *kind = &fallback_kind;
  g_autofree char *message = NULL;

  g_return_if_fail (IMZALA_IS_FAILURE_PAGE (self));
  g_return_if_fail (error != NULL);

  if (error->domain == IMZALA_ERROR)
    {
      for (guint i = 0; i < G_N_ELEMENTS (failure_kinds); i++)
        if (failure_kinds[i].code == error->code)
          {
            kind = &failure_kinds[i];
            break;
          }
    }

  adw_status_page_set_title (get_status_page (self), _(kind->title));
  /* A message may name a card or a reader as it names itself: one line. */
  message = imzala_text_escape_unshown (error->message);
  gtk_label_set_text (self->message_label, message);
  gtk_label_set_text (self->advice_label, _(kind->advice));
  gtk_widget_set_visible (self->retry_button, (kind->actions & ACTION_RETRY) != 0);
  gtk_widget_set_visible (self->new_code_button, (kind->actions & ACTION_CODE) != 0);
  gtk_widget_set_visible (self->unblock_button, (kind->actions & ACTION_UNBLOCK) != 0);
}

static void
imzala_failure_page_dispose (GObject *object)
{
  gtk_widget_dispose_template (GTK_WIDGET (object), IMZALA_TYPE_FAILURE_PAGE);

  G_OBJECT_CLASS (imzala_failure_page_parent_class)->dispose (object);
}

static void
imzala_failure_page_class_init (ImzalaFailurePageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = imzala_failure_page_dispose;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/imzala/Imzala/pages/imzala-failure-page.ui");
  gtk_widget_class_bind_template_child (widget_class, ImzalaFailurePage, message_label);
  gtk_widget_class_bind_template_child (widget_class, ImzalaFailurePage, advice_label);
  gtk_widget_class_bind_template_child (widget_class, ImzalaFailurePage, retry_button);
  gtk_widget_class_bind_template_child (widget_class, ImzalaFailurePage, new_code_button);
  gtk_widget_class_bind_template_child (widget_class, ImzalaFailurePage, unblock_button);
}

static void
imzala_failure_page_init (ImzalaFailurePage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}
