#define G_LOG_DOMAIN "imzala-test"

/* The whole window against the real reference portal (imzala-portal, started
 * here) and its SoftHSM demo card, in Turkish: requests are made through the
 * portal's browser API as a browser makes them, the window is driven through
 * its widgets and actions, and what the portal recorded is read from its
 * database. */

#include "config.h"

#include <adwaita.h>
#include <glib/gstdio.h>
#include <string.h>

#include "imzala-code-page.h"
#include "imzala-pin-entry.h"
#include "imzala-unblock-page.h"
#include "imzala-test.h"
#include "imzala-test-gui.h"
#include "imzala-test-portal.h"
#include "imzala-window.h"

#define NEW_PIN "246810"

typedef struct
{
  ImzalaTestPortal *portal;
  GSettings        *settings;
  ImzalaModuleSet  *modules;
  ImzalaWindow     *window;
} Flow;

static void
flow_setup (Flow          *flow,
            gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  guint lifetime = GPOINTER_TO_UINT (data);
  const char *faults = g_getenv ("IMZALA_FAULTS");

  flow->portal = imzala_test_portal_new (lifetime, &error);
  g_assert_no_error (error);
  flow->settings = imzala_test_gui_new_settings (flow->portal);
  /* IMZALA_FAULTS set by a test: the fault module over SoftHSM. */
  flow->modules = imzala_test_gui_load_modules (faults != NULL && *faults != '\0'
                                                ? g_getenv ("IMZALA_FAULT_MODULE") : NULL);
  flow->window = imzala_test_gui_new_window (flow->settings, flow->modules);
}

static void
flow_setup_pin_counter (Flow          *flow,
                        gconstpointer  data)
{
  g_setenv ("IMZALA_FAULTS", "pin-counter", TRUE);
  flow_setup (flow, data);
}

/* A card whose PIN is locked: the portal's unblock is only for such a card. */
static void
flow_setup_pin_locked (Flow          *flow,
                       gconstpointer  data)
{
  g_setenv ("IMZALA_FAULTS", data != NULL ? data : "pin-locked", TRUE);
  flow_setup (flow, GUINT_TO_POINTER (0));
}

static void
flow_setup_slow_card (Flow          *flow,
                      gconstpointer  data)
{
  g_setenv ("IMZALA_FAULTS", "slow-card", TRUE);
  g_setenv ("IMZALA_FAULT_DELAY_MS", "1500", TRUE);
  flow_setup (flow, data);
}

static void
flow_teardown (Flow          *flow,
               gconstpointer  data)
{
  gtk_window_destroy (GTK_WINDOW (flow->window));
  imzala_test_gui_settle ();
  g_clear_object (&flow->modules);
  /* Work still queued for this test's modules (a status check, a card
   * listing the destroyed window started) must not outlive them: the next
   * test loads SoftHSM again in this process, and a late C_Finalize of this
   * test's module would finalize it under the next one (seen under ASan,
   * which is slow enough for it). */
  imzala_module_close_all ();
  g_clear_object (&flow->settings);
  g_clear_pointer (&flow->portal, imzala_test_portal_free);
  g_setenv ("IMZALA_FAULTS", "", TRUE);
}

static const char *pending_action;

static gboolean
action_enabled (gpointer window)
{
  return g_action_group_get_action_enabled (G_ACTION_GROUP (window), pending_action);
}

static void
activate (ImzalaWindow *window,
          const char   *name)
{
  /* A page's own action ("pin-change.change-pin") is activated on the page
   * on screen, as its button does. */
  if (strchr (name, '.') != NULL)
    {
      GtkWidget *page = imzala_window_get_page (window, imzala_window_get_page_name (window));

      g_assert_true (gtk_widget_activate_action (page, name, NULL));
      return;
    }
  /* As a user presses a button once it turns sensitive: the sign page
   * shows while the card is still read (issue 8), and under the sanitizers
   * that takes long enough for a test to be there first. Waited for with a
   * bound, not timed; an action that never turns on still fails. */
  pending_action = name;
  imzala_test_gui_wait (action_enabled, window, 60, name);
  pending_action = NULL;
  g_assert_true (g_action_group_get_action_enabled (G_ACTION_GROUP (window), name));
  g_action_group_activate_action (G_ACTION_GROUP (window), name, NULL);
}

static void
assert_contains (const char *haystack,
                 const char *needle)
{
  if (strstr (haystack, needle) == NULL)
    g_error ("“%s” is not in:\n%s", needle, haystack);
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

/* Runs @action and waits for the token list that the window makes when the
 * card work behind the action is over. */
static void
activate_and_wait_tokens (ImzalaWindow *window,
                          const char   *action)
{
  gboolean done = FALSE;
  gulong id = g_signal_connect (window, "tokens-changed", G_CALLBACK (tokens_changed_cb), &done);

  activate (window, action);
  imzala_test_gui_wait (tokens_changed, &done, 60, action);
  g_signal_handler_disconnect (window, id);
}

/* Types @code into the code page, as a user pastes it, and presses İleri;
 * returns when the window shows @page, maybe still reading the card. */
static void
enter_code_only (Flow       *flow,
                 const char *code,
                 const char *page)
{
  ImzalaCodePage *code_page = IMZALA_CODE_PAGE (imzala_window_get_page (flow->window, "code"));
  const char *shown;

  g_assert_cmpstr (imzala_window_get_page_name (flow->window), ==, "code");
  imzala_code_page_set_code (code_page, code);
  activate (flow->window, "next");
  shown = imzala_test_gui_wait_page (flow->window, page, "failure", NULL);
  if (!g_str_equal (shown, page))
    {
      g_autofree char *text = imzala_test_gui_page_text (flow->window, "failure");
      g_error ("Expected the page %s, got the failure page:\n%s", page, text);
    }
}

static gboolean
sign_page_cards_read (gpointer data)
{
  g_autofree char *text = imzala_test_gui_page_text (data, "sign");

  return !g_str_equal (imzala_window_get_page_name (data), "sign") ||
         strstr (text, "Kart okunuyor") == NULL;
}

static gboolean
unblock_page_cards_read (gpointer data)
{
  GtkWidget *page = imzala_window_get_page (data, "unblock");
  ImzalaSigningJob *job = imzala_unblock_page_get_job (IMZALA_UNBLOCK_PAGE (page));

  return job == NULL || !imzala_signing_job_get_tokens_loading (job);
}

/* enter_code_only(), then waits for the job's first listing of the cards:
 * the request is shown before it, and these tests choose among the cards. */
static void
enter_code (Flow       *flow,
            const char *code,
            const char *page)
{
  enter_code_only (flow, code, page);
  if (g_str_equal (page, "sign"))
    imzala_test_gui_wait (sign_page_cards_read, flow->window, 60, "the cards on the sign page");
  else if (g_str_equal (page, "unblock"))
    imzala_test_gui_wait (unblock_page_cards_read, flow->window, 60, "the cards on the unblock page");
}

static gboolean
job_settled (gpointer data)
{
  ImzalaWindow *window = data;
  const char *page = imzala_window_get_page_name (window);
  GtkWidget *sign_page = imzala_window_get_page (window, "sign");
  g_autoptr(GPtrArray) labels = NULL;

  if (!g_str_equal (page, "sign"))
    return TRUE;
  /* Back in CHOOSING after a wrong PIN: the Sign action is usable again
   * and the error is on the page. */
  labels = imzala_test_gui_find_all (sign_page, GTK_TYPE_LABEL);
  for (guint i = 0; i < labels->len; i++)
    if (gtk_widget_has_css_class (g_ptr_array_index (labels, i), "error") &&
        gtk_widget_get_visible (g_ptr_array_index (labels, i)) &&
        *gtk_label_get_text (g_ptr_array_index (labels, i)) != '\0')
      return TRUE;
  return FALSE;
}

/* On the sign page: the PIN on the keypad, then İMZALA; waits for the
 * result page (or, for a wrong PIN, for the error on the sign page). */
static const char *
sign_with_pin (Flow       *flow,
               const char *pin)
{
  GtkWidget *sign_page = imzala_window_get_page (flow->window, "sign");

  imzala_test_gui_press_keypad (sign_page, pin);
  activate (flow->window, "sign");
  imzala_test_gui_wait (job_settled, flow->window, 60, "the end of signing");
  return imzala_window_get_page_name (flow->window);
}

/* A signed login from start to end; checks the portal recorded it. */
static void
sign_login (Flow       *flow,
            const char *pin)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *code = imzala_test_portal_create_request (flow->portal, "login", &error);
  g_autofree char *state = NULL;

  g_assert_no_error (error);
  enter_code (flow, code, "sign");
  g_assert_cmpstr (sign_with_pin (flow, pin), ==, "result");
  state = imzala_test_portal_get_state (flow->portal, code);
  g_assert_cmpstr (state, ==, "done");
  g_assert_cmpuint (imzala_test_portal_count_signatures (flow->portal, code), ==, 1);
  activate (flow->window, "back");
  g_assert_cmpstr (imzala_window_get_page_name (flow->window), ==, "code");
}

