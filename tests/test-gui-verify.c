/* test-gui-verify.c: İmza Doğrula. Signatures made by `openssl cms -sign`
 * under a PKI made at test time (imzala-test-pki.c, `openssl ocsp` as its
 * responder) are opened as the file manager opens them
 * (imzala_window_open_signature()); the page reports valid, not valid
 * (revoked), and asks for the signed file of a detached signature. The
 * trust comes from a folder of DER certificates (IMZALA_TRUST_DIRS). */
#define G_LOG_DOMAIN "imzala-test"

#include "config.h"

#include <adwaita.h>
#include <string.h>

#include "imzala-settings.h"
#include "imzala-test-pki.h"
#include "imzala-verify-page.h"
#include "imzala-window.h"

#define DAY 86400

static ImzalaTestPki *pki;

static char *
openssl_sign (const char *signer, const char *out, gboolean detached)
{
  g_autofree char *cert = g_strconcat (signer, ".pem", NULL);
  g_autofree char *key = g_strconcat (signer, ".key", NULL);
  const char *argv[] = { "openssl", "cms", "-sign", "-binary", "-cades", "-md", "sha256",
                         "-in", "content.txt", "-signer", cert, "-inkey", key, "-outform", "DER",
                         "-out", out, detached ? NULL : "-nodetach", NULL };
  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDERR_SILENCE);
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GError) error = NULL;

  g_subprocess_launcher_set_cwd (launcher, pki->dir);
  process = g_subprocess_launcher_spawnv (launcher, argv, &error);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_wait_check (process, NULL, &error));
  g_assert_no_error (error);
  return g_build_filename (pki->dir, out, NULL);
}

static void
wait_idle (ImzalaVerifyPage *page)
{
  /* The page reads the files and verifies in a thread; a status service
   * answers from this machine. */
  while (imzala_verify_page_get_busy (page))
    g_main_context_iteration (NULL, TRUE);
}

static void
test_verify_page (void)
{
  g_autoptr(GSettings) settings = g_settings_new (IMZALA_SETTINGS_SCHEMA);
  g_autoptr(ImzalaSettings) policy = imzala_settings_new (settings);
  g_autofree char *attached_path = openssl_sign ("alice", "alice.imz", FALSE);
  g_autofree char *detached_path = openssl_sign ("alice", "alice.p7s", TRUE);
  g_autofree char *revoked_path = openssl_sign ("bob", "bob.imz", FALSE);
  g_autofree char *content_path = g_build_filename (pki->dir, "content.txt", NULL);
  g_autoptr(GFile) attached = g_file_new_for_path (attached_path);
  g_autoptr(GFile) detached = g_file_new_for_path (detached_path);
  g_autoptr(GFile) revoked = g_file_new_for_path (revoked_path);
  g_autoptr(GFile) content = g_file_new_for_path (content_path);
  ImzalaWindow *window = imzala_window_new (NULL, policy);
  ImzalaVerifyPage *page;
  const char *report;

  gtk_window_present (GTK_WINDOW (window));

  imzala_window_open_signature (window, attached, NULL);
  g_assert_cmpstr (imzala_window_get_page_name (window), ==, "verify");
  g_assert_cmpstr (gtk_window_get_title (GTK_WINDOW (window)), ==, "Verify a Signature — İmzala");
  page = IMZALA_VERIFY_PAGE (imzala_window_get_page (window, "verify"));
  wait_idle (page);
  report = imzala_verify_page_get_report (page);
  g_test_message ("Attached:\n%s", report);
  g_assert_nonnull (imzala_verify_page_get_verification (page));
  g_assert_nonnull (strstr (report, "The Signature Is Valid"));
  g_assert_nonnull (strstr (report, "Signer: Alice"));
  g_assert_nonnull (strstr (report, "✓ The signer’s certificate was not revoked (OCSP)."));

  /* A detached signature alone: the page says the signed file is needed,
   * and verifies once it is chosen. */
  imzala_window_open_signature (window, detached, NULL);
  wait_idle (page);
  g_assert_null (imzala_verify_page_get_verification (page));
  g_assert_nonnull (imzala_verify_page_get_error (page));
  report = imzala_verify_page_get_report (page);
  g_assert_nonnull (strstr (report, "does not contain the signed content"));
  imzala_verify_page_set_content (page, content);
  wait_idle (page);
  report = imzala_verify_page_get_report (page);
  g_test_message ("Detached:\n%s", report);
  g_assert_nonnull (strstr (report, "The Signature Is Valid"));

  /* A lost card, revoked before now. */
  imzala_window_open_signature (window, revoked, NULL);
  wait_idle (page);
  report = imzala_verify_page_get_report (page);
  g_test_message ("Revoked:\n%s", report);
  g_assert_nonnull (strstr (report, "The Signature Is Not Valid"));
  g_assert_nonnull (strstr (report, "✗ The signer’s certificate was revoked on"));

  /* Escape goes back to where the user came from. */
  g_action_group_activate_action (G_ACTION_GROUP (window), "back", NULL);
  g_assert_cmpstr (imzala_window_get_page_name (window), ==, "code");

  g_assert_true (imzala_verify_page_is_signature_name ("x.P7S"));
  g_assert_true (imzala_verify_page_is_signature_name ("x.imz"));
  g_assert_false (imzala_verify_page_is_signature_name ("x.pdf"));

  gtk_window_destroy (GTK_WINDOW (window));
}

