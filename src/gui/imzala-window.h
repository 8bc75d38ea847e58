/* imzala-window.h: the one window: a stack of pages driven by the state of an
 * ImzalaSigningJob, with the portal's host always in the header bar.
 *
 * The window chooses the page for the job's state and names it in its
 * title (the GtkStackPage titles in imzala-window.ui); the pages follow the
 * job and the token list themselves. Its win.* actions live in
 * imzala-window-actions.c, its fields in imzala-window-private.h. */
#pragma once

#include <adwaita.h>

#include "imzala-application.h"
#include "imzala-reader-monitor.h"
#include "imzala-settings.h"
#include "imzala-token-list.h"

G_BEGIN_DECLS

#define IMZALA_TYPE_WINDOW (imzala_window_get_type ())
G_DECLARE_FINAL_TYPE (ImzalaWindow, imzala_window, IMZALA, WINDOW, AdwApplicationWindow)

/* @application may be NULL (tests); @settings decides which portals may
 * be asked (the application's, shared by its windows). */
ImzalaWindow *imzala_window_new            (ImzalaApplication *application,
                                            ImzalaSettings    *settings);
/* The tokens of the loaded modules (@load_error: why a load found none),
 * shared with the application; the window refreshes it now and whenever a
 * card goes in or out, and emits "tokens-changed" each time a listing
 * ends. Starts a request that was waiting for the modules. */
void          imzala_window_set_token_list (ImzalaWindow      *self,
                                            ImzalaTokenList   *token_list,
                                            const GError      *load_error);
/* Card readers followed live (NULL: none): inserting or removing a card
 * refreshes the token list, which a shown request follows. */
void          imzala_window_set_reader_monitor (ImzalaWindow        *self,
                                                ImzalaReaderMonitor *monitor);
/* From the command line or an imzala: link. With both set, the request is
 * fetched at once when the portal is in the allow-list, and after the user's
 * consent otherwise. */
void          imzala_window_open_request   (ImzalaWindow      *self,
                                            const char        *portal_url,
                                            const char        *code);
/* "code", "portal-confirm", "loading", "sign", "result", "failure",
 * "pin-change", "unblock", "tokens". */
const char   *imzala_window_get_page_name  (ImzalaWindow      *self);
GtkWidget    *imzala_window_get_page       (ImzalaWindow      *self,
                                            const char        *name);
/* İmza İçeriği kaydet without the file chooser: writes the finished job's
 * signatures to @path (a file for one signature, a folder for several) and
 * returns the paths written. win.save-signature asks for @path first. */
GStrv         imzala_window_save_signatures (ImzalaWindow     *self,
                                             const char       *path,
                                             GError          **error);
/* İmza Doğrula with @signature and (nullable) the signed file @content,
 * as when a .p7s or .imz is opened from the file manager. */
void          imzala_window_open_signature (ImzalaWindow      *self,
                                            GFile             *signature,
                                            GFile             *content);
/* The portal host shown in the header bar. */
const char   *imzala_window_get_portal_host (ImzalaWindow     *self);

G_END_DECLS
