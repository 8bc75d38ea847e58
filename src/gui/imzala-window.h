/* imzala-window.h: the one window: a stack of pages driven by the state of an
 * ImzalaSigningJob, with the portal's host always in the header bar. */
#pragma once

#include <adwaita.h>

#include "imzala-application.h"
#include "imzala-module-set.h"
#include "imzala-reader-monitor.h"

G_BEGIN_DECLS

#define IMZALA_TYPE_WINDOW (imzala_window_get_type ())
G_DECLARE_FINAL_TYPE (ImzalaWindow, imzala_window, IMZALA, WINDOW, AdwApplicationWindow)

/* @application may be NULL (tests); @settings is the İmzala schema. */
ImzalaWindow *imzala_window_new            (ImzalaApplication *application,
                                            GSettings         *settings);
/* The loaded modules (or the error of a load that found none). Starts a
 * request that was waiting for them. */
void          imzala_window_set_module_set (ImzalaWindow      *self,
                                            ImzalaModuleSet   *module_set,
                                            const GError      *load_error);
/* Card readers followed live (NULL: none): inserting or removing a card
 * lists the tokens again, and the certificates of a shown request. */
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
/* The portal host shown in the header bar. */
const char   *imzala_window_get_portal_host (ImzalaWindow     *self);

G_END_DECLS
