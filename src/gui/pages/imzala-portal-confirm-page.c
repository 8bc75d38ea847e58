#define G_LOG_DOMAIN "imzala-gui"

#include "config.h"

#include <glib/gi18n.h>

#include "imzala-portal-confirm-page.h"

struct _ImzalaPortalConfirmPage
{
  AdwBin        parent_instance;

  GtkLabel      *origin_label;
  GtkCheckButton *remember_check;
};

G_DEFINE_FINAL_TYPE (ImzalaPortalConfirmPage, imzala_portal_confirm_page, ADW_TYPE_BIN)

void
imzala_portal_confirm_page_set_origin (ImzalaPortalConfirmPage *self,
                                       const char              *origin)
{
  g_return_if_fail (IMZALA_IS_PORTAL_CONFIRM_PAGE (self));

  /* A plain label, never markup: the origin comes from a link. */
  gtk_label_set_text (self->origin_label, origin);
  gtk_check_button_set_active (self->remember_check, FALSE);
}

gboolean
imzala_portal_confirm_page_get_remember (ImzalaPortalConfirmPage *self)
{
  g_return_val_if_fail (IMZALA_IS_PORTAL_CONFIRM_PAGE (self), FALSE);

  return gtk_check_button_get_active (self->remember_check);
}

static void
imzala_portal_confirm_page_dispose (GObject *object)
{
  gtk_widget_dispose_template (GTK_WIDGET (object), IMZALA_TYPE_PORTAL_CONFIRM_PAGE);

  G_OBJECT_CLASS (imzala_portal_confirm_page_parent_class)->dispose (object);
}

static void
imzala_portal_confirm_page_class_init (ImzalaPortalConfirmPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = imzala_portal_confirm_page_dispose;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/imzala/Imzala/pages/imzala-portal-confirm-page.ui");
  gtk_widget_class_bind_template_child (widget_class, ImzalaPortalConfirmPage, origin_label);
  gtk_widget_class_bind_template_child (widget_class, ImzalaPortalConfirmPage, remember_check);
}

static void
imzala_portal_confirm_page_init (ImzalaPortalConfirmPage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}
