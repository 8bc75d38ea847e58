/* test-token-faults.c: what SoftHSM alone cannot show, through the test
 * module tests/imzala-fault-pkcs11.c that wraps it: a vendor module that
 * refuses locking arguments, a token with only CKM_RSA_PKCS, a PIN that
 * counts down and blocks, a pin-pad reader, unblocking without an SO login,
 * and a card pulled out while signing. */
#define G_LOG_DOMAIN "test-token-faults"

#include "config.h"

#include <string.h>
#include <glib/gstdio.h>
#include <openssl/evp.h>
/* For p11_kit_override_system_files(), which p11-kit's own tests use too. */
#define P11_KIT_FUTURE_UNSTABLE_API
#include <p11-kit/p11-kit.h>

#include "imzala-test.h"

typedef struct
{
  ImzalaTestFixture *fixture;
  ImzalaModuleSet *modules;
  GPtrArray *tokens;
  char *user_pin;
  char *so_pin;
} Fixture;

/* Loads the fault module with @faults (see imzala-fault-pkcs11.c). */
static void
fixture_load (Fixture    *f,
              const char *faults)
{
  const char *module = g_getenv ("IMZALA_FAULT_MODULE");
  g_autoptr(GError) error = NULL;

  g_assert_nonnull (module);

  f->fixture = imzala_test_fixture_new ();
  f->user_pin = imzala_test_fixture_get (f->fixture, "fixture", "user-pin");
  f->so_pin = imzala_test_fixture_get (f->fixture, "fixture", "so-pin");
  g_setenv ("IMZALA_FAULTS", faults, TRUE);
  g_setenv ("IMZALA_FAULT_TARGET", f->fixture->module_path, TRUE);
  g_setenv ("IMZALA_FAULT_PIN", f->user_pin, TRUE);

  f->modules = imzala_module_set_new ();
  imzala_module_set_set_use_registered (f->modules, FALSE);
  imzala_module_set_add_module_path (f->modules, module);
  g_assert_true (imzala_module_set_load (f->modules, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (imzala_module_set_get_load_errors (f->modules)->len, ==, 0);

  f->tokens = imzala_module_set_list_tokens (f->modules, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (f->tokens->len, ==, 3);
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  g_clear_pointer (&f->tokens, g_ptr_array_unref);
  g_clear_object (&f->modules);
  g_clear_pointer (&f->fixture, imzala_test_fixture_free);
  g_free (f->user_pin);
  g_free (f->so_pin);
}

static ImzalaCertificate *
get_certificate (Fixture    *f,
                 const char *name)
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
  g_object_unref (certificate); /* f->tokens keeps it */
  return certificate;
}

static ImzalaToken *
token_of (ImzalaCertificate *certificate)
{
  return IMZALA_TOKEN (g_object_get_data (G_OBJECT (certificate), "test-token"));
}

static GBytes *
sign (ImzalaCertificate *certificate,
      const char        *pin_text,
      ImzalaDigest       digest,
      GBytes            *data,
      GError           **error)
{
  g_autoptr(ImzalaSecret) pin = pin_text != NULL ? imzala_test_secret (pin_text) : NULL;

  return imzala_token_sign (token_of (certificate), certificate, pin, digest, data, NULL, error);
}

static void
assert_signs (ImzalaCertificate *certificate,
              const char        *pin,
              ImzalaDigest       digest)
{
  g_autoptr(GBytes) data = g_bytes_new_static ("İmzalanacak Metin 1", strlen ("İmzalanacak Metin 1"));
  g_autoptr(GBytes) signature = NULL;
  g_autoptr(GError) error = NULL;
  EVP_PKEY *pkey = X509_get0_pubkey (imzala_certificate_get_x509 (certificate));
  EVP_MD_CTX *ctx = EVP_MD_CTX_new ();

  signature = sign (certificate, pin, digest, data, &error);
  g_assert_no_error (error);

  g_assert_cmpint (EVP_DigestVerifyInit (ctx, NULL,
                                         digest == IMZALA_DIGEST_SHA384 ? EVP_sha384 () : EVP_sha256 (),
                                         NULL, pkey), ==, 1);
  g_assert_cmpint (EVP_DigestVerify (ctx,
                                     g_bytes_get_data (signature, NULL), g_bytes_get_size (signature),
                                     g_bytes_get_data (data, NULL), g_bytes_get_size (data)), ==, 1);
  EVP_MD_CTX_free (ctx);
}

static void
test_unmanaged (Fixture       *f,
                gconstpointer  data)
{
  ImzalaModule *module;

  fixture_load (f, "init-args-bad");
  module = g_ptr_array_index (imzala_module_set_get_modules (f->modules), 0);
  g_assert_true (imzala_module_is_unmanaged (module));
  g_assert_cmpstr (imzala_module_get_name (module), ==, "imzala-fault-pkcs11.so");

  assert_signs (get_certificate (f, "ayse-rsa"), f->user_pin, IMZALA_DIGEST_SHA256);
  assert_signs (get_certificate (f, "ayse-p384"), f->user_pin, IMZALA_DIGEST_SHA384);
  assert_signs (get_certificate (f, "mehmet-p256"), f->user_pin, IMZALA_DIGEST_SHA256);
}

static void
sign_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  guint *pending = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) signature = NULL;

  signature = imzala_token_sign_finish (IMZALA_TOKEN (source), result, &error);
  g_assert_no_error (error);
  g_assert_nonnull (signature);
  (*pending)--;
}

