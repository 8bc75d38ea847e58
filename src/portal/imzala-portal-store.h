/* imzala-portal-store.h: the portal's SQLite database.
 *
 * One file, <state>/portal.sqlite3. Times are Unix seconds (UTC). Every
 * state change of a request is a single conditional UPDATE, so that a code
 * is used at most once even when two submissions race.
 */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

typedef struct
{
  char   *tckn;
  char   *name;
  char   *security_word_hash;
  char   *institution;
  char   *sicil_no;
  char   *card_serial;
  char   *card_puk;          /* demo only: a real CA keeps PUKs in an HSM */
  gint64  certificate_not_after;
  char   *eonay;             /* NULL, "accepted" or "rejected" */
  gint64  eonay_at;
  char   *phone;             /* "05XXXXXXXXX": the unblock code goes there */
} ImzalaPortalPerson;

void imzala_portal_person_free (ImzalaPortalPerson *person);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ImzalaPortalPerson, imzala_portal_person_free)

typedef enum
{
  IMZALA_PORTAL_STATE_PENDING,
  IMZALA_PORTAL_STATE_RELEASED,
  IMZALA_PORTAL_STATE_DONE,
  IMZALA_PORTAL_STATE_FAILED,
  IMZALA_PORTAL_STATE_EXPIRED,
} ImzalaPortalState;

const char *imzala_portal_state_to_string (ImzalaPortalState state);

typedef struct
{
  gint64             id;
  char              *public_id;
  char              *code;
  char              *purpose;
  char              *person;
  char              *session;       /* SHA-256 of the session cookie */
  gint64             application;   /* 0 when none */
  char              *choice;        /* consent: "accept" / "reject" */
  GBytes            *nonce;
  gint64             created_at;
  gint64             expires_at;
  ImzalaPortalState  state;
  guint              rejected;
  gint64             completed_at;
  gint64             released_at;
  char              *result_message;
  GPtrArray         *titles;        /* char* */
  GPtrArray         *texts;         /* GBytes */
} ImzalaPortalRequest;

void imzala_portal_request_free (ImzalaPortalRequest *request);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ImzalaPortalRequest, imzala_portal_request_free)

typedef struct
{
  GBytes *cms;
  char   *signer_fingerprint;
  char   *signer_subject;
  gint64  signing_time;
} ImzalaPortalSignature;

typedef struct
{
  char *id_hash;
  char *person;      /* signed in as (E-imzalı Giriş), or NULL */
  char *applicant;   /* identified for an application by T.C. kimlik no + sicil no */
  gint64 created_at; /* Unix time; the server refuses sessions older than its lifetime */
} ImzalaPortalSession;

void imzala_portal_session_free (ImzalaPortalSession *session);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ImzalaPortalSession, imzala_portal_session_free)

typedef struct
{
  gint64  id;
  char   *public_id;
  char   *person;
  char   *kind;          /* "yeni" or "yenileme" */
  char   *fields_json;
  char   *form_text;
  char   *method;        /* NULL, "eonay" or "esign" */
  char   *state;         /* "draft", "submitted", "waiting" */
  gint64  production_date;
  gint64  submitted_at;
} ImzalaPortalApplication;

void imzala_portal_application_free (ImzalaPortalApplication *application);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ImzalaPortalApplication, imzala_portal_application_free)

#define IMZALA_TYPE_PORTAL_STORE (imzala_portal_store_get_type ())
G_DECLARE_FINAL_TYPE (ImzalaPortalStore, imzala_portal_store, IMZALA, PORTAL_STORE, GObject)

ImzalaPortalStore *imzala_portal_store_open (const char *path, GError **error);

/* ---- Persons ---- */
gboolean            imzala_portal_store_put_person    (ImzalaPortalStore        *self,
                                                       const ImzalaPortalPerson *person,
                                                       GError                  **error);
ImzalaPortalPerson *imzala_portal_store_get_person    (ImzalaPortalStore *self,
                                                       const char        *tckn);
gboolean            imzala_portal_store_set_eonay     (ImzalaPortalStore *self,
                                                       const char        *tckn,
                                                       const char        *eonay,
                                                       gint64             when,
                                                       GError           **error);

