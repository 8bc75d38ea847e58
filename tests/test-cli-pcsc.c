/* test-cli-pcsc.c: imzala-cli list, sign and doctor against a real pcscd of
 * the test's own (imzala-test-pcsc.c) with the vpcd virtual reader and the
 * vicc virtual card, which no PKCS#11 module recognises. The only module is
 * SoftHSM with every fixture token removed, so the cause the CLI names comes
 * from the readers alone: a card no module knows ("Kart tanınmadı"), no
 * card, or pcscd down. The CLI finds the test's pcscd through
 * PCSCLITE_CSOCK_NAME, which imzala_test_pcsc_setup() sets in this process
 * and the child inherits.
 */
#define G_LOG_DOMAIN "test-cli-pcsc"

#include "config.h"

#include <string.h>
#include <json-glib/json-glib.h>

#include "imzala-test.h"
#include "imzala-test-pcsc.h"

#define READER_0 IMZALA_TEST_PCSC_READER_0
#define VICC_ATR IMZALA_TEST_PCSC_VICC_ATR

#define NOT_RECOGNIZED_EN "The card was not recognised (in “" READER_0 "”). Install the software for your card"
#define NOT_RECOGNIZED_TR "Kart tanınmadı (“" READER_0 "” içinde)"
#define AKIS_MODULE "/usr/lib/libakisp11.so"
#define NO_CARD_EN "No card was found. Insert your card into the reader."
#define PCSCD_DOWN_EN "The smart card service (pcscd) is not running. " \
                      "Start it with: sudo systemctl start pcscd.socket"

typedef struct
{
  int   status;
  char *out;
  char *err;
} Run;

static void
run_free (Run *run)
{
  g_free (run->out);
  g_free (run->err);
  g_free (run);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Run, run_free)

/* Runs imzala-cli with @args (NULL-terminated, the command first) in
 * @language, with the fixture's SoftHSM as the only module. */
static Run *
run_cli (ImzalaTestFixture *fixture,
         const char        *language,
         const char        *first,
         ...)
{
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GError) error = NULL;
  Run *run = g_new0 (Run, 1);
  const char *arg;
  va_list args;

  g_ptr_array_add (argv, (char *) g_getenv ("IMZALA_CLI"));
  va_start (args, first);
  for (arg = first; arg != NULL; arg = va_arg (args, const char *))
    g_ptr_array_add (argv, (char *) arg);
  va_end (args);
  g_ptr_array_add (argv, "--no-registered");
  g_ptr_array_add (argv, "--module");
  g_ptr_array_add (argv, fixture->module_path);
  g_ptr_array_add (argv, NULL);

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDIN_PIPE
                                        | G_SUBPROCESS_FLAGS_STDOUT_PIPE
                                        | G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_subprocess_launcher_setenv (launcher, "LANGUAGE", language, TRUE);
  /* gettext ignores LANGUAGE under the C locale (tools/install-deps makes
   * tr_TR.UTF-8); the Turkish .mo file is the build tree's. */
  if (g_str_equal (language, "tr"))
    {
      g_autofree char *localedir = g_test_build_filename (G_TEST_BUILT, "..", "po", NULL);

      g_subprocess_launcher_setenv (launcher, "LC_ALL", "tr_TR.UTF-8", TRUE);
      g_subprocess_launcher_setenv (launcher, "IMZALA_LOCALEDIR", localedir, TRUE);
    }
  /* Not on a terminal: the content to sign comes from standard input. */
  process = g_subprocess_launcher_spawnv (launcher, (const char *const *) argv->pdata, &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (process, "metin\n", NULL, &run->out, &run->err, &error);
  g_assert_no_error (error);
  if (!g_subprocess_get_if_exited (process))
    g_error ("%s died of signal %d\n--- stdout:\n%s--- stderr:\n%s", first,
             g_subprocess_get_term_sig (process), run->out, run->err);
  run->status = g_subprocess_get_exit_status (process);
  g_test_message ("%s: exit %d\n--- stdout:\n%s--- stderr:\n%s",
                  first, run->status, run->out, run->err);
  return run;
}

/* A fixture copy with no token at all: SoftHSM then shows only its
 * uninitialised slot, which is no token. */
