/* test-file-signer.c: ImzalaFileSigner on the SoftHSM fixture (issue 12
 * item 4, issue 10 item 5) and the certification authorities a user adds
 * (imzala_trust_read_authority() and the functions after it).
 *
 * Big files are made sparse (a 100 MB file costs no disk), with real bytes
 * at both ends; what the signer wrote is checked by `openssl cms -verify`,
 * the fingerprints by `openssl x509 -fingerprint`. The peak memory is the
 * process's own VmHWM, reset through /proc/self/clear_refs before the
 * signing. */
#define G_LOG_DOMAIN "imzala-test"

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <glib/gstdio.h>

#include "imzala-file-signer.h"
#include "imzala-test.h"
#include "imzala-test-tsa.h"
#include "imzala-trust.h"

#define MiB (G_GUINT64_CONSTANT (1024) * 1024)

typedef struct
{
  ImzalaTestFixture *fixture;
  ImzalaModuleSet   *modules;
  GPtrArray         *tokens;
  ImzalaCertificate *certificate;
  ImzalaToken       *token;
  ImzalaFileSigner  *signer;
  GCancellable      *cancellable;
  char              *input_path;
  /* What ::progress said. */
  guint              n_reading;
  guint              n_writing;
  guint64            reading_done;
  guint64            writing_done;
  GArray            *steps;
  /* What a handler does at a step. */
  int                cancel_at;
  int                append_at;
  /* The result. */
  gboolean           done;
  GFile             *output;
  GError            *error;
} Fixture;

static void
setup (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *fingerprint = NULL;

  f->fixture = imzala_test_fixture_new ();
  f->modules = imzala_test_fixture_load (f->fixture, &error);
  g_assert_no_error (error);
  f->tokens = imzala_module_set_list_tokens (f->modules, NULL, &error);
  g_assert_no_error (error);
  fingerprint = imzala_test_fixture_cert_get (f->fixture, "ayse-rsa", "fingerprint");
  f->certificate = imzala_module_set_find_certificate (f->tokens, fingerprint, NULL, &error);
  g_assert_no_error (error);
  f->token = g_object_ref (imzala_module_set_find_token (f->tokens, f->certificate));
  f->signer = imzala_file_signer_new ();
  f->cancellable = g_cancellable_new ();
  f->steps = g_array_new (FALSE, FALSE, sizeof (guint));
  f->cancel_at = -1;
  f->append_at = -1;
  f->input_path = g_build_filename (f->fixture->dir, "buyuk.bin", NULL);
}

static void
teardown (Fixture *f, gconstpointer data)
{
  g_clear_object (&f->output);
  g_clear_error (&f->error);
  g_array_unref (f->steps);
  g_object_unref (f->cancellable);
  g_object_unref (f->signer);
  g_object_unref (f->token);
  g_object_unref (f->certificate);
  g_ptr_array_unref (f->tokens);
  imzala_test_modules_unref_and_wait (f->modules);
  imzala_test_fixture_free (f->fixture);
  g_free (f->input_path);
}

static void
progress_cb (ImzalaFileSigner *signer,
             guint             step,
             guint64           done,
             guint64           total,
             Fixture          *f)
{
  if (f->steps->len == 0 || g_array_index (f->steps, guint, f->steps->len - 1) != step)
    g_array_append_val (f->steps, step);
  if (step == IMZALA_FILE_SIGNER_STEP_READING && total > 0)
    {
      f->n_reading++;
      g_assert_cmpuint (done, >=, f->reading_done);
      g_assert_cmpuint (done, <=, total);
      f->reading_done = done;
    }
  if (step == IMZALA_FILE_SIGNER_STEP_WRITING && total > 0)
    {
      f->n_writing++;
      f->writing_done = done;
    }
  if ((int) step == f->append_at)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *contents = NULL;
      int fd = g_open (f->input_path, O_WRONLY | O_APPEND, 0);

      /* Someone writes to the file between the two passes. */
      g_assert_cmpint (fd, >=, 0);
      g_assert_cmpint (write (fd, "x", 1), ==, 1);
      close (fd);
      f->append_at = -1;
    }
  if ((int) step == f->cancel_at)
    g_cancellable_cancel (f->cancellable);
}

