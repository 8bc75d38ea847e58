#define G_LOG_DOMAIN "imzala-pkcs11"

#include "config.h"

#include <string.h>
#include <glib/gi18n-lib.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>

#include "imzala-error.h"
#include "imzala-pkcs11-private.h"
#include "imzala-token.h"

/* The largest attribute value read from a token. Certificates, IDs, labels
 * and public keys are a few kilobytes at most. */
#define MAX_ATTRIBUTE_SIZE (1024 * 1024)

struct _ImzalaToken
{
  GObject parent_instance;

  ImzalaModule *module;
  CK_SLOT_ID slot;
  CK_SLOT_INFO slot_info;

  /* CK_TOKEN_INFO changes (PIN flags) when refreshed from a worker thread;
   * the strings below are made once and never change. */
  GMutex info_lock;
  CK_TOKEN_INFO token_info;

  char *slot_description;
  char *label;
  char *manufacturer;
  char *model;
  char *serial;

  GPtrArray *certificates;
};

G_DEFINE_FINAL_TYPE (ImzalaToken, imzala_token, G_TYPE_OBJECT)

static void
imzala_token_finalize (GObject *object)
{
  ImzalaToken *self = IMZALA_TOKEN (object);

  g_clear_pointer (&self->certificates, g_ptr_array_unref);
  g_clear_object (&self->module);
  g_free (self->slot_description);
  g_free (self->label);
  g_free (self->manufacturer);
  g_free (self->model);
  g_free (self->serial);
  g_mutex_clear (&self->info_lock);

  G_OBJECT_CLASS (imzala_token_parent_class)->finalize (object);
}

static void
imzala_token_class_init (ImzalaTokenClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = imzala_token_finalize;
}

static void
imzala_token_init (ImzalaToken *self)
{
  g_mutex_init (&self->info_lock);
  self->certificates = g_ptr_array_new_with_free_func (g_object_unref);
}

/* ---- Errors ---- */

static ImzalaPinState
pin_state_from_flags (CK_FLAGS flags)
{
  ImzalaPinState state = IMZALA_PIN_STATE_OK;

  if (flags & CKF_USER_PIN_COUNT_LOW)
    state |= IMZALA_PIN_STATE_COUNT_LOW;
  if (flags & CKF_USER_PIN_FINAL_TRY)
    state |= IMZALA_PIN_STATE_FINAL_TRY;
  if (flags & CKF_USER_PIN_LOCKED)
    state |= IMZALA_PIN_STATE_LOCKED;
  if (flags & CKF_USER_PIN_TO_BE_CHANGED)
    state |= IMZALA_PIN_STATE_TO_BE_CHANGED;
  if (flags & CKF_SO_PIN_COUNT_LOW)
    state |= IMZALA_PIN_STATE_PUK_COUNT_LOW;
  if (flags & CKF_SO_PIN_FINAL_TRY)
    state |= IMZALA_PIN_STATE_PUK_FINAL_TRY;
  if (flags & CKF_SO_PIN_LOCKED)
    state |= IMZALA_PIN_STATE_PUK_LOCKED;
  return state;
}

static void
set_pin_incorrect_error (GError       **error,
                         ImzalaPinState state,
                         gboolean       puk)
{
  if (puk)
    {
      if (state & IMZALA_PIN_STATE_PUK_LOCKED)
        g_set_error_literal (error, IMZALA_ERROR, IMZALA_ERROR_PUK_LOCKED,
                             _("The PUK is incorrect, and it is now blocked. Contact your certificate provider."));
      else if (state & IMZALA_PIN_STATE_PUK_FINAL_TRY)
        g_set_error_literal (error, IMZALA_ERROR, IMZALA_ERROR_PUK_INCORRECT,
                             _("The PUK is incorrect. Only one try is left before it is blocked."));
      else if (state & IMZALA_PIN_STATE_PUK_COUNT_LOW)
        g_set_error_literal (error, IMZALA_ERROR, IMZALA_ERROR_PUK_INCORRECT,
                             _("The PUK is incorrect. Only a few tries are left before it is blocked."));
      else
        g_set_error_literal (error, IMZALA_ERROR, IMZALA_ERROR_PUK_INCORRECT,
                             _("The PUK is incorrect."));
      return;
    }

  if (state & IMZALA_PIN_STATE_LOCKED)
    g_set_error_literal (error, IMZALA_ERROR, IMZALA_ERROR_PIN_LOCKED,
                         _("The PIN is incorrect, and it is now blocked. Unblock it with your PUK."));
  else if (state & IMZALA_PIN_STATE_FINAL_TRY)
    g_set_error_literal (error, IMZALA_ERROR, IMZALA_ERROR_PIN_INCORRECT,
                         _("The PIN is incorrect. Only one try is left before the PIN is blocked."));
  else if (state & IMZALA_PIN_STATE_COUNT_LOW)
    g_set_error_literal (error, IMZALA_ERROR, IMZALA_ERROR_PIN_INCORRECT,
                         _("The PIN is incorrect. Only a few tries are left before the PIN is blocked."));
  else
    g_set_error_literal (error, IMZALA_ERROR, IMZALA_ERROR_PIN_INCORRECT,
                         _("The PIN is incorrect."));
}

static void
set_pin_length_error (GError      **error,
                      ImzalaToken  *token)
{
  guint min = token != NULL ? imzala_token_get_min_pin_length (token) : 0;
  guint max = token != NULL ? imzala_token_get_max_pin_length (token) : 0;

  if (min > 0 && max >= min && max <= IMZALA_SECRET_MAX_LENGTH)
    g_set_error (error, IMZALA_ERROR, IMZALA_ERROR_PIN_LEN_RANGE,
                 _("The PIN must be %u to %u characters long for this card."), min, max);
  else if (min > 0)
    g_set_error (error, IMZALA_ERROR, IMZALA_ERROR_PIN_LEN_RANGE,
                 _("The PIN must be at least %u characters long for this card."), min);
  else
    g_set_error_literal (error, IMZALA_ERROR, IMZALA_ERROR_PIN_LEN_RANGE,
                         _("The PIN is too short or too long for this card."));
}

