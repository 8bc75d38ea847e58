#define G_LOG_DOMAIN "imzala-gui"

#include "config.h"

#include <glib/gi18n.h>

#include "imzala-doctor.h"
#include "imzala-doctor-page.h"

struct _ImzalaDoctorPage
{
  AdwBin               parent_instance;

  GtkLabel            *report_label;
  GtkSpinner          *spinner;

  ImzalaTokenList     *token_list;
  GError              *load_error;
  ImzalaReaderMonitor *reader_monitor;
  GCancellable        *cancellable;
  char                *report;
};

G_DEFINE_FINAL_TYPE (ImzalaDoctorPage, imzala_doctor_page, ADW_TYPE_BIN)

static void
update_actions (ImzalaDoctorPage *self)
{
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "doctor.copy", self->report != NULL);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "doctor.refresh", self->cancellable == NULL);
}

static void
gathered_cb (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  ImzalaDoctor *doctor = IMZALA_DOCTOR (source);
  g_autoptr(ImzalaDoctorPage) self = user_data;
  g_autoptr(GError) error = NULL;

  if (!imzala_doctor_gather_finish (doctor, result, &error))
    {
      /* Cancelled: the page is going away, or a newer report is coming. */
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_warning ("The report could not be made: %s", error->message);
      return;
    }

  g_clear_object (&self->cancellable);
  g_free (self->report);
  self->report = imzala_doctor_render_text (doctor);
  gtk_label_set_text (self->report_label, self->report);
  gtk_spinner_stop (self->spinner);
  gtk_widget_set_visible (GTK_WIDGET (self->spinner), FALSE);
  update_actions (self);
}

void
imzala_doctor_page_refresh (ImzalaDoctorPage *self)
{
  g_autoptr(ImzalaDoctor) doctor = NULL;
  g_autofree char *gtk_version = NULL;
  g_autofree char *adw_version = NULL;
  ImzalaModuleSet *module_set = NULL;

  g_return_if_fail (IMZALA_IS_DOCTOR_PAGE (self));

  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  self->cancellable = g_cancellable_new ();

  doctor = imzala_doctor_new ();
  gtk_version = g_strdup_printf ("%u.%u.%u", gtk_get_major_version (), gtk_get_minor_version (),
                                 gtk_get_micro_version ());
  adw_version = g_strdup_printf ("%u.%u.%u", adw_get_major_version (), adw_get_minor_version (),
                                 adw_get_micro_version ());
  imzala_doctor_set_version (doctor, "GTK", gtk_version);
  imzala_doctor_set_version (doctor, "libadwaita", adw_version);

  if (self->token_list != NULL)
    module_set = imzala_token_list_get_module_set (self->token_list);

  gtk_widget_set_visible (GTK_WIDGET (self->spinner), TRUE);
  gtk_spinner_start (self->spinner);
  update_actions (self);

  /* The token list is refreshed once, shared with the other pages; the
   * window never waits for a card or for pcscd here. */
  imzala_doctor_gather_async (doctor, module_set, self->load_error,
                              self->load_error == NULL ? self->token_list : NULL,
                              self->reader_monitor, NULL, self->cancellable,
                              gathered_cb, g_object_ref (self));
}

const char *
imzala_doctor_page_get_report (ImzalaDoctorPage *self)
{
  g_return_val_if_fail (IMZALA_IS_DOCTOR_PAGE (self), NULL);
  return self->report;
}

void
imzala_doctor_page_set_token_list (ImzalaDoctorPage *self,
                                   ImzalaTokenList  *token_list,
                                   const GError     *load_error)
{
  g_return_if_fail (IMZALA_IS_DOCTOR_PAGE (self));
  g_return_if_fail (token_list == NULL || IMZALA_IS_TOKEN_LIST (token_list));

  g_set_object (&self->token_list, token_list);
  g_clear_error (&self->load_error);
  if (load_error != NULL)
    self->load_error = g_error_copy (load_error);
}

void
imzala_doctor_page_set_reader_monitor (ImzalaDoctorPage    *self,
                                       ImzalaReaderMonitor *monitor)
{
  g_return_if_fail (IMZALA_IS_DOCTOR_PAGE (self));
  g_return_if_fail (monitor == NULL || IMZALA_IS_READER_MONITOR (monitor));

  g_set_object (&self->reader_monitor, monitor);
}

static void
copy_action (GtkWidget  *widget,
             const char *action_name,
             GVariant   *parameter)
{
  ImzalaDoctorPage *self = IMZALA_DOCTOR_PAGE (widget);

  if (self->report == NULL)
    return;
  gdk_clipboard_set_text (gtk_widget_get_clipboard (widget), self->report);
}

static void
refresh_action (GtkWidget  *widget,
                const char *action_name,
                GVariant   *parameter)
{
  imzala_doctor_page_refresh (IMZALA_DOCTOR_PAGE (widget));
}

static void
imzala_doctor_page_dispose (GObject *object)
{
  ImzalaDoctorPage *self = IMZALA_DOCTOR_PAGE (object);

  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  g_clear_object (&self->token_list);
  g_clear_error (&self->load_error);
  g_clear_object (&self->reader_monitor);
  g_clear_pointer (&self->report, g_free);
  gtk_widget_dispose_template (GTK_WIDGET (self), IMZALA_TYPE_DOCTOR_PAGE);

  G_OBJECT_CLASS (imzala_doctor_page_parent_class)->dispose (object);
}

static void
imzala_doctor_page_class_init (ImzalaDoctorPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = imzala_doctor_page_dispose;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/imzala/Imzala/pages/imzala-doctor-page.ui");
  gtk_widget_class_bind_template_child (widget_class, ImzalaDoctorPage, report_label);
  gtk_widget_class_bind_template_child (widget_class, ImzalaDoctorPage, spinner);

  gtk_widget_class_install_action (widget_class, "doctor.copy", NULL, copy_action);
  gtk_widget_class_install_action (widget_class, "doctor.refresh", NULL, refresh_action);
}

static void
imzala_doctor_page_init (ImzalaDoctorPage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  gtk_label_set_text (self->report_label, _("Gathering the facts…"));
  update_actions (self);
}
