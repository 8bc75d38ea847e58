#define G_LOG_DOMAIN "imzala-pcsc"

#include "config.h"

#include <string.h>
#include <glib/gi18n-lib.h>
#include <winscard.h>

#include "imzala-error.h"
#include "imzala-reader-monitor.h"
#include "imzala-reader-private.h"

/* The pseudo reader whose state changes when a reader is plugged in or out. */
#define PNP_NOTIFICATION "\\\\?PnP?\\Notification"

/* SCardGetStatusChange waits this long at most. Cards and readers coming
 * and going wake it at once, and imzala_reader_monitor_stop() cancels it,
 * but pcsc-lite 1.9.9 does not wake a waiter when another program opens a
 * card (checked: the wait times out with SCARD_STATE_INUSE in
 * dwEventState), so "in use" is only seen when the wait ends anyway. The
 * limit also bounds what a cancel lost in the moment before the wait
 * starts can cost. One local round trip every few seconds is cheap. */
#define WAIT_MILLISECONDS 4000

/* Reconnecting to a missing pcscd: first pause, then doubling up to this. */
#define FIRST_PAUSE_USEC (250 * G_TIME_SPAN_MILLISECOND)
#define LONGEST_PAUSE_USEC (4 * G_TIME_SPAN_SECOND)

/* The state shared by the monitor and its worker thread. A monitor that is
 * stopped and started again gets a new one, so that anything the old
 * thread still delivers is recognised as stale and dropped. */
typedef struct
{
  gatomicrefcount  ref_count;
  GMainContext    *main_context; /* the monitor's; read-only */
  GWeakRef         monitor;

  GMutex           mutex;
  GCond            cond;         /* signalled when stopping is set */
  gboolean         stopping;
  gboolean         has_context;
  SCARDCONTEXT     context;      /* valid while has_context */
} Worker;

typedef struct
{
  char              *name;
  ImzalaReaderState  state;
  char              *atr;
  guint              event_count; /* pcscd counts card insertions and removals */
} ReaderSnapshot;

/* What the worker hands to the main context after every wake-up. */
typedef struct
{
  Worker   *worker;
  gboolean  available;
  GArray   *readers; /* ReaderSnapshot */
} Update;

struct _ImzalaReaderMonitor
{
  GObject parent_instance;

  GMainContext *context;
  Worker       *worker;      /* NULL while stopped */
  GPtrArray    *readers;     /* ImzalaReader, in pcscd's order */
  GHashTable   *event_counts; /* reader name -> last event count */
  gboolean      available;
  GError       *error;
};

static void imzala_reader_monitor_list_model_init (GListModelInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (ImzalaReaderMonitor, imzala_reader_monitor, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_LIST_MODEL,
                                                      imzala_reader_monitor_list_model_init))

