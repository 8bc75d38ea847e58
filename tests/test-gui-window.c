#define G_LOG_DOMAIN "imzala-test"

#include "config.h"

#include <adwaita.h>
#include <string.h>
#include <glib/gstdio.h>

#include "imzala-application.h"
#include "imzala-code-page.h"
#include "imzala-error.h"
#include "imzala-failure-page.h"
#include "imzala-pin-change-page.h"
#include "imzala-pin-entry.h"
#include "imzala-sign-page.h"
#include "imzala-test-pki.h"
#include "imzala-test.h"
#include "imzala-unblock-page.h"
#include "imzala-window.h"

typedef void (*Visit) (GtkWidget *widget, GString *out);

/* Calls @visit on @widget and every widget below it. */
static void
walk (GtkWidget *widget,
      Visit      visit,
      GString   *out)
{
  visit (widget, out);
  for (GtkWidget *child = gtk_widget_get_first_child (widget);
       child != NULL;
       child = gtk_widget_get_next_sibling (child))
    walk (child, visit, out);
}

/* The text the user can read in @widget: a label (row titles and
 * subtitles are labels too) or a text view, one per line. */
static void
visit_text (GtkWidget *widget,
            GString   *out)
{
  if (GTK_IS_LABEL (widget))
    g_string_append_printf (out, "%s\n", gtk_label_get_text (GTK_LABEL (widget)));
  if (GTK_IS_TEXT_VIEW (widget))
    {
      GtkTextBuffer *buffer = gtk_text_view_get_buffer (GTK_TEXT_VIEW (widget));
      GtkTextIter start, end;
      g_autofree char *text = NULL;

      gtk_text_buffer_get_bounds (buffer, &start, &end);
      text = gtk_text_buffer_get_text (buffer, &start, &end, FALSE);
      g_string_append_printf (out, "%s\n", text);
    }
}

/* Every text the user can read in @widget and below, one per line. */
static void
collect_texts (GtkWidget *widget,
               GString   *out)
{
  walk (widget, visit_text, out);
}

static char *
page_text (ImzalaWindow *window,
           const char   *name)
{
  GString *out = g_string_new (NULL);

  collect_texts (imzala_window_get_page (window, name), out);
  return g_string_free (out, FALSE);
}

/* The Cards page makes an expander's rows when it is first opened
 * (issue 12): open them all to read every detail. */
static void
expand_all (GtkWidget *widget)
{
  if (ADW_IS_EXPANDER_ROW (widget))
    adw_expander_row_set_expanded (ADW_EXPANDER_ROW (widget), TRUE);
  for (GtkWidget *child = gtk_widget_get_first_child (widget);
       child != NULL;
       child = gtk_widget_get_next_sibling (child))
    expand_all (child);
}

static gboolean
action_enabled (ImzalaWindow *window,
                const char   *name)
{
  return g_action_group_get_action_enabled (G_ACTION_GROUP (window), name);
}

static void
activate (ImzalaWindow *window,
          const char   *name)
{
  g_assert_true (action_enabled (window, name));
  g_action_group_activate_action (G_ACTION_GROUP (window), name, NULL);
}

static ImzalaWindow *
new_window (GSettings *settings)
{
  g_autoptr(ImzalaSettings) policy = imzala_settings_new (settings);
  ImzalaWindow *window = imzala_window_new (NULL, policy);

  gtk_window_present (GTK_WINDOW (window));
  while (!gtk_widget_get_mapped (GTK_WIDGET (window)))
    g_main_context_iteration (NULL, TRUE);
  return window;
}

static GSettings *
new_settings (void)
{
  GSettings *settings = g_settings_new (IMZALA_SETTINGS_SCHEMA);
  const char *allowed[] = { "https://localhost:8443", NULL };

  g_settings_set_strv (settings, "allowed-portals", allowed);
  return settings;
}

