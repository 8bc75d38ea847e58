/* test-gui-verify.c: İmza Doğrula. Signatures made by `openssl cms -sign`
 * under a PKI made at test time (imzala-test-pki.c, `openssl ocsp` as its
 * responder) are opened as the file manager opens them
 * (imzala_window_open_signature()); the page reports valid, not valid
 * (revoked), and asks for the signed file of a detached signature. The
 * trust comes from a folder of DER certificates (IMZALA_TRUST_DIRS).
 *
 * /gui/verify/add-authority: with no trust folder, the same signature
 * cannot be validated; the CA's DER .crt added through the page (its
 * fingerprint in the dialog checked against `openssl x509 -fingerprint`)
 * makes it valid, in $XDG_DATA_HOME/imzala/trust (a folder of the test's
 * own); removing it makes it untrusted again; a signer's certificate is
 * refused as a CA.
 *
 * /gui/verify/big-files (issue 12): a 100 MB file (sparse), signed
 * attached and detached by `openssl cms -sign`, verified in the window as
 * streams: valid, the bar's percentages seen, this process's peak memory
 * (VmHWM, reset through /proc/self/clear_refs) grown by buffers, not by
 * the file; Cancel while the content is hashed ends it, said on the page;
 * one changed byte in the detached content and in the attached signature's
 * content makes each not valid.
 *
 * /gui/verify/names-one-line: a holder's name with a line feed adds no
 * line to the page's report, and a file name with "&" and "<b>" is shown
 * as it is. */
#define G_LOG_DOMAIN "imzala-test"

#include "config.h"

#include <adwaita.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <glib/gstdio.h>

#include "imzala-settings.h"
#include "imzala-test.h"
#include "imzala-test-pki.h"
#include "imzala-verify-page.h"
#include "imzala-window.h"

#define DAY 86400

static ImzalaTestPki *pki;

