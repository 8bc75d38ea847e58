#define G_LOG_DOMAIN "imzala-gui"

#include "config.h"

#include <glib/gi18n.h>

#include "imzala-code-page.h"
#include "imzala-error.h"
#include "imzala-failure-page.h"
#include "imzala-pin-change-page.h"
#include "imzala-portal-client.h"
#include "imzala-portal-confirm-page.h"
#include "imzala-result-page.h"
#include "imzala-sign-page.h"
#include "imzala-signing-job.h"
#include "imzala-tokens-page.h"
#include "imzala-unblock-page.h"
#include "imzala-window.h"

struct _ImzalaWindow
{
  AdwApplicationWindow     parent_instance;

  /* Template widgets. */
  AdwWindowTitle          *window_title;
  GtkWidget               *back_button;
  AdwToastOverlay         *toast_overlay;
  GtkStack                *stack;
  ImzalaCodePage          *code_page;
  ImzalaPortalConfirmPage *portal_confirm_page;
  GtkLabel                *loading_label;
  ImzalaSignPage          *sign_page;
  ImzalaResultPage        *result_page;
  ImzalaFailurePage       *failure_page;
  ImzalaPinChangePage     *pin_change_page;
  ImzalaUnblockPage       *unblock_page;
  ImzalaTokensPage        *tokens_page;

  GSettings               *settings;
  ImzalaModuleSet         *module_set;
  ImzalaReaderMonitor     *reader_monitor;
  GError                  *module_error;
  GPtrArray               *tokens;
  GCancellable            *cancellable;      /* token listing, PIN change, unblock */

  ImzalaSigningJob        *job;
  char                    *job_url;          /* what the current or last job used */
  char                    *job_code;
  char                    *pending_url;      /* waiting for the user's consent or the modules */
  char                    *pending_code;
  gboolean                 start_when_loaded;
  GHashTable              *confirmed_origins; /* consent for this session only */
  char                    *return_page;      /* where win.back leaves the tool pages to */
  char                    *portal_host;
};

G_DEFINE_FINAL_TYPE (ImzalaWindow, imzala_window, ADW_TYPE_APPLICATION_WINDOW)

