/* test-cli-bigfile.c: imzala-cli sign on big files (issue 12, item 4).
 *
 * The files are made at test time in the fixture's private folder, sparse
 * with a few marked places (cheap to make, real to read), and deleted with
 * it. Each imzala-cli runs in a child of its own whose peak resident memory
 * comes from wait4() (ru_maxrss, what /usr/bin/time -f %M prints): a bound,
 * not a time. The signatures are checked by `openssl cms -verify` and by
 * imzala-cli verify; the size refusals by the fault module's count-calls
 * (the card is never asked anything). `verify --progress` prints the
 * hashing's progress on stderr and leaves stdout as it is without it. */
#define G_LOG_DOMAIN "test-cli-bigfile"

#include "config.h"

#include <fcntl.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <glib/gstdio.h>

#include "imzala-test.h"

/* 100 MB, as the issue asks; and the peak İmzala may take for it. */
#define BIG_SIZE        (G_GUINT64_CONSTANT (100) * 1000 * 1000)
#define RSS_LIMIT_KIB   (64 * 1024)
#define SMALL_BIG_SIZE  (G_GUINT64_CONSTANT (20) * 1024 * 1024)

typedef struct
{
  int   status;
  long  max_rss_kib;
  char *err;
} CliRun;

static void
cli_run_free (CliRun *run)
{
  g_free (run->err);
  g_free (run);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CliRun, cli_run_free)

/* A sparse file of @size bytes with a marker at its start, in its middle
 * and at its end, so that content and its hash depend on where bytes are. */
static char *
make_big_file (ImzalaTestFixture *f, const char *name, guint64 size)
{
  char *path = g_build_filename (f->dir, name, NULL);

  imzala_test_make_sparse_file (path, size, "İmzala büyük dosya");
  return path;
}

/* Runs imzala-cli with @args (and @env pairs added), the PIN on fd 3 when
 * @pin is given, standard input from @input_path (else /dev/null), standard
 * output to /dev/null; waits with wait4() for its peak RSS. */
static CliRun *
cli_run (ImzalaTestFixture *f,
         const char *const *env,
         const char        *pin,
         const char        *input_path,
         const char *const *args)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_auto(GStrv) envp = g_get_environ ();
  g_autofree char *err_path = g_build_filename (f->dir, "cli-stderr.txt", NULL);
  g_autoptr(GError) error = NULL;
  CliRun *run = g_new0 (CliRun, 1);
  struct rusage usage = { 0 };
  int pin_pipe[2] = { -1, -1 };
  int in_fd, out_fd, err_fd;
  int wait_status = 0;
  pid_t pid;

  g_ptr_array_add (argv, (char *) g_getenv ("IMZALA_CLI"));
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (char *) args[i]);
  g_ptr_array_add (argv, NULL);
  for (guint i = 0; env != NULL && env[i] != NULL; i += 2)
    envp = g_environ_setenv (envp, env[i], env[i + 1], TRUE);

  in_fd = g_open (input_path != NULL ? input_path : "/dev/null", O_RDONLY | O_CLOEXEC, 0);
  out_fd = g_open ("/dev/null", O_WRONLY | O_CLOEXEC, 0);
  err_fd = g_open (err_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  g_assert_cmpint (in_fd, >=, 0);
  g_assert_cmpint (out_fd, >=, 0);
  g_assert_cmpint (err_fd, >=, 0);
  if (pin != NULL)
    {
      g_assert_cmpint (pipe2 (pin_pipe, O_CLOEXEC), ==, 0);
      g_assert_cmpint (write (pin_pipe[1], pin, strlen (pin)), ==, (gssize) strlen (pin));
      close (pin_pipe[1]);
    }

  pid = fork ();
  g_assert_cmpint (pid, >=, 0);
  if (pid == 0)
    {
      /* Only async-signal-safe calls between fork and exec. No controlling
       * terminal: the program must never wait for a PIN on one. */
      setsid ();
      dup2 (in_fd, 0);
      dup2 (out_fd, 1);
      dup2 (err_fd, 2);
      if (pin_pipe[0] >= 0)
        dup2 (pin_pipe[0], 3);
      execve (argv->pdata[0], (char **) argv->pdata, envp);
      _exit (127);
    }
  close (in_fd);
  close (out_fd);
  close (err_fd);
  if (pin_pipe[0] >= 0)
    close (pin_pipe[0]);

  g_assert_cmpint (wait4 (pid, &wait_status, 0, &usage), ==, pid);
  g_assert_true (WIFEXITED (wait_status));
  run->status = WEXITSTATUS (wait_status);
  run->max_rss_kib = usage.ru_maxrss;
  g_file_get_contents (err_path, &run->err, NULL, &error);
  g_assert_no_error (error);
  g_test_message ("imzala-cli %s: exit %d, peak RSS %ld KiB\nstderr: %s",
                  args[0], run->status, run->max_rss_kib, run->err);
  return run;
}

