/* test-token.c: signing, PIN change and unblock on the SoftHSM fixture. The
 * signatures are checked with OpenSSL against the certificate's public key. */
#define G_LOG_DOMAIN "test-token"

#include "config.h"

#include <string.h>
#include <openssl/evp.h>

#include "imzala-test.h"

typedef struct
{
  ImzalaTestFixture *fixture;
  ImzalaModuleSet *modules;
  GPtrArray *tokens;
  char *user_pin;
  char *so_pin;
} Fixture;

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  f->fixture = imzala_test_fixture_new ();
  f->modules = imzala_test_fixture_load (f->fixture, &error);
  g_assert_no_error (error);
  f->tokens = imzala_module_set_list_tokens (f->modules, NULL, &error);
  g_assert_no_error (error);
  f->user_pin = imzala_test_fixture_get (f->fixture, "fixture", "user-pin");
  f->so_pin = imzala_test_fixture_get (f->fixture, "fixture", "so-pin");
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  g_ptr_array_unref (f->tokens);
  g_object_unref (f->modules);
  imzala_test_fixture_free (f->fixture);
  g_free (f->user_pin);
  g_free (f->so_pin);
}

static ImzalaCertificate *
get_certificate (Fixture     *f,
                 const char  *name)
{
  g_autofree char *fingerprint = imzala_test_fixture_cert_get (f->fixture, name, "fingerprint");
  g_autoptr(GError) error = NULL;
  ImzalaCertificate *certificate;

  certificate = imzala_module_set_find_certificate (f->tokens, fingerprint, NULL, &error);
  g_assert_no_error (error);
  /* Remembered for token_of(): the token owns its certificates and a
   * certificate does not know its token. */
  g_object_set_data (G_OBJECT (certificate), "test-token",
                     imzala_module_set_find_token (f->tokens, certificate));
  /* The tokens array keeps it alive. */
  g_object_unref (certificate);
  return certificate;
}

static ImzalaToken *
token_of (ImzalaCertificate *certificate)
{
  return IMZALA_TOKEN (g_object_get_data (G_OBJECT (certificate), "test-token"));
}

static gboolean
signature_verifies (ImzalaCertificate *certificate,
                    ImzalaDigest       digest,
                    GBytes            *data,
                    GBytes            *signature)
{
  EVP_PKEY *pkey = X509_get0_pubkey (imzala_certificate_get_x509 (certificate));
  EVP_MD_CTX *ctx = EVP_MD_CTX_new ();
  const EVP_MD *md = digest == IMZALA_DIGEST_SHA384 ? EVP_sha384 () : EVP_sha256 ();
  int ok;

  g_assert_nonnull (pkey);
  g_assert_cmpint (EVP_DigestVerifyInit (ctx, NULL, md, NULL, pkey), ==, 1);
  ok = EVP_DigestVerify (ctx,
                         g_bytes_get_data (signature, NULL), g_bytes_get_size (signature),
                         g_bytes_get_data (data, NULL), g_bytes_get_size (data));
  EVP_MD_CTX_free (ctx);
  return ok == 1;
}

static GBytes *
sign (ImzalaCertificate *certificate,
      const char        *pin_text,
      ImzalaDigest       digest,
      GBytes            *data,
      GError           **error)
{
  g_autoptr(ImzalaSecret) pin = imzala_test_secret (pin_text);

  return imzala_token_sign (token_of (certificate), certificate, pin, digest, data, NULL, error);
}

static void
assert_signs (Fixture           *f,
              ImzalaCertificate *certificate,
              const char        *pin,
              ImzalaDigest       digest)
{
  g_autoptr(GBytes) data = g_bytes_new_static ("İmzalanacak Metin 1", strlen ("İmzalanacak Metin 1"));
  g_autoptr(GBytes) signature = NULL;
  g_autoptr(GError) error = NULL;

  signature = sign (certificate, pin, digest, data, &error);
  g_assert_no_error (error);
  g_assert_nonnull (signature);
  g_assert_true (signature_verifies (certificate, digest, data, signature));
}

