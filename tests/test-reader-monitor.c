/* test-reader-monitor.c: ImzalaReaderMonitor against a real pcscd with the
 * vsmartcard virtual reader driver (vpcd) and a virtual card (vicc), run by
 * imzala-test-pcsc.c (a pcscd of the test's own in a mount namespace).
 */
#define G_LOG_DOMAIN "test-reader-monitor"

#include "config.h"

#include <string.h>
#include <winscard.h>

#include "imzala-reader-private.h"
#include "imzala-test.h"
#include "imzala-test-pcsc.h"

#define READER_0 IMZALA_TEST_PCSC_READER_0
#define READER_1 IMZALA_TEST_PCSC_READER_1
#define VICC_ATR IMZALA_TEST_PCSC_VICC_ATR

/* Watching a monitor. */

typedef struct
{
  ImzalaReaderMonitor *monitor;
  GPtrArray           *inserted; /* ImzalaReader, in order */
  GPtrArray           *removed;
  guint                items_changed;
} Watch;

static void
card_inserted_cb (ImzalaReaderMonitor *monitor,
                  ImzalaReader        *reader,
                  Watch               *watch)
{
  g_assert_true (IMZALA_IS_READER (reader));
  g_assert_true (imzala_reader_get_has_card (reader));
  g_ptr_array_add (watch->inserted, g_object_ref (reader));
}

static void
card_removed_cb (ImzalaReaderMonitor *monitor,
                 ImzalaReader        *reader,
                 Watch               *watch)
{
  g_assert_true (IMZALA_IS_READER (reader));
  g_ptr_array_add (watch->removed, g_object_ref (reader));
}

static void
items_changed_cb (GListModel *model,
                  guint       position,
                  guint       removed,
                  guint       added,
                  Watch      *watch)
{
  watch->items_changed++;
}

static Watch *
watch_new (void)
{
  Watch *watch = g_new0 (Watch, 1);

  watch->monitor = imzala_reader_monitor_new ();
  watch->inserted = g_ptr_array_new_with_free_func (g_object_unref);
  watch->removed = g_ptr_array_new_with_free_func (g_object_unref);
  g_signal_connect (watch->monitor, "card-inserted", G_CALLBACK (card_inserted_cb), watch);
  g_signal_connect (watch->monitor, "card-removed", G_CALLBACK (card_removed_cb), watch);
  g_signal_connect (watch->monitor, "items-changed", G_CALLBACK (items_changed_cb), watch);
  imzala_reader_monitor_start (watch->monitor);

  return watch;
}

static void
watch_free (Watch *watch)
{
  imzala_reader_monitor_stop (watch->monitor);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (watch->monitor)), ==, 0);
  g_signal_handlers_disconnect_by_data (watch->monitor, watch);
  g_object_unref (watch->monitor);
  g_ptr_array_unref (watch->inserted);
  g_ptr_array_unref (watch->removed);
  g_free (watch);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Watch, watch_free)

static gboolean
has_both_readers (gpointer data)
{
  Watch *watch = data;

  return imzala_reader_monitor_get_available (watch->monitor)
         && imzala_reader_monitor_find_reader (watch->monitor, READER_0) != NULL
         && imzala_reader_monitor_find_reader (watch->monitor, READER_1) != NULL;
}

static gboolean
is_unavailable (gpointer data)
{
  Watch *watch = data;

  return !imzala_reader_monitor_get_available (watch->monitor)
         && imzala_reader_monitor_get_error (watch->monitor) != NULL;
}

static gboolean
has_inserted (gpointer data)
{
  return ((Watch *) data)->inserted->len > 0;
}

static gboolean
has_removed (gpointer data)
{
  return ((Watch *) data)->removed->len > 0;
}

typedef struct
{
  ImzalaReader      *reader;
  ImzalaReaderState  state;
} StateWait;

static gboolean
reader_in_state (gpointer data)
{
  StateWait *wait = data;

  return imzala_reader_get_state (wait->reader) == wait->state;
}

