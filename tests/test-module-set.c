/* test-module-set.c: loading PKCS#11 modules, listing tokens and their
 * certificates, and finding a certificate, against the SoftHSM fixture. */
#define G_LOG_DOMAIN "test-module-set"

#include "config.h"

#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>

#include "imzala-pkcs11-private.h"
#include "imzala-sanitizers.h"
#include "imzala-token-private.h"
#include "imzala-test.h"

static ImzalaToken *
find_token (GPtrArray  *tokens,
            const char *label)
{
  for (guint i = 0; i < tokens->len; i++)
    if (g_strcmp0 (imzala_token_get_label (g_ptr_array_index (tokens, i)), label) == 0)
      return g_ptr_array_index (tokens, i);
  return NULL;
}

static GPtrArray *
load_and_list (ImzalaTestFixture *f)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(ImzalaModuleSet) modules = imzala_test_fixture_load (f, &error);
  GPtrArray *tokens;

  g_assert_no_error (error);
  tokens = imzala_module_set_list_tokens (modules, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (tokens);
  /* The tokens keep their module alive after the set is gone. */
  return tokens;
}

static void
test_load_by_path (void)
{
  g_autoptr(ImzalaTestFixture) f = imzala_test_fixture_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(ImzalaModuleSet) modules = imzala_test_fixture_load (f, &error);
  ImzalaModule *module;

  g_assert_no_error (error);
  g_assert_cmpuint (imzala_module_set_get_modules (modules)->len, ==, 1);
  g_assert_cmpuint (imzala_module_set_get_load_errors (modules)->len, ==, 0);

  module = g_ptr_array_index (imzala_module_set_get_modules (modules), 0);
  g_assert_cmpstr (imzala_module_get_name (module), ==, "libsofthsm2.so");
  g_assert_cmpstr (imzala_module_get_path (module), ==, f->module_path);
  g_assert_cmpstr (imzala_module_get_manufacturer (module), ==, "SoftHSM");
  g_assert_cmpstr (imzala_module_get_description (module), !=, "");
  g_assert_cmpstr (imzala_module_get_version (module), !=, "");
  /* SoftHSM accepts the locking arguments p11-kit passes. */
  g_assert_false (imzala_module_is_unmanaged (module));
}

static void
test_missing_module (void)
{
  g_autoptr(ImzalaTestFixture) f = imzala_test_fixture_new ();
  g_autoptr(ImzalaModuleSet) modules = imzala_module_set_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) tokens = NULL;
  g_autofree char *not_a_module = g_build_filename (f->dir, "fixture.ini", NULL);
  const char *missing = "/nonexistent/libakisp11.so";
  ImzalaModuleLoadError *load_error;
  GPtrArray *load_errors;

  imzala_module_set_set_use_registered (modules, FALSE);
  imzala_module_set_add_module_path (modules, missing);
  imzala_module_set_add_module_path (modules, f->module_path);
  imzala_module_set_add_module_path (modules, not_a_module);
  g_assert_true (imzala_module_set_load (modules, NULL, &error));
  g_assert_no_error (error);

  g_assert_cmpuint (imzala_module_set_get_modules (modules)->len, ==, 1);
  load_errors = imzala_module_set_get_load_errors (modules);
  g_assert_cmpuint (load_errors->len, ==, 2);

  load_error = g_ptr_array_index (load_errors, 0);
  g_assert_cmpstr (load_error->path, ==, missing);
  g_assert_cmpstr (load_error->name, ==, "libakisp11.so");
  g_assert_error (load_error->error, IMZALA_ERROR, IMZALA_ERROR_MODULE_LOAD);
  g_assert_nonnull (strstr (load_error->error->message, missing));

  load_error = g_ptr_array_index (load_errors, 1);
  g_assert_cmpstr (load_error->path, ==, not_a_module);
  g_assert_error (load_error->error, IMZALA_ERROR, IMZALA_ERROR_MODULE_LOAD);
  g_assert_nonnull (strstr (load_error->error->message, not_a_module));

  /* The module that loaded still works. */
  tokens = imzala_module_set_list_tokens (modules, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (tokens->len, ==, 3);
}

/* A module missing a function of its own fails to load, with a message,
 * whether it binds its symbols when loaded (-z now) or not: modules that
 * do not are opened RTLD_NOW (module_dlopen_flags()). Were one opened
 * RTLD_LAZY, this test would stop at the module's first call. */
static void
test_missing_function (void)
{
  g_auto(GStrv) paths = g_strsplit (g_getenv ("IMZALA_MISSING_FUNCTION_MODULES"), ":", -1);

  g_assert_cmpuint (g_strv_length (paths), ==, 2);
  for (guint i = 0; paths[i] != NULL; i++)
    {
      g_autoptr(ImzalaModuleSet) modules = imzala_module_set_new ();
      g_autoptr(GError) error = NULL;
      ImzalaModuleLoadError *load_error;

      g_test_message ("%s", paths[i]);
      g_assert_true (g_file_test (paths[i], G_FILE_TEST_IS_REGULAR));
      imzala_module_set_set_use_registered (modules, FALSE);
      imzala_module_set_add_module_path (modules, paths[i]);
      g_assert_false (imzala_module_set_load (modules, NULL, &error));
      g_assert_error (error, IMZALA_ERROR, IMZALA_ERROR_NO_MODULE);
      g_assert_cmpuint (imzala_module_set_get_load_errors (modules)->len, ==, 1);
      load_error = g_ptr_array_index (imzala_module_set_get_load_errors (modules), 0);
      g_assert_error (load_error->error, IMZALA_ERROR, IMZALA_ERROR_MODULE_LOAD);
      g_assert_nonnull (strstr (load_error->error->message, paths[i]));
    }
}

