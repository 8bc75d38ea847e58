#define G_LOG_DOMAIN "imzala-test"

/* Dosya İmzala (issue 10): the window's page signs a file on the SoftHSM
 * fixture's card, attached (.imz) and detached (.p7s), and at level T with
 * a real TSA (`openssl ts -reply` behind HTTPS, trusted through the system
 * store only: the test TSA is refused, and nothing is written). The page is
 * driven through its actions and widgets; what it wrote is checked by
 * `openssl cms -verify`. */

#include "config.h"

#include <adwaita.h>
#include <string.h>
#include <glib/gstdio.h>

#include "imzala-file-sign-page.h"
#include "imzala-pin-entry.h"
#include "imzala-test.h"
#include "imzala-test-tsa.h"
#include "imzala-window.h"

#define CONTENT "Dosya İmzala: sözleşme taslağı, 2026-11-26\n"

typedef struct
{
  ImzalaTestFixture *fixture;
  ImzalaModuleSet   *modules;
  GSettings         *settings;
  ImzalaWindow      *window;
  char              *input_path;
} Fixture;

static void
tokens_changed_cb (ImzalaWindow *window,
                   gboolean     *done)
{
  *done = TRUE;
}

static void
setup (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(ImzalaSettings) policy = NULL;
  g_autoptr(ImzalaTokenList) token_list = NULL;
  gboolean done = FALSE;
  gulong id;

  f->fixture = imzala_test_fixture_new ();
  /* Ayşe's card alone: her recommended certificate is preselected. */
  imzala_test_fixture_remove_token (f->fixture, "IMZALA TEST 2");
  f->modules = imzala_test_fixture_load (f->fixture, &error);
  g_assert_no_error (error);
  f->settings = g_settings_new (IMZALA_SETTINGS_SCHEMA);
  policy = imzala_settings_new (f->settings);
  f->window = imzala_window_new (NULL, policy);
  gtk_window_present (GTK_WINDOW (f->window));
  while (!gtk_widget_get_mapped (GTK_WIDGET (f->window)))
    g_main_context_iteration (NULL, TRUE);
  token_list = imzala_token_list_new (f->modules);
  id = g_signal_connect (f->window, "tokens-changed", G_CALLBACK (tokens_changed_cb), &done);
  imzala_window_set_token_list (f->window, token_list, NULL);
  while (!done)
    g_main_context_iteration (NULL, TRUE);
  g_signal_handler_disconnect (f->window, id);

  f->input_path = g_build_filename (f->fixture->dir, "sozlesme.txt", NULL);
  g_assert_true (g_file_set_contents (f->input_path, CONTENT, -1, NULL));
}

static void
teardown (Fixture *f, gconstpointer data)
{
  gtk_window_destroy (GTK_WINDOW (f->window));
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_object_unref (f->settings);
  imzala_test_modules_unref_and_wait (f->modules);
  imzala_test_fixture_free (f->fixture);
  g_free (f->input_path);
}

static GtkWidget *
show_page (Fixture *f)
{
  g_assert_true (g_action_group_get_action_enabled (G_ACTION_GROUP (f->window), "show-file-sign"));
  g_action_group_activate_action (G_ACTION_GROUP (f->window), "show-file-sign", NULL);
  g_assert_cmpstr (imzala_window_get_page_name (f->window), ==, "file-sign");
  return imzala_window_get_page (f->window, "file-sign");
}

static gpointer
find_child (GtkWidget *widget, GType type)
{
  if (G_TYPE_CHECK_INSTANCE_TYPE (widget, type))
    return widget;
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      gpointer found = find_child (child, type);

      if (found != NULL)
        return found;
    }
  return NULL;
}

static gboolean
page_busy (GtkWidget *page)
{
  GtkStack *stack = find_child (page, GTK_TYPE_STACK);

  return g_strcmp0 (gtk_stack_get_visible_child_name (stack), "progress") == 0;
}

static void
sign (Fixture *f, GtkWidget *page, guint kind, guint level, const char *tsa_url)
{
  g_autoptr(GFile) input = g_file_new_for_path (f->input_path);
  GPtrArray *rows = g_ptr_array_new ();
  ImzalaPinEntry *pin = find_child (page, IMZALA_TYPE_PIN_ENTRY);

  imzala_file_sign_page_set_file (IMZALA_FILE_SIGN_PAGE (page), input);
  /* The combo rows in their order: certificate, kind, level. */
  {
    GtkWidget *group = gtk_widget_get_ancestor (GTK_WIDGET (find_child (page, ADW_TYPE_COMBO_ROW)),
                                                ADW_TYPE_PREFERENCES_GROUP);
    GtkWidget *walk = GTK_WIDGET (find_child (group, ADW_TYPE_COMBO_ROW));

    for (; walk != NULL; walk = gtk_widget_get_next_sibling (walk))
      if (ADW_IS_COMBO_ROW (walk))
        g_ptr_array_add (rows, walk);
  }
  g_assert_cmpuint (rows->len, ==, 3);
  /* The recommended certificate is there and chosen. */
  g_assert_cmpuint (adw_combo_row_get_selected (g_ptr_array_index (rows, 0)), !=, GTK_INVALID_LIST_POSITION);
  adw_combo_row_set_selected (g_ptr_array_index (rows, 1), kind);
  adw_combo_row_set_selected (g_ptr_array_index (rows, 2), level);
  if (tsa_url != NULL)
    gtk_editable_set_text (GTK_EDITABLE (find_child (page, ADW_TYPE_ENTRY_ROW)), tsa_url);
  g_ptr_array_unref (rows);

  g_assert_true (imzala_pin_entry_append (pin, "123456"));
  g_assert_true (gtk_widget_activate_action (page, "file-sign.sign", NULL));
  while (page_busy (page))
    g_main_context_iteration (NULL, TRUE);
}

