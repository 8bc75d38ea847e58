/* imzala-pkcs11-private.h: what the PKCS#11 files of libimzala-core share.
 *
 * Not installed and not included by imzala-core.h: only files in src/core
 * (and the core tests) see the raw CK_FUNCTION_LIST. Every call into a module
 * is made on the module's thread (imzala_module_get_functions() warns
 * elsewhere), between imzala_module_lock() and imzala_module_unlock().
 */
#pragma once

#include <gio/gio.h>
#include <p11-kit/p11-kit.h>
#include <p11-kit/pkcs11.h>
#include <p11-kit/uri.h>

#include "imzala-certificate.h"
#include "imzala-module.h"
#include "imzala-token.h"

G_BEGIN_DECLS

/* ---- ImzalaModule (imzala-module.c) ---- */

/* A module object for @name with its worker thread started, but nothing
 * loaded yet: the loader runs on that thread (imzala_module_call()) and
 * hands over the initialised function list with one of the take functions
 * below. A module that fails to load is simply unreferenced. @on_caller:
 * no thread is started; the module is called on the calling thread only,
 * each item as it is queued (imzala_module_set_set_single_thread()). */
ImzalaModule     *imzala_module_new           (const char       *name,
                                               const char       *path,
                                               gboolean          on_caller);
/* On the module's thread: @functions was loaded by p11-kit (registered or by
 * path) and initialised; it is finalised and released on close. */
void              imzala_module_take_managed  (ImzalaModule     *self,
                                               CK_FUNCTION_LIST *functions);
/* On the module's thread: @functions was loaded with dlopen() and
 * initialised with C_Initialize(NULL). @dl_handle is kept open for the life
 * of the process on purpose (see the comment in imzala-module.c).
 * @finalize says whether C_Finalize is ours to call (FALSE when the module
 * was already initialised by someone else). */
void              imzala_module_take_unmanaged (ImzalaModule     *self,
                                                gpointer          dl_handle,
                                                CK_FUNCTION_LIST *functions,
                                                gboolean          finalize);
/* Whether a function list was handed over (and not finalised yet). */
gboolean          imzala_module_is_loaded     (ImzalaModule     *self);

/* Work on the module's thread. Every *_async function of a token or the
 * module set runs its GTaskThreadFunc there with imzala_module_run_task()
 * (instead of g_task_run_in_thread()); the result comes back on the
 * caller's main context as usual. A blocking function called on another
 * thread runs itself there with imzala_module_call(), which waits, and runs
 * @func directly when already on the module's thread. Both fail with
 * IMZALA_ERROR_NO_TOKEN once the module is closed. */
typedef gboolean (*ImzalaModuleFunc) (gpointer   user_data,
                                      GError   **error);

void              imzala_module_run_task      (ImzalaModule     *self,
                                               GTask            *task,
                                               GTaskThreadFunc   task_func);
gboolean          imzala_module_call          (ImzalaModule     *self,
                                               ImzalaModuleFunc  func,
                                               gpointer          user_data,
                                               GError          **error);
gboolean          imzala_module_is_current_thread (ImzalaModule *self);

CK_FUNCTION_LIST *imzala_module_get_functions (ImzalaModule *self);
/* CK_INFO as read after C_Initialize (for PKCS#11 URI matching). */
const CK_INFO    *imzala_module_get_info      (ImzalaModule *self);

/* The certificate cache (on the module's thread only). The certificates
 * read from the token in @slot when its CK_TOKEN_INFO named the same card
 * (flags and counters aside), borrowed, or NULL. */
GPtrArray        *imzala_module_lookup_certificates (ImzalaModule        *self,
                                                     CK_SLOT_ID           slot,
                                                     const CK_TOKEN_INFO *info);
/* Keeps @certificates (ImzalaCertificate, referenced) for the card in @slot. */
void              imzala_module_store_certificates  (ImzalaModule        *self,
                                                     CK_SLOT_ID           slot,
                                                     const CK_TOKEN_INFO *info,
                                                     GPtrArray           *certificates);
/* Forgets the card in @slot (pulled out, or its objects changed: call it
 * when a login shows more certificates than before). */
void              imzala_module_forget_slot         (ImzalaModule        *self,
                                                     CK_SLOT_ID           slot);
/* Forgets every card not in @present (a fresh C_GetSlotList). */
void              imzala_module_forget_absent_slots (ImzalaModule        *self,
                                                     const CK_SLOT_ID    *present,
                                                     gsize                n_present);

/* Logged-in sessions kept open between operations (imzala-token-session.c;
 * on the module's thread only): one per slot, from imzala_token_login()
 * until imzala_token_logout(), or until the card is missing from a listing
 * (imzala_module_forget_absent_slots() closes it). PKCS#11 login state
 * belongs to the whole token, so while it is open every session of the
 * process sees what the card shows after login. */
void              imzala_module_keep_login_session   (ImzalaModule      *self,
                                                      CK_SLOT_ID         slot,
                                                      CK_SESSION_HANDLE  session);
