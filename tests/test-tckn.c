/* test-tckn.c: the T.C. kimlik no check digits. */
#include "config.h"

#include <string.h>

#include "imzala-test.h"

static void
test_valid (void)
{
  static const char *const valid[] = {
    "12345678950",
    "10000000146",
    "11111111110",
    "99999999990",
  };

  for (gsize i = 0; i < G_N_ELEMENTS (valid); i++)
    g_assert_true (imzala_tckn_is_valid (valid[i]));
}

static void
test_invalid (void)
{
  static const char *const invalid[] = {
    "",
    "0",
    "02345678950",  /* never starts with 0 */
    "00000000000",
    "12345678940",  /* wrong 10th digit */
    "12345678951",  /* wrong 11th digit */
    "1234567895",   /* ten digits */
    "123456789500", /* twelve */
    "1234567895a",
    "A2345678950",
    " 12345678950",
    "12345678950 ",
    "12345 678950",
    "+2345678950",
    "-2345678950",
    "١٢٣٤٥٦٧٨٩٥٠", /* Arabic-Indic digits are not ASCII digits */
    "12345678950\n",
  };

  for (gsize i = 0; i < G_N_ELEMENTS (invalid); i++)
    {
      g_test_message ("%s", invalid[i]);
      g_assert_false (imzala_tckn_is_valid (invalid[i]));
    }
  g_assert_false (imzala_tckn_is_valid (NULL));
  /* A NUL inside: only the part before it counts, which is too short. */
  g_assert_false (imzala_tckn_is_valid ("12345\00078950"));
}

static void
test_complete (void)
{
  static const char *const bad[] = { "023456789", "12345678", "1234567890", "12345678a", "", " 23456789" };
  g_autofree char *a = imzala_tckn_complete ("123456789");
  g_autofree char *b = imzala_tckn_complete ("100000001");

  g_assert_cmpstr (a, ==, "12345678950");
  g_assert_cmpstr (b, ==, "10000000146");
  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    g_assert_null (imzala_tckn_complete (bad[i]));
  g_assert_null (imzala_tckn_complete (NULL));
}

/* The two check digits catch every change of a single digit: completing
 * numbers and changing each digit of them to every other value never gives a
 * valid number. */
static void
test_single_digit_changes (void)
{
  GRand *rand = g_rand_new_with_seed (1923);

  for (guint n = 0; n < 200; n++)
    {
      g_autofree char *nine = g_strdup_printf ("%09u", g_rand_int_range (rand, 100000000, 999999999));
      g_autofree char *number = imzala_tckn_complete (nine);

      g_assert_nonnull (number);
      g_assert_cmpuint (strlen (number), ==, 11);
      g_assert_true (imzala_tckn_is_valid (number));

      for (guint position = 0; position < 11; position++)
        for (char digit = '0'; digit <= '9'; digit++)
          {
            char changed[12];

            if (number[position] == digit)
              continue;
            memcpy (changed, number, sizeof changed);
            changed[position] = digit;
            g_assert_false (imzala_tckn_is_valid (changed));
          }
    }
  g_rand_free (rand);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/tckn/valid", test_valid);
  g_test_add_func ("/tckn/invalid", test_invalid);
  g_test_add_func ("/tckn/complete", test_complete);
  g_test_add_func ("/tckn/single-digit-changes", test_single_digit_changes);
  return g_test_run ();
}
