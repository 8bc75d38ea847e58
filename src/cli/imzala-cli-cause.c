/* imzala-cli-cause.c: why the command found no card it can use, in the same
 * words as the window (imzala_card_cause_find()): a card that no module
 * knows, pcscd not running, no reader. */
#define G_LOG_DOMAIN "imzala-cli"

#include "config.h"

#include "imzala-cli.h"

/* pcscd answers at once when it runs (the first wait of the monitor asks
 * for the readers' states as they are); this only bounds a pcscd that
 * hangs. */
#define PCSC_ANSWER_TIMEOUT_SECONDS 3

static gboolean
timeout_cb (gpointer user_data)
{
  gboolean *timed_out = user_data;

  *timed_out = TRUE;
  return G_SOURCE_REMOVE;
}

GError *
imzala_cli_explain_tokens (GPtrArray *tokens)
{
  g_autoptr(ImzalaReaderMonitor) monitor = imzala_reader_monitor_new ();
  ImzalaReader *reader = NULL;
  ImzalaCardCause cause;
  gboolean timed_out = FALSE;
  gboolean answered;
  guint timeout_id;
  GError *error;

  /* The monitor tells on this thread's main context, which nothing else
   * runs while a command lists its cards. */
  imzala_reader_monitor_start (monitor);
  timeout_id = g_timeout_add_seconds (PCSC_ANSWER_TIMEOUT_SECONDS, timeout_cb, &timed_out);
  while (!timed_out
         && !imzala_reader_monitor_get_available (monitor)
         && imzala_reader_monitor_get_error (monitor) == NULL)
    g_main_context_iteration (NULL, TRUE);
  if (!timed_out)
    g_source_remove (timeout_id);

  answered = imzala_reader_monitor_get_available (monitor);
  cause = imzala_card_cause_find (answered ? G_LIST_MODEL (monitor) : NULL,
                                  imzala_reader_monitor_get_error (monitor),
                                  tokens, &reader);
  error = imzala_card_cause_to_error (cause, reader);
  imzala_reader_monitor_stop (monitor);
  /* The monitor's thread ends once SCardCancel has woken it. `list` makes
   * card calls after this (printing, logging out) on its main thread, which
   * must then be the process's only one, as for every other card call of a
   * single-thread module set (/cli/thread-affine-counts). Since libpcsclite
   * is loaded when first called, by that thread, it outlived this function
   * often enough to be seen. Bounded for a pcscd that hangs. */
  imzala_reader_monitor_wait_for_threads (PCSC_ANSWER_TIMEOUT_SECONDS * 1000);
  return error;
}
