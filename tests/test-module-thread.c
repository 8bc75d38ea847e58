/* test-module-thread.c: every call into a PKCS#11 module happens on that
 * module's own thread (imzala-module.c), and certificates are read once per
 * card insertion. Through the fault module (tests/imzala-fault-pkcs11.c):
 * `thread-affine` answers a call from any thread but the one that called
 * C_Initialize with CKR_GENERAL_ERROR and counts it, `count-calls` writes
 * the calls per function at C_Finalize. Each signing ends in a CMS that
 * `openssl cms -verify` accepts.
 */
#define G_LOG_DOMAIN "test-module-thread"

#include "config.h"

#include <dlfcn.h>
#include <string.h>
#include <p11-kit/pkcs11.h>

#include "imzala-pkcs11-private.h"
#include "imzala-test.h"

#define FAULTS "thread-affine,count-calls"
#define CONTENT "Merhaba, dünya: bir iş parçacığından imzalandı.\n"

typedef struct
{
  ImzalaTestFixture *fixture;
  char *count_file;
  char *user_pin;
} Fixture;

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  f->fixture = imzala_test_fixture_new ();
  f->count_file = g_build_filename (f->fixture->dir, "counts.txt", NULL);
  f->user_pin = imzala_test_fixture_get (f->fixture, "fixture", "user-pin");
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  imzala_test_fixture_free (f->fixture);
  g_free (f->count_file);
  g_free (f->user_pin);
}

static ImzalaModuleSet *
load (Fixture *f)
{
  g_autoptr(GError) error = NULL;
  ImzalaModuleSet *modules = imzala_test_fault_load (f->fixture, FAULTS, f->count_file, &error);

  g_assert_no_error (error);
  g_assert_cmpuint (imzala_module_set_get_modules (modules)->len, ==, 1);
  return modules;
}

/* Closes the modules (C_Finalize writes the counts) and reads the counts;
 * no call came from another thread. */
static GHashTable *
close_and_count (Fixture         *f,
                 ImzalaModuleSet *modules)
{
  GHashTable *counts;

  imzala_test_modules_unref_and_wait (modules);
  counts = imzala_test_read_fault_counts (f->count_file);
  g_assert_cmpuint (imzala_test_fault_count (counts, "C_Initialize"), ==, 1);
  g_assert_cmpuint (imzala_test_fault_count (counts, "C_Finalize"), ==, 1);
  imzala_test_assert_no_thread_violations (counts);
  return counts;
}

static ImzalaCertificate *
find_certificate (Fixture      *f,
                  GPtrArray    *tokens,
                  const char   *name,
                  ImzalaToken **token)
{
  g_autofree char *fingerprint = imzala_test_fixture_cert_get (f->fixture, name, "fingerprint");
  g_autoptr(GError) error = NULL;
  ImzalaCertificate *certificate;

  certificate = imzala_module_set_find_certificate (tokens, fingerprint, token, &error);
  g_assert_no_error (error);
  return certificate;
}

/* `openssl cms -verify`, independently of İmzala's verifier. */
static void
assert_openssl_verifies (Fixture *f,
                         GBytes  *cms)
{
  g_autofree char *path = g_build_filename (f->fixture->dir, "signature.p7s", NULL);
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr(GError) error = NULL;
  int wait_status = 0;
  const char *argv[] = { "openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", path,
                         "-CAfile", f->fixture->root_ca_file, "-purpose", "any", NULL };

  g_file_set_contents (path, g_bytes_get_data (cms, NULL), g_bytes_get_size (cms), &error);
  g_assert_no_error (error);
  g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL,
                &out, &err, &wait_status, &error);
  g_assert_no_error (error);
  g_test_message ("openssl cms -verify: %s", err);
  g_assert_true (g_spawn_check_wait_status (wait_status, NULL));
  g_assert_cmpstr (out, ==, CONTENT);
}

