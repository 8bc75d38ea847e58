/* imzala-portal-store-audit.c: the audit log, with repeated reads
 * aggregated and events kept while the database is away (split from
 * imzala-portal-store.c; see imzala-portal-store-private.h). */
#define G_LOG_DOMAIN "imzala-portal"

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <sqlite3.h>

#include "imzala-error.h"
#include "imzala-portal-store.h"
#include "imzala-portal-store-private.h"

/* ---- Audit ---- */

guint64
imzala_portal_store_get_failures (ImzalaPortalStore *self)
{
  return store_failures;
}

void
imzala_portal_store_get_audit_counts (ImzalaPortalStore *self,
                                      guint64           *failures,
                                      guint             *pending,
                                      guint64           *dropped)
{
  g_return_if_fail (IMZALA_IS_PORTAL_STORE (self));
  if (failures != NULL)
    *failures = self->audit_failures;
  if (pending != NULL)
    *pending = self->pending.length;
  if (dropped != NULL)
    *dropped = self->audit_dropped;
}

/* One event; @repeat: add to the count of the same event (kind, request,
 * address) when there is one instead of a row of its own. */
static gboolean
write_event (ImzalaPortalStore  *self,
             const PendingEvent *event,
             gboolean            repeat)
{
  sqlite3_stmt *stmt;
  int rc;

  if (repeat)
    {
      stmt = store_prepare (self, "UPDATE events SET count = count + 1, last_at = ?4"
                            " WHERE kind = ?1 AND request IS ?2 AND address IS ?3");
      store_bind_text (stmt, 1, event->kind);
      if (event->request != 0)
        sqlite3_bind_int64 (stmt, 2, event->request);
      else
        sqlite3_bind_null (stmt, 2);
      store_bind_text (stmt, 3, event->address);
      sqlite3_bind_int64 (stmt, 4, event->at);
      rc = sqlite3_step (stmt);
      store_finish (self, stmt);
      if (rc != SQLITE_DONE)
        return FALSE;
      if (sqlite3_changes (self->db) > 0)
        return TRUE;
    }
  stmt = store_prepare (self, "INSERT INTO events (at, kind, person, request, address, detail, last_at)"
                        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?1)");
  sqlite3_bind_int64 (stmt, 1, event->at);
  store_bind_text (stmt, 2, event->kind);
  store_bind_text (stmt, 3, event->person);
  if (event->request != 0)
    sqlite3_bind_int64 (stmt, 4, event->request);
  else
    sqlite3_bind_null (stmt, 4);
  store_bind_text (stmt, 5, event->address);
  store_bind_text (stmt, 6, event->detail);
  rc = sqlite3_step (stmt);
  store_finish (self, stmt);
  return rc == SQLITE_DONE;
}

gboolean
store_write_event (ImzalaPortalStore *self, const PendingEvent *event)
{
  g_return_val_if_fail (self->pending.length == 0, FALSE);
  return write_event (self, event, FALSE);
}

static gboolean
is_repeated_kind (const char *kind)
{
  /* Reads of a pending code: anyone holding the code can repeat them
   * without end, so they are one row per request and address. */
  return g_str_equal (kind, "request-fetched");
}

void
store_audit (ImzalaPortalStore *self, PendingEvent *event)
{
  /* An audit write that fails is not the request's failure: it is kept
   * here, so the counter that makes the server answer 503 must not see it. */
  guint64 failures = store_failures;

  /* What could not be written before goes first, in order. */
  while (self->pending.length > 0)
    {
      PendingEvent *old = g_queue_peek_head (&self->pending);

      if (!write_event (self, old, is_repeated_kind (old->kind)))
        break;
      store_pending_event_free (g_queue_pop_head (&self->pending));
    }
  if (self->pending.length == 0 && self->audit_dropped > self->audit_dropped_reported)
    {
      g_autofree char *detail = g_strdup_printf ("%" G_GUINT64_FORMAT,
                                                 self->audit_dropped - self->audit_dropped_reported);
      PendingEvent lost = { "audit-dropped", NULL, 0, NULL, detail, store_now () };

      if (write_event (self, &lost, FALSE))
        self->audit_dropped_reported = self->audit_dropped;
    }
  if (event == NULL)
    goto out;
  if (self->pending.length == 0 && write_event (self, event, is_repeated_kind (event->kind)))
    {
      store_pending_event_free (event);
      goto out;
    }

  self->audit_failures++;
  if (self->pending.length < IMZALA_PORTAL_AUDIT_PENDING_MAX)
    {
      g_warning ("Could not write the audit log (%s); %u event(s) kept until the database is back",
                 sqlite3_errmsg (self->db), self->pending.length + 1);
      g_queue_push_tail (&self->pending, event);
    }
  else
    {
      self->audit_dropped++;
      g_warning ("Could not write the audit log (%s); %" G_GUINT64_FORMAT " event(s) lost so far",
                 sqlite3_errmsg (self->db), self->audit_dropped);
      store_pending_event_free (event);
    }
out:
  store_failures = failures;
}

void
imzala_portal_store_log (ImzalaPortalStore *self,
                         const char        *kind,
                         const char        *person,
                         gint64             request,
                         const char        *address,
                         const char        *detail)
{
  PendingEvent *event = g_new0 (PendingEvent, 1);

  event->kind = g_strdup (kind);
  event->person = g_strdup (person);
  event->request = request;
  event->address = g_strdup (address);
  event->detail = g_strdup (detail);
  event->at = store_now ();
  store_audit (self, event);
}

void
imzala_portal_store_flush_audit (ImzalaPortalStore *self)
{
  g_return_if_fail (IMZALA_IS_PORTAL_STORE (self));
  store_audit (self, NULL);
}

