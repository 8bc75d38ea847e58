/* imzala-token.h: one token (a card in a reader, or a SoftHSM token).
 *
 * Operations open their own session, log in when they need to, and close the
 * session before they return, so nothing stays logged in, except after
 * imzala_token_login(): then signing reuses that session until
 * imzala_token_logout(). Blocking calls have
 * async forms that run them in a GTask thread.
 */
#pragma once

#include <gio/gio.h>

#include "imzala-certificate.h"
#include "imzala-cms.h"
#include "imzala-digest.h"
#include "imzala-module.h"
#include "imzala-secret.h"

G_BEGIN_DECLS

typedef enum /*< flags >*/
{
  IMZALA_PIN_STATE_OK             = 0,
  IMZALA_PIN_STATE_COUNT_LOW      = 1 << 0, /* CKF_USER_PIN_COUNT_LOW */
  IMZALA_PIN_STATE_FINAL_TRY      = 1 << 1, /* CKF_USER_PIN_FINAL_TRY */
  IMZALA_PIN_STATE_LOCKED         = 1 << 2, /* CKF_USER_PIN_LOCKED */
  IMZALA_PIN_STATE_TO_BE_CHANGED  = 1 << 3, /* CKF_USER_PIN_TO_BE_CHANGED */
  IMZALA_PIN_STATE_PUK_COUNT_LOW  = 1 << 4, /* CKF_SO_PIN_COUNT_LOW */
  IMZALA_PIN_STATE_PUK_FINAL_TRY  = 1 << 5, /* CKF_SO_PIN_FINAL_TRY */
  IMZALA_PIN_STATE_PUK_LOCKED     = 1 << 6, /* CKF_SO_PIN_LOCKED */
} ImzalaPinState;

/* What an unblock may do (imzala_token_unblock_pin_full()). */
typedef enum /*< flags >*/
{
  IMZALA_UNBLOCK_DEFAULT            = 0,
  /* Refuse (IMZALA_ERROR_PIN_NOT_LOCKED) unless the card says its user PIN
   * is locked: a PUK released by a portal is for a locked card only, and
   * would otherwise reset a PIN that works. */
  IMZALA_UNBLOCK_ONLY_LOCKED        = 1 << 0,
  /* The user agreed to spend the last PUK try (CKF_SO_PIN_FINAL_TRY);
   * without it that try is refused with IMZALA_ERROR_PUK_FINAL_TRY, since
   * a wrong PUK then destroys a Turkish card for good. */
  IMZALA_UNBLOCK_LAST_TRY_CONFIRMED = 1 << 1,
} ImzalaUnblockFlags;

#define IMZALA_TYPE_TOKEN (imzala_token_get_type ())
G_DECLARE_FINAL_TYPE (ImzalaToken, imzala_token, IMZALA, TOKEN, GObject)

ImzalaModule  *imzala_token_get_module           (ImzalaToken *self);
gulong         imzala_token_get_slot_id          (ImzalaToken *self);
/* CK_SLOT_INFO slotDescription: the PC/SC reader name for PC/SC cards. */
const char    *imzala_token_get_slot_description (ImzalaToken *self);
const char    *imzala_token_get_label            (ImzalaToken *self);
const char    *imzala_token_get_manufacturer     (ImzalaToken *self);
const char    *imzala_token_get_model            (ImzalaToken *self);
const char    *imzala_token_get_serial           (ImzalaToken *self);
ImzalaPinState imzala_token_get_pin_state        (ImzalaToken *self);
/* CKF_PROTECTED_AUTHENTICATION_PATH: the PIN is typed on the reader. */
gboolean       imzala_token_has_pin_pad          (ImzalaToken *self);
guint          imzala_token_get_min_pin_length   (ImzalaToken *self);
guint          imzala_token_get_max_pin_length   (ImzalaToken *self);
/* The range the PIN checks use: what the card states, with a bound that is
 * missing or absurd (0, CK_UNAVAILABLE_INFORMATION, a minimum above
 * IMZALA_SECRET_MAX_LENGTH, a maximum below the minimum) as 0 (unknown). */
void           imzala_token_get_pin_length_range (ImzalaToken *self,
                                                  guint       *min,
                                                  guint       *max);
/* ImzalaCertificate, borrowed: the token's certificates, CA ones included
 * (imzala_certificate_is_ca()). */
GPtrArray     *imzala_token_get_certificates     (ImzalaToken *self);
/* A PKCS#11 URI naming the token. */
char          *imzala_token_get_uri              (ImzalaToken *self);
/* Whether @certificate is one of this token's (the same object). */
gboolean       imzala_token_has_certificate      (ImzalaToken       *self,
                                                  ImzalaCertificate *certificate);
