#define G_LOG_DOMAIN "imzala-test"

/* The pages beside the sign page, in Turkish, over the SoftHSM fixture and
 * the fault module (issue 9, items 4 and 5): PIN Değiştir and Kilit Çözme
 * say how the PIN stands at the top (usable, last try, blocked: the fault
 * module's pin-counter-file sets the card's flags) and end on a page of
 * their own; the PIN's length rule is said only for a range a card can
 * mean; Kilit Çözme says "Kart okunuyor…" while the first listing runs
 * (slow-slot-list); the Kartlar page keeps the technical words behind a
 * closed Ayrıntılar row; and every page fits a window 360 px wide. */

#include "config.h"

#include <adwaita.h>
#include <glib/gstdio.h>
#include <string.h>

#include "imzala-application.h"
#include "imzala-code-page.h"
#include "imzala-failure-page.h"
#include "imzala-file-sign-page.h"
#include "imzala-pin-change-page.h"
#include "imzala-pin-entry.h"
#include "imzala-portal-confirm-page.h"
#include "imzala-result-page.h"
#include "imzala-settings.h"
#include "imzala-test.h"
#include "imzala-test-gui.h"
#include "imzala-test-portal.h"
#include "imzala-tokens-page.h"
#include "imzala-unblock-page.h"
#include "imzala-verify-page.h"
#include "imzala-window.h"

#define NEW_PIN "246810"

typedef struct
{
  ImzalaTestFixture *fixture;
  char              *counter_file;
  ImzalaModuleSet   *modules;
  GSettings         *settings;
  ImzalaWindow      *window;
} Pages;

/* The fault module over the fixture with @faults (NULL: SoftHSM itself),
 * and a card that has seen @wrong_pins wrong PINs (pin-counter-file). */
static void
load (Pages      *self,
      const char *faults,
      int         wrong_pins)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *count = g_strdup_printf ("%d\n", wrong_pins);

  self->fixture = imzala_test_fixture_new ();
  self->counter_file = g_build_filename (g_get_tmp_dir (), "imzala-pages-XXXXXX", NULL);
  g_close (g_mkstemp (self->counter_file), NULL);
  g_assert_true (g_file_set_contents (self->counter_file, count, -1, NULL));
  g_setenv ("IMZALA_FAULT_PIN_COUNTER_FILE", self->counter_file, TRUE);

  if (faults != NULL)
    self->modules = imzala_test_fault_load (self->fixture, faults, NULL, &error);
  else
    self->modules = imzala_test_fixture_load (self->fixture, &error);
  g_assert_no_error (error);
  self->settings = g_settings_new (IMZALA_SETTINGS_SCHEMA);
}

static void
setup_with (Pages      *self,
            const char *faults,
            int         wrong_pins)
{
  load (self, faults, wrong_pins);
  self->window = imzala_test_gui_new_window (self->settings, self->modules);
}

static void
setup_plain (Pages *self, gconstpointer data)
{
  setup_with (self, NULL, 0);
}

static void
teardown (Pages         *self,
          gconstpointer  data)
{
  if (self->window != NULL)
    gtk_window_destroy (GTK_WINDOW (self->window));
  imzala_test_gui_settle ();
  if (self->modules != NULL)
    imzala_test_modules_unref_and_wait (g_steal_pointer (&self->modules));
  g_clear_object (&self->settings);
  g_clear_pointer (&self->fixture, imzala_test_fixture_free);
  if (self->counter_file != NULL)
    g_unlink (self->counter_file);
  g_clear_pointer (&self->counter_file, g_free);
  g_setenv ("IMZALA_FAULTS", "", TRUE);
  g_unsetenv ("IMZALA_FAULT_PIN_RANGE");
  g_unsetenv ("IMZALA_FAULT_DELAY_MS");
  g_unsetenv ("IMZALA_FAULT_PIN_COUNTER_FILE");
}

/* What a person sees: the labels that are drawn (mapped), so not the rows
 * of a closed expander nor the pages of a stack that are not shown. */
static void
collect_mapped (GtkWidget *widget,
                GString   *out)
{
  if (!gtk_widget_get_mapped (widget))
    return;
  if (GTK_IS_LABEL (widget))
    g_string_append_printf (out, "%s\n", gtk_label_get_text (GTK_LABEL (widget)));
  for (GtkWidget *child = gtk_widget_get_first_child (widget);
       child != NULL;
       child = gtk_widget_get_next_sibling (child))
    collect_mapped (child, out);
}

