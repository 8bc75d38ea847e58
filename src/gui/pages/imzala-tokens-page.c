#define G_LOG_DOMAIN "imzala-gui"

#include "config.h"

#include <glib/gi18n.h>

#include "imzala-card-cause.h"
#include "imzala-format.h"
#include "imzala-reader.h"
#include "imzala-text.h"
#include "imzala-tokens-page.h"

struct _ImzalaTokensPage
{
  AdwBin              parent_instance;

  AdwPreferencesGroup *readers_group;
  GtkBox              *tokens_box;
  AdwPreferencesGroup *modules_group;
  GtkSpinner          *spinner;

  GPtrArray           *token_groups;  /* GtkWidget, children of tokens_box */
  GPtrArray           *module_rows;   /* GtkWidget, rows of modules_group */
  GPtrArray           *reader_rows;   /* GtkWidget, rows of readers_group */
  ImzalaReaderMonitor *reader_monitor;
  GSignalGroup        *reader_monitor_signals;
  ImzalaTokenList     *token_list;
  GSignalGroup        *token_list_signals;
  GBindingGroup       *token_list_bindings;

  GPtrArray           *pending_tokens; /* ImzalaToken, groups still to make */
  guint                pending_next;
  guint                pending_tick;
  gboolean             pending_waits;  /* the listing's own frame is not over */
};

/* A listing of up to this many cards is made at once, in the frame that
 * paints it. Of a longer one only the first card is, and the others one per
 * frame from the next frame on while the page is shown. Each group is a few
 * rows of wrapping text that GTK lays out several times when it is
 * measured: 32 cards made at once stalled the window for over a second
 * (issue 12), one per frame keeps every frame short. The frame that first
 * paints the list is the longest anyway (the whole page is drawn again):
 * with 32 cards, making four in it took 37-42 ms of the main thread's CPU
 * on a slow machine, making one 25-29 ms. */
#define GROUPS_AT_ONCE 4

G_DEFINE_FINAL_TYPE (ImzalaTokensPage, imzala_tokens_page, ADW_TYPE_BIN)

static GtkWidget *
new_row (const char *title,
         const char *subtitle)
{
  GtkWidget *row = adw_action_row_new ();
  g_autofree char *shown_title = imzala_text_escape_unshown (title);

  /* Everything here comes from a card or a module: never markup, and one
   * line each, as the card or the module gives it (a reader's name is a
   * title). */
  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), shown_title);
  if (subtitle != NULL)
    {
      g_autofree char *shown = imzala_text_escape_unshown (subtitle);

      adw_action_row_set_subtitle (ADW_ACTION_ROW (row), shown);
    }
  return row;
}

static char *
describe_key_usage (ImzalaKeyUsage usage)
{
  static const struct { ImzalaKeyUsage bit; const char *name; } names[] = {
    { IMZALA_KEY_USAGE_DIGITAL_SIGNATURE, N_("digital signature") },
    { IMZALA_KEY_USAGE_NON_REPUDIATION, N_("non-repudiation") },
    { IMZALA_KEY_USAGE_KEY_ENCIPHERMENT, N_("key encipherment") },
    { IMZALA_KEY_USAGE_DATA_ENCIPHERMENT, N_("data encipherment") },
    { IMZALA_KEY_USAGE_KEY_AGREEMENT, N_("key agreement") },
    { IMZALA_KEY_USAGE_KEY_CERT_SIGN, N_("certificate signing") },
    { IMZALA_KEY_USAGE_CRL_SIGN, N_("CRL signing") },
  };
  g_autoptr(GPtrArray) parts = g_ptr_array_new ();

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    if (usage & names[i].bit)
      g_ptr_array_add (parts, (gpointer) _(names[i].name));
  if (parts->len == 0)
    return g_strdup (_("not stated"));
  g_ptr_array_add (parts, NULL);
  return g_strjoinv (", ", (char **) parts->pdata);
}

