/* imzala-tokens-page.h: Kartlar — the readers, cards and certificates found,
 * each certificate's details, and which PKCS#11 modules loaded or failed. */
#pragma once

#include <adwaita.h>

#include "imzala-module-set.h"
#include "imzala-reader-monitor.h"

G_BEGIN_DECLS

#define IMZALA_TYPE_TOKENS_PAGE (imzala_tokens_page_get_type ())
G_DECLARE_FINAL_TYPE (ImzalaTokensPage, imzala_tokens_page, IMZALA, TOKENS_PAGE, AdwBin)

/* @tokens: ImzalaToken, or NULL with @error when listing failed. */
void imzala_tokens_page_set_tokens     (ImzalaTokensPage *self,
                                        GPtrArray        *tokens,
                                        const GError     *error);
/* @load_error: why no module at all could be loaded (nullable). */
void imzala_tokens_page_set_module_set (ImzalaTokensPage *self,
                                        ImzalaModuleSet  *module_set,
                                        const GError     *load_error);
void imzala_tokens_page_set_loading    (ImzalaTokensPage *self,
                                        gboolean          loading);
/* The PC/SC readers, listed live (NULL hides the list). */
void imzala_tokens_page_set_reader_monitor (ImzalaTokensPage    *self,
                                            ImzalaReaderMonitor *monitor);

G_END_DECLS
