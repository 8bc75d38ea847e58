#define G_LOG_DOMAIN "imzala-test"

/* test-gui-sign-page.c: the sign page fits every screen and every hand.
 *
 * The window against the real reference portal (imzala-portal) in Turkish,
 * with the SoftHSM test fixture's cards (AYŞE YILMAZ, the portal's demo
 * person, with two qualified certificates; MEHMET DEMİR with one) or the
 * portal's own demo card where the portal must accept the signature. At
 * each size (the default, 360 pixels wide, text at 150 %, and, when the
 * program runs with GDK_SCALE=2 on a 1280×800 Xvfb, the 640×400 logical
 * pixels that screen has) the keypad's last row, the PIN field, the PIN
 * message and İMZALA must lie inside the window and inside the scrolled
 * view that holds them, if any, after layout. After a wrong PIN the focus
 * is back in the emptied PIN field; the requester's certificate comes
 * first, preselected, and another person's says so; every page of the
 * window can be 360 pixels wide; a PIN typed and entered while the card is
 * still being read signs once it has been read. */

#include "config.h"

#include <adwaita.h>
#include <string.h>

#include "imzala-certificate-row.h"
#include "imzala-code-page.h"
#include "imzala-pin-entry.h"
#include "imzala-settings.h"
#include "imzala-sign-page.h"
#include "imzala-test.h"
#include "imzala-test-gui.h"
#include "imzala-test-portal.h"
#include "imzala-window.h"

/* How many lines of the text to sign are in sight without scrolling, at
 * least, at every size. */
#define TEXT_LINES_IN_SIGHT 3

/* A wrong PIN's message, the longest the page shows above the PIN field. */
#define LONG_MESSAGE "PIN yanlış. Kartın kilitlenmemesi için dikkatli olun: 2 deneme hakkınız kaldı."

typedef struct
{
  ImzalaTestPortal  *portal;
  ImzalaTestFixture *fixture;   /* NULL: the portal's demo card */
  GSettings         *settings;
  ImzalaModuleSet   *modules;
  ImzalaWindow      *window;
} SignPage;

/* ---- Setup ---- */

static gboolean
flag_set (gpointer data)
{
  return *(gboolean *) data;
}

static void
tokens_changed_cb (ImzalaWindow *window,
                   gboolean     *done)
{
  *done = TRUE;
}

/* A window of @width × @height (0: its default size), shown, with its
 * token list read. */
static ImzalaWindow *
new_window (SignPage *self,
            int       width,
            int       height)
{
  g_autoptr(ImzalaSettings) policy = imzala_settings_new (self->settings);
  g_autoptr(ImzalaTokenList) token_list = imzala_token_list_new (self->modules);
  ImzalaWindow *window = imzala_window_new (NULL, policy);
  gboolean done = FALSE;
  gulong id;

  if (width > 0)
    gtk_window_set_default_size (GTK_WINDOW (window), width, height);
  gtk_window_present (GTK_WINDOW (window));
  while (!gtk_widget_get_mapped (GTK_WIDGET (window)))
    g_main_context_iteration (NULL, TRUE);

  id = g_signal_connect (window, "tokens-changed", G_CALLBACK (tokens_changed_cb), &done);
  imzala_window_set_token_list (window, token_list, NULL);
  imzala_test_gui_wait (flag_set, &done, 60, "the token list");
  g_signal_handler_disconnect (window, id);
  return window;
}

/* With @empty_label, the fixture has one more empty card, so labelled. */
static void
setup_with (SignPage      *self,
            gconstpointer  data,
            gboolean       demo_card,
            const char    *empty_label)
{
  g_autoptr(GError) error = NULL;
  const char *faults = g_getenv ("IMZALA_FAULTS");

  self->portal = imzala_test_portal_new (0, &error);
  g_assert_no_error (error);
  self->settings = imzala_test_gui_new_settings (self->portal);
  /* The fixture's copy sets SOFTHSM2_CONF over the portal's demo card;
   * setup_fixture()'s @data names cards to leave out of it. */
  if (!demo_card)
    {
      const char *const *removed = data;

      self->fixture = imzala_test_fixture_new ();
      for (guint i = 0; removed != NULL && removed[i] != NULL; i++)
        imzala_test_fixture_remove_token (self->fixture, removed[i]);
      if (empty_label != NULL)
        imzala_test_fixture_add_empty_token (self->fixture, empty_label);
    }
  self->modules = imzala_test_gui_load_modules (faults != NULL && *faults != '\0'
                                                ? g_getenv ("IMZALA_FAULT_MODULE") : NULL);
}

static void
setup (SignPage      *self,
       gconstpointer  data,
       gboolean       demo_card)
{
  setup_with (self, data, demo_card, NULL);
}

static void
setup_fixture (SignPage      *self,
               gconstpointer  data)
{
  setup (self, data, FALSE);
}

static void
setup_demo (SignPage      *self,
            gconstpointer  data)
{
  setup (self, data, TRUE);
}

static void
setup_slow_listing (SignPage      *self,
                    gconstpointer  data)
{
  g_setenv ("IMZALA_FAULTS", "slow-slot-list", TRUE);
  g_setenv ("IMZALA_FAULT_DELAY_MS", "1500", TRUE);
  setup (self, data, TRUE);
}

static void
teardown (SignPage      *self,
          gconstpointer  data)
{
  if (self->window != NULL)
    gtk_window_destroy (GTK_WINDOW (self->window));
  imzala_test_gui_settle ();
  g_object_set (gtk_settings_get_default (), "gtk-xft-dpi", 96 * 1024, NULL);
  g_clear_object (&self->modules);
  g_clear_object (&self->settings);
  g_clear_pointer (&self->fixture, imzala_test_fixture_free);
  g_clear_pointer (&self->portal, imzala_test_portal_free);
  g_setenv ("IMZALA_FAULTS", "", TRUE);
}

/* ---- Steps ---- */

static GtkWidget *
sign_page (SignPage *self)
{
  return imzala_window_get_page (self->window, "sign");
}

static gboolean
sign_page_cards_read (gpointer data)
{
  g_autofree char *text = imzala_test_gui_page_text (data, "sign");

  return !g_str_equal (imzala_window_get_page_name (data), "sign") ||
         strstr (text, "Kart okunuyor") == NULL;
}

static void wait_layout (SignPage *self);

/* A login request of the portal's demo person, its code entered; returns
 * the code once the sign page shows (@wait_cards: and the cards are read). */
static char *
open_code (SignPage   *self,
           char       *code,
           gboolean    wait_cards)
{
  ImzalaCodePage *code_page = IMZALA_CODE_PAGE (imzala_window_get_page (self->window, "code"));
  const char *shown;

  imzala_code_page_set_code (code_page, code);
  g_action_group_activate_action (G_ACTION_GROUP (self->window), "next", NULL);
  shown = imzala_test_gui_wait_page (self->window, "sign", "failure", NULL);
  if (!g_str_equal (shown, "sign"))
    {
      g_autofree char *text = imzala_test_gui_page_text (self->window, "failure");
      g_error ("Expected the sign page, got:\n%s", text);
    }
  if (wait_cards)
    imzala_test_gui_wait (sign_page_cards_read, self->window, 60, "the cards on the sign page");
  wait_layout (self);
  return code;
}

static char *
open_request (SignPage *self,
              gboolean  wait_cards)
{
  g_autoptr(GError) error = NULL;
  char *code = imzala_test_portal_create_request (self->portal, "login", &error);

  g_assert_no_error (error);
  return open_code (self, code, wait_cards);
}

/* ---- What the user can see ---- */

static gboolean
tick_cb (GtkWidget     *widget,
         GdkFrameClock *clock,
         gpointer       data)
{
  guint *ticks = data;

  (*ticks)++;
  return G_SOURCE_CONTINUE;
}

