/* imzala-test.h: the SoftHSM test fixture for test programs.
 *
 * The pristine fixture is made at test time by tests/fixture/make-fixture.sh
 * (meson target "fixture"); each test program works on its own copy so that
 * tests can run in parallel and change PINs freely.
 */
#pragma once

#include "imzala-core.h"

G_BEGIN_DECLS

typedef struct
{
  char     *dir;          /* this test's private copy, removed by _free() */
  char     *softhsm_conf;
  char     *root_ca_file; /* PEM trust anchor */
  char     *sub_ca_file;
  char     *module_path;  /* the SoftHSM module */
  GKeyFile *manifest;     /* fixture.ini */
} ImzalaTestFixture;

/* The pristine fixture directory (IMZALA_TEST_FIXTURE_DIR). */
const char        *imzala_test_fixture_pristine_dir (void);
/* Copies the pristine store and sets SOFTHSM2_CONF; call before loading. */
ImzalaTestFixture *imzala_test_fixture_new      (void);
void               imzala_test_fixture_free     (ImzalaTestFixture *self);
/* Registered modules off, SoftHSM added by path, loaded. */
ImzalaModuleSet   *imzala_test_fixture_load     (ImzalaTestFixture *self, GError **error);
/* Closes the modules of @modules (C_Finalize on each module's thread, the
 * threads joined), drops @modules and waits until it and its modules are
 * finalized (an idle callback may still hold them). For test teardowns. */
void               imzala_test_modules_unref_and_wait (ImzalaModuleSet *modules);
char              *imzala_test_fixture_get      (ImzalaTestFixture *self, const char *group, const char *key);
/* "[certificate NAME]" key, e.g. _cert_get (f, "ayse-rsa", "fingerprint"). */
char              *imzala_test_fixture_cert_get (ImzalaTestFixture *self, const char *name, const char *key);
/* Removes a token from this copy (by label), as if the card were pulled. */
void               imzala_test_fixture_remove_token (ImzalaTestFixture *self, const char *label);
/* Test PINs only: real PINs never come from a C string. */
ImzalaSecret      *imzala_test_secret           (const char *text);

/* The fault module (IMZALA_FAULT_MODULE) over this fixture's SoftHSM with
 * the IMZALA_FAULTS words @faults, registered modules off, loaded. With
 * @count_file (nullable) the module writes its call counts there at
 * C_Finalize (the count-calls word). */
ImzalaModuleSet   *imzala_test_fault_load       (ImzalaTestFixture *self, const char *faults,
                                                 const char *count_file, GError **error);
/* The same set, not loaded yet (to be configured first). */
ImzalaModuleSet   *imzala_test_fault_set_new    (ImzalaTestFixture *self, const char *faults,
                                                 const char *count_file);
/* The count file the fault module wrote: "C_Name" (and "thread-violations")
 * to the number, which imzala_test_fault_count() reads (0 when absent). */
GHashTable        *imzala_test_read_fault_counts (const char *count_file);
guint              imzala_test_fault_count      (GHashTable *counts, const char *name);
/* The thread-affine word counted its violations (it was on), and none:
 * every call came from the thread that initialised the module. */
void               imzala_test_assert_no_thread_violations (GHashTable *counts);

/* Issue 10: puts a certificate (@cert_pem, PEM file) and, when @key_pem is
 * given, its private key (PEM file) on the empty token "IMZALA TEST BOS" of
 * this copy with CKA_LABEL @label and CKA_ID @hex_id, as a card of another
 * PKI (softhsm2-util and pkcs11-tool). Call before loading the modules. */
void               imzala_test_fixture_put_on_empty_token (ImzalaTestFixture *self,
                                                           const char        *label,
                                                           const char        *hex_id,
                                                           const char        *cert_pem,
                                                           const char        *key_pem);

/* One more token, empty, labelled @label, in this copy's SoftHSM store
 * (softhsm2-util, the fixture's PINs). Call before loading the modules. */
