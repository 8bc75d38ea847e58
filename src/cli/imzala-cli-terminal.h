/* imzala-cli-terminal.h: asking for a PIN or PUK on the terminal, and
 * progress on standard error while a large file is read.
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

/* Makes every g_print() and g_printerr() of the process go through
 * imzala_text_escape_unshown() (escape sequences, carriage returns, bidi
 * overrides and invalid UTF-8 written as escapes), line by line: no
 * string printed anywhere can move the cursor or rewrite a line. The line
 * feeds stay, since the handler cannot tell ours from a string's: every
 * string from a portal or a card that imzala-cli prints is escaped where
 * it is printed as well, with the same function, which escapes its line
 * feeds too (the texts to sign are not: imzala-portal-answer.c refuses
 * them unless they are displayable). main() calls it first; the PIN
 * prompts and imzala_cli_terminal_say(), which write to the terminal
 * itself, escape what they write too. */
void          imzala_cli_terminal_filter_output (void);

/* Prints @message on the terminal (for "enter the PIN on the reader"), or
 * on stderr when there is no terminal. */
void          imzala_cli_terminal_say         (const char *message);

/* An ImzalaToken::pin-pad-prompt handler (on the module's thread): says the
 * message like imzala_cli_terminal_say(). */
void          imzala_cli_pin_pad_prompt_cb    (ImzalaToken *token,
                                               const char  *message,
                                               gpointer     user_data);

/* ---- Progress on standard error (sign, verify) ----
 *
 * While a large file is read: on a terminal one line rewritten in place,
 * else (--progress) a line every 10 % ("Computing the digest… 40%"), or,
 * when the size is not known, every 16 MiB. Standard output is never
 * touched. */
typedef enum
{
  IMZALA_CLI_PROGRESS_DIGEST,  /* sign: the content is hashed */
  IMZALA_CLI_PROGRESS_WRITE,   /* sign: the attached signature is written */
  IMZALA_CLI_PROGRESS_VERIFY,  /* verify: the content is hashed */
} ImzalaCliProgressPhase;

/* From this size on a terminal shows progress without --progress. */
#define IMZALA_CLI_PROGRESS_MIN_SIZE (G_GUINT64_CONSTANT (16) * 1024 * 1024)

typedef struct
{
  gboolean               enabled;
  gboolean               terminal;   /* standard error is one */
  gboolean               automatic;  /* enabled by the terminal, not --progress */
  ImzalaCliProgressPhase phase;
  int                    last_percent;
  guint64                last_done;
  gboolean               shown;
} ImzalaCliProgress;

/* Enabled by --progress (@requested), or on a terminal for content of
 * IMZALA_CLI_PROGRESS_MIN_SIZE or more (or of a size not known yet: then a
 * total told later that is smaller shows nothing). */
void imzala_cli_progress_init  (ImzalaCliProgress      *self,
                                gboolean                requested,
                                gboolean                size_known,
                                guint64                 size);
void imzala_cli_progress_start (ImzalaCliProgress      *self,
                                ImzalaCliProgressPhase  phase);
/* An ImzalaCmsProgressFunc / ImzalaVerifierProgressFunc; @user_data is the
 * ImzalaCliProgress. */
void imzala_cli_progress_cb    (guint64                 done,
                                guint64                 total,
                                gpointer                user_data);
/* Ends the line written in place, so that what follows starts fresh. */
void imzala_cli_progress_end   (ImzalaCliProgress      *self);

G_END_DECLS
