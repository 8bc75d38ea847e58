#define G_LOG_DOMAIN "imzala-portal"

#include "config.h"

#include <errno.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <sqlite3.h>

#include "imzala-error.h"
#include "imzala-portal-store.h"
#include "imzala-portal-store-private.h"



/* Statements that failed for want of the database (busy, locked, full,
 * I/O, read-only), counted by SQLite's error log: the server answers 503
 * for a request during which this grew (imzala_portal_store_get_failures()). */
guint64 store_failures;

/* Whether @code (a result code, extended or not) means that the database
 * was not there for us (locked, full, unreadable), not that a statement is
 * wrong. */
static gboolean
is_unavailable (int code)
{
  switch (code & 0xff)
    {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_FULL:
    case SQLITE_IOERR:
    case SQLITE_READONLY:
    case SQLITE_CANTOPEN:
      return TRUE;
    default:
      return FALSE;
    }
}

static void
sqlite_log_cb (void *data, int code, const char *message)
{
  if (is_unavailable (code))
    {
      store_failures++;
      g_debug ("SQLite: %s (%d)", message, code);
    }
}

gint64
store_now (void)
{
  return g_get_real_time () / G_USEC_PER_SEC;
}

/* sqlite3_busy_timeout() with a count: a statement that still finds the
 * database locked after IMZALA_PORTAL_STORE_BUSY_MS fails, and SQLite does
 * not pass every SQLITE_BUSY to its error log. */
static int
busy_cb (void *data, int tries)
{
  if (tries * 10 < IMZALA_PORTAL_STORE_BUSY_MS)
    {
      g_usleep (10 * 1000);
      return 1;
    }
  store_failures++;
  return 0;
}

void
store_pending_event_free (PendingEvent *event)
{
  g_free (event->kind);
  g_free (event->person);
  g_free (event->address);
  g_free (event->detail);
  g_free (event);
}

G_DEFINE_FINAL_TYPE (ImzalaPortalStore, imzala_portal_store, G_TYPE_OBJECT)

static const char schema[] =
  "PRAGMA foreign_keys = ON;"
  "CREATE TABLE IF NOT EXISTS persons ("
  "  tckn TEXT PRIMARY KEY,"
  "  name TEXT NOT NULL,"
  "  security_word_hash TEXT NOT NULL,"
  "  institution TEXT NOT NULL,"
  "  sicil_no TEXT NOT NULL,"
  "  card_serial TEXT,"
  "  card_puk TEXT,"
  "  certificate_not_after INTEGER,"
  "  eonay TEXT CHECK (eonay IN ('accepted', 'rejected')),"
  "  eonay_at INTEGER,"
  "  created_at INTEGER NOT NULL DEFAULT (unixepoch ()));"
  "CREATE TABLE IF NOT EXISTS sessions ("
  "  id_hash TEXT PRIMARY KEY,"
  "  person TEXT REFERENCES persons (tckn),"
  "  applicant TEXT REFERENCES persons (tckn),"
  "  created_at INTEGER NOT NULL);"
  "CREATE TABLE IF NOT EXISTS applications ("
  "  id INTEGER PRIMARY KEY,"
  "  public_id TEXT NOT NULL UNIQUE,"
  "  person TEXT NOT NULL REFERENCES persons (tckn),"
  "  kind TEXT NOT NULL CHECK (kind IN ('yeni', 'yenileme')),"
  "  fields TEXT NOT NULL,"
  "  form_text TEXT NOT NULL,"
  "  method TEXT CHECK (method IN ('eonay', 'esign')),"
  "  state TEXT NOT NULL DEFAULT 'draft' CHECK (state IN ('draft', 'submitted', 'waiting')),"
  "  production_date INTEGER NOT NULL,"
  "  created_at INTEGER NOT NULL,"
  "  submitted_at INTEGER);"
  "CREATE TABLE IF NOT EXISTS requests ("
  "  id INTEGER PRIMARY KEY,"
  "  public_id TEXT NOT NULL UNIQUE,"
  "  code TEXT NOT NULL UNIQUE,"
  "  purpose TEXT NOT NULL CHECK (purpose IN ('login', 'consent', 'application', 'unblock')),"
  "  person TEXT NOT NULL REFERENCES persons (tckn),"
  "  session TEXT,"
  "  application INTEGER REFERENCES applications (id),"
  "  choice TEXT,"
  "  nonce BLOB NOT NULL,"
  "  created_at INTEGER NOT NULL,"
  "  expires_at INTEGER NOT NULL,"
  "  state TEXT NOT NULL DEFAULT 'pending'"
  "    CHECK (state IN ('pending', 'released', 'done', 'failed', 'expired')),"
  "  rejected INTEGER NOT NULL DEFAULT 0,"
  "  completed_at INTEGER,"
  "  released_at INTEGER,"
  "  result_message TEXT);"
  "CREATE TABLE IF NOT EXISTS request_texts ("
  "  request INTEGER NOT NULL REFERENCES requests (id),"
  "  idx INTEGER NOT NULL,"
  "  title TEXT NOT NULL,"
  "  content BLOB NOT NULL,"
  "  PRIMARY KEY (request, idx));"
  "CREATE TABLE IF NOT EXISTS signatures ("
  "  request INTEGER NOT NULL REFERENCES requests (id),"
  "  idx INTEGER NOT NULL,"
  "  cms BLOB NOT NULL,"
  "  signer_fingerprint TEXT NOT NULL,"
  "  signer_subject TEXT NOT NULL,"
  "  signing_time INTEGER NOT NULL,"
  "  PRIMARY KEY (request, idx));"
  "CREATE TABLE IF NOT EXISTS events ("
  "  id INTEGER PRIMARY KEY,"
  "  at INTEGER NOT NULL DEFAULT (unixepoch ()),"
  "  kind TEXT NOT NULL,"
  "  person TEXT,"
  "  request INTEGER,"
  "  address TEXT,"
  "  detail TEXT);";