static void
test_unmanaged_threads (Fixture       *f,
                        gconstpointer  data)
{
  ImzalaCertificate *certificates[] = { NULL, NULL, NULL };
  g_autoptr(ImzalaSecret) pin = NULL;
  g_autoptr(GBytes) content = g_bytes_new_static ("x", 1);
  guint pending = 0;

  /* The module was promised (by C_Initialize(NULL)) that it is never
   * entered from two threads at once; several signatures and listings in
   * parallel threads must all still work. */
  fixture_load (f, "init-args-bad");
  pin = imzala_test_secret (f->user_pin);
  certificates[0] = get_certificate (f, "ayse-rsa");
  certificates[1] = get_certificate (f, "ayse-p384");
  certificates[2] = get_certificate (f, "mehmet-p256");

  for (guint round = 0; round < 4; round++)
    for (gsize i = 0; i < G_N_ELEMENTS (certificates); i++)
      {
        pending++;
        imzala_token_sign_async (token_of (certificates[i]), certificates[i], pin,
                                 IMZALA_DIGEST_SHA256, content, NULL, sign_cb, &pending);
      }
  while (pending > 0)
    g_main_context_iteration (NULL, TRUE);
}

static void
test_rsa_pkcs_only (Fixture       *f,
                    gconstpointer  data)
{
  ImzalaCertificate *certificate;

  fixture_load (f, "rsa-pkcs-only");
  certificate = get_certificate (f, "ayse-rsa");
  assert_signs (certificate, f->user_pin, IMZALA_DIGEST_SHA256);
  assert_signs (certificate, f->user_pin, IMZALA_DIGEST_SHA384);
}

static void
test_pin_counter (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(GBytes) content = g_bytes_new_static ("x", 1);
  ImzalaCertificate *certificate;
  ImzalaToken *token;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) signature = NULL;

  fixture_load (f, "pin-counter");
  certificate = get_certificate (f, "ayse-rsa");
  token = token_of (certificate);
  g_assert_cmpint (imzala_token_get_pin_state (token), ==, IMZALA_PIN_STATE_OK);

  signature = sign (certificate, "999999", IMZALA_DIGEST_SHA256, content, &error);
  g_assert_null (signature);
  g_assert_error (error, IMZALA_ERROR, IMZALA_ERROR_PIN_INCORRECT);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "a few tries"));
  g_assert_cmpint (imzala_token_get_pin_state (token), ==, IMZALA_PIN_STATE_COUNT_LOW);
  g_clear_error (&error);

  signature = sign (certificate, "999999", IMZALA_DIGEST_SHA256, content, &error);
  g_assert_error (error, IMZALA_ERROR, IMZALA_ERROR_PIN_INCORRECT);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "one try"));
  g_assert_true (imzala_token_get_pin_state (token) & IMZALA_PIN_STATE_FINAL_TRY);
  g_clear_error (&error);

  signature = sign (certificate, "999999", IMZALA_DIGEST_SHA256, content, &error);
  g_assert_error (error, IMZALA_ERROR, IMZALA_ERROR_PIN_LOCKED);
  g_test_message ("%s", error->message);
  g_assert_true (imzala_token_get_pin_state (token) & IMZALA_PIN_STATE_LOCKED);
  g_clear_error (&error);

  /* Blocked: even the right PIN is refused. */
  signature = sign (certificate, f->user_pin, IMZALA_DIGEST_SHA256, content, &error);
  g_assert_error (error, IMZALA_ERROR, IMZALA_ERROR_PIN_LOCKED);
  g_clear_error (&error);

  /* The PUK unblocks it. */
  {
    g_autoptr(ImzalaSecret) puk = imzala_test_secret (f->so_pin);
    g_autoptr(ImzalaSecret) new_pin = imzala_test_secret (f->user_pin);

    g_assert_true (imzala_token_unblock_pin (token, puk, new_pin, NULL, &error));
    g_assert_no_error (error);
  }
  g_assert_cmpint (imzala_token_get_pin_state (token), ==, IMZALA_PIN_STATE_OK);
  assert_signs (certificate, f->user_pin, IMZALA_DIGEST_SHA256);
}

