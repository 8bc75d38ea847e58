#define G_LOG_DOMAIN "imzala-portal"

#include "config.h"

#include <string.h>
#include <glib/gi18n-lib.h>

#include "imzala-portal.h"
#include "imzala-request.h"
#include "imzala-error.h"

/* ---- ImzalaPurpose ---- */

/* The protocol's symbols are the enum's nicks (made by glib-mkenums from the
 * value names: IMZALA_PURPOSE_LOGIN is "login"). A static enum type's class
 * and values live as long as the program, so the strings may be returned. */
const char *
imzala_purpose_to_string (ImzalaPurpose purpose)
{
  GEnumClass *klass = g_type_class_ref (IMZALA_TYPE_PURPOSE);
  GEnumValue *value = g_enum_get_value (klass, purpose);

  g_type_class_unref (klass);
  return value != NULL ? value->value_nick : NULL;
}

gboolean
imzala_purpose_from_string (const char    *text,
                            ImzalaPurpose *purpose)
{
  GEnumClass *klass;
  GEnumValue *value;

  if (text == NULL)
    return FALSE;

  klass = g_type_class_ref (IMZALA_TYPE_PURPOSE);
  value = g_enum_get_value_by_nick (klass, text);
  g_type_class_unref (klass);
  if (value == NULL)
    return FALSE;
  if (purpose != NULL)
    *purpose = value->value;
  return TRUE;
}

const char *
imzala_purpose_get_label (ImzalaPurpose purpose)
{
  switch (purpose)
    {
    case IMZALA_PURPOSE_LOGIN:
      return _("Signed login");
    case IMZALA_PURPOSE_CONSENT:
      return _("Electronic consent");
    case IMZALA_PURPOSE_APPLICATION:
      return _("Certificate application");
    case IMZALA_PURPOSE_UNBLOCK:
      return _("Card unlock");
    default:
      return _("Unknown request");
    }
}

/* ---- ImzalaRequestText ---- */

struct _ImzalaRequestText
{
  GObject parent_instance;

  char   *title;
  GBytes *content;
  char   *media_type;
  char   *text;
};

G_DEFINE_FINAL_TYPE (ImzalaRequestText, imzala_request_text, G_TYPE_OBJECT)

static void
imzala_request_text_finalize (GObject *object)
{
  ImzalaRequestText *self = IMZALA_REQUEST_TEXT (object);

  g_free (self->title);
  g_clear_pointer (&self->content, g_bytes_unref);
  g_free (self->media_type);
  g_free (self->text);

  G_OBJECT_CLASS (imzala_request_text_parent_class)->finalize (object);
}

static void
imzala_request_text_class_init (ImzalaRequestTextClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = imzala_request_text_finalize;
}

static void
imzala_request_text_init (ImzalaRequestText *self)
{
}

ImzalaRequestText *
imzala_request_text_new (const char *title,
                         GBytes     *content,
                         const char *media_type)
{
  ImzalaRequestText *self;
  const char *data;
  gsize length;

  g_return_val_if_fail (content != NULL, NULL);

  self = g_object_new (IMZALA_TYPE_REQUEST_TEXT, NULL);
  self->title = g_strdup (title != NULL ? title : "");
  self->content = g_bytes_ref (content);
  self->media_type = g_strdup (media_type != NULL ? media_type : "text/plain; charset=utf-8");

  /* A text with an embedded NUL or invalid UTF-8 cannot be shown as exactly
   * what is signed, so it has no display form at all. */
  data = g_bytes_get_data (content, &length);
  if (length == 0 || (memchr (data, '\0', length) == NULL && g_utf8_validate (data, length, NULL)))
    self->text = g_strndup (data != NULL ? data : "", length);

  return self;
}

const char *
imzala_request_text_get_title (ImzalaRequestText *self)
{
  g_return_val_if_fail (IMZALA_IS_REQUEST_TEXT (self), NULL);
  return self->title;
}

GBytes *
imzala_request_text_get_content (ImzalaRequestText *self)
{
  g_return_val_if_fail (IMZALA_IS_REQUEST_TEXT (self), NULL);
  return self->content;
}

const char *
imzala_request_text_get_media_type (ImzalaRequestText *self)
{
  g_return_val_if_fail (IMZALA_IS_REQUEST_TEXT (self), NULL);
  return self->media_type;
}

const char *
imzala_request_text_get_text (ImzalaRequestText *self)
{
  g_return_val_if_fail (IMZALA_IS_REQUEST_TEXT (self), NULL);
  return self->text;
}

/* ---- ImzalaRequest ---- */

struct _ImzalaRequest
{
  GObject parent_instance;

