#define G_LOG_DOMAIN "imzala-cli"

#include "config.h"

#include <locale.h>
#include <stdio.h>
#include <unistd.h>
#include <gio/gunixinputstream.h>
#include <stdlib.h>
#include <glib/gi18n-lib.h>

#include "imzala-cli.h"
#include "imzala-cli-portal.h"
#include "imzala-cli-terminal.h"
#include "imzala-http-session.h"

typedef struct
{
  const char *name;
  int (*run) (int argc, char **argv);
  const char *summary; /* N_() */
} ImzalaCliCommand;

static const ImzalaCliCommand commands[] = {
  { "list", imzala_cli_list, N_("List modules, tokens and certificates") },
  { "sign", imzala_cli_sign, N_("Sign a file with a certificate on a token (CAdES-BES CMS)") },
  { "verify", imzala_cli_verify, N_("Verify a CMS signature file") },
  { "change-pin", imzala_cli_change_pin, N_("Change the PIN of a token") },
  { "unblock-pin", imzala_cli_unblock_pin, N_("Unblock the PIN of a token with the PUK") },
  { "portal", imzala_cli_portal, N_("Sign a portal request given its verification code") },
  { "doctor", imzala_cli_doctor, N_("Print a support report with advice (no PIN, masked names)") },
};

static const char *
exit_codes_text (void)
{
  return _("Exit status:\n"
           "  0   success\n"
           "  1   usage error (unknown command or option, missing argument)\n"
           "  2   no module, token or certificate, or none that can be used\n"
           "  3   PIN or PUK incorrect, locked or not acceptable\n"
           "  4   the signature did not verify\n"
           "  5   portal or network error\n"
           "  6   cancelled\n"
           "  7   the content to sign is too large\n"
           "  10  any other error\n");
}

void
imzala_cli_printerr (const char *format, ...)
{
  g_autofree char *message = NULL;
  g_autofree char *safe = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  /* One message is one line: a card's label, a holder's name or a
   * portal's sentence in it shows its line feeds as escapes too (no msgid
   * printed here has one of its own). */
  safe = imzala_text_escape_unshown (message);
  g_printerr ("imzala-cli: %s\n", safe);
}

