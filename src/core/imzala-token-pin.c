/* imzala-token-pin.c: changing the PIN (C_SetPIN) and unblocking it with
 * the PUK (C_Login as SO + C_InitPIN, or C_SetPIN with the PUK), also on a
 * pin pad (NULL PINs, typed on the reader; imzala-token-pin-pad.c). A PIN or
 * PUK whose length is outside the card's range never reaches the card.
 */
#define G_LOG_DOMAIN "imzala-pkcs11"

#include "config.h"

#include <glib/gi18n-lib.h>

#include "imzala-error.h"
#include "imzala-token-private.h"
#include "imzala-cancel-private.h"

typedef struct
{
  ImzalaSecret      *pin;
  ImzalaSecret      *new_pin;
  ImzalaUnblockFlags flags;
} PinTaskData;

static void
pin_task_data_free (PinTaskData *task_data)
{
  g_clear_pointer (&task_data->pin, imzala_secret_unref);
  g_clear_pointer (&task_data->new_pin, imzala_secret_unref);
  g_free (task_data);
}

typedef struct
{
  ImzalaToken *token;
  ImzalaSecret *secret;
  ImzalaSecret *new_pin;
  GCancellable *cancellable;
  ImzalaUnblockFlags flags;
} PinCall;

static gboolean
change_pin_call_cb (gpointer   user_data,
                    GError   **error)
{
  PinCall *call = user_data;

  return imzala_token_change_pin (call->token, call->secret, call->new_pin, call->cancellable, error);
}

static gboolean
unblock_pin_call_cb (gpointer   user_data,
                     GError   **error)
{
  PinCall *call = user_data;

  return imzala_token_unblock_pin_full (call->token, call->secret, call->new_pin, call->flags,
                                        call->cancellable, error);
}

gboolean
imzala_token_change_pin (ImzalaToken   *self,
                         ImzalaSecret  *old_pin,
                         ImzalaSecret  *new_pin,
                         GCancellable  *cancellable,
                         GError       **error)
{
  CK_FUNCTION_LIST *functions;
  CK_SESSION_HANDLE session;
  gboolean ok = FALSE;
  CK_RV rv;

  g_return_val_if_fail (IMZALA_IS_TOKEN (self), FALSE);

  /* Called from another thread (the CLI): run on the module's thread. */
  if (!imzala_module_is_current_thread (self->module))
    {
      PinCall call = { self, old_pin, new_pin, cancellable };

      return imzala_module_call (self->module, change_pin_call_cb, &call, error);
    }

  if (!imzala_token_check_pin_length (self, old_pin, error) || !imzala_token_check_pin_length (self, new_pin, error))
    return FALSE;
  if (imzala_cancelled (cancellable, error))
    return FALSE;

  functions = imzala_module_get_functions (self->module);
  imzala_module_lock (self->module);

  rv = functions->C_OpenSession (self->slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &session);
  if (!imzala_pkcs11_set_error_full (error, rv, self, CKU_USER, "C_OpenSession"))
    ;
  else if (old_pin == NULL && new_pin == NULL && imzala_token_has_pin_pad (self))
    {
      ImzalaPinPadWait wait = { NULL, 0 };

      /* On a pin pad the reader asks for the current PIN and the new one
       * itself: C_SetPIN with NULL PINs in a session that is not logged in
       * (which changes the user's PIN), so the current PIN is typed once,
       * not once for a login and again for the change. */
      imzala_token_pin_pad_wait_begin_locked (self, session,
                                              _("Enter the current PIN on the reader, then the new PIN."),
                                              &wait);
      rv = functions->C_SetPIN (session, NULL, 0, NULL, 0);
      if (imzala_token_pin_pad_wait_end_locked (self, &wait, error))
        {
          if (rv == CKR_PIN_INCORRECT)
            imzala_token_refresh_locked (self, NULL);
          ok = imzala_pkcs11_set_error_full (error, rv, self, CKU_USER, "C_SetPIN");
        }
      functions->C_CloseSession (session);
    }
  else
    {
      if (imzala_token_login_locked (self, session, CKU_USER, old_pin, error))
        {
          rv = functions->C_SetPIN (session,
                                    imzala_token_secret_data (old_pin), imzala_token_secret_length (old_pin),
                                    imzala_token_secret_data (new_pin), imzala_token_secret_length (new_pin));
          if (rv == CKR_PIN_INCORRECT)
            imzala_token_refresh_locked (self, NULL);
          ok = imzala_pkcs11_set_error_full (error, rv, self, CKU_USER, "C_SetPIN");
          functions->C_Logout (session);
        }
      functions->C_CloseSession (session);
    }

  /* The PIN flags (count low, to be changed) change with the PIN. */
  imzala_token_refresh_locked (self, NULL);
  imzala_module_unlock (self->module);
  return ok;
}

