#define G_LOG_DOMAIN "imzala-gui"

#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "imzala-application.h"
#include "imzala-http-session.h"
#include "imzala-settings.h"
#include "imzala-token-list.h"
#include "imzala-verify-page.h"
#include "imzala-window.h"

struct _ImzalaApplication
{
  AdwApplication   parent_instance;

  GSettings           *gsettings;
  ImzalaSettings      *settings;        /* the portal allow-list, for every window */
  ImzalaModuleSet     *module_set;
  GError              *module_error;    /* why the load found no module, or NULL */
  ImzalaTokenList     *token_list;      /* held until the modules are loaded */
  gboolean             modules_loaded;
  ImzalaReaderMonitor *reader_monitor;
  GCancellable        *cancellable;

  /* Issue 12: the card work (loading the modules, the PC/SC thread) starts
   * after the first window's first frame, or after a second without one. */
  gboolean             card_work_started;
  guint                card_work_timeout_id;
};

G_DEFINE_FINAL_TYPE (ImzalaApplication, imzala_application, ADW_TYPE_APPLICATION)

static const GOptionEntry option_entries[] = {
  { "portal", 'p', G_OPTION_FLAG_NONE, G_OPTION_ARG_STRING, NULL,
    N_("The portal that asks for the signature (https://…)"), N_("URL") },
  { "code", 'c', G_OPTION_FLAG_NONE, G_OPTION_ARG_STRING, NULL,
    N_("The verification code shown by the portal"), N_("CODE") },
  { "version", 0, G_OPTION_FLAG_NONE, G_OPTION_ARG_NONE, NULL,
    N_("Show the version and exit"), NULL },
  { G_OPTION_REMAINING, 0, G_OPTION_FLAG_NONE, G_OPTION_ARG_STRING_ARRAY, NULL,
    NULL, N_("[imzala:?portal=URL&code=CODE]") },
  { NULL }
};

gboolean
imzala_application_parse_uri (const char  *uri,
                              char       **portal,
                              char       **code)
{
  g_autoptr(GHashTable) params = NULL;
  const char *scheme_end;
  const char *query;

  *portal = NULL;
  *code = NULL;

  if (uri == NULL || g_ascii_strncasecmp (uri, "imzala:", strlen ("imzala:")) != 0)
    return FALSE;

  /* Any form ("imzala:?…", "imzala://sign?…") carries its data in the query;
   * the fragment, if any, is ignored. */
  scheme_end = uri + strlen ("imzala:");
  query = strchr (scheme_end, '?');
  if (query == NULL)
    return TRUE;

  {
    g_autofree char *without_fragment = g_strdup (query + 1);
    char *hash = strchr (without_fragment, '#');

    if (hash != NULL)
      *hash = '\0';
    params = g_uri_parse_params (without_fragment, -1, "&", G_URI_PARAMS_NONE, NULL);
  }
  if (params == NULL)
    return TRUE;

  *portal = g_strdup (g_hash_table_lookup (params, "portal"));
  *code = g_strdup (g_hash_table_lookup (params, "code"));
  return TRUE;
}

static void imzala_application_start_card_work (ImzalaApplication *self);

static void
first_frame_cb (GdkFrameClock     *clock,
                ImzalaApplication *self)
{
  g_signal_handlers_disconnect_by_func (clock, first_frame_cb, self);
  imzala_application_start_card_work (self);
}

static void
first_window_map_cb (GtkWidget         *window,
                     ImzalaApplication *self)
{
  g_signal_handlers_disconnect_by_func (window, first_window_map_cb, self);
  if (!self->card_work_started)
    g_signal_connect_object (gtk_widget_get_frame_clock (window), "after-paint",
                             G_CALLBACK (first_frame_cb), self, 0);
}

static ImzalaWindow *
imzala_application_get_window (ImzalaApplication *self)
{
  GtkWindow *window = gtk_application_get_active_window (GTK_APPLICATION (self));

  if (window == NULL)
    {
      window = GTK_WINDOW (imzala_window_new (self, self->settings));
      if (!self->card_work_started)
        g_signal_connect_object (window, "map", G_CALLBACK (first_window_map_cb), self, 0);
      imzala_window_set_reader_monitor (IMZALA_WINDOW (window), self->reader_monitor);
      if (self->token_list != NULL)
        imzala_window_set_token_list (IMZALA_WINDOW (window), self->token_list, self->module_error);
    }
  return IMZALA_WINDOW (window);
}

