/* test-cli-doctor.c: `imzala-cli doctor` run as a program against a private
 * copy of the SoftHSM fixture, with pcscd out of reach
 * (PCSCLITE_CSOCK_NAME names a socket that does not exist), with and
 * without cards and modules. The report must never hold the PIN or a full
 * T.C. kimlik no or holder name. */
#define G_LOG_DOMAIN "test-cli-doctor"

#include "config.h"

#include <json-glib/json-glib.h>

#include "imzala-test.h"

typedef ImzalaTestCliResult Run;

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Run, imzala_test_cli_result_free)

/* Runs imzala-cli with @args (NULL-terminated, the command first) and
 * pcscd's socket pointing nowhere. */
static Run *
run_cli (const char *first, ...)
{
  g_autofree char *socket = g_build_filename (g_get_tmp_dir (), "imzala-test-no-pcscd", "pcscd.comm", NULL);
  const char *env[] = { "PCSCLITE_CSOCK_NAME", socket, NULL };
  g_autoptr(GPtrArray) args = g_ptr_array_new ();
  const char *arg;
  va_list list;

  va_start (list, first);
  for (arg = first; arg != NULL; arg = va_arg (list, const char *))
    g_ptr_array_add (args, (char *) arg);
  va_end (list);
  g_ptr_array_add (args, NULL);
  return imzala_test_cli_run (NULL, env, NULL, NULL, (const char *const *) args->pdata);
}

static void
assert_no_secret (ImzalaTestFixture *fixture,
                  const char        *report)
{
  const char *const names[] = { "ayse-rsa", "mehmet-p256" };
  g_autofree char *pin = imzala_test_fixture_get (fixture, "fixture", "user-pin");
  g_autofree char *so_pin = imzala_test_fixture_get (fixture, "fixture", "so-pin");

  g_assert_null (strstr (report, pin));
  g_assert_null (strstr (report, so_pin));
  for (gsize i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autofree char *tckn = imzala_test_fixture_cert_get (fixture, names[i], "tckn");
      g_autofree char *holder = imzala_test_fixture_cert_get (fixture, names[i], "holder");

      g_assert_null (strstr (report, tckn));
      g_assert_null (strstr (report, holder));
    }
}

static void
test_cards_without_pcscd (void)
{
  g_autoptr(ImzalaTestFixture) fixture = imzala_test_fixture_new ();
  g_autoptr(Run) run = run_cli ("doctor", "--no-registered", "--module", fixture->module_path, NULL);
  g_autofree char *tckn = imzala_test_fixture_cert_get (fixture, "ayse-rsa", "tckn");
  g_autofree char *masked = g_strdup_printf ("T.C. kimlik no:   *******%s", tckn + 7);

  g_assert_cmpint (run->status, ==, 0);
  assert_no_secret (fixture, run->out);
  g_assert_nonnull (strstr (run->out, "İmzala support report\n"));
  g_assert_nonnull (strstr (run->out, "OpenSSL: "));
  g_assert_nonnull (strstr (run->out, "== Smart card service (pcscd) ==\nNot running: "));
  g_assert_nonnull (strstr (run->out, "== Readers ==\nNo reader.\n"));
  g_assert_nonnull (strstr (run->out, fixture->module_path));
  g_assert_nonnull (strstr (run->out, "  Loaded:  managed by p11-kit\n"));
  g_assert_nonnull (strstr (run->out, "IMZALA TEST 1\n"));
  g_assert_nonnull (strstr (run->out, "  Certificate: AY*** YI***\n"));
  g_assert_nonnull (strstr (run->out, masked));
  g_assert_nonnull (strstr (run->out, "    Usable to sign:   yes\n"));
  g_assert_nonnull (strstr (run->out, "1. The smart card service (pcscd) is not running"));
  g_assert_nonnull (strstr (run->out, "sudo systemctl start pcscd"));
  g_assert_nonnull (strstr (run->out, "expired on"));
  g_assert_nonnull (strstr (run->out, "The card “IMZALA TEST BOS” shows no certificate."));
}

