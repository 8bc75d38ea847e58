#define G_LOG_DOMAIN "imzala-gui"

#include "config.h"

#include <glib/gi18n.h>

#include "imzala-certificate-row.h"
#include "imzala-format.h"
#include "imzala-text.h"

struct _ImzalaCertificateRow
{
  AdwActionRow       parent_instance;

  GtkWidget         *check_icon;

  ImzalaCertificate *certificate;
  char              *card_label;
  char              *summary;
  gboolean           other_person;
  gboolean           selected;
};

G_DEFINE_FINAL_TYPE (ImzalaCertificateRow, imzala_certificate_row, ADW_TYPE_ACTION_ROW)

enum {
  PROP_0,
  PROP_CERTIFICATE,
  PROP_CARD_LABEL,
  PROP_OTHER_PERSON,
  PROP_SELECTED,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/* One line per fact, in the words of a person who holds two cards: who the
 * certificate belongs to, who issued it, until when, on which card; the key
 * type last, for whoever asks for it. */
static void
update_texts (ImzalaCertificateRow *self)
{
  ImzalaCertificate *certificate = self->certificate;
  g_autoptr(GString) subtitle = g_string_new (NULL);
  g_autoptr(GString) summary = NULL;
  g_auto(GStrv) problems = imzala_certificate_describe_problems (certificate, NULL);
  g_autofree char *not_after = imzala_format_time (imzala_certificate_get_not_after (certificate));
  /* The card's strings, one line each: the subtitle's lines are ours. */
  g_autofree char *holder = imzala_text_escape_unshown (imzala_certificate_get_holder_name (certificate));
  g_autofree char *issuer = imzala_text_escape_unshown (imzala_certificate_get_issuer_name (certificate));
  g_autofree char *card = imzala_text_escape_unshown (self->card_label);

  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self), holder);
  if (self->other_person)
    /* Translators: Başka bir kişiye ait: the portal asked another person. */
    g_string_append_printf (subtitle, "%s\n", _("Belongs to another person"));
  /* Translators: the issuer's name and a date (Veren: …, … tarihine kadar
   * geçerli). */
  g_string_append_printf (subtitle, _("Issued by %s, valid until %s"), issuer, not_after);
  g_string_append_c (subtitle, '\n');
  if (card != NULL && *card != '\0')
    /* Translators: the card's label and the key type, "RSA 2048" or
     * "EC P-384" (Kart: … (RSA 2048)). */
    g_string_append_printf (subtitle, _("On the card %s (%s)"), card,
                            imzala_certificate_get_key_description (certificate));
  else
    g_string_append (subtitle, imzala_certificate_get_key_description (certificate));
  /* The summary (the sign page's compact button) leaves out only the
   * line that says all is well. */
  summary = g_string_new (subtitle->str);
  if (imzala_certificate_is_recommended (certificate))
    g_string_append_printf (subtitle, "\n%s", _("Qualified signing certificate, recommended for signing"));
  for (guint i = 0; problems != NULL && problems[i] != NULL; i++)
    {
      g_string_append_printf (subtitle, "\n%s", problems[i]);
      g_string_append_printf (summary, "\n%s", problems[i]);
    }
  g_free (self->summary);
  self->summary = g_string_free (g_steal_pointer (&summary), FALSE);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (self), subtitle->str);

  /* Only a problem, or another person, gets an icon before the text. It is
   * added, not hidden: an empty prefix box would still move the text to the
   * right. */
  if (!imzala_certificate_is_recommended (certificate))
    adw_action_row_add_prefix (ADW_ACTION_ROW (self),
                               gtk_image_new_from_icon_name ("dialog-warning-symbolic"));
  else if (self->other_person)
    adw_action_row_add_prefix (ADW_ACTION_ROW (self),
                               gtk_image_new_from_icon_name ("system-users-symbolic"));
}

const char *
imzala_certificate_row_get_summary (ImzalaCertificateRow *self)
{
  g_return_val_if_fail (IMZALA_IS_CERTIFICATE_ROW (self), NULL);

  return self->summary;
}

gboolean
imzala_certificate_row_get_other_person (ImzalaCertificateRow *self)
{
  g_return_val_if_fail (IMZALA_IS_CERTIFICATE_ROW (self), FALSE);

  return self->other_person;
}

ImzalaCertificate *
imzala_certificate_row_get_certificate (ImzalaCertificateRow *self)
{
  g_return_val_if_fail (IMZALA_IS_CERTIFICATE_ROW (self), NULL);

  return self->certificate;
}

