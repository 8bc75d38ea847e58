/* Placeholder until the CMS engineer's test lands: the basic T.C. kimlik no
 * rules, so that the suite runs from the first commit. */
#include "config.h"

#include "imzala-test.h"

static void
test_known_numbers (void)
{
  g_autofree char *completed = imzala_tckn_complete ("123456789");

  g_assert_true (imzala_tckn_is_valid ("12345678950"));
  g_assert_true (imzala_tckn_is_valid ("10000000146"));
  g_assert_false (imzala_tckn_is_valid ("12345678951"));
  g_assert_false (imzala_tckn_is_valid ("02345678950"));
  g_assert_false (imzala_tckn_is_valid ("1234567895"));
  g_assert_false (imzala_tckn_is_valid ("1234567895a"));
  g_assert_false (imzala_tckn_is_valid (NULL));
  g_assert_cmpstr (completed, ==, "12345678950");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/tckn/known-numbers", test_known_numbers);
  return g_test_run ();
}
