#define G_LOG_DOMAIN "imzala-cli"

#include "config.h"

#include <string.h>
#include <glib/gi18n-lib.h>
#include <p11-kit/pkcs11.h>
#include <p11-kit/uri.h>

#include "imzala-cli.h"
#include "imzala-cli-terminal.h"

G_DEFINE_AUTOPTR_CLEANUP_FUNC (P11KitUri, p11_kit_uri_free)

static void
pad_field (unsigned char *field, gsize size, const char *value)
{
  gsize length = value != NULL ? strlen (value) : 0;

  memset (field, ' ', size);
  memcpy (field, value != NULL ? value : "", MIN (length, size));
}

/* A token selector is a label, a serial number or a PKCS#11 URI; the URI is
 * matched by p11-kit on the token attributes it names, so "pkcs11:token=X"
 * and the full URI that `imzala-cli list` prints both work. */
static gboolean
token_matches (ImzalaToken *token, const char *selector, GError **error)
{
  g_autoptr(P11KitUri) uri = NULL;
  CK_TOKEN_INFO info;
  int status;

  if (!g_str_has_prefix (selector, "pkcs11:"))
    return g_strcmp0 (imzala_token_get_label (token), selector) == 0
      || g_strcmp0 (imzala_token_get_serial (token), selector) == 0;

  uri = p11_kit_uri_new ();
  status = p11_kit_uri_parse (selector, P11_KIT_URI_FOR_TOKEN, uri);
  if (status != P11_KIT_URI_OK)
    {
      g_debug ("p11_kit_uri_parse: %s", p11_kit_uri_message (status));
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   _("“%s” is not a PKCS#11 URI that names a token."), selector);
      return FALSE;
    }

  memset (&info, 0, sizeof info);
  pad_field (info.label, sizeof info.label, imzala_token_get_label (token));
  pad_field (info.manufacturerID, sizeof info.manufacturerID, imzala_token_get_manufacturer (token));
  pad_field (info.model, sizeof info.model, imzala_token_get_model (token));
  pad_field (info.serialNumber, sizeof info.serialNumber, imzala_token_get_serial (token));
  return p11_kit_uri_match_token_info (uri, &info) == 1;
}

static void
print_tokens (GPtrArray *tokens)
{
  g_printerr ("%s\n", _("These tokens are present; choose one with --token:"));
  for (guint i = 0; i < tokens->len; i++)
    {
      ImzalaToken *token = g_ptr_array_index (tokens, i);
      g_autofree char *label = imzala_text_escape_unshown (imzala_token_get_label (token));
      g_autofree char *serial = imzala_text_escape_unshown (imzala_token_get_serial (token));
      g_autofree char *reader = imzala_text_escape_unshown (imzala_token_get_slot_description (token));

      g_printerr (_("  “%s” (serial %s) in %s\n"), label, serial, reader);
    }
}

static ImzalaToken *
find_token (GPtrArray *tokens, const char *selector, GError **error)
{
  ImzalaToken *found = NULL;
  guint matches = 0;

  if (tokens->len == 0)
    {
      g_set_error (error, IMZALA_ERROR, IMZALA_ERROR_NO_TOKEN,
                   _("No token was found. Is the card in the reader?"));
      return NULL;
    }

  if (selector == NULL)
    {
      if (tokens->len == 1)
        return g_ptr_array_index (tokens, 0);
      g_set_error (error, IMZALA_ERROR, IMZALA_ERROR_SEVERAL_TOKENS,
                   _("There are %u tokens; say which one with --token."), tokens->len);
      return NULL;
    }

  for (guint i = 0; i < tokens->len; i++)
    {
      ImzalaToken *token = g_ptr_array_index (tokens, i);
      GError *local_error = NULL;

      if (token_matches (token, selector, &local_error))
        {
          found = token;
          matches++;
        }
      else if (local_error != NULL)
        {
          g_propagate_error (error, local_error);
          return NULL;
        }
    }

  if (matches == 0)
    {
      g_set_error (error, IMZALA_ERROR, IMZALA_ERROR_NO_TOKEN,
                   _("No token matches “%s”."), selector);
      return NULL;
    }
  if (matches > 1)
    {
      g_set_error (error, IMZALA_ERROR, IMZALA_ERROR_SEVERAL_TOKENS,
                   _("%u tokens match “%s”; give the serial number or the full URI."),
                   matches, selector);
      return NULL;
    }
  return found;
}

/* The new PIN, checked against the card's length limits, so that a PIN the
 * card would refuse never reaches it. */