static void
test_window_code_page (void)
{
  g_autoptr(GSettings) settings = new_settings ();
  ImzalaWindow *window = new_window (settings);
  ImzalaCodePage *page = IMZALA_CODE_PAGE (imzala_window_get_page (window, "code"));
  g_autofree char *text = NULL;

  g_assert_cmpstr (imzala_window_get_page_name (window), ==, "code");
  /* The first allowed portal is preselected and named in the header. */
  g_assert_cmpstr (imzala_window_get_portal_host (window), ==, "localhost:8443");

  /* Empty: no code, no complaint, İleri disabled. */
  g_assert_false (imzala_code_page_get_valid (page));
  g_assert_false (action_enabled (window, "next"));

  /* Too short so far: not valid, but not an error while typing. */
  imzala_code_page_set_code (page, "ABCD-EFG");
  g_assert_false (imzala_code_page_get_valid (page));
  g_assert_false (action_enabled (window, "next"));
  text = page_text (window, "code");
  g_assert_null (strstr (text, "ABCD"));
  g_clear_pointer (&text, g_free);

  /* A character that is never part of a code ("U" is not Crockford
   * base32): rejected at once, with a sentence for the user. */
  imzala_code_page_set_code (page, "ABCD-EFGH-JKMU");
  g_assert_false (imzala_code_page_get_valid (page));
  g_assert_false (action_enabled (window, "next"));

  /* Too long. */
  imzala_code_page_set_code (page, "ABCD-EFGH-JKMN-P");
  g_assert_false (imzala_code_page_get_valid (page));
  g_assert_false (action_enabled (window, "next"));

  /* Well-formed: lower case, spaces and the portal's label are fine. */
  imzala_code_page_set_code (page, "Doğrulama Kodu: abcd efgh jkmn");
  g_assert_true (imzala_code_page_get_valid (page));
  g_assert_cmpstr (imzala_code_page_get_code (page), ==, "ABCDEFGHJKMN");
  g_assert_true (action_enabled (window, "next"));

  imzala_code_page_set_code (page, "0123-4567-89AB");
  g_assert_true (imzala_code_page_get_valid (page));
  g_assert_true (action_enabled (window, "next"));

  gtk_window_destroy (GTK_WINDOW (window));
}

/* A portal outside the allow-list is named, and nothing is fetched before
 * the user agrees; Escape (win.back) goes back to the code page. */
static void
test_window_unknown_portal (void)
{
  g_autoptr(GSettings) settings = new_settings ();
  ImzalaWindow *window = new_window (settings);
  g_autofree char *text = NULL;

  imzala_window_open_request (window, "https://portal.example.org:9443/path", "ABCD-EFGH-JKMN");
  g_assert_cmpstr (imzala_window_get_page_name (window), ==, "portal-confirm");
  g_assert_cmpstr (imzala_window_get_portal_host (window), ==, "portal.example.org:9443");
  text = page_text (window, "portal-confirm");
  g_assert_nonnull (strstr (text, "https://portal.example.org:9443"));

  activate (window, "back");
  g_assert_cmpstr (imzala_window_get_page_name (window), ==, "code");

  /* Plain http is refused before anything else. */
  imzala_window_open_request (window, "http://localhost:8443", "ABCD-EFGH-JKMN");
  g_assert_cmpstr (imzala_window_get_page_name (window), ==, "code");
  g_clear_pointer (&text, g_free);
  text = page_text (window, "code");
  g_assert_nonnull (strstr (text, "https://"));

  gtk_window_destroy (GTK_WINDOW (window));
}

static void
tokens_changed_cb (ImzalaWindow *window,
                   gboolean     *done)
{
  *done = TRUE;
}

/* Gives @window a new token list of @module_set and iterates the main
 * loop until the window says its cards changed. @done stays connected to
 * "tokens-changed" (set again by later listings); the caller disconnects
 * it before its frame ends. */
static ImzalaTokenList *
list_cards (ImzalaWindow    *window,
            ImzalaModuleSet *module_set,
            gboolean        *done)
{
  ImzalaTokenList *token_list = imzala_token_list_new (module_set);

  *done = FALSE;
  g_signal_connect (window, "tokens-changed", G_CALLBACK (tokens_changed_cb), done);
  imzala_window_set_token_list (window, token_list, NULL);
  while (!*done)
    g_main_context_iteration (NULL, TRUE);
  return token_list;
}

