/* imzala-module-set.h: all PKCS#11 modules İmzala uses, and the tokens in them.
 *
 * By default every module registered with p11-kit is loaded (except trust
 * modules such as p11-kit-trust, which hold CA lists and not cards), plus the
 * modules added by path. A module that fails to load is recorded in
 * imzala_module_set_get_load_errors() and the others still work.
 */
#pragma once

#include <gio/gio.h>

#include "imzala-certificate.h"
#include "imzala-module.h"
#include "imzala-token.h"

G_BEGIN_DECLS

typedef struct
{
  char   *name;  /* module name or path as given */
  char   *path;  /* nullable */
  GError *error; /* IMZALA_ERROR_MODULE_LOAD, user-readable message */
} ImzalaModuleLoadError;

#define IMZALA_TYPE_MODULE_SET (imzala_module_set_get_type ())
G_DECLARE_FINAL_TYPE (ImzalaModuleSet, imzala_module_set, IMZALA, MODULE_SET, GObject)

ImzalaModuleSet *imzala_module_set_new (void);

/* Before load: whether to load the p11-kit registered modules (default TRUE). */
void       imzala_module_set_set_use_registered (ImzalaModuleSet *self, gboolean use_registered);
/* Before load: every module is called on the thread that loads the set,
 * with no thread of its own (default FALSE: each module has its own). For a
 * program that makes all its card calls from that one thread and may block
 * it while the card works, such as imzala-cli sign: it starts no thread and
 * no call waits for one to wake up. The *_async calls then run as they are
 * made (their callbacks still come from the main loop), and a call from
 * any other thread is refused (g_critical()). */
void       imzala_module_set_set_single_thread  (ImzalaModuleSet *self, gboolean single_thread);
/* Before load: one more module by path. The same file is never loaded twice
 * even if it is also registered. */
void       imzala_module_set_add_module_path    (ImzalaModuleSet *self, const char *path);

/* Loads and initialises the modules. Fails with IMZALA_ERROR_NO_MODULE only if
 * no module at all could be loaded. Blocking; may be called once. */
gboolean   imzala_module_set_load        (ImzalaModuleSet *self, GCancellable *cancellable, GError **error);
void       imzala_module_set_load_async  (ImzalaModuleSet *self, GCancellable *cancellable,
                                          GAsyncReadyCallback callback, gpointer user_data);
gboolean   imzala_module_set_load_finish (ImzalaModuleSet *self, GAsyncResult *result, GError **error);

GPtrArray *imzala_module_set_get_modules     (ImzalaModuleSet *self); /* ImzalaModule, borrowed */
GPtrArray *imzala_module_set_get_load_errors (ImzalaModuleSet *self); /* ImzalaModuleLoadError, borrowed */

/* Lists the tokens present now in every loaded module, each with its
 * information and certificates read without logging in. Blocking. Returns a
 * new array of ImzalaToken (with a free func); an empty array when no card is
 * inserted. Fails with IMZALA_ERROR_TOKEN_REMOVED when a card was pulled out
 * while it was read (never an empty list or a certificate without its key). */
GPtrArray *imzala_module_set_list_tokens        (ImzalaModuleSet *self, GCancellable *cancellable, GError **error);
void       imzala_module_set_list_tokens_async  (ImzalaModuleSet *self, GCancellable *cancellable,
                                                 GAsyncReadyCallback callback, gpointer user_data);
GPtrArray *imzala_module_set_list_tokens_finish (ImzalaModuleSet *self, GAsyncResult *result, GError **error);

/* Makes the blocking listings of this set read only what signing with the
 * certificate @selector names needs (issue 12): with a SHA-256 fingerprint
 * (or a prefix of it, as imzala_module_set_find_certificate() takes it) a
 * token lists that certificate and the CA certificates of its card (a
 * signature carries them); the other end-entity certificates are told
 * apart by the hash of their DER and never parsed, and a card without the
 * named certificate lists none (nor does it ask for a login to show them).
 * With a PKCS#11 URI, a card that the URI's module, slot and token
 * attributes do not name is neither opened nor searched, and lists none
 * (nor asks for a login); on the cards it names, a URI that names an object
 * (id, label) is taken as a fingerprint is, and one that names none lists
 * every certificate. NULL lists every certificate. Such a
 * partial listing is not kept in the modules' certificate cache (a cached
 * full one is used, though). With the whole fingerprint (64 hex digits),
 * imzala_module_set_list_tokens() ends at the first card (in the modules'
 * and slots' order) that holds the certificate: the cards after it are
 * neither opened nor searched, and are missing from the list. A prefix
 * lists every card, so that two matches stay an ambiguity. Call before
 * listing. */
void       imzala_module_set_only_certificate   (ImzalaModuleSet *self, const char *selector);

/* imzala_module_close() for every module of the set: C_Finalize on each
 * module's thread after the work queued before, then the thread is joined.
 * The GUI calls it at shutdown; see also imzala_module_close_all(). */
void       imzala_module_set_close              (ImzalaModuleSet *self);

/* Finds a certificate among @tokens by @selector: a PKCS#11 URI (pkcs11:...,
 * matched on token and object attributes it names) or a SHA-256 fingerprint
 * (hex, colons and case ignored). With @selector NULL, the one recommended
 * certificate; fails with IMZALA_ERROR_AMBIGUOUS_CERTIFICATE when there are
 * several, IMZALA_ERROR_NO_CERTIFICATE when there is none (the message says
 * why the ones present are not recommended). Returns a new reference, and
 * in @token_out (nullable) a new reference on the token it is on. */
ImzalaCertificate *imzala_module_set_find_certificate (GPtrArray     *tokens,
                                                       const char    *selector,
                                                       ImzalaToken  **token_out,
                                                       GError       **error);
/* The one card among @tokens that @selector, a PKCS#11 URI, names by its
 * module, slot and token attributes (borrowed), or NULL: for a fingerprint,
 * a URI that does not parse, or one that names none or several of them
 * (one that names no card attribute names every card). */
ImzalaToken       *imzala_module_set_find_named_token (GPtrArray         *tokens,
                                                       const char        *selector);
/* The token among @tokens that @certificate was read from (borrowed), or
 * NULL when none of them holds it (it was read before a card event). */
ImzalaToken       *imzala_module_set_find_token       (GPtrArray         *tokens,
                                                       ImzalaCertificate *certificate);

G_END_DECLS