#define CLI(f, env, pin, input, ...) \
  cli_run ((f), (env), (pin), (input), (const char *const[]) { __VA_ARGS__, NULL })

static int
run_program (const char *const *args)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *err = NULL;
  int wait_status = 0;

  g_spawn_sync (NULL, (char **) args, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL,
                NULL, NULL, NULL, &err, &wait_status, &error);
  g_assert_no_error (error);
  g_test_message ("%s %s: %s", args[0], args[1], err);
  return g_spawn_check_wait_status (wait_status, NULL) ? 0 : 1;
}

#define RUN(...) run_program ((const char *const[]) { __VA_ARGS__, NULL })

static char *
pin_line (ImzalaTestFixture *f)
{
  g_autofree char *pin = imzala_test_fixture_get (f, "fixture", "user-pin");

  return g_strdup_printf ("%s\n", pin);
}

/* A 100 MB detached signature in constant memory, checked by openssl and by
 * imzala-cli verify; one byte changed and neither accepts it. */
static void
test_detached_100mb (void)
{
  g_autoptr(ImzalaTestFixture) f = imzala_test_fixture_new ();
  g_autofree char *big = make_big_file (f, "big.bin", BIG_SIZE);
  g_autofree char *signature = g_build_filename (f->dir, "big.p7s", NULL);
  g_autofree char *fingerprint = imzala_test_fixture_cert_get (f, "ayse-rsa", "fingerprint");
  g_autofree char *pin = pin_line (f);
  g_autoptr(CliRun) sign = NULL;
  g_autoptr(CliRun) verify = NULL;
  g_autoptr(CliRun) verify_changed = NULL;
  int fd;

  sign = CLI (f, NULL, pin, NULL, "sign", "--no-registered", "--module", f->module_path,
              "--cert", fingerprint, "--pin-fd", "3", "--detached", "--out", signature, big);
  g_assert_cmpint (sign->status, ==, 0);
  g_assert_cmpint (sign->max_rss_kib, >, 0);
  g_assert_cmpint (sign->max_rss_kib, <=, RSS_LIMIT_KIB);
  g_assert_null (strstr (sign->err, "%"));

  g_assert_cmpint (RUN ("openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", signature,
                        "-content", big, "-CAfile", f->root_ca_file, "-purpose", "any"), ==, 0);
  verify = CLI (f, NULL, NULL, NULL, "verify", "--ca", f->root_ca_file,
                "--content", big, signature);
  g_assert_cmpint (verify->status, ==, 0);
  /* Verified as a stream too (issue 12, item 4): 109 MB before. */
  g_assert_cmpint (verify->max_rss_kib, >, 0);
  g_assert_cmpint (verify->max_rss_kib, <=, RSS_LIMIT_KIB);

  /* One byte in the middle changed: the same checks refuse it. */
  fd = g_open (big, O_WRONLY | O_CLOEXEC, 0);
  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (pwrite (fd, "X", 1, (off_t) (BIG_SIZE / 2 + 1)), ==, 1);
  g_assert_cmpint (close (fd), ==, 0);
  g_assert_cmpint (RUN ("openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", signature,
                        "-content", big, "-CAfile", f->root_ca_file, "-purpose", "any"), !=, 0);
  verify_changed = CLI (f, NULL, NULL, NULL, "verify", "--ca", f->root_ca_file,
                        "--content", big, signature);
  g_assert_cmpint (verify_changed->status, ==, 4);
  g_assert_nonnull (strstr (verify_changed->err, "does not match"));
  g_assert_cmpint (verify_changed->max_rss_kib, <=, RSS_LIMIT_KIB);
  g_unlink (big);
}

