/* imzala-tokens-page.h: Kartlar — the readers, cards and certificates found,
 * each certificate's details, and which PKCS#11 modules loaded or failed. */
#pragma once

#include <adwaita.h>

#include "imzala-module-set.h"
#include "imzala-reader-monitor.h"
#include "imzala-token-list.h"

G_BEGIN_DECLS

#define IMZALA_TYPE_TOKENS_PAGE (imzala_tokens_page_get_type ())
G_DECLARE_FINAL_TYPE (ImzalaTokensPage, imzala_tokens_page, IMZALA, TOKENS_PAGE, AdwBin)

/* The cards, listed again whenever @token_list changes (a spinner turns
 * while it loads), and the modules of its module set; @load_error: why no
 * module at all could be loaded (nullable). NULL shows neither. */
void imzala_tokens_page_set_token_list (ImzalaTokensPage *self,
                                        ImzalaTokenList  *token_list,
                                        const GError     *load_error);
/* The PC/SC readers, listed live (NULL hides the list). */
void imzala_tokens_page_set_reader_monitor (ImzalaTokensPage    *self,
                                            ImzalaReaderMonitor *monitor);

G_END_DECLS