enum {
  SIGNAL_TOKENS_CHANGED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void imzala_window_update_actions (ImzalaWindow *self);

/* ---- Portals and the allow-list ---- */

/* "https://host[:port]" with the port only when it is not the default, the
 * form the allow-list holds. NULL for a URL that cannot be parsed. */
static char *
origin_for_url (const char *url,
                char      **host_out)
{
  g_autoptr(GUri) uri = NULL;
  const char *scheme;
  const char *host;
  int port;

  if (url == NULL)
    return NULL;
  uri = g_uri_parse (url, G_URI_FLAGS_NONE, NULL);
  if (uri == NULL || g_uri_get_host (uri) == NULL || *g_uri_get_host (uri) == '\0')
    return NULL;

  scheme = g_uri_get_scheme (uri);
  host = g_uri_get_host (uri);
  port = g_uri_get_port (uri);

  if (port == -1 || (g_ascii_strcasecmp (scheme, "https") == 0 && port == 443))
    {
      if (host_out != NULL)
        *host_out = g_ascii_strdown (host, -1);
      return g_strdup_printf ("%s://%s", scheme, host);
    }
  if (host_out != NULL)
    *host_out = g_strdup_printf ("%s:%d", host, port);
  return g_strdup_printf ("%s://%s:%d", scheme, host, port);
}

static gboolean
origin_is_allowed (ImzalaWindow *self,
                   const char   *origin)
{
  g_auto(GStrv) allowed = NULL;
  g_autofree char *lower = g_ascii_strdown (origin, -1);

  if (g_hash_table_contains (self->confirmed_origins, lower))
    return TRUE;
  if (self->settings == NULL)
    return FALSE;

  allowed = g_settings_get_strv (self->settings, "allowed-portals");
  for (guint i = 0; allowed[i] != NULL; i++)
    {
      g_autofree char *entry = origin_for_url (allowed[i], NULL);
      g_autofree char *entry_lower = entry ? g_ascii_strdown (entry, -1) : NULL;

      if (entry_lower != NULL && g_str_equal (entry_lower, lower))
        return TRUE;
    }
  return FALSE;
}

static char *
ca_file_for_origin (ImzalaWindow *self,
                    const char   *origin)
{
  g_autoptr(GVariant) files = NULL;
  char *path = NULL;

  if (self->settings == NULL)
    return NULL;
  files = g_settings_get_value (self->settings, "portal-ca-files");
  if (!g_variant_lookup (files, origin, "s", &path))
    return NULL;
  return path;
}

static void
set_portal_host (ImzalaWindow *self,
                 const char   *host)
{
  g_free (self->portal_host);
  self->portal_host = g_strdup (host);
  adw_window_title_set_subtitle (self->window_title,
                                 host ? host : _("No portal chosen"));
}

static void
portal_url_changed_cb (ImzalaWindow *self)
{
  g_autofree char *url = NULL;
  g_autofree char *host = NULL;
  g_autofree char *origin = NULL;

  /* While a job runs, the header names the portal the job talks to. */
  if (self->job != NULL && imzala_signing_job_get_state (self->job) != IMZALA_JOB_STATE_FAILED)
    return;
  url = imzala_code_page_dup_portal_url (self->code_page);
  origin = origin_for_url (url, &host);
  set_portal_host (self, host);
}

/* ---- Pages ---- */

/* What the window's title calls a page, or NULL for a page without a name
 * of its own (the short wait while a request is fetched). */
static const char *
page_title (const char *name)
{
  if (g_strcmp0 (name, "code") == 0)
    return _("Verification Code");
  if (g_strcmp0 (name, "portal-confirm") == 0)
    return _("Unknown Portal");
  if (g_strcmp0 (name, "sign") == 0)
    /* Translators: the window's title on the page with the texts to sign,
     * the certificates and the PIN. */
    return C_("page", "Signature");
  if (g_strcmp0 (name, "result") == 0)
    /* Translators: the window's title on the page that says how a request
     * ended (Sonuç). */
    return C_("page", "Result");
  if (g_strcmp0 (name, "failure") == 0)
    /* Translators: the window's title on the page that says what went
     * wrong. */
    return C_("page", "Error");
  if (g_strcmp0 (name, "pin-change") == 0)
    return _("Change PIN");
  if (g_strcmp0 (name, "unblock") == 0)
    return _("Unblock PIN");
  if (g_strcmp0 (name, "tokens") == 0)
    return _("Cards");
  return NULL;
}

static void
show_page (ImzalaWindow *self,
           const char   *name)
{
  const char *title = page_title (name);

  gtk_stack_set_visible_child_name (self->stack, name);
  /* The window's title names the page too: the task switcher and a screen
   * reader say where the user is, not only which application. */
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

static gboolean
is_tool_page (const char *name)
{
  return g_strcmp0 (name, "tokens") == 0 ||
         g_strcmp0 (name, "pin-change") == 0 ||
         (g_strcmp0 (name, "unblock") == 0);
}

static void
show_code_page (ImzalaWindow *self)
{
  show_page (self, "code");
  imzala_code_page_focus_code (self->code_page);
}

/* ---- Tokens (for the Cards, PIN change and unblock pages) ---- */

static void
list_tokens_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(ImzalaWindow) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) tokens = NULL;

  tokens = imzala_module_set_list_tokens_finish (IMZALA_MODULE_SET (object), result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  if (error != NULL)
    g_debug ("Listing the tokens failed: %s", error->message);

  g_clear_pointer (&self->tokens, g_ptr_array_unref);
  if (tokens != NULL)
    self->tokens = g_ptr_array_ref (tokens);

  imzala_tokens_page_set_loading (self->tokens_page, FALSE);
  imzala_tokens_page_set_tokens (self->tokens_page, tokens, error);
  imzala_pin_change_page_set_tokens (self->pin_change_page, tokens);
  imzala_unblock_page_set_tokens (self->unblock_page, tokens);
  g_signal_emit (self, signals[SIGNAL_TOKENS_CHANGED], 0);
}

static void
refresh_tokens (ImzalaWindow *self)
{
  if (self->module_set == NULL)
    return;

  imzala_tokens_page_set_loading (self->tokens_page, TRUE);
  imzala_module_set_list_tokens_async (self->module_set, self->cancellable,
                                       list_tokens_cb, g_object_ref (self));
}

/* A card went in or out: the Cards, PIN change and unblock pages list the
 * tokens again, and a shown request its certificates. */
static void
card_changed_cb (ImzalaWindow *self,
                 ImzalaReader *reader)
{
  if (self->job != NULL && imzala_signing_job_get_state (self->job) == IMZALA_JOB_STATE_CHOOSING)
    imzala_signing_job_refresh_tokens (self->job);
  refresh_tokens (self);
}

/* ---- The signing job ---- */

static void
clear_job (ImzalaWindow *self)
{
  if (self->job == NULL)
    return;

  g_signal_handlers_disconnect_by_data (self->job, self);
  imzala_signing_job_cancel (self->job);
  imzala_sign_page_set_job (self->sign_page, NULL);
  imzala_unblock_page_set_job (self->unblock_page, NULL);
  g_clear_object (&self->job);
}

static void
show_job_done (ImzalaWindow *self)
{
  ImzalaRequest *request = imzala_signing_job_get_request (self->job);
  const char *message = imzala_signing_job_get_result_message (self->job);

  if (request != NULL && imzala_request_get_purpose (request) == IMZALA_PURPOSE_UNBLOCK)
    {
      imzala_result_page_set_result (self->result_page, _("Your PIN Was Unblocked"), message,
                                     imzala_request_get_created_at (request), NULL, FALSE);
      refresh_tokens (self);
    }
  else
    {
      imzala_result_page_set_result (self->result_page, _("Your Transaction Was Successful"), message,
                                     request ? imzala_request_get_created_at (request) : NULL,
                                     imzala_signing_job_get_signed_at (self->job),
                                     imzala_signing_job_get_signatures (self->job) != NULL);
    }
  show_page (self, "result");
}

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
      break;

