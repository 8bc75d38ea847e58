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
  /* imzala_token_new_only(): the fingerprint prefix of the only
   * certificates read, or NULL for all of them. */
  char *only_fingerprint;
  /* imzala_token_new_only(): the PKCS#11 URI of the certificate asked for,
   * or NULL. A card it does not name (module, slot, token) is not read:
   * not_named is then set, and it lists nothing and needs no login. When it
   * names an object (id, label), only the certificates it names are parsed,
   * as with only_fingerprint. */
  P11KitUri *only_uri;
  char *only_uri_string;  /* as given, for the re-read after login */
  gboolean not_named;
  /* How many certificates it skipped: the card does show certificates, so
   * it does not need a login to list them. */
  guint n_skipped;
  /* The card's CA certificates (DER, GBytes) in a listing for one
   * certificate: carried into the SignedData without being parsed
   * (imzala-token-cms.c), as d2i_X509 costs ~2 M instructions each. */
  GPtrArray *carried_certificates;

  /* A keypad wait in progress (imzala-token-pin-pad.c), for
   * imzala_token_cancel_pin_pad() on another thread. */
  GMutex pin_pad_lock;
  gboolean pin_pad_waiting;
  gboolean pin_pad_cancelled;
  CK_SESSION_HANDLE pin_pad_session;
  CK_FUNCTION_LIST *pin_pad_functions;
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
 * (no lock needed): IMZALA_ERROR_PIN_LEN_RANGE, or IMZALA_ERROR_PIN_REQUIRED
 * for a NULL PIN on a token without a pin pad. */
gboolean imzala_token_check_pin_length (ImzalaToken         *self,
                                        const ImzalaSecret  *pin,
                                        GError             **error);
/* The same for the PUK (the card has one range for all its PINs). */
gboolean imzala_token_check_puk_length (ImzalaToken         *self,
                                        const ImzalaSecret  *puk,
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

/* Pin-pad waits (imzala-token-pin-pad.c). */
typedef struct
{
  GCancellable *cancellable;
  gulong handler;
} ImzalaPinPadWait;

void        imzala_token_pin_pad_class_init (GObjectClass *object_class);
void        imzala_token_pin_pad_init       (ImzalaToken  *self);
void        imzala_token_pin_pad_finalize   (ImzalaToken  *self);
/* What to type on the reader for a C_Login as @user. */
const char *imzala_token_pin_pad_message    (CK_USER_TYPE  user);
/* Around a call on @session that waits for the reader's keypad: emits
 * pin-pad-prompt with @message and lets the current GCancellable and
 * imzala_token_cancel_pin_pad() cut it short. end() returns FALSE with
 * G_IO_ERROR_CANCELLED when the wait was cancelled; the call's own result
 * is then not to be reported. */
void        imzala_token_pin_pad_wait_begin_locked (ImzalaToken       *self,
                                                    CK_SESSION_HANDLE  session,
                                                    const char        *message,
                                                    ImzalaPinPadWait  *wait);
gboolean    imzala_token_pin_pad_wait_end_locked   (ImzalaToken       *self,
                                                    ImzalaPinPadWait  *wait,
                                                    GError           **error);

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
