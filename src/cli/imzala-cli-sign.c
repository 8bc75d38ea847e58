#define G_LOG_DOMAIN "imzala-cli"

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <glib-unix.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>

#include "imzala-cli.h"
#include "imzala-cli-terminal.h"

/* The signature, and the time-stamp's wait when one is asked for. */
typedef struct
{
  GMainLoop    *loop;
  GBytes       *cms;
  GError       *error;
} SignRun;

/* ---- The content, read as a stream (issue 12) ----
 *
 * A file is never read into memory: it is hashed in one pass before the PIN
 * is asked, and for an attached signature copied into the output in a
 * second pass (imzala_cms_write_attached_with()). Only attached content from
 * a pipe, which cannot be read twice, is held in memory, up to
 * IMZALA_CMS_MAX_CONTENT_SIZE. The content is read and the signature
 * written with read() and write(), not GIO streams: `sign` then never loads
 * GIO (src/cli/imzala-cli-lazy.h). */
typedef struct
{
  int           fd;         /* the file's (rewound for the second pass when
                             * its size is known), or standard input's */
  gboolean      own_fd;     /* a file's, closed at the end */
  GBytes       *memory;     /* content from a pipe, held for two passes */
  gsize         offset;     /* read so far from @memory */
  guint64       size;
  gboolean      size_known;
} SignContent;

static void
sign_content_clear (SignContent *content)
{
  if (content->own_fd && content->fd >= 0)
    close (content->fd);
  content->fd = -1;
  g_clear_pointer (&content->memory, g_bytes_unref);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (SignContent, sign_content_clear)

static gssize
read_fd (int      fd,
         guint8  *buffer,
         gsize    size,
         GError **error)
{
  for (;;)
    {
      ssize_t count = read (fd, buffer, size);

      if (count >= 0)
        return count;
      if (errno != EINTR)
        {
          int saved = errno;

          g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved),
                       _("The content cannot be read: %s"), g_strerror (saved));
          return -1;
        }
    }
}

/* ImzalaCmsReadFunc over the content. */
static gssize
read_content (gpointer   user_data,
              guint8    *buffer,
              gsize      size,
              GError   **error)
{
  SignContent *content = user_data;
  gsize total;
  const guint8 *data;

  if (content->memory == NULL)
    return read_fd (content->fd, buffer, size, error);
  data = g_bytes_get_data (content->memory, &total);
  size = MIN (size, total - content->offset);
  if (size > 0)
    memcpy (buffer, data + content->offset, size);
  content->offset += size;
  return (gssize) size;
}

/* Opens the content and checks its size, before any module is loaded or a
 * PIN asked for. */
static gboolean
open_content (const char  *path,
              gboolean     detached,
              SignContent *content,
              GError     **error)
{
  /* A plain open() rather than a GFile: a GFile asks GIO for its
   * default VFS, which loads every GIO module (the TLS backend with GnuTLS
   * and its libraries among them), a cost on every signature for nothing
   * a local path needs (issue 12). */
  if (path != NULL && !g_str_equal (path, "-"))
    {
      struct stat info;
      int fd = g_open (path, O_RDONLY | O_CLOEXEC, 0);

      if (fd < 0 || fstat (fd, &info) != 0)
        {
          int saved = errno;

          if (fd >= 0)
            close (fd);
          g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved),
                       _("“%s” cannot be read: %s"), path, g_strerror (saved));
          return FALSE;
        }
      if (S_ISDIR (info.st_mode))
        {
          close (fd);
          g_set_error (error, IMZALA_ERROR, IMZALA_ERROR_FAILED,
                       _("“%s” is a folder, not a file."), path);
          return FALSE;
        }
      content->fd = fd;
      content->own_fd = TRUE;
      /* A named pipe or a device has no size and cannot be read twice. */
      if (S_ISREG (info.st_mode) && lseek (fd, 0, SEEK_CUR) >= 0)
        {
          content->size = (guint64) info.st_size;
          content->size_known = TRUE;
        }
    }
  else
    content->fd = STDIN_FILENO;

  if (detached)
    return TRUE;

  if (content->size_known)
    {
      if (content->size > IMZALA_CMS_MAX_ATTACHED_SIZE)
        {
          g_set_error (error, IMZALA_ERROR, IMZALA_ERROR_CONTENT_TOO_LARGE,
                       _("The file is too large for a signature that contains it (at most %s); sign it with --detached."),
                       "2 GiB");
          return FALSE;
        }
      return TRUE;
    }

  /* Attached content from a pipe is read twice (hashed, then written), so
   * it is held in memory, up to the limit for content in memory. */
  {
    g_autoptr(GByteArray) memory = g_byte_array_new ();
    g_autofree guint8 *buffer = g_malloc (64 * 1024);

    for (;;)
      {
        gssize count = read_fd (content->fd, buffer, 64 * 1024, error);

        if (count < 0)
          return FALSE;
        if (count == 0)
          break;
        if (memory->len + (guint64) count > IMZALA_CMS_MAX_CONTENT_SIZE)
          {
            g_set_error (error, IMZALA_ERROR, IMZALA_ERROR_CONTENT_TOO_LARGE,
                         _("The content from standard input is too large for a signature that contains it (at most %s); sign a file, or use --detached."),
                         "64 MiB");
            return FALSE;
          }
        g_byte_array_append (memory, buffer, (guint) count);
      }
    content->size = memory->len;
    content->size_known = TRUE;
    content->memory = g_byte_array_free_to_bytes (g_steal_pointer (&memory));
    content->offset = 0;
  }
  return TRUE;
}