static void
test_no_module_at_all (void)
{
  g_autoptr(ImzalaModuleSet) modules = imzala_module_set_new ();
  g_autoptr(GError) error = NULL;

  imzala_module_set_set_use_registered (modules, FALSE);
  imzala_module_set_add_module_path (modules, "/nonexistent/libakisp11.so");
  g_assert_false (imzala_module_set_load (modules, NULL, &error));
  g_assert_error (error, IMZALA_ERROR, IMZALA_ERROR_NO_MODULE);
  g_assert_nonnull (strstr (error->message, "/nonexistent/libakisp11.so"));
  g_assert_cmpuint (imzala_module_set_get_load_errors (modules)->len, ==, 1);
}

static void
test_same_module_twice (void)
{
  g_autoptr(ImzalaTestFixture) f = imzala_test_fixture_new ();
  g_autoptr(ImzalaModuleSet) modules = imzala_module_set_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) tokens = NULL;
  g_autofree char *link = g_build_filename (f->dir, "softhsm-link.so", NULL);

  g_assert_cmpint (symlink (f->module_path, link), ==, 0);

  imzala_module_set_set_use_registered (modules, FALSE);
  imzala_module_set_add_module_path (modules, f->module_path);
  imzala_module_set_add_module_path (modules, f->module_path);
  imzala_module_set_add_module_path (modules, link);
  g_assert_true (imzala_module_set_load (modules, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (imzala_module_set_get_modules (modules)->len, ==, 1);
  g_assert_cmpuint (imzala_module_set_get_load_errors (modules)->len, ==, 0);

  /* Each token appears once. */
  tokens = imzala_module_set_list_tokens (modules, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (tokens->len, ==, 3);
}

/* The fault module's own library defines this too (tests/
 * imzala-vendor-library.c); the program exports its own (tests/meson.build),
 * as the libraries of an application do. */
const char *imzala_vendor_library_name (void);

const char *
imzala_vendor_library_name (void)
{
  return "the program's";
}

/* A module's symbols are bound to its own libraries first (RTLD_DEEPBIND),
 * whether p11-kit loads it or it is loaded unmanaged: a vendor module's
 * OpenSSL is not replaced by the program's. */
static void
test_own_libraries_first (void)
{
  const char *const faults[] = { "vendor-library", "vendor-library,init-args-bad" };

#ifdef IMZALA_SANITIZER_RUNTIME
  g_test_skip ("The sanitizers' runtimes refuse RTLD_DEEPBIND; this build binds the ordinary way");
  return;
#endif
  /* Bound the ordinary way, the program's definition comes first. */
  g_assert_cmpstr (imzala_vendor_library_name (), ==, "the program's");

  for (gsize i = 0; i < G_N_ELEMENTS (faults); i++)
    {
      g_autoptr(ImzalaTestFixture) f = imzala_test_fixture_new ();
      g_autoptr(GError) error = NULL;
      g_autoptr(ImzalaModuleSet) modules = imzala_test_fault_load (f, faults[i], NULL, &error);
      ImzalaModule *module;

      g_assert_no_error (error);
      g_assert_cmpuint (imzala_module_set_get_modules (modules)->len, ==, 1);
      module = g_ptr_array_index (imzala_module_set_get_modules (modules), 0);
      g_assert_cmpint (imzala_module_is_unmanaged (module), ==, i == 1);
      g_assert_cmpstr (imzala_module_get_description (module), ==, "vendor library");
    }
}

/* With the p11-kit registered modules on, as İmzala runs by default: the
 * trust module is left out, and SoftHSM, registered and also named by path
 * (through another name: a symlink), is loaded once. */
static void
test_registered (void)
{
  g_autoptr(ImzalaTestFixture) f = imzala_test_fixture_new ();
  g_autoptr(ImzalaModuleSet) modules = imzala_module_set_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) tokens = NULL;
  g_autofree char *real_softhsm = realpath (f->module_path, NULL);
  GPtrArray *loaded;
  guint n_softhsm = 0;
  guint n_token_1 = 0;

  if (!g_file_test ("/usr/share/p11-kit/modules/softhsm2.module", G_FILE_TEST_EXISTS))
    {
      g_test_skip ("SoftHSM is not registered with p11-kit here");
      return;
    }

  imzala_module_set_add_module_path (modules, f->module_path);
  g_assert_true (imzala_module_set_load (modules, NULL, &error));
  g_assert_no_error (error);

  loaded = imzala_module_set_get_modules (modules);
  for (guint i = 0; i < loaded->len; i++)
    {
      ImzalaModule *module = g_ptr_array_index (loaded, i);
      g_autofree char *real = realpath (imzala_module_get_path (module), NULL);

      g_test_message ("%s: %s", imzala_module_get_name (module), imzala_module_get_path (module));
      g_assert_cmpstr (imzala_module_get_name (module), !=, "p11-kit-trust");
      if (g_strcmp0 (real, real_softhsm) == 0)
        n_softhsm++;
    }
  g_assert_cmpuint (n_softhsm, ==, 1);

  tokens = imzala_module_set_list_tokens (modules, NULL, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < tokens->len; i++)
    if (g_strcmp0 (imzala_token_get_label (g_ptr_array_index (tokens, i)), "IMZALA TEST 1") == 0)
      n_token_1++;
  g_assert_cmpuint (n_token_1, ==, 1);
}

static GBytes *
bytes_from_hex (const char *hex)
{
  gsize length = strlen (hex) / 2;
  guint8 *data = g_malloc (length);

  for (gsize i = 0; i < length; i++)
    data[i] = (g_ascii_xdigit_value (hex[2 * i]) << 4) | g_ascii_xdigit_value (hex[2 * i + 1]);
  return g_bytes_new_take (data, length);
}

static ImzalaCertificate *
find_by_label (ImzalaToken *token,
               const char  *label)
{
  GPtrArray *certificates = imzala_token_get_certificates (token);

  for (guint i = 0; i < certificates->len; i++)
    if (g_strcmp0 (imzala_certificate_get_label (g_ptr_array_index (certificates, i)), label) == 0)
      return g_ptr_array_index (certificates, i);
  return NULL;
}

static void
test_list_tokens (void)
{
  g_autoptr(ImzalaTestFixture) f = imzala_test_fixture_new ();
  g_autoptr(GPtrArray) tokens = load_and_list (f);
  g_autofree char *token_labels = imzala_test_fixture_get (f, "fixture", "tokens");
  g_auto(GStrv) labels = g_strsplit (token_labels, ";", -1);

  /* SoftHSM's blank slot for a new token is not listed. */
  g_assert_cmpuint (tokens->len, ==, g_strv_length (labels));

  for (guint i = 0; labels[i] != NULL; i++)
    {
      g_autofree char *group = g_strdup_printf ("token %s", labels[i]);
      g_autofree char *serial = imzala_test_fixture_get (f, group, "serial");
      g_autofree char *names = imzala_test_fixture_get (f, group, "certificates");
      g_auto(GStrv) certificate_names = g_strsplit (names, ";", -1);
      ImzalaToken *token = find_token (tokens, labels[i]);
      g_autofree char *uri = NULL;
      GPtrArray *certificates;
      guint n_end_entity = 0;

      g_assert_nonnull (token);
      g_assert_cmpstr (imzala_token_get_serial (token), ==, serial);
      g_assert_cmpstr (imzala_token_get_manufacturer (token), ==, "SoftHSM project");
      g_assert_cmpstr (imzala_token_get_model (token), ==, "SoftHSM v2");
      g_assert_nonnull (imzala_token_get_slot_description (token));
      g_assert_cmpint (imzala_token_get_pin_state (token), ==, IMZALA_PIN_STATE_OK);
      g_assert_false (imzala_token_has_pin_pad (token));
      g_assert_cmpuint (imzala_token_get_min_pin_length (token), ==, 4);
      g_assert_cmpuint (imzala_token_get_max_pin_length (token), ==, 255);
      g_assert_true (imzala_token_get_module (token) != NULL);

      uri = imzala_token_get_uri (token);
      g_assert_true (g_str_has_prefix (uri, "pkcs11:"));
      g_assert_nonnull (strstr (uri, "serial=" ));

      certificates = imzala_token_get_certificates (token);
      for (guint j = 0; j < certificates->len; j++)
        {
          ImzalaCertificate *certificate = g_ptr_array_index (certificates, j);

          g_assert_true (imzala_token_has_certificate (token, certificate));
          g_assert_true (imzala_module_set_find_token (tokens, certificate) == token);
          if (imzala_certificate_is_ca (certificate))
            g_assert_false (imzala_certificate_has_private_key (certificate));
          else
            n_end_entity++;
        }
      g_assert_cmpuint (n_end_entity, ==, g_strv_length (certificate_names));

      for (guint j = 0; certificate_names[j] != NULL && *certificate_names[j] != '\0'; j++)
        {
          const char *name = certificate_names[j];
          g_autofree char *label = imzala_test_fixture_cert_get (f, name, "label");
          g_autofree char *id_hex = imzala_test_fixture_cert_get (f, name, "id");
          g_autofree char *holder = imzala_test_fixture_cert_get (f, name, "holder");
          g_autofree char *tckn = imzala_test_fixture_cert_get (f, name, "tckn");
          g_autofree char *fingerprint = imzala_test_fixture_cert_get (f, name, "fingerprint");
          g_autofree char *recommended = imzala_test_fixture_cert_get (f, name, "recommended");
          g_autoptr(GBytes) id = bytes_from_hex (id_hex);
          ImzalaCertificate *certificate = find_by_label (token, label);

          g_test_message ("certificate %s on %s", name, labels[i]);
          g_assert_nonnull (certificate);
          g_assert_true (g_bytes_equal (imzala_certificate_get_id (certificate), id));
          g_assert_cmpstr (imzala_certificate_get_holder_name (certificate), ==, holder);
          g_assert_cmpstr (imzala_certificate_get_tckn (certificate), ==, tckn);
          g_assert_cmpstr (imzala_certificate_get_fingerprint (certificate), ==, fingerprint);
          g_assert_true (imzala_certificate_has_private_key (certificate));
          g_assert_cmpint (imzala_certificate_is_recommended (certificate), ==,
                           g_strcmp0 (recommended, "true") == 0);
        }
    }
}

static void
test_empty_token (void)
{
  g_autoptr(ImzalaTestFixture) f = imzala_test_fixture_new ();
  g_autoptr(GPtrArray) tokens = load_and_list (f);
  ImzalaToken *token = find_token (tokens, "IMZALA TEST BOS");

  g_assert_nonnull (token);
  g_assert_cmpuint (imzala_token_get_certificates (token)->len, ==, 0);
}

static void
list_tokens_cb (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  GPtrArray **out = user_data;
  g_autoptr(GError) error = NULL;

  *out = imzala_module_set_list_tokens_finish (IMZALA_MODULE_SET (source), result, &error);
  g_assert_no_error (error);
}

static void
load_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  gboolean *done = user_data;
  g_autoptr(GError) error = NULL;

  g_assert_true (imzala_module_set_load_finish (IMZALA_MODULE_SET (source), result, &error));
  g_assert_no_error (error);
  *done = TRUE;
}

