/* test-reader-monitor.c: ImzalaReaderMonitor against a real pcscd with the
 * vsmartcard virtual reader driver (vpcd) and a virtual card (vicc).
 *
 * The test runs a pcscd of its own, so that it can stop and restart it and
 * so that a pcscd of the machine is left alone. pcsc-lite 1.9.9 takes the
 * socket path from PCSCLITE_CSOCK_NAME in the client library only; the
 * daemon always uses /run/pcscd/pcscd.comm. So pcscd runs in a mount
 * namespace of its own (unshare --mount, which needs root) where a temporary
 * folder is mounted over /run/pcscd, and this process points
 * PCSCLITE_CSOCK_NAME at the socket in that folder. Where no mount namespace
 * can be made, pcscd runs on the usual socket if no other pcscd uses it;
 * otherwise the tests are skipped. The vpcd driver listens on a free TCP
 * port pair chosen here (reader 00 00 on the first, 00 01 on the second),
 * not on its default 35963, through a reader.conf.d folder of the test's own.
 *
 * Every child gets SIGTERM when this process dies (PR_SET_PDEATHSIG), so a
 * failed assertion leaves no pcscd or vicc behind.
 */
#define G_LOG_DOMAIN "test-reader-monitor"

#include "config.h"

#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <glib/gstdio.h>
#include <winscard.h>

#include "imzala-reader-private.h"
#include "imzala-test.h"

#define PCSCD "/usr/sbin/pcscd"
#define VPCD_DRIVER "/usr/lib/pcsc/drivers/serial/libifdvpcd.so"
#define VICC "/usr/bin/vicc"
#define PYTHON "/usr/bin/python3"
/* Debian 12's python3-virtualsmartcard installs its module one folder too
 * deep, and vicc imports Crypto while python3-pycryptodome installs
 * Cryptodome: both are put right through PYTHONPATH. */
#define VIRTUALSMARTCARD_DIR "/usr/lib/python3/site-packages/virtualsmartcard"
#define CRYPTODOME_DIR "/usr/lib/python3/dist-packages/Cryptodome"
#define SYSTEM_SOCKET "/run/pcscd/pcscd.comm"

#define READER_0 "Virtual PCD 00 00"
#define READER_1 "Virtual PCD 00 01"
/* The answer to reset of vicc's iso7816 card. */
#define VICC_ATR "3B951381018073FF01000B"

/* Generous: a loaded CI machine may take seconds to start Python. */
#define WAIT_SECONDS 60

typedef struct
{
  char        *dir;
  char        *run_dir;     /* mounted over /run/pcscd in pcscd's namespace */
  char        *config_dir;  /* pcscd -c: the vpcd entry on our ports */
  char        *python_dir;  /* the Crypto link */
  guint16      port;        /* reader 00 00; port + 1 is reader 00 01 */
  gboolean     private_namespace;
  GSubprocess *pcscd;
  GSubprocess *vicc;
} Pcsc;

static Pcsc pcsc;
static char *setup_failure;
static char *skip_reason;
static pid_t test_pid;

/* Children. */

static void
child_setup (gpointer data)
{
  /* Dies with the test, even when an assertion aborts it. */
  prctl (PR_SET_PDEATHSIG, SIGTERM);
  if (getppid () != test_pid)
    _exit (1);
}

static GSubprocessLauncher *
launcher_new (void)
{
  GSubprocessLauncher *launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_NONE);
  int fd = dup (STDERR_FILENO);

  /* pcscd -f logs to stdout, which is the TAP stream: send it to stderr. */
  g_assert_cmpint (fd, >=, 0);
  g_subprocess_launcher_take_stdout_fd (launcher, fd);
  g_subprocess_launcher_set_child_setup (launcher, child_setup, NULL, NULL);

  return launcher;
}

static void
wait_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  gboolean *done = user_data;

  g_subprocess_wait_finish (G_SUBPROCESS (source), result, NULL);
  *done = TRUE;
}

