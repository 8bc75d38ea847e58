/* test-token-list.c: the one shared list of tokens, against the SoftHSM
 * fixture: a refresh is one PKCS#11 enumeration, refreshes asked for while
 * one runs share the next one, a card taken out leaves the list, and a
 * signing job that shares the list lists nothing on its own. */
#define G_LOG_DOMAIN "test-token-list"

#include "config.h"

#include <string.h>

#include "imzala-test.h"

/* The list says "Enumerating the tokens" in its debug log once per
 * enumeration; counting those is counting C_GetSlotList rounds. */
static guint n_enumerations;

typedef struct
{
  guint    done;
  gboolean ok;
  GError  *error;
} Refresh;

static void
refresh_cb (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  Refresh *refresh = user_data;

  refresh->ok = imzala_token_list_refresh_finish (IMZALA_TOKEN_LIST (object), result,
                                                  &refresh->error);
  refresh->done++;
}

static void
items_changed_cb (GListModel *model,
                  guint       position,
                  guint       removed,
                  guint       added,
                  guint      *count)
{
  (*count)++;
}

static gboolean
has_token (ImzalaTokenList *list,
           const char      *label)
{
  for (guint i = 0; i < g_list_model_get_n_items (G_LIST_MODEL (list)); i++)
    {
      g_autoptr(ImzalaToken) token = g_list_model_get_item (G_LIST_MODEL (list), i);

      if (g_strcmp0 (imzala_token_get_label (token), label) == 0)
        return TRUE;
    }
  return FALSE;
}

/* A portal that only hands out one login request at once: enough for a job
 * to reach CHOOSING without a network. */
#define TEST_TYPE_PORTAL (test_portal_get_type ())
G_DECLARE_FINAL_TYPE (TestPortal, test_portal, TEST, PORTAL, GObject)

struct _TestPortal
{
  GObject parent_instance;
};

static void test_portal_iface_init (ImzalaPortalInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (TestPortal, test_portal, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (IMZALA_TYPE_PORTAL, test_portal_iface_init))

static void
test_portal_fetch_request_async (ImzalaPortal        *portal,
                                 const char          *code,
                                 GCancellable        *cancellable,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data)
{
  g_autoptr(GTask) task = g_task_new (portal, cancellable, callback, user_data);
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autoptr(GDateTime) expires = g_date_time_add_seconds (now, 300);
  g_autoptr(GBytes) nonce = g_bytes_new_static ("0123456789abcdef", 16);
  g_autoptr(GBytes) content = g_bytes_new_static ("Giriş\n", strlen ("Giriş\n"));
  GPtrArray *texts = g_ptr_array_new_with_free_func (g_object_unref);

  g_ptr_array_add (texts, imzala_request_text_new ("Giriş", content, "text/plain; charset=utf-8"));
  g_task_return_pointer (task,
                         imzala_request_new (code, IMZALA_PURPOSE_LOGIN, "portal.example.org",
                                             "Test", "E-imzalı Giriş", now, expires, nonce, texts,
                                             NULL, NULL, NULL),
                         g_object_unref);
}

static ImzalaRequest *
test_portal_fetch_request_finish (ImzalaPortal  *portal,
                                  GAsyncResult  *result,
                                  GError       **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

static const char *
test_portal_get_host (ImzalaPortal *portal)
{
  return "portal.example.org";
}

static void
test_portal_iface_init (ImzalaPortalInterface *iface)
{
  iface->fetch_request_async = test_portal_fetch_request_async;
  iface->fetch_request_finish = test_portal_fetch_request_finish;
  iface->get_host = test_portal_get_host;
}

static void
test_portal_class_init (TestPortalClass *klass)
{
}

static void
test_portal_init (TestPortal *self)
{
}

static void
test_refresh (void)
{
  g_autoptr(ImzalaTestFixture) f = imzala_test_fixture_new ();
  g_autoptr(GError) error = NULL;
  ImzalaModuleSet *modules = imzala_test_fixture_load (f, &error);
  g_autoptr(ImzalaTokenList) list = NULL;
  g_autoptr(GPtrArray) snapshot = NULL;
  Refresh refresh = { 0 };
  guint changes = 0;

  g_assert_no_error (error);
  list = imzala_token_list_new (modules);
  g_assert_true (imzala_token_list_get_module_set (list) == modules);
  g_assert_true (g_list_model_get_item_type (G_LIST_MODEL (list)) == IMZALA_TYPE_TOKEN);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (list)), ==, 0);
  g_assert_false (imzala_token_list_get_loading (list));
  g_signal_connect (list, "items-changed", G_CALLBACK (items_changed_cb), &changes);

  n_enumerations = 0;
  imzala_token_list_refresh_async (list, NULL, refresh_cb, &refresh);
  g_assert_true (imzala_token_list_get_loading (list));
  while (refresh.done == 0)
    g_main_context_iteration (NULL, TRUE);

  g_assert_no_error (refresh.error);
  g_assert_true (refresh.ok);
  g_assert_cmpuint (n_enumerations, ==, 1);
  g_assert_cmpuint (changes, ==, 1);
  g_assert_false (imzala_token_list_get_loading (list));
  g_assert_null (imzala_token_list_get_error (list));
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (list)), ==, 3);
  g_assert_true (has_token (list, "IMZALA TEST 1"));
  g_assert_true (has_token (list, "IMZALA TEST 2"));
  g_assert_true (has_token (list, "IMZALA TEST BOS"));

  /* A snapshot does not change with the next refresh. */
  snapshot = imzala_token_list_dup_tokens (list);
  g_assert_cmpuint (snapshot->len, ==, 3);

  /* SoftHSM must be finalized before the program exits. */
  g_clear_pointer (&snapshot, g_ptr_array_unref);
  g_clear_object (&list);
  imzala_test_modules_unref_and_wait (modules);
}