static char *
openssl_sign_file (const char *signer, const char *in, const char *out, gboolean detached)
{
  g_autofree char *cert = g_strconcat (signer, ".pem", NULL);
  g_autofree char *key = g_strconcat (signer, ".key", NULL);
  const char *argv[] = { "openssl", "cms", "-sign", "-binary", "-cades", "-md", "sha256",
                         "-in", in, "-signer", cert, "-inkey", key, "-outform", "DER",
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

static char *
openssl_sign (const char *signer, const char *out, gboolean detached)
{
  return openssl_sign_file (signer, "content.txt", out, detached);
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

/* ---- Certification authorities added through the page ---- */

static AdwMessageDialog *
visible_dialog (void)
{
  /* GTK's own list: not unreferenced. */
  GListModel *toplevels = gtk_window_get_toplevels ();
  AdwMessageDialog *found = NULL;

  for (guint i = 0; i < g_list_model_get_n_items (toplevels); i++)
    {
      g_autoptr(GObject) window = g_list_model_get_item (toplevels, i);

      if (ADW_IS_MESSAGE_DIALOG (window) && gtk_widget_get_visible (GTK_WIDGET (window)))
        found = ADW_MESSAGE_DIALOG (window);
    }
  return found;
}

static AdwMessageDialog *
find_dialog (void)
{
  AdwMessageDialog *found = visible_dialog ();

  g_assert_nonnull (found);
  return found;
}

/* openssl's "sha256 Fingerprint=AB:CD:…" value. */
static char *
openssl_fingerprint (const char *path)
{
  const char *argv[] = { "openssl", "x509", "-noout", "-fingerprint", "-sha256", "-inform", "DER",
                         "-in", path, NULL };
  g_autofree char *out = NULL;
  g_autoptr(GError) error = NULL;
  int status = 0;
  const char *value;

  g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL,
                &out, NULL, &status, &error);
  g_assert_no_error (error);
  g_assert_true (g_spawn_check_wait_status (status, NULL));
  value = strchr (out, '=');
  g_assert_nonnull (value);
  return g_strstrip (g_strdup (value + 1));
}

static gboolean
page_lists (ImzalaVerifyPage *page, const char *subtitle)
{
  GQueue queue = G_QUEUE_INIT;
  gboolean found = FALSE;

  g_queue_push_tail (&queue, page);
  while (!g_queue_is_empty (&queue))
    {
      GtkWidget *widget = g_queue_pop_head (&queue);

      if (ADW_IS_ACTION_ROW (widget)
          && g_strcmp0 (adw_action_row_get_subtitle (ADW_ACTION_ROW (widget)), subtitle) == 0)
        found = TRUE;
      for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
           child = gtk_widget_get_next_sibling (child))
        g_queue_push_tail (&queue, child);
    }
  return found;
}

/* Waits for the page to have read the file given to
 * imzala_verify_page_add_authority() (it reads it in a thread). */
static AdwMessageDialog *
wait_authority_dialog (ImzalaVerifyPage *page)
{
  while (imzala_verify_page_is_reading_authority (page))
    g_main_context_iteration (NULL, TRUE);
  return find_dialog ();
}

static void
test_add_authority (void)
{
  g_autoptr(GSettings) settings = g_settings_new (IMZALA_SETTINGS_SCHEMA);
  g_autoptr(ImzalaSettings) policy = imzala_settings_new (settings);
  g_autofree char *signature_path = openssl_sign ("alice", "alice-add.imz", FALSE);
  g_autofree char *ca_path = g_build_filename (pki->dir, "trust", "ca.crt", NULL);
  g_autofree char *leaf_path = g_build_filename (pki->dir, "alice.pem", NULL);
  g_autofree char *trust_dirs = g_strdup (g_getenv ("IMZALA_TRUST_DIRS"));
  g_autofree char *shown = openssl_fingerprint (ca_path);
  g_autofree char *subtitle = g_strconcat ("SHA-256: ", shown, NULL);
  g_autoptr(GString) hex = g_string_new (NULL);
  g_autofree char *installed = NULL;
  g_autofree char *user_dir = g_build_filename (g_get_user_data_dir (), "imzala", "trust", NULL);
  g_autoptr(GFile) signature = g_file_new_for_path (signature_path);
  g_autoptr(GFile) ca = g_file_new_for_path (ca_path);
  g_autoptr(GFile) leaf = g_file_new_for_path (leaf_path);
  g_autoptr(GError) error = NULL;
  ImzalaWindow *window;
  ImzalaVerifyPage *page;
  AdwMessageDialog *dialog;
  GtkWidget *bar;
  const char *report;
  GStatBuf info;

  for (const char *p = shown; *p != '\0'; p++)
    if (*p != ':')
      g_string_append_c (hex, g_ascii_tolower (*p));
  installed = g_strdup_printf ("%s/%s.crt", user_dir, hex->str);

  /* No trust folder but the user's own, empty. */
  g_unsetenv ("IMZALA_TRUST_DIRS");
  window = imzala_window_new (NULL, policy);
  gtk_window_present (GTK_WINDOW (window));
  imzala_window_open_signature (window, signature, NULL);
  page = IMZALA_VERIFY_PAGE (imzala_window_get_page (window, "verify"));
  g_assert_false (page_lists (page, subtitle));

  /* The bar while it verifies. */
  {
    GQueue queue = G_QUEUE_INIT;

    g_queue_push_tail (&queue, page);
    bar = NULL;
    while (bar == NULL && !g_queue_is_empty (&queue))
      {
        GtkWidget *widget = g_queue_pop_head (&queue);

        if (GTK_IS_PROGRESS_BAR (widget))
          bar = widget;
        for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
             child = gtk_widget_get_next_sibling (child))
          g_queue_push_tail (&queue, child);
      }
    g_queue_clear (&queue);
  }
  g_assert_nonnull (bar);
  g_assert_true (imzala_verify_page_get_busy (page));
  g_assert_true (gtk_widget_get_visible (bar));
  wait_idle (page);
  g_assert_false (gtk_widget_get_visible (bar));
  report = imzala_verify_page_get_report (page);
  g_test_message ("Untrusted:\n%s", report);
  g_assert_null (strstr (report, "The Signature Is Valid"));

  /* A signer's certificate is not a CA: refused, nothing added. */
  imzala_verify_page_add_authority (page, leaf);
  dialog = wait_authority_dialog (page);
  g_assert_cmpstr (adw_message_dialog_get_heading (dialog), ==, "The Certification Authority Cannot Be Added");
  g_assert_nonnull (strstr (adw_message_dialog_get_body (dialog), "not the certificate of a certification authority"));
  gtk_window_destroy (GTK_WINDOW (dialog));
  g_assert_false (g_file_test (user_dir, G_FILE_TEST_EXISTS));

  /* The CA's DER .crt: subject and fingerprint shown, as openssl gives
   * it; cancelled first, then added. */
  /* The file is read in a thread (it may sit on a slow folder): the call
   * returns before anything is shown, and the question comes through the
   * main loop once it has been read. */
  imzala_verify_page_add_authority (page, ca);
  g_assert_true (imzala_verify_page_is_reading_authority (page));
  g_assert_null (visible_dialog ());
  dialog = wait_authority_dialog (page);
  g_assert_false (imzala_verify_page_is_reading_authority (page));
  adw_message_dialog_response (dialog, "cancel");
  gtk_window_destroy (GTK_WINDOW (dialog));

  imzala_verify_page_add_authority (page, ca);
  dialog = wait_authority_dialog (page);
  g_test_message ("%s\n%s", adw_message_dialog_get_heading (dialog), adw_message_dialog_get_body (dialog));
  g_assert_cmpstr (adw_message_dialog_get_heading (dialog), ==, "Trust This Certification Authority?");
  g_assert_nonnull (strstr (adw_message_dialog_get_body (dialog), shown));
  g_assert_nonnull (strstr (adw_message_dialog_get_body (dialog), "İmzala Test Status CA"));
  adw_message_dialog_response (dialog, "cancel");
  gtk_window_destroy (GTK_WINDOW (dialog));
  g_assert_false (g_file_test (installed, G_FILE_TEST_EXISTS));
  g_assert_false (imzala_verify_page_get_busy (page));

  imzala_verify_page_add_authority (page, ca);
  dialog = wait_authority_dialog (page);
  adw_message_dialog_response (dialog, "add");
  gtk_window_destroy (GTK_WINDOW (dialog));
  g_assert_cmpint (g_stat (user_dir, &info), ==, 0);
  g_assert_cmpuint (info.st_mode & 0777, ==, 0700);
  g_assert_cmpint (g_stat (installed, &info), ==, 0);
  g_assert_cmpuint (info.st_mode & 0777, ==, 0644);
  g_assert_true (page_lists (page, subtitle));

  /* Verified again at once, now valid. */
  g_assert_true (imzala_verify_page_get_busy (page));
  wait_idle (page);
  report = imzala_verify_page_get_report (page);
  g_test_message ("Trusted:\n%s", report);
  g_assert_nonnull (strstr (report, "The Signature Is Valid"));

  /* Removed with the row's button's action: untrusted again. */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (page), "verify.remove-authority", "s", hex->str));
  g_assert_false (g_file_test (installed, G_FILE_TEST_EXISTS));
  g_assert_false (page_lists (page, subtitle));
  wait_idle (page);
  report = imzala_verify_page_get_report (page);
  g_assert_null (strstr (report, "The Signature Is Valid"));
  g_assert_false (imzala_verify_page_remove_authority (page, hex->str, &error));
  g_assert_error (error, IMZALA_ERROR, IMZALA_ERROR_NO_CERTIFICATE);

  gtk_window_destroy (GTK_WINDOW (window));
  g_setenv ("IMZALA_TRUST_DIRS", trust_dirs, TRUE);
}