/* The file being written while an attached signature is copied out; a
 * Ctrl-C then removes it (unlink() and _exit() are async-signal-safe), so
 * that no half-written file is left next to --out. */
static char attached_temporary[4096];

static void
attached_interrupt_handler (int signal_number)
{
  if (attached_temporary[0] != '\0')
    unlink (attached_temporary);
  _exit (IMZALA_CLI_EXIT_CANCELLED);
}

/* The error for a signature file that could not be written (errno @saved). */
static void
set_write_error (GError     **error,
                 const char  *path,
                 int          saved)
{
  g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved),
               _("The signature could not be written to “%s”: %s"), path, g_strerror (saved));
}

/* Where the attached signature goes (ImzalaCmsWriteFunc). */
typedef struct
{
  int         fd;
  const char *path;   /* NULL: standard output */
} SignOutput;

static gboolean
output_write (gpointer       user_data,
              const guint8  *buffer,
              gsize          size,
              GError       **error)
{
  SignOutput *output = user_data;

  while (size > 0)
    {
      ssize_t count = write (output->fd, buffer, size);

      if (count < 0 && errno == EINTR)
        continue;
      if (count <= 0)
        {
          int saved = count < 0 ? errno : ENOSPC;

          if (output->path == NULL)
            g_set_error_literal (error, IMZALA_ERROR, IMZALA_ERROR_FAILED,
                                 _("The signature could not be written to standard output."));
          else
            set_write_error (error, output->path, saved);
          return FALSE;
        }
      buffer += count;
      size -= (gsize) count;
    }
  return TRUE;
}

/* The attached signature: the content copied a second time into a file
 * next to @out_path that replaces it only when everything went well, or
 * into standard output. */
static gboolean
write_attached (const char         *out_path,
                GBytes             *detached_cms,
                SignContent        *content,
                GBytes             *content_digest,
                ImzalaDigest        digest,
                ImzalaCliProgress  *progress,
                GError            **error)
{
  g_autofree char *temporary = NULL;
  SignOutput output = { STDOUT_FILENO, NULL };
  struct sigaction interrupt_action = { 0 };
  struct sigaction old_int, old_term;
  gboolean ok;
  gboolean replacing = FALSE;

  /* Rewound for the second pass: the file itself, or the copy in memory. */
  if (content->memory != NULL)
    content->offset = 0;
  else if (lseek (content->fd, 0, SEEK_SET) != 0)
    {
      int saved = errno;

      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved),
                   _("The content cannot be read a second time: %s"), g_strerror (saved));
      return FALSE;
    }

  if (out_path != NULL && !g_str_equal (out_path, "-"))
    {
      GStatBuf existing;

      /* As the detached one is written (imzala_cli_write_output(),
       * G_FILE_SET_CONTENTS_CONSISTENT | G_FILE_SET_CONTENTS_ONLY_EXISTING):
       * the new file is flushed to the disk before it replaces a file that
       * has content, so that a crash leaves the old one or the new one,
       * never an empty one. A new file is not flushed: it replaces nothing,
       * and an fsync() costs more than the whole signature (6 to 25 ms on
       * the benchmark machine's disk, issue 12). */
      replacing = g_lstat (out_path, &existing) == 0 && existing.st_size > 0;
      temporary = g_strdup_printf ("%s.XXXXXX", out_path);
      output.fd = g_mkstemp_full (temporary, O_WRONLY | O_CLOEXEC, 0644);
      output.path = out_path;
      if (output.fd < 0)
        {
          set_write_error (error, out_path, errno);
          return FALSE;
        }
      /* As g_file_set_contents_full() makes the detached one. */
      fchmod (output.fd, 0644);
      g_strlcpy (attached_temporary, temporary, sizeof attached_temporary);
    }

  interrupt_action.sa_handler = attached_interrupt_handler;
  sigemptyset (&interrupt_action.sa_mask);
  sigaction (SIGINT, &interrupt_action, &old_int);
  sigaction (SIGTERM, &interrupt_action, &old_term);
  imzala_cli_progress_start (progress, IMZALA_CLI_PROGRESS_WRITE);
  ok = imzala_cms_write_attached_with (detached_cms, read_content, content, content->size,
                                       content_digest, digest, output_write, &output,
                                       imzala_cli_progress_cb, progress, error);
  imzala_cli_progress_end (progress);
  if (ok && replacing && fsync (output.fd) != 0)
    {
      set_write_error (error, out_path, errno);
      ok = FALSE;
    }
  if (temporary != NULL)
    {
      if (close (output.fd) != 0 && ok)
        {
          set_write_error (error, out_path, errno);
          ok = FALSE;
        }
      attached_temporary[0] = '\0';
      if (ok && g_rename (temporary, out_path) != 0)
        {
          set_write_error (error, out_path, errno);
          ok = FALSE;
        }
      /* Nothing half-written is left behind. */
      if (!ok)
        g_unlink (temporary);
    }
  sigaction (SIGINT, &old_int, NULL);
  sigaction (SIGTERM, &old_term, NULL);
  attached_temporary[0] = '\0';
  return ok;
}

