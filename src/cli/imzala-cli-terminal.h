/* imzala-cli-terminal.h: asking for a PIN or PUK on the terminal.
 *
 * The secret is read from /dev/tty (not stdin, which may carry the content to
 * sign) with echo off, one byte at a time straight into an ImzalaSecret, so
 * no stdio or line buffer of ours ever holds it. The terminal settings are
 * restored on every path, including Ctrl-C (SIGINT), SIGTERM and SIGHUP,
 * which end the read with G_IO_ERROR_CANCELLED.
 */
#pragma once

#include <gio/gio.h>

#include "imzala-secret.h"
#include "imzala-token.h"

G_BEGIN_DECLS

/* Prints @prompt on the terminal and reads one line without echo. Errors:
 * IMZALA_ERROR_FAILED (no terminal), IMZALA_ERROR_PIN_LEN_RANGE (longer than
 * IMZALA_SECRET_MAX_LENGTH), G_IO_ERROR_CANCELLED (Ctrl-C or Ctrl-D). */
ImzalaSecret *imzala_cli_terminal_read_secret (const char  *prompt,
                                               GError     **error);

/* @text made safe to print on a terminal: every character that is not
 * shown as itself is written as an escape instead (\x1b, \u202e): C0
 * and C1 controls and DEL (escape sequences, carriage returns, line
 * feeds), and Unicode format, line and paragraph separator characters
 * (Cf, Zl, Zp: bidi overrides and marks, U+200B, U+FEFF, U+2028), so that
 * a portal's string cannot rewrite, hide or add a line. Invalid UTF-8
 * bytes are escaped as \xNN. Every string from a portal or a card that
 * imzala-cli prints goes through it; the texts to sign are not, they are
 * refused by imzala-portal-answer.c unless they are displayable. */
char         *imzala_cli_terminal_filter      (const char *text);

/* Prints @message on the terminal (for "enter the PIN on the reader"), or
 * on stderr when there is no terminal. */
void          imzala_cli_terminal_say         (const char *message);

/* An ImzalaToken::pin-pad-prompt handler (on the module's thread): says the
 * message like imzala_cli_terminal_say(). */
void          imzala_cli_pin_pad_prompt_cb    (ImzalaToken *token,
                                               const char  *message,
                                               gpointer     user_data);

G_END_DECLS