static ImzalaTestFixture *
fixture_without_tokens (void)
{
  ImzalaTestFixture *fixture = imzala_test_fixture_new ();

  imzala_test_fixture_remove_token (fixture, "IMZALA TEST 1");
  imzala_test_fixture_remove_token (fixture, "IMZALA TEST 2");
  imzala_test_fixture_remove_token (fixture, "IMZALA TEST BOS");
  return fixture;
}

/* Watching pcscd with a monitor of the test's own, so that the CLI runs
 * only once pcscd has the reader (and the card) the test expects. */

typedef struct
{
  ImzalaReaderMonitor *monitor;
  gboolean             card;
} ReaderWait;

static gboolean
reader_ready (gpointer data)
{
  ReaderWait *wait = data;
  ImzalaReader *reader;

  if (!imzala_reader_monitor_get_available (wait->monitor))
    return FALSE;
  reader = imzala_reader_monitor_find_reader (wait->monitor, READER_0);
  return reader != NULL
         && imzala_reader_get_has_card (reader) == wait->card
         && (!wait->card || imzala_reader_get_atr (reader) != NULL);
}

static void
wait_for_reader (gboolean card)
{
  g_autoptr(ImzalaReaderMonitor) monitor = imzala_reader_monitor_new ();
  ReaderWait wait = { monitor, card };

  imzala_reader_monitor_start (monitor);
  g_assert_true (imzala_test_wait_until (reader_ready, &wait,
                                         card ? "the card in reader 00 00" : "reader 00 00 empty"));
  imzala_reader_monitor_stop (monitor);
}

static JsonObject *
parse_json (JsonParser *parser,
            const char *text)
{
  g_autoptr(GError) error = NULL;

  json_parser_load_from_data (parser, text, -1, &error);
  g_assert_no_error (error);
  return json_node_get_object (json_parser_get_root (parser));
}

/* The cards. */

static void
test_not_recognized (void)
{
  g_autoptr(ImzalaTestFixture) fixture = NULL;
  g_autoptr(Run) list = NULL;
  g_autoptr(Run) list_tr = NULL;
  g_autoptr(Run) list_json = NULL;
  g_autoptr(Run) sign = NULL;
  g_autoptr(Run) sign_tr = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonObject *root;
  JsonObject *cause;

  if (!imzala_test_pcsc_require ())
    return;

  fixture = fixture_without_tokens ();
  imzala_test_pcsc_vicc_start (0);
  wait_for_reader (TRUE);

  /* list lists (nothing) and says why, exit 0. */
  list = run_cli (fixture, "en", "list", NULL);
  g_assert_cmpint (list->status, ==, 0);
  g_assert_nonnull (strstr (list->out, NOT_RECOGNIZED_EN));
  g_assert_nonnull (strstr (list->out, AKIS_MODULE));
  g_assert_null (strstr (list->out, "Insert your card"));

  list_tr = run_cli (fixture, "tr", "list", NULL);
  g_assert_cmpint (list_tr->status, ==, 0);
  g_assert_nonnull (strstr (list_tr->out, NOT_RECOGNIZED_TR));
  g_assert_nonnull (strstr (list_tr->out, AKIS_MODULE));

  list_json = run_cli (fixture, "en", "list", "--json", NULL);
  g_assert_cmpint (list_json->status, ==, 0);
  root = parse_json (parser, list_json->out);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (root, "tokens")), ==, 0);
  cause = json_object_get_object_member (root, "cause");
  g_assert_nonnull (cause);
  g_assert_cmpstr (json_object_get_string_member (cause, "code"), ==, "token-not-recognized");
  g_assert_nonnull (strstr (json_object_get_string_member (cause, "message"), NOT_RECOGNIZED_EN));

  /* sign fails with it, exit 2 (docs/cli.md: token-not-recognized). */
  sign = run_cli (fixture, "en", "sign", "--out", "/dev/null", "-", NULL);
  g_assert_cmpint (sign->status, ==, 2);
  g_assert_nonnull (strstr (sign->err, NOT_RECOGNIZED_EN));
  g_assert_nonnull (strstr (sign->err, AKIS_MODULE));
  g_assert_null (strstr (sign->err, "Is the card in the reader?"));

  sign_tr = run_cli (fixture, "tr", "sign", "--out", "/dev/null", "-", NULL);
  g_assert_cmpint (sign_tr->status, ==, 2);
  g_assert_nonnull (strstr (sign_tr->err, NOT_RECOGNIZED_TR));

  imzala_test_pcsc_vicc_stop ();
}