/* Conditions that once shared a code with another now have their own, so
 * that the CLI's exit status, the JSON "code" and the GUI's advice can say
 * what to do. */
static void
test_pin_expired (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(GBytes) content = g_bytes_new_static ("x", 1);
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) signature = NULL;

  fixture_load (f, "pin-expired");
  signature = sign (get_certificate (f, "ayse-rsa"), f->user_pin, IMZALA_DIGEST_SHA256, content, &error);
  g_assert_null (signature);
  g_assert_error (error, IMZALA_ERROR, IMZALA_ERROR_PIN_EXPIRED);
  g_assert_cmpstr (imzala_error_code_to_string (error->code), ==, "pin-expired");
  g_assert_nonnull (strstr (error->message, "expired"));
}

static void
test_pin_not_initialized (Fixture       *f,
                          gconstpointer  data)
{
  g_autoptr(GBytes) content = g_bytes_new_static ("x", 1);
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) signature = NULL;

  fixture_load (f, "pin-not-initialized");
  signature = sign (get_certificate (f, "ayse-rsa"), f->user_pin, IMZALA_DIGEST_SHA256, content, &error);
  g_assert_null (signature);
  g_assert_error (error, IMZALA_ERROR, IMZALA_ERROR_PIN_NOT_INITIALIZED);
  g_assert_cmpstr (imzala_error_code_to_string (error->code), ==, "pin-not-initialized");
  g_assert_nonnull (strstr (error->message, "PUK"));
}

static void
test_puk_required (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(ImzalaSecret) new_pin = imzala_test_secret ("445566");
  g_autoptr(GError) error = NULL;

  fixture_load (f, "");
  g_assert_false (imzala_token_unblock_pin (token_of (get_certificate (f, "ayse-rsa")), NULL, new_pin,
                                            NULL, &error));
  g_assert_error (error, IMZALA_ERROR, IMZALA_ERROR_PUK_REQUIRED);
  g_assert_cmpstr (imzala_error_code_to_string (error->code), ==, "puk-required");
}

static void
test_pin_pad (Fixture       *f,
              gconstpointer  data)
{
  ImzalaCertificate *certificate;

  fixture_load (f, "pin-pad");
  certificate = get_certificate (f, "ayse-p384");
  g_assert_true (imzala_token_has_pin_pad (token_of (certificate)));
  /* The PIN is typed on the reader: İmzala passes none. */
  assert_signs (certificate, NULL, IMZALA_DIGEST_SHA384);
  /* Also for a key that asks again for every signature. */
  assert_signs (get_certificate (f, "mehmet-p256"), NULL, IMZALA_DIGEST_SHA256);
}

