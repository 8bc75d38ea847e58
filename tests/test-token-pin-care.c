/* test-token-pin-care.c: PIN care (issue 8, item 6) through the fault
 * module: a PIN or PUK outside the card's length range never reaches the
 * card, a module that states no range or an absurd one refuses no good PIN,
 * and a pin-pad reader changes and unblocks the PIN with the PINs typed on
 * it, announcing each entry. The signing job's share (the announcements in
 * order, İptal during a keypad wait, the reader's timeout) is in
 * test-signing-job.c. */
#define G_LOG_DOMAIN "test-token-pin-care"

#include "config.h"

#include <string.h>

#include "imzala-test.h"

typedef struct
{
  ImzalaTestFixture *fixture;
  ImzalaModuleSet *modules;
  GPtrArray *tokens;
  char *count_file;
  char *user_pin;
  char *so_pin;
} Fixture;

static void
fixture_load (Fixture    *f,
              const char *faults)
{
  g_autoptr(GError) error = NULL;

  f->fixture = imzala_test_fixture_new ();
  f->count_file = g_build_filename (f->fixture->dir, "counts.txt", NULL);
  f->user_pin = imzala_test_fixture_get (f->fixture, "fixture", "user-pin");
  f->so_pin = imzala_test_fixture_get (f->fixture, "fixture", "so-pin");
  f->modules = imzala_test_fault_load (f->fixture, faults, f->count_file, &error);
  g_assert_no_error (error);
  f->tokens = imzala_module_set_list_tokens (f->modules, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (f->tokens->len, ==, 3);
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  g_clear_pointer (&f->tokens, g_ptr_array_unref);
  if (f->modules != NULL)
    imzala_test_modules_unref_and_wait (g_steal_pointer (&f->modules));
  g_clear_pointer (&f->fixture, imzala_test_fixture_free);
  g_free (f->count_file);
  g_free (f->user_pin);
  g_free (f->so_pin);
  g_unsetenv ("IMZALA_FAULT_PIN_RANGE");
  g_unsetenv ("IMZALA_FAULT_NEW_PIN");
  g_unsetenv ("IMZALA_FAULT_PUK");
}

/* Closes the modules (C_Finalize writes the counts) and reads the counts. */
static GHashTable *
close_and_count (Fixture *f)
{
  g_clear_pointer (&f->tokens, g_ptr_array_unref);
  imzala_test_modules_unref_and_wait (g_steal_pointer (&f->modules));
  return imzala_test_read_fault_counts (f->count_file);
}

static ImzalaCertificate *
get_certificate (Fixture      *f,
                 const char   *name,
                 ImzalaToken **token)
{
  g_autofree char *fingerprint = imzala_test_fixture_cert_get (f->fixture, name, "fingerprint");
  g_autoptr(GError) error = NULL;
  ImzalaCertificate *certificate;

  if (token != NULL)
    *token = NULL;
  certificate = imzala_module_set_find_certificate (f->tokens, fingerprint, token, &error);
  g_assert_no_error (error);
  g_object_unref (certificate); /* f->tokens keeps it */
  if (token != NULL)
    g_object_unref (*token);
  return certificate;
}

static GBytes *
sign (ImzalaToken       *token,
      ImzalaCertificate *certificate,
      const char        *pin_text,
      GError           **error)
{
  g_autoptr(ImzalaSecret) pin = pin_text != NULL ? imzala_test_secret (pin_text) : NULL;
  g_autoptr(GBytes) data = g_bytes_new_static ("İmzalanacak Metin 1", strlen ("İmzalanacak Metin 1"));

  return imzala_token_sign (token, certificate, pin, IMZALA_DIGEST_SHA256, data, NULL, error);
}

/* A 6–8 card: 5 and 20 digits are refused in words, for signing, for both
 * PINs of a change and for the PUK and new PIN of an unblock, and C_Login,
 * C_SetPIN and C_InitPIN are never called. */
static void
test_length_range (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(ImzalaSecret) good = NULL;
  g_autoptr(ImzalaSecret) puk = NULL;
  g_autoptr(ImzalaSecret) five = imzala_test_secret ("12345");
  g_autoptr(ImzalaSecret) twenty = imzala_test_secret ("12345678901234567890");
  g_autoptr(GHashTable) counts = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) signature = NULL;
  ImzalaCertificate *certificate;
  ImzalaToken *token;
  guint min, max;

  g_setenv ("IMZALA_FAULT_PIN_RANGE", "6-8", TRUE);
  fixture_load (f, "pin-range,count-calls");
  good = imzala_test_secret (f->user_pin);
  puk = imzala_test_secret (f->so_pin);
  certificate = get_certificate (f, "ayse-rsa", &token);
  imzala_token_get_pin_length_range (token, &min, &max);
  g_assert_cmpuint (min, ==, 6);
  g_assert_cmpuint (max, ==, 8);

  for (guint i = 0; i < 2; i++)
    {
      signature = sign (token, certificate, i == 0 ? "12345" : "12345678901234567890", &error);
      g_assert_null (signature);
      g_assert_error (error, IMZALA_ERROR, IMZALA_ERROR_PIN_LEN_RANGE);
      g_assert_cmpstr (error->message, ==, "The PIN has 6 to 8 digits.");
      g_assert_cmpstr (imzala_error_code_to_string (error->code), ==, "pin-length");
      g_clear_error (&error);
    }

  g_assert_false (imzala_token_change_pin (token, five, good, NULL, &error));
  g_assert_error (error, IMZALA_ERROR, IMZALA_ERROR_PIN_LEN_RANGE);
  g_clear_error (&error);
  g_assert_false (imzala_token_change_pin (token, good, twenty, NULL, &error));
  g_assert_error (error, IMZALA_ERROR, IMZALA_ERROR_PIN_LEN_RANGE);
  g_clear_error (&error);

  g_assert_false (imzala_token_unblock_pin (token, five, good, NULL, &error));
  g_assert_error (error, IMZALA_ERROR, IMZALA_ERROR_PIN_LEN_RANGE);
  g_assert_cmpstr (error->message, ==, "The PUK has 6 to 8 digits.");
  g_clear_error (&error);
  g_assert_false (imzala_token_unblock_pin (token, puk, five, NULL, &error));
  g_assert_error (error, IMZALA_ERROR, IMZALA_ERROR_PIN_LEN_RANGE);
  g_clear_error (&error);

  counts = close_and_count (f);
  g_assert_cmpuint (imzala_test_fault_count (counts, "C_Finalize"), ==, 1);
  g_assert_cmpuint (imzala_test_fault_count (counts, "C_Login"), ==, 0);
  g_assert_cmpuint (imzala_test_fault_count (counts, "C_SetPIN"), ==, 0);
  g_assert_cmpuint (imzala_test_fault_count (counts, "C_InitPIN"), ==, 0);
}