static GAsyncResult *
wait_result (GAsyncResult **slot)
{
  while (*slot == NULL)
    g_main_context_iteration (NULL, TRUE);
  return *slot;
}

static void
store_result_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  GAsyncResult **slot = user_data;

  *slot = g_object_ref (result);
}

/* ---- Tests ---- */

/* The fault word itself: a call from another thread than C_Initialize's is
 * refused and counted. */
static gpointer
get_info_thread (gpointer data)
{
  CK_FUNCTION_LIST *functions = data;
  CK_INFO info;

  return GUINT_TO_POINTER ((guint) functions->C_GetInfo (&info));
}

static void
test_fault_word (Fixture       *f,
                 gconstpointer  data)
{
  const char *path = g_getenv ("IMZALA_FAULT_MODULE");
  CK_RV (*get_function_list) (CK_FUNCTION_LIST_PTR_PTR);
  unsigned long (*violations) (void);
  CK_FUNCTION_LIST *functions = NULL;
  CK_INFO info;
  GThread *thread;
  gpointer handle;

  g_setenv ("IMZALA_FAULTS", FAULTS, TRUE);
  g_setenv ("IMZALA_FAULT_TARGET", f->fixture->module_path, TRUE);
  g_setenv ("IMZALA_FAULT_COUNT_FILE", f->count_file, TRUE);

  handle = dlopen (path, RTLD_NOW | RTLD_LOCAL);
  g_assert_nonnull (handle);
  get_function_list = (CK_RV (*) (CK_FUNCTION_LIST_PTR_PTR)) dlsym (handle, "C_GetFunctionList");
  violations = (unsigned long (*) (void)) dlsym (handle, "imzala_fault_thread_violations");
  g_assert_nonnull (get_function_list);
  g_assert_nonnull (violations);
  g_assert_cmpint (get_function_list (&functions), ==, CKR_OK);

  g_assert_cmpint (functions->C_Initialize (NULL), ==, CKR_OK);
  g_assert_cmpint (functions->C_GetInfo (&info), ==, CKR_OK);
  thread = g_thread_new ("other", get_info_thread, functions);
  g_assert_cmpuint (GPOINTER_TO_UINT (g_thread_join (thread)), ==, CKR_GENERAL_ERROR);
  g_assert_cmpuint (violations (), ==, 1);
  g_assert_cmpint (functions->C_Finalize (NULL), ==, CKR_OK);
  dlclose (handle);

  {
    g_autoptr(GHashTable) counts = imzala_test_read_fault_counts (f->count_file);

    g_assert_cmpuint (imzala_test_fault_count (counts, "C_GetInfo"), ==, 2);
    g_assert_cmpuint (imzala_test_fault_count (counts, "thread-violations"), ==, 1);
  }
}

/* The blocking API from the main thread (as the CLI calls it): listing,
 * refreshing, signing and changing the PIN all run on the module's thread. */