static void
test_unblock_without_so_login (Fixture       *f,
                               gconstpointer  data)
{
  ImzalaCertificate *certificate;
  ImzalaToken *token;
  g_autoptr(GError) error = NULL;
  g_autoptr(ImzalaSecret) wrong_puk = imzala_test_secret ("11111111");
  g_autoptr(ImzalaSecret) puk = NULL;
  g_autoptr(ImzalaSecret) new_pin = imzala_test_secret ("445566");

  fixture_load (f, "no-so-login");
  puk = imzala_test_secret (f->so_pin);
  certificate = get_certificate (f, "ayse-rsa");
  token = token_of (certificate);

  g_assert_false (imzala_token_unblock_pin (token, wrong_puk, new_pin, NULL, &error));
  g_assert_error (error, IMZALA_ERROR, IMZALA_ERROR_PUK_INCORRECT);
  g_clear_error (&error);

  g_assert_true (imzala_token_unblock_pin (token, puk, new_pin, NULL, &error));
  g_assert_no_error (error);
  assert_signs (certificate, "445566", IMZALA_DIGEST_SHA256);

  /* A PIN change still goes through the user session. */
  {
    g_autoptr(ImzalaSecret) original = imzala_test_secret (f->user_pin);

    g_assert_true (imzala_token_change_pin (token, new_pin, original, NULL, &error));
    g_assert_no_error (error);
  }
  assert_signs (certificate, f->user_pin, IMZALA_DIGEST_SHA256);
}

static void
test_removed (Fixture       *f,
              gconstpointer  data)
{
  g_autoptr(GBytes) content = g_bytes_new_static ("x", 1);
  g_autoptr(GBytes) signature = NULL;
  g_autoptr(GError) error = NULL;

  fixture_load (f, "removed-on-sign");
  signature = sign (get_certificate (f, "ayse-rsa"), f->user_pin, IMZALA_DIGEST_SHA256, content, &error);
  g_assert_null (signature);
  g_assert_error (error, IMZALA_ERROR, IMZALA_ERROR_TOKEN_REMOVED);
  g_test_message ("%s", error->message);
}

/* What a module says about lengths is not trusted with our memory. Each of
 * these lies made the program read far past a buffer (or abort in
 * g_malloc()) before the checks in imzala-token.c and imzala-module-set.c. */
static void
test_signature_grows (Fixture       *f,
                      gconstpointer  data)
{
  g_autoptr(GBytes) content = g_bytes_new_static ("x", 1);
  const char *names[] = { "ayse-rsa", "ayse-p384" };

  fixture_load (f, "signature-grows");
  for (gsize i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autoptr(GBytes) signature = NULL;
      g_autoptr(GError) error = NULL;

      signature = sign (get_certificate (f, names[i]), f->user_pin, IMZALA_DIGEST_SHA256,
                        content, &error);
      g_assert_null (signature);
      g_assert_error (error, IMZALA_ERROR, IMZALA_ERROR_MODULE_FAILURE);
    }
}

static void
test_huge_attribute (Fixture       *f,
                     gconstpointer  data)
{
  /* Every certificate's CKA_VALUE claims a terabyte: the tokens are still
   * listed, without certificates. */
  fixture_load (f, "huge-attribute");
  for (guint i = 0; i < f->tokens->len; i++)
    g_assert_cmpuint (imzala_token_get_certificates (g_ptr_array_index (f->tokens, i))->len, ==, 0);
}

static void
test_attribute_grows (Fixture       *f,
                      gconstpointer  data)
{
  ImzalaCertificate *certificate;

  /* CKA_LABEL claims more bytes than it was given room for: the label is
   * not read, the certificate still is. */
  fixture_load (f, "attribute-grows");
  certificate = get_certificate (f, "ayse-rsa");
  g_assert_null (imzala_certificate_get_label (certificate));
  assert_signs (certificate, f->user_pin, IMZALA_DIGEST_SHA256);
}

static void
test_slot_list_grows (Fixture       *f,
                      gconstpointer  data)
{
  /* fixture_load() checks that exactly the three tokens are listed. */
  fixture_load (f, "slot-list-grows");
  assert_signs (get_certificate (f, "ayse-p384"), f->user_pin, IMZALA_DIGEST_SHA384);
}

static void
test_huge_mechanism_list (Fixture       *f,
                          gconstpointer  data)
{
  /* A module claiming 2^32 - 1 mechanisms: İmzala does not try to make room for
   * them (32 GiB: that aborted the process); with no usable list it signs with the
   * mechanism the key calls for, as for a module that lists none. */
  fixture_load (f, "huge-mechanism-list");
  assert_signs (get_certificate (f, "ayse-p384"), f->user_pin, IMZALA_DIGEST_SHA384);
}