/* What a module states about lengths is not trusted blindly: no range, or
 * an absurd one, refuses no PIN the card takes, and a PIN inside the range
 * signs. */
static void
test_absurd_ranges (Fixture       *f,
                    gconstpointer  data)
{
  const char *range = data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) signature = NULL;
  ImzalaCertificate *certificate;
  ImzalaToken *token;
  guint min, max;

  g_setenv ("IMZALA_FAULT_PIN_RANGE", range, TRUE);
  fixture_load (f, "pin-range");
  certificate = get_certificate (f, "ayse-rsa", &token);
  imzala_token_get_pin_length_range (token, &min, &max);
  g_test_message ("%s: %u..%u", range, min, max);
  g_assert_true (min == 0 || min <= strlen (f->user_pin));
  g_assert_true (max == 0 || max >= strlen (f->user_pin));

  signature = sign (token, certificate, f->user_pin, &error);
  g_assert_no_error (error);
  g_assert_nonnull (signature);
}

typedef struct
{
  GMutex lock;
  GPtrArray *messages;
} Prompts;

/* On the module's thread. */
static void
token_prompt_cb (ImzalaToken *token,
                 const char  *message,
                 Prompts     *prompts)
{
  g_mutex_lock (&prompts->lock);
  g_ptr_array_add (prompts->messages, g_strdup (message));
  g_mutex_unlock (&prompts->lock);
}

static void
assert_prompts (Prompts    *prompts,
                const char *first,
                ...)
{
  va_list args;
  guint n = 0;

  va_start (args, first);
  for (const char *message = first; message != NULL; message = va_arg (args, const char *), n++)
    {
      g_assert_cmpuint (n, <, prompts->messages->len);
      g_assert_cmpstr (g_ptr_array_index (prompts->messages, n), ==, message);
    }
  va_end (args);
  g_assert_cmpuint (prompts->messages->len, ==, n);
  g_ptr_array_set_size (prompts->messages, 0);
}

