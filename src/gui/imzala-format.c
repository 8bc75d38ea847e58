#define G_LOG_DOMAIN "imzala-gui"

#include "config.h"

#include <glib/gi18n.h>

#include "imzala-format.h"

char *
imzala_format_time (GDateTime *time)
{
  g_autoptr(GDateTime) local = NULL;

  if (time == NULL)
    return NULL;
  local = g_date_time_to_local (time);
  /* Translators: date and time as strftime() writes them; Turkish uses
   * "%d.%m.%Y %H:%M:%S", as the old application did. */
  return g_date_time_format (local, C_("date and time", "%Y-%m-%d %H:%M:%S"));
}

char *
imzala_format_pin_state (ImzalaToken *token)
{
  ImzalaPinState state = imzala_token_get_pin_state (token);

  if (state & IMZALA_PIN_STATE_LOCKED)
    return g_strdup (_("The PIN is locked. Unblock it with the PUK or with a code from the portal."));
  if (state & IMZALA_PIN_STATE_FINAL_TRY)
    return g_strdup (_("Only one PIN try is left: if it is wrong, the PIN will be locked."));
  if (state & IMZALA_PIN_STATE_COUNT_LOW)
    return g_strdup (_("A wrong PIN was entered recently; few tries are left."));
  if (state & IMZALA_PIN_STATE_TO_BE_CHANGED)
    return g_strdup (_("The card asks for the PIN to be changed."));
  if (imzala_token_has_pin_pad (token))
    return g_strdup (_("The PIN is entered on the card reader."));
  return g_strdup (_("The PIN is not locked."));
}
