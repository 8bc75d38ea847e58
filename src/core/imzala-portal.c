#define G_LOG_DOMAIN "imzala-portal"

#include "config.h"

#include <string.h>
#include <glib/gi18n-lib.h>

#include "imzala-error.h"
#include "imzala-portal.h"

G_DEFINE_INTERFACE (ImzalaPortal, imzala_portal, G_TYPE_OBJECT)

static void
imzala_portal_default_init (ImzalaPortalInterface *iface)
{
}

char *
imzala_portal_normalize_code (const char *text,
                              GError    **error)
{
  g_autoptr(GString) code = NULL;
  const char *p;

  if (text == NULL)
    goto bad;

  /* Whatever stands before the last colon is a label the user copied along
   * with the code ("Doğrulama Kodu: ABCD-EFGH-JKMN"). */
  p = strrchr (text, ':');
  if (p != NULL)
    text = p + 1;

  code = g_string_new (NULL);
  for (p = text; *p != '\0'; p++)
    {
      char c = *p;

      if (g_ascii_isspace (c) || c == '-')
        continue;
      c = g_ascii_toupper (c);
      /* Crockford base32 reads the look-alike letters as digits. */
      if (c == 'O')
        c = '0';
      else if (c == 'I' || c == 'L')
        c = '1';
      /* Non-ASCII bytes (and NUL) never match the alphabet. */
      if (c == '\0' || strchr (IMZALA_PORTAL_CODE_ALPHABET, c) == NULL || (guchar) c >= 0x80)
        goto bad;
      if (code->len >= IMZALA_PORTAL_CODE_LENGTH)
        goto bad;
      g_string_append_c (code, c);
    }

  if (code->len != IMZALA_PORTAL_CODE_LENGTH)
    goto bad;

  return g_string_free (g_steal_pointer (&code), FALSE);

bad:
  g_set_error (error, IMZALA_ERROR, IMZALA_ERROR_CODE_FORMAT,
               _("This is not a valid verification code. A code has 12 letters and digits, "
                 "for example ABCD-EFGH-JKMN."));
  return NULL;
}

char *
imzala_portal_format_code (const char *code)
{
  GString *out;

  g_return_val_if_fail (code != NULL, NULL);

  out = g_string_new (NULL);
  for (gsize i = 0; code[i] != '\0'; i++)
    {
      if (i > 0 && i % 4 == 0)
        g_string_append_c (out, '-');
      g_string_append_c (out, code[i]);
    }
  return g_string_free (out, FALSE);
}

void
imzala_portal_fetch_request_async (ImzalaPortal        *self,
                                   const char          *code,
                                   GCancellable        *cancellable,
                                   GAsyncReadyCallback  callback,
                                   gpointer             user_data)
{
  g_return_if_fail (IMZALA_IS_PORTAL (self));
  IMZALA_PORTAL_GET_IFACE (self)->fetch_request_async (self, code, cancellable, callback, user_data);
}

ImzalaRequest *
imzala_portal_fetch_request_finish (ImzalaPortal *self,
                                    GAsyncResult *result,
                                    GError      **error)
{
  g_return_val_if_fail (IMZALA_IS_PORTAL (self), NULL);
  return IMZALA_PORTAL_GET_IFACE (self)->fetch_request_finish (self, result, error);
}

void
imzala_portal_submit_signatures_async (ImzalaPortal        *self,
                                       ImzalaRequest       *request,
                                       GPtrArray           *signatures,
                                       GCancellable        *cancellable,
                                       GAsyncReadyCallback  callback,
                                       gpointer             user_data)
{
  g_return_if_fail (IMZALA_IS_PORTAL (self));
  g_return_if_fail (IMZALA_IS_REQUEST (request));
  g_return_if_fail (signatures != NULL);
  IMZALA_PORTAL_GET_IFACE (self)->submit_signatures_async (self, request, signatures, cancellable,
                                                           callback, user_data);
}

char *
imzala_portal_submit_signatures_finish (ImzalaPortal *self,
                                        GAsyncResult *result,
                                        GError      **error)
{
  g_return_val_if_fail (IMZALA_IS_PORTAL (self), NULL);
  return IMZALA_PORTAL_GET_IFACE (self)->submit_signatures_finish (self, result, error);
}

void
imzala_portal_unblock_async (ImzalaPortal        *self,
                             ImzalaRequest       *request,
                             const char          *token_serial,
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  g_return_if_fail (IMZALA_IS_PORTAL (self));
  g_return_if_fail (IMZALA_IS_REQUEST (request));
  g_return_if_fail (token_serial != NULL);
  IMZALA_PORTAL_GET_IFACE (self)->unblock_async (self, request, token_serial, cancellable,
                                                 callback, user_data);
}

ImzalaSecret *
imzala_portal_unblock_finish (ImzalaPortal *self,
                              GAsyncResult *result,
                              GError      **error)
{
  g_return_val_if_fail (IMZALA_IS_PORTAL (self), NULL);
  return IMZALA_PORTAL_GET_IFACE (self)->unblock_finish (self, result, error);
}

void
imzala_portal_report_unblock_async (ImzalaPortal        *self,
                                    ImzalaRequest       *request,
                                    gboolean             success,
                                    GCancellable        *cancellable,
                                    GAsyncReadyCallback  callback,
                                    gpointer             user_data)
{
  g_return_if_fail (IMZALA_IS_PORTAL (self));
  g_return_if_fail (IMZALA_IS_REQUEST (request));
  IMZALA_PORTAL_GET_IFACE (self)->report_unblock_async (self, request, success, cancellable,
                                                        callback, user_data);
}

char *
imzala_portal_report_unblock_finish (ImzalaPortal *self,
                                     GAsyncResult *result,
                                     GError      **error)
{
  g_return_val_if_fail (IMZALA_IS_PORTAL (self), NULL);
  return IMZALA_PORTAL_GET_IFACE (self)->report_unblock_finish (self, result, error);
}

const char *
imzala_portal_get_host (ImzalaPortal *self)
{
  ImzalaPortalInterface *iface;

  g_return_val_if_fail (IMZALA_IS_PORTAL (self), NULL);
  iface = IMZALA_PORTAL_GET_IFACE (self);
  return iface->get_host != NULL ? iface->get_host (self) : NULL;
}

/* Strict base64 (standard alphabet, padded): g_base64_decode() skips
 * anything it does not know, which would let a garbled value through. */
GBytes *
imzala_portal_decode_base64 (const char *text)
{
  gsize length, out_length;
  guchar *data;

  if (text == NULL)
    return NULL;
  length = strlen (text);
  if (length % 4 != 0)
    return NULL;
  for (gsize i = 0; i < length; i++)
    {
      char c = text[i];
      if (g_ascii_isalnum (c) || c == '+' || c == '/')
        continue;
      if (c == '=' && (i >= length - 2) && (i == length - 1 || text[length - 1] == '='))
        continue;
      return NULL;
    }
  if (length == 0)
    return g_bytes_new (NULL, 0);
  data = g_base64_decode (text, &out_length);
  return g_bytes_new_take (data, out_length);
}