/* A 100 MB attached signature (P-384, SHA-384) streamed in two passes in
 * constant memory: openssl verifies it and gives back the same bytes;
 * imzala-cli verify checks it in constant memory too, and refuses it after
 * one byte of its content changed. */
static void
test_attached_100mb (void)
{
  g_autoptr(ImzalaTestFixture) f = imzala_test_fixture_new ();
  g_autofree char *big = make_big_file (f, "big.bin", BIG_SIZE);
  g_autofree char *signature = g_build_filename (f->dir, "big-attached.p7s", NULL);
  g_autofree char *extracted = g_build_filename (f->dir, "extracted.bin", NULL);
  g_autofree char *fingerprint = imzala_test_fixture_cert_get (f, "ayse-p384", "fingerprint");
  g_autofree char *pin = pin_line (f);
  g_autoptr(CliRun) sign = NULL;
  g_autoptr(CliRun) verify = NULL;
  g_autoptr(CliRun) piped = NULL;
  g_autoptr(CliRun) with_content = NULL;
  g_autoptr(CliRun) changed = NULL;
  g_autoptr(CliRun) changed_piped = NULL;
  GStatBuf st;
  int fd;

  sign = CLI (f, NULL, pin, NULL, "sign", "--no-registered", "--module", f->module_path,
              "--cert", fingerprint, "--pin-fd", "3", "--out", signature, big);
  g_assert_cmpint (sign->status, ==, 0);
  g_assert_cmpint (sign->max_rss_kib, >, 0);
  g_assert_cmpint (sign->max_rss_kib, <=, RSS_LIMIT_KIB);
  g_assert_cmpint (g_stat (signature, &st), ==, 0);
  g_assert_cmpint ((guint64) st.st_size, >, BIG_SIZE);

  g_assert_cmpint (RUN ("openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", signature,
                        "-CAfile", f->root_ca_file, "-purpose", "any", "-out", extracted), ==, 0);
  g_assert_cmpint (RUN ("cmp", "-s", big, extracted), ==, 0);
  g_unlink (extracted);

  /* imzala-cli verify (issue 12, item 4): the file read around the
   * content, then the content hashed where it lies (~400 MB before); from
   * a pipe, in one pass. Both within the same bound as detached. */
  verify = CLI (f, NULL, NULL, NULL, "verify", "--ca", f->root_ca_file, signature);
  g_assert_cmpint (verify->status, ==, 0);
  g_assert_cmpint (verify->max_rss_kib, >, 0);
  g_assert_cmpint (verify->max_rss_kib, <=, RSS_LIMIT_KIB);
  piped = CLI (f, NULL, NULL, signature, "verify", "--ca", f->root_ca_file, "-");
  g_assert_cmpint (piped->status, ==, 0);
  g_assert_cmpint (piped->max_rss_kib, <=, RSS_LIMIT_KIB);
  /* The content given as well must be the one inside. */
  with_content = CLI (f, NULL, NULL, NULL, "verify", "--ca", f->root_ca_file, signature, big);
  g_assert_cmpint (with_content->status, ==, 0);
  g_assert_cmpint (with_content->max_rss_kib, <=, RSS_LIMIT_KIB);

  /* One byte of the content inside the signature changed: refused, from
   * the file and from the pipe. */
  fd = g_open (signature, O_WRONLY | O_CLOEXEC, 0);
  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (pwrite (fd, "X", 1, (off_t) (st.st_size / 2)), ==, 1);
  g_assert_cmpint (close (fd), ==, 0);
  g_assert_cmpint (RUN ("openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", signature,
                        "-CAfile", f->root_ca_file, "-purpose", "any", "-out", "/dev/null"), !=, 0);
  changed = CLI (f, NULL, NULL, NULL, "verify", "--ca", f->root_ca_file, signature);
  g_assert_cmpint (changed->status, ==, 4);
  g_assert_nonnull (strstr (changed->err, "does not match"));
  changed_piped = CLI (f, NULL, NULL, signature, "verify", "--ca", f->root_ca_file, "-");
  g_assert_cmpint (changed_piped->status, ==, 4);
  g_assert_nonnull (strstr (changed_piped->err, "does not match"));
  g_unlink (signature);
  g_unlink (big);
}

