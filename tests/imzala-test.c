#define G_LOG_DOMAIN "imzala-test"

#include "config.h"

#include <fcntl.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>

#include "imzala-test.h"

const char *
imzala_test_fixture_pristine_dir (void)
{
  const char *dir = g_getenv ("IMZALA_TEST_FIXTURE_DIR");

  if (dir == NULL || !g_file_test (dir, G_FILE_TEST_IS_DIR))
    g_error ("IMZALA_TEST_FIXTURE_DIR is not set to the fixture (run the tests through meson)");
  return dir;
}

static char *
source_script (const char *name)
{
  const char *srcdir = g_getenv ("IMZALA_TEST_SRCDIR");

  if (srcdir == NULL)
    g_error ("IMZALA_TEST_SRCDIR is not set (run the tests through meson)");
  return g_build_filename (srcdir, "fixture", name, NULL);
}

ImzalaTestFixture *
imzala_test_fixture_new (void)
{
  ImzalaTestFixture *self = g_new0 (ImzalaTestFixture, 1);
  g_autoptr(GError) error = NULL;
  g_autofree char *tmp = NULL;
  g_autofree char *script = source_script ("copy-fixture.sh");
  g_autofree char *ini = NULL;
  g_autofree char *root = NULL;
  g_autofree char *sub = NULL;
  int status = 0;

  tmp = g_dir_make_tmp ("imzala-test-XXXXXX", &error);
  g_assert_no_error (error);
  self->dir = g_build_filename (tmp, "fixture", NULL);

  {
    const char *argv[] = { script, imzala_test_fixture_pristine_dir (), self->dir, NULL };
    g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, NULL, NULL, &status,
                  &error);
    g_assert_no_error (error);
    g_spawn_check_wait_status (status, &error);
    g_assert_no_error (error);
  }

  self->softhsm_conf = g_build_filename (self->dir, "softhsm2.conf", NULL);
  g_setenv ("SOFTHSM2_CONF", self->softhsm_conf, TRUE);

  self->manifest = g_key_file_new ();
  ini = g_build_filename (self->dir, "fixture.ini", NULL);
  g_key_file_load_from_file (self->manifest, ini, G_KEY_FILE_NONE, &error);
  g_assert_no_error (error);

  root = g_key_file_get_string (self->manifest, "fixture", "root-ca", &error);
  g_assert_no_error (error);
  sub = g_key_file_get_string (self->manifest, "fixture", "sub-ca", &error);
  g_assert_no_error (error);
  self->root_ca_file = g_build_filename (self->dir, root, NULL);
  self->sub_ca_file = g_build_filename (self->dir, sub, NULL);
  self->module_path = g_key_file_get_string (self->manifest, "fixture", "softhsm-module", &error);
  g_assert_no_error (error);

  return self;
}

static void
remove_tree (const char *path)
{
  g_autoptr(GFile) file = g_file_new_for_path (path);
  g_autoptr(GFileEnumerator) children = NULL;

  children = g_file_enumerate_children (file, G_FILE_ATTRIBUTE_STANDARD_NAME ","
                                        G_FILE_ATTRIBUTE_STANDARD_TYPE,
                                        G_FILE_QUERY_INFO_NOFOLLOW_SYMLINKS, NULL, NULL);
  if (children != NULL)
    {
      GFileInfo *info;

      while ((info = g_file_enumerator_next_file (children, NULL, NULL)) != NULL)
        {
          g_autofree char *child = g_build_filename (path, g_file_info_get_name (info), NULL);

          if (g_file_info_get_file_type (info) == G_FILE_TYPE_DIRECTORY)
            remove_tree (child);
          else
            g_unlink (child);
          g_object_unref (info);
        }
    }
  g_rmdir (path);
}

