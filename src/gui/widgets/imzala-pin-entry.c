#define G_LOG_DOMAIN "imzala-gui"

#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "imzala-pin-entry.h"

struct _ImzalaPinEntry
{
  GtkWidget     parent_instance;

  ImzalaSecret *secret;
  GtkWidget    *label;
  char         *placeholder_text;
  guint         max_length;
};

G_DEFINE_FINAL_TYPE (ImzalaPinEntry, imzala_pin_entry, GTK_TYPE_WIDGET)

enum {
  PROP_0,
  PROP_LENGTH,
  PROP_MAX_LENGTH,
  PROP_PLACEHOLDER_TEXT,
  N_PROPS
};

enum {
  SIGNAL_ACTIVATE,
  SIGNAL_CHANGED,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

/* The dots are the only trace of the PIN in the widget tree: the label holds
 * one "●" per character and never the characters themselves. */
static void
imzala_pin_entry_update (ImzalaPinEntry *self)
{
  gsize length = imzala_secret_get_length (self->secret);
  g_autofree char *label = NULL;

  if (length == 0)
    {
      gtk_label_set_text (GTK_LABEL (self->label),
                          self->placeholder_text ? self->placeholder_text : "");
      gtk_widget_add_css_class (self->label, "dim-label");
    }
  else
    {
      GString *dots = g_string_new (NULL);

      for (gsize i = 0; i < length; i++)
        g_string_append (dots, "●");
      label = g_string_free (dots, FALSE);
      gtk_label_set_text (GTK_LABEL (self->label), label);
      gtk_widget_remove_css_class (self->label, "dim-label");
    }

  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LENGTH]);
  g_signal_emit (self, signals[SIGNAL_CHANGED], 0);
}

gboolean
imzala_pin_entry_append (ImzalaPinEntry *self,
                         const char     *text)
{
  g_return_val_if_fail (IMZALA_IS_PIN_ENTRY (self), FALSE);

  if (self->max_length > 0 &&
      imzala_secret_get_length (self->secret) + strlen (text) > self->max_length)
    {
      gtk_widget_error_bell (GTK_WIDGET (self));
      return FALSE;
    }
  if (!imzala_secret_append (self->secret, text, -1))
    {
      gtk_widget_error_bell (GTK_WIDGET (self));
      return FALSE;
    }

  imzala_pin_entry_update (self);
  return TRUE;
}

void
imzala_pin_entry_backspace (ImzalaPinEntry *self)
{
  g_return_if_fail (IMZALA_IS_PIN_ENTRY (self));

  imzala_secret_backspace (self->secret);
  imzala_pin_entry_update (self);
}

void
imzala_pin_entry_clear (ImzalaPinEntry *self)
{
  g_return_if_fail (IMZALA_IS_PIN_ENTRY (self));

  imzala_secret_clear (self->secret);
  imzala_pin_entry_update (self);
}

ImzalaSecret *
imzala_pin_entry_get_secret (ImzalaPinEntry *self)
{
  g_return_val_if_fail (IMZALA_IS_PIN_ENTRY (self), NULL);

  return self->secret;
}

guint
imzala_pin_entry_get_length (ImzalaPinEntry *self)
{
  g_return_val_if_fail (IMZALA_IS_PIN_ENTRY (self), 0);

  return (guint) imzala_secret_get_length (self->secret);
}

void
imzala_pin_entry_set_max_length (ImzalaPinEntry *self,
                                 guint           max_length)
{
  g_return_if_fail (IMZALA_IS_PIN_ENTRY (self));

  max_length = MIN (max_length, IMZALA_SECRET_MAX_LENGTH);
  if (self->max_length == max_length)
    return;
  self->max_length = max_length;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MAX_LENGTH]);
}

void
imzala_pin_entry_set_placeholder_text (ImzalaPinEntry *self,
                                       const char     *text)
{
  g_return_if_fail (IMZALA_IS_PIN_ENTRY (self));

  if (g_strcmp0 (self->placeholder_text, text) == 0)
    return;

  g_free (self->placeholder_text);
  self->placeholder_text = g_strdup (text);
  imzala_pin_entry_update (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PLACEHOLDER_TEXT]);
}

/* Keys are turned into characters here and go straight into the secret; the
 * small stack buffer is wiped before it goes out of scope. Shortcuts with
 * Control or Alt are left alone so that window shortcuts keep working. */
static gboolean
key_pressed_cb (ImzalaPinEntry        *self,
                guint                  keyval,
                guint                  keycode,
                GdkModifierType        state,
                GtkEventControllerKey *controller)
{
  gunichar ch;

  if (state & (GDK_CONTROL_MASK | GDK_ALT_MASK | GDK_SUPER_MASK))
    return FALSE;

  switch (keyval)
    {
    case GDK_KEY_BackSpace:
      imzala_pin_entry_backspace (self);
      return TRUE;
    case GDK_KEY_Delete:
    case GDK_KEY_KP_Delete:
      imzala_pin_entry_clear (self);
      return TRUE;
    case GDK_KEY_Return:
    case GDK_KEY_KP_Enter:
    case GDK_KEY_ISO_Enter:
      g_signal_emit (self, signals[SIGNAL_ACTIVATE], 0);
      return TRUE;
    default:
      break;
    }

  ch = gdk_keyval_to_unicode (keyval);
  if (ch > 0x20 && ch < 0x7f)
    {
      char buffer[2] = { (char) ch, 0 };

      imzala_pin_entry_append (self, buffer);
      explicit_bzero (buffer, sizeof buffer);
      return TRUE;
    }

  return FALSE;
}