static void
test_sign_rsa (Fixture       *f,
               gconstpointer  data)
{
  ImzalaCertificate *certificate = get_certificate (f, "ayse-rsa");

  assert_signs (f, certificate, f->user_pin, IMZALA_DIGEST_SHA256);
  assert_signs (f, certificate, f->user_pin, IMZALA_DIGEST_SHA384);
}

static void
test_sign_p384 (Fixture       *f,
                gconstpointer  data)
{
  ImzalaCertificate *certificate = get_certificate (f, "ayse-p384");

  assert_signs (f, certificate, f->user_pin, IMZALA_DIGEST_SHA384);
}

static void
test_sign_p256_always_authenticate (Fixture       *f,
                                    gconstpointer  data)
{
  ImzalaCertificate *certificate = get_certificate (f, "mehmet-p256");

  /* Twice: the key wants the PIN again for every signature. */
  assert_signs (f, certificate, f->user_pin, IMZALA_DIGEST_SHA256);
  assert_signs (f, certificate, f->user_pin, IMZALA_DIGEST_SHA256);
}

static void
sign_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  GBytes **out = user_data;
  g_autoptr(GError) error = NULL;

  *out = imzala_token_sign_finish (IMZALA_TOKEN (source), result, &error);
  g_assert_no_error (error);
}

static void
test_sign_async (Fixture       *f,
                 gconstpointer  data)
{
  ImzalaCertificate *certificate = get_certificate (f, "ayse-p384");
  g_autoptr(GBytes) content = g_bytes_new_static ("async", 5);
  g_autoptr(ImzalaSecret) pin = imzala_test_secret (f->user_pin);
  g_autoptr(GBytes) signature = NULL;

  imzala_token_sign_async (token_of (certificate), certificate, pin, IMZALA_DIGEST_SHA384,
                           content, NULL, sign_cb, &signature);
  while (signature == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_assert_true (signature_verifies (certificate, IMZALA_DIGEST_SHA384, content, signature));
}

static void
test_sign_cancelled (Fixture       *f,
                     gconstpointer  data)
{
  ImzalaCertificate *certificate = get_certificate (f, "ayse-rsa");
  g_autoptr(GBytes) content = g_bytes_new_static ("x", 1);
  g_autoptr(ImzalaSecret) pin = imzala_test_secret (f->user_pin);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) signature = NULL;

  g_cancellable_cancel (cancellable);
  signature = imzala_token_sign (token_of (certificate), certificate, pin, IMZALA_DIGEST_SHA256,
                                 content, cancellable, &error);
  g_assert_null (signature);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
}

static void
test_wrong_pin (Fixture       *f,
                gconstpointer  data)
{
  ImzalaCertificate *certificate = get_certificate (f, "ayse-rsa");
  g_autoptr(GBytes) content = g_bytes_new_static ("x", 1);
  g_autoptr(GBytes) signature = NULL;
  g_autoptr(GError) error = NULL;

  signature = sign (certificate, "999999", IMZALA_DIGEST_SHA256, content, &error);
  g_assert_null (signature);
  g_assert_error (error, IMZALA_ERROR, IMZALA_ERROR_PIN_INCORRECT);
  /* A sentence for the user, no PKCS#11 jargon, no PIN. */
  g_assert_null (strstr (error->message, "CKR_"));
  g_assert_null (strstr (error->message, "999999"));

  /* The always-authenticate key refuses a wrong PIN the same way. */
  g_clear_error (&error);
  signature = sign (get_certificate (f, "mehmet-p256"), "999999", IMZALA_DIGEST_SHA256, content, &error);
  g_assert_null (signature);
  g_assert_error (error, IMZALA_ERROR, IMZALA_ERROR_PIN_INCORRECT);

  /* Nothing stayed logged in, and the right PIN still works. */
  assert_signs (f, certificate, f->user_pin, IMZALA_DIGEST_SHA256);
}

