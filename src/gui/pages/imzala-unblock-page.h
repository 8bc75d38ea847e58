/* imzala-unblock-page.h: Kilit Çözme — a new PIN set with the PUK, or with
 * the unblock authorisation a portal releases for a verified request (an
 * ImzalaSigningJob whose purpose is IMZALA_PURPOSE_UNBLOCK).
 *
 * The page owns the action unblock.unblock-pin (its button and Enter in the
 * form): with the PUK it unblocks on the card itself and refreshes the token
 * list; with a job it hands the new PIN to the job and follows its state. */
#pragma once

#include <adwaita.h>

#include "imzala-signing-job.h"
#include "imzala-token.h"
#include "imzala-token-list.h"

G_BEGIN_DECLS

#define IMZALA_TYPE_UNBLOCK_PAGE (imzala_unblock_page_get_type ())
G_DECLARE_FINAL_TYPE (ImzalaUnblockPage, imzala_unblock_page, IMZALA, UNBLOCK_PAGE, AdwBin)

/* The cards for the PUK way, followed as the list changes. */
void         imzala_unblock_page_set_token_list (ImzalaUnblockPage *self,
                                                 ImzalaTokenList   *token_list);
/* An unblock job in CHOOSING switches the page to the portal way (its cards,
 * no PUK field); NULL switches back. */
void         imzala_unblock_page_set_job    (ImzalaUnblockPage *self, ImzalaSigningJob *job);
ImzalaSigningJob *imzala_unblock_page_get_job (ImzalaUnblockPage *self);
ImzalaToken *imzala_unblock_page_get_token  (ImzalaUnblockPage *self);
/* Checks and hands over the fields (wiping them): @puk is NULL for the
 * portal way and on a pin-pad token, @new_pin NULL on a pin-pad token. */
gboolean     imzala_unblock_page_take_secrets (ImzalaUnblockPage *self,
                                               ImzalaSecret     **puk,
                                               ImzalaSecret     **new_pin,
                                               GError           **error);
void         imzala_unblock_page_set_busy   (ImzalaUnblockPage *self, gboolean busy);
void         imzala_unblock_page_set_error  (ImzalaUnblockPage *self, const char *message);
void         imzala_unblock_page_reset      (ImzalaUnblockPage *self);

G_END_DECLS