gboolean
imzala_pkcs11_set_error_full (GError      **error,
                              CK_RV         rv,
                              ImzalaToken  *token,
                              CK_USER_TYPE  user,
                              const char   *call)
{
  gboolean puk = user == CKU_SO;

  if (rv == CKR_OK)
    return TRUE;

  g_debug ("%s%s%s: %s (0x%lx)",
           call != NULL ? call : "PKCS#11 call",
           token != NULL ? " on " : "",
           token != NULL ? token->label : "",
           p11_kit_strerror (rv), (gulong) rv);

  switch (rv)
    {
    case CKR_PIN_INCORRECT:
      set_pin_incorrect_error (error,
                               token != NULL ? imzala_token_get_pin_state (token) : IMZALA_PIN_STATE_OK,
                               puk);
      break;

    case CKR_PIN_LOCKED:
      if (puk)
        g_set_error_literal (error, IMZALA_ERROR, IMZALA_ERROR_PUK_LOCKED,
                             _("The PUK is blocked after too many wrong tries. Contact your certificate provider."));
      else
        g_set_error_literal (error, IMZALA_ERROR, IMZALA_ERROR_PIN_LOCKED,
                             _("The PIN is blocked after too many wrong tries. Unblock it with your PUK."));
      break;

    case CKR_PIN_LEN_RANGE:
      set_pin_length_error (error, token);
      break;

    case CKR_PIN_INVALID:
      g_set_error_literal (error, IMZALA_ERROR, IMZALA_ERROR_PIN_INVALID,
                           _("The PIN contains characters that the card does not accept."));
      break;

    case CKR_PIN_EXPIRED:
      g_set_error_literal (error, IMZALA_ERROR, IMZALA_ERROR_PIN_INCORRECT,
                           _("The PIN has expired. Change it before you sign."));
      break;

    case CKR_USER_PIN_NOT_INITIALIZED:
      g_set_error_literal (error, IMZALA_ERROR, IMZALA_ERROR_PIN_LOCKED,
                           _("The card has no PIN yet. Set one with your PUK."));
      break;

    case CKR_DEVICE_REMOVED:
    case CKR_TOKEN_NOT_PRESENT:
    case CKR_SESSION_HANDLE_INVALID:
    case CKR_SESSION_CLOSED:
    case CKR_SLOT_ID_INVALID:
      /* An open session only becomes invalid under us when the card goes
       * away (or the reader with it). */
      g_set_error_literal (error, IMZALA_ERROR, IMZALA_ERROR_TOKEN_REMOVED,
                           _("The card was removed. Insert it again and retry."));
      break;

    case CKR_FUNCTION_CANCELED:
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CANCELLED,
                           _("The operation was cancelled."));
      break;

    case CKR_MECHANISM_INVALID:
    case CKR_MECHANISM_PARAM_INVALID:
    case CKR_KEY_TYPE_INCONSISTENT:
    case CKR_KEY_FUNCTION_NOT_PERMITTED:
    case CKR_KEY_SIZE_RANGE:
      g_set_error_literal (error, IMZALA_ERROR, IMZALA_ERROR_UNSUPPORTED_KEY,
                           _("The card cannot sign with this key in a way İmzala supports."));
      break;

    case CKR_TOKEN_WRITE_PROTECTED:
      g_set_error_literal (error, IMZALA_ERROR, IMZALA_ERROR_MODULE_FAILURE,
                           _("The card is write-protected, so its PIN cannot be changed."));
      break;

    case CKR_TOKEN_NOT_RECOGNIZED:
      g_set_error_literal (error, IMZALA_ERROR, IMZALA_ERROR_MODULE_FAILURE,
                           _("The card in the reader is not recognised by its driver."));
      break;

    default:
      g_set_error_literal (error, IMZALA_ERROR, IMZALA_ERROR_MODULE_FAILURE,
                           _("The card or its driver reported an error. Remove the card, insert it again and retry."));
      break;
    }

  return FALSE;
}

gboolean
imzala_pkcs11_set_error (GError     **error,
                         CK_RV        rv,
                         ImzalaToken *token)
{
  return imzala_pkcs11_set_error_full (error, rv, token, CKU_USER, NULL);
}

/* ---- Object access (the module lock is held by the callers) ---- */