static gboolean
ticked_twice (gpointer data)
{
  return *(guint *) data >= 2;
}

/* Waits for two frames of the window: the layout after the last change has
 * been made (a frame's layout phase runs after its tick). */
static void
wait_layout (SignPage *self)
{
  guint ticks = 0;
  guint id = gtk_widget_add_tick_callback (GTK_WIDGET (self->window), tick_cb, &ticks, NULL);

  gtk_widget_queue_resize (GTK_WIDGET (self->window));
  imzala_test_gui_wait (ticked_twice, &ticks, 30, "two frames");
  gtk_widget_remove_tick_callback (GTK_WIDGET (self->window), id);
  imzala_test_gui_settle ();
}

/* The window's size on screen (its surface, the X window). */
static int
surface_width (SignPage *self)
{
  return gdk_surface_get_width (gtk_native_get_surface (GTK_NATIVE (self->window)));
}

static int
surface_height (SignPage *self)
{
  return gdk_surface_get_height (gtk_native_get_surface (GTK_NATIVE (self->window)));
}

/* @widget is drawn and lies wholly inside @area (the window, or the scrolled
 * window's visible part), measured after layout. */
static void
assert_inside (GtkWidget  *widget,
               GtkWidget  *area,
               const char *what)
{
  graphene_rect_t bounds;
  int width = gtk_widget_get_width (area);
  int height = gtk_widget_get_height (area);

  g_assert_true (gtk_widget_compute_bounds (widget, area, &bounds));
  g_test_message ("%s: %.0f,%.0f %.0f×%.0f in %s %d×%d", what,
                  bounds.origin.x, bounds.origin.y, bounds.size.width, bounds.size.height,
                  G_OBJECT_TYPE_NAME (area), width, height);
  if (bounds.size.width < 1 || bounds.size.height < 1 ||
      bounds.origin.x < 0 || bounds.origin.y < 0 ||
      bounds.origin.x + bounds.size.width > width + 0.5 ||
      bounds.origin.y + bounds.size.height > height + 0.5)
    g_error ("%s is not inside %s: %.0f,%.0f %.0f×%.0f, the area is %d×%d", what,
             G_OBJECT_TYPE_NAME (area), bounds.origin.x, bounds.origin.y,
             bounds.size.width, bounds.size.height, width, height);
}

/* In view: mapped, every ancestor shown and not hidden by its parent (a
 * stack's other page, a scrolled-out child), inside the window and inside
 * the visible part of each scrolled window around it. */
static void
assert_in_view (SignPage   *self,
                GtkWidget  *widget,
                const char *what)
{
  g_assert_true (gtk_widget_get_mapped (widget));
  for (GtkWidget *w = widget; w != NULL; w = gtk_widget_get_parent (w))
    {
      g_assert_true (gtk_widget_get_visible (w));
      g_assert_true (gtk_widget_get_child_visible (w));
      if (GTK_IS_SCROLLED_WINDOW (w) && w != widget)
        assert_inside (widget, w, what);
    }
  assert_inside (widget, GTK_WIDGET (self->window), what);
}

/* One line of @view's text, in pixels. */
static double
text_line_height (GtkWidget *view)
{
  PangoLayout *layout = gtk_widget_create_pango_layout (view, "Ag");
  int height;

  pango_layout_get_pixel_size (layout, NULL, &height);
  g_object_unref (layout);
  return height;
}

/* The height of @widget that can be seen: its bounds cut by the window and
 * by every scrolled window around it. */
static double
visible_height (SignPage  *self,
                GtkWidget *widget)
{
  graphene_rect_t visible, bounds;

  g_assert_true (gtk_widget_compute_bounds (widget, GTK_WIDGET (self->window), &visible));
  for (GtkWidget *w = gtk_widget_get_parent (widget); w != NULL; w = gtk_widget_get_parent (w))
    {
      if (!GTK_IS_SCROLLED_WINDOW (w) && !GTK_IS_WINDOW (w))
        continue;
      g_assert_true (gtk_widget_compute_bounds (w, GTK_WIDGET (self->window), &bounds));
      if (!graphene_rect_intersection (&visible, &bounds, &visible))
        return 0;
    }
  return visible.size.height;
}

/* The keypad's last row (Temizle, 0, ←), the PIN field, the PIN message,
 * İMZALA, the chosen certificate, and a few lines of the text to sign. */