static void
test_sign (Flow          *flow,
           gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *code = NULL;
  g_autofree char *expected = NULL;
  g_autofree char *text = NULL;
  g_autofree char *state = NULL;
  g_autofree char *path = NULL;
  g_autofree char *quoted_path = NULL;
  g_autofree char *quoted_ca = NULL;
  g_autofree char *command = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_auto(GStrv) written = NULL;
  g_autoptr(GPtrArray) lists = NULL;
  GtkListBoxRow *selected;
  int status;

  /* Turkish from the build tree: İleri on the code page. */
  text = imzala_test_gui_page_text (flow->window, "code");
  assert_contains (text, "İleri");
  assert_contains (text, "Doğrulama Kodu");
  g_clear_pointer (&text, g_free);

  code = imzala_test_portal_create_request (flow->portal, "login", &error);
  g_assert_no_error (error);
  enter_code (flow, code, "sign");

  /* The exact text the portal issued, the portal's host, the person. */
  expected = imzala_test_portal_get_text (flow->portal, code, 0);
  g_assert_nonnull (expected);
  text = imzala_test_gui_page_text (flow->window, "sign");
  g_test_message ("Sign page:\n%s", text);
  assert_contains (text, expected);
  assert_contains (text, flow->portal->host);
  assert_contains (text, IMZALA_TEST_PORTAL_NAME);
  assert_contains (text, "İMZALA");
  g_assert_cmpstr (imzala_window_get_portal_host (flow->window), ==, flow->portal->host);

  /* The demo card's one qualified certificate is preselected. */
  lists = imzala_test_gui_find_all (imzala_window_get_page (flow->window, "sign"), GTK_TYPE_LIST_BOX);
  g_assert_cmpuint (lists->len, ==, 1);
  selected = gtk_list_box_get_selected_row (g_ptr_array_index (lists, 0));
  g_assert_nonnull (selected);
  g_assert_cmpstr (adw_preferences_row_get_title (ADW_PREFERENCES_ROW (selected)), ==, IMZALA_TEST_PORTAL_NAME);

  /* No PIN yet: İMZALA is not available. */
  g_assert_false (g_action_group_get_action_enabled (G_ACTION_GROUP (flow->window), "sign"));

  g_assert_cmpstr (sign_with_pin (flow, IMZALA_TEST_PORTAL_PIN), ==, "result");
  g_clear_pointer (&text, g_free);
  text = imzala_test_gui_page_text (flow->window, "result");
  g_test_message ("Result page:\n%s", text);
  assert_contains (text, "İşleminiz Başarılıdır");
  assert_contains (text, "Oluşturma Tarihi");
  assert_contains (text, "İmzalama Tarihi");
  {
    /* Both dates, in the Turkish form the old application used. */
    g_autoptr(GRegex) date = g_regex_new ("[0-9]{2}\\.[0-9]{2}\\.[0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2}", 0, 0, NULL);
    g_autoptr(GMatchInfo) match = NULL;
    guint count = 0;

    g_regex_match (date, text, 0, &match);
    while (g_match_info_matches (match))
      {
        count++;
        g_match_info_next (match, NULL);
      }
    g_assert_cmpuint (count, ==, 2);
  }

  /* The portal has it: request done, one signature stored. */
  state = imzala_test_portal_get_state (flow->portal, code);
  g_assert_cmpstr (state, ==, "done");
  g_assert_cmpuint (imzala_test_portal_count_signatures (flow->portal, code), ==, 1);

  /* İmza İçeriği kaydet, the path chosen here instead of in the dialog.
   * The toast names the file as it is, on one line: a toast's title is
   * markup in libadwaita 1.2, where "&" alone emptied it (with a warning)
   * and "<b>" made it bold; a line feed shows as its escape. */
  g_assert_true (g_action_group_get_action_enabled (G_ACTION_GROUP (flow->window), "save-signature"));
  path = g_build_filename (flow->portal->dir, "R&D <b>\nimza.p7s", NULL);
  written = imzala_window_save_signatures (flow->window, path, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (written[0], ==, path);
  imzala_test_gui_settle ();
  g_clear_pointer (&text, g_free);
  text = imzala_test_gui_collect_text (GTK_WIDGET (flow->window));
  assert_contains (text, "R&D <b>\\x0aimza.p7s");

  quoted_path = g_shell_quote (path);
  quoted_ca = g_shell_quote (flow->portal->ca_file);
  command = g_strdup_printf ("openssl cms -verify -binary -inform DER -in %s -CAfile %s -out /dev/null",
                             quoted_path, quoted_ca);
  g_assert_true (g_spawn_command_line_sync (command, &out, &err, &status, NULL));
  g_test_message ("%s: %s", command, err);
  g_assert_true (g_spawn_check_wait_status (status, NULL));
  assert_contains (err, "Verification successful");
}

/* The page's PIN state label; it gives its place to a wrong PIN's message
 * (which says the tries left) and shows when that is gone. */
static gboolean
sign_page_says_tries_low (gpointer data)
{
  g_autoptr(GPtrArray) labels = imzala_test_gui_find_all (imzala_window_get_page (data, "sign"), GTK_TYPE_LABEL);

  for (guint i = 0; i < labels->len; i++)
    if (g_strcmp0 (gtk_label_get_text (g_ptr_array_index (labels, i)),
                   "Yakın zamanda yanlış PIN girildi; az deneme hakkı kaldı.") == 0)
      return TRUE;
  return FALSE;
}

/* A wrong PIN on a card that counts tries (the fault module over SoftHSM):
 * the sign page says so and how the tries stand, and the right PIN then
 * signs. Driven with the keyboard: Enter on the code page is İleri, Enter in
 * the PIN field is İMZALA (and asks for a PIN when there is none). */
static void
test_wrong_pin (Flow          *flow,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *code = imzala_test_portal_create_request (flow->portal, "login", &error);
  g_autofree char *text = NULL;
  g_autofree char *state = NULL;
  ImzalaCodePage *code_page = IMZALA_CODE_PAGE (imzala_window_get_page (flow->window, "code"));
  GtkWidget *sign_page = imzala_window_get_page (flow->window, "sign");
  g_autoptr(GPtrArray) entries = NULL;
  g_autoptr(GPtrArray) rows = NULL;
  GtkWidget *pin_entry;

  g_assert_no_error (error);

  /* Enter in the code field. */
  imzala_code_page_set_code (code_page, code);
  rows = imzala_test_gui_find_all (GTK_WIDGET (code_page), ADW_TYPE_ENTRY_ROW);
  g_assert_cmpuint (rows->len, ==, 2);
  g_signal_emit_by_name (g_ptr_array_index (rows, 1), "entry-activated");
  g_assert_cmpstr (imzala_test_gui_wait_page (flow->window, "sign", "failure", NULL), ==, "sign");

  entries = imzala_test_gui_find_all (sign_page, IMZALA_TYPE_PIN_ENTRY);
  g_assert_cmpuint (entries->len, ==, 1);
  pin_entry = g_ptr_array_index (entries, 0);

  /* Enter with no PIN says what is missing. */
  g_signal_emit_by_name (pin_entry, "activate");
  text = imzala_test_gui_page_text (flow->window, "sign");
  assert_contains (text, "Önce PIN’inizi yazın.");
  g_clear_pointer (&text, g_free);

  g_assert_cmpstr (sign_with_pin (flow, "111111"), ==, "sign");
  text = imzala_test_gui_page_text (flow->window, "sign");
  g_test_message ("Sign page after a wrong PIN:\n%s", text);
  assert_contains (text, "PIN yanlış");
  assert_contains (text, "deneme hakkı kaldı");
  /* The card's PIN state follows once the job has listed the card again
   * (CKF_USER_PIN_COUNT_LOW after one wrong PIN). */
  imzala_test_gui_wait (sign_page_says_tries_low, flow->window, 60, "the PIN state after a wrong PIN");
  state = imzala_test_portal_get_state (flow->portal, code);
  g_assert_cmpstr (state, ==, "pending");

  /* The right PIN, then Enter. */
  imzala_test_gui_press_keypad (sign_page, IMZALA_TEST_PORTAL_PIN);
  g_signal_emit_by_name (pin_entry, "activate");
  g_assert_cmpstr (imzala_test_gui_wait_page (flow->window, "result", "failure", NULL), ==, "result");
  g_clear_pointer (&state, g_free);
  state = imzala_test_portal_get_state (flow->portal, code);
  g_assert_cmpstr (state, ==, "done");
}

static gboolean
on_failure_page (gpointer data)
{
  return g_strcmp0 (imzala_window_get_page_name (data), "failure") == 0;
}

/* A code that runs out while the sign page is shown (the portal gives 2 s):
 * the job fails by itself, the failure page says the code expired and offers
 * a new one. */
static void
test_expired (Flow          *flow,
              gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *code = imzala_test_portal_create_request (flow->portal, "login", &error);
  ImzalaCodePage *code_page = IMZALA_CODE_PAGE (imzala_window_get_page (flow->window, "code"));
  g_autofree char *text = NULL;
  GtkWidget *new_code;

  g_assert_no_error (error);
  imzala_code_page_set_code (code_page, code);
  activate (flow->window, "next");
  /* Whether the code runs out on the sign page or already before the fetch,
   * the window ends on the failure page. */
  imzala_test_gui_wait (on_failure_page, flow->window, 60, "the expired code");

  text = imzala_test_gui_page_text (flow->window, "failure");
  g_test_message ("Failure page:\n%s", text);
  assert_contains (text, "Doğrulama Kodunun Süresi Doldu");
  new_code = imzala_test_gui_find_button (imzala_window_get_page (flow->window, "failure"),
                                          "Başka Kod Gir");
  g_assert_true (gtk_widget_get_visible (new_code));
  g_signal_emit_by_name (new_code, "clicked");
  g_assert_cmpstr (imzala_window_get_page_name (flow->window), ==, "code");
  g_assert_null (imzala_code_page_get_code (code_page));
}

static void
type_into (GPtrArray  *entries,
           guint       index,
           const char *text)
{
  g_assert_cmpuint (index, <, entries->len);
  g_assert_true (imzala_pin_entry_append (g_ptr_array_index (entries, index), text));
}

static void
assert_no_error_shown (GtkWidget *page)
{
  g_autoptr(GPtrArray) labels = imzala_test_gui_find_all (page, GTK_TYPE_LABEL);

  for (guint i = 0; i < labels->len; i++)
    {
      GtkWidget *label = g_ptr_array_index (labels, i);

      if (gtk_widget_has_css_class (label, "error") && gtk_widget_get_visible (label))
        g_error ("The page shows an error: %s", gtk_label_get_text (GTK_LABEL (label)));
    }
}

/* PIN Değiştir: old PIN, new PIN twice; then a signature with the new PIN. */
static void
test_pin_change (Flow          *flow,
                 gconstpointer  data)
{
  GtkWidget *page = imzala_window_get_page (flow->window, "pin-change");
  g_autoptr(GPtrArray) entries = imzala_test_gui_find_all (page, IMZALA_TYPE_PIN_ENTRY);
  g_autofree char *text = NULL;

  activate (flow->window, "show-pin-change");
  g_assert_cmpstr (imzala_window_get_page_name (flow->window), ==, "pin-change");
  text = imzala_test_gui_page_text (flow->window, "pin-change");
  g_test_message ("PIN change page:\n%s", text);
  assert_contains (text, "PIN Değiştir");

  type_into (entries, 0, IMZALA_TEST_PORTAL_PIN);
  type_into (entries, 1, NEW_PIN);
  type_into (entries, 2, NEW_PIN);
  activate_and_wait_tokens (flow->window, "pin-change.change-pin");
  assert_no_error_shown (page);

  activate (flow->window, "back");
  g_assert_cmpstr (imzala_window_get_page_name (flow->window), ==, "code");
  sign_login (flow, NEW_PIN);
}

static gboolean
cancel_enabled (gpointer data)
{
  return g_action_group_get_action_enabled (G_ACTION_GROUP (data), "cancel");
}

/* Waits until the card is free again: the module is held for the whole of
 * a card operation, so listing the cards returns only after it. */
static void
wait_for_card (Flow *flow)
{
  g_autoptr(GPtrArray) tokens = NULL;
  g_autoptr(GError) error = NULL;

  tokens = imzala_module_set_list_tokens (flow->modules, NULL, &error);
  g_assert_no_error (error);
  imzala_test_gui_settle ();
}

/* A slow card: İMZALA, then Cancel while the card is still signing. The
 * window goes back to the code, nothing reaches the portal (not even when
 * the card finishes afterwards), and the same code can still be signed. */
static void
test_cancel_signing (Flow          *flow,
                     gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *code = imzala_test_portal_create_request (flow->portal, "login", &error);
  g_autofree char *state = NULL;
  GtkWidget *sign_page;

  g_assert_no_error (error);
  enter_code (flow, code, "sign");
  sign_page = imzala_window_get_page (flow->window, "sign");
  imzala_test_gui_press_keypad (sign_page, IMZALA_TEST_PORTAL_PIN);
  activate (flow->window, "sign");
  imzala_test_gui_wait (cancel_enabled, flow->window, 60, "Cancel while the card signs");
  activate (flow->window, "cancel");
  g_assert_cmpstr (imzala_window_get_page_name (flow->window), ==, "code");

  wait_for_card (flow);
  state = imzala_test_portal_get_state (flow->portal, code);
  g_assert_cmpstr (state, ==, "pending");
  g_assert_cmpuint (imzala_test_portal_count_signatures (flow->portal, code), ==, 0);

  enter_code (flow, code, "sign");
  g_assert_cmpstr (sign_with_pin (flow, IMZALA_TEST_PORTAL_PIN), ==, "result");
  g_clear_pointer (&state, g_free);
  state = imzala_test_portal_get_state (flow->portal, code);
  g_assert_cmpstr (state, ==, "done");
}

/* A slow card: Escape while the card is still changing the PIN. Leaving the
 * page does not lose the change (the new PIN works afterwards), and when it
 * finishes the focus is not in the hidden PIN Değiştir page. (Under Xvfb
 * without a window manager GTK did not move the focus there even before the
 * reset checked that its page is on screen, so this is no regression test
 * for that check.) */
static void
test_escape_during_pin_change (Flow          *flow,
                               gconstpointer  data)
{
  GtkWidget *page = imzala_window_get_page (flow->window, "pin-change");
  g_autoptr(GPtrArray) entries = imzala_test_gui_find_all (page, IMZALA_TYPE_PIN_ENTRY);
  GtkWidget *focus;
  gboolean done = FALSE;
  gulong id;

  activate (flow->window, "show-pin-change");
  type_into (entries, 0, IMZALA_TEST_PORTAL_PIN);
  type_into (entries, 1, NEW_PIN);
  type_into (entries, 2, NEW_PIN);
  id = g_signal_connect (flow->window, "tokens-changed", G_CALLBACK (tokens_changed_cb), &done);
  activate (flow->window, "pin-change.change-pin");
  activate (flow->window, "back");
  g_assert_cmpstr (imzala_window_get_page_name (flow->window), ==, "code");

  /* The window lists the cards again once the change is done. */
  imzala_test_gui_wait (tokens_changed, &done, 60, "the PIN change to finish");
  g_signal_handler_disconnect (flow->window, id);
  imzala_test_gui_settle ();

  g_assert_cmpstr (imzala_window_get_page_name (flow->window), ==, "code");
  focus = gtk_root_get_focus (GTK_ROOT (flow->window));
  g_test_message ("focus after the change: %s", focus ? G_OBJECT_TYPE_NAME (focus) : "none");
  g_assert_false (focus != NULL && gtk_widget_is_ancestor (focus, page));

  sign_login (flow, NEW_PIN);
}

/* Kilit Çözme with the PUK; then a signature with the new PIN. */
static void
test_unblock_puk (Flow          *flow,
                  gconstpointer  data)
{
  GtkWidget *page = imzala_window_get_page (flow->window, "unblock");
  g_autoptr(GPtrArray) entries = imzala_test_gui_find_all (page, IMZALA_TYPE_PIN_ENTRY);
  g_autoptr(GPtrArray) toggles = imzala_test_gui_find_all (page, GTK_TYPE_TOGGLE_BUTTON);
  g_autofree char *text = NULL;

  activate (flow->window, "show-unblock");
  g_assert_cmpstr (imzala_window_get_page_name (flow->window), ==, "unblock");
  g_assert_cmpuint (toggles->len, >=, 1);
  gtk_toggle_button_set_active (g_ptr_array_index (toggles, 0), TRUE);
  text = imzala_test_gui_page_text (flow->window, "unblock");
  g_test_message ("Unblock page:\n%s", text);
  assert_contains (text, "PUK");

  type_into (entries, 0, IMZALA_TEST_PORTAL_PUK);
  type_into (entries, 1, NEW_PIN);
  type_into (entries, 2, NEW_PIN);
  activate_and_wait_tokens (flow->window, "unblock.unblock-pin");
  assert_no_error_shown (page);

  activate (flow->window, "back");
  g_assert_cmpstr (imzala_window_get_page_name (flow->window), ==, "code");
  sign_login (flow, NEW_PIN);
}

/* Kilit Çözme with a code from the portal: the portal releases the PUK for
 * the registered card, İmzala sets the new PIN and reports back. */
static void
test_unblock_portal (Flow          *flow,
                     gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *code = imzala_test_portal_create_request (flow->portal, "unblock", &error);
  GtkWidget *page = imzala_window_get_page (flow->window, "unblock");
  g_autoptr(GPtrArray) entries = imzala_test_gui_find_all (page, IMZALA_TYPE_PIN_ENTRY);
  g_autofree char *text = NULL;
  g_autofree char *state = NULL;

  g_assert_no_error (error);
  enter_code (flow, code, "unblock");
  text = imzala_test_gui_page_text (flow->window, "unblock");
  g_test_message ("Unblock page (portal):\n%s", text);
  assert_contains (text, flow->portal->host);

  /* No PUK field on this way: the new PIN twice. */
  g_assert_false (gtk_widget_get_visible (g_ptr_array_index (entries, 0)));
  type_into (entries, 1, NEW_PIN);
  type_into (entries, 2, NEW_PIN);
  activate (flow->window, "unblock.unblock-pin");
  g_assert_cmpstr (imzala_test_gui_wait_page (flow->window, "result", "failure", NULL), ==, "result");
  g_clear_pointer (&text, g_free);
  text = imzala_test_gui_page_text (flow->window, "result");
  g_test_message ("Result page:\n%s", text);
  assert_contains (text, "PIN Blokeniz Kaldırıldı");
  state = imzala_test_portal_get_state (flow->portal, code);
  g_assert_cmpstr (state, ==, "done");

  activate (flow->window, "back");
  sign_login (flow, NEW_PIN);
}

static AdwMessageDialog *
find_message_dialog (void)
{
  GListModel *toplevels = gtk_window_get_toplevels ();

  for (guint i = 0; i < g_list_model_get_n_items (toplevels); i++)
    {
      g_autoptr(GObject) window = g_list_model_get_item (toplevels, i);

      if (ADW_IS_MESSAGE_DIALOG (window) && gtk_widget_get_visible (GTK_WIDGET (window)))
        return ADW_MESSAGE_DIALOG (window);
    }
  return NULL;
}

static gboolean
message_dialog_shown (gpointer data)
{
  return find_message_dialog () != NULL;
}

/* One PUK try left: the unblock page asks before it is used, nothing goes
 * to the portal meanwhile, and only "Use the Last Try" goes on. */
static void
test_unblock_portal_last_try (Flow          *flow,
                              gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *code = imzala_test_portal_create_request (flow->portal, "unblock", &error);
  GtkWidget *page = imzala_window_get_page (flow->window, "unblock");
  g_autoptr(GPtrArray) entries = imzala_test_gui_find_all (page, IMZALA_TYPE_PIN_ENTRY);
  g_autofree char *state = NULL;
  AdwMessageDialog *dialog;

  g_assert_no_error (error);
  enter_code (flow, code, "unblock");
  type_into (entries, 1, NEW_PIN);
  type_into (entries, 2, NEW_PIN);
  activate (flow->window, "unblock.unblock-pin");
  imzala_test_gui_wait (message_dialog_shown, NULL, 30, "the last PUK try dialog");
  dialog = find_message_dialog ();
  g_assert_cmpstr (adw_message_dialog_get_heading (dialog), ==, "Son PUK Hakkı Kullanılsın mı?");
  g_assert_cmpstr (imzala_window_get_page_name (flow->window), ==, "unblock");
  state = imzala_test_portal_get_state (flow->portal, code);
  g_assert_cmpstr (state, ==, "pending");

  adw_message_dialog_response (dialog, "use");
  g_assert_cmpstr (imzala_test_gui_wait_page (flow->window, "result", "failure", NULL), ==, "result");
  g_clear_pointer (&state, g_free);
  state = imzala_test_portal_get_state (flow->portal, code);
  g_assert_cmpstr (state, ==, "done");
}

/* Every keypad button and PIN field can be named by a screen reader, and
 * Tab goes from the PIN field to İMZALA (the keypad is for the mouse). */
static void
test_accessible (Flow          *flow,
                 gconstpointer  data)
{
  const char *pages[] = { "sign", "pin-change", "unblock" };
  g_autoptr(GError) error = NULL;
  g_autofree char *code = NULL;
  g_autoptr(GPtrArray) entries = NULL;
  GtkWidget *sign_button;

  for (guint p = 0; p < G_N_ELEMENTS (pages); p++)
    {
      GtkWidget *page = imzala_window_get_page (flow->window, pages[p]);
      g_autoptr(GPtrArray) keypads = imzala_test_gui_find_all (page, g_type_from_name ("ImzalaPinKeypad"));
      g_autoptr(GPtrArray) pin_entries = imzala_test_gui_find_all (page, IMZALA_TYPE_PIN_ENTRY);
      g_autoptr(GPtrArray) buttons = NULL;

      g_assert_cmpuint (keypads->len, ==, 1);
      buttons = imzala_test_gui_find_all (g_ptr_array_index (keypads, 0), GTK_TYPE_BUTTON);
      g_assert_cmpuint (buttons->len, ==, 12);
      for (guint i = 0; i < buttons->len; i++)
        {
          GtkWidget *button = g_ptr_array_index (buttons, i);

          g_assert_true (gtk_test_accessible_has_property (GTK_ACCESSIBLE (button),
                                                           GTK_ACCESSIBLE_PROPERTY_LABEL));
          g_assert_false (gtk_widget_get_focusable (button));
        }
      g_assert_cmpuint (pin_entries->len, >=, 1);
      for (guint i = 0; i < pin_entries->len; i++)
        g_assert_true (gtk_test_accessible_has_property (GTK_ACCESSIBLE (g_ptr_array_index (pin_entries, i)),
                                                         GTK_ACCESSIBLE_PROPERTY_LABEL));
    }

  code = imzala_test_portal_create_request (flow->portal, "login", &error);
  g_assert_no_error (error);
  enter_code (flow, code, "sign");
  entries = imzala_test_gui_find_all (imzala_window_get_page (flow->window, "sign"), IMZALA_TYPE_PIN_ENTRY);
  gtk_widget_grab_focus (g_ptr_array_index (entries, 0));
  g_assert_true (gtk_root_get_focus (GTK_ROOT (flow->window)) == g_ptr_array_index (entries, 0) ||
                 gtk_widget_is_ancestor (gtk_root_get_focus (GTK_ROOT (flow->window)),
                                         g_ptr_array_index (entries, 0)));
  imzala_test_gui_press_keypad (imzala_window_get_page (flow->window, "sign"), "1");
  sign_button = imzala_test_gui_find_button (imzala_window_get_page (flow->window, "sign"), "İMZALA");
  g_assert_true (gtk_widget_child_focus (GTK_WIDGET (flow->window), GTK_DIR_TAB_FORWARD));
  g_assert_true (gtk_root_get_focus (GTK_ROOT (flow->window)) == sign_button);
}

/* An EC card that returns DER ECDSA and shares no CKA_ID between its
 * certificate and key (the fault module over a P-256 demo card): the window
 * signs, and the portal accepts the signature. */
static void
flow_setup_der_ecdsa (Flow          *flow,
                      gconstpointer  data)
{
  g_setenv ("IMZALA_TEST_PORTAL_KEY", "p256", TRUE);
  g_setenv ("IMZALA_FAULTS", "der-ecdsa,no-shared-id", TRUE);
  flow_setup (flow, data);
}

static void
flow_teardown_der_ecdsa (Flow          *flow,
                         gconstpointer  data)
{
  flow_teardown (flow, data);
  g_unsetenv ("IMZALA_TEST_PORTAL_KEY");
}

static void
test_der_ecdsa_no_shared_id (Flow          *flow,
                             gconstpointer  data)
{
  sign_login (flow, IMZALA_TEST_PORTAL_PIN);
}

/* Issue 8: the card pulled out while it signs (removed-on-sign: C_Sign
 * answers CKR_DEVICE_REMOVED). The window says the card was taken out, in
 * Turkish, not a generic error, and the portal got nothing. */
static void
flow_setup_removed_on_sign (Flow          *flow,
                            gconstpointer  data)
{
  g_setenv ("IMZALA_FAULTS", "removed-on-sign", TRUE);
  flow_setup (flow, data);
}

static void
test_card_removed (Flow          *flow,
                   gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *code = imzala_test_portal_create_request (flow->portal, "login", &error);
  g_autofree char *text = NULL;
  g_autofree char *state = NULL;

  g_assert_no_error (error);
  enter_code (flow, code, "sign");
  g_assert_cmpstr (sign_with_pin (flow, IMZALA_TEST_PORTAL_PIN), ==, "failure");

  text = imzala_test_gui_page_text (flow->window, "failure");
  g_test_message ("Failure page after the card was pulled out:\n%s", text);
  assert_contains (text, "Kart Çıkarıldı");
  assert_contains (text, "Kart çıkarıldı");
  state = imzala_test_portal_get_state (flow->portal, code);
  g_assert_cmpstr (state, ==, "pending");
  g_assert_cmpuint (imzala_test_portal_count_signatures (flow->portal, code), ==, 0);
}

/* ---- Through a thread-affine module ---- */

/* The window over the fault module with thread-affine: every call of the
 * window's listings, the job's signing and the refreshes after it comes
 * from the module's own thread. */
static void
flow_setup_thread_affine (Flow          *flow,
                          gconstpointer  data)
{
  g_autofree char *count_file = NULL;

  g_setenv ("IMZALA_FAULTS", "thread-affine,count-calls", TRUE);
  flow_setup (flow, data);
  count_file = g_build_filename (flow->portal->dir, "counts.txt", NULL);
  g_setenv ("IMZALA_FAULT_COUNT_FILE", count_file, TRUE);
}

static void
flow_teardown_thread_affine (Flow          *flow,
                             gconstpointer  data)
{
  g_autofree char *count_file = g_build_filename (flow->portal->dir, "counts.txt", NULL);
  g_autoptr(GHashTable) counts = NULL;

  /* C_Finalize writes the counts, after the work the window queued. */
  imzala_module_set_close (flow->modules);
  counts = imzala_test_read_fault_counts (count_file);
  g_assert_cmpuint (imzala_test_fault_count (counts, "C_Finalize"), ==, 1);
  g_assert_cmpuint (imzala_test_fault_count (counts, "C_Sign"), ==, 1);
  imzala_test_assert_no_thread_violations (counts);
  g_unsetenv ("IMZALA_FAULT_COUNT_FILE");
  flow_teardown (flow, data);
}

/* ---- Certificates behind a login (issue 8) ---- */

/* The demo card over the fault module with certs-after-login: it shows no
 * certificate before the PIN. */
static void
flow_setup_certs_after_login (Flow          *flow,
                              gconstpointer  data)
{
  g_autofree char *count_file = NULL;

  g_setenv ("IMZALA_FAULTS", "certs-after-login,count-calls", TRUE);
  flow_setup (flow, data);
  count_file = g_build_filename (flow->portal->dir, "counts.txt", NULL);
  g_setenv ("IMZALA_FAULT_COUNT_FILE", count_file, TRUE);
}

static gboolean
certificate_selected (gpointer data)
{
  ImzalaWindow *window = data;
  g_autoptr(GPtrArray) lists = imzala_test_gui_find_all (imzala_window_get_page (window, "sign"),
                                                         GTK_TYPE_LIST_BOX);

  return g_str_equal (imzala_window_get_page_name (window), "sign") &&
         lists->len == 1 && gtk_list_box_get_selected_row (g_ptr_array_index (lists, 0)) != NULL &&
         g_action_group_get_action_enabled (G_ACTION_GROUP (window), "sign");
}

static gboolean
job_done (gpointer data)
{
  return !g_str_equal (imzala_window_get_page_name (data), "sign");
}

/* The sign page says the certificates come after the PIN and asks for it;
 * after it the certificate is listed and preselected, and İMZALA signs
 * with no second PIN entry. The portal accepts the signature; the card saw
 * one C_Login. */
static void
test_certs_after_login (Flow          *flow,
                        gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *code = imzala_test_portal_create_request (flow->portal, "login", &error);
  g_autofree char *count_file = g_build_filename (flow->portal->dir, "counts.txt", NULL);
  g_autoptr(GHashTable) counts = NULL;
  g_autofree char *text = NULL;
  g_autofree char *state = NULL;
  GtkWidget *sign_page = imzala_window_get_page (flow->window, "sign");

  g_assert_no_error (error);
  enter_code (flow, code, "sign");
  text = imzala_test_gui_page_text (flow->window, "sign");
  g_test_message ("Sign page before the PIN:\n%s", text);
  assert_contains (text, "Sertifikalar PIN girildikten sonra görünür.");
  /* No PIN yet: nothing to do. */
  g_assert_false (g_action_group_get_action_enabled (G_ACTION_GROUP (flow->window), "sign"));

  imzala_test_gui_press_keypad (sign_page, IMZALA_TEST_PORTAL_PIN);
  activate (flow->window, "sign");
  imzala_test_gui_wait (certificate_selected, flow->window, 60, "the certificates after the PIN");
  g_clear_pointer (&text, g_free);
  text = imzala_test_gui_page_text (flow->window, "sign");
  g_test_message ("Sign page after the PIN:\n%s", text);
  assert_contains (text, IMZALA_TEST_PORTAL_NAME);

  /* İMZALA, without typing the PIN again. */
  activate (flow->window, "sign");
  imzala_test_gui_wait (job_done, flow->window, 60, "the end of signing");
  g_assert_cmpstr (imzala_window_get_page_name (flow->window), ==, "result");
  state = imzala_test_portal_get_state (flow->portal, code);
  g_assert_cmpstr (state, ==, "done");
  g_assert_cmpuint (imzala_test_portal_count_signatures (flow->portal, code), ==, 1);

  /* C_Finalize writes the counts, after the logout the job queued. */
  imzala_module_set_close (flow->modules);
  counts = imzala_test_read_fault_counts (count_file);
  g_assert_cmpuint (imzala_test_fault_count (counts, "login-user"), ==, 1);
  g_assert_cmpuint (imzala_test_fault_count (counts, "C_Logout"), ==, 1);
  g_assert_cmpuint (imzala_test_fault_count (counts, "C_Sign"), ==, 1);
  g_unsetenv ("IMZALA_FAULT_COUNT_FILE");
}

/* ---- A pin-pad reader (issue 8, PIN care) ---- */

static void
flow_setup_pin_pad (Flow          *flow,
                    gconstpointer  data)
{
  const char *faults = data;

  g_setenv ("IMZALA_FAULTS", faults, TRUE);
  g_setenv ("IMZALA_FAULT_DELAY_MS", "60000", TRUE);
  g_setenv ("IMZALA_FAULT_PIN", IMZALA_TEST_PORTAL_PIN, TRUE);
  g_setenv ("IMZALA_FAULT_NEW_PIN", NEW_PIN, TRUE);
  flow_setup (flow, GUINT_TO_POINTER (0));
}

static void
flow_teardown_pin_pad (Flow          *flow,
                       gconstpointer  data)
{
  flow_teardown (flow, data);
  g_unsetenv ("IMZALA_FAULT_DELAY_MS");
  g_unsetenv ("IMZALA_FAULT_PIN");
  g_unsetenv ("IMZALA_FAULT_NEW_PIN");
  g_unsetenv ("IMZALA_FAULT_PIN_PAD_LOG");
}

static gboolean
sign_page_asks_reader (gpointer data)
{
  g_autofree char *text = imzala_test_gui_page_text (data, "sign");

  return strstr (text, "PIN’i okuyucuda girin.") != NULL;
}

/* İMZALA on a pin pad, then İptal while the reader waits for the PIN: the
 * sign page says what the reader waits for, the wait is cut short (the
 * fault module records "cut"), and the same code then signs at once. */
static void
test_pin_pad_cancel (Flow          *flow,
                     gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *code = imzala_test_portal_create_request (flow->portal, "login", &error);
  g_autofree char *log = g_build_filename (flow->portal->dir, "pin-pad.log", NULL);
  g_autofree char *recorded = NULL;
  g_autofree char *state = NULL;

  g_assert_no_error (error);
  g_setenv ("IMZALA_FAULT_PIN_PAD_LOG", log, TRUE);
  enter_code (flow, code, "sign");
  activate (flow->window, "sign");
  imzala_test_gui_wait (sign_page_asks_reader, flow->window, 60, "the reader's PIN prompt");
  activate (flow->window, "cancel");
  g_assert_cmpstr (imzala_window_get_page_name (flow->window), ==, "code");

  /* The module is free again: listing the cards does not wait for the
   * reader to give up. */
  wait_for_card (flow);
  g_assert_true (g_file_get_contents (log, &recorded, NULL, NULL));
  g_assert_cmpstr (recorded, ==, "cut\n");
  state = imzala_test_portal_get_state (flow->portal, code);
  g_assert_cmpstr (state, ==, "pending");

  enter_code (flow, code, "sign");
  activate (flow->window, "sign");
  imzala_test_gui_wait (job_settled, flow->window, 60, "the end of signing");
  g_assert_cmpstr (imzala_window_get_page_name (flow->window), ==, "result");
  g_clear_pointer (&state, g_free);
  state = imzala_test_portal_get_state (flow->portal, code);
  g_assert_cmpstr (state, ==, "done");
}

/* PIN Değiştir on a pin pad: the page says to use the reader's keypad
 * instead of asking for PINs, the change is made on the reader, and the
 * new PIN (typed on the reader) then signs. */
static void
test_pin_pad_change (Flow          *flow,
                     gconstpointer  data)
{
  GtkWidget *page = imzala_window_get_page (flow->window, "pin-change");
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;
  g_autofree char *code = NULL;

  activate (flow->window, "show-pin-change");
  g_assert_cmpstr (imzala_window_get_page_name (flow->window), ==, "pin-change");
  text = imzala_test_gui_page_text (flow->window, "pin-change");
  g_test_message ("PIN change page:\n%s", text);
  assert_contains (text, "Bu kart okuyucunun kendi tuş takımı var.");

  activate_and_wait_tokens (flow->window, "pin-change.change-pin");
  assert_no_error_shown (page);
  activate (flow->window, "back");

  g_setenv ("IMZALA_FAULT_PIN", NEW_PIN, TRUE);
  code = imzala_test_portal_create_request (flow->portal, "login", &error);
  g_assert_no_error (error);
  enter_code (flow, code, "sign");
  activate (flow->window, "sign");
  imzala_test_gui_wait (job_settled, flow->window, 60, "the end of signing");
  g_assert_cmpstr (imzala_window_get_page_name (flow->window), ==, "result");
}

static void
label_changed_cb (GtkLabel   *label,
                  GParamSpec *pspec,
                  GPtrArray  *shown)
{
  const char *text = gtk_label_get_text (label);

  if (strstr (text, "okuyucu") != NULL
      && (shown->len == 0 || g_strcmp0 (g_ptr_array_index (shown, shown->len - 1), text) != 0))
    g_ptr_array_add (shown, g_strdup (text));
}

/* A qualified key that wants the PIN for every signature, on a pin pad: the
 * sign page says first to type the PIN on the reader, then to type it again
 * for the signature. */
static void
test_pin_pad_two_entries (Flow          *flow,
                          gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *code = imzala_test_portal_create_request (flow->portal, "login", &error);
  g_autoptr(GPtrArray) shown = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) labels = NULL;
  GtkWidget *sign_page;

  g_assert_no_error (error);
  enter_code (flow, code, "sign");
  sign_page = imzala_window_get_page (flow->window, "sign");
  labels = imzala_test_gui_find_all (sign_page, GTK_TYPE_LABEL);
  for (guint i = 0; i < labels->len; i++)
    g_signal_connect (g_ptr_array_index (labels, i), "notify::label", G_CALLBACK (label_changed_cb), shown);

  activate (flow->window, "sign");
  imzala_test_gui_wait (job_settled, flow->window, 60, "the end of signing");
  g_assert_cmpstr (imzala_window_get_page_name (flow->window), ==, "result");
  for (guint i = 0; i < labels->len; i++)
    g_signal_handlers_disconnect_by_func (g_ptr_array_index (labels, i), label_changed_cb, shown);

  for (guint i = 0; i < shown->len; i++)
    g_test_message ("shown: %s", (char *) g_ptr_array_index (shown, i));
  g_assert_cmpuint (shown->len, >=, 2);
  g_assert_cmpstr (g_ptr_array_index (shown, shown->len - 2), ==, "PIN’i okuyucuda girin.");
  g_assert_cmpstr (g_ptr_array_index (shown, shown->len - 1), ==, "İmza için PIN’i okuyucuda bir kez daha girin.");
}