static void
test_window_tokens_page (void)
{
  g_autoptr(ImzalaTestFixture) fixture = imzala_test_fixture_new ();
  g_autoptr(GSettings) settings = new_settings ();
  g_autoptr(ImzalaModuleSet) module_set = NULL;
  g_autoptr(ImzalaTokenList) token_list = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;
  g_autofree char *fingerprint = NULL;
  ImzalaWindow *window;
  gboolean done = FALSE;

  /* A card whose label has a line feed and markup's characters: its title
   * is one line, the line feed shown as an escape, the rest as it is (the
   * group's title is markup: "&" alone emptied it, "<b>" made it bold). */
  imzala_test_fixture_add_empty_token (fixture, "KART <b>&\nSAHTE");
  module_set = imzala_test_fixture_load (fixture, &error);
  g_assert_no_error (error);

  window = new_window (settings);
  token_list = list_cards (window, module_set, &done);

  activate (window, "show-tokens");
  g_assert_cmpstr (imzala_window_get_page_name (window), ==, "tokens");

  /* A closed certificate row holds no details yet; opened, it has them. */
  text = page_text (window, "tokens");
  g_assert_null (strstr (text, "12345678950"));
  g_clear_pointer (&text, g_free);
  expand_all (imzala_window_get_page (window, "tokens"));
  text = page_text (window, "tokens");
  g_test_message ("Cards page:\n%s", text);
  g_assert_nonnull (strstr (text, "IMZALA TEST 1"));
  g_assert_nonnull (strstr (text, "IMZALA TEST 2"));
  g_assert_nonnull (strstr (text, "IMZALA TEST BOS"));
  g_assert_nonnull (strstr (text, "KART <b>&\\x0aSAHTE"));
  g_assert_null (strstr (text, "\nSAHTE"));
  g_assert_nonnull (strstr (text, "AYŞE YILMAZ"));
  g_assert_nonnull (strstr (text, "MEHMET DEMİR"));
  g_assert_nonnull (strstr (text, "12345678950"));
  g_assert_nonnull (strstr (text, "No certificates on this card"));
  g_assert_nonnull (strstr (text, "libsofthsm2.so"));
  fingerprint = imzala_test_fixture_cert_get (fixture, "ayse-p384", "fingerprint");
  g_assert_nonnull (strstr (text, fingerprint));
  /* The expired certificate is shown and explained, not hidden. */
  g_assert_nonnull (strstr (text, "2021"));

  /* Refresh lists again; Escape goes back to where the user came from. */
  done = FALSE;
  activate (window, "refresh-tokens");
  while (!done)
    g_main_context_iteration (NULL, TRUE);
  activate (window, "back");
  g_assert_cmpstr (imzala_window_get_page_name (window), ==, "code");

  /* A card listing still under way keeps the window alive after destroy and
   * emits tokens-changed later: it must not write into this finished frame
   * (it did, into the next test's stack, as a flaky crash). */
  g_signal_handlers_disconnect_by_data (window, &done);
  gtk_window_destroy (GTK_WINDOW (window));
}

/* How many times @needle is in @text. */
static guint
count_matches (const char *text, const char *needle)
{
  guint n = 0;

  for (const char *at = strstr (text, needle); at != NULL; at = strstr (at + 1, needle))
    n++;
  return n;
}

/* A long listing (issue 12): the frame that paints it makes the first
 * card only, the others come one per frame after it, and then every card
 * is there, once, in the listing's order. */
