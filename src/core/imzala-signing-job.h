/* imzala-signing-job.h: one portal request, from doğrulama kodu to result.
 *
 * The job is what the GUI's pages (and `imzala-cli portal`) follow. It is a
 * state machine driven by the caller's few method calls; everything else it
 * reports through GObject properties (connect to notify::state etc.):
 *
 *   IDLE --start(code)--> FETCHING --(request)--> CHOOSING
 *   CHOOSING --log_in(pin)--> LOGGING_IN --> CHOOSING       (needs-login)
 *   CHOOSING --sign(pin)--> SIGNING --> SUBMITTING --> DONE
 *   CHOOSING --unblock(new_pin)--> UNBLOCKING --> DONE      (purpose unblock)
 *   any state --error / expiry / cancel--> FAILED
 *
 * CHOOSING comes as soon as the request has arrived, before the first
 * listing of the cards if that is slower (OpenSC spends seconds over a card
 * it does not know): "tokens-loading" stays TRUE, with no tokens and no
 * certificates, until that listing is in; the certificates then arrive in
 * CHOOSING ("certificates", the recommended one preselected). A caller that
 * has no screen to show the request on (imzala-cli portal) waits for
 * "tokens-loading" to turn FALSE before it chooses. A failed first listing
 * still fails the job: nothing works without the cards.
 *
 * A card that shows its certificates only after the PIN leaves CHOOSING
 * without certificates and with "needs-login" set ("token" is that card):
 * log_in(pin) logs in to it and keeps the session, and CHOOSING comes back
 * with its certificates and "logged-in" set. While other cards show
 * theirs, such a card is offered (get_hidden_token()) and set_token()
 * chooses it; when the request names its requester and no certificate
 * shown is theirs, "needs-login" is set for it at once instead of
 * preselecting another person's certificate. After a login, sign()
 * needs no PIN (NULL is fine) and signs in that session. Without a login
 * before, sign() logs in once for all the texts of the request (one PIN
 * entry, also on a pin-pad, however many texts). The session ends
 * (C_Logout, C_CloseSession) when the job is DONE, FAILED (cancelled
 * included) or disposed.
 *
 * A wrong PIN (or a PIN of the wrong length or with characters the card does
 * not take) returns SIGNING or LOGGING_IN to CHOOSING with the error property set, so the
 * page can say how many tries are left and ask again; the token list is
 * refreshed so the PIN state is current. Every other error ends in FAILED
 * with the error property set (a complete, translated sentence).
 *
 * While a request is shown, remaining-seconds counts down once a second on
 * the main context that was thread-default when the job was made; at zero
 * the job fails with IMZALA_ERROR_CODE_EXPIRED unless it is already
 * submitting or done.
 *
 * All blocking work (HTTP, PKCS#11) runs asynchronously; the methods return
 * at once. The job owns a GCancellable that imzala_signing_job_cancel() and
 * disposing the job trigger.
 */
#pragma once

#include <gio/gio.h>

#include "imzala-certificate.h"
#include "imzala-module-set.h"
#include "imzala-portal.h"
#include "imzala-request.h"
#include "imzala-secret.h"
#include "imzala-token.h"
#include "imzala-token-list.h"

#include "imzala-enum-types.h"

G_BEGIN_DECLS

typedef enum
{
  IMZALA_JOB_STATE_IDLE,
  IMZALA_JOB_STATE_FETCHING,   /* asking the portal for the request, listing the cards */
  IMZALA_JOB_STATE_CHOOSING,   /* the request is shown; waiting for certificate + PIN */
  IMZALA_JOB_STATE_LOGGING_IN, /* the PIN opens a card that shows its certificates only after it */
  IMZALA_JOB_STATE_SIGNING,    /* the card is signing the texts */
  IMZALA_JOB_STATE_SUBMITTING, /* the signatures go to the portal */
  IMZALA_JOB_STATE_UNBLOCKING, /* the unblock exchange (purpose unblock) */
  IMZALA_JOB_STATE_DONE,
  IMZALA_JOB_STATE_FAILED,
} ImzalaJobState;

/* IMZALA_TYPE_JOB_STATE is in imzala-enum-types.h (generated). */

#define IMZALA_TYPE_SIGNING_JOB (imzala_signing_job_get_type ())
G_DECLARE_FINAL_TYPE (ImzalaSigningJob, imzala_signing_job, IMZALA, SIGNING_JOB, GObject)

/* @modules must already be loaded (imzala_module_set_load*). The job lists
 * the tokens in a token list of its own (imzala-cli portal, tests). */
ImzalaSigningJob  *imzala_signing_job_new (ImzalaPortal    *portal,
                                           ImzalaModuleSet *modules);
/* A job that shares @token_list (the application's): it refreshes that list
 * instead of enumerating on its own, and while CHOOSING it follows every
 * refresh of the list, whoever asked for it. */
ImzalaSigningJob  *imzala_signing_job_new_for_token_list (ImzalaPortal    *portal,
                                                          ImzalaTokenList *token_list);

