/* imzala-token-list.h: the cards (ImzalaToken) of an ImzalaModuleSet, as one
 * shared list.
 *
 * The application owns one list and hands it to the signing job and to the
 * pages, so that a card going in or out costs one PKCS#11 enumeration, not
 * one per reader of the list. It is a GListModel of ImzalaToken; a refresh
 * replaces every item (tokens are new objects after each enumeration) with
 * one items-changed, then turns "loading" off.
 *
 * Properties, all read-only and notified on the main context the list was
 * made on:
 *   "module-set" ImzalaModuleSet, the loaded modules the tokens come from
 *   "loading"    gboolean, TRUE while an enumeration runs
 *   "error"      GError (boxed), why the last enumeration failed, or NULL;
 *                a failed enumeration empties the list
 *
 * A refresh asked for while one runs does not start a second enumeration at
 * once: it is served by one more enumeration after the running one, shared
 * by every caller that asked meanwhile, so that a card event is never
 * answered with a list made before it.
 */
#pragma once

#include <gio/gio.h>

#include "imzala-module-set.h"
#include "imzala-token.h"

G_BEGIN_DECLS

#define IMZALA_TYPE_TOKEN_LIST (imzala_token_list_get_type ())
G_DECLARE_FINAL_TYPE (ImzalaTokenList, imzala_token_list, IMZALA, TOKEN_LIST, GObject)

/* @module_set must already be loaded (or see imzala_token_list_hold()).
 * The list starts empty: call
 * imzala_token_list_refresh_async() to fill it. */
ImzalaTokenList *imzala_token_list_new            (ImzalaModuleSet  *module_set);
ImzalaModuleSet *imzala_token_list_get_module_set (ImzalaTokenList  *self);
gboolean         imzala_token_list_get_loading    (ImzalaTokenList  *self);
const GError    *imzala_token_list_get_error      (ImzalaTokenList  *self);
/* The tokens now in the list, as a new array (for code that wants a
 * snapshot that the next refresh does not change). */
GPtrArray       *imzala_token_list_dup_tokens     (ImzalaTokenList  *self);

/* Lists the tokens again. The callback runs after the list has changed;
 * finish returns FALSE with the enumeration's error (the list is then
 * empty) or G_IO_ERROR_CANCELLED when @cancellable was cancelled (the
 * enumeration itself goes on for the other callers). */
void             imzala_token_list_refresh_async  (ImzalaTokenList     *self,
                                                   GCancellable        *cancellable,
                                                   GAsyncReadyCallback  callback,
                                                   gpointer             user_data);
gboolean         imzala_token_list_refresh_finish (ImzalaTokenList     *self,
                                                   GAsyncResult        *result,
                                                   GError             **error);
/* Fire and forget: the same, without a callback. */
void             imzala_token_list_refresh        (ImzalaTokenList     *self);

/* A list made before its module set is loaded (the application's, so that
 * a request that arrives at start-up is shown at once): hold() makes every
 * refresh wait, with "loading" TRUE; release(), once the modules are
 * loaded, starts one enumeration for all of them. */
void             imzala_token_list_hold           (ImzalaTokenList     *self);
void             imzala_token_list_release        (ImzalaTokenList     *self);

G_END_DECLS