static void
test_window_tokens_page_many (void)
{
  g_autoptr(ImzalaTestFixture) fixture = imzala_test_fixture_new ();
  g_autoptr(GSettings) settings = new_settings ();
  g_autoptr(ImzalaModuleSet) module_set = NULL;
  g_autoptr(ImzalaTokenList) token_list = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;
  ImzalaWindow *window;
  gboolean done = FALSE;
  guint shown;

  for (guint i = 1; i <= 5; i++)
    {
      g_autofree char *label = g_strdup_printf ("IMZALA EXTRA %u", i);

      imzala_test_fixture_add_empty_token (fixture, label);
    }
  module_set = imzala_test_fixture_load (fixture, &error);
  g_assert_no_error (error);

  window = new_window (settings);
  activate (window, "show-tokens");
  token_list = list_cards (window, module_set, &done);

  /* The listing has reached the page, and no frame has been painted since. */
  text = page_text (window, "tokens");
  shown = count_matches (text, "IMZALA ");
  g_test_message ("cards made with the listing: %u", shown);
  g_assert_cmpuint (shown, ==, 1);

  /* Then one per frame: bounded by the main loop's iterations, not a time. */
  for (guint i = 0; i < 100000 && shown < 8; i++)
    {
      g_main_context_iteration (NULL, TRUE);
      g_free (text);
      text = page_text (window, "tokens");
      shown = count_matches (text, "IMZALA ");
    }
  g_test_message ("Cards page:\n%s", text);
  g_assert_cmpuint (shown, ==, 8);
  g_assert_cmpuint (count_matches (text, "IMZALA TEST 1"), ==, 1);
  g_assert_cmpuint (count_matches (text, "IMZALA TEST BOS"), ==, 1);
  g_assert_cmpuint (count_matches (text, "IMZALA EXTRA 5"), ==, 1);
  {
    g_autoptr(GPtrArray) tokens = imzala_token_list_dup_tokens (token_list);
    const char *previous = text;

    g_assert_cmpuint (tokens->len, ==, 8);
    for (guint i = 0; i < tokens->len; i++)
      {
        const char *at = strstr (text, imzala_token_get_label (g_ptr_array_index (tokens, i)));

        g_assert_true (at >= previous);
        previous = at;
      }
  }

  g_signal_handlers_disconnect_by_data (window, &done);
  gtk_window_destroy (GTK_WINDOW (window));
}

static gboolean
monitor_answered (ImzalaReaderMonitor *monitor)
{
  return imzala_reader_monitor_get_available (monitor) ||
         imzala_reader_monitor_get_error (monitor) != NULL;
}