/* An expander's inner rows are made when it is first opened: made up
 * front, ~10 wrapping rows per certificate were measured at every resize
 * although closed, and a card with many certificates stalled the window
 * (issue 12). */
typedef void (*FillRowFunc) (AdwExpanderRow *row,
                             gpointer        item);

static void
expanded_cb (AdwExpanderRow *row,
             GParamSpec     *pspec,
             FillRowFunc     fill)
{
  if (!adw_expander_row_get_expanded (row))
    return;
  g_signal_handlers_disconnect_by_func (row, expanded_cb, fill);
  fill (row, g_object_get_data (G_OBJECT (row), "imzala-item"));
}

/* A closed row's title and subtitle stay on one line each (ellipsized;
 * the row's tooltip has the whole text). A wrapping label is measured
 * height-for-width, laid out again for every width asked, so each card
 * added to the page made every frame lay out all the rows again: 50–90 ms
 * frames at 32 cards, against 17 ms with single lines (issue 12). libadwaita
 * 1.2 has no title-lines on AdwExpanderRow, so the labels are set here,
 * before any inner row exists: the rows made when an expander is opened
 * wrap as usual. */
static void
set_single_lines (GtkWidget *widget)
{
  if (GTK_IS_LABEL (widget))
    {
      gtk_label_set_wrap (GTK_LABEL (widget), FALSE);
      gtk_label_set_ellipsize (GTK_LABEL (widget), PANGO_ELLIPSIZE_END);
    }
  for (GtkWidget *child = gtk_widget_get_first_child (widget);
       child != NULL;
       child = gtk_widget_get_next_sibling (child))
    set_single_lines (child);
}

static GtkWidget *
new_lazy_expander_row (gpointer    item,
                       FillRowFunc fill)
{
  GtkWidget *row = adw_expander_row_new ();

  g_object_set_data_full (G_OBJECT (row), "imzala-item", g_object_ref (item), g_object_unref);
  g_signal_connect (row, "notify::expanded", G_CALLBACK (expanded_cb), fill);
  return row;
}

static void
fill_certificate_row (AdwExpanderRow *expander,
                      gpointer        item)
{
  ImzalaCertificate *certificate = item;
  AdwExpanderRow *row = expander;
  g_autofree char *not_before = imzala_format_time (imzala_certificate_get_not_before (certificate));
  g_autofree char *not_after = imzala_format_time (imzala_certificate_get_not_after (certificate));
  g_autofree char *usage = describe_key_usage (imzala_certificate_get_key_usage (certificate));

  adw_expander_row_add_row (ADW_EXPANDER_ROW (row),
                            new_row (_("Subject"), imzala_certificate_get_subject (certificate)));
  if (imzala_certificate_get_tckn (certificate) != NULL)
    adw_expander_row_add_row (ADW_EXPANDER_ROW (row),
                              new_row (_("T.C. identity number"), imzala_certificate_get_tckn (certificate)));
  adw_expander_row_add_row (ADW_EXPANDER_ROW (row),
                            new_row (_("Issuer"), imzala_certificate_get_issuer (certificate)));
  adw_expander_row_add_row (ADW_EXPANDER_ROW (row), new_row (_("Valid from"), not_before));
  adw_expander_row_add_row (ADW_EXPANDER_ROW (row), new_row (_("Valid until"), not_after));
  adw_expander_row_add_row (ADW_EXPANDER_ROW (row),
                            new_row (_("Qualified electronic certificate"),
                                     imzala_certificate_is_qualified (certificate) ? _("Yes") : _("No")));
  adw_expander_row_add_row (ADW_EXPANDER_ROW (row),
                            new_row (_("Key"), imzala_certificate_get_key_description (certificate)));
  adw_expander_row_add_row (ADW_EXPANDER_ROW (row), new_row (_("Key usage"), usage));
  adw_expander_row_add_row (ADW_EXPANDER_ROW (row),
                            new_row (_("Serial number"), imzala_certificate_get_serial (certificate)));
  if (imzala_certificate_get_label (certificate) != NULL)
    adw_expander_row_add_row (ADW_EXPANDER_ROW (row),
                              new_row (_("Label on the card"), imzala_certificate_get_label (certificate)));
  adw_expander_row_add_row (ADW_EXPANDER_ROW (row),
                            new_row (_("SHA-256 fingerprint"), imzala_certificate_get_fingerprint (certificate)));
}