/* ---- Issue 12: big files, progress, Cancel ---- */

#define BIG_SIZE (100 * 1000 * 1000)
#define BIG_TEXT "İmzalanacak büyük dosya, 2026-11-26\n"

/* What verifying a BIG_SIZE file may add to the peak RSS: buffers, not the
 * content (100 MB). AddressSanitizer's shadow memory and redzones add a few
 * MiB of their own (36.7 MiB measured in the sanitizer build). */
#if defined(__SANITIZE_ADDRESS__)
#define PEAK_GROWTH_KIB (64 * 1024)
#else
#define PEAK_GROWTH_KIB (32 * 1024)
#endif

/* A sparse file of BIG_SIZE bytes with BIG_TEXT at four places. */
static char *
make_big_file (const char *name)
{
  char *path = g_build_filename (pki->dir, name, NULL);

  imzala_test_make_sparse_file (path, BIG_SIZE, BIG_TEXT);
  return path;
}

/* One byte in the middle of @path becomes another. */
static void
change_one_byte (const char *path)
{
  int fd = g_open (path, O_RDWR, 0);
  guint8 byte = 0;

  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (pread (fd, &byte, 1, BIG_SIZE / 2), ==, 1);
  byte ^= 0x01;
  g_assert_cmpint (pwrite (fd, &byte, 1, BIG_SIZE / 2), ==, 1);
  g_assert_cmpint (close (fd), ==, 0);
}