static gboolean
timeout_cb (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

/* The Cards page lists what the PC/SC monitor sees; without pcscd (as on most
 * test machines) it says so in the monitor's words instead. */
static void
test_window_readers (void)
{
  g_autoptr(GSettings) settings = new_settings ();
  g_autoptr(ImzalaReaderMonitor) monitor = imzala_reader_monitor_new ();
  ImzalaWindow *window = new_window (settings);
  g_autofree char *text = NULL;
  gboolean timed_out = FALSE;
  guint id;

  imzala_window_set_reader_monitor (window, monitor);
  imzala_reader_monitor_start (monitor);
  id = g_timeout_add_seconds (60, timeout_cb, &timed_out);
  while (!monitor_answered (monitor) && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  g_assert_false (timed_out);
  g_source_remove (id);

  activate (window, "show-tokens");
  text = page_text (window, "tokens");
  g_test_message ("Cards page:\n%s", text);
  g_assert_nonnull (strstr (text, "Card Readers"));
  if (imzala_reader_monitor_get_error (monitor) != NULL)
    g_assert_nonnull (strstr (text, imzala_reader_monitor_get_error (monitor)->message));
  else if (g_list_model_get_n_items (G_LIST_MODEL (monitor)) == 0)
    g_assert_nonnull (strstr (text, "No card reader is connected"));

  imzala_reader_monitor_stop (monitor);
  gtk_window_destroy (GTK_WINDOW (window));
}

/* Issue 8: no token, and pcscd not running (a socket where nobody listens):
 * the Cards page and the sign page name pcscd and the command that starts
 * it, instead of "insert your card". */
static void
test_window_no_card_cause (void)
{
  g_autoptr(ImzalaTestFixture) fixture = imzala_test_fixture_new ();
  g_autoptr(GSettings) settings = new_settings ();
  g_autoptr(ImzalaReaderMonitor) monitor = NULL;
  g_autoptr(ImzalaModuleSet) module_set = imzala_module_set_new ();
  g_autoptr(ImzalaTokenList) token_list = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *empty = g_build_filename (fixture->dir, "no-tokens", NULL);
  g_autofree char *conf = g_build_filename (fixture->dir, "no-tokens.conf", NULL);
  g_autofree char *conf_text = g_strdup_printf ("directories.tokendir = %s\nobjectstore.backend = file\n", empty);
  g_autofree char *socket = g_build_filename (fixture->dir, "no-pcscd.comm", NULL);
  g_autofree char *tokens_text = NULL;
  g_autofree char *sign_text = NULL;
  ImzalaWindow *window;
  gboolean done = FALSE;
  gboolean timed_out = FALSE;
  guint id;

  g_assert_cmpint (g_mkdir (empty, 0700), ==, 0);
  g_assert_true (g_file_set_contents (conf, conf_text, -1, NULL));
  g_setenv ("SOFTHSM2_CONF", conf, TRUE);
  g_setenv ("PCSCLITE_CSOCK_NAME", socket, TRUE);

  imzala_module_set_set_use_registered (module_set, FALSE);
  imzala_module_set_add_module_path (module_set, fixture->module_path);
  g_assert_true (imzala_module_set_load (module_set, NULL, &error));
  g_assert_no_error (error);

  window = new_window (settings);
  monitor = imzala_reader_monitor_new ();
  imzala_window_set_reader_monitor (window, monitor);
  imzala_reader_monitor_start (monitor);
  id = g_timeout_add_seconds (60, timeout_cb, &timed_out);
  while (!monitor_answered (monitor) && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  g_assert_false (timed_out);
  g_source_remove (id);
  g_assert_nonnull (imzala_reader_monitor_get_error (monitor));

  token_list = list_cards (window, module_set, &done);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (token_list)), ==, 0);

  /* The Cards page lists the cards again when shown; meanwhile the sign
   * page says the card is being read (OpenSC may take seconds). */
  activate (window, "show-tokens");
  g_assert_true (imzala_token_list_get_loading (token_list));
  sign_text = page_text (window, "sign");
  g_assert_nonnull (strstr (sign_text, "Reading the card…"));
  g_clear_pointer (&sign_text, g_free);
  while (imzala_token_list_get_loading (token_list))
    g_main_context_iteration (NULL, TRUE);
  tokens_text = page_text (window, "tokens");
  g_test_message ("Cards page:\n%s", tokens_text);
  g_assert_nonnull (strstr (tokens_text, "The smart card service is not running"));
  g_assert_nonnull (strstr (tokens_text, "sudo systemctl start pcscd.socket"));
  g_assert_null (strstr (tokens_text, "Insert your card into the reader"));

  sign_text = page_text (window, "sign");
  g_test_message ("Sign page:\n%s", sign_text);
  g_assert_nonnull (strstr (sign_text, "sudo systemctl start pcscd.socket"));
  g_assert_null (strstr (sign_text, "Insert your card"));

  imzala_reader_monitor_stop (monitor);
  g_signal_handlers_disconnect_by_data (window, &done);
  gtk_window_destroy (GTK_WINDOW (window));
  g_unsetenv ("PCSCLITE_CSOCK_NAME");
  g_clear_object (&token_list);
  imzala_test_modules_unref_and_wait (g_steal_pointer (&module_set));
}

/* The PIN goes into the secret key by key and only dots reach the screen. */
static void
test_pin_entry (void)
{
  GtkWidget *entry = g_object_ref_sink (imzala_pin_entry_new ());
  GString *out = g_string_new (NULL);
  g_autofree char *text = NULL;
  ImzalaSecret *secret;

  imzala_pin_entry_set_max_length (IMZALA_PIN_ENTRY (entry), 6);
  g_assert_true (imzala_pin_entry_append (IMZALA_PIN_ENTRY (entry), "1234"));
  g_assert_true (imzala_pin_entry_append (IMZALA_PIN_ENTRY (entry), "56"));
  g_assert_false (imzala_pin_entry_append (IMZALA_PIN_ENTRY (entry), "7"));
  secret = imzala_pin_entry_get_secret (IMZALA_PIN_ENTRY (entry));
  g_assert_cmpuint (imzala_secret_get_length (secret), ==, 6);
  g_assert_cmpmem (imzala_secret_get_data (secret), 6, "123456", 6);

  collect_texts (entry, out);
  text = g_string_free (out, FALSE);
  g_assert_null (strpbrk (text, "0123456789"));
  g_assert_nonnull (strstr (text, "●●●●●●"));

  imzala_pin_entry_backspace (IMZALA_PIN_ENTRY (entry));
  g_assert_cmpuint (imzala_pin_entry_get_length (IMZALA_PIN_ENTRY (entry)), ==, 5);
  imzala_pin_entry_clear (IMZALA_PIN_ENTRY (entry));
  g_assert_cmpuint (imzala_secret_get_length (secret), ==, 0);

  g_object_unref (entry);
}

static void
test_parse_uri (void)
{
  g_autofree char *portal = NULL;
  g_autofree char *code = NULL;

  g_assert_true (imzala_application_parse_uri ("imzala:?portal=https%3A%2F%2Flocalhost%3A8443&code=ABCD-EFGH-JKMN",
                                               &portal, &code));
  g_assert_cmpstr (portal, ==, "https://localhost:8443");
  g_assert_cmpstr (code, ==, "ABCD-EFGH-JKMN");
  g_clear_pointer (&portal, g_free);
  g_clear_pointer (&code, g_free);

  g_assert_true (imzala_application_parse_uri ("imzala://sign?code=X&portal=https://a.example#frag",
                                               &portal, &code));
  g_assert_cmpstr (portal, ==, "https://a.example");
  g_assert_cmpstr (code, ==, "X");
  g_clear_pointer (&portal, g_free);
  g_clear_pointer (&code, g_free);

  g_assert_true (imzala_application_parse_uri ("imzala:", &portal, &code));
  g_assert_null (portal);
  g_assert_null (code);

  g_assert_false (imzala_application_parse_uri ("https://localhost/?code=X", &portal, &code));
}

/* Issue 12 (start): the first frame holds only the code page; the other
 * pages are made when first needed, and the menu's popover when the menu
 * is first opened, with every entry in it. */
static GtkWidget *
find_widget (GtkWidget *widget,
             GType      type)
{
  if (G_TYPE_CHECK_INSTANCE_TYPE (widget, type))
    return widget;
  for (GtkWidget *child = gtk_widget_get_first_child (widget);
       child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found = find_widget (child, type);

      if (found != NULL)
        return found;
    }
  return NULL;
}

static void
test_window_made_when_needed (void)
{
  const char *later[] = { "portal-confirm", "sign", "result", "failure", "file-sign",
                          "pin-change", "unblock", "tokens", "doctor", "verify" };
  g_autoptr(GSettings) settings = new_settings ();
  ImzalaWindow *window = new_window (settings);
  GtkStack *stack = GTK_STACK (find_widget (GTK_WIDGET (window), GTK_TYPE_STACK));
  GtkMenuButton *menu_button = GTK_MENU_BUTTON (find_widget (GTK_WIDGET (window), GTK_TYPE_MENU_BUTTON));
  g_autoptr(GString) menu_text = g_string_new (NULL);
  GtkWidget *popover;

  g_assert_cmpstr (imzala_window_get_page_name (window), ==, "code");
  for (guint i = 0; i < G_N_ELEMENTS (later); i++)
    {
      GtkWidget *slot = gtk_stack_get_child_by_name (stack, later[i]);

      g_test_message ("page %s", later[i]);
      g_assert_true (ADW_IS_BIN (slot));
      g_assert_null (adw_bin_get_child (ADW_BIN (slot)));
    }

  /* Asked for, a page is made into its slot, once. */
  g_assert_true (IMZALA_IS_SIGN_PAGE (imzala_window_get_page (window, "sign")));
  g_assert_true (adw_bin_get_child (ADW_BIN (gtk_stack_get_child_by_name (stack, "sign")))
                 == imzala_window_get_page (window, "sign"));

  g_assert_nonnull (menu_button);
  g_assert_null (gtk_menu_button_get_popover (menu_button));
  /* Activated as a click or F10 activates it (GtkButton presses, then
   * clicks when its short press animation ends). */
  g_signal_emit_by_name (menu_button, "activate");
  while ((popover = GTK_WIDGET (gtk_menu_button_get_popover (menu_button))) == NULL ||
         !gtk_widget_get_mapped (popover))
    g_main_context_iteration (NULL, TRUE);
  collect_texts (popover, menu_text);
  g_assert_nonnull (strstr (menu_text->str, "Cards"));
  g_assert_nonnull (strstr (menu_text->str, "Verify a Signature"));
  g_assert_nonnull (strstr (menu_text->str, "Quit"));
  gtk_menu_button_popdown (menu_button);

  gtk_window_destroy (GTK_WINDOW (window));
}

/* The choices a combo row offers (the card and certificate pickers), one
 * per line. */
static void
visit_choices (GtkWidget *widget,
               GString   *out)
{
  GListModel *model = ADW_IS_COMBO_ROW (widget) ? adw_combo_row_get_model (ADW_COMBO_ROW (widget)) : NULL;

  for (guint i = 0; GTK_IS_STRING_LIST (model) && i < g_list_model_get_n_items (model); i++)
    g_string_append_printf (out, "%s\n", gtk_string_list_get_string (GTK_STRING_LIST (model), i));
}

static char *
page_choices (ImzalaWindow *window,
              const char   *name)
{
  GString *out = g_string_new (NULL);

  walk (imzala_window_get_page (window, name), visit_choices, out);
  return g_string_free (out, FALSE);
}

/* A card label and a certificate (its holder's name and its label on the
 * card) with line feeds: every page that shows them shows one line each,
 * the line feed as an escape, so that a name cannot add a line of its own
 * ("T.C. kimlik no: …") under the real one. The card pickers of PIN
 * Değiştir and PIN Blokesi Kaldır, the certificate choice of Dosya İmzala
 * and the certificate's details on Kartlar. */
static void
test_window_card_strings_one_line (void)
{
  g_autoptr(ImzalaTestFixture) fixture = imzala_test_fixture_new ();
  g_autoptr(GSettings) settings = new_settings ();
  g_autoptr(ImzalaModuleSet) module_set = NULL;
  g_autoptr(ImzalaTokenList) token_list = NULL;
  g_autoptr(ImzalaTestIdentity) spoof = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *pem = g_build_filename (fixture->dir, "spoof.pem", NULL);
  g_autofree char *key = g_build_filename (fixture->dir, "spoof.key", NULL);
  const ImzalaTestCertSpec spec = {
    .common_name = "MALLORY\nT.C. kimlik no: 12345678950", .key = "p256",
    .key_usage = "critical,nonRepudiation",
  };
  const char *pages[] = { "pin-change", "unblock" };
  const char *actions[] = { "show-pin-change", "show-unblock" };
  g_autofree char *text = NULL;
  g_autofree char *choices = NULL;
  ImzalaWindow *window;
  gboolean done = FALSE;

  imzala_test_fixture_add_empty_token (fixture, "KART <b>&\nSAHTE");
  spoof = imzala_test_identity_new (&spec, NULL);
  imzala_test_identity_write (spoof, fixture->dir, "spoof");
  imzala_test_fixture_put_on_empty_token (fixture, "ETİKET\nSAHTE", "90", pem, key);
  module_set = imzala_test_fixture_load (fixture, &error);
  g_assert_no_error (error);

  window = new_window (settings);
  token_list = list_cards (window, module_set, &done);

  for (guint i = 0; i < G_N_ELEMENTS (pages); i++)
    {
      activate (window, actions[i]);
      g_assert_cmpstr (imzala_window_get_page_name (window), ==, pages[i]);
      g_clear_pointer (&choices, g_free);
      choices = page_choices (window, pages[i]);
      g_test_message ("Cards to choose on %s:\n%s", pages[i], choices);
      g_assert_nonnull (strstr (choices, "IMZALA TEST 1\n"));
      g_assert_nonnull (strstr (choices, "KART <b>&\\x0aSAHTE\n"));
      g_assert_null (strstr (choices, "\nSAHTE"));
      activate (window, "back");
    }

  activate (window, "show-file-sign");
  g_free (choices);
  choices = page_choices (window, "file-sign");
  g_test_message ("Certificates to choose on file-sign:\n%s", choices);
  g_assert_nonnull (strstr (choices, "AYŞE YILMAZ, "));
  g_assert_nonnull (strstr (choices, "MALLORY\\x0aT.C. kimlik no: 12345678950, "));
  g_assert_null (strstr (choices, "\nT.C. kimlik no"));
  activate (window, "back");

  /* The cards come one per frame (above): every card there, then every
   * row opened. */
  activate (window, "show-tokens");
  text = page_text (window, "tokens");
  for (guint i = 0; i < 100000 && count_matches (text, "IMZALA TEST ") + count_matches (text, "KART ") < 4; i++)
    {
      g_main_context_iteration (NULL, TRUE);
      g_free (text);
      text = page_text (window, "tokens");
    }
  expand_all (imzala_window_get_page (window, "tokens"));
  g_free (text);
  text = page_text (window, "tokens");
  g_test_message ("Cards page:\n%s", text);
  g_assert_nonnull (strstr (text, "\nMALLORY\\x0aT.C. kimlik no: 12345678950\n"));
  g_assert_nonnull (strstr (text, "\nETİKET\\x0aSAHTE\n"));
  g_assert_null (strstr (text, "\nSAHTE"));
  g_assert_null (strstr (text, "\nT.C. kimlik no"));

  /* A message that names the card (the core's words, as the PIN pages
   * and the sign page show them; PIN_NOT_LOCKED also leads to the failure
   * page): one line too, on every page that shows one. */
  {
    g_autoptr(GError) not_locked = g_error_new (IMZALA_ERROR, IMZALA_ERROR_PIN_NOT_LOCKED,
                                                "The PIN of “%s” is not locked.", "KART <b>&\nSAHTE");
    const char *message_pages[] = { "pin-change", "unblock", "sign", "code", "failure" };

    imzala_pin_change_page_set_error (IMZALA_PIN_CHANGE_PAGE (imzala_window_get_page (window, "pin-change")),
                                      not_locked->message);
    imzala_unblock_page_set_error (IMZALA_UNBLOCK_PAGE (imzala_window_get_page (window, "unblock")),
                                   not_locked->message);
    imzala_sign_page_set_error (IMZALA_SIGN_PAGE (imzala_window_get_page (window, "sign")), not_locked->message);
    imzala_code_page_set_error (IMZALA_CODE_PAGE (imzala_window_get_page (window, "code")), not_locked->message);
    imzala_failure_page_set_error (IMZALA_FAILURE_PAGE (imzala_window_get_page (window, "failure")), not_locked);
    for (guint i = 0; i < G_N_ELEMENTS (message_pages); i++)
      {
        g_clear_pointer (&text, g_free);
        text = page_text (window, message_pages[i]);
        g_test_message ("The message on %s:\n%s", message_pages[i], text);
        g_assert_nonnull (strstr (text, "The PIN of “KART <b>&\\x0aSAHTE” is not locked.\n"));
        g_assert_null (strstr (text, "\nSAHTE"));
      }
  }

  g_signal_handlers_disconnect_by_data (window, &done);
  gtk_window_destroy (GTK_WINDOW (window));
}

int
main (int   argc,
      char *argv[])
{
  gtk_test_init (&argc, &argv, NULL);
  adw_init ();

  g_test_add_func ("/gui/pin-entry", test_pin_entry);
  g_test_add_func ("/gui/parse-uri", test_parse_uri);
  g_test_add_func ("/gui/window/code-page", test_window_code_page);
  g_test_add_func ("/gui/window/unknown-portal", test_window_unknown_portal);
  g_test_add_func ("/gui/window/tokens-page", test_window_tokens_page);
  g_test_add_func ("/gui/window/tokens-page-many", test_window_tokens_page_many);
  g_test_add_func ("/gui/window/card-strings-one-line", test_window_card_strings_one_line);
  g_test_add_func ("/gui/window/readers", test_window_readers);
  g_test_add_func ("/gui/window/no-card-cause", test_window_no_card_cause);
  g_test_add_func ("/gui/window/made-when-needed", test_window_made_when_needed);

  return g_test_run ();
}