static void
test_pin_length (Fixture       *f,
                 gconstpointer  data)
{
  ImzalaCertificate *certificate = get_certificate (f, "ayse-rsa");
  ImzalaToken *token = token_of (certificate);
  g_autoptr(GBytes) content = g_bytes_new_static ("x", 1);
  g_autoptr(GBytes) signature = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(ImzalaSecret) pin = imzala_test_secret (f->user_pin);
  g_autoptr(ImzalaSecret) short_pin = imzala_test_secret ("12");
  g_autoptr(ImzalaSecret) empty = imzala_secret_new ();

  signature = sign (certificate, "12", IMZALA_DIGEST_SHA256, content, &error);
  g_assert_null (signature);
  g_assert_error (error, IMZALA_ERROR, IMZALA_ERROR_PIN_LEN_RANGE);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "4"));
  g_clear_error (&error);

  /* No PIN on a token without a pin pad. */
  signature = imzala_token_sign (token, certificate, NULL, IMZALA_DIGEST_SHA256, content, NULL, &error);
  g_assert_null (signature);
  g_assert_error (error, IMZALA_ERROR, IMZALA_ERROR_PIN_REQUIRED);
  g_assert_cmpstr (imzala_error_code_to_string (error->code), ==, "pin-required");
  g_clear_error (&error);

  g_assert_false (imzala_token_change_pin (token, pin, short_pin, NULL, &error));
  g_assert_error (error, IMZALA_ERROR, IMZALA_ERROR_PIN_LEN_RANGE);
  g_clear_error (&error);

  g_assert_false (imzala_token_change_pin (token, pin, empty, NULL, &error));
  g_assert_error (error, IMZALA_ERROR, IMZALA_ERROR_PIN_LEN_RANGE);
  g_clear_error (&error);

  /* The PIN was not changed. */
  assert_signs (f, certificate, f->user_pin, IMZALA_DIGEST_SHA256);
}

static void
test_change_pin (Fixture       *f,
                 gconstpointer  data)
{
  ImzalaCertificate *certificate = get_certificate (f, "ayse-p384");
  ImzalaToken *token = token_of (certificate);
  g_autoptr(ImzalaSecret) old_pin = imzala_test_secret (f->user_pin);
  g_autoptr(ImzalaSecret) new_pin = imzala_test_secret ("24680135");
  g_autoptr(ImzalaSecret) wrong = imzala_test_secret ("000000");
  g_autoptr(GBytes) content = g_bytes_new_static ("x", 1);
  g_autoptr(GBytes) signature = NULL;
  g_autoptr(GError) error = NULL;

  /* A wrong old PIN changes nothing. */
  g_assert_false (imzala_token_change_pin (token, wrong, new_pin, NULL, &error));
  g_assert_error (error, IMZALA_ERROR, IMZALA_ERROR_PIN_INCORRECT);
  g_clear_error (&error);

  g_assert_true (imzala_token_change_pin (token, old_pin, new_pin, NULL, &error));
  g_assert_no_error (error);

  assert_signs (f, certificate, "24680135", IMZALA_DIGEST_SHA384);
  signature = sign (certificate, f->user_pin, IMZALA_DIGEST_SHA384, content, &error);
  g_assert_null (signature);
  g_assert_error (error, IMZALA_ERROR, IMZALA_ERROR_PIN_INCORRECT);
  g_clear_error (&error);

  /* And back. */
  g_assert_true (imzala_token_change_pin (token, new_pin, old_pin, NULL, &error));
  g_assert_no_error (error);
  assert_signs (f, certificate, f->user_pin, IMZALA_DIGEST_SHA384);
}

static void
done_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  int *state = user_data;
  g_autoptr(GError) error = NULL;
  gboolean ok;

  if (g_task_get_source_tag (G_TASK (result)) == imzala_token_change_pin_async)
    ok = imzala_token_change_pin_finish (IMZALA_TOKEN (source), result, &error);
  else
    ok = imzala_token_unblock_pin_finish (IMZALA_TOKEN (source), result, &error);
  g_assert_no_error (error);
  g_assert_true (ok);
  *state = 1;
}

