#define G_LOG_DOMAIN "imzala-gui"

#include "config.h"

#include <time.h>
#include <unistd.h>
#include <glib/gi18n.h>

#include "imzala-portal-client.h"
#include "imzala-window-private.h"

G_DEFINE_FINAL_TYPE (ImzalaWindow, imzala_window, ADW_TYPE_APPLICATION_WINDOW)

enum {
  SIGNAL_TOKENS_CHANGED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

/* ---- The portal in the header bar ---- */

static void
set_portal_host (ImzalaWindow *self,
                 const char   *host)
{
  g_free (self->portal_host);
  self->portal_host = g_strdup (host);
  adw_window_title_set_subtitle (self->window_title,
                                 host ? host : _("No portal chosen"));
}

void
imzala_window_portal_url_changed (ImzalaWindow *self)
{
  g_autofree char *url = NULL;
  g_autofree char *host = NULL;
  g_autofree char *origin = NULL;

  /* While a job runs, the header names the portal the job talks to. */
  if (self->job != NULL && imzala_signing_job_get_state (self->job) != IMZALA_JOB_STATE_FAILED)
    return;
  url = imzala_code_page_dup_portal_url (self->code_page);
  origin = imzala_settings_origin_for_url (url, &host);
  set_portal_host (self, host);
}

/* ---- Pages ---- */

/* Every page but the code page and the short wait is made when first shown
 * (or first asked for): a window that only signs never builds the PIN,
 * unblock, cards, diagnostics and verify pages, and the first frame builds,
 * styles and loads the icons of none of the pages it does not show (issue
 * 12). A page made late gets the state the window already has. */
GtkWidget *
imzala_window_ensure_page (ImzalaWindow *self,
                           const char   *name)
{
  if (g_str_equal (name, "sign"))
    {
      if (self->sign_page == NULL)
        {
          self->sign_page = g_object_new (IMZALA_TYPE_SIGN_PAGE, NULL);
          g_signal_connect_object (self->sign_page, "notify::ready",
                                   G_CALLBACK (imzala_window_update_actions), self, G_CONNECT_SWAPPED);
          if (self->token_list != NULL)
            imzala_sign_page_set_token_list (self->sign_page, self->token_list);
          imzala_sign_page_set_reader_monitor (self->sign_page, self->reader_monitor);
          adw_bin_set_child (self->sign_slot, GTK_WIDGET (self->sign_page));
        }
      return GTK_WIDGET (self->sign_page);
    }
  if (g_str_equal (name, "portal-confirm"))
    {
      if (self->portal_confirm_page == NULL)
        {
          self->portal_confirm_page = g_object_new (IMZALA_TYPE_PORTAL_CONFIRM_PAGE, NULL);
          adw_bin_set_child (self->portal_confirm_slot, GTK_WIDGET (self->portal_confirm_page));
        }
      return GTK_WIDGET (self->portal_confirm_page);
    }
  if (g_str_equal (name, "result"))
    {
      if (self->result_page == NULL)
        {
          self->result_page = g_object_new (IMZALA_TYPE_RESULT_PAGE, NULL);
          adw_bin_set_child (self->result_slot, GTK_WIDGET (self->result_page));
        }
      return GTK_WIDGET (self->result_page);
    }
  if (g_str_equal (name, "failure"))
    {
      if (self->failure_page == NULL)
        {
          self->failure_page = g_object_new (IMZALA_TYPE_FAILURE_PAGE, NULL);
          adw_bin_set_child (self->failure_slot, GTK_WIDGET (self->failure_page));
        }
      return GTK_WIDGET (self->failure_page);
    }
  if (g_str_equal (name, "file-sign"))
    {
      if (self->file_sign_page == NULL)
        {
          self->file_sign_page = g_object_new (IMZALA_TYPE_FILE_SIGN_PAGE, NULL);
          if (self->token_list != NULL)
            imzala_file_sign_page_set_token_list (self->file_sign_page, self->token_list);
          adw_bin_set_child (self->file_sign_slot, GTK_WIDGET (self->file_sign_page));
        }
      return GTK_WIDGET (self->file_sign_page);
    }
  if (g_str_equal (name, "pin-change"))
    {
      if (self->pin_change_page == NULL)
        {
          self->pin_change_page = g_object_new (IMZALA_TYPE_PIN_CHANGE_PAGE, NULL);
          if (self->token_list != NULL)
            imzala_pin_change_page_set_token_list (self->pin_change_page, self->token_list);
          adw_bin_set_child (self->pin_change_slot, GTK_WIDGET (self->pin_change_page));
        }
      return GTK_WIDGET (self->pin_change_page);
    }
  if (g_str_equal (name, "unblock"))
    {
      if (self->unblock_page == NULL)
        {
          self->unblock_page = g_object_new (IMZALA_TYPE_UNBLOCK_PAGE, NULL);
          if (self->token_list != NULL)
            imzala_unblock_page_set_token_list (self->unblock_page, self->token_list);
          adw_bin_set_child (self->unblock_slot, GTK_WIDGET (self->unblock_page));
        }
      return GTK_WIDGET (self->unblock_page);
    }
  if (g_str_equal (name, "tokens"))
    {
      if (self->tokens_page == NULL)
        {
          self->tokens_page = g_object_new (IMZALA_TYPE_TOKENS_PAGE, NULL);
          imzala_tokens_page_set_reader_monitor (self->tokens_page, self->reader_monitor);
          if (self->token_list != NULL)
            imzala_tokens_page_set_token_list (self->tokens_page, self->token_list, self->load_error);
          adw_bin_set_child (self->tokens_slot, GTK_WIDGET (self->tokens_page));
        }
      return GTK_WIDGET (self->tokens_page);
    }
  if (g_str_equal (name, "doctor"))
    {
      if (self->doctor_page == NULL)
        {
          self->doctor_page = g_object_new (IMZALA_TYPE_DOCTOR_PAGE, NULL);
          imzala_doctor_page_set_reader_monitor (self->doctor_page, self->reader_monitor);
          if (self->token_list != NULL)
            imzala_doctor_page_set_token_list (self->doctor_page, self->token_list, self->load_error);
          adw_bin_set_child (self->doctor_slot, GTK_WIDGET (self->doctor_page));
        }
      return GTK_WIDGET (self->doctor_page);
    }
  if (g_str_equal (name, "verify"))
    {
      if (self->verify_page == NULL)
        {
          self->verify_page = g_object_new (IMZALA_TYPE_VERIFY_PAGE, NULL);
          adw_bin_set_child (self->verify_slot, GTK_WIDGET (self->verify_page));
        }
      return GTK_WIDGET (self->verify_page);
    }
  return gtk_stack_get_child_by_name (self->stack, name);
}

void
imzala_window_show_page (ImzalaWindow *self,
                         const char   *name)
{
  GtkWidget *child;
  const char *title;

  imzala_window_ensure_page (self, name);
  child = gtk_stack_get_child_by_name (self->stack, name);
  title = gtk_stack_page_get_title (gtk_stack_get_page (self->stack, child));

  gtk_stack_set_visible_child (self->stack, child);
  /* The window's title names the page too (its title in the stack; the
   * short wait while a request is fetched has none): the task switcher and
   * a screen reader say where the user is, not only which application. */
  if (title != NULL)
    {
      /* Translators: the window's title: the page's name, then the
       * application's. */
      g_autofree char *text = g_strdup_printf (_("%s — İmzala"), title);

      gtk_window_set_title (GTK_WINDOW (self), text);
    }
  else
    gtk_window_set_title (GTK_WINDOW (self), _("İmzala"));
  gtk_widget_set_visible (self->back_button, !g_str_equal (name, "code"));
  imzala_window_update_actions (self);
}

void
imzala_window_show_code_page (ImzalaWindow *self)
{
  imzala_window_show_page (self, "code");
  imzala_code_page_focus_code (self->code_page);
}

/* ---- Tokens ---- */

void
imzala_window_refresh_tokens (ImzalaWindow *self)
{
  if (self->token_list != NULL)
    imzala_token_list_refresh (self->token_list);
}

static void
token_list_loading_cb (ImzalaWindow *self)
{
  if (!imzala_token_list_get_loading (self->token_list))
    g_signal_emit (self, signals[SIGNAL_TOKENS_CHANGED], 0);
}

/* A card went in or out: the list is made again once, and every page and a
 * shown request follow it. */
static void
card_changed_cb (ImzalaWindow *self,
                 ImzalaReader *reader)
{
  imzala_window_refresh_tokens (self);
}

/* ---- The signing job ---- */

void
imzala_window_clear_job (ImzalaWindow *self)
{
  if (self->job == NULL)
    return;

  g_signal_group_set_target (self->job_signals, NULL);
  imzala_signing_job_cancel (self->job);
  if (self->sign_page != NULL)
    imzala_sign_page_set_job (self->sign_page, NULL);
  if (self->unblock_page != NULL)
    imzala_unblock_page_set_job (self->unblock_page, NULL);
  g_clear_object (&self->job);
}

static void
show_job_done (ImzalaWindow *self)
{
  ImzalaRequest *request = imzala_signing_job_get_request (self->job);
  const char *message = imzala_signing_job_get_result_message (self->job);

  imzala_window_ensure_page (self, "result");

  if (request != NULL && imzala_request_get_purpose (request) == IMZALA_PURPOSE_UNBLOCK)
    {
      imzala_result_page_set_result (self->result_page, _("Your PIN Was Unblocked"), message,
                                     imzala_request_get_created_at (request), NULL, FALSE);
      imzala_window_refresh_tokens (self);
    }
  else
    {
      imzala_result_page_set_result (self->result_page, _("Your Transaction Was Successful"), message,
                                     request ? imzala_request_get_created_at (request) : NULL,
                                     imzala_signing_job_get_signed_at (self->job),
                                     imzala_signing_job_get_signatures (self->job) != NULL);
    }
  imzala_window_show_page (self, "result");
}

/* The window only chooses the page for the job's state; the pages follow
 * the job's properties (and its error) themselves. */
static void
job_state_cb (ImzalaWindow *self)
{
  ImzalaJobState state = imzala_signing_job_get_state (self->job);
  ImzalaRequest *request = imzala_signing_job_get_request (self->job);
  const GError *error = imzala_signing_job_get_error (self->job);
  gboolean unblock = request != NULL && imzala_request_get_purpose (request) == IMZALA_PURPOSE_UNBLOCK;

  if (request != NULL)
    set_portal_host (self, imzala_request_get_portal_host (request));

  switch (state)
    {
    case IMZALA_JOB_STATE_IDLE:
    case IMZALA_JOB_STATE_UNBLOCKING:
      break;

    case IMZALA_JOB_STATE_FETCHING:
      {
        g_autofree char *text = NULL;

        /* Translators: %s is the portal's host name. */
        text = g_strdup_printf (_("Fetching the request from %s and looking for your card…"),
                                imzala_portal_get_host (imzala_signing_job_get_portal (self->job)));
        gtk_label_set_text (self->loading_label, text);
        imzala_window_show_page (self, "loading");
        /* Nothing has the focus there: not Cancel (see early_key_pressed_cb()). */
        gtk_window_set_focus (GTK_WINDOW (self), NULL);
      }
      break;

    case IMZALA_JOB_STATE_CHOOSING:
      if (unblock)
        {
          imzala_window_ensure_page (self, "unblock");
          imzala_unblock_page_set_job (self->unblock_page, self->job);
          imzala_window_show_page (self, "unblock");
        }
      else
        {
          imzala_window_show_page (self, "sign");
          imzala_sign_page_focus_pin (self->sign_page);
        }
      break;

    case IMZALA_JOB_STATE_LOGGING_IN:
    case IMZALA_JOB_STATE_SIGNING:
    case IMZALA_JOB_STATE_SUBMITTING:
      imzala_window_show_page (self, "sign");
      break;

    case IMZALA_JOB_STATE_DONE:
      show_job_done (self);
      break;

    case IMZALA_JOB_STATE_FAILED:
      if (error == NULL || g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          adw_toast_overlay_add_toast (self->toast_overlay, adw_toast_new (_("Cancelled.")));
          imzala_window_show_code_page (self);
        }
      else
        {
          imzala_window_ensure_page (self, "failure");
          imzala_failure_page_set_error (self->failure_page, error);
          imzala_window_show_page (self, "failure");
        }
      break;

    default:
      g_assert_not_reached ();
    }

  imzala_window_update_actions (self);
}

void
imzala_window_start_job (ImzalaWindow *self,
                         const char   *url,
                         const char   *code)
{
  g_autoptr(ImzalaPortalClient) client = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *origin = imzala_settings_origin_for_url (url, NULL);
  g_autofree char *ca_file = imzala_settings_dup_ca_file (self->settings, origin);

  imzala_window_clear_job (self);

  if (url != self->job_url)
    {
      g_free (self->job_url);
      self->job_url = g_strdup (url);
    }
  if (code != self->job_code)
    {
      g_free (self->job_code);
      self->job_code = g_strdup (code);
    }

  /* The modules load once at startup; a code that arrives before they are
   * ready waits for them. */
  if (self->token_list == NULL)
    {
      self->start_when_loaded = TRUE;
      gtk_label_set_text (self->loading_label, _("Looking for card software…"));
      imzala_window_show_page (self, "loading");
      return;
    }

  client = imzala_portal_client_new (url, ca_file, &error);
  if (client == NULL)
    {
      imzala_window_ensure_page (self, "failure");
      imzala_failure_page_set_error (self->failure_page, error);
      imzala_window_show_page (self, "failure");
      return;
    }

  /* The window's handlers come first, then the pages': the page is shown
   * before it fills itself in. */
  self->job = imzala_signing_job_new_for_token_list (IMZALA_PORTAL (client), self->token_list);
  /* The reference portal serves its time-stamp authority itself. */
  imzala_signing_job_set_tsa_ca_file (self->job, ca_file);
  g_signal_group_set_target (self->job_signals, self->job);
  imzala_window_ensure_page (self, "sign");
  imzala_sign_page_set_job (self->sign_page, self->job);
  imzala_signing_job_start (self->job, code);
}

void
imzala_window_request_job (ImzalaWindow *self,
                           const char   *url,
                           const char   *code)
{
  g_autofree char *origin = NULL;

  origin = imzala_settings_origin_for_url (url, NULL);
  if (origin == NULL)
    {
      imzala_code_page_set_error (self->code_page, _("This is not a portal address. It looks like https://portal.example.org."));
      imzala_window_show_code_page (self);
      return;
    }
  if (!g_str_has_prefix (origin, "https://"))
    {
      imzala_code_page_set_error (self->code_page, _("İmzala only talks to portals over a secure connection (https://)."));
      imzala_window_show_code_page (self);
      return;
    }

  if (!imzala_settings_is_allowed (self->settings, origin))
    {
      g_free (self->pending_url);
      g_free (self->pending_code);
      self->pending_url = g_strdup (url);
      self->pending_code = g_strdup (code);
      imzala_window_ensure_page (self, "portal-confirm");
      imzala_portal_confirm_page_set_origin (self->portal_confirm_page, origin);
      imzala_window_show_page (self, "portal-confirm");
      return;
    }

  imzala_window_start_job (self, url, code);
}

/* ---- Timing the start (tools/bench) ---- */

/* Development and benchmarking only: IMZALA_EXIT_ON_FIRST_FRAME=1 ends the
 * process as soon as the window's first frame is painted, and
 * IMZALA_EXIT_ON_FIRST_FRAME=cards opens the Cards page and ends it at the
 * first frame painted after the first listing of the cards reached it.
 * tools/bench times that against bare windows that do the same. The exit
 * is _exit(): the process is timed up to its first frame, not through its
 * tear-down, and no PIN can be in memory that early.
 *
 * IMZALA_EXIT_ON_FIRST_FRAME=cards-stall is a frame-clock probe: it opens
 * the Cards page, keeps the frame clock ticking (a tick callback, so that
 * a frame is due every refresh), and notes the longest time between two
 * painted frames from the first one until STALL_FRAMES_AFTER_CARDS frames
 * after the listing reached the page (the page adds the cards it did not
 * add at once one per frame). It prints "largest frame interval: N ms" and
 * ends. A frame is due every ~17 ms, so an interval much longer than that
 * is main-thread work (or, on a loaded machine, the scheduler): the largest
 * stall while the cards arrive. */
#define STALL_FRAMES_AFTER_CARDS 64

static gint64 stall_last_paint;     /* µs, monotonic; 0 before the first frame */
static gint64 stall_last_cpu;       /* µs of the main thread's CPU time */
static gint64 stall_longest;        /* µs */
static gint64 stall_longest_cpu;    /* µs */
static int    stall_frames_left = -1;

static gint64
main_thread_cpu_time (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_THREAD_CPUTIME_ID, &ts);
  return (gint64) ts.tv_sec * G_USEC_PER_SEC + ts.tv_nsec / 1000;
}

