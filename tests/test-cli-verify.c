/* imzala-cli verify on signatures made by `openssl cms -sign`: trust from
 * DER and PEM files and folders (--ca repeatable, Turkish CA certificates
 * from tests/data/tr-trust, a copy of ../shared/data/tr-trust, converted to
 * DER at test time), --offline,
 * --json (status, level, qualified, signers, checks), the content after the
 * signature, and the exit statuses of docs/cli.md. */
#define G_LOG_DOMAIN "imzala-test"

#include "config.h"

#include <string.h>
#include <json-glib/json-glib.h>

#include "imzala-core.h"
#include "imzala-test-pki.h"

#define DAY 86400

enum
{
  SERIAL_ALICE = 0x3001,
  SERIAL_BOB = 0x3002,      /* revoked two days ago */
  SERIAL_EXPIRED = 0x3003,  /* expired yesterday */
  SERIAL_SPOOF = 0x3004,    /* a line feed in its name */
};

static ImzalaTestPki *pki;

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

static Run *
run_argv (const char *const *argv)
{
  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE
                                                                       | G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GError) error = NULL;
  Run *run = g_new0 (Run, 1);

  g_subprocess_launcher_set_cwd (launcher, pki->dir);
  process = g_subprocess_launcher_spawnv (launcher, argv, &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (process, NULL, NULL, &run->out, &run->err, &error);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_get_if_exited (process));
  run->status = g_subprocess_get_exit_status (process);
  g_test_message ("%s %s: exit %d\n--- stdout:\n%s--- stderr:\n%s", argv[0], argv[1], run->status,
                  run->out, run->err);
  return run;
}

/* Runs imzala-cli verify with @first... (NULL-terminated). */
static Run *
verify (const char *first, ...)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  const char *arg;
  va_list args;

  g_ptr_array_add (argv, (char *) g_getenv ("IMZALA_CLI"));
  g_ptr_array_add (argv, "verify");
  va_start (args, first);
  for (arg = first; arg != NULL; arg = va_arg (args, const char *))
    g_ptr_array_add (argv, (char *) arg);
  va_end (args);
  g_ptr_array_add (argv, NULL);
  return run_argv ((const char *const *) argv->pdata);
}

static void
openssl_sign (const char *signer, const char *out, gboolean detached)
{
  g_autofree char *cert = g_strconcat (signer, ".pem", NULL);
  g_autofree char *key = g_strconcat (signer, ".key", NULL);
  const char *argv[] = { "openssl", "cms", "-sign", "-binary", "-cades", "-md", "sha256",
                         "-in", "content.txt", "-signer", cert, "-inkey", key, "-outform", "DER",
                         "-out", out, detached ? NULL : "-nodetach", NULL };
  g_autoptr(Run) run = run_argv (argv);

  g_assert_cmpint (run->status, ==, 0);
}

static JsonObject *
parse_json (const char *text, JsonNode **root)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;

  json_parser_load_from_data (parser, text, -1, &error);
  g_assert_no_error (error);
  *root = json_node_copy (json_parser_get_root (parser));
  return json_node_get_object (*root);
}

static char *
der_file (const char *pem_path, const char *der_path)
{
  const char *argv[] = { "openssl", "x509", "-in", pem_path, "-outform", "DER", "-out", der_path, NULL };
  g_autoptr(Run) run = run_argv (argv);

  g_assert_cmpint (run->status, ==, 0);
  return g_build_filename (pki->dir, der_path, NULL);
}

/* The trust as a DER .crt (the way Turkish CAs publish it), and a folder;
 * --ca repeats; the detached content after the signature. */
