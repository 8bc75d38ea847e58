/* imzala-token-sign.c: signing with a token's private key.
 *
 * Everything a security reviewer needs for the signing path is here: the
 * mechanism choice, the DigestInfo for CKM_RSA_PKCS, the hashing, the
 * private key lookup, C_SignInit/C_Sign with the CKA_ALWAYS_AUTHENTICATE
 * login, and ECDSA r||s to DER. The module lock is held from C_OpenSession
 * to C_CloseSession.
 */
#define G_LOG_DOMAIN "imzala-pkcs11"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>

#include "imzala-error.h"
#include "imzala-token-private.h"

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
  const EVP_MD *md = imzala_digest_get_md (digest);
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
      handles = imzala_pkcs11_find_objects (functions, session, template, G_N_ELEMENTS (template), rv);
      if (handles == NULL)
        return CK_INVALID_HANDLE;
      if (handles->len > 0)
        return g_array_index (handles, CK_OBJECT_HANDLE, 0);
      g_clear_pointer (&handles, g_array_unref);
    }

  material = imzala_pkcs11_certificate_key_material (imzala_certificate_get_x509 (certificate), &is_ec);
  if (material == NULL)
    return CK_INVALID_HANDLE;

  {
    CK_ATTRIBUTE template[] = { { CKA_CLASS, &public_class, sizeof public_class } };

    handles = imzala_pkcs11_find_objects (functions, session, template, 1, rv);
    if (handles == NULL)
      return CK_INVALID_HANDLE;
  }

  for (guint i = 0; i < handles->len; i++)
    {
      CK_OBJECT_HANDLE public_key = g_array_index (handles, CK_OBJECT_HANDLE, i);
      g_autoptr(GBytes) public_id = NULL;
      g_autoptr(GArray) private_keys = NULL;
      gsize size;

      if (!imzala_pkcs11_key_object_matches (functions, session, public_key, material, is_ec))
        continue;
      public_id = imzala_pkcs11_get_attribute (functions, session, public_key, CKA_ID);
      if (public_id == NULL || g_bytes_get_size (public_id) == 0)
        continue;

      {
        CK_ATTRIBUTE template[] = {
          { CKA_CLASS, &private_class, sizeof private_class },
          { CKA_ID, (gpointer) g_bytes_get_data (public_id, &size), 0 },
        };

        template[1].ulValueLen = size;
        private_keys = imzala_pkcs11_find_objects (functions, session, template, G_N_ELEMENTS (template), rv);
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

      handles = imzala_pkcs11_find_objects (functions, session, template, 1, rv);
      if (handles == NULL)
        return CK_INVALID_HANDLE;
      for (guint i = 0; i < handles->len; i++)
        if (imzala_pkcs11_key_object_matches (functions, session, g_array_index (handles, CK_OBJECT_HANDLE, i),
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
  if (imzala_pkcs11_get_bool_attribute (functions, session, key, CKA_ALWAYS_AUTHENTICATE)
      && !imzala_token_login_locked (self, session, CKU_CONTEXT_SPECIFIC, pin, error))
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

typedef struct
{
  ImzalaToken *token;
  ImzalaCertificate *certificate;
  ImzalaSecret *pin;
  ImzalaDigest digest;
  GBytes *data;
  GCancellable *cancellable;
  GBytes *signature;
} SignCall;

static gboolean
sign_call_cb (gpointer   user_data,
              GError   **error)
{
  SignCall *call = user_data;

  call->signature = imzala_token_sign (call->token, call->certificate, call->pin, call->digest,
                                       call->data, call->cancellable, error);
  return call->signature != NULL;
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

  /* Called from another thread (the CLI, the CMS builder): run on the
   * module's thread. */
  if (!imzala_module_is_current_thread (self->module))
    {
      SignCall call = { self, certificate, pin, digest, data, cancellable, NULL };

      imzala_module_call (self->module, sign_call_cb, &call, error);
      return call.signature;
    }

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

  if (!imzala_token_check_pin_length (self, pin, error))
    return NULL;
  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return NULL;

  functions = imzala_module_get_functions (self->module);
  imzala_module_lock (self->module);

  rv = functions->C_OpenSession (self->slot, CKF_SERIAL_SESSION, NULL, NULL, &session);
  if (imzala_pkcs11_set_error_full (error, rv, self, CKU_USER, "C_OpenSession"))
    {
      if (imzala_token_login_locked (self, session, CKU_USER, pin, error))
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
  ImzalaDigest digest;
  GBytes *data;
} SignTaskData;

static void
sign_task_data_free (SignTaskData *task_data)
{
  g_clear_object (&task_data->certificate);
  g_clear_pointer (&task_data->pin, imzala_secret_unref);
  g_clear_pointer (&task_data->data, g_bytes_unref);
  g_free (task_data);
}

static void
sign_thread (GTask        *task,
             gpointer      source_object,
             gpointer      task_data,
             GCancellable *cancellable)
{
  SignTaskData *td = task_data;
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
  SignTaskData *td;

  g_return_if_fail (IMZALA_IS_TOKEN (self));
  g_return_if_fail (IMZALA_IS_CERTIFICATE (certificate));
  g_return_if_fail (data != NULL);

  td = g_new0 (SignTaskData, 1);
  td->certificate = g_object_ref (certificate);
  td->pin = pin != NULL ? imzala_secret_ref (pin) : NULL;
  td->digest = digest;
  td->data = g_bytes_ref (data);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, imzala_token_sign_async);
  g_task_set_task_data (task, td, (GDestroyNotify) sign_task_data_free);
  imzala_module_run_task (self->module, task, sign_thread);
}

GBytes *
imzala_token_sign_finish (ImzalaToken   *self,
                          GAsyncResult  *result,
                          GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

