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
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509v3.h>

#include "imzala-pkcs11-private.h"

/* The largest attribute value read from a token. Certificates, IDs, labels
 * and public keys are a few kilobytes at most. */
#define MAX_ATTRIBUTE_SIZE (1024 * 1024)

/* ---- Object access (the module lock is held by the callers) ---- */

/* How often a size query and read are tried again when the module answers
 * CKR_BUFFER_TOO_SMALL (a length one byte short, a value that grew). */
#define MAX_ATTRIBUTE_TRIES 3

GBytes *
imzala_pkcs11_get_attribute (CK_FUNCTION_LIST  *functions,
                             CK_SESSION_HANDLE  session,
                             CK_OBJECT_HANDLE   object,
                             CK_ATTRIBUTE_TYPE  type)
{
  for (guint attempt = 0; attempt < MAX_ATTRIBUTE_TRIES; attempt++)
    {
      CK_ATTRIBUTE attribute = { type, NULL, 0 };
      guint8 *value;
      CK_ULONG allocated;
      CK_RV rv;

      rv = functions->C_GetAttributeValue (session, object, &attribute, 1);
      /* Some modules answer a size query with CKR_BUFFER_TOO_SMALL and the
       * length filled in: the length is what counts. */
      if ((rv != CKR_OK && rv != CKR_BUFFER_TOO_SMALL)
          || attribute.ulValueLen == CK_UNAVAILABLE_INFORMATION)
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
      if (rv == CKR_BUFFER_TOO_SMALL)
        {
          /* The size it gave was short: ask again, a few times at most. */
          g_debug ("Attribute 0x%lx does not fit the %lu bytes its size query gave; asking again",
                   (gulong) type, (gulong) allocated);
          g_free (value);
          continue;
        }
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

  g_debug ("Attribute 0x%lx: the module kept answering CKR_BUFFER_TOO_SMALL", (gulong) type);
  return NULL;
}

void
imzala_pkcs11_get_attributes (CK_FUNCTION_LIST        *functions,
                              CK_SESSION_HANDLE        session,
                              CK_OBJECT_HANDLE         object,
                              const CK_ATTRIBUTE_TYPE *types,
                              guint                    n_types,
                              GBytes                 **values)
{
  g_autofree CK_ATTRIBUTE *template = g_new0 (CK_ATTRIBUTE, n_types);
  gboolean batched = TRUE;
  CK_RV rv;

  for (guint i = 0; i < n_types; i++)
    {
      template[i].type = types[i];
      values[i] = NULL;
    }

  /* Two calls for all of them where the module allows; any trouble (an
   * attribute the object lacks or keeps secret, which many modules answer
   * for the whole call, a length to doubt) and each is read on its own. */
  rv = functions->C_GetAttributeValue (session, object, template, n_types);
  if (rv != CKR_OK && rv != CKR_BUFFER_TOO_SMALL)
    batched = FALSE;
  for (guint i = 0; i < n_types && batched; i++)
    {
      if (template[i].ulValueLen == CK_UNAVAILABLE_INFORMATION
          || template[i].ulValueLen > MAX_ATTRIBUTE_SIZE)
        batched = FALSE;
      else
        {
          template[i].ulValueLen = MAX (template[i].ulValueLen, 1);
          template[i].pValue = g_malloc (template[i].ulValueLen);
          values[i] = g_bytes_new_take (template[i].pValue, template[i].ulValueLen);
        }
    }
  if (batched)
    {
      rv = functions->C_GetAttributeValue (session, object, template, n_types);
      for (guint i = 0; i < n_types && rv == CKR_OK; i++)
        if (template[i].ulValueLen == CK_UNAVAILABLE_INFORMATION
            || template[i].ulValueLen > g_bytes_get_size (values[i]))
          rv = CKR_GENERAL_ERROR;
      batched = rv == CKR_OK;
    }
  if (batched)
    {
      for (guint i = 0; i < n_types; i++)
        {
          GBytes *whole = values[i];

          values[i] = g_bytes_new_from_bytes (whole, 0, template[i].ulValueLen);
          g_bytes_unref (whole);
        }
      return;
    }

  for (guint i = 0; i < n_types; i++)
    {
      g_clear_pointer (&values[i], g_bytes_unref);
      values[i] = imzala_pkcs11_get_attribute (functions, session, object, types[i]);
    }
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

/* ---- Pairing a certificate with its key ---- */

void
imzala_pkcs11_key_clear (ImzalaPkcs11Key *key)
{
  g_clear_pointer (&key->id, g_bytes_unref);
  g_clear_pointer (&key->label, g_free);
  g_clear_pointer (&key->material, g_bytes_unref);
  g_clear_pointer (&key->ec_params, g_bytes_unref);
}

static CK_ULONG
bytes_to_ulong (GBytes *bytes)
{
  CK_ULONG value = CK_UNAVAILABLE_INFORMATION;

  if (bytes != NULL && g_bytes_get_size (bytes) == sizeof value)
    memcpy (&value, g_bytes_get_data (bytes, NULL), sizeof value);
  return value;
}

void
imzala_pkcs11_read_key (CK_FUNCTION_LIST  *functions,
                        CK_SESSION_HANDLE  session,
                        CK_OBJECT_HANDLE   handle,
                        CK_OBJECT_CLASS    klass,
                        ImzalaPkcs11Key   *key)
{
  static const CK_ATTRIBUTE_TYPE common[] = { CKA_KEY_TYPE, CKA_ID, CKA_LABEL };
  static const CK_ATTRIBUTE_TYPE ec[] = { CKA_EC_POINT, CKA_EC_PARAMS };
  GBytes *values[G_N_ELEMENTS (common)];

  memset (key, 0, sizeof *key);
  key->handle = handle;
  key->klass = klass;
  imzala_pkcs11_get_attributes (functions, session, handle, common, G_N_ELEMENTS (common), values);
  key->key_type = bytes_to_ulong (values[0]);
  g_clear_pointer (&values[0], g_bytes_unref);
  if (values[1] != NULL && g_bytes_get_size (values[1]) > 0)
    key->id = g_steal_pointer (&values[1]);
  g_clear_pointer (&values[1], g_bytes_unref);
  if (values[2] != NULL)
    {
      gsize size;
      const char *data = g_bytes_get_data (values[2], &size);

      key->label = g_utf8_make_valid (data != NULL ? data : "", size);
      g_bytes_unref (values[2]);
    }

  if (key->key_type == CKK_RSA)
    key->material = imzala_pkcs11_get_attribute (functions, session, handle, CKA_MODULUS);
  else if (key->key_type == CKK_EC)
    {
      GBytes *ec_values[G_N_ELEMENTS (ec)];

      imzala_pkcs11_get_attributes (functions, session, handle, ec, G_N_ELEMENTS (ec), ec_values);
      key->material = ec_values[0];
      key->ec_params = ec_values[1];
    }
}

GArray *
imzala_pkcs11_new_key_array (void)
{
  GArray *keys = g_array_new (FALSE, TRUE, sizeof (ImzalaPkcs11Key));

  g_array_set_clear_func (keys, (GDestroyNotify) imzala_pkcs11_key_clear);
  return keys;
}

GArray *
imzala_pkcs11_read_keys (CK_FUNCTION_LIST  *functions,
                         CK_SESSION_HANDLE  session,
                         CK_OBJECT_CLASS    klass,
                         CK_RV             *rv_out)
{
  CK_ATTRIBUTE template[] = { { CKA_CLASS, &klass, sizeof klass } };
  g_autoptr(GArray) handles = NULL;
  GArray *keys;

  handles = imzala_pkcs11_find_objects (functions, session, template, 1, rv_out);
  if (handles == NULL)
    return NULL;

  keys = imzala_pkcs11_new_key_array ();
  for (guint i = 0; i < handles->len; i++)
    {
      ImzalaPkcs11Key key;

      imzala_pkcs11_read_key (functions, session, g_array_index (handles, CK_OBJECT_HANDLE, i), klass, &key);
      g_array_append_val (keys, key);
    }
  return keys;
}

/* The DER OID of the certificate's curve, to compare with CKA_EC_PARAMS. */
static GBytes *
certificate_ec_params (X509 *x509)
{
  EVP_PKEY *pkey = X509_get0_pubkey (x509);
  char name[80];
  int nid;
  ASN1_OBJECT *oid;
  unsigned char *der = NULL;
  int length;
  GBytes *bytes;

  if (pkey == NULL || !EVP_PKEY_get_utf8_string_param (pkey, OSSL_PKEY_PARAM_GROUP_NAME,
                                                        name, sizeof name, NULL))
    return NULL;
  nid = OBJ_sn2nid (name);
  if (nid == NID_undef)
    nid = OBJ_ln2nid (name);
  if (nid == NID_undef)
    nid = EC_curve_nist2nid (name);
  oid = nid != NID_undef ? OBJ_nid2obj (nid) : NULL;
  if (oid == NULL)
    return NULL;
  length = i2d_ASN1_OBJECT (oid, &der);
  if (length <= 0)
    return NULL;
  bytes = g_bytes_new (der, length);
  OPENSSL_free (der);
  return bytes;
}

typedef struct
{
  GBytes *material;
  gboolean is_ec;
  GBytes *ec_params;
  gboolean signs;
} Wanted;

/* Whether @key can be the certificate's: the right type, and neither its
 * public value nor its curve (when the module shows them) says otherwise. */
static gboolean
key_fits (const ImzalaPkcs11Key *key,
          const Wanted          *wanted)
{
  if (key->key_type != CK_UNAVAILABLE_INFORMATION
      && key->key_type != (wanted->is_ec ? CKK_EC : CKK_RSA))
    return FALSE;
  if (key->material != NULL && wanted->material != NULL)
    {
      if (wanted->is_ec ? !ec_point_equal (key->material, wanted->material)
                        : !modulus_equal (key->material, wanted->material))
        return FALSE;
    }
  if (wanted->is_ec && key->ec_params != NULL && wanted->ec_params != NULL
      && !g_bytes_equal (key->ec_params, wanted->ec_params))
    return FALSE;
  return TRUE;
}

/* Whether @key shows the certificate's public key itself. */
static gboolean
key_proven (const ImzalaPkcs11Key *key,
            const Wanted          *wanted)
{
  return key->material != NULL && wanted->material != NULL && key_fits (key, wanted);
}

/* The AKİS label conventions (<TCKN>NES0, <VKN>SIGN0, ENCR0) as a hint
 * only: 1 when the label names the role the certificate has (signing or
 * encryption), -1 for the other role, 0 when it says nothing. Never proof:
 * a label is whatever the card's personaliser wrote. */
static int
label_hint (const char *label,
            gboolean    signs)
{
  gboolean sign_label, encryption_label;

  if (label == NULL)
    return 0;
  sign_label = strstr (label, "NES") != NULL || strstr (label, "SIGN") != NULL;
  encryption_label = strstr (label, "ENCR") != NULL;
  if (sign_label == encryption_label)
    return 0;
  return sign_label == signs ? 1 : -1;
}

/* The best of the keys that passed a step: one that shows the public key,
 * then the one whose label hints at the certificate's role, then the first. */
static gint
best_candidate (GArray       *keys,
                GArray       *candidates,
                const Wanted *wanted)
{
  gint best = -1;
  int best_score = G_MININT;

  for (guint i = 0; i < candidates->len; i++)
    {
      guint index = g_array_index (candidates, guint, i);
      const ImzalaPkcs11Key *key = &g_array_index (keys, ImzalaPkcs11Key, index);
      int score = (key_proven (key, wanted) ? 4 : 0) + label_hint (key->label, wanted->signs);

      if (score > best_score)
        {
          best = index;
          best_score = score;
        }
    }
  return best;
}

ImzalaKeyPairing
imzala_pkcs11_pair_key (GArray     *keys,
                        GArray     *public_keys,
                        X509       *x509,
                        GBytes     *id,
                        const char *label,
                        guint      *index_out)
{
  g_autoptr(GArray) candidates = g_array_new (FALSE, FALSE, sizeof (guint));
  g_autoptr(GBytes) material = NULL;
  g_autoptr(GBytes) ec_params = NULL;
  Wanted wanted = { 0 };
  gint best;
  int usage;

  material = imzala_pkcs11_certificate_key_material (x509, &wanted.is_ec);
  if (material == NULL)
    return IMZALA_KEY_PAIRING_NONE;
  wanted.material = material;
  if (wanted.is_ec)
    wanted.ec_params = ec_params = certificate_ec_params (x509);
  usage = X509_get_key_usage (x509);
  wanted.signs = usage == -1 || (usage & (KU_NON_REPUDIATION | KU_DIGITAL_SIGNATURE)) != 0;

  /* 1. By CKA_ID; of two keys with one CKA_ID, the one that fits. */
  if (id != NULL && g_bytes_get_size (id) > 0)
    {
      for (guint i = 0; i < keys->len; i++)
        {
          const ImzalaPkcs11Key *key = &g_array_index (keys, ImzalaPkcs11Key, i);

          if (key->id != NULL && g_bytes_equal (key->id, id) && key_fits (key, &wanted))
            g_array_append_val (candidates, i);
        }
      best = best_candidate (keys, candidates, &wanted);
      if (best >= 0)
        {
          *index_out = best;
          return IMZALA_KEY_PAIRING_BY_ID;
        }
    }

  /* 2. By the public key: a key that shows it, or (an EC private key shows
   * no point) a key sharing CKA_ID or label with a public key that does. */
  for (guint i = 0; i < keys->len; i++)
    if (key_proven (&g_array_index (keys, ImzalaPkcs11Key, i), &wanted))
      g_array_append_val (candidates, i);
  for (guint p = 0; public_keys != NULL && p < public_keys->len && candidates->len == 0; p++)
    {
      const ImzalaPkcs11Key *public_key = &g_array_index (public_keys, ImzalaPkcs11Key, p);

      if (!key_proven (public_key, &wanted))
        continue;
      for (guint i = 0; i < keys->len; i++)
        {
          const ImzalaPkcs11Key *key = &g_array_index (keys, ImzalaPkcs11Key, i);

          if (!key_fits (key, &wanted))
            continue;
          if ((public_key->id != NULL && key->id != NULL && g_bytes_equal (public_key->id, key->id))
              || (public_key->id == NULL && public_key->label != NULL && *public_key->label != '\0'
                  && g_strcmp0 (public_key->label, key->label) == 0))
            g_array_append_val (candidates, i);
        }
    }
  best = best_candidate (keys, candidates, &wanted);
  if (best >= 0)
    {
      *index_out = best;
      return IMZALA_KEY_PAIRING_BY_PUBLIC_KEY;
    }

  /* 3. By label, when nothing the module shows says otherwise. */
  if (label != NULL && *label != '\0')
    {
      for (guint i = 0; i < keys->len; i++)
        {
          const ImzalaPkcs11Key *key = &g_array_index (keys, ImzalaPkcs11Key, i);

          if (g_strcmp0 (key->label, label) == 0 && key_fits (key, &wanted))
            g_array_append_val (candidates, i);
        }
      best = best_candidate (keys, candidates, &wanted);
      if (best >= 0)
        {
          *index_out = best;
          return IMZALA_KEY_PAIRING_BY_LABEL;
        }
    }

  return IMZALA_KEY_PAIRING_NONE;
}

/* ---- A certificate object's attributes ---- */

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

  /* Batched where the module allows, one by one where it does not. */
  imzala_pkcs11_get_attributes (functions, session, object, types, G_N_ELEMENTS (types), values);
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
  if (*value == NULL)
    {
      g_clear_pointer (id, g_bytes_unref);
      g_clear_pointer (label, g_free);
    }
}

gboolean
imzala_pkcs11_uri_names_object (P11KitUri  *uri,
                                GBytes     *id,
                                const char *label)
{
  CK_ATTRIBUTE *klass_attribute;
  CK_ATTRIBUTE attributes[2];
  CK_ULONG n_attributes = 0;

  /* A URI may name the certificate or its key pair (type=private, as some
   * tools print it): both mean this certificate when the id matches. */
  klass_attribute = p11_kit_uri_get_attribute (uri, CKA_CLASS);
  if (klass_attribute != NULL && klass_attribute->ulValueLen == sizeof (CK_OBJECT_CLASS))
    {
      CK_OBJECT_CLASS klass = *(CK_OBJECT_CLASS *) klass_attribute->pValue;

      if (klass != CKO_CERTIFICATE && klass != CKO_PRIVATE_KEY && klass != CKO_PUBLIC_KEY)
        return FALSE;
    }

  if (id != NULL)
    {
      gsize size;

      attributes[n_attributes].type = CKA_ID;
      attributes[n_attributes].pValue = (gpointer) g_bytes_get_data (id, &size);
      attributes[n_attributes].ulValueLen = size;
      n_attributes++;
    }
  if (label != NULL)
    {
      attributes[n_attributes].type = CKA_LABEL;
      attributes[n_attributes].pValue = (gpointer) label;
      attributes[n_attributes].ulValueLen = strlen (label);
      n_attributes++;
    }

  /* The URI's id and object must be present and equal; p11-kit skips the
   * attributes it is not given, so a certificate without a CKA_ID does not
   * match a URI that names one. */
  if (id == NULL && p11_kit_uri_get_attribute (uri, CKA_ID) != NULL)
    return FALSE;
  if (label == NULL && p11_kit_uri_get_attribute (uri, CKA_LABEL) != NULL)
    return FALSE;

  return p11_kit_uri_match_attributes (uri, attributes, n_attributes);
}

P11KitUri *
imzala_pkcs11_uri_parse (const char *selector)
{
  P11KitUri *uri;
  int ret;

  if (selector == NULL || !g_str_has_prefix (selector, "pkcs11:"))
    return NULL;
  uri = p11_kit_uri_new ();
  ret = p11_kit_uri_parse (selector, P11_KIT_URI_FOR_ANY, uri);
  if (ret == P11_KIT_URI_OK && !p11_kit_uri_any_unrecognized (uri))
    return uri;
  g_debug ("p11_kit_uri_parse: %s", p11_kit_uri_message (ret));
  p11_kit_uri_free (uri);
  return NULL;
}