static char *
seen_text (ImzalaWindow *window,
           const char   *page)
{
  GString *out = g_string_new (NULL);

  imzala_test_gui_settle ();
  collect_mapped (imzala_window_get_page (window, page), out);
  return g_string_free (out, FALSE);
}

static void
assert_contains (const char *haystack,
                 const char *needle)
{
  if (strstr (haystack, needle) == NULL)
    g_error ("“%s” is not in:\n%s", needle, haystack);
}

static void
assert_not_contains (const char *haystack,
                     const char *needle)
{
  if (strstr (haystack, needle) != NULL)
    g_error ("“%s” should not be in:\n%s", needle, haystack);
}

static void
activate (ImzalaWindow *window,
          const char   *name)
{
  if (strchr (name, '.') != NULL)
    {
      GtkWidget *page = imzala_window_get_page (window, imzala_window_get_page_name (window));

      g_assert_true (gtk_widget_activate_action (page, name, NULL));
      return;
    }
  g_assert_true (g_action_group_get_action_enabled (G_ACTION_GROUP (window), name));
  g_action_group_activate_action (G_ACTION_GROUP (window), name, NULL);
}

static gboolean
flag_set (gpointer data)
{
  return *(gboolean *) data;
}

static void
tokens_changed_cb (ImzalaWindow *window,
                   gboolean     *done)
{
  *done = TRUE;
}

/* Runs @action and waits for the listing of the cards that follows it (a
 * tool page lists them when it opens, a PIN change when it is done). */
static void
activate_and_wait_tokens (ImzalaWindow *window,
                          const char   *action)
{
  gboolean done = FALSE;
  gulong id = g_signal_connect (window, "tokens-changed", G_CALLBACK (tokens_changed_cb), &done);

  activate (window, action);
  imzala_test_gui_wait (flag_set, &done, 60, action);
  g_signal_handler_disconnect (window, id);
  imzala_test_gui_settle ();
}

static void
type_into (GPtrArray  *entries,
           guint       index,
           const char *text)
{
  g_assert_cmpuint (index, <, entries->len);
  g_assert_true (imzala_pin_entry_append (g_ptr_array_index (entries, index), text));
}

/* The label that says how the PIN stands is the first of the form. */
static GtkWidget *
find_label (GtkWidget  *page,
            const char *text)
{
  g_autoptr(GPtrArray) labels = imzala_test_gui_find_all (page, GTK_TYPE_LABEL);

  for (guint i = 0; i < labels->len; i++)
    if (g_str_equal (gtk_label_get_text (g_ptr_array_index (labels, i)), text))
      return g_ptr_array_index (labels, i);
  g_error ("No label “%s” on the page", text);
  return NULL;
}

static const char *
page_stack_child (ImzalaWindow *window,
                  const char   *page)
{
  GtkWidget *child = adw_bin_get_child (ADW_BIN (imzala_window_get_page (window, page)));

  return gtk_stack_get_visible_child_name (GTK_STACK (child));
}

/* ---- The PIN's state at the top ---- */

/* A card with nothing to report and a 6–8 range: the pages say the PIN can
 * be used, nothing about tries, and the rule in words. */
static void
test_state_normal (Pages         *self,
                   gconstpointer  data)
{
  g_autofree char *change = NULL;
  g_autofree char *unblock = NULL;
  g_autofree char *tokens = NULL;

  g_setenv ("IMZALA_FAULT_PIN_RANGE", "6-8", TRUE);
  setup_with (self, "pin-counter-file,pin-range", 0);

  activate_and_wait_tokens (self->window, "show-pin-change");
  change = seen_text (self->window, "pin-change");
  g_test_message ("PIN change page:\n%s", change);
  assert_contains (change, "PIN’iniz kullanılabilir durumda.");
  assert_contains (change, "Yeni PIN 6–8 karakter olmalıdır.");
  assert_not_contains (change, "bloke değil");
  assert_not_contains (change, "deneme");
  g_assert_false (gtk_widget_has_css_class (find_label (imzala_window_get_page (self->window, "pin-change"),
                                                        "PIN’iniz kullanılabilir durumda."), "error"));

  activate (self->window, "back");
  activate_and_wait_tokens (self->window, "show-unblock");
  unblock = seen_text (self->window, "unblock");
  g_test_message ("Unblock page:\n%s", unblock);
  assert_contains (unblock, "PIN’iniz kullanılabilir durumda; kilit çözmeye gerek yok.");
  assert_contains (unblock, "Yeni PIN 6–8 karakter olmalıdır.");
  /* The PUK's tries only when they matter. */
  assert_not_contains (unblock, "PUK denemesi");

  activate (self->window, "back");
  activate_and_wait_tokens (self->window, "show-tokens");
  tokens = seen_text (self->window, "tokens");
  g_test_message ("Cards page:\n%s", tokens);
  assert_contains (tokens, "PIN’iniz kullanılabilir durumda. PIN 6–8 karakter uzunluğundadır.");
  assert_not_contains (tokens, "bloke değil");
}

