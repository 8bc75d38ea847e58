#define G_LOG_DOMAIN "imzala-gui"

#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "imzala-code-page.h"
#include "imzala-error.h"
#include "imzala-portal.h"
#include "imzala-text.h"

struct _ImzalaCodePage
{
  AdwBin      parent_instance;

  AdwBin      *centre;
  AdwEntryRow *portal_row;
  AdwEntryRow *code_row;
  GtkLabel    *error_label;

  char        *code;
};

G_DEFINE_FINAL_TYPE (ImzalaCodePage, imzala_code_page, ADW_TYPE_BIN)

enum {
  PROP_0,
  PROP_CODE,
  PROP_VALID,
  PROP_PORTAL_URL,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

void
imzala_code_page_set_error (ImzalaCodePage *self,
                            const char     *message)
{
  g_autofree char *shown = NULL;

  g_return_if_fail (IMZALA_IS_CODE_PAGE (self));

  /* A message may name a card or a reader as it names itself: one line. */
  shown = imzala_text_escape_unshown (message);
  gtk_label_set_text (self->error_label, shown ? shown : "");
  gtk_widget_set_visible (GTK_WIDGET (self->error_label), message != NULL);
  if (message != NULL)
    gtk_widget_add_css_class (GTK_WIDGET (self->code_row), "error");
  else
    gtk_widget_remove_css_class (GTK_WIDGET (self->code_row), "error");
}

/* Whether a failed normalisation is worth an error while the user is still
 * typing: a code that is merely too short so far is not, a character that
 * can never be part of a code, or too many characters, is. */
static gboolean
is_hopeless (const char *text)
{
  const char *start = strrchr (text, ':');
  guint count = 0;

  start = start ? start + 1 : text;
  for (const char *p = start; *p != '\0'; p++)
    {
      char c = g_ascii_toupper (*p);

      if (c == ' ' || c == '-' || c == '\t' || c == '\n' || c == '\r')
        continue;
      if (c == 'O' || c == 'I' || c == 'L' || strchr (IMZALA_PORTAL_CODE_ALPHABET, c) != NULL)
        count++;
      else
        return TRUE;
    }
  return count > IMZALA_PORTAL_CODE_LENGTH;
}

static void
portal_changed_cb (ImzalaCodePage *self)
{
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PORTAL_URL]);
}

static void
code_changed_cb (ImzalaCodePage *self)
{
  const char *text = gtk_editable_get_text (GTK_EDITABLE (self->code_row));
  g_autoptr(GError) error = NULL;
  g_autofree char *code = NULL;
  gboolean was_valid = self->code != NULL;

  code = imzala_portal_normalize_code (text, &error);
  g_clear_pointer (&self->code, g_free);
  self->code = g_steal_pointer (&code);

  if (self->code != NULL || *text == '\0' || !is_hopeless (text))
    imzala_code_page_set_error (self, NULL);
  else
    imzala_code_page_set_error (self, error->message);

  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CODE]);
  if (was_valid != (self->code != NULL))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_VALID]);
}

/* Enter in the code field is İleri; with a code that is not complete it
 * says what is wrong instead of doing nothing. */
static void
code_activated_cb (ImzalaCodePage *self)
{
  const char *text = gtk_editable_get_text (GTK_EDITABLE (self->code_row));
  g_autoptr(GError) error = NULL;
  g_autofree char *code = imzala_portal_normalize_code (text, &error);

  if (code == NULL)
    {
      imzala_code_page_set_error (self, error->message);
      return;
    }
  gtk_widget_activate_action (GTK_WIDGET (self), "win.next", NULL);
}

static void
paste_done_cb (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(ImzalaCodePage) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *text = gdk_clipboard_read_text_finish (GDK_CLIPBOARD (object), result, &error);

  if (text == NULL)
    {
      g_debug ("Nothing to paste: %s", error ? error->message : "empty clipboard");
      return;
    }
  g_strstrip (text);
  imzala_code_page_set_code (self, text);
}

static void
page_paste_cb (GtkWidget  *widget,
               const char *action_name,
               GVariant   *parameter)
{
  GdkClipboard *clipboard = gtk_widget_get_clipboard (widget);

  gdk_clipboard_read_text_async (clipboard, NULL, paste_done_cb, g_object_ref (widget));
}

void
imzala_code_page_set_portal_url (ImzalaCodePage *self,
                                 const char     *url)
{
  g_return_if_fail (IMZALA_IS_CODE_PAGE (self));

  gtk_editable_set_text (GTK_EDITABLE (self->portal_row), url ? url : "");
}

char *
imzala_code_page_dup_portal_url (ImzalaCodePage *self)
{
  g_autofree char *url = NULL;

  g_return_val_if_fail (IMZALA_IS_CODE_PAGE (self), NULL);

  url = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->portal_row))));
  if (*url == '\0')
    return NULL;
  return g_steal_pointer (&url);
}

void
imzala_code_page_set_code (ImzalaCodePage *self,
                           const char     *text)
{
  g_return_if_fail (IMZALA_IS_CODE_PAGE (self));

  gtk_editable_set_text (GTK_EDITABLE (self->code_row), text ? text : "");
  gtk_editable_set_position (GTK_EDITABLE (self->code_row), -1);
}