static void
test_der_and_folders (void)
{
  g_autofree char *folder = g_build_filename (pki->dir, "cas", NULL);
  g_autofree char *der = NULL;
  g_autoptr(Run) pem = NULL;
  g_autoptr(Run) der_run = NULL;
  g_autoptr(Run) folder_run = NULL;
  g_autoptr(Run) no_trust = NULL;
  g_autoptr(Run) bad_ca = NULL;

  openssl_sign ("alice", "alice.p7s", TRUE);
  g_assert_cmpint (g_mkdir_with_parents (folder, 0700), ==, 0);
  der = der_file ("ca.pem", "cas/ca.crt");

  pem = verify ("--ca", "ca.pem", "alice.p7s", "content.txt", NULL);
  g_assert_cmpint (pem->status, ==, 0);
  g_assert_nonnull (strstr (pem->out, "The signature is valid."));
  g_assert_nonnull (strstr (pem->out, "Level:           BES"));
  g_assert_nonnull (strstr (pem->out, "Detached:        yes"));

  der_run = verify ("--ca", der, "--content", "content.txt", "alice.p7s", NULL);
  g_assert_cmpint (der_run->status, ==, 0);

  folder_run = verify ("--ca", "root.pem", "--ca", folder, "alice.p7s", "content.txt", NULL);
  g_assert_cmpint (folder_run->status, ==, 0);

  /* Trusting only an unrelated root, offline: not invalid, but nothing
   * shows it valid either; exit 4 and the reason. */
  no_trust = verify ("--offline", "--ca", "unrelated.pem", "alice.p7s", "content.txt", NULL);
  g_assert_cmpint (no_trust->status, ==, 4);
  g_assert_nonnull (strstr (no_trust->out, "could not be validated"));
  g_assert_true (g_str_has_prefix (no_trust->err, "imzala-cli: "));

  bad_ca = verify ("--ca", "content.txt", "alice.p7s", "content.txt", NULL);
  g_assert_cmpint (bad_ca->status, ==, 10);
  g_assert_nonnull (strstr (bad_ca->err, "does not contain any certificate"));
}

/* Real Turkish CA certificates as DER files and a folder of them: read
 * and used (they did not issue the test signer, so the test CA is given
 * too). */
static void
test_turkish_trust (void)
{
  const char *source = g_getenv ("IMZALA_TEST_TR_TRUST");
  /* A copy of ../shared/data/tr-trust (public CA certificates, no key) is
   * kept in the tree, so that a clean clone runs this test too. */
  g_autofree char *default_source = g_build_filename (g_getenv ("G_TEST_SRCDIR"), "data", "tr-trust", NULL);
  g_autofree char *folder = g_build_filename (pki->dir, "tr-trust", NULL);
  g_autoptr(GDir) dir = NULL;
  g_autofree char *one_der = NULL;
  const char *name;
  guint count = 0;
  g_autoptr(Run) file_run = NULL;
  g_autoptr(Run) folder_run = NULL;
  g_autoptr(Run) alone = NULL;

  if (source == NULL)
    source = default_source;
  dir = g_dir_open (source, 0, NULL);
  if (dir == NULL)
    {
      g_test_skip ("The Turkish CA certificates (tests/data/tr-trust) are not here");
      return;
    }
  g_assert_cmpint (g_mkdir_with_parents (folder, 0700), ==, 0);
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *pem = NULL;
      g_autofree char *der_name = NULL;
      g_autofree char *der = NULL;

      if (!g_str_has_suffix (name, ".pem") || (!strstr (name, "Kamu") && !strstr (name, "TRKTRUST")))
        continue;
      pem = g_build_filename (source, name, NULL);
      der_name = g_strdup_printf ("tr-trust/ca-%u.crt", count++);
      der = der_file (pem, der_name);
      if (one_der == NULL)
        one_der = g_steal_pointer (&der);
    }
  g_assert_cmpuint (count, >, 3);

  openssl_sign ("alice", "tr.p7s", FALSE);
  file_run = verify ("--ca", one_der, "--ca", "ca.pem", "--json", "tr.p7s", NULL);
  g_assert_cmpint (file_run->status, ==, 0);
  folder_run = verify ("--ca", folder, "--ca", "ca.pem", "tr.p7s", NULL);
  g_assert_cmpint (folder_run->status, ==, 0);

  /* The Turkish roots alone do not make the test signer trusted. */
  alone = verify ("--offline", "--ca", folder, "tr.p7s", NULL);
  g_assert_cmpint (alone->status, ==, 4);
  g_assert_nonnull (strstr (alone->err, "not issued by a trusted certification authority"));
}

