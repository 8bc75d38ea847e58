/* imzala-token-session.c: a logged-in session that outlasts one operation.
 *
 * Some cards (CKF_LOGIN_REQUIRED) show their certificates only after
 * C_Login, and a request with several texts should cost one PIN entry, not
 * one per text. So a login can be kept: imzala_token_login() opens a
 * session, logs in, and leaves the session with the module (per slot,
 * imzala_module_keep_login_session()); signing finds it there
 * (imzala_token_lookup_login_session_locked()) and signs in it without
 * C_OpenSession and C_Login; imzala_token_logout() ends it with C_Logout and
 * C_CloseSession. A card missing from a later listing takes its session
 * with it (imzala_module_forget_absent_slots()).
 *
 * When the token showed no certificate before the login, they are read
 * again once logged in (the module's cache forgotten and refilled), and the
 * token's certificate array is refilled on the caller's thread.
 */
#define G_LOG_DOMAIN "imzala-pkcs11"

#include "config.h"


#include "imzala-error.h"
#include "imzala-token-private.h"
#include "imzala-cancel-private.h"

gboolean
imzala_token_needs_login_to_list (ImzalaToken *self)
{
  CK_TOKEN_INFO info;

  g_return_val_if_fail (IMZALA_IS_TOKEN (self), FALSE);

  imzala_token_get_token_info (self, &info);
  return (info.flags & CKF_LOGIN_REQUIRED) != 0 && self->certificates->len == 0
         && self->n_skipped == 0 && !self->not_named;
}

gboolean
imzala_token_lookup_login_session_locked (ImzalaToken       *self,
                                          CK_SESSION_HANDLE *session)
{
  return imzala_module_lookup_login_session (self->module, self->slot, session);
}

/* Ends the kept session, if there is one: C_Logout, C_CloseSession. */
static void
logout_locked (ImzalaToken *self)
{
  CK_FUNCTION_LIST *functions = imzala_module_get_functions (self->module);
  CK_SESSION_HANDLE session;

  if (!imzala_module_take_login_session (self->module, self->slot, &session))
    return;
  functions->C_Logout (session);
  functions->C_CloseSession (session);
  g_debug ("Logged out of %s", self->label);
}

/* On the module's thread. @certificates is set to what the card shows after
 * the login when it showed nothing before, else left NULL. */
static gboolean
login_on_thread (ImzalaToken   *self,
                 ImzalaSecret  *pin,
                 GPtrArray    **certificates,
                 GCancellable  *cancellable,
                 GError       **error)
{
  CK_FUNCTION_LIST *functions = imzala_module_get_functions (self->module);
  g_autoptr(ImzalaToken) fresh = NULL;
  CK_SESSION_HANDLE session;
  gboolean ok = TRUE;
  CK_RV rv;

  if (imzala_cancelled (cancellable, error))
    return FALSE;

  imzala_module_lock (self->module);

  /* Logged in already (a second text, or a login to list followed by a
   * signature): nothing is asked of the card again. */
  if (!imzala_module_lookup_login_session (self->module, self->slot, &session))
    {
      ok = imzala_token_check_pin_length (self, pin, error);
      if (ok)
        {
          rv = functions->C_OpenSession (self->slot, CKF_SERIAL_SESSION, NULL, NULL, &session);
          ok = imzala_pkcs11_set_error_full (error, rv, self, CKU_USER, "C_OpenSession");
        }
      if (ok && !imzala_token_login_locked (self, session, CKU_USER, pin, error))
        {
          functions->C_CloseSession (session);
          ok = FALSE;
        }
      if (ok)
        {
          imzala_module_keep_login_session (self->module, self->slot, session);
          g_debug ("Logged in to %s; the session is kept", self->label);
        }
    }

  /* The card showed nothing before the login: what it shows now is read
   * as a listing reads it (and cached for the listings after this one). */
  if (ok && self->certificates->len == 0 && self->n_skipped == 0)
    {
      imzala_module_forget_slot (self->module, self->slot);
      fresh = imzala_token_new_only (self->module, self->slot, self->only_fingerprint,
                                     self->only_uri_string, cancellable, error);
      if (fresh == NULL)
        {
          logout_locked (self);
          ok = FALSE;
        }
      else
        {
          *certificates = g_ptr_array_ref (fresh->certificates);
          /* The CA certificates a listing for one certificate keeps as DER
           * (imzala-token.c); only the module's thread reads them. */
          for (guint i = 0; i < fresh->carried_certificates->len; i++)
            g_ptr_array_add (self->carried_certificates,
                             g_bytes_ref (g_ptr_array_index (fresh->carried_certificates, i)));
        }
    }

  imzala_module_unlock (self->module);
  return ok;
}