static void
test_no_card (void)
{
  g_autoptr(ImzalaTestFixture) fixture = NULL;
  g_autoptr(Run) list = NULL;
  g_autoptr(Run) list_json = NULL;
  g_autoptr(Run) sign = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonObject *cause;

  if (!imzala_test_pcsc_require ())
    return;

  fixture = fixture_without_tokens ();
  wait_for_reader (FALSE);

  list = run_cli (fixture, "en", "list", NULL);
  g_assert_cmpint (list->status, ==, 0);
  g_assert_nonnull (strstr (list->out, NO_CARD_EN));
  g_assert_null (strstr (list->out, "not recognised"));
  g_assert_null (strstr (list->out, "pcscd"));

  list_json = run_cli (fixture, "en", "list", "--json", NULL);
  g_assert_cmpint (list_json->status, ==, 0);
  cause = json_object_get_object_member (parse_json (parser, list_json->out), "cause");
  g_assert_cmpstr (json_object_get_string_member (cause, "code"), ==, "no-token");

  sign = run_cli (fixture, "en", "sign", "--out", "/dev/null", "-", NULL);
  g_assert_cmpint (sign->status, ==, 2);
  g_assert_nonnull (strstr (sign->err, NO_CARD_EN));
}

static void
test_pcscd_down (void)
{
  g_autoptr(ImzalaTestFixture) fixture = NULL;
  g_autoptr(Run) list = NULL;
  g_autoptr(Run) list_json = NULL;
  g_autoptr(Run) sign = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonObject *cause;

  if (!imzala_test_pcsc_require ())
    return;

  fixture = fixture_without_tokens ();
  imzala_test_pcsc_pcscd_stop ();

  list = run_cli (fixture, "en", "list", NULL);
  g_assert_cmpint (list->status, ==, 0);
  g_assert_nonnull (strstr (list->out, PCSCD_DOWN_EN));

  list_json = run_cli (fixture, "en", "list", "--json", NULL);
  g_assert_cmpint (list_json->status, ==, 0);
  cause = json_object_get_object_member (parse_json (parser, list_json->out), "cause");
  g_assert_cmpstr (json_object_get_string_member (cause, "code"), ==, "pcsc-unavailable");

  sign = run_cli (fixture, "en", "sign", "--out", "/dev/null", "-", NULL);
  g_assert_cmpint (sign->status, ==, 2);
  g_assert_nonnull (strstr (sign->err, PCSCD_DOWN_EN));

  /* For the tests after this one. */
  imzala_test_pcsc_pcscd_start ();
}

/* doctor. */

static JsonObject *
find_reader (JsonObject *root,
             const char *name)
{
  JsonArray *readers = json_object_get_array_member (root, "readers");

  for (guint i = 0; i < json_array_get_length (readers); i++)
    {
      JsonObject *reader = json_array_get_object_element (readers, i);

      if (g_strcmp0 (json_object_get_string_member (reader, "name"), name) == 0)
        return reader;
    }
  return NULL;
}

static gboolean
problems_mention (JsonObject *root,
                  const char *text)
{
  JsonArray *problems = json_object_get_array_member (root, "problems");

  for (guint i = 0; i < json_array_get_length (problems); i++)
    {
      JsonObject *problem = json_array_get_object_element (problems, i);

      if (strstr (json_object_get_string_member (problem, "problem"), text) != NULL
          || strstr (json_object_get_string_member (problem, "advice"), text) != NULL)
        return TRUE;
    }
  return FALSE;
}