/* A card event while the list is being made (the reader monitor, the Cards
 * page and a shown request all ask) costs one more enumeration, not one per
 * caller. */
static void
test_refreshes_share (void)
{
  g_autoptr(ImzalaTestFixture) f = imzala_test_fixture_new ();
  g_autoptr(GError) error = NULL;
  ImzalaModuleSet *modules = imzala_test_fixture_load (f, &error);
  g_autoptr(ImzalaTokenList) list = NULL;
  Refresh first = { 0 };
  Refresh second = { 0 };
  Refresh third = { 0 };

  g_assert_no_error (error);
  list = imzala_token_list_new (modules);

  n_enumerations = 0;
  imzala_token_list_refresh_async (list, NULL, refresh_cb, &first);
  imzala_token_list_refresh_async (list, NULL, refresh_cb, &second);
  imzala_token_list_refresh_async (list, NULL, refresh_cb, &third);
  imzala_token_list_refresh (list);
  while (first.done == 0 || second.done == 0 || third.done == 0)
    g_main_context_iteration (NULL, TRUE);
  while (imzala_token_list_get_loading (list))
    g_main_context_iteration (NULL, TRUE);

  g_assert_true (first.ok && second.ok && third.ok);
  g_assert_cmpuint (first.done + second.done + third.done, ==, 3);
  g_assert_cmpuint (n_enumerations, ==, 2);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (list)), ==, 3);

  /* SoftHSM must be finalized before the program exits. */
  g_clear_object (&list);
  imzala_test_modules_unref_and_wait (modules);
}

/* A caller that gives up gets G_IO_ERROR_CANCELLED; the list is still
 * made for the others. */
static void
test_cancelled_caller (void)
{
  g_autoptr(ImzalaTestFixture) f = imzala_test_fixture_new ();
  g_autoptr(GError) error = NULL;
  ImzalaModuleSet *modules = imzala_test_fixture_load (f, &error);
  g_autoptr(ImzalaTokenList) list = NULL;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  Refresh gave_up = { 0 };
  Refresh stayed = { 0 };

  g_assert_no_error (error);
  list = imzala_token_list_new (modules);

  imzala_token_list_refresh_async (list, cancellable, refresh_cb, &gave_up);
  imzala_token_list_refresh_async (list, NULL, refresh_cb, &stayed);
  g_cancellable_cancel (cancellable);
  while (gave_up.done == 0 || stayed.done == 0)
    g_main_context_iteration (NULL, TRUE);

  g_assert_error (gave_up.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&gave_up.error);
  g_assert_no_error (stayed.error);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (list)), ==, 3);

  /* SoftHSM must be finalized before the program exits. */
  g_clear_object (&list);
  imzala_test_modules_unref_and_wait (modules);
}

/* A card taken out is gone after the next refresh. */
static void
test_card_removed (void)
{
  g_autoptr(ImzalaTestFixture) f = imzala_test_fixture_new ();
  g_autoptr(GError) error = NULL;
  ImzalaModuleSet *modules = imzala_test_fixture_load (f, &error);
  g_autoptr(ImzalaTokenList) list = NULL;
  Refresh refresh = { 0 };

  g_assert_no_error (error);
  list = imzala_token_list_new (modules);
  imzala_token_list_refresh_async (list, NULL, refresh_cb, &refresh);
  while (refresh.done == 0)
    g_main_context_iteration (NULL, TRUE);
  g_assert_true (has_token (list, "IMZALA TEST 2"));

  imzala_test_fixture_remove_token (f, "IMZALA TEST 2");
  imzala_token_list_refresh_async (list, NULL, refresh_cb, &refresh);
  while (refresh.done == 1)
    g_main_context_iteration (NULL, TRUE);
  g_assert_no_error (refresh.error);
  g_assert_false (has_token (list, "IMZALA TEST 2"));
  g_assert_true (has_token (list, "IMZALA TEST 1"));

  /* SoftHSM must be finalized before the program exits. */
  g_clear_object (&list);
  imzala_test_modules_unref_and_wait (modules);
}