static void
assert_sign_page_fits (SignPage *self)
{
  GtkWidget *page = sign_page (self);
  g_autoptr(GPtrArray) keypads = imzala_test_gui_find_all (page, g_type_from_name ("ImzalaPinKeypad"));
  g_autoptr(GPtrArray) keys = NULL;
  g_autoptr(GPtrArray) entries = imzala_test_gui_find_all (page, IMZALA_TYPE_PIN_ENTRY);
  g_autoptr(GPtrArray) labels = imzala_test_gui_find_all (page, GTK_TYPE_LABEL);
  g_autoptr(GPtrArray) views = imzala_test_gui_find_all (page, GTK_TYPE_TEXT_VIEW);
  g_autoptr(GPtrArray) lists = imzala_test_gui_find_all (page, GTK_TYPE_LIST_BOX);
  g_autofree char *chooser_text = NULL;
  GtkWidget *chooser;
  GtkListBoxRow *selected;
  GtkWidget *message = NULL;
  GtkWidget *text_scroller;
  double text_visible;
  graphene_rect_t bounds;
  double last_row = -1;
  guint n_last = 0;

  imzala_sign_page_set_error (IMZALA_SIGN_PAGE (page), LONG_MESSAGE);
  wait_layout (self);
  for (GtkWidget *pane = gtk_widget_get_first_child (gtk_widget_get_first_child (page)); pane != NULL;
       pane = gtk_widget_get_next_sibling (pane))
    {
      int minimum, natural;

      gtk_widget_measure (pane, GTK_ORIENTATION_HORIZONTAL, -1, &minimum, &natural, NULL, NULL);
      g_test_message ("%s: %d to %d pixels wide, is %d", G_OBJECT_TYPE_NAME (pane), minimum, natural,
                      gtk_widget_get_width (pane));
      for (GtkWidget *child = gtk_widget_get_first_child (pane); child != NULL;
           child = gtk_widget_get_next_sibling (child))
        if (gtk_widget_get_visible (child) && gtk_widget_compute_bounds (child, GTK_WIDGET (self->window), &bounds))
          g_test_message ("  %s: %.0f,%.0f %.0f×%.0f", G_OBJECT_TYPE_NAME (child),
                          bounds.origin.x, bounds.origin.y, bounds.size.width, bounds.size.height);
    }
  g_test_message ("window %d×%d, the page %s", surface_width (self),
                  surface_height (self),
                  imzala_sign_page_get_wide (IMZALA_SIGN_PAGE (page)) ? "in two columns" : "in one column");

  g_assert_cmpuint (keypads->len, ==, 1);
  keys = imzala_test_gui_find_all (g_ptr_array_index (keypads, 0), GTK_TYPE_BUTTON);
  g_assert_cmpuint (keys->len, ==, 12);
  for (guint i = 0; i < keys->len; i++)
    {
      g_assert_true (gtk_widget_compute_bounds (g_ptr_array_index (keys, i), page, &bounds));
      last_row = MAX (last_row, bounds.origin.y);
    }
  for (guint i = 0; i < keys->len; i++)
    {
      GtkWidget *key = g_ptr_array_index (keys, i);
      g_autofree char *what = NULL;

      g_assert_true (gtk_widget_compute_bounds (key, page, &bounds));
      if (bounds.origin.y < last_row)
        continue;
      what = g_strdup_printf ("the keypad's last row (%s)", gtk_button_get_label (GTK_BUTTON (key)));
      assert_in_view (self, key, what);
      n_last++;
    }
  g_assert_cmpuint (n_last, ==, 3);

  assert_in_view (self, imzala_test_gui_find_button (page, "İMZALA"), "İMZALA");
  g_assert_cmpuint (entries->len, ==, 1);
  assert_in_view (self, g_ptr_array_index (entries, 0), "the PIN field");
  for (guint i = 0; i < labels->len && message == NULL; i++)
    if (g_strcmp0 (gtk_label_get_text (g_ptr_array_index (labels, i)), LONG_MESSAGE) == 0)
      message = g_ptr_array_index (labels, i);
  g_assert_nonnull (message);
  assert_in_view (self, message, "the PIN message");

  /* The chosen certificate (the requester's, preselected) is shown by the
   * button that opens the list of them all, and that button is in view. */
  g_assert_cmpuint (lists->len, ==, 1);
  selected = gtk_list_box_get_selected_row (g_ptr_array_index (lists, 0));
  g_assert_nonnull (selected);
  chooser = imzala_test_gui_find_button (page, "Sertifikayı seçin");
  chooser_text = imzala_test_gui_collect_text (chooser);
  g_test_message ("the certificate button:\n%s", chooser_text);
  g_assert_nonnull (strstr (chooser_text, adw_preferences_row_get_title (ADW_PREFERENCES_ROW (selected))));
  g_assert_nonnull (strstr (chooser_text, "tarihine kadar geçerli"));
  assert_in_view (self, chooser, "the chosen certificate");
  {
    g_autoptr(GPtrArray) chooser_labels = imzala_test_gui_find_all (chooser, GTK_TYPE_LABEL);

    /* Its words wrap inside it, none cut off at its edge. */
    for (guint i = 0; i < chooser_labels->len; i++)
      if (gtk_widget_get_visible (g_ptr_array_index (chooser_labels, i)))
        assert_inside (g_ptr_array_index (chooser_labels, i), chooser,
                       gtk_label_get_text (g_ptr_array_index (chooser_labels, i)));
  }

  /* The text to sign scrolls in its own view, of at least a few lines, and
   * at least three lines of that view are in sight without scrolling. */
  g_assert_cmpuint (views->len, >=, 1);
  text_scroller = gtk_widget_get_ancestor (g_ptr_array_index (views, 0), GTK_TYPE_SCROLLED_WINDOW);
  g_assert_true (gtk_widget_compute_bounds (text_scroller, GTK_WIDGET (self->window), &bounds));
  text_visible = visible_height (self, text_scroller);
  g_test_message ("the text's view: %.0f×%.0f at %.0f,%.0f, %.0f pixels of it in sight",
                  bounds.size.width, bounds.size.height, bounds.origin.x, bounds.origin.y, text_visible);
  g_assert_cmpfloat (bounds.size.height, >=, 60);
  g_assert_cmpfloat (text_visible, >=,
                     gtk_text_view_get_top_margin (g_ptr_array_index (views, 0)) +
                     TEXT_LINES_IN_SIGHT * text_line_height (g_ptr_array_index (views, 0)));
  g_assert_cmpint (gtk_widget_get_height (gtk_widget_get_ancestor (text_scroller, ADW_TYPE_CLAMP)) > 0, ==, TRUE);

  /* Without the message the certificate's status notice (if any) is
   * shown instead: still three lines of the text in sight. */
  imzala_sign_page_set_error (IMZALA_SIGN_PAGE (page), NULL);
  wait_layout (self);
  text_visible = visible_height (self, text_scroller);
  g_test_message ("without the message: %.0f pixels of the text's view in sight", text_visible);
  g_assert_cmpfloat (text_visible, >=,
                     gtk_text_view_get_top_margin (g_ptr_array_index (views, 0)) +
                     TEXT_LINES_IN_SIGHT * text_line_height (g_ptr_array_index (views, 0)));
  assert_in_view (self, chooser, "the chosen certificate");
}

/* ---- Tests ---- */

/* The default size: 860×640 on a screen that has room for it. */
static void
test_fits_default (SignPage      *self,
                   gconstpointer  data)
{
  g_autofree char *code = NULL;

  self->window = new_window (self, 0, 0);
  code = open_request (self, TRUE);
  g_assert_cmpint (surface_width (self), ==, 860);
  g_assert_cmpint (surface_height (self), ==, 640);
  g_assert_true (imzala_sign_page_get_wide (IMZALA_SIGN_PAGE (sign_page (self))));
  assert_sign_page_fits (self);
}

/* A phone, or a tiling desktop's narrow column. */
static void
test_fits_narrow (SignPage      *self,
                  gconstpointer  data)
{
  g_autofree char *code = NULL;

  self->window = new_window (self, 360, 640);
  code = open_request (self, TRUE);
  g_assert_cmpint (surface_width (self), ==, 360);
  g_assert_cmpint (surface_height (self), ==, 640);
  g_assert_false (imzala_sign_page_get_wide (IMZALA_SIGN_PAGE (sign_page (self))));
  assert_sign_page_fits (self);
}

/* Text at 150 % (Large Text and more), at the default size. */
static void
test_fits_large_text (SignPage      *self,
                      gconstpointer  data)
{
  g_autofree char *code = NULL;

  g_object_set (gtk_settings_get_default (), "gtk-xft-dpi", 96 * 1024 * 3 / 2, NULL);
  self->window = new_window (self, 0, 0);
  code = open_request (self, TRUE);
  g_assert_cmpint (surface_width (self), <=, 860);
  g_assert_cmpint (surface_height (self), <=, 640);
  assert_sign_page_fits (self);
}

/* GDK_SCALE=2 on a 1280×800 screen (tests/meson.build runs this program so
 * for this test alone): 640×400 logical pixels. The window opens at its
 * default size, which it fits to the screen. */
static void
test_fits_scale_2 (SignPage      *self,
                   gconstpointer  data)
{
  g_autofree char *code = NULL;
  GdkMonitor *monitor;
  GdkRectangle area;

  self->window = new_window (self, 0, 0);
  monitor = gdk_display_get_monitor_at_surface (gtk_widget_get_display (GTK_WIDGET (self->window)),
                                                gtk_native_get_surface (GTK_NATIVE (self->window)));
  gdk_monitor_get_geometry (monitor, &area);
  g_assert_cmpint (gdk_monitor_get_scale_factor (monitor), ==, 2);
  g_assert_cmpint (area.width, ==, 640);
  g_assert_cmpint (area.height, ==, 400);

  code = open_request (self, TRUE);
  {
    static const char *pages[] = { "code", "portal-confirm", "loading", "sign", "result", "failure",
                                   "pin-change", "unblock", "file-sign", "verify", "tokens", "doctor" };

    for (guint i = 0; i < G_N_ELEMENTS (pages); i++)
      {
        int minimum;

        gtk_widget_measure (imzala_window_get_page (self->window, pages[i]), GTK_ORIENTATION_VERTICAL,
                            630, &minimum, NULL, NULL, NULL);
        g_test_message ("%s: at least %d pixels high", pages[i], minimum);
      }
    for (GtkWidget *pane = gtk_widget_get_first_child (gtk_widget_get_first_child (imzala_window_get_page (self->window, "sign")));
         pane != NULL; pane = gtk_widget_get_next_sibling (pane))
      {
        int minimum, natural;

        gtk_widget_measure (pane, GTK_ORIENTATION_HORIZONTAL, -1, &minimum, &natural, NULL, NULL);
        g_test_message ("%s: %d to %d pixels wide, is %d", G_OBJECT_TYPE_NAME (pane), minimum, natural,
                        gtk_widget_get_width (pane));
        for (GtkWidget *child = gtk_widget_get_first_child (pane); child != NULL;
             child = gtk_widget_get_next_sibling (child))
          {
            gtk_widget_measure (child, GTK_ORIENTATION_VERTICAL, 300, &minimum, &natural, NULL, NULL);
            g_test_message ("  %s: %d to %d pixels high at 300", G_OBJECT_TYPE_NAME (child), minimum, natural);
          }
      }
  }
  g_assert_cmpint (surface_width (self), <=, 640);
  g_assert_cmpint (surface_height (self), <=, 400);
  assert_sign_page_fits (self);
  /* The message did not make the window taller than the screen. */
  g_assert_cmpint (surface_height (self), <=, 400);
}