/* The tests. */

static void
test_readers (void)
{
  g_autoptr(Watch) watch = NULL;
  GListModel *model;
  ImzalaReader *reader;
  guint n_items;

  if (!imzala_test_pcsc_require ())
    return;

  watch = watch_new ();
  model = G_LIST_MODEL (watch->monitor);
  g_assert_true (g_list_model_get_item_type (model) == IMZALA_TYPE_READER);

  g_assert_true (imzala_test_wait_until (has_both_readers, watch, "the two virtual readers"));
  g_assert_no_error ((GError *) imzala_reader_monitor_get_error (watch->monitor));
  g_assert_cmpuint (watch->items_changed, >=, 1);

  n_items = g_list_model_get_n_items (model);
  g_assert_cmpuint (n_items, >=, 2);
  for (guint i = 0; i < n_items; i++)
    {
      g_autoptr(ImzalaReader) item = g_list_model_get_item (model, i);

      g_assert_true (IMZALA_IS_READER (item));
      g_assert_true (imzala_reader_monitor_find_reader (watch->monitor, imzala_reader_get_name (item)) == item);
    }
  g_assert_null (g_list_model_get_item (model, n_items));

  for (guint i = 0; i < 2; i++)
    {
      reader = imzala_reader_monitor_find_reader (watch->monitor, i == 0 ? READER_0 : READER_1);
      g_assert_cmpstr (imzala_reader_get_name (reader), ==, i == 0 ? READER_0 : READER_1);
      g_assert_cmpint (imzala_reader_get_state (reader), ==, IMZALA_READER_STATE_EMPTY);
      g_assert_false (imzala_reader_get_has_card (reader));
      g_assert_null (imzala_reader_get_atr (reader));
      g_assert_cmpstr (imzala_reader_get_state_text (reader), ==, "No card");
    }

  /* No card was ever in them. */
  g_assert_cmpuint (watch->inserted->len, ==, 0);
  g_assert_cmpuint (watch->removed->len, ==, 0);
}

static void
test_card (void)
{
  g_autoptr(Watch) watch = NULL;
  ImzalaReader *reader;
  SCARDCONTEXT context;
  SCARDHANDLE card;
  DWORD protocol;
  StateWait state_wait;
  gboolean has_card = FALSE;
  LONG rv;

  if (!imzala_test_pcsc_require ())
    return;

  watch = watch_new ();
  g_assert_true (imzala_test_wait_until (has_both_readers, watch, "the two virtual readers"));
  reader = imzala_reader_monitor_find_reader (watch->monitor, READER_0);
  g_assert_cmpint (imzala_reader_get_state (reader), ==, IMZALA_READER_STATE_EMPTY);

  /* Starting vicc puts a card into reader 00 00. */
  imzala_test_pcsc_vicc_start (0);
  g_assert_true (imzala_test_wait_until (has_inserted, watch, "card-inserted"));
  g_assert_cmpuint (watch->inserted->len, ==, 1);
  g_assert_true (g_ptr_array_index (watch->inserted, 0) == reader);
  g_assert_cmpstr (imzala_reader_get_name (reader), ==, READER_0);
  g_assert_true (imzala_reader_get_has_card (reader));
  g_object_get (reader, "has-card", &has_card, NULL);
  g_assert_true (has_card);
  g_assert_cmpstr (imzala_reader_get_atr (reader), ==, VICC_ATR);
  g_assert_cmpint (imzala_reader_get_state (reader), ==, IMZALA_READER_STATE_PRESENT);
  g_assert_cmpint (imzala_reader_get_state (imzala_reader_monitor_find_reader (watch->monitor, READER_1)),
                   ==, IMZALA_READER_STATE_EMPTY);

  /* Another program opening the card shows as "in use". */
  rv = SCardEstablishContext (SCARD_SCOPE_SYSTEM, NULL, NULL, &context);
  g_assert_cmphex (rv, ==, SCARD_S_SUCCESS);
  rv = SCardConnect (context, READER_0, SCARD_SHARE_SHARED, SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1,
                     &card, &protocol);
  g_assert_cmphex (rv, ==, SCARD_S_SUCCESS);
  state_wait = (StateWait) { reader, IMZALA_READER_STATE_IN_USE };
  g_assert_true (imzala_test_wait_until (reader_in_state, &state_wait, "the card in use"));
  g_assert_true (imzala_reader_get_has_card (reader));
  SCardDisconnect (card, SCARD_LEAVE_CARD);
  SCardReleaseContext (context);
  state_wait = (StateWait) { reader, IMZALA_READER_STATE_PRESENT };
  g_assert_true (imzala_test_wait_until (reader_in_state, &state_wait, "the card no longer in use"));
  /* Being opened and closed is not a new card. */
  g_assert_cmpuint (watch->inserted->len, ==, 1);
  g_assert_cmpuint (watch->removed->len, ==, 0);

  /* Ending vicc takes the card out. */
  imzala_test_pcsc_vicc_stop ();
  g_assert_true (imzala_test_wait_until (has_removed, watch, "card-removed"));
  g_assert_cmpuint (watch->removed->len, ==, 1);
  g_assert_true (g_ptr_array_index (watch->removed, 0) == reader);
  g_assert_cmpint (imzala_reader_get_state (reader), ==, IMZALA_READER_STATE_EMPTY);
  g_assert_false (imzala_reader_get_has_card (reader));
  g_assert_null (imzala_reader_get_atr (reader));
  /* The reader itself stays. */
  g_assert_true (imzala_reader_monitor_find_reader (watch->monitor, READER_0) == reader);
}