/* Two wrong PINs: the last try, said first and in red. */
static void
test_state_final_try (Pages         *self,
                      gconstpointer  data)
{
  g_autofree char *change = NULL;
  g_autofree char *unblock = NULL;
  GtkWidget *page;

  setup_with (self, "pin-counter-file", 2);

  activate_and_wait_tokens (self->window, "show-pin-change");
  change = seen_text (self->window, "pin-change");
  g_test_message ("PIN change page:\n%s", change);
  assert_contains (change, "Son deneme hakkınız kaldı.");
  page = imzala_window_get_page (self->window, "pin-change");
  g_assert_true (gtk_widget_has_css_class (find_label (page, "Son deneme hakkınız kaldı."), "error"));

  activate (self->window, "back");
  activate_and_wait_tokens (self->window, "show-unblock");
  unblock = seen_text (self->window, "unblock");
  g_test_message ("Unblock page:\n%s", unblock);
  assert_contains (unblock, "Son deneme hakkınız kaldı.");
  assert_not_contains (unblock, "kilit çözmeye gerek yok");
}

/* Three wrong PINs: blocked. Unblocking with the PUK ends on a page of its
 * own, and the page then says the PIN can be used again. */
static void
test_state_locked_then_unblocked (Pages         *self,
                                  gconstpointer  data)
{
  g_autofree char *unblock = NULL;
  g_autofree char *done = NULL;
  g_autofree char *after = NULL;
  g_autofree char *puk = NULL;
  g_autoptr(GPtrArray) entries = NULL;
  GtkWidget *page;
  GtkWidget *focus;

  setup_with (self, "pin-counter-file", 3);
  puk = imzala_test_fixture_get (self->fixture, "fixture", "so-pin");

  activate_and_wait_tokens (self->window, "show-unblock");
  unblock = seen_text (self->window, "unblock");
  g_test_message ("Unblock page:\n%s", unblock);
  assert_contains (unblock, "PIN’iniz bloke.");
  page = imzala_window_get_page (self->window, "unblock");
  g_assert_true (gtk_widget_has_css_class (find_label (page, "PIN’iniz bloke."), "error"));
  g_assert_cmpstr (page_stack_child (self->window, "unblock"), ==, "form");

  entries = imzala_test_gui_find_all (page, IMZALA_TYPE_PIN_ENTRY);
  type_into (entries, 0, puk);
  type_into (entries, 1, NEW_PIN);
  type_into (entries, 2, NEW_PIN);
  activate_and_wait_tokens (self->window, "unblock.unblock-pin");

  g_assert_cmpstr (page_stack_child (self->window, "unblock"), ==, "done");
  done = seen_text (self->window, "unblock");
  g_test_message ("After the unblock:\n%s", done);
  assert_contains (done, "PIN Blokeniz Kaldırıldı");
  assert_contains (done, "kimseyle paylaşmayın");
  assert_not_contains (done, "PIN’iniz bloke.");
  focus = gtk_root_get_focus (GTK_ROOT (self->window));
  g_assert_nonnull (focus);
  g_assert_true (GTK_IS_BUTTON (focus) || gtk_widget_get_ancestor (focus, GTK_TYPE_BUTTON) != NULL);
  g_assert_cmpstr (gtk_actionable_get_action_name (GTK_ACTIONABLE (GTK_IS_BUTTON (focus) ? focus
                                                                   : gtk_widget_get_ancestor (focus, GTK_TYPE_BUTTON))),
                   ==, "win.back");

  /* Başa Dön goes back to the start; the page opens again on its form,
   * and the card now says its PIN can be used. */
  activate (self->window, "back");
  g_assert_cmpstr (imzala_window_get_page_name (self->window), ==, "code");
  activate_and_wait_tokens (self->window, "show-unblock");
  g_assert_cmpstr (page_stack_child (self->window, "unblock"), ==, "form");
  after = seen_text (self->window, "unblock");
  assert_contains (after, "PIN’iniz kullanılabilir durumda; kilit çözmeye gerek yok.");
}

