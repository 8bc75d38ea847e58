/* imzala-token-pin-pad.c: PKCS#11 calls that wait for a PIN typed on the
 * reader's keypad (CKF_PROTECTED_AUTHENTICATION_PATH): announcing each entry
 * (the pin-pad-prompt signal) and letting İptal cut the wait short.
 *
 * Why the cancel closes the session: while the reader waits, the module's
 * own thread is inside C_Login (or C_SetPIN, C_InitPIN), so nothing queued
 * for that thread runs until the reader gives up, often after a minute, and
 * the next request would wait as long. The only thing that can end the wait
 * is a call from another thread. C_CancelFunction is a legacy no-op
 * (CKR_FUNCTION_NOT_PARALLEL) in every module we know; C_CloseSession of the
 * session that waits is what PKCS#11 allows from any thread of a
 * multi-threaded application, and a module can abort the reader's command
 * for it (not yet checked with a real pin-pad reader; see HACKING.md). So
 * imzala_token_cancel_pin_pad() makes
 * that one call from a short-lived thread of its own: the one PKCS#11 call
 * that is not made on the module's thread, and only while that thread is
 * blocked in the keypad wait. The waiting call then fails (with
 * CKR_FUNCTION_CANCELED or an invalid session), and it is reported as
 * cancelled, not as the reader's timeout. The closing thread, not the
 * canceller, makes the call because a module with one big lock only takes it
 * once the wait ends, and the canceller is usually the GTK main thread.
 */
#define G_LOG_DOMAIN "imzala-pkcs11"

#include "config.h"

#include <glib/gi18n-lib.h>

#include "imzala-error.h"
#include "imzala-token-private.h"

static guint pin_pad_prompt_signal;

void
imzala_token_pin_pad_class_init (GObjectClass *object_class)
{
  /**
   * ImzalaToken::pin-pad-prompt:
   * @message: what the user must type on the reader now, a translated
   *   sentence
   *
   * Emitted on the module's thread just before a call waits for a PIN (or
   * PUK) typed on the reader's keypad: once for the login, again for each
   * signature with a CKA_ALWAYS_AUTHENTICATE key. Handlers must hand it to
   * their own main context.
   */
  pin_pad_prompt_signal =
    g_signal_new ("pin-pad-prompt", G_TYPE_FROM_CLASS (object_class), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
}

void
imzala_token_pin_pad_init (ImzalaToken *self)
{
  g_mutex_init (&self->pin_pad_lock);
}

void
imzala_token_pin_pad_finalize (ImzalaToken *self)
{
  g_mutex_clear (&self->pin_pad_lock);
}

const char *
imzala_token_pin_pad_message (CK_USER_TYPE user)
{
  switch (user)
    {
    case CKU_SO:
      return _("Enter the PUK on the reader.");
    case CKU_CONTEXT_SPECIFIC:
      return _("Enter the PIN on the reader again, for the signature.");
    case CKU_USER:
    default:
      return _("Enter the PIN on the reader.");
    }
}

typedef struct
{
  ImzalaToken *token;
  CK_SESSION_HANDLE session;
} CloseData;

static gpointer
close_session_thread (gpointer user_data)
{
  CloseData *data = user_data;
  ImzalaToken *self = data->token;

  /* Only while that very wait goes on: once it has ended, the handle may
   * already name another operation's session. */
  g_mutex_lock (&self->pin_pad_lock);
  if (self->pin_pad_waiting && self->pin_pad_session == data->session && self->pin_pad_functions != NULL)
    {
      CK_RV rv = self->pin_pad_functions->C_CloseSession (data->session);

      g_debug ("C_CloseSession to end the pin-pad wait on %s: %s", self->label, p11_kit_strerror (rv));
    }
  g_mutex_unlock (&self->pin_pad_lock);

  g_object_unref (data->token);
  g_free (data);
  return NULL;
}

void
imzala_token_cancel_pin_pad (ImzalaToken *self)
{
  CloseData *data;

  g_return_if_fail (IMZALA_IS_TOKEN (self));

  g_mutex_lock (&self->pin_pad_lock);
  if (!self->pin_pad_waiting || self->pin_pad_cancelled)
    {
      g_mutex_unlock (&self->pin_pad_lock);
      return;
    }
  self->pin_pad_cancelled = TRUE;
  data = g_new0 (CloseData, 1);
  data->token = g_object_ref (self);
  data->session = self->pin_pad_session;
  g_mutex_unlock (&self->pin_pad_lock);

  g_thread_unref (g_thread_new ("imzala-pin-pad-cancel", close_session_thread, data));
}

static void
cancelled_cb (GCancellable *cancellable,
              gpointer      user_data)
{
  imzala_token_cancel_pin_pad (IMZALA_TOKEN (user_data));
}

void
imzala_token_pin_pad_wait_begin_locked (ImzalaToken       *self,
                                        CK_SESSION_HANDLE  session,
                                        const char        *message,
                                        ImzalaPinPadWait  *wait)
{
  CK_FUNCTION_LIST *functions = imzala_module_get_functions (self->module);

  g_signal_emit (self, pin_pad_prompt_signal, 0, message);

  g_mutex_lock (&self->pin_pad_lock);
  self->pin_pad_waiting = TRUE;
  self->pin_pad_cancelled = FALSE;
  self->pin_pad_session = session;
  self->pin_pad_functions = functions;
  g_mutex_unlock (&self->pin_pad_lock);

  /* The async operations run with their task's cancellable as the current
   * one (imzala-module.c); a cancellable already cancelled ends the wait
   * before it starts. */
  wait->cancellable = g_cancellable_get_current ();
  wait->handler = 0;
  if (wait->cancellable != NULL)
    {
      g_object_ref (wait->cancellable);
      wait->handler = g_cancellable_connect (wait->cancellable, G_CALLBACK (cancelled_cb), self, NULL);
    }
}

gboolean
imzala_token_pin_pad_wait_end_locked (ImzalaToken       *self,
                                      ImzalaPinPadWait  *wait,
                                      GError           **error)
{
  gboolean cancelled;

  if (wait->cancellable != NULL)
    {
      g_cancellable_disconnect (wait->cancellable, wait->handler);
      g_clear_object (&wait->cancellable);
    }

  g_mutex_lock (&self->pin_pad_lock);
  cancelled = self->pin_pad_cancelled;
  self->pin_pad_waiting = FALSE;
  self->pin_pad_cancelled = FALSE;
  self->pin_pad_session = CK_INVALID_HANDLE;
  self->pin_pad_functions = NULL;
  g_mutex_unlock (&self->pin_pad_lock);

  if (cancelled)
    {
      g_debug ("The pin-pad wait on %s was cancelled", self->label);
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CANCELLED, _("The operation was cancelled."));
      return FALSE;
    }
  return TRUE;
}