int
imzala_cli_exit_code_for_error (const GError *error)
{
  if (error == NULL)
    return IMZALA_CLI_EXIT_OK;

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return IMZALA_CLI_EXIT_CANCELLED;
  if (error->domain == G_OPTION_ERROR)
    return IMZALA_CLI_EXIT_USAGE;
  if (error->domain != IMZALA_ERROR)
    return IMZALA_CLI_EXIT_FAILED;

  switch ((ImzalaError) error->code)
    {
    case IMZALA_ERROR_NO_MODULE:
    case IMZALA_ERROR_MODULE_LOAD:
    case IMZALA_ERROR_NO_TOKEN:
    case IMZALA_ERROR_TOKEN_REMOVED:
    case IMZALA_ERROR_NO_CERTIFICATE:
    case IMZALA_ERROR_AMBIGUOUS_CERTIFICATE:
    case IMZALA_ERROR_SEVERAL_TOKENS:
    case IMZALA_ERROR_NO_PRIVATE_KEY:
    case IMZALA_ERROR_UNSUPPORTED_KEY:
    case IMZALA_ERROR_PCSC_UNAVAILABLE:
    case IMZALA_ERROR_TOKEN_NOT_RECOGNIZED:
      return IMZALA_CLI_EXIT_NOT_FOUND;

    case IMZALA_ERROR_PIN_INCORRECT:
    case IMZALA_ERROR_PIN_LOCKED:
    case IMZALA_ERROR_PIN_EXPIRED:
    case IMZALA_ERROR_PIN_NOT_INITIALIZED:
    case IMZALA_ERROR_PIN_REQUIRED:
    case IMZALA_ERROR_PIN_LEN_RANGE:
    case IMZALA_ERROR_PIN_INVALID:
    case IMZALA_ERROR_PIN_MISMATCH:
    case IMZALA_ERROR_PUK_INCORRECT:
    case IMZALA_ERROR_PUK_LOCKED:
    case IMZALA_ERROR_PUK_REQUIRED:
    case IMZALA_ERROR_PIN_PAD_TIMEOUT:
    case IMZALA_ERROR_PIN_NOT_LOCKED:
    case IMZALA_ERROR_PUK_FINAL_TRY:
      return IMZALA_CLI_EXIT_PIN;

    case IMZALA_ERROR_CMS_INVALID:
    case IMZALA_ERROR_SIGNATURE_INVALID:
    case IMZALA_ERROR_CONTENT_MISMATCH:
    case IMZALA_ERROR_UNTRUSTED:
    case IMZALA_ERROR_CERTIFICATE_EXPIRED:
    case IMZALA_ERROR_SIGNING_CERTIFICATE_MISMATCH:
    case IMZALA_ERROR_CERTIFICATE_REVOKED:
    case IMZALA_ERROR_STATUS_UNKNOWN:
      return IMZALA_CLI_EXIT_VERIFY;

    case IMZALA_ERROR_CODE_FORMAT:
    case IMZALA_ERROR_CODE_UNKNOWN:
    case IMZALA_ERROR_CODE_EXPIRED:
    case IMZALA_ERROR_CODE_USED:
    case IMZALA_ERROR_SIGNER_MISMATCH:
    case IMZALA_ERROR_RATE_LIMITED:
    case IMZALA_ERROR_PORTAL_REJECTED:
    case IMZALA_ERROR_INSECURE_URL:
    case IMZALA_ERROR_NETWORK:
    case IMZALA_ERROR_TLS:
    case IMZALA_ERROR_PROTOCOL:
    case IMZALA_ERROR_TOO_LARGE:
    case IMZALA_ERROR_TIMESTAMP:
      return IMZALA_CLI_EXIT_PORTAL;

    case IMZALA_ERROR_CONTENT_TOO_LARGE:
      return IMZALA_CLI_EXIT_CONTENT;

    case IMZALA_ERROR_FAILED:
    case IMZALA_ERROR_MODULE_FAILURE:
    case IMZALA_ERROR_CERTIFICATE_INVALID:
    default:
      return IMZALA_CLI_EXIT_FAILED;
    }
}

int
imzala_cli_report_error (const GError *error)
{
  g_return_val_if_fail (error != NULL, IMZALA_CLI_EXIT_FAILED);

  /* The message may be the portal's own sentence, or name a card:
   * imzala_cli_printerr() filters it. */
  imzala_cli_printerr ("%s", error->message);
  return imzala_cli_exit_code_for_error (error);
}

GOptionContext *
imzala_cli_option_context_new (const char *command,
                               const char *parameter_string,
                               const char *summary)
{
  g_autofree char *parameters = NULL;
  GOptionContext *context;

  /* GOption prints "Usage: <prgname> [OPTION…] <parameters>"; putting the
   * command into the parameters keeps "imzala-cli" as the program name. */
  parameters = parameter_string != NULL
    ? g_strdup_printf ("%s %s", command, parameter_string)
    : g_strdup (command);
  context = g_option_context_new (parameters);
  g_option_context_set_translation_domain (context, GETTEXT_PACKAGE);
  g_option_context_set_summary (context, summary);
  g_option_context_set_description (context, exit_codes_text ());
  return context;
}

void
imzala_cli_usage_error (const char *command, const char *format, ...)
{
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  imzala_cli_printerr ("%s", message);
  if (command != NULL)
    g_printerr (_("Try “imzala-cli %s --help” for more information.\n"), command);
  else
    g_printerr (_("Try “imzala-cli --help” for more information.\n"));
}

