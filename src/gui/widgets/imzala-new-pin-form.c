#define G_LOG_DOMAIN "imzala-gui"

#include "config.h"

#include <glib/gi18n.h>

#include "imzala-error.h"
#include "imzala-format.h"
#include "imzala-new-pin-form.h"
#include "imzala-pin-entry.h"
#include "imzala-pin-keypad.h"

struct _ImzalaNewPinForm
{
  GtkWidget        parent_instance;

  GtkLabel        *current_label;
  ImzalaPinEntry  *current_entry;
  ImzalaPinEntry  *new_entry;
  ImzalaPinEntry  *confirm_entry;
  ImzalaPinKeypad *keypad;

  gboolean         current_is_pin;
};

G_DEFINE_FINAL_TYPE (ImzalaNewPinForm, imzala_new_pin_form, GTK_TYPE_WIDGET)

enum {
  PROP_0,
  PROP_CURRENT_LABEL,
  PROP_CURRENT_VISIBLE,
  PROP_CURRENT_IS_PIN,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

enum {
  SIGNAL_ACTIVATE,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static gboolean
current_visible (ImzalaNewPinForm *self)
{
  return gtk_widget_get_visible (GTK_WIDGET (self->current_entry));
}

static ImzalaPinEntry *
first_entry (ImzalaNewPinForm *self)
{
  return current_visible (self) ? self->current_entry : self->new_entry;
}

void
imzala_new_pin_form_set_current_label (ImzalaNewPinForm *self,
                                       const char       *label)
{
  g_return_if_fail (IMZALA_IS_NEW_PIN_FORM (self));

  gtk_label_set_text_with_mnemonic (self->current_label, label ? label : "");
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->current_entry),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, gtk_label_get_text (self->current_label),
                                  -1);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CURRENT_LABEL]);
}

void
imzala_new_pin_form_set_current_visible (ImzalaNewPinForm *self,
                                         gboolean          visible)
{
  g_return_if_fail (IMZALA_IS_NEW_PIN_FORM (self));

  gtk_widget_set_visible (GTK_WIDGET (self->current_label), visible);
  gtk_widget_set_visible (GTK_WIDGET (self->current_entry), visible);
  imzala_pin_keypad_set_entry (self->keypad, first_entry (self));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CURRENT_VISIBLE]);
}

guint
imzala_new_pin_form_get_current_length (ImzalaNewPinForm *self)
{
  g_return_val_if_fail (IMZALA_IS_NEW_PIN_FORM (self), 0);

  return imzala_pin_entry_get_length (self->current_entry);
}

void
imzala_new_pin_form_set_max_length (ImzalaNewPinForm *self,
                                    guint             max_length)
{
  g_return_if_fail (IMZALA_IS_NEW_PIN_FORM (self));

  if (self->current_is_pin)
    imzala_pin_entry_set_max_length (self->current_entry, max_length);
  imzala_pin_entry_set_max_length (self->new_entry, max_length);
  imzala_pin_entry_set_max_length (self->confirm_entry, max_length);
}

static ImzalaSecret *
take_secret (ImzalaPinEntry *entry)
{
  ImzalaSecret *secret = imzala_pin_entry_get_secret (entry);
  ImzalaSecret *copy = imzala_secret_new_from_data (imzala_secret_get_data (secret),
                                                    imzala_secret_get_length (secret));

  imzala_pin_entry_clear (entry);
  return copy;
}