/* --json: status, level, qualified, the signers and their checks. */
static void
test_json (void)
{
  g_autoptr(Run) good = NULL;
  g_autoptr(Run) revoked = NULL;
  g_autoptr(Run) offline = NULL;
  g_autoptr(JsonNode) root = NULL;
  JsonObject *object;
  JsonObject *signer;
  JsonArray *checks;
  gboolean found_revocation = FALSE;

  openssl_sign ("alice", "json-alice.p7s", FALSE);
  openssl_sign ("bob", "json-bob.p7s", FALSE);

  good = verify ("--json", "--ca", "ca.pem", "json-alice.p7s", NULL);
  g_assert_cmpint (good->status, ==, 0);
  object = parse_json (good->out, &root);
  g_assert_true (json_object_get_boolean_member (object, "valid"));
  g_assert_cmpstr (json_object_get_string_member (object, "status"), ==, "valid");
  g_assert_cmpstr (json_object_get_string_member (object, "level"), ==, "BES");
  g_assert_false (json_object_get_boolean_member (object, "qualified"));
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (object, "signers")), ==, 1);
  signer = json_array_get_object_element (json_object_get_array_member (object, "signers"), 0);
  g_assert_cmpstr (json_object_get_string_member (signer, "status"), ==, "valid");
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (signer,
                                                                                 "certificate_status"),
                                                  "status"), ==, "good");
  checks = json_object_get_array_member (signer, "checks");
  for (guint i = 0; i < json_array_get_length (checks); i++)
    {
      JsonObject *check = json_array_get_object_element (checks, i);

      if (g_str_equal (json_object_get_string_member (check, "name"), "revocation"))
        {
          found_revocation = TRUE;
          g_assert_cmpstr (json_object_get_string_member (check, "result"), ==, "passed");
        }
    }
  g_assert_true (found_revocation);
  g_clear_pointer (&root, json_node_unref);

  revoked = verify ("--json", "--ca", "ca.pem", "json-bob.p7s", NULL);
  g_assert_cmpint (revoked->status, ==, 4);
  object = parse_json (revoked->out, &root);
  g_assert_false (json_object_get_boolean_member (object, "valid"));
  g_assert_cmpstr (json_object_get_string_member (object, "status"), ==, "invalid");
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (object, "error"), "code"),
                   ==, "invalid");
  g_clear_pointer (&root, json_node_unref);

  /* Offline, the revocation cannot be known: indeterminate, not valid. */
  offline = verify ("--json", "--offline", "--ca", "ca.pem", "json-bob.p7s", NULL);
  g_assert_cmpint (offline->status, ==, 4);
  object = parse_json (offline->out, &root);
  g_assert_cmpstr (json_object_get_string_member (object, "status"), ==, "indeterminate");
}

/* The issue's example: a certificate that has expired, with no time-stamp,
 * is not "valid" whatever signingTime claims. */
static void
test_expired_without_timestamp (void)
{
  g_autoptr(Run) run = NULL;

  openssl_sign ("expired", "expired.p7s", FALSE);
  run = verify ("--ca", "ca.pem", "expired.p7s", NULL);
  g_assert_cmpint (run->status, ==, 4);
  g_assert_null (strstr (run->out, "The signature is valid."));
  g_assert_nonnull (strstr (run->err, "no time-stamp proves"));
}

/* A holder's name is the signer's to choose: one with a line feed and a
 * line of the report after it ("  T.C. kimlik no:  …", a number the
 * certificate does not hold) shows the line feed as an escape, and the
 * report keeps one T.C. kimlik no line per signer (before: the name added
 * a line of its own to `verify`'s report). */
