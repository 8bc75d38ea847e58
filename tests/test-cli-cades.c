/* test-cli-cades.c: `imzala-cli sign --level T|XL --tsa URL` against the
 * SoftHSM fixture and a real TSA (`openssl ts -reply` behind HTTPS,
 * tests/imzala-test-tsa.c). What the command writes is checked by OpenSSL:
 * `openssl ts -verify` accepts the embedded token and `openssl cms
 * -verify` the signature; when the TSA or the status fails, nothing is
 * written and the exit status says why.
 */
#include "config.h"

#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <glib/gstdio.h>

#include "imzala-test.h"
#include "imzala-test-tsa.h"

#define CONTENT "İmzala test content: e-onay 2026/0010\n"

typedef struct
{
  ImzalaTestFixture *fixture;
  ImzalaTestTsa     *tsa;
  char              *content_path;
  char              *out_path;
  char              *fingerprint;
} Fixture;

static void
setup (Fixture *f, gconstpointer data)
{
  f->fixture = imzala_test_fixture_new ();
  f->tsa = imzala_test_tsa_new ();
  f->content_path = g_build_filename (f->fixture->dir, "content.txt", NULL);
  f->out_path = g_build_filename (f->fixture->dir, "signature.p7s", NULL);
  f->fingerprint = imzala_test_fixture_cert_get (f->fixture, "ayse-rsa", "fingerprint");
  g_assert_true (g_file_set_contents (f->content_path, CONTENT, -1, NULL));
}

static void
teardown (Fixture *f, gconstpointer data)
{
  imzala_test_tsa_free (f->tsa);
  imzala_test_fixture_free (f->fixture);
  g_free (f->content_path);
  g_free (f->out_path);
  g_free (f->fingerprint);
}

static void
new_session (gpointer user_data)
{
  setsid ();
}

/* imzala-cli with SoftHSM only, the PIN on fd 3; returns the exit status
 * and stderr. */
static int
run_cli (Fixture *f, char **err_out, const char *const *args)
{
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *out = NULL;
  char *err = NULL;
  int fds[2];

  g_ptr_array_add (argv, (char *) g_getenv ("IMZALA_CLI"));
  g_ptr_array_add (argv, (char *) args[0]);
  g_ptr_array_add (argv, (char *) "--no-registered");
  g_ptr_array_add (argv, (char *) "--module");
  g_ptr_array_add (argv, f->fixture->module_path);
  for (guint i = 1; args[i] != NULL; i++)
    g_ptr_array_add (argv, (char *) args[i]);
  g_ptr_array_add (argv, NULL);

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE
                                        | G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_subprocess_launcher_set_child_setup (launcher, new_session, NULL, NULL);
  g_assert_cmpint (pipe2 (fds, O_CLOEXEC), ==, 0);
  g_assert_cmpint (write (fds[1], "123456\n", 7), ==, 7);
  close (fds[1]);
  g_subprocess_launcher_take_fd (launcher, fds[0], 3);
  process = g_subprocess_launcher_spawnv (launcher, (const char *const *) argv->pdata, &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (process, "", NULL, &out, &err, &error);
  g_assert_no_error (error);
  g_test_message ("imzala-cli %s: exit %d\nstderr: %s", args[0],
                  g_subprocess_get_exit_status (process), err);
  if (err_out != NULL)
    *err_out = err;
  else
    g_free (err);
  return g_subprocess_get_exit_status (process);
}

#define CLI(f, err, ...) run_cli ((f), (err), (const char *const[]) { __VA_ARGS__, NULL })

static GBytes *
read_out (Fixture *f)
{
  g_autofree char *contents = NULL;
  gsize length = 0;

  g_assert_true (g_file_get_contents (f->out_path, &contents, &length, NULL));
  return g_bytes_new_take (g_steal_pointer (&contents), length);
}

static void
test_sign_t (Fixture *f, gconstpointer data)
{
  g_autofree char *err = NULL;
  g_autoptr(GBytes) cms = NULL;
  g_autoptr(GBytes) token = NULL;
  g_autoptr(GBytes) signature = NULL;
  g_autoptr(GError) error = NULL;
  int status;

  status = CLI (f, &err, "sign", "--cert", f->fingerprint, "--pin-fd", "3",
                "--level", "T", "--tsa", imzala_test_tsa_get_url (f->tsa),
                "--tsa-ca", imzala_test_tsa_get_ca (f->tsa), "--out", f->out_path, f->content_path);
  g_assert_cmpint (status, ==, 0);
  cms = read_out (f);
  token = imzala_test_cms_get_time_stamp_token (cms);
  g_assert_nonnull (token);
  signature = imzala_cades_get_signature_value (cms, &error);
  g_assert_no_error (error);
  g_assert_true (imzala_test_tsa_openssl_verify (f->tsa, token, signature));

  /* OpenSSL still verifies the CMS, against the fixture's root. */
  {
    g_autofree char *verified = g_build_filename (f->fixture->dir, "verified.txt", NULL);
    g_autofree char *text = NULL;
    const char *argv[] = {
      "openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", f->out_path,
      "-CAfile", f->fixture->root_ca_file, "-purpose", "any", "-out", verified, NULL
    };
    int wait_status = 0;

    g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL
                  | G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, NULL, NULL, &wait_status, &error);
    g_assert_no_error (error);
    g_assert_true (g_spawn_check_wait_status (wait_status, NULL));
    g_assert_true (g_file_get_contents (verified, &text, NULL, NULL));
    g_assert_cmpstr (text, ==, CONTENT);
  }
}

