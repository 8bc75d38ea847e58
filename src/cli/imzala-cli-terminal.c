#define G_LOG_DOMAIN "imzala-cli"

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>
#include <glib/gi18n-lib.h>

#include "imzala-error.h"
#include "imzala-text.h"
#include "imzala-cli-terminal.h"

/* The terminal state the signal handler must put back. A handler can only see
 * globals; only one read is ever in progress, so one set suffices. */
static volatile sig_atomic_t interrupted_by;
static volatile sig_atomic_t tty_fd_to_restore = -1;
static struct termios saved_termios;

static const int caught_signals[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };

static void
restore_on_signal (int signo)
{
  /* tcsetattr() is async-signal-safe, so the echo comes back even if the
   * process dies right after this handler. */
  if (tty_fd_to_restore >= 0)
    tcsetattr (tty_fd_to_restore, TCSAFLUSH, &saved_termios);
  interrupted_by = signo;
}

static int
open_tty (void)
{
  return open ("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
}

static void
write_all (int fd, const char *text)
{
  gsize left = strlen (text);

  while (left > 0)
    {
      ssize_t n = write (fd, text, left);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return;
      text += n;
      left -= (gsize) n;
    }
}

/* GLib's own handler with imzala_text_escape_unshown() on each line: the
 * lines stay lines, and the text goes to the console's charset as GLib
 * writes it ("?" for what that charset lacks). */
static void
print_filtered (FILE       *stream,
                const char *text)
{
  g_autoptr(GString) safe = g_string_new (NULL);
  const char *charset;
  const char *line = text;

  for (;;)
    {
      const char *end = strchr (line, '\n');
      g_autofree char *part = g_strndup (line, end != NULL ? (gsize) (end - line) : strlen (line));
      g_autofree char *filtered = imzala_text_escape_unshown (part);

      g_string_append (safe, filtered);
      if (end == NULL)
        break;
      g_string_append_c (safe, '\n');
      line = end + 1;
    }
  if (g_get_console_charset (&charset))
    fputs (safe->str, stream);
  else
    {
      g_autofree char *converted = g_convert_with_fallback (safe->str, -1, charset, "UTF-8", "?",
                                                           NULL, NULL, NULL);

      fputs (converted != NULL ? converted : safe->str, stream);
    }
  fflush (stream);
}

static void
print_stdout (const char *text)
{
  print_filtered (stdout, text);
}

static void
print_stderr (const char *text)
{
  print_filtered (stderr, text);
}

void
imzala_cli_terminal_filter_output (void)
{
  g_set_print_handler (print_stdout);
  g_set_printerr_handler (print_stderr);
}

void
imzala_cli_pin_pad_prompt_cb (ImzalaToken *token,
                              const char  *message,
                              gpointer     user_data)
{
  /* On the thread that makes the card call (the module's own, or the main
   * thread for a command that starts none): writing a line is all it does. */
  imzala_cli_terminal_say (message);
}

void
imzala_cli_terminal_say (const char *message)
{
  g_autofree char *safe = imzala_text_escape_unshown (message);
  int fd = open_tty ();

  if (fd < 0)
    {
      g_printerr ("%s\n", safe);
      return;
    }
  write_all (fd, safe);
  write_all (fd, "\n");
  close (fd);
}

ImzalaSecret *
imzala_cli_terminal_read_secret (const char *prompt, GError **error)
{
  g_autoptr(ImzalaSecret) secret = NULL;
  struct sigaction old_actions[G_N_ELEMENTS (caught_signals)];
  struct sigaction action;
  struct termios raw;
  gboolean done = FALSE;
  gboolean too_long = FALSE;
  gboolean end_of_input = FALSE;
  int read_errno = 0;
  int fd;

  fd = open_tty ();
  if (fd < 0)
    {
      g_set_error (error, IMZALA_ERROR, IMZALA_ERROR_FAILED,
                   _("There is no terminal to ask for the PIN on; pass it with a --pin-fd option instead."));
      return NULL;
    }

  if (tcgetattr (fd, &saved_termios) != 0)
    {
      int saved = errno;
      close (fd);
      g_debug ("tcgetattr on /dev/tty: %s", g_strerror (saved));
      g_set_error (error, IMZALA_ERROR, IMZALA_ERROR_FAILED,
                   _("The terminal cannot hide what is typed, so the PIN is not asked there; pass it with a --pin-fd option instead."));
      return NULL;
    }

  /* The handlers go in before echo goes off, so there is no moment where a
   * signal could leave the terminal silent. No SA_RESTART: read() must come
   * back with EINTR so that the loop below sees the interruption. */
  interrupted_by = 0;
  tty_fd_to_restore = fd;
  memset (&action, 0, sizeof action);
  action.sa_handler = restore_on_signal;
  sigemptyset (&action.sa_mask);
  for (gsize i = 0; i < G_N_ELEMENTS (caught_signals); i++)
    sigaction (caught_signals[i], &action, &old_actions[i]);

  /* Non-canonical mode: the kernel's line buffer does not collect the PIN,
   * and we do the small editing (backspace, Ctrl-U) on the secret itself.
   * ISIG stays on so that Ctrl-C still raises SIGINT; suspend is disabled
   * because a stopped process would leave the terminal without echo. */
  raw = saved_termios;
  raw.c_lflag &= ~(ECHO | ECHOE | ECHOK | ECHONL | ICANON | IEXTEN);
  raw.c_cc[VMIN] = 1;
  raw.c_cc[VTIME] = 0;
#ifdef _POSIX_VDISABLE
  raw.c_cc[VSUSP] = _POSIX_VDISABLE;
#endif
  tcsetattr (fd, TCSAFLUSH, &raw);

  /* The prompt names a card, which names itself. */
  {
    g_autofree char *safe_prompt = imzala_text_escape_unshown (prompt);

    write_all (fd, safe_prompt);
  }

  secret = imzala_secret_new ();
  while (!done && interrupted_by == 0)
    {
      char c = 0;
      ssize_t n = read (fd, &c, 1);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          read_errno = errno;
          break;
        }
      if (n == 0)
        {
          end_of_input = TRUE;
          break;
        }

      switch (c)
        {
        case '\r':
        case '\n':
          done = TRUE;
          break;

        case 0x7f: /* DEL, what the backspace key sends */
        case 0x08: /* ^H */
          imzala_secret_backspace (secret);
          break;

        case 0x15: /* ^U: start again */
          imzala_secret_clear (secret);
          break;

        case 0x04: /* ^D */
          if (imzala_secret_get_length (secret) == 0)
            end_of_input = TRUE;
          done = TRUE;
          break;

        default:
          if ((guchar) c < 0x20)
            break;
          if (!imzala_secret_append (secret, &c, 1))
            {
              too_long = TRUE;
              done = TRUE;
            }
          break;
        }
      c = 0;
    }

  /* TCSAFLUSH also drops anything typed after Enter, which could be the
   * rest of a too-long PIN. */
  tcsetattr (fd, TCSAFLUSH, &saved_termios);
  tty_fd_to_restore = -1;
  for (gsize i = 0; i < G_N_ELEMENTS (caught_signals); i++)
    sigaction (caught_signals[i], &old_actions[i], NULL);
  write_all (fd, "\n");
  close (fd);

  if (interrupted_by != 0 || end_of_input)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED, _("Cancelled."));
      return NULL;
    }
  if (read_errno != 0)
    {
      g_debug ("read on /dev/tty: %s", g_strerror (read_errno));
      g_set_error (error, IMZALA_ERROR, IMZALA_ERROR_FAILED,
                   _("The PIN could not be read from the terminal."));
      return NULL;
    }
  if (too_long)
    {
      g_set_error (error, IMZALA_ERROR, IMZALA_ERROR_PIN_LEN_RANGE,
                   _("The PIN is longer than %d characters."), IMZALA_SECRET_MAX_LENGTH);
      return NULL;
    }

  return g_steal_pointer (&secret);
}

