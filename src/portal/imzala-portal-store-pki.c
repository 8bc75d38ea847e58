/* imzala-portal-store-pki.c: the demo PKI's issued certificates,
 * revocations and signature levels (split from imzala-portal-store.c; see
 * imzala-portal-store-private.h). */
#define G_LOG_DOMAIN "imzala-portal"

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <sqlite3.h>

#include "imzala-error.h"
#include "imzala-portal-store.h"
#include "imzala-portal-store-private.h"

/* ---- The demo PKI: certificates, revocation, signature levels ---- */

void
imzala_portal_revoked_free (ImzalaPortalRevoked *revoked)
{
  if (revoked == NULL)
    return;
  g_free (revoked->serial);
  g_free (revoked);
}

gboolean
imzala_portal_store_add_certificate (ImzalaPortalStore *self,
                                     const char        *serial,
                                     const char        *tckn,
                                     gint64             issued_at,
                                     gint64             not_after,
                                     GBytes            *der,
                                     GError           **error)
{
  sqlite3_stmt *stmt = store_prepare (self,
                                "INSERT INTO certificates (serial, tckn, issued_at, not_after, der)"
                                " VALUES (?1, ?2, ?3, ?4, ?5)");

  store_bind_text (stmt, 1, serial);
  store_bind_text (stmt, 2, tckn);
  sqlite3_bind_int64 (stmt, 3, issued_at);
  sqlite3_bind_int64 (stmt, 4, not_after);
  store_bind_bytes (stmt, 5, der);
  if (!store_step_done (self, stmt))
    return store_set_db_error (self, error);
  return TRUE;
}

/* The status statement on the status connection, opened on first use;
 * NULL when it cannot be opened. Called with status_lock held. */
static sqlite3_stmt *
status_statement (ImzalaPortalStore *self)
{
  const char *path;

  if (self->status_stmt != NULL)
    return self->status_stmt;
  /* WAL: this reader sees every committed change of the main connection
   * (a revocation is committed durably before `revoke` answers) and never
   * waits for its writers. */
  path = sqlite3_db_filename (self->db, "main");
  if (self->status_db == NULL
      && sqlite3_open_v2 (path, &self->status_db, SQLITE_OPEN_READONLY | SQLITE_OPEN_FULLMUTEX,
                          NULL) != SQLITE_OK)
    {
      g_warning ("Could not open %s for status lookups: %s", path,
                 self->status_db != NULL ? sqlite3_errmsg (self->status_db) : "out of memory");
      g_clear_pointer (&self->status_db, sqlite3_close_v2);
      return NULL;
    }
  sqlite3_busy_timeout (self->status_db, 1000);
  if (sqlite3_prepare_v3 (self->status_db, "SELECT revoked_at, reason, der FROM certificates WHERE serial = ?1",
                          -1, SQLITE_PREPARE_PERSISTENT, &self->status_stmt, NULL) != SQLITE_OK)
    {
      g_warning ("Could not prepare the status lookup: %s", sqlite3_errmsg (self->status_db));
      self->status_stmt = NULL;
    }
  return self->status_stmt;
}

/* Thread-safe: the trust's status function calls it on the worker thread
 * that checks a submission (imzala-portal-evidence.c), the OCSP responder
 * and `revoke` on the main thread. A certificate whose status cannot be
 * read is UNKNOWN, which the portal refuses (fail closed). */
ImzalaPortalCertStatus
imzala_portal_store_get_certificate_status (ImzalaPortalStore *self,
                                            const char        *serial,
                                            gint64            *revoked_at,
                                            int               *reason)
{
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&self->status_lock);
  sqlite3_stmt *stmt = status_statement (self);
  ImzalaPortalCertStatus status = IMZALA_PORTAL_CERT_UNKNOWN;

  if (stmt == NULL)
    return status;
  store_bind_text (stmt, 1, serial);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    {
      if (sqlite3_column_type (stmt, 0) == SQLITE_NULL)
        status = IMZALA_PORTAL_CERT_GOOD;
      else
        {
          status = IMZALA_PORTAL_CERT_REVOKED;
          if (revoked_at != NULL)
            *revoked_at = sqlite3_column_int64 (stmt, 0);
          if (reason != NULL)
            *reason = sqlite3_column_type (stmt, 1) == SQLITE_NULL ? -1 : sqlite3_column_int (stmt, 1);
        }
    }
  sqlite3_reset (stmt);
  sqlite3_clear_bindings (stmt);
  return status;
}

