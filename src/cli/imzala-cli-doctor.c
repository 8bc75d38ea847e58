#define G_LOG_DOMAIN "imzala-cli"

#include "config.h"

#include <glib/gi18n-lib.h>

#include "imzala-cli.h"

typedef struct
{
  GMainLoop *loop;
  GError    *error;
} Wait;

static void
gathered_cb (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  Wait *wait = user_data;

  imzala_doctor_gather_finish (IMZALA_DOCTOR (source), result, &wait->error);
  g_main_loop_quit (wait->loop);
}

int
imzala_cli_doctor (int argc, char **argv)
{
  ImzalaCliModuleOptions module_options = { NULL, FALSE };
  gboolean json = FALSE;
  g_autofree char *portal_url = NULL;
  g_autofree char *portal_ca = NULL;
  const GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print JSON instead of text"), NULL },
    { "portal", 0, 0, G_OPTION_ARG_STRING, &portal_url,
      N_("Compare this computer’s clock with the portal at URL"), N_("URL") },
    { "portal-ca", 0, 0, G_OPTION_ARG_FILENAME, &portal_ca,
      N_("Also trust this CA certificate (PEM or DER) for the portal"), N_("FILE") },
    { NULL }
  };
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(ImzalaModuleSet) set = NULL;
  g_autoptr(ImzalaTokenList) token_list = NULL;
  g_autoptr(ImzalaReaderMonitor) monitor = NULL;
  g_autoptr(ImzalaPortalClient) portal = NULL;
  g_autoptr(ImzalaDoctor) doctor = NULL;
  g_autoptr(GMainContext) main_context = NULL;
  g_autoptr(GMainLoop) loop = NULL;
  g_autoptr(GError) modules_error = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *report = NULL;
  Wait wait = { NULL, NULL };

  context = imzala_cli_option_context_new ("doctor", NULL,
                                           _("Prints a support report: the system, the smart card service, "
                                             "the readers, the PKCS#11 modules, the cards and their "
                                             "certificates, and advice for each problem found. It asks "
                                             "for no PIN and masks names and T.C. kimlik numbers."));
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  imzala_cli_add_module_options (context, &module_options);
  if (!imzala_cli_parse_options (context, "doctor", &argc, &argv))
    {
      imzala_cli_module_options_clear (&module_options);
      return IMZALA_CLI_EXIT_USAGE;
    }
  if (argc > 1)
    {
      imzala_cli_usage_error ("doctor", _("“doctor” takes no file arguments."));
      imzala_cli_module_options_clear (&module_options);
      return IMZALA_CLI_EXIT_USAGE;
    }
  if (portal_ca != NULL && portal_url == NULL)
    {
      imzala_cli_usage_error ("doctor", _("--portal-ca needs --portal."));
      imzala_cli_module_options_clear (&module_options);
      return IMZALA_CLI_EXIT_USAGE;
    }

  /* Everything below, also the monitor's signals and the portal client's
   * session, runs on this context. */
  main_context = g_main_context_new ();
  g_main_context_push_thread_default (main_context);
  loop = g_main_loop_new (main_context, FALSE);

  /* The portal's address is checked first: a wrong one is the caller's
   * mistake, not a fact of the report. */
  if (portal_url != NULL)
    {
      portal = imzala_portal_client_new (portal_url, portal_ca, &error);
      if (portal == NULL)
        {
          imzala_cli_module_options_clear (&module_options);
          g_main_context_pop_thread_default (main_context);
          return imzala_cli_report_error (error);
        }
    }

  /* A module set that loads nothing is a fact of the report. */
  set = imzala_cli_module_set_new (&module_options);
  imzala_cli_module_options_clear (&module_options);
  if (imzala_module_set_load (set, NULL, &modules_error))
    token_list = imzala_token_list_new (set);

  monitor = imzala_reader_monitor_new ();
  imzala_reader_monitor_start (monitor);

  doctor = imzala_doctor_new ();
  wait.loop = loop;
  imzala_doctor_gather_async (doctor, set, modules_error, token_list, monitor, portal, NULL,
                              gathered_cb, &wait);
  g_main_loop_run (loop);
  imzala_reader_monitor_stop (monitor);

  if (wait.error != NULL)
    {
      int status = imzala_cli_report_error (wait.error);

      g_clear_error (&wait.error);
      g_clear_object (&portal);
      g_main_context_pop_thread_default (main_context);
      return status;
    }

  report = json ? imzala_doctor_render_json (doctor) : imzala_doctor_render_text (doctor);
  g_print ("%s", report);
  if (json)
    g_print ("\n");

  g_clear_object (&token_list);
  g_clear_object (&doctor);
  g_clear_object (&portal);
  g_main_context_pop_thread_default (main_context);
  return IMZALA_CLI_EXIT_OK;
}