/* Whether @other is the same card as this token: the same module, slot and
 * serial number (tokens are made afresh on each listing). */
gboolean       imzala_token_is_same_card         (ImzalaToken       *self,
                                                  ImzalaToken       *other);
/* A PKCS#11 URI naming @certificate's object on this token (RFC 7512), or
 * NULL when it is not one of this token's certificates. */
char          *imzala_token_dup_certificate_uri  (ImzalaToken       *self,
                                                  ImzalaCertificate *certificate);

/* Ends a wait for a PIN typed on the reader (a pin-pad login, PIN change
 * or unblock of this token) now, from any thread: the operation fails with
 * G_IO_ERROR_CANCELLED and the module is free for the next one. Cancelling
 * the GCancellable of an async operation does the same. Does nothing when
 * no keypad wait is going on. See imzala-token-pin-pad.c for how. */
void           imzala_token_cancel_pin_pad       (ImzalaToken *self);

/* Re-reads CK_TOKEN_INFO (PIN state changes after a wrong PIN). */
gboolean       imzala_token_refresh              (ImzalaToken *self, GCancellable *cancellable, GError **error);
void           imzala_token_refresh_async        (ImzalaToken *self, GCancellable *cancellable,
                                                  GAsyncReadyCallback callback, gpointer user_data);
gboolean       imzala_token_refresh_finish       (ImzalaToken *self, GAsyncResult *result, GError **error);

/* Signs @data with the private key of @certificate (which must belong to this
 * token), hashing with @digest: RSA PKCS#1 v1.5 (CKM_SHA256_RSA_PKCS /
 * CKM_SHA384_RSA_PKCS, or CKM_RSA_PKCS over a DigestInfo when that is all the
 * token offers) or ECDSA (CKM_ECDSA over the hash, r||s returned as a DER
 * ECDSA-Sig-Value). @pin is NULL on a pin-pad token. Logs in (and again with
 * CKU_CONTEXT_SPECIFIC for CKA_ALWAYS_AUTHENTICATE keys), signs, logs out. */
GBytes        *imzala_token_sign        (ImzalaToken       *self,
                                         ImzalaCertificate *certificate,
                                         ImzalaSecret      *pin,
                                         ImzalaDigest       digest,
                                         GBytes            *data,
                                         GCancellable      *cancellable,
                                         GError           **error);
void           imzala_token_sign_async  (ImzalaToken *self, ImzalaCertificate *certificate, ImzalaSecret *pin,
                                         ImzalaDigest digest, GBytes *data, GCancellable *cancellable,
                                         GAsyncReadyCallback callback, gpointer user_data);
GBytes        *imzala_token_sign_finish (ImzalaToken *self, GAsyncResult *result, GError **error);

/* imzala_cms_sign() with this token as the signer (imzala-token-cms.c):
 * a CAdES-BES SignedData over @content signed with @signer's key, the
 * token's CA certificates included. @signer must be one of this token's
 * certificates (else IMZALA_ERROR_NO_TOKEN). */
GBytes        *imzala_token_sign_cms        (ImzalaToken       *self,
                                             ImzalaCertificate *signer,
                                             ImzalaSecret      *pin,
                                             GBytes            *content,
                                             ImzalaCmsFlags     flags,
                                             GCancellable      *cancellable,
                                             GError           **error);
void           imzala_token_sign_cms_async  (ImzalaToken        *self,
                                             ImzalaCertificate  *signer,
                                             ImzalaSecret       *pin,
                                             GBytes             *content,
                                             ImzalaCmsFlags      flags,
                                             GCancellable       *cancellable,
                                             GAsyncReadyCallback callback,
                                             gpointer            user_data);
GBytes        *imzala_token_sign_cms_finish (ImzalaToken   *self,
                                             GAsyncResult  *result,
                                             GError       **error);
/* imzala_cms_sign_digest() with this token as the signer (issue 12: big
 * files, hashed as a stream by imzala_cms_digest_stream() before): a
 * detached SignedData over the content whose hash is @content_digest; for an
 * attached one, imzala_cms_write_attached() adds the content. */
GBytes        *imzala_token_sign_cms_digest        (ImzalaToken       *self,
                                                    ImzalaCertificate *signer,
                                                    ImzalaSecret      *pin,
                                                    GBytes            *content_digest,
                                                    GCancellable      *cancellable,
                                                    GError           **error);