/* SoftHSM states 4 to 255: nothing about the length, rather than a rule
 * that tells a person nothing. */
static void
test_absurd_range (Pages         *self,
                   gconstpointer  data)
{
  g_autofree char *change = NULL;
  g_autofree char *tokens = NULL;

  setup_with (self, NULL, 0);
  activate_and_wait_tokens (self->window, "show-pin-change");
  change = seen_text (self->window, "pin-change");
  g_test_message ("PIN change page:\n%s", change);
  assert_not_contains (change, "255");
  assert_not_contains (change, "karakter");

  /* A new PIN too short for the card: the refusal names the minimum,
   * not "4 ile 255 karakter". */
  {
    GtkWidget *page = imzala_window_get_page (self->window, "pin-change");
    g_autoptr(GPtrArray) entries = imzala_test_gui_find_all (page, IMZALA_TYPE_PIN_ENTRY);
    g_autofree char *pin = imzala_test_fixture_get (self->fixture, "fixture", "user-pin");
    g_autofree char *refused = NULL;

    type_into (entries, 0, pin);
    type_into (entries, 1, "12");
    type_into (entries, 2, "12");
    activate (self->window, "pin-change.change-pin");
    refused = seen_text (self->window, "pin-change");
    g_test_message ("PIN change page after a short new PIN:\n%s", refused);
    assert_contains (refused, "Yeni PIN en az 4 karakter olmalıdır.");
    assert_not_contains (refused, "255");
  }

  activate (self->window, "back");
  activate_and_wait_tokens (self->window, "show-tokens");
  tokens = seen_text (self->window, "tokens");
  assert_not_contains (tokens, "255");
}

/* ---- Success pages ---- */

static void
test_pin_change_done (Pages         *self,
                      gconstpointer  data)
{
  GtkWidget *page = imzala_window_get_page (self->window, "pin-change");
  g_autoptr(GPtrArray) entries = imzala_test_gui_find_all (page, IMZALA_TYPE_PIN_ENTRY);
  g_autofree char *pin = imzala_test_fixture_get (self->fixture, "fixture", "user-pin");
  g_autofree char *done = NULL;
  g_autoptr(GPtrArray) toasts = NULL;
  GtkWidget *focus;

  activate_and_wait_tokens (self->window, "show-pin-change");
  type_into (entries, 0, pin);
  type_into (entries, 1, NEW_PIN);
  type_into (entries, 2, NEW_PIN);
  activate_and_wait_tokens (self->window, "pin-change.change-pin");

  g_assert_cmpstr (page_stack_child (self->window, "pin-change"), ==, "done");
  done = seen_text (self->window, "pin-change");
  g_test_message ("After the change:\n%s", done);
  assert_contains (done, "PIN’iniz Değiştirildi");
  assert_contains (done, "Bundan sonra yeni PIN’inizi kullanın. Yeni PIN’inizi kimseyle paylaşmayın.");
  assert_contains (done, "Başa Dön");
  /* No toast over the page. */
  toasts = imzala_test_gui_find_all (GTK_WIDGET (self->window), g_type_from_name ("AdwToastWidget"));
  g_assert_cmpuint (toasts->len, ==, 0);
  focus = gtk_root_get_focus (GTK_ROOT (self->window));
  g_assert_nonnull (focus);
  g_assert_true (gtk_widget_is_ancestor (focus, page));

  activate (self->window, "back");
  g_assert_cmpstr (imzala_window_get_page_name (self->window), ==, "code");
  activate (self->window, "show-pin-change");
  g_assert_cmpstr (page_stack_child (self->window, "pin-change"), ==, "form");
}

/* ---- Kilit Çözme while the first listing runs ---- */