/* ---- Progress on standard error ---- */

/* Without a known size, a report every so many bytes. */
#define PROGRESS_STEP (G_GUINT64_CONSTANT (16) * 1024 * 1024)

void
imzala_cli_progress_init (ImzalaCliProgress *self,
                          gboolean           requested,
                          gboolean           size_known,
                          guint64            size)
{
  memset (self, 0, sizeof *self);
  self->terminal = isatty (STDERR_FILENO);
  self->automatic = !requested && self->terminal
                    && (!size_known || size >= IMZALA_CLI_PROGRESS_MIN_SIZE);
  self->enabled = requested || self->automatic;
  imzala_cli_progress_start (self, IMZALA_CLI_PROGRESS_DIGEST);
}

void
imzala_cli_progress_start (ImzalaCliProgress      *self,
                           ImzalaCliProgressPhase  phase)
{
  self->phase = phase;
  self->last_percent = -1;
  self->last_done = 0;
  self->shown = FALSE;
}

static char *
percent_text (ImzalaCliProgressPhase phase, int percent)
{
  switch (phase)
    {
    case IMZALA_CLI_PROGRESS_DIGEST:
      /* TRANSLATORS: shown while a large file is read; Turkish writes the
       * percent sign first ("%%%d"). */
      return g_strdup_printf (_("Computing the digest… %d%%"), percent);
    case IMZALA_CLI_PROGRESS_WRITE:
      /* TRANSLATORS: shown while a large file is read; Turkish writes the
       * percent sign first ("%%%d"). */
      return g_strdup_printf (_("Writing the signature… %d%%"), percent);
    case IMZALA_CLI_PROGRESS_VERIFY:
    default:
      /* TRANSLATORS: shown while the signed content is hashed; Turkish
       * writes the percent sign first ("%%%d"). */
      return g_strdup_printf (_("Checking the signature… %d%%"), percent);
    }
}