static gboolean
timeout_cb (gpointer user_data)
{
  gboolean *timed_out = user_data;

  *timed_out = TRUE;
  return G_SOURCE_REMOVE;
}

/* Ends @process (SIGTERM, then SIGKILL after a while) and waits for it. */
static void
process_end (GSubprocess **process)
{
  gboolean done = FALSE;
  gboolean timed_out = FALSE;
  guint timeout_id;

  if (*process == NULL)
    return;

  g_subprocess_send_signal (*process, SIGTERM);
  g_subprocess_wait_async (*process, NULL, wait_cb, &done);
  timeout_id = g_timeout_add_seconds (20, timeout_cb, &timed_out);
  while (!done && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  if (!done)
    {
      g_subprocess_force_exit (*process);
      while (!done)
        g_main_context_iteration (NULL, TRUE);
    }
  else
    g_source_remove (timeout_id);

  g_clear_object (process);
}

typedef gboolean (*Condition) (gpointer data);

/* Runs the main context until @condition holds; FALSE after WAIT_SECONDS. */
static gboolean
wait_until (Condition    condition,
            gpointer     data,
            const char  *what)
{
  gboolean timed_out = FALSE;
  guint timeout_id = g_timeout_add_seconds (WAIT_SECONDS, timeout_cb, &timed_out);

  while (!condition (data) && !timed_out)
    g_main_context_iteration (NULL, TRUE);

  if (timed_out)
    {
      g_test_message ("gave up waiting for %s", what);
      return FALSE;
    }
  g_source_remove (timeout_id);
  return TRUE;
}

static gboolean
poll_cb (gpointer data)
{
  return G_SOURCE_CONTINUE;
}

static gboolean
socket_exists (gpointer data)
{
  return g_file_test (data, G_FILE_TEST_EXISTS);
}

static gboolean
socket_gone (gpointer data)
{
  return !g_file_test (data, G_FILE_TEST_EXISTS);
}

static char *
socket_path (void)
{
  return pcsc.private_namespace ? g_build_filename (pcsc.run_dir, "pcscd.comm", NULL)
                                : g_strdup (SYSTEM_SOCKET);
}

static void
pcscd_start (void)
{
  g_autoptr(GSubprocessLauncher) launcher = launcher_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *socket = socket_path ();
  guint poll_id;

  g_assert_null (pcsc.pcscd);

  if (pcsc.private_namespace)
    pcsc.pcscd = g_subprocess_launcher_spawn (launcher, &error,
                                              "unshare", "--mount", "--propagation", "private", "--",
                                              "/bin/sh", "-c",
                                              "mount --bind \"$1\" /run/pcscd && exec \"$2\" -f -c \"$3\"",
                                              "sh", pcsc.run_dir, PCSCD, pcsc.config_dir, NULL);
  else
    pcsc.pcscd = g_subprocess_launcher_spawn (launcher, &error,
                                              PCSCD, "-f", "-c", pcsc.config_dir, NULL);
  g_assert_no_error (error);

  /* The socket appears once pcscd listens; poll for it. */
  poll_id = g_timeout_add (100, poll_cb, NULL);
  g_assert_true (wait_until (socket_exists, socket, "pcscd's socket"));
  g_source_remove (poll_id);
}

static void
pcscd_stop (void)
{
  g_autofree char *socket = socket_path ();
  guint poll_id;

  process_end (&pcsc.pcscd);

  /* pcscd removes its socket when it ends on SIGTERM. */
  poll_id = g_timeout_add (100, poll_cb, NULL);
  g_assert_true (wait_until (socket_gone, socket, "pcscd's socket to go"));
  g_source_remove (poll_id);
}

/* Starts vicc, which connects to vpcd: a card goes into reader @reader. */
static void
vicc_start (guint reader)
{
  g_autoptr(GSubprocessLauncher) launcher = launcher_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *pythonpath = g_strjoin (":", VIRTUALSMARTCARD_DIR, pcsc.python_dir, NULL);
  g_autofree char *port = g_strdup_printf ("%u", pcsc.port + reader);

  g_assert_null (pcsc.vicc);

  g_subprocess_launcher_setenv (launcher, "PYTHONPATH", pythonpath, TRUE);
  g_subprocess_launcher_setenv (launcher, "HOME", pcsc.dir, TRUE);
  /* /usr/bin/vicc is a Python script starting with #!/usr/bin/python3; the
   * interpreter is named here anyway, as a python3 earlier on PATH is not
   * Debian's and lacks the packages. */
  pcsc.vicc = g_subprocess_launcher_spawn (launcher, &error,
                                           PYTHON, VICC, "-t", "iso7816",
                                           "-H", "localhost", "-P", port, NULL);
  g_assert_no_error (error);
}

static void
vicc_stop (void)
{
  process_end (&pcsc.vicc);
}

/* Setting up. */

static gboolean
port_pair_free (guint16 port)
{
  for (guint i = 0; i < 2; i++)
    {
      g_autoptr(GSocket) socket = NULL;
      g_autoptr(GInetAddress) any = g_inet_address_new_any (G_SOCKET_FAMILY_IPV4);
      g_autoptr(GSocketAddress) address = g_inet_socket_address_new (any, port + i);

      socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL);
      if (socket == NULL || !g_socket_bind (socket, address, FALSE, NULL))
        return FALSE;
    }
  return TRUE;
}