static GtkWidget *
new_certificate_row (ImzalaCertificate *certificate)
{
  GtkWidget *row = new_lazy_expander_row (certificate, fill_certificate_row);
  g_auto(GStrv) problems = imzala_certificate_describe_problems (certificate, NULL);
  g_autofree char *summary = NULL;
  g_autofree char *not_after = imzala_format_time (imzala_certificate_get_not_after (certificate));
  g_autofree char *holder = imzala_text_escape_unshown (imzala_certificate_get_holder_name (certificate));
  GtkWidget *icon;

  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), holder);

  if (imzala_certificate_is_ca (certificate))
    summary = g_strdup (_("Certificate authority certificate"));
  else if (imzala_certificate_is_recommended (certificate))
    /* Translators: %s is the date and time the certificate ends. */
    summary = g_strdup_printf (_("Qualified signing certificate, valid until %s"), not_after);
  else
    summary = g_strjoinv (" ", problems);
  adw_expander_row_set_subtitle (ADW_EXPANDER_ROW (row), summary);

  icon = gtk_image_new_from_icon_name (imzala_certificate_is_recommended (certificate)
                                       ? "emblem-ok-symbolic" : "dialog-information-symbolic");
  adw_expander_row_add_prefix (ADW_EXPANDER_ROW (row), icon);
  gtk_widget_set_tooltip_text (row, summary);
  return row;
}

static void
fill_token_details_row (AdwExpanderRow *row,
                        gpointer        item)
{
  ImzalaToken *token = item;
  ImzalaModule *module = imzala_token_get_module (token);
  g_autofree char *model = NULL;
  g_autofree char *software = NULL;

  /* Translators: a card's manufacturer and model. */
  model = g_strdup_printf (_("%s %s"), imzala_token_get_manufacturer (token), imzala_token_get_model (token));
  adw_expander_row_add_row (row, new_row (_("Manufacturer and model"), model));
  adw_expander_row_add_row (row, new_row (_("Serial number"), imzala_token_get_serial (token)));
  adw_expander_row_add_row (row, new_row (_("Reader or slot"), imzala_token_get_slot_description (token)));
  if (module != NULL)
    {
      /* Translators: a PKCS#11 module's name and file. */
      software = g_strdup_printf (_("%s (%s)"), imzala_module_get_name (module),
                                  imzala_module_get_path (module) ? imzala_module_get_path (module) : "");
      adw_expander_row_add_row (row, new_row (_("Card software"), software));
    }
}

/* What a technician asks for (maker, serial, slot, module file), in one
 * row that stays closed unless opened: the page speaks to the card's owner
 * first. */
static GtkWidget *
new_token_details_row (ImzalaToken *token)
{
  GtkWidget *row = new_lazy_expander_row (token, fill_token_details_row);

  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), C_("technical details", "Details"));
  adw_expander_row_set_subtitle (ADW_EXPANDER_ROW (row), _("For technical support"));
  adw_expander_row_add_prefix (ADW_EXPANDER_ROW (row),
                               gtk_image_new_from_icon_name ("dialog-information-symbolic"));
  return row;
}

