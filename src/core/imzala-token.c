/* imzala-token.c: an ImzalaToken's life: reading its slot, token
 * information and certificates, the getters and URIs, refreshing the PIN
 * state, and the login shared by signing (imzala-token-sign.c) and PIN
 * management (imzala-token-pin.c). CKR_* mapping is in imzala-pkcs11-error.c,
 * attribute and object helpers in imzala-pkcs11-object.c.
 */
#define G_LOG_DOMAIN "imzala-pkcs11"

#include "config.h"

#include <string.h>
#include <glib/gi18n-lib.h>

#include "imzala-error.h"
#include "imzala-token-private.h"
#include "imzala-cancel-private.h"

G_DEFINE_FINAL_TYPE (ImzalaToken, imzala_token, G_TYPE_OBJECT)

static void
imzala_token_finalize (GObject *object)
{
  ImzalaToken *self = IMZALA_TOKEN (object);

  g_clear_pointer (&self->certificates, g_ptr_array_unref);
  g_clear_pointer (&self->carried_certificates, g_ptr_array_unref);
  g_clear_object (&self->module);
  g_free (self->slot_description);
  g_free (self->label);
  g_free (self->manufacturer);
  g_free (self->model);
  g_free (self->serial);
  g_free (self->only_fingerprint);
  g_clear_pointer (&self->only_uri, p11_kit_uri_free);
  g_free (self->only_uri_string);
  g_mutex_clear (&self->info_lock);
  imzala_token_pin_pad_finalize (self);

  G_OBJECT_CLASS (imzala_token_parent_class)->finalize (object);
}

static void
imzala_token_class_init (ImzalaTokenClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = imzala_token_finalize;
  imzala_token_pin_pad_class_init (object_class);
}