/* ---- Sessions ---- */
gboolean             imzala_portal_store_add_session  (ImzalaPortalStore *self,
                                                       const char        *id_hash,
                                                       gint64             now,
                                                       GError           **error);
ImzalaPortalSession *imzala_portal_store_get_session  (ImzalaPortalStore *self,
                                                       const char        *id_hash);
/* Signs @person in on a new session @new_hash (made at @now) in place of
 * @old_hash, which is deleted; @old_hash's requests move to the new
 * session, except done logins, so that none signs anyone in twice. */
gboolean             imzala_portal_store_replace_session (ImzalaPortalStore *self,
                                                          const char        *old_hash,
                                                          const char        *new_hash,
                                                          const char        *person,
                                                          gint64             now,
                                                          GError           **error);
/* Deletes the sessions made before @before (Unix time). */
gboolean             imzala_portal_store_expire_sessions (ImzalaPortalStore *self,
                                                          gint64             before,
                                                          GError           **error);
/* Marks the session as identified for an application (T.C. kimlik no +
 * sicil no) as @tckn. */
gboolean             imzala_portal_store_set_session_applicant (ImzalaPortalStore *self,
                                                                const char        *id_hash,
                                                                const char        *tckn,
                                                                GError           **error);
/* Forgets who the session was signed in or identified as (Çıkış). */
gboolean             imzala_portal_store_sign_out_session      (ImzalaPortalStore *self,
                                                                const char        *id_hash,
                                                                GError           **error);

/* ---- Requests ---- */
/* Inserts @request (its id is set); FALSE with G_IO_ERROR_EXISTS when the
 * code or public id collides, so the caller draws again. */
gboolean             imzala_portal_store_add_request      (ImzalaPortalStore   *self,
                                                           ImzalaPortalRequest *request,
                                                           GError             **error);
/* The request behind a canonical doğrulama kodu (the client API). */
ImzalaPortalRequest *imzala_portal_store_get_request_by_code      (ImzalaPortalStore *self,
                                                                   const char        *code);
/* The request behind the id its browser page knows (the browser API). */
ImzalaPortalRequest *imzala_portal_store_get_request_by_public_id (ImzalaPortalStore *self,
                                                                   const char        *public_id);
/* pending → expired, for every pending request whose time is up. */
void                 imzala_portal_store_expire_requests  (ImzalaPortalStore *self,
                                                           gint64             now);
/* Counts one rejected submission; at @max the request becomes failed.
 * The request's result message becomes @message, or @closed_message when
 * this submission closed it (what the browser page shows). Returns the new
 * state. */
ImzalaPortalState    imzala_portal_store_reject           (ImzalaPortalStore *self,
                                                           gint64             id,
                                                           guint              max,
                                                           const char        *message,
                                                           const char        *closed_message);
/* pending → done with the signatures, in one transaction, which also
 * records what the request was for (a consent's choice, an application's
 * submission) and the audit log's "signed" event from @address (so that
 * the state change and its audit row are one commit). FALSE with
 * G_IO_ERROR_BUSY when the request was no longer pending and unexpired. */
gboolean             imzala_portal_store_complete         (ImzalaPortalStore         *self,
                                                           const ImzalaPortalRequest *request,
                                                           gint64                     now,
                                                           GPtrArray                 *signatures,
                                                           const char                *message,
                                                           const char                *address,
                                                           GError                   **error);
/* pending → released (unblock). FALSE when it was not pending. */
gboolean             imzala_portal_store_release          (ImzalaPortalStore *self,
                                                           gint64             id,
                                                           gint64             now);
/* released → done/failed. FALSE when it was not released. */
gboolean             imzala_portal_store_finish_unblock   (ImzalaPortalStore *self,
                                                           gint64             id,
                                                           gboolean           success,
                                                           gint64             now,
                                                           const char        *message);

/* ---- Applications ---- */
gboolean                 imzala_portal_store_add_application (ImzalaPortalStore       *self,
                                                              ImzalaPortalApplication *application,
                                                              gint64                   now,
                                                              GError                 **error);
ImzalaPortalApplication *imzala_portal_store_get_application (ImzalaPortalStore *self,
                                                              const char        *public_id);
ImzalaPortalApplication *imzala_portal_store_get_application_by_id (ImzalaPortalStore *self,
                                                                    gint64             id);