static GtkWidget *
new_token_group (ImzalaToken *token)
{
  GtkWidget *group = adw_preferences_group_new ();
  GPtrArray *certificates = imzala_token_get_certificates (token);
  g_autofree char *pin_state = imzala_format_pin_state (token);
  g_autofree char *pin_length = imzala_format_pin_length (token);
  g_autofree char *pin_rule = NULL;
  g_autofree char *pin_text = NULL;
  g_autofree char *label = imzala_text_escape_unshown (imzala_token_get_label (token));
  g_autofree char *markup = g_markup_escape_text (label, -1);
  GtkWidget *pin_row;

  /* The card's name (its own string, one line; the group's title is
   * markup, and libadwaita 1.2 has no switch for it) and that it is in:
   * the reader, slot and maker are in the details row. */
  adw_preferences_group_set_title (ADW_PREFERENCES_GROUP (group), markup);
  adw_preferences_group_set_description (ADW_PREFERENCES_GROUP (group), C_("card state", "Card inserted"));

  /* The PIN's tries only when they matter, its length only when the card
   * states one a person can use. */
  if (pin_length != NULL)
    /* Translators: %s is a length such as "6–8 characters". */
    pin_rule = g_strdup_printf (_("The PIN has %s."), pin_length);
  if (pin_state == NULL)
    pin_state = g_strdup (_("Your PIN can be used."));
  pin_text = pin_rule ? g_strjoin (" ", pin_state, pin_rule, NULL) : g_strdup (pin_state);
  pin_row = new_row (_("PIN"), pin_text);
  gtk_widget_set_tooltip_text (pin_row, pin_text);
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (group), pin_row);

  /* A card that wants the PIN before it shows anything says so: its
   * certificates appear once a request's PIN was entered on the sign page. */
  if (certificates == NULL || certificates->len == 0)
    adw_preferences_group_add (ADW_PREFERENCES_GROUP (group),
                               new_row (_("No certificates on this card"),
                                        imzala_token_needs_login_to_list (token)
                                        ? _("The certificates on this card are shown after the PIN is entered.")
                                        : NULL));
  for (guint i = 0; certificates != NULL && i < certificates->len; i++)
    adw_preferences_group_add (ADW_PREFERENCES_GROUP (group),
                               new_certificate_row (g_ptr_array_index (certificates, i)));
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (group), new_token_details_row (token));
  /* Every closed line on one line: see set_single_lines(). */
  set_single_lines (group);
  return group;
}

static void
clear_token_groups (ImzalaTokensPage *self)
{
  for (guint i = 0; i < self->token_groups->len; i++)
    gtk_box_remove (self->tokens_box, g_ptr_array_index (self->token_groups, i));
  g_ptr_array_set_size (self->token_groups, 0);
}

static void
add_token_group (ImzalaTokensPage *self,
                 GtkWidget        *group)
{
  gtk_box_append (self->tokens_box, group);
  g_ptr_array_add (self->token_groups, group);
}

static ImzalaCardCause
find_cause (ImzalaTokensPage  *self,
            GPtrArray         *tokens,
            ImzalaReader     **reader_out)
{
  GListModel *readers = NULL;
  const GError *pcsc_error = NULL;

  if (self->reader_monitor != NULL)
    {
      if (imzala_reader_monitor_get_available (self->reader_monitor))
        readers = G_LIST_MODEL (self->reader_monitor);
      pcsc_error = imzala_reader_monitor_get_error (self->reader_monitor);
    }
  return imzala_card_cause_find (readers, pcsc_error, tokens, reader_out);
}

static const char *
cause_title (ImzalaCardCause cause)
{
  switch (cause)
    {
    case IMZALA_CARD_CAUSE_NO_READER:
      return _("No card reader found");
    case IMZALA_CARD_CAUSE_NOT_RECOGNIZED:
      /* Translators: Kart tanınmadı */
      return _("Card not recognised");
    case IMZALA_CARD_CAUSE_CARD_MUTE:
      return _("The card does not answer");
    case IMZALA_CARD_CAUSE_PCSC_UNAVAILABLE:
      return _("The smart card service is not running");
    case IMZALA_CARD_CAUSE_NONE:
    case IMZALA_CARD_CAUSE_NO_CARD:
    default:
      return _("No card found");
    }
}

