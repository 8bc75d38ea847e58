/* test-gui-pcsc.c: the window with a real pcscd of the test's own
 * (imzala-test-pcsc.c) and the vicc card in "Virtual PCD 00 00", which no
 * PKCS#11 module recognises; the only module is SoftHSM with no token. The
 * Cards page shows the reader holding a card that is not recognised, and
 * the sign page of a real portal request says so too, with what to
 * install, instead of "insert your card"; the Tanılama page lists the
 * reader with the card's ATR and the advice. Like the gui suite, meson runs it
 * under xvfb-run and dbus-run-session.
 */
#define G_LOG_DOMAIN "test-gui-pcsc"

#include "config.h"

#include <string.h>

#include "imzala-code-page.h"
#include "imzala-doctor-page.h"
#include "imzala-test.h"
#include "imzala-test-gui.h"
#include "imzala-test-pcsc.h"

#define READER_0 IMZALA_TEST_PCSC_READER_0
#define NOT_RECOGNIZED "The card was not recognised (in “" READER_0 "”)"
#define AKIS_MODULE "/usr/lib/libakisp11.so"

static void
activate (ImzalaWindow *window,
          const char   *name)
{
  g_assert_true (g_action_group_get_action_enabled (G_ACTION_GROUP (window), name));
  g_action_group_activate_action (G_ACTION_GROUP (window), name, NULL);
}

static gboolean
card_in_reader (gpointer data)
{
  ImzalaReaderMonitor *monitor = data;
  ImzalaReader *reader = imzala_reader_monitor_find_reader (monitor, READER_0);

  return imzala_reader_monitor_get_available (monitor)
         && reader != NULL
         && imzala_reader_get_has_card (reader)
         && imzala_reader_get_atr (reader) != NULL;
}

typedef struct
{
  ImzalaWindow *window;
  const char   *page;
  const char   *text;
} PageWait;

static gboolean
page_shows (gpointer data)
{
  PageWait *wait = data;
  g_autofree char *text = imzala_test_gui_page_text (wait->window, wait->page);

  return strstr (text, wait->text) != NULL;
}

static gboolean
report_made (gpointer data)
{
  return imzala_doctor_page_get_report (data) != NULL;
}

static void
test_not_recognized (void)
{
  g_autoptr(ImzalaTestPortal) portal = NULL;
  g_autoptr(ImzalaTestFixture) fixture = NULL;
  g_autoptr(GSettings) settings = NULL;
  g_autoptr(ImzalaModuleSet) modules = NULL;
  g_autoptr(ImzalaReaderMonitor) monitor = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *code = NULL;
  g_autofree char *tokens_text = NULL;
  g_autofree char *sign_text = NULL;
  ImzalaCodePage *code_page;
  ImzalaDoctorPage *doctor_page;
  const char *report;
  ImzalaWindow *window;
  PageWait wait;

  if (!imzala_test_pcsc_require ())
    return;

  /* The portal sets SOFTHSM2_CONF to its demo card; the fixture copy made
   * after it, with every token removed, sets it to an empty one for the
   * window's SoftHSM. */
  portal = imzala_test_portal_new (300, &error);
  g_assert_no_error (error);
  settings = imzala_test_gui_new_settings (portal);
  fixture = imzala_test_fixture_new ();
  imzala_test_fixture_remove_token (fixture, "IMZALA TEST 1");
  imzala_test_fixture_remove_token (fixture, "IMZALA TEST 2");
  imzala_test_fixture_remove_token (fixture, "IMZALA TEST BOS");
  modules = imzala_test_gui_load_modules (fixture->module_path);

  imzala_test_pcsc_vicc_start (0);
  monitor = imzala_reader_monitor_new ();
  imzala_reader_monitor_start (monitor);
  imzala_test_gui_wait (card_in_reader, monitor, 60, "the vicc card in " READER_0);

  window = imzala_test_gui_new_window (settings, modules);
  imzala_window_set_reader_monitor (window, monitor);

  /* The Cards page: the reader, the card in it not recognised, and what to
   * install. It lists the cards again when shown. */
  activate (window, "show-tokens");
  wait = (PageWait) { window, "tokens", NOT_RECOGNIZED };
  imzala_test_gui_wait (page_shows, &wait, 60, "the Cards page's cause");
  tokens_text = imzala_test_gui_page_text (window, "tokens");
  g_test_message ("Cards page:\n%s", tokens_text);
  g_assert_nonnull (strstr (tokens_text, "Card not recognised"));
  /* The reader's own row: its name, then the cause naming it. */
  g_assert_nonnull (strstr (tokens_text, READER_0 "\n" NOT_RECOGNIZED));
  g_assert_nonnull (strstr (tokens_text, IMZALA_TEST_PCSC_READER_1 "\nNo card\n"));
  g_assert_nonnull (strstr (tokens_text, AKIS_MODULE));
  g_assert_null (strstr (tokens_text, "Insert your card"));
  g_assert_null (strstr (tokens_text, "pcscd"));

  /* The sign page of a real request says the same. */
  activate (window, "back");
  g_assert_cmpstr (imzala_window_get_page_name (window), ==, "code");
  code = imzala_test_portal_create_request (portal, "login", &error);
  g_assert_no_error (error);
  code_page = IMZALA_CODE_PAGE (imzala_window_get_page (window, "code"));
  imzala_code_page_set_code (code_page, code);
  activate (window, "next");
  g_assert_cmpstr (imzala_test_gui_wait_page (window, "sign", "failure", NULL), ==, "sign");
  wait = (PageWait) { window, "sign", NOT_RECOGNIZED };
  imzala_test_gui_wait (page_shows, &wait, 60, "the sign page's cause");
  sign_text = imzala_test_gui_page_text (window, "sign");
  g_test_message ("Sign page:\n%s", sign_text);
  g_assert_nonnull (strstr (sign_text, AKIS_MODULE));
  g_assert_null (strstr (sign_text, "Insert your card"));

  /* The Tanılama page: pcscd running, the reader with the card's ATR, and
   * the advice for a card that no module knows. */
  activate (window, "back");
  activate (window, "show-doctor");
  g_assert_cmpstr (imzala_window_get_page_name (window), ==, "doctor");
  doctor_page = IMZALA_DOCTOR_PAGE (imzala_window_get_page (window, "doctor"));
  imzala_test_gui_wait (report_made, doctor_page, 60, "the support report");
  report = imzala_doctor_page_get_report (doctor_page);
  g_test_message ("Diagnostics page:\n%s", report);
  g_assert_nonnull (strstr (report, "== Smart card service (pcscd) ==\nRunning"));
  g_assert_nonnull (strstr (report, "== Readers ==\n" READER_0 "\n  State: "));
  g_assert_nonnull (strstr (report, "\n  ATR:   " IMZALA_TEST_PCSC_VICC_ATR "\n"
                                    "  Card:  not recognised by any loaded module\n"));
  g_assert_nonnull (strstr (report, AKIS_MODULE));
  g_assert_nonnull (strstr (report, "GTK: 4."));

  imzala_reader_monitor_stop (monitor);
  gtk_window_destroy (GTK_WINDOW (window));
  imzala_test_gui_settle ();
  imzala_test_modules_unref_and_wait (g_steal_pointer (&modules));
  imzala_test_pcsc_vicc_stop ();
}

int
main (int   argc,
      char *argv[])
{
  int status;

  gtk_test_init (&argc, &argv, NULL);
  adw_init ();
  imzala_test_pcsc_setup ();

  g_test_add_func ("/gui-pcsc/not-recognized", test_not_recognized);

  status = g_test_run ();

  imzala_test_pcsc_teardown ();
  return status;
}
