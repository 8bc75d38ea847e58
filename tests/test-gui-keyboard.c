/* test-gui-keyboard.c: a person can use İmzala with the keyboard alone.
 *
 * The real `imzala` binary runs against the real reference portal with its
 * SoftHSM demo card, in Turkish, under Xvfb. Every keystroke is a real X key
 * event sent by `xdotool` through the XTEST extension (GTK cannot make key
 * events of its own), so this is what a person at the keyboard gets: the
 * focus where the page puts it, Tab, Enter and Escape, and F10 for the main
 * menu. Nothing in the window is called directly.
 *
 * What is asserted is what the person and the portal see: the window's
 * title (it names the page, "Doğrulama Kodu — İmzala"), and the portal's
 * database (the request done with one signature, the e-onay recorded, no
 * signature after Escape). A PIN change is proven by signing with the new
 * PIN.
 *
 * The test runs its own Xvfb (see start_x_server()) under dbus-run-session.
 * A screenshot of the screen after every step goes to $IMZALA_KEYBOARD_SHOTS
 * (the build tree, never committed), and one more when a wait times out.
 */
#include "config.h"

#include <gio/gunixinputstream.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <unistd.h>
#include <string.h>
#include <sys/prctl.h>

#include "imzala-test-gui.h"
#include "imzala-test-portal.h"

#define WAIT_SECONDS 60
#define NEW_PIN      "246810"

/* The window's titles in Turkish, one per page. */
#define TITLE_CODE       "Doğrulama Kodu — İmzala"
#define TITLE_SIGN       "İmza — İmzala"
#define TITLE_RESULT     "Sonuç — İmzala"
#define TITLE_PIN_CHANGE "PIN Değiştir — İmzala"

typedef struct
{
  ImzalaTestPortal *portal;
  GSubprocess      *imzala;
  char             *window;     /* the X window id, as xdotool prints it */
  const char       *test_name;  /* for the screenshots' names */
  guint             shot;
} Keyboard;

/* ---- Children ---- */

/* A test that aborts (a failed assertion, meson's timeout) must not leave
 * İmzala or xdotool running. */
static void
die_with_parent (gpointer data)
{
  prctl (PR_SET_PDEATHSIG, SIGKILL);
}

/* Runs a program to its end; returns its standard output, stripped. Fails
 * the test when it cannot run, and when it fails unless @may_fail. */
static char *
run (gboolean may_fail, const char *const *argv)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  int status = 0;

  if (!g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH,
                     die_with_parent, NULL, &out, &err, &status, &error))
    g_error ("Cannot run %s: %s", argv[0], error->message);
  if (!g_spawn_check_wait_status (status, NULL))
    {
      if (!may_fail)
        g_error ("%s %s failed: %s", argv[0], argv[1], err);
      return NULL;
    }
  return g_strstrip (g_steal_pointer (&out));
}

static char *
xdotool (gboolean may_fail, const char *first, ...) G_GNUC_NULL_TERMINATED;

static char *
xdotool (gboolean may_fail, const char *first, ...)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  va_list args;

  g_ptr_array_add (argv, (gpointer) "xdotool");
  va_start (args, first);
  for (const char *arg = first; arg != NULL; arg = va_arg (args, const char *))
    g_ptr_array_add (argv, (gpointer) arg);
  va_end (args);
  g_ptr_array_add (argv, NULL);
  return run (may_fail, (const char *const *) argv->pdata);
}

/* Key names as xdotool knows them ("Return", "Tab", "ctrl+a"). */
static void
press (const char *key)
{
  g_free (xdotool (FALSE, "key", "--clearmodifiers", key, NULL));
}

/* Types @text key by key (each character its own press and release). */
static void
type (const char *text)
{
  g_free (xdotool (FALSE, "type", "--clearmodifiers", "--delay", "40", text, NULL));
}

static void
screenshot (Keyboard *self, const char *step)
{
  const char *dir = g_getenv ("IMZALA_KEYBOARD_SHOTS");
  g_autofree char *name = NULL;
  g_autofree char *path = NULL;
  const char *argv[] = { "import", "-window", "root", NULL, NULL };

  if (dir == NULL)
    return;
  g_mkdir_with_parents (dir, 0755);
  name = g_strdup_printf ("%s-%02u-%s.png", self->test_name, self->shot++, step);
  path = g_build_filename (dir, name, NULL);
  argv[3] = path;
  /* A picture is for people looking at a failure; not having one is no
   * failure of the application. */
  g_free (run (TRUE, argv));
}