static void
test_unblock_reading (Pages         *self,
                      gconstpointer  data)
{
  g_autoptr(ImzalaSettings) policy = NULL;
  g_autoptr(ImzalaTokenList) token_list = NULL;
  g_autofree char *reading = NULL;
  g_autofree char *read = NULL;
  gboolean done = FALSE;
  gulong id;

  g_setenv ("IMZALA_FAULT_DELAY_MS", "700", TRUE);
  load (self, "slow-slot-list", 0);
  policy = imzala_settings_new (self->settings);
  self->window = imzala_window_new (NULL, policy);
  gtk_window_present (GTK_WINDOW (self->window));
  while (!gtk_widget_get_mapped (GTK_WIDGET (self->window)))
    g_main_context_iteration (NULL, TRUE);

  /* The window gets its cards' list and the user opens Kilit Çözme at
   * once: the listing is under way. */
  id = g_signal_connect (self->window, "tokens-changed", G_CALLBACK (tokens_changed_cb), &done);
  token_list = imzala_token_list_new (self->modules);
  imzala_window_set_token_list (self->window, token_list, NULL);
  activate (self->window, "show-unblock");
  g_assert_true (imzala_token_list_get_loading (token_list));
  reading = seen_text (self->window, "unblock");
  g_test_message ("Unblock page while the card is read:\n%s", reading);
  assert_contains (reading, "Kart okunuyor…");
  assert_not_contains (reading, "Kartınızı takın");

  imzala_test_gui_wait (flag_set, &done, 60, "the first listing");
  g_signal_handler_disconnect (self->window, id);
  read = seen_text (self->window, "unblock");
  g_test_message ("Unblock page after the listing:\n%s", read);
  assert_not_contains (read, "Kart okunuyor");
  assert_contains (read, "kilit çözmeye gerek yok");
}

static gboolean
job_tokens_read (gpointer data)
{
  ImzalaSigningJob *job = imzala_unblock_page_get_job (data);

  return job != NULL && !imzala_signing_job_get_tokens_loading (job);
}

/* The portal's way: a code for an unblock while the job's first listing
 * of the cards runs (slow-slot-list). The page says "Kart okunuyor…" at
 * once, as the sign page does, and then the card and its PIN state. */
static void
test_unblock_portal_reading (Pages         *self,
                             gconstpointer  data)
{
  g_autoptr(ImzalaTestPortal) portal = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *code = NULL;
  g_autofree char *reading = NULL;
  g_autofree char *read = NULL;
  GtkWidget *page;
  const char *shown;

  portal = imzala_test_portal_new (0, &error);
  g_assert_no_error (error);
  g_setenv ("IMZALA_FAULTS", "slow-slot-list", TRUE);
  g_setenv ("IMZALA_FAULT_DELAY_MS", "700", TRUE);
  self->settings = imzala_test_gui_new_settings (portal);
  self->modules = imzala_test_gui_load_modules (g_getenv ("IMZALA_FAULT_MODULE"));
  self->window = imzala_test_gui_new_window (self->settings, self->modules);

  code = imzala_test_portal_create_request (portal, "unblock", &error);
  g_assert_no_error (error);
  imzala_code_page_set_code (IMZALA_CODE_PAGE (imzala_window_get_page (self->window, "code")), code);
  activate (self->window, "next");
  shown = imzala_test_gui_wait_page (self->window, "unblock", "failure", NULL);
  g_assert_cmpstr (shown, ==, "unblock");
  page = imzala_window_get_page (self->window, "unblock");
  g_assert_nonnull (imzala_unblock_page_get_job (IMZALA_UNBLOCK_PAGE (page)));
  g_assert_true (imzala_signing_job_get_tokens_loading (imzala_unblock_page_get_job (IMZALA_UNBLOCK_PAGE (page))));
  reading = seen_text (self->window, "unblock");
  g_test_message ("Unblock page (portal) while the card is read:\n%s", reading);
  assert_contains (reading, "Kart okunuyor…");
  assert_contains (reading, portal->host);

  imzala_test_gui_wait (job_tokens_read, page, 60, "the job's listing");
  read = seen_text (self->window, "unblock");
  g_test_message ("Unblock page (portal) after the listing:\n%s", read);
  assert_not_contains (read, "Kart okunuyor");
  assert_contains (read, "kilit çözmeye gerek yok");

  /* The window is made with the portal's card; it goes before the portal. */
  gtk_window_destroy (GTK_WINDOW (g_steal_pointer (&self->window)));
  imzala_test_gui_settle ();
  imzala_test_modules_unref_and_wait (g_steal_pointer (&self->modules));
}

/* ---- A reader that gives up ---- */

/* Kilit Çözme on a pin-pad reader that stops waiting for the PUK: the page
 * says the reader gave up, never "İptal edildi" (nobody cancelled), and
 * stays on its form for another try. */