static void
signed_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Fixture *f = user_data;

  f->output = imzala_file_signer_sign_finish (IMZALA_FILE_SIGNER (source), result, &f->error);
  f->done = TRUE;
}

static void
sign (Fixture          *f,
      const char       *pin,
      gboolean          detached,
      ImzalaCadesLevel  level,
      const char       *tsa_url,
      const char       *tsa_ca)
{
  g_autoptr(GFile) input = g_file_new_for_path (f->input_path);
  g_autoptr(ImzalaSecret) secret = imzala_test_secret (pin);
  gulong id = g_signal_connect (f->signer, "progress", G_CALLBACK (progress_cb), f);

  f->done = FALSE;
  f->n_reading = f->n_writing = 0;
  f->reading_done = f->writing_done = 0;
  g_array_set_size (f->steps, 0);
  imzala_file_signer_sign_async (f->signer, f->token, f->certificate, secret, input, detached,
                                 level, tsa_url, tsa_ca, f->cancellable, signed_cb, f);
  while (!f->done)
    g_main_context_iteration (NULL, TRUE);
  /* Updates still queued are delivered, so that a test sees them all. */
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_signal_handler_disconnect (f->signer, id);
}

/* Nothing next to the input but the input (and what the fixture holds):
 * no signature, no temporary file. */
static void
assert_nothing_written (Fixture *f)
{
  g_autofree char *base = g_path_get_basename (f->input_path);
  g_autoptr(GDir) dir = g_dir_open (f->fixture->dir, 0, NULL);
  const char *name;

  g_assert_nonnull (dir);
  while ((name = g_dir_read_name (dir)) != NULL)
    if (g_str_has_prefix (name, base))
      g_assert_cmpstr (name, ==, base);
}

static void
assert_openssl_verifies (Fixture *f, GFile *signature, gboolean detached)
{
  g_autofree char *out = g_build_filename (f->fixture->dir, "verified.bin", NULL);
  g_autoptr(GError) error = NULL;
  GPtrArray *argv = g_ptr_array_new ();
  int status = 0;

  g_ptr_array_add (argv, "openssl");
  g_ptr_array_add (argv, "cms");
  g_ptr_array_add (argv, "-verify");
  g_ptr_array_add (argv, "-binary");
  g_ptr_array_add (argv, "-inform");
  g_ptr_array_add (argv, "DER");
  g_ptr_array_add (argv, "-in");
  g_ptr_array_add (argv, (char *) g_file_peek_path (signature));
  if (detached)
    {
      g_ptr_array_add (argv, "-content");
      g_ptr_array_add (argv, f->input_path);
    }
  g_ptr_array_add (argv, "-CAfile");
  g_ptr_array_add (argv, f->fixture->root_ca_file);
  g_ptr_array_add (argv, "-purpose");
  g_ptr_array_add (argv, "any");
  g_ptr_array_add (argv, "-out");
  g_ptr_array_add (argv, out);
  g_ptr_array_add (argv, NULL);
  g_spawn_sync (NULL, (char **) argv->pdata, NULL,
                G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL,
                NULL, NULL, NULL, NULL, &status, &error);
  g_ptr_array_unref (argv);
  g_assert_no_error (error);
  g_assert_true (g_spawn_check_wait_status (status, NULL));
  /* What openssl found signed is the input, byte for byte. */
  {
    const char *cmp[] = { "cmp", "-s", out, f->input_path, NULL };

    g_spawn_sync (NULL, (char **) cmp, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, &status, &error);
    g_assert_no_error (error);
    g_assert_true (g_spawn_check_wait_status (status, NULL));
  }
  g_unlink (out);
}