static ImzalaSecret *
read_new_pin (ImzalaToken *token, int fd, GError **error)
{
  g_autoptr(ImzalaSecret) first = NULL;
  guint min_length;
  guint max_length;
  gsize length;

  imzala_token_get_pin_length_range (token, &min_length, &max_length);

  first = imzala_cli_read_new_pin (token, fd, error);
  if (first == NULL)
    return NULL;

  length = imzala_secret_get_length (first);
  if (length == 0 || (min_length > 0 && length < min_length)
      || (max_length > 0 && length > max_length))
    {
      if (max_length > 0 && max_length >= min_length)
        g_set_error (error, IMZALA_ERROR, IMZALA_ERROR_PIN_LEN_RANGE,
                     _("The new PIN must be %u to %u characters long; the PIN was not changed."),
                     MAX (min_length, 1), max_length);
      else
        g_set_error (error, IMZALA_ERROR, IMZALA_ERROR_PIN_LEN_RANGE,
                     _("The new PIN must be at least %u characters long; the PIN was not changed."),
                     MAX (min_length, 1));
      return NULL;
    }
  return g_steal_pointer (&first);
}

typedef enum
{
  PIN_COMMAND_CHANGE,
  PIN_COMMAND_UNBLOCK,
} PinCommand;

static int
run_pin_command (PinCommand command, int argc, char **argv)
{
  const char *name = command == PIN_COMMAND_CHANGE ? "change-pin" : "unblock-pin";
  ImzalaCliModuleOptions module_options = { NULL, FALSE };
  g_autofree char *token_selector = NULL;
  int old_fd = -1;
  int new_fd = -1;
  gboolean last_try = FALSE;
  const GOptionEntry change_entries[] = {
    { "token", 't', 0, G_OPTION_ARG_STRING, &token_selector,
      N_("The token: its label, serial number or PKCS#11 URI (default: the only token)"), N_("TOKEN") },
    { "pin-fd", 0, 0, G_OPTION_ARG_INT, &old_fd,
      N_("Read the current PIN from file descriptor N (one line)"), N_("N") },
    { "new-pin-fd", 0, 0, G_OPTION_ARG_INT, &new_fd,
      N_("Read the new PIN from file descriptor N (one line, asked once)"), N_("N") },
    { NULL }
  };
  const GOptionEntry unblock_entries[] = {
    { "token", 't', 0, G_OPTION_ARG_STRING, &token_selector,
      N_("The token: its label, serial number or PKCS#11 URI (default: the only token)"), N_("TOKEN") },
    { "puk-fd", 0, 0, G_OPTION_ARG_INT, &old_fd,
      N_("Read the PUK from file descriptor N (one line)"), N_("N") },
    { "new-pin-fd", 0, 0, G_OPTION_ARG_INT, &new_fd,
      N_("Read the new PIN from file descriptor N (one line, asked once)"), N_("N") },
    { "last-try", 0, 0, G_OPTION_ARG_NONE, &last_try,
      N_("Use the card's last PUK try (a wrong PUK then locks the card for good)"), NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(ImzalaModuleSet) set = NULL;
  g_autoptr(GPtrArray) tokens = NULL;
  g_autoptr(ImzalaSecret) old_secret = NULL;
  g_autoptr(ImzalaSecret) new_pin = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *prompt = NULL;
  ImzalaToken *token;
  ImzalaPinState state;
  gulong prompt_id = 0;
  gboolean ok;

  if (command == PIN_COMMAND_CHANGE)
    {
      context = imzala_cli_option_context_new (name, NULL,
                                               _("Changes the PIN of a token. The current PIN and the new one (twice) "
                                                 "are asked on the terminal without echo, or read from --pin-fd and --new-pin-fd."));
      g_option_context_add_main_entries (context, change_entries, GETTEXT_PACKAGE);
    }
  else
    {
      context = imzala_cli_option_context_new (name, NULL,
                                               _("Unblocks the PIN of a token with the PUK and sets a new PIN. The PUK and "
                                                 "the new PIN (twice) are asked on the terminal without echo, or read from "
                                                 "--puk-fd and --new-pin-fd."));
      g_option_context_add_main_entries (context, unblock_entries, GETTEXT_PACKAGE);
    }
  imzala_cli_add_module_options (context, &module_options);
  if (!imzala_cli_parse_options (context, name, &argc, &argv))
    {
      imzala_cli_module_options_clear (&module_options);
      return IMZALA_CLI_EXIT_USAGE;
    }
  if (argc > 1)
    {
      imzala_cli_usage_error (name, _("“%s” takes no file arguments."), name);
      imzala_cli_module_options_clear (&module_options);
      return IMZALA_CLI_EXIT_USAGE;
    }

  /* The PIN commands make blocking card calls on this thread, and start no
   * thread for the modules; a keypad prompt is printed by the handler of
   * the signal the token emits on this thread. Ctrl-C ends the process, as
   * it did when the calls were made on the modules' threads. */
  module_options.single_thread = TRUE;
  set = imzala_cli_load_modules (&module_options, TRUE, NULL, &error);
  imzala_cli_module_options_clear (&module_options);
  if (set == NULL)
    return imzala_cli_report_error (error);

  tokens = imzala_module_set_list_tokens (set, NULL, &error);
  if (tokens == NULL)
    return imzala_cli_report_error (error);

  token = find_token (tokens, token_selector, &error);
  if (token == NULL)
    {
      int status = imzala_cli_report_error (error);

      if (error->domain == IMZALA_ERROR && tokens->len > 1)
        print_tokens (tokens);
      return status;
    }

  state = imzala_token_get_pin_state (token);

  if (imzala_token_has_pin_pad (token))
    {
      /* The reader asks for every PIN itself. */
      if (old_fd >= 0 || new_fd >= 0)
        imzala_cli_printerr (_("This token takes PINs on the reader's keypad; the file descriptor options are not used."));
      /* No PIN is read here: each entry on the reader ("Enter the PUK on
       * the reader.", ...) is said as the card asks for it. */
      prompt_id = g_signal_connect (token, "pin-pad-prompt", G_CALLBACK (imzala_cli_pin_pad_prompt_cb), NULL);
    }
  else if (command == PIN_COMMAND_CHANGE)
    {
      if (state & IMZALA_PIN_STATE_LOCKED)
        {
          g_set_error (&error, IMZALA_ERROR, IMZALA_ERROR_PIN_LOCKED,
                       _("The PIN of “%s” is locked. Unblock it with “imzala-cli unblock-pin” and the PUK."),
                       imzala_token_get_label (token));
          return imzala_cli_report_error (error);
        }
      imzala_cli_warn_pin_tries (token);
      prompt = g_strdup_printf (_("Current PIN of “%s”: "), imzala_token_get_label (token));
    }
  else
    {
      if (state & IMZALA_PIN_STATE_PUK_LOCKED)
        {
          g_set_error (&error, IMZALA_ERROR, IMZALA_ERROR_PUK_LOCKED,
                       _("The PUK of “%s” is locked; the card cannot be unblocked with it any more."),
                       imzala_token_get_label (token));
          return imzala_cli_report_error (error);
        }
      if (state & IMZALA_PIN_STATE_PUK_FINAL_TRY)
        {
          imzala_cli_terminal_say (_("Warning: this is the final try; a wrong PUK locks the card for good."));
          if (!last_try)
            {
              g_set_error_literal (&error, IMZALA_ERROR, IMZALA_ERROR_PUK_FINAL_TRY,
                                   _("Only one PUK try is left on the card, so İmzala did not use it. "
                                     "Run the command again with --last-try to use it."));
              return imzala_cli_report_error (error);
            }
        }
      else if (state & IMZALA_PIN_STATE_PUK_COUNT_LOW)
        imzala_cli_terminal_say (_("Warning: only a few PUK tries are left."));
      prompt = g_strdup_printf (_("PUK of “%s”: "), imzala_token_get_label (token));
    }

  /* The current PIN or the PUK, then the new PIN (the reader asks for
   * both itself). */
  if (prompt != NULL)
    {
      old_secret = imzala_cli_read_secret (old_fd, prompt, &error);
      if (old_secret == NULL)
        return imzala_cli_report_error (error);
      new_pin = read_new_pin (token, new_fd, &error);
      if (new_pin == NULL)
        return imzala_cli_report_error (error);
    }

  if (command == PIN_COMMAND_CHANGE)
    ok = imzala_token_change_pin (token, old_secret, new_pin, NULL, &error);
  else
    ok = imzala_token_unblock_pin (token, old_secret, new_pin, NULL, &error);
  g_clear_signal_handler (&prompt_id, token);
  g_clear_pointer (&old_secret, imzala_secret_unref);
  g_clear_pointer (&new_pin, imzala_secret_unref);
  if (!ok)
    return imzala_cli_report_error (error);

  {
    g_autofree char *label = imzala_text_escape_unshown (imzala_token_get_label (token));

    if (command == PIN_COMMAND_CHANGE)
      g_print (_("The PIN of “%s” was changed.\n"), label);
    else
      g_print (_("The PIN of “%s” was unblocked and set to the new PIN.\n"), label);
  }
  return IMZALA_CLI_EXIT_OK;
}

int
imzala_cli_change_pin (int argc, char **argv)
{
  return run_pin_command (PIN_COMMAND_CHANGE, argc, argv);
}

int
imzala_cli_unblock_pin (int argc, char **argv)
{
  return run_pin_command (PIN_COMMAND_UNBLOCK, argc, argv);
}