typedef struct
{
  GtkWidget *page;
  guint      updates;  /* texts "Checking the signature… N %" with 0 < N */
  guint      last_percent;
  gboolean   cancel;   /* press Cancel at the first percent */
  char      *last;
} Seen;

static void
progress_text_cb (GtkProgressBar *bar, GParamSpec *pspec, Seen *seen)
{
  const char *text = gtk_progress_bar_get_text (bar);
  guint percent;

  if (text == NULL || g_strcmp0 (text, seen->last) == 0)
    return;
  g_free (seen->last);
  seen->last = g_strdup (text);
  if (sscanf (text, "Checking the signature… %u %%", &percent) != 1 || percent == 0)
    return;
  /* The bar only goes forward within one verification. */
  g_assert_cmpuint (percent, >=, seen->last_percent);
  g_assert_cmpfloat (gtk_progress_bar_get_fraction (bar), >=, percent / 100.0 - 0.01);
  seen->last_percent = percent;
  seen->updates++;
  if (seen->cancel)
    {
      seen->cancel = FALSE;
      g_assert_true (gtk_widget_activate_action (seen->page, "verify.cancel", NULL));
    }
}

/* Opens @signature (and @content) in the window, waits, and returns the
 * progress updates seen; the peak memory may grow by 32 MiB at most. */
static guint
verify_big (ImzalaWindow *window, GFile *signature, GFile *content, gboolean cancel)
{
  ImzalaVerifyPage *page = IMZALA_VERIFY_PAGE (imzala_window_get_page (window, "verify"));
  GtkProgressBar *bar = NULL;
  GQueue queue = G_QUEUE_INIT;
  Seen seen = { GTK_WIDGET (page), 0, 0, cancel, NULL };
  gboolean measured;
  guint64 rss_before, peak_before, peak;

  g_queue_push_tail (&queue, page);
  while (bar == NULL && !g_queue_is_empty (&queue))
    {
      GtkWidget *widget = g_queue_pop_head (&queue);

      if (GTK_IS_PROGRESS_BAR (widget))
        bar = GTK_PROGRESS_BAR (widget);
      for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
           child = gtk_widget_get_next_sibling (child))
        g_queue_push_tail (&queue, child);
    }
  g_queue_clear (&queue);
  g_assert_nonnull (bar);
  g_signal_connect (bar, "notify::text", G_CALLBACK (progress_text_cb), &seen);

  measured = imzala_test_reset_peak ();
  rss_before = imzala_test_status_kib ("VmRSS:");
  peak_before = imzala_test_status_kib ("VmHWM:");
  imzala_window_open_signature (window, signature, content);
  g_assert_true (imzala_verify_page_get_busy (page));
  g_assert_true (gtk_widget_get_visible (GTK_WIDGET (bar)));
  wait_idle (page);
  peak = imzala_test_status_kib ("VmHWM:");
  g_assert_false (gtk_widget_get_visible (GTK_WIDGET (bar)));
  g_test_message ("%s%s: RSS before %" G_GUINT64_FORMAT " KiB, peak %" G_GUINT64_FORMAT
                  " KiB; %u progress updates", g_file_peek_path (signature),
                  cancel ? " (cancelled)" : "", rss_before, peak, seen.updates);
  /* Without clear_refs (a container may forbid it) VmHWM is the peak of
   * the whole run: it tells only when this verification raised it. */
  if (measured || peak > peak_before)
    g_assert_cmpuint (peak, <=, rss_before + PEAK_GROWTH_KIB);
  else
    g_test_message ("/proc/self/clear_refs is not writable and the peak was reached before: "
                    "not checked");
  g_assert_false (seen.cancel);
  g_signal_handlers_disconnect_by_data (bar, &seen);
  g_free (seen.last);
  return seen.updates;
}