gboolean
imzala_certificate_row_get_selected (ImzalaCertificateRow *self)
{
  g_return_val_if_fail (IMZALA_IS_CERTIFICATE_ROW (self), FALSE);

  return self->selected;
}

void
imzala_certificate_row_set_selected (ImzalaCertificateRow *self,
                                     gboolean              selected)
{
  g_return_if_fail (IMZALA_IS_CERTIFICATE_ROW (self));

  selected = !!selected;
  if (self->selected == selected)
    return;
  self->selected = selected;
  gtk_widget_set_opacity (self->check_icon, selected ? 1.0 : 0.0);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SELECTED]);
}

static void
imzala_certificate_row_constructed (GObject *object)
{
  ImzalaCertificateRow *self = IMZALA_CERTIFICATE_ROW (object);

  G_OBJECT_CLASS (imzala_certificate_row_parent_class)->constructed (object);

  g_return_if_fail (self->certificate != NULL);
  update_texts (self);
}

static void
imzala_certificate_row_dispose (GObject *object)
{
  ImzalaCertificateRow *self = IMZALA_CERTIFICATE_ROW (object);

  gtk_widget_dispose_template (GTK_WIDGET (self), IMZALA_TYPE_CERTIFICATE_ROW);
  g_clear_object (&self->certificate);
  g_clear_pointer (&self->card_label, g_free);
  g_clear_pointer (&self->summary, g_free);

  G_OBJECT_CLASS (imzala_certificate_row_parent_class)->dispose (object);
}

static void
imzala_certificate_row_get_property (GObject    *object,
                                     guint       prop_id,
                                     GValue     *value,
                                     GParamSpec *pspec)
{
  ImzalaCertificateRow *self = IMZALA_CERTIFICATE_ROW (object);

  switch (prop_id)
    {
    case PROP_CERTIFICATE:
      g_value_set_object (value, self->certificate);
      break;
    case PROP_CARD_LABEL:
      g_value_set_string (value, self->card_label);
      break;
    case PROP_OTHER_PERSON:
      g_value_set_boolean (value, self->other_person);
      break;
    case PROP_SELECTED:
      g_value_set_boolean (value, self->selected);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
imzala_certificate_row_set_property (GObject      *object,
                                     guint         prop_id,
                                     const GValue *value,
                                     GParamSpec   *pspec)
{
  ImzalaCertificateRow *self = IMZALA_CERTIFICATE_ROW (object);

  switch (prop_id)
    {
    case PROP_CERTIFICATE:
      self->certificate = g_value_dup_object (value);
      break;
    case PROP_CARD_LABEL:
      self->card_label = g_value_dup_string (value);
      break;
    case PROP_OTHER_PERSON:
      self->other_person = g_value_get_boolean (value);
      break;
    case PROP_SELECTED:
      imzala_certificate_row_set_selected (self, g_value_get_boolean (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
imzala_certificate_row_class_init (ImzalaCertificateRowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->constructed = imzala_certificate_row_constructed;
  object_class->dispose = imzala_certificate_row_dispose;
  object_class->get_property = imzala_certificate_row_get_property;
  object_class->set_property = imzala_certificate_row_set_property;

  properties[PROP_CERTIFICATE] =
    g_param_spec_object ("certificate", NULL, NULL, IMZALA_TYPE_CERTIFICATE,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties[PROP_CARD_LABEL] =
    g_param_spec_string ("card-label", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties[PROP_OTHER_PERSON] =
    g_param_spec_boolean ("other-person", NULL, NULL, FALSE,
                          G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties[PROP_SELECTED] =
    g_param_spec_boolean ("selected", NULL, NULL, FALSE,
                          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/imzala/Imzala/widgets/imzala-certificate-row.ui");
  gtk_widget_class_bind_template_child (widget_class, ImzalaCertificateRow, check_icon);
}

static void
imzala_certificate_row_init (ImzalaCertificateRow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}

GtkWidget *
imzala_certificate_row_new (ImzalaCertificate *certificate,
                            const char        *card_label,
                            gboolean           other_person)
{
  g_return_val_if_fail (IMZALA_IS_CERTIFICATE (certificate), NULL);

  return g_object_new (IMZALA_TYPE_CERTIFICATE_ROW,
                       "certificate", certificate,
                       "card-label", card_label,
                       "other-person", other_person,
                       NULL);
}
