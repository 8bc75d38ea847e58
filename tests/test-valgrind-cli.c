/* test-valgrind-cli.c: imzala-cli's sign, verify and portal commands under
 * valgrind's memcheck (suite 'valgrind', issue 11).
 *
 * The sanitizer build catches most memory errors, but not in the code it
 * does not instrument (OpenSSL, p11-kit, SoftHSM, GnuTLS called by ours),
 * nor a read of uninitialised memory. Each command runs here as a user runs
 * it, on the real fixture card and against the real imzala-portal, under
 * `valgrind --error-exitcode=97 --leak-check=full` with the suppressions of
 * tests/valgrind.supp (library noise only, each explained there): any
 * memory error or definite leak fails the test, with valgrind's log in the
 * test's output.
 */
#define G_LOG_DOMAIN "test-valgrind-cli"

#include "config.h"

#include <string.h>
#include <unistd.h>
#include <glib/gstdio.h>
#include <fcntl.h>
#include <glib-unix.h>

#include "imzala-test.h"
#include "imzala-test-portal.h"

#define VALGRIND_ERROR 97

/* Runs `valgrind imzala-cli @args...` in @dir; @secret (nullable) goes to
 * descriptor 3. Returns the exit status; the CLI's standard output in @out. */
static int
run_valgrind_cli (const char  *dir,
                  const char  *secret,
                  char       **out,
                  const char  *first_arg,
                  ...)
{
  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                                                       G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *log_file = g_build_filename (dir, "valgrind.log", NULL);
  g_autofree char *log = NULL;
  g_autofree char *err = NULL;
  va_list args;
  int status;

  g_ptr_array_add (argv, g_strdup (g_getenv ("IMZALA_VALGRIND")));
  g_ptr_array_add (argv, g_strdup ("--quiet"));
  g_ptr_array_add (argv, g_strdup_printf ("--error-exitcode=%d", VALGRIND_ERROR));
  g_ptr_array_add (argv, g_strdup ("--leak-check=full"));
  g_ptr_array_add (argv, g_strdup ("--show-leak-kinds=definite"));
  g_ptr_array_add (argv, g_strdup ("--errors-for-leak-kinds=definite"));
  g_ptr_array_add (argv, g_strdup ("--num-callers=40"));
  g_ptr_array_add (argv, g_strdup ("--gen-suppressions=all"));
  g_ptr_array_add (argv, g_strdup_printf ("--suppressions=%s/valgrind.supp",
                                          g_getenv ("IMZALA_TEST_SRCDIR")));
  g_ptr_array_add (argv, g_strdup_printf ("--log-file=%s", log_file));
  g_ptr_array_add (argv, g_strdup (g_getenv ("IMZALA_CLI")));
  va_start (args, first_arg);
  for (const char *arg = first_arg; arg != NULL; arg = va_arg (args, const char *))
    g_ptr_array_add (argv, g_strdup (arg));
  va_end (args);
  g_ptr_array_add (argv, NULL);

  /* GLib's slice allocator would hide its blocks from memcheck. */
  g_subprocess_launcher_setenv (launcher, "G_SLICE", "always-malloc", TRUE);
  g_subprocess_launcher_set_cwd (launcher, dir);
  if (secret != NULL)
    {
      int fds[2];

      g_assert_true (g_unix_open_pipe (fds, FD_CLOEXEC, NULL));
      g_assert_cmpint (write (fds[1], secret, strlen (secret)), ==, (gssize) strlen (secret));
      g_assert_cmpint (write (fds[1], "\n", 1), ==, 1);
      close (fds[1]);
      g_subprocess_launcher_take_fd (launcher, fds[0], 3);
    }

  process = g_subprocess_launcher_spawnv (launcher, (const char *const *) argv->pdata, &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (process, NULL, NULL, out, &err, &error);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_get_if_exited (process));
  status = g_subprocess_get_exit_status (process);

  g_test_message ("imzala-cli %s: exit %d; stderr: %s", first_arg, status, err);
  if (g_file_get_contents (log_file, &log, NULL, NULL) && *log != '\0')
    g_test_message ("valgrind: %s", log);
  g_assert_cmpint (status, !=, VALGRIND_ERROR);
  g_unlink (log_file);
  return status;
}