static void
imzala_token_init (ImzalaToken *self)
{
  g_mutex_init (&self->info_lock);
  imzala_token_pin_pad_init (self);
  self->certificates = g_ptr_array_new_with_free_func (g_object_unref);
  self->carried_certificates = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
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
/* ---- Construction ---- */

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

static void
read_certificate_objects (CK_FUNCTION_LIST  *functions,
                          CK_SESSION_HANDLE  session,
                          GArray            *handles,
                          GArray            *objects)
{
  for (guint i = 0; i < handles->len; i++)
    {
      CK_OBJECT_HANDLE handle = g_array_index (handles, CK_OBJECT_HANDLE, i);
      CertificateObject object = { 0 };

      imzala_pkcs11_get_certificate_attributes (functions, session, handle,
                                                &object.value, &object.id, &object.label);
      if (object.value == NULL)
        {
          certificate_object_clear (&object);
          continue;
        }
      g_array_append_val (objects, object);
    }
}

/* Whether the listing names certificates one by one: by a fingerprint, or
 * by a URI that names an object (its id or label). */
static gboolean
names_objects (ImzalaToken *self)
{
  return self->only_fingerprint != NULL
         || (self->only_uri != NULL
             && (p11_kit_uri_get_attribute (self->only_uri, CKA_ID) != NULL
                 || p11_kit_uri_get_attribute (self->only_uri, CKA_LABEL) != NULL));
}

static gboolean
object_is_named (ImzalaToken       *self,
                 CertificateObject *object)
{
  g_autofree char *fingerprint = NULL;

  if (self->only_uri != NULL)
    return imzala_pkcs11_uri_names_object (self->only_uri, object->id, object->label);
  fingerprint = g_compute_checksum_for_bytes (G_CHECKSUM_SHA256, object->value);
  return g_str_has_prefix (fingerprint, self->only_fingerprint);
}

/* imzala_token_new_only(): parsing a certificate costs far more than
 * hashing it (d2i_X509 decodes its public key through OpenSSL 3's
 * decoders), so a command that signs with one named certificate keeps it
 * and drops the other end-entity certificates unparsed. The CA
 * certificates are kept unparsed too, as DER in carried_certificates: a
 * signature carries those of its card, and the SignedData takes them as
 * DER (imzala_cms_sign_full()). A card without the named certificate keeps
 * nothing, and its keys are not read. Returns whether the named
 * certificate is among @objects, which then holds only it (or them, when a
 * URI names several). */
static gboolean
keep_only_named (ImzalaToken *self,
                 GArray      *objects)
{
  gboolean found = FALSE;

  for (guint i = 0; i < objects->len;)
    {
      CertificateObject *object = &g_array_index (objects, CertificateObject, i);

      if (object_is_named (self, object))
        found = TRUE;
      else if (imzala_certificate_der_is_end_entity (object->value))
        {
          self->n_skipped++;
          g_array_remove_index (objects, i);
          continue;
        }
      i++;
    }
  if (!found)
    {
      self->n_skipped += objects->len;
      g_array_set_size (objects, 0);
      return FALSE;
    }

  for (guint i = 0; i < objects->len;)
    {
      CertificateObject *object = &g_array_index (objects, CertificateObject, i);

      if (object_is_named (self, object))
        {
          i++;
          continue;
        }
      g_ptr_array_add (self->carried_certificates, g_bytes_ref (object->value));
      g_array_remove_index (objects, i);
    }
  return TRUE;
}

/* A listing for one certificate (imzala_token_new_only()) on the usual
 * card: one key with the certificate's CKA_ID that fits it, found with one
 * search and read alone, as signing finds it (find_private_key_locked() in
 * imzala-token-sign.c): the public key standing in for the private key, as
 * in a full listing, or the private key on a card without public key
 * objects. The public key is searched first because before login most
 * cards (AKİS, SoftHSM) hide the private key and show the public one: one
 * search instead of two (three calls into the module fewer). A card that
 * shows both pairs the same either way: the key is checked against the
 * certificate, and signing finds the private key again after login.
 * Reading every key of the card to weigh them (imzala_pkcs11_read_keys(),
 * twice) costs a dozen calls into the module for a card of several
 * certificates; anything else than this one clear case still goes that
 * way. Returns the certificate, paired, or NULL. */
static ImzalaCertificate *
pair_by_id_locked (ImzalaToken       *self,
                   CK_SESSION_HANDLE  session,
                   CertificateObject *object)
{
  static const CK_OBJECT_CLASS classes[] = { CKO_PUBLIC_KEY, CKO_PRIVATE_KEY };
  CK_FUNCTION_LIST *functions = imzala_module_get_functions (self->module);
  g_autoptr(ImzalaCertificate) certificate = NULL;

  if (object->id == NULL || g_bytes_get_size (object->id) == 0)
    return NULL;

  for (guint i = 0; i < G_N_ELEMENTS (classes); i++)
    {
      CK_OBJECT_CLASS klass = classes[i];
      gsize id_size;
      gconstpointer id_data = g_bytes_get_data (object->id, &id_size);
      CK_ATTRIBUTE template[] = {
        { CKA_CLASS, &klass, sizeof klass },
        { CKA_ID, (gpointer) id_data, id_size },
      };
      g_autoptr(GArray) handles = NULL;
      g_autoptr(GArray) keys = NULL;
      ImzalaPkcs11Key key;
      guint index;
      CK_RV rv;

      handles = imzala_pkcs11_find_objects (functions, session, template, G_N_ELEMENTS (template), &rv);
      if (handles == NULL || handles->len > 1)
        return NULL;
      if (handles->len == 0)
        continue;

      certificate = imzala_certificate_new_from_der (object->value, NULL);
      if (certificate == NULL)
        return NULL;
      keys = imzala_pkcs11_new_key_array ();
      imzala_pkcs11_read_key (functions, session, g_array_index (handles, CK_OBJECT_HANDLE, 0), klass, &key);
      g_array_append_val (keys, key);
      if (imzala_pkcs11_pair_key (keys, NULL, imzala_certificate_get_x509 (certificate), object->id,
                                  NULL, &index) != IMZALA_KEY_PAIRING_BY_ID)
        return NULL;

      imzala_certificate_set_object_info (certificate, object->id, object->label, TRUE);
      imzala_certificate_set_key_pairing (certificate, IMZALA_KEY_PAIRING_BY_ID);
      return g_steal_pointer (&certificate);
    }
  return NULL;
}

/* Reads the certificates and pairs each with its key, without logging in
 * (imzala_pkcs11_pair_key(), the pairing signing uses too). Cards differ:
 * some show their private keys before login, many hide them (CKA_PRIVATE)
 * but show the public key, some show neither. */
static gboolean
read_certificates_locked (ImzalaToken   *self,
                          GCancellable  *cancellable,
                          GError       **error)
{
  CK_FUNCTION_LIST *functions = imzala_module_get_functions (self->module);
  CK_OBJECT_CLASS certificate_class = CKO_CERTIFICATE;
  CK_CERTIFICATE_TYPE x509_type = CKC_X_509;
  CK_ATTRIBUTE certificate_template[] = {
    { CKA_CLASS, &certificate_class, sizeof certificate_class },
    { CKA_CERTIFICATE_TYPE, &x509_type, sizeof x509_type },
  };
  g_autoptr(GArray) objects = g_array_new (FALSE, TRUE, sizeof (CertificateObject));
  g_autoptr(GArray) certificate_handles = NULL;
  g_autoptr(GArray) private_keys = NULL;
  g_autoptr(GArray) public_keys = NULL;
  CK_SESSION_HANDLE session;
  CK_RV rv;

  g_array_set_clear_func (objects, (GDestroyNotify) certificate_object_clear);

  rv = functions->C_OpenSession (self->slot, CKF_SERIAL_SESSION, NULL, NULL, &session);
  if (!imzala_pkcs11_set_error_full (error, rv, self, CKU_USER, "C_OpenSession"))
    return FALSE;

  certificate_handles = imzala_pkcs11_find_objects (functions, session, certificate_template,
                                                    G_N_ELEMENTS (certificate_template), &rv);
  if (certificate_handles != NULL && names_objects (self))
    {
      read_certificate_objects (functions, session, certificate_handles, objects);
      if (!keep_only_named (self, objects))
        {
          functions->C_CloseSession (session);
          return TRUE;
        }
      if (objects->len == 1)
        {
          ImzalaCertificate *certificate = pair_by_id_locked (self, session,
                                                              &g_array_index (objects, CertificateObject, 0));

          if (certificate != NULL)
            {
              g_ptr_array_add (self->certificates, certificate);
              functions->C_CloseSession (session);
              return !imzala_cancelled (cancellable, error);
            }
        }
    }
  if (certificate_handles != NULL)
    private_keys = imzala_pkcs11_read_keys (functions, session, CKO_PRIVATE_KEY, &rv);
  if (private_keys != NULL)
    public_keys = imzala_pkcs11_read_keys (functions, session, CKO_PUBLIC_KEY, &rv);
  if (public_keys == NULL)
    {
      functions->C_CloseSession (session);
      return imzala_pkcs11_set_error_full (error, rv, self, CKU_USER, "C_FindObjects");
    }

  if (!names_objects (self))
    read_certificate_objects (functions, session, certificate_handles, objects);

  for (guint i = 0; i < objects->len; i++)
    {
      CertificateObject *object = &g_array_index (objects, CertificateObject, i);
      g_autoptr(GError) parse_error = NULL;
      g_autoptr(ImzalaCertificate) certificate = NULL;
      gboolean has_id = object->id != NULL && g_bytes_get_size (object->id) > 0;
      ImzalaKeyPairing pairing;
      guint index;

      if (imzala_is_cancelled (cancellable))
        break;

      certificate = imzala_certificate_new_from_der (object->value, &parse_error);
      if (certificate == NULL)
        {
          g_debug ("Skipping a certificate on %s that cannot be read: %s",
                   self->label, parse_error->message);
          continue;
        }

      /* The private keys when the card shows them; else the public keys
       * stand in for them (the pair is checked again when signing). */
      pairing = imzala_pkcs11_pair_key (private_keys, public_keys, imzala_certificate_get_x509 (certificate),
                                        has_id ? object->id : NULL, object->label, &index);
      if (pairing == IMZALA_KEY_PAIRING_NONE)
        pairing = imzala_pkcs11_pair_key (public_keys, NULL, imzala_certificate_get_x509 (certificate),
                                          has_id ? object->id : NULL, object->label, &index);

      /* A card that shows no key object at all before login hides them
       * all: an end-entity certificate may have its key, paired when
       * signing after login. Listing says so rather than claim a pair. */
      if (pairing == IMZALA_KEY_PAIRING_NONE && private_keys->len == 0 && public_keys->len == 0
          && !imzala_certificate_is_ca (certificate))
        pairing = IMZALA_KEY_PAIRING_HIDDEN;

      imzala_certificate_set_object_info (certificate,
                                          has_id ? object->id : NULL,
                                          object->label, pairing != IMZALA_KEY_PAIRING_NONE);
      imzala_certificate_set_key_pairing (certificate, pairing);
      g_ptr_array_add (self->certificates, g_steal_pointer (&certificate));
    }

  functions->C_CloseSession (session);

  return !imzala_cancelled (cancellable, error);
}

/* The certificates are read once per card insertion (see the cache in
 * imzala-module.c). A token without certificates is not kept: it is cheap
 * to read again, and a card that shows its certificates only after login
 * must not stay empty. */
static gboolean
read_or_reuse_certificates_locked (ImzalaToken   *self,
                                   GCancellable  *cancellable,
                                   GError       **error)
{
  GPtrArray *cached = imzala_module_lookup_certificates (self->module, self->slot, &self->token_info);

  /* A list read for one certificate is not the card's list: it is never
   * cached (a cached full list serves it well, though). */

  if (cached != NULL)
    {
      for (guint i = 0; i < cached->len; i++)
        g_ptr_array_add (self->certificates, g_object_ref (g_ptr_array_index (cached, i)));
      return TRUE;
    }

  if (!read_certificates_locked (self, cancellable, error))
    {
      imzala_module_forget_slot (self->module, self->slot);
      return FALSE;
    }
  if (self->certificates->len > 0 && !names_objects (self))
    imzala_module_store_certificates (self->module, self->slot, &self->token_info, self->certificates);
  return TRUE;
}

gboolean
imzala_token_refresh_locked (ImzalaToken  *self,
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

gboolean
imzala_token_matches_uri (ImzalaToken *self,
                          P11KitUri   *uri)
{
  CK_TOKEN_INFO token_info;
  CK_SLOT_ID slot_id;

  g_return_val_if_fail (IMZALA_IS_TOKEN (self), FALSE);

  if (!p11_kit_uri_match_module_info (uri, imzala_module_get_info (self->module)))
    return FALSE;
  if (!p11_kit_uri_match_slot_info (uri, &self->slot_info))
    return FALSE;
  slot_id = p11_kit_uri_get_slot_id (uri);
  if (slot_id != (CK_SLOT_ID) -1 && slot_id != self->slot)
    return FALSE;
  imzala_token_get_token_info (self, &token_info);
  return p11_kit_uri_match_token_info (uri, &token_info);
}

ImzalaToken *
imzala_token_new (ImzalaModule  *module,
                  CK_SLOT_ID     slot,
                  GCancellable  *cancellable,
                  GError       **error)
{
  return imzala_token_new_only (module, slot, NULL, NULL, cancellable, error);
}

ImzalaToken *
imzala_token_new_only (ImzalaModule  *module,
                       CK_SLOT_ID     slot,
                       const char    *only_fingerprint,
                       const char    *only_uri,
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
  self->only_fingerprint = g_strdup (only_fingerprint);
  self->only_uri_string = g_strdup (only_uri);
  /* A URI that does not parse restricts nothing: every card and certificate
   * is read, and imzala_module_set_find_certificate() says what is wrong. */
  self->only_uri = imzala_pkcs11_uri_parse (only_uri);
  functions = imzala_module_get_functions (module);

  imzala_module_lock (module);
  rv = functions->C_GetSlotInfo (slot, &self->slot_info);
  /* The slot was listed with a token a moment ago (imzala-module-set.c
   * leaves empty readers out): the card was pulled out since. */
  if (rv == CKR_OK && !(self->slot_info.flags & CKF_TOKEN_PRESENT))
    rv = CKR_TOKEN_NOT_PRESENT;
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
      self->slot_description = imzala_pkcs11_padded_to_utf8 (self->slot_info.slotDescription,
                                                             sizeof self->slot_info.slotDescription);
      self->label = imzala_pkcs11_padded_to_utf8 (self->token_info.label, sizeof self->token_info.label);
      self->manufacturer = imzala_pkcs11_padded_to_utf8 (self->token_info.manufacturerID,
                                                         sizeof self->token_info.manufacturerID);
      self->model = imzala_pkcs11_padded_to_utf8 (self->token_info.model, sizeof self->token_info.model);
      self->serial = imzala_pkcs11_padded_to_utf8 (self->token_info.serialNumber,
                                                   sizeof self->token_info.serialNumber);
      /* A card that the certificate's URI does not name is left unread: no
       * session, no search (issue 12; SoftHSM reads every object file of a
       * token for a session's first search). */
      self->not_named = self->only_uri != NULL && !imzala_token_matches_uri (self, self->only_uri);
      ok = TRUE;
    }
  else
    {
      ok = imzala_pkcs11_set_error_full (error, rv, NULL, CKU_USER, "C_GetTokenInfo");
    }
  if (ok && !self->not_named)
    {
      /* A card pulled out while its objects were read leaves attributes
       * that could not be read and keys that were not found: the listing
       * would say "no certificate" or "no private key" for a removal. */
      ok = read_or_reuse_certificates_locked (self, cancellable, error);
      if (ok && !imzala_token_check_present_locked (self, error))
        {
          /* What was read before the card went is not the card's list. */
          imzala_module_forget_slot (self->module, self->slot);
          ok = FALSE;
        }
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

gboolean
imzala_token_has_certificate (ImzalaToken       *self,
                              ImzalaCertificate *certificate)
{
  g_return_val_if_fail (IMZALA_IS_TOKEN (self), FALSE);
  g_return_val_if_fail (IMZALA_IS_CERTIFICATE (certificate), FALSE);

  /* The same object, not an equal one: a certificate read again after a
   * card event is another object, and its token another token. */
  return g_ptr_array_find (self->certificates, certificate, NULL);
}

gboolean
imzala_token_is_same_card (ImzalaToken *self,
                           ImzalaToken *other)
{
  g_return_val_if_fail (IMZALA_IS_TOKEN (self), FALSE);
  g_return_val_if_fail (IMZALA_IS_TOKEN (other), FALSE);

  return self == other ||
         (self->module == other->module && self->slot == other->slot &&
          g_strcmp0 (self->serial, other->serial) == 0);
}

char *
imzala_token_dup_certificate_uri (ImzalaToken       *self,
                                  ImzalaCertificate *certificate)
{
  g_return_val_if_fail (IMZALA_IS_TOKEN (self), NULL);
  g_return_val_if_fail (IMZALA_IS_CERTIFICATE (certificate), NULL);

  if (!imzala_token_has_certificate (self, certificate))
    return NULL;
  /* p11-kit formats it (RFC 7512 percent-encoding, token model,
   * manufacturer, serial and label, id, object and type=cert), so that the
   * URI matches what p11_kit_uri_parse() reads back in the certificate
   * selector. */
  return imzala_token_format_object_uri (self, CKO_CERTIFICATE,
                                         imzala_certificate_get_id (certificate),
                                         imzala_certificate_get_label (certificate));
}

/* ---- Refresh ---- */

typedef struct
{
  ImzalaToken *token;
  GCancellable *cancellable;
} RefreshCall;

static gboolean
refresh_call_cb (gpointer   user_data,
                 GError   **error)
{
  RefreshCall *call = user_data;

  return imzala_token_refresh (call->token, call->cancellable, error);
}

gboolean
imzala_token_refresh (ImzalaToken   *self,
                      GCancellable  *cancellable,
                      GError       **error)
{
  gboolean ok;

  g_return_val_if_fail (IMZALA_IS_TOKEN (self), FALSE);

  /* Called from another thread (the CLI): run on the module's thread. */
  if (!imzala_module_is_current_thread (self->module))
    {
      RefreshCall call = { self, cancellable };

      return imzala_module_call (self->module, refresh_call_cb, &call, error);
    }

  if (imzala_cancelled (cancellable, error))
    return FALSE;

  imzala_module_lock (self->module);
  ok = imzala_token_refresh_locked (self, error);
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
  imzala_module_run_task (self->module, task, refresh_thread);
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

/* The card's PIN length range as İmzala trusts it: a module that reports 0,
 * CK_UNAVAILABLE_INFORMATION or an absurd range (a minimum longer than any
 * PIN İmzala keeps, a maximum below the minimum) leaves that bound unknown
 * (0), so that no PIN is refused on the word of a confused module. */
void
imzala_token_get_pin_length_range (ImzalaToken *self,
                                   guint       *min,
                                   guint       *max)
{
  guint lo = imzala_token_get_min_pin_length (self);
  guint hi = imzala_token_get_max_pin_length (self);

  if (lo > IMZALA_SECRET_MAX_LENGTH)
    lo = 0;
  if (hi > 0 && hi < lo)
    lo = hi = 0;
  *min = lo;
  *max = hi;
}

static gboolean
check_secret_length (ImzalaToken         *self,
                     const ImzalaSecret  *secret,
                     gboolean             puk,
                     GError             **error)
{
  guint min;
  guint max;
  gsize length;

  if (secret == NULL)
    {
      if (imzala_token_has_pin_pad (self))
        return TRUE;
      if (puk)
        g_set_error_literal (error, IMZALA_ERROR, IMZALA_ERROR_PUK_REQUIRED, _("Enter the PUK."));
      else
        g_set_error_literal (error, IMZALA_ERROR, IMZALA_ERROR_PIN_REQUIRED, _("Enter the PIN."));
      return FALSE;
    }

  imzala_token_get_pin_length_range (self, &min, &max);
  length = imzala_secret_get_length (secret);
  if (length > 0 && (min == 0 || length >= min) && (max == 0 || length <= max))
    return TRUE;

  g_debug ("A %s of %" G_GSIZE_FORMAT " characters is outside %u..%u on %s; not sent to the card",
           puk ? "PUK" : "PIN", length, min, max, self->label);
  if (puk)
    imzala_pkcs11_set_puk_length_error (error, self);
  else
    imzala_pkcs11_set_pin_length_error (error, self);
  return FALSE;
}

/* Checks a PIN against the card's length limits before it reaches the card:
 * on many cards a PIN of the wrong length still costs a try. */
gboolean
imzala_token_check_pin_length (ImzalaToken         *self,
                               const ImzalaSecret  *pin,
                               GError             **error)
{
  return check_secret_length (self, pin, FALSE, error);
}

/* PKCS#11 has one length range for every PIN of a token (ulMinPinLen and
 * ulMaxPinLen, "the PIN"), the SO PIN included, so the PUK is held to it
 * too. */
gboolean
imzala_token_check_puk_length (ImzalaToken         *self,
                               const ImzalaSecret  *puk,
                               GError             **error)
{
  return check_secret_length (self, puk, TRUE, error);
}

/* C_Login; after a wrong secret the token information is read again so the
 * error can tell how many tries are left. */
gboolean
imzala_token_login_locked (ImzalaToken        *self,
                           CK_SESSION_HANDLE   session,
                           CK_USER_TYPE        user,
                           ImzalaSecret       *secret,
                           GError            **error)
{
  CK_FUNCTION_LIST *functions = imzala_module_get_functions (self->module);
  gboolean on_reader = secret == NULL && imzala_token_has_pin_pad (self);
  ImzalaPinPadWait wait;
  CK_RV rv;

  /* The PIN typed on the reader: the user is told which entry this is, and
   * İptal may end the wait. */
  if (on_reader)
    imzala_token_pin_pad_wait_begin_locked (self, session, imzala_token_pin_pad_message (user), &wait);
  rv = functions->C_Login (session, user, imzala_token_secret_data (secret), imzala_token_secret_length (secret));
  if (on_reader && !imzala_token_pin_pad_wait_end_locked (self, &wait, error))
    return FALSE;
  if (rv == CKR_OK || (rv == CKR_USER_ALREADY_LOGGED_IN && user != CKU_CONTEXT_SPECIFIC))
    return TRUE;

  if (rv == CKR_PIN_INCORRECT || rv == CKR_PIN_LOCKED)
    imzala_token_refresh_locked (self, NULL);
  return imzala_pkcs11_set_error_full (error, rv, self, user, "C_Login");
}

/* ---- Removal ---- */

gboolean
imzala_token_check_present_locked (ImzalaToken  *self,
                                   GError      **error)
{
  CK_FUNCTION_LIST *functions = imzala_module_get_functions (self->module);
  CK_SLOT_INFO info;
  CK_RV rv;

  rv = functions->C_GetSlotInfo (self->slot, &info);
  if (rv == CKR_OK && !(info.flags & CKF_TOKEN_PRESENT))
    rv = CKR_TOKEN_NOT_PRESENT;
  if (rv == CKR_OK)
    return TRUE;
  if (!imzala_pkcs11_rv_means_removed (rv))
    {
      g_debug ("C_GetSlotInfo on %s: %s", self->label, p11_kit_strerror (rv));
      return TRUE;
    }
  return imzala_pkcs11_set_error_full (error, rv, self, CKU_USER, "C_GetSlotInfo");
}
