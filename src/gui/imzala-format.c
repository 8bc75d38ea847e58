#define G_LOG_DOMAIN "imzala-gui"

#include "config.h"

#include <glib/gi18n.h>

#include "imzala-format.h"

/* No NES card has a longer PIN; modules that state 255 (SoftHSM) or 0xFFFF
 * mean "no limit", which is nothing to tell a user. */
#define SENSIBLE_MAX_PIN_LENGTH 32

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
    /* Translators: "Son deneme hakkınız" in the old application. */
    return g_strdup (_("This is your last try: if the PIN is wrong, it will be blocked."));
  if (state & IMZALA_PIN_STATE_COUNT_LOW)
    return g_strdup (_("A wrong PIN was entered recently; few tries are left."));
  if (state & IMZALA_PIN_STATE_TO_BE_CHANGED)
    return g_strdup (_("The card asks for the PIN to be changed."));
  if (imzala_token_has_pin_pad (token))
    return g_strdup (_("The PIN is entered on the card reader."));
  return NULL;
}

char *
imzala_format_pin_headline (ImzalaToken *token,
                            gboolean     unblocking)
{
  ImzalaPinState state = imzala_token_get_pin_state (token);

  if (state & IMZALA_PIN_STATE_LOCKED)
    return g_strdup (_("Your PIN is blocked."));
  if (state & IMZALA_PIN_STATE_FINAL_TRY)
    /* Translators: "Son deneme hakkınız" in the old application. */
    return g_strdup (_("Only your last PIN try is left."));
  if (state & IMZALA_PIN_STATE_COUNT_LOW)
    return g_strdup (_("A wrong PIN was entered recently; few tries are left."));
  if (!unblocking && (state & IMZALA_PIN_STATE_TO_BE_CHANGED))
    return g_strdup (_("The card asks for the PIN to be changed."));
  if (unblocking)
    return g_strdup (_("Your PIN can be used; there is no need to unblock it."));
  return g_strdup (_("Your PIN can be used."));
}

char *
imzala_format_pin_length_range (guint min_length,
                                guint max_length)
{
  /* PKCS#11 has no flag for a PIN of digits only, so the rule counts
   * characters (the keypad types digits anyway). */
  if (min_length == 0 || max_length < min_length || max_length > SENSIBLE_MAX_PIN_LENGTH)
    return NULL;
  if (min_length == max_length)
    return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u character", "%u characters", min_length),
                            min_length);
  /* Translators: the shortest and longest PIN the card accepts, with an
   * en dash: "6–8 karakter". */
  return g_strdup_printf (_("%u–%u characters"), min_length, max_length);
}

char *
imzala_format_pin_length (ImzalaToken *token)
{
  guint min_length;
  guint max_length;

  imzala_token_get_pin_length_range (token, &min_length, &max_length);
  return imzala_format_pin_length_range (min_length, max_length);
}

static const char *
purpose_file_title (ImzalaPurpose purpose)
{
  switch (purpose)
    {
    case IMZALA_PURPOSE_LOGIN:
      /* Translators: the start of a saved signature's file name (ASCII is
       * made of it): E-imzalı Giriş. Words joined by hyphens. */
      return C_("file name", "Signed-Login");
    case IMZALA_PURPOSE_CONSENT:
      /* Translators: the start of a saved signature's file name: E-Onay. */
      return C_("file name", "E-Consent");
    case IMZALA_PURPOSE_APPLICATION:
      /* Translators: the start of a saved signature's file name: Başvuru. */
      return C_("file name", "Application");
    case IMZALA_PURPOSE_UNBLOCK:
      /* Translators: the start of a saved signature's file name: Kilit Çözme. */
      return C_("file name", "PIN-Unblock");
    default:
      /* Translators: the start of a saved signature's file name: İmza. */
      return C_("file name", "Signature");
    }
}

char *
imzala_format_signature_file_name (ImzalaPurpose  purpose,
                                   GDateTime     *time)
{
  g_autoptr(GDateTime) local = NULL;
  g_autoptr(GString) title = NULL;
  g_autofree char *ascii = NULL;
  g_autofree char *date = NULL;

  g_return_val_if_fail (time != NULL, NULL);

  /* ASCII, so that the name survives every file system, mail program and
   * portal upload form; Turkish letters fold to their base letters. */
  title = g_string_new (purpose_file_title (purpose));
  /* g_str_to_ascii() folds ş, ğ, ç, ö, ü and İ by decomposition, but the
   * dotless ı has none and would become "?". */
  g_string_replace (title, "ı", "i", 0);
  ascii = g_str_to_ascii (title->str, "tr");
  for (char *p = ascii; *p != '\0'; p++)
    if (!g_ascii_isalnum (*p) && *p != '-')
      *p = '-';
  local = g_date_time_to_local (time);
  date = g_date_time_format (local, "%Y-%m-%d");
  return g_strdup_printf ("%s-%s.p7s", ascii, date);
}