void
imzala_test_fixture_free (ImzalaTestFixture *self)
{
  g_autofree char *parent = NULL;

  if (self == NULL)
    return;

  parent = g_path_get_dirname (self->dir);
  if (g_getenv ("IMZALA_TEST_KEEP") == NULL)
    remove_tree (parent);
  g_free (self->dir);
  g_free (self->softhsm_conf);
  g_free (self->root_ca_file);
  g_free (self->sub_ca_file);
  g_free (self->module_path);
  g_key_file_unref (self->manifest);
  g_free (self);
}

ImzalaModuleSet *
imzala_test_fixture_load (ImzalaTestFixture *self, GError **error)
{
  g_autoptr(ImzalaModuleSet) modules = imzala_module_set_new ();

  imzala_module_set_set_use_registered (modules, FALSE);
  imzala_module_set_add_module_path (modules, self->module_path);
  if (!imzala_module_set_load (modules, NULL, error))
    return NULL;
  return g_steal_pointer (&modules);
}

/* Closes the modules (C_Finalize on each module's thread, the threads
 * joined) before the next test copies the fixture or the program exits
 * (SoftHSM crashes in its exit handlers then), then waits for the objects
 * still held by a finished operation's idle callback to go. */
void
imzala_test_modules_unref_and_wait (ImzalaModuleSet *modules)
{
  GPtrArray *list = imzala_module_set_get_modules (modules);
  g_autoptr(GArray) refs = g_array_new (FALSE, TRUE, sizeof (GWeakRef));

  imzala_module_set_close (modules);
  g_array_set_size (refs, list->len + 1);
  g_weak_ref_init (&g_array_index (refs, GWeakRef, 0), modules);
  for (guint i = 0; i < list->len; i++)
    g_weak_ref_init (&g_array_index (refs, GWeakRef, i + 1), g_ptr_array_index (list, i));
  g_object_unref (modules);

  for (guint i = 0; i < refs->len; i++)
    {
      GWeakRef *ref = &g_array_index (refs, GWeakRef, i);
      GObject *alive;

      while ((alive = g_weak_ref_get (ref)) != NULL)
        {
          g_object_unref (alive);
          g_main_context_iteration (NULL, FALSE);
          g_usleep (G_USEC_PER_SEC / 1000);
        }
      g_weak_ref_clear (ref);
    }
}

char *
imzala_test_fixture_get (ImzalaTestFixture *self, const char *group, const char *key)
{
  g_autoptr(GError) error = NULL;
  char *value = g_key_file_get_string (self->manifest, group, key, &error);

  g_assert_no_error (error);
  return value;
}

char *
imzala_test_fixture_cert_get (ImzalaTestFixture *self, const char *name, const char *key)
{
  g_autofree char *group = g_strdup_printf ("certificate %s", name);

  return imzala_test_fixture_get (self, group, key);
}

void
imzala_test_fixture_remove_token (ImzalaTestFixture *self, const char *label)
{
  g_autofree char *group = g_strdup_printf ("token %s", label);
  g_autofree char *dir = imzala_test_fixture_get (self, group, "dir");
  g_autofree char *path = g_build_filename (self->dir, "tokens", dir, NULL);

  g_assert_true (g_file_test (path, G_FILE_TEST_IS_DIR));
  remove_tree (path);
}

ImzalaSecret *
imzala_test_secret (const char *text)
{
  return imzala_secret_new_from_data ((const guint8 *) text, strlen (text));
}

ImzalaModuleSet *
imzala_test_fault_set_new (ImzalaTestFixture *self,
                           const char        *faults,
                           const char        *count_file)
{
  const char *module = g_getenv ("IMZALA_FAULT_MODULE");
  ImzalaModuleSet *modules = imzala_module_set_new ();
  g_autofree char *pin = imzala_test_fixture_get (self, "fixture", "user-pin");

  g_assert_nonnull (module);
  g_setenv ("IMZALA_FAULTS", faults, TRUE);
  g_setenv ("IMZALA_FAULT_TARGET", self->module_path, TRUE);
  g_setenv ("IMZALA_FAULT_PIN", pin, TRUE);
  if (count_file != NULL)
    g_setenv ("IMZALA_FAULT_COUNT_FILE", count_file, TRUE);
  else
    g_unsetenv ("IMZALA_FAULT_COUNT_FILE");

  imzala_module_set_set_use_registered (modules, FALSE);
  imzala_module_set_add_module_path (modules, module);
  return modules;
}