  char          *code;
  ImzalaPurpose  purpose;
  char          *portal_host;
  char          *portal_name;
  char          *title;
  GDateTime     *created_at;
  GDateTime     *expires_at;
  GBytes        *nonce;
  GPtrArray     *texts;
  char          *requester_name;
  char          *requester_hint;

  /* The portal's clock at received_monotonic (microseconds). */
  GDateTime     *server_now;
  gint64         received_monotonic;

  /* Protocol v1.1. */
  ImzalaCadesLevel signature_level;
  char            *tsa_url;
};

G_DEFINE_FINAL_TYPE (ImzalaRequest, imzala_request, G_TYPE_OBJECT)

static void
imzala_request_finalize (GObject *object)
{
  ImzalaRequest *self = IMZALA_REQUEST (object);

  g_free (self->code);
  g_free (self->portal_host);
  g_free (self->portal_name);
  g_free (self->title);
  g_clear_pointer (&self->created_at, g_date_time_unref);
  g_clear_pointer (&self->expires_at, g_date_time_unref);
  g_clear_pointer (&self->nonce, g_bytes_unref);
  g_clear_pointer (&self->texts, g_ptr_array_unref);
  g_free (self->requester_name);
  g_free (self->requester_hint);
  g_clear_pointer (&self->server_now, g_date_time_unref);
  g_free (self->tsa_url);

  G_OBJECT_CLASS (imzala_request_parent_class)->finalize (object);
}

static void
imzala_request_class_init (ImzalaRequestClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = imzala_request_finalize;
}

static void
imzala_request_init (ImzalaRequest *self)
{
}

ImzalaRequest *
imzala_request_new (const char    *code,
                    ImzalaPurpose  purpose,
                    const char    *portal_host,
                    const char    *portal_name,
                    const char    *title,
                    GDateTime     *created_at,
                    GDateTime     *expires_at,
                    GBytes        *nonce,
                    GPtrArray     *texts,
                    const char    *requester_name,
                    const char    *requester_hint,
                    GDateTime     *server_now)
{
  ImzalaRequest *self;

  g_return_val_if_fail (code != NULL, NULL);
  g_return_val_if_fail (created_at != NULL, NULL);
  g_return_val_if_fail (expires_at != NULL, NULL);
  g_return_val_if_fail (nonce != NULL, NULL);

  self = g_object_new (IMZALA_TYPE_REQUEST, NULL);
  self->code = g_strdup (code);
  self->purpose = purpose;
  self->portal_host = g_strdup (portal_host != NULL ? portal_host : "");
  self->portal_name = g_strdup (portal_name);
  self->title = g_strdup (title != NULL ? title : "");
  self->created_at = g_date_time_ref (created_at);
  self->expires_at = g_date_time_ref (expires_at);
  self->nonce = g_bytes_ref (nonce);
  self->texts = texts != NULL ? g_ptr_array_ref (texts) : g_ptr_array_new_with_free_func (g_object_unref);
  self->requester_name = g_strdup (requester_name);
  self->requester_hint = g_strdup (requester_hint);
  self->server_now = server_now != NULL ? g_date_time_ref (server_now) : g_date_time_new_now_utc ();
  self->received_monotonic = g_get_monotonic_time ();

  return self;
}

const char *
imzala_request_get_code (ImzalaRequest *self)
{
  g_return_val_if_fail (IMZALA_IS_REQUEST (self), NULL);
  return self->code;
}

char *
imzala_request_dup_display_code (ImzalaRequest *self)
{
  g_return_val_if_fail (IMZALA_IS_REQUEST (self), NULL);
  return imzala_portal_format_code (self->code);
}

ImzalaPurpose
imzala_request_get_purpose (ImzalaRequest *self)
{
  g_return_val_if_fail (IMZALA_IS_REQUEST (self), IMZALA_PURPOSE_LOGIN);
  return self->purpose;
}

const char *
imzala_request_get_portal_host (ImzalaRequest *self)
{
  g_return_val_if_fail (IMZALA_IS_REQUEST (self), NULL);
  return self->portal_host;
}

const char *
imzala_request_get_portal_name (ImzalaRequest *self)
{
  g_return_val_if_fail (IMZALA_IS_REQUEST (self), NULL);
  return self->portal_name;
}

const char *
imzala_request_get_title (ImzalaRequest *self)
{
  g_return_val_if_fail (IMZALA_IS_REQUEST (self), NULL);
  return self->title;
}

GDateTime *
imzala_request_get_created_at (ImzalaRequest *self)
{
  g_return_val_if_fail (IMZALA_IS_REQUEST (self), NULL);
  return self->created_at;
}

GDateTime *
imzala_request_get_expires_at (ImzalaRequest *self)
{
  g_return_val_if_fail (IMZALA_IS_REQUEST (self), NULL);
  return self->expires_at;
}

