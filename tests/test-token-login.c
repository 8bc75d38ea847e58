/* test-token-login.c: certificates behind a login, and one login per
 * request (issue 8, items 2 and 6), through the fault module's
 * certs-after-login word: before C_Login the card shows neither
 * certificates nor keys and says CKF_LOGIN_REQUIRED. The token says that
 * its certificates come after the PIN; imzala_token_login() shows them;
 * signing after it reuses the logged-in session (C_Login counted once, also
 * for two texts); imzala_token_logout() ends it. */
#define G_LOG_DOMAIN "test-token-login"

#include "config.h"

#include <string.h>

#include "imzala-pkcs11-private.h"
#include "imzala-test.h"

typedef struct
{
  ImzalaTestFixture *fixture;
  ImzalaModuleSet *modules;
  GPtrArray *tokens;
  char *user_pin;
  char *count_file;
} Fixture;

static void
fixture_load (Fixture    *f,
              const char *faults)
{
  g_autoptr(GError) error = NULL;

  f->fixture = imzala_test_fixture_new ();
  f->user_pin = imzala_test_fixture_get (f->fixture, "fixture", "user-pin");
  f->count_file = g_build_filename (f->fixture->dir, "counts.txt", NULL);
  f->modules = imzala_test_fault_load (f->fixture, faults, f->count_file, &error);
  g_assert_no_error (error);
  f->tokens = imzala_module_set_list_tokens (f->modules, NULL, &error);
  g_assert_no_error (error);
}

/* Closes the module, so that it writes its counts, and reads them. */
static GHashTable *
fixture_close_and_count (Fixture *f)
{
  g_clear_pointer (&f->tokens, g_ptr_array_unref);
  imzala_test_modules_unref_and_wait (g_steal_pointer (&f->modules));
  return imzala_test_read_fault_counts (f->count_file);
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  g_clear_pointer (&f->tokens, g_ptr_array_unref);
  if (f->modules != NULL)
    imzala_test_modules_unref_and_wait (g_steal_pointer (&f->modules));
  g_clear_pointer (&f->fixture, imzala_test_fixture_free);
  g_free (f->user_pin);
  g_free (f->count_file);
}

static ImzalaToken *
find_token (Fixture    *f,
            const char *certificate_name)
{
  g_autofree char *label = imzala_test_fixture_cert_get (f->fixture, certificate_name, "token");

  for (guint i = 0; i < f->tokens->len; i++)
    {
      ImzalaToken *token = g_ptr_array_index (f->tokens, i);

      if (g_strcmp0 (imzala_token_get_label (token), label) == 0)
        return token;
    }
  g_assert_not_reached ();
  return NULL;
}

static ImzalaCertificate *
find_certificate (Fixture     *f,
                  ImzalaToken *token,
                  const char  *name)
{
  g_autofree char *fingerprint = imzala_test_fixture_cert_get (f->fixture, name, "fingerprint");
  GPtrArray *certificates = imzala_token_get_certificates (token);

  for (guint i = 0; i < certificates->len; i++)
    {
      ImzalaCertificate *certificate = g_ptr_array_index (certificates, i);

      if (g_str_equal (imzala_certificate_get_fingerprint (certificate), fingerprint))
        return certificate;
    }
  g_assert_not_reached ();
  return NULL;
}