ImzalaModuleSet *
imzala_test_fault_load (ImzalaTestFixture *self,
                        const char        *faults,
                        const char        *count_file,
                        GError           **error)
{
  g_autoptr(ImzalaModuleSet) modules = imzala_test_fault_set_new (self, faults, count_file);

  if (!imzala_module_set_load (modules, NULL, error))
    return NULL;
  return g_steal_pointer (&modules);
}

GHashTable *
imzala_test_read_fault_counts (const char *count_file)
{
  g_autoptr(GHashTable) counts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autofree char *text = NULL;
  g_auto(GStrv) lines = NULL;
  g_autoptr(GError) error = NULL;

  g_file_get_contents (count_file, &text, NULL, &error);
  g_assert_no_error (error);
  lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_auto(GStrv) fields = g_strsplit (lines[i], " ", 2);

      if (g_strv_length (fields) != 2)
        continue;
      g_hash_table_insert (counts, g_strdup (fields[0]),
                           GUINT_TO_POINTER ((guint) g_ascii_strtoull (fields[1], NULL, 10)));
    }
  return g_steal_pointer (&counts);
}

guint
imzala_test_fault_count (GHashTable *counts,
                         const char *name)
{
  return GPOINTER_TO_UINT (g_hash_table_lookup (counts, name));
}

void
imzala_test_assert_no_thread_violations (GHashTable *counts)
{
  g_assert_true (g_hash_table_contains (counts, "thread-violations"));
  g_assert_cmpuint (imzala_test_fault_count (counts, "thread-violations"), ==, 0);
}

static void
run_fixture_tool (const char *const *argv)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *err = NULL;
  int status = 0;

  g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL,
                NULL, NULL, NULL, &err, &status, &error);
  if (error != NULL)
    g_error ("%s: %s", argv[0], error->message);
  if (!g_spawn_check_wait_status (status, NULL))
    g_error ("%s failed: %s", argv[0], err);
}

void
imzala_test_fixture_put_on_empty_token (ImzalaTestFixture *self,
                                        const char        *label,
                                        const char        *hex_id,
                                        const char        *cert_pem,
                                        const char        *key_pem)
{
  g_autofree char *pin = imzala_test_fixture_get (self, "fixture", "user-pin");
  g_autofree char *der_name = g_strdup_printf ("%s.der", label);
  g_autofree char *der = g_build_filename (self->dir, der_name, NULL);
  const char *const to_der[] = {
    "openssl", "x509", "-in", cert_pem, "-outform", "DER", "-out", der, NULL
  };
  const char *const import_key[] = {
    "softhsm2-util", "--import", key_pem, "--token", "IMZALA TEST BOS", "--label", label,
    "--id", hex_id, "--pin", pin, NULL
  };
  const char *const import_cert[] = {
    "pkcs11-tool", "--module", self->module_path, "--token-label", "IMZALA TEST BOS",
    "--login", "--pin", pin, "--write-object", der, "--type", "cert", "--id", hex_id,
    "--label", label, NULL
  };

  run_fixture_tool (to_der);
  if (key_pem != NULL)
    run_fixture_tool (import_key);
  run_fixture_tool (import_cert);
}

void
imzala_test_fixture_add_empty_token (ImzalaTestFixture *self,
                                     const char        *label)
{
  g_autofree char *pin = imzala_test_fixture_get (self, "fixture", "user-pin");
  g_autofree char *so_pin = imzala_test_fixture_get (self, "fixture", "so-pin");
  const char *const init[] = {
    "softhsm2-util", "--init-token", "--free", "--label", label, "--so-pin", so_pin, "--pin", pin, NULL
  };

  run_fixture_tool (init);
}

/* ---- imzala-cli, run by a test ---- */