gboolean
imzala_cli_parse_options (GOptionContext *context,
                          const char     *command,
                          int            *argc,
                          char         ***argv)
{
  g_autoptr(GError) error = NULL;

  if (!g_option_context_parse (context, argc, argv, &error))
    {
      imzala_cli_usage_error (command, "%s", error->message);
      return FALSE;
    }
  return TRUE;
}

void
imzala_cli_add_module_options (GOptionContext *context, ImzalaCliModuleOptions *options)
{
  const GOptionEntry entries[] = {
    { "module", 'm', 0, G_OPTION_ARG_FILENAME_ARRAY, &options->module_paths,
      N_("Also load the PKCS#11 module at PATH (repeatable)"), N_("PATH") },
    { "no-registered", 0, 0, G_OPTION_ARG_NONE, &options->no_registered,
      N_("Do not load the modules registered with p11-kit"), NULL },
    { NULL }
  };

  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
}

void
imzala_cli_module_options_clear (ImzalaCliModuleOptions *options)
{
  g_clear_pointer (&options->module_paths, g_strfreev);
}

ImzalaModuleSet *
imzala_cli_module_set_new (ImzalaCliModuleOptions *options)
{
  ImzalaModuleSet *set = imzala_module_set_new ();

  imzala_module_set_set_use_registered (set, !options->no_registered);
  imzala_module_set_set_single_thread (set, options->single_thread);
  for (guint i = 0; options->module_paths != NULL && options->module_paths[i] != NULL; i++)
    imzala_module_set_add_module_path (set, options->module_paths[i]);
  return set;
}

ImzalaModuleSet *
imzala_cli_load_modules (ImzalaCliModuleOptions *options,
                         gboolean                report_load_errors,
                         GCancellable           *cancellable,
                         GError                **error)
{
  g_autoptr(ImzalaModuleSet) set = imzala_cli_module_set_new (options);
  gboolean loaded;

  loaded = imzala_module_set_load (set, cancellable, error);

  if (report_load_errors)
    {
      GPtrArray *load_errors = imzala_module_set_get_load_errors (set);

      for (guint i = 0; load_errors != NULL && i < load_errors->len; i++)
        {
          ImzalaModuleLoadError *e = g_ptr_array_index (load_errors, i);

          imzala_cli_printerr ("%s", e->error->message);
        }
    }

  if (!loaded)
    return NULL;
  return g_steal_pointer (&set);
}

const char *
imzala_cli_pin_state_text (ImzalaPinState state)
{
  if (state & IMZALA_PIN_STATE_LOCKED)
    return _("PIN locked");
  if (state & IMZALA_PIN_STATE_FINAL_TRY)
    return _("final try");
  if (state & IMZALA_PIN_STATE_COUNT_LOW)
    return _("few tries left");
  if (state & IMZALA_PIN_STATE_TO_BE_CHANGED)
    return _("PIN must be changed");
  return _("PIN OK");
}

ImzalaSecret *
imzala_cli_read_secret (int fd, const char *prompt, GError **error)
{
  if (fd >= 0)
    return imzala_secret_read_fd (fd, error);
  return imzala_cli_terminal_read_secret (prompt, error);
}

void
imzala_cli_warn_pin_tries (ImzalaToken *token)
{
  ImzalaPinState state = imzala_token_get_pin_state (token);

  if (state & IMZALA_PIN_STATE_FINAL_TRY)
    imzala_cli_terminal_say (_("Warning: this is the final try; a wrong PIN locks the card."));
  else if (state & IMZALA_PIN_STATE_COUNT_LOW)
    imzala_cli_terminal_say (_("Warning: only a few PIN tries are left."));
}

ImzalaSecret *
imzala_cli_read_pin (int fd, const char *prompt, GError **error)
{
  g_autoptr(ImzalaSecret) pin = imzala_cli_read_secret (fd, prompt, error);

  if (pin == NULL)
    return NULL;
  if (imzala_secret_get_length (pin) == 0)
    {
      g_set_error_literal (error, IMZALA_ERROR, IMZALA_ERROR_PIN_REQUIRED, _("No PIN was given."));
      return NULL;
    }
  return g_steal_pointer (&pin);
}