static void
test_change_pin_async (Fixture       *f,
                       gconstpointer  data)
{
  ImzalaCertificate *certificate = get_certificate (f, "mehmet-p256");
  ImzalaToken *token = token_of (certificate);
  g_autoptr(ImzalaSecret) old_pin = imzala_test_secret (f->user_pin);
  g_autoptr(ImzalaSecret) new_pin = imzala_test_secret ("9753");
  int done = 0;

  imzala_token_change_pin_async (token, old_pin, new_pin, NULL, done_cb, &done);
  while (!done)
    g_main_context_iteration (NULL, TRUE);
  assert_signs (f, certificate, "9753", IMZALA_DIGEST_SHA256);
}

static void
test_unblock_pin (Fixture       *f,
                  gconstpointer  data)
{
  ImzalaCertificate *certificate = get_certificate (f, "ayse-rsa");
  ImzalaToken *token = token_of (certificate);
  g_autoptr(ImzalaSecret) puk = imzala_test_secret (f->so_pin);
  g_autoptr(ImzalaSecret) new_pin = imzala_test_secret ("112233");
  g_autoptr(GBytes) content = g_bytes_new_static ("x", 1);
  g_autoptr(GBytes) signature = NULL;
  g_autoptr(GError) error = NULL;
  int done = 0;

  g_assert_true (imzala_token_unblock_pin (token, puk, new_pin, NULL, &error));
  g_assert_no_error (error);

  assert_signs (f, certificate, "112233", IMZALA_DIGEST_SHA256);
  signature = sign (certificate, f->user_pin, IMZALA_DIGEST_SHA256, content, &error);
  g_assert_null (signature);
  g_assert_error (error, IMZALA_ERROR, IMZALA_ERROR_PIN_INCORRECT);
  g_clear_error (&error);

  /* The async form, back to the fixture's PIN. */
  {
    g_autoptr(ImzalaSecret) original = imzala_test_secret (f->user_pin);

    imzala_token_unblock_pin_async (token, puk, original, NULL, done_cb, &done);
    while (!done)
      g_main_context_iteration (NULL, TRUE);
  }
  assert_signs (f, certificate, f->user_pin, IMZALA_DIGEST_SHA256);
}

static void
test_wrong_puk (Fixture       *f,
                gconstpointer  data)
{
  ImzalaCertificate *certificate = get_certificate (f, "ayse-rsa");
  ImzalaToken *token = token_of (certificate);
  g_autoptr(ImzalaSecret) puk = imzala_test_secret ("11111111");
  g_autoptr(ImzalaSecret) new_pin = imzala_test_secret ("112233");
  g_autoptr(GError) error = NULL;

  g_assert_false (imzala_token_unblock_pin (token, puk, new_pin, NULL, &error));
  g_assert_error (error, IMZALA_ERROR, IMZALA_ERROR_PUK_INCORRECT);
  g_assert_null (strstr (error->message, "11111111"));

  /* The PIN is unchanged. */
  assert_signs (f, certificate, f->user_pin, IMZALA_DIGEST_SHA256);
}

static void
test_refresh (Fixture       *f,
              gconstpointer  data)
{
  ImzalaToken *token = token_of (get_certificate (f, "ayse-rsa"));
  g_autoptr(GError) error = NULL;

  g_assert_true (imzala_token_refresh (token, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (imzala_token_get_pin_state (token), ==, IMZALA_PIN_STATE_OK);
}

#define ADD(path, func) \
  g_test_add (path, Fixture, NULL, fixture_setup, func, fixture_teardown)

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  ADD ("/token/sign/rsa", test_sign_rsa);
  ADD ("/token/sign/p384", test_sign_p384);
  ADD ("/token/sign/p256-always-authenticate", test_sign_p256_always_authenticate);
  ADD ("/token/sign/async", test_sign_async);
  ADD ("/token/sign/cancelled", test_sign_cancelled);
  ADD ("/token/pin/wrong", test_wrong_pin);
  ADD ("/token/pin/length", test_pin_length);
  ADD ("/token/pin/change", test_change_pin);
  ADD ("/token/pin/change-async", test_change_pin_async);
  ADD ("/token/pin/unblock", test_unblock_pin);
  ADD ("/token/pin/wrong-puk", test_wrong_puk);
  ADD ("/token/refresh", test_refresh);

  return g_test_run ();
}