/* The demo PKI's tables (docs/protocol.md §11.1): every certificate the
 * issuing CA issued to a person, with its revocation, and the signature
 * level each request asked for (§4.1). Kept apart from the schema above so
 * that a state directory of an older portal gains them on its next start. */
static const char pki_schema[] =
  "CREATE TABLE IF NOT EXISTS certificates ("
  "  serial TEXT PRIMARY KEY,"
  "  tckn TEXT,"
  "  issued_at INTEGER NOT NULL,"
  "  not_after INTEGER NOT NULL,"
  "  der BLOB NOT NULL,"
  "  revoked_at INTEGER,"
  "  reason INTEGER);"
  "CREATE INDEX IF NOT EXISTS certificates_tckn ON certificates (tckn);"
  "CREATE TABLE IF NOT EXISTS request_levels ("
  "  request INTEGER PRIMARY KEY REFERENCES requests (id),"
  "  level TEXT NOT NULL CHECK (level IN ('BES', 'T', 'XL')),"
  "  tsa_url TEXT);";

/* The indexes by which the statements that clear, move or list rows find
 * them, instead of reading a table whole on the main thread at every
 * browser sign-in or new session (store_check_plan()): sessions by age
 * (cleared when a session is made), requests by session (moved to the
 * new session at sign-in, against session fixation), pending requests by
 * expiry, and revoked certificates in the CRL's order. The partial ones
 * hold only the rows those statements look for. */
static const char index_schema[] =
  "CREATE INDEX IF NOT EXISTS sessions_created_at ON sessions (created_at);"
  "CREATE INDEX IF NOT EXISTS requests_session ON requests (session) WHERE session IS NOT NULL;"
  "CREATE INDEX IF NOT EXISTS requests_pending_expiry ON requests (expires_at)"
  "  WHERE state = 'pending';"
  "CREATE INDEX IF NOT EXISTS certificates_revoked ON certificates (revoked_at, serial)"
  "  WHERE revoked_at IS NOT NULL;";

static void
imzala_portal_store_finalize (GObject *object)
{
  ImzalaPortalStore *self = IMZALA_PORTAL_STORE (object);

  if (self->pending.length > 0)
    g_warning ("%u audit events could not be written before exit", self->pending.length);
  g_queue_clear_full (&self->pending, (GDestroyNotify) store_pending_event_free);
  g_clear_pointer (&self->in_use, g_hash_table_unref);
  g_clear_pointer (&self->statements, g_hash_table_unref);
  sqlite3_finalize (self->status_stmt);
  sqlite3_close_v2 (self->status_db);
  g_mutex_clear (&self->status_lock);
  sqlite3_close_v2 (self->db);
  G_OBJECT_CLASS (imzala_portal_store_parent_class)->finalize (object);
}

static void
imzala_portal_store_class_init (ImzalaPortalStoreClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = imzala_portal_store_finalize;
}

static void
statement_free (gpointer stmt)
{
  sqlite3_finalize (stmt);
}

static void
imzala_portal_store_init (ImzalaPortalStore *self)
{
  self->statements = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, statement_free);
  self->in_use = g_hash_table_new (NULL, NULL);
  g_mutex_init (&self->status_lock);
}

gboolean
store_set_db_error (ImzalaPortalStore *self, GError **error)
{
  /* SQLite does not pass every such failure to its log (a full disk met
   * while the write-ahead log grows at COMMIT is only a return code), so
   * the failure is counted here too: the request is then answered 503. */
  if (is_unavailable (sqlite3_extended_errcode (self->db)))
    store_failures++;
  g_set_error (error, IMZALA_ERROR, IMZALA_ERROR_FAILED,
               "Database error: %s", sqlite3_errmsg (self->db));
  return FALSE;
}

/* With IMZALA_PORTAL_CHECK_PLANS set (the portal's tests set it), each SQL
 * text's query plan is read when it is first compiled, and one that reads
 * one of the store's tables whole (a SCAN of a table in sqlite_schema: they
 * all grow with use) is a critical: the statement needs an index. Table-
 * valued functions (pragma_table_info) are not tables. */
