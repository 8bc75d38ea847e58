/* imzala-test-gui.h: driving İmzala's window in GUI tests and in
 * tools/screenshots: the texts a page shows, its buttons, the keypad, and
 * spinning the main loop until something holds. */
#pragma once

#include <adwaita.h>

#include "imzala-module-set.h"
#include "imzala-test-portal.h"
#include "imzala-window.h"

G_BEGIN_DECLS

/* The environment's locale, and İmzala's translations from
 * IMZALA_LOCALEDIR (the build tree's) or the installed ones. */
void             imzala_test_gui_bind_translations (void);

/* The start of a GUI test's main(): imzala_test_gui_bind_translations(),
 * gtk_test_init() and adw_init(). */
void             imzala_test_gui_init         (int          *argc,
                                               char       ***argv);

/* What the application gives its windows (AdwApplication and
 * GtkApplication, from its resource base path), for a program that shows
 * them without it: its style.css, and its icons in the resources. */
void             imzala_test_gui_load_app_style (void);

/* A new window of @width × @height holding @child, presented, mapped and
 * settled. */
GtkWidget       *imzala_test_gui_show_in_window (GtkWidget *child,
                                                 int        width,
                                                 int        height);

/* Every text the user can read in @widget and below (labels, text views,
 * editable fields' text), one per line. */
char            *imzala_test_gui_collect_text (GtkWidget    *widget);
char            *imzala_test_gui_page_text    (ImzalaWindow *window,
                                               const char   *page);
/* Every widget of @type under @widget, in tree order (borrowed pointers). */
GPtrArray       *imzala_test_gui_find_all     (GtkWidget    *widget,
                                               GType         type);
/* The first GtkButton under @widget whose label (without mnemonic
 * underscores) or accessible label is @label. Aborts the test when none. */
GtkWidget       *imzala_test_gui_find_button  (GtkWidget    *widget,
                                               const char   *label);
/* Presses the keypad's buttons under @widget, one per character of
 * @digits, the way a click does (the "clicked" signal). */
void             imzala_test_gui_press_keypad (GtkWidget    *widget,
                                               const char   *digits);

/* Spins the default main context until @check returns TRUE; fails the test
 * with @what after @timeout_seconds. */
typedef gboolean (*ImzalaTestCheck) (gpointer data);
void             imzala_test_gui_wait         (ImzalaTestCheck check,
                                               gpointer        data,
                                               guint           timeout_seconds,
                                               const char     *what);
/* Waits until the window shows one of the pages named in the
 * NULL-terminated list and returns its name. */
const char      *imzala_test_gui_wait_page    (ImzalaWindow *window,
                                               const char   *first_page,
                                               ...) G_GNUC_NULL_TERMINATED;
/* Spins until no event is pending (layout and drawing done). */
void             imzala_test_gui_settle       (void);

/* For tests that run the imzala binary: settings shared by the test and
 * İmzala's processes, in a keyfile in a private config folder (the memory
 * backend is per process; the keyfile backend is chosen once per process, so
 * call this once, in main(), before any GSettings). Returns the folder;
 * imzala_test_gui_remove_keyfile_settings() removes it. */
char            *imzala_test_gui_use_keyfile_settings    (void);
void             imzala_test_gui_remove_keyfile_settings (const char *config_home);

/* Settings that allow @portal and trust its CA (memory backend). */
GSettings       *imzala_test_gui_new_settings (ImzalaTestPortal *portal);
/* SoftHSM (or @module_path) alone, loaded, for imzala_test_gui_new_window. */
ImzalaModuleSet *imzala_test_gui_load_modules (const char   *module_path);
/* A window for @settings, shown and mapped, with @modules set and its token
 * list done. */
ImzalaWindow    *imzala_test_gui_new_window   (GSettings       *settings,
                                               ImzalaModuleSet *modules);

G_END_DECLS