enum {
  PROP_0,
  PROP_AVAILABLE,
  PROP_ERROR,
  PROP_N_ITEMS,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

enum {
  SIGNAL_CARD_INSERTED,
  SIGNAL_CARD_REMOVED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

/* The worker threads still running, also those of stopped monitors, so that
 * a program can let them end before it exits (see
 * imzala_reader_monitor_wait_for_threads()). */
static GMutex threads_mutex;
static GCond threads_cond;
static guint n_threads;
/* The threads that have ended their work, each with the reference
 * g_thread_new() gave start(): the next start() or wait joins them, since a
 * thread that has counted itself out still tears down (TLS, libpcsclite's
 * state) for a while, and a program that waited for the threads must find
 * them gone, not ending. */
static GPtrArray *ended_threads;  /* GThread* */

/* Joins the threads that have ended their work. Called with
 * threads_mutex held; they take it no more. */
static void
join_ended_threads_locked (void)
{
  while (ended_threads != NULL && ended_threads->len > 0)
    g_thread_join (g_ptr_array_steal_index_fast (ended_threads, ended_threads->len - 1));
}

/* The worker thread. */

static Worker *
worker_new (ImzalaReaderMonitor *monitor)
{
  Worker *worker = g_new0 (Worker, 1);

  g_atomic_ref_count_init (&worker->ref_count);
  worker->main_context = g_main_context_ref (monitor->context);
  g_weak_ref_init (&worker->monitor, monitor);
  g_mutex_init (&worker->mutex);
  g_cond_init (&worker->cond);

  return worker;
}

static Worker *
worker_ref (Worker *worker)
{
  g_atomic_ref_count_inc (&worker->ref_count);
  return worker;
}

static void
worker_unref (Worker *worker)
{
  if (!g_atomic_ref_count_dec (&worker->ref_count))
    return;

  g_main_context_unref (worker->main_context);
  g_weak_ref_clear (&worker->monitor);
  g_mutex_clear (&worker->mutex);
  g_cond_clear (&worker->cond);
  g_free (worker);
}

static gboolean
worker_is_stopping (Worker *worker)
{
  gboolean stopping;

  g_mutex_lock (&worker->mutex);
  stopping = worker->stopping;
  g_mutex_unlock (&worker->mutex);

  return stopping;
}

/* Called from the monitor's thread. */
static void
worker_stop (Worker *worker)
{
  g_mutex_lock (&worker->mutex);
  worker->stopping = TRUE;
  if (worker->has_context)
    {
      LONG rv = SCardCancel (worker->context);

      if (rv != SCARD_S_SUCCESS)
        g_debug ("SCardCancel: %s (0x%08lX)", pcsc_stringify_error (rv), (unsigned long) rv);
    }
  g_cond_broadcast (&worker->cond);
  g_mutex_unlock (&worker->mutex);
}

/* Makes @context the one stop() cancels; FALSE (and nothing set) when the
 * monitor is stopping already. */
static gboolean
worker_set_context (Worker       *worker,
                    SCARDCONTEXT  context)
{
  gboolean ok;

  g_mutex_lock (&worker->mutex);
  ok = !worker->stopping;
  if (ok)
    {
      worker->context = context;
      worker->has_context = TRUE;
    }
  g_mutex_unlock (&worker->mutex);

  return ok;
}

static void
worker_clear_context (Worker *worker)
{
  g_mutex_lock (&worker->mutex);
  worker->has_context = FALSE;
  g_mutex_unlock (&worker->mutex);
}

/* Sleeps for *@pause unless stop() comes first, then doubles *@pause. */
static void
worker_pause (Worker *worker,
              gint64 *pause)
{
  gint64 end_time = g_get_monotonic_time () + *pause;

  g_mutex_lock (&worker->mutex);
  while (!worker->stopping)
    {
      if (!g_cond_wait_until (&worker->cond, &worker->mutex, end_time))
        break;
    }
  g_mutex_unlock (&worker->mutex);

  *pause = MIN (*pause * 2, LONGEST_PAUSE_USEC);
}

static void
reader_snapshot_clear (gpointer data)
{
  ReaderSnapshot *snapshot = data;

  g_free (snapshot->name);
  g_free (snapshot->atr);
}

static void
update_free (gpointer data)
{
  Update *update = data;

  worker_unref (update->worker);
  g_array_unref (update->readers);
  g_free (update);
}

static gboolean apply_update_cb (gpointer data);

/* Hands @readers (taken; NULL for none) to the monitor's main context. */
static void
worker_deliver (Worker   *worker,
                gboolean  available,
                GArray   *readers)
{
  Update *update = g_new0 (Update, 1);

  update->worker = worker_ref (worker);
  update->available = available;
  update->readers = readers;
  if (update->readers == NULL)
    {
      update->readers = g_array_new (FALSE, TRUE, sizeof (ReaderSnapshot));
      g_array_set_clear_func (update->readers, reader_snapshot_clear);
    }

  g_main_context_invoke_full (worker->main_context, G_PRIORITY_DEFAULT,
                              apply_update_cb, update, update_free);
}

static ImzalaReaderState
state_from_event_state (DWORD event_state)
{
  if (event_state & (SCARD_STATE_UNAVAILABLE | SCARD_STATE_IGNORE | SCARD_STATE_UNKNOWN))
    return IMZALA_READER_STATE_UNAVAILABLE;
  if (event_state & SCARD_STATE_PRESENT)
    {
      if (event_state & SCARD_STATE_MUTE)
        return IMZALA_READER_STATE_MUTE;
      if (event_state & (SCARD_STATE_INUSE | SCARD_STATE_EXCLUSIVE))
        return IMZALA_READER_STATE_IN_USE;
      return IMZALA_READER_STATE_PRESENT;
    }
  if (event_state & SCARD_STATE_EMPTY)
    return IMZALA_READER_STATE_EMPTY;
  return IMZALA_READER_STATE_UNAVAILABLE;
}

/* The reader names, as pcscd spells them (not necessarily UTF-8); an empty
 * array when there is no reader. */
static LONG
list_readers (SCARDCONTEXT   context,
              GPtrArray    **names_out)
{
  LPSTR readers = NULL;
  DWORD length = SCARD_AUTOALLOCATE;
  GPtrArray *names;
  LONG rv;

  names = g_ptr_array_new_with_free_func (g_free);

  rv = SCardListReaders (context, NULL, (LPSTR) &readers, &length);
  if (rv == SCARD_E_NO_READERS_AVAILABLE)
    {
      *names_out = names;
      return SCARD_S_SUCCESS;
    }
  if (rv != SCARD_S_SUCCESS)
    {
      g_ptr_array_unref (names);
      return rv;
    }

  /* A multi-string: names separated by NUL, ended by an empty name. */
  for (const char *name = readers; name < readers + length && *name != '\0'; name += strlen (name) + 1)
    g_ptr_array_add (names, g_strdup (name));

  SCardFreeMemory (context, readers);
  *names_out = names;
  return SCARD_S_SUCCESS;
}

static gboolean
readers_changed (const SCARD_READERSTATE *states,
                 guint                    n)
{
  for (guint i = 0; i < n; i++)
    {
      if ((states[i].dwEventState & ~SCARD_STATE_CHANGED) != states[i].dwCurrentState)
        return TRUE;
    }
  return FALSE;
}

/* Watches the readers until pcscd goes away, something fails, or stop() is
 * called. Sets *@answered once pcscd has told the readers' states. */
static LONG
worker_watch (Worker       *worker,
              SCARDCONTEXT  context,
              gboolean     *answered)
{
  /* The last state seen of every reader (raw name -> dwEventState), so
   * that each wait starts from what was delivered and wakes only on news. */
  g_autoptr(GHashTable) known = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  DWORD pnp_state = SCARD_STATE_UNAWARE;
  LONG rv;

  for (;;)
    {
      g_autoptr(GPtrArray) names = NULL;
      g_autofree SCARD_READERSTATE *states = NULL;
      GArray *readers;
      guint n;

      /* pcsc-lite 1.9.9 only says "the list changed" through the
       * plug-and-play pseudo reader, so the list is read again after every
       * wake-up rather than trusted from before. */
      rv = list_readers (context, &names);
      if (rv != SCARD_S_SUCCESS)
        return rv;

      n = names->len;
      states = g_new0 (SCARD_READERSTATE, n + 1);
      for (guint i = 0; i < n; i++)
        {
          gpointer state;

          states[i].szReader = g_ptr_array_index (names, i);
          if (g_hash_table_lookup_extended (known, states[i].szReader, NULL, &state))
            states[i].dwCurrentState = GPOINTER_TO_UINT (state);
          else
            states[i].dwCurrentState = SCARD_STATE_UNAWARE;
        }
      states[n].szReader = PNP_NOTIFICATION;
      states[n].dwCurrentState = pnp_state;

      if (worker_is_stopping (worker))
        return SCARD_E_CANCELLED;

      rv = SCardGetStatusChange (context, WAIT_MILLISECONDS, states, n + 1);
      if (rv == SCARD_E_TIMEOUT)
        {
          /* dwEventState is still filled in: see WAIT_MILLISECONDS. */
          if (!readers_changed (states, n))
            continue;
          states[n].dwEventState = pnp_state;
        }
      else if (rv == SCARD_E_UNKNOWN_READER)
        {
          /* A reader went away between the listing and the wait. */
          g_debug ("SCardGetStatusChange: a reader went away; listing again");
          continue;
        }
      else if (rv != SCARD_S_SUCCESS)
        return rv;

      readers = g_array_sized_new (FALSE, TRUE, sizeof (ReaderSnapshot), n);
      g_array_set_clear_func (readers, reader_snapshot_clear);
      g_hash_table_remove_all (known);

      for (guint i = 0; i < n; i++)
        {
          DWORD event_state = states[i].dwEventState & ~SCARD_STATE_CHANGED;
          ReaderSnapshot snapshot = { 0, };

          /* A reader that was unplugged during the wait. */
          if (event_state & SCARD_STATE_UNKNOWN)
            continue;

          g_hash_table_insert (known, g_strdup (states[i].szReader), GUINT_TO_POINTER (event_state));

          snapshot.name = g_utf8_make_valid (states[i].szReader, -1);
          snapshot.state = state_from_event_state (event_state);
          snapshot.event_count = (event_state >> 16) & 0xFFFF;
          if ((event_state & SCARD_STATE_PRESENT) && states[i].cbAtr > 0)
            {
              GString *hex = g_string_new (NULL);

              for (DWORD j = 0; j < MIN (states[i].cbAtr, (DWORD) MAX_ATR_SIZE); j++)
                g_string_append_printf (hex, "%02X", states[i].rgbAtr[j]);
              snapshot.atr = g_string_free (hex, FALSE);
            }
          g_array_append_val (readers, snapshot);
        }
      pnp_state = states[n].dwEventState & ~SCARD_STATE_CHANGED;

      *answered = TRUE;
      worker_deliver (worker, TRUE, readers);
    }
}

static gpointer
worker_thread (gpointer data)
{
  Worker *worker = data;
  g_autoptr(GMainContext) thread_context = g_main_context_new ();
  gint64 pause = FIRST_PAUSE_USEC;
  gboolean told_unavailable = FALSE;

  /* g_main_context_invoke() runs the function right away, in this thread,
   * when the target is the calling thread's default context and nobody
   * owns it. Having a default context of its own keeps this thread from
   * ever running monitor code, even when the monitor lives on the global
   * default context and no main loop is running. */
  g_main_context_push_thread_default (thread_context);

  while (!worker_is_stopping (worker))
    {
      SCARDCONTEXT context;
      gboolean answered = FALSE;
      LONG rv;

      rv = SCardEstablishContext (SCARD_SCOPE_SYSTEM, NULL, NULL, &context);
      if (rv != SCARD_S_SUCCESS)
        {
          g_debug ("SCardEstablishContext: %s (0x%08lX)", pcsc_stringify_error (rv), (unsigned long) rv);
          if (!told_unavailable)
            worker_deliver (worker, FALSE, NULL);
          told_unavailable = TRUE;
          worker_pause (worker, &pause);
          continue;
        }

      if (!worker_set_context (worker, context))
        {
          SCardReleaseContext (context);
          break;
        }

      rv = worker_watch (worker, context, &answered);

      worker_clear_context (worker);
      SCardReleaseContext (context);

      if (worker_is_stopping (worker))
        break;

      g_debug ("Watching the readers stopped: %s (0x%08lX)", pcsc_stringify_error (rv), (unsigned long) rv);
      worker_deliver (worker, FALSE, NULL);
      told_unavailable = TRUE;

      /* pcscd answered, so it is probably restarting or was stopped just
       * now: try again soon. Something that fails without an answer waits
       * longer every time instead of spinning. */
      if (answered)
        pause = FIRST_PAUSE_USEC;
      else
        worker_pause (worker, &pause);
    }

  g_debug ("The reader monitor's worker thread ends");
  g_main_context_pop_thread_default (thread_context);
  worker_unref (worker);

  g_mutex_lock (&threads_mutex);
  n_threads--;
  if (ended_threads == NULL)
    ended_threads = g_ptr_array_new ();
  g_ptr_array_add (ended_threads, g_thread_self ());
  g_cond_broadcast (&threads_cond);
  g_mutex_unlock (&threads_mutex);
  return NULL;
}

/* The monitor, on its main context. */

static void
set_available (ImzalaReaderMonitor *self,
               gboolean             available,
               GError              *error)
{
  gboolean error_changed = (self->error != NULL) != (error != NULL);

  g_clear_error (&self->error);
  self->error = error;

  if (self->available != available)
    {
      self->available = available;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_AVAILABLE]);
    }
  if (error_changed)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ERROR]);
}

