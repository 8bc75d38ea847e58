/* test-card-cause.c: imzala_card_cause_find(), the true cause of "no card",
 * from readers made in the test (no pcscd needed) and the SoftHSM fixture's
 * tokens. */
#define G_LOG_DOMAIN "test-card-cause"

#include "config.h"

#include <string.h>

#include "imzala-reader-private.h"
#include "imzala-test.h"

typedef struct
{
  ImzalaTestFixture *fixture;
  ImzalaModuleSet *modules;
  GPtrArray *tokens;
  GListStore *readers;
  GError *pcsc_error;
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
  g_assert_cmpuint (f->tokens->len, >, 0);
  f->readers = g_list_store_new (IMZALA_TYPE_READER);
  f->pcsc_error = g_error_new_literal (IMZALA_ERROR, IMZALA_ERROR_PCSC_UNAVAILABLE, "pcscd is away");
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  g_clear_error (&f->pcsc_error);
  g_clear_object (&f->readers);
  g_clear_pointer (&f->tokens, g_ptr_array_unref);
  imzala_test_modules_unref_and_wait (g_steal_pointer (&f->modules));
  g_clear_pointer (&f->fixture, imzala_test_fixture_free);
}

static ImzalaReader *
add_reader (Fixture           *f,
            const char        *name,
            ImzalaReaderState  state)
{
  g_autoptr(ImzalaReader) reader = imzala_reader_new (name);

  imzala_reader_update (reader, state, state == IMZALA_READER_STATE_EMPTY ? NULL : "3B9513810180");
  g_list_store_append (f->readers, reader);
  return reader; /* the store keeps it */
}

static GPtrArray *
no_tokens (void)
{
  return g_ptr_array_new ();
}

static void
assert_error (ImzalaCardCause  cause,
              ImzalaReader    *reader,
              int              code,
              const char      *part)
{
  g_autoptr(GError) error = imzala_card_cause_to_error (cause, reader);

  g_assert_error (error, IMZALA_ERROR, code);
  if (part != NULL)
    g_assert_nonnull (strstr (error->message, part));
}

static void
test_pcsc_unavailable (Fixture       *f,
                       gconstpointer  data)
{
  g_autoptr(GPtrArray) none = no_tokens ();

  /* No token and no pcscd: pcscd is the cause, and the message says how
   * to start it. */
  g_assert_cmpint (imzala_card_cause_find (NULL, f->pcsc_error, none, NULL), ==,
                   IMZALA_CARD_CAUSE_PCSC_UNAVAILABLE);
  g_assert_cmpint (imzala_card_cause_find (NULL, f->pcsc_error, NULL, NULL), ==,
                   IMZALA_CARD_CAUSE_PCSC_UNAVAILABLE);
  assert_error (IMZALA_CARD_CAUSE_PCSC_UNAVAILABLE, NULL, IMZALA_ERROR_PCSC_UNAVAILABLE,
                "sudo systemctl start pcscd.socket");

  /* A SoftHSM token needs no pcscd: nothing to explain. */
  g_assert_cmpint (imzala_card_cause_find (NULL, f->pcsc_error, f->tokens, NULL), ==,
                   IMZALA_CARD_CAUSE_NONE);
  g_assert_null (imzala_card_cause_to_error (IMZALA_CARD_CAUSE_NONE, NULL));
}

static void
test_no_card (Fixture       *f,
              gconstpointer  data)
{
  g_autoptr(GPtrArray) none = no_tokens ();
  ImzalaReader *reader = NULL;

  /* pcscd has not answered yet: the plain "insert your card". */
  g_assert_cmpint (imzala_card_cause_find (NULL, NULL, none, &reader), ==, IMZALA_CARD_CAUSE_NO_CARD);
  g_assert_null (reader);
  assert_error (IMZALA_CARD_CAUSE_NO_CARD, NULL, IMZALA_ERROR_NO_TOKEN, "Insert your card");

  /* pcscd answers and knows no reader. */
  g_assert_cmpint (imzala_card_cause_find (G_LIST_MODEL (f->readers), NULL, none, NULL), ==,
                   IMZALA_CARD_CAUSE_NO_READER);
  assert_error (IMZALA_CARD_CAUSE_NO_READER, NULL, IMZALA_ERROR_NO_TOKEN, "card reader");

  /* Empty readers, and one that does not answer at all. */
  add_reader (f, "ACS ACR38U 00 00", IMZALA_READER_STATE_EMPTY);
  add_reader (f, "Broken Reader 00 00", IMZALA_READER_STATE_UNAVAILABLE);
  g_assert_cmpint (imzala_card_cause_find (G_LIST_MODEL (f->readers), NULL, none, &reader), ==,
                   IMZALA_CARD_CAUSE_NO_CARD);
  g_assert_null (reader);
}