static void
imzala_application_present_request (ImzalaApplication *self,
                                    const char        *portal,
                                    const char        *code)
{
  ImzalaWindow *window = imzala_application_get_window (self);

  if (portal != NULL || code != NULL)
    imzala_window_open_request (window, portal, code);
  gtk_window_present (GTK_WINDOW (window));
}

/* The network component (libsoup, in a module of its own) is loaded on a
 * thread once the cards are listed, so that the first portal request does
 * not load it on the main thread (its dlopen() alone took 3.5-6.4 ms here),
 * and it does not compete with the card work for the CPU or for the
 * dynamic loader's lock. */
static void
preload_http_when_listed (ImzalaApplication *self)
{
  if (!self->modules_loaded || imzala_token_list_get_loading (self->token_list))
    return;
  g_signal_handlers_disconnect_by_func (self->token_list, preload_http_when_listed, self);
  imzala_http_preload ();
}

static void
module_set_load_cb (GObject      *object,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  g_autoptr(ImzalaApplication) self = user_data;
  g_autoptr(GError) error = NULL;
  GList *windows;

  /* A failed load still leaves a usable (empty) set: the Cards page shows
   * what failed and why. */
  if (!imzala_module_set_load_finish (IMZALA_MODULE_SET (object), result, &error))
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          /* The refreshes that waited end (empty), not to keep the list. */
          imzala_token_list_release (self->token_list);
          return;
        }
      g_debug ("Loading the PKCS#11 modules failed: %s", error->message);
    }

  self->module_error = g_steal_pointer (&error);
  self->modules_loaded = TRUE;
  imzala_token_list_release (self->token_list);

  windows = gtk_application_get_windows (GTK_APPLICATION (self));
  for (GList *l = windows; l != NULL; l = l->next)
    if (IMZALA_IS_WINDOW (l->data))
      imzala_window_set_token_list (IMZALA_WINDOW (l->data), self->token_list, self->module_error);
  preload_http_when_listed (self);
}

/* The modules are loaded (and the cards listed) on threads, but on a
 * machine with few cores those threads, the dlopen() of the modules (which
 * holds the dynamic loader's lock the window's own loading waits for) and
 * pcscd's thread take the CPU the first frame needs. So the list of tokens
 * is made at start-up and held (a request that arrives meanwhile waits, and
 * says "Kart okunuyor…"), and the card work starts after the first frame:
 * a user cannot type a code in that time, and nothing shown changes
 * (issue 12). */
static void
imzala_application_create_token_list (ImzalaApplication *self)
{
  g_auto(GStrv) paths = g_settings_get_strv (self->gsettings, "module-paths");

  self->module_set = imzala_module_set_new ();
  imzala_module_set_set_use_registered (self->module_set,
                                        g_settings_get_boolean (self->gsettings,
                                                                "use-registered-modules"));
  for (guint i = 0; paths[i] != NULL; i++)
    imzala_module_set_add_module_path (self->module_set, paths[i]);

  /* One list of tokens for the whole application: the windows' pages and
   * their signing jobs all read it, so a card event lists the cards once.
   * It is made now and waits for the modules, so that a request that
   * arrives meanwhile is fetched and shown ("Kart okunuyor…"). */
  self->token_list = imzala_token_list_new (self->module_set);
  imzala_token_list_hold (self->token_list);
  g_signal_connect_object (self->token_list, "notify::loading",
                           G_CALLBACK (preload_http_when_listed), self, G_CONNECT_SWAPPED);
}

static gboolean
card_work_timeout_cb (gpointer user_data)
{
  ImzalaApplication *self = user_data;

  self->card_work_timeout_id = 0;
  imzala_application_start_card_work (self);
  return G_SOURCE_REMOVE;
}

static void
imzala_application_start_card_work (ImzalaApplication *self)
{
  if (self->card_work_started)
    return;
  self->card_work_started = TRUE;
  g_clear_handle_id (&self->card_work_timeout_id, g_source_remove);

  imzala_module_set_load_async (self->module_set, self->cancellable,
                                module_set_load_cb, g_object_ref (self));
  /* pcscd tells when a card goes in or out; without it the Cards page says
   * how to start it and Refresh still works. */
  imzala_reader_monitor_start (self->reader_monitor);
}

