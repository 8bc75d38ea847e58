#define G_LOG_DOMAIN "imzala-gui"

#include "config.h"

#include <glib/gi18n.h>

#include "imzala-format.h"
#include "imzala-result-page.h"

struct _ImzalaResultPage
{
  AdwBin        parent_instance;

  GtkLabel      *message_label;
  GtkWidget     *continue_label;
  AdwActionRow  *created_row;
  AdwActionRow  *signed_row;
  GtkWidget     *save_button;
};

G_DEFINE_FINAL_TYPE (ImzalaResultPage, imzala_result_page, ADW_TYPE_BIN)

/* The status page is the bin's child: it is not bound to a field, because
 * gtk_widget_dispose_template() would unparent it behind AdwBin's back. */
static AdwStatusPage *
get_status_page (ImzalaResultPage *self)
{
  return ADW_STATUS_PAGE (adw_bin_get_child (ADW_BIN (self)));
}

static void
set_time_row (AdwActionRow *row,
              GDateTime    *time)
{
  g_autofree char *text = imzala_format_time (time);

  adw_action_row_set_subtitle (row, text ? text : "");
  gtk_widget_set_visible (GTK_WIDGET (row), text != NULL);
}

void
imzala_result_page_set_result (ImzalaResultPage *self,
                               const char       *title,
                               const char       *message,
                               GDateTime        *created_at,
                               GDateTime        *signed_at,
                               gboolean          can_save)
{
  g_return_if_fail (IMZALA_IS_RESULT_PAGE (self));

  adw_status_page_set_title (get_status_page (self), title);
  gtk_label_set_text (self->message_label, message ? message : "");
  gtk_widget_set_visible (GTK_WIDGET (self->message_label), message != NULL && *message != '\0');
  /* The portal's own message already says where to go on; the generic
   * sentence is only for a portal that says nothing. */
  gtk_widget_set_visible (self->continue_label, message == NULL || *message == '\0');
  set_time_row (self->created_row, created_at);
  set_time_row (self->signed_row, signed_at);
  gtk_widget_set_visible (self->save_button, can_save);
}

static void
imzala_result_page_dispose (GObject *object)
{
  gtk_widget_dispose_template (GTK_WIDGET (object), IMZALA_TYPE_RESULT_PAGE);

  G_OBJECT_CLASS (imzala_result_page_parent_class)->dispose (object);
}

static void
imzala_result_page_class_init (ImzalaResultPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = imzala_result_page_dispose;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/imzala/Imzala/pages/imzala-result-page.ui");
  gtk_widget_class_bind_template_child (widget_class, ImzalaResultPage, message_label);
  gtk_widget_class_bind_template_child (widget_class, ImzalaResultPage, continue_label);
  gtk_widget_class_bind_template_child (widget_class, ImzalaResultPage, created_row);
  gtk_widget_class_bind_template_child (widget_class, ImzalaResultPage, signed_row);
  gtk_widget_class_bind_template_child (widget_class, ImzalaResultPage, save_button);
}

static void
imzala_result_page_init (ImzalaResultPage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}