gboolean
imzala_cli_log_in (ImzalaToken   *token,
                   int            fd,
                   ImzalaSecret **pin_out,
                   GError       **error)
{
  g_autoptr(ImzalaSecret) pin = NULL;

  if (imzala_token_get_pin_state (token) & IMZALA_PIN_STATE_LOCKED)
    {
      g_set_error (error, IMZALA_ERROR, IMZALA_ERROR_PIN_LOCKED,
                   _("The PIN of “%s” is locked. Unblock it with “imzala-cli unblock-pin” and the PUK."),
                   imzala_token_get_label (token));
      return FALSE;
    }

  imzala_cli_warn_pin_tries (token);
  if (imzala_token_has_pin_pad (token))
    imzala_cli_terminal_say (_("Enter the PIN on the reader."));
  else
    {
      g_autofree char *prompt = g_strdup_printf (_("PIN of “%s” to show its certificates: "),
                                                 imzala_token_get_label (token));

      pin = imzala_cli_read_pin (fd, prompt, error);
      if (pin == NULL)
        return FALSE;
    }

  if (!imzala_token_login (token, pin, NULL, error))
    return FALSE;
  if (pin_out != NULL)
    *pin_out = g_steal_pointer (&pin);
  return TRUE;
}

ImzalaSecret *
imzala_cli_read_new_pin (ImzalaToken *token, int fd, GError **error)
{
  g_autoptr(ImzalaSecret) first = NULL;
  g_autoptr(ImzalaSecret) second = NULL;
  g_autofree char *prompt = NULL;

  prompt = g_strdup_printf (_("New PIN for “%s”: "), imzala_token_get_label (token));
  first = imzala_cli_read_secret (fd, prompt, error);
  if (first == NULL)
    return NULL;
  if (fd >= 0)
    return g_steal_pointer (&first);

  second = imzala_cli_terminal_read_secret (_("New PIN again: "), error);
  if (second == NULL)
    return NULL;
  if (!imzala_secret_equal (first, second))
    {
      g_set_error_literal (error, IMZALA_ERROR, IMZALA_ERROR_PIN_MISMATCH,
                           _("The two new PINs are not the same; the PIN was not changed."));
      return NULL;
    }
  return g_steal_pointer (&first);
}

GBytes *
imzala_cli_read_input (const char *path, GError **error)
{
  g_autoptr(GInputStream) input = NULL;
  g_autoptr(GOutputStream) memory = NULL;
  char *data = NULL;
  gsize length = 0;

  if (path != NULL && !g_str_equal (path, "-"))
    {
      if (!g_file_get_contents (path, &data, &length, error))
        return NULL;
      return g_bytes_new_take (data, length);
    }

  input = g_unix_input_stream_new (STDIN_FILENO, FALSE);
  memory = g_memory_output_stream_new_resizable ();
  if (g_output_stream_splice (memory, input,
                              G_OUTPUT_STREAM_SPLICE_CLOSE_TARGET,
                              NULL, error) < 0)
    return NULL;
  return g_memory_output_stream_steal_as_bytes (G_MEMORY_OUTPUT_STREAM (memory));
}

gboolean
imzala_cli_write_output (const char *path, GBytes *data, GError **error)
{
  gsize length = 0;
  const char *bytes = g_bytes_get_data (data, &length);

  /* Written to a temporary file that is renamed over @path, so @path never
   * holds half a signature; flushed to the disk first only when it
   * replaces a file (a crash then leaves the old file or the new one): an
   * fsync() of a new file costs more than the whole signature (issue 12). */
  if (path != NULL && !g_str_equal (path, "-"))
    return g_file_set_contents_full (path, bytes, (gssize) length,
                                     G_FILE_SET_CONTENTS_CONSISTENT
                                     | G_FILE_SET_CONTENTS_ONLY_EXISTING, 0644, error);

  if (fwrite (bytes, 1, length, stdout) != length || fflush (stdout) != 0)
    {
      g_set_error (error, IMZALA_ERROR, IMZALA_ERROR_FAILED,
                   _("The signature could not be written to standard output."));
      return FALSE;
    }
  return TRUE;
}

