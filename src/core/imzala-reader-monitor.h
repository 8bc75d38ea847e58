/* imzala-reader-monitor.h: the PC/SC readers and cards, followed live.
 *
 * A worker thread waits on pcscd (SCardGetStatusChange on every reader and
 * on the plug-and-play pseudo reader) and hands every change to the
 * GMainContext that was the thread-default one when the monitor was made.
 * There, and only there, the list of readers changes (GListModel of
 * ImzalaReader, items-changed when a reader is plugged in or out), the
 * readers' properties change, and the signals are emitted:
 *
 *   card-inserted (ImzalaReader *reader)  a card went in (or was there at start)
 *   card-removed  (ImzalaReader *reader)  a card came out (or its reader went away)
 *
 * Properties: "available" is TRUE while pcscd answers; when it does not,
 * "error" holds an IMZALA_ERROR_PCSC_UNAVAILABLE error whose message tells
 * the user how to start it, the list is empty, and the monitor keeps trying
 * to reconnect (with a growing pause, at most a few seconds), so starting
 * pcscd later is noticed by itself. Before the first answer after
 * imzala_reader_monitor_start() both are unset (FALSE and NULL): not known yet.
 * No reader at all is not an error: the list is simply empty.
 *
 * Cards and readers coming and going are seen at once. A card that another
 * program opens turns IMZALA_READER_STATE_IN_USE within a few seconds
 * only, because pcscd does not report that as a change.
 *
 * No call blocks the caller's thread.
 */
#pragma once

#include <gio/gio.h>

#include "imzala-reader.h"

G_BEGIN_DECLS

#define IMZALA_TYPE_READER_MONITOR (imzala_reader_monitor_get_type ())
G_DECLARE_FINAL_TYPE (ImzalaReaderMonitor, imzala_reader_monitor, IMZALA, READER_MONITOR, GObject)

ImzalaReaderMonitor *imzala_reader_monitor_new (void);

/* Starts the worker thread; does nothing if it runs already. */
void          imzala_reader_monitor_start         (ImzalaReaderMonitor *self);
/* Stops watching (SCardCancel) without waiting for the thread; the list is
 * emptied (without card-removed signals). start() may be called again. */
void          imzala_reader_monitor_stop          (ImzalaReaderMonitor *self);
/* Waits up to @timeout_ms for the threads of every stopped monitor to
 * end; FALSE if one still runs. A program calls it before it exits: a
 * thread still inside libpcsclite when the process exits crashes it there
 * (imzala-cli did, now and then, after its answer was printed). */
gboolean      imzala_reader_monitor_wait_for_threads (guint timeout_ms);

gboolean      imzala_reader_monitor_get_available (ImzalaReaderMonitor *self);
/* The reason pcscd cannot be used, or NULL. Borrowed. */
const GError *imzala_reader_monitor_get_error     (ImzalaReaderMonitor *self);
/* The reader called @name, or NULL. Borrowed. */
ImzalaReader *imzala_reader_monitor_find_reader   (ImzalaReaderMonitor *self,
                                                   const char          *name);
/* The reader holding @token (by its slot description), or NULL. Borrowed. */
ImzalaReader *imzala_reader_monitor_find_reader_for_token (ImzalaReaderMonitor *self,
                                                           ImzalaToken         *token);

G_END_DECLS