static void update_readers (ImzalaTokensPage *self);

static void
clear_pending_groups (ImzalaTokensPage *self)
{
  if (self->pending_tick != 0)
    gtk_widget_remove_tick_callback (GTK_WIDGET (self), self->pending_tick);
  self->pending_tick = 0;
  g_clear_pointer (&self->pending_tokens, g_ptr_array_unref);
}

/* Tick callbacks run only while the page is mapped: the groups of a page
 * that is not shown are made when it is. */
static gboolean
add_pending_group_cb (GtkWidget     *widget,
                      GdkFrameClock *clock,
                      gpointer       user_data)
{
  ImzalaTokensPage *self = IMZALA_TOKENS_PAGE (widget);

  if (self->pending_waits)
    {
      /* Added while the listing came in: this is the frame that paints it. */
      self->pending_waits = FALSE;
      return G_SOURCE_CONTINUE;
    }
  add_token_group (self, new_token_group (g_ptr_array_index (self->pending_tokens, self->pending_next)));
  if (++self->pending_next < self->pending_tokens->len)
    return G_SOURCE_CONTINUE;
  self->pending_tick = 0;
  g_clear_pointer (&self->pending_tokens, g_ptr_array_unref);
  return G_SOURCE_REMOVE;
}

static void
tokens_changed_cb (ImzalaTokensPage *self)
{
  g_autoptr(GPtrArray) tokens = NULL;
  const GError *error = imzala_token_list_get_error (self->token_list);
  guint at_once;

  clear_pending_groups (self);
  clear_token_groups (self);

  if (error == NULL)
    tokens = imzala_token_list_dup_tokens (self->token_list);

  if (tokens == NULL)
    {
      GtkWidget *group = adw_preferences_group_new ();

      adw_preferences_group_add (ADW_PREFERENCES_GROUP (group),
                                 new_row (_("The cards could not be listed"),
                                          error ? error->message : NULL));
      add_token_group (self, group);
      return;
    }

  if (tokens->len == 0)
    {
      GtkWidget *group = adw_preferences_group_new ();
      ImzalaReader *reader = NULL;
      ImzalaCardCause cause = find_cause (self, tokens, &reader);
      g_autoptr(GError) cause_error = imzala_card_cause_to_error (cause, reader);

      /* The true cause (a card no module knows, pcscd down, no reader)
       * rather than "insert your card". */
      adw_preferences_group_add (ADW_PREFERENCES_GROUP (group),
                                 new_row (cause_title (cause),
                                          cause == IMZALA_CARD_CAUSE_NO_CARD || cause_error == NULL
                                          ? _("Insert your card into the reader and press Refresh.")
                                          : cause_error->message));
      add_token_group (self, group);
      return;
    }

  at_once = tokens->len <= GROUPS_AT_ONCE ? tokens->len : 1;
  for (guint i = 0; i < at_once; i++)
    add_token_group (self, new_token_group (g_ptr_array_index (tokens, i)));
  if (tokens->len > at_once)
    {
      self->pending_tokens = g_steal_pointer (&tokens);
      self->pending_next = at_once;
      self->pending_waits = TRUE;
      self->pending_tick = gtk_widget_add_tick_callback (GTK_WIDGET (self), add_pending_group_cb, NULL, NULL);
    }
}

/* The readers say which card each holds, so they follow the tokens too. */
static void
token_list_changed_cb (ImzalaTokensPage *self)
{
  tokens_changed_cb (self);
  update_readers (self);
}

