#define G_LOG_DOMAIN "imzala-portal"

#include "config.h"

#include <string.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "imzala-portal-code.h"
#include "imzala-portal-security-word.h"

#define KEY_LENGTH 32

static char *
normalise (const char *word)
{
  g_autofree char *trimmed = g_strstrip (g_strdup (word));

  return g_utf8_normalize (trimmed, -1, G_NORMALIZE_NFC);
}

static gboolean
derive (const char *word, const guint8 *salt, gsize salt_length, guint iterations, guint8 *out)
{
  g_autofree char *normal = normalise (word);

  if (normal == NULL)
    return FALSE;
  return PKCS5_PBKDF2_HMAC (normal, (int) strlen (normal), salt, (int) salt_length,
                            (int) iterations, EVP_sha256 (), KEY_LENGTH, out) == 1;
}

char *
imzala_portal_security_word_hash (const char *word)
{
  g_autoptr(GBytes) salt = imzala_portal_random_bytes (16);
  guint8 key[KEY_LENGTH];
  g_autofree char *salt_b64 = NULL;
  g_autofree char *key_b64 = NULL;

  if (!derive (word, g_bytes_get_data (salt, NULL), 16, IMZALA_PORTAL_SECURITY_WORD_ITERATIONS, key))
    return NULL;
  salt_b64 = g_base64_encode (g_bytes_get_data (salt, NULL), 16);
  key_b64 = g_base64_encode (key, sizeof key);
  OPENSSL_cleanse (key, sizeof key);
  return g_strdup_printf ("pbkdf2-sha256$%u$%s$%s", IMZALA_PORTAL_SECURITY_WORD_ITERATIONS,
                          salt_b64, key_b64);
}

gboolean
imzala_portal_security_word_verify (const char *word, const char *stored)
{
  g_auto(GStrv) parts = NULL;
  g_autofree guint8 *salt = NULL;
  g_autofree guint8 *expected = NULL;
  gsize salt_length = 0, expected_length = 0;
  guint64 iterations;
  guint8 key[KEY_LENGTH];
  gboolean equal;

  if (word == NULL || stored == NULL)
    return FALSE;
  parts = g_strsplit (stored, "$", 4);
  if (g_strv_length (parts) != 4 || g_strcmp0 (parts[0], "pbkdf2-sha256") != 0)
    return FALSE;
  iterations = g_ascii_strtoull (parts[1], NULL, 10);
  if (iterations == 0 || iterations > 10000000)
    return FALSE;
  salt = g_base64_decode (parts[2], &salt_length);
  expected = g_base64_decode (parts[3], &expected_length);
  if (expected_length != KEY_LENGTH || !derive (word, salt, salt_length, (guint) iterations, key))
    return FALSE;
  equal = CRYPTO_memcmp (key, expected, KEY_LENGTH) == 0;
  OPENSSL_cleanse (key, sizeof key);
  return equal;
}