static gboolean
cards_listed (ImzalaWindow *self)
{
  g_autoptr(GPtrArray) tokens = NULL;

  if (self->token_list == NULL || imzala_token_list_get_loading (self->token_list))
    return FALSE;
  if (imzala_token_list_get_error (self->token_list) == NULL)
    tokens = imzala_token_list_dup_tokens (self->token_list);
  return tokens == NULL || tokens->len > 0;
}

static gboolean
stall_tick_cb (GtkWidget     *widget,
               GdkFrameClock *clock,
               gpointer       user_data)
{
  return G_SOURCE_CONTINUE;
}

static void
stall_after_paint_cb (GdkFrameClock *clock,
                      ImzalaWindow  *self)
{
  gint64 now = g_get_monotonic_time ();
  gint64 cpu = main_thread_cpu_time ();

  if (stall_last_paint != 0)
    {
      stall_longest = MAX (stall_longest, now - stall_last_paint);
      stall_longest_cpu = MAX (stall_longest_cpu, cpu - stall_last_cpu);
    }
  stall_last_paint = now;
  stall_last_cpu = cpu;

  if (stall_frames_left < 0 && cards_listed (self))
    stall_frames_left = STALL_FRAMES_AFTER_CARDS;
  if (stall_frames_left > 0)
    stall_frames_left--;
  if (stall_frames_left != 0)
    return;

  g_print ("largest frame interval: %.1f ms, largest main-thread CPU time between two frames: %.1f ms\n",
           stall_longest / 1000.0, stall_longest_cpu / 1000.0);
  fflush (stdout);
  _exit (0);
}

