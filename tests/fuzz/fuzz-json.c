/* fuzz-json.c: libFuzzer harness for the one JSON entry point of both the
 * portal and the client (src/core/imzala-json.c): the depth pre-scan, the
 * limits checked before json-glib parses anything, and the PUK scanner that
 * takes a member out of the caller's buffer.
 */
#define G_LOG_DOMAIN "fuzz-json"

#include "config.h"

#include <stdint.h>
#include <string.h>

#include "imzala-json.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) root = NULL;
  guint depth = imzala_json_scan_depth (data, size, IMZALA_JSON_MAX_DEPTH);

  root = imzala_json_parse (data, size, 1024 * 1024, IMZALA_JSON_MAX_DEPTH, &error);
  /* One of the two, never both, never neither. */
  g_assert ((root == NULL) != (error == NULL));
  /* Nothing deeper than the limit ever reaches json-glib. */
  if (depth == G_MAXUINT)
    g_assert (root == NULL);

  if (depth != G_MAXUINT)
    {
      /* The scanner writes into the buffer it is given: a copy, as the
       * client's own body buffer. */
      g_autofree guint8 *copy = g_memdup2 (data, size);
      g_autoptr(GError) secret_error = NULL;
      ImzalaSecret *puk = imzala_json_take_secret (copy, size, "puk", &secret_error);

      g_assert ((puk == NULL) != (secret_error == NULL));
      if (puk != NULL)
        {
          /* The value is gone from the buffer: what was taken no longer
           * appears where it was. */
          g_autoptr(JsonNode) again = imzala_json_parse (copy, size, 1024 * 1024,
                                                          IMZALA_JSON_MAX_DEPTH, NULL);

          if (again != NULL && JSON_NODE_HOLDS_OBJECT (again))
            {
              const char *left = json_object_get_string_member_with_default (
                json_node_get_object (again), "puk", NULL);

              g_assert (left == NULL || strspn (left, "*") == strlen (left));
            }
          imzala_secret_unref (puk);
        }
    }
  return 0;
}