static void
store_check_plan (ImzalaPortalStore *self, const char *sql)
{
  g_autofree char *explain = g_strconcat ("EXPLAIN QUERY PLAN ", sql, NULL);
  sqlite3_stmt *plan = NULL;
  sqlite3_stmt *table = NULL;

  if (sqlite3_prepare_v2 (self->db, explain, -1, &plan, NULL) != SQLITE_OK
      || sqlite3_prepare_v2 (self->db, "SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?1",
                             -1, &table, NULL) != SQLITE_OK)
    g_error ("Cannot read the query plan (%s): %s", sqlite3_errmsg (self->db), sql);
  while (sqlite3_step (plan) == SQLITE_ROW)
    {
      const char *detail = (const char *) sqlite3_column_text (plan, 3);

      if (detail == NULL || !g_str_has_prefix (detail, "SCAN "))
        continue;
      detail += strlen ("SCAN ");
      sqlite3_bind_text (table, 1, detail, (int) strcspn (detail, " "), SQLITE_TRANSIENT);
      if (sqlite3_step (table) == SQLITE_ROW)
        g_critical ("A statement of the portal's store reads the whole %.*s table: %s",
                    (int) strcspn (detail, " "), detail, sql);
      sqlite3_reset (table);
    }
  sqlite3_finalize (table);
  sqlite3_finalize (plan);
}

/* Compiling a statement costs more than running most of the portal's
 * (issue 12: sqlite3_prepare_v2 was ~2 % of the portal's instructions
 * per submission), so each SQL text is compiled once, kept
 * (SQLITE_PREPARE_PERSISTENT), and handed out again once the previous
 * user finished it with store_finish(). A statement still in use (a
 * query made while the same one is being read) gets a fresh one that
 * store_finish() finalizes. The store is used from the main thread only. */
sqlite3_stmt *
store_prepare (ImzalaPortalStore *self, const char *sql)
{
  sqlite3_stmt *stmt = g_hash_table_lookup (self->statements, sql);

  if (stmt != NULL && !g_hash_table_contains (self->in_use, stmt))
    {
      g_hash_table_add (self->in_use, stmt);
      return stmt;
    }
  if (sqlite3_prepare_v3 (self->db, sql, -1, stmt == NULL ? SQLITE_PREPARE_PERSISTENT : 0,
                          &stmt, NULL) != SQLITE_OK)
    g_error ("Bad SQL (%s): %s", sqlite3_errmsg (self->db), sql);
  if (!g_hash_table_contains (self->statements, sql))
    {
      if (self->check_plans)
        store_check_plan (self, sql);
      g_hash_table_insert (self->statements, g_strdup (sql), stmt);
      g_hash_table_add (self->in_use, stmt);
    }
  return stmt;
}

/* Ends a statement from store_prepare(): a kept one is reset (which ends
 * its read transaction at once, as finalizing did) and its parameters
 * cleared for the next user; any other is finalized. After a failed step
 * the connection's error code and message still say what went wrong. */
void
store_finish (ImzalaPortalStore *self, sqlite3_stmt *stmt)
{
  if (g_hash_table_remove (self->in_use, stmt))
    {
      sqlite3_reset (stmt);
      sqlite3_clear_bindings (stmt);
    }
  else
    sqlite3_finalize (stmt);
}

void
store_bind_text (sqlite3_stmt *stmt, int index, const char *text)
{
  if (text != NULL)
    sqlite3_bind_text (stmt, index, text, -1, SQLITE_TRANSIENT);
  else
    sqlite3_bind_null (stmt, index);
}

void
store_bind_bytes (sqlite3_stmt *stmt, int index, GBytes *bytes)
{
  gsize size;
  const void *data = g_bytes_get_data (bytes, &size);

  sqlite3_bind_blob64 (stmt, index, size > 0 ? data : "", size, SQLITE_TRANSIENT);
}

char *
store_column_text (sqlite3_stmt *stmt, int index)
{
  const unsigned char *text = sqlite3_column_text (stmt, index);

  return text != NULL ? g_strdup ((const char *) text) : NULL;
}

static GBytes *
column_bytes (sqlite3_stmt *stmt, int index)
{
  const void *data = sqlite3_column_blob (stmt, index);

  return g_bytes_new (data, sqlite3_column_bytes (stmt, index));
}

/* Runs a statement that returns no rows and finishes it; on FALSE the
 * connection's error code and message still say what went wrong. */
gboolean
store_step_done (ImzalaPortalStore *self, sqlite3_stmt *stmt)
{
  int rc = sqlite3_step (stmt);

  store_finish (self, stmt);
  return rc == SQLITE_DONE;
}

gboolean
store_exec (ImzalaPortalStore *self, const char *sql, GError **error)
{
  char *message = NULL;

  if (sqlite3_exec (self->db, sql, NULL, NULL, &message) != SQLITE_OK)
    {
      g_set_error (error, IMZALA_ERROR, IMZALA_ERROR_FAILED, "Database error: %s", message);
      sqlite3_free (message);
      return FALSE;
    }
  return TRUE;
}

/* Adds a column a database made by an older portal lacks. */
static gboolean
add_column (ImzalaPortalStore *self, const char *table, const char *column, const char *type,
            GError **error)
{
  g_autofree char *query = g_strdup_printf ("SELECT 1 FROM pragma_table_info ('%s') WHERE name = '%s'",
                                            table, column);
  sqlite3_stmt *stmt = store_prepare (self, query);
  gboolean present = sqlite3_step (stmt) == SQLITE_ROW;
  g_autofree char *alter = NULL;

  store_finish (self, stmt);
  if (present)
    return TRUE;
  alter = g_strdup_printf ("ALTER TABLE %s ADD COLUMN %s %s;", table, column, type);
  return store_exec (self, alter, error);
}