static void
assert_openssl_verifies (Fixture *f, GFile *signature, gboolean detached)
{
  g_autofree char *path = g_file_get_path (signature);
  g_autofree char *out_path = g_build_filename (f->fixture->dir, "verified.txt", NULL);
  g_autofree char *verified = NULL;
  g_autoptr(GError) error = NULL;
  const char *attached[] = {
    "openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", path,
    "-CAfile", f->fixture->root_ca_file, "-purpose", "any", "-out", out_path, NULL
  };
  const char *separate[] = {
    "openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", path,
    "-content", f->input_path, "-CAfile", f->fixture->root_ca_file, "-purpose", "any",
    "-out", out_path, NULL
  };
  int status = 0;

  g_spawn_sync (NULL, (char **) (detached ? separate : attached), NULL,
                G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL,
                NULL, NULL, NULL, NULL, &status, &error);
  g_assert_no_error (error);
  g_assert_true (g_spawn_check_wait_status (status, NULL));
  g_assert_true (g_file_get_contents (out_path, &verified, NULL, NULL));
  g_assert_cmpstr (verified, ==, CONTENT);
}

static void
test_attached_and_detached (Fixture *f, gconstpointer data)
{
  GtkWidget *page = show_page (f);
  GFile *output;

  sign (f, page, 0, IMZALA_CADES_LEVEL_BES, NULL);
  output = imzala_file_sign_page_get_output (IMZALA_FILE_SIGN_PAGE (page));
  g_assert_nonnull (output);
  g_assert_true (g_str_has_suffix (g_file_peek_path (output), "sozlesme.txt.imz"));
  assert_openssl_verifies (f, output, FALSE);

  sign (f, page, 1, IMZALA_CADES_LEVEL_BES, NULL);
  output = imzala_file_sign_page_get_output (IMZALA_FILE_SIGN_PAGE (page));
  g_assert_nonnull (output);
  g_assert_true (g_str_has_suffix (g_file_peek_path (output), "sozlesme.txt.p7s"));
  assert_openssl_verifies (f, output, TRUE);
}

/* Level T: the page's TSA is trusted through the system store alone, so
 * the test TSA is refused; the error is shown and no file is written. */
static void
test_level_t_untrusted_tsa (Fixture *f, gconstpointer data)
{
  ImzalaTestTsa *tsa = imzala_test_tsa_new ();
  GtkWidget *page = show_page (f);
  g_autofree char *imz = g_strconcat (f->input_path, ".imz", NULL);
  GtkLabel *error_label = NULL;

  sign (f, page, 0, IMZALA_CADES_LEVEL_T, imzala_test_tsa_get_url (tsa));
  g_assert_null (imzala_file_sign_page_get_output (IMZALA_FILE_SIGN_PAGE (page)));
  g_assert_false (g_file_test (imz, G_FILE_TEST_EXISTS));
  g_assert_cmpuint (imzala_test_tsa_count (tsa), ==, 0);
  /* The error label says why. */
  {
    GtkWidget *box = gtk_widget_get_parent (GTK_WIDGET (find_child (page, IMZALA_TYPE_PIN_ENTRY)));

    for (GtkWidget *child = gtk_widget_get_first_child (box); child != NULL;
         child = gtk_widget_get_next_sibling (child))
      if (GTK_IS_LABEL (child) && gtk_widget_has_css_class (child, "error"))
        error_label = GTK_LABEL (child);
  }
  g_assert_nonnull (error_label);
  g_assert_true (gtk_widget_get_visible (GTK_WIDGET (error_label)));
  g_assert_nonnull (strstr (gtk_label_get_text (error_label), "time-stamp server"));
  imzala_test_tsa_free (tsa);
}

int
main (int argc, char **argv)
{
  gtk_test_init (&argc, &argv, NULL);
  adw_init ();

  g_test_add ("/gui/file-sign/attached-and-detached", Fixture, NULL, setup,
              test_attached_and_detached, teardown);
  g_test_add ("/gui/file-sign/level-t-untrusted-tsa", Fixture, NULL, setup,
              test_level_t_untrusted_tsa, teardown);
  return g_test_run ();
}