static void
print_candidates (GPtrArray *tokens, gboolean recommended_only)
{
  gboolean any = FALSE;

  for (guint t = 0; t < tokens->len; t++)
    {
      ImzalaToken *token = g_ptr_array_index (tokens, t);
      GPtrArray *certificates = imzala_token_get_certificates (token);

      for (guint c = 0; certificates != NULL && c < certificates->len; c++)
        {
          ImzalaCertificate *certificate = g_ptr_array_index (certificates, c);
          const char *tckn = imzala_certificate_get_tckn (certificate);
          g_autofree char *holder = NULL;
          g_autofree char *label = NULL;

          if (imzala_certificate_is_ca (certificate))
            continue;
          if (recommended_only && !imzala_certificate_is_recommended (certificate))
            continue;

          /* What the card says, line feeds escaped too (as `list`). */
          holder = imzala_text_escape_unshown (imzala_certificate_get_holder_name (certificate));
          label = imzala_text_escape_unshown (imzala_token_get_label (token));

          if (!any)
            g_printerr ("%s\n", recommended_only
                        ? _("These certificates can be used; choose one with --cert:")
                        : _("These certificates are on the tokens:"));
          any = TRUE;

          g_printerr (_("  %s (%s), %s, on “%s”\n"), holder,
                      tckn != NULL ? tckn : _("no T.C. kimlik no"),
                      imzala_certificate_get_key_description (certificate), label);
          if (!recommended_only && !imzala_certificate_is_recommended (certificate))
            {
              g_auto(GStrv) reasons = imzala_certificate_describe_problems (certificate, NULL);

              for (guint i = 0; reasons != NULL && reasons[i] != NULL; i++)
                g_printerr ("      %s\n", reasons[i]);
            }
          g_printerr ("    --cert %s\n", imzala_certificate_get_fingerprint (certificate));
        }
    }
}

/* Refuses what cannot give a valid signature, and warns about what gives
 * one that is not a qualified electronic signature. */
