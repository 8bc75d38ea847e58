#define G_LOG_DOMAIN "imzala-core"

#include "config.h"

#include <string.h>

#include "imzala-text.h"

static gboolean
is_shown_as_itself (gunichar c)
{
  switch (g_unichar_type (c))
    {
    case G_UNICODE_CONTROL:
    case G_UNICODE_FORMAT:
    case G_UNICODE_LINE_SEPARATOR:
    case G_UNICODE_PARAGRAPH_SEPARATOR:
      return FALSE;
    default:
      return TRUE;
    }
}

char *
imzala_text_escape_unshown (const char *text)
{
  GString *safe;
  const char *p, *end;

  if (text == NULL)
    return NULL;
  safe = g_string_sized_new (strlen (text));
  end = text + strlen (text);
  for (p = text; p < end; )
    {
      gunichar c = g_utf8_get_char_validated (p, end - p);

      if (c == (gunichar) -1 || c == (gunichar) -2)
        {
          g_string_append_printf (safe, "\\x%02x", (guchar) *p);
          p++;
          continue;
        }
      if (c == '\t' || is_shown_as_itself (c))
        g_string_append_len (safe, p, g_utf8_next_char (p) - p);
      else if (c < 0x100)
        g_string_append_printf (safe, "\\x%02x", c);
      else
        g_string_append_printf (safe, "\\u%04x", c);
      p = g_utf8_next_char (p);
    }
  return g_string_free (safe, FALSE);
}