gboolean
imzala_new_pin_form_take_secrets (ImzalaNewPinForm *self,
                                  ImzalaToken      *token,
                                  ImzalaSecret    **current,
                                  ImzalaSecret    **new_pin,
                                  GError          **error)
{
  g_autofree char *rule = NULL;
  guint length;
  guint min_length;
  guint max_length;

  g_return_val_if_fail (IMZALA_IS_NEW_PIN_FORM (self), FALSE);
  g_return_val_if_fail (IMZALA_IS_TOKEN (token), FALSE);

  *current = NULL;
  *new_pin = NULL;

  if (!imzala_secret_equal (imzala_pin_entry_get_secret (self->new_entry),
                            imzala_pin_entry_get_secret (self->confirm_entry)))
    {
      imzala_pin_entry_clear (self->new_entry);
      imzala_pin_entry_clear (self->confirm_entry);
      gtk_widget_grab_focus (GTK_WIDGET (self->new_entry));
      g_set_error (error, IMZALA_ERROR, IMZALA_ERROR_PIN_MISMATCH,
                   _("The two new PINs are not the same. Type the new PIN twice again."));
      return FALSE;
    }

  /* The card's range as the core trusts it: a bound the module does not
   * state (0) or states absurdly refuses nothing. */
  imzala_token_get_pin_length_range (token, &min_length, &max_length);
  length = imzala_pin_entry_get_length (self->new_entry);
  if (length == 0 || (min_length > 0 && length < min_length) || (max_length > 0 && length > max_length))
    {
      imzala_pin_entry_clear (self->new_entry);
      imzala_pin_entry_clear (self->confirm_entry);
      gtk_widget_grab_focus (GTK_WIDGET (self->new_entry));
      /* The rule in words when the card states one a person can use;
       * never "4 to 255 characters". */
      rule = imzala_format_pin_length (token);
      if (rule != NULL)
        /* Translators: %s is a length such as "6–8 characters". */
        g_set_error (error, IMZALA_ERROR, IMZALA_ERROR_PIN_LEN_RANGE, _("The new PIN has %s."), rule);
      else if (min_length > 0 && length > 0 && length < min_length)
        g_set_error (error, IMZALA_ERROR, IMZALA_ERROR_PIN_LEN_RANGE,
                     g_dngettext (GETTEXT_PACKAGE, "The new PIN has at least %u character.",
                                  "The new PIN has at least %u characters.", min_length),
                     min_length);
      else
        g_set_error_literal (error, IMZALA_ERROR, IMZALA_ERROR_PIN_LEN_RANGE,
                             _("The PIN is too short or too long for this card."));
      return FALSE;
    }

  if (current_visible (self))
    *current = take_secret (self->current_entry);
  *new_pin = take_secret (self->new_entry);
  imzala_pin_entry_clear (self->confirm_entry);
  return TRUE;
}

void
imzala_new_pin_form_clear (ImzalaNewPinForm *self)
{
  g_return_if_fail (IMZALA_IS_NEW_PIN_FORM (self));

  imzala_pin_entry_clear (self->current_entry);
  imzala_pin_entry_clear (self->new_entry);
  imzala_pin_entry_clear (self->confirm_entry);
}

/* GTK takes the focus away from a form that turns insensitive. When the
 * card is done the form takes it back, so that after a mistake (a wrong
 * current PIN or PUK) the keyboard types into it again at once; unless the
 * user has gone elsewhere meanwhile, or the form is not on screen. */
void
imzala_new_pin_form_reclaim_focus (ImzalaNewPinForm *self)
{
  GtkRoot *root;

  g_return_if_fail (IMZALA_IS_NEW_PIN_FORM (self));

  root = gtk_widget_get_root (GTK_WIDGET (self));
  if (root != NULL && gtk_root_get_focus (root) == NULL && gtk_widget_get_mapped (GTK_WIDGET (self)))
    gtk_widget_grab_focus (GTK_WIDGET (self));
}

/* The one keypad types into whichever PIN field has the focus. */
static void
entry_focus_cb (ImzalaNewPinForm *self,
                GParamSpec       *pspec,
                ImzalaPinEntry   *entry)
{
  if (gtk_widget_has_focus (GTK_WIDGET (entry)))
    imzala_pin_keypad_set_entry (self->keypad, entry);
}

/* Enter moves on to the next field; in the last one it is the page's
 * action. */
static void
entry_activate_cb (ImzalaNewPinForm *self,
                   ImzalaPinEntry   *entry)
{
  if (entry == self->current_entry)
    gtk_widget_grab_focus (GTK_WIDGET (self->new_entry));
  else if (entry == self->new_entry)
    gtk_widget_grab_focus (GTK_WIDGET (self->confirm_entry));
  else
    g_signal_emit (self, signals[SIGNAL_ACTIVATE], 0);
}