ImzalaPortalStore *
imzala_portal_store_open (const char *path, GError **error)
{
  g_autoptr(ImzalaPortalStore) self = NULL;
  int fd;

  /* Only possible before SQLite is first used in the process (the portal
   * opens its store first); a test that used SQLite before goes without. */
  sqlite3_config (SQLITE_CONFIG_LOG, sqlite_log_cb, NULL);
  self = g_object_new (IMZALA_TYPE_PORTAL_STORE, NULL);
  self->check_plans = g_getenv ("IMZALA_PORTAL_CHECK_PLANS") != NULL;

  /* The database holds the cards' PUKs and the security word hashes, so it
   * is the owner's alone even in a state directory that others may read
   * (SQLite gives its -wal and -shm files the database file's mode). */
  fd = g_open (path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0 || fchmod (fd, 0600) != 0)
    {
      int saved = errno;

      if (fd >= 0)
        close (fd);
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                   "Could not open %s: %s", path, g_strerror (saved));
      return NULL;
    }
  close (fd);

  if (sqlite3_open_v2 (path, &self->db,
                       SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                       NULL) != SQLITE_OK)
    {
      store_set_db_error (self, error);
      return NULL;
    }
  /* The enrol command and tests open the same file while the server runs.
   * The server has one thread: a statement waits for a lock at most this
   * long, then fails and the request is answered 503, so that a lock held
   * elsewhere never stops the portal for everyone. */
  sqlite3_busy_handler (self->db, busy_cb, NULL);
  /* WAL with synchronous=NORMAL: a commit (an audit row per GET among
   * them) appends to the WAL without an fsync, which the checkpoints do;
   * the database stays consistent after a crash, and only a power cut can
   * lose the last commits (issue 12: an fsync per read was most of a GET).
   * What must survive a power cut (an accepted signature, a revocation)
   * is committed with synchronous=FULL (store_commit_durably()). */
  if (!store_exec (self, "PRAGMA journal_mode = WAL;", error)
      || !store_exec (self, "PRAGMA synchronous = NORMAL;", error)
      || !store_exec (self, schema, error)
      || !add_column (self, "events", "count", "INTEGER NOT NULL DEFAULT 1", error)
      || !add_column (self, "events", "last_at", "INTEGER", error)
      /* Every fetch of a pending code updates its request's row for the
       * address (imzala-portal-store-audit.c): without this index that
       * UPDATE read the whole audit log, which only grows, on every GET
       * (200 K instructions per GET at 2,000 events). */
      || !store_exec (self, "CREATE INDEX IF NOT EXISTS events_request ON events (request, kind, address);", error)
      || !add_column (self, "persons", "phone", "TEXT", error)
      || !store_exec (self, pki_schema, error)
      || !store_exec (self, index_schema, error))
    return NULL;
  return g_steal_pointer (&self);
}

void
imzala_portal_person_free (ImzalaPortalPerson *person)
{
  if (person == NULL)
    return;
  g_free (person->tckn);
  g_free (person->name);
  g_free (person->security_word_hash);
  g_free (person->institution);
  g_free (person->sicil_no);
  g_free (person->card_serial);
  g_free (person->card_puk);
  g_free (person->eonay);
  g_free (person->phone);
  g_free (person);
}

void
imzala_portal_session_free (ImzalaPortalSession *session)
{
  if (session == NULL)
    return;
  g_free (session->id_hash);
  g_free (session->person);
  g_free (session->applicant);
  g_free (session);
}

void
imzala_portal_request_free (ImzalaPortalRequest *request)
{
  if (request == NULL)
    return;
  g_free (request->public_id);
  g_free (request->code);
  g_free (request->purpose);
  g_free (request->person);
  g_free (request->session);
  g_free (request->choice);
  g_clear_pointer (&request->nonce, g_bytes_unref);
  g_free (request->result_message);
  g_clear_pointer (&request->titles, g_ptr_array_unref);
  g_clear_pointer (&request->texts, g_ptr_array_unref);
  g_free (request);
}

void
imzala_portal_application_free (ImzalaPortalApplication *application)
{
  if (application == NULL)
    return;
  g_free (application->public_id);
  g_free (application->person);
  g_free (application->kind);
  g_free (application->fields_json);
  g_free (application->form_text);
  g_free (application->method);
  g_free (application->state);
  g_free (application);
}

const char *
imzala_portal_state_to_string (ImzalaPortalState state)
{
  static const char * const names[] = { "pending", "released", "done", "failed", "expired" };

  g_return_val_if_fail (state <= IMZALA_PORTAL_STATE_EXPIRED, "failed");
  return names[state];
}

static ImzalaPortalState
state_from_string (const char *text)
{
  for (ImzalaPortalState s = IMZALA_PORTAL_STATE_PENDING; s <= IMZALA_PORTAL_STATE_EXPIRED; s++)
    if (g_strcmp0 (text, imzala_portal_state_to_string (s)) == 0)
      return s;
  return IMZALA_PORTAL_STATE_FAILED;
}