/* A monitor started while the card is in already tells of it too. */
static void
test_card_at_start (void)
{
  g_autoptr(Watch) watch = NULL;
  g_autoptr(Watch) first = NULL;
  ImzalaReader *reader;
  gint64 start_time;

  if (!imzala_test_pcsc_require ())
    return;

  /* A first monitor only to know when the card is in. */
  first = watch_new ();
  imzala_test_pcsc_vicc_start (1);
  g_assert_true (imzala_test_wait_until (has_inserted, first, "card-inserted"));

  watch = watch_new ();
  g_assert_true (imzala_test_wait_until (has_inserted, watch, "card-inserted at start"));
  reader = g_ptr_array_index (watch->inserted, 0);
  g_assert_cmpstr (imzala_reader_get_name (reader), ==, READER_1);
  g_assert_cmpstr (imzala_reader_get_atr (reader), ==, VICC_ATR);
  g_assert_true (imzala_reader_monitor_find_reader (watch->monitor, READER_1) == reader);

  /* Stopping empties the list without card-removed: nothing was removed. */
  start_time = g_get_monotonic_time ();
  imzala_reader_monitor_stop (watch->monitor);
  g_test_message ("stop() took %" G_GINT64_FORMAT " us", g_get_monotonic_time () - start_time);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (watch->monitor)), ==, 0);
  g_assert_false (imzala_reader_monitor_get_available (watch->monitor));
  g_assert_cmpuint (watch->removed->len, ==, 0);

  /* And it can start again. */
  g_ptr_array_set_size (watch->inserted, 0);
  imzala_reader_monitor_start (watch->monitor);
  g_assert_true (imzala_test_wait_until (has_inserted, watch, "card-inserted after a restart"));
  g_assert_cmpstr (imzala_reader_get_name (g_ptr_array_index (watch->inserted, 0)), ==, READER_1);

  imzala_test_pcsc_vicc_stop ();
  g_assert_true (imzala_test_wait_until (has_removed, watch, "card-removed"));
}

