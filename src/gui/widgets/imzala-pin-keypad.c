#define G_LOG_DOMAIN "imzala-gui"

#include "config.h"

#include <glib/gi18n.h>

#include "imzala-pin-keypad.h"

struct _ImzalaPinKeypad
{
  GtkWidget       parent_instance;

  GtkWidget      *grid;
  ImzalaPinEntry *entry;
};

G_DEFINE_FINAL_TYPE (ImzalaPinKeypad, imzala_pin_keypad, GTK_TYPE_WIDGET)

enum {
  PROP_0,
  PROP_ENTRY,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/* The keypad's buttons are not focusable: a click leaves the focus in the
 * PIN field, so the keyboard keeps typing there and Enter still signs, and
 * Tab goes from the PIN field straight on to the next control (the keyboard
 * has its own digits). */
static void
keypad_digit_cb (GtkWidget  *widget,
                 const char *action_name,
                 GVariant   *parameter)
{
  ImzalaPinKeypad *self = IMZALA_PIN_KEYPAD (widget);

  if (self->entry == NULL)
    return;
  imzala_pin_entry_append (self->entry, g_variant_get_string (parameter, NULL));
}

static void
keypad_clear_cb (GtkWidget  *widget,
                 const char *action_name,
                 GVariant   *parameter)
{
  ImzalaPinKeypad *self = IMZALA_PIN_KEYPAD (widget);

  if (self->entry != NULL)
    imzala_pin_entry_clear (self->entry);
}

static void
keypad_backspace_cb (GtkWidget  *widget,
                     const char *action_name,
                     GVariant   *parameter)
{
  ImzalaPinKeypad *self = IMZALA_PIN_KEYPAD (widget);

  if (self->entry != NULL)
    imzala_pin_entry_backspace (self->entry);
}

ImzalaPinEntry *
imzala_pin_keypad_get_entry (ImzalaPinKeypad *self)
{
  g_return_val_if_fail (IMZALA_IS_PIN_KEYPAD (self), NULL);

  return self->entry;
}

void
imzala_pin_keypad_set_entry (ImzalaPinKeypad *self,
                             ImzalaPinEntry  *entry)
{
  g_return_if_fail (IMZALA_IS_PIN_KEYPAD (self));
  g_return_if_fail (entry == NULL || IMZALA_IS_PIN_ENTRY (entry));

  /* A weak pointer: the entry and the keypad are siblings in a page, and
   * either can go first when the page is destroyed. */
  if (self->entry == entry)
    return;
  if (self->entry != NULL)
    g_object_remove_weak_pointer (G_OBJECT (self->entry), (gpointer *) &self->entry);
  self->entry = entry;
  if (self->entry != NULL)
    g_object_add_weak_pointer (G_OBJECT (self->entry), (gpointer *) &self->entry);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ENTRY]);
}

static void
imzala_pin_keypad_dispose (GObject *object)
{
  ImzalaPinKeypad *self = IMZALA_PIN_KEYPAD (object);

  imzala_pin_keypad_set_entry (self, NULL);
  gtk_widget_dispose_template (GTK_WIDGET (self), IMZALA_TYPE_PIN_KEYPAD);
  /* Children of the template that no field holds are still ours to drop. */
  for (GtkWidget *child; (child = gtk_widget_get_first_child (GTK_WIDGET (self))) != NULL;)
    gtk_widget_unparent (child);

  G_OBJECT_CLASS (imzala_pin_keypad_parent_class)->dispose (object);
}

static void
imzala_pin_keypad_get_property (GObject    *object,
                                guint       prop_id,
                                GValue     *value,
                                GParamSpec *pspec)
{
  ImzalaPinKeypad *self = IMZALA_PIN_KEYPAD (object);

  switch (prop_id)
    {
    case PROP_ENTRY:
      g_value_set_object (value, self->entry);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
imzala_pin_keypad_set_property (GObject      *object,
                                guint         prop_id,
                                const GValue *value,
                                GParamSpec   *pspec)
{
  ImzalaPinKeypad *self = IMZALA_PIN_KEYPAD (object);

  switch (prop_id)
    {
    case PROP_ENTRY:
      imzala_pin_keypad_set_entry (self, g_value_get_object (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
imzala_pin_keypad_class_init (ImzalaPinKeypadClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = imzala_pin_keypad_dispose;
  object_class->get_property = imzala_pin_keypad_get_property;
  object_class->set_property = imzala_pin_keypad_set_property;

  properties[PROP_ENTRY] =
    g_param_spec_object ("entry", NULL, NULL, IMZALA_TYPE_PIN_ENTRY,
                         G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_install_action (widget_class, "keypad.digit", "s", keypad_digit_cb);
  gtk_widget_class_install_action (widget_class, "keypad.clear", NULL, keypad_clear_cb);
  gtk_widget_class_install_action (widget_class, "keypad.backspace", NULL, keypad_backspace_cb);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/imzala/Imzala/widgets/imzala-pin-keypad.ui");
  gtk_widget_class_bind_template_child (widget_class, ImzalaPinKeypad, grid);
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "pinkeypad");
}

static void
imzala_pin_keypad_init (ImzalaPinKeypad *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}