static const char *
cli_path (void)
{
  const char *path = g_getenv ("IMZALA_CLI");

  if (path == NULL)
    g_error ("IMZALA_CLI is not set (run the tests through meson)");
  return path;
}

/* Without a controlling terminal the program can never stop and wait for a
 * PIN on the developer's terminal: it must use --pin-fd or fail cleanly. */
static void
new_session (gpointer user_data)
{
  setsid ();
}

void
imzala_test_launcher_setup (GSubprocessLauncher *launcher,
                            const char *const   *env,
                            const char          *secrets)
{
  for (guint i = 0; env != NULL && env[i] != NULL; i += 2)
    g_subprocess_launcher_setenv (launcher, env[i], env[i + 1], TRUE);
  if (secrets != NULL)
    {
      int fds[2];

      g_assert_cmpint (pipe2 (fds, O_CLOEXEC), ==, 0);
      g_assert_cmpint (write (fds[1], secrets, strlen (secrets)), ==, (gssize) strlen (secrets));
      close (fds[1]);
      g_subprocess_launcher_take_fd (launcher, fds[0], 3);
    }
}

ImzalaTestCliResult *
imzala_test_cli_run (const char          *module,
                     const char *const   *env,
                     const char          *secrets,
                     GBytes              *input,
                     const char *const   *args)
{
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GBytes) out = NULL;
  g_autoptr(GBytes) err = NULL;
  g_autoptr(GBytes) empty = NULL;
  g_autoptr(GError) error = NULL;
  ImzalaTestCliResult *result = g_new0 (ImzalaTestCliResult, 1);
  gsize length;

  g_ptr_array_add (argv, (char *) cli_path ());
  for (guint i = 0; args[i] != NULL; i++)
    {
      g_ptr_array_add (argv, (char *) args[i]);
      if (i == 0 && module != NULL)
        {
          g_ptr_array_add (argv, (char *) "--no-registered");
          g_ptr_array_add (argv, (char *) "--module");
          g_ptr_array_add (argv, (char *) module);
        }
    }
  g_ptr_array_add (argv, NULL);

  /* Standard input given is a file, not a pipe: a command that refuses its
   * arguments exits before it reads, and writing into the pipe of a process
   * that is gone would kill the test with SIGPIPE. */
  launcher = g_subprocess_launcher_new ((input != NULL ? 0 : G_SUBPROCESS_FLAGS_STDIN_PIPE)
                                        | G_SUBPROCESS_FLAGS_STDOUT_PIPE
                                        | G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_subprocess_launcher_set_child_setup (launcher, new_session, NULL, NULL);
  imzala_test_launcher_setup (launcher, env, secrets);
  if (input != NULL)
    {
      g_autofree char *input_path = NULL;
      int fd = g_file_open_tmp ("imzala-cli-input-XXXXXX", &input_path, &error);

      g_assert_no_error (error);
      close (fd);
      g_assert_true (g_file_set_contents (input_path, g_bytes_get_data (input, NULL),
                                          g_bytes_get_size (input), &error));
      g_assert_no_error (error);
      g_subprocess_launcher_set_stdin_file_path (launcher, input_path);
      /* The child has it open once spawned; the name can go. */
      process = g_subprocess_launcher_spawnv (launcher, (const char *const *) argv->pdata, &error);
      g_unlink (input_path);
    }
  else
    process = g_subprocess_launcher_spawnv (launcher, (const char *const *) argv->pdata, &error);
  g_assert_no_error (error);
  /* With a stdin pipe GSubprocess wants bytes to send, even none. */
  if (input == NULL)
    empty = g_bytes_new_static ("", 0);
  g_subprocess_communicate (process, empty, NULL, &out, &err, &error);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_get_if_exited (process));
  result->status = g_subprocess_get_exit_status (process);

  /* Standard output can be a binary signature: keep every byte, plus a NUL
   * so that text output can be searched as a string. */
  length = g_bytes_get_size (out);
  result->out = g_malloc0 (length + 1);
  if (length > 0)
    memcpy (result->out, g_bytes_get_data (out, NULL), length);
  result->out_length = length;
  result->err = g_strndup (g_bytes_get_size (err) > 0 ? g_bytes_get_data (err, NULL) : "", g_bytes_get_size (err));
  g_test_message ("imzala-cli %s: exit %d\nstderr: %s", args[0], result->status, result->err);
  return result;
}