static void
quit_activated (GSimpleAction *action,
                GVariant      *parameter,
                gpointer       user_data)
{
  ImzalaApplication *self = user_data;
  GtkWindow *window;

  /* Destroying the windows first disposes their jobs, which cancels any work
   * still running on the card or the network. */
  while ((window = gtk_application_get_active_window (GTK_APPLICATION (self))) != NULL)
    gtk_window_destroy (window);
  g_application_quit (G_APPLICATION (self));
}

static void
about_activated (GSimpleAction *action,
                 GVariant      *parameter,
                 gpointer       user_data)
{
  ImzalaApplication *self = user_data;
  GtkWindow *window = gtk_application_get_active_window (GTK_APPLICATION (self));
  const char *developers[] = { _("The İmzala developers"), NULL };

  adw_show_about_window (window,
                         "application-name", _("İmzala"),
                         "application-icon", APPLICATION_ID,
                         "version", PACKAGE_VERSION,
                         "comments", _("Sign with your Turkish electronic signature card"),
                         "developers", developers,
                         "license-type", GTK_LICENSE_GPL_3_0,
                         "translator-credits", _("translator-credits"),
                         NULL);
}

static const GActionEntry app_actions[] = {
  { "quit", quit_activated, NULL, NULL, NULL },
  { "about", about_activated, NULL, NULL, NULL },
};

static void
imzala_application_startup (GApplication *application)
{
  ImzalaApplication *self = IMZALA_APPLICATION (application);
  const char *quit_accels[] = { "<Control>q", NULL };

  G_APPLICATION_CLASS (imzala_application_parent_class)->startup (application);

  g_action_map_add_action_entries (G_ACTION_MAP (self), app_actions,
                                   G_N_ELEMENTS (app_actions), self);
  gtk_application_set_accels_for_action (GTK_APPLICATION (self), "app.quit", quit_accels);

  self->gsettings = g_settings_new (IMZALA_SETTINGS_SCHEMA);
  self->settings = imzala_settings_new (self->gsettings);
  imzala_application_create_token_list (self);
  self->reader_monitor = imzala_reader_monitor_new ();
  /* Without a window that paints (none is opened, or it never shows), the
   * card work starts anyway. */
  self->card_work_timeout_id = g_timeout_add_seconds (1, card_work_timeout_cb, self);
}

static void
imzala_application_shutdown (GApplication *application)
{
  ImzalaApplication *self = IMZALA_APPLICATION (application);

  g_cancellable_cancel (self->cancellable);
  g_clear_handle_id (&self->card_work_timeout_id, g_source_remove);
  /* Quit before the card work started: the refreshes that waited end
   * (empty), as after a cancelled load. */
  if (!self->card_work_started && self->token_list != NULL)
    {
      self->card_work_started = TRUE;
      imzala_token_list_release (self->token_list);
    }
  if (self->reader_monitor != NULL)
    imzala_reader_monitor_stop (self->reader_monitor);

  /* C_Finalize on every module's thread and the threads joined before
   * main() returns: a module still initialised at exit crashes in its exit
   * handlers (SoftHSM does), whoever holds the last reference. */
  imzala_module_close_all ();
  /* The monitor's PC/SC thread, woken by stop(): one still inside
   * libpcsclite when the process exits crashes it. */
  imzala_reader_monitor_wait_for_threads (2000);

  G_APPLICATION_CLASS (imzala_application_parent_class)->shutdown (application);
}

static void
imzala_application_activate (GApplication *application)
{
  imzala_application_present_request (IMZALA_APPLICATION (application), NULL, NULL);
}

/* A signature file (and the signed file after it) opened from the file
 * manager goes to İmza Doğrula. */
static void
imzala_application_present_signature (ImzalaApplication *self,
                                      GFile             *signature,
                                      GFile             *content)
{
  ImzalaWindow *window = imzala_application_get_window (self);

  imzala_window_open_signature (window, signature, content);
  gtk_window_present (GTK_WINDOW (window));
}

static gboolean
is_signature_file (GFile *file)
{
  g_autofree char *name = g_file_get_basename (file);

  return imzala_verify_page_is_signature_name (name);
}

static void
imzala_application_open (GApplication  *application,
                         GFile        **files,
                         int            n_files,
                         const char    *hint)
{
  ImzalaApplication *self = IMZALA_APPLICATION (application);

  if (n_files > 0 && is_signature_file (files[0]))
    {
      imzala_application_present_signature (self, files[0], n_files > 1 ? files[1] : NULL);
      return;
    }
  for (int i = 0; i < n_files; i++)
    {
      g_autofree char *uri = g_file_get_uri (files[i]);
      g_autofree char *portal = NULL;
      g_autofree char *code = NULL;

      if (imzala_application_parse_uri (uri, &portal, &code))
        imzala_application_present_request (self, portal, code);
      else
        g_warning ("Not an imzala: link: %s", uri);
    }
  if (n_files == 0)
    imzala_application_activate (application);
}