static void
test_big_files (void)
{
  g_autoptr(GSettings) settings = g_settings_new (IMZALA_SETTINGS_SCHEMA);
  g_autoptr(ImzalaSettings) policy = imzala_settings_new (settings);
  g_autofree char *content_path = make_big_file ("buyuk.bin");
  g_autofree char *attached_path = openssl_sign_file ("alice", "buyuk.bin", "buyuk.bin.imz", FALSE);
  g_autofree char *detached_path = openssl_sign_file ("alice", "buyuk.bin", "buyuk.bin.p7s", TRUE);
  g_autoptr(GFile) content = g_file_new_for_path (content_path);
  g_autoptr(GFile) attached = g_file_new_for_path (attached_path);
  g_autoptr(GFile) detached = g_file_new_for_path (detached_path);
  ImzalaWindow *window = imzala_window_new (NULL, policy);
  ImzalaVerifyPage *page;
  ImzalaVerification *verification;
  const char *report;

  gtk_window_present (GTK_WINDOW (window));
  page = IMZALA_VERIFY_PAGE (imzala_window_get_page (window, "verify"));

  /* Attached: the content is hashed where it lies in the signature file. */
  g_assert_cmpuint (verify_big (window, attached, NULL, FALSE), >=, 10);
  verification = imzala_verify_page_get_verification (page);
  g_assert_nonnull (verification);
  g_assert_cmpint (verification->status, ==, IMZALA_VALIDATION_VALID);
  g_assert_false (verification->detached);
  g_assert_cmpuint (verification->content_length, ==, BIG_SIZE);
  report = imzala_verify_page_get_report (page);
  g_assert_nonnull (strstr (report, "The Signature Is Valid"));
  g_assert_nonnull (strstr (report, "Signer: Alice"));

  /* Detached, with the signed file beside it. */
  g_assert_cmpuint (verify_big (window, detached, content, FALSE), >=, 10);
  verification = imzala_verify_page_get_verification (page);
  g_assert_nonnull (verification);
  g_assert_cmpint (verification->status, ==, IMZALA_VALIDATION_VALID);
  g_assert_true (verification->detached);
  g_assert_cmpuint (verification->content_length, ==, BIG_SIZE);
  g_assert_nonnull (strstr (imzala_verify_page_get_report (page), "The Signature Is Valid"));

  /* Cancel at the first percent: nothing judged, the page says so. */
  verify_big (window, detached, content, TRUE);
  g_assert_null (imzala_verify_page_get_verification (page));
  g_assert_null (imzala_verify_page_get_error (page));
  report = imzala_verify_page_get_report (page);
  g_test_message ("Cancelled:\n%s", report);
  g_assert_true (g_str_has_prefix (report, "Verification Cancelled\n"));

  /* One changed byte in the middle of the content, each way. */
  change_one_byte (content_path);
  verify_big (window, detached, content, FALSE);
  verification = imzala_verify_page_get_verification (page);
  g_assert_nonnull (verification);
  g_assert_cmpint (verification->status, ==, IMZALA_VALIDATION_INVALID);
  report = imzala_verify_page_get_report (page);
  g_test_message ("Changed detached content:\n%s", report);
  g_assert_nonnull (strstr (report, "The Signature Is Not Valid"));
  g_assert_nonnull (strstr (report, "✗ The content does not match the one that was signed."));

  change_one_byte (attached_path);
  verify_big (window, attached, NULL, FALSE);
  verification = imzala_verify_page_get_verification (page);
  g_assert_nonnull (verification);
  g_assert_cmpint (verification->status, ==, IMZALA_VALIDATION_INVALID);
  report = imzala_verify_page_get_report (page);
  g_test_message ("Changed attached content:\n%s", report);
  g_assert_nonnull (strstr (report, "The Signature Is Not Valid"));
  g_assert_nonnull (strstr (report, "✗ The content does not match the one that was signed."));

  gtk_window_destroy (GTK_WINDOW (window));
  g_unlink (content_path);
  g_unlink (attached_path);
  g_unlink (detached_path);
}

/* Whether a label under @widget reads @text, as shown. */
static gboolean
shows_label (GtkWidget *widget, const char *text)
{
  if (GTK_IS_LABEL (widget) && g_strcmp0 (gtk_label_get_text (GTK_LABEL (widget)), text) == 0)
    return TRUE;
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    if (shows_label (child, text))
      return TRUE;
  return FALSE;
}

/* A holder's name with a line feed and a line of the report after it: the
 * page shows the line feed as an escape, and no line of its report is a
 * T.C. kimlik no the certificate does not hold (it holds none, so the
 * page shows no such line at all). */