typedef struct
{
  gboolean done;
  char    *out;
  char    *err;
} Communication;

static void
communicated_cb (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  Communication *communication = user_data;
  g_autoptr(GError) error = NULL;

  g_subprocess_communicate_utf8_finish (G_SUBPROCESS (source), result, &communication->out,
                                        &communication->err, &error);
  g_assert_no_error (error);
  communication->done = TRUE;
}

void
imzala_test_communicate_serving (GSubprocess  *process,
                                 char        **out,
                                 char        **err)
{
  Communication communication = { 0 };

  g_subprocess_communicate_utf8_async (process, NULL, NULL, communicated_cb, &communication);
  while (!communication.done)
    g_main_context_iteration (NULL, TRUE);
  *out = communication.out;
  *err = communication.err;
}

void
imzala_test_cli_result_free (ImzalaTestCliResult *result)
{
  g_free (result->out);
  g_free (result->err);
  g_free (result);
}

void
imzala_test_make_sparse_file (const char *path, guint64 size, const char *marker)
{
  const guint64 offsets[] = { 0, size / 3, size / 2, size > 32 ? size - 32 : 0 };
  int fd = g_open (path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (ftruncate (fd, (off_t) size), ==, 0);
  for (gsize i = 0; i < G_N_ELEMENTS (offsets); i++)
    {
      gsize length = MIN (strlen (marker), size - offsets[i]);

      g_assert_cmpint (pwrite (fd, marker, length, (off_t) offsets[i]), ==, (gssize) length);
    }
  g_assert_cmpint (close (fd), ==, 0);
}

guint64
imzala_test_status_kib (const char *field)
{
  g_autofree char *status = NULL;
  const char *line;

  g_assert_true (g_file_get_contents ("/proc/self/status", &status, NULL, NULL));
  line = strstr (status, field);
  g_assert_nonnull (line);
  return g_ascii_strtoull (line + strlen (field) + 1, NULL, 10);
}

gboolean
imzala_test_reset_peak (void)
{
  return g_file_set_contents ("/proc/self/clear_refs", "5", 1, NULL);
}

static void
die_with_test (gpointer data)
{
  prctl (PR_SET_PDEATHSIG, SIGTERM);
  /* The test died between the fork and the line above. */
  if (getppid () != (pid_t) GPOINTER_TO_INT (data))
    _exit (1);
}

void
imzala_test_launcher_dies_with_test (GSubprocessLauncher *launcher)
{
  g_subprocess_launcher_set_child_setup (launcher, die_with_test, GINT_TO_POINTER (getpid ()), NULL);
}

typedef struct
{
  const char  *domain;
  const char  *needle;
  guint       *count;
  char       **last;
} LogWatch;

static GPtrArray *log_watches;
static GMutex log_watches_lock;

static GLogWriterOutput
watching_writer (GLogLevelFlags   log_level,
                 const GLogField *fields,
                 gsize            n_fields,
                 gpointer         user_data)
{
  const char *domain = NULL;
  const char *message = NULL;

  for (gsize i = 0; i < n_fields; i++)
    {
      if (g_str_equal (fields[i].key, "GLIB_DOMAIN"))
        domain = fields[i].value;
      else if (g_str_equal (fields[i].key, "MESSAGE"))
        message = fields[i].value;
    }
  g_mutex_lock (&log_watches_lock);
  for (guint i = 0; message != NULL && i < log_watches->len; i++)
    {
      LogWatch *watch = g_ptr_array_index (log_watches, i);

      if (g_strcmp0 (domain, watch->domain) == 0 && strstr (message, watch->needle) != NULL)
        {
          (*watch->count)++;
          if (watch->last != NULL)
            {
              g_free (*watch->last);
              *watch->last = g_strdup (message);
            }
        }
    }
  g_mutex_unlock (&log_watches_lock);
  return g_log_writer_default (log_level, fields, n_fields, user_data);
}

void
imzala_test_watch_log (const char  *domain,
                       const char  *needle,
                       guint       *count,
                       char       **last)
{
  LogWatch *watch = g_new0 (LogWatch, 1);

  watch->domain = domain;
  watch->needle = needle;
  watch->count = count;
  watch->last = last;
  g_mutex_lock (&log_watches_lock);
  if (log_watches == NULL)
    {
      log_watches = g_ptr_array_new_with_free_func (g_free);
      g_log_set_writer_func (watching_writer, NULL, NULL);
    }
  g_ptr_array_add (log_watches, watch);
  g_mutex_unlock (&log_watches_lock);
}

guint16
imzala_test_free_tcp_port (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocket) probe = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
                                           G_SOCKET_PROTOCOL_TCP, &error);
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) any = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) bound = NULL;

  g_assert_no_error (error);
  g_assert_true (g_socket_bind (probe, any, FALSE, &error));
  bound = g_socket_get_local_address (probe, &error);
  g_assert_no_error (error);
  g_socket_close (probe, NULL);
  return g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
}

