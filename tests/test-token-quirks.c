/* test-token-quirks.c: pairing a certificate with its key, size queries and
 * signature forms as real cards and vendor modules answer them, through the
 * fault module tests/imzala-fault-pkcs11.c: a key without the certificate's
 * CKA_ID, objects without any CKA_ID, two keys with one CKA_ID, DER ECDSA
 * from C_Sign, CKR_BUFFER_TOO_SMALL for size queries and slot lists, a
 * length one byte short, an empty slot list for tokenPresent = TRUE and a
 * C_Sign that wants its size asked first. Each ends in a signature checked
 * with the certificate's public key; a signature that does not verify
 * (bad-signature) ends in an error. */
#define G_LOG_DOMAIN "test-token-quirks"

#include "config.h"

#include <string.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "imzala-pkcs11-private.h"
#include "imzala-test.h"

typedef struct
{
  ImzalaTestFixture *fixture;
  ImzalaModuleSet *modules;
  GPtrArray *tokens;
  char *user_pin;
} Fixture;

/* Loads the fault module with @faults and lists its tokens. */
static void
fixture_load (Fixture    *f,
              const char *faults)
{
  const char *module = g_getenv ("IMZALA_FAULT_MODULE");
  g_autoptr(GError) error = NULL;

  g_assert_nonnull (module);

  f->fixture = imzala_test_fixture_new ();
  f->user_pin = imzala_test_fixture_get (f->fixture, "fixture", "user-pin");
  g_setenv ("IMZALA_FAULTS", faults, TRUE);
  g_setenv ("IMZALA_FAULT_TARGET", f->fixture->module_path, TRUE);

  f->modules = imzala_module_set_new ();
  imzala_module_set_set_use_registered (f->modules, FALSE);
  imzala_module_set_add_module_path (f->modules, module);
  g_assert_true (imzala_module_set_load (f->modules, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (imzala_module_set_get_load_errors (f->modules)->len, ==, 0);

  f->tokens = imzala_module_set_list_tokens (f->modules, NULL, &error);
  g_assert_no_error (error);
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
}

static ImzalaCertificate *
get_certificate (Fixture     *f,
                 const char  *name,
                 ImzalaToken **token)
{
  g_autofree char *fingerprint = imzala_test_fixture_cert_get (f->fixture, name, "fingerprint");
  g_autoptr(GError) error = NULL;
  ImzalaCertificate *certificate;

  certificate = imzala_module_set_find_certificate (f->tokens, fingerprint, token, &error);
  g_assert_no_error (error);
  g_object_unref (certificate); /* f->tokens keeps it */
  g_object_unref (*token);
  return certificate;
}

/* Every token and every certificate of the fixture is there (the CA
 * certificate on each token with certificates too). */
static void
assert_all_listed (Fixture *f)
{
  g_auto(GStrv) labels = NULL;
  g_autofree char *list = imzala_test_fixture_get (f->fixture, "fixture", "tokens");

  labels = g_strsplit (list, ";", -1);
  g_assert_cmpuint (f->tokens->len, ==, g_strv_length (labels));
  for (guint i = 0; labels[i] != NULL; i++)
    {
      g_autofree char *group = g_strdup_printf ("token %s", labels[i]);
      g_autofree char *names = imzala_test_fixture_get (f->fixture, group, "certificates");
      g_auto(GStrv) certificates = g_strsplit (names, ";", -1);
      guint expected = *names != '\0' ? g_strv_length (certificates) + 1 : 0;
      gboolean found = FALSE;

      for (guint j = 0; j < f->tokens->len; j++)
        {
          ImzalaToken *token = g_ptr_array_index (f->tokens, j);

          if (g_strcmp0 (imzala_token_get_label (token), labels[i]) != 0)
            continue;
          found = TRUE;
          g_assert_cmpuint (imzala_token_get_certificates (token)->len, ==, expected);
        }
      g_assert_true (found);
    }
}

static void
assert_signs (Fixture    *f,
              const char *name,
              ImzalaDigest digest)
{
  g_autoptr(GBytes) data = g_bytes_new_static ("İmzalanacak Metin 1", strlen ("İmzalanacak Metin 1"));
  g_autoptr(ImzalaSecret) pin = imzala_test_secret (f->user_pin);
  g_autoptr(GBytes) signature = NULL;
  g_autoptr(GError) error = NULL;
  ImzalaToken *token = NULL;
  ImzalaCertificate *certificate = get_certificate (f, name, &token);
  EVP_PKEY *pkey = X509_get0_pubkey (imzala_certificate_get_x509 (certificate));
  EVP_MD_CTX *ctx = EVP_MD_CTX_new ();

  signature = imzala_token_sign (token, certificate, pin, digest, data, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (signature);

  g_assert_cmpint (EVP_DigestVerifyInit (ctx, NULL,
                                         digest == IMZALA_DIGEST_SHA384 ? EVP_sha384 () : EVP_sha256 (),
                                         NULL, pkey), ==, 1);
  g_assert_cmpint (EVP_DigestVerify (ctx,
                                     g_bytes_get_data (signature, NULL), g_bytes_get_size (signature),
                                     g_bytes_get_data (data, NULL), g_bytes_get_size (data)), ==, 1);
  EVP_MD_CTX_free (ctx);
}

static void
assert_pairing (Fixture          *f,
                const char       *name,
                ImzalaKeyPairing  pairing)
{
  ImzalaToken *token = NULL;
  ImzalaCertificate *certificate = get_certificate (f, name, &token);

  g_assert_cmpint (imzala_certificate_get_key_pairing (certificate), ==, pairing);
  g_assert_true (imzala_certificate_has_private_key (certificate) == (pairing != IMZALA_KEY_PAIRING_NONE));
}

static void
assert_every_key_signs (Fixture *f)
{
  assert_signs (f, "ayse-rsa", IMZALA_DIGEST_SHA256);
  assert_signs (f, "ayse-p384", IMZALA_DIGEST_SHA384);
  /* CKA_ALWAYS_AUTHENTICATE: a second login inside the operation. */
  assert_signs (f, "mehmet-p256", IMZALA_DIGEST_SHA256);
}

/* On SoftHSM alone every certificate shares its key's CKA_ID. */
static void
test_plain (Fixture       *f,
            gconstpointer  data)
{
  fixture_load (f, "");
  assert_all_listed (f);
  assert_pairing (f, "ayse-rsa", IMZALA_KEY_PAIRING_BY_ID);
  assert_pairing (f, "mehmet-p256", IMZALA_KEY_PAIRING_BY_ID);
  assert_every_key_signs (f);
}

static void
test_no_shared_id (Fixture       *f,
                   gconstpointer  data)
{
  fixture_load (f, "no-shared-id");
  assert_all_listed (f);
  assert_pairing (f, "ayse-rsa", IMZALA_KEY_PAIRING_BY_PUBLIC_KEY);
  assert_pairing (f, "ayse-p384", IMZALA_KEY_PAIRING_BY_PUBLIC_KEY);
  assert_pairing (f, "mehmet-p256", IMZALA_KEY_PAIRING_BY_PUBLIC_KEY);
  assert_every_key_signs (f);
}

static void
test_ids_by_label (Fixture       *f,
                   gconstpointer  data)
{
  ImzalaToken *token = NULL;
  ImzalaCertificate *ca;
  GPtrArray *certificates;

  fixture_load (f, "ids-by-label");
  assert_all_listed (f);
  assert_pairing (f, "ayse-rsa", IMZALA_KEY_PAIRING_BY_LABEL);
  assert_pairing (f, "ayse-p384", IMZALA_KEY_PAIRING_BY_LABEL);
  assert_pairing (f, "mehmet-p256", IMZALA_KEY_PAIRING_BY_LABEL);

  /* The CA certificate has no key of its label: it is not given one. */
  get_certificate (f, "mehmet-p256", &token);
  certificates = imzala_token_get_certificates (token);
  for (guint i = 0; i < certificates->len; i++)
    {
      ca = g_ptr_array_index (certificates, i);
      if (imzala_certificate_is_ca (ca))
        g_assert_cmpint (imzala_certificate_get_key_pairing (ca), ==, IMZALA_KEY_PAIRING_NONE);
    }

  assert_every_key_signs (f);
}

/* The encryption key shows the signing key's CKA_ID, and a search by it
 * finds the encryption key first: the certificate's public key decides. */
static void
test_two_keys_one_id (Fixture       *f,
                      gconstpointer  data)
{
  fixture_load (f, "two-keys-one-id");
  assert_all_listed (f);
  assert_pairing (f, "ayse-rsa", IMZALA_KEY_PAIRING_BY_ID);
  assert_pairing (f, "ayse-encr", IMZALA_KEY_PAIRING_BY_PUBLIC_KEY);
  assert_signs (f, "ayse-rsa", IMZALA_DIGEST_SHA256);
  assert_signs (f, "ayse-rsa", IMZALA_DIGEST_SHA384);
}

static void
test_der_ecdsa (Fixture       *f,
                gconstpointer  data)
{
  fixture_load (f, "der-ecdsa");
  assert_every_key_signs (f);
  assert_signs (f, "ayse-p384", IMZALA_DIGEST_SHA256);
}

/* The window's case: DER ECDSA and no shared CKA_ID on the P-256 key that
 * wants its PIN again for every signature. */
static void
test_der_ecdsa_no_shared_id (Fixture       *f,
                             gconstpointer  data)
{
  fixture_load (f, "der-ecdsa,no-shared-id");
  assert_pairing (f, "mehmet-p256", IMZALA_KEY_PAIRING_BY_PUBLIC_KEY);
  assert_signs (f, "mehmet-p256", IMZALA_DIGEST_SHA256);
}

static void
test_attr_size_too_small (Fixture       *f,
                          gconstpointer  data)
{
  fixture_load (f, "attr-size-too-small");
  assert_all_listed (f);
  assert_pairing (f, "ayse-rsa", IMZALA_KEY_PAIRING_BY_ID);
  assert_every_key_signs (f);
}

static void
test_attr_short_by_one (Fixture       *f,
                        gconstpointer  data)
{
  fixture_load (f, "attr-short-by-one");
  assert_all_listed (f);
  assert_pairing (f, "ayse-p384", IMZALA_KEY_PAIRING_BY_ID);
  assert_every_key_signs (f);
}

static void
test_slot_list_too_small_once (Fixture       *f,
                               gconstpointer  data)
{
  fixture_load (f, "slot-list-too-small-once");
  assert_all_listed (f);
  assert_signs (f, "ayse-rsa", IMZALA_DIGEST_SHA256);
}

static void
test_present_slot_list_empty (Fixture       *f,
                              gconstpointer  data)
{
  fixture_load (f, "present-slot-list-empty");
  assert_all_listed (f);
  assert_signs (f, "ayse-rsa", IMZALA_DIGEST_SHA256);
}

static void
test_sign_needs_size_query (Fixture       *f,
                            gconstpointer  data)
{
  fixture_load (f, "sign-needs-size-query");
  assert_every_key_signs (f);
}

/* A signature that does not verify with the certificate's key never leaves
 * the token: whatever its form, the card's answer is checked first. */
static void
test_bad_signature (Fixture       *f,
                    gconstpointer  data)
{
  const char *names[] = { "ayse-rsa", "ayse-p384", "mehmet-p256" };

  fixture_load (f, "bad-signature,der-ecdsa");
  for (gsize i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autoptr(GBytes) content = g_bytes_new_static ("x", 1);
      g_autoptr(ImzalaSecret) pin = imzala_test_secret (f->user_pin);
      g_autoptr(GBytes) signature = NULL;
      g_autoptr(GError) error = NULL;
      ImzalaToken *token = NULL;
      ImzalaCertificate *certificate = get_certificate (f, names[i], &token);

      signature = imzala_token_sign (token, certificate, pin, IMZALA_DIGEST_SHA256, content, NULL, &error);
      g_assert_error (error, IMZALA_ERROR, IMZALA_ERROR_MODULE_FAILURE);
      g_assert_null (signature);
      g_assert_nonnull (strstr (error->message, "does not match the certificate"));
    }
}

static X509 *
read_fixture_x509 (ImzalaTestFixture *fixture,
                   const char        *name)
{
  g_autofree char *file = imzala_test_fixture_cert_get (fixture, name, "file");
  g_autofree char *path = g_build_filename (fixture->dir, file, NULL);
  FILE *stream = fopen (path, "r");
  X509 *x509;

  g_assert_nonnull (stream);
  x509 = PEM_read_X509 (stream, NULL, NULL, NULL);
  fclose (stream);
  g_assert_nonnull (x509);
  return x509;
}

static void
add_key (GArray     *keys,
         const char *id,
         const char *label,
         X509       *material_of)
{
  ImzalaPkcs11Key key = { 0 };
  gboolean is_ec;

  key.handle = keys->len + 1;
  key.klass = CKO_PRIVATE_KEY;
  key.key_type = CKK_RSA;
  key.id = id != NULL ? g_bytes_new (id, strlen (id)) : NULL;
  key.label = g_strdup (label);
  key.material = material_of != NULL ? imzala_pkcs11_certificate_key_material (material_of, &is_ec) : NULL;
  g_array_append_val (keys, key);
}

/* The AKİS label conventions order keys that nothing else tells apart, and
 * are never proof: a key whose public value contradicts the certificate is
 * not taken, whatever its label. */
static void
test_pairing_hints (Fixture       *f,
                    gconstpointer  data)
{
  g_autoptr(GArray) keys = imzala_pkcs11_new_key_array ();
  g_autoptr(GArray) contradicting = imzala_pkcs11_new_key_array ();
  g_autoptr(GArray) by_label = imzala_pkcs11_new_key_array ();
  g_autoptr(GBytes) id = g_bytes_new ("a1", 2);
  X509 *signing = NULL;
  X509 *encryption = NULL;
  guint index = G_MAXUINT;

  f->fixture = imzala_test_fixture_new ();
  signing = read_fixture_x509 (f->fixture, "ayse-rsa");       /* nonRepudiation */
  encryption = read_fixture_x509 (f->fixture, "ayse-encr");   /* keyEncipherment */

  /* Two keys with one CKA_ID that show no public value. */
  add_key (keys, "a1", "12345678950ENCR0", NULL);
  add_key (keys, "a1", "12345678950NES0", NULL);
  g_assert_cmpint (imzala_pkcs11_pair_key (keys, NULL, signing, id, NULL, &index), ==, IMZALA_KEY_PAIRING_BY_ID);
  g_assert_cmpuint (index, ==, 1);
  g_assert_cmpint (imzala_pkcs11_pair_key (keys, NULL, encryption, id, NULL, &index), ==, IMZALA_KEY_PAIRING_BY_ID);
  g_assert_cmpuint (index, ==, 0);

  /* The key that shows the certificate's modulus wins over the label. */
  add_key (keys, "a1", "12345678950ENCR0", signing);
  g_assert_cmpint (imzala_pkcs11_pair_key (keys, NULL, signing, id, NULL, &index), ==, IMZALA_KEY_PAIRING_BY_ID);
  g_assert_cmpuint (index, ==, 2);

  /* A NES0 label on a key with another modulus is no pair. */
  add_key (contradicting, NULL, "12345678950NES0", encryption);
  g_assert_cmpint (imzala_pkcs11_pair_key (contradicting, NULL, signing, NULL, "12345678950NES0", &index),
                   ==, IMZALA_KEY_PAIRING_NONE);

  /* Without CKA_ID or public value, the same label pairs. */
  add_key (by_label, NULL, "12345678950SIGN0", NULL);
  add_key (by_label, NULL, "12345678950NES0", NULL);
  g_assert_cmpint (imzala_pkcs11_pair_key (by_label, NULL, signing, NULL, "12345678950NES0", &index),
                   ==, IMZALA_KEY_PAIRING_BY_LABEL);
  g_assert_cmpuint (index, ==, 1);
  g_assert_cmpint (imzala_pkcs11_pair_key (by_label, NULL, signing, NULL, "other", &index),
                   ==, IMZALA_KEY_PAIRING_NONE);

  X509_free (signing);
  X509_free (encryption);
}

/* Every quirk at once, as the worst vendor module would have them. */
static void
test_all_at_once (Fixture       *f,
                  gconstpointer  data)
{
  fixture_load (f, "no-shared-id,der-ecdsa,attr-size-too-small,attr-short-by-one,"
                   "slot-list-too-small-once,present-slot-list-empty,sign-needs-size-query");
  assert_all_listed (f);
  assert_pairing (f, "mehmet-p256", IMZALA_KEY_PAIRING_BY_PUBLIC_KEY);
  assert_every_key_signs (f);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) g_test_add (path, Fixture, NULL, NULL, func, fixture_teardown)
  ADD ("/token-quirks/plain", test_plain);
  ADD ("/token-quirks/no-shared-id", test_no_shared_id);
  ADD ("/token-quirks/ids-by-label", test_ids_by_label);
  ADD ("/token-quirks/two-keys-one-id", test_two_keys_one_id);
  ADD ("/token-quirks/der-ecdsa", test_der_ecdsa);
  ADD ("/token-quirks/der-ecdsa-no-shared-id", test_der_ecdsa_no_shared_id);
  ADD ("/token-quirks/attr-size-too-small", test_attr_size_too_small);
  ADD ("/token-quirks/attr-short-by-one", test_attr_short_by_one);
  ADD ("/token-quirks/slot-list-too-small-once", test_slot_list_too_small_once);
  ADD ("/token-quirks/present-slot-list-empty", test_present_slot_list_empty);
  ADD ("/token-quirks/sign-needs-size-query", test_sign_needs_size_query);
  ADD ("/token-quirks/bad-signature", test_bad_signature);
  ADD ("/token-quirks/pairing-hints", test_pairing_hints);
  ADD ("/token-quirks/all-at-once", test_all_at_once);
#undef ADD

  return g_test_run ();
}