/* The portal names AYŞE YILMAZ (123******50): her two qualified
 * certificates come first and the first is chosen; MEHMET DEMİR's says it
 * is another person's; rows tell her two apart in words. */
static void
test_requester_first (SignPage      *self,
                      gconstpointer  data)
{
  g_autofree char *code = NULL;
  g_autoptr(GPtrArray) rows = NULL;
  ImzalaCertificateRow *first;
  gboolean seen_mehmet = FALSE;

  self->window = new_window (self, 0, 0);
  code = open_request (self, TRUE);
  rows = imzala_test_gui_find_all (sign_page (self), IMZALA_TYPE_CERTIFICATE_ROW);
  g_assert_cmpuint (rows->len, >=, 3);

  first = g_ptr_array_index (rows, 0);
  g_assert_cmpstr (imzala_certificate_get_tckn (imzala_certificate_row_get_certificate (first)), ==,
                   IMZALA_TEST_PORTAL_TCKN);
  g_assert_true (imzala_certificate_row_get_selected (first));
  g_assert_true (gtk_list_box_row_is_selected (GTK_LIST_BOX_ROW (first)));
  g_assert_false (imzala_certificate_row_get_other_person (first));

  for (guint i = 0; i < rows->len; i++)
    {
      ImzalaCertificateRow *row = g_ptr_array_index (rows, i);
      ImzalaCertificate *certificate = imzala_certificate_row_get_certificate (row);
      const char *subtitle = adw_action_row_get_subtitle (ADW_ACTION_ROW (row));

      g_test_message ("row %u: %s\n%s", i, imzala_certificate_get_holder_name (certificate), subtitle);
      if (i > 0)
        g_assert_false (imzala_certificate_row_get_selected (row));
      /* In plain words: the issuer, the end of validity, the card. */
      g_assert_nonnull (strstr (subtitle, "Veren: "));
      g_assert_nonnull (strstr (subtitle, "tarihine kadar geçerli"));
      g_assert_nonnull (strstr (subtitle, "Kart: IMZALA TEST"));
      if (g_strcmp0 (imzala_certificate_get_tckn (certificate), "10000000146") == 0)
        {
          seen_mehmet = TRUE;
          g_assert_true (imzala_certificate_row_get_other_person (row));
          g_assert_nonnull (strstr (subtitle, "Başka bir kişiye ait"));
          /* Hers come first. */
          g_assert_cmpuint (i, >=, 2);
        }
      else
        g_assert_null (strstr (subtitle, "Başka bir kişiye ait"));
    }
  g_assert_true (seen_mehmet);

  /* The certificate button opens the list; a row chosen there is the
   * certificate, the list closes and the button says which it is. */
  {
    GtkWidget *chooser = imzala_test_gui_find_button (sign_page (self), "Sertifikayı seçin");
    ImzalaCertificateRow *second = g_ptr_array_index (rows, 1);
    GtkWidget *popover = gtk_widget_get_ancestor (GTK_WIDGET (second), GTK_TYPE_POPOVER);
    GtkWidget *list = gtk_widget_get_ancestor (GTK_WIDGET (second), GTK_TYPE_LIST_BOX);
    g_autofree char *chooser_text = NULL;

    g_assert_nonnull (popover);
    /* Xvfb has no window manager, so the window never has the focus and
     * a popover that hides itself on focus loss closes at once. */
    gtk_popover_set_autohide (GTK_POPOVER (popover), FALSE);
    g_assert_true (gtk_widget_activate (chooser));
    imzala_test_gui_wait ((GSourceFunc) gtk_widget_get_mapped, popover, 30, "the list of certificates");
    gtk_list_box_select_row (GTK_LIST_BOX (list), GTK_LIST_BOX_ROW (second));
    imzala_test_gui_settle ();
    g_assert_true (imzala_certificate_row_get_selected (second));
    g_assert_false (imzala_certificate_row_get_selected (first));
    g_assert_false (gtk_widget_get_visible (popover));
    chooser_text = imzala_test_gui_collect_text (chooser);
    g_assert_nonnull (strstr (chooser_text, imzala_certificate_row_get_summary (second)));
  }
}

static gboolean
back_to_choosing (gpointer data)
{
  SignPage *self = data;
  g_autoptr(GPtrArray) labels = imzala_test_gui_find_all (sign_page (self), GTK_TYPE_LABEL);

  for (guint i = 0; i < labels->len; i++)
    {
      GtkWidget *label = g_ptr_array_index (labels, i);

      if (gtk_widget_has_css_class (label, "error") && gtk_widget_get_visible (label) &&
          gtk_widget_get_sensitive (label) && strstr (gtk_label_get_text (GTK_LABEL (label)), "PIN") != NULL)
        return TRUE;
    }
  return FALSE;
}

/* A wrong PIN: the field is emptied, the message is above it and
 * describes it for a screen reader, and the focus is back in it, so the
 * next digits typed go there. */
static void
test_wrong_pin_focus (SignPage      *self,
                      gconstpointer  data)
{
  g_autofree char *code = NULL;
  g_autoptr(GPtrArray) entries = NULL;
  GtkWidget *entry;
  GtkWidget *focus;

  self->window = new_window (self, 0, 0);
  code = open_request (self, TRUE);
  entries = imzala_test_gui_find_all (sign_page (self), IMZALA_TYPE_PIN_ENTRY);
  entry = g_ptr_array_index (entries, 0);
  focus = gtk_root_get_focus (GTK_ROOT (self->window));
  g_assert_true (focus == entry);

  imzala_test_gui_press_keypad (sign_page (self), "999999");
  g_action_group_activate_action (G_ACTION_GROUP (self->window), "sign", NULL);
  imzala_test_gui_wait (back_to_choosing, self, 60, "the wrong PIN's message");
  imzala_test_gui_settle ();

  g_assert_cmpstr (imzala_window_get_page_name (self->window), ==, "sign");
  g_assert_cmpuint (imzala_pin_entry_get_length (IMZALA_PIN_ENTRY (entry)), ==, 0);
  focus = gtk_root_get_focus (GTK_ROOT (self->window));
  if (focus != entry)
    g_error ("The focus is on %s, not in the PIN field", focus ? G_OBJECT_TYPE_NAME (focus) : "nothing");
  g_assert_true (gtk_test_accessible_has_property (GTK_ACCESSIBLE (entry),
                                                   GTK_ACCESSIBLE_PROPERTY_DESCRIPTION));
  g_assert_cmpuint (imzala_test_portal_count_signatures (self->portal, code), ==, 0);
}

/* Names the widgets under @widget that ask for more than 360 pixels. */
static void
list_wide_widgets (GtkWidget *widget,
                   int        depth)
{
  int minimum;

  gtk_widget_measure (widget, GTK_ORIENTATION_HORIZONTAL, -1, &minimum, NULL, NULL, NULL);
  if (minimum <= 360 && depth > 6)
    return;
  g_test_message ("%*s%s (%s): %d", depth * 2, "", G_OBJECT_TYPE_NAME (widget),
                  GTK_IS_LABEL (widget) ? gtk_label_get_text (GTK_LABEL (widget)) : "", minimum);
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    list_wide_widgets (child, depth + 1);
}