static void
exit_on_first_frame_cb (GdkFrameClock *clock,
                        ImzalaWindow  *self)
{
  if (g_strcmp0 (g_getenv ("IMZALA_EXIT_ON_FIRST_FRAME"), "cards") == 0 && !cards_listed (self))
    return;
  fflush (stdout);
  _exit (0);
}

static void
exit_on_first_frame_map_cb (ImzalaWindow *self)
{
  GdkFrameClock *clock = gtk_widget_get_frame_clock (GTK_WIDGET (self));

  if (g_strcmp0 (g_getenv ("IMZALA_EXIT_ON_FIRST_FRAME"), "cards-stall") == 0)
    {
      gtk_widget_add_tick_callback (GTK_WIDGET (self), stall_tick_cb, NULL, NULL);
      g_signal_connect_object (clock, "after-paint", G_CALLBACK (stall_after_paint_cb), self, 0);
      return;
    }
  g_signal_connect_object (clock, "after-paint", G_CALLBACK (exit_on_first_frame_cb), self, 0);
}

static void
exit_on_first_frame_init (ImzalaWindow *self)
{
  const char *mode = g_getenv ("IMZALA_EXIT_ON_FIRST_FRAME");

  if (mode == NULL || *mode == '\0' || g_str_equal (mode, "0"))
    return;
  g_signal_connect (self, "map", G_CALLBACK (exit_on_first_frame_map_cb), NULL);
  if (g_str_equal (mode, "cards") || g_str_equal (mode, "cards-stall"))
    g_action_group_activate_action (G_ACTION_GROUP (self), "show-tokens", NULL);
}

