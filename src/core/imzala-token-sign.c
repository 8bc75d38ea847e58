/* imzala-token-sign.c: signing with a token's private key.
 *
 * Everything a security reviewer needs for the signing path is here: the
 * mechanism choice, the DigestInfo for CKM_RSA_PKCS, the hashing, the
 * private key lookup, C_SignInit/C_Sign with the CKA_ALWAYS_AUTHENTICATE
 * login, C_Sign with its size queries, ECDSA r||s or DER to DER, and the
 * check of every signature with the certificate's key. The module lock is held from C_OpenSession
 * to C_CloseSession.
 */
#define G_LOG_DOMAIN "imzala-pkcs11"

#include "config.h"

#include <string.h>
#include <glib/gi18n-lib.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>

#include "imzala-error.h"
#include "imzala-token-private.h"
#include "imzala-cancel-private.h"

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

/* The private key of @certificate, after login, paired as listing pairs it
 * (imzala_pkcs11_pair_key(): by CKA_ID, public key, then label), now among
 * the private keys the login revealed. */
static CK_OBJECT_HANDLE
find_private_key_locked (ImzalaToken       *self,
                         CK_SESSION_HANDLE  session,
                         ImzalaCertificate *certificate,
                         CK_RV             *rv)
{
  CK_FUNCTION_LIST *functions = imzala_module_get_functions (self->module);
  g_autoptr(GArray) private_keys = NULL;
  g_autoptr(GArray) public_keys = NULL;
  GBytes *id = imzala_certificate_get_id (certificate);
  ImzalaKeyPairing pairing;
  guint index;

  /* The usual card first, in a few calls: one private key with the
   * certificate's CKA_ID, and nothing it shows says otherwise. */
  if (id != NULL && g_bytes_get_size (id) > 0)
    {
      CK_OBJECT_CLASS private_class = CKO_PRIVATE_KEY;
      gsize size;
      CK_ATTRIBUTE template[] = {
        { CKA_CLASS, &private_class, sizeof private_class },
        { CKA_ID, (gpointer) g_bytes_get_data (id, &size), 0 },
      };
      g_autoptr(GArray) handles = NULL;

      template[1].ulValueLen = size;
      handles = imzala_pkcs11_find_objects (functions, session, template, G_N_ELEMENTS (template), rv);
      if (handles == NULL)
        return CK_INVALID_HANDLE;
      if (handles->len == 1)
        {
          g_autoptr(GArray) keys = imzala_pkcs11_new_key_array ();
          ImzalaPkcs11Key key;

          imzala_pkcs11_read_key (functions, session, g_array_index (handles, CK_OBJECT_HANDLE, 0),
                                  CKO_PRIVATE_KEY, &key);
          g_array_append_val (keys, key);
          if (imzala_pkcs11_pair_key (keys, NULL, imzala_certificate_get_x509 (certificate), id,
                                      NULL, &index) == IMZALA_KEY_PAIRING_BY_ID)
            return g_array_index (handles, CK_OBJECT_HANDLE, 0);
        }
    }

  /* Otherwise (no shared CKA_ID, two keys with one, a key that does not
   * fit) every key is weighed. */
  private_keys = imzala_pkcs11_read_keys (functions, session, CKO_PRIVATE_KEY, rv);
  if (private_keys == NULL)
    return CK_INVALID_HANDLE;
  public_keys = imzala_pkcs11_read_keys (functions, session, CKO_PUBLIC_KEY, rv);
  if (public_keys == NULL)
    return CK_INVALID_HANDLE;

  pairing = imzala_pkcs11_pair_key (private_keys, public_keys, imzala_certificate_get_x509 (certificate),
                                    imzala_certificate_get_id (certificate),
                                    imzala_certificate_get_label (certificate), &index);
  if (pairing == IMZALA_KEY_PAIRING_NONE)
    return CK_INVALID_HANDLE;
  g_debug ("Key for %s on %s paired by %s", imzala_certificate_get_holder_name (certificate), self->label,
           pairing == IMZALA_KEY_PAIRING_BY_ID ? "CKA_ID"
           : pairing == IMZALA_KEY_PAIRING_BY_PUBLIC_KEY ? "public key" : "label");
  return g_array_index (private_keys, ImzalaPkcs11Key, index).handle;
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

/* The largest signature read from a card: 16384-bit RSA. */
#define MAX_SIGNATURE_SIZE 2048
/* How often C_Sign is asked again after CKR_BUFFER_TOO_SMALL. */
#define MAX_SIGN_TRIES 3

/* C_Sign after C_SignInit. A buffer that fits every key first, so a card
 * pays one call; a module that answers CKR_BUFFER_TOO_SMALL (one that wants
 * the size asked first, or a bigger signature) is asked for the size with a
 * NULL buffer and called again with that size, a few times and never above
 * MAX_SIGNATURE_SIZE. CKR_BUFFER_TOO_SMALL keeps the operation active
 * (PKCS#11 2.40, 5.2). */
static GBytes *
call_sign_locked (ImzalaToken   *self,
                  CK_SESSION_HANDLE session,
                  const guint8  *input,
                  gsize          input_size,
                  GError       **error)
{
  CK_FUNCTION_LIST *functions = imzala_module_get_functions (self->module);
  CK_ULONG room = MAX_SIGNATURE_SIZE;
  CK_RV rv = CKR_OK;

  for (guint attempt = 0; attempt < MAX_SIGN_TRIES; attempt++)
    {
      g_autofree guint8 *signature = g_malloc (room);
      CK_ULONG length = room;

      rv = functions->C_Sign (session, (CK_BYTE_PTR) input, input_size, signature, &length);
      if (rv == CKR_BUFFER_TOO_SMALL)
        {
          g_debug ("C_Sign on %s: CKR_BUFFER_TOO_SMALL for %lu bytes; asking the size",
                   self->label, (gulong) room);
          length = 0;
          rv = functions->C_Sign (session, (CK_BYTE_PTR) input, input_size, NULL, &length);
          if (rv != CKR_OK)
            break;
          if (length == 0 || length > MAX_SIGNATURE_SIZE)
            {
              g_debug ("C_Sign on %s wants %lu bytes", self->label, (gulong) length);
              rv = CKR_GENERAL_ERROR;
              break;
            }
          room = length;
          continue;
        }
      if (rv != CKR_OK)
        break;
      /* The length is the module's word; beyond the buffer it would make us
       * read (and send) whatever lies after it in memory. */
      if (length == 0 || length > room)
        {
          g_debug ("C_Sign claims a %lu-byte signature in a buffer of %lu",
                   (gulong) length, (gulong) room);
          g_set_error_literal (error, IMZALA_ERROR, IMZALA_ERROR_MODULE_FAILURE,
                               _("The card returned a signature that İmzala cannot read."));
          return NULL;
        }
      return g_bytes_new (signature, length);
    }

  if (rv == CKR_BUFFER_TOO_SMALL)
    rv = CKR_GENERAL_ERROR;
  imzala_pkcs11_set_error_full (error, rv, self, CKU_USER, "C_Sign");
  return NULL;
}

/* A DER ECDSA-Sig-Value exactly as given (no trailing bytes, no other
 * encoding of the same numbers), or NULL. */
static GBytes *
ecdsa_der_exact (const guint8 *data,
                 gsize         length)
{
  const unsigned char *p = data;
  ECDSA_SIG *sig;
  unsigned char *der = NULL;
  int der_length;
  GBytes *bytes = NULL;

  if (length < 8 || data[0] != 0x30)
    return NULL;
  sig = d2i_ECDSA_SIG (NULL, &p, length);
  if (sig == NULL)
    return NULL;
  der_length = i2d_ECDSA_SIG (sig, &der);
  ECDSA_SIG_free (sig);
  if (der_length > 0 && (gsize) der_length == length && memcmp (der, data, length) == 0)
    bytes = g_bytes_new (data, length);
  OPENSSL_free (der);
  return bytes;
}

static gboolean
signature_verifies (EVP_PKEY     *pkey,
                    ImzalaDigest  digest,
                    GBytes       *data,
                    GBytes       *signature)
{
  EVP_MD_CTX *ctx = EVP_MD_CTX_new ();
  gboolean ok;

  ok = ctx != NULL
       && EVP_DigestVerifyInit (ctx, NULL, imzala_digest_get_md (digest), NULL, pkey) == 1
       && EVP_DigestVerify (ctx, g_bytes_get_data (signature, NULL), g_bytes_get_size (signature),
                            g_bytes_get_data (data, NULL), g_bytes_get_size (data)) == 1;
  EVP_MD_CTX_free (ctx);
  return ok;
}

/* What the card signed, in the form CMS wants, checked with the
 * certificate's public key before anything uses it: a wrong key, a broken
 * card or a form İmzala misread never leaves this function. ECDSA comes as
 * r||s (PKCS#11) or, from some cards, as a DER ECDSA-Sig-Value: both are
 * tried, and only one that verifies is taken. */
static GBytes *
check_signature (ImzalaCertificate *certificate,
                 ImzalaDigest       digest,
                 GBytes            *data,
                 gboolean           is_ec,
                 GBytes            *signature,
                 GError           **error)
{
  EVP_PKEY *pkey = X509_get0_pubkey (imzala_certificate_get_x509 (certificate));
  gsize length;
  const guint8 *bytes = g_bytes_get_data (signature, &length);
  GBytes *forms[2] = { NULL, NULL };
  GBytes *result = NULL;

  if (!is_ec)
    forms[0] = g_bytes_ref (signature);
  else
    {
      int order_bytes = (EVP_PKEY_get_bits (pkey) + 7) / 8;

      /* r||s has exactly twice the size of the group order; anything else
       * can only be DER. */
      if ((gsize) order_bytes * 2 == length)
        {
          forms[0] = ecdsa_raw_to_der (bytes, length);
          forms[1] = ecdsa_der_exact (bytes, length);
        }
      else
        forms[0] = ecdsa_der_exact (bytes, length);
    }

  for (guint i = 0; i < G_N_ELEMENTS (forms) && result == NULL; i++)
    if (forms[i] != NULL && signature_verifies (pkey, digest, data, forms[i]))
      {
        result = g_bytes_ref (forms[i]);
        if (is_ec)
          g_debug ("The card's ECDSA signature came as %s",
                   g_bytes_equal (forms[i], signature) ? "DER" : "r||s");
      }
  for (guint i = 0; i < G_N_ELEMENTS (forms); i++)
    g_clear_pointer (&forms[i], g_bytes_unref);

  if (result == NULL)
    {
      g_debug ("The %zu-byte signature from the card does not verify with the certificate's key", length);
      g_set_error_literal (error, IMZALA_ERROR, IMZALA_ERROR_MODULE_FAILURE,
                           _("The card returned a signature that does not match the certificate, so İmzala did not use it."));
    }
  return result;
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
  g_autoptr(GBytes) signature = NULL;
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

  if (imzala_cancelled (cancellable, error))
    return NULL;

  key = find_private_key_locked (self, session, certificate, &rv);
  if (rv != CKR_OK)
    {
      imzala_pkcs11_set_error_full (error, rv, self, CKU_USER, "C_FindObjects");
      return NULL;
    }
  /* A card pulled out during the search leaves no key to find. */
  if (key == CK_INVALID_HANDLE && !imzala_token_check_present_locked (self, error))
    return NULL;
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

  signature = call_sign_locked (self, session, input_data, input_size, error);
  if (signature == NULL)
    return NULL;
  return check_signature (certificate, digest, data, is_ec, signature, error);
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

  /* Logged in already (imzala_token_login(), imzala-token-session.c): sign
   * in that session, without a second C_Login, and leave it open. */
  imzala_module_lock (self->module);
  if (imzala_token_lookup_login_session_locked (self, &session))
    {
      if (!imzala_cancelled (cancellable, error))
        signature = sign_locked (self, session, certificate, pin, digest, data,
                                 is_ec, cancellable, error);
      imzala_module_unlock (self->module);
      return signature;
    }
  imzala_module_unlock (self->module);

  if (!imzala_token_check_pin_length (self, pin, error))
    return NULL;
  if (imzala_cancelled (cancellable, error))
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

