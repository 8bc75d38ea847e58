/* imzala-portal-store-private.h: what the store's files share.
 *
 * imzala-portal-store.c opens the database and keeps people, requests and
 * applications; imzala-portal-store-sessions.c the browser sessions;
 * imzala-portal-store-audit.c the audit log;
 * imzala-portal-store-pki.c the demo PKI's certificates, revocations and
 * signature levels. Nothing here is API.
 */
#pragma once

#include <sqlite3.h>

#include "imzala-portal-store.h"

G_BEGIN_DECLS

/* An audit event that could not be written yet (the database locked or
 * the disk full); kept in memory and written before the next one. */
typedef struct
{
  char   *kind;
  char   *person;
  gint64  request;
  char   *address;
  char   *detail;
  gint64  at;
} PendingEvent;

struct _ImzalaPortalStore
{
  GObject  parent_instance;
  sqlite3 *db;
  GQueue   pending;          /* PendingEvent* */
  guint64  audit_failures;   /* writes that failed (then kept in pending) */
  guint64  audit_dropped;    /* events lost because pending was full */
  guint64  audit_dropped_reported;
  /* Prepared statements kept for the next query with the same SQL text
   * (store_prepare(), store_finish()). */
  GHashTable *statements;    /* SQL text → sqlite3_stmt* */
  GHashTable *in_use;        /* sqlite3_stmt* set: handed out, not finished */
  gboolean    check_plans;   /* IMZALA_PORTAL_CHECK_PLANS (store_check_plan()) */
  /* The certificates' status is read on worker threads too
   * (imzala_portal_store_get_certificate_status()): a read-only connection
   * of its own, opened on first use, under its own lock. */
  GMutex        status_lock;
  sqlite3      *status_db;
  sqlite3_stmt *status_stmt;
};

gboolean
store_step_done (ImzalaPortalStore *self, sqlite3_stmt *stmt);

/* Runs @sql (no result rows) on the main connection. */
gboolean
store_exec (ImzalaPortalStore *self, const char *sql, GError **error);

void
store_finish (ImzalaPortalStore *self, sqlite3_stmt *stmt);

void
store_pending_event_free (PendingEvent *event);

/* Writes one audit event now, inside the caller's transaction; FALSE when
 * the statement failed. Only when no event waits in @pending (their
 * order is kept). */
gboolean
store_write_event (ImzalaPortalStore *self, const PendingEvent *event);

sqlite3_stmt *
store_prepare (ImzalaPortalStore *self, const char *sql);

gint64
store_now (void);

void
store_bind_bytes (sqlite3_stmt *stmt, int index, GBytes *bytes);

void
store_set_durable (ImzalaPortalStore *self, gboolean durable);

char *
store_column_text (sqlite3_stmt *stmt, int index);

void
store_bind_text (sqlite3_stmt *stmt, int index, const char *text);

gboolean
store_set_db_error (ImzalaPortalStore *self, GError **error);

void
store_audit (ImzalaPortalStore *self, PendingEvent *event);

/* Statements that failed for want of the database (imzala-portal-store.c). */
extern guint64 store_failures;

G_END_DECLS
