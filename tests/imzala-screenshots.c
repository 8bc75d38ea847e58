#define G_LOG_DOMAIN "imzala-screenshots"

/* imzala-screenshots: drives İmzala's window through every page against the
 * real reference portal and its SoftHSM demo card (as tests/test-gui-flow.c
 * does) and renders each page to $IMZALA_SCREENSHOT_DIR/app-<page>.png with
 * GTK's own renderer. Run by tools/screenshots; not a test, never installed,
 * and the shipped binary knows nothing of it. */

#include "config.h"

#include <adwaita.h>
#include <glib/gstdio.h>

#include "imzala-code-page.h"
#include "imzala-doctor-page.h"
#include "imzala-file-sign-page.h"
#include "imzala-pin-entry.h"
#include "imzala-test-gui.h"
#include "imzala-test-portal.h"
#include "imzala-verify-page.h"
#include "imzala-window.h"

static const char *output_dir;

static gboolean
frame_cb (GtkWidget     *widget,
          GdkFrameClock *clock,
          gpointer       data)
{
  guint *frames = data;

  (*frames)++;
  return G_SOURCE_CONTINUE;
}

static gboolean
enough_frames (gpointer data)
{
  return *(guint *) data >= 3;
}

/* Lets layout and drawing finish: a few frames after nothing else is
 * pending. */
static void
settle (ImzalaWindow *window)
{
  guint frames = 0;
  guint id;

  imzala_test_gui_settle ();
  gtk_widget_queue_draw (GTK_WIDGET (window));
  id = gtk_widget_add_tick_callback (GTK_WIDGET (window), frame_cb, &frames, NULL);
  imzala_test_gui_wait (enough_frames, &frames, 30, "drawing");
  gtk_widget_remove_tick_callback (GTK_WIDGET (window), id);
  imzala_test_gui_settle ();
}

static void
shoot (ImzalaWindow *window,
       const char   *name)
{
  g_autoptr(GdkPaintable) paintable = NULL;
  g_autoptr(GtkSnapshot) snapshot = NULL;
  g_autoptr(GskRenderNode) node = NULL;
  g_autoptr(GdkTexture) texture = NULL;
  g_autofree char *file = g_strdup_printf ("app-%s.png", name);
  g_autofree char *path = g_build_filename (output_dir, file, NULL);
  GskRenderer *renderer = gtk_native_get_renderer (GTK_NATIVE (window));
  int width, height;

  settle (window);
  width = gtk_widget_get_width (GTK_WIDGET (window));
  height = gtk_widget_get_height (GTK_WIDGET (window));

  paintable = gtk_widget_paintable_new (GTK_WIDGET (window));
  snapshot = gtk_snapshot_new ();
  gdk_paintable_snapshot (paintable, GDK_SNAPSHOT (snapshot), width, height);
  node = gtk_snapshot_free_to_node (g_steal_pointer (&snapshot));
  if (node == NULL)
    g_error ("Nothing was drawn for %s", name);
  texture = gsk_renderer_render_texture (renderer, node, &GRAPHENE_RECT_INIT (0, 0, width, height));
  if (!gdk_texture_save_to_png (texture, path))
    g_error ("Could not write %s", path);
  g_print ("%s (%s page)\n", path, imzala_window_get_page_name (window));
}

static void
activate (ImzalaWindow *window,
          const char   *name)
{
  if (!g_action_group_get_action_enabled (G_ACTION_GROUP (window), name))
    g_error ("win.%s is disabled on the page %s", name, imzala_window_get_page_name (window));
  g_action_group_activate_action (G_ACTION_GROUP (window), name, NULL);
}

static void
expect_page (ImzalaWindow *window,
             const char   *page)
{
  const char *shown = imzala_test_gui_wait_page (window, page, "failure", NULL);

  if (g_strcmp0 (shown, page) != 0)
    {
      g_autofree char *text = imzala_test_gui_page_text (window, "failure");

      g_error ("Expected the page %s, got the failure page:\n%s", page, text);
    }
}