static void
update_modules (ImzalaTokensPage *self,
                ImzalaModuleSet  *module_set,
                const GError     *load_error)
{
  GPtrArray *modules;
  GPtrArray *errors;

  for (guint i = 0; i < self->module_rows->len; i++)
    adw_preferences_group_remove (self->modules_group, g_ptr_array_index (self->module_rows, i));
  g_ptr_array_set_size (self->module_rows, 0);

  if (load_error != NULL)
    {
      GtkWidget *row = new_row (_("No card software could be loaded"), load_error->message);

      adw_preferences_group_add (self->modules_group, row);
      g_ptr_array_add (self->module_rows, row);
    }
  if (module_set == NULL)
    return;

  modules = imzala_module_set_get_modules (module_set);
  for (guint i = 0; modules != NULL && i < modules->len; i++)
    {
      ImzalaModule *module = g_ptr_array_index (modules, i);
      const char *maker = imzala_module_get_manufacturer (module);
      g_autofree char *title = imzala_text_escape_unshown (maker != NULL && *maker != '\0'
                                                           ? maker : imzala_module_get_name (module));
      GtkWidget *row = adw_expander_row_new ();

      /* Named by its maker ("SoftHSM", "OpenSC Project"), which a person
       * may know; the module's own words (in English) and its file are for
       * support: behind the row, which stays closed. */
      adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
      adw_expander_row_set_subtitle (ADW_EXPANDER_ROW (row), _("Ready"));
      adw_expander_row_add_row (ADW_EXPANDER_ROW (row),
                                new_row (_("Name"), imzala_module_get_name (module)));
      adw_expander_row_add_row (ADW_EXPANDER_ROW (row),
                                new_row (_("Description"), imzala_module_get_description (module)));
      adw_expander_row_add_row (ADW_EXPANDER_ROW (row),
                                new_row (_("Version"), imzala_module_get_version (module)));
      if (imzala_module_get_path (module) != NULL)
        adw_expander_row_add_row (ADW_EXPANDER_ROW (row),
                                  new_row (_("File"), imzala_module_get_path (module)));
      adw_expander_row_add_prefix (ADW_EXPANDER_ROW (row), gtk_image_new_from_icon_name ("emblem-ok-symbolic"));
      adw_preferences_group_add (self->modules_group, row);
      g_ptr_array_add (self->module_rows, row);
    }

  errors = imzala_module_set_get_load_errors (module_set);
  for (guint i = 0; errors != NULL && i < errors->len; i++)
    {
      ImzalaModuleLoadError *load = g_ptr_array_index (errors, i);
      GtkWidget *row = new_row (load->name, load->error ? load->error->message : NULL);

      adw_action_row_add_prefix (ADW_ACTION_ROW (row), gtk_image_new_from_icon_name ("dialog-error-symbolic"));
      gtk_widget_add_css_class (row, "error");
      adw_preferences_group_add (self->modules_group, row);
      g_ptr_array_add (self->module_rows, row);
    }
}