int
main (int   argc,
      char *argv[])
{
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  const ImzalaTestCertSpec alice_spec = { .common_name = "Alice", .key = "p256", .serial = 0x4001,
                                          .key_usage = "critical,digitalSignature,nonRepudiation" };
  const ImzalaTestCertSpec bob_spec = { .common_name = "Bob", .key = "p256", .serial = 0x4002,
                                        .key_usage = "critical,digitalSignature,nonRepudiation" };
  ImzalaTestPkiEntry entries[] = {
    { 0x4001, "Alice", 0, NULL },
    { 0x4002, "Bob", now - 2 * DAY, "keyCompromise" },
  };
  g_autoptr(ImzalaTestIdentity) alice = NULL;
  g_autoptr(ImzalaTestIdentity) bob = NULL;
  g_autofree char *trust_dir = NULL;
  g_autofree char *ca_path = NULL;
  g_autofree char *content = NULL;
  g_autoptr(GBytes) ca_der = NULL;
  int result;

  gtk_test_init (&argc, &argv, NULL);
  adw_init ();

  pki = imzala_test_pki_new (entries, G_N_ELEMENTS (entries));
  alice = imzala_test_pki_issue (pki, &alice_spec);
  bob = imzala_test_pki_issue (pki, &bob_spec);
  imzala_test_identity_write (alice, pki->dir, "alice");
  imzala_test_identity_write (bob, pki->dir, "bob");
  content = g_build_filename (pki->dir, "content.txt", NULL);
  g_assert_true (g_file_set_contents (content, "İmzalanacak metin\n", -1, NULL));

  /* The trusted CA as a DER .crt in a folder of its own. */
  trust_dir = g_build_filename (pki->dir, "trust", NULL);
  g_assert_cmpint (g_mkdir_with_parents (trust_dir, 0700), ==, 0);
  ca_path = g_build_filename (trust_dir, "ca.crt", NULL);
  ca_der = imzala_test_identity_der (pki->ca);
  g_assert_true (g_file_set_contents (ca_path, g_bytes_get_data (ca_der, NULL),
                                      (gssize) g_bytes_get_size (ca_der), NULL));
  g_setenv ("IMZALA_TRUST_DIRS", trust_dir, TRUE);

  g_test_add_func ("/gui/verify/page", test_verify_page);

  result = g_test_run ();
  imzala_test_pki_free (pki);
  return result;
}