static void
test_async (void)
{
  g_autoptr(ImzalaTestFixture) f = imzala_test_fixture_new ();
  g_autoptr(ImzalaModuleSet) modules = imzala_module_set_new ();
  g_autoptr(GPtrArray) tokens = NULL;
  gboolean loaded = FALSE;

  imzala_module_set_set_use_registered (modules, FALSE);
  imzala_module_set_add_module_path (modules, f->module_path);
  imzala_module_set_load_async (modules, NULL, load_cb, &loaded);
  while (!loaded)
    g_main_context_iteration (NULL, TRUE);

  imzala_module_set_list_tokens_async (modules, NULL, list_tokens_cb, &tokens);
  while (tokens == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpuint (tokens->len, ==, 3);
}

static void
test_find_by_fingerprint (void)
{
  g_autoptr(ImzalaTestFixture) f = imzala_test_fixture_new ();
  g_autoptr(GPtrArray) tokens = load_and_list (f);
  const char *names[] = { "ayse-rsa", "ayse-p384", "ayse-encr", "ayse-expired", "mehmet-p256" };

  for (gsize i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autofree char *fingerprint = imzala_test_fixture_cert_get (f, names[i], "fingerprint");
      g_autofree char *label = imzala_test_fixture_cert_get (f, names[i], "label");
      g_autoptr(GString) colons = g_string_new (NULL);
      g_autoptr(ImzalaCertificate) found = NULL;
      g_autoptr(ImzalaCertificate) found_colons = NULL;
      g_autoptr(GError) error = NULL;

      found = imzala_module_set_find_certificate (tokens, fingerprint, NULL, &error);
      g_assert_no_error (error);
      g_assert_cmpstr (imzala_certificate_get_label (found), ==, label);

      /* As openssl x509 -fingerprint prints it: upper case with colons. */
      for (const char *p = fingerprint; *p != '\0'; p += 2)
        g_string_append_printf (colons, "%s%c%c", colons->len > 0 ? ":" : "",
                                g_ascii_toupper (p[0]), g_ascii_toupper (p[1]));
      found_colons = imzala_module_set_find_certificate (tokens, colons->str, NULL, &error);
      g_assert_no_error (error);
      g_assert_true (found_colons == found);
    }

  {
    g_autoptr(GError) error = NULL;
    g_autoptr(ImzalaCertificate) none = NULL;

    none = imzala_module_set_find_certificate (tokens, "00000000000000000000000000000000"
                                               "00000000000000000000000000000000", NULL, &error);
    g_assert_null (none);
    g_assert_error (error, IMZALA_ERROR, IMZALA_ERROR_NO_CERTIFICATE);
    g_clear_error (&error);

    none = imzala_module_set_find_certificate (tokens, "not a selector", NULL, &error);
    g_assert_null (none);
    g_assert_error (error, IMZALA_ERROR, IMZALA_ERROR_NO_CERTIFICATE);
  }
}

static void
test_find_by_uri (void)
{
  g_autoptr(ImzalaTestFixture) f = imzala_test_fixture_new ();
  g_autoptr(GPtrArray) tokens = load_and_list (f);
  struct
  {
    const char *uri;
    const char *label; /* NULL: ambiguous */
  } cases[] = {
    { "pkcs11:token=IMZALA%20TEST%201;id=%a2;type=cert", "AYSE YILMAZ SIGN1" },
    { "pkcs11:token=IMZALA%20TEST%201;id=%A1", "AYSE YILMAZ SIGN0" },
    /* The key pair's URI names the same certificate. */
    { "pkcs11:token=IMZALA%20TEST%201;id=%a3;type=private", "AYSE YILMAZ ENCR0" },
    { "pkcs11:object=AYSE%20YILMAZ%20OLD", "AYSE YILMAZ OLD" },
    { "pkcs11:model=SoftHSM%20v2;manufacturer=SoftHSM%20project;object=MEHMET%20DEMIR%20SIGN0",
      "MEHMET DEMIR SIGN0" },
    /* A token with one recommended certificate names it. */
    { "pkcs11:token=IMZALA%20TEST%202", "MEHMET DEMIR SIGN0" },
    { "pkcs11:token=IMZALA%20TEST%201", NULL },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(ImzalaCertificate) found = NULL;

      g_test_message ("%s", cases[i].uri);
      found = imzala_module_set_find_certificate (tokens, cases[i].uri, NULL, &error);
      if (cases[i].label != NULL)
        {
          g_assert_no_error (error);
          g_assert_cmpstr (imzala_certificate_get_label (found), ==, cases[i].label);
        }
      else
        {
          g_assert_null (found);
          g_assert_error (error, IMZALA_ERROR, IMZALA_ERROR_AMBIGUOUS_CERTIFICATE);
        }
    }

  /* The URIs İmzala prints lead back to the same certificate. */
  for (guint i = 0; i < tokens->len; i++)
    {
      ImzalaToken *token = g_ptr_array_index (tokens, i);
      GPtrArray *certificates = imzala_token_get_certificates (token);
      g_autofree char *token_uri = imzala_token_get_uri (token);

      for (guint j = 0; j < certificates->len; j++)
        {
          ImzalaCertificate *certificate = g_ptr_array_index (certificates, j);
          g_autoptr(GError) error = NULL;
          g_autoptr(ImzalaCertificate) found = NULL;
          g_autofree char *uri = NULL;

          uri = imzala_token_format_object_uri (token, CKO_CERTIFICATE,
                                                imzala_certificate_get_id (certificate),
                                                imzala_certificate_get_label (certificate));
          g_test_message ("%s", uri);
          found = imzala_module_set_find_certificate (tokens, uri, NULL, &error);
          g_assert_no_error (error);
          g_assert_true (found == certificate);
        }
    }

  {
    g_autoptr(GError) error = NULL;
    g_autoptr(ImzalaCertificate) none = NULL;

    none = imzala_module_set_find_certificate (tokens, "pkcs11:token=NO%20SUCH%20CARD", NULL, &error);
    g_assert_null (none);
    g_assert_error (error, IMZALA_ERROR, IMZALA_ERROR_NO_CERTIFICATE);
    g_clear_error (&error);

    none = imzala_module_set_find_certificate (tokens, "pkcs11:id=%zz", NULL, &error);
    g_assert_null (none);
    g_assert_error (error, IMZALA_ERROR, IMZALA_ERROR_NO_CERTIFICATE);
  }
}

static void
test_find_recommended (void)
{
  g_autoptr(ImzalaTestFixture) f = imzala_test_fixture_new ();
  g_autoptr(GPtrArray) tokens = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(ImzalaCertificate) found = NULL;

  imzala_test_fixture_remove_token (f, "IMZALA TEST 1");
  imzala_test_fixture_remove_token (f, "IMZALA TEST BOS");
  tokens = load_and_list (f);
  g_assert_cmpuint (tokens->len, ==, 1);

  found = imzala_module_set_find_certificate (tokens, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (imzala_certificate_get_label (found), ==, "MEHMET DEMIR SIGN0");
}

static void
test_find_ambiguous (void)
{
  g_autoptr(ImzalaTestFixture) f = imzala_test_fixture_new ();
  g_autoptr(GPtrArray) tokens = load_and_list (f);
  g_autoptr(GError) error = NULL;
  g_autoptr(ImzalaCertificate) found = NULL;

  found = imzala_module_set_find_certificate (tokens, NULL, NULL, &error);
  g_assert_null (found);
  g_assert_error (error, IMZALA_ERROR, IMZALA_ERROR_AMBIGUOUS_CERTIFICATE);
  g_test_message ("%s", error->message);
  /* The message names the candidates, and only them. */
  g_assert_nonnull (strstr (error->message, "AYSE YILMAZ SIGN0"));
  g_assert_nonnull (strstr (error->message, "AYSE YILMAZ SIGN1"));
  g_assert_nonnull (strstr (error->message, "MEHMET DEMIR SIGN0"));
  g_assert_null (strstr (error->message, "ENCR0"));
}

static void
test_find_none (void)
{
  g_autoptr(ImzalaTestFixture) f = imzala_test_fixture_new ();
  g_autoptr(GPtrArray) tokens = load_and_list (f);
  g_autoptr(GPtrArray) only_empty = g_ptr_array_new ();
  g_autoptr(GPtrArray) no_tokens = g_ptr_array_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(ImzalaCertificate) found = NULL;

  g_ptr_array_add (only_empty, find_token (tokens, "IMZALA TEST BOS"));
  found = imzala_module_set_find_certificate (only_empty, NULL, NULL, &error);
  g_assert_null (found);
  g_assert_error (error, IMZALA_ERROR, IMZALA_ERROR_NO_CERTIFICATE);
  g_clear_error (&error);

  found = imzala_module_set_find_certificate (no_tokens, NULL, NULL, &error);
  g_assert_null (found);
  g_assert_error (error, IMZALA_ERROR, IMZALA_ERROR_NO_TOKEN);
}

static void
test_find_none_recommended (void)
{
  g_autoptr(ImzalaTestFixture) f = imzala_test_fixture_new ();
  g_autoptr(GPtrArray) tokens = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(ImzalaCertificate) found = NULL;
  g_autoptr(GPtrArray) subset = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(ImzalaToken) token = NULL;

  tokens = load_and_list (f);
  token = g_object_ref (find_token (tokens, "IMZALA TEST 1"));

  /* Token 1 without its two recommended certificates: the message says why
   * each of the others cannot be used. */
  g_ptr_array_remove (imzala_token_get_certificates (token), find_by_label (token, "AYSE YILMAZ SIGN0"));
  g_ptr_array_remove (imzala_token_get_certificates (token), find_by_label (token, "AYSE YILMAZ SIGN1"));
  g_ptr_array_add (subset, g_object_ref (token));

  found = imzala_module_set_find_certificate (subset, NULL, NULL, &error);
  g_assert_null (found);
  g_assert_error (error, IMZALA_ERROR, IMZALA_ERROR_NO_CERTIFICATE);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "AYSE YILMAZ ENCR0"));
  g_assert_nonnull (strstr (error->message, "AYSE YILMAZ NOQC"));
  g_assert_nonnull (strstr (error->message, "AYSE YILMAZ OLD"));
}