/* PIN change and unblock on a pin pad: no PIN passes through İmzala, the
 * reader is asked (C_SetPIN with NULL PINs, C_Login as SO and C_InitPIN with
 * NULL), each entry is announced, and the new PIN then signs. */
static void
test_pin_pad_change_unblock (Fixture       *f,
                             gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) signature = NULL;
  g_autoptr(GHashTable) counts = NULL;
  Prompts prompts;
  ImzalaCertificate *certificate;
  ImzalaToken *token;

  g_mutex_init (&prompts.lock);
  prompts.messages = g_ptr_array_new_with_free_func (g_free);

  fixture_load (f, "pin-pad,count-calls");
  certificate = get_certificate (f, "ayse-rsa", &token);
  g_assert_true (imzala_token_has_pin_pad (token));
  g_signal_connect (token, "pin-pad-prompt", G_CALLBACK (token_prompt_cb), &prompts);

  /* Change: the current PIN and the new one typed on the reader. */
  g_setenv ("IMZALA_FAULT_NEW_PIN", "654321", TRUE);
  g_assert_true (imzala_token_change_pin (token, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  assert_prompts (&prompts, "Enter the current PIN on the reader, then the new PIN.", NULL);

  g_setenv ("IMZALA_FAULT_PIN", "654321", TRUE);
  signature = sign (token, certificate, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (signature);
  g_clear_pointer (&signature, g_bytes_unref);
  assert_prompts (&prompts, "Enter the PIN on the reader.", NULL);

  /* Unblock: the PUK, then the new PIN, typed on the reader. */
  g_setenv ("IMZALA_FAULT_PUK", f->so_pin, TRUE);
  g_setenv ("IMZALA_FAULT_NEW_PIN", "112233", TRUE);
  g_assert_true (imzala_token_unblock_pin (token, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  assert_prompts (&prompts, "Enter the PUK on the reader.", "Enter the new PIN on the reader.", NULL);

  g_setenv ("IMZALA_FAULT_PIN", "112233", TRUE);
  signature = sign (token, certificate, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (signature);
  assert_prompts (&prompts, "Enter the PIN on the reader.", NULL);

  /* The change was one C_SetPIN, not a login first. */
  g_signal_handlers_disconnect_by_func (token, token_prompt_cb, &prompts);
  counts = close_and_count (f);
  g_assert_cmpuint (imzala_test_fault_count (counts, "C_SetPIN"), ==, 1);
  g_assert_cmpuint (imzala_test_fault_count (counts, "C_InitPIN"), ==, 1);
  g_assert_cmpuint (imzala_test_fault_count (counts, "C_Login"), ==, 3);

  g_ptr_array_unref (prompts.messages);
  g_mutex_clear (&prompts.lock);
}

/* A wrong current PIN typed on the reader is the card's "incorrect". */
static void
test_pin_pad_change_wrong (Fixture       *f,
                           gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  ImzalaToken *token;

  fixture_load (f, "pin-pad");
  get_certificate (f, "ayse-rsa", &token);
  g_setenv ("IMZALA_FAULT_PIN", "999999", TRUE);
  g_setenv ("IMZALA_FAULT_NEW_PIN", "654321", TRUE);
  g_assert_false (imzala_token_change_pin (token, NULL, NULL, NULL, &error));
  g_assert_error (error, IMZALA_ERROR, IMZALA_ERROR_PIN_INCORRECT);
  g_setenv ("IMZALA_FAULT_PIN", f->user_pin, TRUE);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, data, func) g_test_add (path, Fixture, data, NULL, func, fixture_teardown)
  ADD ("/token-pin-care/length-range", NULL, test_length_range);
  ADD ("/token-pin-care/absurd-range/none", "0-0", test_absurd_ranges);
  ADD ("/token-pin-care/absurd-range/max-below-min", "9-3", test_absurd_ranges);
  ADD ("/token-pin-care/absurd-range/min-too-long", "100-200", test_absurd_ranges);
  ADD ("/token-pin-care/absurd-range/exact", "6-6", test_absurd_ranges);
  ADD ("/token-pin-care/pin-pad-change-unblock", NULL, test_pin_pad_change_unblock);
  ADD ("/token-pin-care/pin-pad-change-wrong", NULL, test_pin_pad_change_wrong);
#undef ADD

  return g_test_run ();
}