/* Every page can be 360 pixels wide: the window asks no more. */
static void
test_every_page_narrow (SignPage      *self,
                        gconstpointer  data)
{
  static const char *pages[] = { "code", "portal-confirm", "loading", "sign", "result", "failure",
                                 "pin-change", "unblock", "file-sign", "verify", "tokens", "doctor" };
  g_autofree char *code = NULL;

  self->window = new_window (self, 360, 640);
  code = open_request (self, TRUE);
  for (guint i = 0; i < G_N_ELEMENTS (pages); i++)
    {
      GtkWidget *page = imzala_window_get_page (self->window, pages[i]);
      int minimum;

      gtk_widget_measure (page, GTK_ORIENTATION_HORIZONTAL, -1, &minimum, NULL, NULL, NULL);
      g_test_message ("%s: at least %d pixels wide", pages[i], minimum);
      if (minimum > 360)
        list_wide_widgets (page, 0);
      if (minimum > 360)
        g_error ("The page %s needs %d pixels of width", pages[i], minimum);
    }
  imzala_test_gui_settle ();
  g_assert_cmpint (surface_width (self), ==, 360);
}

static gboolean
request_done (gpointer data)
{
  SignPage *self = data;
  const char *code = g_object_get_data (G_OBJECT (self->window), "code");
  g_autofree char *state = imzala_test_portal_get_state (self->portal, code);

  return g_strcmp0 (state, "done") == 0;
}

/* The card is slow to list (every C_GetSlotList waits 1.5 s): the page
 * shows the request and "Kart okunuyor…"; a PIN typed on the keypad and
 * entered then is kept, and the signature is made as soon as the card has
 * been read. */
static void
test_enter_while_reading (SignPage      *self,
                          gconstpointer  data)
{
  g_autoptr(GPtrArray) entries = NULL;
  g_autofree char *text = NULL;
  char *code;

  self->window = new_window (self, 0, 0);
  /* The window's own listing has ended; the job lists the cards again. */
  code = open_request (self, FALSE);
  g_object_set_data_full (G_OBJECT (self->window), "code", code, g_free);
  text = imzala_test_gui_page_text (self->window, "sign");
  if (strstr (text, "Kart okunuyor") == NULL)
    g_error ("The sign page does not say the card is being read:\n%s", text);

  entries = imzala_test_gui_find_all (sign_page (self), IMZALA_TYPE_PIN_ENTRY);
  g_assert_true (gtk_root_get_focus (GTK_ROOT (self->window)) == g_ptr_array_index (entries, 0));
  imzala_test_gui_press_keypad (sign_page (self), IMZALA_TEST_PORTAL_PIN);
  g_signal_emit_by_name (g_ptr_array_index (entries, 0), "activate");
  g_free (text);
  text = imzala_test_gui_page_text (self->window, "sign");
  /* Still reading (the listing takes seconds): the PIN is kept. */
  if (strstr (text, "Kart okunuyor") != NULL)
    g_assert_cmpuint (imzala_pin_entry_get_length (g_ptr_array_index (entries, 0)), ==,
                      strlen (IMZALA_TEST_PORTAL_PIN));

  imzala_test_gui_wait (request_done, self, 60, "the portal to have the request done");
  g_assert_cmpstr (imzala_test_gui_wait_page (self->window, "result", "failure", NULL), ==, "result");
  g_assert_cmpuint (imzala_test_portal_count_signatures (self->portal, code), ==, 1);
}

/* The demo card over the fault module, counting its calls. */
static void
setup_count_calls (SignPage      *self,
                   gconstpointer  data)
{
  g_autofree char *count_file = NULL;

  g_setenv ("IMZALA_FAULTS", "count-calls", TRUE);
  setup (self, data, TRUE);
  count_file = g_build_filename (self->portal->dir, "counts.txt", NULL);
  g_setenv ("IMZALA_FAULT_COUNT_FILE", count_file, TRUE);
}

/* İMZALA on the sign page: the result page comes, the portal has the
 * request done with @n_signatures, and the card saw one login and
 * @n_signatures C_Sign (the window is closed and the modules with it:
 * C_Finalize writes the counts, after the logout the job queued). */
static void
sign_and_count (SignPage   *self,
                const char *code,
                guint       n_signatures)
{
  g_autofree char *count_file = g_build_filename (self->portal->dir, "counts.txt", NULL);
  g_autoptr(GHashTable) counts = NULL;
  g_autofree char *state = NULL;

  g_action_group_activate_action (G_ACTION_GROUP (self->window), "sign", NULL);
  g_assert_cmpstr (imzala_test_gui_wait_page (self->window, "result", "failure", NULL), ==, "result");
  state = imzala_test_portal_get_state (self->portal, code);
  g_assert_cmpstr (state, ==, "done");
  g_assert_cmpuint (imzala_test_portal_count_signatures (self->portal, code), ==, n_signatures);

  gtk_window_destroy (GTK_WINDOW (self->window));
  self->window = NULL;
  imzala_test_gui_settle ();
  imzala_module_set_close (self->modules);
  counts = imzala_test_read_fault_counts (count_file);
  g_assert_cmpuint (imzala_test_fault_count (counts, "login-user"), ==, 1);
  g_assert_cmpuint (imzala_test_fault_count (counts, "C_Sign"), ==, n_signatures);
  g_unsetenv ("IMZALA_FAULT_COUNT_FILE");
}

/* A certificate application (Başvuru Formu and Sertifika Sahibi
 * Taahhütnamesi): both texts are shown and signed with one PIN entry, one
 * C_Login, and the portal stores two signatures. */
static void
test_two_texts_one_login (SignPage      *self,
                          gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) views = NULL;
  g_autofree char *code = imzala_test_portal_create_application_request (self->portal, &error);
  g_autofree char *text = NULL;

  g_assert_no_error (error);
  self->window = new_window (self, 0, 0);
  g_free (open_code (self, g_strdup (code), TRUE));
  views = imzala_test_gui_find_all (sign_page (self), GTK_TYPE_TEXT_VIEW);
  g_assert_cmpuint (views->len, ==, 2);
  text = imzala_test_gui_page_text (self->window, "sign");
  g_assert_nonnull (strstr (text, "Başvuru Formu"));
  g_assert_nonnull (strstr (text, "Sertifika Sahibi Taahhütnamesi"));

  imzala_test_gui_press_keypad (sign_page (self), IMZALA_TEST_PORTAL_PIN);
  sign_and_count (self, code, 2);
}

/* Two cards: the portal's demo card (Ayşe's), which shows its certificates
 * only after the PIN (the fault module's certs-after-login, for it alone),
 * and the fixture's "IMZALA TEST 2" (Mehmet's, copied into the demo card's
 * SoftHSM store), which shows its own; with @data, both hide them. */
static void
setup_hidden_card (SignPage      *self,
                   gconstpointer  data)
{
  g_autoptr(GKeyFile) manifest = g_key_file_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *manifest_path = g_build_filename (imzala_test_fixture_pristine_dir (), "fixture.ini", NULL);
  g_autofree char *folder = NULL;
  g_autofree char *from = NULL;
  g_autofree char *to = NULL;
  g_autofree char *count_file = NULL;
  int status;

  g_setenv ("IMZALA_FAULTS", "certs-after-login,count-calls", TRUE);
  if (data == NULL)
    g_setenv ("IMZALA_FAULT_HIDING_TOKEN", "IMZALA DEMO " IMZALA_TEST_PORTAL_TCKN, TRUE);
  self->portal = imzala_test_portal_new (0, &error);
  g_assert_no_error (error);
  g_key_file_load_from_file (manifest, manifest_path, G_KEY_FILE_NONE, &error);
  g_assert_no_error (error);
  folder = g_key_file_get_string (manifest, "token IMZALA TEST 2", "dir", &error);
  g_assert_no_error (error);
  from = g_build_filename (imzala_test_fixture_pristine_dir (), "tokens", folder, NULL);
  to = g_build_filename (self->portal->dir, "card", "tokens", NULL);
  {
    const char *argv[] = { "cp", "-R", from, to, NULL };

    g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, &status, &error);
    g_assert_no_error (error);
    g_spawn_check_wait_status (status, &error);
    g_assert_no_error (error);
  }
  self->settings = imzala_test_gui_new_settings (self->portal);
  self->modules = imzala_test_gui_load_modules (g_getenv ("IMZALA_FAULT_MODULE"));
  count_file = g_build_filename (self->portal->dir, "counts.txt", NULL);
  g_setenv ("IMZALA_FAULT_COUNT_FILE", count_file, TRUE);
}