/* ---- Persons ---- */

gboolean
imzala_portal_store_put_person (ImzalaPortalStore        *self,
                                const ImzalaPortalPerson *person,
                                GError                  **error)
{
  sqlite3_stmt *stmt;

  /* Enrolling a person again replaces the card but keeps e-onay: the
   * consent was given by the person, not by the card. */
  stmt = store_prepare (self,
                  "INSERT INTO persons (tckn, name, security_word_hash, institution, sicil_no,"
                  "  card_serial, card_puk, certificate_not_after, phone)"
                  " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
                  " ON CONFLICT (tckn) DO UPDATE SET name = ?2, security_word_hash = ?3,"
                  "  institution = ?4, sicil_no = ?5, card_serial = ?6, card_puk = ?7,"
                  "  certificate_not_after = ?8, phone = ?9");
  store_bind_text (stmt, 1, person->tckn);
  store_bind_text (stmt, 2, person->name);
  store_bind_text (stmt, 3, person->security_word_hash);
  store_bind_text (stmt, 4, person->institution);
  store_bind_text (stmt, 5, person->sicil_no);
  store_bind_text (stmt, 6, person->card_serial);
  store_bind_text (stmt, 7, person->card_puk);
  sqlite3_bind_int64 (stmt, 8, person->certificate_not_after);
  store_bind_text (stmt, 9, person->phone);
  if (!store_step_done (self, stmt))
    return store_set_db_error (self, error);
  return TRUE;
}

ImzalaPortalPerson *
imzala_portal_store_get_person (ImzalaPortalStore *self, const char *tckn)
{
  sqlite3_stmt *stmt;
  ImzalaPortalPerson *person = NULL;

  stmt = store_prepare (self,
                  "SELECT tckn, name, security_word_hash, institution, sicil_no, card_serial,"
                  "  card_puk, certificate_not_after, eonay, eonay_at, phone"
                  " FROM persons WHERE tckn = ?1");
  store_bind_text (stmt, 1, tckn);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    {
      person = g_new0 (ImzalaPortalPerson, 1);
      person->tckn = store_column_text (stmt, 0);
      person->name = store_column_text (stmt, 1);
      person->security_word_hash = store_column_text (stmt, 2);
      person->institution = store_column_text (stmt, 3);
      person->sicil_no = store_column_text (stmt, 4);
      person->card_serial = store_column_text (stmt, 5);
      person->card_puk = store_column_text (stmt, 6);
      person->certificate_not_after = sqlite3_column_int64 (stmt, 7);
      person->eonay = store_column_text (stmt, 8);
      person->eonay_at = sqlite3_column_int64 (stmt, 9);
      person->phone = store_column_text (stmt, 10);
    }
  store_finish (self, stmt);
  return person;
}

gboolean
imzala_portal_store_set_eonay (ImzalaPortalStore *self,
                               const char        *tckn,
                               const char        *eonay,
                               gint64             when,
                               GError           **error)
{
  sqlite3_stmt *stmt = store_prepare (self, "UPDATE persons SET eonay = ?2, eonay_at = ?3 WHERE tckn = ?1");

  store_bind_text (stmt, 1, tckn);
  store_bind_text (stmt, 2, eonay);
  sqlite3_bind_int64 (stmt, 3, when);
  if (!store_step_done (self, stmt))
    return store_set_db_error (self, error);
  return TRUE;
}

/* ---- Requests ---- */

gboolean
imzala_portal_store_add_request (ImzalaPortalStore   *self,
                                 ImzalaPortalRequest *request,
                                 GError             **error)
{
  sqlite3_stmt *stmt;

  if (!store_exec (self, "BEGIN IMMEDIATE", error))
    return FALSE;

  stmt = store_prepare (self,
                  "INSERT INTO requests (public_id, code, purpose, person, session, application,"
                  "  choice, nonce, created_at, expires_at)"
                  " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)");
  store_bind_text (stmt, 1, request->public_id);
  store_bind_text (stmt, 2, request->code);
  store_bind_text (stmt, 3, request->purpose);
  store_bind_text (stmt, 4, request->person);
  store_bind_text (stmt, 5, request->session);
  if (request->application != 0)
    sqlite3_bind_int64 (stmt, 6, request->application);
  else
    sqlite3_bind_null (stmt, 6);
  store_bind_text (stmt, 7, request->choice);
  store_bind_bytes (stmt, 8, request->nonce);
  sqlite3_bind_int64 (stmt, 9, request->created_at);
  sqlite3_bind_int64 (stmt, 10, request->expires_at);
  if (!store_step_done (self, stmt))
    {
      if (sqlite3_extended_errcode (self->db) == SQLITE_CONSTRAINT_UNIQUE)
        g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_EXISTS, "Code collision");
      else
        store_set_db_error (self, error);
      store_exec (self, "ROLLBACK", NULL);
      return FALSE;
    }
  request->id = sqlite3_last_insert_rowid (self->db);

  for (guint i = 0; i < request->texts->len; i++)
    {
      stmt = store_prepare (self, "INSERT INTO request_texts (request, idx, title, content) VALUES (?1, ?2, ?3, ?4)");
      sqlite3_bind_int64 (stmt, 1, request->id);
      sqlite3_bind_int (stmt, 2, (int) i);
      store_bind_text (stmt, 3, g_ptr_array_index (request->titles, i));
      store_bind_bytes (stmt, 4, g_ptr_array_index (request->texts, i));
      if (!store_step_done (self, stmt))
        {
          store_set_db_error (self, error);
          store_exec (self, "ROLLBACK", NULL);
          return FALSE;
        }
    }
  return store_exec (self, "COMMIT", error);
}

