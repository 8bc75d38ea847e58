/* imzala-json.c: JSON from the network, with its limits checked first.
 *
 * See imzala-json.h for why the depth is counted before json-glib parses.
 */
#define G_LOG_DOMAIN "imzala-json"

#include "config.h"

#include <string.h>
#include <glib/gi18n-lib.h>

#include "imzala-error.h"
#include "imzala-json.h"

gboolean
imzala_json_is_media_type (const char *media_type,
                           GHashTable *params)
{
  GHashTableIter iter;
  gpointer key, value;

  if (media_type == NULL || g_ascii_strcasecmp (media_type, "application/json") != 0)
    return FALSE;
  if (params == NULL)
    return TRUE;
  g_hash_table_iter_init (&iter, params);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      if (g_ascii_strcasecmp (key, "charset") != 0 || value == NULL ||
          (g_ascii_strcasecmp (value, "utf-8") != 0 && g_ascii_strcasecmp (value, "utf8") != 0))
        return FALSE;
    }
  return TRUE;
}

guint
imzala_json_scan_depth (const guint8 *data,
                        gsize         length,
                        guint         max_depth)
{
  gboolean in_string = FALSE;
  guint depth = 0, deepest = 0;

  for (gsize i = 0; i < length; i++)
    {
      guint8 c = data[i];

      if (in_string)
        {
          if (c == '\\')
            i++; /* whatever follows a backslash is part of the string */
          else if (c == '"')
            in_string = FALSE;
          continue;
        }
      switch (c)
        {
        case '"':
          in_string = TRUE;
          break;
        case '[':
        case '{':
          if (++depth > max_depth)
            return G_MAXUINT;
          deepest = MAX (deepest, depth);
          break;
        case ']':
        case '}':
          /* An unbalanced close is json-glib's to refuse; it must not wrap
           * the counter. */
          if (depth > 0)
            depth--;
          break;
        default:
          break;
        }
    }
  return deepest;
}

static GError *
parse_error (const char *why)
{
  g_debug ("JSON refused: %s", why);
  return g_error_new_literal (IMZALA_ERROR, IMZALA_ERROR_PROTOCOL,
                              _("The data received is not a valid JSON document."));
}

JsonNode *
imzala_json_parse (const guint8  *data,
                   gsize          length,
                   gsize          max_size,
                   guint          max_depth,
                   GError       **error)
{
  g_autoptr(JsonParser) parser = NULL;
  g_autoptr(GError) local_error = NULL;

  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (length > max_size || length > G_MAXSSIZE)
    {
      g_debug ("JSON of %" G_GSIZE_FORMAT " bytes refused (limit %" G_GSIZE_FORMAT ")",
               length, max_size);
      g_set_error_literal (error, IMZALA_ERROR, IMZALA_ERROR_TOO_LARGE,
                           _("The data received is too large to be accepted."));
      return NULL;
    }
  /* json-glib takes an empty input as a document without a root node. */
  if (data == NULL || length == 0)
    return (g_propagate_error (error, parse_error ("empty")), NULL);
  if (!g_utf8_validate ((const char *) data, (gssize) length, NULL))
    return (g_propagate_error (error, parse_error ("not UTF-8")), NULL);
  if (imzala_json_scan_depth (data, length, max_depth) == G_MAXUINT)
    return (g_propagate_error (error, parse_error ("nested too deep")), NULL);

  parser = json_parser_new_immutable ();
  if (!json_parser_load_from_data (parser, (const char *) data, (gssize) length, &local_error))
    return (g_propagate_error (error, parse_error (local_error->message)), NULL);
  if (json_parser_get_root (parser) == NULL)
    return (g_propagate_error (error, parse_error ("no document")), NULL);
  return json_parser_steal_root (parser);
}

static gsize
skip_space (const guint8 *data,
            gsize         length,
            gsize         i)
{
  while (i < length && (data[i] == ' ' || data[i] == '\t' || data[i] == '\n' || data[i] == '\r'))
    i++;
  return i;
}

/* The end of the string that starts at @data[@start] (its opening quote):
 * the index of its closing quote, or @length when it is not closed. Sets
 * @escaped when it has a backslash. */
static gsize
string_end (const guint8 *data,
            gsize         length,
            gsize         start,
            gboolean     *escaped)
{
  *escaped = FALSE;
  for (gsize i = start + 1; i < length; i++)
    {
      if (data[i] == '\\')
        {
          *escaped = TRUE;
          i++;
        }
      else if (data[i] == '"')
        return i;
    }
  return length;
}

ImzalaSecret *
imzala_json_take_secret (guint8      *data,
                         gsize        length,
                         const char  *name,
                         GError     **error)
{
  gsize name_length = strlen (name);
  gsize value_start = 0, value_end = 0;
  guint found = 0, depth = 0;
  gboolean expect_key = FALSE;
  ImzalaSecret *secret;
  gsize i;

  g_return_val_if_fail (name != NULL, NULL);

  i = skip_space (data, length, 0);
  if (i >= length || data[i] != '{')
    return (g_propagate_error (error, parse_error ("not an object")), NULL);

  for (; i < length; i++)
    {
      guint8 c = data[i];

      if (c == '"')
        {
          gboolean escaped;
          gsize end = string_end (data, length, i, &escaped);
          gboolean is_key = depth == 1 && expect_key;

          if (end >= length)
            return (g_propagate_error (error, parse_error ("unterminated string")), NULL);
          expect_key = FALSE;
          /* A member name spelt with an escape ("p\u0075k", "\puk") could
           * be the secret's under another spelling, which json-glib would
           * read and this scan would not: no answer needs one. */
          if (is_key && escaped)
            return (g_propagate_error (error, parse_error ("a member name has escapes")), NULL);
          if (is_key && end - i - 1 == name_length &&
              memcmp (data + i + 1, name, name_length) == 0)
            {
              gsize colon = skip_space (data, length, end + 1);
              gsize value = colon < length && data[colon] == ':'
                ? skip_space (data, length, colon + 1) : length;

              if (value >= length || data[value] != '"')
                return (g_propagate_error (error, parse_error ("the secret is not a string")), NULL);
              if (++found > 1)
                return (g_propagate_error (error, parse_error ("the secret is there twice")), NULL);
              value_start = value + 1;
              value_end = string_end (data, length, value, &escaped);
              if (value_end >= length || escaped)
                return (g_propagate_error (error, parse_error ("the secret has escapes")), NULL);
              i = value_end;
              continue;
            }
          i = end;
          continue;
        }
      if (c == '{' || c == '[')
        {
          depth++;
          expect_key = depth == 1 && c == '{';
        }
      else if (c == '}' || c == ']')
        depth = depth > 0 ? depth - 1 : 0;
      else if (c == ',' && depth == 1)
        expect_key = TRUE;
    }

  if (found == 0)
    return (g_propagate_error (error, parse_error ("no secret")), NULL);
  if (value_end == value_start || value_end - value_start > IMZALA_SECRET_MAX_LENGTH)
    {
      memset (data + value_start, '*', value_end - value_start);
      return (g_propagate_error (error, parse_error ("a secret of a bad length")), NULL);
    }

  secret = imzala_secret_new_from_data (data + value_start, value_end - value_start);
  /* Still valid JSON, of the same length, without the secret. */
  memset (data + value_start, '*', value_end - value_start);
  return secret;
}