    case IMZALA_JOB_STATE_FETCHING:
      {
        g_autofree char *text = NULL;

        /* Translators: %s is the portal's host name. */
        text = g_strdup_printf (_("Fetching the request from %s and looking for your card…"),
                                imzala_portal_get_host (imzala_signing_job_get_portal (self->job)));
        gtk_label_set_text (self->loading_label, text);
        show_page (self, "loading");
      }
      break;

    case IMZALA_JOB_STATE_CHOOSING:
      if (unblock)
        {
          imzala_unblock_page_set_job (self->unblock_page, self->job);
          imzala_unblock_page_set_busy (self->unblock_page, FALSE);
          imzala_unblock_page_set_error (self->unblock_page, error ? error->message : NULL);
          show_page (self, "unblock");
        }
      else
        {
          imzala_sign_page_set_error (self->sign_page, error ? error->message : NULL);
          show_page (self, "sign");
          imzala_sign_page_focus_pin (self->sign_page);
        }
      break;

    case IMZALA_JOB_STATE_SIGNING:
    case IMZALA_JOB_STATE_SUBMITTING:
      imzala_sign_page_set_error (self->sign_page, NULL);
      show_page (self, "sign");
      break;

    case IMZALA_JOB_STATE_UNBLOCKING:
      imzala_unblock_page_set_error (self->unblock_page, NULL);
      imzala_unblock_page_set_busy (self->unblock_page, TRUE);
      break;

    case IMZALA_JOB_STATE_DONE:
      show_job_done (self);
      break;

    case IMZALA_JOB_STATE_FAILED:
      if (error == NULL || g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          adw_toast_overlay_add_toast (self->toast_overlay, adw_toast_new (_("Cancelled.")));
          show_code_page (self);
        }
      else
        {
          imzala_failure_page_set_error (self->failure_page, error);
          show_page (self, "failure");
        }
      break;

    default:
      g_assert_not_reached ();
    }

  imzala_window_update_actions (self);
}