static gboolean
check_certificate (ImzalaCertificate *certificate, GError **error)
{
  ImzalaCertificateProblem problems = imzala_certificate_get_problems (certificate, NULL);
  const char *holder = imzala_certificate_get_holder_name (certificate);

  if (problems & (IMZALA_CERTIFICATE_PROBLEM_EXPIRED | IMZALA_CERTIFICATE_PROBLEM_NOT_YET_VALID))
    {
      g_autoptr(GDateTime) local = NULL;
      g_autofree char *date = NULL;
      GDateTime *when;

      if (problems & IMZALA_CERTIFICATE_PROBLEM_EXPIRED)
        when = imzala_certificate_get_not_after (certificate);
      else
        when = imzala_certificate_get_not_before (certificate);
      local = g_date_time_to_local (when);
      date = g_date_time_format (local, "%Y-%m-%d");

      if (problems & IMZALA_CERTIFICATE_PROBLEM_EXPIRED)
        g_set_error (error, IMZALA_ERROR, IMZALA_ERROR_CERTIFICATE_EXPIRED,
                     _("The certificate of %s expired on %s; a signature made with it would not be valid."),
                     holder, date);
      else
        g_set_error (error, IMZALA_ERROR, IMZALA_ERROR_CERTIFICATE_EXPIRED,
                     _("The certificate of %s is valid only from %s; a signature made with it now would not be valid."),
                     holder, date);
      return FALSE;
    }

  if (imzala_certificate_is_ca (certificate)
      || !imzala_certificate_has_private_key (certificate))
    {
      g_set_error (error, IMZALA_ERROR, IMZALA_ERROR_NO_PRIVATE_KEY,
                   _("The certificate of %s has no private key on the token, so it cannot sign."),
                   holder);
      return FALSE;
    }

  if (problems & IMZALA_CERTIFICATE_PROBLEM_NOT_QUALIFIED)
    imzala_cli_printerr (_("Warning: this is not a qualified certificate; the signature will not be a qualified electronic signature."));
  if (problems & IMZALA_CERTIFICATE_PROBLEM_NO_NON_REPUDIATION)
    imzala_cli_printerr (_("Warning: this certificate is not meant for signatures (no non-repudiation key usage)."));
  return TRUE;
}

static ImzalaSecret *
get_pin (ImzalaToken       *token,
         ImzalaCertificate *certificate,
         int                pin_fd,
         GError           **error)
{
  ImzalaPinState state = imzala_token_get_pin_state (token);
  g_autofree char *prompt = NULL;

  if (state & IMZALA_PIN_STATE_LOCKED)
    {
      g_set_error (error, IMZALA_ERROR, IMZALA_ERROR_PIN_LOCKED,
                   _("The PIN of “%s” is locked. Unblock it with “imzala-cli unblock-pin” and the PUK."),
                   imzala_token_get_label (token));
      return NULL;
    }

  imzala_cli_warn_pin_tries (token);
  prompt = g_strdup_printf (_("PIN of “%s” to sign as %s (%s): "),
                            imzala_token_get_label (token),
                            imzala_certificate_get_holder_name (certificate),
                            imzala_certificate_get_key_description (certificate));
  return imzala_cli_read_pin (pin_fd, prompt, error);
}

/* The cards that show their certificates only after the PIN are logged in
 * to one after another (the PIN asked for each, or one line each from
 * @pin_fd) until the certificate is found; the session of that card stays
 * open for the signature, the others are ended. */
static ImzalaCertificate *
log_in_and_find (GPtrArray     *tokens,
                 const char    *selector,
                 int            pin_fd,
                 ImzalaToken  **token_out,
                 ImzalaSecret **pin_out,
                 gboolean      *logged_in,
                 GError       **error)
{
  for (guint i = 0; i < tokens->len; i++)
    {
      ImzalaToken *token = g_ptr_array_index (tokens, i);
      g_autoptr(ImzalaSecret) pin = NULL;
      g_autoptr(GPtrArray) one = NULL;
      g_autoptr(GError) not_found = NULL;
      ImzalaCertificate *certificate;

      if (!imzala_token_needs_login_to_list (token))
        continue;
      /* The card named: with --pin-fd no prompt names it. */
      imzala_cli_printerr (_("The certificates on “%s” are shown after the PIN is entered."),
                           imzala_token_get_label (token));
      g_clear_error (error);
      if (!imzala_cli_log_in (token, pin_fd, &pin, error))
        return NULL;

      one = g_ptr_array_new ();
      g_ptr_array_add (one, token);
      certificate = imzala_module_set_find_certificate (one, selector, token_out, &not_found);
      if (certificate != NULL)
        {
          *pin_out = g_steal_pointer (&pin);
          *logged_in = TRUE;
          return certificate;
        }
      imzala_token_logout (token);
      if (!g_error_matches (not_found, IMZALA_ERROR, IMZALA_ERROR_NO_CERTIFICATE))
        {
          g_propagate_error (error, g_steal_pointer (&not_found));
          return NULL;
        }
      g_propagate_error (error, g_steal_pointer (&not_found));
    }
  return NULL;
}