static void
sign_big (Fixture *f, gboolean detached)
{
  guint64 size = 100 * 1000 * 1000;
  guint64 rss_before;
  guint64 peak;
  gboolean measured;

  imzala_test_make_sparse_file (f->input_path, size, "Büyük dosya\n");
  measured = imzala_test_reset_peak ();
  rss_before = imzala_test_status_kib ("VmRSS:");
  sign (f, "123456", detached, IMZALA_CADES_LEVEL_BES, NULL, NULL);
  peak = imzala_test_status_kib ("VmHWM:");
  g_assert_no_error (f->error);
  g_assert_nonnull (f->output);
  g_assert_true (g_str_has_suffix (g_file_peek_path (f->output), detached ? "buyuk.bin.p7s" : "buyuk.bin.imz"));
  g_test_message ("%s 100 MB: RSS before %" G_GUINT64_FORMAT " KiB, peak %" G_GUINT64_FORMAT " KiB",
                  detached ? "detached" : "attached", rss_before, peak);
  /* The file is streamed: the peak grows by the buffers, not the file. */
  if (measured)
    g_assert_cmpuint (peak, <=, rss_before + 16 * 1024);
  else
    g_test_message ("/proc/self/clear_refs is not writable: the peak is not checked");

  /* Progress: the file read in steps up to its end, then the card, then
   * (attached) the second pass. */
  g_assert_cmpuint (f->n_reading, >=, 10);
  g_assert_cmpuint (f->reading_done, ==, size);
  g_assert_cmpuint (g_array_index (f->steps, guint, 0), ==, IMZALA_FILE_SIGNER_STEP_READING);
  g_assert_cmpuint (g_array_index (f->steps, guint, 1), ==, IMZALA_FILE_SIGNER_STEP_SIGNING);
  g_assert_cmpuint (g_array_index (f->steps, guint, 2), ==, IMZALA_FILE_SIGNER_STEP_WRITING);
  if (!detached)
    {
      g_assert_cmpuint (f->n_writing, >=, 10);
      g_assert_cmpuint (f->writing_done, ==, size);
    }
  {
    GStatBuf info;

    g_assert_cmpint (g_stat (g_file_peek_path (f->output), &info), ==, 0);
    g_assert_cmpuint (info.st_mode & 0777, ==, 0644);
    if (!detached)
      g_assert_cmpuint ((guint64) info.st_size, >, size);
  }
  assert_openssl_verifies (f, f->output, detached);
}

static void
store_async_result (GObject      *source,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  *(GAsyncResult **) user_data = g_object_ref (result);
}

