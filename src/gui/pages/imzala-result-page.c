#define G_LOG_DOMAIN "imzala-gui"

#include "config.h"

#include <glib/gi18n.h>

#include "imzala-result-page.h"

struct _ImzalaResultPage
{
  GtkWidget      parent_instance;

  AdwStatusPage *status_page;
  GtkLabel      *message_label;
  GtkWidget     *continue_label;
  AdwActionRow  *created_row;
  AdwActionRow  *signed_row;
  GtkWidget     *save_button;
};

G_DEFINE_FINAL_TYPE (ImzalaResultPage, imzala_result_page, GTK_TYPE_WIDGET)

char *
imzala_result_page_format_time (GDateTime *time)
{
  g_autoptr(GDateTime) local = NULL;

  if (time == NULL)
    return NULL;
  local = g_date_time_to_local (time);
  /* Translators: date and time as strftime() writes them; Turkish uses
   * "%d.%m.%Y %H:%M:%S", as the old application did. */
  return g_date_time_format (local, C_("date and time", "%Y-%m-%d %H:%M:%S"));
}

static void
set_time_row (AdwActionRow *row,
              GDateTime    *time)
{
  g_autofree char *text = imzala_result_page_format_time (time);

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

  adw_status_page_set_title (self->status_page, title);
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
  /* Children of the template that no field holds are still ours to drop. */
  for (GtkWidget *child; (child = gtk_widget_get_first_child (GTK_WIDGET (object))) != NULL;)
    gtk_widget_unparent (child);

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
  gtk_widget_class_bind_template_child (widget_class, ImzalaResultPage, status_page);
  gtk_widget_class_bind_template_child (widget_class, ImzalaResultPage, message_label);
  gtk_widget_class_bind_template_child (widget_class, ImzalaResultPage, continue_label);
  gtk_widget_class_bind_template_child (widget_class, ImzalaResultPage, created_row);
  gtk_widget_class_bind_template_child (widget_class, ImzalaResultPage, signed_row);
  gtk_widget_class_bind_template_child (widget_class, ImzalaResultPage, save_button);
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
}

static void
imzala_result_page_init (ImzalaResultPage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}
