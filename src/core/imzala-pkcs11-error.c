/* imzala-pkcs11-error.c: CKR_* return values as IMZALA_ERROR GErrors with a
 * sentence a user can read; the CKR_* name goes to g_debug() only.
 */
#define G_LOG_DOMAIN "imzala-pkcs11"

#include "config.h"

#include <glib/gi18n-lib.h>

#include "imzala-error.h"
#include "imzala-pkcs11-private.h"

static void
set_pin_incorrect_error (GError       **error,
                         ImzalaPinState state,
                         gboolean       puk)
{
  if (puk)
    {
      if (state & IMZALA_PIN_STATE_PUK_LOCKED)
        g_set_error_literal (error, IMZALA_ERROR, IMZALA_ERROR_PUK_LOCKED,
                             _("The PUK is incorrect, and it is now blocked. Contact your certificate provider."));
      else if (state & IMZALA_PIN_STATE_PUK_FINAL_TRY)
        g_set_error_literal (error, IMZALA_ERROR, IMZALA_ERROR_PUK_INCORRECT,
                             _("The PUK is incorrect. Only one try is left before it is blocked."));
      else if (state & IMZALA_PIN_STATE_PUK_COUNT_LOW)
        g_set_error_literal (error, IMZALA_ERROR, IMZALA_ERROR_PUK_INCORRECT,
                             _("The PUK is incorrect. Only a few tries are left before it is blocked."));
      else
        g_set_error_literal (error, IMZALA_ERROR, IMZALA_ERROR_PUK_INCORRECT,
                             _("The PUK is incorrect."));
      return;
    }

  if (state & IMZALA_PIN_STATE_LOCKED)
    g_set_error_literal (error, IMZALA_ERROR, IMZALA_ERROR_PIN_LOCKED,
                         _("The PIN is incorrect, and it is now blocked. Unblock it with your PUK."));
  else if (state & IMZALA_PIN_STATE_FINAL_TRY)
    g_set_error_literal (error, IMZALA_ERROR, IMZALA_ERROR_PIN_INCORRECT,
                         _("The PIN is incorrect. Only one try is left before the PIN is blocked."));
  else if (state & IMZALA_PIN_STATE_COUNT_LOW)
    g_set_error_literal (error, IMZALA_ERROR, IMZALA_ERROR_PIN_INCORRECT,
                         _("The PIN is incorrect. Only a few tries are left before the PIN is blocked."));
  else
    g_set_error_literal (error, IMZALA_ERROR, IMZALA_ERROR_PIN_INCORRECT,
                         _("The PIN is incorrect."));
}

/* No NES card has a PIN or PUK longer than this; a module stating more
 * means that it sets no limit. */
#define IMZALA_PKCS11_SENSIBLE_MAX_PIN_LENGTH 32

/* In words a user knows: NES PINs are digits, typed on İmzala's keypad. */
void
imzala_pkcs11_set_pin_length_error (GError      **error,
                                    ImzalaToken  *token)
{
  guint min = 0;
  guint max = 0;

  if (token != NULL)
    imzala_token_get_pin_length_range (token, &min, &max);
  /* A module that states 255 (SoftHSM) or more means "no limit": "4 to
   * 255 digits" tells a person nothing, "at least 4 digits" does. */
  if (max > IMZALA_PKCS11_SENSIBLE_MAX_PIN_LENGTH)
    max = 0;

  if (min > 0 && max == min)
    g_set_error (error, IMZALA_ERROR, IMZALA_ERROR_PIN_LEN_RANGE,
                 g_dngettext (GETTEXT_PACKAGE, "The PIN has %u digit.", "The PIN has %u digits.", min), min);
  else if (min > 0 && max > min)
    g_set_error (error, IMZALA_ERROR, IMZALA_ERROR_PIN_LEN_RANGE,
                 _("The PIN has %u to %u digits."), min, max);
  else if (min > 0)
    g_set_error (error, IMZALA_ERROR, IMZALA_ERROR_PIN_LEN_RANGE,
                 g_dngettext (GETTEXT_PACKAGE, "The PIN has at least %u digit.", "The PIN has at least %u digits.", min), min);
  else if (max > 0)
    g_set_error (error, IMZALA_ERROR, IMZALA_ERROR_PIN_LEN_RANGE,
                 g_dngettext (GETTEXT_PACKAGE, "The PIN has at most %u digit.", "The PIN has at most %u digits.", max), max);
  else
    g_set_error_literal (error, IMZALA_ERROR, IMZALA_ERROR_PIN_LEN_RANGE,
                         _("The PIN is too short or too long for this card."));
}

void
imzala_pkcs11_set_puk_length_error (GError      **error,
                                    ImzalaToken  *token)
{
  guint min = 0;
  guint max = 0;

  if (token != NULL)
    imzala_token_get_pin_length_range (token, &min, &max);

  if (min > 0 && max > min && max <= IMZALA_PKCS11_SENSIBLE_MAX_PIN_LENGTH)
    g_set_error (error, IMZALA_ERROR, IMZALA_ERROR_PIN_LEN_RANGE,
                 _("The PUK has %u to %u digits."), min, max);
  else
    g_set_error_literal (error, IMZALA_ERROR, IMZALA_ERROR_PIN_LEN_RANGE,
                         _("The PUK is too short or too long for this card."));
}