static void
start_job (ImzalaWindow *self,
           const char   *url,
           const char   *code)
{
  g_autoptr(ImzalaPortalClient) client = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *origin = origin_for_url (url, NULL);
  g_autofree char *ca_file = origin ? ca_file_for_origin (self, origin) : NULL;

  clear_job (self);

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
  if (self->module_set == NULL)
    {
      self->start_when_loaded = TRUE;
      gtk_label_set_text (self->loading_label, _("Looking for card software…"));
      show_page (self, "loading");
      return;
    }

  client = imzala_portal_client_new (url, ca_file, &error);
  if (client == NULL)
    {
      imzala_failure_page_set_error (self->failure_page, error);
      show_page (self, "failure");
      return;
    }

  self->job = imzala_signing_job_new (IMZALA_PORTAL (client), self->module_set);
  g_signal_connect_object (self->job, "notify::state", G_CALLBACK (job_state_cb), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (self->job, "notify::certificate",
                           G_CALLBACK (imzala_window_update_actions), self, G_CONNECT_SWAPPED);
  imzala_sign_page_set_job (self->sign_page, self->job);
  imzala_signing_job_start (self->job, code);
}

/* Checks the portal against the allow-list before anything is sent to it. */
static void
request_job (ImzalaWindow *self,
             const char   *url,
             const char   *code)
{
  g_autoptr(GUri) uri = NULL;
  g_autofree char *origin = NULL;

  origin = origin_for_url (url, NULL);
  if (origin == NULL)
    {
      imzala_code_page_set_error (self->code_page, _("This is not a portal address. It looks like https://portal.example.org."));
      show_code_page (self);
      return;
    }
  if (!g_str_has_prefix (origin, "https://"))
    {
      imzala_code_page_set_error (self->code_page, _("İmzala only talks to portals over a secure connection (https://)."));
      show_code_page (self);
      return;
    }

  if (!origin_is_allowed (self, origin))
    {
      g_free (self->pending_url);
      g_free (self->pending_code);
      self->pending_url = g_strdup (url);
      self->pending_code = g_strdup (code);
      imzala_portal_confirm_page_set_origin (self->portal_confirm_page, origin);
      show_page (self, "portal-confirm");
      return;
    }

  start_job (self, url, code);
}

/* ---- Actions ---- */

static void
next_activated (GSimpleAction *action,
                GVariant      *parameter,
                gpointer       user_data)
{
  ImzalaWindow *self = user_data;
  g_autofree char *url = imzala_code_page_dup_portal_url (self->code_page);
  const char *code = imzala_code_page_get_code (self->code_page);

  if (url == NULL)
    {
      imzala_code_page_set_error (self->code_page, _("Enter the portal’s address."));
      return;
    }
  if (code == NULL)
    return;

  request_job (self, url, code);
}

static void
trust_portal_activated (GSimpleAction *action,
                        GVariant      *parameter,
                        gpointer       user_data)
{
  ImzalaWindow *self = user_data;
  g_autofree char *url = g_steal_pointer (&self->pending_url);
  g_autofree char *code = g_steal_pointer (&self->pending_code);
  g_autofree char *origin = origin_for_url (url, NULL);

  if (origin == NULL)
    {
      show_code_page (self);
      return;
    }

  g_hash_table_add (self->confirmed_origins, g_ascii_strdown (origin, -1));
  if (self->settings != NULL && imzala_portal_confirm_page_get_remember (self->portal_confirm_page))
    {
      g_auto(GStrv) allowed = g_settings_get_strv (self->settings, "allowed-portals");
      g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
      g_auto(GStrv) updated = NULL;

      g_strv_builder_addv (builder, (const char **) allowed);
      g_strv_builder_add (builder, origin);
      updated = g_strv_builder_end (builder);
      g_settings_set_strv (self->settings, "allowed-portals", (const char * const *) updated);
    }

  if (code == NULL)
    show_code_page (self);
  else
    start_job (self, url, code);
}

static void
sign_activated (GSimpleAction *action,
                GVariant      *parameter,
                gpointer       user_data)
{
  ImzalaWindow *self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(ImzalaSecret) pin = NULL;

  if (self->job == NULL || imzala_signing_job_get_state (self->job) != IMZALA_JOB_STATE_CHOOSING)
    return;

  if (!imzala_signing_job_can_sign (self->job, &error))
    {
      imzala_sign_page_set_error (self->sign_page, error ? error->message : NULL);
      return;
    }
  if (!imzala_sign_page_get_ready (self->sign_page))
    {
      imzala_sign_page_set_error (self->sign_page, _("Type your PIN first."));
      imzala_sign_page_focus_pin (self->sign_page);
      return;
    }

  pin = imzala_sign_page_take_pin (self->sign_page);
  imzala_signing_job_sign (self->job, pin);
}

static void
cancel_activated (GSimpleAction *action,
                  GVariant      *parameter,
                  gpointer       user_data)
{
  ImzalaWindow *self = user_data;

  if (self->job != NULL)
    imzala_signing_job_cancel (self->job);
}

static void
retry_activated (GSimpleAction *action,
                 GVariant      *parameter,
                 gpointer       user_data)
{
  ImzalaWindow *self = user_data;
  g_autofree char *url = g_strdup (self->job_url);
  g_autofree char *code = g_strdup (self->job_code);

  /* Most failures end the job; trying again is a new job with the same code,
   * which the portal still accepts while it has not expired. */
  if (url == NULL || code == NULL)
    {
      show_code_page (self);
      return;
    }
  start_job (self, url, code);
}

static void
new_code_activated (GSimpleAction *action,
                    GVariant      *parameter,
                    gpointer       user_data)
{
  ImzalaWindow *self = user_data;

  clear_job (self);
  imzala_code_page_set_code (self->code_page, NULL);
  imzala_code_page_set_error (self->code_page, NULL);
  portal_url_changed_cb (self);
  show_code_page (self);
}

static void
back_activated (GSimpleAction *action,
                GVariant      *parameter,
                gpointer       user_data)
{
  ImzalaWindow *self = user_data;
  const char *page = gtk_stack_get_visible_child_name (self->stack);
  ImzalaJobState state = self->job ? imzala_signing_job_get_state (self->job) : IMZALA_JOB_STATE_IDLE;

  /* Escape first stops what is running, then goes back a step. */
  if (state == IMZALA_JOB_STATE_FETCHING || state == IMZALA_JOB_STATE_SIGNING ||
      state == IMZALA_JOB_STATE_SUBMITTING)
    {
      imzala_signing_job_cancel (self->job);
      return;
    }

  if (is_tool_page (page) && self->return_page != NULL &&
      !(g_str_equal (page, "unblock") && imzala_unblock_page_get_job (self->unblock_page) != NULL))
    {
      g_autofree char *target = g_steal_pointer (&self->return_page);

      /* The focus goes where that page puts it when it opens: the keyboard
       * would otherwise land on the first field of the page (the portal's
       * address on the code page) and type over it. */
      if (g_str_equal (target, "code"))
        show_code_page (self);
      else
        {
          show_page (self, target);
          if (g_str_equal (target, "sign"))
            imzala_sign_page_focus_pin (self->sign_page);
        }
      return;
    }

  if (g_str_equal (page, "code"))
    return;

  g_clear_pointer (&self->pending_url, g_free);
  g_clear_pointer (&self->pending_code, g_free);
  clear_job (self);
  portal_url_changed_cb (self);
  show_code_page (self);
}

static void
show_tool_page (ImzalaWindow *self,
                const char   *name)
{
  const char *current = gtk_stack_get_visible_child_name (self->stack);

  if (!is_tool_page (current))
    {
      g_free (self->return_page);
      self->return_page = g_strdup (current);
    }
  refresh_tokens (self);
  show_page (self, name);
}

static void
show_tokens_activated (GSimpleAction *action,
                       GVariant      *parameter,
                       gpointer       user_data)
{
  show_tool_page (user_data, "tokens");
}

static void
show_pin_change_activated (GSimpleAction *action,
                           GVariant      *parameter,
                           gpointer       user_data)
{
  ImzalaWindow *self = user_data;

  /* Shown first, so that the reset puts the focus in the form. */
  show_tool_page (self, "pin-change");
  imzala_pin_change_page_reset (self->pin_change_page);
}

static void
show_unblock_activated (GSimpleAction *action,
                        GVariant      *parameter,
                        gpointer       user_data)
{
  ImzalaWindow *self = user_data;

  /* An unblock job that is not choosing any more is over; the page goes back
   * to the PUK way. */
  if (self->job != NULL && imzala_signing_job_get_state (self->job) != IMZALA_JOB_STATE_CHOOSING)
    imzala_unblock_page_set_job (self->unblock_page, NULL);
  imzala_unblock_page_reset (self->unblock_page);
  show_tool_page (self, "unblock");
}

static void
refresh_tokens_activated (GSimpleAction *action,
                          GVariant      *parameter,
                          gpointer       user_data)
{
  ImzalaWindow *self = user_data;

  if (self->job != NULL && imzala_signing_job_get_state (self->job) == IMZALA_JOB_STATE_CHOOSING)
    imzala_signing_job_refresh_tokens (self->job);
  refresh_tokens (self);
}

static void
change_pin_cb (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(ImzalaWindow) self = user_data;
  g_autoptr(GError) error = NULL;

  imzala_pin_change_page_set_busy (self->pin_change_page, FALSE);
  if (!imzala_token_change_pin_finish (IMZALA_TOKEN (object), result, &error))
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        imzala_pin_change_page_set_error (self->pin_change_page, error->message);
    }
  else
    {
      imzala_pin_change_page_reset (self->pin_change_page);
      adw_toast_overlay_add_toast (self->toast_overlay,
                                   adw_toast_new (_("The PIN was changed. Use the new PIN from now on.")));
    }
  refresh_tokens (self);
}