/* Whether /proc/net/tcp lists a socket listening on @port (any IPv4
 * address). */
static gboolean
tcp_port_listening (guint port)
{
  g_autofree char *table = NULL;
  g_auto(GStrv) lines = NULL;

  if (!g_file_get_contents ("/proc/net/tcp", &table, NULL, NULL))
    return FALSE;
  lines = g_strsplit (table, "\n", -1);
  for (guint i = 1; lines[i] != NULL; i++)
    {
      guint local_port = 0;
      guint state = 0;

      /* "sl: local_address rem_address st ...", addresses as HEX:PORT in
       * hexadecimal; state 0A is LISTEN. */
      if (sscanf (lines[i], " %*s %*x:%x %*x:%*x %x", &local_port, &state) == 2
          && local_port == port && state == 0x0A)
        return TRUE;
    }
  return FALSE;
}

GSubprocess *
imzala_test_start_tls_server (const char *cert_file,
                              const char *key_file,
                              const char *priority,
                              const char *log_path,
                              guint      *port)
{
  g_autofree char *gnutls_serv = g_find_program_in_path ("gnutls-serv");
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autofree char *port_arg = NULL;
  g_autofree char *priority_arg = g_strdup_printf ("--priority=%s", priority);
  g_autoptr(GError) error = NULL;
  GSubprocess *server;

  if (gnutls_serv == NULL)
    return NULL;
  /* gnutls-serv cannot say which port it took itself. */
  *port = imzala_test_free_tcp_port ();
  port_arg = g_strdup_printf ("%u", *port);

  launcher = g_subprocess_launcher_new (log_path != NULL ? G_SUBPROCESS_FLAGS_STDERR_MERGE
                                                         : G_SUBPROCESS_FLAGS_STDOUT_SILENCE
                                                           | G_SUBPROCESS_FLAGS_STDERR_SILENCE);
  if (log_path != NULL)
    g_subprocess_launcher_set_stdout_file_path (launcher, log_path);
  imzala_test_launcher_dies_with_test (launcher);
  /* stdbuf: its output line by line, for a test that reads it meanwhile. */
  server = g_subprocess_launcher_spawn (launcher, &error, "stdbuf", "-oL", gnutls_serv, "--http",
                                        "--port", port_arg, "--x509certfile", cert_file,
                                        "--x509keyfile", key_file, priority_arg, NULL);
  g_assert_no_error (error);
  /* Up when the kernel lists its socket as listening: a connection made to
   * find out would be one more handshake in its log. */
  for (guint i = 0; i < 200; i++)
    {
      if (tcp_port_listening (*port))
        return server;
      g_usleep (25 * 1000);
    }
  g_error ("gnutls-serv did not start on port %u", *port);
}
