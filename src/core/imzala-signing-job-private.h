/* imzala-signing-job-private.h: what the files of ImzalaSigningJob share.
 *
 * ImzalaSigningJob is one class in several files, split by job:
 * imzala-signing-job.c (the object, its state changes and countdown,
 * fetching the request, cancel and save, the getters),
 * imzala-signing-job-tokens.c (the cards, their certificates and the choice
 * in CHOOSING), imzala-signing-job-sign.c (logging in, signing and
 * submitting) and imzala-signing-job-unblock.c (the unblock exchange). Only
 * they include this header.
 */
#pragma once

#include "imzala-cert-status.h"
#include "imzala-signing-job.h"

G_BEGIN_DECLS

struct _ImzalaSigningJob
{
  GObject parent_instance;

  ImzalaPortal      *portal;
  ImzalaTokenList   *token_list;
  GMainContext      *context;
  GCancellable      *cancellable;
  GSource           *timer;

  ImzalaJobState     state;
  char              *code;
  ImzalaRequest     *request;
  GPtrArray         *tokens;
  GListStore        *certificates;
  ImzalaCertificate *certificate;
  ImzalaToken       *token;
  gint64             remaining_seconds;
  GError            *error;
  GPtrArray         *signatures;
  GDateTime         *signed_at;
  char              *result_message;
  /* What to type on the reader now (a pin-pad token), while signing or
   * unblocking; the handler on the token runs on the module's thread. */
  char              *pin_pad_prompt;
  ImzalaToken       *prompting_token;
  gulong             pin_pad_prompt_handler;

  /* FETCHING waits for the request only; the first listing of the cards
   * may come later, in CHOOSING ("tokens-loading"). */
  gboolean           request_fetched;
  gboolean           tokens_listed;
  gboolean           tokens_loading;
  gboolean           refreshing;

  /* Held only while SIGNING / UNBLOCKING. */
  ImzalaSecret      *pin;
  ImzalaSecret      *new_pin;
  GError            *unblock_error;
  guint              next_text;

  /* The card that showed its certificates only after the PIN, or the card
   * logged in to for the texts: its session stays open (imzala_token_login())
   * until the job ends, and the PIN stays with it for the context-specific
   * login of a CKA_ALWAYS_AUTHENTICATE key. */
  gboolean           needs_login;
  ImzalaToken       *login_token;
  ImzalaSecret      *login_pin;
  /* ImzalaToken: the cards a login showed nothing on (empty ones), which
   * are neither offered nor logged in to again by this job. */
  GPtrArray         *empty_cards;
  /* Unblock: the user agreed to spend the card's last PUK try. */
  gboolean           last_puk_try_confirmed;

  /* Issue 10: the chosen certificate's status, asked before the PIN
   * (imzala-signing-job-status.c), and the CA file the TSA's HTTPS
   * certificate may also verify against (imzala-signing-job-sign.c). */
  GCancellable      *status_cancellable;
  ImzalaCertificate *status_certificate;
  gboolean           status_checking;
  char              *status_notice;
  gboolean           sign_after_status;
  /* The status asked while the request comes, for the one certificate the
   * cards offered then (imzala_signing_job_check_status_early()): its
   * answer once in, until that certificate is chosen. */
  ImzalaCertificate *early_certificate;
  GCancellable      *early_cancellable;
  ImzalaCertStatus  *early_status;
  char              *tsa_ca_file;
  guint              next_extension;
};

enum {
  PROP_0,
  PROP_STATE,
  PROP_REQUEST,
  PROP_TOKENS,
  PROP_CERTIFICATES,
  PROP_CERTIFICATE,
  PROP_TOKEN,
  PROP_REMAINING_SECONDS,
  PROP_ERROR,
  PROP_SIGNATURES,
  PROP_SIGNED_AT,
  PROP_RESULT_MESSAGE,
  PROP_NEEDS_LOGIN,
  PROP_LOGGED_IN,
  PROP_PIN_PAD_PROMPT,
  PROP_TOKENS_LOADING,
  PROP_STATUS_CHECKING,
  PROP_STATUS_NOTICE,
  N_PROPS
};

/* Defined in imzala-signing-job.c. */
extern GParamSpec *imzala_signing_job_properties[N_PROPS];

/* State changes (imzala-signing-job.c). */
const char *imzala_signing_job_state_nick     (ImzalaJobState    state);
gboolean    imzala_signing_job_is_finished    (ImzalaSigningJob *self);
void        imzala_signing_job_forget_secrets (ImzalaSigningJob *self);
void        imzala_signing_job_log_out        (ImzalaSigningJob *self);
void        imzala_signing_job_set_state      (ImzalaSigningJob *self,
                                               ImzalaJobState    state);
/* set_error() and fail() take @error. */
void        imzala_signing_job_set_error      (ImzalaSigningJob *self,
                                               GError           *error);
void        imzala_signing_job_fail           (ImzalaSigningJob *self,
                                               GError           *error);
void        imzala_signing_job_fail_expired   (ImzalaSigningJob *self);

/* The cards and their certificates (imzala-signing-job-tokens.c). */
void        imzala_signing_job_rebuild_certificates  (ImzalaSigningJob *self);
void        imzala_signing_job_set_tokens_loading    (ImzalaSigningJob *self,
                                                      gboolean          loading);
void        imzala_signing_job_refresh_tokens_cb     (GObject          *source,
                                                      GAsyncResult     *result,
                                                      gpointer          user_data);
void        imzala_signing_job_token_list_changed_cb (ImzalaSigningJob *self);

/* The kept session (imzala-signing-job-sign.c). */
gboolean    imzala_signing_job_is_logged_in_to (ImzalaSigningJob *self,
                                                ImzalaToken      *token);

/* Logs in and signs, once the status check let it (imzala-signing-job-sign.c). */
void        imzala_signing_job_start_signing   (ImzalaSigningJob *self);

/* The certificate's status before the PIN (imzala-signing-job-status.c). */
void        imzala_signing_job_check_status    (ImzalaSigningJob *self);
void        imzala_signing_job_stop_status     (ImzalaSigningJob *self);
void        imzala_signing_job_check_status_early (ImzalaSigningJob  *self,
                                                   ImzalaCertificate *certificate);
void        imzala_signing_job_stop_early_status  (ImzalaSigningJob *self);

G_END_DECLS