static void
notify_count_cb (GObject    *object,
                 GParamSpec *pspec,
                 guint      *count)
{
  (*count)++;
}

static gboolean
job_has_certificate_of (ImzalaSigningJob *job,
                        const char       *holder)
{
  GListModel *certificates = imzala_signing_job_get_certificates (job);

  for (guint i = 0; i < g_list_model_get_n_items (certificates); i++)
    {
      g_autoptr(ImzalaCertificate) certificate = g_list_model_get_item (certificates, i);

      if (g_strcmp0 (imzala_certificate_get_holder_name (certificate), holder) == 0)
        return TRUE;
    }
  return FALSE;
}

/* The window's case: a job that shares the application's list starts with
 * one enumeration, and a card event while the request is shown is one more
 * enumeration that the list and the job both see (it used to be two: the
 * window and the job each listed). */
static void
test_shared_with_job (void)
{
  g_autoptr(ImzalaTestFixture) f = imzala_test_fixture_new ();
  g_autoptr(GError) error = NULL;
  ImzalaModuleSet *modules = imzala_test_fixture_load (f, &error);
  g_autoptr(ImzalaTokenList) list = NULL;
  g_autoptr(ImzalaPortal) portal = g_object_new (TEST_TYPE_PORTAL, NULL);
  g_autoptr(ImzalaSigningJob) job = NULL;
  guint token_notifications = 0;

  g_assert_no_error (error);
  list = imzala_token_list_new (modules);
  job = imzala_signing_job_new_for_token_list (portal, list);

  n_enumerations = 0;
  imzala_signing_job_start (job, "ABCD-EFGH-JKMN");
  while (imzala_signing_job_get_state (job) == IMZALA_JOB_STATE_FETCHING)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpint (imzala_signing_job_get_state (job), ==, IMZALA_JOB_STATE_CHOOSING);
  /* CHOOSING comes with the request; the tokens may come after it. */
  while (imzala_signing_job_get_tokens_loading (job))
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpint (imzala_signing_job_get_state (job), ==, IMZALA_JOB_STATE_CHOOSING);
  g_assert_cmpuint (n_enumerations, ==, 1);
  g_assert_cmpuint (imzala_signing_job_get_tokens (job)->len, ==, 3);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (list)), ==, 3);
  g_assert_true (job_has_certificate_of (job, "MEHMET DEMİR"));

  /* The card with Mehmet's certificate is taken out; the reader monitor's
   * event refreshes the list, and only the list. */
  g_signal_connect (job, "notify::tokens", G_CALLBACK (notify_count_cb), &token_notifications);
  imzala_test_fixture_remove_token (f, "IMZALA TEST 2");
  n_enumerations = 0;
  imzala_token_list_refresh (list);
  while (imzala_token_list_get_loading (list))
    g_main_context_iteration (NULL, TRUE);

  g_assert_cmpuint (n_enumerations, ==, 1);
  g_assert_cmpuint (token_notifications, ==, 1);
  g_assert_cmpuint (imzala_signing_job_get_tokens (job)->len, ==, 2);
  g_assert_false (job_has_certificate_of (job, "MEHMET DEMİR"));

  /* The job's own refresh (after a wrong PIN) is the list's, too. */
  n_enumerations = 0;
  imzala_signing_job_refresh_tokens (job);
  while (imzala_token_list_get_loading (list))
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpuint (n_enumerations, ==, 1);
  g_assert_cmpuint (token_notifications, ==, 2);

  imzala_signing_job_cancel (job);

  /* SoftHSM must be finalized before the program exits. */
  g_clear_object (&job);
  g_clear_object (&list);
  imzala_test_modules_unref_and_wait (modules);
}

int
main (int    argc,
      char **argv)
{
  imzala_test_watch_log ("imzala-token-list", "Enumerating the tokens", &n_enumerations, NULL);
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/token-list/refresh", test_refresh);
  g_test_add_func ("/token-list/refreshes-share", test_refreshes_share);
  g_test_add_func ("/token-list/cancelled-caller", test_cancelled_caller);
  g_test_add_func ("/token-list/card-removed", test_card_removed);
  g_test_add_func ("/token-list/shared-with-job", test_shared_with_job);

  return g_test_run ();
}