/* Too large for an attached signature (a file over 2^31 - 1 bytes, a pipe
 * over 64 MiB): exit 7 with its own code, before any module is loaded, so
 * the card sees no C_Login (and no C_Initialize). The same command on a
 * small file shows that the counting works. */
static void
test_too_large_before_login (void)
{
  g_autoptr(ImzalaTestFixture) f = imzala_test_fixture_new ();
  g_autofree char *huge = make_big_file (f, "huge.bin", (guint64) G_MAXINT + 1);
  g_autofree char *piped = make_big_file (f, "piped.bin", G_GUINT64_CONSTANT (64) * 1024 * 1024 + 1);
  g_autofree char *small = make_big_file (f, "small.bin", 4096);
  g_autofree char *signature = g_build_filename (f->dir, "huge.p7s", NULL);
  g_autofree char *count_file = g_build_filename (f->dir, "counts.txt", NULL);
  g_autofree char *fingerprint = imzala_test_fixture_cert_get (f, "ayse-rsa", "fingerprint");
  g_autofree char *pin = pin_line (f);
  const char *module = g_getenv ("IMZALA_FAULT_MODULE");
  const char *const env[] = { "IMZALA_FAULTS", "count-calls", "IMZALA_FAULT_TARGET", f->module_path,
                              "IMZALA_FAULT_COUNT_FILE", count_file, NULL };
  g_autoptr(CliRun) file_run = NULL;
  g_autoptr(CliRun) pipe_run = NULL;
  g_autoptr(CliRun) small_run = NULL;
  g_autoptr(GHashTable) counts = NULL;

  g_assert_nonnull (module);
  file_run = CLI (f, env, pin, NULL, "sign", "--no-registered", "--module", module,
                  "--cert", fingerprint, "--pin-fd", "3", "--out", signature, huge);
  g_assert_cmpint (file_run->status, ==, 7);
  g_assert_nonnull (strstr (file_run->err, "too large"));
  g_assert_nonnull (strstr (file_run->err, "--detached"));
  g_assert_false (g_file_test (signature, G_FILE_TEST_EXISTS));
  g_assert_false (g_file_test (count_file, G_FILE_TEST_EXISTS));

  pipe_run = CLI (f, env, pin, piped, "sign", "--no-registered", "--module", module,
                  "--cert", fingerprint, "--pin-fd", "3", "--out", signature, "-");
  g_assert_cmpint (pipe_run->status, ==, 7);
  g_assert_nonnull (strstr (pipe_run->err, "too large"));
  g_assert_false (g_file_test (signature, G_FILE_TEST_EXISTS));
  g_assert_false (g_file_test (count_file, G_FILE_TEST_EXISTS));

  small_run = CLI (f, env, pin, NULL, "sign", "--no-registered", "--module", module,
                   "--cert", fingerprint, "--pin-fd", "3", "--out", signature, small);
  g_assert_cmpint (small_run->status, ==, 0);
  counts = imzala_test_read_fault_counts (count_file);
  g_assert_cmpuint (imzala_test_fault_count (counts, "C_Initialize"), ==, 1);
  g_assert_cmpuint (imzala_test_fault_count (counts, "C_Login"), ==, 1);
  g_unlink (huge);
  g_unlink (piped);
}