static void
change_pin_activated (GSimpleAction *action,
                      GVariant      *parameter,
                      gpointer       user_data)
{
  ImzalaWindow *self = user_data;
  g_autoptr(ImzalaSecret) old_pin = NULL;
  g_autoptr(ImzalaSecret) new_pin = NULL;
  g_autoptr(GError) error = NULL;
  ImzalaToken *token;

  if (!imzala_pin_change_page_take_pins (self->pin_change_page, &old_pin, &new_pin, &error))
    {
      imzala_pin_change_page_set_error (self->pin_change_page, error->message);
      return;
    }

  token = imzala_pin_change_page_get_token (self->pin_change_page);
  imzala_pin_change_page_set_error (self->pin_change_page, NULL);
  imzala_pin_change_page_set_busy (self->pin_change_page, TRUE);
  imzala_token_change_pin_async (token, old_pin, new_pin, self->cancellable,
                                 change_pin_cb, g_object_ref (self));
}

static void
unblock_pin_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(ImzalaWindow) self = user_data;
  g_autoptr(GError) error = NULL;

  imzala_unblock_page_set_busy (self->unblock_page, FALSE);
  if (!imzala_token_unblock_pin_finish (IMZALA_TOKEN (object), result, &error))
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        imzala_unblock_page_set_error (self->unblock_page, error->message);
    }
  else
    {
      imzala_unblock_page_reset (self->unblock_page);
      adw_toast_overlay_add_toast (self->toast_overlay,
                                   adw_toast_new (_("The PIN was unblocked. Use the new PIN from now on.")));
    }
  refresh_tokens (self);
}