const char *
imzala_code_page_get_code (ImzalaCodePage *self)
{
  g_return_val_if_fail (IMZALA_IS_CODE_PAGE (self), NULL);

  return self->code;
}

gboolean
imzala_code_page_get_valid (ImzalaCodePage *self)
{
  g_return_val_if_fail (IMZALA_IS_CODE_PAGE (self), FALSE);

  return self->code != NULL;
}

void
imzala_code_page_focus_code (ImzalaCodePage *self)
{
  g_return_if_fail (IMZALA_IS_CODE_PAGE (self));

  gtk_widget_grab_focus (GTK_WIDGET (self->code_row));
}

/* The page's content is centred in the viewport's height as a status page
 * centres it (valign=center), but by this layout of its AdwBin. GTK 4.8
 * allocates a widget of halign fill and another valign by first measuring
 * its minimum width for the height it is given (gtk_widget_allocate()), a
 * width that halign fill then ignores; for the two wrapping labels that
 * measure is a bisection over widths, some 35 of the first frame's 78 text
 * layouts and 9 M of its instructions (issue 12; HACKING.md, "Benchmarks").
 * The rest is GTK's own: the natural height for the width, placed at
 * (height - natural) / 2 when it is shorter, as adjust_for_align() does. */
static GtkSizeRequestMode
centre_request_mode (GtkWidget *widget)
{
  GtkWidget *child = gtk_widget_get_first_child (widget);

  return child ? gtk_widget_get_request_mode (child) : GTK_SIZE_REQUEST_CONSTANT_SIZE;
}

static void
centre_measure (GtkWidget      *widget,
                GtkOrientation  orientation,
                int             for_size,
                int            *minimum,
                int            *natural,
                int            *minimum_baseline,
                int            *natural_baseline)
{
  GtkWidget *child = gtk_widget_get_first_child (widget);

  *minimum = *natural = 0;
  if (child != NULL && gtk_widget_should_layout (child))
    gtk_widget_measure (child, orientation, for_size, minimum, natural, NULL, NULL);
}

static void
centre_allocate (GtkWidget *widget,
                 int        width,
                 int        height,
                 int        baseline)
{
  GtkWidget *child = gtk_widget_get_first_child (widget);
  int minimum = 0;
  int natural = 0;
  int y = 0;

  if (child == NULL || !gtk_widget_should_layout (child))
    return;
  gtk_widget_measure (child, GTK_ORIENTATION_VERTICAL, width, &minimum, &natural, NULL, NULL);
  natural = MAX (minimum, natural);
  if (height > natural)
    {
      y = (height - natural) / 2;
      height = natural;
    }
  gtk_widget_size_allocate (child, &(GtkAllocation) { 0, y, width, height }, -1);
}

static void
imzala_code_page_dispose (GObject *object)
{
  ImzalaCodePage *self = IMZALA_CODE_PAGE (object);

  gtk_widget_dispose_template (GTK_WIDGET (self), IMZALA_TYPE_CODE_PAGE);
  g_clear_pointer (&self->code, g_free);

  G_OBJECT_CLASS (imzala_code_page_parent_class)->dispose (object);
}

static void
imzala_code_page_get_property (GObject    *object,
                               guint       prop_id,
                               GValue     *value,
                               GParamSpec *pspec)
{
  ImzalaCodePage *self = IMZALA_CODE_PAGE (object);

  switch (prop_id)
    {
    case PROP_CODE:
      g_value_set_string (value, self->code);
      break;
    case PROP_VALID:
      g_value_set_boolean (value, self->code != NULL);
      break;
    case PROP_PORTAL_URL:
      g_value_take_string (value, imzala_code_page_dup_portal_url (self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
imzala_code_page_class_init (ImzalaCodePageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = imzala_code_page_dispose;
  object_class->get_property = imzala_code_page_get_property;

  properties[PROP_CODE] =
    g_param_spec_string ("code", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  properties[PROP_VALID] =
    g_param_spec_boolean ("valid", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  properties[PROP_PORTAL_URL] =
    g_param_spec_string ("portal-url", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_install_action (widget_class, "code.paste", NULL, page_paste_cb);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/imzala/Imzala/pages/imzala-code-page.ui");
  gtk_widget_class_bind_template_child (widget_class, ImzalaCodePage, centre);
  gtk_widget_class_bind_template_child (widget_class, ImzalaCodePage, portal_row);
  gtk_widget_class_bind_template_child (widget_class, ImzalaCodePage, code_row);
  gtk_widget_class_bind_template_child (widget_class, ImzalaCodePage, error_label);
  gtk_widget_class_bind_template_callback (widget_class, code_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, portal_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, code_activated_cb);
}

static void
imzala_code_page_init (ImzalaCodePage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  gtk_widget_set_layout_manager (GTK_WIDGET (self->centre),
                                 gtk_custom_layout_new (centre_request_mode, centre_measure, centre_allocate));
}