/* ---- Waiting ---- */

typedef gboolean (*Condition) (Keyboard *self, gconstpointer data);

static gboolean
timed_out_cb (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

static gboolean
tick_cb (gpointer data)
{
  return G_SOURCE_CONTINUE;
}

/* Spins the main context until @condition holds; after WAIT_SECONDS takes
 * a screenshot and fails the test (a hang, not a speed check). */
static void
wait_until (Keyboard *self, Condition condition, gconstpointer data, const char *what)
{
  gboolean timed_out = FALSE;
  guint timeout = g_timeout_add_seconds (WAIT_SECONDS, timed_out_cb, &timed_out);

  while (!condition (self, data) && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  if (timed_out)
    {
      screenshot (self, "timeout");
      g_error ("Gave up waiting for %s", what);
    }
  g_source_remove (timeout);
}

static gboolean
window_found (Keyboard *self, gconstpointer data)
{
  const char *pid = data;
  g_autofree char *found = xdotool (TRUE, "search", "--onlyvisible", "--pid", pid, NULL);

  if (found == NULL || *found == '\0')
    return FALSE;
  /* One visible toplevel: the window (the first line if there were more). */
  *strchrnul (found, '\n') = '\0';
  self->window = g_steal_pointer (&found);
  return TRUE;
}

static gboolean
title_is (Keyboard *self, gconstpointer data)
{
  g_autofree char *title = xdotool (TRUE, "getwindowname", self->window, NULL);

  return g_strcmp0 (title, data) == 0;
}

static void
wait_for_title (Keyboard *self, const char *title)
{
  g_autofree char *what = g_strdup_printf ("the window title “%s”", title);

  wait_until (self, title_is, title, what);
}

static gboolean
request_is_done (Keyboard *self, gconstpointer code)
{
  g_autofree char *state = imzala_test_portal_get_state (self->portal, code);

  return g_strcmp0 (state, "done") == 0;
}

static gboolean
request_was_fetched (Keyboard *self, gconstpointer code)
{
  return imzala_test_portal_count_events (self->portal, code, "request-fetched") > 0;
}

/* The checksum of the demo card's token.object files: SoftHSM rewrites
 * them when the PIN changes (the key that the PIN protects is wrapped
 * again), and at no other time this test cares about. */
static char *
card_checksum (Keyboard *self)
{
  g_autofree char *card_dir = g_path_get_dirname (self->portal->card_conf);
  g_autofree char *tokens = g_build_filename (card_dir, "tokens", NULL);
  g_autoptr(GChecksum) checksum = g_checksum_new (G_CHECKSUM_SHA256);
  g_autoptr(GDir) dir = g_dir_open (tokens, 0, NULL);
  const char *name;

  g_assert_nonnull (dir);
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (tokens, name, "token.object", NULL);
      g_autofree char *contents = NULL;
      gsize length = 0;

      if (g_file_get_contents (path, &contents, &length, NULL))
        g_checksum_update (checksum, (const guchar *) contents, length);
    }
  return g_strdup (g_checksum_get_string (checksum));
}

static gboolean
card_changed (Keyboard *self, gconstpointer before)
{
  g_autofree char *now = card_checksum (self);

  return g_strcmp0 (now, before) != 0;
}

/* ---- Fixture ---- */

static void
keyboard_setup (Keyboard *self, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSettings) settings = NULL;
  g_autoptr(GVariantBuilder) ca_files = g_variant_builder_new (G_VARIANT_TYPE ("a{ss}"));
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  const char *allowed[2] = { NULL, NULL };
  const char *gui = g_getenv ("IMZALA_GUI");
  g_autofree char *pid = NULL;

  g_assert_nonnull (gui);
  self->test_name = data;

  /* A portal and a demo card of this test's own (the PIN changes). */
  self->portal = imzala_test_portal_new (0, &error);
  g_assert_no_error (error);

  /* The settings İmzala reads: this test's keyfile (see main()). */
  settings = g_settings_new ("io.github.imzala.Imzala");
  allowed[0] = self->portal->url;
  g_settings_set_strv (settings, "allowed-portals", allowed);
  g_variant_builder_add (ca_files, "{ss}", self->portal->url, self->portal->ca_file);
  g_settings_set_value (settings, "portal-ca-files", g_variant_builder_end (ca_files));
  g_settings_sync ();

  /* The environment as it is now: SOFTHSM2_CONF of the demo card, the
   * Turkish locale, DISPLAY of Xvfb. */
  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_NONE);
  g_subprocess_launcher_set_child_setup (launcher, die_with_parent, NULL, NULL);
  self->imzala = g_subprocess_launcher_spawn (launcher, &error, gui, NULL);
  g_assert_no_error (error);

  pid = g_strdup (g_subprocess_get_identifier (self->imzala));
  wait_until (self, window_found, pid, "İmzala's window");

  /* No window manager under Xvfb: the window gets the keyboard focus the way
   * a click on it would give it. */
  g_free (xdotool (FALSE, "windowfocus", "--sync", self->window, NULL));
  wait_for_title (self, TITLE_CODE);
  screenshot (self, "started");
}