static int
imzala_application_handle_local_options (GApplication *application,
                                         GVariantDict *options)
{
  if (g_variant_dict_contains (options, "version"))
    {
      g_print ("imzala %s\n", PACKAGE_VERSION);
      return 0;
    }
  return -1;
}

/* Runs in the primary instance, also for a second launch: its arguments come
 * here over D-Bus, so a new code goes to the window that is already open. */
static int
imzala_application_command_line (GApplication            *application,
                                 GApplicationCommandLine *command_line)
{
  ImzalaApplication *self = IMZALA_APPLICATION (application);
  GVariantDict *options = g_application_command_line_get_options_dict (command_line);
  g_autofree char *portal = NULL;
  g_autofree char *code = NULL;
  g_autofree const char **remaining = NULL;

  g_variant_dict_lookup (options, "portal", "s", &portal);
  g_variant_dict_lookup (options, "code", "s", &code);
  g_variant_dict_lookup (options, G_OPTION_REMAINING, "^a&s", &remaining);

  /* `imzala signature.p7s [signed-file]`, as the desktop file's MimeType
   * makes the file manager call it. */
  if (remaining != NULL && remaining[0] != NULL && !g_str_has_prefix (remaining[0], "imzala:"))
    {
      g_autoptr(GFile) signature = g_application_command_line_create_file_for_arg (command_line,
                                                                                  remaining[0]);
      g_autoptr(GFile) content = remaining[1] != NULL
        ? g_application_command_line_create_file_for_arg (command_line, remaining[1]) : NULL;

      if (is_signature_file (signature))
        {
          imzala_application_present_signature (self, signature, content);
          return 0;
        }
    }

  for (guint i = 0; remaining != NULL && remaining[i] != NULL; i++)
    {
      g_autofree char *uri_portal = NULL;
      g_autofree char *uri_code = NULL;

      if (!imzala_application_parse_uri (remaining[i], &uri_portal, &uri_code))
        {
          g_application_command_line_printerr (command_line,
                                               _("Not an imzala: link: %s\n"),
                                               remaining[i]);
          return 1;
        }
      if (uri_portal != NULL)
        {
          g_free (portal);
          portal = g_steal_pointer (&uri_portal);
        }
      if (uri_code != NULL)
        {
          g_free (code);
          code = g_steal_pointer (&uri_code);
        }
    }

  imzala_application_present_request (self, portal, code);
  return 0;
}

static void
imzala_application_dispose (GObject *object)
{
  ImzalaApplication *self = IMZALA_APPLICATION (object);

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  g_clear_object (&self->token_list);
  g_clear_object (&self->module_set);
  g_clear_error (&self->module_error);
  g_clear_object (&self->reader_monitor);
  g_clear_object (&self->settings);
  g_clear_object (&self->gsettings);

  G_OBJECT_CLASS (imzala_application_parent_class)->dispose (object);
}

static void
imzala_application_class_init (ImzalaApplicationClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GApplicationClass *app_class = G_APPLICATION_CLASS (klass);

  object_class->dispose = imzala_application_dispose;

  app_class->startup = imzala_application_startup;
  app_class->shutdown = imzala_application_shutdown;
  app_class->activate = imzala_application_activate;
  app_class->open = imzala_application_open;
  app_class->handle_local_options = imzala_application_handle_local_options;
  app_class->command_line = imzala_application_command_line;
}

static void
imzala_application_init (ImzalaApplication *self)
{
  self->cancellable = g_cancellable_new ();

  g_application_add_main_option_entries (G_APPLICATION (self), option_entries);
  g_application_set_option_context_parameter_string (G_APPLICATION (self),
                                                     _("[imzala:?portal=URL&code=CODE]"));
}

ImzalaApplication *
imzala_application_new (void)
{
  return g_object_new (IMZALA_TYPE_APPLICATION,
                       "application-id", APPLICATION_ID,
                       "flags", G_APPLICATION_HANDLES_COMMAND_LINE | G_APPLICATION_HANDLES_OPEN,
                       "resource-base-path", "/io/github/imzala/Imzala",
                       NULL);
}