static void
test_sync (Fixture       *f,
           gconstpointer  data)
{
  ImzalaModuleSet *modules = load (f);
  g_autoptr(ImzalaSecret) pin = imzala_test_secret (f->user_pin);
  g_autoptr(ImzalaSecret) new_pin = imzala_test_secret ("246801");
  g_autoptr(GBytes) content = g_bytes_new_static (CONTENT, strlen (CONTENT));
  g_autoptr(GPtrArray) tokens = NULL;
  g_autoptr(ImzalaCertificate) signer = NULL;
  g_autoptr(ImzalaToken) token = NULL;
  g_autoptr(GBytes) cms = NULL;
  g_autoptr(GHashTable) counts = NULL;
  g_autoptr(GError) error = NULL;

  tokens = imzala_module_set_list_tokens (modules, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (tokens->len, ==, 3);
  signer = find_certificate (f, tokens, "ayse-p384", &token);
  g_assert_true (imzala_certificate_has_private_key (signer));

  g_assert_true (imzala_token_refresh (token, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (imzala_token_change_pin (token, pin, new_pin, NULL, &error));
  g_assert_no_error (error);
  cms = imzala_token_sign_cms (token, signer, new_pin, content, IMZALA_CMS_NONE, NULL, &error);
  g_assert_no_error (error);
  assert_openssl_verifies (f, cms);

  g_clear_pointer (&tokens, g_ptr_array_unref);
  g_clear_object (&token);
  counts = close_and_count (f, modules);
  g_assert_cmpuint (imzala_test_fault_count (counts, "C_SetPIN"), ==, 1);
  g_assert_cmpuint (imzala_test_fault_count (counts, "C_Sign"), ==, 1);
}

/* The asynchronous API (as the window calls it). */
static void
test_async (Fixture       *f,
            gconstpointer  data)
{
  ImzalaModuleSet *modules = load (f);
  g_autoptr(ImzalaSecret) pin = imzala_test_secret (f->user_pin);
  g_autoptr(ImzalaSecret) new_pin = imzala_test_secret ("246801");
  g_autoptr(GBytes) content = g_bytes_new_static (CONTENT, strlen (CONTENT));
  g_autoptr(GAsyncResult) listed = NULL;
  g_autoptr(GAsyncResult) refreshed = NULL;
  g_autoptr(GAsyncResult) changed = NULL;
  g_autoptr(GAsyncResult) signed_result = NULL;
  g_autoptr(GPtrArray) tokens = NULL;
  g_autoptr(ImzalaCertificate) signer = NULL;
  g_autoptr(ImzalaToken) token = NULL;
  g_autoptr(GBytes) cms = NULL;
  g_autoptr(GHashTable) counts = NULL;
  g_autoptr(GError) error = NULL;

  imzala_module_set_list_tokens_async (modules, NULL, store_result_cb, &listed);
  tokens = imzala_module_set_list_tokens_finish (modules, wait_result (&listed), &error);
  g_assert_no_error (error);
  g_assert_cmpuint (tokens->len, ==, 3);
  signer = find_certificate (f, tokens, "mehmet-p256", &token);

  imzala_token_refresh_async (token, NULL, store_result_cb, &refreshed);
  g_assert_true (imzala_token_refresh_finish (token, wait_result (&refreshed), &error));
  g_assert_no_error (error);

  imzala_token_change_pin_async (token, pin, new_pin, NULL, store_result_cb, &changed);
  g_assert_true (imzala_token_change_pin_finish (token, wait_result (&changed), &error));
  g_assert_no_error (error);

  imzala_token_sign_cms_async (token, signer, new_pin, content, IMZALA_CMS_NONE, NULL,
                               store_result_cb, &signed_result);
  cms = imzala_token_sign_cms_finish (token, wait_result (&signed_result), &error);
  g_assert_no_error (error);
  assert_openssl_verifies (f, cms);

  g_clear_pointer (&tokens, g_ptr_array_unref);
  g_clear_object (&token);
  g_clear_object (&signer);
  g_clear_object (&listed);
  g_clear_object (&refreshed);
  g_clear_object (&changed);
  g_clear_object (&signed_result);
  counts = close_and_count (f, modules);
  g_assert_cmpuint (imzala_test_fault_count (counts, "C_Sign"), ==, 1);
}

/* The last reference to a module dropped on a thread of its own: the module
 * is finalized on its own thread all the same, and the thread joined. */
static gpointer
unref_thread (gpointer data)
{
  g_object_unref (data);
  return NULL;
}

static void
test_last_unref_elsewhere (Fixture       *f,
                           gconstpointer  data)
{
  ImzalaModuleSet *modules = load (f);
  g_autoptr(GPtrArray) tokens = NULL;
  g_autoptr(GHashTable) counts = NULL;
  g_autoptr(GError) error = NULL;
  ImzalaToken *token;
  ImzalaModule *module;
  GWeakRef module_ref;

  tokens = imzala_module_set_list_tokens (modules, NULL, &error);
  g_assert_no_error (error);
  token = g_object_ref (g_ptr_array_index (tokens, 0));
  module = imzala_token_get_module (token);
  g_weak_ref_init (&module_ref, module);
  g_clear_pointer (&tokens, g_ptr_array_unref);
  g_object_unref (modules);

  /* Only the token holds the module now; drop it elsewhere. */
  g_thread_join (g_thread_new ("last-unref", unref_thread, token));
  g_assert_null (g_weak_ref_get (&module_ref));
  g_weak_ref_clear (&module_ref);

  counts = imzala_test_read_fault_counts (f->count_file);
  g_assert_cmpuint (imzala_test_fault_count (counts, "C_Finalize"), ==, 1);
  g_assert_cmpuint (imzala_test_fault_count (counts, "thread-violations"), ==, 0);
}

/* The last reference to a module dropped by work on the module's own thread
 * (a work item freeing the last token): the module finalizes itself there
 * and its thread ends after that item, since it cannot join itself. */
static gboolean
drop_module_cb (gpointer   user_data,
                GError   **error)
{
  g_object_unref (user_data);
  return TRUE;
}

static void
test_last_unref_on_module_thread (Fixture       *f,
                                  gconstpointer  data)
{
  ImzalaModuleSet *modules = load (f);
  ImzalaModule *module = g_object_ref (g_ptr_array_index (imzala_module_set_get_modules (modules), 0));
  g_autoptr(GHashTable) counts = NULL;
  GWeakRef module_ref;

  g_weak_ref_init (&module_ref, module);
  g_object_unref (modules);

  g_assert_true (imzala_module_call (module, drop_module_cb, module, NULL));
  g_assert_null (g_weak_ref_get (&module_ref));
  g_weak_ref_clear (&module_ref);

  counts = imzala_test_read_fault_counts (f->count_file);
  g_assert_cmpuint (imzala_test_fault_count (counts, "C_Finalize"), ==, 1);
  g_assert_cmpuint (imzala_test_fault_count (counts, "thread-violations"), ==, 0);
}

/* A closed module refuses work instead of calling a finalized module. */
static void
test_closed (Fixture       *f,
             gconstpointer  data)
{
  ImzalaModuleSet *modules = load (f);
  g_autoptr(GAsyncResult) refreshed = NULL;
  g_autoptr(GPtrArray) tokens = NULL;
  g_autoptr(GPtrArray) again = NULL;
  g_autoptr(GHashTable) counts = NULL;
  g_autoptr(GError) error = NULL;
  ImzalaToken *token;

  tokens = imzala_module_set_list_tokens (modules, NULL, &error);
  g_assert_no_error (error);
  token = g_ptr_array_index (tokens, 0);

  imzala_module_close_all ();
  g_assert_false (imzala_token_refresh (token, NULL, &error));
  g_assert_error (error, IMZALA_ERROR, IMZALA_ERROR_NO_TOKEN);
  g_clear_error (&error);

  imzala_token_refresh_async (token, NULL, store_result_cb, &refreshed);
  g_assert_false (imzala_token_refresh_finish (token, wait_result (&refreshed), &error));
  g_assert_error (error, IMZALA_ERROR, IMZALA_ERROR_NO_TOKEN);
  g_clear_error (&error);

  again = imzala_module_set_list_tokens (modules, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (again->len, ==, 0);

  g_clear_pointer (&tokens, g_ptr_array_unref);
  g_clear_object (&refreshed);
  counts = close_and_count (f, modules);
}

/* ---- The certificate cache ---- */

static void
refresh_done_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(GError) error = NULL;
  gboolean *done = user_data;

  g_assert_true (imzala_token_list_refresh_finish (IMZALA_TOKEN_LIST (object), result, &error));
  g_assert_no_error (error);
  *done = TRUE;
}

static ImzalaToken *
dup_token_by_label (ImzalaTokenList *list,
                    const char      *label)
{
  for (guint i = 0; i < g_list_model_get_n_items (G_LIST_MODEL (list)); i++)
    {
      g_autoptr(ImzalaToken) token = g_list_model_get_item (G_LIST_MODEL (list), i);

      if (g_strcmp0 (imzala_token_get_label (token), label) == 0)
        return g_steal_pointer (&token);
    }
  g_error ("no token %s", label);
}

static void
refresh_and_wait (ImzalaTokenList *list)
{
  gboolean done = FALSE;

  imzala_token_list_refresh_async (list, NULL, refresh_done_cb, &done);
  while (!done)
    g_main_context_iteration (NULL, TRUE);
}

/* Two refreshes of the token list with no card change read the
 * certificates once: the second finds no object and reads no attribute,
 * and shows the same certificate objects. */
static void
test_token_list_cache (Fixture       *f,
                       gconstpointer  data)
{
  ImzalaModuleSet *modules = load (f);
  ImzalaTokenList *list = imzala_token_list_new (modules);
  g_autoptr(ImzalaToken) first = NULL;
  g_autoptr(ImzalaToken) second = NULL;
  g_autoptr(GHashTable) counts = NULL;

  refresh_and_wait (list);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (list)), ==, 3);
  first = dup_token_by_label (list, "IMZALA TEST 1");
  refresh_and_wait (list);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (list)), ==, 3);
  second = dup_token_by_label (list, "IMZALA TEST 1");

  g_assert_cmpstr (imzala_token_get_serial (first), ==, imzala_token_get_serial (second));
  g_assert_cmpuint (imzala_token_get_certificates (first)->len, >, 0);
  g_assert_cmpuint (imzala_token_get_certificates (first)->len, ==,
                    imzala_token_get_certificates (second)->len);
  for (guint i = 0; i < imzala_token_get_certificates (first)->len; i++)
    g_assert_true (g_ptr_array_index (imzala_token_get_certificates (first), i) ==
                   g_ptr_array_index (imzala_token_get_certificates (second), i));

  g_clear_object (&first);
  g_clear_object (&second);
  g_assert_finalize_object (list);
  counts = close_and_count (f, modules);

  /* Two listings: the slots and token information twice (4 slots, one of
   * them SoftHSM's blank token), the objects once: certificates, private
   * and public keys on each of the 3 tokens. The empty token is not kept
   * (a card may show its certificates only after login), so it is searched
   * again. */
  g_assert_cmpuint (imzala_test_fault_count (counts, "C_GetSlotList"), ==, 4);
  g_assert_cmpuint (imzala_test_fault_count (counts, "C_GetTokenInfo"), ==, 8);
  g_assert_cmpuint (imzala_test_fault_count (counts, "C_FindObjectsInit"), ==, 3 * 3 + 3);
  g_assert_cmpuint (imzala_test_fault_count (counts, "C_OpenSession"), ==, 3 + 1);
}