static void
exited_cb (GObject *source, GAsyncResult *result, gpointer data)
{
  g_subprocess_wait_finish (G_SUBPROCESS (source), result, NULL);
  *(gboolean *) data = TRUE;
}

static gboolean
flag_is_set (Keyboard *self, gconstpointer data)
{
  return *(const gboolean *) data;
}

static void
keyboard_teardown (Keyboard *self, gconstpointer data)
{
  gboolean exited = FALSE;

  if (self->imzala != NULL)
    {
      g_subprocess_send_signal (self->imzala, SIGTERM);
      g_subprocess_wait_async (self->imzala, NULL, exited_cb, &exited);
      wait_until (self, flag_is_set, &exited, "İmzala to exit");
      g_clear_object (&self->imzala);
    }
  g_clear_pointer (&self->window, g_free);
  g_clear_pointer (&self->portal, imzala_test_portal_free);
}

/* ---- Steps ---- */

/* On the code page (the code field has the focus when the page opens):
 * selects what the field holds, types @code over it and presses Enter; then
 * on the sign page (the PIN field has the focus) types @pin and presses
 * Enter. Returns when the portal has the request done. */
static void
sign_by_keyboard (Keyboard *self, const char *code, const char *pin, const char *step)
{
  g_autofree char *shot = NULL;

  press ("ctrl+a");
  type (code);
  shot = g_strdup_printf ("%s-code", step);
  screenshot (self, shot);
  press ("Return");

  wait_for_title (self, TITLE_SIGN);
  type (pin);
  g_free (shot);
  shot = g_strdup_printf ("%s-pin", step);
  screenshot (self, shot);
  press ("Return");

  wait_until (self, request_is_done, code, "the portal to have the request done");
  g_assert_cmpuint (imzala_test_portal_count_signatures (self->portal, code), ==, 1);
  wait_for_title (self, TITLE_RESULT);
  g_free (shot);
  shot = g_strdup_printf ("%s-result", step);
  screenshot (self, shot);
}

/* A signed login, then an e-onay (KABUL EDİYORUM) in the same window: after
 * the result Escape goes back to the code page for the next code. */
static void
test_login_and_e_onay (Keyboard *self, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *login = imzala_test_portal_create_request (self->portal, "login", &error);
  g_autofree char *consent = NULL;
  g_autofree char *eonay = NULL;

  g_assert_no_error (error);
  sign_by_keyboard (self, login, IMZALA_TEST_PORTAL_PIN, "giris");

  /* The login signed the browser's session in: it may ask for an e-onay. */
  consent = imzala_test_portal_create_request (self->portal, "consent", &error);
  g_assert_no_error (error);
  eonay = imzala_test_portal_get_eonay (self->portal);
  g_assert_null (eonay);

  press ("Escape");
  wait_for_title (self, TITLE_CODE);
  sign_by_keyboard (self, consent, IMZALA_TEST_PORTAL_PIN, "eonay");
  eonay = imzala_test_portal_get_eonay (self->portal);
  g_assert_cmpstr (eonay, ==, "accepted");
}

/* Escape on the sign page goes back to the code page and nothing is
 * signed; the same code can then be signed. */