/* ---- Public API ---- */

void
imzala_window_set_token_list (ImzalaWindow    *self,
                              ImzalaTokenList *token_list,
                              const GError    *load_error)
{
  gboolean same;

  g_return_if_fail (IMZALA_IS_WINDOW (self));
  g_return_if_fail (IMZALA_IS_TOKEN_LIST (token_list));

  /* The application gives the list at once, still waiting for the modules
   * (imzala_token_list_hold()), and again with the modules' load error:
   * that second time only the pages that show the error need it. */
  same = self->token_list == token_list;
  g_set_object (&self->token_list, token_list);
  g_signal_group_set_target (self->token_list_signals, token_list);

  g_clear_error (&self->load_error);
  self->load_error = load_error != NULL ? g_error_copy (load_error) : NULL;
  if (self->tokens_page != NULL)
    imzala_tokens_page_set_token_list (self->tokens_page, token_list, load_error);
  if (self->doctor_page != NULL)
    imzala_doctor_page_set_token_list (self->doctor_page, token_list, load_error);
  if (self->sign_page != NULL)
    imzala_sign_page_set_token_list (self->sign_page, token_list);
  if (self->pin_change_page != NULL)
    imzala_pin_change_page_set_token_list (self->pin_change_page, token_list);
  if (self->file_sign_page != NULL)
    imzala_file_sign_page_set_token_list (self->file_sign_page, token_list);
  if (self->unblock_page != NULL)
    imzala_unblock_page_set_token_list (self->unblock_page, token_list);
  if (!same)
    imzala_window_refresh_tokens (self);
  imzala_window_update_actions (self);

  if (self->start_when_loaded)
    {
      g_autofree char *url = g_strdup (self->job_url);
      g_autofree char *code = g_strdup (self->job_code);

      self->start_when_loaded = FALSE;
      imzala_window_start_job (self, url, code);
    }
}

