/* imzala-pkcs11-object.c: reading attributes and finding objects on a token,
 * and matching a key object to a certificate's public key. Shared by
 * certificate reading (imzala-token.c) and key lookup (imzala-token-sign.c).
 * The callers hold the module lock.
 */
#define G_LOG_DOMAIN "imzala-pkcs11"

#include "config.h"

#include <string.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>

#include "imzala-pkcs11-private.h"

/* The largest attribute value read from a token. Certificates, IDs, labels
 * and public keys are a few kilobytes at most. */
#define MAX_ATTRIBUTE_SIZE (1024 * 1024)

/* ---- Object access (the module lock is held by the callers) ---- */

GBytes *
imzala_pkcs11_get_attribute (CK_FUNCTION_LIST  *functions,
                             CK_SESSION_HANDLE  session,
                             CK_OBJECT_HANDLE   object,
                             CK_ATTRIBUTE_TYPE  type)
{
  CK_ATTRIBUTE attribute = { type, NULL, 0 };
  guint8 *value;
  CK_ULONG allocated;
  CK_RV rv;

  rv = functions->C_GetAttributeValue (session, object, &attribute, 1);
  if (rv != CKR_OK || attribute.ulValueLen == CK_UNAVAILABLE_INFORMATION)
    return NULL;
  /* The module is not trusted with our memory: a length no attribute we
   * read can have would make g_malloc() abort the program. */
  if (attribute.ulValueLen > MAX_ATTRIBUTE_SIZE)
    {
      g_debug ("Attribute 0x%lx claims %lu bytes; ignored",
               (gulong) type, (gulong) attribute.ulValueLen);
      return NULL;
    }

  allocated = MAX (attribute.ulValueLen, 1);
  value = g_malloc (allocated);
  attribute.pValue = value;
  attribute.ulValueLen = allocated;
  rv = functions->C_GetAttributeValue (session, object, &attribute, 1);
  /* A module that says it wrote more than the buffer holds is lying or has
   * overrun it; trusting the length would read past the allocation. */
  if (rv != CKR_OK || attribute.ulValueLen == CK_UNAVAILABLE_INFORMATION
      || attribute.ulValueLen > allocated)
    {
      if (rv == CKR_OK)
        g_debug ("Attribute 0x%lx claims %lu bytes in a buffer of %lu; ignored",
                 (gulong) type, (gulong) attribute.ulValueLen, (gulong) allocated);
      g_free (value);
      return NULL;
    }
  return g_bytes_new_take (value, attribute.ulValueLen);
}

gboolean
imzala_pkcs11_get_bool_attribute (CK_FUNCTION_LIST  *functions,
                                  CK_SESSION_HANDLE  session,
                                  CK_OBJECT_HANDLE   object,
                                  CK_ATTRIBUTE_TYPE  type)
{
  CK_BBOOL value = CK_FALSE;
  CK_ATTRIBUTE attribute = { type, &value, sizeof value };

  if (functions->C_GetAttributeValue (session, object, &attribute, 1) != CKR_OK)
    return FALSE;
  return value == CK_TRUE;
}

char *
imzala_pkcs11_get_label_attribute (CK_FUNCTION_LIST  *functions,
                                   CK_SESSION_HANDLE  session,
                                   CK_OBJECT_HANDLE   object)
{
  g_autoptr(GBytes) bytes = imzala_pkcs11_get_attribute (functions, session, object, CKA_LABEL);
  gsize size;
  const char *data;

  if (bytes == NULL)
    return NULL;
  data = g_bytes_get_data (bytes, &size);
  return g_utf8_make_valid (data != NULL ? data : "", size);
}