static void
test_unblock_pin_pad_timeout (Pages         *self,
                              gconstpointer  data)
{
  g_autofree char *text = NULL;

  g_setenv ("IMZALA_FAULT_DELAY_MS", "300", TRUE);
  setup_with (self, "pin-pad-wait", 0);

  activate_and_wait_tokens (self->window, "show-unblock");
  text = seen_text (self->window, "unblock");
  assert_contains (text, "Bu kart okuyucunun kendi tuş takımı var.");
  activate_and_wait_tokens (self->window, "unblock.unblock-pin");

  g_clear_pointer (&text, g_free);
  text = seen_text (self->window, "unblock");
  g_test_message ("Unblock page after the reader gave up:\n%s", text);
  g_assert_cmpstr (page_stack_child (self->window, "unblock"), ==, "form");
  assert_contains (text, "Okuyucu PIN’i beklemeyi bıraktı");
  assert_not_contains (text, "İptal edildi");
}

/* ---- Kartlar: technical words behind Ayrıntılar ---- */

static gboolean
widget_mapped (gpointer data)
{
  return gtk_widget_get_mapped (data);
}

static GtkWidget *
find_text_label (GtkWidget  *page,
                 const char *needle)
{
  g_autoptr(GPtrArray) labels = imzala_test_gui_find_all (page, GTK_TYPE_LABEL);

  for (guint i = 0; i < labels->len; i++)
    if (strstr (gtk_label_get_text (g_ptr_array_index (labels, i)), needle) != NULL)
      return g_ptr_array_index (labels, i);
  return NULL;
}

static void
test_tokens_details (Pages         *self,
                     gconstpointer  data)
{
  GtkWidget *page = imzala_window_get_page (self->window, "tokens");
  g_autofree char *seen = NULL;
  g_autoptr(GPtrArray) expanders = NULL;
  AdwExpanderRow *details = NULL;
  GtkWidget *slot_label;
  GtkWidget *path_label;

  activate_and_wait_tokens (self->window, "show-tokens");
  seen = seen_text (self->window, "tokens");
  g_test_message ("Cards page as seen:\n%s", seen);
  /* The owner's words: the card, that it is in, the person, the PIN. */
  assert_contains (seen, "IMZALA TEST 1");
  assert_contains (seen, "Kart takılı");
  assert_contains (seen, "AYŞE YILMAZ");
  assert_contains (seen, "tarihine kadar geçerli");
  assert_contains (seen, "Ayrıntılar");
  /* Not the slot, the module's file or its English description. */
  assert_not_contains (seen, "slot ID");
  assert_not_contains (seen, "libsofthsm2.so");
  assert_not_contains (seen, "Implementation of PKCS11");
  assert_not_contains (seen, "içinde");

  /* They are behind the closed rows, made when a row is first opened
   * (issue 12: closed rows cost nothing). */
  g_assert_null (find_text_label (page, "slot ID"));
  expanders = imzala_test_gui_find_all (page, ADW_TYPE_EXPANDER_ROW);
  for (guint i = 0; i < expanders->len; i++)
    {
      AdwExpanderRow *row = g_ptr_array_index (expanders, i);

      g_assert_false (adw_expander_row_get_expanded (row));
      if (details == NULL
          && g_strcmp0 (adw_preferences_row_get_title (ADW_PREFERENCES_ROW (row)), "Ayrıntılar") == 0)
        details = row;
    }
  g_assert_nonnull (details);
  g_assert_cmpstr (adw_preferences_row_get_title (ADW_PREFERENCES_ROW (details)), ==, "Ayrıntılar");
  adw_expander_row_set_expanded (details, TRUE);
  slot_label = find_text_label (GTK_WIDGET (details), "slot ID");
  path_label = find_text_label (GTK_WIDGET (details), "libsofthsm2.so");
  g_assert_nonnull (slot_label);
  g_assert_nonnull (path_label);
  imzala_test_gui_wait (widget_mapped, slot_label, 60, "the details to open");
}

/* ---- 360 px ---- */

/* On failure: which widgets ask for more than 300 px, and why the page
 * does not shrink. */