void
imzala_window_set_reader_monitor (ImzalaWindow        *self,
                                  ImzalaReaderMonitor *monitor)
{
  g_return_if_fail (IMZALA_IS_WINDOW (self));
  g_return_if_fail (monitor == NULL || IMZALA_IS_READER_MONITOR (monitor));

  g_set_object (&self->reader_monitor, monitor);
  g_signal_group_set_target (self->reader_monitor_signals, monitor);
  if (self->tokens_page != NULL)
    imzala_tokens_page_set_reader_monitor (self->tokens_page, monitor);
  if (self->doctor_page != NULL)
    imzala_doctor_page_set_reader_monitor (self->doctor_page, monitor);
  if (self->sign_page != NULL)
    imzala_sign_page_set_reader_monitor (self->sign_page, monitor);
}

void
imzala_window_open_request (ImzalaWindow *self,
                            const char   *portal_url,
                            const char   *code)
{
  g_autofree char *url = NULL;

  g_return_if_fail (IMZALA_IS_WINDOW (self));

  /* A new request replaces whatever the window was doing, except while the
   * card is signing: that is finished or cancelled by the user first. */
  if (self->job != NULL)
    {
      ImzalaJobState state = imzala_signing_job_get_state (self->job);

      if (state == IMZALA_JOB_STATE_SIGNING || state == IMZALA_JOB_STATE_SUBMITTING ||
          state == IMZALA_JOB_STATE_UNBLOCKING || state == IMZALA_JOB_STATE_LOGGING_IN)
        {
          adw_toast_overlay_add_toast (self->toast_overlay,
                                       adw_toast_new (_("Finish or cancel the signature in progress first.")));
          return;
        }
      imzala_window_clear_job (self);
    }

  if (portal_url != NULL)
    imzala_code_page_set_portal_url (self->code_page, portal_url);
  imzala_code_page_set_code (self->code_page, code);
  imzala_window_portal_url_changed (self);

  url = imzala_code_page_dup_portal_url (self->code_page);
  if (url != NULL && code != NULL && imzala_code_page_get_valid (self->code_page))
    imzala_window_request_job (self, url, imzala_code_page_get_code (self->code_page));
  else if (url != NULL && portal_url != NULL && code == NULL)
    {
      g_autofree char *origin = imzala_settings_origin_for_url (url, NULL);

      /* A portal alone is also named before the user types a code for it. */
      if (origin != NULL && !imzala_settings_is_allowed (self->settings, origin))
        {
          g_free (self->pending_url);
          self->pending_url = g_strdup (url);
          g_clear_pointer (&self->pending_code, g_free);
          imzala_window_ensure_page (self, "portal-confirm");
          imzala_portal_confirm_page_set_origin (self->portal_confirm_page, origin);
          imzala_window_show_page (self, "portal-confirm");
        }
      else
        imzala_window_show_code_page (self);
    }
  else
    imzala_window_show_code_page (self);
}

