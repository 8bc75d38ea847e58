/* imzala-test-pcsc.c: a real pcscd of the test's own, with the vsmartcard
 * virtual reader driver (vpcd) and a virtual card (vicc), for the tests of
 * the pcsc suite (test-reader-monitor.c, test-cli-pcsc.c).
 *
 * The test runs a pcscd of its own, so that it can stop and restart it and
 * so that a pcscd of the machine is left alone. pcsc-lite 1.9.9 takes the
 * socket path from PCSCLITE_CSOCK_NAME in the client library only; the
 * daemon always uses /run/pcscd/pcscd.comm. So pcscd runs in a mount
 * namespace of its own (unshare --mount, which needs root) where a temporary
 * folder is mounted over /run/pcscd, and the test process points
 * PCSCLITE_CSOCK_NAME at the socket in that folder; the programs it starts
 * (imzala-cli, the window) inherit it. Where no mount namespace can be
 * made, pcscd runs on the usual socket if no other pcscd uses it;
 * otherwise the tests are skipped. The vpcd driver listens on a free TCP
 * port pair chosen here (reader 00 00 on the first, 00 01 on the second),
 * not on its default 35963, through a reader.conf.d folder of the test's own.
 *
 * Every child gets SIGTERM when the test process dies (PR_SET_PDEATHSIG), so
 * a failed assertion leaves no pcscd or vicc behind.
 */
#define G_LOG_DOMAIN "imzala-test-pcsc"

#include "config.h"

#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <glib/gstdio.h>
#include <gio/gunixsocketaddress.h>

#include "imzala-test.h"
#include "imzala-test-pcsc.h"

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

/* Children. */

static GSubprocessLauncher *
launcher_new (void)
{
  GSubprocessLauncher *launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_NONE);
  int fd = dup (STDERR_FILENO);

  /* pcscd -f logs to stdout, which is the TAP stream: send it to stderr. */
  g_assert_cmpint (fd, >=, 0);
  g_subprocess_launcher_take_stdout_fd (launcher, fd);
  imzala_test_launcher_dies_with_test (launcher);
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

gboolean
imzala_test_wait_until (ImzalaTestCondition  condition,
                        gpointer             data,
                        const char          *what)
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

void
imzala_test_pcsc_pcscd_start (void)
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
  g_assert_true (imzala_test_wait_until (socket_exists, socket, "pcscd's socket"));
  g_source_remove (poll_id);
}

void
imzala_test_pcsc_pcscd_stop (void)
{
  g_autofree char *socket = socket_path ();
  guint poll_id;

  process_end (&pcsc.pcscd);

  /* pcscd removes its socket when it ends on SIGTERM. */
  poll_id = g_timeout_add (100, poll_cb, NULL);
  g_assert_true (imzala_test_wait_until (socket_gone, socket, "pcscd's socket to go"));
  g_source_remove (poll_id);
}

/* Starts vicc, which connects to vpcd: a card goes into reader @reader. */
void
imzala_test_pcsc_vicc_start (guint reader)
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

void
imzala_test_pcsc_vicc_stop (void)
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
void
imzala_test_pcsc_setup (void)
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

void
imzala_test_pcsc_teardown (void)
{
  imzala_test_pcsc_vicc_stop ();
  if (pcsc.pcscd != NULL)
    imzala_test_pcsc_pcscd_stop ();
  if (pcsc.dir != NULL && g_getenv ("IMZALA_TEST_KEEP") == NULL)
    remove_tree (pcsc.dir);
  g_free (pcsc.dir);
  g_free (pcsc.run_dir);
  g_free (pcsc.config_dir);
  g_free (pcsc.python_dir);
  g_clear_pointer (&setup_failure, g_free);
  g_clear_pointer (&skip_reason, g_free);
}

gboolean
imzala_test_pcsc_require (void)
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
    imzala_test_pcsc_pcscd_start ();
  return TRUE;
}

gboolean
imzala_test_pcsc_pcscd_running (void)
{
  return pcsc.pcscd != NULL;
}