GBytes *
imzala_request_get_nonce (ImzalaRequest *self)
{
  g_return_val_if_fail (IMZALA_IS_REQUEST (self), NULL);
  return self->nonce;
}

GPtrArray *
imzala_request_get_texts (ImzalaRequest *self)
{
  g_return_val_if_fail (IMZALA_IS_REQUEST (self), NULL);
  return self->texts;
}

guint
imzala_request_get_n_texts (ImzalaRequest *self)
{
  g_return_val_if_fail (IMZALA_IS_REQUEST (self), 0);
  return self->texts->len;
}

ImzalaRequestText *
imzala_request_get_text (ImzalaRequest *self,
                         guint          index)
{
  g_return_val_if_fail (IMZALA_IS_REQUEST (self), NULL);
  g_return_val_if_fail (index < self->texts->len, NULL);
  return g_ptr_array_index (self->texts, index);
}

const char *
imzala_request_get_requester_name (ImzalaRequest *self)
{
  g_return_val_if_fail (IMZALA_IS_REQUEST (self), NULL);
  return self->requester_name;
}

const char *
imzala_request_get_requester_hint (ImzalaRequest *self)
{
  g_return_val_if_fail (IMZALA_IS_REQUEST (self), NULL);
  return self->requester_hint;
}

char *
imzala_request_dup_requester (ImzalaRequest *self)
{
  g_return_val_if_fail (IMZALA_IS_REQUEST (self), NULL);

  if (self->requester_name != NULL && self->requester_hint != NULL)
    return g_strdup_printf ("%s (%s)", self->requester_name, self->requester_hint);
  return g_strdup (self->requester_name != NULL ? self->requester_name : self->requester_hint);
}

gint64
imzala_request_get_remaining_seconds (ImzalaRequest *self)
{
  gint64 elapsed_us, remaining_us;

  g_return_val_if_fail (IMZALA_IS_REQUEST (self), 0);

  /* The portal's clock now = its clock when the answer came + the local
   * monotonic time since, which a clock change on this machine cannot
   * disturb. */
  elapsed_us = g_get_monotonic_time () - self->received_monotonic;
  remaining_us = g_date_time_difference (self->expires_at, self->server_now) - elapsed_us;
  if (remaining_us <= 0)
    return 0;
  /* Round up, so that "0" means expired and not "less than a second". */
  return (remaining_us + G_USEC_PER_SEC - 1) / G_USEC_PER_SEC;
}

gboolean
imzala_request_is_expired (ImzalaRequest *self)
{
  return imzala_request_get_remaining_seconds (self) == 0;
}

gboolean
imzala_request_set_signature_level (ImzalaRequest *self,
                                    const char    *level,
                                    const char    *tsa_url,
                                    GError       **error)
{
  ImzalaCadesLevel parsed = IMZALA_CADES_LEVEL_BES;
  g_autoptr(GUri) uri = NULL;

  g_return_val_if_fail (IMZALA_IS_REQUEST (self), FALSE);

  if (level != NULL && !imzala_cades_level_from_string (level, &parsed))
    {
      g_debug ("Unknown signature_level “%s”", level);
      g_set_error_literal (error, IMZALA_ERROR, IMZALA_ERROR_PROTOCOL,
                           _("The portal asked for a kind of signature İmzala does not make."));
      return FALSE;
    }
  if (parsed != IMZALA_CADES_LEVEL_BES)
    {
      /* Checked here, where the request is read, so that a bad address is
       * refused before the PIN, not after the card signed. */
      if (tsa_url != NULL)
        uri = g_uri_parse (tsa_url, G_URI_FLAGS_NONE, NULL);
      if (uri == NULL || g_strcmp0 (g_uri_get_scheme (uri), "https") != 0
          || g_uri_get_host (uri) == NULL || *g_uri_get_host (uri) == '\0')
        {
          g_debug ("signature_level %s with tsa_url “%s”", level, tsa_url ? tsa_url : "(none)");
          g_set_error_literal (error, IMZALA_ERROR, IMZALA_ERROR_PROTOCOL,
                               _("The portal asked for a time-stamped signature without a valid "
                                 "https:// address of a time-stamp server."));
          return FALSE;
        }
      g_free (self->tsa_url);
      self->tsa_url = g_strdup (tsa_url);
    }
  self->signature_level = parsed;
  return TRUE;
}

ImzalaCadesLevel
imzala_request_get_signature_level (ImzalaRequest *self)
{
  g_return_val_if_fail (IMZALA_IS_REQUEST (self), IMZALA_CADES_LEVEL_BES);
  return self->signature_level;
}

const char *
imzala_request_get_tsa_url (ImzalaRequest *self)
{
  g_return_val_if_fail (IMZALA_IS_REQUEST (self), NULL);
  return self->tsa_url;
}