static void
test_names_one_line (void)
{
  g_autoptr(Run) run = NULL;
  g_auto(GStrv) lines = NULL;
  guint tckn_lines = 0;

  openssl_sign ("spoof", "spoof.p7s", FALSE);
  run = verify ("--ca", "ca.pem", "spoof.p7s", NULL);
  g_assert_cmpint (run->status, ==, 0);
  g_assert_nonnull (strstr (run->out, "Signer:          Mallory\\x0a  T.C. kimlik no:  12345678950\n"));
  lines = g_strsplit (run->out, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    if (g_str_has_prefix (lines[i], "  T.C. kimlik no:"))
      {
        g_assert_cmpstr (lines[i], ==, "  T.C. kimlik no:  none");
        tckn_lines++;
      }
  g_assert_cmpuint (tckn_lines, ==, 1);
}

int
main (int argc, char **argv)
{
  int result;
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  const ImzalaTestCertSpec alice_spec = { .common_name = "Alice", .key = "p256", .serial = SERIAL_ALICE,
                                          .key_usage = "critical,digitalSignature,nonRepudiation" };
  const ImzalaTestCertSpec bob_spec = { .common_name = "Bob", .key = "p256", .serial = SERIAL_BOB,
                                        .key_usage = "critical,digitalSignature,nonRepudiation" };
  const ImzalaTestCertSpec expired_spec = { .common_name = "Expired", .key = "p256",
                                            .serial = SERIAL_EXPIRED,
                                            .key_usage = "critical,digitalSignature,nonRepudiation",
                                            .not_before = now - 20 * DAY, .not_after = now - DAY };
  const ImzalaTestCertSpec spoof_spec = { .common_name = "Mallory\n  T.C. kimlik no:  12345678950",
                                          .key = "p256", .serial = SERIAL_SPOOF,
                                          .key_usage = "critical,digitalSignature,nonRepudiation" };
  const ImzalaTestCertSpec unrelated_spec = { .common_name = "Unrelated Root", .key = "p256", .ca = TRUE };
  ImzalaTestPkiEntry entries[] = {
    { SERIAL_ALICE, "Alice", 0, NULL },
    { SERIAL_BOB, "Bob", now - 2 * DAY, "keyCompromise" },
    { SERIAL_EXPIRED, "Expired", 0, NULL },
    { SERIAL_SPOOF, "Mallory", 0, NULL },
  };
  g_autoptr(ImzalaTestIdentity) alice = NULL;
  g_autoptr(ImzalaTestIdentity) bob = NULL;
  g_autoptr(ImzalaTestIdentity) expired = NULL;
  g_autoptr(ImzalaTestIdentity) spoof = NULL;
  g_autoptr(ImzalaTestIdentity) unrelated = NULL;
  g_autofree char *content = NULL;

  g_test_init (&argc, &argv, NULL);

  pki = imzala_test_pki_new (entries, G_N_ELEMENTS (entries));
  alice = imzala_test_pki_issue (pki, &alice_spec);
  bob = imzala_test_pki_issue (pki, &bob_spec);
  expired = imzala_test_pki_issue (pki, &expired_spec);
  spoof = imzala_test_pki_issue (pki, &spoof_spec);
  unrelated = imzala_test_identity_new (&unrelated_spec, NULL);
  imzala_test_identity_write (alice, pki->dir, "alice");
  imzala_test_identity_write (bob, pki->dir, "bob");
  imzala_test_identity_write (expired, pki->dir, "expired");
  imzala_test_identity_write (spoof, pki->dir, "spoof");
  imzala_test_identity_write (unrelated, pki->dir, "unrelated");
  content = g_build_filename (pki->dir, "content.txt", NULL);
  g_assert_true (g_file_set_contents (content, "İmzalanacak metin\n", -1, NULL));

  g_test_add_func ("/cli-verify/der-and-folders", test_der_and_folders);
  g_test_add_func ("/cli-verify/turkish-trust", test_turkish_trust);
  g_test_add_func ("/cli-verify/json", test_json);
  g_test_add_func ("/cli-verify/expired-without-timestamp", test_expired_without_timestamp);
  g_test_add_func ("/cli-verify/names-one-line", test_names_one_line);

  result = g_test_run ();
  g_clear_pointer (&alice, imzala_test_identity_free);
  g_clear_pointer (&bob, imzala_test_identity_free);
  g_clear_pointer (&expired, imzala_test_identity_free);
  g_clear_pointer (&spoof, imzala_test_identity_free);
  imzala_test_pki_free (pki);
  return result;
}
