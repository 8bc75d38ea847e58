/* imzala-application.h: the single-instance application object.
 *
 * It owns the settings (ImzalaSettings, the portal allow-list), the
 * ImzalaModuleSet (loaded once, in the background, at startup), the one
 * ImzalaTokenList over it that the window's pages and signing jobs share,
 * and the ImzalaReaderMonitor; it routes every way of starting İmzala — the
 * command line, an imzala: URI, a second launch — to the one window.
 */
#pragma once

#include <adwaita.h>

#include "imzala-module-set.h"

G_BEGIN_DECLS

/* The schema id is the same for the .Devel build: one set of settings. */
#define IMZALA_SETTINGS_SCHEMA "io.github.imzala.Imzala"

#define IMZALA_TYPE_APPLICATION (imzala_application_get_type ())
G_DECLARE_FINAL_TYPE (ImzalaApplication, imzala_application, IMZALA, APPLICATION, AdwApplication)

ImzalaApplication *imzala_application_new (void);

/* Parses "imzala:?portal=URL&code=CODE" (the query of any imzala: URI).
 * Returns FALSE for anything that is not an imzala: URI; @portal and @code
 * are set to newly allocated strings or NULL. */
gboolean imzala_application_parse_uri (const char  *uri,
                                       char       **portal,
                                       char       **code);

G_END_DECLS
