/* imzala-token-private.h: what the files of ImzalaToken share.
 *
 * ImzalaToken is one class in several files, split by job: imzala-token.c
 * (life, certificates, getters, refresh, login), imzala-token-sign.c (the
 * signing path), imzala-token-pin.c (PIN change and unblock),
 * imzala-token-session.c (a login kept for later operations). Only they
 * include this header.
 */
#pragma once

#include "imzala-pkcs11-private.h"
#include "imzala-token.h"

G_BEGIN_DECLS

struct _ImzalaToken
{
  GObject parent_instance;

  ImzalaModule *module;
  CK_SLOT_ID slot;
  CK_SLOT_INFO slot_info;

  /* CK_TOKEN_INFO changes (PIN flags) when refreshed from a worker thread;
   * the strings below are made once and never change. */
  GMutex info_lock;
  CK_TOKEN_INFO token_info;

  char *slot_description;
  char *label;
  char *manufacturer;
  char *model;
  char *serial;

  GPtrArray *certificates;
};
/* The module lock is held by the caller of every *_locked function. */

/* Reads CK_TOKEN_INFO again. */
gboolean imzala_token_refresh_locked   (ImzalaToken        *self,
                                        GError            **error);
/* C_Login; after a wrong secret the token information is read again so the
 * error can tell how many tries are left. */
gboolean imzala_token_login_locked     (ImzalaToken        *self,
                                        CK_SESSION_HANDLE   session,
                                        CK_USER_TYPE        user,
                                        ImzalaSecret       *secret,
                                        GError            **error);
/* Checks a PIN against the card's length limits before it reaches the card
 * (no lock needed). */
gboolean imzala_token_check_pin_length (ImzalaToken         *self,
                                        const ImzalaSecret  *pin,
                                        GError             **error);

/* The logged-in session imzala_token_login() kept for this token, if any
 * (imzala-token-session.c). */
gboolean imzala_token_lookup_login_session_locked (ImzalaToken       *self,
                                                   CK_SESSION_HANDLE *session);

/* Whether the card is still in its reader (C_GetSlotInfo, which makes
 * OpenSC look at the reader again). Called before an outcome that a pulled
 * card also causes (an attribute that cannot be read, a key not found) is
 * taken at its word: FALSE with IMZALA_ERROR_TOKEN_REMOVED when the card is
 * gone. Any other failure of the call is no proof of removal: TRUE. */
gboolean imzala_token_check_present_locked (ImzalaToken  *self,
                                            GError      **error);

/* The module reads the bytes where the secret keeps them: no copy. */
static inline CK_UTF8CHAR_PTR
imzala_token_secret_data (ImzalaSecret *secret)
{
  return secret != NULL ? (CK_UTF8CHAR_PTR) imzala_secret_get_data (secret) : NULL;
}

static inline CK_ULONG
imzala_token_secret_length (ImzalaSecret *secret)
{
  return secret != NULL ? imzala_secret_get_length (secret) : 0;
}

G_END_DECLS