static void
remove_reader (ImzalaReaderMonitor *self,
               guint                position,
               gboolean             tell)
{
  g_autoptr(ImzalaReader) reader = g_object_ref (g_ptr_array_index (self->readers, position));

  if (tell && imzala_reader_get_has_card (reader))
    g_signal_emit (self, signals[SIGNAL_CARD_REMOVED], 0, reader);

  /* The handler may have stopped the monitor, which empties the list. */
  if (position >= self->readers->len || g_ptr_array_index (self->readers, position) != reader)
    return;

  g_hash_table_remove (self->event_counts, imzala_reader_get_name (reader));
  g_ptr_array_remove_index (self->readers, position);
  g_list_model_items_changed (G_LIST_MODEL (self), position, 1, 0);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_ITEMS]);
}

static void
remove_all_readers (ImzalaReaderMonitor *self,
                    gboolean             tell)
{
  while (self->readers->len > 0)
    remove_reader (self, self->readers->len - 1, tell);
}

static const ReaderSnapshot *
find_snapshot (GArray     *readers,
               const char *name)
{
  for (guint i = 0; i < readers->len; i++)
    {
      const ReaderSnapshot *snapshot = &g_array_index (readers, ReaderSnapshot, i);

      if (g_str_equal (snapshot->name, name))
        return snapshot;
    }
  return NULL;
}

