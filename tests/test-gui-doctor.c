/* test-gui-doctor.c: the Tanılama page opened from the menu over the SoftHSM
 * fixture, with pcscd out of reach; Raporu Kopyala puts the very report on
 * the clipboard, and neither holds a full name or T.C. kimlik no. */
#define G_LOG_DOMAIN "imzala-test"

#include "config.h"

#include <adwaita.h>
#include <string.h>

#include "imzala-doctor-page.h"
#include "imzala-test.h"
#include "imzala-window.h"

static gboolean
timeout_cb (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

static void
tokens_changed_cb (ImzalaWindow *window,
                   gboolean     *done)
{
  *done = TRUE;
}

static void
clipboard_read_cb (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  char **text = user_data;
  g_autoptr(GError) error = NULL;

  *text = gdk_clipboard_read_text_finish (GDK_CLIPBOARD (source), result, &error);
  g_assert_no_error (error);
}

static void
test_doctor_page (void)
{
  g_autoptr(ImzalaTestFixture) fixture = imzala_test_fixture_new ();
  g_autoptr(GSettings) settings = g_settings_new (IMZALA_SETTINGS_SCHEMA);
  g_autoptr(ImzalaSettings) policy = imzala_settings_new (settings);
  g_autoptr(ImzalaModuleSet) module_set = NULL;
  g_autoptr(ImzalaTokenList) token_list = NULL;
  g_autoptr(ImzalaReaderMonitor) monitor = imzala_reader_monitor_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *copied = NULL;
  g_autofree char *tckn = imzala_test_fixture_cert_get (fixture, "ayse-rsa", "tckn");
  g_autofree char *holder = imzala_test_fixture_cert_get (fixture, "ayse-rsa", "holder");
  g_autofree char *masked = g_strdup_printf ("*******%s", tckn + 7);
  ImzalaDoctorPage *page;
  ImzalaWindow *window;
  const char *report;
  gboolean done = FALSE;
  gboolean timed_out = FALSE;
  guint id;

  module_set = imzala_test_fixture_load (fixture, &error);
  g_assert_no_error (error);

  window = imzala_window_new (NULL, policy);
  gtk_window_present (GTK_WINDOW (window));
  g_signal_connect (window, "tokens-changed", G_CALLBACK (tokens_changed_cb), &done);
  token_list = imzala_token_list_new (module_set);
  imzala_window_set_token_list (window, token_list, NULL);
  imzala_window_set_reader_monitor (window, monitor);
  imzala_reader_monitor_start (monitor);
  while (!done)
    g_main_context_iteration (NULL, TRUE);

  g_action_group_activate_action (G_ACTION_GROUP (window), "show-doctor", NULL);
  g_assert_cmpstr (imzala_window_get_page_name (window), ==, "doctor");
  g_assert_cmpstr (gtk_window_get_title (GTK_WINDOW (window)), ==, "Diagnostics — İmzala");

  page = IMZALA_DOCTOR_PAGE (imzala_window_get_page (window, "doctor"));
  id = g_timeout_add_seconds (60, timeout_cb, &timed_out);
  while (imzala_doctor_page_get_report (page) == NULL && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  g_assert_false (timed_out);
  g_source_remove (id);

  report = imzala_doctor_page_get_report (page);
  g_test_message ("Diagnostics page:\n%s", report);
  g_assert_nonnull (strstr (report, "İmzala support report"));
  g_assert_nonnull (strstr (report, "GTK: 4."));
  g_assert_nonnull (strstr (report, "libadwaita: 1."));
  g_assert_nonnull (strstr (report, "Not running: "));
  g_assert_nonnull (strstr (report, "IMZALA TEST 1\n"));
  g_assert_nonnull (strstr (report, "AY*** YI***"));
  g_assert_nonnull (strstr (report, masked));
  g_assert_null (strstr (report, tckn));
  g_assert_null (strstr (report, holder));

  /* Raporu Kopyala: the clipboard holds exactly the report shown. */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (page), "doctor.copy", NULL));
  gdk_clipboard_read_text_async (gtk_widget_get_clipboard (GTK_WIDGET (page)), NULL,
                                 clipboard_read_cb, &copied);
  while (copied == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpstr (copied, ==, report);

  /* Escape goes back to where the user came from. */
  g_action_group_activate_action (G_ACTION_GROUP (window), "back", NULL);
  g_assert_cmpstr (imzala_window_get_page_name (window), ==, "code");

  imzala_reader_monitor_stop (monitor);
  g_signal_handlers_disconnect_by_data (window, &done);
  gtk_window_destroy (GTK_WINDOW (window));
}

int
main (int   argc,
      char *argv[])
{
  g_autofree char *socket = g_build_filename (g_get_tmp_dir (), "imzala-test-no-pcscd", "pcscd.comm", NULL);

  /* No pcscd in the test: the report says so (pcsc-lite reads this). */
  g_setenv ("PCSCLITE_CSOCK_NAME", socket, TRUE);
  gtk_test_init (&argc, &argv, NULL);
  adw_init ();

  g_test_add_func ("/gui/doctor/page", test_doctor_page);

  return g_test_run ();
}
