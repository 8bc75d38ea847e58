#define G_LOG_DOMAIN "imzala-portal"

#include "config.h"

#include <string.h>
#include <openssl/rand.h>

#include "imzala-portal.h"
#include "imzala-portal-code.h"

/* The alphabet and the length are the client's (src/core/imzala-portal.h),
 * so that the two sides of the protocol cannot drift apart. */
static const char alphabet[] = IMZALA_PORTAL_CODE_ALPHABET;

static void
random_fill (guint8 *buffer, gsize size)
{
  /* Without a working CSPRNG the portal must not hand out codes at all. */
  if (RAND_bytes (buffer, (int) size) != 1)
    g_error ("The random number generator failed");
}

char *
imzala_portal_code_generate (void)
{
  guint8 bytes[8];
  guint64 bits = 0;
  char *code = g_malloc (IMZALA_PORTAL_CODE_LENGTH + 1);

  random_fill (bytes, sizeof bytes);
  for (guint i = 0; i < sizeof bytes; i++)
    bits = (bits << 8) | bytes[i];
  /* 32 = 2^5, so every 5-bit group maps to one character without bias. */
  for (guint i = 0; i < IMZALA_PORTAL_CODE_LENGTH; i++)
    {
      code[i] = alphabet[bits & 0x1f];
      bits >>= 5;
    }
  code[IMZALA_PORTAL_CODE_LENGTH] = '\0';
  return code;
}

gboolean
imzala_portal_code_is_canonical (const char *code)
{
  if (code == NULL || strlen (code) != IMZALA_PORTAL_CODE_LENGTH)
    return FALSE;
  for (guint i = 0; i < IMZALA_PORTAL_CODE_LENGTH; i++)
    if (code[i] == '\0' || strchr (alphabet, code[i]) == NULL)
      return FALSE;
  return TRUE;
}

GBytes *
imzala_portal_random_bytes (gsize n_bytes)
{
  guint8 *buffer = g_malloc (n_bytes);

  random_fill (buffer, n_bytes);
  return g_bytes_new_take (buffer, n_bytes);
}

char *
imzala_portal_random_hex (gsize n_bytes)
{
  g_autoptr(GBytes) bytes = imzala_portal_random_bytes (n_bytes);
  const guint8 *data = g_bytes_get_data (bytes, NULL);
  GString *hex = g_string_sized_new (n_bytes * 2);

  for (gsize i = 0; i < n_bytes; i++)
    g_string_append_printf (hex, "%02x", data[i]);
  return g_string_free (hex, FALSE);
}