static void
apply_snapshot (ImzalaReaderMonitor  *self,
                const ReaderSnapshot *snapshot)
{
  ImzalaReader *reader = imzala_reader_monitor_find_reader (self, snapshot->name);
  g_autoptr(ImzalaReader) reader_ref = NULL;
  gpointer last_count;
  gboolean had_card;
  gboolean swapped;

  if (reader == NULL)
    {
      reader_ref = imzala_reader_new (snapshot->name);
      imzala_reader_update (reader_ref, snapshot->state, snapshot->atr);
      g_hash_table_insert (self->event_counts, g_strdup (snapshot->name),
                           GUINT_TO_POINTER (snapshot->event_count));
      g_ptr_array_add (self->readers, g_object_ref (reader_ref));
      g_list_model_items_changed (G_LIST_MODEL (self), self->readers->len - 1, 0, 1);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_ITEMS]);
      if (imzala_reader_get_has_card (reader_ref))
        g_signal_emit (self, signals[SIGNAL_CARD_INSERTED], 0, reader_ref);
      return;
    }

  reader_ref = g_object_ref (reader);
  had_card = imzala_reader_get_has_card (reader);

  /* A card taken out and another put in between two wake-ups: the reader
   * had a card and has one, but pcscd counted the removal and the
   * insertion (or the answer to reset differs). */
  swapped = had_card && snapshot->state != IMZALA_READER_STATE_EMPTY
            && snapshot->state != IMZALA_READER_STATE_UNAVAILABLE
            && ((g_hash_table_lookup_extended (self->event_counts, snapshot->name, NULL, &last_count)
                 && GPOINTER_TO_UINT (last_count) != snapshot->event_count)
                || (imzala_reader_get_atr (reader) != NULL && snapshot->atr != NULL
                    && !g_str_equal (imzala_reader_get_atr (reader), snapshot->atr)));
  g_hash_table_insert (self->event_counts, g_strdup (snapshot->name),
                       GUINT_TO_POINTER (snapshot->event_count));

  if (swapped)
    {
      imzala_reader_update (reader, IMZALA_READER_STATE_EMPTY, NULL);
      g_signal_emit (self, signals[SIGNAL_CARD_REMOVED], 0, reader);
    }

  imzala_reader_update (reader, snapshot->state, snapshot->atr);

  if (had_card && !swapped && !imzala_reader_get_has_card (reader))
    g_signal_emit (self, signals[SIGNAL_CARD_REMOVED], 0, reader);
  else if ((!had_card || swapped) && imzala_reader_get_has_card (reader))
    g_signal_emit (self, signals[SIGNAL_CARD_INSERTED], 0, reader);
}

