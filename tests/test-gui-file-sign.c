#define G_LOG_DOMAIN "imzala-test"

/* Dosya İmzala (issue 10): the window's page signs a file on the SoftHSM
 * fixture's card, attached (.imz) and detached (.p7s), and at level T with
 * a real TSA (`openssl ts -reply` behind HTTPS, trusted through the system
 * store only: the test TSA is refused, and nothing is written). The page is
 * driven through its actions and widgets; what it wrote is checked by
 * `openssl cms -verify`.
 *
 * Issue 12: a 100 MB file (sparse) signed in the window in constant memory
 * (this process's VmHWM, reset through /proc/self/clear_refs), with the
 * progress bar's steps and percentages seen; Cancel while the file is read
 * leaves no file; a file too large for an attached signature is refused
 * when it is chosen; the TSA CA row makes the test TSA trusted. */

#include "config.h"

#include <adwaita.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
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
  /* The memory backend lives as long as the process: no TSA from a test
   * before. */
  g_settings_reset (f->settings, "tsa-url");
  g_settings_reset (f->settings, "tsa-ca-file");
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

/* Whether an action row under @widget (not a combo row) has @subtitle. */
static gboolean
has_row_subtitled (GtkWidget *widget, const char *subtitle)
{
  if (ADW_IS_ACTION_ROW (widget) && !ADW_IS_COMBO_ROW (widget) &&
      g_strcmp0 (adw_action_row_get_subtitle (ADW_ACTION_ROW (widget)), subtitle) == 0)
    return TRUE;
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    if (has_row_subtitled (child, subtitle))
      return TRUE;
  return FALSE;
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

/* ---- Issue 12: big files, progress, cancel; the TSA's CA ---- */

/* A sparse file of @size bytes with CONTENT at four places. */
static char *
make_big_file (Fixture *f, guint64 size)
{
  char *path = g_build_filename (f->fixture->dir, "buyuk.bin", NULL);

  imzala_test_make_sparse_file (path, size, CONTENT);
  return path;
}

static void
wait_size_known (GtkWidget *page)
{
  while (imzala_file_sign_page_get_busy (IMZALA_FILE_SIGN_PAGE (page)))
    g_main_context_iteration (NULL, TRUE);
}

typedef struct
{
  GtkWidget *page;
  guint      reading;   /* texts "Reading the file… N %" with 0 < N */
  guint      writing;   /* texts "Writing the signature… N %" */
  gboolean   signing;   /* "The card is signing…" */
  gboolean   cancel;    /* press Cancel at the first percent read */
  char      *last;
} Seen;

static void
progress_text_cb (GtkProgressBar *bar, GParamSpec *pspec, Seen *seen)
{
  const char *text = gtk_progress_bar_get_text (bar);
  guint percent;

  if (text == NULL || g_strcmp0 (text, seen->last) == 0)
    return;
  g_free (seen->last);
  seen->last = g_strdup (text);
  if (sscanf (text, "Reading the file… %u %%", &percent) == 1 && percent > 0)
    {
      seen->reading++;
      if (seen->cancel)
        {
          seen->cancel = FALSE;
          g_assert_true (gtk_widget_activate_action (seen->page, "file-sign.cancel", NULL));
        }
    }
  else if (sscanf (text, "Writing the signature… %u %%", &percent) == 1 && percent > 0)
    seen->writing++;
  else if (g_str_equal (text, "The card is signing…"))
    seen->signing = TRUE;
}

static GtkLabel *
find_label_with_class (GtkWidget *page, const char *class)
{
  GtkWidget *box = gtk_widget_get_parent (GTK_WIDGET (find_child (page, IMZALA_TYPE_PIN_ENTRY)));

  for (GtkWidget *child = gtk_widget_get_first_child (box); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    if (GTK_IS_LABEL (child) && (class == NULL ? !gtk_widget_has_css_class (child, "error")
                                               : gtk_widget_has_css_class (child, class)))
      return GTK_LABEL (child);
  g_assert_not_reached ();
}

static void
assert_nothing_written (Fixture *f, const char *input)
{
  g_autofree char *base = g_path_get_basename (input);
  g_autoptr(GDir) dir = g_dir_open (f->fixture->dir, 0, NULL);
  const char *name;

  while ((name = g_dir_read_name (dir)) != NULL)
    if (g_str_has_prefix (name, base))
      g_assert_cmpstr (name, ==, base);
}

/* 100 MB attached, in the window: the peak memory grows by buffers, not by
 * the file; the bar shows the read and the write in percent; openssl
 * accepts the signature and gives the file back byte for byte. */
static void
test_big_file (Fixture *f, gconstpointer data)
{
  GtkWidget *page = show_page (f);
  GtkProgressBar *bar = find_child (page, GTK_TYPE_PROGRESS_BAR);
  g_autofree char *big = make_big_file (f, 100 * 1000 * 1000);
  g_autofree char *out = g_build_filename (f->fixture->dir, "verified.bin", NULL);
  g_autoptr(GError) error = NULL;
  Seen seen = { page, 0, 0, FALSE, FALSE, NULL };
  gboolean measured;
  guint64 rss_before, peak;
  GFile *output;
  int status = 0;

  g_free (f->input_path);
  f->input_path = g_strdup (big);
  g_signal_connect (bar, "notify::text", G_CALLBACK (progress_text_cb), &seen);

  measured = imzala_test_reset_peak ();
  rss_before = imzala_test_status_kib ("VmRSS:");
  sign (f, page, 0, IMZALA_CADES_LEVEL_BES, NULL);
  peak = imzala_test_status_kib ("VmHWM:");
  g_test_message ("100 MB attached in the window: RSS before %" G_GUINT64_FORMAT " KiB, peak %"
                  G_GUINT64_FORMAT " KiB; %u read and %u write updates",
                  rss_before, peak, seen.reading, seen.writing);
  if (measured)
    g_assert_cmpuint (peak, <=, rss_before + 32 * 1024);
  else
    g_test_message ("/proc/self/clear_refs is not writable: the peak is not checked");
  g_assert_cmpuint (seen.reading, >=, 10);
  g_assert_cmpuint (seen.writing, >=, 10);
  g_assert_true (seen.signing);
  g_signal_handlers_disconnect_by_data (bar, &seen);
  g_free (seen.last);

  output = imzala_file_sign_page_get_output (IMZALA_FILE_SIGN_PAGE (page));
  g_assert_nonnull (output);
  g_assert_true (g_str_has_suffix (g_file_peek_path (output), "buyuk.bin.imz"));
  {
    const char *verify[] = { "openssl", "cms", "-verify", "-binary", "-inform", "DER",
                             "-in", g_file_peek_path (output), "-CAfile", f->fixture->root_ca_file,
                             "-purpose", "any", "-out", out, NULL };
    const char *cmp[] = { "cmp", "-s", out, big, NULL };

    g_spawn_sync (NULL, (char **) verify, NULL,
                  G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL,
                  NULL, NULL, NULL, NULL, &status, &error);
    g_assert_no_error (error);
    g_assert_true (g_spawn_check_wait_status (status, NULL));
    g_spawn_sync (NULL, (char **) cmp, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, &status, &error);
    g_assert_no_error (error);
    g_assert_true (g_spawn_check_wait_status (status, NULL));
  }
  g_unlink (out);
}

/* Cancel while the file is read: no signature, no temporary file, the
 * page says so and can sign again. */
static void
test_cancel (Fixture *f, gconstpointer data)
{
  GtkWidget *page = show_page (f);
  GtkProgressBar *bar = find_child (page, GTK_TYPE_PROGRESS_BAR);
  g_autofree char *big = make_big_file (f, 100 * 1000 * 1000);
  Seen seen = { page, 0, 0, FALSE, TRUE, NULL };

  g_free (f->input_path);
  f->input_path = g_strdup (big);
  g_signal_connect (bar, "notify::text", G_CALLBACK (progress_text_cb), &seen);
  sign (f, page, 0, IMZALA_CADES_LEVEL_BES, NULL);
  g_signal_handlers_disconnect_by_data (bar, &seen);
  g_free (seen.last);

  g_assert_false (seen.cancel);
  g_assert_false (seen.signing);
  g_assert_null (imzala_file_sign_page_get_output (IMZALA_FILE_SIGN_PAGE (page)));
  assert_nothing_written (f, big);
  g_assert_cmpstr (gtk_label_get_text (find_label_with_class (page, NULL)), ==,
                   "Signing was cancelled. No signature file was written.");

  /* Signed again, to the end. */
  sign (f, page, 1, IMZALA_CADES_LEVEL_BES, NULL);
  g_assert_nonnull (imzala_file_sign_page_get_output (IMZALA_FILE_SIGN_PAGE (page)));
}

/* A file over 2^31 - 1 bytes cannot be signed attached: said when it is
 * chosen, the Sign button off, before any PIN; detached it can. */
static void
test_too_large_when_chosen (Fixture *f, gconstpointer data)
{
  GtkWidget *page = show_page (f);
  g_autofree char *big = g_build_filename (f->fixture->dir, "cok-buyuk.bin", NULL);
  g_autoptr(GFile) file = g_file_new_for_path (big);
  GtkLabel *error_label = find_label_with_class (page, "error");
  GtkWidget *kind_row = NULL;
  GtkWidget *sign_button = NULL;
  int fd = g_open (big, O_WRONLY | O_CREAT | O_TRUNC, 0644);

  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (ftruncate (fd, (off_t) G_MAXINT + 1), ==, 0);
  close (fd);

  /* The kind row is the second combo row; the Sign button is the one
   * bound to file-sign.sign. */
  for (GtkWidget *walk = GTK_WIDGET (find_child (page, ADW_TYPE_COMBO_ROW)); walk != NULL;
       walk = gtk_widget_get_next_sibling (walk))
    if (ADW_IS_COMBO_ROW (walk) && kind_row == NULL
        && walk != GTK_WIDGET (find_child (page, ADW_TYPE_COMBO_ROW)))
      kind_row = walk;
  {
    GtkWidget *stack = GTK_WIDGET (find_child (page, GTK_TYPE_STACK));

    sign_button = gtk_stack_get_child_by_name (GTK_STACK (stack), "sign");
  }
  g_assert_nonnull (kind_row);
  g_assert_nonnull (sign_button);

  adw_combo_row_set_selected (ADW_COMBO_ROW (kind_row), 0);
  imzala_file_sign_page_set_file (IMZALA_FILE_SIGN_PAGE (page), file);
  wait_size_known (page);
  g_assert_true (gtk_widget_get_visible (GTK_WIDGET (error_label)));
  g_assert_nonnull (strstr (gtk_label_get_text (error_label), "too large for a signature that contains it"));
  g_assert_false (gtk_widget_is_sensitive (sign_button));

  adw_combo_row_set_selected (ADW_COMBO_ROW (kind_row), 1);
  g_assert_false (gtk_widget_get_visible (GTK_WIDGET (error_label)));
  g_assert_true (gtk_widget_is_sensitive (sign_button));

  adw_combo_row_set_selected (ADW_COMBO_ROW (kind_row), 0);
  g_assert_true (gtk_widget_get_visible (GTK_WIDGET (error_label)));
  g_assert_false (gtk_widget_is_sensitive (sign_button));
  assert_nothing_written (f, big);
}

/* The TSA CA row: the test TSA's CA chosen there (kept in GSettings), a T
 * signature works without the system store. */
static void
test_level_t_tsa_ca (Fixture *f, gconstpointer data)
{
  ImzalaTestTsa *tsa = imzala_test_tsa_new ();
  GtkWidget *page = show_page (f);
  g_autofree char *ca_name = g_path_get_basename (imzala_test_tsa_get_ca (tsa));
  g_autofree char *stored = NULL;
  g_autofree char *contents = NULL;
  g_autoptr(GBytes) cms = NULL;
  g_autoptr(GBytes) token = NULL;
  gboolean ca_row_found = FALSE;
  gsize length = 0;
  GFile *output;

  imzala_file_sign_page_set_tsa_ca_file (IMZALA_FILE_SIGN_PAGE (page), imzala_test_tsa_get_ca (tsa));
  stored = g_settings_get_string (f->settings, "tsa-ca-file");
  g_assert_cmpstr (stored, ==, imzala_test_tsa_get_ca (tsa));
  /* The row names the file. */
  {
    GtkWidget *group = gtk_widget_get_ancestor (GTK_WIDGET (find_child (page, ADW_TYPE_ENTRY_ROW)),
                                                ADW_TYPE_PREFERENCES_GROUP);
    GtkWidget *walk = gtk_widget_get_parent (GTK_WIDGET (find_child (page, ADW_TYPE_ENTRY_ROW)));

    g_assert_nonnull (group);
    for (walk = gtk_widget_get_first_child (walk); walk != NULL; walk = gtk_widget_get_next_sibling (walk))
      if (ADW_IS_ACTION_ROW (walk) && !ADW_IS_COMBO_ROW (walk)
          && g_strcmp0 (adw_action_row_get_subtitle (ADW_ACTION_ROW (walk)), ca_name) == 0)
        ca_row_found = TRUE;
  }

  sign (f, page, 1, IMZALA_CADES_LEVEL_T, imzala_test_tsa_get_url (tsa));
  output = imzala_file_sign_page_get_output (IMZALA_FILE_SIGN_PAGE (page));
  g_assert_nonnull (output);
  g_assert_true (ca_row_found);
  g_assert_cmpuint (imzala_test_tsa_count (tsa), ==, 1);
  assert_openssl_verifies (f, output, TRUE);
  g_assert_true (g_file_get_contents (g_file_peek_path (output), &contents, &length, NULL));
  cms = g_bytes_new_take (g_steal_pointer (&contents), length);
  token = imzala_test_cms_get_time_stamp_token (cms);
  g_assert_nonnull (token);
  /* Cleared: the system store alone again. */
  g_assert_true (gtk_widget_activate_action (page, "file-sign.clear-tsa-ca", NULL));
  g_clear_pointer (&stored, g_free);
  stored = g_settings_get_string (f->settings, "tsa-ca-file");
  g_assert_cmpstr (stored, ==, "");
  imzala_test_tsa_free (tsa);
}

/* A file's name on one line: a line feed, or a byte that is no UTF-8,
 * shown as its escape in the file row, the TSA CA row and the result, so
 * that a name cannot write a second line of its own under the page's. The
 * signature is still made next to the file, under its real name. */
static void
test_names_one_line (Fixture *f, gconstpointer data)
{
  const char *name = "sözleşme\nİMZA GEÇERLİ \xff.txt";
  const char *shown = "sözleşme\\x0aİMZA GEÇERLİ \\xff.txt";
  g_autofree char *ca_path = g_build_filename (f->fixture->dir, "kök\nGÜVENİLİR.pem", NULL);
  g_autofree char *result = NULL;
  g_autoptr(GFile) input = NULL;
  GtkWidget *page = show_page (f);
  GFile *output;

  g_free (f->input_path);
  f->input_path = g_build_filename (f->fixture->dir, name, NULL);
  g_assert_true (g_file_set_contents (f->input_path, CONTENT, -1, NULL));
  g_assert_true (g_file_set_contents (ca_path, "", -1, NULL));
  input = g_file_new_for_path (f->input_path);
  imzala_file_sign_page_set_file (IMZALA_FILE_SIGN_PAGE (page), input);
  imzala_file_sign_page_set_tsa_ca_file (IMZALA_FILE_SIGN_PAGE (page), ca_path);
  wait_size_known (page);

  g_assert_true (has_row_subtitled (page, shown));
  g_assert_true (has_row_subtitled (page, "kök\\x0aGÜVENİLİR.pem"));
  /* A CA file whose name is no UTF-8 cannot be kept in the settings (a
   * string): the page says so and keeps the one before. */
  {
    g_autofree char *bad = g_build_filename (f->fixture->dir, "k\xf6k.pem", NULL);
    g_autofree char *stored = NULL;

    imzala_file_sign_page_set_tsa_ca_file (IMZALA_FILE_SIGN_PAGE (page), bad);
    stored = g_settings_get_string (f->settings, "tsa-ca-file");
    g_assert_cmpstr (stored, ==, ca_path);
    g_assert_true (g_str_has_prefix (gtk_label_get_text (find_label_with_class (page, "error")),
                                     "This file’s name or folder is not written in UTF-8"));
    g_assert_true (gtk_widget_get_visible (GTK_WIDGET (find_label_with_class (page, "error"))));
  }
  /* The next CA taken clears that message. */
  imzala_file_sign_page_set_tsa_ca_file (IMZALA_FILE_SIGN_PAGE (page), NULL);
  g_assert_false (gtk_widget_get_visible (GTK_WIDGET (find_label_with_class (page, "error"))));

  sign (f, page, 0, IMZALA_CADES_LEVEL_BES, NULL);
  output = imzala_file_sign_page_get_output (IMZALA_FILE_SIGN_PAGE (page));
  g_assert_nonnull (output);
  g_assert_true (g_str_has_suffix (g_file_peek_path (output), "\n" "İMZA GEÇERLİ \xff.txt.imz"));
  assert_openssl_verifies (f, output, FALSE);
  result = g_strdup_printf ("The signature was saved as “%s.imz”, next to the file.", shown);
  g_assert_cmpstr (gtk_label_get_text (find_label_with_class (page, NULL)), ==, result);
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
  g_test_add ("/gui/file-sign/big-file", Fixture, NULL, setup, test_big_file, teardown);
  g_test_add ("/gui/file-sign/cancel", Fixture, NULL, setup, test_cancel, teardown);
  g_test_add ("/gui/file-sign/too-large-when-chosen", Fixture, NULL, setup,
              test_too_large_when_chosen, teardown);
  g_test_add ("/gui/file-sign/level-t-tsa-ca", Fixture, NULL, setup, test_level_t_tsa_ca, teardown);
  g_test_add ("/gui/file-sign/names-one-line", Fixture, NULL, setup, test_names_one_line, teardown);
  return g_test_run ();
}