static void
print_usage (FILE *stream)
{
  g_autoptr(GString) text = g_string_new (NULL);

  g_string_append_printf (text, _("Usage:\n  %s COMMAND [OPTION…]\n\n"), "imzala-cli");
  g_string_append (text, _("Sign with Turkish e-signature (NES) smart cards and check signatures.\n\n"));
  g_string_append (text, _("Commands:\n"));
  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    g_string_append_printf (text, "  %-13s %s\n", commands[i].name, _(commands[i].summary));
  g_string_append (text, "\n");
  g_string_append (text, _("“imzala-cli COMMAND --help” shows the options of a command.\n\n"));
  g_string_append (text, exit_codes_text ());
  fputs (text->str, stream);
}

int
main (int argc, char **argv)
{
  /* Before anything can hold a PIN. */
  imzala_secret_harden_process ();
  /* Before any thread and any connection: TLS 1.2 and 1.3 only. */
  imzala_http_init_tls_policy (IMZALA_HTTP_TLS_PRIORITY);

  setlocale (LC_ALL, "");
  /* IMZALA_LOCALEDIR lets a build tree run in Turkish before it is installed
   * (<builddir>/po holds tr/LC_MESSAGES/imzala.mo); tests and tools/screenshots
   * set it. */
  bindtextdomain (GETTEXT_PACKAGE, g_getenv ("IMZALA_LOCALEDIR") ? g_getenv ("IMZALA_LOCALEDIR") : LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);
  g_set_prgname ("imzala-cli");
  imzala_cli_terminal_filter_output ();

  if (argc < 2)
    {
      print_usage (stderr);
      return IMZALA_CLI_EXIT_USAGE;
    }

  if (g_str_equal (argv[1], "--help") || g_str_equal (argv[1], "-h")
      || g_str_equal (argv[1], "help") || g_str_equal (argv[1], "-?"))
    {
      /* "imzala-cli help sign" is the same as "imzala-cli sign --help". */
      if (g_str_equal (argv[1], "help") && argc > 2)
        {
          for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
            if (g_str_equal (argv[2], commands[i].name))
              {
                char *help_argv[] = { argv[2], (char *) "--help", NULL };
                return commands[i].run (2, help_argv);
              }
        }
      print_usage (stdout);
      return IMZALA_CLI_EXIT_OK;
    }

  if (g_str_equal (argv[1], "--version"))
    {
      g_print ("imzala-cli %s\n", PACKAGE_VERSION);
      return IMZALA_CLI_EXIT_OK;
    }

  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    if (g_str_equal (argv[1], commands[i].name))
      {
        int status = commands[i].run (argc - 1, argv + 1);

        /* The PC/SC threads of the monitors that explained "no card" or
         * made the report: SCardCancel woke them, they end at once unless
         * pcscd hangs, and one still in libpcsclite at exit crashes it.
         * Waited for before the modules are finalized, so that a command
         * that makes its card calls on its main thread (list, sign) makes
         * C_Finalize there with no other thread either. */
        imzala_reader_monitor_wait_for_threads (2000);
        /* C_Finalize on every module's thread, and the threads joined,
         * before exit(): a module still initialised at exit crashes in its
         * exit handlers (SoftHSM does), and a reference to a module that an
         * operation drops late must find it already closed. */
        imzala_module_close_all ();
        return status;
      }

  imzala_cli_usage_error (NULL, _("“%s” is not a command."), argv[1]);
  return IMZALA_CLI_EXIT_USAGE;
}