static guint
count_certificates (GPtrArray *tokens,
                    gboolean   ca)
{
  guint n = 0;

  for (guint i = 0; i < tokens->len; i++)
    {
      GPtrArray *certificates = imzala_token_get_certificates (g_ptr_array_index (tokens, i));

      for (guint j = 0; j < certificates->len; j++)
        if (imzala_certificate_is_ca (g_ptr_array_index (certificates, j)) == ca)
          n++;
    }
  return n;
}

/* A card whose certificates a listing skipped does not ask for a login to
 * show them: each token needs one as much as in the full listing. */
static void
same_login_needs (GPtrArray *all,
                  GPtrArray *tokens)
{
  g_assert_cmpuint (tokens->len, ==, all->len);
  for (guint t = 0; t < tokens->len; t++)
    {
      ImzalaToken *token = g_ptr_array_index (tokens, t);
      ImzalaToken *full = find_token (all, imzala_token_get_label (token));

      g_assert_nonnull (full);
      g_assert_true (imzala_token_needs_login_to_list (token)
                     == imzala_token_needs_login_to_list (full));
    }
}

/* imzala_module_set_only_certificate() (issue 12): a listing for one
 * fingerprint holds that end-entity certificate alone (and the CA
 * certificates), no card with skipped
 * certificates asks for a login to show them, and the partial listing is
 * not cached: the next full listing of the same modules has them all. */