gboolean          imzala_module_lookup_login_session (ImzalaModule      *self,
                                                      CK_SLOT_ID         slot,
                                                      CK_SESSION_HANDLE *session);
/* Removes the session from the module (the caller closes it). */
gboolean          imzala_module_take_login_session   (ImzalaModule      *self,
                                                      CK_SLOT_ID         slot,
                                                      CK_SESSION_HANDLE *session);

/* CK_INFO, CK_SLOT_INFO and CK_TOKEN_INFO strings are space padded and not
 * NUL-terminated, and vendor modules do not always put UTF-8 in them. */
char             *imzala_pkcs11_padded_to_utf8 (const CK_UTF8CHAR *text,
                                                gsize              length);

/* Serialises every call into the module. Recursive, so a function holding
 * the lock may call another that takes it. Since every call is made on the
 * module's own thread the lock is never contended; it stays as a safety net
 * and marks where an operation's session begins and ends. */
void              imzala_module_lock          (ImzalaModule *self);
void              imzala_module_unlock        (ImzalaModule *self);

/* ---- ImzalaToken (imzala-token.c) ---- */

/* Reads the slot and token information and the certificates (without
 * logging in) of the token in @slot. */
ImzalaToken          *imzala_token_new            (ImzalaModule  *module,
                                                   CK_SLOT_ID     slot,
                                                   GCancellable  *cancellable,
                                                   GError       **error);
/* The same, reading only the certificate whose SHA-256 fingerprint
 * (lower-case hex) starts with @only_fingerprint (nullable: all of them)
 * and the CA certificates beside it (see
 * imzala_module_set_only_certificate()); such a partial list is not
 * cached. With @only_uri (a PKCS#11 URI, nullable), a card the URI does
 * not name is not read at all, and on one it names only the certificates
 * it names (by id or label, when it gives either) are parsed. A re-read
 * after login keeps the same choice. */
ImzalaToken          *imzala_token_new_only       (ImzalaModule  *module,
                                                   CK_SLOT_ID     slot,
                                                   const char    *only_fingerprint,
                                                   const char    *only_uri,
                                                   GCancellable  *cancellable,
                                                   GError       **error);
/* Whether @uri's module, slot and token attributes name @self's card (its
 * object attributes are not looked at). */
gboolean              imzala_token_matches_uri    (ImzalaToken   *self,
                                                   P11KitUri     *uri);
/* A copy of the CK_TOKEN_INFO read last (for PKCS#11 URI matching). */
void                  imzala_token_get_token_info (ImzalaToken   *self,
                                                   CK_TOKEN_INFO *out);
const CK_SLOT_INFO   *imzala_token_get_slot_info  (ImzalaToken   *self);
/* A PKCS#11 URI naming an object on this token: @klass (CKO_CERTIFICATE,
 * CKO_PRIVATE_KEY, ...), @id (nullable) and @label (nullable). For
 * imzala_token_dup_certificate_uri(). */
char                 *imzala_token_format_object_uri (ImzalaToken     *self,
                                                      CK_OBJECT_CLASS  klass,
                                                      GBytes          *id,
                                                      const char      *label);

/* ---- Objects and attributes (imzala-pkcs11-object.c) ----
 *
 * The caller holds the module lock. */

/* Whether @uri's object attributes name the certificate with CKA_ID @id and
 * CKA_LABEL @label (both nullable), or its key pair. No call into a module. */
gboolean imzala_pkcs11_uri_names_object (P11KitUri  *uri,
                                         GBytes     *id,
                                         const char *label);
/* @selector (a --cert value) as a PKCS#11 URI, or NULL when it is none:
 * not "pkcs11:", not parsed, or with attributes p11-kit does not know. */
P11KitUri *imzala_pkcs11_uri_parse (const char *selector);

/* The value of one attribute, or NULL when the object has none, the module
 * refuses it or reports an implausible length. */
GBytes   *imzala_pkcs11_get_attribute       (CK_FUNCTION_LIST  *functions,
                                             CK_SESSION_HANDLE  session,
                                             CK_OBJECT_HANDLE   object,
                                             CK_ATTRIBUTE_TYPE  type);
/* Several attributes in two calls where the module allows, else one by
 * one: @values[i] is the value of @types[i] or NULL. */
void      imzala_pkcs11_get_attributes      (CK_FUNCTION_LIST        *functions,
                                             CK_SESSION_HANDLE        session,
                                             CK_OBJECT_HANDLE         object,
                                             const CK_ATTRIBUTE_TYPE *types,
                                             guint                    n_types,
                                             GBytes                 **values);
gboolean  imzala_pkcs11_get_bool_attribute  (CK_FUNCTION_LIST  *functions,
                                             CK_SESSION_HANDLE  session,
                                             CK_OBJECT_HANDLE   object,
                                             CK_ATTRIBUTE_TYPE  type);
/* CKA_LABEL as valid UTF-8, or NULL. */
char     *imzala_pkcs11_get_label_attribute (CK_FUNCTION_LIST  *functions,
                                             CK_SESSION_HANDLE  session,
                                             CK_OBJECT_HANDLE   object);