/* Her certificate is listed and chosen. */
static gboolean
requester_row_selected (ImzalaWindow *window)
{
  g_autoptr(GPtrArray) rows = imzala_test_gui_find_all (imzala_window_get_page (window, "sign"),
                                                        IMZALA_TYPE_CERTIFICATE_ROW);

  for (guint i = 0; i < rows->len; i++)
    {
      ImzalaCertificateRow *row = g_ptr_array_index (rows, i);

      if (imzala_certificate_row_get_selected (row) &&
          g_strcmp0 (imzala_certificate_get_tckn (imzala_certificate_row_get_certificate (row)),
                     IMZALA_TEST_PORTAL_TCKN) == 0)
        return TRUE;
    }
  return FALSE;
}

/* Her certificate is listed and chosen, and İMZALA can sign. */
static gboolean
requester_selected (gpointer data)
{
  ImzalaWindow *window = data;

  return requester_row_selected (window) &&
         g_action_group_get_action_enabled (G_ACTION_GROUP (window), "sign");
}

/* A login request of Ayşe's while her card hides its certificates and
 * Mehmet's card in the other reader shows his: the page does not preselect
 * his certificate but asks for her card's PIN (before: his, the only one
 * shown, was preselected, and her card could not be reached at all). His
 * can still be chosen from the list; her card is then offered under it,
 * and choosing it again, the PIN logs in to it, her certificate is listed
 * and preselected, and İMZALA signs with it without a second PIN: one
 * login, one C_Sign, and the portal has the signature. */
static void
test_hidden_card (SignPage      *self,
                  gconstpointer  data)
{
  g_autoptr(GPtrArray) rows = NULL;
  g_autofree char *code = NULL;
  g_autofree char *text = NULL;
  ImzalaCertificateRow *mehmet = NULL;
  GtkWidget *offer;

  self->window = new_window (self, 0, 0);
  code = open_request (self, TRUE);
  text = imzala_test_gui_page_text (self->window, "sign");
  g_test_message ("Sign page, her card hiding:\n%s", text);
  g_assert_nonnull (strstr (text, "IMZALA DEMO " IMZALA_TEST_PORTAL_TCKN));
  g_assert_nonnull (strstr (text, "Sertifikalar PIN girildikten sonra görünür."));
  /* No PIN yet: nothing to do. */
  g_assert_false (g_action_group_get_action_enabled (G_ACTION_GROUP (self->window), "sign"));

  /* His certificate is listed, not chosen; choosing it offers her card. */
  rows = imzala_test_gui_find_all (sign_page (self), IMZALA_TYPE_CERTIFICATE_ROW);
  g_assert_cmpuint (rows->len, ==, 1);
  mehmet = g_ptr_array_index (rows, 0);
  g_assert_true (imzala_certificate_row_get_other_person (mehmet));
  g_assert_false (imzala_certificate_row_get_selected (mehmet));
  gtk_list_box_select_row (GTK_LIST_BOX (gtk_widget_get_ancestor (GTK_WIDGET (mehmet), GTK_TYPE_LIST_BOX)),
                           GTK_LIST_BOX_ROW (mehmet));
  imzala_test_gui_settle ();
  g_assert_true (imzala_certificate_row_get_selected (mehmet));
  g_clear_pointer (&text, g_free);
  text = imzala_test_gui_collect_text (sign_page (self));
  g_assert_null (strstr (text, "Sertifikalar PIN girildikten sonra görünür."));
  offer = imzala_test_gui_find_button (sign_page (self),
                                       "“IMZALA DEMO " IMZALA_TEST_PORTAL_TCKN "” kartındaki sertifikaları göster");
  g_assert_true (gtk_widget_get_visible (offer));

  /* Her card chosen: his certificate is not, and the PIN is for her card. */
  g_signal_emit_by_name (offer, "clicked");
  imzala_test_gui_settle ();
  g_assert_false (imzala_certificate_row_get_selected (mehmet));
  g_assert_false (gtk_widget_get_visible (offer));
  g_clear_pointer (&text, g_free);
  text = imzala_test_gui_collect_text (sign_page (self));
  g_test_message ("Sign page, her card chosen:\n%s", text);
  g_assert_nonnull (strstr (text, "Sertifikalar PIN girildikten sonra görünür."));

  imzala_test_gui_press_keypad (sign_page (self), IMZALA_TEST_PORTAL_PIN);
  g_action_group_activate_action (G_ACTION_GROUP (self->window), "sign", NULL);
  imzala_test_gui_wait (requester_selected, self->window, 60, "her certificate after the PIN");
  g_assert_false (gtk_widget_get_visible (offer));

  /* İMZALA, without typing the PIN again. */
  sign_and_count (self, code, 1);
  g_unsetenv ("IMZALA_FAULT_HIDING_TOKEN");
}

/* The offer of another card that hides its certificates ("… kartındaki
 * sertifikaları göster"), shown, or NULL. */
static GtkWidget *
find_offer (SignPage *self)
{
  g_autoptr(GPtrArray) buttons = imzala_test_gui_find_all (sign_page (self), GTK_TYPE_BUTTON);

  for (guint i = 0; i < buttons->len; i++)
    if (gtk_widget_get_visible (g_ptr_array_index (buttons, i)) &&
        g_str_has_suffix (gtk_button_get_label (g_ptr_array_index (buttons, i)) ?: "",
                          "kartındaki sertifikaları göster"))
      return g_ptr_array_index (buttons, i);
  return NULL;
}

/* Both cards hide their certificates: the page names the card the PIN
 * will open, on the certificate button, and offers the other, whichever
 * comes first in the slots' order (before: neither was named, the other
 * could not be chosen, and the PIN went to the first, whose wrong PIN is a
 * try on a card that was not meant). Her card chosen, the PIN shows her
 * certificate and İMZALA signs, one login in all. */
static void
test_two_hidden_cards (SignPage      *self,
                       gconstpointer  data)
{
  g_autofree char *code = NULL;
  GtkWidget *chooser;
  guint switches = 0;

  self->window = new_window (self, 0, 0);
  code = open_request (self, TRUE);
  chooser = imzala_test_gui_find_button (sign_page (self), "Sertifikayı seçin");
  for (;;)
    {
      g_autofree char *chosen = imzala_test_gui_collect_text (chooser);
      GtkWidget *offer = find_offer (self);
      gboolean hers = strstr (chosen, "IMZALA DEMO " IMZALA_TEST_PORTAL_TCKN) != NULL;

      g_test_message ("Card to log in to:\n%s\nOffered: %s", chosen,
                      offer ? gtk_button_get_label (GTK_BUTTON (offer)) : "none");
      g_assert_true (gtk_widget_get_visible (chooser));
      g_assert_nonnull (strstr (chosen, "Sertifikalar PIN girildikten sonra görünür."));
      g_assert_true (hers || strstr (chosen, "IMZALA TEST 2") != NULL);
      /* The other card is offered. */
      g_assert_nonnull (offer);
      g_assert_nonnull (strstr (gtk_button_get_label (GTK_BUTTON (offer)),
                                hers ? "IMZALA TEST 2" : "IMZALA DEMO " IMZALA_TEST_PORTAL_TCKN));
      if (hers && switches > 0)
        break;
      g_signal_emit_by_name (offer, "clicked");
      imzala_test_gui_settle ();
      switches++;
      g_assert_cmpuint (switches, <=, 2);
    }

  imzala_test_gui_press_keypad (sign_page (self), IMZALA_TEST_PORTAL_PIN);
  g_action_group_activate_action (G_ACTION_GROUP (self->window), "sign", NULL);
  imzala_test_gui_wait (requester_selected, self->window, 60, "her certificate after the PIN");
  sign_and_count (self, code, 1);
}

