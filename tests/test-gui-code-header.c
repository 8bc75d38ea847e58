#define G_LOG_DOMAIN "imzala-test"

/* The code page lays out AdwStatusPage's widgets by hand (issue 12: the
 * status page wrapped its text at any character, which the first frame
 * paid for). Its header must still look like a status page: the icon, the
 * title and the description render to the same pixels as those of a real
 * AdwStatusPage with the same icon and texts, and stand as far apart. The
 * suite runs it twice: in the default style, and in high contrast
 * (ADW_DEBUG_HIGH_CONTRAST=1, gui-code-header-high-contrast), where
 * libadwaita dims a status page's icon less. Like a status page, the page
 * is labelled by its title and described by its description. */

#include "config.h"

#include <adwaita.h>

#include "imzala-code-page.h"
#include "imzala-test-gui.h"

/* The first widget of @type under @widget that has @css_class. */
static GtkWidget *
find_widget (GtkWidget  *widget,
             GType       type,
             const char *css_class)
{
  g_autoptr(GPtrArray) all = imzala_test_gui_find_all (widget, type);

  for (guint i = 0; i < all->len; i++)
    if (gtk_widget_has_css_class (all->pdata[i], css_class))
      return all->pdata[i];
  return NULL;
}

/* A header's parts, as a status page names them: its icon, its title and
 * its description. */
enum { ICON, TITLE, DESCRIPTION, N_PARTS };

static void
find_header (GtkWidget *page,
             GtkWidget *parts[N_PARTS])
{
  parts[ICON] = find_widget (page, GTK_TYPE_IMAGE, "icon");
  parts[TITLE] = find_widget (page, GTK_TYPE_LABEL, "title-1");
  parts[DESCRIPTION] = find_widget (page, GTK_TYPE_LABEL, "description");
  for (guint i = 0; i < N_PARTS; i++)
    g_assert_nonnull (parts[i]);
}

/* @widget as GTK draws it (its own opacity and colours included), in
 * premultiplied RGBA, by the cairo renderer. */
static GBytes *
render (GtkWidget *widget)
{
  g_autoptr(GdkPaintable) paintable = gtk_widget_paintable_new (widget);
  g_autoptr(GskRenderer) renderer = gsk_cairo_renderer_new ();
  g_autoptr(GskRenderNode) node = NULL;
  g_autoptr(GdkTexture) texture = NULL;
  g_autoptr(GError) error = NULL;
  GtkSnapshot *snapshot = gtk_snapshot_new ();
  int width = gtk_widget_get_width (widget);
  int height = gtk_widget_get_height (widget);
  guchar *data;

  g_assert_cmpint (width, >, 0);
  g_assert_cmpint (height, >, 0);
  gdk_paintable_snapshot (paintable, snapshot, width, height);
  node = gtk_snapshot_free_to_node (snapshot);
  g_assert_nonnull (node);
  g_assert_true (gsk_renderer_realize (renderer, NULL, &error));
  g_assert_no_error (error);
  texture = gsk_renderer_render_texture (renderer, node, &GRAPHENE_RECT_INIT (0, 0, width, height));
  gsk_renderer_unrealize (renderer);

  data = g_malloc ((gsize) width * height * 4);
  gdk_texture_download (texture, data, (gsize) width * 4);
  return g_bytes_new_take (data, (gsize) width * height * 4);
}

static void
assert_same_pixels (GtkWidget  *expected,
                    GtkWidget  *actual,
                    const char *what)
{
  g_autoptr(GBytes) a = render (expected);
  g_autoptr(GBytes) b = render (actual);
  gsize size_a = 0;
  gsize size_b = 0;
  const guchar *pa = g_bytes_get_data (a, &size_a);
  const guchar *pb = g_bytes_get_data (b, &size_b);
  gsize differing = 0;
  int largest = 0;

  g_test_message ("%s: %d×%d px against %d×%d px", what,
                  gtk_widget_get_width (expected), gtk_widget_get_height (expected),
                  gtk_widget_get_width (actual), gtk_widget_get_height (actual));
  g_assert_cmpint (gtk_widget_get_width (actual), ==, gtk_widget_get_width (expected));
  g_assert_cmpint (gtk_widget_get_height (actual), ==, gtk_widget_get_height (expected));
  for (gsize i = 0; i < size_a && i < size_b; i++)
    {
      differing += pa[i] != pb[i];
      largest = MAX (largest, ABS ((int) pa[i] - (int) pb[i]));
    }
  g_test_message ("%s: %" G_GSIZE_FORMAT " of %" G_GSIZE_FORMAT " bytes differ, by %d at most",
                  what, differing, size_a, largest);
  /* The status page dims its icon with a colour's alpha, the code page
   * with libadwaita's .dim-label (an opacity, which follows high contrast
   * as the status page's colour does): the two round apart by one step in
   * a few edge pixels. A dimmer or brighter icon, another font or colour
   * differs by tens of steps. */
  g_assert_cmpint (largest, <=, 2);
}

