/* imzala-module.h: one loaded PKCS#11 module.
 *
 * A module is loaded either managed by p11-kit (registered modules, and
 * modules named by path that accept C_Initialize with locking arguments) or
 * unmanaged with C_Initialize(NULL) for vendor modules that refuse those
 * arguments (some libakisp11 builds answer CKR_ARGUMENTS_BAD). Every call into
 * a module, C_Initialize and C_Finalize included, is made on the module's own
 * worker thread, so a single-threaded or unmanaged module only ever sees one
 * thread.
 */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

#define IMZALA_TYPE_MODULE (imzala_module_get_type ())
G_DECLARE_FINAL_TYPE (ImzalaModule, imzala_module, IMZALA, MODULE, GObject)

/* Registered name ("softhsm2", "opensc-pkcs11") or the file name for a module
 * named by path. */
const char *imzala_module_get_name         (ImzalaModule *self);
/* The file it was loaded from, when known. */
const char *imzala_module_get_path         (ImzalaModule *self);
const char *imzala_module_get_description  (ImzalaModule *self); /* CK_INFO libraryDescription */
const char *imzala_module_get_manufacturer (ImzalaModule *self); /* CK_INFO manufacturerID */
const char *imzala_module_get_version      (ImzalaModule *self); /* "2.6" */
/* TRUE when loaded unmanaged with C_Initialize(NULL). */
gboolean    imzala_module_is_unmanaged     (ImzalaModule *self);

/* Finalizes the module (C_Finalize, unload) on its thread after the work
 * queued before, and joins the thread. Tokens of the module that are still
 * alive answer every later operation with IMZALA_ERROR_NO_TOKEN. Safe to
 * call more than once. */
void        imzala_module_close            (ImzalaModule *self);
/* imzala_module_close() for every module of the process. Programs call it
 * before they return from main(): SoftHSM (and other modules) crash in their
 * exit handlers when still initialised, and a reference dropped late on
 * another thread must not finalize a module while the process exits. */
void        imzala_module_close_all        (void);

G_END_DECLS