static void
test_only_certificate (void)
{
  g_autoptr(ImzalaTestFixture) f = imzala_test_fixture_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(ImzalaModuleSet) modules = imzala_test_fixture_load (f, &error);
  g_autoptr(GPtrArray) all = NULL;
  const char *names[] = { "ayse-rsa", "ayse-p384", "ayse-encr", "ayse-expired", "mehmet-p256" };
  guint n_all;

  g_assert_no_error (error);
  all = imzala_module_set_list_tokens (modules, NULL, &error);
  g_assert_no_error (error);
  n_all = count_certificates (all, FALSE);
  g_assert_cmpuint (n_all, >=, G_N_ELEMENTS (names));

  /* The DER walk that lets a listing skip a certificate unparsed agrees
   * with OpenSSL on every certificate of the fixture. */
  for (guint i = 0; i < all->len; i++)
    {
      GPtrArray *certificates = imzala_token_get_certificates (g_ptr_array_index (all, i));

      for (guint j = 0; j < certificates->len; j++)
        {
          ImzalaCertificate *certificate = g_ptr_array_index (certificates, j);

          g_assert_true (imzala_certificate_der_is_end_entity (imzala_certificate_get_der (certificate))
                         == !imzala_certificate_is_ca (certificate));
        }
    }

  for (gsize i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autofree char *fingerprint = imzala_test_fixture_cert_get (f, names[i], "fingerprint");
      /* A prefix, upper case, as a user may type it. */
      g_autofree char *prefix = g_ascii_strup (fingerprint, 12);
      g_autoptr(GPtrArray) tokens = NULL;
      g_autoptr(GPtrArray) again = NULL;
      g_autoptr(ImzalaCertificate) found = NULL;
      g_autoptr(ImzalaToken) token = NULL;

      g_autoptr(ImzalaModuleSet) fresh = imzala_test_fixture_load (f, &error);

      /* A set of its own: a listing reuses the certificates a full listing
       * cached before (all of them parsed already). */
      g_assert_no_error (error);
      imzala_module_set_only_certificate (fresh, prefix);
      tokens = imzala_module_set_list_tokens (fresh, NULL, &error);
      g_assert_no_error (error);
      /* The one end-entity certificate, parsed, and the CA certificates of
       * its card, which a signature carries, kept as DER without being
       * parsed; nothing of the other cards. */
      g_assert_cmpuint (count_certificates (tokens, FALSE), ==, 1);
      g_assert_cmpuint (count_certificates (tokens, TRUE), ==, 0);
      same_login_needs (all, tokens);
      found = imzala_module_set_find_certificate (tokens, prefix, &token, &error);
      g_assert_no_error (error);
      g_assert_cmpstr (imzala_certificate_get_fingerprint (found), ==, fingerprint);
      g_assert_true (imzala_token_has_certificate (token, found));
      /* Paired with one search by CKA_ID, as the full listing paired it by
       * reading every key. */
      {
        g_autoptr(ImzalaCertificate) full = imzala_module_set_find_certificate (all, prefix, NULL, &error);

        g_assert_no_error (error);
        g_assert_cmpint (imzala_certificate_get_key_pairing (found), ==,
                         imzala_certificate_get_key_pairing (full));
        g_assert_true (imzala_certificate_has_private_key (found) == imzala_certificate_has_private_key (full));
        g_assert_true (g_bytes_equal (imzala_certificate_get_id (found), imzala_certificate_get_id (full)));
      }
      {
        g_autoptr(GPtrArray) one = g_ptr_array_new ();

        g_ptr_array_add (one, find_token (all, imzala_token_get_label (token)));
        g_assert_cmpuint (token->carried_certificates->len, ==, count_certificates (one, TRUE));
        g_assert_cmpuint (count_certificates (one, TRUE), >, 0);
        for (guint k = 0; k < token->carried_certificates->len; k++)
          g_assert_false (imzala_certificate_der_is_end_entity (g_ptr_array_index (token->carried_certificates, k)));
      }

      /* The partial listing was not cached: the next one has them all. */
      imzala_module_set_only_certificate (fresh, NULL);
      again = imzala_module_set_list_tokens (fresh, NULL, &error);
      g_assert_no_error (error);
      g_assert_cmpuint (count_certificates (again, FALSE), ==, n_all);
    }

  /* A fingerprint of nothing lists nothing, and asks for no login. */
  {
    g_autoptr(GPtrArray) tokens = NULL;
    g_autoptr(ImzalaCertificate) none = NULL;

    g_autoptr(ImzalaModuleSet) fresh = imzala_test_fixture_load (f, &error);

    g_assert_no_error (error);
    imzala_module_set_only_certificate (fresh, "0000000000000000");
    tokens = imzala_module_set_list_tokens (fresh, NULL, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (tokens->len, >, 0);
    g_assert_cmpuint (count_certificates (tokens, FALSE), ==, 0);
    g_assert_cmpuint (count_certificates (tokens, TRUE), ==, 0);
    same_login_needs (all, tokens);
    none = imzala_module_set_find_certificate (tokens, "0000000000000000", NULL, &error);
    g_assert_null (none);
    g_assert_error (error, IMZALA_ERROR, IMZALA_ERROR_NO_CERTIFICATE);
    g_clear_error (&error);
  }

  /* A PKCS#11 URI that names neither a card nor an object (a type alone),
   * one that does not parse, or what is no fingerprint, restricts nothing. */
  {
    const char *selectors[] = { "pkcs11:type=cert", "pkcs11:id=%zz", "not a selector", "abc" };

    for (gsize i = 0; i < G_N_ELEMENTS (selectors); i++)
      {
        g_autoptr(GPtrArray) tokens = NULL;

        g_autoptr(ImzalaModuleSet) fresh = imzala_test_fixture_load (f, &error);

        g_assert_no_error (error);
        imzala_module_set_only_certificate (fresh, selectors[i]);
        tokens = imzala_module_set_list_tokens (fresh, NULL, &error);
        g_assert_no_error (error);
        g_assert_cmpuint (count_certificates (tokens, FALSE), ==, n_all);
      }
  }

  /* A URI that names a card: that card lists all its certificates, the
   * others none, unread, and they ask for no login. */
  {
    const char *uri = "pkcs11:token=IMZALA%20TEST%202";
    g_autofree char *fingerprint = imzala_test_fixture_cert_get (f, "mehmet-p256", "fingerprint");
    g_autoptr(ImzalaModuleSet) fresh = imzala_test_fixture_load (f, &error);
    g_autoptr(GPtrArray) tokens = NULL;
    g_autoptr(ImzalaCertificate) found = NULL;

    g_assert_no_error (error);
    imzala_module_set_only_certificate (fresh, uri);
    tokens = imzala_module_set_list_tokens (fresh, NULL, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (tokens->len, ==, all->len);
    for (guint i = 0; i < tokens->len; i++)
      {
        ImzalaToken *token = g_ptr_array_index (tokens, i);
        ImzalaToken *full = find_token (all, imzala_token_get_label (token));
        guint listed = imzala_token_get_certificates (token)->len;

        if (g_str_equal (imzala_token_get_label (token), "IMZALA TEST 2"))
          g_assert_cmpuint (listed, ==, imzala_token_get_certificates (full)->len);
        else
          g_assert_cmpuint (listed, ==, 0);
        g_assert_false (imzala_token_needs_login_to_list (token));
      }
    found = imzala_module_set_find_certificate (tokens, uri, NULL, &error);
    g_assert_no_error (error);
    g_assert_cmpstr (imzala_certificate_get_fingerprint (found), ==, fingerprint);
  }

  /* A URI that names an object (its id, its label), on a named card or on
   * any: as a fingerprint, that certificate alone is parsed, its card's CA
   * certificates are carried as DER, and it is paired as in a full
   * listing. One that names nothing lists nothing and asks for no login. */
  {
    g_autofree char *fingerprint = imzala_test_fixture_cert_get (f, "ayse-rsa", "fingerprint");
    g_autofree char *label = imzala_test_fixture_cert_get (f, "ayse-rsa", "label");
    g_autofree char *escaped = g_uri_escape_string (label, NULL, FALSE);
    g_autofree char *by_label = g_strdup_printf ("pkcs11:object=%s;type=cert", escaped);
    const char *uris[] = { "pkcs11:token=IMZALA%20TEST%201;id=%a1;type=cert", "pkcs11:id=%a1;type=private",
                           by_label, "pkcs11:id=%ff%ff" };
    g_autoptr(ImzalaCertificate) full = imzala_module_set_find_certificate (all, fingerprint, NULL, &error);

    g_assert_no_error (error);
    for (gsize i = 0; i < G_N_ELEMENTS (uris); i++)
      {
        g_autoptr(ImzalaModuleSet) fresh = imzala_test_fixture_load (f, &error);
        g_autoptr(GPtrArray) tokens = NULL;
        g_autoptr(ImzalaCertificate) found = NULL;
        g_autoptr(ImzalaToken) token = NULL;
        gboolean names_nothing = i == G_N_ELEMENTS (uris) - 1;

        g_assert_no_error (error);
        imzala_module_set_only_certificate (fresh, uris[i]);
        tokens = imzala_module_set_list_tokens (fresh, NULL, &error);
        g_assert_no_error (error);
        g_assert_cmpuint (count_certificates (tokens, FALSE), ==, names_nothing ? 0 : 1);
        g_assert_cmpuint (count_certificates (tokens, TRUE), ==, 0);
        /* The cards the first URI does not name ask for no login (the empty
         * one would in a full listing); the others as in a full listing. */
        if (i == 0)
          for (guint t = 0; t < tokens->len; t++)
            {
              ImzalaToken *listed = g_ptr_array_index (tokens, t);

              if (!g_str_equal (imzala_token_get_label (listed), "IMZALA TEST 1"))
                g_assert_false (imzala_token_needs_login_to_list (listed));
            }
        else
          same_login_needs (all, tokens);
        found = imzala_module_set_find_certificate (tokens, uris[i], &token, &error);
        if (names_nothing)
          {
            g_assert_null (found);
            g_assert_error (error, IMZALA_ERROR, IMZALA_ERROR_NO_CERTIFICATE);
            g_clear_error (&error);
            continue;
          }
        g_assert_no_error (error);
        g_assert_cmpstr (imzala_certificate_get_fingerprint (found), ==, fingerprint);
        g_assert_cmpint (imzala_certificate_get_key_pairing (found), ==,
                         imzala_certificate_get_key_pairing (full));
        g_assert_true (imzala_certificate_has_private_key (found));
        g_assert_cmpuint (token->carried_certificates->len, >, 0);
      }
  }
}

/* With the whole fingerprint the listing ends at the card that holds the
 * certificate (issue 12): the cards before it are listed as in a full
 * listing, in the same order, and none after it; a whole fingerprint of
 * nothing still lists every card. */
static void
test_only_certificate_stops (void)
{
  g_autoptr(ImzalaTestFixture) f = imzala_test_fixture_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(ImzalaModuleSet) modules = imzala_test_fixture_load (f, &error);
  g_autoptr(GPtrArray) all = NULL;
  const char *names[] = { "ayse-rsa", "ayse-p384", "mehmet-p256" };

  g_assert_no_error (error);
  all = imzala_module_set_list_tokens (modules, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (all->len, >=, 3);

  for (gsize i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autofree char *fingerprint = imzala_test_fixture_cert_get (f, names[i], "fingerprint");
      g_autoptr(ImzalaModuleSet) fresh = imzala_test_fixture_load (f, &error);
      g_autoptr(GPtrArray) tokens = NULL;
      g_autoptr(ImzalaCertificate) full = NULL;
      g_autoptr(ImzalaCertificate) found = NULL;
      g_autoptr(ImzalaToken) token = NULL;
      ImzalaToken *holder;
      guint position = G_MAXUINT;

      g_assert_no_error (error);
      g_assert_cmpuint (strlen (fingerprint), ==, 64);
      full = imzala_module_set_find_certificate (all, fingerprint, NULL, &error);
      g_assert_no_error (error);
      holder = imzala_module_set_find_token (all, full);
      g_assert_true (g_ptr_array_find (all, holder, &position));

      imzala_module_set_only_certificate (fresh, fingerprint);
      tokens = imzala_module_set_list_tokens (fresh, NULL, &error);
      g_assert_no_error (error);
      g_assert_cmpuint (tokens->len, ==, position + 1);
      for (guint t = 0; t < tokens->len; t++)
        g_assert_cmpstr (imzala_token_get_label (g_ptr_array_index (tokens, t)), ==,
                         imzala_token_get_label (g_ptr_array_index (all, t)));
      found = imzala_module_set_find_certificate (tokens, fingerprint, &token, &error);
      g_assert_no_error (error);
      g_assert_cmpstr (imzala_certificate_get_fingerprint (found), ==, fingerprint);
      g_assert_cmpstr (imzala_token_get_label (token), ==, imzala_token_get_label (holder));
      g_assert_true (token == g_ptr_array_index (tokens, tokens->len - 1));
    }

  /* Nothing holds it: every card is listed, and the answer is "no
   * certificate", as before. */
  {
    const char *nothing = "0000000000000000000000000000000000000000000000000000000000000000";
    g_autoptr(ImzalaModuleSet) fresh = imzala_test_fixture_load (f, &error);
    g_autoptr(GPtrArray) tokens = NULL;
    g_autoptr(ImzalaCertificate) none = NULL;

    g_assert_no_error (error);
    imzala_module_set_only_certificate (fresh, nothing);
    tokens = imzala_module_set_list_tokens (fresh, NULL, &error);
    g_assert_no_error (error);
    same_login_needs (all, tokens);
    none = imzala_module_set_find_certificate (tokens, nothing, NULL, &error);
    g_assert_null (none);
    g_assert_error (error, IMZALA_ERROR, IMZALA_ERROR_NO_CERTIFICATE);
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/module-set/load-by-path", test_load_by_path);
  g_test_add_func ("/module-set/missing-module", test_missing_module);
  g_test_add_func ("/module-set/no-module-at-all", test_no_module_at_all);
  g_test_add_func ("/module-set/missing-function", test_missing_function);
  g_test_add_func ("/module-set/same-module-twice", test_same_module_twice);
  g_test_add_func ("/module-set/registered", test_registered);
  g_test_add_func ("/module-set/own-libraries-first", test_own_libraries_first);
  g_test_add_func ("/module-set/list-tokens", test_list_tokens);
  g_test_add_func ("/module-set/empty-token", test_empty_token);
  g_test_add_func ("/module-set/async", test_async);
  g_test_add_func ("/module-set/find/fingerprint", test_find_by_fingerprint);
  g_test_add_func ("/module-set/find/uri", test_find_by_uri);
  g_test_add_func ("/module-set/find/recommended", test_find_recommended);
  g_test_add_func ("/module-set/find/ambiguous", test_find_ambiguous);
  g_test_add_func ("/module-set/find/none", test_find_none);
  g_test_add_func ("/module-set/find/none-recommended", test_find_none_recommended);
  g_test_add_func ("/module-set/only-certificate", test_only_certificate);
  g_test_add_func ("/module-set/only-certificate/stops", test_only_certificate_stops);

  return g_test_run ();
}