/* imzala_trust_read_authority_async(), waited for on the main context. */
static ImzalaCertificate *
read_authority_in_thread (const char    *path,
                          GCancellable  *cancellable,
                          GError       **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  imzala_trust_read_authority_async (path, cancellable, store_async_result, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  return imzala_trust_read_authority_finish (result, error);
}

static void
test_detached_100mb (Fixture *f, gconstpointer data)
{
  sign_big (f, TRUE);
}

static void
test_attached_100mb (Fixture *f, gconstpointer data)
{
  sign_big (f, FALSE);
}

/* The file grows between the hash and the second pass: refused, nothing
 * written. */
static void
test_changed_between_passes (Fixture *f, gconstpointer data)
{
  imzala_test_make_sparse_file (f->input_path, 3 * MiB, "Büyük dosya\n");
  f->append_at = IMZALA_FILE_SIGNER_STEP_SIGNING;
  sign (f, "123456", FALSE, IMZALA_CADES_LEVEL_BES, NULL, NULL);
  g_assert_error (f->error, IMZALA_ERROR, IMZALA_ERROR_CONTENT_MISMATCH);
  g_assert_null (f->output);
  assert_nothing_written (f);
}

/* Too large for an attached signature: refused before the card is asked
 * anything (a wrong PIN would otherwise be the error), by the size alone
 * (a 2 GiB sparse file is never read). */
static void
test_too_large_before_card (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (imzala_file_signer_check_size (IMZALA_CMS_MAX_ATTACHED_SIZE, FALSE, NULL));
  g_assert_true (imzala_file_signer_check_size (G_GUINT64_CONSTANT (1) << 40, TRUE, NULL));
  g_assert_false (imzala_file_signer_check_size (IMZALA_CMS_MAX_ATTACHED_SIZE + 1, FALSE, &error));
  g_assert_error (error, IMZALA_ERROR, IMZALA_ERROR_CONTENT_TOO_LARGE);
  g_assert_nonnull (strstr (error->message, "without the content (.p7s)"));

  imzala_test_make_sparse_file (f->input_path, IMZALA_CMS_MAX_ATTACHED_SIZE + 1, "Büyük dosya\n");
  sign (f, "000000", FALSE, IMZALA_CADES_LEVEL_BES, NULL, NULL);
  g_assert_error (f->error, IMZALA_ERROR, IMZALA_ERROR_CONTENT_TOO_LARGE);
  g_assert_cmpuint (f->n_reading, ==, 0);
  assert_nothing_written (f);
}

/* A cancel at each step leaves no file. */
static void
test_cancel_each_step (Fixture *f, gconstpointer data)
{
  ImzalaTestTsa *tsa = imzala_test_tsa_new ();
  const struct
  {
    ImzalaFileSignerStep step;
    gboolean             detached;
  } cases[] = {
    { IMZALA_FILE_SIGNER_STEP_READING, FALSE },
    { IMZALA_FILE_SIGNER_STEP_SIGNING, TRUE },
    { IMZALA_FILE_SIGNER_STEP_TIME_STAMPING, FALSE },
    { IMZALA_FILE_SIGNER_STEP_WRITING, FALSE },
    { IMZALA_FILE_SIGNER_STEP_WRITING, TRUE },
  };

  imzala_test_make_sparse_file (f->input_path, 40 * MiB, "Büyük dosya\n");
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_test_message ("Cancel at step %u, %s", cases[i].step, cases[i].detached ? "detached" : "attached");
      g_clear_object (&f->cancellable);
      g_clear_error (&f->error);
      f->cancellable = g_cancellable_new ();
      f->cancel_at = cases[i].step;
      sign (f, "123456", cases[i].detached, IMZALA_CADES_LEVEL_T, imzala_test_tsa_get_url (tsa),
            imzala_test_tsa_get_ca (tsa));
      g_assert_error (f->error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
      g_assert_null (f->output);
      assert_nothing_written (f);
    }
  imzala_test_tsa_free (tsa);
}

/* Level T with the TSA's CA given (tsa_ca_file): the test TSA is not in
 * the system store, and works with it. */
static void
test_level_t_with_tsa_ca (Fixture *f, gconstpointer data)
{
  ImzalaTestTsa *tsa = imzala_test_tsa_new ();
  g_autoptr(GBytes) cms = NULL;
  g_autoptr(GBytes) token = NULL;
  char *contents = NULL;
  gsize length = 0;

  imzala_test_make_sparse_file (f->input_path, 1 * MiB, "Büyük dosya\n");
  sign (f, "123456", TRUE, IMZALA_CADES_LEVEL_T, imzala_test_tsa_get_url (tsa), NULL);
  g_assert_error (f->error, IMZALA_ERROR, IMZALA_ERROR_TLS);
  assert_nothing_written (f);
  g_clear_error (&f->error);

  sign (f, "123456", TRUE, IMZALA_CADES_LEVEL_T, imzala_test_tsa_get_url (tsa), imzala_test_tsa_get_ca (tsa));
  g_assert_no_error (f->error);
  g_assert_cmpuint (imzala_test_tsa_count (tsa), ==, 1);
  g_assert_true (g_file_get_contents (g_file_peek_path (f->output), &contents, &length, NULL));
  cms = g_bytes_new_take (contents, length);
  token = imzala_test_cms_get_time_stamp_token (cms);
  g_assert_nonnull (token);
  assert_openssl_verifies (f, f->output, TRUE);
  imzala_test_tsa_free (tsa);
}

/* ---- Certification authorities a user adds ---- */

static char *
openssl_fingerprint (const char *path, const char *form)
{
  const char *argv[] = { "openssl", "x509", "-noout", "-fingerprint", "-sha256", "-inform", form,
                         "-in", path, NULL };
  g_autofree char *out = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GString) hex = g_string_new (NULL);
  int status = 0;
  const char *p;

  g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL,
                &out, NULL, &status, &error);
  g_assert_no_error (error);
  g_assert_true (g_spawn_check_wait_status (status, NULL));
  p = strchr (out, '=');
  g_assert_nonnull (p);
  for (p++; *p != '\0' && *p != '\n'; p++)
    if (*p != ':')
      g_string_append_c (hex, g_ascii_tolower (*p));
  return g_string_free (g_steal_pointer (&hex), FALSE);
}