GArray *
imzala_pkcs11_find_objects (CK_FUNCTION_LIST  *functions,
                            CK_SESSION_HANDLE  session,
                            CK_ATTRIBUTE      *template,
                            CK_ULONG           n_template,
                            CK_RV             *rv_out)
{
  g_autoptr(GArray) handles = g_array_new (FALSE, FALSE, sizeof (CK_OBJECT_HANDLE));
  CK_RV rv;

  rv = functions->C_FindObjectsInit (session, template, n_template);
  if (rv == CKR_OK)
    {
      for (;;)
        {
          CK_OBJECT_HANDLE batch[32];
          CK_ULONG n = 0;

          rv = functions->C_FindObjects (session, batch, G_N_ELEMENTS (batch), &n);
          if (rv != CKR_OK || n == 0)
            break;
          g_array_append_vals (handles, batch, n);
        }
      functions->C_FindObjectsFinal (session);
    }

  *rv_out = rv;
  if (rv != CKR_OK)
    return NULL;
  return g_steal_pointer (&handles);
}

/* ---- Matching a key object to a certificate ---- */

/* The certificate's public key as the token stores it: the RSA modulus
 * (CKA_MODULUS) or the EC point (CKA_EC_POINT). */
GBytes *
imzala_pkcs11_certificate_key_material (X509     *x509,
                                        gboolean *is_ec)
{
  EVP_PKEY *pkey = X509_get0_pubkey (x509);

  *is_ec = FALSE;
  if (pkey == NULL)
    return NULL;

  if (EVP_PKEY_is_a (pkey, "RSA"))
    {
      BIGNUM *n = NULL;
      GBytes *bytes;
      guint8 *data;
      int size;

      if (!EVP_PKEY_get_bn_param (pkey, OSSL_PKEY_PARAM_RSA_N, &n))
        return NULL;
      size = BN_num_bytes (n);
      data = g_malloc (MAX (size, 1));
      BN_bn2bin (n, data);
      BN_free (n);
      bytes = g_bytes_new_take (data, size);
      return bytes;
    }

  if (EVP_PKEY_is_a (pkey, "EC"))
    {
      guint8 point[256];
      size_t length = 0;

      if (!EVP_PKEY_get_octet_string_param (pkey, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY,
                                            point, sizeof point, &length))
        return NULL;
      *is_ec = TRUE;
      return g_bytes_new (point, length);
    }

  return NULL;
}

static gboolean
modulus_equal (GBytes *token_value,
               GBytes *certificate_value)
{
  gsize token_size, certificate_size;
  const guint8 *token_data = g_bytes_get_data (token_value, &token_size);
  const guint8 *certificate_data = g_bytes_get_data (certificate_value, &certificate_size);

  /* Some tokens keep a leading zero byte on the modulus. */
  while (token_size > 0 && token_data[0] == 0)
    {
      token_data++;
      token_size--;
    }
  return token_size == certificate_size
         && memcmp (token_data, certificate_data, token_size) == 0;
}

static gboolean
ec_point_equal (GBytes *token_value,
                GBytes *certificate_point)
{
  gsize token_size, point_size;
  const guint8 *token_data = g_bytes_get_data (token_value, &token_size);
  const guint8 *point = g_bytes_get_data (certificate_point, &point_size);
  gsize header;

  /* PKCS#11 says CKA_EC_POINT is a DER OCTET STRING around the point; a few
   * modules store the bare point. Accept both. */
  if (token_size == point_size && memcmp (token_data, point, point_size) == 0)
    return TRUE;

  if (point_size < 0x80)
    header = 2;
  else if (point_size < 0x100)
    header = 3;
  else
    return FALSE;

  if (token_size != header + point_size || token_data[0] != 0x04)
    return FALSE;
  if (header == 2 && token_data[1] != point_size)
    return FALSE;
  if (header == 3 && (token_data[1] != 0x81 || token_data[2] != point_size))
    return FALSE;
  return memcmp (token_data + header, point, point_size) == 0;
}

gboolean
imzala_pkcs11_key_object_matches (CK_FUNCTION_LIST  *functions,
                                  CK_SESSION_HANDLE  session,
                                  CK_OBJECT_HANDLE   object,
                                  GBytes            *material,
                                  gboolean           is_ec)
{
  g_autoptr(GBytes) value = NULL;

  if (material == NULL)
    return FALSE;
  value = imzala_pkcs11_get_attribute (functions, session, object, is_ec ? CKA_EC_POINT : CKA_MODULUS);
  if (value == NULL)
    return FALSE;
  return is_ec ? ec_point_equal (value, material) : modulus_equal (value, material);
}