static void
test_not_recognized (Fixture       *f,
                     gconstpointer  data)
{
  g_autoptr(GPtrArray) none = no_tokens ();
  ImzalaReader *empty = add_reader (f, "ACS ACR38U 00 00", IMZALA_READER_STATE_EMPTY);
  ImzalaReader *full = add_reader (f, "Gemalto PC Twin Reader 01 00", IMZALA_READER_STATE_PRESENT);
  ImzalaReader *reader = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_cmpint (imzala_card_cause_find (G_LIST_MODEL (f->readers), NULL, none, &reader), ==,
                   IMZALA_CARD_CAUSE_NOT_RECOGNIZED);
  g_assert_true (reader == full);
  g_assert_false (reader == empty);

  /* The message says what to install for AKİS, and where it goes. */
  error = imzala_card_cause_to_error (IMZALA_CARD_CAUSE_NOT_RECOGNIZED, reader);
  g_assert_error (error, IMZALA_ERROR, IMZALA_ERROR_TOKEN_NOT_RECOGNIZED);
  g_assert_nonnull (strstr (error->message, "Gemalto PC Twin Reader 01 00"));
  g_assert_nonnull (strstr (error->message, "AKİS"));
  g_assert_nonnull (strstr (error->message, "/usr/lib/libakisp11.so"));
  g_assert_nonnull (strstr (error->message, "/opt/Akia/libakisp11.so"));
  g_assert_cmpstr (imzala_error_code_to_string (IMZALA_ERROR_TOKEN_NOT_RECOGNIZED), ==,
                   "token-not-recognized");

  /* A card in use by another program is still a card no module shows. */
  imzala_reader_update (full, IMZALA_READER_STATE_IN_USE, "3B9513810180");
  g_assert_cmpint (imzala_card_cause_find (G_LIST_MODEL (f->readers), NULL, none, NULL), ==,
                   IMZALA_CARD_CAUSE_NOT_RECOGNIZED);

  /* A card that does not answer (upside down, broken) is said so. */
  imzala_reader_update (full, IMZALA_READER_STATE_MUTE, "3B9513810180");
  g_assert_cmpint (imzala_card_cause_find (G_LIST_MODEL (f->readers), NULL, none, &reader), ==,
                   IMZALA_CARD_CAUSE_CARD_MUTE);
  g_assert_true (reader == full);
  assert_error (IMZALA_CARD_CAUSE_CARD_MUTE, reader, IMZALA_ERROR_TOKEN_NOT_RECOGNIZED, "does not answer");

  /* Other tokens (SoftHSM here) do not hide the card nobody knows. */
  imzala_reader_update (full, IMZALA_READER_STATE_PRESENT, "3B9513810180");
  g_assert_cmpint (imzala_card_cause_find (G_LIST_MODEL (f->readers), NULL, f->tokens, &reader), ==,
                   IMZALA_CARD_CAUSE_NOT_RECOGNIZED);
  g_assert_true (reader == full);
}

static void
test_matched (Fixture       *f,
              gconstpointer  data)
{
  ImzalaToken *token = g_ptr_array_index (f->tokens, 0);
  ImzalaReader *reader = NULL;
  ImzalaReader *holder;

  /* A reader named as a token's slot description holds that token (as
   * OpenSC names slots after readers). */
  holder = add_reader (f, imzala_token_get_slot_description (token), IMZALA_READER_STATE_PRESENT);
  add_reader (f, "ACS ACR38U 00 00", IMZALA_READER_STATE_EMPTY);

  g_assert_true (imzala_card_cause_find_token (f->tokens, holder) == token);
  g_assert_cmpint (imzala_card_cause_find (G_LIST_MODEL (f->readers), NULL, f->tokens, &reader), ==,
                   IMZALA_CARD_CAUSE_NONE);
  g_assert_null (reader);

  /* The same card while its token is not listed (taken out of the list,
   * or the module does not know it): not recognised. */
  {
    g_autoptr(GPtrArray) others = g_ptr_array_new ();

    for (guint i = 1; i < f->tokens->len; i++)
      g_ptr_array_add (others, g_ptr_array_index (f->tokens, i));
    g_assert_null (imzala_card_cause_find_token (others, holder));
    g_assert_cmpint (imzala_card_cause_find (G_LIST_MODEL (f->readers), NULL, others, &reader), ==,
                     IMZALA_CARD_CAUSE_NOT_RECOGNIZED);
    g_assert_true (reader == holder);
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add ("/card-cause/pcsc-unavailable", Fixture, NULL, fixture_setup, test_pcsc_unavailable, fixture_teardown);
  g_test_add ("/card-cause/no-card", Fixture, NULL, fixture_setup, test_no_card, fixture_teardown);
  g_test_add ("/card-cause/not-recognized", Fixture, NULL, fixture_setup, test_not_recognized, fixture_teardown);
  g_test_add ("/card-cause/matched", Fixture, NULL, fixture_setup, test_matched, fixture_teardown);

  return g_test_run ();
}