/* On the caller's thread, which owns what the token shows. */
static void
replace_certificates (ImzalaToken *self,
                      GPtrArray   *certificates)
{
  g_ptr_array_set_size (self->certificates, 0);
  for (guint i = 0; i < certificates->len; i++)
    g_ptr_array_add (self->certificates, g_object_ref (g_ptr_array_index (certificates, i)));
}

typedef struct
{
  ImzalaToken *token;
  ImzalaSecret *pin;
  GCancellable *cancellable;
  GPtrArray *certificates;
} LoginCall;

static void
login_call_free (LoginCall *call)
{
  g_clear_pointer (&call->pin, imzala_secret_unref);
  g_clear_pointer (&call->certificates, g_ptr_array_unref);
  g_free (call);
}

static gboolean
login_call_cb (gpointer   user_data,
               GError   **error)
{
  LoginCall *call = user_data;

  return login_on_thread (call->token, call->pin, &call->certificates, call->cancellable, error);
}

gboolean
imzala_token_login (ImzalaToken   *self,
                    ImzalaSecret  *pin,
                    GCancellable  *cancellable,
                    GError       **error)
{
  LoginCall call = { self, pin, cancellable, NULL };
  gboolean ok;

  g_return_val_if_fail (IMZALA_IS_TOKEN (self), FALSE);

  /* imzala_module_call() runs it at once when already on the module's
   * thread. */
  ok = imzala_module_call (self->module, login_call_cb, &call, error);
  if (ok && call.certificates != NULL)
    replace_certificates (self, call.certificates);
  g_clear_pointer (&call.certificates, g_ptr_array_unref);
  return ok;
}

static void
login_thread (GTask        *task,
              gpointer      source_object,
              gpointer      task_data,
              GCancellable *cancellable)
{
  LoginCall *call = task_data;
  GError *error = NULL;

  if (login_on_thread (source_object, call->pin, &call->certificates, cancellable, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

void
imzala_token_login_async (ImzalaToken         *self,
                          ImzalaSecret        *pin,
                          GCancellable        *cancellable,
                          GAsyncReadyCallback  callback,
                          gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  LoginCall *call;

  g_return_if_fail (IMZALA_IS_TOKEN (self));

  call = g_new0 (LoginCall, 1);
  call->token = self;
  call->pin = pin != NULL ? imzala_secret_ref (pin) : NULL;

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, imzala_token_login_async);
  g_task_set_task_data (task, call, (GDestroyNotify) login_call_free);
  imzala_module_run_task (self->module, task, login_thread);
}

gboolean
imzala_token_login_finish (ImzalaToken   *self,
                           GAsyncResult  *result,
                           GError       **error)
{
  LoginCall *call;

  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == imzala_token_login_async, FALSE);

  if (!g_task_propagate_boolean (G_TASK (result), error))
    return FALSE;
  call = g_task_get_task_data (G_TASK (result));
  if (call->certificates != NULL)
    replace_certificates (self, call->certificates);
  return TRUE;
}

static gboolean
logout_call_cb (gpointer   user_data,
                GError   **error)
{
  ImzalaToken *self = user_data;

  imzala_module_lock (self->module);
  logout_locked (self);
  imzala_module_unlock (self->module);
  return TRUE;
}

void
imzala_token_logout (ImzalaToken *self)
{
  g_autoptr(GError) error = NULL;

  g_return_if_fail (IMZALA_IS_TOKEN (self));

  /* A closed module has no session left to end. */
  if (!imzala_module_call (self->module, logout_call_cb, self, &error))
    g_debug ("Logout of %s: %s", self->label, error->message);
}

static void
logout_thread (GTask        *task,
               gpointer      source_object,
               gpointer      task_data,
               GCancellable *cancellable)
{
  logout_call_cb (source_object, NULL);
  g_task_return_boolean (task, TRUE);
}

void
imzala_token_logout_async (ImzalaToken *self)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (IMZALA_IS_TOKEN (self));

  /* Nobody waits for it: the module runs it after the work queued before,
   * and C_Finalize would end the session anyway. */
  task = g_task_new (self, NULL, NULL, NULL);
  g_task_set_source_tag (task, imzala_token_logout_async);
  imzala_module_run_task (self->module, task, logout_thread);
}