/* The vertical distance from @above's bottom to @below's top, in @page. */
static double
gap (GtkWidget *above,
     GtkWidget *below,
     GtkWidget *page)
{
  graphene_rect_t a;
  graphene_rect_t b;

  g_assert_true (gtk_widget_compute_bounds (above, page, &a));
  g_assert_true (gtk_widget_compute_bounds (below, page, &b));
  return b.origin.y - (a.origin.y + a.size.height);
}

static void
test_like_status_page (void)
{
  GtkWidget *code_page = g_object_new (IMZALA_TYPE_CODE_PAGE, NULL);
  GtkWidget *status_page = adw_status_page_new ();
  GtkWidget *content = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  GtkWidget *code_window = imzala_test_gui_show_in_window (code_page, 640, 780);
  GtkWidget *status_window;
  GtkWidget *status[N_PARTS];
  GtkWidget *code[N_PARTS];
  GtkWidget *code_content;

  /* The high-contrast run must be one. */
  if (g_strcmp0 (g_getenv ("ADW_DEBUG_HIGH_CONTRAST"), "1") == 0)
    g_assert_true (adw_style_manager_get_high_contrast (adw_style_manager_get_default ()));

  find_header (code_page, code);

  /* A status page as libadwaita makes it, with the code page's icon and
   * texts, and content below as tall as the code page's. */
  code_content = gtk_widget_get_parent (gtk_widget_get_parent (code[ICON]));
  code_content = gtk_widget_get_next_sibling (code_content);
  g_assert_nonnull (code_content);
  adw_status_page_set_icon_name (ADW_STATUS_PAGE (status_page), gtk_image_get_icon_name (GTK_IMAGE (code[ICON])));
  adw_status_page_set_title (ADW_STATUS_PAGE (status_page), gtk_label_get_label (GTK_LABEL (code[TITLE])));
  adw_status_page_set_description (ADW_STATUS_PAGE (status_page), gtk_label_get_label (GTK_LABEL (code[DESCRIPTION])));
  gtk_widget_set_size_request (content, -1, gtk_widget_get_height (code_content));
  adw_status_page_set_child (ADW_STATUS_PAGE (status_page), content);
  status_window = imzala_test_gui_show_in_window (status_page, 640, 780);

  find_header (status_page, status);

  /* Read as a status page is: labelled by its title, described by its
   * description (GTK_A11Y=test keeps the relations for the test). */
  g_assert_true (gtk_test_accessible_has_relation (GTK_ACCESSIBLE (status_page),
                                                   GTK_ACCESSIBLE_RELATION_LABELLED_BY));
  g_assert_true (gtk_test_accessible_has_relation (GTK_ACCESSIBLE (code_page),
                                                   GTK_ACCESSIBLE_RELATION_LABELLED_BY));
  g_assert_true (gtk_test_accessible_has_relation (GTK_ACCESSIBLE (status_page),
                                                   GTK_ACCESSIBLE_RELATION_DESCRIBED_BY));
  g_assert_true (gtk_test_accessible_has_relation (GTK_ACCESSIBLE (code_page),
                                                   GTK_ACCESSIBLE_RELATION_DESCRIBED_BY));

  assert_same_pixels (status[ICON], code[ICON], "the icon");
  assert_same_pixels (status[TITLE], code[TITLE], "the title");
  assert_same_pixels (status[DESCRIPTION], code[DESCRIPTION], "the description");

  g_assert_cmpfloat_with_epsilon (gap (code[ICON], code[TITLE], code_page),
                                  gap (status[ICON], status[TITLE], status_page), 0.5);
  g_assert_cmpfloat_with_epsilon (gap (code[TITLE], code[DESCRIPTION], code_page),
                                  gap (status[TITLE], status[DESCRIPTION], status_page), 0.5);
  g_assert_cmpfloat_with_epsilon (gap (code[DESCRIPTION], code_content, code_page),
                                  gap (status[DESCRIPTION], content, status_page), 0.5);
  /* And at the same height in a window of the same size. */
  {
    graphene_rect_t a;
    graphene_rect_t b;

    g_assert_true (gtk_widget_compute_bounds (status[ICON], status_page, &a));
    g_assert_true (gtk_widget_compute_bounds (code[ICON], code_page, &b));
    g_test_message ("the icon at (%.0f, %.0f) against (%.0f, %.0f)", b.origin.x, b.origin.y, a.origin.x, a.origin.y);
    g_assert_cmpfloat_with_epsilon (b.origin.x, a.origin.x, 0.5);
    g_assert_cmpfloat_with_epsilon (b.origin.y, a.origin.y, 0.5);
  }

  gtk_window_destroy (GTK_WINDOW (status_window));
  gtk_window_destroy (GTK_WINDOW (code_window));
  imzala_test_gui_settle ();
}

int
main (int argc, char *argv[])
{
  imzala_test_gui_init (&argc, &argv);
  imzala_test_gui_load_app_style ();
  /* No caret blinking, no transitions half done. */
  g_object_set (gtk_settings_get_default (), "gtk-enable-animations", FALSE,
                "gtk-cursor-blink", FALSE, NULL);
  g_test_message ("high contrast: %s",
                  adw_style_manager_get_high_contrast (adw_style_manager_get_default ()) ? "yes" : "no");

  g_test_add_func ("/gui/code-header/like-status-page", test_like_status_page);

  return g_test_run ();
}
