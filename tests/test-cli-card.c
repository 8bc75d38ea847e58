/* test-cli-card.c: imzala-cli against a card that behaves like a real one
 * (tests/imzala-fault-pkcs11.c): pulled out at every call of `sign`, of
 * `list`, of `change-pin` and of `unblock-pin`, and a PIN counter that lasts from one run to
 * the next, so that three runs with a wrong PIN lock it. */
#define G_LOG_DOMAIN "test-cli-card"

#include "config.h"

#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <glib/gstdio.h>

#include "imzala-test.h"

#define CONTENT "İmzala test content: e-onay 2024/0042\n"
#define REMOVED "The card was removed"

typedef ImzalaTestCliResult CliResult;

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CliResult, imzala_test_cli_result_free)

/* Runs imzala-cli @args[0] --no-registered --module <fault module> @args[1..]
 * with @env (name, value pairs) and @secrets on fd 3. */
static CliResult *
cli_run (const char *const *env,
         const char        *secrets,
         const char *const *args)
{
  return imzala_test_cli_run (g_getenv ("IMZALA_FAULT_MODULE"), env, secrets, NULL, args);
}

/* A private copy of the SoftHSM fixture, which the fault module wraps. */
static ImzalaTestFixture *
fixture_new (void)
{
  ImzalaTestFixture *f = imzala_test_fixture_new ();

  g_setenv ("IMZALA_FAULT_TARGET", f->module_path, TRUE);
  return f;
}

#define CLI(env, secrets, ...) cli_run ((env), (secrets), (const char *const[]) { __VA_ARGS__, NULL })

static gboolean
openssl_verifies (ImzalaTestFixture *f,
                  const char        *signature)
{
  const char *argv[] = { "openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", signature,
                         "-CAfile", f->root_ca_file, "-purpose", "any", "-out", "/dev/null", NULL };
  int wait_status = -1;

  g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDERR_TO_DEV_NULL,
                NULL, NULL, NULL, NULL, &wait_status, NULL);
  return g_spawn_check_wait_status (wait_status, NULL);
}

/* The number of module calls the last run logged in @log. */
static guint
count_calls (const char *log)
{
  g_autofree char *text = NULL;
  guint n = 0;

  g_assert_true (g_file_get_contents (log, &text, NULL, NULL));
  for (const char *p = text; *p != '\0'; p++)
    if (*p == '\n')
      n++;
  return n;
}

/* Runs @args once with every call logged, then once with the card pulled
 * out at each call. Every run must either succeed (@check_success says
 * whether its result is right) or end with exit status 2 and the removed
 * card's message. */
static void
pull_at_every_call (ImzalaTestFixture *f,
                    const char        *secrets,
                    const char *const *args,
                    gboolean         (*check_success) (ImzalaTestFixture *f, CliResult *result, gpointer data),
                    gpointer           data)
{
  g_autofree char *log = g_build_filename (f->dir, "calls.log", NULL);
  const char *const log_env[] = { "IMZALA_FAULTS", "", "IMZALA_FAULT_CALL_LOG", log, NULL };
  g_autoptr(CliResult) reference = NULL;
  guint n_calls;
  guint n_success = 0;

  g_unlink (log);
  reference = cli_run (log_env, secrets, args);
  g_test_message ("imzala-cli %s: exit %d, %s", args[0], reference->status, reference->err);
  g_assert_cmpint (reference->status, ==, 0);
  g_assert_true (check_success (f, reference, data));
  n_calls = count_calls (log);
  g_test_message ("imzala-cli %s makes %u module calls", args[0], n_calls);

  for (guint n = 1; n <= n_calls; n++)
    {
      g_autofree char *position = g_strdup_printf ("%u", n);
      const char *const env[] = { "IMZALA_FAULTS", "", "IMZALA_FAULT_REMOVE_AT", position, NULL };
      g_autoptr(CliResult) result = cli_run (env, secrets, args);

      g_test_message ("imzala-cli %s, card pulled at call %u: exit %d, %s",
                      args[0], n, result->status, result->err);
      if (result->status == 0)
        {
          g_assert_true (check_success (f, result, data));
          n_success++;
          continue;
        }
      g_assert_cmpint (result->status, ==, 2);
      g_assert_nonnull (strstr (result->err, REMOVED));
    }
  g_test_message ("%u of %u runs succeeded", n_success, n_calls);
}

