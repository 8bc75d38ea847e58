/* test-card-removal.c: the card pulled out at every call of a signing.
 *
 * A first run of list → login → sign through the fault module
 * (tests/imzala-fault-pkcs11.c) counts the module calls a whole signing
 * makes (IMZALA_FAULT_CALL_LOG). Then, for every N from 1 to that count,
 * the same signing runs again with the card pulled out at the N-th call
 * (remove-at=N). Each run must end in a complete signature that verifies
 * (the card left after it was done with), or in exactly
 * IMZALA_ERROR_TOKEN_REMOVED: never "no certificate", "no private key", a
 * crash or a hang. A removal before any token was seen at all may also be
 * "no card" (IMZALA_ERROR_NO_TOKEN), which is then the truth.
 */
#define G_LOG_DOMAIN "test-card-removal"

#include "config.h"

#include <string.h>
#include <glib/gstdio.h>
#include <openssl/x509_vfy.h>

#include "imzala-test.h"

#define CONTENT "İmzalanacak Metin 1: e-onay 2024/0042"

typedef struct
{
  ImzalaTestFixture *fixture;
  char *user_pin;
  char *log_path;
  X509_STORE *trust;
} Fixture;

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  g_assert_nonnull (g_getenv ("IMZALA_FAULT_MODULE"));

  f->fixture = imzala_test_fixture_new ();
  f->user_pin = imzala_test_fixture_get (f->fixture, "fixture", "user-pin");
  f->log_path = g_build_filename (f->fixture->dir, "calls.log", NULL);
  f->trust = X509_STORE_new ();
  g_assert_cmpint (X509_STORE_load_file (f->trust, f->fixture->root_ca_file), ==, 1);
  g_setenv ("IMZALA_FAULTS", "", TRUE);
  g_setenv ("IMZALA_FAULT_TARGET", f->fixture->module_path, TRUE);
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  g_unsetenv ("IMZALA_FAULT_REMOVE_AT");
  g_unsetenv ("IMZALA_FAULT_CALL_LOG");
  X509_STORE_free (f->trust);
  g_free (f->log_path);
  g_free (f->user_pin);
  g_clear_pointer (&f->fixture, imzala_test_fixture_free);
}

/* One signing as imzala-cli sign makes it: load, list, find, sign. Returns
 * the CMS, or NULL with @error set. */
static GBytes *
sign_once (Fixture     *f,
           const char  *certificate_name,
           GError     **error)
{
  g_autofree char *fingerprint = imzala_test_fixture_cert_get (f->fixture, certificate_name, "fingerprint");
  g_autoptr(ImzalaModuleSet) modules = imzala_module_set_new ();
  g_autoptr(GPtrArray) tokens = NULL;
  g_autoptr(ImzalaCertificate) certificate = NULL;
  g_autoptr(ImzalaToken) token = NULL;
  g_autoptr(ImzalaSecret) pin = imzala_test_secret (f->user_pin);
  g_autoptr(GBytes) content = g_bytes_new_static (CONTENT, strlen (CONTENT));
  GBytes *cms = NULL;

  imzala_module_set_set_use_registered (modules, FALSE);
  imzala_module_set_add_module_path (modules, g_getenv ("IMZALA_FAULT_MODULE"));
  if (imzala_module_set_load (modules, NULL, error))
    {
      tokens = imzala_module_set_list_tokens (modules, NULL, error);
      if (tokens != NULL)
        certificate = imzala_module_set_find_certificate (tokens, fingerprint, &token, error);
      if (certificate != NULL)
        cms = imzala_token_sign_cms (token, certificate, pin, content, IMZALA_CMS_NONE, NULL, error);
    }

  g_clear_object (&token);
  g_clear_object (&certificate);
  g_clear_pointer (&tokens, g_ptr_array_unref);
  imzala_test_modules_unref_and_wait (g_steal_pointer (&modules));
  return cms;
}