/* ---- A slow card listing (issue 8, item 5) ---- */

/* Every C_GetSlotList of the fault module takes a while, like OpenSC over a
 * card it does not know. */
static void
flow_setup_slow_slot_list (Flow          *flow,
                           gconstpointer  data)
{
  g_setenv ("IMZALA_FAULTS", "slow-slot-list", TRUE);
  g_setenv ("IMZALA_FAULT_DELAY_MS", "700", TRUE);
  flow_setup (flow, data);
}

static void
flow_teardown_slow_slot_list (Flow          *flow,
                              gconstpointer  data)
{
  flow_teardown (flow, data);
  g_unsetenv ("IMZALA_FAULT_DELAY_MS");
}

/* The request is on screen while the card is still being listed: the text,
 * the remaining time and "Kart okunuyor…" where the certificates go, and
 * İMZALA unavailable; then the demo card's certificate arrives preselected
 * and signs. Only the order of what is seen is checked, not times. */
static void
test_slow_slot_list (Flow          *flow,
                     gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *code = imzala_test_portal_create_request (flow->portal, "login", &error);
  g_autofree char *expected = NULL;
  g_autofree char *text = NULL;
  g_autofree char *state = NULL;
  GtkWidget *sign_page = imzala_window_get_page (flow->window, "sign");
  g_autoptr(GPtrArray) lists = NULL;
  GtkListBoxRow *selected;

  g_assert_no_error (error);
  enter_code_only (flow, code, "sign");
  text = imzala_test_gui_page_text (flow->window, "sign");
  g_test_message ("Sign page while the card is read:\n%s", text);
  expected = imzala_test_portal_get_text (flow->portal, code, 0);
  assert_contains (text, expected);
  assert_contains (text, flow->portal->host);
  assert_contains (text, "Kalan süre:");
  assert_contains (text, "Kart okunuyor…");
  /* A PIN typed meanwhile does not make İMZALA usable without a
   * certificate. */
  imzala_test_gui_press_keypad (sign_page, IMZALA_TEST_PORTAL_PIN);
  g_assert_false (g_action_group_get_action_enabled (G_ACTION_GROUP (flow->window), "sign"));

  /* The listing arrives: the demo card's one qualified certificate,
   * preselected, and İMZALA with the PIN already typed. */
  imzala_test_gui_wait (certificate_selected, flow->window, 60, "the certificates after the listing");
  g_clear_pointer (&text, g_free);
  text = imzala_test_gui_page_text (flow->window, "sign");
  g_test_message ("Sign page after the listing:\n%s", text);
  g_assert_null (strstr (text, "Kart okunuyor"));
  assert_contains (text, expected);
  lists = imzala_test_gui_find_all (sign_page, GTK_TYPE_LIST_BOX);
  selected = gtk_list_box_get_selected_row (g_ptr_array_index (lists, 0));
  g_assert_cmpstr (adw_preferences_row_get_title (ADW_PREFERENCES_ROW (selected)), ==, IMZALA_TEST_PORTAL_NAME);

  activate (flow->window, "sign");
  imzala_test_gui_wait (job_done, flow->window, 60, "the end of signing");
  g_assert_cmpstr (imzala_window_get_page_name (flow->window), ==, "result");
  state = imzala_test_portal_get_state (flow->portal, code);
  g_assert_cmpstr (state, ==, "done");
  g_assert_cmpuint (imzala_test_portal_count_signatures (flow->portal, code), ==, 1);
}