static void
assert_pcsc_unavailable (Watch *watch)
{
  const GError *error = imzala_reader_monitor_get_error (watch->monitor);
  g_autoptr(GError) property = NULL;

  g_assert_error ((GError *) error, IMZALA_ERROR, IMZALA_ERROR_PCSC_UNAVAILABLE);
  g_assert_cmpstr (error->message, ==,
                   "The smart card service (pcscd) is not running. "
                   "Start it with: sudo systemctl start pcscd.socket");
  g_object_get (watch->monitor, "error", &property, NULL);
  g_assert_error (property, IMZALA_ERROR, IMZALA_ERROR_PCSC_UNAVAILABLE);
  g_assert_false (imzala_reader_monitor_get_available (watch->monitor));
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (watch->monitor)), ==, 0);
}

static void
test_service (void)
{
  g_autoptr(Watch) watch = NULL;
  g_autoptr(Watch) late = NULL;
  ImzalaReader *reader;

  if (!imzala_test_pcsc_require ())
    return;

  watch = watch_new ();
  g_assert_true (imzala_test_wait_until (has_both_readers, watch, "the two virtual readers"));

  /* A card in a reader when pcscd goes away is gone for the user too. */
  imzala_test_pcsc_vicc_start (0);
  g_assert_true (imzala_test_wait_until (has_inserted, watch, "card-inserted"));
  reader = g_ptr_array_index (watch->inserted, 0);

  imzala_test_pcsc_pcscd_stop ();
  g_assert_true (imzala_test_wait_until (is_unavailable, watch, "available to go FALSE"));
  assert_pcsc_unavailable (watch);
  g_assert_cmpuint (watch->removed->len, ==, 1);
  g_assert_true (g_ptr_array_index (watch->removed, 0) == reader);
  imzala_test_pcsc_vicc_stop ();

  /* A monitor started while pcscd is down says so. */
  late = watch_new ();
  g_assert_true (imzala_test_wait_until (is_unavailable, late, "the error without pcscd"));
  assert_pcsc_unavailable (late);

  /* Both notice pcscd coming back, by themselves. */
  imzala_test_pcsc_pcscd_start ();
  g_assert_true (imzala_test_wait_until (has_both_readers, watch, "the readers after pcscd came back"));
  g_assert_true (imzala_test_wait_until (has_both_readers, late, "the readers after pcscd came back"));
  g_assert_null (imzala_reader_monitor_get_error (watch->monitor));
  g_assert_null (imzala_reader_monitor_get_error (late->monitor));
  g_assert_true (imzala_reader_monitor_get_available (late->monitor));
}

/* OpenSC puts the reader name into the 64-byte slot description. */
static void
test_matches_slot_description (void)
{
  g_autoptr(ImzalaReader) reader = imzala_reader_new (READER_0);
  g_autoptr(ImzalaReader) other = imzala_reader_new (READER_1);
  /* 70 bytes; "İ" (2 bytes) straddles the 64-byte cut. */
  const char *long_name = "Gemalto PC Twin Reader (ABCDEF0123456789) Kart Okuyucu X ABCD İZMIR 00 00";
  g_autoptr(ImzalaReader) long_reader = imzala_reader_new (long_name);
  g_autofree char *padded = g_strdup_printf ("%-64s", READER_0);
  char cut[65] = { 0, };
  g_autofree char *cut_replaced = NULL;

  g_assert_true (imzala_reader_matches_slot_description (reader, READER_0));
  g_assert_true (imzala_reader_matches_slot_description (reader, padded));
  g_assert_false (imzala_reader_matches_slot_description (other, padded));
  g_assert_false (imzala_reader_matches_slot_description (reader, "Virtual PCD 00 0"));
  g_assert_false (imzala_reader_matches_slot_description (other, READER_0));
  g_assert_false (imzala_reader_matches_slot_description (reader, ""));
  g_assert_false (imzala_reader_matches_slot_description (reader, NULL));
  g_assert_false (imzala_reader_matches_slot_description (reader, "                "));

  /* A name longer than the field, cut in the middle of "İ", either raw or
   * with the broken character made U+FFFD by ImzalaToken. */
  g_assert_cmpuint (strlen (long_name), >, 64);
  memcpy (cut, long_name, 64);
  g_assert_true (imzala_reader_matches_slot_description (long_reader, cut));
  cut_replaced = g_utf8_make_valid (cut, -1);
  g_assert_true (imzala_reader_matches_slot_description (long_reader, cut_replaced));
  g_assert_false (imzala_reader_matches_slot_description (reader, cut));
  cut[10] = 'x';
  g_assert_false (imzala_reader_matches_slot_description (long_reader, cut));
  /* A short description is never a cut name. */
  g_assert_false (imzala_reader_matches_slot_description (long_reader, "Gemalto PC Twin Reader"));
}

