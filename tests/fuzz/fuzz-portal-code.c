/* fuzz-portal-code.c: libFuzzer harness for what the user types or a link
 * carries: the doğrulama kodu normaliser imzala_portal_normalize_code()
 * with imzala_portal_format_code(), and the protocol's strict base64
 * imzala_portal_decode_base64() (every text, nonce and PUK of an answer).
 */
#define G_LOG_DOMAIN "fuzz-portal-code"

#include "config.h"

#include <stdint.h>
#include <string.h>

#include "imzala-portal.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  /* Both take C strings: the input up to its first NUL. */
  g_autofree char *text = g_strndup ((const char *) data, size);
  g_autoptr(GError) error = NULL;
  g_autofree char *code = imzala_portal_normalize_code (text, &error);
  g_autoptr(GBytes) decoded = imzala_portal_decode_base64 (text);

  if (code != NULL)
    {
      g_autofree char *formatted = imzala_portal_format_code (code);
      g_autofree char *again = imzala_portal_normalize_code (formatted, NULL);

      /* A normalised code reads back as itself. */
      g_assert_cmpstr (again, ==, code);
    }
  else
    g_assert (error != NULL);

  if (decoded != NULL)
    {
      g_autofree char *encoded = g_base64_encode (g_bytes_get_data (decoded, NULL),
                                                  g_bytes_get_size (decoded));
      g_autoptr(GBytes) again = imzala_portal_decode_base64 (encoded);

      /* The value's own spelling is strict base64 too, and reads back as
       * the same bytes (the unused bits of the last character may differ
       * in @text; OpenSSL and GLib ignore them alike). */
      g_assert (again != NULL && g_bytes_equal (again, decoded));
    }
  return 0;
}