gboolean                 imzala_portal_store_submit_application (ImzalaPortalStore *self,
                                                                 gint64             id,
                                                                 const char        *method,
                                                                 gint64             now,
                                                                 GError           **error);

/* ---- Failures ---- */
/* Milliseconds a statement waits for a lock before it fails. */
#define IMZALA_PORTAL_STORE_BUSY_MS      200
/* Audit events kept in memory while the database cannot take them. */
#define IMZALA_PORTAL_AUDIT_PENDING_MAX  10000

/* How many statements have failed for want of the database (busy, locked,
 * full, I/O) since the process started; audit writes are not counted (they
 * are kept and written later). The server compares it around a request. */
guint64 imzala_portal_store_get_failures     (ImzalaPortalStore *self);
/* Audit writes that failed, events waiting to be written, events lost
 * (more than IMZALA_PORTAL_AUDIT_PENDING_MAX waited). A loss is written as
 * an "audit-dropped" event as soon as the database is back. */
void    imzala_portal_store_get_audit_counts (ImzalaPortalStore *self,
                                              guint64           *failures,
                                              guint             *pending,
                                              guint64           *dropped);
/* Writes the events kept while the database was unavailable. */
void    imzala_portal_store_flush_audit      (ImzalaPortalStore *self);

/* ---- Audit ---- */
/* "request-fetched" events are one row per request and address, with a
 * count and the time of the last one (reads of a pending code repeat). */
void imzala_portal_store_log (ImzalaPortalStore *self,
                              const char        *kind,
                              const char        *person,
                              gint64             request,
                              const char        *address,
                              const char        *detail);

/* ---- The demo PKI (docs/protocol.md §11.1) ---- */
typedef enum
{
  IMZALA_PORTAL_CERT_UNKNOWN, /* not issued by this portal's CA */
  IMZALA_PORTAL_CERT_GOOD,
  IMZALA_PORTAL_CERT_REVOKED,
} ImzalaPortalCertStatus;

typedef struct
{
  char   *serial;      /* upper-case hex, as imzala_portal_pki_serial_hex() */
  gint64  revoked_at;
  int     reason;      /* CRL reason code (RFC 5280 §5.3.1), -1 when none */
} ImzalaPortalRevoked;

void imzala_portal_revoked_free (ImzalaPortalRevoked *revoked);

/* Records a certificate the issuing CA issued (@tckn NULL for a service's). */
gboolean               imzala_portal_store_add_certificate        (ImzalaPortalStore *self,
                                                                   const char        *serial,
                                                                   const char        *tckn,
                                                                   gint64             issued_at,
                                                                   gint64             not_after,
                                                                   GBytes            *der,
                                                                   GError           **error);
/* @revoked_at and @reason (nullable) are set only for REVOKED. */
ImzalaPortalCertStatus imzala_portal_store_get_certificate_status (ImzalaPortalStore *self,
                                                                   const char        *serial,
                                                                   gint64            *revoked_at,
                                                                   int               *reason);
/* Whether the certificate issued under @serial is byte for byte @der. */
gboolean               imzala_portal_store_certificate_is         (ImzalaPortalStore *self,
                                                                   const char        *serial,
                                                                   const guint8      *der,
                                                                   gsize              size);
/* Revokes every unrevoked certificate of @tckn at @now; returns their
 * serials (empty when there was none). */
GPtrArray             *imzala_portal_store_revoke_person          (ImzalaPortalStore *self,
                                                                   const char        *tckn,
                                                                   int                reason,
                                                                   gint64             now,
                                                                   GError           **error);
/* Every revoked certificate (ImzalaPortalRevoked), for the CRL. */
GPtrArray             *imzala_portal_store_list_revoked           (ImzalaPortalStore *self);
/* The signature level ("BES", "T", "XL") a request asked for, and its TSA
 * URL; a request without a row asked for "BES". */
gboolean               imzala_portal_store_set_request_level      (ImzalaPortalStore *self,
                                                                   gint64             request,
                                                                   const char        *level,
                                                                   const char        *tsa_url,
                                                                   GError           **error);
char                  *imzala_portal_store_get_request_level      (ImzalaPortalStore *self,
                                                                   gint64             request,
                                                                   char             **tsa_url);

G_END_DECLS