static void
test_names_one_line (void)
{
  g_autoptr(GSettings) settings = g_settings_new (IMZALA_SETTINGS_SCHEMA);
  g_autoptr(ImzalaSettings) policy = imzala_settings_new (settings);
  /* The file's name has markup's characters: the page shows it as it is
   * ("&" alone emptied the row's subtitle, "<b>" made it bold). */
  g_autofree char *path = openssl_sign ("spoof", "R&D <b>.imz", FALSE);
  g_autoptr(GFile) file = g_file_new_for_path (path);
  ImzalaWindow *window = imzala_window_new (NULL, policy);
  ImzalaVerifyPage *page;
  g_auto(GStrv) lines = NULL;
  const char *report;

  gtk_window_present (GTK_WINDOW (window));
  imzala_window_open_signature (window, file, NULL);
  page = IMZALA_VERIFY_PAGE (imzala_window_get_page (window, "verify"));
  wait_idle (page);
  report = imzala_verify_page_get_report (page);
  g_test_message ("%s", report);
  g_assert_nonnull (strstr (report, "The Signature Is Valid"));
  g_assert_true (shows_label (GTK_WIDGET (page), "R&D <b>.imz"));
  g_assert_nonnull (strstr (report, "Signer: Mallory\\x0aT.C. kimlik no: 12345678950\n"));
  lines = g_strsplit (report, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    g_assert_false (g_str_has_prefix (lines[i], "T.C. kimlik no:"));
  g_unlink (path);

  /* A file that cannot be read, named with a line feed and a verdict: the
   * core's message names it, on one line, and no line of the report is
   * the verdict the file's name made up. */
  {
    g_autofree char *dir = g_dir_make_tmp ("imzala-verify-XXXXXX", NULL);
    g_autofree char *unreadable = g_build_filename (dir, "imza\nThe Signature Is Valid", NULL);
    g_autoptr(GFile) folder = g_file_new_for_path (unreadable);

    g_assert_cmpint (g_mkdir (unreadable, 0700), ==, 0);
    imzala_window_open_signature (window, folder, NULL);
    wait_idle (page);
    report = imzala_verify_page_get_report (page);
    g_test_message ("%s", report);
    g_assert_nonnull (strstr (report, "imza\\x0aThe Signature Is Valid"));
    g_strfreev (lines);
    lines = g_strsplit (report, "\n", -1);
    for (guint i = 0; lines[i] != NULL; i++)
      g_assert_cmpstr (lines[i], !=, "The Signature Is Valid");
    g_assert_cmpint (g_rmdir (unreadable), ==, 0);
    g_assert_cmpint (g_rmdir (dir), ==, 0);
  }
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
  const ImzalaTestCertSpec spoof_spec = { .common_name = "Mallory\nT.C. kimlik no: 12345678950",
                                          .key = "p256", .serial = 0x4003,
                                          .key_usage = "critical,digitalSignature,nonRepudiation" };
  ImzalaTestPkiEntry entries[] = {
    { 0x4001, "Alice", 0, NULL },
    { 0x4002, "Bob", now - 2 * DAY, "keyCompromise" },
    { 0x4003, "Mallory", 0, NULL },
  };
  g_autoptr(ImzalaTestIdentity) alice = NULL;
  g_autoptr(ImzalaTestIdentity) bob = NULL;
  g_autoptr(ImzalaTestIdentity) spoof = NULL;
  g_autofree char *trust_dir = NULL;
  g_autofree char *ca_path = NULL;
  g_autofree char *content = NULL;
  g_autoptr(GBytes) ca_der = NULL;
  g_autofree char *data_home = g_dir_make_tmp ("imzala-verify-XXXXXX", NULL);
  int result;

  /* The user's own trust folder, before GLib reads where it is. */
  g_assert_nonnull (data_home);
  g_setenv ("XDG_DATA_HOME", data_home, TRUE);
  gtk_test_init (&argc, &argv, NULL);
  adw_init ();

  pki = imzala_test_pki_new (entries, G_N_ELEMENTS (entries));
  alice = imzala_test_pki_issue (pki, &alice_spec);
  bob = imzala_test_pki_issue (pki, &bob_spec);
  imzala_test_identity_write (alice, pki->dir, "alice");
  imzala_test_identity_write (bob, pki->dir, "bob");
  spoof = imzala_test_pki_issue (pki, &spoof_spec);
  imzala_test_identity_write (spoof, pki->dir, "spoof");
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
  g_test_add_func ("/gui/verify/add-authority", test_add_authority);
  g_test_add_func ("/gui/verify/big-files", test_big_files);
  g_test_add_func ("/gui/verify/names-one-line", test_names_one_line);

  result = g_test_run ();
  imzala_test_pki_free (pki);
  {
    const char *rm[] = { "rm", "-rf", data_home, NULL };

    g_spawn_sync (NULL, (char **) rm, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, NULL, NULL);
  }
  return result;
}