static GBytes *
get_attribute (CK_FUNCTION_LIST  *functions,
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

static gboolean
get_bool_attribute (CK_FUNCTION_LIST  *functions,
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

static char *
get_label_attribute (CK_FUNCTION_LIST  *functions,
                     CK_SESSION_HANDLE  session,
                     CK_OBJECT_HANDLE   object)
{
  g_autoptr(GBytes) bytes = get_attribute (functions, session, object, CKA_LABEL);
  gsize size;
  const char *data;

  if (bytes == NULL)
    return NULL;
  data = g_bytes_get_data (bytes, &size);
  return g_utf8_make_valid (data != NULL ? data : "", size);
}

/* Handles of the objects matching @template, or NULL on error (@rv set). */
static GArray *
find_objects (CK_FUNCTION_LIST  *functions,
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
static GBytes *
certificate_key_material (X509     *x509,
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

static gboolean
key_object_matches (CK_FUNCTION_LIST  *functions,
                    CK_SESSION_HANDLE  session,
                    CK_OBJECT_HANDLE   object,
                    GBytes            *material,
                    gboolean           is_ec)
{
  g_autoptr(GBytes) value = NULL;

  if (material == NULL)
    return FALSE;
  value = get_attribute (functions, session, object, is_ec ? CKA_EC_POINT : CKA_MODULUS);
  if (value == NULL)
    return FALSE;
  return is_ec ? ec_point_equal (value, material) : modulus_equal (value, material);
}

/* ---- Construction ---- */

static char *
padded_to_utf8 (const CK_UTF8CHAR *text,
                gsize              length)
{
  g_autofree char *raw = p11_kit_space_strdup (text, length);

  return g_utf8_make_valid (raw, -1);
}

typedef struct
{
  GBytes *value;
  GBytes *id;
  char *label;
} CertificateObject;

static void
certificate_object_clear (CertificateObject *object)
{
  g_clear_pointer (&object->value, g_bytes_unref);
  g_clear_pointer (&object->id, g_bytes_unref);
  g_clear_pointer (&object->label, g_free);
}

static gboolean
id_in_list (GPtrArray *ids,
            GBytes    *id)
{
  for (guint i = 0; i < ids->len; i++)
    if (g_bytes_equal (g_ptr_array_index (ids, i), id))
      return TRUE;
  return FALSE;
}

/* Reads the certificates and decides which have a private key, without
 * logging in. Cards differ: some show their private keys before login, many
 * hide them (CKA_PRIVATE) but show the public key, some show neither. */
static gboolean
read_certificates_locked (ImzalaToken   *self,
                          GCancellable  *cancellable,
                          GError       **error)
{
  CK_FUNCTION_LIST *functions = imzala_module_get_functions (self->module);
  CK_OBJECT_CLASS certificate_class = CKO_CERTIFICATE;
  CK_CERTIFICATE_TYPE x509_type = CKC_X_509;
  CK_OBJECT_CLASS private_class = CKO_PRIVATE_KEY;
  CK_OBJECT_CLASS public_class = CKO_PUBLIC_KEY;
  CK_ATTRIBUTE certificate_template[] = {
    { CKA_CLASS, &certificate_class, sizeof certificate_class },
    { CKA_CERTIFICATE_TYPE, &x509_type, sizeof x509_type },
  };
  CK_ATTRIBUTE private_template[] = { { CKA_CLASS, &private_class, sizeof private_class } };
  CK_ATTRIBUTE public_template[] = { { CKA_CLASS, &public_class, sizeof public_class } };
  g_autoptr(GArray) objects = g_array_new (FALSE, TRUE, sizeof (CertificateObject));
  g_autoptr(GPtrArray) private_ids = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  g_autoptr(GPtrArray) public_ids = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  g_autoptr(GArray) certificate_handles = NULL;
  g_autoptr(GArray) private_handles = NULL;
  g_autoptr(GArray) public_handles = NULL;
  CK_SESSION_HANDLE session;
  CK_RV rv;

  g_array_set_clear_func (objects, (GDestroyNotify) certificate_object_clear);

  rv = functions->C_OpenSession (self->slot, CKF_SERIAL_SESSION, NULL, NULL, &session);
  if (!imzala_pkcs11_set_error_full (error, rv, self, CKU_USER, "C_OpenSession"))
    return FALSE;

  certificate_handles = find_objects (functions, session, certificate_template,
                                      G_N_ELEMENTS (certificate_template), &rv);
  if (certificate_handles != NULL)
    private_handles = find_objects (functions, session, private_template, 1, &rv);
  if (private_handles != NULL)
    public_handles = find_objects (functions, session, public_template, 1, &rv);
  if (public_handles == NULL)
    {
      functions->C_CloseSession (session);
      return imzala_pkcs11_set_error_full (error, rv, self, CKU_USER, "C_FindObjects");
    }

  for (guint i = 0; i < certificate_handles->len; i++)
    {
      CK_OBJECT_HANDLE handle = g_array_index (certificate_handles, CK_OBJECT_HANDLE, i);
      CertificateObject object = { 0 };

      object.value = get_attribute (functions, session, handle, CKA_VALUE);
      if (object.value == NULL)
        continue;
      object.id = get_attribute (functions, session, handle, CKA_ID);
      object.label = get_label_attribute (functions, session, handle);
      g_array_append_val (objects, object);
    }

  for (guint i = 0; i < private_handles->len; i++)
    {
      GBytes *id = get_attribute (functions, session, g_array_index (private_handles, CK_OBJECT_HANDLE, i), CKA_ID);

      if (id != NULL)
        g_ptr_array_add (private_ids, id);
    }

  for (guint i = 0; i < public_handles->len; i++)
    {
      GBytes *id = get_attribute (functions, session, g_array_index (public_handles, CK_OBJECT_HANDLE, i), CKA_ID);

      if (id != NULL)
        g_ptr_array_add (public_ids, id);
    }

  for (guint i = 0; i < objects->len; i++)
    {
      CertificateObject *object = &g_array_index (objects, CertificateObject, i);
      g_autoptr(GError) parse_error = NULL;
      g_autoptr(ImzalaCertificate) certificate = NULL;
      gboolean has_id = object->id != NULL && g_bytes_get_size (object->id) > 0;
      gboolean has_key = FALSE;

      if (g_cancellable_is_cancelled (cancellable))
        break;

      certificate = imzala_certificate_new_from_der (object->value, &parse_error);
      if (certificate == NULL)
        {
          g_debug ("Skipping a certificate on %s that cannot be read: %s",
                   self->label, parse_error->message);
          continue;
        }

      if (has_id && (id_in_list (private_ids, object->id) || id_in_list (public_ids, object->id)))
        {
          has_key = TRUE;
        }
      else
        {
          g_autoptr(GBytes) material = NULL;
          gboolean is_ec;

          /* The key pair may carry another CKA_ID than its certificate:
           * compare the public key itself. */
          material = certificate_key_material (imzala_certificate_get_x509 (certificate), &is_ec);
          for (guint j = 0; j < public_handles->len && !has_key; j++)
            has_key = key_object_matches (functions, session,
                                          g_array_index (public_handles, CK_OBJECT_HANDLE, j),
                                          material, is_ec);
          for (guint j = 0; j < private_handles->len && !has_key && !is_ec; j++)
            has_key = key_object_matches (functions, session,
                                          g_array_index (private_handles, CK_OBJECT_HANDLE, j),
                                          material, is_ec);

          /* A card that shows no key object at all before login hides them
           * all: assume an end-entity certificate has its key, and let
           * signing find it after login. */
          if (!has_key && private_handles->len == 0 && public_handles->len == 0
              && !imzala_certificate_is_ca (certificate))
            has_key = TRUE;
        }

      imzala_certificate_set_token_binding (certificate, G_OBJECT (self),
                                            has_id ? object->id : NULL,
                                            object->label, has_key);
      g_ptr_array_add (self->certificates, g_steal_pointer (&certificate));
    }

  functions->C_CloseSession (session);

  return !g_cancellable_set_error_if_cancelled (cancellable, error);
}

static gboolean
refresh_locked (ImzalaToken  *self,
                GError      **error)
{
  CK_FUNCTION_LIST *functions = imzala_module_get_functions (self->module);
  CK_TOKEN_INFO info;
  CK_RV rv;

  rv = functions->C_GetTokenInfo (self->slot, &info);
  if (!imzala_pkcs11_set_error_full (error, rv, self, CKU_USER, "C_GetTokenInfo"))
    return FALSE;

  g_mutex_lock (&self->info_lock);
  self->token_info = info;
  g_mutex_unlock (&self->info_lock);
  return TRUE;
}

ImzalaToken *
imzala_token_new (ImzalaModule  *module,
                  CK_SLOT_ID     slot,
                  GCancellable  *cancellable,
                  GError       **error)
{
  g_autoptr(ImzalaToken) self = NULL;
  CK_FUNCTION_LIST *functions;
  CK_RV rv;
  gboolean ok;

  g_return_val_if_fail (IMZALA_IS_MODULE (module), NULL);

  self = g_object_new (IMZALA_TYPE_TOKEN, NULL);
  self->module = g_object_ref (module);
  self->slot = slot;
  functions = imzala_module_get_functions (module);

  imzala_module_lock (module);
  rv = functions->C_GetSlotInfo (slot, &self->slot_info);
  if (rv == CKR_OK)
    rv = functions->C_GetTokenInfo (slot, &self->token_info);
  if (rv == CKR_OK && !(self->token_info.flags & CKF_TOKEN_INITIALIZED))
    {
      /* SoftHSM always offers one blank token for initialisation, and a
       * blank card cannot sign either: neither is shown. */
      g_set_error_literal (error, IMZALA_ERROR, IMZALA_ERROR_NO_TOKEN,
                           _("The card in the reader has not been initialised."));
      ok = FALSE;
    }
  else if (rv == CKR_OK)
    {
      self->slot_description = padded_to_utf8 (self->slot_info.slotDescription,
                                               sizeof self->slot_info.slotDescription);
      self->label = padded_to_utf8 (self->token_info.label, sizeof self->token_info.label);
      self->manufacturer = padded_to_utf8 (self->token_info.manufacturerID,
                                           sizeof self->token_info.manufacturerID);
      self->model = padded_to_utf8 (self->token_info.model, sizeof self->token_info.model);
      self->serial = padded_to_utf8 (self->token_info.serialNumber,
                                     sizeof self->token_info.serialNumber);
      ok = read_certificates_locked (self, cancellable, error);
    }
  else
    {
      ok = imzala_pkcs11_set_error_full (error, rv, NULL, CKU_USER, "C_GetTokenInfo");
    }
  imzala_module_unlock (module);

  if (!ok)
    return NULL;
  return g_steal_pointer (&self);
}

/* ---- Getters ---- */

ImzalaModule *
imzala_token_get_module (ImzalaToken *self)
{
  g_return_val_if_fail (IMZALA_IS_TOKEN (self), NULL);
  return self->module;
}

gulong
imzala_token_get_slot_id (ImzalaToken *self)
{
  g_return_val_if_fail (IMZALA_IS_TOKEN (self), 0);
  return self->slot;
}

const char *
imzala_token_get_slot_description (ImzalaToken *self)
{
  g_return_val_if_fail (IMZALA_IS_TOKEN (self), NULL);
  return self->slot_description;
}

const char *
imzala_token_get_label (ImzalaToken *self)
{
  g_return_val_if_fail (IMZALA_IS_TOKEN (self), NULL);
  return self->label;
}

const char *
imzala_token_get_manufacturer (ImzalaToken *self)
{
  g_return_val_if_fail (IMZALA_IS_TOKEN (self), NULL);
  return self->manufacturer;
}

const char *
imzala_token_get_model (ImzalaToken *self)
{
  g_return_val_if_fail (IMZALA_IS_TOKEN (self), NULL);
  return self->model;
}

const char *
imzala_token_get_serial (ImzalaToken *self)
{
  g_return_val_if_fail (IMZALA_IS_TOKEN (self), NULL);
  return self->serial;
}

void
imzala_token_get_token_info (ImzalaToken   *self,
                             CK_TOKEN_INFO *out)
{
  g_return_if_fail (IMZALA_IS_TOKEN (self));

  g_mutex_lock (&self->info_lock);
  *out = self->token_info;
  g_mutex_unlock (&self->info_lock);
}

const CK_SLOT_INFO *
imzala_token_get_slot_info (ImzalaToken *self)
{
  g_return_val_if_fail (IMZALA_IS_TOKEN (self), NULL);
  return &self->slot_info;
}

static CK_FLAGS
get_flags (ImzalaToken *self)
{
  CK_FLAGS flags;

  g_mutex_lock (&self->info_lock);
  flags = self->token_info.flags;
  g_mutex_unlock (&self->info_lock);
  return flags;
}

ImzalaPinState
imzala_token_get_pin_state (ImzalaToken *self)
{
  g_return_val_if_fail (IMZALA_IS_TOKEN (self), IMZALA_PIN_STATE_OK);
  return pin_state_from_flags (get_flags (self));
}

gboolean
imzala_token_has_pin_pad (ImzalaToken *self)
{
  g_return_val_if_fail (IMZALA_IS_TOKEN (self), FALSE);
  return (get_flags (self) & CKF_PROTECTED_AUTHENTICATION_PATH) != 0;
}

guint
imzala_token_get_min_pin_length (ImzalaToken *self)
{
  CK_ULONG length;

  g_return_val_if_fail (IMZALA_IS_TOKEN (self), 0);

  g_mutex_lock (&self->info_lock);
  length = self->token_info.ulMinPinLen;
  g_mutex_unlock (&self->info_lock);
  return length == CK_UNAVAILABLE_INFORMATION ? 0 : (guint) MIN (length, G_MAXUINT);
}

guint
imzala_token_get_max_pin_length (ImzalaToken *self)
{
  CK_ULONG length;

  g_return_val_if_fail (IMZALA_IS_TOKEN (self), 0);

  g_mutex_lock (&self->info_lock);
  length = self->token_info.ulMaxPinLen;
  g_mutex_unlock (&self->info_lock);
  return length == CK_UNAVAILABLE_INFORMATION ? 0 : (guint) MIN (length, G_MAXUINT);
}

GPtrArray *
imzala_token_get_certificates (ImzalaToken *self)
{
  g_return_val_if_fail (IMZALA_IS_TOKEN (self), NULL);
  return self->certificates;
}

static char *
format_uri (P11KitUri      *uri,
            P11KitUriType   type)
{
  char *formatted = NULL;
  char *copy;

  if (p11_kit_uri_format (uri, type, &formatted) != P11_KIT_URI_OK)
    return NULL;
  copy = g_strdup (formatted);
  free (formatted);
  return copy;
}

char *
imzala_token_get_uri (ImzalaToken *self)
{
  P11KitUri *uri;
  char *formatted;

  g_return_val_if_fail (IMZALA_IS_TOKEN (self), NULL);

  uri = p11_kit_uri_new ();
  imzala_token_get_token_info (self, p11_kit_uri_get_token_info (uri));
  formatted = format_uri (uri, P11_KIT_URI_FOR_TOKEN);
  p11_kit_uri_free (uri);
  return formatted;
}

char *
imzala_token_format_object_uri (ImzalaToken     *self,
                                CK_OBJECT_CLASS  klass,
                                GBytes          *id,
                                const char      *label)
{
  CK_ATTRIBUTE attribute;
  P11KitUri *uri;
  char *formatted;

  g_return_val_if_fail (IMZALA_IS_TOKEN (self), NULL);

  uri = p11_kit_uri_new ();
  imzala_token_get_token_info (self, p11_kit_uri_get_token_info (uri));

  attribute.type = CKA_CLASS;
  attribute.pValue = &klass;
  attribute.ulValueLen = sizeof klass;
  p11_kit_uri_set_attribute (uri, &attribute);

  if (id != NULL)
    {
      gsize size;

      attribute.type = CKA_ID;
      attribute.pValue = (gpointer) g_bytes_get_data (id, &size);
      attribute.ulValueLen = size;
      p11_kit_uri_set_attribute (uri, &attribute);
    }

  if (label != NULL)
    {
      attribute.type = CKA_LABEL;
      attribute.pValue = (gpointer) label;
      attribute.ulValueLen = strlen (label);
      p11_kit_uri_set_attribute (uri, &attribute);
    }

  formatted = format_uri (uri, P11_KIT_URI_FOR_OBJECT_ON_TOKEN);
  p11_kit_uri_free (uri);
  return formatted;
}

/* ---- Refresh ---- */

gboolean
imzala_token_refresh (ImzalaToken   *self,
                      GCancellable  *cancellable,
                      GError       **error)
{
  gboolean ok;

  g_return_val_if_fail (IMZALA_IS_TOKEN (self), FALSE);

  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return FALSE;

  imzala_module_lock (self->module);
  ok = refresh_locked (self, error);
  imzala_module_unlock (self->module);
  return ok;
}

static void
refresh_thread (GTask        *task,
                gpointer      source_object,
                gpointer      task_data,
                GCancellable *cancellable)
{
  GError *error = NULL;

  if (imzala_token_refresh (source_object, cancellable, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

void
imzala_token_refresh_async (ImzalaToken         *self,
                            GCancellable        *cancellable,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (IMZALA_IS_TOKEN (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, imzala_token_refresh_async);
  g_task_run_in_thread (task, refresh_thread);
}

gboolean
imzala_token_refresh_finish (ImzalaToken   *self,
                             GAsyncResult  *result,
                             GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

/* ---- Sessions and login ---- */

/* Checks a PIN against the card's length limits before it reaches the card:
 * on many cards a PIN of the wrong length still costs a try. */
static gboolean
check_pin_length (ImzalaToken         *self,
                  const ImzalaSecret  *pin,
                  GError             **error)
{
  guint min = imzala_token_get_min_pin_length (self);
  guint max = imzala_token_get_max_pin_length (self);
  gsize length;

  if (pin == NULL)
    {
      if (imzala_token_has_pin_pad (self))
        return TRUE;
      g_set_error_literal (error, IMZALA_ERROR, IMZALA_ERROR_PIN_LEN_RANGE,
                           _("Enter the PIN."));
      return FALSE;
    }

  length = imzala_secret_get_length (pin);
  if (length == 0 || (min > 0 && length < min) || (max > 0 && max >= min && length > max))
    {
      set_pin_length_error (error, self);
      return FALSE;
    }
  return TRUE;
}

static CK_UTF8CHAR_PTR
secret_data (ImzalaSecret *secret)
{
  /* The module reads the bytes where the secret keeps them: no copy. */
  return secret != NULL ? (CK_UTF8CHAR_PTR) imzala_secret_get_data (secret) : NULL;
}

static CK_ULONG
secret_length (ImzalaSecret *secret)
{
  return secret != NULL ? imzala_secret_get_length (secret) : 0;
}

/* C_Login; after a wrong secret the token information is read again so the
 * error can tell how many tries are left. */
static gboolean
login_locked (ImzalaToken        *self,
              CK_SESSION_HANDLE   session,
              CK_USER_TYPE        user,
              ImzalaSecret       *secret,
              GError            **error)
{
  CK_FUNCTION_LIST *functions = imzala_module_get_functions (self->module);
  CK_RV rv;

  rv = functions->C_Login (session, user, secret_data (secret), secret_length (secret));
  if (rv == CKR_OK || (rv == CKR_USER_ALREADY_LOGGED_IN && user != CKU_CONTEXT_SPECIFIC))
    return TRUE;

  if (rv == CKR_PIN_INCORRECT || rv == CKR_PIN_LOCKED)
    refresh_locked (self, NULL);
  return imzala_pkcs11_set_error_full (error, rv, self, user, "C_Login");
}

/* ---- Signing ---- */

static gboolean
mechanism_in_list (GArray            *mechanisms,
                   CK_MECHANISM_TYPE  type)
{
  for (guint i = 0; i < mechanisms->len; i++)
    if (g_array_index (mechanisms, CK_MECHANISM_TYPE, i) == type)
      return TRUE;
  return FALSE;
}

#define MAX_MECHANISMS 4096

static GArray *
get_mechanisms_locked (ImzalaToken *self)
{
  CK_FUNCTION_LIST *functions = imzala_module_get_functions (self->module);
  GArray *mechanisms = g_array_new (FALSE, TRUE, sizeof (CK_MECHANISM_TYPE));
  CK_ULONG count = 0;
  CK_RV rv;

  rv = functions->C_GetMechanismList (self->slot, NULL, &count);
  /* A module's count is not trusted: a card has a few dozen mechanisms, and
   * the second answer may not exceed the room it was given. */
  if (rv == CKR_OK && count > MAX_MECHANISMS)
    {
      g_debug ("C_GetMechanismList on %s: %lu mechanisms, ignored", self->label, (gulong) count);
      count = 0;
    }
  if (rv == CKR_OK && count > 0)
    {
      CK_ULONG room = count;

      g_array_set_size (mechanisms, room);
      rv = functions->C_GetMechanismList (self->slot, (CK_MECHANISM_TYPE *) (gpointer) mechanisms->data, &count);
      g_array_set_size (mechanisms, rv == CKR_OK ? MIN (count, room) : 0);
    }
  if (rv != CKR_OK)
    g_debug ("C_GetMechanismList on %s: %s", self->label, p11_kit_strerror (rv));
  return mechanisms;
}

/* The DER DigestInfo header before the hash, for CKM_RSA_PKCS (RFC 8017,
 * section 9.2, note 1). */
static const guint8 sha256_digest_info[] = {
  0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01,
  0x05, 0x00, 0x04, 0x20,
};
static const guint8 sha384_digest_info[] = {
  0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02,
  0x05, 0x00, 0x04, 0x30,
};

static GByteArray *
hash_data (ImzalaDigest digest,
           GBytes      *data)
{
  const EVP_MD *md = digest == IMZALA_DIGEST_SHA384 ? EVP_sha384 () : EVP_sha256 ();
  GByteArray *hash = g_byte_array_sized_new (EVP_MAX_MD_SIZE);
  unsigned int length = 0;
  gsize size;
  const guint8 *bytes = g_bytes_get_data (data, &size);

  g_byte_array_set_size (hash, EVP_MAX_MD_SIZE);
  if (!EVP_Digest (bytes, size, hash->data, &length, md, NULL))
    {
      g_byte_array_unref (hash);
      return NULL;
    }
  g_byte_array_set_size (hash, length);
  return hash;
}

/* r||s from the token to the DER ECDSA-Sig-Value that CMS and X.509 use. */
static GBytes *
ecdsa_raw_to_der (const guint8 *raw,
                  gsize         length)
{
  ECDSA_SIG *sig;
  BIGNUM *r, *s;
  unsigned char *der = NULL;
  int der_length;
  GBytes *bytes;

  if (length == 0 || length % 2 != 0)
    return NULL;

  r = BN_bin2bn (raw, length / 2, NULL);
  s = BN_bin2bn (raw + length / 2, length / 2, NULL);
  sig = ECDSA_SIG_new ();
  if (r == NULL || s == NULL || sig == NULL || !ECDSA_SIG_set0 (sig, r, s))
    {
      BN_free (r);
      BN_free (s);
      ECDSA_SIG_free (sig);
      return NULL;
    }

  der_length = i2d_ECDSA_SIG (sig, &der);
  ECDSA_SIG_free (sig);
  if (der_length <= 0)
    return NULL;
  bytes = g_bytes_new (der, der_length);
  OPENSSL_free (der);
  return bytes;
}

/* The private key of @certificate, after login: by CKA_ID, else through the
 * public key object that matches the certificate's key, else by comparing
 * the RSA modulus of every private key. */
static CK_OBJECT_HANDLE
find_private_key_locked (ImzalaToken       *self,
                         CK_SESSION_HANDLE  session,
                         ImzalaCertificate *certificate,
                         CK_RV             *rv)
{
  CK_FUNCTION_LIST *functions = imzala_module_get_functions (self->module);
  CK_OBJECT_CLASS private_class = CKO_PRIVATE_KEY;
  CK_OBJECT_CLASS public_class = CKO_PUBLIC_KEY;
  GBytes *id = imzala_certificate_get_id (certificate);
  g_autoptr(GBytes) material = NULL;
  g_autoptr(GArray) handles = NULL;
  gboolean is_ec;

  *rv = CKR_OK;

  if (id != NULL && g_bytes_get_size (id) > 0)
    {
      gsize size;
      CK_ATTRIBUTE template[] = {
        { CKA_CLASS, &private_class, sizeof private_class },
        { CKA_ID, (gpointer) g_bytes_get_data (id, &size), 0 },
      };

      template[1].ulValueLen = size;
      handles = find_objects (functions, session, template, G_N_ELEMENTS (template), rv);
      if (handles == NULL)
        return CK_INVALID_HANDLE;
      if (handles->len > 0)
        return g_array_index (handles, CK_OBJECT_HANDLE, 0);
      g_clear_pointer (&handles, g_array_unref);
    }

  material = certificate_key_material (imzala_certificate_get_x509 (certificate), &is_ec);
  if (material == NULL)
    return CK_INVALID_HANDLE;

  {
    CK_ATTRIBUTE template[] = { { CKA_CLASS, &public_class, sizeof public_class } };

    handles = find_objects (functions, session, template, 1, rv);
    if (handles == NULL)
      return CK_INVALID_HANDLE;
  }

  for (guint i = 0; i < handles->len; i++)
    {
      CK_OBJECT_HANDLE public_key = g_array_index (handles, CK_OBJECT_HANDLE, i);
      g_autoptr(GBytes) public_id = NULL;
      g_autoptr(GArray) private_keys = NULL;
      gsize size;

      if (!key_object_matches (functions, session, public_key, material, is_ec))
        continue;
      public_id = get_attribute (functions, session, public_key, CKA_ID);
      if (public_id == NULL || g_bytes_get_size (public_id) == 0)
        continue;

      {
        CK_ATTRIBUTE template[] = {
          { CKA_CLASS, &private_class, sizeof private_class },
          { CKA_ID, (gpointer) g_bytes_get_data (public_id, &size), 0 },
        };

        template[1].ulValueLen = size;
        private_keys = find_objects (functions, session, template, G_N_ELEMENTS (template), rv);
      }
      if (private_keys == NULL)
        return CK_INVALID_HANDLE;
      if (private_keys->len > 0)
        return g_array_index (private_keys, CK_OBJECT_HANDLE, 0);
    }
  g_clear_pointer (&handles, g_array_unref);

  if (!is_ec)
    {
      CK_ATTRIBUTE template[] = { { CKA_CLASS, &private_class, sizeof private_class } };

      handles = find_objects (functions, session, template, 1, rv);
      if (handles == NULL)
        return CK_INVALID_HANDLE;
      for (guint i = 0; i < handles->len; i++)
        if (key_object_matches (functions, session, g_array_index (handles, CK_OBJECT_HANDLE, i),
                                material, FALSE))
          return g_array_index (handles, CK_OBJECT_HANDLE, i);
    }

  return CK_INVALID_HANDLE;
}

typedef enum
{
  SIGN_INPUT_DATA,        /* the mechanism hashes: give it the data */
  SIGN_INPUT_DIGEST_INFO, /* CKM_RSA_PKCS: a DigestInfo of the hash */
  SIGN_INPUT_HASH,        /* CKM_ECDSA: the bare hash */
} SignInput;

static gboolean
choose_mechanism (GArray            *mechanisms,
                  gboolean           is_ec,
                  ImzalaDigest       digest,
                  CK_MECHANISM_TYPE *mechanism,
                  SignInput         *input)
{
  gboolean sha384 = digest == IMZALA_DIGEST_SHA384;

  /* A module whose list cannot be read is still tried with the basic
   * mechanism every signing token has. */
  gboolean unknown = mechanisms->len == 0;

  if (!is_ec)
    {
      CK_MECHANISM_TYPE combined = sha384 ? CKM_SHA384_RSA_PKCS : CKM_SHA256_RSA_PKCS;

      if (mechanism_in_list (mechanisms, combined))
        {
          *mechanism = combined;
          *input = SIGN_INPUT_DATA;
          return TRUE;
        }
      if (unknown || mechanism_in_list (mechanisms, CKM_RSA_PKCS))
        {
          *mechanism = CKM_RSA_PKCS;
          *input = SIGN_INPUT_DIGEST_INFO;
          return TRUE;
        }
      return FALSE;
    }

  if (unknown || mechanism_in_list (mechanisms, CKM_ECDSA))
    {
      *mechanism = CKM_ECDSA;
      *input = SIGN_INPUT_HASH;
      return TRUE;
    }
  if (mechanism_in_list (mechanisms, sha384 ? CKM_ECDSA_SHA384 : CKM_ECDSA_SHA256))
    {
      *mechanism = sha384 ? CKM_ECDSA_SHA384 : CKM_ECDSA_SHA256;
      *input = SIGN_INPUT_DATA;
      return TRUE;
    }
  return FALSE;
}

static GBytes *
make_sign_input (SignInput     input,
                 ImzalaDigest  digest,
                 GBytes       *data)
{
  g_autoptr(GByteArray) hash = NULL;
  GByteArray *digest_info;

  if (input == SIGN_INPUT_DATA)
    return g_bytes_ref (data);

  hash = hash_data (digest, data);
  if (hash == NULL)
    return NULL;
  if (input == SIGN_INPUT_HASH)
    return g_byte_array_free_to_bytes (g_steal_pointer (&hash));

  digest_info = g_byte_array_new ();
  if (digest == IMZALA_DIGEST_SHA384)
    g_byte_array_append (digest_info, sha384_digest_info, sizeof sha384_digest_info);
  else
    g_byte_array_append (digest_info, sha256_digest_info, sizeof sha256_digest_info);
  g_byte_array_append (digest_info, hash->data, hash->len);
  return g_byte_array_free_to_bytes (digest_info);
}

/* Everything between C_OpenSession and C_CloseSession, with the module lock
 * held: PKCS#11 login state belongs to the whole token, so two operations on
 * one card must not interleave (one's C_Logout would end the other's
 * login). */
static GBytes *
sign_locked (ImzalaToken       *self,
             CK_SESSION_HANDLE  session,
             ImzalaCertificate *certificate,
             ImzalaSecret      *pin,
             ImzalaDigest       digest,
             GBytes            *data,
             gboolean           is_ec,
             GCancellable      *cancellable,
             GError           **error)
{
  CK_FUNCTION_LIST *functions = imzala_module_get_functions (self->module);
  g_autoptr(GArray) mechanisms = get_mechanisms_locked (self);
  g_autoptr(GBytes) input = NULL;
  CK_MECHANISM mechanism = { 0, NULL, 0 };
  CK_OBJECT_HANDLE key;
  SignInput input_kind;
  guint8 signature[1024];
  CK_ULONG signature_length = sizeof signature;
  gsize input_size;
  const guint8 *input_data;
  CK_RV rv;

  if (!choose_mechanism (mechanisms, is_ec, digest, &mechanism.mechanism, &input_kind))
    {
      g_debug ("No usable signature mechanism on %s", self->label);
      g_set_error_literal (error, IMZALA_ERROR, IMZALA_ERROR_UNSUPPORTED_KEY,
                           _("The card cannot sign with this key in a way İmzala supports."));
      return NULL;
    }

  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return NULL;

  key = find_private_key_locked (self, session, certificate, &rv);
  if (rv != CKR_OK)
    {
      imzala_pkcs11_set_error_full (error, rv, self, CKU_USER, "C_FindObjects");
      return NULL;
    }
  if (key == CK_INVALID_HANDLE)
    {
      g_set_error_literal (error, IMZALA_ERROR, IMZALA_ERROR_NO_PRIVATE_KEY,
                           _("The card has no private key for this certificate, so it cannot sign with it."));
      return NULL;
    }

  input = make_sign_input (input_kind, digest, data);
  if (input == NULL)
    {
      g_set_error_literal (error, IMZALA_ERROR, IMZALA_ERROR_FAILED,
                           _("The data to sign could not be prepared."));
      return NULL;
    }
  input_data = g_bytes_get_data (input, &input_size);

  rv = functions->C_SignInit (session, &mechanism, key);
  if (!imzala_pkcs11_set_error_full (error, rv, self, CKU_USER, "C_SignInit"))
    return NULL;

  /* Qualified signature keys often want the PIN again for every signature. */
  if (get_bool_attribute (functions, session, key, CKA_ALWAYS_AUTHENTICATE)
      && !login_locked (self, session, CKU_CONTEXT_SPECIFIC, pin, error))
    return NULL;

  rv = functions->C_Sign (session, (CK_BYTE_PTR) input_data, input_size,
                          signature, &signature_length);
  if (rv == CKR_BUFFER_TOO_SMALL)
    {
      /* Unreachable with today's keys (16384-bit RSA would fit); say so
       * rather than retry, since C_Sign has ended the operation on some
       * modules. */
      g_debug ("C_Sign wants %lu bytes", (gulong) signature_length);
    }
  if (!imzala_pkcs11_set_error_full (error, rv, self, CKU_USER, "C_Sign"))
    return NULL;
  /* The length is the module's word; beyond the buffer it would make us
   * read (and send) whatever lies after it on the stack. */
  if (signature_length == 0 || signature_length > sizeof signature)
    {
      g_debug ("C_Sign claims a %lu-byte signature in a buffer of %zu",
               (gulong) signature_length, sizeof signature);
      g_set_error_literal (error, IMZALA_ERROR, IMZALA_ERROR_MODULE_FAILURE,
                           _("The card returned a signature that İmzala cannot read."));
      return NULL;
    }

  if (is_ec)
    {
      GBytes *der = ecdsa_raw_to_der (signature, signature_length);

      if (der == NULL)
        g_set_error_literal (error, IMZALA_ERROR, IMZALA_ERROR_MODULE_FAILURE,
                             _("The card returned a signature that İmzala cannot read."));
      return der;
    }
  return g_bytes_new (signature, signature_length);
}

GBytes *
imzala_token_sign (ImzalaToken       *self,
                   ImzalaCertificate *certificate,
                   ImzalaSecret      *pin,
                   ImzalaDigest       digest,
                   GBytes            *data,
                   GCancellable      *cancellable,
                   GError           **error)
{
  CK_FUNCTION_LIST *functions;
  CK_SESSION_HANDLE session;
  EVP_PKEY *pkey;
  gboolean is_ec;
  GBytes *signature = NULL;
  CK_RV rv;

  g_return_val_if_fail (IMZALA_IS_TOKEN (self), NULL);
  g_return_val_if_fail (IMZALA_IS_CERTIFICATE (certificate), NULL);
  g_return_val_if_fail (data != NULL, NULL);

  pkey = X509_get0_pubkey (imzala_certificate_get_x509 (certificate));
  if (pkey != NULL && EVP_PKEY_is_a (pkey, "RSA"))
    is_ec = FALSE;
  else if (pkey != NULL && EVP_PKEY_is_a (pkey, "EC"))
    is_ec = TRUE;
  else
    {
      g_set_error_literal (error, IMZALA_ERROR, IMZALA_ERROR_UNSUPPORTED_KEY,
                           _("İmzala can only sign with RSA and elliptic curve keys."));
      return NULL;
    }

  if (!check_pin_length (self, pin, error))
    return NULL;
  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return NULL;

  functions = imzala_module_get_functions (self->module);
  imzala_module_lock (self->module);

  rv = functions->C_OpenSession (self->slot, CKF_SERIAL_SESSION, NULL, NULL, &session);
  if (imzala_pkcs11_set_error_full (error, rv, self, CKU_USER, "C_OpenSession"))
    {
      if (login_locked (self, session, CKU_USER, pin, error))
        {
          signature = sign_locked (self, session, certificate, pin, digest, data,
                                   is_ec, cancellable, error);
          functions->C_Logout (session);
        }
      functions->C_CloseSession (session);
    }

  imzala_module_unlock (self->module);
  return signature;
}

typedef struct
{
  ImzalaCertificate *certificate;
  ImzalaSecret *pin;
  ImzalaSecret *new_pin;
  ImzalaDigest digest;
  GBytes *data;
} TaskData;

static void
task_data_free (TaskData *task_data)
{
  g_clear_object (&task_data->certificate);
  g_clear_pointer (&task_data->pin, imzala_secret_unref);
  g_clear_pointer (&task_data->new_pin, imzala_secret_unref);
  g_clear_pointer (&task_data->data, g_bytes_unref);
  g_free (task_data);
}

static void
sign_thread (GTask        *task,
             gpointer      source_object,
             gpointer      task_data,
             GCancellable *cancellable)
{
  TaskData *td = task_data;
  GError *error = NULL;
  GBytes *signature;

  signature = imzala_token_sign (source_object, td->certificate, td->pin, td->digest,
                                 td->data, cancellable, &error);
  if (signature != NULL)
    g_task_return_pointer (task, signature, (GDestroyNotify) g_bytes_unref);
  else
    g_task_return_error (task, error);
}

void
imzala_token_sign_async (ImzalaToken         *self,
                         ImzalaCertificate   *certificate,
                         ImzalaSecret        *pin,
                         ImzalaDigest         digest,
                         GBytes              *data,
                         GCancellable        *cancellable,
                         GAsyncReadyCallback  callback,
                         gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  TaskData *td;

  g_return_if_fail (IMZALA_IS_TOKEN (self));
  g_return_if_fail (IMZALA_IS_CERTIFICATE (certificate));
  g_return_if_fail (data != NULL);

  td = g_new0 (TaskData, 1);
  td->certificate = g_object_ref (certificate);
  td->pin = pin != NULL ? imzala_secret_ref (pin) : NULL;
  td->digest = digest;
  td->data = g_bytes_ref (data);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, imzala_token_sign_async);
  g_task_set_task_data (task, td, (GDestroyNotify) task_data_free);
  g_task_run_in_thread (task, sign_thread);
}

GBytes *
imzala_token_sign_finish (ImzalaToken   *self,
                          GAsyncResult  *result,
                          GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

/* ---- PIN change and unblock ---- */

gboolean
imzala_token_change_pin (ImzalaToken   *self,
                         ImzalaSecret  *old_pin,
                         ImzalaSecret  *new_pin,
                         GCancellable  *cancellable,
                         GError       **error)
{
  CK_FUNCTION_LIST *functions;
  CK_SESSION_HANDLE session;
  gboolean ok = FALSE;
  CK_RV rv;

  g_return_val_if_fail (IMZALA_IS_TOKEN (self), FALSE);

  if (!check_pin_length (self, old_pin, error) || !check_pin_length (self, new_pin, error))
    return FALSE;
  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return FALSE;

  functions = imzala_module_get_functions (self->module);
  imzala_module_lock (self->module);

  rv = functions->C_OpenSession (self->slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &session);
  if (imzala_pkcs11_set_error_full (error, rv, self, CKU_USER, "C_OpenSession"))
    {
      if (login_locked (self, session, CKU_USER, old_pin, error))
        {
          rv = functions->C_SetPIN (session,
                                    secret_data (old_pin), secret_length (old_pin),
                                    secret_data (new_pin), secret_length (new_pin));
          if (rv == CKR_PIN_INCORRECT)
            refresh_locked (self, NULL);
          ok = imzala_pkcs11_set_error_full (error, rv, self, CKU_USER, "C_SetPIN");
          functions->C_Logout (session);
        }
      functions->C_CloseSession (session);
    }

  /* The PIN flags (count low, to be changed) change with the PIN. */
  refresh_locked (self, NULL);
  imzala_module_unlock (self->module);
  return ok;
}

gboolean
imzala_token_unblock_pin (ImzalaToken   *self,
                          ImzalaSecret  *puk,
                          ImzalaSecret  *new_pin,
                          GCancellable  *cancellable,
                          GError       **error)
{
  CK_FUNCTION_LIST *functions;
  CK_SESSION_HANDLE session;
  gboolean ok = FALSE;
  CK_RV rv;

  g_return_val_if_fail (IMZALA_IS_TOKEN (self), FALSE);

  if (puk == NULL && !imzala_token_has_pin_pad (self))
    {
      g_set_error_literal (error, IMZALA_ERROR, IMZALA_ERROR_PUK_INCORRECT,
                           _("Enter the PUK."));
      return FALSE;
    }
  if (!check_pin_length (self, new_pin, error))
    return FALSE;
  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return FALSE;

  functions = imzala_module_get_functions (self->module);
  imzala_module_lock (self->module);

  rv = functions->C_OpenSession (self->slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &session);
  if (imzala_pkcs11_set_error_full (error, rv, self, CKU_SO, "C_OpenSession"))
    {
      rv = functions->C_Login (session, CKU_SO, secret_data (puk), secret_length (puk));
      if (rv == CKR_OK || rv == CKR_USER_ALREADY_LOGGED_IN)
        {
          rv = functions->C_InitPIN (session, secret_data (new_pin), secret_length (new_pin));
          ok = imzala_pkcs11_set_error_full (error, rv, self, CKU_USER, "C_InitPIN");
          functions->C_Logout (session);
        }
      else if (rv == CKR_USER_TYPE_INVALID || rv == CKR_FUNCTION_NOT_SUPPORTED
               || rv == CKR_OPERATION_NOT_INITIALIZED || rv == CKR_USER_ANOTHER_ALREADY_LOGGED_IN)
        {
          /* Modules without an SO role take the PUK as the "old PIN" of an
           * unlogged C_SetPIN. */
          g_debug ("SO login refused on %s (%s); trying C_SetPIN with the PUK",
                   self->label, p11_kit_strerror (rv));
          rv = functions->C_SetPIN (session,
                                    secret_data (puk), secret_length (puk),
                                    secret_data (new_pin), secret_length (new_pin));
          if (rv == CKR_PIN_INCORRECT || rv == CKR_PIN_LOCKED)
            refresh_locked (self, NULL);
          ok = imzala_pkcs11_set_error_full (error, rv, self, CKU_SO, "C_SetPIN");
        }
      else
        {
          if (rv == CKR_PIN_INCORRECT || rv == CKR_PIN_LOCKED)
            refresh_locked (self, NULL);
          ok = imzala_pkcs11_set_error_full (error, rv, self, CKU_SO, "C_Login");
        }
      functions->C_CloseSession (session);
    }

  refresh_locked (self, NULL);
  imzala_module_unlock (self->module);
  return ok;
}

static void
change_pin_thread (GTask        *task,
                   gpointer      source_object,
                   gpointer      task_data,
                   GCancellable *cancellable)
{
  TaskData *td = task_data;
  GError *error = NULL;

  if (imzala_token_change_pin (source_object, td->pin, td->new_pin, cancellable, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

void
imzala_token_change_pin_async (ImzalaToken         *self,
                               ImzalaSecret        *old_pin,
                               ImzalaSecret        *new_pin,
                               GCancellable        *cancellable,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  TaskData *td;

  g_return_if_fail (IMZALA_IS_TOKEN (self));

  td = g_new0 (TaskData, 1);
  td->pin = old_pin != NULL ? imzala_secret_ref (old_pin) : NULL;
  td->new_pin = new_pin != NULL ? imzala_secret_ref (new_pin) : NULL;

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, imzala_token_change_pin_async);
  g_task_set_task_data (task, td, (GDestroyNotify) task_data_free);
  g_task_run_in_thread (task, change_pin_thread);
}

gboolean
imzala_token_change_pin_finish (ImzalaToken   *self,
                                GAsyncResult  *result,
                                GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
unblock_pin_thread (GTask        *task,
                    gpointer      source_object,
                    gpointer      task_data,
                    GCancellable *cancellable)
{
  TaskData *td = task_data;
  GError *error = NULL;

  if (imzala_token_unblock_pin (source_object, td->pin, td->new_pin, cancellable, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

void
imzala_token_unblock_pin_async (ImzalaToken         *self,
                                ImzalaSecret        *puk,
                                ImzalaSecret        *new_pin,
                                GCancellable        *cancellable,
                                GAsyncReadyCallback  callback,
                                gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  TaskData *td;

  g_return_if_fail (IMZALA_IS_TOKEN (self));

  td = g_new0 (TaskData, 1);
  td->pin = puk != NULL ? imzala_secret_ref (puk) : NULL;
  td->new_pin = new_pin != NULL ? imzala_secret_ref (new_pin) : NULL;

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, imzala_token_unblock_pin_async);
  g_task_set_task_data (task, td, (GDestroyNotify) task_data_free);
  g_task_run_in_thread (task, unblock_pin_thread);
}

gboolean
imzala_token_unblock_pin_finish (ImzalaToken   *self,
                                 GAsyncResult  *result,
                                 GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}