/* ---- A lost card (issue 10) ---- */

/* The demo card over the fault module, counting the calls. */
static void
flow_setup_lost_card (Flow          *flow,
                      gconstpointer  data)
{
  g_autofree char *count_file = NULL;

  g_setenv ("IMZALA_FAULTS", "count-calls", TRUE);
  flow_setup (flow, data);
  count_file = g_build_filename (flow->portal->dir, "counts.txt", NULL);
  g_setenv ("IMZALA_FAULT_COUNT_FILE", count_file, TRUE);
}

/* The card was reported lost after the request was made: `imzala-portal
 * revoke --tckn`. The window asks the portal's own OCSP responder (named
 * in the card's AIA, over https under the portal's CA, which the window's
 * CA setting trusts) before the PIN, and ends on the failure page saying
 * why; the card never sees a login or a signature and the portal records
 * nothing signed. */
static void
test_lost_card (Flow          *flow,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *code = imzala_test_portal_create_request (flow->portal, "login", &error);
  g_autofree char *state_dir = g_build_filename (flow->portal->dir, "portal", NULL);
  g_autofree char *err = NULL;
  g_autofree char *text = NULL;
  g_autofree char *count_file = g_build_filename (flow->portal->dir, "counts.txt", NULL);
  g_autoptr(GHashTable) counts = NULL;
  const char *revoke[] = {
    g_getenv ("IMZALA_PORTAL"), "--state", state_dir, "revoke", "--tckn", IMZALA_TEST_PORTAL_TCKN, NULL
  };
  ImzalaCodePage *code_page = IMZALA_CODE_PAGE (imzala_window_get_page (flow->window, "code"));
  int wait_status = 0;

  g_assert_no_error (error);
  g_assert_true (g_spawn_sync (NULL, (char **) revoke, NULL, G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL,
                               NULL, &err, &wait_status, &error));
  g_assert_no_error (error);
  if (!g_spawn_check_wait_status (wait_status, NULL))
    g_error ("imzala-portal revoke failed: %s", err);

  imzala_code_page_set_code (code_page, code);
  activate (flow->window, "next");
  imzala_test_gui_wait (on_failure_page, flow->window, 60, "the failure page of a lost card");
  text = imzala_test_gui_page_text (flow->window, "failure");
  g_test_message ("Failure page for a lost card:\n%s", text);
  assert_contains (text, "Sertifikanız iptal edilmiş");
  g_assert_cmpuint (imzala_test_portal_count_signatures (flow->portal, code), ==, 0);

  imzala_module_set_close (flow->modules);
  counts = imzala_test_read_fault_counts (count_file);
  g_assert_cmpuint (imzala_test_fault_count (counts, "C_Finalize"), ==, 1);
  g_assert_cmpuint (imzala_test_fault_count (counts, "C_Login"), ==, 0);
  g_assert_cmpuint (imzala_test_fault_count (counts, "C_Sign"), ==, 0);
  g_unsetenv ("IMZALA_FAULT_COUNT_FILE");
}