static void
test_authorities (void)
{
  g_autoptr(ImzalaTestFixture) fixture = imzala_test_fixture_new ();
  g_autofree char *der_path = g_build_filename (fixture->dir, "kok.crt", NULL);
  g_autofree char *bundle_path = g_build_filename (fixture->dir, "ikisi.pem", NULL);
  g_autofree char *garbage_path = g_build_filename (fixture->dir, "bos.cer", NULL);
  g_autofree char *leaf_path = g_build_filename (fixture->dir, "certs", "ayse-rsa.pem", NULL);
  g_autofree char *dir = g_build_filename (fixture->dir, "data", "imzala", "trust", NULL);
  g_autofree char *expected = openssl_fingerprint (fixture->root_ca_file, "PEM");
  g_autofree char *installed = NULL;
  g_autofree char *root_pem = NULL;
  g_autofree char *sub_pem = NULL;
  g_autofree char *bundle = NULL;
  g_autofree char *der_fingerprint = NULL;
  g_autoptr(ImzalaCertificate) authority = NULL;
  g_autoptr(ImzalaCertificate) from_der = NULL;
  g_autoptr(ImzalaCertificate) sub = NULL;
  g_autoptr(GPtrArray) listed = NULL;
  g_autoptr(ImzalaTrust) trust = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *contents = NULL;
  gsize length = 0;
  GStatBuf info;

  /* PEM and DER alike, with the fingerprint openssl gives. */
  authority = imzala_trust_read_authority (fixture->root_ca_file, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (imzala_certificate_get_fingerprint (authority), ==, expected);
  g_assert_nonnull (strstr (imzala_certificate_get_subject (authority), "İmzala Test Kök SM"));
  g_assert_true (g_file_set_contents (der_path, g_bytes_get_data (imzala_certificate_get_der (authority), NULL),
                                      (gssize) g_bytes_get_size (imzala_certificate_get_der (authority)), NULL));
  der_fingerprint = openssl_fingerprint (der_path, "DER");
  from_der = imzala_trust_read_authority (der_path, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (imzala_certificate_get_fingerprint (from_der), ==, der_fingerprint);
  g_assert_cmpstr (der_fingerprint, ==, expected);

  /* Refused: a signer's certificate, two in one file, no certificate, no file. */
  g_assert_null (imzala_trust_read_authority (leaf_path, &error));
  g_assert_error (error, IMZALA_ERROR, IMZALA_ERROR_CERTIFICATE_INVALID);
  g_assert_nonnull (strstr (error->message, "not the certificate of a certification authority"));
  g_clear_error (&error);
  g_assert_true (g_file_get_contents (fixture->root_ca_file, &root_pem, NULL, NULL));
  g_assert_true (g_file_get_contents (fixture->sub_ca_file, &sub_pem, NULL, NULL));
  bundle = g_strconcat (root_pem, sub_pem, NULL);
  g_assert_true (g_file_set_contents (bundle_path, bundle, -1, NULL));
  g_assert_null (imzala_trust_read_authority (bundle_path, &error));
  g_assert_error (error, IMZALA_ERROR, IMZALA_ERROR_CERTIFICATE_INVALID);
  g_assert_nonnull (strstr (error->message, "more than one certificate"));
  g_clear_error (&error);
  g_assert_true (g_file_set_contents (garbage_path, "not a certificate\n", -1, NULL));
  g_assert_null (imzala_trust_read_authority (garbage_path, &error));
  g_assert_error (error, IMZALA_ERROR, IMZALA_ERROR_CERTIFICATE_INVALID);
  g_clear_error (&error);
  g_assert_null (imzala_trust_read_authority ("/nonexistent/ca.crt", &error));
  g_assert_error (error, IMZALA_ERROR, IMZALA_ERROR_FAILED);
  g_clear_error (&error);

  /* The same in a thread (the window's way): the same certificate, the
   * same refusals, and nothing but "cancelled" once cancelled. */
  {
    g_autoptr(GCancellable) cancellable = g_cancellable_new ();
    g_autoptr(ImzalaCertificate) threaded = NULL;

    threaded = read_authority_in_thread (der_path, NULL, &error);
    g_assert_no_error (error);
    g_assert_cmpstr (imzala_certificate_get_fingerprint (threaded), ==, expected);

    g_assert_null (read_authority_in_thread (leaf_path, NULL, &error));
    g_assert_error (error, IMZALA_ERROR, IMZALA_ERROR_CERTIFICATE_INVALID);
    g_clear_error (&error);

    g_cancellable_cancel (cancellable);
    g_assert_null (read_authority_in_thread (der_path, cancellable, &error));
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
    g_clear_error (&error);
  }

  /* Nothing added yet. */
  listed = imzala_trust_list_authorities (dir);
  g_assert_cmpuint (listed->len, ==, 0);
  g_clear_pointer (&listed, g_ptr_array_unref);

  /* Installed: the folder 0700, the file 0644, named by the fingerprint,
   * the certificate's DER. */
  installed = imzala_trust_install_authority (authority, dir, &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_stat (dir, &info), ==, 0);
  g_assert_cmpuint (info.st_mode & 0777, ==, 0700);
  g_assert_cmpint (g_stat (installed, &info), ==, 0);
  g_assert_cmpuint (info.st_mode & 0777, ==, 0644);
  {
    g_autofree char *name = g_path_get_basename (installed);
    g_autofree char *want = g_strconcat (expected, ".crt", NULL);

    g_assert_cmpstr (name, ==, want);
  }
  g_assert_true (g_file_get_contents (installed, &contents, &length, NULL));
  g_assert_cmpmem (contents, length, g_bytes_get_data (imzala_certificate_get_der (authority), NULL),
                   g_bytes_get_size (imzala_certificate_get_der (authority)));
  {
    g_autofree char *again = openssl_fingerprint (installed, "DER");

    g_assert_cmpstr (again, ==, expected);
  }

  /* A second one; listed by name; the trust reads the folder. */
  sub = imzala_trust_read_authority (fixture->sub_ca_file, &error);
  g_assert_no_error (error);
  g_free (imzala_trust_install_authority (sub, dir, &error));
  g_assert_no_error (error);
  listed = imzala_trust_list_authorities (dir);
  g_assert_cmpuint (listed->len, ==, 2);
  g_assert_cmpstr (imzala_certificate_get_fingerprint (g_ptr_array_index (listed, 0)), ==, expected);
  g_clear_pointer (&listed, g_ptr_array_unref);
  trust = imzala_trust_new ();
  g_assert_true (imzala_trust_add_path (trust, dir, &error));
  g_assert_cmpuint (imzala_trust_get_n_certificates (trust), ==, 2);

  /* Removed, once. */
  g_assert_true (imzala_trust_remove_authority (dir, expected, &error));
  g_assert_no_error (error);
  g_assert_false (g_file_test (installed, G_FILE_TEST_EXISTS));
  listed = imzala_trust_list_authorities (dir);
  g_assert_cmpuint (listed->len, ==, 1);
  g_assert_false (imzala_trust_remove_authority (dir, expected, &error));
  g_assert_error (error, IMZALA_ERROR, IMZALA_ERROR_NO_CERTIFICATE);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add ("/file-signer/detached-100mb", Fixture, NULL, setup, test_detached_100mb, teardown);
  g_test_add ("/file-signer/attached-100mb", Fixture, NULL, setup, test_attached_100mb, teardown);
  g_test_add ("/file-signer/changed-between-passes", Fixture, NULL, setup, test_changed_between_passes, teardown);
  g_test_add ("/file-signer/too-large-before-card", Fixture, NULL, setup, test_too_large_before_card, teardown);
  g_test_add ("/file-signer/cancel-each-step", Fixture, NULL, setup, test_cancel_each_step, teardown);
  g_test_add ("/file-signer/level-t-with-tsa-ca", Fixture, NULL, setup, test_level_t_with_tsa_ca, teardown);
  g_test_add_func ("/trust/authorities", test_authorities);
  return g_test_run ();
}