static gboolean
imzala_new_pin_form_grab_focus (GtkWidget *widget)
{
  ImzalaNewPinForm *self = IMZALA_NEW_PIN_FORM (widget);

  return gtk_widget_grab_focus (GTK_WIDGET (first_entry (self)));
}

static void
imzala_new_pin_form_dispose (GObject *object)
{
  ImzalaNewPinForm *self = IMZALA_NEW_PIN_FORM (object);

  gtk_widget_dispose_template (GTK_WIDGET (self), IMZALA_TYPE_NEW_PIN_FORM);
  /* Children of the template that no field holds are still ours to drop. */
  for (GtkWidget *child; (child = gtk_widget_get_first_child (GTK_WIDGET (self))) != NULL;)
    gtk_widget_unparent (child);

  G_OBJECT_CLASS (imzala_new_pin_form_parent_class)->dispose (object);
}

static void
imzala_new_pin_form_get_property (GObject    *object,
                                  guint       prop_id,
                                  GValue     *value,
                                  GParamSpec *pspec)
{
  ImzalaNewPinForm *self = IMZALA_NEW_PIN_FORM (object);

  switch (prop_id)
    {
    case PROP_CURRENT_LABEL:
      g_value_set_string (value, gtk_label_get_label (self->current_label));
      break;
    case PROP_CURRENT_VISIBLE:
      g_value_set_boolean (value, current_visible (self));
      break;
    case PROP_CURRENT_IS_PIN:
      g_value_set_boolean (value, self->current_is_pin);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
imzala_new_pin_form_set_property (GObject      *object,
                                  guint         prop_id,
                                  const GValue *value,
                                  GParamSpec   *pspec)
{
  ImzalaNewPinForm *self = IMZALA_NEW_PIN_FORM (object);

  switch (prop_id)
    {
    case PROP_CURRENT_LABEL:
      imzala_new_pin_form_set_current_label (self, g_value_get_string (value));
      break;
    case PROP_CURRENT_VISIBLE:
      imzala_new_pin_form_set_current_visible (self, g_value_get_boolean (value));
      break;
    case PROP_CURRENT_IS_PIN:
      self->current_is_pin = g_value_get_boolean (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
imzala_new_pin_form_class_init (ImzalaNewPinFormClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = imzala_new_pin_form_dispose;
  object_class->get_property = imzala_new_pin_form_get_property;
  object_class->set_property = imzala_new_pin_form_set_property;
  widget_class->grab_focus = imzala_new_pin_form_grab_focus;

  properties[PROP_CURRENT_LABEL] =
    g_param_spec_string ("current-label", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  properties[PROP_CURRENT_VISIBLE] =
    g_param_spec_boolean ("current-visible", NULL, NULL, TRUE,
                          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  /* The first field holds the card's current PIN, so the card's PIN length
   * limit applies to it as well (a PUK has its own). */
  properties[PROP_CURRENT_IS_PIN] =
    g_param_spec_boolean ("current-is-pin", NULL, NULL, FALSE,
                          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /* Enter in the last field: the page runs its action. */
  signals[SIGNAL_ACTIVATE] =
    g_signal_new ("activate", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 0);

  g_type_ensure (IMZALA_TYPE_PIN_ENTRY);
  g_type_ensure (IMZALA_TYPE_PIN_KEYPAD);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/imzala/Imzala/widgets/imzala-new-pin-form.ui");
  gtk_widget_class_bind_template_child (widget_class, ImzalaNewPinForm, current_label);
  gtk_widget_class_bind_template_child (widget_class, ImzalaNewPinForm, current_entry);
  gtk_widget_class_bind_template_child (widget_class, ImzalaNewPinForm, new_entry);
  gtk_widget_class_bind_template_child (widget_class, ImzalaNewPinForm, confirm_entry);
  gtk_widget_class_bind_template_child (widget_class, ImzalaNewPinForm, keypad);
  gtk_widget_class_bind_template_callback (widget_class, entry_focus_cb);
  gtk_widget_class_bind_template_callback (widget_class, entry_activate_cb);
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
}

static void
imzala_new_pin_form_init (ImzalaNewPinForm *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  imzala_pin_keypad_set_entry (self->keypad, self->current_entry);
}
