/* test-signing-job.c: the ImzalaSigningJob state machine with a fake portal.
 *
 * TestFakePortal implements ImzalaPortal with canned answers and errors and
 * keeps a record of what the job asked and submitted (in the spirit of
 * web-eid's mock UI: the real thing on one side, a scripted partner on the
 * other). The cards are the real SoftHSM fixture tokens, so what the job
 * signs is a real CMS, which is verified against the fixture's root CA.
 * tests/test-portal-client.c runs the same job against a real HTTPS server.
 */
#define G_LOG_DOMAIN "test-signing-job"

#include "config.h"

#include <string.h>

#include "imzala-test.h"
#include "imzala-test-pki.h"
#include "imzala-test-tsa.h"

#define FAKE_HOST "portal.test"

/* ---- The fake portal ---- */

#define TEST_TYPE_FAKE_PORTAL (test_fake_portal_get_type ())
G_DECLARE_FINAL_TYPE (TestFakePortal, test_fake_portal, TEST, FAKE_PORTAL, GObject)

struct _TestFakePortal
{
  GObject parent_instance;

  /* Canned answers, set by the test. */
  ImzalaRequest *request;        /* what a fetch returns */
  GError        *fetch_error;    /* instead of the request */
  gboolean       hold_fetch;     /* the fetch only ends when it is cancelled */
  GError        *submit_error;
  GError        *unblock_error;
  char          *puk;            /* what an unblock returns */

  /* The record of what the job did. */
  guint          n_fetches;
  char          *fetched_code;
  gboolean       fetch_cancelled;
  guint          n_submits;
  GPtrArray     *submitted;      /* GBytes, the last submission */
  guint          n_unblocks;
  char          *unblock_serial;
  int            reported;       /* -1 not reported, 0 failure, 1 success */
  GTask         *held;           /* the held fetch while it waits */
  GSource       *held_source;    /* its wait for the job's cancel */
};

static void test_fake_portal_portal_init (ImzalaPortalInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (TestFakePortal, test_fake_portal, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (IMZALA_TYPE_PORTAL,
                                                      test_fake_portal_portal_init))

static void
test_fake_portal_finalize (GObject *object)
{
  TestFakePortal *self = TEST_FAKE_PORTAL (object);

  g_assert_null (self->held);
  g_assert_null (self->held_source);
  g_clear_object (&self->request);
  g_clear_error (&self->fetch_error);
  g_clear_error (&self->submit_error);
  g_clear_error (&self->unblock_error);
  g_free (self->puk);
  g_free (self->fetched_code);
  g_clear_pointer (&self->submitted, g_ptr_array_unref);
  g_free (self->unblock_serial);

  G_OBJECT_CLASS (test_fake_portal_parent_class)->finalize (object);
}

static void
test_fake_portal_class_init (TestFakePortalClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = test_fake_portal_finalize;
}

static void
test_fake_portal_init (TestFakePortal *self)
{
  self->reported = -1;
}

/* A held fetch ends the way a real one does when the job cancels it. */
static gboolean
held_fetch_cancelled_cb (GCancellable *cancellable,
                         gpointer      user_data)
{
  TestFakePortal *self = user_data;
  g_autoptr(GTask) task = g_steal_pointer (&self->held);

  g_clear_pointer (&self->held_source, g_source_unref);
  self->fetch_cancelled = TRUE;
  g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CANCELLED, "Cancelled");
  return G_SOURCE_REMOVE;
}

/* The held fetch ends with the canned request, as the portal's answer
 * that comes at last. */
static void
test_fake_portal_release_fetch (TestFakePortal *self)
{
  g_autoptr(GTask) task = g_steal_pointer (&self->held);

  g_assert_nonnull (task);
  g_source_destroy (self->held_source);
  g_clear_pointer (&self->held_source, g_source_unref);
  g_task_return_pointer (task, g_object_ref (self->request), g_object_unref);
}

static void
test_fake_portal_fetch_request_async (ImzalaPortal        *portal,
                                      const char          *code,
                                      GCancellable        *cancellable,
                                      GAsyncReadyCallback  callback,
                                      gpointer             user_data)
{
  TestFakePortal *self = TEST_FAKE_PORTAL (portal);
  g_autoptr(GTask) task = g_task_new (self, cancellable, callback, user_data);

  g_task_set_source_tag (task, test_fake_portal_fetch_request_async);
  self->n_fetches++;
  g_free (self->fetched_code);
  self->fetched_code = g_strdup (code);

  if (self->hold_fetch)
    {
      GSource *source = g_cancellable_source_new (cancellable);

      g_assert_null (self->held);
      self->held = g_steal_pointer (&task);
      self->held_source = source;
      g_source_set_callback (source, G_SOURCE_FUNC (held_fetch_cancelled_cb), self, NULL);
      g_source_attach (source, NULL);
      return;
    }

  /* GTask completes in a later main loop iteration, as a network answer
   * would. */
  if (self->fetch_error != NULL)
    g_task_return_error (task, g_error_copy (self->fetch_error));
  else
    g_task_return_pointer (task, g_object_ref (self->request), g_object_unref);
}

