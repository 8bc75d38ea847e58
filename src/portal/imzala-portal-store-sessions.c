/* imzala-portal-store-sessions.c: the browser sessions' rows (split from
 * imzala-portal-store.c; see imzala-portal-store-private.h). */
#define G_LOG_DOMAIN "imzala-portal"

#include "config.h"

#include <gio/gio.h>
#include <sqlite3.h>

#include "imzala-error.h"
#include "imzala-portal-store.h"
#include "imzala-portal-store-private.h"

/* ---- Sessions ---- */

gboolean
imzala_portal_store_add_session (ImzalaPortalStore *self,
                                 const char        *id_hash,
                                 gint64             now,
                                 GError           **error)
{
  sqlite3_stmt *stmt = store_prepare (self, "INSERT INTO sessions (id_hash, created_at) VALUES (?1, ?2)");

  store_bind_text (stmt, 1, id_hash);
  sqlite3_bind_int64 (stmt, 2, now);
  if (!store_step_done (self, stmt))
    return store_set_db_error (self, error);
  return TRUE;
}

ImzalaPortalSession *
imzala_portal_store_get_session (ImzalaPortalStore *self, const char *id_hash)
{
  sqlite3_stmt *stmt = store_prepare (self, "SELECT id_hash, person, applicant, created_at FROM sessions"
                                      " WHERE id_hash = ?1");
  ImzalaPortalSession *session = NULL;

  store_bind_text (stmt, 1, id_hash);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    {
      session = g_new0 (ImzalaPortalSession, 1);
      session->id_hash = store_column_text (stmt, 0);
      session->person = store_column_text (stmt, 1);
      session->applicant = store_column_text (stmt, 2);
      session->created_at = sqlite3_column_int64 (stmt, 3);
    }
  store_finish (self, stmt);
  return session;
}

gboolean
imzala_portal_store_replace_session (ImzalaPortalStore *self,
                                     const char        *old_hash,
                                     const char        *new_hash,
                                     const char        *person,
                                     gint64             now,
                                     GError           **error)
{
  static const char * const statements[] = {
    "INSERT INTO sessions (id_hash, person, created_at) VALUES (?2, ?3, ?4)",
    "UPDATE requests SET session = ?2 WHERE session = ?1"
    " AND NOT (purpose = 'login' AND state = 'done')",
    "DELETE FROM sessions WHERE id_hash = ?1",
  };

  if (!store_exec (self, "BEGIN IMMEDIATE", error))
    return FALSE;
  for (guint i = 0; i < G_N_ELEMENTS (statements); i++)
    {
      sqlite3_stmt *stmt = store_prepare (self, statements[i]);

      store_bind_text (stmt, 1, old_hash);
      store_bind_text (stmt, 2, new_hash);
      store_bind_text (stmt, 3, person);
      sqlite3_bind_int64 (stmt, 4, now);
      if (!store_step_done (self, stmt))
        {
          store_set_db_error (self, error);
          store_exec (self, "ROLLBACK", NULL);
          return FALSE;
        }
    }
  return store_exec (self, "COMMIT", error);
}

gboolean
imzala_portal_store_expire_sessions (ImzalaPortalStore *self,
                                     gint64             before,
                                     GError           **error)
{
  sqlite3_stmt *stmt = store_prepare (self, "DELETE FROM sessions WHERE created_at < ?1");

  sqlite3_bind_int64 (stmt, 1, before);
  if (!store_step_done (self, stmt))
    return store_set_db_error (self, error);
  return TRUE;
}

gboolean
imzala_portal_store_set_session_applicant (ImzalaPortalStore *self,
                                           const char        *id_hash,
                                           const char        *tckn,
                                           GError           **error)
{
  sqlite3_stmt *stmt = store_prepare (self, "UPDATE sessions SET applicant = ?2 WHERE id_hash = ?1");

  store_bind_text (stmt, 1, id_hash);
  store_bind_text (stmt, 2, tckn);
  if (!store_step_done (self, stmt))
    return store_set_db_error (self, error);
  return TRUE;
}

gboolean
imzala_portal_store_sign_out_session (ImzalaPortalStore *self,
                                      const char        *id_hash,
                                      GError           **error)
{
  sqlite3_stmt *stmt = store_prepare (self, "UPDATE sessions SET person = NULL, applicant = NULL WHERE id_hash = ?1");

  store_bind_text (stmt, 1, id_hash);
  if (!store_step_done (self, stmt))
    return store_set_db_error (self, error);
  return TRUE;
}