static void
dump_wide (GtkWidget *widget,
           int        depth)
{
  int minimum = 0;
  int natural = 0;

  gtk_widget_measure (widget, GTK_ORIENTATION_HORIZONTAL, -1, &minimum, &natural, NULL, NULL);
  if (minimum > 300)
    g_test_message ("%*s%s: minimum %d px, natural %d px %s", depth, "", G_OBJECT_TYPE_NAME (widget),
                    minimum, natural, GTK_IS_LABEL (widget) ? gtk_label_get_text (GTK_LABEL (widget)) : "");
  for (GtkWidget *child = gtk_widget_get_first_child (widget);
       child != NULL;
       child = gtk_widget_get_next_sibling (child))
    dump_wide (child, depth + 1);
}

/* Every widget that is drawn lies within the window, horizontally. */
static void
assert_within (GtkWidget  *widget,
               GtkWidget  *window,
               const char *name)
{
  graphene_rect_t bounds;

  /* An overlay scrollbar's slider is drawn over the edge by design; it is
   * no content. */
  if (!gtk_widget_get_mapped (widget) || GTK_IS_SCROLLBAR (widget))
    return;
  if (gtk_widget_get_width (widget) > 0 && gtk_widget_compute_bounds (widget, window, &bounds))
    {
      if (bounds.origin.x < -0.5 || bounds.origin.x + bounds.size.width > gtk_widget_get_width (window) + 0.5)
        {
          g_autoptr(GString) path = g_string_new (NULL);

          for (GtkWidget *w = widget; w != NULL && w != window; w = gtk_widget_get_parent (w))
            g_string_append_printf (path, " < %s.%s", G_OBJECT_TYPE_NAME (w), gtk_widget_get_css_name (w));
          g_error ("%s: a %s reaches from x=%.1f to %.1f in a window %d px wide (%s)",
                   name, G_OBJECT_TYPE_NAME (widget), bounds.origin.x,
                   bounds.origin.x + bounds.size.width, gtk_widget_get_width (window), path->str);
        }
    }
  for (GtkWidget *child = gtk_widget_get_first_child (widget);
       child != NULL;
       child = gtk_widget_get_next_sibling (child))
    assert_within (child, window, name);
}

/* The page alone in a window of 360 px: it must not need more (its minimum
 * width), the window must stay 360 px, and nothing may stick out. */
static void
assert_fits_360 (GtkWidget  *page,
                 const char *name)
{
  GtkWidget *window = imzala_test_gui_show_in_window (page, 360, 720);
  int minimum = 0;
  int natural = 0;

  gtk_widget_measure (page, GTK_ORIENTATION_HORIZONTAL, -1, &minimum, &natural, NULL, NULL);
  g_test_message ("%s: minimum width %d px, natural %d px, window %d px",
                  name, minimum, natural, gtk_widget_get_width (window));
  if (minimum > 360)
    dump_wide (page, 0);
  g_assert_cmpint (minimum, <=, 360);
  g_assert_cmpint (gtk_widget_get_width (window), ==, 360);
  assert_within (page, window, name);
  gtk_window_destroy (GTK_WINDOW (window));
  imzala_test_gui_settle ();
}