static void
test_escape_goes_back (Keyboard *self, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *code = imzala_test_portal_create_request (self->portal, "login", &error);
  g_autofree char *state = NULL;

  g_assert_no_error (error);
  type (code);
  press ("Return");
  wait_for_title (self, TITLE_SIGN);
  g_assert_true (request_was_fetched (self, code));
  /* Half a PIN typed, then the person changes their mind. */
  type ("123");
  screenshot (self, "sign");

  press ("Escape");
  wait_for_title (self, TITLE_CODE);
  screenshot (self, "back");
  state = imzala_test_portal_get_state (self->portal, code);
  g_assert_cmpstr (state, ==, "pending");
  g_assert_cmpuint (imzala_test_portal_count_signatures (self->portal, code), ==, 0);

  /* The code is still in its field and the half-typed PIN is gone. */
  press ("Return");
  wait_for_title (self, TITLE_SIGN);
  type (IMZALA_TEST_PORTAL_PIN);
  press ("Return");
  wait_until (self, request_is_done, code, "the portal to have the request done");
  g_assert_cmpuint (imzala_test_portal_count_signatures (self->portal, code), ==, 1);
}

/* PIN Değiştir from the main menu (F10, Down to its item, Enter): the
 * current PIN, Tab, the new PIN, Tab, the new PIN again, Enter. Then a
 * signed login with the new PIN. */
static void
test_pin_change (Keyboard *self, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *code = NULL;
  g_autofree char *before = card_checksum (self);

  press ("F10");
  screenshot (self, "menu");
  /* Kartlar, PIN Değiştir, Kilit Çözme: the first has the focus. */
  press ("Down");
  press ("Return");
  wait_for_title (self, TITLE_PIN_CHANGE);

  type (IMZALA_TEST_PORTAL_PIN);
  press ("Tab");
  type (NEW_PIN);
  press ("Tab");
  type (NEW_PIN);
  screenshot (self, "pins");
  press ("Return");

  /* The page goes on showing PIN Değiştir, with its fields cleared and a
   * toast saying the PIN was changed; the card is written once the change
   * is done, and the proof that it is the new PIN is a signature with it.
   * The first Escape closes the toast (libadwaita's toast overlay takes it
   * while a toast is up), the next one goes back to the code page; if the
   * toast has timed out already, the second Escape finds the code page,
   * where Escape does nothing. */
  wait_until (self, card_changed, before, "the card's PIN to change");
  screenshot (self, "changed");
  press ("Escape");
  press ("Escape");
  wait_for_title (self, TITLE_CODE);
  screenshot (self, "after-change");

  code = imzala_test_portal_create_request (self->portal, "login", &error);
  g_assert_no_error (error);
  sign_by_keyboard (self, code, NEW_PIN, "yeni-pin");
}

/* An X server of this test's own, on a display number of its own choosing:
 * `xvfb-run -a` picks one by looking at lock files, which races with the
 * other GUI tests starting their servers at the same moment, and a plain
 * `-displayfd` starts at :0, where a stray server (or its abstract socket,
 * which outlives the lock file) is most likely. Xvfb writes the number to
 * -displayfd once it accepts connections, and exits if the display is taken;
 * then the next number is tried. No -auth: only local clients, and only for
 * the life of the test. */
static GSubprocess *
start_x_server (void)
{
  guint first = 300 + (guint) (getpid () % 600);

  for (guint number = first; number < first + 20; number++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDERR_SILENCE);
      g_autoptr(GInputStream) input = NULL;
      g_autoptr(GDataInputStream) lines = NULL;
      g_autofree char *display = g_strdup_printf (":%u", number);
      g_autofree char *ready = NULL;
      GSubprocess *server;
      int fds[2];

      g_assert_cmpint (pipe (fds), ==, 0);
      g_subprocess_launcher_take_fd (launcher, fds[1], 3);
      g_subprocess_launcher_set_child_setup (launcher, die_with_parent, NULL, NULL);
      server = g_subprocess_launcher_spawn (launcher, &error, "Xvfb", display, "-displayfd", "3",
                                            "-screen", "0", "1280x1024x24", "-nolisten", "tcp",
                                            /* No reset when the last client (an İmzala of
                                             * the previous test) goes: a connection made
                                             * during a reset fails. */
                                            "-noreset", NULL);
      g_assert_no_error (error);
      /* The launcher keeps the write end until it is freed. */
      g_clear_object (&launcher);

      input = g_unix_input_stream_new (fds[0], TRUE);
      lines = g_data_input_stream_new (input);
      ready = g_data_input_stream_read_line_utf8 (lines, NULL, NULL, &error);
      g_assert_no_error (error);
      if (ready == NULL)
        {
          /* End of input without a number: the display was taken. */
          g_subprocess_wait (server, NULL, NULL);
          g_object_unref (server);
          continue;
        }
      g_setenv ("DISPLAY", display, TRUE);
      g_unsetenv ("XAUTHORITY");
      return server;
    }
  g_error ("No free X display for Xvfb");
}