static void
unblock_pin_activated (GSimpleAction *action,
                       GVariant      *parameter,
                       gpointer       user_data)
{
  ImzalaWindow *self = user_data;
  g_autoptr(ImzalaSecret) puk = NULL;
  g_autoptr(ImzalaSecret) new_pin = NULL;
  g_autoptr(GError) error = NULL;
  ImzalaSigningJob *job = imzala_unblock_page_get_job (self->unblock_page);

  if (!imzala_unblock_page_take_secrets (self->unblock_page, &puk, &new_pin, &error))
    {
      imzala_unblock_page_set_error (self->unblock_page, error->message);
      return;
    }
  imzala_unblock_page_set_error (self->unblock_page, NULL);

  if (job != NULL)
    {
      imzala_signing_job_unblock (job, new_pin);
      return;
    }

  imzala_unblock_page_set_busy (self->unblock_page, TRUE);
  imzala_token_unblock_pin_async (imzala_unblock_page_get_token (self->unblock_page),
                                  puk, new_pin, self->cancellable,
                                  unblock_pin_cb, g_object_ref (self));
}

/* Writes the signatures and says so in a toast; the save dialog's answer
 * comes here, and tests call it with a path of their own. */
GStrv
imzala_window_save_signatures (ImzalaWindow  *self,
                               const char    *path,
                               GError       **error)
{
  g_auto(GStrv) written = NULL;
  g_autoptr(GError) local_error = NULL;
  g_autofree char *text = NULL;
  g_autofree char *name = NULL;

  g_return_val_if_fail (IMZALA_IS_WINDOW (self), NULL);
  g_return_val_if_fail (path != NULL, NULL);

  if (self->job == NULL || imzala_signing_job_get_signatures (self->job) == NULL)
    {
      g_set_error_literal (error, IMZALA_ERROR, IMZALA_ERROR_FAILED,
                           _("There is no signature to save."));
      return NULL;
    }

  /* A few kilobytes to a local file: quick enough for the main thread. */
  written = imzala_signing_job_save_signatures (self->job, path, &local_error);
  if (written == NULL)
    {
      adw_toast_overlay_add_toast (self->toast_overlay, adw_toast_new (local_error->message));
      g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }

  name = g_path_get_basename (written[0]);
  /* Translators: %s is a file name. */
  text = g_strdup_printf (_("The signature was saved as %s."), name);
  adw_toast_overlay_add_toast (self->toast_overlay, adw_toast_new (text));
  return g_steal_pointer (&written);
}

static void
save_response_cb (ImzalaWindow         *self,
                  int                   response,
                  GtkFileChooserNative *chooser)
{
  g_autoptr(GFile) file = NULL;
  g_autofree char *path = NULL;
  g_auto(GStrv) written = NULL;

  if (response == GTK_RESPONSE_ACCEPT)
    {
      file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (chooser));
      path = file ? g_file_get_path (file) : NULL;
    }
  if (path != NULL)
    written = imzala_window_save_signatures (self, path, NULL);

  g_object_unref (chooser);
}

static void
save_signature_activated (GSimpleAction *action,
                          GVariant      *parameter,
                          gpointer       user_data)
{
  ImzalaWindow *self = user_data;
  GPtrArray *signatures;
  ImzalaRequest *request;
  GtkFileChooserNative *chooser;
  gboolean several;

  if (self->job == NULL || (signatures = imzala_signing_job_get_signatures (self->job)) == NULL)
    return;

  several = signatures->len > 1;
  request = imzala_signing_job_get_request (self->job);
  chooser = gtk_file_chooser_native_new (several ? _("Save the Signatures in a Folder") : _("Save the Signature"),
                                         GTK_WINDOW (self),
                                         several ? GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER
                                                 : GTK_FILE_CHOOSER_ACTION_SAVE,
                                         _("_Save"), _("_Cancel"));
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (chooser), TRUE);
  if (!several)
    {
      g_autoptr(GtkFileFilter) filter = gtk_file_filter_new ();
      g_autofree char *name = g_strdup_printf ("%s.p7s",
                                               request ? imzala_request_get_code (request) : "imza");

      gtk_file_filter_set_name (filter, _("CMS signatures (.p7s)"));
      gtk_file_filter_add_pattern (filter, "*.p7s");
      gtk_file_filter_add_mime_type (filter, "application/pkcs7-signature");
      gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (chooser), filter);
      gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (chooser), name);
    }

  g_signal_connect_object (chooser, "response", G_CALLBACK (save_response_cb), self, G_CONNECT_SWAPPED);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (chooser));
}