/* Reads the request @stmt selects (the columns of REQUEST_COLUMNS) with its
 * texts, and finalizes @stmt. */
#define REQUEST_COLUMNS \
  "SELECT id, public_id, code, purpose, person, session, application, choice," \
  "  nonce, created_at, expires_at, state, rejected, completed_at, released_at," \
  "  result_message FROM requests"

static ImzalaPortalRequest *
read_request (ImzalaPortalStore *self, sqlite3_stmt *stmt)
{
  ImzalaPortalRequest *request = NULL;

  if (sqlite3_step (stmt) == SQLITE_ROW)
    {
      g_autofree char *state = NULL;

      request = g_new0 (ImzalaPortalRequest, 1);
      request->id = sqlite3_column_int64 (stmt, 0);
      request->public_id = store_column_text (stmt, 1);
      request->code = store_column_text (stmt, 2);
      request->purpose = store_column_text (stmt, 3);
      request->person = store_column_text (stmt, 4);
      request->session = store_column_text (stmt, 5);
      request->application = sqlite3_column_int64 (stmt, 6);
      request->choice = store_column_text (stmt, 7);
      request->nonce = column_bytes (stmt, 8);
      request->created_at = sqlite3_column_int64 (stmt, 9);
      request->expires_at = sqlite3_column_int64 (stmt, 10);
      state = store_column_text (stmt, 11);
      request->state = state_from_string (state);
      request->rejected = (guint) sqlite3_column_int (stmt, 12);
      request->completed_at = sqlite3_column_int64 (stmt, 13);
      request->released_at = sqlite3_column_int64 (stmt, 14);
      request->result_message = store_column_text (stmt, 15);
    }
  store_finish (self, stmt);
  if (request == NULL)
    return NULL;

  request->titles = g_ptr_array_new_with_free_func (g_free);
  request->texts = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  stmt = store_prepare (self, "SELECT title, content FROM request_texts WHERE request = ?1 ORDER BY idx");
  sqlite3_bind_int64 (stmt, 1, request->id);
  while (sqlite3_step (stmt) == SQLITE_ROW)
    {
      g_ptr_array_add (request->titles, store_column_text (stmt, 0));
      g_ptr_array_add (request->texts, column_bytes (stmt, 1));
    }
  store_finish (self, stmt);
  return request;
}

ImzalaPortalRequest *
imzala_portal_store_get_request_by_code (ImzalaPortalStore *self,
                                         const char        *code)
{
  sqlite3_stmt *stmt = store_prepare (self, REQUEST_COLUMNS " WHERE code = ?1");

  store_bind_text (stmt, 1, code);
  return read_request (self, stmt);
}

ImzalaPortalRequest *
imzala_portal_store_get_request_by_public_id (ImzalaPortalStore *self,
                                              const char        *public_id)
{
  sqlite3_stmt *stmt = store_prepare (self, REQUEST_COLUMNS " WHERE public_id = ?1");

  store_bind_text (stmt, 1, public_id);
  return read_request (self, stmt);
}

void
imzala_portal_store_expire_requests (ImzalaPortalStore *self, gint64 now)
{
  sqlite3_stmt *stmt = store_prepare (self,
                                "UPDATE requests SET state = 'expired',"
                                "  result_message = 'Doğrulama kodunun süresi doldu.'"
                                " WHERE state = 'pending' AND expires_at < ?1");

  sqlite3_bind_int64 (stmt, 1, now);
  sqlite3_step (stmt);
  store_finish (self, stmt);
}

ImzalaPortalState
imzala_portal_store_reject (ImzalaPortalStore *self,
                            gint64             id,
                            guint              max,
                            const char        *message,
                            const char        *closed_message)
{
  sqlite3_stmt *stmt;
  ImzalaPortalState state = IMZALA_PORTAL_STATE_FAILED;

  stmt = store_prepare (self,
                  "UPDATE requests SET rejected = rejected + 1,"
                  "  state = CASE WHEN rejected + 1 >= ?2 THEN 'failed' ELSE state END,"
                  "  result_message = CASE WHEN rejected + 1 >= ?2 THEN ?4 ELSE ?3 END"
                  " WHERE id = ?1 AND state = 'pending' RETURNING state");
  sqlite3_bind_int64 (stmt, 1, id);
  sqlite3_bind_int (stmt, 2, (int) max);
  store_bind_text (stmt, 3, message);
  store_bind_text (stmt, 4, closed_message);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    state = state_from_string ((const char *) sqlite3_column_text (stmt, 0));
  store_finish (self, stmt);
  return state;
}