static void
pressed_cb (ImzalaPinEntry  *self,
            int              n_press,
            double           x,
            double           y,
            GtkGestureClick *gesture)
{
  gtk_widget_grab_focus (GTK_WIDGET (self));
}

static void
imzala_pin_entry_dispose (GObject *object)
{
  ImzalaPinEntry *self = IMZALA_PIN_ENTRY (object);

  g_clear_pointer (&self->label, gtk_widget_unparent);

  G_OBJECT_CLASS (imzala_pin_entry_parent_class)->dispose (object);
}

static void
imzala_pin_entry_finalize (GObject *object)
{
  ImzalaPinEntry *self = IMZALA_PIN_ENTRY (object);

  /* The last unref wipes the bytes. */
  g_clear_pointer (&self->secret, imzala_secret_unref);
  g_clear_pointer (&self->placeholder_text, g_free);

  G_OBJECT_CLASS (imzala_pin_entry_parent_class)->finalize (object);
}

static void
imzala_pin_entry_get_property (GObject    *object,
                               guint       prop_id,
                               GValue     *value,
                               GParamSpec *pspec)
{
  ImzalaPinEntry *self = IMZALA_PIN_ENTRY (object);

  switch (prop_id)
    {
    case PROP_LENGTH:
      g_value_set_uint (value, imzala_pin_entry_get_length (self));
      break;
    case PROP_MAX_LENGTH:
      g_value_set_uint (value, self->max_length);
      break;
    case PROP_PLACEHOLDER_TEXT:
      g_value_set_string (value, self->placeholder_text);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
imzala_pin_entry_set_property (GObject      *object,
                               guint         prop_id,
                               const GValue *value,
                               GParamSpec   *pspec)
{
  ImzalaPinEntry *self = IMZALA_PIN_ENTRY (object);

  switch (prop_id)
    {
    case PROP_MAX_LENGTH:
      imzala_pin_entry_set_max_length (self, g_value_get_uint (value));
      break;
    case PROP_PLACEHOLDER_TEXT:
      imzala_pin_entry_set_placeholder_text (self, g_value_get_string (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
imzala_pin_entry_class_init (ImzalaPinEntryClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = imzala_pin_entry_dispose;
  object_class->finalize = imzala_pin_entry_finalize;
  object_class->get_property = imzala_pin_entry_get_property;
  object_class->set_property = imzala_pin_entry_set_property;

  properties[PROP_LENGTH] =
    g_param_spec_uint ("length", NULL, NULL, 0, IMZALA_SECRET_MAX_LENGTH, 0,
                       G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  properties[PROP_MAX_LENGTH] =
    g_param_spec_uint ("max-length", NULL, NULL, 0, IMZALA_SECRET_MAX_LENGTH, 0,
                       G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  properties[PROP_PLACEHOLDER_TEXT] =
    g_param_spec_string ("placeholder-text", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /* Enter in the field: the page decides what that does (sign, change). */
  signals[SIGNAL_ACTIVATE] =
    g_signal_new ("activate", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  signals[SIGNAL_CHANGED] =
    g_signal_new ("changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  gtk_widget_class_set_activate_signal (widget_class, signals[SIGNAL_ACTIVATE]);

  /* "entry" gives it the look and focus ring of a text entry in Adwaita. */
  gtk_widget_class_set_css_name (widget_class, "entry");
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_TEXT_BOX);
}

static void
imzala_pin_entry_init (ImzalaPinEntry *self)
{
  GtkEventController *controller;
  GtkGesture *gesture;

  self->secret = imzala_secret_new ();

  gtk_widget_set_focusable (GTK_WIDGET (self), TRUE);
  gtk_widget_add_css_class (GTK_WIDGET (self), "pin-entry");

  self->label = gtk_label_new (NULL);
  gtk_label_set_xalign (GTK_LABEL (self->label), 0.0);
  gtk_widget_set_hexpand (self->label, TRUE);
  gtk_widget_set_parent (self->label, GTK_WIDGET (self));

  controller = gtk_event_controller_key_new ();
  g_signal_connect_swapped (controller, "key-pressed", G_CALLBACK (key_pressed_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), controller);

  gesture = gtk_gesture_click_new ();
  g_signal_connect_swapped (gesture, "pressed", G_CALLBACK (pressed_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (gesture));

  imzala_pin_entry_update (self);
}

GtkWidget *
imzala_pin_entry_new (void)
{
  return g_object_new (IMZALA_TYPE_PIN_ENTRY, NULL);
}