static const GActionEntry win_actions[] = {
  { "next", next_activated, NULL, NULL, NULL },
  { "trust-portal", trust_portal_activated, NULL, NULL, NULL },
  { "sign", sign_activated, NULL, NULL, NULL },
  { "cancel", cancel_activated, NULL, NULL, NULL },
  { "retry", retry_activated, NULL, NULL, NULL },
  { "new-code", new_code_activated, NULL, NULL, NULL },
  { "back", back_activated, NULL, NULL, NULL },
  { "save-signature", save_signature_activated, NULL, NULL, NULL },
  { "show-tokens", show_tokens_activated, NULL, NULL, NULL },
  { "show-pin-change", show_pin_change_activated, NULL, NULL, NULL },
  { "show-unblock", show_unblock_activated, NULL, NULL, NULL },
  { "refresh-tokens", refresh_tokens_activated, NULL, NULL, NULL },
  { "change-pin", change_pin_activated, NULL, NULL, NULL },
  { "unblock-pin", unblock_pin_activated, NULL, NULL, NULL },
};

static void
set_action_enabled (ImzalaWindow *self,
                    const char   *name,
                    gboolean      enabled)
{
  GAction *action = g_action_map_lookup_action (G_ACTION_MAP (self), name);

  g_simple_action_set_enabled (G_SIMPLE_ACTION (action), enabled);
}

static void
imzala_window_update_actions (ImzalaWindow *self)
{
  ImzalaJobState state = self->job ? imzala_signing_job_get_state (self->job) : IMZALA_JOB_STATE_IDLE;
  gboolean busy = state == IMZALA_JOB_STATE_FETCHING || state == IMZALA_JOB_STATE_SIGNING ||
                  state == IMZALA_JOB_STATE_SUBMITTING || state == IMZALA_JOB_STATE_UNBLOCKING;

  set_action_enabled (self, "next", imzala_code_page_get_valid (self->code_page) && !busy);
  set_action_enabled (self, "sign", state == IMZALA_JOB_STATE_CHOOSING &&
                                    imzala_sign_page_get_ready (self->sign_page) &&
                                    imzala_signing_job_get_certificate (self->job) != NULL);
  set_action_enabled (self, "cancel", busy);
  set_action_enabled (self, "save-signature", state == IMZALA_JOB_STATE_DONE &&
                                              imzala_signing_job_get_signatures (self->job) != NULL);
  set_action_enabled (self, "refresh-tokens", self->module_set != NULL);
}

/* ---- Public API ---- */

void
imzala_window_set_module_set (ImzalaWindow    *self,
                              ImzalaModuleSet *module_set,
                              const GError    *load_error)
{
  g_return_if_fail (IMZALA_IS_WINDOW (self));

  g_set_object (&self->module_set, module_set);
  g_clear_error (&self->module_error);
  if (load_error != NULL)
    self->module_error = g_error_copy (load_error);

  imzala_tokens_page_set_module_set (self->tokens_page, module_set, load_error);
  refresh_tokens (self);
  imzala_window_update_actions (self);

  if (self->start_when_loaded && module_set != NULL)
    {
      g_autofree char *url = g_strdup (self->job_url);
      g_autofree char *code = g_strdup (self->job_code);

      self->start_when_loaded = FALSE;
      start_job (self, url, code);
    }
}

void
imzala_window_set_reader_monitor (ImzalaWindow        *self,
                                  ImzalaReaderMonitor *monitor)
{
  g_return_if_fail (IMZALA_IS_WINDOW (self));
  g_return_if_fail (monitor == NULL || IMZALA_IS_READER_MONITOR (monitor));

  if (self->reader_monitor != NULL)
    g_signal_handlers_disconnect_by_data (self->reader_monitor, self);
  g_set_object (&self->reader_monitor, monitor);
  if (monitor != NULL)
    {
      g_signal_connect_object (monitor, "card-inserted", G_CALLBACK (card_changed_cb), self, G_CONNECT_SWAPPED);
      g_signal_connect_object (monitor, "card-removed", G_CALLBACK (card_changed_cb), self, G_CONNECT_SWAPPED);
    }
  imzala_tokens_page_set_reader_monitor (self->tokens_page, monitor);
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
          state == IMZALA_JOB_STATE_UNBLOCKING)
        {
          adw_toast_overlay_add_toast (self->toast_overlay,
                                       adw_toast_new (_("Finish or cancel the signature in progress first.")));
          return;
        }
      clear_job (self);
    }

  if (portal_url != NULL)
    imzala_code_page_set_portal_url (self->code_page, portal_url);
  imzala_code_page_set_code (self->code_page, code);
  portal_url_changed_cb (self);

  url = imzala_code_page_dup_portal_url (self->code_page);
  if (url != NULL && code != NULL && imzala_code_page_get_valid (self->code_page))
    request_job (self, url, imzala_code_page_get_code (self->code_page));
  else if (url != NULL && portal_url != NULL && code == NULL)
    {
      g_autofree char *origin = origin_for_url (url, NULL);

      /* A portal alone is also named before the user types a code for it. */
      if (origin != NULL && !origin_is_allowed (self, origin))
        {
          g_free (self->pending_url);
          self->pending_url = g_strdup (url);
          g_clear_pointer (&self->pending_code, g_free);
          imzala_portal_confirm_page_set_origin (self->portal_confirm_page, origin);
          show_page (self, "portal-confirm");
        }
      else
        show_code_page (self);
    }
  else
    show_code_page (self);
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

  return gtk_stack_get_child_by_name (self->stack, name);
}