static gboolean
command_succeeds (const char * const *argv)
{
  int status = -1;

  if (!g_spawn_sync (NULL, (char **) argv, NULL,
                     G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL,
                     NULL, NULL, NULL, NULL, &status, NULL))
    return FALSE;
  return g_spawn_check_wait_status (status, NULL);
}

/* Whether a pcscd answers on the usual socket. */
static gboolean
system_pcscd_running (void)
{
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  g_autoptr(GSocketAddress) address = g_unix_socket_address_new (SYSTEM_SOCKET);
  g_autoptr(GSocketConnection) connection = NULL;

  if (!g_file_test (SYSTEM_SOCKET, G_FILE_TEST_EXISTS))
    return FALSE;
  connection = g_socket_client_connect (client, G_SOCKET_CONNECTABLE (address), NULL, NULL);
  return connection != NULL;
}

/* Checks what the tests need and prepares the folders. Sets setup_failure
 * (a missing package is a failure: CI installs them) or skip_reason. */
static void
pcsc_setup (void)
{
  const char *needed[] = { PCSCD, VPCD_DRIVER, VICC, PYTHON, VIRTUALSMARTCARD_DIR, CRYPTODOME_DIR };
  const char * const unshare_probe[] = { "unshare", "--mount", "--propagation", "private", "--",
                                         "/bin/sh", "-c", "mount --bind /tmp /run/pcscd", NULL };
  g_autoptr(GError) error = NULL;
  g_autofree char *config = NULL;
  g_autofree char *link = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (needed); i++)
    {
      if (!g_file_test (needed[i], G_FILE_TEST_EXISTS))
        {
          setup_failure = g_strdup_printf ("%s is missing: install pcscd, vsmartcard-vpcd, "
                                           "vsmartcard-vpicc, python3-virtualsmartcard and "
                                           "python3-pycryptodome (tools/install-deps)", needed[i]);
          return;
        }
    }

  /* pcscd runs as root (it owns /run/pcscd and the reader devices); CI and
   * tools/run-tests run as root. */
  if (geteuid () != 0)
    {
      skip_reason = g_strdup ("pcscd needs root: run the pcsc suite as root");
      return;
    }

  pcsc.dir = g_dir_make_tmp ("imzala-pcsc-XXXXXX", &error);
  g_assert_no_error (error);
  pcsc.run_dir = g_build_filename (pcsc.dir, "run", NULL);
  pcsc.config_dir = g_build_filename (pcsc.dir, "reader.conf.d", NULL);
  pcsc.python_dir = g_build_filename (pcsc.dir, "python", NULL);
  g_assert_cmpint (g_mkdir (pcsc.run_dir, 0755), ==, 0);
  g_assert_cmpint (g_mkdir (pcsc.config_dir, 0755), ==, 0);
  g_assert_cmpint (g_mkdir (pcsc.python_dir, 0755), ==, 0);

  link = g_build_filename (pcsc.python_dir, "Crypto", NULL);
  g_assert_cmpint (symlink (CRYPTODOME_DIR, link), ==, 0);

  /* /run/pcscd is the mount point in pcscd's namespace; pcscd would make
   * it anyway. */
  g_mkdir_with_parents ("/run/pcscd", 0755);
  pcsc.private_namespace = command_succeeds (unshare_probe);
  if (!pcsc.private_namespace)
    {
      if (system_pcscd_running ())
        {
          skip_reason = g_strdup ("a pcscd of the system is running and no private mount "
                                  "namespace can be made for the test's own (run as root)");
          return;
        }
      g_test_message ("no mount namespace: the test's pcscd uses " SYSTEM_SOCKET);
    }

  for (guint attempt = 0; pcsc.port == 0; attempt++)
    {
      guint16 port = g_random_int_range (20000, 60000);

      g_assert_cmpuint (attempt, <, 100);
      if (port_pair_free (port))
        pcsc.port = port;
    }

  config = g_strdup_printf ("FRIENDLYNAME \"Virtual PCD\"\n"
                            "DEVICENAME   /dev/null:%u\n"
                            "LIBPATH      " VPCD_DRIVER "\n"
                            "CHANNELID    %u\n",
                            pcsc.port, pcsc.port);
  {
    g_autofree char *config_file = g_build_filename (pcsc.config_dir, "vpcd", NULL);

    g_file_set_contents (config_file, config, -1, &error);
    g_assert_no_error (error);
  }

  /* Read once by libpcsclite, at the first SCardEstablishContext. */
  if (pcsc.private_namespace)
    {
      g_autofree char *socket = socket_path ();

      g_setenv ("PCSCLITE_CSOCK_NAME", socket, TRUE);
    }

  g_test_message ("pcscd in %s, vpcd on ports %u and %u",
                  pcsc.private_namespace ? pcsc.run_dir : "/run/pcscd", pcsc.port, pcsc.port + 1);
}