static void
apply_update (ImzalaReaderMonitor *self,
              Update              *update)
{
  if (!update->available)
    {
      /* Without pcscd nothing is known of the readers; a card that was in
       * one is as good as gone for whoever wanted to use it. */
      if (self->error == NULL)
        set_available (self, FALSE,
                       g_error_new_literal (IMZALA_ERROR, IMZALA_ERROR_PCSC_UNAVAILABLE,
                                            _("The smart card service (pcscd) is not running. "
                                              "Start it with: sudo systemctl start pcscd.socket")));
      remove_all_readers (self, TRUE);
      return;
    }

  set_available (self, TRUE, NULL);

  /* Readers unplugged first, then the changes and new readers in pcscd's
   * order. A signal handler may stop the monitor: check after each step. */
  for (guint i = self->readers->len; i > 0 && self->worker == update->worker; i--)
    {
      ImzalaReader *reader = g_ptr_array_index (self->readers, i - 1);

      if (find_snapshot (update->readers, imzala_reader_get_name (reader)) == NULL)
        remove_reader (self, i - 1, TRUE);
    }

  for (guint i = 0; i < update->readers->len && self->worker == update->worker; i++)
    apply_snapshot (self, &g_array_index (update->readers, ReaderSnapshot, i));
}

static gboolean
apply_update_cb (gpointer data)
{
  Update *update = data;
  g_autoptr(ImzalaReaderMonitor) self = g_weak_ref_get (&update->worker->monitor);

  /* From a worker that was stopped since, or a monitor that is gone. */
  if (self == NULL || self->worker != update->worker)
    return G_SOURCE_REMOVE;

  /* "available" and "error" are set first, so that a card-inserted handler
   * sees pcscd as there, but told only once the readers are in: whoever
   * reads the readers when pcscd first answers (the support report does)
   * must find pcscd's whole answer, not an empty list. */
  g_object_freeze_notify (G_OBJECT (self));
  apply_update (self, update);
  g_object_thaw_notify (G_OBJECT (self));

  return G_SOURCE_REMOVE;
}