const char *
imzala_window_get_page_name (ImzalaWindow *self)
{
  g_return_val_if_fail (IMZALA_IS_WINDOW (self), NULL);

  return gtk_stack_get_visible_child_name (self->stack);
}

GtkWidget *
imzala_window_get_page (ImzalaWindow *self,
                        const char   *name)
{
  g_return_val_if_fail (IMZALA_IS_WINDOW (self), NULL);

  return imzala_window_ensure_page (self, name);
}

const char *
imzala_window_get_portal_host (ImzalaWindow *self)
{
  g_return_val_if_fail (IMZALA_IS_WINDOW (self), NULL);

  return self->portal_host;
}

/* ---- Keys typed early ---- */

/* While the request is fetched (the loading page), digits are kept for the
 * PIN field of the sign page that follows, and Enter or Space are not
 * taken by the page's Cancel button: a PIN typed quickly, then Enter, must
 * not drop the request. Escape still goes back (win.back). */
static gboolean
early_key_pressed_cb (ImzalaWindow          *self,
                      guint                  keyval,
                      guint                  keycode,
                      GdkModifierType        state,
                      GtkEventControllerKey *controller)
{
  gunichar c = gdk_keyval_to_unicode (keyval);

  if (!g_str_equal (imzala_window_get_page_name (self), "loading") || self->job == NULL ||
      (state & (GDK_CONTROL_MASK | GDK_ALT_MASK)) != 0)
    return GDK_EVENT_PROPAGATE;

  if (c >= '0' && c <= '9')
    {
      char digit[2] = { (char) c, '\0' };

      imzala_sign_page_type_early (self->sign_page, digit);
      return GDK_EVENT_STOP;
    }
  switch (keyval)
    {
    case GDK_KEY_BackSpace:
      imzala_sign_page_type_early (self->sign_page, NULL);
      return GDK_EVENT_STOP;
    case GDK_KEY_Return:
    case GDK_KEY_KP_Enter:
    case GDK_KEY_ISO_Enter:
    case GDK_KEY_space:
    case GDK_KEY_KP_Space:
      return GDK_EVENT_STOP;
    default:
      return GDK_EVENT_PROPAGATE;
    }
}

/* The primary menu's popover (eight rows) is made when the menu is first
 * opened, by a click or F10, not with the window (issue 12). */
static void
menu_button_create_popup_cb (GtkMenuButton *button,
                             gpointer       user_data)
{
  ImzalaWindow *self = user_data;

  if (gtk_menu_button_get_menu_model (button) == NULL)
    gtk_menu_button_set_menu_model (button, self->primary_menu);
}