static void
test_json (void)
{
  g_autoptr(ImzalaTestFixture) fixture = imzala_test_fixture_new ();
  g_autoptr(Run) run = run_cli ("doctor", "--json", "--no-registered", "--module", fixture->module_path, NULL);
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  JsonObject *root;
  JsonArray *tokens;

  g_assert_cmpint (run->status, ==, 0);
  assert_no_secret (fixture, run->out);
  json_parser_load_from_data (parser, run->out, -1, &error);
  g_assert_no_error (error);
  root = json_node_get_object (json_parser_get_root (parser));
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (root, "pcscd"), "state"),
                   ==, "not-running");
  tokens = json_object_get_array_member (root, "tokens");
  g_assert_cmpuint (json_array_get_length (tokens), ==, 3);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (root, "readers")), ==, 0);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (root, "problems")), >=, 1);
}

static void
test_no_card (void)
{
  g_autoptr(ImzalaTestFixture) fixture = imzala_test_fixture_new ();
  g_autoptr(Run) run = NULL;

  imzala_test_fixture_remove_token (fixture, "IMZALA TEST 1");
  imzala_test_fixture_remove_token (fixture, "IMZALA TEST 2");
  imzala_test_fixture_remove_token (fixture, "IMZALA TEST BOS");
  run = run_cli ("doctor", "--no-registered", "--module", fixture->module_path, NULL);

  g_assert_cmpint (run->status, ==, 0);
  g_assert_nonnull (strstr (run->out, "== Cards and certificates ==\nNo card.\n"));
  g_assert_nonnull (strstr (run->out, "No card was found.\n   → Insert the card"));
}

static void
test_no_module (void)
{
  g_autoptr(ImzalaTestFixture) fixture = imzala_test_fixture_new ();
  g_autofree char *missing = g_build_filename (fixture->dir, "libmissing-pkcs11.so", NULL);
  g_autoptr(Run) run = run_cli ("doctor", "--no-registered", "--module", missing, NULL);

  g_assert_cmpint (run->status, ==, 0);
  g_assert_nonnull (strstr (run->out, "  Not loaded: "));
  g_assert_nonnull (strstr (run->out, "opensc-pkcs11"));
  g_assert_nonnull (strstr (run->out, "/usr/lib/libakisp11.so"));
  /* With no module there is no "insert the card": that would be the wrong cause. */
  g_assert_null (strstr (run->out, "No card was found."));
}

static void
test_portal_unreachable (void)
{
  g_autoptr(ImzalaTestFixture) fixture = imzala_test_fixture_new ();
  g_autoptr(GSocketListener) listener = g_socket_listener_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *url = NULL;
  g_autoptr(Run) run = NULL;
  guint16 port;

  /* A port that was free a moment ago and is closed now. */
  port = g_socket_listener_add_any_inet_port (listener, NULL, &error);
  g_assert_no_error (error);
  g_socket_listener_close (listener);
  url = g_strdup_printf ("https://127.0.0.1:%u", port);

  run = run_cli ("doctor", "--no-registered", "--module", fixture->module_path, "--portal", url, NULL);
  g_assert_cmpint (run->status, ==, 0);
  g_assert_nonnull (strstr (run->out, "== Clock ==\nPortal: "));
  g_assert_nonnull (strstr (run->out, "Not reached: "));
  g_assert_nonnull (strstr (run->out, "Check the portal’s address"));
}

static void
test_usage (void)
{
  g_autoptr(Run) extra = run_cli ("doctor", "file", NULL);
  g_autoptr(Run) ca_alone = run_cli ("doctor", "--portal-ca", "ca.pem", NULL);
  g_autoptr(Run) insecure = run_cli ("doctor", "--portal", "http://portal.example", NULL);
  g_autoptr(Run) help = run_cli ("--help", NULL);

  g_assert_cmpint (extra->status, ==, 1);
  g_assert_cmpint (ca_alone->status, ==, 1);
  g_assert_cmpint (insecure->status, ==, 5);
  g_assert_nonnull (strstr (help->out, "  doctor "));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/cli-doctor/cards-without-pcscd", test_cards_without_pcscd);
  g_test_add_func ("/cli-doctor/json", test_json);
  g_test_add_func ("/cli-doctor/no-card", test_no_card);
  g_test_add_func ("/cli-doctor/no-module", test_no_module);
  g_test_add_func ("/cli-doctor/portal-unreachable", test_portal_unreachable);
  g_test_add_func ("/cli-doctor/usage", test_usage);

  return g_test_run ();
}