/* What a signed request changes besides its own row, in the same
 * transaction as its state change, so that a consent or an application is
 * recorded exactly once: ?1 is the request's person, ?2 the time, ?3 its
 * choice and ?4 its application. A login changes nothing here: the browser
 * is signed in when it reads the request's status. */
static const char *
effect_sql (const char *purpose)
{
  if (g_str_equal (purpose, "consent"))
    return "UPDATE persons SET eonay = CASE WHEN ?3 = 'accept' THEN 'accepted' ELSE 'rejected' END,"
           "  eonay_at = ?2 WHERE tckn = ?1";
  if (g_str_equal (purpose, "application"))
    return "UPDATE applications SET method = 'esign', submitted_at = ?2,"
           "  state = CASE WHEN production_date > ?2 THEN 'waiting' ELSE 'submitted' END"
           " WHERE id = ?4 AND state = 'draft'";
  return NULL;
}

/* What must survive a power cut, not only a crash (an accepted signature, a
 * revocation), is committed with synchronous=FULL: the commit then waits
 * for the write-ahead log to reach the disk. Everything else (audit rows,
 * sessions) is committed with the connection's synchronous=NORMAL. */
void
store_set_durable (ImzalaPortalStore *self, gboolean durable)
{
  store_exec (self, durable ? "PRAGMA synchronous = FULL;" : "PRAGMA synchronous = NORMAL;", NULL);
}

static gboolean complete (ImzalaPortalStore *self, const ImzalaPortalRequest *request, gint64 now,
                          GPtrArray *signatures, const char *message, const char *address,
                          gboolean audited, GError **error);

gboolean
imzala_portal_store_complete (ImzalaPortalStore         *self,
                              const ImzalaPortalRequest *request,
                              gint64                     now,
                              GPtrArray                 *signatures,
                              const char                *message,
                              const char                *address,
                              GError                   **error)
{
  /* The audit row goes into the same commit (one durable commit a
   * submission instead of two commits), unless older events still wait
   * for the database: they are written first, in their order. */
  gboolean audited = self->pending.length == 0;
  gboolean ok;

  store_set_durable (self, TRUE);
  ok = complete (self, request, now, signatures, message, audited ? address : NULL, audited, error);
  store_set_durable (self, FALSE);
  if (ok && !audited)
    imzala_portal_store_log (self, "signed", request->person, request->id, address, request->purpose);
  return ok;
}

static gboolean
complete (ImzalaPortalStore         *self,
          const ImzalaPortalRequest *request,
          gint64                     now,
          GPtrArray                 *signatures,
          const char                *message,
          const char                *address,
          gboolean                   audited,
          GError                   **error)
{
  sqlite3_stmt *stmt;
  g_autofree char *person = NULL;
  const char *effect = effect_sql (request->purpose);

  if (!store_exec (self, "BEGIN IMMEDIATE", error))
    return FALSE;

  /* The single-use guarantee: only a pending, unexpired request changes,
   * and the write lock taken by BEGIN IMMEDIATE orders racing submissions. */
  stmt = store_prepare (self,
                  "UPDATE requests SET state = 'done', completed_at = ?2, result_message = ?3"
                  " WHERE id = ?1 AND state = 'pending' AND expires_at >= ?2 RETURNING person");
  sqlite3_bind_int64 (stmt, 1, request->id);
  sqlite3_bind_int64 (stmt, 2, now);
  store_bind_text (stmt, 3, message);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    person = store_column_text (stmt, 0);
  store_finish (self, stmt);
  if (person == NULL)
    {
      store_exec (self, "ROLLBACK", NULL);
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_BUSY, "The request is no longer pending");
      return FALSE;
    }

  for (guint i = 0; i < signatures->len; i++)
    {
      ImzalaPortalSignature *signature = g_ptr_array_index (signatures, i);

      stmt = store_prepare (self,
                      "INSERT INTO signatures (request, idx, cms, signer_fingerprint, signer_subject,"
                      "  signing_time) VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
      sqlite3_bind_int64 (stmt, 1, request->id);
      sqlite3_bind_int (stmt, 2, (int) i);
      store_bind_bytes (stmt, 3, signature->cms);
      store_bind_text (stmt, 4, signature->signer_fingerprint);
      store_bind_text (stmt, 5, signature->signer_subject);
      sqlite3_bind_int64 (stmt, 6, signature->signing_time);
      if (!store_step_done (self, stmt))
        goto fail;
    }

  if (effect != NULL)
    {
      stmt = store_prepare (self, effect);
      store_bind_text (stmt, 1, person);
      sqlite3_bind_int64 (stmt, 2, now);
      store_bind_text (stmt, 3, request->choice);
      sqlite3_bind_int64 (stmt, 4, request->application);
      if (!store_step_done (self, stmt))
        goto fail;
    }
  if (audited)
    {
      PendingEvent event = { "signed", request->person, request->id, (char *) address,
                             request->purpose, store_now () };

      if (!store_write_event (self, &event))
        goto fail;
    }
  return store_exec (self, "COMMIT", error);

fail:
  store_set_db_error (self, error);
  store_exec (self, "ROLLBACK", NULL);
  return FALSE;
}