/* A card taken out leaves the cache with the listing that misses it, and
 * the other cards stay cached. (SoftHSM does not show a token put back in a
 * running process, so reading it again is not shown here.) */
static void
test_cache_forgets_removed_card (Fixture       *f,
                                 gconstpointer  data)
{
  ImzalaModuleSet *modules = load (f);
  g_autoptr(GPtrArray) tokens = NULL;
  g_autoptr(GPtrArray) fewer = NULL;
  g_autoptr(GHashTable) counts = NULL;
  g_autoptr(GError) error = NULL;

  tokens = imzala_module_set_list_tokens (modules, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (tokens->len, ==, 3);

  imzala_test_fixture_remove_token (f->fixture, "IMZALA TEST 2");
  fewer = imzala_module_set_list_tokens (modules, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (fewer->len, ==, 2);

  g_clear_pointer (&tokens, g_ptr_array_unref);
  g_clear_pointer (&fewer, g_ptr_array_unref);
  counts = close_and_count (f, modules);
  /* The first listing searched the 3 tokens, the second only the empty
   * one. */
  g_assert_cmpuint (imzala_test_fault_count (counts, "C_FindObjectsInit"), ==, 3 * 3 + 3);
}

/* ---- Slow module initialisation ---- */

static gboolean
tick_cb (gpointer data)
{
  (*(guint *) data)++;
  return G_SOURCE_CONTINUE;
}

/* A module that takes 1.5 s in C_Initialize (OpenSC with a card it does not
 * know takes about 4.7 s) is loaded on its own thread: the main context,
 * the window's, keeps running meanwhile. */
static void
test_slow_init (Fixture       *f,
                gconstpointer  data)
{
  const char *module = g_getenv ("IMZALA_FAULT_MODULE");
  ImzalaModuleSet *modules = imzala_module_set_new ();
  g_autoptr(GAsyncResult) loaded = NULL;
  g_autoptr(GHashTable) counts = NULL;
  g_autoptr(GError) error = NULL;
  gint64 start;
  guint ticks = 0;
  guint source;

  g_setenv ("IMZALA_FAULTS", FAULTS ",slow-init", TRUE);
  g_setenv ("IMZALA_FAULT_DELAY_MS", "1500", TRUE);
  g_setenv ("IMZALA_FAULT_TARGET", f->fixture->module_path, TRUE);
  g_setenv ("IMZALA_FAULT_COUNT_FILE", f->count_file, TRUE);
  imzala_module_set_set_use_registered (modules, FALSE);
  imzala_module_set_add_module_path (modules, module);

  source = g_timeout_add (50, tick_cb, &ticks);
  start = g_get_monotonic_time ();
  imzala_module_set_load_async (modules, NULL, store_result_cb, &loaded);
  /* Returned at once, and the main loop turns while the module starts. */
  g_assert_cmpint (g_get_monotonic_time () - start, <, G_USEC_PER_SEC / 2);
  g_assert_true (imzala_module_set_load_finish (modules, wait_result (&loaded), &error));
  g_assert_no_error (error);
  g_assert_cmpint (g_get_monotonic_time () - start, >=, 3 * G_USEC_PER_SEC / 2);
  g_assert_cmpuint (ticks, >=, 10);
  g_source_remove (source);
  g_unsetenv ("IMZALA_FAULT_DELAY_MS");

  g_clear_object (&loaded);
  counts = close_and_count (f, modules);
}

/* ---- A single-thread set (imzala-cli sign) ---- */

static guint
count_threads (void)
{
  g_autoptr(GDir) dir = g_dir_open ("/proc/self/task", 0, NULL);
  guint n = 0;

  g_assert_nonnull (dir);
  while (g_dir_read_name (dir) != NULL)
    n++;
  return n;
}

static ImzalaModuleSet *
load_single_thread (Fixture *f)
{
  g_autoptr(GError) error = NULL;
  ImzalaModuleSet *modules = imzala_test_fault_set_new (f->fixture, FAULTS, f->count_file);

  imzala_module_set_set_single_thread (modules, TRUE);
  g_assert_true (imzala_module_set_load (modules, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (imzala_module_set_get_modules (modules)->len, ==, 1);
  return modules;
}

/* Every call is made on the thread that loaded the set (thread-affine
 * counts none from elsewhere), and the blocking API starts no thread; the
 * async API works too, its callbacks coming from the main loop. In a
 * process of its own, whose threads are the test's to count. */
static void
test_single_thread (Fixture       *f,
                    gconstpointer  data)
{
  if (g_test_subprocess ())
    {
      guint threads = count_threads ();
      ImzalaModuleSet *modules = load_single_thread (f);
      g_autoptr(ImzalaSecret) pin = imzala_test_secret (f->user_pin);
      g_autoptr(GBytes) content = g_bytes_new_static (CONTENT, strlen (CONTENT));
      g_autoptr(GAsyncResult) refreshed = NULL;
      g_autoptr(GAsyncResult) signed_result = NULL;
      g_autoptr(GPtrArray) tokens = NULL;
      g_autoptr(ImzalaCertificate) signer = NULL;
      g_autoptr(ImzalaToken) token = NULL;
      g_autoptr(GBytes) cms = NULL;
      g_autoptr(GBytes) cms_async = NULL;
      g_autoptr(GHashTable) counts = NULL;
      g_autoptr(GError) error = NULL;

      g_assert_true (imzala_module_is_current_thread (g_ptr_array_index (imzala_module_set_get_modules (modules), 0)));
      tokens = imzala_module_set_list_tokens (modules, NULL, &error);
      g_assert_no_error (error);
      g_assert_cmpuint (tokens->len, ==, 3);
      signer = find_certificate (f, tokens, "ayse-p384", &token);
      cms = imzala_token_sign_cms (token, signer, pin, content, IMZALA_CMS_NONE, NULL, &error);
      g_assert_no_error (error);
      assert_openssl_verifies (f, cms);
      g_assert_cmpuint (count_threads (), ==, threads);

      imzala_token_refresh_async (token, NULL, store_result_cb, &refreshed);
      g_assert_true (imzala_token_refresh_finish (token, wait_result (&refreshed), &error));
      g_assert_no_error (error);
      imzala_token_sign_cms_async (token, signer, pin, content, IMZALA_CMS_NONE, NULL,
                                   store_result_cb, &signed_result);
      cms_async = imzala_token_sign_cms_finish (token, wait_result (&signed_result), &error);
      g_assert_no_error (error);
      assert_openssl_verifies (f, cms_async);

      g_clear_pointer (&tokens, g_ptr_array_unref);
      g_clear_object (&token);
      g_clear_object (&signer);
      g_clear_object (&refreshed);
      g_clear_object (&signed_result);
      counts = close_and_count (f, modules);
      g_assert_cmpuint (imzala_test_fault_count (counts, "C_Sign"), ==, 2);
      return;
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_test_trap_assert_passed ();
}

/* A call from another thread than the one that loaded a single-thread set
 * is a programming error: refused with a critical, never made. */
static gpointer
refresh_elsewhere (gpointer data)
{
  g_autoptr(GError) error = NULL;

  return GINT_TO_POINTER (imzala_token_refresh (data, NULL, &error));
}

static void
test_single_thread_elsewhere (Fixture       *f,
                              gconstpointer  data)
{
  if (g_test_subprocess ())
    {
      ImzalaModuleSet *modules = load_single_thread (f);
      g_autoptr(GPtrArray) tokens = NULL;
      g_autoptr(GError) error = NULL;

      tokens = imzala_module_set_list_tokens (modules, NULL, &error);
      g_assert_no_error (error);
      g_thread_join (g_thread_new ("elsewhere", refresh_elsewhere, g_ptr_array_index (tokens, 0)));
      return;
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_failed ();
  g_test_trap_assert_stderr ("*is called on the thread that loaded it only*");
  g_test_trap_assert_stderr_unmatched ("*thread-affine*called from another thread*");
}

int
main (int argc, char **argv)
{
  int status;

  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) g_test_add (path, Fixture, NULL, fixture_setup, func, fixture_teardown)
  ADD ("/module-thread/fault-word", test_fault_word);
  ADD ("/module-thread/sync", test_sync);
  ADD ("/module-thread/async", test_async);
  ADD ("/module-thread/last-unref-elsewhere", test_last_unref_elsewhere);
  ADD ("/module-thread/last-unref-on-module-thread", test_last_unref_on_module_thread);
  ADD ("/module-thread/closed", test_closed);
  ADD ("/module-thread/token-list-cache", test_token_list_cache);
  ADD ("/module-thread/cache-forgets-removed-card", test_cache_forgets_removed_card);
  ADD ("/module-thread/slow-init", test_slow_init);
  ADD ("/module-thread/single-thread/calls", test_single_thread);
  ADD ("/module-thread/single-thread/elsewhere", test_single_thread_elsewhere);
#undef ADD

  status = g_test_run ();
  imzala_module_close_all ();
  return status;
}