void           imzala_token_sign_cms_digest_async  (ImzalaToken        *self,
                                                    ImzalaCertificate  *signer,
                                                    ImzalaSecret       *pin,
                                                    GBytes             *content_digest,
                                                    GCancellable       *cancellable,
                                                    GAsyncReadyCallback callback,
                                                    gpointer            user_data);
GBytes        *imzala_token_sign_cms_digest_finish (ImzalaToken   *self,
                                                    GAsyncResult  *result,
                                                    GError       **error);

/* Certificates behind a login, and one login per request
 * (imzala-token-session.c).
 *
 * Whether the card wants a login (CKF_LOGIN_REQUIRED) and shows no
 * certificate before it: its certificates are shown after the PIN. */
gboolean       imzala_token_needs_login_to_list (ImzalaToken *self);
/* Logs in as the user (@pin is NULL on a pin-pad) and keeps the session
 * open on the module's thread, so that imzala_token_sign() and
 * imzala_token_sign_cms() sign in it without logging in again (a
 * CKA_ALWAYS_AUTHENTICATE key still gets its context-specific login per
 * signature, with the PIN they are given). Logged in already: nothing is
 * asked of the card. When the token showed no certificate, they are read
 * again after the login and the token's certificates replaced (on the
 * thread that calls this function or the finish function). The session
 * ends with imzala_token_logout(), or with the card. */
gboolean       imzala_token_login        (ImzalaToken   *self,
                                          ImzalaSecret  *pin,
                                          GCancellable  *cancellable,
                                          GError       **error);
void           imzala_token_login_async  (ImzalaToken *self, ImzalaSecret *pin, GCancellable *cancellable,
                                          GAsyncReadyCallback callback, gpointer user_data);
gboolean       imzala_token_login_finish (ImzalaToken *self, GAsyncResult *result, GError **error);
/* C_Logout and C_CloseSession of the session imzala_token_login() kept, if
 * any; the async form is queued on the module's thread and not waited for. */
void           imzala_token_logout       (ImzalaToken *self);
void           imzala_token_logout_async (ImzalaToken *self);

/* C_SetPIN in a user session. @old_pin and @new_pin are NULL on a pin-pad. */
gboolean       imzala_token_change_pin  (ImzalaToken   *self,
                                         ImzalaSecret  *old_pin,
                                         ImzalaSecret  *new_pin,
                                         GCancellable  *cancellable,
                                         GError       **error);
void           imzala_token_change_pin_async  (ImzalaToken *self, ImzalaSecret *old_pin, ImzalaSecret *new_pin,
                                               GCancellable *cancellable, GAsyncReadyCallback callback,
                                               gpointer user_data);
gboolean       imzala_token_change_pin_finish (ImzalaToken *self, GAsyncResult *result, GError **error);

/* Unblocks with the PUK (SO PIN): C_Login(CKU_SO) + C_InitPIN, or, where the
 * module wants it, C_SetPIN(puk, new) in a session that is not logged in. */
gboolean       imzala_token_unblock_pin (ImzalaToken   *self,
                                         ImzalaSecret  *puk,
                                         ImzalaSecret  *new_pin,
                                         GCancellable  *cancellable,
                                         GError       **error);
void           imzala_token_unblock_pin_async  (ImzalaToken *self, ImzalaSecret *puk, ImzalaSecret *new_pin,
                                                GCancellable *cancellable, GAsyncReadyCallback callback,
                                                gpointer user_data);
gboolean       imzala_token_unblock_pin_finish (ImzalaToken *self, GAsyncResult *result, GError **error);
/* The same with @flags. Both checks are made on the module's thread, on
 * CK_TOKEN_INFO read again right before the PUK would reach the card, so a
 * card changed meanwhile is not unblocked on an old state. The functions
 * without flags spend the last try without asking
 * (IMZALA_UNBLOCK_LAST_TRY_CONFIRMED); their callers warn first. */
gboolean       imzala_token_unblock_pin_full   (ImzalaToken         *self,
                                                ImzalaSecret        *puk,
                                                ImzalaSecret        *new_pin,
                                                ImzalaUnblockFlags   flags,
                                                GCancellable        *cancellable,
                                                GError             **error);
void           imzala_token_unblock_pin_full_async (ImzalaToken         *self,
                                                    ImzalaSecret        *puk,
                                                    ImzalaSecret        *new_pin,
                                                    ImzalaUnblockFlags   flags,
                                                    GCancellable        *cancellable,
                                                    GAsyncReadyCallback  callback,
                                                    gpointer             user_data);

G_END_DECLS