static void
test_doctor_not_recognized (void)
{
  g_autoptr(ImzalaTestFixture) fixture = NULL;
  g_autoptr(Run) text = NULL;
  g_autoptr(Run) json = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonObject *root;
  JsonObject *reader;

  if (!imzala_test_pcsc_require ())
    return;

  fixture = fixture_without_tokens ();
  imzala_test_pcsc_vicc_start (0);
  wait_for_reader (TRUE);

  text = run_cli (fixture, "en", "doctor", NULL);
  g_assert_cmpint (text->status, ==, 0);
  g_assert_nonnull (strstr (text->out, "== Smart card service (pcscd) ==\nRunning"));
  g_assert_nonnull (strstr (text->out, "== Readers ==\n" READER_0 "\n  State: "));
  g_assert_nonnull (strstr (text->out, "\n  ATR:   " VICC_ATR "\n"
                                       "  Card:  not recognised by any loaded module\n"));
  g_assert_nonnull (strstr (text->out, IMZALA_TEST_PCSC_READER_1 "\n  State: No card\n"));
  g_assert_nonnull (strstr (text->out, AKIS_MODULE));
  g_assert_null (strstr (text->out, "No card was found."));
  g_assert_null (strstr (text->out, "pcscd) is not running"));

  json = run_cli (fixture, "en", "doctor", "--json", NULL);
  g_assert_cmpint (json->status, ==, 0);
  root = parse_json (parser, json->out);
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (root, "pcscd"), "state"),
                   ==, "running");
  reader = find_reader (root, READER_0);
  g_assert_nonnull (reader);
  g_assert_true (json_object_get_boolean_member (reader, "has_card"));
  g_assert_cmpstr (json_object_get_string_member (reader, "atr"), ==, VICC_ATR);
  g_assert_true (json_object_get_null_member (reader, "token"));
  g_assert_nonnull (find_reader (root, IMZALA_TEST_PCSC_READER_1));
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (root, "tokens")), ==, 0);
  g_assert_true (problems_mention (root, READER_0));
  g_assert_true (problems_mention (root, AKIS_MODULE));

  imzala_test_pcsc_vicc_stop ();
}

static void
test_doctor_no_card (void)
{
  g_autoptr(ImzalaTestFixture) fixture = NULL;
  g_autoptr(Run) text = NULL;
  g_autoptr(Run) json = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonObject *reader;

  if (!imzala_test_pcsc_require ())
    return;

  fixture = fixture_without_tokens ();
  wait_for_reader (FALSE);

  text = run_cli (fixture, "en", "doctor", NULL);
  g_assert_cmpint (text->status, ==, 0);
  g_assert_nonnull (strstr (text->out, "== Smart card service (pcscd) ==\nRunning"));
  g_assert_nonnull (strstr (text->out, "== Readers ==\n" READER_0 "\n  State: No card\n"));
  g_assert_null (strstr (text->out, "  ATR:"));
  g_assert_nonnull (strstr (text->out, "No card was found."));
  g_assert_null (strstr (text->out, "not recognised"));

  json = run_cli (fixture, "en", "doctor", "--json", NULL);
  g_assert_cmpint (json->status, ==, 0);
  reader = find_reader (parse_json (parser, json->out), READER_0);
  g_assert_nonnull (reader);
  g_assert_false (json_object_get_boolean_member (reader, "has_card"));
}

static void
test_doctor_pcscd_down (void)
{
  g_autoptr(ImzalaTestFixture) fixture = NULL;
  g_autoptr(Run) text = NULL;
  g_autoptr(Run) json = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonObject *root;

  if (!imzala_test_pcsc_require ())
    return;

  fixture = fixture_without_tokens ();
  imzala_test_pcsc_pcscd_stop ();

  text = run_cli (fixture, "en", "doctor", NULL);
  g_assert_cmpint (text->status, ==, 0);
  g_assert_nonnull (strstr (text->out, "== Smart card service (pcscd) ==\nNot running: "));
  g_assert_nonnull (strstr (text->out, "sudo systemctl start pcscd"));
  g_assert_null (strstr (text->out, READER_0));

  json = run_cli (fixture, "en", "doctor", "--json", NULL);
  g_assert_cmpint (json->status, ==, 0);
  root = parse_json (parser, json->out);
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (root, "pcscd"), "state"),
                   ==, "not-running");
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (root, "readers")), ==, 0);
  g_assert_true (problems_mention (root, "sudo systemctl start pcscd"));

  imzala_test_pcsc_pcscd_start ();
}

int
main (int argc, char *argv[])
{
  int status;

  g_test_init (&argc, &argv, NULL);
  imzala_test_pcsc_setup ();

  g_test_add_func ("/cli-pcsc/not-recognized", test_not_recognized);
  g_test_add_func ("/cli-pcsc/no-card", test_no_card);
  g_test_add_func ("/cli-pcsc/pcscd-down", test_pcscd_down);
  g_test_add_func ("/cli-pcsc/doctor-not-recognized", test_doctor_not_recognized);
  g_test_add_func ("/cli-pcsc/doctor-no-card", test_doctor_no_card);
  g_test_add_func ("/cli-pcsc/doctor-pcscd-down", test_doctor_pcscd_down);

  status = g_test_run ();

  imzala_test_pcsc_teardown ();
  return status;
}