const char *
imzala_window_get_portal_host (ImzalaWindow *self)
{
  g_return_val_if_fail (IMZALA_IS_WINDOW (self), NULL);

  return self->portal_host;
}

/* ---- GObject ---- */

static void
imzala_window_dispose (GObject *object)
{
  ImzalaWindow *self = IMZALA_WINDOW (object);

  g_cancellable_cancel (self->cancellable);
  clear_job (self);
  if (self->reader_monitor != NULL)
    g_signal_handlers_disconnect_by_data (self->reader_monitor, self);
  g_clear_object (&self->reader_monitor);
  gtk_widget_dispose_template (GTK_WIDGET (self), IMZALA_TYPE_WINDOW);

  g_clear_object (&self->cancellable);
  g_clear_object (&self->settings);
  g_clear_object (&self->module_set);
  g_clear_error (&self->module_error);
  g_clear_pointer (&self->tokens, g_ptr_array_unref);
  g_clear_pointer (&self->confirmed_origins, g_hash_table_unref);
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

  /* Emitted when a new list of tokens has reached the pages. */
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

  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/imzala/Imzala/imzala-window.ui");
  gtk_widget_class_bind_template_child (widget_class, ImzalaWindow, window_title);
  gtk_widget_class_bind_template_child (widget_class, ImzalaWindow, back_button);
  gtk_widget_class_bind_template_child (widget_class, ImzalaWindow, toast_overlay);
  gtk_widget_class_bind_template_child (widget_class, ImzalaWindow, stack);
  gtk_widget_class_bind_template_child (widget_class, ImzalaWindow, code_page);
  gtk_widget_class_bind_template_child (widget_class, ImzalaWindow, portal_confirm_page);
  gtk_widget_class_bind_template_child (widget_class, ImzalaWindow, loading_label);
  gtk_widget_class_bind_template_child (widget_class, ImzalaWindow, sign_page);
  gtk_widget_class_bind_template_child (widget_class, ImzalaWindow, result_page);
  gtk_widget_class_bind_template_child (widget_class, ImzalaWindow, failure_page);
  gtk_widget_class_bind_template_child (widget_class, ImzalaWindow, pin_change_page);
  gtk_widget_class_bind_template_child (widget_class, ImzalaWindow, unblock_page);
  gtk_widget_class_bind_template_child (widget_class, ImzalaWindow, tokens_page);
  gtk_widget_class_bind_template_callback (widget_class, imzala_window_update_actions);
  gtk_widget_class_bind_template_callback (widget_class, portal_url_changed_cb);

  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "win.back", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_F5, 0, "win.refresh-tokens", NULL);
}

static void
imzala_window_init (ImzalaWindow *self)
{
  self->cancellable = g_cancellable_new ();
  self->confirmed_origins = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  gtk_widget_init_template (GTK_WIDGET (self));

  g_action_map_add_action_entries (G_ACTION_MAP (self), win_actions, G_N_ELEMENTS (win_actions), self);
  if (g_strcmp0 (PROFILE, "development") == 0)
    gtk_widget_add_css_class (GTK_WIDGET (self), "devel");

  set_portal_host (self, NULL);
  imzala_tokens_page_set_module_set (self->tokens_page, NULL, NULL);
  imzala_window_update_actions (self);
}

ImzalaWindow *
imzala_window_new (ImzalaApplication *application,
                   GSettings         *settings)
{
  ImzalaWindow *self = g_object_new (IMZALA_TYPE_WINDOW,
                                     "application", application,
                                     NULL);

  if (settings != NULL)
    {
      g_auto(GStrv) allowed = g_settings_get_strv (settings, "allowed-portals");

      self->settings = g_object_ref (settings);
      /* The first allowed portal is the one to use when none is named. */
      if (allowed[0] != NULL)
        imzala_code_page_set_portal_url (self->code_page, allowed[0]);
    }
  portal_url_changed_cb (self);
  show_code_page (self);
  return self;
}