/* --progress when standard error is no terminal: a line per 10 %, for both
 * passes, in English and in Turkish. */
static void
test_progress (void)
{
  g_autoptr(ImzalaTestFixture) f = imzala_test_fixture_new ();
  g_autofree char *big = make_big_file (f, "progress.bin", SMALL_BIG_SIZE);
  g_autofree char *signature = g_build_filename (f->dir, "progress.p7s", NULL);
  g_autofree char *fingerprint = imzala_test_fixture_cert_get (f, "ayse-rsa", "fingerprint");
  g_autofree char *pin = pin_line (f);
  g_autofree char *localedir = g_test_build_filename (G_TEST_BUILT, "..", "po", NULL);
  const char *const turkish[] = { "LANGUAGE", "tr", "LC_ALL", "tr_TR.UTF-8",
                                  "IMZALA_LOCALEDIR", localedir, NULL };
  g_autoptr(CliRun) english = NULL;
  g_autoptr(CliRun) quiet = NULL;
  g_autoptr(CliRun) tr = NULL;

  english = CLI (f, NULL, pin, NULL, "sign", "--no-registered", "--module", f->module_path,
                 "--cert", fingerprint, "--pin-fd", "3", "--progress", "--out", signature, big);
  g_assert_cmpint (english->status, ==, 0);
  g_assert_nonnull (strstr (english->err, "Computing the digest… 50%\n"));
  g_assert_nonnull (strstr (english->err, "Computing the digest… 100%\n"));
  g_assert_nonnull (strstr (english->err, "Writing the signature… 100%\n"));
  g_assert_null (strstr (english->err, "Computing the digest… 51%"));
  g_assert_cmpint (RUN ("openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", signature,
                        "-CAfile", f->root_ca_file, "-purpose", "any"), ==, 0);

  /* Not a terminal and no --progress: nothing but errors on stderr. */
  quiet = CLI (f, NULL, pin, NULL, "sign", "--no-registered", "--module", f->module_path,
               "--cert", fingerprint, "--pin-fd", "3", "--detached", "--out", signature, big);
  g_assert_cmpint (quiet->status, ==, 0);
  g_assert_null (strstr (quiet->err, "%"));

  tr = CLI (f, turkish, pin, NULL, "sign", "--no-registered", "--module", f->module_path,
            "--cert", fingerprint, "--pin-fd", "3", "--progress", "--out", signature, big);
  g_assert_cmpint (tr->status, ==, 0);
  g_assert_nonnull (strstr (tr->err, "Özet hesaplanıyor… %100\n"));
  g_assert_nonnull (strstr (tr->err, "İmza yazılıyor… %100\n"));
  g_unlink (big);
}

/* Runs imzala-cli verify @args with @env pairs added, standard input from
 * /dev/null, and returns its exit status, standard output and error. */
static int
verify_captured (const char *const *env, const char *const *args, char **out, char **err)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_auto(GStrv) envp = g_get_environ ();
  g_autoptr(GError) error = NULL;
  int wait_status = 0;

  g_ptr_array_add (argv, (char *) g_getenv ("IMZALA_CLI"));
  g_ptr_array_add (argv, "verify");
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (char *) args[i]);
  g_ptr_array_add (argv, NULL);
  for (guint i = 0; env != NULL && env[i] != NULL; i += 2)
    envp = g_environ_setenv (envp, env[i], env[i + 1], TRUE);
  g_spawn_sync (NULL, (char **) argv->pdata, envp, G_SPAWN_DEFAULT, NULL, NULL, out, err,
                &wait_status, &error);
  g_assert_no_error (error);
  g_assert_true (WIFEXITED (wait_status));
  g_test_message ("imzala-cli verify: exit %d\nstderr: %s", WEXITSTATUS (wait_status), *err);
  return WEXITSTATUS (wait_status);
}