/* A CAdES-BES over @text with @certificate, checked by the verifier. */
static void
assert_signs_cms (Fixture           *f,
                  ImzalaToken       *token,
                  ImzalaCertificate *certificate,
                  ImzalaSecret      *pin,
                  const char        *text)
{
  g_autoptr(GBytes) content = g_bytes_new (text, strlen (text));
  g_autoptr(GBytes) cms = NULL;
  g_autoptr(GError) error = NULL;

  cms = imzala_token_sign_cms (token, certificate, pin, content, IMZALA_CMS_NONE, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (cms);
}

/* Before the login: no certificate, and the token says why. Without the
 * word the same token shows its certificates and needs no login to list. */
static void
test_hidden_before_login (Fixture       *f,
                          gconstpointer  data)
{
  ImzalaToken *token;

  fixture_load (f, "certs-after-login");
  token = find_token (f, "ayse-rsa");
  g_assert_cmpuint (imzala_token_get_certificates (token)->len, ==, 0);
  g_assert_true (imzala_token_needs_login_to_list (token));
  fixture_teardown (f, NULL);
  memset (f, 0, sizeof *f);

  fixture_load (f, "");
  token = find_token (f, "ayse-rsa");
  g_assert_cmpuint (imzala_token_get_certificates (token)->len, >, 0);
  g_assert_false (imzala_token_needs_login_to_list (token));
}

/* A wrong PIN shows nothing and keeps no session; the right one shows the
 * certificates, paired with their keys, and a later listing finds them in
 * the cache while the session lasts. */
static void
test_login_lists (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(ImzalaSecret) wrong = imzala_test_secret ("000000");
  g_autoptr(ImzalaSecret) pin = NULL;
  g_autoptr(GPtrArray) again = NULL;
  g_autoptr(GError) error = NULL;
  ImzalaCertificate *certificate;
  ImzalaToken *token;

  fixture_load (f, "certs-after-login");
  pin = imzala_test_secret (f->user_pin);
  token = find_token (f, "ayse-rsa");

  g_assert_false (imzala_token_login (token, wrong, NULL, &error));
  g_assert_error (error, IMZALA_ERROR, IMZALA_ERROR_PIN_INCORRECT);
  g_clear_error (&error);
  g_assert_cmpuint (imzala_token_get_certificates (token)->len, ==, 0);

  g_assert_true (imzala_token_login (token, pin, NULL, &error));
  g_assert_no_error (error);
  g_assert_false (imzala_token_needs_login_to_list (token));
  certificate = find_certificate (f, token, "ayse-rsa");
  g_assert_true (imzala_certificate_has_private_key (certificate));
  g_assert_cmpint (imzala_certificate_get_key_pairing (certificate), ==, IMZALA_KEY_PAIRING_BY_ID);
  find_certificate (f, token, "ayse-p384");

  again = imzala_module_set_list_tokens (f->modules, NULL, &error);
  g_assert_no_error (error);
  g_clear_pointer (&f->tokens, g_ptr_array_unref);
  f->tokens = g_steal_pointer (&again);
  token = find_token (f, "ayse-rsa");
  /* The same objects: read once for this insertion. */
  g_assert_true (find_certificate (f, token, "ayse-rsa") == certificate);

  imzala_token_logout (token);
}

/* Login, then two signatures (the two texts of a request): C_Login once. */
static void
test_sign_in_login_session (Fixture       *f,
                            gconstpointer  data)
{
  g_autoptr(ImzalaSecret) pin = NULL;
  g_autoptr(GHashTable) counts = NULL;
  g_autoptr(GError) error = NULL;
  ImzalaCertificate *certificate;
  ImzalaToken *token;

  fixture_load (f, "certs-after-login,count-calls");
  pin = imzala_test_secret (f->user_pin);
  token = find_token (f, "ayse-p384");

  g_assert_true (imzala_token_login (token, pin, NULL, &error));
  g_assert_no_error (error);
  certificate = find_certificate (f, token, "ayse-p384");
  /* Logged in already: a second login asks nothing of the card. */
  g_assert_true (imzala_token_login (token, pin, NULL, &error));
  g_assert_no_error (error);

  /* Signing in the kept session needs no PIN for a key without
   * CKA_ALWAYS_AUTHENTICATE. */
  assert_signs_cms (f, token, certificate, NULL, "İmzalanacak Metin 1");
  assert_signs_cms (f, token, certificate, pin, "İmzalanacak Metin 2");
  imzala_token_logout (token);

  counts = fixture_close_and_count (f);
  g_assert_cmpuint (imzala_test_fault_count (counts, "login-user"), ==, 1);
  g_assert_cmpuint (imzala_test_fault_count (counts, "login-context-specific"), ==, 0);
  g_assert_cmpuint (imzala_test_fault_count (counts, "C_Login"), ==, 1);
  g_assert_cmpuint (imzala_test_fault_count (counts, "C_Logout"), ==, 1);
  g_assert_cmpuint (imzala_test_fault_count (counts, "C_OpenSession"),
                    ==, imzala_test_fault_count (counts, "C_CloseSession"));
}

/* Two texts with a CKA_ALWAYS_AUTHENTICATE key (asynchronously, as the
 * job signs): one user login, and the context-specific login the key
 * wants per signature. */
static void
sign_cms_cb (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  GBytes **cms = user_data;
  g_autoptr(GError) error = NULL;

  *cms = imzala_token_sign_cms_finish (IMZALA_TOKEN (source), result, &error);
  g_assert_no_error (error);
}

static void
login_cb (GObject      *source,
          GAsyncResult *result,
          gpointer      user_data)
{
  gboolean *done = user_data;
  g_autoptr(GError) error = NULL;

  g_assert_true (imzala_token_login_finish (IMZALA_TOKEN (source), result, &error));
  g_assert_no_error (error);
  *done = TRUE;
}

static void
test_two_texts_always_authenticate (Fixture       *f,
                                    gconstpointer  data)
{
  g_autoptr(ImzalaSecret) pin = NULL;
  g_autoptr(GHashTable) counts = NULL;
  ImzalaCertificate *certificate;
  ImzalaToken *token;
  gboolean logged_in = FALSE;

  fixture_load (f, "certs-after-login,count-calls");
  pin = imzala_test_secret (f->user_pin);
  token = find_token (f, "mehmet-p256");
  g_assert_true (imzala_token_needs_login_to_list (token));

  imzala_token_login_async (token, pin, NULL, login_cb, &logged_in);
  while (!logged_in)
    g_main_context_iteration (NULL, TRUE);
  certificate = find_certificate (f, token, "mehmet-p256");

  for (guint i = 0; i < 2; i++)
    {
      g_autoptr(GBytes) content = g_bytes_new_static ("İmzalanacak Metin", strlen ("İmzalanacak Metin"));
      g_autoptr(GBytes) cms = NULL;

      imzala_token_sign_cms_async (token, certificate, pin, content, IMZALA_CMS_NONE, NULL,
                                   sign_cms_cb, &cms);
      while (cms == NULL)
        g_main_context_iteration (NULL, TRUE);
    }
  imzala_token_logout_async (token);

  counts = fixture_close_and_count (f);
  g_assert_cmpuint (imzala_test_fault_count (counts, "login-user"), ==, 1);
  g_assert_cmpuint (imzala_test_fault_count (counts, "login-context-specific"), ==, 2);
  g_assert_cmpuint (imzala_test_fault_count (counts, "C_Logout"), ==, 1);
}

/* Without a kept login every signature logs in and out as before. */
static void
test_without_login_session (Fixture       *f,
                            gconstpointer  data)
{
  g_autoptr(ImzalaSecret) pin = NULL;
  g_autoptr(GHashTable) counts = NULL;
  ImzalaToken *token;

  fixture_load (f, "count-calls");
  pin = imzala_test_secret (f->user_pin);
  token = find_token (f, "ayse-rsa");
  assert_signs_cms (f, token, find_certificate (f, token, "ayse-rsa"), pin, "Metin 1");
  assert_signs_cms (f, token, find_certificate (f, token, "ayse-rsa"), pin, "Metin 2");

  counts = fixture_close_and_count (f);
  g_assert_cmpuint (imzala_test_fault_count (counts, "login-user"), ==, 2);
  g_assert_cmpuint (imzala_test_fault_count (counts, "C_Logout"), ==, 2);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add ("/token-login/hidden-before-login", Fixture, NULL, NULL, test_hidden_before_login, fixture_teardown);
  g_test_add ("/token-login/login-lists", Fixture, NULL, NULL, test_login_lists, fixture_teardown);
  g_test_add ("/token-login/sign-in-login-session", Fixture, NULL, NULL, test_sign_in_login_session, fixture_teardown);
  g_test_add ("/token-login/two-texts-always-authenticate", Fixture, NULL, NULL,
              test_two_texts_always_authenticate, fixture_teardown);
  g_test_add ("/token-login/without-login-session", Fixture, NULL, NULL, test_without_login_session, fixture_teardown);
  return g_test_run ();
}