static gboolean
tokens_changed (gpointer data)
{
  return *(gboolean *) data;
}

static void
tokens_changed_cb (ImzalaWindow *window,
                   gboolean     *done)
{
  *done = TRUE;
}

static gboolean
doctor_report_ready (gpointer data)
{
  return imzala_doctor_page_get_report (data) != NULL;
}

static void
wait_tokens (ImzalaWindow *window,
             const char   *action)
{
  gboolean done = FALSE;
  gulong id = g_signal_connect (window, "tokens-changed", G_CALLBACK (tokens_changed_cb), &done);

  activate (window, action);
  imzala_test_gui_wait (tokens_changed, &done, 60, action);
  g_signal_handler_disconnect (window, id);
}

static gboolean
no_toast (gpointer data)
{
  GType type = g_type_from_name ("AdwToastWidget");
  g_autoptr(GPtrArray) toasts = NULL;

  if (type == G_TYPE_INVALID)
    return TRUE;
  toasts = imzala_test_gui_find_all (data, type);
  return toasts->len == 0;
}

static gboolean
verified (gpointer data)
{
  return !imzala_verify_page_get_busy (data);
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GError) error = NULL;
  g_autoptr(ImzalaTestPortal) portal = NULL;
  g_autoptr(GSettings) settings = NULL;
  g_autoptr(ImzalaModuleSet) modules = NULL;
  g_autofree char *code = NULL;
  g_autofree char *unblock_code = NULL;
  g_autoptr(GPtrArray) toggles = NULL;
  g_autofree char *files_dir = NULL;
  g_auto(GStrv) signatures = NULL;
  g_autoptr(GFile) signed_text = NULL;
  ImzalaWindow *window;
  ImzalaCodePage *code_page;

  output_dir = g_getenv ("IMZALA_SCREENSHOT_DIR");
  if (output_dir == NULL)
    {
      g_printerr ("Set IMZALA_SCREENSHOT_DIR to the folder for the PNG files.\n");
      return 2;
    }
  g_mkdir_with_parents (output_dir, 0755);

  imzala_test_gui_bind_translations ();
  gtk_init ();
  adw_init ();
  /* The window here has no application, so the pictures load its style
   * and icons as the application would. */
  imzala_test_gui_load_app_style ();
  /* Still pictures: no cross-fades half done. */
  g_object_set (gtk_settings_get_default (), "gtk-enable-animations", FALSE, NULL);

  portal = imzala_test_portal_new (0, &error);
  if (portal == NULL)
    g_error ("Could not start the portal: %s", error->message);
  settings = imzala_test_gui_new_settings (portal);
  modules = imzala_test_gui_load_modules (NULL);
  window = imzala_test_gui_new_window (settings, modules);
  /* Tall enough that the pages with a keypad show whole. */
  gtk_widget_set_size_request (GTK_WIDGET (window), 640, 1000);
  code_page = IMZALA_CODE_PAGE (imzala_window_get_page (window, "code"));
  {
    /* The window has no application here; Uygulamayı Kapat needs app.quit
     * to look as it does in the application. */
    g_autoptr(GSimpleActionGroup) app_actions = g_simple_action_group_new ();
    g_autoptr(GSimpleAction) quit = g_simple_action_new ("quit", NULL);

    g_action_map_add_action (G_ACTION_MAP (app_actions), G_ACTION (quit));
    gtk_widget_insert_action_group (GTK_WIDGET (window), "app", G_ACTION_GROUP (app_actions));
  }

  /* Doğrulama Kodu, with a code typed in. */
  code = imzala_test_portal_create_request (portal, "login", &error);
  if (code == NULL)
    g_error ("%s", error->message);
  imzala_code_page_set_code (code_page, code);
  shoot (window, "code");

  /* A portal outside the allow-list is named and asked about first. */
  imzala_window_open_request (window, "https://portal.example.org", code);
  shoot (window, "portal-confirm");
  activate (window, "back");
  imzala_window_open_request (window, portal->url, NULL);

  /* Sözleşme: the text, the certificate, the keypad with three digits in,
   * at the window's own default size (860×640): the sign page fits it. */
  imzala_code_page_set_code (code_page, code);
  activate (window, "next");
  expect_page (window, "sign");
  imzala_test_gui_press_keypad (imzala_window_get_page (window, "sign"), "123");
  gtk_widget_set_size_request (GTK_WIDGET (window), -1, -1);
  gtk_window_set_default_size (GTK_WINDOW (window), 860, 640);
  shoot (window, "sign");

  adw_style_manager_set_color_scheme (adw_style_manager_get_default (), ADW_COLOR_SCHEME_FORCE_DARK);
  shoot (window, "sign-dark");
  adw_style_manager_set_color_scheme (adw_style_manager_get_default (), ADW_COLOR_SCHEME_DEFAULT);

  /* One column, 360 pixels wide (a phone, a tiling desktop's column), and
   * text at 150 % at the default size. */
  gtk_window_set_default_size (GTK_WINDOW (window), 360, 640);
  shoot (window, "sign-narrow");
  gtk_window_set_default_size (GTK_WINDOW (window), 860, 640);
  g_object_set (gtk_settings_get_default (), "gtk-xft-dpi", 96 * 1024 * 3 / 2, NULL);
  shoot (window, "sign-large-text");
  g_object_set (gtk_settings_get_default (), "gtk-xft-dpi", 96 * 1024, NULL);
  gtk_window_set_default_size (GTK_WINDOW (window), 640, 1000);
  gtk_widget_set_size_request (GTK_WIDGET (window), 640, 1000);

  /* İşleminiz Başarılıdır. */
  imzala_test_gui_press_keypad (imzala_window_get_page (window, "sign"), "456");
  activate (window, "sign");
  expect_page (window, "result");
  shoot (window, "result");

  /* The result page in the dark style: the save button's contrast there. */
  adw_style_manager_set_color_scheme (adw_style_manager_get_default (), ADW_COLOR_SCHEME_FORCE_DARK);
  shoot (window, "result-dark");
  adw_style_manager_set_color_scheme (adw_style_manager_get_default (), ADW_COLOR_SCHEME_DEFAULT);

  /* The signature is saved for İmza Doğrula, with the text it signs. */
  files_dir = g_dir_make_tmp ("imzala-screenshots-XXXXXX", &error);
  if (files_dir == NULL)
    g_error ("%s", error->message);
  {
    g_autofree char *signature_path = g_build_filename (files_dir, "E-imzali-Giris.p7s", NULL);
    g_autofree char *text_path = g_build_filename (files_dir, "Giris-metni.txt", NULL);
    g_autofree char *text = imzala_test_portal_get_text (portal, code, 0);

    signatures = imzala_window_save_signatures (window, signature_path, &error);
    if (signatures == NULL)
      g_error ("%s", error->message);
    if (!g_file_set_contents (text_path, text, -1, &error))
      g_error ("%s", error->message);
    signed_text = g_file_new_for_path (text_path);
  }

  /* A failure: the same code once more is already used. */
  activate (window, "back");
  imzala_code_page_set_code (code_page, code);
  activate (window, "next");
  imzala_test_gui_wait_page (window, "failure", NULL);
  shoot (window, "failure");
  activate (window, "new-code");

  /* PIN Değiştir, Kilit Çözme (both ways) and Kartlar. */
  wait_tokens (window, "show-pin-change");
  shoot (window, "pin-change");
  activate (window, "back");

  wait_tokens (window, "show-unblock");
  toggles = imzala_test_gui_find_all (imzala_window_get_page (window, "unblock"), GTK_TYPE_TOGGLE_BUTTON);
  gtk_toggle_button_set_active (g_ptr_array_index (toggles, 0), TRUE);
  shoot (window, "unblock");
  activate (window, "back");

  unblock_code = imzala_test_portal_create_request (portal, "unblock", &error);
  if (unblock_code == NULL)
    g_error ("%s", error->message);
  imzala_code_page_set_code (code_page, unblock_code);
  activate (window, "next");
  expect_page (window, "unblock");
  shoot (window, "unblock-portal");
  activate (window, "back");

  wait_tokens (window, "show-tokens");
  shoot (window, "tokens");
  activate (window, "back");

  /* PIN Değiştir done: a page of its own with what to do next. The demo
   * card keeps the new PIN; nothing after this signs. */
  wait_tokens (window, "show-pin-change");
  {
    GtkWidget *page = imzala_window_get_page (window, "pin-change");
    g_autoptr(GPtrArray) entries = imzala_test_gui_find_all (page, IMZALA_TYPE_PIN_ENTRY);

    imzala_pin_entry_append (g_ptr_array_index (entries, 0), IMZALA_TEST_PORTAL_PIN);
    imzala_pin_entry_append (g_ptr_array_index (entries, 1), "246810");
    imzala_pin_entry_append (g_ptr_array_index (entries, 2), "246810");
    {
      gboolean done = FALSE;
      gulong id = g_signal_connect (window, "tokens-changed", G_CALLBACK (tokens_changed_cb), &done);

      gtk_widget_activate_action (page, "pin-change.change-pin", NULL);
      imzala_test_gui_wait (tokens_changed, &done, 60, "the PIN change");
      g_signal_handler_disconnect (window, id);
    }
  }
  shoot (window, "pin-change-done");
  activate (window, "back");

  /* Tanılama: the support report, made without a PIN. */
  activate (window, "show-doctor");
  imzala_test_gui_wait (doctor_report_ready, imzala_window_get_page (window, "doctor"), 60, "the report");
  shoot (window, "doctor");
  activate (window, "back");

  /* Dosya İmzala with a file chosen, once the save's toast has gone. */
  imzala_test_gui_wait (no_toast, window, 60, "the toast to go");
  wait_tokens (window, "show-file-sign");
  {
    g_autofree char *path = g_build_filename (files_dir, "Kira-Sozlesmesi.pdf", NULL);
    g_autoptr(GFile) file = g_file_new_for_path (path);

    if (!g_file_set_contents (path, "%PDF-1.4\n% İmzala screenshot\n", -1, &error))
      g_error ("%s", error->message);
    imzala_file_sign_page_set_file (IMZALA_FILE_SIGN_PAGE (imzala_window_get_page (window, "file-sign")), file);
  }
  shoot (window, "file-sign");
  activate (window, "back");

  /* İmza Doğrula: the login signature made above, checked against the
   * demo portal's CA, offline (the demo certificates name the demo
   * portal's public address for their status, not this one's). */
  {
    ImzalaVerifyPage *page = IMZALA_VERIFY_PAGE (imzala_window_get_page (window, "verify"));
    g_autoptr(ImzalaTrust) trust = imzala_trust_new ();
    g_autoptr(GFile) signature = g_file_new_for_path (signatures[0]);

    if (!imzala_trust_add_path (trust, portal->ca_file, &error))
      g_error ("%s", error->message);
    imzala_trust_set_offline (trust, TRUE);
    imzala_verify_page_set_trust (page, trust);
    imzala_window_open_signature (window, signature, signed_text);
    imzala_test_gui_wait (verified, page, 60, "the verification");
  }
  shoot (window, "verify");

  gtk_window_destroy (GTK_WINDOW (window));
  imzala_test_gui_settle ();
  for (guint i = 0; signatures[i] != NULL; i++)
    g_unlink (signatures[i]);
  {
    g_autofree char *text_path = g_file_get_path (signed_text);
    g_autofree char *pdf_path = g_build_filename (files_dir, "Kira-Sozlesmesi.pdf", NULL);

    g_unlink (text_path);
    g_unlink (pdf_path);
  }
  g_rmdir (files_dir);
  return 0;
}