gboolean
imzala_pkcs11_set_error_full (GError      **error,
                              CK_RV         rv,
                              ImzalaToken  *token,
                              CK_USER_TYPE  user,
                              const char   *call)
{
  gboolean puk = user == CKU_SO;

  if (rv == CKR_OK)
    return TRUE;

  g_debug ("%s%s%s: %s (0x%lx)",
           call != NULL ? call : "PKCS#11 call",
           token != NULL ? " on " : "",
           token != NULL ? imzala_token_get_label (token) : "",
           p11_kit_strerror (rv), (gulong) rv);

  switch (rv)
    {
    case CKR_PIN_INCORRECT:
      set_pin_incorrect_error (error,
                               token != NULL ? imzala_token_get_pin_state (token) : IMZALA_PIN_STATE_OK,
                               puk);
      break;

    case CKR_PIN_LOCKED:
      if (puk)
        g_set_error_literal (error, IMZALA_ERROR, IMZALA_ERROR_PUK_LOCKED,
                             _("The PUK is blocked after too many wrong tries. Contact your certificate provider."));
      else
        g_set_error_literal (error, IMZALA_ERROR, IMZALA_ERROR_PIN_LOCKED,
                             _("The PIN is blocked after too many wrong tries. Unblock it with your PUK."));
      break;

    case CKR_PIN_LEN_RANGE:
      imzala_pkcs11_set_pin_length_error (error, token);
      break;

    case CKR_PIN_INVALID:
      g_set_error_literal (error, IMZALA_ERROR, IMZALA_ERROR_PIN_INVALID,
                           _("The PIN contains characters that the card does not accept."));
      break;

    case CKR_PIN_EXPIRED:
      g_set_error_literal (error, IMZALA_ERROR, IMZALA_ERROR_PIN_EXPIRED,
                           _("The PIN has expired. Change it before you sign."));
      break;

    case CKR_USER_PIN_NOT_INITIALIZED:
      g_set_error_literal (error, IMZALA_ERROR, IMZALA_ERROR_PIN_NOT_INITIALIZED,
                           _("The card has no PIN yet. Set one with your PUK."));
      break;

    case CKR_DEVICE_REMOVED:
    case CKR_TOKEN_NOT_PRESENT:
    case CKR_SESSION_HANDLE_INVALID:
    case CKR_SESSION_CLOSED:
    case CKR_SLOT_ID_INVALID:
      /* An open session only becomes invalid under us when the card goes
       * away (or the reader with it). */
      g_set_error_literal (error, IMZALA_ERROR, IMZALA_ERROR_TOKEN_REMOVED,
                           _("The card was removed. Insert it again and retry."));
      break;

    case CKR_FUNCTION_CANCELED:
      /* İmzala never cancels a call by C_CancelFunction, and a keypad wait
       * that İptal ended is reported as cancelled before this is reached
       * (imzala-token-pin-pad.c): the module gave up waiting on its own. */
      g_set_error_literal (error, IMZALA_ERROR, IMZALA_ERROR_PIN_PAD_TIMEOUT,
                           _("The reader stopped waiting for the PIN: it was not typed in time, or "
                             "Cancel was pressed on the reader. Try again."));
      break;

    case CKR_MECHANISM_INVALID:
    case CKR_MECHANISM_PARAM_INVALID:
    case CKR_KEY_TYPE_INCONSISTENT:
    case CKR_KEY_FUNCTION_NOT_PERMITTED:
    case CKR_KEY_SIZE_RANGE:
      g_set_error_literal (error, IMZALA_ERROR, IMZALA_ERROR_UNSUPPORTED_KEY,
                           _("The card cannot sign with this key in a way İmzala supports."));
      break;

    case CKR_TOKEN_WRITE_PROTECTED:
      g_set_error_literal (error, IMZALA_ERROR, IMZALA_ERROR_MODULE_FAILURE,
                           _("The card is write-protected, so its PIN cannot be changed."));
      break;

    case CKR_TOKEN_NOT_RECOGNIZED:
      g_set_error_literal (error, IMZALA_ERROR, IMZALA_ERROR_TOKEN_NOT_RECOGNIZED,
                           _("The card was not recognised. Install the software for your card: for an AKİS card "
                             "its vendor’s package, which puts the module at /usr/lib/libakisp11.so or "
                             "/opt/Akia/libakisp11.so; for other cards OpenSC."));
      break;

    case CKR_DEVICE_ERROR:
      /* What a reader answers when the card leaves it in the middle of a
       * command; a card that broke down gets the same advice. */
      g_set_error_literal (error, IMZALA_ERROR, IMZALA_ERROR_TOKEN_REMOVED,
                           _("The card was removed or stopped answering. Insert it again and retry."));
      break;

    default:
      g_set_error_literal (error, IMZALA_ERROR, IMZALA_ERROR_MODULE_FAILURE,
                           _("The card or its driver reported an error. Remove the card, insert it again and retry."));
      break;
    }

  return FALSE;
}

gboolean
imzala_pkcs11_set_error (GError     **error,
                         CK_RV        rv,
                         ImzalaToken *token)
{
  return imzala_pkcs11_set_error_full (error, rv, token, CKU_USER, NULL);
}

gboolean
imzala_pkcs11_rv_means_removed (CK_RV rv)
{
  switch (rv)
    {
    case CKR_DEVICE_REMOVED:
    case CKR_DEVICE_ERROR:
    case CKR_TOKEN_NOT_PRESENT:
    case CKR_SESSION_HANDLE_INVALID:
    case CKR_SESSION_CLOSED:
    case CKR_SLOT_ID_INVALID:
      return TRUE;
    default:
      return FALSE;
    }
}