static gboolean
signature_verifies (ImzalaTestFixture *f,
                    CliResult         *result,
                    gpointer           data)
{
  gboolean verifies = openssl_verifies (f, data);

  g_unlink (data);
  return verifies;
}

static void
test_sign_removed (void)
{
  g_autoptr(ImzalaTestFixture) f = fixture_new ();
  g_autofree char *content = g_build_filename (f->dir, "content.txt", NULL);
  g_autofree char *out = g_build_filename (f->dir, "signature.p7s", NULL);
  g_autofree char *fingerprint = imzala_test_fixture_cert_get (f, "ayse-rsa", "fingerprint");

  g_assert_true (g_file_set_contents (content, CONTENT, -1, NULL));
  pull_at_every_call (f, "123456\n",
                      (const char *const[]) { "sign", "--cert", fingerprint, "--pin-fd", "3",
                                              "--out", out, content, NULL },
                      signature_verifies, out);
}

static gboolean
listed (ImzalaTestFixture *f,
        CliResult         *result,
        gpointer           data)
{
  return strstr (result->out, "IMZALA TEST 1") != NULL;
}

static void
test_list_removed (void)
{
  g_autoptr(ImzalaTestFixture) f = fixture_new ();

  pull_at_every_call (f, NULL, (const char *const[]) { "list", NULL }, listed, NULL);
}

static gboolean
pin_changed (ImzalaTestFixture *f,
             CliResult         *result,
             gpointer           data)
{
  return result->status == 0;
}

static void
test_change_pin_removed (void)
{
  g_autoptr(ImzalaTestFixture) f = fixture_new ();

  /* The same PIN again, so that a run that succeeds leaves the next one
   * the PIN it knows. */
  pull_at_every_call (f, "123456\n123456\n",
                      (const char *const[]) { "change-pin", "--token", "IMZALA TEST 1",
                                              "--pin-fd", "3", "--new-pin-fd", "3", NULL },
                      pin_changed, NULL);
}

static void
test_unblock_pin_removed (void)
{
  g_autoptr(ImzalaTestFixture) f = fixture_new ();

  pull_at_every_call (f, "87654321\n246810\n",
                      (const char *const[]) { "unblock-pin", "--token", "IMZALA TEST 2",
                                              "--puk-fd", "3", "--new-pin-fd", "3", NULL },
                      pin_changed, NULL);
}

static void
test_pin_counter_file (void)
{
  g_autoptr(ImzalaTestFixture) f = fixture_new ();
  g_autofree char *content = g_build_filename (f->dir, "content.txt", NULL);
  g_autofree char *out = g_build_filename (f->dir, "signature.p7s", NULL);
  g_autofree char *counter = g_build_filename (f->dir, "wrong-pins", NULL);
  g_autofree char *fingerprint = imzala_test_fixture_cert_get (f, "ayse-rsa", "fingerprint");
  const char *const env[] = { "IMZALA_FAULTS", "pin-counter-file",
                              "IMZALA_FAULT_PIN_COUNTER_FILE", counter, NULL };
  const char *const messages[] = {
    "Only a few tries are left",
    "Only one try is left",
    "it is now blocked",
  };

  g_assert_true (g_file_set_contents (content, CONTENT, -1, NULL));

  /* Each run is a new process, as each signature of a real user is: the
   * card, not the program, counts the wrong PINs. */
  for (gsize i = 0; i < G_N_ELEMENTS (messages); i++)
    {
      g_autoptr(CliResult) wrong = CLI (env, "999999\n", "sign", "--cert", fingerprint,
                                        "--pin-fd", "3", "--out", out, content);

      g_test_message ("wrong PIN %zu: exit %d, %s", i + 1, wrong->status, wrong->err);
      g_assert_cmpint (wrong->status, ==, 3);
      g_assert_nonnull (strstr (wrong->err, messages[i]));
    }

  {
    g_autoptr(CliResult) right = CLI (env, "123456\n", "sign", "--cert", fingerprint,
                                      "--pin-fd", "3", "--out", out, content);

    g_test_message ("right PIN after three wrong ones: exit %d, %s", right->status, right->err);
    g_assert_cmpint (right->status, ==, 3);
    g_assert_nonnull (strstr (right->err, "is locked"));
    g_assert_false (g_file_test (out, G_FILE_TEST_EXISTS));
  }
}