static ImzalaRequest *
test_fake_portal_fetch_request_finish (ImzalaPortal *portal,
                                       GAsyncResult *result,
                                       GError      **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
test_fake_portal_submit_signatures_async (ImzalaPortal        *portal,
                                          ImzalaRequest       *request,
                                          GPtrArray           *signatures,
                                          GCancellable        *cancellable,
                                          GAsyncReadyCallback  callback,
                                          gpointer             user_data)
{
  TestFakePortal *self = TEST_FAKE_PORTAL (portal);
  g_autoptr(GTask) task = g_task_new (self, cancellable, callback, user_data);

  g_assert_true (request == self->request);
  self->n_submits++;
  g_clear_pointer (&self->submitted, g_ptr_array_unref);
  self->submitted = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  for (guint i = 0; i < signatures->len; i++)
    g_ptr_array_add (self->submitted, g_bytes_ref (g_ptr_array_index (signatures, i)));

  if (self->submit_error != NULL)
    g_task_return_error (task, g_error_copy (self->submit_error));
  else
    g_task_return_pointer (task, g_strdup ("Giriş işleminiz tamamlanmıştır."), g_free);
}

static char *
test_fake_portal_submit_signatures_finish (ImzalaPortal *portal,
                                           GAsyncResult *result,
                                           GError      **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
test_fake_portal_unblock_async (ImzalaPortal        *portal,
                                ImzalaRequest       *request,
                                const char          *token_serial,
                                GCancellable        *cancellable,
                                GAsyncReadyCallback  callback,
                                gpointer             user_data)
{
  TestFakePortal *self = TEST_FAKE_PORTAL (portal);
  g_autoptr(GTask) task = g_task_new (self, cancellable, callback, user_data);

  g_assert_true (request == self->request);
  self->n_unblocks++;
  g_free (self->unblock_serial);
  self->unblock_serial = g_strdup (token_serial);

  if (self->unblock_error != NULL)
    g_task_return_error (task, g_error_copy (self->unblock_error));
  else
    g_task_return_pointer (task, imzala_test_secret (self->puk),
                           (GDestroyNotify) imzala_secret_unref);
}

static ImzalaSecret *
test_fake_portal_unblock_finish (ImzalaPortal *portal,
                                 GAsyncResult *result,
                                 GError      **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
test_fake_portal_report_unblock_async (ImzalaPortal        *portal,
                                       ImzalaRequest       *request,
                                       gboolean             success,
                                       GCancellable        *cancellable,
                                       GAsyncReadyCallback  callback,
                                       gpointer             user_data)
{
  TestFakePortal *self = TEST_FAKE_PORTAL (portal);
  g_autoptr(GTask) task = g_task_new (self, cancellable, callback, user_data);

  g_assert_true (request == self->request);
  g_assert_cmpint (self->reported, ==, -1);
  self->reported = success ? 1 : 0;
  g_task_return_pointer (task, g_strdup ("Kartınızın kilidi çözüldü."), g_free);
}

static char *
test_fake_portal_report_unblock_finish (ImzalaPortal *portal,
                                        GAsyncResult *result,
                                        GError      **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

static const char *
test_fake_portal_get_host (ImzalaPortal *portal)
{
  return FAKE_HOST;
}

static void
test_fake_portal_portal_init (ImzalaPortalInterface *iface)
{
  iface->fetch_request_async = test_fake_portal_fetch_request_async;
  iface->fetch_request_finish = test_fake_portal_fetch_request_finish;
  iface->submit_signatures_async = test_fake_portal_submit_signatures_async;
  iface->submit_signatures_finish = test_fake_portal_submit_signatures_finish;
  iface->unblock_async = test_fake_portal_unblock_async;
  iface->unblock_finish = test_fake_portal_unblock_finish;
  iface->report_unblock_async = test_fake_portal_report_unblock_async;
  iface->report_unblock_finish = test_fake_portal_report_unblock_finish;
  iface->get_host = test_fake_portal_get_host;
}

/* A request alive from @created_offset to @expires_offset seconds from now on
 * the local clock, with the texts given (NULL-terminated). */
static ImzalaRequest *
make_request (ImzalaPurpose  purpose,
              int            created_offset,
              int            expires_offset,
              const char    *first_text,
              ...)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autoptr(GDateTime) created = g_date_time_add_seconds (now, created_offset);
  g_autoptr(GDateTime) expires = g_date_time_add_seconds (now, expires_offset);
  g_autoptr(GPtrArray) texts = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GBytes) nonce = NULL;
  guint8 nonce_data[32];
  guint n = 0;
  va_list args;

  for (guint i = 0; i < sizeof nonce_data; i++)
    nonce_data[i] = g_random_int_range (0, 256);
  nonce = g_bytes_new (nonce_data, sizeof nonce_data);

  va_start (args, first_text);
  for (const char *text = first_text; text != NULL; text = va_arg (args, const char *))
    {
      g_autofree char *title = g_strdup_printf ("Metin %u", ++n);
      g_autoptr(GBytes) content = g_bytes_new (text, strlen (text));

      g_ptr_array_add (texts, imzala_request_text_new (title, content, NULL));
    }
  va_end (args);

  return imzala_request_new ("ABCDEFGHJKMN", purpose, FAKE_HOST, FAKE_HOST, "E-imzalı Giriş",
                             created, expires, nonce, texts, "AYŞE YILMAZ", "123******50", NULL);
}

/* ---- Fixture ---- */

typedef struct
{
  ImzalaTestFixture *fixture;
  ImzalaModuleSet   *modules;
  TestFakePortal    *portal;
  X509_STORE        *trust;
  char              *user_pin;
  char              *so_pin;
  GArray            *states;   /* ImzalaJobState, every change of the last job */
  guint              n_token_lists;
} JobFixture;

/* What every set-up does once the cards are loaded: the fixture's trust,
 * the fake portal, the PINs, the states seen. */
static void
job_setup_rest (JobFixture *f)
{
  g_autoptr(GError) error = NULL;

  f->trust = imzala_cms_load_trust_file (f->fixture->root_ca_file, &error);
  g_assert_no_error (error);
  f->portal = g_object_new (TEST_TYPE_FAKE_PORTAL, NULL);
  f->user_pin = imzala_test_fixture_get (f->fixture, "fixture", "user-pin");
  f->so_pin = imzala_test_fixture_get (f->fixture, "fixture", "so-pin");
  f->states = g_array_new (FALSE, FALSE, sizeof (ImzalaJobState));
}

/* The fixture's cards, less those @data names (a NULL-terminated array of
 * labels, or NULL), loaded. */
static void
job_setup (JobFixture    *f,
           gconstpointer  data)
{
  const char *const *removed = data;
  g_autoptr(GError) error = NULL;

  f->fixture = imzala_test_fixture_new ();
  for (guint i = 0; removed != NULL && removed[i] != NULL; i++)
    imzala_test_fixture_remove_token (f->fixture, removed[i]);
  f->modules = imzala_test_fixture_load (f->fixture, &error);
  g_assert_no_error (error);
  job_setup_rest (f);
}

/* The fault module with the words @data: for an unblock, "pin-locked" (a
 * portal's PUK is only for a card whose PIN is locked). */
static void
job_setup_faults (JobFixture    *f,
                  gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  f->fixture = imzala_test_fixture_new ();
  f->modules = imzala_test_fault_load (f->fixture, data, NULL, &error);
  g_assert_no_error (error);
  job_setup_rest (f);
}

static void
job_teardown (JobFixture    *f,
              gconstpointer  data)
{
  g_assert_finalize_object (f->portal);
  X509_STORE_free (f->trust);
  imzala_test_modules_unref_and_wait (f->modules);
  imzala_test_fixture_free (f->fixture);
  g_free (f->user_pin);
  g_free (f->so_pin);
  g_array_unref (f->states);
}

static void
state_changed_cb (ImzalaSigningJob *job,
                  GParamSpec       *pspec,
                  JobFixture       *f)
{
  ImzalaJobState state = imzala_signing_job_get_state (job);
  g_array_append_val (f->states, state);
}

static void
tokens_changed_cb (ImzalaSigningJob *job,
                   GParamSpec       *pspec,
                   JobFixture       *f)
{
  f->n_token_lists++;
}

/* The one place that makes a job, over the fake portal and the fixture. */
static ImzalaSigningJob *
new_job (JobFixture *f)
{
  ImzalaSigningJob *job = imzala_signing_job_new (IMZALA_PORTAL (f->portal), f->modules);

  g_array_set_size (f->states, 0);
  f->n_token_lists = 0;
  g_signal_connect (job, "notify::state", G_CALLBACK (state_changed_cb), f);
  g_signal_connect (job, "notify::tokens", G_CALLBACK (tokens_changed_cb), f);
  return job;
}

/* Pending operations hold a reference on the job; when only the test's is
 * left, no thread works on the fixture any more and the job can go. */
static void
finish_job (ImzalaSigningJob *job)
{
  while (G_OBJECT (job)->ref_count > 1)
    g_main_context_iteration (NULL, TRUE);
  g_assert_finalize_object (job);
}

static gboolean
is_busy (ImzalaJobState state)
{
  return state == IMZALA_JOB_STATE_FETCHING || state == IMZALA_JOB_STATE_SIGNING ||
         state == IMZALA_JOB_STATE_SUBMITTING || state == IMZALA_JOB_STATE_UNBLOCKING;
}

/* Waits while the job works, and in CHOOSING also for its first listing
 * of the cards: CHOOSING comes with the request, the tokens may come later
 * ("tokens-loading"), and the tests below choose among them. */
static ImzalaJobState
wait_job (ImzalaSigningJob *job)
{
  while (is_busy (imzala_signing_job_get_state (job)) ||
         (imzala_signing_job_get_state (job) == IMZALA_JOB_STATE_CHOOSING &&
          imzala_signing_job_get_tokens_loading (job)))
    g_main_context_iteration (NULL, TRUE);
  return imzala_signing_job_get_state (job);
}

static void
assert_states (JobFixture *f,
               ...)
{
  g_autoptr(GArray) expected = g_array_new (FALSE, FALSE, sizeof (ImzalaJobState));
  va_list args;
  int state;

  va_start (args, f);
  while ((state = va_arg (args, int)) != -1)
    {
      ImzalaJobState value = state;
      g_array_append_val (expected, value);
    }
  va_end (args);

  for (guint i = 0; i < MAX (expected->len, f->states->len); i++)
    g_test_message ("state %u: expected %d, got %d", i,
                    i < expected->len ? (int) g_array_index (expected, ImzalaJobState, i) : -1,
                    i < f->states->len ? (int) g_array_index (f->states, ImzalaJobState, i) : -1);
  g_assert_cmpmem (f->states->data, f->states->len * sizeof (ImzalaJobState),
                   expected->data, expected->len * sizeof (ImzalaJobState));
}

static ImzalaCertificate *
find_in_job (JobFixture       *f,
             ImzalaSigningJob *job,
             const char       *name)
{
  g_autofree char *fingerprint = imzala_test_fixture_cert_get (f->fixture, name, "fingerprint");
  GListModel *certificates = imzala_signing_job_get_certificates (job);

  for (guint i = 0; i < g_list_model_get_n_items (certificates); i++)
    {
      g_autoptr(ImzalaCertificate) certificate = g_list_model_get_item (certificates, i);

      if (g_strcmp0 (imzala_certificate_get_fingerprint (certificate), fingerprint) == 0)
        return certificate; /* the list keeps it alive */
    }
  g_error ("%s is not among the job's certificates", name);
}

static ImzalaToken *
token_by_label (ImzalaSigningJob *job,
                const char       *label)
{
  GPtrArray *tokens = imzala_signing_job_get_tokens (job);

  for (guint i = 0; tokens != NULL && i < tokens->len; i++)
    if (g_strcmp0 (imzala_token_get_label (g_ptr_array_index (tokens, i)), label) == 0)
      return g_ptr_array_index (tokens, i);
  g_error ("no token %s", label);
}

/* Each submitted signature verifies against the fixture's root, signs the
 * text in the same place of the request, and is by @signer. */
static void
assert_submitted_verify (JobFixture    *f,
                         ImzalaRequest *request,
                         const char    *signer)
{
  g_autofree char *fingerprint = imzala_test_fixture_cert_get (f->fixture, signer, "fingerprint");

  g_assert_nonnull (f->portal->submitted);
  g_assert_cmpuint (f->portal->submitted->len, ==, imzala_request_get_n_texts (request));
  for (guint i = 0; i < f->portal->submitted->len; i++)
    {
      GBytes *expected = imzala_request_text_get_content (imzala_request_get_text (request, i));
      g_autoptr(ImzalaVerifyResult) result = NULL;
      g_autoptr(GError) error = NULL;

      result = imzala_cms_verify (g_ptr_array_index (f->portal->submitted, i), NULL, f->trust,
                                  IMZALA_VERIFY_NONE, &error);
      g_assert_no_error (error);
      g_assert_nonnull (result);
      g_assert_true (g_bytes_equal (result->content, expected));
      g_assert_false (result->detached);
      g_assert_true (result->has_signing_certificate_v2);
      g_assert_cmpstr (imzala_certificate_get_fingerprint (result->signer), ==, fingerprint);
    }
}

/* ---- Tests ---- */

/* fetch → choose → sign → submit → done, and the portal receives a CMS
 * that verifies. */
static void
test_sign (JobFixture    *f,
           gconstpointer  data)
{
  g_autoptr(ImzalaSecret) pin = imzala_test_secret (f->user_pin);
  g_autoptr(GError) error = NULL;
  ImzalaSigningJob *job;
  GPtrArray *signatures;

  f->portal->request = make_request (IMZALA_PURPOSE_LOGIN, -5, 300, "Giriş\n\nİşlem: x", NULL);
  job = new_job (f);

  g_assert_cmpint (imzala_signing_job_get_state (job), ==, IMZALA_JOB_STATE_IDLE);
  imzala_signing_job_start (job, "abcd-efgh-jkmn");
  g_assert_cmpint (imzala_signing_job_get_state (job), ==, IMZALA_JOB_STATE_FETCHING);
  g_assert_cmpint (wait_job (job), ==, IMZALA_JOB_STATE_CHOOSING);

  /* The job asked for the normalised code and shows the portal's request. */
  g_assert_cmpuint (f->portal->n_fetches, ==, 1);
  g_assert_cmpstr (f->portal->fetched_code, ==, "ABCDEFGHJKMN");
  g_assert_true (imzala_signing_job_get_request (job) == f->portal->request);
  g_assert_cmpint (imzala_signing_job_get_remaining_seconds (job), >, 0);
  g_assert_cmpuint (imzala_signing_job_get_tokens (job)->len, ==, 3);
  g_assert_null (imzala_signing_job_get_error (job));

  /* Several qualified certificates: the requester's (AYŞE's, the hint is
   * 123******50) come first and the first of them is preselected; MEHMET's
   * follows. Without a choice the user has to choose. */
  {
    GListModel *certificates = imzala_signing_job_get_certificates (job);
    g_autoptr(ImzalaCertificate) first = g_list_model_get_item (certificates, 0);
    g_autoptr(ImzalaCertificate) second = g_list_model_get_item (certificates, 1);
    g_autoptr(ImzalaCertificate) third = g_list_model_get_item (certificates, 2);

    g_assert_true (imzala_signing_job_get_certificate (job) == first);
    g_assert_cmpstr (imzala_certificate_get_tckn (first), ==, "12345678950");
    g_assert_cmpstr (imzala_certificate_get_tckn (second), ==, "12345678950");
    g_assert_cmpstr (imzala_certificate_get_tckn (third), ==, "10000000146");
  }
  g_assert_true (imzala_signing_job_set_certificate (job, NULL));
  g_assert_false (imzala_signing_job_can_sign (job, &error));
  g_assert_error (error, IMZALA_ERROR, IMZALA_ERROR_AMBIGUOUS_CERTIFICATE);
  g_clear_error (&error);

  g_assert_true (imzala_signing_job_set_certificate (job, find_in_job (f, job, "ayse-rsa")));
  g_assert_true (imzala_signing_job_get_token (job) == token_by_label (job, "IMZALA TEST 1"));
  g_assert_true (imzala_signing_job_can_sign (job, NULL));
  g_assert_cmpuint (f->portal->n_submits, ==, 0);

  imzala_signing_job_sign (job, pin);
  g_assert_cmpint (imzala_signing_job_get_state (job), ==, IMZALA_JOB_STATE_SIGNING);
  g_assert_cmpint (wait_job (job), ==, IMZALA_JOB_STATE_DONE);

  assert_states (f, IMZALA_JOB_STATE_FETCHING, IMZALA_JOB_STATE_CHOOSING,
                 IMZALA_JOB_STATE_SIGNING, IMZALA_JOB_STATE_SUBMITTING,
                 IMZALA_JOB_STATE_DONE, -1);
  g_assert_null (imzala_signing_job_get_error (job));
  g_assert_cmpstr (imzala_signing_job_get_result_message (job), ==,
                   "Giriş işleminiz tamamlanmıştır.");
  g_assert_nonnull (imzala_signing_job_get_signed_at (job));

  /* One submission, of exactly the signatures the job shows. */
  g_assert_cmpuint (f->portal->n_submits, ==, 1);
  assert_submitted_verify (f, f->portal->request, "ayse-rsa");
  signatures = imzala_signing_job_get_signatures (job);
  g_assert_cmpuint (signatures->len, ==, 1);
  g_assert_true (g_bytes_equal (g_ptr_array_index (signatures, 0),
                                g_ptr_array_index (f->portal->submitted, 0)));

  finish_job (job);
}

/* Two texts: both are signed, in order, and submitted together. */
static void
test_two_texts (JobFixture    *f,
                gconstpointer  data)
{
  g_autoptr(ImzalaSecret) pin = imzala_test_secret (f->user_pin);
  ImzalaSigningJob *job;

  f->portal->request = make_request (IMZALA_PURPOSE_APPLICATION, -5, 300,
                                     "Başvuru formu\nAd Soyad: AYŞE YILMAZ",
                                     "Sertifika Sahibi Taahhütnamesi", NULL);
  job = new_job (f);

  imzala_signing_job_start (job, "ABCDEFGHJKMN");
  g_assert_cmpint (wait_job (job), ==, IMZALA_JOB_STATE_CHOOSING);
  g_assert_true (imzala_signing_job_set_certificate (job, find_in_job (f, job, "ayse-p384")));
  imzala_signing_job_sign (job, pin);
  g_assert_cmpint (wait_job (job), ==, IMZALA_JOB_STATE_DONE);

  g_assert_cmpuint (f->portal->n_submits, ==, 1);
  assert_submitted_verify (f, f->portal->request, "ayse-p384");
  g_assert_false (g_bytes_equal (g_ptr_array_index (f->portal->submitted, 0),
                                 g_ptr_array_index (f->portal->submitted, 1)));

  finish_job (job);
}

/* A wrong PIN returns to choosing with the error set and nothing sent; the
 * token list is read again and shows that tries were used; the right PIN
 * then signs. */
static void
test_wrong_pin (JobFixture    *f,
                gconstpointer  data)
{
  g_autoptr(ImzalaSecret) wrong = imzala_test_secret ("000000");
  g_autoptr(ImzalaSecret) pin = imzala_test_secret (f->user_pin);
  g_autofree char *fingerprint = NULL;
  ImzalaCertificate *certificate;
  ImzalaPinState pin_state;
  ImzalaSigningJob *job;
  guint lists;

  f->portal->request = make_request (IMZALA_PURPOSE_LOGIN, 0, 300, "Giriş", NULL);
  job = new_job (f);

  imzala_signing_job_start (job, "ABCDEFGHJKMN");
  g_assert_cmpint (wait_job (job), ==, IMZALA_JOB_STATE_CHOOSING);
  certificate = find_in_job (f, job, "ayse-rsa");
  g_assert_true (imzala_signing_job_set_certificate (job, certificate));
  /* The refresh below replaces the certificate objects. */
  fingerprint = g_strdup (imzala_certificate_get_fingerprint (certificate));
  lists = f->n_token_lists;

  imzala_signing_job_sign (job, wrong);
  g_assert_cmpint (wait_job (job), ==, IMZALA_JOB_STATE_CHOOSING);
  g_assert_error ((GError *) imzala_signing_job_get_error (job), IMZALA_ERROR,
                  IMZALA_ERROR_PIN_INCORRECT);
  g_assert_cmpuint (f->portal->n_submits, ==, 0);
  g_assert_null (f->portal->submitted);
  g_assert_null (imzala_signing_job_get_signatures (job));

  /* The refreshed list says the PIN has fewer tries (SoftHSM sets
   * COUNT_LOW after a wrong PIN) and keeps the selection. */
  while (f->n_token_lists == lists)
    g_main_context_iteration (NULL, TRUE);
  pin_state = imzala_token_get_pin_state (token_by_label (job, "IMZALA TEST 1"));
  g_assert_true (pin_state & IMZALA_PIN_STATE_COUNT_LOW);
  g_assert_false (pin_state & IMZALA_PIN_STATE_LOCKED);
  g_assert_nonnull (imzala_signing_job_get_certificate (job));
  g_assert_cmpstr (imzala_certificate_get_fingerprint (imzala_signing_job_get_certificate (job)),
                   ==, fingerprint);

  imzala_signing_job_sign (job, pin);
  g_assert_cmpint (wait_job (job), ==, IMZALA_JOB_STATE_DONE);
  g_assert_null (imzala_signing_job_get_error (job));
  g_assert_cmpuint (f->portal->n_submits, ==, 1);
  assert_submitted_verify (f, f->portal->request, "ayse-rsa");
  assert_states (f, IMZALA_JOB_STATE_FETCHING, IMZALA_JOB_STATE_CHOOSING,
                 IMZALA_JOB_STATE_SIGNING, IMZALA_JOB_STATE_CHOOSING,
                 IMZALA_JOB_STATE_SIGNING, IMZALA_JOB_STATE_SUBMITTING,
                 IMZALA_JOB_STATE_DONE, -1);

  finish_job (job);
}

/* The portal refuses the code: the job fails with the portal's error and
 * never gets to choosing. */
static void
test_fetch_error (JobFixture    *f,
                  gconstpointer  data)
{
  ImzalaSigningJob *job;
  const GError *error;

  f->portal->request = make_request (IMZALA_PURPOSE_LOGIN, 0, 300, "Giriş", NULL);
  f->portal->fetch_error = g_error_new_literal (IMZALA_ERROR, IMZALA_ERROR_CODE_UNKNOWN,
                                                "Bu kod bilinmiyor.");
  job = new_job (f);

  imzala_signing_job_start (job, "ABCDEFGHJKMN");
  g_assert_cmpint (wait_job (job), ==, IMZALA_JOB_STATE_FAILED);
  error = imzala_signing_job_get_error (job);
  g_assert_error ((GError *) error, IMZALA_ERROR, IMZALA_ERROR_CODE_UNKNOWN);
  g_assert_cmpstr (error->message, ==, "Bu kod bilinmiyor.");
  g_assert_null (imzala_signing_job_get_request (job));
  g_assert_cmpuint (f->portal->n_submits, ==, 0);
  assert_states (f, IMZALA_JOB_STATE_FETCHING, IMZALA_JOB_STATE_FAILED, -1);

  finish_job (job);
}

/* The portal refuses the signatures: the job fails with its error after
 * submitting once, and has no result message. */
static void
test_submit_error (JobFixture    *f,
                   gconstpointer  data)
{
  g_autoptr(ImzalaSecret) pin = imzala_test_secret (f->user_pin);
  ImzalaSigningJob *job;

  f->portal->request = make_request (IMZALA_PURPOSE_LOGIN, 0, 300, "Giriş", NULL);
  f->portal->submit_error = g_error_new_literal (IMZALA_ERROR, IMZALA_ERROR_SIGNER_MISMATCH,
                                                 "İmzalayan kişi başvuran değil.");
  job = new_job (f);

  imzala_signing_job_start (job, "ABCDEFGHJKMN");
  g_assert_cmpint (wait_job (job), ==, IMZALA_JOB_STATE_CHOOSING);
  g_assert_true (imzala_signing_job_set_certificate (job, find_in_job (f, job, "mehmet-p256")));
  imzala_signing_job_sign (job, pin);
  g_assert_cmpint (wait_job (job), ==, IMZALA_JOB_STATE_FAILED);

  g_assert_error ((GError *) imzala_signing_job_get_error (job), IMZALA_ERROR,
                  IMZALA_ERROR_SIGNER_MISMATCH);
  g_assert_null (imzala_signing_job_get_result_message (job));
  g_assert_cmpuint (f->portal->n_submits, ==, 1);
  assert_submitted_verify (f, f->portal->request, "mehmet-p256");
  assert_states (f, IMZALA_JOB_STATE_FETCHING, IMZALA_JOB_STATE_CHOOSING,
                 IMZALA_JOB_STATE_SIGNING, IMZALA_JOB_STATE_SUBMITTING,
                 IMZALA_JOB_STATE_FAILED, -1);

  finish_job (job);
}

/* Cancel while the portal has not answered yet (the cards are already
 * listed): the job fails as cancelled at once, the portal's fetch is
 * cancelled, and its late end changes nothing. */
static void
test_cancel_during_fetch (JobFixture    *f,
                          gconstpointer  data)
{
  ImzalaSigningJob *job;

  f->portal->request = make_request (IMZALA_PURPOSE_LOGIN, 0, 300, "Giriş", NULL);
  f->portal->hold_fetch = TRUE;
  job = new_job (f);

  imzala_signing_job_start (job, "ABCDEFGHJKMN");
  while (imzala_signing_job_get_tokens (job) == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpint (imzala_signing_job_get_state (job), ==, IMZALA_JOB_STATE_FETCHING);
  g_assert_nonnull (f->portal->held);
  g_assert_null (imzala_signing_job_get_request (job));

  imzala_signing_job_cancel (job);
  g_assert_cmpint (imzala_signing_job_get_state (job), ==, IMZALA_JOB_STATE_FAILED);
  g_assert_error ((GError *) imzala_signing_job_get_error (job), G_IO_ERROR, G_IO_ERROR_CANCELLED);

  while (f->portal->held != NULL)
    g_main_context_iteration (NULL, TRUE);
  g_assert_true (f->portal->fetch_cancelled);
  g_assert_cmpint (imzala_signing_job_get_state (job), ==, IMZALA_JOB_STATE_FAILED);
  g_assert_error ((GError *) imzala_signing_job_get_error (job), G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_null (imzala_signing_job_get_request (job));
  g_assert_cmpuint (f->portal->n_submits, ==, 0);
  assert_states (f, IMZALA_JOB_STATE_FETCHING, IMZALA_JOB_STATE_FAILED, -1);

  finish_job (job);
}

/* A request that has already expired (on the portal's clock) is not shown:
 * the job fails with CODE_EXPIRED and no PIN is asked for. */
static void
test_expired (JobFixture    *f,
              gconstpointer  data)
{
  g_autoptr(ImzalaSecret) pin = imzala_test_secret (f->user_pin);
  ImzalaSigningJob *job;

  f->portal->request = make_request (IMZALA_PURPOSE_LOGIN, -600, -300, "Giriş", NULL);
  job = new_job (f);

  imzala_signing_job_start (job, "ABCDEFGHJKMN");
  g_assert_cmpint (wait_job (job), ==, IMZALA_JOB_STATE_FAILED);
  g_assert_error ((GError *) imzala_signing_job_get_error (job), IMZALA_ERROR,
                  IMZALA_ERROR_CODE_EXPIRED);
  g_assert_cmpint (imzala_signing_job_get_remaining_seconds (job), ==, 0);
  g_assert_cmpuint (f->portal->n_submits, ==, 0);
  assert_states (f, IMZALA_JOB_STATE_FETCHING, IMZALA_JOB_STATE_FAILED, -1);

  finish_job (job);
}

/* Signs one text with @certificate_name and @pin in a new job; returns the
 * state it ends in (CHOOSING after a wrong PIN). */
static ImzalaJobState
sign_once (JobFixture   *f,
           const char   *certificate_name,
           ImzalaSecret *pin,
           GError      **error)
{
  ImzalaSigningJob *job;
  ImzalaJobState state;

  g_clear_object (&f->portal->request);
  f->portal->request = make_request (IMZALA_PURPOSE_LOGIN, 0, 300, "Giriş", NULL);
  job = new_job (f);
  imzala_signing_job_start (job, "ABCDEFGHJKMN");
  g_assert_cmpint (wait_job (job), ==, IMZALA_JOB_STATE_CHOOSING);
  g_assert_true (imzala_signing_job_set_certificate (job, find_in_job (f, job, certificate_name)));
  imzala_signing_job_sign (job, pin);
  state = wait_job (job);
  if (imzala_signing_job_get_error (job) != NULL)
    g_propagate_error (error, g_error_copy (imzala_signing_job_get_error (job)));
  finish_job (job);
  return state;
}

/* Unblock: the job asks the portal for the PUK with the chosen card's
 * serial, unblocks the card with it setting the new PIN, and reports
 * success. The card then signs with the new PIN and refuses the old one. */
static void
test_unblock (JobFixture    *f,
              gconstpointer  data)
{
  g_autoptr(ImzalaSecret) new_pin = imzala_test_secret ("246810");
  g_autoptr(ImzalaSecret) old_pin = imzala_test_secret (f->user_pin);
  g_autofree char *serial = imzala_test_fixture_get (f->fixture, "token IMZALA TEST 1", "serial");
  g_autoptr(GError) error = NULL;
  ImzalaSigningJob *job;

  f->portal->request = make_request (IMZALA_PURPOSE_UNBLOCK, 0, 300, NULL);
  f->portal->puk = g_strdup (f->so_pin);
  job = new_job (f);

  imzala_signing_job_start (job, "ABCDEFGHJKMN");
  g_assert_cmpint (wait_job (job), ==, IMZALA_JOB_STATE_CHOOSING);
  g_assert_false (imzala_signing_job_can_sign (job, NULL));

  /* Three cards: the job does not guess, and asks nothing of the portal. */
  imzala_signing_job_unblock (job, new_pin);
  g_assert_cmpint (imzala_signing_job_get_state (job), ==, IMZALA_JOB_STATE_CHOOSING);
  g_assert_error ((GError *) imzala_signing_job_get_error (job), IMZALA_ERROR,
                  IMZALA_ERROR_SEVERAL_TOKENS);
  g_assert_cmpuint (f->portal->n_unblocks, ==, 0);

  g_assert_true (imzala_signing_job_set_token (job, token_by_label (job, "IMZALA TEST 1")));
  imzala_signing_job_unblock (job, new_pin);
  g_assert_cmpint (imzala_signing_job_get_state (job), ==, IMZALA_JOB_STATE_UNBLOCKING);
  g_assert_cmpint (wait_job (job), ==, IMZALA_JOB_STATE_DONE);
  g_assert_null (imzala_signing_job_get_error (job));
  g_assert_cmpstr (imzala_signing_job_get_result_message (job), ==, "Kartınızın kilidi çözüldü.");
  g_assert_cmpuint (f->portal->n_unblocks, ==, 1);
  g_assert_cmpstr (f->portal->unblock_serial, ==, serial);
  g_assert_cmpint (f->portal->reported, ==, 1);
  g_assert_cmpuint (f->portal->n_submits, ==, 0);
  assert_states (f, IMZALA_JOB_STATE_FETCHING, IMZALA_JOB_STATE_CHOOSING,
                 IMZALA_JOB_STATE_UNBLOCKING, IMZALA_JOB_STATE_DONE, -1);
  finish_job (job);

  g_assert_cmpint (sign_once (f, "ayse-rsa", old_pin, &error), ==, IMZALA_JOB_STATE_CHOOSING);
  g_assert_error (error, IMZALA_ERROR, IMZALA_ERROR_PIN_INCORRECT);
  g_clear_error (&error);
  g_assert_cmpint (sign_once (f, "ayse-rsa", new_pin, &error), ==, IMZALA_JOB_STATE_DONE);
  g_assert_no_error (error);
  assert_submitted_verify (f, f->portal->request, "ayse-rsa");
}

/* A PUK the card refuses: the portal hears of the failure, the job fails
 * with the card's error, and the PIN stays locked. */
static void
test_unblock_wrong_puk (JobFixture    *f,
                        gconstpointer  data)
{
  g_autoptr(ImzalaSecret) new_pin = imzala_test_secret ("246810");
  g_autoptr(ImzalaSecret) old_pin = imzala_test_secret (f->user_pin);
  g_autoptr(GError) error = NULL;
  ImzalaSigningJob *job;

  f->portal->request = make_request (IMZALA_PURPOSE_UNBLOCK, 0, 300, NULL);
  f->portal->puk = g_strdup ("11111111");
  job = new_job (f);

  imzala_signing_job_start (job, "ABCDEFGHJKMN");
  g_assert_cmpint (wait_job (job), ==, IMZALA_JOB_STATE_CHOOSING);
  g_assert_true (imzala_signing_job_set_token (job, token_by_label (job, "IMZALA TEST 1")));
  imzala_signing_job_unblock (job, new_pin);
  g_assert_cmpint (wait_job (job), ==, IMZALA_JOB_STATE_FAILED);
  g_assert_error ((GError *) imzala_signing_job_get_error (job), IMZALA_ERROR,
                  IMZALA_ERROR_PUK_INCORRECT);
  g_assert_cmpuint (f->portal->n_unblocks, ==, 1);
  g_assert_cmpint (f->portal->reported, ==, 0);
  finish_job (job);

  g_assert_cmpint (sign_once (f, "ayse-rsa", old_pin, &error), !=, IMZALA_JOB_STATE_DONE);
  g_assert_error (error, IMZALA_ERROR, IMZALA_ERROR_PIN_LOCKED);
}

/* The portal does not release the PUK (another person's card): the job
 * fails with its error, the card is not touched and nothing is reported. */
static void
test_unblock_refused (JobFixture    *f,
                      gconstpointer  data)
{
  g_autoptr(ImzalaSecret) new_pin = imzala_test_secret ("246810");
  ImzalaSigningJob *job;

  f->portal->request = make_request (IMZALA_PURPOSE_UNBLOCK, 0, 300, NULL);
  f->portal->unblock_error = g_error_new_literal (IMZALA_ERROR, IMZALA_ERROR_SIGNER_MISMATCH,
                                                  "Bu kart başvurana ait değil.");
  job = new_job (f);

  imzala_signing_job_start (job, "ABCDEFGHJKMN");
  g_assert_cmpint (wait_job (job), ==, IMZALA_JOB_STATE_CHOOSING);
  g_assert_true (imzala_signing_job_set_token (job, token_by_label (job, "IMZALA TEST 2")));
  imzala_signing_job_unblock (job, new_pin);
  g_assert_cmpint (wait_job (job), ==, IMZALA_JOB_STATE_FAILED);
  g_assert_error ((GError *) imzala_signing_job_get_error (job), IMZALA_ERROR,
                  IMZALA_ERROR_SIGNER_MISMATCH);
  g_assert_cmpint (f->portal->reported, ==, -1);
  g_assert_cmpuint (f->portal->n_unblocks, ==, 1);
  finish_job (job);
}


/* ---- Through a thread-affine module ---- */

/* The job over the fault module with thread-affine: every call of the
 * listing, the signing and the refreshes after it must come from the
 * module's own thread. */
static void
job_setup_thread_affine (JobFixture    *f,
                         gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *count_file = NULL;

  f->fixture = imzala_test_fixture_new ();
  count_file = g_build_filename (f->fixture->dir, "counts.txt", NULL);
  f->modules = imzala_test_fault_load (f->fixture, "thread-affine,count-calls", count_file, &error);
  g_assert_no_error (error);
  job_setup_rest (f);
}

static void
job_teardown_thread_affine (JobFixture    *f,
                            gconstpointer  data)
{
  g_autofree char *count_file = g_build_filename (f->fixture->dir, "counts.txt", NULL);
  g_autoptr(GHashTable) counts = NULL;

  imzala_module_set_close (f->modules);
  counts = imzala_test_read_fault_counts (count_file);
  g_assert_cmpuint (imzala_test_fault_count (counts, "C_Finalize"), ==, 1);
  g_assert_cmpuint (imzala_test_fault_count (counts, "C_Sign"), >=, 1);
  imzala_test_assert_no_thread_violations (counts);
  job_teardown (f, data);
}

/* ---- Another person's card ---- */

/* Mehmet's card alone: job_setup()'s data. */
static const char *const other_card_only[] = { "IMZALA TEST 1", "IMZALA TEST BOS", NULL };

/* Ayşe's login request with only Mehmet's card inserted: his certificate,
 * the only one shown, is listed and said to be another person's, but not
 * preselected (before: it was, and the PIN signed what the portal refuses);
 * can_sign() says whose card the request wants. Chosen by the user, it
 * signs. */
static void
test_other_persons_card (JobFixture    *f,
                         gconstpointer  data)
{
  g_autoptr(ImzalaSecret) pin = imzala_test_secret (f->user_pin);
  g_autoptr(GError) error = NULL;
  ImzalaCertificate *his;
  ImzalaSigningJob *job;

  f->portal->request = make_request (IMZALA_PURPOSE_LOGIN, -5, 300, "Giriş", NULL);
  job = new_job (f);
  imzala_signing_job_start (job, "ABCDEFGHJKMN");
  g_assert_cmpint (wait_job (job), ==, IMZALA_JOB_STATE_CHOOSING);
  g_assert_cmpuint (g_list_model_get_n_items (imzala_signing_job_get_certificates (job)), ==, 1);
  his = find_in_job (f, job, "mehmet-p256");
  g_assert_nonnull (his);
  g_assert_true (imzala_signing_job_is_other_persons (job, his));
  g_assert_null (imzala_signing_job_get_certificate (job));
  g_assert_false (imzala_signing_job_get_needs_login (job));

  g_assert_false (imzala_signing_job_can_sign (job, &error));
  g_assert_error (error, IMZALA_ERROR, IMZALA_ERROR_NO_CERTIFICATE);
  g_assert_nonnull (strstr (error->message, "AYŞE YILMAZ (123******50)"));
  g_clear_error (&error);

  g_assert_true (imzala_signing_job_set_certificate (job, his));
  g_assert_true (imzala_signing_job_can_sign (job, NULL));
  imzala_signing_job_sign (job, pin);
  g_assert_cmpint (wait_job (job), ==, IMZALA_JOB_STATE_DONE);
  assert_submitted_verify (f, f->portal->request, "mehmet-p256");
  finish_job (job);
}

/* ---- Certificates behind a login, one login per request (issue 8) ---- */

/* Ayşe's card alone, over the fault module with certs-after-login: it shows
 * nothing before the PIN. With @data, a card's label, Mehmet's card too,
 * and only the card @data names hides its certificates
 * (IMZALA_FAULT_HIDING_TOKEN). */
static void
job_setup_certs_after_login (JobFixture    *f,
                             gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *count_file = NULL;

  f->fixture = imzala_test_fixture_new ();
  if (data != NULL)
    g_setenv ("IMZALA_FAULT_HIDING_TOKEN", data, TRUE);
  else
    imzala_test_fixture_remove_token (f->fixture, "IMZALA TEST 2");
  imzala_test_fixture_remove_token (f->fixture, "IMZALA TEST BOS");
  count_file = g_build_filename (f->fixture->dir, "counts.txt", NULL);
  f->modules = imzala_test_fault_load (f->fixture, "certs-after-login,count-calls", count_file, &error);
  g_assert_no_error (error);
  job_setup_rest (f);
}

static GHashTable *
close_and_count (JobFixture *f)
{
  g_autofree char *count_file = g_build_filename (f->fixture->dir, "counts.txt", NULL);

  imzala_module_set_close (f->modules);
  return imzala_test_read_fault_counts (count_file);
}

/* No certificate before the PIN: "needs-login"; a wrong PIN returns to
 * CHOOSING with the error; the right one lists the certificates, and the
 * two texts of the request are signed without a PIN, with one C_Login in
 * all; the session ends with the job. */
static void
test_certs_after_login (JobFixture    *f,
                        gconstpointer  data)
{
  g_autoptr(ImzalaSecret) wrong = imzala_test_secret ("000000");
  g_autoptr(ImzalaSecret) pin = imzala_test_secret (f->user_pin);
  g_autoptr(GHashTable) counts = NULL;
  ImzalaSigningJob *job;

  f->portal->request = make_request (IMZALA_PURPOSE_APPLICATION, -5, 300,
                                     "Başvuru formu\nAd Soyad: AYŞE YILMAZ",
                                     "Sertifika Sahibi Taahhütnamesi", NULL);
  job = new_job (f);

  imzala_signing_job_start (job, "ABCDEFGHJKMN");
  g_assert_cmpint (wait_job (job), ==, IMZALA_JOB_STATE_CHOOSING);
  g_assert_cmpuint (g_list_model_get_n_items (imzala_signing_job_get_certificates (job)), ==, 0);
  g_assert_true (imzala_signing_job_get_needs_login (job));
  g_assert_false (imzala_signing_job_get_logged_in (job));
  g_assert_true (imzala_signing_job_get_token (job) == token_by_label (job, "IMZALA TEST 1"));

  imzala_signing_job_log_in (job, wrong);
  g_assert_cmpint (imzala_signing_job_get_state (job), ==, IMZALA_JOB_STATE_LOGGING_IN);
  while (imzala_signing_job_get_state (job) == IMZALA_JOB_STATE_LOGGING_IN)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpint (imzala_signing_job_get_state (job), ==, IMZALA_JOB_STATE_CHOOSING);
  g_assert_error ((GError *) imzala_signing_job_get_error (job), IMZALA_ERROR, IMZALA_ERROR_PIN_INCORRECT);
  g_assert_true (imzala_signing_job_get_needs_login (job));

  imzala_signing_job_log_in (job, pin);
  while (imzala_signing_job_get_state (job) == IMZALA_JOB_STATE_LOGGING_IN)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpint (imzala_signing_job_get_state (job), ==, IMZALA_JOB_STATE_CHOOSING);
  g_assert_null (imzala_signing_job_get_error (job));
  g_assert_false (imzala_signing_job_get_needs_login (job));
  g_assert_true (imzala_signing_job_get_logged_in (job));

  g_assert_true (imzala_signing_job_set_certificate (job, find_in_job (f, job, "ayse-p384")));
  g_assert_true (imzala_signing_job_can_sign (job, NULL));
  imzala_signing_job_sign (job, NULL);
  g_assert_cmpint (wait_job (job), ==, IMZALA_JOB_STATE_DONE);
  assert_states (f, IMZALA_JOB_STATE_FETCHING, IMZALA_JOB_STATE_CHOOSING,
                 IMZALA_JOB_STATE_LOGGING_IN, IMZALA_JOB_STATE_CHOOSING,
                 IMZALA_JOB_STATE_LOGGING_IN, IMZALA_JOB_STATE_CHOOSING,
                 IMZALA_JOB_STATE_SIGNING, IMZALA_JOB_STATE_SUBMITTING,
                 IMZALA_JOB_STATE_DONE, -1);
  g_assert_false (imzala_signing_job_get_logged_in (job));
  assert_submitted_verify (f, f->portal->request, "ayse-p384");
  finish_job (job);

  counts = close_and_count (f);
  /* The wrong PIN and the right one; none for the two texts. */
  g_assert_cmpuint (imzala_test_fault_count (counts, "login-user"), ==, 2);
  g_assert_cmpuint (imzala_test_fault_count (counts, "C_Logout"), ==, 1);
  g_assert_cmpuint (imzala_test_fault_count (counts, "C_Sign"), ==, 2);
}

static void
job_teardown_hidden_card (JobFixture    *f,
                          gconstpointer  data)
{
  g_unsetenv ("IMZALA_FAULT_HIDING_TOKEN");
  job_teardown (f, data);
}

/* Ayşe's login request while her card hides its certificates and Mehmet's
 * shows his: "needs-login" for her card at once, his certificate not
 * preselected (before: his, the only one shown, and her card unreachable
 * while a certificate was shown). His can be chosen; her card is then
 * offered (get_hidden_token()) and set_token() chooses it again, a choice a
 * card event keeps; the PIN logs in to it, her certificate is preselected,
 * and the signature is hers, with one login in all. */
static void
test_hidden_card (JobFixture    *f,
                  gconstpointer  data)
{
  g_autoptr(ImzalaSecret) pin = imzala_test_secret (f->user_pin);
  g_autoptr(GHashTable) counts = NULL;
  ImzalaCertificate *certificate;
  ImzalaSigningJob *job;
  guint lists;

  f->portal->request = make_request (IMZALA_PURPOSE_LOGIN, -5, 300, "Giriş", NULL);
  job = new_job (f);
  imzala_signing_job_start (job, "ABCDEFGHJKMN");
  g_assert_cmpint (wait_job (job), ==, IMZALA_JOB_STATE_CHOOSING);
  g_assert_cmpuint (g_list_model_get_n_items (imzala_signing_job_get_certificates (job)), ==, 1);
  g_assert_null (imzala_signing_job_get_certificate (job));
  g_assert_true (imzala_signing_job_get_needs_login (job));
  g_assert_true (imzala_signing_job_get_token (job) == token_by_label (job, "IMZALA TEST 1"));
  g_assert_null (imzala_signing_job_get_hidden_token (job));

  /* His certificate chosen: no login, her card offered. */
  g_assert_true (imzala_signing_job_set_certificate (job, find_in_job (f, job, "mehmet-p256")));
  g_assert_false (imzala_signing_job_get_needs_login (job));
  g_assert_true (imzala_signing_job_get_token (job) == token_by_label (job, "IMZALA TEST 2"));
  g_assert_true (imzala_signing_job_get_hidden_token (job) == token_by_label (job, "IMZALA TEST 1"));

  /* Her card chosen, and kept across a new listing of the cards. */
  g_assert_true (imzala_signing_job_set_token (job, imzala_signing_job_get_hidden_token (job)));
  g_assert_null (imzala_signing_job_get_certificate (job));
  g_assert_true (imzala_signing_job_get_needs_login (job));
  lists = f->n_token_lists;
  imzala_signing_job_refresh_tokens (job);
  while (f->n_token_lists == lists)
    g_main_context_iteration (NULL, TRUE);
  g_assert_null (imzala_signing_job_get_certificate (job));
  g_assert_true (imzala_signing_job_get_needs_login (job));
  g_assert_true (imzala_signing_job_get_token (job) == token_by_label (job, "IMZALA TEST 1"));

  imzala_signing_job_log_in (job, pin);
  while (imzala_signing_job_get_state (job) == IMZALA_JOB_STATE_LOGGING_IN)
    g_main_context_iteration (NULL, TRUE);
  g_assert_null (imzala_signing_job_get_error (job));
  g_assert_true (imzala_signing_job_get_logged_in (job));
  g_assert_false (imzala_signing_job_get_needs_login (job));
  g_assert_null (imzala_signing_job_get_hidden_token (job));
  certificate = imzala_signing_job_get_certificate (job);
  g_assert_nonnull (certificate);
  g_assert_cmpstr (imzala_certificate_get_tckn (certificate), ==, "12345678950");

  imzala_signing_job_sign (job, NULL);
  g_assert_cmpint (wait_job (job), ==, IMZALA_JOB_STATE_DONE);
  finish_job (job);
  counts = close_and_count (f);
  g_assert_cmpuint (imzala_test_fault_count (counts, "login-user"), ==, 1);
  g_assert_cmpuint (imzala_test_fault_count (counts, "C_Sign"), ==, 1);
}

/* The fixture's empty card wants a login like one that hides its
 * certificates, so it is offered (get_hidden_token()); the user chooses it
 * and the right PIN shows nothing. The job says so (before: no error, and
 * the PIN seemed to go nowhere), passes the card over, chooses the
 * requester's certificate again, does not offer the empty card again
 * after its session ended, and signs with her card's PIN. */
static void
test_empty_card (JobFixture    *f,
                 gconstpointer  data)
{
  g_autoptr(ImzalaSecret) wrong = imzala_test_secret ("000000");
  g_autoptr(ImzalaSecret) pin = imzala_test_secret (f->user_pin);
  g_autoptr(GHashTable) counts = NULL;
  ImzalaCertificate *certificate;
  const GError *error;
  ImzalaSigningJob *job;

  f->portal->request = make_request (IMZALA_PURPOSE_LOGIN, -5, 300, "Giriş", NULL);
  job = new_job (f);
  imzala_signing_job_start (job, "ABCDEFGHJKMN");
  g_assert_cmpint (wait_job (job), ==, IMZALA_JOB_STATE_CHOOSING);
  g_assert_nonnull (imzala_signing_job_get_certificate (job));
  g_assert_true (imzala_signing_job_get_hidden_token (job) == token_by_label (job, "IMZALA TEST BOS"));

  g_assert_true (imzala_signing_job_set_token (job, imzala_signing_job_get_hidden_token (job)));
  g_assert_null (imzala_signing_job_get_certificate (job));
  g_assert_true (imzala_signing_job_get_needs_login (job));
  imzala_signing_job_log_in (job, pin);
  while (imzala_signing_job_get_state (job) == IMZALA_JOB_STATE_LOGGING_IN)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpint (imzala_signing_job_get_state (job), ==, IMZALA_JOB_STATE_CHOOSING);
  error = imzala_signing_job_get_error (job);
  g_assert_error ((GError *) error, IMZALA_ERROR, IMZALA_ERROR_NO_CERTIFICATE);
  g_assert_nonnull (strstr (error->message, "“IMZALA TEST BOS”"));
  g_assert_false (imzala_signing_job_get_needs_login (job));
  g_assert_null (imzala_signing_job_get_hidden_token (job));
  certificate = imzala_signing_job_get_certificate (job);
  g_assert_nonnull (certificate);
  g_assert_cmpstr (imzala_certificate_get_tckn (certificate), ==, "12345678950");
  /* The session kept is the empty card's, not hers: her card wants its
   * PIN (before: "logged-in", and the window asked for no PIN). */
  g_assert_false (imzala_signing_job_get_logged_in (job));

  /* A wrong PIN for her card: the empty card's session was ended, and the
   * card is not offered again (before: it hid its certificates again). */
  imzala_signing_job_sign (job, wrong);
  while (imzala_signing_job_get_state (job) == IMZALA_JOB_STATE_SIGNING)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpint (imzala_signing_job_get_state (job), ==, IMZALA_JOB_STATE_CHOOSING);
  g_assert_error ((GError *) imzala_signing_job_get_error (job), IMZALA_ERROR, IMZALA_ERROR_PIN_INCORRECT);
  g_assert_null (imzala_signing_job_get_hidden_token (job));
  g_assert_false (imzala_signing_job_get_needs_login (job));

  /* Signing clears the message; her card asks for its own PIN. */
  imzala_signing_job_sign (job, pin);
  g_assert_cmpint (wait_job (job), ==, IMZALA_JOB_STATE_DONE);
  g_assert_null (imzala_signing_job_get_error (job));
  finish_job (job);
  counts = close_and_count (f);
  g_assert_cmpuint (imzala_test_fault_count (counts, "login-user"), ==, 3);
  g_assert_cmpuint (imzala_test_fault_count (counts, "C_Sign"), ==, 1);
}

/* Two texts without a login before (a card that shows its certificates):
 * sign() logs in once for both. */
static void
test_two_texts_one_login (JobFixture    *f,
                          gconstpointer  data)
{
  g_autoptr(GHashTable) counts = NULL;

  test_two_texts (f, data);
  counts = close_and_count (f);
  g_assert_cmpuint (imzala_test_fault_count (counts, "login-user"), ==, 1);
  g_assert_cmpuint (imzala_test_fault_count (counts, "C_Logout"), ==, 1);
  g_assert_cmpuint (imzala_test_fault_count (counts, "C_Sign"), ==, 2);
}

static void
job_setup_count_calls (JobFixture    *f,
                       gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *count_file = NULL;

  f->fixture = imzala_test_fixture_new ();
  count_file = g_build_filename (f->fixture->dir, "counts.txt", NULL);
  f->modules = imzala_test_fault_load (f->fixture, "count-calls", count_file, &error);
  g_assert_no_error (error);
  job_setup_rest (f);
}

/* ---- A pin-pad reader (issue 8, PIN care) ---- */

static void
job_setup_pin_pad (JobFixture    *f,
                   gconstpointer  data)
{
  const char *faults = data;
  g_autoptr(GError) error = NULL;
  g_autofree char *log = NULL;

  f->fixture = imzala_test_fixture_new ();
  log = g_build_filename (f->fixture->dir, "pin-pad.log", NULL);
  g_setenv ("IMZALA_FAULT_PIN_PAD_LOG", log, TRUE);
  g_setenv ("IMZALA_FAULT_DELAY_MS", "60000", TRUE);
  g_unsetenv ("IMZALA_FAULT_PIN_PAD_WAITS");
  f->modules = imzala_test_fault_load (f->fixture, faults, NULL, &error);
  g_assert_no_error (error);
  job_setup_rest (f);
}

/* The same, with the module's C_Login beginning 300 ms late, as with a
 * module busy elsewhere: an İptal right after the prompt closes the
 * session before the login began. */
static void
job_setup_pin_pad_late (JobFixture    *f,
                        gconstpointer  data)
{
  g_setenv ("IMZALA_FAULT_PIN_PAD_LATE_MS", "300", TRUE);
  job_setup_pin_pad (f, data);
}

static void
job_teardown_pin_pad (JobFixture    *f,
                      gconstpointer  data)
{
  g_unsetenv ("IMZALA_FAULT_PIN_PAD_LOG");
  g_unsetenv ("IMZALA_FAULT_DELAY_MS");
  g_unsetenv ("IMZALA_FAULT_PIN_PAD_LATE_MS");
  job_teardown (f, data);
}

static void
pin_pad_prompt_cb (ImzalaSigningJob *job,
                   GParamSpec       *pspec,
                   GPtrArray        *prompts)
{
  const char *prompt = imzala_signing_job_get_pin_pad_prompt (job);

  if (prompt != NULL)
    g_ptr_array_add (prompts, g_strdup (prompt));
}

/* A key with CKA_ALWAYS_AUTHENTICATE on a pin pad: the PIN is typed twice on
 * the reader, and the job says so before each entry, in order. */
static void
test_pin_pad_prompts (JobFixture    *f,
                      gconstpointer  data)
{
  g_autoptr(GPtrArray) prompts = g_ptr_array_new_with_free_func (g_free);
  ImzalaSigningJob *job;

  f->portal->request = make_request (IMZALA_PURPOSE_LOGIN, -5, 300, "Giriş\n\nİşlem: x", NULL);
  job = new_job (f);
  g_signal_connect (job, "notify::pin-pad-prompt", G_CALLBACK (pin_pad_prompt_cb), prompts);

  imzala_signing_job_start (job, "ABCDEFGHJKMN");
  g_assert_cmpint (wait_job (job), ==, IMZALA_JOB_STATE_CHOOSING);
  g_assert_true (imzala_signing_job_set_certificate (job, find_in_job (f, job, "mehmet-p256")));
  g_assert_true (imzala_token_has_pin_pad (imzala_signing_job_get_token (job)));
  imzala_signing_job_sign (job, NULL);
  g_assert_cmpint (wait_job (job), ==, IMZALA_JOB_STATE_DONE);
  assert_submitted_verify (f, f->portal->request, "mehmet-p256");

  g_assert_cmpuint (prompts->len, ==, 2);
  g_assert_cmpstr (g_ptr_array_index (prompts, 0), ==, "Enter the PIN on the reader.");
  g_assert_cmpstr (g_ptr_array_index (prompts, 1), ==, "Enter the PIN on the reader again, for the signature.");
  /* Nothing is left to type once the job is done. */
  g_assert_null (imzala_signing_job_get_pin_pad_prompt (job));

  finish_job (job);
}

static gboolean
prompt_shown (ImzalaSigningJob *job)
{
  return imzala_signing_job_get_pin_pad_prompt (job) != NULL;
}

/* İptal while the reader waits for the PIN: the wait is cut short (the fault
 * module records "cut", not "timeout"), and the next code signs at once on
 * the same module instead of queueing behind the reader. Also run with the
 * module's login late (/signing-job/pin-pad-cancel-first): İptal then comes
 * before it began, and the login must not wait for the reader either. */
static void
test_pin_pad_cancel (JobFixture    *f,
                     gconstpointer  data)
{
  g_autofree char *log = g_build_filename (f->fixture->dir, "pin-pad.log", NULL);
  g_autofree char *recorded = NULL;
  const GError *error;
  ImzalaSigningJob *job;

  f->portal->request = make_request (IMZALA_PURPOSE_LOGIN, -5, 300, "Giriş\n\nİşlem: x", NULL);
  job = new_job (f);
  imzala_signing_job_start (job, "ABCDEFGHJKMN");
  g_assert_cmpint (wait_job (job), ==, IMZALA_JOB_STATE_CHOOSING);
  g_assert_true (imzala_signing_job_set_certificate (job, find_in_job (f, job, "ayse-rsa")));
  imzala_signing_job_sign (job, NULL);
  while (!prompt_shown (job))
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpstr (imzala_signing_job_get_pin_pad_prompt (job), ==, "Enter the PIN on the reader.");

  imzala_signing_job_cancel (job);
  g_assert_cmpint (wait_job (job), ==, IMZALA_JOB_STATE_FAILED);
  error = imzala_signing_job_get_error (job);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  /* The token operation ends (its reference on the job goes) only once the
   * module let go of the reader. */
  finish_job (job);
  g_assert_true (g_file_get_contents (log, &recorded, NULL, NULL));
  g_assert_cmpstr (recorded, ==, "cut\n");

  /* The next request: the reader takes the PIN at once this time. */
  g_clear_object (&f->portal->request);
  f->portal->request = make_request (IMZALA_PURPOSE_LOGIN, -5, 300, "Giriş\n\nİşlem: y", NULL);
  job = new_job (f);
  imzala_signing_job_start (job, "ABCDEFGHJKMN");
  g_assert_cmpint (wait_job (job), ==, IMZALA_JOB_STATE_CHOOSING);
  g_assert_true (imzala_signing_job_set_certificate (job, find_in_job (f, job, "ayse-rsa")));
  imzala_signing_job_sign (job, NULL);
  g_assert_cmpint (wait_job (job), ==, IMZALA_JOB_STATE_DONE);
  assert_submitted_verify (f, f->portal->request, "ayse-rsa");
  finish_job (job);
}

/* The reader gives up by itself (not İptal): its own error, not
 * "cancelled". */
static void
test_pin_pad_timeout (JobFixture    *f,
                      gconstpointer  data)
{
  g_autofree char *log = g_build_filename (f->fixture->dir, "pin-pad.log", NULL);
  g_autofree char *recorded = NULL;
  const GError *error;
  ImzalaSigningJob *job;

  g_setenv ("IMZALA_FAULT_DELAY_MS", "50", TRUE);
  f->portal->request = make_request (IMZALA_PURPOSE_LOGIN, -5, 300, "Giriş\n\nİşlem: x", NULL);
  job = new_job (f);
  imzala_signing_job_start (job, "ABCDEFGHJKMN");
  g_assert_cmpint (wait_job (job), ==, IMZALA_JOB_STATE_CHOOSING);
  g_assert_true (imzala_signing_job_set_certificate (job, find_in_job (f, job, "ayse-rsa")));
  imzala_signing_job_sign (job, NULL);
  g_assert_cmpint (wait_job (job), ==, IMZALA_JOB_STATE_FAILED);
  error = imzala_signing_job_get_error (job);
  g_assert_error (error, IMZALA_ERROR, IMZALA_ERROR_PIN_PAD_TIMEOUT);
  g_assert_cmpstr (imzala_error_code_to_string (error->code), ==, "pin-pad-timeout");
  g_assert_cmpuint (f->portal->n_submits, ==, 0);
  finish_job (job);
  g_assert_true (g_file_get_contents (log, &recorded, NULL, NULL));
  g_assert_cmpstr (recorded, ==, "timeout\n");
}

/* ---- A slow card listing (issue 8, item 5) ---- */

/* Every C_GetSlotList of the fault module takes a while, like OpenSC over a
 * card it does not know. */
static void
job_setup_slow_slot_list (JobFixture    *f,
                          gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  f->fixture = imzala_test_fixture_new ();
  g_setenv ("IMZALA_FAULT_DELAY_MS", "1000", TRUE);
  f->modules = imzala_test_fault_load (f->fixture, "slow-slot-list", NULL, &error);
  g_assert_no_error (error);
  job_setup_rest (f);
}

static void
job_teardown_slow_slot_list (JobFixture    *f,
                             gconstpointer  data)
{
  g_unsetenv ("IMZALA_FAULT_DELAY_MS");
  job_teardown (f, data);
}

typedef struct
{
  ImzalaTokenList  *list;
  ImzalaSigningJob *job;
  gboolean          choosing_while_loading;
  gboolean          certificates_in_choosing;
  guint             tokens_loading_changes;
} SlowListing;

static void
slow_state_cb (ImzalaSigningJob *job,
               GParamSpec       *pspec,
               SlowListing      *seen)
{
  if (imzala_signing_job_get_state (job) == IMZALA_JOB_STATE_CHOOSING &&
      imzala_token_list_get_loading (seen->list) &&
      imzala_signing_job_get_tokens_loading (job))
    seen->choosing_while_loading = TRUE;
}

static void
slow_tokens_loading_cb (ImzalaSigningJob *job,
                        GParamSpec       *pspec,
                        SlowListing      *seen)
{
  seen->tokens_loading_changes++;
}

static void
slow_certificates_cb (GListModel  *certificates,
                      guint        position,
                      guint        removed,
                      guint        added,
                      SlowListing *seen)
{
  if (g_list_model_get_n_items (certificates) > 0 &&
      imzala_signing_job_get_state (seen->job) == IMZALA_JOB_STATE_CHOOSING)
    seen->certificates_in_choosing = TRUE;
}

/* The request is shown (CHOOSING) while the cards are still being listed,
 * with nothing to sign with yet; the certificates arrive in CHOOSING, and
 * signing works. The order of the events is asserted, not their times. */
static void
test_slow_slot_list (JobFixture    *f,
                     gconstpointer  data)
{
  g_autoptr(ImzalaTokenList) list = imzala_token_list_new (f->modules);
  g_autoptr(ImzalaSecret) pin = imzala_test_secret (f->user_pin);
  g_autoptr(GError) error = NULL;
  SlowListing seen = { list, NULL, FALSE, FALSE, 0 };
  ImzalaSigningJob *job;

  f->portal->request = make_request (IMZALA_PURPOSE_LOGIN, -5, 300, "Giriş\n\nİşlem: yavaş", NULL);
  job = imzala_signing_job_new_for_token_list (IMZALA_PORTAL (f->portal), list);
  seen.job = job;
  g_array_set_size (f->states, 0);
  g_signal_connect (job, "notify::state", G_CALLBACK (state_changed_cb), f);
  g_signal_connect (job, "notify::state", G_CALLBACK (slow_state_cb), &seen);
  g_signal_connect (job, "notify::tokens-loading", G_CALLBACK (slow_tokens_loading_cb), &seen);
  g_signal_connect (imzala_signing_job_get_certificates (job), "items-changed",
                    G_CALLBACK (slow_certificates_cb), &seen);

  g_assert_false (imzala_signing_job_get_tokens_loading (job));
  imzala_signing_job_start (job, "ABCDEFGHJKMN");
  g_assert_true (imzala_signing_job_get_tokens_loading (job));
  g_assert_true (imzala_token_list_get_loading (list));

  /* CHOOSING while the list is still loading: the request is there, no
   * token and no certificate yet, and İMZALA has nothing to sign with. */
  while (imzala_signing_job_get_state (job) == IMZALA_JOB_STATE_FETCHING)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpint (imzala_signing_job_get_state (job), ==, IMZALA_JOB_STATE_CHOOSING);
  g_assert_true (seen.choosing_while_loading);
  g_assert_true (imzala_token_list_get_loading (list));
  g_assert_true (imzala_signing_job_get_tokens_loading (job));
  g_assert_true (imzala_signing_job_get_request (job) == f->portal->request);
  g_assert_cmpint (imzala_signing_job_get_remaining_seconds (job), >, 0);
  g_assert_null (imzala_signing_job_get_tokens (job));
  g_assert_cmpuint (g_list_model_get_n_items (imzala_signing_job_get_certificates (job)), ==, 0);
  g_assert_null (imzala_signing_job_get_certificate (job));
  g_assert_false (imzala_signing_job_get_needs_login (job));
  g_assert_false (imzala_signing_job_can_sign (job, &error));
  g_assert_error (error, IMZALA_ERROR, IMZALA_ERROR_NO_CERTIFICATE);
  g_clear_error (&error);
  g_assert_cmpuint (f->states->len, ==, 2);

  /* The list arrives: the certificates come in CHOOSING, and
   * "tokens-loading" turns off once. */
  while (imzala_signing_job_get_tokens_loading (job))
    g_main_context_iteration (NULL, TRUE);
  g_assert_false (imzala_token_list_get_loading (list));
  g_assert_true (seen.certificates_in_choosing);
  g_assert_cmpuint (seen.tokens_loading_changes, ==, 2);
  g_assert_cmpint (imzala_signing_job_get_state (job), ==, IMZALA_JOB_STATE_CHOOSING);
  g_assert_cmpuint (imzala_signing_job_get_tokens (job)->len, ==, 3);
  g_assert_cmpuint (g_list_model_get_n_items (imzala_signing_job_get_certificates (job)), >, 0);
  g_assert_null (imzala_signing_job_get_error (job));

  g_assert_true (imzala_signing_job_set_certificate (job, find_in_job (f, job, "ayse-rsa")));
  g_assert_true (imzala_signing_job_can_sign (job, NULL));
  imzala_signing_job_sign (job, pin);
  g_assert_cmpint (wait_job (job), ==, IMZALA_JOB_STATE_DONE);
  assert_states (f, IMZALA_JOB_STATE_FETCHING, IMZALA_JOB_STATE_CHOOSING,
                 IMZALA_JOB_STATE_SIGNING, IMZALA_JOB_STATE_SUBMITTING,
                 IMZALA_JOB_STATE_DONE, -1);
  assert_submitted_verify (f, f->portal->request, "ayse-rsa");
  finish_job (job);
}

/* ---- Issue 10: status before signing, and the level the portal asks for ---- */

#define SERIAL_STATUS_GOOD    0x6101
#define SERIAL_STATUS_REVOKED 0x6102

typedef struct
{
  JobFixture          job;     /* first: the ADD fixtures' functions take it */
  ImzalaTestPki      *pki;
  ImzalaTestIdentity *good;
  ImzalaTestIdentity *revoked;
} StatusFixture;

/* Puts @identity's key (unless it is the CA) and certificate on the empty
 * fixture token, as a card issued by the test PKI. */
static void
put_on_card (StatusFixture *f, ImzalaTestIdentity *identity, const char *name, const char *id)
{
  const char *dir = f->job.fixture->dir;
  g_autofree char *key = g_strdup_printf ("%s/%s.key", dir, name);
  g_autofree char *pem = g_strdup_printf ("%s/%s.pem", dir, name);

  imzala_test_identity_write (identity, dir, name);
  imzala_test_fixture_put_on_empty_token (f->job.fixture, name, id, pem,
                                          g_strcmp0 (name, "ca") != 0 ? key : NULL);
}

static void
status_setup (StatusFixture *f,
              gconstpointer  data)
{
  const ImzalaTestPkiEntry entries[] = {
    { SERIAL_STATUS_GOOD, "STATUS GOOD", 0, NULL },
    { SERIAL_STATUS_REVOKED, "STATUS LOST", g_get_real_time () / G_USEC_PER_SEC - 86400, "keyCompromise" },
  };
  const ImzalaTestCertSpec good_spec = {
    .common_name = "STATUS GOOD", .serial_number = "12345678950", .key = "p256",
    .key_usage = "critical,nonRepudiation", .qc_statements_hex = IMZALA_TEST_QC_COMPLIANCE,
    .serial = SERIAL_STATUS_GOOD,
  };
  const ImzalaTestCertSpec revoked_spec = {
    .common_name = "STATUS LOST", .serial_number = "12345678950", .key = "p256",
    .key_usage = "critical,nonRepudiation", .qc_statements_hex = IMZALA_TEST_QC_COMPLIANCE,
    .serial = SERIAL_STATUS_REVOKED,
  };
  g_autoptr(GError) error = NULL;
  g_autofree char *count_file = NULL;

  f->job.fixture = imzala_test_fixture_new ();
  f->job.user_pin = imzala_test_fixture_get (f->job.fixture, "fixture", "user-pin");
  f->job.so_pin = imzala_test_fixture_get (f->job.fixture, "fixture", "so-pin");
  /* Only the card of the test PKI: its two certificates are the choice. */
  imzala_test_fixture_remove_token (f->job.fixture, "IMZALA TEST 1");
  imzala_test_fixture_remove_token (f->job.fixture, "IMZALA TEST 2");
  f->pki = imzala_test_pki_new (entries, G_N_ELEMENTS (entries));
  f->good = imzala_test_pki_issue (f->pki, &good_spec);
  f->revoked = imzala_test_pki_issue (f->pki, &revoked_spec);
  /* "revoked-only": the one certificate the job would choose. */
  if (g_strcmp0 (data, "revoked-only") != 0)
    put_on_card (f, f->good, "good", "61");
  put_on_card (f, f->revoked, "lost", "62");
  put_on_card (f, f->pki->ca, "ca", "63");

  count_file = g_build_filename (f->job.fixture->dir, "counts.txt", NULL);
  f->job.modules = imzala_test_fault_load (f->job.fixture, "count-calls", count_file, &error);
  g_assert_no_error (error);
  f->job.trust = imzala_test_pki_store (f->pki);
  f->job.portal = g_object_new (TEST_TYPE_FAKE_PORTAL, NULL);
  f->job.states = g_array_new (FALSE, FALSE, sizeof (ImzalaJobState));
}

static void
status_teardown (StatusFixture *f,
                 gconstpointer  data)
{
  imzala_test_identity_free (f->good);
  imzala_test_identity_free (f->revoked);
  job_teardown (&f->job, data);
  imzala_test_pki_free (f->pki);
}

static ImzalaCertificate *
find_identity (ImzalaSigningJob *job, ImzalaTestIdentity *identity)
{
  GListModel *certificates = imzala_signing_job_get_certificates (job);

  for (guint i = 0; i < g_list_model_get_n_items (certificates); i++)
    {
      g_autoptr(ImzalaCertificate) certificate = g_list_model_get_item (certificates, i);

      if (X509_cmp (imzala_certificate_get_x509 (certificate), identity->x509) == 0)
        return certificate;
    }
  g_error ("the identity is not among the job's certificates");
}

static ImzalaSigningJob *
choose (StatusFixture *f, ImzalaTestIdentity *identity)
{
  ImzalaSigningJob *job;

  if (f->job.portal->request == NULL)
    f->job.portal->request = make_request (IMZALA_PURPOSE_LOGIN, -5, 300, "Giriş\n\nİşlem: x", NULL);
  job = new_job (&f->job);
  imzala_signing_job_start (job, "ABCDEFGHJKMN");
  g_assert_cmpint (wait_job (job), ==, IMZALA_JOB_STATE_CHOOSING);
  g_assert_true (imzala_signing_job_set_certificate (job, find_identity (job, identity)));
  return job;
}

static guint
logins (StatusFixture *f)
{
  g_autoptr(GHashTable) counts = close_and_count (&f->job);

  return imzala_test_fault_count (counts, "C_Login");
}

/* A lost card revoked at its CA: refused before the PIN reaches the card
 * (no C_Login at all), with what to do, and nothing submitted. */
static void
test_status_revoked (StatusFixture *f,
                     gconstpointer  data)
{
  g_autoptr(ImzalaSecret) pin = imzala_test_secret (f->job.user_pin);
  ImzalaSigningJob *job = choose (f, f->revoked);
  const GError *error;

  imzala_signing_job_sign (job, pin);
  g_assert_cmpint (wait_job (job), ==, IMZALA_JOB_STATE_FAILED);
  error = imzala_signing_job_get_error (job);
  g_assert_error (error, IMZALA_ERROR, IMZALA_ERROR_CERTIFICATE_REVOKED);
  g_assert_nonnull (strstr (error->message, "revoked"));
  g_assert_nonnull (strstr (error->message, "Apply to"));
  g_assert_cmpuint (f->job.portal->n_submits, ==, 0);
  finish_job (job);
  g_assert_cmpuint (logins (f), ==, 0);
}

/* A good certificate: checked, nothing to say, signed. */
static void
test_status_good (StatusFixture *f,
                  gconstpointer  data)
{
  g_autoptr(ImzalaSecret) pin = imzala_test_secret (f->job.user_pin);
  ImzalaSigningJob *job = choose (f, f->good);

  while (imzala_signing_job_get_status_checking (job))
    g_main_context_iteration (NULL, TRUE);
  g_assert_null (imzala_signing_job_get_status_notice (job));
  imzala_signing_job_sign (job, pin);
  g_assert_cmpint (wait_job (job), ==, IMZALA_JOB_STATE_DONE);
  g_assert_cmpuint (f->job.portal->n_submits, ==, 1);
  finish_job (job);
  g_assert_cmpuint (logins (f), ==, 1);
}

/* The responder is down: said, and the user may sign; the portal decides. */
static void
test_status_responder_down (StatusFixture *f,
                            gconstpointer  data)
{
  g_autoptr(ImzalaSecret) pin = imzala_test_secret (f->job.user_pin);
  ImzalaSigningJob *job;

  g_subprocess_force_exit (f->pki->ocsp_process);
  g_subprocess_wait (f->pki->ocsp_process, NULL, NULL);
  job = choose (f, f->revoked);
  while (imzala_signing_job_get_status_checking (job))
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpint (imzala_signing_job_get_state (job), ==, IMZALA_JOB_STATE_CHOOSING);
  g_assert_nonnull (imzala_signing_job_get_status_notice (job));
  g_assert_nonnull (strstr (imzala_signing_job_get_status_notice (job), "could not be checked"));
  imzala_signing_job_sign (job, pin);
  g_assert_cmpint (wait_job (job), ==, IMZALA_JOB_STATE_DONE);
  g_assert_cmpuint (f->job.portal->n_submits, ==, 1);
  finish_job (job);
}

/* A job started on a login request that the fake portal holds. */
static ImzalaSigningJob *
start_held (StatusFixture *f)
{
  ImzalaSigningJob *job;

  f->job.portal->request = make_request (IMZALA_PURPOSE_LOGIN, -5, 300, "Giriş\n\nİşlem: x", NULL);
  f->job.portal->hold_fetch = TRUE;
  job = new_job (&f->job);
  imzala_signing_job_start (job, "ABCDEFGHJKMN");
  return job;
}

/* One certificate to choose: its status is asked while the request comes.
 * The responder answers while the portal still holds the request, then
 * stops; once the request is here, the revoked certificate is refused by
 * that answer, with the request shown and no PIN taken to the card. */
static void
test_status_asked_early (StatusFixture *f,
                         gconstpointer  data)
{
  g_autofree char *answered = g_build_filename (f->pki->dir, "last-response.der", NULL);
  gint64 deadline = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;
  ImzalaSigningJob *job = start_held (f);

  while (!g_file_test (answered, G_FILE_TEST_EXISTS))
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_main_context_iteration (NULL, FALSE);
      g_usleep (1000);
    }
  g_assert_nonnull (f->job.portal->held);
  g_assert_cmpint (imzala_signing_job_get_state (job), ==, IMZALA_JOB_STATE_FETCHING);
  g_assert_false (imzala_signing_job_get_status_checking (job));
  g_subprocess_force_exit (f->pki->ocsp_process);
  g_subprocess_wait (f->pki->ocsp_process, NULL, NULL);

  test_fake_portal_release_fetch (f->job.portal);
  wait_job (job);
  while (imzala_signing_job_get_status_checking (job))
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpint (imzala_signing_job_get_state (job), ==, IMZALA_JOB_STATE_FAILED);
  g_assert_error ((GError *) imzala_signing_job_get_error (job), IMZALA_ERROR, IMZALA_ERROR_CERTIFICATE_REVOKED);
  g_assert_nonnull (imzala_signing_job_get_request (job));
  assert_states (&f->job, IMZALA_JOB_STATE_FETCHING, IMZALA_JOB_STATE_CHOOSING, IMZALA_JOB_STATE_FAILED, -1);
  g_assert_cmpuint (f->job.portal->n_submits, ==, 0);
  finish_job (job);
  g_assert_cmpuint (logins (f), ==, 0);
}

/* Two certificates to choose: nothing is asked before the request says
 * which. */
static void
test_status_not_asked_early (StatusFixture *f,
                             gconstpointer  data)
{
  g_autofree char *answered = g_build_filename (f->pki->dir, "last-response.der", NULL);
  ImzalaSigningJob *job = start_held (f);

  while (imzala_signing_job_get_tokens (job) == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpuint (g_list_model_get_n_items (imzala_signing_job_get_certificates (job)), ==, 2);
  imzala_signing_job_cancel (job);
  while (f->job.portal->held != NULL)
    g_main_context_iteration (NULL, TRUE);
  finish_job (job);
  g_assert_false (g_file_test (answered, G_FILE_TEST_EXISTS));
}

/* The portal asks for XL: the submitted signature carries a time-stamp
 * that `openssl ts -verify` accepts and the OCSP answer for the card's
 * certificate; a TSA that fails fails the job, and nothing is submitted. */
static void
test_status_level_xl (StatusFixture *f,
                      gconstpointer  data)
{
  g_autoptr(ImzalaSecret) pin = imzala_test_secret (f->job.user_pin);
  g_autoptr(GError) error = NULL;
  ImzalaTestTsa *tsa = imzala_test_tsa_new ();
  ImzalaSigningJob *job;
  GBytes *submitted;
  g_autoptr(GBytes) token = NULL;
  g_autoptr(GBytes) signature = NULL;

  f->job.portal->request = make_request (IMZALA_PURPOSE_LOGIN, -5, 300, "Giriş\n\nİşlem: x", NULL);
  g_assert_true (imzala_request_set_signature_level (f->job.portal->request, "XL",
                                                     imzala_test_tsa_get_url (tsa), &error));
  job = choose (f, f->good);
  imzala_signing_job_set_tsa_ca_file (job, imzala_test_tsa_get_ca (tsa));
  imzala_signing_job_sign (job, pin);
  g_assert_cmpint (wait_job (job), ==, IMZALA_JOB_STATE_DONE);
  g_assert_cmpuint (f->job.portal->n_submits, ==, 1);
  submitted = g_ptr_array_index (f->job.portal->submitted, 0);
  token = imzala_test_cms_get_time_stamp_token (submitted);
  g_assert_nonnull (token);
  signature = imzala_cades_get_signature_value (submitted, &error);
  g_assert_no_error (error);
  g_assert_true (imzala_test_tsa_openssl_verify (tsa, token, signature));
  g_assert_cmpuint (imzala_test_tsa_count (tsa), ==, 1);
  finish_job (job);

  /* The TSA fails after the card signed: the job fails, nothing goes out. */
  imzala_test_tsa_set_mode (tsa, IMZALA_TEST_TSA_HTTP_ERROR);
  job = choose (f, f->good);
  imzala_signing_job_set_tsa_ca_file (job, imzala_test_tsa_get_ca (tsa));
  imzala_signing_job_sign (job, pin);
  g_assert_cmpint (wait_job (job), ==, IMZALA_JOB_STATE_FAILED);
  g_assert_error (imzala_signing_job_get_error (job), IMZALA_ERROR, IMZALA_ERROR_TIMESTAMP);
  g_assert_cmpuint (f->job.portal->n_submits, ==, 1);
  finish_job (job);
  imzala_test_tsa_free (tsa);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) g_test_add (path, JobFixture, NULL, job_setup, func, job_teardown)
  ADD ("/signing-job/sign", test_sign);
  ADD ("/signing-job/two-texts", test_two_texts);
  ADD ("/signing-job/wrong-pin", test_wrong_pin);
  ADD ("/signing-job/fetch-error", test_fetch_error);
  ADD ("/signing-job/submit-error", test_submit_error);
  ADD ("/signing-job/cancel-during-fetch", test_cancel_during_fetch);
  ADD ("/signing-job/expired", test_expired);
#undef ADD
#define ADD_LOCKED(path, func) \
  g_test_add (path, JobFixture, "pin-locked", job_setup_faults, func, job_teardown)
  ADD_LOCKED ("/signing-job/unblock", test_unblock);
  ADD_LOCKED ("/signing-job/unblock-wrong-puk", test_unblock_wrong_puk);
  ADD_LOCKED ("/signing-job/unblock-refused", test_unblock_refused);
#undef ADD_LOCKED
  g_test_add ("/signing-job/other-persons-card", JobFixture, other_card_only,
              job_setup, test_other_persons_card, job_teardown);
  g_test_add ("/signing-job/sign-thread-affine", JobFixture, NULL,
              job_setup_thread_affine, test_sign, job_teardown_thread_affine);
  g_test_add ("/signing-job/two-texts-thread-affine", JobFixture, NULL,
              job_setup_thread_affine, test_two_texts, job_teardown_thread_affine);
  g_test_add ("/signing-job/certs-after-login", JobFixture, NULL,
              job_setup_certs_after_login, test_certs_after_login, job_teardown);
  g_test_add ("/signing-job/hidden-card", JobFixture, "IMZALA TEST 1",
              job_setup_certs_after_login, test_hidden_card, job_teardown_hidden_card);
  g_test_add ("/signing-job/two-texts-one-login", JobFixture, NULL,
              job_setup_count_calls, test_two_texts_one_login, job_teardown);
  g_test_add ("/signing-job/empty-card", JobFixture, NULL,
              job_setup_count_calls, test_empty_card, job_teardown);

  g_test_add ("/signing-job/pin-pad-prompts", JobFixture, "pin-pad",
              job_setup_pin_pad, test_pin_pad_prompts, job_teardown_pin_pad);
  g_test_add ("/signing-job/pin-pad-cancel", JobFixture, "pin-pad-wait",
              job_setup_pin_pad, test_pin_pad_cancel, job_teardown_pin_pad);
  g_test_add ("/signing-job/pin-pad-cancel-first", JobFixture, "pin-pad-wait",
              job_setup_pin_pad_late, test_pin_pad_cancel, job_teardown_pin_pad);
  g_test_add ("/signing-job/pin-pad-timeout", JobFixture, "pin-pad-wait",
              job_setup_pin_pad, test_pin_pad_timeout, job_teardown_pin_pad);
  g_test_add ("/signing-job/slow-slot-list", JobFixture, NULL,
              job_setup_slow_slot_list, test_slow_slot_list, job_teardown_slow_slot_list);
  /* Issue 10. */
  g_test_add ("/signing-job/status/revoked", StatusFixture, NULL,
              status_setup, test_status_revoked, status_teardown);
  g_test_add ("/signing-job/status/good", StatusFixture, NULL,
              status_setup, test_status_good, status_teardown);
  g_test_add ("/signing-job/status/responder-down", StatusFixture, NULL,
              status_setup, test_status_responder_down, status_teardown);
  g_test_add ("/signing-job/status/level-xl", StatusFixture, NULL,
              status_setup, test_status_level_xl, status_teardown);
  /* Issue 12. */
  g_test_add ("/signing-job/status/asked-early", StatusFixture, "revoked-only",
              status_setup, test_status_asked_early, status_teardown);
  g_test_add ("/signing-job/status/not-asked-early", StatusFixture, NULL,
              status_setup, test_status_not_asked_early, status_teardown);
  return g_test_run ();
}