gboolean
imzala_token_unblock_pin (ImzalaToken   *self,
                          ImzalaSecret  *puk,
                          ImzalaSecret  *new_pin,
                          GCancellable  *cancellable,
                          GError       **error)
{
  return imzala_token_unblock_pin_full (self, puk, new_pin, IMZALA_UNBLOCK_LAST_TRY_CONFIRMED,
                                        cancellable, error);
}

/* Whether @flags allow an unblock on the card as CK_TOKEN_INFO says it is
 * now (read again under the module lock). */
static gboolean
unblock_allowed_locked (ImzalaToken        *self,
                        ImzalaUnblockFlags  flags,
                        GError            **error)
{
  ImzalaPinState state;

  if (flags == IMZALA_UNBLOCK_LAST_TRY_CONFIRMED)
    return TRUE;
  if (!imzala_token_refresh_locked (self, error))
    return FALSE;
  state = imzala_token_get_pin_state (self);
  if ((flags & IMZALA_UNBLOCK_ONLY_LOCKED) && !(state & IMZALA_PIN_STATE_LOCKED))
    {
      g_debug ("Unblock refused on %s: the user PIN is not locked", self->label);
      g_set_error (error, IMZALA_ERROR, IMZALA_ERROR_PIN_NOT_LOCKED,
                   _("The PIN of “%s” is not locked, so İmzala did not unlock the card and "
                     "nothing was changed on it."), self->label);
      return FALSE;
    }
  if (!(flags & IMZALA_UNBLOCK_LAST_TRY_CONFIRMED) && (state & IMZALA_PIN_STATE_PUK_FINAL_TRY))
    {
      g_set_error (error, IMZALA_ERROR, IMZALA_ERROR_PUK_FINAL_TRY,
                   _("Only one PUK try is left on “%s”: a wrong PUK would lock the card for "
                     "good. Nothing was tried; confirm the last try to go on."), self->label);
      return FALSE;
    }
  return TRUE;
}

gboolean
imzala_token_unblock_pin_full (ImzalaToken         *self,
                               ImzalaSecret        *puk,
                               ImzalaSecret        *new_pin,
                               ImzalaUnblockFlags   flags,
                               GCancellable        *cancellable,
                               GError             **error)
{
  CK_FUNCTION_LIST *functions;
  CK_SESSION_HANDLE session;
  gboolean ok = FALSE;
  CK_RV rv;

  g_return_val_if_fail (IMZALA_IS_TOKEN (self), FALSE);

  /* Called from another thread (the CLI): run on the module's thread. */
  if (!imzala_module_is_current_thread (self->module))
    {
      PinCall call = { self, puk, new_pin, cancellable, flags };

      return imzala_module_call (self->module, unblock_pin_call_cb, &call, error);
    }

  /* Neither the PUK nor the new PIN reaches the card when its length is
   * outside the card's range: a wrong-length PUK would still cost a try. */
  if (!imzala_token_check_puk_length (self, puk, error)
      || !imzala_token_check_pin_length (self, new_pin, error))
    return FALSE;
  if (imzala_cancelled (cancellable, error))
    return FALSE;

  functions = imzala_module_get_functions (self->module);
  imzala_module_lock (self->module);

  if (!unblock_allowed_locked (self, flags, error))
    {
      imzala_module_unlock (self->module);
      return FALSE;
    }

  rv = functions->C_OpenSession (self->slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &session);
  if (imzala_pkcs11_set_error_full (error, rv, self, CKU_SO, "C_OpenSession"))
    {
      gboolean on_reader = puk == NULL && imzala_token_has_pin_pad (self);
      ImzalaPinPadWait wait = { NULL, 0 };

      /* On a pin pad the reader asks for the PUK (C_Login with NULL), then
       * for the new PIN (C_InitPIN with NULL). */
      if (on_reader)
        imzala_token_pin_pad_wait_begin_locked (self, session, imzala_token_pin_pad_message (CKU_SO), &wait);
      rv = functions->C_Login (session, CKU_SO, imzala_token_secret_data (puk), imzala_token_secret_length (puk));
      if (on_reader && !imzala_token_pin_pad_wait_end_locked (self, &wait, error))
        ;
      else if (rv == CKR_OK || rv == CKR_USER_ALREADY_LOGGED_IN)
        {
          gboolean new_on_reader = new_pin == NULL && imzala_token_has_pin_pad (self);

          if (new_on_reader)
            imzala_token_pin_pad_wait_begin_locked (self, session, _("Enter the new PIN on the reader."), &wait);
          rv = functions->C_InitPIN (session, imzala_token_secret_data (new_pin), imzala_token_secret_length (new_pin));
          if (!new_on_reader || imzala_token_pin_pad_wait_end_locked (self, &wait, error))
            ok = imzala_pkcs11_set_error_full (error, rv, self, CKU_USER, "C_InitPIN");
          functions->C_Logout (session);
        }
      else if (rv == CKR_USER_TYPE_INVALID || rv == CKR_FUNCTION_NOT_SUPPORTED
               || rv == CKR_OPERATION_NOT_INITIALIZED || rv == CKR_USER_ANOTHER_ALREADY_LOGGED_IN)
        {
          /* Modules without an SO role take the PUK as the "old PIN" of an
           * unlogged C_SetPIN. */
          g_debug ("SO login refused on %s (%s); trying C_SetPIN with the PUK",
                   self->label, p11_kit_strerror (rv));
          if (on_reader)
            imzala_token_pin_pad_wait_begin_locked (self, session,
                                                    _("Enter the PUK on the reader, then the new PIN."), &wait);
          rv = functions->C_SetPIN (session,
                                    imzala_token_secret_data (puk), imzala_token_secret_length (puk),
                                    imzala_token_secret_data (new_pin), imzala_token_secret_length (new_pin));
          if (!on_reader || imzala_token_pin_pad_wait_end_locked (self, &wait, error))
            {
              if (rv == CKR_PIN_INCORRECT || rv == CKR_PIN_LOCKED)
                imzala_token_refresh_locked (self, NULL);
              ok = imzala_pkcs11_set_error_full (error, rv, self, CKU_SO, "C_SetPIN");
            }
        }
      else
        {
          if (rv == CKR_PIN_INCORRECT || rv == CKR_PIN_LOCKED)
            imzala_token_refresh_locked (self, NULL);
          ok = imzala_pkcs11_set_error_full (error, rv, self, CKU_SO, "C_Login");
        }
      functions->C_CloseSession (session);
    }

  imzala_token_refresh_locked (self, NULL);
  imzala_module_unlock (self->module);
  return ok;
}