/* GListModel */

static GType
imzala_reader_monitor_get_item_type (GListModel *model)
{
  return IMZALA_TYPE_READER;
}

static guint
imzala_reader_monitor_get_n_items (GListModel *model)
{
  return IMZALA_READER_MONITOR (model)->readers->len;
}

static gpointer
imzala_reader_monitor_get_item (GListModel *model,
                                guint       position)
{
  ImzalaReaderMonitor *self = IMZALA_READER_MONITOR (model);

  if (position >= self->readers->len)
    return NULL;
  return g_object_ref (g_ptr_array_index (self->readers, position));
}

static void
imzala_reader_monitor_list_model_init (GListModelInterface *iface)
{
  iface->get_item_type = imzala_reader_monitor_get_item_type;
  iface->get_n_items = imzala_reader_monitor_get_n_items;
  iface->get_item = imzala_reader_monitor_get_item;
}

/* GObject */

static void
imzala_reader_monitor_dispose (GObject *object)
{
  ImzalaReaderMonitor *self = IMZALA_READER_MONITOR (object);

  if (self->worker != NULL)
    {
      worker_stop (self->worker);
      g_clear_pointer (&self->worker, worker_unref);
    }
  g_ptr_array_set_size (self->readers, 0);

  G_OBJECT_CLASS (imzala_reader_monitor_parent_class)->dispose (object);
}

static void
imzala_reader_monitor_finalize (GObject *object)
{
  ImzalaReaderMonitor *self = IMZALA_READER_MONITOR (object);

  g_ptr_array_unref (self->readers);
  g_hash_table_unref (self->event_counts);
  g_clear_error (&self->error);
  g_main_context_unref (self->context);

  G_OBJECT_CLASS (imzala_reader_monitor_parent_class)->finalize (object);
}