/* ---- GObject ---- */

/* The default size fits the screen the window opens on: without a window
 * manager to shrink it (or with one that does not), 860×640 would put
 * İMZALA below the bottom of a 1280×800 screen at scale 2. */
static void
imzala_window_realize (GtkWidget *widget)
{
  GdkSurface *surface;
  GdkMonitor *monitor;
  GdkRectangle area;
  int width, height;

  GTK_WIDGET_CLASS (imzala_window_parent_class)->realize (widget);

  surface = gtk_native_get_surface (GTK_NATIVE (widget));
  monitor = surface ? gdk_display_get_monitor_at_surface (gtk_widget_get_display (widget), surface) : NULL;
  if (monitor == NULL)
    return;
  gdk_monitor_get_geometry (monitor, &area);
  gtk_window_get_default_size (GTK_WINDOW (widget), &width, &height);
  if (area.width > 0 && area.height > 0 && (width > area.width || height > area.height))
    gtk_window_set_default_size (GTK_WINDOW (widget), MIN (width, area.width), MIN (height, area.height));
}

static void
imzala_window_dispose (GObject *object)
{
  ImzalaWindow *self = IMZALA_WINDOW (object);

  imzala_window_clear_job (self);
  g_clear_object (&self->job_signals);
  g_clear_object (&self->reader_monitor_signals);
  g_clear_object (&self->reader_monitor);
  g_clear_object (&self->token_list_signals);
  gtk_widget_dispose_template (GTK_WIDGET (self), IMZALA_TYPE_WINDOW);
  self->pin_change_page = NULL;
  self->unblock_page = NULL;
  self->tokens_page = NULL;
  self->doctor_page = NULL;
  self->verify_page = NULL;
  self->portal_confirm_page = NULL;
  self->sign_page = NULL;
  self->result_page = NULL;
  self->failure_page = NULL;
  self->file_sign_page = NULL;
  g_clear_error (&self->load_error);

  g_clear_object (&self->settings);
  g_clear_object (&self->token_list);
  g_clear_pointer (&self->job_url, g_free);
  g_clear_pointer (&self->job_code, g_free);
  g_clear_pointer (&self->pending_url, g_free);
  g_clear_pointer (&self->pending_code, g_free);
  g_clear_pointer (&self->return_page, g_free);
  g_clear_pointer (&self->portal_host, g_free);

  G_OBJECT_CLASS (imzala_window_parent_class)->dispose (object);
}

static void
imzala_window_class_init (ImzalaWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = imzala_window_dispose;
  widget_class->realize = imzala_window_realize;

  /* Emitted when a listing of the tokens has ended and reached the pages. */
  signals[SIGNAL_TOKENS_CHANGED] =
    g_signal_new ("tokens-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 0);

  g_type_ensure (IMZALA_TYPE_CODE_PAGE);
  g_type_ensure (IMZALA_TYPE_PORTAL_CONFIRM_PAGE);
  g_type_ensure (IMZALA_TYPE_SIGN_PAGE);
  g_type_ensure (IMZALA_TYPE_RESULT_PAGE);
  g_type_ensure (IMZALA_TYPE_FAILURE_PAGE);
  g_type_ensure (IMZALA_TYPE_PIN_CHANGE_PAGE);
  g_type_ensure (IMZALA_TYPE_UNBLOCK_PAGE);
  g_type_ensure (IMZALA_TYPE_TOKENS_PAGE);
  g_type_ensure (IMZALA_TYPE_DOCTOR_PAGE);
  g_type_ensure (IMZALA_TYPE_VERIFY_PAGE);

  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/imzala/Imzala/imzala-window.ui");
  gtk_widget_class_bind_template_child (widget_class, ImzalaWindow, window_title);
  gtk_widget_class_bind_template_child (widget_class, ImzalaWindow, back_button);
  gtk_widget_class_bind_template_child (widget_class, ImzalaWindow, toast_overlay);
  gtk_widget_class_bind_template_child (widget_class, ImzalaWindow, stack);
  gtk_widget_class_bind_template_child (widget_class, ImzalaWindow, code_page);
  gtk_widget_class_bind_template_child (widget_class, ImzalaWindow, portal_confirm_slot);
  gtk_widget_class_bind_template_child (widget_class, ImzalaWindow, loading_label);
  gtk_widget_class_bind_template_child (widget_class, ImzalaWindow, sign_slot);
  gtk_widget_class_bind_template_child (widget_class, ImzalaWindow, result_slot);
  gtk_widget_class_bind_template_child (widget_class, ImzalaWindow, failure_slot);
  gtk_widget_class_bind_template_child (widget_class, ImzalaWindow, pin_change_slot);
  gtk_widget_class_bind_template_child (widget_class, ImzalaWindow, file_sign_slot);
  gtk_widget_class_bind_template_child (widget_class, ImzalaWindow, unblock_slot);
  gtk_widget_class_bind_template_child (widget_class, ImzalaWindow, tokens_slot);
  gtk_widget_class_bind_template_child (widget_class, ImzalaWindow, doctor_slot);
  gtk_widget_class_bind_template_child (widget_class, ImzalaWindow, verify_slot);
  gtk_widget_class_bind_template_child (widget_class, ImzalaWindow, menu_button);
  gtk_widget_class_bind_template_child (widget_class, ImzalaWindow, primary_menu);
  gtk_widget_class_bind_template_callback (widget_class, imzala_window_update_actions);
  gtk_widget_class_bind_template_callback (widget_class, imzala_window_portal_url_changed);

  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "win.back", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_F5, 0, "win.refresh-tokens", NULL);
}