/* Runs @func on the module's thread with the two secrets (and the unblock
 * flags) in a PinTaskData. */
static void
start_pin_task (ImzalaToken         *self,
                ImzalaSecret        *pin,
                ImzalaSecret        *new_pin,
                ImzalaUnblockFlags   flags,
                gpointer             source_tag,
                GTaskThreadFunc      func,
                GCancellable        *cancellable,
                GAsyncReadyCallback  callback,
                gpointer             user_data)
{
  g_autoptr(GTask) task = g_task_new (self, cancellable, callback, user_data);
  PinTaskData *td = g_new0 (PinTaskData, 1);

  td->pin = pin != NULL ? imzala_secret_ref (pin) : NULL;
  td->new_pin = new_pin != NULL ? imzala_secret_ref (new_pin) : NULL;
  td->flags = flags;
  g_task_set_source_tag (task, source_tag);
  g_task_set_task_data (task, td, (GDestroyNotify) pin_task_data_free);
  imzala_module_run_task (self->module, task, func);
}

static void
change_pin_thread (GTask        *task,
                   gpointer      source_object,
                   gpointer      task_data,
                   GCancellable *cancellable)
{
  PinTaskData *td = task_data;
  GError *error = NULL;

  if (imzala_token_change_pin (source_object, td->pin, td->new_pin, cancellable, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

void
imzala_token_change_pin_async (ImzalaToken         *self,
                               ImzalaSecret        *old_pin,
                               ImzalaSecret        *new_pin,
                               GCancellable        *cancellable,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data)
{
  g_return_if_fail (IMZALA_IS_TOKEN (self));
  start_pin_task (self, old_pin, new_pin, IMZALA_UNBLOCK_DEFAULT, imzala_token_change_pin_async,
                  change_pin_thread,
                  cancellable, callback, user_data);
}

gboolean
imzala_token_change_pin_finish (ImzalaToken   *self,
                                GAsyncResult  *result,
                                GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
unblock_pin_thread (GTask        *task,
                    gpointer      source_object,
                    gpointer      task_data,
                    GCancellable *cancellable)
{
  PinTaskData *td = task_data;
  GError *error = NULL;

  if (imzala_token_unblock_pin_full (source_object, td->pin, td->new_pin, td->flags, cancellable,
                                     &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

void
imzala_token_unblock_pin_async (ImzalaToken         *self,
                                ImzalaSecret        *puk,
                                ImzalaSecret        *new_pin,
                                GCancellable        *cancellable,
                                GAsyncReadyCallback  callback,
                                gpointer             user_data)
{
  imzala_token_unblock_pin_full_async (self, puk, new_pin, IMZALA_UNBLOCK_LAST_TRY_CONFIRMED,
                                       cancellable, callback, user_data);
}

void
imzala_token_unblock_pin_full_async (ImzalaToken         *self,
                                     ImzalaSecret        *puk,
                                     ImzalaSecret        *new_pin,
                                     ImzalaUnblockFlags   flags,
                                     GCancellable        *cancellable,
                                     GAsyncReadyCallback  callback,
                                     gpointer             user_data)
{
  g_return_if_fail (IMZALA_IS_TOKEN (self));
  /* One source tag for both: imzala_token_unblock_pin_finish() ends either. */
  start_pin_task (self, puk, new_pin, flags, imzala_token_unblock_pin_async, unblock_pin_thread,
                  cancellable, callback, user_data);
}

gboolean
imzala_token_unblock_pin_finish (ImzalaToken   *self,
                                 GAsyncResult  *result,
                                 GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}