/* Ctrl-C while the card signs. The card works on the main thread (the
 * module set is single-thread, see imzala_cli_sign()), which can do nothing
 * else meanwhile. A thread to watch for Ctrl-C would cost more than it
 * saves: the first thread a process starts makes glibc's malloc and much
 * else take locks from then on, ~2.5 % of a signature on the benchmark
 * machine (issue 12), and g_unix_signal_add() starts GLib's worker thread
 * for it. So the handler does what a handler may (write(), _exit()):
 * - a second Ctrl-C ends the process at once, with its message made
 *   beforehand: nobody waits for a reader that does not answer;
 * - the first one is written to a pipe. The card's work with the PIN given
 *   is not cut short: what it signed is thrown away when it returns, and
 *   nothing is written. A wait on the reader's keypad, which can last a
 *   minute, gets a thread that reads the pipe and cancels it
 *   (imzala_token_cancel_pin_pad() through the cancellable); while the
 *   time-stamp is fetched, the main loop reads the pipe. */
static int interrupt_pipe[2] = { -1, -1 };
static volatile sig_atomic_t interrupts;
static char *cancelled_line;
static size_t cancelled_line_length;

enum
{
  INTERRUPT_QUIT,       /* the keypad wait is over: its thread ends */
  INTERRUPT_SIGNAL,     /* Ctrl-C */
};

static void
interrupt_handler (int signal_number)
{
  int saved = errno;
  const char byte = INTERRUPT_SIGNAL;

  if (++interrupts > 1)
    {
      if (write (STDERR_FILENO, cancelled_line, cancelled_line_length) < 0)
        {
          /* Nowhere to say it. */
        }
      _exit (IMZALA_CLI_EXIT_CANCELLED);
    }
  if (write (interrupt_pipe[1], &byte, 1) < 0)
    {
      /* A full pipe already holds a wake-up. */
    }
  errno = saved;
}

/* The keypad wait's watch, on a thread of its own. */
static gpointer
interrupt_thread (gpointer user_data)
{
  GCancellable *cancellable = user_data;
  char byte;

  for (;;)
    {
      ssize_t n = read (interrupt_pipe[0], &byte, 1);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0 || byte == INTERRUPT_QUIT)
        return NULL;
      g_cancellable_cancel (cancellable);
    }
}

/* The time-stamp's watch, on the main loop. */
static gboolean
interrupt_cb (int           fd,
              GIOCondition  condition,
              gpointer      user_data)
{
  char byte;

  if (read (fd, &byte, 1) == 1)
    g_cancellable_cancel (user_data);
  return G_SOURCE_CONTINUE;
}

static void
time_stamp_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  SignRun *run = user_data;

  g_clear_pointer (&run->cms, g_bytes_unref);
  run->cms = imzala_cades_extend_finish (result, &run->error);
  g_main_loop_quit (run->loop);
}