/* The module's calls, as the log names them ("C_Sign"), in order. */
static GPtrArray *
read_call_log (const char *path)
{
  g_autofree char *text = NULL;
  g_auto(GStrv) lines = NULL;
  GPtrArray *calls = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GError) error = NULL;

  g_file_get_contents (path, &text, NULL, &error);
  g_assert_no_error (error);
  lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      const char *name = strchr (lines[i], ' ');

      if (name != NULL)
        g_ptr_array_add (calls, g_strdup (name + 1));
    }
  return calls;
}

static void
assert_verifies (Fixture *f,
                 GBytes  *cms)
{
  g_autoptr(ImzalaVerifyResult) result = NULL;
  g_autoptr(GError) error = NULL;

  result = imzala_cms_verify (cms, NULL, f->trust, IMZALA_VERIFY_NONE, &error);
  g_assert_no_error (error);
  g_assert_nonnull (result);
}

static void
pull_at_every_call (Fixture    *f,
                    const char *certificate_name)
{
  g_autoptr(GPtrArray) calls = NULL;
  g_autoptr(GBytes) reference = NULL;
  g_autoptr(GError) error = NULL;
  gboolean token_seen = FALSE;
  guint n_signed = 0;
  guint n_removed = 0;

  /* The reference run: nothing pulled, every call logged. */
  g_unlink (f->log_path);
  g_setenv ("IMZALA_FAULT_CALL_LOG", f->log_path, TRUE);
  g_unsetenv ("IMZALA_FAULT_REMOVE_AT");
  reference = sign_once (f, certificate_name, &error);
  g_assert_no_error (error);
  assert_verifies (f, reference);
  g_unsetenv ("IMZALA_FAULT_CALL_LOG");

  calls = read_call_log (f->log_path);
  g_test_message ("A signing with %s makes %u module calls", certificate_name, calls->len);
  g_assert_cmpuint (calls->len, >, 10);

  for (guint n = 1; n <= calls->len; n++)
    {
      g_autofree char *position = g_strdup_printf ("%u", n);
      g_autoptr(GBytes) cms = NULL;
      g_autoptr(GError) run_error = NULL;
      const char *call = g_ptr_array_index (calls, n - 1);

      g_setenv ("IMZALA_FAULT_REMOVE_AT", position, TRUE);
      cms = sign_once (f, certificate_name, &run_error);
      g_test_message ("Card pulled at call %u (%s): %s", n, call,
                      cms != NULL ? "signed" : run_error->message);

      if (cms != NULL)
        {
          assert_verifies (f, cms);
          n_signed++;
        }
      else if (!token_seen && g_error_matches (run_error, IMZALA_ERROR, IMZALA_ERROR_NO_TOKEN))
        {
          /* Pulled before the module showed any token: no card is what
           * there was. */
        }
      else
        {
          g_assert_error (run_error, IMZALA_ERROR, IMZALA_ERROR_TOKEN_REMOVED);
          n_removed++;
        }

      if (g_str_equal (call, "C_GetTokenInfo"))
        token_seen = TRUE;
    }

  /* The card pulled after C_Sign (while logging out and closing) leaves a
   * whole signature; pulled any earlier it leaves none. */
  g_assert_cmpuint (n_signed, >, 0);
  g_assert_cmpuint (n_removed, >, 0);
}

static void
test_rsa (Fixture       *f,
          gconstpointer  data)
{
  pull_at_every_call (f, "ayse-rsa");
}

static void
test_ec (Fixture       *f,
         gconstpointer  data)
{
  pull_at_every_call (f, "mehmet-p256");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add ("/card-removal/every-call/rsa", Fixture, NULL, fixture_setup, test_rsa, fixture_teardown);
  g_test_add ("/card-removal/every-call/ec", Fixture, NULL, fixture_setup, test_ec, fixture_teardown);

  return g_test_run ();
}