int
main (int   argc,
      char *argv[])
{
  /* Turkish, from the .mo file in the build tree. */
  imzala_test_gui_init (&argc, &argv);

#define ADD(path, lifetime, func) \
  g_test_add (path, Flow, GUINT_TO_POINTER (lifetime), flow_setup, func, flow_teardown)
  ADD ("/gui/flow/sign", 0, test_sign);
  ADD ("/gui/flow/expired", 2, test_expired);
  ADD ("/gui/flow/pin-change", 0, test_pin_change);
  ADD ("/gui/flow/unblock-puk", 0, test_unblock_puk);
  ADD ("/gui/flow/accessible", 0, test_accessible);
#undef ADD
  /* The fault module counts wrong PINs as a real card does. */
  g_test_add ("/gui/flow/wrong-pin", Flow, NULL, flow_setup_pin_counter, test_wrong_pin, flow_teardown);
  g_test_add ("/gui/flow/cancel-signing", Flow, NULL, flow_setup_slow_card, test_cancel_signing,
              flow_teardown);
  g_test_add ("/gui/flow/escape-during-pin-change", Flow, NULL, flow_setup_slow_card,
              test_escape_during_pin_change, flow_teardown);
  g_test_add ("/gui/flow/der-ecdsa-no-shared-id", Flow, NULL, flow_setup_der_ecdsa,
              test_der_ecdsa_no_shared_id, flow_teardown_der_ecdsa);

  g_test_add ("/gui/flow/card-removed", Flow, NULL, flow_setup_removed_on_sign, test_card_removed,
              flow_teardown);
  g_test_add ("/gui/flow/sign-thread-affine", Flow, GUINT_TO_POINTER (0), flow_setup_thread_affine,
              test_sign, flow_teardown_thread_affine);
  g_test_add ("/gui/flow/certs-after-login", Flow, NULL, flow_setup_certs_after_login,
              test_certs_after_login, flow_teardown);

  g_test_add ("/gui/flow/unblock-portal", Flow, NULL, flow_setup_pin_locked, test_unblock_portal,
              flow_teardown);
  g_test_add ("/gui/flow/unblock-portal-last-try", Flow, "pin-locked,puk-final-try",
              flow_setup_pin_locked, test_unblock_portal_last_try, flow_teardown);
  g_test_add ("/gui/flow/pin-pad-cancel", Flow, "pin-pad-wait", flow_setup_pin_pad, test_pin_pad_cancel,
              flow_teardown_pin_pad);
  g_test_add ("/gui/flow/pin-pad-change", Flow, "pin-pad", flow_setup_pin_pad, test_pin_pad_change,
              flow_teardown_pin_pad);
  g_test_add ("/gui/flow/pin-pad-two-entries", Flow, "pin-pad,always-authenticate", flow_setup_pin_pad,
              test_pin_pad_two_entries, flow_teardown_pin_pad);
  g_test_add ("/gui/flow/slow-slot-list", Flow, NULL, flow_setup_slow_slot_list, test_slow_slot_list,
              flow_teardown_slow_slot_list);
  g_test_add ("/gui/flow/lost-card", Flow, NULL, flow_setup_lost_card, test_lost_card, flow_teardown);
  return g_test_run ();
}