/* A vendor module registered with p11-kit (rather than named by path) that
 * refuses the locking arguments is loaded unmanaged too. p11-kit is pointed
 * at a private configuration that registers only the fault module. */
static void
test_registered_unmanaged (Fixture       *f,
                           gconstpointer  data)
{
  const char *module = g_getenv ("IMZALA_FAULT_MODULE");
  g_autoptr(GError) error = NULL;
  g_autofree char *conf = NULL;
  g_autofree char *modules_dir = NULL;
  g_autofree char *module_file = NULL;
  g_autofree char *module_text = NULL;
  g_autofree char *empty_dir = NULL;
  ImzalaModule *loaded;

  f->fixture = imzala_test_fixture_new ();
  f->user_pin = imzala_test_fixture_get (f->fixture, "fixture", "user-pin");
  f->so_pin = imzala_test_fixture_get (f->fixture, "fixture", "so-pin");
  g_setenv ("IMZALA_FAULTS", "init-args-bad", TRUE);
  g_setenv ("IMZALA_FAULT_TARGET", f->fixture->module_path, TRUE);

  conf = g_build_filename (f->fixture->dir, "pkcs11.conf", NULL);
  modules_dir = g_build_filename (f->fixture->dir, "p11-modules", NULL);
  empty_dir = g_build_filename (f->fixture->dir, "p11-empty", NULL);
  module_file = g_build_filename (modules_dir, "akis-like.module", NULL);
  module_text = g_strdup_printf ("module: %s\n", module);
  g_assert_cmpint (g_mkdir (modules_dir, 0700), ==, 0);
  g_assert_cmpint (g_mkdir (empty_dir, 0700), ==, 0);
  g_assert_true (g_file_set_contents (conf, "user-config: none\n", -1, NULL));
  g_assert_true (g_file_set_contents (module_file, module_text, -1, NULL));
  p11_kit_override_system_files (conf, conf, empty_dir, modules_dir, empty_dir);

  f->modules = imzala_module_set_new ();
  /* Named by path as well: still loaded once. */
  imzala_module_set_add_module_path (f->modules, module);
  g_assert_true (imzala_module_set_load (f->modules, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (imzala_module_set_get_load_errors (f->modules)->len, ==, 0);
  g_assert_cmpuint (imzala_module_set_get_modules (f->modules)->len, ==, 1);
  loaded = g_ptr_array_index (imzala_module_set_get_modules (f->modules), 0);
  g_assert_cmpstr (imzala_module_get_name (loaded), ==, "akis-like");
  g_assert_true (imzala_module_is_unmanaged (loaded));

  f->tokens = imzala_module_set_list_tokens (f->modules, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (f->tokens->len, ==, 3);
  assert_signs (get_certificate (f, "ayse-p384"), f->user_pin, IMZALA_DIGEST_SHA384);
}

#define ADD(path, func) \
  g_test_add (path, Fixture, NULL, NULL, func, fixture_teardown)

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  ADD ("/token-faults/unmanaged", test_unmanaged);
  ADD ("/token-faults/unmanaged-threads", test_unmanaged_threads);
  ADD ("/token-faults/registered-unmanaged", test_registered_unmanaged);
  ADD ("/token-faults/rsa-pkcs-only", test_rsa_pkcs_only);
  ADD ("/token-faults/pin-counter", test_pin_counter);
  ADD ("/token-faults/pin-expired", test_pin_expired);
  ADD ("/token-faults/pin-not-initialized", test_pin_not_initialized);
  ADD ("/token-faults/puk-required", test_puk_required);
  ADD ("/token-faults/pin-pad", test_pin_pad);
  ADD ("/token-faults/unblock-without-so-login", test_unblock_without_so_login);
  ADD ("/token-faults/removed", test_removed);
  ADD ("/token-faults/signature-grows", test_signature_grows);
  ADD ("/token-faults/huge-attribute", test_huge_attribute);
  ADD ("/token-faults/attribute-grows", test_attribute_grows);
  ADD ("/token-faults/slot-list-grows", test_slot_list_grows);
  ADD ("/token-faults/huge-mechanism-list", test_huge_mechanism_list);

  return g_test_run ();
}