/* Thread-safe, as the status above: whether the certificate issued under
 * @serial is exactly @der. */
gboolean
imzala_portal_store_certificate_is (ImzalaPortalStore *self,
                                    const char        *serial,
                                    const guint8      *der,
                                    gsize              size)
{
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&self->status_lock);
  sqlite3_stmt *stmt = status_statement (self);
  gboolean same = FALSE;

  if (stmt == NULL)
    return FALSE;
  store_bind_text (stmt, 1, serial);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    same = sqlite3_column_type (stmt, 2) == SQLITE_BLOB
           && (gsize) sqlite3_column_bytes (stmt, 2) == size
           && memcmp (sqlite3_column_blob (stmt, 2), der, size) == 0;
  sqlite3_reset (stmt);
  sqlite3_clear_bindings (stmt);
  return same;
}

GPtrArray *
imzala_portal_store_revoke_person (ImzalaPortalStore *self,
                                   const char        *tckn,
                                   int                reason,
                                   gint64             now,
                                   GError           **error)
{
  g_autoptr(GPtrArray) serials = g_ptr_array_new_with_free_func (g_free);
  sqlite3_stmt *stmt;
  int rc;

  /* One statement: the serials it returns are exactly the rows it changed. */
  store_set_durable (self, TRUE);
  stmt = store_prepare (self,
                  "UPDATE certificates SET revoked_at = ?1, reason = ?2"
                  " WHERE tckn = ?3 AND revoked_at IS NULL RETURNING serial");
  sqlite3_bind_int64 (stmt, 1, now);
  sqlite3_bind_int (stmt, 2, reason);
  store_bind_text (stmt, 3, tckn);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    g_ptr_array_add (serials, store_column_text (stmt, 0));
  store_finish (self, stmt);
  store_set_durable (self, FALSE);
  if (rc != SQLITE_DONE)
    {
      store_set_db_error (self, error);
      return NULL;
    }
  return g_steal_pointer (&serials);
}

GPtrArray *
imzala_portal_store_list_revoked (ImzalaPortalStore *self)
{
  GPtrArray *list = g_ptr_array_new_with_free_func ((GDestroyNotify) imzala_portal_revoked_free);
  sqlite3_stmt *stmt = store_prepare (self,
                                "SELECT serial, revoked_at, reason FROM certificates"
                                " WHERE revoked_at IS NOT NULL ORDER BY revoked_at, serial");

  while (sqlite3_step (stmt) == SQLITE_ROW)
    {
      ImzalaPortalRevoked *revoked = g_new0 (ImzalaPortalRevoked, 1);

      revoked->serial = store_column_text (stmt, 0);
      revoked->revoked_at = sqlite3_column_int64 (stmt, 1);
      revoked->reason = sqlite3_column_type (stmt, 2) == SQLITE_NULL ? -1 : sqlite3_column_int (stmt, 2);
      g_ptr_array_add (list, revoked);
    }
  store_finish (self, stmt);
  return list;
}

gboolean
imzala_portal_store_set_request_level (ImzalaPortalStore *self,
                                       gint64             request,
                                       const char        *level,
                                       const char        *tsa_url,
                                       GError           **error)
{
  sqlite3_stmt *stmt = store_prepare (self,
                                "INSERT OR REPLACE INTO request_levels (request, level, tsa_url)"
                                " VALUES (?1, ?2, ?3)");

  sqlite3_bind_int64 (stmt, 1, request);
  store_bind_text (stmt, 2, level);
  store_bind_text (stmt, 3, tsa_url);
  if (!store_step_done (self, stmt))
    return store_set_db_error (self, error);
  return TRUE;
}

char *
imzala_portal_store_get_request_level (ImzalaPortalStore *self,
                                       gint64             request,
                                       char             **tsa_url)
{
  sqlite3_stmt *stmt = store_prepare (self,
                                "SELECT level, tsa_url FROM request_levels WHERE request = ?1");
  char *level = NULL;

  sqlite3_bind_int64 (stmt, 1, request);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    {
      level = store_column_text (stmt, 0);
      if (tsa_url != NULL)
        *tsa_url = store_column_text (stmt, 1);
    }
  store_finish (self, stmt);
  return level != NULL ? level : g_strdup ("BES");
}