static char *
size_text (ImzalaCliProgressPhase phase, const char *size)
{
  switch (phase)
    {
    case IMZALA_CLI_PROGRESS_DIGEST:
      /* TRANSLATORS: %s is an amount read so far, e.g. "48.2 MB". */
      return g_strdup_printf (_("Computing the digest… %s"), size);
    case IMZALA_CLI_PROGRESS_WRITE:
      /* TRANSLATORS: %s is an amount read so far, e.g. "48.2 MB". */
      return g_strdup_printf (_("Writing the signature… %s"), size);
    case IMZALA_CLI_PROGRESS_VERIFY:
    default:
      /* TRANSLATORS: %s is an amount of the signed content hashed so far,
       * e.g. "48.2 MB". */
      return g_strdup_printf (_("Checking the signature… %s"), size);
    }
}

void
imzala_cli_progress_cb (guint64  done,
                        guint64  total,
                        gpointer user_data)
{
  ImzalaCliProgress *self = user_data;
  g_autofree char *text = NULL;

  if (!self->enabled)
    return;
  if (total > 0)
    {
      int percent = (int) MIN (done * 100 / total, 100);

      /* Shown for a size not known at the start, which turns out small. */
      if (self->automatic && total < IMZALA_CLI_PROGRESS_MIN_SIZE)
        return;
      if (percent == self->last_percent
          || (!self->terminal && self->last_percent >= 0 && percent / 10 == self->last_percent / 10))
        return;
      self->last_percent = percent;
      text = percent_text (self->phase, percent);
    }
  else
    {
      g_autofree char *size = NULL;

      if (done - self->last_done < PROGRESS_STEP)
        return;
      self->last_done = done;
      size = g_format_size (done);
      text = size_text (self->phase, size);
    }
  if (self->terminal)
    {
      /* The line's own carriage return, past the print handler's filter
       * (imzala_cli_terminal_filter_output()), which would show it as
       * "\x0d". */
      fputc ('\r', stderr);
      g_printerr ("%s", text);
    }
  else
    g_printerr ("%s\n", text);
  self->shown = TRUE;
}

void
imzala_cli_progress_end (ImzalaCliProgress *self)
{
  if (self->terminal && self->shown)
    g_printerr ("\n");
  self->shown = FALSE;
}
