/* test-gui-instance.c: İmzala is a single-instance application.
 *
 * The real `imzala` binary is started once; a second launch with a portal
 * and a code (as options, and as an imzala: link, the way a portal page opens
 * it) must hand them to the running window and exit, and the running window
 * must then fetch that request from the real reference portal: the portal's
 * audit log says so. A portal that speaks only TLS 1.0 and 1.1 is not
 * connected to.
 */
#include "config.h"

#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>

#include "imzala-test.h"
#include "imzala-test-gui.h"
#include "imzala-test-portal.h"

/* Waits are for hangs, not speed: a generous limit that fails the test. */
#define WAIT_SECONDS 60

typedef struct
{
  ImzalaTestPortal *portal;
  GSubprocessLauncher *launcher;
  GSubprocess      *primary;
  /* A second portal address, allowed too: a TLS server that speaks only
   * TLS 1.0 and 1.1 (/gui/instance/old-tls), with its log. */
  GSubprocess      *old_server;
  char             *old_url;
  char             *old_log;
} Instance;

static gboolean
tick_cb (gpointer data)
{
  return G_SOURCE_CONTINUE;
}

static void
name_appeared_cb (GDBusConnection *connection,
                  const char      *name,
                  const char      *owner,
                  gpointer         data)
{
  *(gboolean *) data = TRUE;
}

static gboolean
flag_is_set (gpointer data)
{
  return *(gboolean *) data;
}

static void
exited_cb (GObject *source, GAsyncResult *result, gpointer data)
{
  g_subprocess_wait_finish (G_SUBPROCESS (source), result, NULL);
  *(gboolean *) data = TRUE;
}

static int
run_second_instance (Instance *self, const char *const *argv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocess) second = g_subprocess_launcher_spawnv (self->launcher, argv, &error);
  gboolean exited = FALSE;

  g_assert_no_error (error);
  g_subprocess_wait_async (second, NULL, exited_cb, &exited);
  imzala_test_gui_wait (flag_is_set, &exited, WAIT_SECONDS, "the second instance to exit");
  g_assert_true (g_subprocess_get_if_exited (second));
  return g_subprocess_get_exit_status (second);
}

typedef struct
{
  ImzalaTestPortal *portal;
  const char       *code;
} Fetched;

static gboolean
request_was_fetched (gpointer data)
{
  Fetched *fetched = data;

  return imzala_test_portal_count_events (fetched->portal, fetched->code, "request-fetched") > 0;
}

static void
instance_setup (Instance *self, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSettings) settings = NULL;
  g_autoptr(GDBusConnection) bus = NULL;
  g_autoptr(GVariantBuilder) ca_files = g_variant_builder_new (G_VARIANT_TYPE ("a{ss}"));
  const char *allowed[3] = { NULL, NULL, NULL };
  const char *gui = g_getenv ("IMZALA_GUI");
  const char *primary_argv[] = { gui, NULL };
  gboolean appeared = FALSE;
  guint watch;

  g_assert_nonnull (gui);
  self->portal = imzala_test_portal_new (0, &error);
  g_assert_no_error (error);
  if (data != NULL)
    {
      /* The portal's own TLS certificate and key (for localhost). */
      g_autofree char *cert = g_build_filename (self->portal->dir, "portal", "ca", "tls-server.pem", NULL);
      g_autofree char *key = g_build_filename (self->portal->dir, "portal", "ca", "tls-server.key", NULL);
      guint port = 0;

      self->old_log = g_build_filename (self->portal->dir, "old-tls.log", NULL);
      self->old_server = imzala_test_start_tls_server (cert, key, data, self->old_log, &port);
      self->old_url = g_strdup_printf ("https://localhost:%u", port);
    }

  /* The settings the instances read: this test's keyfile (see main()). */
  settings = g_settings_new ("io.github.imzala.Imzala");
  allowed[0] = self->portal->url;
  allowed[1] = self->old_server != NULL ? self->old_url : NULL;
  g_settings_set_strv (settings, "allowed-portals", allowed);
  g_variant_builder_add (ca_files, "{ss}", self->portal->url, self->portal->ca_file);
  if (self->old_server != NULL)
    g_variant_builder_add (ca_files, "{ss}", self->old_url, self->portal->ca_file);
  g_settings_set_value (settings, "portal-ca-files", g_variant_builder_end (ca_files));
  g_settings_sync ();

  /* The launcher takes the environment as it is now (SOFTHSM2_CONF of the
   * demo card included). */
  self->launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_NONE);
  self->primary = g_subprocess_launcher_spawnv (self->launcher, primary_argv, &error);
  g_assert_no_error (error);

  bus = g_bus_get_sync (G_BUS_TYPE_SESSION, NULL, &error);
  g_assert_no_error (error);
  watch = g_bus_watch_name_on_connection (bus, APPLICATION_ID, G_BUS_NAME_WATCHER_FLAGS_NONE,
                                          name_appeared_cb, NULL, &appeared, NULL);
  imzala_test_gui_wait (flag_is_set, &appeared, WAIT_SECONDS, "the first instance to own its bus name");
  g_bus_unwatch_name (watch);
}

static void
instance_teardown (Instance *self, gconstpointer data)
{
  gboolean exited = FALSE;

  if (self->primary != NULL)
    {
      g_subprocess_send_signal (self->primary, SIGTERM);
      g_subprocess_wait_async (self->primary, NULL, exited_cb, &exited);
      imzala_test_gui_wait (flag_is_set, &exited, WAIT_SECONDS, "the first instance to exit");
      g_clear_object (&self->primary);
    }
  g_clear_object (&self->launcher);
  if (self->old_server != NULL)
    {
      g_subprocess_force_exit (self->old_server);
      g_subprocess_wait (self->old_server, NULL, NULL);
      g_clear_object (&self->old_server);
    }
  g_free (self->old_url);
  g_free (self->old_log);
  g_clear_pointer (&self->portal, imzala_test_portal_free);
}