static gboolean
empty_card_said (gpointer data)
{
  SignPage *self = data;
  g_autofree char *text = imzala_test_gui_collect_text (sign_page (self));

  return strstr (text, "“IMZALA TEST BOS” kartında PIN girildikten sonra da imza sertifikası bulunamadı.") != NULL;
}

/* Mehmet's card alone: setup_fixture()'s data. */
static const char *const other_card_only[] = { "IMZALA TEST 1", "IMZALA TEST BOS", NULL };

/* Ayşe's login request with only Mehmet's card inserted: his certificate is
 * listed as another person's and not chosen (before: it was, and İMZALA
 * with his card's PIN signed what the portal refuses); the certificate
 * button says whose card the request wants. With the PIN typed, İMZALA
 * waits for a choice and Enter says it too; his row chosen by hand makes
 * İMZALA available. */
static void
test_other_persons_card (SignPage      *self,
                         gconstpointer  data)
{
  g_autofree char *code = NULL;
  g_autofree char *text = NULL;
  g_autoptr(GPtrArray) rows = NULL;
  g_autoptr(GPtrArray) entries = NULL;
  ImzalaCertificateRow *his;

  self->window = new_window (self, 0, 0);
  code = open_request (self, TRUE);
  rows = imzala_test_gui_find_all (sign_page (self), IMZALA_TYPE_CERTIFICATE_ROW);
  g_assert_cmpuint (rows->len, ==, 1);
  his = g_ptr_array_index (rows, 0);
  g_assert_cmpstr (imzala_certificate_get_tckn (imzala_certificate_row_get_certificate (his)), ==, "10000000146");
  g_assert_true (imzala_certificate_row_get_other_person (his));
  g_assert_false (imzala_certificate_row_get_selected (his));
  /* The certificate button says so before any PIN. */
  text = imzala_test_gui_collect_text (imzala_test_gui_find_button (sign_page (self), "Sertifikayı seçin"));
  g_assert_nonnull (strstr (text, "Bu istek AYŞE YILMAZ (123******50) adına;"));
  g_clear_pointer (&text, g_free);

  /* İMZALA waits for a choice; Enter in the PIN field says why. */
  imzala_test_gui_press_keypad (sign_page (self), IMZALA_TEST_PORTAL_PIN);
  g_assert_false (g_action_group_get_action_enabled (G_ACTION_GROUP (self->window), "sign"));
  entries = imzala_test_gui_find_all (sign_page (self), IMZALA_TYPE_PIN_ENTRY);
  g_signal_emit_by_name (g_ptr_array_index (entries, 0), "activate");
  imzala_test_gui_settle ();
  text = imzala_test_gui_page_text (self->window, "sign");
  g_test_message ("Sign page after Enter:\n%s", text);
  g_assert_nonnull (strstr (text, "Bu istek AYŞE YILMAZ (123******50) adına; takılı kartlardaki "
                                  "sertifikaların hiçbiri bu kişiye ait değil. Bu kişinin kartını takın."));
  g_assert_false (imzala_certificate_row_get_selected (his));

  gtk_list_box_select_row (GTK_LIST_BOX (gtk_widget_get_ancestor (GTK_WIDGET (his), GTK_TYPE_LIST_BOX)),
                           GTK_LIST_BOX_ROW (his));
  imzala_test_gui_settle ();
  g_assert_true (imzala_certificate_row_get_selected (his));
  g_assert_true (g_action_group_get_action_enabled (G_ACTION_GROUP (self->window), "sign"));
}

/* The fixture's empty card wants a login as a card that hides its
 * certificates does, and PKCS#11 cannot tell the two apart before the PIN:
 * it is offered. Chosen, with the right PIN, the page says the card has no
 * certificate even so (before: nothing was said, and the PIN seemed to go
 * nowhere), her certificate is chosen again, and the PIN is asked for her
 * card (before: the page took the empty card's session for hers and asked
 * none). */
static void
test_empty_card (SignPage      *self,
                 gconstpointer  data)
{
  g_autofree char *code = NULL;
  g_autofree char *text = NULL;
  g_autoptr(GPtrArray) stacks = NULL;
  GtkWidget *offer;

  self->window = new_window (self, 0, 0);
  code = open_request (self, TRUE);
  offer = find_offer (self);
  g_assert_nonnull (offer);
  g_assert_nonnull (strstr (gtk_button_get_label (GTK_BUTTON (offer)), "“IMZALA TEST BOS”"));
  g_signal_emit_by_name (offer, "clicked");
  imzala_test_gui_settle ();
  text = imzala_test_gui_collect_text (imzala_test_gui_find_button (sign_page (self), "Sertifikayı seçin"));
  g_assert_nonnull (strstr (text, "IMZALA TEST BOS"));
  g_assert_nonnull (strstr (text, "Sertifikalar PIN girildikten sonra görünür."));

  imzala_test_gui_press_keypad (sign_page (self), IMZALA_TEST_PORTAL_PIN);
  g_action_group_activate_action (G_ACTION_GROUP (self->window), "sign", NULL);
  imzala_test_gui_wait (empty_card_said, self, 60, "the empty card's message");
  g_clear_pointer (&text, g_free);
  text = imzala_test_gui_page_text (self->window, "sign");
  g_test_message ("Sign page after the empty card's PIN:\n%s", text);
  g_assert_true (requester_row_selected (self->window));
  g_assert_null (find_offer (self));
  /* Her card's PIN is asked: the keypad, not "the PIN has been entered". */
  stacks = imzala_test_gui_find_all (sign_page (self), GTK_TYPE_STACK);
  for (guint i = 0; i < stacks->len; i++)
    {
      GtkStack *stack = g_ptr_array_index (stacks, i);

      if (gtk_stack_get_child_by_name (stack, "keypad") != NULL)
        g_assert_cmpstr (gtk_stack_get_visible_child_name (stack), ==, "keypad");
    }
  g_assert_false (g_action_group_get_action_enabled (G_ACTION_GROUP (self->window), "sign"));
}

/* The fixture's empty card replaced by one whose label has a line feed
 * and markup's characters. */
static void
setup_odd_card (SignPage      *self,
                gconstpointer  data)
{
  static const char *const removed[] = { "IMZALA TEST BOS", NULL };

  setup_with (self, removed, FALSE, "KART <b>&\nSAHTE");
}

/* A card's label as the card gives it, on one line, where the page names
 * the card it offers and the card the PIN will log in to: the line feed
 * as its escape, so that the label cannot write a line of its own under
 * the page's. */
static void
test_card_label_one_line (SignPage      *self,
                          gconstpointer  data)
{
  g_autofree char *code = NULL;
  g_autofree char *text = NULL;
  GtkWidget *offer;

  self->window = new_window (self, 0, 0);
  code = open_request (self, TRUE);
  offer = find_offer (self);
  g_assert_nonnull (offer);
  g_assert_cmpstr (gtk_button_get_label (GTK_BUTTON (offer)), ==,
                   "“KART <b>&\\x0aSAHTE” kartındaki sertifikaları göster");
  g_signal_emit_by_name (offer, "clicked");
  imzala_test_gui_settle ();
  text = imzala_test_gui_collect_text (imzala_test_gui_find_button (sign_page (self), "Sertifikayı seçin"));
  g_test_message ("The card to log in to:\n%s", text);
  g_assert_nonnull (strstr (text, "KART <b>&\\x0aSAHTE\n"));
  g_assert_null (strstr (text, "\nSAHTE"));
}