static void
update_readers (ImzalaTokensPage *self)
{
  GListModel *readers = G_LIST_MODEL (self->reader_monitor);
  g_autoptr(GPtrArray) tokens = NULL;
  gboolean loading;
  const GError *error;

  for (guint i = 0; i < self->reader_rows->len; i++)
    adw_preferences_group_remove (self->readers_group, g_ptr_array_index (self->reader_rows, i));
  g_ptr_array_set_size (self->reader_rows, 0);

  gtk_widget_set_visible (GTK_WIDGET (self->readers_group), self->reader_monitor != NULL);
  if (self->reader_monitor == NULL)
    return;

  error = imzala_reader_monitor_get_error (self->reader_monitor);
  if (error != NULL)
    {
      GtkWidget *row = new_row (_("The card readers cannot be watched"), error->message);

      adw_action_row_add_prefix (ADW_ACTION_ROW (row), gtk_image_new_from_icon_name ("dialog-warning-symbolic"));
      adw_preferences_group_add (self->readers_group, row);
      g_ptr_array_add (self->reader_rows, row);
      return;
    }
  if (g_list_model_get_n_items (readers) == 0)
    {
      GtkWidget *row = new_row (imzala_reader_monitor_get_available (self->reader_monitor)
                                ? _("No card reader is connected")
                                : _("Looking for card readers…"), NULL);

      adw_preferences_group_add (self->readers_group, row);
      g_ptr_array_add (self->reader_rows, row);
      return;
    }
  if (self->token_list != NULL && imzala_token_list_get_error (self->token_list) == NULL)
    tokens = imzala_token_list_dup_tokens (self->token_list);
  loading = self->token_list == NULL || imzala_token_list_get_loading (self->token_list);

  for (guint i = 0; i < g_list_model_get_n_items (readers); i++)
    {
      g_autoptr(ImzalaReader) reader = g_list_model_get_item (readers, i);
      ImzalaToken *token = tokens != NULL ? imzala_card_cause_find_token (tokens, reader) : NULL;
      g_autofree char *state = NULL;
      GtkWidget *row;

      /* Which card the reader holds, matched by the slot description; a
       * card that no token stands for is not recognised (once the cards
       * are listed: a new card may still be being read). */
      if (token != NULL)
        {
          g_autofree char *label = imzala_text_escape_unshown (imzala_token_get_label (token));

          /* Translators: a reader's state and the label of the card in it. */
          state = g_strdup_printf (_("%s: “%s”"), imzala_reader_get_state_text (reader), label);
        }
      else if (imzala_reader_get_has_card (reader) && !loading && tokens != NULL)
        {
          g_autoptr(GPtrArray) unmatched = g_ptr_array_new ();
          g_autoptr(GError) cause = NULL;
          g_autoptr(GListStore) one = g_list_store_new (IMZALA_TYPE_READER);
          ImzalaReader *cause_reader = NULL;
          ImzalaCardCause card_cause;

          /* Two statements: as one call's arguments, cause_reader could be
           * read before imzala_card_cause_find() sets it (C leaves the order
           * open, and GCC took it first), and the text lost the reader. */
          g_list_store_append (one, reader);
          card_cause = imzala_card_cause_find (G_LIST_MODEL (one), NULL, unmatched, &cause_reader);
          cause = imzala_card_cause_to_error (card_cause, cause_reader);
          state = g_strdup (cause != NULL ? cause->message : imzala_reader_get_state_text (reader));
        }
      else
        state = g_strdup (imzala_reader_get_state_text (reader));
      row = new_row (imzala_reader_get_name (reader), state);

      adw_action_row_add_prefix (ADW_ACTION_ROW (row),
                                 gtk_image_new_from_icon_name (imzala_reader_get_has_card (reader)
                                                               ? "media-flash-symbolic"
                                                               : "media-removable-symbolic"));
      adw_preferences_group_add (self->readers_group, row);
      g_ptr_array_add (self->reader_rows, row);
    }
}

void
imzala_tokens_page_set_reader_monitor (ImzalaTokensPage    *self,
                                       ImzalaReaderMonitor *monitor)
{
  g_return_if_fail (IMZALA_IS_TOKENS_PAGE (self));
  g_return_if_fail (monitor == NULL || IMZALA_IS_READER_MONITOR (monitor));

  g_set_object (&self->reader_monitor, monitor);
  g_signal_group_set_target (self->reader_monitor_signals, monitor);
  update_readers (self);
}

void
imzala_tokens_page_set_token_list (ImzalaTokensPage *self,
                                   ImzalaTokenList  *token_list,
                                   const GError     *load_error)
{
  g_return_if_fail (IMZALA_IS_TOKENS_PAGE (self));
  g_return_if_fail (token_list == NULL || IMZALA_IS_TOKEN_LIST (token_list));

  /* The cards are shown when a listing ends; until the first one the page
   * shows only the modules. */
  g_set_object (&self->token_list, token_list);
  g_signal_group_set_target (self->token_list_signals, token_list);
  g_binding_group_set_source (self->token_list_bindings, token_list);
  update_modules (self, token_list ? imzala_token_list_get_module_set (token_list) : NULL, load_error);
  /* A page made after a listing (the window makes it when first shown)
   * shows that listing at once. */
  if (token_list != NULL && !imzala_token_list_get_loading (token_list)
      && (g_list_model_get_n_items (G_LIST_MODEL (token_list)) > 0
          || imzala_token_list_get_error (token_list) != NULL))
    token_list_changed_cb (self);
}