/* Properties, all read-only and notified:
 *   "state"             ImzalaJobState
 *   "request"           ImzalaRequest, NULL until fetched
 *   "tokens"            GPtrArray of ImzalaToken (boxed), NULL until listed
 *   "tokens-loading"    gboolean, TRUE from start() until the job's first
 *                       listing of the cards is in (also in CHOOSING)
 *   "certificates"      GListModel of ImzalaCertificate: the signing
 *                       candidates on all tokens (not CA certificates, only
 *                       ones with a private key), recommended ones first
 *   "certificate"       ImzalaCertificate, the selected one; preselected:
 *                       the requester's first, else the only recommended
 *                       one unless it is another person's
 *                       (imzala_signing_job_is_other_persons())
 *   "token"             ImzalaToken, the token of the selected certificate,
 *                       or the only token (for unblock)
 *   "remaining-seconds" gint64
 *   "error"             GError (boxed), the last error, or NULL
 *   "signatures"        GPtrArray of GBytes (boxed), DER CMS, one per text
 *   "signed-at"         GDateTime
 *   "result-message"    string, the portal's message after DONE
 *   "needs-login"       gboolean, in CHOOSING: no certificate chosen, and
 *                       "token" shows its certificates only after the PIN
 *                       ("Sertifikalar PIN girildikten sonra görünür"): the
 *                       card the user chose (set_token()), or the first such
 *                       card when no certificate is shown, or none of those
 *                       shown is the requester's
 *   "logged-in"         gboolean, a session on "token"'s card is kept
 *                       logged in: sign() needs no PIN
 */
ImzalaJobState     imzala_signing_job_get_state             (ImzalaSigningJob *self);
ImzalaPortal      *imzala_signing_job_get_portal            (ImzalaSigningJob *self);
ImzalaRequest     *imzala_signing_job_get_request           (ImzalaSigningJob *self);
GPtrArray         *imzala_signing_job_get_tokens            (ImzalaSigningJob *self);
gboolean           imzala_signing_job_get_tokens_loading    (ImzalaSigningJob *self);
GListModel        *imzala_signing_job_get_certificates      (ImzalaSigningJob *self);
ImzalaCertificate *imzala_signing_job_get_certificate       (ImzalaSigningJob *self);
ImzalaToken       *imzala_signing_job_get_token             (ImzalaSigningJob *self);
gint64             imzala_signing_job_get_remaining_seconds (ImzalaSigningJob *self);
const GError      *imzala_signing_job_get_error             (ImzalaSigningJob *self);
GPtrArray         *imzala_signing_job_get_signatures        (ImzalaSigningJob *self);
GDateTime         *imzala_signing_job_get_signed_at         (ImzalaSigningJob *self);
const char        *imzala_signing_job_get_result_message    (ImzalaSigningJob *self);
gboolean           imzala_signing_job_get_needs_login       (ImzalaSigningJob *self);
gboolean           imzala_signing_job_get_logged_in         (ImzalaSigningJob *self);
/* "pin-pad-prompt": while SIGNING or UNBLOCKING on a pin-pad token, what the
 * user must type on the reader now ("Enter the PIN on the reader.", then
 * "Enter the PIN on the reader again, for the signature." for a key that
 * asks for every signature); NULL otherwise. */
const char        *imzala_signing_job_get_pin_pad_prompt    (ImzalaSigningJob *self);
/* Issue 10: TRUE while the chosen certificate's status is being asked
 * (before the PIN; "status-checking"), and what the user should know about
 * it ("status-notice": NULL, or a sentence saying the status could not be
 * checked and the user may still sign). A revoked certificate fails the job
 * with IMZALA_ERROR_CERTIFICATE_REVOKED instead; sign() called meanwhile
 * waits in SIGNING for the answer before it logs in. */
gboolean           imzala_signing_job_get_status_checking   (ImzalaSigningJob *self);
const char        *imzala_signing_job_get_status_notice     (ImzalaSigningJob *self);
/* The request's signature_level (protocol v1.1) is made after the card
 * signed and before anything is submitted: the TSA at its tsa_url is
 * trusted through the system store, or also @ca_file (PEM, nullable: the
 * portal's CA, as the reference portal serves its TSA itself). */
void               imzala_signing_job_set_tsa_ca_file       (ImzalaSigningJob *self,
                                                             const char       *ca_file);

/* IDLE → FETCHING: normalises @code (a malformed one → FAILED with
 * IMZALA_ERROR_CODE_FORMAT, nothing sent), then fetches the request and lists
 * the tokens in parallel; CHOOSING follows the request, the tokens may come
 * later ("tokens-loading"). */
void     imzala_signing_job_start           (ImzalaSigningJob  *self,
                                             const char        *code);

/* In CHOOSING: refreshes the token list (a card was inserted or removed).
 * The selection is kept when its certificate is still present. */
void     imzala_signing_job_refresh_tokens  (ImzalaSigningJob  *self);

/* In CHOOSING. NULL clears the selection. Returns FALSE (and sets nothing)
 * for a certificate that is not one of "certificates". */
gboolean imzala_signing_job_set_certificate (ImzalaSigningJob  *self,
                                             ImzalaCertificate *certificate);