static void
test_no_token_pcscd_down (void)
{
  g_autoptr(ImzalaTestFixture) f = fixture_new ();
  g_autofree char *empty = g_build_filename (f->dir, "no-tokens", NULL);
  g_autofree char *conf = g_build_filename (f->dir, "no-tokens.conf", NULL);
  g_autofree char *conf_text = g_strdup_printf ("directories.tokendir = %s\nobjectstore.backend = file\n", empty);
  g_autofree char *socket = g_build_filename (f->dir, "no-pcscd.comm", NULL);
  g_autofree char *content = g_build_filename (f->dir, "content.txt", NULL);
  g_autofree char *out = g_build_filename (f->dir, "signature.p7s", NULL);
  /* SoftHSM without a token, and a pcscd socket where no pcscd listens. */
  const char *const no_token[] = { "IMZALA_FAULTS", "", "SOFTHSM2_CONF", conf,
                                   "PCSCLITE_CSOCK_NAME", socket, NULL };
  const char *const tokens[] = { "IMZALA_FAULTS", "", "PCSCLITE_CSOCK_NAME", socket, NULL };
  g_autoptr(CliResult) list = NULL;
  g_autoptr(CliResult) json = NULL;
  g_autoptr(CliResult) sign = NULL;
  g_autoptr(CliResult) softhsm = NULL;

  g_assert_cmpint (g_mkdir (empty, 0700), ==, 0);
  g_assert_true (g_file_set_contents (conf, conf_text, -1, NULL));
  g_assert_true (g_file_set_contents (content, CONTENT, -1, NULL));

  /* No token and no pcscd: the command that starts it, not "insert your
   * card". */
  list = CLI (no_token, NULL, "list");
  g_assert_cmpint (list->status, ==, 0);
  g_assert_nonnull (strstr (list->out, "sudo systemctl start pcscd.socket"));
  json = CLI (no_token, NULL, "list", "--json");
  g_assert_cmpint (json->status, ==, 0);
  g_assert_nonnull (strstr (json->out, "\"code\" : \"pcsc-unavailable\""));
  sign = CLI (no_token, "123456\n", "sign", "--pin-fd", "3", "--out", out, content);
  g_assert_cmpint (sign->status, ==, 2);
  g_assert_nonnull (strstr (sign->err, "sudo systemctl start pcscd.socket"));

  /* A SoftHSM token needs no pcscd: nothing is said about it. */
  softhsm = CLI (tokens, NULL, "list");
  g_assert_cmpint (softhsm->status, ==, 0);
  g_assert_nonnull (strstr (softhsm->out, "IMZALA TEST 1"));
  g_assert_null (strstr (softhsm->out, "pcscd"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_assert_nonnull (g_getenv ("IMZALA_CLI"));
  g_assert_nonnull (g_getenv ("IMZALA_FAULT_MODULE"));

  g_test_add_func ("/cli-card/sign/removed-at-every-call", test_sign_removed);
  g_test_add_func ("/cli-card/list/removed-at-every-call", test_list_removed);
  g_test_add_func ("/cli-card/change-pin/removed-at-every-call", test_change_pin_removed);
  g_test_add_func ("/cli-card/unblock-pin/removed-at-every-call", test_unblock_pin_removed);
  g_test_add_func ("/cli-card/sign/pin-counter-file", test_pin_counter_file);
  g_test_add_func ("/cli-card/no-token/pcscd-down", test_no_token_pcscd_down);

  return g_test_run ();
}
