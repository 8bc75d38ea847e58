/* imzala-cli.h: what the commands of imzala-cli share.
 *
 * main() in imzala-cli.c dispatches to one function per command; each parses
 * its own options with a GOptionContext made by imzala_cli_option_context_new()
 * (which documents the exit codes in --help), and ends with an exit code from
 * ImzalaCliExit. Errors are printed as "imzala-cli: <GError message>".
 */
#pragma once

#include <gio/gio.h>

#include "imzala-core.h"

G_BEGIN_DECLS

/* The documented exit codes. Scripts rely on them: never renumber. */
typedef enum
{
  IMZALA_CLI_EXIT_OK        = 0,
  IMZALA_CLI_EXIT_USAGE     = 1,  /* bad command line */
  IMZALA_CLI_EXIT_NOT_FOUND = 2,  /* no module, token or usable certificate */
  IMZALA_CLI_EXIT_PIN       = 3,  /* PIN or PUK wrong, locked or not acceptable */
  IMZALA_CLI_EXIT_VERIFY    = 4,  /* a signature did not verify */
  IMZALA_CLI_EXIT_PORTAL    = 5,  /* portal or network */
  IMZALA_CLI_EXIT_CANCELLED = 6,
  IMZALA_CLI_EXIT_CONTENT   = 7,  /* the content to sign is too large */
  IMZALA_CLI_EXIT_FAILED    = 10, /* anything else */
} ImzalaCliExit;

/* --module PATH (repeatable) and --no-registered, for every command that
 * opens tokens. */
typedef struct
{
  char   **module_paths;
  gboolean no_registered;
  /* Not an option: a command that makes every card call on the main
   * thread sets it (imzala_module_set_set_single_thread()). */
  gboolean single_thread;
} ImzalaCliModuleOptions;

/* Commands. @argv[0] is the command name. */
int imzala_cli_list        (int argc, char **argv);
int imzala_cli_sign        (int argc, char **argv);
int imzala_cli_verify      (int argc, char **argv);
int imzala_cli_change_pin  (int argc, char **argv);
int imzala_cli_unblock_pin (int argc, char **argv);
int imzala_cli_doctor      (int argc, char **argv);

/* Errors and exit codes. */
int  imzala_cli_exit_code_for_error (const GError *error);
/* Prints "imzala-cli: <message>" on stderr and returns the exit code. */
int  imzala_cli_report_error        (const GError *error);
/* Prints "imzala-cli: <message>" on stderr as one line: the whole message
 * goes through imzala_text_escape_unshown(), so its line feeds show as
 * escapes too. */
void imzala_cli_printerr            (const char *format, ...) G_GNUC_PRINTF (1, 2);

/* A GOptionContext for @command whose --help names the command, uses the
 * project's translations and lists the exit codes. */
GOptionContext *imzala_cli_option_context_new (const char *command,
                                               const char *parameter_string,
                                               const char *summary);
/* Parses; on a usage error prints it with a hint to --help and returns
 * FALSE (the caller exits with IMZALA_CLI_EXIT_USAGE). */
gboolean imzala_cli_parse_options (GOptionContext *context,
                                   const char     *command,
                                   int            *argc,
                                   char         ***argv);
void     imzala_cli_usage_error   (const char *command,
                                   const char *format,
                                   ...) G_GNUC_PRINTF (2, 3);

void imzala_cli_add_module_options   (GOptionContext *context, ImzalaCliModuleOptions *options);
void imzala_cli_module_options_clear (ImzalaCliModuleOptions *options);

/* A module set configured by the options, not loaded yet. */
ImzalaModuleSet *imzala_cli_module_set_new (ImzalaCliModuleOptions *options);

/* Loads the modules the options name. With @report_load_errors each module
 * that failed is reported on stderr (the others are still used). Fails only
 * when no module at all could be loaded. */
ImzalaModuleSet *imzala_cli_load_modules (ImzalaCliModuleOptions *options,
                                          gboolean                report_load_errors,
                                          GCancellable           *cancellable,
                                          GError                **error);

/* "PIN OK", "few tries left", "final try", "PIN locked" (translated). */
const char *imzala_cli_pin_state_text (ImzalaPinState state);

/* A secret from @fd when it is >= 0, else from the terminal with @prompt. */
ImzalaSecret *imzala_cli_read_secret (int          fd,
                                      const char  *prompt,
                                      GError     **error);
/* Says on the terminal when the PIN of @token has only a few tries left or
 * this is the final one (a locked PIN is for the caller to refuse: each
 * command advises its own way out). */
void          imzala_cli_warn_pin_tries (ImzalaToken *token);
/* The PIN to log in with, as imzala_cli_read_secret(); an empty one is
 * refused (IMZALA_ERROR_PIN_LEN_RANGE). */
ImzalaSecret *imzala_cli_read_pin     (int          fd,
                                       const char  *prompt,
                                       GError     **error);
/* Logs in to @token, whose certificates are shown after the PIN
 * (imzala_token_needs_login_to_list()), and keeps the session for a
 * signature (imzala_token_login()): the PIN from @fd (one line) or the
 * terminal, or on the reader's keypad. @pin_out (nullable) gets the PIN,
 * NULL on a pin-pad. The caller ends the session with
 * imzala_token_logout(). */
gboolean      imzala_cli_log_in         (ImzalaToken   *token,
                                         int            fd,
                                         ImzalaSecret **pin_out,
                                         GError       **error);
/* A new PIN for @token: once from @fd when it is >= 0, else twice on the
 * terminal (IMZALA_ERROR_PIN_MISMATCH when the two differ). The card's
 * length rules are for the caller to check. */
ImzalaSecret *imzala_cli_read_new_pin (ImzalaToken *token,
                                       int          fd,
                                       GError     **error);

/* Why @tokens (as listed; nullable) hold no card the user can use, or a
 * card in a reader that no module shows (imzala-cli-cause.c): asks pcscd
 * for the readers (waiting a few seconds at most) and returns
 * imzala_card_cause_find()'s cause as an error, or NULL when there is
 * nothing to explain. */
GError  *imzala_cli_explain_tokens (GPtrArray *tokens);

/* Reads a whole file, or standard input for NULL or "-". */
GBytes  *imzala_cli_read_input   (const char *path, GError **error);
/* Writes @data to @path atomically, or to standard output for NULL or "-". */
gboolean imzala_cli_write_output (const char *path, GBytes *data, GError **error);

G_END_DECLS