/* imzala_reader_matches_token() on real tokens (SoftHSM's slots). */
static void
test_matches_token (void)
{
  g_autoptr(ImzalaTestFixture) fixture = imzala_test_fixture_new ();
  g_autoptr(ImzalaModuleSet) modules = NULL;
  g_autoptr(GPtrArray) tokens = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(ImzalaReader) reader = imzala_reader_new (READER_0);

  modules = imzala_test_fixture_load (fixture, &error);
  g_assert_no_error (error);
  tokens = imzala_module_set_list_tokens (modules, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (tokens->len, >=, 2);

  for (guint i = 0; i < tokens->len; i++)
    {
      ImzalaToken *token = g_ptr_array_index (tokens, i);
      const char *description = imzala_token_get_slot_description (token);
      g_autoptr(ImzalaReader) slot_reader = imzala_reader_new (description);

      g_assert_true (imzala_reader_matches_token (slot_reader, token));
      g_assert_false (imzala_reader_matches_token (reader, token));
      for (guint j = 0; j < tokens->len; j++)
        {
          ImzalaToken *other = g_ptr_array_index (tokens, j);

          if (!g_str_equal (imzala_token_get_slot_description (other), description))
            g_assert_false (imzala_reader_matches_token (slot_reader, other));
        }
    }
}

/* When "available" is told, the readers are already in: the support report
 * reads them right then. */
static void
available_notify_cb (GObject    *object,
                     GParamSpec *pspec,
                     gpointer    user_data)
{
  ImzalaReaderMonitor *monitor = IMZALA_READER_MONITOR (object);
  int *n_readers = user_data;

  if (imzala_reader_monitor_get_available (monitor) && *n_readers < 0)
    *n_readers = g_list_model_get_n_items (G_LIST_MODEL (monitor));
}

static gboolean
has_told (gpointer data)
{
  return *(int *) data >= 0;
}

static void
test_available_with_readers (void)
{
  g_autoptr(ImzalaReaderMonitor) monitor = NULL;
  int n_readers = -1;

  if (!imzala_test_pcsc_require ())
    return;

  monitor = imzala_reader_monitor_new ();
  g_signal_connect (monitor, "notify::available", G_CALLBACK (available_notify_cb), &n_readers);
  imzala_reader_monitor_start (monitor);
  g_assert_true (imzala_test_wait_until (has_told, &n_readers, "notify::available"));
  g_assert_cmpint (n_readers, >=, 2);
  g_assert_nonnull (imzala_reader_monitor_find_reader (monitor, READER_0));
  imzala_reader_monitor_stop (monitor);
}

int
main (int argc, char *argv[])
{
  int status;

  g_test_init (&argc, &argv, NULL);
  imzala_test_pcsc_setup ();

  g_test_add_func ("/reader/matches-slot-description", test_matches_slot_description);
  g_test_add_func ("/reader/matches-token", test_matches_token);
  g_test_add_func ("/reader-monitor/readers", test_readers);
  g_test_add_func ("/reader-monitor/card", test_card);
  g_test_add_func ("/reader-monitor/card-at-start", test_card_at_start);
  g_test_add_func ("/reader-monitor/service", test_service);
  g_test_add_func ("/reader-monitor/available-with-readers", test_available_with_readers);

  status = g_test_run ();

  imzala_test_pcsc_teardown ();

  return status;
}