gboolean
imzala_portal_store_release (ImzalaPortalStore *self, gint64 id, gint64 now)
{
  sqlite3_stmt *stmt = store_prepare (self,
                                "UPDATE requests SET state = 'released', released_at = ?2"
                                " WHERE id = ?1 AND state = 'pending' AND expires_at >= ?2");
  gboolean changed;

  sqlite3_bind_int64 (stmt, 1, id);
  sqlite3_bind_int64 (stmt, 2, now);
  changed = sqlite3_step (stmt) == SQLITE_DONE && sqlite3_changes (self->db) == 1;
  store_finish (self, stmt);
  return changed;
}

gboolean
imzala_portal_store_finish_unblock (ImzalaPortalStore *self,
                                    gint64             id,
                                    gboolean           success,
                                    gint64             now,
                                    const char        *message)
{
  sqlite3_stmt *stmt = store_prepare (self,
                                "UPDATE requests SET state = ?2, completed_at = ?3, result_message = ?4"
                                " WHERE id = ?1 AND state = 'released'");
  gboolean changed;

  sqlite3_bind_int64 (stmt, 1, id);
  store_bind_text (stmt, 2, success ? "done" : "failed");
  sqlite3_bind_int64 (stmt, 3, now);
  store_bind_text (stmt, 4, message);
  changed = sqlite3_step (stmt) == SQLITE_DONE && sqlite3_changes (self->db) == 1;
  store_finish (self, stmt);
  return changed;
}

/* ---- Applications ---- */

gboolean
imzala_portal_store_add_application (ImzalaPortalStore       *self,
                                     ImzalaPortalApplication *application,
                                     gint64                   now,
                                     GError                 **error)
{
  sqlite3_stmt *stmt;

  stmt = store_prepare (self,
                  "INSERT INTO applications (public_id, person, kind, fields, form_text,"
                  "  production_date, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
  store_bind_text (stmt, 1, application->public_id);
  store_bind_text (stmt, 2, application->person);
  store_bind_text (stmt, 3, application->kind);
  store_bind_text (stmt, 4, application->fields_json);
  store_bind_text (stmt, 5, application->form_text);
  sqlite3_bind_int64 (stmt, 6, application->production_date);
  sqlite3_bind_int64 (stmt, 7, now);
  if (!store_step_done (self, stmt))
    return store_set_db_error (self, error);
  application->id = sqlite3_last_insert_rowid (self->db);
  return TRUE;
}

/* Reads the application @stmt selects (the columns of APPLICATION_COLUMNS),
 * and finalizes @stmt. */
#define APPLICATION_COLUMNS \
  "SELECT id, public_id, person, kind, fields, form_text, method, state," \
  "  production_date, submitted_at FROM applications"

static ImzalaPortalApplication *
read_application (ImzalaPortalStore *self, sqlite3_stmt *stmt)
{
  ImzalaPortalApplication *application = NULL;

  if (sqlite3_step (stmt) == SQLITE_ROW)
    {
      application = g_new0 (ImzalaPortalApplication, 1);
      application->id = sqlite3_column_int64 (stmt, 0);
      application->public_id = store_column_text (stmt, 1);
      application->person = store_column_text (stmt, 2);
      application->kind = store_column_text (stmt, 3);
      application->fields_json = store_column_text (stmt, 4);
      application->form_text = store_column_text (stmt, 5);
      application->method = store_column_text (stmt, 6);
      application->state = store_column_text (stmt, 7);
      application->production_date = sqlite3_column_int64 (stmt, 8);
      application->submitted_at = sqlite3_column_int64 (stmt, 9);
    }
  store_finish (self, stmt);
  return application;
}

ImzalaPortalApplication *
imzala_portal_store_get_application (ImzalaPortalStore *self, const char *public_id)
{
  sqlite3_stmt *stmt = store_prepare (self, APPLICATION_COLUMNS " WHERE public_id = ?1");

  store_bind_text (stmt, 1, public_id);
  return read_application (self, stmt);
}

ImzalaPortalApplication *
imzala_portal_store_get_application_by_id (ImzalaPortalStore *self, gint64 id)
{
  sqlite3_stmt *stmt = store_prepare (self, APPLICATION_COLUMNS " WHERE id = ?1");

  sqlite3_bind_int64 (stmt, 1, id);
  return read_application (self, stmt);
}

gboolean
imzala_portal_store_submit_application (ImzalaPortalStore *self,
                                        gint64             id,
                                        const char        *method,
                                        gint64             now,
                                        GError           **error)
{
  sqlite3_stmt *stmt;
  gboolean changed;

  stmt = store_prepare (self,
                  "UPDATE applications SET method = ?2, submitted_at = ?3,"
                  "  state = CASE WHEN production_date > ?3 THEN 'waiting' ELSE 'submitted' END"
                  " WHERE id = ?1 AND state = 'draft'");
  sqlite3_bind_int64 (stmt, 1, id);
  store_bind_text (stmt, 2, method);
  sqlite3_bind_int64 (stmt, 3, now);
  changed = sqlite3_step (stmt) == SQLITE_DONE && sqlite3_changes (self->db) == 1;
  store_finish (self, stmt);
  if (!changed)
    g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_BUSY, "The application was already submitted");
  return changed;
}

