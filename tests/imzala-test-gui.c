#define G_LOG_DOMAIN "imzala-test"

#include "config.h"

#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <locale.h>

#include <string.h>

#include "imzala-test-gui.h"

static void
collect (GtkWidget *widget,
         GString   *out,
         gboolean   root)
{
  /* Hidden widgets, and the pages of a stack that are not shown, are not
   * read (the page asked for itself may be one of those). */
  if (!root && (!gtk_widget_get_visible (widget) || !gtk_widget_get_child_visible (widget)))
    return;
  if (GTK_IS_LABEL (widget))
    g_string_append_printf (out, "%s\n", gtk_label_get_text (GTK_LABEL (widget)));
  else if (GTK_IS_TEXT_VIEW (widget))
    {
      GtkTextBuffer *buffer = gtk_text_view_get_buffer (GTK_TEXT_VIEW (widget));
      GtkTextIter start, end;
      g_autofree char *text = NULL;

      gtk_text_buffer_get_bounds (buffer, &start, &end);
      text = gtk_text_buffer_get_text (buffer, &start, &end, FALSE);
      g_string_append_printf (out, "%s\n", text);
    }
  else if (GTK_IS_TEXT (widget))
    g_string_append_printf (out, "%s\n", gtk_editable_get_text (GTK_EDITABLE (widget)));

  for (GtkWidget *child = gtk_widget_get_first_child (widget);
       child != NULL;
       child = gtk_widget_get_next_sibling (child))
    collect (child, out, FALSE);
}

char *
imzala_test_gui_collect_text (GtkWidget *widget)
{
  GString *out = g_string_new (NULL);

  collect (widget, out, TRUE);
  return g_string_free (out, FALSE);
}

char *
imzala_test_gui_page_text (ImzalaWindow *window,
                           const char   *page)
{
  return imzala_test_gui_collect_text (imzala_window_get_page (window, page));
}

static void
find_all (GtkWidget *widget,
          GType      type,
          GPtrArray *found)
{
  if (G_TYPE_CHECK_INSTANCE_TYPE (widget, type))
    g_ptr_array_add (found, widget);
  for (GtkWidget *child = gtk_widget_get_first_child (widget);
       child != NULL;
       child = gtk_widget_get_next_sibling (child))
    find_all (child, type, found);
}

GPtrArray *
imzala_test_gui_find_all (GtkWidget *widget,
                          GType      type)
{
  GPtrArray *found = g_ptr_array_new ();

  find_all (widget, type, found);
  return found;
}

static char *
without_underscores (const char *text)
{
  GString *out = g_string_new (NULL);

  for (const char *p = text; p != NULL && *p != '\0'; p++)
    if (*p != '_')
      g_string_append_c (out, *p);
  return g_string_free (out, FALSE);
}

GtkWidget *
imzala_test_gui_find_button (GtkWidget  *widget,
                             const char *label)
{
  g_autoptr(GPtrArray) buttons = imzala_test_gui_find_all (widget, GTK_TYPE_BUTTON);

  for (guint i = 0; i < buttons->len; i++)
    {
      GtkWidget *button = g_ptr_array_index (buttons, i);
      g_autofree char *text = without_underscores (gtk_button_get_label (GTK_BUTTON (button)));

      if (g_strcmp0 (text, label) == 0 || g_strcmp0 (gtk_widget_get_tooltip_text (button), label) == 0)
        return button;
    }
  g_error ("No button “%s” in %s", label, G_OBJECT_TYPE_NAME (widget));
  return NULL;
}

void
imzala_test_gui_press_keypad (GtkWidget  *widget,
                              const char *digits)
{
  g_autoptr(GPtrArray) keypads = imzala_test_gui_find_all (widget, g_type_from_name ("ImzalaPinKeypad"));
  GtkWidget *keypad;

  g_assert_cmpuint (keypads->len, >, 0);
  keypad = g_ptr_array_index (keypads, 0);
  for (const char *p = digits; *p != '\0'; p++)
    {
      char label[2] = { *p, '\0' };
      GtkWidget *button = imzala_test_gui_find_button (keypad, label);

      /* What a click emits; gtk_widget_activate() would wait 250 ms per
       * key and drop keys pressed in the meantime. */
      g_assert_true (gtk_widget_is_sensitive (button));
      g_signal_emit_by_name (button, "clicked");
    }
}

static gboolean
timeout_cb (gpointer data)
{
  gboolean *timed_out = data;

  *timed_out = TRUE;
  return G_SOURCE_REMOVE;
}

