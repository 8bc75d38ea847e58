#define G_LOG_DOMAIN "imzala-core"

#include "config.h"

#include <string.h>

#include "imzala-tckn.h"

/* The 10th digit is ((d1+d3+d5+d7+d9)*7 - (d2+d4+d6+d8)) mod 10 and the 11th
 * is the sum of the first ten mod 10. */
static void
check_digits (const int d[9], int *tenth, int *eleventh)
{
  int odd = d[0] + d[2] + d[4] + d[6] + d[8];
  int even = d[1] + d[3] + d[5] + d[7];
  int sum = 0;

  /* The +10*... keeps the left operand of % non-negative. */
  *tenth = ((odd * 7 - even) % 10 + 10) % 10;
  for (int i = 0; i < 9; i++)
    sum += d[i];
  *eleventh = (sum + *tenth) % 10;
}

static gboolean
parse_digits (const char *text, gsize count, int *out)
{
  if (text == NULL || strlen (text) != count)
    return FALSE;
  for (gsize i = 0; i < count; i++)
    {
      if (!g_ascii_isdigit (text[i]))
        return FALSE;
      out[i] = text[i] - '0';
    }
  return out[0] != 0;
}

gboolean
imzala_tckn_is_valid (const char *text)
{
  int d[11];
  int tenth, eleventh;

  if (!parse_digits (text, 11, d))
    return FALSE;
  check_digits (d, &tenth, &eleventh);
  return d[9] == tenth && d[10] == eleventh;
}

char *
imzala_tckn_complete (const char *first_nine)
{
  int d[9];
  int tenth, eleventh;

  if (!parse_digits (first_nine, 9, d))
    return NULL;
  check_digits (d, &tenth, &eleventh);
  return g_strdup_printf ("%s%d%d", first_nine, tenth, eleventh);
}