/* The demo card behind a pin-pad reader (the fault module types the PIN). */
static void
setup_pin_pad (SignPage      *self,
               gconstpointer  data)
{
  g_setenv ("IMZALA_FAULTS", "pin-pad", TRUE);
  g_setenv ("IMZALA_FAULT_PIN", IMZALA_TEST_PORTAL_PIN, TRUE);
  setup (self, data, TRUE);
}

/* On a pin-pad reader the PIN is not typed here: İMZALA has the focus when
 * the page opens, not the window's back button, and Enter signs. */
static void
test_pin_pad_focus (SignPage      *self,
                    gconstpointer  data)
{
  g_autofree char *code = NULL;
  g_autofree char *state = NULL;
  GtkWidget *sign_button;
  GtkWidget *focus;

  self->window = new_window (self, 0, 0);
  code = open_request (self, TRUE);
  sign_button = imzala_test_gui_find_button (sign_page (self), "İMZALA");
  focus = gtk_root_get_focus (GTK_ROOT (self->window));
  if (focus != sign_button)
    g_error ("The focus is on %s, not on İMZALA", focus ? G_OBJECT_TYPE_NAME (focus) : "nothing");
  g_assert_true (gtk_widget_activate (focus));
  g_assert_cmpstr (imzala_test_gui_wait_page (self->window, "result", "failure", NULL), ==, "result");
  state = imzala_test_portal_get_state (self->portal, code);
  g_assert_cmpstr (state, ==, "done");
}

/* ---- A request while the modules still load (issue 8) ---- */

typedef struct
{
  ImzalaTokenList *token_list;
  gboolean         loaded;
} Loading;

static void
modules_loaded_cb (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  Loading *loading = user_data;
  g_autoptr(GError) error = NULL;

  g_assert_true (imzala_module_set_load_finish (IMZALA_MODULE_SET (source), result, &error));
  g_assert_no_error (error);
  loading->loaded = TRUE;
  imzala_token_list_release (loading->token_list);
}

/* As the application starts: the list is made and held at once, the modules
 * load (C_Initialize takes 2 s, slow-init) while a code arrives. The request
 * is fetched and shown with "Kart okunuyor…" instead of waiting on "Looking
 * for card software…", and once the modules are in, the card signs it. */
static void
test_code_while_modules_load (SignPage      *self,
                              gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(ImzalaSettings) policy = imzala_settings_new (self->settings);
  g_autoptr(ImzalaModuleSet) modules = imzala_module_set_new ();
  g_autoptr(ImzalaTokenList) token_list = imzala_token_list_new (modules);
  g_autofree char *code = imzala_test_portal_create_request (self->portal, "login", &error);
  g_autofree char *text = NULL;
  g_autofree char *state = NULL;
  Loading loading = { token_list, FALSE };
  const char *shown;

  g_assert_no_error (error);
  g_setenv ("IMZALA_FAULTS", "slow-init", TRUE);
  g_setenv ("IMZALA_FAULT_DELAY_MS", "2000", TRUE);
  imzala_module_set_set_use_registered (modules, FALSE);
  imzala_module_set_add_module_path (modules, g_getenv ("IMZALA_FAULT_MODULE"));
  imzala_token_list_hold (token_list);

  self->window = imzala_window_new (NULL, policy);
  gtk_window_present (GTK_WINDOW (self->window));
  imzala_window_set_token_list (self->window, token_list, NULL);
  imzala_module_set_load_async (modules, NULL, modules_loaded_cb, &loading);

  imzala_window_open_request (self->window, self->portal->url, code);
  shown = imzala_test_gui_wait_page (self->window, "sign", "failure", NULL);
  g_assert_cmpstr (shown, ==, "sign");
  text = imzala_test_gui_page_text (self->window, "sign");
  g_test_message ("The sign page while the modules load:\n%s", text);
  /* C_Initialize takes 2 s; the portal answered long before. */
  g_assert_false (loading.loaded);
  g_assert_nonnull (strstr (text, "Kart okunuyor"));
  g_assert_null (strstr (text, "Kart yazılımı"));

  imzala_test_gui_wait (flag_set, &loading.loaded, 60, "the modules");
  imzala_test_gui_wait (sign_page_cards_read, self->window, 60, "the cards on the sign page");
  imzala_test_gui_press_keypad (sign_page (self), IMZALA_TEST_PORTAL_PIN);
  g_action_group_activate_action (G_ACTION_GROUP (self->window), "sign", NULL);
  g_assert_cmpstr (imzala_test_gui_wait_page (self->window, "result", "failure", NULL), ==, "result");
  state = imzala_test_portal_get_state (self->portal, code);
  g_assert_cmpstr (state, ==, "done");

  gtk_window_destroy (GTK_WINDOW (self->window));
  self->window = NULL;
  imzala_test_gui_settle ();
  imzala_module_set_close (modules);
}

int
main (int argc, char **argv)
{
  imzala_test_gui_init (&argc, &argv);

  /* tests/meson.build runs this program a second time with GDK_SCALE=2 on a
   * 1280×800 screen, for the one test that needs it. */
  if (g_strcmp0 (g_getenv ("GDK_SCALE"), "2") == 0)
    {
      g_test_add ("/gui/sign-page/fits/scale-2", SignPage, NULL, setup_fixture, test_fits_scale_2, teardown);
      return g_test_run ();
    }

  g_test_add ("/gui/sign-page/fits/default", SignPage, NULL, setup_fixture, test_fits_default, teardown);
  g_test_add ("/gui/sign-page/fits/narrow", SignPage, NULL, setup_fixture, test_fits_narrow, teardown);
  g_test_add ("/gui/sign-page/fits/large-text", SignPage, NULL, setup_fixture, test_fits_large_text, teardown);
  g_test_add ("/gui/sign-page/requester-first", SignPage, NULL, setup_fixture, test_requester_first, teardown);
  g_test_add ("/gui/sign-page/wrong-pin-focus", SignPage, NULL, setup_demo, test_wrong_pin_focus, teardown);
  g_test_add ("/gui/sign-page/every-page-narrow", SignPage, NULL, setup_fixture, test_every_page_narrow, teardown);
  g_test_add ("/gui/sign-page/enter-while-reading", SignPage, NULL, setup_slow_listing,
              test_enter_while_reading, teardown);
  g_test_add ("/gui/sign-page/code-while-modules-load", SignPage, NULL, setup_demo,
              test_code_while_modules_load, teardown);
  g_test_add ("/gui/sign-page/pin-pad-focus", SignPage, NULL, setup_pin_pad, test_pin_pad_focus, teardown);
  g_test_add ("/gui/sign-page/two-texts-one-login", SignPage, NULL, setup_count_calls,
              test_two_texts_one_login, teardown);
  g_test_add ("/gui/sign-page/hidden-card", SignPage, NULL, setup_hidden_card, test_hidden_card, teardown);
  g_test_add ("/gui/sign-page/empty-card", SignPage, NULL, setup_fixture, test_empty_card, teardown);
  g_test_add ("/gui/sign-page/card-label-one-line", SignPage, NULL, setup_odd_card, test_card_label_one_line,
              teardown);
  g_test_add ("/gui/sign-page/other-persons-card", SignPage, other_card_only, setup_fixture,
              test_other_persons_card, teardown);
  g_test_add ("/gui/sign-page/two-hidden-cards", SignPage, "both", setup_hidden_card, test_two_hidden_cards,
              teardown);
  return g_test_run ();
}