static void
imzala_tokens_page_dispose (GObject *object)
{
  ImzalaTokensPage *self = IMZALA_TOKENS_PAGE (object);

  g_clear_object (&self->reader_monitor_signals);
  g_clear_object (&self->reader_monitor);
  g_clear_object (&self->token_list_signals);
  g_clear_object (&self->token_list_bindings);
  g_clear_object (&self->token_list);
  clear_pending_groups (self);
  gtk_widget_dispose_template (GTK_WIDGET (self), IMZALA_TYPE_TOKENS_PAGE);
  g_clear_pointer (&self->token_groups, g_ptr_array_unref);
  g_clear_pointer (&self->module_rows, g_ptr_array_unref);
  g_clear_pointer (&self->reader_rows, g_ptr_array_unref);

  G_OBJECT_CLASS (imzala_tokens_page_parent_class)->dispose (object);
}

static void
imzala_tokens_page_class_init (ImzalaTokensPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = imzala_tokens_page_dispose;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/imzala/Imzala/pages/imzala-tokens-page.ui");
  gtk_widget_class_bind_template_child (widget_class, ImzalaTokensPage, readers_group);
  gtk_widget_class_bind_template_child (widget_class, ImzalaTokensPage, tokens_box);
  gtk_widget_class_bind_template_child (widget_class, ImzalaTokensPage, modules_group);
  gtk_widget_class_bind_template_child (widget_class, ImzalaTokensPage, spinner);
}

static void
imzala_tokens_page_init (ImzalaTokensPage *self)
{
  self->token_groups = g_ptr_array_new ();
  self->module_rows = g_ptr_array_new ();
  self->reader_rows = g_ptr_array_new ();

  /* A reader's state changes come with card-inserted and card-removed; the
   * list itself with items-changed. */
  self->reader_monitor_signals = g_signal_group_new (IMZALA_TYPE_READER_MONITOR);
  g_signal_group_connect_object (self->reader_monitor_signals, "items-changed",
                                 G_CALLBACK (update_readers), self, G_CONNECT_SWAPPED);
  g_signal_group_connect_object (self->reader_monitor_signals, "card-inserted",
                                 G_CALLBACK (update_readers), self, G_CONNECT_SWAPPED);
  g_signal_group_connect_object (self->reader_monitor_signals, "card-removed",
                                 G_CALLBACK (update_readers), self, G_CONNECT_SWAPPED);
  g_signal_group_connect_object (self->reader_monitor_signals, "notify::available",
                                 G_CALLBACK (update_readers), self, G_CONNECT_SWAPPED);
  g_signal_group_connect_object (self->reader_monitor_signals, "notify::error",
                                 G_CALLBACK (update_readers), self, G_CONNECT_SWAPPED);
  self->token_list_signals = g_signal_group_new (IMZALA_TYPE_TOKEN_LIST);
  g_signal_group_connect_object (self->token_list_signals, "items-changed",
                                 G_CALLBACK (token_list_changed_cb), self, G_CONNECT_SWAPPED);
  g_signal_group_connect_object (self->token_list_signals, "notify::loading",
                                 G_CALLBACK (update_readers), self, G_CONNECT_SWAPPED);

  gtk_widget_init_template (GTK_WIDGET (self));

  /* The spinner turns while the cards are being listed. */
  self->token_list_bindings = g_binding_group_new ();
  g_binding_group_bind (self->token_list_bindings, "loading", self->spinner, "spinning", G_BINDING_SYNC_CREATE);
  g_binding_group_bind (self->token_list_bindings, "loading", self->spinner, "visible", G_BINDING_SYNC_CREATE);
}
