#define G_LOG_DOMAIN "imzala-pcsc"

#include "config.h"

#include <string.h>
#include <glib/gi18n-lib.h>

#include "imzala-reader-private.h"

/* CK_SLOT_INFO.slotDescription is 64 bytes, blank padded. */
#define SLOT_DESCRIPTION_SIZE 64

struct _ImzalaReader
{
  GObject parent_instance;

  char              *name;
  ImzalaReaderState  state;
  char              *atr;
};


G_DEFINE_FINAL_TYPE (ImzalaReader, imzala_reader, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_NAME,
  PROP_STATE,
  PROP_HAS_CARD,
  PROP_ATR,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
imzala_reader_finalize (GObject *object)
{
  ImzalaReader *self = IMZALA_READER (object);

  g_free (self->name);
  g_free (self->atr);

  G_OBJECT_CLASS (imzala_reader_parent_class)->finalize (object);
}

static void
imzala_reader_get_property (GObject    *object,
                            guint       prop_id,
                            GValue     *value,
                            GParamSpec *pspec)
{
  ImzalaReader *self = IMZALA_READER (object);

  switch (prop_id)
    {
    case PROP_NAME:
      g_value_set_string (value, self->name);
      break;
    case PROP_STATE:
      g_value_set_enum (value, self->state);
      break;
    case PROP_HAS_CARD:
      g_value_set_boolean (value, imzala_reader_get_has_card (self));
      break;
    case PROP_ATR:
      g_value_set_string (value, self->atr);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
imzala_reader_set_property (GObject      *object,
                            guint         prop_id,
                            const GValue *value,
                            GParamSpec   *pspec)
{
  ImzalaReader *self = IMZALA_READER (object);

  switch (prop_id)
    {
    case PROP_NAME:
      self->name = g_value_dup_string (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
imzala_reader_class_init (ImzalaReaderClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = imzala_reader_finalize;
  object_class->get_property = imzala_reader_get_property;
  object_class->set_property = imzala_reader_set_property;

  properties[PROP_NAME] =
    g_param_spec_string ("name", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties[PROP_STATE] =
    g_param_spec_enum ("state", NULL, NULL,
                       IMZALA_TYPE_READER_STATE, IMZALA_READER_STATE_UNAVAILABLE,
                       G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_HAS_CARD] =
    g_param_spec_boolean ("has-card", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_ATR] =
    g_param_spec_string ("atr", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
imzala_reader_init (ImzalaReader *self)
{
  self->state = IMZALA_READER_STATE_UNAVAILABLE;
}

ImzalaReader *
imzala_reader_new (const char *name)
{
  g_return_val_if_fail (name != NULL, NULL);

  return g_object_new (IMZALA_TYPE_READER, "name", name, NULL);
}

void
imzala_reader_update (ImzalaReader      *self,
                      ImzalaReaderState  state,
                      const char        *atr)
{
  gboolean had_card;

  g_return_if_fail (IMZALA_IS_READER (self));

  had_card = imzala_reader_get_has_card (self);

  g_object_freeze_notify (G_OBJECT (self));

  if (self->state != state)
    {
      self->state = state;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE]);
    }

  if (g_strcmp0 (self->atr, atr) != 0)
    {
      g_free (self->atr);
      self->atr = g_strdup (atr);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ATR]);
    }

  if (had_card != imzala_reader_get_has_card (self))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_HAS_CARD]);

  g_object_thaw_notify (G_OBJECT (self));
}

const char *
imzala_reader_get_name (ImzalaReader *self)
{
  g_return_val_if_fail (IMZALA_IS_READER (self), NULL);

  return self->name;
}

ImzalaReaderState
imzala_reader_get_state (ImzalaReader *self)
{
  g_return_val_if_fail (IMZALA_IS_READER (self), IMZALA_READER_STATE_UNAVAILABLE);

  return self->state;
}

gboolean
imzala_reader_get_has_card (ImzalaReader *self)
{
  g_return_val_if_fail (IMZALA_IS_READER (self), FALSE);

  return self->state == IMZALA_READER_STATE_PRESENT
         || self->state == IMZALA_READER_STATE_IN_USE
         || self->state == IMZALA_READER_STATE_MUTE;
}

const char *
imzala_reader_get_atr (ImzalaReader *self)
{
  g_return_val_if_fail (IMZALA_IS_READER (self), NULL);

  return self->atr;
}

const char *
imzala_reader_get_state_text (ImzalaReader *self)
{
  g_return_val_if_fail (IMZALA_IS_READER (self), NULL);

  switch (self->state)
    {
    case IMZALA_READER_STATE_EMPTY:
      return _("No card");
    case IMZALA_READER_STATE_PRESENT:
      return _("Card inserted");
    case IMZALA_READER_STATE_IN_USE:
      return _("Card in use by another program");
    case IMZALA_READER_STATE_MUTE:
      return _("The card does not respond; take it out and insert it again");
    case IMZALA_READER_STATE_UNAVAILABLE:
    default:
      return _("Reader not available");
    }
}

gboolean
imzala_reader_matches_slot_description (ImzalaReader *self,
                                        const char   *slot_description)
{
  size_t length;
  size_t name_length;
  const char *valid_end;

  g_return_val_if_fail (IMZALA_IS_READER (self), FALSE);

  if (slot_description == NULL || self->name == NULL)
    return FALSE;

  /* The description comes blank padded straight from CK_SLOT_INFO, or
   * already trimmed by ImzalaToken. */
  length = strnlen (slot_description, 4 * SLOT_DESCRIPTION_SIZE);
  while (length > 0 && slot_description[length - 1] == ' ')
    length--;
  if (length == 0)
    return FALSE;

  name_length = strlen (self->name);
  if (name_length == length)
    return memcmp (self->name, slot_description, length) == 0;

  /* A reader name longer than the field was cut at 64 bytes, possibly in
   * the middle of a UTF-8 sequence that ImzalaToken then replaced with
   * U+FFFD: compare the whole characters before the cut. Only a description
   * that (nearly) fills the field can be cut, so "Virtual PCD 00 0" never
   * matches "Virtual PCD 00 01". */
  if (name_length <= SLOT_DESCRIPTION_SIZE)
    return FALSE;

  g_utf8_validate (slot_description, length, &valid_end);
  length = valid_end - slot_description;
  if (length >= 3 && memcmp (slot_description + length - 3, "\xEF\xBF\xBD", 3) == 0)
    length -= 3;

  if (length < SLOT_DESCRIPTION_SIZE - 4 || length > SLOT_DESCRIPTION_SIZE)
    return FALSE;

  return memcmp (self->name, slot_description, length) == 0;
}

gboolean
imzala_reader_matches_token (ImzalaReader *self,
                             ImzalaToken  *token)
{
  g_return_val_if_fail (IMZALA_IS_READER (self), FALSE);
  g_return_val_if_fail (IMZALA_IS_TOKEN (token), FALSE);

  return imzala_reader_matches_slot_description (self, imzala_token_get_slot_description (token));
}