/* The TSA fails after the card signed: exit 5, the reason, no file. */
static void
test_sign_t_tsa_fails (Fixture *f, gconstpointer data)
{
  g_autofree char *err = NULL;
  int status;

  imzala_test_tsa_set_mode (f->tsa, IMZALA_TEST_TSA_HTTP_ERROR);
  status = CLI (f, &err, "sign", "--cert", f->fingerprint, "--pin-fd", "3",
                "--level", "T", "--tsa", imzala_test_tsa_get_url (f->tsa),
                "--tsa-ca", imzala_test_tsa_get_ca (f->tsa), "--out", f->out_path, f->content_path);
  g_assert_cmpint (status, ==, 5);
  g_assert_nonnull (strstr (err, "time-stamp server"));
  g_assert_nonnull (strstr (err, "nothing was sent"));
  g_assert_false (g_file_test (f->out_path, G_FILE_TEST_EXISTS));
}

/* XL for a certificate whose status nobody publishes (the fixture names no
 * responder): refused with the reason, exit 4, no file. */
static void
test_sign_xl_no_status (Fixture *f, gconstpointer data)
{
  g_autofree char *err = NULL;
  int status;

  status = CLI (f, &err, "sign", "--cert", f->fingerprint, "--pin-fd", "3",
                "--level", "XL", "--tsa", imzala_test_tsa_get_url (f->tsa),
                "--tsa-ca", imzala_test_tsa_get_ca (f->tsa), "--out", f->out_path, f->content_path);
  g_assert_cmpint (status, ==, 4);
  g_assert_nonnull (strstr (err, "status"));
  g_assert_false (g_file_test (f->out_path, G_FILE_TEST_EXISTS));
}

/* Usage: the levels T and XL need --tsa; an unknown level; http://. */
static void
test_sign_usage (Fixture *f, gconstpointer data)
{
  g_autofree char *err1 = NULL;
  g_autofree char *err2 = NULL;
  g_autofree char *err3 = NULL;

  g_assert_cmpint (CLI (f, &err1, "sign", "--pin-fd", "3", "--level", "T", "--out", f->out_path,
                        f->content_path), ==, 1);
  g_assert_nonnull (strstr (err1, "--tsa"));
  g_assert_cmpint (CLI (f, &err2, "sign", "--pin-fd", "3", "--level", "LTA", "--out", f->out_path,
                        f->content_path), ==, 1);
  g_assert_nonnull (strstr (err2, "BES, T or XL"));
  g_assert_cmpint (CLI (f, &err3, "sign", "--pin-fd", "3", "--level", "T", "--tsa",
                        "http://127.0.0.1:1/tsa", "--out", f->out_path, f->content_path), ==, 5);
  g_assert_nonnull (strstr (err3, "https://"));
  g_assert_false (g_file_test (f->out_path, G_FILE_TEST_EXISTS));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/cli/cades/sign-t", Fixture, NULL, setup, test_sign_t, teardown);
  g_test_add ("/cli/cades/sign-t-tsa-fails", Fixture, NULL, setup, test_sign_t_tsa_fails, teardown);
  g_test_add ("/cli/cades/sign-xl-no-status", Fixture, NULL, setup, test_sign_xl_no_status, teardown);
  g_test_add ("/cli/cades/usage", Fixture, NULL, setup, test_sign_usage, teardown);
  return g_test_run ();
}