static char *
make_dir (void)
{
  g_autoptr(GError) error = NULL;
  char *dir = g_dir_make_tmp ("imzala-test-valgrind-XXXXXX", &error);

  g_assert_no_error (error);
  return dir;
}

static void
remove_dir (const char *dir, const char * const *files)
{
  for (guint i = 0; files[i] != NULL; i++)
    {
      g_autofree char *path = g_build_filename (dir, files[i], NULL);
      g_unlink (path);
    }
  g_rmdir (dir);
}

/* sign (the fixture's RSA certificate, PIN from a descriptor), then verify
 * what it wrote, both under memcheck. */
static void
test_sign_verify (void)
{
  g_autoptr(ImzalaTestFixture) fixture = imzala_test_fixture_new ();
  g_autofree char *fingerprint = imzala_test_fixture_cert_get (fixture, "ayse-rsa", "fingerprint");
  g_autofree char *dir = make_dir ();
  g_autofree char *content = g_build_filename (dir, "content.txt", NULL);
  g_autofree char *out = NULL;
  g_autoptr(GError) error = NULL;
  const char *files[] = { "content.txt", "signature.p7s", NULL };

  g_file_set_contents (content, "İmzalanacak metin\n", -1, &error);
  g_assert_no_error (error);

  g_assert_cmpint (run_valgrind_cli (dir, "123456", NULL, "sign", "--no-registered",
                                     "--module", fixture->module_path, "--cert", fingerprint,
                                     "--pin-fd", "3", "--out", "signature.p7s", "content.txt",
                                     NULL), ==, 0);
  g_assert_cmpint (run_valgrind_cli (dir, NULL, &out, "verify", "--ca", fixture->root_ca_file,
                                     "--json", "signature.p7s", NULL), ==, 0);
  g_assert_nonnull (strstr (out, "\"valid\" : true"));
  g_assert_nonnull (strstr (out, fingerprint));
  remove_dir (dir, files);
}

static const char *
softhsm_module (void)
{
  const char *module = g_getenv ("SOFTHSM_MODULE");

  return module != NULL ? module : "/usr/lib/softhsm/libsofthsm2.so";
}

/* portal: a signed login on the real imzala-portal with its SoftHSM demo
 * card, from fetching the request to the portal's "done". */
static void
test_portal (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(ImzalaTestPortal) portal = imzala_test_portal_new (0, &error);
  g_autofree char *code = NULL;
  g_autofree char *state = NULL;
  g_autofree char *dir = make_dir ();
  g_autofree char *out = NULL;
  const char *files[] = { NULL };

  g_assert_no_error (error);
  code = imzala_test_portal_create_request (portal, "login", &error);
  g_assert_no_error (error);

  g_assert_cmpint (run_valgrind_cli (dir, IMZALA_TEST_PORTAL_PIN, &out, "portal",
                                     "--portal", portal->url, "--portal-ca", portal->ca_file,
                                     "--code", code, "--pin-fd", "3", "--no-registered",
                                     "--module", softhsm_module (), NULL), ==, 0);
  state = imzala_test_portal_get_state (portal, code);
  g_assert_cmpstr (state, ==, "done");
  g_assert_cmpuint (imzala_test_portal_count_signatures (portal, code), ==, 1);
  remove_dir (dir, files);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  if (g_getenv ("IMZALA_VALGRIND") == NULL || *g_getenv ("IMZALA_VALGRIND") == '\0')
    {
      g_test_skip ("valgrind is not installed");
      return g_test_run ();
    }
  g_test_add_func ("/valgrind/cli/sign-verify", test_sign_verify);
  g_test_add_func ("/valgrind/cli/portal", test_portal);
  return g_test_run ();
}