static void
imzala_window_init (ImzalaWindow *self)
{
  GtkEventController *controller;

  self->job_signals = g_signal_group_new (IMZALA_TYPE_SIGNING_JOB);
  g_signal_group_connect_object (self->job_signals, "notify::state",
                                 G_CALLBACK (job_state_cb), self, G_CONNECT_SWAPPED);
  g_signal_group_connect_object (self->job_signals, "notify::certificate",
                                 G_CALLBACK (imzala_window_update_actions), self, G_CONNECT_SWAPPED);
  g_signal_group_connect_object (self->job_signals, "notify::needs-login",
                                 G_CALLBACK (imzala_window_update_actions), self, G_CONNECT_SWAPPED);
  g_signal_group_connect_object (self->job_signals, "notify::logged-in",
                                 G_CALLBACK (imzala_window_update_actions), self, G_CONNECT_SWAPPED);
  self->token_list_signals = g_signal_group_new (IMZALA_TYPE_TOKEN_LIST);
  g_signal_group_connect_object (self->token_list_signals, "notify::loading",
                                 G_CALLBACK (token_list_loading_cb), self, G_CONNECT_SWAPPED);
  self->reader_monitor_signals = g_signal_group_new (IMZALA_TYPE_READER_MONITOR);
  g_signal_group_connect_object (self->reader_monitor_signals, "card-inserted",
                                 G_CALLBACK (card_changed_cb), self, G_CONNECT_SWAPPED);
  g_signal_group_connect_object (self->reader_monitor_signals, "card-removed",
                                 G_CALLBACK (card_changed_cb), self, G_CONNECT_SWAPPED);

  gtk_widget_init_template (GTK_WIDGET (self));

  gtk_menu_button_set_create_popup_func (self->menu_button, menu_button_create_popup_cb, self, NULL);

  controller = gtk_event_controller_key_new ();
  gtk_event_controller_set_propagation_phase (controller, GTK_PHASE_CAPTURE);
  g_signal_connect_object (controller, "key-pressed", G_CALLBACK (early_key_pressed_cb),
                           self, G_CONNECT_SWAPPED);
  gtk_widget_add_controller (GTK_WIDGET (self), controller);

  imzala_window_actions_init (self);
  if (g_strcmp0 (PROFILE, "development") == 0)
    gtk_widget_add_css_class (GTK_WIDGET (self), "devel");

  set_portal_host (self, NULL);
  imzala_window_update_actions (self);
}

ImzalaWindow *
imzala_window_new (ImzalaApplication *application,
                   ImzalaSettings    *settings)
{
  ImzalaWindow *self;
  g_autofree char *portal = NULL;

  g_return_val_if_fail (IMZALA_IS_SETTINGS (settings), NULL);

  self = g_object_new (IMZALA_TYPE_WINDOW,
                       "application", application,
                       NULL);
  self->settings = g_object_ref (settings);

  /* The first allowed portal is the one to use when none is named. */
  portal = imzala_settings_dup_default_portal (settings);
  if (portal != NULL)
    imzala_code_page_set_portal_url (self->code_page, portal);
  imzala_window_portal_url_changed (self);
  imzala_window_show_code_page (self);
  exit_on_first_frame_init (self);
  return self;
}

void
imzala_window_open_signature (ImzalaWindow *self,
                              GFile        *signature,
                              GFile        *content)
{
  g_return_if_fail (IMZALA_IS_WINDOW (self));
  g_return_if_fail (G_IS_FILE (signature));

  g_action_group_activate_action (G_ACTION_GROUP (self), "show-verify", NULL);
  imzala_verify_page_open (self->verify_page, signature, content);
}