void
imzala_test_gui_wait (ImzalaTestCheck check,
                      gpointer        data,
                      guint           timeout_seconds,
                      const char     *what)
{
  gboolean timed_out = FALSE;
  guint id = g_timeout_add_seconds (timeout_seconds, timeout_cb, &timed_out);

  while (!check (data) && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  if (timed_out)
    g_error ("Timed out after %u s waiting for %s", timeout_seconds, what);
  g_source_remove (id);
}

typedef struct
{
  ImzalaWindow *window;
  GPtrArray    *pages;
  const char   *found;
} PageWait;

static gboolean
page_shown (gpointer data)
{
  PageWait *wait = data;
  const char *name = imzala_window_get_page_name (wait->window);

  for (guint i = 0; i < wait->pages->len; i++)
    if (g_strcmp0 (name, g_ptr_array_index (wait->pages, i)) == 0)
      {
        wait->found = g_ptr_array_index (wait->pages, i);
        return TRUE;
      }
  return FALSE;
}

const char *
imzala_test_gui_wait_page (ImzalaWindow *window,
                           const char   *first_page,
                           ...)
{
  g_autoptr(GPtrArray) pages = g_ptr_array_new ();
  g_autofree char *what = NULL;
  PageWait wait = { window, pages, NULL };
  va_list args;

  va_start (args, first_page);
  for (const char *page = first_page; page != NULL; page = va_arg (args, const char *))
    g_ptr_array_add (pages, (gpointer) page);
  va_end (args);

  what = g_strdup_printf ("the page “%s” (now “%s”)", first_page, imzala_window_get_page_name (window));
  imzala_test_gui_wait (page_shown, &wait, 60, what);
  return wait.found;
}

void
imzala_test_gui_settle (void)
{
  while (g_main_context_iteration (NULL, FALSE))
    ;
}

GSettings *
imzala_test_gui_new_settings (ImzalaTestPortal *portal)
{
  GSettings *settings = g_settings_new (IMZALA_SETTINGS_SCHEMA);
  const char *allowed[] = { portal->url, NULL };
  g_autoptr(GVariantBuilder) builder = g_variant_builder_new (G_VARIANT_TYPE ("a{ss}"));

  g_settings_set_strv (settings, "allowed-portals", allowed);
  g_variant_builder_add (builder, "{ss}", portal->url, portal->ca_file);
  g_settings_set_value (settings, "portal-ca-files", g_variant_builder_end (builder));
  return settings;
}

ImzalaModuleSet *
imzala_test_gui_load_modules (const char *module_path)
{
  g_autoptr(ImzalaModuleSet) modules = imzala_module_set_new ();
  g_autoptr(GError) error = NULL;

  imzala_module_set_set_use_registered (modules, FALSE);
  imzala_module_set_add_module_path (modules, module_path ? module_path : "/usr/lib/softhsm/libsofthsm2.so");
  if (!imzala_module_set_load (modules, NULL, &error))
    g_error ("Loading the PKCS#11 module failed: %s", error->message);
  return g_steal_pointer (&modules);
}

static void
tokens_changed_cb (ImzalaWindow *window,
                   gboolean     *done)
{
  *done = TRUE;
}

static gboolean
flag_set (gpointer data)
{
  return *(gboolean *) data;
}

ImzalaWindow *
imzala_test_gui_new_window (GSettings       *settings,
                            ImzalaModuleSet *modules)
{
  g_autoptr(ImzalaSettings) policy = imzala_settings_new (settings);
  g_autoptr(ImzalaTokenList) token_list = imzala_token_list_new (modules);
  ImzalaWindow *window = imzala_window_new (NULL, policy);
  gboolean done = FALSE;
  gulong id;

  gtk_window_present (GTK_WINDOW (window));
  while (!gtk_widget_get_mapped (GTK_WIDGET (window)))
    g_main_context_iteration (NULL, TRUE);

  id = g_signal_connect (window, "tokens-changed", G_CALLBACK (tokens_changed_cb), &done);
  imzala_window_set_token_list (window, token_list, NULL);
  imzala_test_gui_wait (flag_set, &done, 60, "the token list");
  g_signal_handler_disconnect (window, id);
  return window;
}

char *
imzala_test_gui_use_keyfile_settings (void)
{
  g_autoptr(GError) error = NULL;
  char *config_home = g_dir_make_tmp ("imzala-settings-XXXXXX", &error);

  g_assert_no_error (error);
  g_setenv ("XDG_CONFIG_HOME", config_home, TRUE);
  g_setenv ("GSETTINGS_BACKEND", "keyfile", TRUE);
  return config_home;
}

void
imzala_test_gui_remove_keyfile_settings (const char *config_home)
{
  g_autofree char *glib_dir = g_build_filename (config_home, "glib-2.0", NULL);
  g_autofree char *settings_dir = g_build_filename (glib_dir, "settings", NULL);
  g_autofree char *keyfile = g_build_filename (settings_dir, "keyfile", NULL);

  g_unlink (keyfile);
  g_rmdir (settings_dir);
  g_rmdir (glib_dir);
  g_rmdir (config_home);
}

void
imzala_test_gui_bind_translations (void)
{
  const char *localedir = g_getenv ("IMZALA_LOCALEDIR");

  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, localedir != NULL ? localedir : LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);
}

void
imzala_test_gui_init (int    *argc,
                      char ***argv)
{
  imzala_test_gui_bind_translations ();
  gtk_test_init (argc, argv, NULL);
  adw_init ();
}

void
imzala_test_gui_load_app_style (void)
{
  g_autoptr(GtkCssProvider) css = gtk_css_provider_new ();
  GdkDisplay *display = gdk_display_get_default ();

  gtk_css_provider_load_from_resource (css, "/io/github/imzala/Imzala/style.css");
  gtk_style_context_add_provider_for_display (display, GTK_STYLE_PROVIDER (css),
                                              GTK_STYLE_PROVIDER_PRIORITY_APPLICATION);
  gtk_icon_theme_add_resource_path (gtk_icon_theme_get_for_display (display), "/io/github/imzala/Imzala/icons");
}

GtkWidget *
imzala_test_gui_show_in_window (GtkWidget *child,
                                int        width,
                                int        height)
{
  GtkWidget *window = gtk_window_new ();

  gtk_window_set_default_size (GTK_WINDOW (window), width, height);
  gtk_window_set_child (GTK_WINDOW (window), child);
  gtk_window_present (GTK_WINDOW (window));
  while (!gtk_widget_get_mapped (window))
    g_main_context_iteration (NULL, TRUE);
  imzala_test_gui_settle ();
  return window;
}