/* Handles of the objects matching @template, or NULL on error (@rv_out set). */
GArray   *imzala_pkcs11_find_objects        (CK_FUNCTION_LIST  *functions,
                                             CK_SESSION_HANDLE  session,
                                             CK_ATTRIBUTE      *template,
                                             CK_ULONG           n_template,
                                             CK_RV             *rv_out);
/* The certificate's public key as a token stores it: the RSA modulus
 * (CKA_MODULUS) or the EC point (CKA_EC_POINT, @is_ec set). */
GBytes   *imzala_pkcs11_certificate_key_material (X509     *x509,
                                                  gboolean *is_ec);
/* CKA_VALUE, CKA_ID and CKA_LABEL (valid UTF-8) of a certificate object,
 * batched when the module allows; each NULL when absent (@id and @label also
 * when @value is). */
void      imzala_pkcs11_get_certificate_attributes (CK_FUNCTION_LIST   *functions,
                                                    CK_SESSION_HANDLE   session,
                                                    CK_OBJECT_HANDLE    object,
                                                    GBytes            **value,
                                                    GBytes            **id,
                                                    char              **label);

/* A key object as pairing sees it (imzala_pkcs11_read_keys()). */
typedef struct
{
  CK_OBJECT_HANDLE handle;
  CK_OBJECT_CLASS klass;
  CK_KEY_TYPE key_type;    /* CK_UNAVAILABLE_INFORMATION when not shown */
  GBytes *id;              /* NULL when empty or not shown */
  char *label;
  GBytes *material;        /* CKA_MODULUS or CKA_EC_POINT, when shown */
  GBytes *ec_params;
} ImzalaPkcs11Key;

void      imzala_pkcs11_key_clear           (ImzalaPkcs11Key   *key);
/* What pairing needs of the key object @handle, into @key (cleared first). */
void      imzala_pkcs11_read_key            (CK_FUNCTION_LIST  *functions,
                                             CK_SESSION_HANDLE  session,
                                             CK_OBJECT_HANDLE   handle,
                                             CK_OBJECT_CLASS    klass,
                                             ImzalaPkcs11Key   *key);
/* An empty GArray of ImzalaPkcs11Key that clears its elements. */
GArray   *imzala_pkcs11_new_key_array       (void);
/* Every key object of @klass with what pairing needs, or NULL on error. */
GArray   *imzala_pkcs11_read_keys           (CK_FUNCTION_LIST  *functions,
                                             CK_SESSION_HANDLE  session,
                                             CK_OBJECT_CLASS    klass,
                                             CK_RV             *rv_out);
/* Pairs the certificate (@x509, its CKA_ID @id and CKA_LABEL @label) with
 * one of @keys: by CKA_ID, then by public key (the key's own value, or
 * through one of @public_keys, nullable), then by label; a key whose type,
 * curve or public value contradicts the certificate is never taken, and of
 * several the one showing the public key, then the one whose AKİS label
 * hints at the certificate's role, wins. Sets @index_out unless NONE. Used
 * by listing (imzala-token.c) and signing (imzala-token-sign.c) alike. */
ImzalaKeyPairing imzala_pkcs11_pair_key     (GArray            *keys,
                                             GArray            *public_keys,
                                             X509              *x509,
                                             GBytes            *id,
                                             const char        *label,
                                             guint             *index_out);

/* ---- Errors (imzala-pkcs11-error.c) ---- */

/* Maps @rv to a GError in IMZALA_ERROR (or G_IO_ERROR_CANCELLED for
 * CKR_FUNCTION_CANCELED) with a translated sentence for the user; the
 * CKR_* name goes to g_debug() only. @token (nullable) is consulted for the
 * PIN state so that CKR_PIN_INCORRECT can say how many tries are left:
 * refresh it first. Returns TRUE when @rv is CKR_OK (and sets nothing),
 * FALSE when it set @error, so it reads as
 * `if (!imzala_pkcs11_set_error (error, rv, token)) goto out;`. */
gboolean imzala_pkcs11_set_error      (GError     **error,
                                       CK_RV        rv,
                                       ImzalaToken *token);
/* The same for a given user type: with CKU_SO a wrong or locked secret is
 * the PUK (PUK_INCORRECT, PUK_LOCKED). @call names the PKCS#11 function for
 * the debug log. */
gboolean imzala_pkcs11_set_error_full (GError      **error,
                                       CK_RV         rv,
                                       ImzalaToken  *token,
                                       CK_USER_TYPE  user,
                                       const char   *call);
/* PIN_LEN_RANGE with the length rules of @token (nullable) in the message. */
void     imzala_pkcs11_set_pin_length_error (GError     **error,
                                             ImzalaToken *token);
void     imzala_pkcs11_set_puk_length_error (GError     **error,
                                             ImzalaToken *token);
/* Whether @rv is what a module answers once the card has left its reader
 * (or the reader was unplugged): imzala_pkcs11_set_error() makes these
 * IMZALA_ERROR_TOKEN_REMOVED. */
gboolean imzala_pkcs11_rv_means_removed (CK_RV rv);

G_END_DECLS
