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


/* ---- Several attributes per call ---- */

gboolean
imzala_pkcs11_get_attributes (CK_FUNCTION_LIST        *functions,
                              CK_SESSION_HANDLE        session,
                              CK_OBJECT_HANDLE         object,
                              const CK_ATTRIBUTE_TYPE *types,
                              guint                    n_types,
                              GBytes                 **values)
{
  g_autofree CK_ATTRIBUTE *sizes = g_new0 (CK_ATTRIBUTE, n_types);
  g_autofree CK_ATTRIBUTE *fetch = g_new0 (CK_ATTRIBUTE, n_types);
  g_autofree guint *index = g_new0 (guint, n_types);
  CK_ULONG n_fetch = 0;
  gboolean ok = TRUE;
  CK_RV rv;

  for (guint i = 0; i < n_types; i++)
    {
      sizes[i].type = types[i];
      values[i] = NULL;
    }

  /* Only a plain CKR_OK is trusted: with CKR_ATTRIBUTE_TYPE_INVALID or
   * _SENSITIVE the standard wants every other length filled in, but some
   * modules stop at the first bad one, and the caller asks one by one then. */
  rv = functions->C_GetAttributeValue (session, object, sizes, n_types);
  if (rv != CKR_OK)
    return FALSE;

  for (guint i = 0; i < n_types; i++)
    {
      CK_ULONG length = sizes[i].ulValueLen;

      if (length == CK_UNAVAILABLE_INFORMATION)
        continue;
      /* The module is not trusted with our memory, as in
       * imzala_pkcs11_get_attribute(). */
      if (length > MAX_ATTRIBUTE_SIZE)
        {
          g_debug ("Attribute 0x%lx claims %lu bytes; ignored",
                   (gulong) types[i], (gulong) length);
          continue;
        }
      fetch[n_fetch].type = types[i];
      fetch[n_fetch].ulValueLen = MAX (length, 1);
      fetch[n_fetch].pValue = g_malloc (fetch[n_fetch].ulValueLen);
      sizes[i].ulValueLen = fetch[n_fetch].ulValueLen; /* what was allocated */
      index[n_fetch] = i;
      n_fetch++;
    }

  if (n_fetch > 0)
    {
      rv = functions->C_GetAttributeValue (session, object, fetch, n_fetch);
      ok = rv == CKR_OK;
    }

  for (CK_ULONG j = 0; j < n_fetch; j++)
    {
      guint i = index[j];

      /* A length beyond the buffer is a lie or an overrun: the whole answer
       * is suspect, and the caller asks one by one. */
      if (ok && (fetch[j].ulValueLen == CK_UNAVAILABLE_INFORMATION
                 || fetch[j].ulValueLen > sizes[i].ulValueLen))
        {
          g_debug ("Attribute 0x%lx claims %lu bytes in a buffer of %lu",
                   (gulong) types[i], (gulong) fetch[j].ulValueLen, (gulong) sizes[i].ulValueLen);
          ok = FALSE;
        }
    }

  for (CK_ULONG j = 0; j < n_fetch; j++)
    {
      if (ok)
        values[index[j]] = g_bytes_new_take (fetch[j].pValue, fetch[j].ulValueLen);
      else
        g_free (fetch[j].pValue);
    }
  if (!ok)
    for (guint i = 0; i < n_types; i++)
      g_clear_pointer (&values[i], g_bytes_unref);
  return ok;
}

void
imzala_pkcs11_get_certificate_attributes (CK_FUNCTION_LIST   *functions,
                                          CK_SESSION_HANDLE   session,
                                          CK_OBJECT_HANDLE    object,
                                          GBytes            **value,
                                          GBytes            **id,
                                          char              **label)
{
  static const CK_ATTRIBUTE_TYPE types[] = { CKA_VALUE, CKA_ID, CKA_LABEL };
  GBytes *values[G_N_ELEMENTS (types)];

  if (imzala_pkcs11_get_attributes (functions, session, object, types, G_N_ELEMENTS (types), values))
    {
      *value = values[0];
      *id = values[1];
      *label = NULL;
      if (values[2] != NULL)
        {
          gsize size;
          const char *data = g_bytes_get_data (values[2], &size);

          *label = g_utf8_make_valid (data != NULL ? data : "", size);
          g_bytes_unref (values[2]);
        }
      return;
    }

  /* The module refused the batch: one attribute at a time. */
  *value = imzala_pkcs11_get_attribute (functions, session, object, CKA_VALUE);
  *id = *value != NULL ? imzala_pkcs11_get_attribute (functions, session, object, CKA_ID) : NULL;
  *label = *value != NULL ? imzala_pkcs11_get_label_attribute (functions, session, object) : NULL;
}