static void
test_narrow (Pages         *self,
             gconstpointer  data)
{
  g_autoptr(ImzalaTokenList) token_list = imzala_token_list_new (self->modules);
  g_autoptr(GError) error = g_error_new_literal (IMZALA_ERROR, IMZALA_ERROR_PIN_PAD_TIMEOUT,
                                                 "Okuyucu PIN’i beklemeyi bıraktı: PIN zamanında girilmedi ya da okuyucuda İptal’e basıldı. Yeniden deneyin.");
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();
  GtkWidget *page;
  gboolean loaded = FALSE;

  imzala_token_list_refresh (token_list);
  while (imzala_token_list_get_loading (token_list))
    g_main_context_iteration (NULL, TRUE);
  loaded = g_list_model_get_n_items (G_LIST_MODEL (token_list)) > 0;
  g_assert_true (loaded);

  /* The first page, its header laid out by hand (issue 12): the title and
   * the description wrap as AdwStatusPage's did. */
  page = g_object_new (IMZALA_TYPE_CODE_PAGE, NULL);
  assert_fits_360 (page, "code");

  page = g_object_new (IMZALA_TYPE_PIN_CHANGE_PAGE, NULL);
  imzala_pin_change_page_set_token_list (IMZALA_PIN_CHANGE_PAGE (page), token_list);
  assert_fits_360 (page, "pin-change");

  page = g_object_new (IMZALA_TYPE_UNBLOCK_PAGE, NULL);
  imzala_unblock_page_set_token_list (IMZALA_UNBLOCK_PAGE (page), token_list);
  assert_fits_360 (page, "unblock");

  page = g_object_new (IMZALA_TYPE_TOKENS_PAGE, NULL);
  imzala_tokens_page_set_token_list (IMZALA_TOKENS_PAGE (page), token_list, NULL);
  assert_fits_360 (page, "tokens");

  page = g_object_new (IMZALA_TYPE_RESULT_PAGE, NULL);
  imzala_result_page_set_result (IMZALA_RESULT_PAGE (page), "İşleminiz Başarılıdır",
                                 "E-imzalı girişiniz tamamlandı. Tarayıcınızda devam edebilirsiniz.",
                                 now, now, TRUE);
  assert_fits_360 (page, "result");

  page = g_object_new (IMZALA_TYPE_FAILURE_PAGE, NULL);
  imzala_failure_page_set_error (IMZALA_FAILURE_PAGE (page), error);
  assert_fits_360 (page, "failure");

  page = g_object_new (IMZALA_TYPE_PORTAL_CONFIRM_PAGE, NULL);
  imzala_portal_confirm_page_set_origin (IMZALA_PORTAL_CONFIRM_PAGE (page),
                                         "https://esign-portal.certificate-authority.example.com.tr:8443");
  assert_fits_360 (page, "portal-confirm");

  page = g_object_new (g_type_from_name ("ImzalaDoctorPage"), NULL);
  assert_fits_360 (page, "doctor");

  /* The pages of issues 10 and 11: Dosya İmzala over the cards, İmza
   * Doğrula before a file is opened. */
  page = g_object_new (IMZALA_TYPE_FILE_SIGN_PAGE, NULL);
  imzala_file_sign_page_set_token_list (IMZALA_FILE_SIGN_PAGE (page), token_list);
  assert_fits_360 (page, "file-sign");

  page = g_object_new (IMZALA_TYPE_VERIFY_PAGE, NULL);
  assert_fits_360 (page, "verify");
}

/* A wrong PUK was entered before (CKF_SO_PIN_COUNT_LOW alone): Kilit
 * Çözme says few PUK tries are left before the user spends another, and
 * not yet that only one is left. */
static void
test_puk_count_low (Pages         *self,
                    gconstpointer  data)
{
  g_autofree char *unblock = NULL;

  setup_with (self, "pin-counter-file,puk-count-low", 3);
  activate_and_wait_tokens (self->window, "show-unblock");
  unblock = seen_text (self->window, "unblock");
  g_test_message ("Unblock page:\n%s", unblock);
  assert_contains (unblock, "PIN’iniz bloke.");
  assert_contains (unblock, "az PUK deneme hakkınız kaldı");
  assert_not_contains (unblock, "Yalnızca bir PUK");
}

int
main (int argc, char *argv[])
{
  imzala_test_gui_init (&argc, &argv);
  /* The expander rows open at once: the test waits for what it checks,
   * never for a time. */
  g_object_set (gtk_settings_get_default (), "gtk-enable-animations", FALSE, NULL);

  g_test_add ("/gui/pages/state/normal", Pages, NULL, NULL, test_state_normal, teardown);
  g_test_add ("/gui/pages/state/final-try", Pages, NULL, NULL, test_state_final_try, teardown);
  g_test_add ("/gui/pages/state/locked-then-unblocked", Pages, NULL, NULL,
              test_state_locked_then_unblocked, teardown);
  g_test_add ("/gui/pages/state/absurd-range", Pages, NULL, NULL, test_absurd_range, teardown);
  g_test_add ("/gui/pages/pin-change-done", Pages, NULL, setup_plain, test_pin_change_done, teardown);
  g_test_add ("/gui/pages/unblock-reading-card", Pages, NULL, NULL, test_unblock_reading, teardown);
  g_test_add ("/gui/pages/unblock-portal-reading-card", Pages, NULL, NULL, test_unblock_portal_reading, teardown);
  g_test_add ("/gui/pages/unblock-pin-pad-timeout", Pages, NULL, NULL, test_unblock_pin_pad_timeout, teardown);
  g_test_add ("/gui/pages/tokens-details", Pages, NULL, setup_plain, test_tokens_details, teardown);
  g_test_add ("/gui/pages/narrow", Pages, NULL, setup_plain, test_narrow, teardown);
  g_test_add ("/gui/pages/puk-count-low", Pages, NULL, NULL, test_puk_count_low, teardown);

  return g_test_run ();
}