/* ---- A slow card listing (issue 9) ---- */

/* İmzala with the fault module over the demo card, every C_GetSlotList
 * taking 1.5 s: the sign page shows the request while the card is still
 * being read. */
static void
slow_listing_setup (Keyboard *self, gconstpointer data)
{
  g_autoptr(GSettings) settings = g_settings_new ("io.github.imzala.Imzala");
  const char *paths[] = { g_getenv ("IMZALA_FAULT_MODULE"), NULL };

  g_assert_nonnull (paths[0]);
  g_settings_set_strv (settings, "module-paths", paths);
  g_settings_set_boolean (settings, "use-registered-modules", FALSE);
  g_settings_sync ();
  g_setenv ("IMZALA_FAULTS", "slow-slot-list", TRUE);
  g_setenv ("IMZALA_FAULT_DELAY_MS", "1500", TRUE);
  keyboard_setup (self, data);
}

static void
slow_listing_teardown (Keyboard *self, gconstpointer data)
{
  g_autoptr(GSettings) settings = g_settings_new ("io.github.imzala.Imzala");

  keyboard_teardown (self, data);
  g_settings_reset (settings, "module-paths");
  g_settings_reset (settings, "use-registered-modules");
  g_settings_sync ();
  g_unsetenv ("IMZALA_FAULTS");
  g_unsetenv ("IMZALA_FAULT_DELAY_MS");
}

/* The PIN typed, and Enter pressed, as soon as the sign page shows, while
 * the card is still being read: the digits land in the PIN field (it has
 * the focus), Enter is kept, and the signature is made once the card has
 * been read. Nothing typed is taken by İptal. */
static void
test_type_while_reading (Keyboard *self, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *code = imzala_test_portal_create_request (self->portal, "login", &error);

  g_assert_no_error (error);
  press ("ctrl+a");
  type (code);
  press ("Return");
  wait_for_title (self, TITLE_SIGN);
  type (IMZALA_TEST_PORTAL_PIN);
  press ("Return");
  screenshot (self, "pin");
  wait_until (self, request_is_done, code, "the portal to have the request done");
  g_assert_cmpuint (imzala_test_portal_count_signatures (self->portal, code), ==, 1);
  wait_for_title (self, TITLE_RESULT);
  screenshot (self, "result");
}

int
main (int argc, char **argv)
{
  g_autofree char *config_home = NULL;
  g_autoptr(GSubprocess) x_server = NULL;
  int status;

  g_test_init (&argc, &argv, NULL);
  x_server = start_x_server ();

  config_home = imzala_test_gui_use_keyfile_settings ();

  /* Keeps the main context waking up while the test polls. */
  g_timeout_add (100, tick_cb, NULL);

  g_test_add ("/gui/keyboard/login-and-e-onay", Keyboard, "giris-eonay", keyboard_setup,
              test_login_and_e_onay, keyboard_teardown);
  g_test_add ("/gui/keyboard/escape", Keyboard, "escape", keyboard_setup,
              test_escape_goes_back, keyboard_teardown);
  g_test_add ("/gui/keyboard/pin-change", Keyboard, "pin-degistir", keyboard_setup,
              test_pin_change, keyboard_teardown);
  g_test_add ("/gui/keyboard/type-while-reading", Keyboard, "yavas-kart", slow_listing_setup,
              test_type_while_reading, slow_listing_teardown);
  status = g_test_run ();
  imzala_test_gui_remove_keyfile_settings (config_home);
  g_subprocess_send_signal (x_server, SIGTERM);
  g_subprocess_wait (x_server, NULL, NULL);
  return status;
}