int
imzala_cli_sign (int argc, char **argv)
{
  ImzalaCliModuleOptions module_options = { NULL, FALSE };
  g_autofree char *selector = NULL;
  g_autofree char *out_path = NULL;
  gboolean detached = FALSE;
  gboolean show_progress = FALSE;
  int pin_fd = -1;
  g_autofree char *level_name = NULL;
  g_autofree char *tsa_url = NULL;
  g_autofree char *tsa_ca = NULL;
  ImzalaCadesLevel level = IMZALA_CADES_LEVEL_BES;
  g_autoptr(ImzalaTsaClient) tsa = NULL;
  const GOptionEntry entries[] = {
    { "cert", 'c', 0, G_OPTION_ARG_STRING, &selector,
      N_("The certificate: a PKCS#11 URI or its SHA-256 fingerprint (default: the one recommended certificate)"),
      N_("SELECTOR") },
    { "detached", 'd', 0, G_OPTION_ARG_NONE, &detached,
      N_("Leave the content out of the signature file"), NULL },
    { "out", 'o', 0, G_OPTION_ARG_FILENAME, &out_path,
      N_("Write the signature (DER) to FILE instead of standard output"), N_("FILE") },
    { "pin-fd", 0, 0, G_OPTION_ARG_INT, &pin_fd,
      N_("Read the PIN from file descriptor N (one line) instead of the terminal"), N_("N") },
    { "level", 0, 0, G_OPTION_ARG_STRING, &level_name,
      N_("The CAdES level: BES (default), T (with a time-stamp) or XL (with a time-stamp and the certificate status, for verifying offline later)"),
      N_("LEVEL") },
    { "tsa", 0, 0, G_OPTION_ARG_STRING, &tsa_url,
      N_("The https:// address of the RFC 3161 time-stamp server (needed for T and XL)"), N_("URL") },
    { "tsa-ca", 0, 0, G_OPTION_ARG_FILENAME, &tsa_ca,
      N_("Also trust this CA (PEM or DER) for the time-stamp server's HTTPS certificate"), N_("FILE") },
    { "progress", 0, 0, G_OPTION_ARG_NONE, &show_progress,
      N_("Show progress on standard error while the content is read (shown on a terminal for large files anyway)"), NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(ImzalaModuleSet) set = NULL;
  g_autoptr(GPtrArray) tokens = NULL;
  g_autoptr(ImzalaCertificate) certificate = NULL;
  g_autoptr(ImzalaSecret) pin = NULL;
  g_auto(SignContent) content = { .fd = -1 };
  g_autoptr(GBytes) content_digest = NULL;
  ImzalaCliProgress progress = { 0 };
  ImzalaDigest digest;
  guint64 content_read = 0;
  g_autoptr(GError) error = NULL;
  g_autoptr(GCancellable) cancellable = NULL;
  g_autoptr(GMainLoop) loop = NULL;
  const char *input_path = NULL;
  g_autoptr(ImzalaToken) token = NULL;
  gulong prompt_id = 0;
  SignRun run = { 0 };
  GThread *pin_pad_watch = NULL;
  const char quit = INTERRUPT_QUIT;
  struct sigaction interrupt_action = { 0 };
  struct sigaction old_interrupt_action;
  gboolean logged_in = FALSE; /* to a card that hid its certificates */

  context = imzala_cli_option_context_new ("sign", _("[FILE|-]"),
                                           _("Signs FILE (or standard input) as a CAdES CMS SignedData (BES, or T and XL with --level) with a certificate on a token. "
                                             "The PIN is asked on the terminal without echo, or read from --pin-fd; never give it on the command line."));
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  imzala_cli_add_module_options (context, &module_options);
  if (!imzala_cli_parse_options (context, "sign", &argc, &argv))
    {
      imzala_cli_module_options_clear (&module_options);
      return IMZALA_CLI_EXIT_USAGE;
    }

  if (argc > 2)
    {
      imzala_cli_usage_error ("sign", _("Give one file to sign."));
      imzala_cli_module_options_clear (&module_options);
      return IMZALA_CLI_EXIT_USAGE;
    }
  if (argc == 2)
    input_path = argv[1];
  if (level_name != NULL && !imzala_cades_level_from_string (level_name, &level))
    {
      imzala_cli_usage_error ("sign", _("The level must be BES, T or XL."));
      imzala_cli_module_options_clear (&module_options);
      return IMZALA_CLI_EXIT_USAGE;
    }
  /* Checked before the card is touched: a level the TSA cannot give is
   * known now, not after the PIN. */
  if (level != IMZALA_CADES_LEVEL_BES && tsa_url == NULL)
    {
      imzala_cli_usage_error ("sign", _("The levels T and XL need a time-stamp server; give its address with --tsa."));
      imzala_cli_module_options_clear (&module_options);
      return IMZALA_CLI_EXIT_USAGE;
    }
  if (level == IMZALA_CADES_LEVEL_BES && (tsa_url != NULL || tsa_ca != NULL))
    {
      imzala_cli_usage_error ("sign", _("--tsa and --tsa-ca are for the levels T and XL."));
      imzala_cli_module_options_clear (&module_options);
      return IMZALA_CLI_EXIT_USAGE;
    }
  if (tsa_url != NULL)
    {
      tsa = imzala_tsa_client_new (tsa_url, tsa_ca, &error);
      if (tsa == NULL)
        {
          imzala_cli_module_options_clear (&module_options);
          return imzala_cli_report_error (error);
        }
    }
  if ((input_path == NULL || g_str_equal (input_path, "-")) && isatty (STDIN_FILENO))
    {
      imzala_cli_usage_error ("sign", _("Give a file to sign, or pipe the content into standard input."));
      imzala_cli_module_options_clear (&module_options);
      return IMZALA_CLI_EXIT_USAGE;
    }
  /* The content is read to its end before the PIN: a PIN piped in ahead of
   * it on standard input would become part of the signed content (and of an
   * attached signature) instead of reaching the card. */
  if ((input_path == NULL || g_str_equal (input_path, "-")) && pin_fd == STDIN_FILENO)
    {
      imzala_cli_usage_error ("sign", _("The PIN cannot be read from standard input while the content to sign comes from there too; use another file descriptor for --pin-fd."));
      imzala_cli_module_options_clear (&module_options);
      return IMZALA_CLI_EXIT_USAGE;
    }
  /* Checked before the PIN is asked, so that nobody types a PIN for a
   * signature that then has nowhere to go. */
  if ((out_path == NULL || g_str_equal (out_path, "-")) && isatty (STDOUT_FILENO))
    {
      imzala_cli_usage_error ("sign", _("The signature is binary and is not written to a terminal; use --out FILE or redirect standard output."));
      imzala_cli_module_options_clear (&module_options);
      return IMZALA_CLI_EXIT_USAGE;
    }

  /* The size is checked here, before any module is loaded or a PIN asked
   * for. */
  if (!open_content (input_path, detached, &content, &error))
    {
      imzala_cli_module_options_clear (&module_options);
      return imzala_cli_report_error (error);
    }
  imzala_cli_progress_init (&progress, show_progress, content.size_known, content.size);

  /* Every card call of this command is made on this thread, one after the
   * other: no thread is started for the modules, and no call waits for one
   * to wake up (issue 12). */
  module_options.single_thread = TRUE;
  set = imzala_cli_load_modules (&module_options, TRUE, NULL, &error);
  imzala_cli_module_options_clear (&module_options);
  if (set == NULL)
    return imzala_cli_report_error (error);

  /* With --cert FINGERPRINT the other certificates are not parsed: that is
   * most of a listing's work on a card of several certificates. */
  imzala_module_set_only_certificate (set, selector);
  tokens = imzala_module_set_list_tokens (set, NULL, &error);
  if (tokens == NULL)
    return imzala_cli_report_error (error);
  if (tokens->len == 0)
    {
      /* Not just "insert your card": a card no module knows, or pcscd
       * down, is said as such. */
      error = imzala_cli_explain_tokens (tokens);
      if (error == NULL)
        g_set_error (&error, IMZALA_ERROR, IMZALA_ERROR_NO_TOKEN,
                     _("No token was found. Is the card in the reader?"));
      return imzala_cli_report_error (error);
    }

  certificate = imzala_module_set_find_certificate (tokens, selector, &token, &error);
  /* Not found, and a card shows its certificates only after the PIN: log in
   * first (one card after another), then sign in that session. */
  if (certificate == NULL && g_error_matches (error, IMZALA_ERROR, IMZALA_ERROR_NO_CERTIFICATE))
    certificate = log_in_and_find (tokens, selector, pin_fd, &token, &pin, &logged_in, &error);
  if (certificate == NULL && g_error_matches (error, IMZALA_ERROR, IMZALA_ERROR_NO_CERTIFICATE))
    {
      g_autoptr(GError) cause = imzala_cli_explain_tokens (tokens);

      /* The certificate is probably on the card that no module shows. */
      if (g_error_matches (cause, IMZALA_ERROR, IMZALA_ERROR_TOKEN_NOT_RECOGNIZED))
        imzala_cli_printerr ("%s", cause->message);
    }
  if (certificate == NULL)
    {
      int status = imzala_cli_report_error (error);

      if (selector == NULL)
        print_candidates (tokens, g_error_matches (error, IMZALA_ERROR, IMZALA_ERROR_AMBIGUOUS_CERTIFICATE));
      return status;
    }

  if (!check_certificate (certificate, &error))
    {
      if (logged_in)
        imzala_token_logout (token);
      imzala_cli_report_error (error);
      return IMZALA_CLI_EXIT_NOT_FOUND;
    }

  /* The content is hashed before the PIN is asked for: a file that cannot
   * be read fails before anyone types a PIN, and the PIN is held no longer
   * than the signature takes. */
  digest = imzala_digest_for_certificate (certificate);
  imzala_cli_progress_start (&progress, IMZALA_CLI_PROGRESS_DIGEST);
  content_digest = imzala_cms_digest_read (read_content, &content, digest,
                                           content.size_known ? content.size : 0,
                                           imzala_cli_progress_cb, &progress, &content_read, &error);
  imzala_cli_progress_end (&progress);
  /* A file still being written is not signed half-way. */
  if (content_digest != NULL && content.size_known && content_read != content.size)
    {
      g_clear_pointer (&content_digest, g_bytes_unref);
      g_set_error_literal (&error, IMZALA_ERROR, IMZALA_ERROR_CONTENT_MISMATCH,
                           _("The file changed while it was being signed. Sign it again when nothing is writing to it."));
    }
  if (content_digest == NULL)
    {
      if (logged_in)
        imzala_token_logout (token);
      return imzala_cli_report_error (error);
    }

  if (logged_in)
    {
      /* Logged in to show the certificate: the PIN was entered once. */
    }
  else if (imzala_token_has_pin_pad (token))
    {
      if (pin_fd >= 0)
        imzala_cli_printerr (_("This token takes the PIN on the reader's keypad; --pin-fd is not used."));
      /* Each entry on the reader is announced as the card asks for it
       * (twice for a key that wants the PIN for every signature). */
      prompt_id = g_signal_connect (token, "pin-pad-prompt", G_CALLBACK (imzala_cli_pin_pad_prompt_cb), NULL);
    }
  else
    {
      pin = get_pin (token, certificate, pin_fd, &error);
      if (pin == NULL)
        return imzala_cli_report_error (error);
    }

  /* A cancellable only where a wait can be cut short: on the reader's
   * keypad, and for the time-stamp. Without one, a BES signature calls
   * nothing in GIO, which imzala-cli then never loads (imzala-cli-lazy.h). */
  if (imzala_token_has_pin_pad (token) || tsa != NULL)
    cancellable = g_cancellable_new ();
  if (!g_unix_open_pipe (interrupt_pipe, FD_CLOEXEC, &error)
      || !g_unix_set_fd_nonblocking (interrupt_pipe[1], TRUE, &error))
    {
      if (logged_in)
        imzala_token_logout (token);
      return imzala_cli_report_error (error);
    }
  cancelled_line = g_strdup_printf ("imzala-cli: %s\n", _("Cancelled."));
  cancelled_line_length = strlen (cancelled_line);
  /* A keypad wait may come even after a login made to list the
   * certificates: a key that wants its PIN for every signature. */
  if (imzala_token_has_pin_pad (token))
    pin_pad_watch = g_thread_new ("imzala-interrupt", interrupt_thread, cancellable);
  interrupt_action.sa_handler = interrupt_handler;
  sigemptyset (&interrupt_action.sa_mask);
  interrupt_action.sa_flags = SA_RESTART;
  sigaction (SIGINT, &interrupt_action, &old_interrupt_action);

  /* The card signs here, on the modules' thread; the cancellable is the
   * current one, as for a token's async call, so that a wait on the
   * reader's keypad can be cut short. */
  if (cancellable != NULL)
    g_cancellable_push_current (cancellable);
  run.cms = imzala_token_sign_cms_digest (token, certificate, pin, content_digest, cancellable, &run.error);
  if (cancellable != NULL)
    g_cancellable_pop_current (cancellable);
  /* The PIN is not kept while the network is asked. */
  g_clear_pointer (&pin, imzala_secret_unref);
  if (pin_pad_watch != NULL)
    {
      if (write (interrupt_pipe[1], &quit, 1) != 1)
        g_warning ("Could not end the keypad wait's watch: %s", g_strerror (errno));
      g_thread_join (pin_pad_watch);
    }
  if (run.cms != NULL && tsa != NULL && interrupts == 0)
    {
      guint watch_id = g_unix_fd_add (interrupt_pipe[0], G_IO_IN, interrupt_cb, cancellable);

      /* The card has signed; the time-stamp (and for XL the chain's
       * status) comes after it. Should any of it fail, nothing is
       * written: a BES where a T was asked for would be a half-done job. */
      loop = g_main_loop_new (NULL, FALSE);
      run.loop = loop;
      imzala_cades_extend_async (run.cms, level, tsa, cancellable, time_stamp_cb, &run);
      g_main_loop_run (loop);
      g_source_remove (watch_id);
    }
  sigaction (SIGINT, &old_interrupt_action, NULL);
  /* A Ctrl-C while the card signed (or at the very end): what it signed is
   * thrown away, and nothing is written. */
  if (run.cms != NULL && interrupts > 0)
    {
      g_clear_pointer (&run.cms, g_bytes_unref);
      g_clear_error (&run.error);
      g_set_error_literal (&run.error, G_IO_ERROR, G_IO_ERROR_CANCELLED, _("The operation was cancelled."));
    }
  close (interrupt_pipe[0]);
  close (interrupt_pipe[1]);
  g_clear_pointer (&cancelled_line, g_free);
  g_clear_signal_handler (&prompt_id, token);
  g_clear_pointer (&pin, imzala_secret_unref);
  if (logged_in)
    imzala_token_logout (token);

  if (run.cms == NULL)
    {
      int status = imzala_cli_report_error (run.error);

      g_clear_error (&run.error);
      return status;
    }

  if (detached
      ? !imzala_cli_write_output (out_path, run.cms, &error)
      : !write_attached (out_path, run.cms, &content, content_digest, digest, &progress, &error))
    {
      g_bytes_unref (run.cms);
      return imzala_cli_report_error (error);
    }

  g_bytes_unref (run.cms);
  return IMZALA_CLI_EXIT_OK;
}