#define VERIFY(env, out, err, ...) \
  verify_captured ((env), (const char *const[]) { __VA_ARGS__, NULL }, (out), (err))

/* verify --progress when standard error is no terminal: a line per 10 %
 * of the content hashed, detached and attached, in English and in
 * Turkish; standard output the same as without it, and without it nothing
 * on stderr. */
static void
test_verify_progress (void)
{
  g_autoptr(ImzalaTestFixture) f = imzala_test_fixture_new ();
  g_autofree char *big = make_big_file (f, "verify-progress.bin", SMALL_BIG_SIZE);
  g_autofree char *detached = g_build_filename (f->dir, "verify-progress.p7s", NULL);
  g_autofree char *attached = g_build_filename (f->dir, "verify-progress.imz", NULL);
  g_autofree char *fingerprint = imzala_test_fixture_cert_get (f, "ayse-rsa", "fingerprint");
  g_autofree char *pin = pin_line (f);
  g_autofree char *localedir = g_test_build_filename (G_TEST_BUILT, "..", "po", NULL);
  const char *const turkish[] = { "LANGUAGE", "tr", "LC_ALL", "tr_TR.UTF-8",
                                  "IMZALA_LOCALEDIR", localedir, NULL };
  g_autoptr(CliRun) sign_detached = NULL;
  g_autoptr(CliRun) sign_attached = NULL;

  sign_detached = CLI (f, NULL, pin, NULL, "sign", "--no-registered", "--module", f->module_path,
                       "--cert", fingerprint, "--pin-fd", "3", "--detached", "--out", detached, big);
  g_assert_cmpint (sign_detached->status, ==, 0);
  sign_attached = CLI (f, NULL, pin, NULL, "sign", "--no-registered", "--module", f->module_path,
                       "--cert", fingerprint, "--pin-fd", "3", "--out", attached, big);
  g_assert_cmpint (sign_attached->status, ==, 0);

  for (guint i = 0; i < 2; i++)
    {
      const char *signature = i == 0 ? detached : attached;
      const char *content = i == 0 ? big : NULL;
      g_autofree char *plain_out = NULL, *plain_err = NULL;
      g_autofree char *progress_out = NULL, *progress_err = NULL;
      g_autofree char *tr_out = NULL, *tr_err = NULL;

      g_assert_cmpint (VERIFY (NULL, &plain_out, &plain_err, "--ca", f->root_ca_file, signature, content),
                       ==, 0);
      g_assert_cmpint (VERIFY (NULL, &progress_out, &progress_err, "--progress", "--ca",
                               f->root_ca_file, signature, content), ==, 0);
      g_assert_nonnull (strstr (plain_out, "The signature is valid.\n"));
      g_assert_cmpstr (progress_out, ==, plain_out);
      g_assert_cmpstr (plain_err, ==, "");
      g_assert_nonnull (strstr (progress_err, "Checking the signature… 10%\n"));
      g_assert_nonnull (strstr (progress_err, "Checking the signature… 50%\n"));
      g_assert_nonnull (strstr (progress_err, "Checking the signature… 100%\n"));
      g_assert_null (strstr (progress_err, "Checking the signature… 51%"));

      g_assert_cmpint (VERIFY (turkish, &tr_out, &tr_err, "--progress", "--ca", f->root_ca_file,
                               signature, content), ==, 0);
      g_assert_nonnull (strstr (tr_err, "İmza doğrulanıyor… %50\n"));
      g_assert_nonnull (strstr (tr_err, "İmza doğrulanıyor… %100\n"));
    }
  g_unlink (big);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/cli/bigfile/detached-100mb", test_detached_100mb);
  g_test_add_func ("/cli/bigfile/attached-100mb", test_attached_100mb);
  g_test_add_func ("/cli/bigfile/too-large-before-login", test_too_large_before_login);
  g_test_add_func ("/cli/bigfile/progress", test_progress);
  g_test_add_func ("/cli/bigfile/verify-progress", test_verify_progress);

  return g_test_run ();
}
