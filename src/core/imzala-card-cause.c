/* imzala-card-cause.c: the true cause of "no card", as a pure function of
 * the readers, pcscd's state and the tokens. See imzala-card-cause.h.
 */
#define G_LOG_DOMAIN "imzala-core"

#include "config.h"

#include <glib/gi18n-lib.h>

#include "imzala-card-cause.h"
#include "imzala-error.h"

ImzalaToken *
imzala_card_cause_find_token (GPtrArray    *tokens,
                              ImzalaReader *reader)
{
  g_return_val_if_fail (IMZALA_IS_READER (reader), NULL);

  for (guint i = 0; tokens != NULL && i < tokens->len; i++)
    {
      ImzalaToken *token = g_ptr_array_index (tokens, i);

      if (imzala_reader_matches_token (reader, token))
        return token;
    }
  return NULL;
}

ImzalaCardCause
imzala_card_cause_find (GListModel    *readers,
                        const GError  *pcsc_error,
                        GPtrArray     *tokens,
                        ImzalaReader **reader_out)
{
  gboolean no_token = tokens == NULL || tokens->len == 0;
  guint n_readers = readers != NULL ? g_list_model_get_n_items (readers) : 0;

  g_return_val_if_fail (readers == NULL || G_IS_LIST_MODEL (readers), IMZALA_CARD_CAUSE_NO_CARD);

  if (reader_out != NULL)
    *reader_out = NULL;

  if (no_token && pcsc_error != NULL)
    return IMZALA_CARD_CAUSE_PCSC_UNAVAILABLE;

  /* A card that no token stands for is the cause even when other tokens
   * are there: those (a SoftHSM token, another card) are seldom the one the
   * user means. */
  for (guint i = 0; i < n_readers; i++)
    {
      g_autoptr(ImzalaReader) reader = g_list_model_get_item (readers, i);

      if (!imzala_reader_get_has_card (reader) || imzala_card_cause_find_token (tokens, reader) != NULL)
        continue;
      if (reader_out != NULL)
        *reader_out = reader; /* the model keeps it */
      return imzala_reader_get_state (reader) == IMZALA_READER_STATE_MUTE
             ? IMZALA_CARD_CAUSE_CARD_MUTE
             : IMZALA_CARD_CAUSE_NOT_RECOGNIZED;
    }

  if (!no_token)
    return IMZALA_CARD_CAUSE_NONE;
  if (readers != NULL && n_readers == 0)
    return IMZALA_CARD_CAUSE_NO_READER;
  return IMZALA_CARD_CAUSE_NO_CARD;
}

GError *
imzala_card_cause_to_error (ImzalaCardCause  cause,
                            ImzalaReader    *reader)
{
  const char *name = reader != NULL ? imzala_reader_get_name (reader) : NULL;

  switch (cause)
    {
    case IMZALA_CARD_CAUSE_NONE:
      return NULL;

    case IMZALA_CARD_CAUSE_NO_READER:
      return g_error_new_literal (IMZALA_ERROR, IMZALA_ERROR_NO_TOKEN,
                                  _("No card reader was found. Plug in your card reader and insert your card."));

    case IMZALA_CARD_CAUSE_NOT_RECOGNIZED:
      if (name != NULL)
        return g_error_new (IMZALA_ERROR, IMZALA_ERROR_TOKEN_NOT_RECOGNIZED,
                            /* Translators: %s is the card reader's name. */
                            _("The card was not recognised (in “%s”). Install the software for your card: "
                              "for an AKİS card its vendor’s package, which puts the module at "
                              "/usr/lib/libakisp11.so or /opt/Akia/libakisp11.so; for other cards OpenSC."),
                            name);
      return g_error_new_literal (IMZALA_ERROR, IMZALA_ERROR_TOKEN_NOT_RECOGNIZED,
                                  _("The card was not recognised. Install the software for your card: for an AKİS card "
                                    "its vendor’s package, which puts the module at /usr/lib/libakisp11.so or "
                                    "/opt/Akia/libakisp11.so; for other cards OpenSC."));

    case IMZALA_CARD_CAUSE_CARD_MUTE:
      return g_error_new (IMZALA_ERROR, IMZALA_ERROR_TOKEN_NOT_RECOGNIZED,
                          /* Translators: %s is the card reader's name. */
                          _("The card in “%s” does not answer. Take it out and insert it again, the right way round."),
                          name != NULL ? name : "?");

    case IMZALA_CARD_CAUSE_PCSC_UNAVAILABLE:
      return g_error_new_literal (IMZALA_ERROR, IMZALA_ERROR_PCSC_UNAVAILABLE,
                                  _("The smart card service (pcscd) is not running. "
                                    "Start it with: sudo systemctl start pcscd.socket"));

    case IMZALA_CARD_CAUSE_NO_CARD:
    default:
      return g_error_new_literal (IMZALA_ERROR, IMZALA_ERROR_NO_TOKEN,
                                  _("No card was found. Insert your card into the reader."));
    }
}