static void
imzala_reader_monitor_get_property (GObject    *object,
                                    guint       prop_id,
                                    GValue     *value,
                                    GParamSpec *pspec)
{
  ImzalaReaderMonitor *self = IMZALA_READER_MONITOR (object);

  switch (prop_id)
    {
    case PROP_AVAILABLE:
      g_value_set_boolean (value, self->available);
      break;
    case PROP_ERROR:
      g_value_set_boxed (value, self->error);
      break;
    case PROP_N_ITEMS:
      g_value_set_uint (value, self->readers->len);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
imzala_reader_monitor_class_init (ImzalaReaderMonitorClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = imzala_reader_monitor_dispose;
  object_class->finalize = imzala_reader_monitor_finalize;
  object_class->get_property = imzala_reader_monitor_get_property;

  properties[PROP_AVAILABLE] =
    g_param_spec_boolean ("available", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_ERROR] =
    g_param_spec_boxed ("error", NULL, NULL, G_TYPE_ERROR,
                        G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  /* The number of readers, for bindings (an empty page when 0). */
  properties[PROP_N_ITEMS] =
    g_param_spec_uint ("n-items", NULL, NULL, 0, G_MAXUINT, 0,
                       G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);

  signals[SIGNAL_CARD_INSERTED] =
    g_signal_new ("card-inserted",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1, IMZALA_TYPE_READER);
  signals[SIGNAL_CARD_REMOVED] =
    g_signal_new ("card-removed",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1, IMZALA_TYPE_READER);
}

static void
imzala_reader_monitor_init (ImzalaReaderMonitor *self)
{
  self->context = g_main_context_ref_thread_default ();
  self->readers = g_ptr_array_new_with_free_func (g_object_unref);
  self->event_counts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
}

ImzalaReaderMonitor *
imzala_reader_monitor_new (void)
{
  return g_object_new (IMZALA_TYPE_READER_MONITOR, NULL);
}

void
imzala_reader_monitor_start (ImzalaReaderMonitor *self)
{
  g_return_if_fail (IMZALA_IS_READER_MONITOR (self));

  if (self->worker != NULL)
    return;

  self->worker = worker_new (self);
  /* stop() does not join the thread, so that it cannot block: the thread
   * holds its own reference to the shared state and ends by itself; the
   * next start() or imzala_reader_monitor_wait_for_threads() joins it once
   * it has (with the reference kept here, which g_thread_self() gives the
   * thread back). */
  g_mutex_lock (&threads_mutex);
  join_ended_threads_locked ();
  n_threads++;
  g_mutex_unlock (&threads_mutex);
  (void) g_thread_new ("imzala-pcsc", worker_thread, worker_ref (self->worker));
}

void
imzala_reader_monitor_stop (ImzalaReaderMonitor *self)
{
  g_return_if_fail (IMZALA_IS_READER_MONITOR (self));

  if (self->worker == NULL)
    return;

  worker_stop (self->worker);
  g_clear_pointer (&self->worker, worker_unref);

  remove_all_readers (self, FALSE);
  g_hash_table_remove_all (self->event_counts);
  set_available (self, FALSE, NULL);
}

gboolean
imzala_reader_monitor_wait_for_threads (guint timeout_ms)
{
  gint64 end_time = g_get_monotonic_time () + (gint64) timeout_ms * G_TIME_SPAN_MILLISECOND;
  gboolean ended;

  g_mutex_lock (&threads_mutex);
  while (n_threads > 0 && g_cond_wait_until (&threads_cond, &threads_mutex, end_time))
    ;
  ended = n_threads == 0;
  join_ended_threads_locked ();
  g_mutex_unlock (&threads_mutex);

  if (!ended)
    g_debug ("A reader monitor's thread did not end in %u ms", timeout_ms);
  return ended;
}

gboolean
imzala_reader_monitor_get_available (ImzalaReaderMonitor *self)
{
  g_return_val_if_fail (IMZALA_IS_READER_MONITOR (self), FALSE);

  return self->available;
}

const GError *
imzala_reader_monitor_get_error (ImzalaReaderMonitor *self)
{
  g_return_val_if_fail (IMZALA_IS_READER_MONITOR (self), NULL);

  return self->error;
}

ImzalaReader *
imzala_reader_monitor_find_reader (ImzalaReaderMonitor *self,
                                   const char          *name)
{
  g_return_val_if_fail (IMZALA_IS_READER_MONITOR (self), NULL);
  g_return_val_if_fail (name != NULL, NULL);

  for (guint i = 0; i < self->readers->len; i++)
    {
      ImzalaReader *reader = g_ptr_array_index (self->readers, i);

      if (g_str_equal (imzala_reader_get_name (reader), name))
        return reader;
    }
  return NULL;
}

ImzalaReader *
imzala_reader_monitor_find_reader_for_token (ImzalaReaderMonitor *self,
                                             ImzalaToken         *token)
{
  g_return_val_if_fail (IMZALA_IS_READER_MONITOR (self), NULL);
  g_return_val_if_fail (IMZALA_IS_TOKEN (token), NULL);

  for (guint i = 0; i < self->readers->len; i++)
    {
      ImzalaReader *reader = g_ptr_array_index (self->readers, i);

      if (imzala_reader_matches_token (reader, token))
        return reader;
    }
  return NULL;
}
