/* test-cli-terminal.c: imzala_text_escape_unshown(), the one filter every
 * portal or card string goes through before imzala-cli prints it: nothing
 * that could move the cursor, clear a line, reorder the text or start a line
 * of its own reaches the terminal, and everything else is left as it is. */
#define G_LOG_DOMAIN "test-cli-terminal"

#include "config.h"

#include "imzala-test.h"
#include "imzala-cli-terminal.h"
#include "imzala-text.h"

static void
test_filter (void)
{
  static const struct {
    const char *in;
    const char *out;
  } cases[] = {
    { "Kartınızın kilidi çözüldü.", "Kartınızın kilidi çözüldü." },
    { "İŞLEM\ttamam", "İŞLEM\ttamam" },
    { "a\nİşlem tamamlandı", "a\\x0aİşlem tamamlandı" },
    { "a\rb", "a\\x0db" },
    { "\x1b[2KSahte", "\\x1b[2KSahte" },
    { "\x7f", "\\x7f" },
    { "C1 \xc2\x9b""2K", "C1 \\x9b2K" },
    { "NEL\xc2\x85", "NEL\\x85" },
    { "\xe2\x80\xa8satır", "\\u2028satır" },
    { "\xe2\x80\xa9", "\\u2029" },
    { "ters \xe2\x80\xae""çevir", "ters \\u202eçevir" },
    { "\xe2\x81\xa6x\xe2\x81\xa9", "\\u2066x\\u2069" },
    { "\xe2\x80\x8b\xe2\x80\x8f\xef\xbb\xbf", "\\u200b\\u200f\\ufeff" },
    { "bad \xff\xfe", "bad \\xff\\xfe" },
    { "", "" },
  };

  g_assert_null (imzala_text_escape_unshown (NULL));
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *safe = imzala_text_escape_unshown (cases[i].in);

      g_test_message ("case %u: %s", i, safe);
      g_assert_cmpstr (safe, ==, cases[i].out);
      g_assert_true (g_utf8_validate (safe, -1, NULL));
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/cli-terminal/filter", test_filter);
  return g_test_run ();
}