static void
remove_tree (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);

  if (dir != NULL && !g_file_test (path, G_FILE_TEST_IS_SYMLINK))
    {
      const char *name;

      while ((name = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *child = g_build_filename (path, name, NULL);

          remove_tree (child);
        }
    }
  g_remove (path);
}

static void
pcsc_teardown (void)
{
  vicc_stop ();
  if (pcsc.pcscd != NULL)
    pcscd_stop ();
  if (pcsc.dir != NULL && g_getenv ("IMZALA_TEST_KEEP") == NULL)
    remove_tree (pcsc.dir);
  g_free (pcsc.dir);
  g_free (pcsc.run_dir);
  g_free (pcsc.config_dir);
  g_free (pcsc.python_dir);
}

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

static gboolean
require_pcsc (void)
{
  if (setup_failure != NULL)
    {
      g_test_fail_printf ("%s", setup_failure);
      return FALSE;
    }
  if (skip_reason != NULL)
    {
      g_test_skip (skip_reason);
      return FALSE;
    }
  if (pcsc.pcscd == NULL)
    pcscd_start ();
  return TRUE;
}

/* The tests. */

static void
test_readers (void)
{
  g_autoptr(Watch) watch = NULL;
  GListModel *model;
  ImzalaReader *reader;
  guint n_items;

  if (!require_pcsc ())
    return;

  watch = watch_new ();
  model = G_LIST_MODEL (watch->monitor);
  g_assert_true (g_list_model_get_item_type (model) == IMZALA_TYPE_READER);

  g_assert_true (wait_until (has_both_readers, watch, "the two virtual readers"));
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

  if (!require_pcsc ())
    return;

  watch = watch_new ();
  g_assert_true (wait_until (has_both_readers, watch, "the two virtual readers"));
  reader = imzala_reader_monitor_find_reader (watch->monitor, READER_0);
  g_assert_cmpint (imzala_reader_get_state (reader), ==, IMZALA_READER_STATE_EMPTY);

  /* Starting vicc puts a card into reader 00 00. */
  vicc_start (0);
  g_assert_true (wait_until (has_inserted, watch, "card-inserted"));
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
  g_assert_true (wait_until (reader_in_state, &state_wait, "the card in use"));
  g_assert_true (imzala_reader_get_has_card (reader));
  SCardDisconnect (card, SCARD_LEAVE_CARD);
  SCardReleaseContext (context);
  state_wait = (StateWait) { reader, IMZALA_READER_STATE_PRESENT };
  g_assert_true (wait_until (reader_in_state, &state_wait, "the card no longer in use"));
  /* Being opened and closed is not a new card. */
  g_assert_cmpuint (watch->inserted->len, ==, 1);
  g_assert_cmpuint (watch->removed->len, ==, 0);

  /* Ending vicc takes the card out. */
  vicc_stop ();
  g_assert_true (wait_until (has_removed, watch, "card-removed"));
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

  if (!require_pcsc ())
    return;

  /* A first monitor only to know when the card is in. */
  first = watch_new ();
  vicc_start (1);
  g_assert_true (wait_until (has_inserted, first, "card-inserted"));

  watch = watch_new ();
  g_assert_true (wait_until (has_inserted, watch, "card-inserted at start"));
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
  g_assert_true (wait_until (has_inserted, watch, "card-inserted after a restart"));
  g_assert_cmpstr (imzala_reader_get_name (g_ptr_array_index (watch->inserted, 0)), ==, READER_1);

  vicc_stop ();
  g_assert_true (wait_until (has_removed, watch, "card-removed"));
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

  if (!require_pcsc ())
    return;

  watch = watch_new ();
  g_assert_true (wait_until (has_both_readers, watch, "the two virtual readers"));

  /* A card in a reader when pcscd goes away is gone for the user too. */
  vicc_start (0);
  g_assert_true (wait_until (has_inserted, watch, "card-inserted"));
  reader = g_ptr_array_index (watch->inserted, 0);

  pcscd_stop ();
  g_assert_true (wait_until (is_unavailable, watch, "available to go FALSE"));
  assert_pcsc_unavailable (watch);
  g_assert_cmpuint (watch->removed->len, ==, 1);
  g_assert_true (g_ptr_array_index (watch->removed, 0) == reader);
  vicc_stop ();

  /* A monitor started while pcscd is down says so. */
  late = watch_new ();
  g_assert_true (wait_until (is_unavailable, late, "the error without pcscd"));
  assert_pcsc_unavailable (late);

  /* Both notice pcscd coming back, by themselves. */
  pcscd_start ();
  g_assert_true (wait_until (has_both_readers, watch, "the readers after pcscd came back"));
  g_assert_true (wait_until (has_both_readers, late, "the readers after pcscd came back"));
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

int
main (int argc, char *argv[])
{
  int status;

  g_test_init (&argc, &argv, NULL);
  test_pid = getpid ();

  pcsc_setup ();

  g_test_add_func ("/reader/matches-slot-description", test_matches_slot_description);
  g_test_add_func ("/reader/matches-token", test_matches_token);
  g_test_add_func ("/reader-monitor/readers", test_readers);
  g_test_add_func ("/reader-monitor/card", test_card);
  g_test_add_func ("/reader-monitor/card-at-start", test_card_at_start);
  g_test_add_func ("/reader-monitor/service", test_service);

  status = g_test_run ();

  pcsc_teardown ();
  g_free (setup_failure);
  g_free (skip_reason);

  return status;
}