void               imzala_test_fixture_add_empty_token (ImzalaTestFixture *self,
                                                        const char        *label);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ImzalaTestFixture, imzala_test_fixture_free)

/* imzala-cli run by a test (tests/test-cli*.c): its exit status, standard
 * output (every byte, plus a NUL) and standard error. */
typedef struct
{
  int    status;
  char  *out;
  gsize  out_length;
  char  *err;
} ImzalaTestCliResult;

/* Runs $IMZALA_CLI with @args (the command first). @module, when given,
 * adds "--no-registered --module @module" after the command; @env holds
 * name, value pairs for the child; @secrets, when given, is what it reads
 * on fd 3; @input, when given, is its standard input (else an empty pipe).
 * The child has no controlling terminal (setsid), so it never waits for a
 * PIN typed on the developer's terminal. */
ImzalaTestCliResult *imzala_test_cli_run      (const char          *module,
                                               const char *const   *env,
                                               const char          *secrets,
                                               GBytes              *input,
                                               const char *const   *args);
void                 imzala_test_cli_result_free (ImzalaTestCliResult *result);
/* For a child about to be spawned: @env's name, value pairs (nullable) set,
 * and @secrets (nullable) what it reads on fd 3, through a pipe. */
void                 imzala_test_launcher_setup (GSubprocessLauncher *launcher,
                                                 const char *const   *env,
                                                 const char          *secrets);
/* Waits for @process (spawned with stdout and stderr pipes) to end while
 * this thread's main context keeps running, so that a portal or status
 * service this test serves can answer it; its standard output and error,
 * as text. */
void                 imzala_test_communicate_serving (GSubprocess  *process,
                                                      char        **out,
                                                      char        **err);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ImzalaTestCliResult, imzala_test_cli_result_free)

/* ---- Big files and this process's memory (issue 12) ---- */

/* Makes @path a sparse file of @size bytes holding @marker at its start, a
 * third in, half-way and at its end (32 bytes before), so that its content
 * and hash depend on where bytes are, without writing @size bytes. */
void     imzala_test_make_sparse_file (const char *path,
                                       guint64     size,
                                       const char *marker);
/* A field of /proc/self/status in KiB, e.g. "VmRSS:" or "VmHWM:". */
guint64  imzala_test_status_kib       (const char *field);
/* Resets VmHWM to the current RSS through /proc/self/clear_refs (Linux
 * 4.0+); FALSE where a container forbids it. */
gboolean imzala_test_reset_peak       (void);

/* From now on, counts in @count the log messages of @domain whose text
 * contains @needle and keeps the last in @last (nullable), until the
 * process ends. Every message still goes to GLib's default writer. The
 * first call sets the process's log writer, so it comes before
 * g_test_init() and any logging. */
void imzala_test_watch_log (const char  *domain,
                            const char  *needle,
                            guint       *count,
                            char       **last);

/* A TCP port of the loopback that was free a moment ago: bound, read and
 * closed again (nothing listens on it until someone binds it). */
guint16      imzala_test_free_tcp_port    (void);

/* A TLS server that speaks only what the GnuTLS @priority allows:
 * `gnutls-serv --http` with @cert_file and @key_file on a free port of the
 * loopback (in *@port), running when this returns. Its output (line by
 * line: "- Version: TLS1.1" for each handshake made, "Error in handshake"
 * for each one refused) goes to @log_path, or nowhere when NULL. NULL
 * when gnutls-serv is not installed (gnutls-bin). */
GSubprocess *imzala_test_start_tls_server (const char *cert_file,
                                           const char *key_file,
                                           const char *priority,
                                           const char *log_path,
                                           guint      *port);

/* Children of @launcher get SIGTERM when the test process dies, even when
 * an assertion aborts it (a portal or pcscd left running would also keep
 * the test's output pipes open, and the harness would wait for it). */
void imzala_test_launcher_dies_with_test (GSubprocessLauncher *launcher);

G_END_DECLS