static void
test_second_launch_with_options (Instance *self, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *code = imzala_test_portal_create_request (self->portal, "login", &error);
  const char *argv[] = { g_getenv ("IMZALA_GUI"), "--portal", self->portal->url, "--code", NULL, NULL };
  Fetched fetched = { self->portal, NULL };

  g_assert_no_error (error);
  argv[4] = code;
  fetched.code = code;

  g_assert_cmpuint (imzala_test_portal_count_events (self->portal, code, "request-fetched"), ==, 0);
  g_assert_cmpint (run_second_instance (self, argv), ==, 0);
  /* The second process is gone; the first one's window fetches the request. */
  imzala_test_gui_wait (request_was_fetched, &fetched, WAIT_SECONDS,
                        "the running window to fetch the request");
  /* Still running: its identifier (the pid) goes once it has exited. */
  g_assert_nonnull (g_subprocess_get_identifier (self->primary));
}

static void
test_second_launch_with_link (Instance *self, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *code = imzala_test_portal_create_request (self->portal, "login", &error);
  g_autofree char *escaped_url = NULL;
  g_autofree char *link = NULL;
  const char *argv[] = { g_getenv ("IMZALA_GUI"), NULL, NULL };
  Fetched fetched = { self->portal, NULL };

  g_assert_no_error (error);
  escaped_url = g_uri_escape_string (self->portal->url, NULL, FALSE);
  link = g_strdup_printf ("imzala:?portal=%s&code=%s", escaped_url, code);
  argv[1] = link;
  fetched.code = code;

  g_assert_cmpint (run_second_instance (self, argv), ==, 0);
  imzala_test_gui_wait (request_was_fetched, &fetched, WAIT_SECONDS,
                        "the running window to fetch the linked request");
  /* Still running: its identifier (the pid) goes once it has exited. */
  g_assert_nonnull (g_subprocess_get_identifier (self->primary));
}

static gboolean
network_module_mapped (gpointer data)
{
  Instance *self = data;
  g_autofree char *path = g_strdup_printf ("/proc/%s/maps", g_subprocess_get_identifier (self->primary));
  g_autofree char *maps = NULL;

  return g_file_get_contents (path, &maps, NULL, NULL) && strstr (maps, "libimzala-http-soup") != NULL;
}

/* Issue 12: once the cards are listed, the running window loads its network
 * module (libsoup's) on a thread, so that the first request does not load
 * it on the main thread. No request is made here. */
static void
test_network_module_before_request (Instance *self, gconstpointer data)
{
  imzala_test_gui_wait (network_module_mapped, self, WAIT_SECONDS,
                        "the running window to load its network module");
}

/* The server has logged a handshake, made or refused. */
static gboolean
old_tls_tried (gpointer data)
{
  Instance *self = data;
  g_autofree char *log = NULL;

  return g_file_get_contents (self->old_log, &log, NULL, NULL)
         && (strstr (log, "Error in handshake") != NULL || strstr (log, "- Version: ") != NULL);
}

/* A portal that speaks only TLS 1.0 and 1.1: the running window does not
 * connect to it (imzala_http_init_tls_policy(), in main()). The server's
 * log shows the handshake refused and none made; without the policy it
 * shows "- Version: TLS1.1". */
static void
test_old_tls (Instance *self, gconstpointer data)
{
  const char *argv[] = { g_getenv ("IMZALA_GUI"), "--portal", self->old_url, "--code", "ABCDEFGH2345",
                         NULL };
  g_autofree char *log = NULL;

  if (self->old_server == NULL)
    {
      g_test_skip ("gnutls-serv is not installed (gnutls-bin)");
      return;
    }
  g_assert_cmpint (run_second_instance (self, argv), ==, 0);
  imzala_test_gui_wait (old_tls_tried, self, WAIT_SECONDS,
                        "the running window to try the old portal");
  g_assert_true (g_file_get_contents (self->old_log, &log, NULL, NULL));
  g_test_message ("%s", log);
  /* The window's connection, and no other (the server was not probed). */
  g_assert_nonnull (strstr (log, "Accepted connection from"));
  g_assert_null (strstr (log, "- Version: "));
  g_assert_nonnull (strstr (log, "Error in handshake"));
  g_assert_nonnull (g_subprocess_get_identifier (self->primary));
}

int
main (int argc, char **argv)
{
  g_autofree char *config_home = NULL;
  int status;

  g_test_init (&argc, &argv, NULL);
  /* Settings shared by the test and both instances of İmzala. */
  config_home = imzala_test_gui_use_keyfile_settings ();

  /* Keeps the main context waking up while the test polls the portal's
   * database. */
  g_timeout_add (100, tick_cb, NULL);

  g_test_add ("/gui/instance/options", Instance, NULL, instance_setup,
              test_second_launch_with_options, instance_teardown);
  g_test_add ("/gui/instance/link", Instance, NULL, instance_setup,
              test_second_launch_with_link, instance_teardown);
  g_test_add ("/gui/instance/network-module", Instance, NULL, instance_setup,
              test_network_module_before_request, instance_teardown);
  g_test_add ("/gui/instance/old-tls", Instance, "NORMAL:-VERS-ALL:+VERS-TLS1.1:+VERS-TLS1.0",
              instance_setup, test_old_tls, instance_teardown);
  status = g_test_run ();
  imzala_test_gui_remove_keyfile_settings (config_home);
  return status;
}
