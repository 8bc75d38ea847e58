/* imzala-window-private.h: the window's fields, shared by imzala-window.c
 * (pages and the signing job) and imzala-window-actions.c (the win.*
 * actions). */
#pragma once

#include "imzala-code-page.h"
#include "imzala-doctor-page.h"
#include "imzala-failure-page.h"
#include "imzala-file-sign-page.h"
#include "imzala-pin-change-page.h"
#include "imzala-portal-confirm-page.h"
#include "imzala-result-page.h"
#include "imzala-settings.h"
#include "imzala-sign-page.h"
#include "imzala-signing-job.h"
#include "imzala-token-list.h"
#include "imzala-tokens-page.h"
#include "imzala-unblock-page.h"
#include "imzala-verify-page.h"
#include "imzala-window.h"

G_BEGIN_DECLS

struct _ImzalaWindow
{
  AdwApplicationWindow     parent_instance;

  /* Template widgets. */
  AdwWindowTitle          *window_title;
  GtkWidget               *back_button;
  AdwToastOverlay         *toast_overlay;
  GtkStack                *stack;
  ImzalaCodePage          *code_page;
  ImzalaPortalConfirmPage *portal_confirm_page;
  GtkLabel                *loading_label;
  ImzalaSignPage          *sign_page;
  ImzalaResultPage        *result_page;
  ImzalaFailurePage       *failure_page;
  ImzalaPinChangePage     *pin_change_page;
  ImzalaFileSignPage      *file_sign_page;
  ImzalaUnblockPage       *unblock_page;
  ImzalaTokensPage        *tokens_page;
  ImzalaDoctorPage        *doctor_page;

  ImzalaSettings          *settings;         /* which portals may be asked */
  ImzalaTokenList         *token_list;       /* NULL until the modules are loaded */
  GSignalGroup            *token_list_signals;
  ImzalaReaderMonitor     *reader_monitor;
  GSignalGroup            *reader_monitor_signals;

  ImzalaSigningJob        *job;
  GSignalGroup            *job_signals;
  char                    *job_url;          /* what the current or last job used */
  char                    *job_code;
  char                    *pending_url;      /* waiting for the user's consent or the modules */
  char                    *pending_code;
  gboolean                 start_when_loaded;
  char                    *return_page;      /* where win.back leaves the tool pages to */
  char                    *portal_host;

  /* Issue 10. */
  ImzalaVerifyPage        *verify_page;

  /* Issue 12: the tool pages above, and all pages but the code page, are
   * NULL until first shown or needed; they are made into these slots by
   * imzala_window_ensure_page(). */
  AdwBin                  *pin_change_slot;
  AdwBin                  *unblock_slot;
  AdwBin                  *tokens_slot;
  AdwBin                  *doctor_slot;
  AdwBin                  *verify_slot;
  GError                  *load_error;       /* the modules' load error, for pages made later */

  /* Issue 12 (start): the pages of a request are made when first needed
   * too; only the code page and the short wait are in the first frame. */
  AdwBin                  *portal_confirm_slot;
  AdwBin                  *sign_slot;
  AdwBin                  *result_slot;
  AdwBin                  *failure_slot;
  AdwBin                  *file_sign_slot;
  GtkMenuButton           *menu_button;
  GMenuModel              *primary_menu;     /* given to menu_button on first use */
};

/* imzala-window.c */
void     imzala_window_show_page           (ImzalaWindow *self,
                                            const char   *name);
void     imzala_window_show_code_page      (ImzalaWindow *self);
void     imzala_window_portal_url_changed  (ImzalaWindow *self);
void     imzala_window_refresh_tokens      (ImzalaWindow *self);
void     imzala_window_clear_job           (ImzalaWindow *self);
/* Makes the page @name if it is a tool page not made yet; returns the page. */
GtkWidget *imzala_window_ensure_page       (ImzalaWindow *self,
                                            const char   *name);
/* Checks the portal against the allow-list before anything is sent to it. */
void     imzala_window_request_job         (ImzalaWindow *self,
                                            const char   *url,
                                            const char   *code);
void     imzala_window_start_job           (ImzalaWindow *self,
                                            const char   *url,
                                            const char   *code);

/* imzala-window-actions.c */
void     imzala_window_actions_init        (ImzalaWindow *self);
void     imzala_window_update_actions      (ImzalaWindow *self);
gboolean imzala_window_is_tool_page        (const char   *name);

G_END_DECLS