/* In CHOOSING: which card to unblock (or log_in_to()) when there are
 * several. A card that shows its certificates only after the PIN, chosen
 * for a request that signs, clears the certificate and sets "needs-login":
 * the next PIN logs in to it (log_in()), and it stays the choice across
 * card events until a certificate is chosen or the login is done. */
gboolean imzala_signing_job_set_token       (ImzalaSigningJob  *self,
                                             ImzalaToken       *token);
/* In CHOOSING, for a request that signs: a card of "tokens" that shows its
 * certificates only after the PIN and is not logged in to, other than the
 * one "needs-login" names, or NULL: the card to offer while certificates
 * of other cards are shown. Changes with "tokens", "token", "needs-login",
 * "logged-in" and "state". */
ImzalaToken *imzala_signing_job_get_hidden_token (ImzalaSigningJob *self);

/* Whether @certificate is another person's: the request names its
 * requester, and the certificate names a T.C. kimlik no that does not fit
 * the requester's masked one. One without a number is not judged. The job
 * never preselects another person's certificate for a request that signs;
 * the user may still choose it (the portal refuses the signature). */
gboolean imzala_signing_job_is_other_persons (ImzalaSigningJob  *self,
                                              ImzalaCertificate *certificate);

/* Whether sign() would proceed now: CHOOSING, a request that is not
 * unblock, and a selected certificate that is valid now. When it returns
 * FALSE, @error (nullable) says why in a sentence for the user. */
gboolean imzala_signing_job_can_sign        (ImzalaSigningJob  *self,
                                             GError           **error);

/* CHOOSING → SIGNING → SUBMITTING → DONE. Signs every text with the selected
 * certificate (attached CAdES-BES CMS), then submits them. @pin is NULL on a
 * pin-pad token; the job keeps a reference only while signing. An expired
 * certificate is refused with IMZALA_ERROR_CERTIFICATE_EXPIRED (the job stays
 * in CHOOSING with the error set). */
void     imzala_signing_job_sign            (ImzalaSigningJob  *self,
                                             ImzalaSecret      *pin);

/* CHOOSING → LOGGING_IN → CHOOSING, when "needs-login": logs in to "token"
 * with @pin (NULL on a pin-pad) and keeps the session, so that its
 * certificates are listed and sign() asks for no PIN again. A wrong PIN
 * returns to CHOOSING with the error set. */
void     imzala_signing_job_log_in          (ImzalaSigningJob  *self,
                                             ImzalaSecret      *pin);
/* The same for @token, one of "tokens" that shows its certificates only
 * after the PIN (imzala_token_needs_login_to_list()), also while other
 * cards show theirs and "needs-login" is not set: for a command told which
 * card to use (imzala-cli portal --cert URI), or that has the card
 * "needs-login" names already. "token" becomes @token. */
void     imzala_signing_job_log_in_to       (ImzalaSigningJob  *self,
                                             ImzalaToken       *token,
                                             ImzalaSecret      *pin);

/* CHOOSING → UNBLOCKING → DONE, for IMZALA_PURPOSE_UNBLOCK: asks the portal
 * for the card's unblock secret (PUK) with the token serial, unblocks with it
 * setting @new_pin, reports the outcome to the portal and wipes the PUK.
 *
 * Only a card whose PIN is locked is unblocked: otherwise the job stays in
 * CHOOSING with IMZALA_ERROR_PIN_NOT_LOCKED and the portal is not asked for
 * the PUK (a hostile portal could otherwise reset a working PIN, or spend
 * PUK tries with a wrong PUK). The card's state is read again before the
 * PUK is asked for and once more right before it reaches the card. When
 * the card has one PUK try left (imzala_signing_job_unblock_is_last_try()),
 * unblock() refuses with IMZALA_ERROR_PUK_FINAL_TRY; the caller asks the
 * user and calls unblock_full() with @last_try_confirmed. */
void     imzala_signing_job_unblock         (ImzalaSigningJob  *self,
                                             ImzalaSecret      *new_pin);
void     imzala_signing_job_unblock_full    (ImzalaSigningJob  *self,
                                             ImzalaSecret      *new_pin,
                                             gboolean           last_try_confirmed);
/* Whether the card to unblock ("token") says only one PUK try is left
 * (CKF_SO_PIN_FINAL_TRY), so the user must be asked before unblock_full(). */
gboolean imzala_signing_job_unblock_is_last_try (ImzalaSigningJob *self);

/* Any state → FAILED with G_IO_ERROR_CANCELLED (nothing in DONE/FAILED). */
void     imzala_signing_job_cancel          (ImzalaSigningJob  *self);

/* İmza İçeriği kaydet: writes the signatures as DER .p7s. With one
 * signature and @path not an existing folder, @path is the file; otherwise
 * @path is a folder (made if needed) and the files are named
 * "<code>-<n>.p7s". Returns the paths written (NULL-terminated). */
GStrv    imzala_signing_job_save_signatures (ImzalaSigningJob  *self,
                                             const char        *path,
                                             GError           **error);

G_END_DECLS
